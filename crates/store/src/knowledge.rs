//! The knowledge base: categories, articles and their versions, the files
//! of each version, and which version a case used.

use crate::cases::put_blob;
use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{audit, case_event, data};
use crate::exec::query;
use crate::sql::Sql;
use crate::users::exists;
use crate::{Result, StoreError};
use domain::ids::*;
use domain::knowledge::{
    Article, ArticleContent, ArticleFile, ArticleKind, ArticleVersion, Visibility,
};
use domain::model::{Actor, Attachment, AttachmentInput};
use domain::role::{Permission, Role};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, Serialize)]
pub struct KbCategory {
    pub id: KbCategoryId,
    pub parent_id: Option<KbCategoryId>,
    pub name: String,
}

/// An article in a list: enough to choose it.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleSummary {
    pub id: ArticleId,
    pub version: i64,
    pub kind: ArticleKind,
    pub visibility: Visibility,
    pub language: String,
    pub title: String,
    pub category_id: Option<KbCategoryId>,
    pub tags: Vec<String>,
    pub valid_from: Option<jiff::civil::Date>,
    pub valid_to: Option<jiff::civil::Date>,
    pub active: bool,
    pub updated_at: Timestamp,
}

/// Which articles a list shows.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub category_id: Option<KbCategoryId>,
    pub kind: Option<ArticleKind>,
    /// Only public ones (the portal).
    pub public_only: bool,
    /// Only those in this language (`zh-CN`, `en`).
    pub language: Option<String>,
    pub include_retired: bool,
    /// Words the title, body or tags contain (the store's own search,
    /// used while the index is rebuilt).
    pub text: Option<String>,
    /// Newer than nothing: articles last changed before this one's change.
    pub before: Option<(Timestamp, ArticleId)>,
    pub limit: u32,
}

/// Files a new version keeps from the one before, and adds.
#[derive(Debug, Clone, Default)]
pub struct FileChange {
    pub keep: Vec<String>,
    pub add: Vec<AttachmentInput>,
}

/// One person an announcement is for, and what they last read of it.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleReader {
    pub user_id: UserId,
    pub display_name: String,
    pub team: Option<String>,
    /// The version they confirmed reading; none: not read.
    pub read_version: Option<i64>,
    pub read_at: Option<Timestamp>,
}

/// A use of an article on a case.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleUse {
    pub article_id: ArticleId,
    pub version: i64,
    pub title: String,
    pub user_name: Option<String>,
    pub used_at: Timestamp,
}

const CONTENT_COLS: &str =
    "kind, visibility, language, category_id, title, body, tags, products, valid_from, valid_to";

fn content_row(r: &impl RowExt) -> Result<ArticleContent> {
    let day = |c: &str| -> Result<Option<jiff::civil::Date>> {
        Ok(r.opt_text(c)?.and_then(|d| d.parse().ok()))
    };
    Ok(ArticleContent {
        kind: vocab(ArticleKind::parse(&r.text("kind")?))?,
        visibility: vocab(Visibility::parse(&r.text("visibility")?))?,
        language: r.text("language")?,
        category_id: r.opt_int("category_id")?.map(KbCategoryId),
        title: r.text("title")?,
        body: r.text("body")?,
        tags: serde_json::from_str(&r.text("tags")?).unwrap_or_default(),
        products: serde_json::from_str(&r.text("products")?).unwrap_or_default(),
        valid_from: day("valid_from")?,
        valid_to: day("valid_to")?,
    })
}

/// The content's columns in `CONTENT_COLS` order, bound from `$first`.
fn bind_content<'q>(q: crate::exec::Query<'q>, c: &'q ArticleContent) -> crate::exec::Query<'q> {
    q.bind(c.kind.as_str())
        .bind(c.visibility.as_str())
        .bind(c.language.as_str())
        .bind(c.category_id.map(|x| x.0))
        .bind(c.title.as_str())
        .bind(c.body.as_str())
        .bind(serde_json::to_string(&c.tags).unwrap_or_default())
        .bind(serde_json::to_string(&c.products).unwrap_or_default())
        .bind(c.valid_from.map(|d| d.to_string()))
        .bind(c.valid_to.map(|d| d.to_string()))
}

impl Store {
    pub async fn create_kb_category(
        &self,
        actor: Actor,
        parent: Option<KbCategoryId>,
        name: &str,
        at: Timestamp,
    ) -> Result<KbCategory> {
        let (_w, mut tx) = self.write_tx().await?;
        if let Some(p) = parent {
            exists(&mut *tx, "kb_categories", actor.tenant_id, p.0, "parent_id").await?;
        }
        let id = query("INSERT INTO kb_categories (tenant_id, parent_id, name) VALUES ($1, $2, $3) RETURNING id")
            .bind(actor.tenant_id.0)
            .bind(parent.map(|p| p.0))
            .bind(name)
            .fetch_one(&mut *tx)
            .await?
            .int("id")?;
        let d = data([("name", name.to_string())]);
        audit(
            &mut tx,
            actor,
            "kb_category.create",
            &format!("kb_category:{id}"),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(KbCategory {
            id: KbCategoryId(id),
            parent_id: parent,
            name: name.into(),
        })
    }

    pub async fn kb_categories(&self, tenant: TenantId) -> Result<Vec<KbCategory>> {
        let rows = sqlx::query(
            "SELECT id, parent_id, name FROM kb_categories WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KbCategory {
                    id: KbCategoryId(r.int("id")?),
                    parent_id: r.opt_int("parent_id")?.map(KbCategoryId),
                    name: r.text("name")?,
                })
            })
            .collect()
    }

    /// A new article: its first version.
    pub async fn create_article(
        &self,
        actor: Actor,
        content: &ArticleContent,
        source: &str,
        note: &str,
        files: &[AttachmentInput],
        at: Timestamp,
    ) -> Result<ArticleId> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        if let Some(c) = content.category_id {
            exists(&mut *tx, "kb_categories", tenant, c.0, "category_id").await?;
        }
        let q = query(format!(
            "INSERT INTO articles (tenant_id, version, {CONTENT_COLS}, source, created_at, updated_at) \
             VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id"
        ))
        .bind(tenant.0);
        let id = bind_content(q, content)
            .bind(source)
            .bind(ms(at))
            .fetch_one(&mut *tx)
            .await?
            .int("id")?;
        let article = ArticleId(id);
        let version =
            insert_version(&mut tx, actor, article, 1, content, source, note, &[], at).await?;
        add_files(&mut tx, tenant, version, &[], files).await?;
        let d = data([
            ("title", content.title.clone()),
            ("source", source.to_string()),
        ]);
        audit(
            &mut tx,
            actor,
            "article.create",
            &format!("article:{id}"),
            &d,
            at,
        )
        .await?;
        if content.kind == ArticleKind::Announcement {
            announce(&mut tx, actor, article, &content.title, at).await?;
        }
        tx.commit().await?;
        Ok(article)
    }

    /// A new version of an article. `base` is the version the writer
    /// started from: when someone else saved one since, the change is
    /// refused rather than silently overwriting theirs.
    #[allow(clippy::too_many_arguments)]
    pub async fn revise_article(
        &self,
        actor: Actor,
        id: ArticleId,
        base: i64,
        content: &ArticleContent,
        source: &str,
        note: &str,
        files: &FileChange,
        at: Timestamp,
    ) -> Result<i64> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let row = query(format!(
            "SELECT version, {CONTENT_COLS} FROM articles WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let current = row.int("version")?;
        unchanged_since(current, base)?;
        if let Some(c) = content.category_id {
            exists(&mut *tx, "kb_categories", tenant, c.0, "category_id").await?;
        }
        let old = content_row(&row)?;
        let old_files = version_files(&mut tx, tenant, id, current).await?;
        let mut changed: Vec<String> = content
            .changes_from(&old)
            .into_iter()
            .map(String::from)
            .collect();
        let kept: Vec<ArticleFile> = old_files
            .into_iter()
            .filter(|f| files.keep.contains(&f.sha256))
            .collect();
        if kept.len() != files.keep.len() {
            return Err(StoreError::invalid(
                "keep_files",
                "names a file this article does not have",
            ));
        }
        if !files.add.is_empty()
            || kept.len() != version_files(&mut tx, tenant, id, current).await?.len()
        {
            changed.push("files".into());
        }
        let version = current + 1;
        let q = query(
            "UPDATE articles SET version = $1, kind = $2, visibility = $3, language = $4, category_id = $5, title = $6, \
             body = $7, tags = $8, products = $9, valid_from = $10, valid_to = $11, source = $12, updated_at = $13 \
             WHERE tenant_id = $14 AND id = $15",
        )
        .bind(version);
        bind_content(q, content)
            .bind(source)
            .bind(ms(at))
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let vid = insert_version(
            &mut tx, actor, id, version, content, source, note, &changed, at,
        )
        .await?;
        add_files(&mut tx, tenant, vid, &kept, &files.add).await?;
        let d = data([
            ("version", version.to_string()),
            ("changed", changed.join(", ")),
        ]);
        audit(
            &mut tx,
            actor,
            "article.revise",
            &format!("article:{}", id.0),
            &d,
            at,
        )
        .await?;
        if content.kind == ArticleKind::Announcement {
            announce(&mut tx, actor, id, &content.title, at).await?;
        }
        tx.commit().await?;
        Ok(version)
    }

    /// Takes an article out of use, or back: it keeps its versions.
    pub async fn set_article_active(
        &self,
        actor: Actor,
        id: ArticleId,
        active: bool,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        let n = query(
            "UPDATE articles SET retired_at = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind((!active).then_some(ms(at)))
        .bind(ms(at))
        .bind(actor.tenant_id.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let d = data([("active", active.to_string())]);
        audit(
            &mut tx,
            actor,
            "article.set_active",
            &format!("article:{}", id.0),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn article(&self, tenant: TenantId, id: ArticleId) -> Result<Article> {
        let mut conn = self.pool.acquire().await?;
        let r = query(format!(
            "SELECT id, version, {CONTENT_COLS}, source, retired_at, created_at, updated_at FROM articles \
             WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let version = r.int("version")?;
        Ok(Article {
            id,
            version,
            content: content_row(&r)?,
            source: r.text("source")?,
            active: r.opt_int("retired_at")?.is_none(),
            files: version_files(&mut conn, tenant, id, version).await?,
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        })
    }

    /// Public articles of these kinds as the portal shows them, with their
    /// current files; newest change first, at most `limit`. Whether each
    /// holds today is the caller's to judge (it knows the day).
    pub async fn public_articles(
        &self,
        tenant: TenantId,
        kinds: &[ArticleKind],
        language: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Article>> {
        let mut conn = self.pool.acquire().await?;
        let mut q = Sql::new(&format!(
            "SELECT id, version, {CONTENT_COLS}, source, retired_at, created_at, updated_at FROM articles \
             WHERE visibility = 'public' AND retired_at IS NULL AND tenant_id = "
        ));
        q.int(tenant.0);
        q.push(" AND kind IN (");
        for (i, k) in kinds.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.str(k.as_str());
        }
        q.push(")");
        if let Some(l) = language {
            q.push(" AND language = ").str(l);
        }
        q.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .int(i64::from(limit));
        let rows = q.fetch_all(&mut conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id = ArticleId(r.int("id")?);
            let version = r.int("version")?;
            out.push(Article {
                id,
                version,
                content: content_row(&r)?,
                source: r.text("source")?,
                active: true,
                files: version_files(&mut conn, tenant, id, version).await?,
                created_at: r.time("created_at")?,
                updated_at: r.time("updated_at")?,
            });
        }
        Ok(out)
    }

    /// Records that the user read the article as it is now (its current
    /// version): their receipt for an announcement.
    pub async fn mark_article_read(
        &self,
        actor: Actor,
        id: ArticleId,
        at: Timestamp,
    ) -> Result<i64> {
        let Some(user) = actor.user_id else {
            return Err(StoreError::invalid("user", "does not exist"));
        };
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let version = query("SELECT version FROM articles WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .int("version")?;
        query(
            "INSERT INTO article_reads (tenant_id, article_id, user_id, version, read_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (article_id, user_id) DO UPDATE SET version = excluded.version, read_at = excluded.read_at",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(user.0)
        .bind(version)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Who an announcement is for (everyone who works cases) and what each
    /// last read of it: a supervisor's view of who has not read it yet.
    pub async fn article_readers(
        &self,
        tenant: TenantId,
        id: ArticleId,
    ) -> Result<Vec<ArticleReader>> {
        let rows = sqlx::query(
            "SELECT u.id, u.display_name, u.role, t.name AS team, r.version, r.read_at \
             FROM users u LEFT JOIN teams t ON t.id = u.team_id \
             LEFT JOIN article_reads r ON r.user_id = u.id AND r.article_id = $2 AND r.tenant_id = u.tenant_id \
             WHERE u.tenant_id = $1 AND u.active = 1 ORDER BY u.display_name, u.id",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let role = vocab(Role::parse(&r.text("role")?))?;
            if !role.allows(Permission::WorkCases) {
                continue;
            }
            out.push(ArticleReader {
                user_id: UserId(r.int("id")?),
                display_name: r.text("display_name")?,
                team: r.opt_text("team")?,
                read_version: r.opt_int("version")?,
                read_at: r.opt_time("read_at")?,
            });
        }
        Ok(out)
    }

    /// The version of an article a user last read, and when.
    pub async fn article_read(
        &self,
        tenant: TenantId,
        id: ArticleId,
        user: UserId,
    ) -> Result<Option<(i64, Timestamp)>> {
        let row = sqlx::query(
            "SELECT version, read_at FROM article_reads WHERE tenant_id = $1 AND article_id = $2 AND user_id = $3",
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.int("version")?, r.time("read_at")?)))
            .transpose()
    }

    /// Every version of an article, newest first.
    pub async fn article_versions(
        &self,
        tenant: TenantId,
        id: ArticleId,
    ) -> Result<Vec<ArticleVersion>> {
        let mut conn = self.pool.acquire().await?;
        let rows = query(format!(
            "SELECT v.version, {}, v.source, v.change_note, v.changed, v.author_id, u.display_name AS author_name, \
             v.created_at FROM article_versions v LEFT JOIN users u ON u.id = v.author_id \
             WHERE v.tenant_id = $1 AND v.article_id = $2 ORDER BY v.version DESC",
            CONTENT_COLS
                .split(", ")
                .map(|c| format!("v.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        let mut out = Vec::new();
        for r in &rows {
            let version = r.int("version")?;
            out.push(ArticleVersion {
                version,
                content: content_row(r)?,
                source: r.text("source")?,
                change_note: r.text("change_note")?,
                changed: serde_json::from_str(&r.text("changed")?).unwrap_or_default(),
                author_id: r.opt_int("author_id")?.map(UserId),
                author_name: r.opt_text("author_name")?,
                created_at: r.time("created_at")?,
                files: version_files(&mut conn, tenant, id, version).await?,
            });
        }
        Ok(out)
    }

    /// Articles newest change first, `limit` at a time.
    pub async fn articles(
        &self,
        tenant: TenantId,
        f: &ArticleFilter,
    ) -> Result<Vec<ArticleSummary>> {
        let mut q = Sql::new(
            "SELECT id, version, kind, visibility, language, title, category_id, tags, valid_from, valid_to, retired_at, updated_at \
             FROM articles WHERE tenant_id = ",
        );
        q.int(tenant.0);
        if let Some(c) = f.category_id {
            q.push(" AND category_id = ").int(c.0);
        }
        if let Some(k) = f.kind {
            q.push(" AND kind = ").str(k.as_str());
        }
        if f.public_only {
            q.push(" AND visibility = 'public'");
        }
        if let Some(l) = &f.language {
            q.push(" AND language = ").str(l);
        }
        if !f.include_retired {
            q.push(" AND retired_at IS NULL");
        }
        for word in f.text.iter().flat_map(|t| t.split_whitespace()).take(8) {
            let like = format!("%{}%", word.to_lowercase().replace(['%', '_'], ""));
            q.push(" AND (LOWER(title) LIKE ").str(&like);
            q.push(" OR LOWER(body) LIKE ").str(&like);
            q.push(" OR LOWER(tags) LIKE ").str(&like);
            q.push(")");
        }
        if let Some((at, id)) = f.before {
            q.push(" AND (updated_at < ").int(ms(at));
            q.push(" OR (updated_at = ").int(ms(at));
            q.push(" AND id < ").int(id.0);
            q.push("))");
        }
        q.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .int(i64::from(f.limit));
        let rows = q.fetch_all_pool(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(ArticleSummary {
                    id: ArticleId(r.int("id")?),
                    version: r.int("version")?,
                    kind: vocab(ArticleKind::parse(&r.text("kind")?))?,
                    visibility: vocab(Visibility::parse(&r.text("visibility")?))?,
                    language: r.text("language")?,
                    title: r.text("title")?,
                    category_id: r.opt_int("category_id")?.map(KbCategoryId),
                    tags: serde_json::from_str(&r.text("tags")?).unwrap_or_default(),
                    valid_from: r.opt_text("valid_from")?.and_then(|d| d.parse().ok()),
                    valid_to: r.opt_text("valid_to")?.and_then(|d| d.parse().ok()),
                    active: r.opt_int("retired_at")?.is_none(),
                    updated_at: r.time("updated_at")?,
                })
            })
            .collect()
    }

    /// Records that an agent answered from this version of an article on
    /// the case; the case's timeline says so. Recording it twice is once.
    pub async fn use_article(
        &self,
        actor: Actor,
        case: CaseId,
        id: ArticleId,
        version: i64,
        at: Timestamp,
    ) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        exists(&mut *tx, "cases", tenant, case.0, "case_id").await?;
        let v = query("SELECT v.id, v.title FROM article_versions v WHERE v.tenant_id = $1 AND v.article_id = $2 AND v.version = $3")
            .bind(tenant.0)
            .bind(id.0)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::invalid("version", "does not exist"))?;
        let n = query(
            "INSERT INTO case_articles (tenant_id, case_id, version_id, user_id, used_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (case_id, version_id) DO NOTHING",
        )
        .bind(tenant.0)
        .bind(case.0)
        .bind(v.int("id")?)
        .bind(actor.user_id.map(|u| u.0))
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        if n > 0 {
            let d = data([
                ("article_id", id.0.to_string()),
                ("version", version.to_string()),
                ("title", v.text("title")?),
            ]);
            case_event(&mut *tx, actor, case, "article_used", &d, at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The article versions used on a case, in the order they were used.
    pub async fn case_articles(&self, tenant: TenantId, case: CaseId) -> Result<Vec<ArticleUse>> {
        let rows = sqlx::query(
            "SELECT v.article_id, v.version, v.title, u.display_name AS user_name, ca.used_at FROM case_articles ca \
             JOIN article_versions v ON v.id = ca.version_id LEFT JOIN users u ON u.id = ca.user_id \
             WHERE ca.tenant_id = $1 AND ca.case_id = $2 ORDER BY ca.used_at, ca.id",
        )
        .bind(tenant.0)
        .bind(case.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ArticleUse {
                    article_id: ArticleId(r.int("article_id")?),
                    version: r.int("version")?,
                    title: r.text("title")?,
                    user_name: r.opt_text("user_name")?,
                    used_at: r.time("used_at")?,
                })
            })
            .collect()
    }

    /// A file of any version of an article, with its bytes; `public_only`
    /// asks that the article be public now and the file be one of its
    /// current version (the portal's downloads: a withdrawn price list is
    /// not served).
    pub async fn article_file(
        &self,
        tenant: TenantId,
        id: ArticleId,
        sha256: &str,
        public_only: bool,
    ) -> Result<(Attachment, Vec<u8>)> {
        let public = if public_only {
            " AND a.visibility = 'public' AND a.retired_at IS NULL AND v.version = a.version"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT f.sha256, f.filename, f.content_type, f.size, b.data, b.data_segment, b.data_offset, b.data_base64_len \
             FROM article_files f JOIN article_versions v ON v.id = f.version_id JOIN articles a ON a.id = v.article_id \
             JOIN blobs b ON b.tenant_id = f.tenant_id AND b.sha256 = f.sha256 \
             WHERE f.tenant_id = $1 AND v.article_id = $2 AND f.sha256 = $3{public} LIMIT 1"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.stored_file(&row).await
    }
}

/// A new version must start from the current one: one written from an
/// older version would silently undo what was saved since (articles, scripts).
pub(crate) fn unchanged_since(current: i64, base: i64) -> Result<()> {
    if current != base {
        return Err(StoreError::Conflict(format!(
            "version {current} was saved since version {base}: open it again and redo the change"
        )));
    }
    Ok(())
}

/// Tells everyone who works cases, but the writer, of a new or changed
/// announcement: the notice links to it.
async fn announce(
    tx: &mut AnyConnection,
    actor: Actor,
    article: ArticleId,
    title: &str,
    at: Timestamp,
) -> Result<()> {
    let rows = query("SELECT id, role FROM users WHERE tenant_id = $1 AND active = 1")
        .bind(actor.tenant_id.0)
        .fetch_all(&mut *tx)
        .await?;
    for r in &rows {
        let user = UserId(r.int("id")?);
        let works = Role::parse(&r.text("role")?).is_ok_and(|r| r.allows(Permission::WorkCases));
        if !works || Some(user) == actor.user_id {
            continue;
        }
        query(
            "INSERT INTO notifications (tenant_id, user_id, article_id, kind, body, created_at) \
             VALUES ($1, $2, $3, 'announcement', $4, $5)",
        )
        .bind(actor.tenant_id.0)
        .bind(user.0)
        .bind(article.0)
        .bind(title)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_version(
    tx: &mut AnyConnection,
    actor: Actor,
    article: ArticleId,
    version: i64,
    content: &ArticleContent,
    source: &str,
    note: &str,
    changed: &[String],
    at: Timestamp,
) -> Result<i64> {
    let q = query(format!(
        "INSERT INTO article_versions (tenant_id, article_id, version, {CONTENT_COLS}, source, change_note, changed, author_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id"
    ))
    .bind(actor.tenant_id.0)
    .bind(article.0)
    .bind(version);
    bind_content(q, content)
        .bind(source)
        .bind(note)
        .bind(serde_json::to_string(changed).unwrap_or_default())
        .bind(actor.user_id.map(|u| u.0))
        .bind(ms(at))
        .fetch_one(&mut *tx)
        .await?
        .int("id")
}

/// Gives a version its files: those kept from the version before, and new ones.
async fn add_files(
    tx: &mut AnyConnection,
    tenant: TenantId,
    version_id: i64,
    kept: &[ArticleFile],
    added: &[AttachmentInput],
) -> Result<()> {
    for a in added {
        put_blob(&mut *tx, tenant, a).await?;
    }
    let rows = kept
        .iter()
        .cloned()
        .chain(added.iter().map(|a| ArticleFile {
            sha256: a.sha256().to_string(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.data().len() as i64,
        }));
    for f in rows {
        query("INSERT INTO article_files (tenant_id, version_id, sha256, filename, content_type, size) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(tenant.0)
            .bind(version_id)
            .bind(f.sha256.as_str())
            .bind(f.filename.as_str())
            .bind(f.content_type.as_str())
            .bind(f.size)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

async fn version_files(
    conn: &mut AnyConnection,
    tenant: TenantId,
    article: ArticleId,
    version: i64,
) -> Result<Vec<ArticleFile>> {
    let rows = query(
        "SELECT f.sha256, f.filename, f.content_type, f.size FROM article_files f \
         JOIN article_versions v ON v.id = f.version_id \
         WHERE f.tenant_id = $1 AND v.article_id = $2 AND v.version = $3 ORDER BY f.id",
    )
    .bind(tenant.0)
    .bind(article.0)
    .bind(version)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ArticleFile {
                sha256: r.text("sha256")?,
                filename: r.text("filename")?,
                content_type: r.text("content_type")?,
                size: r.int("size")?,
            })
        })
        .collect()
}
