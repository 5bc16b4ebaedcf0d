//! The wallboard over HTTP: today's routed work and PBX calls per queue,
//! every agent's state, work in hand and day, what is running late; the
//! team view's hand-over of work between agents.

use crate::harness::*;
use crate::routing::{desk_until, email_case};
use domain::ids::{CaseId, DepartmentId};
use domain::model::{Actor, TaskInput};
use domain::role::Role;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn row<'a>(board: &'a Value, list: &str, key: &str, value: &Value) -> &'a Value {
    board[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| &x[key] == value)
        .unwrap_or_else(|| panic!("no {list} with {key} = {value} in {board}"))
}

#[tokio::test]
async fn the_wallboard_counts_today_and_names_what_runs_late() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let sup = app.login("a", Role::Supervisor).await;
        let agent = app.login("a", Role::Agent).await;
        let lead = app.login("a", Role::TeamLeader).await;
        let (status, _) = agent.get("/api/v1/wallboard").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "an agent has no wallboard");
        let (status, resp) = sup.get("/api/v1/wallboard?team=x").await;
        assert_field_error(status, &resp, "team", "a team that is no number");
        let (status, resp) = sup.get("/api/v1/wallboard?team=999999").await;
        assert_field_error(status, &resp, "team", "another tenant's or no team");

        let queue = admin
            .create("/api/v1/routing/queues", json!({"name": "E-mail", "kinds": ["email"], "wrap_up_secs": 0}))
            .await;
        let qid = queue["id"].clone();
        let (status, _) = admin
            .call(Method::PUT, "/api/v1/routing/rules", Some(json!({"rules": [{"queue_id": qid}]})))
            .await;
        assert_eq!(status, StatusCode::OK);
        let board = sup.ok("/api/v1/wallboard").await;
        assert_eq!(row(&board, "agents", "id", &json!(agent.user_id))["state"], "offline");

        // The agent takes an e-mail at once: answered within the hour's target.
        agent.post("/api/v1/routing/me/state", json!({"state": "available"})).await;
        let case = email_case(&sup, "发票抬头").await;
        let d = desk_until(&agent, "an offer", |d| d["offers"].as_array().is_some_and(|o| !o.is_empty())).await;
        let work = d["offers"][0]["id"].as_i64().unwrap();
        let (status, _) = agent.post(&format!("/api/v1/routing/work/{work}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let board = sup.ok("/api/v1/wallboard").await;
        let q = row(&board, "queues", "queue_id", &qid);
        assert_eq!((q["source"].as_str(), q["offered"].as_i64(), q["answered"].as_i64()), (Some("routing"), Some(1), Some(1)), "{q}");
        assert_eq!(q["service_level"], 1.0);
        let me = row(&board, "agents", "id", &json!(agent.user_id));
        assert_eq!(me["state"], "busy");
        assert_eq!(me["work"][0]["case_id"], case);
        assert!(me["seconds_in_state"].as_i64().unwrap() >= 0);

        // The supervisor hands the work to the team leader, who is on a break:
        // the agent is free again, the case is the leader's.
        lead.post("/api/v1/routing/me/state", json!({"state": "break", "reason": "meeting"})).await;
        let (status, moved) = sup
            .post(&format!("/api/v1/routing/work/{work}/assign"), json!({"agent_id": lead.user_id}))
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        let board = sup.ok("/api/v1/wallboard").await;
        let me = row(&board, "agents", "id", &json!(agent.user_id));
        assert_eq!((me["state"].as_str(), me["work"].as_array().unwrap().len()), (Some("available"), 0), "{me}");
        let lead_row = row(&board, "agents", "id", &json!(lead.user_id));
        assert_eq!(lead_row["work"][0]["case_id"], case);
        assert_eq!(lead_row["state"], "break:meeting");
        let c = sup.ok(&format!("/api/v1/cases/{case}")).await;
        assert_eq!(c["assignee_id"], lead.user_id);
        let q = row(&board, "queues", "queue_id", &qid);
        assert_eq!(q["answered"], 1, "handing over is not a second answer");
        let (status, _) = lead.post(&format!("/api/v1/routing/work/{work}/finish"), json!({})).await;
        assert_eq!(status, StatusCode::OK);

        // The PBX: one call answered by the agent, one abandoned, one ringing.
        let (_, t) = admin.post("/api/v1/cti/token", json!({})).await;
        let pbx = Client { token: t["token"].as_str().map(String::from), ..app.anon() };
        admin
            .call(Method::PATCH, &format!("/api/v1/users/{}", agent.user_id), Some(json!({"extension": "8001"})))
            .await;
        let now = Timestamp::now();
        let at = |secs: i64| (now - SignedDuration::from_secs(secs)).to_string();
        let events = [
            json!({"event": "new", "call_id": "c1", "direction": "inbound", "caller": "13800138000", "callee": "400", "queue": "热线 Hotline", "at": at(300)}),
            json!({"event": "answered", "call_id": "c1", "extension": "8001", "at": at(290)}),
            json!({"event": "hangup", "call_id": "c1", "at": at(170)}),
            json!({"event": "new", "call_id": "c2", "direction": "inbound", "caller": "13900139000", "callee": "400", "queue": "热线 Hotline", "at": at(100)}),
            json!({"event": "hangup", "call_id": "c2", "at": at(40)}),
            json!({"event": "new", "call_id": "c3", "direction": "inbound", "caller": "13700137000", "callee": "400", "queue": "热线 Hotline", "at": at(30)}),
        ];
        for e in events {
            let (status, resp) = pbx.post("/api/v1/cti/events", e).await;
            assert_eq!(status, StatusCode::OK, "{resp}");
        }
        let board = sup.ok("/api/v1/wallboard").await;
        let phone = row(&board, "queues", "name", &json!("热线 Hotline"));
        assert_eq!(phone["source"], "phone");
        assert_eq!(
            (phone["waiting"].as_i64(), phone["offered"].as_i64(), phone["answered"].as_i64(), phone["abandoned"].as_i64()),
            (Some(1), Some(2), Some(1), Some(1)),
            "{phone}"
        );
        assert!(phone["longest_wait_secs"].as_i64().unwrap() >= 30);
        assert_eq!(phone["service_level"], 0.5, "one of two answered within 20 s");
        assert_eq!(phone["asa_secs"], 10.0);
        let me = row(&board, "agents", "id", &json!(agent.user_id));
        assert_eq!(me["handled_today"], 1, "the call");
        assert_eq!(me["aht_secs"], 120.0);
        let lead_row = row(&board, "agents", "id", &json!(lead.user_id));
        assert_eq!(lead_row["handled_today"], 1, "the e-mail finished");
        // Ringing for the agent now: the team view shows the call.
        pbx.post("/api/v1/cti/events", json!({"event": "answered", "call_id": "c3", "extension": "8001"})).await;
        let board = sup.ok("/api/v1/wallboard").await;
        let me = row(&board, "agents", "id", &json!(agent.user_id));
        assert_eq!(me["call"]["call_id"], "c3");
        // On the phone the agent is busy: an e-mail waits until the hang-up.
        assert_eq!(me["state"], "busy");
        let mail = email_case(&sup, "保修卡丢失").await;
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let d = agent.ok("/api/v1/routing/me").await;
        assert_eq!(d["offers"], json!([]), "nothing offered during a call");
        pbx.post("/api/v1/cti/events", json!({"event": "hangup", "call_id": "c3"})).await;
        let d = desk_until(&agent, "the e-mail offered after the call", |d| {
            d["offers"].as_array().is_some_and(|o| o.iter().any(|w| w["case_id"] == mail))
        })
        .await;
        assert_eq!(d["state"], "available");

        // Late: a department task past its deadline, a case past its SLA.
        let tenant = app.tenants["a"];
        let actor = Actor { tenant_id: tenant, user_id: Some(domain::ids::UserId(sup.user_id)), channel: None };
        let input = TaskInput {
            department_id: DepartmentId(app.departments["a.aftersales"].0),
            assignee_id: None,
            instructions: "核实发票".into(),
            deadline_at: None,
        };
        app.store
            .create_task(actor, CaseId(case), &input, now - SignedDuration::from_hours(72))
            .await
            .unwrap();
        admin
            .create("/api/v1/sla-policies", json!({"name": "fast", "resolution": {"minutes": 30, "business": false}}))
            .await;
        let late = email_case(&sup, "退款进度").await;
        app.store.sla_tick(now + SignedDuration::from_hours(2), 100).await.unwrap();
        let board = sup.ok("/api/v1/wallboard").await;
        assert_eq!(board["alarms"]["tasks_overdue"], 1, "{}", board["alarms"]);
        assert_eq!(board["overdue_tasks"][0]["case_id"], case);
        assert!(board["alarms"]["sla_breached"].as_i64().unwrap() >= 1, "{}", board["alarms"]);
        assert!(board["late_cases"].as_array().unwrap().iter().any(|c| c["id"] == late));

        // Another team shows none of these agents; another tenant sees nothing of them.
        let other = admin.create("/api/v1/teams", json!({"name": "二组"})).await;
        let board = sup.ok(&format!("/api/v1/wallboard?team={}", other["id"])).await;
        assert_eq!(board["agents"], json!([]));
        let sup_b = app.login("b", Role::Supervisor).await;
        let board = sup_b.ok("/api/v1/wallboard").await;
        assert!(board["queues"].as_array().unwrap().is_empty(), "{board}");
        assert!(board["agents"].as_array().unwrap().iter().all(|a| a["work"] == json!([]) && a["call"].is_null()));
        assert_eq!(board["alarms"], json!({"sla_warning": 0, "sla_breached": 0, "tasks_overdue": 0}));
    })
    .await;
}
