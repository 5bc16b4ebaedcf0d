//! Writing a message's large bytes ahead of the transaction that spools it.
//!
//! On SQLite one transaction writes at a time. Were each batch's sources and
//! files appended and flushed inside it, every batch would wait for that
//! disk flush with the write lock held. Written ahead by each session as its
//! message arrives, they go to disk in parallel, and the transaction only
//! refers to them. Bytes whose transaction never commits are left
//! unreferenced in their segment (see `segments`).

use crate::cases::content_hash;
use crate::db::Store;
use crate::mail::SpoolInput;
use crate::segments::{Aside, Segments};
use crate::{Result, StoreError};
use domain::ids::TenantId;
use domain::mail::InboundMail;
use domain::model::AttachmentInput;
use std::collections::HashMap;

/// Where one message's bytes were written ahead: its source, and each file
/// its tenant did not store yet, by content hash.
#[derive(Debug, Default, Clone)]
pub(crate) struct Ahead {
    pub raw: Option<Aside>,
    pub files: Vec<(String, Aside)>,
}

/// A received message (parsed when it can be filed at once) ready to spool,
/// its bytes on disk already on a SQLite file. On PostgreSQL the bytes go in
/// the rows and nothing is written ahead.
pub struct StagedMail {
    pub input: SpoolInput,
    pub mail: Option<InboundMail>,
    pub(crate) ahead: Ahead,
}

impl StagedMail {
    /// Nothing written ahead: the transaction writes the bytes itself.
    pub fn new(input: SpoolInput, mail: Option<InboundMail>) -> Self {
        StagedMail {
            input,
            mail,
            ahead: Ahead::default(),
        }
    }
}

impl Store {
    /// Writes and flushes a message's source and its files not stored yet,
    /// without the write lock, for [`Store::spool_and_file`].
    pub async fn stage_mail(
        &self,
        input: SpoolInput,
        mail: Option<InboundMail>,
    ) -> Result<StagedMail> {
        let Some(lite) = &self.lite else {
            return Ok(StagedMail::new(input, mail));
        };
        let files = mail.as_ref().map_or(&[][..], |m| &m.attachments[..]);
        let new = self.new_files(input.tenant_id, files).await?;
        let segments = lite.segments();
        blocking(move || {
            let files = mail.as_ref().map_or(&[][..], |m| &m.attachments[..]);
            let ahead = append_and_sync(&segments, Some(&input.raw), files, new)?;
            Ok(StagedMail { input, mail, ahead })
        })
        .await
    }

    /// Writes ahead the files of a tenant it does not store yet; where they went.
    pub(crate) async fn write_files_ahead(
        &self,
        tenant: TenantId,
        files: &[AttachmentInput],
    ) -> Result<Vec<(String, Aside)>> {
        let Some(lite) = &self.lite else {
            return Ok(Vec::new());
        };
        let new = self.new_files(tenant, files).await?;
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let segments = lite.segments();
        let files = files.to_vec();
        blocking(move || Ok(append_and_sync(&segments, None, &files, new)?.files)).await
    }

    /// The files (with their content hashes) the tenant does not store yet,
    /// each once.
    async fn new_files(
        &self,
        tenant: TenantId,
        files: &[AttachmentInput],
    ) -> Result<Vec<(usize, String)>> {
        let mut new: Vec<(usize, String)> = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let hash = content_hash(&f.data);
            if new.iter().any(|(_, h)| *h == hash) {
                continue;
            }
            let stored: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM blobs WHERE tenant_id = $1 AND sha256 = $2")
                    .bind(tenant.0)
                    .bind(&hash)
                    .fetch_optional(&self.pool)
                    .await?;
            if stored.is_none() {
                new.push((i, hash));
            }
        }
        Ok(new)
    }
}

/// Appends `raw` and the `new` of `files`, then makes them durable, with
/// the lock held only while appending: sessions' flushes are shared.
fn append_and_sync(
    segments: &Segments,
    raw: Option<&[u8]>,
    files: &[AttachmentInput],
    new: Vec<(usize, String)>,
) -> Result<Ahead> {
    let mut ahead = Ahead::default();
    let appends = {
        let mut w = segments.lock();
        if let Some(raw) = raw {
            ahead.raw = Some(w.append(raw)?);
        }
        for (i, hash) in new {
            let at = w.append_file(&hash, &files[i].data)?;
            ahead.files.push((hash, at));
        }
        w.appends
    };
    segments.sync(appends)?;
    Ok(ahead)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Internal(format!("writing ahead: {e}")))?
}

/// The files written ahead for a transaction, by content hash.
pub(crate) fn by_hash<'a>(
    files: impl Iterator<Item = &'a (String, Aside)>,
) -> HashMap<String, Aside> {
    files.cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Filed, MailAddressInput};
    use domain::case::{CaseType, Direction};
    use domain::contact::EmailAddress;
    use domain::ids::CaseId;
    use domain::model::Actor;
    use domain::model::Attachment;
    use jiff::Timestamp;
    use sqlx::Row;
    use std::sync::Arc;

    fn message(n: u32, photo: &[u8]) -> (SpoolInput, InboundMail, Vec<u8>) {
        let raw = format!(
            "From: a{n}@example.cn\r\nMessage-ID: <m{n}@example.cn>\r\nSubject: photo {n}\r\n\r\nsee the photo {n}\r\n"
        )
        .into_bytes();
        let mail = InboundMail {
            message_id: Some(format!("m{n}@example.cn")),
            refs: Vec::new(),
            from: EmailAddress::parse(&format!("a{n}@example.cn")).ok(),
            from_name: None,
            cc: Vec::new(),
            subject: format!("photo {n}"),
            text: format!("see the photo {n}"),
            attachments: vec![AttachmentInput {
                filename: "photo.jpg".into(),
                content_type: "image/jpeg".into(),
                data: photo.to_vec(),
            }],
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

    /// Sources and files go to the segment files on SQLite (in the rows on
    /// PostgreSQL), are read back byte for byte, after a restart too, and a
    /// file sent twice is written once.
    #[tokio::test]
    async fn bytes_written_ahead_read_back_intact() {
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
            let mut staged = Vec::new();
            let mut raws = Vec::new();
            for n in 0..3 {
                let (mut input, mail, raw) = message(n, &photo);
                (input.tenant_id, input.address_id) = (tenant.id, address.id);
                // The third is only spooled: the filing worker reads its source.
                let mail = (n < 2).then_some(mail);
                staged.push(store.stage_mail(input, mail).await.unwrap());
                raws.push(raw);
            }
            let written = store.spool_and_file(staged.into(), now).await.unwrap();
            assert!(
                matches!(written[0].1, Some(Ok(Filed::NewCase(_)))),
                "{backend}: {written:?}"
            );
            let case = written[1].1.as_ref().unwrap().as_ref().unwrap().case_id();
            let sha = inbound_file(&store, tenant.id, case.unwrap()).await.sha256;
            assert_eq!(store.blob_count(tenant.id).await.unwrap(), 1, "{backend}");

            let aside = rows_aside(&store).await;
            match backend {
                "sqlite" => {
                    assert_eq!(aside, 4, "three sources and one file");
                    let dir = store.lite.as_ref().unwrap().blobs().to_path_buf();
                    let on_disk: u64 = std::fs::read_dir(&dir)
                        .unwrap()
                        .map(|e| e.unwrap().metadata().unwrap().len())
                        .sum();
                    let sources: usize = raws.iter().map(Vec::len).sum();
                    assert_eq!(on_disk as usize, sources + photo.len(), "the photo once");
                }
                _ => assert_eq!(aside, 0, "{backend}: every byte in the rows"),
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

            // Written after the restart it goes after what is there; not
            // written ahead, the transaction writes it itself.
            let (mut input, _, raw) = message(9, b"");
            (input.tenant_id, input.address_id) = (tenant.id, address.id);
            let s = StagedMail::new(input, None);
            store.spool_and_file(vec![s].into(), now).await.unwrap();
            let pending = store.pending_mail(10).await.unwrap();
            assert_eq!(pending.len(), 2, "{backend}");
            assert_eq!(pending[0].raw, raws[2], "{backend}");
            assert_eq!(pending[1].raw, raw, "{backend}");

            // The filing worker's files are written ahead too.
            let (_, mut mail, _) = message(2, b"");
            mail.attachments[0].data = b"a scanned invoice".to_vec();
            let batch: Arc<[_]> = pending
                .into_iter()
                .take(1)
                .map(|m| (m, mail.clone()))
                .collect();
            let filed = store.file_mail(batch, now).await.unwrap();
            let case = filed[0].as_ref().unwrap().case_id().unwrap();
            let scan = inbound_file(&store, tenant.id, case).await;
            let (_, data) = store.attachment(tenant.id, &scan.sha256).await.unwrap();
            assert_eq!(data, b"a scanned invoice", "{backend}");
            let aside = rows_aside(&store).await;
            assert_eq!(aside, if backend == "sqlite" { 6 } else { 0 });
        }
    }
}
