//! Acknowledgements and replies through the outbox to a real relay
//! (aiosmtpd), read back from what the relay received.

use super::Env;
use domain::case::{CaseStatus, Direction, InteractionKind};
use domain::contact::EmailAddress;
use domain::model::{Actor, AttachmentInput, CustomerInput, InteractionInput};
use domain::role::Role;
use jiff::Timestamp;
use mail::ListenerLimits;
use mail::outbox::{SenderConfig, send_due};
use mail::relay::{RelayConfig, Security};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use store::{NewUser, ReplyInput};
use tokio::io::{AsyncBufReadExt, BufReader};

/// aiosmtpd on a free port, writing what it receives to a directory.
struct Relay {
    _child: tokio::process::Child,
    port: u16,
    out: PathBuf,
}

impl Relay {
    async fn start(dir: &Path, extra: &[&str]) -> Relay {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = dir.join(format!("relay-{port}"));
        std::fs::create_dir_all(&out).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relay.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(out.join("stderr.log")).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("relay start")
            .unwrap();
        assert_eq!(ready.as_deref(), Some("READY"), "relay did not start");
        Relay {
            _child: child,
            port,
            out,
        }
    }

    fn config(&self, host: &str, security: Security, auth: bool) -> Arc<SenderConfig> {
        let mut c = SenderConfig::new(RelayConfig {
            host: host.into(),
            port: self.port,
            security,
            username: auth.then(|| "carecenter".to_string()),
            password: auth.then(|| "s3cret".to_string()),
            helo: "carecenter.test".into(),
            timeout: Duration::from_secs(20),
        });
        c.retry_base = Duration::ZERO;
        c.max_attempts = 3;
        Arc::new(c)
    }

    /// The n-th message the relay accepted (from 1): raw text and envelope.
    fn received(&self, n: usize) -> (String, serde_json::Value) {
        let raw = std::fs::read_to_string(self.out.join(format!("{n}.eml")))
            .unwrap_or_else(|e| panic!("relay message {n}: {e}"));
        let envelope = std::fs::read_to_string(self.out.join(format!("{n}.json"))).unwrap();
        (raw, serde_json::from_str(&envelope).unwrap())
    }

    fn count(&self) -> usize {
        std::fs::read_dir(&self.out)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".eml"))
            })
            .count()
    }
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cc-mail-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn agent(env: &Env) -> Actor {
    let user = env
        .store
        .create_user(
            env.actor(),
            &NewUser {
                username: "li.na".into(),
                display_name: "李娜".into(),
                password_hash: "x".into(),
                role: Role::Agent,
                team_id: None,
                department_id: None,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    Actor {
        tenant_id: env.tenant,
        user_id: Some(user.id),
        channel: None,
    }
}

#[tokio::test]
async fn acknowledgement_and_reply_reach_the_customer_threaded() {
    let dir = temp_dir("ack");
    let relay = Relay::start(&dir, &["--auth", "carecenter:s3cret"]).await;
    for (backend, url) in store::testing::fresh_database_urls().await {
        let env = Env::start(&url, ListenerLimits::default(), 1 << 20).await;
        let sender = relay.config("127.0.0.1", Security::None, true);
        let before = relay.count();
        // A VIP customer is promised the shorter reply time.
        env.store
            .create_customer(
                env.actor(),
                &CustomerInput {
                    name: "王芳".into(),
                    tier: Some("vip".into()),
                    emails: vec![EmailAddress::parse("wang.fang@example.cn").unwrap()],
                    ..CustomerInput::default()
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        let first = "From: =?UTF-8?B?546L6Iqz?= <wang.fang@example.cn>\r\nTo: service@auto.example\r\n\
                     Subject: =?UTF-8?B?5Y+R56Wo6Zeu6aKY?=\r\nMessage-ID: <q1@example.cn>\r\n\r\n\
                     发票开错了，请重开。\r\n";
        assert_eq!(
            env.send(
                "wang.fang@example.cn",
                &["service@auto.example"],
                first.as_bytes()
            )
            .await,
            "OK"
        );
        let filed = env.last().await;
        let case_id = filed.case_id.unwrap();
        let case = env.store.case(env.tenant, case_id).await.unwrap();
        let number = case.summary.number.to_string();

        // The acknowledgement was queued with the case, and shows on it.
        let queued = env
            .store
            .outbox(env.tenant, Some(case_id), 10)
            .await
            .unwrap();
        assert_eq!(queued.len(), 1, "{backend}");
        assert_eq!(
            (queued[0].kind.as_str(), queued[0].status.as_str()),
            ("ack", "queued")
        );
        let timeline = env.store.interactions(env.tenant, case_id).await.unwrap();
        assert_eq!(timeline.last().unwrap().direction, Direction::Outbound);

        assert_eq!(send_due(&env.store, &sender, None).await.unwrap(), 1);
        assert_eq!(relay.count(), before + 1, "{backend}");
        let (raw, envelope) = relay.received(before + 1);
        assert_eq!(envelope["to"][0], "wang.fang@example.cn");
        assert_eq!(envelope["from"], "service@auto.example");
        assert_eq!(envelope["auth"], true);
        assert_eq!(header(&raw, "In-Reply-To"), Some("<q1@example.cn>"));
        assert_eq!(header(&raw, "Auto-Submitted"), Some("auto-replied"));
        let ack = mail::parse::parse(raw.as_bytes(), "");
        assert_eq!(ack.subject, format!("已收到您的来信：发票问题 [#{number}]"));
        let promised = (case.summary.created_at + jiff::SignedDuration::from_hours(4))
            .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
        for want in ["王芳，您好", number.as_str(), promised.as_str()] {
            assert!(
                ack.text.contains(want),
                "{backend}: {want:?} in {}",
                ack.text
            );
        }
        assert!(
            ack.attachments.iter().any(|a| a.filename == "message.html"),
            "an HTML part too"
        );
        assert_eq!(
            env.store
                .outbox(env.tenant, Some(case_id), 10)
                .await
                .unwrap()[0]
                .status,
            "sent"
        );

        // An internal note never leaves the building.
        let staff = agent(&env).await;
        env.store
            .add_interaction(
                staff,
                case_id,
                &InteractionInput {
                    kind: InteractionKind::Note,
                    direction: Direction::Internal,
                    started_at: Timestamp::now(),
                    ended_at: None,
                    body: "客户很着急".into(),
                    attachments: Vec::new(),
                    script_version_id: None,
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        assert_eq!(send_due(&env.store, &sender, None).await.unwrap(), 0);

        // The agent's reply: copied and blind-copied, with a file, threaded.
        let queued = env
            .store
            .queue_reply(
                staff,
                case_id,
                &ReplyInput {
                    cc: vec![EmailAddress::parse("boss@example.cn").unwrap()],
                    bcc: vec![EmailAddress::parse("archive@auto.example").unwrap()],
                    body: "您好，发票已重开，请查收附件。".into(),
                    attachments: vec![AttachmentInput::new(
                        "发票.pdf".into(),
                        "application/pdf".into(),
                        b"%PDF-1.4 invoice".to_vec(),
                    )],
                    then: Some(domain::case::CaseAction::WaitForCustomer),
                    ..ReplyInput::default()
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        assert_eq!(send_due(&env.store, &sender, None).await.unwrap(), 1);
        let (raw, envelope) = relay.received(before + 2);
        assert_eq!(
            envelope["to"],
            serde_json::json!([
                "wang.fang@example.cn",
                "boss@example.cn",
                "archive@auto.example"
            ])
        );
        assert!(
            !raw.contains("archive@auto.example"),
            "Bcc stays out of the headers"
        );
        assert_eq!(header(&raw, "In-Reply-To"), Some("<q1@example.cn>"));
        let refs = header(&raw, "References").unwrap();
        assert!(refs.starts_with("<q1@example.cn> <cc.ack."), "{refs}");
        assert_eq!(header(&raw, "Auto-Submitted"), None);
        let reply = mail::parse::parse(raw.as_bytes(), "");
        assert_eq!(reply.subject, format!("Re: 发票问题 [#{number}]"));
        assert!(reply.text.contains("发票已重开"));
        assert!(
            reply
                .attachments
                .iter()
                .any(|a| a.filename == "发票.pdf" && a.data() == b"%PDF-1.4 invoice")
        );
        let case = env.store.case(env.tenant, case_id).await.unwrap();
        assert_eq!(case.summary.status, CaseStatus::PendingCustomer);

        // The customer answers our reply from a client that dropped the
        // subject tag: the headers alone bring it back to the case.
        let answer = format!(
            "From: wang.fang@example.cn\r\nTo: service@auto.example\r\nSubject: Re: invoice\r\n\
             Message-ID: <q2@example.cn>\r\nIn-Reply-To: <{}>\r\n\r\n收到，谢谢。\r\n",
            queued.message_id
        );
        assert_eq!(
            env.send(
                "wang.fang@example.cn",
                &["service@auto.example"],
                answer.as_bytes()
            )
            .await,
            "OK"
        );
        let m = env.last().await;
        assert_eq!(m.outcome.as_deref(), Some("continued"), "{backend}");
        assert_eq!(m.case_id, Some(case_id));
        // Continuing mail is not acknowledged again; the case is back to work.
        assert_eq!(send_due(&env.store, &sender, None).await.unwrap(), 0);
        let case = env.store.case(env.tenant, case_id).await.unwrap();
        assert_eq!(case.summary.status, CaseStatus::Open);
    }
}

#[tokio::test]
async fn refused_mail_is_retried_or_given_up_and_the_agent_told() {
    let dir = temp_dir("refused");
    let relay = Relay::start(&dir, &[]).await;
    for (backend, url) in store::testing::fresh_database_urls().await {
        let env = Env::start(&url, ListenerLimits::default(), 1 << 20).await;
        let sender = relay.config("127.0.0.1", Security::None, false);
        let staff = agent(&env).await;
        let raw = "From: a@example.cn\r\nTo: service@auto.example\r\nSubject: s\r\nMessage-ID: <r1@example.cn>\r\n\r\nx\r\n";
        assert_eq!(
            env.send("a@example.cn", &["service@auto.example"], raw.as_bytes())
                .await,
            "OK"
        );
        let case_id = env.last().await.case_id.unwrap();
        send_due(&env.store, &sender, None).await.unwrap();
        let reply = |to: &str| ReplyInput {
            to: vec![EmailAddress::parse(to).unwrap()],
            body: "hello".into(),
            ..ReplyInput::default()
        };
        let now = Timestamp::now();
        let busy = env
            .store
            .queue_reply(
                staff,
                case_id,
                &reply(&format!("busy-{backend}@example.cn")),
                now,
            )
            .await
            .unwrap();
        let gone = env
            .store
            .queue_reply(staff, case_id, &reply("reject-me@example.cn"), now)
            .await
            .unwrap();
        send_due(&env.store, &sender, None).await.unwrap();
        let state = |id: i64| {
            let store = env.store.clone();
            let tenant = env.tenant;
            async move {
                store
                    .outbox(tenant, Some(case_id), 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|e| e.id == id)
                    .unwrap()
            }
        };
        let b = state(busy.outbox_id).await;
        assert_eq!((b.status.as_str(), b.attempts), ("queued", 1), "{backend}");
        assert!(b.last_error.unwrap().contains("451"));
        let g = state(gone.outbox_id).await;
        assert_eq!((g.status.as_str(), g.attempts), ("failed", 1), "{backend}");
        assert!(g.last_error.as_deref().unwrap().contains("550"));

        // The busy one goes through on the next round.
        send_due(&env.store, &sender, None).await.unwrap();
        let b = state(busy.outbox_id).await;
        assert_eq!((b.status.as_str(), b.attempts), ("sent", 2), "{backend}");

        // The failure is on the case and in the agent's notifications.
        let timeline = env.store.interactions(env.tenant, case_id).await.unwrap();
        assert!(
            timeline.iter().any(|i| i.kind == InteractionKind::Note
                && i.body.contains("reject-me@example.cn")
                && i.body.contains("550")),
            "{backend}"
        );
        let notes = env
            .store
            .notifications(
                env.tenant,
                staff.user_id.unwrap(),
                Timestamp::now(),
                None,
                100,
            )
            .await
            .unwrap();
        assert_eq!(notes.len(), 1, "{backend}");
        assert_eq!(notes[0].case_id, Some(case_id));

        // A relay that does not answer: tried again until the attempts run out.
        let mut down = (*relay.config("127.0.0.1", Security::None, false)).clone();
        down.relay.port = 1;
        let down = Arc::new(down);
        let lost = env
            .store
            .queue_reply(staff, case_id, &reply("c@example.cn"), Timestamp::now())
            .await
            .unwrap();
        for _ in 0..3 {
            send_due(&env.store, &down, None).await.unwrap();
        }
        let l = state(lost.outbox_id).await;
        assert_eq!((l.status.as_str(), l.attempts), ("failed", 3), "{backend}");
    }
}

/// A CA and a certificate for `localhost` it signed, made with openssl.
pub(crate) fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let ok = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null())
            .status()
            .expect("openssl")
            .success();
        assert!(ok, "openssl {args:?}");
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=carecenter test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

#[tokio::test]
async fn starttls_both_ways() {
    let dir = temp_dir("tls");
    let (ca, cert, key) = certificates(&dir);
    let relay = Relay::start(
        &dir,
        &[
            "--tls",
            cert.to_str().unwrap(),
            key.to_str().unwrap(),
            "--auth",
            "carecenter:s3cret",
        ],
    )
    .await;
    let implicit_relay = Relay::start(
        &dir,
        &[
            "--implicit-tls",
            cert.to_str().unwrap(),
            key.to_str().unwrap(),
        ],
    )
    .await;
    let connector = mail::tls::connector(Some(&ca)).unwrap();
    let acceptor = mail::tls::acceptor(&cert, &key).unwrap();
    for (backend, url) in store::testing::fresh_database_urls().await {
        let env = Env::start_with(
            &url,
            ListenerLimits::default(),
            1 << 20,
            Some(acceptor.clone()),
        )
        .await;
        // Inbound: smtplib upgrades with STARTTLS and checks our certificate.
        let script = r#"
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with smtplib.SMTP("localhost", int(sys.argv[1]), timeout=30) as s:
    s.starttls(context=ctx)
    s.sendmail("tls@example.cn", ["service@auto.example"],
               b"From: tls@example.cn\r\nSubject: over TLS\r\nMessage-ID: <tls1@example.cn>\r\n\r\nsecret\r\n")
print("OK")
"#;
        let out = tokio::process::Command::new("python3")
            .args(["-c", script, &env.port.to_string(), ca.to_str().unwrap()])
            .output()
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "OK",
            "{backend}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let m = env.last().await;
        assert_eq!(m.outcome.as_deref(), Some("new_case"), "{backend}");

        // Outbound: the acknowledgement goes to a relay that requires
        // STARTTLS and AUTH, over a certificate checked against our CA.
        let before = relay.count();
        let sender = relay.config("localhost", Security::StartTls, true);
        assert_eq!(
            send_due(&env.store, &sender, Some(&connector))
                .await
                .unwrap(),
            1
        );
        assert_eq!(relay.count(), before + 1, "{backend}");
        let (_, envelope) = relay.received(before + 1);
        assert_eq!(
            (envelope["tls"].clone(), envelope["auth"].clone()),
            (true.into(), true.into())
        );

        // Without our CA the relay's certificate is not trusted: nothing is
        // sent, and the message waits for another attempt.
        let system = mail::tls::connector(None).ok();
        let staff = agent(&env).await;
        let q = env
            .store
            .queue_reply(
                staff,
                m.case_id.unwrap(),
                &ReplyInput {
                    body: "x".into(),
                    ..ReplyInput::default()
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        send_due(&env.store, &sender, system.as_ref())
            .await
            .unwrap();
        let entry = env
            .store
            .outbox(env.tenant, None, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.id == q.outbox_id)
            .unwrap();
        assert_eq!(entry.status, "queued", "{backend}");
        assert_eq!(relay.count(), before + 1);

        // The same message to a relay that speaks TLS from the first byte.
        let implicit = implicit_relay.config("localhost", Security::Tls, false);
        assert_eq!(
            send_due(&env.store, &implicit, Some(&connector))
                .await
                .unwrap(),
            1
        );
        let n = implicit_relay.count();
        let (raw, envelope) = implicit_relay.received(n);
        assert_eq!(envelope["tls"], true, "{backend}");
        assert_eq!(
            header(&raw, "Message-ID"),
            Some(format!("<{}>", q.message_id).as_str())
        );
    }
}

/// Under an SLA policy the acknowledgement promises the first response's due
/// instant; the acknowledgement itself is not the answer, the agent's reply is.
#[tokio::test]
async fn the_acknowledgement_quotes_the_sla_and_the_reply_meets_it() {
    for (backend, url) in store::testing::fresh_database_urls().await {
        let env = Env::start(&url, ListenerLimits::default(), 1 << 20).await;
        let spec: domain::policy::PolicySpec = serde_json::from_value(serde_json::json!({
            "name": "e-mail",
            "conditions": {"channels": ["email"]},
            "first_response": {"minutes": 90, "business": false},
            "resolution": {"minutes": 2880, "business": false}
        }))
        .unwrap();
        env.store
            .create_policy(env.actor(), &spec, Timestamp::now())
            .await
            .unwrap();
        let msg = "From: zhao.lei@example.cn\r\nTo: service@auto.example\r\nSubject: =?UTF-8?B?5Y+R56Wo6Zeu6aKY?=\r\n\
                   Message-ID: <sla1@example.cn>\r\n\r\n什么时候能答复？\r\n";
        let sent = env
            .send(
                "zhao.lei@example.cn",
                &["service@auto.example"],
                msg.as_bytes(),
            )
            .await;
        assert_eq!(sent, "OK", "{backend}");
        let case_id = env.last().await.case_id.unwrap();
        let case = env.store.case(env.tenant, case_id).await.unwrap();
        let due = case.summary.created_at + jiff::SignedDuration::from_mins(90);
        assert_eq!(case.summary.sla_due_at, Some(due), "{backend}");

        let queued = env
            .store
            .outbox(env.tenant, Some(case_id), 10)
            .await
            .unwrap();
        let raw = env
            .store
            .outbound_source(env.tenant, queued[0].id)
            .await
            .unwrap();
        let ack = mail::parse::parse(&raw, "");
        let promised = due
            .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
        assert!(
            ack.text.contains(&promised),
            "{backend}: {promised} in {}",
            ack.text
        );
        let running = |clocks: &[store::ClockInfo]| {
            clocks
                .iter()
                .filter(|c| c.stopped_at.is_none())
                .map(|c| c.kind.to_string())
                .collect::<Vec<_>>()
        };
        let clocks = env.store.clocks(env.tenant, case_id).await.unwrap();
        assert_eq!(
            running(&clocks),
            ["first_response", "resolution"],
            "{backend}"
        );

        let staff = agent(&env).await;
        env.store
            .queue_reply(
                staff,
                case_id,
                &ReplyInput {
                    body: "您好，明天上午答复。".into(),
                    ..ReplyInput::default()
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        let clocks = env.store.clocks(env.tenant, case_id).await.unwrap();
        assert_eq!(running(&clocks), ["resolution"], "{backend}");
        assert_eq!(clocks[0].state, domain::sla::SlaState::Met, "{backend}");
    }
}
