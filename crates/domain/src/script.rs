//! Call scripts (话术): the steps an agent walks through on a call, each with
//! suggested wording and the branches the customer's answer leads to. A
//! script is versioned like an article (a script may change eleven times in
//! two weeks) and every contact an agent records with one open keeps the
//! version used. Soothing scripts for angry callers and the complaint FAQ
//! are scripts of their own kinds, offered on every case.

use crate::FieldError;
use crate::case::{CaseType, vocabulary};
use crate::contact::text;
use crate::ids::QueueId;
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    /// A call script for given case types or queues; words that calm an
    /// angry caller; or the answers to complaints' usual questions.
    ScriptKind, "kind" {
        Call = "call",
        Soothing = "soothing",
        ComplaintFaq = "complaint_faq",
    }
);

/// One step: what the agent says, and where each answer leads. A step
/// without branches goes on to the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub say: String,
    #[serde(default)]
    pub branches: Vec<Branch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// What the customer said or did, e.g. "客户情绪激动".
    pub label: String,
    /// The step it leads to.
    pub to: String,
}

/// A script as one version holds it, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptContent {
    pub kind: ScriptKind,
    pub name: String,
    /// `zh-CN` or `en`.
    pub language: String,
    /// The case types it is for; none: any.
    pub case_types: Vec<CaseType>,
    /// The queues it is for; none: any.
    pub queue_ids: Vec<QueueId>,
    /// The campaign it belongs to, by name.
    pub campaign: Option<String>,
    pub steps: Vec<Step>,
}

/// A script as it is now.
#[derive(Debug, Clone, Serialize)]
pub struct Script {
    pub id: crate::ids::ScriptId,
    /// The current version's number, from 1.
    pub version: i64,
    /// The current version's row: what a contact records as the script used.
    pub version_id: i64,
    #[serde(flatten)]
    pub content: ScriptContent,
    pub active: bool,
    pub updated_at: jiff::Timestamp,
}

/// One version of a script, kept as it was.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptVersion {
    pub version_id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub content: ScriptContent,
    pub change_note: String,
    /// The fields this version changed.
    pub changed: Vec<String>,
    pub author_name: Option<String>,
    pub created_at: jiff::Timestamp,
}

/// The script version a contact was recorded with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptUse {
    pub version_id: i64,
    pub script_id: crate::ids::ScriptId,
    pub version: i64,
    pub name: String,
}

/// What a writer sends for a new version.
#[derive(Debug, Clone, Default)]
pub struct ScriptDraft {
    pub kind: Option<String>,
    pub name: String,
    pub language: Option<String>,
    pub case_types: Vec<String>,
    pub queue_ids: Vec<i64>,
    pub campaign: Option<String>,
    pub steps: Vec<Step>,
    pub change_note: String,
}

const MAX_STEPS: usize = 100;
const MAX_BRANCHES: usize = 10;

impl ScriptDraft {
    /// The checked content and change note; every field's error at once.
    pub fn parse(&self) -> Result<(ScriptContent, String), Vec<FieldError>> {
        fn keep<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
            r.map_err(|e| errors.push(e)).ok()
        }
        let mut errors = Vec::new();
        let kind = keep(
            &mut errors,
            ScriptKind::parse(self.kind.as_deref().unwrap_or("call")).map(Some),
        );
        let language = keep(
            &mut errors,
            crate::template::parse_language(self.language.as_deref().unwrap_or("zh-CN")).map(Some),
        );
        let name = keep(&mut errors, text("name", &self.name, 100).map(Some));
        let campaign = keep(
            &mut errors,
            match self.campaign.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(c) => text("campaign", c, 100).map(Some),
            },
        );
        let note = keep(
            &mut errors,
            match self.change_note.trim() {
                "" => Ok(None),
                n => text("change_note", n, 500).map(Some),
            },
        );
        let mut case_types = Vec::new();
        for (i, t) in self.case_types.iter().enumerate() {
            match CaseType::parse(t) {
                Ok(t) if !case_types.contains(&t) => case_types.push(t),
                Ok(_) => {}
                Err(e) => errors.push(e.at(format!("case_types[{i}]"))),
            }
        }
        let mut queue_ids = Vec::new();
        for q in &self.queue_ids {
            if !queue_ids.contains(&QueueId(*q)) {
                queue_ids.push(QueueId(*q));
            }
        }
        errors.extend(check_steps(&self.steps));
        match (kind.flatten(), language.flatten(), name.flatten()) {
            (Some(kind), Some(language), Some(name)) if errors.is_empty() => Ok((
                ScriptContent {
                    kind,
                    name,
                    language,
                    case_types,
                    queue_ids,
                    campaign: campaign.flatten(),
                    steps: self
                        .steps
                        .iter()
                        .map(|s| Step {
                            id: s.id.trim().to_string(),
                            title: s.title.trim().to_string(),
                            say: s.say.trim().to_string(),
                            branches: s
                                .branches
                                .iter()
                                .map(|b| Branch {
                                    label: b.label.trim().to_string(),
                                    to: b.to.trim().to_string(),
                                })
                                .collect(),
                        })
                        .collect(),
                },
                note.flatten().unwrap_or_default(),
            )),
            _ => Err(errors),
        }
    }
}

/// A step's name: letters, digits, `_` and `-`, so it can stand in a link.
fn step_id(field: &str, id: &str) -> Result<(), FieldError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if id.chars().count() > 40
        || !id
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(FieldError::new(
            field,
            "must be up to 40 letters, digits, _ or -",
        ));
    }
    Ok(())
}

fn check_steps(steps: &[Step]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if steps.is_empty() {
        errors.push(FieldError::new("steps", "needs at least one step"));
    }
    if steps.len() > MAX_STEPS {
        errors.push(FieldError::new("steps", "at most 100"));
    }
    let ids: Vec<&str> = steps.iter().map(|s| s.id.trim()).collect();
    for (i, s) in steps.iter().enumerate() {
        let at = |f: &str| format!("steps[{i}].{f}");
        if let Err(e) = step_id(&at("id"), &s.id) {
            errors.push(e);
        } else if ids[..i].contains(&s.id.trim()) {
            errors.push(FieldError::new(at("id"), "named twice"));
        }
        if let Err(e) = text(&at("title"), &s.title, 100) {
            errors.push(e);
        }
        if s.say.chars().count() > 4000 {
            errors.push(FieldError::new(at("say"), "is longer than 4000 characters"));
        }
        if s.branches.len() > MAX_BRANCHES {
            errors.push(FieldError::new(at("branches"), "at most 10"));
        }
        for (j, b) in s.branches.iter().enumerate() {
            let at_b = |f: &str| format!("steps[{i}].branches[{j}].{f}");
            if let Err(e) = text(&at_b("label"), &b.label, 100) {
                errors.push(e);
            }
            if !ids.contains(&b.to.trim()) {
                errors.push(FieldError::new(at_b("to"), "is not a step of this script"));
            }
        }
    }
    errors
}

/// The steps written as text, the way the editor shows them:
///
/// ```text
/// [greet] 问候
/// 您好，这里是星途汽车客服中心。
/// > 客户情绪激动 -> calm
///
/// [calm] 安抚
/// 非常理解您的心情……
/// ```
///
/// A step opens with `[id] title`; its lines are the wording, except those
/// starting with `>`, which are branches (`> label -> step`).
pub fn steps_from_text(input: &str) -> Result<Vec<Step>, FieldError> {
    let mut steps: Vec<Step> = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix('[') {
            let Some((id, title)) = rest.split_once(']') else {
                return Err(FieldError::new(
                    "steps",
                    format!("line {}: a step opens with [id] title", n + 1),
                ));
            };
            steps.push(Step {
                id: id.trim().to_string(),
                title: title.trim().to_string(),
                say: String::new(),
                branches: Vec::new(),
            });
            continue;
        }
        let Some(step) = steps.last_mut() else {
            if trimmed.is_empty() {
                continue;
            }
            return Err(FieldError::new(
                "steps",
                format!("line {}: write [id] title before the wording", n + 1),
            ));
        };
        if let Some(branch) = trimmed.strip_prefix('>') {
            let Some((label, to)) = branch.rsplit_once("->") else {
                return Err(FieldError::new(
                    "steps",
                    format!("line {}: a branch is > label -> step", n + 1),
                ));
            };
            step.branches.push(Branch {
                label: label.trim().to_string(),
                to: to.trim().to_string(),
            });
        } else {
            if !step.say.is_empty() || !trimmed.is_empty() {
                step.say.push_str(line.trim_end());
                step.say.push('\n');
            }
        }
    }
    for s in &mut steps {
        s.say = s.say.trim().to_string();
    }
    Ok(steps)
}

/// The steps as the editor's text; [`steps_from_text`] reads it back.
pub fn steps_to_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for (i, s) in steps.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("[{}] {}\n", s.id, s.title));
        if !s.say.is_empty() {
            out.push_str(&s.say);
            out.push('\n');
        }
        for b in &s.branches {
            out.push_str(&format!("> {} -> {}\n", b.label, b.to));
        }
    }
    out
}

impl ScriptContent {
    /// Whether it is offered on a case of this type waiting in (or last
    /// routed through) this queue. Soothing scripts and the complaint FAQ
    /// are offered on every case.
    pub fn fits(&self, case_type: CaseType, queue: Option<QueueId>) -> bool {
        if self.kind != ScriptKind::Call {
            return true;
        }
        (self.case_types.is_empty() || self.case_types.contains(&case_type))
            && (self.queue_ids.is_empty() || queue.is_some_and(|q| self.queue_ids.contains(&q)))
    }

    /// The step after `id`: its only way on when it has no branches.
    pub fn next_step(&self, id: &str) -> Option<&Step> {
        let i = self.steps.iter().position(|s| s.id == id)?;
        self.steps.get(i + 1)
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The parts a new version changes, by field name, for its history.
    pub fn changes_from(&self, old: &ScriptContent) -> Vec<&'static str> {
        [
            ("kind", self.kind != old.kind),
            ("name", self.name != old.name),
            ("language", self.language != old.language),
            ("case_types", self.case_types != old.case_types),
            ("queue_ids", self.queue_ids != old.queue_ids),
            ("campaign", self.campaign != old.campaign),
            ("steps", self.steps != old.steps),
        ]
        .into_iter()
        .filter_map(|(n, differs)| differs.then_some(n))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[greet] 问候\n您好，这里是星途汽车客服中心。\n请问有什么可以帮您？\n> 客户情绪激动 -> calm\n> 客户说明问题 -> issue\n\n[calm] 安抚\n非常理解您的心情。\n\n[issue] 记录问题\n请问车架号是多少？\n";

    fn draft(steps: Vec<Step>) -> ScriptDraft {
        ScriptDraft {
            name: "召回来电".into(),
            case_types: vec!["complaint".into(), "complaint".into()],
            queue_ids: vec![3, 3],
            steps,
            ..Default::default()
        }
    }

    #[test]
    fn steps_read_from_text_and_written_back() {
        let steps = steps_from_text(TEXT).expect("reads");
        assert_eq!(steps.len(), 3);
        assert_eq!(
            steps[0].say,
            "您好，这里是星途汽车客服中心。\n请问有什么可以帮您？"
        );
        assert_eq!(
            steps[0].branches[1],
            Branch {
                label: "客户说明问题".into(),
                to: "issue".into()
            }
        );
        assert_eq!(steps_from_text(&steps_to_text(&steps)).unwrap(), steps);
        let (content, _) = draft(steps).parse().expect("valid");
        assert_eq!(content.case_types, vec![CaseType::Complaint]);
        assert_eq!(content.queue_ids, vec![QueueId(3)]);
        assert_eq!(
            content.next_step("calm").map(|s| s.id.as_str()),
            Some("issue")
        );
        assert!(content.fits(CaseType::Complaint, Some(QueueId(3))));
        assert!(!content.fits(CaseType::Inquiry, Some(QueueId(3))));
        assert!(!content.fits(CaseType::Complaint, None));
        for bad in ["wording before a step", "[greet 问候", "[a] b\n> no arrow"] {
            assert_eq!(
                steps_from_text(bad).map_err(|e| e.field),
                Err("steps".to_string()),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_scripts_name_their_fields() {
        let good = steps_from_text(TEXT).unwrap();
        type Change = fn(&mut ScriptDraft);
        let cases: &[(Change, &str)] = &[
            (|d| d.name.clear(), "name"),
            (|d| d.kind = Some("poem".into()), "kind"),
            (|d| d.language = Some("fr".into()), "language"),
            (|d| d.case_types = vec!["gossip".into()], "case_types[0]"),
            (|d| d.steps.clear(), "steps"),
            (|d| d.steps[1].id = "greet".into(), "steps[1].id"),
            (|d| d.steps[1].id = "有 空格".into(), "steps[1].id"),
            (
                |d| d.steps[0].branches[0].to = "nowhere".into(),
                "steps[0].branches[0].to",
            ),
            (|d| d.steps[2].title.clear(), "steps[2].title"),
        ];
        for (change, field) in cases {
            let mut d = draft(good.clone());
            change(&mut d);
            let errors = d.parse().expect_err("refused");
            assert!(
                errors.iter().any(|e| e.field == *field),
                "{field}: {errors:?}"
            );
        }
    }
}
