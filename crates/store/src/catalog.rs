//! Per-tenant configuration: teams, departments, the category tree and custom fields.

use crate::db::ms;
use crate::db::{RowExt, Store};
use crate::events::{audit, data};
use crate::sql::Sql;
use crate::users::{exists, in_use};
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
        let (_w, mut tx) = self.write_tx().await?;
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
            active: true,
        })
    }

    pub async fn teams(&self, tenant: TenantId) -> Result<Vec<Team>> {
        let rows = sqlx::query(
            "SELECT id, name, leader_id, retired_at FROM teams WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Team {
                    id: TeamId(r.int("id")?),
                    name: r.text("name")?,
                    leader_id: r.opt_int("leader_id")?.map(UserId),
                    active: r.opt_int("retired_at")?.is_none(),
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
        let (_w, mut tx) = self.write_tx().await?;
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
            active: true,
        })
    }

    pub async fn set_department_interface(
        &self,
        actor: Actor,
        dept: DepartmentId,
        user: UserId,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
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
            "SELECT id, name, interface_user_id, default_deadline_hours, calendar_id, retired_at FROM departments WHERE tenant_id = $1 ORDER BY name",
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
                    active: r.opt_int("retired_at")?.is_none(),
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
        let (_w, mut tx) = self.write_tx().await?;
        if let Some(p) = parent {
            in_use(&mut tx, "categories", actor.tenant_id, p.0, "parent_id").await?;
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
            active: true,
        })
    }

    /// The category tree, parents before children.
    pub async fn categories(&self, tenant: TenantId) -> Result<Vec<Category>> {
        let rows = sqlx::query(
            "SELECT id, parent_id, name, retired_at FROM categories WHERE tenant_id = $1 ORDER BY id",
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
                    active: r.opt_int("retired_at")?.is_none(),
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
        let (_w, mut tx) = self.write_tx().await?;
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
        Ok(CustomFieldDef {
            id,
            active: true,
            ..def.clone()
        })
    }

    pub async fn custom_fields(&self, tenant: TenantId) -> Result<Vec<CustomFieldDef>> {
        let rows = sqlx::query("SELECT id, key, label, kind, options, required, retired_at FROM custom_fields WHERE tenant_id = $1 ORDER BY id")
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
                    active: r.opt_int("retired_at")?.is_none(),
                })
            })
            .collect()
    }

    /// Renames, retires or brings back a catalogue entry, and changes the
    /// settings of its kind. Retiring refuses what would leave work stranded:
    /// a team with active members, a category with live categories under it.
    pub async fn change_catalog(
        &self,
        actor: Actor,
        entry: CatalogEntry,
        ch: &CatalogChange,
        at: Timestamp,
    ) -> Result<()> {
        let tenant = actor.tenant_id;
        let (table, noun, name_col) = entry.table();
        let id = entry.id();
        let not_for = |field: &str, yes: bool| match yes {
            true => Ok(()),
            false => Err(StoreError::invalid(
                field,
                &format!("does not apply to a {noun}"),
            )),
        };
        let is_team = matches!(entry, CatalogEntry::Team(_));
        let is_dept = matches!(entry, CatalogEntry::Department(_));
        let is_field = matches!(entry, CatalogEntry::CustomField(_));
        if ch.leader_id.is_some() {
            not_for("leader_id", is_team)?;
        }
        if ch.default_deadline_hours.is_some() {
            not_for("default_deadline_hours", is_dept)?;
        }
        if ch.interface_user_id.is_some() {
            not_for("interface_user_id", is_dept)?;
        }
        if ch.required.is_some() {
            not_for("required", is_field)?;
        }
        if ch.options.is_some() {
            not_for("options", is_field)?;
        }
        let (_w, mut tx) = self.write_tx().await?;
        let row = crate::exec::query(format!(
            "SELECT * FROM {table} WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.0)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let old_name = row.text(name_col)?;
        let was_active = row.opt_int("retired_at")?.is_none();
        let mut changed: Vec<(&str, String)> = Vec::new();
        let mut q = Sql::new(&format!("UPDATE {table} SET id = id"));
        if let Some(name) = ch.name.as_deref().filter(|n| *n != old_name) {
            q.push(&format!(", {name_col} = ")).str(name);
            changed.push((name_col, format!("{old_name} → {name}")));
        }
        for (field, user) in [
            ("leader_id", ch.leader_id),
            ("interface_user_id", ch.interface_user_id),
        ] {
            // Only what differs is written and audited.
            if let Some(user) = user.filter(|u| Some(u.map(|x| x.0)) != row.opt_int(field).ok()) {
                if let Some(u) = user {
                    exists(&mut tx, "users", tenant, u.0, field).await?;
                }
                q.push(&format!(", {field} = "));
                match user {
                    Some(u) => q.int(u.0),
                    None => q.push("NULL"),
                };
                changed.push((field, user.map_or("-".into(), |u| u.to_string())));
            }
        }
        if let Some(h) = ch
            .default_deadline_hours
            .filter(|h| Some(*h) != row.int("default_deadline_hours").ok())
        {
            q.push(", default_deadline_hours = ").int(h);
            changed.push(("default_deadline_hours", h.to_string()));
        }
        if let Some(r) = ch
            .required
            .filter(|r| Some(i64::from(*r)) != row.int("required").ok())
        {
            q.push(", required = ").int(i64::from(r));
            changed.push(("required", r.to_string()));
        }
        let options = ch
            .options
            .as_ref()
            .map(|o| serde_json::to_string(o).unwrap_or_default());
        if let (Some(o), Some(text)) = (&ch.options, options)
            && Some(&text) != row.text("options").ok().as_ref()
        {
            q.push(", options = ").str(&text);
            changed.push(("options", o.join(", ")));
        }
        match ch.active {
            Some(false) if was_active => {
                self.check_retire(&mut tx, tenant, entry).await?;
                q.push(", retired_at = ").int(ms(at));
                changed.push(("active", "retired".into()));
            }
            Some(true) if !was_active => {
                // A live child under a retired parent would be offered half a path.
                if let CatalogEntry::Category(_) = entry
                    && let Some(parent) = row.opt_int("parent_id")?
                {
                    in_use(&mut tx, "categories", tenant, parent, "parent_id").await?;
                }
                q.push(", retired_at = NULL");
                changed.push(("active", "restored".into()));
            }
            _ => {}
        }
        if changed.is_empty() {
            return Ok(());
        }
        q.push(" WHERE tenant_id = ").int(tenant.0);
        q.push(" AND id = ").int(id);
        q.execute(&mut tx).await.map_err(|e| {
            StoreError::from_unique(e, &format!("a {noun} with this name already exists"))
        })?;
        audit(
            &mut tx,
            actor,
            &format!("{noun}.update"),
            &format!("{noun}:{id}"),
            &changed
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn check_retire(
        &self,
        tx: &mut sqlx::AnyConnection,
        tenant: TenantId,
        entry: CatalogEntry,
    ) -> Result<()> {
        let sql = match entry {
            CatalogEntry::Team(_) => {
                "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND team_id = $2 AND active = 1"
            }
            CatalogEntry::Category(_) => {
                "SELECT COUNT(*) FROM categories WHERE tenant_id = $1 AND parent_id = $2 AND retired_at IS NULL"
            }
            _ => return Ok(()),
        };
        let n: i64 = sqlx::query_scalar(sql)
            .bind(tenant.0)
            .bind(entry.id())
            .fetch_one(&mut *tx)
            .await?;
        match (n, entry) {
            (0, _) => {}
            (n, CatalogEntry::Team(_)) => {
                return Err(StoreError::Conflict(format!(
                    "{n} active users are still in this team: move them first"
                )));
            }
            (n, _) => {
                return Err(StoreError::Conflict(format!(
                    "{n} categories under it are still in use: retire them first"
                )));
            }
        }
        Ok(())
    }
}

/// One entry of a tenant's catalogue.
#[derive(Debug, Clone, Copy)]
pub enum CatalogEntry {
    Team(TeamId),
    Department(DepartmentId),
    Category(CategoryId),
    CustomField(i64),
}

impl CatalogEntry {
    /// Its table, its name in the audit log, and the column it is known by.
    fn table(self) -> (&'static str, &'static str, &'static str) {
        match self {
            CatalogEntry::Team(_) => ("teams", "team", "name"),
            CatalogEntry::Department(_) => ("departments", "department", "name"),
            CatalogEntry::Category(_) => ("categories", "category", "name"),
            CatalogEntry::CustomField(_) => ("custom_fields", "custom_field", "label"),
        }
    }

    fn id(self) -> i64 {
        match self {
            CatalogEntry::Team(t) => t.0,
            CatalogEntry::Department(d) => d.0,
            CatalogEntry::Category(c) => c.0,
            CatalogEntry::CustomField(f) => f,
        }
    }
}

/// What an administrator changes about a catalogue entry; `None` leaves it.
/// The name is a custom field's label; the other settings belong to one kind.
#[derive(Debug, Clone, Default)]
pub struct CatalogChange {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub leader_id: Option<Option<UserId>>,
    pub default_deadline_hours: Option<i64>,
    pub interface_user_id: Option<Option<UserId>>,
    pub required: Option<bool>,
    pub options: Option<Vec<String>>,
}
