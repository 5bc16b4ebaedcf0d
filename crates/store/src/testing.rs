//! Fresh databases for tests: a new SQLite file always, and a new PostgreSQL
//! database when `CARECENTER_TEST_POSTGRES_URL` names a server to create it on.

use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("cc_test_{}_{}_{}", std::process::id(), n, nanos)
}

/// A directory under the system temp dir that did not exist before.
pub fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// `(backend name, database URL)` for every backend this test run covers.
pub async fn fresh_database_urls() -> Vec<(&'static str, String)> {
    let mut urls = vec![(
        "sqlite",
        format!("sqlite:{}", temp_dir().join("test.db").display()),
    )];
    if let Some(pg) = postgres_database().await {
        urls.push(("postgres", pg));
    }
    urls
}

/// Creates an empty PostgreSQL database, or None when no server is configured.
pub async fn postgres_database() -> Option<String> {
    let admin = std::env::var("CARECENTER_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    Some(create_postgres_database(&admin).await)
}

/// Creates an empty database on the server `admin` points at; returns its URL.
pub async fn create_postgres_database(admin: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = unique_name();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is unreachable: {e}"));
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}
