//! E-mail rules: the case tag in subjects, form-like lines in bodies, and
//! which case an incoming message belongs to.

use crate::FieldError;
use crate::case::{CaseNumber, CaseStatus, vocabulary};
use crate::contact::EmailAddress;
use crate::ids::CaseId;
use crate::model::AttachmentInput;
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    /// What a customer's reply to a closed case does (a tenant setting).
    ClosedReply, "closed_reply" {
        Reopen = "reopen",
        FollowUp = "follow_up",
    }
);

vocabulary!(
    /// How a connection to a mail server is protected: `none` (for a server
    /// on this machine or a trusted network only), `starttls` (a plain
    /// connection upgraded; refused if the server does not offer it) or
    /// `tls` from the first byte (ports 465 and 993).
    Security, "security" {
        None = "none",
        StartTls = "starttls",
        Tls = "tls",
    }
);

/// Mail that must never open a case nor be acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noise {
    /// Out-of-office and other automatic answers.
    AutoReply,
    /// A delivery status notification (a bounce).
    Bounce,
    /// Mailing-list and bulk mail.
    Bulk,
}

/// A received message as the case needs it, whatever its encoding was.
#[derive(Debug, Clone, Default)]
pub struct InboundMail {
    pub message_id: Option<String>,
    /// In-Reply-To then References, without angle brackets.
    pub refs: Vec<String>,
    pub from: Option<EmailAddress>,
    pub from_name: Option<String>,
    pub cc: Vec<EmailAddress>,
    pub subject: String,
    /// Plain text; derived from the HTML part when the mail has no text part.
    pub text: String,
    /// Files, inline images, the HTML part (`message.html`) and, for a
    /// message that could not be parsed, its source (`message.eml`).
    pub attachments: Vec<AttachmentInput>,
    pub noise: Option<Noise>,
}

/// The case number in a subject, as `[#2026-000123]` (what we send) or a
/// bare `#2026-000123` left after a client rewrote the brackets.
pub fn case_tag(subject: &str) -> Option<CaseNumber> {
    let mut rest = subject;
    while let Some(i) = rest.find('#') {
        let after = &rest[i + 1..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(after.len());
        if let Ok(n) = CaseNumber::parse(&after[..end]) {
            return Some(n);
        }
        rest = after;
    }
    None
}

/// The subject of a message we send on a case: tagged once, never twice.
pub fn tag_subject(subject: &str, number: CaseNumber) -> String {
    if case_tag(subject) == Some(number) {
        subject.to_string()
    } else {
        format!("{subject} [#{number}]")
    }
}

/// What a "contact us" style body tells about the writer, from lines such
/// as `省份：上海` or `Order: SO-77`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields {
    pub province: Option<String>,
    pub order_no: Option<String>,
    pub account_no: Option<String>,
}

pub fn form_fields(body: &str) -> FormFields {
    let mut f = FormFields::default();
    for line in body.lines() {
        let Some((label, value)) = line.split_once([':', '：']) else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 64 {
            continue;
        }
        let slot = match label.trim().to_lowercase().as_str() {
            "省份" | "省" | "地区" | "province" | "region" => &mut f.province,
            "订单号" | "订单编号" | "order" | "order no" | "order number" => &mut f.order_no,
            "账号" | "帐号" | "账户" | "account" | "account no" | "account number" => {
                &mut f.account_no
            }
            _ => continue,
        };
        slot.get_or_insert_with(|| value.to_string());
    }
    f
}

/// The case a message points at (by its headers or its subject tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub case_id: CaseId,
    pub status: CaseStatus,
    /// The sender is the case's customer or one of its participants.
    pub sender_known: bool,
}

/// Where an incoming message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thread {
    New,
    Continue(CaseId),
    /// A reply to a resolved or closed case, reopening it.
    Reopen(CaseId),
    /// A reply to a closed case, opening a follow-up linked to it.
    FollowUp(CaseId),
    /// Someone else's case: a new case, linked as related, never merged.
    Stranger(CaseId),
}

pub fn thread(candidate: Option<Candidate>, closed: ClosedReply) -> Thread {
    match candidate {
        None => Thread::New,
        Some(c) if !c.sender_known => Thread::Stranger(c.case_id),
        Some(c) if c.status == CaseStatus::Closed => match closed {
            ClosedReply::Reopen => Thread::Reopen(c.case_id),
            ClosedReply::FollowUp => Thread::FollowUp(c.case_id),
        },
        // The customer writes again after we called it solved: it is not.
        Some(c) if c.status == CaseStatus::Resolved => Thread::Reopen(c.case_id),
        Some(c) => Thread::Continue(c.case_id),
    }
}

impl fmt::Display for Noise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Noise::AutoReply => "auto_reply",
            Noise::Bounce => "bounce",
            Noise::Bulk => "bulk",
        })
    }
}

/// A web link given in settings (the FAQ page): empty means none.
pub fn parse_link(field: &str, input: &str) -> Result<Option<String>, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if !(s.starts_with("https://") || s.starts_with("http://")) || s.contains(char::is_whitespace) {
        return Err(FieldError::new(
            field,
            "must be a link starting with https://",
        ));
    }
    Ok(Some(s.to_string()))
}

/// A receiving address as an administrator types it.
pub fn parse_address(input: &str) -> Result<EmailAddress, FieldError> {
    EmailAddress::parse(input).map_err(|e| FieldError::new("address", e.reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_case_tag_however_the_client_wrote_the_subject() {
        let n = |s: &str| case_tag(s).map(|n| n.to_string());
        for (subject, want) in [
            ("Re: 发票问题 [#2026-000123]", Some("2026-000123")),
            ("回复：RE: [#2026-000045] broken", Some("2026-000045")),
            ("Fwd: 发票问题 #2026-000123", Some("2026-000123")),
            ("Invoice #12 and #2026-1", None),
            ("no tag at all", None),
        ] {
            assert_eq!(n(subject).as_deref(), want, "{subject}");
        }
        let num = CaseNumber::parse("2026-000123").unwrap();
        assert_eq!(
            tag_subject("Re: x [#2026-000123]", num),
            "Re: x [#2026-000123]"
        );
        assert_eq!(tag_subject("x", num), "x [#2026-000123]");
    }

    #[test]
    fn reads_form_lines_in_both_languages() {
        let f = form_fields(
            "您好，\n省份：上海\n订单号: SO-77\nAccount: 6222 0000\n账号：后面的不算\n",
        );
        assert_eq!(f.province.as_deref(), Some("上海"));
        assert_eq!(f.order_no.as_deref(), Some("SO-77"));
        assert_eq!(f.account_no.as_deref(), Some("6222 0000"));
        assert_eq!(
            form_fields("Dear team: the order arrived broken"),
            FormFields::default()
        );
    }

    #[test]
    fn threading_table() {
        let id = CaseId(7);
        let c = |status, sender_known| {
            Some(Candidate {
                case_id: id,
                status,
                sender_known,
            })
        };
        use ClosedReply::*;
        for (candidate, closed, want) in [
            (None, Reopen, Thread::New),
            (c(CaseStatus::Open, true), Reopen, Thread::Continue(id)),
            (
                c(CaseStatus::PendingCustomer, true),
                FollowUp,
                Thread::Continue(id),
            ),
            (c(CaseStatus::Resolved, true), FollowUp, Thread::Reopen(id)),
            (c(CaseStatus::Closed, true), Reopen, Thread::Reopen(id)),
            (c(CaseStatus::Closed, true), FollowUp, Thread::FollowUp(id)),
            (c(CaseStatus::Open, false), Reopen, Thread::Stranger(id)),
            (c(CaseStatus::Closed, false), FollowUp, Thread::Stranger(id)),
        ] {
            assert_eq!(thread(candidate, closed), want, "{candidate:?} {closed:?}");
        }
    }
}
