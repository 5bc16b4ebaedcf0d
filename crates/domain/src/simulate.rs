//! The contact-center simulator: generated (or historical) arrivals run
//! through the real routing engine in simulated time, with agents who
//! answer at once, handle for a sampled time and log in and out by shift.
//! Its figures are what a manager reads off a day: offered, answered,
//! abandoned, service level, ASA, occupancy, per interval and in total.

use crate::FieldError;
use crate::case::Priority;
use crate::ids::{QueueId, UserId, WorkId};
use crate::rng::Rng;
use crate::routing::{
    AgentSpec, Capacity, Event, Prefer, Presence, QueueSpec, Router, SkillLevel, Work, WorkKind,
};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

mod file;
#[cfg(test)]
mod tests;

pub use file::{ScenarioFile, clock, hhmm, parse_volumes};

/// A time distribution in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    Exponential {
        mean: f64,
    },
    Constant {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// Log-normal with this mean and standard deviation: handle times
    /// in real centers look like this, with a long right tail.
    Lognormal {
        mean: f64,
        sd: f64,
    },
}

impl Dist {
    pub fn check(&self, field: &str) -> Result<(), FieldError> {
        let ok = |v: f64| (0.0..1e8).contains(&v);
        let fine = match *self {
            Dist::Exponential { mean } => ok(mean) && mean > 0.0,
            Dist::Constant { value } => ok(value),
            Dist::Uniform { min, max } => ok(min) && ok(max) && min <= max,
            Dist::Lognormal { mean, sd } => ok(mean) && ok(sd) && mean > 0.0,
        };
        if fine {
            Ok(())
        } else {
            Err(FieldError::new(
                field,
                "needs positive, finite seconds (and min <= max)",
            ))
        }
    }

    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Exponential { mean } | Dist::Lognormal { mean, .. } => mean,
            Dist::Constant { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
        }
    }

    fn sample(&self, rng: &mut Rng) -> f64 {
        match *self {
            Dist::Exponential { mean } => rng.exponential(mean),
            Dist::Constant { value } => value,
            Dist::Uniform { min, max } => min + (max - min) * rng.unit(),
            Dist::Lognormal { mean, sd } => {
                let s2 = (1.0 + (sd * sd) / (mean * mean)).ln();
                (mean.ln() - s2 / 2.0 + s2.sqrt() * rng.normal()).exp()
            }
        }
    }
}

/// A queue of the scenario with its load.
#[derive(Debug, Clone)]
pub struct SimQueue {
    pub spec: QueueSpec,
    /// Expected arrivals in each interval.
    pub arrivals: Vec<f64>,
    pub handle: Dist,
    pub patience: Option<Dist>,
}

/// Agents alike in skills and hours.
#[derive(Debug, Clone)]
pub struct SimGroup {
    pub name: String,
    pub count: u32,
    pub skills: Vec<SkillLevel>,
    /// Logged in from, to (minutes from the start); empty means all along.
    pub shifts: Vec<(u32, u32)>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    /// Minutes after midnight the first interval starts (for labels).
    pub start_minute: u32,
    pub interval_minutes: u32,
    pub intervals: usize,
    pub sl_threshold_secs: f64,
    pub seed: u64,
    /// Leading intervals left out of the totals: a steady load's check
    /// starts measuring once the empty start has worn off.
    pub warmup_intervals: usize,
    pub queues: Vec<SimQueue>,
    pub groups: Vec<SimGroup>,
}

impl Scenario {
    /// One queue of calls, identical agents, exponential handle times and
    /// (if given) exponential patience: the Erlang C / Erlang A model.
    pub fn simple(
        calls_per_hour: f64,
        aht_secs: f64,
        agents: u32,
        patience_secs: Option<f64>,
        hours: f64,
        sl_threshold_secs: f64,
        seed: u64,
    ) -> Result<Scenario, FieldError> {
        crate::staffing::Load::new(calls_per_hour, aht_secs, patience_secs)?;
        if !(hours > 0.0 && hours <= 24.0 * 366.0) {
            return Err(FieldError::new(
                "hours",
                "must be above 0 and at most a year",
            ));
        }
        let interval_minutes = if hours <= 24.0 { 30 } else { 60 };
        let intervals = (hours * 60.0 / interval_minutes as f64).ceil() as usize;
        let per_interval = calls_per_hour * interval_minutes as f64 / 60.0;
        let mut arrivals = vec![per_interval; intervals];
        // A last, partial interval gets its share.
        let whole = hours * 60.0 / interval_minutes as f64;
        if let Some(last) = arrivals.last_mut() {
            *last *= 1.0 - (intervals as f64 - whole);
        }
        Ok(Scenario {
            start_minute: 0,
            interval_minutes,
            intervals,
            sl_threshold_secs,
            seed,
            warmup_intervals: 0,
            queues: vec![SimQueue {
                spec: QueueSpec::new(QueueId(1), "calls", &[WorkKind::Call]),
                arrivals,
                handle: Dist::Exponential { mean: aht_secs },
                patience: patience_secs.map(|mean| Dist::Exponential { mean }),
            }],
            groups: vec![SimGroup {
                name: "agents".into(),
                count: agents,
                skills: Vec::new(),
                shifts: Vec::new(),
            }],
        })
    }

    pub fn expected_calls(&self) -> f64 {
        self.queues.iter().flat_map(|q| &q.arrivals).sum()
    }
}

/// The figures of one interval, one queue or the whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Left by the queue's maximum wait or closed hours.
    pub expired: u64,
    /// Still waiting when the last agent logged out.
    pub unanswered_at_end: u64,
    pub answered_within: u64,
    /// Callers who waited at all (answered or not).
    pub waited: u64,
    pub wait_answered_secs: f64,
    pub wait_all_secs: f64,
    pub busy_secs: f64,
    pub staffed_secs: f64,
}

impl Figures {
    fn ratio(a: f64, b: f64) -> f64 {
        if b > 0.0 { a / b } else { 0.0 }
    }
    pub fn sl_offered(&self) -> f64 {
        Self::ratio(self.answered_within as f64, self.offered as f64)
    }
    pub fn sl_answered(&self) -> f64 {
        Self::ratio(self.answered_within as f64, self.answered as f64)
    }
    pub fn asa_secs(&self) -> f64 {
        Self::ratio(self.wait_answered_secs, self.answered as f64)
    }
    pub fn mean_wait_secs(&self) -> f64 {
        Self::ratio(self.wait_all_secs, self.offered as f64)
    }
    pub fn p_wait(&self) -> f64 {
        Self::ratio(self.waited as f64, self.offered as f64)
    }
    pub fn abandon_rate(&self) -> f64 {
        Self::ratio(self.abandoned as f64, self.offered as f64)
    }
    pub fn occupancy(&self) -> f64 {
        Self::ratio(self.busy_secs, self.staffed_secs)
    }

    fn add(&mut self, o: &Figures) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.expired += o.expired;
        self.unanswered_at_end += o.unanswered_at_end;
        self.answered_within += o.answered_within;
        self.waited += o.waited;
        self.wait_answered_secs += o.wait_answered_secs;
        self.wait_all_secs += o.wait_all_secs;
        self.busy_secs += o.busy_secs;
        self.staffed_secs += o.staffed_secs;
    }

    /// The derived rates, as printed and sent.
    pub fn summary(&self) -> Summary {
        Summary {
            offered: self.offered,
            answered: self.answered,
            abandoned: self.abandoned,
            expired: self.expired,
            unanswered_at_end: self.unanswered_at_end,
            sl_offered: self.sl_offered(),
            sl_answered: self.sl_answered(),
            asa_secs: self.asa_secs(),
            mean_wait_secs: self.mean_wait_secs(),
            p_wait: self.p_wait(),
            abandon_rate: self.abandon_rate(),
            occupancy: self.occupancy(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub expired: u64,
    pub unanswered_at_end: u64,
    pub sl_offered: f64,
    pub sl_answered: f64,
    pub asa_secs: f64,
    pub mean_wait_secs: f64,
    pub p_wait: f64,
    pub abandon_rate: f64,
    pub occupancy: f64,
}

/// Standard errors of the run's totals, by batch means (calls in arrival
/// order cut into 20 batches): waits of neighbouring callers are related,
/// so the spread of batch averages is the honest measure of sampling error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Errors {
    pub sl_offered: f64,
    pub asa_secs: f64,
    pub p_wait: f64,
    pub abandon_rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub start_minute: u32,
    pub interval_minutes: u32,
    pub sl_threshold_secs: f64,
    pub intervals: Vec<Summary>,
    pub queues: Vec<(String, Summary)>,
    pub total: Summary,
    pub errors: Errors,
}

const BATCHES: usize = 20;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival(u32),
    Abandon(u32),
    Finish(u32),
    LogIn(u32),
    LogOut(u32),
}

#[derive(Clone, Copy)]
enum End {
    Answered,
    Abandoned,
    Expired,
}

struct Call {
    queue: u32,
    arrived: i64,
    answered: Option<i64>,
    handle_ms: i64,
    done: bool,
}

struct Sim<'a> {
    sc: &'a Scenario,
    rng: Rng,
    router: Router,
    heap: BinaryHeap<Reverse<(i64, u64, Ev)>>,
    seq: u64,
    calls: Vec<Call>,
    interval_ms: i64,
    end_ms: i64,
    by_interval: Vec<Figures>,
    by_queue: Vec<Figures>,
    next_arrival: Vec<f64>,
    events: Vec<Event>,
}

/// Runs the scenario; `progress(done, expected)` is called now and then.
pub fn run(sc: &Scenario, progress: &mut dyn FnMut(u64, u64)) -> Result<Report, FieldError> {
    let mut sim = Sim::new(sc)?;
    sim.run(progress);
    Ok(sim.report())
}

/// The simulator's run of one steady load (about `calls` calls after a
/// warm-up), the check shown beside a formula's answer.
pub fn check(
    load: &crate::staffing::Load,
    agents: u32,
    sl_threshold_secs: f64,
    calls: u32,
    seed: u64,
) -> Result<Report, FieldError> {
    let hours = if load.calls_per_hour > 0.0 {
        (calls as f64 / load.calls_per_hour).clamp(1.0, 24.0 * 365.0)
    } else {
        1.0
    };
    // Twenty handle times to fill the queue from empty.
    let warmup_hours = (20.0 * load.aht_secs / 3600.0).min(24.0);
    let mut sc = Scenario::simple(
        load.calls_per_hour,
        load.aht_secs,
        agents,
        load.patience_secs,
        hours + warmup_hours,
        sl_threshold_secs,
        seed,
    )?;
    sc.warmup_intervals =
        ((warmup_hours * 60.0 / sc.interval_minutes as f64).ceil() as usize).min(sc.intervals - 1);
    run(&sc, &mut |_, _| {})
}

impl<'a> Sim<'a> {
    fn new(sc: &'a Scenario) -> Result<Self, FieldError> {
        if sc.intervals == 0 || !(1..=1440).contains(&sc.interval_minutes) {
            return Err(FieldError::new(
                "intervals",
                "the scenario needs at least one interval",
            ));
        }
        let mut router = Router::new();
        for q in &sc.queues {
            router
                .set_queue(q.spec.clone())
                .map_err(|e| FieldError::new("queues", e.to_string()))?;
        }
        let interval_ms = sc.interval_minutes as i64 * 60_000;
        let mut sim = Sim {
            sc,
            rng: Rng::new(sc.seed),
            router,
            heap: BinaryHeap::new(),
            seq: 0,
            calls: Vec::with_capacity(sc.expected_calls().min(5e7) as usize + 16),
            interval_ms,
            end_ms: interval_ms * sc.intervals as i64,
            by_interval: vec![Figures::default(); sc.intervals],
            by_queue: vec![Figures::default(); sc.queues.len()],
            next_arrival: vec![0.0; sc.queues.len()],
            events: Vec::new(),
        };
        let mut id = 0u32;
        for g in &sc.groups {
            for _ in 0..g.count {
                let spec = AgentSpec {
                    id: UserId(id as i64),
                    skills: g.skills.clone(),
                    languages: Vec::new(),
                    teams: Vec::new(),
                    capacity: Capacity::default(),
                };
                sim.router
                    .set_agent(spec, 0)
                    .map_err(|e| FieldError::new("agents", e.to_string()))?;
                let shifts: Vec<(u32, u32)> = if g.shifts.is_empty() {
                    vec![(0, sc.intervals as u32 * sc.interval_minutes)]
                } else {
                    g.shifts.clone()
                };
                for (from, to) in shifts {
                    let (from, to) = (from as i64 * 60_000, (to as i64 * 60_000).min(sim.end_ms));
                    if from >= to {
                        continue;
                    }
                    sim.push(from, Ev::LogIn(id));
                    sim.push(to, Ev::LogOut(id));
                    sim.staffed(from, to);
                }
                id += 1;
            }
        }
        for q in 0..sc.queues.len() {
            sim.schedule_arrival(q as u32, 0.0);
        }
        Ok(sim)
    }

    fn push(&mut self, at: i64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, ev)));
    }

    /// Adds `[from, to)` to the staffed time of the intervals it spans.
    fn staffed(&mut self, from: i64, to: i64) {
        self.spread(from, to, |f, secs| f.staffed_secs += secs);
    }

    fn spread(&mut self, from: i64, to: i64, add: impl Fn(&mut Figures, f64)) {
        let mut t = from.max(0);
        let to = to.min(self.end_ms);
        while t < to {
            let i = (t / self.interval_ms) as usize;
            let edge = ((i as i64 + 1) * self.interval_ms).min(to);
            add(&mut self.by_interval[i], (edge - t) as f64 / 1000.0);
            t = edge;
        }
    }

    /// Poisson arrivals at the interval's rate; crossing into the next
    /// interval starts afresh at its rate (no memory, so this is exact).
    fn schedule_arrival(&mut self, q: u32, from_ms: f64) {
        let arrivals = &self.sc.queues[q as usize].arrivals;
        let mut t = from_ms;
        loop {
            let i = (t / self.interval_ms as f64) as usize;
            if i >= self.sc.intervals {
                return;
            }
            let rate = arrivals.get(i).copied().unwrap_or(0.0) / self.interval_ms as f64;
            let edge = (i as i64 + 1) as f64 * self.interval_ms as f64;
            if rate > 0.0 {
                let next = t + self.rng.exponential(1.0 / rate);
                if next < edge {
                    self.next_arrival[q as usize] = next;
                    self.push(next.round() as i64, Ev::Arrival(q));
                    return;
                }
            }
            t = edge;
        }
    }

    fn run(&mut self, progress: &mut dyn FnMut(u64, u64)) {
        let expected = self.sc.expected_calls() as u64;
        loop {
            let next = self.heap.peek().map(|Reverse((t, _, _))| *t);
            let due = self.router.next_due();
            match (next, due) {
                (_, Some(d)) if next.is_none_or(|n| d < n) => {
                    self.router.advance(d);
                    self.handle_router(d);
                }
                (Some(_), _) => {
                    let Some(Reverse((t, _, ev))) = self.heap.pop() else {
                        break;
                    };
                    self.step(t, ev);
                    self.handle_router(t);
                    if self.calls.len().is_multiple_of(65_536) && matches!(ev, Ev::Arrival(_)) {
                        progress(self.calls.len() as u64, expected);
                    }
                }
                (None, _) => break,
            }
        }
        progress(self.calls.len() as u64, expected);
        for f in self.by_interval.iter_mut().chain(&mut self.by_queue) {
            f.unanswered_at_end = f.offered - f.answered - f.abandoned - f.expired;
        }
    }

    fn step(&mut self, t: i64, ev: Ev) {
        match ev {
            Ev::Arrival(q) => {
                let id = self.calls.len() as u32;
                let sq = &self.sc.queues[q as usize];
                let handle_ms = (sq.handle.sample(&mut self.rng) * 1000.0).round() as i64;
                let patience = sq.patience.map(|p| p.sample(&mut self.rng));
                self.calls.push(Call {
                    queue: q,
                    arrived: t,
                    answered: None,
                    handle_ms,
                    done: false,
                });
                let interval = self.interval_of(t);
                self.by_interval[interval].offered += 1;
                self.by_queue[q as usize].offered += 1;
                if let Some(p) = patience {
                    self.push(t + (p * 1000.0).round() as i64, Ev::Abandon(id));
                }
                let work = Work {
                    id: WorkId(id as i64),
                    kind: WorkKind::Call,
                    queue: sq.spec.id,
                    priority: Priority::Normal,
                    sla_due: None,
                    arrived: t,
                    language: None,
                    prefer: Prefer::default(),
                };
                // The queue exists and takes calls: checked when built.
                let _ = self.router.arrive(&work, t);
                let from = self.next_arrival[q as usize];
                self.schedule_arrival(q, from);
            }
            Ev::Abandon(c) => {
                let call = &self.calls[c as usize];
                if call.answered.is_none() && !call.done {
                    self.record(c, t, End::Abandoned);
                    let _ = self.router.withdraw(WorkId(c as i64), t);
                }
            }
            Ev::Finish(c) => {
                let _ = self.router.finish(WorkId(c as i64), t);
            }
            Ev::LogIn(a) => {
                let _ = self
                    .router
                    .set_presence(UserId(a as i64), Presence::Available, t);
            }
            Ev::LogOut(a) => {
                let _ = self
                    .router
                    .set_presence(UserId(a as i64), Presence::Offline, t);
            }
        }
    }

    fn interval_of(&self, t: i64) -> usize {
        ((t / self.interval_ms) as usize).min(self.sc.intervals - 1)
    }

    fn handle_router(&mut self, t: i64) {
        loop {
            self.router.swap_events(&mut self.events);
            if self.events.is_empty() {
                return;
            }
            let mut events = std::mem::take(&mut self.events);
            for e in events.drain(..) {
                match e {
                    Event::Offered { work, agent, .. } => {
                        let _ = self.router.accept(agent, work, t);
                        self.answer(work.0 as u32, t);
                    }
                    Event::Expired { work, .. } => self.record(work.0 as u32, t, End::Expired),
                    _ => {}
                }
            }
            self.events = events;
        }
    }

    fn answer(&mut self, c: u32, t: i64) {
        self.record(c, t, End::Answered);
        let call = &self.calls[c as usize];
        let (q, handle) = (call.queue, call.handle_ms);
        let wrap = self.sc.queues[q as usize].spec.wrap_up_secs as i64 * 1000;
        self.spread(t, t + handle + wrap, |f, secs| f.busy_secs += secs);
        self.push(t + handle, Ev::Finish(c));
    }

    /// Counts how a call's wait ended, in its arrival interval and queue.
    fn record(&mut self, c: u32, t: i64, end: End) {
        let threshold = (self.sc.sl_threshold_secs * 1000.0).round() as i64;
        let call = &mut self.calls[c as usize];
        match end {
            End::Answered => call.answered = Some(t),
            End::Abandoned | End::Expired => call.done = true,
        }
        let (q, arrived) = (call.queue, call.arrived);
        let wait = t - arrived;
        let i = self.interval_of(arrived);
        let secs = wait as f64 / 1000.0;
        let mut per_queue = Figures::default();
        let queue = if i >= self.sc.warmup_intervals {
            &mut self.by_queue[q as usize]
        } else {
            &mut per_queue
        };
        for f in [&mut self.by_interval[i], queue] {
            match end {
                End::Answered => {
                    f.answered += 1;
                    f.answered_within += (wait <= threshold) as u64;
                    f.wait_answered_secs += secs;
                }
                End::Abandoned => f.abandoned += 1,
                End::Expired => f.expired += 1,
            }
            f.waited += (wait > 0) as u64;
            f.wait_all_secs += secs;
        }
    }

    fn report(&self) -> Report {
        let mut total = Figures::default();
        for f in &self.by_interval[self.sc.warmup_intervals.min(self.by_interval.len())..] {
            total.add(f);
        }
        Report {
            start_minute: self.sc.start_minute,
            interval_minutes: self.sc.interval_minutes,
            sl_threshold_secs: self.sc.sl_threshold_secs,
            intervals: self.by_interval.iter().map(Figures::summary).collect(),
            queues: self
                .sc
                .queues
                .iter()
                .zip(&self.by_queue)
                .map(|(q, f)| (q.spec.name.clone(), f.summary()))
                .collect(),
            total: total.summary(),
            errors: self.errors(),
        }
    }

    fn errors(&self) -> Errors {
        let threshold = (self.sc.sl_threshold_secs * 1000.0).round() as i64;
        let warm = self.sc.warmup_intervals as i64 * self.interval_ms;
        let calls: Vec<&Call> = self.calls.iter().filter(|c| c.arrived >= warm).collect();
        let n = calls.len();
        if n < BATCHES * 10 {
            return Errors::default();
        }
        let mut batches = vec![[0f64; 5]; BATCHES]; // offered, within, answered, wait sum, waited
        let mut abandoned = vec![0f64; BATCHES];
        for (i, c) in calls.iter().enumerate() {
            let b = &mut batches[i * BATCHES / n];
            b[0] += 1.0;
            match c.answered {
                Some(at) => {
                    let w = at - c.arrived;
                    b[1] += (w <= threshold) as u8 as f64;
                    b[2] += 1.0;
                    b[3] += w as f64 / 1000.0;
                    b[4] += (w > 0) as u8 as f64;
                }
                None if c.done => {
                    b[4] += 1.0;
                    abandoned[i * BATCHES / n] += 1.0;
                }
                None => {}
            }
        }
        let se = |xs: Vec<f64>| -> f64 {
            let m = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
            (var / xs.len() as f64).sqrt()
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        Errors {
            sl_offered: se(batches.iter().map(|b| ratio(b[1], b[0])).collect()),
            asa_secs: se(batches.iter().map(|b| ratio(b[3], b[2])).collect()),
            p_wait: se(batches.iter().map(|b| ratio(b[4], b[0])).collect()),
            abandon_rate: se(batches
                .iter()
                .zip(&abandoned)
                .map(|(b, a)| ratio(*a, b[0]))
                .collect()),
        }
    }
}
