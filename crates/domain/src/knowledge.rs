//! The knowledge base: articles agents answer from and customers read. Each
//! change is a new version that keeps who wrote it, when, what changed and
//! where the information came from, so that an outsourcer can show which
//! information its client supplied. Old versions stay readable; a case
//! records the version an agent used.

use crate::FieldError;
use crate::case::vocabulary;
use crate::contact::text;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use std::fmt;

vocabulary!(
    /// What an article is, which decides where the portal shows it. An
    /// announcement is news: for agents (a new product, a price change, a
    /// notice sent to customers), with read receipts, or, public, for
    /// customers on the portal.
    ArticleKind, "kind" {
        Article = "article",
        Faq = "faq",
        Glossary = "glossary",
        Download = "download",
        Announcement = "announcement",
    }
);

vocabulary!(
    /// Who may read an article: agents only, or customers on the portal too.
    Visibility, "visibility" {
        Internal = "internal",
        Public = "public",
    }
);

/// An article's content as one version holds it, already checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleContent {
    pub kind: ArticleKind,
    pub visibility: Visibility,
    /// `zh-CN` or `en`.
    pub language: String,
    pub category_id: Option<crate::ids::KbCategoryId>,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    /// Products and models it concerns (e.g. "星途 LX", "2024 款").
    pub products: Vec<String>,
    /// First and last day it holds (a promotion ends), in the tenant's calendar.
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

/// What a writer sends for a new version: the content, and where the
/// information came from.
#[derive(Debug, Clone, Default)]
pub struct ArticleDraft {
    pub kind: Option<String>,
    pub visibility: Option<String>,
    pub language: Option<String>,
    pub category_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub products: Vec<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    /// Who supplied the information, e.g. "the client's marketing department, e-mail of 2026-03-02".
    pub source: String,
    /// What this version changes and why.
    pub change_note: String,
}

/// Limits of an article's parts.
pub const MAX_BODY_CHARS: usize = 100_000;
const MAX_WORDS: usize = 30;

impl ArticleDraft {
    /// The checked content and source; every field's error at once.
    pub fn parse(&self) -> Result<(ArticleContent, String, String), Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = take(
            &mut errors,
            ArticleKind::parse(self.kind.as_deref().unwrap_or("article")),
        );
        let visibility = take(
            &mut errors,
            Visibility::parse(self.visibility.as_deref().unwrap_or("internal")),
        );
        let language = take(
            &mut errors,
            crate::template::parse_language(self.language.as_deref().unwrap_or("zh-CN")),
        );
        let title = take(&mut errors, text("title", &self.title, 200));
        let body = take(&mut errors, body_text(&self.body));
        let tags = take(&mut errors, words("tags", &self.tags));
        let products = take(&mut errors, words("products", &self.products));
        let valid_from = take(&mut errors, day("valid_from", self.valid_from.as_deref()));
        let valid_to = take(&mut errors, day("valid_to", self.valid_to.as_deref()));
        let source = take(&mut errors, text("source", &self.source, 500));
        let note = take(
            &mut errors,
            match self.change_note.trim() {
                "" => Ok(String::new()),
                n => text("change_note", n, 500),
            },
        );
        if let (Some(Some(a)), Some(Some(b))) = (valid_from, valid_to)
            && b < a
        {
            errors.push(FieldError::new("valid_to", "is before valid_from"));
        }
        match (kind, visibility, language, title, body, tags, products) {
            (
                Some(kind),
                Some(visibility),
                Some(language),
                Some(title),
                Some(body),
                Some(tags),
                Some(products),
            ) if errors.is_empty() => {
                let content = ArticleContent {
                    kind,
                    visibility,
                    language,
                    category_id: self.category_id.map(crate::ids::KbCategoryId),
                    title,
                    body,
                    tags,
                    products,
                    valid_from: valid_from.flatten(),
                    valid_to: valid_to.flatten(),
                };
                Ok((
                    content,
                    source.unwrap_or_default(),
                    note.unwrap_or_default(),
                ))
            }
            _ => Err(errors),
        }
    }
}

fn take<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn body_text(body: &str) -> Result<String, FieldError> {
    let b = body.trim();
    if b.is_empty() {
        return Err(FieldError::new("body", "is required"));
    }
    if b.chars().count() > MAX_BODY_CHARS {
        return Err(FieldError::new("body", "is longer than 100000 characters"));
    }
    Ok(b.to_string())
}

/// Tags or products: each once, in the order given, at most 30.
fn words(field: &str, list: &[String]) -> Result<Vec<String>, FieldError> {
    if list.len() > MAX_WORDS {
        return Err(FieldError::new(field, "at most 30"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, w) in list.iter().enumerate() {
        let w = text(&format!("{field}[{i}]"), w, 60)?;
        if !out.iter().any(|x| x.eq_ignore_ascii_case(&w)) {
            out.push(w);
        }
    }
    Ok(out)
}

fn day(field: &str, input: Option<&str>) -> Result<Option<Date>, FieldError> {
    match input.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<Date>()
            .map(Some)
            .map_err(|_| FieldError::new(field, "must be a date such as 2026-03-01")),
    }
}

impl ArticleContent {
    /// Whether it holds on a day: an expired promotion is still found, but
    /// marked, and the portal no longer shows it.
    pub fn valid_on(&self, today: Date) -> bool {
        self.valid_from.is_none_or(|d| d <= today) && self.valid_to.is_none_or(|d| today <= d)
    }

    /// The parts a new version changes, by field name, for its history.
    pub fn changes_from(&self, old: &ArticleContent) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut note = |name, differs: bool| {
            if differs {
                out.push(name);
            }
        };
        note("kind", self.kind != old.kind);
        note("visibility", self.visibility != old.visibility);
        note("language", self.language != old.language);
        note("category_id", self.category_id != old.category_id);
        note("title", self.title != old.title);
        note("body", self.body != old.body);
        note("tags", self.tags != old.tags);
        note("products", self.products != old.products);
        note("valid_from", self.valid_from != old.valid_from);
        note("valid_to", self.valid_to != old.valid_to);
        out
    }
}

/// An article as it stands: its current version's content, and its history's length.
#[derive(Debug, Clone, Serialize)]
pub struct Article {
    pub id: crate::ids::ArticleId,
    /// The current version's number, from 1.
    pub version: i64,
    #[serde(flatten)]
    pub content: ArticleContent,
    /// Where the current version's information came from.
    pub source: String,
    /// False once retired: kept, with its versions, but no longer offered.
    pub active: bool,
    pub files: Vec<ArticleFile>,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
}

/// A file of an article version (a brochure, a price list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleFile {
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// One entry of an article's history.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleVersion {
    pub version: i64,
    #[serde(flatten)]
    pub content: ArticleContent,
    pub source: String,
    pub change_note: String,
    /// The fields this version changed from the one before.
    pub changed: Vec<String>,
    pub author_id: Option<crate::ids::UserId>,
    pub author_name: Option<String>,
    pub created_at: jiff::Timestamp,
    pub files: Vec<ArticleFile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ArticleDraft {
        ArticleDraft {
            title: "保养周期".into(),
            body: "首次保养 5000 公里或 6 个月。".into(),
            tags: vec!["保养".into(), "保养".into(), "Maintenance".into()],
            source: "客户售后部 2026-03-02 邮件".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_draft_is_checked_field_by_field() {
        let (content, source, note) = draft().parse().unwrap();
        assert_eq!(
            (content.kind, content.visibility, content.language.as_str()),
            (ArticleKind::Article, Visibility::Internal, "zh-CN")
        );
        assert_eq!(content.tags, ["保养", "Maintenance"], "each tag once");
        assert_eq!(
            (source.as_str(), note.as_str()),
            ("客户售后部 2026-03-02 邮件", "")
        );

        let bad = [
            (
                ArticleDraft {
                    title: " ".into(),
                    ..draft()
                },
                "title",
            ),
            (
                ArticleDraft {
                    body: "".into(),
                    ..draft()
                },
                "body",
            ),
            (
                ArticleDraft {
                    source: "".into(),
                    ..draft()
                },
                "source",
            ),
            (
                ArticleDraft {
                    kind: Some("memo".into()),
                    ..draft()
                },
                "kind",
            ),
            (
                ArticleDraft {
                    visibility: Some("secret".into()),
                    ..draft()
                },
                "visibility",
            ),
            (
                ArticleDraft {
                    language: Some("fr".into()),
                    ..draft()
                },
                "language",
            ),
            (
                ArticleDraft {
                    valid_from: Some("next week".into()),
                    ..draft()
                },
                "valid_from",
            ),
            (
                ArticleDraft {
                    valid_from: Some("2026-04-01".into()),
                    valid_to: Some("2026-03-01".into()),
                    ..draft()
                },
                "valid_to",
            ),
            (
                ArticleDraft {
                    tags: vec!["x".repeat(61)],
                    ..draft()
                },
                "tags[0]",
            ),
        ];
        for (d, field) in bad {
            let errs = d.parse().unwrap_err();
            assert!(errs.iter().any(|e| e.field == field), "{field}: {errs:?}");
        }
    }

    #[test]
    fn validity_and_changes() {
        let promo = ArticleDraft {
            valid_from: Some("2026-03-01".into()),
            valid_to: Some("2026-03-31".into()),
            ..draft()
        };
        let (c, _, _) = promo.parse().unwrap();
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert!(!c.valid_on(d("2026-02-28")));
        assert!(c.valid_on(d("2026-03-01")) && c.valid_on(d("2026-03-31")));
        assert!(!c.valid_on(d("2026-04-01")));
        let (old, _, _) = draft().parse().unwrap();
        assert_eq!(c.changes_from(&old), ["valid_from", "valid_to"]);
        assert!(old.changes_from(&old).is_empty());
    }
}
