//! Routing: configuration (skills, queues, entry rules, agents' profiles)
//! for administrators; an agent's state, offers and work; queue status,
//! state history and manual assign/move for supervisors; and the live
//! stream that tells browsers when to look again.

use crate::AppState;
use crate::acd::Changed;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use domain::ids::*;
use domain::role::Permission;
use domain::routing::{AgentProfile, AgentStatus, BreakReason, Presence, QueueSpec};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::convert::Infallible;
use store::{EntryRule, WorkFilter};
use tokio::sync::broadcast::error::RecvError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    pub name: String,
}

pub async fn skills(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    Ok(axum::Json(
        json!({ "items": state.store.skills(auth.tenant.id).await? }),
    ))
}

pub async fn create_skill(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<NameBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let id = state
        .store
        .create_skill(auth.actor(), &b.name, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": id, "name": b.name.trim() })),
    ))
}

pub async fn queues(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    Ok(axum::Json(
        json!({ "items": state.store.queues(auth.tenant.id).await? }),
    ))
}

/// Creates (`id` None) or changes a queue and tells the router.
pub async fn save_queue(
    state: &AppState,
    auth: &Auth,
    id: Option<QueueId>,
    spec: QueueSpec,
) -> Result<QueueSpec, ApiError> {
    auth.need(Permission::Administer)?;
    let saved = state
        .store
        .save_queue(auth.actor(), id, spec, Timestamp::now())
        .await?;
    state.acd.queue_saved(auth.tenant.id, saved.clone()).await?;
    Ok(saved)
}

pub async fn create_queue(
    State(state): State<AppState>,
    auth: Auth,
    Json(spec): Json<QueueSpec>,
) -> Result<impl IntoResponse, ApiError> {
    let saved = save_queue(&state, &auth, None, spec).await?;
    Ok((StatusCode::CREATED, axum::Json(saved)))
}

pub async fn update_queue(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(spec): Json<QueueSpec>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        save_queue(&state, &auth, Some(QueueId(id)), spec).await?,
    ))
}

pub async fn rules(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    Ok(axum::Json(
        json!({ "items": state.store.entry_rules(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub queue_id: QueueId,
    #[serde(default)]
    pub conditions: domain::routing::EntryConditions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    pub rules: Vec<RuleBody>,
}

pub async fn set_rules(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<RulesBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let rules: Vec<EntryRule> = b
        .rules
        .into_iter()
        .map(|r| EntryRule {
            queue_id: r.queue_id,
            conditions: r.conditions,
        })
        .collect();
    state
        .store
        .set_entry_rules(auth.actor(), &rules, Timestamp::now())
        .await?;
    Ok(axum::Json(
        json!({ "items": state.store.entry_rules(auth.tenant.id).await? }),
    ))
}

/// An agent as the supervisor sees them: profile, state now, work.
#[derive(Serialize)]
struct AgentRow {
    #[serde(flatten)]
    agent: store::RoutingAgent,
    offered: usize,
    active: usize,
}

pub async fn agents(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    let tenant = auth.tenant.id;
    let mut rows = Vec::new();
    for mut a in state.store.routing_agents(tenant).await? {
        let v = state.acd.agent_view(tenant, a.user_id).await?;
        a.state = Some(v.state.to_string());
        a.since = Timestamp::from_millisecond(v.since).ok();
        rows.push(AgentRow {
            agent: a,
            offered: v.offered.len(),
            active: v.active.len(),
        });
    }
    Ok(axum::Json(json!({ "items": rows })))
}

pub async fn save_agent(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(profile): Json<AgentProfile>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let saved = state
        .store
        .save_routing_profile(auth.actor(), UserId(id), profile, Timestamp::now())
        .await?;
    state.acd.agent_saved(auth.tenant.id, saved.spec()).await?;
    Ok(axum::Json(saved))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    /// available, offline or break.
    pub state: String,
    /// With a break: lunch, training, meeting, coaching, other.
    #[serde(default)]
    pub reason: Option<String>,
}

impl StateBody {
    pub(crate) fn presence(&self) -> Result<Presence, ApiError> {
        match (self.state.as_str(), self.reason.as_deref()) {
            ("available", _) => Ok(Presence::Available),
            ("offline", _) => Ok(Presence::Offline),
            ("break", Some(r)) => Ok(Presence::Break(BreakReason::parse(r)?)),
            ("break", None) => Err(ApiError::field("reason", "a break needs a reason")),
            _ => Err(ApiError::field(
                "state",
                "must be available, break or offline",
            )),
        }
    }
}

/// What an agent's screen shows: state, offers ringing, work in hand.
async fn desk(
    state: &AppState,
    tenant: TenantId,
    agent: UserId,
) -> Result<serde_json::Value, ApiError> {
    let v = state.acd.agent_view(tenant, agent).await?;
    let work = state
        .store
        .work_summaries(tenant, WorkFilter::Agent(agent))
        .await?;
    let (offers, active): (Vec<_>, Vec<_>) = work.into_iter().partition(|w| w.state == "offered");
    Ok(json!({
        "agent_id": agent,
        "state": v.state.to_string(),
        "status": v.state.status,
        "since": Timestamp::from_millisecond(v.since).ok(),
        "missed_offers": v.missed,
        "offers": offers,
        "active": active,
    }))
}

pub async fn me(State(state): State<AppState>, auth: Auth) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    Ok(axum::Json(
        desk(&state, auth.tenant.id, auth.user.id).await?,
    ))
}

pub async fn set_my_state(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<StateBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let (tenant, me) = (auth.tenant.id, auth.user.id);
    state.acd.set_presence(tenant, me, b.presence()?).await?;
    Ok(axum::Json(desk(&state, tenant, me).await?))
}

pub async fn set_agent_state(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<StateBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    let tenant = auth.tenant.id;
    state
        .acd
        .set_presence(tenant, UserId(id), b.presence()?)
        .await?;
    Ok(axum::Json(desk(&state, tenant, UserId(id)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// From this instant; the last 24 hours by default.
    #[serde(default)]
    pub since: Option<String>,
}

pub async fn agent_states(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(q): Query<HistoryQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    state
        .store
        .routing_agent(auth.tenant.id, UserId(id))
        .await?;
    let now = Timestamp::now();
    let since = match q.since.as_deref() {
        Some(s) => crate::input::instant("since", s, &auth.tenant)?,
        None => now - jiff::SignedDuration::from_hours(24),
    };
    let spans = state
        .store
        .agent_states(auth.tenant.id, UserId(id), since, now)
        .await?;
    Ok(axum::Json(json!({ "items": spans })))
}

pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let (tenant, me) = (auth.tenant.id, auth.user.id);
    state.acd.accept(tenant, me, WorkId(id)).await?;
    Ok(axum::Json(desk(&state, tenant, me).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    pub reason: String,
}

pub async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<RejectBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let reason = domain::contact::text("reason", &b.reason, 200)?;
    let (tenant, me) = (auth.tenant.id, auth.user.id);
    state.acd.reject(tenant, me, WorkId(id), &reason).await?;
    Ok(axum::Json(desk(&state, tenant, me).await?))
}

pub async fn finish(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let (tenant, me) = (auth.tenant.id, auth.user.id);
    state.acd.finish(tenant, me, WorkId(id)).await?;
    Ok(axum::Json(desk(&state, tenant, me).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub agent_id: UserId,
}

pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<AssignBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    state
        .acd
        .assign(auth.tenant.id, WorkId(id), b.agent_id)
        .await?;
    work(&state, auth.tenant.id, WorkId(id)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub queue_id: QueueId,
}

pub async fn move_work(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<MoveBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    state
        .acd
        .transfer(auth.tenant.id, WorkId(id), b.queue_id)
        .await?;
    work(&state, auth.tenant.id, WorkId(id)).await
}

async fn work(
    state: &AppState,
    tenant: TenantId,
    id: WorkId,
) -> Result<axum::Json<store::WorkSummary>, ApiError> {
    let w = state
        .store
        .work_summaries(tenant, WorkFilter::Work(id))
        .await?;
    w.into_iter()
        .next()
        .map(axum::Json)
        .ok_or(ApiError::NotFound)
}

/// A queue's status as the supervisor reads it.
#[derive(Serialize)]
pub struct QueueRow {
    pub id: QueueId,
    pub name: String,
    pub open: bool,
    pub waiting: u32,
    pub offered: u32,
    pub longest_wait_secs: i64,
    /// Agents serving the queue, by state.
    pub agents: serde_json::Map<String, serde_json::Value>,
}

pub async fn queue_rows(state: &AppState, tenant: TenantId) -> Result<Vec<QueueRow>, ApiError> {
    let queues = state.store.queues(tenant).await?;
    let ids: Vec<QueueId> = queues.iter().map(|q| q.id).collect();
    let status = state.acd.queue_status(tenant, &ids).await?;
    Ok(queues
        .into_iter()
        .filter_map(|q| {
            let s = status.iter().find(|s| s.queue == q.id)?;
            Some(QueueRow {
                id: q.id,
                name: q.name,
                open: s.open,
                waiting: s.waiting,
                offered: s.offered,
                longest_wait_secs: s.longest_wait_ms / 1000,
                agents: s
                    .agents
                    .iter()
                    .map(|(st, n): &(AgentStatus, u32)| (st.to_string(), json!(n)))
                    .collect(),
            })
        })
        .collect())
}

pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    Ok(axum::Json(
        json!({ "items": queue_rows(&state, auth.tenant.id).await? }),
    ))
}

/// A queue's waiting work in the order it arrived, a page at a time. The
/// cursor is a position: the head of a queue keeps leaving.
pub async fn waiting(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(q): Query<super::mail::PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    state.store.queue(auth.tenant.id, QueueId(id)).await?;
    let limit = super::limit(q.limit);
    let offset = super::cursor(&q.cursor)?.unwrap_or(0);
    let offset = u32::try_from(offset)
        .map_err(|_| ApiError::field("cursor", "is not a cursor this API returned"))?;
    let slice = store::Slice { offset, limit };
    let items = state
        .store
        .work_summaries(auth.tenant.id, WorkFilter::Queue(QueueId(id), slice))
        .await?;
    let next_cursor = (items.len() as u32 >= limit).then(|| (offset + limit).to_string());
    Ok(axum::Json(super::Page { items, next_cursor }))
}

/// Server-sent events: `routing` with the agents concerned, whenever the
/// router decided something. An agent hears of their own; a supervisor of
/// everyone in the tenant. The page fetches what it shows.
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let everyone = auth.user.role.allows(Permission::Supervise);
    let (tenant, me) = (auth.tenant.id, auth.user.id);
    let concerns = move |c: &Changed| c.tenant == tenant && (everyone || c.agents.contains(&me));
    let routing = futures_util::stream::unfold(state.acd.subscribe(), move |mut rx| async move {
        loop {
            let data = match rx.recv().await {
                Ok(c) if concerns(&c) => json!({ "agents": c.agents }).to_string(),
                Ok(_) => continue,
                // Missed some: look again at everything.
                Err(RecvError::Lagged(_)) => json!({ "agents": [] }).to_string(),
                Err(RecvError::Closed) => return None,
            };
            let ev = SseEvent::default().event("routing").data(data);
            return Some((Ok::<_, Infallible>(ev), rx));
        }
    });
    // A call the PBX gives this agent pops its screen; supervisors hear of all.
    let calls = futures_util::stream::unfold(state.calls.subscribe(), move |mut rx| async move {
        loop {
            let data = match rx.recv().await {
                Ok(n) if n.tenant == tenant && (everyone || n.agent == Some(me)) => json!({
                    "call": n.call,
                    "state": n.state,
                    "mine": n.agent == Some(me),
                })
                .to_string(),
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            };
            let ev = SseEvent::default().event("call").data(data);
            return Some((Ok::<_, Infallible>(ev), rx));
        }
    });
    let stream = futures_util::stream::select(routing, calls);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
