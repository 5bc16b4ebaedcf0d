//! A small builder for queries whose WHERE clause depends on the filters given.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments};

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    args: Vec<Arg>,
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
    pub fn arg(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.arg(Arg::Int(v))
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.arg(Arg::Text(v.to_string()))
    }

    /// Binds a text to the next `$n` the caller wrote into the text itself.
    pub fn bind_text(&mut self, v: String) -> &mut Self {
        self.args.push(Arg::Text(v));
        self
    }

    /// Binds an integer to the next `$n` the caller wrote into the text itself.
    pub fn bind_int(&mut self, v: i64) -> &mut Self {
        self.args.push(Arg::Int(v));
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
        let mut a = AnyArguments::default();
        for arg in &self.args {
            // Adding a plain integer or string cannot fail for the Any driver.
            let _ = match arg {
                Arg::Int(i) => a.add(*i),
                Arg::Text(s) => a.add(s.as_str()),
            };
        }
        a
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
