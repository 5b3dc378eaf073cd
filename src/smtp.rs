//! The SMTP side: a small pool of lettre SMTP connections built from the configuration, behind
//! the [`ReplyTransport`] trait the outbox uses (so the outbox logic can be unit-tested with a
//! stub; the integration tests use the real thing against Postfix).
//!
//! Why not lettre's own pooled `AsyncSmtpTransport`: it gives no way to set `TCP_NODELAY`, and
//! an SMTP client that writes the message and its final `.` separately then waits for the
//! answer is exactly the write–write–read pattern Nagle's algorithm and delayed ACKs turn into a
//! 40 ms stall per message (measured: 41 ms per reply on loopback, 12 s for 300 replies, against
//! 0.5 s with `TCP_NODELAY`; see BENCHMARKS.md). So the socket is ours, and lettre speaks SMTP on
//! it ([`AsyncSmtpConnection::connect_with_transport`]): EHLO, STARTTLS, AUTH, the transaction.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tracing::debug;

use crate::config::{Auth, Secret, SecretSource, Security, SmtpConfig};
use crate::domain::EmailAddress;
use crate::oauth2::{self, TokenError, TokenSource};

/// How many SMTP connections smebridge keeps open, and so how many replies are in flight at once.
pub const POOL_SIZE: usize = 4;

/// An idle connection older than this is closed rather than reused (Postfix drops idle clients
/// after `smtpd_timeout`, 300 s by default; well before that, a fresh connection is cheap).
const MAX_IDLE: Duration = Duration::from_secs(60);

/// An idle connection older than this is checked with `NOOP` before it is reused, so that a
/// connection the server has closed is replaced instead of failing a reply.
const CHECK_IDLE: Duration = Duration::from_secs(5);

/// Why a send failed, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: connection refused, 4xx, timeout before the message was sent.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The server refused for good (5xx): retrying will not help.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// No answer in time: the server may or may not have taken the message (a timeout after
    /// the data was sent). Resending blindly could answer twice; see `crate::daemon`.
    #[error("no answer in time, outcome unknown: {0}")]
    Ambiguous(String),
    /// The server refused our login (a wrong password, a refused OAuth2 token, no mechanism we
    /// can use): the configuration is wrong, not this message. Nothing was sent; every reply
    /// waits until the server accepts the login (see `crate::outbox`).
    #[error("the SMTP server refused the login: {0}")]
    LoginRefused(String),
}

/// Why a connection to the SMTP server could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect: {0}")]
    Io(#[source] io::Error),
    #[error("TLS failure: {0}")]
    Tls(#[source] io::Error),
    #[error("no answer in time")]
    Timeout,
    /// `security = "starttls"` and the server does not offer it: never a fallback to plain text.
    #[error("the server does not offer STARTTLS, and security = \"starttls\" forbids going on without TLS (if it offered it before, someone may be stripping it)")]
    NoStartTls,
    /// The server refused the OAuth2 access token, also a new one.
    #[error("the server refused the OAuth2 access token, also a new one ({0}); the token must be for this account with the provider's SMTP scope, and SMTP AUTH must be enabled for the mailbox")]
    TokenRefused(String),
    /// No token could be had (see [`TokenError`]).
    #[error("{0}")]
    Token(TokenError),
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl ConnectError {
    /// A connection that was never set up sent nothing: always safe to retry later. When the
    /// server refused our login (a wrong password, an access token refused also when new, a
    /// refresh token revoked, no mechanism in common), retrying the same login will not help,
    /// but that is no fault of the reply: [`SendError::LoginRefused`], and the reply goes out
    /// once the operator has fixed the login. A token that cannot be had now (the provider is
    /// unreachable) is a temporary failure, as an unreachable SMTP server is.
    fn into_send_error(self) -> SendError {
        match &self {
            ConnectError::Smtp(e) if is_login_refusal(e) => SendError::LoginRefused(self.to_string()),
            ConnectError::TokenRefused(_) | ConnectError::Token(TokenError::Refused(_)) => {
                SendError::LoginRefused(self.to_string())
            }
            ConnectError::Smtp(e) if e.is_permanent() => SendError::Permanent(self.to_string()),
            _ => SendError::Transient(self.to_string()),
        }
    }
}

/// Did setting up a connection fail because the server refused our login? The SMTP AUTH
/// replies of RFC 4954: 530 (authentication required), 534 (mechanism too weak), 535
/// (credentials invalid), 538 (encryption required for the mechanism); or lettre found no
/// mechanism in common with the server (a client error: the only ones it raises while
/// connecting concern AUTH, as STARTTLS is checked before). 454 (temporary authentication
/// failure) is not: it is worth trying again.
fn is_login_refusal(e: &lettre::transport::smtp::Error) -> bool {
    e.is_client() || e.status().is_some_and(|code| matches!(code.to_string().as_str(), "530" | "534" | "535" | "538"))
}

/// Hands one finished message to a mail server.
pub trait ReplyTransport {
    fn send(
        &self,
        envelope_from: Option<&EmailAddress>,
        recipient: &EmailAddress,
        bcc: Option<&EmailAddress>,
        raw: &[u8],
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// How to reach the server: what each new connection needs.
struct Dial {
    host: String,
    port: u16,
    security: Security,
    /// For implicit TLS (port 465): our own rustls connector, as for IMAP.
    tls: Option<tokio_rustls::TlsConnector>,
    /// For STARTTLS: lettre upgrades the connection itself.
    starttls: Option<TlsParameters>,
    login: Option<Login>,
    hello: ClientId,
    timeout: Duration,
}

/// How a new connection logs in.
enum Login {
    /// `AUTH PLAIN` (or `LOGIN`) with the password from the source, read per connection (as
    /// IMAP does per login): a password file fixed while the daemon runs is used at its next try.
    Password { username: String, source: SecretSource },
    /// `AUTH XOAUTH2` (or `OAUTHBEARER`) with a token from the source, fetched per connection.
    OAuth2 { username: String, source: Arc<TokenSource> },
}

/// An `AUTH` command line longer than this goes without its initial response (the response then
/// follows on a line of its own): Postfix's default `line_length_limit` is 2048, and a real
/// token (1–4 KB as a JWT) with its SASL wrapping in base64 exceeds it.
const MAX_AUTH_LINE: usize = 2000;

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// The real transport: up to [`POOL_SIZE`] reused connections, every step under a timeout.
pub struct Smtp {
    dial: Arc<Dial>,
    idle: Mutex<Vec<Idle>>,
    /// At most [`POOL_SIZE`] sends at once, so at most that many connections.
    slots: tokio::sync::Semaphore,
}

impl Smtp {
    pub fn new(config: &SmtpConfig) -> Result<Smtp> {
        let (tls, starttls) = match config.security {
            Security::Plain => (None, None),
            Security::Starttls => {
                let mut builder = TlsParameters::builder(config.host.clone());
                if let Some(path) = &config.ca_file {
                    let pem =
                        std::fs::read(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
                    let cert = Certificate::from_pem(&pem)
                        .with_context(|| format!("the CA file {} is not valid PEM", path.display()))?;
                    builder = builder.add_root_certificate(cert);
                }
                (None, Some(builder.build_rustls().context("TLS setup for SMTP failed")?))
            }
            Security::Tls => {
                let client = crate::tls::client_config(config.ca_file.as_deref())?;
                (Some(tokio_rustls::TlsConnector::from(client)), None)
            }
        };
        let login = match &config.credentials {
            Some((username, Auth::Password(source))) => {
                // A password that cannot be read is found at once, not at the first reply.
                source.reveal().context("cannot read the SMTP password")?;
                Some(Login::Password { username: username.clone(), source: source.clone() })
            }
            Some((username, Auth::OAuth2(source))) => {
                Some(Login::OAuth2 { username: username.clone(), source: source.clone() })
            }
            None => None,
        };
        let dial = Dial {
            host: config.host.clone(),
            port: config.port,
            security: config.security,
            tls,
            starttls,
            login,
            hello: ClientId::default(),
            timeout: config.timeout,
        };
        Ok(Smtp {
            dial: Arc::new(dial),
            idle: Mutex::new(Vec::with_capacity(POOL_SIZE)),
            slots: tokio::sync::Semaphore::new(POOL_SIZE),
        })
    }

    /// Connect, greet and (if configured) log in, without sending anything.
    pub async fn test_connection(&self) -> Result<(), ConnectError> {
        let mut conn = self.dial.connect().await?;
        let _ = tokio::time::timeout(self.dial.timeout, conn.quit()).await;
        Ok(())
    }

    /// A connection to send on: an idle one (checked with `NOOP` when it has idled a while),
    /// or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, ConnectError> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(Idle { mut conn, since }) = idle else { break };
            let idled = since.elapsed();
            if idled > MAX_IDLE {
                let _ = tokio::time::timeout(self.dial.timeout, conn.abort()).await;
                continue;
            }
            if idled > CHECK_IDLE
                && !tokio::time::timeout(self.dial.timeout, conn.test_connected()).await.unwrap_or(false)
            {
                debug!("an idle SMTP connection was closed by the server; opening another");
                continue;
            }
            return Ok(conn);
        }
        self.dial.connect().await
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(Idle { conn, since: Instant::now() });
        }
    }
}

impl Dial {
    /// A new connection: TCP (with `TCP_NODELAY`), implicit TLS or STARTTLS, EHLO, AUTH.
    async fn connect(&self) -> Result<AsyncSmtpConnection, ConnectError> {
        tokio::time::timeout(self.timeout * 2, self.connect_unbounded()).await.map_err(|_| ConnectError::Timeout)?
    }

    async fn connect_unbounded(&self) -> Result<AsyncSmtpConnection, ConnectError> {
        let tcp = tokio::time::timeout(self.timeout, TcpStream::connect((self.host.as_str(), self.port)))
            .await
            .map_err(|_| ConnectError::Timeout)?
            .map_err(ConnectError::Io)?;
        tcp.set_nodelay(true).map_err(ConnectError::Io)?;
        let stream: Box<dyn AsyncTokioStream> = match (&self.security, &self.tls) {
            (Security::Tls, Some(connector)) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| ConnectError::Tls(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
                Box::new(TlsStream(connector.connect(name, tcp).await.map_err(ConnectError::Tls)?))
            }
            _ => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        if let Some(parameters) = &self.starttls {
            // Never a login or a message in plain text when STARTTLS was asked for.
            if !conn.server_info().supports_feature(Extension::StartTls) {
                conn.abort().await;
                return Err(ConnectError::NoStartTls);
            }
            conn.starttls(parameters.clone(), &self.hello).await?;
        }
        match &self.login {
            Some(Login::Password { username, source }) => {
                // Unreadable now (it was readable at the start): refused for good, as an
                // unreadable secret file is for a token, until the operator fixes it.
                let password = source.reveal().map_err(|e| {
                    ConnectError::Token(TokenError::Refused(format!(
                        "{:#}",
                        e.context("cannot read the SMTP password")
                    )))
                })?;
                let credentials = Credentials::new(username.clone(), password.expose().to_owned());
                conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials).await?;
            }
            Some(Login::OAuth2 { username, source }) => self.oauth2(&mut conn, username, source).await?,
            None => {}
        }
        Ok(conn)
    }

    /// `AUTH XOAUTH2` (`OAUTHBEARER` where XOAUTH2 is not offered) with a token from `source`;
    /// when the server refuses it, once more with a new one.
    async fn oauth2(
        &self,
        conn: &mut AsyncSmtpConnection,
        username: &str,
        source: &TokenSource,
    ) -> Result<(), ConnectError> {
        let mechanism = if conn.server_info().supports_auth_mechanism(Mechanism::Xoauth2) {
            oauth2::Mechanism::XOAuth2
        } else {
            oauth2::Mechanism::OAuthBearer
        };
        let token = source.token().await.map_err(ConnectError::Token)?;
        let refused = match self.sasl(conn, mechanism, username, &token).await? {
            None => return Ok(()),
            Some(refused) => refused,
        };
        debug!(mechanism = mechanism.name(), %refused, "the SMTP server refused the access token; getting a new one");
        let token = source.renew(&token).await.map_err(ConnectError::Token)?;
        match self.sasl(conn, mechanism, username, &token).await? {
            None => Ok(()),
            Some(refused) => Err(ConnectError::TokenRefused(refused)),
        }
    }

    /// One SASL exchange: `None` when logged in, the server's refusal (`535 …`) otherwise.
    async fn sasl(
        &self,
        conn: &mut AsyncSmtpConnection,
        mechanism: oauth2::Mechanism,
        username: &str,
        token: &Secret,
    ) -> Result<Option<String>, ConnectError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let response = b64.encode(mechanism.response(username, token.expose(), &self.host, self.port));
        let name = mechanism.name();
        let answer = if name.len() + response.len() + 8 <= MAX_AUTH_LINE {
            conn.command(format!("AUTH {name} {response}\r\n")).await
        } else {
            match conn.command(format!("AUTH {name}\r\n")).await {
                Ok(ready) if ready.has_code(334) => conn.command(format!("{response}\r\n")).await,
                other => other,
            }
        };
        let answer = match answer {
            // An error challenge (Gmail, Dovecot): answer it, then read the failure.
            Ok(challenge) if challenge.has_code(334) => {
                conn.command(format!("{}\r\n", b64.encode(mechanism.answer_to_error()))).await
            }
            other => other,
        };
        match answer {
            Ok(_) => Ok(None),
            // 535 5.7.8 (Postfix, Gmail), 535 5.7.3 (Microsoft 365): the token was not accepted.
            Err(e) if e.status().is_some_and(|code| code.to_string() == "535") => Ok(Some(e.to_string())),
            Err(e) => Err(ConnectError::Smtp(e)),
        }
    }
}

impl ReplyTransport for Smtp {
    async fn send(
        &self,
        envelope_from: Option<&EmailAddress>,
        recipient: &EmailAddress,
        bcc: Option<&EmailAddress>,
        raw: &[u8],
    ) -> Result<(), SendError> {
        // A Bcc only in the envelope: the copy is delivered in the same SMTP transaction, so it
        // exists if and only if the server accepted the reply.
        let mut to = vec![recipient.to_lettre()];
        to.extend(bcc.filter(|b| *b != recipient).map(EmailAddress::to_lettre));
        let envelope = Envelope::new(envelope_from.map(EmailAddress::to_lettre), to)
            .map_err(|e| SendError::Permanent(format!("bad envelope: {e}")))?;
        let _slot = self.slots.acquire().await.map_err(|e| SendError::Transient(e.to_string()))?;
        let mut conn = self.checkout().await.map_err(ConnectError::into_send_error)?;
        // lettre's own timeout covers each socket operation, not the whole exchange: bound it.
        let limit = self.dial.timeout * 2;
        match tokio::time::timeout(limit, conn.send(&envelope, raw)).await {
            Err(_) => Err(SendError::Ambiguous(format!("no answer within {} s", limit.as_secs()))),
            Ok(Ok(_)) => {
                self.checkin(conn);
                Ok(())
            }
            Ok(Err(e)) => {
                // The transaction failed: a connection that still works could be reused after
                // RSET, but a fresh one is simpler and failures are rare.
                let _ = tokio::time::timeout(self.dial.timeout, conn.abort()).await;
                if e.status().is_some_and(|code| code.to_string() == "530") {
                    // "530 5.7.0 Authentication required": the server wants a login we do not give.
                    Err(SendError::LoginRefused(e.to_string()))
                } else if e.is_permanent() && !is_sending_quota(&e.to_string()) {
                    Err(SendError::Permanent(e.to_string()))
                } else if e.is_timeout() {
                    Err(SendError::Ambiguous(e.to_string()))
                } else {
                    Err(SendError::Transient(e.to_string()))
                }
            }
        }
    }
}

/// A provider's sending limit, answered with a 5xx although it passes: Microsoft 365 refuses
/// with `554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException` once the
/// mailbox's daily recipient limit is reached, and `550 5.4.5 Daily user sending quota exceeded`
/// (Google). The reply is retried later instead of being given up.
fn is_sending_quota(text: &str) -> bool {
    ["SubmissionQuotaExceeded", "sending quota exceeded", "sending limit exceeded"]
        .iter()
        .any(|needle| text.to_ascii_lowercase().contains(&needle.to_ascii_lowercase()))
}

/// An implicit-TLS stream lettre can speak SMTP over (it accepts any [`AsyncTokioStream`]).
struct TlsStream(tokio_rustls::client::TlsStream<TcpStream>);

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream").finish_non_exhaustive()
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_or_revoked_token_is_a_refused_login_and_an_unreachable_provider_is_temporary() {
        let refused = ConnectError::TokenRefused("535 5.7.8 Error: authentication failed".into());
        assert!(matches!(refused.into_send_error(), SendError::LoginRefused(e) if e.contains("535")));
        let revoked = ConnectError::Token(TokenError::Refused("invalid_grant".into()));
        assert!(matches!(revoked.into_send_error(), SendError::LoginRefused(_)));
        let away = ConnectError::Token(TokenError::Unavailable("connection refused".into()));
        assert!(matches!(away.into_send_error(), SendError::Transient(_)));
        assert!(matches!(ConnectError::Timeout.into_send_error(), SendError::Transient(_)));
    }

    #[test]
    fn a_providers_sending_quota_is_not_a_permanent_refusal() {
        assert!(is_sending_quota(
            "permanent error (554): 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message"
        ));
        assert!(is_sending_quota("permanent error (550): 5.4.5 Daily user sending quota exceeded."));
        assert!(!is_sending_quota("permanent error (550): 5.1.1 <x@y.example>: Recipient address rejected"));
    }
}
