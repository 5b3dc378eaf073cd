//! The mailbox side: one IMAP connection ([`Connection`]) that lists UIDs, fetches raw messages
//! and waits for new mail with IDLE.
//!
//! A connection is disposable: every command runs under a timeout, and on any error the caller
//! drops the connection and makes a new one (see [`crate::daemon`]). Messages are fetched with
//! `BODY.PEEK[]`, so nothing in the mailbox changes: staff read the same mailbox in webmail, and
//! the database, not the `\Seen` flag, says what has been processed.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use async_imap::extensions::idle::IdleResponse;
use async_imap::Session;
use futures::TryStreamExt;
use jiff::Timestamp;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::{Auth, ImapConfig, Secret, Security};
use crate::oauth2::{Mechanism, TokenError, TokenSource};

/// Any byte stream IMAP can run over (plain TCP or TLS).
pub trait ImapStream: AsyncRead + AsyncWrite + Unpin + Send + Sync + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + fmt::Debug> ImapStream for T {}

type Stream = Box<dyn ImapStream>;

mod batches;

pub use batches::{batches, FETCH_BATCH, FETCH_BATCH_BYTES};

/// How many UIDs one `UID FETCH (UID RFC822.SIZE)` asks about.
const SIZES_PER_COMMAND: usize = 1000;

/// A logged-in connection with the configured mailbox selected.
pub struct Connection {
    session: Session<Stream>,
    timeout: Duration,
    /// The IDLE watchdog period; see [`Connection::idle`].
    keepalive: Duration,
    has_idle: bool,
    has_move: bool,
    /// What the last `SELECT` said.
    selected: Option<Selected>,
    /// What the server offered and how we logged in, for `smebridge check`.
    report: ServerReport,
}

/// What `smebridge check` tells about the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerReport {
    /// The capabilities that matter to smebridge, as the server listed them after login
    /// (`IDLE`, `MOVE`, `UIDPLUS`, `CONDSTORE`, `X-GM-EXT-1`, …).
    pub capabilities: Vec<String>,
    /// The SASL mechanisms offered before login (`AUTH=…`).
    pub mechanisms: Vec<String>,
    /// How we logged in: `LOGIN`, `XOAUTH2` or `OAUTHBEARER`.
    pub login: &'static str,
}

/// What `SELECT` told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selected {
    pub uidvalidity: u32,
    pub exists: u32,
    /// The UID the next message will get, if the server said (it should, RFC 3501).
    pub uid_next: Option<u32>,
}

/// One message as the server holds it.
#[derive(Debug)]
pub struct Fetched {
    pub uid: u32,
    /// INTERNALDATE: when the message arrived at the server.
    pub arrived_at: Timestamp,
    pub raw: FetchedBytes,
    /// Set when the message was over the size limit and `raw` holds its headers only.
    pub original_size: Option<u64>,
}

/// The bytes of one fetched message (`BODY[]`, or `BODY[HEADER]` for a message over the size
/// limit), left in the IMAP response that carried them: the response's buffer is the only copy.
#[derive(Debug)]
pub struct FetchedBytes {
    response: async_imap::types::Fetch,
    header_only: bool,
}

impl AsRef<[u8]> for FetchedBytes {
    fn as_ref(&self) -> &[u8] {
        let bytes = if self.header_only { self.response.header() } else { self.response.body() };
        bytes.unwrap_or_default()
    }
}

/// How an IDLE round ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// The server said something changed.
    NewData,
    /// The wait ran out (time to re-issue IDLE or to retry a reply).
    Timeout,
    /// Shutdown was asked for.
    Shutdown,
    /// A staff command asked for a pass (`crate::daemon::NUDGE`).
    Nudged,
}

/// Failures a person can act on, told apart for `smebridge check`.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach {host}:{port}: {source}")]
    Unreachable { host: String, port: u16, source: std::io::Error },
    #[error("no answer from {host}:{port} within {seconds} s")]
    Timeout { host: String, port: u16, seconds: u64 },
    #[error("TLS with {host} failed: {detail}")]
    Tls {
        host: String,
        /// In words: wrong host name, expired certificate, unknown issuer…
        detail: String,
        source: std::io::Error,
    },
    /// The credentials are wrong (a person must act): a wrong password, a token the server
    /// refused even fresh, a refresh token the provider revoked.
    #[error("the login for {username} was refused: {detail}")]
    LoginRefused { username: String, detail: String },
    /// No token could be had for now (the provider or the token command failed).
    #[error("no OAuth2 access token for {username}: {detail}")]
    TokenUnavailable { username: String, detail: String },
    /// `security = "starttls"` and the server does not offer it: never a fallback to plain text.
    #[error("{host} does not offer STARTTLS, and security = \"starttls\" forbids going on without TLS (if it offered it before, someone may be stripping it)")]
    NoStartTls { host: String },
    #[error("the IMAP server misbehaved: {0}")]
    Protocol(String),
}

async fn bounded<T, E: Into<anyhow::Error>>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result.map_err(Into::into).with_context(|| format!("IMAP {what} failed")),
        Err(_) => bail!("IMAP {what} got no answer within {} s", limit.as_secs()),
    }
}

impl Connection {
    /// Connect, log in and select the mailbox.
    pub async fn open(config: &ImapConfig) -> Result<(Connection, Selected)> {
        let (session, mut report) = login(config).await?;
        let mut conn = Connection {
            session,
            timeout: config.timeout,
            keepalive: config.idle_keepalive,
            has_idle: false,
            has_move: false,
            selected: None,
            report: ServerReport::default(),
        };
        let caps = bounded(conn.timeout, "CAPABILITY", conn.session.capabilities()).await?;
        conn.has_idle = caps.has_str("IDLE");
        conn.has_move = caps.has_str("MOVE");
        report.capabilities = NOTABLE.iter().filter(|c| caps.has_str(c)).map(|c| (*c).to_owned()).collect();
        conn.report = report;
        let selected = conn.select(&config.mailbox).await?;
        Ok((conn, selected))
    }

    pub fn has_idle(&self) -> bool {
        self.has_idle
    }

    /// What the server offered and how we logged in.
    pub fn report(&self) -> &ServerReport {
        &self.report
    }

    /// INTERNALDATE of the newest message in the selected mailbox (the last by sequence
    /// number), `None` when it is empty. Reads, changes nothing.
    pub async fn newest_arrival(&mut self) -> Result<Option<Timestamp>> {
        if self.selected.is_none_or(|s| s.exists == 0) {
            return Ok(None);
        }
        let session = &mut self.session;
        let responses = bounded(self.timeout, "FETCH INTERNALDATE", async {
            session.fetch("*", "(UID INTERNALDATE)").await?.try_collect::<Vec<_>>().await
        })
        .await?;
        self.drain_unsolicited();
        let newest = responses.iter().filter_map(|r| r.internal_date()).map(|d| d.timestamp()).max();
        newest.map(|s| Timestamp::from_second(s).context("INTERNALDATE out of range")).transpose()
    }

    /// UIDNEXT as the `SELECT` of this connection reported it, the first time it is asked for;
    /// `None` afterwards. The value is a snapshot from the moment of the `SELECT`: a later sync
    /// on the same connection has seen newer UIDs since, and comparing them with the stale
    /// snapshot would look like UIDNEXT going backwards.
    pub fn take_uid_next(&mut self) -> Option<u32> {
        self.selected.as_mut().and_then(|s| s.uid_next.take())
    }

    /// `SELECT` the mailbox (read-write, so that later stages may move messages; nothing here
    /// changes flags: every fetch is a PEEK).
    pub async fn select(&mut self, mailbox: &str) -> Result<Selected> {
        let mb = bounded(self.timeout, "SELECT", self.session.select(mailbox))
            .await
            .with_context(|| format!("cannot open the mailbox {mailbox:?}"))?;
        self.drain_unsolicited();
        let uidvalidity = mb.uid_validity.ok_or_else(|| anyhow!("the server sent no UIDVALIDITY for {mailbox:?}"))?;
        let selected = Selected { uidvalidity, exists: mb.exists, uid_next: mb.uid_next };
        self.selected = Some(selected);
        Ok(selected)
    }

    /// Every UID in the selected mailbox.
    pub async fn uids(&mut self) -> Result<HashSet<u32>> {
        let uids = bounded(self.timeout, "UID SEARCH", self.session.uid_search("ALL")).await?;
        self.drain_unsolicited();
        Ok(uids)
    }

    /// Move messages to `target` (created if missing): `UID MOVE`, or COPY + `\Deleted` +
    /// `UID EXPUNGE` where the server has no MOVE. Safe to repeat: UIDs already gone are ignored
    /// by the server.
    pub async fn move_to(&mut self, uids: &[u32], target: &str) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        // Configured with '/', spelled with the server's hierarchy delimiter (Dovecot's maildir
        // uses '.').
        let session = &mut self.session;
        let names = bounded(self.timeout, "LIST", async {
            session.list(Some(""), Some("\"\"")).await?.try_collect::<Vec<_>>().await
        })
        .await?;
        let delimiter = names.first().and_then(|n| n.delimiter()).unwrap_or("/").to_owned();
        let target = target.replace('/', &delimiter);
        let target = target.as_str();
        // Fails harmlessly with [ALREADYEXISTS] when it is there.
        let _ = tokio::time::timeout(self.timeout, self.session.create(target)).await;
        let set = uid_set(uids);
        if self.has_move {
            bounded(self.timeout, "UID MOVE", self.session.uid_mv(&set, target)).await?;
        } else {
            bounded(self.timeout, "UID COPY", self.session.uid_copy(&set, target)).await?;
            let session = &mut self.session;
            bounded(self.timeout, "UID STORE", async {
                session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect::<Vec<_>>().await
            })
            .await?;
            let session = &mut self.session;
            bounded(self.timeout, "UID EXPUNGE", async {
                session.uid_expunge(&set).await?.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        self.drain_unsolicited();
        Ok(())
    }

    /// Is a message with this Message-ID (without angle brackets) in the selected mailbox?
    pub async fn has_message_id(&mut self, message_id: &str) -> Result<bool> {
        let quoted = message_id.replace(['\\', '"'], "");
        let query = format!("HEADER Message-ID \"<{quoted}>\"");
        let found = bounded(self.timeout, "UID SEARCH HEADER", self.session.uid_search(&query)).await?;
        self.drain_unsolicited();
        Ok(!found.is_empty())
    }

    /// The size (`RFC822.SIZE`) of each of these messages, as (UID, size) in the order of
    /// `uids`; UIDs the server did not return (expunged meanwhile) are absent. Nothing is
    /// downloaded: the sizes decide how the messages are fetched ([`batches`]).
    pub async fn sizes(&mut self, uids: &[u32]) -> Result<Vec<(u32, u64)>> {
        let mut found = std::collections::HashMap::with_capacity(uids.len());
        for chunk in uids.chunks(SIZES_PER_COMMAND) {
            let wanted: HashSet<u32> = chunk.iter().copied().collect();
            let set = uid_set(chunk);
            let session = &mut self.session;
            bounded(self.timeout, "UID FETCH RFC822.SIZE", async {
                let mut stream = session.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
                // Read as they come: only the two numbers of each response are kept.
                while let Some(response) = stream.try_next().await? {
                    if let (Some(uid), Some(size)) = (response.uid, response.size) {
                        if wanted.contains(&uid) {
                            found.insert(uid, u64::from(size));
                        }
                    }
                }
                anyhow::Ok(())
            })
            .await?;
            self.drain_unsolicited();
        }
        Ok(uids.iter().filter_map(|uid| found.get(uid).map(|&size| (*uid, size))).collect())
    }

    /// Fetch these messages (UID and size, from [`Connection::sizes`]): raw bytes and arrival
    /// time, reading every response to its end. Messages larger than `max_size` are fetched as
    /// headers only. UIDs the server did not return (expunged meanwhile) are absent from the
    /// result. Each message's bytes stay in the response that carried them (no copy is made).
    pub async fn fetch(&mut self, messages: &[(u32, u64)], max_size: u64) -> Result<Vec<Fetched>> {
        let (small, large): (Vec<_>, Vec<_>) = messages.iter().partition(|&&(_, size)| size <= max_size);
        let small: Vec<u32> = small.into_iter().map(|&(uid, _)| uid).collect();
        let mut fetched = Vec::with_capacity(messages.len());
        for response in self.fetch_items(&small, "(UID INTERNALDATE BODY.PEEK[])").await? {
            if let Some(message) = fetched_from(response, false, None)? {
                fetched.push(message);
            }
        }
        for &(uid, size) in large {
            warn!(uid, size, max_size, "message larger than the limit: recording its headers only");
            for response in self.fetch_items(&[uid], "(UID INTERNALDATE BODY.PEEK[HEADER])").await? {
                if let Some(message) = fetched_from(response, true, Some(size))? {
                    fetched.push(message);
                }
            }
        }
        fetched.sort_by_key(|f| f.uid);
        if fetched.len() < messages.len() {
            debug!(asked = messages.len(), got = fetched.len(), "some messages vanished before they could be fetched");
        }
        Ok(fetched)
    }

    /// One `UID FETCH`, collected to the end, keeping only responses for the UIDs asked for
    /// (the server may interleave unsolicited FETCHes, e.g. flag changes by staff).
    async fn fetch_items(&mut self, uids: &[u32], items: &str) -> Result<Vec<async_imap::types::Fetch>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let timeout = self.timeout;
        let session = &mut self.session;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let responses = bounded(timeout, "UID FETCH", async {
            let mut stream = session.uid_fetch(&set, items).await?;
            let mut kept = Vec::with_capacity(uids.len());
            while let Some(response) = stream.try_next().await? {
                if response.uid.is_some_and(|uid| wanted.contains(&uid)) {
                    kept.push(response);
                }
            }
            anyhow::Ok(kept)
        })
        .await?;
        self.drain_unsolicited();
        Ok(responses)
    }

    /// Wait for the server to report a change, for at most `wait`, or until `shutdown`.
    /// Consumes and returns the connection (IDLE takes the session over while it runs).
    ///
    /// The watchdog: a connection can die without a sound (a NAT or firewall drops it, the
    /// server process hangs), and IDLE would then wait the whole `wait` for nothing. So the wait
    /// is cut into rounds of at most `keepalive`; each round ends with `DONE`, which a live
    /// server must answer (bounded by `timeout`), and the next round issues IDLE again. A dead
    /// connection therefore fails within `keepalive + timeout` and the caller reconnects.
    /// Silence alone is not taken as death: RFC 2177 does not oblige a server to send anything
    /// while idling (Dovecot's `* OK Still here` is a courtesy, Gmail sends nothing), so a quiet
    /// server must be asked. The round trip every few minutes also keeps NAT mappings alive.
    pub async fn idle(self, wait: Duration, shutdown: &CancellationToken) -> Result<(Connection, Woken)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut conn = self;
        loop {
            let round = deadline.saturating_duration_since(tokio::time::Instant::now()).min(conn.keepalive);
            let (back, woken) = conn.idle_round(round, shutdown).await?;
            conn = back;
            if woken != Woken::Timeout {
                return Ok((conn, woken));
            }
            // Something may have arrived between the end of the round and DONE: such responses
            // land among the unsolicited ones, so look there before idling again.
            if conn.saw_changes() {
                return Ok((conn, Woken::NewData));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok((conn, Woken::Timeout));
            }
            debug!(keepalive_s = conn.keepalive.as_secs(), "IDLE keepalive: the server answered DONE; idling again");
        }
    }

    /// One IDLE command, for at most `limit`.
    async fn idle_round(self, limit: Duration, shutdown: &CancellationToken) -> Result<(Connection, Woken)> {
        let Connection { session, timeout, keepalive, has_idle, has_move, selected, report } = self;
        let mut handle = session.idle();
        bounded(timeout, "IDLE", handle.init()).await?;
        let woken = {
            // async-imap restarts its own timer on every untagged `OK` (keepalives), so a
            // chatty server would stretch the wait forever: the round is bounded from outside.
            let (wait_fut, stop) = handle.wait_with_timeout(limit);
            let woken = tokio::select! {
                response = wait_fut => match response.context("IDLE failed")? {
                    IdleResponse::NewData(_) => Woken::NewData,
                    IdleResponse::Timeout => Woken::Timeout,
                    IdleResponse::ManualInterrupt => Woken::Shutdown,
                },
                _ = tokio::time::sleep(limit) => Woken::Timeout,
                _ = shutdown.cancelled() => Woken::Shutdown,
            };
            drop(stop);
            woken
        };
        let session = bounded(timeout, "DONE", handle.done())
            .await
            .context("the IMAP connection did not answer: treating it as dead")?;
        let mut conn = Connection { session, timeout, keepalive, has_idle, has_move, selected, report };
        if woken != Woken::Timeout {
            conn.drain_unsolicited();
        }
        Ok((conn, woken))
    }

    /// Did the server report new or removed messages (EXISTS, RECENT, EXPUNGE) since the last
    /// command? Empties the unsolicited responses.
    fn saw_changes(&mut self) -> bool {
        use async_imap::types::UnsolicitedResponse as U;
        let mut changed = false;
        while let Ok(response) = self.session.unsolicited_responses.try_recv() {
            changed |= matches!(response, U::Exists(_) | U::Recent(_) | U::Expunge(_));
        }
        changed
    }

    /// Log out politely; errors are irrelevant at that point.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }

    /// Untagged responses we do not act on (EXISTS, EXPUNGE, FETCH flags) pile up in a bounded
    /// channel; empty it after every command.
    fn drain_unsolicited(&mut self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }
}

/// Capabilities `smebridge check` reports (and the daemon uses, for IDLE and MOVE).
const NOTABLE: &[&str] = &["IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "QRESYNC", "X-GM-EXT-1", "SPECIAL-USE"];

/// Connect, read the greeting, upgrade to TLS as configured, and log in.
async fn login(config: &ImapConfig) -> Result<(Session<Stream>, ServerReport)> {
    let host = config.host.as_str();
    let port = config.port;
    let limit = config.timeout;
    let timeout_err = || ConnectError::Timeout { host: host.to_owned(), port, seconds: limit.as_secs() };
    // A password that cannot be read is a local problem: say so before contacting the server.
    let password = match &config.auth {
        Auth::Password(source) => Some(source.reveal().context("cannot read the IMAP password")?),
        _ => None,
    };

    let tcp = tokio::time::timeout(limit, TcpStream::connect((host, port)))
        .await
        .map_err(|_| timeout_err())?
        .map_err(|source| ConnectError::Unreachable { host: host.to_owned(), port, source })?;
    tcp.set_nodelay(true).ok();

    let stream: Stream = match config.security {
        Security::Plain => Box::new(tcp),
        Security::Tls => tls_wrap(config, tcp).await?,
        Security::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            read_greeting(&mut client, limit).await.map_err(|_| timeout_err())?;
            // Never log in without TLS: a server (or someone in between) that does not offer
            // STARTTLS is an error, not a reason to go on in plain text.
            let caps = pre_login_capabilities(&mut client, limit).await?;
            if !caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS")) {
                return Err(ConnectError::NoStartTls { host: host.to_owned() }.into());
            }
            bounded(limit, "STARTTLS", client.run_command_and_check_ok("STARTTLS", None))
                .await
                .map_err(|e| ConnectError::Protocol(format!("STARTTLS refused: {e:#}")))?;
            tls_wrap(config, client.into_inner()).await?
        }
    };
    let mut client = async_imap::Client::new(stream);
    if config.security != Security::Starttls {
        read_greeting(&mut client, limit).await.map_err(|_| timeout_err())?;
    }
    let offered = pre_login_capabilities(&mut client, limit).await?;
    let mechanisms: Vec<String> = offered
        .iter()
        .filter_map(|c| c.strip_prefix("AUTH=").or(c.strip_prefix("auth=")))
        .map(str::to_ascii_uppercase)
        .collect();
    let (session, login) = match &config.auth {
        Auth::Password(_) => {
            let password = password.as_ref().context("cannot read the IMAP password")?;
            let session = tokio::time::timeout(limit, client.login(&config.username, password.expose()))
                .await
                .map_err(|_| timeout_err())?
                .map_err(|(e, _)| match e {
                    async_imap::error::Error::No(detail) | async_imap::error::Error::Bad(detail)
                        if throttled(&detail) =>
                    {
                        ConnectError::Protocol(format!("the server is throttling this mailbox ({detail})"))
                    }
                    async_imap::error::Error::No(detail) | async_imap::error::Error::Bad(detail) => {
                        ConnectError::LoginRefused {
                            username: config.username.clone(),
                            detail: format!("wrong username or password ({detail})"),
                        }
                    }
                    other => ConnectError::Protocol(other.to_string()),
                })?;
            (session, "LOGIN")
        }
        Auth::OAuth2(source) => {
            let sasl_ir = offered.iter().any(|c| c.eq_ignore_ascii_case("SASL-IR"));
            oauth2_login(config, client, source, &mechanisms, sasl_ir).await?
        }
    };
    info!(host, port, method = login, "logged in to IMAP");
    Ok((session, ServerReport { capabilities: Vec::new(), mechanisms, login }))
}

/// `CAPABILITY` before login: what the server offers (STARTTLS, `AUTH=` mechanisms, SASL-IR).
async fn pre_login_capabilities<T>(client: &mut async_imap::Client<T>, limit: Duration) -> Result<Vec<String>>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    use async_imap::imap_proto::{Capability, Response};
    let (tx, rx) = async_channel::bounded(16);
    bounded(limit, "CAPABILITY", client.run_command_and_check_ok("CAPABILITY", Some(tx))).await?;
    let mut caps = Vec::new();
    while let Ok(response) = rx.try_recv() {
        if let async_imap::types::UnsolicitedResponse::Other(data) = response {
            if let Response::Capabilities(list) = data.parsed() {
                caps.extend(list.iter().map(|c| match c {
                    Capability::Imap4rev1 => "IMAP4rev1".to_owned(),
                    Capability::Auth(mechanism) => format!("AUTH={mechanism}"),
                    Capability::Atom(atom) => atom.to_string(),
                }));
            }
        }
    }
    Ok(caps)
}

/// How one SASL exchange with a token ended.
enum Attempt {
    In(Session<Stream>),
    /// The server refused the token (it sent an error challenge, then NO): worth a new token.
    Refused(async_imap::Client<Stream>, String),
}

/// `AUTHENTICATE XOAUTH2` (or `OAUTHBEARER` where only that is offered) with a token from
/// `source`; when the server refuses the token, once more with a new one.
async fn oauth2_login(
    config: &ImapConfig,
    client: async_imap::Client<Stream>,
    source: &TokenSource,
    offered: &[String],
    sasl_ir: bool,
) -> Result<(Session<Stream>, &'static str)> {
    let username = || config.username.clone();
    let mechanism =
        Mechanism::choose(|m| offered.iter().any(|o| o == m)).ok_or_else(|| ConnectError::LoginRefused {
            username: username(),
            detail: format!(
                "the server offers no OAuth2 login (neither AUTHENTICATE XOAUTH2 nor OAUTHBEARER; it offers {}){}",
                if offered.is_empty() { "no SASL mechanism".to_owned() } else { offered.join(", ") },
                if config.security == Security::Plain { "; some servers offer it only over TLS" } else { "" }
            ),
        })?;
    let token = source.token().await.map_err(|e| token_error(config, e))?;
    let client = match authenticate(config, client, mechanism, &token, sasl_ir).await? {
        Attempt::In(session) => return Ok((session, mechanism.name())),
        Attempt::Refused(client, _) => client,
    };
    debug!(mechanism = mechanism.name(), "the IMAP server refused the access token; getting a new one");
    let token = source.renew(&token).await.map_err(|e| token_error(config, e))?;
    match authenticate(config, client, mechanism, &token, sasl_ir).await? {
        Attempt::In(session) => Ok((session, mechanism.name())),
        Attempt::Refused(_, detail) => Err(ConnectError::LoginRefused {
            username: username(),
            detail: format!(
                "the server refused the OAuth2 access token, also a new one ({detail}); the token must be for the \
                 account {} with the provider's IMAP scope, and IMAP must be enabled for the mailbox",
                config.username
            ),
        }
        .into()),
    }
}

fn token_error(config: &ImapConfig, e: TokenError) -> anyhow::Error {
    match e {
        TokenError::Refused(detail) => ConnectError::LoginRefused { username: config.username.clone(), detail }.into(),
        TokenError::Unavailable(detail) => {
            ConnectError::TokenUnavailable { username: config.username.clone(), detail }.into()
        }
    }
}

/// Answers the server's continuations: the client response when it was not sent with the
/// command (no SASL-IR), and the answer to an error challenge, noting that it came.
struct TokenAuthenticator {
    response: Option<Vec<u8>>,
    error_answer: &'static [u8],
    refused: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl async_imap::Authenticator for TokenAuthenticator {
    type Response = Vec<u8>;

    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        if let Some(response) = self.response.take() {
            return response;
        }
        self.refused.store(true, std::sync::atomic::Ordering::SeqCst);
        self.error_answer.to_vec()
    }
}

async fn authenticate(
    config: &ImapConfig,
    client: async_imap::Client<Stream>,
    mechanism: Mechanism,
    token: &Secret,
    sasl_ir: bool,
) -> Result<Attempt> {
    use base64::Engine as _;
    let response = mechanism.response(&config.username, token.expose(), &config.host, config.port);
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (command, first) = if sasl_ir {
        (format!("{} {}", mechanism.name(), base64::engine::general_purpose::STANDARD.encode(&response)), None)
    } else {
        (mechanism.name().to_owned(), Some(response))
    };
    let authenticator =
        TokenAuthenticator { response: first, error_answer: mechanism.answer_to_error(), refused: refused.clone() };
    let limit = config.timeout;
    let outcome = tokio::time::timeout(limit, client.authenticate(command, authenticator)).await.map_err(|_| {
        ConnectError::Timeout { host: config.host.clone(), port: config.port, seconds: limit.as_secs() }
    })?;
    match outcome {
        Ok(session) => Ok(Attempt::In(session)),
        Err((async_imap::error::Error::No(detail), client)) if refused.load(std::sync::atomic::Ordering::SeqCst) => {
            Ok(Attempt::Refused(client, detail))
        }
        Err((async_imap::error::Error::No(detail) | async_imap::error::Error::Bad(detail), _))
            if throttled(&detail) =>
        {
            Err(ConnectError::Protocol(format!("the server is throttling this mailbox ({detail})")).into())
        }
        // A NO without an error challenge: the server could not check the token now (Dovecot's
        // `[UNAVAILABLE]`, a provider's throttling). Not the token's fault; try later.
        Err((async_imap::error::Error::No(detail), _)) => Err(ConnectError::Protocol(format!(
            "the server could not check the login now ({detail}); trying again later"
        ))
        .into()),
        Err((async_imap::error::Error::Bad(detail), _)) => Err(ConnectError::LoginRefused {
            username: config.username.clone(),
            detail: format!("the server rejected AUTHENTICATE {} ({detail})", mechanism.name()),
        }
        .into()),
        Err((other, _)) => Err(ConnectError::Protocol(other.to_string()).into()),
    }
}

async fn read_greeting<T>(client: &mut async_imap::Client<T>, limit: Duration) -> Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    match tokio::time::timeout(limit, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => bail!("the server closed the connection before greeting"),
        Ok(Err(e)) => Err(e).context("reading the IMAP greeting"),
        Err(_) => bail!("no IMAP greeting"),
    }
}

async fn tls_wrap(config: &ImapConfig, tcp: TcpStream) -> Result<Stream> {
    let tls = crate::tls::client_config(config.ca_file.as_deref())?;
    let name = rustls::pki_types::ServerName::try_from(config.host.clone())
        .with_context(|| format!("{:?} is not a valid TLS server name", config.host))?;
    let stream = tokio::time::timeout(config.timeout, tokio_rustls::TlsConnector::from(tls).connect(name, tcp))
        .await
        .map_err(|_| ConnectError::Timeout {
            host: config.host.clone(),
            port: config.port,
            seconds: config.timeout.as_secs(),
        })?
        .map_err(|source| ConnectError::Tls {
            detail: crate::tls::explain_io(&source, &config.host),
            host: config.host.clone(),
            source,
        })?;
    Ok(Box::new(stream))
}

fn fetched_from(
    response: async_imap::types::Fetch,
    header_only: bool,
    original_size: Option<u64>,
) -> Result<Option<Fetched>> {
    let Some(uid) = response.uid else { return Ok(None) };
    let bytes = if header_only { response.header() } else { response.body() };
    if bytes.is_none() {
        warn!(uid, "the server returned no content for a message; it will be retried");
        return Ok(None);
    }
    let arrived_at = match response.internal_date() {
        Some(date) => Timestamp::from_second(date.timestamp()).context("INTERNALDATE out of range")?,
        None => bail!("the server sent no INTERNALDATE for UID {uid}"),
    };
    Ok(Some(Fetched { uid, arrived_at, raw: FetchedBytes { response, header_only }, original_size }))
}

/// Is this answer a server's throttling (Microsoft 365: `Request is throttled`)? Not a refusal
/// of the login: back off and try again.
fn throttled(detail: &str) -> bool {
    detail.to_ascii_lowercase().contains("throttl")
}

/// The longest wait a server's own backoff advice is followed for.
const MAX_SUGGESTED_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// How long the server asked us to stay away, if the error carries such advice: Microsoft 365
/// throttles IMAP with `BAD Request is throttled. Suggested Backoff Time: 201317 milliseconds`,
/// and reconnecting sooner only prolongs it. At most 15 minutes.
pub fn suggested_backoff(error: &anyhow::Error) -> Option<Duration> {
    let text = format!("{error:#}");
    let lower = text.to_ascii_lowercase();
    let at = lower.find("suggested backoff time:")? + "suggested backoff time:".len();
    let rest = lower[at..].trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let value: u64 = digits.parse().ok()?;
    let unit = rest[digits.len()..].trim_start();
    let wait = if unit.starts_with("ms") || unit.starts_with("milli") {
        Duration::from_millis(value)
    } else {
        Duration::from_secs(value)
    };
    Some(wait.min(MAX_SUGGESTED_BACKOFF))
}

/// `1,2,3,5,7,8` → `1:3,5,7:8`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_backoff_advice_is_read_and_capped() {
        let e = anyhow!("IMAP UID FETCH failed: Bad Response: code: None, info: Some(\"Request is throttled. Suggested Backoff Time: 201317 milliseconds\")");
        assert_eq!(suggested_backoff(&e), Some(Duration::from_millis(201_317)));
        let e = anyhow!("BAD Request is throttled. Suggested Backoff Time: 3600000 milliseconds");
        assert_eq!(suggested_backoff(&e), Some(MAX_SUGGESTED_BACKOFF));
        assert_eq!(suggested_backoff(&anyhow!("connection reset")), None);
    }

    #[test]
    fn uid_sets_are_compact_ranges() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[9, 4, 4, 5]), "4:5,9");
        assert_eq!(uid_set(&[42]), "42");
    }
}
