use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_phone_case_from_first_contact_to_closed() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let customer = agent.create("/api/v1/customers", json!({"name": "李娜", "phones": ["13800138001"]})).await;
        let cid = customer["id"].as_i64().unwrap();
        let case = agent
            .create(
                "/api/v1/cases",
                json!({"type": "complaint", "channel": "phone", "priority": "high", "subject": "维修后仍有异响",
                       "description": "客户情绪激动", "customer_id": cid, "category_id": app.categories["a"].0,
                       "first_contact": {"body": "客户来电投诉", "started_at": "2026-03-02T09:00:00+08:00"}}),
            )
            .await;
        let id = case["id"].as_i64().unwrap();
        let number = case["number"].as_str().unwrap().to_string();
        assert!(number.len() == 11 && number.as_bytes()[4] == b'-', "{number}");
        assert_eq!(case["status"], "new");
        assert_eq!(case["interactions"][0]["kind"], "call");
        assert_eq!(case["interactions"][0]["direction"], "inbound");
        assert_eq!(case["events"][0]["kind"], "created");
        assert_eq!(case["events"][0]["channel"], "phone");

        // Found by number and by customer.
        assert_eq!(agent.ok(&format!("/api/v1/cases/by-number/{number}")).await["id"], id);
        assert_eq!(ids(&agent.ok(&format!("/api/v1/customers/{cid}/cases")).await), vec![id]);

        // Taking it opens it.
        let (status, c) = agent.patch(&format!("/api/v1/cases/{id}"), json!({"assignee_id": agent.user_id})).await;
        assert_eq!(status, StatusCode::OK, "{c}");
        assert_eq!(c["status"], "open");
        assert_eq!(c["assignee_id"], agent.user_id);

        // A note stays internal and is on the timeline.
        let note = agent.create(&format!("/api/v1/cases/{id}/interactions"), json!({"body": "已安抚客户"})).await;
        assert_eq!(note["direction"], "internal");

        let steps = [
            ("wait_for_customer", StatusCode::OK, "pending_customer"),
            ("close", StatusCode::CONFLICT, ""),
            ("resume", StatusCode::OK, "open"),
            ("resolve", StatusCode::OK, "resolved"),
            ("reopen", StatusCode::OK, "open"),
            ("resolve", StatusCode::OK, "resolved"),
            ("close", StatusCode::OK, "closed"),
            ("resolve", StatusCode::CONFLICT, ""),
        ];
        for (action, want, status_after) in steps {
            let (status, body) = agent.post(&format!("/api/v1/cases/{id}/transitions"), json!({"action": action})).await;
            assert_eq!(status, want, "[{}] {action}: {body}", app.backend);
            if want == StatusCode::OK {
                assert_eq!(body["status"], status_after);
            } else {
                assert!(body["message"].as_str().unwrap().contains("cannot"), "{body}");
            }
        }
        let detail = agent.ok(&format!("/api/v1/cases/{id}")).await;
        assert!(detail["closed_at"].is_string());
        let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "status").count(), 7, "{kinds:?}");
        assert!(kinds.contains(&"updated") && kinds.contains(&"interaction"));

        // An inbound contact while waiting for the customer puts the case back to work.
        agent.post(&format!("/api/v1/cases/{id}/transitions"), json!({"action": "reopen"})).await;
        agent.post(&format!("/api/v1/cases/{id}/transitions"), json!({"action": "wait_for_customer"})).await;
        agent.create(&format!("/api/v1/cases/{id}/interactions"), json!({"kind": "email", "body": "客户回复：周三可以到店"})).await;
        assert_eq!(agent.ok(&format!("/api/v1/cases/{id}")).await["status"], "open");

        // Tenant b cannot see or touch it.
        let other = app.login("b", Role::Supervisor).await;
        assert_eq!(other.get(&format!("/api/v1/cases/{id}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(other.get(&format!("/api/v1/cases/by-number/{number}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(other.patch(&format!("/api/v1/cases/{id}"), json!({"subject": "x"})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(other.post(&format!("/api/v1/cases/{id}/transitions"), json!({"action": "resolve"})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(other.post(&format!("/api/v1/cases/{id}/interactions"), json!({"body": "x"})).await.0, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn case_numbers_are_sequential_per_tenant() {
    each_backend(|app| async move {
        let a = app.login("a", Role::Agent).await;
        let b = app.login("b", Role::Agent).await;
        let body = json!({"type": "inquiry", "channel": "phone", "subject": "咨询"});
        let a1 = a.create("/api/v1/cases", body.clone()).await["number"]
            .as_str()
            .unwrap()
            .to_string();
        let a2 = a.create("/api/v1/cases", body.clone()).await["number"]
            .as_str()
            .unwrap()
            .to_string();
        let b1 = b.create("/api/v1/cases", body.clone()).await["number"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            a1.ends_with("-000001") && a2.ends_with("-000002") && b1.ends_with("-000001"),
            "{a1} {a2} {b1}"
        );

        // Concurrent creation never hands out a number twice.
        let mut handles = Vec::new();
        for _ in 0..20 {
            let client = reqwest::Client::new();
            let url = format!("{}/api/v1/cases", a.base);
            let token = a.token.clone().unwrap();
            let body = body.clone();
            handles.push(tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                r.json::<Value>().await.unwrap()["number"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }));
        }
        let mut numbers = Vec::new();
        for h in handles {
            numbers.push(h.await.unwrap());
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 20);
    })
    .await;
}

#[tokio::test]
async fn case_list_filters_and_pages() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let c = agent.create("/api/v1/customers", json!({"name": "客户甲"})).await["id"].as_i64().unwrap();
        let mut made = Vec::new();
        for i in 0..7 {
            let (t, ch) = [("inquiry", "phone"), ("complaint", "email"), ("follow_up", "phone")][i % 3];
            let mut body = json!({"type": t, "channel": ch, "subject": format!("case {i}"), "team_id": app.teams["a"].0});
            if i % 2 == 0 {
                body["customer_id"] = json!(c);
                body["assignee_id"] = json!(agent.user_id);
            }
            made.push(agent.create("/api/v1/cases", body).await["id"].as_i64().unwrap());
        }
        made.reverse();
        let all = agent.ok("/api/v1/cases").await;
        assert_eq!(ids(&all), made);

        let expect = |pred: &dyn Fn(usize) -> bool| -> Vec<i64> {
            let mut v: Vec<i64> = (0..7).filter(|i| pred(*i)).map(|i| made[6 - i]).collect();
            v.sort_by(|a, b| b.cmp(a));
            v
        };
        let table: Vec<(&str, Vec<i64>)> = vec![
            ("type=complaint", expect(&|i| i % 3 == 1)),
            ("channel=phone", expect(&|i| i % 3 != 1)),
            ("status=open", expect(&|i| i % 2 == 0)),
            ("status=new,open", expect(&|_| true)),
            ("status=new", expect(&|i| i % 2 == 1)),
            ("assignee=me", expect(&|i| i % 2 == 0)),
            (&*Box::leak(format!("customer={c}").into_boxed_str()), expect(&|i| i % 2 == 0)),
            (&*Box::leak(format!("team={}", app.teams["a"].0).into_boxed_str()), expect(&|_| true)),
            ("type=complaint&assignee=me", expect(&|i| i % 3 == 1 && i % 2 == 0)),
            ("created_from=2000-01-01&created_to=2100-01-01", expect(&|_| true)),
            ("created_to=2000-01-01", vec![]),
            ("status=resolved", vec![]),
        ];
        for (query, want) in table {
            assert_eq!(ids(&agent.ok(&format!("/api/v1/cases?{query}")).await), want, "[{}] {query}", app.backend);
        }

        // Cursor paging walks every case once.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = agent.ok(&format!("/api/v1/cases?limit=3&cursor={cursor}")).await;
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(seen, made);

        for (query, field) in [("status=lost", "status"), ("type=x", "type"), ("created_from=yesterday", "created_from"), ("cursor=abc", "cursor"), ("assignee=bob", "assignee")] {
            let (status, body) = agent.get(&format!("/api/v1/cases?{query}")).await;
            assert_field_error(status, &body, field, query);
        }
        assert_eq!(agent.get("/api/v1/cases?colour=red").await.0, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test]
async fn bad_case_input_names_the_field() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let admin = app.login("a", Role::Admin).await;
        admin.create("/api/v1/custom-fields", json!({"key": "order_no", "label": "订单号", "kind": "text", "required": false})).await;
        admin.create("/api/v1/custom-fields", json!({"key": "mood", "label": "情绪", "kind": "select", "options": ["calm", "angry"]})).await;
        let other_customer = app.login("b", Role::Agent).await.create("/api/v1/customers", json!({"name": "b's"})).await["id"].clone();
        let ok = json!({"type": "inquiry", "channel": "phone", "subject": "s"});
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            b
        };
        let cases = [
            (json!({"channel": "phone", "subject": "s"}), "type"),
            (json!({"type": "inquiry", "subject": "s"}), "channel"),
            (json!({"type": "inquiry", "channel": "phone"}), "subject"),
            (with("type", json!("chat")), "type"),
            (with("channel", json!("pigeon")), "channel"),
            (with("priority", json!("asap")), "priority"),
            (with("subject", json!("   ")), "subject"),
            (with("customer_id", other_customer), "customer_id"),
            (with("category_id", json!(999_999)), "category_id"),
            (with("assignee_id", json!(999_999)), "assignee_id"),
            (with("custom", json!({"unknown": "x"})), "custom.unknown"),
            (with("custom", json!({"mood": "furious"})), "custom.mood"),
            (with("first_contact", json!({"started_at": "soon"})), "first_contact.started_at"),
        ];
        for (body, field) in cases {
            let (status, resp) = agent.post("/api/v1/cases", body.clone()).await;
            assert_field_error(status, &resp, field, &format!("[{}] {body}", app.backend));
        }
        let case = agent.create("/api/v1/cases", with("custom", json!({"mood": "angry", "order_no": "SO-1"}))).await;
        assert_eq!(case["custom"]["mood"], "angry");
        let id = case["id"].as_i64().unwrap();
        let (status, body) = agent.post(&format!("/api/v1/cases/{id}/transitions"), json!({"action": "fly"})).await;
        assert_field_error(status, &body, "action", "unknown action");
        let (status, body) = agent.post(&format!("/api/v1/cases/{id}/interactions"), json!({"kind": "note", "direction": "outbound", "body": "x"})).await;
        assert_field_error(status, &body, "direction", "outbound note");
        let (status, body) = agent.post(&format!("/api/v1/cases/{id}/interactions"), json!({"kind": "call"})).await;
        assert_field_error(status, &body, "body", "empty call");
        let (status, body) = agent.post(&format!("/api/v1/cases/{id}/links"), json!({"related_id": id})).await;
        assert_field_error(status, &body, "related_id", "self link");
        assert_eq!(agent.get("/api/v1/cases/by-number/12345").await.0, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(agent.get("/api/v1/nothing-here").await.0, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn attachments_are_stored_once_and_related_cases_link_both_ways() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let body = json!({"type": "inquiry", "channel": "fax", "subject": "传真"});
        let a = agent.create("/api/v1/cases", body.clone()).await["id"]
            .as_i64()
            .unwrap();
        let b = agent.create("/api/v1/cases", body).await["id"]
            .as_i64()
            .unwrap();
        // "维修单" as UTF-8, base64.
        let file =
            json!({"filename": "维修单.txt", "content_type": "text/plain", "data": "57u05L+u5Y2V"});
        for case in [a, b] {
            let i = agent
                .create(
                    &format!("/api/v1/cases/{case}/interactions"),
                    json!({"kind": "fax", "body": "客户传真", "attachments": [file.clone()]}),
                )
                .await;
            assert_eq!(i["attachments"][0]["size"], 9);
        }
        let detail = agent.ok(&format!("/api/v1/cases/{a}")).await;
        let sha = detail["interactions"][0]["attachments"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let resp = agent
            .http
            .get(format!("{}/api/v1/attachments/{sha}", agent.base))
            .bearer_auth(agent.token.as_ref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.text().await.unwrap(), "维修单");
        let blobs = app.store.blob_count(app.tenants["a"]).await.expect("count");
        assert_eq!(blobs, 1, "same content stored once");
        let other = app.login("b", Role::Agent).await;
        assert_eq!(
            other.get(&format!("/api/v1/attachments/{sha}")).await.0,
            StatusCode::NOT_FOUND
        );

        assert_eq!(
            agent
                .post(
                    &format!("/api/v1/cases/{a}/links"),
                    json!({"related_id": b})
                )
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            agent.ok(&format!("/api/v1/cases/{b}")).await["related"][0]["id"],
            a
        );
        let (status, body) = agent
            .post(
                &format!("/api/v1/cases/{a}/interactions"),
                json!({"body": "x", "attachments": [{"filename": "a", "data": "!!"}]}),
            )
            .await;
        assert_field_error(status, &body, "attachments[0].data", "bad base64");
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_is_merged_into_the_case_kept() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let wang = agent.create("/api/v1/customers", json!({"name": "王伟", "phones": ["13800138000"]})).await;
        let li = agent.create("/api/v1/customers", json!({"name": "李娜"})).await;
        let case = |subject: &str, channel: &str, customer: &Value| {
            json!({"type": "inquiry", "channel": channel, "subject": subject, "customer_id": customer["id"]})
        };
        let keep = agent.create("/api/v1/cases", case("发票开错了", "email", &wang)).await;
        let dup = agent.create("/api/v1/cases", case("来电：发票问题", "phone", &wang)).await;
        let (kid, did) = (keep["id"].as_i64().unwrap(), dup["id"].as_i64().unwrap());
        agent
            .create(&format!("/api/v1/cases/{did}/interactions"), json!({"kind": "call", "direction": "inbound", "body": "客户来电说发票抬头错了"}))
            .await;
        let dept = app.departments["a.aftersales"].0;
        agent
            .create(&format!("/api/v1/cases/{did}/tasks"), json!({"department_id": dept, "instructions": "重开发票"}))
            .await;
        let other = agent.create("/api/v1/cases", case("别人的事", "phone", &li)).await;
        let b_case = app.login("b", Role::Agent).await.create("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "b"})).await;

        let path = format!("/api/v1/cases/{kid}/merge");
        let refused = [
            (json!({"duplicate_id": kid}), "duplicate_id"),
            (json!({"duplicate_id": other["id"]}), "duplicate_id"),
            (json!({"duplicate_id": b_case["id"]}), "duplicate_id"),
        ];
        for (body, field) in refused {
            let (status, resp) = agent.post(&path, body.clone()).await;
            assert_field_error(status, &resp, field, &body.to_string());
        }
        let (status, merged) = agent.post(&path, json!({"duplicate_id": did})).await;
        assert_eq!(status, StatusCode::OK, "{merged}");
        let bodies: Vec<&str> = merged["interactions"].as_array().unwrap().iter().map(|i| i["body"].as_str().unwrap()).collect();
        assert!(bodies.contains(&"客户来电说发票抬头错了"), "{bodies:?}");
        assert_eq!(merged["tasks"][0]["instructions"], "重开发票");
        assert_eq!(merged["status"], "pending_department", "the open task came along");
        assert!(merged["related"].as_array().unwrap().iter().any(|r| r["id"] == did));
        let kinds: Vec<&str> = merged["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"merged"), "{kinds:?}");
        let gone = agent.ok(&format!("/api/v1/cases/{did}")).await;
        assert_eq!(gone["status"], "closed");
        assert_eq!(gone["interactions"], json!([]));
        let (status, _) = agent.post(&path, json!({"duplicate_id": did})).await;
        assert_eq!(status, StatusCode::CONFLICT, "a closed duplicate merges once");
        let (status, _) = agent
            .post(&format!("/api/v1/cases/{did}/merge"), json!({"duplicate_id": kid}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "nothing merges into a closed case");
        let (status, _) = app.login("a", Role::ClientViewer).await.post(&path, json!({"duplicate_id": other["id"]})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    })
    .await;
}
