//! The CTI event API over HTTP: the PBX reports a call with its tenant's
//! token; the call finds the customer by number in any writing, pops on
//! the agent's event stream, becomes an interaction on a new inquiry case
//! at the hang-up (or on the case the agent attached it to), is wrapped up,
//! and counts in the figures. Repeats change nothing; nothing crosses tenants.

use crate::harness::*;
use domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

fn pbx(app: &App, token: &str) -> Client {
    Client {
        token: Some(token.to_string()),
        ..app.anon()
    }
}

async fn token(admin: &Client) -> String {
    let (status, t) = admin.post("/api/v1/cti/token", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_pbx_call_pops_files_and_wraps_up() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let agent = app.login("a", Role::Agent).await;
        let (status, _) = agent.post("/api/v1/cti/token", json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only an administrator issues the PBX's token");
        let first = token(&admin).await;
        let tok = token(&admin).await;
        assert_ne!(first, tok);
        let pbx_a = pbx(&app, &tok);
        let (status, _) = pbx(&app, &first).post("/api/v1/cti/events", json!({"event": "new"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a replaced token stops working");
        let (status, _) = app.anon().post("/api/v1/cti/events", json!({"event": "new"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // The agent's extension.
        let user = format!("/api/v1/users/{}", agent.user_id);
        let (status, resp) = admin.call(Method::PATCH, &user, Some(json!({"extension": "80 01"}))).await;
        assert_field_error(status, &resp, "extension", "a space in an extension");
        let (status, u) = admin.call(Method::PATCH, &user, Some(json!({"extension": "8001"}))).await;
        assert_eq!((status, u["extension"].as_str()), (StatusCode::OK, Some("8001")), "{u}");
        let sup = app.login("a", Role::Supervisor).await;
        let (status, _) = admin
            .call(Method::PATCH, &format!("/api/v1/users/{}", sup.user_id), Some(json!({"extension": "8001"})))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "one extension, one user");

        let customer = admin
            .create("/api/v1/customers", json!({"name": "王伟", "phones": ["13800138000"]}))
            .await;
        let cid = customer["id"].as_i64().unwrap();

        let bad = [
            (json!({"call_id": "x1"}), "event"),
            (json!({"event": "ring", "call_id": "x1"}), "event"),
            (json!({"event": "new"}), "call_id"),
            (json!({"event": "new", "call_id": "x1", "caller": "1", "callee": "2"}), "direction"),
            (json!({"event": "new", "call_id": "x1", "direction": "inbound", "callee": "2"}), "caller"),
            (json!({"event": "recording", "call_id": "nope", "recording_url": "https://pbx/r.wav"}), "call_id"),
            (json!({"event": "new", "call_id": "x1", "direction": "inbound", "caller": "1", "callee": "2", "at": "yesterday"}), "at"),
            (json!({"event": "new", "call_id": "x1", "direction": "sideways", "caller": "1", "callee": "2"}), "direction"),
        ];
        for (body, field) in bad {
            let (status, resp) = pbx_a.post("/api/v1/cti/events", body.clone()).await;
            assert_field_error(status, &resp, field, &body.to_string());
        }

        // The agent's browser listens before the phone rings.
        let mut stream = agent
            .http
            .get(format!("{}/api/v1/routing/events", agent.base))
            .bearer_auth(agent.token.as_deref().unwrap())
            .send()
            .await
            .expect("events");
        let ring = json!({"event": "new", "call_id": "pbx-1001", "direction": "inbound",
                          "caller": "138-0013-8000", "callee": "4008001234", "queue": "售后", "extension": "8001"});
        let (status, out) = pbx_a.post("/api/v1/cti/events", ring.clone()).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let call = out["call"].clone();
        let id = call["id"].as_i64().unwrap();
        assert_eq!(
            (call["state"].as_str(), call["customer_id"].as_i64(), call["agent_id"].as_i64(), call["number"].as_str()),
            (Some("ringing"), Some(cid), Some(agent.user_id), Some("+8613800138000")),
            "the caller is found by number in another writing: {call}"
        );
        let popped = tokio::time::timeout(Duration::from_secs(5), async {
            let mut seen = String::new();
            while let Ok(Some(chunk)) = stream.chunk().await {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains("event: call") && seen.contains(&format!("\"call\":{id}")) {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(popped, Ok(true), "the ringing call pops on the agent's stream");
        let (status, again) = pbx_a.post("/api/v1/cti/events", ring).await;
        assert_eq!((status, again["changed"].as_bool()), (StatusCode::OK, Some(false)), "a repeat changes nothing");

        let event = |e: &str, extra: Value| {
            let mut b = json!({"event": e, "call_id": "pbx-1001"});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        let (status, out) = pbx_a.post("/api/v1/cti/events", event("answered", json!({"extension": "8001"}))).await;
        assert_eq!((status, out["call"]["state"].as_str()), (StatusCode::OK, Some("answered")), "{out}");
        let (status, resp) = agent.post(&format!("/api/v1/calls/{id}/wrap-up"), json!({"result": "resolved"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "no wrap-up before the hang-up: {resp}");
        let (status, out) = pbx_a.post("/api/v1/cti/events", event("hangup", json!({"cause": "normal_clearing"}))).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let call = &out["call"];
        assert_eq!(call["state"], "ended");
        let case_id = call["case_id"].as_i64().expect("filed on a new case");
        let case = agent.ok(&format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(
            (case["type"].as_str(), case["channel"].as_str(), case["customer_id"].as_i64(), case["assignee_id"].as_i64()),
            (Some("inquiry"), Some("phone"), Some(cid), Some(agent.user_id)),
            "{case}"
        );
        let calls: Vec<&Value> = case["interactions"].as_array().unwrap().iter().filter(|i| i["kind"] == "call").collect();
        assert_eq!(calls.len(), 1, "{case}");
        assert!(calls[0]["ended_at"].is_string() && calls[0]["author_id"] == agent.user_id);
        let (status, resp) = pbx_a.post("/api/v1/cti/events", event("answered", json!({}))).await;
        assert_field_error(status, &resp, "event", "answered after the hang-up");
        let (status, out) = pbx_a
            .post("/api/v1/cti/events", event("recording", json!({"recording_url": "https://pbx.example/rec/1001.wav"})))
            .await;
        assert_eq!((status, out["call"]["recording"].as_str()), (StatusCode::OK, Some("https://pbx.example/rec/1001.wav")));

        // The wrap-up: retyped, noted, resolved, a follow-up call opened.
        let wrap = format!("/api/v1/calls/{id}/wrap-up");
        let (status, resp) = agent.post(&wrap, json!({"result": "maybe"})).await;
        assert_field_error(status, &resp, "result", "unknown result");
        let (status, resp) = agent.post(&wrap, json!({"result": "resolved", "type": "complaint", "category_id": 999999})).await;
        assert_field_error(status, &resp, "category_id", "a missing category");
        let (status, w) = agent
            .post(&wrap, json!({"result": "resolved", "type": "complaint", "notes": "客户反映刹车异响，已安排检测", "follow_up": true}))
            .await;
        assert_eq!(status, StatusCode::OK, "{w}");
        assert!(w["wrapped_up_at"].is_string());
        let case = agent.ok(&format!("/api/v1/cases/{case_id}")).await;
        assert_eq!((case["type"].as_str(), case["status"].as_str()), (Some("complaint"), Some("resolved")), "{case}");
        assert!(case["interactions"].as_array().unwrap().iter().any(|i| i["kind"] == "note" && i["body"].as_str().unwrap().contains("刹车异响")));
        let follow = &case["related"][0];
        assert_eq!((follow["type"].as_str(), follow["customer_id"].as_i64()), (Some("follow_up"), Some(cid)), "{case}");

        // An unknown number nobody answered: no case, one abandoned call.
        let (status, out) = pbx_a
            .post("/api/v1/cti/events", json!({"event": "new", "call_id": "pbx-1002", "direction": "inbound",
                                              "caller": "02155556666", "callee": "4008001234", "queue": "售后", "extension": "8999"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(out["call"]["customer_id"], Value::Null);
        assert!(out["warnings"][0].as_str().unwrap().contains("8999"), "an unknown extension is reported: {out}");
        let (status, out) = pbx_a.post("/api/v1/cti/events", json!({"event": "hangup", "call_id": "pbx-1002"})).await;
        assert_eq!((status, out["call"]["case_id"].clone()), (StatusCode::OK, Value::Null), "{out}");

        // A call the agent attaches to a case while talking is filed there;
        // a hang-up whose "new" was lost is not lost.
        let (status, out) = pbx_a
            .post("/api/v1/cti/events", json!({"event": "answered", "call_id": "pbx-1003", "direction": "inbound",
                                              "caller": "13800138000", "callee": "4008001234", "extension": "8001"}))
            .await;
        assert_eq!((status, out["call"]["state"].as_str()), (StatusCode::OK, Some("answered")), "{out}");
        let third = out["call"]["id"].as_i64().unwrap();
        let (status, resp) = agent.post(&format!("/api/v1/calls/{third}/case"), json!({"case_id": 999999})).await;
        assert_field_error(status, &resp, "case_id", "a missing case");
        let (status, c) = agent.post(&format!("/api/v1/calls/{third}/case"), json!({"case_id": case_id})).await;
        assert_eq!(status, StatusCode::OK, "{c}");
        let (_, out) = pbx_a.post("/api/v1/cti/events", json!({"event": "hangup", "call_id": "pbx-1003"})).await;
        assert_eq!(out["call"]["case_id"], case_id);
        let case = agent.ok(&format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(case["interactions"].as_array().unwrap().iter().filter(|i| i["kind"] == "call").count(), 2);

        // Another tenant: its own token, its own calls.
        let admin_b = app.login("b", Role::Admin).await;
        let pbx_b = pbx(&app, &token(&admin_b).await);
        let (status, out) = pbx_b
            .post("/api/v1/cti/events", json!({"event": "new", "call_id": "pbx-1001", "direction": "inbound",
                                              "caller": "13800138000", "callee": "1", "extension": "8001"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (out["changed"].as_bool(), out["call"]["customer_id"].clone(), out["call"]["agent_id"].clone()),
            (Some(true), Value::Null, Value::Null),
            "tenant a's call, customer and extension are not b's: {out}"
        );
        let agent_b = app.login("b", Role::Agent).await;
        let (status, _) = agent_b.get(&format!("/api/v1/calls/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = agent_b.post(&format!("/api/v1/calls/{id}/case"), json!({"case_id": case_id})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let summary = admin.ok("/api/v1/reports/summary").await;
        let q = summary["calls"].as_array().unwrap().iter().find(|q| q["queue"] == "售后").cloned().unwrap_or_default();
        assert_eq!((q["offered"].as_i64(), q["answered"].as_i64(), q["abandoned"].as_i64()), (Some(2), Some(1), Some(1)), "{summary}");
    })
    .await;
}

/// A PBX that keeps its recordings sends the file itself: it is kept with
/// the call (before or after the hang-up), listed on the case's contact
/// once the call is filed, downloaded by agents of the tenant only.
#[tokio::test]
async fn a_pbx_sends_a_recording_file_kept_with_the_call_and_its_case() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let agent = app.login("a", Role::Agent).await;
        let tok = token(&admin).await;
        let pbx_a = pbx(&app, &tok);
        let (status, _) = admin
            .patch(
                &format!("/api/v1/users/{}", agent.user_id),
                json!({"extension": "8001"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let put = async |token: &str, call: &str, kind: Option<&str>, body: &[u8]| {
            let mut req = reqwest::Client::new()
                .put(format!("{}/api/v1/cti/calls/{call}", app.base))
                .bearer_auth(token)
                .body(body.to_vec());
            if let Some(k) = kind {
                req = req.header("content-type", k);
            }
            let resp = req.send().await.expect("request");
            let status = resp.status();
            let text = resp.text().await.expect("body");
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
            )
        };
        let ring = |id: &str, event: &str| {
            json!({"event": event, "call_id": id, "direction": "inbound", "caller": "13800138000",
                   "callee": "4008001234", "extension": "8001"})
        };
        let wav: Vec<u8> = b"RIFF\x24\0\0\0WAVEfmt "
            .iter()
            .copied()
            .chain((0..4000u32).map(|i| (i * 7 % 251) as u8))
            .collect();

        // Sent while the call is on: kept with the call, filed with it.
        for e in ["new", "answered"] {
            let (status, out) = pbx_a.post("/api/v1/cti/events", ring("rec-1", e)).await;
            assert_eq!(status, StatusCode::OK, "{out}");
        }
        let bad: [(Option<&str>, &[u8], &str, &str); 4] = [
            (None, &wav, "rec-1/recording", "content_type"),
            (
                Some("application/octet-stream"),
                &wav,
                "rec-1/recording",
                "content_type",
            ),
            (Some("audio/wav"), b"", "rec-1/recording", "body"),
            (
                Some("audio/wav"),
                &wav,
                "rec-1/recording?filename=..%2Fetc%2Fpasswd",
                "filename",
            ),
        ];
        for (kind, body, path, field) in bad {
            let (status, resp) = put(&tok, path, kind, body).await;
            assert_field_error(status, &resp, field, path);
        }
        let (status, _) = put(&tok, "nope/recording", Some("audio/wav"), &wav).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no call with this id");
        let (status, _) = put("not-the-token", "rec-1/recording", Some("audio/wav"), &wav).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, call) = put(&tok, "rec-1/recording", Some("audio/wav"), &wav).await;
        assert_eq!(status, StatusCode::OK, "{call}");
        let file = call["recording_file"].clone();
        assert_eq!(
            (
                file["filename"].as_str(),
                file["content_type"].as_str(),
                file["size"].as_i64()
            ),
            (
                Some("recording-rec-1.wav"),
                Some("audio/wav"),
                Some(wav.len() as i64)
            ),
            "{call}"
        );
        let id = call["id"].as_i64().unwrap();
        let (status, out) = pbx_a
            .post(
                "/api/v1/cti/events",
                json!({"event": "hangup", "call_id": "rec-1"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let case_id = out["call"]["case_id"].as_i64().expect("filed");
        let files_on = async |case: i64| -> Vec<Value> {
            let c = agent.ok(&format!("/api/v1/cases/{case}")).await;
            c["interactions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["kind"] == "call")
                .flat_map(|i| i["attachments"].as_array().unwrap().clone())
                .collect()
        };
        assert_eq!(
            files_on(case_id).await,
            vec![file.clone()],
            "the recording is on the filed call"
        );
        let (status, again) = put(&tok, "rec-1/recording", Some("audio/wav"), &wav).await;
        assert_eq!((status, &again["recording_file"]), (StatusCode::OK, &file));
        assert_eq!(
            files_on(case_id).await.len(),
            1,
            "the same file again changes nothing"
        );

        // Downloaded as it came, by the tenant's agents only.
        let http = reqwest::Client::new();
        let get = async |c: &Client, call: i64| {
            let resp = http
                .get(format!("{}/api/v1/calls/{call}/recording", app.base))
                .bearer_auth(c.token.as_deref().unwrap())
                .send()
                .await
                .expect("request");
            let kind = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            (
                resp.status(),
                kind,
                resp.bytes().await.expect("body").to_vec(),
            )
        };
        let (status, kind, bytes) = get(&agent, id).await;
        assert_eq!(
            (status, kind.as_deref(), bytes == wav),
            (StatusCode::OK, Some("audio/wav"), true)
        );
        let sha = file["sha256"].as_str().unwrap();
        let (status, _) = agent.get(&format!("/api/v1/attachments/{sha}")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the case's attachment downloads too"
        );
        let agent_b = app.login("b", Role::Agent).await;
        assert_eq!(
            get(&agent_b, id).await.0,
            StatusCode::NOT_FOUND,
            "not another tenant's"
        );
        let admin_b = app.login("b", Role::Admin).await;
        let (status, _) = put(
            &token(&admin_b).await,
            "rec-1/recording",
            Some("audio/wav"),
            &wav,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "tenant b's PBX does not reach a's call"
        );

        // Sent after the hang-up, under the PBX's name: listed at once.
        for e in ["answered", "hangup"] {
            let (status, out) = pbx_a.post("/api/v1/cti/events", ring("rec-2", e)).await;
            assert_eq!(status, StatusCode::OK, "{out}");
        }
        let (status, no_file) = agent.get("/api/v1/calls/0/recording").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{no_file}");
        let mp3 = b"ID3\x04\0\0\0\0\0\0 another recording".to_vec();
        let (status, call) = put(
            &tok,
            "rec-2/recording?filename=%E7%8E%8B%E4%BC%9F.mp3",
            Some("audio/mpeg"),
            &mp3,
        )
        .await;
        assert_eq!(
            (status, call["recording_file"]["filename"].as_str()),
            (StatusCode::OK, Some("王伟.mp3")),
            "{call}"
        );
        let second = call["id"].as_i64().unwrap();
        let (status, before) = agent.get(&format!("/api/v1/calls/{second}")).await;
        assert_eq!(
            (status, before["recording_file"]["content_type"].as_str()),
            (StatusCode::OK, Some("audio/mpeg"))
        );
        let case2 = call["case_id"].as_i64().unwrap();
        let names: Vec<String> = files_on(case2)
            .await
            .iter()
            .map(|f| f["filename"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["王伟.mp3"]);
        assert_eq!(get(&agent, second).await.2, mp3);
    })
    .await;
}

/// The hang-up may report the seconds talked (Asterisk's billsec): the
/// answer is dated by it, and a call whose "answered" never arrived is a
/// call someone took, not an abandoned one.
#[tokio::test]
async fn a_hang_up_reports_the_talk_and_recovers_a_lost_answer() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let agent = app.login("a", Role::Agent).await;
        let pbx_a = pbx(&app, &token(&admin).await);
        let (status, _) = admin
            .patch(&format!("/api/v1/users/{}", agent.user_id), json!({"extension": "8001"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let event = |id: &str, e: &str, at: &str, extra: Value| {
            let mut b = json!({"event": e, "call_id": id, "direction": "inbound", "caller": "13800138000",
                               "callee": "4008001234", "at": at});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        let bad = [
            ("hangup", json!({"duration": -1})),
            ("hangup", json!({"duration": 86_401})),
            ("hangup", json!({"duration": "about a minute"})),
            ("hangup", json!({"duration": 1.5})),
            ("new", json!({"duration": 30})),
        ];
        for (e, extra) in bad {
            let (status, resp) =
                pbx_a.post("/api/v1/cti/events", event("t-0", e, "2026-12-01T08:00:00Z", extra.clone())).await;
            assert_field_error(status, &resp, "duration", &extra.to_string());
        }

        // "answered" lost: the hang-up's talk and extension say who took it, and when.
        let (status, _) = pbx_a.post("/api/v1/cti/events", event("t-1", "new", "2026-12-01T08:00:00Z", json!({}))).await;
        assert_eq!(status, StatusCode::OK);
        let (status, out) = pbx_a
            .post("/api/v1/cti/events", event("t-1", "hangup", "2026-12-01T08:05:00Z", json!({"duration": 95, "extension": "8001"})))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let call = &out["call"];
        assert_eq!(
            (call["answered_at"].as_str(), call["agent_id"].as_i64()),
            (Some("2026-12-01T08:03:25Z"), Some(agent.user_id)),
            "{out}"
        );
        let case = agent.ok(&format!("/api/v1/cases/{}", call["case_id"].as_i64().expect("filed"))).await;
        assert_eq!(case["assignee_id"].as_i64(), Some(agent.user_id), "{case}");
        let filed = case["interactions"].as_array().unwrap().iter().find(|i| i["kind"] == "call").cloned().unwrap();
        assert_eq!(filed["started_at"].as_str(), Some("2026-12-01T08:03:25Z"), "the talk began at the answer");

        // Heard as it happened: the PBX's count (here as text) still dates it.
        for (e, at, extra) in [
            ("new", "2026-12-01T09:00:00Z", json!({})),
            ("answered", "2026-12-01T09:00:12Z", json!({"extension": "8001"})),
        ] {
            let (status, _) = pbx_a.post("/api/v1/cti/events", event("t-2", e, at, extra)).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, out) = pbx_a
            .post("/api/v1/cti/events", event("t-2", "hangup", "2026-12-01T09:02:00Z", json!({"duration": "110"})))
            .await;
        assert_eq!((status, out["call"]["answered_at"].as_str()), (StatusCode::OK, Some("2026-12-01T09:00:10Z")), "{out}");

        // No talk reported: nobody answered, the call is abandoned.
        let (_, _) = pbx_a.post("/api/v1/cti/events", event("t-3", "new", "2026-12-01T10:00:00Z", json!({}))).await;
        let (status, out) = pbx_a
            .post("/api/v1/cti/events", event("t-3", "hangup", "2026-12-01T10:00:40Z", json!({"duration": 0})))
            .await;
        assert_eq!((status, &out["call"]["answered_at"], &out["call"]["case_id"]), (StatusCode::OK, &Value::Null, &Value::Null));
    })
    .await;
}
