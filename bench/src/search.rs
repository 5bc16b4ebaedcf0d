//! Search benchmark: an index of a million contacts and ten thousand
//! articles in Chinese and English, built on disk as the server keeps it;
//! the indexing rate, then p50/p99 of searches a contact center makes.
//!
//!     cargo run --release -p carecenter-bench --bin search-bench -- [--contacts N] [--articles N] [--rounds N]

use domain::rng::Rng;
use search::{Doc, Kind, SearchIndex, SearchQuery};
use std::time::Instant;

const ZH: &[&str] = &[
    "客户",
    "反映",
    "车辆",
    "保养",
    "周期",
    "公里",
    "刹车",
    "异响",
    "更换",
    "轮胎",
    "发票",
    "抬头",
    "退款",
    "投诉",
    "服务站",
    "预约",
    "检查",
    "召回",
    "空调",
    "不制冷",
    "导航",
    "升级",
    "保险",
    "理赔",
    "道路救援",
    "拖车",
    "电池",
    "充电",
    "续航",
    "延保",
    "价格",
    "优惠",
    "活动",
    "到店",
    "试驾",
    "贷款",
    "利率",
    "配件",
    "缺货",
    "等待",
    "回访",
    "满意",
    "态度",
    "维修",
    "质量",
    "漏油",
    "雨刮",
    "车窗",
    "异味",
    "噪音",
];
const EN: &[&str] = &[
    "customer",
    "reports",
    "brake",
    "noise",
    "maintenance",
    "interval",
    "tyre",
    "replacement",
    "invoice",
    "refund",
    "complaint",
    "service",
    "station",
    "appointment",
    "recall",
    "air",
    "conditioning",
    "navigation",
    "update",
    "insurance",
    "claim",
    "roadside",
    "assistance",
    "battery",
    "charging",
    "range",
    "warranty",
    "price",
    "promotion",
    "loan",
    "parts",
    "delivery",
    "follow",
    "satisfied",
    "repair",
    "quality",
    "leak",
];
const QUERIES: &[&str] = &[
    "保养 周期",
    "刹车 异响",
    "空调 不制冷",
    "发票 抬头",
    "道路救援 拖车",
    "电池 续航",
    "延保 价格",
    "配件 缺货",
    "投诉 态度",
    "召回 检查",
    "brake noise",
    "maintenance interval",
    "battery range",
    "roadside assistance",
    "invoice refund",
    "air conditioning repair",
    "recall appointment",
    "warranty price",
    "2026-004711",
    "LSVAM4187C2184841",
];

struct Args {
    contacts: usize,
    articles: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        contacts: 1_000_000,
        articles: 10_000,
        rounds: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let n: usize = it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            eprintln!("{flag} needs a number");
            std::process::exit(2)
        });
        match flag.as_str() {
            "--contacts" => a.contacts = n,
            "--articles" => a.articles = n,
            "--rounds" => a.rounds = n,
            _ => {
                eprintln!("unknown flag {flag}");
                std::process::exit(2)
            }
        }
    }
    a
}

/// A sentence of 15 to 60 words, mostly Chinese, some English, a number.
fn text(rng: &mut Rng) -> String {
    let n = 15 + rng.below(45) as usize;
    let mut out = String::new();
    for i in 0..n {
        if rng.below(4) == 0 {
            out.push(' ');
            out.push_str(rng.pick::<&str>(EN));
            out.push(' ');
        } else {
            out.push_str(rng.pick::<&str>(ZH));
        }
        if i % 9 == 8 {
            out.push_str(&format!("，{} 公里。", rng.below(90_000)));
        }
    }
    out
}

fn main() {
    let a = args();
    let dir = std::env::temp_dir().join(format!("cc-search-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let index = SearchIndex::open(&dir).expect("open the index");
    let mut rng = Rng::new(20_261_123);
    let tenants = 4;
    let started = Instant::now();
    let total = a.contacts + a.articles;
    let mut batch = Vec::with_capacity(10_000);
    let mut done = 0;
    for i in 0..total {
        let tenant = 1 + (i % tenants) as i64;
        let doc = if i < a.articles {
            Doc {
                tenant,
                kind: Kind::Article,
                id: i as i64,
                case_id: None,
                public: i % 2 == 0,
                title: format!("{}{}", rng.pick(ZH), rng.pick(ZH)),
                body: text(&mut rng),
            }
        } else {
            let case = (i / 3) as i64;
            Doc {
                tenant,
                kind: Kind::Interaction,
                id: i as i64,
                case_id: Some(case),
                public: false,
                title: format!(
                    "2026-{:06} {}{}",
                    case % 1_000_000,
                    rng.pick(ZH),
                    rng.pick(ZH)
                ),
                body: if i % 50_000 == 7 {
                    format!("{} LSVAM4187C2184841", text(&mut rng))
                } else {
                    text(&mut rng)
                },
            }
        };
        batch.push(doc);
        if batch.len() == 10_000 || i + 1 == total {
            index.put(&batch, &[], &format!("{i}")).expect("put");
            done += batch.len();
            batch.clear();
            eprint!("\rindexed {done}/{total}");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    index.settle().expect("merges");
    println!(
        "indexed {total} documents in {secs:.1} s: {:.0} a second ({} contacts, {} articles, {tenants} tenants)",
        total as f64 / secs,
        a.contacts,
        a.articles
    );

    let mut times = Vec::new();
    let mut found = 0;
    for round in 0..a.rounds {
        for (qi, q) in QUERIES.iter().enumerate() {
            let query = SearchQuery {
                tenant: 1 + ((round + qi) % tenants) as i64,
                text: q.to_string(),
                kinds: Kind::ALL.to_vec(),
                public_only: false,
                not_case: None,
                limit: 20,
            };
            let t = Instant::now();
            let hits = index.search(&query).expect("search");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found += hits.len();
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{} searches (20 queries, Chinese and English, 20 hits with snippets): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.1} hits a search",
        times.len(),
        at(0.50),
        at(0.99),
        times[times.len() - 1],
        found as f64 / times.len() as f64
    );
    // Suggestions beside a case: its words (a subject and a description)
    // against the articles, and against earlier cases and contacts.
    let mut times = Vec::new();
    for round in 0..a.rounds * 10 {
        let words: String = (0..12).map(|_| *rng.pick(ZH)).collect();
        for kinds in [vec![Kind::Article], vec![Kind::Case, Kind::Interaction]] {
            let query = SearchQuery {
                tenant: 1 + (round % tenants) as i64,
                text: words.clone(),
                kinds,
                public_only: false,
                not_case: Some(round as i64),
                limit: 5,
            };
            let t = Instant::now();
            index.search(&query).expect("search");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{} suggestion searches (12 words of a case; articles, then cases and contacts): p50 {:.2} ms, p99 {:.2} ms",
        times.len(),
        at(0.50),
        at(0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
