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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(username(" Li.Wei ").unwrap(), "li.wei");
        assert!(username("li wei").is_err());
        assert!(username("").is_err());
        assert_eq!(password("short").unwrap_err().field, "password");
        assert!(password("long enough!").is_ok());
    }
}
