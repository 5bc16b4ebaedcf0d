//! Large base64 files lifted out of a message before mail-parser reads it.
//!
//! mail-parser decodes base64 a byte at a time: for mail with a photo or a
//! scan, that was most of the work of receiving it. Here the bodies of
//! files that come as base64 are found by a fast scan and cut out of the
//! copy mail-parser reads; `parse` decodes them with a fast decoder. It
//! checks that mail-parser saw every cut body as a file's empty base64 body
//! at that very place, and reads the original message otherwise, so a
//! message this scan misreads costs time, never its contents.

use memchr::{memchr, memmem};
use std::ops::Range;

/// Smaller bodies are left to mail-parser: cutting them out would not pay.
const MIN_BYTES: usize = 16 * 1024;

/// A file's body cut out of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifted {
    /// Where the body began in the copy, which mail-parser reports as the
    /// offset of that part's (now empty) body.
    pub at: usize,
    /// The body's base64 text in the original message.
    pub span: Range<usize>,
}

/// The message without its large base64 file bodies, and where they were;
/// `None` when it has none.
pub fn lift(raw: &[u8]) -> Option<(Vec<u8>, Vec<Lifted>)> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    let hits = memmem::find_iter(raw, b"-Transfer-Encoding:")
        .chain(memmem::find_iter(raw, b"-transfer-encoding:"));
    for hit in hits {
        if let Some(span) = base64_file_body(raw, hit)
            && span.len() >= MIN_BYTES
        {
            spans.push(span);
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|s| s.start);
    let removed: usize = spans.iter().map(|s| s.len()).sum();
    let mut copy = Vec::with_capacity(raw.len() - removed);
    let mut lifted = Vec::with_capacity(spans.len());
    let mut from = 0;
    for span in spans {
        copy.extend_from_slice(&raw[from..span.start]);
        lifted.push(Lifted {
            at: copy.len(),
            span: span.clone(),
        });
        from = span.end;
    }
    copy.extend_from_slice(&raw[from..]);
    Some((copy, lifted))
}

/// Where an offset in the copy lies in the original message.
pub fn original_offset(lifted: &[Lifted], at: usize) -> usize {
    at + lifted
        .iter()
        .filter(|l| l.at <= at)
        .map(|l| l.span.len())
        .sum::<usize>()
}

/// The body of the part whose `Content-Transfer-Encoding` header has its
/// `-Transfer-Encoding:` at `hit`, when that says base64 and the part is a
/// file (not text, not a message, not a multipart): from after the blank
/// line that ends the part's headers to the next line that begins with `-`
/// (a boundary: base64 text has no `-`), or to the end.
fn base64_file_body(raw: &[u8], hit: usize) -> Option<Range<usize>> {
    let name = hit.checked_sub(7)?;
    if !raw[name..hit].eq_ignore_ascii_case(b"Content") || (name > 0 && raw[name - 1] != b'\n') {
        return None;
    }
    let value_at = hit + b"-Transfer-Encoding:".len();
    let line_end = memchr(b'\n', &raw[value_at..]).map_or(raw.len(), |i| value_at + i);
    if !raw[value_at..line_end]
        .trim_ascii()
        .eq_ignore_ascii_case(b"base64")
    {
        return None;
    }
    // The rest of the part's headers, up to the blank line.
    let mut line = line_end + 1;
    let body = loop {
        let rest = raw.get(line..)?;
        let end = memchr(b'\n', rest)?;
        if rest[..end].trim_ascii().is_empty() {
            break line + end + 1;
        }
        line += end + 1;
    };
    // The part's headers began after the boundary line before them.
    let headers = memmem::rfind(&raw[..name], b"\n-").map_or(0, |i| {
        memchr(b'\n', &raw[i + 1..]).map_or(raw.len(), |j| i + 1 + j + 1)
    });
    if !is_file(raw.get(headers..body)?) {
        return None;
    }
    let end = memmem::find(&raw[body..], b"\n-").map_or(raw.len(), |i| body + i + 1);
    Some(body..end)
}

/// Whether headers give a file's type: a part without a Content-Type is
/// text.
fn is_file(headers: &[u8]) -> bool {
    let content_type = headers.split(|&b| b == b'\n').find_map(|line| {
        let (name, value) = line.split_at(line.iter().position(|&b| b == b':')?);
        name.eq_ignore_ascii_case(b"Content-Type")
            .then(|| value[1..].trim_ascii().to_ascii_lowercase())
    });
    content_type.is_some_and(|t| {
        !(t.starts_with(b"text/") || t.starts_with(b"message/") || t.starts_with(b"multipart/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(headers: &str, body: &str) -> String {
        format!("--b\r\n{headers}\r\n\r\n{body}")
    }

    #[test]
    fn large_base64_file_bodies_are_cut_out() {
        let photo = "QUJD".repeat(19).to_string() + "\r\n";
        let photo = photo.repeat(300);
        let text = "5L2g5aW9\r\n".repeat(3000);
        let message = [
            "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n".to_string(),
            part("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64", &text),
            part("Content-Type: image/jpeg\r\ncontent-transfer-encoding: BASE64 \r\nContent-Disposition: attachment", &photo),
            part("Content-Type: image/png\r\nContent-Transfer-Encoding: base64", "QUJD\r\n"),
            part("Content-Type: application/pdf\r\nContent-Transfer-Encoding: quoted-printable", &photo),
            part("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64", &photo),
            part("Content-Transfer-Encoding: base64", &photo),
            "--b--\r\n".to_string(),
        ]
        .concat();
        let raw = message.as_bytes();
        let (copy, lifted) = lift(raw).unwrap();
        assert_eq!(lifted.len(), 1, "only the photo: {lifted:?}");
        let l = &lifted[0];
        assert_eq!(&raw[l.span.clone()], photo.as_bytes());
        assert_eq!(copy.len(), raw.len() - photo.len());
        assert!(copy[..l.at].ends_with(b"attachment\r\n\r\n"));
        assert!(copy[l.at..].starts_with(b"--b\r\nContent-Type: image/png"));
        assert_eq!(original_offset(&lifted, l.at - 1), l.span.start - 1);
        assert_eq!(original_offset(&lifted, l.at + 5), l.span.end + 5);
        assert!(lift(b"Subject: no files\r\n\r\nhello\r\n").is_none());
    }
}
