//! Pure types and rules of a customer care center: no IO, no HTTP, no SQL.
//! Time always comes in as an argument so every rule is deterministic.

pub mod base64_text;
pub mod calendar;
pub mod call;
pub mod case;
pub mod contact;
pub mod customer;
pub mod error;
pub mod html;
pub mod ics;
pub mod ids;
pub mod knowledge;
pub mod mail;
pub mod mime;
pub mod model;
pub mod policy;
pub mod portal;
pub mod rng;
pub mod role;
pub mod routing;
pub mod script;
pub mod simulate;
pub mod sla;
pub mod staffing;
pub mod task;
pub mod template;
pub mod user;

pub use error::FieldError;
