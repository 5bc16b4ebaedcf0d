use crate::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html("<h1>404</h1>")).into_response()
}
