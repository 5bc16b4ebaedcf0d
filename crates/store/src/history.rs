//! What an agent is shown beside the work: a customer's history across
//! channels for the case view's customer 360 (contacts on their other
//! cases, department tasks still open) and the notices in the user's
//! notification area (mentions, departments' answers).

use crate::Result;
use crate::db::{RowExt, Store, ms, vocab};
use crate::exec::{Exec, query};
use domain::case::{CaseNumber, Direction, InteractionKind};
use domain::ids::*;
use domain::model::{Actor, DepartmentTask};
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

/// The start of a text as a notice or a list shows it.
pub(crate) fn first_chars(text: &str) -> String {
    text.chars().take(EXCERPT_CHARS).collect()
}

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
                let mut excerpt = first_chars(&body);
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

/// Puts a notice in a user's notification area.
pub(crate) async fn notify<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    user: UserId,
    case: Option<CaseId>,
    kind: &str,
    body: &str,
    at: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO notifications (tenant_id, user_id, case_id, kind, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.0)
    .bind(user.0)
    .bind(case.map(|c| c.0))
    .bind(kind)
    .bind(body)
    .bind(ms(at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Tells everyone a note mentions (`@username`, active, in the tenant, not
/// the writer) that it does.
pub(crate) async fn notify_mentions<E: Exec>(
    conn: &mut E,
    actor: Actor,
    case: CaseId,
    body: &str,
    at: Timestamp,
) -> Result<()> {
    let Some(writer) = actor.user_id else {
        return Ok(());
    };
    let excerpt = first_chars(body);
    for name in domain::user::mentions(body) {
        let row =
            query("SELECT id FROM users WHERE tenant_id = $1 AND username = $2 AND active = 1")
                .bind(actor.tenant_id.0)
                .bind(&name)
                .fetch_optional(conn)
                .await?;
        if let Some(r) = row {
            let user = UserId(r.int("id")?);
            if user != writer {
                notify(
                    conn,
                    actor.tenant_id,
                    user,
                    Some(case),
                    "mention",
                    &excerpt,
                    at,
                )
                .await?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// How many notices wait unread for the user at `now`.
    pub async fn unread_notifications(
        &self,
        tenant: TenantId,
        user: UserId,
        now: Timestamp,
    ) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications WHERE tenant_id = $1 AND user_id = $2 \
             AND read_at IS NULL AND (deliver_at IS NULL OR deliver_at <= $3)",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        r.int("n")
    }
}
