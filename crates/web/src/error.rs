//! The one error type at the HTTP edge: 4xx say what was wrong, 5xx are logged
//! and answered with a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use serde::Serialize;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized,
    #[error("your role may not do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    NoRoute,
    #[error("{0}")]
    BadRequest(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    TooLarge,
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [FieldError],
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::NoRoute => "no_route",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid(_) => "invalid",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge => "too_large",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError::new(field, reason)])
    }

    /// The message a user sees: field errors spelled out.
    pub fn message(&self) -> String {
        match self {
            ApiError::Invalid(fields) => fields
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Invalid(vec![e])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(m) | StoreError::Workflow(m) => ApiError::Conflict(m),
            StoreError::Invalid(f) => ApiError::Invalid(vec![f]),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::acd::AcdError> for ApiError {
    fn from(e: crate::acd::AcdError) -> Self {
        use domain::routing::RouteError as R;
        match e {
            crate::acd::AcdError::Store(e) => e.into(),
            crate::acd::AcdError::Route(R::Invalid(f)) => ApiError::Invalid(vec![f]),
            crate::acd::AcdError::Route(R::UnknownAgent | R::UnknownWork | R::UnknownQueue) => {
                ApiError::NotFound
            }
            crate::acd::AcdError::Route(other) => ApiError::Conflict(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let fields: Vec<FieldError> = match &self {
            ApiError::Invalid(f) => f.clone(),
            _ => Vec::new(),
        };
        let body = Body {
            error: self.code(),
            message: self.message(),
            fields: &fields,
        };
        (self.status(), axum::Json(body)).into_response()
    }
}
