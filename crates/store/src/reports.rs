//! Read-only figures for managers and for a client's viewers.

use crate::Result;
use crate::db::{RowExt, Store, ms};
use domain::ids::TenantId;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub from: Timestamp,
    pub to: Timestamp,
    pub cases_opened: i64,
    pub by_type: Vec<(String, i64)>,
    pub by_channel: Vec<(String, i64)>,
    pub by_status: Vec<(String, i64)>,
    pub open_department_tasks: i64,
    pub overdue_department_tasks: i64,
    /// Calls the PBX reported, per its queue.
    pub calls: Vec<QueueCalls>,
}

/// Seconds within which an answered call counts toward the service level.
pub const SL_THRESHOLD_SECS: u32 = 20;

#[derive(Debug, Clone, Serialize)]
pub struct QueueCalls {
    /// The PBX's queue name; none for calls outside any queue.
    pub queue: Option<String>,
    #[serde(flatten)]
    pub figures: domain::simulate::Summary,
    pub aht_secs: f64,
}

impl Store {
    /// Cases opened in `[from, to)` by type, channel and current status, and
    /// the department tasks open and overdue at `now`.
    pub async fn summary(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
    ) -> Result<Summary> {
        let mut groups = Vec::new();
        for col in ["case_type", "channel", "status"] {
            let rows = sqlx::query(&format!(
                "SELECT {col} AS k, COUNT(*) AS n FROM cases WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
                 GROUP BY {col} ORDER BY n DESC, k"
            ))
            .bind(tenant.0)
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(&self.pool)
            .await?;
            groups.push(
                rows.iter()
                    .map(|r| Ok((r.text("k")?, r.int("n")?)))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        let [by_type, by_channel, by_status]: [Vec<(String, i64)>; 3] =
            groups.try_into().unwrap_or_default();
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM department_tasks WHERE tenant_id = $1 AND status = 'open'",
        )
        .bind(tenant.0)
        .fetch_one(&self.pool)
        .await?;
        let overdue: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM department_tasks WHERE tenant_id = $1 AND status = 'open' AND deadline_at < $2")
            .bind(tenant.0)
            .bind(ms(now))
            .fetch_one(&self.pool)
            .await?;
        let calls = self
            .call_figures(tenant, from, to, now, SL_THRESHOLD_SECS)
            .await?
            .into_iter()
            .map(|(queue, f)| QueueCalls {
                queue,
                figures: f.summary(),
                aht_secs: f.aht_secs(),
            })
            .collect();
        Ok(Summary {
            calls,
            from,
            to,
            cases_opened: by_type.iter().map(|(_, n)| n).sum(),
            by_type,
            by_channel,
            by_status,
            open_department_tasks: open,
            overdue_department_tasks: overdue,
        })
    }
}
