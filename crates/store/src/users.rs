//! Tenants, users, and the tokens that authenticate them.

use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{audit, data};
use crate::{Result, StoreError};
use domain::ids::*;
use domain::model::{Actor, Tenant, User};
use domain::role::Role;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub team_id: Option<TeamId>,
    pub department_id: Option<DepartmentId>,
}

/// What an administrator changes about a user; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub team_id: Option<Option<TeamId>>,
    pub department_id: Option<Option<DepartmentId>>,
}

/// The signed-in user and the tenant it acts in, resolved from a token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub tenant: Tenant,
    pub token_id: TokenId,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: TokenId,
    pub name: String,
    pub kind: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

const USER_COLS: &str = "u.id, u.tenant_id, u.username, u.display_name, u.role, u.team_id, u.department_id, u.active, u.extension";
pub(crate) const TENANT_COLS: &str = "id, slug, name, timezone, region, brand_color, logo_sha256";

fn user_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: UserId(r.int("id")?),
        tenant_id: TenantId(r.int("tenant_id")?),
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: vocab(Role::parse(&r.text("role")?))?,
        team_id: r.opt_int("team_id")?.map(TeamId),
        department_id: r.opt_int("department_id")?.map(DepartmentId),
        active: r.int("active")? != 0,
        extension: r.opt_text("extension")?,
    })
}

pub(crate) fn tenant_row(r: &AnyRow, prefix: &str) -> Result<Tenant> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(Tenant {
        id: TenantId(r.int(&col("id"))?),
        slug: r.text(&col("slug"))?,
        name: r.text(&col("name"))?,
        timezone: r.text(&col("timezone"))?,
        region: r.text(&col("region"))?,
        brand_color: r.opt_text(&col("brand_color"))?,
        logo_sha256: r.opt_text(&col("logo_sha256"))?,
    })
}

impl Store {
    pub async fn create_tenant(
        &self,
        slug: &str,
        name: &str,
        timezone: &str,
        region: &str,
        at: Timestamp,
    ) -> Result<Tenant> {
        let _w = self.writer().await;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tenants (slug, name, timezone, region, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .bind(timezone)
        .bind(region)
        .bind(ms(at))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::from_unique(e, "a tenant with this slug already exists"))?;
        Ok(Tenant {
            id: TenantId(id),
            slug: slug.into(),
            name: name.into(),
            timezone: timezone.into(),
            region: region.into(),
            brand_color: None,
            logo_sha256: None,
        })
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query(&format!("SELECT {TENANT_COLS} FROM tenants ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| tenant_row(r, "")).collect()
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Tenant> {
        let row = sqlx::query(&format!(
            "SELECT {TENANT_COLS} FROM tenants WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        tenant_row(&row, "")
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        let row = sqlx::query(&format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        tenant_row(&row, "")
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn create_user(&self, actor: Actor, new: &NewUser, at: Timestamp) -> Result<User> {
        let (_w, mut tx) = self.write_tx().await?;
        let user = insert_user(&mut tx, actor, new, at).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn users(&self, tenant: TenantId) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 ORDER BY u.id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_row).collect()
    }

    pub async fn user(&self, tenant: TenantId, id: UserId) -> Result<User> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND u.id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_row(&row)
    }

    /// For log-in: the user with its password hash, whatever the tenant.
    pub async fn login_candidate(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_row(&r)?, r.text("password_hash")?)))
            .transpose()
    }

    pub async fn set_password(
        &self,
        actor: Actor,
        user: UserId,
        hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(hash)
            .bind(actor.tenant_id.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        // A new password ends every session of the old one.
        sqlx::query(
            "DELETE FROM auth_tokens WHERE tenant_id = $1 AND user_id = $2 AND kind = 'session'",
        )
        .bind(actor.tenant_id.0)
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "user.reset_password",
            &format!("user:{}", user.0),
            &data([]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Renames a user, gives them another role, team or department.
    pub async fn change_user(
        &self,
        actor: Actor,
        id: UserId,
        ch: &UserChange,
        at: Timestamp,
    ) -> Result<User> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let old = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND u.id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let old = user_row(&old)?;
        if let Some(Some(team)) = ch.team_id.filter(|t| *t != old.team_id) {
            in_use(&mut tx, "teams", tenant, team.0, "team_id").await?;
        }
        if let Some(Some(dept)) = ch.department_id.filter(|d| *d != old.department_id) {
            in_use(&mut tx, "departments", tenant, dept.0, "department_id").await?;
        }
        let new = User {
            display_name: ch.display_name.clone().unwrap_or(old.display_name.clone()),
            role: ch.role.unwrap_or(old.role),
            team_id: ch.team_id.unwrap_or(old.team_id),
            department_id: ch.department_id.unwrap_or(old.department_id),
            ..old.clone()
        };
        if new.role == Role::DepartmentStaff && new.department_id.is_none() {
            return Err(StoreError::invalid(
                "department_id",
                "is required for department staff",
            ));
        }
        let show = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
        let mut changed = Vec::new();
        if new.display_name != old.display_name {
            changed.push((
                "display_name",
                format!("{} → {}", old.display_name, new.display_name),
            ));
        }
        if new.role != old.role {
            changed.push(("role", format!("{} → {}", old.role, new.role)));
        }
        if new.team_id != old.team_id {
            let (a, b) = (old.team_id.map(|t| t.0), new.team_id.map(|t| t.0));
            changed.push(("team_id", format!("{} → {}", show(a), show(b))));
        }
        if new.department_id != old.department_id {
            let (a, b) = (
                old.department_id.map(|t| t.0),
                new.department_id.map(|t| t.0),
            );
            changed.push(("department_id", format!("{} → {}", show(a), show(b))));
        }
        if changed.is_empty() {
            return Ok(old);
        }
        sqlx::query(
            "UPDATE users SET display_name = $1, role = $2, team_id = $3, department_id = $4 WHERE tenant_id = $5 AND id = $6",
        )
        .bind(&new.display_name)
        .bind(new.role.as_str())
        .bind(new.team_id.map(|t| t.0))
        .bind(new.department_id.map(|d| d.0))
        .bind(tenant.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "user.update",
            &format!("user:{}", id.0),
            &changed
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn set_user_active(
        &self,
        actor: Actor,
        user: UserId,
        active: bool,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET active = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(i64::from(active))
            .bind(actor.tenant_id.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if !active {
            sqlx::query("DELETE FROM auth_tokens WHERE tenant_id = $1 AND user_id = $2")
                .bind(actor.tenant_id.0)
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
        }
        let d = data([("active", active.to_string())]);
        audit(
            &mut tx,
            actor,
            "user.set_active",
            &format!("user:{}", user.0),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_token(
        &self,
        user: &User,
        token_hash: &str,
        kind: &str,
        name: &str,
        expires_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<TokenId> {
        let _w = self.writer().await;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO auth_tokens (tenant_id, user_id, token_hash, kind, name, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(user.tenant_id.0)
        .bind(user.id.0)
        .bind(token_hash)
        .bind(kind)
        .bind(name)
        .bind(ms(at))
        .bind(expires_at.map(ms))
        .fetch_one(&self.pool)
        .await?;
        Ok(TokenId(id))
    }

    /// Resolves a presented token; expired tokens and inactive users resolve to nothing.
    pub async fn authenticate(&self, token_hash: &str, now: Timestamp) -> Result<Option<AuthUser>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS}, t.id AS token_id, n.id AS tn_id, n.slug AS tn_slug, n.name AS tn_name, \
             n.timezone AS tn_timezone, n.region AS tn_region, n.brand_color AS tn_brand_color, \
             n.logo_sha256 AS tn_logo_sha256 \
             FROM auth_tokens t JOIN users u ON u.id = t.user_id JOIN tenants n ON n.id = u.tenant_id \
             WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.active = 1"
        ))
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(AuthUser {
                user: user_row(&r)?,
                tenant: tenant_row(&r, "tn_")?,
                token_id: TokenId(r.int("token_id")?),
            })
        })
        .transpose()
    }

    pub async fn tokens(&self, user: &User) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, kind, created_at, expires_at FROM auth_tokens \
             WHERE tenant_id = $1 AND user_id = $2 AND kind = 'api' ORDER BY id",
        )
        .bind(user.tenant_id.0)
        .bind(user.id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: TokenId(r.int("id")?),
                    name: r.text("name")?,
                    kind: r.text("kind")?,
                    created_at: r.time("created_at")?,
                    expires_at: r.opt_time("expires_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_token(&self, user: &User, id: TokenId) -> Result<()> {
        let _w = self.writer().await;
        let n = sqlx::query(
            "DELETE FROM auth_tokens WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(user.tenant_id.0)
        .bind(user.id.0)
        .bind(id.0)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}

/// A row of the tenant's `table`, reading `cols`; the field is invalid
/// when there is none.
async fn referenced<E: crate::exec::Exec>(
    conn: &mut E,
    table: &str,
    cols: &str,
    tenant: TenantId,
    id: i64,
    field: &str,
) -> Result<E::Row> {
    crate::exec::query(format!(
        "SELECT {cols} FROM {table} WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.0)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::invalid(field, "does not exist"))
}

/// Checks that a referenced row exists in the tenant; otherwise the field is invalid.
pub(crate) async fn exists<E: crate::exec::Exec>(
    conn: &mut E,
    table: &str,
    tenant: TenantId,
    id: i64,
    field: &str,
) -> Result<()> {
    referenced(conn, table, "id", tenant, id, field)
        .await
        .map(drop)
}

/// Like [`exists`], for a catalogue entry about to be used anew: a retired
/// one is refused.
pub(crate) async fn in_use<E: crate::exec::Exec>(
    conn: &mut E,
    table: &str,
    tenant: TenantId,
    id: i64,
    field: &str,
) -> Result<()> {
    let r = referenced(conn, table, "retired_at", tenant, id, field).await?;
    match r.opt_int("retired_at")? {
        Some(_) => Err(StoreError::invalid(field, "is retired")),
        None => Ok(()),
    }
}

pub(crate) async fn insert_user(
    tx: &mut sqlx::AnyConnection,
    actor: Actor,
    new: &NewUser,
    at: Timestamp,
) -> Result<User> {
    let tenant = actor.tenant_id;
    if let Some(team) = new.team_id {
        in_use(&mut *tx, "teams", tenant, team.0, "team_id").await?;
    }
    if let Some(dept) = new.department_id {
        in_use(&mut *tx, "departments", tenant, dept.0, "department_id").await?;
    }
    if new.role == Role::DepartmentStaff && new.department_id.is_none() {
        return Err(StoreError::invalid(
            "department_id",
            "is required for department staff",
        ));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (tenant_id, username, display_name, password_hash, role, team_id, department_id, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) RETURNING id",
    )
    .bind(tenant.0)
    .bind(&new.username)
    .bind(&new.display_name)
    .bind(&new.password_hash)
    .bind(new.role.as_str())
    .bind(new.team_id.map(|t| t.0))
    .bind(new.department_id.map(|d| d.0))
    .bind(ms(at))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| StoreError::from_unique(e, "username is already taken"))?;
    let d = data([
        ("username", new.username.clone()),
        ("role", new.role.to_string()),
    ]);
    audit(tx, actor, "user.create", &format!("user:{id}"), &d, at).await?;
    Ok(User {
        id: UserId(id),
        tenant_id: tenant,
        username: new.username.clone(),
        display_name: new.display_name.clone(),
        role: new.role,
        team_id: new.team_id,
        department_id: new.department_id,
        active: true,
        extension: None,
    })
}
