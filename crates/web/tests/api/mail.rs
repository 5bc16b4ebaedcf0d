//! The e-mail channel's API: addresses, templates, replies and the outbox.

use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_agent_replies_from_a_template_and_bad_input_names_the_field() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let agent = app.login("a", Role::Agent).await;
        let ctx = app.backend;
        admin
            .create(
                "/api/v1/mail/addresses",
                json!({"address": "Service@A.example", "display_name": "A 客服", "language": "zh-CN"}),
            )
            .await;
        let (status, _) = admin
            .post(
                "/api/v1/mail/addresses",
                json!({"address": "service@a.example", "display_name": "again"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{ctx}");
        for (body, field) in [
            (json!({"address": "nope", "display_name": "x"}), "address"),
            (
                json!({"address": "x@a.example", "display_name": "x", "reply_hours": 0}),
                "reply_hours",
            ),
            (
                json!({"address": "x@a.example", "display_name": "x", "language": "fr"}),
                "language",
            ),
        ] {
            let (status, v) = admin.post("/api/v1/mail/addresses", body).await;
            assert_field_error(status, &v, field, ctx);
        }
        let (status, v) = admin
            .post(
                "/api/v1/mail/templates",
                json!({"kind": "reply", "name": "x", "language": "en", "subject": "s", "body": "Hi {{customr_name}}"}),
            )
            .await;
        assert_field_error(status, &v, "body", ctx);
        let template = admin
            .create(
                "/api/v1/mail/templates",
                json!({"kind": "reply", "name": "已处理", "language": "zh-CN", "subject": "关于 {{subject}}",
                       "body": "{{customer_name}}，您好：\n工单 {{case_number}} 已处理。\n{{agent_name}}"}),
            )
            .await;

        let customer = agent
            .create(
                "/api/v1/customers",
                json!({"name": "赵敏", "emails": ["zhao.min@example.cn"]}),
            )
            .await;
        let case = agent
            .create(
                "/api/v1/cases",
                json!({"type": "inquiry", "channel": "phone", "subject": "保养预约", "customer_id": customer["id"]}),
            )
            .await;
        let id = case["id"].as_i64().unwrap();
        let number = case["number"].as_str().unwrap();
        let path = format!("/api/v1/cases/{id}/replies");
        for (body, field) in [
            (json!({"body": "x", "cc": ["not-an-address"]}), "cc[0]"),
            (json!({"body": " "}), "body"),
            (json!({"body": "x", "then": "explode"}), "then"),
            (json!({"template_id": 999_999}), "template_id"),
            (
                json!({"body": "x", "attachments": [{"filename": "a.txt", "data": "%%%"}]}),
                "attachments[0].data",
            ),
        ] {
            let (status, v) = agent.post(&path, body.clone()).await;
            assert_field_error(status, &v, field, &format!("{ctx} {body}"));
        }

        let rendered = agent
            .ok(&format!("/api/v1/cases/{id}/templates/{}", template["id"]))
            .await;
        assert!(rendered["body"].as_str().unwrap().starts_with("赵敏，您好"), "{rendered}");

        let queued = agent
            .create(
                &path,
                json!({"template_id": template["id"], "then": "wait_for_customer"}),
            )
            .await;
        assert_eq!(queued["to"], json!(["zhao.min@example.cn"]));
        assert_eq!(
            queued["subject"],
            format!("关于 保养预约 [#{number}]"),
            "{ctx}"
        );
        let mail = agent.ok(&format!("/api/v1/cases/{id}/mail")).await;
        assert_eq!(mail["items"][0]["status"], "queued", "{ctx}");
        let detail = agent.ok(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(detail["status"], "pending_customer");
        let sent = detail["interactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "email" && i["direction"] == "outbound")
            .expect("the reply on the timeline");
        assert!(sent["body"].as_str().unwrap().contains(&format!("工单 {number} 已处理")));

        // The outbox is the supervisors' to watch, not the agents'.
        let (status, _) = agent.get("/api/v1/mail/outbound").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let supervisor = app.login("a", Role::Supervisor).await;
        let outbound = supervisor.ok("/api/v1/mail/outbound").await;
        assert_eq!(outbound["items"].as_array().unwrap().len(), 1, "{ctx}");
    })
    .await;
}

#[tokio::test]
async fn mail_settings_are_checked_and_kept() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let ctx = app.backend;
        for (body, field) in [
            (json!({"faq_url": "ftp://help.example"}), "faq_url"),
            (json!({"closed_reply": "ignore"}), "closed_reply"),
        ] {
            let (status, v) = admin
                .call(reqwest::Method::PUT, "/api/v1/mail/settings", Some(body))
                .await;
            assert_field_error(status, &v, field, ctx);
        }
        let (status, v) = admin
            .call(
                reqwest::Method::PUT,
                "/api/v1/mail/settings",
                Some(json!({"closed_reply": "follow_up", "faq_url": "https://help.example/faq"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ctx}: {v}");
        assert_eq!(
            admin.ok("/api/v1/mail/settings").await,
            json!({"closed_reply": "follow_up", "faq_url": "https://help.example/faq"})
        );
        // An empty link removes it; the other setting stays.
        admin
            .call(
                reqwest::Method::PUT,
                "/api/v1/mail/settings",
                Some(json!({"faq_url": ""})),
            )
            .await;
        assert_eq!(
            admin.ok("/api/v1/mail/settings").await,
            json!({"closed_reply": "follow_up", "faq_url": null})
        );
    })
    .await;
}

#[tokio::test]
async fn mailboxes_are_checked_field_by_field_and_never_show_their_password() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let ctx = app.backend;
        let good = json!({"host": "imap.a.example", "username": "service", "password": "pa ss", "move_to": "Done"});
        // Mail from a mailbox needs an address to count as sent to.
        let (status, v) = admin.post("/api/v1/mail/mailboxes", good.clone()).await;
        assert_field_error(status, &v, "address_id", ctx);
        admin
            .create(
                "/api/v1/mail/addresses",
                json!({"address": "service@a.example", "display_name": "A"}),
            )
            .await;
        let with = |k: &str, v: serde_json::Value| {
            let mut b = good.clone();
            b[k] = v;
            b
        };
        for (body, field) in [
            (with("host", json!("imap a")), "host"),
            (with("security", json!("ssl")), "security"),
            (with("port", json!(0)), "port"),
            (with("folder", json!("收件箱")), "folder"),
            (with("move_to", json!("INBOX")), "move_to"),
            (with("poll_seconds", json!(0)), "poll_seconds"),
            (with("max_message_mb", json!(0)), "max_message_mb"),
            (with("password", json!("")), "password"),
            (with("address_id", json!(999_999)), "address_id"),
        ] {
            let (status, v) = admin.post("/api/v1/mail/mailboxes", body).await;
            assert_field_error(status, &v, field, ctx);
        }
        let m = admin.create("/api/v1/mail/mailboxes", good.clone()).await;
        assert_eq!(
            (&m["port"], &m["security"], &m["folder"], &m["enabled"]),
            (&json!(993), &json!("tls"), &json!("INBOX"), &json!(true)),
            "{ctx}"
        );
        assert!(m.get("password").is_none(), "{ctx}: {m}");
        let id = m["id"].as_i64().unwrap();

        // A change without a password keeps the one stored.
        let (status, v) = admin
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/mail/mailboxes/{id}"),
                Some(json!({"host": "imap2.a.example", "username": "service", "security": "starttls"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ctx}: {v}");
        assert_eq!((&v["port"], &v["move_to"]), (&json!(143), &json!(null)), "{ctx}");
        let now = jiff::Timestamp::now();
        let logins = app.store.claim_mailboxes("test", now, now).await.unwrap();
        let login = logins.iter().find(|l| l.mailbox.id == id).unwrap();
        assert_eq!(login.password, "pa ss", "{ctx}");
        assert_eq!(login.mailbox.settings.host, "imap2.a.example", "{ctx}");

        // Another tenant's administrator cannot see or change it.
        let other = app.login("b", Role::Admin).await;
        assert_eq!(other.ok("/api/v1/mail/mailboxes").await["items"], json!([]), "{ctx}");
        let (status, _) = other
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/mail/mailboxes/{id}"),
                Some(good.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}");
    })
    .await;
}
