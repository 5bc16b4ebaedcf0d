//! The outsourcer's view of its client tenants: created with a first
//! administrator, renamed, moved to another time zone, given their own look.
//! Nothing here reads a tenant's cases.

use crate::db::{RowExt, Store, ms};
use crate::events::{Data, audit};
use crate::users::{NewUser, TENANT_COLS, insert_user, tenant_row};
use crate::{Result, StoreError};
use domain::ids::*;
use domain::model::{Actor, Tenant, User};
use jiff::Timestamp;
use serde::Serialize;

/// A tenant as the operator's list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TenantInfo {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub created_at: Timestamp,
    pub active_users: i64,
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub region: String,
}

/// What an operator changes about a tenant; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantChange {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub brand_color: Option<Option<String>>,
}

impl Store {
    pub async fn tenant_list(&self) -> Result<Vec<TenantInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {TENANT_COLS}, created_at, \
             (SELECT COUNT(*) FROM users u WHERE u.tenant_id = tenants.id AND u.active = 1) AS active_users \
             FROM tenants ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TenantInfo {
                    tenant: tenant_row(r, "")?,
                    created_at: r.time("created_at")?,
                    active_users: r.int("active_users")?,
                })
            })
            .collect()
    }

    /// A client tenant and its first administrator, in one step: a tenant
    /// nobody can log in to is never left behind.
    pub async fn create_tenant_with_admin(
        &self,
        operator: Actor,
        t: &NewTenant,
        admin: &NewUser,
        at: Timestamp,
    ) -> Result<(Tenant, User)> {
        let (_w, mut tx) = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tenants (slug, name, timezone, region, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&t.slug)
        .bind(&t.name)
        .bind(&t.timezone)
        .bind(&t.region)
        .bind(ms(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "a tenant with this slug already exists"))?;
        let tenant = TenantId(id);
        let inside = Actor {
            tenant_id: tenant,
            user_id: None,
            channel: None,
        };
        let user = insert_user(&mut tx, inside, admin, at)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => StoreError::invalid("admin_username", &m),
                StoreError::Invalid(f) if f.field == "username" => {
                    StoreError::Invalid(f.at("admin_username"))
                }
                e => e,
            })?;
        let mut d = Data::new();
        d.insert("slug".into(), t.slug.clone());
        d.insert("name".into(), t.name.clone());
        d.insert("admin".into(), admin.username.clone());
        audit(
            &mut tx,
            operator,
            "tenant.create",
            &format!("tenant:{id}"),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        let tenant = Tenant {
            id: tenant,
            slug: t.slug.clone(),
            name: t.name.clone(),
            timezone: t.timezone.clone(),
            region: t.region.clone(),
            brand_color: None,
            logo_sha256: None,
        };
        Ok((tenant, user))
    }

    /// Changes a tenant's settings. The change is written in the operator's
    /// audit log and in the tenant's own, so its administrators see who did it.
    pub async fn change_tenant(
        &self,
        operator: Actor,
        operator_name: &str,
        id: TenantId,
        ch: &TenantChange,
        at: Timestamp,
    ) -> Result<Tenant> {
        let (_w, mut tx) = self.write_tx().await?;
        let row = sqlx::query(&format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let old = tenant_row(&row, "")?;
        let new = Tenant {
            name: ch.name.clone().unwrap_or(old.name.clone()),
            timezone: ch.timezone.clone().unwrap_or(old.timezone.clone()),
            brand_color: ch.brand_color.clone().unwrap_or(old.brand_color.clone()),
            ..old.clone()
        };
        let mut d = Data::new();
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        if new.name != old.name {
            d.insert("name".into(), format!("{} → {}", old.name, new.name));
        }
        if new.timezone != old.timezone {
            d.insert(
                "timezone".into(),
                format!("{} → {}", old.timezone, new.timezone),
            );
        }
        if new.brand_color != old.brand_color {
            let (a, b) = (show(&old.brand_color), show(&new.brand_color));
            d.insert("brand_color".into(), format!("{a} → {b}"));
        }
        if d.is_empty() {
            return Ok(old);
        }
        sqlx::query("UPDATE tenants SET name = $1, timezone = $2, brand_color = $3 WHERE id = $4")
            .bind(&new.name)
            .bind(&new.timezone)
            .bind(new.brand_color.as_deref())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let target = format!("tenant:{}", id.0);
        audit(&mut tx, operator, "tenant.update", &target, &d, at).await?;
        if operator.tenant_id != id {
            d.insert("operator".into(), operator_name.to_string());
            let inside = Actor {
                tenant_id: id,
                user_id: None,
                channel: None,
            };
            audit(&mut tx, inside, "tenant.update", &target, &d, at).await?;
        }
        tx.commit().await?;
        Ok(new)
    }
}
