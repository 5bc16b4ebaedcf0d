//! Extractors whose rejections speak the API's error format.

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// JSON body; a missing or mistyped field is a 422 naming it.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                let detail = e.body_text();
                Err(ApiError::field(
                    &field_of(&detail),
                    detail.rsplit(": ").next().unwrap_or(&detail).to_string(),
                ))
            }
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::TooLarge),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "send the body as JSON with Content-Type: application/json".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// Picks the field name out of serde's message ("missing field `subject`", "body.priority: …").
fn field_of(detail: &str) -> String {
    if let Some(start) = detail.find('`') {
        let rest = &detail[start + 1..];
        if let Some(end) = rest.find('`')
            && (detail.contains("missing field") || detail.contains("unknown field"))
        {
            return rest[..end].to_string();
        }
    }
    detail
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .and_then(|d| d.split_once(':'))
        .map(|(path, _)| path.trim().to_string())
        .filter(|p| !p.is_empty() && !p.contains(' '))
        .unwrap_or_else(|| "body".to_string())
}

/// A numeric id in the path.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::BadRequest("expected one id in the path".into()))?;
        raw.parse()
            .map(Id)
            .map_err(|_| ApiError::field("id", "must be a number"))
    }
}

/// Query string; unknown or malformed parameters are a 400.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}
