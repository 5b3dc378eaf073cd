//! `smebridge check`: is this configuration good enough to run? Checks, in order, the file, the
//! reply templates, the database, the IMAP login (and mailbox) and the SMTP connection (and
//! login), and says in plain words what is wrong. It changes nothing: the database is only
//! looked at (opened read-only when it exists), never created, and neither is its directory.

use std::error::Error as _;
use std::io::ErrorKind;
use std::path::Path;

use crate::config::Config;
use crate::imap::{ConnectError, Connection};
use crate::reply::Replier;
use crate::smtp::{self, Smtp};
use crate::store::{open_to_others, SCHEMA_VERSION};

/// One line of the check's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub what: &'static str,
    pub problem: Option<String>,
    /// Works, but should be fixed (printed, does not fail the check).
    pub warning: Option<String>,
    /// What was found, printed after `ok` (e.g. where the reply templates come from).
    pub note: Option<String>,
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
    lines.push(match Replier::new(&config) {
        Ok(replier) => {
            let origins = replier.template_origins();
            Line { warning: origins.warning(), note: Some(origins.describe()), ..ok("reply templates") }
        }
        Err(e) => failed("reply templates", format!("{e:#}")),
    });
    lines.push(database(&config.database.path));

    let imap = match Connection::open(&config.imap).await {
        Ok((conn, selected)) => {
            conn.logout().await;
            tracing::debug!(exists = selected.exists, "mailbox opened");
            Ok(())
        }
        Err(e) => Err(explain_imap(&e)),
    };
    lines.push(Line { what: "IMAP login and mailbox", problem: imap.err(), warning: None, note: None });

    let smtp = match Smtp::new(&config.smtp) {
        Ok(smtp) => smtp.test_connection().await.map_err(|e| explain_smtp(&e, &config)),
        Err(e) => Err(format!("{e:#}")),
    };
    lines.push(Line { what: "SMTP connection", problem: smtp.err(), warning: None, note: None });
    lines
}

fn ok(what: &'static str) -> Line {
    Line { what, problem: None, warning: None, note: None }
}

fn failed(what: &'static str, problem: String) -> Line {
    Line { what, problem: Some(problem), warning: None, note: None }
}

/// The database as it is, without creating or changing anything: an existing file must be a
/// smebridge database this version can use (opened read-only) and should be private; a missing
/// one needs a directory to be created in.
pub fn database(path: &Path) -> Line {
    const WHAT: &str = "database";
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => failed(WHAT, format!("{shown} is not a file")),
        Ok(meta) => {
            if meta.permissions().readonly() {
                return failed(WHAT, format!("{shown} is read-only: smebridge must write to it"));
            }
            if let Err(problem) = schema_version(path) {
                return failed(WHAT, problem);
            }
            let warning = open_to_others(path).map(|mode| {
                format!(
                    "{shown} has mode {mode:04o}: other users of this machine can read it, and it holds personal data; chmod 600 {shown}"
                )
            });
            Line { what: WHAT, problem: None, warning, note: None }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            match std::fs::metadata(dir) {
                Ok(meta) if !meta.is_dir() => failed(WHAT, format!("{} is not a directory", dir.display())),
                Ok(meta) if meta.permissions().readonly() => failed(
                    WHAT,
                    format!("{shown} does not exist and cannot be created: {} is read-only", dir.display()),
                ),
                Ok(_) => ok(WHAT),
                Err(e) if e.kind() == ErrorKind::NotFound => failed(
                    WHAT,
                    format!(
                        "the directory {} does not exist: create it for the user smebridge runs as (mode 0700), or correct [database] path",
                        dir.display()
                    ),
                ),
                Err(e) => failed(WHAT, format!("cannot look at {}: {e}", dir.display())),
            }
        }
        Err(e) => failed(WHAT, format!("cannot look at {shown}: {e}")),
    }
}

/// Read the database's header (the first 100 bytes; nothing is opened for writing, no journal
/// or WAL file is made) and compare its schema version (`PRAGMA user_version`, at offset 60)
/// with ours.
fn schema_version(path: &Path) -> std::result::Result<(), String> {
    use std::io::Read;
    let shown = path.display();
    let mut header = [0u8; 100];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut header));
    match read {
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
        // An empty file is what smebridge itself creates before SQLite writes the first page.
        Ok(0) => return Ok(()),
        Ok(n) if n < header.len() || !header.starts_with(b"SQLite format 3\0") => {
            return Err(format!("{shown} is not an SQLite database"))
        }
        Ok(_) => {}
    }
    let version = u32::from_be_bytes([header[60], header[61], header[62], header[63]]) as usize;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "{shown} is at schema version {version}, newer than this smebridge knows ({SCHEMA_VERSION}); upgrade smebridge"
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_check_reads_the_header_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let problem = |path: &Path| database(path).problem.unwrap_or_default();

        let missing = dir.path().join("a/b/db.sqlite");
        assert!(problem(&missing).contains("does not exist"), "{}", problem(&missing));
        assert!(!dir.path().join("a").exists());
        assert_eq!(database(&dir.path().join("db.sqlite")), ok("database"));
        assert!(!dir.path().join("db.sqlite").exists());

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database at all, but long enough to have a header of one hundred bytes ....")
            .unwrap();
        assert!(problem(&text).contains("is not an SQLite database"), "{}", problem(&text));

        let mut header = b"SQLite format 3\0".to_vec();
        header.resize(100, 0);
        header[60..64].copy_from_slice(&(SCHEMA_VERSION as u32 + 1).to_be_bytes());
        let newer = dir.path().join("newer.sqlite");
        std::fs::write(&newer, &header).unwrap();
        assert!(problem(&newer).contains("newer than this smebridge knows"), "{}", problem(&newer));

        header[60..64].copy_from_slice(&(SCHEMA_VERSION as u32).to_be_bytes());
        let current = dir.path().join("current.sqlite");
        std::fs::write(&current, &header).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&current, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert_eq!(database(&current), ok("database"));
            std::fs::set_permissions(&current, std::fs::Permissions::from_mode(0o640)).unwrap();
            let line = database(&current);
            assert_eq!(line.problem, None);
            assert!(line.warning.unwrap_or_default().contains("mode 0640"));
        }
        assert!(problem(dir.path()).contains("is not a file"));
    }
}
