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
/// Of a long text, the words searched for.
const MAX_TELLING_WORDS: usize = 8;

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
    writer: Mutex<Option<IndexWriter>>,
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
        let writer = Some(Self::writer_of(&index)?);
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

    fn writer_of(index: &Index) -> Result<IndexWriter> {
        Ok(index.writer_with_num_threads(1, 40_000_000)?)
    }

    /// Waits for the segment merges under way (a benchmark measures the
    /// searches of a settled index).
    pub fn settle(&self) -> Result<()> {
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = guard.take() {
            w.wait_merging_threads()?;
        }
        *guard = Some(Self::writer_of(&self.index)?);
        drop(guard);
        self.reader.reload()?;
        Ok(())
    }

    /// The writer, made again if an earlier failure left none.
    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Option<IndexWriter>>> {
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(Self::writer_of(&self.index)?);
        }
        Ok(guard)
    }

    fn key(&self, tenant: i64, kind: Kind, id: i64) -> Term {
        Term::from_field_text(self.f.key, &format!("{tenant}:{}:{id}", kind.as_str()))
    }

    /// Adds or replaces documents, takes out those `gone` (tenant, kind,
    /// id), and commits with the progress reached; searches see the change
    /// when this returns.
    pub fn put(&self, docs: &[Doc], gone: &[(i64, Kind, i64)], progress: &str) -> Result<()> {
        let mut guard = self.writer()?;
        let Some(w) = guard.as_mut() else {
            return Ok(());
        };
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
        drop(guard);
        self.reader.reload()?;
        Ok(())
    }

    /// Forgets every document, to be rebuilt from the store.
    pub fn clear(&self) -> Result<()> {
        let mut guard = self.writer()?;
        let Some(w) = guard.as_mut() else {
            return Ok(());
        };
        w.delete_all_documents()?;
        let mut prepared = w.prepare_commit()?;
        prepared.set_payload("");
        prepared.commit()?;
        drop(guard);
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
        let mut words = self.terms(&q.text);
        if words.is_empty() || q.kinds.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.f;
        let searcher = self.reader.searcher();
        let df = |field: Field, w: &str| {
            searcher
                .doc_freq(&Term::from_field_text(field, w))
                .unwrap_or(u64::MAX)
        };
        // A long text (a case looking for its like) is searched by its most
        // telling words: the rarest ones.
        if words.len() > MAX_TELLING_WORDS {
            words.sort_by_key(|w| df(f.body, w));
            words.truncate(MAX_TELLING_WORDS);
        }
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
        let exact = |field: Field, v: i64| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_i64(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut all: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, exact(f.tenant, q.tenant)),
            (Occur::Must, Box::new(BooleanQuery::new(text))),
        ];
        // The kinds: as those wanted or as those not, whichever is fewer
        // documents to walk (every kind wanted asks nothing).
        let (wanted, unwanted): (Vec<Kind>, Vec<Kind>) =
            Kind::ALL.into_iter().partition(|k| q.kinds.contains(k));
        let count = |ks: &[Kind]| ks.iter().map(|k| df(f.kind, k.as_str())).sum::<u64>();
        if count(&unwanted) <= count(&wanted) {
            for k in unwanted {
                all.push((Occur::MustNot, term(f.kind, k.as_str())));
            }
        } else {
            let any: Vec<(Occur, Box<dyn Query>)> = wanted
                .iter()
                .map(|k| (Occur::Should, term(f.kind, k.as_str())))
                .collect();
            all.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if q.public_only {
            all.push((Occur::Must, exact(f.public, 1)));
        }
        let query = BooleanQuery::new(all);
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
            let mut snippet = marked(&snippets.snippet(&body));
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

/// A passage as HTML, the words found in `<b>`. Words inside longer words
/// (Chinese search mode, the parts of `LX-5`) overlap: their marks merge.
fn marked(s: &tantivy::snippet::Snippet) -> String {
    let text = s.fragment();
    let mut ranges: Vec<std::ops::Range<usize>> = s.highlighted().to_vec();
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        let (start, end) = (r.start.max(at), r.end.min(text.len()));
        if start >= end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        out.push_str(&escape(&text[at..start]));
        out.push_str("<b>");
        out.push_str(&escape(&text[start..end]));
        out.push_str("</b>");
        at = end;
    }
    out.push_str(&escape(&text[at.min(text.len())..]));
    out
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
