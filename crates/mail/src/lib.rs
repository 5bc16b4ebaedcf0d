//! The e-mail channel: an SMTP listener, an IMAP poller, parsing of what Chinese and other
//! mail clients send, filing into cases, and the sender that hands the
//! outbox to the relay. Wire input becomes domain input here; nothing in this
//! crate knows about HTTP.

pub mod imap;
pub mod intake;
mod lift;
pub mod outbox;
pub mod parse;
pub mod poller;
pub mod relay;
pub mod smtp;
pub mod tls;

pub use intake::{Intake, ListenerLimits, file_pending, listen};
pub use smtp::SmtpConfig;
