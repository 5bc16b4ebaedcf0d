//! Staffing: agents needed for one load or per interval of a day's
//! forecast (Erlang C, or Erlang A with a patience), each with the
//! simulator's check beside it. The calculator page uses the same.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Json;
use axum::response::IntoResponse;
use domain::role::Permission;
use domain::simulate::{self, Summary, hhmm};
use domain::staffing::{self, Goal, Load, Prediction};
use serde::{Deserialize, Serialize};

/// A day of 15-minute intervals, at most.
const MAX_INTERVALS: usize = 96;
/// Calls each interval's simulated check runs.
const CHECK_CALLS: u32 = 10_000;

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StaffingBody {
    pub aht_secs: f64,
    #[serde(default = "eighty")]
    pub target_sl: f64,
    #[serde(default = "twenty")]
    pub sl_threshold_secs: f64,
    #[serde(default)]
    pub patience_secs: Option<f64>,
    /// One load; or `forecast`.
    #[serde(default)]
    pub calls_per_hour: Option<f64>,
    /// "HH:MM,calls" per line.
    #[serde(default)]
    pub forecast: Option<String>,
    #[serde(default = "thirty")]
    pub interval_minutes: u32,
    #[serde(default = "midnight")]
    pub start: String,
    #[serde(default = "yes")]
    pub check: bool,
}

fn eighty() -> f64 {
    0.8
}
fn twenty() -> f64 {
    20.0
}
fn thirty() -> u32 {
    30
}
fn midnight() -> String {
    "00:00".into()
}
fn yes() -> bool {
    true
}

#[derive(Serialize, Clone)]
pub struct Row {
    pub interval: String,
    pub calls: f64,
    pub need: Prediction,
    pub simulated: Option<Summary>,
}

#[derive(Serialize, Clone)]
pub struct Plan {
    pub model: &'static str,
    pub rows: Vec<Row>,
    pub agent_hours: f64,
}

/// Works out the plan; the simulated checks run off the async threads.
pub async fn compute(b: StaffingBody) -> Result<Plan, ApiError> {
    let goal = Goal::new(b.target_sl, b.sl_threshold_secs)?;
    Load::new(0.0, b.aht_secs, b.patience_secs)?;
    if ![15, 30, 60].contains(&b.interval_minutes) {
        return Err(ApiError::field("interval_minutes", "must be 15, 30 or 60"));
    }
    let (volumes, interval, start) = match (&b.forecast, b.calls_per_hour) {
        (Some(text), None) if !text.trim().is_empty() => {
            let start = simulate::clock("start", &b.start)?;
            let v = simulate::parse_volumes(text, b.interval_minutes, &b.start)
                .map_err(|e| ApiError::field("forecast", e.to_string()))?;
            if v.len() > MAX_INTERVALS {
                return Err(ApiError::field(
                    "forecast",
                    format!("at most {MAX_INTERVALS} intervals"),
                ));
            }
            (v, b.interval_minutes, start)
        }
        (None, Some(rate)) => (vec![rate], 60, 0),
        _ => {
            return Err(ApiError::field(
                "calls_per_hour",
                "give calls per hour or a forecast",
            ));
        }
    };
    let plan = staffing::plan(
        &volumes,
        interval,
        start,
        b.aht_secs,
        b.patience_secs,
        &goal,
    )?;
    let single = b.forecast.is_none();
    let check = b.check;
    tokio::task::spawn_blocking(move || -> Result<Plan, ApiError> {
        let mut rows = Vec::new();
        for p in plan {
            let simulated = if check && p.calls > 0.0 {
                let load = Load::new(
                    p.calls * 60.0 / interval as f64,
                    b.aht_secs,
                    b.patience_secs,
                )?;
                Some(
                    simulate::check(&load, p.need.agents, b.sl_threshold_secs, CHECK_CALLS, 1)?
                        .total,
                )
            } else {
                None
            };
            rows.push(Row {
                interval: if single {
                    String::new()
                } else {
                    hhmm(p.start_minute)
                },
                calls: p.calls,
                need: p.need,
                simulated,
            });
        }
        let agent_hours = if single {
            0.0
        } else {
            rows.iter()
                .map(|r| r.need.agents as f64 * interval as f64 / 60.0)
                .sum()
        };
        Ok(Plan {
            model: if b.patience_secs.is_some() {
                "erlang_a"
            } else {
                "erlang_c"
            },
            rows,
            agent_hours,
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

pub async fn calculate(
    auth: Auth,
    Json(b): Json<StaffingBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ViewReports)?;
    Ok(axum::Json(compute(b).await?))
}
