//! The sender: drains the store's outbox into the relay, with retries and
//! exponential backoff, and gives a message up (shown on its case) when the
//! relay refuses it for good or after too many attempts.

use crate::relay::{self, RelayConfig, SendError};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use store::{OutboundMail, Store, StoreError};
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;

#[derive(Debug, Clone)]
pub struct SenderConfig {
    pub relay: RelayConfig,
    /// The wait after the first failed attempt; it doubles with each one.
    pub retry_base: Duration,
    pub max_retry_delay: Duration,
    /// Attempts before a message is given up.
    pub max_attempts: i64,
    /// Messages handed to the relay at once.
    pub concurrency: usize,
}

impl SenderConfig {
    pub fn new(relay: RelayConfig) -> Self {
        SenderConfig {
            relay,
            retry_base: Duration::from_secs(60),
            max_retry_delay: Duration::from_secs(3600),
            max_attempts: 10,
            concurrency: 4,
        }
    }
}

/// How long to wait after `attempts` failed attempts.
pub fn retry_delay(attempts: i64, base: Duration, max: Duration) -> Duration {
    let factor = 1u32 << attempts.clamp(1, 20).saturating_sub(1);
    base.saturating_mul(factor).min(max)
}

/// How long a sender holds a message before another may take it over.
const LEASE: Duration = Duration::from_secs(300);

/// Starts the sender; it runs for the life of the process.
pub fn start(store: Store, config: SenderConfig, tls: Option<TlsConnector>) {
    tokio::spawn(async move {
        let config = Arc::new(config);
        loop {
            match send_due(&store, &config, tls.as_ref()).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox: could not read due mail"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}

/// Sends what is due now; returns how many messages were tried.
pub async fn send_due(
    store: &Store,
    config: &Arc<SenderConfig>,
    tls: Option<&TlsConnector>,
) -> Result<usize, StoreError> {
    let now = Timestamp::now();
    let due = store.due_outbound(now, 64).await?;
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for m in due.iter().cloned() {
        let lease = now + SignedDuration::try_from(LEASE).unwrap_or(SignedDuration::ZERO);
        if !store.claim_outbound(&m, now, lease).await? {
            continue;
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let (store, config, tls) = (store.clone(), config.clone(), tls.cloned());
        tasks.spawn(async move {
            let result = relay::send(
                &config.relay,
                tls.as_ref(),
                &m.mail_from,
                &m.recipients,
                &m.raw,
            )
            .await;
            if let Err(e) = record(&store, &config, &m, result).await {
                tracing::error!(outbox_id = m.id, error = %e, "outbox: could not record the attempt");
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(due.len())
}

async fn record(
    store: &Store,
    config: &SenderConfig,
    m: &OutboundMail,
    result: Result<(), SendError>,
) -> Result<(), StoreError> {
    let now = Timestamp::now();
    match result {
        Ok(()) => {
            tracing::info!(outbox_id = m.id, "mail sent");
            store.outbound_sent(m, now).await
        }
        Err(SendError::Transient(e)) if m.attempts + 1 < config.max_attempts => {
            let wait = retry_delay(m.attempts + 1, config.retry_base, config.max_retry_delay);
            tracing::warn!(outbox_id = m.id, error = %e, retry_in = ?wait, "mail not sent; will retry");
            let next = now + SignedDuration::try_from(wait).unwrap_or(SignedDuration::ZERO);
            store.outbound_retry(m, &e, next).await
        }
        Err(e) => {
            tracing::warn!(outbox_id = m.id, error = %e, "mail given up");
            store.outbound_failed(m, &e.to_string(), now).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        let got: Vec<u64> = (1..=9)
            .map(|a| retry_delay(a, s(60), s(3600)).as_secs())
            .collect();
        assert_eq!(got, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
