//! A small builder for queries whose WHERE clause depends on the filters given.

use crate::exec::{Val, any_arguments};
use sqlx::AnyConnection;
use sqlx::any::{AnyArguments, AnyRow};

#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    args: Vec<Val<'static>>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the next `$n` placeholder and remembers its value.
    fn arg(&mut self, arg: Val<'static>) -> &mut Self {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.arg(Val::Int(v))
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.arg(Val::from(v.to_string()))
    }

    /// Binds a text to the next `$n` the caller wrote into the text itself.
    pub fn bind_text(&mut self, v: String) -> &mut Self {
        self.args.push(Val::from(v));
        self
    }

    /// Binds an integer to the next `$n` the caller wrote into the text itself.
    pub fn bind_int(&mut self, v: i64) -> &mut Self {
        self.args.push(Val::Int(v));
        self
    }

    /// `(… , …)` list of integer placeholders for `IN`.
    pub fn int_list(&mut self, values: &[i64]) -> &mut Self {
        self.text.push('(');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.int(*v);
        }
        self.text.push(')');
        self
    }

    fn arguments(&self) -> AnyArguments<'_> {
        any_arguments(&self.args)
    }

    pub async fn fetch_all(&self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>, sqlx::Error> {
        sqlx::query_with(&self.text, self.arguments())
            .fetch_all(conn)
            .await
    }

    pub async fn execute(&self, conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query_with(&self.text, self.arguments())
            .execute(conn)
            .await?
            .rows_affected())
    }

    pub async fn fetch_all_pool(&self, pool: &sqlx::AnyPool) -> Result<Vec<AnyRow>, sqlx::Error> {
        sqlx::query_with(&self.text, self.arguments())
            .fetch_all(pool)
            .await
    }
}
