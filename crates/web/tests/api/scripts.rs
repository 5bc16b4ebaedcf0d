//! Call scripts over the API: written with steps and branches, versioned,
//! offered on a case by its type and queue, and recorded with contacts.

use crate::harness::*;
use domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn steps() -> Value {
    json!([
        {"id": "greet", "title": "问候", "say": "您好，这里是星途汽车客服中心。", "branches": [
            {"label": "客户情绪激动", "to": "calm"}, {"label": "客户说明问题", "to": "record"}]},
        {"id": "calm", "title": "安抚", "say": "非常理解您的心情，我们一定帮您处理。"},
        {"id": "record", "title": "记录", "say": "请问您的车架号是多少？"}
    ])
}

#[tokio::test]
async fn scripts_are_versioned_offered_by_case_and_recorded_with_contacts() {
    each_backend(|app| async move {
        let ctx = app.backend;
        let sup = app.login("a", Role::Supervisor).await;
        let agent = app.login("a", Role::Agent).await;
        let admin = app.login("a", Role::Admin).await;
        let queue = admin
            .create("/api/v1/routing/queues", json!({"name": "召回", "kinds": ["email", "call", "web"]}))
            .await;
        let qid = queue["id"].as_i64().unwrap();
        let body = json!({"name": "投诉来电", "case_types": ["complaint"], "steps": steps()});
        let with = |k: &str, v: Value| {
            let mut b = body.clone();
            b[k] = v;
            b
        };
        let mut bad_branch = steps();
        bad_branch[0]["branches"][0]["to"] = json!("nowhere");
        for (b, field) in [
            (with("name", json!("")), "name"),
            (with("steps", json!([])), "steps"),
            (with("steps", bad_branch), "steps[0].branches[0].to"),
            (with("kind", json!("poem")), "kind"),
            (with("queue_ids", json!([999999])), "queue_ids[0]"),
            (with("case_types", json!(["gossip"])), "case_types[0]"),
        ] {
            let (s, r) = sup.post("/api/v1/scripts", b.clone()).await;
            assert_field_error(s, &r, field, &format!("{ctx} {b}"));
        }
        let (s, _) = agent.post("/api/v1/scripts", body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{ctx}: agents use scripts, they do not write them");

        let complaint = sup.create("/api/v1/scripts", body.clone()).await;
        let sid = complaint["id"].as_i64().unwrap();
        assert_eq!((complaint["version"].as_i64(), complaint["kind"].as_str()), (Some(1), Some("call")), "{ctx}");
        let v1 = complaint["version_id"].as_i64().unwrap();
        let recall = sup
            .create("/api/v1/scripts", json!({"name": "召回外呼", "queue_ids": [qid], "campaign": "2026 刹车召回", "steps": steps()}))
            .await;
        let soothe = sup
            .create("/api/v1/scripts", json!({"name": "安抚", "kind": "soothing", "steps": [{"id": "a", "title": "先道歉", "say": "非常抱歉给您带来不便。"}]}))
            .await;
        sup.create("/api/v1/scripts", json!({"name": "投诉问答", "kind": "complaint_faq", "steps": [{"id": "q1", "title": "多久答复？", "say": "48 小时内。"}]}))
            .await;

        let names = |v: &Value| -> Vec<String> {
            let mut n: Vec<String> = v["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
            n.sort();
            n
        };
        let case = |t: &'static str| {
            let agent = &agent;
            async move {
                agent.create("/api/v1/cases", json!({"type": t, "channel": "phone", "subject": "刹车异响"})).await["id"]
                    .as_i64()
                    .unwrap()
            }
        };
        let inquiry = case("inquiry").await;
        let offered = agent.ok(&format!("/api/v1/cases/{inquiry}/scripts")).await;
        assert_eq!(names(&offered), vec!["安抚", "投诉问答"], "{ctx}: only those for every case");
        let complaint_case = case("complaint").await;
        let offered = agent.ok(&format!("/api/v1/cases/{complaint_case}/scripts")).await;
        assert_eq!(names(&offered), vec!["安抚", "投诉来电", "投诉问答"], "{ctx}");
        assert!(!names(&offered).contains(&"召回外呼".to_string()), "{ctx}: {}", recall["id"]);

        // A note taken with the script open records its version, and keeps
        // it after the script changes.
        let note = agent
            .create(&format!("/api/v1/cases/{complaint_case}/interactions"), json!({"kind": "call", "body": "客户激动，已安抚", "script_version_id": v1}))
            .await;
        assert_eq!(note["kind"], "call", "{ctx}");
        let mut second = body.clone();
        second["steps"][1]["say"] = json!("非常理解您的心情，我马上为您登记。");
        second["base_version"] = json!(1);
        second["change_note"] = json!("委托方要求改安抚话术");
        let (s, v) = sup.call(Method::PUT, &format!("/api/v1/scripts/{sid}"), Some(second.clone())).await;
        assert_eq!((s, v["version"].as_i64()), (StatusCode::OK, Some(2)), "{ctx}: {v}");
        let (s, _) = sup.call(Method::PUT, &format!("/api/v1/scripts/{sid}"), Some(second)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{ctx}: written from version 1 again");
        let versions = agent.ok(&format!("/api/v1/scripts/{sid}/versions")).await;
        let items = versions["items"].as_array().unwrap();
        assert_eq!((items.len(), items[0]["changed"].clone()), (2, json!(["steps"])), "{ctx}");
        assert_eq!(items[1]["steps"][1]["say"], "非常理解您的心情，我们一定帮您处理。", "{ctx}: version 1 as it was");
        let detail = agent.ok(&format!("/api/v1/cases/{complaint_case}")).await;
        let recorded = detail["interactions"].as_array().unwrap().iter().find(|i| i["body"] == "客户激动，已安抚").unwrap().clone();
        assert_eq!((recorded["script"]["version"].as_i64(), recorded["script"]["name"].as_str()), (Some(1), Some("投诉来电")), "{ctx}: {recorded}");

        // Another tenant's script version cannot be recorded, nor read.
        let b_sup = app.login("b", Role::Supervisor).await;
        let theirs = b_sup.create("/api/v1/scripts", json!({"name": "b", "steps": [{"id": "x", "title": "x"}]})).await;
        let (s, r) = agent
            .post(&format!("/api/v1/cases/{complaint_case}/interactions"), json!({"body": "x", "script_version_id": theirs["version_id"]}))
            .await;
        assert_field_error(s, &r, "script_version_id", ctx);
        let (s, _) = b_sup.get(&format!("/api/v1/scripts/{sid}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{ctx}");

        // Retired: no longer offered, still readable with its versions.
        let (s, _) = sup.patch(&format!("/api/v1/scripts/{}", soothe["id"]), json!({"active": false})).await;
        assert_eq!(s, StatusCode::OK, "{ctx}");
        let offered = agent.ok(&format!("/api/v1/cases/{inquiry}/scripts")).await;
        assert_eq!(names(&offered), vec!["投诉问答"], "{ctx}");
        assert_eq!(agent.ok(&format!("/api/v1/scripts/{}", soothe["id"])).await["active"], false, "{ctx}");
        assert_eq!(names(&agent.ok("/api/v1/scripts?include_retired=true").await).len(), 4, "{ctx}");
    })
    .await;
}
