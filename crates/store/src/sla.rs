//! SLA: the clocks of cases and department tasks, moved by what happens on
//! the case, and the escalation scheduler that fires their warnings and
//! breaches from the stored, indexed instants.
//!
//! Every clock row keeps its due and warning instants and the next instant
//! the scheduler must look at it (`next_fire_at`, in a partial index), so a
//! tick reads only the clocks that are due, however many cases are open.
//! A firing moves the clock's `stage` forward in the same transaction as the
//! actions it sets off, and only if the stage is still what was read: a
//! restart repeats nothing, and of two servers on one PostgreSQL one fires.

use crate::db::{Backend, RowExt, Store, ms, ts, vocab};
use crate::events::{case_event, data};
use crate::exec::{Exec, query};
use crate::{Result, StoreError};
use domain::calendar::{Calendar, CalendarError, CalendarSpec};
use domain::case::{CaseStatus, Channel, Priority};
use domain::ids::*;
use domain::model::{Actor, CaseInput};
use domain::policy::{
    ClockKind, ClockView, Command, Facts, PolicySpec, Recipient, Signal, Stage, choose, react,
};
use domain::sla::{Clock, Pause, SlaState};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::HashMap;

/// One clock as the case screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ClockInfo {
    pub id: ClockId,
    pub kind: ClockKind,
    pub task_id: Option<TaskId>,
    pub calendar_id: Option<CalendarId>,
    pub target_minutes: i64,
    pub started_at: Timestamp,
    pub stopped_at: Option<Timestamp>,
    pub paused: bool,
    pub due_at: Option<Timestamp>,
    pub warn_at: Option<Timestamp>,
    pub state: SlaState,
}

/// What one scheduler tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickOutcome {
    pub warnings: usize,
    pub breaches: usize,
}

/// Calendars read once per transaction; `None` is the wall clock.
#[derive(Default)]
pub(crate) struct Calendars(HashMap<i64, Calendar>);

impl Calendars {
    pub(crate) async fn get<E: Exec>(
        &mut self,
        conn: &mut E,
        tenant: TenantId,
        id: Option<i64>,
    ) -> Result<Calendar> {
        let Some(id) = id else {
            return Ok(Calendar::always_open());
        };
        if let Some(c) = self.0.get(&id) {
            return Ok(c.clone());
        }
        let row = query("SELECT spec FROM calendars WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| StoreError::invalid("calendar_id", "does not exist"))?;
        let cal = parse_calendar(&row.text("spec")?)?;
        self.0.insert(id, cal.clone());
        Ok(cal)
    }
}

pub(crate) fn parse_calendar(json: &str) -> Result<Calendar> {
    let spec: CalendarSpec = serde_json::from_str(json)
        .map_err(|e| StoreError::Internal(format!("stored calendar: {e}")))?;
    Calendar::parse(&spec).map_err(|e| StoreError::Internal(format!("stored calendar: {e}")))
}

fn calendar_err(e: CalendarError) -> StoreError {
    StoreError::invalid("calendar_id", &e.to_string())
}

fn system(tenant: TenantId) -> Actor {
    Actor {
        tenant_id: tenant,
        user_id: None,
        channel: None,
    }
}

/// A clock row with its domain clock.
struct Row {
    id: i64,
    case_id: CaseId,
    task_id: Option<i64>,
    policy_id: Option<i64>,
    kind: ClockKind,
    calendar_id: Option<i64>,
    warn_percent: u8,
    clock: Clock,
    stage: Stage,
    due_at: Option<Timestamp>,
    warn_at: Option<Timestamp>,
    state: SlaState,
}

const CLOCK_COLS: &str = "id, case_id, task_id, policy_id, kind, calendar_id, target_seconds, warn_percent, \
    started_at, pauses, stopped_at, due_at, warn_at, stage, state";

fn clock_row<R: RowExt>(r: &R) -> Result<Row> {
    let pauses: Vec<(i64, Option<i64>)> = serde_json::from_str(&r.text("pauses")?)
        .map_err(|e| StoreError::Internal(format!("stored pauses: {e}")))?;
    let stage = r.text("stage")?;
    let state = r.text("state")?;
    Ok(Row {
        id: r.int("id")?,
        case_id: CaseId(r.int("case_id")?),
        task_id: r.opt_int("task_id")?,
        policy_id: r.opt_int("policy_id")?,
        kind: vocab(ClockKind::parse(&r.text("kind")?))?,
        calendar_id: r.opt_int("calendar_id")?,
        warn_percent: r.int("warn_percent")?.clamp(1, 99) as u8,
        clock: Clock {
            started_at: r.time("started_at")?,
            target: SignedDuration::from_secs(r.int("target_seconds")?),
            pauses: pauses
                .into_iter()
                .map(|(from, until)| Pause {
                    from: ts(from),
                    until: until.map(ts),
                })
                .collect(),
            stopped_at: r.opt_time("stopped_at")?,
        },
        stage: Stage::parse(&stage)
            .ok_or_else(|| StoreError::Internal(format!("stored stage {stage:?}")))?,
        due_at: r.opt_time("due_at")?,
        warn_at: r.opt_time("warn_at")?,
        state: sla_state(&state)?,
    })
}

fn pauses_json(c: &Clock) -> String {
    let list: Vec<(i64, Option<i64>)> = c
        .pauses
        .iter()
        .map(|p| (ms(p.from), p.until.map(ms)))
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn sla_state(text: &str) -> Result<SlaState> {
    vocab(SlaState::parse(text))
}

/// The instants and state of a clock at `now`, after the escalation reached `stage`.
struct Derived {
    due_at: Option<Timestamp>,
    warn_at: Option<Timestamp>,
    state: SlaState,
    next_fire: Option<Timestamp>,
}

fn derive(
    clock: &Clock,
    cal: &Calendar,
    warn: u8,
    stage: Stage,
    now: Timestamp,
) -> Result<Derived> {
    let due_at = clock.due(cal).map_err(calendar_err)?;
    let warn_at = clock.warn_at(cal, warn).map_err(calendar_err)?;
    let state = if stage == Stage::Breached {
        SlaState::Breached
    } else {
        clock.state(cal, now, warn).map_err(calendar_err)?
    };
    let running = clock.stopped_at.is_none() && !clock.is_paused();
    let next_fire = if running {
        stage.next_fire(warn_at, due_at)
    } else {
        None
    };
    Ok(Derived {
        due_at,
        warn_at,
        state,
        next_fire,
    })
}

/// What a new clock is made of.
struct NewClock {
    case_id: CaseId,
    task_id: Option<i64>,
    policy_id: Option<i64>,
    kind: ClockKind,
    calendar_id: Option<i64>,
    target: SignedDuration,
    warn_percent: u8,
}

async fn insert_clock<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    cals: &mut Calendars,
    n: &NewClock,
    stopped: bool,
    at: Timestamp,
) -> Result<Derived> {
    let cal = cals.get(conn, tenant, n.calendar_id).await?;
    let mut clock = Clock::start(at, n.target);
    if stopped {
        clock.stop(at);
    }
    let d = derive(&clock, &cal, n.warn_percent, Stage::Running, at)?;
    query(
        "INSERT INTO sla_clocks (tenant_id, case_id, task_id, policy_id, kind, calendar_id, target_seconds, warn_percent, \
         started_at, pauses, stopped_at, due_at, warn_at, stage, state, next_fire_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '[]', $10, $11, $12, 'running', $13, $14)",
    )
    .bind(tenant.0)
    .bind(n.case_id.0)
    .bind(n.task_id)
    .bind(n.policy_id)
    .bind(n.kind.as_str())
    .bind(n.calendar_id)
    .bind(n.target.as_secs())
    .bind(i64::from(n.warn_percent))
    .bind(ms(at))
    .bind(clock.stopped_at.map(ms))
    .bind(d.due_at.map(ms))
    .bind(d.warn_at.map(ms))
    .bind(SlaState::as_str(d.state))
    .bind(d.next_fire.map(ms))
    .execute(conn)
    .await?;
    Ok(d)
}

/// Writes a clock back after its pauses or stop changed.
async fn save_clock<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    cals: &mut Calendars,
    row: &Row,
    at: Timestamp,
) -> Result<Derived> {
    let cal = cals.get(conn, tenant, row.calendar_id).await?;
    let d = derive(&row.clock, &cal, row.warn_percent, row.stage, at)?;
    query(
        "UPDATE sla_clocks SET pauses = $1, stopped_at = $2, due_at = $3, warn_at = $4, state = $5, next_fire_at = $6 \
         WHERE tenant_id = $7 AND id = $8",
    )
    .bind(pauses_json(&row.clock))
    .bind(row.clock.stopped_at.map(ms))
    .bind(d.due_at.map(ms))
    .bind(d.warn_at.map(ms))
    .bind(SlaState::as_str(d.state))
    .bind(d.next_fire.map(ms))
    .bind(tenant.0)
    .bind(row.id)
    .execute(conn)
    .await?;
    Ok(d)
}

async fn case_clocks<E: Exec>(conn: &mut E, tenant: TenantId, case: CaseId) -> Result<Vec<Row>> {
    query(format!(
        "SELECT {CLOCK_COLS} FROM sla_clocks WHERE tenant_id = $1 AND case_id = $2 AND task_id IS NULL ORDER BY id"
    ))
    .bind(tenant.0)
    .bind(case.0)
    .fetch_all(conn)
    .await?
    .iter()
    .map(clock_row)
    .collect()
}

/// The clocks still running whose `column` (a fixed name) is `id`.
async fn running_clocks<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    column: &str,
    id: i64,
) -> Result<Vec<Row>> {
    query(format!(
        "SELECT {CLOCK_COLS} FROM sla_clocks WHERE tenant_id = $1 AND {column} = $2 AND stopped_at IS NULL"
    ))
    .bind(tenant.0)
    .bind(id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(clock_row)
    .collect()
}

/// The case's status and the policy it follows.
async fn case_policy<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    case: CaseId,
) -> Result<(CaseStatus, Option<(i64, PolicySpec)>)> {
    let r = query(
        "SELECT c.status, c.sla_policy_id, p.spec FROM cases c LEFT JOIN sla_policies p ON p.id = c.sla_policy_id \
         WHERE c.tenant_id = $1 AND c.id = $2",
    )
    .bind(tenant.0)
    .bind(case.0)
    .fetch_one(conn)
    .await?;
    let status = vocab(CaseStatus::parse(&r.text("status")?))?;
    let policy = match (r.opt_int("sla_policy_id")?, r.opt_text("spec")?) {
        (Some(id), Some(spec)) => Some((id, parse_policy(&spec)?)),
        _ => None,
    };
    Ok((status, policy))
}

pub(crate) fn parse_policy(json: &str) -> Result<PolicySpec> {
    serde_json::from_str(json).map_err(|e| StoreError::Internal(format!("stored policy: {e}")))
}

/// The tenant's policies in the order their rules are tried.
pub(crate) async fn policies_in_order<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
) -> Result<Vec<(i64, PolicySpec)>> {
    query("SELECT id, spec FROM sla_policies WHERE tenant_id = $1 ORDER BY position, id")
        .bind(tenant.0)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((r.int("id")?, parse_policy(&r.text("spec")?)?)))
        .collect()
}

/// Chooses the policy of a new case and starts its clocks.
pub(crate) async fn case_opened<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case: CaseId,
    input: &CaseInput,
    address_id: Option<i64>,
    status: CaseStatus,
    at: Timestamp,
) -> Result<()> {
    let tenant = actor.tenant_id;
    let policies = policies_in_order(conn, tenant).await?;
    if policies.is_empty() {
        return Ok(());
    }
    let (tier, tags) = match input.customer_id {
        Some(c) => {
            let r = query("SELECT tier, tags FROM customers WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(c.0)
                .fetch_one(conn)
                .await?;
            let tags = r.text("tags")?;
            let tags: Vec<String> = tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            (Some(r.text("tier")?), tags)
        }
        None => (None, Vec::new()),
    };
    let facts = Facts {
        case_type: input.case_type,
        channel: input.channel,
        address_id,
        team_id: input.team_id,
        tier: tier.as_deref(),
        tags: &tags,
    };
    let Some((policy_id, policy)) = choose(&policies, &facts) else {
        return Ok(());
    };
    query("UPDATE cases SET sla_policy_id = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(*policy_id)
        .bind(tenant.0)
        .bind(case.0)
        .execute(conn)
        .await?;
    case_event(
        conn,
        actor,
        case,
        "sla_policy",
        &data([
            ("policy_id", policy_id.to_string()),
            ("policy", policy.name.clone()),
        ]),
        at,
    )
    .await?;
    // Opened by an agent while talking with the customer: answered then.
    let answered_live = actor.user_id.is_some()
        && matches!(
            input.channel,
            Channel::Phone | Channel::WalkIn | Channel::Chat
        );
    let commands = react(policy, &[], status, Signal::Opened { answered_live });
    apply(
        conn,
        tenant,
        case,
        (*policy_id, policy),
        Vec::new(),
        &commands,
        at,
    )
    .await
}

/// Moves the clocks of a case for something that happened on it.
pub(crate) async fn signal<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    case: CaseId,
    signal: Signal,
    at: Timestamp,
) -> Result<()> {
    let (status, policy) = case_policy(conn, tenant, case).await?;
    let Some((policy_id, policy)) = policy else {
        return Ok(());
    };
    let status = match signal {
        Signal::Status { from, .. } => from,
        _ => status,
    };
    let clocks = case_clocks(conn, tenant, case).await?;
    let views: Vec<ClockView> = clocks
        .iter()
        .map(|c| ClockView {
            kind: c.kind,
            running: c.clock.stopped_at.is_none(),
        })
        .collect();
    let commands = react(&policy, &views, status, signal);
    if commands.is_empty() {
        return Ok(());
    }
    apply(
        conn,
        tenant,
        case,
        (policy_id, &policy),
        clocks,
        &commands,
        at,
    )
    .await
}

async fn apply<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    case: CaseId,
    (policy_id, policy): (i64, &PolicySpec),
    mut clocks: Vec<Row>,
    commands: &[Command],
    at: Timestamp,
) -> Result<()> {
    let mut cals = Calendars::default();
    for command in commands {
        let (kind, stopped) = match *command {
            Command::Start(k) => (k, false),
            Command::StartMet(k) => (k, true),
            Command::PauseAll => {
                // Clocks started by the same signal stand still too.
                clocks = case_clocks(conn, tenant, case).await?;
                for row in clocks.iter_mut().filter(|c| c.clock.stopped_at.is_none()) {
                    row.clock.pause(at);
                    save_clock(conn, tenant, &mut cals, row, at).await?;
                }
                continue;
            }
            Command::ResumeAll | Command::Stop(_) => {
                for row in clocks.iter_mut().filter(|c| c.clock.stopped_at.is_none()) {
                    match *command {
                        Command::Stop(k) if row.kind == k => row.clock.stop(at),
                        Command::ResumeAll => row.clock.resume(at),
                        _ => continue,
                    }
                    save_clock(conn, tenant, &mut cals, row, at).await?;
                }
                continue;
            }
        };
        let Some(target) = policy.target(kind) else {
            continue;
        };
        let new = NewClock {
            case_id: case,
            task_id: None,
            policy_id: Some(policy_id),
            kind,
            calendar_id: if target.business {
                policy.calendar_id.map(|c| c.0)
            } else {
                None
            },
            target: SignedDuration::from_mins(i64::from(target.minutes)),
            warn_percent: policy.warn_percent,
        };
        insert_clock(conn, tenant, &mut cals, &new, stopped, at).await?;
    }
    refresh_case(conn, tenant, case).await
}

/// The case's SLA state and due instant, from its clocks: the worst of those
/// still running (breached, warning, ok, then paused) and the earliest due
/// instant among them; once none runs, breached if any promise was broken,
/// else met.
async fn refresh_case<E: Exec>(conn: &mut E, tenant: TenantId, case: CaseId) -> Result<()> {
    let rows = query(
        "SELECT state, due_at, stopped_at FROM sla_clocks WHERE tenant_id = $1 AND case_id = $2 AND task_id IS NULL",
    )
    .bind(tenant.0)
    .bind(case.0)
    .fetch_all(conn)
    .await?;
    let mut running: Vec<(SlaState, Option<i64>)> = Vec::new();
    let mut done: Vec<SlaState> = Vec::new();
    for r in &rows {
        let state = sla_state(&r.text("state")?)?;
        if r.opt_int("stopped_at")?.is_some() {
            done.push(state);
        } else {
            running.push((state, r.opt_int("due_at")?));
        }
    }
    let rank = |s: SlaState| match s {
        SlaState::Breached => 0,
        SlaState::Warning => 1,
        SlaState::Ok => 2,
        SlaState::Paused => 3,
        SlaState::Met => 4,
    };
    let (state, due) = if let Some(worst) = running.iter().map(|r| r.0).min_by_key(|s| rank(*s)) {
        let due = running
            .iter()
            .filter(|r| r.0 != SlaState::Paused)
            .filter_map(|r| r.1)
            .min();
        (Some(worst), due)
    } else if done.is_empty() {
        (None, None)
    } else if done.contains(&SlaState::Breached) {
        (Some(SlaState::Breached), None)
    } else {
        (Some(SlaState::Met), None)
    };
    query("UPDATE cases SET sla_state = $1, sla_due_at = $2 WHERE tenant_id = $3 AND id = $4")
        .bind(state.map(SlaState::as_str))
        .bind(due)
        .bind(tenant.0)
        .bind(case.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts the running clocks on a calendar again after it changed; how many.
pub(crate) async fn recount_calendar<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    calendar: CalendarId,
    at: Timestamp,
) -> Result<usize> {
    let rows = running_clocks(conn, tenant, "calendar_id", calendar.0).await?;
    let mut cals = Calendars::default();
    let mut cases = Vec::new();
    for row in &rows {
        let d = save_clock(conn, tenant, &mut cals, row, at).await?;
        match (row.task_id, d.due_at) {
            (Some(t), Some(due)) => {
                query(
                    "UPDATE department_tasks SET deadline_at = $1 WHERE tenant_id = $2 AND id = $3",
                )
                .bind(ms(due))
                .bind(tenant.0)
                .bind(t)
                .execute(conn)
                .await?;
                set_task_state(conn, tenant, t, d.state).await?;
            }
            (None, _) if !cases.contains(&row.case_id) => cases.push(row.case_id),
            _ => {}
        }
    }
    for case in cases {
        refresh_case(conn, tenant, case).await?;
    }
    Ok(rows.len())
}

/// A department task's clock before the task is written: its deadline.
pub(crate) struct TaskClock {
    clock: NewClock,
    pub(crate) due: Timestamp,
}

/// The handling deadline of a task passed to `department`: the one given,
/// else the case policy's task target, else the department's default hours;
/// counted on the department's calendar when it has one.
pub(crate) async fn task_clock<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    case: CaseId,
    department: DepartmentId,
    given: Option<Timestamp>,
    at: Timestamp,
) -> Result<TaskClock> {
    let d = query(
        "SELECT default_deadline_hours, calendar_id FROM departments WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.0)
    .bind(department.0)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::invalid("department_id", "does not exist"))?;
    let (_, policy) = case_policy(conn, tenant, case).await?;
    let dept_calendar = d.opt_int("calendar_id")?;
    let (calendar_id, target) = match (given, policy.as_ref().and_then(|p| p.1.task)) {
        (Some(deadline), _) => (None, deadline.duration_since(at).max(SignedDuration::ZERO)),
        (None, Some(t)) => (
            if t.business {
                dept_calendar.or(policy.as_ref().and_then(|p| p.1.calendar_id.map(|c| c.0)))
            } else {
                None
            },
            SignedDuration::from_mins(i64::from(t.minutes)),
        ),
        (None, None) => (
            dept_calendar,
            SignedDuration::from_hours(d.int("default_deadline_hours")?),
        ),
    };
    let clock = NewClock {
        case_id: case,
        task_id: None,
        policy_id: policy.as_ref().map(|p| p.0),
        kind: ClockKind::Task,
        calendar_id,
        target,
        warn_percent: policy.as_ref().map_or(80, |p| p.1.warn_percent),
    };
    let cal = Calendars::default().get(conn, tenant, calendar_id).await?;
    let due = cal.due_after(at, target).map_err(calendar_err)?;
    Ok(TaskClock { clock, due })
}

pub(crate) async fn task_opened<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    task: TaskId,
    mut tc: TaskClock,
    at: Timestamp,
) -> Result<()> {
    tc.clock.task_id = Some(task.0);
    let d = insert_clock(
        conn,
        tenant,
        &mut Calendars::default(),
        &tc.clock,
        false,
        at,
    )
    .await?;
    set_task_state(conn, tenant, task.0, d.state).await
}

pub(crate) async fn task_settled<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    task: TaskId,
    at: Timestamp,
) -> Result<()> {
    let rows = running_clocks(conn, tenant, "task_id", task.0).await?;
    let mut cals = Calendars::default();
    for mut row in rows {
        row.clock.stop(at);
        let d = save_clock(conn, tenant, &mut cals, &row, at).await?;
        set_task_state(conn, tenant, task.0, d.state).await?;
    }
    Ok(())
}

async fn set_task_state<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    task: i64,
    state: SlaState,
) -> Result<()> {
    query("UPDATE department_tasks SET sla_state = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(SlaState::as_str(state))
        .bind(tenant.0)
        .bind(task)
        .execute(conn)
        .await?;
    Ok(())
}

/// The users a warning or breach goes to.
async fn recipients<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    row: &Row,
    wanted: &[Recipient],
) -> Result<Vec<(Recipient, i64)>> {
    let mut out: Vec<(Recipient, i64)> = Vec::new();
    for r in wanted {
        let ids: Vec<i64> = match (r, row.task_id) {
            (Recipient::Assignee, None) => {
                opt_user(conn, "SELECT assignee_id AS u FROM cases WHERE tenant_id = $1 AND id = $2", tenant, row.case_id.0).await?
            }
            (Recipient::Assignee, Some(t)) => {
                opt_user(conn, "SELECT assignee_id AS u FROM department_tasks WHERE tenant_id = $1 AND id = $2", tenant, t).await?
            }
            (Recipient::TeamLeader, _) => opt_user(
                conn,
                "SELECT t.leader_id AS u FROM cases c JOIN teams t ON t.id = c.team_id WHERE c.tenant_id = $1 AND c.id = $2",
                tenant,
                row.case_id.0,
            )
            .await?,
            (Recipient::InterfacePerson, Some(t)) => opt_user(
                conn,
                "SELECT d.interface_user_id AS u FROM department_tasks k JOIN departments d ON d.id = k.department_id \
                 WHERE k.tenant_id = $1 AND k.id = $2",
                tenant,
                t,
            )
            .await?,
            (Recipient::InterfacePerson, None) => Vec::new(),
            (Recipient::Supervisor, _) => query(
                "SELECT id AS u FROM users WHERE tenant_id = $1 AND role = 'supervisor' AND active = 1 ORDER BY id",
            )
            .bind(tenant.0)
            .fetch_all(conn)
            .await?
            .iter()
            .map(|r| r.int("u"))
            .collect::<Result<_>>()?,
        };
        for id in ids {
            if !out.iter().any(|(_, u)| *u == id) {
                out.push((*r, id));
            }
        }
    }
    Ok(out)
}

async fn opt_user<E: Exec>(conn: &mut E, sql: &str, tenant: TenantId, id: i64) -> Result<Vec<i64>> {
    let r = query(sql)
        .bind(tenant.0)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(match r {
        Some(r) => r.opt_int("u")?.into_iter().collect(),
        None => Vec::new(),
    })
}

/// Fires one clock if it is still in the stage it was read in.
async fn fire<E: Exec>(
    conn: &mut E,
    id: i64,
    now: Timestamp,
    cals: &mut HashMap<i64, Calendars>,
    out: &mut TickOutcome,
) -> Result<()> {
    let r = query(format!(
        "SELECT tenant_id, {CLOCK_COLS} FROM sla_clocks WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await?;
    let tenant = TenantId(r.int("tenant_id")?);
    let mut row = clock_row(&r)?;
    let cals = cals.entry(tenant.0).or_default();
    let cal = cals.get(conn, tenant, row.calendar_id).await?;
    let Some(stage) = row.stage.fire(now, row.warn_at, row.due_at) else {
        // Nothing is due after all (the row moved since it was read): look again when it is.
        let d = derive(&row.clock, &cal, row.warn_percent, row.stage, now)?;
        query("UPDATE sla_clocks SET next_fire_at = $1 WHERE id = $2")
            .bind(d.next_fire.map(ms))
            .bind(id)
            .execute(conn)
            .await?;
        return Ok(());
    };
    let d = derive(&row.clock, &cal, row.warn_percent, stage, now)?;
    let moved = query(
        "UPDATE sla_clocks SET stage = $1, state = $2, next_fire_at = $3 WHERE id = $4 AND stage = $5",
    )
    .bind(stage.as_str())
    .bind(SlaState::as_str(d.state))
    .bind(d.next_fire.map(ms))
    .bind(id)
    .bind(row.stage.as_str())
    .execute(conn)
    .await?;
    if moved == 0 {
        return Ok(());
    }
    row.stage = stage;
    let policy = match row.policy_id {
        Some(p) => {
            let spec = query("SELECT spec FROM sla_policies WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(p)
                .fetch_optional(conn)
                .await?;
            match spec {
                Some(s) => Some(parse_policy(&s.text("spec")?)?),
                None => None,
            }
        }
        None => None,
    };
    let breach = stage == Stage::Breached;
    if breach {
        out.breaches += 1;
    } else {
        out.warnings += 1;
    }
    let actor = system(tenant);
    let kind = if breach {
        "sla_breached"
    } else {
        "sla_warning"
    };
    let due = row.due_at.map(|d| d.to_string()).unwrap_or_default();
    let mut d_event = data([("clock", row.kind.to_string()), ("due_at", due.clone())]);
    if let Some(t) = row.task_id {
        d_event.insert("task_id".into(), t.to_string());
    }
    case_event(conn, actor, row.case_id, kind, &d_event, now).await?;

    // Who hears of it: the policy's choice; a task's lateness without a
    // policy goes to the department's interface person and the task's owner.
    let wanted: Vec<Recipient> = match (&policy, breach, row.task_id) {
        (Some(p), true, _) => p.breach.notify.clone(),
        (Some(p), false, _) => p.warn_notify.clone(),
        (None, true, Some(_)) => vec![Recipient::InterfacePerson, Recipient::Assignee],
        (None, _, _) => Vec::new(),
    };
    let people = recipients(conn, tenant, &row, &wanted).await?;
    if !people.is_empty() {
        // Held until the policy's calendar opens unless the policy says any hour.
        let any_time = policy.as_ref().is_none_or(|p| p.notify_any_time);
        let hours_of =
            policy
                .as_ref()
                .and_then(|p| p.calendar_id.map(|c| c.0))
                .or(if row.task_id.is_some() {
                    row.calendar_id
                } else {
                    None
                });
        let deliver_at = if any_time || hours_of.is_none() {
            None
        } else {
            let hours = cals.get(conn, tenant, hours_of).await?;
            let open = hours.next_open(now).map_err(calendar_err)?;
            (open > now).then_some(open)
        };
        let r = query(
            "SELECT c.year, c.seq, t.timezone FROM cases c JOIN tenants t ON t.id = c.tenant_id \
             WHERE c.tenant_id = $1 AND c.id = $2",
        )
        .bind(tenant.0)
        .bind(row.case_id.0)
        .fetch_one(conn)
        .await?;
        let number = domain::case::CaseNumber {
            year: r.int("year")? as i16,
            seq: r.int("seq")?,
        };
        // The case, the promise and its due time on the tenant's clock.
        let tz = jiff::tz::TimeZone::get(&r.text("timezone")?).unwrap_or(jiff::tz::TimeZone::UTC);
        let local = row
            .due_at
            .map(|d| d.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let body = format!("{number} {} {local}", row.kind);
        for (recipient, user) in &people {
            query(
                "INSERT INTO notifications (tenant_id, user_id, case_id, kind, body, created_at, deliver_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tenant.0)
            .bind(*user)
            .bind(row.case_id.0)
            .bind(kind)
            .bind(body.as_str())
            .bind(ms(now))
            .bind(deliver_at.map(ms))
            .execute(conn)
            .await?;
            let mut d = data([
                ("action", "notify".to_string()),
                ("recipient", recipient.to_string()),
                ("user_id", user.to_string()),
                ("clock", row.kind.to_string()),
            ]);
            if let Some(at) = deliver_at {
                d.insert("deliver_at".into(), at.to_string());
            }
            case_event(conn, actor, row.case_id, "escalated", &d, now).await?;
        }
    }
    if let (true, None, Some(p)) = (breach, row.task_id, &policy) {
        escalate_case(conn, actor, &row, p, now).await?;
    }
    match row.task_id {
        Some(t) => set_task_state(conn, tenant, t, d.state).await?,
        None => refresh_case(conn, tenant, row.case_id).await?,
    }
    Ok(())
}

/// A breached case clock's actions on the case itself.
async fn escalate_case<E: Exec>(
    conn: &mut E,
    actor: Actor,
    row: &Row,
    policy: &PolicySpec,
    now: Timestamp,
) -> Result<()> {
    let tenant = actor.tenant_id;
    let case = row.case_id;
    let r = query("SELECT priority, team_id FROM cases WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(case.0)
        .fetch_one(conn)
        .await?;
    if policy.breach.raise_priority {
        let old = vocab(Priority::parse(&r.text("priority")?))?;
        let new = old.raised();
        if new != old {
            query(
                "UPDATE cases SET priority = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(new.as_str())
            .bind(ms(now))
            .bind(tenant.0)
            .bind(case.0)
            .execute(conn)
            .await?;
            let d = data([
                ("action", "raise_priority".to_string()),
                ("priority", format!("{old} → {new}")),
                ("clock", row.kind.to_string()),
            ]);
            case_event(conn, actor, case, "escalated", &d, now).await?;
        }
    }
    if let Some(team) = policy.breach.move_to_team {
        let old = r.opt_int("team_id")?;
        let exists = query("SELECT 1 AS x FROM teams WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(team.0)
            .fetch_optional(conn)
            .await?
            .is_some();
        if exists && old != Some(team.0) {
            query(
                "UPDATE cases SET team_id = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(team.0)
            .bind(ms(now))
            .bind(tenant.0)
            .bind(case.0)
            .execute(conn)
            .await?;
            let d = data([
                ("action", "move_to_team".to_string()),
                (
                    "team_id",
                    format!("{} → {team}", old.map_or("-".into(), |o| o.to_string())),
                ),
                ("clock", row.kind.to_string()),
            ]);
            case_event(conn, actor, case, "escalated", &d, now).await?;
        }
    }
    Ok(())
}

impl Store {
    /// One run of the escalation scheduler: fires up to `limit` warnings and
    /// breaches that are due at `now`, oldest first.
    pub async fn sla_tick(&self, now: Timestamp, limit: u32) -> Result<TickOutcome> {
        let (_w, mut tx) = self.write_tx().await?;
        // Another server may be firing too: it keeps the rows it holds.
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let ids: Vec<i64> = query(format!(
            "SELECT id FROM sla_clocks WHERE next_fire_at IS NOT NULL AND next_fire_at <= $1 \
             ORDER BY next_fire_at LIMIT $2{lock}"
        ))
        .bind(ms(now))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut tx)
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect::<Result<_>>()?;
        let mut out = TickOutcome::default();
        let mut cals = HashMap::new();
        for id in ids {
            fire(&mut tx, id, now, &mut cals, &mut out).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The clocks of a case and of its department tasks, oldest first.
    pub async fn clocks(&self, tenant: TenantId, case: CaseId) -> Result<Vec<ClockInfo>> {
        let mut conn = self.pool.acquire().await?;
        let rows = query(format!(
            "SELECT {CLOCK_COLS} FROM sla_clocks WHERE tenant_id = $1 AND case_id = $2 ORDER BY id"
        ))
        .bind(tenant.0)
        .bind(case.0)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let row = clock_row(r)?;
                Ok(ClockInfo {
                    id: ClockId(row.id),
                    kind: row.kind,
                    task_id: row.task_id.map(TaskId),
                    calendar_id: row.calendar_id.map(CalendarId),
                    target_minutes: row.clock.target.as_secs() / 60,
                    started_at: row.clock.started_at,
                    stopped_at: row.clock.stopped_at,
                    paused: row.clock.is_paused(),
                    due_at: row.due_at,
                    warn_at: row.warn_at,
                    state: row.state,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
