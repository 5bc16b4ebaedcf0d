//! SLA administration pages: business calendars (with an .ics upload),
//! the ordered policies, department calendars and the deadline preview.

#![allow(clippy::result_large_err)]

use super::pages::{Page, csrf_ok, or_page};
use super::{Chrome, UiAuth, encode, render};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::FieldError;
use domain::calendar::{Calendar, CalendarSpec, ExceptionsSpec};
use domain::case::{CaseStatus, CaseType, Channel};
use domain::ids::*;
use domain::model::{Department, Team};
use domain::policy::{ClockKind, Conditions, Escalation, PolicySpec, Recipient, Target};
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;
use store::{MailAddress, StoredCalendar, StoredPolicy};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A policy as the list shows it.
pub struct PolicyRow {
    p: StoredPolicy,
    targets: String,
    calendar: String,
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    c: Chrome,
    calendars: Vec<StoredCalendar>,
    policies: Vec<PolicyRow>,
    departments: Vec<Department>,
    q: PreviewQuery,
    result: String,
}

#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    calendar: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    minutes: String,
}

pub(super) fn back(to: &str, r: Result<(), ApiError>) -> Response {
    match r {
        Ok(()) => Redirect::to(to).into_response(),
        Err(e @ (ApiError::Forbidden | ApiError::Internal(_))) => e.into_response(),
        Err(e) => {
            let sep = if to.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{to}{sep}error={}", encode(&e.message()))).into_response()
        }
    }
}

pub async fn overview(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<PreviewQuery>,
) -> Page {
    let c = Chrome::new(&ui, "sla").with_error(q.error.clone());
    or_page(&c, ui.0.need(Permission::Administer))?;
    let tenant = ui.0.tenant.id;
    let calendars = or_page(&c, state.store.calendars(tenant).await)?;
    let name_of = |id: Option<CalendarId>| match id {
        Some(id) => calendars
            .iter()
            .find(|x| x.id == id)
            .map(|x| x.name.clone())
            .unwrap_or_default(),
        None => c.t.get("sla.wall_clock").into_owned(),
    };
    let policies = or_page(&c, state.store.policies(tenant).await)?
        .into_iter()
        .map(|p| PolicyRow {
            targets: ClockKind::ALL
                .iter()
                .filter_map(|k| {
                    p.spec.target(*k).map(|t| {
                        format!(
                            "{} {}{}",
                            c.t.of("clock", k),
                            t.minutes,
                            c.t.get("sla.minutes")
                        )
                    })
                })
                .collect::<Vec<_>>()
                .join(" · "),
            calendar: name_of(p.spec.calendar_id),
            p,
        })
        .collect();
    let departments = or_page(&c, state.store.departments(tenant).await)?;
    let mut result = String::new();
    if !q.start.trim().is_empty() {
        let r = preview(&state, &ui, &q).await;
        match r {
            Ok(text) => result = text,
            Err(e) => return Err(back("/sla", Err(e))),
        }
    }
    Ok(render(&SlaPage {
        c,
        calendars,
        policies,
        departments,
        q,
        result,
    }))
}

async fn preview(state: &AppState, ui: &UiAuth, q: &PreviewQuery) -> Result<String, ApiError> {
    let start = crate::input::instant("start", &q.start, &ui.0.tenant)?;
    let minutes: i64 = q
        .minutes
        .trim()
        .parse()
        .ok()
        .filter(|m| (0..=366 * 24 * 60).contains(m))
        .ok_or_else(|| ApiError::field("minutes", "must be a whole number of minutes"))?;
    let id = q.calendar.trim().parse().ok().map(CalendarId);
    let cal: Calendar = state.store.business_calendar(ui.0.tenant.id, id).await?;
    let due = cal
        .due(start, minutes)
        .map_err(|e| ApiError::field("calendar", e.to_string()))?;
    Ok(cal.show(due))
}

#[derive(Template)]
#[template(path = "sla_calendar.html")]
struct CalendarPage {
    c: Chrome,
    id: Option<i64>,
    name: String,
    timezone: String,
    days: Vec<(&'static str, String)>,
    holidays: String,
    workdays: String,
    special: String,
}

pub async fn calendar_form(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<String>,
    Query(q): Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "sla").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let stored = match id.as_str() {
        "new" => None,
        other => {
            let id = other
                .parse()
                .map(CalendarId)
                .map_err(|_| ApiError::NotFound);
            let id = or_page(&c, id)?;
            Some(or_page(&c, state.store.calendar(ui.0.tenant.id, id).await)?)
        }
    };
    let spec = stored.as_ref().map(|s| s.spec.clone()).unwrap_or_else(|| {
        let office = ["09:00-12:00".to_string(), "13:00-18:00".to_string()];
        CalendarSpec {
            timezone: ui.0.tenant.timezone.clone(),
            hours: DAYS[..5]
                .iter()
                .map(|d| (d.to_string(), office.to_vec()))
                .collect(),
            exceptions: ExceptionsSpec::default(),
        }
    });
    Ok(render(&CalendarPage {
        id: stored.as_ref().map(|s| s.id.0),
        name: stored.map(|s| s.name).unwrap_or_default(),
        timezone: spec.timezone.clone(),
        days: DAYS
            .iter()
            .map(|d| {
                (
                    *d,
                    spec.hours.get(*d).map(|h| h.join(", ")).unwrap_or_default(),
                )
            })
            .collect(),
        holidays: spec.exceptions.holidays.join("\n"),
        workdays: spec.exceptions.workdays.join("\n"),
        special: spec
            .exceptions
            .hours
            .iter()
            .map(|(d, h)| format!("{d} {}", h.join(", ")))
            .collect::<Vec<_>>()
            .join("\n"),
        c,
    }))
}

/// The form's fields: the body as pairs, so checkbox groups keep every value.
pub(super) struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    fn parse(body: &[u8]) -> FormPairs {
        FormPairs(form_urlencoded::parse(body).into_owned().collect())
    }

    /// A posted form of this user's session (its anti-forgery token checked).
    pub(super) fn posted(ui: &UiAuth, body: &[u8]) -> Result<FormPairs, Response> {
        let f = FormPairs::parse(body);
        or_page(
            &Chrome::new(ui, "sla"),
            csrf_ok(&ui.0, Some(&f.one("csrf"))),
        )?;
        Ok(f)
    }

    pub(super) fn one(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// An id picked in a form; empty is none.
    pub(super) fn id(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.one(key).as_str() {
            "" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::field(key, "must be a number")),
        }
    }

    pub(super) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub(super) fn on(&self, key: &str) -> bool {
        !self.one(key).is_empty()
    }
}

/// Words of a list typed in a box: split on commas, semicolons (ASCII or
/// full-width), spaces and line breaks.
pub(super) fn words(text: &str) -> Vec<String> {
    text.split([',', ';', '，', '；', '、', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn calendar_spec(f: &FormPairs) -> Result<(String, CalendarSpec), ApiError> {
    let mut hours = BTreeMap::new();
    for d in DAYS {
        let spans = words(&f.one(&format!("hours_{d}")));
        if !spans.is_empty() {
            hours.insert(d.to_string(), spans);
        }
    }
    let mut own = BTreeMap::new();
    for (i, line) in f.one("special").lines().enumerate() {
        let mut parts = words(line).into_iter();
        let Some(date) = parts.next() else {
            continue;
        };
        let spans: Vec<String> = parts.collect();
        if spans.is_empty() {
            return Err(ApiError::field(
                &format!("special[{}]", i + 1),
                "give the date and its hours: 2026-12-31 09:00-12:00",
            ));
        }
        own.insert(date, spans);
    }
    Ok((
        f.one("name"),
        CalendarSpec {
            timezone: f.one("timezone"),
            hours,
            exceptions: ExceptionsSpec {
                holidays: words(&f.one("holidays")),
                workdays: words(&f.one("workdays")),
                hours: own,
            },
        },
    ))
}

pub async fn save_calendar(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let now = Timestamp::now();
    let r: Result<i64, ApiError> = async {
        ui.0.need(Permission::Administer)?;
        let (name, spec) = calendar_spec(&f)?;
        match id.as_str() {
            "new" => Ok(state
                .store
                .create_calendar(ui.0.actor(), &name, &spec, now)
                .await?
                .0),
            other => {
                let id = other.parse().map_err(|_| ApiError::NotFound)?;
                state
                    .store
                    .update_calendar(ui.0.actor(), CalendarId(id), &name, &spec, now)
                    .await?;
                Ok(id)
            }
        }
    }
    .await;
    Ok(match r {
        Ok(_) => Redirect::to("/sla").into_response(),
        Err(e) => back(&format!("/sla/calendars/{id}"), Err(e)),
    })
}

/// The .ics upload on a calendar's page.
pub async fn upload_holidays(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> Page {
    let c = Chrome::new(&ui, "sla");
    let (mut csrf, mut feed) = (None, String::new());
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.ok(),
            "ics" => feed = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    or_page(&c, csrf_ok(&ui.0, csrf.as_deref()))?;
    let to = format!("/sla/calendars/{id}");
    let r = async {
        ui.0.need(Permission::Administer)?;
        crate::api::sla::merge_feed(&state, &ui.0, CalendarId(id), &feed, Timestamp::now())
            .await
            .map(|_| ())
    }
    .await;
    Ok(back(&to, r))
}

pub async fn delete_calendar(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        state
            .store
            .delete_calendar(ui.0.actor(), CalendarId(id), Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back("/sla", r))
}

#[derive(Template)]
#[template(path = "sla_policy.html")]
struct PolicyPage {
    c: Chrome,
    id: Option<i64>,
    p: PolicySpec,
    calendars: Vec<StoredCalendar>,
    teams: Vec<Team>,
    addresses: Vec<MailAddress>,
    types: &'static [CaseType],
    channels: &'static [Channel],
    recipients: &'static [Recipient],
    kinds: &'static [ClockKind],
    pause_options: [CaseStatus; 2],
    tiers: String,
    tags: String,
}

impl PolicyPage {
    fn minutes(&self, k: &ClockKind) -> String {
        self.p
            .target(*k)
            .map(|t| t.minutes.to_string())
            .unwrap_or_default()
    }

    fn business(&self, k: &ClockKind) -> bool {
        self.p.target(*k).is_none_or(|t| t.business)
    }
}

pub async fn policy_form(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<String>,
    Query(q): Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "sla").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let tenant = ui.0.tenant.id;
    let (id, p) = match id.as_str() {
        "new" => (
            None,
            PolicySpec {
                name: String::new(),
                active: true,
                conditions: Conditions::default(),
                calendar_id: None,
                first_response: None,
                next_response: None,
                resolution: None,
                task: None,
                pause_statuses: vec![CaseStatus::PendingCustomer],
                warn_percent: 80,
                warn_notify: vec![Recipient::Assignee],
                breach: Escalation {
                    notify: vec![Recipient::TeamLeader],
                    raise_priority: true,
                    move_to_team: None,
                },
                notify_any_time: false,
            },
        ),
        other => {
            let id = or_page(
                &c,
                other.parse().map(PolicyId).map_err(|_| ApiError::NotFound),
            )?;
            let stored = or_page(&c, state.store.policy(tenant, id).await)?;
            (Some(id.0), stored.spec)
        }
    };
    Ok(render(&PolicyPage {
        tiers: p.conditions.tiers.join(", "),
        tags: p.conditions.tags.join(", "),
        id,
        p,
        calendars: or_page(&c, state.store.calendars(tenant).await)?,
        teams: or_page(&c, state.store.teams(tenant).await)?,
        addresses: or_page(&c, state.store.mail_addresses(tenant).await)?,
        types: CaseType::ALL,
        channels: Channel::ALL,
        recipients: Recipient::ALL,
        kinds: ClockKind::ALL,
        pause_options: [CaseStatus::PendingCustomer, CaseStatus::PendingDepartment],
        c,
    }))
}

fn policy_spec(f: &FormPairs) -> Result<PolicySpec, ApiError> {
    fn parsed<T>(
        values: Vec<String>,
        parse: impl Fn(&str) -> Result<T, FieldError>,
    ) -> Result<Vec<T>, ApiError> {
        Ok(values
            .iter()
            .map(|v| parse(v))
            .collect::<Result<Vec<_>, _>>()?)
    }
    fn ids(values: Vec<String>, field: &str) -> Result<Vec<i64>, ApiError> {
        values
            .iter()
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::field(field, "is not an id"))
            })
            .collect()
    }
    let target = |k: ClockKind| -> Result<Option<Target>, ApiError> {
        let raw = f.one(&format!("{k}_minutes"));
        if raw.is_empty() {
            return Ok(None);
        }
        let minutes = raw
            .parse()
            .map_err(|_| ApiError::field(&format!("{k}.minutes"), "must be a whole number"))?;
        Ok(Some(Target {
            minutes,
            business: f.on(&format!("{k}_business")),
        }))
    };
    let one_id = |key: &str| -> Result<Option<i64>, ApiError> {
        let v = f.one(key);
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| ApiError::field(key, "is not an id"))
    };
    let label = |v: &str| domain::customer::label("tiers", v);
    Ok(PolicySpec {
        name: f.one("name"),
        active: f.on("active"),
        conditions: Conditions {
            case_types: parsed(f.all("case_types"), CaseType::parse)?,
            channels: parsed(f.all("channels"), Channel::parse)?,
            address_ids: ids(f.all("address_ids"), "conditions.address_ids")?,
            team_ids: ids(f.all("team_ids"), "conditions.team_ids")?
                .into_iter()
                .map(TeamId)
                .collect(),
            tiers: parsed(words(&f.one("tiers")), label)?,
            tags: words(&f.one("tags")),
        },
        calendar_id: one_id("calendar_id")?.map(CalendarId),
        first_response: target(ClockKind::FirstResponse)?,
        next_response: target(ClockKind::NextResponse)?,
        resolution: target(ClockKind::Resolution)?,
        task: target(ClockKind::Task)?,
        pause_statuses: parsed(f.all("pause_statuses"), CaseStatus::parse)?,
        warn_percent: f
            .one("warn_percent")
            .parse()
            .map_err(|_| ApiError::field("warn_percent", "must be between 1 and 99"))?,
        warn_notify: parsed(f.all("warn_notify"), Recipient::parse)?,
        breach: Escalation {
            notify: parsed(f.all("breach_notify"), Recipient::parse)?,
            raise_priority: f.on("raise_priority"),
            move_to_team: one_id("move_to_team")?.map(TeamId),
        },
        notify_any_time: f.on("notify_any_time"),
    })
}

pub async fn save_policy(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let now = Timestamp::now();
    let r = async {
        ui.0.need(Permission::Administer)?;
        let spec = policy_spec(&f)?;
        match id.as_str() {
            "new" => {
                state.store.create_policy(ui.0.actor(), &spec, now).await?;
            }
            other => {
                let id = other.parse().map_err(|_| ApiError::NotFound)?;
                state
                    .store
                    .update_policy(ui.0.actor(), PolicyId(id), &spec, now)
                    .await?;
            }
        }
        Ok(())
    }
    .await;
    Ok(match r {
        Ok(()) => Redirect::to("/sla").into_response(),
        Err(e) => back(&format!("/sla/policies/{id}"), Err(e)),
    })
}

/// Moves a policy up one place, or deletes it.
pub async fn policy_action(
    State(state): State<AppState>,
    ui: UiAuth,
    Path((id, action)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Page {
    FormPairs::posted(&ui, &body)?;
    let now = Timestamp::now();
    let r = async {
        ui.0.need(Permission::Administer)?;
        let id = PolicyId(id);
        match action.as_str() {
            "up" => {
                let p = state.store.policy(ui.0.tenant.id, id).await?;
                state
                    .store
                    .move_policy(ui.0.actor(), id, (p.position - 1).max(1), now)
                    .await?;
            }
            "delete" => state.store.delete_policy(ui.0.actor(), id, now).await?,
            _ => return Err(ApiError::NotFound),
        }
        Ok(())
    }
    .await;
    Ok(back("/sla", r))
}

pub async fn department_calendar(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let cal = f.one("calendar_id").parse().ok().map(CalendarId);
        state
            .store
            .set_department_calendar(ui.0.actor(), DepartmentId(id), cal, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back("/sla", r))
}
