//! Bulk import of customers, vehicles, orders and service records.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Query;
use crate::input::region;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use domain::FieldError;
use domain::role::Permission;
use import::{Encoding, Format, Kind};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// csv (default) or json.
    format: Option<String>,
    /// auto (default), utf-8 or gbk.
    encoding: Option<String>,
    /// When true, one rejected row writes nothing.
    strict: Option<bool>,
}

pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Import)?;
    let kind = Kind::parse(&kind)?;
    let format = match q.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "json" => Format::Json,
        _ => return Err(ApiError::field("format", "must be csv or json")),
    };
    let encoding = Encoding::parse(q.encoding.as_deref().unwrap_or("auto"))?;
    let options = import::Options {
        kind,
        format,
        encoding,
        strict: q.strict.unwrap_or(false),
    };
    let report = import::run(
        &state.store,
        auth.actor(),
        region(&auth.tenant),
        &options,
        &body,
        &|_| {},
    )
    .await
    .map_err(|e| match e {
        import::RunError::File(f) => {
            ApiError::Invalid(vec![FieldError::new("file", f.to_string())])
        }
        import::RunError::Store(s) => s.into(),
    })?;
    Ok(axum::Json(report))
}
