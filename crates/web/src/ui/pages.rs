// Handlers answer with a finished page either way; boxing the error page would only add noise.
#![allow(clippy::result_large_err)]

use super::{Chrome, LANG_COOKIE, Lang, UiAuth, UiLang, encode, error_page, render};
use crate::AppState;
use crate::api::cases::ListQuery;
use crate::api::customers::{LookupQuery, lookup_from};
use crate::api::session::{session_cookie, start_session};
use crate::api::tasks::{TaskQuery, task_filter, visible};
use crate::api::{admin, limit};
use crate::auth::{Auth, SESSION_HOURS};
use crate::error::ApiError;
use crate::extract::Query;
use crate::input::{CaseBody, InteractionBody};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::case::*;
use domain::ids::*;
use domain::model::*;
use domain::role::Permission;
use domain::sla::SlaState;
use domain::task::TaskStatus;
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;
use store::CustomerView;

pub(super) type Page = Result<Response, Response>;

/// Turns an API error into this page's error response.
pub(super) fn or_page<T>(c: &Chrome, r: Result<T, impl Into<ApiError>>) -> Result<T, Response> {
    r.map_err(|e| error_page(c, e.into()))
}

pub(super) fn csrf_ok(auth: &Auth, given: Option<&str>) -> Result<(), ApiError> {
    match (&auth.csrf, given) {
        (Some(want), Some(got)) if want == got => Ok(()),
        _ => Err(ApiError::Forbidden),
    }
}

/// `/`: the signed-in user's own start page, or the login.
pub async fn home(auth: Result<Auth, ApiError>) -> Response {
    match auth {
        Ok(a) => Redirect::to(a.user.role.home()).into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    username: String,
}

pub async fn login_form(UiLang(lang): UiLang) -> Response {
    render(&LoginPage {
        c: Chrome::anonymous(lang, "/login"),
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    Form(f): Form<LoginForm>,
) -> Response {
    match start_session(&state, &f.username, &f.password).await {
        Ok((user, token)) => {
            let cookie = session_cookie(&state, &token, SESSION_HOURS * 3600);
            (
                [(header::SET_COOKIE, cookie)],
                Redirect::to(user.role.home()),
            )
                .into_response()
        }
        Err(ApiError::Unauthorized) => {
            let c = Chrome::anonymous(lang, "/login")
                .with_error(Some(super::Tr(lang).get("login.failed").into_owned()));
            let mut resp = render(&LoginPage {
                c,
                username: f.username,
            });
            *resp.status_mut() = StatusCode::UNAUTHORIZED;
            resp
        }
        Err(e) => error_page(&Chrome::anonymous(lang, "/login"), e),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn logout(State(state): State<AppState>, ui: UiAuth, Form(f): Form<CsrfForm>) -> Page {
    let c = Chrome::new(&ui, "");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    or_page(
        &c,
        state.store.delete_token(&ui.0.user, ui.0.token_id).await,
    )?;
    Ok((
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    back: Option<String>,
}

pub async fn switch_lang(axum::extract::Query(q): axum::extract::Query<LangQuery>) -> Response {
    let lang = Lang::from_code(&q.to).unwrap_or(Lang::En);
    // Only a path on this site, so the switch cannot be used to send people elsewhere.
    let back = q
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub subject: String,
    pub customer: String,
    pub case_type: CaseType,
    pub channel: Channel,
    pub priority: Priority,
    pub status: CaseStatus,
    pub assignee: String,
    pub updated: String,
    /// `ok`, `warning`, … or empty when no SLA applies.
    pub sla: String,
    pub sla_due: String,
    /// Changed since this user last opened it (or theirs and never opened).
    pub new: bool,
}

/// Categories for a pick list, each under its parent's name.
/// The categories offered in a form: the live ones, and the one a case
/// already has (a retired category stays until someone changes it).
pub(super) fn category_choices(cats: &[Category], keep: Option<CategoryId>) -> Vec<(i64, String)> {
    cats.iter()
        .filter(|x| x.active || Some(x.id) == keep)
        .map(|x| (x.id.0, category_label(cats, x)))
        .collect()
}

/// "Parent / Child", as lists and choices name a category.
pub(super) fn category_label(cats: &[Category], x: &Category) -> String {
    let parent = x.parent_id.and_then(|p| cats.iter().find(|y| y.id == p));
    parent_label(parent.map(|p| p.name.as_str()), &x.name)
}

/// A name under its parent's: "Parent / Child" (case and knowledge categories).
pub(super) fn parent_label(parent: Option<&str>, name: &str) -> String {
    match parent {
        Some(p) => format!("{p} / {name}"),
        None => name.to_string(),
    }
}

pub(super) fn case_rows(c: &Chrome, items: &[CaseSummary]) -> Vec<CaseRow> {
    items
        .iter()
        .map(|s| CaseRow {
            id: s.id.0,
            number: s.number.to_string(),
            subject: s.subject.clone(),
            customer: s.customer_name.clone().unwrap_or_default(),
            case_type: s.case_type,
            channel: s.channel,
            priority: s.priority,
            status: s.status,
            assignee: s.assignee_name.clone().unwrap_or_else(|| "—".into()),
            updated: c.time(s.updated_at),
            sla: s
                .sla_state
                .map(SlaState::as_str)
                .unwrap_or_default()
                .to_string(),
            sla_due: s.sla_due_at.map(|t| c.time(t)).unwrap_or_default(),
            new: false,
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct CaseListForm {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "type")]
    case_type: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    sla: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    c: Chrome,
    f: CaseListForm,
    rows: Vec<CaseRow>,
    saved: Vec<store::SavedFilter>,
    query: String,
    statuses: &'static [CaseStatus],
    types: &'static [CaseType],
    channels: &'static [Channel],
    sla_states: &'static [SlaState],
    next_url: Option<String>,
    first_url: String,
}

pub async fn cases(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(f): Query<CaseListForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    if !f.number.trim().is_empty() {
        let n = or_page(&c, CaseNumber::parse(&f.number))?;
        let id = or_page(&c, state.store.case_by_number(ui.0.tenant.id, n).await)?;
        return Ok(Redirect::to(&format!("/cases/{id}")).into_response());
    }
    let q = ListQuery {
        status: Some(f.status.clone()),
        case_type: Some(f.case_type.clone()),
        channel: Some(f.channel.clone()),
        assignee: Some(f.assignee.clone()),
        sla: Some(f.sla.clone()),
        sort: Some(f.sort.clone()),
        cursor: Some(f.cursor.clone()),
        limit: Some(50),
        ..Default::default()
    };
    let filter = or_page(&c, q.filter(&ui.0))?;
    let items = or_page(&c, state.store.list_cases(ui.0.tenant.id, &filter).await)?;
    let base = format!(
        "/cases?status={}&type={}&channel={}&assignee={}&sla={}&sort={}",
        encode(&f.status),
        encode(&f.case_type),
        encode(&f.channel),
        encode(&f.assignee),
        encode(&f.sla),
        encode(&f.sort)
    );
    // Newest first pages by the last id; by SLA due by rows shown.
    let next = match filter.sort {
        CaseSort::Newest => items.last().map(|l| l.id.0),
        CaseSort::SlaDue => Some(i64::from(filter.offset) + items.len() as i64),
    };
    let next_url = (items.len() as u32 >= filter.limit)
        .then(|| next.map(|n| format!("{base}&cursor={n}")))
        .flatten();
    let me = ui.0.user.id;
    let ids: Vec<CaseId> = items.iter().map(|s| s.id).collect();
    let reads = or_page(&c, state.store.case_reads(ui.0.tenant.id, me, &ids).await)?;
    let mut rows = case_rows(&c, &items);
    for (row, s) in rows.iter_mut().zip(&items) {
        row.new = match reads.get(&s.id) {
            Some(read) => s.updated_at > *read,
            None => s.assignee_id == Some(me),
        };
    }
    let saved = or_page(&c, state.store.saved_filters(ui.0.tenant.id, me).await)?;
    // What the save form keeps: the filter, not the page.
    let query = base.trim_start_matches("/cases?").to_string();
    Ok(render(&CasesPage {
        c,
        f,
        rows,
        saved,
        query,
        statuses: CaseStatus::ALL,
        types: CaseType::ALL,
        channels: Channel::ALL,
        sla_states: SlaState::ALL,
        next_url,
        first_url: base,
    }))
}

pub struct TimelineItem {
    pub at: String,
    pub sort: Timestamp,
    pub class: String,
    pub title: String,
    pub who: String,
    pub body: String,
    /// Key, name, and whether it plays in the page (a call's recording).
    pub files: Vec<(String, String, bool)>,
    /// The sanitised HTML of a received e-mail, by the blob holding it.
    pub html: Option<String>,
}

pub struct TaskView {
    pub department_name: String,
    pub id: i64,
    pub case_id: i64,
    pub case_number: String,
    pub case_subject: String,
    pub status: TaskStatus,
    pub open: bool,
    pub deadline: String,
    pub overdue: bool,
    pub instructions: String,
    pub answer: Option<String>,
    pub sla: String,
}

fn task_views(c: &Chrome, tasks: &[DepartmentTask]) -> Vec<TaskView> {
    let now = Timestamp::now();
    tasks
        .iter()
        .map(|t| TaskView {
            department_name: t.department_name.clone(),
            id: t.id.0,
            case_id: t.case_id.0,
            case_number: t.case_number.to_string(),
            case_subject: t.case_subject.clone(),
            status: t.status,
            open: t.status == TaskStatus::Open,
            deadline: c.time(t.deadline_at),
            overdue: t.status == TaskStatus::Open && t.deadline_at < now,
            instructions: t.instructions.clone(),
            answer: t.answer.clone(),
            sla: t
                .sla_state
                .map(SlaState::as_str)
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    case: CaseSummary,
    description: String,
    created: String,
    customer: Option<CustomerView>,
    earlier: Vec<CaseRow>,
    contacts: Vec<ContactRow>,
    /// Open department tasks on the customer's other cases.
    open_tasks: Vec<TaskView>,
    category_choices: Vec<(i64, String)>,
    /// The case's custom field values, by label.
    custom_values: Vec<(String, String)>,
    custom_inputs: Vec<FieldInput>,
    /// Knowledge articles its agents answered from.
    articles: Vec<store::ArticleUse>,
    /// Articles and earlier cases that look like this one.
    suggest: crate::api::search::Suggestions,
    types: &'static [CaseType],
    priorities: &'static [Priority],
    assignee: String,
    mine: bool,
    category: String,
    timeline: Vec<TimelineItem>,
    kinds: &'static [InteractionKind],
    actions: Vec<CaseAction>,
    tasks: Vec<TaskView>,
    departments: Vec<Department>,
    related: Vec<CaseRow>,
    mail: Vec<super::mail::OutboxRow>,
    reply_templates: Vec<store::MailTemplate>,
    /// The tenant has an address to send from.
    can_mail: bool,
    clocks: Vec<ClockRow>,
    /// The call scripts offered, and the one the agent has open.
    script_panel: super::scripts::Panel,
}

impl CasePage {
    fn category_is(&self, id: &i64) -> bool {
        self.case.category_id == Some(CategoryId(*id))
    }
}

/// A custom field as a form shows it.
pub struct FieldInput {
    pub name: String,
    pub label: String,
    /// `text`, `number`, `date` or `select`.
    pub kind: &'static str,
    pub options: Vec<String>,
    pub required: bool,
    pub value: String,
}

/// The tenant's live custom fields, filled with a case's values.
fn custom_inputs(defs: &[CustomFieldDef], values: &BTreeMap<String, String>) -> Vec<FieldInput> {
    defs.iter()
        .filter(|d| d.active)
        .map(|d| FieldInput {
            name: format!("custom.{}", d.key),
            label: d.label.clone(),
            kind: match d.kind {
                FieldKind::Text => "text",
                FieldKind::Number => "number",
                FieldKind::Date => "date",
                FieldKind::Select => "select",
            },
            options: d.options.clone(),
            required: d.required,
            value: values.get(&d.key).cloned().unwrap_or_default(),
        })
        .collect()
}

/// What a case holds in its custom fields, retired ones included.
fn custom_values(
    defs: &[CustomFieldDef],
    values: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    defs.iter()
        .filter_map(|d| Some((d.label.clone(), values.get(&d.key)?.clone())))
        .collect()
}

/// The `custom.{key}` fields of a posted form.
fn posted_custom(extra: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    extra
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("custom.")?.to_string(), v.clone())))
        .collect()
}

/// An earlier contact in the customer 360.
pub struct ContactRow {
    pub at: String,
    pub case_id: i64,
    pub case_number: String,
    pub kind: InteractionKind,
    pub direction: Direction,
    pub who: String,
    pub excerpt: String,
}

/// An SLA clock as the case page lists it.
pub struct ClockRow {
    pub kind: String,
    pub state: &'static str,
    pub target: i64,
    pub started: String,
    pub due: String,
    pub stopped: String,
}

#[derive(Deserialize, Default)]
pub struct ErrorQuery {
    pub(super) error: Option<String>,
}

/// A case page: an error to show, and the call script open in its panel.
#[derive(Deserialize)]
pub struct CaseQuery {
    error: Option<String>,
    script: Option<i64>,
    step: Option<String>,
}

pub async fn case(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<CaseQuery>,
) -> Page {
    let c = Chrome::new(&ui, "cases").with_error(q.error);
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let tenant = ui.0.tenant.id;
    let d = or_page(&c, state.store.case_detail(tenant, CaseId(id)).await)?;
    let script_panel = or_page(
        &c,
        super::scripts::panel(&state, tenant, CaseId(id), q.script, q.step.as_deref()).await,
    )?;
    // The new-marker is no reason to make the page wait for a write.
    let (store, me) = (state.store.clone(), ui.0.user.id);
    tokio::spawn(async move {
        if let Err(e) = store
            .mark_read(tenant, me, CaseId(id), Timestamp::now())
            .await
        {
            tracing::warn!(error = %e, "case not marked read");
        }
    });
    // The customer 360: who they are, what they own and bought, every
    // earlier case and contact across channels, department tasks open.
    let (view, earlier, contacts, open_tasks) = match d.case.summary.customer_id {
        Some(cid) => {
            let view = or_page(&c, state.store.customer_view(tenant, cid).await)?;
            let f = CaseFilter {
                customer_id: Some(cid),
                limit: 9,
                ..Default::default()
            };
            let mut earlier = or_page(&c, state.store.list_cases(tenant, &f).await)?;
            earlier.retain(|x| x.id != CaseId(id));
            earlier.truncate(8);
            let contacts = or_page(
                &c,
                state
                    .store
                    .customer_contacts(tenant, cid, Some(CaseId(id)), 8)
                    .await,
            )?;
            let mut open = or_page(&c, state.store.customer_open_tasks(tenant, cid).await)?;
            open.retain(|t| t.case_id != CaseId(id));
            (Some(view), earlier, contacts, open)
        }
        None => (None, Vec::new(), Vec::new(), Vec::new()),
    };
    let contacts = contacts
        .into_iter()
        .map(|x| ContactRow {
            at: c.time(x.at),
            case_id: x.case_id.0,
            case_number: x.case_number,
            kind: x.kind,
            direction: x.direction,
            who: x.author_name.unwrap_or_default(),
            excerpt: x.excerpt,
        })
        .collect();
    let categories = or_page(&c, state.store.categories(tenant).await)?;
    let category = d
        .case
        .summary
        .category_id
        .and_then(|id| categories.iter().find(|x| x.id == id))
        .map(|x| x.name.clone())
        .unwrap_or_default();
    let mut departments = or_page(&c, state.store.departments(tenant).await)?;
    departments.retain(|d| d.active);
    let fields = or_page(&c, state.store.custom_fields(tenant).await)?;
    let mut timeline: Vec<TimelineItem> = d
        .interactions
        .iter()
        .map(|i| TimelineItem {
            at: c.time(i.started_at),
            sort: i.started_at,
            class: i.kind.to_string(),
            title: match &i.script {
                Some(u) => format!(
                    "{} ({}) · {} {} v{}",
                    c.t.of("kind", i.kind),
                    c.t.of("direction", i.direction),
                    c.t.get("scripts.used"),
                    u.name,
                    u.version
                ),
                None => format!(
                    "{} ({})",
                    c.t.of("kind", i.kind),
                    c.t.of("direction", i.direction)
                ),
            },
            who: i.author_name.clone().unwrap_or_default(),
            body: i.body.clone(),
            files: i
                .attachments
                .iter()
                .map(|a| {
                    let audio = a.content_type.starts_with("audio/");
                    (a.sha256.clone(), a.filename.clone(), audio)
                })
                .collect(),
            html: (i.kind == InteractionKind::Email && i.direction == Direction::Inbound)
                .then(|| {
                    i.attachments
                        .iter()
                        .find(|a| {
                            a.filename == "message.html" && a.content_type.starts_with("text/html")
                        })
                        .map(|a| a.sha256.clone())
                })
                .flatten(),
        })
        .collect();
    for e in d.events.iter().filter(|e| e.kind != "interaction") {
        let body = match e.kind.as_str() {
            "status" => format!(
                "{} → {}",
                c.t.of("status", e.data.get("from").map_or("", |s| s.as_str())),
                c.t.of("status", e.data.get("to").map_or("", |s| s.as_str()))
            ),
            "task_answered" | "task_returned" => e.data.get("text").cloned().unwrap_or_default(),
            "task_created" => e.data.get("instructions").cloned().unwrap_or_default(),
            "sla_policy" => e.data.get("policy").cloned().unwrap_or_default(),
            "merged" | "merged_into" => e.data.get("case").cloned().unwrap_or_default(),
            "sla_warning" | "sla_breached" => {
                c.t.of("clock", e.data.get("clock").map_or("", |s| s.as_str()))
                    .into_owned()
            }
            "escalated" => {
                let what = e.data.get("action").map_or("", |s| s.as_str());
                match what {
                    "notify" => format!(
                        "{} {}",
                        c.t.get("sla.breach_notify"),
                        c.t.of(
                            "recipient",
                            e.data.get("recipient").map_or("", |s| s.as_str())
                        )
                    ),
                    "raise_priority" => format!(
                        "{}: {}",
                        c.t.get("sla.raise_priority"),
                        e.data.get("priority").cloned().unwrap_or_default()
                    ),
                    _ => format!(
                        "{}: {}",
                        c.t.get("sla.move_to_team"),
                        e.data.get("team_id").cloned().unwrap_or_default()
                    ),
                }
            }
            "article_used" => format!(
                "{} ({} {})",
                e.data.get("title").map_or("", |s| s.as_str()),
                c.t.get("kb.version"),
                e.data.get("version").map_or("", |s| s.as_str())
            ),
            "updated" => e
                .data
                .iter()
                .map(|(k, v)| changed_field(&c, &categories, k, v))
                .collect::<Vec<_>>()
                .join("; "),
            _ => String::new(),
        };
        timeline.push(TimelineItem {
            at: c.time(e.at),
            sort: e.at,
            class: "event".into(),
            title: c.t.of("event", &e.kind).into_owned(),
            who: e.actor_name.clone().unwrap_or_default(),
            body,
            files: Vec::new(),
            html: None,
        });
    }
    timeline.sort_by_key(|i| i.sort);
    let mail = or_page(&c, state.store.outbox(tenant, Some(CaseId(id)), 50).await)?
        .into_iter()
        .map(|m| super::mail::OutboxRow::new(&c, m))
        .collect();
    let reply_templates = or_page(&c, state.store.templates(tenant).await)?
        .into_iter()
        .filter(|t| t.kind == domain::template::TemplateKind::Reply)
        .collect();
    let can_mail = !or_page(&c, state.store.mail_addresses(tenant).await)?.is_empty();
    let clocks = d
        .clocks
        .iter()
        .map(|k| ClockRow {
            kind: k.kind.to_string(),
            state: k.state.as_str(),
            target: k.target_minutes,
            started: c.time(k.started_at),
            due: k.due_at.map(|t| c.time(t)).unwrap_or_default(),
            stopped: k.stopped_at.map(|t| c.time(t)).unwrap_or_default(),
        })
        .collect();
    let s = d.case.summary.clone();
    Ok(render(&CasePage {
        earlier: case_rows(&c, &earlier),
        contacts,
        open_tasks: task_views(&c, &open_tasks),
        customer: view,
        category_choices: category_choices(&categories, d.case.summary.category_id),
        custom_values: custom_values(&fields, &d.case.custom),
        custom_inputs: custom_inputs(&fields, &d.case.custom),
        articles: or_page(&c, state.store.case_articles(tenant, CaseId(id)).await)?,
        suggest: or_page(
            &c,
            crate::api::search::suggest_for(&state, &ui.0, CaseId(id), None).await,
        )?,
        types: CaseType::ALL,
        priorities: Priority::ALL,
        created: c.time(s.created_at),
        assignee: s.assignee_name.clone().unwrap_or_else(|| "—".into()),
        mine: s.assignee_id == Some(ui.0.user.id),
        actions: s.status.actions(),
        tasks: task_views(&c, &d.tasks),
        related: case_rows(&c, &d.case.related),
        description: d.case.description.clone(),
        case: s,
        category,
        timeline,
        kinds: InteractionKind::ALL,
        departments,
        mail,
        reply_templates,
        can_mail,
        clocks,
        script_panel,
        c,
    }))
}

/// One change of an "updated" event ("priority": "normal → urgent") in the
/// reader's words.
fn changed_field(c: &Chrome, categories: &[Category], key: &str, change: &str) -> String {
    let Some((from, to)) = change.split_once(" → ") else {
        return format!("{key}: {change}");
    };
    let word = |v: &str| -> String {
        match key {
            "case_type" => c.t.of("type", v).into_owned(),
            "priority" => c.t.of("priority", v).into_owned(),
            "category_id" => v
                .parse()
                .ok()
                .and_then(|id| categories.iter().find(|x| x.id == CategoryId(id)))
                .map_or_else(|| "—".to_string(), |x| x.name.clone()),
            _ => v.to_string(),
        }
    };
    let label = match key {
        "case_type" => c.t.get("case.type"),
        "priority" => c.t.get("case.priority"),
        "category_id" => c.t.get("case.category"),
        "subject" => c.t.get("case.subject"),
        _ => std::borrow::Cow::Owned(key.to_string()),
    };
    format!("{label}: {} → {}", word(from), word(to))
}

/// After a form on the case page: back to it, with the error if there was one.
pub(super) fn back_to_case(id: i64, r: Result<(), ApiError>) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e @ (ApiError::NotFound | ApiError::Forbidden | ApiError::Internal(_))) => {
            e.into_response()
        }
        Err(e) => {
            Redirect::to(&format!("/cases/{id}?error={}", encode(&e.message()))).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct InteractionForm {
    csrf: Option<String>,
    kind: Option<String>,
    body: Option<String>,
    /// The script the agent had open in the case's panel, and where in it:
    /// recorded with the contact, and open again after saving.
    script_version_id: Option<i64>,
    script: Option<i64>,
    step: Option<String>,
}

pub async fn add_interaction(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<InteractionForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let now = Timestamp::now();
        let body = InteractionBody {
            kind: f.kind,
            body: f.body,
            script_version_id: f.script_version_id,
            ..Default::default()
        };
        let input = body.parse(&ui.0.tenant, now)?;
        state
            .store
            .add_interaction(ui.0.actor(), CaseId(id), &input, now)
            .await?;
        Ok(())
    }
    .await;
    match (r, f.script) {
        (Ok(()), Some(script)) => {
            let step = f.step.as_deref().map(encode).unwrap_or_default();
            Ok(Redirect::to(&format!(
                "/cases/{id}?script={script}&step={step}#script-panel"
            ))
            .into_response())
        }
        (r, _) => Ok(back_to_case(id, r)),
    }
}

#[derive(Deserialize)]
pub struct TransitionForm {
    csrf: Option<String>,
    action: String,
}

pub async fn transition(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<TransitionForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let action = CaseAction::parse(&f.action)?;
        state
            .store
            .transition(ui.0.actor(), CaseId(id), action, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_case(id, r))
}

pub async fn take(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let patch = CasePatch {
            assignee_id: Some(Some(ui.0.user.id)),
            ..Default::default()
        };
        state
            .store
            .update_case(ui.0.actor(), CaseId(id), &patch, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_case(id, r))
}

#[derive(Deserialize)]
pub struct OtherCaseForm {
    csrf: Option<String>,
    /// The other case by id (a button beside it) or by number (typed).
    #[serde(default)]
    duplicate_id: String,
    #[serde(default)]
    number: String,
}

/// Merges a duplicate into the case shown.
pub async fn merge(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<OtherCaseForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let dup = match (f.duplicate_id.trim(), f.number.trim()) {
            ("", "") => return Err(ApiError::field("number", "is required")),
            ("", n) => by_number(&state, &ui, CaseNumber::parse(n)?).await?,
            (d, _) => CaseId(
                d.parse()
                    .map_err(|_| ApiError::field("duplicate_id", "must be a number"))?,
            ),
        };
        state
            .store
            .merge_cases(ui.0.actor(), CaseId(id), dup, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_case(id, r))
}

/// A case typed by number into a form; none is the field's error.
pub(super) async fn by_number(
    state: &AppState,
    ui: &UiAuth,
    n: CaseNumber,
) -> Result<CaseId, ApiError> {
    match state.store.case_by_number(ui.0.tenant.id, n).await {
        Err(store::StoreError::NotFound) => Err(ApiError::field("number", "does not exist")),
        r => Ok(r?),
    }
}

/// Relates another case (by number) to the case shown.
pub async fn link_case(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<OtherCaseForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let n = CaseNumber::parse(f.number.trim())?;
        let other = by_number(&state, &ui, n).await?;
        state
            .store
            .link_cases(ui.0.actor(), CaseId(id), other, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_case(id, r))
}

#[derive(Deserialize)]
pub struct SaveFilterForm {
    csrf: Option<String>,
    name: String,
    query: String,
}

/// Saves the case list's filter under a name of the user's.
pub async fn save_filter(
    State(state): State<AppState>,
    ui: UiAuth,
    Form(f): Form<SaveFilterForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::ReadCases)?;
        let name = domain::contact::text("name", &f.name, 60)?;
        // Only a list query of this page: it is put back into a link.
        let query = f.query.trim();
        if query.len() > 1000 || query.contains(['/', '\\', '"', '<', '>']) {
            return Err(ApiError::field("query", "is not a case list filter"));
        }
        state
            .store
            .save_filter(ui.0.tenant.id, ui.0.user.id, &name, query, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(super::sla::back("/cases", r))
}

pub async fn delete_filter(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = state
        .store
        .delete_filter(ui.0.tenant.id, ui.0.user.id, id)
        .await
        .map_err(ApiError::from);
    Ok(super::sla::back("/cases", r))
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: Option<String>,
    #[serde(rename = "type")]
    case_type: String,
    priority: String,
    #[serde(default)]
    category_id: String,
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

/// Retypes, recategorises or reprioritises the case.
pub async fn edit_case(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<EditForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let category_id = match f.category_id.trim() {
            "" => None,
            v => Some(CategoryId(v.parse().map_err(|_| {
                ApiError::field("category_id", "choose a category")
            })?)),
        };
        let tenant = ui.0.tenant.id;
        let defs = state.store.custom_fields(tenant).await?;
        // The form shows the live fields only; the case keeps what it holds
        // in retired ones.
        let mut custom = state.store.case(tenant, CaseId(id)).await?.custom;
        custom.extend(posted_custom(&f.extra));
        let mut e = crate::input::Errors::default();
        let custom = crate::input::check_custom(&mut e, &defs, &custom, false);
        e.finish(|| ())?;
        let patch = CasePatch {
            case_type: Some(CaseType::parse(&f.case_type)?),
            priority: Some(Priority::parse(&f.priority)?),
            category_id: Some(category_id),
            custom: Some(custom),
            ..Default::default()
        };
        state
            .store
            .update_case(ui.0.actor(), CaseId(id), &patch, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_case(id, r))
}

#[derive(Deserialize)]
pub struct TaskForm {
    csrf: Option<String>,
    department_id: String,
    instructions: String,
    deadline_at: Option<String>,
}

pub async fn pass_to_department(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<TaskForm>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let r = async {
        ui.0.need(Permission::AssignTasks)?;
        let now = Timestamp::now();
        let department_id = f
            .department_id
            .parse()
            .map(DepartmentId)
            .map_err(|_| ApiError::field("department_id", "choose a department"))?;
        let deadline_at = match f
            .deadline_at
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(local) => Some(local_time("deadline_at", local, &ui.0.tenant)?),
        };
        if deadline_at.is_some_and(|d| d <= now) {
            return Err(ApiError::field("deadline_at", "must be in the future"));
        }
        let input = TaskInput {
            department_id,
            assignee_id: None,
            instructions: domain::contact::text("instructions", &f.instructions, 10_000)?,
            deadline_at,
        };
        state
            .store
            .create_task(ui.0.actor(), CaseId(id), &input, now)
            .await?;
        Ok(())
    }
    .await;
    Ok(back_to_case(id, r))
}

/// A browser's `datetime-local` value, read on the tenant's clock.
fn local_time(field: &str, s: &str, tenant: &Tenant) -> Result<Timestamp, ApiError> {
    let dt: jiff::civil::DateTime = s
        .parse()
        .map_err(|_| ApiError::field(field, "must be a date and time"))?;
    let tz = jiff::tz::TimeZone::get(&tenant.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    dt.to_zoned(tz)
        .map(|z| z.timestamp())
        .map_err(|_| ApiError::field(field, "is not a valid local time"))
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewCasePage {
    c: Chrome,
    customer: Option<Customer>,
    types: &'static [CaseType],
    channels: Vec<Channel>,
    priorities: &'static [Priority],
    categories: Vec<(i64, String)>,
    custom_inputs: Vec<FieldInput>,
    subject: String,
    description: String,
}

/// Channels an agent opens a case for by hand; e-mail and web arrive by themselves.
const MANUAL_CHANNELS: [Channel; 6] = [
    Channel::Phone,
    Channel::WalkIn,
    Channel::Fax,
    Channel::Letter,
    Channel::Sms,
    Channel::Other,
];

#[derive(Deserialize, Default)]
pub struct NewCaseQuery {
    customer: Option<i64>,
}

async fn new_case_page(
    state: &AppState,
    c: Chrome,
    tenant: TenantId,
    customer: Option<i64>,
    subject: String,
    description: String,
) -> Page {
    let customer = match customer {
        Some(id) => Some(or_page(
            &c,
            state.store.customer(tenant, CustomerId(id)).await,
        )?),
        None => None,
    };
    let cats = or_page(&c, state.store.categories(tenant).await)?;
    let categories = category_choices(&cats, None);
    let fields = or_page(&c, state.store.custom_fields(tenant).await)?;
    Ok(render(&NewCasePage {
        c,
        customer,
        types: CaseType::ALL,
        channels: MANUAL_CHANNELS.to_vec(),
        priorities: Priority::ALL,
        categories,
        custom_inputs: custom_inputs(&fields, &BTreeMap::new()),
        subject,
        description,
    }))
}

pub async fn new_case_form(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<NewCaseQuery>,
) -> Page {
    let c = Chrome::new(&ui, "new");
    or_page(&c, ui.0.need(Permission::WorkCases))?;
    new_case_page(
        &state,
        c,
        ui.0.tenant.id,
        q.customer,
        String::new(),
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct NewCaseForm {
    csrf: Option<String>,
    customer_id: Option<String>,
    #[serde(rename = "type")]
    case_type: String,
    channel: String,
    priority: String,
    category_id: Option<String>,
    subject: String,
    description: String,
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

pub async fn new_case(
    State(state): State<AppState>,
    ui: UiAuth,
    Form(f): Form<NewCaseForm>,
) -> Page {
    let c = Chrome::new(&ui, "new");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    or_page(&c, ui.0.need(Permission::WorkCases))?;
    let num = |s: &Option<String>| s.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
    let now = Timestamp::now();
    let body = CaseBody {
        case_type: Some(f.case_type.clone()),
        channel: Some(f.channel.clone()),
        priority: Some(f.priority.clone()),
        subject: Some(f.subject.clone()),
        description: Some(f.description.clone()),
        customer_id: num(&f.customer_id),
        category_id: num(&f.category_id),
        custom: posted_custom(&f.extra),
        // The agent who records the contact handles it.
        assignee_id: Some(ui.0.user.id.0),
        first_contact: Some(crate::input::FirstContact {
            body: Some(f.description.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = async {
        let defs = state.store.custom_fields(ui.0.tenant.id).await?;
        let (input, first) = body.parse(&ui.0.tenant, &defs, now)?;
        let mut actor = ui.0.actor();
        actor.channel = Some(input.channel);
        Ok::<_, ApiError>(
            state
                .store
                .create_case(actor, &ui.0.tenant.timezone, &input, first.as_ref(), now)
                .await?,
        )
    }
    .await;
    match created {
        Ok(id) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e @ ApiError::Invalid(_)) => {
            let c = c.with_error(Some(e.message()));
            let mut resp = new_case_page(
                &state,
                c,
                ui.0.tenant.id,
                num(&f.customer_id),
                f.subject,
                f.description,
            )
            .await?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(error_page(&c, e)),
    }
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    c: Chrome,
    q: String,
    searched: bool,
    rows: Vec<Customer>,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn customers(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(s): Query<SearchQuery>,
) -> Page {
    let c = Chrome::new(&ui, "customers");
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let q = s.q.trim().to_string();
    if q.is_empty() {
        return Ok(render(&CustomersPage {
            c,
            q,
            searched: false,
            rows: Vec::new(),
        }));
    }
    let lookup = LookupQuery {
        q: Some(q.clone()),
        ..Default::default()
    };
    let rows = match lookup_from(&lookup, &ui.0.tenant) {
        Ok(by) => or_page(
            &c,
            state.store.find_customers(ui.0.tenant.id, &by, 50).await,
        )?,
        Err(_) => Vec::new(),
    };
    // One match is the caller on the line: open the record at once.
    if rows.len() == 1 {
        return Ok(Redirect::to(&format!("/customers/{}", rows[0].id)).into_response());
    }
    Ok(render(&CustomersPage {
        c,
        q,
        searched: true,
        rows,
    }))
}

/// One choice of a pick list: value, label, chosen.
pub(super) struct Choice {
    pub value: i64,
    pub label: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    c: Chrome,
    v: CustomerView,
    cases: Vec<CaseRow>,
    /// Who may take the customer's work first, and the choices a supervisor has.
    agents: Vec<Choice>,
    teams: Vec<Choice>,
}

impl CustomerPage {
    fn chosen(list: &[Choice]) -> String {
        list.iter()
            .find(|x| x.chosen)
            .map(|x| x.label.clone())
            .unwrap_or_default()
    }
}

pub async fn customer(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "customers").with_error(q.error);
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let v = or_page(
        &c,
        state
            .store
            .customer_view(ui.0.tenant.id, CustomerId(id))
            .await,
    )?;
    let filter = CaseFilter {
        customer_id: Some(CustomerId(id)),
        limit: 100,
        ..Default::default()
    };
    let items = or_page(&c, state.store.list_cases(ui.0.tenant.id, &filter).await)?;
    let cases = case_rows(&c, &items);
    let (agent, team) = (v.customer.dedicated_agent_id, v.customer.dedicated_team_id);
    let (mut agents, mut teams) = (Vec::new(), Vec::new());
    if c.can_supervise || agent.is_some() || team.is_some() {
        let tenant = ui.0.tenant.id;
        agents = or_page(&c, state.store.routing_agents(tenant).await)?
            .into_iter()
            .map(|a| Choice {
                value: a.user_id.0,
                chosen: Some(a.user_id) == agent,
                label: a.display_name,
            })
            .collect();
        teams = or_page(&c, state.store.teams(tenant).await)?
            .into_iter()
            .filter(|t| t.active || Some(t.id) == team)
            .map(|t| Choice {
                value: t.id.0,
                chosen: Some(t.id) == team,
                label: t.name,
            })
            .collect();
    }
    Ok(render(&CustomerPage {
        c,
        v,
        cases,
        agents,
        teams,
    }))
}

/// A supervisor gives the customer their own agent and team.
pub async fn save_dedicated(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = super::sla::FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Supervise)?;
        let agent = f.id("agent_id")?.map(UserId);
        let team = f.id("team_id")?.map(TeamId);
        state
            .store
            .set_dedicated(ui.0.actor(), CustomerId(id), agent, team, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(super::sla::back(&format!("/customers/{id}"), r))
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    c: Chrome,
    status: String,
    sla: String,
    sort: String,
    sla_states: &'static [SlaState],
    statuses: &'static [TaskStatus],
    rows: Vec<TaskView>,
    next_url: Option<String>,
}

pub async fn tasks(State(state): State<AppState>, ui: UiAuth, Query(q): Query<TaskQuery>) -> Page {
    let c = Chrome::new(&ui, "tasks");
    or_page(&c, ui.0.need(Permission::ReadTasks))?;
    let filter = or_page(&c, task_filter(&ui.0, &q))?;
    let items = or_page(&c, state.store.tasks(ui.0.tenant.id, &filter).await)?;
    let status = q.status.clone().unwrap_or_default();
    let sla = q.sla.clone().unwrap_or_default();
    let sort = q.sort.clone().unwrap_or_default();
    let next = match filter.by_deadline {
        true => Some(i64::from(filter.offset) + items.len() as i64),
        false => items.last().map(|t| t.id.0),
    };
    let next_url = (items.len() as u32 >= limit(q.limit))
        .then(|| {
            next.map(|n| {
                format!(
                    "/tasks?status={}&sla={}&sort={}&cursor={n}",
                    encode(&status),
                    encode(&sla),
                    encode(&sort)
                )
            })
        })
        .flatten();
    let rows = task_views(&c, &items);
    Ok(render(&TasksPage {
        c,
        status,
        sla,
        sort,
        sla_states: SlaState::ALL,
        statuses: TaskStatus::ALL,
        rows,
        next_url,
    }))
}

#[derive(Deserialize)]
pub struct SettleForm {
    csrf: Option<String>,
    to: String,
    text: String,
}

pub async fn settle_task(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Form(f): Form<SettleForm>,
) -> Page {
    let c = Chrome::new(&ui, "tasks");
    or_page(&c, csrf_ok(&ui.0, f.csrf.as_deref()))?;
    let to = or_page(&c, TaskStatus::parse(&f.to))?;
    let field = if to == TaskStatus::Returned {
        "reason"
    } else {
        "answer"
    };
    let task = or_page(&c, state.store.task(ui.0.tenant.id, TaskId(id)).await)?;
    if !visible(&ui.0, &task) {
        return Err(error_page(&c, ApiError::NotFound));
    }
    or_page(
        &c,
        crate::api::tasks::settle(&state, &ui.0, TaskId(id), to, field, &f.text).await,
    )?;
    Ok(Redirect::to("/tasks").into_response())
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    c: Chrome,
    from: String,
    to: String,
    s: store::Summary,
}

pub async fn reports(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<admin::RangeQuery>,
) -> Page {
    let c = Chrome::new(&ui, "reports");
    or_page(&c, ui.0.need(Permission::ViewReports))?;
    let now = Timestamp::now();
    let (from, to) = or_page(&c, admin::range(&ui.0, &q, now))?;
    let s = or_page(&c, state.store.summary(ui.0.tenant.id, from, to, now).await)?;
    let day = |t: Timestamp| c.time(t).chars().take(10).collect::<String>();
    Ok(render(&ReportsPage {
        from: day(from),
        to: day(to),
        s,
        c,
    }))
}
