//! Cases, their interactions and attachments, and the workflow's writes.

use crate::bulk::{BULK_ROWS, Col, Columns, JsonRows, insert_json};
use crate::customers::customer_exists;
use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{Data, case_event, data};
use crate::exec::{Exec, query};
use crate::routing;
use crate::sla;
use crate::sql::Sql;
use crate::users::{exists, in_use};
use crate::{Result, StoreError};
use domain::case::*;
use domain::ids::*;
use domain::model::*;
use domain::policy::Signal;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, HashMap};

/// The case screen: the case, its timeline and its department tasks.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    pub interactions: Vec<Interaction>,
    pub events: Vec<CaseEvent>,
    pub tasks: Vec<DepartmentTask>,
    /// The SLA clocks of the case and its tasks.
    pub clocks: Vec<crate::ClockInfo>,
}

const SUMMARY_SELECT: &str = "SELECT c.id, c.year, c.seq, c.case_type, c.channel, c.priority, c.status, c.subject, \
    c.customer_id, cu.name AS customer_name, c.category_id, c.assignee_id, u.display_name AS assignee_name, c.team_id, \
    c.created_at, c.updated_at, c.description, c.custom, c.resolved_at, c.closed_at, c.sla_state, c.sla_due_at \
    FROM cases c LEFT JOIN customers cu ON cu.id = c.customer_id LEFT JOIN users u ON u.id = c.assignee_id";

fn summary_row(r: &AnyRow) -> Result<CaseSummary> {
    Ok(CaseSummary {
        id: CaseId(r.int("id")?),
        number: CaseNumber {
            year: r.int("year")? as i16,
            seq: r.int("seq")?,
        },
        case_type: vocab(CaseType::parse(&r.text("case_type")?))?,
        channel: vocab(Channel::parse(&r.text("channel")?))?,
        priority: vocab(Priority::parse(&r.text("priority")?))?,
        status: vocab(CaseStatus::parse(&r.text("status")?))?,
        subject: r.text("subject")?,
        customer_id: r.opt_int("customer_id")?.map(CustomerId),
        customer_name: r.opt_text("customer_name")?,
        category_id: r.opt_int("category_id")?.map(CategoryId),
        assignee_id: r.opt_int("assignee_id")?.map(UserId),
        assignee_name: r.opt_text("assignee_name")?,
        team_id: r.opt_int("team_id")?.map(TeamId),
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        sla_state: r
            .opt_text("sla_state")?
            .map(|s| sla::sla_state(&s))
            .transpose()?,
        sla_due_at: r.opt_time("sla_due_at")?,
    })
}

/// The year a case number carries: the calendar year in the tenant's zone.
fn case_year(at: Timestamp, timezone: &str) -> i16 {
    let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(tz).year()
}

pub(crate) async fn check_refs<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    customer: Option<CustomerId>,
    category: Option<CategoryId>,
    assignee: Option<UserId>,
    team: Option<TeamId>,
) -> Result<()> {
    if let Some(c) = customer {
        customer_exists(conn, tenant, c).await?;
    }
    if let Some(c) = category {
        exists(conn, "categories", tenant, c.0, "category_id").await?;
    }
    if let Some(u) = assignee {
        exists(conn, "users", tenant, u.0, "assignee_id").await?;
    }
    if let Some(t) = team {
        exists(conn, "teams", tenant, t.0, "team_id").await?;
    }
    Ok(())
}

/// A category or team a person chooses must still be offered; work that
/// arrives on its own (mail, calls) is filed under a retired one rather than
/// refused, so nothing is lost.
pub(crate) async fn check_offered<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    category: Option<CategoryId>,
    team: Option<TeamId>,
) -> Result<()> {
    if let Some(c) = category {
        in_use(conn, "categories", tenant, c.0, "category_id").await?;
    }
    if let Some(t) = team {
        in_use(conn, "teams", tenant, t.0, "team_id").await?;
    }
    Ok(())
}

pub(crate) async fn case_status<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    id: CaseId,
) -> Result<CaseStatus> {
    let row = query("SELECT status FROM cases WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(id.0)
        .fetch_one(conn)
        .await?;
    vocab(CaseStatus::parse(&row.text("status")?))
}

/// Moves a case to `to` and records the change; the one place status is written.
pub(crate) async fn set_status<E: Exec>(
    conn: &mut E,
    actor: Actor,
    id: CaseId,
    from: CaseStatus,
    to: CaseStatus,
    at: Timestamp,
) -> Result<()> {
    if from == to {
        return Ok(());
    }
    let stamp = ms(at);
    query(
        "UPDATE cases SET status = $1, updated_at = $2, \
         resolved_at = CASE WHEN $1 = 'resolved' THEN $2 WHEN $1 = 'closed' THEN resolved_at ELSE NULL END, \
         closed_at = CASE WHEN $1 = 'closed' THEN $2 ELSE NULL END \
         WHERE tenant_id = $3 AND id = $4",
    )
    .bind(to.as_str())
    .bind(stamp)
    .bind(actor.tenant_id.0)
    .bind(id.0)
    .execute(conn)
    .await?;
    let d = data([("from", from.to_string()), ("to", to.to_string())]);
    case_event(conn, actor, id, "status", &d, at).await?;
    if routing::settles(to) {
        routing::case_settled(conn, actor.tenant_id, id).await?;
    }
    sla::signal(conn, actor.tenant_id, id, Signal::Status { from, to }, at).await
}

pub(crate) async fn touch<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    id: CaseId,
    at: Timestamp,
) -> Result<()> {
    query("UPDATE cases SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(ms(at))
        .bind(tenant.0)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps a file's bytes. Content-addressed: the same file is stored once.
/// In the rows the conflict clause sees to it; bytes put aside are looked
/// for first, so that they are not put aside twice.
pub(crate) async fn put_blob<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    a: &AttachmentInput,
) -> Result<()> {
    let sha = a.sha256();
    let known = conn.puts_aside()
        && query("SELECT 1 AS known FROM blobs WHERE tenant_id = $1 AND sha256 = $2")
            .bind(tenant.0)
            .bind(sha)
            .fetch_optional(conn)
            .await?
            .is_some();
    if !known {
        let aside = conn.put_aside(a.data(), Some(sha))?;
        let data: &[u8] = if aside.is_some() { &[] } else { a.data() };
        query(
            "INSERT INTO blobs (tenant_id, sha256, size, data, data_segment, data_offset, data_base64_len) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, sha256) DO NOTHING",
        )
        .bind(tenant.0)
        .bind(sha)
        .bind(a.data().len() as i64)
        .bind(data)
        .bind(aside.map(|x| x.segment))
        .bind(aside.map(|x| x.offset))
        .bind(aside.and_then(|x| x.base64_len))
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Lists a stored file (see [`put_blob`]) among an interaction's attachments.
pub(crate) async fn link_file<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    interaction: InteractionId,
    a: &Attachment,
) -> Result<()> {
    query(
        "INSERT INTO attachments (tenant_id, interaction_id, sha256, filename, content_type, size) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.0)
    .bind(interaction.0)
    .bind(&a.sha256)
    .bind(&a.filename)
    .bind(&a.content_type)
    .bind(a.size)
    .execute(conn)
    .await?;
    Ok(())
}

/// Numbers and writes a new case, with the contact that opened it.
pub(crate) async fn insert_case<E: Exec>(
    tx: &mut E,
    actor: Actor,
    timezone: &str,
    input: &CaseInput,
    // The first contact, with its files.
    first: Option<(&InteractionInput, &[AttachmentInput])>,
    // The receiving address it came in through, which SLA rules may ask for.
    address_id: Option<i64>,
    at: Timestamp,
) -> Result<(CaseId, Option<InteractionId>)> {
    let tenant = actor.tenant_id;
    check_refs(
        tx,
        tenant,
        input.customer_id,
        input.category_id,
        input.assignee_id,
        input.team_id,
    )
    .await?;
    let year = case_year(at, timezone);
    let seq = query(
        "INSERT INTO case_counters (tenant_id, year, last_seq) VALUES ($1, $2, 1) \
         ON CONFLICT (tenant_id, year) DO UPDATE SET last_seq = case_counters.last_seq + 1 RETURNING last_seq",
    )
    .bind(tenant.0)
    .bind(i64::from(year))
    .fetch_one(tx)
    .await?
    .int("last_seq")?;
    // Assigned at once means someone is already working on it.
    let status = if input.assignee_id.is_some() {
        CaseStatus::Open
    } else {
        CaseStatus::New
    };
    let id = query(
        "INSERT INTO cases (tenant_id, year, seq, case_type, channel, priority, status, subject, description, customer_id, \
         category_id, assignee_id, team_id, custom, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id",
    )
    .bind(tenant.0)
    .bind(i64::from(year))
    .bind(seq)
    .bind(input.case_type.as_str())
    .bind(input.channel.as_str())
    .bind(input.priority.as_str())
    .bind(status.as_str())
    .bind(&input.subject)
    .bind(&input.description)
    .bind(input.customer_id.map(|c| c.0))
    .bind(input.category_id.map(|c| c.0))
    .bind(input.assignee_id.map(|u| u.0))
    .bind(input.team_id.map(|t| t.0))
    .bind(serde_json::to_string(&input.custom).unwrap_or_default())
    .bind(actor.user_id.map(|u| u.0))
    .bind(ms(at))
    .fetch_one(tx)
    .await?
    .int("id")?;
    let id = CaseId(id);
    let number = CaseNumber { year, seq };
    let d = data([
        ("number", number.to_string()),
        ("type", input.case_type.to_string()),
        ("channel", input.channel.to_string()),
        ("status", status.to_string()),
    ]);
    case_event(tx, actor, id, "created", &d, at).await?;
    let interaction = match first {
        Some((first, files)) => {
            Some(insert_interaction_with(tx, actor, id, first, files, at).await?)
        }
        None => None,
    };
    sla::case_opened(tx, actor, id, input, address_id, status, at).await?;
    routing::case_opened(tx, actor, id, input, address_id, at).await?;
    Ok((id, interaction))
}

/// Links two cases both ways, recording it on each.
pub(crate) async fn insert_link<E: Exec>(
    tx: &mut E,
    actor: Actor,
    a: CaseId,
    b: CaseId,
    at: Timestamp,
) -> Result<()> {
    for (x, y) in [(a, b), (b, a)] {
        query("INSERT INTO case_links (tenant_id, case_id, related_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(actor.tenant_id.0)
            .bind(x.0)
            .bind(y.0)
            .execute(tx)
            .await?;
        case_event(
            tx,
            actor,
            x,
            "linked",
            &data([("related_id", y.to_string())]),
            at,
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn insert_interaction<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case_id: CaseId,
    i: &InteractionInput,
    at: Timestamp,
) -> Result<InteractionId> {
    insert_interaction_with(conn, actor, case_id, i, &i.attachments, at).await
}

/// [`insert_interaction`] with files held elsewhere (a received message's),
/// which are not copied into an input of their own: they may be megabytes.
pub(crate) async fn insert_interaction_with<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case_id: CaseId,
    i: &InteractionInput,
    attachments: &[AttachmentInput],
    at: Timestamp,
) -> Result<InteractionId> {
    if let Some(v) = i.script_version_id {
        crate::users::exists(
            &mut *conn,
            "script_versions",
            actor.tenant_id,
            v,
            "script_version_id",
        )
        .await?;
    }
    let id = query(
        "INSERT INTO interactions (tenant_id, case_id, kind, direction, author_id, started_at, ended_at, body, script_version_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(actor.tenant_id.0)
    .bind(case_id.0)
    .bind(i.kind.as_str())
    .bind(i.direction.as_str())
    .bind(actor.user_id.map(|u| u.0))
    .bind(ms(i.started_at))
    .bind(i.ended_at.map(ms))
    .bind(&i.body)
    .bind(i.script_version_id)
    .fetch_one(conn)
    .await?
    .int("id")?;
    for a in attachments {
        put_blob(conn, actor.tenant_id, a).await?;
        link_file(conn, actor.tenant_id, InteractionId(id), &a.attachment()).await?;
    }
    let d = data([
        ("interaction_id", id.to_string()),
        ("kind", i.kind.to_string()),
        ("direction", i.direction.to_string()),
    ]);
    case_event(conn, actor, case_id, "interaction", &d, at).await?;
    let signal = match i.direction {
        _ if i.kind == InteractionKind::Note => None,
        // A call an agent took: the customer was answered as they spoke.
        Direction::Inbound if i.kind == InteractionKind::Call && actor.user_id.is_some() => {
            Some(Signal::AgentReplied)
        }
        Direction::Inbound => Some(Signal::CustomerWrote),
        // Not the system's own acknowledgement: a person answered.
        Direction::Outbound if actor.user_id.is_some() => Some(Signal::AgentReplied),
        _ => None,
    };
    if let Some(signal) = signal {
        sla::signal(conn, actor.tenant_id, case_id, signal, at).await?;
    }
    match signal {
        Some(Signal::CustomerWrote) => {
            let kind = domain::routing::WorkKind::of_contact(i.kind);
            routing::customer_wrote(conn, actor, case_id, kind, at).await?;
        }
        Some(Signal::AgentReplied) => routing::case_settled(conn, actor.tenant_id, case_id).await?,
        _ => {}
    }
    Ok(InteractionId(id))
}

/// Changes a case's fields inside the caller's transaction.
pub(crate) async fn patch_case(
    tx: &mut sqlx::AnyConnection,
    actor: Actor,
    id: CaseId,
    p: &CasePatch,
    at: Timestamp,
) -> Result<()> {
    let tenant = actor.tenant_id;
    let before = sqlx::query(&format!(
        "{SUMMARY_SELECT} WHERE c.tenant_id = $1 AND c.id = $2"
    ))
    .bind(tenant.0)
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let old = summary_row(&before)?;
    check_refs(
        &mut *tx,
        tenant,
        p.customer_id.flatten(),
        p.category_id.flatten(),
        p.assignee_id.flatten(),
        p.team_id.flatten(),
    )
    .await?;
    check_offered(
        &mut *tx,
        tenant,
        p.category_id
            .flatten()
            .filter(|c| Some(*c) != old.category_id),
        p.team_id.flatten().filter(|t| Some(*t) != old.team_id),
    )
    .await?;
    let mut changes: Data = BTreeMap::new();
    let mut q = Sql::new("UPDATE cases SET updated_at = ");
    q.int(ms(at));
    let mut set_text = |q: &mut Sql, col: &str, old: String, new: Option<&str>| {
        if let Some(new) = new
            && new != old
        {
            q.push(&format!(", {col} = ")).str(new);
            changes.insert(col.to_string(), format!("{old} → {new}"));
        }
    };
    set_text(
        &mut q,
        "case_type",
        old.case_type.to_string(),
        p.case_type.map(|t| t.as_str()),
    );
    set_text(
        &mut q,
        "priority",
        old.priority.to_string(),
        p.priority.map(|t| t.as_str()),
    );
    set_text(&mut q, "subject", old.subject.clone(), p.subject.as_deref());
    if let Some(d) = &p.description {
        q.push(", description = ").str(d);
        changes.insert("description".into(), "changed".into());
    }
    if let Some(c) = &p.custom {
        q.push(", custom = ")
            .str(&serde_json::to_string(c).unwrap_or_default());
        changes.insert("custom".into(), "changed".into());
    }
    let refs = [
        (
            "customer_id",
            old.customer_id.map(|v| v.0),
            p.customer_id.map(|o| o.map(|v| v.0)),
        ),
        (
            "category_id",
            old.category_id.map(|v| v.0),
            p.category_id.map(|o| o.map(|v| v.0)),
        ),
        (
            "assignee_id",
            old.assignee_id.map(|v| v.0),
            p.assignee_id.map(|o| o.map(|v| v.0)),
        ),
        (
            "team_id",
            old.team_id.map(|v| v.0),
            p.team_id.map(|o| o.map(|v| v.0)),
        ),
    ];
    for (col, old, new) in refs {
        if let Some(new) = new
            && new != old
        {
            match new {
                Some(v) => q.push(&format!(", {col} = ")).int(v),
                None => q.push(&format!(", {col} = NULL")),
            };
            let show = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
            changes.insert(col.to_string(), format!("{} → {}", show(old), show(new)));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    q.push(" WHERE tenant_id = ")
        .int(tenant.0)
        .push(" AND id = ")
        .int(id.0);
    q.fetch_all(&mut *tx).await?;
    case_event(&mut *tx, actor, id, "updated", &changes, at).await?;
    // Given to someone by hand: the router lets it go.
    if changes.contains_key("assignee_id") {
        routing::case_settled(&mut *tx, tenant, id).await?;
    }
    // Giving a new case an owner starts the work on it.
    if old.status == CaseStatus::New && matches!(p.assignee_id, Some(Some(_))) {
        set_status(&mut *tx, actor, id, CaseStatus::New, CaseStatus::Open, at).await?;
    }
    Ok(())
}

/// Moves a case along its workflow inside the caller's transaction.
pub(crate) async fn transition_in(
    tx: &mut sqlx::AnyConnection,
    actor: Actor,
    id: CaseId,
    action: CaseAction,
    at: Timestamp,
) -> Result<CaseStatus> {
    let from = case_status(&mut *tx, actor.tenant_id, id).await?;
    let to = from
        .apply(action)
        .map_err(|e| StoreError::Workflow(e.to_string()))?;
    if to == CaseStatus::Resolved {
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM department_tasks WHERE tenant_id = $1 AND case_id = $2 AND status = 'open'")
                .bind(actor.tenant_id.0)
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        if open > 0 {
            return Err(StoreError::Workflow(format!(
                "{open} department task(s) are still open"
            )));
        }
    }
    set_status(tx, actor, id, from, to, at).await?;
    Ok(to)
}

impl Store {
    /// Opens a case with its number, and records the contact that opened it.
    pub async fn create_case(
        &self,
        actor: Actor,
        timezone: &str,
        input: &CaseInput,
        first: Option<&InteractionInput>,
        at: Timestamp,
    ) -> Result<CaseId> {
        let (_w, mut tx) = self.write_tx().await?;
        let first = first.map(|i| (i, i.attachments.as_slice()));
        check_offered(&mut tx, actor.tenant_id, input.category_id, input.team_id).await?;
        let (id, _) = insert_case(&mut tx, actor, timezone, input, first, None, at).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn case(&self, tenant: TenantId, id: CaseId) -> Result<Case> {
        let row = sqlx::query(&format!(
            "{SUMMARY_SELECT} WHERE c.tenant_id = $1 AND c.id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let related = sqlx::query(&format!(
            "{SUMMARY_SELECT} JOIN case_links l ON l.related_id = c.id WHERE l.tenant_id = $1 AND l.case_id = $2 ORDER BY c.id"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(summary_row)
        .collect::<Result<Vec<_>>>()?;
        Ok(Case {
            summary: summary_row(&row)?,
            description: row.text("description")?,
            custom: serde_json::from_str(&row.text("custom")?).unwrap_or_default(),
            related,
            resolved_at: row.opt_time("resolved_at")?,
            closed_at: row.opt_time("closed_at")?,
        })
    }

    pub async fn case_detail(&self, tenant: TenantId, id: CaseId) -> Result<CaseDetail> {
        let case = self.case(tenant, id).await?;
        Ok(CaseDetail {
            case,
            interactions: self.interactions(tenant, id).await?,
            events: self.case_events(tenant, id).await?,
            tasks: self.tasks_of_case(tenant, id).await?,
            clocks: self.clocks(tenant, id).await?,
        })
    }

    pub async fn case_by_number(&self, tenant: TenantId, number: CaseNumber) -> Result<CaseId> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM cases WHERE tenant_id = $1 AND year = $2 AND seq = $3",
        )
        .bind(tenant.0)
        .bind(i64::from(number.year))
        .bind(number.seq)
        .fetch_optional(&self.pool)
        .await?;
        id.map(CaseId).ok_or(StoreError::NotFound)
    }

    /// A page of cases, newest first; pass the last id as `before` for the next page.
    pub async fn list_cases(&self, tenant: TenantId, f: &CaseFilter) -> Result<Vec<CaseSummary>> {
        // Deferred join: pick the page's ids from an index alone, then read
        // just those rows. Sorting thousands of full rows for 50 is what made
        // "my active cases" slow at a million cases.
        let mut q = Sql::new(SUMMARY_SELECT);
        q.push(" WHERE c.tenant_id = ").int(tenant.0);
        q.push(" AND c.id IN (SELECT k.id FROM cases k WHERE k.tenant_id = ")
            .int(tenant.0);
        if !f.statuses.is_empty() {
            q.push(" AND k.status IN (");
            for (i, s) in f.statuses.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.str(s.as_str());
            }
            q.push(")");
        }
        let texts = [
            ("k.case_type", f.case_type.map(|t| t.as_str())),
            ("k.channel", f.channel.map(|c| c.as_str())),
            ("k.priority", f.priority.map(|p| p.as_str())),
        ];
        for (col, v) in texts {
            if let Some(v) = v {
                q.push(&format!(" AND {col} = ")).str(v);
            }
        }
        if let Some(s) = f.sla_state {
            q.push(" AND k.sla_state = ").str(s.as_str());
        }
        let ints = [
            ("k.assignee_id =", f.assignee_id.map(|v| v.0)),
            ("k.team_id =", f.team_id.map(|v| v.0)),
            ("k.customer_id =", f.customer_id.map(|v| v.0)),
            ("k.category_id =", f.category_id.map(|v| v.0)),
            ("k.created_at >=", f.created_from.map(ms)),
            ("k.created_at <", f.created_to.map(ms)),
            ("k.updated_at >=", f.updated_from.map(ms)),
            ("k.updated_at <", f.updated_to.map(ms)),
            ("k.id <", f.before.map(|v| v.0)),
        ];
        for (cond, v) in ints {
            if let Some(v) = v {
                q.push(&format!(" AND {cond} ")).int(v);
            }
        }
        let order = |t: &str| match f.sort {
            CaseSort::Newest => format!(" ORDER BY {t}.id DESC"),
            // The same order on both engines, which place NULLs differently.
            CaseSort::SlaDue => format!(
                " ORDER BY CASE WHEN {t}.sla_due_at IS NULL THEN 1 ELSE 0 END, {t}.sla_due_at, {t}.id"
            ),
        };
        q.push(&order("k"));
        q.push(" LIMIT ").int(i64::from(f.limit.clamp(1, 200)));
        q.push(" OFFSET ").int(i64::from(f.offset));
        q.push(")");
        q.push(&order("c"));
        q.fetch_all_pool(&self.pool)
            .await?
            .iter()
            .map(summary_row)
            .collect()
    }

    pub async fn update_case(
        &self,
        actor: Actor,
        id: CaseId,
        p: &CasePatch,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        patch_case(&mut tx, actor, id, p, at).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn transition(
        &self,
        actor: Actor,
        id: CaseId,
        action: CaseAction,
        at: Timestamp,
    ) -> Result<CaseStatus> {
        let (_w, mut tx) = self.write_tx().await?;
        let to = transition_in(&mut tx, actor, id, action, at).await?;
        tx.commit().await?;
        Ok(to)
    }

    /// Records a contact or note. A customer's own contact on a case waiting for
    /// the customer puts it back to work.
    pub async fn add_interaction(
        &self,
        actor: Actor,
        case_id: CaseId,
        i: &InteractionInput,
        at: Timestamp,
    ) -> Result<InteractionId> {
        let (_w, mut tx) = self.write_tx().await?;
        let status = case_status(&mut tx, actor.tenant_id, case_id).await?;
        let id = insert_interaction(&mut tx, actor, case_id, i, at).await?;
        if i.kind == InteractionKind::Note {
            crate::history::notify_mentions(&mut *tx, actor, case_id, &i.body, at).await?;
        }
        touch(&mut tx, actor.tenant_id, case_id, at).await?;
        if status == CaseStatus::PendingCustomer && i.direction == Direction::Inbound {
            set_status(&mut tx, actor, case_id, status, CaseStatus::Open, at).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn interactions(
        &self,
        tenant: TenantId,
        case_id: CaseId,
    ) -> Result<Vec<Interaction>> {
        let rows = sqlx::query(
            "SELECT i.id, i.case_id, i.kind, i.direction, i.author_id, u.display_name AS author_name, i.started_at, i.ended_at, i.body, \
             sv.id AS sv_id, sv.script_id AS sv_script, sv.version AS sv_version, sv.name AS sv_name \
             FROM interactions i LEFT JOIN users u ON u.id = i.author_id \
             LEFT JOIN script_versions sv ON sv.id = i.script_version_id \
             WHERE i.tenant_id = $1 AND i.case_id = $2 ORDER BY i.started_at, i.id",
        )
        .bind(tenant.0)
        .bind(case_id.0)
        .fetch_all(&self.pool)
        .await?;
        let attachments = sqlx::query(
            "SELECT a.interaction_id, a.sha256, a.filename, a.content_type, a.size FROM attachments a \
             JOIN interactions i ON i.id = a.interaction_id WHERE a.tenant_id = $1 AND i.case_id = $2 ORDER BY a.id",
        )
        .bind(tenant.0)
        .bind(case_id.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(Interaction {
                    id: InteractionId(r.int("id")?),
                    case_id: CaseId(r.int("case_id")?),
                    kind: vocab(InteractionKind::parse(&r.text("kind")?))?,
                    direction: vocab(Direction::parse(&r.text("direction")?))?,
                    author_id: r.opt_int("author_id")?.map(UserId),
                    author_name: r.opt_text("author_name")?,
                    started_at: r.time("started_at")?,
                    ended_at: r.opt_time("ended_at")?,
                    body: r.text("body")?,
                    attachments: Vec::new(),
                    script: match r.opt_int("sv_id")? {
                        Some(version_id) => Some(domain::script::ScriptUse {
                            version_id,
                            script_id: ScriptId(r.int("sv_script")?),
                            version: r.int("sv_version")?,
                            name: r.text("sv_name")?,
                        }),
                        None => None,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for a in &attachments {
            let iid = InteractionId(a.int("interaction_id")?);
            if let Some(i) = out.iter_mut().find(|i| i.id == iid) {
                i.attachments.push(Attachment {
                    sha256: a.text("sha256")?,
                    filename: a.text("filename")?,
                    content_type: a.text("content_type")?,
                    size: a.int("size")?,
                });
            }
        }
        Ok(out)
    }

    /// An attachment's bytes with the name and type it was sent with.
    pub async fn attachment(
        &self,
        tenant: TenantId,
        sha256: &str,
    ) -> Result<(Attachment, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT a.sha256, a.filename, a.content_type, a.size, b.data, b.data_segment, b.data_offset, \
             b.data_base64_len \
             FROM attachments a JOIN blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.sha256 \
             WHERE a.tenant_id = $1 AND a.sha256 = $2 LIMIT 1",
        )
        .bind(tenant.0)
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.stored_file(&row).await
    }

    /// A file row (sha256, filename, content_type, size and the blob's
    /// data columns) with its bytes, wherever the store keeps them.
    pub(crate) async fn stored_file(&self, row: &AnyRow) -> Result<(Attachment, Vec<u8>)> {
        let data = self
            .stored_bytes(
                row,
                "data",
                "data_segment",
                "data_offset",
                Some("data_base64_len"),
            )
            .await?;
        Ok((
            Attachment {
                sha256: row.text("sha256")?,
                filename: row.text("filename")?,
                content_type: row.text("content_type")?,
                size: row.int("size")?,
            },
            data,
        ))
    }

    /// How many distinct files the tenant stores (attachments share them by content).
    pub async fn blob_count(&self, tenant: TenantId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM blobs WHERE tenant_id = $1")
                .bind(tenant.0)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Links two cases both ways.
    pub async fn link_cases(
        &self,
        actor: Actor,
        a: CaseId,
        b: CaseId,
        at: Timestamp,
    ) -> Result<()> {
        if a == b {
            return Err(StoreError::invalid(
                "related_id",
                "a case cannot be related to itself",
            ));
        }
        let (_w, mut tx) = self.write_tx().await?;
        case_status(&mut tx, actor.tenant_id, a).await?;
        if case_status(&mut tx, actor.tenant_id, b).await.is_err() {
            return Err(StoreError::invalid("related_id", "does not exist"));
        }
        insert_link(&mut tx, actor, a, b, at).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Merges a duplicate into the case kept: the duplicate's contacts,
    /// calls and department tasks move over, the two are linked, and the
    /// duplicate is closed (its clocks stop, its routed work ends), all in
    /// one transaction.
    pub async fn merge_cases(
        &self,
        actor: Actor,
        keep: CaseId,
        duplicate: CaseId,
        at: Timestamp,
    ) -> Result<()> {
        let t = actor.tenant_id;
        if keep == duplicate {
            return Err(StoreError::invalid(
                "duplicate_id",
                "a case cannot be merged into itself",
            ));
        }
        let (_w, mut tx) = self.write_tx().await?;
        let read = |r: &sqlx::any::AnyRow| -> Result<(CaseStatus, Option<i64>, CaseNumber)> {
            Ok((
                vocab(CaseStatus::parse(&r.text("status")?))?,
                r.opt_int("customer_id")?,
                CaseNumber {
                    year: r.int("year")? as i16,
                    seq: r.int("seq")?,
                },
            ))
        };
        let sql =
            "SELECT status, customer_id, year, seq FROM cases WHERE tenant_id = $1 AND id = $2";
        let kept = sqlx::query(sql)
            .bind(t.0)
            .bind(keep.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (kept_status, kept_customer, kept_number) = read(&kept)?;
        let dup = sqlx::query(sql)
            .bind(t.0)
            .bind(duplicate.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::invalid("duplicate_id", "does not exist"))?;
        let (dup_status, dup_customer, dup_number) = read(&dup)?;
        if !kept_status.is_active() {
            return Err(StoreError::Workflow(
                "the case kept is no longer open".into(),
            ));
        }
        if dup_status == CaseStatus::Closed {
            return Err(StoreError::Workflow(
                "the duplicate is already closed".into(),
            ));
        }
        match (kept_customer, dup_customer) {
            (Some(a), Some(b)) if a != b => {
                return Err(StoreError::invalid(
                    "duplicate_id",
                    "belongs to another customer",
                ));
            }
            (None, Some(b)) => {
                query("UPDATE cases SET customer_id = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(b)
                    .bind(t.0)
                    .bind(keep.0)
                    .execute(&mut *tx)
                    .await?;
            }
            _ => {}
        }
        for table in ["interactions", "calls", "department_tasks"] {
            query(format!(
                "UPDATE {table} SET case_id = $1 WHERE tenant_id = $2 AND case_id = $3"
            ))
            .bind(keep.0)
            .bind(t.0)
            .bind(duplicate.0)
            .execute(&mut *tx)
            .await?;
        }
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM department_tasks WHERE tenant_id = $1 AND case_id = $2 AND status = 'open'")
            .bind(t.0)
            .bind(keep.0)
            .fetch_one(&mut *tx)
            .await?;
        if open > 0 {
            set_status(
                &mut *tx,
                actor,
                keep,
                kept_status,
                kept_status.after_task_opened(),
                at,
            )
            .await?;
        }
        insert_link(&mut *tx, actor, keep, duplicate, at).await?;
        case_event(
            &mut *tx,
            actor,
            keep,
            "merged",
            &data([("case", dup_number.to_string())]),
            at,
        )
        .await?;
        case_event(
            &mut *tx,
            actor,
            duplicate,
            "merged_into",
            &data([("case", kept_number.to_string())]),
            at,
        )
        .await?;
        set_status(
            &mut *tx,
            actor,
            duplicate,
            dup_status,
            CaseStatus::Closed,
            at,
        )
        .await?;
        touch(&mut *tx, t, keep, at).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Writes historical cases (e.g. from the system a center replaces) in one
    /// transaction, numbering them in order and recording an `imported` event
    /// for each. Returns how many were written.
    pub async fn import_cases(
        &self,
        actor: Actor,
        timezone: &str,
        cases: &[(CaseInput, CaseStatus, Timestamp)],
    ) -> Result<usize> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        self.bulk_planning(&mut tx).await?;
        for chunk in cases.chunks(BULK_ROWS) {
            // One counter update per year in the chunk reserves a block of numbers.
            let mut numbered = Vec::with_capacity(chunk.len());
            let years: Vec<i16> = chunk
                .iter()
                .map(|(_, _, at)| case_year(*at, timezone))
                .collect();
            let mut next: HashMap<i16, i64> = HashMap::new();
            for y in &years {
                if next.contains_key(y) {
                    continue;
                }
                let n = years.iter().filter(|x| *x == y).count() as i64;
                let last: i64 = sqlx::query_scalar(
                    "INSERT INTO case_counters (tenant_id, year, last_seq) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, year) DO UPDATE SET last_seq = case_counters.last_seq + $3 RETURNING last_seq",
                )
                .bind(tenant.0)
                .bind(i64::from(*y))
                .bind(n)
                .fetch_one(&mut *tx)
                .await?;
                next.insert(*y, last - n + 1);
            }
            for ((input, status, at), year) in chunk.iter().zip(years) {
                let seq = next.get_mut(&year).map(|s| {
                    *s += 1;
                    *s - 1
                });
                numbered.push((input, *status, *at, year, seq.unwrap_or_default()));
            }
            let mut rows = JsonRows::new();
            for (c, status, at, year, seq) in &numbered {
                let done =
                    matches!(status, CaseStatus::Resolved | CaseStatus::Closed).then_some(ms(*at));
                rows.row()
                    .int(tenant.0)
                    .int(i64::from(*year))
                    .int(*seq)
                    .str(c.case_type.as_str())
                    .str(c.channel.as_str())
                    .str(c.priority.as_str())
                    .str(status.as_str())
                    .str(&c.subject)
                    .str(&c.description)
                    .opt_int(c.customer_id.map(|v| v.0))
                    .opt_int(c.category_id.map(|v| v.0))
                    .opt_int(c.assignee_id.map(|v| v.0))
                    .opt_int(c.team_id.map(|v| v.0))
                    .str(&serde_json::to_string(&c.custom).unwrap_or_default())
                    .opt_int(actor.user_id.map(|u| u.0))
                    .int(ms(*at))
                    .int(ms(*at))
                    .opt_int(done)
                    .opt_int((*status == CaseStatus::Closed).then_some(ms(*at)));
            }
            // Matched back by number: neither engine promises RETURNING order.
            let mut q = Sql::new(&format!(
                "{} RETURNING id, year, seq",
                insert_json(self.backend(), "cases", CASE_IMPORT)
            ));
            let ids = q.bind_text(rows.finish()).fetch_all(&mut tx).await?;
            let mut events = JsonRows::new();
            for row in &ids {
                let (year, seq) = (row.int("year")?, row.int("seq")?);
                let Some((c, status, at, _, _)) = numbered
                    .iter()
                    .find(|n| i64::from(n.3) == year && n.4 == seq)
                else {
                    continue;
                };
                let d = serde_json::to_string(&data([("status", status.to_string())]))
                    .unwrap_or_default();
                events
                    .row()
                    .int(tenant.0)
                    .int(row.int("id")?)
                    .int(ms(*at))
                    .opt_int(actor.user_id.map(|u| u.0))
                    .str(c.channel.as_str())
                    .str("imported")
                    .str(&d);
            }
            let mut ev = Sql::new(&insert_json(self.backend(), "case_events", EVENT_IMPORT));
            ev.bind_text(events.finish());
            ev.fetch_all(&mut tx).await?;
        }
        if cases.len() >= crate::customers::ANALYZE_AFTER {
            sqlx::query("ANALYZE").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(cases.len())
    }
}

/// The columns of imported cases and their events, in JSON row order.
const CASE_IMPORT: Columns = &[
    ("tenant_id", Col::Int),
    ("year", Col::Int),
    ("seq", Col::Int),
    ("case_type", Col::Text),
    ("channel", Col::Text),
    ("priority", Col::Text),
    ("status", Col::Text),
    ("subject", Col::Text),
    ("description", Col::Text),
    ("customer_id", Col::Int),
    ("category_id", Col::Int),
    ("assignee_id", Col::Int),
    ("team_id", Col::Int),
    ("custom", Col::Text),
    ("created_by", Col::Int),
    ("created_at", Col::Int),
    ("updated_at", Col::Int),
    ("resolved_at", Col::Int),
    ("closed_at", Col::Int),
];
const EVENT_IMPORT: Columns = &[
    ("tenant_id", Col::Int),
    ("case_id", Col::Int),
    ("at", Col::Int),
    ("actor_id", Col::Int),
    ("channel", Col::Text),
    ("kind", Col::Text),
    ("data", Col::Text),
];
