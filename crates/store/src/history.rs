//! A customer's history across channels, for the case view's customer 360:
//! contacts on their other cases, newest first, and department tasks still
//! open on any of their cases.

use crate::Result;
use crate::db::{RowExt, Store, vocab};
use domain::case::{CaseNumber, Direction, InteractionKind};
use domain::ids::*;
use domain::model::DepartmentTask;
use jiff::Timestamp;
use serde::Serialize;

/// One earlier contact: its kind, when, on which case, and how it began.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub interaction_id: InteractionId,
    pub case_id: CaseId,
    pub case_number: String,
    pub kind: InteractionKind,
    pub direction: Direction,
    pub at: Timestamp,
    pub author_name: Option<String>,
    /// The first 160 characters of the body.
    pub excerpt: String,
}

const EXCERPT_CHARS: usize = 160;

impl Store {
    /// Contacts on the customer's cases other than `except`, newest first.
    pub async fn customer_contacts(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        except: Option<CaseId>,
        limit: u32,
    ) -> Result<Vec<Contact>> {
        let rows = sqlx::query(
            "SELECT i.id, i.case_id, c.year, c.seq, i.kind, i.direction, i.started_at, u.display_name AS author_name, \
             SUBSTR(i.body, 1, 200) AS body FROM cases c \
             JOIN interactions i ON i.case_id = c.id AND i.tenant_id = c.tenant_id \
             LEFT JOIN users u ON u.id = i.author_id \
             WHERE c.tenant_id = $1 AND c.customer_id = $2 AND c.id <> $3 \
             ORDER BY i.started_at DESC, i.id DESC LIMIT $4",
        )
        .bind(tenant.0)
        .bind(customer.0)
        .bind(except.map_or(0, |c| c.0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let number = CaseNumber {
                    year: r.int("year")? as i16,
                    seq: r.int("seq")?,
                };
                let body = r.text("body")?;
                let mut excerpt: String = body.chars().take(EXCERPT_CHARS).collect();
                if body.chars().count() > EXCERPT_CHARS {
                    excerpt.push('…');
                }
                Ok(Contact {
                    interaction_id: InteractionId(r.int("id")?),
                    case_id: CaseId(r.int("case_id")?),
                    case_number: number.to_string(),
                    kind: vocab(InteractionKind::parse(&r.text("kind")?))?,
                    direction: vocab(Direction::parse(&r.text("direction")?))?,
                    at: r.time("started_at")?,
                    author_name: r.opt_text("author_name")?,
                    excerpt,
                })
            })
            .collect()
    }

    /// Department tasks still open on any of the customer's cases, soonest deadline first.
    pub async fn customer_open_tasks(
        &self,
        tenant: TenantId,
        customer: CustomerId,
    ) -> Result<Vec<DepartmentTask>> {
        self.tasks_where(
            "c.customer_id = $2 AND t.status = 'open' ORDER BY t.deadline_at, t.id LIMIT 20",
            tenant,
            customer.0,
        )
        .await
    }
}
