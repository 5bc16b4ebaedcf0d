//! The scenario file (TOML) a manager writes: queues and agent groups by
//! name, clock times for shifts, and arrivals per interval.

use super::{Dist, Scenario, SimGroup, SimQueue};
use crate::FieldError;
use crate::ids::{QueueId, SkillId};
use crate::routing::{Overflow, QueueSpec, SkillLevel, Strategy, WaitAction, WorkKind};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// 15 or 30 (or 60).
    #[serde(default = "thirty")]
    pub interval_minutes: u32,
    /// The clock time the first interval starts, e.g. "08:00".
    #[serde(default = "midnight")]
    pub start: String,
    /// Length of the run; by default as long as the longest arrivals list
    /// (or 8 hours for queues given a rate).
    pub hours: Option<f64>,
    #[serde(default = "twenty")]
    pub sl_threshold_secs: f64,
    #[serde(default = "one")]
    pub seed: u64,
    pub queues: Vec<QueueFile>,
    pub agents: Vec<GroupFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueFile {
    pub name: String,
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "longest_idle")]
    pub strategy: Strategy,
    #[serde(default)]
    pub wrap_up_secs: u32,
    pub max_wait_secs: Option<u32>,
    #[serde(default = "stay")]
    pub on_max_wait: WaitAction,
    #[serde(default)]
    pub overflow: Vec<OverflowFile>,
    pub calls_per_hour: Option<f64>,
    /// Expected calls in each interval from `start`.
    pub arrivals: Option<Vec<f64>>,
    /// A CSV of historical volumes ("HH:MM,calls" per line); the command
    /// line reads it into `arrivals`.
    pub arrivals_csv: Option<String>,
    pub handle: Dist,
    pub patience: Option<Dist>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowFile {
    pub after_secs: u32,
    pub widen_to: Option<BTreeMap<String, u8>>,
    pub move_to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    pub name: String,
    pub count: u32,
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    #[serde(default)]
    pub shifts: Vec<ShiftFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftFile {
    pub start: String,
    pub end: String,
}

fn thirty() -> u32 {
    30
}
fn midnight() -> String {
    "00:00".into()
}
fn twenty() -> f64 {
    20.0
}
fn one() -> u64 {
    1
}
fn longest_idle() -> Strategy {
    Strategy::LongestIdle
}
fn stay() -> WaitAction {
    WaitAction::Stay
}

/// "HH:MM" as minutes after midnight; "24:00" ends a day.
pub fn clock(field: &str, s: &str) -> Result<u32, FieldError> {
    let bad = || FieldError::new(field, "must be a clock time such as 08:30");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Minutes after midnight as "HH:MM" (wrapping past midnight).
pub fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60 % 24, minute % 60)
}

/// Historical or forecast volumes: one "HH:MM,calls" line per interval
/// (a header line and blank lines are skipped; intervals not listed have
/// no calls). Times are clock times from `start`, on interval boundaries.
pub fn parse_volumes(
    text: &str,
    interval_minutes: u32,
    start: &str,
) -> Result<Vec<f64>, FieldError> {
    let start = clock("start", start)?;
    let mut out: Vec<f64> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        let field = format!("line {}", n + 1);
        if line.is_empty() {
            continue;
        }
        let (t, calls) = line
            .split_once([',', ';', '\t'])
            .ok_or_else(|| FieldError::new(&field, "must be time,calls"))?;
        let Ok(at) = clock(&field, t) else {
            if n == 0 {
                continue; // a header
            }
            return Err(FieldError::new(
                field,
                "must start with a clock time such as 08:30",
            ));
        };
        let calls: f64 = calls
            .trim()
            .parse()
            .ok()
            .filter(|c: &f64| c.is_finite() && *c >= 0.0)
            .ok_or_else(|| FieldError::new(&field, "calls must be a number, zero or more"))?;
        if at < start || (at - start) % interval_minutes != 0 {
            return Err(FieldError::new(
                field,
                format!(
                    "{t} is not the start of a {interval_minutes}-minute interval from the start"
                ),
            ));
        }
        let i = ((at - start) / interval_minutes) as usize;
        if i < out.len() {
            return Err(FieldError::new(field, "times must increase"));
        }
        out.resize(i, 0.0);
        out.push(calls);
    }
    if out.is_empty() {
        return Err(FieldError::new("volumes", "no intervals with calls"));
    }
    Ok(out)
}

impl ScenarioFile {
    pub fn resolve(&self) -> Result<Scenario, FieldError> {
        if ![15, 30, 60].contains(&self.interval_minutes) {
            return Err(FieldError::new("interval_minutes", "must be 15, 30 or 60"));
        }
        let start = clock("start", &self.start)?;
        if self.queues.is_empty() || self.agents.is_empty() {
            return Err(FieldError::new(
                "queues",
                "name at least one queue and one agent group",
            ));
        }
        let mut skills: BTreeMap<String, SkillId> = BTreeMap::new();
        let mut skill = |name: &str| {
            let next = SkillId(skills.len() as i64 + 1);
            *skills.entry(name.to_string()).or_insert(next)
        };
        let queue_ids: BTreeMap<&str, QueueId> = self
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.name.as_str(), QueueId(i as i64 + 1)))
            .collect();
        let per_interval = self.interval_minutes as f64 / 60.0;
        let longest = self
            .queues
            .iter()
            .filter_map(|q| q.arrivals.as_ref().map(Vec::len))
            .max();
        let hours = match (self.hours, longest) {
            (Some(h), _) => h,
            (None, Some(n)) => n as f64 * per_interval,
            (None, None) => 8.0,
        };
        if !(hours > 0.0 && hours <= 24.0 * 366.0) {
            return Err(FieldError::new(
                "hours",
                "must be above 0 and at most a year",
            ));
        }
        let intervals = (hours / per_interval).ceil() as usize;
        let mut queues = Vec::new();
        for (i, q) in self.queues.iter().enumerate() {
            let field = |f: &str| format!("queues[{i}].{f}");
            let mut spec = QueueSpec::new(QueueId(i as i64 + 1), &q.name, &[WorkKind::Call]);
            spec.skills = levels(&q.skills, &mut skill);
            spec.priority = q.priority;
            spec.strategy = q.strategy;
            spec.wrap_up_secs = q.wrap_up_secs;
            spec.max_wait_secs = q.max_wait_secs;
            spec.on_max_wait = q.on_max_wait;
            for o in &q.overflow {
                let move_to = match &o.move_to {
                    Some(name) => Some(*queue_ids.get(name.as_str()).ok_or_else(|| {
                        FieldError::new(field("overflow"), format!("no queue named {name}"))
                    })?),
                    None => None,
                };
                spec.overflow.push(Overflow {
                    after_secs: o.after_secs,
                    widen_to: o.widen_to.as_ref().map(|w| levels(w, &mut skill)),
                    move_to,
                });
            }
            spec.check().map_err(|e| {
                let f = field(&e.field);
                e.at(f)
            })?;
            q.handle.check(&field("handle"))?;
            if let Some(p) = &q.patience {
                p.check(&field("patience"))?;
            }
            let arrivals = match (&q.arrivals, q.calls_per_hour, &q.arrivals_csv) {
                (Some(a), None, None) => {
                    if a.iter().any(|x| !x.is_finite() || *x < 0.0) {
                        return Err(FieldError::new(
                            field("arrivals"),
                            "must be numbers, zero or more",
                        ));
                    }
                    let mut a = a.clone();
                    a.resize(intervals, 0.0);
                    a
                }
                (None, Some(rate), None) if rate.is_finite() && rate >= 0.0 => {
                    vec![rate * per_interval; intervals]
                }
                (None, None, Some(_)) => {
                    return Err(FieldError::new(field("arrivals_csv"), "was not read"));
                }
                _ => {
                    return Err(FieldError::new(
                        field("arrivals"),
                        "give one of calls_per_hour, arrivals or arrivals_csv",
                    ));
                }
            };
            queues.push(SimQueue {
                spec,
                arrivals,
                handle: q.handle,
                patience: q.patience,
            });
        }
        let mut groups = Vec::new();
        for (i, g) in self.agents.iter().enumerate() {
            let field = |f: &str| format!("agents[{i}].{f}");
            let mut shifts = Vec::new();
            for s in &g.shifts {
                let (from, to) = (
                    clock(&field("shifts"), &s.start)?,
                    clock(&field("shifts"), &s.end)?,
                );
                if from >= to {
                    return Err(FieldError::new(
                        field("shifts"),
                        "a shift must end after it starts",
                    ));
                }
                shifts.push((from.saturating_sub(start), to.saturating_sub(start)));
            }
            let skills = levels(&g.skills, &mut skill);
            for s in &skills {
                crate::routing::level(&field("skills"), s.level)?;
            }
            groups.push(SimGroup {
                name: g.name.clone(),
                count: g.count,
                skills,
                shifts,
            });
        }
        Ok(Scenario {
            start_minute: start,
            interval_minutes: self.interval_minutes,
            intervals,
            sl_threshold_secs: self.sl_threshold_secs,
            seed: self.seed,
            warmup_intervals: 0,
            queues,
            groups,
        })
    }
}

fn levels(map: &BTreeMap<String, u8>, skill: &mut impl FnMut(&str) -> SkillId) -> Vec<SkillLevel> {
    map.iter()
        .map(|(name, level)| SkillLevel {
            skill: skill(name),
            level: *level,
        })
        .collect()
}
