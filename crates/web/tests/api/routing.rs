//! Routing over the API: an administrator sets up skills, a queue, an entry
//! rule and an agent's profile; a new e-mail case is offered to the agent
//! who went available, who accepts it (the case is theirs); a rejected
//! offer waits and a supervisor assigns it by hand; state history has
//! durations; the live stream announces offers; a router rebuilt from the
//! store (a restart) holds the same work; and nothing crosses tenants.

use crate::harness::*;
use domain::ids::{QueueId, UserId, WorkId};
use domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Polls the agent's desk until `check` holds (the driver takes new work in
/// within a quarter of a second).
pub(crate) async fn desk_until(c: &Client, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let d = c.ok("/api/v1/routing/me").await;
        if check(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("[{}] desk never showed {what}", c.backend);
}

pub(crate) async fn email_case(c: &Client, subject: &str) -> i64 {
    let case = c
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "email", "subject": subject}),
        )
        .await;
    case["id"].as_i64().unwrap()
}

#[tokio::test]
async fn work_is_offered_accepted_rejected_assigned_and_recovered() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let sup = app.login("a", Role::Supervisor).await;
        let agent = app.login("a", Role::Agent).await;

        let skill = admin.create("/api/v1/routing/skills", json!({"name": "warranty"})).await;
        let (status, _) = sup.post("/api/v1/routing/skills", json!({"name": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only an administrator sets up routing");
        let queue = admin
            .create(
                "/api/v1/routing/queues",
                json!({"name": "E-mail", "kinds": ["email", "web"], "skills": [{"skill": skill["id"], "level": 2}],
                       "offer_timeout_secs": 60, "wrap_up_secs": 0}),
            )
            .await;
        let qid = queue["id"].as_i64().unwrap();
        let bad = [
            (json!({"name": "x", "kinds": []}), "kinds"),
            (json!({"name": "x", "kinds": ["fax"]}), "kinds[0]"),
            (json!({"name": "x", "kinds": ["email"], "skills": [{"skill": 999999, "level": 2}]}), "skills[0].skill"),
            (json!({"name": "x", "kinds": ["email"], "skills": [{"skill": skill["id"], "level": 9}]}), "skills"),
            (json!({"name": "x", "kinds": ["email"], "overflow": [{"after_secs": 60, "move_to": 999999}]}), "overflow[0].move_to"),
        ];
        for (body, field) in bad {
            let (status, resp) = admin.post("/api/v1/routing/queues", body.clone()).await;
            assert_field_error(status, &resp, field, &body.to_string());
        }
        let (status, resp) = admin
            .call(Method::PUT, "/api/v1/routing/rules", Some(json!({"rules": [{"queue_id": 999999}]})))
            .await;
        assert_field_error(status, &resp, "rules[0].queue_id", "rule to a missing queue");
        let (status, rules) = admin
            .call(
                Method::PUT,
                "/api/v1/routing/rules",
                Some(json!({"rules": [{"queue_id": qid}]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rules}");

        // The agent needs the queue's skill at level 2 or more.
        let path = format!("/api/v1/routing/agents/{}", agent.user_id);
        let (status, resp) = admin
            .call(Method::PUT, &path, Some(json!({"skills": [{"skill": skill["id"], "level": 7}]})))
            .await;
        assert_field_error(status, &resp, "skills[0].level", "level above five");
        let (status, resp) = admin
            .call(Method::PUT, &path, Some(json!({"skills": [{"skill": skill["id"], "level": 3}], "languages": ["ZH"], "capacity": {"email": 2}})))
            .await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        assert_eq!(resp["languages"], json!(["zh"]));

        let (status, resp) = agent.post("/api/v1/routing/me/state", json!({"state": "break"})).await;
        assert_field_error(status, &resp, "reason", "break without a reason");
        let (status, resp) = agent.post("/api/v1/routing/me/state", json!({"state": "asleep"})).await;
        assert_field_error(status, &resp, "state", "unknown state");
        let (status, me) = agent.post("/api/v1/routing/me/state", json!({"state": "available"})).await;
        assert_eq!((status, me["state"].as_str()), (StatusCode::OK, Some("available")), "{me}");

        // The live stream is open before the work comes.
        let mut stream = agent
            .http
            .get(format!("{}/api/v1/routing/events", agent.base))
            .bearer_auth(agent.token.as_deref().unwrap())
            .send()
            .await
            .expect("events");
        assert_eq!(stream.status(), StatusCode::OK);

        let first = email_case(&sup, "刹车异响 brake noise").await;
        let desk = desk_until(&agent, "an offer", |d| d["offers"].as_array().is_some_and(|o| !o.is_empty())).await;
        let offer = &desk["offers"][0];
        assert_eq!(offer["case_id"], first);
        assert_eq!(offer["queue"], "E-mail");
        assert!(offer["offered_until"].is_string(), "a 60 s offer has a deadline: {offer}");
        let work1 = offer["id"].as_i64().unwrap();
        let announced = tokio::time::timeout(Duration::from_secs(5), async {
            let mut seen = String::new();
            while let Ok(Some(chunk)) = stream.chunk().await {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains("event: routing") && seen.contains(&agent.user_id.to_string()) {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(announced, Ok(true), "the offer is announced on the agent's stream");

        // Tenant b cannot touch tenant a's work.
        let other = app.login("b", Role::Agent).await;
        let (status, _) = other.post(&format!("/api/v1/routing/work/{work1}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, desk) = agent.post(&format!("/api/v1/routing/work/{work1}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{desk}");
        assert_eq!(desk["state"], "busy");
        assert_eq!(desk["active"][0]["id"], work1);
        let case = agent.ok(&format!("/api/v1/cases/{first}")).await;
        assert_eq!(case["case"]["assignee_id"].as_i64().or(case["assignee_id"].as_i64()), Some(agent.user_id));

        // A second e-mail fits the capacity of two: offered, rejected with a
        // reason, it waits (the agent is passed over for a minute).
        let second = email_case(&sup, "second").await;
        let desk = desk_until(&agent, "a second offer", |d| d["offers"].as_array().is_some_and(|o| !o.is_empty())).await;
        let work2 = desk["offers"][0]["id"].as_i64().unwrap();
        assert_eq!(desk["offers"][0]["case_id"], second);
        let (status, resp) = agent.post(&format!("/api/v1/routing/work/{work2}/reject"), json!({"reason": " "})).await;
        assert_field_error(status, &resp, "reason", "reject without a reason");
        let (status, desk) = agent
            .post(&format!("/api/v1/routing/work/{work2}/reject"), json!({"reason": "不熟悉该车型"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{desk}");
        assert_eq!(desk["offers"], json!([]));
        let status_now = sup.ok("/api/v1/routing/status").await;
        let q = &status_now["items"][0];
        assert_eq!((q["name"].as_str(), q["waiting"].as_i64()), (Some("E-mail"), Some(1)), "{status_now}");
        assert_eq!(q["agents"]["busy"], 1, "{status_now}");
        let waiting = sup.ok(&format!("/api/v1/routing/queues/{qid}/waiting")).await;
        assert_eq!(waiting["items"][0]["id"], work2);
        let (status, _) = agent.get("/api/v1/routing/status").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "queue status is for supervisors");

        // A third case waits too; the router is rebuilt from the store as after
        // a restart: the same work waiting and in hand, nothing doubled.
        let third = email_case(&sup, "third").await;
        desk_until(&agent, "the third offer", |d| d["offers"][0]["case_id"] == third).await;
        // The rule matches everything, but its queue takes no call-backs: a
        // phone case with nobody on it is passed over, not routed.
        let phone = sup
            .create("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "call me"}))
            .await;
        let waiting = sup.ok(&format!("/api/v1/routing/queues/{qid}/waiting")).await;
        assert!(waiting["items"].as_array().unwrap().iter().all(|w| w["case_id"] != phone["id"]), "{waiting}");
        // Paged by position in the queue, oldest first.
        let all: Vec<Value> = waiting["items"].as_array().unwrap().clone();
        assert!(all.len() >= 2, "{waiting}");
        let head = sup.ok(&format!("/api/v1/routing/queues/{qid}/waiting?limit=1")).await;
        assert_eq!(head["items"].as_array().unwrap().len(), 1);
        assert_eq!(head["items"][0]["id"], all[0]["id"]);
        let cursor = head["next_cursor"].as_str().expect("more waiting").to_string();
        let next = sup.ok(&format!("/api/v1/routing/queues/{qid}/waiting?limit=1&cursor={cursor}")).await;
        assert_eq!(next["items"][0]["id"], all[1]["id"], "{next}");
        let restarted = web::acd::Acd::new(app.store.clone());
        let tenant = app.tenants["a"];
        let view = restarted.agent_view(tenant, UserId(agent.user_id)).await.expect("recovered");
        assert_eq!(view.active, vec![WorkId(work1)]);
        assert_eq!(view.offered.len(), 1, "the ringing offer is made again: {view:?}");
        let st = restarted.queue_status(tenant, &[QueueId(qid)]).await.expect("status");
        assert_eq!((st[0].waiting, st[0].offered), (1, 1), "{st:?}");

        // The supervisor gives the rejected one to the agent by hand.
        let (status, w) = sup
            .post(&format!("/api/v1/routing/work/{work2}/assign"), json!({"agent_id": agent.user_id}))
            .await;
        assert_eq!(status, StatusCode::OK, "{w}");
        assert_eq!((w["state"].as_str(), w["agent_id"].as_i64()), (Some("active"), Some(agent.user_id)));
        let (status, _) = sup
            .post(&format!("/api/v1/routing/work/{work2}/assign"), json!({"agent_id": other.user_id}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "an agent of another tenant is unknown here");

        // Done with the first: it leaves the agent's hands.
        let (status, desk) = agent.post(&format!("/api/v1/routing/work/{work1}/finish"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{desk}");
        assert!(desk["active"].as_array().unwrap().iter().all(|w| w["id"] != work1), "{desk}");

        // Resolving a case ends its routed work.
        let (status, _) = agent
            .post(&format!("/api/v1/cases/{second}/transitions"), json!({"action": "resolve"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        desk_until(&agent, "the resolved case gone", |d| {
            d["active"].as_array().is_some_and(|a| a.iter().all(|w| w["id"] != work2))
        })
        .await;

        let history = sup
            .ok(&format!("/api/v1/routing/agents/{}/states", agent.user_id))
            .await;
        let states: Vec<&str> = history["items"].as_array().unwrap().iter().filter_map(|s| s["state"].as_str()).collect();
        assert!(states.ends_with(&["busy", "available"]), "newest first: {states:?}");
        assert!(history["items"][1]["seconds"].as_i64().is_some_and(|s| s >= 0));
        assert!(history["items"][1]["ended_at"].is_string(), "an ended state has its end: {history}");

        let agents = sup.ok("/api/v1/routing/agents").await;
        let me = agents["items"].as_array().unwrap().iter().find(|a| a["user_id"] == agent.user_id).unwrap();
        assert_eq!(me["skills"][0]["level"], 3);
        let (status, _) = agent.post("/api/v1/routing/me/state", json!({"state": "offline"})).await;
        assert_eq!(status, StatusCode::OK);
    })
    .await;
}

/// A valued customer's own agent: their new work waits for that agent for
/// the queue's prefer time while another agent is free, goes to the own
/// agent the moment they are available, to anyone after the prefer time,
/// and to anyone at once while the own agent is logged out.
#[tokio::test]
async fn a_customers_own_agent_is_offered_their_work_first() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let sup = app.login("a", Role::Supervisor).await;
        let own = app.login("a", Role::Agent).await;
        let other = app.login("a", Role::TeamLeader).await;
        let queue_body = |prefer: u32| {
            json!({"name": "VIP", "kinds": ["email"], "prefer_secs": prefer, "offer_timeout_secs": 600})
        };
        let queue = admin.create("/api/v1/routing/queues", queue_body(600)).await;
        let qid = queue["id"].as_i64().unwrap();
        let (status, rules) = admin
            .call(Method::PUT, "/api/v1/routing/rules", Some(json!({"rules": [{"queue_id": qid}]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{rules}");

        let customer = sup.create("/api/v1/customers", json!({"name": "钱先生", "tier": "vip"})).await;
        let cid = customer["id"].as_i64().unwrap();
        assert_eq!(customer["dedicated_agent_id"], Value::Null);
        let path = format!("/api/v1/customers/{cid}/dedicated");
        let dept = app.login("a", Role::DepartmentStaff).await;
        let stranger = app.login("b", Role::Agent).await;
        let bad = [
            (json!({"agent_id": dept.user_id}), "agent_id"),
            (json!({"agent_id": stranger.user_id}), "agent_id"),
            (json!({"team_id": app.teams["b"].0}), "team_id"),
        ];
        for (body, field) in bad {
            let (status, resp) = sup.call(Method::PUT, &path, Some(body.clone())).await;
            assert_field_error(status, &resp, field, &body.to_string());
        }
        let (status, _) = own.call(Method::PUT, &path, Some(json!({"agent_id": own.user_id}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "an agent does not choose a customer's agent");
        let (status, _) = stranger.call(Method::PUT, &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let b_sup = app.login("b", Role::Supervisor).await;
        let (status, _) = b_sup.call(Method::PUT, &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another tenant's customer");
        let (status, c) = sup
            .call(Method::PUT, &path, Some(json!({"agent_id": own.user_id, "team_id": app.teams["a"].0})))
            .await;
        assert_eq!(status, StatusCode::OK, "{c}");
        assert_eq!((c["dedicated_agent_id"].as_i64(), c["dedicated_team_id"].as_i64()), (Some(own.user_id), Some(app.teams["a"].0)));
        // The other agent is in the same team: only the own agent is kept.
        let (status, c) = sup.call(Method::PUT, &path, Some(json!({"agent_id": own.user_id}))).await;
        assert_eq!((status, c["dedicated_team_id"].clone()), (StatusCode::OK, Value::Null), "{c}");
        let view = sup.ok(&format!("/api/v1/customers/{cid}")).await;
        assert_eq!(view["dedicated_agent_id"], own.user_id);

        let vip_case = |subject: &'static str| {
            let sup = &sup;
            async move {
                let case = sup
                    .create("/api/v1/cases", json!({"type": "inquiry", "channel": "email", "subject": subject, "customer_id": cid}))
                    .await;
                case["id"].as_i64().unwrap()
            }
        };
        let has_offer = |case: i64| move |d: &Value| d["offers"].as_array().is_some_and(|o| o.iter().any(|w| w["case_id"] == case));

        // The own agent is logged out: no one to wait for.
        let (status, _) = other.post("/api/v1/routing/me/state", json!({"state": "available"})).await;
        assert_eq!(status, StatusCode::OK);
        let first = vip_case("own agent logged out").await;
        let desk = desk_until(&other, "the offer at once", has_offer(first)).await;
        let work = desk["offers"][0]["id"].as_i64().unwrap();
        let (status, _) = other.post(&format!("/api/v1/routing/work/{work}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::OK);

        // On a break the own agent is still there: the work is held for them
        // (for ten minutes) although the other agent is free.
        let (status, _) = own.post("/api/v1/routing/me/state", json!({"state": "break", "reason": "coaching"})).await;
        assert_eq!(status, StatusCode::OK);
        let second = vip_case("held for the own agent").await;
        for _ in 0..100 {
            let st = sup.ok("/api/v1/routing/status").await;
            if st["items"][0]["waiting"] == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let st = sup.ok("/api/v1/routing/status").await;
        assert_eq!(st["items"][0]["waiting"], 1, "the router holds the work: {st}");
        let desk = other.ok("/api/v1/routing/me").await;
        assert_eq!(desk["offers"], json!([]), "held for the own agent: {desk}");
        // Back from the break, the own agent gets it at once.
        let (status, _) = own.post("/api/v1/routing/me/state", json!({"state": "available"})).await;
        assert_eq!(status, StatusCode::OK);
        let desk = desk_until(&own, "the held work", has_offer(second)).await;
        let work = desk["offers"][0]["id"].as_i64().unwrap();
        let (status, _) = own.post(&format!("/api/v1/routing/work/{work}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::OK);

        // With a prefer time of one second, anyone may take it after that.
        let (status, q) = admin.call(Method::PUT, &format!("/api/v1/routing/queues/{qid}"), Some(queue_body(1))).await;
        assert_eq!(status, StatusCode::OK, "{q}");
        let (status, _) = own.post("/api/v1/routing/me/state", json!({"state": "break", "reason": "lunch"})).await;
        assert_eq!(status, StatusCode::OK);
        let started = std::time::Instant::now();
        let third = vip_case("the prefer time runs out").await;
        desk_until(&other, "the offer after the prefer time", has_offer(third)).await;
        assert!(started.elapsed() >= Duration::from_secs(1), "not before the prefer time: {:?}", started.elapsed());
        let desk = own.ok("/api/v1/routing/me").await;
        assert_eq!(desk["offers"], json!([]), "{desk}");
    })
    .await;
}
