//! The SQLite writer's own connection, on a thread of its own.
//!
//! Through sqlx every statement is a round trip to its worker thread: about
//! 70 µs on two cores, against 2 µs run in place. Filing one message takes
//! some thirty statements, so hot write paths send the whole batch here as
//! one job and run their statements in place. The job holds the store's
//! write lock for its duration, as any other SQLite write does.

use crate::db::RowExt;
use crate::exec::{Exec, Query, Val};
use crate::segments::{Aside, Flusher, Flushing, SegmentWriter};
use crate::{Result, StoreError};
use rusqlite::types::{Value, ValueRef};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&mut rusqlite::Connection, &mut SegmentWriter, &Flusher) + Send>;

pub(crate) struct LiteWriter {
    jobs: mpsc::Sender<Job>,
    /// Where the writer puts large bytes aside (see `segments`).
    blobs: PathBuf,
}

impl LiteWriter {
    /// Opens a second connection to the database file sqlx has opened and
    /// migrated, with the same durability and checkpoint settings. Its page
    /// cache holds a whole batch (up to 32 MB of mail), so pages are not
    /// spilled to the log before the commit and written again; the per-message
    /// savepoints keep their undo pages in memory instead of a temporary file.
    pub fn open(path: &str) -> Result<LiteWriter> {
        let blobs = crate::segments::folder_of(path);
        let mut segments = SegmentWriter::open(&blobs)?;
        let flusher = Flusher::start()?;
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
        )?;
        conn.set_prepared_statement_cache_capacity(128);
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Ok(job) = rx.recv() {
                    job(&mut conn, &mut segments, &flusher);
                }
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the SQLite writer: {e}")))?;
        Ok(LiteWriter { jobs, blobs })
    }

    /// The folder of the bytes the writer put aside.
    pub fn blobs(&self) -> &Path {
        &self.blobs
    }

    /// Runs `f` in one transaction on the writer's connection: committed
    /// when it returns `Ok`, rolled back otherwise. Bytes it put aside are
    /// flushed to disk before the commit that refers to them.
    pub async fn transaction<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Lite<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn, segments, flusher| {
            let mut lite = Lite {
                conn,
                segments,
                flusher,
                files: HashMap::new(),
                flushing: None,
            };
            let _ = tx.send(in_transaction(&mut lite, f));
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Internal("the SQLite writer stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Internal("the SQLite writer stopped".into()))?
    }
}

fn in_transaction<T>(lite: &mut Lite<'_>, f: impl FnOnce(&mut Lite<'_>) -> Result<T>) -> Result<T> {
    lite.conn.execute_batch("BEGIN IMMEDIATE")?;
    let out = f(lite).and_then(|v| {
        if let Some(flushing) = lite.flushing.take() {
            flushing.wait()?;
        }
        // What was put aside since the flush began (or without one).
        lite.segments.flush()?;
        Ok(v)
    });
    match out {
        Ok(v) => match lite.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = lite.conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = lite.conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Drives a future made of [`Lite`] statements, which never wait: they are
/// done at the first poll.
pub(crate) fn now<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => Err(StoreError::Internal(
            "a statement on the SQLite writer waited".into(),
        )),
    }
}

/// The writer's connection inside its transaction.
pub(crate) struct Lite<'c> {
    conn: &'c mut rusqlite::Connection,
    segments: &'c mut SegmentWriter,
    flusher: &'c Flusher,
    /// Files put aside in this transaction, by content hash.
    files: HashMap<String, Aside>,
    /// The flush begun by [`Exec::flush_aside`], to wait for before the commit.
    flushing: Option<Flushing>,
}

/// A row read on the writer's connection.
pub(crate) struct LiteRow {
    names: Vec<String>,
    values: Vec<Value>,
}

impl Lite<'_> {
    fn statement(&self, q: &Query<'_>) -> Result<rusqlite::CachedStatement<'_>> {
        let mut st = self.conn.prepare_cached(&q.sql)?;
        for i in 1..=st.parameter_count() {
            // `$n` names the n-th value, as sqlx reads it.
            let n = st
                .parameter_name(i)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(i);
            let v = q
                .args
                .get(n - 1)
                .ok_or_else(|| StoreError::Internal(format!("no value for ${n}")))?;
            match v {
                Val::Int(x) => st.raw_bind_parameter(i, x)?,
                Val::Real(x) => st.raw_bind_parameter(i, x)?,
                Val::Text(x) => st.raw_bind_parameter(i, x.as_ref())?,
                Val::Blob(x) => st.raw_bind_parameter(i, x.as_ref())?,
                Val::NullInt | Val::NullReal | Val::NullText => {
                    st.raw_bind_parameter(i, rusqlite::types::Null)?
                }
            }
        }
        Ok(st)
    }

    fn run(&mut self, q: &Query<'_>) -> Result<u64> {
        let mut st = self.statement(q)?;
        let mut rows = st.raw_query();
        while rows.next()?.is_some() {}
        drop(rows);
        Ok(self.conn.changes())
    }

    fn rows(&mut self, q: &Query<'_>) -> Result<Vec<LiteRow>> {
        let mut st = self.statement(q)?;
        let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = st.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                values.push(Value::from(r.get_ref(i)?));
            }
            out.push(LiteRow {
                names: names.clone(),
                values,
            });
        }
        Ok(out)
    }
}

impl Exec for Lite<'_> {
    type Row = LiteRow;

    fn execute(&mut self, q: &Query<'_>) -> impl Future<Output = Result<u64>> + Send {
        std::future::ready(self.run(q))
    }

    fn fetch_all(&mut self, q: &Query<'_>) -> impl Future<Output = Result<Vec<LiteRow>>> + Send {
        std::future::ready(self.rows(q))
    }

    fn put_aside(&mut self, bytes: &[u8], hash: Option<&str>) -> Result<Option<Aside>> {
        if let Some(at) = hash.and_then(|h| self.files.get(h)) {
            return Ok(Some(*at));
        }
        let at = self.segments.append(bytes)?;
        if let Some(h) = hash {
            self.files.insert(h.to_string(), at);
        }
        Ok(Some(at))
    }

    fn lies_aside(&mut self, hash: &str, at: Aside) {
        self.files.entry(hash.to_string()).or_insert(at);
    }

    fn puts_aside(&self) -> bool {
        true
    }

    fn flush_aside(&mut self) -> Result<()> {
        if self.flushing.is_none() {
            self.flushing = self.segments.flush_in_background(self.flusher)?;
        }
        Ok(())
    }
}

impl LiteRow {
    fn get(&self, col: &str) -> Result<ValueRef<'_>> {
        self.names
            .iter()
            .position(|n| n == col)
            .map(|i| ValueRef::from(&self.values[i]))
            .ok_or_else(|| StoreError::Internal(format!("no column {col}")))
    }

    fn wrong(col: &str, want: &str) -> StoreError {
        StoreError::Internal(format!("column {col} is not {want}"))
    }
}

impl RowExt for LiteRow {
    fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?
            .ok_or_else(|| LiteRow::wrong(col, "an integer"))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        match self.get(col)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            _ => Err(LiteRow::wrong(col, "an integer")),
        }
    }
    fn text(&self, col: &str) -> Result<String> {
        self.opt_text(col)?
            .ok_or_else(|| LiteRow::wrong(col, "text"))
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        match self.get(col)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).into_owned())),
            _ => Err(LiteRow::wrong(col, "text")),
        }
    }
    fn opt_float(&self, col: &str) -> Result<Option<f64>> {
        match self.get(col)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(f) => Ok(Some(f)),
            ValueRef::Integer(i) => Ok(Some(i as f64)),
            _ => Err(LiteRow::wrong(col, "a number")),
        }
    }
    fn bytes(&self, col: &str) -> Result<Vec<u8>> {
        match self.get(col)? {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            _ => Err(LiteRow::wrong(col, "bytes")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::query;

    /// `$n` is the n-th value wherever it stands and however often, as sqlx
    /// reads it: the shared SQL repeats and reorders parameters.
    #[tokio::test]
    async fn binds_dollar_n_by_number() {
        let dir = crate::testing::temp_dir();
        let path = dir.join("lite.db");
        let writer = LiteWriter::open(path.to_str().unwrap()).unwrap();
        let row = writer
            .transaction(|l| {
                now(async {
                    query("CREATE TABLE t (a INTEGER, b TEXT, c INTEGER)")
                        .execute(l)
                        .await?;
                    let changed = query("INSERT INTO t (a, b, c) VALUES ($2, $1, $2)")
                        .bind("text")
                        .bind(7)
                        .execute(l)
                        .await?;
                    assert_eq!(changed, 1);
                    let r = query("SELECT a, b, c FROM t WHERE b = $1")
                        .bind("text")
                        .fetch_one(l)
                        .await?;
                    Ok((r.int("a")?, r.text("b")?, r.opt_int("c")?))
                })
            })
            .await
            .unwrap();
        assert_eq!(row, (7, "text".to_string(), Some(7)));
    }

    #[tokio::test]
    async fn a_failed_job_rolls_back() {
        let dir = crate::testing::temp_dir();
        let writer = LiteWriter::open(dir.join("lite.db").to_str().unwrap()).unwrap();
        writer
            .transaction(|l| now(async { query("CREATE TABLE t (a INTEGER)").execute(l).await }))
            .await
            .unwrap();
        let failed = writer
            .transaction(|l| {
                now(async {
                    query("INSERT INTO t (a) VALUES (1)").execute(l).await?;
                    query("INSERT INTO missing (a) VALUES (1)").execute(l).await
                })
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Lite(_))), "{failed:?}");
        let n = writer
            .transaction(|l| {
                now(async {
                    query("SELECT COUNT(*) AS n FROM t")
                        .fetch_one(l)
                        .await?
                        .int("n")
                })
            })
            .await
            .unwrap();
        assert_eq!(n, 0);
    }

    /// A unique violation on the writer's connection is a conflict the caller
    /// can report, as it is through sqlx.
    #[tokio::test]
    async fn unique_violations_become_conflicts() {
        let dir = crate::testing::temp_dir();
        let writer = LiteWriter::open(dir.join("lite.db").to_str().unwrap()).unwrap();
        let second = writer
            .transaction(|l| {
                now(async {
                    query("CREATE TABLE t (a INTEGER UNIQUE)")
                        .execute(l)
                        .await?;
                    query("INSERT INTO t (a) VALUES (1)").execute(l).await?;
                    query("INSERT INTO t (a) VALUES (1)").execute(l).await
                })
            })
            .await
            .map_err(|e| StoreError::from_unique(e, "taken"));
        assert!(
            matches!(&second, Err(StoreError::Conflict(m)) if m == "taken"),
            "{second:?}"
        );
    }
}
