//! Users, teams, departments, categories, custom fields, reports and the audit log.

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::input::instant;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::contact::text;
use domain::ids::*;
use domain::model::{CustomFieldDef, FieldKind};
use domain::role::{Permission, Role};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use store::NewUser;

pub async fn users(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok(axum::Json(
        json!({ "items": state.store.users(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    username: String,
    display_name: String,
    role: String,
    password: Option<String>,
    team_id: Option<i64>,
    department_id: Option<i64>,
}

pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<UserBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let username = domain::user::username(&b.username)?;
    let display_name = text("display_name", &b.display_name, 100)?;
    let role = Role::parse(&b.role)?;
    let (pw, generated) = match &b.password {
        Some(p) => (domain::user::password(p)?, false),
        None => (auth::random_password(), true),
    };
    let new = NewUser {
        username,
        display_name,
        password_hash: auth::hash_password_blocking(pw.clone()).await?,
        role,
        team_id: b.team_id.map(TeamId),
        department_id: b.department_id.map(DepartmentId),
    };
    let user = state
        .store
        .create_user(auth.actor(), &new, Timestamp::now())
        .await?;
    let shown = generated.then_some(pw);
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "user": user, "password": shown })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    active: Option<bool>,
    password: Option<String>,
    /// The phone extension the PBX knows the user by; empty takes it away.
    extension: Option<String>,
}

pub async fn update_user(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<UserPatch>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let now = Timestamp::now();
    let id = UserId(id);
    state.store.user(auth.tenant.id, id).await?;
    if let Some(p) = &b.password {
        let hash = auth::hash_password_blocking(domain::user::password(p)?).await?;
        state
            .store
            .set_password(auth.actor(), id, &hash, now)
            .await?;
    }
    if let Some(active) = b.active {
        if !active && id == auth.user.id {
            return Err(ApiError::field("active", "you cannot deactivate yourself"));
        }
        state
            .store
            .set_user_active(auth.actor(), id, active, now)
            .await?;
    }
    if let Some(x) = &b.extension {
        let x = extension(x)?;
        state
            .store
            .set_extension(auth.actor(), id, x.as_deref(), now)
            .await?;
    }
    Ok(axum::Json(state.store.user(auth.tenant.id, id).await?))
}

/// A phone extension as the PBX names it; empty is none.
pub fn extension(x: &str) -> Result<Option<String>, ApiError> {
    let x = x.trim();
    if x.len() > 32
        || !x
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "*#-_".contains(c))
    {
        return Err(ApiError::field(
            "extension",
            "must be at most 32 digits or letters",
        ));
    }
    Ok((!x.is_empty()).then(|| x.to_string()))
}

pub async fn teams(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        json!({ "items": state.store.teams(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    name: String,
    leader_id: Option<i64>,
}

pub async fn create_team(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<TeamBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let name = text("name", &b.name, 100)?;
    let team = state
        .store
        .create_team(
            auth.actor(),
            &name,
            b.leader_id.map(UserId),
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(team)))
}

pub async fn departments(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadTasks)?;
    Ok(axum::Json(
        json!({ "items": state.store.departments(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentBody {
    name: String,
    interface_user_id: Option<i64>,
    default_deadline_hours: Option<i64>,
}

pub async fn create_department(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<DepartmentBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let name = text("name", &b.name, 100)?;
    let hours = b.default_deadline_hours.unwrap_or(48);
    if !(1..=24 * 90).contains(&hours) {
        return Err(ApiError::field(
            "default_deadline_hours",
            "must be between 1 and 2160",
        ));
    }
    let d = state
        .store
        .create_department(
            auth.actor(),
            &name,
            b.interface_user_id.map(UserId),
            hours,
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(d)))
}

pub async fn categories(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        json!({ "items": state.store.categories(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    name: String,
    parent_id: Option<i64>,
}

pub async fn create_category(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<CategoryBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let name = text("name", &b.name, 100)?;
    let c = state
        .store
        .create_category(
            auth.actor(),
            b.parent_id.map(CategoryId),
            &name,
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(c)))
}

pub async fn custom_fields(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        json!({ "items": state.store.custom_fields(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldBody {
    key: String,
    label: String,
    kind: FieldKind,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    required: bool,
}

pub async fn create_custom_field(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<CustomFieldBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let key = text("key", &b.key, 40)?;
    if !key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ApiError::field("key", "may contain only a-z, 0-9 and _"));
    }
    if b.kind == FieldKind::Select && b.options.is_empty() {
        return Err(ApiError::field("options", "a select field needs options"));
    }
    let def = CustomFieldDef {
        id: 0,
        key,
        label: text("label", &b.label, 100)?,
        kind: b.kind,
        options: b.options,
        required: b.required,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .store
                .create_custom_field(auth.actor(), &def, Timestamp::now())
                .await?,
        ),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<RangeQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ViewReports)?;
    let now = Timestamp::now();
    let (from, to) = range(&auth, &q, now)?;
    Ok(axum::Json(
        state.store.summary(auth.tenant.id, from, to, now).await?,
    ))
}

/// The report period: the last 30 days unless given.
pub fn range(
    auth: &Auth,
    q: &RangeQuery,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(t) => instant("to", t, &auth.tenant)?,
        None => now,
    };
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(f) => instant("from", f, &auth.tenant)?,
        None => to
            .checked_sub(SignedDuration::from_hours(24 * 30))
            .unwrap_or(to),
    };
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    Ok((from, to))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn audit(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ViewAudit)?;
    let limit = super::limit(q.limit);
    let items = state
        .store
        .audit_log(auth.tenant.id, super::cursor(&q.cursor)?, limit)
        .await?;
    Ok(axum::Json(super::Page::new(items, limit, |a| a.id)))
}
