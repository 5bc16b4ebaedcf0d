//! Search feed benchmark (not a test): the demo data at a multiple, indexed
//! from the store the way `carecenter reindex` and the server do it (the
//! store's feed, a thousand documents a batch); then how long a note takes
//! from its commit to being found (the server adds its 300 ms poll).
//!
//! cargo run --release -p carecenter-bench --bin feed-bench -- [sqlite|postgres] [--scale N] [--notes N]

#[path = "db.rs"]
mod db;

use domain::ids::{CaseId, TenantId};
use domain::model::{Actor, InteractionInput};
use jiff::Timestamp;
use search::{Kind, SearchIndex, SearchQuery};
use std::sync::Arc;
use std::time::Instant;
use store::{FeedMark, Store};

#[tokio::main]
async fn main() {
    let mut backend = "sqlite".to_string();
    let (mut scale, mut notes) = (20usize, 200usize);
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "sqlite" | "postgres" => backend = x,
            "--scale" => scale = it.next().and_then(|n| n.parse().ok()).unwrap_or(scale),
            "--notes" => notes = it.next().and_then(|n| n.parse().ok()).unwrap_or(notes),
            other => panic!("unknown argument {other}"),
        }
    }
    let store = db::fresh_store(backend.as_str(), "feed.db").await;
    let sizes = demo::Sizes::times(scale);
    let hash = web::auth::hash_password(demo::DEMO_PASSWORD).expect("hash");
    let started = Instant::now();
    demo::seed(&store, &hash, &sizes, Timestamp::now())
        .await
        .expect("seed");
    println!(
        "{backend} demo data ×{scale}: seeded in {:.1} s; {} documents to index",
        started.elapsed().as_secs_f64(),
        store.search_document_count().await.expect("count")
    );

    let dir = store::testing::temp_dir().join("feed-index");
    let index = Arc::new(SearchIndex::open(&dir).expect("index"));
    let started = Instant::now();
    let (mut mark, mut total) = (FeedMark::default(), 0);
    loop {
        let (next, more, n) = web::finder::feed_once(&store, &index, mark)
            .await
            .expect("feed");
        total += n;
        mark = next;
        if !more {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fed {total} documents from the store into the index in {secs:.1} s: {:.0} a second",
        total as f64 / secs
    );

    // A note written now: how long until a search finds it.
    let tenant = store.tenant_by_slug("auto").await.expect("tenant").id;
    let actor = Actor {
        tenant_id: tenant,
        user_id: None,
        channel: None,
    };
    let case = first_case(&store, tenant).await;
    let mut times = Vec::new();
    for n in 0..notes {
        let word = format!("feedprobe{n}x");
        let note = InteractionInput::note(format!("客户来电确认 {word}"), Timestamp::now());
        let t = Instant::now();
        store
            .add_interaction(actor, case, &note, Timestamp::now())
            .await
            .expect("note");
        loop {
            let (next, _, _) = web::finder::feed_once(&store, &index, mark)
                .await
                .expect("feed");
            mark = next;
            let q = SearchQuery {
                tenant: tenant.0,
                text: word.clone(),
                kinds: vec![Kind::Interaction],
                public_only: false,
                not_case: None,
                limit: 1,
            };
            if !index.search(&q).expect("search").is_empty() {
                break;
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{} notes, commit to found (without the server's 300 ms poll): p50 {:.1} ms, p99 {:.1} ms",
        times.len(),
        at(0.5),
        at(0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn first_case(store: &Store, tenant: TenantId) -> CaseId {
    let f = domain::model::CaseFilter {
        limit: 1,
        ..Default::default()
    };
    store.list_cases(tenant, &f).await.expect("cases")[0].id
}
