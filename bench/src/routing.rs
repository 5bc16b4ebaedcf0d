//! Routing benchmark (not a test): decisions per second and decision
//! latency of the routing engine with 1,000 agents, 50 skills and 10,000
//! waiting items; then the simulator on one million calls.
//!
//! cargo run --release -p carecenter-bench --bin routing-bench -- [--decisions N]

use demo::Rng;
use domain::case::Priority;
use domain::ids::{QueueId, SkillId, UserId, WorkId};
use domain::routing::{
    AgentSpec, Capacity, Event, Prefer, Presence, QueueSpec, Router, SkillLevel, Strategy, Work,
    WorkKind,
};
use domain::simulate::{self, Scenario};
use std::time::{Duration, Instant};

const AGENTS: i64 = 1_000;
const SKILLS: i64 = 50;
const QUEUES: i64 = 50;
const WAITING: usize = 10_000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e6
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let total: Duration = samples.iter().sum();
    println!(
        "{name:<40} {:>9} samples  mean {:>6.2} µs  p50 {:>6.2} µs  p99 {:>6.2} µs  max {:>8.1} µs",
        samples.len(),
        total.as_secs_f64() * 1e6 / samples.len() as f64,
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0),
    );
    total
}

struct Bench {
    router: Router,
    rng: Rng,
    next_id: i64,
    active: Vec<WorkId>,
    now: i64,
}

impl Bench {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut router = Router::new();
        // Half the queues take calls (above the e-mail queues), half e-mail;
        // each asks one skill at level 1 to 3 and has its own strategy.
        for q in 0..QUEUES {
            let kind = if q % 2 == 0 {
                WorkKind::Call
            } else {
                WorkKind::Email
            };
            let mut spec = QueueSpec::new(QueueId(q), &format!("queue {q}"), &[kind]);
            spec.skills = vec![SkillLevel {
                skill: SkillId(q % SKILLS),
                level: 1 + rng.below(3) as u8,
            }];
            spec.priority = if kind == WorkKind::Call { 10 } else { 0 };
            spec.strategy = Strategy::ALL[(q % 4) as usize];
            router.set_queue(spec).expect("queue");
        }
        for a in 0..AGENTS {
            let n = 3 + rng.below(4);
            let skills = (0..n)
                .map(|_| SkillLevel {
                    skill: SkillId(rng.below(SKILLS as u64) as i64),
                    level: 1 + rng.below(5) as u8,
                })
                .collect::<Vec<_>>();
            let mut unique = skills.clone();
            unique.sort_by_key(|s| s.skill);
            unique.dedup_by_key(|s| s.skill);
            router
                .set_agent(
                    AgentSpec {
                        id: UserId(a),
                        skills: unique,
                        languages: vec!["zh".into()],
                        teams: Vec::new(),
                        capacity: Capacity::default(),
                    },
                    0,
                )
                .expect("agent");
            router
                .set_presence(UserId(a), Presence::Available, 0)
                .expect("log in");
        }
        Bench {
            router,
            rng,
            next_id: 0,
            active: Vec::new(),
            now: 1_000,
        }
    }

    fn work(&mut self) -> Work {
        self.next_id += 1;
        let q = self.rng.below(QUEUES as u64) as i64;
        Work {
            id: WorkId(self.next_id),
            kind: if q % 2 == 0 {
                WorkKind::Call
            } else {
                WorkKind::Email
            },
            queue: QueueId(q),
            priority: Priority::ALL[self.rng.below(4) as usize],
            sla_due: (self.rng.below(2) == 0).then(|| self.now + self.rng.below(3_600_000) as i64),
            arrived: self.now,
            language: None,
            prefer: Prefer::default(),
        }
    }

    /// Agents take every offer at once.
    fn accept_offers(&mut self) -> usize {
        let mut n = 0;
        for e in self.router.take_events() {
            if let Event::Offered { work, agent, .. } = e {
                self.router.accept(agent, work, self.now).expect("accept");
                self.active.push(work);
                n += 1;
            }
        }
        n
    }

    fn waiting(&self) -> usize {
        (0..QUEUES)
            .map(|q| self.router.waiting(QueueId(q)).expect("queue").len())
            .sum()
    }
}

fn main() {
    let mut decisions = 200_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--decisions" => {
                decisions = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--decisions N")
            }
            other => panic!("unknown argument {other}"),
        }
    }

    // Free agents: each new item is a scan of its sub-queue's agents.
    let mut b = Bench::new(1);
    let mut free = Vec::with_capacity(decisions);
    for _ in 0..decisions / 4 {
        let w = b.work();
        let t = Instant::now();
        b.router.arrive(&w, b.now).expect("arrive");
        free.push(t.elapsed());
        b.now += 10;
        // Keep agents free: the work is done as soon as it is offered.
        for e in b.router.take_events() {
            if let Event::Offered { work, agent, .. } = e {
                b.router.accept(agent, work, b.now).expect("accept");
                b.router.finish(work, b.now).expect("finish");
            }
        }
        b.router.take_events();
    }
    println!(
        "routing: {AGENTS} agents, {SKILLS} skills, {QUEUES} queues (calls above e-mail, four strategies)"
    );
    report("new item, agents free", free);

    // Everyone full and 10,000 items waiting: each finished item frees an
    // agent, who is offered the best of the waiting work it may take; each
    // new item looks for a free agent and waits.
    let mut b = Bench::new(2);
    while b.waiting() < WAITING {
        let w = b.work();
        b.router.arrive(&w, b.now).expect("arrive");
        b.accept_offers();
    }
    println!(
        "waiting: {}, in agents' hands: {}",
        b.waiting(),
        b.active.len()
    );
    let (mut freed, mut arrived) = (Vec::new(), Vec::new());
    let mut offered = 0usize;
    for _ in 0..decisions / 2 {
        b.now += 10;
        let i = b.rng.below(b.active.len() as u64) as usize;
        let done = b.active.swap_remove(i);
        let t = Instant::now();
        b.router.finish(done, b.now).expect("finish");
        freed.push(t.elapsed());
        offered += b.accept_offers();
        let w = b.work();
        let t = Instant::now();
        b.router.arrive(&w, b.now).expect("arrive");
        arrived.push(t.elapsed());
        offered += b.accept_offers();
    }
    let n = freed.len() + arrived.len();
    let total = report("agent freed, picks from 10,000 waiting", freed)
        + report("new item, all agents full", arrived);
    println!(
        "decisions: {n} in {:.3} s = {:.0} decisions/s ({offered} offers made); waiting at the end: {}",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        b.waiting()
    );

    // The simulator on one million calls: the Erlang C example and a day
    // with abandonment.
    for (name, patience) in [
        ("Erlang C, 55 agents", None),
        ("Erlang A, 50 agents", Some(120.0)),
    ] {
        let agents = if patience.is_some() { 50 } else { 55 };
        let sc = Scenario::simple(720.0, 240.0, agents, patience, 1_000_000.0 / 720.0, 20.0, 1)
            .expect("scenario");
        let t = Instant::now();
        let r = simulate::run(&sc, &mut |_, _| {}).expect("run");
        let took = t.elapsed();
        println!(
            "simulate {name}: {} calls in {:.2} s ({:.0} calls/s); SL {:.1}%, ASA {:.1} s, abandoned {:.1}%",
            r.total.offered,
            took.as_secs_f64(),
            r.total.offered as f64 / took.as_secs_f64(),
            r.total.sl_offered * 100.0,
            r.total.asa_secs,
            r.total.abandon_rate * 100.0
        );
    }
}
