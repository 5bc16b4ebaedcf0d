//! The agent's own marks on the lists: filters saved by name, and when the
//! user last opened each case (changed since: shown as new).

use crate::db::{RowExt, Store, ms};
use crate::{Result, StoreError};
use domain::ids::*;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct SavedFilter {
    pub id: i64,
    pub name: String,
    /// The list's query string.
    pub query: String,
}

impl Store {
    pub async fn saved_filters(&self, tenant: TenantId, user: UserId) -> Result<Vec<SavedFilter>> {
        let rows = sqlx::query(
            "SELECT id, name, query FROM saved_filters WHERE tenant_id = $1 AND user_id = $2 ORDER BY name, id LIMIT 100",
        )
        .bind(tenant.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SavedFilter {
                    id: r.int("id")?,
                    name: r.text("name")?,
                    query: r.text("query")?,
                })
            })
            .collect()
    }

    /// Saves a filter under a name; the same name again replaces it.
    pub async fn save_filter(
        &self,
        tenant: TenantId,
        user: UserId,
        name: &str,
        query: &str,
        at: Timestamp,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "INSERT INTO saved_filters (tenant_id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, user_id, name) DO UPDATE SET query = excluded.query",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(name)
        .bind(query)
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_filter(&self, tenant: TenantId, user: UserId, id: i64) -> Result<()> {
        let _w = self.writer().await;
        let n = sqlx::query(
            "DELETE FROM saved_filters WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The user opened the case.
    pub async fn mark_read(
        &self,
        tenant: TenantId,
        user: UserId,
        case: CaseId,
        at: Timestamp,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "INSERT INTO case_reads (tenant_id, user_id, case_id, read_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, case_id) DO UPDATE SET read_at = excluded.read_at",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(case.0)
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the user last opened each of these cases (those never opened are left out).
    pub async fn case_reads(
        &self,
        tenant: TenantId,
        user: UserId,
        cases: &[CaseId],
    ) -> Result<HashMap<CaseId, Timestamp>> {
        if cases.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = cases
            .iter()
            .map(|c| c.0.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT case_id, read_at FROM case_reads WHERE tenant_id = $1 AND user_id = $2 AND case_id IN ({ids})"
        ))
        .bind(tenant.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((CaseId(r.int("case_id")?), r.time("read_at")?)))
            .collect()
    }
}
