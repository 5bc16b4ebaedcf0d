//! Search for the server: the index follows the store's changes (a look
//! every 300 ms, so a change is found within a second), and answers
//! searches once it has caught up. Until then, and while it is rebuilt, the
//! store answers them itself: slower, unranked, but nothing goes missing.

use search::{Doc, Hit, Kind, SearchIndex, SearchQuery};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use store::{FeedItem, FeedKind, FeedMark, Store};

/// Documents read from the store at a time, per kind.
const BATCH: u32 = 1000;
const LOOK_EVERY: Duration = Duration::from_millis(300);

pub struct Finder {
    store: Store,
    index: Arc<SearchIndex>,
    /// The index has caught up with the store: searches go to it.
    ready: AtomicBool,
    /// An administrator asked for a rebuild; the feed starts over.
    rebuild: AtomicBool,
}

fn kind_of(k: FeedKind) -> Kind {
    match k {
        FeedKind::Article => Kind::Article,
        FeedKind::Case => Kind::Case,
        FeedKind::Interaction => Kind::Interaction,
        FeedKind::Customer => Kind::Customer,
    }
}

fn feed_kind(k: Kind) -> FeedKind {
    match k {
        Kind::Article => FeedKind::Article,
        Kind::Case => FeedKind::Case,
        Kind::Interaction => FeedKind::Interaction,
        Kind::Customer => FeedKind::Customer,
    }
}

/// Takes one batch of the store's changes into the index; answers the new
/// mark and whether more are waiting.
pub async fn feed_once(
    store: &Store,
    index: &Arc<SearchIndex>,
    mark: FeedMark,
) -> Result<(FeedMark, bool, usize), String> {
    let (items, next, more) = store
        .search_feed(mark, BATCH)
        .await
        .map_err(|e| e.to_string())?;
    let n = items.len();
    if n > 0 || next != mark {
        let (gone, docs): (Vec<FeedItem>, Vec<FeedItem>) = items.into_iter().partition(|i| i.gone);
        let docs: Vec<Doc> = docs
            .into_iter()
            .map(|i| Doc {
                tenant: i.tenant,
                kind: kind_of(i.kind),
                id: i.id,
                case_id: i.case_id,
                public: i.public,
                title: i.title,
                body: i.body,
            })
            .collect();
        let gone: Vec<(i64, Kind, i64)> = gone
            .iter()
            .map(|i| (i.tenant, kind_of(i.kind), i.id))
            .collect();
        let progress = serde_json::to_string(&next).unwrap_or_default();
        let index = index.clone();
        tokio::task::spawn_blocking(move || index.put(&docs, &gone, &progress))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok((next, more, n))
}

/// The mark an index's last commit reached; a new index starts from nothing.
pub fn mark_of(index: &SearchIndex) -> FeedMark {
    index
        .progress()
        .ok()
        .and_then(|p| serde_json::from_str(&p).ok())
        .unwrap_or_default()
}

impl Finder {
    pub fn new(store: Store, index: Arc<SearchIndex>) -> Arc<Finder> {
        Arc::new(Finder {
            store,
            index,
            ready: AtomicBool::new(false),
            rebuild: AtomicBool::new(false),
        })
    }

    /// Follows the store for as long as the server runs.
    pub async fn run(self: Arc<Self>) {
        let mut mark = mark_of(&self.index);
        loop {
            if self.rebuild.swap(false, Ordering::SeqCst) {
                self.ready.store(false, Ordering::SeqCst);
                let index = self.index.clone();
                match tokio::task::spawn_blocking(move || index.clear()).await {
                    Ok(Ok(())) => mark = FeedMark::default(),
                    other => tracing::error!(?other, "clearing the search index failed"),
                }
            }
            match feed_once(&self.store, &self.index, mark).await {
                Ok((next, more, _)) => {
                    mark = next;
                    if more {
                        continue;
                    }
                    self.ready.store(true, Ordering::SeqCst);
                }
                Err(e) => {
                    tracing::error!(error = %e, "the search index could not follow the store")
                }
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }

    /// Whether searches are answered by the index (else by the store).
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Starts the index over from the store; searches use the store meanwhile.
    pub fn rebuild(&self) {
        self.ready.store(false, Ordering::SeqCst);
        self.rebuild.store(true, Ordering::SeqCst);
    }

    pub async fn search(&self, q: SearchQuery) -> Result<Vec<Hit>, store::StoreError> {
        if self.ready() {
            let index = self.index.clone();
            let found = tokio::task::spawn_blocking(move || index.search(&q)).await;
            return match found {
                Ok(Ok(hits)) => Ok(hits),
                other => Err(store::StoreError::Internal(format!("{other:?}"))),
            };
        }
        let words: Vec<String> = q.text.split_whitespace().map(String::from).collect();
        let kinds: Vec<FeedKind> = q.kinds.iter().map(|k| feed_kind(*k)).collect();
        let rows = self
            .store
            .search_rows(q.tenant, &words, &kinds, q.public_only, q.limit as u32)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|r| q.not_case.is_none() || r.case_id != q.not_case)
            .map(|r| Hit {
                kind: kind_of(r.kind),
                id: r.id,
                case_id: r.case_id,
                title: r.title,
                snippet: escape(&r.body),
                score: 0.0,
            })
            .collect())
    }
}

fn escape(s: &str) -> String {
    askama::filters::escape(s, askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default()
}
