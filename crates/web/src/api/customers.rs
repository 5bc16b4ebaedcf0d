use super::{Page, cursor, limit};
use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::input::{CustomerBody, region};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::contact::{EmailAddress, PhoneNumber, Vin};
use domain::customer::CustomerKind;
use domain::ids::{CaseId, CustomerId, TeamId, UserId};
use domain::model::{CaseFilter, Tenant};
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use store::CustomerLookup;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    /// Anything a caller gives: a phone in any writing, an e-mail, a VIN, an account or order number, a name.
    pub q: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub vin: Option<String>,
    pub account: Option<String>,
    pub order: Option<String>,
    pub name: Option<String>,
    pub limit: Option<u32>,
}

/// Reads what kind of identifier free text is, most specific first.
pub fn guess_lookup(q: &str, tenant: &Tenant) -> CustomerLookup {
    let q = q.trim();
    if let Ok(e) = EmailAddress::parse(q)
        && q.contains('@')
    {
        return CustomerLookup::Email(e);
    }
    if Vin::looks_like(q)
        && let Ok(v) = Vin::parse(q)
    {
        return CustomerLookup::Vin(v);
    }
    if q.chars().filter(|c| c.is_ascii_digit()).count() >= 7
        && let Ok(p) = PhoneNumber::parse(q, region(tenant))
    {
        return CustomerLookup::Phone(p);
    }
    if q.chars().any(|c| c.is_ascii_digit()) && !q.contains(' ') {
        return CustomerLookup::Account(q.to_string());
    }
    CustomerLookup::Name(q.to_string())
}

pub fn lookup_from(query: &LookupQuery, tenant: &Tenant) -> Result<CustomerLookup, ApiError> {
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    if let Some(p) = nonempty(&query.phone) {
        return Ok(CustomerLookup::Phone(PhoneNumber::parse(
            &p,
            region(tenant),
        )?));
    }
    if let Some(e) = nonempty(&query.email) {
        return Ok(CustomerLookup::Email(EmailAddress::parse(&e)?));
    }
    if let Some(v) = nonempty(&query.vin) {
        return Ok(CustomerLookup::Vin(Vin::parse(&v)?));
    }
    if let Some(a) = nonempty(&query.account) {
        return Ok(CustomerLookup::Account(a));
    }
    if let Some(o) = nonempty(&query.order) {
        return Ok(CustomerLookup::OrderNo(o));
    }
    if let Some(n) = nonempty(&query.name) {
        return Ok(CustomerLookup::Name(n));
    }
    match nonempty(&query.q) {
        Some(q) => Ok(guess_lookup(&q, tenant)),
        None => Err(ApiError::field(
            "q",
            "give one of q, phone, email, vin, account, order or name",
        )),
    }
}

pub async fn lookup(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<LookupQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let by = lookup_from(&q, &auth.tenant)?;
    let items = state
        .store
        .find_customers(auth.tenant.id, &by, limit(q.limit).min(50))
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<CustomerBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let input = body.parse(&auth.tenant)?;
    let c = state
        .store
        .create_customer(auth.actor(), &input, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(c)))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<CustomerBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let input = body.parse(&auth.tenant)?;
    Ok(axum::Json(
        state
            .store
            .update_customer(auth.actor(), CustomerId(id), &input, Timestamp::now())
            .await?,
    ))
}

pub async fn view(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        state
            .store
            .customer_view(auth.tenant.id, CustomerId(id))
            .await?,
    ))
}

/// A customer's own agent and team; a missing or null one is taken away.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DedicatedBody {
    pub agent_id: Option<UserId>,
    pub team_id: Option<TeamId>,
}

pub async fn dedicated(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<DedicatedBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    Ok(axum::Json(
        state
            .store
            .set_dedicated(
                auth.actor(),
                CustomerId(id),
                b.agent_id,
                b.team_id,
                Timestamp::now(),
            )
            .await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

pub async fn cases(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(q): Query<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    // The customer itself must be visible in this tenant: another tenant's id is a 404, not an empty list.
    state.store.customer(auth.tenant.id, CustomerId(id)).await?;
    let filter = CaseFilter {
        customer_id: Some(CustomerId(id)),
        before: cursor(&q.cursor)?.map(CaseId),
        limit: limit(q.limit),
        ..Default::default()
    };
    let items = state.store.list_cases(auth.tenant.id, &filter).await?;
    Ok(axum::Json(Page::new(items, filter.limit, |c| c.id.0)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgQuery {
    kind: String,
}

pub async fn organizations(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<OrgQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let kind = CustomerKind::parse(&q.kind)?;
    if !kind.is_organization() {
        return Err(ApiError::field(
            "kind",
            "must be company, dealer or service_station",
        ));
    }
    Ok(axum::Json(
        json!({ "items": state.store.organizations(auth.tenant.id, kind).await? }),
    ))
}
