use super::*;
use crate::case::Priority;

const S: i64 = 1000;

fn q(id: i64, kinds: &[WorkKind]) -> QueueSpec {
    QueueSpec::new(QueueId(id), &format!("q{id}"), kinds)
}

fn skill(id: i64, level: u8) -> SkillLevel {
    SkillLevel {
        skill: SkillId(id),
        level,
    }
}

fn agent(id: i64, skills: &[SkillLevel]) -> AgentSpec {
    AgentSpec {
        id: UserId(id),
        skills: skills.to_vec(),
        languages: vec!["zh".into()],
        teams: Vec::new(),
        capacity: Capacity::default(),
    }
}

fn work(id: i64, queue: i64, kind: WorkKind, at: i64) -> Work {
    Work {
        id: WorkId(id),
        kind,
        queue: QueueId(queue),
        priority: Priority::Normal,
        sla_due: None,
        arrived: at,
        language: None,
        prefer: Prefer::default(),
    }
}

/// A router with the given queues and agents, every agent logged in at 0
/// in the order given (so the first has been idle longest).
fn router(queues: Vec<QueueSpec>, agents: Vec<AgentSpec>) -> Router {
    let mut r = Router::new();
    for qs in queues {
        r.set_queue(qs).unwrap();
    }
    for (i, a) in agents.into_iter().enumerate() {
        let id = a.id;
        r.set_agent(a, 0).unwrap();
        r.set_presence(id, Presence::Available, i as i64).unwrap();
    }
    r.take_events();
    r
}

fn offers(r: &mut Router) -> Vec<(i64, i64)> {
    r.take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Offered { work, agent, .. } => Some((work.0, agent.0)),
            _ => None,
        })
        .collect()
}

fn states(r: &mut Router) -> Vec<(i64, String)> {
    r.take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::State { agent, state, .. } => Some((agent.0, state.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_call_goes_to_the_longest_idle_agent_and_the_agent_wraps_up_after() {
    let mut qs = q(1, &[WorkKind::Call]);
    qs.wrap_up_secs = 30;
    let mut r = router(vec![qs], vec![agent(10, &[]), agent(11, &[])]);
    r.arrive(&work(1, 1, WorkKind::Call, 5 * S), 5 * S).unwrap();
    assert_eq!(offers(&mut r), [(1, 10)]);
    r.accept(UserId(10), WorkId(1), 6 * S).unwrap();
    assert_eq!(states(&mut r), [(10, "busy".to_string())]);
    // A second call goes to the other agent: the first is on a call.
    r.arrive(&work(2, 1, WorkKind::Call, 7 * S), 7 * S).unwrap();
    assert_eq!(offers(&mut r), [(2, 11)]);
    r.accept(UserId(11), WorkId(2), 7 * S).unwrap();
    r.finish(WorkId(1), 100 * S).unwrap();
    assert_eq!(
        states(&mut r),
        [(11, "busy".into()), (10, "wrap_up".into())]
    );
    // During wrap-up nothing is offered; the next call waits for agent 11.
    r.arrive(&work(3, 1, WorkKind::Call, 110 * S), 110 * S)
        .unwrap();
    assert!(offers(&mut r).is_empty());
    assert_eq!(r.next_due(), Some(130 * S));
    r.advance(130 * S);
    assert_eq!(
        r.take_events(),
        [
            Event::State {
                agent: UserId(10),
                state: AgentState {
                    status: AgentStatus::Available,
                    reason: None
                },
                at: 130 * S
            },
            Event::Offered {
                work: WorkId(3),
                agent: UserId(10),
                until: None
            },
        ]
    );
    let v = r.agent_view(UserId(10)).unwrap();
    assert_eq!((v.offered, v.active), (vec![WorkId(3)], vec![]));
}

#[test]
fn work_is_served_by_priority_then_sla_urgency_then_arrival() {
    let mut r = router(vec![q(1, &[WorkKind::Email])], vec![]);
    let mut items = Vec::new();
    for (id, prio, due) in [
        (1, Priority::Normal, None),
        (2, Priority::Normal, Some(500 * S)),
        (3, Priority::High, None),
        (4, Priority::Normal, Some(400 * S)),
        (5, Priority::Low, Some(1)),
        (6, Priority::Normal, None),
    ] {
        let mut w = work(id, 1, WorkKind::Email, id * S);
        w.priority = prio;
        w.sla_due = due;
        r.arrive(&w, id * S).unwrap();
        items.push(w);
    }
    let order: Vec<i64> = r.waiting(QueueId(1)).unwrap().iter().map(|w| w.0).collect();
    assert_eq!(order, [3, 4, 2, 1, 6, 5]);
    // One agent taking one at a time is offered them in that order.
    let mut a = agent(10, &[]);
    a.capacity.email = 1;
    r.set_agent(a, 10 * S).unwrap();
    r.set_presence(UserId(10), Presence::Available, 10 * S)
        .unwrap();
    let mut served = Vec::new();
    for t in 11..17 {
        let (w, _) = offers(&mut r)[0];
        served.push(w);
        r.accept(UserId(10), WorkId(w), t * S).unwrap();
        r.finish(WorkId(w), t * S).unwrap();
    }
    assert_eq!(served, [3, 4, 2, 1, 6, 5]);
    // A case raised to urgent jumps the line.
    r.arrive(&work(7, 1, WorkKind::Email, 20 * S), 20 * S)
        .unwrap();
    let mut r2 = router(vec![q(1, &[WorkKind::Email])], vec![]);
    for w in &items {
        r2.arrive(w, 10 * S).unwrap();
    }
    r2.reprioritize(WorkId(6), Priority::Urgent, None, 11 * S)
        .unwrap();
    assert_eq!(r2.waiting(QueueId(1)).unwrap()[0], WorkId(6));
}

#[test]
fn a_higher_queue_is_served_first_and_a_call_blocks_other_work() {
    let mut calls = q(1, &[WorkKind::Call]);
    calls.priority = 10;
    let mails = q(2, &[WorkKind::Email]);
    let mut r = router(vec![calls, mails], vec![]);
    r.arrive(&work(1, 2, WorkKind::Email, 0), 0).unwrap();
    r.arrive(&work(2, 1, WorkKind::Call, S), S).unwrap();
    r.set_agent(agent(10, &[]), 2 * S).unwrap();
    r.set_presence(UserId(10), Presence::Available, 2 * S)
        .unwrap();
    // The call is offered first, and while it rings nothing else is.
    assert_eq!(offers(&mut r), [(2, 10)]);
    r.accept(UserId(10), WorkId(2), 3 * S).unwrap();
    assert!(offers(&mut r).is_empty());
    r.finish(WorkId(2), 60 * S).unwrap();
    assert_eq!(offers(&mut r), [(1, 10)]);
    // E-mails fill up to the capacity (4), and a call still gets through.
    for id in 3..8 {
        r.arrive(&work(id, 2, WorkKind::Email, 61 * S), 61 * S)
            .unwrap();
    }
    assert_eq!(offers(&mut r), [(3, 10), (4, 10), (5, 10)]);
    r.arrive(&work(9, 1, WorkKind::Call, 62 * S), 62 * S)
        .unwrap();
    assert_eq!(offers(&mut r), [(9, 10)]);
    assert_eq!(r.work_view(WorkId(6)).unwrap(), WorkView::Waiting);
}

#[test]
fn skills_decide_and_overflow_widens_then_moves() {
    let mut vip = q(1, &[WorkKind::Call]);
    vip.skills = vec![skill(1, 4)];
    vip.overflow = vec![
        Overflow {
            after_secs: 30,
            widen_to: Some(vec![skill(1, 2)]),
            move_to: None,
        },
        Overflow {
            after_secs: 60,
            widen_to: None,
            move_to: Some(QueueId(2)),
        },
    ];
    let general = q(2, &[WorkKind::Call]);
    let mut r = router(
        vec![vip, general],
        vec![agent(10, &[skill(1, 2)]), agent(11, &[skill(1, 5)])],
    );
    // Agent 11 alone has the level; when busy the next call waits.
    r.arrive(&work(1, 1, WorkKind::Call, 0), 0).unwrap();
    assert_eq!(offers(&mut r), [(1, 11)]);
    r.accept(UserId(11), WorkId(1), 0).unwrap();
    r.arrive(&work(2, 1, WorkKind::Call, S), S).unwrap();
    assert!(offers(&mut r).is_empty());
    // After 30 seconds a level-2 agent will do.
    r.advance(30 * S);
    assert!(offers(&mut r).is_empty());
    r.advance(31 * S);
    let ev = r.take_events();
    assert!(ev.contains(&Event::Overflowed {
        work: WorkId(2),
        queue: QueueId(1),
        stage: 1
    }));
    assert!(ev.contains(&Event::Offered {
        work: WorkId(2),
        agent: UserId(10),
        until: None
    }));
    // A call with nobody at all for it moves to the general queue at 60 s,
    // keeping its place there.
    let mut r = router(
        vec![
            {
                let mut v = q(1, &[WorkKind::Call]);
                v.skills = vec![skill(1, 4)];
                v.overflow = vec![Overflow {
                    after_secs: 60,
                    widen_to: None,
                    move_to: Some(QueueId(2)),
                }];
                v
            },
            q(2, &[WorkKind::Call]),
        ],
        vec![],
    );
    r.arrive(&work(1, 2, WorkKind::Call, 10 * S), 10 * S)
        .unwrap();
    r.arrive(&work(2, 1, WorkKind::Call, 0), 0).unwrap();
    r.advance(60 * S);
    assert_eq!(r.work_queue(WorkId(2)).unwrap(), QueueId(2));
    assert_eq!(r.waiting(QueueId(2)).unwrap(), [WorkId(2), WorkId(1)]);
}

#[test]
fn a_rejected_offer_goes_elsewhere_and_missed_offers_mean_a_break() {
    let mut qs = q(1, &[WorkKind::Call]);
    qs.offer_timeout_secs = Some(15);
    let mut r = router(vec![qs], vec![agent(10, &[]), agent(11, &[])]);
    r.arrive(&work(1, 1, WorkKind::Call, 0), 0).unwrap();
    assert_eq!(offers(&mut r), [(1, 10)]);
    assert_eq!(
        r.accept(UserId(11), WorkId(1), S),
        Err(RouteError::NotOffered)
    );
    r.reject(UserId(10), WorkId(1), S).unwrap();
    assert_eq!(offers(&mut r), [(1, 11)]);
    // Agent 11 lets it ring out; agent 10 turned it down a moment ago, so
    // it waits (agent 10 is passed over for a minute), then comes back.
    r.advance(16 * S);
    let ev = r.take_events();
    assert!(ev.contains(&Event::Lapsed {
        work: WorkId(1),
        agent: UserId(11),
        lapse: Lapse::NoAnswer
    }));
    assert!(!ev.iter().any(|e| matches!(e, Event::Offered { .. })));
    r.advance(61 * S);
    assert_eq!(offers(&mut r), [(1, 10)]);
    // Three missed offers in a row put agent 11 on a "missed offers" break.
    let mut r = router(
        vec![{
            let mut qs = q(1, &[WorkKind::Call]);
            qs.offer_timeout_secs = Some(10);
            qs
        }],
        vec![agent(11, &[])],
    );
    for i in 0..3 {
        let t = i * 100 * S;
        r.arrive(&work(i + 1, 1, WorkKind::Call, t), t).unwrap();
        r.advance(t + 10 * S);
    }
    let st = r.agent_view(UserId(11)).unwrap().state;
    assert_eq!(st.to_string(), "break:missed_offers");
    assert_eq!(r.waiting(QueueId(1)).unwrap().len(), 3);
}

#[test]
fn a_timer_of_finished_work_does_not_touch_the_work_after_it() {
    // Call 1 is offered with a 15 s timeout and answered; call 2 reuses its
    // slot and is offered at 10 s. At 15 s call 1's old timeout comes due:
    // call 2's offer must keep ringing until 25 s.
    let mut qs = q(1, &[WorkKind::Call]);
    qs.offer_timeout_secs = Some(15);
    let mut r = router(vec![qs], vec![agent(10, &[])]);
    r.arrive(&work(1, 1, WorkKind::Call, 0), 0).unwrap();
    r.accept(UserId(10), WorkId(1), S).unwrap();
    r.finish(WorkId(1), 5 * S).unwrap();
    r.arrive(&work(2, 1, WorkKind::Call, 10 * S), 10 * S)
        .unwrap();
    r.take_events();
    r.advance(15 * S);
    assert_eq!(
        r.work_view(WorkId(2)).unwrap(),
        WorkView::Offered(UserId(10))
    );
    r.advance(25 * S);
    assert!(r.take_events().contains(&Event::Lapsed {
        work: WorkId(2),
        agent: UserId(10),
        lapse: Lapse::NoAnswer
    }));
}

#[test]
fn strategies_choose_different_agents() {
    // Agents 10, 11, 12 log in in that order with skill levels 2, 5 and 3;
    // 10 already holds two e-mails and 12 one. Three e-mails arrive one
    // after another and are kept.
    for (strategy, expect) in [
        (Strategy::LongestIdle, [11, 10, 10]),
        (Strategy::RoundRobin, [10, 11, 12]),
        (Strategy::BestSkill, [11, 11, 11]),
        (Strategy::LeastOccupied, [11, 11, 12]),
    ] {
        let mut qs = q(1, &[WorkKind::Email]);
        qs.strategy = strategy;
        qs.skills = vec![skill(1, 1)];
        let mut r = router(
            vec![qs, q(2, &[WorkKind::Email])],
            vec![
                agent(10, &[skill(1, 2)]),
                agent(11, &[skill(1, 5)]),
                agent(12, &[skill(1, 3)]),
            ],
        );
        for (w, a) in [(100, 10), (101, 10), (102, 12)] {
            r.assign_new(&work(w, 2, WorkKind::Email, 0), UserId(a));
        }
        let mut got = Vec::new();
        for i in 0..3 {
            let t = (10 + i) * S;
            r.arrive(&work(i + 1, 1, WorkKind::Email, t), t).unwrap();
            let (w, a) = offers(&mut r)[0];
            got.push(a);
            r.accept(UserId(a), WorkId(w), t).unwrap();
        }
        assert_eq!(got, expect, "{strategy:?}");
    }
}

impl Router {
    /// Test helper: work already with an agent.
    fn assign_new(&mut self, w: &Work, agent: UserId) {
        self.arrive(w, w.arrived).unwrap();
        self.take_events();
        self.withdraw(w.id, w.arrived).unwrap();
        self.resume(w, agent, w.arrived).unwrap();
        self.take_events();
    }
}

/// Agent 10 (one e-mail at a time, busy with e-mail 100) and agent 11; the
/// queue waits two minutes for a customer's own agent.
fn sticky() -> Router {
    let mut qs = q(1, &[WorkKind::Email]);
    qs.prefer_secs = 120;
    let mut own = agent(10, &[]);
    own.capacity.email = 1;
    let mut r = router(vec![qs], vec![own, agent(11, &[])]);
    r.assign_new(&work(100, 1, WorkKind::Email, 0), UserId(10));
    let mut w = work(1, 1, WorkKind::Email, S);
    w.prefer.agent = Some(UserId(10));
    r.arrive(&w, S).unwrap();
    r
}

#[test]
fn the_customers_own_agent_is_waited_for_then_anyone_takes_it() {
    // The reply on agent 10's case waits for agent 10 although 11 is free.
    let mut r = sticky();
    assert!(offers(&mut r).is_empty());
    assert_eq!(r.work_view(WorkId(1)).unwrap(), WorkView::Held);
    assert_eq!(r.queue_status(QueueId(1), 2 * S).unwrap().waiting, 1);
    // Agent 10 frees up within the window: it is theirs.
    r.finish(WorkId(100), 50 * S).unwrap();
    assert_eq!(offers(&mut r), [(1, 10)]);
    // Agent 10 stays busy: when the window closes, agent 11 takes it.
    let mut r = sticky();
    r.advance(120 * S);
    assert!(offers(&mut r).is_empty());
    r.advance(121 * S);
    assert_eq!(offers(&mut r), [(1, 11)]);
    // Agent 10 logs out: no more waiting for them.
    let mut r = sticky();
    r.set_presence(UserId(10), Presence::Offline, 10 * S)
        .unwrap();
    assert_eq!(offers(&mut r), [(1, 11)]);
    // A dedicated team: any member who is free gets it at once.
    let mut qs = q(1, &[WorkKind::Call]);
    qs.prefer_secs = 30;
    let mut vip = agent(12, &[]);
    vip.teams = vec![TeamId(7)];
    let mut r = router(vec![qs], vec![agent(10, &[]), vip]);
    let mut w = work(1, 1, WorkKind::Call, S);
    w.prefer.team = Some(TeamId(7));
    r.arrive(&w, S).unwrap();
    assert_eq!(offers(&mut r), [(1, 12)]);
    // The member logs out while it rings: it goes to anyone else.
    r.set_presence(UserId(12), Presence::Offline, 2 * S)
        .unwrap();
    assert_eq!(offers(&mut r), [(1, 10)]);
}

#[test]
fn waiting_too_long_or_arriving_when_closed_leaves_the_queue() {
    let mut qs = q(1, &[WorkKind::Call]);
    qs.max_wait_secs = Some(120);
    qs.on_max_wait = WaitAction::Callback;
    qs.when_closed = WaitAction::Voicemail;
    let mut r = router(vec![qs], vec![]);
    r.arrive(&work(1, 1, WorkKind::Call, 0), 0).unwrap();
    r.advance(119 * S);
    assert!(r.take_events().is_empty());
    r.advance(120 * S);
    assert_eq!(
        r.take_events(),
        [Event::Expired {
            work: WorkId(1),
            queue: QueueId(1),
            action: WaitAction::Callback,
            closed: false
        }]
    );
    assert_eq!(r.work_view(WorkId(1)), Err(RouteError::UnknownWork));
    r.set_open(QueueId(1), false).unwrap();
    r.arrive(&work(2, 1, WorkKind::Call, 200 * S), 200 * S)
        .unwrap();
    assert_eq!(
        r.take_events(),
        [Event::Expired {
            work: WorkId(2),
            queue: QueueId(1),
            action: WaitAction::Voicemail,
            closed: true
        }]
    );
}

#[test]
fn languages_and_teams_limit_who_is_offered() {
    let mut qs = q(1, &[WorkKind::Email]);
    qs.teams = vec![TeamId(3)];
    let mut en = agent(10, &[]);
    en.languages = vec!["en".into()];
    en.teams = vec![TeamId(3)];
    let mut zh = agent(11, &[]);
    zh.teams = vec![TeamId(3)];
    let outsider = agent(12, &[]);
    let mut r = router(vec![qs], vec![outsider, zh, en]);
    let mut w = work(1, 1, WorkKind::Email, 0);
    w.language = Some("EN".into());
    r.arrive(&w, 0).unwrap();
    assert_eq!(offers(&mut r), [(1, 10)]);
    r.arrive(&work(2, 1, WorkKind::Email, 0), 0).unwrap();
    assert_eq!(offers(&mut r), [(2, 11)]);
}

#[test]
fn after_a_restart_the_state_is_rebuilt_without_new_decisions_for_work_in_hand() {
    let mut qs = q(1, &[WorkKind::Call]);
    qs.overflow = vec![Overflow {
        after_secs: 60,
        widen_to: Some(vec![]),
        move_to: None,
    }];
    qs.skills = vec![skill(1, 5)];
    let mut r = router(vec![qs], vec![agent(10, &[skill(1, 5)]), agent(11, &[])]);
    // Agent 10 was on a call; a call waiting since 0 is now 90 s old.
    r.resume(&work(1, 1, WorkKind::Call, 0), UserId(10), 90 * S)
        .unwrap();
    assert_eq!(states(&mut r), [(10, "busy".into())]);
    r.arrive(&work(2, 1, WorkKind::Call, 0), 90 * S).unwrap();
    // Its overflow step is already due: agent 11 (no skill) gets it.
    let ev = r.take_events();
    assert!(ev.contains(&Event::Offered {
        work: WorkId(2),
        agent: UserId(11),
        until: None
    }));
    assert_eq!(
        r.arrive(&work(2, 1, WorkKind::Call, 0), 90 * S),
        Err(RouteError::Duplicate)
    );
}

#[test]
fn a_call_the_pbx_put_through_keeps_the_agent_busy() {
    let mut r = router(vec![q(1, &[WorkKind::Email])], vec![]);
    r.set_agent(agent(10, &[]), 0).unwrap();
    r.set_presence(UserId(10), Presence::Available, 0).unwrap();
    let on = std::collections::BTreeSet::from([UserId(10), UserId(99)]);
    r.set_on_calls(&on, S);
    assert_eq!(
        r.agent_view(UserId(10)).unwrap().state.status,
        AgentStatus::Busy
    );
    r.take_events();
    r.arrive(&work(1, 1, WorkKind::Email, 2 * S), 2 * S)
        .unwrap();
    assert_eq!(
        r.work_view(WorkId(1)).unwrap(),
        WorkView::Waiting,
        "nothing is offered during the call"
    );
    // Saying it twice changes nothing; the hang-up frees the agent at once.
    r.set_on_calls(&on, 3 * S);
    assert!(r.take_events().is_empty());
    r.set_on_calls(&Default::default(), 4 * S);
    assert_eq!(
        r.work_view(WorkId(1)).unwrap(),
        WorkView::Offered(UserId(10))
    );
}

#[test]
fn a_supervisor_hands_work_in_hand_to_another_agent() {
    let mut r = router(vec![q(1, &[WorkKind::Email])], vec![]);
    r.set_agent(agent(10, &[]), 0).unwrap();
    r.set_agent(agent(11, &[]), 0).unwrap();
    r.set_presence(UserId(10), Presence::Available, 0).unwrap();
    r.arrive(&work(1, 1, WorkKind::Email, 0), 0).unwrap();
    r.accept(UserId(10), WorkId(1), S).unwrap();
    assert_eq!(
        r.agent_view(UserId(10)).unwrap().state.status,
        AgentStatus::Busy
    );
    r.take_events();
    r.assign(WorkId(1), UserId(11), 2 * S).unwrap();
    assert_eq!(
        r.work_view(WorkId(1)).unwrap(),
        WorkView::Active(UserId(11))
    );
    let ten = r.agent_view(UserId(10)).unwrap();
    assert!(ten.active.is_empty());
    assert_eq!(ten.state.status, AgentStatus::Available);
    assert!(r.take_events().contains(&Event::Assigned {
        work: WorkId(1),
        agent: UserId(11),
        manual: true
    }));
    // Giving it to whoever holds it changes nothing.
    r.assign(WorkId(1), UserId(11), 3 * S).unwrap();
    assert!(r.take_events().is_empty());
    r.finish(WorkId(1), 4 * S).unwrap();
    assert!(r.agent_view(UserId(11)).unwrap().active.is_empty());
}

#[test]
fn a_supervisor_assigns_and_moves_work() {
    let mut r = router(
        vec![q(1, &[WorkKind::Email]), q(2, &[WorkKind::Email])],
        vec![],
    );
    r.set_agent(agent(10, &[]), 0).unwrap();
    r.arrive(&work(1, 1, WorkKind::Email, 0), 0).unwrap();
    r.arrive(&work(2, 1, WorkKind::Email, S), S).unwrap();
    // Agent 10 is offline, but a supervisor may still hand them the work.
    r.assign(WorkId(1), UserId(10), 2 * S).unwrap();
    assert_eq!(
        r.work_view(WorkId(1)).unwrap(),
        WorkView::Active(UserId(10))
    );
    assert_eq!(
        r.transfer(WorkId(1), QueueId(2), 3 * S),
        Err(RouteError::Active)
    );
    r.transfer(WorkId(2), QueueId(2), 3 * S).unwrap();
    assert_eq!(r.waiting(QueueId(2)).unwrap(), [WorkId(2)]);
    assert_eq!(
        r.transfer(WorkId(2), QueueId(9), 3 * S),
        Err(RouteError::UnknownQueue)
    );
    let st = r.queue_status(QueueId(2), 10 * S).unwrap();
    assert_eq!((st.waiting, st.longest_wait_ms), (1, 9 * S));
    assert!(st.agents.contains(&(AgentStatus::Offline, 1)));
    assert_eq!(r.remove_queue(QueueId(2)), Err(RouteError::QueueInUse));
    r.withdraw(WorkId(2), 11 * S).unwrap();
    r.remove_queue(QueueId(2)).unwrap();
    assert_eq!(
        r.arrive(&work(3, 2, WorkKind::Email, 0), 0),
        Err(RouteError::UnknownQueue)
    );
    assert_eq!(
        r.arrive(&work(3, 1, WorkKind::Call, 0), 0),
        Err(RouteError::WrongKind)
    );
}

#[test]
fn specs_are_checked() {
    let mut qs = q(1, &[WorkKind::Call]);
    qs.skills = vec![skill(1, 6)];
    assert!(Router::new().set_queue(qs).is_err());
    let mut qs = q(1, &[WorkKind::Call]);
    qs.overflow = vec![Overflow {
        after_secs: 30,
        widen_to: Some(vec![]),
        move_to: Some(QueueId(2)),
    }];
    assert_eq!(qs.check().unwrap_err().field, "overflow[0]");
    let mut a = agent(1, &[]);
    a.capacity.call = 2;
    assert_eq!(a.check().unwrap_err().field, "capacity");
    a.capacity.call = 1;
    a.languages = vec!["中文".into()];
    assert_eq!(a.check().unwrap_err().field, "language");
    assert_eq!(q(1, &[]).check().unwrap_err().field, "kinds");
}

#[test]
fn entry_rules_pick_the_first_matching_queue() {
    let rules = vec![
        (
            EntryConditions {
                tiers: vec!["vip".into()],
                kinds: vec![WorkKind::Call],
                ..Default::default()
            },
            QueueId(1),
        ),
        (
            EntryConditions {
                regions: vec!["44".into()],
                ..Default::default()
            },
            QueueId(2),
        ),
        (
            EntryConditions {
                case_types: vec![CaseType::Complaint],
                languages: vec!["en".into()],
                ..Default::default()
            },
            QueueId(3),
        ),
        (EntryConditions::default(), QueueId(4)),
    ];
    let cases: [(EntryFacts, i64); 5] = [
        (
            EntryFacts {
                kind: Some(WorkKind::Call),
                tier: Some("vip"),
                region: Some("44"),
                ..Default::default()
            },
            1,
        ),
        (
            EntryFacts {
                kind: Some(WorkKind::Email),
                tier: Some("vip"),
                region: Some("44"),
                ..Default::default()
            },
            2,
        ),
        (
            EntryFacts {
                case_type: Some(CaseType::Complaint),
                language: Some("en"),
                ..Default::default()
            },
            3,
        ),
        (
            EntryFacts {
                case_type: Some(CaseType::Complaint),
                ..Default::default()
            },
            4,
        ),
        (EntryFacts::default(), 4),
    ];
    for (facts, want) in cases {
        assert_eq!(
            entry_queue(&rules, &facts),
            Some(QueueId(want)),
            "{facts:?}"
        );
    }
    assert_eq!(entry_queue(&rules[..1], &EntryFacts::default()), None);
}
