//! Who may do what. Every endpoint names one permission; a role either has it or not.

use crate::FieldError;
use crate::case::vocabulary;
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    Role, "role" {
        Admin = "admin",
        Supervisor = "supervisor",
        TeamLeader = "team_leader",
        Agent = "agent",
        DepartmentStaff = "department_staff",
        ClientViewer = "client_viewer",
        Operator = "operator",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read cases, interactions and customers.
    ReadCases,
    /// Create and change cases, add interactions, create and edit customers.
    WorkCases,
    /// Pass part of a case to a department.
    AssignTasks,
    /// See department tasks (department staff: only their own department's).
    ReadTasks,
    /// Answer or return a department task.
    AnswerTasks,
    /// Bulk import of customers, vehicles, orders and service records.
    Import,
    /// Read-only reports of the tenant.
    ViewReports,
    /// What mail arrived and went out, and what became of it.
    ViewMailLog,
    /// Users, teams, departments, categories, custom fields.
    Administer,
    /// The audit log of administrative changes.
    ViewAudit,
    /// Watch queues and agents live, change an agent's state, assign and move routed work.
    Supervise,
    /// Write and revise knowledge articles, scripts and announcements.
    EditKnowledge,
    /// The outsourcer's own staff: create client tenants with their first
    /// administrator, and change a tenant's name, time zone and look. It
    /// reaches the tenants' settings, never their cases.
    ManageTenants,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::ReadCases,
        Permission::WorkCases,
        Permission::AssignTasks,
        Permission::ReadTasks,
        Permission::AnswerTasks,
        Permission::Import,
        Permission::ViewReports,
        Permission::ViewMailLog,
        Permission::Administer,
        Permission::ViewAudit,
        Permission::Supervise,
        Permission::EditKnowledge,
        Permission::ManageTenants,
    ];

    /// A stable name, for the roles page's labels.
    pub fn key(self) -> &'static str {
        match self {
            Permission::ReadCases => "read_cases",
            Permission::WorkCases => "work_cases",
            Permission::AssignTasks => "assign_tasks",
            Permission::ReadTasks => "read_tasks",
            Permission::AnswerTasks => "answer_tasks",
            Permission::Import => "import",
            Permission::ViewReports => "view_reports",
            Permission::ViewMailLog => "view_mail_log",
            Permission::Administer => "administer",
            Permission::ViewAudit => "view_audit",
            Permission::Supervise => "supervise",
            Permission::EditKnowledge => "edit_knowledge",
            Permission::ManageTenants => "manage_tenants",
        }
    }
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match self {
            R::Operator => true,
            R::Admin => p != P::ManageTenants,
            R::Supervisor => !matches!(p, P::Administer | P::ViewAudit | P::ManageTenants),
            R::TeamLeader => !matches!(
                p,
                P::Administer | P::ViewAudit | P::Import | P::ManageTenants
            ),
            R::Agent => matches!(
                p,
                P::ReadCases | P::WorkCases | P::AssignTasks | P::ReadTasks
            ),
            R::DepartmentStaff => matches!(p, P::ReadTasks | P::AnswerTasks),
            R::ClientViewer => matches!(p, P::ViewReports),
        }
    }

    /// Department staff see only the tasks of their own department.
    pub fn limited_to_own_department(self) -> bool {
        self == Role::DepartmentStaff
    }

    /// The first page a user of this role lands on after logging in.
    pub fn home(self) -> &'static str {
        match self {
            Role::DepartmentStaff => "/tasks",
            Role::ClientViewer => "/reports",
            _ => "/cases",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    #[test]
    fn role_matrix() {
        let all = P::ALL;
        let expect: &[(Role, &[P])] = &[
            (Role::Operator, &all),
            (Role::Admin, &all[..12]),
            (
                Role::Supervisor,
                &[&all[..8], &[P::Supervise, P::EditKnowledge]].concat(),
            ),
            (
                Role::TeamLeader,
                &[
                    P::ReadCases,
                    P::WorkCases,
                    P::AssignTasks,
                    P::ReadTasks,
                    P::AnswerTasks,
                    P::ViewReports,
                    P::ViewMailLog,
                    P::Supervise,
                    P::EditKnowledge,
                ],
            ),
            (
                Role::Agent,
                &[P::ReadCases, P::WorkCases, P::AssignTasks, P::ReadTasks],
            ),
            (Role::DepartmentStaff, &[P::ReadTasks, P::AnswerTasks]),
            (Role::ClientViewer, &[P::ViewReports]),
        ];
        for (role, allowed) in expect {
            for p in all {
                assert_eq!(role.allows(p), allowed.contains(&p), "{role} {p:?}");
            }
        }
    }
}
