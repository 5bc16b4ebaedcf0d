//! Administration beyond users: the catalogue's entries renamed, retired
//! and restored, and an outsourcer's operator running client tenants.

use crate::harness::*;
use domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn reason(body: &Value, field: &str) -> String {
    body["fields"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["field"] == field))
        .and_then(|f| f["reason"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn catalogue_entries_are_renamed_retired_and_restored() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let agent = app.login("a", Role::Agent).await;
        let b_admin = app.login("b", Role::Admin).await;
        let team_a = app.teams["a"].0;

        // Renaming is audited with what changed; a taken name is a conflict.
        let (s, t) = admin.patch(&format!("/api/v1/teams/{team_a}"), json!({"name": "一组（白班）"})).await;
        assert_eq!((s, t["name"].as_str()), (StatusCode::OK, Some("一组（白班）")), "{t}");
        let audit = admin.ok("/api/v1/audit").await;
        assert!(
            audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "team.update"
                && e["data"]["name"] == "一组 → 一组（白班）"),
            "{audit}"
        );
        let dept = app.departments["a.aftersales"].0;
        let (s, _) = admin.patch(&format!("/api/v1/departments/{dept}"), json!({"name": "质量部"})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        // Another tenant's entry does not exist for this administrator.
        let (s, _) = b_admin.patch(&format!("/api/v1/teams/{team_a}"), json!({"name": "x"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Settings that belong to another kind, or out of range, are the field's error.
        let refused = [
            (format!("/api/v1/teams/{team_a}"), json!({"required": true}), "required"),
            (format!("/api/v1/teams/{team_a}"), json!({"label": "x"}), "label"),
            (format!("/api/v1/teams/{team_a}"), json!({"default_deadline_hours": 4}), "default_deadline_hours"),
            (format!("/api/v1/departments/{dept}"), json!({"default_deadline_hours": 0}), "default_deadline_hours"),
            (format!("/api/v1/departments/{dept}"), json!({"name": " "}), "name"),
            (format!("/api/v1/departments/{dept}"), json!({"interface_user_id": 999999}), "interface_user_id"),
        ];
        for (path, body, field) in refused {
            let (s, r) = admin.patch(&path, body.clone()).await;
            assert_field_error(s, &r, field, &format!("{path} {body}"));
        }
        let (s, d) = admin.patch(&format!("/api/v1/departments/{dept}"), json!({"default_deadline_hours": 24})).await;
        assert_eq!((s, d["default_deadline_hours"].as_i64()), (StatusCode::OK, Some(24)), "{d}");
        // Saving again what is already there changes and audits nothing.
        let (s, _) = admin
            .patch(&format!("/api/v1/departments/{dept}"), json!({"default_deadline_hours": 24, "interface_user_id": null}))
            .await;
        assert_eq!(s, StatusCode::OK);
        let audit = admin.ok("/api/v1/audit").await;
        let saves = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "department.update").count();
        assert_eq!(saves, 1, "{audit}");

        // A team with active members is not retired; an empty one is, and is
        // then refused to new users and cases until it is restored.
        let (s, r) = admin.patch(&format!("/api/v1/teams/{team_a}"), json!({"active": false})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        let night = admin.create("/api/v1/teams", json!({"name": "夜班"})).await["id"].as_i64().unwrap();
        let night_queue = json!({"name": "夜间热线", "kinds": ["call"], "teams": [night]});
        let q = admin.create("/api/v1/routing/queues", night_queue.clone()).await["id"].as_i64().unwrap();
        let (s, t) = admin.patch(&format!("/api/v1/teams/{night}"), json!({"active": false})).await;
        assert_eq!((s, t["active"].as_bool()), (StatusCode::OK, Some(false)), "{t}");
        // A queue keeps the retired team it serves; no queue takes it on anew.
        let (s, r) = admin.call(Method::PUT, &format!("/api/v1/routing/queues/{q}"), Some(night_queue)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, r) = admin
            .post("/api/v1/routing/queues", json!({"name": "夜间邮件", "kinds": ["email"], "teams": [night]}))
            .await;
        assert_field_error(s, &r, "teams[0]", "a new queue for a retired team");
        let (s, r) = admin
            .post("/api/v1/users", json!({"username": "night1", "display_name": "夜班一", "role": "agent", "team_id": night}))
            .await;
        assert_field_error(s, &r, "team_id", "a user in a retired team");
        assert_eq!(reason(&r, "team_id"), "is retired");
        let case = json!({"type": "inquiry", "channel": "phone", "subject": "夜间来电", "team_id": night});
        let (s, r) = agent.post("/api/v1/cases", case.clone()).await;
        assert_field_error(s, &r, "team_id", "a case for a retired team");
        let (s, _) = admin.patch(&format!("/api/v1/teams/{night}"), json!({"active": true})).await;
        assert_eq!(s, StatusCode::OK);
        agent.create("/api/v1/cases", case).await;

        // Categories: not while a live one is under it; a case keeps its
        // retired category, and no new case gets it.
        let parent = admin.create("/api/v1/categories", json!({"name": "投诉"})).await["id"].as_i64().unwrap();
        let child = admin
            .create("/api/v1/categories", json!({"name": "服务态度", "parent_id": parent}))
            .await["id"]
            .as_i64()
            .unwrap();
        let kept = agent
            .create("/api/v1/cases", json!({"type": "complaint", "channel": "phone", "subject": "态度差", "category_id": child}))
            .await;
        let kept_id = kept["id"].as_i64().unwrap();
        let (s, r) = admin.patch(&format!("/api/v1/categories/{parent}"), json!({"active": false})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        for id in [child, parent] {
            let (s, r) = admin.patch(&format!("/api/v1/categories/{id}"), json!({"active": false})).await;
            assert_eq!(s, StatusCode::OK, "{r}");
        }
        let (s, r) = agent
            .post("/api/v1/cases", json!({"type": "complaint", "channel": "phone", "subject": "又一个", "category_id": child}))
            .await;
        assert_eq!(reason(&r, "category_id"), "is retired", "{s} {r}");
        let (s, c) = agent.patch(&format!("/api/v1/cases/{kept_id}"), json!({"priority": "high", "category_id": child})).await;
        assert_eq!((s, c["category_id"].as_i64()), (StatusCode::OK, Some(child)), "{c}");
        // A child comes back only under a live parent.
        let (s, r) = admin.patch(&format!("/api/v1/categories/{child}"), json!({"active": true})).await;
        assert_eq!((s, reason(&r, "parent_id")), (StatusCode::UNPROCESSABLE_ENTITY, "is retired".into()), "{r}");
        let cats = agent.ok("/api/v1/categories").await;
        let listed = cats["items"].as_array().unwrap().iter().find(|c| c["id"] == child).cloned();
        assert_eq!(listed.map(|c| c["active"].clone()), Some(json!(false)));

        // Custom fields: label, options and required change; a retired
        // field is neither asked for nor accepted on new cases, and a case
        // keeps its value.
        let field = admin
            .create("/api/v1/custom-fields", json!({"key": "source", "label": "来源", "kind": "select", "options": ["官网", "门店"], "required": true}))
            .await["id"]
            .as_i64()
            .unwrap();
        let path = format!("/api/v1/custom-fields/{field}");
        for (body, field) in [
            (json!({"options": ["官网", "官网"]}), "options[1]"),
            (json!({"options": []}), "options"),
            (json!({"name": "x"}), "name"),
            (json!({"label": ""}), "label"),
        ] {
            let (s, r) = admin.patch(&path, body.clone()).await;
            assert_field_error(s, &r, field, &body.to_string());
        }
        let (s, f) = admin.patch(&path, json!({"label": "线索来源", "options": ["官网", "门店", "热线"]})).await;
        assert_eq!((s, f["label"].as_str()), (StatusCode::OK, Some("线索来源")), "{f}");
        let plain = json!({"type": "inquiry", "channel": "phone", "subject": "无来源"});
        let (s, r) = agent.post("/api/v1/cases", plain.clone()).await;
        assert_field_error(s, &r, "custom.source", "a required field");
        let with = agent
            .create("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "热线来的", "custom": {"source": "热线"}}))
            .await;
        let (s, _) = admin.patch(&path, json!({"active": false})).await;
        assert_eq!(s, StatusCode::OK);
        agent.create("/api/v1/cases", plain).await;
        let (s, r) = agent
            .post("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "x", "custom": {"source": "官网"}}))
            .await;
        assert_eq!(reason(&r, "custom.source"), "is retired", "{s} {r}");
        let id = with["id"].as_i64().unwrap();
        let (s, c) = agent
            .patch(&format!("/api/v1/cases/{id}"), json!({"custom": {"source": "热线"}, "priority": "low"}))
            .await;
        assert_eq!((s, &c["custom"]["source"]), (StatusCode::OK, &json!("热线")), "{c}");

        // A department taken out of use gets no new tasks.
        let temp = admin.create("/api/v1/departments", json!({"name": "临时部"})).await["id"].as_i64().unwrap();
        let (s, _) = admin.patch(&format!("/api/v1/departments/{temp}"), json!({"active": false})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, r) = agent
            .post(&format!("/api/v1/cases/{id}/tasks"), json!({"department_id": temp, "instructions": "请处理"}))
            .await;
        assert_eq!(reason(&r, "department_id"), "is retired", "{s} {r}");

        // Only administrators change the catalogue.
        let (s, _) = agent.patch(&format!("/api/v1/teams/{night}"), json!({"name": "x"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn an_operator_creates_a_client_tenant_and_changes_its_look() {
    each_backend(|app| async move {
        let operator = app.login("a", Role::Operator).await;
        let admin = app.login("a", Role::Admin).await;

        let bad = [
            (json!({"slug": "Acme", "name": "x", "admin_username": "n1", "admin_display_name": "x"}), "slug"),
            (json!({"slug": "acme", "name": "x", "timezone": "Mars/Base", "admin_username": "n1", "admin_display_name": "x"}), "timezone"),
            (json!({"slug": "acme", "name": "x", "region": "XX", "admin_username": "n1", "admin_display_name": "x"}), "region"),
            (json!({"slug": "acme", "name": "", "admin_username": "n1", "admin_display_name": "x"}), "name"),
            (json!({"slug": "acme", "name": "x", "admin_username": "bad name", "admin_display_name": "x"}), "admin_username"),
            // A username taken in any tenant: and no tenant is left behind.
            (json!({"slug": "acme", "name": "x", "admin_username": "a.admin", "admin_display_name": "x"}), "admin_username"),
        ];
        for (body, field) in bad {
            let (s, r) = operator.post("/api/v1/tenants", body.clone()).await;
            assert_field_error(s, &r, field, &body.to_string());
        }
        let list = operator.ok("/api/v1/tenants").await;
        assert!(!list["items"].as_array().unwrap().iter().any(|t| t["slug"] == "acme"), "{list}");

        let made = operator
            .create(
                "/api/v1/tenants",
                json!({"slug": "acme", "name": "Acme 汽车", "timezone": "Asia/Shanghai", "region": "CN", "admin_username": "acme.admin", "admin_display_name": "Acme 管理员"}),
            )
            .await;
        assert_eq!(made["admin"]["role"], "admin");
        let pw = made["password"].as_str().expect("a password made and shown once");
        let (s, _) = operator
            .post("/api/v1/tenants", json!({"slug": "acme", "name": "y", "admin_username": "acme2.admin", "admin_display_name": "y"}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // The new tenant's administrator logs in to an empty tenant of their own.
        let (s, login) = app.anon().post("/api/v1/auth/login", json!({"username": "acme.admin", "password": pw})).await;
        assert_eq!(s, StatusCode::OK, "{login}");
        let acme = Client {
            token: login["token"].as_str().map(String::from),
            user_id: login["user"]["id"].as_i64().unwrap(),
            ..app.anon()
        };
        assert_eq!(acme.ok("/api/v1/cases").await["items"], json!([]));
        assert_eq!(acme.ok("/api/v1/users").await["items"].as_array().unwrap().len(), 1);
        let (s, _) = acme.get("/api/v1/tenants").await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The operator gives it a colour and a new name; the tenant's own
        // audit log says who did it.
        let id = made["tenant"]["id"].as_i64().unwrap();
        let (s, r) = operator.patch(&format!("/api/v1/tenants/{id}"), json!({"brand_color": "red"})).await;
        assert_field_error(s, &r, "brand_color", "a colour by name");
        let (s, t) = operator
            .patch(&format!("/api/v1/tenants/{id}"), json!({"brand_color": "#AA3300", "name": "Acme 汽车服务"}))
            .await;
        assert_eq!((s, t["brand_color"].as_str()), (StatusCode::OK, Some("#aa3300")), "{t}");
        let me = acme.ok("/api/v1/me").await;
        assert_eq!(me["tenant"]["name"], "Acme 汽车服务");
        let audit = acme.ok("/api/v1/audit").await;
        assert!(
            audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "tenant.update"
                && e["data"]["operator"] == "a.operator"),
            "{audit}"
        );
        let (s, t) = operator.patch(&format!("/api/v1/tenants/{id}"), json!({"brand_color": null})).await;
        assert_eq!((s, &t["brand_color"]), (StatusCode::OK, &Value::Null));

        // A tenant's administrator changes their own tenant only.
        let (s, t) = acme.patch("/api/v1/tenant", json!({"timezone": "Europe/Berlin"})).await;
        assert_eq!((s, t["timezone"].as_str()), (StatusCode::OK, Some("Europe/Berlin")), "{t}");
        let b = app.tenants["b"].0;
        let (s, _) = acme.patch(&format!("/api/v1/tenants/{b}"), json!({"name": "mine now"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The operator's reach is handed on by operators only.
        let (s, r) = admin
            .post("/api/v1/users", json!({"username": "op2", "display_name": "x", "role": "operator"}))
            .await;
        assert_field_error(s, &r, "role", "an administrator making an operator");
        let op_id = operator.user_id;
        let (s, r) = admin.patch(&format!("/api/v1/users/{op_id}"), json!({"role": "agent"})).await;
        assert_field_error(s, &r, "role", "an administrator demoting an operator");
        let made = operator
            .create("/api/v1/users", json!({"username": "op2", "display_name": "第二位运营", "role": "operator"}))
            .await;
        assert_eq!(made["user"]["role"], "operator");
    })
    .await;
}
