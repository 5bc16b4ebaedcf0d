//! SLA clocks driven through the store's own writes, on every backend, with
//! time as an argument: a case's life on an office calendar, escalation that
//! fires once (after a restart, and with two servers on one database), held
//! notifications, and department deadlines on the department's calendar.

use crate::{NewUser, Store};
use domain::calendar::CalendarSpec;
use domain::case::*;
use domain::ids::*;
use domain::model::*;
use domain::policy::PolicySpec;
use domain::role::Role;
use domain::sla::SlaState;
use jiff::Timestamp;

fn at(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

/// Mon–Fri 09:00–12:00 and 13:00–18:00 in Shanghai; 2026-11-02 is a Monday.
fn office() -> CalendarSpec {
    toml::from_str(
        r#"timezone = "Asia/Shanghai"
           [hours]
           mon = ["09:00-12:00", "13:00-18:00"]
           tue = ["09:00-12:00", "13:00-18:00"]
           wed = ["09:00-12:00", "13:00-18:00"]
           thu = ["09:00-12:00", "13:00-18:00"]
           fri = ["09:00-12:00", "13:00-18:00"]
           [exceptions]
           holidays = ["2026-11-06"]"#,
    )
    .expect("calendar")
}

struct World {
    store: Store,
    url: String,
    actor: Actor,
    system: Actor,
    agent: UserId,
    leader: UserId,
    supervisor: UserId,
    interface: UserId,
    second_team: TeamId,
    team: TeamId,
    dept: DepartmentId,
}

async fn world(url: &str) -> World {
    let store = Store::connect(url).await.expect("connect");
    let t0 = at("2026-11-01T00:00:00Z");
    let tenant = store
        .create_tenant("sla", "SLA", "Asia/Shanghai", "CN", t0)
        .await
        .expect("tenant");
    let system = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    let team = store
        .create_team(system, "一组", None, t0)
        .await
        .expect("team");
    let second = store
        .create_team(system, "升级组", None, t0)
        .await
        .expect("team");
    let dept = store
        .create_department(system, "售后服务部", None, 48, t0)
        .await
        .expect("dept");
    let user = async |name: &str, role: Role| {
        let u = NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: "x".into(),
            role,
            team_id: Some(team.id),
            department_id: (role == Role::DepartmentStaff).then_some(dept.id),
        };
        store.create_user(system, &u, t0).await.expect("user").id
    };
    let agent = user("agent", Role::Agent).await;
    let leader = user("leader", Role::TeamLeader).await;
    let supervisor = user("supervisor", Role::Supervisor).await;
    let interface = user("interface", Role::DepartmentStaff).await;
    sqlx::query("UPDATE teams SET leader_id = $1 WHERE id = $2")
        .bind(leader.0)
        .bind(team.id.0)
        .execute(&store.pool)
        .await
        .expect("leader");
    store
        .set_department_interface(system, dept.id, interface, t0)
        .await
        .expect("interface");
    World {
        store,
        url: url.to_string(),
        actor: Actor {
            user_id: Some(agent),
            ..system
        },
        system,
        agent,
        leader,
        supervisor,
        interface,
        second_team: second.id,
        team: team.id,
        dept: dept.id,
    }
}

impl World {
    async fn policy(&self, json: serde_json::Value) -> PolicyId {
        let cal = self
            .store
            .create_calendar(self.system, "office", &office(), at("2026-11-01T00:00:00Z"))
            .await
            .expect("calendar");
        let mut json = json;
        json["calendar_id"] = serde_json::json!(cal.0);
        let spec: PolicySpec = serde_json::from_value(json).expect("policy");
        self.store
            .create_policy(self.system, &spec, at("2026-11-01T00:00:00Z"))
            .await
            .expect("create policy")
    }

    async fn case(&self, channel: Channel, opened: &str) -> CaseId {
        let input = CaseInput {
            case_type: CaseType::Inquiry,
            channel,
            priority: Priority::Normal,
            subject: "刹车异响".into(),
            description: String::new(),
            customer_id: None,
            category_id: None,
            assignee_id: Some(self.agent),
            team_id: Some(self.team),
            custom: Default::default(),
        };
        let actor = Actor {
            channel: Some(channel),
            ..self.actor
        };
        self.store
            .create_case(actor, "Asia/Shanghai", &input, None, at(opened))
            .await
            .expect("case")
    }

    async fn write(&self, case: CaseId, direction: Direction, when: &str) {
        let i = InteractionInput {
            kind: InteractionKind::Email,
            direction,
            started_at: at(when),
            ended_at: None,
            body: "…".into(),
            attachments: Vec::new(),
            script_version_id: None,
        };
        let actor = if direction == Direction::Inbound {
            self.system
        } else {
            self.actor
        };
        self.store
            .add_interaction(actor, case, &i, at(when))
            .await
            .expect("interaction");
    }

    async fn summary(&self, case: CaseId) -> CaseSummary {
        self.store
            .case(self.system.tenant_id, case)
            .await
            .expect("case")
            .summary
    }

    async fn events(&self, case: CaseId, kind: &str) -> usize {
        self.store
            .case_events(self.system.tenant_id, case)
            .await
            .expect("events")
            .iter()
            .filter(|e| e.kind == kind)
            .count()
    }

    async fn notices(&self, user: UserId, now: &str) -> Vec<String> {
        self.store
            .notifications(self.system.tenant_id, user, at(now), None, 100)
            .await
            .expect("notifications")
            .into_iter()
            .map(|n| n.kind)
            .collect()
    }
}

fn standard() -> serde_json::Value {
    serde_json::json!({
        "name": "standard",
        "first_response": {"minutes": 240},
        "next_response": {"minutes": 120},
        "resolution": {"minutes": 1200},
        "warn_notify": ["assignee"],
        "breach": {"notify": ["team_leader", "supervisor"], "raise_priority": true}
    })
}

#[tokio::test]
async fn a_case_through_its_clocks() {
    for (backend, url) in crate::testing::fresh_database_urls().await {
        let w = world(&url).await;
        let mut policy = standard();
        policy["breach"]["move_to_team"] = serde_json::json!(w.second_team.0);
        w.policy(policy).await;
        let tenant = w.system.tenant_id;
        // Monday 10:00: four business hours to answer, lunch closed: due 15:00, warned at 14:12.
        let case = w.case(Channel::Email, "2026-11-02T10:00:00+08:00").await;
        let s = w.summary(case).await;
        assert_eq!(s.sla_state, Some(SlaState::Ok), "{backend}");
        assert_eq!(
            s.sla_due_at,
            Some(at("2026-11-02T15:00:00+08:00")),
            "{backend}"
        );
        let tick = async |t: &str| w.store.sla_tick(at(t), 100).await.expect("tick");
        assert_eq!(
            tick("2026-11-02T14:11:59+08:00").await.warnings,
            0,
            "{backend}"
        );
        assert_eq!(
            tick("2026-11-02T14:12:00+08:00").await.warnings,
            1,
            "{backend}"
        );
        assert_eq!(
            tick("2026-11-02T14:30:00+08:00").await,
            Default::default(),
            "{backend}: once"
        );
        assert_eq!(
            w.summary(case).await.sla_state,
            Some(SlaState::Warning),
            "{backend}"
        );
        assert_eq!(
            w.notices(w.agent, "2026-11-02T14:12:00+08:00").await,
            ["sla_warning"],
            "{backend}"
        );

        let breach = tick("2026-11-02T15:00:00+08:00").await;
        assert_eq!(breach.breaches, 1, "{backend}");
        let s = w.summary(case).await;
        assert_eq!(s.sla_state, Some(SlaState::Breached), "{backend}");
        assert_eq!(s.priority, Priority::High, "{backend}: raised");
        assert_eq!(s.team_id, Some(w.second_team), "{backend}: moved");
        for u in [w.leader, w.supervisor] {
            assert_eq!(
                w.notices(u, "2026-11-02T15:00:00+08:00").await,
                ["sla_breached"],
                "{backend}"
            );
        }
        // One history entry per action: the warning's notice, two breach
        // notices, the priority, the queue.
        assert_eq!(w.events(case, "escalated").await, 5, "{backend}");
        assert_eq!(w.events(case, "sla_breached").await, 1, "{backend}");

        // Answered late: the response clock stops breached; the resolution clock runs on.
        w.write(case, Direction::Outbound, "2026-11-02T15:30:00+08:00")
            .await;
        let clocks = w.store.clocks(tenant, case).await.expect("clocks");
        let first = &clocks[0];
        assert_eq!(
            (first.kind.as_str(), first.state, first.stopped_at),
            (
                "first_response",
                SlaState::Breached,
                Some(at("2026-11-02T15:30:00+08:00"))
            ),
            "{backend}"
        );
        // Twenty business hours from Monday 10:00: Wednesday 15:00.
        let resolution_due = at("2026-11-04T15:00:00+08:00");
        let s = w.summary(case).await;
        assert_eq!(
            (s.sla_state, s.sla_due_at),
            (Some(SlaState::Ok), Some(resolution_due)),
            "{backend}"
        );

        // Waiting for the customer Tuesday 10:00 to Wednesday 10:00 (eight
        // business hours) stops the resolution clock; the customer's reply
        // starts it again and asks for a next response.
        w.store
            .transition(
                w.actor,
                case,
                CaseAction::WaitForCustomer,
                at("2026-11-03T10:00:00+08:00"),
            )
            .await
            .expect("wait");
        let s = w.summary(case).await;
        assert_eq!(
            (s.sla_state, s.sla_due_at),
            (Some(SlaState::Paused), None),
            "{backend}"
        );
        assert_eq!(
            tick("2026-11-04T13:00:00+08:00").await,
            Default::default(),
            "{backend}: paused"
        );
        w.write(case, Direction::Inbound, "2026-11-04T10:00:00+08:00")
            .await;
        let clocks = w.store.clocks(tenant, case).await.expect("clocks");
        let find = |k: &str| {
            clocks
                .iter()
                .find(|c| c.kind.as_str() == k && c.stopped_at.is_none())
        };
        assert_eq!(
            find("resolution").and_then(|c| c.due_at),
            Some(at("2026-11-05T15:00:00+08:00")),
            "{backend}: eight business hours later"
        );
        assert_eq!(
            find("next_response").and_then(|c| c.due_at),
            Some(at("2026-11-04T12:00:00+08:00")),
            "{backend}"
        );
        // The answer stops the next response in time; resolving stops the rest.
        w.write(case, Direction::Outbound, "2026-11-04T11:00:00+08:00")
            .await;
        w.store
            .transition(
                w.actor,
                case,
                CaseAction::Resolve,
                at("2026-11-04T16:00:00+08:00"),
            )
            .await
            .expect("resolve");
        let states: Vec<(String, SlaState)> = w
            .store
            .clocks(tenant, case)
            .await
            .expect("clocks")
            .iter()
            .map(|c| (c.kind.to_string(), c.state))
            .collect();
        let want = [
            ("first_response", SlaState::Breached),
            ("resolution", SlaState::Met),
            ("next_response", SlaState::Met),
        ];
        assert_eq!(states.len(), 3, "{backend}: {states:?}");
        for (k, s) in want {
            assert!(
                states.contains(&(k.to_string(), s)),
                "{backend}: {k} {s:?} in {states:?}"
            );
        }
        assert_eq!(
            w.summary(case).await.sla_state,
            Some(SlaState::Breached),
            "{backend}: a promise was broken"
        );
        // Reopened: a fresh resolution and next response from the reopening.
        w.store
            .transition(
                w.actor,
                case,
                CaseAction::Reopen,
                at("2026-11-09T09:00:00+08:00"),
            )
            .await
            .expect("reopen");
        let s = w.summary(case).await;
        assert_eq!(
            (s.sla_state, s.sla_due_at),
            (Some(SlaState::Ok), Some(at("2026-11-09T11:00:00+08:00"))),
            "{backend}"
        );

        // A phone case opened by the agent during the call was answered then.
        let call = w.case(Channel::Phone, "2026-11-02T10:00:00+08:00").await;
        let clocks = w.store.clocks(tenant, call).await.expect("clocks");
        assert_eq!(clocks[0].state, SlaState::Met, "{backend}");
        w.store.close().await;
    }
}

#[tokio::test]
async fn escalation_fires_once_across_restarts_and_servers() {
    for (backend, url) in crate::testing::fresh_database_urls().await {
        let w = world(&url).await;
        w.policy(standard()).await;
        let mut cases = Vec::new();
        for _ in 0..30 {
            cases.push(w.case(Channel::Email, "2026-11-02T10:00:00+08:00").await);
        }
        // Warned before a restart…
        let out = w
            .store
            .sla_tick(at("2026-11-02T14:12:00+08:00"), 1000)
            .await
            .expect("tick");
        assert_eq!(out.warnings, 30, "{backend}");
        w.store.close().await;
        // …and after it the breaches fire once: on PostgreSQL with two
        // servers ticking at the same moment (one SQLite file has one server).
        let a = Store::connect(&w.url).await.expect("a");
        let b = match backend {
            "postgres" => Some(Store::connect(&w.url).await.expect("b")),
            _ => None,
        };
        let now = at("2026-11-02T16:00:00+08:00");
        let mut fired = 0;
        for _ in 0..4 {
            let (x, y) = match &b {
                Some(b) => tokio::join!(a.sla_tick(now, 7), b.sla_tick(now, 7)),
                None => (a.sla_tick(now, 7).await, Ok(Default::default())),
            };
            let (x, y) = (x.expect("tick a"), y.expect("tick b"));
            assert_eq!(x.warnings + y.warnings, 0, "{backend}: warned already");
            fired += x.breaches + y.breaches;
        }
        fired += a.sla_tick(now, 1000).await.expect("tick").breaches;
        assert_eq!(fired, 30, "{backend}");
        let w = World { store: a, ..w };
        for case in &cases {
            assert_eq!(w.events(*case, "sla_warning").await, 1, "{backend}");
            assert_eq!(w.events(*case, "sla_breached").await, 1, "{backend}");
        }
        assert_eq!(
            w.notices(w.supervisor, "2026-11-02T16:00:00+08:00")
                .await
                .len(),
            30,
            "{backend}"
        );
        w.store.close().await;
        if let Some(b) = b {
            b.close().await;
        }
    }
}

#[tokio::test]
async fn night_escalations_wait_for_the_morning_unless_the_policy_says() {
    for (backend, url) in crate::testing::fresh_database_urls().await {
        let w = world(&url).await;
        let mut p = standard();
        // A wall-clock hour: a case at 17:30 breaches at 18:30, after closing.
        p["first_response"] = serde_json::json!({"minutes": 60, "business": false});
        w.policy(p).await;
        let case = w.case(Channel::Email, "2026-11-02T17:30:00+08:00").await;
        let out = w
            .store
            .sla_tick(at("2026-11-02T18:30:00+08:00"), 10)
            .await
            .expect("tick");
        assert_eq!(out.breaches, 1, "{backend}");
        assert_eq!(
            w.summary(case).await.sla_state,
            Some(SlaState::Breached),
            "{backend}: at once"
        );
        assert!(
            w.notices(w.leader, "2026-11-02T23:00:00+08:00")
                .await
                .is_empty(),
            "{backend}: not at night"
        );
        assert_eq!(
            w.notices(w.leader, "2026-11-03T09:00:00+08:00").await,
            ["sla_breached"],
            "{backend}"
        );

        let mut any = standard();
        any["name"] = serde_json::json!("rescue line");
        any["first_response"] = serde_json::json!({"minutes": 60, "business": false});
        any["notify_any_time"] = serde_json::json!(true);
        any["conditions"] = serde_json::json!({"channels": ["phone"]});
        let spec: PolicySpec = serde_json::from_value(any).expect("spec");
        let id = w
            .store
            .create_policy(w.system, &spec, at("2026-11-01T00:00:00Z"))
            .await
            .expect("create");
        w.store
            .move_policy(w.system, id, 1, at("2026-11-01T00:00:00Z"))
            .await
            .expect("first");
        let order: Vec<PolicyId> = w
            .store
            .policies(w.system.tenant_id)
            .await
            .expect("policies")
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(order.len(), 2, "{backend}");
        assert_eq!(order[0], id, "{backend}: moved to the front");
        // Opened from a customer's voicemail by the system: not answered live.
        let input = CaseInput {
            case_type: CaseType::Rescue,
            channel: Channel::Phone,
            priority: Priority::Normal,
            subject: "抛锚".into(),
            description: String::new(),
            customer_id: None,
            category_id: None,
            assignee_id: None,
            team_id: Some(w.team),
            custom: Default::default(),
        };
        let rescue = w
            .store
            .create_case(
                w.system,
                "Asia/Shanghai",
                &input,
                None,
                at("2026-11-02T22:00:00+08:00"),
            )
            .await
            .expect("case");
        w.store
            .sla_tick(at("2026-11-02T23:00:00+08:00"), 10)
            .await
            .expect("tick");
        assert_eq!(
            w.summary(rescue).await.sla_state,
            Some(SlaState::Breached),
            "{backend}"
        );
        assert_eq!(
            w.notices(w.leader, "2026-11-02T23:00:00+08:00").await,
            ["sla_breached"],
            "{backend}: the rescue line's leader hears at once"
        );
        w.store.close().await;
    }
}

#[tokio::test]
async fn department_deadlines_count_the_department_calendar() {
    for (backend, url) in crate::testing::fresh_database_urls().await {
        let w = world(&url).await;
        let mut p = standard();
        p["task"] = serde_json::json!({"minutes": 600});
        p["breach"]["notify"] = serde_json::json!(["interface_person"]);
        w.policy(p).await;
        let tenant = w.system.tenant_id;
        let cal = w.store.calendars(tenant).await.expect("calendars")[0].id;
        w.store
            .set_department_calendar(w.system, w.dept, Some(cal), at("2026-11-01T00:00:00Z"))
            .await
            .expect("department calendar");
        let case = w.case(Channel::Email, "2026-11-05T16:00:00+08:00").await;
        let task = TaskInput {
            department_id: w.dept,
            assignee_id: None,
            instructions: "请核实".into(),
            deadline_at: None,
        };
        let id = w
            .store
            .create_task(w.actor, case, &task, at("2026-11-05T16:00:00+08:00"))
            .await
            .expect("task");
        // Ten business hours from Thursday 16:00, Friday a holiday: Monday 18:00.
        let t = w.store.task(tenant, id).await.expect("task");
        assert_eq!(t.deadline_at, at("2026-11-09T18:00:00+08:00"), "{backend}");
        assert_eq!(t.sla_state, Some(SlaState::Ok), "{backend}");
        // Adding Monday as a holiday moves the open deadline to Tuesday.
        let mut spec = office();
        spec.exceptions.holidays.push("2026-11-09".into());
        w.store
            .update_calendar(w.system, cal, "office", &spec, at("2026-11-06T00:00:00Z"))
            .await
            .expect("update");
        let t = w.store.task(tenant, id).await.expect("task");
        assert_eq!(t.deadline_at, at("2026-11-10T18:00:00+08:00"), "{backend}");
        let out = w
            .store
            .sla_tick(at("2026-11-10T18:00:00+08:00"), 100)
            .await
            .expect("tick");
        assert!(out.breaches >= 1, "{backend}");
        assert_eq!(
            w.store.task(tenant, id).await.expect("task").sla_state,
            Some(SlaState::Breached),
            "{backend}"
        );
        // The interface person hears of the department's task, not of the
        // case's own clocks, and not before the department opens again.
        let heard = async |t: &str| w.notices(w.interface, t).await;
        assert!(
            heard("2026-11-10T18:00:00+08:00").await.is_empty(),
            "{backend}"
        );
        assert_eq!(
            heard("2026-11-11T09:00:00+08:00").await,
            ["sla_breached"],
            "{backend}"
        );
        w.store.close().await;
    }
}
