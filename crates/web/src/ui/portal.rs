//! The customer portal, one per tenant at `/portal/{slug}`: public answers
//! (FAQ, articles, announcements, glossary, downloads) and a search over
//! them, the "contact us" form that opens a routed case, and the private
//! page where the customer follows that case and answers.
//!
//! Anyone may come here, so: every form carries an anti-forgery value tied
//! to a cookie of the visitor's own, a field only robots fill in, per-address
//! rate limits, size limits, and answers that are the same whether or not an
//! e-mail, phone or account is known.

#![allow(clippy::result_large_err)]

use super::i18n::{Lang, Tr};
use super::knowledge::category_labels;
use super::upload::Posted;
use super::{UiLang, encode, render};
use crate::AppState;
use crate::api::knowledge::download;
use crate::auth::{random_hex, token_hash};
use crate::error::ApiError;
use crate::limits::Action;
use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Multipart, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use domain::FieldError;
use domain::ids::ArticleId;
use domain::knowledge::{Article, ArticleKind};
use domain::model::{AttachmentInput, Category, Tenant};
use domain::portal::{ContactForm, MAX_FILE_BYTES, MAX_FILES, PROVINCES};
use jiff::Timestamp;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;
use store::{PortalCase, PortalKey, StoreError};

/// The visitor's own anti-forgery cookie.
const CSRF_COOKIE: &str = "cc_portal";
/// The field people never see and robots fill in.
const HONEYPOT: &str = "website";
/// The form with its files: three of 5 MB and the text.
const BODY_LIMIT: usize = MAX_FILES * MAX_FILE_BYTES + 256 * 1024;
/// At most this many articles on a page.
const SHOWN: u32 = 300;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/{slug}", get(home))
        .route("/portal/{slug}/search", get(search))
        .route("/portal/{slug}/glossary", get(glossary))
        .route("/portal/{slug}/downloads", get(downloads))
        .route("/portal/{slug}/logo", get(logo))
        .route("/portal/{slug}/a/{id}", get(article))
        .route("/portal/{slug}/a/{id}/files/{sha}", get(article_file))
        .route(
            "/portal/{slug}/contact",
            get(contact_form)
                .post(contact)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route(
            "/portal/{slug}/c/{key}",
            get(case_page)
                .post(reply)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/portal/{slug}/c/{key}/files/{sha}", get(case_file))
}

/// Who is asking: the tenant whose portal this is, the visitor's language,
/// address and anti-forgery value.
pub struct Visitor {
    tenant: Tenant,
    lang: Lang,
    path: String,
    addr: IpAddr,
    csrf: String,
    /// The anti-forgery cookie is new: the page sets it.
    new_cookie: bool,
    secure: bool,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let UiLang(lang) = UiLang::from_request_parts(parts, state)
            .await
            .unwrap_or(UiLang(Lang::En));
        let slug = parts.uri.path().split('/').nth(2).unwrap_or_default();
        let tenant = match state.store.tenant_by_slug(slug).await {
            Ok(t) => t,
            Err(StoreError::NotFound) => return Err(bare_error(lang, StatusCode::NOT_FOUND)),
            Err(e) => {
                tracing::error!(error = %e, "portal tenant");
                return Err(bare_error(lang, StatusCode::INTERNAL_SERVER_ERROR));
            }
        };
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let existing = crate::auth::cookie(parts, CSRF_COOKIE)
            .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_string);
        let new_cookie = existing.is_none();
        Ok(Visitor {
            tenant,
            lang,
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".into(), |p| p.as_str().to_string()),
            addr,
            csrf: existing.unwrap_or_else(|| random_hex(16)),
            new_cookie,
            secure: state.secure_cookies,
        })
    }
}

/// A page for an unknown portal: no tenant to dress it in.
fn bare_error(lang: Lang, status: StatusCode) -> Response {
    let c = super::Chrome::anonymous(lang, "/");
    let e = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound,
        _ => ApiError::Internal("portal".into()),
    };
    super::error_page(&c, e)
}

/// What every portal page's frame needs.
pub struct Frame {
    pub t: Tr,
    pub lang: &'static str,
    pub other_lang: &'static str,
    /// This page, to come back to after switching language.
    pub path: String,
    pub tenant: Tenant,
    /// `/portal/{slug}`.
    pub base: String,
    pub csrf: String,
    /// The words searched, kept in the search box.
    pub q: String,
}

impl Frame {
    fn new(v: &Visitor) -> Frame {
        Frame {
            t: Tr(v.lang),
            lang: v.lang.code(),
            other_lang: v.lang.other().code(),
            path: encode(&v.path),
            base: format!("/portal/{}", v.tenant.slug),
            tenant: v.tenant.clone(),
            csrf: v.csrf.clone(),
            q: String::new(),
        }
    }

    pub fn time(&self, t: &Timestamp) -> String {
        t.to_zoned(zone(&self.tenant))
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }

    pub fn day(&self, t: &Timestamp) -> String {
        t.to_zoned(zone(&self.tenant)).date().to_string()
    }

    pub fn size(&self, bytes: &i64) -> String {
        match *bytes {
            b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1048576.0),
            b => format!("{} KB", (b + 1023) / 1024),
        }
    }
}

fn zone(t: &Tenant) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&t.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

fn today(t: &Tenant) -> jiff::civil::Date {
    Timestamp::now().to_zoned(zone(t)).date()
}

/// A rendered page, with the visitor's anti-forgery cookie when it is new.
fn page(v: &Visitor, status: StatusCode, t: &impl Template) -> Response {
    let mut resp = render(t);
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    if v.new_cookie {
        let secure = if v.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{CSRF_COOKIE}={}; Path=/portal; HttpOnly; SameSite=Strict{secure}",
            v.csrf
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    resp
}

#[derive(Template)]
#[template(path = "portal_message.html")]
struct MessagePage {
    f: Frame,
    title: String,
    message: String,
}

/// A refusal or a failure, in the portal's own dress.
fn message(v: &Visitor, status: StatusCode, title_key: &str, text: String) -> Response {
    let f = Frame::new(v);
    let title = f.t.get(title_key).into_owned();
    page(
        v,
        status,
        &MessagePage {
            f,
            title,
            message: text,
        },
    )
}

fn failed(v: &Visitor, e: impl Into<ApiError>) -> Response {
    let e = e.into();
    let t = Tr(v.lang);
    match e {
        ApiError::NotFound | ApiError::NoRoute => message(
            v,
            StatusCode::NOT_FOUND,
            "portal.not_found",
            t.get("portal.not_found_text").into_owned(),
        ),
        ApiError::Internal(detail) => {
            tracing::error!(%detail, "portal page failed");
            message(
                v,
                StatusCode::INTERNAL_SERVER_ERROR,
                "portal.failed",
                t.get("portal.failed_text").into_owned(),
            )
        }
        other => {
            let status = other.status();
            message(v, status, "portal.refused", t.error_text(&other.message()))
        }
    }
}

/// Too many requests from one address: how long to wait, in minutes.
fn too_many(v: &Visitor, wait: std::time::Duration) -> Response {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let text = Tr(v.lang)
        .get("portal.too_many_text")
        .replace("{n}", &minutes.to_string());
    let mut resp = message(v, StatusCode::TOO_MANY_REQUESTS, "portal.too_many", text);
    if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, value);
    }
    resp
}

/// Public articles of some kinds that hold today, in the visitor's language
/// (all languages when the tenant wrote none in it).
async fn shown(
    state: &AppState,
    v: &Visitor,
    kinds: &[ArticleKind],
) -> Result<Vec<Article>, ApiError> {
    let tenant = v.tenant.id;
    let lang = v.lang.code();
    let mut found = state
        .store
        .public_articles(tenant, kinds, Some(lang), SHOWN)
        .await?;
    if found.is_empty() {
        found = state
            .store
            .public_articles(tenant, kinds, None, SHOWN)
            .await?;
    }
    let day = today(&v.tenant);
    found.retain(|a| a.content.valid_on(day));
    Ok(found)
}

/// Articles under a heading (a knowledge category).
pub struct Group {
    pub name: String,
    pub items: Vec<Article>,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    f: Frame,
    news: Vec<Article>,
    groups: Vec<Group>,
}

pub async fn home(State(state): State<AppState>, v: Visitor) -> Response {
    let found = async {
        let news = shown(&state, &v, &[ArticleKind::Announcement]).await?;
        let answers = shown(&state, &v, &[ArticleKind::Faq, ArticleKind::Article]).await?;
        let cats = category_labels(&state.store.kb_categories(v.tenant.id).await?);
        Ok::<_, ApiError>((news, answers, cats))
    };
    let (news, answers, cats) = match found.await {
        Ok(x) => x,
        Err(e) => return failed(&v, e),
    };
    let f = Frame::new(&v);
    // FAQ first within a heading, then by title; headings by name, the
    // uncategorised last.
    let mut groups: Vec<Group> = Vec::new();
    let mut sorted = answers;
    sorted.sort_by(|a, b| {
        (a.content.kind != ArticleKind::Faq, &a.content.title)
            .cmp(&(b.content.kind != ArticleKind::Faq, &b.content.title))
    });
    for (id, name) in &cats {
        let items: Vec<Article> = sorted
            .iter()
            .filter(|a| a.content.category_id.map(|c| c.0) == Some(*id))
            .cloned()
            .collect();
        if !items.is_empty() {
            groups.push(Group {
                name: name.clone(),
                items,
            });
        }
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let rest: Vec<Article> = sorted
        .into_iter()
        .filter(|a| {
            a.content
                .category_id
                .is_none_or(|c| !cats.iter().any(|(id, _)| *id == c.0))
        })
        .collect();
    if !rest.is_empty() {
        groups.push(Group {
            name: f.t.get("portal.other").into_owned(),
            items: rest,
        });
    }
    page(&v, StatusCode::OK, &HomePage { f, news, groups })
}

#[derive(Template)]
#[template(path = "portal_list.html")]
struct ListPage {
    f: Frame,
    /// `glossary` or `downloads`.
    what: &'static str,
    items: Vec<Article>,
}

impl ListPage {
    fn heading(&self) -> String {
        self.f.t.get(&format!("portal.{}", self.what)).into_owned()
    }
}

pub async fn glossary(State(state): State<AppState>, v: Visitor) -> Response {
    match shown(&state, &v, &[ArticleKind::Glossary]).await {
        Ok(mut items) => {
            items.sort_by(|a, b| a.content.title.cmp(&b.content.title));
            let f = Frame::new(&v);
            page(
                &v,
                StatusCode::OK,
                &ListPage {
                    f,
                    what: "glossary",
                    items,
                },
            )
        }
        Err(e) => failed(&v, e),
    }
}

pub async fn downloads(State(state): State<AppState>, v: Visitor) -> Response {
    match shown(&state, &v, &[ArticleKind::Download]).await {
        Ok(items) => {
            let f = Frame::new(&v);
            page(
                &v,
                StatusCode::OK,
                &ListPage {
                    f,
                    what: "downloads",
                    items,
                },
            )
        }
        Err(e) => failed(&v, e),
    }
}

#[derive(Template)]
#[template(path = "portal_article.html")]
struct ArticlePage {
    f: Frame,
    a: Article,
}

/// A public article that holds today, else not found: an expired promotion
/// or a retired article is gone from the portal.
async fn public_article(state: &AppState, v: &Visitor, id: i64) -> Result<Article, ApiError> {
    let a = state.store.article(v.tenant.id, ArticleId(id)).await?;
    let public = a.active
        && a.content.visibility == domain::knowledge::Visibility::Public
        && a.content.valid_on(today(&v.tenant));
    if public {
        Ok(a)
    } else {
        Err(ApiError::NotFound)
    }
}

pub async fn article(
    State(state): State<AppState>,
    v: Visitor,
    Path((_, id)): Path<(String, i64)>,
) -> Response {
    match public_article(&state, &v, id).await {
        Ok(a) => {
            let f = Frame::new(&v);
            page(&v, StatusCode::OK, &ArticlePage { f, a })
        }
        Err(e) => failed(&v, e),
    }
}

pub async fn article_file(
    State(state): State<AppState>,
    v: Visitor,
    Path((_, id, sha)): Path<(String, i64, String)>,
) -> Response {
    if let Err(e) = public_article(&state, &v, id).await {
        return failed(&v, e);
    }
    match state
        .store
        .article_file(v.tenant.id, ArticleId(id), &sha, true)
        .await
    {
        Ok((meta, data)) => download(meta, data).into_response(),
        Err(e) => failed(&v, e),
    }
}

pub async fn logo(State(state): State<AppState>, v: Visitor) -> Response {
    match state.store.tenant_logo(v.tenant.id).await {
        Ok((meta, data)) => (
            [
                (header::CONTENT_TYPE, meta.content_type),
                (header::CACHE_CONTROL, "public, max-age=300".to_string()),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            ],
            data,
        )
            .into_response(),
        Err(e) => failed(&v, e),
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

pub struct Found {
    pub id: i64,
    pub title: String,
    /// Already escaped, the words found in `<b>`.
    pub snippet: String,
}

#[derive(Template)]
#[template(path = "portal_search.html")]
struct SearchPage {
    f: Frame,
    hits: Vec<Found>,
    searched: bool,
}

pub async fn search(
    State(state): State<AppState>,
    v: Visitor,
    axum::extract::Query(q): axum::extract::Query<SearchQuery>,
) -> Response {
    let words: String = q.q.unwrap_or_default().trim().chars().take(100).collect();
    let mut f = Frame::new(&v);
    f.q = words.clone();
    if words.is_empty() {
        return page(
            &v,
            StatusCode::OK,
            &SearchPage {
                f,
                hits: Vec::new(),
                searched: false,
            },
        );
    }
    if let Err(wait) = state.limits.check(v.addr, Action::Search, Instant::now()) {
        return too_many(&v, wait);
    }
    let query = search::SearchQuery {
        tenant: v.tenant.id.0,
        text: words,
        kinds: vec![search::Kind::Article],
        public_only: true,
        not_case: None,
        limit: 20,
    };
    let found = match state.finder.search(query).await {
        Ok(h) => h,
        Err(e) => return failed(&v, e),
    };
    // The index knows what is public; whether it holds today is read here.
    let mut hits = Vec::new();
    for h in found {
        if public_article(&state, &v, h.id).await.is_ok() {
            hits.push(Found {
                id: h.id,
                title: h.title,
                snippet: h.snippet,
            });
        }
    }
    page(
        &v,
        StatusCode::OK,
        &SearchPage {
            f,
            hits,
            searched: true,
        },
    )
}

#[derive(Template)]
#[template(path = "portal_contact.html")]
struct ContactPage {
    f: Frame,
    categories: Vec<(i64, String)>,
    provinces: Vec<(&'static str, &'static str)>,
    /// The fields as typed, to show again.
    typed: ContactForm,
    errors: Vec<String>,
    /// Fields refused, to mark them.
    bad: Vec<String>,
}

impl ContactPage {
    fn bad(&self, field: &str) -> bool {
        self.bad.iter().any(|b| b == field)
    }
}

async fn contact_page(
    state: &AppState,
    v: &Visitor,
    typed: ContactForm,
    refused: &[FieldError],
) -> Response {
    let cats = match state.store.categories(v.tenant.id).await {
        Ok(c) => c,
        Err(e) => return failed(v, e),
    };
    let live: Vec<&Category> = cats.iter().filter(|c| c.active).collect();
    let categories = live
        .iter()
        .map(|c| (c.id.0, super::pages::category_label(&cats, c)))
        .collect();
    let zh = v.lang == Lang::Zh;
    let provinces = if v.tenant.region == "CN" {
        PROVINCES
            .iter()
            .map(|(code, z, e)| (*code, if zh { *z } else { *e }))
            .collect()
    } else {
        Vec::new()
    };
    let f = Frame::new(v);
    let errors = refused
        .iter()
        .map(|e| f.t.error_text(&e.to_string()))
        .collect();
    let bad = refused.iter().map(|e| e.field.clone()).collect();
    let status = if refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let p = ContactPage {
        f,
        categories,
        provinces,
        typed,
        errors,
        bad,
    };
    page(v, status, &p)
}

pub async fn contact_form(State(state): State<AppState>, v: Visitor) -> Response {
    contact_page(&state, &v, ContactForm::default(), &[]).await
}

/// The checks every posted portal form passes first: its anti-forgery
/// value matches the visitor's cookie, and the robots' field is empty.
fn guard(v: &Visitor, posted: &Posted) -> Result<(), Response> {
    let t = Tr(v.lang);
    if v.new_cookie || posted.get("csrf").as_deref() != Some(v.csrf.as_str()) {
        return Err(message(
            v,
            StatusCode::FORBIDDEN,
            "portal.expired",
            t.get("portal.expired_text").into_owned(),
        ));
    }
    if !posted.one(HONEYPOT).trim().is_empty() {
        tracing::info!(addr = %v.addr, "portal form with its robot field filled refused");
        return Err(message(
            v,
            StatusCode::BAD_REQUEST,
            "portal.refused",
            t.get("portal.robot_text").into_owned(),
        ));
    }
    Ok(())
}

/// The files of a posted form, within the portal's limits.
fn files_within_limits(files: &[AttachmentInput]) -> Result<(), FieldError> {
    if files.len() > MAX_FILES {
        return Err(FieldError::new("files", "at most 3"));
    }
    if files.iter().any(|f| f.data().len() > MAX_FILE_BYTES) {
        return Err(FieldError::new("files", "each at most 5 MB"));
    }
    Ok(())
}

async fn read_form(v: &Visitor, form: Multipart) -> Result<Posted, Response> {
    match Posted::read(form, "files").await {
        Ok(p) => Ok(p),
        Err(e) => Err(failed(v, e)),
    }
}

pub async fn contact(State(state): State<AppState>, v: Visitor, form: Multipart) -> Response {
    let posted = match read_form(&v, form).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    if let Err(resp) = guard(&v, &posted) {
        return resp;
    }
    let typed = ContactForm {
        category_id: posted.one("category_id"),
        province: posted.one("province"),
        name: posted.one("name"),
        phone: posted.one("phone"),
        email: posted.one("email"),
        account_no: posted.one("account_no"),
        order_no: posted.one("order_no"),
        message: posted.one("message"),
    };
    let region =
        domain::contact::Region::from_iso(&v.tenant.region).unwrap_or(domain::contact::Region::CN);
    let mut refused = Vec::new();
    let req = typed.parse(region).map_err(|e| refused.extend(e)).ok();
    if let Err(e) = files_within_limits(&posted.files) {
        refused.push(e);
    }
    let Some(req) = req.filter(|_| refused.is_empty()) else {
        return contact_page(&state, &v, typed, &refused).await;
    };
    if let Err(wait) = state.limits.check(v.addr, Action::Contact, Instant::now()) {
        return too_many(&v, wait);
    }
    let key = random_hex(24);
    let path = format!("/portal/{}/c/{key}", v.tenant.slug);
    let link = if state.public_url.is_empty() {
        String::new()
    } else {
        format!("{}{path}", state.public_url)
    };
    let taken = state
        .store
        .portal_contact(
            &v.tenant,
            &req,
            &posted.files,
            v.lang.code(),
            PortalKey {
                hash: &token_hash(&key),
                link: &link,
            },
            Timestamp::now(),
        )
        .await;
    match taken {
        Ok(r) => {
            let flag = if r.mailed { "new=mailed" } else { "new=1" };
            Redirect::to(&format!("{path}?{flag}")).into_response()
        }
        Err(StoreError::Invalid(e)) => contact_page(&state, &v, typed, &[e]).await,
        Err(e) => failed(&v, e),
    }
}

#[derive(Deserialize)]
pub struct CaseQuery {
    new: Option<String>,
    sent: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_case.html")]
struct CasePage {
    f: Frame,
    case: PortalCase,
    key: String,
    /// Just opened: `mailed` when an acknowledgement went out by e-mail.
    new: Option<String>,
    sent: bool,
    error: Option<String>,
    text: String,
}

impl CasePage {
    fn closed(&self) -> bool {
        self.case.status == domain::case::CaseStatus::Closed
    }
}

/// A key as it appears in a link: hex, nothing else reaches the store.
fn key_ok(key: &str) -> bool {
    key.len() == 48 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn case_view(
    state: &AppState,
    v: &Visitor,
    key: &str,
    q: CaseQuery,
    error: Option<String>,
    text: String,
) -> Response {
    if !key_ok(key) {
        return failed(v, ApiError::NotFound);
    }
    match state.store.portal_case(v.tenant.id, &token_hash(key)).await {
        Ok(case) => {
            let status = if error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let p = CasePage {
                f: Frame::new(v),
                case,
                key: key.to_string(),
                new: q.new,
                sent: q.sent.is_some(),
                error,
                text,
            };
            let mut resp = page(v, status, &p);
            // The link is the key: it is never sent on to other sites.
            resp.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            resp
        }
        Err(e) => failed(v, e),
    }
}

pub async fn case_page(
    State(state): State<AppState>,
    v: Visitor,
    Path((_, key)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<CaseQuery>,
) -> Response {
    case_view(&state, &v, &key, q, None, String::new()).await
}

pub async fn reply(
    State(state): State<AppState>,
    v: Visitor,
    Path((_, key)): Path<(String, String)>,
    form: Multipart,
) -> Response {
    if !key_ok(&key) {
        return failed(&v, ApiError::NotFound);
    }
    let posted = match read_form(&v, form).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    if let Err(resp) = guard(&v, &posted) {
        return resp;
    }
    let text = posted.one("message");
    let checked = domain::contact::text("message", &text, domain::portal::MAX_MESSAGE_CHARS)
        .and_then(|t| files_within_limits(&posted.files).map(|_| t));
    let t = match checked {
        Ok(t) => t,
        Err(e) => {
            let shown = Tr(v.lang).error_text(&e.to_string());
            let q = CaseQuery {
                new: None,
                sent: None,
            };
            return case_view(&state, &v, &key, q, Some(shown), text).await;
        }
    };
    if let Err(wait) = state.limits.check(v.addr, Action::Reply, Instant::now()) {
        return too_many(&v, wait);
    }
    let hash = token_hash(&key);
    match state
        .store
        .portal_reply(v.tenant.id, &hash, &t, &posted.files, Timestamp::now())
        .await
    {
        Ok(_) => Redirect::to(&format!("/portal/{}/c/{key}?sent=1", v.tenant.slug)).into_response(),
        Err(e) => failed(&v, e),
    }
}

pub async fn case_file(
    State(state): State<AppState>,
    v: Visitor,
    Path((_, key, sha)): Path<(String, String, String)>,
) -> Response {
    if !key_ok(&key) {
        return failed(&v, ApiError::NotFound);
    }
    match state
        .store
        .portal_file(v.tenant.id, &token_hash(&key), &sha)
        .await
    {
        Ok((meta, data)) => download(meta, data).into_response(),
        Err(e) => failed(&v, e),
    }
}
