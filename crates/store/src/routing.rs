//! Routing as stored: skills, the agents' routing profiles, queues and their
//! entry rules (configuration), and the work items, offers and agent states
//! the router decides on. Work is written in the same transaction as what
//! caused it (a case opened, a customer's reply, a department's return), so
//! nothing accepted is lost to a crash before the router has seen it; the
//! server's driver takes `pending` rows into its router and writes back the
//! router's decisions.

use crate::cases::set_status;
use crate::db::{RowExt, Store, ms, ts, vocab};
use crate::events::{audit, case_event, data};
use crate::exec::{Exec, query};
use crate::users::{exists, in_use};
use crate::{Result, StoreError};
use domain::case::{CaseStatus, Priority};
use domain::ids::*;
use domain::model::Actor;
use domain::model::CaseInput;
use domain::role::{Permission, Role};
use domain::routing::{
    AgentProfile, AgentSpec, AgentState, EntryConditions, EntryFacts, Event, Prefer, QueueSpec,
    WaitAction, Work, WorkKind, entry_queue,
};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// Roles whose users take routed work: everyone who may work cases, as an
/// SQL list such as `('admin', 'agent')`.
fn routed_roles() -> String {
    let names: Vec<String> = Role::ALL
        .iter()
        .filter(|r| r.allows(Permission::WorkCases))
        .map(|r| format!("'{r}'"))
        .collect();
    format!("({})", names.join(", "))
}

pub(crate) const NOT_ROUTED: &str =
    "takes no routed work (deactivated, or a role that works no cases)";

/// Whether a user of the tenant takes routed work; `None` when there is no such user.
pub(crate) async fn takes_routed_work<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    user: UserId,
) -> Result<Option<bool>> {
    let Some(r) = query("SELECT role, active FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(user.0)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let role = r.text("role")?;
    Ok(Some(
        r.int("active")? == 1 && Role::parse(&role).is_ok_and(|r| r.allows(Permission::WorkCases)),
    ))
}

#[derive(Debug, Clone, Serialize)]
pub struct Skill {
    pub id: SkillId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryRule {
    pub queue_id: QueueId,
    pub conditions: EntryConditions,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoutingAgent {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub team_id: Option<TeamId>,
    #[serde(flatten)]
    pub profile: AgentProfile,
    /// The last state recorded, and since when.
    pub state: Option<String>,
    pub since: Option<Timestamp>,
}

impl RoutingAgent {
    pub fn spec(&self) -> AgentSpec {
        self.profile
            .clone()
            .spec(self.user_id, self.team_id.into_iter().collect())
    }
}

/// A work item the router still holds, as recovered after a restart.
#[derive(Debug, Clone)]
pub struct OpenWork {
    pub work: Work,
    pub state: String,
    pub agent: Option<UserId>,
}

/// Something the router has yet to do with a work item.
#[derive(Debug, Clone)]
pub struct PendingWork {
    pub tenant: TenantId,
    pub open: OpenWork,
    /// `end`: stop routing it (finish it if in hand, else withdraw it).
    pub request: Option<String>,
}

/// A work item as an agent or supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkSummary {
    pub id: WorkId,
    pub kind: WorkKind,
    pub state: String,
    pub queue_id: QueueId,
    pub queue: String,
    pub case_id: CaseId,
    pub case_number: String,
    pub subject: String,
    pub priority: Priority,
    pub agent_id: Option<UserId>,
    pub arrived_at: Timestamp,
    pub offered_until: Option<Timestamp>,
    pub sla_due: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StateSpan {
    pub state: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// Up to `ended_at`, or up to now for the current state.
    pub seconds: i64,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Internal(format!("stored routing JSON: {e}")))
}

fn queue_row(r: &impl RowExt) -> Result<QueueSpec> {
    let mut spec: QueueSpec = parse(&r.text("spec")?)?;
    spec.id = QueueId(r.int("id")?);
    spec.name = r.text("name")?;
    Ok(spec)
}

async fn queue_of<E: Exec>(conn: &mut E, tenant: TenantId, id: QueueId) -> Result<QueueSpec> {
    let row = query("SELECT id, name, spec FROM queues WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    queue_row(&row)
}

/// `kept`: the teams the queue already serves, which may stay on it after
/// they are retired; a retired team is not added anew.
async fn check_queue<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    spec: &QueueSpec,
    kept: &[TeamId],
) -> Result<()> {
    spec.check().map_err(StoreError::Invalid)?;
    for (i, s) in spec.skills.iter().enumerate() {
        exists(
            conn,
            "skills",
            tenant,
            s.skill.0,
            &format!("skills[{i}].skill"),
        )
        .await?;
    }
    for (i, t) in spec.teams.iter().enumerate() {
        let field = format!("teams[{i}]");
        if kept.contains(t) {
            exists(conn, "teams", tenant, t.0, &field).await?;
        } else {
            in_use(conn, "teams", tenant, t.0, &field).await?;
        }
    }
    for (i, o) in spec.overflow.iter().enumerate() {
        if let Some(q) = o.move_to {
            exists(
                conn,
                "queues",
                tenant,
                q.0,
                &format!("overflow[{i}].move_to"),
            )
            .await?;
        }
        for (j, s) in o.widen_to.iter().flatten().enumerate() {
            let field = format!("overflow[{i}].widen_to[{j}].skill");
            exists(conn, "skills", tenant, s.skill.0, &field).await?;
        }
    }
    if let Some(c) = spec.calendar_id {
        exists(conn, "calendars", tenant, c.0, "calendar_id").await?;
    }
    Ok(())
}

fn work_row(r: &impl RowExt) -> Result<OpenWork> {
    let kind = vocab(WorkKind::parse(&r.text("kind")?))?;
    Ok(OpenWork {
        work: Work {
            id: WorkId(r.int("id")?),
            kind,
            queue: QueueId(r.int("queue_id")?),
            priority: vocab(Priority::parse(&r.text("priority")?))?,
            sla_due: r.opt_int("sla_due")?,
            arrived: r.int("arrived_at")?,
            language: r.opt_text("language")?,
            prefer: Prefer {
                agent: r.opt_int("prefer_agent")?.map(UserId),
                team: r.opt_int("prefer_team")?.map(TeamId),
            },
        },
        state: r.text("state")?,
        agent: r.opt_int("agent_id")?.map(UserId),
    })
}

const WORK_COLUMNS: &str = "w.id, w.tenant_id, w.kind, w.queue_id, w.priority, w.sla_due, w.arrived_at, \
     w.language, w.prefer_agent, w.prefer_team, w.state, w.agent_id, w.request";

/// What routing needs to know of a case to choose its queue.
struct CaseFacts {
    case_type: domain::case::CaseType,
    category_id: Option<CategoryId>,
    priority: Priority,
    sla_due: Option<i64>,
    assignee: Option<UserId>,
    status: CaseStatus,
    region: Option<String>,
    tier: Option<String>,
    dedicated_agent: Option<UserId>,
    dedicated_team: Option<TeamId>,
}

async fn case_facts<E: Exec>(conn: &mut E, tenant: TenantId, case: CaseId) -> Result<CaseFacts> {
    let r = query(
        "SELECT c.case_type, c.category_id, c.priority, c.sla_due_at, c.assignee_id, c.status, c.channel, c.custom, \
         cu.region, cu.tier, cu.dedicated_agent_id, cu.dedicated_team_id FROM cases c LEFT JOIN customers cu ON cu.id = c.customer_id AND cu.tenant_id = c.tenant_id \
         WHERE c.tenant_id = $1 AND c.id = $2",
    )
    .bind(tenant.0)
    .bind(case.0)
    .fetch_one(conn)
    .await?;
    Ok(CaseFacts {
        case_type: vocab(domain::case::CaseType::parse(&r.text("case_type")?))?,
        category_id: r.opt_int("category_id")?.map(CategoryId),
        priority: vocab(Priority::parse(&r.text("priority")?))?,
        sla_due: r.opt_int("sla_due_at")?,
        assignee: r.opt_int("assignee_id")?.map(UserId),
        status: vocab(CaseStatus::parse(&r.text("status")?))?,
        // The portal's form says where the matter is: that comes before
        // where the customer lives. (A mail's province came from its
        // receiving address, which stays the last resort.)
        region: match r.text("channel")?.as_str() {
            "web" => serde_json::from_str::<BTreeMap<String, String>>(&r.text("custom")?)
                .ok()
                .and_then(|mut c| c.remove("province")),
            _ => None,
        }
        .or(r.opt_text("region")?),
        tier: r.opt_text("tier")?,
        dedicated_agent: r.opt_int("dedicated_agent_id")?.map(UserId),
        dedicated_team: r.opt_int("dedicated_team_id")?.map(TeamId),
    })
}

async fn has_open_work<E: Exec>(conn: &mut E, tenant: TenantId, case: CaseId) -> Result<bool> {
    Ok(query(
        "SELECT id FROM work_items WHERE tenant_id = $1 AND case_id = $2 AND state <> 'done' LIMIT 1",
    )
    .bind(tenant.0)
    .bind(case.0)
    .fetch_optional(conn)
    .await?
    .is_some())
}

async fn rules_of<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
) -> Result<Vec<(EntryConditions, QueueId)>> {
    query("SELECT queue_id, conditions FROM queue_rules WHERE tenant_id = $1 ORDER BY position, id")
        .bind(tenant.0)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((parse(&r.text("conditions")?)?, QueueId(r.int("queue_id")?))))
        .collect()
}

/// Where new work comes from, besides the case itself.
struct Origin {
    kind: WorkKind,
    address_id: Option<i64>,
    /// Sticky routing: the agent who handled the case.
    prefer_agent: Option<UserId>,
}

/// Puts work for `case` into the queue its entry rules choose; no rule
/// matching leaves the case for people to pick up as before.
async fn enqueue<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case: CaseId,
    origin: Origin,
    at: Timestamp,
) -> Result<Option<WorkId>> {
    let tenant = actor.tenant_id;
    let rules = rules_of(conn, tenant).await?;
    if rules.is_empty() || has_open_work(conn, tenant, case).await? {
        return Ok(None);
    }
    let f = case_facts(conn, tenant, case).await?;
    let (address_region, language) = match origin.address_id {
        Some(a) => {
            let r = query(
                "SELECT region, language FROM mail_addresses WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.0)
            .bind(a)
            .fetch_optional(conn)
            .await?;
            match r {
                Some(r) => (r.opt_text("region")?, Some(r.text("language")?)),
                None => (None, None),
            }
        }
        None => (None, None),
    };
    let region = f.region.clone().or(address_region);
    let language = language.map(|l| {
        l.split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    });
    let facts = EntryFacts {
        kind: Some(origin.kind),
        address_id: origin.address_id,
        case_type: Some(f.case_type),
        category_id: f.category_id,
        region: region.as_deref(),
        tier: f.tier.as_deref(),
        language: language.as_deref(),
    };
    // A rule whose queue does not take this kind of work is passed over.
    let kinds: Vec<(QueueId, Vec<WorkKind>)> =
        query("SELECT id, name, spec FROM queues WHERE tenant_id = $1")
            .bind(tenant.0)
            .fetch_all(conn)
            .await?
            .iter()
            .map(|r| Ok((QueueId(r.int("id")?), queue_row(r)?.kinds)))
            .collect::<Result<_>>()?;
    let takes = |q: &QueueId| {
        kinds
            .iter()
            .any(|(id, k)| id == q && k.contains(&origin.kind))
    };
    let rules: Vec<_> = rules.into_iter().filter(|(_, q)| takes(q)).collect();
    let Some(queue) = entry_queue(&rules, &facts) else {
        return Ok(None);
    };
    let id = query(
        "INSERT INTO work_items (tenant_id, case_id, kind, queue_id, stage, priority, sla_due, language, \
         prefer_agent, prefer_team, arrived_at, state, pending) \
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10, 'waiting', 1) RETURNING id",
    )
    .bind(tenant.0)
    .bind(case.0)
    .bind(origin.kind.as_str())
    .bind(queue.0)
    .bind(f.priority.as_str())
    .bind(f.sla_due)
    .bind(language)
    // The agent who handled the case knows it best; a customer's own agent
    // comes next, their own team stands by for either.
    .bind(origin.prefer_agent.or(f.dedicated_agent).map(|u| u.0))
    .bind(f.dedicated_team.map(|t| t.0))
    .bind(ms(at))
    .fetch_one(conn)
    .await?
    .int("id")?;
    let d = data([
        ("work_id", id.to_string()),
        ("queue_id", queue.to_string()),
        ("kind", origin.kind.to_string()),
    ]);
    case_event(conn, actor, case, "queued", &d, at).await?;
    Ok(Some(WorkId(id)))
}

/// A new case with nobody on it goes to a queue.
pub(crate) async fn case_opened<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case: CaseId,
    input: &CaseInput,
    address_id: Option<i64>,
    at: Timestamp,
) -> Result<()> {
    if input.assignee_id.is_some() {
        return Ok(());
    }
    let kind = WorkKind::of_contact(input.channel.first_interaction());
    let origin = Origin {
        kind,
        address_id,
        prefer_agent: None,
    };
    enqueue(conn, actor, case, origin, at).await.map(drop)
}

/// The customer wrote again on a case already being handled: the work goes
/// back to a queue, first to the agent who handled it.
pub(crate) async fn customer_wrote<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case: CaseId,
    kind: WorkKind,
    at: Timestamp,
) -> Result<()> {
    let f = case_facts(conn, actor.tenant_id, case).await?;
    // A new case was queued when it opened; a closed one is reopened first.
    if matches!(f.status, CaseStatus::New | CaseStatus::Closed) {
        return Ok(());
    }
    let origin = Origin {
        kind,
        address_id: None,
        prefer_agent: f.assignee,
    };
    enqueue(conn, actor, case, origin, at).await.map(drop)
}

/// The departments have answered: the case comes back to the center, first
/// to the agent who passed it on.
pub(crate) async fn department_returned<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case: CaseId,
    at: Timestamp,
) -> Result<()> {
    let f = case_facts(conn, actor.tenant_id, case).await?;
    let origin = Origin {
        kind: WorkKind::DepartmentReturn,
        address_id: None,
        prefer_agent: f.assignee,
    };
    enqueue(conn, actor, case, origin, at).await.map(drop)
}

/// The case was answered, parked or closed, or given to someone by hand:
/// its routed work ends. The driver finishes or withdraws it.
pub(crate) async fn case_settled<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    case: CaseId,
) -> Result<()> {
    query(
        "UPDATE work_items SET request = 'end', pending = 1 \
         WHERE tenant_id = $1 AND case_id = $2 AND state <> 'done'",
    )
    .bind(tenant.0)
    .bind(case.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a move to `to` ends the routed work of a case.
pub(crate) fn settles(to: CaseStatus) -> bool {
    !matches!(to, CaseStatus::New | CaseStatus::Open)
}

impl Store {
    pub async fn skills(&self, tenant: TenantId) -> Result<Vec<Skill>> {
        let rows = sqlx::query("SELECT id, name FROM skills WHERE tenant_id = $1 ORDER BY name")
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Skill {
                    id: SkillId(r.int("id")?),
                    name: r.text("name")?,
                })
            })
            .collect()
    }

    pub async fn create_skill(&self, actor: Actor, name: &str, at: Timestamp) -> Result<SkillId> {
        let name = domain::contact::text("name", name, 100).map_err(StoreError::Invalid)?;
        let (_w, mut tx) = self.write_tx().await?;
        let id = query("INSERT INTO skills (tenant_id, name) VALUES ($1, $2) RETURNING id")
            .bind(actor.tenant_id.0)
            .bind(name.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::from_unique(e, "a skill with this name already exists"))?
            .int("id")?;
        audit(
            &mut tx,
            actor,
            "skill.create",
            &format!("skill:{id}"),
            &data([("name", name)]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(SkillId(id))
    }

    pub async fn queues(&self, tenant: TenantId) -> Result<Vec<QueueSpec>> {
        let rows =
            sqlx::query("SELECT id, name, spec FROM queues WHERE tenant_id = $1 ORDER BY name")
                .bind(tenant.0)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(queue_row).collect()
    }

    pub async fn queue(&self, tenant: TenantId, id: QueueId) -> Result<QueueSpec> {
        let mut conn = self.pool.acquire().await?;
        queue_of(&mut *conn, tenant, id).await
    }

    /// Creates a queue (`id` None) or changes one; returns it as stored.
    pub async fn save_queue(
        &self,
        actor: Actor,
        id: Option<QueueId>,
        mut spec: QueueSpec,
        at: Timestamp,
    ) -> Result<QueueSpec> {
        let tenant = actor.tenant_id;
        spec.name = spec.name.trim().to_string();
        // The spec's own check refuses a move to itself; a new queue has no id yet.
        spec.id = id.unwrap_or(QueueId(0));
        let (_w, mut tx) = self.write_tx().await?;
        let kept = match id {
            Some(id) => queue_of(&mut *tx, tenant, id).await?.teams,
            None => Vec::new(),
        };
        check_queue(&mut *tx, tenant, &spec, &kept).await?;
        let body = json(&spec)?;
        let unique = |e| StoreError::from_unique(e, "a queue with this name already exists");
        let id = match id {
            None => query("INSERT INTO queues (tenant_id, name, spec, updated_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(tenant.0)
                .bind(spec.name.as_str())
                .bind(body)
                .bind(ms(at))
                .fetch_one(&mut *tx)
                .await
                .map_err(unique)?
                .int("id")?,
            Some(id) => {
                let n = query("UPDATE queues SET name = $1, spec = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
                    .bind(spec.name.as_str())
                    .bind(body)
                    .bind(ms(at))
                    .bind(tenant.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(unique)?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                id.0
            }
        };
        audit(
            &mut tx,
            actor,
            "queue.save",
            &format!("queue:{id}"),
            &data([("name", spec.name.clone())]),
            at,
        )
        .await?;
        tx.commit().await?;
        spec.id = QueueId(id);
        Ok(spec)
    }

    pub async fn entry_rules(&self, tenant: TenantId) -> Result<Vec<EntryRule>> {
        let mut conn = self.pool.acquire().await?;
        Ok(rules_of(&mut *conn, tenant)
            .await?
            .into_iter()
            .map(|(conditions, queue_id)| EntryRule {
                queue_id,
                conditions,
            })
            .collect())
    }

    /// Replaces the ordered entry rules of a tenant.
    pub async fn set_entry_rules(
        &self,
        actor: Actor,
        rules: &[EntryRule],
        at: Timestamp,
    ) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        for (i, r) in rules.iter().enumerate() {
            exists(
                &mut *tx,
                "queues",
                tenant,
                r.queue_id.0,
                &format!("rules[{i}].queue_id"),
            )
            .await?;
            for (j, l) in r.conditions.languages.iter().enumerate() {
                domain::routing::language(l).map_err(|e| {
                    StoreError::invalid(&format!("rules[{i}].conditions.languages[{j}]"), &e.reason)
                })?;
            }
            for (j, a) in r.conditions.address_ids.iter().enumerate() {
                let field = format!("rules[{i}].conditions.address_ids[{j}]");
                exists(&mut *tx, "mail_addresses", tenant, *a, &field).await?;
            }
            for (j, c) in r.conditions.category_ids.iter().enumerate() {
                let field = format!("rules[{i}].conditions.category_ids[{j}]");
                exists(&mut *tx, "categories", tenant, c.0, &field).await?;
            }
        }
        query("DELETE FROM queue_rules WHERE tenant_id = $1")
            .bind(tenant.0)
            .execute(&mut *tx)
            .await?;
        for (i, r) in rules.iter().enumerate() {
            query("INSERT INTO queue_rules (tenant_id, position, queue_id, conditions) VALUES ($1, $2, $3, $4)")
                .bind(tenant.0)
                .bind(i as i64 + 1)
                .bind(r.queue_id.0)
                .bind(json(&r.conditions)?)
                .execute(&mut *tx)
                .await?;
        }
        audit(
            &mut tx,
            actor,
            "queue_rules.set",
            "queue_rules",
            &data([("count", rules.len().to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The users who take routed work, with their profiles and last state.
    pub async fn routing_agents(&self, tenant: TenantId) -> Result<Vec<RoutingAgent>> {
        let rows = sqlx::query(&format!(
            "SELECT u.id, u.username, u.display_name, u.team_id, ra.spec, \
             (SELECT s.state FROM agent_states s WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id ORDER BY s.started_at DESC, s.id DESC LIMIT 1) AS state, \
             (SELECT s.started_at FROM agent_states s WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id ORDER BY s.started_at DESC, s.id DESC LIMIT 1) AS since \
             FROM users u LEFT JOIN routing_agents ra ON ra.user_id = u.id AND ra.tenant_id = u.tenant_id \
             WHERE u.tenant_id = $1 AND u.active = 1 AND u.role IN {} ORDER BY u.display_name, u.id",
            routed_roles()
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RoutingAgent {
                    user_id: UserId(r.int("id")?),
                    username: r.text("username")?,
                    display_name: r.text("display_name")?,
                    team_id: r.opt_int("team_id")?.map(TeamId),
                    profile: match r.opt_text("spec")? {
                        Some(s) => parse(&s)?,
                        None => AgentProfile::default(),
                    },
                    state: r.opt_text("state")?,
                    since: r.opt_time("since")?,
                })
            })
            .collect()
    }

    pub async fn routing_agent(&self, tenant: TenantId, user: UserId) -> Result<RoutingAgent> {
        self.routing_agents(tenant)
            .await?
            .into_iter()
            .find(|a| a.user_id == user)
            .ok_or(StoreError::NotFound)
    }

    pub async fn save_routing_profile(
        &self,
        actor: Actor,
        user: UserId,
        profile: AgentProfile,
        at: Timestamp,
    ) -> Result<RoutingAgent> {
        let tenant = actor.tenant_id;
        let profile = profile.check().map_err(StoreError::Invalid)?;
        {
            let (_w, mut tx) = self.write_tx().await?;
            match takes_routed_work(&mut *tx, tenant, user).await? {
                None => return Err(StoreError::NotFound),
                Some(false) => return Err(StoreError::invalid("user", NOT_ROUTED)),
                Some(true) => {}
            }
            for (i, s) in profile.skills.iter().enumerate() {
                exists(
                    &mut *tx,
                    "skills",
                    tenant,
                    s.skill.0,
                    &format!("skills[{i}].skill"),
                )
                .await?;
            }
            query(
                "INSERT INTO routing_agents (user_id, tenant_id, spec, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
            )
            .bind(user.0)
            .bind(tenant.0)
            .bind(json(&profile)?)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
            audit(
                &mut tx,
                actor,
                "routing_agent.save",
                &format!("user:{}", user.0),
                &data([]),
                at,
            )
            .await?;
            tx.commit().await?;
        }
        self.routing_agent(tenant, user).await
    }

    /// Tenants with queues: the driver loads their routers at start-up.
    pub async fn routing_tenants(&self) -> Result<Vec<TenantId>> {
        let rows = sqlx::query("SELECT DISTINCT tenant_id FROM queues ORDER BY tenant_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(TenantId(r.int("tenant_id")?)))
            .collect()
    }

    /// Work the router holds (waiting, offered, in hand), oldest first.
    pub async fn open_work(&self, tenant: TenantId) -> Result<Vec<OpenWork>> {
        let rows = sqlx::query(&format!(
            "SELECT {WORK_COLUMNS} FROM work_items w WHERE w.tenant_id = $1 AND w.state <> 'done' ORDER BY w.arrived_at, w.id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(work_row).collect()
    }

    /// Work the driver has yet to take in or act on, across tenants.
    pub async fn pending_work(&self, limit: i64) -> Result<Vec<PendingWork>> {
        let rows = sqlx::query(&format!(
            "SELECT {WORK_COLUMNS} FROM work_items w WHERE w.pending = 1 ORDER BY w.id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingWork {
                    tenant: TenantId(r.int("tenant_id")?),
                    open: work_row(r)?,
                    request: r.opt_text("request")?,
                })
            })
            .collect()
    }

    /// The driver has taken the work in (or acted on its request).
    pub async fn work_taken(&self, tenant: TenantId, id: WorkId) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "UPDATE work_items SET pending = 0, request = NULL WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.0)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Work that left the router: `finished` by its agent, `withdrawn`
    /// because the case was settled otherwise.
    pub async fn work_ended(
        &self,
        tenant: TenantId,
        id: WorkId,
        outcome: &str,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        end_work(&mut *tx, tenant, id, outcome, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes the router's decisions, in order, in one transaction.
    /// `reason` is the agent's reason for a rejection among them.
    pub async fn record_routing(
        &self,
        tenant: TenantId,
        events: &[Event],
        reason: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let (_w, mut tx) = self.write_tx().await?;
        for e in events {
            record(&mut *tx, tenant, e, reason, at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Work summaries by id, in the order asked; ids of other tenants are left out.
    pub async fn work_summaries(
        &self,
        tenant: TenantId,
        filter: WorkFilter,
    ) -> Result<Vec<WorkSummary>> {
        // A team view lists everyone's work; one queue's list is paged.
        let (limit, offset) = match filter {
            WorkFilter::InHand => (5000, 0),
            WorkFilter::Queue(_, page) => (page.limit, page.offset),
            _ => (200, 0),
        };
        let (cond, val) = match filter {
            WorkFilter::Agent(a) => ("w.agent_id = $2 AND w.state IN ('offered', 'active')", a.0),
            WorkFilter::Queue(q, _) => {
                ("w.queue_id = $2 AND w.state IN ('waiting', 'offered')", q.0)
            }
            WorkFilter::Work(w) => ("w.id = $2", w.0),
            WorkFilter::InHand => (
                "w.agent_id IS NOT NULL AND w.state IN ('offered', 'active') AND w.tenant_id = $2",
                tenant.0,
            ),
        };
        let rows = sqlx::query(&format!(
            "SELECT w.id, w.kind, w.state, w.queue_id, q.name AS queue, w.case_id, c.year, c.seq, c.subject, c.priority, \
             w.agent_id, w.arrived_at, w.offered_until, c.sla_due_at FROM work_items w \
             JOIN queues q ON q.id = w.queue_id AND q.tenant_id = w.tenant_id \
             JOIN cases c ON c.id = w.case_id AND c.tenant_id = w.tenant_id \
             WHERE w.tenant_id = $1 AND {cond} ORDER BY w.arrived_at, w.id LIMIT {limit} OFFSET {offset}"
        ))
        .bind(tenant.0)
        .bind(val)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let number = domain::case::CaseNumber {
                    year: r.int("year")? as i16,
                    seq: r.int("seq")?,
                };
                Ok(WorkSummary {
                    id: WorkId(r.int("id")?),
                    kind: vocab(WorkKind::parse(&r.text("kind")?))?,
                    state: r.text("state")?,
                    queue_id: QueueId(r.int("queue_id")?),
                    queue: r.text("queue")?,
                    case_id: CaseId(r.int("case_id")?),
                    case_number: number.to_string(),
                    subject: r.text("subject")?,
                    priority: vocab(Priority::parse(&r.text("priority")?))?,
                    agent_id: r.opt_int("agent_id")?.map(UserId),
                    arrived_at: r.time("arrived_at")?,
                    offered_until: r.opt_time("offered_until")?,
                    sla_due: r.opt_time("sla_due_at")?,
                })
            })
            .collect()
    }

    /// An agent's states from `since`, newest first, with their durations.
    pub async fn agent_states(
        &self,
        tenant: TenantId,
        user: UserId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<StateSpan>> {
        let rows = sqlx::query(
            "SELECT state, started_at, ended_at FROM agent_states WHERE tenant_id = $1 AND user_id = $2 \
             AND (ended_at IS NULL OR ended_at >= $3) ORDER BY started_at DESC, id DESC LIMIT 500",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (from, to) = (r.int("started_at")?, r.opt_int("ended_at")?);
                Ok(StateSpan {
                    state: r.text("state")?,
                    started_at: ts(from),
                    ended_at: to.map(ts),
                    seconds: (to.unwrap_or(ms(now)) - from).max(0) / 1000,
                })
            })
            .collect()
    }
}

/// Positions `offset + 1` to `offset + limit` of a list in a fixed order.
/// A queue's head keeps leaving, so its list is paged by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub offset: u32,
    pub limit: u32,
}

/// Which work items to summarise.
#[derive(Debug, Clone, Copy)]
pub enum WorkFilter {
    /// Offered to or in the hands of an agent.
    Agent(UserId),
    /// Waiting in a queue, in the order of arrival: a page of it.
    Queue(QueueId, Slice),
    Work(WorkId),
    /// Offered to or in the hands of any agent.
    InHand,
}

async fn end_work<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    id: WorkId,
    outcome: &str,
    at: Timestamp,
) -> Result<()> {
    query(
        "UPDATE work_items SET state = 'done', outcome = $1, ended_at = $2, pending = 0, request = NULL, offered_until = NULL \
         WHERE tenant_id = $3 AND id = $4 AND state <> 'done'",
    )
    .bind(outcome)
    .bind(ms(at))
    .bind(tenant.0)
    .bind(id.0)
    .execute(conn)
    .await?;
    close_offer(conn, tenant, id, "withdrawn", None, at).await
}

/// Ends the offer of a work item still ringing, if any.
async fn close_offer<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    work: WorkId,
    outcome: &str,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    query(
        "UPDATE work_offers SET outcome = $1, reason = $2, ended_at = $3 \
         WHERE tenant_id = $4 AND work_id = $5 AND outcome IS NULL",
    )
    .bind(outcome)
    .bind(reason)
    .bind(ms(at))
    .bind(tenant.0)
    .bind(work.0)
    .execute(conn)
    .await?;
    Ok(())
}

async fn case_of<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    work: WorkId,
) -> Result<(CaseId, QueueId)> {
    let r = query("SELECT case_id, queue_id FROM work_items WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(work.0)
        .fetch_one(conn)
        .await?;
    Ok((CaseId(r.int("case_id")?), QueueId(r.int("queue_id")?)))
}

async fn record<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    e: &Event,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    let system = Actor {
        tenant_id: tenant,
        user_id: None,
        channel: None,
    };
    match e {
        Event::Offered { work, agent, until } => {
            // An offer still ringing when the server stopped goes out anew.
            close_offer(conn, tenant, *work, "withdrawn", None, at).await?;
            query("UPDATE work_items SET state = 'offered', agent_id = $1, offered_until = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(agent.0)
                .bind(*until)
                .bind(tenant.0)
                .bind(work.0)
                .execute(conn)
                .await?;
            query("INSERT INTO work_offers (tenant_id, work_id, agent_id, offered_at) VALUES ($1, $2, $3, $4)")
                .bind(tenant.0)
                .bind(work.0)
                .bind(agent.0)
                .bind(ms(at))
                .execute(conn)
                .await?;
        }
        Event::Lapsed { work, lapse, .. } => {
            query("UPDATE work_items SET state = 'waiting', agent_id = NULL, offered_until = NULL WHERE tenant_id = $1 AND id = $2 AND state = 'offered'")
                .bind(tenant.0)
                .bind(work.0)
                .execute(conn)
                .await?;
            let reason = (*lapse == domain::routing::Lapse::Rejected)
                .then_some(reason)
                .flatten();
            close_offer(conn, tenant, *work, lapse.as_str(), reason, at).await?;
        }
        Event::Assigned {
            work,
            agent,
            manual,
        } => {
            query("UPDATE work_items SET state = 'active', agent_id = $1, offered_until = NULL, assigned_at = COALESCE(assigned_at, $2) WHERE tenant_id = $3 AND id = $4")
                .bind(agent.0)
                .bind(ms(at))
                .bind(tenant.0)
                .bind(work.0)
                .execute(conn)
                .await?;
            close_offer(
                conn,
                tenant,
                *work,
                if *manual { "withdrawn" } else { "accepted" },
                None,
                at,
            )
            .await?;
            let (case, _) = case_of(conn, tenant, *work).await?;
            query("UPDATE cases SET assignee_id = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(agent.0)
                .bind(ms(at))
                .bind(tenant.0)
                .bind(case.0)
                .execute(conn)
                .await?;
            let d = data([
                ("work_id", work.to_string()),
                ("assignee_id", agent.to_string()),
                ("manual", manual.to_string()),
            ]);
            case_event(conn, system, case, "routed", &d, at).await?;
            let status = crate::cases::case_status(conn, tenant, case).await?;
            if status == CaseStatus::New {
                set_status(conn, system, case, status, CaseStatus::Open, at).await?;
            }
        }
        Event::State {
            agent,
            state,
            at: when,
        } => {
            record_state(conn, tenant, *agent, *state, *when).await?;
        }
        Event::Overflowed { work, queue, stage } => {
            query(
                "UPDATE work_items SET queue_id = $1, stage = $2 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(queue.0)
            .bind(i64::from(*stage))
            .bind(tenant.0)
            .bind(work.0)
            .execute(conn)
            .await?;
        }
        Event::Expired {
            work,
            action,
            closed,
            ..
        } => {
            let (case, _) = case_of(conn, tenant, *work).await?;
            end_work(conn, tenant, *work, action.as_str(), at).await?;
            let d = data([
                ("work_id", work.to_string()),
                ("action", action.to_string()),
                ("closed", closed.to_string()),
            ]);
            case_event(conn, system, case, "queue_expired", &d, at).await?;
            if *action == WaitAction::Callback {
                // The caller asked to be called back: that is new work of its own.
                let origin = Origin {
                    kind: WorkKind::Callback,
                    address_id: None,
                    prefer_agent: None,
                };
                enqueue(conn, system, case, origin, at).await?;
            }
        }
    }
    Ok(())
}

async fn record_state<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    agent: UserId,
    state: AgentState,
    at: i64,
) -> Result<()> {
    query("UPDATE agent_states SET ended_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND ended_at IS NULL")
        .bind(at)
        .bind(tenant.0)
        .bind(agent.0)
        .execute(conn)
        .await?;
    query(
        "INSERT INTO agent_states (tenant_id, user_id, state, started_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant.0)
    .bind(agent.0)
    .bind(state.to_string())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}
