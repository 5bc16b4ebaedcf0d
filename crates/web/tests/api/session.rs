use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn login_logout_and_api_tokens() {
    each_backend(|app| async move {
        let anon = app.anon();
        assert_eq!(anon.get("/healthz").await.0, StatusCode::OK);
        assert_eq!(anon.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
        for (user, pw) in [
            ("a.agent", "wrong-password"),
            ("nobody", PASSWORD),
            ("", ""),
        ] {
            let (status, body) = anon
                .post(
                    "/api/v1/auth/login",
                    json!({"username": user, "password": pw}),
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{user}: {body}");
        }

        let agent = app.login("a", Role::Agent).await;
        let me = agent.ok("/api/v1/me").await;
        assert_eq!(me["user"]["username"], "a.agent");
        assert_eq!(me["tenant"]["slug"], "a");

        // An API token works as a bearer token until revoked.
        let t = agent
            .create("/api/v1/tokens", json!({"name": "crm sync"}))
            .await;
        let mut integration = app.anon();
        integration.token = Some(t["token"].as_str().unwrap().to_string());
        assert_eq!(
            integration.ok("/api/v1/me").await["user"]["username"],
            "a.agent"
        );
        let listed = agent.ok("/api/v1/tokens").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert!(
            listed["items"][0].get("token").is_none(),
            "the secret is shown only once"
        );
        let id = t["id"].as_i64().unwrap();
        let (status, _) = agent
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            integration.get("/api/v1/me").await.0,
            StatusCode::UNAUTHORIZED
        );

        // Logging out ends the session.
        assert_eq!(
            agent.post("/api/v1/auth/logout", json!({})).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(agent.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn deactivated_users_and_password_resets_end_sessions() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let agent = app.login("a", Role::Agent).await;
        let (status, body) = admin
            .patch(
                &format!("/api/v1/users/{}", agent.user_id),
                json!({"active": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(agent.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
        let (status, _) = app
            .anon()
            .post(
                "/api/v1/auth/login",
                json!({"username": "a.agent", "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let lead = app.login("a", Role::TeamLeader).await;
        admin
            .patch(
                &format!("/api/v1/users/{}", lead.user_id),
                json!({"password": "a-new-password"}),
            )
            .await;
        assert_eq!(lead.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
        let (status, _) = app
            .anon()
            .post(
                "/api/v1/auth/login",
                json!({"username": "a.team_leader", "password": "a-new-password"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);

        let (status, body) = admin
            .patch(
                &format!("/api/v1/users/{}", admin.user_id),
                json!({"active": false}),
            )
            .await;
        assert_field_error(status, &body, "active", "self-deactivation");
        let (status, body) = admin
            .patch(
                &format!("/api/v1/users/{}", lead.user_id),
                json!({"password": "short"}),
            )
            .await;
        assert_field_error(status, &body, "password", "short password");
    })
    .await;
}

#[tokio::test]
async fn admins_create_users_with_validation() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let created = admin
            .create("/api/v1/users", json!({"username": "Li.Wei", "display_name": "李伟", "role": "agent"}))
            .await;
        assert_eq!(created["user"]["username"], "li.wei");
        let pw = created["password"].as_str().expect("generated password shown once");
        let (status, _) = app.anon().post("/api/v1/auth/login", json!({"username": "li.wei", "password": pw})).await;
        assert_eq!(status, StatusCode::OK);

        let dept_b = app.departments["b.aftersales"].0;
        let cases = [
            (json!({"username": "li.wei", "display_name": "x", "role": "agent"}), None, StatusCode::CONFLICT),
            (json!({"username": "bad name", "display_name": "x", "role": "agent"}), Some("username"), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"username": "ok1", "display_name": "x", "role": "boss"}), Some("role"), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"username": "ok2", "display_name": "x", "role": "department_staff"}), Some("department_id"), StatusCode::UNPROCESSABLE_ENTITY),
            // Another tenant's department does not exist here.
            (json!({"username": "ok3", "display_name": "x", "role": "department_staff", "department_id": dept_b}), Some("department_id"), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"username": "ok4", "role": "agent"}), Some("display_name"), StatusCode::UNPROCESSABLE_ENTITY),
        ];
        for (body, field, want) in cases {
            let (status, resp) = admin.post("/api/v1/users", body.clone()).await;
            assert_eq!(status, want, "{body}: {resp}");
            if let Some(f) = field {
                assert_field_error(status, &resp, f, &body.to_string());
            }
        }
        let audit = admin.ok("/api/v1/audit").await;
        assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "user.create" && e["data"]["username"] == "li.wei"));

        // Changing a user: name, role, team, department; a refused change writes nothing.
        let id = created["user"]["id"].as_i64().unwrap();
        let path = format!("/api/v1/users/{id}");
        let team_a = app.teams["a"].0;
        let dept_a = app.departments["a.aftersales"].0;
        let refused = [
            (json!({"role": "department_staff", "team_id": team_a}), "department_id"),
            (json!({"role": "boss"}), "role"),
            (json!({"team_id": app.teams["b"].0, "display_name": "不该改"}), "team_id"),
            (json!({"department_id": dept_b, "role": "department_staff"}), "department_id"),
            (json!({"display_name": ""}), "display_name"),
            (json!({"extension": "8 1", "role": "team_leader"}), "extension"),
        ];
        for (body, field) in refused {
            let (status, resp) = admin.call(reqwest::Method::PATCH, &path, Some(body.clone())).await;
            assert_field_error(status, &resp, field, &body.to_string());
        }
        let users = admin.ok("/api/v1/users").await;
        let li = users["items"].as_array().unwrap().iter().find(|u| u["id"] == id).unwrap().clone();
        assert_eq!((li["role"].as_str(), li["display_name"].as_str(), &li["team_id"]), (Some("agent"), Some("李伟"), &Value::Null));
        let (status, u) = admin
            .call(reqwest::Method::PATCH, &path, Some(json!({"role": "department_staff", "department_id": dept_a, "display_name": "李伟（售后）"})))
            .await;
        assert_eq!(status, StatusCode::OK, "{u}");
        assert_eq!((u["role"].as_str(), u["department_id"].as_i64()), (Some("department_staff"), Some(dept_a)));
        let (status, u) = admin.call(reqwest::Method::PATCH, &path, Some(json!({"role": "agent", "department_id": null, "team_id": team_a}))).await;
        assert_eq!(status, StatusCode::OK, "{u}");
        assert_eq!((u["department_id"].clone(), u["team_id"].as_i64()), (Value::Null, Some(team_a)));
        let (status, resp) = admin
            .call(reqwest::Method::PATCH, &format!("/api/v1/users/{}", admin.user_id), Some(json!({"role": "agent"})))
            .await;
        assert_field_error(status, &resp, "role", "an administrator demoting themselves");
        let audit = admin.ok("/api/v1/audit").await;
        let updates = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "user.update").count();
        assert_eq!(updates, 2, "one entry per accepted change");
    })
    .await;
}
