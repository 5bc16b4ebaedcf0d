//! Calls from the center's PBX (CTI): each event moves one call row along;
//! the hang-up writes the call onto its case in the same transaction, so a
//! call the PBX was answered 200 for is never lost.

use crate::cases::{
    case_status, insert_case, insert_interaction, insert_link, link_file, patch_case, put_blob,
    transition_in,
};
use crate::db::{RowExt, Store, ms, ts, vocab};
use crate::events::{audit, case_event, data};
use crate::exec::{Exec, query};
use crate::users::exists;
use crate::{Result, StoreError};
use domain::FieldError;
use domain::call::{
    CallDirection, CallEvent, CallResult, CallState, CallTimes, Step, answered_by_talk, step,
};
use domain::case::{
    CaseAction, CaseNumber, CaseType, Channel, Direction, InteractionKind, Priority,
};
use domain::contact::PhoneNumber;
use domain::ids::*;
use domain::model::{
    Actor, Attachment, AttachmentInput, CaseInput, CasePatch, InteractionInput, Tenant,
};
use domain::simulate::Figures;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// One event from the PBX, read at the web edge.
#[derive(Debug, Clone)]
pub struct CallReport {
    pub event: CallEvent,
    pub call_ref: String,
    pub direction: Option<CallDirection>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    /// The customer's side (the caller of an inbound call), when it parses.
    pub number: Option<PhoneNumber>,
    pub queue: Option<String>,
    /// Who has the call now: an extension or a username.
    pub agent: Option<AgentRef>,
    pub cause: Option<String>,
    pub recording: Option<String>,
    /// The seconds talked, as a hang-up reports them.
    pub talk_secs: Option<i64>,
    /// A case the caller named to the IVR.
    pub case_number: Option<CaseNumber>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentRef {
    Extension(String),
    Username(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub id: CallId,
    pub call_id: String,
    pub direction: CallDirection,
    pub caller: String,
    pub callee: String,
    pub number: Option<String>,
    pub queue: Option<String>,
    pub agent_id: Option<UserId>,
    pub customer_id: Option<CustomerId>,
    pub case_id: Option<CaseId>,
    pub interaction_id: Option<InteractionId>,
    pub state: CallState,
    pub started_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub cause: Option<String>,
    pub recording: Option<String>,
    /// A recording the PBX sent as a file (`GET /calls/{id}/recording`).
    pub recording_file: Option<Attachment>,
    pub wrapped_up_at: Option<Timestamp>,
}

/// What the event did.
#[derive(Debug, Clone, Serialize)]
pub struct CallOutcome {
    pub call: Call,
    /// False when the PBX repeated itself.
    pub changed: bool,
    /// Accepted, but worth the PBX administrator's eye (an unknown extension).
    pub warnings: Vec<String>,
}

/// The agent's wrap-up of a call that has ended.
#[derive(Debug, Clone)]
pub struct WrapUp {
    pub category_id: Option<CategoryId>,
    pub case_type: Option<CaseType>,
    pub result: CallResult,
    pub notes: String,
    /// Opens a follow-up case (a call back to the customer) linked to this one.
    pub follow_up: bool,
}

const CALL_COLS: &str = "id, call_ref, direction, caller, callee, number, queue, agent_id, customer_id, case_id, \
     interaction_id, state, started_at, answered_at, ended_at, cause, recording, wrapped_up_at, \
     recording_sha256, recording_type, recording_name, recording_size";

fn call_row(r: &impl RowExt) -> Result<Call> {
    Ok(Call {
        id: CallId(r.int("id")?),
        call_id: r.text("call_ref")?,
        direction: vocab(CallDirection::parse(&r.text("direction")?))?,
        caller: r.text("caller")?,
        callee: r.text("callee")?,
        number: r.opt_text("number")?,
        queue: r.opt_text("queue")?,
        agent_id: r.opt_int("agent_id")?.map(UserId),
        customer_id: r.opt_int("customer_id")?.map(CustomerId),
        case_id: r.opt_int("case_id")?.map(CaseId),
        interaction_id: r.opt_int("interaction_id")?.map(InteractionId),
        state: vocab(CallState::parse(&r.text("state")?))?,
        started_at: r.time("started_at")?,
        answered_at: r.opt_int("answered_at")?.map(ts),
        ended_at: r.opt_int("ended_at")?.map(ts),
        cause: r.opt_text("cause")?,
        recording: r.opt_text("recording")?,
        recording_file: match r.opt_text("recording_sha256")? {
            Some(sha256) => Some(Attachment {
                sha256,
                filename: r.text("recording_name")?,
                content_type: r.text("recording_type")?,
                size: r.int("recording_size")?,
            }),
            None => None,
        },
        wrapped_up_at: r.opt_int("wrapped_up_at")?.map(ts),
    })
}

/// A call by the PBX's id, for its events.
async fn by_ref<E: Exec>(conn: &mut E, tenant: TenantId, call_ref: &str) -> Result<Option<Call>> {
    query(format!(
        "SELECT {CALL_COLS} FROM calls WHERE tenant_id = $1 AND call_ref = $2"
    ))
    .bind(tenant.0)
    .bind(call_ref)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(call_row)
    .transpose()
}

async fn by_id<E: Exec>(conn: &mut E, tenant: TenantId, id: CallId) -> Result<Call> {
    query(format!(
        "SELECT {CALL_COLS} FROM calls WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.0)
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(call_row)
    .transpose()?
    .ok_or(StoreError::NotFound)
}

async fn agent_of<E: Exec>(conn: &mut E, tenant: TenantId, a: &AgentRef) -> Result<Option<UserId>> {
    let (col, v) = match a {
        AgentRef::Extension(x) => ("extension", x),
        AgentRef::Username(u) => ("username", u),
    };
    Ok(query(format!(
        "SELECT id FROM users WHERE tenant_id = $1 AND {col} = $2 AND active = 1"
    ))
    .bind(tenant.0)
    .bind(v.as_str())
    .fetch_optional(conn)
    .await?
    .map(|r| r.int("id"))
    .transpose()?
    .map(UserId))
}

/// The one customer with this number; several (a shared line) or none is left to the agent.
async fn customer_of<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    number: &str,
) -> Result<Option<CustomerId>> {
    let ids = query("SELECT DISTINCT customer_id FROM customer_phones WHERE tenant_id = $1 AND e164 = $2 LIMIT 2")
        .bind(tenant.0)
        .bind(number)
        .fetch_all(conn)
        .await?;
    Ok(match ids.as_slice() {
        [one] => Some(CustomerId(one.int("customer_id")?)),
        _ => None,
    })
}

fn call_text(c: &Call) -> String {
    let mut parts = vec![format!("{} → {}", c.caller, c.callee)];
    parts.extend(c.queue.clone());
    parts.extend(c.cause.clone());
    parts.join(" · ")
}

/// Writes an ended call onto its case: the case it was attached to, else a
/// new inquiry case for a call someone spoke on. A call nobody answered and
/// nobody attached stays a call record only (it counts as abandoned).
async fn file_call<E: Exec>(
    conn: &mut E,
    tenant: &Tenant,
    c: &mut Call,
    at: Timestamp,
) -> Result<()> {
    let talked = c.answered_at.is_some();
    if c.interaction_id.is_some() || (c.case_id.is_none() && !talked) {
        return Ok(());
    }
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: if talked { c.agent_id } else { None },
        channel: Some(Channel::Phone),
    };
    let i = InteractionInput {
        kind: InteractionKind::Call,
        direction: match c.direction {
            CallDirection::Inbound => Direction::Inbound,
            CallDirection::Outbound => Direction::Outbound,
        },
        started_at: c.answered_at.unwrap_or(c.started_at),
        ended_at: c.ended_at,
        body: call_text(c),
        attachments: Vec::new(),
        script_version_id: None,
    };
    let interaction = match c.case_id {
        Some(case) => insert_interaction(conn, actor, case, &i, at).await?,
        None => {
            let subject = match c.number.as_deref() {
                Some(n) => n.to_string(),
                None => c.caller.clone(),
            };
            let input = CaseInput {
                case_type: CaseType::Inquiry,
                channel: Channel::Phone,
                priority: Priority::Normal,
                subject: format!("☎ {subject}"),
                description: String::new(),
                customer_id: c.customer_id,
                category_id: None,
                assignee_id: c.agent_id,
                team_id: None,
                custom: BTreeMap::new(),
            };
            let (case, interaction) = insert_case(
                conn,
                actor,
                &tenant.timezone,
                &input,
                Some((&i, &[])),
                None,
                at,
            )
            .await?;
            c.case_id = Some(case);
            interaction.ok_or(StoreError::NotFound)?
        }
    };
    c.interaction_id = Some(interaction);
    if let Some(f) = &c.recording_file {
        link_file(conn, tenant.id, interaction, f).await?;
    }
    Ok(())
}

async fn save<E: Exec>(conn: &mut E, tenant: TenantId, c: &Call) -> Result<()> {
    query(
        "UPDATE calls SET agent_id = $1, customer_id = $2, case_id = $3, interaction_id = $4, state = $5, \
         answered_at = $6, ended_at = $7, cause = $8, recording = $9, queue = $10, wrapped_up_at = $11 \
         WHERE tenant_id = $12 AND id = $13",
    )
    .bind(c.agent_id.map(|u| u.0))
    .bind(c.customer_id.map(|u| u.0))
    .bind(c.case_id.map(|u| u.0))
    .bind(c.interaction_id.map(|u| u.0))
    .bind(c.state.as_str())
    .bind(c.answered_at.map(ms))
    .bind(c.ended_at.map(ms))
    .bind(c.cause.as_deref())
    .bind(c.recording.as_deref())
    .bind(c.queue.as_deref())
    .bind(c.wrapped_up_at.map(ms))
    .bind(tenant.0)
    .bind(c.id.0)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// The tenant whose PBX holds this token.
    pub async fn cti_tenant(&self, token_hash: &str) -> Result<Option<TenantId>> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM tenants WHERE cti_token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map(TenantId))
    }

    /// Whether the tenant's PBX has a token.
    pub async fn has_cti_token(&self, tenant: TenantId) -> Result<bool> {
        let h: Option<String> =
            sqlx::query_scalar("SELECT cti_token_hash FROM tenants WHERE id = $1")
                .bind(tenant.0)
                .fetch_one(&self.pool)
                .await?;
        Ok(h.is_some())
    }

    /// Gives the tenant's PBX a new token; the old one stops working.
    pub async fn set_cti_token(&self, actor: Actor, token_hash: &str, at: Timestamp) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        sqlx::query("UPDATE tenants SET cti_token_hash = $1 WHERE id = $2")
            .bind(token_hash)
            .bind(actor.tenant_id.0)
            .execute(&mut *tx)
            .await?;
        audit(&mut tx, actor, "cti.token", "tenant", &data([]), at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the phone extension the PBX knows a user by.
    pub async fn set_extension(
        &self,
        actor: Actor,
        user: UserId,
        extension: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET extension = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(extension)
            .bind(actor.tenant_id.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from_unique(e, "another user has this extension"))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let d = data([("extension", extension.unwrap_or_default().to_string())]);
        audit(
            &mut tx,
            actor,
            "user.extension",
            &format!("user:{}", user.0),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies one PBX event. The hang-up of a call someone spoke on (or
    /// that was attached to a case) writes it onto its case in the same
    /// transaction.
    pub async fn call_event(&self, tenant: &Tenant, r: &CallReport) -> Result<CallOutcome> {
        let t = tenant.id;
        let (_w, mut tx) = self.write_tx().await?;
        let found = by_ref(&mut *tx, t, &r.call_ref).await?;
        let next = step(found.as_ref().map(|c| c.state), r.event).map_err(StoreError::Invalid)?;
        let mut warnings = Vec::new();
        let agent = match &r.agent {
            Some(a) => {
                let id = agent_of(&mut *tx, t, a).await?;
                if id.is_none() {
                    let (what, v) = match a {
                        AgentRef::Extension(x) => ("extension", x),
                        AgentRef::Username(u) => ("user", u),
                    };
                    warnings.push(format!("{what} {v} belongs to no active user"));
                }
                id
            }
            None => None,
        };
        let case = match r.case_number {
            Some(n) => {
                let id =
                    query("SELECT id FROM cases WHERE tenant_id = $1 AND year = $2 AND seq = $3")
                        .bind(t.0)
                        .bind(i64::from(n.year))
                        .bind(n.seq)
                        .fetch_optional(&mut *tx)
                        .await?;
                if id.is_none() {
                    warnings.push(format!("case {n} does not exist"));
                }
                id.map(|r| r.int("id")).transpose()?.map(CaseId)
            }
            None => None,
        };
        let mut c = match found {
            Some(c) => c,
            None => {
                let need = |v: &Option<String>, f: &str| {
                    v.clone().ok_or_else(|| {
                        StoreError::Invalid(FieldError::new(f, "is required for a new call"))
                    })
                };
                let direction = r.direction.ok_or_else(|| {
                    StoreError::Invalid(FieldError::new("direction", "is required for a new call"))
                })?;
                let (caller, callee) = (need(&r.caller, "caller")?, need(&r.callee, "callee")?);
                let number = r.number.as_ref().map(|n| n.as_str().to_string());
                let customer = match &number {
                    Some(n) => customer_of(&mut *tx, t, n).await?,
                    None => None,
                };
                let id = query(
                    "INSERT INTO calls (tenant_id, call_ref, direction, caller, callee, number, queue, customer_id, state, started_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'ringing', $9) RETURNING id",
                )
                .bind(t.0)
                .bind(&r.call_ref)
                .bind(direction.as_str())
                .bind(&caller)
                .bind(&callee)
                .bind(number.as_deref())
                .bind(r.queue.as_deref())
                .bind(customer.map(|c| c.0))
                .bind(ms(r.at))
                .fetch_one(&mut *tx)
                .await?
                .int("id")?;
                by_id(&mut *tx, t, CallId(id)).await?
            }
        };
        let changed = match next {
            Step::Repeat => false,
            Step::To(state) => {
                // A hang-up names the agent only for a call whose "answered" was lost.
                if agent.is_some()
                    && (matches!(
                        r.event,
                        CallEvent::New | CallEvent::Answered | CallEvent::Transferred
                    ) || (r.event == CallEvent::Hangup && c.agent_id.is_none()))
                {
                    c.agent_id = agent;
                }
                if c.case_id.is_none() {
                    c.case_id = case;
                }
                if r.queue.is_some() {
                    c.queue = r.queue.clone();
                }
                match r.event {
                    CallEvent::Answered => c.answered_at = Some(r.at),
                    CallEvent::Hangup => {
                        c.ended_at = Some(r.at);
                        c.cause = r.cause.clone();
                        if let Some(talk) = r.talk_secs {
                            c.answered_at =
                                answered_by_talk(c.started_at, c.answered_at, r.at, talk);
                        }
                    }
                    CallEvent::Recording => c.recording = r.recording.clone(),
                    CallEvent::New | CallEvent::Transferred => {}
                }
                c.state = state;
                if state == CallState::Ended {
                    file_call(&mut *tx, tenant, &mut c, r.at).await?;
                }
                save(&mut *tx, t, &c).await?;
                true
            }
        };
        tx.commit().await?;
        Ok(CallOutcome {
            call: c,
            changed,
            warnings,
        })
    }

    /// Keeps a recording the PBX sends as a file: on the call, and on its
    /// case's contact once the call is filed (now, or at the hang-up). The
    /// same file again changes nothing.
    pub async fn call_recording_file(
        &self,
        tenant: TenantId,
        call_ref: &str,
        file: &AttachmentInput,
    ) -> Result<Call> {
        let (_w, mut tx) = self.write_tx().await?;
        let mut c = by_ref(&mut *tx, tenant, call_ref)
            .await?
            .ok_or(StoreError::NotFound)?;
        let f = file.attachment();
        if c.recording_file.as_ref() == Some(&f) {
            return Ok(c);
        }
        put_blob(&mut *tx, tenant, file).await?;
        query(
            "UPDATE calls SET recording_sha256 = $1, recording_type = $2, recording_name = $3, recording_size = $4 \
             WHERE tenant_id = $5 AND id = $6",
        )
        .bind(&f.sha256)
        .bind(&f.content_type)
        .bind(&f.filename)
        .bind(f.size)
        .bind(tenant.0)
        .bind(c.id.0)
        .execute(&mut *tx)
        .await?;
        if let Some(i) = c.interaction_id {
            link_file(&mut *tx, tenant, i, &f).await?;
        }
        tx.commit().await?;
        c.recording_file = Some(f);
        Ok(c)
    }

    /// The recording file of a call, with its bytes.
    pub async fn call_recording(
        &self,
        tenant: TenantId,
        id: CallId,
    ) -> Result<(Attachment, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT c.recording_sha256 AS sha256, c.recording_name AS filename, c.recording_type AS content_type, \
             c.recording_size AS size, b.data, b.data_segment, b.data_offset, b.data_base64_len \
             FROM calls c JOIN blobs b ON b.tenant_id = c.tenant_id AND b.sha256 = c.recording_sha256 \
             WHERE c.tenant_id = $1 AND c.id = $2",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.stored_file(&row).await
    }

    pub async fn call(&self, tenant: TenantId, id: CallId) -> Result<Call> {
        let mut conn = self.pool.acquire().await?;
        by_id(&mut *conn, tenant, id).await
    }

    /// The agent's calls, newest first: the one in progress and those to wrap up.
    pub async fn agent_calls(
        &self,
        tenant: TenantId,
        agent: UserId,
        limit: u32,
    ) -> Result<Vec<Call>> {
        sqlx::query(&format!(
            "SELECT {CALL_COLS} FROM calls WHERE tenant_id = $1 AND agent_id = $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(tenant.0)
        .bind(agent.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(call_row)
        .collect()
    }

    /// Calls an agent has now (ringing for them or talking), oldest first;
    /// a call older than two hours without a hang-up was lost by the PBX.
    pub async fn calls_in_progress(&self, tenant: TenantId, now: Timestamp) -> Result<Vec<Call>> {
        sqlx::query(&format!(
            "SELECT {CALL_COLS} FROM calls WHERE tenant_id = $1 AND started_at >= $2 \
             AND state <> 'ended' AND agent_id IS NOT NULL ORDER BY started_at, id LIMIT 5000"
        ))
        .bind(tenant.0)
        .bind(ms(now - jiff::SignedDuration::from_hours(2)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(call_row)
        .collect()
    }

    /// The agent says which case the call is about (during the call or in
    /// the wrap-up); a call already written onto a case moves with it.
    pub async fn attach_call(
        &self,
        actor: Actor,
        id: CallId,
        case: CaseId,
        at: Timestamp,
    ) -> Result<Call> {
        let t = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let mut c = by_id(&mut *tx, t, id).await?;
        exists(&mut *tx, "cases", t, case.0, "case_id").await?;
        if c.case_id == Some(case) {
            return Ok(c);
        }
        if let Some(i) = c.interaction_id {
            query("UPDATE interactions SET case_id = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(case.0)
                .bind(t.0)
                .bind(i.0)
                .execute(&mut *tx)
                .await?;
            let d = data([
                ("interaction_id", i.0.to_string()),
                ("to", case.0.to_string()),
            ]);
            if let Some(old) = c.case_id {
                case_event(&mut *tx, actor, old, "call_moved", &d, at).await?;
            }
            case_event(&mut *tx, actor, case, "interaction", &d, at).await?;
        }
        c.case_id = Some(case);
        let customer: Option<i64> =
            query("SELECT customer_id FROM cases WHERE tenant_id = $1 AND id = $2")
                .bind(t.0)
                .bind(case.0)
                .fetch_one(&mut *tx)
                .await?
                .opt_int("customer_id")?;
        if c.customer_id.is_none() {
            c.customer_id = customer.map(CustomerId);
        }
        save(&mut *tx, t, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The caller is this customer (an unknown number just saved, or one of
    /// several sharing a line).
    pub async fn call_customer(
        &self,
        actor: Actor,
        id: CallId,
        customer: CustomerId,
    ) -> Result<Call> {
        let t = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let mut c = by_id(&mut *tx, t, id).await?;
        exists(&mut *tx, "customers", t, customer.0, "customer_id").await?;
        c.customer_id = Some(customer);
        save(&mut *tx, t, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The agent's wrap-up after the hang-up: the case retyped and
    /// categorised, the notes, resolved or left open, a follow-up opened.
    pub async fn wrap_up_call(
        &self,
        actor: Actor,
        tenant: &Tenant,
        id: CallId,
        w: &WrapUp,
        at: Timestamp,
    ) -> Result<Call> {
        let t = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let mut c = by_id(&mut *tx, t, id).await?;
        if c.state != CallState::Ended {
            return Err(StoreError::Conflict("the call has not ended yet".into()));
        }
        let case = c.case_id.ok_or_else(|| {
            StoreError::Invalid(FieldError::new(
                "case_id",
                "the call is on no case: attach it to one first",
            ))
        })?;
        let customer: Option<i64> =
            query("SELECT customer_id FROM cases WHERE tenant_id = $1 AND id = $2")
                .bind(t.0)
                .bind(case.0)
                .fetch_one(&mut *tx)
                .await?
                .opt_int("customer_id")?;
        let customer = customer.map(CustomerId);
        let patch = CasePatch {
            case_type: w.case_type,
            category_id: w.category_id.map(Some),
            ..Default::default()
        };
        patch_case(&mut tx, actor, case, &patch, at).await?;
        if !w.notes.trim().is_empty() {
            let note = InteractionInput::note(w.notes.trim().to_string(), at);
            insert_interaction(&mut *tx, actor, case, &note, at).await?;
        }
        if w.result == CallResult::Resolved
            && case_status(&mut *tx, t, case)
                .await?
                .apply(CaseAction::Resolve)
                .is_ok()
        {
            transition_in(&mut tx, actor, case, CaseAction::Resolve, at).await?;
        }
        if w.follow_up {
            let input = CaseInput {
                case_type: CaseType::FollowUp,
                channel: Channel::Phone,
                priority: Priority::Normal,
                subject: format!("回访 / Follow-up: {}", call_text(&c)),
                description: w.notes.trim().to_string(),
                customer_id: customer,
                category_id: w.category_id,
                assignee_id: None,
                team_id: None,
                custom: BTreeMap::new(),
            };
            let (f, _) =
                insert_case(&mut *tx, actor, &tenant.timezone, &input, None, None, at).await?;
            insert_link(&mut *tx, actor, case, f, at).await?;
        }
        c.wrapped_up_at = Some(at);
        save(&mut *tx, t, &c).await?;
        let d = data([
            ("call", c.id.0.to_string()),
            ("result", w.result.to_string()),
        ]);
        case_event(&mut *tx, actor, case, "wrapped_up", &d, at).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The figures of calls started in `[from, to)` per PBX queue (`None`:
    /// calls with no queue), counted at `now`.
    pub async fn call_figures(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        threshold_secs: u32,
    ) -> Result<Vec<(Option<String>, Figures)>> {
        let rows = sqlx::query(
            "SELECT queue, direction, started_at, answered_at, ended_at FROM calls \
             WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 ORDER BY queue",
        )
        .bind(tenant.0)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(Option<String>, Figures)> = Vec::new();
        for r in &rows {
            let queue = r.opt_text("queue")?;
            let times = CallTimes {
                direction: vocab(CallDirection::parse(&r.text("direction")?))?,
                started: r.int("started_at")?,
                answered: r.opt_int("answered_at")?,
                ended: r.opt_int("ended_at")?,
            };
            if out.last().map(|(q, _)| q) != Some(&queue) {
                out.push((queue, Figures::default()));
            }
            if let Some((_, f)) = out.last_mut() {
                f.count_call(&times, threshold_secs, ms(now));
            }
        }
        Ok(out)
    }
}
