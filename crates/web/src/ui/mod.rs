//! Server-rendered pages: templates compiled in, assets embedded, forms posted
//! with a per-session anti-forgery token.

mod admin;
mod board;
mod calls;
mod i18n;
mod knowledge;
mod mail;
mod messages;
mod pages;
mod portal;
mod routing;
mod scripts;
mod search;
mod sla;
mod staffing;
mod tenants;
mod upload;

use crate::AppState;
use crate::auth::{Auth, cookie};
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::model::{Tenant, User};
use domain::role::Permission;
pub use i18n::{Lang, Tr};
use jiff::Timestamp;

pub const LANG_COOKIE: &str = "cc_lang";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang", get(pages::switch_lang))
        .route("/cases", get(pages::cases))
        .route(
            "/cases/new",
            get(pages::new_case_form).post(pages::new_case),
        )
        .route("/cases/{id}", get(pages::case))
        .route("/cases/filters", post(pages::save_filter))
        .route("/cases/filters/{id}/delete", post(pages::delete_filter))
        .route("/cases/{id}/interactions", post(pages::add_interaction))
        .route("/cases/{id}/transition", post(pages::transition))
        .route("/cases/{id}/take", post(pages::take))
        .route("/cases/{id}/edit", post(pages::edit_case))
        .route("/cases/{id}/merge", post(pages::merge))
        .route("/cases/{id}/links", post(pages::link_case))
        .route("/cases/{id}/tasks", post(pages::pass_to_department))
        .route("/customers", get(pages::customers))
        .route("/customers/{id}", get(pages::customer))
        .route("/customers/{id}/dedicated", post(pages::save_dedicated))
        .route("/tasks", get(pages::tasks))
        .route("/tasks/{id}/settle", post(pages::settle_task))
        .route("/reports", get(pages::reports))
        .route(
            "/cases/{id}/reply",
            post(mail::reply).layer(axum::extract::DefaultBodyLimit::max(30 * 1024 * 1024)),
        )
        .route("/mail-html/{sha}", get(mail::html))
        .route("/mail", get(mail::settings))
        .route("/mail/addresses", post(mail::add_address))
        .route("/mail/mailboxes", post(mail::add_mailbox))
        .route("/mail/mailboxes/{id}", post(mail::edit_mailbox))
        .route("/mail/settings", post(mail::save_settings))
        .route("/mail/templates", post(mail::save_template))
        .route("/mail/log", get(mail::log))
        .route("/notifications", get(mail::notifications))
        .route("/staffing", get(staffing::calculator))
        .route("/calls/{id}", get(calls::call))
        .route("/calls/{id}/{action}", post(calls::call_action))
        .route("/cti", get(calls::settings))
        .route("/cti/token", post(calls::new_token))
        .route("/cti/extensions/{id}", post(calls::save_extension))
        .route("/search", get(search::page))
        .route("/cases/{id}/suggestions", get(search::fragment))
        .route("/kb", get(knowledge::list))
        .route("/kb/categories", post(knowledge::add_kb_category))
        .route("/kb/new", get(knowledge::new_form).post(knowledge::create))
        .route("/kb/{id}", get(knowledge::article))
        .route(
            "/kb/{id}/edit",
            get(knowledge::edit_form).post(knowledge::revise),
        )
        .route("/kb/{id}/active", post(knowledge::set_active))
        .route("/kb/{id}/use", post(knowledge::use_on_case))
        .route("/kb/{id}/read", post(knowledge::mark_read))
        .route("/scripts", get(scripts::list))
        .route("/scripts/new", get(scripts::new_form).post(scripts::create))
        .route("/scripts/{id}", get(scripts::script))
        .route(
            "/scripts/{id}/edit",
            get(scripts::edit_form).post(scripts::revise),
        )
        .route("/scripts/{id}/active", post(scripts::set_active))
        .route("/kb/{id}/v/{version}", get(knowledge::old_version))
        .route("/kb/{id}/files/{sha}", get(knowledge::file))
        .route("/admin", get(admin::home))
        .route("/admin/tenant", post(tenants::update_own))
        .route("/admin/tenant/logo", post(tenants::logo))
        .route("/admin/tenants", get(tenants::list).post(tenants::create))
        .route("/admin/tenants/{id}", post(tenants::update))
        .route("/admin/users", get(admin::users).post(admin::add_user_form))
        .route("/admin/users/{id}", get(admin::user).post(admin::save_user))
        .route("/admin/catalog", get(admin::catalog))
        .route("/admin/catalog/{what}", post(admin::add_to_catalog))
        .route("/admin/catalog/{what}/{id}", post(admin::change_in_catalog))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/roles", get(admin::roles))
        .route("/wallboard", get(board::wallboard_page))
        .route("/team", get(board::team_page))
        .route("/team/agents/{id}/state", post(board::set_state))
        .route("/team/work/{id}/assign", post(board::reassign))
        .route("/desk", get(routing::desk))
        .route("/desk/state", post(routing::desk_state))
        .route("/desk/work/{id}/{action}", post(routing::desk_work))
        .route("/routing", get(routing::overview))
        .route("/routing/skills", post(routing::add_skill))
        .route("/routing/rules", post(routing::add_rule))
        .route("/routing/rules/{pos}/delete", post(routing::delete_rule))
        .route(
            "/routing/queues/{id}",
            get(routing::queue_form).post(routing::save_queue),
        )
        .route(
            "/routing/agents/{id}",
            get(routing::agent_form).post(routing::save_agent),
        )
        .route("/sla", get(sla::overview))
        .route(
            "/sla/calendars/{id}",
            get(sla::calendar_form).post(sla::save_calendar),
        )
        .route("/sla/calendars/{id}/holidays", post(sla::upload_holidays))
        .route("/sla/calendars/{id}/delete", post(sla::delete_calendar))
        .route(
            "/sla/policies/{id}",
            get(sla::policy_form).post(sla::save_policy),
        )
        .route("/sla/policies/{id}/{action}", post(sla::policy_action))
        .route("/sla/departments/{id}", post(sla::department_calendar))
        .route("/assets/{file}", get(asset))
        .merge(portal::routes())
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "app.css" => (
            include_str!("../../assets/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The language of this request: the user's choice (cookie), else the browser's.
pub struct UiLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(l) = cookie(parts, LANG_COOKIE).and_then(Lang::from_code) {
            return Ok(UiLang(l));
        }
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(UiLang(Lang::from_accept(accept)))
    }
}

/// A signed-in browser user (with the language, the path asked for, and
/// the notices waiting unread); anyone else is sent to the login page.
pub struct UiAuth(pub Auth, pub Lang, pub String, pub i64, pub Option<String>);

impl FromRequestParts<AppState> for UiAuth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let UiLang(lang) = UiLang::from_request_parts(parts, state)
            .await
            .unwrap_or(UiLang(Lang::En));
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        match Auth::from_request_parts(parts, state).await {
            Ok(a) if a.csrf.is_some() => {
                // The count in the navigation is a nicety: a failure shows none.
                let unread = state
                    .store
                    .unread_notifications(a.tenant.id, a.user.id, Timestamp::now())
                    .await
                    .unwrap_or(0);
                // The agent's routing state, shown on every page.
                let routed = if a.user.role.allows(Permission::WorkCases) {
                    state
                        .acd
                        .agent_view(a.tenant.id, a.user.id)
                        .await
                        .ok()
                        .map(|v| v.state.to_string())
                } else {
                    None
                };
                Ok(UiAuth(a, lang, path, unread, routed))
            }
            Ok(_) | Err(ApiError::Unauthorized) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(error_page(&Chrome::anonymous(lang, "/"), e)),
        }
    }
}

/// What every page's frame needs.
pub struct Chrome {
    pub t: Tr,
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub path: String,
    pub user: Option<User>,
    pub tenant_name: String,
    pub tenant: Option<Tenant>,
    pub csrf: String,
    pub section: &'static str,
    pub error: Option<String>,
    pub can_cases: bool,
    pub can_work: bool,
    pub can_assign: bool,
    pub can_tasks: bool,
    pub can_answer: bool,
    pub can_reports: bool,
    pub can_mail_admin: bool,
    pub can_mail_log: bool,
    pub can_supervise: bool,
    /// The outsourcer's operator: the tenant list.
    pub can_tenants: bool,
    /// The wallboard on a wall TV: no navigation.
    pub tv: bool,
    /// Notices waiting unread.
    pub unread: i64,
    /// The user's routing state as recorded ("break:lunch"), when they take routed work.
    pub routed: Option<String>,
}

impl Chrome {
    pub fn anonymous(lang: Lang, path: &str) -> Chrome {
        Chrome {
            t: Tr(lang),
            lang: lang.code(),
            other_lang: lang.other().code(),
            path: encode(path),
            user: None,
            tenant_name: String::new(),
            tenant: None,
            csrf: String::new(),
            section: "",
            error: None,
            can_cases: false,
            can_work: false,
            can_assign: false,
            can_tasks: false,
            can_answer: false,
            can_reports: false,
            can_mail_admin: false,
            can_mail_log: false,
            can_supervise: false,
            can_tenants: false,
            tv: false,
            unread: 0,
            routed: None,
        }
    }

    pub fn new(ui: &UiAuth, section: &'static str) -> Chrome {
        let UiAuth(auth, lang, path, unread, routed) = ui;
        let role = auth.user.role;
        Chrome {
            user: Some(auth.user.clone()),
            tenant_name: auth.tenant.name.clone(),
            tenant: Some(auth.tenant.clone()),
            csrf: auth.csrf.clone().unwrap_or_default(),
            section,
            can_cases: role.allows(Permission::ReadCases),
            can_work: role.allows(Permission::WorkCases),
            can_assign: role.allows(Permission::AssignTasks),
            can_tasks: role.allows(Permission::ReadTasks),
            can_answer: role.allows(Permission::AnswerTasks),
            can_reports: role.allows(Permission::ViewReports),
            can_mail_admin: role.allows(Permission::Administer),
            can_mail_log: role.allows(Permission::ViewMailLog),
            can_supervise: role.allows(Permission::Supervise),
            can_tenants: role.allows(Permission::ManageTenants),
            unread: *unread,
            routed: routed.clone(),
            ..Chrome::anonymous(*lang, path)
        }
    }

    pub fn with_error(mut self, e: Option<String>) -> Chrome {
        self.error = e.filter(|e| !e.is_empty()).map(|e| self.t.error_text(&e));
        self
    }

    /// A routing state as recorded ("break:lunch") in the user's words.
    pub fn state_text(&self, state: &str) -> String {
        match state.split_once(':') {
            Some((_, r)) => format!("{} · {}", self.t.get("agent.break"), self.t.of("reason", r)),
            None => self.t.of("agent", state).into_owned(),
        }
    }

    /// The status part of a recorded state, for styling.
    pub fn status_of<'a>(&self, state: &'a str) -> &'a str {
        state.split(':').next().unwrap_or(state)
    }

    /// A time as the tenant's clock shows it.
    pub fn time(&self, t: impl std::borrow::Borrow<Timestamp>) -> String {
        let t = *t.borrow();
        let tz = self
            .tenant
            .as_ref()
            .and_then(|t| jiff::tz::TimeZone::get(&t.timezone).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string()
    }
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::Internal(format!("template: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: &'a Chrome,
    message: String,
}

/// An error as a page in the user's language.
pub fn error_page(c: &Chrome, e: ApiError) -> Response {
    let message = match &e {
        ApiError::NotFound | ApiError::NoRoute => c.t.get("error.not_found").into_owned(),
        ApiError::Forbidden => c.t.get("error.forbidden").into_owned(),
        ApiError::Internal(_) => "internal error".to_string(),
        other => other.message(),
    };
    let status = e.status();
    if let ApiError::Internal(detail) = &e {
        tracing::error!(%detail, "page failed");
    }
    let mut resp = render(&ErrorPage { c, message });
    *resp.status_mut() = status;
    resp
}

pub async fn not_found() -> Response {
    error_page(&Chrome::anonymous(Lang::En, "/"), ApiError::NotFound)
}

/// The name of the first item `hit` picks, for a page showing ids by name;
/// empty when none does.
pub fn name_by<T>(items: &[T], hit: impl Fn(&T) -> bool, name: impl Fn(&T) -> &str) -> String {
    items
        .iter()
        .find(|x| hit(x))
        .map(|x| name(x).to_string())
        .unwrap_or_default()
}

/// Percent-encoding for a value placed in a URL.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
