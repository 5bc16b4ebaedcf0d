//! A fresh database for a benchmark: a new SQLite file, or a new database on
//! the PostgreSQL server `CARECENTER_BENCH_POSTGRES_URL` names.

pub async fn fresh_store(backend: &str, file: &str) -> store::Store {
    let url = match backend {
        "sqlite" => format!("sqlite:{}", store::testing::temp_dir().join(file).display()),
        _ => {
            let server = std::env::var("CARECENTER_BENCH_POSTGRES_URL")
                .expect("CARECENTER_BENCH_POSTGRES_URL names a PostgreSQL server");
            store::testing::create_postgres_database(&server).await
        }
    };
    store::Store::connect(&url).await.expect("connect")
}
