//! One search over articles, cases, contacts and customers, and the
//! suggestions beside a case: articles that answer it, earlier similar cases.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::ids::CaseId;
use domain::role::Permission;
use search::{Hit, Kind, SearchQuery};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    pub q: Option<String>,
    /// Comma-separated: article, case, interaction, customer.
    pub kinds: Option<String>,
    pub limit: Option<u32>,
}

/// A hit with the page it opens.
#[derive(Serialize, Clone)]
pub struct Found {
    #[serde(flatten)]
    pub hit: Hit,
    pub href: String,
}

pub fn found(hit: Hit) -> Found {
    let href = match hit.kind {
        Kind::Article => format!("/kb/{}", hit.id),
        Kind::Case => format!("/cases/{}", hit.id),
        Kind::Interaction => format!("/cases/{}#i{}", hit.case_id.unwrap_or_default(), hit.id),
        Kind::Customer => format!("/customers/{}", hit.id),
    };
    Found { hit, href }
}

/// The kinds a reader may search: everything an agent may read.
fn readable(auth: &Auth) -> Result<Vec<Kind>, ApiError> {
    auth.need(Permission::ReadCases)?;
    Ok(Kind::ALL.to_vec())
}

pub fn kinds(raw: Option<&str>, allowed: &[Kind]) -> Result<Vec<Kind>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(allowed.to_vec());
    };
    raw.split(',')
        .map(|k| {
            Kind::ALL
                .into_iter()
                .find(|x| x.as_str() == k.trim())
                .filter(|x| allowed.contains(x))
                .ok_or_else(|| {
                    ApiError::field("kinds", "must be article, case, interaction or customer")
                })
        })
        .collect()
}

pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<SearchParams>,
) -> Result<impl IntoResponse, ApiError> {
    let allowed = readable(&auth)?;
    let q = SearchQuery {
        tenant: auth.tenant.id.0,
        text: p.q.unwrap_or_default(),
        kinds: kinds(p.kinds.as_deref(), &allowed)?,
        public_only: false,
        not_case: None,
        limit: super::limit(p.limit) as usize,
    };
    let source = if state.finder.ready() {
        "index"
    } else {
        "store"
    };
    let items: Vec<Found> = state
        .finder
        .search(q)
        .await?
        .into_iter()
        .map(found)
        .collect();
    Ok(axum::Json(json!({ "items": items, "source": source })))
}

pub async fn rebuild(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::Administer)?;
    state.finder.rebuild();
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SuggestParams {
    /// What the agent is typing; without it, the case's own words.
    pub text: Option<String>,
}

/// Suggestions for a case: articles, and earlier cases like it.
#[derive(Serialize, Default)]
pub struct Suggestions {
    pub articles: Vec<Found>,
    pub cases: Vec<Found>,
}

pub async fn suggest_for(
    state: &AppState,
    auth: &Auth,
    case: CaseId,
    text: Option<String>,
) -> Result<Suggestions, ApiError> {
    readable(auth)?;
    let c = state.store.case(auth.tenant.id, case).await?;
    let text = match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => t,
        None => format!("{} {}", c.summary.subject, c.description),
    };
    let query = |kinds: Vec<Kind>, limit| SearchQuery {
        tenant: auth.tenant.id.0,
        text: text.clone(),
        kinds,
        public_only: false,
        not_case: Some(case.0),
        limit,
    };
    let articles = state.finder.search(query(vec![Kind::Article], 5)).await?;
    let mut cases: Vec<Hit> = Vec::new();
    for h in state
        .finder
        .search(query(vec![Kind::Case, Kind::Interaction], 20))
        .await?
    {
        // One line per earlier case, however many of its contacts match.
        let id = h.case_id.unwrap_or(h.id);
        if !cases.iter().any(|c| c.case_id.unwrap_or(c.id) == id) && cases.len() < 5 {
            cases.push(Hit {
                kind: Kind::Case,
                id,
                case_id: Some(id),
                ..h
            });
        }
    }
    Ok(Suggestions {
        articles: articles.into_iter().map(found).collect(),
        cases: cases.into_iter().map(found).collect(),
    })
}

pub async fn suggestions(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(p): Query<SuggestParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        suggest_for(&state, &auth, CaseId(id), p.text).await?,
    ))
}
