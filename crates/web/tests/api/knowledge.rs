//! The knowledge base: articles written and revised with where their
//! information came from, old versions kept, files, and a case recording
//! which version an agent answered from.

use crate::harness::*;
use base64::Engine;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn article(title: &str, body: &str) -> Value {
    json!({"title": title, "body": body, "source": "客户售后部 2026-03-02 邮件", "tags": ["保养"], "products": ["星途 LX"]})
}

#[tokio::test]
async fn articles_keep_every_version_and_cases_record_the_one_used() {
    each_backend(|app| async move {
        let sup = app.login("a", Role::Supervisor).await;
        let agent = app.login("a", Role::Agent).await;
        let other = app.login("b", Role::Supervisor).await;

        let cat = sup.create("/api/v1/kb/categories", json!({"name": "售后政策"})).await;
        let (s, _) = agent.post("/api/v1/kb/categories", json!({"name": "x"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "agents read knowledge, they do not write it");

        for (body, field) in [
            (json!({"title": "", "body": "b", "source": "s"}), "title"),
            (json!({"title": "t", "body": "b", "source": ""}), "source"),
            (json!({"title": "t", "body": "b", "source": "s", "visibility": "secret"}), "visibility"),
            (json!({"title": "t", "body": "b", "source": "s", "valid_from": "2026-04-01", "valid_to": "2026-03-01"}), "valid_to"),
            (json!({"title": "t", "body": "b", "source": "s", "files": [{"filename": "a.pdf", "data": "***"}]}), "attachments[0].data"),
            (json!({"title": "t", "body": "b", "source": "s", "category_id": 999999}), "category_id"),
        ] {
            let (s, r) = sup.post("/api/v1/articles", body.clone()).await;
            assert_field_error(s, &r, field, &body.to_string());
        }

        let pdf = b"%PDF-1.4 price list".to_vec();
        let mut first = article("保养周期", "首次保养 5000 公里或 6 个月。");
        first["category_id"] = cat["id"].clone();
        first["files"] = json!([{"filename": "价目表.pdf", "content_type": "application/pdf", "data": base64::engine::general_purpose::STANDARD.encode(&pdf)}]);
        let a = sup.create("/api/v1/articles", first).await;
        let id = a["id"].as_i64().unwrap();
        assert_eq!((a["version"].as_i64(), a["visibility"].as_str(), a["kind"].as_str()), (Some(1), Some("internal"), Some("article")));
        let sha = a["files"][0]["sha256"].as_str().unwrap().to_string();
        let file = reqwest::Client::new()
            .get(format!("{}/api/v1/articles/{id}/files/{sha}", app.base))
            .bearer_auth(agent.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.bytes().await.unwrap().to_vec(), pdf);

        // A revision says what changed and where the new information came from.
        let mut second = article("保养周期", "首次保养 7500 公里或 6 个月。");
        second["base_version"] = json!(1);
        second["source"] = json!("客户市场部 2026-03-10 通知");
        second["change_note"] = json!("里程调整");
        let (s, v2) = sup.call(reqwest::Method::PUT, &format!("/api/v1/articles/{id}"), Some(second.clone())).await;
        assert_eq!((s, v2["version"].as_i64()), (StatusCode::OK, Some(2)), "{v2}");
        assert_eq!(v2["files"].as_array().unwrap().len(), 1, "files are kept unless said otherwise");
        // Someone writing from version 1 again is told, not overwritten.
        let (s, r) = sup.call(reqwest::Method::PUT, &format!("/api/v1/articles/{id}"), Some(second.clone())).await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        let versions = agent.ok(&format!("/api/v1/articles/{id}/versions")).await;
        let items = versions["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["version"], 2);
        assert_eq!(items[0]["changed"], json!(["category_id", "body"]), "{versions}");
        assert_eq!(items[0]["source"], "客户市场部 2026-03-10 通知");
        assert_eq!(items[0]["author_name"], "a supervisor");
        assert_eq!(items[1]["body"], "首次保养 5000 公里或 6 个月。", "the old version stays readable");
        assert_eq!(items[1]["source"], "客户售后部 2026-03-02 邮件");

        // The agent answered from version 1: the case keeps that.
        let case = agent
            .create("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "保养咨询"}))
            .await;
        let cid = case["id"].as_i64().unwrap();
        for _ in 0..2 {
            let used = agent.create(&format!("/api/v1/cases/{cid}/articles"), json!({"article_id": id, "version": 1})).await;
            assert_eq!(used["items"].as_array().unwrap().len(), 1, "recorded once: {used}");
        }
        let (s, r) = agent.post(&format!("/api/v1/cases/{cid}/articles"), json!({"article_id": id, "version": 9})).await;
        assert_field_error(s, &r, "version", "a version that does not exist");
        let used = agent.ok(&format!("/api/v1/cases/{cid}/articles")).await;
        assert_eq!((used["items"][0]["version"].as_i64(), used["items"][0]["title"].as_str()), (Some(1), Some("保养周期")));
        let detail = agent.ok(&format!("/api/v1/cases/{cid}")).await;
        assert!(detail["events"].as_array().unwrap().iter().any(|e| e["kind"] == "article_used"), "{detail}");

        // Lists: by words, paged, without retired ones unless asked.
        sup.create("/api/v1/articles", article("Brake recall 2026", "Front brake hoses are replaced free of charge.")).await;
        sup.create("/api/v1/articles", article("轮胎更换", "轮胎磨损到 1.6 毫米须更换。")).await;
        let found = agent.ok("/api/v1/articles?q=brake").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
        let page = agent.ok("/api/v1/articles?limit=2").await;
        let cursor = page["next_cursor"].as_str().expect("more").to_string();
        let rest = agent.ok(&format!("/api/v1/articles?limit=2&cursor={cursor}")).await;
        assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
        assert_eq!(rest["items"][0]["id"], id, "oldest change last");
        let (s, r) = sup.patch(&format!("/api/v1/articles/{id}"), json!({"active": false})).await;
        assert_eq!((s, r["active"].as_bool()), (StatusCode::OK, Some(false)));
        assert_eq!(agent.ok("/api/v1/articles").await["items"].as_array().unwrap().len(), 2);
        assert_eq!(agent.ok("/api/v1/articles?include_retired=true").await["items"].as_array().unwrap().len(), 3);

        // Another tenant sees none of it.
        let (s, _) = other.get(&format!("/api/v1/articles/{id}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = other.get(&format!("/api/v1/articles/{id}/files/{sha}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(other.ok("/api/v1/articles?include_retired=true").await["items"], json!([]));
    })
    .await;
}

/// An announcement reaches everyone who works cases, and its readers'
/// receipts show a supervisor who has not read the current version.
#[tokio::test]
async fn announcements_reach_the_agents_and_show_who_has_read_them() {
    each_backend(|app| async move {
        let ctx = app.backend;
        let sup = app.login("a", Role::Supervisor).await;
        let agent = app.login("a", Role::Agent).await;
        let leader = app.login("a", Role::TeamLeader).await;
        let dept = app.login("a", Role::DepartmentStaff).await;
        let first = json!({"kind": "announcement", "title": "星途 X5 调价", "body": "自 12 月 1 日起，X5 指导价下调 5000 元。", "source": "委托方市场部 2026-11-20 通知"});
        let a = sup.create("/api/v1/articles", first.clone()).await;
        let id = a["id"].as_i64().unwrap();
        let notices = |c: &'static str| {
            let client = match c {
                "agent" => &agent,
                "sup" => &sup,
                _ => &dept,
            };
            async move {
                let n = client.ok("/api/v1/notifications").await;
                n["items"].as_array().unwrap().iter().filter(|x| x["kind"] == "announcement").cloned().collect::<Vec<Value>>()
            }
        };
        let told = notices("agent").await;
        assert_eq!(told.len(), 1, "{ctx}");
        assert_eq!((told[0]["article_id"].as_i64(), told[0]["body"].as_str()), (Some(id), Some("星途 X5 调价")), "{ctx}");
        assert!(notices("sup").await.is_empty(), "{ctx}: not the writer");
        assert!(notices("dept").await.is_empty(), "{ctx}: department staff do not work cases");

        let readers = sup.ok(&format!("/api/v1/articles/{id}/readers")).await;
        let names: Vec<i64> = readers["items"].as_array().unwrap().iter().map(|r| r["user_id"].as_i64().unwrap()).collect();
        assert!(names.contains(&agent.user_id) && names.contains(&leader.user_id) && !names.contains(&dept.user_id), "{ctx}: {readers}");
        assert_eq!(readers["unread"].as_u64(), Some(names.len() as u64), "{ctx}");

        let (s, r) = agent.post(&format!("/api/v1/articles/{id}/read"), json!(null)).await;
        assert_eq!((s, r["version"].as_i64()), (StatusCode::OK, Some(1)), "{ctx}: {r}");
        let readers = sup.ok(&format!("/api/v1/articles/{id}/readers")).await;
        assert_eq!(readers["read_current"], 1, "{ctx}");
        let mine = readers["items"].as_array().unwrap().iter().find(|r| r["user_id"] == agent.user_id).unwrap().clone();
        assert_eq!(mine["read_version"], 1, "{ctx}");

        // The price changes again: everyone is told, and the agent's receipt
        // is for the older version until they read the new one.
        let mut second = first.clone();
        second["body"] = json!("自 12 月 1 日起，X5 指导价下调 8000 元。");
        second["base_version"] = json!(1);
        let (s, v) = sup.call(reqwest::Method::PUT, &format!("/api/v1/articles/{id}"), Some(second)).await;
        assert_eq!(s, StatusCode::OK, "{ctx}: {v}");
        assert_eq!(notices("agent").await.len(), 2, "{ctx}");
        let readers = sup.ok(&format!("/api/v1/articles/{id}/readers")).await;
        assert_eq!((readers["read_current"].as_i64(), readers["read_older"].as_i64()), (Some(0), Some(1)), "{ctx}: {readers}");
        agent.post(&format!("/api/v1/articles/{id}/read"), json!(null)).await;
        let readers = sup.ok(&format!("/api/v1/articles/{id}/readers")).await;
        assert_eq!(readers["read_current"], 1, "{ctx}");

        let (s, _) = agent.get(&format!("/api/v1/articles/{id}/readers")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{ctx}: the readers are the supervisor's");
        let other = app.login("b", Role::Supervisor).await;
        let (s, _) = other.get(&format!("/api/v1/articles/{id}/readers")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{ctx}");
        let (s, _) = other.post(&format!("/api/v1/articles/{id}/read"), json!(null)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{ctx}");
    })
    .await;
}
