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
use store::{CatalogEntry, NewUser};

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
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: Option<String>,
    pub team_id: Option<i64>,
    pub department_id: Option<i64>,
}

pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<UserBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let (user, shown) = add_user(&state, &auth, b).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "user": user, "password": shown })),
    ))
}

/// The operator's reach across tenants is handed on by operators only.
const OPERATORS_ONLY: &str = "only an operator may make or change an operator";

/// A new user, and the password made for them when none was given.
pub async fn add_user(
    state: &AppState,
    auth: &Auth,
    b: UserBody,
) -> Result<(domain::model::User, Option<String>), ApiError> {
    let username = domain::user::username(&b.username)?;
    let display_name = text("display_name", &b.display_name, 100)?;
    let role = Role::parse(&b.role)?;
    if role.allows(Permission::ManageTenants) && !auth.user.role.allows(Permission::ManageTenants) {
        return Err(ApiError::field("role", OPERATORS_ONLY));
    }
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
    Ok((user, generated.then_some(pw)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub active: Option<bool>,
    pub password: Option<String>,
    /// The phone extension the PBX knows the user by; empty takes it away.
    pub extension: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub team_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub department_id: Option<Option<i64>>,
}

pub async fn update_user(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<UserPatch>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok(axum::Json(patch_user(&state, &auth, UserId(id), b).await?))
}

/// Applies an administrator's change to a user, and tells the router of
/// one that changes who takes routed work.
pub async fn patch_user(
    state: &AppState,
    auth: &Auth,
    id: UserId,
    b: UserPatch,
) -> Result<domain::model::User, ApiError> {
    let now = Timestamp::now();
    let tenant = auth.tenant.id;
    let current = state.store.user(tenant, id).await?;
    let change = store::UserChange {
        display_name: b
            .display_name
            .as_deref()
            .map(|n| text("display_name", n, 100))
            .transpose()?,
        role: b.role.as_deref().map(Role::parse).transpose()?,
        team_id: b.team_id.map(|t| t.map(TeamId)),
        department_id: b.department_id.map(|d| d.map(DepartmentId)),
    };
    let operator = |r: Role| r.allows(Permission::ManageTenants);
    if (operator(current.role) || change.role.is_some_and(operator))
        && !auth.user.role.allows(Permission::ManageTenants)
    {
        return Err(ApiError::field("role", OPERATORS_ONLY));
    }
    if change.role.is_some_and(|r| r != current.role) && id == auth.user.id {
        return Err(ApiError::field(
            "role",
            "you cannot give up your own administration",
        ));
    }
    if b.active == Some(false) && id == auth.user.id {
        return Err(ApiError::field("active", "you cannot deactivate yourself"));
    }
    // Everything is checked before anything is written, so a refused
    // change leaves the user as they were.
    if let Some(Some(t)) = change.team_id
        && !state.store.teams(tenant).await?.iter().any(|x| x.id == t)
    {
        return Err(ApiError::field("team_id", "does not exist"));
    }
    if let Some(Some(d)) = change.department_id
        && !state
            .store
            .departments(tenant)
            .await?
            .iter()
            .any(|x| x.id == d)
    {
        return Err(ApiError::field("department_id", "does not exist"));
    }
    let ext = b.extension.as_deref().map(extension).transpose()?;
    if let Some(Some(x)) = &ext
        && state
            .store
            .users(tenant)
            .await?
            .iter()
            .any(|u| u.id != id && u.extension.as_ref() == Some(x))
    {
        return Err(ApiError::Conflict("another user has this extension".into()));
    }
    let hash = match &b.password {
        Some(p) => Some(auth::hash_password_blocking(domain::user::password(p)?).await?),
        None => None,
    };
    // Out of routing first, while the router still knows them.
    let leaves = change
        .role
        .is_some_and(|r| !r.allows(Permission::WorkCases));
    if b.active == Some(false) || leaves {
        match state
            .acd
            .set_presence(tenant, id, domain::routing::Presence::Offline)
            .await
        {
            Ok(()) | Err(crate::acd::AcdError::Store(store::StoreError::NotFound)) => {}
            Err(crate::acd::AcdError::Store(store::StoreError::Invalid(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(x) = ext.as_ref().filter(|x| **x != current.extension) {
        state
            .store
            .set_extension(auth.actor(), id, x.as_deref(), now)
            .await?;
    }
    state
        .store
        .change_user(auth.actor(), id, &change, now)
        .await?;
    if change.team_id.is_some()
        && let Ok(a) = state.store.routing_agent(tenant, id).await
    {
        state.acd.agent_saved(tenant, a.spec()).await?;
    }
    if let Some(hash) = &hash {
        state
            .store
            .set_password(auth.actor(), id, hash, now)
            .await?;
    }
    if let Some(active) = b.active.filter(|a| *a != current.active) {
        state
            .store
            .set_user_active(auth.actor(), id, active, now)
            .await?;
    }
    Ok(state.store.user(tenant, id).await?)
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
    pub name: String,
    pub leader_id: Option<i64>,
}

pub async fn create_team(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<TeamBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(add_team(&state, &auth, b).await?),
    ))
}

pub async fn add_team(
    state: &AppState,
    auth: &Auth,
    b: TeamBody,
) -> Result<domain::model::Team, ApiError> {
    let name = text("name", &b.name, 100)?;
    Ok(state
        .store
        .create_team(
            auth.actor(),
            &name,
            b.leader_id.map(UserId),
            Timestamp::now(),
        )
        .await?)
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
    pub name: String,
    pub interface_user_id: Option<i64>,
    pub default_deadline_hours: Option<i64>,
}

pub async fn create_department(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<DepartmentBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(add_department(&state, &auth, b).await?),
    ))
}

pub async fn add_department(
    state: &AppState,
    auth: &Auth,
    b: DepartmentBody,
) -> Result<domain::model::Department, ApiError> {
    let name = text("name", &b.name, 100)?;
    let hours = deadline_hours(b.default_deadline_hours.unwrap_or(48))?;
    Ok(state
        .store
        .create_department(
            auth.actor(),
            &name,
            b.interface_user_id.map(UserId),
            hours,
            Timestamp::now(),
        )
        .await?)
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
    pub name: String,
    pub parent_id: Option<i64>,
}

pub async fn create_category(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<CategoryBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(add_category(&state, &auth, b).await?),
    ))
}

pub async fn add_category(
    state: &AppState,
    auth: &Auth,
    b: CategoryBody,
) -> Result<domain::model::Category, ApiError> {
    let name = text("name", &b.name, 100)?;
    Ok(state
        .store
        .create_category(
            auth.actor(),
            b.parent_id.map(CategoryId),
            &name,
            Timestamp::now(),
        )
        .await?)
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
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

pub async fn create_custom_field(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<CustomFieldBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(add_custom_field(&state, &auth, b).await?),
    ))
}

pub async fn add_custom_field(
    state: &AppState,
    auth: &Auth,
    b: CustomFieldBody,
) -> Result<CustomFieldDef, ApiError> {
    let key = text("key", &b.key, 40)?;
    if !key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ApiError::field("key", "may contain only a-z, 0-9 and _"));
    }
    let def = CustomFieldDef {
        active: true,
        id: 0,
        key,
        label: text("label", &b.label, 100)?,
        kind: b.kind,
        options: field_options(b.kind, b.options)?,
        required: b.required,
    };
    Ok(state
        .store
        .create_custom_field(auth.actor(), &def, Timestamp::now())
        .await?)
}

/// A department's default handling time, in hours: up to 90 days.
fn deadline_hours(h: i64) -> Result<i64, ApiError> {
    match (1..=24 * 90).contains(&h) {
        true => Ok(h),
        false => Err(ApiError::field(
            "default_deadline_hours",
            "must be between 1 and 2160",
        )),
    }
}

/// The choices of a select field: each named once, none empty.
fn field_options(kind: FieldKind, options: Vec<String>) -> Result<Vec<String>, ApiError> {
    if kind != FieldKind::Select {
        return match options.is_empty() {
            true => Ok(options),
            false => Err(ApiError::field(
                "options",
                "only a select field has options",
            )),
        };
    }
    if options.is_empty() {
        return Err(ApiError::field("options", "a select field needs options"));
    }
    if options.len() > 100 {
        return Err(ApiError::field("options", "at most 100 options"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, o) in options.iter().enumerate() {
        let o = text(&format!("options[{i}]"), o, 100)?;
        if out.contains(&o) {
            return Err(ApiError::field(&format!("options[{i}]"), "named twice"));
        }
        out.push(o);
    }
    Ok(out)
}

/// A change to a team, department, category or custom field. A custom
/// field is known by its label, the others by their name.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CatalogPatch {
    pub name: Option<String>,
    pub label: Option<String>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub leader_id: Option<Option<i64>>,
    pub default_deadline_hours: Option<i64>,
    #[serde(default, deserialize_with = "crate::input::double_option")]
    pub interface_user_id: Option<Option<i64>>,
    pub required: Option<bool>,
    pub options: Option<Vec<String>>,
}

pub async fn update_team(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<CatalogPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let entry = CatalogEntry::Team(TeamId(id));
    Ok(axum::Json(change_entry(&state, &auth, entry, b).await?))
}

pub async fn update_department(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<CatalogPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let entry = CatalogEntry::Department(DepartmentId(id));
    Ok(axum::Json(change_entry(&state, &auth, entry, b).await?))
}

pub async fn update_category(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<CatalogPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let entry = CatalogEntry::Category(CategoryId(id));
    Ok(axum::Json(change_entry(&state, &auth, entry, b).await?))
}

pub async fn update_custom_field(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<CatalogPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let entry = CatalogEntry::CustomField(id);
    Ok(axum::Json(change_entry(&state, &auth, entry, b).await?))
}

/// Checks and applies a catalogue change; answers the entry as it now is.
pub async fn change_entry(
    state: &AppState,
    auth: &Auth,
    entry: CatalogEntry,
    b: CatalogPatch,
) -> Result<serde_json::Value, ApiError> {
    auth.need(Permission::Administer)?;
    let tenant = auth.tenant.id;
    let field = match entry {
        CatalogEntry::CustomField(id) => Some(
            state
                .store
                .custom_fields(tenant)
                .await?
                .into_iter()
                .find(|f| f.id == id)
                .ok_or(ApiError::NotFound)?,
        ),
        _ => None,
    };
    let name = match (&field, b.name, b.label) {
        (Some(_), Some(_), _) => return Err(ApiError::field("name", "a custom field has a label")),
        (None, _, Some(_)) => {
            return Err(ApiError::field("label", "only a custom field has a label"));
        }
        (Some(_), None, l) => l.map(|l| text("label", &l, 100)).transpose()?,
        (None, n, None) => n.map(|n| text("name", &n, 100)).transpose()?,
    };
    let options = match (&field, b.options) {
        (Some(f), Some(o)) => Some(field_options(f.kind, o)?),
        (_, o) => o,
    };
    let change = store::CatalogChange {
        name,
        active: b.active,
        leader_id: b.leader_id.map(|u| u.map(UserId)),
        default_deadline_hours: b.default_deadline_hours.map(deadline_hours).transpose()?,
        interface_user_id: b.interface_user_id.map(|u| u.map(UserId)),
        required: b.required,
        options,
    };
    let s = &state.store;
    s.change_catalog(auth.actor(), entry, &change, Timestamp::now())
        .await?;
    let found = match entry {
        CatalogEntry::Team(id) => json_of(s.teams(tenant).await?, |x| x.id == id),
        CatalogEntry::Department(id) => json_of(s.departments(tenant).await?, |x| x.id == id),
        CatalogEntry::Category(id) => json_of(s.categories(tenant).await?, |x| x.id == id),
        CatalogEntry::CustomField(id) => json_of(s.custom_fields(tenant).await?, |x| x.id == id),
    };
    found.ok_or(ApiError::NotFound)
}

fn json_of<T: serde::Serialize>(
    items: Vec<T>,
    pick: impl Fn(&T) -> bool,
) -> Option<serde_json::Value> {
    items
        .into_iter()
        .find(pick)
        .and_then(|x| serde_json::to_value(x).ok())
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
