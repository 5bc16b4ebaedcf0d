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
async fn desk_until(c: &Client, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let d = c.ok("/api/v1/routing/me").await;
        if check(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("[{}] desk never showed {what}", c.backend);
}

async fn email_case(c: &Client, subject: &str) -> i64 {
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
