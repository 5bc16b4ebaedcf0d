//! Cases (工单): their number, kinds, and the status workflow.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares a closed vocabulary stored and sent as snake_case text.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(input: &str) -> Result<Self, FieldError> {
                match input.trim() {
                    $($text => Ok($name::$variant),)*
                    _ => Err(FieldError::new($field, format!(
                        "must be one of: {}",
                        [$($text),*].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// The line of business a case belongs to.
    CaseType, "type" {
        Inquiry = "inquiry",
        Complaint = "complaint",
        FollowUp = "follow_up",
        Rescue = "rescue",
        RepairDispatch = "repair_dispatch",
        Feedback = "feedback",
        SalesLead = "sales_lead",
        Other = "other",
    }
);

vocabulary!(
    /// How the customer reached us (or we reached them) when the case opened.
    Channel, "channel" {
        Phone = "phone",
        Email = "email",
        Web = "web",
        WalkIn = "walk_in",
        Fax = "fax",
        Letter = "letter",
        Sms = "sms",
        Chat = "chat",
        Other = "other",
    }
);

vocabulary!(
    Priority, "priority" {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
);

vocabulary!(
    CaseStatus, "status" {
        New = "new",
        Open = "open",
        PendingCustomer = "pending_customer",
        PendingDepartment = "pending_department",
        Resolved = "resolved",
        Closed = "closed",
    }
);

vocabulary!(
    /// What a user asks of the workflow; the resulting status follows from the rules below.
    CaseAction, "action" {
        Open = "open",
        WaitForCustomer = "wait_for_customer",
        Resume = "resume",
        Resolve = "resolve",
        Close = "close",
        Reopen = "reopen",
    }
);

vocabulary!(
    /// What happened on a case: a contact in some medium, or an internal note.
    InteractionKind, "kind" {
        Call = "call",
        Email = "email",
        WebForm = "web_form",
        Fax = "fax",
        Letter = "letter",
        Sms = "sms",
        Chat = "chat",
        Visit = "visit",
        Note = "note",
    }
);

vocabulary!(
    Direction, "direction" {
        Inbound = "inbound",
        Outbound = "outbound",
        Internal = "internal",
    }
);

impl Channel {
    /// The interaction that records the first contact of a case opened on this channel.
    pub fn first_interaction(self) -> InteractionKind {
        match self {
            Channel::Phone => InteractionKind::Call,
            Channel::Email => InteractionKind::Email,
            Channel::Web => InteractionKind::WebForm,
            Channel::WalkIn => InteractionKind::Visit,
            Channel::Fax => InteractionKind::Fax,
            Channel::Letter => InteractionKind::Letter,
            Channel::Sms => InteractionKind::Sms,
            Channel::Chat => InteractionKind::Chat,
            Channel::Other => InteractionKind::Note,
        }
    }
}

impl InteractionKind {
    /// Notes are internal; every other kind is a contact with the customer.
    pub fn default_direction(self) -> Direction {
        if self == InteractionKind::Note {
            Direction::Internal
        } else {
            Direction::Inbound
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a case that is {from} cannot {action}")]
pub struct WorkflowError {
    pub from: CaseStatus,
    pub action: CaseAction,
}

impl CaseStatus {
    /// The workflow: new → open → pending customer / pending department → resolved → closed,
    /// and reopen from resolved or closed.
    pub fn apply(self, action: CaseAction) -> Result<CaseStatus, WorkflowError> {
        use CaseAction as A;
        use CaseStatus as S;
        let next = match (self, action) {
            (S::New, A::Open) => S::Open,
            (S::New | S::Open | S::PendingDepartment, A::WaitForCustomer) => S::PendingCustomer,
            (S::PendingCustomer | S::PendingDepartment, A::Resume) => S::Open,
            (S::New | S::Open | S::PendingCustomer | S::PendingDepartment, A::Resolve) => {
                S::Resolved
            }
            (S::Resolved, A::Close) => S::Closed,
            (S::Resolved | S::Closed, A::Reopen) => S::Open,
            (from, action) => return Err(WorkflowError { from, action }),
        };
        Ok(next)
    }

    /// The actions a user may take from this status, in the order the UI offers them.
    pub fn actions(self) -> Vec<CaseAction> {
        CaseAction::ALL
            .iter()
            .copied()
            .filter(|a| self.apply(*a).is_ok())
            .collect()
    }

    pub fn is_active(self) -> bool {
        !matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }

    /// A case waits on a department while any of its tasks is open.
    pub fn after_task_opened(self) -> CaseStatus {
        if matches!(
            self,
            CaseStatus::New | CaseStatus::Open | CaseStatus::PendingCustomer
        ) {
            CaseStatus::PendingDepartment
        } else {
            self
        }
    }

    /// When the last open task is answered or returned, the case comes back to the
    /// center for the call-back.
    pub fn after_tasks_settled(self, open_tasks_left: usize) -> CaseStatus {
        if self == CaseStatus::PendingDepartment && open_tasks_left == 0 {
            CaseStatus::Open
        } else {
            self
        }
    }
}

/// A case number that is easy to read aloud on the phone: year, dash, a 6-digit
/// sequence per tenant and year (`2026-000123`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber {
    pub year: i16,
    pub seq: i64,
}

impl CaseNumber {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let err = || FieldError::new("number", "must look like 2026-000123");
        let s = input.trim().trim_start_matches('#');
        let (y, n) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || n.len() < 6 || !y.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year = y.parse().map_err(|_| err())?;
        let seq = n.parse().map_err(|_| err())?;
        if seq == 0 {
            return Err(err());
        }
        Ok(CaseNumber { year, seq })
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:06}", self.year, self.seq)
    }
}

impl Serialize for CaseNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseAction as A;
    use CaseStatus as S;

    #[test]
    fn workflow_table() {
        let allowed = [
            (S::New, A::Open, S::Open),
            (S::New, A::Resolve, S::Resolved),
            (S::Open, A::WaitForCustomer, S::PendingCustomer),
            (S::PendingCustomer, A::Resume, S::Open),
            (S::PendingDepartment, A::Resume, S::Open),
            (S::PendingDepartment, A::Resolve, S::Resolved),
            (S::Open, A::Resolve, S::Resolved),
            (S::Resolved, A::Close, S::Closed),
            (S::Resolved, A::Reopen, S::Open),
            (S::Closed, A::Reopen, S::Open),
        ];
        for (from, action, to) in allowed {
            assert_eq!(from.apply(action), Ok(to), "{from} {action}");
        }
        let refused = [
            (S::Closed, A::Resolve),
            (S::Closed, A::Close),
            (S::Open, A::Close),
            (S::Open, A::Reopen),
            (S::New, A::Resume),
            (S::Resolved, A::WaitForCustomer),
        ];
        for (from, action) in refused {
            assert_eq!(from.apply(action), Err(WorkflowError { from, action }));
        }
    }

    #[test]
    fn every_status_has_a_way_forward() {
        for s in S::ALL {
            assert!(!s.actions().is_empty(), "{s} is a dead end");
        }
        assert_eq!(S::Closed.actions(), vec![A::Reopen]);
    }

    #[test]
    fn tasks_move_the_case_to_the_department_and_back() {
        assert_eq!(S::Open.after_task_opened(), S::PendingDepartment);
        assert_eq!(S::Resolved.after_task_opened(), S::Resolved);
        assert_eq!(
            S::PendingDepartment.after_tasks_settled(1),
            S::PendingDepartment
        );
        assert_eq!(S::PendingDepartment.after_tasks_settled(0), S::Open);
        assert_eq!(
            S::PendingCustomer.after_tasks_settled(0),
            S::PendingCustomer
        );
    }

    #[test]
    fn case_numbers_read_back() {
        let n = CaseNumber {
            year: 2026,
            seq: 123,
        };
        assert_eq!(n.to_string(), "2026-000123");
        assert_eq!(CaseNumber::parse("#2026-000123"), Ok(n));
        assert_eq!(CaseNumber::parse("2026-1234567").unwrap().seq, 1_234_567);
        for bad in [
            "2026-123",
            "26-000123",
            "2026000123",
            "2026-000000",
            "abcd-000123",
        ] {
            assert!(CaseNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vocabularies_round_trip() {
        for t in CaseType::ALL {
            assert_eq!(CaseType::parse(t.as_str()), Ok(*t));
        }
        let err = Channel::parse("pigeon").unwrap_err();
        assert_eq!(err.field, "channel");
        assert!(err.reason.contains("walk_in"));
    }
}
