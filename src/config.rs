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

mod retention;
pub use retention::Retention;

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
struct RawEvent {
    /// Required in `[[event]]`; the single `[event]` defaults to [`EventId::DEFAULT`].
    id: Option<String>,
    name: String,
    opens: Option<String>,
    deadline: String,
    /// Required in the first event; later ones default to it.
    timezone: Option<String>,
    starts_at: String,
    venue: String,
    contact: Option<String>,
    capacity: Option<u32>,
    keywords: Option<Vec<String>>,
    announcement_message_id: Option<OneOrMany>,
    /// The end of the event for the calendar (default: three hours after `starts_at`).
    ends_at: Option<String>,
    /// How long before `starts_at` accepted applicants are reminded (`"1d"`; none by default).
    remind_before: Option<String>,
    /// How long after the end the thank-you goes out (`"1d"`; none by default).
    thank_you_after: Option<String>,
    /// How to get to the venue (shown in the reminder).
    directions: Option<String>,
    announcement_file: Option<PathBuf>,
}

/// The events as written: one `[event]` table or an array of `[[event]]` tables. Read by hand
/// rather than `#[serde(untagged)]`, so that a misspelt key inside still names itself.
#[derive(Debug)]
enum RawEvents {
    One(Box<RawEvent>),
    Many(Vec<RawEvent>),
}

impl<'de> Deserialize<'de> for RawEvents {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<RawEvents, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        struct Events;
        impl<'de> serde::de::Visitor<'de> for Events {
            type Value = RawEvents;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an [event] table or [[event]] tables")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<RawEvents, A::Error> {
                RawEvent::deserialize(MapAccessDeserializer::new(map)).map(|e| RawEvents::One(Box::new(e)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> std::result::Result<RawEvents, A::Error> {
                Vec::<RawEvent>::deserialize(SeqAccessDeserializer::new(seq)).map(RawEvents::Many)
            }
        }
        deserializer.deserialize_any(Events)
    }
}

/// `"x"` or `["x", "y"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
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

/// Where a secret comes from. The secret itself is read only when needed.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(SecretFile),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::File(file) => write!(f, "file:{file}"),
        }
    }
}

/// A file holding a secret: a path, or `credential:NAME` — the file `NAME` in the directory
/// systemd names in `$CREDENTIALS_DIRECTORY` for a unit with `LoadCredential=NAME:…`. The
/// directory is looked up when the secret is read, not when the configuration is loaded.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretFile {
    Path(PathBuf),
    Credential(String),
}

impl fmt::Display for SecretFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretFile::Path(path) => write!(f, "{}", path.display()),
            SecretFile::Credential(name) => write!(f, "credential:{name}"),
        }
    }
}

impl fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl SecretFile {
    /// `credential:NAME` or a path (relative paths from `base`).
    fn parse(key: &str, value: PathBuf, base: &Path) -> Result<SecretFile> {
        match value.to_str().and_then(|v| v.strip_prefix("credential:")) {
            Some(name) => {
                if name.is_empty() || name == "." || name == ".." || name.contains('/') {
                    bail!("{key} = \"credential:{name}\": the name after credential: must be a plain file name, as in LoadCredential={{name}}:/path");
                }
                Ok(SecretFile::Credential(name.to_owned()))
            }
            None if value.as_os_str().is_empty() => bail!("{key} must not be empty"),
            None if value.is_absolute() => Ok(SecretFile::Path(value)),
            None => Ok(SecretFile::Path(base.join(value))),
        }
    }

    /// Where the file is now: the path, or the credential in `$CREDENTIALS_DIRECTORY`.
    pub fn path(&self) -> Result<PathBuf> {
        self.path_in(std::env::var_os("CREDENTIALS_DIRECTORY"))
    }

    /// [`SecretFile::path`] with the credentials directory given.
    fn path_in(&self, credentials: Option<std::ffi::OsString>) -> Result<PathBuf> {
        match self {
            SecretFile::Path(path) => Ok(path.clone()),
            SecretFile::Credential(name) => match credentials {
                Some(dir) if !dir.is_empty() => Ok(Path::new(&dir).join(name)),
                _ => bail!(
                    "credential:{name} is read from $CREDENTIALS_DIRECTORY, which systemd sets for a service with \
                     LoadCredential={name}:/path/to/the/file; it is not set here (outside systemd, give the file's path instead)"
                ),
            },
        }
    }

    /// The file's first line (without its line ending); an empty one is an error. `what` names
    /// the secret in messages (`"the IMAP password"`).
    pub fn first_line(&self, what: &str) -> Result<Secret> {
        let path = self.path().with_context(|| format!("cannot read {what}"))?;
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {what} from {}", path.display()))?;
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if line.trim().is_empty() {
            bail!("{what} file {} is empty", path.display());
        }
        Ok(Secret(line.to_owned()))
    }
}

/// A password or token in memory. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

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
            SecretSource::File(file) => file.first_line("the password"),
        }
    }
}

/// How smebridge proves who it is to a mail server.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `LOGIN` / `AUTH PLAIN` with a password (an app password at most providers).
    Password(SecretSource),
    /// SASL `XOAUTH2` / `OAUTHBEARER` with an OAuth 2.0 access token from this source (shared by
    /// IMAP and SMTP with `[smtp] auth = "same-as-imap"`, so one token serves both).
    OAuth2(Arc<TokenSource>),
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
pub struct EventConfig {
    /// `ws-2211`: in the database, in subject tags and plus-addresses, in staff commands.
    pub id: EventId,
    pub name: String,
    /// Mail that arrived at the server before this instant is recorded and never answered
    /// (`None`: applications are taken from the start).
    pub opens: Option<Timestamp>,
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
    /// Words in a subject or text that name this event (routing, see [`crate::domain::route`]).
    pub keywords: Vec<String>,
    /// Message-IDs (without angle brackets) of the announcements staff sent for this event: a
    /// reply or forward in their thread is for this event.
    pub announcement_message_ids: Vec<String>,
    /// The end of the event, for the calendar ([`DEFAULT_LENGTH`] after `starts_at` unless set).
    pub ends_at: Timestamp,
    /// Accepted applicants are reminded this long before `starts_at` (`None`: no reminder).
    pub remind_before: Option<SignedDuration>,
    /// The thank-you goes out this long after `ends_at` (`None`: none).
    pub thank_you_after: Option<SignedDuration>,
    /// How to get to the venue, for the reminder.
    pub directions: Option<String>,
    /// The announcement the center sent (`announcement_file`, an `.eml` or text), read at load:
    /// its text is never taken for an applicant's, and values typed into its quoted form are.
    pub announcement: Option<std::sync::Arc<crate::parse::Announcement>>,
}

/// How long an event lasts when `ends_at` is not set: three hours.
pub const DEFAULT_LENGTH: SignedDuration = SignedDuration::from_hours(3);

impl EventConfig {
    /// The event's times, as the reminder and the thank-you see them.
    pub fn times(&self) -> crate::domain::EventTimes {
        crate::domain::EventTimes {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            remind_before: self.remind_before,
            thank_you_after: self.thank_you_after,
        }
    }

    /// The event as [`crate::domain::route`] sees it.
    pub fn routing(&self) -> EventRouting<'_> {
        EventRouting { id: &self.id, opens: self.opens, deadline: self.deadline, keywords: &self.keywords }
    }
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
            let timeout = duration("imap.timeout", r.timeout, 30)?;
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
                poll_interval: duration("imap.poll_interval", r.poll_interval, 60)?,
                idle_timeout: duration("imap.idle_timeout", r.idle_timeout, 10 * 60)?,
                idle_keepalive: duration("imap.idle_keepalive", r.idle_keepalive, 2 * 60)?,
                timeout,
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
            let timeout = duration("smtp.timeout", r.timeout, 60)?;
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
                sending_grace: duration("smtp.sending_grace", r.sending_grace, 120)?,
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

/// Without `opens`, a first start answers at most this many messages already in the mailbox
/// without `--accept-backlog`.
pub const DEFAULT_BACKLOG_LIMIT: u64 = 50;

/// The events, validated: `[event]` (its id defaults to [`EventId::DEFAULT`]) or `[[event]]`
/// (each with its own id). Keys in messages are `event.deadline` for the single form and
/// `event[2].deadline` for the second of several.
fn events(raw: RawEvents, resolve: impl Fn(PathBuf) -> PathBuf) -> Result<Vec<EventConfig>> {
    let (single, raws) = match raw {
        RawEvents::One(event) => (true, vec![*event]),
        RawEvents::Many(events) => (false, events),
    };
    if raws.is_empty() {
        bail!("[[event]] is empty: at least one event takes applications");
    }
    let mut events: Vec<EventConfig> = Vec::with_capacity(raws.len());
    for (n, r) in raws.into_iter().enumerate() {
        let key = |name: &str| if single { format!("event.{name}") } else { format!("event[{}].{name}", n + 1) };
        let id = match (&r.id, single) {
            (Some(id), _) => EventId::parse(id).with_context(|| key("id"))?,
            (None, true) => EventId::default_id(),
            (None, false) => bail!("{} is missing: each [[event]] needs a short id such as \"ws-2211\"", key("id")),
        };
        if events.iter().any(|e| e.id == id) {
            bail!("{} {:?} is used by two events; each event needs its own id", key("id"), id.as_str());
        }
        let (timezone, timezone_name) = match (&r.timezone, events.first()) {
            (Some(name), _) => (
                jiff::tz::db()
                    .get(name)
                    .with_context(|| format!("{} {name:?} is not a known time zone", key("timezone")))?,
                name.clone(),
            ),
            (None, Some(first)) => (first.timezone.clone(), first.timezone_name.clone()),
            (None, None) => bail!("{} is missing, e.g. \"Asia/Seoul\"", key("timezone")),
        };
        let deadline = timestamp(&key("deadline"), &r.deadline)?;
        let starts_at = timestamp(&key("starts_at"), &r.starts_at)?;
        if starts_at < deadline {
            bail!(
                "{} ({}) is before {} ({}): applications would still be taken after the workshop began; check both dates",
                key("starts_at"),
                r.starts_at,
                key("deadline"),
                r.deadline
            );
        }
        let opens = r.opens.as_deref().map(|o| timestamp(&key("opens"), o)).transpose()?;
        if let (Some(opens), Some(text)) = (opens, &r.opens) {
            if opens >= deadline {
                bail!(
                    "{} ({text}) is not before {} ({}): no mail could ever be on time",
                    key("opens"),
                    key("deadline"),
                    r.deadline
                );
            }
        }
        let keywords = r.keywords.unwrap_or_default();
        if keywords.iter().any(|k| k.trim().is_empty()) {
            bail!("{} has an empty keyword", key("keywords"));
        }
        let announcement_message_ids = match r.announcement_message_id {
            None => Vec::new(),
            Some(OneOrMany::One(id)) => vec![id],
            Some(OneOrMany::Many(ids)) => ids,
        }
        .iter()
        .map(|id| {
            let bare = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
            if bare.is_empty() || !bare.contains('@') || bare.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
            {
                bail!(
                    "{} {id:?} is not a Message-ID like \"<announcement-1@kaist.ac.kr>\"",
                    key("announcement_message_id")
                );
            }
            Ok(bare.to_owned())
        })
        .collect::<Result<Vec<_>>>()?;
        let ends_at = match &r.ends_at {
            Some(text) => timestamp(&key("ends_at"), text)?,
            None => starts_at
                .checked_add(DEFAULT_LENGTH)
                .with_context(|| format!("{} is out of range", key("starts_at")))?,
        };
        if ends_at <= starts_at {
            bail!(
                "{} ({}) is not after {} ({})",
                key("ends_at"),
                r.ends_at.as_deref().unwrap_or_default(),
                key("starts_at"),
                r.starts_at
            );
        }
        let remind_before = r.remind_before.as_deref().map(|t| event_duration(&key("remind_before"), t)).transpose()?;
        let thank_you_after =
            r.thank_you_after.as_deref().map(|t| event_duration(&key("thank_you_after"), t)).transpose()?;
        let directions = r.directions.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        events.push(EventConfig {
            id,
            name: non_empty(&key("name"), &r.name)?,
            opens,
            deadline,
            timezone,
            timezone_name,
            starts_at,
            venue: non_empty(&key("venue"), &r.venue)?,
            contact: r.contact,
            capacity: r.capacity,
            keywords: keywords.into_iter().map(|k| k.trim().to_owned()).collect(),
            announcement_message_ids,
            ends_at,
            remind_before,
            thank_you_after,
            directions,
            announcement: r
                .announcement_file
                .map(|f| announcement(&key("announcement_file"), &resolve(f)))
                .transpose()?,
        });
    }
    Ok(events)
}

/// The announcement in `file`, which must hold some text.
fn announcement(key: &str, file: &Path) -> Result<std::sync::Arc<crate::parse::Announcement>> {
    let raw = std::fs::read(file).with_context(|| format!("cannot read {key} {}", file.display()))?;
    let announcement = crate::parse::Announcement::read(&raw);
    if announcement.is_empty() {
        bail!("{key} {} holds no text", file.display());
    }
    Ok(std::sync::Arc::new(announcement))
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

/// A positive duration of an event's schedule: `"1d"` (a day counts as 24 hours), `"12h"`,
/// `"90m"`, as the other duration keys write them.
fn event_duration(key: &str, text: &str) -> Result<SignedDuration> {
    let span: jiff::Span =
        text.parse().with_context(|| format!("{key} {text:?} is not a duration like \"1d\" or \"12h\""))?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .with_context(|| format!("{key} {text:?} is not a duration like \"1d\" or \"12h\""))?;
    if d <= SignedDuration::ZERO {
        bail!("{key} must be longer than zero");
    }
    Ok(d)
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

/// The login keys a `[imap]` or `[smtp]` section may hold; at most one kind is used.
struct RawLogin {
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    oauth2: Option<RawOAuth2>,
    token_command: Option<Vec<String>>,
}

/// The section's login, if it has one. `timeout` bounds a token refresh or token command.
fn auth(section: &str, login: RawLogin, base: &Path, timeout: Duration) -> Result<Option<Auth>> {
    let given: Vec<&str> = [
        ("password_env", login.password_env.is_some()),
        ("password_file", login.password_file.is_some()),
        ("oauth2", login.oauth2.is_some()),
        ("token_command", login.token_command.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect();
    if given.len() > 1 {
        bail!("[{section}] has {}; keep one way to log in", given.join(" and "));
    }
    if let Some(name) = login.password_env {
        return Ok(Some(Auth::Password(SecretSource::Env(non_empty(&format!("{section}.password_env"), &name)?))));
    }
    if let Some(path) = login.password_file {
        let file = SecretFile::parse(&format!("{section}.password_file"), path, base)?;
        return Ok(Some(Auth::Password(SecretSource::File(file))));
    }
    if let Some(argv) = login.token_command {
        if argv.first().is_none_or(|program| program.trim().is_empty()) {
            bail!("{section}.token_command must name a program, as in [\"oama\", \"access\", \"user@example.org\"]");
        }
        return Ok(Some(Auth::OAuth2(Arc::new(TokenSource::command(argv, timeout)))));
    }
    if let Some(raw) = login.oauth2 {
        let key = |name: &str| format!("{section}.oauth2.{name}");
        let settings = oauth2::Settings::new(oauth2::RawSettings {
            provider: raw.provider,
            client_id: non_empty(&key("client_id"), &raw.client_id)?,
            client_secret: raw
                .client_secret_file
                .map(|p| SecretFile::parse(&key("client_secret_file"), p, base))
                .transpose()?,
            refresh_token: SecretFile::parse(&key("refresh_token_file"), raw.refresh_token_file, base)?,
            tenant: raw.tenant,
            token_url: raw.token_url,
            auth_url: raw.auth_url,
            device_url: raw.device_url,
            scopes: raw.scopes,
        })
        .with_context(|| format!("[{section}] oauth2"))?;
        return Ok(Some(Auth::OAuth2(Arc::new(TokenSource::refreshing(settings, timeout)))));
    }
    Ok(None)
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
        let seoul = &config.events[0].timezone;
        let deadline = config.events[0].deadline.to_zoned(seoul.clone());
        assert_eq!(deadline.strftime("%Y-%m-%d %H:%M:%S").to_string(), "2022-11-17 23:59:59");
        let starts = config.events[0].starts_at.to_zoned(seoul.clone());
        assert_eq!(starts.strftime("%A %Y-%m-%d %H:%M").to_string(), "Friday 2022-11-18 13:30");
        assert_eq!(config.events[0].venue, "Banyan Tree Club & Spa Seoul, Festa Hall");
        assert_eq!(
            config.events[0].name,
            "중소기업 기술혁신을 위한 산학협력 전략 및 사례 공유 워크숍 (Industry-University Cooperation Strategies and Cases for SME Technology Innovation)"
        );
        assert_eq!(config.center.name, "중소기업 R&D 공유센터");
        assert_eq!(config.center.name_en, "SME R&D Sharing Center");
        assert_eq!(config.smtp.from.name.as_deref(), Some("중소기업 R&D 공유센터"));
        assert_eq!(config.own_address().as_str(), "smebridge@kaist.ac.kr");
        assert_eq!(config.imap.mailbox, "INBOX");
        assert!(config.database.path.is_absolute());
    }

    #[test]
    fn the_center_defaults_to_the_from_name_and_its_english_name_to_the_korean_one() {
        let without = |text: &str| {
            text.lines()
                .filter(|l| !l.starts_with("name = \"중소기업 R&D 공유센터\"") && !l.starts_with("name_en ="))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let config = load(&without(EXAMPLE)).unwrap();
        assert_eq!(config.center.name, "중소기업 R&D 공유센터", "the display name of [smtp] from");
        assert_eq!(config.center.name_en, "중소기업 R&D 공유센터");
        let bare = without(EXAMPLE)
            .replace("from = \"중소기업 R&D 공유센터 <smebridge@kaist.ac.kr>\"", "from = \"smebridge@kaist.ac.kr\"");
        assert_eq!(load(&bare).unwrap().center.name, "smebridge@kaist.ac.kr");
        let text = EXAMPLE.replace("name_en = \"SME R&D Sharing Center\"", "name_en = \" \"");
        assert!(format!("{:#}", load(&text).unwrap_err()).contains("center.name_en must not be empty"));
        let text = EXAMPLE.replace("[center]", "[center]\nmotto = \"x\"");
        assert!(format!("{:#}", load(&text).unwrap_err()).contains("motto"));
    }

    #[test]
    fn the_several_events_example_commented_in_the_shipped_configuration_is_valid() {
        // The [event] table replaced by the commented [[event]] tables below it, uncommented.
        let start = EXAMPLE.find("\n[event]\n").unwrap();
        let end = start + 1 + EXAMPLE[start + 1..].find("\n[staff]\n").unwrap();
        let example: Vec<&str> = EXAMPLE[start..end]
            .lines()
            .skip_while(|l| *l != "# [[event]]")
            .map(|l| if l == "#" { "" } else { l.strip_prefix("# ").unwrap() })
            .collect();
        let text = format!("{}\n{}\n{}", &EXAMPLE[..start], example.join("\n"), &EXAMPLE[end..]);
        let config = load(&text).unwrap();
        let ids: Vec<&str> = config.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["main", "sem-2212"]);
        let (workshop, seminar) = (&config.events[0], &config.events[1]);
        assert_eq!(workshop.announcement_message_ids, ["announce-ws-2211@kaist.ac.kr"]);
        assert_eq!(workshop.keywords, ["산학협력", "워크숍", "workshop"]);
        assert_eq!(workshop.opens, None);
        assert_eq!(seminar.opens, Some("2022-11-01T00:00:00Z".parse().unwrap()));
        assert_eq!(seminar.timezone_name, "Asia/Seoul", "the first event's time zone");
        assert_eq!(seminar.capacity, Some(40));
        assert!(config.several_events());
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
    fn an_event_ends_three_hours_after_it_starts_unless_it_says_and_never_before() {
        let event = |text: &str| load(text).map(|c| c.events[0].clone());
        let workshop = event(EXAMPLE).unwrap();
        assert_eq!(workshop.ends_at, "2022-11-18T16:30:00+09:00".parse().unwrap());
        assert_eq!((workshop.remind_before, workshop.thank_you_after, workshop.directions), (None, None, None));
        let starts = "starts_at = \"2022-11-18T13:30:00+09:00\"";
        let with = |extra: &str| EXAMPLE.replacen(starts, &format!("{starts}\n{extra}"), 1);
        let set = event(&with(
            "ends_at = \"2022-11-18T18:00:00+09:00\"\nremind_before = \"1d\"\nthank_you_after = \"36h\"\ndirections = \" 3호선 동대입구역 \"",
        ))
        .unwrap();
        assert_eq!(set.ends_at, "2022-11-18T18:00:00+09:00".parse().unwrap());
        assert_eq!(set.remind_before, Some(SignedDuration::from_hours(24)));
        assert_eq!(set.thank_you_after, Some(SignedDuration::from_hours(36)));
        assert_eq!(set.directions.as_deref(), Some("3호선 동대입구역"));
        let err = format!("{:#}", load(&with("ends_at = \"2022-11-18T13:30:00+09:00\"")).unwrap_err());
        assert!(err.contains("event.ends_at") && err.contains("not after event.starts_at"), "{err}");
        for bad in ["\"soon\"", "\"0d\"", "\"-1d\""] {
            let err = format!("{:#}", load(&with(&format!("remind_before = {bad}"))).unwrap_err());
            assert!(err.contains("event.remind_before"), "{bad}: {err}");
        }
    }

    #[test]
    fn an_announcement_file_is_read_at_load_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let text = EXAMPLE.replacen("\n[event]\n", "\n[event]\nannouncement_file = \"announcement.txt\"\n", 1);
        let load_in = |dir: &Path| Config::from_toml(&text, &dir.join("smebridge.toml"), dir);
        let err = format!("{:#}", load_in(dir.path()).unwrap_err());
        assert!(err.contains("event.announcement_file") && err.contains("announcement.txt"), "{err}");
        std::fs::write(dir.path().join("announcement.txt"), "[참가 신청서]\n■ 성 명 :\n■ 소 속 :\n").unwrap();
        let config = load_in(dir.path()).unwrap();
        let announcement = config.events[0].announcement.as_ref().expect("read at load");
        assert_eq!(announcement.len(), 3);
        assert!(load(EXAMPLE).unwrap().events[0].announcement.is_none(), "optional");

        // Each of several events has its own.
        let second = "[[event]]\nid = \"sem-2212\"\nname = \"AI 세미나\"\ndeadline = \"2022-12-08T23:59:59+09:00\"\n\
                      starts_at = \"2022-12-09T10:00:00+09:00\"\nvenue = \"KAIST\"\nannouncement_file = \"seminar.txt\"\n\n[staff]\n";
        let text = EXAMPLE
            .replacen("\n[event]\n", "\n[[event]]\nid = \"ws-2211\"\nannouncement_file = \"announcement.txt\"\n", 1)
            .replacen("\n[staff]\n", &format!("\n{second}"), 1);
        let load_in = |dir: &Path| Config::from_toml(&text, &dir.join("smebridge.toml"), dir);
        let err = format!("{:#}", load_in(dir.path()).unwrap_err());
        assert!(err.contains("event[2].announcement_file") && err.contains("seminar.txt"), "{err}");
        std::fs::write(dir.path().join("seminar.txt"), "[세미나 신청]\n■ 성 명 :\n").unwrap();
        let config = load_in(dir.path()).unwrap();
        let lines: Vec<usize> = config.events.iter().filter_map(|e| e.announcement.as_ref()).map(|a| a.len()).collect();
        assert_eq!(lines, [3, 2]);
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret("hunter2".into());
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    /// The example's login lines (the passwords as systemd credentials).
    const IMAP_LOGIN: &str = "password_file = \"credential:imap-password\"   # /etc/credstore/smebridge.imap-password";
    const SMTP_LOGIN: &str = "password_file = \"credential:smtp-password\"   # /etc/credstore/smebridge.smtp-password";

    fn with_imap_login(login: &str) -> String {
        assert!(EXAMPLE.contains(IMAP_LOGIN) && EXAMPLE.contains(SMTP_LOGIN), "the example's login lines changed");
        EXAMPLE.replacen(IMAP_LOGIN, login, 1)
    }

    #[test]
    fn imap_may_log_in_with_oauth2_and_smtp_may_share_it() {
        let text = with_imap_login(
            r#"oauth2 = { provider = "microsoft", client_id = "app-1", refresh_token_file = "/var/lib/smebridge/refresh" }"#,
        )
        .replace(&format!("username = \"smebridge@kaist.ac.kr\"\n{SMTP_LOGIN}"), "auth = \"same-as-imap\"");
        let config = load(&text).unwrap();
        let Auth::OAuth2(imap) = &config.imap.auth else { panic!("{:?}", config.imap.auth) };
        let Some((user, Auth::OAuth2(smtp))) = &config.smtp.credentials else {
            panic!("{:?}", config.smtp.credentials)
        };
        assert_eq!(user, "smebridge@kaist.ac.kr");
        assert!(Arc::ptr_eq(imap, smtp), "one token source for both");
        let shown = format!("{:?}", config.imap.auth);
        assert!(shown.contains("microsoft") && shown.contains("/var/lib/smebridge/refresh"), "{shown}");
    }

    #[test]
    fn one_login_per_section_and_same_as_imap_takes_no_other_login() {
        let text = with_imap_login("password_file = \"pw\"\ntoken_command = [\"oama\", \"access\", \"x\"]");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("[imap] has password_file and token_command; keep one"), "{err}");

        let text = EXAMPLE.replacen(SMTP_LOGIN, "auth = \"same-as-imap\"", 1);
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("same-as-imap") && err.contains("remove the other login keys"), "{err}");

        let text = with_imap_login("token_command = []");
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("imap.token_command must name a program"), "{err}");
    }

    #[test]
    fn the_same_refresh_token_file_in_two_sections_is_refused() {
        let table =
            r#"oauth2 = { provider = "google", client_id = "c", client_secret_file = "s", refresh_token_file = "rt" }"#;
        let text = with_imap_login(table).replacen(SMTP_LOGIN, table, 1);
        let err = format!("{:#}", load(&text).unwrap_err());
        assert!(err.contains("same refresh_token_file") && err.contains("same-as-imap"), "{err}");
    }

    #[test]
    fn credential_files_are_resolved_in_the_systemd_credentials_directory_when_read() {
        let file = SecretFile::parse("k", PathBuf::from("credential:imap-password"), Path::new("/etc")).unwrap();
        assert_eq!(file.to_string(), "credential:imap-password");
        let err = format!("{:#}", file.path_in(None).unwrap_err());
        assert!(err.contains("$CREDENTIALS_DIRECTORY") && err.contains("LoadCredential=imap-password"), "{err}");
        let path = file.path_in(Some("/run/credentials/smebridge.service".into())).unwrap();
        assert_eq!(path, Path::new("/run/credentials/smebridge.service/imap-password"));
        // Read as a password: the first line, whatever follows.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "from-systemd\r\nignored\n").unwrap();
        let plain = SecretFile::Path(dir.path().join("pw"));
        assert_eq!(plain.first_line("the IMAP password").unwrap().expose(), "from-systemd");
        std::fs::write(dir.path().join("pw"), "\n").unwrap();
        assert!(format!("{:#}", plain.first_line("the IMAP password").unwrap_err()).contains("is empty"));

        for bad in ["credential:", "credential:../x", "credential:a/b"] {
            assert!(SecretFile::parse("k", PathBuf::from(bad), Path::new("/etc")).is_err(), "{bad}");
        }
        assert_eq!(
            SecretFile::parse("k", PathBuf::from("pw"), Path::new("/etc")).unwrap(),
            SecretFile::Path(PathBuf::from("/etc/pw"))
        );
        let text = with_imap_login("password_file = \"credential:imap-password\"");
        let config = load(&text).unwrap();
        assert!(matches!(config.imap.auth, Auth::Password(SecretSource::File(SecretFile::Credential(_)))));
    }
}
