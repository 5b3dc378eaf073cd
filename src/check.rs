//! `smebridge check`: is this configuration good enough to run? Checks, in order, the file, the
//! reply templates, the database, the IMAP login (and mailbox) and the SMTP connection (and
//! login), and says in plain words what is wrong.

use std::error::Error as _;
use std::path::Path;

use anyhow::Result;

use crate::config::Config;
use crate::imap::{ConnectError, Connection};
use crate::reply::Replier;
use crate::smtp::{self, Smtp};
use crate::store::Store;

/// One line of the check's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub what: &'static str,
    pub problem: Option<String>,
}

/// Run every check that can run; a check that depends on a failed one is skipped.
pub async fn check(path: &Path) -> Vec<Line> {
    let mut lines = Vec::new();
    let config = match Config::load(path) {
        Ok(config) => {
            lines.push(ok("configuration"));
            config
        }
        Err(e) => {
            lines.push(failed("configuration", format!("{e:#}")));
            return lines;
        }
    };
    lines.push(outcome("reply templates", Replier::new(&config).map(drop)));
    lines.push(outcome("database", Store::probe(&config.database.path)));

    let imap = match Connection::open(&config.imap).await {
        Ok((conn, selected)) => {
            conn.logout().await;
            tracing::debug!(exists = selected.exists, "mailbox opened");
            Ok(())
        }
        Err(e) => Err(explain_imap(&e)),
    };
    lines.push(Line { what: "IMAP login and mailbox", problem: imap.err() });

    let smtp = match Smtp::new(&config.smtp) {
        Ok(smtp) => smtp.test_connection().await.map_err(|e| explain_smtp(&e, &config)),
        Err(e) => Err(format!("{e:#}")),
    };
    lines.push(Line { what: "SMTP connection", problem: smtp.err() });
    lines
}

fn ok(what: &'static str) -> Line {
    Line { what, problem: None }
}

fn failed(what: &'static str, problem: String) -> Line {
    Line { what, problem: Some(problem) }
}

fn outcome(what: &'static str, result: Result<()>) -> Line {
    Line { what, problem: result.err().map(|e| format!("{e:#}")) }
}

fn explain_imap(e: &anyhow::Error) -> String {
    match e.downcast_ref::<ConnectError>() {
        Some(ConnectError::Unreachable { host, port, source }) => {
            format!("unreachable host: cannot connect to {host}:{port} ({})", io_words(source))
        }
        Some(known) => known.to_string(),
        None => format!("{e:#}"),
    }
}

fn explain_smtp(e: &smtp::ConnectError, config: &Config) -> String {
    let at = format!("{}:{}", config.smtp.host, config.smtp.port);
    let e = match e {
        smtp::ConnectError::Timeout => return format!("no answer from {at}"),
        smtp::ConnectError::Tls(io) => return format!("TLS failure with {at}: {}", chain(io)),
        smtp::ConnectError::Io(io) => return format!("unreachable host: cannot connect to {at} ({})", io_words(io)),
        smtp::ConnectError::Smtp(e) => e,
    };
    if e.is_tls() {
        return format!("TLS failure with {at}: {}", chain(e));
    }
    if e.is_timeout() {
        return format!("no answer from {at}");
    }
    if e.status().is_some_and(|code| code.to_string().starts_with("535")) {
        return format!("the SMTP server refused the login: wrong username or password ({e})");
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            // rustls reports a failed handshake as an I/O error wrapping its own.
            if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                return format!("TLS failure with {at}: {io}");
            }
            return format!("unreachable host: cannot connect to {at} ({})", io_words(io));
        }
        source = s.source();
    }
    format!("{at}: {}", chain(e))
}

fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused: nothing listens on that port".into(),
        std::io::ErrorKind::TimedOut => "timed out".into(),
        _ if e.to_string().contains("lookup") => format!("unknown host name: {e}"),
        _ => e.to_string(),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
