//! The e-mail channel's storage: receiving addresses, the durable spool of
//! accepted messages, and filing a message into a case.
//!
//! The spool is the one system-wide queue: its worker reads pending rows of
//! every tenant, and each row carries the tenant it was addressed to.

use crate::cases::{
    case_status, insert_case, insert_interaction, insert_interaction_with, insert_link, set_status,
    touch,
};
use crate::customers::insert_customer;
use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{audit, data};
use crate::exec::{Exec, query, savepoint};
use crate::lite::now;
use crate::segments::Aside;
use crate::{Result, StoreError};
use domain::case::{
    CaseNumber, CaseStatus, CaseType, Channel, Direction, InteractionKind, Priority,
};
use domain::contact::EmailAddress;
use domain::ids::*;
use domain::mail::{Candidate, ClosedReply, InboundMail, Noise, Thread, form_fields, thread};
use domain::model::*;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A receiving address of a tenant.
#[derive(Debug, Clone, Serialize)]
pub struct MailAddress {
    pub id: i64,
    pub tenant_id: TenantId,
    #[serde(flatten)]
    pub settings: MailAddressInput,
}

/// What mail to an address becomes.
#[derive(Debug, Clone, Serialize)]
pub struct MailAddressInput {
    pub address: EmailAddress,
    /// The name acknowledgements are signed with.
    pub display_name: String,
    pub case_type: CaseType,
    pub category_id: Option<CategoryId>,
    pub team_id: Option<TeamId>,
    pub region: Option<String>,
    /// The reply time promised in the acknowledgement, in hours.
    pub reply_hours: i64,
    pub vip_reply_hours: i64,
    /// `zh-CN` or `en`: the language of acknowledgements from this address.
    pub language: String,
}

/// A message accepted from the wire, to be written before the sender is told so.
#[derive(Debug, Clone)]
pub struct SpoolInput {
    pub tenant_id: TenantId,
    pub address_id: i64,
    /// `smtp` or `imap:<mailbox>`.
    pub source: String,
    pub envelope_from: String,
    pub raw: Vec<u8>,
    pub received_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct SpooledMail {
    pub id: i64,
    pub tenant_id: TenantId,
    pub address_id: i64,
    pub envelope_from: String,
    pub received_at: Timestamp,
    pub raw: Vec<u8>,
}

/// What became of a spooled message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    NewCase(CaseId),
    Continued(CaseId),
    Reopened(CaseId),
    /// A new case linked to the one the message pointed at.
    Related(CaseId),
    /// Seen before (the same Message-ID): nothing new written.
    Duplicate(Option<CaseId>),
    /// A bounce of our own mail, noted on its case.
    Bounce(Option<CaseId>),
    /// An auto-reply, bulk mail or a mail storm: kept, never a case.
    Ignored,
    /// Another worker filed it first.
    AlreadyFiled,
}

impl Filed {
    pub fn case_id(self) -> Option<CaseId> {
        match self {
            Filed::NewCase(c) | Filed::Continued(c) | Filed::Reopened(c) | Filed::Related(c) => {
                Some(c)
            }
            Filed::Duplicate(c) | Filed::Bounce(c) => c,
            Filed::Ignored | Filed::AlreadyFiled => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Filed::NewCase(_) => "new_case",
            Filed::Continued(_) => "continued",
            Filed::Reopened(_) => "reopened",
            Filed::Related(_) => "related",
            Filed::Duplicate(_) => "duplicate",
            Filed::Bounce(_) => "bounce",
            Filed::Ignored => "ignored",
            Filed::AlreadyFiled => "already_filed",
        }
    }

    /// The message was written into a case as a customer's contact.
    pub fn is_filed(self) -> bool {
        matches!(
            self,
            Filed::NewCase(_) | Filed::Continued(_) | Filed::Reopened(_) | Filed::Related(_)
        )
    }
}

/// One row of the mail log: what arrived and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct MailLogEntry {
    pub id: i64,
    pub address: String,
    pub source: String,
    pub envelope_from: String,
    pub received_at: Timestamp,
    pub size: i64,
    /// `pending`, `filed`, `ignored` or `failed`.
    pub status: String,
    pub outcome: Option<String>,
    pub case_id: Option<CaseId>,
}

/// Filing attempts before a message is set aside as `failed`.
pub const FILING_ATTEMPTS: i64 = 5;

/// How many messages one sender may open cases with per hour before the
/// rest are kept but not filed: a loop between two robots stops here.
pub const SENDER_HOURLY_LIMIT: i64 = 30;

pub(crate) const ADDRESS_COLS: &str = "id, tenant_id, address, display_name, case_type, category_id, team_id, region, reply_hours, vip_reply_hours, language";

pub(crate) fn address_row(r: &impl RowExt) -> Result<MailAddress> {
    Ok(MailAddress {
        id: r.int("id")?,
        tenant_id: TenantId(r.int("tenant_id")?),
        settings: MailAddressInput {
            address: vocab(EmailAddress::parse(&r.text("address")?))?,
            display_name: r.text("display_name")?,
            case_type: vocab(CaseType::parse(&r.text("case_type")?))?,
            category_id: r.opt_int("category_id")?.map(CategoryId),
            team_id: r.opt_int("team_id")?.map(TeamId),
            region: r.opt_text("region")?,
            reply_hours: r.int("reply_hours")?,
            vip_reply_hours: r.int("vip_reply_hours")?,
            language: r.text("language")?,
        },
    })
}

impl Store {
    pub async fn create_mail_address(
        &self,
        actor: Actor,
        m: &MailAddressInput,
        at: Timestamp,
    ) -> Result<MailAddress> {
        let (_w, mut tx) = self.write_tx().await?;
        crate::cases::check_offered(&mut tx, actor.tenant_id, m.category_id, m.team_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mail_addresses (tenant_id, address, display_name, case_type, category_id, team_id, region, \
             reply_hours, vip_reply_hours, language, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(m.address.as_str())
        .bind(&m.display_name)
        .bind(m.case_type.as_str())
        .bind(m.category_id.map(|c| c.0))
        .bind(m.team_id.map(|t| t.0))
        .bind(m.region.as_deref())
        .bind(m.reply_hours)
        .bind(m.vip_reply_hours)
        .bind(&m.language)
        .bind(ms(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "this address already receives mail"))?;
        audit(
            &mut tx,
            actor,
            "mail_address.create",
            &format!("mail_address:{id}"),
            &data([("address", m.address.to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(MailAddress {
            id,
            tenant_id: actor.tenant_id,
            settings: m.clone(),
        })
    }

    pub async fn mail_addresses(&self, tenant: TenantId) -> Result<Vec<MailAddress>> {
        let rows = sqlx::query(&format!(
            "SELECT {ADDRESS_COLS} FROM mail_addresses WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(address_row).collect()
    }

    /// Which tenant receives mail at this address, across all tenants: the
    /// SMTP listener asks before it accepts a recipient.
    pub async fn receiving_address(&self, address: &EmailAddress) -> Result<Option<MailAddress>> {
        let row = sqlx::query(&format!(
            "SELECT {ADDRESS_COLS} FROM mail_addresses WHERE address = $1"
        ))
        .bind(address.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(address_row).transpose()
    }

    /// What a customer's reply to a closed case does, for this tenant.
    pub async fn set_closed_reply(
        &self,
        actor: Actor,
        v: ClosedReply,
        at: Timestamp,
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        sqlx::query("UPDATE tenants SET closed_reply = $1 WHERE id = $2")
            .bind(v.as_str())
            .bind(actor.tenant_id.0)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            "tenant.closed_reply",
            "tenant",
            &data([("closed_reply", v.to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes accepted messages in one transaction: when this returns, every
    /// one of them survives a crash. Several sessions' messages share one
    /// commit (and one disk flush) when they arrive together.
    pub async fn spool_mail(&self, batch: &[SpoolInput]) -> Result<Vec<i64>> {
        let (_w, mut tx) = self.write_tx().await?;
        let mut ids = Vec::with_capacity(batch.len());
        for m in batch {
            ids.push(insert_spooled(&mut tx, m, None).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Spools messages and files those already parsed, in one transaction:
    /// one disk flush makes the batch durable and filed. A message that
    /// cannot be filed is rolled back to its savepoint and stays `pending`
    /// for the filing worker; it is spooled all the same.
    pub async fn spool_and_file(
        &self,
        batch: Arc<[(SpoolInput, Option<InboundMail>)]>,
        at: Timestamp,
    ) -> Result<Vec<(i64, Option<Result<Filed>>)>> {
        let _w = self.writer().await;
        if let Some(lite) = &self.lite {
            return lite
                .transaction(move |l| now(spool_and_file_on(l, &batch, at)))
                .await;
        }
        let mut tx = self.begin_write().await?;
        self.bulk_planning(&mut tx).await?;
        let out = spool_and_file_on(&mut *tx, &batch, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The oldest messages not yet filed, of every tenant.
    pub async fn pending_mail(&self, limit: i64) -> Result<Vec<SpooledMail>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, address_id, envelope_from, received_at, size, raw, raw_segment, raw_offset \
             FROM mail_inbound WHERE status = 'pending' ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(SpooledMail {
                id: r.int("id")?,
                tenant_id: TenantId(r.int("tenant_id")?),
                address_id: r.int("address_id")?,
                envelope_from: r.text("envelope_from")?,
                received_at: r.time("received_at")?,
                raw: self
                    .stored_bytes(r, "raw", "raw_segment", "raw_offset", None)
                    .await?,
            });
        }
        Ok(out)
    }

    /// Records that filing a message failed. After [`FILING_ATTEMPTS`]
    /// failures it is set aside as `failed` (it stays in the spool and the
    /// mail log), so one bad message never keeps the worker busy for ever.
    pub async fn mail_filing_failed(
        &self,
        tenant: TenantId,
        spool_id: i64,
        reason: &str,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "UPDATE mail_inbound SET attempts = attempts + 1, outcome = $1, \
             status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE status END \
             WHERE tenant_id = $3 AND id = $4 AND status = 'pending'",
        )
        .bind(reason)
        .bind(FILING_ATTEMPTS)
        .bind(tenant.0)
        .bind(spool_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest received messages, newest first.
    pub async fn mail_log(&self, tenant: TenantId, limit: i64) -> Result<Vec<MailLogEntry>> {
        let rows = sqlx::query(
            "SELECT m.id, a.address, m.source, m.envelope_from, m.received_at, m.size, m.status, m.outcome, m.case_id \
             FROM mail_inbound m JOIN mail_addresses a ON a.id = m.address_id \
             WHERE m.tenant_id = $1 ORDER BY m.id DESC LIMIT $2",
        )
        .bind(tenant.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MailLogEntry {
                    id: r.int("id")?,
                    address: r.text("address")?,
                    source: r.text("source")?,
                    envelope_from: r.text("envelope_from")?,
                    received_at: r.time("received_at")?,
                    size: r.int("size")?,
                    status: r.text("status")?,
                    outcome: r.opt_text("outcome")?,
                    case_id: r.opt_int("case_id")?.map(CaseId),
                })
            })
            .collect()
    }

    /// The case a message (sent or received) belongs to, by its Message-ID.
    pub async fn case_of_message(
        &self,
        tenant: TenantId,
        message_id: &str,
    ) -> Result<Option<CaseId>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT case_id FROM mail_messages WHERE tenant_id = $1 AND message_id = $2",
        )
        .bind(tenant.0)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(CaseId))
    }

    /// Files spooled messages: each into a new or an existing case, or aside
    /// as noise. One transaction for the batch (one disk flush), a savepoint
    /// per message so that one that fails leaves the others filed. Each is
    /// claimed first, so that two workers (or two servers) never file the
    /// same message twice. Results come in the order of the batch.
    pub async fn file_mail(
        &self,
        batch: Arc<[(SpooledMail, InboundMail)]>,
        at: Timestamp,
    ) -> Result<Vec<Result<Filed>>> {
        let _w = self.writer().await;
        if let Some(lite) = &self.lite {
            return lite.transaction(move |l| now(file_on(l, &batch, at))).await;
        }
        let mut tx = self.begin_write().await?;
        self.bulk_planning(&mut tx).await?;
        let out = file_on(&mut *tx, &batch, at).await?;
        tx.commit().await?;
        Ok(out)
    }
}

async fn spool_and_file_on<E: Exec>(
    e: &mut E,
    batch: &[(SpoolInput, Option<InboundMail>)],
    at: Timestamp,
) -> Result<Vec<(i64, Option<Result<Filed>>)>> {
    // Sources and new files first: the disk flushes them while the
    // statements run.
    let mut raws = Vec::with_capacity(batch.len());
    for (m, mail) in batch {
        let raw = e.put_aside(&m.raw, None)?;
        if let Some(mail) = mail {
            put_files_aside(e, m.tenant_id, &mail.attachments, raw).await?;
        }
        raws.push(raw);
    }
    e.flush_aside()?;
    let mut out = Vec::with_capacity(batch.len());
    for ((m, mail), raw) in batch.iter().zip(raws) {
        let id = insert_spooled(e, m, raw).await?;
        let Some(mail) = mail else {
            out.push((id, None));
            continue;
        };
        let spooled = SpooledMail {
            id,
            tenant_id: m.tenant_id,
            address_id: m.address_id,
            envelope_from: m.envelope_from.clone(),
            received_at: m.received_at,
            // Filing reads the parsed message, never the raw bytes again.
            raw: Vec::new(),
        };
        let filed = savepoint(e, async |e| file_one(e, &spooled, mail, at).await).await?;
        out.push((id, Some(filed)));
    }
    Ok(out)
}

async fn file_on<E: Exec>(
    e: &mut E,
    batch: &[(SpooledMail, InboundMail)],
    at: Timestamp,
) -> Result<Vec<Result<Filed>>> {
    for (spooled, mail) in batch {
        put_files_aside(e, spooled.tenant_id, &mail.attachments, None).await?;
    }
    e.flush_aside()?;
    let mut out = Vec::with_capacity(batch.len());
    for (spooled, mail) in batch {
        out.push(savepoint(e, async |e| file_one(e, spooled, mail, at).await).await?);
    }
    Ok(out)
}

/// Puts aside a tenant's files it does not store yet (see [`Exec::put_aside`]);
/// filing then refers to them. A file its message brought base64-encoded is
/// not written again: it is referred to where it lies in the message's
/// source, when that was put aside at `source`.
async fn put_files_aside<E: Exec>(
    e: &mut E,
    tenant: TenantId,
    files: &[AttachmentInput],
    source: Option<Aside>,
) -> Result<()> {
    if !e.puts_aside() {
        return Ok(());
    }
    for f in files {
        let stored = query("SELECT 1 AS stored FROM blobs WHERE tenant_id = $1 AND sha256 = $2")
            .bind(tenant.0)
            .bind(f.sha256())
            .fetch_optional(e)
            .await?;
        if stored.is_some() {
            continue;
        }
        match (source, f.in_source()) {
            (Some(source), Some(span)) => e.lies_aside(f.sha256(), source.within(span)),
            _ => {
                e.put_aside(f.data(), Some(f.sha256()))?;
            }
        }
    }
    Ok(())
}

/// Writes a message to the spool; `aside`: where its source was put aside
/// (else it goes in the row).
pub(crate) async fn insert_spooled<E: Exec>(
    tx: &mut E,
    m: &SpoolInput,
    aside: Option<Aside>,
) -> Result<i64> {
    let raw: &[u8] = if aside.is_some() { &[] } else { &m.raw };
    query(
        "INSERT INTO mail_inbound (tenant_id, address_id, source, envelope_from, received_at, size, raw, \
         raw_segment, raw_offset, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') RETURNING id",
    )
    .bind(m.tenant_id.0)
    .bind(m.address_id)
    .bind(&m.source)
    .bind(&m.envelope_from)
    .bind(ms(m.received_at))
    .bind(m.raw.len() as i64)
    .bind(raw)
    .bind(aside.map(|a| a.segment))
    .bind(aside.map(|a| a.offset))
    .fetch_one(tx)
    .await?
    .int("id")
}

async fn file_one<E: Exec>(
    tx: &mut E,
    spooled: &SpooledMail,
    mail: &InboundMail,
    at: Timestamp,
) -> Result<Filed> {
    let tenant = spooled.tenant_id;
    let actor = mail_actor(tenant);
    let claimed = query(
        "UPDATE mail_inbound SET status = 'filing' WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(tenant.0)
    .bind(spooled.id)
    .execute(tx)
    .await?;
    if claimed == 0 {
        return Ok(Filed::AlreadyFiled);
    }
    let filed = file_in(tx, actor, spooled, mail, at).await?;
    let status = if filed.is_filed() { "filed" } else { "ignored" };
    let outcome = match (filed, mail.noise) {
        (Filed::Ignored, Some(noise)) => noise.to_string(),
        (Filed::Ignored, None) => "rate_limited".to_string(),
        (other, _) => other.name().to_string(),
    };
    query(
        "UPDATE mail_inbound SET status = $1, outcome = $2, case_id = $3, filed_at = $4 WHERE tenant_id = $5 AND id = $6",
    )
    .bind(status)
    .bind(outcome)
    .bind(filed.case_id().map(|c| c.0))
    .bind(ms(at))
    .bind(tenant.0)
    .bind(spooled.id)
    .execute(tx)
    .await?;
    Ok(filed)
}

async fn file_in<E: Exec>(
    tx: &mut E,
    actor: Actor,
    spooled: &SpooledMail,
    mail: &InboundMail,
    at: Timestamp,
) -> Result<Filed> {
    let tenant = actor.tenant_id;
    let message_id = mail
        .message_id
        .clone()
        .unwrap_or_else(|| format!("spool-{}@carecenter.invalid", spooled.id));
    let seen = query("SELECT case_id FROM mail_messages WHERE tenant_id = $1 AND message_id = $2")
        .bind(tenant.0)
        .bind(&message_id)
        .fetch_optional(tx)
        .await?;
    if let Some(row) = seen {
        return Ok(Filed::Duplicate(Some(CaseId(row.int("case_id")?))));
    }
    let referenced = referenced_case(tx, tenant, &mail.refs).await?;
    match mail.noise {
        Some(Noise::Bounce) => {
            if let Some(case) = referenced {
                let note = InteractionInput::note(
                    format!("Delivery failed / 退信: {}\n\n{}", mail.subject, mail.text),
                    at,
                );
                insert_interaction(tx, actor, case, &note, at).await?;
            }
            return Ok(Filed::Bounce(referenced));
        }
        Some(_) => return Ok(Filed::Ignored),
        None => {}
    }
    let recent = query(
        "SELECT COUNT(*) AS n FROM mail_inbound WHERE tenant_id = $1 AND envelope_from = $2 AND received_at > $3 AND status = 'filed'",
    )
    .bind(tenant.0)
    .bind(&spooled.envelope_from)
    .bind(ms(at) - 3_600_000)
    .fetch_one(tx)
    .await?
    .int("n")?;
    if !spooled.envelope_from.is_empty() && recent >= SENDER_HOURLY_LIMIT {
        return Ok(Filed::Ignored);
    }

    let address = query(format!(
        "SELECT {ADDRESS_COLS} FROM mail_addresses WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.0)
    .bind(spooled.address_id)
    .fetch_one(tx)
    .await?;
    let receiving = address_row(&address)?;
    let address = &receiving.settings;
    let form = form_fields(&mail.text);
    let customer = match &mail.from {
        Some(from) => Some(match_customer(tx, tenant, from, mail, &form, address, at).await?),
        None => None,
    };

    // The case the message points at: by its headers, else by the subject tag.
    let candidate_case = match referenced {
        Some(c) => Some(c),
        None => match domain::mail::case_tag(&mail.subject) {
            Some(n) => case_by_number(tx, tenant, n).await?,
            None => None,
        },
    };
    let candidate = match candidate_case {
        Some(case) => {
            let status = case_status(tx, tenant, case).await?;
            let sender_known = match &mail.from {
                Some(from) => sender_on_case(tx, tenant, case, customer, from).await?,
                None => false,
            };
            Some(Candidate {
                case_id: case,
                status,
                sender_known,
            })
        }
        None => None,
    };
    let settings = query("SELECT timezone, closed_reply FROM tenants WHERE id = $1")
        .bind(tenant.0)
        .fetch_one(tx)
        .await?;
    let decision = thread(
        candidate,
        vocab(ClosedReply::parse(&settings.text("closed_reply")?))?,
    );

    let interaction = InteractionInput {
        kind: InteractionKind::Email,
        direction: Direction::Inbound,
        started_at: spooled.received_at,
        ended_at: None,
        body: mail.text.clone(),
        attachments: Vec::new(),
        script_version_id: None,
    };
    let mut acknowledge = false;
    let (filed, case, interaction_id) = match decision {
        Thread::Continue(case) | Thread::Reopen(case) => {
            let status = case_status(tx, tenant, case).await?;
            let iid = insert_interaction_with(tx, actor, case, &interaction, &mail.attachments, at)
                .await?;
            touch(tx, tenant, case, at).await?;
            let reopen =
                matches!(decision, Thread::Reopen(_)) || status == CaseStatus::PendingCustomer;
            if reopen {
                set_status(tx, actor, case, status, CaseStatus::Open, at).await?;
            }
            let filed = if matches!(decision, Thread::Reopen(_)) {
                Filed::Reopened(case)
            } else {
                Filed::Continued(case)
            };
            (filed, case, iid)
        }
        Thread::New | Thread::Stranger(_) | Thread::FollowUp(_) => {
            let mut custom = BTreeMap::new();
            for (k, v) in [
                ("province", &form.province),
                ("order_no", &form.order_no),
                ("account_no", &form.account_no),
            ] {
                if let Some(v) = v {
                    custom.insert(k.to_string(), v.clone());
                }
            }
            if let (Some(r), false) = (&address.region, custom.contains_key("province")) {
                custom.insert("province".into(), r.clone());
            }
            let subject = if mail.subject.trim().is_empty() {
                "(no subject / 无主题)".to_string()
            } else {
                mail.subject.chars().take(200).collect()
            };
            let input = CaseInput {
                case_type: if matches!(decision, Thread::FollowUp(_)) {
                    CaseType::FollowUp
                } else {
                    address.case_type
                },
                channel: Channel::Email,
                priority: Priority::Normal,
                subject,
                description: mail.text.chars().take(4000).collect(),
                customer_id: customer,
                category_id: address.category_id,
                assignee_id: None,
                team_id: address.team_id,
                custom,
            };
            let timezone = settings.text("timezone")?;
            let first = (&interaction, mail.attachments.as_slice());
            let (case, iid) = insert_case(
                tx,
                actor,
                &timezone,
                &input,
                Some(first),
                Some(receiving.id),
                at,
            )
            .await?;
            let filed = match decision {
                Thread::Stranger(other) | Thread::FollowUp(other) => {
                    insert_link(tx, actor, case, other, at).await?;
                    Filed::Related(case)
                }
                _ => Filed::NewCase(case),
            };
            let Some(iid) = iid else {
                return Err(StoreError::invalid("interaction", "was not written"));
            };
            acknowledge = true;
            (filed, case, iid)
        }
    };

    query(
        "INSERT INTO mail_messages (tenant_id, message_id, case_id, interaction_id, direction, from_address, to_addresses, subject) \
         VALUES ($1, $2, $3, $4, 'inbound', $5, $6, $7)",
    )
    .bind(tenant.0)
    .bind(&message_id)
    .bind(case.0)
    .bind(interaction_id.0)
    .bind(mail.from.as_ref().map(|f| f.as_str()).unwrap_or(""))
    .bind(address.address.as_str())
    .bind(&mail.subject)
    .execute(tx)
    .await?;
    // Colleagues in copy may write on the case later.
    for cc in &mail.cc {
        if *cc == address.address {
            continue;
        }
        add_participant(tx, tenant, case, cc).await?;
    }
    // A new case is acknowledged; a message continuing one is not: the
    // customer already knows the case and is waiting for an agent.
    if let (true, Some(from)) = (acknowledge, &mail.from) {
        let ack = crate::outbox::AckTo {
            to: from,
            answering: Some(&message_id),
            language: &address.language,
            case_link: None,
        };
        crate::outbox::queue_ack(tx, tenant, case, &receiving, ack, at).await?;
    }
    Ok(filed)
}

/// Mail filed and sent by the system, not by a user.
pub(crate) fn mail_actor(tenant: TenantId) -> Actor {
    Actor {
        tenant_id: tenant,
        user_id: None,
        channel: Some(Channel::Email),
    }
}

/// Someone besides the customer who may write on the case.
pub(crate) async fn add_participant<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    case: CaseId,
    email: &EmailAddress,
) -> Result<()> {
    query(
        "INSERT INTO case_participants (tenant_id, case_id, email) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.0)
    .bind(case.0)
    .bind(email.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The case of the newest message we know among those a reply refers to.
async fn referenced_case<E: Exec>(
    tx: &mut E,
    tenant: TenantId,
    refs: &[String],
) -> Result<Option<CaseId>> {
    // In-Reply-To comes first: the message actually answered wins over older references.
    for r in refs.iter().take(50) {
        let case =
            query("SELECT case_id FROM mail_messages WHERE tenant_id = $1 AND message_id = $2")
                .bind(tenant.0)
                .bind(r)
                .fetch_optional(tx)
                .await?;
        if let Some(row) = case {
            return Ok(Some(CaseId(row.int("case_id")?)));
        }
    }
    Ok(None)
}

async fn case_by_number<E: Exec>(
    tx: &mut E,
    tenant: TenantId,
    n: CaseNumber,
) -> Result<Option<CaseId>> {
    let row = query("SELECT id FROM cases WHERE tenant_id = $1 AND year = $2 AND seq = $3")
        .bind(tenant.0)
        .bind(i64::from(n.year))
        .bind(n.seq)
        .fetch_optional(tx)
        .await?;
    row.map(|r| r.int("id").map(CaseId)).transpose()
}

/// Whether the sender may write on the case: its customer, or a participant.
async fn sender_on_case<E: Exec>(
    tx: &mut E,
    tenant: TenantId,
    case: CaseId,
    sender_customer: Option<CustomerId>,
    from: &EmailAddress,
) -> Result<bool> {
    let customer = query("SELECT customer_id FROM cases WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(case.0)
        .fetch_one(tx)
        .await?
        .opt_int("customer_id")?;
    if customer.is_some() && customer == sender_customer.map(|c| c.0) {
        return Ok(true);
    }
    let participant = query(
        "SELECT case_id FROM case_participants WHERE tenant_id = $1 AND case_id = $2 AND email = $3",
    )
    .bind(tenant.0)
    .bind(case.0)
    .bind(from.as_str())
    .fetch_optional(tx)
    .await?;
    Ok(participant.is_some())
}

/// The sender's customer record: by e-mail address, else by the account or
/// order number the message names (adding the address to that customer),
/// else a new customer with the sender's display name.
async fn match_customer<E: Exec>(
    tx: &mut E,
    tenant: TenantId,
    from: &EmailAddress,
    mail: &InboundMail,
    form: &domain::mail::FormFields,
    address: &MailAddressInput,
    at: Timestamp,
) -> Result<CustomerId> {
    let by_email = query(
        "SELECT customer_id FROM customer_emails WHERE tenant_id = $1 AND email = $2 ORDER BY customer_id LIMIT 1",
    )
    .bind(tenant.0)
    .bind(from.as_str())
    .fetch_optional(tx)
    .await?;
    if let Some(row) = by_email {
        return Ok(CustomerId(row.int("customer_id")?));
    }
    let mut known: Option<i64> = None;
    if let Some(account) = &form.account_no {
        known = query(
            "SELECT customer_id FROM customer_accounts WHERE tenant_id = $1 AND account_no = $2 ORDER BY customer_id LIMIT 1",
        )
        .bind(tenant.0)
        .bind(account)
        .fetch_optional(tx)
        .await?
        .map(|r| r.int("customer_id"))
        .transpose()?;
    }
    if let (None, Some(order)) = (known, &form.order_no) {
        known = query(
            "SELECT customer_id FROM orders WHERE tenant_id = $1 AND order_no = $2 ORDER BY id LIMIT 1",
        )
        .bind(tenant.0)
        .bind(order)
        .fetch_optional(tx)
        .await?
        .map(|r| r.int("customer_id"))
        .transpose()?;
    }
    if let Some(id) = known {
        query("INSERT INTO customer_emails (tenant_id, customer_id, email) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(tenant.0)
            .bind(id)
            .bind(from.as_str())
            .execute(tx)
            .await?;
        return Ok(CustomerId(id));
    }
    let name = mail
        .from_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect())
        .unwrap_or_else(|| {
            from.as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string()
        });
    let input = CustomerInput {
        kind: None,
        name,
        external_id: None,
        tier: None,
        region: form.province.clone().or_else(|| address.region.clone()),
        branch: None,
        address: None,
        coordinates: None,
        opening_hours: None,
        tags: Vec::new(),
        phones: Vec::new(),
        emails: vec![from.clone()],
        accounts: form.account_no.iter().cloned().collect(),
    };
    Ok(CustomerId(insert_customer(tx, tenant, &input, at).await?))
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::mail::SpoolInput;
    use crate::{Filed, MailAddressInput};
    use domain::case::{CaseType, Direction};
    use domain::contact::EmailAddress;
    use domain::ids::CaseId;
    use domain::ids::TenantId;
    use domain::mail::InboundMail;
    use domain::model::Actor;
    use domain::model::Attachment;
    use domain::model::AttachmentInput;
    use jiff::Timestamp;
    use sqlx::Row;
    use std::sync::Arc;

    /// A message with `photo` attached, base64-encoded in its source.
    fn message(n: u32, photo: &[u8]) -> (SpoolInput, InboundMail, Vec<u8>) {
        use base64::Engine;
        let mut raw = format!(
            "From: a{n}@example.cn\r\nMessage-ID: <m{n}@example.cn>\r\nSubject: photo {n}\r\n\
             Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee the photo {n}\r\n--b\r\n\
             Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        )
        .into_bytes();
        let start = raw.len();
        let text = base64::engine::general_purpose::STANDARD.encode(photo);
        for line in text.as_bytes().chunks(76) {
            raw.extend_from_slice(line);
            raw.extend_from_slice(b"\r\n");
        }
        let span = start..raw.len();
        raw.extend_from_slice(b"--b--\r\n");
        let mail = InboundMail {
            message_id: Some(format!("m{n}@example.cn")),
            refs: Vec::new(),
            from: EmailAddress::parse(&format!("a{n}@example.cn")).ok(),
            from_name: None,
            cc: Vec::new(),
            subject: format!("photo {n}"),
            text: format!("see the photo {n}"),
            attachments: vec![
                AttachmentInput::new("photo.jpg".into(), "image/jpeg".into(), photo.to_vec())
                    .found_in(&raw, span),
            ],
            noise: None,
        };
        let input = SpoolInput {
            tenant_id: TenantId(0),
            address_id: 0,
            source: "smtp".into(),
            envelope_from: format!("a{n}@example.cn"),
            raw: raw.clone(),
            received_at: Timestamp::now(),
        };
        (input, mail, raw)
    }

    /// Sources and files whose bytes are in the segment files.
    async fn rows_aside(store: &Store) -> i64 {
        sqlx::query(
            "SELECT (SELECT COUNT(*) FROM mail_inbound WHERE raw_segment IS NOT NULL) \
             + (SELECT COUNT(*) FROM blobs WHERE data_segment IS NOT NULL) AS n",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
    }

    /// The file of the customer's message on a case.
    async fn inbound_file(store: &Store, tenant: TenantId, case: CaseId) -> Attachment {
        let timeline = store.interactions(tenant, case).await.unwrap();
        let inbound = timeline.iter().find(|i| i.direction == Direction::Inbound);
        inbound.unwrap().attachments[0].clone()
    }

    fn segment_bytes(store: &Store) -> usize {
        let dir = store.lite.as_ref().unwrap().blobs();
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len() as usize)
            .sum()
    }

    /// Sources and files go to the segment files on SQLite (in the rows on
    /// PostgreSQL), are read back byte for byte, after a restart too; a
    /// file is not written again beside the source it came in, and a file
    /// that came otherwise is written once however often it is sent.
    #[tokio::test]
    async fn bytes_put_aside_read_back_intact() {
        for (backend, url) in crate::testing::fresh_database_urls().await {
            let store = Store::connect(&url).await.unwrap();
            let now = Timestamp::now();
            let tenant = store
                .create_tenant("t", "T", "Asia/Shanghai", "CN", now)
                .await
                .unwrap();
            let actor = Actor {
                tenant_id: tenant.id,
                user_id: None,
                channel: None,
            };
            let address = store
                .create_mail_address(
                    actor,
                    &MailAddressInput {
                        address: EmailAddress::parse("service@t.example").unwrap(),
                        display_name: "T".into(),
                        case_type: CaseType::Inquiry,
                        category_id: None,
                        team_id: None,
                        region: None,
                        reply_hours: 24,
                        vip_reply_hours: 4,
                        language: "en".into(),
                    },
                    now,
                )
                .await
                .unwrap();
            let photo: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
            let mut batch = Vec::new();
            let mut raws = Vec::new();
            for n in 0..3 {
                let (mut input, mail, raw) = message(n, &photo);
                (input.tenant_id, input.address_id) = (tenant.id, address.id);
                // The third is only spooled: the filing worker reads its source.
                batch.push((input, (n < 2).then_some(mail)));
                raws.push(raw);
            }
            let written = store.spool_and_file(batch.into(), now).await.unwrap();
            assert!(
                matches!(written[0].1, Some(Ok(Filed::NewCase(_)))),
                "{backend}: {written:?}"
            );
            let case = written[1].1.as_ref().unwrap().as_ref().unwrap().case_id();
            let sha = inbound_file(&store, tenant.id, case.unwrap()).await.sha256;
            assert_eq!(store.blob_count(tenant.id).await.unwrap(), 1, "{backend}");

            let aside = rows_aside(&store).await;
            let in_source =
                sqlx::query("SELECT COUNT(*) AS n FROM blobs WHERE data_base64_len > 0")
                    .fetch_one(&store.pool)
                    .await
                    .unwrap()
                    .get::<i64, _>("n");
            match backend {
                "sqlite" => {
                    assert_eq!(aside, 4, "three sources and one file");
                    assert_eq!(in_source, 1, "the file inside its source");
                    let sources: usize = raws.iter().map(Vec::len).sum();
                    assert_eq!(segment_bytes(&store), sources, "the photo not again");
                }
                _ => assert_eq!(aside + in_source, 0, "{backend}: every byte in the rows"),
            }

            let check = async |store: &Store, when: &str| {
                let (_, data) = store.attachment(tenant.id, &sha).await.unwrap();
                assert!(data == photo, "{backend} {when}: the photo");
                let pending = store.pending_mail(10).await.unwrap();
                assert_eq!(pending.len(), 1, "{backend} {when}");
                assert_eq!(pending[0].raw, raws[2], "{backend} {when}");
            };
            check(&store, "before the restart").await;
            store.close().await;
            let store = Store::connect(&url).await.unwrap();
            check(&store, "after the restart").await;

            // Written after the restart, it goes after what is there.
            let (mut input, _, raw) = message(9, b"");
            (input.tenant_id, input.address_id) = (tenant.id, address.id);
            store
                .spool_and_file(vec![(input, None)].into(), now)
                .await
                .unwrap();
            let pending = store.pending_mail(10).await.unwrap();
            assert_eq!(pending.len(), 2, "{backend}");
            assert_eq!(pending[0].raw, raws[2], "{backend}");
            assert_eq!(pending[1].raw, raw, "{backend}");

            // The filing worker's files go aside too, each once.
            let (_, mut mail, _) = message(2, b"");
            mail.attachments[0] = AttachmentInput::new(
                "photo.jpg".into(),
                "image/jpeg".into(),
                b"a scanned invoice".to_vec(),
            );
            let batch: Arc<[_]> = pending.into_iter().map(|m| (m, mail.clone())).collect();
            let filed = store.file_mail(batch, now).await.unwrap();
            for filed in filed {
                let case = filed.unwrap().case_id().unwrap();
                let scan = inbound_file(&store, tenant.id, case).await;
                let (_, data) = store.attachment(tenant.id, &scan.sha256).await.unwrap();
                assert_eq!(data, b"a scanned invoice", "{backend}");
            }
            let aside = rows_aside(&store).await;
            assert_eq!(aside, if backend == "sqlite" { 6 } else { 0 });
            if backend == "sqlite" {
                let sources: usize = raws.iter().chain([&raw]).map(Vec::len).sum();
                let scan = b"a scanned invoice".len();
                assert_eq!(segment_bytes(&store), sources + scan, "the scan once");
            }
        }
    }
}
