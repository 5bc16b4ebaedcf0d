//! SLA policies: which promises a case gets (chosen by ordered rules), how
//! the case's life moves its clocks, and what happens as a clock nears and
//! passes its due instant.

use crate::FieldError;
use crate::case::{CaseStatus, CaseType, Channel, Priority, vocabulary};
use crate::ids::{CalendarId, TeamId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    /// The promise a clock keeps.
    ClockKind, "kind" {
        FirstResponse = "first_response",
        NextResponse = "next_response",
        Resolution = "resolution",
        Task = "task",
    }
);

vocabulary!(
    /// Who hears of a warning or a breach.
    Recipient, "recipient" {
        Assignee = "assignee",
        TeamLeader = "team_leader",
        Supervisor = "supervisor",
        InterfacePerson = "interface_person",
    }
);

/// A promise's length: business minutes of the policy's calendar, or
/// minutes on the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub minutes: u32,
    #[serde(default = "yes")]
    pub business: bool,
}

fn yes() -> bool {
    true
}

/// What a case must have for a policy to apply; an empty list asks nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub case_types: Vec<CaseType>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Receiving e-mail addresses (their ids).
    #[serde(default)]
    pub address_ids: Vec<i64>,
    /// Queues: until the routing engine brings its own, a case's team.
    #[serde(default)]
    pub team_ids: Vec<TeamId>,
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Any one of these among the customer's tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// What a case is, as the conditions see it.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub case_type: CaseType,
    pub channel: Channel,
    pub address_id: Option<i64>,
    pub team_id: Option<TeamId>,
    pub tier: Option<&'a str>,
    pub tags: &'a [String],
}

impl Conditions {
    pub fn matches(&self, f: &Facts) -> bool {
        fn any<T: PartialEq>(wanted: &[T], have: Option<T>) -> bool {
            wanted.is_empty() || have.is_some_and(|h| wanted.contains(&h))
        }
        any(&self.case_types, Some(f.case_type))
            && any(&self.channels, Some(f.channel))
            && any(&self.address_ids, f.address_id)
            && any(&self.team_ids, f.team_id)
            && (self.tiers.is_empty() || f.tier.is_some_and(|t| self.tiers.iter().any(|w| w == t)))
            && (self.tags.is_empty() || self.tags.iter().any(|t| f.tags.contains(t)))
    }
}

/// What a breach sets off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    #[serde(default)]
    pub notify: Vec<Recipient>,
    #[serde(default)]
    pub raise_priority: bool,
    /// Moves the case to this queue (team).
    #[serde(default)]
    pub move_to_team: Option<TeamId>,
}

/// A policy as written (API, UI, store); checked by [`PolicySpec::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub conditions: Conditions,
    /// Business targets count this calendar's open time, and notifications
    /// wait for it to open; without one, every minute counts.
    #[serde(default)]
    pub calendar_id: Option<CalendarId>,
    #[serde(default)]
    pub first_response: Option<Target>,
    #[serde(default)]
    pub next_response: Option<Target>,
    #[serde(default)]
    pub resolution: Option<Target>,
    /// A department task's handling deadline, on the department's calendar.
    #[serde(default)]
    pub task: Option<Target>,
    /// The statuses in which the case's clocks stand still.
    #[serde(default = "pending_customer")]
    pub pause_statuses: Vec<CaseStatus>,
    /// The share of a target after which the clock warns.
    #[serde(default = "eighty")]
    pub warn_percent: u8,
    #[serde(default)]
    pub warn_notify: Vec<Recipient>,
    #[serde(default)]
    pub breach: Escalation,
    /// Send notifications at any hour, not only while the calendar is open.
    #[serde(default)]
    pub notify_any_time: bool,
}

fn pending_customer() -> Vec<CaseStatus> {
    vec![CaseStatus::PendingCustomer]
}

fn eighty() -> u8 {
    80
}

/// Targets are capped at a year of minutes: longer is a typing mistake.
const MAX_TARGET_MINUTES: u32 = 366 * 24 * 60;

impl PolicySpec {
    pub fn check(&self) -> Result<(), FieldError> {
        crate::contact::text("name", &self.name, 100)?;
        for kind in ClockKind::ALL {
            if let Some(t) = self.target(*kind)
                && (t.minutes == 0 || t.minutes > MAX_TARGET_MINUTES)
            {
                return Err(FieldError::new(
                    format!("{kind}.minutes"),
                    format!("must be between 1 and {MAX_TARGET_MINUTES}"),
                ));
            }
        }
        if ClockKind::ALL.iter().all(|k| self.target(*k).is_none()) {
            return Err(FieldError::new(
                "first_response",
                "a policy needs at least one target",
            ));
        }
        if let Some(s) = self.pause_statuses.iter().find(|s| {
            !matches!(
                s,
                CaseStatus::PendingCustomer | CaseStatus::PendingDepartment
            )
        }) {
            return Err(FieldError::new(
                "pause_statuses",
                format!("{s} cannot pause a clock: use pending_customer or pending_department"),
            ));
        }
        if !(1..=99).contains(&self.warn_percent) {
            return Err(FieldError::new("warn_percent", "must be between 1 and 99"));
        }
        Ok(())
    }

    pub fn target(&self, kind: ClockKind) -> Option<Target> {
        match kind {
            ClockKind::FirstResponse => self.first_response,
            ClockKind::NextResponse => self.next_response,
            ClockKind::Resolution => self.resolution,
            ClockKind::Task => self.task,
        }
    }

    fn pauses_in(&self, s: CaseStatus) -> bool {
        self.pause_statuses.contains(&s)
    }
}

/// The first active policy, in order, whose conditions the case meets.
pub fn choose<'a, K>(
    policies: &'a [(K, PolicySpec)],
    facts: &Facts,
) -> Option<&'a (K, PolicySpec)> {
    policies
        .iter()
        .find(|(_, p)| p.active && p.conditions.matches(facts))
}

/// What happened on a case that moves its clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The case was opened; `answered_live` when an agent opened it while
    /// talking to the customer (a call, a visit, a chat): the first response
    /// was given then.
    Opened {
        answered_live: bool,
    },
    /// An agent's public reply (an e-mail, a call out): not a note, not the
    /// automatic acknowledgement.
    AgentReplied,
    /// The customer wrote or called in.
    CustomerWrote,
    Status {
        from: CaseStatus,
        to: CaseStatus,
    },
}

/// A case clock as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockView {
    pub kind: ClockKind,
    pub running: bool,
}

/// What to do to the case's clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Start a new clock of this kind (with the policy's target).
    Start(ClockKind),
    /// Start one and stop it at once: the promise was kept as it was made.
    StartMet(ClockKind),
    Stop(ClockKind),
    PauseAll,
    ResumeAll,
}

/// The commands a signal gives the clocks of a case under `policy`; `status`
/// is the case's status when the signal comes (before a status change).
pub fn react(
    policy: &PolicySpec,
    clocks: &[ClockView],
    status: CaseStatus,
    signal: Signal,
) -> Vec<Command> {
    use ClockKind as K;
    let has = |k: K| policy.target(k).is_some();
    let running = |k: K| clocks.iter().any(|c| c.kind == k && c.running);
    let mut out = Vec::new();
    match signal {
        Signal::Opened { answered_live } => {
            if has(K::FirstResponse) {
                out.push(if answered_live {
                    Command::StartMet(K::FirstResponse)
                } else {
                    Command::Start(K::FirstResponse)
                });
            }
            if has(K::Resolution) {
                out.push(Command::Start(K::Resolution));
            }
            if policy.pauses_in(status) {
                out.push(Command::PauseAll);
            }
        }
        Signal::AgentReplied => {
            for k in [K::FirstResponse, K::NextResponse] {
                if running(k) {
                    out.push(Command::Stop(k));
                }
            }
        }
        Signal::CustomerWrote => {
            // A customer who writes again before the first answer is still
            // waiting for that answer: one clock, not two.
            if status.is_active()
                && has(K::NextResponse)
                && !running(K::FirstResponse)
                && !running(K::NextResponse)
            {
                out.push(Command::Start(K::NextResponse));
            }
        }
        Signal::Status { from, to } => {
            if from.is_active() && !to.is_active() {
                for c in clocks.iter().filter(|c| c.running && c.kind != K::Task) {
                    out.push(Command::Stop(c.kind));
                }
            } else if !from.is_active() && to.is_active() {
                // Reopened: the customer is owed an answer and a resolution again.
                for k in [K::NextResponse, K::Resolution] {
                    if has(k) && !running(k) {
                        out.push(Command::Start(k));
                    }
                }
            } else if policy.pauses_in(to) && !policy.pauses_in(from) {
                out.push(Command::PauseAll);
            } else if policy.pauses_in(from) && !policy.pauses_in(to) {
                out.push(Command::ResumeAll);
            }
        }
    }
    out
}

/// How far a clock's escalation has gone; it only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Running,
    Warned,
    Breached,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Running => "running",
            Stage::Warned => "warned",
            Stage::Breached => "breached",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        [Stage::Running, Stage::Warned, Stage::Breached]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// When the scheduler must look at a clock in this stage next; `None`
    /// once nothing is left to fire (or the clock is paused or stopped and
    /// so has no due instant).
    pub fn next_fire(
        self,
        warn_at: Option<Timestamp>,
        due_at: Option<Timestamp>,
    ) -> Option<Timestamp> {
        match self {
            Stage::Running => warn_at.or(due_at),
            Stage::Warned => due_at,
            Stage::Breached => None,
        }
    }

    /// What fires at `now`: a breach passes any warning not yet given.
    pub fn fire(
        self,
        now: Timestamp,
        warn_at: Option<Timestamp>,
        due_at: Option<Timestamp>,
    ) -> Option<Stage> {
        if self < Stage::Breached && due_at.is_some_and(|d| d <= now) {
            Some(Stage::Breached)
        } else if self < Stage::Warned && warn_at.is_some_and(|w| w <= now) {
            Some(Stage::Warned)
        } else {
            None
        }
    }
}

impl Priority {
    /// One step more urgent; urgent stays urgent.
    pub fn raised(self) -> Priority {
        match self {
            Priority::Low => Priority::Normal,
            Priority::Normal => Priority::High,
            Priority::High | Priority::Urgent => Priority::Urgent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus as S;
    use ClockKind as K;
    use Command as C;

    fn policy() -> PolicySpec {
        serde_json::from_str(
            r#"{"name": "standard", "first_response": {"minutes": 240},
                "next_response": {"minutes": 480}, "resolution": {"minutes": 2400}}"#,
        )
        .unwrap()
    }

    fn clocks(list: &[(ClockKind, bool)]) -> Vec<ClockView> {
        list.iter()
            .map(|(kind, running)| ClockView {
                kind: *kind,
                running: *running,
            })
            .collect()
    }

    #[test]
    fn defaults_and_checks() {
        let p = policy();
        assert!(p.active);
        assert_eq!(p.warn_percent, 80);
        assert_eq!(p.pause_statuses, vec![S::PendingCustomer]);
        assert_eq!(p.target(K::FirstResponse).map(|t| t.business), Some(true));
        assert_eq!(p.check(), Ok(()));
        let bad = |f: &dyn Fn(&mut PolicySpec), field: &str| {
            let mut p = policy();
            f(&mut p);
            assert_eq!(p.check().unwrap_err().field, field);
        };
        bad(&|p| p.name = " ".into(), "name");
        bad(
            &|p| {
                p.resolution = Some(Target {
                    minutes: 0,
                    business: true,
                })
            },
            "resolution.minutes",
        );
        bad(
            &|p| {
                p.first_response = None;
                p.next_response = None;
                p.resolution = None;
            },
            "first_response",
        );
        bad(&|p| p.pause_statuses = vec![S::Open], "pause_statuses");
        bad(&|p| p.warn_percent = 100, "warn_percent");
        let unknown = serde_json::from_str::<PolicySpec>(r#"{"name": "x", "colour": "red"}"#);
        assert!(unknown.is_err());
    }

    #[test]
    fn the_first_matching_policy_applies() {
        let mut vip = policy();
        vip.name = "vip complaints".into();
        vip.conditions.case_types = vec![CaseType::Complaint];
        vip.conditions.tiers = vec!["vip".into()];
        let mut rescue = policy();
        rescue.name = "rescue line".into();
        rescue.conditions.channels = vec![Channel::Phone];
        rescue.conditions.tags = vec!["roadside".into(), "fleet".into()];
        let mut off = policy();
        off.name = "switched off".into();
        off.active = false;
        let mut mail = policy();
        mail.name = "service mailbox".into();
        mail.conditions.address_ids = vec![7];
        mail.conditions.team_ids = vec![TeamId(2)];
        let all = policy();
        let list = [(1, vip), (2, rescue), (3, off), (4, mail), (5, all)];
        let tags = ["fleet".to_string()];
        let base = Facts {
            case_type: CaseType::Inquiry,
            channel: Channel::Email,
            address_id: None,
            team_id: None,
            tier: Some("standard"),
            tags: &[],
        };
        let cases = [
            (base, 5),
            (
                Facts {
                    case_type: CaseType::Complaint,
                    tier: Some("vip"),
                    ..base
                },
                1,
            ),
            (
                Facts {
                    case_type: CaseType::Complaint,
                    ..base
                },
                5,
            ),
            (
                Facts {
                    channel: Channel::Phone,
                    tags: &tags,
                    ..base
                },
                2,
            ),
            (
                Facts {
                    channel: Channel::Phone,
                    ..base
                },
                5,
            ),
            (
                Facts {
                    address_id: Some(7),
                    team_id: Some(TeamId(2)),
                    ..base
                },
                4,
            ),
            (
                Facts {
                    address_id: Some(7),
                    ..base
                },
                5,
            ),
        ];
        for (facts, want) in cases {
            assert_eq!(choose(&list, &facts).map(|p| p.0), Some(want), "{facts:?}");
        }
        assert!(choose(&list[..4], &base).is_none());
    }

    #[test]
    fn signals_move_the_clocks() {
        let p = policy();
        let mut no_next = policy();
        no_next.next_response = None;
        let fresh = clocks(&[(K::FirstResponse, true), (K::Resolution, true)]);
        let answered = clocks(&[(K::FirstResponse, false), (K::Resolution, true)]);
        let waiting = clocks(&[
            (K::FirstResponse, false),
            (K::NextResponse, true),
            (K::Resolution, true),
        ]);
        let done = clocks(&[(K::FirstResponse, false), (K::Resolution, false)]);
        let status = |from, to| Signal::Status { from, to };
        type Row<'a> = (
            &'a PolicySpec,
            &'a [ClockView],
            CaseStatus,
            Signal,
            Vec<Command>,
        );
        let table: Vec<Row> = vec![
            (
                &p,
                &[],
                S::New,
                Signal::Opened {
                    answered_live: false,
                },
                vec![C::Start(K::FirstResponse), C::Start(K::Resolution)],
            ),
            (
                &p,
                &[],
                S::Open,
                Signal::Opened {
                    answered_live: true,
                },
                vec![C::StartMet(K::FirstResponse), C::Start(K::Resolution)],
            ),
            (
                &p,
                &fresh,
                S::New,
                Signal::AgentReplied,
                vec![C::Stop(K::FirstResponse)],
            ),
            (
                &p,
                &waiting,
                S::Open,
                Signal::AgentReplied,
                vec![C::Stop(K::NextResponse)],
            ),
            (&p, &answered, S::Open, Signal::AgentReplied, vec![]),
            // Writing again before the first answer starts nothing new.
            (&p, &fresh, S::New, Signal::CustomerWrote, vec![]),
            (
                &p,
                &answered,
                S::Open,
                Signal::CustomerWrote,
                vec![C::Start(K::NextResponse)],
            ),
            (&p, &waiting, S::Open, Signal::CustomerWrote, vec![]),
            (&no_next, &answered, S::Open, Signal::CustomerWrote, vec![]),
            (&p, &done, S::Resolved, Signal::CustomerWrote, vec![]),
            (
                &p,
                &answered,
                S::Open,
                status(S::Open, S::PendingCustomer),
                vec![C::PauseAll],
            ),
            (
                &p,
                &answered,
                S::PendingCustomer,
                status(S::PendingCustomer, S::Open),
                vec![C::ResumeAll],
            ),
            // Waiting on a department is work in progress under this policy.
            (
                &p,
                &answered,
                S::Open,
                status(S::Open, S::PendingDepartment),
                vec![],
            ),
            (
                &p,
                &waiting,
                S::Open,
                status(S::Open, S::Resolved),
                vec![C::Stop(K::NextResponse), C::Stop(K::Resolution)],
            ),
            (
                &p,
                &done,
                S::Closed,
                status(S::Closed, S::Open),
                vec![C::Start(K::NextResponse), C::Start(K::Resolution)],
            ),
            (
                &p,
                &done,
                S::Resolved,
                status(S::Resolved, S::Closed),
                vec![],
            ),
        ];
        for (policy, clocks, at, signal, want) in table {
            assert_eq!(
                react(policy, clocks, at, signal),
                want,
                "{signal:?} on {clocks:?}"
            );
        }
    }

    #[test]
    fn escalation_moves_forward_once() {
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let (warn, due) = (
            Some(t("2026-11-02T12:12:00Z")),
            Some(t("2026-11-02T13:00:00Z")),
        );
        let r = Stage::Running;
        assert_eq!(r.next_fire(warn, due), warn);
        assert_eq!(Stage::Warned.next_fire(warn, due), due);
        assert_eq!(Stage::Breached.next_fire(warn, due), None);
        assert_eq!(r.next_fire(None, None), None);
        assert_eq!(r.fire(t("2026-11-02T12:00:00Z"), warn, due), None);
        assert_eq!(
            r.fire(t("2026-11-02T12:12:00Z"), warn, due),
            Some(Stage::Warned)
        );
        assert_eq!(
            r.fire(t("2026-11-02T14:00:00Z"), warn, due),
            Some(Stage::Breached)
        );
        assert_eq!(
            Stage::Warned.fire(t("2026-11-02T12:30:00Z"), warn, due),
            None
        );
        assert_eq!(
            Stage::Breached.fire(t("2026-11-09T00:00:00Z"), warn, due),
            None
        );
        // Paused: no due instant, nothing fires.
        assert_eq!(
            Stage::Warned.fire(t("2026-11-09T00:00:00Z"), warn, None),
            None
        );
        assert_eq!(Priority::Low.raised(), Priority::Normal);
        assert_eq!(Priority::Urgent.raised(), Priority::Urgent);
    }
}
