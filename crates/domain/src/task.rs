//! Department tasks (部门工单 / 转派): part of a case passed to a department.

use crate::FieldError;
use crate::case::vocabulary;
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    TaskStatus, "status" {
        Open = "open",
        Answered = "answered",
        Returned = "returned",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the task is already {0}")]
pub struct TaskSettled(pub TaskStatus);

impl TaskStatus {
    /// A department either answers a task or sends it back with a reason; both end it.
    pub fn settle(self, to: TaskStatus) -> Result<TaskStatus, TaskSettled> {
        match self {
            TaskStatus::Open if to != TaskStatus::Open => Ok(to),
            other => Err(TaskSettled(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_settles_once() {
        assert_eq!(
            TaskStatus::Open.settle(TaskStatus::Answered),
            Ok(TaskStatus::Answered)
        );
        assert_eq!(
            TaskStatus::Open.settle(TaskStatus::Returned),
            Ok(TaskStatus::Returned)
        );
        assert!(TaskStatus::Answered.settle(TaskStatus::Returned).is_err());
        assert!(TaskStatus::Open.settle(TaskStatus::Open).is_err());
    }
}
