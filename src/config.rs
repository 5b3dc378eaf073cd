//! Configuration: the TOML file as written ([`RawConfig`]) and the validated [`Config`] the rest
//! of the program uses.
//!
//! Everything that can be wrong with a configuration is found here, at load time: unknown keys
//! (typos must not pass silently), unparseable addresses, dates and times, `security = "plain"`
//! towards a host that is not on this machine, a secret given both inline-by-name and by file.
//! Secrets are never in the file itself: the file names an environment variable or a file, and
//! the secret is read only when a connection needs it ([`SecretSource::reveal`]).
//!
//! Relative paths in the file (database, templates, password and CA files) are taken relative to
//! the directory that holds the configuration file, so the service behaves the same whatever its
//! working directory.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Deserialize;

use crate::domain::{EmailAddress, ReplyLimits, RequireAuth};

/// Where the configuration is read from when `--config` is not given and
/// `$SMEBRIDGE_CONFIG` is not set.
pub const DEFAULT_PATH: &str = "config/smebridge.toml";

// ---------------------------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    imap: RawImap,
    smtp: RawSmtp,
    event: RawEvent,
    staff: RawStaff,
    database: RawDatabase,
    #[serde(default)]
    replies: RawReplies,
    #[serde(default)]
    security: RawSecurity,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImap {
    host: String,
    port: u16,
    security: Security,
    username: String,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    #[serde(default = "default_mailbox")]
    mailbox: String,
    poll_interval: Option<RawDuration>,
    idle_timeout: Option<RawDuration>,
    idle_keepalive: Option<RawDuration>,
    timeout: Option<RawDuration>,
    ca_file: Option<PathBuf>,
    /// Bytes; larger messages are recorded with their headers only.
    max_message_size: Option<u64>,
    processed_mailbox: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: u16,
    security: Security,
    username: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    from: String,
    envelope_from: Option<String>,
    bcc_self: Option<bool>,
    sending_grace: Option<RawDuration>,
    timeout: Option<RawDuration>,
    ca_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    name: String,
    deadline: String,
    timezone: String,
    starts_at: String,
    venue: String,
    contact: Option<String>,
    capacity: Option<u32>,
    announcement_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaff {
    recipients: Vec<String>,
    summary_time: String,
    summary_from: Option<String>,
    summary_until: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    path: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplies {
    templates_dir: Option<PathBuf>,
    max_per_sender_per_day: Option<u32>,
    max_per_hour: Option<u32>,
    answer_inquiries: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    require_auth: Option<RequireAuth>,
    authserv_id: Option<String>,
}

/// A duration written either as a number of seconds (`60`) or as text (`"90s"`, `"5m"`, `"1h"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDuration {
    Seconds(u64),
    Text(String),
}

fn default_mailbox() -> String {
    "INBOX".to_owned()
}

// ---------------------------------------------------------------------------------------------
// The validated configuration.

/// How a connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS before login (IMAP 143, submission 587).
    Starttls,
    /// No encryption at all. Only accepted towards a loopback address.
    Plain,
}

/// Where a secret comes from. The secret itself is read only when needed.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// A password in memory. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl SecretSource {
    /// Read the secret: the environment variable's value, or the file's first line.
    pub fn reveal(&self) -> Result<Secret> {
        match self {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(Secret(value)),
                Ok(_) => bail!("the environment variable {name} is empty"),
                Err(_) => bail!("the environment variable {name} is not set"),
            },
            SecretSource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the password file {}", path.display()))?;
                let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
                if line.is_empty() {
                    bail!("the password file {} is empty", path.display());
                }
                Ok(Secret(line.to_owned()))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from.
    pub path: PathBuf,
    pub imap: ImapConfig,
    pub smtp: SmtpConfig,
    pub event: EventConfig,
    pub staff: StaffConfig,
    pub database: DatabaseConfig,
    pub replies: RepliesConfig,
    pub security: SecurityConfig,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: SecretSource,
    pub mailbox: String,
    /// Polling period when the server has no IDLE (or between IDLE rounds as a safety net).
    pub poll_interval: Duration,
    /// How long one IDLE command is left running before it is re-issued (RFC 2177: < 29 min).
    pub idle_timeout: Duration,
    /// Within an IDLE, how often the connection must prove it is alive: IDLE is ended with
    /// `DONE` (which the server must answer within `timeout`) and started again. A connection
    /// that died silently is noticed after at most `idle_keepalive + timeout`.
    pub idle_keepalive: Duration,
    /// Bound on connecting, logging in and every single command.
    pub timeout: Duration,
    pub ca_file: Option<PathBuf>,
    /// Larger messages (by `RFC822.SIZE`) are recorded with their headers only, for staff.
    pub max_message_size: u64,
    /// Where recorded messages are moved (e.g. `Applications/2022-11`); `None` leaves them.
    pub processed_mailbox: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, SecretSource)>,
    /// `From:` of every reply, e.g. `KAIST SME Center <smebridge@kaist.ac.kr>`.
    pub from: lettre::message::Mailbox,
    /// The SMTP envelope sender. `None` sends with `MAIL FROM:<>` (RFC 3834), so that a bounce
    /// of a reply can never start a loop.
    pub envelope_from: Option<EmailAddress>,
    /// Deliver a copy of every reply to the center's own mailbox (envelope Bcc). Staff see what
    /// was answered, and after a crash mid-send the copy tells whether the server took the reply.
    pub bcc_self: bool,
    /// How long after a crash mid-send to wait before looking for that copy (delivery lag).
    pub sending_grace: Duration,
    pub timeout: Duration,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct EventConfig {
    pub name: String,
    /// Mail that arrived at the server after this instant is late.
    pub deadline: Timestamp,
    pub timezone: TimeZone,
    pub timezone_name: String,
    pub starts_at: Timestamp,
    pub venue: String,
    /// Who applicants can write to or call about a problem (shown in rejections).
    pub contact: Option<String>,
    /// How many people the venue takes; past it, applications are waitlisted.
    pub capacity: Option<u32>,
    /// The announcement the center sent (`announcement_file`, an `.eml` or text), read at load:
    /// its text is never taken for an applicant's, and values typed into its quoted form are.
    pub announcement: Option<std::sync::Arc<crate::parse::Announcement>>,
}

#[derive(Debug, Clone)]
pub struct StaffConfig {
    pub recipients: Vec<EmailAddress>,
    pub summary_time: Time,
    /// Daily summaries are sent from this day (default: from the first run)…
    pub summary_from: Option<jiff::civil::Date>,
    /// …until this day (default: the day after the event starts), in the event's time zone.
    pub summary_until: jiff::civil::Date,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct RepliesConfig {
    pub templates_dir: PathBuf,
    pub limits: ReplyLimits,
    /// Send inquiries a short "passed to staff" reply (off by default).
    pub answer_inquiries: bool,
}

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    pub require_auth: RequireAuth,
    /// The authserv-id of the center's own server in `Authentication-Results`.
    pub authserv_id: String,
}

impl Config {
    /// Read and validate the configuration file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::from_toml(&text, path, base).with_context(|| format!("invalid configuration in {}", path.display()))
    }

    /// Validate configuration text. `base` is the directory relative paths are resolved from.
    pub fn from_toml(text: &str, path: &Path, base: &Path) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))?;
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };

        let imap = {
            let r = raw.imap;
            require_safe_security("imap", r.security, &r.host)?;
            non_empty("imap.username", &r.username)?;
            non_empty("imap.mailbox", &r.mailbox)?;
            ImapConfig {
                password: secret_source("imap", r.password_env, r.password_file.map(resolve))?
                    .context("[imap] needs password_env or password_file")?,
                host: non_empty("imap.host", &r.host)?,
                port: r.port,
                security: r.security,
                username: r.username,
                mailbox: r.mailbox,
                poll_interval: duration("imap.poll_interval", r.poll_interval, 60)?,
                idle_timeout: duration("imap.idle_timeout", r.idle_timeout, 10 * 60)?,
                idle_keepalive: duration("imap.idle_keepalive", r.idle_keepalive, 2 * 60)?,
                timeout: duration("imap.timeout", r.timeout, 30)?,
                ca_file: r.ca_file.map(resolve),
                max_message_size: r.max_message_size.unwrap_or(40 * 1024 * 1024),
                processed_mailbox: r.processed_mailbox.map(|m| non_empty("imap.processed_mailbox", &m)).transpose()?,
            }
        };
        if imap.processed_mailbox.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&imap.mailbox)) {
            bail!("imap.processed_mailbox must differ from imap.mailbox");
        }
        if imap.idle_timeout >= Duration::from_secs(29 * 60) {
            bail!("imap.idle_timeout must be below 29 minutes (RFC 2177)");
        }

        let smtp = {
            let r = raw.smtp;
            require_safe_security("smtp", r.security, &r.host)?;
            let secret = secret_source("smtp", r.password_env, r.password_file.map(resolve))?;
            let credentials = match (r.username, secret) {
                (Some(user), Some(secret)) => Some((user, secret)),
                (None, None) => None,
                (Some(_), None) => bail!("[smtp] username is set but neither password_env nor password_file"),
                (None, Some(_)) => bail!("[smtp] a password is set but no username"),
            };
            let from = lettre::message::Mailbox::from_str(&r.from).map_err(|e| {
                anyhow::anyhow!("smtp.from {:?} is not an address like \"Name <user@example.org>\": {e}", r.from)
            })?;
            SmtpConfig {
                host: non_empty("smtp.host", &r.host)?,
                port: r.port,
                security: r.security,
                credentials,
                from,
                envelope_from: r
                    .envelope_from
                    .map(|a| EmailAddress::parse(&a).context("smtp.envelope_from"))
                    .transpose()?,
                bcc_self: r.bcc_self.unwrap_or(true),
                sending_grace: duration("smtp.sending_grace", r.sending_grace, 120)?,
                timeout: duration("smtp.timeout", r.timeout, 60)?,
                ca_file: r.ca_file.map(resolve),
            }
        };

        let event = {
            let r = raw.event;
            let timezone = jiff::tz::db()
                .get(&r.timezone)
                .with_context(|| format!("event.timezone {:?} is not a known time zone", r.timezone))?;
            let deadline = timestamp("event.deadline", &r.deadline)?;
            let starts_at = timestamp("event.starts_at", &r.starts_at)?;
            if starts_at < deadline {
                bail!(
                    "event.starts_at ({}) is before event.deadline ({}): applications would still be taken after the workshop began; check both dates",
                    r.starts_at,
                    r.deadline
                );
            }
            EventConfig {
                name: non_empty("event.name", &r.name)?,
                deadline,
                timezone,
                timezone_name: r.timezone,
                starts_at,
                venue: non_empty("event.venue", &r.venue)?,
                contact: r.contact,
                capacity: r.capacity,
                announcement: match r.announcement_file.map(resolve) {
                    Some(file) => {
                        let raw = std::fs::read(&file)
                            .with_context(|| format!("cannot read event.announcement_file {}", file.display()))?;
                        let announcement = crate::parse::Announcement::read(&raw);
                        if announcement.is_empty() {
                            bail!("event.announcement_file {} holds no text", file.display());
                        }
                        Some(std::sync::Arc::new(announcement))
                    }
                    None => None,
                },
            }
        };

        let date = |key: &str, value: &str| -> Result<jiff::civil::Date> {
            value.parse().with_context(|| format!("{key} {value:?} is not a date like \"2022-11-07\""))
        };
        let event_day = event.starts_at.to_zoned(event.timezone.clone()).date();
        let staff = StaffConfig {
            summary_from: raw.staff.summary_from.as_deref().map(|v| date("staff.summary_from", v)).transpose()?,
            summary_until: match raw.staff.summary_until.as_deref() {
                Some(v) => date("staff.summary_until", v)?,
                None => event_day.tomorrow().context("event.starts_at is out of range")?,
            },
            recipients: raw
                .staff
                .recipients
                .iter()
                .map(|a| EmailAddress::parse(a).with_context(|| format!("staff.recipients: {a:?}")))
                .collect::<Result<_>>()?,
            summary_time: Time::strptime("%H:%M", &raw.staff.summary_time)
                .with_context(|| format!("staff.summary_time {:?} is not HH:MM", raw.staff.summary_time))?,
        };

        if staff.recipients.is_empty() {
            bail!("staff.recipients is empty: the daily summary, and what needs a person, must go to at least one address");
        }
        if let Some(from) = staff.summary_from {
            if staff.summary_until < from {
                let until = match raw.staff.summary_until {
                    Some(_) => "staff.summary_until",
                    None => "the default staff.summary_until (the day after event.starts_at)",
                };
                bail!(
                    "{until} ({}) is before staff.summary_from ({from}): no summary would ever be sent",
                    staff.summary_until
                );
            }
        }

        let database = DatabaseConfig { path: resolve(raw.database.path) };
        let r = raw.replies;
        let replies = RepliesConfig {
            templates_dir: resolve(r.templates_dir.unwrap_or_else(|| PathBuf::from("templates"))),
            limits: ReplyLimits {
                per_sender_per_day: r.max_per_sender_per_day.unwrap_or(5),
                per_hour: r.max_per_hour.unwrap_or(1000),
            },
            answer_inquiries: r.answer_inquiries.unwrap_or(false),
        };
        if replies.limits.per_sender_per_day == 0 || replies.limits.per_hour == 0 {
            bail!("replies.max_per_sender_per_day and replies.max_per_hour must be at least 1");
        }
        let require_auth = raw.security.require_auth.unwrap_or(RequireAuth::Off);
        let security = SecurityConfig {
            require_auth,
            authserv_id: match (require_auth, raw.security.authserv_id) {
                (RequireAuth::Off, id) => id.unwrap_or_default(),
                (_, Some(id)) if !id.trim().is_empty() => id.trim().to_owned(),
                _ => bail!("security.require_auth needs security.authserv_id: the id your mail server writes in Authentication-Results"),
            },
        };

        Ok(Config { path: path.to_owned(), imap, smtp, event, staff, database, replies, security })
    }

    /// The center's own address (`From:` of replies). Mail from it is never answered.
    pub fn own_address(&self) -> EmailAddress {
        EmailAddress::from_lettre(&self.smtp.from.email)
    }
}

fn non_empty(key: &str, value: &str) -> Result<String> {
    if value.trim().is_empty() {
        bail!("{key} must not be empty");
    }
    Ok(value.trim().to_owned())
}

fn timestamp(key: &str, value: &str) -> Result<Timestamp> {
    value
        .parse::<Timestamp>()
        .with_context(|| format!("{key} {value:?} is not an RFC 3339 time like \"2022-11-17T23:59:59+09:00\""))
}

fn duration(key: &str, value: Option<RawDuration>, default_secs: u64) -> Result<Duration> {
    let d = match value {
        None => Duration::from_secs(default_secs),
        Some(RawDuration::Seconds(s)) => Duration::from_secs(s),
        Some(RawDuration::Text(t)) => {
            let signed: jiff::SignedDuration =
                t.parse().with_context(|| format!("{key} {t:?} is not a duration like \"60s\" or \"5m\""))?;
            Duration::try_from(signed).with_context(|| format!("{key} must not be negative"))?
        }
    };
    if d.is_zero() {
        bail!("{key} must be longer than zero");
    }
    Ok(d)
}

fn secret_source(section: &str, env: Option<String>, file: Option<PathBuf>) -> Result<Option<SecretSource>> {
    match (env, file) {
        (Some(_), Some(_)) => bail!("[{section}] has both password_env and password_file; keep one"),
        (Some(name), None) => Ok(Some(SecretSource::Env(non_empty(&format!("{section}.password_env"), &name)?))),
        (None, Some(path)) => Ok(Some(SecretSource::File(path))),
        (None, None) => Ok(None),
    }
}

fn require_safe_security(section: &str, security: Security, host: &str) -> Result<()> {
    if security == Security::Plain && !is_loopback(host) {
        bail!(
            "{section}.security = \"plain\" would send the password unencrypted to {host}; \
             it is only allowed towards this machine (127.0.0.1, ::1, localhost). Use \"tls\" or \"starttls\""
        );
    }
    Ok(())
}

/// Is `host` this machine? Names other than `localhost` are not resolved: a name could point
/// anywhere.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = include_str!("../config/smebridge.toml");

    fn load(text: &str) -> Result<Config> {
        Config::from_toml(text, Path::new("test.toml"), Path::new("/etc/smebridge"))
    }

    #[test]
    fn the_shipped_example_is_valid_and_says_what_the_announcement_says() {
        let config = load(EXAMPLE).expect("config/smebridge.toml must load");
        let seoul = &config.event.timezone;
        let deadline = config.event.deadline.to_zoned(seoul.clone());
        assert_eq!(deadline.strftime("%Y-%m-%d %H:%M:%S").to_string(), "2022-11-17 23:59:59");
        let starts = config.event.starts_at.to_zoned(seoul.clone());
        assert_eq!(starts.strftime("%A %Y-%m-%d %H:%M").to_string(), "Friday 2022-11-18 13:30");
        assert!(config.event.venue.contains("Banyan Tree"));
        assert_eq!(config.own_address().as_str(), "smebridge@kaist.ac.kr");
        assert_eq!(config.imap.mailbox, "INBOX");
        assert!(config.database.path.is_absolute());
    }

    #[test]
    fn unknown_keys_are_refused_and_named() {
        let text = EXAMPLE.replace("[database]", "[database]\npaht = \"x\"");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("paht"), "{err}");
    }

    #[test]
    fn plain_is_refused_towards_a_remote_host() {
        let text = EXAMPLE.replacen("security = \"tls\"", "security = \"plain\"", 1);
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("unencrypted"), "{err}");
    }

    #[test]
    fn plain_is_accepted_on_loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("imap.kaist.ac.kr"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[test]
    fn a_bad_deadline_is_explained() {
        let text = EXAMPLE.replace("2022-11-17T23:59:59+09:00", "17 Nov 2022");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("event.deadline"), "{err}");
    }

    #[test]
    fn a_workshop_that_starts_before_the_deadline_is_refused() {
        let text = EXAMPLE.replace("2022-11-18T13:30:00+09:00", "2022-11-17T13:30:00+09:00");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("event.starts_at") && err.contains("before event.deadline"), "{err}");
        // Starting right at the deadline is fine.
        let text = EXAMPLE.replace("2022-11-18T13:30:00+09:00", "2022-11-17T23:59:59+09:00");
        assert!(load(&text).is_ok());
    }

    #[test]
    fn summaries_that_would_end_before_they_begin_are_refused() {
        let text = EXAMPLE
            .replace("# summary_from = \"2022-11-07\"", "summary_from = \"2022-11-10\"")
            .replace("# summary_until = \"2022-11-19\"", "summary_until = \"2022-11-09\"");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("staff.summary_until (2022-11-09) is before staff.summary_from (2022-11-10)"), "{err}");
        // The default end (the day after the event) counts too.
        let text = EXAMPLE.replace("# summary_from = \"2022-11-07\"", "summary_from = \"2022-12-01\"");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("default staff.summary_until"), "{err}");
        // One day is a window.
        let text = EXAMPLE
            .replace("# summary_from = \"2022-11-07\"", "summary_from = \"2022-11-10\"")
            .replace("# summary_until = \"2022-11-19\"", "summary_until = \"2022-11-10\"");
        assert!(load(&text).is_ok());
    }

    #[test]
    fn staff_recipients_must_not_be_empty() {
        let line = EXAMPLE.lines().find(|l| l.trim_start().starts_with("recipients")).unwrap();
        let text = EXAMPLE.replace(line, "recipients = []");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("staff.recipients is empty"), "{err}");
    }

    #[test]
    fn durations_accept_seconds_and_text() {
        assert_eq!(duration("k", Some(RawDuration::Seconds(5)), 1).unwrap(), Duration::from_secs(5));
        assert_eq!(duration("k", Some(RawDuration::Text("5m".into())), 1).unwrap(), Duration::from_secs(300));
        assert!(duration("k", Some(RawDuration::Text("soon".into())), 1).is_err());
        assert!(duration("k", Some(RawDuration::Seconds(0)), 1).is_err());
    }

    #[test]
    fn an_announcement_file_is_read_at_load_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let text = EXAMPLE.replace("[event]", "[event]\nannouncement_file = \"announcement.txt\"");
        let load_in = |dir: &Path| Config::from_toml(&text, &dir.join("smebridge.toml"), dir);
        let err = format!("{:#}", load_in(dir.path()).unwrap_err());
        assert!(err.contains("event.announcement_file") && err.contains("announcement.txt"), "{err}");
        std::fs::write(dir.path().join("announcement.txt"), "[참가 신청서]\n■ 성 명 :\n■ 소 속 :\n").unwrap();
        let config = load_in(dir.path()).unwrap();
        let announcement = config.event.announcement.expect("read at load");
        assert_eq!(announcement.len(), 3);
        assert!(load(EXAMPLE).unwrap().event.announcement.is_none(), "optional");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret("hunter2".into());
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
