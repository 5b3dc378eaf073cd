//! The token endpoint (RFC 6749 §5): one form post, a JSON answer. Used by the refresh of
//! access tokens and by `smebridge oauth2 authorize` (authorization code, device code).

use std::time::Duration;

use serde::Deserialize;

use super::http::{self, HttpError};
use super::settings::Settings;
use super::TokenError;
use crate::config::Secret;

/// What the endpoint granted.
#[derive(Debug)]
pub struct Granted {
    pub access_token: Secret,
    /// `expires_in`, when the endpoint said.
    pub expires_in: Option<Duration>,
    /// A new refresh token: the first one, or a rotated one.
    pub refresh_token: Option<Secret>,
}

/// The grant asked for.
pub enum Grant<'a> {
    Refresh(&'a Secret),
    /// The browser flow's code, with the PKCE verifier and the redirect URI it was sent to.
    Code {
        code: &'a str,
        verifier: &'a str,
        redirect_uri: &'a str,
    },
    Device(&'a str),
}

/// An endpoint's refusal (`{"error": "invalid_grant", …}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub error: String,
    /// The first line of `error_description`, shortened.
    pub description: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.description {
            Some(d) => write!(f, "{}: {d}", self.error),
            None => f.write_str(&self.error),
        }
    }
}

/// How an exchange failed.
#[derive(Debug)]
pub enum Failure {
    /// The endpoint answered with an OAuth error (400/401).
    Refused(Refusal),
    /// It could not be asked, or answered something else (5xx, not JSON…).
    Unavailable(String),
}

#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Ask the token endpoint for `grant`.
pub async fn request(
    settings: &Settings,
    client_secret: Option<&Secret>,
    grant: Grant<'_>,
    timeout: Duration,
) -> Result<Granted, Failure> {
    let mut form: Vec<(&str, &str)> = vec![("client_id", &settings.client_id)];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret.expose()));
    }
    match &grant {
        Grant::Refresh(token) => {
            form.push(("grant_type", "refresh_token"));
            form.push(("refresh_token", token.expose()));
        }
        Grant::Code { code, verifier, redirect_uri } => {
            form.push(("grant_type", "authorization_code"));
            form.push(("code", code));
            form.push(("code_verifier", verifier));
            form.push(("redirect_uri", redirect_uri));
        }
        Grant::Device(code) => {
            form.push(("grant_type", "urn:ietf:params:oauth:grant-type:device_code"));
            form.push(("device_code", code));
        }
    }
    let response = http::post_form(&settings.token_url, &form, timeout).await.map_err(unavailable)?;
    granted(response.status, &response.body)
}

pub fn unavailable(e: HttpError) -> Failure {
    Failure::Unavailable(e.to_string())
}

/// Read the endpoint's answer.
pub fn granted(status: u16, body: &[u8]) -> Result<Granted, Failure> {
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    if let Some(Answer { error: Some(error), error_description, .. }) = &answer {
        if (400..500).contains(&status) {
            return Err(Failure::Refused(Refusal {
                error: short(error),
                description: error_description.as_deref().map(short),
            }));
        }
    }
    match answer {
        Some(Answer { access_token: Some(token), expires_in, refresh_token, .. }) if status == 200 => {
            if token.is_empty() {
                return Err(Failure::Unavailable("the token endpoint granted an empty access token".into()));
            }
            // A number, or (some providers) a number in a string.
            let seconds = match expires_in {
                Some(serde_json::Value::Number(n)) => n.as_u64(),
                Some(serde_json::Value::String(s)) => s.parse().ok(),
                _ => None,
            };
            Ok(Granted {
                access_token: Secret::new(token),
                expires_in: seconds.map(Duration::from_secs),
                refresh_token: refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
            })
        }
        _ => Err(Failure::Unavailable(format!(
            "the token endpoint answered HTTP {status} without a token{}",
            if answer.is_none() { " (not JSON)" } else { "" }
        ))),
    }
}

/// One line, at most 200 characters: providers put trace ids and timestamps on later lines.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        out.push('…');
    }
    out
}

impl Failure {
    /// As the error of a token refresh.
    pub fn into_refresh_error(self, settings: &Settings) -> TokenError {
        match self {
            Failure::Refused(refusal) => {
                let file = &settings.refresh_token;
                let what = match refusal.error.as_str() {
                    "invalid_grant" => format!(
                        "the OAuth2 provider refused the refresh token in {file} ({refusal}): it was revoked or has expired; \
                         run `smebridge oauth2 authorize` to get a new one"
                    ),
                    "invalid_client" | "unauthorized_client" => format!(
                        "the OAuth2 provider refused the client ({refusal}): check client_id and client_secret_file"
                    ),
                    _ => format!("the OAuth2 provider refused to refresh the token in {file} ({refusal})"),
                };
                TokenError::Refused(what)
            }
            Failure::Unavailable(detail) => {
                TokenError::Unavailable(format!("cannot refresh the OAuth2 access token: {detail}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_refusals_and_other_answers_are_told_apart() {
        let ok =
            granted(200, br#"{"access_token":"at-1","token_type":"Bearer","expires_in":3599,"refresh_token":"rt-2"}"#)
                .unwrap();
        assert_eq!(ok.access_token.expose(), "at-1");
        assert_eq!(ok.expires_in, Some(Duration::from_secs(3599)));
        assert_eq!(ok.refresh_token.unwrap().expose(), "rt-2");
        let ok = granted(200, br#"{"access_token":"at-1","expires_in":"60"}"#).unwrap();
        assert_eq!((ok.expires_in, ok.refresh_token.is_none()), (Some(Duration::from_secs(60)), true));

        let ms = br#"{"error":"invalid_grant","error_description":"AADSTS70008: The provided authorization code or refresh token has expired.\r\nTrace ID: 0f\r\nTimestamp: 2026"}"#;
        match granted(400, ms) {
            Err(Failure::Refused(r)) => {
                assert_eq!(r.error, "invalid_grant");
                assert_eq!(
                    r.description.as_deref(),
                    Some("AADSTS70008: The provided authorization code or refresh token has expired.")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(granted(503, b"<html>busy</html>"), Err(Failure::Unavailable(_))));
        assert!(matches!(granted(500, br#"{"error":"server_error"}"#), Err(Failure::Unavailable(_))));
        assert!(matches!(granted(200, br#"{"token_type":"Bearer"}"#), Err(Failure::Unavailable(_))));
    }
}
