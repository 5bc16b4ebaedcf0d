//! Department tasks: passing part of a case to a department and getting it back.

use crate::cases::{case_status, set_status};
use crate::db::{RowExt, Store, ms, vocab};
use crate::events::{case_event, data};
use crate::sla::{self, sla_state};
use crate::sql::Sql;
use crate::users::exists;
use crate::{Result, StoreError};
use domain::case::CaseNumber;
use domain::ids::*;
use domain::model::{Actor, DepartmentTask, TaskInput};
use domain::task::TaskStatus;
use jiff::Timestamp;
use sqlx::any::AnyRow;

const TASK_SELECT: &str = "SELECT t.id, t.case_id, c.year, c.seq, c.subject, t.department_id, d.name AS department_name, \
    t.assignee_id, t.instructions, t.deadline_at, t.status, t.answer, t.created_at, t.settled_at, t.sla_state \
    FROM department_tasks t JOIN cases c ON c.id = t.case_id JOIN departments d ON d.id = t.department_id";

fn task_row(r: &AnyRow) -> Result<DepartmentTask> {
    Ok(DepartmentTask {
        id: TaskId(r.int("id")?),
        case_id: CaseId(r.int("case_id")?),
        case_number: CaseNumber {
            year: r.int("year")? as i16,
            seq: r.int("seq")?,
        },
        case_subject: r.text("subject")?,
        department_id: DepartmentId(r.int("department_id")?),
        department_name: r.text("department_name")?,
        assignee_id: r.opt_int("assignee_id")?.map(UserId),
        instructions: r.text("instructions")?,
        deadline_at: r.time("deadline_at")?,
        status: vocab(TaskStatus::parse(&r.text("status")?))?,
        answer: r.opt_text("answer")?,
        created_at: r.time("created_at")?,
        settled_at: r.opt_time("settled_at")?,
        sla_state: r
            .opt_text("sla_state")?
            .map(|s| sla_state(&s))
            .transpose()?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub department_id: Option<DepartmentId>,
    pub status: Option<TaskStatus>,
    pub sla_state: Option<domain::sla::SlaState>,
    /// Soonest deadline first (paged by `offset`), else newest first (by `before`).
    pub by_deadline: bool,
    pub offset: u32,
    pub before: Option<TaskId>,
    pub limit: u32,
}

impl Store {
    /// Passes part of a case to a department. Without a deadline the
    /// department's default handling time applies.
    pub async fn create_task(
        &self,
        actor: Actor,
        case_id: CaseId,
        input: &TaskInput,
        at: Timestamp,
    ) -> Result<TaskId> {
        let (department, assignee, instructions, deadline) = (
            input.department_id,
            input.assignee_id,
            input.instructions.as_str(),
            input.deadline_at,
        );
        let tenant = actor.tenant_id;
        let (_w, mut tx) = self.write_tx().await?;
        let status = case_status(&mut tx, tenant, case_id).await?;
        if !status.is_active() {
            return Err(StoreError::Workflow(format!(
                "a case that is {status} cannot be passed to a department"
            )));
        }
        if let Some(u) = assignee {
            exists(&mut tx, "users", tenant, u.0, "assignee_id").await?;
        }
        crate::users::in_use(
            &mut tx,
            "departments",
            tenant,
            department.0,
            "department_id",
        )
        .await?;
        let clock = sla::task_clock(&mut tx, tenant, case_id, department, deadline, at).await?;
        let deadline = clock.due;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO department_tasks (tenant_id, case_id, department_id, assignee_id, instructions, deadline_at, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) RETURNING id",
        )
        .bind(tenant.0)
        .bind(case_id.0)
        .bind(department.0)
        .bind(assignee.map(|u| u.0))
        .bind(instructions)
        .bind(ms(deadline))
        .bind(actor.user_id.map(|u| u.0))
        .bind(ms(at))
        .fetch_one(&mut *tx)
        .await?;
        let d = data([
            ("task_id", id.to_string()),
            ("department_id", department.to_string()),
            ("deadline_at", deadline.to_string()),
            ("instructions", instructions.to_string()),
        ]);
        case_event(&mut tx, actor, case_id, "task_created", &d, at).await?;
        sla::task_opened(&mut tx, tenant, TaskId(id), clock, at).await?;
        set_status(
            &mut tx,
            actor,
            case_id,
            status,
            status.after_task_opened(),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(TaskId(id))
    }

    pub async fn task(&self, tenant: TenantId, id: TaskId) -> Result<DepartmentTask> {
        let row = sqlx::query(&format!(
            "{TASK_SELECT} WHERE t.tenant_id = $1 AND t.id = $2"
        ))
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        task_row(&row)
    }

    pub async fn tasks(&self, tenant: TenantId, f: &TaskFilter) -> Result<Vec<DepartmentTask>> {
        let mut q = Sql::new(TASK_SELECT);
        q.push(" WHERE t.tenant_id = ").int(tenant.0);
        if let Some(d) = f.department_id {
            q.push(" AND t.department_id = ").int(d.0);
        }
        if let Some(s) = f.status {
            q.push(" AND t.status = ").str(s.as_str());
        }
        if let Some(s) = f.sla_state {
            q.push(" AND t.sla_state = ").str(s.as_str());
        }
        if f.by_deadline {
            q.push(" ORDER BY t.deadline_at, t.id LIMIT ")
                .int(i64::from(f.limit.clamp(1, 200)));
            q.push(" OFFSET ").int(i64::from(f.offset));
        } else {
            if let Some(b) = f.before {
                q.push(" AND t.id < ").int(b.0);
            }
            q.push(" ORDER BY t.id DESC LIMIT ")
                .int(i64::from(f.limit.clamp(1, 200)));
        }
        q.fetch_all_pool(&self.pool)
            .await?
            .iter()
            .map(task_row)
            .collect()
    }

    pub async fn tasks_of_case(
        &self,
        tenant: TenantId,
        case_id: CaseId,
    ) -> Result<Vec<DepartmentTask>> {
        self.tasks_where("t.case_id = $2 ORDER BY t.id", tenant, case_id.0)
            .await
    }

    /// The tenant's tasks matching `cond`, which binds `$2` to `value`.
    pub(crate) async fn tasks_where(
        &self,
        cond: &str,
        tenant: TenantId,
        value: i64,
    ) -> Result<Vec<DepartmentTask>> {
        let rows = sqlx::query(&format!("{TASK_SELECT} WHERE t.tenant_id = $1 AND {cond}"))
            .bind(tenant.0)
            .bind(value)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(task_row).collect()
    }

    /// The department answers (`Answered`) or sends the task back with a reason
    /// (`Returned`). When no task is left open the case returns to the center.
    pub async fn settle_task(
        &self,
        actor: Actor,
        id: TaskId,
        to: TaskStatus,
        text: &str,
        at: Timestamp,
    ) -> Result<DepartmentTask> {
        let tenant = actor.tenant_id;
        {
            let (_w, mut tx) = self.write_tx().await?;
            let row = sqlx::query(
                "SELECT case_id, status FROM department_tasks WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let case_id = CaseId(row.int("case_id")?);
            let current = vocab(TaskStatus::parse(&row.text("status")?))?;
            let to = current
                .settle(to)
                .map_err(|e| StoreError::Workflow(e.to_string()))?;
            sqlx::query("UPDATE department_tasks SET status = $1, answer = $2, settled_at = $3, settled_by = $4 WHERE tenant_id = $5 AND id = $6")
                .bind(to.as_str())
                .bind(text)
                .bind(ms(at))
                .bind(actor.user_id.map(|u| u.0))
                .bind(tenant.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            sla::task_settled(&mut tx, tenant, id, at).await?;
            let kind = if to == TaskStatus::Answered {
                "task_answered"
            } else {
                "task_returned"
            };
            case_event(
                &mut tx,
                actor,
                case_id,
                kind,
                &data([("task_id", id.to_string()), ("text", text.to_string())]),
                at,
            )
            .await?;
            // The case's agent hears the department's answer or return.
            let assignee =
                sqlx::query("SELECT assignee_id FROM cases WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.0)
                    .bind(case_id.0)
                    .fetch_one(&mut *tx)
                    .await?
                    .opt_int("assignee_id")?;
            if let Some(a) = assignee.map(UserId).filter(|a| Some(*a) != actor.user_id) {
                let excerpt = crate::history::first_chars(text);
                crate::history::notify(&mut *tx, tenant, a, Some(case_id), kind, &excerpt, at)
                    .await?;
            }
            let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM department_tasks WHERE tenant_id = $1 AND case_id = $2 AND status = 'open'")
                .bind(tenant.0)
                .bind(case_id.0)
                .fetch_one(&mut *tx)
                .await?;
            let status = case_status(&mut tx, tenant, case_id).await?;
            set_status(
                &mut tx,
                actor,
                case_id,
                status,
                status.after_tasks_settled(open as usize),
                at,
            )
            .await?;
            if open == 0 {
                crate::routing::department_returned(&mut *tx, actor, case_id, at).await?;
            }
            tx.commit().await?;
        }
        self.task(tenant, id).await
    }
}
