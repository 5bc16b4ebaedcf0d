//! IMAP mailboxes the server polls, over the API: listed with how their
//! last poll went, created and changed by administrators.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json};
use crate::input::Errors;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::FieldError;
use domain::mail::Security;
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use store::{MailboxInput, Store};

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct MailboxBody {
    /// The receiving address its mail counts as sent to; the tenant's first
    /// address when a mailbox is created without one, unchanged on update.
    pub address_id: Option<i64>,
    pub host: String,
    pub port: Option<u16>,
    /// `tls` (the default), `starttls` or `none`.
    pub security: Option<String>,
    pub username: String,
    /// Required when creating; left unchanged on update when absent or empty.
    pub password: Option<String>,
    pub folder: Option<String>,
    /// Move stored messages to this folder; when absent they stay, flagged.
    pub move_to: Option<String>,
    pub poll_seconds: Option<i64>,
    pub max_message_mb: Option<i64>,
    pub enabled: Option<bool>,
}

/// A folder name as IMAP takes it quoted (names outside ASCII would need
/// modified UTF-7, which the poller does not write).
fn folder(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    if s.is_empty() || s.len() > 200 {
        return Err(FieldError::new(field, "must be 1 to 200 characters"));
    }
    if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(FieldError::new(
            field,
            "must be plain ASCII, as the server names it (e.g. INBOX or Archive/Done)",
        ));
    }
    Ok(s.to_string())
}

impl MailboxBody {
    /// The settings, with `address_id` still to be filled when absent.
    pub fn parse(&self) -> Result<(Option<i64>, MailboxInput), ApiError> {
        let mut e = Errors::default();
        let host = self.host.trim();
        if host.is_empty() || host.len() > 253 || host.contains(char::is_whitespace) {
            e.push(FieldError::new("host", "must be a host name or address"));
        }
        let security = match &self.security {
            Some(s) => e.take(Security::parse(s)),
            None => Some(Security::Tls),
        }
        .unwrap_or(Security::Tls);
        let port = match self.port {
            Some(0) => {
                e.push(FieldError::new("port", "must be between 1 and 65535"));
                0
            }
            Some(p) => p,
            None if security == Security::Tls => 993,
            None => 143,
        };
        let username = e.take(domain::contact::text("username", &self.username, 200));
        let password = self.password.clone().filter(|p| !p.is_empty());
        if password.as_ref().is_some_and(|p| p.len() > 500) {
            e.push(FieldError::new("password", "is longer than 500 characters"));
        }
        let folder_name = e.take(folder("folder", self.folder.as_deref().unwrap_or("INBOX")));
        let move_to = match self.move_to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) => e.take(folder("move_to", m)),
        };
        if move_to.is_some() && move_to == folder_name {
            e.push(FieldError::new(
                "move_to",
                "must differ from the folder polled",
            ));
        }
        let poll_seconds = self.poll_seconds.unwrap_or(60);
        if !(1..=86_400).contains(&poll_seconds) {
            e.push(FieldError::new(
                "poll_seconds",
                "must be between 1 and 86400",
            ));
        }
        let max_mb = self.max_message_mb.unwrap_or(25);
        if !(1..=500).contains(&max_mb) {
            e.push(FieldError::new(
                "max_message_mb",
                "must be between 1 and 500",
            ));
        }
        e.finish(|| ())?;
        Ok((
            self.address_id,
            MailboxInput {
                address_id: self.address_id.unwrap_or(0),
                host: host.to_string(),
                port,
                security,
                username: username.unwrap_or_default(),
                password,
                folder: folder_name.unwrap_or_default(),
                move_to,
                poll_seconds,
                max_bytes: max_mb * 1024 * 1024,
                enabled: self.enabled.unwrap_or(true),
            },
        ))
    }
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let items = state.store.mailboxes(auth.tenant.id).await?;
    Ok(axum::Json(json!({ "items": items })))
}

/// Creates a mailbox for `auth`'s tenant from a parsed body.
pub async fn create_from(
    store: &Store,
    auth: &Auth,
    body: &MailboxBody,
) -> Result<store::Mailbox, ApiError> {
    auth.need(Permission::Administer)?;
    let (address, mut input) = body.parse()?;
    input.address_id = match address {
        Some(a) => a,
        None => store
            .mail_addresses(auth.tenant.id)
            .await?
            .first()
            .map(|a| a.id)
            .ok_or_else(|| ApiError::field("address_id", "add a receiving address first"))?,
    };
    Ok(store
        .create_mailbox(auth.actor(), &input, Timestamp::now())
        .await?)
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<MailboxBody>,
) -> Result<impl IntoResponse, ApiError> {
    let m = create_from(&state.store, &auth, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(m)))
}

/// Changes a mailbox of `auth`'s tenant from a parsed body.
pub async fn update_from(
    store: &Store,
    auth: &Auth,
    id: i64,
    body: &MailboxBody,
) -> Result<store::Mailbox, ApiError> {
    auth.need(Permission::Administer)?;
    let (address, mut input) = body.parse()?;
    let current = store.mailbox(auth.tenant.id, id).await?;
    input.address_id = address.unwrap_or(current.settings.address_id);
    Ok(store
        .update_mailbox(auth.actor(), id, &input, Timestamp::now())
        .await?)
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<MailboxBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        update_from(&state.store, &auth, id, &body).await?,
    ))
}
