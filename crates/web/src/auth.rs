//! Passwords, tokens, and the extractor that tells who is calling.

use crate::AppState;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::model::{Actor, Tenant, User};
use domain::role::Permission;
use jiff::Timestamp;

pub const SESSION_COOKIE: &str = "cc_session";
pub const SESSION_HOURS: i64 = 12;

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("password hashing: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Argon2 is deliberately slow: keep it off the async workers.
pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS random source failing is not recoverable for a server that issues secrets.
    getrandom::fill(&mut buf).expect("operating system random source");
    hex(&buf)
}

/// A password a person can type from a printout: no look-alike characters.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).expect("operating system random source");
    buf.iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

pub use domain::user::token_hash;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The anti-forgery value a form of this session must echo back.
pub fn csrf_for(session_token: &str) -> String {
    token_hash(&format!("csrf:{session_token}"))[..32].to_string()
}

/// The authenticated caller: a session cookie (the UI) or a bearer token (integrations).
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    pub tenant: Tenant,
    pub token_id: domain::ids::TokenId,
    /// Set when authenticated by cookie: forms must carry it.
    pub csrf: Option<String>,
}

impl Auth {
    pub fn need(&self, p: Permission) -> Result<(), ApiError> {
        if self.user.role.allows(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            tenant_id: self.tenant.id,
            user_id: Some(self.user.id),
            channel: None,
        }
    }
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let (token, via_cookie) = match bearer {
            Some(t) => (t, false),
            None => (
                cookie(parts, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?,
                true,
            ),
        };
        let found = state
            .store
            .authenticate(&token_hash(token), Timestamp::now())
            .await?;
        let a = found.ok_or(ApiError::Unauthorized)?;
        Ok(Auth {
            user: a.user,
            tenant: a.tenant,
            token_id: a.token_id,
            csrf: via_cookie.then(|| csrf_for(token)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn generated_secrets_differ() {
        assert_ne!(random_hex(32), random_hex(32));
        let p = random_password();
        assert_eq!(p.len(), 16);
        assert!(!p.contains(['0', 'O', 'l', '1', 'I']));
    }
}
