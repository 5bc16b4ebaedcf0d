//! From the wire to the case: the spool writer that makes accepted mail
//! durable (many sessions' messages per commit), the SMTP listener, and the
//! worker that files spooled messages into cases.

use crate::parse::parse;
use crate::smtp::{self, Mailroom, Rcpt, SmtpConfig};
use domain::contact::EmailAddress;
use domain::mail::InboundMail;
use jiff::Timestamp;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{MailAddress, SpoolInput, Store, StoreError};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio_rustls::TlsAcceptor;

/// Limits of the SMTP listener besides the protocol's own.
#[derive(Debug, Clone)]
pub struct ListenerLimits {
    pub max_connections: usize,
    /// Messages one client address may send per minute.
    pub messages_per_minute: u32,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits {
            max_connections: 200,
            messages_per_minute: 600,
        }
    }
}

type SpoolReply = oneshot::Sender<Result<i64, String>>;
/// A message to spool, parsed already when it can be filed at once.
type SpoolItem = (SpoolInput, Option<InboundMail>, SpoolReply);

/// The spool and the filing worker, shared by every listener and poller.
pub struct Intake {
    store: Store,
    spool: mpsc::Sender<SpoolItem>,
    wake: Arc<Notify>,
}

/// Most messages written in one commit, and most bytes.
const SPOOL_BATCH: usize = 256;
const SPOOL_BATCH_BYTES: usize = 32 * 1024 * 1024;

impl Intake {
    /// Starts the spool writer and the filing worker.
    pub fn start(store: Store) -> Arc<Intake> {
        let (tx, rx) = mpsc::channel(4 * SPOOL_BATCH);
        let wake = Arc::new(Notify::new());
        tokio::spawn(spool_writer(store.clone(), rx, wake.clone()));
        tokio::spawn(filing_worker(store.clone(), wake.clone()));
        Arc::new(Intake {
            store,
            spool: tx,
            wake,
        })
    }

    /// Tells the filing worker that something was spooled by other means
    /// (the IMAP poller writes its own transaction).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Writes one message to the spool, and files it in the same commit
    /// when it comes parsed; returns once it is durable.
    pub async fn spool(&self, m: SpoolInput, mail: Option<InboundMail>) -> Result<i64, String> {
        let (tx, rx) = oneshot::channel();
        self.spool
            .send((m, mail, tx))
            .await
            .map_err(|_| "spool writer stopped".to_string())?;
        rx.await.map_err(|_| "spool writer stopped".to_string())?
    }
}

async fn spool_writer(store: Store, mut rx: mpsc::Receiver<SpoolItem>, wake: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut bytes = first.0.raw.len();
        let mut batch = vec![first];
        while batch.len() < SPOOL_BATCH && bytes < SPOOL_BATCH_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    bytes += next.0.raw.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let mut inputs = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for (m, mail, reply) in batch {
            inputs.push((m, mail));
            replies.push(reply);
        }
        let inputs: Arc<[(SpoolInput, Option<InboundMail>)]> = inputs.into();
        let written = match store.spool_and_file(inputs.clone(), Timestamp::now()).await {
            Ok(w) => Ok(w),
            // Filing must never stand between a sender and its 250: spool
            // alone and leave the filing to the worker.
            Err(e) => {
                tracing::warn!(error = %e, "spooling with filing failed; spooling alone");
                let plain: Vec<SpoolInput> = inputs.iter().map(|(m, _)| m.clone()).collect();
                store
                    .spool_mail(&plain)
                    .await
                    .map(|ids| ids.into_iter().map(|id| (id, None)).collect())
            }
        };
        match written {
            Ok(written) => {
                let mut unfiled = false;
                for (reply, (id, filed)) in replies.into_iter().zip(written) {
                    let _ = reply.send(Ok(id));
                    match filed {
                        Some(Ok(f)) => {
                            tracing::info!(spool_id = id, outcome = f.name(), case = ?f.case_id(), "mail filed")
                        }
                        Some(Err(e)) => {
                            tracing::warn!(spool_id = id, error = %e, "mail spooled, filing left to the worker");
                            unfiled = true;
                        }
                        None => unfiled = true,
                    }
                }
                if unfiled {
                    wake.notify_one();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, messages = inputs.len(), "could not spool mail");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Files pending messages, oldest first, until none is left; then waits to
/// be woken (or looks again after a while, for mail spooled by another node).
async fn filing_worker(store: Store, wake: Arc<Notify>) {
    loop {
        let filed = match file_pending(&store, 64).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "mail filing failed; retrying");
                0
            }
        };
        if filed == 0 {
            let _ = tokio::time::timeout(Duration::from_secs(2), wake.notified()).await;
        }
    }
}

/// Files up to `limit` pending messages; returns how many were looked at.
pub async fn file_pending(store: &Store, limit: i64) -> Result<usize, StoreError> {
    let pending = store.pending_mail(limit).await?;
    let batch: Arc<[_]> = pending
        .into_iter()
        .map(|m| {
            let mail = parse(&m.raw, &m.envelope_from);
            (m, mail)
        })
        .collect();
    let results = store.file_mail(batch.clone(), Timestamp::now()).await?;
    for ((m, _), result) in batch.iter().zip(results) {
        match result {
            Ok(filed) => {
                tracing::info!(spool_id = m.id, outcome = filed.name(), case = ?filed.case_id(), "mail filed");
            }
            Err(e) => {
                // Tried again next round, and set aside after a few failures;
                // the other messages go on meanwhile.
                tracing::error!(spool_id = m.id, error = %e, "mail could not be filed");
                store
                    .mail_filing_failed(m.tenant_id, m.id, &e.to_string())
                    .await?;
            }
        }
    }
    Ok(batch.len())
}

/// One client's view of the intake: its address counts against the rate limit.
struct Client {
    intake: Arc<Intake>,
    rates: Arc<Rates>,
    ip: IpAddr,
}

/// Messages per client address in the current minute.
#[derive(Default)]
struct Rates {
    window: Mutex<(Option<Instant>, HashMap<IpAddr, u32>)>,
    per_minute: u32,
}

impl Rates {
    /// Counts `add` messages for `ip` and tells whether it is still under the limit.
    fn count(&self, ip: IpAddr, add: u32) -> bool {
        let Ok(mut w) = self.window.lock() else {
            return true;
        };
        let now = Instant::now();
        if w.0
            .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(60))
        {
            *w = (Some(now), HashMap::new());
        }
        let n = w.1.entry(ip).or_default();
        *n += add;
        *n < self.per_minute
    }
}

impl Mailroom for Client {
    type Recipient = MailAddress;

    async fn recipient(&self, to: &EmailAddress) -> Rcpt<MailAddress> {
        match self.intake.store.receiving_address(to).await {
            Ok(Some(a)) => Rcpt::Accept(a),
            Ok(None) => Rcpt::Unknown,
            Err(e) => {
                tracing::error!(error = %e, "recipient lookup failed");
                Rcpt::TryLater
            }
        }
    }

    /// One spool row per tenant addressed: each tenant files its own copy.
    async fn deliver(
        &self,
        envelope_from: &str,
        to: &[MailAddress],
        raw: Vec<u8>,
    ) -> Result<(), String> {
        self.rates.count(self.ip, 1);
        // Parsed here, in the session's task, so that sessions parse in
        // parallel and the single writer only writes.
        let mail = parse(&raw, envelope_from);
        let mut tenants: Vec<&MailAddress> = Vec::new();
        for a in to {
            if !tenants.iter().any(|t| t.tenant_id == a.tenant_id) {
                tenants.push(a);
            }
        }
        let now = Timestamp::now();
        let last = tenants.len().saturating_sub(1);
        let (mut raw, mut mail) = (Some(raw), Some(mail));
        for (i, a) in tenants.into_iter().enumerate() {
            // Megabytes: copied only for a second tenant, moved into the last.
            let (raw, mail) = if i == last {
                (raw.take(), mail.take())
            } else {
                (raw.clone(), mail.clone())
            };
            self.intake
                .spool(
                    SpoolInput {
                        tenant_id: a.tenant_id,
                        address_id: a.id,
                        source: "smtp".into(),
                        envelope_from: envelope_from.to_lowercase(),
                        raw: raw.unwrap_or_default(),
                        received_at: now,
                    },
                    mail,
                )
                .await?;
        }
        Ok(())
    }

    fn admit(&self) -> bool {
        self.rates.count(self.ip, 0)
    }
}

/// Accepts SMTP connections until the task is dropped.
pub async fn listen(
    listener: TcpListener,
    intake: Arc<Intake>,
    cfg: SmtpConfig,
    limits: ListenerLimits,
    tls: Option<TlsAcceptor>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let rates = Arc::new(Rates {
        window: Mutex::default(),
        per_minute: limits.messages_per_minute,
    });
    let cfg = Arc::new(cfg);
    loop {
        let (mut stream, peer): (_, SocketAddr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "smtp accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // SMTP is a dialogue of short lines: waiting to fill packets only adds latency.
        let _ = stream.set_nodelay(true);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let _ = stream
                    .write_all(b"421 4.7.0 Too many connections, try later\r\n")
                    .await;
            });
            continue;
        };
        let client = Client {
            intake: intake.clone(),
            rates: rates.clone(),
            ip: peer.ip(),
        };
        let (cfg, tls) = (cfg.clone(), tls.clone());
        tokio::spawn(async move {
            if let Err(e) = smtp::serve(stream, &cfg, &client, tls.as_ref()).await {
                tracing::debug!(error = %e, %peer, "smtp session ended");
            }
            drop(permit);
        });
    }
}
