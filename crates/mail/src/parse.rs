//! Raw RFC 5322 bytes to an [`InboundMail`]: charsets (GB2312, GBK, GB18030,
//! Big5, UTF-8), transfer encodings, encoded words and parameters are decoded
//! by mail-parser; this module decides what the case keeps, and what is noise.

use crate::lift::{self, Lifted};
use domain::contact::EmailAddress;
use domain::mail::{InboundMail, Noise};
use domain::model::AttachmentInput;
use mail_parser::{Encoding, Message, MessageParser, MimeHeaders, PartType};

/// A message body longer than this is cut in the case timeline; the whole
/// message stays in the spool and its HTML part stays attached.
const MAX_TEXT_CHARS: usize = 100_000;

pub fn parse(raw: &[u8], envelope_from: &str) -> InboundMail {
    if let Some((copy, lifted)) = lift::lift(raw)
        && let Some(mail) = read(raw, &copy, &lifted, envelope_from)
    {
        return mail;
    }
    read(raw, raw, &[], envelope_from).unwrap_or_else(|| unparsed(raw))
}

/// Reads `source`: `raw` itself, or a copy with the `lifted` file bodies
/// cut out. `None` when mail-parser cannot read it, or (for a copy) did not
/// see each cut body as a file's body at its place.
fn read(raw: &[u8], source: &[u8], lifted: &[Lifted], envelope_from: &str) -> Option<InboundMail> {
    let mut m = MessageParser::default().parse(source)?;
    if m.headers().is_empty() {
        return None;
    }
    let from = m.from().and_then(|a| a.first());
    let mut mail = InboundMail {
        message_id: m.message_id().map(clean_id).filter(|s| !s.is_empty()),
        refs: references(&m),
        from: from
            .and_then(|a| a.address())
            .and_then(|a| EmailAddress::parse(a).ok()),
        from_name: from.and_then(|a| a.name()).map(clean),
        cc: m
            .cc()
            .into_iter()
            .flat_map(|a| a.iter())
            .filter_map(|a| a.address())
            .filter_map(|a| EmailAddress::parse(a).ok())
            .collect(),
        subject: clean(m.subject().unwrap_or_default().trim()),
        text: String::new(),
        attachments: Vec::new(),
        noise: None,
    };
    // body_text falls back to the HTML part turned into text.
    mail.text = m
        .body_text(0)
        .map(|t| clean(&t.chars().take(MAX_TEXT_CHARS).collect::<String>()))
        .unwrap_or_default();
    if let Some(html) = m.html_part(0).filter(|p| p.is_text_html()) {
        let html = clean(html.text_contents().unwrap_or_default());
        mail.attachments.push(AttachmentInput::new(
            "message.html".into(),
            "text/html; charset=utf-8".into(),
            html.into_bytes(),
        ));
    }
    let mut files = Vec::new();
    for (i, &id) in m.attachments.iter().enumerate() {
        let Some(part) = m.parts.get(id as usize) else {
            continue;
        };
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        let filename = part
            .attachment_name()
            .map(clean)
            .unwrap_or_else(|| default_name(i + 1, &content_type));
        files.push((id as usize, filename, content_type));
    }
    mail.noise = noise(&m, envelope_from);
    if mail.noise == Some(Noise::Bounce) {
        // The bounced message's own id, from the returned copy or headers.
        mail.refs.extend(returned_ids(&m));
    }
    // Last, as nothing reads the parts any more: the files are moved out of
    // the parsed message, not copied (they may be megabytes).
    let mut used = 0;
    for (id, filename, content_type) in files {
        let part = &mut m.parts[id];
        let (body, end) = (part.offset_body as usize, part.offset_end as usize);
        let base64 = part.encoding == Encoding::Base64
            && matches!(part.body, PartType::Binary(_) | PartType::InlineBinary(_));
        if let Some(l) = lifted.iter().find(|l| l.at == body) {
            if !base64 || !part.contents().is_empty() {
                return None;
            }
            let file = AttachmentInput::decoded_from(filename, content_type, raw, l.span.clone())?;
            mail.attachments.push(file);
            used += 1;
            continue;
        }
        let file = AttachmentInput::new(
            filename,
            content_type,
            contents(std::mem::take(&mut part.body)),
        );
        let span = lift::original_offset(lifted, body)..lift::original_offset(lifted, end);
        mail.attachments.push(if base64 {
            file.found_in(raw, span)
        } else {
            file
        });
    }
    (used == lifted.len()).then_some(mail)
}

/// A part's bytes, as `MessagePart::contents` gives them.
fn contents(body: PartType<'_>) -> Vec<u8> {
    match body {
        PartType::Text(t) | PartType::Html(t) => t.into_owned().into_bytes(),
        PartType::Binary(b) | PartType::InlineBinary(b) => b.into_owned(),
        PartType::Message(m) => m.raw_message.into_owned(),
        PartType::Multipart(_) => Vec::new(),
    }
}

/// What a fetched message's headers tell in place of an SMTP envelope: the
/// sender (Return-Path as the delivering server wrote it, else From; empty
/// for a bounce) and the Message-ID.
pub fn envelope(raw: &[u8]) -> (String, Option<String>) {
    let Some(m) = MessageParser::default().parse_headers(raw) else {
        return (String::new(), None);
    };
    let from = match m.header_raw("Return-Path") {
        Some(path) => path
            .trim()
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        None => m
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
    };
    let id = m.message_id().map(clean_id).filter(|s| !s.is_empty());
    (from.to_lowercase(), id)
}

/// A message mail-parser cannot read still becomes a case: its bytes as
/// text, as far as they go, and the source attached.
fn unparsed(raw: &[u8]) -> InboundMail {
    InboundMail {
        subject: "(unreadable message / 无法解析的邮件)".into(),
        text: clean(
            &String::from_utf8_lossy(raw)
                .chars()
                .take(MAX_TEXT_CHARS)
                .collect::<String>(),
        ),
        attachments: vec![AttachmentInput::new(
            "message.eml".into(),
            "message/rfc822".into(),
            raw.to_vec(),
        )],
        ..InboundMail::default()
    }
}

/// Text as a database column can hold it: PostgreSQL refuses NUL, and other
/// control characters besides tab and line ends are never meant to be shown.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// In-Reply-To first, then References newest first.
fn references(m: &Message<'_>) -> Vec<String> {
    let ids = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        match (v.as_text_list(), v.as_text()) {
            (Some(list), _) => list.iter().map(|s| clean_id(s)).collect(),
            (None, Some(one)) => vec![clean_id(one)],
            _ => Vec::new(),
        }
    };
    let mut out = ids(m.in_reply_to());
    let mut refs = ids(m.references());
    refs.reverse();
    for r in refs {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn header_text(m: &Message<'_>, name: &str) -> Option<String> {
    m.header_raw(name).map(|v| v.trim().to_ascii_lowercase())
}

/// Auto-replies, bounces and bulk mail, by the headers RFC 3834 and the
/// common mail servers set, and by the subjects out-of-office replies use.
fn noise(m: &Message<'_>, envelope_from: &str) -> Option<Noise> {
    let is_report = m.content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart")
            && c.subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let from = m
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let local = from.split('@').next().unwrap_or_default();
    if is_report || local == "mailer-daemon" || local == "postmaster" || envelope_from.is_empty() {
        return Some(Noise::Bounce);
    }
    if header_text(m, "Auto-Submitted").is_some_and(|v| v != "no")
        || header_text(m, "X-Autoreply").is_some()
        || header_text(m, "X-Autorespond").is_some()
    {
        return Some(Noise::AutoReply);
    }
    if let Some(p) = header_text(m, "Precedence")
        && ["bulk", "junk", "list", "auto_reply"].contains(&p.as_str())
    {
        return Some(if p == "auto_reply" {
            Noise::AutoReply
        } else {
            Noise::Bulk
        });
    }
    let subject = m.subject().unwrap_or_default().to_lowercase();
    let ooo = [
        "out of office",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "自动回复",
        "休假",
        "不在办公室",
    ];
    if ooo
        .iter()
        .any(|p| subject.starts_with(p) || subject.contains(&format!(": {p}")))
    {
        return Some(Noise::AutoReply);
    }
    None
}

/// Message-IDs in a bounce's returned message or returned headers.
fn returned_ids(m: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for part in m.attachments() {
        if let Some(inner) = part.message()
            && let Some(id) = inner.message_id()
        {
            out.push(clean_id(id));
            continue;
        }
        let is_headers = part.content_type().is_some_and(|c| {
            c.subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
        });
        if is_headers {
            let text = String::from_utf8_lossy(part.contents());
            for line in text.lines() {
                if let Some((name, value)) = line.split_once(':')
                    && name.trim().eq_ignore_ascii_case("message-id")
                {
                    out.push(clean_id(value));
                }
            }
        }
    }
    out
}

fn default_name(n: usize, content_type: &str) -> String {
    let ext = match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        _ => "bin",
    };
    format!("attachment-{n}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    fn base64_lines(data: &[u8], eol: &str) -> String {
        let text = STANDARD.encode(data);
        text.as_bytes()
            .chunks(76)
            .map(|l| String::from_utf8_lossy(l).into_owned() + eol)
            .collect()
    }

    /// What a case keeps of a message, but where its files lie.
    fn kept(mail: &InboundMail) -> String {
        let files: Vec<_> = mail
            .attachments
            .iter()
            .map(|f| (&f.filename, &f.content_type, f.sha256()))
            .collect();
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {files:?}",
            mail.message_id,
            mail.refs,
            mail.from,
            mail.from_name,
            mail.subject,
            mail.text,
            mail.noise
        )
    }

    /// The large file bodies read past mail-parser: how many, for a message
    /// read that way.
    fn lifted(raw: &[u8]) -> usize {
        lift::lift(raw)
            .and_then(|(copy, l)| read(raw, &copy, &l, "a@example.cn").map(|_| l.len()))
            .unwrap_or(0)
    }

    /// A file kept base64-encoded in the message's source must read back
    /// as the very bytes the parser decoded; other files are not kept so.
    /// Large files are decoded past mail-parser where it sees them as we
    /// do, and the case keeps the same either way.
    #[test]
    fn files_found_in_the_source_decode_to_themselves() {
        let pdf = b"%PDF-1.4 a scanned invoice".to_vec();
        let mut cases = Vec::new();
        for (size, eol, lifted) in [(50_000, "\r\n", 1), (50_000, "\n", 1), (5000, "\r\n", 0)] {
            let photo: Vec<u8> = (0..size).map(|i: u32| (i * 7919 % 251) as u8).collect();
            let (p, d) = (base64_lines(&photo, eol), base64_lines(&pdf, eol));
            let m = format!(
                "From: a@example.cn\nSubject: x\nContent-Type: multipart/mixed; boundary=\"o\"\n\n\
                 --o\nContent-Type: multipart/related; boundary=\"i\"\n\n\
                 --i\nContent-Type: text/plain\n\nhello\n\
                 --i\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\
                 Content-Disposition: inline; filename=a.png\n\n{p}--i--\n\
                 --o\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\
                 Content-Disposition: attachment; filename=b.pdf\n\n{d}\n--o\n\
                 Content-Type: text/plain\nContent-Disposition: attachment; filename=c.txt\n\n\
                 plain text\n--o\nContent-Type: application/zip\nContent-Transfer-Encoding: base64\n\
                 Content-Disposition: attachment; filename=d.zip\n\nnot*base64\n--o--\n"
            )
            .replace('\n', eol);
            // a.png and b.pdf; not c.txt (text), nor d.zip (broken).
            cases.push((m.into_bytes(), 2, lifted));
        }
        // A forwarded message with a photo: it is attached whole, as it came.
        let photo = base64_lines(&[7u8; 30_000], "\r\n");
        let forwarded = format!(
            "From: a@example.cn\r\nSubject: Fwd\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
             --o\r\nContent-Type: text/plain\r\n\r\nsee below\r\n\
             --o\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@example.cn\r\nSubject: photo\r\n\
             Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\nContent-Type: image/jpeg\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{photo}--i--\r\n--o--\r\n"
        );
        cases.push((forwarded.into_bytes(), 0, 0));
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
        for (name, expected) in [
            ("03_gb18030_rfc2231_attachment.eml", 1),
            ("11_raw8bit_name_inline_image.eml", 3),
        ] {
            let raw = std::fs::read(format!("{fixtures}{name}")).unwrap();
            cases.push((raw, expected, 0));
        }
        for (raw, expected, lifted_bodies) in cases {
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let mail = parse(&raw, "a@example.cn");
            let plain = read(&raw, &raw, &[], "a@example.cn").unwrap();
            assert_eq!(kept(&mail), kept(&plain), "{shown}");
            assert_eq!(lifted(&raw), lifted_bodies, "{shown}");
            let mut found = 0;
            for file in &mail.attachments {
                let Some(span) = file.in_source() else {
                    continue;
                };
                let decoded = domain::base64_text::decode(&raw[span]);
                assert_eq!(decoded.as_deref(), Some(file.data()), "{}", file.filename);
                found += 1;
            }
            assert_eq!(found, expected, "{shown}");
        }
    }
}
