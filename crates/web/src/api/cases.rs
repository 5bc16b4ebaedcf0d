use super::{Page, cursor, limit};
use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::input::{CaseBody, CasePatchBody, Errors, InteractionBody, instant};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::case::*;
use domain::ids::*;
use domain::model::{CaseFilter, CaseSort, Tenant};
use domain::role::Permission;
use domain::sla::SlaState;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comma-separated statuses, e.g. `new,open`.
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub case_type: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<String>,
    /// A user id, or `me`.
    pub assignee: Option<String>,
    pub team: Option<i64>,
    pub customer: Option<i64>,
    pub category: Option<i64>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub updated_from: Option<String>,
    pub updated_to: Option<String>,
    /// An SLA state: ok, warning, breached, paused or met.
    pub sla: Option<String>,
    /// `newest` (the default) or `sla_due`: soonest due first.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl ListQuery {
    pub fn filter(&self, auth: &Auth) -> Result<CaseFilter, ApiError> {
        let tenant: &Tenant = &auth.tenant;
        let mut e = Errors::default();
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let statuses = nonempty(&self.status)
            .map(|s| {
                s.split(',')
                    .filter_map(|x| e.take(CaseStatus::parse(x)))
                    .collect()
            })
            .unwrap_or_default();
        let case_type = nonempty(&self.case_type).and_then(|t| e.take(CaseType::parse(&t)));
        let channel = nonempty(&self.channel).and_then(|t| e.take(Channel::parse(&t)));
        let priority = nonempty(&self.priority).and_then(|t| e.take(Priority::parse(&t)));
        let assignee_id = match nonempty(&self.assignee).as_deref() {
            None => None,
            Some("me") => Some(auth.user.id),
            Some(v) => e.take(
                v.parse()
                    .map(UserId)
                    .map_err(|_| domain::FieldError::new("assignee", "must be a user id or me")),
            ),
        };
        let mut time =
            |f: &str, v: &Option<String>| nonempty(v).and_then(|s| e.take(instant(f, &s, tenant)));
        let created_from = time("created_from", &self.created_from);
        let created_to = time("created_to", &self.created_to);
        let updated_from = time("updated_from", &self.updated_from);
        let updated_to = time("updated_to", &self.updated_to);
        let sla_state = nonempty(&self.sla).and_then(|s| e.take(SlaState::parse(&s)));
        let sort = match nonempty(&self.sort).as_deref() {
            None | Some("newest") => CaseSort::Newest,
            Some("sla_due") => CaseSort::SlaDue,
            Some(_) => {
                e.push(domain::FieldError::new("sort", "must be newest or sla_due"));
                CaseSort::Newest
            }
        };
        let at = match cursor(&self.cursor) {
            Ok(c) => c,
            Err(ApiError::Invalid(f)) => {
                f.into_iter().for_each(|x| e.push(x));
                None
            }
            Err(_) => None,
        };
        // Newest first pages by id; by SLA due the cursor counts rows.
        let (before, offset) = match sort {
            CaseSort::Newest => (at.map(CaseId), 0),
            CaseSort::SlaDue => (None, at.map_or(0, |n| n.clamp(0, 1_000_000) as u32)),
        };
        e.finish(|| CaseFilter {
            statuses,
            case_type,
            channel,
            priority,
            assignee_id,
            team_id: self.team.map(TeamId),
            customer_id: self.customer.map(CustomerId),
            category_id: self.category.map(CategoryId),
            created_from,
            created_to,
            updated_from,
            updated_to,
            sla_state,
            sort,
            before,
            offset,
            limit: limit(self.limit),
        })
    }
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let filter = q.filter(&auth)?;
    let items = state.store.list_cases(auth.tenant.id, &filter).await?;
    let page = match filter.sort {
        CaseSort::Newest => Page::new(items, filter.limit, |c| c.id.0),
        CaseSort::SlaDue => {
            let next = i64::from(filter.offset) + items.len() as i64;
            Page::new(items, filter.limit, |_| next)
        }
    };
    Ok(axum::Json(page))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<CaseBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let now = Timestamp::now();
    let defs = state.store.custom_fields(auth.tenant.id).await?;
    let (input, first) = body.parse(&auth.tenant, &defs, now)?;
    let mut actor = auth.actor();
    actor.channel = Some(input.channel);
    let id = state
        .store
        .create_case(actor, &auth.tenant.timezone, &input, first.as_ref(), now)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(state.store.case_detail(auth.tenant.id, id).await?),
    ))
}

pub async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        state.store.case_detail(auth.tenant.id, CaseId(id)).await?,
    ))
}

pub async fn by_number(
    State(state): State<AppState>,
    auth: Auth,
    Path(number): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let number = CaseNumber::parse(&number)?;
    let id = state.store.case_by_number(auth.tenant.id, number).await?;
    Ok(axum::Json(
        state.store.case_detail(auth.tenant.id, id).await?,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<CasePatchBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let defs = state.store.custom_fields(auth.tenant.id).await?;
    let patch = body.parse(&defs)?;
    state
        .store
        .update_case(auth.actor(), CaseId(id), &patch, Timestamp::now())
        .await?;
    Ok(axum::Json(
        state.store.case_detail(auth.tenant.id, CaseId(id)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    action: String,
}

pub async fn transition(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<TransitionBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let action = CaseAction::parse(&body.action)?;
    let status = state
        .store
        .transition(auth.actor(), CaseId(id), action, Timestamp::now())
        .await?;
    Ok(axum::Json(json!({ "status": status })))
}

pub async fn add_interaction(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<InteractionBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let now = Timestamp::now();
    let input = body.parse(&auth.tenant, now)?;
    let iid = state
        .store
        .add_interaction(auth.actor(), CaseId(id), &input, now)
        .await?;
    let all = state.store.interactions(auth.tenant.id, CaseId(id)).await?;
    let created = all
        .into_iter()
        .find(|i| i.id == iid)
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    related_id: i64,
}

pub async fn link(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<LinkBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    state
        .store
        .link_cases(
            auth.actor(),
            CaseId(id),
            CaseId(body.related_id),
            Timestamp::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    pub duplicate_id: i64,
}

/// Merges a duplicate into this case; answers with this case as it is now.
pub async fn merge(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<MergeBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    state
        .store
        .merge_cases(
            auth.actor(),
            CaseId(id),
            CaseId(body.duplicate_id),
            Timestamp::now(),
        )
        .await?;
    Ok(axum::Json(
        state.store.case_detail(auth.tenant.id, CaseId(id)).await?,
    ))
}

pub async fn attachment(
    State(state): State<AppState>,
    auth: Auth,
    Path(sha): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound);
    }
    let (meta, data) = state.store.attachment(auth.tenant.id, &sha).await?;
    Ok(super::knowledge::download(meta, data))
}
