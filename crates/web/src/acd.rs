//! The routing driver: one [`Router`] per tenant, kept in memory and in the
//! store. Commands (an agent's state, accept, reject, a supervisor's
//! assign) and the clock (offer time-outs, overflow, wrap-up, opening
//! hours) go through one lock, so decisions are made and written in order;
//! each batch of decisions is written before it is announced. Work reaches
//! the router through the store (`pending` rows, written with the case),
//! so a crash between the two loses nothing. When a write fails the
//! tenant's router is dropped and rebuilt from the store at its next use.

use domain::calendar::Calendar;
use domain::ids::{QueueId, TenantId, UserId, WorkId};
use domain::routing::{
    AgentSpec, AgentStatus, BreakReason, Event, Presence, QueueSpec, QueueStatus, RouteError,
    Router, WorkView,
};
use jiff::Timestamp;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreError};
use tokio::sync::{Mutex, Notify, broadcast};

/// How often the store is read for new work when nothing woke the driver:
/// work written by another process, or a wake-up that came before its commit.
const POLL: Duration = Duration::from_millis(250);
/// Opening hours are looked at this often.
const CALENDAR_EVERY_MS: i64 = 15_000;

#[derive(Debug, thiserror::Error)]
pub enum AcdError {
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Something changed for these agents (and the tenant's queues); the live
/// streams tell the browsers, which fetch what they show.
#[derive(Debug, Clone)]
pub struct Changed {
    pub tenant: TenantId,
    pub agents: Vec<UserId>,
}

struct Desk {
    router: Router,
    calendars: HashMap<QueueId, Calendar>,
    calendars_read: i64,
}

pub struct Acd {
    store: Store,
    desks: Mutex<HashMap<TenantId, Desk>>,
    wake: Notify,
    changed: broadcast::Sender<Changed>,
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// The presence an agent chose, from the last state recorded.
fn presence_of(state: &str) -> Presence {
    match state.split_once(':') {
        Some(("break", r)) => Presence::Break(BreakReason::parse(r).unwrap_or(BreakReason::Other)),
        _ => match AgentStatus::parse(state) {
            Ok(AgentStatus::Offline) | Err(_) => Presence::Offline,
            Ok(_) => Presence::Available,
        },
    }
}

impl Acd {
    pub fn new(store: Store) -> Arc<Acd> {
        Arc::new(Acd {
            store,
            desks: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            changed: broadcast::channel(1024).0,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.changed.subscribe()
    }

    /// Builds a tenant's router from the store: queues, agents in the state
    /// they were last in, work in hand resumed, and waiting work (offers
    /// that were ringing too) arriving again with its first arrival time,
    /// so it keeps its place and the overflow steps already due.
    async fn load(&self, tenant: TenantId, now: i64) -> Result<Desk, AcdError> {
        let mut router = Router::new();
        let mut calendars = HashMap::new();
        for q in self.store.queues(tenant).await? {
            if let Some(c) = q.calendar_id {
                let stored = self.store.calendar(tenant, c).await?;
                if let Ok(cal) = Calendar::parse(&stored.spec) {
                    calendars.insert(q.id, cal);
                }
            }
            router.set_queue(q)?;
        }
        let agents = self.store.routing_agents(tenant).await?;
        for a in &agents {
            router.set_agent(a.spec(), now)?;
            if let Some(s) = &a.state {
                router.set_presence(a.user_id, presence_of(s), now)?;
            }
        }
        let mut recovered = Vec::new();
        for w in self.store.open_work(tenant).await? {
            match (w.state.as_str(), w.agent) {
                ("active", Some(agent)) => router.resume(&w.work, agent, now)?,
                _ => recovered.push(w.work),
            }
        }
        router.set_on_calls(&self.on_calls(tenant).await?, now);
        // Restoring is not news: the states were recorded when they happened.
        router.take_events();
        let mut desk = Desk {
            router,
            calendars,
            calendars_read: 0,
        };
        open_by_calendar(&mut desk, now);
        for w in recovered {
            match desk.router.arrive(&w, now) {
                Ok(()) | Err(RouteError::Duplicate) => {}
                Err(e) => tracing::warn!(work = w.id.0, error = %e, "recovered work not routed"),
            }
        }
        Ok(desk)
    }

    /// Agents talking on calls the PBX put through to them.
    async fn on_calls(&self, tenant: TenantId) -> Result<BTreeSet<UserId>, AcdError> {
        Ok(self
            .store
            .calls_in_progress(tenant, Timestamp::now())
            .await?
            .into_iter()
            .filter(|c| c.state == domain::call::CallState::Answered)
            .filter_map(|c| c.agent_id)
            .collect())
    }

    /// A PBX call was answered, moved or hung up: whoever talks on one is
    /// busy for the router, and nothing is offered to them.
    pub async fn calls_changed(&self, tenant: TenantId) -> Result<(), AcdError> {
        let on = self.on_calls(tenant).await?;
        for a in &on {
            // Someone who takes no routed work is none of the router's business.
            match self.meet(tenant, *a).await {
                Ok(()) | Err(AcdError::Store(StoreError::NotFound | StoreError::Invalid(_))) => {}
                Err(e) => return Err(e),
            }
        }
        self.with(tenant, None, |r, now, _| {
            r.set_on_calls(&on, now);
            Ok(())
        })
        .await
    }

    /// Runs `f` on the tenant's router and writes and announces what it decided.
    async fn with<T>(
        &self,
        tenant: TenantId,
        reason: Option<&str>,
        f: impl FnOnce(&mut Router, i64, &mut Vec<Event>) -> Result<T, RouteError>,
    ) -> Result<T, AcdError> {
        let mut desks = self.desks.lock().await;
        let now = now_ms();
        let desk = match desks.entry(tenant) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(self.load(tenant, now).await?),
        };
        let mut extra = Vec::new();
        // A broken invariant in the engine panics; this tenant's router is
        // then rebuilt from the store and the caller gets a 500.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            f(&mut desk.router, now, &mut extra)
        }));
        let Ok(out) = ran else {
            desks.remove(&tenant);
            return Err(AcdError::Store(StoreError::Internal(
                "the routing engine failed; its state is rebuilt from the store".into(),
            )));
        };
        let mut events = desk.router.take_events();
        events.extend(extra);
        let written = self.record(tenant, &events, reason, now).await;
        if let Err(e) = written {
            desks.remove(&tenant);
            return Err(e);
        }
        Ok(out?)
    }

    async fn record(
        &self,
        tenant: TenantId,
        events: &[Event],
        reason: Option<&str>,
        now: i64,
    ) -> Result<(), AcdError> {
        if events.is_empty() {
            return Ok(());
        }
        let at = Timestamp::from_millisecond(now).unwrap_or(Timestamp::UNIX_EPOCH);
        self.store
            .record_routing(tenant, events, reason, at)
            .await?;
        let agents: BTreeSet<UserId> = events
            .iter()
            .filter_map(|e| match e {
                Event::Offered { agent, .. }
                | Event::Lapsed { agent, .. }
                | Event::Assigned { agent, .. }
                | Event::State { agent, .. } => Some(*agent),
                _ => None,
            })
            .collect();
        // No one listening is not an error.
        let _ = self.changed.send(Changed {
            tenant,
            agents: agents.into_iter().collect(),
        });
        Ok(())
    }

    /// Adds a user the router has not met (created since it was loaded)
    /// from their stored profile; NotFound when they take no routed work.
    async fn meet(&self, tenant: TenantId, agent: UserId) -> Result<(), AcdError> {
        let known = self
            .with(tenant, None, |r, _, _| Ok(r.agent_view(agent).is_ok()))
            .await?;
        if !known {
            let spec = self.store.routing_agent(tenant, agent).await?.spec();
            self.with(tenant, None, |r, now, _| r.set_agent(spec, now))
                .await?;
        }
        Ok(())
    }

    pub async fn set_presence(
        &self,
        tenant: TenantId,
        agent: UserId,
        p: Presence,
    ) -> Result<(), AcdError> {
        self.meet(tenant, agent).await?;
        self.with(tenant, None, |r, now, _| r.set_presence(agent, p, now))
            .await
    }

    pub async fn accept(
        &self,
        tenant: TenantId,
        agent: UserId,
        work: WorkId,
    ) -> Result<(), AcdError> {
        self.with(tenant, None, |r, now, _| r.accept(agent, work, now))
            .await
    }

    pub async fn reject(
        &self,
        tenant: TenantId,
        agent: UserId,
        work: WorkId,
        reason: &str,
    ) -> Result<(), AcdError> {
        self.with(tenant, Some(reason), |r, now, _| r.reject(agent, work, now))
            .await
    }

    /// The agent is done with work in hand (wrap-up may follow).
    pub async fn finish(
        &self,
        tenant: TenantId,
        agent: UserId,
        work: WorkId,
    ) -> Result<(), AcdError> {
        self.with(tenant, None, |r, now, _| match r.work_view(work)? {
            WorkView::Active(a) if a == agent => r.finish(work, now),
            _ => Err(RouteError::NotActive),
        })
        .await?;
        self.store
            .work_ended(tenant, work, "finished", Timestamp::now())
            .await?;
        Ok(())
    }

    pub async fn assign(
        &self,
        tenant: TenantId,
        work: WorkId,
        agent: UserId,
    ) -> Result<(), AcdError> {
        self.meet(tenant, agent).await?;
        self.with(tenant, None, |r, now, _| r.assign(work, agent, now))
            .await
    }

    pub async fn transfer(
        &self,
        tenant: TenantId,
        work: WorkId,
        queue: QueueId,
    ) -> Result<(), AcdError> {
        self.with(tenant, None, |r, now, extra| {
            r.transfer(work, queue, now)?;
            // The engine moves it; the store hears it as an overflow to stage 0.
            extra.insert(
                0,
                Event::Overflowed {
                    work,
                    queue,
                    stage: 0,
                },
            );
            Ok(())
        })
        .await
    }

    /// A queue was created or changed.
    pub async fn queue_saved(&self, tenant: TenantId, spec: QueueSpec) -> Result<(), AcdError> {
        let cal = match spec.calendar_id {
            Some(c) => Calendar::parse(&self.store.calendar(tenant, c).await?.spec).ok(),
            None => None,
        };
        let id = spec.id;
        let mut desks = self.desks.lock().await;
        if let Some(desk) = desks.get_mut(&tenant) {
            match cal {
                Some(cal) => desk.calendars.insert(id, cal),
                None => desk.calendars.remove(&id),
            };
            let saved = desk
                .router
                .set_queue(spec)
                .and_then(|()| desk.router.set_open(id, true));
            desk.calendars_read = 0;
            if saved.is_err() {
                desks.remove(&tenant);
            }
        }
        drop(desks);
        self.wake.notify_one();
        Ok(())
    }

    /// An agent's skills, languages, capacity or team changed.
    pub async fn agent_saved(&self, tenant: TenantId, spec: AgentSpec) -> Result<(), AcdError> {
        self.with(tenant, None, |r, now, _| r.set_agent(spec, now))
            .await
    }

    pub async fn agent_view(
        &self,
        tenant: TenantId,
        agent: UserId,
    ) -> Result<domain::routing::AgentView, AcdError> {
        self.meet(tenant, agent).await?;
        self.with(tenant, None, |r, _, _| r.agent_view(agent)).await
    }

    pub async fn queue_status(
        &self,
        tenant: TenantId,
        queues: &[QueueId],
    ) -> Result<Vec<QueueStatus>, AcdError> {
        self.with(tenant, None, |r, now, _| {
            Ok(queues
                .iter()
                .filter_map(|q| r.queue_status(*q, now).ok())
                .collect())
        })
        .await
    }

    /// Runs the driver until the task is aborted. The engine checks its own
    /// invariants and panics when one is broken; the driver then drops every
    /// router and rebuilds them from the store rather than stop routing.
    pub async fn run(self: Arc<Self>) {
        /// Aborting the outer task must also stop the inner one.
        struct AbortOnDrop(tokio::task::AbortHandle);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        loop {
            let task = tokio::spawn(self.clone().drive());
            let _guard = AbortOnDrop(task.abort_handle());
            match task.await {
                Err(e) if e.is_panic() => {
                    tracing::error!(
                        "routing driver panicked; rebuilding the routers from the store"
                    );
                    self.desks.lock().await.clear();
                }
                _ => return,
            }
        }
    }

    /// Recovers every tenant's router, then takes in new work and keeps the clocks.
    async fn drive(self: Arc<Self>) {
        match self.store.routing_tenants().await {
            Ok(tenants) => {
                for t in tenants {
                    if let Err(e) = self.with(t, None, |_, _, _| Ok(())).await {
                        tracing::error!(tenant = t.0, error = %e, "routing recovery failed");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "routing recovery failed"),
        }
        loop {
            if let Err(e) = self.take_in().await {
                tracing::error!(error = %e, "routing: taking in new work failed");
            }
            let due = self.tick().await;
            let wait = due
                .map(|d| {
                    Duration::from_millis((d - now_ms()).clamp(1, POLL.as_millis() as i64) as u64)
                })
                .unwrap_or(POLL);
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// New work into the routers; ended work out of them.
    async fn take_in(&self) -> Result<(), AcdError> {
        loop {
            let batch = self.store.pending_work(200).await?;
            if batch.is_empty() {
                return Ok(());
            }
            for p in batch {
                let id = p.open.work.id;
                let ended = self
                    .with(p.tenant, None, |r, now, _| {
                        if p.request.is_none() {
                            return match r.arrive(&p.open.work, now) {
                                Ok(()) | Err(RouteError::Duplicate) => Ok(None),
                                Err(e) => Err(e),
                            };
                        }
                        Ok(match r.work_view(id) {
                            Ok(WorkView::Active(_)) => {
                                r.finish(id, now).map(|()| Some("finished"))?
                            }
                            Ok(_) => r.withdraw(id, now).map(|()| Some("withdrawn"))?,
                            Err(_) => Some("withdrawn"),
                        })
                    })
                    .await;
                let at = Timestamp::now();
                match ended {
                    Ok(Some(outcome)) => self.store.work_ended(p.tenant, id, outcome, at).await?,
                    Ok(None) => self.store.work_taken(p.tenant, id).await?,
                    Err(AcdError::Route(e)) => {
                        // Its queue is gone or no longer takes it: it stays for people to pick up.
                        tracing::warn!(work = id.0, error = %e, "work not routed");
                        self.store
                            .work_ended(p.tenant, id, "unroutable", at)
                            .await?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// Advances every router to now; returns the next instant one is due.
    async fn tick(&self) -> Option<i64> {
        let mut desks = self.desks.lock().await;
        let now = now_ms();
        let mut next: Option<i64> = None;
        let mut failed = Vec::new();
        for (tenant, desk) in desks.iter_mut() {
            open_by_calendar(desk, now);
            desk.router.advance(now);
            let events = desk.router.take_events();
            if let Err(e) = self.record(*tenant, &events, None, now).await {
                tracing::error!(tenant = tenant.0, error = %e, "routing: writing decisions failed");
                failed.push(*tenant);
            }
            if let Some(d) = desk.router.next_due() {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
        }
        for t in failed {
            desks.remove(&t);
        }
        next
    }
}

/// Opens and closes queues by their calendars.
fn open_by_calendar(desk: &mut Desk, now: i64) {
    if now - desk.calendars_read < CALENDAR_EVERY_MS {
        return;
    }
    desk.calendars_read = now;
    let t = Timestamp::from_millisecond(now).unwrap_or(Timestamp::UNIX_EPOCH);
    for (q, cal) in &desk.calendars {
        // A queue deleted from under the router is no longer there to open.
        let _ = desk.router.set_open(*q, cal.is_open(t));
    }
}
