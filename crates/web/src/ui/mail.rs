//! Mail pages: the reply form's handler, received HTML shown safely, the
//! mail settings (addresses, templates), the mail log and notifications.

#![allow(clippy::result_large_err)]

use super::pages::{Page, back_to_case, csrf_ok, or_page};
use super::{Chrome, UiAuth, encode, render};
use crate::AppState;
use crate::api::mail::{AddressBody, ReplyBody, TemplateBody};
use crate::api::mailboxes::{self, MailboxBody};
use crate::error::ApiError;
use crate::extract::Query;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ids::CaseId;
use domain::mail::ClosedReply;
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use store::{MailAddress, MailLogEntry, MailTemplate, Mailbox, Notification, OutboxEntry};

/// An outgoing message as the case page and the mail log list it.
pub struct OutboxRow {
    pub id: i64,
    pub case_id: Option<i64>,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub at: String,
    pub error: String,
}

impl OutboxRow {
    pub fn new(c: &Chrome, m: OutboxEntry) -> OutboxRow {
        OutboxRow {
            id: m.id,
            case_id: m.case_id.map(|c| c.0),
            kind: m.kind,
            to: m.recipients.join(", "),
            subject: m.subject,
            at: c.time(m.sent_at.unwrap_or(m.created_at)),
            error: m.last_error.unwrap_or_default(),
            status: m.status,
        }
    }
}

/// The reply form: multipart, so files come as they are.
pub async fn reply(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    form: Multipart,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    let list = |v: String| -> Vec<String> {
        v.split([',', ';', '，', '；', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let posted = match super::upload::Posted::read(form, "files").await {
        Ok(p) => p,
        Err(e) => return Ok(back_to_case(id, Err(e))),
    };
    let body = ReplyBody {
        to: list(posted.one("to")),
        cc: list(posted.one("cc")),
        bcc: list(posted.one("bcc")),
        subject: posted.get("subject"),
        body: posted.get("body"),
        template_id: posted.one("template_id").parse().ok(),
        then: posted.get("then"),
        ..Default::default()
    };
    let csrf = posted.get("csrf");
    let files = posted.files;
    or_page(&c, csrf_ok(&ui.0, csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let mut input = body.parse()?;
        input.attachments = files;
        state
            .store
            .queue_reply(ui.0.actor(), CaseId(id), &input, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_case(id, r))
}

/// A received message's HTML, sanitised, for the sandboxed frame on the case
/// page. The policy header keeps it inert even if something slipped through.
pub async fn html(State(state): State<AppState>, ui: UiAuth, Path(sha): Path<String>) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(super::error_page(&c, ApiError::NotFound));
    }
    let (meta, data) = or_page(&c, state.store.attachment(ui.0.tenant.id, &sha).await)?;
    if !meta.content_type.starts_with("text/html") {
        return Err(super::error_page(&c, ApiError::NotFound));
    }
    let clean = domain::html::sanitize(&String::from_utf8_lossy(&data));
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("<!doctype html><meta charset=\"utf-8\"><body>{clean}</body>"),
    )
        .into_response())
}

/// A mailbox as the settings page lists it.
struct MailboxRow {
    m: Mailbox,
    address: String,
    last_poll: String,
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailPage {
    c: Chrome,
    mailboxes: Vec<MailboxRow>,
    addresses: Vec<MailAddress>,
    templates: Vec<MailTemplate>,
    closed_reply: ClosedReply,
    faq_url: String,
    variables: &'static [(&'static str, &'static str)],
}

pub async fn settings(
    State(state): State<AppState>,
    ui: UiAuth,
    axum::extract::Query(q): axum::extract::Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "mail").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let tenant = ui.0.tenant.id;
    let (closed_reply, faq_url) = or_page(&c, state.store.mail_settings(tenant).await)?;
    let addresses = or_page(&c, state.store.mail_addresses(tenant).await)?;
    let mailboxes = or_page(&c, state.store.mailboxes(tenant).await)?
        .into_iter()
        .map(|m| MailboxRow {
            address: addresses
                .iter()
                .find(|a| a.id == m.settings.address_id)
                .map(|a| a.settings.address.to_string())
                .unwrap_or_default(),
            last_poll: m.last_poll_at.map(|t| c.time(t)).unwrap_or_default(),
            m,
        })
        .collect();
    Ok(render(&MailPage {
        mailboxes,
        addresses,
        templates: or_page(&c, state.store.templates(tenant).await)?,
        closed_reply,
        faq_url: faq_url.unwrap_or_default(),
        variables: domain::template::VARIABLES,
        c,
    }))
}

fn back_to_settings(r: Result<(), ApiError>) -> Response {
    match r {
        Ok(()) => Redirect::to("/mail").into_response(),
        Err(e @ (ApiError::Forbidden | ApiError::Internal(_))) => e.into_response(),
        Err(e) => Redirect::to(&format!("/mail?error={}", encode(&e.message()))).into_response(),
    }
}

fn opt_num(field: &str, v: &str) -> Result<Option<i64>, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| ApiError::field(field, "must be a whole number"))
}

#[derive(Deserialize)]
pub struct AddressForm {
    csrf: Option<String>,
    address: String,
    display_name: String,
    case_type: String,
    reply_hours: String,
    vip_reply_hours: String,
    language: String,
    #[serde(default)]
    region: String,
}

pub async fn add_address(
    State(state): State<AppState>,
    ui: UiAuth,
    Form(f): Form<AddressForm>,
) -> Page {
    let c = Chrome::new(&ui, "mail");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let body = AddressBody {
            address: f.address,
            display_name: f.display_name,
            case_type: Some(f.case_type),
            category_id: None,
            team_id: None,
            region: Some(f.region),
            reply_hours: opt_num("reply_hours", &f.reply_hours)?,
            vip_reply_hours: opt_num("vip_reply_hours", &f.vip_reply_hours)?,
            language: Some(f.language),
        };
        let input = body.parse()?;
        state
            .store
            .create_mail_address(ui.0.actor(), &input, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_settings(r))
}

/// The mailbox form, as the browser sends it (every field a string).
#[derive(Deserialize)]
pub struct MailboxForm {
    csrf: Option<String>,
    #[serde(default)]
    address_id: String,
    host: String,
    #[serde(default)]
    port: String,
    security: String,
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    move_to: String,
    #[serde(default)]
    poll_seconds: String,
    #[serde(default)]
    max_message_mb: String,
    /// A checkbox: present when ticked.
    enabled: Option<String>,
}

impl MailboxForm {
    fn body(self) -> Result<MailboxBody, ApiError> {
        let port = match opt_num("port", &self.port)? {
            Some(p) => Some(
                u16::try_from(p)
                    .map_err(|_| ApiError::field("port", "must be between 1 and 65535"))?,
            ),
            None => None,
        };
        Ok(MailboxBody {
            address_id: opt_num("address_id", &self.address_id)?,
            host: self.host,
            port,
            security: Some(self.security),
            username: self.username,
            password: Some(self.password),
            folder: Some(self.folder).filter(|f| !f.trim().is_empty()),
            move_to: Some(self.move_to),
            poll_seconds: opt_num("poll_seconds", &self.poll_seconds)?,
            max_message_mb: opt_num("max_message_mb", &self.max_message_mb)?,
            enabled: Some(self.enabled.is_some()),
        })
    }
}

pub async fn add_mailbox(
    State(state): State<AppState>,
    ui: UiAuth,
    Form(f): Form<MailboxForm>,
) -> Page {
    let c = Chrome::new(&ui, "mail");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        let body = f.body()?;
        mailboxes::create_from(&state.store, &ui.0, &body).await?;
        Ok(())
    }
    .await;
    Ok(back_to_settings(r))
}

pub async fn edit_mailbox(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<MailboxForm>,
) -> Page {
    let c = Chrome::new(&ui, "mail");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        let body = f.body()?;
        mailboxes::update_from(&state.store, &ui.0, id, &body).await?;
        Ok(())
    }
    .await;
    Ok(back_to_settings(r))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf: Option<String>,
    closed_reply: String,
    faq_url: String,
}

pub async fn save_settings(
    State(state): State<AppState>,
    ui: UiAuth,
    Form(f): Form<SettingsForm>,
) -> Page {
    let c = Chrome::new(&ui, "mail");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let closed = ClosedReply::parse(&f.closed_reply)?;
        let faq = domain::mail::parse_link("faq_url", &f.faq_url)?;
        let now = Timestamp::now();
        state
            .store
            .set_closed_reply(ui.0.actor(), closed, now)
            .await?;
        state
            .store
            .set_faq_url(ui.0.actor(), faq.as_deref(), now)
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_settings(r))
}

#[derive(Deserialize)]
pub struct TemplateForm {
    csrf: Option<String>,
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address_id: String,
    language: String,
    subject: String,
    body: String,
}

pub async fn save_template(
    State(state): State<AppState>,
    ui: UiAuth,
    Form(f): Form<TemplateForm>,
) -> Page {
    let c = Chrome::new(&ui, "mail");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let body = TemplateBody {
            kind: f.kind,
            name: Some(f.name),
            address_id: opt_num("address_id", &f.address_id)?,
            language: f.language,
            subject: f.subject,
            body: f.body.replace("\r\n", "\n"),
        };
        let input = body.parse()?;
        state
            .store
            .save_template(ui.0.actor(), &input, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_settings(r))
}

struct InboundRow {
    entry: MailLogEntry,
    at: String,
}

#[derive(Template)]
#[template(path = "mail_log.html")]
struct MailLogPage {
    c: Chrome,
    inbound: Vec<InboundRow>,
    outbound: Vec<OutboxRow>,
}

pub async fn log(State(state): State<AppState>, ui: UiAuth) -> Page {
    let c = Chrome::new(&ui, "mail_log");
    or_page(&c, ui.0.need(Permission::ViewMailLog))?;
    let tenant = ui.0.tenant.id;
    let inbound = or_page(&c, state.store.mail_log(tenant, 100).await)?
        .into_iter()
        .map(|entry| InboundRow {
            at: c.time(entry.received_at),
            entry,
        })
        .collect();
    let outbound = or_page(&c, state.store.outbox(tenant, None, 100).await)?
        .into_iter()
        .map(|m| OutboxRow::new(&c, m))
        .collect();
    Ok(render(&MailLogPage {
        c,
        inbound,
        outbound,
    }))
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    c: Chrome,
    items: Vec<(Notification, String)>,
    /// The last notice shown, when older ones follow.
    older: Option<i64>,
}

/// The user's notifications; opening the page marks them read.
#[derive(Deserialize, Default)]
pub struct OlderQuery {
    before: Option<i64>,
}

/// Notices shown at a time.
const NOTICES_PAGE: u32 = 50;

pub async fn notifications(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<OlderQuery>,
) -> Page {
    let c = Chrome::new(&ui, "notifications");
    let (tenant, user) = (ui.0.tenant.id, ui.0.user.id);
    let found = or_page(
        &c,
        state
            .store
            .notifications(tenant, user, Timestamp::now(), q.before, NOTICES_PAGE)
            .await,
    )?;
    let older = (found.len() as u32 >= NOTICES_PAGE)
        .then(|| found.last().map(|n| n.id))
        .flatten();
    let items = found
        .into_iter()
        .map(|n| {
            let at = c.time(n.created_at);
            (n, at)
        })
        .collect();
    or_page(
        &c,
        state
            .store
            .mark_notifications_read(tenant, user, Timestamp::now())
            .await,
    )?;
    Ok(render(&NotificationsPage { c, items, older }))
}
