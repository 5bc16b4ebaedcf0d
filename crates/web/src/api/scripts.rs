//! Call scripts over the API: written and revised by those who keep the
//! knowledge, read by everyone who works cases, offered on a case.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::ids::{CaseId, ScriptId};
use domain::role::Permission;
use domain::script::{Script, ScriptDraft, Step};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScriptQuery {
    pub include_retired: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ScriptQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let items = state
        .store
        .scripts(auth.tenant.id, q.include_retired.unwrap_or(false))
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}

/// A script as written: its content, and for a new version the version it
/// was written from.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScriptBody {
    pub kind: Option<String>,
    pub name: String,
    pub language: Option<String>,
    #[serde(default)]
    pub case_types: Vec<String>,
    #[serde(default)]
    pub queue_ids: Vec<i64>,
    pub campaign: Option<String>,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub change_note: String,
    pub base_version: Option<i64>,
}

impl ScriptBody {
    pub fn draft(self) -> ScriptDraft {
        ScriptDraft {
            kind: self.kind,
            name: self.name,
            language: self.language,
            case_types: self.case_types,
            queue_ids: self.queue_ids,
            campaign: self.campaign,
            steps: self.steps,
            change_note: self.change_note,
        }
    }
}

/// Checks a new script, or a new version of `id`, and saves it.
pub async fn write_script(
    state: &AppState,
    auth: &Auth,
    id: Option<ScriptId>,
    b: ScriptBody,
) -> Result<Script, ApiError> {
    auth.need(Permission::EditKnowledge)?;
    let base = b.base_version;
    let (content, note) = b.draft().parse().map_err(ApiError::Invalid)?;
    let at = Timestamp::now();
    let id = match id {
        None => {
            state
                .store
                .create_script(auth.actor(), &content, &note, at)
                .await?
        }
        Some(id) => {
            let base = base.ok_or_else(|| {
                ApiError::field(
                    "base_version",
                    "is required: the version this change starts from",
                )
            })?;
            state
                .store
                .revise_script(auth.actor(), id, base, &content, &note, at)
                .await?;
            id
        }
    };
    Ok(state.store.script(auth.tenant.id, id).await?)
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<ScriptBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(write_script(&state, &auth, None, b).await?),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        state.store.script(auth.tenant.id, ScriptId(id)).await?,
    ))
}

pub async fn revise(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<ScriptBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        write_script(&state, &auth, Some(ScriptId(id)), b).await?,
    ))
}

pub async fn set_active(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<super::knowledge::ActiveBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::EditKnowledge)?;
    let id = ScriptId(id);
    state
        .store
        .set_script_active(auth.actor(), id, b.active, Timestamp::now())
        .await?;
    Ok(axum::Json(state.store.script(auth.tenant.id, id).await?))
}

pub async fn versions(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let items = state
        .store
        .script_versions(auth.tenant.id, ScriptId(id))
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}

/// The scripts offered on a case: for its type and queue, and the soothing
/// scripts and complaint FAQ.
pub async fn for_case(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let items = state
        .store
        .scripts_for_case(auth.tenant.id, CaseId(id))
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}
