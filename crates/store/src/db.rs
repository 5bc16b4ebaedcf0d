use crate::lite::LiteWriter;
use crate::{Result, StoreError};
use jiff::Timestamp;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

pub(crate) type AnyTx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; taking this lock before a write
    /// transaction turns "database is locked" errors into a short wait.
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite on a file: the connection hot write paths run on (see `lite`).
    pub(crate) lite: Option<Arc<LiteWriter>>,
}

/// The file of a SQLite URL; None for an in-memory database, which a second
/// connection could not see.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path.is_empty() || path == ":memory:" || params.contains("mode=memory");
    (!memory).then_some(path)
}

/// Copies SQLite's write-ahead log into the database from a connection of
/// its own. Left to the writer (the default), every few megabytes a commit
/// would also copy and flush the log, with the write lock held.
async fn checkpoints(pool: sqlx::AnyPool, write_lock: Option<Arc<Mutex<()>>>) {
    /// Past this many pages in the log, wait for readers rather than let it grow.
    const RESTART_PAGES: i64 = 64 * 1024;
    while !pool.is_closed() {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await;
        let log_pages = match row {
            Ok(r) => r.try_get::<i64, _>(1).unwrap_or(0),
            Err(e) => {
                tracing::debug!(error = %e, "wal checkpoint");
                continue;
            }
        };
        if log_pages > RESTART_PAGES {
            // A restart keeps SQLite's write lock while it copies a long log
            // (seconds on a slow disk): writers wait for it here, in turn,
            // rather than run out their busy timeout ("database is locked").
            let _w = match &write_lock {
                Some(l) => Some(l.lock().await),
                None => None,
            };
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "wal checkpoint (restart)");
            }
        }
    }
}

impl Store {
    /// Opens (and for SQLite creates) the database and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnknownScheme(redact(url)));
        };
        let unreachable = |e: sqlx::Error| StoreError::Unreachable {
            url: redact(url),
            reason: e.to_string(),
        };
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // FULL: a write acknowledged to a customer survives power loss, not only a crash.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA wal_autocheckpoint = 0;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
                    .map_err(unreachable)?
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // Tenants differ in size by orders of magnitude and a bulk load grows a
                        // table inside one transaction: a cached generic plan chosen for a small
                        // table then scans a large one. Plan each execution for its values.
                        conn.execute("SET plan_cache_mode = force_custom_plan")
                            .await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .map_err(unreachable)?,
        };
        let mut store = Store {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            lite: None,
        };
        crate::migrate::run(&store).await?;
        if let (Backend::Sqlite, Some(file)) = (backend, sqlite_file(url)) {
            let writer = LiteWriter::open(file).map_err(|e| StoreError::Unreachable {
                url: redact(url),
                reason: e.to_string(),
            })?;
            store.lite = Some(Arc::new(writer));
        }
        if backend == Backend::Sqlite {
            // Cheap when nothing changed; keeps statistics fresh across restarts.
            sqlx::query("PRAGMA optimize").execute(&store.pool).await?;
            tokio::spawn(checkpoints(store.pool.clone(), store.write_lock.clone()));
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Refreshes the query planner's statistics; after bulk loads the planner
    /// otherwise guesses, and a wrong guess turns a 1 ms list into a table scan.
    pub async fn analyze(&self) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// Readies a bulk-write transaction. Foreign-key checks run as cached
    /// plans inside the server; forcing a fresh plan for each one (see the
    /// connection set-up) would double the cost of every row written.
    pub(crate) async fn bulk_planning(&self, tx: &mut sqlx::AnyConnection) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SET LOCAL plan_cache_mode = auto")
                .execute(tx)
                .await?;
        }
        Ok(())
    }

    /// For `/healthz`: a round trip to the database.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The bytes of a row's `data` column, or those it put aside in the
    /// segment files (see `segments`), as base64 text where the row has a
    /// `base64_len`: the row's `size` long.
    pub(crate) async fn stored_bytes(
        &self,
        r: &impl RowExt,
        data: &str,
        segment: &str,
        offset: &str,
        base64_len: Option<&str>,
    ) -> Result<Vec<u8>> {
        let (Some(segment), Some(offset)) = (r.opt_int(segment)?, r.opt_int(offset)?) else {
            return r.bytes(data);
        };
        let base64_len = match base64_len {
            Some(col) => r.opt_int(col)?,
            None => None,
        };
        let Some(lite) = &self.lite else {
            return Err(StoreError::Internal(
                "bytes put aside, but no segment files".into(),
            ));
        };
        let (dir, len) = (lite.blobs().to_path_buf(), r.int("size")?);
        let at = crate::segments::Aside {
            segment,
            offset,
            base64_len,
        };
        tokio::task::spawn_blocking(move || crate::segments::read(&dir, at, len))
            .await
            .map_err(|e| StoreError::Internal(format!("reading bytes: {e}")))?
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) async fn writer(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// A write transaction, with the store's write lock held for as long as
    /// the guard lives (drop it after the transaction).
    pub(crate) async fn write_tx(&self) -> Result<(Option<MutexGuard<'_, ()>>, AnyTx)> {
        let w = self.writer().await;
        Ok((w, self.begin_write().await?))
    }

    /// Begins a transaction that will write; the caller holds the write lock.
    ///
    /// On SQLite it begins IMMEDIATE, taking SQLite's own write lock before
    /// the first read. A deferred transaction that reads first cannot wait
    /// for that lock when it comes to write: SQLite answers "database is
    /// locked" at once. And the lock can be held without our mutex: a
    /// transaction dropped on an error is rolled back by its connection's
    /// worker later, after the mutex is free.
    pub(crate) async fn begin_write(&self) -> Result<AnyTx> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

/// Hides the password of a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..s], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Column readers that turn a decoding surprise into an error, never a panic.
pub(crate) trait RowExt {
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn opt_float(&self, col: &str) -> Result<Option<f64>>;
    fn bytes(&self, col: &str) -> Result<Vec<u8>>;
    fn time(&self, col: &str) -> Result<Timestamp> {
        self.int(col).map(ts)
    }
    fn opt_time(&self, col: &str) -> Result<Option<Timestamp>> {
        Ok(self.opt_int(col)?.map(ts))
    }
}

impl RowExt for AnyRow {
    fn int(&self, col: &str) -> Result<i64> {
        Ok(self.try_get::<i64, _>(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
    fn text(&self, col: &str) -> Result<String> {
        Ok(self.try_get::<String, _>(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }
    fn opt_float(&self, col: &str) -> Result<Option<f64>> {
        Ok(self.try_get::<Option<f64>, _>(col)?)
    }
    fn bytes(&self, col: &str) -> Result<Vec<u8>> {
        Ok(self.try_get::<Vec<u8>, _>(col)?)
    }
}

/// A stored vocabulary value that no longer parses is corruption, not user error.
pub(crate) fn vocab<T>(parsed: std::result::Result<T, domain::FieldError>) -> Result<T> {
    parsed.map_err(|e| StoreError::Db(sqlx::Error::Decode(e.to_string().into())))
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreError};
    use domain::model::Actor;

    /// A refused write (a duplicate name) leaves its transaction to be rolled
    /// back by its connection's worker, after the store's lock is free. The
    /// writers behind it read before they write: they must wait for SQLite's
    /// lock, not fail with "database is locked".
    #[tokio::test]
    async fn writes_behind_a_refused_write_wait_their_turn() {
        for (backend, url) in crate::testing::fresh_database_urls().await {
            let store = Store::connect(&url).await.expect("connect");
            let now = jiff::Timestamp::now();
            let t = store
                .create_tenant("w", "W", "Asia/Shanghai", "CN", now)
                .await
                .expect("tenant");
            let actor = Actor {
                tenant_id: t.id,
                user_id: None,
                channel: None,
            };
            let spec = |name: &str| -> domain::policy::PolicySpec {
                serde_json::from_value(
                    serde_json::json!({"name": name, "resolution": {"minutes": 60}}),
                )
                .expect("policy")
            };
            store
                .create_policy(actor, &spec("taken"), now)
                .await
                .expect("first policy");
            let mut writes = tokio::task::JoinSet::new();
            for i in 0..120 {
                let store = store.clone();
                let name = if i % 2 == 0 {
                    "taken".to_string()
                } else {
                    format!("p{i}")
                };
                let spec = spec(&name);
                writes.spawn(async move { (i, store.create_policy(actor, &spec, now).await) });
            }
            while let Some(done) = writes.join_next().await {
                let (i, out) = done.expect("task");
                match (i % 2, out) {
                    (0, Err(StoreError::Conflict(_))) | (1, Ok(_)) => {}
                    (_, other) => panic!("[{backend}] write {i}: {other:?}"),
                }
            }
            assert_eq!(store.policies(t.id).await.expect("list").len(), 61);
            store.close().await;
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://cc:secret@db/cc"),
            "postgres://cc:***@db/cc"
        );
        assert_eq!(super::redact("postgres://cc@db/cc"), "postgres://cc@db/cc");
        assert_eq!(super::redact("sqlite:data/x.db"), "sqlite:data/x.db");
    }

    #[test]
    fn finds_the_file_of_a_sqlite_url() {
        for (url, file) in [
            ("sqlite:data/x.db", Some("data/x.db")),
            ("sqlite:///tmp/x.db?mode=rwc", Some("/tmp/x.db")),
            ("sqlite::memory:", None),
            ("sqlite:x.db?mode=memory", None),
            ("postgres://db/cc", None),
        ] {
            assert_eq!(super::sqlite_file(url), file, "{url}");
        }
    }
}
