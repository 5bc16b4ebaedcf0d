//! The append-only case history and the audit log of administrative changes.

use crate::Result;
use crate::db::{RowExt, Store, ms};
use crate::exec::{Exec, query};
use domain::ids::{CaseId, UserId};
use domain::model::{Actor, AuditEntry, CaseEvent};
use jiff::Timestamp;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

pub(crate) type Data = BTreeMap<String, String>;

/// Builds event data from `(key, value)` pairs.
pub(crate) fn data<const N: usize>(pairs: [(&str, String); N]) -> Data {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

pub(crate) async fn case_event<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case_id: CaseId,
    kind: &str,
    data: &Data,
    at: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO case_events (tenant_id, case_id, at, actor_id, channel, kind, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(actor.tenant_id.0)
    .bind(case_id.0)
    .bind(ms(at))
    .bind(actor.user_id.map(|u| u.0))
    .bind(actor.channel.map(|c| c.as_str()))
    .bind(kind)
    .bind(serde_json::to_string(data).unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn audit(
    conn: &mut AnyConnection,
    actor: Actor,
    action: &str,
    target: &str,
    data: &Data,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (tenant_id, at, actor_id, action, target, data) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(actor.tenant_id.0)
        .bind(ms(at))
        .bind(actor.user_id.map(|u| u.0))
        .bind(action)
        .bind(target)
        .bind(serde_json::to_string(data).unwrap_or_default())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn parse_data(text: &str) -> Data {
    serde_json::from_str(text).unwrap_or_default()
}

impl Store {
    pub async fn case_events(
        &self,
        tenant: domain::ids::TenantId,
        case_id: CaseId,
    ) -> Result<Vec<CaseEvent>> {
        let rows = sqlx::query(
            "SELECT e.id, e.at, e.actor_id, u.display_name AS actor_name, e.channel, e.kind, e.data \
             FROM case_events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.tenant_id = $1 AND e.case_id = $2 ORDER BY e.id",
        )
        .bind(tenant.0)
        .bind(case_id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseEvent {
                    id: r.int("id")?,
                    at: r.time("at")?,
                    actor_id: r.opt_int("actor_id")?.map(UserId),
                    actor_name: r.opt_text("actor_name")?,
                    channel: r
                        .opt_text("channel")?
                        .and_then(|c| domain::case::Channel::parse(&c).ok()),
                    kind: r.text("kind")?,
                    data: parse_data(&r.text("data")?),
                })
            })
            .collect()
    }

    pub async fn audit_log(
        &self,
        tenant: domain::ids::TenantId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor_id, action, target, data FROM audit_log \
             WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant.0)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.int("id")?,
                    at: r.time("at")?,
                    actor_id: r.opt_int("actor_id")?.map(UserId),
                    action: r.text("action")?,
                    target: r.text("target")?,
                    data: parse_data(&r.text("data")?),
                })
            })
            .collect()
    }
}
