//! Sanitising the HTML of received mail before an agent's browser shows it:
//! an allow-list of formatting tags and attributes; scripts, frames, forms,
//! event handlers, remote images and `javascript:` links are removed.

use crate::template::html_escape;

/// Tags kept (their attributes filtered); every other tag is dropped and
/// its text kept, except those in [`DROP_WITH_CONTENT`].
const ALLOWED: &[&str] = &[
    "a",
    "abbr",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
];

const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "head", "title", "iframe", "object", "embed", "noscript", "template", "svg",
    "math", "textarea", "select", "xml",
];

const ATTRIBUTES: &[&str] = &[
    "align",
    "alt",
    "bgcolor",
    "border",
    "cellpadding",
    "cellspacing",
    "color",
    "colspan",
    "face",
    "height",
    "href",
    "rowspan",
    "size",
    "src",
    "style",
    "title",
    "valign",
    "width",
];

pub fn sanitize(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&escape_text(&rest[..lt]));
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |e| &rest[e + 1..]);
            continue;
        }
        let Some((tag, len)) = Tag::read(rest) else {
            out.push_str("&lt;");
            rest = &rest[1..];
            continue;
        };
        rest = &rest[len..];
        if !tag.closing && DROP_WITH_CONTENT.contains(&tag.name.as_str()) {
            // Skip to the matching end tag (or the end of the input).
            let end = format!("</{}", tag.name);
            let lower = rest.to_ascii_lowercase();
            rest = match lower.find(&end) {
                Some(i) => rest[i..].find('>').map_or("", |e| &rest[i + e + 1..]),
                None => "",
            };
            continue;
        }
        if !ALLOWED.contains(&tag.name.as_str()) {
            continue;
        }
        if tag.closing {
            out.push_str(&format!("</{}>", tag.name));
            continue;
        }
        out.push('<');
        out.push_str(&tag.name);
        for (name, value) in &tag.attributes {
            if let Some(v) = safe_attribute(&tag.name, name, value) {
                out.push_str(&format!(" {name}=\"{}\"", html_escape(&v)));
            }
        }
        if tag.name == "a" {
            out.push_str(" rel=\"noopener noreferrer\" target=\"_blank\"");
        }
        out.push('>');
    }
    out.push_str(&escape_text(rest));
    out
}

/// Text between tags: entities kept, stray angle brackets escaped.
fn escape_text(s: &str) -> String {
    s.replace('<', "&lt;").replace('>', "&gt;")
}

fn safe_attribute(tag: &str, name: &str, value: &str) -> Option<String> {
    if !ATTRIBUTES.contains(&name) {
        return None;
    }
    let decoded = decode_entities(value);
    let squeezed: String = decoded
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    match name {
        "href" => (tag == "a"
            && ["http://", "https://", "mailto:"]
                .iter()
                .any(|p| squeezed.starts_with(p)))
        .then_some(decoded),
        // Remote images would tell the sender when the agent read the mail.
        "src" => (tag == "img" && squeezed.starts_with("data:image/")).then_some(decoded),
        "style" => (!["url(", "expression", "javascript:", "@import", "behavior"]
            .iter()
            .any(|p| squeezed.contains(p)))
        .then_some(decoded),
        _ => Some(decoded),
    }
}

/// The common character references; anything else is kept as written (and
/// escaped on output).
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

struct Tag {
    name: String,
    closing: bool,
    attributes: Vec<(String, String)>,
}

impl Tag {
    /// Reads a tag at the start of `s` (which begins with `<`); returns it
    /// and its length, or None when this `<` does not open a tag.
    fn read(s: &str) -> Option<(Tag, usize)> {
        let b = s.as_bytes();
        let mut i = 1;
        let closing = b.get(1) == Some(&b'/');
        if closing {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric()) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let name = s[start..i].to_ascii_lowercase();
        let mut attributes = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            match b.get(i) {
                None => {
                    return Some((
                        Tag {
                            name,
                            closing,
                            attributes,
                        },
                        b.len(),
                    ));
                }
                Some(b'>') => {
                    return Some((
                        Tag {
                            name,
                            closing,
                            attributes,
                        },
                        i + 1,
                    ));
                }
                _ => {}
            }
            let a = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/".contains(&b[i]) {
                i += 1;
            }
            let attr = s[a..i].to_ascii_lowercase();
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                match b.get(i) {
                    Some(q @ (b'"' | b'\'')) => {
                        let end = s[i + 1..].find(*q as char).map_or(b.len(), |e| i + 1 + e);
                        value = s[i + 1..end].to_string();
                        i = (end + 1).min(b.len());
                    }
                    _ => {
                        let v = i;
                        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                            i += 1;
                        }
                        value = s[v..i].to_string();
                    }
                }
            }
            if !attr.is_empty() {
                attributes.push((attr, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn keeps_formatting_and_drops_what_could_run() {
        for (dirty, clean) in [
            (
                "<p style=\"color:red\">您好 <b>王</b></p>",
                "<p style=\"color:red\">您好 <b>王</b></p>",
            ),
            ("a<script>alert(1)</script>b", "ab"),
            ("<SCRIPT SRC=x></SCRIPT>ok", "ok"),
            ("<img src=x onerror=alert(1)>", "<img>"),
            (
                "<a href=\"java&#115;cript:alert(1)\">x</a>",
                "<a rel=\"noopener noreferrer\" target=\"_blank\">x</a>",
            ),
            (
                "<a href='https://faq.example/?a=1&amp;b=2'>faq</a>",
                "<a href=\"https://faq.example/?a=1&amp;b=2\" rel=\"noopener noreferrer\" target=\"_blank\">faq</a>",
            ),
            (
                "<div style=\"background:url(http://t.example/p.gif)\">x</div>",
                "<div>x</div>",
            ),
            (
                "<iframe src=//evil></iframe><form><input name=p></form>t",
                "t",
            ),
            ("<!-- <script>x</script> -->c", "c"),
            ("1 < 2 and 3 > 2", "1 &lt; 2 and 3 &gt; 2"),
            ("<svg><script>x</script></svg>z", "z"),
            (
                "<td colspan=2 onclick='x'>c</td>",
                "<td colspan=\"2\">c</td>",
            ),
            ("<style>p{}</style><p>x", "<p>x"),
        ] {
            assert_eq!(sanitize(dirty), clean, "{dirty}");
        }
    }
}
