//! Per-tenant configuration: teams, departments, the category tree and custom fields.

use crate::db::{RowExt, Store};
use crate::events::{audit, data};
use crate::users::exists;
use crate::{Result, StoreError};
use domain::ids::*;
use domain::model::{Actor, Category, CustomFieldDef, Department, FieldKind, Team};
use jiff::Timestamp;

impl Store {
    pub async fn create_team(
        &self,
        actor: Actor,
        name: &str,
        leader: Option<UserId>,
        at: Timestamp,
    ) -> Result<Team> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        if let Some(l) = leader {
            exists(&mut tx, "users", actor.tenant_id, l.0, "leader_id").await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (tenant_id, name, leader_id) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(name)
        .bind(leader.map(|l| l.0))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "a team with this name already exists"))?;
        audit(
            &mut tx,
            actor,
            "team.create",
            &format!("team:{id}"),
            &data([("name", name.into())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(Team {
            id: TeamId(id),
            name: name.into(),
            leader_id: leader,
        })
    }

    pub async fn teams(&self, tenant: TenantId) -> Result<Vec<Team>> {
        let rows =
            sqlx::query("SELECT id, name, leader_id FROM teams WHERE tenant_id = $1 ORDER BY name")
                .bind(tenant.0)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Team {
                    id: TeamId(r.int("id")?),
                    name: r.text("name")?,
                    leader_id: r.opt_int("leader_id")?.map(UserId),
                })
            })
            .collect()
    }

    pub async fn create_department(
        &self,
        actor: Actor,
        name: &str,
        interface_user: Option<UserId>,
        default_deadline_hours: i64,
        at: Timestamp,
    ) -> Result<Department> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        if let Some(u) = interface_user {
            exists(&mut tx, "users", actor.tenant_id, u.0, "interface_user_id").await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO departments (tenant_id, name, interface_user_id, default_deadline_hours) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(name)
        .bind(interface_user.map(|u| u.0))
        .bind(default_deadline_hours)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "a department with this name already exists"))?;
        audit(
            &mut tx,
            actor,
            "department.create",
            &format!("department:{id}"),
            &data([("name", name.into())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(Department {
            id: DepartmentId(id),
            name: name.into(),
            interface_user_id: interface_user,
            default_deadline_hours,
            calendar_id: None,
        })
    }

    pub async fn set_department_interface(
        &self,
        actor: Actor,
        dept: DepartmentId,
        user: UserId,
        at: Timestamp,
    ) -> Result<()> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        exists(
            &mut tx,
            "users",
            actor.tenant_id,
            user.0,
            "interface_user_id",
        )
        .await?;
        let n = sqlx::query(
            "UPDATE departments SET interface_user_id = $1 WHERE tenant_id = $2 AND id = $3",
        )
        .bind(user.0)
        .bind(actor.tenant_id.0)
        .bind(dept.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let d = data([("interface_user_id", user.to_string())]);
        audit(
            &mut tx,
            actor,
            "department.set_interface",
            &format!("department:{dept}"),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn departments(&self, tenant: TenantId) -> Result<Vec<Department>> {
        let rows = sqlx::query(
            "SELECT id, name, interface_user_id, default_deadline_hours, calendar_id FROM departments WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Department {
                    id: DepartmentId(r.int("id")?),
                    name: r.text("name")?,
                    interface_user_id: r.opt_int("interface_user_id")?.map(UserId),
                    default_deadline_hours: r.int("default_deadline_hours")?,
                    calendar_id: r.opt_int("calendar_id")?.map(CalendarId),
                })
            })
            .collect()
    }

    pub async fn department(&self, tenant: TenantId, id: DepartmentId) -> Result<Department> {
        self.departments(tenant)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_category(
        &self,
        actor: Actor,
        parent: Option<CategoryId>,
        name: &str,
        at: Timestamp,
    ) -> Result<Category> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        if let Some(p) = parent {
            exists(&mut tx, "categories", actor.tenant_id, p.0, "parent_id").await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO categories (tenant_id, parent_id, name) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(parent.map(|p| p.0))
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "category.create",
            &format!("category:{id}"),
            &data([("name", name.into())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(Category {
            id: CategoryId(id),
            parent_id: parent,
            name: name.into(),
        })
    }

    /// The category tree, parents before children.
    pub async fn categories(&self, tenant: TenantId) -> Result<Vec<Category>> {
        let rows = sqlx::query(
            "SELECT id, parent_id, name FROM categories WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Category {
                    id: CategoryId(r.int("id")?),
                    parent_id: r.opt_int("parent_id")?.map(CategoryId),
                    name: r.text("name")?,
                })
            })
            .collect()
    }

    pub async fn create_custom_field(
        &self,
        actor: Actor,
        def: &CustomFieldDef,
        at: Timestamp,
    ) -> Result<CustomFieldDef> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let kind = serde_json::to_value(def.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO custom_fields (tenant_id, key, label, kind, options, required) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(&def.key)
        .bind(&def.label)
        .bind(&kind)
        .bind(serde_json::to_string(&def.options).unwrap_or_default())
        .bind(i64::from(def.required))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "a custom field with this key already exists"))?;
        audit(
            &mut tx,
            actor,
            "custom_field.create",
            &format!("custom_field:{id}"),
            &data([("key", def.key.clone())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(CustomFieldDef { id, ..def.clone() })
    }

    pub async fn custom_fields(&self, tenant: TenantId) -> Result<Vec<CustomFieldDef>> {
        let rows = sqlx::query("SELECT id, key, label, kind, options, required FROM custom_fields WHERE tenant_id = $1 ORDER BY id")
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let kind: FieldKind =
                    serde_json::from_value(serde_json::Value::String(r.text("kind")?))
                        .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))?;
                Ok(CustomFieldDef {
                    id: r.int("id")?,
                    key: r.text("key")?,
                    label: r.text("label")?,
                    kind,
                    options: serde_json::from_str(&r.text("options")?).unwrap_or_default(),
                    required: r.int("required")? != 0,
                })
            })
            .collect()
    }
}
