//! SLA administration: business calendars (with holidays from an iCalendar
//! feed), the ordered SLA policies, a department's calendar, and the
//! deadline preview an administrator checks a policy with.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json};
use crate::input::instant;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::calendar::{Calendar, CalendarSpec, ExceptionsSpec};
use domain::ids::*;
use domain::policy::PolicySpec;
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// A calendar as the API takes it: a name and the calendar's fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    pub name: String,
    pub timezone: String,
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub exceptions: ExceptionsSpec,
}

impl CalendarBody {
    pub fn spec(self) -> (String, CalendarSpec) {
        (
            self.name,
            CalendarSpec {
                timezone: self.timezone,
                hours: self.hours,
                exceptions: self.exceptions,
            },
        )
    }
}

pub async fn calendars(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok(axum::Json(
        json!({ "items": state.store.calendars(auth.tenant.id).await? }),
    ))
}

pub async fn calendar(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok(axum::Json(
        state.store.calendar(auth.tenant.id, CalendarId(id)).await?,
    ))
}

pub async fn create_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<CalendarBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let (name, spec) = b.spec();
    let id = state
        .store
        .create_calendar(auth.actor(), &name, &spec, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(state.store.calendar(auth.tenant.id, id).await?),
    ))
}

pub async fn update_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<CalendarBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let (name, spec) = b.spec();
    let id = CalendarId(id);
    state
        .store
        .update_calendar(auth.actor(), id, &name, &spec, Timestamp::now())
        .await?;
    Ok(axum::Json(state.store.calendar(auth.tenant.id, id).await?))
}

pub async fn delete_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    state
        .store
        .delete_calendar(auth.actor(), CalendarId(id), Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedBody {
    ics: String,
}

/// Adds the holidays and make-up working days of an iCalendar feed to a
/// calendar: the request body as `text/calendar`, or JSON `{"ics": "…"}`.
pub async fn import_holidays(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let id = CalendarId(id);
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let feed = if json {
        serde_json::from_slice::<FeedBody>(&body)
            .map_err(|e| ApiError::field("ics", e.to_string()))?
            .ics
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| ApiError::field("ics", "is not UTF-8 text"))?
    };
    let (added_holidays, added_workdays) =
        merge_feed(&state, &auth, id, &feed, Timestamp::now()).await?;
    Ok(axum::Json(json!({
        "added_holidays": added_holidays,
        "added_workdays": added_workdays,
        "calendar": state.store.calendar(auth.tenant.id, id).await?,
    })))
}

/// Merges a feed's days into a stored calendar; how many of each were new.
pub async fn merge_feed(
    state: &AppState,
    auth: &Auth,
    id: CalendarId,
    feed: &str,
    now: Timestamp,
) -> Result<(usize, usize), ApiError> {
    let days = domain::ics::read(feed)?;
    let mut cal = state.store.calendar(auth.tenant.id, id).await?;
    let ex = &mut cal.spec.exceptions;
    let add = |list: &mut Vec<String>, new: &[jiff::civil::Date]| {
        let before = list.len();
        list.extend(new.iter().map(|d| d.to_string()));
        list.sort();
        list.dedup();
        list.len() - before
    };
    let holidays = add(&mut ex.holidays, &days.holidays);
    let workdays = add(&mut ex.workdays, &days.workdays);
    // A date the feed makes a working day is no longer a holiday, and the other way round.
    ex.holidays
        .retain(|d| !days.workdays.iter().any(|w| w.to_string() == *d));
    ex.workdays
        .retain(|d| !days.holidays.iter().any(|h| h.to_string() == *d));
    state
        .store
        .update_calendar(auth.actor(), id, &cal.name, &cal.spec, now)
        .await?;
    Ok((holidays, workdays))
}

pub async fn policies(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok(axum::Json(
        json!({ "items": state.store.policies(auth.tenant.id).await? }),
    ))
}

pub async fn policy(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    Ok(axum::Json(
        state.store.policy(auth.tenant.id, PolicyId(id)).await?,
    ))
}

pub async fn create_policy(
    State(state): State<AppState>,
    auth: Auth,
    Json(spec): Json<PolicySpec>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let id = state
        .store
        .create_policy(auth.actor(), &spec, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(state.store.policy(auth.tenant.id, id).await?),
    ))
}

pub async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(spec): Json<PolicySpec>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let id = PolicyId(id);
    state
        .store
        .update_policy(auth.actor(), id, &spec, Timestamp::now())
        .await?;
    Ok(axum::Json(state.store.policy(auth.tenant.id, id).await?))
}

pub async fn delete_policy(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    state
        .store
        .delete_policy(auth.actor(), PolicyId(id), Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    position: i64,
}

pub async fn move_policy(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<MoveBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    state
        .store
        .move_policy(auth.actor(), PolicyId(id), b.position, Timestamp::now())
        .await?;
    Ok(axum::Json(
        json!({ "items": state.store.policies(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentCalendarBody {
    calendar_id: Option<i64>,
}

pub async fn department_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<DepartmentCalendarBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    state
        .store
        .set_department_calendar(
            auth.actor(),
            DepartmentId(id),
            b.calendar_id.map(CalendarId),
            Timestamp::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calendar a preview counts on: a stored one, one written in the
/// request (to try it before saving), or the wall clock.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueBody {
    calendar_id: Option<i64>,
    calendar: Option<CalendarSpec>,
    start: String,
    minutes: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElapsedBody {
    calendar_id: Option<i64>,
    calendar: Option<CalendarSpec>,
    from: String,
    to: String,
}

async fn preview_calendar(
    state: &AppState,
    auth: &Auth,
    id: Option<i64>,
    spec: Option<&CalendarSpec>,
) -> Result<Calendar, ApiError> {
    match spec {
        Some(spec) => Ok(Calendar::parse(spec).map_err(|e| {
            let field = format!("calendar.{}", e.field);
            e.at(field)
        })?),
        None => Ok(state
            .store
            .business_calendar(auth.tenant.id, id.map(CalendarId))
            .await?),
    }
}

/// At most a year of minutes, as a policy's targets.
const MAX_PREVIEW_MINUTES: i64 = 366 * 24 * 60;

pub async fn due(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<DueBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    if !(0..=MAX_PREVIEW_MINUTES).contains(&b.minutes) {
        return Err(ApiError::field(
            "minutes",
            format!("must be between 0 and {MAX_PREVIEW_MINUTES}"),
        ));
    }
    let start = instant("start", &b.start, &auth.tenant)?;
    let cal = preview_calendar(&state, &auth, b.calendar_id, b.calendar.as_ref()).await?;
    let due = cal
        .due(start, b.minutes)
        .map_err(|e| ApiError::field("calendar", e.to_string()))?;
    Ok(axum::Json(json!({
        "start": start,
        "minutes": b.minutes,
        "due_at": due,
        "due_local": cal.show(due),
    })))
}

pub async fn elapsed(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<ElapsedBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    let from = instant("from", &b.from, &auth.tenant)?;
    let to = instant("to", &b.to, &auth.tenant)?;
    let cal = preview_calendar(&state, &auth, b.calendar_id, b.calendar.as_ref()).await?;
    let used = cal
        .elapsed(from, to)
        .map_err(|e| ApiError::field("calendar", e.to_string()))?;
    Ok(axum::Json(json!({
        "from": from,
        "to": to,
        "minutes": used.as_secs_f64() / 60.0,
    })))
}
