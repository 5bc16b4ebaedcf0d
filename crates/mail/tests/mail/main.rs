//! The e-mail channel against real peers: Python's smtplib sends over TCP to
//! the running listener, on SQLite and (when configured) PostgreSQL; the
//! outbox delivers to Python's aiosmtpd.

mod imap;
mod outbox;

use domain::case::{CaseAction, CaseStatus, CaseType, Channel, Direction};
use domain::contact::EmailAddress;
use domain::ids::*;
use domain::mail::ClosedReply;
use domain::model::Actor;
use jiff::Timestamp;
use mail::{Intake, ListenerLimits, SmtpConfig};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use store::{MailAddressInput, MailLogEntry, Store};
use tokio::io::AsyncWriteExt;

struct Env {
    store: Store,
    tenant: TenantId,
    port: u16,
}

impl Env {
    async fn start(url: &str, limits: ListenerLimits, max_bytes: usize) -> Env {
        Env::start_with(url, limits, max_bytes, None).await
    }

    async fn start_with(
        url: &str,
        limits: ListenerLimits,
        max_bytes: usize,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Env {
        let store = Store::connect(url).await.expect("connect");
        let t = store
            .create_tenant("auto", "Auto", "Asia/Shanghai", "CN", Timestamp::now())
            .await
            .unwrap();
        let actor = Actor {
            tenant_id: t.id,
            user_id: None,
            channel: None,
        };
        for (address, case_type) in [
            ("service@auto.example", CaseType::Inquiry),
            ("complaints@auto.example", CaseType::Complaint),
        ] {
            store
                .create_mail_address(
                    actor,
                    &MailAddressInput {
                        address: EmailAddress::parse(address).unwrap(),
                        display_name: "Service".into(),
                        case_type,
                        category_id: None,
                        team_id: None,
                        region: None,
                        reply_hours: 24,
                        vip_reply_hours: 4,
                        language: "zh-CN".into(),
                    },
                    Timestamp::now(),
                )
                .await
                .unwrap();
        }
        let intake = Intake::start(store.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cfg = SmtpConfig {
            max_message_bytes: max_bytes,
            ..SmtpConfig::default()
        };
        tokio::spawn(mail::listen(listener, intake, cfg, limits, tls));
        Env {
            store,
            tenant: t.id,
            port,
        }
    }

    fn actor(&self) -> Actor {
        Actor {
            tenant_id: self.tenant,
            user_id: None,
            channel: None,
        }
    }

    /// Sends one message with smtplib; returns "OK" or "<code> <text>".
    async fn send(&self, from: &str, to: &[&str], raw: &[u8]) -> String {
        let script = r#"
import smtplib, sys
port, sender, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
msg = sys.stdin.buffer.read()
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        refused = s.sendmail(sender, rcpts, msg)
        print("OK" if not refused else "PARTIAL " + repr(refused))
except smtplib.SMTPRecipientsRefused as e:
    code, text = list(e.recipients.values())[0]
    print(code, text.decode())
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode())
"#;
        let mut child = tokio::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(self.port.to_string())
            .arg(from)
            .arg(to.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(raw).await.unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until every spooled message is filed; returns the log, oldest first.
    async fn settled(&self) -> Vec<MailLogEntry> {
        let mut log = Vec::new();
        for _ in 0..600 {
            log = self.store.mail_log(self.tenant, 10_000).await.unwrap();
            if log
                .iter()
                .all(|m| m.status != "pending" && m.status != "filing")
            {
                return log.into_iter().rev().collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let states: Vec<_> = log.iter().map(|m| (m.id, &m.status, &m.outcome)).collect();
        panic!("mail not filed within 30 s: {states:?}");
    }

    async fn last(&self) -> MailLogEntry {
        self.settled().await.pop().expect("a message")
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn with_case(raw: &[u8], number: &str) -> Vec<u8> {
    String::from_utf8_lossy(raw)
        .replace("{CASE1}", number)
        .into_bytes()
}

#[tokio::test]
async fn fixtures_thread_into_the_right_cases() {
    for (backend, url) in store::testing::fresh_database_urls().await {
        let env = Env::start(&url, ListenerLimits::default(), 1 << 20).await;
        let send = |name: &'static str| {
            let env = &env;
            async move {
                env.send(
                    "sender@example.cn",
                    &["service@auto.example"],
                    &fixture(name),
                )
                .await
            }
        };

        // A GB2312 message opens a case for a new customer named from the header.
        assert_eq!(send("01_gb2312_base64.eml").await, "OK", "{backend}");
        let first = env.last().await;
        assert_eq!(first.outcome.as_deref(), Some("new_case"), "{backend}");
        let case1 = first.case_id.unwrap();
        let case = env.store.case(env.tenant, case1).await.unwrap();
        assert_eq!(case.summary.subject, "发票问题");
        assert_eq!(case.summary.channel, Channel::Email);
        assert_eq!(
            case.custom.get("province").map(String::as_str),
            Some("上海")
        );
        assert_eq!(
            case.custom.get("order_no").map(String::as_str),
            Some("SO-77")
        );
        let customer = env
            .store
            .customer(env.tenant, case.summary.customer_id.unwrap())
            .await
            .unwrap();
        assert_eq!(customer.name, "王伟");
        let number = case.summary.number.to_string();

        // Each row: fixture, expected outcome, and which case it lands in.
        enum Lands {
            Case1,
            NewCase,
            Nowhere,
        }
        for (name, outcome, lands) in [
            ("02_gbk_qp_reply.eml", "continued", Lands::Case1),
            (
                "03_gb18030_rfc2231_attachment.eml",
                "new_case",
                Lands::NewCase,
            ),
            ("04_big5_html_only.eml", "new_case", Lands::NewCase),
            ("05_outlook_tag_only.eml", "continued", Lands::Case1),
            ("06_stranger_reply.eml", "related", Lands::NewCase),
            ("07_auto_submitted.eml", "auto_reply", Lands::Nowhere),
            ("08_out_of_office_subject.eml", "auto_reply", Lands::Nowhere),
            ("09_bounce_dsn.eml", "bounce", Lands::Case1),
            ("10_precedence_bulk.eml", "bulk", Lands::Nowhere),
            (
                "11_raw8bit_name_inline_image.eml",
                "new_case",
                Lands::NewCase,
            ),
            ("12_garbage.eml", "new_case", Lands::NewCase),
            ("01_gb2312_base64.eml", "duplicate", Lands::Case1),
        ] {
            let raw = with_case(&fixture(name), &number);
            assert_eq!(
                env.send("sender@example.cn", &["service@auto.example"], &raw)
                    .await,
                "OK",
                "{backend} {name}"
            );
            let m = env.last().await;
            assert_eq!(m.outcome.as_deref(), Some(outcome), "{backend} {name}");
            match lands {
                Lands::Case1 => assert_eq!(m.case_id, Some(case1), "{backend} {name}"),
                Lands::NewCase => {
                    assert!(m.case_id.is_some_and(|c| c != case1), "{backend} {name}")
                }
                Lands::Nowhere => assert_eq!(m.case_id, None, "{backend} {name}"),
            }
            let Some(case_id) = m.case_id else { continue };
            let case = env.store.case(env.tenant, case_id).await.unwrap();
            let timeline = env.store.interactions(env.tenant, case_id).await.unwrap();
            // The customer's message (or the bounce note), not our acknowledgement.
            let last = timeline
                .iter()
                .rev()
                .find(|i| i.direction != Direction::Outbound)
                .unwrap();
            let files: Vec<&str> = last
                .attachments
                .iter()
                .map(|a| a.filename.as_str())
                .collect();
            match name {
                "02_gbk_qp_reply.eml" => {
                    assert!(last.body.contains("增值税专用发票"), "{}", last.body)
                }
                "03_gb18030_rfc2231_attachment.eml" => {
                    assert_eq!(case.summary.subject, "报修单");
                    assert!(last.body.contains("车辆故障") && last.body.contains('𠀀'));
                    assert_eq!(files, ["报修单.pdf"]);
                    let sha = &last.attachments[0].sha256;
                    let (_, pdf) = env.store.attachment(env.tenant, sha).await.unwrap();
                    assert_eq!(pdf, b"%PDF-1.4 fixture\n", "{backend}");
                }
                "04_big5_html_only.eml" => {
                    assert_eq!(case.summary.subject, "查詢保養");
                    assert!(
                        last.body.contains("保養") && !last.body.contains("<b>"),
                        "{}",
                        last.body
                    );
                    assert_eq!(files, ["message.html"]);
                }
                "05_outlook_tag_only.eml" => assert!(last.body.contains("还有一个问题")),
                "06_stranger_reply.eml" => {
                    // Never merged into someone else's case: linked instead.
                    assert!(case.related.iter().any(|r| r.id == case1), "{backend}");
                    assert_ne!(
                        case.summary.customer_id,
                        env.store
                            .case(env.tenant, case1)
                            .await
                            .unwrap()
                            .summary
                            .customer_id
                    );
                }
                "09_bounce_dsn.eml" => {
                    assert!(last.body.contains("Delivery failed"), "{}", last.body)
                }
                "11_raw8bit_name_inline_image.eml" => {
                    assert_eq!(case.summary.subject, "报价单");
                    assert!(files.contains(&"报价单.xlsx"), "{files:?}");
                    assert!(
                        files.contains(&"logo.png") && files.contains(&"logo-copy.png"),
                        "{files:?}"
                    );
                }
                "12_garbage.eml" => assert_eq!(files, ["message.eml"]),
                _ => {}
            }
        }
        // The inline image and its attached copy are one blob.
        let blobs = env.store.blob_count(env.tenant).await.unwrap();
        let log = env.settled().await;
        assert!(log.iter().all(|m| m.status != "failed"), "{backend}");

        // A reply to a closed case reopens it (the default), or opens a follow-up.
        let actor = env.actor();
        for action in [CaseAction::Resolve, CaseAction::Close] {
            env.store
                .transition(actor, case1, action, Timestamp::now())
                .await
                .unwrap();
        }
        let reply = |id: &str| {
            format!(
                "From: wang.wei@example.cn\r\nTo: service@auto.example\r\nSubject: Re: [#{number}]\r\n\
                 Message-ID: <{id}@example.cn>\r\nIn-Reply-To: <first.01@mail.example.cn>\r\n\r\nStill broken.\r\n"
            )
        };
        assert_eq!(
            env.send(
                "wang.wei@example.cn",
                &["service@auto.example"],
                reply("again-1").as_bytes()
            )
            .await,
            "OK"
        );
        assert_eq!(env.last().await.outcome.as_deref(), Some("reopened"));
        assert_eq!(
            env.store
                .case(env.tenant, case1)
                .await
                .unwrap()
                .summary
                .status,
            CaseStatus::Open
        );
        for action in [CaseAction::Resolve, CaseAction::Close] {
            env.store
                .transition(actor, case1, action, Timestamp::now())
                .await
                .unwrap();
        }
        env.store
            .set_closed_reply(actor, ClosedReply::FollowUp, Timestamp::now())
            .await
            .unwrap();
        assert_eq!(
            env.send(
                "wang.wei@example.cn",
                &["service@auto.example"],
                reply("again-2").as_bytes()
            )
            .await,
            "OK"
        );
        let m = env.last().await;
        assert_eq!(m.outcome.as_deref(), Some("related"));
        let follow = env
            .store
            .case(env.tenant, m.case_id.unwrap())
            .await
            .unwrap();
        assert_eq!(follow.summary.case_type, CaseType::FollowUp);
        assert!(follow.related.iter().any(|r| r.id == case1));
        assert_eq!(
            env.store
                .case(env.tenant, case1)
                .await
                .unwrap()
                .summary
                .status,
            CaseStatus::Closed
        );
        assert_eq!(env.store.blob_count(env.tenant).await.unwrap(), blobs);
    }
}

#[tokio::test]
async fn smtp_refuses_what_it_cannot_take_with_the_right_code() {
    for (backend, url) in store::testing::fresh_database_urls().await {
        let limits = ListenerLimits {
            max_connections: 10,
            messages_per_minute: 2,
        };
        let env = Env::start(&url, limits, 4096).await;
        let small = b"From: a@example.cn\r\nSubject: hi\r\n\r\nhello\r\n";
        let big = [&small[..], &vec![b'x'; 8000][..]].concat();
        for (to, raw, want) in [
            (&["nobody@auto.example"][..], &small[..], "550"),
            (&["not an address"][..], &small[..], "501"),
            (&["service@auto.example"][..], &big[..], "552"),
            (&["service@auto.example"][..], &small[..], "OK"),
            (
                &["service@auto.example", "complaints@auto.example"][..],
                &small[..],
                "OK",
            ),
        ] {
            let got = env.send("a@example.cn", to, raw).await;
            assert!(got.starts_with(want), "{backend} {to:?}: {got}");
        }
        // Two messages a minute from one address: the third waits.
        let got = env
            .send("a@example.cn", &["service@auto.example"], small)
            .await;
        assert!(got.starts_with("450"), "{backend}: {got}");
        // Two addresses of one tenant in one message: one copy, one case.
        let log = env.settled().await;
        assert_eq!(log.len(), 2, "{backend}");
        assert!(log.iter().all(|m| m.outcome.as_deref() == Some("new_case")));
    }
}

#[tokio::test]
async fn a_mail_storm_from_one_sender_stops_opening_cases() {
    for (backend, url) in store::testing::fresh_database_urls().await {
        let env = Env::start(&url, ListenerLimits::default(), 1 << 20).await;
        let address = env.store.mail_addresses(env.tenant).await.unwrap()[0].id;
        let limit = store::SENDER_HOURLY_LIMIT as usize;
        let storm: Vec<_> = (0..=limit)
            .map(|i| store::SpoolInput {
                tenant_id: env.tenant,
                address_id: address,
                source: "smtp".into(),
                envelope_from: "robot@example.cn".into(),
                raw: format!("From: robot@example.cn\r\nSubject: loop {i}\r\nMessage-ID: <loop-{i}@example.cn>\r\n\r\nx\r\n")
                    .into_bytes(),
                received_at: Timestamp::now(),
            })
            .collect();
        env.store.spool_mail(&storm).await.unwrap();
        let log = env.settled().await;
        let outcomes: Vec<_> = log
            .iter()
            .map(|m| m.outcome.as_deref().unwrap_or(""))
            .collect();
        assert!(
            outcomes[..limit].iter().all(|o| *o == "new_case"),
            "{backend} {outcomes:?}"
        );
        assert_eq!(outcomes[limit], "rate_limited", "{backend}");
        assert_eq!(log[limit].case_id, None, "{backend}");
    }
}
