//! Administration in the browser: a start page that gathers every setting,
//! users and their roles, teams, departments, categories, custom fields,
//! and the audit log. Each form goes through the API's own validation.

#![allow(clippy::result_large_err)]

use super::pages::{Page, category_label, or_page};
use super::sla::{FormPairs, back};
use super::{Chrome, UiAuth, name_by, render};
use crate::AppState;
use crate::api::admin::{
    CatalogPatch, CategoryBody, CustomFieldBody, DepartmentBody, TeamBody, UserBody, UserPatch,
    add_category, add_custom_field, add_department, add_team, add_user, change_entry, patch_user,
};
use crate::error::ApiError;
use crate::extract::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use domain::ids::*;
use domain::model::{AuditEntry, Category, CustomFieldDef, Department, Team, User};
use domain::role::{Permission, Role};
use serde::Deserialize;
use store::CatalogEntry;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    c: Chrome,
}

pub async fn home(ui: UiAuth, Query(q): Query<NoticeQuery>) -> Page {
    let c = Chrome::new(&ui, "admin").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    Ok(render(&AdminPage { c }))
}

#[derive(Template)]
#[template(path = "admin_roles.html")]
struct RolesPage {
    c: Chrome,
    /// Each role this administrator may hand out, with its active users.
    roles: Vec<(Role, usize)>,
    permissions: &'static [Permission],
}

/// Roles are built in: the page shows what each may do and who holds it,
/// so an administrator picks the right one on the user form.
pub async fn roles(State(state): State<AppState>, ui: UiAuth) -> Page {
    let c = Chrome::new(&ui, "admin");
    or_page(&c, ui.0.need(Permission::Administer))?;
    let users = or_page(&c, state.store.users(ui.0.tenant.id).await)?;
    let roles = assignable(&ui.0)
        .into_iter()
        .map(|r| (r, users.iter().filter(|u| u.active && u.role == r).count()))
        .collect();
    Ok(render(&RolesPage {
        c,
        roles,
        permissions: &Permission::ALL,
    }))
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    error: Option<String>,
    /// A password made for a new user, shown once.
    password: Option<String>,
    user: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<User>,
    teams: Vec<Team>,
    departments: Vec<Department>,
    roles: Vec<Role>,
    made: Option<(String, String)>,
}

impl UsersPage {
    fn team_name(&self, id: &Option<TeamId>) -> String {
        name_by(&self.teams, |x| Some(x.id) == *id, |x| &x.name)
    }
    fn department_name(&self, id: &Option<DepartmentId>) -> String {
        name_by(&self.departments, |x| Some(x.id) == *id, |x| &x.name)
    }
}

pub async fn users(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<NoticeQuery>,
) -> Page {
    let c = Chrome::new(&ui, "admin").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let t = ui.0.tenant.id;
    Ok(render(&UsersPage {
        users: or_page(&c, state.store.users(t).await)?,
        teams: or_page(&c, state.store.teams(t).await)?,
        departments: or_page(&c, state.store.departments(t).await)?,
        roles: assignable(&ui.0),
        made: q.user.zip(q.password),
        c,
    }))
}

pub async fn add_user_form(
    State(state): State<AppState>,
    ui: UiAuth,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let password = Some(f.one("password")).filter(|p| !p.is_empty());
        let b = UserBody {
            username: f.one("username"),
            display_name: f.one("display_name"),
            role: f.one("role"),
            password,
            team_id: f.id("team_id")?,
            department_id: f.id("department_id")?,
        };
        add_user(&state, &ui.0, b).await
    }
    .await;
    Ok(match r {
        // A password the server made is shown once, to be handed over.
        Ok((u, Some(pw))) => axum::response::Redirect::to(&format!(
            "/admin/users?user={}&password={}",
            super::encode(&u.username),
            super::encode(&pw)
        ))
        .into_response(),
        Ok((_, None)) => back("/admin/users", Ok(())),
        Err(e) => back("/admin/users", Err(e)),
    })
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    c: Chrome,
    u: User,
    teams: Vec<Team>,
    departments: Vec<Department>,
    roles: Vec<Role>,
}

pub async fn user(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Page {
    let c = Chrome::new(&ui, "admin").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let t = ui.0.tenant.id;
    Ok(render(&UserPage {
        u: or_page(&c, state.store.user(t, UserId(id)).await)?,
        teams: or_page(&c, state.store.teams(t).await)?,
        departments: or_page(&c, state.store.departments(t).await)?,
        roles: assignable(&ui.0),
        c,
    }))
}

pub async fn save_user(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let p = UserPatch {
            display_name: Some(f.one("display_name")),
            role: Some(f.one("role")),
            team_id: Some(f.id("team_id")?),
            department_id: Some(f.id("department_id")?),
            extension: Some(f.one("extension")),
            active: Some(!f.one("active").is_empty()),
            password: Some(f.one("password")).filter(|p| !p.is_empty()),
        };
        patch_user(&state, &ui.0, UserId(id), p).await?;
        Ok(())
    }
    .await;
    Ok(match r {
        Ok(()) => back("/admin/users", Ok(())),
        Err(e) => back(&format!("/admin/users/{id}"), Err(e)),
    })
}

/// The roles the signed-in administrator may hand out: the operator's
/// reach across tenants only from an operator.
fn assignable(a: &crate::auth::Auth) -> Vec<Role> {
    let operator = a.user.role.allows(Permission::ManageTenants);
    Role::ALL
        .iter()
        .copied()
        .filter(|r| operator || !r.allows(Permission::ManageTenants))
        .collect()
}

#[derive(Template)]
#[template(path = "admin_catalog.html")]
struct CatalogPage {
    c: Chrome,
    teams: Vec<Team>,
    departments: Vec<Department>,
    /// The live categories, offered as parents.
    categories: Vec<(i64, String)>,
    /// Every category: id, "Parent / Child", own name, in use.
    category_rows: Vec<(i64, String, String, bool)>,
    fields: Vec<CustomFieldDef>,
    users: Vec<User>,
}

impl CatalogPage {
    fn kind_key(&self, k: &domain::model::FieldKind) -> String {
        serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }
    fn is(&self, chosen: &Option<UserId>, id: &UserId) -> bool {
        chosen.as_ref() == Some(id)
    }
    fn user_name(&self, id: &Option<UserId>) -> String {
        name_by(&self.users, |x| Some(x.id) == *id, |x| &x.display_name)
    }
}

pub async fn catalog(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<NoticeQuery>,
) -> Page {
    let c = Chrome::new(&ui, "admin").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let t = ui.0.tenant.id;
    let cats: Vec<Category> = or_page(&c, state.store.categories(t).await)?;
    Ok(render(&CatalogPage {
        teams: or_page(&c, state.store.teams(t).await)?,
        departments: or_page(&c, state.store.departments(t).await)?,
        categories: super::pages::category_choices(&cats, None),
        category_rows: cats
            .iter()
            .map(|x| (x.id.0, category_label(&cats, x), x.name.clone(), x.active))
            .collect(),
        fields: or_page(&c, state.store.custom_fields(t).await)?,
        users: or_page(&c, state.store.users(t).await)?,
        c,
    }))
}

/// Adds a team, a department, a category or a custom field.
pub async fn add_to_catalog(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(what): Path<String>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let a = &ui.0;
        match what.as_str() {
            "teams" => {
                let b = TeamBody {
                    name: f.one("name"),
                    leader_id: f.id("leader_id")?,
                };
                add_team(&state, a, b).await.map(drop)
            }
            "departments" => {
                let hours = match f.one("default_deadline_hours").as_str() {
                    "" => None,
                    h => Some(h.parse().map_err(|_| {
                        ApiError::field("default_deadline_hours", "must be a number")
                    })?),
                };
                let b = DepartmentBody {
                    name: f.one("name"),
                    interface_user_id: f.id("interface_user_id")?,
                    default_deadline_hours: hours,
                };
                add_department(&state, a, b).await.map(drop)
            }
            "categories" => {
                let b = CategoryBody {
                    name: f.one("name"),
                    parent_id: f.id("parent_id")?,
                };
                add_category(&state, a, b).await.map(drop)
            }
            "fields" => {
                let kind = serde_json::from_value(serde_json::Value::String(f.one("kind")))
                    .map_err(|_| ApiError::field("kind", "must be text, number, date or select"))?;
                let b = CustomFieldBody {
                    key: f.one("key"),
                    label: f.one("label"),
                    kind,
                    options: super::sla::words(&f.one("options")),
                    required: !f.one("required").is_empty(),
                };
                add_custom_field(&state, a, b).await.map(drop)
            }
            _ => Err(ApiError::NotFound),
        }
    }
    .await;
    Ok(back("/admin/catalog", r))
}

/// Renames, retires or restores a catalogue entry, and changes its settings.
pub async fn change_in_catalog(
    State(state): State<AppState>,
    ui: UiAuth,
    Path((what, id)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        let active = Some(f.on("active"));
        let name = Some(f.one("name"));
        let (entry, patch) = match what.as_str() {
            "teams" => (
                CatalogEntry::Team(TeamId(id)),
                CatalogPatch {
                    name,
                    leader_id: Some(f.id("leader_id")?),
                    ..Default::default()
                },
            ),
            "departments" => (
                CatalogEntry::Department(DepartmentId(id)),
                CatalogPatch {
                    name,
                    default_deadline_hours: Some(
                        f.one("default_deadline_hours")
                            .trim()
                            .parse()
                            .map_err(|_| {
                                ApiError::field("default_deadline_hours", "must be a number")
                            })?,
                    ),
                    interface_user_id: Some(f.id("interface_user_id")?),
                    ..Default::default()
                },
            ),
            "categories" => (
                CatalogEntry::Category(CategoryId(id)),
                CatalogPatch {
                    name,
                    ..Default::default()
                },
            ),
            "fields" => (
                CatalogEntry::CustomField(id),
                CatalogPatch {
                    label: Some(f.one("label")),
                    required: Some(f.on("required")),
                    options: f.all("options").first().map(|o| super::sla::words(o)),
                    ..Default::default()
                },
            ),
            _ => return Err(ApiError::NotFound),
        };
        let patch = CatalogPatch { active, ..patch };
        change_entry(&state, &ui.0, entry, patch).await.map(drop)
    }
    .await;
    Ok(back("/admin/catalog", r))
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    before: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<AuditRow>,
    next: Option<i64>,
}

pub struct AuditRow {
    pub at: String,
    pub who: String,
    pub action: String,
    pub target: String,
    pub data: String,
}

const AUDIT_PAGE: u32 = 50;

pub async fn audit(State(state): State<AppState>, ui: UiAuth, Query(q): Query<AuditQuery>) -> Page {
    let c = Chrome::new(&ui, "admin");
    or_page(&c, ui.0.need(Permission::ViewAudit))?;
    let t = ui.0.tenant.id;
    let before = match q.before.as_deref().filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(or_page(
            &c,
            b.parse::<i64>()
                .map_err(|_| ApiError::field("before", "must be a number")),
        )?),
    };
    let items: Vec<AuditEntry> = or_page(&c, state.store.audit_log(t, before, AUDIT_PAGE).await)?;
    let users = or_page(&c, state.store.users(t).await)?;
    let next = (items.len() as u32 == AUDIT_PAGE)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    let rows = items
        .into_iter()
        .map(|e| AuditRow {
            at: c.time(e.at),
            who: e
                .actor_id
                .and_then(|a| users.iter().find(|u| u.id == a))
                .map_or_else(|| "—".into(), |u| u.display_name.clone()),
            action: e.action,
            target: e.target,
            data: e
                .data
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect();
    Ok(render(&AuditPage { c, rows, next }))
}
