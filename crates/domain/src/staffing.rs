//! Staffing arithmetic for one queue of identical agents with Poisson
//! arrivals and exponential handle times: Erlang C when callers wait as
//! long as it takes, Erlang A when each caller hangs up after an
//! exponential patience. Managers ask "how many agents does this forecast
//! need"; these formulas answer it, and the simulator checks them.

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// Bounds that keep one calculation well under a second: a queue of a few
/// thousand agents, and (Erlang A) not more than a few thousand arrivals
/// within the service-level threshold.
const MAX_CALLS_PER_HOUR: f64 = 1_000_000.0;
const MAX_ERLANGS: f64 = 5_000.0;
const MAX_ARRIVALS_IN_THRESHOLD: f64 = 2_000.0;

/// The forecast load of one interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Load {
    pub calls_per_hour: f64,
    pub aht_secs: f64,
    /// Mean patience; `None` means callers never hang up (Erlang C).
    pub patience_secs: Option<f64>,
}

impl Load {
    pub fn new(
        calls_per_hour: f64,
        aht_secs: f64,
        patience_secs: Option<f64>,
    ) -> Result<Self, FieldError> {
        positive("calls_per_hour", calls_per_hour, true)?;
        positive("aht", aht_secs, false)?;
        if calls_per_hour > MAX_CALLS_PER_HOUR {
            return Err(FieldError::new(
                "calls_per_hour",
                format!("must be at most {MAX_CALLS_PER_HOUR}"),
            ));
        }
        if let Some(p) = patience_secs {
            positive("patience", p, false)?;
            if p > 3600.0 {
                return Err(FieldError::new(
                    "patience",
                    "must be at most an hour (3600 seconds)",
                ));
            }
        }
        let load = Load {
            calls_per_hour,
            aht_secs,
            patience_secs,
        };
        if load.erlangs() > MAX_ERLANGS {
            return Err(FieldError::new(
                "aht",
                format!("calls per hour × handle time exceed {MAX_ERLANGS} Erlangs"),
            ));
        }
        Ok(load)
    }

    /// Offered load in Erlangs: the agents' worth of work arriving.
    pub fn erlangs(&self) -> f64 {
        self.calls_per_hour / 3600.0 * self.aht_secs
    }
}

fn positive(field: &str, v: f64, zero_ok: bool) -> Result<(), FieldError> {
    if !v.is_finite() || v < 0.0 || (!zero_ok && v == 0.0) || v > 1e9 {
        return Err(FieldError::new(
            field,
            if zero_ok {
                "must be a number, zero or more"
            } else {
                "must be a number above zero"
            },
        ));
    }
    Ok(())
}

/// A service-level goal: `target` of calls answered within `threshold_secs`
/// (e.g. 80 % in 20 seconds), counted against all offered calls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub target: f64,
    pub threshold_secs: f64,
}

impl Goal {
    pub fn new(target: f64, threshold_secs: f64) -> Result<Self, FieldError> {
        if !(target > 0.0 && target < 1.0) {
            return Err(FieldError::new(
                "target_sl",
                "must be a share between 0 and 1, e.g. 0.8",
            ));
        }
        positive("sl_threshold", threshold_secs, true)?;
        Ok(Goal {
            target,
            threshold_secs,
        })
    }
}

/// What a number of agents gives under a load, as the formulas predict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub agents: u32,
    pub erlangs: f64,
    /// Share of callers who wait at all.
    pub p_wait: f64,
    /// Answered within the threshold ÷ offered.
    pub sl_offered: f64,
    /// Answered within the threshold ÷ answered.
    pub sl_answered: f64,
    /// Average speed of answer: mean wait of answered calls.
    pub asa_secs: f64,
    /// Mean wait of every caller, including those who hang up.
    pub mean_wait_secs: f64,
    /// Share of callers who hang up before an answer.
    pub abandon: f64,
    /// Share of the agents' time spent handling calls.
    pub occupancy: f64,
}

/// Erlang B: the share of calls that find every one of `n` agents busy in a
/// system without a queue. The recursion stays stable for thousands of agents.
pub fn erlang_b(n: u32, erlangs: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        b = erlangs * b / (k as f64 + erlangs * b);
    }
    b
}

/// The formulas' prediction for `agents` agents, or `None` when callers
/// never hang up and the agents cannot keep up (the queue grows forever).
pub fn predict(load: &Load, agents: u32, threshold_secs: f64) -> Option<Prediction> {
    match load.patience_secs {
        None => erlang_c(load, agents, threshold_secs),
        Some(p) => Some(erlang_a(load, agents, threshold_secs, p)),
    }
}

fn erlang_c(load: &Load, n: u32, t: f64) -> Option<Prediction> {
    let a = load.erlangs();
    let nf = n as f64;
    if nf <= a {
        return None;
    }
    if a == 0.0 {
        return Some(idle(n));
    }
    let b = erlang_b(n, a);
    let c = nf * b / (nf - a * (1.0 - b));
    let sl = 1.0 - c * (-(nf - a) * t / load.aht_secs).exp();
    let asa = c * load.aht_secs / (nf - a);
    Some(Prediction {
        agents: n,
        erlangs: a,
        p_wait: c,
        sl_offered: sl,
        sl_answered: sl,
        asa_secs: asa,
        mean_wait_secs: asa,
        abandon: 0.0,
        occupancy: a / nf,
    })
}

fn idle(n: u32) -> Prediction {
    Prediction {
        agents: n,
        erlangs: 0.0,
        p_wait: 0.0,
        sl_offered: 1.0,
        sl_answered: 1.0,
        asa_secs: 0.0,
        mean_wait_secs: 0.0,
        abandon: 0.0,
        occupancy: 0.0,
    }
}

/// Erlang A (M/M/n+M). The number in system is a birth–death chain, so its
/// stationary law is exact up to a negligible tail. A caller who finds `q`
/// others waiting moves up at rate `nμ + iθ` with `i` ahead and hangs up at
/// rate θ; which of the two happens first does not depend on when, so the
/// answered share and the answered callers' wait have closed sums, and only
/// "answered within t" needs the chain run forward in time.
fn erlang_a(load: &Load, n: u32, t: f64, patience: f64) -> Prediction {
    let a = load.erlangs();
    if a == 0.0 {
        return idle(n);
    }
    let lambda = load.calls_per_hour / 3600.0;
    let service = n as f64 / load.aht_secs; // nμ
    let theta = 1.0 / patience;

    // Weights relative to "exactly n in system"; below n they sum to 1/B − 1.
    let below = if n == 0 {
        0.0
    } else {
        1.0 / erlang_b(n, a) - 1.0
    };
    let mut found = vec![1.0f64]; // found[q]: weight of finding q waiting
    let mut total = below + 1.0;
    let mut r = 1.0f64;
    loop {
        let q = found.len() as f64;
        r *= lambda / (service + q * theta);
        if (r < 1e-16 * total && lambda < service + q * theta) || found.len() > 5_000_000 {
            break;
        }
        found.push(r);
        total += r;
        // An overloaded queue's weights grow past what a float holds before
        // they turn down: scale everything so far down together.
        if total > 1e250 {
            for w in &mut found {
                *w *= 1e-250;
            }
            (r, total) = (r * 1e-250, total * 1e-250);
        }
    }
    for w in &mut found {
        *w /= total;
    }
    let p_wait: f64 = found.iter().sum();

    let mut answered_waiting = 0.0; // P(wait > 0 and answered)
    let mut answered_wait_sum = 0.0; // E[wait; answered]
    let mut queue_len = 0.0;
    let mut h = 0.0;
    for (q, p) in found.iter().enumerate() {
        let qf = q as f64;
        h += 1.0 / (service + (qf + 1.0) * theta);
        let s = if service == 0.0 {
            0.0
        } else {
            service / (service + (qf + 1.0) * theta)
        };
        answered_waiting += p * s;
        answered_wait_sum += p * s * h;
        queue_len += p * qf;
    }
    let answered = (1.0 - p_wait) + answered_waiting;
    let abandon = (1.0 - answered).max(0.0);
    let within = (1.0 - p_wait) + answered_within(&found, service, theta, t);
    Prediction {
        agents: n,
        erlangs: a,
        p_wait,
        sl_offered: within,
        sl_answered: if answered > 0.0 {
            within / answered
        } else {
            0.0
        },
        asa_secs: if answered > 0.0 {
            answered_wait_sum / answered
        } else {
            0.0
        },
        mean_wait_secs: queue_len / lambda,
        abandon,
        occupancy: if n == 0 {
            0.0
        } else {
            (lambda * answered * load.aht_secs / n as f64).min(1.0)
        },
    }
}

/// P(a caller waits, then is answered within `t`), by uniformization: the
/// chain "i callers ahead" is stepped at a common rate Λ, in slices short
/// enough that the Poisson weights never underflow.
fn answered_within(found: &[f64], service: f64, theta: f64, t: f64) -> f64 {
    if service == 0.0 || t <= 0.0 {
        return 0.0;
    }
    let k = found.len();
    let rate = |i: usize| service + (i as f64 + 1.0) * theta;
    let big = rate(k - 1);
    let slices = ((big * t) / 30.0).ceil().max(1.0);
    let h = t / slices;
    let mut v = found.to_vec();
    let mut answered = 0.0;
    let mut step = vec![0.0; k];
    for _ in 0..slices as usize {
        let mean = big * h;
        let mut weight = (-mean).exp();
        let mut cum = weight;
        let mut cur = v.clone();
        let mut acc: Vec<f64> = cur.iter().map(|x| x * weight).collect();
        let mut done = 0.0; // answered within this slice after j steps
        let mut acc_done = 0.0;
        let mut j = 0u32;
        while cum < 1.0 - 1e-13 && j < 100_000 {
            done += cur[0] * service / big;
            for i in 0..k {
                let stay = cur[i] * (1.0 - rate(i) / big);
                let from_above = if i + 1 < k {
                    cur[i + 1] * (service + (i as f64 + 1.0) * theta) / big
                } else {
                    0.0
                };
                step[i] = stay + from_above;
            }
            std::mem::swap(&mut cur, &mut step);
            j += 1;
            weight *= mean / j as f64;
            cum += weight;
            for (a, c) in acc.iter_mut().zip(&cur) {
                *a += weight * c;
            }
            acc_done += weight * done;
        }
        // Steps past the cut-off carry the remaining weight at their last value.
        let rest = (1.0 - cum).max(0.0);
        acc_done += rest * done;
        answered += acc_done;
        v = acc;
    }
    answered
}

/// Whether the goal can be worked out for the load in reasonable time.
pub fn check(load: &Load, goal: &Goal) -> Result<(), FieldError> {
    if load.patience_secs.is_some()
        && load.calls_per_hour / 3600.0 * goal.threshold_secs > MAX_ARRIVALS_IN_THRESHOLD
    {
        return Err(FieldError::new(
            "sl_threshold",
            format!(
                "is too long for this load (more than {MAX_ARRIVALS_IN_THRESHOLD} calls arrive within it)"
            ),
        ));
    }
    Ok(())
}

/// The fewest agents meeting the goal, with the prediction for them.
/// Service level grows with agents, so a bisection finds it; no number of
/// agents below `target × Erlangs` can answer the target share.
pub fn agents_needed(load: &Load, goal: &Goal) -> Prediction {
    let a = load.erlangs();
    let meets = |n: u32| {
        predict(load, n, goal.threshold_secs)
            .filter(|p| p.sl_offered >= goal.target || n >= 100_000)
    };
    let mut lo = match load.patience_secs {
        None => a.floor() as u32 + 1,
        Some(_) => ((goal.target * a).ceil() as u32).max(1),
    };
    let mut hi = lo;
    let mut found = loop {
        if let Some(p) = meets(hi) {
            break p;
        }
        lo = hi + 1;
        hi = hi.saturating_mul(2).max(hi + 1);
    };
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match meets(mid) {
            Some(p) => {
                hi = mid;
                found = p;
            }
            None => lo = mid + 1,
        }
    }
    found
}

/// Agents needed in one interval of a day's forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Minutes after midnight the interval starts.
    pub start_minute: u32,
    pub calls: f64,
    pub need: Prediction,
}

/// Agents needed per interval for a forecast of calls per interval.
pub fn plan(
    volumes: &[f64],
    interval_minutes: u32,
    start_minute: u32,
    aht_secs: f64,
    patience_secs: Option<f64>,
    goal: &Goal,
) -> Result<Vec<Interval>, FieldError> {
    volumes
        .iter()
        .enumerate()
        .map(|(i, calls)| {
            let load = Load::new(
                calls * 60.0 / interval_minutes as f64,
                aht_secs,
                patience_secs,
            )?;
            check(&load, goal)?;
            let need = if *calls == 0.0 {
                idle(0)
            } else {
                agents_needed(&load, goal)
            };
            Ok(Interval {
                start_minute: start_minute + i as u32 * interval_minutes,
                calls: *calls,
                need,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
