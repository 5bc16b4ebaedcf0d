//! Skills-based routing (ACD) for every kind of work: what queues, agents
//! and work items look like, the entry rules that put work into queues, and
//! the engine ([`Router`]) that offers work to agents. The engine is driven
//! by the server in real time and by the simulator in simulated time; it
//! never reads a clock, so both see the same decisions.

use crate::FieldError;
use crate::case::{CaseType, InteractionKind, Priority, vocabulary};
use crate::ids::{CalendarId, CategoryId, QueueId, SkillId, TeamId, UserId, WorkId};
use serde::{Deserialize, Serialize};
use std::fmt;

mod engine;
mod figures;
#[cfg(test)]
mod tests;

pub use engine::{AgentView, QueueStatus, RouteError, Router, WorkView};
pub use figures::{WorkEnd, WorkTimes};

vocabulary!(
    /// What is routed. A call or a call-back holds the agent's whole
    /// attention; the others are worked side by side up to a capacity.
    WorkKind, "kind" {
        Call = "call",
        Callback = "callback",
        Chat = "chat",
        Email = "email",
        Web = "web",
        FollowUp = "follow_up",
        DepartmentReturn = "department_return",
    }
);

impl WorkKind {
    pub(crate) const COUNT: usize = 7;

    pub(crate) fn ix(self) -> usize {
        self as usize
    }

    /// Live voice: while an agent has one (or is offered one) nothing else
    /// is offered to them.
    pub fn live(self) -> bool {
        matches!(self, WorkKind::Call | WorkKind::Callback)
    }

    /// The work a customer's contact asks for: a message to answer, or a
    /// call recorded after the fact to return.
    pub fn of_contact(kind: InteractionKind) -> WorkKind {
        match kind {
            InteractionKind::Email => WorkKind::Email,
            InteractionKind::WebForm => WorkKind::Web,
            InteractionKind::Chat => WorkKind::Chat,
            InteractionKind::Call => WorkKind::Callback,
            _ => WorkKind::FollowUp,
        }
    }
}

vocabulary!(
    /// How a queue picks among the agents free to take its work.
    Strategy, "strategy" {
        LongestIdle = "longest_idle",
        LeastOccupied = "least_occupied",
        RoundRobin = "round_robin",
        BestSkill = "best_skill",
    }
);

vocabulary!(
    /// What becomes of work that waited the queue's maximum, or arrived
    /// while the queue was closed.
    WaitAction, "action" {
        Stay = "stay",
        Callback = "callback",
        Voicemail = "voicemail",
    }
);

vocabulary!(
    AgentStatus, "status" {
        Offline = "offline",
        Available = "available",
        Busy = "busy",
        WrapUp = "wrap_up",
        Break = "break",
    }
);

vocabulary!(
    BreakReason, "reason" {
        Lunch = "lunch",
        Training = "training",
        Meeting = "meeting",
        Coaching = "coaching",
        MissedOffers = "missed_offers",
        Other = "other",
    }
);

vocabulary!(
    /// Why an offer ended without the agent taking the work.
    Lapse, "lapse" {
        Rejected = "rejected",
        NoAnswer = "no_answer",
        Withdrawn = "withdrawn",
    }
);

/// What the agent chose: the engine adds busy and wrap-up on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Presence {
    Offline,
    Available,
    Break(BreakReason),
}

/// A state as shown and kept in the history: the status, and the reason of
/// a break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    pub status: AgentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<BreakReason>,
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Some(r) => write!(f, "{}:{}", self.status, r),
            None => f.write_str(self.status.as_str()),
        }
    }
}

/// A skill level, 1 (beginner) to 5 (expert).
pub fn level(field: &str, input: u8) -> Result<u8, FieldError> {
    if (1..=5).contains(&input) {
        Ok(input)
    } else {
        Err(FieldError::new(field, "must be a level from 1 to 5"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillLevel {
    pub skill: SkillId,
    pub level: u8,
}

/// After `after_secs` in the queue, either ask for other (usually fewer or
/// lower) skills, or move the work to another queue, keeping its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overflow {
    pub after_secs: u32,
    /// The skills asked from then on (may be empty: anyone in the queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widen_to: Option<Vec<SkillLevel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to: Option<QueueId>,
}

/// How many items of each kind an agent works at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Capacity {
    pub call: u8,
    pub callback: u8,
    pub chat: u8,
    pub email: u8,
    pub web: u8,
    pub follow_up: u8,
    pub department_return: u8,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            call: 1,
            callback: 1,
            chat: 2,
            email: 4,
            web: 4,
            follow_up: 2,
            department_return: 4,
        }
    }
}

impl Capacity {
    pub fn of(&self, kind: WorkKind) -> u8 {
        match kind {
            WorkKind::Call => self.call,
            WorkKind::Callback => self.callback,
            WorkKind::Chat => self.chat,
            WorkKind::Email => self.email,
            WorkKind::Web => self.web,
            WorkKind::FollowUp => self.follow_up,
            WorkKind::DepartmentReturn => self.department_return,
        }
    }

    /// Live voice is one at a time whatever is written.
    pub fn check(&self) -> Result<(), FieldError> {
        if self.call > 1 || self.callback > 1 {
            return Err(FieldError::new(
                "capacity",
                "an agent takes at most one call at a time",
            ));
        }
        if WorkKind::ALL.iter().any(|k| self.of(*k) > 50) {
            return Err(FieldError::new("capacity", "must be at most 50 per kind"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// Given by the store; input leaves it out.
    #[serde(default = "no_queue")]
    pub id: QueueId,
    pub name: String,
    /// The kinds of work the queue takes.
    pub kinds: Vec<WorkKind>,
    #[serde(default)]
    pub skills: Vec<SkillLevel>,
    /// Only members of these teams serve the queue; empty means anyone.
    #[serde(default)]
    pub teams: Vec<TeamId>,
    /// Higher first: an agent in several queues takes the higher queue's
    /// work before any of a lower queue's.
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "longest_idle")]
    pub strategy: Strategy,
    #[serde(default)]
    pub overflow: Vec<Overflow>,
    #[serde(default)]
    pub max_wait_secs: Option<u32>,
    #[serde(default = "stay")]
    pub on_max_wait: WaitAction,
    /// What happens to work arriving while the queue is closed.
    #[serde(default = "stay")]
    pub when_closed: WaitAction,
    #[serde(default)]
    pub wrap_up_secs: u32,
    /// How long an offer rings before it goes elsewhere; none waits for
    /// the agent's answer.
    #[serde(default)]
    pub offer_timeout_secs: Option<u32>,
    /// How long work waits for the customer's own agent or team (or the
    /// agent who handled the case) before anyone may take it.
    #[serde(default)]
    pub prefer_secs: u32,
    /// Open only in this calendar's hours; none is always open. The driver
    /// opens and closes the queue; the engine only hears `set_open`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_id: Option<CalendarId>,
}

fn no_queue() -> QueueId {
    QueueId(0)
}
fn longest_idle() -> Strategy {
    Strategy::LongestIdle
}
fn stay() -> WaitAction {
    WaitAction::Stay
}

impl QueueSpec {
    /// A queue for `kinds` with the defaults a new queue gets.
    pub fn new(id: QueueId, name: &str, kinds: &[WorkKind]) -> Self {
        QueueSpec {
            id,
            name: name.to_string(),
            kinds: kinds.to_vec(),
            skills: Vec::new(),
            teams: Vec::new(),
            priority: 0,
            strategy: Strategy::LongestIdle,
            overflow: Vec::new(),
            max_wait_secs: None,
            on_max_wait: WaitAction::Stay,
            when_closed: WaitAction::Stay,
            wrap_up_secs: 0,
            offer_timeout_secs: None,
            prefer_secs: 0,
            calendar_id: None,
        }
    }

    pub fn check(&self) -> Result<(), FieldError> {
        crate::contact::text("name", &self.name, 100)?;
        if self.kinds.is_empty() {
            return Err(FieldError::new("kinds", "name at least one kind of work"));
        }
        for s in &self.skills {
            level("skills", s.level)?;
        }
        let mut last = 0;
        for (i, o) in self.overflow.iter().enumerate() {
            let field = format!("overflow[{i}]");
            if o.after_secs <= last && i > 0 || o.after_secs == 0 {
                return Err(FieldError::new(
                    field,
                    "steps must come in order of time, each after more seconds than the one before",
                ));
            }
            last = o.after_secs;
            match (&o.widen_to, o.move_to) {
                (Some(w), None) => {
                    for s in w {
                        level(&field, s.level)?;
                    }
                }
                (None, Some(q)) if q != self.id => {}
                (None, Some(_)) => {
                    return Err(FieldError::new(field, "cannot move work to its own queue"));
                }
                _ => {
                    return Err(FieldError::new(
                        field,
                        "a step either widens the skills or moves to another queue",
                    ));
                }
            }
        }
        if self.max_wait_secs == Some(0) {
            return Err(FieldError::new("max_wait_secs", "must be above zero"));
        }
        if self.offer_timeout_secs == Some(0) {
            return Err(FieldError::new("offer_timeout_secs", "must be above zero"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub id: UserId,
    #[serde(default)]
    pub skills: Vec<SkillLevel>,
    /// Language codes the agent serves in, e.g. "zh", "en", "yue".
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub teams: Vec<TeamId>,
    #[serde(default)]
    pub capacity: Capacity,
}

/// What an administrator sets of an agent for routing; teams come from
/// the user's team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentProfile {
    #[serde(default)]
    pub skills: Vec<SkillLevel>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub capacity: Capacity,
}

impl AgentProfile {
    /// Checks levels, languages (kept lower-case, once each) and capacity.
    pub fn check(mut self) -> Result<AgentProfile, FieldError> {
        for (i, s) in self.skills.iter().enumerate() {
            level(&format!("skills[{i}].level"), s.level)?;
            if self.skills[..i].iter().any(|o| o.skill == s.skill) {
                return Err(FieldError::new(format!("skills[{i}]"), "named twice"));
            }
        }
        let mut langs = Vec::with_capacity(self.languages.len());
        for (i, l) in self.languages.iter().enumerate() {
            let l =
                language(l).map_err(|e| FieldError::new(format!("languages[{i}]"), &e.reason))?;
            if !langs.contains(&l) {
                langs.push(l);
            }
        }
        self.languages = langs;
        self.capacity.check()?;
        Ok(self)
    }

    pub fn spec(self, id: UserId, teams: Vec<TeamId>) -> AgentSpec {
        AgentSpec {
            id,
            skills: self.skills,
            languages: self.languages,
            teams,
            capacity: self.capacity,
        }
    }
}

impl AgentSpec {
    pub fn check(&self) -> Result<(), FieldError> {
        for s in &self.skills {
            level("skills", s.level)?;
        }
        for l in &self.languages {
            language(l)?;
        }
        self.capacity.check()
    }
}

/// A language code: 2 to 8 letters or '-', kept lower-case.
pub fn language(input: &str) -> Result<String, FieldError> {
    let l = input.trim().to_ascii_lowercase();
    if (2..=8).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        Ok(l)
    } else {
        Err(FieldError::new(
            "language",
            "must be a language code such as zh, en or yue",
        ))
    }
}

/// Who is offered the work first: the customer's dedicated agent or team,
/// or the agent who last handled the case (sticky routing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
}

/// One item of work as the engine routes it. Times are milliseconds on
/// the driver's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    pub id: WorkId,
    pub kind: WorkKind,
    pub queue: QueueId,
    pub priority: Priority,
    /// When the case's SLA breaches: sooner is served first among equals.
    pub sla_due: Option<i64>,
    pub arrived: i64,
    pub language: Option<String>,
    pub prefer: Prefer,
}

/// What the engine decided; the driver stores and announces these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Offered {
        work: WorkId,
        agent: UserId,
        until: Option<i64>,
    },
    Lapsed {
        work: WorkId,
        agent: UserId,
        lapse: Lapse,
    },
    Assigned {
        work: WorkId,
        agent: UserId,
        manual: bool,
    },
    State {
        agent: UserId,
        state: AgentState,
        at: i64,
    },
    Overflowed {
        work: WorkId,
        queue: QueueId,
        stage: u8,
    },
    /// The work left its queue: it waited the maximum, or came while the
    /// queue was closed. The driver acts on `action` (a call-back request,
    /// a voicemail case).
    Expired {
        work: WorkId,
        queue: QueueId,
        action: WaitAction,
        closed: bool,
    },
}

/// What an entry rule asks of new work; an empty list asks nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryConditions {
    #[serde(default)]
    pub kinds: Vec<WorkKind>,
    /// Receiving e-mail addresses (their ids).
    #[serde(default)]
    pub address_ids: Vec<i64>,
    #[serde(default)]
    pub case_types: Vec<CaseType>,
    #[serde(default)]
    pub category_ids: Vec<CategoryId>,
    /// Province or region codes, e.g. "44" for Guangdong.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
}

/// What is known of new work when it is put into a queue.
#[derive(Debug, Clone, Default)]
pub struct EntryFacts<'a> {
    pub kind: Option<WorkKind>,
    pub address_id: Option<i64>,
    pub case_type: Option<CaseType>,
    pub category_id: Option<CategoryId>,
    pub region: Option<&'a str>,
    pub tier: Option<&'a str>,
    pub language: Option<&'a str>,
}

impl EntryConditions {
    pub fn matches(&self, f: &EntryFacts) -> bool {
        fn any<T: PartialEq>(wanted: &[T], have: Option<T>) -> bool {
            wanted.is_empty() || have.is_some_and(|h| wanted.contains(&h))
        }
        fn text(wanted: &[String], have: Option<&str>) -> bool {
            wanted.is_empty() || have.is_some_and(|h| wanted.iter().any(|w| w == h))
        }
        any(&self.kinds, f.kind)
            && any(&self.address_ids, f.address_id)
            && any(&self.case_types, f.case_type)
            && any(&self.category_ids, f.category_id)
            && text(&self.regions, f.region)
            && text(&self.tiers, f.tier)
            && text(&self.languages, f.language)
    }
}

/// The queue of the first rule (in the administrator's order) that matches.
pub fn entry_queue<'a>(
    rules: impl IntoIterator<Item = &'a (EntryConditions, QueueId)>,
    facts: &EntryFacts,
) -> Option<QueueId> {
    rules
        .into_iter()
        .find(|(c, _)| c.matches(facts))
        .map(|(_, q)| *q)
}
