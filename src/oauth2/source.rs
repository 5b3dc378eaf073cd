//! [`TokenSource`]: where a connection gets its access token — a refresh at the provider's
//! token endpoint or a command — with the token cached in memory in between.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use tracing::{info, warn};

use super::cache::Cache;
use super::settings::Settings;
use super::token::{self, Grant};
use super::{command, files, TokenError};
use crate::config::Secret;

/// How long a token from a command is reused before the command runs again. Such tools cache
/// and refresh tokens themselves; this only spares a run per SMTP connection.
const COMMAND_TOKEN_REUSE: Duration = Duration::from_secs(60);

/// Hands out access tokens; shared (in an `Arc`) by every connection that logs in with it.
pub struct TokenSource {
    kind: Kind,
    /// Bound on one refresh or one run of the command.
    timeout: Duration,
    cache: Cache,
    /// A rotated refresh token that could not be saved: used while the file still holds the one
    /// it replaced.
    unsaved: Mutex<Option<Unsaved>>,
}

enum Kind {
    Refresh(Box<Settings>),
    Command(Vec<String>),
}

struct Unsaved {
    in_file: Secret,
    newest: Secret,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Refresh(s) => f
                .debug_struct("TokenSource::Refresh")
                .field("provider", &s.provider.as_str())
                .field("client_id", &s.client_id)
                .field("refresh_token_file", &s.refresh_token)
                .field("token_url", &s.token_url.as_str())
                .finish_non_exhaustive(),
            Kind::Command(argv) => f.debug_tuple("TokenSource::Command").field(argv).finish(),
        }
    }
}

impl TokenSource {
    /// Tokens refreshed at the provider with the refresh token in `settings.refresh_token`.
    pub fn refreshing(settings: Settings, timeout: Duration) -> TokenSource {
        TokenSource {
            kind: Kind::Refresh(Box::new(settings)),
            timeout,
            cache: Cache::default(),
            unsaved: Mutex::new(None),
        }
    }

    /// Tokens printed by a command.
    pub fn command(argv: Vec<String>, timeout: Duration) -> TokenSource {
        TokenSource { kind: Kind::Command(argv), timeout, cache: Cache::default(), unsaved: Mutex::new(None) }
    }

    /// The provider settings, for a refreshing source.
    pub fn settings(&self) -> Option<&Settings> {
        match &self.kind {
            Kind::Refresh(settings) => Some(settings),
            Kind::Command(_) => None,
        }
    }

    /// Do both refresh with the same refresh token file?
    pub fn shares_refresh_token_with(&self, other: &TokenSource) -> bool {
        matches!((self.settings(), other.settings()), (Some(a), Some(b)) if a.refresh_token == b.refresh_token)
    }

    /// A token to log in with: the cached one while it is fresh, else a new one.
    pub async fn token(&self) -> Result<Secret, TokenError> {
        self.cache.get(|| self.fetch()).await
    }

    /// The server refused `rejected` (revoked, or expired sooner than it said): a new token,
    /// unless another connection already got one.
    pub async fn renew(&self, rejected: &Secret) -> Result<Secret, TokenError> {
        self.cache.renew(rejected, || self.fetch()).await
    }

    /// Where the tokens come from, for messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Refresh(s) => format!("OAuth2 ({}, refresh token in {})", s.provider.as_str(), s.refresh_token),
            Kind::Command(argv) => format!("OAuth2 (token from the command {:?})", argv[0]),
        }
    }

    async fn fetch(&self) -> Result<(Secret, Option<Duration>), TokenError> {
        match &self.kind {
            Kind::Command(argv) => Ok((command::run(argv, self.timeout).await?, Some(COMMAND_TOKEN_REUSE * 5 / 4))),
            Kind::Refresh(settings) => self.refresh(settings).await,
        }
    }

    async fn refresh(&self, settings: &Settings) -> Result<(Secret, Option<Duration>), TokenError> {
        let refused = |e: anyhow::Error| TokenError::Refused(format!("{e:#}"));
        let in_file = settings.refresh_token.first_line("the OAuth2 refresh token").map_err(refused)?;
        let current = match &*self.unsaved.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(u) if u.in_file == in_file => u.newest.clone(),
            _ => in_file.clone(),
        };
        let secret = match &settings.client_secret {
            Some(file) => Some(file.first_line("the OAuth2 client secret").map_err(refused)?),
            None => None,
        };
        let granted = token::request(settings, secret.as_ref(), Grant::Refresh(&current), self.timeout)
            .await
            .map_err(|f| f.into_refresh_error(settings))?;
        if let Some(rotated) = granted.refresh_token.filter(|new| *new != current) {
            let saved = settings.refresh_token.path().and_then(|path| files::write_private(&path, rotated.expose()));
            let mut unsaved = self.unsaved.lock().unwrap_or_else(|e| e.into_inner());
            match saved {
                Ok(()) => {
                    info!(file = %settings.refresh_token, "the OAuth2 provider rotated the refresh token; the new one is saved");
                    *unsaved = None;
                }
                Err(e) => {
                    warn!(
                        error = format!("{e:#}"),
                        "the OAuth2 provider rotated the refresh token but it cannot be saved; it is kept in memory until \
                         smebridge stops (put refresh_token_file in a writable place, e.g. /var/lib/smebridge)"
                    );
                    *unsaved = Some(Unsaved { in_file, newest: rotated });
                }
            }
        }
        info!(
            provider = settings.provider.as_str(),
            expires_in_s = granted.expires_in.map(|d| d.as_secs()),
            "OAuth2 access token refreshed"
        );
        Ok((granted.access_token, granted.expires_in))
    }
}
