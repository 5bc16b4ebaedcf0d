//! IMAP mailboxes the server polls, and the UIDs it took from them.
//!
//! A message's UID row is written in the transaction that spools the
//! message, under the key (mailbox, UIDVALIDITY, UID): however many pollers
//! or nodes fetch the same message at once, one insert wins and the others
//! learn the message is already stored.

use crate::SpoolInput;
use crate::db::{RowExt, Store, ms};
use crate::events::{audit, data};
use crate::mail::insert_spooled;
use crate::sql::Sql;
use crate::{Result, StoreError};
use domain::ids::TenantId;
use domain::mail::Security;
use domain::model::Actor;
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

/// A mailbox as the administrator sets it up.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxInput {
    /// The receiving address its mail counts as sent to.
    pub address_id: i64,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// Left as it was when `None` on an update.
    #[serde(skip)]
    pub password: Option<String>,
    pub folder: String,
    /// The folder stored messages are moved to; `None` flags them where they are.
    pub move_to: Option<String>,
    pub poll_seconds: i64,
    /// Larger messages are not fetched: a stand-in with their headers is
    /// filed instead, and they stay in the mailbox.
    pub max_bytes: i64,
    pub enabled: bool,
}

/// A mailbox and how its polling went (the password is never shown).
#[derive(Debug, Clone, Serialize)]
pub struct Mailbox {
    pub id: i64,
    pub tenant_id: TenantId,
    #[serde(flatten)]
    pub settings: MailboxInput,
    pub last_poll_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Messages stored from it so far.
    pub fetched: i64,
}

/// A mailbox taken for one poll, with what logging in needs.
#[derive(Debug, Clone)]
pub struct MailboxLogin {
    pub mailbox: Mailbox,
    pub password: String,
}

/// What became of a fetched message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStored {
    /// Spooled now, with this spool id.
    Stored(i64),
    /// Another poller stored this UID first.
    Known,
    /// The same message was stored under an earlier UIDVALIDITY.
    Duplicate,
}

/// A UID's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UidState {
    /// Spooled by a poll that may still be telling the mailbox.
    Storing,
    /// Spooled by a poll that died before telling the mailbox.
    Stored,
    /// Flagged or moved (or a duplicate): nothing left to do.
    Done,
}

const MAILBOX_COLS: &str = "id, tenant_id, address_id, host, port, security, username, password, folder, move_to, \
     poll_seconds, max_bytes, enabled, last_poll_at, last_error, fetched";

fn mailbox_row(r: &AnyRow) -> Result<MailboxLogin> {
    let security = r.text("security")?;
    Ok(MailboxLogin {
        mailbox: Mailbox {
            id: r.int("id")?,
            tenant_id: TenantId(r.int("tenant_id")?),
            settings: MailboxInput {
                address_id: r.int("address_id")?,
                host: r.text("host")?,
                port: u16::try_from(r.int("port")?).unwrap_or(0),
                // Only parsed values are written; the safest if not.
                security: Security::parse(&security).unwrap_or(Security::Tls),
                username: r.text("username")?,
                password: None,
                folder: r.text("folder")?,
                move_to: r.opt_text("move_to")?,
                poll_seconds: r.int("poll_seconds")?,
                max_bytes: r.int("max_bytes")?,
                enabled: r.int("enabled")? != 0,
            },
            last_poll_at: r.opt_time("last_poll_at")?,
            last_error: r.opt_text("last_error")?,
            fetched: r.int("fetched")?,
        },
        password: r.text("password")?,
    })
}

/// The key a message keeps across a change of UIDVALIDITY.
fn message_key(message_id: Option<&str>, raw: &[u8]) -> String {
    match message_id {
        Some(id) if !id.is_empty() => format!("id:{id}"),
        _ => format!("sha256:{:x}", Sha256::digest(raw)),
    }
}

impl Store {
    pub async fn mailboxes(&self, tenant: TenantId) -> Result<Vec<Mailbox>> {
        let rows = sqlx::query(&format!(
            "SELECT {MAILBOX_COLS} FROM mailboxes WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| mailbox_row(r).map(|m| m.mailbox))
            .collect()
    }

    pub async fn mailbox(&self, tenant: TenantId, id: i64) -> Result<Mailbox> {
        let row = sqlx::query(&format!(
            "SELECT {MAILBOX_COLS} FROM mailboxes WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(mailbox_row(&row)?.mailbox)
    }

    async fn check_address(&self, tenant: TenantId, address_id: i64) -> Result<()> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM mail_addresses WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(address_id)
                .fetch_optional(&self.pool)
                .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::invalid(
                "address_id",
                "is not a receiving address of this tenant",
            )),
        }
    }

    pub async fn create_mailbox(
        &self,
        actor: Actor,
        m: &MailboxInput,
        at: Timestamp,
    ) -> Result<Mailbox> {
        let Some(password) = &m.password else {
            return Err(StoreError::invalid("password", "is required"));
        };
        self.check_address(actor.tenant_id, m.address_id).await?;
        let (_w, mut tx) = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mailboxes (tenant_id, address_id, host, port, security, username, password, folder, move_to, \
             poll_seconds, max_bytes, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(actor.tenant_id.0)
        .bind(m.address_id)
        .bind(&m.host)
        .bind(i64::from(m.port))
        .bind(m.security.as_str())
        .bind(&m.username)
        .bind(password)
        .bind(&m.folder)
        .bind(m.move_to.as_deref())
        .bind(m.poll_seconds)
        .bind(m.max_bytes)
        .bind(i64::from(m.enabled))
        .bind(ms(at))
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "mailbox.create",
            &format!("mailbox:{id}"),
            &data([("host", m.host.clone()), ("username", m.username.clone())]),
            at,
        )
        .await?;
        tx.commit().await?;
        drop(_w);
        self.mailbox(actor.tenant_id, id).await
    }

    /// Changes a mailbox's settings; the password only when one is given.
    pub async fn update_mailbox(
        &self,
        actor: Actor,
        id: i64,
        m: &MailboxInput,
        at: Timestamp,
    ) -> Result<Mailbox> {
        self.check_address(actor.tenant_id, m.address_id).await?;
        let (_w, mut tx) = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE mailboxes SET address_id = $1, host = $2, port = $3, security = $4, username = $5, \
             password = COALESCE($6, password), folder = $7, move_to = $8, poll_seconds = $9, max_bytes = $10, \
             enabled = $11, last_error = NULL WHERE tenant_id = $12 AND id = $13",
        )
        .bind(m.address_id)
        .bind(&m.host)
        .bind(i64::from(m.port))
        .bind(m.security.as_str())
        .bind(&m.username)
        .bind(m.password.as_deref())
        .bind(&m.folder)
        .bind(m.move_to.as_deref())
        .bind(m.poll_seconds)
        .bind(m.max_bytes)
        .bind(i64::from(m.enabled))
        .bind(actor.tenant_id.0)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        audit(
            &mut tx,
            actor,
            "mailbox.update",
            &format!("mailbox:{id}"),
            &data([("host", m.host.clone()), ("enabled", m.enabled.to_string())]),
            at,
        )
        .await?;
        tx.commit().await?;
        drop(_w);
        self.mailbox(actor.tenant_id, id).await
    }

    /// Takes the enabled mailboxes of every tenant whose next poll is due
    /// and that no other poller holds, each until `lease_until`.
    pub async fn claim_mailboxes(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<MailboxLogin>> {
        let rows = sqlx::query(&format!(
            "SELECT {MAILBOX_COLS} FROM mailboxes WHERE enabled = 1 AND lease_until < $1 \
             AND (last_poll_at IS NULL OR last_poll_at + poll_seconds * 1000 <= $1) ORDER BY id"
        ))
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for row in &rows {
            let m = mailbox_row(row)?;
            let _w = self.writer().await;
            let n = sqlx::query(
                "UPDATE mailboxes SET lease_owner = $1, lease_until = $2 \
                 WHERE tenant_id = $3 AND id = $4 AND lease_until < $5",
            )
            .bind(owner)
            .bind(ms(lease_until))
            .bind(m.mailbox.tenant_id.0)
            .bind(m.mailbox.id)
            .bind(ms(now))
            .execute(&self.pool)
            .await?
            .rows_affected();
            if n == 1 {
                claimed.push(m);
            }
        }
        Ok(claimed)
    }

    /// Ends a poll: frees the mailbox and records how it went.
    pub async fn mailbox_polled(
        &self,
        m: &Mailbox,
        owner: &str,
        at: Timestamp,
        fetched: i64,
        error: Option<&str>,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "UPDATE mailboxes SET lease_owner = NULL, lease_until = 0, last_poll_at = $1, last_error = $2, \
             fetched = fetched + $3 WHERE tenant_id = $4 AND id = $5 AND lease_owner = $6",
        )
        .bind(ms(at))
        .bind(error)
        .bind(fetched)
        .bind(m.tenant_id.0)
        .bind(m.id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The states of those of `uids` the store knows, under `uidvalidity`.
    /// A UID spooled before `orphaned_before` and still not done was left
    /// by a poll that died.
    pub async fn mailbox_uids(
        &self,
        m: &Mailbox,
        uidvalidity: u32,
        uids: &[u32],
        orphaned_before: Timestamp,
    ) -> Result<Vec<(u32, UidState)>> {
        let mut known = Vec::new();
        for chunk in uids.chunks(500) {
            let list: Vec<i64> = chunk.iter().map(|u| i64::from(*u)).collect();
            let mut q = Sql::new("SELECT uid, state, at FROM mailbox_messages WHERE tenant_id = ");
            q.int(m.tenant_id.0)
                .push(" AND mailbox_id = ")
                .int(m.id)
                .push(" AND uidvalidity = ")
                .int(i64::from(uidvalidity))
                .push(" AND uid IN ")
                .int_list(&list);
            for r in q.fetch_all_pool(&self.pool).await? {
                let uid = u32::try_from(r.int("uid")?).unwrap_or(0);
                let state = match r.text("state")?.as_str() {
                    "stored" if r.time("at")? < orphaned_before => UidState::Stored,
                    "stored" => UidState::Storing,
                    _ => UidState::Done,
                };
                known.push((uid, state));
            }
        }
        Ok(known)
    }

    /// Spools one fetched message and records its UID, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn spool_imap(
        &self,
        m: &Mailbox,
        uidvalidity: u32,
        uid: u32,
        message_id: Option<&str>,
        envelope_from: &str,
        raw: &[u8],
        at: Timestamp,
    ) -> Result<ImapStored> {
        let key = message_key(message_id, raw);
        let (_w, mut tx) = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO mailbox_messages (mailbox_id, uidvalidity, uid, tenant_id, message_key, state, at) \
             VALUES ($1, $2, $3, $4, $5, 'stored', $6) ON CONFLICT DO NOTHING",
        )
        .bind(m.id)
        .bind(i64::from(uidvalidity))
        .bind(i64::from(uid))
        .bind(m.tenant_id.0)
        .bind(&key)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(ImapStored::Known);
        }
        let earlier: Option<i64> = sqlx::query_scalar(
            "SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 AND message_key = $2 AND uidvalidity <> $3 LIMIT 1",
        )
        .bind(m.id)
        .bind(&key)
        .bind(i64::from(uidvalidity))
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = if earlier.is_some() {
            sqlx::query(
                "UPDATE mailbox_messages SET state = 'duplicate' WHERE mailbox_id = $1 AND uidvalidity = $2 AND uid = $3",
            )
            .bind(m.id)
            .bind(i64::from(uidvalidity))
            .bind(i64::from(uid))
            .execute(&mut *tx)
            .await?;
            ImapStored::Duplicate
        } else {
            let spooled = SpoolInput {
                tenant_id: m.tenant_id,
                address_id: m.settings.address_id,
                source: format!("imap:{}", m.id),
                envelope_from: envelope_from.to_string(),
                raw: raw.to_vec(),
                received_at: at,
            };
            let spool_id = insert_spooled(&mut tx, &spooled, None).await?;
            sqlx::query(
                "UPDATE mailbox_messages SET spool_id = $1 WHERE mailbox_id = $2 AND uidvalidity = $3 AND uid = $4",
            )
            .bind(spool_id)
            .bind(m.id)
            .bind(i64::from(uidvalidity))
            .bind(i64::from(uid))
            .execute(&mut *tx)
            .await?;
            ImapStored::Stored(spool_id)
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records that the mailbox was told (flagged or moved) about these UIDs.
    pub async fn mailbox_uids_done(
        &self,
        m: &Mailbox,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<()> {
        let (_w, mut tx) = self.write_tx().await?;
        for chunk in uids.chunks(500) {
            let list: Vec<i64> = chunk.iter().map(|u| i64::from(*u)).collect();
            let mut q = Sql::new(
                "UPDATE mailbox_messages SET state = 'done' WHERE state = 'stored' AND tenant_id = ",
            );
            q.int(m.tenant_id.0)
                .push(" AND mailbox_id = ")
                .int(m.id)
                .push(" AND uidvalidity = ")
                .int(i64::from(uidvalidity))
                .push(" AND uid IN ")
                .int_list(&list);
            q.execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
