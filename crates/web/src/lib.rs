//! HTTP edge: the JSON API under `/api/v1` (with its OpenAPI document) and
//! the server-rendered UI, both over one [`store::Store`].

pub mod acd;
mod api;
pub mod auth;
mod error;
mod extract;
pub mod finder;
mod input;
pub mod limits;
mod ui;

use axum::Router;
use axum::extract::DefaultBodyLimit;
pub use error::ApiError;
use std::net::SocketAddr;
use std::sync::Arc;
use store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Mark cookies `Secure` (when served behind TLS).
    pub secure_cookies: bool,
    /// The routing driver; [`serve`] runs it.
    pub acd: Arc<acd::Acd>,
    /// Calls' news from the PBX, for the agents' browsers (screen pop).
    pub calls: tokio::sync::broadcast::Sender<api::cti::CallNote>,
    /// Full-text search; [`serve`] keeps its index following the store.
    pub finder: Arc<finder::Finder>,
    /// What anyone may do without an account, per address.
    pub limits: Arc<limits::RateLimits>,
    /// Where customers reach this server (`https://care.example.com`): the
    /// private links in acknowledgement mail. Empty: mail carries no link.
    pub public_url: String,
}

impl AppState {
    pub fn new(store: Store, secure_cookies: bool, index: Arc<search::SearchIndex>) -> AppState {
        AppState {
            acd: acd::Acd::new(store.clone()),
            calls: tokio::sync::broadcast::channel(256).0,
            finder: finder::Finder::new(store.clone(), index),
            store,
            secure_cookies,
            limits: Arc::default(),
            public_url: String::new(),
        }
    }

    pub fn with_public_url(mut self, url: &str) -> AppState {
        self.public_url = url.trim_end_matches('/').to_string();
        self
    }
}

/// Request bodies above this are refused (imports of a day's dealer file fit).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(ui::routes())
        .fallback(api::no_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let driver = tokio::spawn(state.acd.clone().run());
    let follower = tokio::spawn(state.finder.clone().run());
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    driver.abort();
    follower.abort();
    served
}
