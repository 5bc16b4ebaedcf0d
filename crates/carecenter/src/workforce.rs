//! `simulate` and `staffing`: the command-line face of the simulator and
//! the Erlang arithmetic (reading files, printing tables, the progress bar).

use anyhow::{Context, bail};
use domain::simulate::{self, Report, Scenario, ScenarioFile, Summary, hhmm};
use domain::staffing::{self, Goal, Load, Prediction};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Calls the simulated check of a staffing answer runs.
const CHECK_CALLS: u32 = 50_000;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// A scenario file (TOML): queues, skills, agent groups with shifts,
    /// arrivals per interval, handle-time and patience distributions.
    #[arg(long, conflicts_with_all = ["calls_per_hour", "aht", "agents"])]
    scenario: Option<PathBuf>,
    #[arg(long, required_unless_present = "scenario")]
    calls_per_hour: Option<f64>,
    /// Average handle time in seconds.
    #[arg(long, required_unless_present = "scenario")]
    aht: Option<f64>,
    #[arg(long, required_unless_present = "scenario")]
    agents: Option<u32>,
    /// Mean patience in seconds (callers hang up); none: they wait.
    #[arg(long)]
    patience: Option<f64>,
    #[arg(long, default_value_t = 8.0)]
    hours: f64,
    #[arg(long, default_value_t = 20.0)]
    sl_threshold: f64,
    /// Seed of the random arrivals (a scenario file may set its own).
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct StaffingArgs {
    /// One load; or give --forecast for a day.
    #[arg(long, required_unless_present = "forecast")]
    calls_per_hour: Option<f64>,
    /// A forecast CSV: "HH:MM,calls" per interval.
    #[arg(long, conflicts_with = "calls_per_hour")]
    forecast: Option<PathBuf>,
    #[arg(long, default_value_t = 30)]
    interval: u32,
    /// Clock time of the forecast's first interval.
    #[arg(long, default_value = "00:00")]
    start: String,
    #[arg(long)]
    aht: f64,
    #[arg(long, default_value_t = 0.8)]
    target_sl: f64,
    #[arg(long, default_value_t = 20.0)]
    sl_threshold: f64,
    /// Mean patience in seconds: Erlang A instead of Erlang C.
    #[arg(long)]
    patience: Option<f64>,
    /// Leave out the simulated check.
    #[arg(long)]
    no_check: bool,
    #[arg(long)]
    json: bool,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let scenario = match &args.scenario {
        Some(path) => {
            let mut file: ScenarioFile =
                toml::from_str(&read(path)?).with_context(|| format!("{}", path.display()))?;
            let dir = path.parent().unwrap_or(Path::new("."));
            for q in &mut file.queues {
                if let Some(csv) = q.arrivals_csv.take() {
                    let text = read(&dir.join(&csv))?;
                    q.arrivals = Some(
                        simulate::parse_volumes(&text, file.interval_minutes, &file.start)
                            .with_context(|| csv.clone())?,
                    );
                }
            }
            if let Some(seed) = args.seed {
                file.seed = seed;
            }
            file.resolve()?
        }
        None => Scenario::simple(
            args.calls_per_hour.unwrap_or_default(),
            args.aht.unwrap_or_default(),
            args.agents.unwrap_or_default(),
            args.patience,
            args.hours,
            args.sl_threshold,
            args.seed.unwrap_or(1),
        )?,
    };
    let expected = scenario.expected_calls() as u64;
    let mut bar = Progress::new(!args.json && expected > 200_000);
    let report = simulate::run(&scenario, &mut |done, total| bar.show(done, total))?;
    bar.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(())
}

pub fn staffing(args: StaffingArgs) -> anyhow::Result<()> {
    let goal = Goal::new(args.target_sl, args.sl_threshold)?;
    match (&args.forecast, args.calls_per_hour) {
        (None, Some(rate)) => {
            let load = Load::new(rate, args.aht, args.patience)?;
            staffing::check(&load, &goal)?;
            let need = staffing::agents_needed(&load, &goal);
            let check = (!args.no_check)
                .then(|| simulate::check(&load, need.agents, args.sl_threshold, CHECK_CALLS, 1))
                .transpose()?;
            if args.json {
                let out = serde_json::json!({
                    "model": model(&load),
                    "need": need,
                    "simulated": check.as_ref().map(|r| (r.total, r.errors)),
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "{} agents ({}: {:.1} Erlangs)",
                    need.agents,
                    model(&load),
                    need.erlangs
                );
                println!("{}", prediction_line("formula  ", &need));
                if let Some(r) = &check {
                    println!(
                        "{}  (SL ±{:.1}% by batch means, over {} calls after a warm-up)",
                        summary_line("simulated", &r.total),
                        r.errors.sl_offered * 100.0,
                        r.total.offered
                    );
                }
            }
        }
        (Some(path), None) => {
            let volumes = simulate::parse_volumes(&read(path)?, args.interval, &args.start)
                .with_context(|| format!("{}", path.display()))?;
            let start = simulate::clock("start", &args.start)?;
            let plan = staffing::plan(
                &volumes,
                args.interval,
                start,
                args.aht,
                args.patience,
                &goal,
            )?;
            let mut rows = Vec::new();
            for p in &plan {
                let check = if args.no_check || p.calls == 0.0 {
                    None
                } else {
                    let load = Load::new(
                        p.calls * 60.0 / args.interval as f64,
                        args.aht,
                        args.patience,
                    )?;
                    Some(simulate::check(&load, p.need.agents, args.sl_threshold, 20_000, 1)?.total)
                };
                rows.push((p, check));
            }
            if args.json {
                let out: Vec<_> = rows
                    .iter()
                    .map(|(p, c)| serde_json::json!({"interval": hhmm(p.start_minute), "calls": p.calls, "need": p.need, "simulated": c}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "{:>5} {:>7} {:>6} {:>8} {:>8} {:>7}",
                    "time", "calls", "agents", "SL", "sim SL", "ASA"
                );
                for (p, c) in &rows {
                    println!(
                        "{:>5} {:>7.0} {:>6} {:>7.1}% {:>8} {:>6.1}s",
                        hhmm(p.start_minute),
                        p.calls,
                        p.need.agents,
                        p.need.sl_offered * 100.0,
                        c.map(|c| format!("{:.1}%", c.sl_offered * 100.0))
                            .unwrap_or_else(|| "-".into()),
                        p.need.asa_secs
                    );
                }
                let hours: f64 = plan
                    .iter()
                    .map(|p| p.need.agents as f64 * args.interval as f64 / 60.0)
                    .sum();
                println!("agent hours: {hours:.1}");
            }
        }
        _ => bail!("give --calls-per-hour or --forecast"),
    }
    Ok(())
}

fn model(load: &Load) -> &'static str {
    if load.patience_secs.is_some() {
        "Erlang A"
    } else {
        "Erlang C"
    }
}

fn prediction_line(label: &str, p: &Prediction) -> String {
    line(
        label,
        [
            p.sl_offered,
            p.sl_answered,
            p.asa_secs,
            p.p_wait,
            p.abandon,
            p.occupancy,
        ],
    )
}

fn summary_line(label: &str, s: &Summary) -> String {
    line(
        label,
        [
            s.sl_offered,
            s.sl_answered,
            s.asa_secs,
            s.p_wait,
            s.abandon_rate,
            s.occupancy,
        ],
    )
}

fn line(label: &str, [sl, sl_answered, asa, wait, abandon, occupancy]: [f64; 6]) -> String {
    format!(
        "{label}  SL {:.1}% of offered ({:.1}% of answered)  ASA {asa:.1}s  P(wait) {:.1}%  abandoned {:.1}%  occupancy {:.1}%",
        sl * 100.0,
        sl_answered * 100.0,
        wait * 100.0,
        abandon * 100.0,
        occupancy * 100.0
    )
}

fn table(r: &Report) -> String {
    let mut out = format!(
        "{:>5} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}\n",
        "time",
        "offered",
        "answered",
        "abandon",
        "SL/off",
        "SL/ans",
        "ASA",
        "wait",
        "P(wait)",
        "aband%",
        "occ"
    );
    let row = |label: &str, s: &Summary| {
        format!(
            "{label:>5} {:>8} {:>8} {:>8} {:>6.1}% {:>6.1}% {:>6.1}s {:>6.1}s {:>6.1}% {:>6.1}% {:>6.1}%\n",
            s.offered,
            s.answered,
            s.abandoned,
            s.sl_offered * 100.0,
            s.sl_answered * 100.0,
            s.asa_secs,
            s.mean_wait_secs,
            s.p_wait * 100.0,
            s.abandon_rate * 100.0,
            s.occupancy * 100.0
        )
    };
    for (i, s) in r.intervals.iter().enumerate() {
        out += &row(&hhmm(r.start_minute + i as u32 * r.interval_minutes), s);
    }
    out += &row("total", &r.total);
    if r.queues.len() > 1 {
        for (name, s) in &r.queues {
            out += &format!("queue {name}: ");
            out += row("", s).trim_start();
        }
    }
    if r.total.expired + r.total.unanswered_at_end > 0 {
        out += &format!(
            "left by maximum wait: {}, still waiting at the end: {}\n",
            r.total.expired, r.total.unanswered_at_end
        );
    }
    out += &format!(
        "service level: answered within {}s; standard errors (batch means): SL ±{:.2}%, ASA ±{:.2}s\n",
        r.sl_threshold_secs,
        r.errors.sl_offered * 100.0,
        r.errors.asa_secs
    );
    out
}

/// A bar on standard error while a long run goes, when someone watches.
struct Progress {
    on: bool,
    last: u64,
}

impl Progress {
    fn new(wanted: bool) -> Self {
        Progress {
            on: wanted && std::io::stderr().is_terminal(),
            last: u64::MAX,
        }
    }

    fn show(&mut self, done: u64, total: u64) {
        if !self.on || total == 0 {
            return;
        }
        let pct = (done * 100 / total).min(100);
        if pct == self.last {
            return;
        }
        self.last = pct;
        let filled = (pct / 4) as usize;
        eprint!(
            "\r[{}{}] {pct:>3}% {done} calls",
            "#".repeat(filled),
            " ".repeat(25 - filled)
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        if self.on {
            eprintln!();
        }
    }
}
