//! Page render benchmark (not a test): the server on the demo data (or a
//! multiple of it), every page an agent, a supervisor and an administrator
//! open all day, fetched over HTTP in a loop; p50 and p99 per page.
//!
//! cargo run --release -p carecenter-bench --bin page-bench -- [sqlite|postgres] [--scale N] [--rounds N]

#[path = "db.rs"]
mod db;

use jiff::Timestamp;
use std::time::{Duration, Instant};

struct Args {
    backend: String,
    scale: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        scale: 1,
        rounds: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "sqlite" | "postgres" => a.backend = x,
            "--scale" => a.scale = it.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--rounds" => a.rounds = it.next().and_then(|n| n.parse().ok()).unwrap_or(100),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A browser's session: logged in through the form, cookie kept.
async fn session(base: &str, username: &str) -> reqwest::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = http
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", demo::DEMO_PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 303, "login {username}");
    http
}

#[tokio::main]
async fn main() {
    let a = args();
    let store = db::fresh_store(a.backend.as_str(), "pages.db").await;
    let sizes = demo::Sizes::times(a.scale);
    let hash = web::auth::hash_password(demo::DEMO_PASSWORD).expect("hash");
    let started = Instant::now();
    demo::seed(&store, &hash, &sizes, Timestamp::now())
        .await
        .expect("seed");
    println!(
        "{} demo data ×{}: {} + {} customers, {} + {} cases, seeded in {:.1} s",
        a.backend,
        a.scale,
        sizes.auto_customers,
        sizes.fund_customers,
        sizes.auto_cases,
        sizes.fund_cases,
        started.elapsed().as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let index = std::sync::Arc::new(search::SearchIndex::in_memory().expect("index"));
    let state = web::AppState::new(store.clone(), false, index);
    tokio::spawn(async move {
        let _ = web::serve(listener, state, std::future::pending()).await;
    });
    let tenant = store.tenant_by_slug("auto").await.expect("tenant");
    let cases = store
        .list_cases(
            tenant.id,
            &domain::model::CaseFilter {
                limit: 60,
                ..Default::default()
            },
        )
        .await
        .expect("cases");
    // Cases with a customer show the whole customer 360.
    let cases: Vec<_> = cases
        .into_iter()
        .filter(|c| c.customer_id.is_some())
        .take(5)
        .collect();
    let customer = cases
        .iter()
        .find_map(|c| c.customer_id)
        .expect("a case with a customer");
    let agent = session(&base, "auto.agent1").await;
    let supervisor = session(&base, "auto.supervisor").await;
    let admin = session(&base, "auto.admin").await;
    let mut pages: Vec<(&reqwest::Client, String)> = vec![
        (&agent, "/desk".into()),
        (&agent, "/cases".into()),
        (&agent, "/cases?sla=breached&sort=sla_due".into()),
        (&agent, format!("/customers/{customer}")),
        (&agent, "/customers?q=%E7%8E%8B".into()),
        (&agent, "/tasks".into()),
        (&agent, "/notifications".into()),
        (&supervisor, "/wallboard".into()),
        (&supervisor, "/team".into()),
        (&supervisor, "/reports".into()),
        (&supervisor, "/routing".into()),
        (&admin, "/admin/users".into()),
        (&admin, "/admin/audit".into()),
        (&admin, "/sla".into()),
        (&admin, "/mail".into()),
        (&admin, "/admin".into()),
        (&admin, "/admin/roles".into()),
        (&admin, "/admin/catalog".into()),
        (&admin, "/cti".into()),
        (&agent, "/kb".into()),
        (&agent, "/scripts".into()),
        (&agent, "/search?q=%E4%BF%9D%E5%85%BB".into()),
        (&agent, "/portal/auto".into()),
    ];
    for c in &cases {
        pages.insert(3, (&agent, format!("/cases/{}", c.id)));
    }
    println!(
        "{:<40} {:>7} {:>9} {:>9} {:>9}",
        "page", "bytes", "p50 ms", "p99 ms", "max ms"
    );
    let mut worst: f64 = 0.0;
    for (client, path) in &pages {
        let mut samples = Vec::with_capacity(a.rounds);
        let mut bytes = 0;
        for _ in 0..a.rounds {
            let t = Instant::now();
            let resp = client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("get");
            let status = resp.status();
            let body = resp.bytes().await.expect("body");
            samples.push(t.elapsed());
            assert_eq!(status, 200, "{path}");
            bytes = body.len();
        }
        samples.sort();
        let at = |p: f64| ms(samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]);
        worst = worst.max(at(0.99));
        println!(
            "{path:<40} {bytes:>7} {:>9.2} {:>9.2} {:>9.2}",
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    println!("worst p99: {worst:.2} ms (goal: well under 100 ms)");
}
