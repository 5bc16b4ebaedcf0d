//! JSON REST API under `/api/v1`. Every handler checks one permission and
//! passes the caller's tenant to the store.

pub(crate) mod admin;
pub(crate) mod board;
pub(crate) mod cases;
pub mod cti;
pub(crate) mod customers;
pub mod import;
pub(crate) mod knowledge;
pub(crate) mod mail;
pub(crate) mod mailboxes;
pub(crate) mod routing;
pub(crate) mod scripts;
pub(crate) mod search;
pub(crate) mod session;
pub(crate) mod sla;
pub(crate) mod staffing;
pub(crate) mod tasks;
pub(crate) mod tenants;

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde::Serialize;

pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/auth/login", post(session::login))
        .route("/api/v1/auth/logout", post(session::logout))
        .route("/api/v1/me", get(session::me))
        .route(
            "/api/v1/tokens",
            get(session::list_tokens).post(session::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(session::delete_token),
        )
        .route(
            "/api/v1/customers",
            get(customers::lookup).post(customers::create),
        )
        .route(
            "/api/v1/customers/{id}",
            get(customers::view).put(customers::update),
        )
        .route("/api/v1/customers/{id}/cases", get(customers::cases))
        .route(
            "/api/v1/customers/{id}/dedicated",
            put(customers::dedicated),
        )
        .route("/api/v1/organizations", get(customers::organizations))
        .route("/api/v1/cases", get(cases::list).post(cases::create))
        .route("/api/v1/cases/by-number/{number}", get(cases::by_number))
        .route(
            "/api/v1/cases/{id}",
            get(cases::detail).patch(cases::update),
        )
        .route("/api/v1/cases/{id}/transitions", post(cases::transition))
        .route(
            "/api/v1/cases/{id}/interactions",
            post(cases::add_interaction),
        )
        .route("/api/v1/cases/{id}/links", post(cases::link))
        .route("/api/v1/cases/{id}/merge", post(cases::merge))
        .route("/api/v1/cases/{id}/replies", post(mail::reply))
        .route("/api/v1/cases/{id}/mail", get(mail::case_mail))
        .route(
            "/api/v1/cases/{id}/templates/{template}",
            get(mail::render_template),
        )
        .route(
            "/api/v1/mail/addresses",
            get(mail::mail_addresses).post(mail::create_mail_address),
        )
        .route(
            "/api/v1/mail/settings",
            get(mail::settings).put(mail::update_settings),
        )
        .route(
            "/api/v1/mail/templates",
            get(mail::templates).post(mail::save_template),
        )
        .route(
            "/api/v1/mail/mailboxes",
            get(mailboxes::list).post(mailboxes::create),
        )
        .route("/api/v1/mail/mailboxes/{id}", put(mailboxes::update))
        .route("/api/v1/mail/inbound", get(mail::inbound))
        .route("/api/v1/mail/outbound", get(mail::outbound))
        .route(
            "/api/v1/mail/outbound/{id}/source",
            get(mail::outbound_source),
        )
        .route("/api/v1/notifications", get(mail::notifications))
        .route("/api/v1/notifications/read", post(mail::read_notifications))
        .route("/api/v1/cases/{id}/tasks", post(tasks::create))
        .route("/api/v1/attachments/{sha256}", get(cases::attachment))
        .route(
            "/api/v1/routing/skills",
            get(routing::skills).post(routing::create_skill),
        )
        .route(
            "/api/v1/routing/queues",
            get(routing::queues).post(routing::create_queue),
        )
        .route("/api/v1/routing/queues/{id}", put(routing::update_queue))
        .route("/api/v1/routing/queues/{id}/waiting", get(routing::waiting))
        .route(
            "/api/v1/routing/rules",
            get(routing::rules).put(routing::set_rules),
        )
        .route("/api/v1/routing/agents", get(routing::agents))
        .route("/api/v1/routing/agents/{id}", put(routing::save_agent))
        .route(
            "/api/v1/routing/agents/{id}/state",
            post(routing::set_agent_state),
        )
        .route(
            "/api/v1/routing/agents/{id}/states",
            get(routing::agent_states),
        )
        .route("/api/v1/routing/me", get(routing::me))
        .route("/api/v1/routing/me/state", post(routing::set_my_state))
        .route("/api/v1/routing/work/{id}/accept", post(routing::accept))
        .route("/api/v1/routing/work/{id}/reject", post(routing::reject))
        .route("/api/v1/routing/work/{id}/finish", post(routing::finish))
        .route("/api/v1/routing/work/{id}/assign", post(routing::assign))
        .route("/api/v1/routing/work/{id}/move", post(routing::move_work))
        .route("/api/v1/routing/status", get(routing::status))
        .route("/api/v1/routing/events", get(routing::events))
        .route("/api/v1/wallboard", get(board::get_wallboard))
        .route("/api/v1/cti/events", post(cti::event))
        .route("/api/v1/cti/token", post(cti::new_token))
        .route(
            "/api/v1/cti/calls/{call_id}/recording",
            axum::routing::put(cti::recording_file).layer(axum::extract::DefaultBodyLimit::max(
                domain::call::RECORDING_MAX_BYTES,
            )),
        )
        .route("/api/v1/calls/{id}", get(cti::call))
        .route("/api/v1/calls/{id}/recording", get(cti::recording))
        .route("/api/v1/calls/{id}/case", post(cti::attach))
        .route("/api/v1/calls/{id}/customer", post(cti::customer))
        .route("/api/v1/calls/{id}/wrap-up", post(cti::wrap_up))
        .route("/api/v1/tasks", get(tasks::list))
        .route("/api/v1/tasks/{id}", get(tasks::get_one))
        .route("/api/v1/tasks/{id}/answer", post(tasks::answer))
        .route("/api/v1/tasks/{id}/return", post(tasks::send_back))
        .route(
            "/api/v1/kb/categories",
            get(knowledge::categories).post(knowledge::create_category),
        )
        .route(
            "/api/v1/articles",
            get(knowledge::list).post(knowledge::create),
        )
        .route(
            "/api/v1/articles/{id}",
            get(knowledge::get_one)
                .put(knowledge::revise)
                .patch(knowledge::set_active),
        )
        .route("/api/v1/articles/{id}/versions", get(knowledge::versions))
        .route("/api/v1/articles/{id}/read", post(knowledge::mark_read))
        .route("/api/v1/articles/{id}/readers", get(knowledge::readers))
        .route("/api/v1/articles/{id}/files/{sha}", get(knowledge::file))
        .route(
            "/api/v1/cases/{id}/articles",
            get(knowledge::used_on_case).post(knowledge::use_on_case),
        )
        .route("/api/v1/scripts", get(scripts::list).post(scripts::create))
        .route(
            "/api/v1/scripts/{id}",
            get(scripts::get)
                .put(scripts::revise)
                .patch(scripts::set_active),
        )
        .route("/api/v1/scripts/{id}/versions", get(scripts::versions))
        .route("/api/v1/cases/{id}/scripts", get(scripts::for_case))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/search/rebuild", post(search::rebuild))
        .route("/api/v1/cases/{id}/suggestions", get(search::suggestions))
        .route("/api/v1/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/api/v1/tenants/{id}",
            axum::routing::patch(tenants::update),
        )
        .route("/api/v1/tenant", axum::routing::patch(tenants::update_own))
        .route(
            "/api/v1/tenant/logo",
            axum::routing::put(tenants::put_logo).delete(tenants::delete_logo),
        )
        .route("/api/v1/users", get(admin::users).post(admin::create_user))
        .route(
            "/api/v1/users/{id}",
            axum::routing::patch(admin::update_user),
        )
        .route("/api/v1/teams", get(admin::teams).post(admin::create_team))
        .route(
            "/api/v1/teams/{id}",
            axum::routing::patch(admin::update_team),
        )
        .route(
            "/api/v1/departments/{id}",
            axum::routing::patch(admin::update_department),
        )
        .route(
            "/api/v1/categories/{id}",
            axum::routing::patch(admin::update_category),
        )
        .route(
            "/api/v1/custom-fields/{id}",
            axum::routing::patch(admin::update_custom_field),
        )
        .route(
            "/api/v1/departments",
            get(admin::departments).post(admin::create_department),
        )
        .route(
            "/api/v1/categories",
            get(admin::categories).post(admin::create_category),
        )
        .route(
            "/api/v1/custom-fields",
            get(admin::custom_fields).post(admin::create_custom_field),
        )
        .route(
            "/api/v1/calendars",
            get(sla::calendars).post(sla::create_calendar),
        )
        .route(
            "/api/v1/calendars/{id}",
            get(sla::calendar)
                .put(sla::update_calendar)
                .delete(sla::delete_calendar),
        )
        .route(
            "/api/v1/calendars/{id}/holidays",
            post(sla::import_holidays),
        )
        .route(
            "/api/v1/sla-policies",
            get(sla::policies).post(sla::create_policy),
        )
        .route(
            "/api/v1/sla-policies/{id}",
            get(sla::policy)
                .put(sla::update_policy)
                .delete(sla::delete_policy),
        )
        .route("/api/v1/sla-policies/{id}/position", post(sla::move_policy))
        .route(
            "/api/v1/departments/{id}/calendar",
            put(sla::department_calendar),
        )
        .route("/api/v1/staffing", post(staffing::calculate))
        .route("/api/v1/sla/due", post(sla::due))
        .route("/api/v1/sla/elapsed", post(sla::elapsed))
        .route("/api/v1/import/{kind}", post(import::import))
        .route("/api/v1/reports/summary", get(admin::summary))
        .route("/api/v1/audit", get(admin::audit))
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

pub async fn no_route(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError::NoRoute.into_response()
    } else {
        crate::ui::not_found().await
    }
}

/// A page of a list and the cursor that fetches the next one.
#[derive(Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, limit: u32, id: impl Fn(&T) -> i64) -> Self {
        let next_cursor = if items.len() as u32 >= limit {
            items.last().map(|i| id(i).to_string())
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

pub fn limit(raw: Option<u32>) -> u32 {
    raw.unwrap_or(50).clamp(1, 200)
}

pub fn cursor(raw: &Option<String>) -> Result<Option<i64>, ApiError> {
    raw.as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse()
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API returned"))
        })
        .transpose()
}
