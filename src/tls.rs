//! The TLS client configuration shared by the IMAP connection: the public web PKI roots
//! (webpki-roots) plus, optionally, a private CA from a PEM file.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// A rustls client configuration trusting the public roots and the certificates in `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_pem_certificates(path)? {
            roots.add(cert).with_context(|| format!("a certificate in {} is not usable as a CA", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup failed")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file.
pub fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("the CA file {} is not valid PEM", path.display()))?;
    if certs.is_empty() {
        bail!("the CA file {} holds no certificate", path.display());
    }
    Ok(certs)
}

/// What went wrong in a TLS handshake with `host`, in words an operator can act on: a
/// certificate for another host, an expired one, an unknown authority. `None` when `error`
/// (or what it wraps) is not a rustls error.
pub fn explain(error: &(dyn std::error::Error + 'static), host: &str) -> Option<String> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(explain_rustls(tls, host));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return Some(explain_rustls(tls, host));
                }
            }
        }
        current = e.source();
    }
    None
}

/// [`explain`] for the I/O error tokio-rustls reports, or its own text.
pub fn explain_io(error: &std::io::Error, host: &str) -> String {
    explain(error, host).unwrap_or_else(|| error.to_string())
}

fn explain_rustls(error: &rustls::Error, host: &str) -> String {
    use rustls::CertificateError as C;
    let day = |t: &rustls::pki_types::UnixTime| {
        jiff::Timestamp::from_second(i64::try_from(t.as_secs()).unwrap_or(i64::MAX))
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|_| "?".into())
    };
    let rustls::Error::InvalidCertificate(cert) = error else {
        return format!("TLS error: {error}");
    };
    match cert {
        C::NotValidForNameContext { presented, .. } => format!(
            "wrong host name: the server's certificate is not valid for {host} (it names {}); \
             connect with a name the certificate lists",
            if presented.is_empty() { "no host at all".to_owned() } else { presented.join(", ") }
        ),
        C::NotValidForName => format!("wrong host name: the server's certificate is not valid for {host}"),
        C::ExpiredContext { time, not_after } => format!(
            "expired certificate: the server's certificate for {host} expired on {} (it is now {})",
            day(not_after),
            day(time)
        ),
        C::Expired => format!("expired certificate: the server's certificate for {host} has expired"),
        C::NotValidYetContext { time, not_before } => format!(
            "certificate not valid yet: the server's certificate for {host} is valid from {} but it is now {}: check this machine's clock",
            day(not_before),
            day(time)
        ),
        C::NotValidYet => format!("certificate not valid yet: check this machine's clock ({host})"),
        C::UnknownIssuer => format!(
            "unknown issuer: the server's certificate for {host} is signed by an authority this machine does not trust; \
             if the server uses a private CA, give its certificate as ca_file"
        ),
        other => format!("invalid certificate from {host}: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_failures_are_named() {
        let io = |c: rustls::CertificateError| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::InvalidCertificate(c))
        };
        let name = io(rustls::CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap().to_owned(),
            presented: vec!["DnsName(\"wrong.example\")".into()],
        });
        let text = explain_io(&name, "127.0.0.1");
        assert!(text.starts_with("wrong host name") && text.contains("wrong.example"), "{text}");
        let expired = io(rustls::CertificateError::ExpiredContext {
            time: rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
            not_after: rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_577_923_200)),
        });
        let text = explain_io(&expired, "localhost");
        assert!(text.starts_with("expired certificate") && text.contains("2020-01-02"), "{text}");
        assert!(explain_io(&io(rustls::CertificateError::UnknownIssuer), "h").contains("ca_file"));
        assert_eq!(explain_io(&std::io::Error::other("reset"), "h"), "reset");
    }
}
