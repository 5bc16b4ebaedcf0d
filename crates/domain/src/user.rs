//! What a login name and a password must look like, for the API and the CLI alike.

use crate::FieldError;
use crate::contact::text;
use sha2::{Digest, Sha256};

/// What is stored of a secret token (a session, an API or a PBX token): its
/// SHA-256 in hex, so a copy of the database opens nothing.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Letters, digits and `. _ - @`, at most 64, compared lower-cased.
pub fn username(input: &str) -> Result<String, FieldError> {
    let u = text("username", input, 64)?;
    if !u
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(FieldError::new(
            "username",
            "may contain only letters, digits and . _ - @",
        ));
    }
    Ok(u.to_lowercase())
}

/// The usernames a note mentions as `@name`, lower-cased, each once, in
/// order; a full stop or dash ending a sentence is not part of the name.
pub fn mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        // An address (wang@example.cn) is not a mention.
        let before = rest[..at].chars().next_back();
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
            .unwrap_or(after.len());
        let name = after[..len]
            .trim_end_matches(['.', '-', '_'])
            .to_lowercase();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !name.is_empty()
            && !out.contains(&name)
        {
            out.push(name);
        }
        rest = &after[len..];
    }
    out
}

pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn password(input: &str) -> Result<String, FieldError> {
    if input.chars().count() < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(input.to_string())
}

/// A tenant's short name (it names the tenant in the CLI and, later, in
/// its portal's address): lower-case letters, digits and `-`, 2 to 40.
pub fn tenant_slug(input: &str) -> Result<String, FieldError> {
    let s = text("slug", input, 40)?;
    let ok = s.len() >= 2
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    match ok {
        true => Ok(s),
        false => Err(FieldError::new(
            "slug",
            "must be 2 to 40 of a-z, 0-9 and -, not starting or ending with -",
        )),
    }
}

/// A colour as `#rrggbb`, lower-cased.
pub fn color(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim().to_ascii_lowercase();
    let hex = s.strip_prefix('#').unwrap_or("");
    match hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        true => Ok(s),
        false => Err(FieldError::new(field, "must be a colour such as #0b6e99")),
    }
}

/// An IANA time zone name such as `Asia/Shanghai`.
pub fn timezone(input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    match jiff::tz::TimeZone::get(s) {
        Ok(_) => Ok(s.to_string()),
        Err(_) => Err(FieldError::new("timezone", "is not a known time zone")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_read_from_a_note() {
        let cases = [
            ("@li.na 请回电客户", vec!["li.na"]),
            (
                "转 @Zhang.Wei 和 @li.na。谢谢 @li.na.",
                vec!["zhang.wei", "li.na"],
            ),
            ("客户邮箱 wang@example.cn", vec![]),
            ("@ 无名", vec![]),
            ("(@auto.agent2)", vec!["auto.agent2"]),
        ];
        for (text, want) in cases {
            assert_eq!(mentions(text), want, "{text}");
        }
    }

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(username(" Li.Wei ").unwrap(), "li.wei");
        assert!(username("li wei").is_err());
        assert!(username("").is_err());
        assert_eq!(password("short").unwrap_err().field, "password");
        assert!(password("long enough!").is_ok());
    }

    #[test]
    fn tenant_slugs_colours_and_zones() {
        for (input, ok) in [
            ("acme", true),
            ("acme-cars-2", true),
            ("a", false),
            ("Acme", false),
            ("-acme", false),
            ("acme_cars", false),
            ("汽车", false),
        ] {
            assert_eq!(tenant_slug(input).is_ok(), ok, "{input}");
        }
        assert_eq!(color("c", " #0B6E99 ").unwrap(), "#0b6e99");
        for bad in ["0b6e99", "#0b6e9", "#0b6e9g", "red", "#0b6e99;x"] {
            assert!(color("c", bad).is_err(), "{bad}");
        }
        assert_eq!(timezone("Asia/Shanghai").unwrap(), "Asia/Shanghai");
        assert_eq!(timezone("Mars/Olympus").unwrap_err().field, "timezone");
    }
}
