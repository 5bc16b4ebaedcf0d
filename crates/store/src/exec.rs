//! Statements written once and run on either of two connections: sqlx's
//! (every backend, from async code) or the SQLite writer's own (see
//! [`crate::lite`]), where a statement costs microseconds instead of a round
//! trip to sqlx's worker thread. Code on the hot write paths (filing mail)
//! is generic over [`Exec`] so both run the same SQL.

use crate::Result;
use crate::StoreError;
use crate::db::RowExt;
use crate::segments::Aside;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments};
use std::borrow::Cow;
use std::future::Future;

/// A bound value. A NULL keeps its type: PostgreSQL wants one.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Blob(Cow<'a, [u8]>),
    NullInt,
    NullReal,
    NullText,
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<Option<i64>> for Val<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Val::NullInt, Val::Int)
    }
}
impl From<Option<f64>> for Val<'_> {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Val::NullReal, Val::Real)
    }
}
impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Text(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a String> for Val<'a> {
    fn from(v: &'a String) -> Self {
        Val::Text(Cow::Borrowed(v))
    }
}
impl From<String> for Val<'_> {
    fn from(v: String) -> Self {
        Val::Text(Cow::Owned(v))
    }
}
impl<'a> From<Option<&'a str>> for Val<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Val::NullText, |s| Val::Text(Cow::Borrowed(s)))
    }
}
impl From<Option<String>> for Val<'_> {
    fn from(v: Option<String>) -> Self {
        v.map_or(Val::NullText, |s| Val::Text(Cow::Owned(s)))
    }
}
impl<'a> From<&'a [u8]> for Val<'a> {
    fn from(v: &'a [u8]) -> Self {
        Val::Blob(Cow::Borrowed(v))
    }
}
impl From<Vec<u8>> for Val<'_> {
    fn from(v: Vec<u8>) -> Self {
        Val::Blob(Cow::Owned(v))
    }
}

/// A statement with `$n` parameters and its values.
#[derive(Debug)]
pub(crate) struct Query<'a> {
    pub sql: Cow<'a, str>,
    pub args: Vec<Val<'a>>,
}

pub(crate) fn query<'a>(sql: impl Into<Cow<'a, str>>) -> Query<'a> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl<'a> Query<'a> {
    pub fn bind(mut self, v: impl Into<Val<'a>>) -> Self {
        self.args.push(v.into());
        self
    }

    /// Runs it; how many rows it changed.
    pub async fn execute<E: Exec>(&self, e: &mut E) -> Result<u64> {
        e.execute(self).await
    }

    pub async fn fetch_all<E: Exec>(&self, e: &mut E) -> Result<Vec<E::Row>> {
        e.fetch_all(self).await
    }

    pub async fn fetch_optional<E: Exec>(&self, e: &mut E) -> Result<Option<E::Row>> {
        Ok(e.fetch_all(self).await?.into_iter().next())
    }

    /// The first row; none is [`StoreError::NotFound`].
    pub async fn fetch_one<E: Exec>(&self, e: &mut E) -> Result<E::Row> {
        self.fetch_optional(e).await?.ok_or(StoreError::NotFound)
    }
}

/// sqlx's arguments for `$1`, `$2`, … in order.
pub(crate) fn any_arguments<'q>(vals: &'q [Val<'_>]) -> AnyArguments<'q> {
    let mut a = AnyArguments::default();
    for v in vals {
        // Adding a plain value cannot fail for the Any driver.
        let _ = match v {
            Val::Int(i) => a.add(*i),
            Val::Real(f) => a.add(*f),
            Val::Text(s) => a.add(s.as_ref()),
            Val::Blob(b) => a.add(b.as_ref()),
            Val::NullInt => a.add(None::<i64>),
            Val::NullReal => a.add(None::<f64>),
            Val::NullText => a.add(None::<String>),
        };
    }
    a
}

/// A connection (or transaction) statements run on.
pub(crate) trait Exec: Send {
    type Row: RowExt + Send;
    fn execute(&mut self, q: &Query<'_>) -> impl Future<Output = Result<u64>> + Send;
    fn fetch_all(&mut self, q: &Query<'_>) -> impl Future<Output = Result<Vec<Self::Row>>> + Send;

    /// Stores large bytes outside the row when this connection can, durably
    /// by the commit; `None`: they go in the row. A file (with its content
    /// hash) put aside before in the same transaction is not put aside again.
    fn put_aside(&mut self, _bytes: &[u8], _hash: Option<&str>) -> Result<Option<Aside>> {
        Ok(None)
    }

    /// Notes that the file with content hash `hash` lies at `at`, inside
    /// bytes put aside in this transaction: [`Exec::put_aside`] then gives
    /// that place for it rather than write it.
    fn lies_aside(&mut self, _hash: &str, _at: Aside) {}

    /// Whether [`Exec::put_aside`] keeps bytes outside the rows.
    fn puts_aside(&self) -> bool {
        false
    }

    /// Starts flushing what was put aside so far, while statements go on;
    /// the commit waits for it.
    fn flush_aside(&mut self) -> Result<()> {
        Ok(())
    }
}

impl Exec for AnyConnection {
    type Row = AnyRow;

    async fn execute(&mut self, q: &Query<'_>) -> Result<u64> {
        Ok(sqlx::query_with(&q.sql, any_arguments(&q.args))
            .execute(self)
            .await?
            .rows_affected())
    }

    async fn fetch_all(&mut self, q: &Query<'_>) -> Result<Vec<AnyRow>> {
        Ok(sqlx::query_with(&q.sql, any_arguments(&q.args))
            .fetch_all(self)
            .await?)
    }
}

/// Transactions and pooled connections run on the connection they hold.
macro_rules! exec_through {
    ($t:ty) => {
        impl Exec for $t {
            type Row = AnyRow;

            fn execute(&mut self, q: &Query<'_>) -> impl Future<Output = Result<u64>> + Send {
                (**self).execute(q)
            }

            fn fetch_all(
                &mut self,
                q: &Query<'_>,
            ) -> impl Future<Output = Result<Vec<AnyRow>>> + Send {
                (**self).fetch_all(q)
            }
        }
    };
}
exec_through!(sqlx::Transaction<'_, sqlx::Any>);
exec_through!(sqlx::pool::PoolConnection<sqlx::Any>);

/// Runs `f` between a savepoint and its release, or rolls back to the
/// savepoint when it fails: one message's failure leaves the batch's others.
pub(crate) async fn savepoint<E: Exec, T>(
    e: &mut E,
    f: impl AsyncFnOnce(&mut E) -> Result<T>,
) -> Result<Result<T>> {
    query("SAVEPOINT one").execute(e).await?;
    match f(e).await {
        Ok(v) => {
            query("RELEASE SAVEPOINT one").execute(e).await?;
            Ok(Ok(v))
        }
        Err(err) => {
            query("ROLLBACK TO SAVEPOINT one").execute(e).await?;
            query("RELEASE SAVEPOINT one").execute(e).await?;
            Ok(Err(err))
        }
    }
}
