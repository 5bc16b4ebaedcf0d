//! The binary as a newcomer and an administrator use it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carecenter"));
    for var in [
        "CARECENTER_CONFIG",
        "CARECENTER_LISTEN",
        "CARECENTER_DATA_DIR",
        "CARECENTER_DATABASE_URL",
        "CARECENTER_LOG",
    ] {
        c.env_remove(var);
    }
    c
}

fn temp() -> std::path::PathBuf {
    store::testing::temp_dir()
}

/// Runs to completion; returns (success, stdout, stderr).
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run carecenter");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Arguments, environment, and what the error must mention.
type ConfigCase = (Vec<String>, Vec<(&'static str, String)>, &'static str);

#[test]
fn bad_configuration_is_one_clear_line_and_creates_nothing() {
    let dir = temp();
    let toml = dir.join("bad.toml");
    std::fs::write(&toml, "listen = \"127.0.0.1:8080\"\ncolour = \"blue\"\n").unwrap();
    let cases: Vec<ConfigCase> = vec![
        (
            vec![
                "serve".into(),
                "--database-url".into(),
                "mysql://db/cc".into(),
            ],
            vec![],
            "unsupported scheme",
        ),
        (
            vec!["serve".into()],
            vec![("CARECENTER_DATABASE_URL", "redis://x".into())],
            "unsupported scheme",
        ),
        (
            vec!["serve".into(), "--listen".into(), "everywhere".into()],
            vec![],
            "listen",
        ),
        (
            vec![
                "serve".into(),
                "--config".into(),
                toml.display().to_string(),
            ],
            vec![],
            "colour",
        ),
        (
            vec![
                "serve".into(),
                "--config".into(),
                dir.join("missing.toml").display().to_string(),
            ],
            vec![],
            "cannot read config file",
        ),
        (
            vec![
                "serve".into(),
                "--database-url".into(),
                "postgres://nobody@127.0.0.1:1/cc".into(),
            ],
            vec![],
            "cannot open the database",
        ),
        (
            vec!["serve".into()],
            vec![("CARECENTER_LOG", "loud!!".into())],
            "log",
        ),
        (
            vec!["serve".into()],
            vec![("CARECENTER_PUBLIC_URL", "care.example.com".into())],
            "public_url",
        ),
    ];
    for (args, env, want) in cases {
        let mut cmd = bin();
        cmd.args(&args).current_dir(&dir);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let (ok, _, err) = run(&mut cmd);
        assert!(!ok, "{args:?} should fail");
        assert!(
            err.starts_with("error: ") && err.trim().lines().count() == 1,
            "{args:?}: one line, got {err:?}"
        );
        assert!(
            err.contains(want),
            "{args:?}: {err:?} should mention {want}"
        );
    }
    assert!(
        !dir.join("data").exists(),
        "no database was created for a bad configuration"
    );
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve`; returns the process, its printed lines until it listens, and its address.
fn serve(data: &std::path::Path) -> (Server, Vec<String>, String) {
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("CARECENTER_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    let mut addr = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("address=").nth(1) {
            addr = rest
                .trim()
                .trim_matches('"')
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
            break;
        }
        lines.push(line);
    }
    assert!(
        !addr.is_empty(),
        "server did not report its address: {lines:?}"
    );
    (Server(child), lines, addr)
}

#[tokio::test]
async fn first_start_creates_an_admin_and_admin_commands_manage_users() {
    let data = temp().join("data");
    let (server, lines, addr) = serve(&data);
    let printed = lines.join("\n");
    let password = printed
        .split("with password ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{printed}"))
        .to_string();
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let login = |u: &str, p: &str| {
        http.post(format!("http://{addr}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": u, "password": p}))
            .send()
    };
    assert_eq!(login("admin", &password).await.unwrap().status(), 200);
    drop(server);

    // A second start does not make another admin.
    let (server, lines, _) = serve(&data);
    assert!(!lines.join("\n").contains("with password"));
    drop(server);

    let d = data.to_str().unwrap();
    let (ok, out, err) = run(bin().args([
        "admin",
        "--data-dir",
        d,
        "create-tenant",
        "--slug",
        "acme",
        "--name",
        "Acme Motors",
    ]));
    assert!(ok, "{err}");
    assert!(out.contains("created tenant acme"));
    let (ok, out, err) = run(bin().args([
        "admin",
        "--data-dir",
        d,
        "create-user",
        "--tenant",
        "acme",
        "--username",
        "li.wei",
        "--name",
        "李伟",
        "--role",
        "agent",
    ]));
    assert!(ok, "{err}");
    let generated = out.split("password: ").nth(1).unwrap().trim().to_string();
    let (ok, _, err) = run(bin().args([
        "admin",
        "--data-dir",
        d,
        "create-user",
        "--tenant",
        "acme",
        "--username",
        "x",
        "--name",
        "X",
        "--role",
        "boss",
    ]));
    assert!(!ok && err.contains("role"), "{err}");
    let (ok, _, err) = run(bin().args([
        "admin",
        "--data-dir",
        d,
        "create-user",
        "--tenant",
        "nope",
        "--username",
        "y",
        "--name",
        "Y",
        "--role",
        "agent",
    ]));
    assert!(!ok && err.contains("nope"), "{err}");
    let (ok, out, err) = run(bin()
        .args([
            "admin",
            "--data-dir",
            d,
            "reset-password",
            "--username",
            "li.wei",
        ])
        .env("CARECENTER_NEW_PASSWORD", "a-chosen-password"));
    assert!(ok, "{err}");
    assert!(
        !out.contains("password: "),
        "a given password is not echoed"
    );

    let (server, _, addr) = serve(&data);
    let login = |u: &str, p: &str| {
        http.post(format!("http://{addr}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": u, "password": p}))
            .send()
    };
    assert_eq!(login("li.wei", &generated).await.unwrap().status(), 401);
    assert_eq!(
        login("li.wei", "a-chosen-password").await.unwrap().status(),
        200
    );
    drop(server);
}

#[test]
fn import_command_reports_rows() {
    let data = temp().join("data");
    let d = data.to_str().unwrap();
    let (ok, _, err) = run(bin().args([
        "admin",
        "--data-dir",
        d,
        "create-tenant",
        "--slug",
        "acme",
        "--name",
        "Acme",
    ]));
    assert!(ok, "{err}");
    let file = data.join("owners.csv");
    let (gbk, _, _) =
        encoding_rs::GBK.encode("客户编号,姓名,手机\nC1,王伟,138-0013-8000\nC2,李娜,bad\n");
    std::fs::write(&file, &gbk).unwrap();
    let (ok, out, err) = run(bin()
        .args([
            "import",
            "--data-dir",
            d,
            "--tenant",
            "acme",
            "--kind",
            "customers",
        ])
        .arg(&file));
    assert!(ok, "{err}");
    assert!(
        out.contains("2 rows") && out.contains("1 created") && out.contains("1 rejected"),
        "{out}"
    );
    assert!(out.contains("row 3: phones"), "{out}");
    let (ok, out, err) = run(bin()
        .args([
            "import",
            "--data-dir",
            d,
            "--tenant",
            "acme",
            "--kind",
            "customers",
            "--strict",
        ])
        .arg(&file));
    assert!(
        !ok && out.contains("nothing written") && err.contains("not imported"),
        "{out} {err}"
    );
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn reindex_rebuilds_from_the_store_but_not_under_a_running_server() {
    let data = temp().join("data");
    let d = data.to_str().unwrap();
    let (ok, _, err) = run(bin().args([
        "admin",
        "--data-dir",
        d,
        "create-tenant",
        "--slug",
        "acme",
        "--name",
        "Acme",
    ]));
    assert!(ok, "{err}");
    let file = data.join("owners.csv");
    std::fs::write(
        &file,
        "客户编号,姓名,手机\nC1,王伟,13800138000\nC2,李娜,13900139000\n",
    )
    .unwrap();
    let (ok, _, err) = run(bin()
        .args([
            "import",
            "--data-dir",
            d,
            "--tenant",
            "acme",
            "--kind",
            "customers",
        ])
        .arg(&file));
    assert!(ok, "{err}");
    let (ok, out, err) = run(bin().args(["reindex", "--data-dir", d]));
    assert!(ok, "{err}");
    assert!(
        out.starts_with("2 documents indexed") && out.contains("the index holds 2"),
        "{out}"
    );
    assert!(err.contains("2/2 documents"), "a progress bar: {err}");

    let (server, _, _) = serve(&data);
    let (ok, _, err) = run(bin().args(["reindex", "--data-dir", d]));
    assert!(!ok && err.contains("in use by a running server"), "{err}");
    drop(server);
}

/// The crash test of the e-mail channel: kill -9 the server during a burst of
/// 1,000 messages; after a restart every message that got 250 is in exactly
/// one case.
#[tokio::test]
async fn mail_answered_250_survives_kill_9_and_is_filed_once() {
    let data = temp().join("data");
    let d = data.to_str().unwrap().to_string();
    for args in [
        vec![
            "admin",
            "--data-dir",
            &d,
            "create-tenant",
            "--slug",
            "auto",
            "--name",
            "Auto",
        ],
        vec![
            "admin",
            "--data-dir",
            &d,
            "add-mail-address",
            "--tenant",
            "auto",
            "--address",
            "service@auto.example",
            "--name",
            "Service",
        ],
    ] {
        let (ok, out, err) = run(bin().args(&args));
        assert!(ok, "{out}{err}");
    }
    let start = || {
        let mut child = bin()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--smtp-listen",
                "127.0.0.1:0",
                "--data-dir",
                &d,
            ])
            .env("CARECENTER_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut smtp = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.contains("smtp listening") {
                smtp = line.split("address=").nth(1).map(|a| a.trim().to_string());
                break;
            }
        }
        // Keep reading, or the server would block on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        (Server(child), smtp.expect("smtp address"))
    };
    let (server, smtp) = start();
    let port = smtp.rsplit(':').next().unwrap().to_string();
    let burst = r#"
import smtplib, sys, threading
port = int(sys.argv[1])
lock = threading.Lock()
def worker(k):
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            for i in range(k, 1000, 8):
                msg = f"From: c{i}@example.cn\r\nTo: service@auto.example\r\nSubject: crash {i}\r\nMessage-ID: <crash-{i}@example.cn>\r\n\r\nbody {i}\r\n"
                s.sendmail(f"c{i}@example.cn", ["service@auto.example"], msg.encode())
                with lock:
                    print(i, flush=True)
    except Exception:
        pass
threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
"#;
    let mut py = Command::new("python3")
        .args(["-c", burst, &port])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut server = Some(server);
    for line in BufReader::new(py.stdout.take().unwrap()).lines() {
        acked.push(line.unwrap().parse::<usize>().unwrap());
        if acked.len() == 300 {
            // Server's Drop sends SIGKILL: no shutdown, no flush.
            drop(server.take());
        }
    }
    py.wait().unwrap();
    assert!(
        server.is_none(),
        "the burst ended before the kill: {} acked",
        acked.len()
    );
    assert!(
        acked.len() >= 300 && acked.len() < 1000,
        "{} acked",
        acked.len()
    );

    let (_server, _) = start();
    let store = store::Store::connect(&format!("sqlite:{d}/carecenter.db"))
        .await
        .unwrap();
    let tenant = store.tenant_by_slug("auto").await.unwrap().id;
    let mut log = Vec::new();
    for _ in 0..400 {
        log = store.mail_log(tenant, 5000).await.unwrap();
        if log.iter().all(|m| m.status == "filed") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(log.iter().all(|m| m.status == "filed"), "not all filed");
    for i in &acked {
        let case = store
            .case_of_message(tenant, &format!("crash-{i}@example.cn"))
            .await
            .unwrap();
        assert!(case.is_some(), "message {i} got 250 but has no case");
    }
    // Exactly one case each: as many cases as spooled messages, no more.
    let mut cases: Vec<_> = log.iter().filter_map(|m| m.case_id).collect();
    cases.sort();
    cases.dedup();
    assert_eq!(
        cases.len(),
        log.len(),
        "a message was filed twice or not at all"
    );
}

/// The calendar of the issue's example: an administrator checks a policy.
#[test]
fn sla_sums_on_a_calendar_file() {
    let dir = temp();
    let calendar = dir.join("calendar.toml");
    std::fs::write(
        &calendar,
        "timezone = \"Asia/Shanghai\"\n[hours]\nmon = [\"07:45-12:00\", \"13:00-18:00\"]\n\
         fri = [\"07:45-12:00\", \"13:00-18:00\"]\n[exceptions]\n\
         holidays = [\"2026-10-01\", \"2026-10-02\"]\nworkdays = [\"2026-10-10\"]\n",
    )
    .unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "timezone = \"Asia/Shanghai\"\n[hours]\nmon = [\"7-12\"]\n",
    )
    .unwrap();
    let path = |p: &std::path::Path| p.display().to_string();
    for (args, ok, out) in [
        // Over the holidays and the weekend to Monday morning.
        (
            vec![
                "due",
                "--start",
                "2026-09-28T17:30:00+08:00",
                "--minutes",
                "60",
            ],
            true,
            "2026-10-05T08:15:00+08:00",
        ),
        // A make-up Saturday opens with a normal weekday's hours.
        (
            vec!["due", "--start", "2026-10-09T17:59:00Z", "--minutes", "1"],
            true,
            "2026-10-10T07:46:00+08:00",
        ),
        (
            vec![
                "elapsed",
                "--from",
                "2026-09-28T17:30:00+08:00",
                "--to",
                "2026-10-05T08:15:30+08:00",
            ],
            true,
            "60.50",
        ),
        (
            vec![
                "due",
                "--start",
                "2026-09-28T17:30:00+08:00",
                "--minutes=-5",
            ],
            false,
            "invalid value '-5' for '--minutes",
        ),
    ] {
        let (success, stdout, stderr) = run(bin()
            .arg("sla")
            .arg(args[0])
            .args(["--calendar", &path(&calendar)])
            .args(&args[1..]));
        assert_eq!(success, ok, "{args:?}: {stderr}");
        let shown = if ok { stdout.trim() } else { stderr.trim() };
        assert!(shown.contains(out), "{args:?}: {shown}");
    }
    let (success, _, stderr) = run(bin().args(["sla", "due", "--calendar", &path(&bad)]).args([
        "--start",
        "2026-09-28T17:30:00+08:00",
        "--minutes",
        "1",
    ]));
    assert!(!success);
    assert!(
        stderr.contains("hours.mon[0]: must be HH:MM-HH:MM"),
        "{stderr}"
    );
}

/// `simulate` reads a scenario whose arrivals come from a CSV beside it and
/// answers in JSON; a mistake in the file names the field; `staffing` gives
/// the published answer with the simulated check.
#[test]
fn simulate_and_staffing_commands() {
    let dir = temp();
    std::fs::write(
        dir.join("volumes.csv"),
        "time,calls\n08:00,40\n08:30,60\n09:00,30\n",
    )
    .unwrap();
    let scenario = r#"
start = "08:00"
[[queues]]
name = "hotline"
arrivals_csv = "volumes.csv"
handle = { dist = "exponential", mean = 180 }
patience = { dist = "exponential", mean = 120 }
[[agents]]
name = "day"
count = 6
"#;
    std::fs::write(dir.join("day.toml"), scenario).unwrap();
    let (ok, out, err) = run(bin()
        .args(["simulate", "--json", "--scenario"])
        .arg(dir.join("day.toml")));
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["intervals"].as_array().unwrap().len(), 3);
    assert!(report["total"]["offered"].as_u64().unwrap() > 80);

    std::fs::write(
        dir.join("bad.toml"),
        scenario.replace("count = 6", "count = 6\nskills = { x = 7 }"),
    )
    .unwrap();
    let (ok, _, err) = run(bin()
        .args(["simulate", "--scenario"])
        .arg(dir.join("bad.toml")));
    assert!(!ok && err.contains("agents[0].skills"), "{err}");

    let (ok, out, err) = run(bin().args([
        "staffing",
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--json",
    ]));
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["need"]["agents"], 14);
    assert!(plan["simulated"][0]["offered"].as_u64().unwrap() > 40_000);
}
