//! `smebridge check`: is this configuration good enough to run? Checks, in order, the file, the
//! reply templates, the database (its header, `PRAGMA integrity_check`, the free disk space
//! where it lives), the IMAP login (and mailbox, the server's capabilities, its clock) and the
//! SMTP connection (and login), and says in plain words what is wrong. It changes nothing: the
//! database is only looked at (opened read-only when it exists), never created, and neither is
//! its directory; nothing is written to the mailbox.
//!
//! The clock: the deadline is judged by the server's arrival time (INTERNALDATE), summaries and
//! retries by this machine's clock. IMAP has no command that tells the server's time, and
//! check does not append a message to find out; it compares the INTERNALDATE of the newest
//! message with the local clock. That proves a skew only one way: a server clock ahead of ours
//! shows as a message from the future, while one behind looks like an older message.

use std::error::Error as _;
use std::io::ErrorKind;
use std::path::Path;

use crate::config::{Auth, Config};
use crate::imap::{ConnectError, Connection, ServerReport};
use crate::reply::Replier;
use crate::smtp::{self, Smtp};
use crate::store::{newer_schema, open_to_others, SCHEMA_VERSION};

/// One line of the check's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub what: &'static str,
    pub problem: Option<String>,
    /// Works, but should be fixed (printed, does not fail the check).
    pub warning: Option<String>,
    /// What was found, when it is worth showing (capabilities, free space…).
    pub detail: Option<String>,
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
            let warnings: Vec<String> = [origins.warning(), no_retention(&config)].into_iter().flatten().collect();
            let warning = (!warnings.is_empty()).then(|| warnings.join("; "));
            Line { warning, detail: Some(origins.describe()), ..ok("reply templates") }
        }
        Err(e) => failed("reply templates", format!("{e:#}")),
    });
    let mut db = database(&config.database.path);
    let db_ok = db.problem.is_none();
    if let Some(orphans) = db_ok.then(|| unconfigured_events(&config)).flatten() {
        db.warning = Some(db.warning.map_or(orphans.clone(), |w| format!("{w}; {orphans}")));
    }
    lines.push(db);
    if db_ok {
        lines.push(integrity(&config.database.path));
    }
    lines.push(disk_space(&config.database.path));

    let mut imap_lines = Vec::new();
    let imap = match Connection::open(&config.imap).await {
        Ok((mut conn, selected)) => {
            tracing::debug!(exists = selected.exists, "mailbox opened");
            imap_lines.push(capabilities(conn.report(), &config));
            let newest = conn.newest_arrival().await;
            conn.logout().await;
            imap_lines.push(match newest {
                Ok(newest) => clock(newest, jiff::Timestamp::now()),
                Err(e) => failed("server clock", format!("cannot read the newest message's arrival time: {e:#}")),
            });
            Ok(())
        }
        Err(e) => Err(explain_imap(&e)),
    };
    let login = login_detail(&config.imap.auth);
    lines.push(Line { what: "IMAP login and mailbox", problem: imap.err(), warning: None, detail: login });
    lines.extend(imap_lines);

    let smtp = match Smtp::new(&config.smtp) {
        Ok(smtp) => smtp.test_connection().await.map_err(|e| explain_smtp(&e, &config)),
        Err(e) => Err(format!("{e:#}")),
    };
    let login = config.smtp.credentials.as_ref().and_then(|(_, auth)| login_detail(auth));
    lines.push(Line { what: "SMTP connection", problem: smtp.err(), warning: None, detail: login });
    lines
}

/// Without `[retention]`, the privacy notice cannot say how long personal data is kept.
fn no_retention(config: &Config) -> Option<String> {
    config.retention.is_none().then(|| {
        "[retention] delete_personal_data_after is not set, so the privacy notice in every acknowledgement cannot \
         say how long personal data is kept (as the law expects); set it, e.g. \"90d\""
            .to_owned()
    })
}

fn login_detail(auth: &Auth) -> Option<String> {
    match auth {
        Auth::Password(_) => None,
        Auth::OAuth2(source) => Some(source.describe()),
    }
}

/// What the server offers that smebridge uses, and what it does without.
fn capabilities(report: &ServerReport, config: &Config) -> Line {
    let has = |c: &str| report.capabilities.iter().any(|x| x == c);
    let mut notes = Vec::new();
    if !has("IDLE") {
        notes.push(format!(
            "no IDLE: new mail is looked for every {} s (imap.poll_interval)",
            config.imap.poll_interval.as_secs()
        ));
    }
    if !has("MOVE") && config.imap.processed_mailbox.is_some() {
        notes.push("no MOVE: processed mail is moved with COPY, \\Deleted and EXPUNGE".to_owned());
    }
    if !has("UIDPLUS") && config.imap.processed_mailbox.is_some() && !has("MOVE") {
        notes.push(
            "no UIDPLUS: without UID EXPUNGE, moving processed mail also expunges messages others marked \\Deleted"
                .to_owned(),
        );
    }
    if has("X-GM-EXT-1") && config.imap.mailbox.to_ascii_lowercase().ends_with("/all mail") {
        notes.push(format!(
            "{:?} is Gmail's every-message folder: archived mail and the center's own sent replies are in it too; read INBOX",
            config.imap.mailbox
        ));
    }
    let mut detail = if report.capabilities.is_empty() {
        "none of IDLE, MOVE, UIDPLUS, CONDSTORE".to_owned()
    } else {
        report.capabilities.join(" ")
    };
    if has("X-GM-EXT-1") {
        detail.push_str(" (Gmail: labels are folders)");
    }
    detail.push_str(&format!("; logged in with {}", report.login));
    if !report.mechanisms.is_empty() {
        detail.push_str(&format!(" (offered: {})", report.mechanisms.join(" ")));
    }
    Line {
        what: "IMAP server",
        problem: None,
        warning: (!notes.is_empty()).then(|| notes.join("; ")),
        detail: Some(detail),
    }
}

/// Beyond this, a message from the future is a clock problem, not rounding.
const SKEW_TOLERANCE: i64 = 60;

/// The server's clock against ours, from the newest message's INTERNALDATE (see the module
/// documentation for what this can and cannot show).
pub fn clock(newest: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Line {
    const WHAT: &str = "server clock";
    let Some(newest) = newest else {
        return Line {
            what: WHAT,
            problem: None,
            warning: None,
            detail: Some(
                "the mailbox is empty, so there is no arrival time to compare with this machine's clock".into(),
            ),
        };
    };
    let ahead = newest.as_second() - now.as_second();
    if ahead > SKEW_TOLERANCE {
        return Line {
            what: WHAT,
            problem: None,
            warning: Some(format!(
                "the newest message arrived at {newest} by the server's clock, {} in the future by this machine's: \
                 one of the two clocks is off by at least that much. The deadline is judged by the server's time, \
                 summaries by this machine's: keep both set by NTP",
                span(ahead)
            )),
            detail: None,
        };
    }
    Line {
        what: WHAT,
        problem: None,
        warning: None,
        detail: Some(format!(
            "the newest message arrived {} ago by the server's clock; no sign that it runs ahead of this machine's \
             (a server clock that runs behind cannot be told from an older message without writing to the mailbox)",
            span(-ahead)
        )),
    }
}

fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// Below this, the database directory's file system is too full for comfort.
const LOW_DISK: u64 = 1 << 30;

/// Free space on the file system that holds (or will hold) the database.
pub fn disk_space(path: &Path) -> Line {
    const WHAT: &str = "disk space";
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    let Some((free, total)) = free_space(dir) else {
        return Line {
            what: WHAT,
            problem: None,
            warning: None,
            detail: Some(format!("cannot measure the free space at {}", dir.display())),
        };
    };
    let gib = |b: u64| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64);
    let detail = format!("{} free of {} at {}", gib(free), gib(total), dir.display());
    let warning = (free < LOW_DISK).then(|| {
        format!(
            "only {} free at {}: raw mail is kept in the database, and a full disk stops smebridge recording mail",
            gib(free),
            dir.display()
        )
    });
    Line { what: WHAT, problem: None, warning, detail: Some(detail) }
}

/// (available to unprivileged users, total) bytes of the file system holding `dir`.
fn free_space(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid NUL-terminated path and a zeroed out-parameter of the right type.
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    let block = u64::from(stat.f_frsize as u32).max(1);
    #[allow(clippy::unnecessary_cast)]
    Some((stat.f_bavail as u64 * block, stat.f_blocks as u64 * block))
}

/// `PRAGMA integrity_check`, read-only. A database with a live WAL (a running smebridge) is
/// opened read-only as it is; one without is opened immutable, so that no `-wal` or `-shm`
/// file is created beside it.
pub fn integrity(path: &Path) -> Line {
    const WHAT: &str = "database integrity";
    if std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true) {
        return Line { what: WHAT, problem: None, warning: None, detail: Some("no database yet".into()) };
    }
    let checked = open_read_only(path).and_then(|conn| {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    });
    match checked {
        Ok(rows) if rows == ["ok"] => {
            Line { what: WHAT, problem: None, warning: None, detail: Some("PRAGMA integrity_check: ok".into()) }
        }
        Ok(rows) => failed(
            WHAT,
            format!(
                "PRAGMA integrity_check found {} problem(s) in {}, first: {}; restore a backup",
                rows.len(),
                path.display(),
                rows.first().map(String::as_str).unwrap_or("?")
            ),
        ),
        Err(e) => failed(WHAT, format!("cannot check {}: {e}", path.display())),
    }
}

/// The database at `path`, read-only; without a WAL file, as immutable (no `-shm` is made). The
/// immutable one is opened by a `file:` URI, which needs an absolute path: a relative one (a
/// `[database] path` relative to a configuration named by a relative path) is made absolute
/// first, from the working directory.
fn open_read_only(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
        | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    if Path::new(&wal).exists() {
        rusqlite::Connection::open_with_flags(path, flags)
    } else {
        let absolute = std::path::absolute(path).map_err(|e| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot make {} absolute: {e}", path.display())),
            )
        })?;
        let mut uri = url::Url::from_file_path(&absolute).map(|u| u.to_string()).map_err(|()| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot name {} as a file: URI", absolute.display())),
            )
        })?;
        uri.push_str("?immutable=1");
        rusqlite::Connection::open_with_flags(uri, flags)
    }
}

/// Applications in the database for events the configuration does not name, if any, in words:
/// an event's id is how the database knows it, so an event renamed (or a single `[event]` turned
/// into `[[event]]` with a new id) leaves its applications out of every summary, seat count and
/// waiting list. Applications recorded before smebridge knew several events are `main`'s.
fn unconfigured_events(config: &Config) -> Option<String> {
    let path = &config.database.path;
    if std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true) {
        return None;
    }
    let counts = open_read_only(path).and_then(|conn| {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let has_event: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('applications') WHERE name = 'event'",
            [],
            |r| r.get(0),
        )?;
        let sql = match has_event {
            true => "SELECT event, COUNT(*) FROM applications GROUP BY event ORDER BY event",
            // An older schema: the next start gives every application to the one event, main.
            false => "SELECT 'main', COUNT(*) FROM applications HAVING COUNT(*) > 0",
        };
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    });
    // What cannot be read is the integrity line's to report.
    let orphans: Vec<String> = counts
        .ok()?
        .into_iter()
        .filter(|(id, _)| config.events.iter().all(|e| e.id.as_str() != id))
        .map(|(id, n)| format!("{id} ({n})"))
        .collect();
    (!orphans.is_empty()).then(|| {
        format!(
            "the database has applications for events the configuration does not name: {}; they are left out of \
             the summary's sections, seat counts and waiting lists. An event's id is how the database knows it: if \
             you renamed an event, give it its old id back (applications from a single [event] without an id, or \
             from before smebridge knew several events, belong to id = \"main\")",
            orphans.join(", ")
        )
    })
}

fn ok(what: &'static str) -> Line {
    Line { what, problem: None, warning: None, detail: None }
}

fn failed(what: &'static str, problem: String) -> Line {
    Line { what, problem: Some(problem), warning: None, detail: None }
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
            let detail = match schema_version(path) {
                Err(problem) => return failed(WHAT, problem),
                Ok(version) => older_schema(version),
            };
            let warning = open_to_others(path).map(|mode| {
                format!(
                    "{shown} has mode {mode:04o}: other users of this machine can read it, and it holds personal data; chmod 600 {shown}"
                )
            });
            Line { what: WHAT, problem: None, warning, detail }
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

/// What `check` says of a database an older smebridge made (schema `version`, 0 for one not
/// written yet): the next start upgrades it, after keeping a copy.
fn older_schema(version: usize) -> Option<String> {
    (version > 0 && version < SCHEMA_VERSION).then(|| {
        format!(
            "at schema {version}; the next start brings it to schema {SCHEMA_VERSION}, after keeping a copy of it \
             beside it (.before-v{SCHEMA_VERSION}.sqlite)"
        )
    })
}

/// Read the database's header (the first 100 bytes; nothing is opened for writing, no journal
/// or WAL file is made) and compare its schema version (`PRAGMA user_version`, at offset 60)
/// with ours; the version when this smebridge can use it.
fn schema_version(path: &Path) -> std::result::Result<usize, String> {
    use std::io::Read;
    let shown = path.display();
    let mut header = [0u8; 100];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut header));
    match read {
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
        // An empty file is what smebridge itself creates before SQLite writes the first page.
        Ok(0) => return Ok(0),
        Ok(n) if n < header.len() || !header.starts_with(b"SQLite format 3\0") => {
            return Err(format!("{shown} is not an SQLite database"))
        }
        Ok(_) => {}
    }
    let version = u32::from_be_bytes([header[60], header[61], header[62], header[63]]) as usize;
    if version > SCHEMA_VERSION {
        return Err(format!("{shown} was {}", newer_schema(version)));
    }
    Ok(version)
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
    let host = config.smtp.host.as_str();
    let at = format!("{host}:{}", config.smtp.port);
    let e = match e {
        smtp::ConnectError::Timeout => return format!("no answer from {at}"),
        smtp::ConnectError::Tls(io) => return format!("TLS failure with {at}: {}", crate::tls::explain_io(io, host)),
        smtp::ConnectError::Io(io) => return format!("unreachable host: cannot connect to {at} ({})", io_words(io)),
        smtp::ConnectError::NoStartTls => return format!("{at}: {e}"),
        smtp::ConnectError::TokenRefused(_) | smtp::ConnectError::Token(_) => return e.to_string(),
        smtp::ConnectError::Smtp(e) => e,
    };
    if let Some(words) = crate::tls::explain(e, host) {
        return format!("TLS failure with {at}: {words}");
    }
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
        assert_eq!(
            problem(&newer),
            format!(
                "{} was made by a newer smebridge (schema {}); this one knows up to {SCHEMA_VERSION}; install the newer \
                 one or restore a backup",
                newer.display(),
                SCHEMA_VERSION + 1
            )
        );
        header[60..64].copy_from_slice(&(SCHEMA_VERSION as u32 - 1).to_be_bytes());
        let older = dir.path().join("older.sqlite");
        std::fs::write(&older, &header).unwrap();
        let detail = database(&older).detail.unwrap_or_default();
        assert!(detail.contains(&format!("the next start brings it to schema {SCHEMA_VERSION}")), "{detail}");

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

    /// `smebridge check --config good.toml` with `[database] path = "db/smebridge.sqlite"`: the
    /// path is relative to the working directory, and the check opens it there.
    #[test]
    fn the_integrity_check_opens_a_database_named_by_a_relative_path() {
        let cwd = std::env::current_dir().unwrap();
        let dir = tempfile::Builder::new().prefix(".check-relative-").tempdir_in(&cwd).unwrap();
        let path = dir.path().join("db/smebridge.sqlite");
        drop(crate::store::Store::open(crate::instance::Instance::claim(&path).unwrap()).unwrap());
        let relative = path.strip_prefix(&cwd).unwrap();
        assert!(relative.is_relative() && !Path::new(&format!("{}-wal", path.display())).exists());
        let line = integrity(relative);
        assert_eq!((line.problem, line.detail.as_deref()), (None, Some("PRAGMA integrity_check: ok")));
    }

    #[test]
    fn applications_for_an_event_the_configuration_no_longer_names_are_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let shipped = std::fs::read_to_string(base.join("smebridge.toml")).unwrap();
        let db = dir.path().join("db.sqlite");
        let with = |text: String| {
            let text = text.replace("/var/lib/smebridge/smebridge.sqlite", &db.display().to_string());
            Config::from_toml(&text, &base.join("smebridge.toml"), &base).unwrap()
        };
        let single = with(shipped.clone());
        assert_eq!(unconfigured_events(&single), None, "no database yet");
        {
            let mut store = crate::store::Store::open(crate::instance::Instance::claim(&db).unwrap()).unwrap();
            use crate::domain::{ApplicantFields, EmailAddress, EventId, Outcome, Status};
            use crate::store::{ApplicationWrite, Arriving, MailboxUid, MessageOutcome, NewMessage, NO_DETAILS};
            let sender = EmailAddress::parse("kim@hanbit.example").unwrap();
            let message = NewMessage {
                arriving: Arriving { sha256: "aa", arrived_at: jiff::Timestamp::UNIX_EPOCH, raw: b"raw" },
                outcome: MessageOutcome {
                    message_id: "m1@hanbit.example",
                    sender: Some(&sender),
                    subject: None,
                    outcome: Outcome::Registered,
                    outcome_detail: None,
                    problems: &[],
                    attachments: &[],
                    details: &NO_DETAILS,
                    event: None,
                },
            };
            let write = ApplicationWrite::Insert {
                event: EventId::default_id(),
                email: sender.clone(),
                fields: ApplicantFields::default(),
                status: Status::Accepted,
                review: None,
            };
            let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
            store.commit_message(at, &message, &write, jiff::Timestamp::UNIX_EPOCH, |_| Ok(None)).unwrap();
        }
        assert_eq!(unconfigured_events(&single), None, "the single [event] without an id is main");
        let renamed = with(shipped.replacen("[event]\n", "[[event]]\nid = \"ws-2211\"\n", 1));
        let warning = unconfigured_events(&renamed).expect("main's application is nobody's now");
        assert!(warning.contains("events the configuration does not name: main (1)"), "{warning}");
        assert!(warning.contains("give it its old id back"), "{warning}");
        let kept = with(shipped.replacen("[event]\n", "[[event]]\nid = \"main\"\n", 1));
        assert_eq!(unconfigured_events(&kept), None);
    }
}
