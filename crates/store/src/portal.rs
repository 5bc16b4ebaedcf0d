//! The customer portal's side of the store: cases opened from the "contact
//! us" form, followed and answered by the customer with a private key, and
//! the tenant's logo. Nothing here tells a visitor whether an e-mail, a
//! phone or an account is known: the answers are the same either way.

use crate::cases::{
    case_status, check_offered, insert_case, insert_interaction_with, put_blob, set_status, touch,
};
use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{audit, data};
use crate::exec::{Exec, query};
use crate::mail::{ADDRESS_COLS, address_row};
use crate::outbox::{AckTo, queue_ack};
use crate::{Result, StoreError};
use domain::case::{
    CaseNumber, CaseStatus, CaseType, Channel, Direction, InteractionKind, Priority,
};
use domain::ids::*;
use domain::model::{
    Actor, Attachment, AttachmentInput, CaseInput, CustomerInput, InteractionInput, Tenant,
};
use domain::portal::ContactRequest;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// What the visitor is told once the form is taken.
#[derive(Debug, Clone)]
pub struct PortalReceipt {
    pub case_id: CaseId,
    pub number: CaseNumber,
    /// An acknowledgement e-mail was queued (the visitor gave an address and
    /// the tenant has one to send from).
    pub mailed: bool,
}

/// The private key of a case opened on the portal: only its hash is kept;
/// the link holding it goes to the customer in the acknowledgement.
#[derive(Debug, Clone, Copy)]
pub struct PortalKey<'a> {
    pub hash: &'a str,
    /// The full private link (empty: the server does not know its address).
    pub link: &'a str,
}

/// A case as its customer sees it on the portal: its messages, never the
/// agents' notes or the customer record.
#[derive(Debug, Clone)]
pub struct PortalCase {
    pub id: CaseId,
    pub number: CaseNumber,
    pub subject: String,
    pub status: CaseStatus,
    pub created_at: Timestamp,
    pub messages: Vec<PortalMessage>,
}

#[derive(Debug, Clone)]
pub struct PortalMessage {
    /// Written by the customer (else by the center).
    pub from_customer: bool,
    pub at: Timestamp,
    pub body: String,
    pub files: Vec<Attachment>,
}

/// The kinds of contact a customer sees on their case: what was written.
const VISIBLE_KINDS: &str = "('email', 'web_form')";

fn portal_actor(tenant: TenantId) -> Actor {
    Actor {
        tenant_id: tenant,
        user_id: None,
        channel: Some(Channel::Web),
    }
}

impl Store {
    /// Opens a case from the portal's form: the customer is found by the
    /// e-mail or phone given (else created), the case is routed by its
    /// category and province, a key is kept for the private link, and an
    /// acknowledgement with that link is queued.
    pub async fn portal_contact(
        &self,
        tenant: &Tenant,
        req: &ContactRequest,
        files: &[AttachmentInput],
        language: &str,
        key: PortalKey<'_>,
        at: Timestamp,
    ) -> Result<PortalReceipt> {
        let actor = portal_actor(tenant.id);
        let (_w, mut tx) = self.write_tx().await?;
        check_offered(&mut *tx, tenant.id, req.category_id, None).await?;
        let customer = portal_customer(&mut *tx, tenant.id, req, at).await?;
        let mut custom = BTreeMap::new();
        for (k, v) in [
            ("province", &req.province),
            ("order_no", &req.order_no),
            ("account_no", &req.account_no),
        ] {
            if let Some(v) = v {
                custom.insert(k.to_string(), v.clone());
            }
        }
        let input = CaseInput {
            case_type: CaseType::Inquiry,
            channel: Channel::Web,
            priority: Priority::Normal,
            subject: req.subject(),
            description: req.message.clone(),
            customer_id: Some(customer),
            category_id: req.category_id,
            assignee_id: None,
            team_id: None,
            custom,
        };
        let first = InteractionInput {
            kind: InteractionKind::WebForm,
            direction: Direction::Inbound,
            started_at: at,
            ended_at: None,
            body: req.transcript(language),
            attachments: Vec::new(),
            script_version_id: None,
        };
        let (case, _) = insert_case(
            &mut *tx,
            actor,
            &tenant.timezone,
            &input,
            Some((&first, files)),
            None,
            at,
        )
        .await?;
        query("INSERT INTO portal_keys (key_hash, tenant_id, case_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(key.hash)
            .bind(tenant.id.0)
            .bind(case.0)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        let mut mailed = false;
        if let Some(to) = &req.email {
            // The tenant's address in the visitor's language, else its first.
            let address = query(format!(
                "SELECT {ADDRESS_COLS} FROM mail_addresses WHERE tenant_id = $1 \
                 ORDER BY CASE WHEN language = $2 THEN 0 ELSE 1 END, id LIMIT 1"
            ))
            .bind(tenant.id.0)
            .bind(language)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = address {
                let address = address_row(&row)?;
                let ack = AckTo {
                    to,
                    answering: None,
                    language,
                    case_link: Some(key.link).filter(|l| !l.is_empty()),
                };
                queue_ack(&mut *tx, tenant.id, case, &address, ack, at).await?;
                mailed = true;
            }
        }
        let number = case_number(&mut *tx, tenant.id, case).await?;
        tx.commit().await?;
        Ok(PortalReceipt {
            case_id: case,
            number,
            mailed,
        })
    }

    /// The case a private key opens, as its customer sees it.
    pub async fn portal_case(&self, tenant: TenantId, key_hash: &str) -> Result<PortalCase> {
        let mut conn = self.pool.acquire().await?;
        let case = case_of_key(&mut *conn, tenant, key_hash).await?;
        let r =
            query("SELECT subject, status, created_at FROM cases WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(case.0)
                .fetch_one(&mut *conn)
                .await?;
        let number = case_number(&mut *conn, tenant, case).await?;
        let interactions = self.interactions(tenant, case).await?;
        let messages = interactions
            .into_iter()
            .filter(|i| matches!(i.kind, InteractionKind::Email | InteractionKind::WebForm))
            .map(|i| PortalMessage {
                from_customer: i.direction == Direction::Inbound,
                at: i.started_at,
                body: i.body,
                files: i.attachments,
            })
            .collect();
        Ok(PortalCase {
            id: case,
            number,
            subject: r.text("subject")?,
            status: vocab(CaseStatus::parse(&r.text("status")?))?,
            created_at: r.time("created_at")?,
            messages,
        })
    }

    /// The customer answers on the portal. A resolved case, or one waiting
    /// for them, opens again and goes back to its agent; a closed case
    /// takes no more (a new request is opened instead).
    pub async fn portal_reply(
        &self,
        tenant: TenantId,
        key_hash: &str,
        text: &str,
        files: &[AttachmentInput],
        at: Timestamp,
    ) -> Result<CaseId> {
        let actor = portal_actor(tenant);
        let (_w, mut tx) = self.write_tx().await?;
        let case = case_of_key(&mut *tx, tenant, key_hash).await?;
        let status = case_status(&mut *tx, tenant, case).await?;
        if status == CaseStatus::Closed {
            return Err(StoreError::Workflow(
                "this case is closed; please send a new request".into(),
            ));
        }
        if matches!(status, CaseStatus::Resolved | CaseStatus::PendingCustomer) {
            set_status(&mut *tx, actor, case, status, CaseStatus::Open, at).await?;
        }
        let message = InteractionInput {
            kind: InteractionKind::WebForm,
            direction: Direction::Inbound,
            started_at: at,
            ended_at: None,
            body: text.to_string(),
            attachments: Vec::new(),
            script_version_id: None,
        };
        insert_interaction_with(&mut *tx, actor, case, &message, files, at).await?;
        touch(&mut *tx, tenant, case, at).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// A file of one of the messages the customer sees on their case.
    pub async fn portal_file(
        &self,
        tenant: TenantId,
        key_hash: &str,
        sha256: &str,
    ) -> Result<(Attachment, Vec<u8>)> {
        let mut conn = self.pool.acquire().await?;
        let case = case_of_key(&mut *conn, tenant, key_hash).await?;
        let row = query(format!(
            "SELECT a.sha256, a.filename, a.content_type, a.size, b.data, b.data_segment, b.data_offset, \
             b.data_base64_len \
             FROM attachments a JOIN interactions i ON i.tenant_id = a.tenant_id AND i.id = a.interaction_id \
             JOIN blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.sha256 \
             WHERE a.tenant_id = $1 AND i.case_id = $2 AND a.sha256 = $3 AND i.kind IN {VISIBLE_KINDS} LIMIT 1"
        ))
        .bind(tenant.0)
        .bind(case.0)
        .bind(sha256)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        drop(conn);
        self.stored_file(&row).await
    }

    /// Sets the tenant's logo (PNG, JPEG, GIF or WebP, checked by the web
    /// edge), or takes it away.
    pub async fn set_tenant_logo(
        &self,
        actor: Actor,
        logo: Option<&AttachmentInput>,
        at: Timestamp,
    ) -> Result<()> {
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        if let Some(l) = logo {
            put_blob(&mut *tx, tenant, l).await?;
        }
        query("UPDATE tenants SET logo_sha256 = $1, logo_type = $2 WHERE id = $3")
            .bind(logo.map(|l| l.sha256().to_string()))
            .bind(logo.map(|l| l.content_type.clone()))
            .bind(tenant.0)
            .execute(&mut *tx)
            .await?;
        let d = data([(
            "logo",
            logo.map(|l| l.sha256().to_string())
                .unwrap_or_else(|| "-".into()),
        )]);
        audit(
            &mut tx,
            actor,
            "tenant.logo",
            &format!("tenant:{}", tenant.0),
            &d,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tenant's logo, with its bytes.
    pub async fn tenant_logo(&self, tenant: TenantId) -> Result<(Attachment, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT b.sha256, 'logo' AS filename, t.logo_type AS content_type, b.size, b.data, \
             b.data_segment, b.data_offset, b.data_base64_len \
             FROM tenants t JOIN blobs b ON b.tenant_id = t.id AND b.sha256 = t.logo_sha256 \
             WHERE t.id = $1",
        )
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.stored_file(&row).await
    }
}

/// The customer a form speaks for: the one with this e-mail, else this
/// phone; else a new one. An account or order number the visitor typed is
/// never enough to file the case under someone: anyone can type one. It
/// goes on the case for the agent to check.
async fn portal_customer<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    req: &ContactRequest,
    at: Timestamp,
) -> Result<CustomerId> {
    let lookups = [
        (
            "SELECT customer_id FROM customer_emails WHERE tenant_id = $1 AND email = $2 ORDER BY customer_id LIMIT 1",
            req.email.as_ref().map(|e| e.as_str().to_string()),
        ),
        (
            "SELECT customer_id FROM customer_phones WHERE tenant_id = $1 AND e164 = $2 ORDER BY customer_id LIMIT 1",
            req.phone.as_ref().map(|p| p.to_string()),
        ),
    ];
    for (sql, value) in lookups {
        let Some(value) = value else { continue };
        let found = query(sql)
            .bind(tenant.0)
            .bind(value)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(r) = found {
            return Ok(CustomerId(r.int("customer_id")?));
        }
    }
    let input = CustomerInput {
        kind: None,
        name: req.name.clone(),
        external_id: None,
        tier: None,
        region: req.province.clone(),
        branch: None,
        address: None,
        coordinates: None,
        opening_hours: None,
        tags: Vec::new(),
        phones: req.phone.iter().cloned().collect(),
        emails: req.email.iter().cloned().collect(),
        accounts: Vec::new(),
    };
    Ok(CustomerId(
        crate::customers::insert_customer(conn, tenant, &input, at).await?,
    ))
}

async fn case_of_key<E: Exec>(conn: &mut E, tenant: TenantId, key_hash: &str) -> Result<CaseId> {
    let r = query("SELECT case_id FROM portal_keys WHERE key_hash = $1 AND tenant_id = $2")
        .bind(key_hash)
        .bind(tenant.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(CaseId(r.int("case_id")?))
}

async fn case_number<E: Exec>(conn: &mut E, tenant: TenantId, case: CaseId) -> Result<CaseNumber> {
    let r = query("SELECT year, seq FROM cases WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(case.0)
        .fetch_one(conn)
        .await?;
    Ok(CaseNumber {
        year: i16::try_from(r.int("year")?)
            .map_err(|_| StoreError::Internal("case year".into()))?,
        seq: r.int("seq")?,
    })
}
