use super::{Page, cursor, limit};
use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::input::instant;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::ids::*;
use domain::model::{DepartmentTask, TaskInput};
use domain::role::Permission;
use domain::task::TaskStatus;
use jiff::Timestamp;
use serde::Deserialize;
use store::TaskFilter;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    department_id: i64,
    assignee_id: Option<i64>,
    instructions: String,
    deadline_at: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Id(case_id): Id,
    Json(body): Json<TaskBody>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::AssignTasks)?;
    let now = Timestamp::now();
    let instructions = domain::contact::text("instructions", &body.instructions, 10_000)?;
    let deadline = body
        .deadline_at
        .as_deref()
        .map(|d| instant("deadline_at", d, &auth.tenant))
        .transpose()?;
    if deadline.is_some_and(|d| d <= now) {
        return Err(ApiError::field("deadline_at", "must be in the future"));
    }
    let input = TaskInput {
        department_id: DepartmentId(body.department_id),
        assignee_id: body.assignee_id.map(UserId),
        instructions,
        deadline_at: deadline,
    };
    let id = state
        .store
        .create_task(auth.actor(), CaseId(case_id), &input, now)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(state.store.task(auth.tenant.id, id).await?),
    ))
}

/// Department staff see their own department's tasks and nothing else.
pub fn visible(auth: &Auth, task: &DepartmentTask) -> bool {
    !auth.user.role.limited_to_own_department()
        || auth.user.department_id == Some(task.department_id)
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadTasks)?;
    let task = state.store.task(auth.tenant.id, TaskId(id)).await?;
    if !visible(&auth, &task) {
        return Err(ApiError::NotFound);
    }
    let case = state.store.case(auth.tenant.id, task.case_id).await?;
    Ok(axum::Json(
        serde_json::json!({ "task": task, "case": case }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    pub status: Option<String>,
    pub department: Option<i64>,
    /// An SLA state: ok, warning, breached, met.
    pub sla: Option<String>,
    /// `newest` (the default) or `deadline`: soonest deadline first.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<TaskQuery>,
) -> Result<impl IntoResponse, ApiError> {
    auth.need(Permission::ReadTasks)?;
    let filter = task_filter(&auth, &q)?;
    let items = state.store.tasks(auth.tenant.id, &filter).await?;
    let next = i64::from(filter.offset) + items.len() as i64;
    let by_deadline = filter.by_deadline;
    Ok(axum::Json(Page::new(items, filter.limit, |t| {
        if by_deadline { next } else { t.id.0 }
    })))
}

pub fn task_filter(auth: &Auth, q: &TaskQuery) -> Result<TaskFilter, ApiError> {
    let department_id = if auth.user.role.limited_to_own_department() {
        Some(auth.user.department_id.ok_or(ApiError::Forbidden)?)
    } else {
        q.department.map(DepartmentId)
    };
    let by_deadline = match q.sort.as_deref().unwrap_or("") {
        "" | "newest" => false,
        "deadline" => true,
        _ => return Err(ApiError::field("sort", "must be newest or deadline")),
    };
    let at = cursor(&q.cursor)?;
    Ok(TaskFilter {
        department_id,
        sla_state: q
            .sla
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(domain::sla::SlaState::parse)
            .transpose()?,
        by_deadline,
        offset: if by_deadline {
            at.map_or(0, |n| n.clamp(0, 1_000_000) as u32)
        } else {
            0
        },
        status: q
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(TaskStatus::parse)
            .transpose()?,
        before: if by_deadline { None } else { at.map(TaskId) },
        limit: limit(q.limit),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    answer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    reason: String,
}

pub async fn settle(
    state: &AppState,
    auth: &Auth,
    id: TaskId,
    to: TaskStatus,
    field: &str,
    text: &str,
) -> Result<DepartmentTask, ApiError> {
    auth.need(Permission::AnswerTasks)?;
    let text = domain::contact::text(field, text, 10_000)?;
    let task = state.store.task(auth.tenant.id, id).await?;
    if !visible(auth, &task) {
        return Err(ApiError::NotFound);
    }
    Ok(state
        .store
        .settle_task(auth.actor(), id, to, &text, Timestamp::now())
        .await?)
}

pub async fn answer(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<AnswerBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        settle(
            &state,
            &auth,
            TaskId(id),
            TaskStatus::Answered,
            "answer",
            &body.answer,
        )
        .await?,
    ))
}

pub async fn send_back(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<ReturnBody>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        settle(
            &state,
            &auth,
            TaskId(id),
            TaskStatus::Returned,
            "reason",
            &body.reason,
        )
        .await?,
    ))
}
