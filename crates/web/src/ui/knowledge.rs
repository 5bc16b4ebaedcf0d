//! The knowledge base in the browser: the list, an article with its
//! history, old versions, the editor, and answering a case from an article.

#![allow(clippy::result_large_err)]

use super::pages::csrf_ok;
use super::pages::{Page, back_to_case, or_page};
use super::sla::{FormPairs, back};
use super::upload::Posted;
use super::{Chrome, UiAuth, render};
use crate::AppState;
use crate::api::knowledge::{ArticleBody, KbCategoryBody, add_category, download, write_article};
use crate::error::ApiError;
use crate::extract::Query;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect};
use domain::case::CaseNumber;
use domain::ids::*;
use domain::knowledge::{Article, ArticleKind, ArticleVersion, Visibility};
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use store::{ArticleFilter, ArticleSummary, KbCategory};

/// Articles a list shows at a time.
const PAGE: u32 = 30;

#[derive(Deserialize, Default)]
pub struct KbQuery {
    q: Option<String>,
    category_id: Option<String>,
    kind: Option<String>,
    /// The case an agent came from: an article can answer it.
    case: Option<i64>,
    /// The last article of the page before, as `millis.id`.
    after: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "kb.html")]
struct KbPage {
    c: Chrome,
    items: Vec<ArticleSummary>,
    categories: Vec<(i64, String)>,
    kinds: &'static [ArticleKind],
    q: String,
    category: Option<i64>,
    kind: String,
    case: Option<i64>,
    can_edit: bool,
    today: jiff::civil::Date,
    next: Option<String>,
}

impl KbPage {
    fn category_name(&self, id: &Option<KbCategoryId>) -> String {
        super::name_by(
            &self.categories,
            |x| Some(KbCategoryId(x.0)) == *id,
            |x| &x.1,
        )
    }
    fn expired(&self, a: &ArticleSummary) -> bool {
        a.valid_to.is_some_and(|d| d < self.today) || a.valid_from.is_some_and(|d| d > self.today)
    }
    fn is_category(&self, id: &i64) -> bool {
        self.category == Some(*id)
    }
    fn case_query(&self) -> String {
        self.case.map(|c| format!("?case={c}")).unwrap_or_default()
    }
}

/// Categories as "Parent / Child", for lists and choices.
pub(super) fn category_labels(cats: &[KbCategory]) -> Vec<(i64, String)> {
    cats.iter()
        .map(|x| {
            let parent = x.parent_id.and_then(|p| cats.iter().find(|y| y.id == p));
            (
                x.id.0,
                super::pages::parent_label(parent.map(|p| p.name.as_str()), &x.name),
            )
        })
        .collect()
}

/// The tenant's today, which decides whether an article still holds.
fn today(ui: &UiAuth) -> jiff::civil::Date {
    let tz = jiff::tz::TimeZone::get(&ui.0.tenant.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    Timestamp::now().to_zoned(tz).date()
}

pub async fn list(State(state): State<AppState>, ui: UiAuth, Query(q): Query<KbQuery>) -> Page {
    let c = Chrome::new(&ui, "kb").with_error(q.error.clone());
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let tenant = ui.0.tenant.id;
    let category = q.category_id.as_deref().and_then(|v| v.parse().ok());
    let kind = q.kind.as_deref().and_then(|k| ArticleKind::parse(k).ok());
    let after = q
        .after
        .as_deref()
        .and_then(|a| crate::api::knowledge::cursor(a).ok());
    let filter = ArticleFilter {
        category_id: category.map(KbCategoryId),
        kind,
        text: q.q.clone().filter(|t| !t.trim().is_empty()),
        before: after,
        limit: PAGE,
        ..Default::default()
    };
    let items = or_page(&c, state.store.articles(tenant, &filter).await)?;
    let next = crate::api::knowledge::next_cursor(&items, PAGE);
    let cats = or_page(&c, state.store.kb_categories(tenant).await)?;
    Ok(render(&KbPage {
        items,
        categories: category_labels(&cats),
        kinds: ArticleKind::ALL,
        q: q.q.unwrap_or_default(),
        category,
        kind: kind.map(|k| k.to_string()).unwrap_or_default(),
        case: q.case,
        can_edit: ui.0.user.role.allows(Permission::EditKnowledge),
        today: today(&ui),
        next,
        c,
    }))
}

pub async fn add_kb_category(
    State(state): State<AppState>,
    ui: UiAuth,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        let b = KbCategoryBody {
            name: f.one("name"),
            parent_id: f.id("parent_id")?,
        };
        add_category(&state, &ui.0, b).await.map(drop)
    }
    .await;
    Ok(back("/kb", r))
}

#[derive(Deserialize, Default)]
pub struct ArticleQuery {
    case: Option<i64>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "kb_article.html")]
struct ArticlePage {
    c: Chrome,
    a: Article,
    /// The version shown, when it is not the current one.
    old: Option<ArticleVersion>,
    versions: Vec<ArticleVersion>,
    category: String,
    case: Option<i64>,
    can_edit: bool,
    valid: bool,
    /// An announcement: the version the user last confirmed reading, and when.
    my_read: Option<(i64, Timestamp)>,
    /// An announcement seen by a supervisor: who it is for and what each read.
    readers: Vec<store::ArticleReader>,
}

impl ArticlePage {
    fn announcement(&self) -> bool {
        self.a.content.kind == ArticleKind::Announcement
    }
    /// Confirmed reading the current version.
    fn read_now(&self) -> bool {
        self.my_read.is_some_and(|(v, _)| v == self.a.version)
    }
    /// Readers who have read the current version, an older one, or none.
    fn readers_at(&self, which: &str) -> Vec<&store::ArticleReader> {
        self.readers
            .iter()
            .filter(|r| match (which, r.read_version) {
                ("current", Some(v)) => v == self.a.version,
                ("older", Some(v)) => v < self.a.version,
                ("none", None) => true,
                _ => false,
            })
            .collect()
    }

    fn shown(&self) -> &domain::knowledge::ArticleContent {
        self.old.as_ref().map_or(&self.a.content, |v| &v.content)
    }
    fn shown_version(&self) -> i64 {
        self.old.as_ref().map_or(self.a.version, |v| v.version)
    }
    fn shown_source(&self) -> &str {
        self.old.as_ref().map_or(&self.a.source, |v| &v.source)
    }
    fn shown_files(&self) -> &[domain::knowledge::ArticleFile] {
        self.old.as_ref().map_or(&self.a.files, |v| &v.files)
    }
    fn changed_text(&self, v: &ArticleVersion) -> String {
        v.changed
            .iter()
            .map(|f| self.c.t.of("kbfield", f).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn article_page(
    state: &AppState,
    ui: &UiAuth,
    id: i64,
    version: Option<i64>,
    q: ArticleQuery,
) -> Page {
    let c = Chrome::new(ui, "kb").with_error(q.error);
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let tenant = ui.0.tenant.id;
    let a = or_page(&c, state.store.article(tenant, ArticleId(id)).await)?;
    let versions = or_page(
        &c,
        state.store.article_versions(tenant, ArticleId(id)).await,
    )?;
    let old = match version.filter(|v| *v != a.version) {
        None => None,
        Some(v) => Some(or_page(
            &c,
            versions
                .iter()
                .find(|x| x.version == v)
                .cloned()
                .ok_or(ApiError::NotFound),
        )?),
    };
    let cats = or_page(&c, state.store.kb_categories(tenant).await)?;
    let shown_cat = old
        .as_ref()
        .map_or(a.content.category_id, |v| v.content.category_id);
    let category = category_labels(&cats)
        .into_iter()
        .find(|(cid, _)| Some(KbCategoryId(*cid)) == shown_cat)
        .map(|(_, n)| n)
        .unwrap_or_default();
    let valid = old
        .as_ref()
        .map_or(&a.content, |v| &v.content)
        .valid_on(today(ui));
    let (my_read, readers) = if a.content.kind == ArticleKind::Announcement {
        let mine = state.store.article_read(tenant, a.id, ui.0.user.id).await;
        let readers = if ui.0.user.role.allows(Permission::Supervise) {
            or_page(&c, state.store.article_readers(tenant, a.id).await)?
        } else {
            Vec::new()
        };
        (or_page(&c, mine)?, readers)
    } else {
        (None, Vec::new())
    };
    Ok(render(&ArticlePage {
        my_read,
        readers,
        a,
        old,
        versions,
        category,
        case: q.case,
        can_edit: ui.0.user.role.allows(Permission::EditKnowledge),
        valid,
        c,
    }))
}

pub async fn article(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<ArticleQuery>,
) -> Page {
    article_page(&state, &ui, id, None, q).await
}

pub async fn old_version(
    State(state): State<AppState>,
    ui: UiAuth,
    Path((id, version)): Path<(i64, i64)>,
    Query(q): Query<ArticleQuery>,
) -> Page {
    article_page(&state, &ui, id, Some(version), q).await
}

pub async fn file(
    State(state): State<AppState>,
    ui: UiAuth,
    Path((id, sha)): Path<(i64, String)>,
) -> Page {
    let c = Chrome::new(&ui, "kb");
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let found = state
        .store
        .article_file(ui.0.tenant.id, ArticleId(id), &sha, false)
        .await;
    let (meta, data) = or_page(&c, found)?;
    Ok(download(meta, data).into_response())
}

#[derive(Template)]
#[template(path = "kb_edit.html")]
struct EditPage {
    c: Chrome,
    /// The article revised; none for a new one.
    a: Option<Article>,
    form: ArticleForm,
    categories: Vec<(i64, String)>,
    kinds: &'static [ArticleKind],
    visibilities: &'static [Visibility],
}

/// The editor's text fields, filled from the article revised.
#[derive(Default)]
struct ArticleForm {
    title: String,
    body: String,
    tags: String,
    products: String,
    valid_from: String,
    valid_to: String,
}

impl ArticleForm {
    fn of(a: &Article) -> ArticleForm {
        let day = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        ArticleForm {
            title: a.content.title.clone(),
            body: a.content.body.clone(),
            tags: a.content.tags.join(", "),
            products: a.content.products.join(", "),
            valid_from: day(a.content.valid_from),
            valid_to: day(a.content.valid_to),
        }
    }
}

impl EditPage {
    fn is_kind(&self, k: &ArticleKind) -> bool {
        self.a
            .as_ref()
            .map_or(*k == ArticleKind::Article, |a| a.content.kind == *k)
    }
    fn is_visibility(&self, v: &Visibility) -> bool {
        self.a
            .as_ref()
            .map_or(*v == Visibility::Internal, |a| a.content.visibility == *v)
    }
    fn is_language(&self, l: &str) -> bool {
        self.a
            .as_ref()
            .map_or(l == "zh-CN", |a| a.content.language == l)
    }
    fn is_category(&self, id: &i64) -> bool {
        self.a
            .as_ref()
            .is_some_and(|a| a.content.category_id == Some(KbCategoryId(*id)))
    }
}

async fn edit_page(state: &AppState, ui: &UiAuth, id: Option<i64>, error: Option<String>) -> Page {
    let c = Chrome::new(ui, "kb").with_error(error);
    or_page(&c, ui.0.need(Permission::EditKnowledge))?;
    let tenant = ui.0.tenant.id;
    let a = match id {
        Some(id) => Some(or_page(
            &c,
            state.store.article(tenant, ArticleId(id)).await,
        )?),
        None => None,
    };
    let cats = or_page(&c, state.store.kb_categories(tenant).await)?;
    Ok(render(&EditPage {
        form: a.as_ref().map(ArticleForm::of).unwrap_or_default(),
        a,
        categories: category_labels(&cats),
        kinds: ArticleKind::ALL,
        visibilities: Visibility::ALL,
        c,
    }))
}

#[derive(Deserialize, Default)]
pub struct ErrorQuery {
    error: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<ErrorQuery>,
) -> Page {
    edit_page(&state, &ui, None, q.error).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> Page {
    edit_page(&state, &ui, Some(id), q.error).await
}

fn body_of(p: &Posted) -> ArticleBody {
    let opt = |k: &str| Some(p.one(k)).filter(|v| !v.trim().is_empty());
    ArticleBody {
        kind: opt("kind"),
        visibility: opt("visibility"),
        language: opt("language"),
        category_id: p.one("category_id").parse().ok(),
        title: p.one("title"),
        body: p.one("body"),
        tags: super::sla::words(&p.one("tags")),
        products: super::sla::words(&p.one("products")),
        valid_from: opt("valid_from"),
        valid_to: opt("valid_to"),
        source: p.one("source"),
        change_note: p.one("change_note"),
        files: Vec::new(),
        base_version: p.one("base_version").parse().ok(),
        keep_files: None,
    }
}

/// Saves the editor's form: a new article, or a new version of `id`.
async fn save(
    state: &AppState,
    ui: &UiAuth,
    id: Option<i64>,
    form: Multipart,
) -> Result<i64, ApiError> {
    let posted = Posted::read(form, "files").await?;
    csrf_ok(&ui.0, posted.get("csrf").as_deref())?;
    let mut body = body_of(&posted);
    if id.is_some() {
        body.keep_files = Some(posted.all("keep"));
    }
    let article = write_article(state, &ui.0, id.map(ArticleId), body, posted.files).await?;
    Ok(article.id.0)
}

pub async fn create(State(state): State<AppState>, ui: UiAuth, form: Multipart) -> Page {
    Ok(match save(&state, &ui, None, form).await {
        Ok(id) => Redirect::to(&format!("/kb/{id}")).into_response(),
        Err(e) => back("/kb/new", Err(e)),
    })
}

pub async fn revise(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    form: Multipart,
) -> Page {
    Ok(match save(&state, &ui, Some(id), form).await {
        Ok(id) => Redirect::to(&format!("/kb/{id}")).into_response(),
        Err(e) => back(&format!("/kb/{id}/edit"), Err(e)),
    })
}

pub async fn set_active(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::EditKnowledge)?;
        let active = f.on("active");
        state
            .store
            .set_article_active(ui.0.actor(), ArticleId(id), active, Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back(&format!("/kb/{id}"), r))
}

/// Answers a case from the version shown: the case records it.
pub async fn use_on_case(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::WorkCases)?;
        let case = match f.id("case_id")? {
            Some(c) => CaseId(c),
            None => {
                let n = CaseNumber::parse(f.one("number").trim())?;
                super::pages::by_number(&state, &ui, n).await?
            }
        };
        let version = f
            .one("version")
            .parse()
            .map_err(|_| ApiError::field("version", "must be a number"))?;
        state
            .store
            .use_article(ui.0.actor(), case, ArticleId(id), version, Timestamp::now())
            .await?;
        Ok(case)
    }
    .await;
    Ok(match r {
        Ok(case) => back_to_case(case.0, Ok(())),
        Err(e) => back(&format!("/kb/{id}"), Err(e)),
    })
}

/// "I have read it": the user's receipt for the announcement's current version.
pub async fn mark_read(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let _ = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::ReadCases)?;
        state
            .store
            .mark_article_read(ui.0.actor(), ArticleId(id), Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back(&format!("/kb/{id}"), r))
}
