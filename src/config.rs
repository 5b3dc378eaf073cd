//! Configuration: the TOML file as written ([`RawConfig`]) and the validated [`Config`] the rest
//! of the program uses.
//!
//! Everything that can be wrong with a configuration is found here, at load time: unknown keys
//! (typos must not pass silently), unparseable addresses, dates and times, `security = "plain"`
//! towards a host that is not on this machine, a secret given both inline-by-name and by file.
//! Secrets are never in the file itself: the file names an environment variable or a file, and
//! the secret is read only when a connection needs it ([`SecretSource::reveal`]). A secret file
//! may be written `credential:NAME`: the file `NAME` in `$CREDENTIALS_DIRECTORY`, where systemd
//! puts what a unit's `LoadCredential=` names ([`SecretFile`]).
//!
//! A login is a password or an OAuth 2.0 access token ([`Auth`]); `[smtp] auth = "same-as-imap"`
//! logs in to SMTP as `[imap]` does, sharing one token source (and its cached token).
//!
//! Relative paths in the file (database, templates, password and CA files) are taken relative to
//! the directory that holds the configuration file, so the service behaves the same whatever its
//! working directory.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::domain::{EmailAddress, EventId, EventRouting, ReplyLimits, RequireAuth};
use crate::oauth2::{self, TokenSource};

mod event;
mod retention;
mod secrets;

use event::{events, RawEvents};
pub use event::{EventConfig, DEFAULT_BACKLOG_LIMIT, DEFAULT_LENGTH};
pub use retention::Retention;
use secrets::{auth, RawLogin};
pub use secrets::{Auth, Secret, SecretFile, SecretSource};

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
    /// `[event]` (one event) or `[[event]]` (several).
    event: RawEvents,
    staff: RawStaff,
    database: RawDatabase,
    #[serde(default)]
    center: RawCenter,
    #[serde(default)]
    replies: RawReplies,
    #[serde(default)]
    security: RawSecurity,
    #[serde(default)]
    retention: retention::RawRetention,
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
    /// Log in with OAuth 2.0 tokens refreshed by smebridge itself…
    oauth2: Option<RawOAuth2>,
    /// …or printed by a command (`["oama", "access", "…"]`).
    token_command: Option<Vec<String>>,
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
    /// `"same-as-imap"`: the `[imap]` username and login (password or token).
    auth: Option<RawSmtpAuth>,
    oauth2: Option<RawOAuth2>,
    token_command: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawSmtpAuth {
    SameAsImap,
}

/// `oauth2 = { provider = "microsoft", client_id = "…", refresh_token_file = "…" }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOAuth2 {
    provider: oauth2::Provider,
    client_id: String,
    client_secret_file: Option<PathBuf>,
    refresh_token_file: PathBuf,
    /// Microsoft: the directory (tenant) id or `organizations`; default `common`.
    tenant: Option<String>,
    token_url: Option<String>,
    /// The browser sign-in page (`smebridge oauth2 authorize`, loopback redirect).
    auth_url: Option<String>,
    /// The device authorization endpoint (`smebridge oauth2 authorize`, device code).
    device_url: Option<String>,
    scopes: Option<Vec<String>>,
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
struct RawCenter {
    name: Option<String>,
    name_en: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplies {
    templates_dir: Option<PathBuf>,
    max_per_sender_per_day: Option<u32>,
    max_per_hour: Option<u32>,
    answer_inquiries: Option<bool>,
    backlog_limit: Option<u64>,
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

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from.
    pub path: PathBuf,
    pub imap: ImapConfig,
    pub smtp: SmtpConfig,
    /// The events whose applications this mailbox takes, in the order written; never empty.
    /// The first one's time zone is the desk's (summaries, exports).
    pub events: Vec<EventConfig>,
    pub staff: StaffConfig,
    pub database: DatabaseConfig,
    pub center: CenterConfig,
    pub replies: RepliesConfig,
    pub security: SecurityConfig,
    /// `[retention]`: how long personal data is kept after the event; `None` when not set.
    pub retention: Option<Retention>,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// How to log in: a password or OAuth 2.0.
    pub auth: Auth,
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
    /// Username and login; `None` sends without logging in.
    pub credentials: Option<(String, Auth)>,
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

/// Who the replies are from: the signature under each reply.
#[derive(Debug, Clone)]
pub struct CenterConfig {
    /// Under the Korean text, e.g. `중소기업 R&D 공유센터`. Default: the display name of
    /// `[smtp] from` (else its address).
    pub name: String,
    /// Under the English text, e.g. `SME R&D Sharing Center`. Default: `name`.
    pub name_en: String,
}

#[derive(Debug, Clone)]
pub struct RepliesConfig {
    /// Where reply templates that replace the built-in ones are looked for, file by file
    /// (`ack.ko.txt.j2`, …); a template not found there is the built-in one.
    pub templates_dir: PathBuf,
    /// `templates_dir` was written in the file (not the default `templates`): a directory that
    /// does not exist is then worth a warning (a typo would silently mean the built-in texts).
    pub templates_dir_set: bool,
    pub limits: ReplyLimits,
    /// Send inquiries a short "passed to staff" reply (off by default).
    pub answer_inquiries: bool,
    /// A first start that finds more messages than this in the mailbox, while some event has no
    /// `opens`, answers none of them without `--accept-backlog`.
    pub backlog_limit: u64,
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
            let timeout = duration("imap.timeout", r.timeout, 30, MAX_TIMEOUT)?;
            let login = RawLogin {
                password_env: r.password_env,
                password_file: r.password_file,
                oauth2: r.oauth2,
                token_command: r.token_command,
            };
            ImapConfig {
                auth: auth("imap", login, base, timeout)?.context(
                    "[imap] needs a login: password_env, password_file, oauth2 = { … } or token_command = [ … ]",
                )?,
                host: non_empty("imap.host", &r.host)?,
                port: r.port,
                security: r.security,
                username: r.username,
                mailbox: r.mailbox,
                poll_interval: duration("imap.poll_interval", r.poll_interval, 60, MAX_POLL_INTERVAL)?,
                idle_timeout: duration("imap.idle_timeout", r.idle_timeout, 10 * 60, MAX_IDLE_TIMEOUT)?,
                idle_keepalive: duration("imap.idle_keepalive", r.idle_keepalive, 2 * 60, MAX_TIMEOUT)?,
                timeout,
                ca_file: r.ca_file.map(resolve),
                max_message_size: message_size(r.max_message_size)?,
                processed_mailbox: r.processed_mailbox.map(|m| non_empty("imap.processed_mailbox", &m)).transpose()?,
            }
        };
        if imap.processed_mailbox.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&imap.mailbox)) {
            bail!("imap.processed_mailbox must differ from imap.mailbox");
        }

        let smtp = {
            let r = raw.smtp;
            require_safe_security("smtp", r.security, &r.host)?;
            let timeout = duration("smtp.timeout", r.timeout, 60, MAX_TIMEOUT)?;
            let login = RawLogin {
                password_env: r.password_env,
                password_file: r.password_file,
                oauth2: r.oauth2,
                token_command: r.token_command,
            };
            let credentials = match (r.auth, r.username, auth("smtp", login, base, timeout)?) {
                (Some(RawSmtpAuth::SameAsImap), None, None) => Some((imap.username.clone(), imap.auth.clone())),
                (Some(RawSmtpAuth::SameAsImap), _, _) => bail!(
                    "[smtp] auth = \"same-as-imap\" takes the username and login of [imap]; remove the other login keys from [smtp]"
                ),
                (None, Some(user), Some(auth)) => Some((non_empty("smtp.username", &user)?, auth)),
                (None, None, None) => None,
                (None, Some(_), None) => bail!(
                    "[smtp] username is set but no login: password_env, password_file, oauth2 or token_command (or auth = \"same-as-imap\")"
                ),
                (None, None, Some(_)) => bail!("[smtp] a login is set but no username"),
            };
            if let (Some((_, Auth::OAuth2(smtp))), Auth::OAuth2(imap_source)) = (&credentials, &imap.auth) {
                if !Arc::ptr_eq(smtp, imap_source) && smtp.shares_refresh_token_with(imap_source) {
                    bail!(
                        "[imap] and [smtp] name the same refresh_token_file: two sources would each rotate it; \
                         write auth = \"same-as-imap\" in [smtp] instead"
                    );
                }
            }
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
                sending_grace: duration("smtp.sending_grace", r.sending_grace, 120, MAX_SENDING_GRACE)?,
                timeout,
                ca_file: r.ca_file.map(resolve),
            }
        };

        let events = events(raw.event, resolve)?;

        let date = |key: &str, value: &str| -> Result<jiff::civil::Date> {
            value.parse().with_context(|| format!("{key} {value:?} is not a date like \"2022-11-07\""))
        };
        let desk_tz = events[0].timezone.clone();
        let last_start = events.iter().map(|e| e.starts_at).max().unwrap_or(events[0].starts_at);
        let event_day = last_start.to_zoned(desk_tz).date();
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
                    None => "the default staff.summary_until (the day after the last event.starts_at)",
                };
                bail!(
                    "{until} ({}) is before staff.summary_from ({from}): no summary would ever be sent",
                    staff.summary_until
                );
            }
        }

        let database = DatabaseConfig { path: resolve(raw.database.path) };
        let center = {
            let r = raw.center;
            let fallback = smtp.from.name.clone().filter(|n| !n.trim().is_empty());
            let name = match r.name {
                Some(name) => non_empty("center.name", &name)?,
                None => fallback.unwrap_or_else(|| smtp.from.email.to_string()).trim().to_owned(),
            };
            let name_en = r.name_en.map(|n| non_empty("center.name_en", &n)).transpose()?;
            CenterConfig { name_en: name_en.unwrap_or_else(|| name.clone()), name }
        };
        let r = raw.replies;
        let replies = RepliesConfig {
            templates_dir_set: r.templates_dir.is_some(),
            templates_dir: resolve(r.templates_dir.unwrap_or_else(|| PathBuf::from("templates"))),
            limits: ReplyLimits {
                per_sender_per_day: r.max_per_sender_per_day.unwrap_or(5),
                per_hour: r.max_per_hour.unwrap_or(1000),
            },
            answer_inquiries: r.answer_inquiries.unwrap_or(false),
            backlog_limit: r.backlog_limit.unwrap_or(DEFAULT_BACKLOG_LIMIT),
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

        let retention = Retention::from_raw(raw.retention)?;
        Ok(Config { path: path.to_owned(), imap, smtp, events, staff, database, center, replies, security, retention })
    }

    /// The event with this id, if the configuration has it.
    pub fn event(&self, id: &EventId) -> Option<&EventConfig> {
        self.events.iter().find(|e| &e.id == id)
    }

    /// The desk's time zone: the first event's. Summaries, exports and `--date` use it.
    pub fn timezone(&self) -> &TimeZone {
        &self.events[0].timezone
    }

    /// More than one event: exports and the summary name each application's event.
    pub fn several_events(&self) -> bool {
        self.events.len() > 1
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

/// The upper bound of a duration key, and why. A value past it is a slip (a digit too many,
/// hours for seconds) that would otherwise pass `check` and stop the desk later, when the clock
/// arithmetic that uses it overflows.
#[derive(Debug, Clone, Copy)]
struct Bound {
    max: Duration,
    /// Must the value stay below `max` (`imap.idle_timeout`), or may it equal it?
    below: bool,
    why: &'static str,
}

/// `[imap] timeout`, `[smtp] timeout`, `[imap] idle_keepalive`: at most an hour.
const MAX_TIMEOUT: Bound =
    Bound { max: Duration::from_secs(3600), below: false, why: "a server that has not answered in an hour will not" };
/// `[imap] poll_interval`: at most a day.
const MAX_POLL_INTERVAL: Bound =
    Bound { max: Duration::from_secs(86_400), below: false, why: "mail must be read at least daily" };
/// `[imap] idle_timeout`: below 29 minutes.
const MAX_IDLE_TIMEOUT: Bound =
    Bound { max: Duration::from_secs(29 * 60), below: true, why: "servers may end an IDLE after 30 minutes, RFC 2177" };
/// `[smtp] sending_grace`: at most a day.
const MAX_SENDING_GRACE: Bound = Bound {
    max: Duration::from_secs(86_400),
    below: false,
    why: "a copy of a reply arrives in minutes, and an interrupted reply waits this long",
};

/// A duration key: seconds (`60`) or text (`"5m"`), longer than zero and within `bound`.
fn duration(key: &str, value: Option<RawDuration>, default_secs: u64, bound: Bound) -> Result<Duration> {
    let (d, written) = match value {
        None => (Duration::from_secs(default_secs), default_secs.to_string()),
        Some(RawDuration::Seconds(s)) => (Duration::from_secs(s), s.to_string()),
        Some(RawDuration::Text(t)) => {
            let signed: jiff::SignedDuration =
                t.parse().with_context(|| format!("{key} {t:?} is not a duration like \"60s\" or \"5m\""))?;
            (Duration::try_from(signed).with_context(|| format!("{key} must not be negative"))?, format!("{t:?}"))
        }
    };
    if d.is_zero() {
        bail!("{key} must be longer than zero");
    }
    let (too_long, limit) = match bound.below {
        true => (d >= bound.max, "below"),
        false => (d > bound.max, "at most"),
    };
    if too_long {
        bail!("{key} {written} is too long: it must be {limit} {} ({})", shown(bound.max), bound.why);
    }
    Ok(d)
}

/// `1 day`, `29 minutes`, `1 hour`: a bound as the error states it.
fn shown(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = match s {
        _ if s.is_multiple_of(86_400) => (s / 86_400, "day"),
        _ if s.is_multiple_of(3600) => (s / 3600, "hour"),
        _ if s.is_multiple_of(60) => (s / 60, "minute"),
        _ => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `[imap] max_message_size`: bytes, default 40 MiB; at least 64 KiB (below it, ordinary
/// applications would be recorded with their headers only), at most 1 GiB (a batch of messages
/// is held in memory whole).
fn message_size(value: Option<u64>) -> Result<u64> {
    const MIN: u64 = 64 * 1024;
    const MAX: u64 = 1024 * 1024 * 1024;
    let size = value.unwrap_or(40 * 1024 * 1024);
    if !(MIN..=MAX).contains(&size) {
        bail!(
            "imap.max_message_size = {size} is out of range: it must be between {MIN} (64 KiB) and {MAX} (1 GiB) bytes \
             (larger mail is recorded with its headers only; the default is 41943040, 40 MiB)"
        );
    }
    Ok(size)
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
mod tests;
