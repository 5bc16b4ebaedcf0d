//! What the search index reads: the documents changed since a mark, in
//! the order they changed, across tenants; and a plain search through the
//! rows themselves for while the index is being rebuilt.

use crate::Result;
use crate::db::{RowExt, Store};
use crate::sql::Sql;
use domain::case::CaseNumber;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// What a document is, as the search index names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Article,
    Case,
    Interaction,
    Customer,
}

/// A document for the index; `gone` ones are taken out of it.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub tenant: i64,
    pub kind: FeedKind,
    pub id: i64,
    pub case_id: Option<i64>,
    pub public: bool,
    pub gone: bool,
    pub title: String,
    pub body: String,
}

/// How far the feed has been read: per kind, the last change seen (its time
/// in milliseconds and id; contacts, never changed, by id alone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedMark {
    pub articles: (i64, i64),
    pub cases: (i64, i64),
    pub customers: (i64, i64),
    pub interactions: i64,
}

/// A contact's text kept for search: a long mail's first part says what it is about.
const BODY_CHARS: usize = 20_000;

fn clip(s: &str) -> String {
    s.chars().take(BODY_CHARS).collect()
}

fn number(r: &AnyRow) -> Result<String> {
    Ok(CaseNumber {
        year: r.int("year")? as i16,
        seq: r.int("seq")?,
    }
    .to_string())
}

impl Store {
    /// Up to `limit` changed documents of each kind after `mark`; the new
    /// mark; and whether more are waiting.
    pub async fn search_feed(
        &self,
        mark: FeedMark,
        limit: u32,
    ) -> Result<(Vec<FeedItem>, FeedMark, bool)> {
        let mut out = Vec::new();
        let mut next = mark;
        let n = i64::from(limit);

        let rows = sqlx::query(
            "SELECT id, tenant_id, title, body, tags, products, visibility, retired_at, updated_at FROM articles \
             WHERE updated_at > $1 OR (updated_at = $1 AND id > $2) ORDER BY updated_at, id LIMIT $3",
        )
        .bind(mark.articles.0)
        .bind(mark.articles.1)
        .bind(n)
        .fetch_all(&self.pool)
        .await?;
        let more_articles = rows.len() as i64 == n;
        for r in &rows {
            let tags: Vec<String> = serde_json::from_str(&r.text("tags")?).unwrap_or_default();
            let products: Vec<String> =
                serde_json::from_str(&r.text("products")?).unwrap_or_default();
            out.push(FeedItem {
                tenant: r.int("tenant_id")?,
                kind: FeedKind::Article,
                id: r.int("id")?,
                case_id: None,
                public: r.text("visibility")? == "public",
                gone: r.opt_int("retired_at")?.is_some(),
                title: r.text("title")?,
                body: format!(
                    "{}\n{}\n{}",
                    r.text("body")?,
                    tags.join(" "),
                    products.join(" ")
                ),
            });
            next.articles = (r.int("updated_at")?, r.int("id")?);
        }

        let rows = sqlx::query(
            "SELECT c.id, c.tenant_id, c.year, c.seq, c.subject, c.description, c.custom, c.updated_at, cu.name AS customer \
             FROM cases c LEFT JOIN customers cu ON cu.id = c.customer_id \
             WHERE c.updated_at > $1 OR (c.updated_at = $1 AND c.id > $2) ORDER BY c.updated_at, c.id LIMIT $3",
        )
        .bind(mark.cases.0)
        .bind(mark.cases.1)
        .bind(n)
        .fetch_all(&self.pool)
        .await?;
        let more_cases = rows.len() as i64 == n;
        for r in &rows {
            let custom: std::collections::BTreeMap<String, String> =
                serde_json::from_str(&r.text("custom")?).unwrap_or_default();
            let id = r.int("id")?;
            out.push(FeedItem {
                tenant: r.int("tenant_id")?,
                kind: FeedKind::Case,
                id,
                case_id: Some(id),
                public: false,
                gone: false,
                title: format!("{} {}", number(r)?, r.text("subject")?),
                body: format!(
                    "{}\n{}\n{}",
                    clip(&r.text("description")?),
                    r.opt_text("customer")?.unwrap_or_default(),
                    custom.values().cloned().collect::<Vec<_>>().join(" ")
                ),
            });
            next.cases = (r.int("updated_at")?, id);
        }

        let rows = sqlx::query(
            "SELECT i.id, i.tenant_id, i.case_id, i.body, c.year, c.seq, c.subject FROM interactions i \
             JOIN cases c ON c.id = i.case_id WHERE i.id > $1 ORDER BY i.id LIMIT $2",
        )
        .bind(mark.interactions)
        .bind(n)
        .fetch_all(&self.pool)
        .await?;
        let more_contacts = rows.len() as i64 == n;
        for r in &rows {
            out.push(FeedItem {
                tenant: r.int("tenant_id")?,
                kind: FeedKind::Interaction,
                id: r.int("id")?,
                case_id: Some(r.int("case_id")?),
                public: false,
                gone: false,
                title: format!("{} {}", number(r)?, r.text("subject")?),
                body: clip(&r.text("body")?),
            });
            next.interactions = r.int("id")?;
        }

        let rows = sqlx::query(
            "SELECT id, tenant_id, name, external_id, tags, updated_at FROM customers \
             WHERE updated_at > $1 OR (updated_at = $1 AND id > $2) ORDER BY updated_at, id LIMIT $3",
        )
        .bind(mark.customers.0)
        .bind(mark.customers.1)
        .bind(n)
        .fetch_all(&self.pool)
        .await?;
        let more_customers = rows.len() as i64 == n;
        let ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect::<Result<_>>()?;
        let details = self.customer_words(&ids).await?;
        for r in &rows {
            let id = r.int("id")?;
            let tags: Vec<String> = serde_json::from_str(&r.text("tags")?).unwrap_or_default();
            let words = details
                .iter()
                .filter(|(c, _)| *c == id)
                .map(|(_, w)| w.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            out.push(FeedItem {
                tenant: r.int("tenant_id")?,
                kind: FeedKind::Customer,
                id,
                case_id: None,
                public: false,
                gone: false,
                title: r.text("name")?,
                body: format!(
                    "{words} {} {}",
                    r.opt_text("external_id")?.unwrap_or_default(),
                    tags.join(" ")
                ),
            });
            next.customers = (r.int("updated_at")?, id);
        }
        let more = more_articles || more_cases || more_contacts || more_customers;
        Ok((out, next, more))
    }

    /// Phones, e-mails, accounts and vehicles of customers, by customer id.
    async fn customer_words(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (table, cols) in [
            ("customer_phones", "e164"),
            ("customer_emails", "email"),
            ("customer_accounts", "account_no"),
            ("assets", "vin"),
        ] {
            let mut q = Sql::new(&format!(
                "SELECT customer_id, {cols} AS word FROM {table} WHERE customer_id IN "
            ));
            q.int_list(ids);
            for r in q.fetch_all_pool(&self.pool).await? {
                let mut word = r.text("word")?;
                // A number written the local way is found too.
                if let Some(local) = word.strip_prefix("+86") {
                    word = format!("{word} {local}");
                }
                out.push((r.int("customer_id")?, word));
            }
        }
        let mut q = Sql::new("SELECT customer_id, model, plate FROM assets WHERE customer_id IN ");
        q.int_list(ids);
        for r in q.fetch_all_pool(&self.pool).await? {
            let words = [r.opt_text("model")?, r.opt_text("plate")?];
            let text = words.into_iter().flatten().collect::<Vec<_>>().join(" ");
            out.push((r.int("customer_id")?, text));
        }
        Ok(out)
    }

    /// How many documents a full rebuild reads: for its progress bar.
    pub async fn search_document_count(&self) -> Result<u64> {
        let mut n = 0;
        for table in ["articles", "cases", "interactions", "customers"] {
            let c: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&self.pool)
                .await?;
            n += c as u64;
        }
        Ok(n)
    }

    /// The store's own search, for while the index is rebuilt: rows of the
    /// tenant whose text holds every word, newest first. Slower, and
    /// unranked, but it answers.
    pub async fn search_rows(
        &self,
        tenant: i64,
        words: &[String],
        kinds: &[FeedKind],
        public_only: bool,
        limit: u32,
    ) -> Result<Vec<FeedItem>> {
        let words: Vec<String> = words
            .iter()
            .take(6)
            .map(|w| format!("%{}%", w.to_lowercase().replace(['%', '_'], "")))
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for kind in kinds {
            let (select, cols): (&str, &[&str]) = match kind {
                FeedKind::Article => (
                    "SELECT a.id, a.tenant_id, NULL AS case_id, a.title, a.body, a.visibility FROM articles a \
                     WHERE a.retired_at IS NULL AND a.tenant_id = ",
                    &["a.title", "a.body", "a.tags"],
                ),
                FeedKind::Case => (
                    "SELECT c.id, c.tenant_id, c.id AS case_id, c.subject AS title, c.description AS body, 'internal' AS visibility \
                     FROM cases c WHERE c.tenant_id = ",
                    &["c.subject", "c.description"],
                ),
                FeedKind::Interaction => (
                    "SELECT i.id, i.tenant_id, i.case_id, '' AS title, i.body, 'internal' AS visibility \
                     FROM interactions i WHERE i.tenant_id = ",
                    &["i.body"],
                ),
                FeedKind::Customer => (
                    "SELECT u.id, u.tenant_id, NULL AS case_id, u.name AS title, '' AS body, 'internal' AS visibility \
                     FROM customers u WHERE u.tenant_id = ",
                    &["u.name"],
                ),
            };
            if public_only && *kind != FeedKind::Article {
                continue;
            }
            let mut q = Sql::new(select);
            q.int(tenant);
            if public_only {
                q.push(" AND a.visibility = 'public'");
            }
            for w in &words {
                q.push(" AND (");
                for (i, col) in cols.iter().enumerate() {
                    if i > 0 {
                        q.push(" OR ");
                    }
                    q.push(&format!("LOWER({col}) LIKE ")).str(w);
                }
                q.push(")");
            }
            let order = cols[0].split('.').next().unwrap_or("a");
            q.push(&format!(" ORDER BY {order}.id DESC LIMIT "))
                .int(i64::from(limit));
            for r in q.fetch_all_pool(&self.pool).await? {
                out.push(FeedItem {
                    tenant: r.int("tenant_id")?,
                    kind: *kind,
                    id: r.int("id")?,
                    case_id: r.opt_int("case_id")?,
                    public: r.text("visibility")? == "public",
                    gone: false,
                    title: r.text("title")?,
                    body: r
                        .opt_text("body")?
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect(),
                });
            }
        }
        out.truncate(limit as usize);
        Ok(out)
    }
}
