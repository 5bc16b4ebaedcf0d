//! Contact identifiers as customers write them, parsed into one canonical form
//! so "138-0013-8000", "+86 138 0013 8000" and "8613800138000" find the same person.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A phone number in E.164 form (`+8613800138000`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

/// The country a number without `+` is read in. Only the calling code matters
/// for other countries; for China (86) the national number plan is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub calling_code: u16,
}

impl Region {
    pub const CN: Region = Region { calling_code: 86 };

    /// ISO 3166 alpha-2 code to region; only the regions whose plans we know.
    pub fn from_iso(code: &str) -> Option<Region> {
        let calling_code = match code.to_ascii_uppercase().as_str() {
            "CN" => 86,
            "HK" => 852,
            "MO" => 853,
            "TW" => 886,
            "SG" => 65,
            "US" | "CA" => 1,
            "GB" => 44,
            "DE" => 49,
            "FR" => 33,
            "JP" => 81,
            "KR" => 82,
            _ => return None,
        };
        Some(Region { calling_code })
    }
}

impl PhoneNumber {
    pub fn parse(input: &str, region: Region) -> Result<Self, FieldError> {
        let err = |reason: &str| FieldError::new("phone", reason);
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(err("is empty"));
        }
        let mut digits = String::with_capacity(trimmed.len());
        let mut international = false;
        for c in trimmed.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
                '+' | '＋' if digits.is_empty() && !international => international = true,
                ' ' | '-' | '.' | '(' | ')' | '/' | '\u{3000}' | '－' | '（' | '）' => {}
                _ => {
                    return Err(err(
                        "may contain only digits, spaces, dashes, dots and brackets",
                    ));
                }
            }
        }
        if !international && digits.starts_with("00") {
            digits.drain(..2);
            international = true;
        }
        let full = if international {
            digits
        } else if region.calling_code == 86 {
            national_cn(&digits).ok_or_else(|| {
                err("is not a Chinese mobile (11 digits), landline with area code, or 400/800 number")
            })?
        } else {
            let national = digits.strip_prefix('0').unwrap_or(&digits);
            format!("{}{}", region.calling_code, national)
        };
        if international && full.starts_with("86") && !cn_significant(&full[2..]) {
            return Err(err("is not a valid Chinese number after +86"));
        }
        if !(8..=15).contains(&full.len()) || full.starts_with('0') {
            return Err(err("must have 8 to 15 digits with its country code"));
        }
        Ok(PhoneNumber(format!("+{full}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Trusted constructor for values read back from the store.
    pub fn from_stored(e164: String) -> Self {
        PhoneNumber(e164)
    }
}

/// Chinese national number (as dialled inside China) to `86…` digits, or None when it fits no plan.
fn national_cn(digits: &str) -> Option<String> {
    let d = digits
        .strip_prefix("86")
        .filter(|rest| is_cn_mobile(rest))
        .unwrap_or(digits);
    let significant = match d.strip_prefix('0') {
        Some(landline) => landline,
        None if is_cn_mobile(d) || is_cn_freephone(d) => d,
        None => return None,
    };
    cn_significant(significant).then(|| format!("86{significant}"))
}

/// A Chinese number after the country code: mobile, 400/800, or area code plus local number.
fn cn_significant(nsn: &str) -> bool {
    if is_cn_mobile(nsn) || is_cn_freephone(nsn) {
        return true;
    }
    let area_ok = nsn.starts_with("10") || matches!(nsn.as_bytes().first(), Some(b'2'..=b'9'));
    area_ok && (9..=11).contains(&nsn.len())
}

fn is_cn_mobile(d: &str) -> bool {
    d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9')
}

fn is_cn_freephone(d: &str) -> bool {
    d.len() == 10 && (d.starts_with("400") || d.starts_with("800"))
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, lower-cased for matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let err = |reason: &str| FieldError::new("email", reason);
        let s = input.trim();
        if s.is_empty() {
            return Err(err("is empty"));
        }
        if s.len() > 254 {
            return Err(err("is longer than 254 characters"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| err("has no @"))?;
        if local.is_empty() || local.contains('@') {
            return Err(err("needs exactly one @ with a name before it"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(err("needs a domain such as example.com after the @"));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        {
            return Err(err(
                "contains spaces or characters not allowed in an address",
            ));
        }
        Ok(EmailAddress(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(s: String) -> Self {
        EmailAddress(s)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A vehicle identification number: 17 characters, letters I, O and Q never used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Vin(String);

impl Vin {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s: String = input.trim().to_ascii_uppercase();
        if s.chars().count() != 17 {
            return Err(FieldError::new("vin", "must be 17 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !"IOQ".contains(c))
        {
            return Err(FieldError::new(
                "vin",
                "may contain only digits and letters other than I, O and Q",
            ));
        }
        Ok(Vin(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether free text a user typed looks like a VIN (used to pick the lookup).
    pub fn looks_like(input: &str) -> bool {
        Vin::parse(input).is_ok() && input.trim().chars().any(|c| c.is_ascii_alphabetic())
    }
}

/// A short trimmed text with a length limit, for names, subjects and codes.
pub fn text(field: &str, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if s.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("is longer than {max_chars} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(s.to_string())
}

/// Like [`text`] but empty input means "not given".
pub fn optional_text(
    field: &str,
    input: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => text(field, s, max_chars).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_writings_normalise_to_e164() {
        let cases = [
            ("138-0013-8000", "+8613800138000"),
            ("+86 138 0013 8000", "+8613800138000"),
            ("8613800138000", "+8613800138000"),
            ("0086 13800138000", "+8613800138000"),
            ("(+86) 138 0013 8000", "+8613800138000"),
            ("１３８００１３８０００", "+8613800138000"),
            ("021-6234 5678", "+862162345678"),
            ("(021) 62345678", "+862162345678"),
            ("010-8888 6666", "+861088886666"),
            ("0755-8321 0000", "+8675583210000"),
            ("0871-6512345", "+868716512345"),
            ("+86 21 6234 5678", "+862162345678"),
            ("400-820-8820", "+864008208820"),
            ("+1 (415) 555-0100", "+14155550100"),
            ("+49 30 1234567", "+49301234567"),
            ("00852 2345 6789", "+85223456789"),
        ];
        for (input, want) in cases {
            let got = PhoneNumber::parse(input, Region::CN);
            assert_eq!(
                got.as_ref().map(|p| p.as_str()),
                Ok(want),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn bad_phones_are_rejected_with_reason() {
        for input in [
            "",
            "12345",
            "6234 5678",
            "138-0013-800",
            "phone 138",
            "+86 12345",
            "+0123456789",
            "23800138000",
        ] {
            let err = PhoneNumber::parse(input, Region::CN).expect_err(input);
            assert_eq!(err.field, "phone");
            assert!(!err.reason.is_empty());
        }
    }

    #[test]
    fn other_default_region_uses_its_calling_code() {
        let de = Region::from_iso("de").unwrap();
        assert_eq!(
            PhoneNumber::parse("030 1234567", de).unwrap().as_str(),
            "+49301234567"
        );
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            EmailAddress::parse(" Li.Wei@Example.COM ")
                .unwrap()
                .as_str(),
            "li.wei@example.com"
        );
        for bad in [
            "",
            "li.wei",
            "@example.com",
            "li@localhost",
            "li wei@example.com",
            "a@b@c.com",
            "li@.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vins_are_uppercased_and_checked() {
        assert_eq!(
            Vin::parse("lsvaa4182e2123456").unwrap().as_str(),
            "LSVAA4182E2123456"
        );
        assert!(Vin::parse("LSVAA4182E212345").is_err());
        assert!(Vin::parse("LSVAA4182E212345O").is_err());
        assert!(Vin::looks_like("LSVAA4182E2123456"));
        assert!(!Vin::looks_like("12345678901234567"));
    }

    #[test]
    fn text_limits() {
        assert_eq!(text("name", "  王伟 ", 10).unwrap(), "王伟");
        assert_eq!(text("name", "", 10).unwrap_err().reason, "is required");
        assert!(text("name", "王伟王伟王伟", 5).is_err());
        assert_eq!(optional_text("x", Some("  "), 5).unwrap(), None);
    }
}
