//! Routing pages: the agent's desk (state, offers with their countdown,
//! routed work in hand) and the routing administration (queue status live,
//! agents with skills and capacity, queues, skills, entry rules).

#![allow(clippy::result_large_err)]

use super::pages::{Page, or_page};
use super::sla::{FormPairs, back, words};
use super::{Chrome, UiAuth, render};
use crate::AppState;
use crate::api::routing::{QueueRow, queue_rows};
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use domain::case::{CaseStatus, CaseType};
use domain::ids::*;
use domain::model::Team;
use domain::model::{CaseFilter, CaseSort};
use domain::role::Permission;
use domain::routing::{
    AgentProfile, BreakReason, Capacity, EntryConditions, Overflow, QueueSpec, SkillLevel,
    Strategy, WaitAction, WorkKind,
};
use jiff::Timestamp;
use store::{EntryRule, Skill, StoredCalendar, WorkFilter, WorkSummary};

/// Break reasons an agent picks (missed offers is the router's own).
pub(super) const REASONS: [BreakReason; 5] = [
    BreakReason::Lunch,
    BreakReason::Training,
    BreakReason::Meeting,
    BreakReason::Coaching,
    BreakReason::Other,
];

pub struct WorkRow {
    pub id: i64,
    pub case_id: i64,
    pub number: String,
    pub subject: String,
    pub queue: String,
    pub kind: WorkKind,
    /// RFC 3339 for the countdown script; empty when the offer waits.
    pub until: String,
}

impl WorkRow {
    fn new(w: WorkSummary) -> WorkRow {
        WorkRow {
            id: w.id.0,
            case_id: w.case_id.0,
            number: w.case_number,
            subject: w.subject,
            queue: w.queue,
            kind: w.kind,
            until: w.offered_until.map(|t| t.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    c: Chrome,
    state: String,
    agent_status: String,
    since: String,
    missed: u8,
    offers: Vec<WorkRow>,
    active: Vec<WorkRow>,
    /// The queues I serve now (the shared table calls it `status`).
    status: Vec<QueueRow>,
    /// My open cases by SLA due, soonest first.
    due: Vec<super::pages::CaseRow>,
    reasons: [BreakReason; 5],
}

impl DeskPage {
    fn state_text(&self) -> String {
        self.c.state_text(&self.state)
    }
}

pub async fn desk(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "desk").with_error(q.error);
    or_page(&c, ui.0.need(Permission::WorkCases))?;
    let (tenant, me) = (ui.0.tenant.id, ui.0.user.id);
    let view = or_page(
        &c,
        state
            .acd
            .agent_view(tenant, me)
            .await
            .map_err(ApiError::from),
    )?;
    let work = or_page(
        &c,
        state
            .store
            .work_summaries(tenant, WorkFilter::Agent(me))
            .await,
    )?;
    let (offers, active): (Vec<_>, Vec<_>) = work.into_iter().partition(|w| w.state == "offered");
    // The queues of my team (or open to everyone); a supervisor sees all.
    let mut queues = or_page(&c, queue_rows(&state, tenant).await)?;
    if !c.can_supervise {
        let specs = or_page(&c, state.store.queues(tenant).await)?;
        let team = ui.0.user.team_id;
        queues.retain(|q| {
            specs.iter().any(|s| {
                s.id == q.id && (s.teams.is_empty() || team.is_some_and(|t| s.teams.contains(&t)))
            })
        });
    }
    let due = CaseFilter {
        assignee_id: Some(me),
        statuses: CaseStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_active())
            .collect(),
        sort: CaseSort::SlaDue,
        limit: 8,
        ..Default::default()
    };
    let due = or_page(&c, state.store.list_cases(tenant, &due).await)?;
    let due: Vec<_> = due.into_iter().filter(|s| s.sla_due_at.is_some()).collect();
    let since = Timestamp::from_millisecond(view.since)
        .map(|t| c.time(t))
        .unwrap_or_default();
    Ok(render(&DeskPage {
        state: view.state.to_string(),
        agent_status: view.state.status.to_string(),
        since,
        missed: view.missed,
        offers: offers.into_iter().map(WorkRow::new).collect(),
        active: active.into_iter().map(WorkRow::new).collect(),
        status: queues,
        due: super::pages::case_rows(&c, &due),
        reasons: REASONS,
        c,
    }))
}

pub async fn desk_state(
    State(state): State<AppState>,
    ui: UiAuth,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let p = crate::api::routing::StateBody {
            state: f.one("state"),
            reason: Some(f.one("reason")).filter(|r| !r.is_empty()),
        }
        .presence()?;
        state
            .acd
            .set_presence(ui.0.tenant.id, ui.0.user.id, p)
            .await?;
        Ok(())
    }
    .await;
    Ok(back("/desk", r))
}

pub async fn desk_work(
    State(state): State<AppState>,
    ui: UiAuth,
    Path((id, action)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let (tenant, me, work) = (ui.0.tenant.id, ui.0.user.id, WorkId(id));
        match action.as_str() {
            "accept" => state.acd.accept(tenant, me, work).await?,
            "reject" => {
                let reason = domain::contact::text("reason", &f.one("reason"), 200)?;
                state.acd.reject(tenant, me, work, &reason).await?
            }
            "finish" => state.acd.finish(tenant, me, work).await?,
            _ => return Err(ApiError::NotFound),
        }
        Ok(())
    }
    .await;
    // Accepting opens the case: the agent works it at once.
    Ok(match (&r, action.as_str()) {
        (Ok(()), "accept") => {
            let case = state
                .store
                .work_summaries(ui.0.tenant.id, WorkFilter::Work(WorkId(id)))
                .await
                .ok()
                .and_then(|w| w.into_iter().next());
            match case {
                Some(w) => Redirect::to(&format!("/cases/{}", w.case_id)).into_response(),
                None => back("/desk", r),
            }
        }
        _ => back("/desk", r),
    })
}

pub struct QueueLine {
    pub q: QueueSpec,
    pub skills: String,
    pub calendar: String,
}

pub struct AgentLine {
    pub a: store::RoutingAgent,
    pub skills: String,
    pub team: String,
}

#[derive(Template)]
#[template(path = "routing.html")]
struct RoutingPage {
    c: Chrome,
    admin: bool,
    status: Vec<QueueRow>,
    queues: Vec<QueueLine>,
    skills: Vec<Skill>,
    rules: Vec<(usize, String, String)>,
    agents: Vec<AgentLine>,
    kinds: &'static [WorkKind],
    types: &'static [CaseType],
}

fn skill_text(levels: &[SkillLevel], skills: &[Skill]) -> String {
    levels
        .iter()
        .map(|l| {
            let name = skills
                .iter()
                .find(|s| s.id == l.skill)
                .map_or("?", |s| s.name.as_str());
            format!("{name} ≥ {}", l.level)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl RoutingPage {
    fn kinds_text(&self, kinds: &[WorkKind]) -> String {
        kinds
            .iter()
            .map(|k| self.c.t.of("work", k).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn capacity_text(&self, cap: &Capacity) -> String {
        self.kinds
            .iter()
            .filter(|k| cap.of(**k) > 0)
            .map(|k| format!("{} {}", self.c.t.of("work", k), cap.of(*k)))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn state_text(&self, state: &Option<String>) -> String {
        self.c.state_text(state.as_deref().unwrap_or("offline"))
    }
}

fn conditions_text(c: &Chrome, x: &EntryConditions) -> String {
    let mut parts = Vec::new();
    if !x.kinds.is_empty() {
        parts.push(
            x.kinds
                .iter()
                .map(|k| c.t.of("work", k).into_owned())
                .collect::<Vec<_>>()
                .join("/"),
        );
    }
    if !x.case_types.is_empty() {
        parts.push(
            x.case_types
                .iter()
                .map(|k| c.t.of("type", k).into_owned())
                .collect::<Vec<_>>()
                .join("/"),
        );
    }
    for (label, list) in [
        ("routing.regions", &x.regions),
        ("routing.tiers", &x.tiers),
        ("routing.languages", &x.languages),
    ] {
        if !list.is_empty() {
            parts.push(format!("{}: {}", c.t.get(label), list.join("/")));
        }
    }
    if !x.address_ids.is_empty() || !x.category_ids.is_empty() {
        parts.push(c.t.get("routing.more_conditions").into_owned());
    }
    if parts.is_empty() {
        return c.t.get("routing.everything").into_owned();
    }
    parts.join(" · ")
}

pub async fn overview(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "routing").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Supervise))?;
    let tenant = ui.0.tenant.id;
    let skills = or_page(&c, state.store.skills(tenant).await)?;
    let calendars = or_page(&c, state.store.calendars(tenant).await)?;
    let teams = or_page(&c, state.store.teams(tenant).await)?;
    let queues = or_page(&c, state.store.queues(tenant).await)?;
    let rules = or_page(&c, state.store.entry_rules(tenant).await)?;
    let agents = or_page(&c, state.store.routing_agents(tenant).await)?;
    let status = or_page(&c, queue_rows(&state, tenant).await)?;
    let mut agent_lines = Vec::new();
    for mut a in agents {
        // The state now, as the router has it.
        if let Ok(v) = state.acd.agent_view(tenant, a.user_id).await {
            a.state = Some(v.state.to_string());
        }
        agent_lines.push(AgentLine {
            skills: skill_text(&a.profile.skills, &skills),
            team: teams
                .iter()
                .find(|t| Some(t.id) == a.team_id)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            a,
        });
    }
    let queue_name = |id: QueueId| {
        queues
            .iter()
            .find(|q| q.id == id)
            .map(|q| q.name.clone())
            .unwrap_or_default()
    };
    let rules = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                i,
                queue_name(r.queue_id),
                conditions_text(&c, &r.conditions),
            )
        })
        .collect();
    let queues = queues
        .into_iter()
        .map(|q| QueueLine {
            skills: skill_text(&q.skills, &skills),
            calendar: q
                .calendar_id
                .and_then(|id| calendars.iter().find(|k| k.id == id))
                .map(|k| k.name.clone())
                .unwrap_or_default(),
            q,
        })
        .collect();
    Ok(render(&RoutingPage {
        admin: ui.0.user.role.allows(Permission::Administer),
        status,
        queues,
        skills,
        rules,
        agents: agent_lines,
        kinds: WorkKind::ALL,
        types: CaseType::ALL,
        c,
    }))
}

pub async fn add_skill(State(state): State<AppState>, ui: UiAuth, body: axum::body::Bytes) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        state
            .store
            .create_skill(ui.0.actor(), &f.one("name"), Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back("/routing", r))
}

fn parse_all<T>(
    f: &FormPairs,
    key: &str,
    parse: impl Fn(&str) -> Result<T, domain::FieldError>,
) -> Result<Vec<T>, ApiError> {
    f.all(key)
        .iter()
        .map(|v| parse(v).map_err(ApiError::from))
        .collect()
}

pub async fn add_rule(State(state): State<AppState>, ui: UiAuth, body: axum::body::Bytes) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let tenant = ui.0.tenant.id;
        let queue = f
            .one("queue_id")
            .parse()
            .map_err(|_| ApiError::field("queue_id", "choose a queue"))?;
        let conditions = EntryConditions {
            kinds: parse_all(&f, "kinds", WorkKind::parse)?,
            case_types: parse_all(&f, "case_types", CaseType::parse)?,
            regions: words(&f.one("regions")),
            tiers: words(&f.one("tiers")),
            languages: words(&f.one("languages"))
                .iter()
                .map(|l| l.to_ascii_lowercase())
                .collect(),
            ..Default::default()
        };
        let mut rules = state.store.entry_rules(tenant).await?;
        rules.push(EntryRule {
            queue_id: QueueId(queue),
            conditions,
        });
        state
            .store
            .set_entry_rules(ui.0.actor(), &rules, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back("/routing", r))
}

pub async fn delete_rule(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(pos): Path<usize>,
    body: axum::body::Bytes,
) -> Page {
    FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let mut rules = state.store.entry_rules(ui.0.tenant.id).await?;
        if pos >= rules.len() {
            return Err(ApiError::NotFound);
        }
        rules.remove(pos);
        state
            .store
            .set_entry_rules(ui.0.actor(), &rules, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back("/routing", r))
}

#[derive(Template)]
#[template(path = "routing_queue.html")]
struct QueuePage {
    c: Chrome,
    id: Option<i64>,
    q: QueueSpec,
    skills: Vec<Skill>,
    teams: Vec<Team>,
    calendars: Vec<StoredCalendar>,
    others: Vec<QueueSpec>,
    kinds: &'static [WorkKind],
    strategies: &'static [Strategy],
    actions: &'static [WaitAction],
    /// The step that moves work elsewhere, as the form edits it.
    move_after: String,
    move_to: Option<QueueId>,
}

impl QueuePage {
    fn level(&self, skill: SkillId) -> u8 {
        self.q
            .skills
            .iter()
            .find(|s| s.skill == skill)
            .map_or(0, |s| s.level)
    }
}

fn queue_id(id: &str) -> Result<Option<QueueId>, ApiError> {
    match id {
        "new" => Ok(None),
        other => other
            .parse()
            .map(|i| Some(QueueId(i)))
            .map_err(|_| ApiError::NotFound),
    }
}

pub async fn queue_form(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<String>,
    Query(q): Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "routing").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let tenant = ui.0.tenant.id;
    let id = or_page(&c, queue_id(&id))?;
    let spec = match id {
        Some(id) => or_page(&c, state.store.queue(tenant, id).await)?,
        None => {
            let mut q = QueueSpec::new(QueueId(0), "", &[WorkKind::Email]);
            q.offer_timeout_secs = Some(30);
            q
        }
    };
    let step = spec.overflow.iter().find(|o| o.move_to.is_some());
    let others = or_page(&c, state.store.queues(tenant).await)?
        .into_iter()
        .filter(|o| Some(o.id) != id)
        .collect();
    Ok(render(&QueuePage {
        move_after: step.map(|s| s.after_secs.to_string()).unwrap_or_default(),
        move_to: step.and_then(|s| s.move_to),
        id: id.map(|i| i.0),
        skills: or_page(&c, state.store.skills(tenant).await)?,
        teams: or_page(&c, state.store.teams(tenant).await)?,
        calendars: or_page(&c, state.store.calendars(tenant).await)?,
        others,
        kinds: WorkKind::ALL,
        strategies: Strategy::ALL,
        actions: WaitAction::ALL,
        q: spec,
        c,
    }))
}

fn seconds(f: &FormPairs, key: &str) -> Result<Option<u32>, ApiError> {
    let v = f.one(key);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| ApiError::field(key, "must be a whole number of seconds"))
}

pub async fn save_queue(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let tenant = ui.0.tenant.id;
        let id = queue_id(&id)?;
        let mut q = match id {
            Some(id) => state.store.queue(tenant, id).await?,
            None => QueueSpec::new(QueueId(0), "", &[]),
        };
        q.name = f.one("name");
        q.kinds = parse_all(&f, "kinds", WorkKind::parse)?;
        q.skills = Vec::new();
        for s in state.store.skills(tenant).await? {
            let level = f.one(&format!("skill_{}", s.id.0));
            if let Ok(level @ 1..) = level.parse::<u8>() {
                q.skills.push(SkillLevel { skill: s.id, level });
            }
        }
        q.teams = f
            .all("teams")
            .iter()
            .filter_map(|t| t.parse().ok().map(TeamId))
            .collect();
        q.priority = f
            .one("priority")
            .parse()
            .map_err(|_| ApiError::field("priority", "must be a whole number"))?;
        q.strategy = Strategy::parse(&f.one("strategy"))?;
        q.wrap_up_secs = seconds(&f, "wrap_up_secs")?.unwrap_or(0);
        q.offer_timeout_secs = seconds(&f, "offer_timeout_secs")?;
        q.max_wait_secs = seconds(&f, "max_wait_secs")?;
        q.on_max_wait = WaitAction::parse(&f.one("on_max_wait"))?;
        q.when_closed = WaitAction::parse(&f.one("when_closed"))?;
        q.prefer_secs = seconds(&f, "prefer_secs")?.unwrap_or(0);
        q.calendar_id = f.one("calendar_id").parse().ok().map(CalendarId);
        // The form edits the step that moves work; steps that widen skills (set over the API) stay.
        q.overflow.retain(|o| o.move_to.is_none());
        if let (Some(after), Ok(to)) = (seconds(&f, "move_after")?, f.one("move_to").parse()) {
            q.overflow.push(Overflow {
                after_secs: after,
                widen_to: None,
                move_to: Some(QueueId(to)),
            });
        }
        q.overflow.sort_by_key(|o| o.after_secs);
        crate::api::routing::save_queue(&state, &ui.0, id, q).await?;
        Ok(())
    }
    .await;
    Ok(match r {
        Ok(()) => Redirect::to("/routing").into_response(),
        Err(e) => back(&format!("/routing/queues/{id}"), Err(e)),
    })
}

#[derive(Template)]
#[template(path = "routing_agent.html")]
struct AgentPage {
    c: Chrome,
    a: store::RoutingAgent,
    skills: Vec<Skill>,
    kinds: &'static [WorkKind],
    languages: String,
}

impl AgentPage {
    fn level(&self, skill: SkillId) -> u8 {
        self.a
            .profile
            .skills
            .iter()
            .find(|s| s.skill == skill)
            .map_or(0, |s| s.level)
    }
}

pub async fn agent_form(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "routing").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let tenant = ui.0.tenant.id;
    let a = or_page(&c, state.store.routing_agent(tenant, UserId(id)).await)?;
    Ok(render(&AgentPage {
        languages: a.profile.languages.join(", "),
        a,
        skills: or_page(&c, state.store.skills(tenant).await)?,
        kinds: WorkKind::ALL,
        c,
    }))
}

pub async fn save_agent(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let tenant = ui.0.tenant.id;
        let mut p = AgentProfile {
            languages: words(&f.one("languages")),
            ..Default::default()
        };
        for s in state.store.skills(tenant).await? {
            if let Ok(level @ 1..) = f.one(&format!("skill_{}", s.id.0)).parse::<u8>() {
                p.skills.push(SkillLevel { skill: s.id, level });
            }
        }
        let mut cap = serde_json::Map::new();
        for k in WorkKind::ALL {
            let key = format!("capacity_{k}");
            let n: u8 = f
                .one(&key)
                .parse()
                .map_err(|_| ApiError::field(&key, "must be a whole number"))?;
            cap.insert(k.to_string(), n.into());
        }
        p.capacity = serde_json::from_value(cap.into())
            .map_err(|e| ApiError::field("capacity", e.to_string()))?;
        let saved = state
            .store
            .save_routing_profile(ui.0.actor(), UserId(id), p, Timestamp::now())
            .await?;
        state.acd.agent_saved(tenant, saved.spec()).await?;
        Ok(())
    }
    .await;
    Ok(match r {
        Ok(()) => Redirect::to("/routing").into_response(),
        Err(e) => back(&format!("/routing/agents/{id}"), Err(e)),
    })
}
