//! Message templates: acknowledgements and agents' reply templates, with
//! `{{variable}}` placeholders, in a plain-text and an HTML rendering.

use crate::FieldError;
use crate::case::vocabulary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

vocabulary!(
    /// What a template is for: the automatic acknowledgement of a new case,
    /// or a reply an agent starts from.
    TemplateKind, "kind" {
        Ack = "ack",
        Reply = "reply",
    }
);

/// The languages messages are written in.
pub const LANGUAGES: &[&str] = &["zh-CN", "en"];

pub fn parse_language(input: &str) -> Result<String, FieldError> {
    LANGUAGES
        .iter()
        .find(|l| l.eq_ignore_ascii_case(input.trim()))
        .map(|l| l.to_string())
        .ok_or_else(|| FieldError::new("language", "must be zh-CN or en"))
}

/// The variables a template may use, and what each one says.
pub const VARIABLES: &[(&str, &str)] = &[
    ("customer_name", "the customer's name"),
    ("case_number", "the case number, e.g. 2026-000123"),
    ("subject", "the case subject"),
    ("agent_name", "the agent writing, or the assigned agent"),
    (
        "handled_by",
        "who follows up: the assigned agent, else the team",
    ),
    ("promised_time", "the promised reply time"),
    ("faq_url", "the tenant's FAQ page"),
    (
        "case_link",
        "the customer's private link to follow the case (cases opened on the portal)",
    ),
    ("signature", "the name of the sending address"),
];

/// Values for a template's variables.
pub type Vars = BTreeMap<&'static str, String>;

/// Why a template text cannot be saved: an unclosed or unknown placeholder.
pub fn check(field: &str, text: &str) -> Result<(), FieldError> {
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(end) = after.find("}}") else {
            return Err(FieldError::new(field, "has an unclosed {{"));
        };
        let name = after[..end].trim();
        if !VARIABLES.iter().any(|(v, _)| *v == name) {
            return Err(FieldError::new(
                field,
                format!("uses the unknown variable {{{{{name}}}}}"),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// The plain-text rendering. A line whose every variable came out empty is
/// left out, so "FAQ: {{faq_url}}" disappears for a tenant without an FAQ.
pub fn render(text: &str, vars: &Vars) -> String {
    render_with(text, vars, |s| s.to_string())
}

/// The HTML rendering of a plain-text template: every character escaped,
/// paragraphs kept, links clickable.
pub fn render_html(text: &str, vars: &Vars) -> String {
    text_to_html(&render(text, vars))
}

fn render_with(text: &str, vars: &Vars, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let mut rendered = String::with_capacity(line.len());
        let (mut used, mut empty) = (0, 0);
        let mut rest = line;
        while let Some(i) = rest.find("{{") {
            rendered.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find("}}") else {
                rest = &rest[i..];
                break;
            };
            let name = after[..end].trim();
            match vars.get(name) {
                Some(v) => {
                    used += 1;
                    if v.trim().is_empty() {
                        empty += 1;
                    }
                    rendered.push_str(&value(v));
                }
                None => rendered.push_str(&rest[i..i + end + 4]),
            }
            rest = &after[end + 2..];
        }
        rendered.push_str(rest);
        if used == 0 || empty < used {
            out.push_str(&rendered);
        }
    }
    out
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text as HTML: escaped, blank lines as paragraphs, line breaks kept,
/// `http(s)://` links clickable.
pub fn text_to_html(text: &str) -> String {
    let mut out = String::from("<!DOCTYPE html><html><body>");
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p>");
        for (i, line) in para.trim_matches('\n').lines().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            for (j, word) in line.split(' ').enumerate() {
                if j > 0 {
                    out.push(' ');
                }
                let w = html_escape(word);
                if word.starts_with("https://") || word.starts_with("http://") {
                    out.push_str(&format!("<a href=\"{w}\">{w}</a>"));
                } else {
                    out.push_str(&w);
                }
            }
        }
        out.push_str("</p>");
    }
    out.push_str("</body></html>");
    out
}

/// The acknowledgement sent when a tenant has not written its own.
pub fn default_ack(language: &str) -> (&'static str, &'static str) {
    if language == "zh-CN" {
        (
            "已收到您的来信：{{subject}}",
            "{{customer_name}}，您好：\n\n\
             我们已收到您的来信，工单号为 {{case_number}}。\n\
             {{handled_by}}将跟进处理，我们承诺在 {{promised_time}} 前答复您。\n\n\
             回复本邮件即可补充信息，请保留主题中的工单号。\n\
             在线查看进度并回复：{{case_link}}\n\
             常见问题解答：{{faq_url}}\n\n\
             {{signature}}\n",
        )
    } else {
        (
            "We received your message: {{subject}}",
            "Dear {{customer_name}},\n\n\
             We received your message and opened case {{case_number}}.\n\
             {{handled_by}} will follow up; we will answer by {{promised_time}}.\n\n\
             Reply to this e-mail to add anything, keeping the case number in the subject.\n\
             Follow and answer your case online: {{case_link}}\n\
             Frequently asked questions: {{faq_url}}\n\n\
             {{signature}}\n",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&'static str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn renders_variables_and_drops_lines_left_empty() {
        let v = vars(&[
            ("customer_name", "王芳"),
            ("case_number", "2026-000001"),
            ("faq_url", ""),
        ]);
        let out = render(
            "{{customer_name}}，您好\nCase {{ case_number }}\nFAQ: {{faq_url}}\nBye\n",
            &v,
        );
        assert_eq!(out, "王芳，您好\nCase 2026-000001\nBye\n");
    }

    #[test]
    fn html_escapes_what_the_customer_wrote() {
        let v = vars(&[("subject", "<script>x</script> & co")]);
        let html = render_html("About {{subject}}\n\nSee https://faq.example/a?b=1&c=2", &v);
        assert!(
            html.contains("&lt;script&gt;x&lt;/script&gt; &amp; co"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains(
            "<a href=\"https://faq.example/a?b=1&amp;c=2\">https://faq.example/a?b=1&amp;c=2</a>"
        ));
    }

    #[test]
    fn check_names_the_bad_placeholder() {
        assert!(check("body", "Hi {{customer_name}}").is_ok());
        for (text, reason) in [
            ("Hi {{customer}}", "uses the unknown variable {{customer}}"),
            ("Hi {{customer_name", "has an unclosed {{"),
        ] {
            assert_eq!(check("body", text).unwrap_err().reason, reason, "{text}");
        }
        for lang in ["zh-CN", "en"] {
            let (s, b) = default_ack(lang);
            assert!(check("subject", s).is_ok() && check("body", b).is_ok());
        }
    }
}
