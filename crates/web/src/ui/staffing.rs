//! The staffing calculator: agents needed for a load or for each interval
//! of a forecast, with the formula's and the simulator's service level,
//! and a chart of the day.

use super::pages::{Page, or_page};
use super::{Chrome, UiAuth, render};
use crate::api::staffing::{Plan, StaffingBody, compute};
use crate::error::ApiError;
use askama::Template;
use axum::extract::Query;
use domain::role::Permission;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct StaffingQuery {
    #[serde(default)]
    calls_per_hour: String,
    #[serde(default)]
    forecast: String,
    #[serde(default)]
    interval: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    aht: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    patience: String,
}

#[derive(Template)]
#[template(path = "staffing.html")]
struct StaffingPage {
    c: Chrome,
    q: StaffingQuery,
    plan: Option<Plan>,
    chart: String,
}

fn number(field: &str, text: &str) -> Result<Option<f64>, ApiError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| ApiError::field(field, "must be a number"))
}

fn body(q: &StaffingQuery) -> Result<StaffingBody, ApiError> {
    Ok(StaffingBody {
        aht_secs: number("aht", &q.aht)?.unwrap_or(0.0),
        target_sl: number("target", &q.target)?.map_or(0.8, |p| p / 100.0),
        sl_threshold_secs: number("threshold", &q.threshold)?.unwrap_or(20.0),
        patience_secs: number("patience", &q.patience)?,
        calls_per_hour: if q.forecast.trim().is_empty() {
            number("calls_per_hour", &q.calls_per_hour)?
        } else {
            None
        },
        forecast: Some(q.forecast.clone()).filter(|f| !f.trim().is_empty()),
        interval_minutes: number("interval", &q.interval)?.map_or(30, |v| v as u32),
        start: Some(q.start.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "00:00".into()),
        check: true,
    })
}

/// Agents per interval as bars, drawn on the server (no script needed).
fn chart(plan: &Plan, label: &str) -> String {
    let n = plan.rows.len();
    if n < 2 {
        return String::new();
    }
    let max = plan
        .rows
        .iter()
        .map(|r| r.need.agents)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (w, h, left, bottom) = (24.0 * n as f64 + 40.0, 220.0, 36.0, 30.0);
    let bar = 24.0;
    let mut svg = format!(
        r#"<svg id="staffing-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">"#
    );
    let plot = h - bottom - 10.0;
    svg += &format!(
        r#"<text x="2" y="14" class="axis">{max}</text><line x1="{left}" y1="10" x2="{left}" y2="{y}" class="axis-line"/>"#,
        max = max as u32,
        y = h - bottom
    );
    for (i, r) in plan.rows.iter().enumerate() {
        let x = left + 4.0 + i as f64 * bar;
        let bh = r.need.agents as f64 / max * plot;
        let y = h - bottom - bh;
        svg += &format!(
            r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" class="bar"><title>{t} · {a}</title></rect>"#,
            bw = bar - 4.0,
            t = r.interval,
            a = r.need.agents
        );
        if r.need.agents > 0 {
            svg += &format!(
                r#"<text x="{cx:.1}" y="{ty:.1}" class="value">{a}</text>"#,
                cx = x + (bar - 4.0) / 2.0,
                ty = y - 3.0,
                a = r.need.agents
            );
        }
        if i % 2 == 0 {
            svg += &format!(
                r#"<text x="{x:.1}" y="{ty}" class="axis">{t}</text>"#,
                ty = h - bottom + 14.0,
                t = r.interval
            );
        }
    }
    svg + "</svg>"
}

pub async fn calculator(ui: UiAuth, Query(q): Query<StaffingQuery>) -> Page {
    let mut c = Chrome::new(&ui, "staffing");
    or_page(&c, ui.0.need(Permission::ViewReports))?;
    let mut plan = None;
    if !q.aht.trim().is_empty() {
        match body(&q) {
            Ok(b) => match compute(b).await {
                Ok(p) => plan = Some(p),
                Err(e @ ApiError::Internal(_)) => or_page(&c, Err::<(), _>(e))?,
                Err(e) => c = c.with_error(Some(e.message())),
            },
            Err(e) => c = c.with_error(Some(e.message())),
        }
    }
    let chart = plan
        .as_ref()
        .map(|p| chart(p, &c.t.get("staffing.chart")))
        .unwrap_or_default();
    Ok(render(&StaffingPage { c, q, plan, chart }))
}
