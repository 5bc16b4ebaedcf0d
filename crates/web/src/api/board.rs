//! The supervisor's wallboard and team view: every queue now and today,
//! every agent's state, work and day, and what is running late. One read
//! serves the JSON API and both pages.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Query;
use axum::extract::State;
use axum::response::IntoResponse;
use domain::ids::*;
use domain::model::{CaseFilter, CaseSort, CaseSummary, DepartmentTask, Tenant};
use domain::role::Permission;
use domain::simulate::Figures;
use domain::sla::SlaState;
use domain::task::TaskStatus;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use store::{Alarms, Call, TaskFilter, WorkFilter, WorkSummary};

/// How many late cases and tasks the board names (the counts are whole).
const NAMED: u32 = 8;

#[derive(Debug, Serialize)]
pub struct Wallboard {
    pub at: Timestamp,
    /// Today began here on the tenant's clock.
    pub since: Timestamp,
    pub queues: Vec<BoardQueue>,
    pub agents: Vec<BoardAgent>,
    pub alarms: Alarms,
    /// Open cases whose clock has run out, then those warning, soonest due first.
    pub late_cases: Vec<CaseSummary>,
    pub overdue_tasks: Vec<DepartmentTask>,
}

#[derive(Debug, Serialize)]
pub struct BoardQueue {
    pub name: String,
    /// `routing` for carecenter's own queues, `phone` for the PBX's.
    pub source: &'static str,
    pub queue_id: Option<QueueId>,
    pub open: bool,
    pub waiting: u32,
    pub longest_wait_secs: i64,
    /// Today.
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Answered within the target of all offered, 0–1; none when nothing was offered.
    pub service_level: Option<f64>,
    pub asa_secs: f64,
    /// Agents serving a routing queue, by state.
    pub agents: serde_json::Map<String, serde_json::Value>,
}

impl BoardQueue {
    fn today(mut self, f: &Figures) -> BoardQueue {
        self.offered = f.offered;
        self.answered = f.answered;
        self.abandoned = f.abandoned;
        self.service_level = (f.offered > 0).then(|| f.sl_offered());
        self.asa_secs = f.asa_secs();
        self
    }
}

#[derive(Debug, Serialize)]
pub struct BoardAgent {
    pub id: UserId,
    pub name: String,
    pub team_id: Option<TeamId>,
    /// `available`, `busy`, `break:lunch`, … as recorded.
    pub state: String,
    pub since: Option<Timestamp>,
    pub seconds_in_state: i64,
    pub work: Vec<WorkSummary>,
    /// A PBX call ringing for them or in progress.
    pub call: Option<Call>,
    pub handled_today: u32,
    pub aht_secs: f64,
}

impl BoardAgent {
    pub fn status(&self) -> &str {
        self.state.split(':').next().unwrap_or("offline")
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// Only this team's agents.
    #[serde(default)]
    pub team: Option<String>,
}

impl BoardQuery {
    pub fn team(&self) -> Result<Option<TeamId>, ApiError> {
        match self
            .team
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(None),
            Some(t) => t
                .parse()
                .map(|t| Some(TeamId(t)))
                .map_err(|_| ApiError::field("team", "must be a team id")),
        }
    }
}

/// The start of the tenant's day that holds `now`.
pub fn day_start(tenant: &Tenant, now: Timestamp) -> Timestamp {
    let tz = jiff::tz::TimeZone::get(&tenant.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    now.to_zoned(tz)
        .start_of_day()
        .map(|z| z.timestamp())
        .unwrap_or(now)
}

pub async fn wallboard(
    state: &AppState,
    tenant: &Tenant,
    team: Option<TeamId>,
    now: Timestamp,
) -> Result<Wallboard, ApiError> {
    let t = tenant.id;
    let since = day_start(tenant, now);
    let secs = |from: Timestamp| (now - from).get_seconds().max(0);
    let work_today = state.store.work_figures(t, since, now, now).await?;
    let mut queues: Vec<BoardQueue> = super::routing::queue_rows(state, t)
        .await?
        .into_iter()
        .map(|q| {
            let row = BoardQueue {
                source: "routing",
                queue_id: Some(q.id),
                open: q.open,
                waiting: q.waiting,
                longest_wait_secs: q.longest_wait_secs,
                agents: q.agents,
                offered: 0,
                answered: 0,
                abandoned: 0,
                service_level: None,
                asa_secs: 0.0,
                name: q.name,
            };
            match work_today.get(&q.id) {
                Some(f) => row.today(f),
                None => row,
            }
        })
        .collect();
    // The PBX's queues: calls ringing now, and today's calls.
    let ringing = state.store.ringing_calls(t, now).await?;
    let calls = state
        .store
        .call_figures(t, since, now, now, store::SL_THRESHOLD_SECS)
        .await?;
    let mut names: Vec<Option<String>> = ringing.iter().map(|r| r.queue.clone()).collect();
    names.extend(calls.iter().map(|(q, _)| q.clone()));
    names.sort();
    names.dedup();
    for name in names {
        let ring = ringing.iter().find(|r| r.queue == name);
        let row = BoardQueue {
            name: name.clone().unwrap_or_default(),
            source: "phone",
            queue_id: None,
            open: true,
            waiting: ring.map_or(0, |r| r.calls),
            longest_wait_secs: ring.map_or(0, |r| secs(r.oldest)),
            offered: 0,
            answered: 0,
            abandoned: 0,
            service_level: None,
            asa_secs: 0.0,
            agents: Default::default(),
        };
        queues.push(match calls.iter().find(|(q, _)| *q == name) {
            Some((_, f)) => row.today(f),
            None => row,
        });
    }
    let mut in_hand = state.store.work_summaries(t, WorkFilter::InHand).await?;
    let mut on_calls = state.store.calls_in_progress(t, now).await?;
    let days = state.store.agent_days(t, since).await?;
    let agents = state
        .store
        .routing_agents(t)
        .await?
        .into_iter()
        .filter(|a| team.is_none() || a.team_id == team)
        .map(|a| {
            let id = a.user_id;
            let (work, rest) = in_hand.drain(..).partition(|w| w.agent_id == Some(id));
            in_hand = rest;
            let call = on_calls
                .iter()
                .position(|c| c.agent_id == Some(id))
                .map(|i| on_calls.remove(i));
            let day = days.get(&id).copied().unwrap_or_default();
            BoardAgent {
                id,
                name: a.display_name,
                team_id: a.team_id,
                state: a.state.unwrap_or_else(|| "offline".into()),
                seconds_in_state: a.since.map_or(0, secs),
                since: a.since,
                work,
                call,
                handled_today: day.handled,
                aht_secs: day.aht_secs(),
            }
        })
        .collect();
    let mut late_cases = Vec::new();
    for sla in [SlaState::Breached, SlaState::Warning] {
        let room = NAMED.saturating_sub(late_cases.len() as u32);
        if room == 0 {
            break;
        }
        let f = CaseFilter {
            sla_state: Some(sla),
            statuses: domain::case::CaseStatus::ALL
                .iter()
                .copied()
                .filter(|s| s.is_active())
                .collect(),
            sort: CaseSort::SlaDue,
            limit: room,
            ..Default::default()
        };
        late_cases.extend(state.store.list_cases(t, &f).await?);
    }
    let overdue_tasks = state
        .store
        .tasks(
            t,
            &TaskFilter {
                status: Some(TaskStatus::Open),
                by_deadline: true,
                limit: NAMED,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .filter(|k| k.deadline_at < now)
        .collect();
    Ok(Wallboard {
        at: now,
        since,
        queues,
        agents,
        alarms: state.store.alarms(t, now).await?,
        late_cases,
        overdue_tasks,
    })
}

pub async fn get_wallboard(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<BoardQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    let team = q.team()?;
    if let Some(team) = team {
        let teams = state.store.teams(auth.tenant.id).await?;
        if !teams.iter().any(|x| x.id == team) {
            return Err(ApiError::field("team", "no such team"));
        }
    }
    Ok(axum::Json(
        wallboard(&state, &auth.tenant, team, Timestamp::now()).await?,
    ))
}
