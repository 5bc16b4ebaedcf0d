//! Call scripts in the browser: the list, a script with its versions, the
//! editor (steps written as text), and the panel on a case where an agent
//! walks a script step by step; a contact recorded with the panel open
//! keeps the script version used.

#![allow(clippy::result_large_err)]

use super::pages::{Page, or_page};
use super::sla::{FormPairs, back};
use super::{Chrome, UiAuth, render};
use crate::AppState;
use crate::api::scripts::{ScriptBody, write_script};
use crate::error::ApiError;
use crate::extract::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use domain::case::CaseType;
use domain::ids::{CaseId, ScriptId, TenantId};
use domain::role::Permission;
use domain::routing::QueueSpec;
use domain::script::{Script, ScriptContent, ScriptKind, ScriptVersion, Step, steps_to_text};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "scripts.html")]
struct ListPage {
    c: Chrome,
    items: Vec<Script>,
    can_edit: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    error: Option<String>,
    all: Option<String>,
}

pub async fn list(State(state): State<AppState>, ui: UiAuth, Query(q): Query<ListQuery>) -> Page {
    let c = Chrome::new(&ui, "kb").with_error(q.error);
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let items = or_page(
        &c,
        state.store.scripts(ui.0.tenant.id, q.all.is_some()).await,
    )?;
    Ok(render(&ListPage {
        can_edit: ui.0.user.role.allows(Permission::EditKnowledge),
        c,
        items,
    }))
}

#[derive(Template)]
#[template(path = "script.html")]
struct ScriptPage {
    c: Chrome,
    s: Script,
    /// The version shown, when it is not the current one.
    old: Option<ScriptVersion>,
    versions: Vec<ScriptVersion>,
    queues: Vec<QueueSpec>,
    can_edit: bool,
}

impl ScriptPage {
    fn shown(&self) -> &ScriptContent {
        self.old.as_ref().map_or(&self.s.content, |v| &v.content)
    }
    fn shown_version(&self) -> i64 {
        self.old.as_ref().map_or(self.s.version, |v| v.version)
    }
    fn queue_names(&self) -> String {
        names_of(&self.queues, &self.shown().queue_ids)
    }
    fn changed_text(&self, v: &ScriptVersion) -> String {
        v.changed
            .iter()
            .map(|f| self.c.t.of("scriptfield", f).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn names_of(queues: &[QueueSpec], ids: &[domain::ids::QueueId]) -> String {
    ids.iter()
        .map(|id| super::name_by(queues, |q| q.id == *id, |q| &q.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize, Default)]
pub struct ScriptQuery {
    error: Option<String>,
    v: Option<i64>,
}

pub async fn script(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<ScriptQuery>,
) -> Page {
    let c = Chrome::new(&ui, "kb").with_error(q.error);
    or_page(&c, ui.0.need(Permission::ReadCases))?;
    let tenant = ui.0.tenant.id;
    let s = or_page(&c, state.store.script(tenant, ScriptId(id)).await)?;
    let versions = or_page(&c, state.store.script_versions(tenant, s.id).await)?;
    let old = match q.v.filter(|v| *v != s.version) {
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
    let queues = or_page(&c, state.store.queues(tenant).await)?;
    Ok(render(&ScriptPage {
        can_edit: ui.0.user.role.allows(Permission::EditKnowledge),
        c,
        s,
        old,
        versions,
        queues,
    }))
}

#[derive(Template)]
#[template(path = "script_edit.html")]
struct EditPage {
    c: Chrome,
    s: Option<Script>,
    form: ScriptForm,
    kinds: &'static [ScriptKind],
    types: &'static [CaseType],
    queues: Vec<QueueSpec>,
}

/// The editor's fields, from the script revised or as posted.
#[derive(Default)]
pub struct ScriptForm {
    pub kind: String,
    pub name: String,
    pub language: String,
    pub case_types: Vec<String>,
    pub queue_ids: Vec<i64>,
    pub campaign: String,
    pub steps: String,
    pub change_note: String,
}

impl EditPage {
    fn has_type(&self, t: &CaseType) -> bool {
        self.form.case_types.iter().any(|x| x == t.as_str())
    }
    fn has_queue(&self, q: &QueueSpec) -> bool {
        self.form.queue_ids.contains(&q.id.0)
    }
}

impl ScriptForm {
    fn of(s: &Script) -> ScriptForm {
        ScriptForm {
            kind: s.content.kind.to_string(),
            name: s.content.name.clone(),
            language: s.content.language.clone(),
            case_types: s.content.case_types.iter().map(|t| t.to_string()).collect(),
            queue_ids: s.content.queue_ids.iter().map(|q| q.0).collect(),
            campaign: s.content.campaign.clone().unwrap_or_default(),
            steps: steps_to_text(&s.content.steps),
            change_note: String::new(),
        }
    }

    fn posted(f: &FormPairs) -> ScriptForm {
        ScriptForm {
            kind: f.one("kind"),
            name: f.one("name"),
            language: f.one("language"),
            case_types: f.all("case_types"),
            queue_ids: f
                .all("queue_ids")
                .iter()
                .filter_map(|q| q.parse().ok())
                .collect(),
            campaign: f.one("campaign"),
            steps: f.one("steps"),
            change_note: f.one("change_note"),
        }
    }

    fn body(&self, base: Option<i64>) -> Result<ScriptBody, ApiError> {
        Ok(ScriptBody {
            kind: Some(self.kind.clone()),
            name: self.name.clone(),
            language: Some(self.language.clone()),
            case_types: self.case_types.clone(),
            queue_ids: self.queue_ids.clone(),
            campaign: Some(self.campaign.clone()),
            steps: domain::script::steps_from_text(&self.steps)?,
            change_note: self.change_note.clone(),
            base_version: base,
        })
    }
}

async fn editor(
    state: &AppState,
    ui: &UiAuth,
    s: Option<Script>,
    form: ScriptForm,
    error: Option<String>,
) -> Page {
    let c = Chrome::new(ui, "kb").with_error(error);
    or_page(&c, ui.0.need(Permission::EditKnowledge))?;
    let queues = or_page(&c, state.store.queues(ui.0.tenant.id).await)?;
    Ok(render(&EditPage {
        c,
        s,
        form,
        kinds: ScriptKind::ALL,
        types: CaseType::ALL,
        queues,
    }))
}

pub async fn new_form(State(state): State<AppState>, ui: UiAuth) -> Page {
    let form = ScriptForm {
        kind: "call".into(),
        language: ui.1.code().into(),
        ..Default::default()
    };
    editor(&state, &ui, None, form, None).await
}

pub async fn edit_form(State(state): State<AppState>, ui: UiAuth, Path(id): Path<i64>) -> Page {
    let c = Chrome::new(&ui, "kb");
    let s = or_page(&c, state.store.script(ui.0.tenant.id, ScriptId(id)).await)?;
    let form = ScriptForm::of(&s);
    editor(&state, &ui, Some(s), form, None).await
}

/// Saves the editor: a new script, or a new version of `id` from the
/// version it was opened at. A refusal shows the editor again as posted.
async fn save(state: &AppState, ui: &UiAuth, id: Option<i64>, body: &[u8]) -> Page {
    let f = FormPairs::posted(ui, body)?;
    let form = ScriptForm::posted(&f);
    let base = f.id("base_version").ok().flatten();
    let saved = match form.body(base) {
        Ok(b) => write_script(state, &ui.0, id.map(ScriptId), b).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(s) => Ok(Redirect::to(&format!("/scripts/{}", s.id)).into_response()),
        Err(e @ (ApiError::Forbidden | ApiError::Internal(_))) => Ok(e.into_response()),
        Err(e) => {
            let s = match id {
                Some(id) => state.store.script(ui.0.tenant.id, ScriptId(id)).await.ok(),
                None => None,
            };
            editor(state, ui, s, form, Some(e.message())).await
        }
    }
}

pub async fn create(State(state): State<AppState>, ui: UiAuth, body: axum::body::Bytes) -> Page {
    save(&state, &ui, None, &body).await
}

pub async fn revise(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    save(&state, &ui, Some(id), &body).await
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
        state
            .store
            .set_script_active(
                ui.0.actor(),
                ScriptId(id),
                f.on("active"),
                jiff::Timestamp::now(),
            )
            .await?;
        Ok(())
    }
    .await;
    Ok(back(&format!("/scripts/{id}"), r))
}

/// The script panel beside a case: the scripts offered, and the one open
/// at its current step.
pub struct Panel {
    pub offered: Vec<Script>,
    pub open: Option<OpenScript>,
}

pub struct OpenScript {
    pub script: Script,
    pub step: Step,
    /// Where a step without branches goes on to.
    pub next: Option<Step>,
}

impl Panel {
    pub fn of_kind(&self, kind: &str) -> Vec<&Script> {
        self.offered
            .iter()
            .filter(|s| s.content.kind.as_str() == kind)
            .collect()
    }
}

/// The panel for a case, with the script `open` at step `step` (its first
/// step when none or unknown). A script not offered on the case may still
/// be opened by its id (an agent follows a colleague's link).
pub async fn panel(
    state: &AppState,
    tenant: TenantId,
    case: CaseId,
    open: Option<i64>,
    step: Option<&str>,
) -> Result<Panel, ApiError> {
    let offered = state.store.scripts_for_case(tenant, case).await?;
    let open = match open {
        None => None,
        Some(id) => {
            let script = match offered.iter().find(|s| s.id.0 == id) {
                Some(s) => s.clone(),
                None => state.store.script(tenant, ScriptId(id)).await?,
            };
            let at = step
                .and_then(|id| script.content.step(id))
                .or(script.content.steps.first())
                .cloned();
            at.map(|step| OpenScript {
                next: if step.branches.is_empty() {
                    script.content.next_step(&step.id).cloned()
                } else {
                    None
                },
                step,
                script,
            })
        }
    };
    Ok(Panel { offered, open })
}
