//! Mail benchmark (not a test): messages per second from SMTP DATA to the
//! case stored and its acknowledgement queued, through the real listener,
//! spool and filing worker, with a mix of sizes (1 KB to 2 MB), encodings
//! (UTF-8, GBK, GB2312, Big5; base64 and quoted-printable) and replies.
//!
//! cargo run --release -p carecenter-bench --bin mail-bench -- [sqlite|postgres] [--messages N] [--clients N] [--text-only]
//! PostgreSQL: CARECENTER_BENCH_POSTGRES_URL as for the storage benchmark.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use demo::Rng;
use domain::case::CaseType;
use domain::contact::EmailAddress;
use domain::model::Actor;
use jiff::Timestamp;
use mail::relay::{RelayConfig, Security};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use store::{MailAddressInput, Store};

struct Args {
    backend: String,
    messages: usize,
    clients: usize,
    /// Only the text messages of the mix (a few KB each), no attachments.
    text_only: bool,
}

fn args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        messages: 5_000,
        clients: 16,
        text_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut num = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} N"))
        };
        match x.as_str() {
            "--messages" => a.messages = num("--messages"),
            "--clients" => a.clients = num("--clients"),
            "--text-only" => a.text_only = true,
            "sqlite" | "postgres" => a.backend = x,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// The bytes of a text in a legacy Chinese charset, as old clients send it.
fn encode(text: &str, charset: &str) -> Vec<u8> {
    let enc = match charset {
        "gbk" | "gb2312" => encoding_rs::GBK,
        "gb18030" => encoding_rs::GB18030,
        "big5" => encoding_rs::BIG5,
        _ => encoding_rs::UTF_8,
    };
    enc.encode(text).0.into_owned()
}

fn quoted_printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut line = 0;
    for &b in bytes {
        let piece = if b == b'\n' {
            line = 0;
            out.push_str("\r\n");
            continue;
        } else if (33..=126).contains(&b) && b != b'=' {
            (b as char).to_string()
        } else {
            format!("={b:02X}")
        };
        if line + piece.len() > 73 {
            out.push_str("=\r\n");
            line = 0;
        }
        line += piece.len();
        out.push_str(&piece);
    }
    out
}

fn base64_lines(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned() + "\r\n")
        .collect()
}

const LINES: &[&str] = &[
    "您好，我的车在保养后发动机有异响，请尽快安排检查。",
    "订单号：SO-20261101-77，发票抬头开错了，需要重开。",
    "The brake warning light came on again after the repair last week.",
    "请问最近的服务站在哪里？营业时间是几点到几点？",
    "账号：6222 0000 1111，基金赎回款项还没有到账。",
    "Could you confirm the warranty covers the replaced gearbox?",
];

/// One message: (envelope sender, raw bytes).
fn message(
    i: usize,
    rng: &mut Rng,
    replies_to: Option<&(String, String)>,
    text_only: bool,
) -> (String, Vec<u8>) {
    let (sender, refs) = match replies_to {
        Some((sender, id)) => (
            sender.clone(),
            format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n"),
        ),
        None => (format!("customer{}@example.cn", i), String::new()),
    };
    let charset = ["utf-8", "gbk", "gb2312", "big5", "gb18030"][rng.below(5) as usize];
    let mut text = String::new();
    for _ in 0..(3 + rng.below(20)) {
        text.push_str(LINES[rng.below(LINES.len() as u64) as usize]);
        text.push('\n');
    }
    // Sizes: most mail is a few KB; some carry a photo or a scan.
    let attachment = match rng.below(if text_only { 70 } else { 100 }) {
        0..=69 | 100.. => 0,
        70..=89 => 20_000 + rng.below(80_000) as usize,
        90..=97 => 300_000,
        _ => 2_000_000,
    };
    let body = encode(&text, charset);
    let (cte, encoded) = if rng.below(2) == 0 {
        ("base64", base64_lines(&body))
    } else {
        ("quoted-printable", quoted_printable(&body))
    };
    let subject = format!(
        "=?{charset}?B?{}?=",
        STANDARD.encode(encode(&format!("咨询 {i}"), charset))
    );
    let mut m = format!(
        "From: =?utf-8?B?{}?= <{sender}>\r\nTo: service@bench.example\r\nSubject: {subject}\r\n\
         Message-ID: <bench-{i}@example.cn>\r\n{refs}Date: Sun, 22 Nov 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n",
        STANDARD.encode(format!("客户{i}"))
    );
    if attachment == 0 {
        m.push_str(&format!(
            "Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{encoded}"
        ));
    } else {
        let data: Vec<u8> = (0..attachment).map(|_| rng.below(256) as u8).collect();
        m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n\
             Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{encoded}\r\n--b{i}\r\n\
             Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename*=utf-8''%E7%85%A7%E7%89%87{i}.jpg\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}--b{i}--\r\n",
            base64_lines(&data)
        ));
    }
    (sender, m.into_bytes())
}

/// CPU time this process has used (user and system), from /proc; 0 elsewhere.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime, in the kernel's clock ticks (100 a second on Linux).
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main]
async fn main() {
    let a = args();
    // Several hundred MB a run: removed at the end.
    let dir = store::testing::temp_dir();
    let url = match a.backend.as_str() {
        "sqlite" => format!("sqlite:{}", dir.join("mail-bench.db").display()),
        _ => {
            let server = std::env::var("CARECENTER_BENCH_POSTGRES_URL")
                .expect("set CARECENTER_BENCH_POSTGRES_URL (scripts/pg-start prints one)");
            store::testing::create_postgres_database(&server).await
        }
    };
    let store = Store::connect(&url).await.expect("connect");
    let tenant = store
        .create_tenant("bench", "Bench", "Asia/Shanghai", "CN", Timestamp::now())
        .await
        .unwrap();
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    store
        .create_mail_address(
            actor,
            &MailAddressInput {
                address: EmailAddress::parse("service@bench.example").unwrap(),
                display_name: "客户服务中心".into(),
                case_type: CaseType::Inquiry,
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

    // The mix: 30 % replies to an earlier message of the same sender, far
    // enough back that the clients running at once cannot overtake it.
    let mut rng = Rng::new(7);
    let mut messages = Vec::with_capacity(a.messages);
    let mut sent_ids: Vec<(String, String)> = Vec::new();
    let mut new_cases = 0;
    let margin = 4 * a.clients;
    for i in 0..a.messages {
        let reply = (sent_ids.len() > margin && rng.below(10) < 3)
            .then(|| sent_ids[rng.below((sent_ids.len() - margin) as u64) as usize].clone());
        let (sender, raw) = message(i, &mut rng, reply.as_ref(), a.text_only);
        if reply.is_none() {
            new_cases += 1;
            sent_ids.push((sender.clone(), format!("bench-{i}@example.cn")));
        }
        messages.push((sender, raw));
    }
    let bytes: usize = messages.iter().map(|m| m.1.len()).sum();
    println!(
        "backend: {}  messages: {}  ({} new cases, {} replies)  {:.1} MB  clients: {}",
        a.backend,
        a.messages,
        new_cases,
        a.messages - new_cases,
        bytes as f64 / 1e6,
        a.clients
    );

    let intake = mail::Intake::start(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let limits = mail::ListenerLimits {
        max_connections: 1000,
        messages_per_minute: u32::MAX,
    };
    tokio::spawn(mail::listen(
        listener,
        intake,
        mail::SmtpConfig::default(),
        limits,
        None,
    ));
    let client = RelayConfig {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        username: None,
        password: None,
        helo: "bench.example".into(),
        timeout: Duration::from_secs(300),
    };

    // Replies must follow what they answer: send in order, a few at a time.
    let messages = Arc::new(messages);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let mut tasks = Vec::new();
    for _ in 0..a.clients {
        let (messages, next, client) = (messages.clone(), next.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((sender, raw)) = messages.get(i) else {
                    break;
                };
                let to = ["service@bench.example".to_string()];
                if let Err(e) = mail::relay::send(&client, None, sender, &to, raw).await {
                    panic!("message {i} refused: {e}");
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let accepted = start.elapsed();
    println!(
        "SMTP: all {} messages answered 250 in {:.2} s: {:.0} messages/s",
        a.messages,
        accepted.as_secs_f64(),
        a.messages as f64 / accepted.as_secs_f64()
    );
    loop {
        let log = store.mail_log(tenant.id, i64::MAX).await.unwrap();
        // Read after the log: every acknowledgement is written with its filing.
        let outbox = store.outbox(tenant.id, None, i64::MAX).await.unwrap().len();
        let pending = log
            .iter()
            .filter(|m| m.status == "pending" || m.status == "filing")
            .count();
        if pending == 0 && log.len() == a.messages {
            let failed = log.iter().filter(|m| m.status == "failed").count();
            let mut outcomes = std::collections::BTreeMap::new();
            for m in &log {
                *outcomes
                    .entry(m.outcome.clone().unwrap_or_default())
                    .or_insert(0) += 1;
            }
            println!("outcomes: {outcomes:?}");
            let elapsed = start.elapsed();
            println!(
                "filed: {} messages ({failed} failed), {outbox} acknowledgements queued, in {:.2} s: {:.0} messages/s end to end",
                log.len(),
                elapsed.as_secs_f64(),
                a.messages as f64 / elapsed.as_secs_f64()
            );
            println!(
                "CPU: {:.2} s on {} cores in the timed run",
                cpu_seconds() - cpu_start,
                std::thread::available_parallelism().map_or(1, |n| n.get())
            );
            assert_eq!(outbox, new_cases, "one acknowledgement per new case");
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
