//! SLA administration over the API: calendars (with an iCalendar feed), the
//! deadline preview, ordered policies, and the SLA state of cases and tasks
//! in their lists; bad input answers 422 naming the field.

use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn calendars_policies_and_clocks_over_the_api() {
    each_backend(|app| async move {
        let admin = app.login("a", Role::Admin).await;
        let cal = admin
            .create(
                "/api/v1/calendars",
                json!({"name": "office", "timezone": "Asia/Shanghai",
                       "hours": {"mon": ["09:00-12:00", "13:00-18:00"], "tue": ["09:00-12:00", "13:00-18:00"],
                                 "wed": ["09:00-18:00"], "thu": ["09:00-18:00"], "fri": ["09:00-18:00"]}}),
            )
            .await;
        let cal_id = cal["id"].as_i64().unwrap();
        // New Year's Day off, the Saturday after worked (with a weekday's hours).
        let feed = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nSUMMARY:元旦\r\nEND:VEVENT\r\n\
                    BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270102\r\nSUMMARY:元旦 补班\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let (status, imported) = admin
            .post(&format!("/api/v1/calendars/{cal_id}/holidays"), json!({"ics": feed}))
            .await;
        assert_eq!(status, StatusCode::OK, "{imported}");
        assert_eq!((imported["added_holidays"].as_i64(), imported["added_workdays"].as_i64()), (Some(1), Some(1)));

        // Thursday 2026-12-31 17:30 plus two business hours: half an hour that
        // evening, New Year's Day closed, ninety minutes of the make-up Saturday.
        let (status, due) = admin
            .post("/api/v1/sla/due", json!({"calendar_id": cal_id, "start": "2026-12-31T17:30:00+08:00", "minutes": 120}))
            .await;
        assert_eq!(status, StatusCode::OK, "{due}");
        assert_eq!(due["due_local"], "2027-01-02T10:30:00+08:00");
        let (_, used) = admin
            .post("/api/v1/sla/elapsed", json!({"calendar_id": cal_id, "from": "2026-12-31T17:30:00+08:00", "to": "2027-01-02T10:30:00+08:00"}))
            .await;
        assert_eq!(used["minutes"], 120.0);

        let bad = [
            (json!({"name": "x", "timezone": "Mars/Olympus"}), "timezone"),
            (json!({"name": "x", "timezone": "UTC", "hours": {"mon": ["9-18"]}}), "hours.mon[0]"),
            (json!({"name": "x", "timezone": "UTC", "hours": {"monday": ["09:00-18:00"]}}), "hours.monday"),
        ];
        for (body, field) in bad {
            let (status, resp) = admin.post("/api/v1/calendars", body).await;
            assert_field_error(status, &resp, field, "calendar");
        }
        let (status, resp) = admin
            .post("/api/v1/sla-policies", json!({"name": "x", "first_response": {"minutes": 0}}))
            .await;
        assert_field_error(status, &resp, "first_response.minutes", "policy");
        let (status, resp) = admin
            .post("/api/v1/sla-policies", json!({"name": "x", "calendar_id": 999999, "resolution": {"minutes": 60}}))
            .await;
        assert_field_error(status, &resp, "calendar_id", "policy");

        // Two policies; the phone one moved to the front.
        let general = admin
            .create("/api/v1/sla-policies", json!({"name": "general", "first_response": {"minutes": 240, "business": false},
                                                   "resolution": {"minutes": 2400, "business": false}}))
            .await;
        let phone = admin
            .create("/api/v1/sla-policies", json!({"name": "phone", "conditions": {"channels": ["phone"]},
                                                   "resolution": {"minutes": 60, "business": false}}))
            .await;
        let (status, order) = admin
            .post(&format!("/api/v1/sla-policies/{}/position", phone["id"]), json!({"position": 1}))
            .await;
        assert_eq!(status, StatusCode::OK, "{order}");
        let names: Vec<&str> = order["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["phone", "general"]);

        let agent = app.login("a", Role::Agent).await;
        let mail = agent
            .create("/api/v1/cases", json!({"type": "inquiry", "channel": "email", "subject": "发票"}))
            .await;
        assert_eq!(mail["sla_state"], "ok");
        let kinds: Vec<&str> = mail["clocks"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["first_response", "resolution"]);
        let call = agent
            .create("/api/v1/cases", json!({"type": "inquiry", "channel": "phone", "subject": "来电"}))
            .await;
        assert_eq!(call["clocks"].as_array().unwrap().len(), 1, "the phone policy: resolution only");
        // Soonest due first: the phone case's hour before the e-mail's four.
        let list = agent.ok("/api/v1/cases?sla=ok&sort=sla_due").await;
        let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [call["id"].as_i64().unwrap(), mail["id"].as_i64().unwrap()]);
        assert_eq!(agent.ok("/api/v1/cases?sla=breached").await["items"].as_array().unwrap().len(), 0);
        let (status, resp) = agent.get("/api/v1/cases?sla=late").await;
        assert_field_error(status, &resp, "sla", "filter");

        // A task's deadline on the department's calendar, listed by deadline.
        let dept = app.departments["a.aftersales"].0;
        let (status, _) = admin
            .call(reqwest::Method::PUT, &format!("/api/v1/departments/{dept}/calendar"), Some(json!({"calendar_id": cal_id})))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let task = agent
            .create(&format!("/api/v1/cases/{}/tasks", mail["id"]), json!({"department_id": dept, "instructions": "请核实"}))
            .await;
        assert_eq!(task["sla_state"], "ok");
        let tasks = agent.ok("/api/v1/tasks?sla=ok&sort=deadline").await;
        assert_eq!(tasks["items"][0]["id"], task["id"]);
        // A calendar in use cannot go; a policy cases follow cannot go either.
        assert_eq!(admin.call(reqwest::Method::DELETE, &format!("/api/v1/calendars/{cal_id}"), None).await.0, StatusCode::CONFLICT);
        assert_eq!(admin.call(reqwest::Method::DELETE, &format!("/api/v1/sla-policies/{}", general["id"]), None).await.0, StatusCode::CONFLICT);
    })
    .await;
}
