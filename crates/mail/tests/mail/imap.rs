//! IMAP polling against a real Dovecot started on loopback: plain and TLS,
//! moved and flagged, two nodes at once, a message too large to fetch, a
//! broken one, a wrong password, and a poll that died before telling the
//! mailbox.

use super::{Env, fixture};
use domain::case::Direction;
use domain::mail::Security;
use jiff::Timestamp;
use mail::imap::{STORED_KEYWORD, Session};
use mail::poller::{PollerConfig, poll};
use mail::{Intake, ListenerLimits};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use store::{ImapStored, Mailbox, MailboxInput, Store};

/// Dovecot with its own configuration in a fresh directory; stopped on drop.
struct Dovecot {
    child: std::process::Child,
    dir: PathBuf,
    plain: u16,
    tls: u16,
    ca: PathBuf,
    owner: Option<(u32, u32)>,
}

const PASSWORD: &str = "s3cret \"quoted\"";
static DELIVERED: AtomicU32 = AtomicU32::new(0);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn id_of(flag: &str, user: &str) -> u32 {
    let out = std::process::Command::new("id")
        .args([flag, user])
        .output()
        .expect("id");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

impl Dovecot {
    fn start(users: &[&str]) -> Dovecot {
        let dir = store::testing::temp_dir();
        let (ca, cert, key) = super::outbox::certificates(&dir);
        let (plain, tls) = (free_port(), free_port());
        let me = String::from_utf8_lossy(
            &std::process::Command::new("id")
                .arg("-un")
                .output()
                .unwrap()
                .stdout,
        )
        .trim()
        .to_string();
        // Dovecot will not run logins or mail as root: as root, use the
        // accounts Debian's package made; otherwise run all as ourselves.
        let (internal, login, owner) = if me == "root" {
            let owner = (id_of("-u", "dovecot"), id_of("-g", "dovecot"));
            ("dovecot".to_string(), "dovenull".to_string(), Some(owner))
        } else {
            (me.clone(), me.clone(), None)
        };
        let (uid, gid) = owner.unwrap_or((id_of("-u", &me), id_of("-g", &me)));
        let mut passwd = String::new();
        for u in users {
            passwd.push_str(&format!("{u}:{{PLAIN}}{PASSWORD}\n"));
        }
        std::fs::write(dir.join("passwd"), passwd).unwrap();
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        let d = dir.display();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             default_internal_user = {internal}\ndefault_internal_group = {internal}\n\
             default_login_user = {login}\nfirst_valid_uid = 1\n\
             mail_location = maildir:{d}/mail/%u\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={d}/mail/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = {plain}\n  }}\n  \
             inet_listener imaps {{\n    port = {tls}\n    ssl = yes\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            cert = cert.display(),
            key = key.display(),
        );
        std::fs::write(dir.join("dovecot.conf"), conf).unwrap();
        let mut dovecot = Dovecot {
            // Debian puts it in sbin, which a user's PATH may lack.
            child: std::process::Command::new(
                ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
                    .into_iter()
                    .find(|p| Path::new(p).exists())
                    .unwrap_or("dovecot"),
            )
            .arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .expect("dovecot (apt-get install dovecot-imapd)"),
            dir,
            plain,
            tls,
            ca,
            owner,
        };
        for u in users {
            dovecot.maildir(u);
        }
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", plain)).is_ok() {
                return dovecot;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(dovecot.dir.join("dovecot.log")).unwrap_or_default();
        let _ = dovecot.child.kill();
        panic!("dovecot did not start: {log}");
    }

    fn chown(&self, path: &Path) {
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
    }

    fn maildir(&mut self, user: &str) -> PathBuf {
        let root = self.dir.join("mail").join(user);
        for sub in ["", "new", "cur", "tmp"] {
            let p = root.join(sub);
            std::fs::create_dir_all(&p).unwrap();
            self.chown(&p);
        }
        self.chown(&self.dir.join("mail"));
        root
    }

    /// Delivers a message the way a local delivery agent does: a file in
    /// the user's `Maildir/new`.
    fn deliver(&mut self, user: &str, raw: &[u8]) {
        let n = DELIVERED.fetch_add(1, Ordering::Relaxed);
        let root = self.maildir(user);
        let tmp = root.join("tmp").join(format!("{n}.msg"));
        std::fs::write(&tmp, raw).unwrap();
        self.chown(&tmp);
        let name = format!(
            "{}.M{n}P{}.test",
            Timestamp::now().as_second(),
            std::process::id()
        );
        std::fs::rename(&tmp, root.join("new").join(name)).unwrap();
    }

    fn input(&self, address_id: i64, security: Security, user: &str) -> MailboxInput {
        MailboxInput {
            address_id,
            host: if security == Security::None {
                "127.0.0.1".into()
            } else {
                "localhost".into()
            },
            port: if security == Security::Tls {
                self.tls
            } else {
                self.plain
            },
            security,
            username: user.into(),
            password: Some(PASSWORD.into()),
            folder: "INBOX".into(),
            move_to: None,
            poll_seconds: 1,
            max_bytes: 256 * 1024,
            enabled: true,
        }
    }

    /// What a mail client sees: UIDs in a folder, and those with our flag.
    async fn folder(&self, user: &str, folder: &str) -> (Vec<u32>, Vec<u32>) {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.plain))
            .await
            .unwrap();
        let mut s = Session::start(tcp).await.unwrap();
        s.capability().await.unwrap();
        s.login(user, PASSWORD).await.unwrap();
        s.select(folder).await.unwrap();
        let all = s.search("ALL").await.unwrap();
        let flagged = s
            .search(&format!("KEYWORD {STORED_KEYWORD}"))
            .await
            .unwrap();
        (all, flagged)
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // TERM lets the master stop its login and mail processes too.
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn message(n: usize, to: &str, size: usize) -> Vec<u8> {
    let mut raw = format!(
        "Return-Path: <customer{n}@example.cn>\r\nFrom: Customer {n} <customer{n}@example.cn>\r\n\
         To: {to}\r\nSubject: =?UTF-8?B?{}?=\r\nMessage-ID: <imap-{n}@example.cn>\r\n\
         Date: Sun, 22 Nov 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        base64_subject(n)
    )
    .into_bytes();
    raw.extend_from_slice(format!("第 {n} 封邮件，订单号: A{n:05}\r\n").as_bytes());
    while raw.len() < size {
        raw.extend_from_slice(b"filler line to reach the size of a large message\r\n");
    }
    raw
}

fn base64_subject(n: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("IMAP 问题 {n}"))
}

fn poller(d: &Dovecot, owner: &str) -> PollerConfig {
    PollerConfig {
        owner: owner.into(),
        tls: Some(mail::tls::connector(Some(&d.ca)).unwrap()),
        tick: Duration::from_millis(100),
        timeout: Duration::from_secs(20),
        batch: 200,
    }
}

async fn mailbox(store: &Store, env: &Env, input: &MailboxInput) -> Mailbox {
    store
        .create_mailbox(env.actor(), input, Timestamp::now())
        .await
        .unwrap()
}

#[tokio::test]
async fn mailboxes_are_polled_once_each_message_even_by_two_nodes() {
    for (backend, url) in store::testing::fresh_database_urls().await {
        let mut d = Dovecot::start(&[
            "service@auto.example",
            "complaints@auto.example",
            "other@auto.example",
        ]);
        let env = Env::start(&url, ListenerLimits::default(), 1 << 20).await;
        let addresses = env.store.mail_addresses(env.tenant).await.unwrap();
        let (service, complaints) = (addresses[0].id, addresses[1].id);
        // service@: over TLS, stored messages move to "Processed".
        let mut moved = d.input(service, Security::Tls, "service@auto.example");
        moved.move_to = Some("Processed".into());
        let moved = mailbox(&env.store, &env, &moved).await;
        // complaints@: plain with STARTTLS, stored messages stay flagged.
        let flagged = mailbox(
            &env.store,
            &env,
            &d.input(complaints, Security::StartTls, "complaints@auto.example"),
        )
        .await;
        let mut wrong = d.input(service, Security::None, "other@auto.example");
        wrong.password = Some("not the password".into());
        let wrong = mailbox(&env.store, &env, &wrong).await;

        for n in 0..40 {
            d.deliver(
                "service@auto.example",
                &message(n, "service@auto.example", 2_000),
            );
        }
        for n in 40..55 {
            d.deliver(
                "complaints@auto.example",
                &message(n, "complaints@auto.example", 500),
            );
        }
        // Too large to fetch (the limit is 256 KB), and one that is no mail.
        d.deliver(
            "complaints@auto.example",
            &message(99, "complaints@auto.example", 400_000),
        );
        d.deliver("complaints@auto.example", &fixture("12_garbage.eml"));

        // Two nodes poll the same mailboxes at once, each with its lease;
        // and two bare polls of service@ overlap, leases aside.
        let intake = Intake::start(env.store.clone());
        let logins: Vec<_> = env
            .store
            .claim_mailboxes("test", Timestamp::now(), Timestamp::now())
            .await
            .unwrap();
        let service_login = logins
            .into_iter()
            .find(|l| l.mailbox.id == moved.id)
            .unwrap();
        let cfg = poller(&d, "bare");
        let (a, b) = tokio::join!(
            poll(&env.store, &intake, &service_login, &cfg),
            poll(&env.store, &intake, &service_login, &cfg),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.stored + b.stored, 40, "{backend}: {a:?} {b:?}");
        let node1 = tokio::spawn(mail::poller::run(
            env.store.clone(),
            intake.clone(),
            poller(&d, "node1"),
        ));
        let node2 = tokio::spawn(mail::poller::run(
            env.store.clone(),
            intake.clone(),
            poller(&d, "node2"),
        ));
        let mut boxes = Vec::new();
        for _ in 0..200 {
            boxes = env.store.mailboxes(env.tenant).await.unwrap();
            let count = |id: i64| boxes.iter().find(|b| b.id == id).unwrap();
            if count(flagged.id).fetched == 17 && count(wrong.id).last_error.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = env.settled().await;
        node1.abort();
        node2.abort();

        // Every message once: 40 + 17 spooled, one case each (the garbage
        // too, with its source attached).
        let from_imap: Vec<_> = log
            .iter()
            .filter(|m| m.source.starts_with("imap:"))
            .collect();
        assert_eq!(from_imap.len(), 57, "{backend}");
        assert!(
            from_imap.iter().all(|m| m.status == "filed"),
            "{backend}: {from_imap:?}"
        );
        let mut cases: Vec<_> = from_imap.iter().filter_map(|m| m.case_id).collect();
        cases.sort();
        cases.dedup();
        assert_eq!(cases.len(), 57, "{backend}");
        let by_id = |id: i64| boxes.iter().find(|b| b.id == id).unwrap().clone();
        assert_eq!(
            by_id(moved.id).fetched,
            0,
            "{backend}: the bare polls counted apart"
        );
        assert_eq!(by_id(flagged.id).fetched, 17, "{backend}");
        assert_eq!(by_id(flagged.id).last_error, None, "{backend}");
        let refused = by_id(wrong.id).last_error.unwrap();
        assert!(refused.contains("refused"), "{backend}: {refused}");

        // The mailboxes were told only after: service@ is empty and its mail
        // in Processed; complaints@ keeps its mail, all flagged.
        let (inbox, _) = d.folder("service@auto.example", "INBOX").await;
        let (processed, _) = d.folder("service@auto.example", "Processed").await;
        assert_eq!((inbox.len(), processed.len()), (0, 40), "{backend}");
        let (all, marked) = d.folder("complaints@auto.example", "INBOX").await;
        assert_eq!((all.len(), marked.len()), (17, 17), "{backend}");

        // The large one became a case from its header, with a note where it is.
        let large = from_imap
            .iter()
            .find(|m| m.size < 10_000 && m.envelope_from == format!("customer{}@example.cn", 99))
            .expect("the stand-in of the large message");
        let case = large.case_id.unwrap();
        let summary = env.store.case(env.tenant, case).await.unwrap();
        assert_eq!(summary.summary.subject, "IMAP 问题 99", "{backend}");
        let timeline = env.store.interactions(env.tenant, case).await.unwrap();
        let note = &timeline
            .iter()
            .find(|i| i.direction == Direction::Inbound)
            .unwrap()
            .body;
        assert!(note.contains("256 KB"), "{backend}: {note}");
        assert!(note.contains("UID"), "{backend}: {note}");

        // Polling again finds nothing new.
        let again = poll(&env.store, &intake, &service_login, &cfg)
            .await
            .unwrap();
        assert_eq!(again.stored, 0, "{backend}");
    }
}

#[tokio::test]
async fn a_poll_that_died_after_storing_is_finished_not_repeated() {
    for (backend, url) in store::testing::fresh_database_urls().await {
        let mut d = Dovecot::start(&["service@auto.example"]);
        let env = Env::start(&url, ListenerLimits::default(), 1 << 20).await;
        let address = env.store.mail_addresses(env.tenant).await.unwrap()[0].id;
        let mut input = d.input(address, Security::None, "service@auto.example");
        input.move_to = Some("Done".into());
        let m = mailbox(&env.store, &env, &input).await;
        let raw = message(7, "service@auto.example", 1_000);
        d.deliver("service@auto.example", &raw);
        d.deliver(
            "service@auto.example",
            &message(8, "service@auto.example", 1_000),
        );
        let (inbox, _) = d.folder("service@auto.example", "INBOX").await;
        assert_eq!(inbox.len(), 2, "{backend}");
        // A poll stored the first message, then died before moving it,
        // longer ago than a poll may take.
        let uidvalidity = {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", d.plain))
                .await
                .unwrap();
            let mut s = Session::start(tcp).await.unwrap();
            s.capability().await.unwrap();
            s.login("service@auto.example", PASSWORD).await.unwrap();
            s.select("INBOX").await.unwrap().uidvalidity
        };
        let first = inbox[0];
        env.store
            .spool_imap(
                &m,
                uidvalidity,
                first,
                Some("imap-7@example.cn"),
                "customer7@example.cn",
                &raw,
                Timestamp::now() - Duration::from_secs(3600),
            )
            .await
            .unwrap();
        let intake = Intake::start(env.store.clone());
        let login = env
            .store
            .claim_mailboxes("test", Timestamp::now(), Timestamp::now())
            .await
            .unwrap()
            .pop()
            .unwrap();
        let polled = poll(&env.store, &intake, &login, &poller(&d, "again"))
            .await
            .unwrap();
        assert_eq!(polled.stored, 1, "{backend}: only the second is new");
        let (inbox, _) = d.folder("service@auto.example", "INBOX").await;
        let (done, _) = d.folder("service@auto.example", "Done").await;
        assert_eq!((inbox.len(), done.len()), (0, 2), "{backend}");
        let log = env.settled().await;
        assert_eq!(log.len(), 2, "{backend}");
        // The server renumbered the folder (a new UIDVALIDITY): the same
        // message under its new UID is not stored again.
        let renumbered = env
            .store
            .spool_imap(
                &m,
                uidvalidity + 1,
                1,
                Some("imap-7@example.cn"),
                "customer7@example.cn",
                &raw,
                Timestamp::now(),
            )
            .await
            .unwrap();
        assert_eq!(renumbered, ImapStored::Duplicate, "{backend}");
    }
}
