use domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The write would break a uniqueness rule (e.g. a username already taken).
    #[error("{0}")]
    Conflict(String),
    /// A reference to something that does not exist in this tenant.
    #[error("{0}")]
    Invalid(FieldError),
    #[error("{0}")]
    Workflow(String),
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://USER@HOST/DB")]
    UnknownScheme(String),
    #[error("cannot open the database at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("migration {version} failed: {reason}")]
    Migration { version: i64, reason: String },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Lite(#[from] rusqlite::Error),
    /// The files large bytes are kept in beside a SQLite database.
    #[error("file error: {0}")]
    File(#[from] std::io::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    pub(crate) fn invalid(field: &str, reason: &str) -> Self {
        StoreError::Invalid(FieldError::new(field, reason))
    }

    /// Unique-constraint violations become conflicts the caller can report.
    pub(crate) fn from_unique(e: impl Into<StoreError>, what: &str) -> Self {
        let e = e.into();
        let unique = match &e {
            StoreError::Db(sqlx::Error::Database(d)) => d.is_unique_violation(),
            StoreError::Lite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        };
        if unique {
            StoreError::Conflict(what.to_string())
        } else {
            e
        }
    }
}
