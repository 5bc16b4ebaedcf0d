use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_task_goes_to_the_department_and_the_case_comes_back() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let staff = app.login("a", Role::DepartmentStaff).await;
        let aftersales = app.departments["a.aftersales"].0;
        let quality = app.departments["a.quality"].0;
        let case = agent
            .create("/api/v1/cases", json!({"type": "complaint", "channel": "phone", "subject": "维修质量", "assignee_id": agent.user_id}))
            .await;
        let id = case["id"].as_i64().unwrap();

        let t1 = agent
            .create(&format!("/api/v1/cases/{id}/tasks"), json!({"department_id": aftersales, "instructions": "请核实维修记录"}))
            .await;
        let t2 = agent
            .create(&format!("/api/v1/cases/{id}/tasks"), json!({"department_id": quality, "instructions": "请质量部分析", "deadline_at": "2100-01-01"}))
            .await;
        assert_eq!(t1["status"], "open");
        let created = jiff::Timestamp::now();
        let deadline: jiff::Timestamp = t1["deadline_at"].as_str().unwrap().parse().unwrap();
        let hours = (deadline.as_second() - created.as_second()) as f64 / 3600.0;
        assert!((47.9..=48.1).contains(&hours), "default handling deadline of the department: {hours}h");
        assert_eq!(agent.ok(&format!("/api/v1/cases/{id}")).await["status"], "pending_department");
        let (status, body) = agent.post(&format!("/api/v1/cases/{id}/transitions"), json!({"action": "resolve"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "cannot resolve with open tasks: {body}");

        // Department staff see only their own department's tasks.
        let mine = staff.ok("/api/v1/tasks").await;
        let mine: Vec<i64> = mine["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        assert_eq!(mine, vec![t1["id"].as_i64().unwrap()]);
        let t2id = t2["id"].as_i64().unwrap();
        assert_eq!(staff.get(&format!("/api/v1/tasks/{t2id}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(staff.post(&format!("/api/v1/tasks/{t2id}/answer"), json!({"answer": "x"})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(staff.get(&format!("/api/v1/cases/{id}")).await.0, StatusCode::FORBIDDEN);
        let t1id = t1["id"].as_i64().unwrap();
        let view = staff.ok(&format!("/api/v1/tasks/{t1id}")).await;
        assert_eq!(view["case"]["subject"], "维修质量");

        let (status, body) = staff.post(&format!("/api/v1/tasks/{t1id}/answer"), json!({"answer": " "})).await;
        assert_field_error(status, &body, "answer", "empty answer");
        let (status, body) = staff.post(&format!("/api/v1/tasks/{t1id}/answer"), json!({"answer": "已核实，服务站将免费返修"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "answered");
        let (status, _) = staff.post(&format!("/api/v1/tasks/{t1id}/return"), json!({"reason": "again"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "a task settles once");
        assert_eq!(agent.ok(&format!("/api/v1/cases/{id}")).await["status"], "pending_department", "one task still open");

        // The supervisor returns the other one with a reason: the case is back with the center.
        let sup = app.login("a", Role::Supervisor).await;
        let (status, body) = sup.post(&format!("/api/v1/tasks/{t2id}/return"), json!({"reason": "不属于质量部职责"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let detail = agent.ok(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(detail["status"], "open");
        // The case's agent heard both, in the notification area.
        let notes = agent.ok("/api/v1/notifications").await;
        let kinds: Vec<(&str, &str)> = notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["kind"].as_str().unwrap(), n["body"].as_str().unwrap()))
            .collect();
        assert_eq!(kinds, [("task_returned", "不属于质量部职责"), ("task_answered", "已核实，服务站将免费返修")]);
        // Paged, newest first: one at a time reaches the older one, then the end.
        let first = agent.ok("/api/v1/notifications?limit=1").await;
        assert_eq!(first["items"][0]["kind"], "task_returned");
        let cursor = first["next_cursor"].as_str().expect("a next page").to_string();
        let second = agent.ok(&format!("/api/v1/notifications?limit=1&cursor={cursor}")).await;
        assert_eq!(second["items"][0]["kind"], "task_answered", "{second}");
        let cursor = second["next_cursor"].as_str().unwrap_or_default().to_string();
        let end = agent.ok(&format!("/api/v1/notifications?limit=1&cursor={cursor}")).await;
        assert_eq!((end["items"].clone(), end["next_cursor"].clone()), (json!([]), Value::Null));
        // A note mentioning colleagues (an e-mail address is no mention) tells them.
        let (status, _) = agent
            .post(&format!("/api/v1/cases/{id}/interactions"), json!({"kind": "note", "body": "@a.supervisor 请看 @A.Agent 客户 wang@a.team_leader.cn"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let sup_notes = sup.ok("/api/v1/notifications").await;
        assert_eq!(sup_notes["items"][0]["kind"], "mention", "{sup_notes}");
        assert_eq!(sup_notes["items"][0]["case_id"], id);
        assert_eq!(agent.ok("/api/v1/notifications").await["items"].as_array().unwrap().len(), 2, "no notice of one's own mention");
        let lead = app.login("a", Role::TeamLeader).await;
        assert_eq!(lead.ok("/api/v1/notifications").await["items"], json!([]));
        let sup_b = app.login("b", Role::Supervisor).await;
        assert_eq!(sup_b.ok("/api/v1/notifications").await["items"], json!([]));
        let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"task_answered") && kinds.contains(&"task_returned"), "{kinds:?}");
        let returned = detail["events"].as_array().unwrap().iter().find(|e| e["kind"] == "task_returned").unwrap();
        assert_eq!(returned["data"]["text"], "不属于质量部职责");

        let filtered = sup.ok("/api/v1/tasks?status=returned").await;
        assert_eq!(filtered["items"].as_array().unwrap().len(), 1);

        for (body, field) in [
            (json!({"department_id": 999_999, "instructions": "x"}), "department_id"),
            (json!({"department_id": app.departments["b.aftersales"].0, "instructions": "x"}), "department_id"),
            (json!({"department_id": aftersales, "instructions": ""}), "instructions"),
            (json!({"department_id": aftersales, "instructions": "x", "deadline_at": "2001-01-01"}), "deadline_at"),
        ] {
            let (status, resp) = agent.post(&format!("/api/v1/cases/{id}/tasks"), body.clone()).await;
            assert_field_error(status, &resp, field, &body.to_string());
        }
    })
    .await;
}
