//! One storage API over SQLite (embedded default) and PostgreSQL (scale-out).
//!
//! Queries are written once in the SQL both engines share (`$1` parameters,
//! `RETURNING`, `ON CONFLICT`) and run through sqlx's runtime-chosen driver;
//! the few places where the dialects differ ask [`Backend`]. Every query takes
//! the tenant id and filters on it.

mod board;
mod bulk;
mod calls;
mod cases;
mod catalog;
mod customers;
mod db;
mod desk;
mod error;
mod events;
mod exec;
mod history;
mod knowledge;
mod lite;
mod mail;
mod mailboxes;
mod migrate;
mod outbox;
mod policies;
mod portal;
mod reports;
mod routing;
mod scripts;
mod search;
mod segments;
mod sla;
mod sql;
mod tasks;
mod tenants;
mod users;

pub use board::{AgentDay, Alarms, Ringing};
pub use calls::{AgentRef, Call, CallOutcome, CallReport, WrapUp};
pub use cases::CaseDetail;
pub use catalog::{CatalogChange, CatalogEntry};
pub use customers::{CustomerLookup, CustomerView, ImportOutcome};
pub use db::{Backend, Store};
pub use desk::SavedFilter;
pub use error::StoreError;
pub use history::Contact;
pub use knowledge::{
    ArticleFilter, ArticleReader, ArticleSummary, ArticleUse, FileChange, KbCategory,
};
pub use mail::{
    Filed, MailAddress, MailAddressInput, MailLogEntry, SENDER_HOURLY_LIMIT, SpoolInput,
    SpooledMail,
};
pub use mailboxes::{ImapStored, Mailbox, MailboxInput, MailboxLogin, UidState};
pub use outbox::{
    MailTemplate, Notification, OutboundMail, OutboxEntry, QueuedMail, ReplyInput, TemplateInput,
};
pub use policies::{StoredCalendar, StoredPolicy};
pub use portal::{PortalCase, PortalKey, PortalMessage, PortalReceipt};
pub use reports::{QueueCalls, SL_THRESHOLD_SECS, Summary};
pub use routing::{
    EntryRule, OpenWork, PendingWork, RoutingAgent, Skill, Slice, StateSpan, WorkFilter,
    WorkSummary,
};
pub use search::{FeedItem, FeedKind, FeedMark};
pub use sla::{ClockInfo, TickOutcome};
pub use tasks::TaskFilter;
pub use tenants::{NewTenant, TenantChange, TenantInfo};
pub use users::{AuthUser, NewUser, TokenInfo, UserChange};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub mod testing;
