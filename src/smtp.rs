//! The SMTP side: a lettre transport built from the configuration, behind the small
//! [`ReplyTransport`] trait the outbox uses (so the outbox logic can be unit-tested with a stub;
//! the integration tests use the real thing against Postfix).

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{Security, SmtpConfig};
use crate::domain::EmailAddress;

/// Why a send failed, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: connection refused, 4xx, timeout.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The server refused for good (5xx): retrying will not help.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// No answer in time: the server may or may not have taken the message (a timeout after
    /// the data was sent). Resending blindly could answer twice; see `crate::daemon`.
    #[error("no answer in time, outcome unknown: {0}")]
    Ambiguous(String),
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

/// The real transport: lettre over tokio, TLS by rustls, every send under a timeout.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    timeout: Duration,
}

impl Smtp {
    pub fn new(config: &SmtpConfig) -> Result<Smtp> {
        let tls_parameters = || -> Result<TlsParameters> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
                let cert = Certificate::from_pem(&pem).with_context(|| format!("the CA file {} is not valid PEM", path.display()))?;
                builder = builder.add_root_certificate(cert);
            }
            builder.build_rustls().context("TLS setup for SMTP failed")
        };
        let tls = match config.security {
            Security::Plain => Tls::None,
            Security::Starttls => Tls::Required(tls_parameters()?),
            Security::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(4).idle_timeout(Duration::from_secs(30)));
        if let Some((username, secret)) = &config.credentials {
            let password = secret.reveal().context("cannot read the SMTP password")?;
            builder = builder.credentials(Credentials::new(username.clone(), password.expose().to_owned()));
        }
        Ok(Smtp { transport: builder.build(), timeout: config.timeout })
    }

    /// Connect, greet and (if configured) log in, without sending anything.
    pub async fn test_connection(&self) -> Result<(), lettre::transport::smtp::Error> {
        self.transport.test_connection().await.map(|_| ())
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
        // lettre's own timeout covers each socket operation, not the whole exchange: bound it.
        let limit = self.timeout * 2;
        match tokio::time::timeout(limit, self.transport.send_raw(&envelope, raw)).await {
            Err(_) => Err(SendError::Ambiguous(format!("no answer within {} s", limit.as_secs()))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Ok(Err(e)) if e.is_timeout() => Err(SendError::Ambiguous(e.to_string())),
            Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
        }
    }
}
