//! Call scripts: written, revised (every version kept), retired, and
//! offered on a case by its type and queue.

use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{audit, data};
use crate::exec::{Exec, query};
use crate::users::exists;
use crate::{Result, StoreError};
use domain::case::CaseType;
use domain::ids::*;
use domain::model::Actor;
use domain::script::{Script, ScriptContent, ScriptKind, ScriptVersion};
use jiff::Timestamp;

const CONTENT_COLS: &str = "kind, name, language, case_types, queue_ids, campaign, steps";

fn content_row(r: &impl RowExt) -> Result<ScriptContent> {
    let case_types: Vec<String> = serde_json::from_str(&r.text("case_types")?).unwrap_or_default();
    Ok(ScriptContent {
        kind: vocab(ScriptKind::parse(&r.text("kind")?))?,
        name: r.text("name")?,
        language: r.text("language")?,
        case_types: case_types
            .iter()
            .filter_map(|t| CaseType::parse(t).ok())
            .collect(),
        queue_ids: serde_json::from_str(&r.text("queue_ids")?).unwrap_or_default(),
        campaign: r.opt_text("campaign")?,
        steps: serde_json::from_str(&r.text("steps")?)
            .map_err(|e| StoreError::Internal(format!("script steps: {e}")))?,
    })
}

fn bind_content<'q>(q: crate::exec::Query<'q>, c: &'q ScriptContent) -> crate::exec::Query<'q> {
    let types: Vec<&str> = c.case_types.iter().map(|t| t.as_str()).collect();
    q.bind(c.kind.as_str())
        .bind(c.name.as_str())
        .bind(c.language.as_str())
        .bind(serde_json::to_string(&types).unwrap_or_default())
        .bind(serde_json::to_string(&c.queue_ids).unwrap_or_default())
        .bind(c.campaign.as_deref())
        .bind(serde_json::to_string(&c.steps).unwrap_or_default())
}

/// The queues a script names must be the tenant's.
async fn check_queues<E: Exec>(conn: &mut E, tenant: TenantId, c: &ScriptContent) -> Result<()> {
    for (i, q) in c.queue_ids.iter().enumerate() {
        exists(
            &mut *conn,
            "queues",
            tenant,
            q.0,
            &format!("queue_ids[{i}]"),
        )
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_version<E: Exec>(
    conn: &mut E,
    actor: Actor,
    script: ScriptId,
    version: i64,
    c: &ScriptContent,
    note: &str,
    changed: &[&str],
    at: Timestamp,
) -> Result<i64> {
    let q = query(format!(
        "INSERT INTO script_versions (tenant_id, script_id, version, {CONTENT_COLS}, change_note, changed, author_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
    ))
    .bind(actor.tenant_id.0)
    .bind(script.0)
    .bind(version);
    bind_content(q, c)
        .bind(note)
        .bind(serde_json::to_string(changed).unwrap_or_default())
        .bind(actor.user_id.map(|u| u.0))
        .bind(ms(at))
        .fetch_one(conn)
        .await?
        .int("id")
}

const SCRIPT_SELECT: &str = "SELECT s.id, s.version, s.kind, s.name, s.language, s.case_types, s.queue_ids, s.campaign, \
     s.steps, s.retired_at, s.updated_at, v.id AS version_id FROM scripts s \
     JOIN script_versions v ON v.script_id = s.id AND v.version = s.version";

fn script_row(r: &impl RowExt) -> Result<Script> {
    Ok(Script {
        id: ScriptId(r.int("id")?),
        version: r.int("version")?,
        version_id: r.int("version_id")?,
        content: content_row(r)?,
        active: r.opt_int("retired_at")?.is_none(),
        updated_at: r.time("updated_at")?,
    })
}

impl Store {
    pub async fn create_script(
        &self,
        actor: Actor,
        c: &ScriptContent,
        note: &str,
        at: Timestamp,
    ) -> Result<ScriptId> {
        let (_w, mut tx) = self.write_tx().await?;
        check_queues(&mut *tx, actor.tenant_id, c).await?;
        let q = query(format!(
            "INSERT INTO scripts (tenant_id, version, {CONTENT_COLS}, created_at, updated_at) \
             VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id"
        ))
        .bind(actor.tenant_id.0);
        let id = ScriptId(
            bind_content(q, c)
                .bind(ms(at))
                .fetch_one(&mut *tx)
                .await?
                .int("id")?,
        );
        insert_version(&mut *tx, actor, id, 1, c, note, &[], at).await?;
        let d = data([("name", c.name.clone())]);
        audit(
            &mut tx,
            actor,
            "script.create",
            &format!("script:{id}"),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A new version. A save from an older version than the current one is
    /// refused: someone else changed the script meanwhile.
    pub async fn revise_script(
        &self,
        actor: Actor,
        id: ScriptId,
        base: i64,
        c: &ScriptContent,
        note: &str,
        at: Timestamp,
    ) -> Result<i64> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let row = query(format!(
            "SELECT version, {CONTENT_COLS} FROM scripts WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let current = row.int("version")?;
        crate::knowledge::unchanged_since(current, base)?;
        check_queues(&mut *tx, tenant, c).await?;
        let changed = c.changes_from(&content_row(&row)?);
        let version = current + 1;
        let q = query(
            "UPDATE scripts SET version = $1, kind = $2, name = $3, language = $4, case_types = $5, queue_ids = $6, \
             campaign = $7, steps = $8, updated_at = $9 WHERE tenant_id = $10 AND id = $11",
        )
        .bind(version);
        bind_content(q, c)
            .bind(ms(at))
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        insert_version(&mut *tx, actor, id, version, c, note, &changed, at).await?;
        let d = data([
            ("version", version.to_string()),
            ("changed", changed.join(", ")),
        ]);
        audit(
            &mut tx,
            actor,
            "script.revise",
            &format!("script:{id}"),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Retires a script, or brings it back: its versions stay, and contacts
    /// keep the version they recorded.
    pub async fn set_script_active(
        &self,
        actor: Actor,
        id: ScriptId,
        active: bool,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        let n = query("UPDATE scripts SET retired_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind((!active).then(|| ms(at)))
            .bind(actor.tenant_id.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if active {
            "script.restore"
        } else {
            "script.retire"
        };
        audit(
            &mut tx,
            actor,
            action,
            &format!("script:{id}"),
            &data([]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn script(&self, tenant: TenantId, id: ScriptId) -> Result<Script> {
        let r = sqlx::query(&format!(
            "{SCRIPT_SELECT} WHERE s.tenant_id = $1 AND s.id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        script_row(&r)
    }

    /// The tenant's scripts by name; retired ones when asked.
    pub async fn scripts(&self, tenant: TenantId, include_retired: bool) -> Result<Vec<Script>> {
        let live = if include_retired {
            ""
        } else {
            " AND s.retired_at IS NULL"
        };
        sqlx::query(&format!(
            "{SCRIPT_SELECT} WHERE s.tenant_id = $1{live} ORDER BY s.name, s.id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(script_row)
        .collect()
    }

    /// The live scripts offered on a case: call scripts for its type and
    /// the queue it last waited in, and every soothing script and
    /// complaint FAQ.
    pub async fn scripts_for_case(&self, tenant: TenantId, case: CaseId) -> Result<Vec<Script>> {
        let r = sqlx::query(
            "SELECT c.case_type, (SELECT w.queue_id FROM work_items w WHERE w.tenant_id = c.tenant_id AND w.case_id = c.id \
             ORDER BY w.id DESC LIMIT 1) AS queue_id FROM cases c WHERE c.tenant_id = $1 AND c.id = $2",
        )
        .bind(tenant.0)
        .bind(case.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let case_type = vocab(CaseType::parse(&r.text("case_type")?))?;
        let queue = r.opt_int("queue_id")?.map(QueueId);
        let mut all = self.scripts(tenant, false).await?;
        all.retain(|s| s.content.fits(case_type, queue));
        Ok(all)
    }

    /// Every version of a script, newest first.
    pub async fn script_versions(
        &self,
        tenant: TenantId,
        id: ScriptId,
    ) -> Result<Vec<ScriptVersion>> {
        let rows = sqlx::query(&format!(
            "SELECT v.id, v.version, {cols}, v.change_note, v.changed, v.created_at, u.display_name AS author_name \
             FROM script_versions v LEFT JOIN users u ON u.id = v.author_id \
             WHERE v.tenant_id = $1 AND v.script_id = $2 ORDER BY v.version DESC",
            cols = CONTENT_COLS
                .split(", ")
                .map(|c| format!("v.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        rows.iter()
            .map(|r| {
                Ok(ScriptVersion {
                    version_id: r.int("id")?,
                    version: r.int("version")?,
                    content: content_row(r)?,
                    change_note: r.text("change_note")?,
                    changed: serde_json::from_str(&r.text("changed")?).unwrap_or_default(),
                    author_name: r.opt_text("author_name")?,
                    created_at: r.time("created_at")?,
                })
            })
            .collect()
    }
}
