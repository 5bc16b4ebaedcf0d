//! The e-mail channel over the API: receiving addresses, mail settings,
//! templates, agents' replies, the mail logs and notifications.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::input::{AttachmentBody, Errors, attachments, emails};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use domain::FieldError;
use domain::case::{CaseAction, CaseType};
use domain::ids::*;
use domain::mail::ClosedReply;
use domain::role::Permission;
use domain::template::{TemplateKind, parse_language};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use store::{MailAddressInput, ReplyInput, TemplateInput};

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub template_id: Option<i64>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// A workflow action taken with the reply, e.g. `wait_for_customer`.
    pub then: Option<String>,
}

impl ReplyBody {
    pub fn parse(&self) -> Result<ReplyInput, ApiError> {
        let mut e = Errors::default();
        let to = emails("to", &self.to, &mut e);
        let cc = emails("cc", &self.cc, &mut e);
        let bcc = emails("bcc", &self.bcc, &mut e);
        if to.len() + cc.len() + bcc.len() > 50 {
            e.push(FieldError::new("to", "at most 50 recipients in all"));
        }
        let subject = self
            .subject
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.chars().count() > 200 {
                    e.push(FieldError::new("subject", "is longer than 200 characters"));
                }
                s.replace(['\r', '\n'], " ")
            });
        let body = self.body.clone().unwrap_or_default();
        if body.trim().is_empty() && self.template_id.is_none() {
            e.push(FieldError::new("body", "is required (or a template_id)"));
        }
        if body.len() > 1 << 20 {
            e.push(FieldError::new("body", "is longer than 1 MB"));
        }
        let then = self
            .then
            .as_deref()
            .filter(|t| !t.is_empty())
            .and_then(|t| e.take(CaseAction::parse(t).map_err(|x| x.at("then"))));
        let files = attachments(&self.attachments, &mut e);
        e.finish(|| ReplyInput {
            to,
            cc,
            bcc,
            subject,
            body,
            template_id: self.template_id,
            attachments: files,
            then,
        })
    }
}

pub async fn reply(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<ReplyBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let input = body.parse()?;
    let queued = state
        .store
        .queue_reply(auth.actor(), CaseId(id), &input, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(queued)))
}

/// The mail a case sent, with its delivery state.
pub async fn case_mail(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    state.store.case(auth.tenant.id, CaseId(id)).await?;
    let items = state
        .store
        .outbox(auth.tenant.id, Some(CaseId(id)), 200)
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}

pub async fn render_template(
    State(state): State<AppState>,
    auth: Auth,
    Path((case, template)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let (Ok(case), Ok(template)) = (case.parse(), template.parse()) else {
        return Err(ApiError::NotFound);
    };
    let (subject, body) = state
        .store
        .render_template(
            auth.tenant.id,
            CaseId(case),
            template,
            Some(&auth.user.display_name),
        )
        .await?;
    Ok(axum::Json(json!({ "subject": subject, "body": body })))
}

pub async fn templates(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let items = state.store.templates(auth.tenant.id).await?;
    Ok(axum::Json(json!({ "items": items })))
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub kind: String,
    pub name: Option<String>,
    pub address_id: Option<i64>,
    pub language: String,
    pub subject: String,
    pub body: String,
}

impl TemplateBody {
    pub fn parse(&self) -> Result<TemplateInput, ApiError> {
        let mut e = Errors::default();
        let kind = e.take(TemplateKind::parse(&self.kind));
        let language = e.take(parse_language(&self.language));
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        let name = match kind {
            Some(TemplateKind::Ack) => "ack".to_string(),
            _ if name.is_empty() => {
                e.push(FieldError::new("name", "is required for a reply template"));
                String::new()
            }
            _ => name.chars().take(100).collect(),
        };
        if kind == Some(TemplateKind::Reply) && self.address_id.is_some() {
            e.push(FieldError::new(
                "address_id",
                "only an acknowledgement belongs to an address",
            ));
        }
        e.take(domain::template::check("subject", &self.subject));
        e.take(domain::template::check("body", &self.body));
        if self.body.trim().is_empty() {
            e.push(FieldError::new("body", "is required"));
        }
        e.finish(|| TemplateInput {
            kind: kind.unwrap_or(TemplateKind::Reply),
            name,
            address_id: self.address_id,
            language: language.unwrap_or_default(),
            subject: self.subject.replace(['\r', '\n'], " "),
            body: self.body.clone(),
        })
    }
}

pub async fn save_template(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<TemplateBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let input = body.parse()?;
    let t = state
        .store
        .save_template(auth.actor(), &input, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(t)))
}

pub async fn mail_addresses(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let items = state.store.mail_addresses(auth.tenant.id).await?;
    Ok(axum::Json(json!({ "items": items })))
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub address: String,
    pub display_name: String,
    pub case_type: Option<String>,
    pub category_id: Option<i64>,
    pub team_id: Option<i64>,
    pub region: Option<String>,
    pub reply_hours: Option<i64>,
    pub vip_reply_hours: Option<i64>,
    pub language: Option<String>,
}

impl AddressBody {
    pub fn parse(&self) -> Result<MailAddressInput, ApiError> {
        let mut e = Errors::default();
        let address = e.take(domain::mail::parse_address(&self.address));
        let display_name = e.take(domain::contact::text(
            "display_name",
            &self.display_name,
            100,
        ));
        let case_type = match &self.case_type {
            Some(t) => e.take(CaseType::parse(t)),
            None => Some(CaseType::Inquiry),
        };
        let hours = |field: &str, v: Option<i64>, default: i64, e: &mut Errors| {
            let h = v.unwrap_or(default);
            if !(1..=24 * 30).contains(&h) {
                e.push(FieldError::new(field, "must be between 1 and 720 hours"));
            }
            h
        };
        let reply_hours = hours("reply_hours", self.reply_hours, 24, &mut e);
        let vip_reply_hours = hours("vip_reply_hours", self.vip_reply_hours, 4, &mut e);
        let language = match &self.language {
            Some(l) => e.take(parse_language(l)),
            None => Some("zh-CN".to_string()),
        };
        e.finish(|| ())?;
        let address = address.ok_or_else(|| ApiError::field("address", "is required"))?;
        Ok(MailAddressInput {
            address,
            display_name: display_name.unwrap_or_default(),
            case_type: case_type.unwrap_or(CaseType::Inquiry),
            category_id: self.category_id.map(CategoryId),
            team_id: self.team_id.map(TeamId),
            region: self
                .region
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from),
            reply_hours,
            vip_reply_hours,
            language: language.unwrap_or_default(),
        })
    }
}

pub async fn create_mail_address(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<AddressBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let input = body.parse()?;
    let a = state
        .store
        .create_mail_address(auth.actor(), &input, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(a)))
}

pub async fn settings(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let (closed_reply, faq_url) = state.store.mail_settings(auth.tenant.id).await?;
    Ok(axum::Json(
        json!({ "closed_reply": closed_reply, "faq_url": faq_url }),
    ))
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    pub closed_reply: Option<String>,
    /// An empty string removes the link.
    pub faq_url: Option<String>,
}

pub async fn update_settings(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<SettingsBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let mut e = Errors::default();
    let closed = body
        .closed_reply
        .as_deref()
        .and_then(|c| e.take(ClosedReply::parse(c)));
    let faq = body
        .faq_url
        .as_deref()
        .and_then(|u| e.take(domain::mail::parse_link("faq_url", u)));
    e.finish(|| ())?;
    let now = Timestamp::now();
    if let Some(c) = closed {
        state.store.set_closed_reply(auth.actor(), c, now).await?;
    }
    if let Some(u) = faq {
        state
            .store
            .set_faq_url(auth.actor(), u.as_deref(), now)
            .await?;
    }
    settings(State(state), auth).await
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    pub limit: Option<u32>,
}

pub async fn inbound(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<LogQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ViewMailLog)?;
    let items = state
        .store
        .mail_log(auth.tenant.id, i64::from(super::limit(q.limit)))
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}

pub async fn outbound(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<LogQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ViewMailLog)?;
    let items = state
        .store
        .outbox(auth.tenant.id, None, i64::from(super::limit(q.limit)))
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}

/// The message exactly as it went (or goes) to the relay.
pub async fn outbound_source(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ViewMailLog)?;
    let raw = state.store.outbound_source(auth.tenant.id, id).await?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], raw))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

pub async fn notifications(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let limit = super::limit(q.limit);
    let before = super::cursor(&q.cursor)?;
    let items = state
        .store
        .notifications(
            auth.tenant.id,
            auth.user.id,
            Timestamp::now(),
            before,
            limit,
        )
        .await?;
    Ok(axum::Json(super::Page::new(items, limit, |n| n.id)))
}

pub async fn read_notifications(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    state
        .store
        .mark_notifications_read(auth.tenant.id, auth.user.id, Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
