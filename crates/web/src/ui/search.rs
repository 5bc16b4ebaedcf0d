//! The search page, and the suggestions beside a case (also as a fragment
//! the page fetches again while the agent types a note).

#![allow(clippy::result_large_err)]

use super::pages::{Page, or_page};
use super::{Chrome, UiAuth, render};
use crate::AppState;
use crate::api::search::{
    Found, SearchParams, SuggestParams, Suggestions, found, kinds, suggest_for,
};
use crate::extract::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use domain::ids::CaseId;
use domain::role::Permission;
use search::{Kind, SearchQuery};

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    kind: String,
    kinds: [Kind; 4],
    items: Vec<Found>,
    /// The index is being rebuilt: the store answered.
    slow: bool,
}

pub async fn page(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(p): Query<SearchParams>,
) -> Page {
    let c = Chrome::new(&ui, "search");
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let q = p.q.unwrap_or_default();
    let kind = p.kinds.unwrap_or_default();
    let chosen = or_page(&c, kinds(Some(&kind), &Kind::ALL))?;
    let items = if q.trim().is_empty() {
        Vec::new()
    } else {
        let query = SearchQuery {
            tenant: ui.0.tenant.id.0,
            text: q.clone(),
            kinds: chosen,
            public_only: false,
            not_case: None,
            limit: 50,
        };
        or_page(&c, state.finder.search(query).await)?
            .into_iter()
            .map(found)
            .collect()
    };
    Ok(render(&SearchPage {
        slow: !state.finder.ready(),
        q,
        kind,
        kinds: Kind::ALL,
        items,
        c,
    }))
}

#[derive(Template)]
#[template(path = "suggestions.html")]
struct SuggestionsFragment {
    c: Chrome,
    suggest: Suggestions,
}

/// The suggestions panel alone, for the case page to fetch as the agent types.
pub async fn fragment(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(p): Query<SuggestParams>,
) -> Page {
    let c = Chrome::new(&ui, "cases");
    let suggest = or_page(&c, suggest_for(&state, &ui.0, CaseId(id), p.text).await)?;
    let body = SuggestionsFragment { c, suggest }
        .render()
        .unwrap_or_default();
    Ok(Html(body).into_response())
}
