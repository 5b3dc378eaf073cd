//! OAuth 2.0 for the mailbox and the outgoing server: Microsoft 365 takes no passwords over
//! IMAP, and Google Workspace is closing them.
//!
//! A connection asks a [`TokenSource`] for an access token and logs in with SASL `XOAUTH2` or
//! `OAUTHBEARER` ([`Mechanism`]); when the server refuses the token, it asks once for a new one
//! ([`TokenSource::renew`]) and tries again. A source either refreshes tokens at the provider
//! with a refresh token kept in a file (rotated ones are written back atomically, mode 0600),
//! or runs a command that prints one (`token_command`). The first refresh token comes from
//! `smebridge oauth2 authorize` ([`authorize`]).
//!
//! No token, refresh token or client secret is ever logged or put in an error message: errors
//! name the file a secret lives in, never its contents.
//!
//! - `settings.rs`: providers, endpoints, scopes
//! - `source.rs`: [`TokenSource`]; `cache.rs`: the token in memory and when to refresh it
//! - `token.rs`: the token endpoint; `http.rs`: the small HTTPS client it is spoken to with
//! - `command.rs`: `token_command`; `files.rs`: atomic 0600 writes
//! - `sasl.rs`: the SASL responses; `authorize.rs`: getting the first refresh token

mod authorize;
mod cache;
mod command;
mod files;
mod http;
mod sasl;
mod settings;
mod source;
mod token;

use std::time::Duration;

pub use authorize::{authorize, Flow};
pub use sasl::Mechanism;
pub use settings::{Provider, RawSettings, Settings};
pub use source::TokenSource;

/// Why no token could be had; callers branch on it (a refusal needs a person, the rest may
/// pass).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Refused for good: a revoked refresh token, a wrong client, an unreadable secret file, a
    /// command that prints no token. Retrying will not help; an operator must act.
    #[error("{0}")]
    Refused(String),
    /// Could not be had now: the provider is unreachable or failing, the command failed or
    /// hung.
    #[error("{0}")]
    Unavailable(String),
}

/// `30 s`, `500 ms`.
fn shown(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
