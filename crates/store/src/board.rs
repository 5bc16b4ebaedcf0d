//! What the wallboard and the team view read: today's routed work per
//! queue, calls ringing at the PBX, and each agent's day.

use crate::Result;
use crate::db::{RowExt, Store, ms, ts, vocab};
use domain::ids::*;
use domain::routing::{WorkEnd, WorkKind, WorkTimes};
use domain::simulate::Figures;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// Calls ringing at the PBX in one of its queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ringing {
    pub queue: Option<String>,
    pub calls: u32,
    pub oldest: Timestamp,
}

/// One agent's handled work since the start of the day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AgentDay {
    /// Routed work finished and calls taken.
    pub handled: u32,
    pub handle_secs: f64,
}

impl AgentDay {
    pub fn aht_secs(&self) -> f64 {
        if self.handled > 0 {
            self.handle_secs / f64::from(self.handled)
        } else {
            0.0
        }
    }
}

/// What needs a supervisor's eye now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Alarms {
    /// Open cases whose clock warns or has run out.
    pub sla_warning: u32,
    pub sla_breached: u32,
    /// Department tasks open past their deadline.
    pub tasks_overdue: u32,
}

/// A call still ringing after this long was lost by the PBX, not waiting.
const RINGING_AT_MOST: SignedDuration = SignedDuration::from_hours(2);

impl Store {
    /// Routed work that arrived in `[from, to)`, counted per queue at `now`.
    pub async fn work_figures(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
    ) -> Result<BTreeMap<QueueId, Figures>> {
        let rows = sqlx::query(
            "SELECT queue_id, kind, arrived_at, assigned_at, ended_at, outcome FROM work_items \
             WHERE tenant_id = $1 AND arrived_at >= $2 AND arrived_at < $3",
        )
        .bind(tenant.0)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<QueueId, Figures> = BTreeMap::new();
        for r in &rows {
            let times = WorkTimes {
                kind: vocab(WorkKind::parse(&r.text("kind")?))?,
                arrived: r.int("arrived_at")?,
                assigned: r.opt_int("assigned_at")?,
                ended: r.opt_int("ended_at")?,
                outcome: r.opt_text("outcome")?.as_deref().map(WorkEnd::of),
            };
            out.entry(QueueId(r.int("queue_id")?))
                .or_default()
                .count_work(&times, ms(now));
        }
        Ok(out)
    }

    /// Inbound calls ringing now, per PBX queue.
    pub async fn ringing_calls(&self, tenant: TenantId, now: Timestamp) -> Result<Vec<Ringing>> {
        let rows = sqlx::query(
            "SELECT queue, COUNT(*) AS n, MIN(started_at) AS oldest FROM calls \
             WHERE tenant_id = $1 AND started_at >= $2 AND state = 'ringing' AND direction = 'inbound' \
             GROUP BY queue ORDER BY queue",
        )
        .bind(tenant.0)
        .bind(ms(now - RINGING_AT_MOST))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Ringing {
                    queue: r.opt_text("queue")?,
                    calls: u32::try_from(r.int("n")?).unwrap_or(u32::MAX),
                    oldest: ts(r.int("oldest")?),
                })
            })
            .collect()
    }

    /// Each agent's routed work finished and calls ended since `from`, with
    /// the time they held them.
    pub async fn agent_days(
        &self,
        tenant: TenantId,
        from: Timestamp,
    ) -> Result<BTreeMap<UserId, AgentDay>> {
        let mut out: BTreeMap<UserId, AgentDay> = BTreeMap::new();
        for sql in [
            "SELECT agent_id, COUNT(*) AS n, CAST(SUM(ended_at - assigned_at) AS BIGINT) AS held FROM work_items \
             WHERE tenant_id = $1 AND agent_id IS NOT NULL AND state = 'done' AND outcome = 'finished' \
             AND assigned_at IS NOT NULL AND ended_at >= $2 GROUP BY agent_id",
            "SELECT agent_id, COUNT(*) AS n, CAST(SUM(ended_at - answered_at) AS BIGINT) AS held FROM calls \
             WHERE tenant_id = $1 AND agent_id IS NOT NULL AND answered_at IS NOT NULL \
             AND ended_at IS NOT NULL AND started_at >= $2 GROUP BY agent_id",
        ] {
            let rows = sqlx::query(sql)
                .bind(tenant.0)
                .bind(ms(from))
                .fetch_all(&self.pool)
                .await?;
            for r in &rows {
                let day = out.entry(UserId(r.int("agent_id")?)).or_default();
                day.handled += u32::try_from(r.int("n")?).unwrap_or(u32::MAX);
                day.handle_secs += r.opt_int("held")?.unwrap_or(0).max(0) as f64 / 1000.0;
            }
        }
        Ok(out)
    }

    pub async fn alarms(&self, tenant: TenantId, now: Timestamp) -> Result<Alarms> {
        let mut a = Alarms::default();
        let rows = sqlx::query(
            "SELECT sla_state, COUNT(*) AS n FROM cases WHERE tenant_id = $1 \
             AND sla_state IN ('warning', 'breached') AND status NOT IN ('resolved', 'closed') GROUP BY sla_state",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let n = u32::try_from(r.int("n")?).unwrap_or(u32::MAX);
            match r.text("sla_state")?.as_str() {
                "warning" => a.sla_warning = n,
                _ => a.sla_breached = n,
            }
        }
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM department_tasks WHERE tenant_id = $1 AND status = 'open' AND deadline_at < $2",
        )
        .bind(tenant.0)
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        a.tasks_overdue = u32::try_from(r.int("n")?).unwrap_or(u32::MAX);
        Ok(a)
    }
}
