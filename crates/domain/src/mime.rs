//! Outgoing messages as RFC 5322 text: UTF-8 everywhere, headers in RFC 2047
//! encoded words, bodies in base64, attachment names in RFC 2231 form, so
//! every client (including the older Chinese webmails) reads them.

use crate::contact::EmailAddress;
use crate::model::AttachmentInput;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use jiff::tz::TimeZone;

#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Without angle brackets.
    pub message_id: String,
    pub date: Timestamp,
    pub from: EmailAddress,
    pub from_name: String,
    pub to: Vec<EmailAddress>,
    /// Shown to every recipient; blind copies are envelope recipients only.
    pub cc: Vec<EmailAddress>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// An acknowledgement: marked so that robots do not answer it.
    pub auto_reply: bool,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<AttachmentInput>,
}

impl OutgoingMail {
    pub fn compose(&self) -> Vec<u8> {
        let mut m = String::with_capacity(self.text.len() * 3 + 1024);
        let boundary = format!("=_cc_{}", self.message_id.replace(['@', '.'], "_"));
        header(
            &mut m,
            "From",
            &mailbox(&self.from_name, self.from.as_str()),
        );
        let list = |l: &[EmailAddress]| {
            l.iter()
                .map(EmailAddress::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        header(&mut m, "To", &list(&self.to));
        if !self.cc.is_empty() {
            header(&mut m, "Cc", &list(&self.cc));
        }
        header(&mut m, "Subject", &encode_words(&self.subject));
        header(
            &mut m,
            "Date",
            &jiff::fmt::rfc2822::to_string(&self.date.to_zoned(TimeZone::UTC)).unwrap_or_default(),
        );
        header(&mut m, "Message-ID", &format!("<{}>", self.message_id));
        if let Some(r) = &self.in_reply_to {
            header(&mut m, "In-Reply-To", &format!("<{r}>"));
        }
        if !self.references.is_empty() {
            let refs: Vec<String> = self.references.iter().map(|r| format!("<{r}>")).collect();
            header(&mut m, "References", &refs.join(" "));
        }
        if self.auto_reply {
            header(&mut m, "Auto-Submitted", "auto-replied");
            header(&mut m, "X-Auto-Response-Suppress", "All");
        }
        header(&mut m, "MIME-Version", "1.0");

        let alternative = self.html.is_some();
        let mixed = !self.attachments.is_empty();
        if mixed {
            header(
                &mut m,
                "Content-Type",
                &format!("multipart/mixed; boundary=\"{boundary}m\""),
            );
            m.push_str("\r\n");
            m.push_str(&format!("--{boundary}m\r\n"));
        }
        if alternative {
            header(
                &mut m,
                "Content-Type",
                &format!("multipart/alternative; boundary=\"{boundary}a\""),
            );
            m.push_str("\r\n");
            m.push_str(&format!("--{boundary}a\r\n"));
        }
        part(
            &mut m,
            "text/plain; charset=utf-8",
            None,
            self.text.as_bytes(),
        );
        if let Some(html) = &self.html {
            m.push_str(&format!("--{boundary}a\r\n"));
            part(&mut m, "text/html; charset=utf-8", None, html.as_bytes());
            m.push_str(&format!("--{boundary}a--\r\n"));
        }
        if mixed {
            for a in &self.attachments {
                m.push_str(&format!("--{boundary}m\r\n"));
                part(&mut m, &a.content_type, Some(&a.filename), a.data());
            }
            m.push_str(&format!("--{boundary}m--\r\n"));
        }
        m.into_bytes()
    }
}

fn header(m: &mut String, name: &str, value: &str) {
    m.push_str(name);
    m.push_str(": ");
    m.push_str(value);
    m.push_str("\r\n");
}

fn part(m: &mut String, content_type: &str, filename: Option<&str>, body: &[u8]) {
    let content_type: String = content_type
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    header(m, "Content-Type", &content_type);
    header(m, "Content-Transfer-Encoding", "base64");
    if let Some(name) = filename {
        header(
            m,
            "Content-Disposition",
            &format!("attachment; filename*=utf-8''{}", ext_value(name)),
        );
    }
    m.push_str("\r\n");
    let encoded = STANDARD.encode(body);
    for chunk in encoded.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        m.push_str("\r\n");
    }
}

/// `Name <addr>`, the name encoded or quoted as it needs.
fn mailbox(name: &str, address: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        address.to_string()
    } else if !name.is_ascii() {
        format!("{}\r\n <{address}>", encode_words(name))
    } else if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " -_.!#$%&'*+/=?^`{|}~".contains(c))
    {
        format!("{name} <{address}>")
    } else {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{quoted}\" <{address}>")
    }
}

/// A header value as RFC 2047 encoded words when it is not plain ASCII; each
/// word holds whole characters and stays within 75 characters.
fn encode_words(value: &str) -> String {
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() {
        return clean;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 39 {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
    }
    words.join("\r\n ")
}

/// RFC 2231 / RFC 5987 percent-encoding of a file name (in mail, and in an
/// HTTP download's `Content-Disposition`).
pub fn ext_value(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_ascii_and_lines_short() {
        let mail = OutgoingMail {
            message_id: "a.1@auto.example".into(),
            date: Timestamp::from_second(1_790_000_000).unwrap(),
            from: EmailAddress::parse("service@auto.example").unwrap(),
            from_name: "客户服务中心 (Service)".into(),
            to: vec![EmailAddress::parse("wang@example.cn").unwrap()],
            cc: vec![],
            subject: "回复：发动机异响问题，已经第三次进店了，请尽快处理 [#2026-000001]".into(),
            in_reply_to: Some("x@y".into()),
            references: vec!["w@y".into(), "x@y".into()],
            auto_reply: true,
            text: "您好".into(),
            html: Some("<p>您好</p>".into()),
            attachments: vec![AttachmentInput::new(
                "发票 scan.pdf".into(),
                "application/pdf".into(),
                vec![0; 200],
            )],
        };
        let raw = String::from_utf8(mail.compose()).unwrap();
        assert!(raw.is_ascii());
        assert!(raw.lines().all(|l| l.len() <= 998));
        assert!(raw.contains("\r\nIn-Reply-To: <x@y>\r\nReferences: <w@y> <x@y>\r\n"));
        assert!(raw.contains("Auto-Submitted: auto-replied"));
        assert!(raw.contains("filename*=utf-8''%E5%8F%91%E7%A5%A8%20scan.pdf"));
        assert!(
            raw.lines()
                .filter(|l| l.contains("=?UTF-8?B?"))
                .all(|l| l.len() <= 78)
        );
        assert_eq!(
            mailbox("Help, Desk", "h@x.example"),
            "\"Help, Desk\" <h@x.example>"
        );
    }
}
