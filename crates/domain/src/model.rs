//! The records every channel writes and every screen reads.

use crate::base64_text;
use crate::case::{
    CaseNumber, CaseStatus, CaseType, Channel, Direction, InteractionKind, Priority,
};
use crate::contact::{EmailAddress, PhoneNumber, Vin};
use crate::customer::{Coordinates, CustomerKind};
use crate::ids::*;
use crate::role::Role;
use crate::sla::SlaState;
use crate::task::TaskStatus;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ops::Range;

#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    /// IANA zone, e.g. `Asia/Shanghai`: the year of a case number is taken here.
    pub timezone: String,
    /// ISO country code used to read phone numbers written without `+`.
    pub region: String,
    /// The tenant's accent colour (`#rrggbb`) in its pages; none: the house colour.
    pub brand_color: Option<String>,
    /// The tenant's logo on its portal (the SHA-256 of its bytes).
    pub logo_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team_id: Option<TeamId>,
    pub department_id: Option<DepartmentId>,
    pub active: bool,
    /// The phone extension the PBX knows the user by.
    pub extension: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub leader_id: Option<UserId>,
    /// False once retired: kept for what used it, no longer offered.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    /// The named person toward the center (接口人).
    pub interface_user_id: Option<UserId>,
    pub default_deadline_hours: i64,
    /// The calendar its handling deadlines count (none: the wall clock).
    pub calendar_id: Option<CalendarId>,
    /// False once retired: kept for what used it, no longer offered.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    /// False once retired: kept for what used it, no longer offered.
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Select,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomFieldDef {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub options: Vec<String>,
    pub required: bool,
    /// False once retired: kept for what used it, no longer offered.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub kind: CustomerKind,
    pub name: String,
    pub external_id: Option<String>,
    pub tier: String,
    pub region: Option<String>,
    pub branch: Option<String>,
    pub address: Option<String>,
    pub coordinates: Option<Coordinates>,
    pub opening_hours: Option<String>,
    pub tags: Vec<String>,
    pub phones: Vec<PhoneNumber>,
    pub emails: Vec<EmailAddress>,
    pub accounts: Vec<String>,
    /// The customer's own agent and team, offered their new work first.
    pub dedicated_agent_id: Option<UserId>,
    pub dedicated_team_id: Option<TeamId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A customer as written by a user or an import, already validated.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub kind: Option<CustomerKind>,
    pub name: String,
    pub external_id: Option<String>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub branch: Option<String>,
    pub address: Option<String>,
    pub coordinates: Option<Coordinates>,
    pub opening_hours: Option<String>,
    pub tags: Vec<String>,
    pub phones: Vec<PhoneNumber>,
    pub emails: Vec<EmailAddress>,
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Vehicle {
    pub id: AssetId,
    pub customer_id: CustomerId,
    pub external_id: Option<String>,
    pub vin: String,
    pub model: Option<String>,
    pub plate: Option<String>,
    pub purchase_date: Option<String>,
    pub dealer_id: Option<CustomerId>,
    pub dealer_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub external_id: Option<String>,
    pub order_no: String,
    pub product: Option<String>,
    pub amount_cents: Option<i64>,
    pub ordered_on: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRecord {
    pub id: ServiceRecordId,
    pub asset_id: AssetId,
    pub vin: String,
    pub station_id: Option<CustomerId>,
    pub station_name: Option<String>,
    pub external_id: Option<String>,
    pub service_date: String,
    pub kind: String,
    pub mileage_km: Option<i64>,
    pub description: Option<String>,
}

/// One row of a case list.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: CaseId,
    pub number: CaseNumber,
    #[serde(rename = "type")]
    pub case_type: CaseType,
    pub channel: Channel,
    pub priority: Priority,
    pub status: CaseStatus,
    pub subject: String,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub category_id: Option<CategoryId>,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub team_id: Option<TeamId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The worst of the case's SLA clocks; `None` when no policy applies.
    pub sla_state: Option<SlaState>,
    /// The earliest due instant among its running clocks.
    pub sla_due_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Case {
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub description: String,
    pub custom: BTreeMap<String, String>,
    pub related: Vec<CaseSummary>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct CaseInput {
    pub case_type: CaseType,
    pub channel: Channel,
    pub priority: Priority,
    pub subject: String,
    pub description: String,
    pub customer_id: Option<CustomerId>,
    pub category_id: Option<CategoryId>,
    pub assignee_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub custom: BTreeMap<String, String>,
}

/// A partial change of a case; `None` leaves the field as it is,
/// `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct CasePatch {
    pub case_type: Option<CaseType>,
    pub priority: Option<Priority>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub customer_id: Option<Option<CustomerId>>,
    pub category_id: Option<Option<CategoryId>>,
    pub assignee_id: Option<Option<UserId>>,
    pub team_id: Option<Option<TeamId>>,
    pub custom: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<CaseStatus>,
    pub case_type: Option<CaseType>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub customer_id: Option<CustomerId>,
    pub category_id: Option<CategoryId>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    pub updated_from: Option<Timestamp>,
    pub updated_to: Option<Timestamp>,
    pub sla_state: Option<SlaState>,
    pub sort: CaseSort,
    /// Rows with a smaller id than this (newest first paging).
    pub before: Option<CaseId>,
    /// Rows to skip (paging when sorted by SLA due).
    pub offset: u32,
    pub limit: u32,
}

/// The order of a case list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSort {
    /// Newest first.
    #[default]
    Newest,
    /// Soonest SLA due first; cases with no running clock last.
    SlaDue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// A file to attach, with the key it is stored under: the SHA-256 of its
/// bytes. The key is computed once, where the file arrives, so that the
/// store's one writer does not spend its time hashing.
#[derive(Debug, Clone)]
pub struct AttachmentInput {
    pub filename: String,
    pub content_type: String,
    data: Vec<u8>,
    sha256: String,
    in_source: Option<Range<usize>>,
}

impl AttachmentInput {
    pub fn new(filename: String, content_type: String, data: Vec<u8>) -> Self {
        let sha256 = format!("{:x}", Sha256::digest(&data));
        AttachmentInput {
            filename,
            content_type,
            data,
            sha256,
            in_source: None,
        }
    }

    /// Notes that the file lies, base64-encoded, at `span` in `source`, the
    /// message that brought it; a store that keeps that source may refer to
    /// it there rather than store the bytes again. Noted only when the text
    /// there is strict base64 of the file's length (see [`base64_text`]).
    pub fn found_in(mut self, source: &[u8], span: Range<usize>) -> Self {
        let text = source.get(span.clone());
        if text.and_then(base64_text::decoded_len) == Some(self.data.len()) {
            self.in_source = Some(span);
        }
        self
    }

    /// The file whose base64 text lies at `span` in `source`, its message,
    /// decoded; `None` unless that text is strict base64 (see [`base64_text`]).
    pub fn decoded_from(
        filename: String,
        content_type: String,
        source: &[u8],
        span: Range<usize>,
    ) -> Option<Self> {
        let data = base64_text::decode(source.get(span.clone())?)?;
        let mut file = AttachmentInput::new(filename, content_type, data);
        file.in_source = Some(span);
        Some(file)
    }

    /// Where the file lies base64-encoded in its message's source.
    pub fn in_source(&self) -> Option<Range<usize>> {
        self.in_source.clone()
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The SHA-256 of the bytes, in lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// What is kept of the file beside its bytes.
    pub fn attachment(&self) -> Attachment {
        Attachment {
            sha256: self.sha256.clone(),
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            size: self.data.len() as i64,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Interaction {
    pub id: InteractionId,
    pub case_id: CaseId,
    pub kind: InteractionKind,
    pub direction: Direction,
    pub author_id: Option<UserId>,
    pub author_name: Option<String>,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    /// The call script the agent had open when recording it.
    pub script: Option<crate::script::ScriptUse>,
}

#[derive(Debug, Clone)]
pub struct InteractionInput {
    pub kind: InteractionKind,
    pub direction: Direction,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub body: String,
    pub attachments: Vec<AttachmentInput>,
    /// The script version (its row) the agent had open: recorded with it.
    pub script_version_id: Option<i64>,
}

impl InteractionInput {
    /// An internal note written now.
    pub fn note(body: String, at: Timestamp) -> Self {
        InteractionInput {
            kind: InteractionKind::Note,
            direction: Direction::Internal,
            started_at: at,
            ended_at: None,
            body,
            attachments: Vec::new(),
            script_version_id: None,
        }
    }

    /// An e-mail sent to the customer now.
    pub fn email_out(body: String, attachments: Vec<AttachmentInput>, at: Timestamp) -> Self {
        InteractionInput {
            kind: InteractionKind::Email,
            direction: Direction::Outbound,
            started_at: at,
            ended_at: None,
            body,
            attachments,
            script_version_id: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DepartmentTask {
    pub id: TaskId,
    pub case_id: CaseId,
    pub case_number: CaseNumber,
    pub case_subject: String,
    pub department_id: DepartmentId,
    pub department_name: String,
    pub assignee_id: Option<UserId>,
    pub instructions: String,
    pub deadline_at: Timestamp,
    pub status: TaskStatus,
    pub answer: Option<String>,
    pub created_at: Timestamp,
    pub settled_at: Option<Timestamp>,
    pub sla_state: Option<SlaState>,
}

/// Part of a case passed to a department; without a deadline the
/// department's default handling time applies.
#[derive(Debug, Clone)]
pub struct TaskInput {
    pub department_id: DepartmentId,
    pub assignee_id: Option<UserId>,
    pub instructions: String,
    pub deadline_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub channel: Option<Channel>,
    pub kind: String,
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub target: String,
    pub data: BTreeMap<String, String>,
}

/// Who is doing something, and through which channel; recorded on every event.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub user_id: Option<UserId>,
    pub channel: Option<Channel>,
}

/// One row of a bulk import, validated but not yet resolved against the store.
#[derive(Debug, Clone)]
pub enum ImportRecord {
    Customer(CustomerInput),
    Vehicle {
        external_id: String,
        customer_external_id: String,
        vin: Vin,
        model: Option<String>,
        plate: Option<String>,
        purchase_date: Option<String>,
        dealer_external_id: Option<String>,
    },
    Order {
        external_id: String,
        customer_external_id: String,
        order_no: String,
        product: Option<String>,
        amount_cents: Option<i64>,
        ordered_on: Option<String>,
        status: Option<String>,
    },
    ServiceRecord {
        external_id: String,
        vehicle_external_id: String,
        station_external_id: Option<String>,
        service_date: String,
        kind: String,
        mileage_km: Option<i64>,
        description: Option<String>,
    },
}

impl CustomFieldDef {
    /// Checks one value against the field's kind; returns it normalised.
    pub fn check(&self, value: &str) -> Result<String, crate::FieldError> {
        let v = value.trim();
        let err = |reason: &str| crate::FieldError::new(self.key.clone(), reason);
        if v.is_empty() {
            return if self.required {
                Err(err("is required"))
            } else {
                Ok(String::new())
            };
        }
        match self.kind {
            FieldKind::Text => crate::contact::text(&self.key, v, 1000),
            FieldKind::Number => v
                .parse::<f64>()
                .map(|_| v.to_string())
                .map_err(|_| err("must be a number")),
            FieldKind::Date => v
                .parse::<jiff::civil::Date>()
                .map(|d| d.to_string())
                .map_err(|_| err("must be a date such as 2026-03-01")),
            FieldKind::Select if self.options.iter().any(|o| o == v) => Ok(v.to_string()),
            FieldKind::Select => Err(err(&format!("must be one of: {}", self.options.join(", ")))),
        }
    }
}
