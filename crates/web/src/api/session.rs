use crate::AppState;
use crate::auth::{self, Auth, SESSION_COOKIE, SESSION_HOURS};
use crate::error::ApiError;
use crate::extract::{Id, Json};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::ids::TokenId;
use domain::model::User;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

/// Checks a username and password; on success a new session token.
pub async fn start_session(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<(User, String), ApiError> {
    let candidate = state.store.login_candidate(username.trim()).await?;
    let password = password.to_string();
    let (user, ok) = match candidate {
        Some((user, hash)) => {
            let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
                .await
                .unwrap_or(false);
            (Some(user), ok)
        }
        None => {
            // Spend the same time on unknown names so they cannot be told apart.
            let _ =
                tokio::task::spawn_blocking(move || auth::verify_password(&password, dummy_hash()))
                    .await;
            (None, false)
        }
    };
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => return Err(ApiError::Unauthorized),
    };
    let token = auth::random_hex(32);
    let now = Timestamp::now();
    let expires = now
        .checked_add(SignedDuration::from_hours(SESSION_HOURS))
        .ok();
    state
        .store
        .create_token(
            &user,
            &auth::token_hash(&token),
            "session",
            "browser",
            expires,
            now,
        )
        .await?;
    Ok((user, token))
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password("not a real password").unwrap_or_default())
}

pub fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> String {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    )
}

pub async fn login(
    State(state): State<AppState>,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let (user, token) = start_session(&state, &body.username, &body.password).await?;
    let cookie = session_cookie(&state, &token, SESSION_HOURS * 3600);
    Ok((
        [(header::SET_COOKIE, cookie)],
        axum::Json(json!({ "user": user, "token": token })),
    )
        .into_response())
}

pub async fn logout(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    state.store.delete_token(&auth.user, auth.token_id).await?;
    Ok((
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

pub async fn me(auth: Auth) -> impl IntoResponse {
    axum::Json(json!({ "user": auth.user, "tenant": auth.tenant }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    name: String,
    /// Days until the token stops working; none means until revoked.
    expires_in_days: Option<i64>,
}

pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<TokenBody>,
) -> Result<Response, ApiError> {
    let name = domain::contact::text("name", &body.name, 100)?;
    let now = Timestamp::now();
    let expires = match body.expires_in_days {
        Some(d) if !(1..=3650).contains(&d) => {
            return Err(ApiError::field(
                "expires_in_days",
                "must be between 1 and 3650",
            ));
        }
        Some(d) => now.checked_add(SignedDuration::from_hours(24 * d)).ok(),
        None => None,
    };
    let token = auth::random_hex(32);
    let id = state
        .store
        .create_token(
            &auth.user,
            &auth::token_hash(&token),
            "api",
            &name,
            expires,
            now,
        )
        .await?;
    // The token itself is shown once; only its hash is kept.
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": id, "name": name, "token": token, "expires_at": expires })),
    )
        .into_response())
}

pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        json!({ "items": state.store.tokens(&auth.user).await? }),
    ))
}

pub async fn delete_token(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    state.store.delete_token(&auth.user, TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
