//! One search over articles, cases, contacts and customers: it follows
//! changes, keeps tenants and roles apart, suggests articles and earlier
//! cases beside a case, and still answers while its index is rebuilt.

use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Searches until `want` holds of the hits (the index follows the store
/// every 300 ms); the last answer.
async fn until_found(c: &Client, query: &str, what: &str, want: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = c.ok(&format!("/api/v1/search?q={}", encode(query))).await;
        if last["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(&want))
        {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: not found for {query:?}: {last}");
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn one_search_finds_what_changed_for_whom_may_see_it() {
    each_backend(|app| async move {
        let sup = app.login("a", Role::Supervisor).await;
        let agent = app.login("a", Role::Agent).await;
        let admin = app.login("a", Role::Admin).await;
        let other = app.login("b", Role::Supervisor).await;

        let art = sup
            .create("/api/v1/articles", json!({"title": "保养周期", "body": "首次保养 5000 公里或 6 个月。", "source": "售后部", "tags": ["保养"]}))
            .await;
        let old = agent
            .create("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "首保里程咨询", "description": "客户问首次保养多少公里"}))
            .await;
        let customer = agent.create("/api/v1/customers", json!({"name": "赵敏", "phones": ["13912345678"]})).await;
        let case = agent
            .create("/api/v1/cases", json!({"type": "complaint", "channel": "phone", "subject": "Brake noise", "description": "Squeaking brakes after the recall repair"}))
            .await;
        let cid = case["id"].as_i64().unwrap();
        agent
            .create(&format!("/api/v1/cases/{cid}/interactions"), json!({"kind": "note", "body": "服务站已更换刹车片"}))
            .await;

        let found = until_found(&agent, "保养 周期", "the article", |h| h["kind"] == "article" && h["id"] == art["id"]).await;
        assert_eq!(found["source"], "index");
        let first = &found["items"][0];
        assert_eq!((first["kind"].as_str(), first["href"].as_str()), (Some("article"), Some(format!("/kb/{}", art["id"]).as_str())), "{found}");
        assert!(first["snippet"].as_str().unwrap().contains("<b>保养</b>"), "{found}");
        until_found(&agent, "刹车片", "the note", |h| h["kind"] == "interaction" && h["case_id"] == cid).await;
        until_found(&agent, "13912345678", "the customer", |h| h["kind"] == "customer" && h["id"] == customer["id"]).await;
        let number = case["number"].as_str().unwrap().to_string();
        until_found(&agent, &number, "the case by number", |h| h["kind"] == "case" && h["id"] == cid).await;
        let only = agent.ok("/api/v1/search?q=brake&kinds=case").await;
        assert!(only["items"].as_array().unwrap().iter().all(|h| h["kind"] == "case") && !only["items"].as_array().unwrap().is_empty(), "{only}");
        let (s, r) = agent.get("/api/v1/search?q=x&kinds=memo").await;
        assert_field_error(s, &r, "kinds", "an unknown kind");

        // A change is found, and a retired article is not.
        let (s, _) = agent.patch(&format!("/api/v1/cases/{cid}"), json!({"subject": "Brake noise and warning light"})).await;
        assert_eq!(s, StatusCode::OK);
        until_found(&agent, "warning light", "the changed subject", |h| h["id"] == cid).await;
        let (s, _) = sup.patch(&format!("/api/v1/articles/{}", art["id"]), json!({"active": false})).await;
        assert_eq!(s, StatusCode::OK);
        let mut gone = false;
        for _ in 0..100 {
            let r = agent.ok("/api/v1/search?q=保养周期&kinds=article").await;
            if r["items"].as_array().unwrap().is_empty() {
                gone = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(gone, "a retired article leaves the index");
        let (s, r) = sup.patch(&format!("/api/v1/articles/{}", art["id"]), json!({"active": true})).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        until_found(&agent, "保养周期", "the article back", |h| h["kind"] == "article" && h["id"] == art["id"]).await;

        // Who may see what.
        assert_eq!(other.ok("/api/v1/search?q=保养").await["items"], json!([]), "another tenant finds nothing");
        let dept = app.login("a", Role::DepartmentStaff).await;
        assert_eq!(dept.get("/api/v1/search?q=保养").await.0, StatusCode::FORBIDDEN);

        // Beside a case: the article that answers it, and the earlier case like it.
        let new = agent
            .create("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "首次保养多少公里", "description": ""}))
            .await;
        let nid = new["id"].as_i64().unwrap();
        let mut s = Value::Null;
        for _ in 0..100 {
            s = agent.ok(&format!("/api/v1/cases/{nid}/suggestions")).await;
            if s["cases"].as_array().is_some_and(|c| !c.is_empty()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(s["articles"][0]["id"], art["id"], "{s}");
        assert_eq!(s["cases"][0]["id"], old["id"], "{s}");
        assert!(s["cases"].as_array().unwrap().iter().all(|c| c["id"] != nid), "not the case itself: {s}");
        let typed = agent.ok(&format!("/api/v1/cases/{nid}/suggestions?text={}", encode("刹车片 更换"))).await;
        assert_eq!(typed["cases"][0]["id"], cid, "what the agent types: {typed}");

        // Rebuilt from the store; searches answer all the while.
        assert_eq!(agent.post("/api/v1/search/rebuild", json!({})).await.0, StatusCode::FORBIDDEN);
        assert_eq!(admin.post("/api/v1/search/rebuild", json!({})).await.0, StatusCode::ACCEPTED);
        let during = agent.ok("/api/v1/search?q=刹车片").await;
        assert!(!during["items"].as_array().unwrap().is_empty(), "answered while rebuilding: {during}");
        let after = until_found(&agent, "保养 周期", "after the rebuild", |h| h["id"] == art["id"]).await;
        let mut source = after["source"].clone();
        for _ in 0..100 {
            if source == "index" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            source = agent.ok("/api/v1/search?q=保养").await["source"].clone();
        }
        assert_eq!(source, "index");
    })
    .await;
}
