//! The operator's tenant list: client companies created with their first
//! administrator, and each one's name, time zone and colour. A tenant's own
//! administrator changes the same settings from the administration page.

#![allow(clippy::result_large_err)]

use super::pages::{Page, or_page};
use super::sla::{FormPairs, back};
use super::{Chrome, UiAuth, render};
use crate::AppState;
use crate::api::tenants::{TenantBody, TenantPatch, add_tenant, change};
use crate::extract::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use domain::ids::TenantId;
use domain::role::Permission;
use serde::Deserialize;
use store::TenantInfo;

#[derive(Deserialize, Default)]
pub struct TenantsQuery {
    error: Option<String>,
    /// The first administrator of a tenant just made, and their password, shown once.
    user: Option<String>,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_tenants.html")]
struct TenantsPage {
    c: Chrome,
    tenants: Vec<TenantInfo>,
    made: Option<(String, String)>,
}

impl TenantsPage {
    fn color(&self, t: &TenantInfo) -> String {
        t.tenant
            .brand_color
            .clone()
            .unwrap_or_else(|| HOUSE_COLOR.into())
    }
}

/// The accent colour of tenants that chose none (the stylesheet's `--accent`).
pub const HOUSE_COLOR: &str = "#0b6e99";

pub async fn list(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<TenantsQuery>,
) -> Page {
    let c = Chrome::new(&ui, "admin").with_error(q.error);
    or_page(&c, ui.0.need(Permission::ManageTenants))?;
    Ok(render(&TenantsPage {
        tenants: or_page(&c, state.store.tenant_list().await)?,
        made: q.user.zip(q.password),
        c,
    }))
}

pub async fn create(State(state): State<AppState>, ui: UiAuth, body: axum::body::Bytes) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let b = TenantBody {
        slug: f.one("slug"),
        name: f.one("name"),
        timezone: Some(f.one("timezone")),
        region: Some(f.one("region")),
        admin_username: f.one("admin_username"),
        admin_display_name: f.one("admin_display_name"),
        admin_password: None,
    };
    Ok(match add_tenant(&state, &ui.0, b).await {
        Ok((_, admin, Some(pw))) => axum::response::Redirect::to(&format!(
            "/admin/tenants?user={}&password={}",
            super::encode(&admin.username),
            super::encode(&pw)
        ))
        .into_response(),
        Ok(_) => back("/admin/tenants", Ok(())),
        Err(e) => back("/admin/tenants", Err(e)),
    })
}

fn patch_from(f: &FormPairs) -> TenantPatch {
    TenantPatch {
        name: Some(f.one("name")),
        timezone: Some(f.one("timezone")),
        brand_color: Some(Some(f.one("brand_color")).filter(|c| !c.is_empty() && c != HOUSE_COLOR)),
    }
}

pub async fn update(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::ManageTenants)?;
        change(&state, &ui.0, TenantId(id), patch_from(&f))
            .await
            .map(drop)
    }
    .await;
    Ok(back("/admin/tenants", r))
}

/// The administrator's own tenant, from the administration page.
pub async fn update_own(
    State(state): State<AppState>,
    ui: UiAuth,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        change(&state, &ui.0, ui.0.tenant.id, patch_from(&f))
            .await
            .map(drop)
    }
    .await;
    Ok(back("/admin", r))
}

/// The tenant's logo for its portal, from the administration page: a new
/// image, or none when "remove" is ticked.
pub async fn logo(
    State(state): State<AppState>,
    ui: UiAuth,
    form: axum::extract::Multipart,
) -> Page {
    let r = async {
        let posted = super::upload::Posted::read(form, "logo").await?;
        super::pages::csrf_ok(&ui.0, posted.get("csrf").as_deref())?;
        ui.0.need(Permission::Administer)?;
        let file = posted.files.first().map(|f| f.data());
        match (file, posted.get("remove").is_some()) {
            (_, true) => crate::api::tenants::set_logo(&state, &ui.0, None).await,
            (Some(bytes), false) => crate::api::tenants::set_logo(&state, &ui.0, Some(bytes)).await,
            (None, false) => Err(crate::error::ApiError::field("logo", "is required")),
        }
    }
    .await;
    Ok(back("/admin", r))
}
