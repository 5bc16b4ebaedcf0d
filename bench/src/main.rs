//! Storage benchmark (not a test): fills a database with 100k customers and
//! 1M cases, then reports p50/p99 of the screen-pop lookup by phone, of the
//! first page of filtered case lists, and the bulk import rate.
//!
//! cargo run --release -p carecenter-bench -- [sqlite|postgres] [--cases N] [--customers N]
//! PostgreSQL: CARECENTER_BENCH_POSTGRES_URL names an empty database (or a
//! server, where a fresh database is created: scripts/pg-start prints one).

use demo::Rng;
use domain::case::*;
use domain::contact::{PhoneNumber, Region};
use domain::ids::*;
use domain::model::*;
use jiff::{SignedDuration, Timestamp};
use std::time::{Duration, Instant};
use store::{CustomerLookup, Store};

/// Builds one sample's filter (some pick a random agent or customer).
type MakeFilter = Box<dyn Fn(&mut Rng) -> CaseFilter>;

struct Args {
    backend: String,
    cases: usize,
    customers: usize,
}

fn args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        cases: 1_000_000,
        customers: 100_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--cases" => a.cases = it.next().and_then(|v| v.parse().ok()).expect("--cases N"),
            "--customers" => {
                a.customers = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--customers N")
            }
            "sqlite" | "postgres" => a.backend = x,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn phone_of(i: usize) -> String {
    format!("139{:08}", i)
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |p: f64| {
        samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}

#[tokio::main]
async fn main() {
    let a = args();
    let url = match a.backend.as_str() {
        "sqlite" => format!(
            "sqlite:{}",
            store::testing::temp_dir().join("bench.db").display()
        ),
        _ => {
            let server = std::env::var("CARECENTER_BENCH_POSTGRES_URL")
                .expect("set CARECENTER_BENCH_POSTGRES_URL (scripts/pg-start prints one)");
            store::testing::create_postgres_database(&server).await
        }
    };
    let store = Store::connect(&url).await.expect("connect");
    let now = Timestamp::now();
    let tenant = store
        .create_tenant("bench", "Bench", "Asia/Shanghai", "CN", now)
        .await
        .unwrap();
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    println!(
        "backend: {}  customers: {}  cases: {}",
        a.backend, a.customers, a.cases
    );

    // Import: customers as a dealer file would bring them, through the real parser.
    let mut csv = String::from("external_id,name,phones,tier,region\n");
    for i in 0..a.customers {
        csv.push_str(&format!(
            "C{i},客户{i},{},{},华东\n",
            phone_of(i),
            if i % 20 == 0 { "vip" } else { "standard" }
        ));
    }
    let options = import::Options {
        kind: import::Kind::Customers,
        format: import::Format::Csv,
        encoding: import::Encoding::Auto,
        strict: false,
    };
    let started = Instant::now();
    let parsed = import::parse(
        options.kind,
        options.format,
        options.encoding,
        csv.as_bytes(),
        Region::CN,
    )
    .expect("parse");
    println!(
        "import parse only: {:.0} rows/s",
        parsed.len() as f64 / started.elapsed().as_secs_f64()
    );
    drop(parsed);
    let started = Instant::now();
    let report = import::run(&store, actor, Region::CN, &options, csv.as_bytes(), &|_| {})
        .await
        .expect("import");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.created, a.customers);
    println!(
        "import: {} customer rows in {secs:.2} s = {:.0} rows/s",
        a.customers,
        a.customers as f64 / secs
    );
    // The same file again, as a dealer's daily export brings it: every row an update.
    let started = Instant::now();
    let report = import::run(&store, actor, Region::CN, &options, csv.as_bytes(), &|_| {})
        .await
        .expect("re-import");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.updated, a.customers);
    println!(
        "re-import: {} customer rows in {secs:.2} s = {:.0} rows/s",
        a.customers,
        a.customers as f64 / secs
    );

    // Cases: spread over a year, every type, channel and status.
    let mut rng = Rng::new(7);
    let mut agents = Vec::new();
    for i in 0..50 {
        let u = store::NewUser {
            username: format!("agent{i}"),
            display_name: format!("Agent {i}"),
            password_hash: "x".into(),
            role: domain::role::Role::Agent,
            team_id: None,
            department_id: None,
        };
        agents.push(store.create_user(actor, &u, now).await.unwrap().id);
    }
    let first_customer = store
        .find_customers(tenant.id, &CustomerLookup::ExternalId("C0".into()), 1)
        .await
        .unwrap()[0]
        .id
        .0;
    let started = Instant::now();
    let batch = 50_000;
    let mut written = 0;
    while written < a.cases {
        let n = batch.min(a.cases - written);
        let cases: Vec<(CaseInput, CaseStatus, Timestamp)> = (0..n)
            .map(|k| {
                let age = SignedDuration::from_secs(
                    ((a.cases - written - k) as i64) * 31_536_000 / a.cases as i64,
                );
                let input = CaseInput {
                    case_type: *rng.pick(CaseType::ALL),
                    channel: *rng.pick(Channel::ALL),
                    priority: *rng.pick(Priority::ALL),
                    subject: "咨询保养周期".into(),
                    description: "客户询问保养周期和费用".into(),
                    customer_id: Some(CustomerId(
                        first_customer + rng.below(a.customers as u64) as i64,
                    )),
                    category_id: None,
                    assignee_id: Some(*rng.pick(&agents)),
                    team_id: None,
                    custom: Default::default(),
                };
                let status = *rng.pick(&[
                    CaseStatus::Closed,
                    CaseStatus::Closed,
                    CaseStatus::Closed,
                    CaseStatus::Resolved,
                    CaseStatus::Open,
                    CaseStatus::New,
                    CaseStatus::PendingCustomer,
                    CaseStatus::PendingDepartment,
                ]);
                (input, status, now.checked_sub(age).unwrap_or(now))
            })
            .collect();
        written += store
            .import_cases(actor, &tenant.timezone, &cases)
            .await
            .expect("cases");
        eprint!("\rcases: {written}/{}", a.cases);
    }
    eprintln!();
    println!(
        "bulk case load: {} cases in {:.1} s",
        a.cases,
        started.elapsed().as_secs_f64()
    );

    // Screen pop: the caller's number in the writing agents see, parsed and looked up.
    let mut samples = Vec::with_capacity(5000);
    for _ in 0..5000 {
        let i = rng.below(a.customers as u64) as usize;
        let typed = format!("+86 {}", phone_of(i));
        let t = Instant::now();
        let p = PhoneNumber::parse(&typed, Region::CN).unwrap();
        let found = store
            .find_customers(tenant.id, &CustomerLookup::Phone(p), 10)
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert_eq!(found.len(), 1);
    }
    let (p50, p99) = percentiles(samples);
    println!("lookup by phone: p50 {p50:.3} ms  p99 {p99:.3} ms  (goal p99 < 5 ms)");

    // First page of the lists agents and supervisors open all day.
    let filters: Vec<(&str, MakeFilter)> = vec![
        (
            "status=open,pending_*",
            Box::new(|_| CaseFilter {
                statuses: vec![
                    CaseStatus::Open,
                    CaseStatus::PendingCustomer,
                    CaseStatus::PendingDepartment,
                ],
                limit: 50,
                ..Default::default()
            }),
        ),
        (
            "type=complaint",
            Box::new(|_| CaseFilter {
                case_type: Some(CaseType::Complaint),
                limit: 50,
                ..Default::default()
            }),
        ),
        (
            "assignee=X, active",
            Box::new({
                let agents = agents.clone();
                move |r: &mut Rng| CaseFilter {
                    assignee_id: Some(*r.pick(&agents)),
                    statuses: vec![CaseStatus::New, CaseStatus::Open],
                    limit: 50,
                    ..Default::default()
                }
            }),
        ),
        (
            "customer=X",
            Box::new(move |r: &mut Rng| CaseFilter {
                customer_id: Some(CustomerId(
                    first_customer + r.below(a.customers as u64) as i64,
                )),
                limit: 50,
                ..Default::default()
            }),
        ),
        (
            "type=complaint & channel=phone & status=open",
            Box::new(|_| CaseFilter {
                case_type: Some(CaseType::Complaint),
                channel: Some(Channel::Phone),
                statuses: vec![CaseStatus::Open],
                limit: 50,
                ..Default::default()
            }),
        ),
    ];
    for (name, make) in &filters {
        let mut samples = Vec::with_capacity(1000);
        for _ in 0..1000 {
            let f = make(&mut rng);
            let t = Instant::now();
            let page = store.list_cases(tenant.id, &f).await.unwrap();
            samples.push(t.elapsed());
            std::hint::black_box(page);
        }
        let (p50, p99) = percentiles(samples);
        println!("first page, {name}: p50 {p50:.3} ms  p99 {p99:.3} ms  (goal p99 < 20 ms)");
    }
    store.close().await;
}
