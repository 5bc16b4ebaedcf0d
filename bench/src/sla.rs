//! SLA benchmark (not a test): due instants and business-time sums per
//! second on a calendar with lunch breaks, weekends, a year of holidays and
//! make-up days, for targets from minutes to weeks.
//!
//! cargo run --release -p carecenter-bench --bin sla-bench -- [--sums N]

use demo::Rng;
use domain::calendar::{Calendar, CalendarSpec, ExceptionsSpec};
use jiff::Timestamp;
use std::time::Instant;

fn calendar() -> Calendar {
    let day = || vec!["08:30-12:00".to_string(), "13:00-18:00".to_string()];
    let hours = ["mon", "tue", "wed", "thu", "fri"].map(|d| (d.to_string(), day()));
    let dates = |list: &[&str]| list.iter().map(|d| d.to_string()).collect();
    Calendar::parse(&CalendarSpec {
        timezone: "Asia/Shanghai".into(),
        hours: hours.into_iter().collect(),
        exceptions: ExceptionsSpec {
            holidays: dates(&[
                "2026-01-01",
                "2026-02-16",
                "2026-02-17",
                "2026-02-18",
                "2026-02-19",
                "2026-02-20",
                "2026-04-06",
                "2026-05-01",
                "2026-05-04",
                "2026-05-05",
                "2026-06-19",
                "2026-09-25",
                "2026-10-01",
                "2026-10-02",
                "2026-10-05",
                "2026-10-06",
                "2026-10-07",
                "2027-01-01",
            ]),
            workdays: dates(&["2026-02-14", "2026-02-28", "2026-05-09", "2026-10-10"]),
            hours: Default::default(),
        },
    })
    .expect("the bench calendar")
}

fn main() {
    let mut sums = 200_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sums" => sums = args.next().and_then(|n| n.parse().ok()).expect("--sums N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let c = calendar();
    let mut rng = Rng::new(11);
    // 2026-01-01 00:00 in Shanghai.
    let year = 1_767_196_800;
    let inputs: Vec<(Timestamp, i64)> = (0..sums)
        .map(|_| {
            let start = Timestamp::from_second(year + rng.below(365 * 86_400) as i64)
                .expect("an instant in 2026");
            // First responses (minutes to hours) and resolutions (days to weeks).
            let minutes = match rng.below(10) {
                0..=6 => 5 + rng.below(8 * 60),
                _ => 8 * 60 + rng.below(15 * 8 * 60),
            };
            (start, minutes as i64)
        })
        .collect();
    let begin = Instant::now();
    let mut dues = Vec::with_capacity(sums);
    for &(start, minutes) in &inputs {
        dues.push(c.due(start, minutes).expect("due"));
    }
    let due_time = begin.elapsed().as_secs_f64();
    let begin = Instant::now();
    let mut total = 0i64;
    for (&(start, _), &due) in inputs.iter().zip(&dues) {
        total += c.elapsed(start, due).expect("elapsed").as_secs() / 60;
    }
    let elapsed_time = begin.elapsed().as_secs_f64();
    let expected: i64 = inputs.iter().map(|i| i.1).sum();
    assert_eq!(total, expected, "elapsed(start, due(start, n)) = n");
    println!(
        "due: {sums} in {due_time:.2} s = {:.0}/s   elapsed: {:.0}/s",
        sums as f64 / due_time,
        sums as f64 / elapsed_time
    );
}
