//! One full-text index over what a contact center searches: knowledge
//! articles, cases, their contacts (mail bodies, notes, call wrap-ups) and
//! customers, in Chinese and English. Every document belongs to a tenant
//! and every search names one; kinds a role may not read are left out by
//! the caller's query. The index is a cache of the store: it can be thrown
//! away and rebuilt, and says how far it has followed the store's changes.

pub mod words;

use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Bumped when the schema or the analysis changes: an older index is rebuilt.
const SCHEMA_VERSION: u32 = 1;
const ANALYZER: &str = "cc_words";
/// Query words beyond these add little and cost time (a long case as a query).
const MAX_QUERY_WORDS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Folder(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index folder: {0}")]
    Io(#[from] std::io::Error),
}

impl SearchError {
    /// Another process (a running server) holds the index for writing.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            SearchError::Index(tantivy::TantivyError::LockFailure(..))
        )
    }
}

pub type Result<T> = std::result::Result<T, SearchError>;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Article,
    Case,
    Interaction,
    Customer,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Article, Kind::Case, Kind::Interaction, Kind::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::Case => "case",
            Kind::Interaction => "interaction",
            Kind::Customer => "customer",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A document as the store gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub tenant: i64,
    pub kind: Kind,
    pub id: i64,
    /// The case a contact belongs to (a case is its own).
    pub case_id: Option<i64>,
    /// Customers may read it on the portal.
    pub public: bool,
    pub title: String,
    pub body: String,
}

/// What to look for, and where.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub tenant: i64,
    pub text: String,
    /// The kinds the reader may see; empty finds nothing.
    pub kinds: Vec<Kind>,
    pub public_only: bool,
    /// Leave out this case and its contacts (a case looking for similar ones).
    pub not_case: Option<i64>,
    pub limit: usize,
}

/// A document found, best first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub kind: Kind,
    pub id: i64,
    pub case_id: Option<i64>,
    pub title: String,
    /// A passage with the words found in `<b>`, the rest HTML-escaped.
    pub snippet: String,
    pub score: f32,
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    tenant: Field,
    kind: Field,
    id: Field,
    case_id: Field,
    public: Field,
    title: Field,
    body: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let f = Fields {
        key: b.add_text_field("key", STRING),
        tenant: b.add_i64_field("tenant", INDEXED),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_i64_field("id", STORED),
        case_id: b.add_i64_field("case_id", STORED),
        public: b.add_i64_field("public", INDEXED),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text),
    };
    (b.build(), f)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(words::WordTokenizer::new())
        .filter(RemoveLongFilter::limit(60))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// How far the index has followed the store: opaque to this crate, kept
/// with each commit so that it and the documents never disagree.
pub type Progress = String;

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (or starting it afresh when it
    /// was written by another schema version).
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir)?;
        let version_file = dir.join("carecenter-schema");
        let current = std::fs::read_to_string(&version_file).ok();
        if current.as_deref().map(str::trim) != Some(&SCHEMA_VERSION.to_string()) {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_file() {
                    std::fs::remove_file(path)?;
                }
            }
        }
        let (schema, f) = schema();
        let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
        std::fs::write(&version_file, SCHEMA_VERSION.to_string())?;
        Self::with(index, f)
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, f) = schema();
        Self::with(Index::create_in_ram(schema), f)
    }

    fn with(index: Index, f: Fields) -> Result<SearchIndex> {
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index.writer_with_num_threads(1, 40_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
        })
    }

    fn key(&self, tenant: i64, kind: Kind, id: i64) -> Term {
        Term::from_field_text(self.f.key, &format!("{tenant}:{}:{id}", kind.as_str()))
    }

    /// Adds or replaces documents, takes out those `gone` (tenant, kind,
    /// id), and commits with the progress reached; searches see the change
    /// when this returns.
    pub fn put(&self, docs: &[Doc], gone: &[(i64, Kind, i64)], progress: &str) -> Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        for (tenant, kind, id) in gone {
            w.delete_term(self.key(*tenant, *kind, *id));
        }
        for d in docs {
            w.delete_term(self.key(d.tenant, d.kind, d.id));
            let mut doc = TantivyDocument::default();
            doc.add_text(
                self.f.key,
                format!("{}:{}:{}", d.tenant, d.kind.as_str(), d.id),
            );
            doc.add_i64(self.f.tenant, d.tenant);
            doc.add_text(self.f.kind, d.kind.as_str());
            doc.add_i64(self.f.id, d.id);
            if let Some(c) = d.case_id {
                doc.add_i64(self.f.case_id, c);
            }
            doc.add_i64(self.f.public, i64::from(d.public));
            doc.add_text(self.f.title, &d.title);
            doc.add_text(self.f.body, &d.body);
            w.add_document(doc)?;
        }
        let mut prepared = w.prepare_commit()?;
        prepared.set_payload(progress);
        prepared.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Forgets every document, to be rebuilt from the store.
    pub fn clear(&self) -> Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        w.delete_all_documents()?;
        let mut prepared = w.prepare_commit()?;
        prepared.set_payload("");
        prepared.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// The progress committed last; empty for a new or cleared index.
    pub fn progress(&self) -> Result<Progress> {
        Ok(self.index.load_metas()?.payload.unwrap_or_default())
    }

    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The words of a text as the index keeps them (lower-cased, stemmed).
    fn terms(&self, text: &str) -> Vec<String> {
        let mut a = analyzer();
        let mut stream = a.token_stream(text);
        let mut out: Vec<String> = Vec::new();
        while let Some(t) = stream.next() {
            if !out.contains(&t.text) {
                out.push(t.text.clone());
            }
            if out.len() >= MAX_QUERY_WORDS {
                break;
            }
        }
        out
    }

    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>> {
        let words = self.terms(&q.text);
        if words.is_empty() || q.kinds.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.f;
        let term = |field: Field, w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, w),
                IndexRecordOption::WithFreqs,
            ))
        };
        // Any word in the title (counting double) or the body.
        let mut text: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &words {
            text.push((
                Occur::Should,
                Box::new(BoostQuery::new(term(f.title, w), 2.0)),
            ));
            text.push((Occur::Should, term(f.body, w)));
        }
        let kinds: Vec<(Occur, Box<dyn Query>)> = q
            .kinds
            .iter()
            .map(|k| (Occur::Should, term(f.kind, k.as_str())))
            .collect();
        let exact = |field: Field, v: i64| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_i64(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut all: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, exact(f.tenant, q.tenant)),
            (Occur::Must, Box::new(BooleanQuery::new(kinds))),
            (Occur::Must, Box::new(BooleanQuery::new(text))),
        ];
        if q.public_only {
            all.push((Occur::Must, exact(f.public, 1)));
        }
        let query = BooleanQuery::new(all);
        let searcher = self.reader.searcher();
        // A case left out may take some places; ask for a few more.
        let extra = if q.not_case.is_some() { 20 } else { 0 };
        let top = searcher.search(&query, &TopDocs::with_limit(q.limit + extra))?;
        let mut snippets = SnippetGenerator::create(&searcher, &query, f.body)?;
        snippets.set_max_num_chars(160);
        let mut out = Vec::new();
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let text = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let int = |field: Field| doc.get_first(field).and_then(|v| v.as_i64());
            let Some(kind) = Kind::parse(&text(f.kind)) else {
                continue;
            };
            let case_id = int(f.case_id);
            if q.not_case.is_some() && case_id == q.not_case {
                continue;
            }
            let body = text(f.body);
            let mut snippet = snippets.snippet(&body).to_html();
            if snippet.is_empty() {
                snippet = escape(&body.chars().take(160).collect::<String>());
            }
            out.push(Hit {
                kind,
                id: int(f.id).unwrap_or_default(),
                case_id,
                title: text(f.title),
                snippet,
                score,
            });
            if out.len() == q.limit {
                break;
            }
        }
        Ok(out)
    }
}

/// Text for HTML: the snippet's own escaping, for a passage without a match.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}
