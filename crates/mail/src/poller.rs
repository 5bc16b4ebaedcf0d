//! IMAP polling: every enabled mailbox of every tenant is fetched on its own
//! schedule, several at once. A message is spooled (with its UID, in one
//! transaction) before the mailbox is told: flagged, or moved to a folder.

use crate::imap::{ImapError, Session};
use crate::intake::Intake;
use crate::parse::envelope;
use domain::mail::Security;
use jiff::Timestamp;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use store::{ImapStored, Mailbox, MailboxLogin, Store, UidState};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

#[derive(Clone)]
pub struct PollerConfig {
    /// This node's name in the mailbox lease (several nodes may poll).
    pub owner: String,
    /// Trust anchors for `tls` and `starttls` mailboxes.
    pub tls: Option<TlsConnector>,
    /// How often due mailboxes are looked for.
    pub tick: Duration,
    /// The longest wait for one server answer.
    pub timeout: Duration,
    /// Most messages fetched from one mailbox in one poll; the rest wait
    /// for the next, so every mailbox gets its turn.
    pub batch: usize,
}

impl Default for PollerConfig {
    fn default() -> Self {
        PollerConfig {
            owner: format!("node-{}", std::process::id()),
            tls: None,
            tick: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            batch: 200,
        }
    }
}

/// A poll's lease on its mailbox: long enough for a full batch of large
/// messages; a node that died holding it loses it when it runs out.
const LEASE: Duration = Duration::from_secs(15 * 60);

/// Polls due mailboxes until the task is dropped.
pub async fn run(store: Store, intake: Arc<Intake>, cfg: PollerConfig) {
    let cfg = Arc::new(cfg);
    loop {
        let now = Timestamp::now();
        let lease_until = now + LEASE;
        match store.claim_mailboxes(&cfg.owner, now, lease_until).await {
            Ok(due) => {
                for login in due {
                    let (store, intake, cfg) = (store.clone(), intake.clone(), cfg.clone());
                    tokio::spawn(async move {
                        let report = poll_within_lease(&store, &intake, &login, &cfg).await;
                        finish(&store, &login.mailbox, &cfg.owner, report).await;
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "could not look for due mailboxes"),
        }
        tokio::time::sleep(cfg.tick).await;
    }
}

async fn poll_within_lease(
    store: &Store,
    intake: &Intake,
    login: &MailboxLogin,
    cfg: &PollerConfig,
) -> Result<Polled, String> {
    match tokio::time::timeout(
        LEASE - Duration::from_secs(60),
        poll(store, intake, login, cfg),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err("the poll took longer than its lease".to_string()),
    }
}

async fn finish(store: &Store, m: &Mailbox, owner: &str, report: Result<Polled, String>) {
    let (stored, error) = match report {
        Ok(p) => (p.stored, p.skipped),
        Err(e) => (0, Some(e)),
    };
    match &error {
        Some(e) => {
            tracing::warn!(mailbox = m.id, host = %m.settings.host, error = %e, "mailbox poll")
        }
        None if stored > 0 => tracing::info!(mailbox = m.id, stored, "mailbox polled"),
        None => {}
    }
    if let Err(e) = store
        .mailbox_polled(m, owner, Timestamp::now(), stored, error.as_deref())
        .await
    {
        tracing::error!(mailbox = m.id, error = %e, "could not record the poll");
    }
}

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Polled {
    /// Messages spooled by this poll.
    pub stored: i64,
    /// Why some messages were left for the next poll, if any were.
    pub skipped: Option<String>,
}

/// Polls one mailbox once, whatever its lease (tests run two at once).
pub async fn poll(
    store: &Store,
    intake: &Intake,
    login: &MailboxLogin,
    cfg: &PollerConfig,
) -> Result<Polled, String> {
    let m = &login.mailbox.settings;
    let t = cfg.timeout;
    let tcp = within(t, async {
        TcpStream::connect((m.host.as_str(), m.port))
            .await
            .map_err(ImapError::from)
    })
    .await?;
    let _ = tcp.set_nodelay(true);
    let tls = || {
        let name = ServerName::try_from(m.host.clone()).map_err(|e| format!("host name: {e}"))?;
        let connector = cfg
            .tls
            .clone()
            .ok_or("the mailbox needs TLS but no trust anchors are loaded")?;
        Ok::<_, String>((connector, name))
    };
    match m.security {
        Security::None => {
            let s = within(t, Session::start(tcp)).await?;
            session(store, intake, login, cfg, s).await
        }
        Security::Tls => {
            let (connector, name) = tls()?;
            let stream = within(t, async {
                connector.connect(name, tcp).await.map_err(ImapError::from)
            })
            .await?;
            let s = within(t, Session::start(stream)).await?;
            session(store, intake, login, cfg, s).await
        }
        Security::StartTls => {
            let (connector, name) = tls()?;
            let mut s = within(t, Session::start(tcp)).await?;
            within(t, s.capability()).await?;
            if !s.has("STARTTLS") {
                return Err("the server does not offer STARTTLS".into());
            }
            within(t, s.command("STARTTLS")).await?;
            let tag = s.tag;
            let stream = within(t, async {
                connector
                    .connect(name, s.into_inner())
                    .await
                    .map_err(ImapError::from)
            })
            .await?;
            let mut s = Session::resume(stream);
            s.tag = tag;
            session(store, intake, login, cfg, s).await
        }
    }
}

async fn within<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, ImapError>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("imap: the server did not answer in time".to_string()),
    }
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    store: &Store,
    intake: &Intake,
    login: &MailboxLogin,
    cfg: &PollerConfig,
    mut s: Session<S>,
) -> Result<Polled, String> {
    let mailbox = &login.mailbox;
    let m = &mailbox.settings;
    let t = cfg.timeout;
    let max = u64::try_from(m.max_bytes).unwrap_or(0);
    // The size check decides what is fetched; this only guards the reader.
    s.max_literal = usize::try_from(max).unwrap_or(usize::MAX).saturating_mul(2) + (1 << 20);
    within(t, s.capability()).await?;
    within(t, s.login(&m.username, &login.password)).await?;
    let folder = within(t, s.select(&m.folder)).await?;
    let uids = within(t, s.unfiled(folder.keywords)).await?;
    // Two sessions moving one message may both copy it: leave a message
    // another poll stored to that poll, unless it is long dead.
    let orphaned_before = Timestamp::now() - LEASE;
    let known = store
        .mailbox_uids(mailbox, folder.uidvalidity, &uids, orphaned_before)
        .await
        .map_err(|e| e.to_string())?;
    // Stored by an earlier poll that died before it told the mailbox.
    let mut tell: Vec<u32> = known
        .iter()
        .filter(|(_, s)| *s == UidState::Stored)
        .map(|(u, _)| *u)
        .collect();
    let mut flag_only: Vec<u32> = known
        .iter()
        .filter(|(_, s)| *s == UidState::Done)
        .map(|(u, _)| *u)
        .collect();
    let seen: HashSet<u32> = known.iter().map(|(u, _)| *u).collect();
    let new: Vec<u32> = uids
        .iter()
        .copied()
        .filter(|u| !seen.contains(u))
        .take(cfg.batch)
        .collect();
    let mut polled = Polled::default();
    let sizes = if new.is_empty() {
        Vec::new()
    } else {
        within(t, s.sizes(&new)).await?
    };
    for (uid, size) in sizes {
        let too_large = size > max;
        let raw = match within(t, s.fetch(uid, too_large)).await {
            Ok(raw) => raw,
            Err(e) => {
                // One message the server cannot give stays for the next
                // poll; the others go on.
                tracing::warn!(mailbox = mailbox.id, uid, error = %e, "imap fetch failed");
                polled.skipped = Some(format!("UID {uid}: {e}"));
                continue;
            }
        };
        let raw = if too_large {
            stand_in(&raw, size, max, mailbox, uid)
        } else {
            raw
        };
        let (sender, message_id) = envelope(&raw);
        let outcome = store
            .spool_imap(
                mailbox,
                folder.uidvalidity,
                uid,
                message_id.as_deref(),
                &sender,
                &raw,
                Timestamp::now(),
            )
            .await
            .map_err(|e| e.to_string())?;
        match outcome {
            ImapStored::Stored(_) => {
                polled.stored += 1;
                intake.wake();
                if too_large {
                    flag_only.push(uid);
                } else {
                    tell.push(uid);
                }
            }
            ImapStored::Duplicate => tell.push(uid),
            // The poller that stored it tells the mailbox.
            ImapStored::Known => {}
        }
    }
    if !tell.is_empty() {
        match &m.move_to {
            Some(to) => within(t, s.move_to(&tell, to)).await?,
            None => within(t, s.flag(&tell, folder.keywords)).await?,
        }
    }
    // Left in the folder (too large to fetch, or already done but not
    // flagged where the server keeps no keywords): flag so they are not
    // looked at again.
    if !flag_only.is_empty() {
        within(t, s.flag(&flag_only, folder.keywords)).await?;
    }
    tell.extend(&flag_only);
    store
        .mailbox_uids_done(mailbox, folder.uidvalidity, &tell)
        .await
        .map_err(|e| e.to_string())?;
    let _ = within(t, s.logout()).await;
    Ok(polled)
}

/// What is filed for a message too large to fetch: its own header (so the
/// customer, subject and thread are right) over a note where to find it.
fn stand_in(header: &[u8], size: u64, max: u64, mailbox: &Mailbox, uid: u32) -> Vec<u8> {
    let m = &mailbox.settings;
    let mut out = Vec::with_capacity(header.len() + 512);
    let mut skipping = false;
    for line in header.split_inclusive(|b| *b == b'\n') {
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !folded {
            let lower = String::from_utf8_lossy(line).to_ascii_lowercase();
            skipping = lower.starts_with("content-type:")
                || lower.starts_with("content-transfer-encoding:")
                || lower.starts_with("mime-version:");
        }
        if !skipping && line != b"\r\n" && line != b"\n" {
            out.extend_from_slice(line);
        }
    }
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    let mb = |n: u64| {
        if n < 1 << 20 {
            format!("{} KB", n.div_ceil(1024))
        } else {
            format!("{:.1} MB", n as f64 / 1_048_576.0)
        }
    };
    let note = format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         此邮件大小为 {size_mb}，超过邮箱 {user}@{host} 的上限 {max_mb}，未取回；原件留在文件夹 {folder}（UID {uid}），已加标记。\r\n\
         This message is {size_mb}, over the {max_mb} limit of mailbox {user}@{host}. It was not fetched; \
         it stays, flagged, in folder {folder} (UID {uid}).\r\n",
        size_mb = mb(size),
        max_mb = mb(max),
        user = m.username,
        host = m.host,
        folder = m.folder,
    );
    out.extend_from_slice(note.as_bytes());
    out
}
