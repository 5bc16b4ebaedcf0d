use super::*;

fn load(per_hour: f64, aht: f64, patience: Option<f64>) -> Load {
    Load::new(per_hour, aht, patience).unwrap()
}

/// Published Erlang C examples, with the figures their authors print.
#[test]
fn erlang_c_matches_published_examples() {
    struct Case {
        per_hour: f64,
        aht: f64,
        agents: u32,
        threshold: f64,
        p_wait: f64,
        sl: f64,
        asa: f64,
    }
    let cases = [
        // The "360 calls per half hour, 4-minute calls, 55 agents, 15 s"
        // walk-through: 48 Erlangs, 23.87 % wait, ASA 8.18 s.
        Case {
            per_hour: 720.0,
            aht: 240.0,
            agents: 55,
            threshold: 15.0,
            p_wait: 0.2387,
            sl: 0.8459,
            asa: 8.184,
        },
        // Call Centre Helper's worked example: 100 calls in 30 minutes,
        // AHT 3 minutes, 14 agents: 17.4 % wait, 88.8 % in 20 s, ASA 7.8 s.
        Case {
            per_hour: 200.0,
            aht: 180.0,
            agents: 14,
            threshold: 20.0,
            p_wait: 0.174,
            sl: 0.888,
            asa: 7.8,
        },
    ];
    for c in cases {
        let p = predict(&load(c.per_hour, c.aht, None), c.agents, c.threshold).unwrap();
        assert!((p.p_wait - c.p_wait).abs() < 0.0006, "{:?}", p);
        assert!((p.sl_offered - c.sl).abs() < 0.0006, "{:?}", p);
        assert!((p.asa_secs - c.asa).abs() < 0.05, "{:?}", p);
        assert_eq!(p.abandon, 0.0);
    }
    // The same example's staffing answer for 80 % in 20 s is 14 agents.
    let need = agents_needed(&load(200.0, 180.0, None), &Goal::new(0.8, 20.0).unwrap());
    assert_eq!(need.agents, 14);
}

#[test]
fn erlang_c_refuses_an_overloaded_queue() {
    assert!(predict(&load(200.0, 180.0, None), 10, 20.0).is_none());
    assert!(predict(&load(200.0, 180.0, None), 9, 20.0).is_none());
}

/// When callers are as patient as a call is long (θ = μ), every caller in the
/// system leaves at rate μ whether waiting or served, so the number in the
/// system is Poisson(A): an independent closed form for Erlang A.
#[test]
fn erlang_a_with_patience_equal_to_handle_time_is_poisson() {
    for (per_hour, aht, n) in [(200.0, 180.0, 8u32), (720.0, 240.0, 50), (60.0, 300.0, 3)] {
        let l = load(per_hour, aht, Some(aht));
        let a = l.erlangs();
        let p = predict(&l, n, 20.0).unwrap();
        // P(K >= n) and E[(K - n)+] for K ~ Poisson(a).
        let mut pk = (-a).exp();
        let (mut below, mut excess) = (0.0, 0.0);
        for k in 0..2000u32 {
            if k < n {
                below += pk;
            } else {
                excess += (k - n) as f64 * pk;
            }
            pk *= a / (k + 1) as f64;
        }
        assert!((p.p_wait - (1.0 - below)).abs() < 1e-9, "{p:?}");
        let abandon = excess / aht / (per_hour / 3600.0);
        assert!((p.abandon - abandon).abs() < 1e-9, "{p:?}");
        assert!((p.mean_wait_secs - excess / (per_hour / 3600.0)).abs() < 1e-6);
    }
}

#[test]
fn erlang_a_tends_to_erlang_c_as_patience_grows() {
    let c = predict(&load(720.0, 240.0, None), 55, 20.0).unwrap();
    // Past what `Load::new` accepts: the limit, not the formula.
    let patient = Load {
        calls_per_hour: 720.0,
        aht_secs: 240.0,
        patience_secs: Some(1e8),
    };
    let a = predict(&patient, 55, 20.0).unwrap();
    for (x, y) in [
        (c.p_wait, a.p_wait),
        (c.sl_offered, a.sl_offered),
        (c.asa_secs / 10.0, a.asa_secs / 10.0),
    ] {
        assert!((x - y).abs() < 1e-4, "{c:?} {a:?}");
    }
}

#[test]
fn impatience_needs_fewer_agents_and_overload_stays_finite() {
    let goal = Goal::new(0.8, 20.0).unwrap();
    let c = agents_needed(&load(200.0, 180.0, None), &goal);
    let a = agents_needed(&load(200.0, 180.0, Some(60.0)), &goal);
    assert!(a.agents < c.agents && a.sl_offered >= 0.8, "{c:?} {a:?}");
    // Fewer agents than Erlangs: Erlang A still answers, with heavy abandonment.
    let over = predict(&load(200.0, 180.0, Some(60.0)), 8, 20.0).unwrap();
    assert!(over.abandon > 0.2 && over.abandon < 1.0 && over.occupancy <= 1.0);
    assert!(over.sl_answered > over.sl_offered);
}

#[test]
fn inputs_are_checked() {
    assert_eq!(
        Load::new(-1.0, 180.0, None).unwrap_err().field,
        "calls_per_hour"
    );
    assert_eq!(Load::new(10.0, 0.0, None).unwrap_err().field, "aht");
    assert_eq!(
        Load::new(10.0, 1.0, Some(f64::NAN)).unwrap_err().field,
        "patience"
    );
    assert_eq!(Goal::new(1.0, 20.0).unwrap_err().field, "target_sl");
    assert!(Goal::new(0.8, 0.0).is_ok());
    let idle = predict(&load(0.0, 180.0, None), 1, 20.0).unwrap();
    assert_eq!((idle.sl_offered, idle.occupancy), (1.0, 0.0));
}

/// The bisection finds the same answer as counting up one agent at a time.
#[test]
fn the_fewest_agents_are_the_fewest() {
    for (per_hour, aht, patience, target, t) in [
        (200.0, 180.0, None, 0.8, 20.0),
        (720.0, 240.0, None, 0.9, 15.0),
        (30.0, 600.0, None, 0.5, 60.0),
        (200.0, 180.0, Some(60.0), 0.8, 20.0),
        (3000.0, 300.0, Some(120.0), 0.85, 30.0),
        (50.0, 200.0, Some(600.0), 0.95, 10.0),
    ] {
        let l = load(per_hour, aht, patience);
        let goal = Goal::new(target, t).unwrap();
        let need = agents_needed(&l, &goal);
        assert!(need.sl_offered >= target);
        let fewer = predict(&l, need.agents - 1, t);
        assert!(fewer.is_none_or(|p| p.sl_offered < target), "{need:?}");
    }
}

#[test]
fn loads_too_big_to_work_out_are_refused() {
    assert_eq!(
        Load::new(2e6, 10.0, None).unwrap_err().field,
        "calls_per_hour"
    );
    assert_eq!(Load::new(100_000.0, 600.0, None).unwrap_err().field, "aht");
    assert_eq!(
        Load::new(100.0, 60.0, Some(7200.0)).unwrap_err().field,
        "patience"
    );
    let big = Load::new(100_000.0, 60.0, Some(60.0)).unwrap();
    let goal = Goal::new(0.8, 600.0).unwrap();
    assert_eq!(check(&big, &goal).unwrap_err().field, "sl_threshold");
    assert!(check(&big, &Goal::new(0.8, 20.0).unwrap()).is_ok());
}
