//! The knowledge base over the API: categories, articles and their
//! versions, their files, and recording that a case used an article.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::input::{AttachmentBody, Errors, attachments};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use domain::contact::text;
use domain::ids::*;
use domain::knowledge::{Article, ArticleDraft, ArticleKind};
use domain::role::Permission;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use store::{ArticleFilter, FileChange};

pub async fn categories(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        json!({ "items": state.store.kb_categories(auth.tenant.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbCategoryBody {
    pub name: String,
    pub parent_id: Option<i64>,
}

pub async fn create_category(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<KbCategoryBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(add_category(&state, &auth, b).await?),
    ))
}

pub async fn add_category(
    state: &AppState,
    auth: &Auth,
    b: KbCategoryBody,
) -> Result<store::KbCategory, ApiError> {
    auth.need(Permission::EditKnowledge)?;
    let name = text("name", &b.name, 100)?;
    let parent = b.parent_id.map(KbCategoryId);
    Ok(state
        .store
        .create_kb_category(auth.actor(), parent, &name, Timestamp::now())
        .await?)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ArticleQuery {
    pub category_id: Option<i64>,
    pub kind: Option<String>,
    pub q: Option<String>,
    pub include_retired: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ArticleQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let limit = super::limit(q.limit);
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(cursor(c)?),
    };
    let filter = ArticleFilter {
        category_id: q.category_id.map(KbCategoryId),
        kind: q.kind.as_deref().map(ArticleKind::parse).transpose()?,
        public_only: false,
        language: None,
        include_retired: q.include_retired.unwrap_or(false),
        text: q.q.clone().filter(|t| !t.trim().is_empty()),
        before,
        limit,
    };
    let items = state.store.articles(auth.tenant.id, &filter).await?;
    let next_cursor = next_cursor(&items, limit);
    Ok(axum::Json(super::Page { items, next_cursor }))
}

/// The cursor after a full page of articles: the last one's change time and id.
pub fn next_cursor(items: &[store::ArticleSummary], limit: u32) -> Option<String> {
    let last = items.last().filter(|_| items.len() as u32 >= limit)?;
    Some(format!("{}.{}", last.updated_at.as_millisecond(), last.id))
}

/// An article list's cursor, as [`next_cursor`] wrote it.
pub fn cursor(c: &str) -> Result<(Timestamp, ArticleId), ApiError> {
    let bad = || ApiError::field("cursor", "is not a cursor this API returned");
    let (at, id) = c.split_once('.').ok_or_else(bad)?;
    let at = at
        .parse()
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok());
    match (at, id.parse()) {
        (Some(at), Ok(id)) => Ok((at, ArticleId(id))),
        _ => Err(bad()),
    }
}

/// A new article or version: the content, where it came from, and files.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    pub kind: Option<String>,
    pub visibility: Option<String>,
    pub language: Option<String>,
    pub category_id: Option<i64>,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub source: String,
    #[serde(default)]
    pub change_note: String,
    /// New files, base64-encoded.
    #[serde(default)]
    pub files: Vec<AttachmentBody>,
    /// For a new version: the version it was written from.
    pub base_version: Option<i64>,
    /// For a new version: the files of the version before to keep, by
    /// content hash; absent keeps them all.
    pub keep_files: Option<Vec<String>>,
}

impl ArticleBody {
    fn draft(&self) -> ArticleDraft {
        ArticleDraft {
            kind: self.kind.clone(),
            visibility: self.visibility.clone(),
            language: self.language.clone(),
            category_id: self.category_id,
            title: self.title.clone(),
            body: self.body.clone(),
            tags: self.tags.clone(),
            products: self.products.clone(),
            valid_from: self.valid_from.clone(),
            valid_to: self.valid_to.clone(),
            source: self.source.clone(),
            change_note: self.change_note.clone(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(b): Json<ArticleBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(write_article(&state, &auth, None, b, Vec::new()).await?),
    ))
}

pub async fn revise(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<ArticleBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        write_article(&state, &auth, Some(ArticleId(id)), b, Vec::new()).await?,
    ))
}

/// Checks a new article, or a new version of `id`, and saves it; files
/// come base64 in the body (the API) or as they are (a form's upload).
pub async fn write_article(
    state: &AppState,
    auth: &Auth,
    id: Option<ArticleId>,
    b: ArticleBody,
    uploaded: Vec<domain::model::AttachmentInput>,
) -> Result<Article, ApiError> {
    auth.need(Permission::EditKnowledge)?;
    let mut e = Errors::default();
    let parsed = b.draft().parse();
    if let Err(fields) = &parsed {
        fields.iter().for_each(|f| e.push(f.clone()));
    }
    let mut files = attachments(&b.files, &mut e);
    files.extend(uploaded);
    if id.is_some() && b.base_version.is_none() {
        e.push(domain::FieldError::new("base_version", "is required"));
    }
    // Every field's error at once; the draft's are among them.
    e.finish(|| ())?;
    let (content, source, note) = parsed.map_err(ApiError::Invalid)?;
    let now = Timestamp::now();
    let actor = auth.actor();
    let id = match id {
        None => {
            state
                .store
                .create_article(actor, &content, &source, &note, &files, now)
                .await?
        }
        Some(id) => {
            let keep = match b.keep_files {
                Some(k) => k,
                None => state
                    .store
                    .article(auth.tenant.id, id)
                    .await?
                    .files
                    .into_iter()
                    .map(|f| f.sha256)
                    .collect(),
            };
            let change = FileChange { keep, add: files };
            let base = b.base_version.unwrap_or_default();
            state
                .store
                .revise_article(actor, id, base, &content, &source, &note, &change, now)
                .await?;
            id
        }
    };
    Ok(state.store.article(auth.tenant.id, id).await?)
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(axum::Json(
        state.store.article(auth.tenant.id, ArticleId(id)).await?,
    ))
}

pub async fn versions(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let items = state
        .store
        .article_versions(auth.tenant.id, ArticleId(id))
        .await?;
    Ok(axum::Json(json!({ "items": items })))
}

/// The caller confirms reading the article as it is now (an announcement's
/// read receipt).
pub async fn mark_read(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let version = state
        .store
        .mark_article_read(auth.actor(), ArticleId(id), Timestamp::now())
        .await?;
    Ok(axum::Json(json!({ "article_id": id, "version": version })))
}

/// Everyone an announcement is for, with the version each read: the
/// supervisor's list of who has not read the current one.
pub async fn readers(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Supervise)?;
    let a = state.store.article(auth.tenant.id, ArticleId(id)).await?;
    let items = state.store.article_readers(auth.tenant.id, a.id).await?;
    let current = items
        .iter()
        .filter(|r| r.read_version == Some(a.version))
        .count();
    let unread = items.iter().filter(|r| r.read_version.is_none()).count();
    Ok(axum::Json(json!({
        "version": a.version,
        "read_current": current,
        "read_older": items.len() - current - unread,
        "unread": unread,
        "items": items,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    pub active: bool,
}

pub async fn set_active(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(b): Json<ActiveBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::EditKnowledge)?;
    let id = ArticleId(id);
    state
        .store
        .set_article_active(auth.actor(), id, b.active, Timestamp::now())
        .await?;
    Ok(axum::Json(state.store.article(auth.tenant.id, id).await?))
}

pub async fn file(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sha)): Path<(i64, String)>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound);
    }
    let (meta, data) = state
        .store
        .article_file(auth.tenant.id, ArticleId(id), &sha, false)
        .await?;
    Ok(download(meta, data))
}

/// A stored file as a download under the name it was given.
pub fn download(meta: domain::model::Attachment, data: Vec<u8>) -> impl IntoResponse {
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        domain::mime::ext_value(&meta.filename)
    );
    (
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        data,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseBody {
    pub article_id: i64,
    pub version: i64,
}

pub async fn use_on_case(
    State(state): State<AppState>,
    auth: Auth,
    Id(case): Id,
    Json(b): Json<UseBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::WorkCases)?;
    let case = CaseId(case);
    state.store.case(auth.tenant.id, case).await?;
    state
        .store
        .use_article(
            auth.actor(),
            case,
            ArticleId(b.article_id),
            b.version,
            Timestamp::now(),
        )
        .await?;
    let items = state.store.case_articles(auth.tenant.id, case).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "items": items }))))
}

pub async fn used_on_case(
    State(state): State<AppState>,
    auth: Auth,
    Id(case): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadCases)?;
    let case = CaseId(case);
    state.store.case(auth.tenant.id, case).await?;
    let items = state.store.case_articles(auth.tenant.id, case).await?;
    Ok(axum::Json(json!({ "items": items })))
}
