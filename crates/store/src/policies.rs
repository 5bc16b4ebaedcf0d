//! The SLA configuration of a tenant: business calendars, the ordered SLA
//! policies, and the calendar each department works by.

use crate::db::{RowExt, Store};
use crate::events::{audit, data};
use crate::exec::{Exec, query};
use crate::sla::{self, Calendars};
use crate::users::exists;
use crate::{Result, StoreError};
use domain::calendar::{Calendar, CalendarSpec};
use domain::ids::*;
use domain::model::Actor;
use domain::policy::PolicySpec;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct StoredCalendar {
    pub id: CalendarId,
    pub name: String,
    #[serde(flatten)]
    pub spec: CalendarSpec,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredPolicy {
    pub id: PolicyId,
    /// 1 is tried first.
    pub position: i64,
    #[serde(flatten)]
    pub spec: PolicySpec,
    pub updated_at: Timestamp,
}

fn check_name(name: &str) -> Result<()> {
    domain::contact::text("name", name, 100).map_err(StoreError::Invalid)?;
    Ok(())
}

fn check_calendar(spec: &CalendarSpec) -> Result<String> {
    Calendar::parse(spec).map_err(StoreError::Invalid)?;
    serde_json::to_string(spec).map_err(|e| StoreError::Internal(e.to_string()))
}

async fn check_policy<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    spec: &PolicySpec,
) -> Result<String> {
    spec.check().map_err(StoreError::Invalid)?;
    if let Some(c) = spec.calendar_id {
        exists(conn, "calendars", tenant, c.0, "calendar_id").await?;
    }
    if let Some(t) = spec.breach.move_to_team {
        exists(conn, "teams", tenant, t.0, "breach.move_to_team").await?;
    }
    for (i, t) in spec.conditions.team_ids.iter().enumerate() {
        exists(
            conn,
            "teams",
            tenant,
            t.0,
            &format!("conditions.team_ids[{i}]"),
        )
        .await?;
    }
    for (i, a) in spec.conditions.address_ids.iter().enumerate() {
        exists(
            conn,
            "mail_addresses",
            tenant,
            *a,
            &format!("conditions.address_ids[{i}]"),
        )
        .await?;
    }
    serde_json::to_string(spec).map_err(|e| StoreError::Internal(e.to_string()))
}

impl Store {
    pub async fn create_calendar(
        &self,
        actor: Actor,
        name: &str,
        spec: &CalendarSpec,
        at: Timestamp,
    ) -> Result<CalendarId> {
        check_name(name)?;
        let json = check_calendar(spec)?;
        let (_w, mut tx) = self.write_tx().await?;
        let id = query(
            "INSERT INTO calendars (tenant_id, name, spec, updated_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(name.trim())
        .bind(json)
        .bind(at.as_millisecond())
        .fetch_one(&mut tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "a calendar with this name already exists"))?
        .int("id")?;
        audit(
            &mut tx,
            actor,
            "calendar.create",
            &format!("calendar:{id}"),
            &data([("name", name.trim().to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(CalendarId(id))
    }

    /// Changes a calendar. Running clocks that count it get their due
    /// instants again from the new hours (a holiday added today moves the
    /// deadlines that fall on it).
    pub async fn update_calendar(
        &self,
        actor: Actor,
        id: CalendarId,
        name: &str,
        spec: &CalendarSpec,
        at: Timestamp,
    ) -> Result<()> {
        check_name(name)?;
        let json = check_calendar(spec)?;
        let (_w, mut tx) = self.write_tx().await?;
        let changed = query(
            "UPDATE calendars SET name = $1, spec = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(name.trim())
        .bind(json)
        .bind(at.as_millisecond())
        .bind(actor.tenant_id.0)
        .bind(id.0)
        .execute(&mut tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "a calendar with this name already exists"))?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let moved = sla::recount_calendar(&mut tx, actor.tenant_id, id, at).await?;
        audit(
            &mut tx,
            actor,
            "calendar.update",
            &format!("calendar:{id}"),
            &data([
                ("name", name.trim().to_string()),
                ("clocks_recounted", moved.to_string()),
            ]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn calendars(&self, tenant: TenantId) -> Result<Vec<StoredCalendar>> {
        let mut conn = self.pool.acquire().await?;
        query("SELECT id, name, spec, updated_at FROM calendars WHERE tenant_id = $1 ORDER BY name")
            .bind(tenant.0)
            .fetch_all(&mut conn)
            .await?
            .iter()
            .map(calendar_row)
            .collect()
    }

    pub async fn calendar(&self, tenant: TenantId, id: CalendarId) -> Result<StoredCalendar> {
        let mut conn = self.pool.acquire().await?;
        let row = query(
            "SELECT id, name, spec, updated_at FROM calendars WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&mut conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        calendar_row(&row)
    }

    /// Deletes a calendar no policy, department or clock counts by.
    pub async fn delete_calendar(&self, actor: Actor, id: CalendarId, at: Timestamp) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let name = query("SELECT name FROM calendars WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .text("name")?;
        let by_policy = sla::policies_in_order(&mut tx, tenant)
            .await?
            .into_iter()
            .find(|(_, p)| p.calendar_id == Some(id));
        if let Some((_, p)) = by_policy {
            return Err(StoreError::Conflict(format!(
                "the SLA policy \"{}\" counts by this calendar",
                p.name
            )));
        }
        for (table, what) in [
            ("departments", "a department works by this calendar"),
            ("sla_clocks", "SLA clocks count by this calendar"),
        ] {
            let used = query(format!(
                "SELECT 1 AS x FROM {table} WHERE tenant_id = $1 AND calendar_id = $2 LIMIT 1"
            ))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&mut tx)
            .await?;
            if used.is_some() {
                return Err(StoreError::Conflict(what.to_string()));
            }
        }
        query("DELETE FROM calendars WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut tx)
            .await?;
        audit(
            &mut tx,
            actor,
            "calendar.delete",
            &format!("calendar:{id}"),
            &data([("name", name)]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a policy after the tenant's others.
    pub async fn create_policy(
        &self,
        actor: Actor,
        spec: &PolicySpec,
        at: Timestamp,
    ) -> Result<PolicyId> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let json = check_policy(&mut tx, tenant, spec).await?;
        let last =
            query("SELECT COALESCE(MAX(position), 0) AS p FROM sla_policies WHERE tenant_id = $1")
                .bind(tenant.0)
                .fetch_one(&mut tx)
                .await?
                .int("p")?;
        let id = query(
            "INSERT INTO sla_policies (tenant_id, position, name, spec, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(tenant.0)
        .bind(last + 1)
        .bind(spec.name.trim())
        .bind(json)
        .bind(at.as_millisecond())
        .fetch_one(&mut tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "a policy with this name already exists"))?
        .int("id")?;
        audit(
            &mut tx,
            actor,
            "sla_policy.create",
            &format!("sla_policy:{id}"),
            &data([("name", spec.name.trim().to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(PolicyId(id))
    }

    /// Changes a policy. Cases already under it keep the targets they were
    /// promised; new cases get the new ones.
    pub async fn update_policy(
        &self,
        actor: Actor,
        id: PolicyId,
        spec: &PolicySpec,
        at: Timestamp,
    ) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let json = check_policy(&mut tx, tenant, spec).await?;
        let changed = query("UPDATE sla_policies SET name = $1, spec = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
            .bind(spec.name.trim())
            .bind(json)
            .bind(at.as_millisecond())
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut tx)
            .await
            .map_err(|e| StoreError::from_unique(e, "a policy with this name already exists"))?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        audit(
            &mut tx,
            actor,
            "sla_policy.update",
            &format!("sla_policy:{id}"),
            &data([("name", spec.name.trim().to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts a policy at `position` (1 is tried first) and renumbers the rest.
    pub async fn move_policy(
        &self,
        actor: Actor,
        id: PolicyId,
        position: i64,
        at: Timestamp,
    ) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let mut order: Vec<i64> =
            query("SELECT id FROM sla_policies WHERE tenant_id = $1 ORDER BY position, id")
                .bind(tenant.0)
                .fetch_all(&mut tx)
                .await?
                .iter()
                .map(|r| r.int("id"))
                .collect::<Result<_>>()?;
        if !order.contains(&id.0) {
            return Err(StoreError::NotFound);
        }
        order.retain(|x| *x != id.0);
        let at_index = usize::try_from(position.max(1) - 1)
            .unwrap_or(0)
            .min(order.len());
        order.insert(at_index, id.0);
        for (i, pid) in order.iter().enumerate() {
            query("UPDATE sla_policies SET position = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(i as i64 + 1)
                .bind(tenant.0)
                .bind(*pid)
                .execute(&mut tx)
                .await?;
        }
        audit(
            &mut tx,
            actor,
            "sla_policy.move",
            &format!("sla_policy:{id}"),
            &data([("position", (at_index + 1).to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn policies(&self, tenant: TenantId) -> Result<Vec<StoredPolicy>> {
        let mut conn = self.pool.acquire().await?;
        query("SELECT id, position, spec, updated_at FROM sla_policies WHERE tenant_id = $1 ORDER BY position, id")
            .bind(tenant.0)
            .fetch_all(&mut conn)
            .await?
            .iter()
            .map(policy_row)
            .collect()
    }

    pub async fn policy(&self, tenant: TenantId, id: PolicyId) -> Result<StoredPolicy> {
        let mut conn = self.pool.acquire().await?;
        let row = query("SELECT id, position, spec, updated_at FROM sla_policies WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&mut conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        policy_row(&row)
    }

    /// Deletes a policy no case follows; one in use is switched off instead.
    pub async fn delete_policy(&self, actor: Actor, id: PolicyId, at: Timestamp) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let used =
            query("SELECT 1 AS x FROM cases WHERE tenant_id = $1 AND sla_policy_id = $2 LIMIT 1")
                .bind(tenant.0)
                .bind(id.0)
                .fetch_optional(&mut tx)
                .await?;
        if used.is_some() {
            return Err(StoreError::Conflict(
                "cases follow this policy: switch it off instead".into(),
            ));
        }
        let gone = query("DELETE FROM sla_policies WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut tx)
            .await?;
        if gone == 0 {
            return Err(StoreError::NotFound);
        }
        audit(
            &mut tx,
            actor,
            "sla_policy.delete",
            &format!("sla_policy:{id}"),
            &data([]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The calendar a department's handling deadlines count by (`None`: the wall clock).
    pub async fn set_department_calendar(
        &self,
        actor: Actor,
        dept: DepartmentId,
        calendar: Option<CalendarId>,
        at: Timestamp,
    ) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        if let Some(c) = calendar {
            exists(&mut tx, "calendars", tenant, c.0, "calendar_id").await?;
        }
        let changed =
            query("UPDATE departments SET calendar_id = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(calendar.map(|c| c.0))
                .bind(tenant.0)
                .bind(dept.0)
                .execute(&mut tx)
                .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        audit(
            &mut tx,
            actor,
            "department.calendar",
            &format!("department:{dept}"),
            &data([(
                "calendar_id",
                calendar.map(|c| c.to_string()).unwrap_or_default(),
            )]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A tenant calendar, checked, for sums such as a deadline preview.
    pub async fn business_calendar(
        &self,
        tenant: TenantId,
        id: Option<CalendarId>,
    ) -> Result<Calendar> {
        let mut conn = self.pool.acquire().await?;
        Calendars::default()
            .get(&mut conn, tenant, id.map(|c| c.0))
            .await
    }
}

fn calendar_row<R: RowExt>(r: &R) -> Result<StoredCalendar> {
    let spec: CalendarSpec = serde_json::from_str(&r.text("spec")?)
        .map_err(|e| StoreError::Internal(format!("stored calendar: {e}")))?;
    Ok(StoredCalendar {
        id: CalendarId(r.int("id")?),
        name: r.text("name")?,
        spec,
        updated_at: r.time("updated_at")?,
    })
}

fn policy_row<R: RowExt>(r: &R) -> Result<StoredPolicy> {
    Ok(StoredPolicy {
        id: PolicyId(r.int("id")?),
        position: r.int("position")?,
        spec: sla::parse_policy(&r.text("spec")?)?,
        updated_at: r.time("updated_at")?,
    })
}
