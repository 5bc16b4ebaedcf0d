//! The routing engine. Work waits in sub-queues, one per queue, overflow
//! stage, language and kind, so every item in a sub-queue asks the same of
//! an agent and the first eligible one is the best; each sub-queue knows its
//! eligible agents ahead of time. A decision is then a short scan either
//! way: a new item looks over its sub-queue's agents, a freed agent over
//! the heads of its sub-queues.

use super::*;
use crate::case::Priority;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

/// How long an agent who let an offer go is passed over for that item.
const REOFFER_AFTER_MS: i64 = 60_000;
/// Missed offers in a row that put an agent on a break.
const MAX_MISSED: u8 = 3;
/// Moves between queues one item may make by overflow, against loops.
const MAX_MOVES: u8 = 8;
const NO_LANG: u16 = u16::MAX;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    #[error("no such queue")]
    UnknownQueue,
    #[error("no such agent")]
    UnknownAgent,
    #[error("no such work item")]
    UnknownWork,
    #[error("the work item is already routed")]
    Duplicate,
    #[error("the work item is not offered to this agent")]
    NotOffered,
    #[error("the work item is not being worked")]
    NotActive,
    #[error("the work item is being worked")]
    Active,
    #[error("the queue does not take this kind of work")]
    WrongKind,
    #[error("the queue still holds work")]
    QueueInUse,
    #[error("at most 64 languages")]
    TooManyLanguages,
    #[error("{0}")]
    Invalid(#[from] FieldError),
}

/// Order inside a sub-queue: priority, SLA urgency, arrival, then the slot
/// so two items never tie.
type Key = (Reverse<u8>, i64, i64, u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Waiting(u32),
    /// Held for the preferred agent or team until the queue's prefer time.
    Held,
    Offered(u32),
    Active(u32),
}

struct Item {
    id: WorkId,
    kind: WorkKind,
    queue: u32,
    stage: u8,
    /// Overflow steps taken in the current queue.
    step: u8,
    lang: u16,
    prio: u8,
    due: i64,
    arrived: i64,
    entered: i64,
    prefer: Prefer,
    place: Place,
    /// Bumped when the item changes queue or stage: older timers are stale.
    qgen: u32,
    /// Bumped on every offer: older offer timers are stale.
    ogen: u32,
    moves: u8,
    passed_over: Vec<(u32, i64)>,
}

impl Item {
    fn key(&self, slot: u32) -> Key {
        (Reverse(self.prio), self.due, self.arrived, slot)
    }
}

struct Queue {
    spec: QueueSpec,
    open: bool,
    /// Requirements per overflow stage: stage 0 is the queue's own.
    stages: Vec<Vec<(u16, u8)>>,
    /// Which overflow step each stage came from (`None` for stage 0).
    subs: Vec<u32>,
    round_robin: u32,
}

struct Sub {
    queue: u32,
    stage: u8,
    lang: u16,
    kind: WorkKind,
    items: BTreeSet<Key>,
    /// Eligible agents, by index.
    agents: Vec<u32>,
}

/// What the hot path reads of an agent, packed together.
#[derive(Clone, Copy)]
struct Hot {
    /// Available, not wrapping up, no live work or live offer.
    ready: bool,
    /// Items offered or in hand, of any kind.
    holding: u8,
    idle_since: i64,
    load: [u8; WorkKind::COUNT],
    cap: [u8; WorkKind::COUNT],
}

impl Hot {
    fn can_take(&self, kind: WorkKind) -> bool {
        self.ready && self.load[kind.ix()] < self.cap[kind.ix()]
    }

    /// Longest idle first: agents holding nothing before agents holding
    /// some work, then by how long ago they last came free.
    fn idle(&self) -> (bool, i64) {
        (self.holding > 0, self.idle_since)
    }

    fn occupancy(&self) -> u32 {
        (0..WorkKind::COUNT)
            .filter(|&k| self.cap[k] > 0)
            .map(|k| self.load[k] as u32 * 1000 / self.cap[k] as u32)
            .sum()
    }
}

struct Agent {
    spec: AgentSpec,
    levels: Vec<u8>,
    langs: u64,
    presence: Presence,
    wrap_until: Option<i64>,
    wrap_gen: u32,
    live: u8,
    /// On a call the router did not give (the PBX put it through).
    on_call: bool,
    missed: u8,
    shown: AgentState,
    since: i64,
    work: Vec<u32>,
    subs: Vec<u32>,
    held: BTreeSet<Key>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Offer(u32, u32),
    Wrap(u32, u32),
    Stage(u32, u32),
    MaxWait(u32, u32),
    Prefer(u32, u32),
    PassedOver(u32),
}

/// A queue's state for the supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueStatus {
    pub queue: QueueId,
    pub open: bool,
    pub waiting: u32,
    pub offered: u32,
    pub longest_wait_ms: i64,
    /// Agents serving the queue, by state.
    pub agents: Vec<(AgentStatus, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentView {
    pub agent: UserId,
    pub state: AgentState,
    pub since: i64,
    pub presence: Presence,
    pub offered: Vec<WorkId>,
    pub active: Vec<WorkId>,
    pub missed: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "agent", rename_all = "snake_case")]
pub enum WorkView {
    Waiting,
    Held,
    Offered(UserId),
    Active(UserId),
}

#[derive(Default)]
pub struct Router {
    queues: Vec<Queue>,
    queue_ix: HashMap<QueueId, u32>,
    agents: Vec<Agent>,
    hot: Vec<Hot>,
    agent_ix: HashMap<UserId, u32>,
    skills: HashMap<SkillId, u16>,
    langs: HashMap<String, u16>,
    subs: Vec<Sub>,
    sub_ix: HashMap<(u32, u8, u16, WorkKind), u32>,
    items: Vec<Option<Item>>,
    free: Vec<u32>,
    item_ix: HashMap<WorkId, u32>,
    team_held: HashMap<TeamId, BTreeSet<Key>>,
    timers: BinaryHeap<Reverse<(i64, u64, Timer)>>,
    timer_seq: u64,
    /// Epochs are drawn from one counter, so a timer of an item whose slot
    /// has since been reused never matches the new item.
    epochs: u32,
    dirty_items: Vec<u32>,
    dirty_agents: Vec<u32>,
    events: Vec<Event>,
}

fn prio(p: Priority) -> u8 {
    match p {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    }
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decisions since the last call, in the order they were made.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Swaps the decisions made into `buf` (cleared first): both buffers
    /// keep their memory, for the simulator's hot loop.
    pub fn swap_events(&mut self, buf: &mut Vec<Event>) {
        buf.clear();
        std::mem::swap(&mut self.events, buf);
    }

    /// The next instant at which [`Router::advance`] has something to do.
    pub fn next_due(&self) -> Option<i64> {
        self.timers.peek().map(|Reverse((t, _, _))| *t)
    }

    fn epoch(&mut self) -> u32 {
        self.epochs = self.epochs.wrapping_add(1);
        self.epochs
    }

    fn timer(&mut self, at: i64, t: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at, self.timer_seq, t)));
    }

    fn skill(&mut self, s: SkillId) -> u16 {
        let n = self.skills.len() as u16;
        *self.skills.entry(s).or_insert(n)
    }

    fn lang(&mut self, l: &str) -> Result<u16, RouteError> {
        if let Some(i) = self.langs.get(l) {
            return Ok(*i);
        }
        let n = self.langs.len();
        if n >= 64 {
            return Err(RouteError::TooManyLanguages);
        }
        self.langs.insert(l.to_string(), n as u16);
        Ok(n as u16)
    }

    fn reqs(&mut self, skills: &[SkillLevel]) -> Vec<(u16, u8)> {
        skills
            .iter()
            .map(|s| (self.skill(s.skill), s.level))
            .collect()
    }

    // ---- configuration -------------------------------------------------

    /// Adds or changes a queue. Waiting work keeps its place; eligibility
    /// is worked out again.
    pub fn set_queue(&mut self, spec: QueueSpec) -> Result<(), RouteError> {
        spec.check()?;
        let mut stages = vec![self.reqs(&spec.skills)];
        for o in &spec.overflow {
            if let Some(w) = &o.widen_to {
                let r = self.reqs(w);
                stages.push(r);
            }
        }
        match self.queue_ix.get(&spec.id) {
            Some(&q) => {
                let qu = &mut self.queues[q as usize];
                qu.spec = spec;
                qu.stages = stages;
                for s in qu.subs.clone() {
                    self.sub_agents(s);
                }
                self.sort_agent_subs();
                for a in 0..self.agents.len() as u32 {
                    self.dirty_agents.push(a);
                }
            }
            None => {
                self.queue_ix.insert(spec.id, self.queues.len() as u32);
                self.queues.push(Queue {
                    spec,
                    open: true,
                    stages,
                    subs: Vec::new(),
                    round_robin: u32::MAX,
                });
            }
        }
        Ok(())
    }

    /// Removes a queue that holds no work.
    pub fn remove_queue(&mut self, id: QueueId) -> Result<(), RouteError> {
        let q = *self.queue_ix.get(&id).ok_or(RouteError::UnknownQueue)?;
        if self.items.iter().flatten().any(|i| i.queue == q) {
            return Err(RouteError::QueueInUse);
        }
        // Keep the slot (indices stay valid) but serve no one.
        let qu = &mut self.queues[q as usize];
        qu.spec.kinds.clear();
        for s in qu.subs.clone() {
            for a in std::mem::take(&mut self.subs[s as usize].agents) {
                self.agents[a as usize].subs.retain(|x| *x != s);
            }
        }
        self.queue_ix.remove(&id);
        Ok(())
    }

    /// Opens or closes a queue (its calendar, as the driver reads it).
    pub fn set_open(&mut self, id: QueueId, open: bool) -> Result<(), RouteError> {
        let q = *self.queue_ix.get(&id).ok_or(RouteError::UnknownQueue)?;
        self.queues[q as usize].open = open;
        Ok(())
    }

    /// Adds an agent (offline) or changes one's skills, teams, languages and
    /// capacity, keeping their state and work.
    pub fn set_agent(&mut self, spec: AgentSpec, now: i64) -> Result<(), RouteError> {
        spec.check()?;
        let mut levels = Vec::new();
        for s in &spec.skills {
            let i = self.skill(s.skill) as usize;
            if levels.len() <= i {
                levels.resize(i + 1, 0);
            }
            levels[i] = s.level;
        }
        let mut langs = 0u64;
        for l in &spec.languages {
            langs |= 1 << self.lang(&language(l)?)?;
        }
        let mut cap = [0u8; WorkKind::COUNT];
        for k in WorkKind::ALL {
            cap[k.ix()] = spec.capacity.of(*k);
        }
        let a = match self.agent_ix.get(&spec.id) {
            Some(&a) => {
                let ag = &mut self.agents[a as usize];
                ag.spec = spec;
                ag.levels = levels;
                ag.langs = langs;
                self.hot[a as usize].cap = cap;
                for s in std::mem::take(&mut self.agents[a as usize].subs) {
                    self.subs[s as usize].agents.retain(|x| *x != a);
                }
                a
            }
            None => {
                let a = self.agents.len() as u32;
                self.agent_ix.insert(spec.id, a);
                self.agents.push(Agent {
                    spec,
                    levels,
                    langs,
                    presence: Presence::Offline,
                    wrap_until: None,
                    wrap_gen: 0,
                    live: 0,
                    on_call: false,
                    missed: 0,
                    shown: AgentState {
                        status: AgentStatus::Offline,
                        reason: None,
                    },
                    since: now,
                    work: Vec::new(),
                    subs: Vec::new(),
                    held: BTreeSet::new(),
                });
                self.hot.push(Hot {
                    ready: false,
                    holding: 0,
                    idle_since: now,
                    load: [0; WorkKind::COUNT],
                    cap,
                });
                a
            }
        };
        for s in 0..self.subs.len() as u32 {
            if self.eligible(a, s) {
                let sub = &mut self.subs[s as usize];
                let at = sub.agents.partition_point(|x| *x < a);
                sub.agents.insert(at, a);
                self.agents[a as usize].subs.push(s);
            }
        }
        self.sort_subs_of(a);
        self.dirty_agents.push(a);
        Ok(())
    }

    fn eligible(&self, a: u32, s: u32) -> bool {
        let sub = &self.subs[s as usize];
        let q = &self.queues[sub.queue as usize];
        let ag = &self.agents[a as usize];
        let stage = (sub.stage as usize).min(q.stages.len() - 1);
        q.spec.kinds.contains(&sub.kind)
            && ag.spec.capacity.of(sub.kind) > 0
            && (q.spec.teams.is_empty() || ag.spec.teams.iter().any(|t| q.spec.teams.contains(t)))
            && (sub.lang == NO_LANG || ag.langs & (1 << sub.lang) != 0)
            && q.stages[stage]
                .iter()
                .all(|(sk, lv)| ag.levels.get(*sk as usize).copied().unwrap_or(0) >= *lv)
    }

    fn sub_agents(&mut self, s: u32) {
        for a in std::mem::take(&mut self.subs[s as usize].agents) {
            self.agents[a as usize].subs.retain(|x| *x != s);
        }
        let list: Vec<u32> = (0..self.agents.len() as u32)
            .filter(|a| self.eligible(*a, s))
            .collect();
        for a in &list {
            self.agents[*a as usize].subs.push(s);
        }
        self.subs[s as usize].agents = list;
    }

    fn sort_subs_of(&mut self, a: u32) {
        let mut subs = std::mem::take(&mut self.agents[a as usize].subs);
        subs.sort_by_key(|s| {
            let q = self.subs[*s as usize].queue;
            (Reverse(self.queues[q as usize].spec.priority), *s)
        });
        self.agents[a as usize].subs = subs;
    }

    fn sort_agent_subs(&mut self) {
        for a in 0..self.agents.len() as u32 {
            self.sort_subs_of(a);
        }
    }

    fn sub(&mut self, queue: u32, stage: u8, lang: u16, kind: WorkKind) -> u32 {
        if let Some(s) = self.sub_ix.get(&(queue, stage, lang, kind)) {
            return *s;
        }
        let s = self.subs.len() as u32;
        self.subs.push(Sub {
            queue,
            stage,
            lang,
            kind,
            items: BTreeSet::new(),
            agents: Vec::new(),
        });
        self.sub_ix.insert((queue, stage, lang, kind), s);
        self.queues[queue as usize].subs.push(s);
        self.sub_agents(s);
        let agents = self.subs[s as usize].agents.clone();
        for a in agents {
            self.sort_subs_of(a);
        }
        s
    }

    // ---- agents --------------------------------------------------------

    fn agent(&self, id: UserId) -> Result<u32, RouteError> {
        self.agent_ix
            .get(&id)
            .copied()
            .ok_or(RouteError::UnknownAgent)
    }

    /// Log in, go on a break, come back, log out. Logging out hands back
    /// pending offers and work held for the agent; work in hand stays.
    /// Choosing "available" during wrap-up ends it.
    pub fn set_presence(&mut self, id: UserId, p: Presence, now: i64) -> Result<(), RouteError> {
        let a = self.agent(id)?;
        let ag = &mut self.agents[a as usize];
        ag.presence = p;
        if p == Presence::Available {
            ag.missed = 0;
            if ag.wrap_until.take().is_some() {
                ag.wrap_gen += 1;
            }
        }
        if p == Presence::Offline {
            let offered: Vec<u32> = self.agents[a as usize]
                .work
                .iter()
                .copied()
                .filter(|s| self.item(*s).place == Place::Offered(a))
                .collect();
            for s in offered {
                self.lapse(s, a, Lapse::Withdrawn, now);
            }
            let held: Vec<Key> = std::mem::take(&mut self.agents[a as usize].held)
                .into_iter()
                .collect();
            for k in held {
                self.release(k.3, now);
            }
        }
        self.refresh(a, now);
        self.dispatch(now);
        Ok(())
    }

    /// The agents on calls the PBX put through to them directly (and the
    /// router did not give): while a call lasts the agent is busy and
    /// nothing is offered to them. Everyone else is off such calls.
    pub fn set_on_calls(&mut self, on: &BTreeSet<UserId>, now: i64) {
        for a in 0..self.agents.len() as u32 {
            let want = on.contains(&self.agents[a as usize].spec.id);
            if self.agents[a as usize].on_call != want {
                self.agents[a as usize].on_call = want;
                self.refresh(a, now);
            }
        }
        self.dispatch(now);
    }

    fn refresh(&mut self, a: u32, now: i64) {
        let ag = &self.agents[a as usize];
        let wrapping = ag.wrap_until.is_some_and(|t| t > now);
        let state = match ag.presence {
            Presence::Offline => AgentState {
                status: AgentStatus::Offline,
                reason: None,
            },
            Presence::Break(r) => AgentState {
                status: AgentStatus::Break,
                reason: Some(r),
            },
            Presence::Available if wrapping => AgentState {
                status: AgentStatus::WrapUp,
                reason: None,
            },
            Presence::Available
                if ag.on_call
                    || ag
                        .work
                        .iter()
                        .any(|s| matches!(self.item(*s).place, Place::Active(_))) =>
            {
                AgentState {
                    status: AgentStatus::Busy,
                    reason: None,
                }
            }
            Presence::Available => AgentState {
                status: AgentStatus::Available,
                reason: None,
            },
        };
        let ready = ag.presence == Presence::Available && !wrapping && ag.live == 0 && !ag.on_call;
        let hot = &mut self.hot[a as usize];
        let was_ready = hot.ready;
        hot.ready = ready;
        if ready && !was_ready {
            self.dirty_agents.push(a);
        }
        if state != ag.shown {
            let id = ag.spec.id;
            let ag = &mut self.agents[a as usize];
            ag.shown = state;
            ag.since = now;
            self.events.push(Event::State {
                agent: id,
                state,
                at: now,
            });
        }
    }

    // ---- work ----------------------------------------------------------

    fn item(&self, s: u32) -> &Item {
        self.items[s as usize]
            .as_ref()
            .expect("slot of a routed item")
    }

    fn item_mut(&mut self, s: u32) -> &mut Item {
        self.items[s as usize]
            .as_mut()
            .expect("slot of a routed item")
    }

    fn slot(&self, id: WorkId) -> Result<u32, RouteError> {
        self.item_ix
            .get(&id)
            .copied()
            .ok_or(RouteError::UnknownWork)
    }

    fn new_item(&mut self, work: &Work) -> Result<u32, RouteError> {
        if self.item_ix.contains_key(&work.id) {
            return Err(RouteError::Duplicate);
        }
        let q = *self
            .queue_ix
            .get(&work.queue)
            .ok_or(RouteError::UnknownQueue)?;
        if !self.queues[q as usize].spec.kinds.contains(&work.kind) {
            return Err(RouteError::WrongKind);
        }
        let lang = match &work.language {
            Some(l) => self.lang(&language(l)?)?,
            None => NO_LANG,
        };
        let item = Item {
            id: work.id,
            kind: work.kind,
            queue: q,
            stage: 0,
            step: 0,
            lang,
            prio: prio(work.priority),
            due: work.sla_due.unwrap_or(i64::MAX),
            arrived: work.arrived,
            entered: work.arrived,
            prefer: work.prefer,
            place: Place::Held,
            qgen: self.epoch(),
            ogen: 0,
            moves: 0,
            passed_over: Vec::new(),
        };
        let s = match self.free.pop() {
            Some(s) => {
                self.items[s as usize] = Some(item);
                s
            }
            None => {
                self.items.push(Some(item));
                (self.items.len() - 1) as u32
            }
        };
        self.item_ix.insert(work.id, s);
        Ok(s)
    }

    /// New work (or, after a restart, work that was waiting: its arrival
    /// in the past keeps its place and its overflow steps).
    pub fn arrive(&mut self, work: &Work, now: i64) -> Result<(), RouteError> {
        let s = self.new_item(work)?;
        let q = self.item(s).queue as usize;
        if !self.queues[q].open && self.queues[q].spec.when_closed != WaitAction::Stay {
            let action = self.queues[q].spec.when_closed;
            self.drop_item(s);
            self.events.push(Event::Expired {
                work: work.id,
                queue: work.queue,
                action,
                closed: true,
            });
            return Ok(());
        }
        self.enter(s, now);
        self.dispatch(now);
        Ok(())
    }

    /// Takes up work already in an agent's hands before a restart, without
    /// an offer or an event.
    pub fn resume(&mut self, work: &Work, agent: UserId, now: i64) -> Result<(), RouteError> {
        let a = self.agent(agent)?;
        let s = self.new_item(work)?;
        self.take_on(s, a, true);
        self.refresh(a, now);
        Ok(())
    }

    /// Puts an item into its queue: applies overflow steps already due,
    /// arms the next ones, and holds it for its preferred agent or team.
    fn enter(&mut self, s: u32, now: i64) {
        while let Some((o, at)) = self.next_step(s) {
            if at > now || !self.overflow(s, &o, at) {
                break;
            }
        }
        let it = self.item(s);
        let q = &self.queues[it.queue as usize];
        if let Some(max) = q.spec.max_wait_secs
            && q.spec.on_max_wait != WaitAction::Stay
            && it.entered + max as i64 * 1000 <= now
        {
            self.expire(s);
            return;
        }
        self.arm(s);
        let it = self.item(s);
        let prefer_secs = self.queues[it.queue as usize].spec.prefer_secs;
        let prefer_until = it.arrived + prefer_secs as i64 * 1000;
        if prefer_secs > 0
            && now < prefer_until
            && (it.prefer.agent.is_some() || it.prefer.team.is_some())
            && self.hold(s, now)
        {
            let epoch = self.item(s).qgen;
            self.timer(prefer_until, Timer::Prefer(s, epoch));
            return;
        }
        self.wait(s);
    }

    /// The item's next overflow step in its queue and when it is due.
    fn next_step(&self, s: u32) -> Option<(Overflow, i64)> {
        let it = self.item(s);
        let o = self.queues[it.queue as usize]
            .spec
            .overflow
            .get(it.step as usize)?;
        Some((o.clone(), it.entered + o.after_secs as i64 * 1000))
    }

    /// Arms the timers of the item's queue: its maximum wait and next step.
    fn arm(&mut self, s: u32) {
        let it = self.item(s);
        let epoch = it.qgen;
        let q = &self.queues[it.queue as usize].spec;
        if let Some(max) = q.max_wait_secs
            && q.on_max_wait != WaitAction::Stay
        {
            let at = it.entered + max as i64 * 1000;
            self.timer(at, Timer::MaxWait(s, epoch));
        }
        if let Some((_, at)) = self.next_step(s) {
            self.timer(at, Timer::Stage(s, epoch));
        }
    }

    /// Applies one overflow step; false when a move is refused (unknown
    /// queue, wrong kind, too many moves), which ends the steps.
    fn overflow(&mut self, s: u32, o: &Overflow, at: i64) -> bool {
        let epoch = self.epoch();
        let it = self.item_mut(s);
        it.qgen = epoch;
        it.step += 1;
        if o.widen_to.is_some() {
            it.stage += 1;
            let (id, q, stage) = (it.id, it.queue, it.stage);
            self.events.push(Event::Overflowed {
                work: id,
                queue: self.queues[q as usize].spec.id,
                stage,
            });
            return true;
        }
        let Some(target) = o.move_to.and_then(|q| self.queue_ix.get(&q).copied()) else {
            return false;
        };
        let it = self.item(s);
        if it.moves >= MAX_MOVES || !self.queues[target as usize].spec.kinds.contains(&it.kind) {
            return false;
        }
        let it = self.item_mut(s);
        it.queue = target;
        it.stage = 0;
        it.step = 0;
        it.entered = at;
        it.moves += 1;
        let id = it.id;
        self.events.push(Event::Overflowed {
            work: id,
            queue: self.queues[target as usize].spec.id,
            stage: 0,
        });
        true
    }

    /// Holds the item for its preferred agent or team, offering it at once
    /// when one of them is free; false when none of them is logged in.
    fn hold(&mut self, s: u32, now: i64) -> bool {
        let it = self.item(s);
        let kind = it.kind;
        let key = it.key(s);
        let mut present = Vec::new();
        if let Some(a) = it.prefer.agent.and_then(|id| self.agent_ix.get(&id)) {
            present.push(*a);
        }
        if let Some(t) = it.prefer.team {
            for (a, ag) in self.agents.iter().enumerate() {
                if ag.spec.teams.contains(&t) {
                    present.push(a as u32);
                }
            }
        }
        present.retain(|a| self.agents[*a as usize].presence != Presence::Offline);
        if present.is_empty() {
            return false;
        }
        let free = present
            .iter()
            .copied()
            .filter(|a| self.hot[*a as usize].can_take(kind))
            .min_by_key(|a| (self.hot[*a as usize].idle(), *a));
        if let Some(a) = free {
            self.offer(s, a, now);
            return true;
        }
        let it = self.item(s);
        let own = it
            .prefer
            .agent
            .and_then(|id| self.agent_ix.get(&id).copied())
            .filter(|a| present.contains(a));
        match (own, it.prefer.team) {
            (Some(a), _) => {
                self.agents[a as usize].held.insert(key);
            }
            (None, Some(t)) => {
                self.team_held.entry(t).or_default().insert(key);
            }
            (None, None) => return false,
        }
        self.item_mut(s).place = Place::Held;
        true
    }

    fn unhold(&mut self, s: u32) {
        let it = self.item(s);
        let (key, prefer) = (it.key(s), it.prefer);
        if let Some(a) = prefer.agent.and_then(|id| self.agent_ix.get(&id).copied())
            && self.agents[a as usize].held.remove(&key)
        {
            return;
        }
        if let Some(t) = prefer.team
            && let Some(set) = self.team_held.get_mut(&t)
        {
            set.remove(&key);
        }
    }

    /// Stops holding an item for someone: anyone may take it now.
    fn release(&mut self, s: u32, _now: i64) {
        if self.items[s as usize].as_ref().map(|i| i.place) != Some(Place::Held) {
            return;
        }
        self.unhold(s);
        self.wait(s);
    }

    fn wait(&mut self, s: u32) {
        let it = self.item(s);
        let (q, stage, lang, kind) = (it.queue, it.stage, it.lang, it.kind);
        let key = it.key(s);
        let sub = self.sub(q, stage, lang, kind);
        self.subs[sub as usize].items.insert(key);
        self.item_mut(s).place = Place::Waiting(sub);
        self.dirty_items.push(s);
    }

    /// Takes the item out of wherever it waits (not out of an agent's hands).
    fn unwait(&mut self, s: u32) {
        let it = self.item(s);
        match it.place {
            Place::Waiting(sub) => {
                let key = it.key(s);
                self.subs[sub as usize].items.remove(&key);
            }
            Place::Held => self.unhold(s),
            Place::Offered(_) | Place::Active(_) => {}
        }
    }

    fn drop_item(&mut self, s: u32) {
        if let Some(it) = self.items[s as usize].take() {
            self.item_ix.remove(&it.id);
            self.free.push(s);
        }
    }

    fn expire(&mut self, s: u32) {
        let it = self.item(s);
        let q = &self.queues[it.queue as usize];
        let (work, queue, action) = (it.id, q.spec.id, q.spec.on_max_wait);
        self.unwait(s);
        self.drop_item(s);
        self.events.push(Event::Expired {
            work,
            queue,
            action,
            closed: false,
        });
    }

    fn offer(&mut self, s: u32, a: u32, now: i64) {
        let epoch = self.epoch();
        let it = self.item_mut(s);
        it.place = Place::Offered(a);
        it.ogen = epoch;
        let (id, epoch, q) = (it.id, it.ogen, it.queue);
        let until = self.queues[q as usize]
            .spec
            .offer_timeout_secs
            .map(|t| now + t as i64 * 1000);
        self.take_on(s, a, false);
        if let Some(at) = until {
            self.timer(at, Timer::Offer(s, epoch));
        }
        self.events.push(Event::Offered {
            work: id,
            agent: self.agents[a as usize].spec.id,
            until,
        });
        self.refresh(a, now);
    }

    fn take_on(&mut self, s: u32, a: u32, active: bool) {
        let kind = self.item(s).kind;
        self.item_mut(s).place = if active {
            Place::Active(a)
        } else {
            Place::Offered(a)
        };
        let hot = &mut self.hot[a as usize];
        hot.load[kind.ix()] = hot.load[kind.ix()].saturating_add(1);
        hot.holding = hot.holding.saturating_add(1);
        let ag = &mut self.agents[a as usize];
        ag.work.push(s);
        if kind.live() {
            ag.live += 1;
            hot.ready = false;
        }
    }

    /// Lets go of an item the agent was offered or working.
    fn let_go(&mut self, s: u32, a: u32) {
        let kind = self.item(s).kind;
        let hot = &mut self.hot[a as usize];
        hot.load[kind.ix()] = hot.load[kind.ix()].saturating_sub(1);
        hot.holding = hot.holding.saturating_sub(1);
        let ag = &mut self.agents[a as usize];
        ag.work.retain(|x| *x != s);
        if kind.live() {
            ag.live = ag.live.saturating_sub(1);
        }
        self.dirty_agents.push(a);
    }

    fn lapse(&mut self, s: u32, a: u32, lapse: Lapse, now: i64) {
        self.let_go(s, a);
        let it = self.item_mut(s);
        it.passed_over.retain(|(_, until)| *until > now);
        it.passed_over.push((a, now + REOFFER_AFTER_MS));
        let id = it.id;
        self.events.push(Event::Lapsed {
            work: id,
            agent: self.agents[a as usize].spec.id,
            lapse,
        });
        self.timer(now + REOFFER_AFTER_MS, Timer::PassedOver(s));
        self.wait(s);
        self.refresh(a, now);
    }

    /// The agent's and the item's slots, if the item is offered to the agent.
    fn offered_to(&self, agent: UserId, work: WorkId) -> Result<(u32, u32), RouteError> {
        let a = self.agent(agent)?;
        let s = self.slot(work)?;
        if self.item(s).place != Place::Offered(a) {
            return Err(RouteError::NotOffered);
        }
        Ok((a, s))
    }

    pub fn accept(&mut self, agent: UserId, work: WorkId, now: i64) -> Result<(), RouteError> {
        let (a, s) = self.offered_to(agent, work)?;
        self.item_mut(s).place = Place::Active(a);
        self.agents[a as usize].missed = 0;
        self.events.push(Event::Assigned {
            work,
            agent,
            manual: false,
        });
        self.refresh(a, now);
        self.dispatch(now);
        Ok(())
    }

    /// Takes back an offer (the work went elsewhere or away).
    fn withdraw_offer(&mut self, s: u32, a: u32, now: i64) {
        self.let_go(s, a);
        self.events.push(Event::Lapsed {
            work: self.item(s).id,
            agent: self.agents[a as usize].spec.id,
            lapse: Lapse::Withdrawn,
        });
        self.refresh(a, now);
    }

    /// The agent turns the offer down; it goes to someone else.
    pub fn reject(&mut self, agent: UserId, work: WorkId, now: i64) -> Result<(), RouteError> {
        let (a, s) = self.offered_to(agent, work)?;
        self.lapse(s, a, Lapse::Rejected, now);
        self.dispatch(now);
        Ok(())
    }

    /// The work is done (the call hung up, the reply sent): the agent
    /// wraps up if the queue asks for it, then is free again.
    pub fn finish(&mut self, work: WorkId, now: i64) -> Result<(), RouteError> {
        let s = self.slot(work)?;
        let Place::Active(a) = self.item(s).place else {
            return Err(RouteError::NotActive);
        };
        let q = self.item(s).queue;
        self.let_go(s, a);
        self.drop_item(s);
        let wrap = self.queues[q as usize].spec.wrap_up_secs;
        let ag = &mut self.agents[a as usize];
        if wrap > 0 && ag.presence == Presence::Available {
            let until = now + wrap as i64 * 1000;
            ag.wrap_until = Some(ag.wrap_until.map_or(until, |u| u.max(until)));
            ag.wrap_gen += 1;
            let epoch = ag.wrap_gen;
            self.timer(until, Timer::Wrap(a, epoch));
        }
        if self.agents[a as usize].work.is_empty() {
            self.hot[a as usize].idle_since = now + wrap as i64 * 1000;
        }
        self.refresh(a, now);
        self.dispatch(now);
        Ok(())
    }

    /// The work went away before it was taken (the caller hung up, the
    /// case was closed elsewhere). Work in hand ends as [`Router::finish`].
    pub fn withdraw(&mut self, work: WorkId, now: i64) -> Result<(), RouteError> {
        let s = self.slot(work)?;
        match self.item(s).place {
            Place::Active(_) => return self.finish(work, now),
            Place::Offered(a) => self.withdraw_offer(s, a, now),
            Place::Waiting(_) | Place::Held => self.unwait(s),
        }
        self.drop_item(s);
        self.dispatch(now);
        Ok(())
    }

    /// A supervisor gives the work to an agent, past the queue and past the
    /// agent's capacity; work in another agent's hands is handed over (they
    /// went home ill, or the customer asked for someone else).
    pub fn assign(&mut self, work: WorkId, agent: UserId, now: i64) -> Result<(), RouteError> {
        let a = self.agent(agent)?;
        let s = self.slot(work)?;
        match self.item(s).place {
            Place::Active(b) if b == a => return Ok(()),
            Place::Active(b) => {
                self.let_go(s, b);
                self.refresh(b, now);
            }
            Place::Offered(b) => self.withdraw_offer(s, b, now),
            Place::Waiting(_) | Place::Held => self.unwait(s),
        }
        self.take_on(s, a, true);
        self.events.push(Event::Assigned {
            work,
            agent,
            manual: true,
        });
        self.refresh(a, now);
        self.dispatch(now);
        Ok(())
    }

    /// A supervisor moves waiting work to another queue; it keeps its
    /// place by arrival.
    pub fn transfer(&mut self, work: WorkId, queue: QueueId, now: i64) -> Result<(), RouteError> {
        let s = self.slot(work)?;
        let q = *self.queue_ix.get(&queue).ok_or(RouteError::UnknownQueue)?;
        if !self.queues[q as usize]
            .spec
            .kinds
            .contains(&self.item(s).kind)
        {
            return Err(RouteError::WrongKind);
        }
        match self.item(s).place {
            Place::Active(_) => return Err(RouteError::Active),
            Place::Offered(a) => self.withdraw_offer(s, a, now),
            Place::Waiting(_) | Place::Held => self.unwait(s),
        }
        let epoch = self.epoch();
        let it = self.item_mut(s);
        it.queue = q;
        it.stage = 0;
        it.step = 0;
        it.entered = now;
        it.qgen = epoch;
        self.enter(s, now);
        self.dispatch(now);
        Ok(())
    }

    /// New priority or SLA due for waiting work (the case changed).
    pub fn reprioritize(
        &mut self,
        work: WorkId,
        priority: Priority,
        sla_due: Option<i64>,
        now: i64,
    ) -> Result<(), RouteError> {
        let s = self.slot(work)?;
        let place = self.item(s).place;
        let waiting = matches!(place, Place::Waiting(_) | Place::Held);
        if waiting {
            self.unwait(s);
        }
        let it = self.item_mut(s);
        it.prio = prio(priority);
        it.due = sla_due.unwrap_or(i64::MAX);
        if waiting {
            match place {
                Place::Held => {
                    if !self.hold(s, now) {
                        self.wait(s);
                    }
                }
                _ => self.wait(s),
            }
            self.dispatch(now);
        }
        Ok(())
    }

    /// Fires what is due at `now`: offers that rang out, wrap-ups ending,
    /// overflow steps, maximum waits, preference windows.
    pub fn advance(&mut self, now: i64) {
        while let Some(Reverse((at, _, t))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            self.fire(t, at);
        }
        self.dispatch(now);
    }

    fn live_item(&self, s: u32) -> Option<&Item> {
        self.items.get(s as usize).and_then(|i| i.as_ref())
    }

    fn fire(&mut self, t: Timer, at: i64) {
        match t {
            Timer::Offer(s, epoch) => {
                let Some(it) = self.live_item(s) else { return };
                let Place::Offered(a) = it.place else { return };
                if it.ogen != epoch {
                    return;
                }
                self.lapse(s, a, Lapse::NoAnswer, at);
                let ag = &mut self.agents[a as usize];
                ag.missed += 1;
                if ag.missed >= MAX_MISSED && ag.presence == Presence::Available {
                    ag.presence = Presence::Break(BreakReason::MissedOffers);
                    ag.missed = 0;
                    self.refresh(a, at);
                }
            }
            Timer::Wrap(a, epoch) => {
                let ag = &mut self.agents[a as usize];
                if ag.wrap_gen == epoch {
                    ag.wrap_until = None;
                    self.refresh(a, at);
                }
            }
            Timer::Stage(s, epoch) => {
                let Some(it) = self.live_item(s) else { return };
                if it.qgen != epoch || matches!(it.place, Place::Active(_)) {
                    return;
                }
                let Some((o, _)) = self.next_step(s) else {
                    return;
                };
                let waiting = matches!(it.place, Place::Waiting(_) | Place::Held);
                if waiting {
                    self.unwait(s);
                }
                let moved = self.overflow(s, &o, at);
                match (waiting, moved) {
                    (true, true) => self.enter(s, at),
                    (true, false) => self.wait(s),
                    // Offered: the new stage applies if the offer lapses.
                    (false, true) => self.arm(s),
                    (false, false) => {}
                }
            }
            Timer::MaxWait(s, epoch) => {
                let Some(it) = self.live_item(s) else { return };
                if it.qgen != epoch {
                    return;
                }
                match it.place {
                    Place::Active(_) => {}
                    Place::Offered(a) => {
                        self.withdraw_offer(s, a, at);
                        self.expire(s);
                    }
                    Place::Waiting(_) | Place::Held => self.expire(s),
                }
            }
            Timer::Prefer(s, epoch) => {
                if self.live_item(s).is_some_and(|i| i.qgen == epoch) {
                    self.release(s, at);
                }
            }
            Timer::PassedOver(s) => {
                if let Some(it) = self.live_item(s)
                    && matches!(it.place, Place::Waiting(_))
                {
                    self.dirty_items.push(s);
                }
            }
        }
    }

    // ---- decisions -----------------------------------------------------

    fn dispatch(&mut self, now: i64) {
        loop {
            if let Some(s) = self.dirty_items.pop() {
                self.route_item(s, now);
            } else if let Some(a) = self.dirty_agents.pop() {
                while self.feed_agent(a, now) {}
            } else {
                break;
            }
        }
    }

    fn passed_over(it: &Item, a: u32, now: i64) -> bool {
        !it.passed_over.is_empty() && it.passed_over.iter().any(|(x, u)| *x == a && *u > now)
    }

    /// Finds a free agent for a waiting item by its queue's strategy.
    fn route_item(&mut self, s: u32, now: i64) {
        let Some(it) = self.live_item(s) else { return };
        let Place::Waiting(sub) = it.place else {
            return;
        };
        let kind = it.kind;
        let q = &self.queues[it.queue as usize];
        let strategy = q.spec.strategy;
        let agents = &self.subs[sub as usize].agents;
        let hot = &self.hot;
        let ok = |a: u32| hot[a as usize].can_take(kind) && !Self::passed_over(it, a, now);
        let chosen = match strategy {
            Strategy::LongestIdle => agents
                .iter()
                .copied()
                .filter(|a| ok(*a))
                .min_by_key(|a| (hot[*a as usize].idle(), *a)),
            Strategy::LeastOccupied => agents
                .iter()
                .copied()
                .filter(|a| ok(*a))
                .min_by_key(|a| (hot[*a as usize].occupancy(), hot[*a as usize].idle(), *a)),
            Strategy::BestSkill => {
                let reqs = &q.stages[0];
                let score = |a: u32| -> u32 {
                    let lv = &self.agents[a as usize].levels;
                    reqs.iter()
                        .map(|(sk, _)| lv.get(*sk as usize).copied().unwrap_or(0) as u32)
                        .sum()
                };
                agents
                    .iter()
                    .copied()
                    .filter(|a| ok(*a))
                    .min_by_key(|a| (Reverse(score(*a)), hot[*a as usize].idle(), *a))
            }
            Strategy::RoundRobin => {
                let last = q.round_robin;
                let after = agents.partition_point(|a| *a <= last);
                agents[after..]
                    .iter()
                    .chain(&agents[..after])
                    .copied()
                    .find(|a| ok(*a))
            }
        };
        if let Some(a) = chosen {
            let key = it.key(s);
            let qi = it.queue;
            self.subs[sub as usize].items.remove(&key);
            if strategy == Strategy::RoundRobin {
                self.queues[qi as usize].round_robin = a;
            }
            self.offer(s, a, now);
        }
    }

    /// Offers a free agent the best work it may take; false when there is
    /// none (or the agent is full).
    fn feed_agent(&mut self, a: u32, now: i64) -> bool {
        let hot = self.hot[a as usize];
        if !hot.ready {
            return false;
        }
        // Work held for this agent, then for the agent's teams, comes first.
        let ag = &self.agents[a as usize];
        let held = ag
            .held
            .iter()
            .find(|k| hot.can_take(self.item(k.3).kind))
            .copied();
        let held = held.or_else(|| {
            ag.spec
                .teams
                .iter()
                .filter_map(|t| self.team_held.get(t))
                .filter_map(|set| {
                    set.iter()
                        .find(|k| hot.can_take(self.item(k.3).kind))
                        .copied()
                })
                .min()
        });
        if let Some(k) = held {
            self.unhold(k.3);
            self.offer(k.3, a, now);
            return true;
        }
        let mut best: Option<(i32, Key, u32)> = None;
        for &sub in &ag.subs {
            let sb = &self.subs[sub as usize];
            if sb.items.is_empty() || !hot.can_take(sb.kind) {
                continue;
            }
            let qprio = self.queues[sb.queue as usize].spec.priority;
            if let Some((bp, _, _)) = best
                && qprio < bp
            {
                break;
            }
            let first = sb
                .items
                .iter()
                .find(|k| !Self::passed_over(self.item(k.3), a, now));
            if let Some(k) = first
                && best.is_none_or(|(bp, bk, _)| qprio > bp || *k < bk)
            {
                best = Some((qprio, *k, sub));
            }
        }
        let Some((_, key, sub)) = best else {
            return false;
        };
        self.subs[sub as usize].items.remove(&key);
        self.offer(key.3, a, now);
        true
    }

    // ---- views ---------------------------------------------------------

    pub fn queue_status(&self, id: QueueId, now: i64) -> Result<QueueStatus, RouteError> {
        let q = *self.queue_ix.get(&id).ok_or(RouteError::UnknownQueue)?;
        let mut st = QueueStatus {
            queue: id,
            open: self.queues[q as usize].open,
            waiting: 0,
            offered: 0,
            longest_wait_ms: 0,
            agents: Vec::new(),
        };
        for it in self.items.iter().flatten().filter(|i| i.queue == q) {
            match it.place {
                Place::Waiting(_) | Place::Held => {
                    st.waiting += 1;
                    st.longest_wait_ms = st.longest_wait_ms.max(now - it.arrived);
                }
                Place::Offered(_) => st.offered += 1,
                Place::Active(_) => {}
            }
        }
        let mut seen = vec![false; self.agents.len()];
        let mut counts = [0u32; 5];
        for s in &self.queues[q as usize].subs {
            for a in &self.subs[*s as usize].agents {
                if !std::mem::replace(&mut seen[*a as usize], true) {
                    counts[self.agents[*a as usize].shown.status as usize] += 1;
                }
            }
        }
        st.agents = AgentStatus::ALL
            .iter()
            .map(|s| (*s, counts[*s as usize]))
            .collect();
        Ok(st)
    }

    /// Waiting work of a queue in the order it will be served.
    pub fn waiting(&self, id: QueueId) -> Result<Vec<WorkId>, RouteError> {
        let q = *self.queue_ix.get(&id).ok_or(RouteError::UnknownQueue)?;
        let mut keys: Vec<Key> = self.queues[q as usize]
            .subs
            .iter()
            .flat_map(|s| self.subs[*s as usize].items.iter().copied())
            .collect();
        keys.sort();
        Ok(keys.into_iter().map(|k| self.item(k.3).id).collect())
    }

    pub fn agent_view(&self, id: UserId) -> Result<AgentView, RouteError> {
        let a = self.agent(id)?;
        let ag = &self.agents[a as usize];
        let (mut offered, mut active) = (Vec::new(), Vec::new());
        for s in &ag.work {
            let it = self.item(*s);
            match it.place {
                Place::Offered(_) => offered.push(it.id),
                _ => active.push(it.id),
            }
        }
        Ok(AgentView {
            agent: id,
            state: ag.shown,
            since: ag.since,
            presence: ag.presence,
            offered,
            active,
            missed: ag.missed,
        })
    }

    pub fn work_view(&self, id: WorkId) -> Result<WorkView, RouteError> {
        let it = self.item(self.slot(id)?);
        let name = |a: u32| self.agents[a as usize].spec.id;
        Ok(match it.place {
            Place::Waiting(_) => WorkView::Waiting,
            Place::Held => WorkView::Held,
            Place::Offered(a) => WorkView::Offered(name(a)),
            Place::Active(a) => WorkView::Active(name(a)),
        })
    }

    pub fn work_queue(&self, id: WorkId) -> Result<QueueId, RouteError> {
        let it = self.item(self.slot(id)?);
        Ok(self.queues[it.queue as usize].spec.id)
    }
}
