//! Sending mail: templates, the acknowledgement of a new case, agents'
//! replies, and the durable outbox the sender drains.
//!
//! A message is composed and written to the outbox in the same transaction
//! as the event that sends it, so an acknowledgement exists exactly when its
//! case does, and a reply exists exactly when it shows on the case.

use crate::cases::{case_status, insert_interaction, set_status, touch};
use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{audit, case_event, data};
use crate::exec::{Exec, query};
use crate::mail::{ADDRESS_COLS, MailAddress, add_participant, address_row, mail_actor};
use crate::{Result, StoreError};
use domain::case::{CaseAction, CaseNumber};
use domain::contact::EmailAddress;
use domain::customer::is_vip_tier;
use domain::ids::*;
use domain::mail::ClosedReply;
use domain::mime::OutgoingMail;
use domain::model::*;
use domain::template::{self, TemplateKind, Vars};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, Serialize)]
pub struct MailTemplate {
    pub id: i64,
    pub kind: TemplateKind,
    pub name: String,
    /// The receiving address an acknowledgement is for; none for every address.
    pub address_id: Option<i64>,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub updated_at: Timestamp,
}

/// A template as an administrator saves it, already checked.
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub kind: TemplateKind,
    pub name: String,
    pub address_id: Option<i64>,
    pub language: String,
    pub subject: String,
    pub body: String,
}

/// An agent's e-mail on a case, already checked.
#[derive(Debug, Clone, Default)]
pub struct ReplyInput {
    /// Empty: the address the customer last wrote from, else the customer's.
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    pub bcc: Vec<EmailAddress>,
    /// None: `Re:` the customer's last subject, else the case subject.
    pub subject: Option<String>,
    /// Empty with a template: the template's body.
    pub body: String,
    pub template_id: Option<i64>,
    pub attachments: Vec<AttachmentInput>,
    /// A workflow step taken with the reply (e.g. wait for the customer).
    pub then: Option<CaseAction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueuedMail {
    pub outbox_id: i64,
    pub interaction_id: InteractionId,
    pub message_id: String,
    pub to: Vec<String>,
    pub subject: String,
}

/// A message the sender is to hand to the relay.
#[derive(Debug, Clone)]
pub struct OutboundMail {
    pub id: i64,
    pub tenant_id: TenantId,
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    /// Attempts before this one.
    pub attempts: i64,
}

/// One row of the outbox as the mail log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub case_id: Option<CaseId>,
    pub kind: String,
    pub message_id: String,
    pub recipients: Vec<String>,
    pub subject: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    pub case_id: Option<CaseId>,
    /// The announcement it tells of.
    pub article_id: Option<ArticleId>,
    pub kind: String,
    pub body: String,
    pub created_at: Timestamp,
    pub read: bool,
}

const TEMPLATE_COLS: &str = "id, kind, name, address_id, language, subject, body, updated_at";

fn template_row(r: &impl RowExt) -> Result<MailTemplate> {
    Ok(MailTemplate {
        id: r.int("id")?,
        kind: vocab(TemplateKind::parse(&r.text("kind")?))?,
        name: r.text("name")?,
        address_id: Some(r.int("address_id")?).filter(|a| *a != 0),
        language: r.text("language")?,
        subject: r.text("subject")?,
        body: r.text("body")?,
        updated_at: r.time("updated_at")?,
    })
}

/// The case as its messages speak of it.
struct CaseFacts {
    number: CaseNumber,
    subject: String,
    created_at: Timestamp,
    customer_id: Option<CustomerId>,
    customer_name: String,
    vip: bool,
    assignee_name: Option<String>,
    team_name: Option<String>,
    timezone: String,
    faq_url: Option<String>,
    /// When the running response clock is due.
    reply_due: Option<Timestamp>,
}

async fn case_facts<E: Exec>(conn: &mut E, tenant: TenantId, case: CaseId) -> Result<CaseFacts> {
    let r = query(
        "SELECT c.year, c.seq, c.subject, c.created_at, c.customer_id, cu.name AS customer_name, cu.tier, \
         u.display_name AS assignee_name, t.name AS team_name, tn.timezone, tn.faq_url, \
         (SELECT MIN(k.due_at) FROM sla_clocks k WHERE k.tenant_id = c.tenant_id AND k.case_id = c.id \
          AND k.kind IN ('first_response', 'next_response') AND k.stopped_at IS NULL) AS reply_due \
         FROM cases c JOIN tenants tn ON tn.id = c.tenant_id LEFT JOIN customers cu ON cu.id = c.customer_id \
         LEFT JOIN users u ON u.id = c.assignee_id LEFT JOIN teams t ON t.id = c.team_id \
         WHERE c.tenant_id = $1 AND c.id = $2",
    )
    .bind(tenant.0)
    .bind(case.0)
    .fetch_one(conn)
    .await?;
    Ok(CaseFacts {
        number: CaseNumber {
            year: r.int("year")? as i16,
            seq: r.int("seq")?,
        },
        subject: r.text("subject")?,
        created_at: r.time("created_at")?,
        customer_id: r.opt_int("customer_id")?.map(CustomerId),
        customer_name: r.opt_text("customer_name")?.unwrap_or_default(),
        vip: r.opt_text("tier")?.is_some_and(|t| is_vip_tier(&t)),
        assignee_name: r.opt_text("assignee_name")?,
        team_name: r.opt_text("team_name")?,
        timezone: r.text("timezone")?,
        faq_url: r.opt_text("faq_url")?,
        reply_due: r.opt_time("reply_due")?,
    })
}

/// The values of every template variable on a case. The promised reply time
/// is the first response's SLA due instant; without an SLA policy it runs
/// from the case's opening by the receiving address's promise for the
/// customer's tier. Either is shown in the tenant's time zone.
fn case_vars(f: &CaseFacts, address: &MailAddress, agent: Option<&str>) -> Vars {
    let s = &address.settings;
    let hours = if f.vip {
        s.vip_reply_hours
    } else {
        s.reply_hours
    };
    let promised = f
        .reply_due
        .unwrap_or(f.created_at + SignedDuration::from_hours(hours));
    let tz = jiff::tz::TimeZone::get(&f.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let promised = format!(
        "{} ({})",
        promised.to_zoned(tz).strftime("%Y-%m-%d %H:%M"),
        f.timezone
    );
    let team_default = if s.language == "zh-CN" {
        "我们的客服团队"
    } else {
        "Our service team"
    };
    let agent_name = agent.map(str::to_string).or(f.assignee_name.clone());
    let handled_by = agent_name
        .clone()
        .or(f.team_name.clone())
        .unwrap_or_else(|| team_default.to_string());
    let mut v = Vars::new();
    v.insert("customer_name", f.customer_name.clone());
    v.insert("case_number", f.number.to_string());
    v.insert("subject", f.subject.clone());
    v.insert("agent_name", agent_name.unwrap_or_default());
    v.insert("handled_by", handled_by);
    v.insert("promised_time", promised);
    v.insert("faq_url", f.faq_url.clone().unwrap_or_default());
    v.insert("signature", s.display_name.clone());
    v
}

async fn template_by_id(
    conn: &mut AnyConnection,
    tenant: TenantId,
    id: i64,
) -> Result<Option<MailTemplate>> {
    let row = sqlx::query(&format!(
        "SELECT {TEMPLATE_COLS} FROM mail_templates WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.0)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(template_row).transpose()
}

/// The tenant's template of a kind for an address and language: the
/// address's own, else the tenant-wide one.
async fn find_template<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    kind: TemplateKind,
    address_id: i64,
    language: &str,
) -> Result<Option<MailTemplate>> {
    let row = query(format!(
        "SELECT {TEMPLATE_COLS} FROM mail_templates WHERE tenant_id = $1 AND kind = $2 AND language = $3 \
         AND address_id IN (0, $4) ORDER BY address_id DESC LIMIT 1"
    ))
    .bind(tenant.0)
    .bind(kind.as_str())
    .bind(language)
    .bind(address_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(template_row).transpose()
}

/// A Message-ID no other message has: the interaction it records is unique.
fn message_id(
    kind: &str,
    interaction: InteractionId,
    at: Timestamp,
    from: &EmailAddress,
) -> String {
    let domain = from
        .as_str()
        .rsplit('@')
        .next()
        .unwrap_or("carecenter.invalid");
    format!(
        "cc.{kind}.{}.{}@{domain}",
        interaction.0,
        at.as_millisecond()
    )
}

struct Queue<'a> {
    tenant: TenantId,
    case: CaseId,
    interaction: InteractionId,
    author: Option<UserId>,
    kind: &'a str,
    mail: &'a OutgoingMail,
    bcc: &'a [EmailAddress],
    at: Timestamp,
}

/// Writes a composed message to the outbox and remembers its Message-ID, so
/// that the customer's answer to it threads into the case.
async fn enqueue<E: Exec>(conn: &mut E, q: Queue<'_>) -> Result<i64> {
    let recipients: Vec<&str> = q
        .mail
        .to
        .iter()
        .chain(&q.mail.cc)
        .chain(q.bcc)
        .map(EmailAddress::as_str)
        .collect();
    let id = query(
        "INSERT INTO mail_outbox (tenant_id, case_id, interaction_id, author_id, kind, message_id, mail_from, recipients, \
         subject, raw, status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $11) RETURNING id",
    )
    .bind(q.tenant.0)
    .bind(q.case.0)
    .bind(q.interaction.0)
    .bind(q.author.map(|u| u.0))
    .bind(q.kind)
    .bind(&q.mail.message_id)
    .bind(q.mail.from.as_str())
    .bind(serde_json::to_string(&recipients).unwrap_or_default())
    .bind(&q.mail.subject)
    .bind(q.mail.compose())
    .bind(ms(q.at))
    .fetch_one(conn)
    .await?
    .int("id")?;
    query(
        "INSERT INTO mail_messages (tenant_id, message_id, case_id, interaction_id, direction, from_address, to_addresses, subject) \
         VALUES ($1, $2, $3, $4, 'outbound', $5, $6, $7)",
    )
    .bind(q.tenant.0)
    .bind(&q.mail.message_id)
    .bind(q.case.0)
    .bind(q.interaction.0)
    .bind(q.mail.from.as_str())
    .bind(recipients.join(", "))
    .bind(&q.mail.subject)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Whom an acknowledgement goes to, and what it says besides the case.
pub(crate) struct AckTo<'a> {
    pub to: &'a EmailAddress,
    /// The customer's message it answers, so their client threads it under
    /// what they wrote (none for the portal's form).
    pub answering: Option<&'a str>,
    pub language: &'a str,
    /// The customer's private link to the case on the portal.
    pub case_link: Option<&'a str>,
}

/// Queues the acknowledgement of a case just opened by a customer, inside
/// the transaction that opened it.
pub(crate) async fn queue_ack<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    case: CaseId,
    address: &MailAddress,
    ack: AckTo<'_>,
    at: Timestamp,
) -> Result<()> {
    let facts = case_facts(conn, tenant, case).await?;
    let lang = ack.language;
    let (subject, body) =
        match find_template(conn, tenant, TemplateKind::Ack, address.id, lang).await? {
            Some(t) => (t.subject, t.body),
            None => {
                let (s, b) = template::default_ack(lang);
                (s.to_string(), b.to_string())
            }
        };
    let mut vars = case_vars(&facts, address, None);
    vars.insert("case_link", ack.case_link.unwrap_or_default().to_string());
    let text = template::render(&body, &vars);
    let record = InteractionInput::email_out(text.clone(), Vec::new(), at);
    let interaction = insert_interaction(conn, mail_actor(tenant), case, &record, at).await?;
    let from = address.settings.address.clone();
    let mail = OutgoingMail {
        message_id: message_id("ack", interaction, at, &from),
        date: at,
        from,
        from_name: address.settings.display_name.clone(),
        to: vec![ack.to.clone()],
        cc: Vec::new(),
        subject: domain::mail::tag_subject(template::render(&subject, &vars).trim(), facts.number),
        in_reply_to: ack.answering.map(str::to_string),
        references: ack.answering.map(str::to_string).into_iter().collect(),
        auto_reply: true,
        html: Some(template::render_html(&body, &vars)),
        text,
        attachments: Vec::new(),
    };
    enqueue(
        conn,
        Queue {
            tenant,
            case,
            interaction,
            author: None,
            kind: "ack",
            mail: &mail,
            bcc: &[],
            at,
        },
    )
    .await?;
    Ok(())
}

/// The receiving address a case's mail goes out from: the one the customer
/// first wrote to, else the tenant's first.
async fn sending_address(
    conn: &mut AnyConnection,
    tenant: TenantId,
    case: CaseId,
) -> Result<MailAddress> {
    let row = sqlx::query(&format!(
        "SELECT {ADDRESS_COLS} FROM mail_addresses WHERE tenant_id = $1 AND address IN \
         (SELECT to_addresses FROM mail_messages WHERE tenant_id = $1 AND case_id = $2 AND direction = 'inbound') \
         ORDER BY id LIMIT 1"
    ))
    .bind(tenant.0)
    .bind(case.0)
    .fetch_optional(&mut *conn)
    .await?;
    let row =
        match row {
            Some(r) => Some(r),
            None => sqlx::query(&format!(
                "SELECT {ADDRESS_COLS} FROM mail_addresses WHERE tenant_id = $1 ORDER BY id LIMIT 1"
            ))
            .bind(tenant.0)
            .fetch_optional(&mut *conn)
            .await?,
        };
    match row {
        Some(r) => address_row(&r),
        None => Err(StoreError::invalid(
            "from",
            "this tenant has no e-mail address to send from",
        )),
    }
}

impl Store {
    pub async fn save_template(
        &self,
        actor: Actor,
        t: &TemplateInput,
        at: Timestamp,
    ) -> Result<MailTemplate> {
        template::check("subject", &t.subject).map_err(StoreError::Invalid)?;
        template::check("body", &t.body).map_err(StoreError::Invalid)?;
        let (_w, mut tx) = self.write_tx().await?;
        if let Some(a) = t.address_id {
            let known: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM mail_addresses WHERE tenant_id = $1 AND id = $2",
            )
            .bind(actor.tenant_id.0)
            .bind(a)
            .fetch_optional(&mut *tx)
            .await?;
            if known.is_none() {
                return Err(StoreError::invalid("address_id", "no such mail address"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mail_templates (tenant_id, kind, name, address_id, language, subject, body, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, kind, name, address_id, language) \
             DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(t.kind.as_str())
        .bind(&t.name)
        .bind(t.address_id.unwrap_or(0))
        .bind(&t.language)
        .bind(&t.subject)
        .bind(&t.body)
        .bind(ms(at))
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "mail_template.save",
            &format!("mail_template:{id}"),
            &data([("name", t.name.clone()), ("kind", t.kind.to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(MailTemplate {
            id,
            kind: t.kind,
            name: t.name.clone(),
            address_id: t.address_id,
            language: t.language.clone(),
            subject: t.subject.clone(),
            body: t.body.clone(),
            updated_at: at,
        })
    }

    pub async fn templates(&self, tenant: TenantId) -> Result<Vec<MailTemplate>> {
        let rows = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLS} FROM mail_templates WHERE tenant_id = $1 ORDER BY kind, name, language, address_id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(template_row).collect()
    }

    /// A reply template filled in for a case, as the agent's form starts from it.
    pub async fn render_template(
        &self,
        tenant: TenantId,
        case: CaseId,
        template_id: i64,
        agent: Option<&str>,
    ) -> Result<(String, String)> {
        let mut conn = self.pool.acquire().await?;
        let facts = case_facts(&mut conn, tenant, case).await?;
        let t = template_by_id(&mut conn, tenant, template_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let address = sending_address(&mut conn, tenant, case).await?;
        let vars = case_vars(&facts, &address, agent);
        Ok((
            template::render(&t.subject, &vars),
            template::render(&t.body, &vars),
        ))
    }

    /// The tenant's mail settings: what a reply to a closed case does, and
    /// the FAQ page acknowledgements link to.
    pub async fn mail_settings(&self, tenant: TenantId) -> Result<(ClosedReply, Option<String>)> {
        let r = sqlx::query("SELECT closed_reply, faq_url FROM tenants WHERE id = $1")
            .bind(tenant.0)
            .fetch_one(&self.pool)
            .await?;
        Ok((
            vocab(ClosedReply::parse(&r.text("closed_reply")?))?,
            r.opt_text("faq_url")?,
        ))
    }

    pub async fn set_faq_url(&self, actor: Actor, url: Option<&str>, at: Timestamp) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        sqlx::query("UPDATE tenants SET faq_url = $1 WHERE id = $2")
            .bind(url)
            .bind(actor.tenant_id.0)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            "tenant.faq_url",
            "tenant",
            &data([("faq_url", url.unwrap_or_default().to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An agent's e-mail on a case: recorded on the case and queued, in one
    /// transaction, threaded under the customer's last message.
    pub async fn queue_reply(
        &self,
        actor: Actor,
        case: CaseId,
        r: &ReplyInput,
        at: Timestamp,
    ) -> Result<QueuedMail> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let facts = case_facts(&mut tx, tenant, case).await?;
        let address = sending_address(&mut tx, tenant, case).await?;
        let agent: Option<String> = match actor.user_id {
            Some(u) => {
                sqlx::query_scalar(
                    "SELECT display_name FROM users WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.0)
                .bind(u.0)
                .fetch_optional(&mut *tx)
                .await?
            }
            None => None,
        };
        let (mut subject, mut body) = (r.subject.clone(), r.body.clone());
        if let Some(tid) = r.template_id {
            let t = template_by_id(&mut tx, tenant, tid)
                .await?
                .ok_or_else(|| StoreError::invalid("template_id", "no such template"))?;
            let vars = case_vars(&facts, &address, agent.as_deref());
            if body.trim().is_empty() {
                body = template::render(&t.body, &vars);
            }
            if subject.is_none() && !t.subject.trim().is_empty() {
                subject = Some(template::render(&t.subject, &vars));
            }
        }
        if body.trim().is_empty() {
            return Err(StoreError::invalid("body", "must not be empty"));
        }

        // The thread so far: the customer's last message is the one answered.
        let thread = sqlx::query(
            "SELECT message_id, direction, from_address, subject FROM mail_messages \
             WHERE tenant_id = $1 AND case_id = $2 ORDER BY interaction_id",
        )
        .bind(tenant.0)
        .bind(case.0)
        .fetch_all(&mut *tx)
        .await?;
        let mut references = Vec::new();
        let mut last_in: Option<(String, String, String)> = None;
        for m in &thread {
            let id = m.text("message_id")?;
            if m.text("direction")? == "inbound" {
                last_in = Some((id.clone(), m.text("from_address")?, m.text("subject")?));
            }
            references.push(id);
        }
        // Long threads keep the first message and the latest ones.
        if references.len() > 20 {
            references.drain(1..references.len() - 19);
        }
        let mut to = r.to.clone();
        if to.is_empty() {
            if let Some(from) = last_in
                .as_ref()
                .and_then(|(_, from, _)| EmailAddress::parse(from).ok())
            {
                to.push(from);
            } else if let Some(c) = facts.customer_id {
                let email: Option<String> = sqlx::query_scalar(
                    "SELECT email FROM customer_emails WHERE tenant_id = $1 AND customer_id = $2 ORDER BY email LIMIT 1",
                )
                .bind(tenant.0)
                .bind(c.0)
                .fetch_optional(&mut *tx)
                .await?;
                to.extend(email.and_then(|e| EmailAddress::parse(&e).ok()));
            }
        }
        if to.is_empty() {
            return Err(StoreError::invalid(
                "to",
                "the case's customer has no e-mail address; give one",
            ));
        }
        let subject = subject.unwrap_or_else(|| match &last_in {
            Some((_, _, s)) if !s.trim().is_empty() => {
                let lower = s.to_lowercase();
                if lower.starts_with("re:") || s.starts_with("回复") {
                    s.clone()
                } else {
                    format!("Re: {s}")
                }
            }
            _ => facts.subject.clone(),
        });

        let record = InteractionInput::email_out(body.clone(), r.attachments.clone(), at);
        let interaction = insert_interaction(&mut tx, actor, case, &record, at).await?;
        let from = address.settings.address.clone();
        let mail = OutgoingMail {
            message_id: message_id("reply", interaction, at, &from),
            date: at,
            from,
            from_name: address.settings.display_name.clone(),
            to: to.clone(),
            cc: r.cc.clone(),
            subject: domain::mail::tag_subject(subject.trim(), facts.number),
            in_reply_to: last_in.map(|(id, _, _)| id),
            references,
            auto_reply: false,
            html: Some(template::text_to_html(&body)),
            text: body,
            attachments: r.attachments.clone(),
        };
        let outbox_id = enqueue(
            &mut tx,
            Queue {
                tenant,
                case,
                interaction,
                author: actor.user_id,
                kind: "reply",
                mail: &mail,
                bcc: &r.bcc,
                at,
            },
        )
        .await?;
        // Whoever the agent copied may answer on the case too.
        for p in r.cc.iter().chain(&r.bcc).chain(&to) {
            add_participant(&mut tx, tenant, case, p).await?;
        }
        touch(&mut tx, tenant, case, at).await?;
        if let Some(action) = r.then {
            let from = case_status(&mut tx, tenant, case).await?;
            let next = from
                .apply(action)
                .map_err(|e| StoreError::Workflow(e.to_string()))?;
            set_status(&mut tx, actor, case, from, next, at).await?;
        }
        tx.commit().await?;
        Ok(QueuedMail {
            outbox_id,
            interaction_id: interaction,
            message_id: mail.message_id,
            to: to.iter().map(|t| t.to_string()).collect(),
            subject: mail.subject,
        })
    }

    /// Messages due for (another) attempt, of every tenant, oldest first.
    /// A message being sent is due again once its lease ran out: the sender
    /// that took it died.
    pub async fn due_outbound(&self, now: Timestamp, limit: i64) -> Result<Vec<OutboundMail>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, mail_from, recipients, raw, attempts FROM mail_outbox \
             WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(ms(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboundMail {
                    id: r.int("id")?,
                    tenant_id: TenantId(r.int("tenant_id")?),
                    mail_from: r.text("mail_from")?,
                    recipients: serde_json::from_str(&r.text("recipients")?).unwrap_or_default(),
                    raw: r.bytes("raw")?,
                    attempts: r.int("attempts")?,
                })
            })
            .collect()
    }

    /// Takes a message for sending until `lease_until`; false when another
    /// sender took it first.
    pub async fn claim_outbound(
        &self,
        m: &OutboundMail,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool> {
        let _w = self.writer().await;
        let n = sqlx::query(
            "UPDATE mail_outbox SET status = 'sending', next_attempt_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND status IN ('queued', 'sending') AND next_attempt_at <= $4",
        )
        .bind(ms(lease_until))
        .bind(m.tenant_id.0)
        .bind(m.id)
        .bind(ms(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn outbound_sent(&self, m: &OutboundMail, at: Timestamp) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1, last_error = NULL \
             WHERE tenant_id = $2 AND id = $3",
        )
        .bind(ms(at))
        .bind(m.tenant_id.0)
        .bind(m.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn outbound_retry(
        &self,
        m: &OutboundMail,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "UPDATE mail_outbox SET status = 'queued', attempts = attempts + 1, last_error = $1, next_attempt_at = $2 \
             WHERE tenant_id = $3 AND id = $4",
        )
        .bind(error)
        .bind(ms(next_attempt_at))
        .bind(m.tenant_id.0)
        .bind(m.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives a message up: the case shows why, and the agent who wrote it
    /// (else the case's assignee) is notified.
    pub async fn outbound_failed(
        &self,
        m: &OutboundMail,
        error: &str,
        at: Timestamp,
    ) -> Result<()> {
        let tenant = m.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let row = sqlx::query(
            "SELECT o.case_id, o.author_id, o.subject, o.recipients, c.assignee_id FROM mail_outbox o \
             LEFT JOIN cases c ON c.id = o.case_id WHERE o.tenant_id = $1 AND o.id = $2",
        )
        .bind(tenant.0)
        .bind(m.id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE mail_outbox SET status = 'failed', attempts = attempts + 1, last_error = $1 WHERE tenant_id = $2 AND id = $3",
        )
        .bind(error)
        .bind(tenant.0)
        .bind(m.id)
        .execute(&mut *tx)
        .await?;
        let recipients: Vec<String> =
            serde_json::from_str(&row.text("recipients")?).unwrap_or_default();
        let body = format!(
            "E-mail not delivered / 邮件发送失败: \"{}\" to {}: {error}",
            row.text("subject")?,
            recipients.join(", ")
        );
        if let Some(case) = row.opt_int("case_id")?.map(CaseId) {
            let actor = mail_actor(tenant);
            let note = InteractionInput::note(body.clone(), at);
            insert_interaction(&mut tx, actor, case, &note, at).await?;
            case_event(
                &mut tx,
                actor,
                case,
                "email_failed",
                &data([
                    ("outbox_id", m.id.to_string()),
                    ("error", error.to_string()),
                ]),
                at,
            )
            .await?;
            let to = row.opt_int("author_id")?.or(row.opt_int("assignee_id")?);
            if let Some(user) = to {
                sqlx::query(
                    "INSERT INTO notifications (tenant_id, user_id, case_id, kind, body, created_at) VALUES ($1, $2, $3, 'email_failed', $4, $5)",
                )
                .bind(tenant.0)
                .bind(user)
                .bind(case.0)
                .bind(&body)
                .bind(ms(at))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The newest outgoing messages, newest first; of one case when given.
    pub async fn outbox(
        &self,
        tenant: TenantId,
        case: Option<CaseId>,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT id, case_id, kind, message_id, recipients, subject, status, attempts, next_attempt_at, last_error, \
             created_at, sent_at FROM mail_outbox WHERE tenant_id = $1 AND ($2 IS NULL OR case_id = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant.0)
        .bind(case.map(|c| c.0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEntry {
                    id: r.int("id")?,
                    case_id: r.opt_int("case_id")?.map(CaseId),
                    kind: r.text("kind")?,
                    message_id: r.text("message_id")?,
                    recipients: serde_json::from_str(&r.text("recipients")?).unwrap_or_default(),
                    subject: r.text("subject")?,
                    status: r.text("status")?,
                    attempts: r.int("attempts")?,
                    next_attempt_at: r.time("next_attempt_at")?,
                    last_error: r.opt_text("last_error")?,
                    created_at: r.time("created_at")?,
                    sent_at: r.opt_time("sent_at")?,
                })
            })
            .collect()
    }

    /// The raw text of an outgoing message, as the relay receives it.
    pub async fn outbound_source(&self, tenant: TenantId, id: i64) -> Result<Vec<u8>> {
        let raw: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT raw FROM mail_outbox WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        raw.ok_or(StoreError::NotFound)
    }

    /// A user's notices that are out by `now` (an escalation may be held
    /// until business hours). A user's notices, newest first, `limit` at a time: older than the
    /// notice `before` when given.
    pub async fn notifications(
        &self,
        tenant: TenantId,
        user: UserId,
        now: Timestamp,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, case_id, article_id, kind, body, created_at, deliver_at, read_at FROM notifications \
             WHERE tenant_id = $1 AND user_id = $2 AND (deliver_at IS NULL OR deliver_at <= $3) AND id < $4 \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(ms(now))
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: r.int("id")?,
                    case_id: r.opt_int("case_id")?.map(CaseId),
                    article_id: r.opt_int("article_id")?.map(ArticleId),
                    kind: r.text("kind")?,
                    body: r.text("body")?,
                    created_at: r.opt_time("deliver_at")?.unwrap_or(r.time("created_at")?),
                    read: r.opt_int("read_at")?.is_some(),
                })
            })
            .collect()
    }

    pub async fn mark_notifications_read(
        &self,
        tenant: TenantId,
        user: UserId,
        at: Timestamp,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND read_at IS NULL \
             AND (deliver_at IS NULL OR deliver_at <= $1)",
        )
        .bind(ms(at))
        .bind(tenant.0)
        .bind(user.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
