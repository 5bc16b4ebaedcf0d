//! Escalation scheduler benchmark (not a test): the cost of one tick of the
//! SLA scheduler on SQLite with a million open cases, each with a running
//! first-response and resolution clock (two million clocks).
//!
//! - idle: nothing is due (the usual tick, once a second);
//! - busy: each tick fires a full batch of 50 warnings (with their history
//!   entries and notifications).
//!
//! cargo run --release -p carecenter-bench --bin sla-tick-bench -- [--cases N]

use domain::model::Actor;
use domain::policy::PolicySpec;
use jiff::Timestamp;
use std::time::Instant;
use store::Store;

const BATCH: u32 = 50;
/// One case opens every 2.592 s: a million cases over thirty days.
const SPACING_MS: i64 = 2_592;
const FIRST_RESPONSE_MS: i64 = 4 * 3_600_000;
const RESOLUTION_MS: i64 = 7 * 86_400_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut cases = 1_000_000i64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cases" => cases = args.next().and_then(|n| n.parse().ok()).expect("--cases N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("tick.db").display());
    let t0: Timestamp = "2026-11-02T09:00:00+08:00".parse().expect("t0");
    let store = Store::connect(&url).await.expect("store");
    let tenant = store
        .create_tenant("bench", "Bench", "Asia/Shanghai", "CN", t0)
        .await
        .expect("tenant");
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    let spec: PolicySpec = serde_json::from_value(serde_json::json!({
        "name": "standard",
        "first_response": {"minutes": 240, "business": false},
        "resolution": {"minutes": 7 * 24 * 60, "business": false},
        "warn_notify": ["supervisor"],
        "breach": {"notify": ["supervisor"], "raise_priority": true}
    }))
    .expect("policy");
    let policy = store.create_policy(actor, &spec, t0).await.expect("policy");
    let supervisor = store::NewUser {
        username: "supervisor".into(),
        display_name: "Supervisor".into(),
        password_hash: "x".into(),
        role: domain::role::Role::Supervisor,
        team_id: None,
        department_id: None,
    };
    store
        .create_user(actor, &supervisor, t0)
        .await
        .expect("supervisor");
    store.close().await;

    // A million open cases and their clocks, written in bulk beside the
    // store: the store's own path writes one case per transaction.
    let begin = Instant::now();
    let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
    let first_open = t0.as_millisecond() - 3 * 3_600_000;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO cases (tenant_id, year, seq, case_type, channel, priority, status, subject, description, custom, \
         created_at, updated_at, sla_policy_id, sla_state, sla_due_at) \
         SELECT $2, 2026, i, 'inquiry', 'email', 'normal', 'open', 'bench ' || i, '', '{}', \
         $3 + i * $4, $3 + i * $4, $5, 'ok', $3 + i * $4 + $6 FROM n",
    )
    .bind(cases)
    .bind(tenant.id.0)
    .bind(first_open)
    .bind(SPACING_MS)
    .bind(policy.0)
    .bind(FIRST_RESPONSE_MS)
    .execute(&pool)
    .await
    .expect("cases");
    for (kind, target) in [
        ("first_response", FIRST_RESPONSE_MS),
        ("resolution", RESOLUTION_MS),
    ] {
        let warn = target * 8 / 10;
        sqlx::query(
            "INSERT INTO sla_clocks (tenant_id, case_id, policy_id, kind, target_seconds, warn_percent, started_at, \
             pauses, due_at, warn_at, stage, state, next_fire_at) \
             SELECT tenant_id, id, $1, $2, $3, 80, created_at, '[]', created_at + $4, created_at + $5, 'running', 'ok', \
             created_at + $5 FROM cases WHERE tenant_id = $6",
        )
        .bind(policy.0)
        .bind(kind)
        .bind(target / 1000)
        .bind(target)
        .bind(warn)
        .bind(tenant.id.0)
        .execute(&pool)
        .await
        .expect("clocks");
    }
    sqlx::query("ANALYZE")
        .execute(&pool)
        .await
        .expect("analyze");
    pool.close().await;
    println!(
        "{cases} open cases, {} clocks written in {:.1} s",
        cases * 2,
        begin.elapsed().as_secs_f64()
    );

    let store = Store::connect(&url).await.expect("store");
    // Idle: the first warning is 12 minutes away.
    let mut idle = Vec::new();
    for _ in 0..1_000 {
        let begin = Instant::now();
        let out = store.sla_tick(t0, BATCH).await.expect("tick");
        idle.push(begin.elapsed().as_secs_f64() * 1e3);
        assert_eq!(out, Default::default(), "nothing is due yet");
    }
    idle.sort_by(f64::total_cmp);
    println!(
        "idle tick: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&idle, 0.5),
        percentile(&idle, 0.99),
        idle[idle.len() - 1]
    );

    // Busy: each tick's instant is a batch of warnings later.
    let first_warn = first_open + FIRST_RESPONSE_MS * 8 / 10;
    let mut busy = Vec::new();
    let mut fired = 0;
    for k in 1..=200i64 {
        let now = Timestamp::from_millisecond(first_warn + k * i64::from(BATCH) * SPACING_MS)
            .expect("now");
        let begin = Instant::now();
        let out = store.sla_tick(now, BATCH).await.expect("tick");
        busy.push(begin.elapsed().as_secs_f64() * 1e3);
        fired += out.warnings + out.breaches;
    }
    busy.sort_by(f64::total_cmp);
    let total: f64 = busy.iter().sum();
    println!(
        "busy tick ({BATCH} warnings each): p50 {:.1} ms, p99 {:.1} ms; {fired} fired, {:.0} escalations/s",
        percentile(&busy, 0.5),
        percentile(&busy, 0.99),
        fired as f64 / (total / 1e3)
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
