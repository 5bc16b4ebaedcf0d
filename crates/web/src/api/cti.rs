//! The CTI event API: the center's PBX reports its calls here with the
//! tenant's token, and the agent's browser pops the caller's record.

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::input::{Errors, region};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use domain::FieldError;
use domain::call::{CallDirection, CallEvent, CallResult, CallState, RecordingFile};
use domain::case::{CaseNumber, CaseType};
use domain::contact::{PhoneNumber, text};
use domain::ids::{CallId, CaseId, CategoryId, CustomerId, TenantId, UserId};
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use store::{AgentRef, CallReport, WrapUp};

/// A call's news for the browsers of the agent who has it (and supervisors).
#[derive(Debug, Clone)]
pub struct CallNote {
    pub tenant: TenantId,
    pub agent: Option<UserId>,
    pub call: CallId,
    pub state: CallState,
}

/// Tells the browsers of the call's agent (and supervisors) that it changed;
/// nobody listening is no error.
fn announce(state: &AppState, tenant: TenantId, call: &store::Call) {
    let _ = state.calls.send(CallNote {
        tenant,
        agent: call.agent_id,
        call: call.id,
        state: call.state,
    });
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CallEventBody {
    pub event: Option<String>,
    pub call_id: Option<String>,
    pub direction: Option<String>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub queue: Option<String>,
    pub extension: Option<String>,
    pub user: Option<String>,
    pub cause: Option<String>,
    pub recording_url: Option<String>,
    /// Seconds talked, with a hang-up: a number, or its digits as text (a
    /// dialplan's variable inside quotes).
    pub duration: Option<serde_json::Value>,
    pub case_number: Option<String>,
    /// When it happened (RFC 3339); now when left out.
    pub at: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl CallEventBody {
    fn parse(&self, tenant: &domain::model::Tenant) -> Result<CallReport, ApiError> {
        let mut e = Errors::default();
        let event = e.take(CallEvent::parse(nonempty(&self.event).unwrap_or("")));
        let call_ref = e.take(text("call_id", nonempty(&self.call_id).unwrap_or(""), 200));
        let direction = nonempty(&self.direction).and_then(|d| e.take(CallDirection::parse(d)));
        let mut short = |f: &str, v: &Option<String>, max: usize| {
            nonempty(v).and_then(|s| e.take(text(f, s, max)))
        };
        let caller = short("caller", &self.caller, 100);
        let callee = short("callee", &self.callee, 100);
        let queue = short("queue", &self.queue, 100);
        let cause = short("cause", &self.cause, 100);
        let recording = short("recording_url", &self.recording_url, 2000);
        if let Some(r) = &recording
            && !(r.starts_with("https://") || r.starts_with("http://"))
        {
            e.push(FieldError::new("recording_url", "must be an http(s) URL"));
        }
        let talk_secs = match self.duration.as_ref().filter(|v| !v.is_null()) {
            None => None,
            Some(v) => {
                let secs = v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .filter(|s| (0..=domain::call::TALK_MAX_SECS).contains(s));
                if secs.is_none() {
                    e.push(FieldError::new(
                        "duration",
                        "must be the whole seconds talked, from 0 to 86400",
                    ));
                } else if event != Some(CallEvent::Hangup) {
                    e.push(FieldError::new(
                        "duration",
                        "is reported with a hang-up only",
                    ));
                }
                secs
            }
        };
        let case_number = nonempty(&self.case_number)
            .and_then(|n| e.take(CaseNumber::parse(n).map_err(|x| x.at("case_number"))));
        let at = match nonempty(&self.at) {
            Some(s) => e.take(s.parse::<Timestamp>().map_err(|_| {
                FieldError::new("at", "must be a time such as 2026-03-01T08:30:00+08:00")
            })),
            None => Some(Timestamp::now()),
        };
        let agent = match (nonempty(&self.extension), nonempty(&self.user)) {
            (Some(x), _) => Some(AgentRef::Extension(x.to_string())),
            (None, Some(u)) => Some(AgentRef::Username(u.to_string())),
            (None, None) => None,
        };
        // The customer's side: who called in, or whom the agent called.
        let side = match direction {
            Some(CallDirection::Outbound) => &callee,
            _ => &caller,
        };
        let number = side
            .as_deref()
            .and_then(|n| PhoneNumber::parse(n, region(tenant)).ok());
        // Stored to the millisecond: answer with what is kept.
        let at = at.and_then(|t| Timestamp::from_millisecond(t.as_millisecond()).ok());
        let parsed = e.finish(|| (event, call_ref, at))?;
        match parsed {
            (Some(event), Some(call_ref), Some(at)) => Ok(CallReport {
                event,
                call_ref,
                direction,
                caller,
                callee,
                number,
                queue,
                agent,
                cause,
                recording,
                talk_secs,
                case_number,
                at,
            }),
            _ => Err(ApiError::BadRequest("invalid call event".into())),
        }
    }
}

/// The tenant whose PBX sent this: its token, as a bearer token.
async fn pbx_tenant(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<domain::model::Tenant, ApiError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    let id = state
        .store
        .cti_tenant(&auth::token_hash(token))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(state.store.tenant(id).await?)
}

pub async fn event(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<CallEventBody>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = pbx_tenant(&state, &headers).await?;
    let report = b.parse(&tenant)?;
    let out = state.store.call_event(&tenant, &report).await?;
    if out.changed {
        // The call is stored and the PBX answered; the router catching up
        // late is logged, not refused (it reads the calls again on restart).
        if let Err(e) = state.acd.calls_changed(tenant.id).await {
            tracing::warn!(error = %e, "router not told of a call");
        }
        announce(&state, tenant.id, &out.call);
    }
    Ok(axum::Json(out))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecordingQuery {
    pub filename: Option<String>,
}

/// A recording the PBX sends as a file (the call named by the PBX's own id),
/// rather than as a URL in a `recording` event.
pub async fn recording_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(call_ref): Path<String>,
    Query(q): Query<RecordingQuery>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = pbx_tenant(&state, &headers).await?;
    let kind = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let f = RecordingFile::parse(&call_ref, kind, q.filename.as_deref(), body.len())?;
    let file = domain::model::AttachmentInput::new(f.filename, f.content_type, body.to_vec());
    let call = state
        .store
        .call_recording_file(tenant.id, &call_ref, &file)
        .await?;
    announce(&state, tenant.id, &call);
    Ok(axum::Json(call))
}

pub async fn recording(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let (meta, data) = state
        .store
        .call_recording(auth.tenant.id, CallId(id))
        .await?;
    Ok(super::knowledge::download(meta, data))
}

/// A new token for the tenant's PBX, shown once.
pub async fn new_token(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let token = auth::random_hex(32);
    state
        .store
        .set_cti_token(auth.actor(), &auth::token_hash(&token), Timestamp::now())
        .await?;
    Ok(axum::Json(json!({ "token": token })))
}

pub async fn call(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    Ok(axum::Json(
        state.store.call(auth.tenant.id, CallId(id)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRef {
    pub case_id: CaseId,
}

pub async fn attach(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<CaseRef>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    Ok(axum::Json(
        state
            .store
            .attach_call(auth.actor(), CallId(id), b.case_id, Timestamp::now())
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRef {
    pub customer_id: CustomerId,
}

pub async fn customer(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<CustomerRef>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    Ok(axum::Json(
        state
            .store
            .call_customer(auth.actor(), CallId(id), b.customer_id)
            .await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WrapUpBody {
    pub category_id: Option<CategoryId>,
    #[serde(rename = "type")]
    pub case_type: Option<String>,
    pub result: Option<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub follow_up: bool,
}

impl WrapUpBody {
    pub fn parse(&self) -> Result<WrapUp, ApiError> {
        let mut e = Errors::default();
        let case_type = nonempty(&self.case_type).and_then(|t| e.take(CaseType::parse(t)));
        let result = e.take(CallResult::parse(nonempty(&self.result).unwrap_or("")));
        if self.notes.chars().count() > 10_000 {
            e.push(FieldError::new("notes", "must be at most 10000 characters"));
        }
        let result = e.finish(|| result)?;
        Ok(WrapUp {
            category_id: self.category_id,
            case_type,
            result: result.ok_or_else(|| ApiError::BadRequest("invalid wrap-up".into()))?,
            notes: self.notes.clone(),
            follow_up: self.follow_up,
        })
    }
}

pub async fn wrap_up(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<WrapUpBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let w = b.parse()?;
    Ok(axum::Json(
        state
            .store
            .wrap_up_call(auth.actor(), &auth.tenant, CallId(id), &w, Timestamp::now())
            .await?,
    ))
}
