//! The staffing calculator over the API: Erlang C for one load, Erlang A
//! per interval of a forecast, each with the simulator's check; mistakes
//! answer 422 naming the field.

use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn agents_needed_for_a_load_and_for_a_forecast() {
    each_backend(|app| async move {
        let sup = app.login("a", Role::Supervisor).await;
        // The published example: 100 calls per half hour of 3 minutes,
        // 80 % in 20 seconds takes 14 agents (88.8 %).
        let (status, plan) = sup
            .post("/api/v1/staffing", json!({"aht_secs": 180, "calls_per_hour": 200}))
            .await;
        assert_eq!(status, StatusCode::OK, "{plan}");
        assert_eq!(plan["model"], "erlang_c");
        let row = &plan["rows"][0];
        assert_eq!(row["need"]["agents"], 14);
        let formula = row["need"]["sl_offered"].as_f64().unwrap();
        let simulated = row["simulated"]["sl_offered"].as_f64().unwrap();
        assert!((formula - 0.888).abs() < 0.001, "{plan}");
        assert!((simulated - formula).abs() < 0.05, "{plan}");

        // A morning's forecast with impatient callers: more calls, more agents.
        let (status, plan) = sup
            .post(
                "/api/v1/staffing",
                json!({"aht_secs": 240, "patience_secs": 90, "start": "08:00", "interval_minutes": 30,
                       "forecast": "time,calls\n08:00,30\n08:30,90\n09:30,60\n", "check": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{plan}");
        assert_eq!(plan["model"], "erlang_a");
        let rows = plan["rows"].as_array().unwrap();
        let times: Vec<&str> = rows.iter().map(|r| r["interval"].as_str().unwrap()).collect();
        assert_eq!(times, ["08:00", "08:30", "09:00", "09:30"]);
        let agents: Vec<i64> = rows.iter().map(|r| r["need"]["agents"].as_i64().unwrap()).collect();
        assert!(agents[1] > agents[3] && agents[3] > agents[0] && agents[2] == 0, "{agents:?}");
        assert!(rows.iter().all(|r| r["simulated"].is_null()));
        let hours: i64 = agents.iter().sum();
        assert_eq!(plan["agent_hours"].as_f64().unwrap(), hours as f64 / 2.0);

        for (body, field) in [
            (json!({"aht_secs": 180, "calls_per_hour": 200, "target_sl": 1.5}), "target_sl"),
            (json!({"aht_secs": 0, "calls_per_hour": 200}), "aht"),
            (json!({"aht_secs": 180}), "calls_per_hour"),
            (json!({"aht_secs": 180, "forecast": "08:10,5\n", "start": "08:00"}), "forecast"),
            (json!({"aht_secs": 180, "calls_per_hour": 10, "interval_minutes": 20}), "interval_minutes"),
        ] {
            let (status, resp) = sup.post("/api/v1/staffing", body).await;
            assert_field_error(status, &resp, field, "staffing");
        }
        let agent = app.login("a", Role::Agent).await;
        let (status, _) = agent
            .post("/api/v1/staffing", json!({"aht_secs": 180, "calls_per_hour": 200}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    })
    .await;
}
