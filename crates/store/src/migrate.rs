//! Append-only migrations per backend, run at start-up. A migration file is
//! never edited once released; a change is a new file.

use crate::db::{Backend, Store};
use crate::{Result, StoreError};
use sqlx::{Connection, Executor};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation"),
    migration!(2, "0002_tenant_scoped_child_indexes"),
    migration!(3, "0003_mail"),
    migration!(4, "0004_outbox"),
    migration!(5, "0005_mailboxes"),
    migration!(6, "0006_bytes_aside"),
    migration!(7, "0007_files_in_their_source"),
    migration!(8, "0008_sla"),
    migration!(9, "0009_routing"),
    migration!(10, "0010_dedicated_agents"),
    migration!(11, "0011_calls"),
    migration!(12, "0012_board"),
    migration!(13, "0013_desk"),
    migration!(14, "0014_admin"),
    migration!(15, "0015_knowledge"),
    migration!(16, "0016_search_feed"),
    migration!(17, "0017_portal"),
    migration!(18, "0018_announcements"),
    migration!(19, "0019_scripts"),
    migration!(20, "0020_call_recordings"),
];

/// Several servers may start at once against one PostgreSQL: an advisory lock
/// lets one migrate while the others wait.
const PG_MIGRATION_LOCK: i64 = 0x6361_7265;

pub(crate) async fn run(store: &Store) -> Result<()> {
    let _w = store.writer().await;
    let mut conn = store.pool.acquire().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let outcome = apply_pending(store.backend(), &mut conn).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    outcome
}

async fn apply_pending(backend: Backend, conn: &mut sqlx::AnyConnection) -> Result<()> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let fail = |e: sqlx::Error| StoreError::Migration {
            version: m.version,
            reason: e.to_string(),
        };
        let mut tx = conn.begin().await?;
        tx.execute(sqlx::raw_sql(sql)).await.map_err(fail)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(jiff::Timestamp::now().as_millisecond())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// A file in the folder that is not listed here would never run.
    #[test]
    fn every_migration_file_is_listed_in_order() {
        for backend in ["sqlite", "postgres"] {
            let dir = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let listed: Vec<String> = MIGRATIONS.iter().map(|m| m.name.to_string()).collect();
            assert_eq!(files, listed, "{backend}");
            for (i, m) in MIGRATIONS.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{}", m.name);
                assert!(
                    m.name.starts_with(&format!("{:04}_", m.version)),
                    "{}",
                    m.name
                );
            }
        }
    }
}
