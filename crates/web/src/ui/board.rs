//! The supervisor's wallboard (also full screen, for a wall TV) and team
//! view, both live: the router's and the PBX's events refresh them.

#![allow(clippy::result_large_err)]

use super::pages::{Page, or_page};
use super::sla::{FormPairs, back};
use super::{Chrome, UiAuth, render};
use crate::AppState;
use crate::api::board::{BoardQuery, Wallboard, wallboard};
use crate::api::routing::StateBody;
use crate::error::ApiError;
use crate::extract::Query;
use askama::Template;
use axum::extract::{Path, State};
use domain::ids::*;
use domain::model::Team;
use domain::role::Permission;
use domain::routing::BreakReason;
use jiff::Timestamp;
use serde::Deserialize;

/// Seconds as a clock reads them: 4:05, 1:02:03.
pub fn clock(secs: impl std::borrow::Borrow<i64>) -> String {
    let s = (*secs.borrow()).max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

#[derive(Deserialize, Default)]
pub struct BoardForm {
    #[serde(default)]
    team: Option<String>,
    /// Full screen for a wall TV: no navigation, large type.
    #[serde(default)]
    tv: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

struct Totals {
    waiting: u32,
    longest: i64,
    offered: u64,
    answered: u64,
    abandoned: u64,
    service_level: String,
    by_state: Vec<(&'static str, usize)>,
}

fn totals(b: &Wallboard) -> Totals {
    let within: f64 = b
        .queues
        .iter()
        .map(|q| q.service_level.unwrap_or(0.0) * q.offered as f64)
        .sum();
    let offered: u64 = b.queues.iter().map(|q| q.offered).sum();
    Totals {
        waiting: b.queues.iter().map(|q| q.waiting).sum(),
        longest: b
            .queues
            .iter()
            .map(|q| q.longest_wait_secs)
            .max()
            .unwrap_or(0),
        offered,
        answered: b.queues.iter().map(|q| q.answered).sum(),
        abandoned: b.queues.iter().map(|q| q.abandoned).sum(),
        service_level: percent((offered > 0).then(|| within / offered as f64)),
        by_state: ["available", "busy", "wrap_up", "break", "offline"]
            .into_iter()
            .map(|s| (s, b.agents.iter().filter(|a| a.status() == s).count()))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "wallboard.html")]
struct WallboardPage {
    c: Chrome,
    b: Wallboard,
    sum: Totals,
    teams: Vec<Team>,
    team: Option<TeamId>,
    tv: bool,
    query: String,
}

/// The team filter's choice.
fn chosen(team: &Option<TeamId>, t: &Team) -> bool {
    *team == Some(t.id)
}

impl WallboardPage {
    fn chosen(&self, t: &Team) -> bool {
        chosen(&self.team, t)
    }
    fn team_name(&self, t: &Option<TeamId>) -> String {
        super::name_by(&self.teams, |x| Some(x.id) == *t, |x| &x.name)
    }
}

async fn board_of(
    state: &AppState,
    ui: &UiAuth,
    team: &Option<String>,
) -> Result<(Wallboard, Vec<Team>, Option<TeamId>), ApiError> {
    ui.0.need(Permission::Supervise)?;
    let q = BoardQuery { team: team.clone() };
    let teams = state.store.teams(ui.0.tenant.id).await?;
    // A team that went away shows everyone rather than nobody.
    let team = q.team()?.filter(|t| teams.iter().any(|x| x.id == *t));
    let b = wallboard(state, &ui.0.tenant, team, Timestamp::now()).await?;
    Ok((b, teams, team))
}

pub async fn wallboard_page(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(f): Query<BoardForm>,
) -> Page {
    let mut c = Chrome::new(&ui, "wallboard").with_error(f.error);
    let tv = f.tv.as_deref().is_some_and(|v| !v.is_empty());
    c.tv = tv;
    let (b, teams, team) = or_page(&c, board_of(&state, &ui, &f.team).await)?;
    let query = team.map(|t| format!("team={t}")).unwrap_or_default();
    Ok(render(&WallboardPage {
        sum: totals(&b),
        b,
        teams,
        team,
        tv,
        query,
        c,
    }))
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    c: Chrome,
    b: Wallboard,
    teams: Vec<Team>,
    team: Option<TeamId>,
    reasons: [BreakReason; 5],
    back: String,
}

impl TeamPage {
    fn chosen(&self, t: &Team) -> bool {
        chosen(&self.team, t)
    }
}

pub async fn team_page(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(f): Query<BoardForm>,
) -> Page {
    let c = Chrome::new(&ui, "team").with_error(f.error);
    let (b, teams, team) = or_page(&c, board_of(&state, &ui, &f.team).await)?;
    let back = match team {
        Some(t) => format!("/team?team={t}"),
        None => "/team".into(),
    };
    Ok(render(&TeamPage {
        b,
        teams,
        team,
        reasons: super::routing::REASONS,
        back,
        c,
    }))
}

/// Where a team-view form returns: the view it came from.
fn team_back(f: &FormPairs) -> String {
    let b = f.one("back");
    if b.starts_with("/team") && !b.contains("//") {
        b
    } else {
        "/team".into()
    }
}

/// A supervisor sets an agent's state: `available`, `offline` or `break:REASON`.
pub async fn set_state(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Supervise)?;
        let chosen = f.one("state");
        let (s, reason) = match chosen.split_once(':') {
            Some((s, r)) => (s.to_string(), Some(r.to_string())),
            None => (chosen, None),
        };
        let p = StateBody { state: s, reason }.presence()?;
        state
            .acd
            .set_presence(ui.0.tenant.id, UserId(id), p)
            .await?;
        Ok(())
    }
    .await;
    Ok(back(&team_back(&f), r))
}

/// A supervisor hands work to another agent (offered, waiting or in hand).
pub async fn reassign(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Supervise)?;
        let agent = f
            .id("agent_id")?
            .ok_or_else(|| ApiError::field("agent_id", "choose an agent"))?;
        state
            .acd
            .assign(ui.0.tenant.id, WorkId(id), UserId(agent))
            .await?;
        Ok(())
    }
    .await;
    Ok(back(&team_back(&f), r))
}
