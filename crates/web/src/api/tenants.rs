//! Tenants as the outsourcer's operator runs them: a client company is
//! created with its first administrator, and later renamed, moved to another
//! time zone or given its own colour. A tenant's administrator may change
//! the same settings of their own tenant.

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::ApiError;
use crate::extract::{Id, Json};
use crate::input::Errors;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::contact::{Region, text};
use domain::ids::TenantId;
use domain::model::{Tenant, User};
use domain::role::{Permission, Role};
use domain::{FieldError, user};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use store::{NewTenant, NewUser, TenantChange};

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ManageTenants)?;
    Ok(axum::Json(
        json!({ "items": state.store.tenant_list().await? }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TenantBody {
    pub slug: String,
    pub name: String,
    pub timezone: Option<String>,
    pub region: Option<String>,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<TenantBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (tenant, admin, password) = add_tenant(&state, &auth, b).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "tenant": tenant, "admin": admin, "password": password })),
    ))
}

/// A client tenant with its first administrator, and the password made for
/// them when none was given (shown once).
pub async fn add_tenant(
    state: &AppState,
    auth: &Auth,
    b: TenantBody,
) -> Result<(Tenant, User, Option<String>), ApiError> {
    auth.need(Permission::ManageTenants)?;
    let mut e = Errors::default();
    let slug = e.take(user::tenant_slug(&b.slug));
    let name = e.take(text("name", &b.name, 100));
    let timezone = e.take(user::timezone(
        b.timezone.as_deref().unwrap_or("Asia/Shanghai"),
    ));
    let region = b.region.as_deref().unwrap_or("CN").trim().to_uppercase();
    if Region::from_iso(&region).is_none() {
        e.push(FieldError::new(
            "region",
            "is not a supported country code such as CN",
        ));
    }
    let username = e.take(user::username(&b.admin_username).map_err(|x| x.at("admin_username")));
    let display = e.take(text("admin_display_name", &b.admin_display_name, 100));
    let password = match &b.admin_password {
        Some(p) => e.take(user::password(p).map_err(|x| x.at("admin_password"))),
        None => Some(auth::random_password()),
    };
    let (t, (username, (display, password))) = e.finish(|| {
        (
            NewTenant {
                slug: slug.unwrap_or_default(),
                name: name.unwrap_or_default(),
                timezone: timezone.unwrap_or_default(),
                region,
            },
            (
                username.unwrap_or_default(),
                (display.unwrap_or_default(), password.unwrap_or_default()),
            ),
        )
    })?;
    let admin = NewUser {
        username,
        display_name: display,
        password_hash: auth::hash_password_blocking(password.clone()).await?,
        role: Role::Admin,
        team_id: None,
        department_id: None,
    };
    let (tenant, admin) = state
        .store
        .create_tenant_with_admin(auth.actor(), &t, &admin, Timestamp::now())
        .await?;
    let shown = b.admin_password.is_none().then_some(password);
    Ok((tenant, admin, shown))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    /// `#rrggbb`; null or empty goes back to the house colour.
    #[serde(default, deserialize_with = "text_or_null")]
    pub brand_color: Option<Option<String>>,
}

fn text_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<TenantPatch>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ManageTenants)?;
    Ok(axum::Json(change(&state, &auth, TenantId(id), b).await?))
}

/// The caller's own tenant, for its administrator.
pub async fn update_own(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<TenantPatch>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let id = auth.tenant.id;
    Ok(axum::Json(change(&state, &auth, id, b).await?))
}

pub async fn change(
    state: &AppState,
    auth: &Auth,
    id: TenantId,
    b: TenantPatch,
) -> Result<Tenant, ApiError> {
    if id != auth.tenant.id {
        auth.need(Permission::ManageTenants)?;
    }
    let mut e = Errors::default();
    let name = b.name.map(|n| e.take(text("name", &n, 100)));
    let timezone = b.timezone.map(|z| e.take(user::timezone(&z)));
    let brand_color = b.brand_color.map(|c| match c.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(c) => e.take(user::color("brand_color", c)).map(Some),
    });
    let ch = e.finish(|| TenantChange {
        name: name.flatten(),
        timezone: timezone.flatten(),
        brand_color: brand_color.flatten(),
    })?;
    Ok(state
        .store
        .change_tenant(auth.actor(), &auth.user.username, id, &ch, Timestamp::now())
        .await?)
}

/// Sets the tenant's logo on its portal from the image in the body: PNG,
/// JPEG, GIF or WebP, told by its bytes, at most 512 KB.
pub async fn put_logo(
    State(state): State<AppState>,
    auth: Auth,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    set_logo(&state, &auth, Some(&body)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_logo(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    set_logo(&state, &auth, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks and keeps a logo (none: takes it away).
pub async fn set_logo(state: &AppState, auth: &Auth, bytes: Option<&[u8]>) -> Result<(), ApiError> {
    let logo = match bytes {
        Some(b) => {
            let kind = domain::portal::logo_type(b)?;
            Some(domain::model::AttachmentInput::new(
                "logo".into(),
                kind.into(),
                b.to_vec(),
            ))
        }
        None => None,
    };
    state
        .store
        .set_tenant_logo(auth.actor(), logo.as_ref(), Timestamp::now())
        .await?;
    Ok(())
}
