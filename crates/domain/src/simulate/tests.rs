use super::*;
use crate::staffing::{Load, predict};

fn quiet(_: u64, _: u64) {}

/// The simulator, running the real routing engine, agrees with the
/// formulas on their own assumptions (Poisson arrivals, exponential handle
/// times, exponential patience or none) within its sampling error: four
/// batch-means standard errors, and the errors themselves small enough
/// that a real disagreement would show.
#[test]
fn the_simulator_agrees_with_erlang_c_and_erlang_a() {
    struct Case {
        per_hour: f64,
        aht: f64,
        agents: u32,
        patience: Option<f64>,
        threshold: f64,
        calls: f64,
    }
    let cases = [
        // The published Erlang C examples.
        Case {
            per_hour: 200.0,
            aht: 180.0,
            agents: 14,
            patience: None,
            threshold: 20.0,
            calls: 200_000.0,
        },
        Case {
            per_hour: 720.0,
            aht: 240.0,
            agents: 55,
            patience: None,
            threshold: 15.0,
            calls: 1_000_000.0,
        },
        // A small center under heavy load.
        Case {
            per_hour: 60.0,
            aht: 300.0,
            agents: 6,
            patience: None,
            threshold: 30.0,
            calls: 200_000.0,
        },
        // Erlang A: patience equal to the handle time, a busy center with
        // impatient callers, and one with fewer agents than Erlangs.
        Case {
            per_hour: 200.0,
            aht: 180.0,
            agents: 12,
            patience: Some(180.0),
            threshold: 20.0,
            calls: 200_000.0,
        },
        Case {
            per_hour: 720.0,
            aht: 240.0,
            agents: 48,
            patience: Some(120.0),
            threshold: 20.0,
            calls: 200_000.0,
        },
        Case {
            per_hour: 200.0,
            aht: 180.0,
            agents: 9,
            patience: Some(60.0),
            threshold: 20.0,
            calls: 200_000.0,
        },
    ];
    for c in cases {
        let load = Load::new(c.per_hour, c.aht, c.patience).unwrap();
        let want = predict(&load, c.agents, c.threshold).unwrap();
        let hours = c.calls / c.per_hour;
        let sc = Scenario::simple(
            c.per_hour,
            c.aht,
            c.agents,
            c.patience,
            hours,
            c.threshold,
            7,
        )
        .unwrap();
        let got = run(&sc, &mut quiet).unwrap();
        let (t, e) = (got.total, got.errors);
        let msg = format!(
            "{} agents, {} /h: formula {want:?}\nsimulated {t:?}\n{e:?}",
            c.agents, c.per_hour
        );
        assert!(t.offered as f64 > c.calls * 0.98, "{msg}");
        assert!(e.sl_offered > 0.0 && e.sl_offered < 0.01, "{msg}");
        assert!(
            (t.sl_offered - want.sl_offered).abs() < 4.0 * e.sl_offered + 0.002,
            "{msg}"
        );
        assert!(
            (t.p_wait - want.p_wait).abs() < 4.0 * e.p_wait + 0.002,
            "{msg}"
        );
        assert!(
            (t.asa_secs - want.asa_secs).abs() < 4.0 * e.asa_secs + 0.2,
            "{msg}"
        );
        assert!(
            (t.abandon_rate - want.abandon).abs() < 4.0 * e.abandon_rate + 0.002,
            "{msg}"
        );
        assert!((t.occupancy - want.occupancy).abs() < 0.01, "{msg}");
        assert_eq!(
            t.offered,
            t.answered + t.abandoned + t.expired + t.unanswered_at_end,
            "{msg}"
        );
        assert!(t.unanswered_at_end < 50, "{msg}");
        if c.patience.is_none() {
            assert_eq!(t.abandoned, 0);
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_day_and_another_seed_another() {
    let sc = |seed| Scenario::simple(200.0, 180.0, 12, Some(120.0), 8.0, 20.0, seed).unwrap();
    let a = run(&sc(1), &mut quiet).unwrap();
    let b = run(&sc(1), &mut quiet).unwrap();
    let c = run(&sc(2), &mut quiet).unwrap();
    assert_eq!(a.total, b.total);
    assert_ne!(a.total, c.total);
    assert_eq!(a.intervals.len(), 16);
    let per: u64 = a.intervals.iter().map(|i| i.offered).sum();
    assert_eq!(per, a.total.offered);
}

const SCENARIO: &str = r#"
interval_minutes = 30
start = "08:00"
sl_threshold_secs = 20
seed = 3

[[queues]]
name = "vip"
skills = { vip = 3 }
priority = 10
handle = { dist = "lognormal", mean = 240, sd = 120 }
patience = { dist = "exponential", mean = 90 }
arrivals = [20, 20, 20, 20]
overflow = [{ after_secs = 30, move_to = "general" }]

[[queues]]
name = "general"
strategy = "round_robin"
wrap_up_secs = 15
handle = { dist = "exponential", mean = 180 }
calls_per_hour = 60

[[agents]]
name = "vip desk"
count = 2
skills = { vip = 4 }

[[agents]]
name = "morning"
count = 4
shifts = [{ start = "08:00", end = "09:00" }]

[[agents]]
name = "late"
count = 4
shifts = [{ start = "09:00", end = "10:00" }]
"#;

#[test]
fn a_scenario_file_with_queues_skills_shifts_and_overflow_runs() {
    let file: ScenarioFile = toml::from_str(SCENARIO).unwrap();
    let sc = file.resolve().unwrap();
    assert_eq!((sc.intervals, sc.queues.len(), sc.groups.len()), (4, 2, 3));
    assert_eq!(sc.groups[2].shifts, [(60, 120)]);
    let mut calls = Vec::new();
    let r = run(&sc, &mut |done, _| calls.push(done)).unwrap();
    assert_eq!(r.queues[0].0, "vip");
    assert!(r.queues.iter().all(|(_, q)| q.offered > 0));
    // Ten agents in the morning hour's staffed time, ten in the late hour:
    // every interval is staffed and worked.
    assert!(
        r.intervals
            .iter()
            .all(|i| i.occupancy > 0.0 && i.occupancy <= 1.0)
    );
    assert_eq!(
        r.total.offered,
        r.total.answered + r.total.abandoned + r.total.expired + r.total.unanswered_at_end
    );
    assert_eq!(calls.last(), Some(&r.total.offered));
    // Overflow moves VIP calls the VIP desk cannot take to the general
    // queue, whose agents answer them: so more VIP calls are answered than
    // two agents alone could.
    assert!(r.queues[0].1.answered > 0);
}

#[test]
fn scenario_mistakes_name_the_field() {
    for (from, to, field) in [
        (
            "interval_minutes = 30",
            "interval_minutes = 20",
            "interval_minutes",
        ),
        (
            "move_to = \"general\"",
            "move_to = \"nowhere\"",
            "queues[0].overflow",
        ),
        ("calls_per_hour = 60", "", "queues[1].arrivals"),
        (
            "end = \"09:00\" }]\n\n[[agents]]\nname = \"late\"",
            "end = \"07:00\" }]\n\n[[agents]]\nname = \"late\"",
            "agents[1].shifts",
        ),
        ("vip = 4", "vip = 9", "agents[0].skills"),
        ("mean = 90", "mean = -1", "queues[0].patience"),
    ] {
        let text = SCENARIO.replace(from, to);
        assert_ne!(text, SCENARIO, "{from}");
        let file: ScenarioFile = toml::from_str(&text).unwrap();
        assert_eq!(file.resolve().unwrap_err().field, field, "{from}");
    }
}

#[test]
fn volumes_are_read_from_csv() {
    let v = parse_volumes("time,calls\n08:00,10\n08:30, 12\n\n09:30,7\n", 30, "08:00").unwrap();
    assert_eq!(v, [10.0, 12.0, 0.0, 7.0]);
    for (text, field) in [
        ("08:00,10\n08:15,3\n", "line 2"),
        ("08:30,1\n08:00,3\n", "line 2"),
        ("08:00,-1\n", "line 1"),
        ("time,calls\n", "volumes"),
        ("08:00,1\nlater,2\n", "line 2"),
    ] {
        assert_eq!(
            parse_volumes(text, 30, "08:00").unwrap_err().field,
            field,
            "{text}"
        );
    }
}

/// The check beside a staffing answer measures after the empty start has
/// worn off: for a big, busy queue an hour from empty would look far better
/// than the steady state the formula describes.
#[test]
fn the_check_of_a_steady_load_leaves_out_the_empty_start() {
    let load = Load::new(100_000.0, 180.0, Some(60.0)).unwrap();
    let want = predict(&load, 4751, 20.0).unwrap();
    let got = check(&load, 4751, 20.0, 50_000, 1).unwrap();
    assert!(
        (got.total.p_wait - want.p_wait).abs() < 0.03,
        "{want:?} {:?}",
        got.total
    );
    assert!(
        (got.total.occupancy - want.occupancy).abs() < 0.01,
        "{want:?} {:?}",
        got.total
    );
}
