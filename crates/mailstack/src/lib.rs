//! A private, real mail stack for integration tests and demos.
//!
//! [`MailStack::start`] launches a **Dovecot** (IMAP + LMTP) and a **Postfix**
//! (SMTP) instance on free loopback ports, with all configuration, queues,
//! mailboxes and logs in a temporary directory. Many stacks can run side by
//! side (one per test; `cargo test` runs tests in parallel threads).
//!
//! * Postfix accepts mail from 127.0.0.1 for **any recipient in any domain**
//!   and delivers it over LMTP into Dovecot.
//! * Dovecot accepts **any user name** (the full address, e.g.
//!   `kim@applicant.example`) with the password [`PASSWORD`]. A new address is
//!   a new, empty mailbox. User names are lower-cased (Dovecot's default
//!   `auth_username_format = %Lu`), so `Kim@Example` and `kim@example` are the
//!   same mailbox. A `+detail` in an LMTP recipient is stripped by Dovecot
//!   (`kim+x@a` is delivered to `kim@a`'s INBOX).
//! * Mail lives in `DIR/mail/<user>/Maildir`, owned by the `dovecot` user.
//! * Postfix also offers SMTP AUTH (PLAIN, LOGIN; checked by Dovecot over SASL,
//!   so any user name with [`PASSWORD`]); it is optional: mail from loopback
//!   is relayed without it.
//!
//! Requirements: running as root on Linux, with the Debian packages
//! `dovecot-imapd dovecot-lmtpd postfix` installed. The system instances need
//! not run (they do not get in the way either); nothing under /etc is read or
//! changed.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use mailstack::{client, MailStack};
//!
//! let stack = MailStack::start()?;
//! client::send_raw(stack.host(), stack.smtp_port(), "a@example.org", &["kim@applicant.example"],
//!     b"Subject: hi\r\n\r\nhello\r\n").await?;
//! let mails = client::wait_for_mail(stack.host(), stack.imap_port(), "kim@applicant.example", 1,
//!     Duration::from_secs(10)).await?;
//! assert_eq!(mails.len(), 1);
//! # Ok(()) }
//! ```
//!
//! Teardown: dropping the [`MailStack`] stops both servers (SIGTERM, then
//! SIGKILL of their whole process groups; it takes some 10-30 ms) and removes
//! the temporary directory. If the owning process dies without unwinding
//! (SIGKILL, `panic = "abort"`, Ctrl-C), a small watchdog `sh` per server
//! kills the server's process group and removes the temporary directory.
//! Set `MAILSTACK_KEEP=1` to keep the temporary directory of [`MailStack::start`]
//! for inspection (its path is printed to stderr).
//!
//! One stack per directory at a time: [`MailStack::start_in`] on a directory
//! that a running stack uses breaks that stack.

#![warn(missing_docs)]

pub mod client;
mod config;
mod delivery;
pub mod desk;
pub mod oauth2;
mod process;
mod servers;
mod tls;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::process::{make_dir, ServerProcess};
use crate::servers::is_port_conflict;

/// The password of every Dovecot user.
pub const PASSWORD: &str = "secret";

/// The address every server listens on.
pub const HOST: &str = "127.0.0.1";

const DOVECOT_BIN: &str = "/usr/sbin/dovecot";
const POSTFIX_MASTER_BIN: &str = "/usr/lib/postfix/sbin/master";
const POSTQUEUE_BIN: &str = "/usr/sbin/postqueue";
/// While waiting for delivery, flush the Postfix queue this often.
const FLUSH_EVERY: Duration = Duration::from_secs(2);

/// How long a server may take to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a server gets to shut down cleanly before it is SIGKILLed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Attempts at starting with fresh ports when a port turned out to be taken.
const PORT_ATTEMPTS: usize = 5;
/// Log lines included in error messages.
const LOG_TAIL_LINES: usize = 40;

/// What kind of stack to start; [`Options::default`] is the usual one (passwords, a good
/// certificate, TLS offered).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// OAuth2 only: Dovecot checks bearer tokens (SASL `XOAUTH2`, `OAUTHBEARER`) with this
    /// token introspection endpoint (RFC 7662, e.g. [`oauth2::FakeProvider::introspection_url`])
    /// and offers no other login, for IMAP and for Postfix's SMTP AUTH alike. The password
    /// helpers of [`client`] cannot log in to such a stack; read mail from the Maildirs.
    pub oauth2_introspection: Option<String>,
    /// With [`oauth2_introspection`](Self::oauth2_introspection): offer only `OAUTHBEARER`
    /// (RFC 7628), not `XOAUTH2`.
    pub oauthbearer_only: bool,
    /// The certificate both servers present.
    pub certificate: Certificate,
    /// Offer no TLS at all: no STARTTLS (Dovecot `ssl = no`, Postfix security level `none`),
    /// no IMAPS and no SMTPS; submission then offers AUTH in clear.
    pub no_tls: bool,
}

/// The server certificate, signed by the stack's CA ([`MailStack::ca_file`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Certificate {
    /// Valid, for `localhost` and 127.0.0.1.
    #[default]
    Good,
    /// Valid, but for `wrong.example` only.
    WrongHost,
    /// For `localhost` and 127.0.0.1, but expired on 2 January 2020.
    Expired,
}

impl Certificate {
    fn file_stem(self) -> &'static str {
        match self {
            Certificate::Good => "server",
            Certificate::WrongHost => "wronghost",
            Certificate::Expired => "expired",
        }
    }
}

/// Where a stack's data lives: either a temporary directory (removed on drop)
/// or a caller-provided one (kept).
enum Root {
    Temp(TempDir),
    Given(PathBuf),
}

impl Root {
    fn path(&self) -> &Path {
        match self {
            Root::Temp(t) => t.path(),
            Root::Given(p) => p,
        }
    }
}

/// A running Dovecot + Postfix pair. See the [crate docs](crate).
///
/// Layout of [`dir()`](MailStack::dir):
///
/// ```text
/// log/postfix.log        Postfix log (maillog_file = /dev/stdout) + stderr
/// log/dovecot.log        Dovecot log_path + stdout/stderr
/// postfix/etc/           main.cf, master.cf
/// postfix/queue/         queue_directory
/// postfix/data/          data_directory
/// dovecot/dovecot.conf
/// dovecot/run/           base_dir (wiped before each start)
/// dovecot/state/         state_dir
/// mail/<user>/Maildir/   mailboxes
/// ports                  the ports of the current run, for humans
/// ```
pub struct MailStack {
    /// Unique id of this stack; appears in greetings, banners and `ps`.
    token: String,
    imap_port: u16,
    /// IMAP over TLS from the first byte (the plain `imap_port` also offers STARTTLS).
    imaps_port: u16,
    lmtp_port: u16,
    /// Dovecot's SASL authentication service, for Postfix's SMTP AUTH.
    auth_port: u16,
    smtp_port: u16,
    /// Submission (STARTTLS required, AUTH required to relay).
    submission_port: u16,
    /// SMTPS (implicit TLS, AUTH required to relay).
    smtps_port: u16,
    options: Options,
    dovecot: Option<ServerProcess>,
    postfix: Option<ServerProcess>,
    /// Dovecot's base_dir, if the data dir's path is too long for unix
    /// socket names (kept alive here, removed on drop).
    short_run_dir: Option<TempDir>,
    // Declared last: dropped after the servers are stopped.
    root: Root,
}

impl MailStack {
    /// Starts a stack in a fresh temporary directory (removed on drop, unless
    /// the environment variable `MAILSTACK_KEEP` is set).
    pub fn start() -> Result<MailStack> {
        Self::start_with(Options::default())
    }

    /// Starts a stack of the given kind (see [`Options`]) in a fresh temporary directory.
    pub fn start_with(options: Options) -> Result<MailStack> {
        let tmp = tempfile::Builder::new().prefix("mailstack-").tempdir().context("creating temporary directory")?;
        let root = if std::env::var_os("MAILSTACK_KEEP").is_some() {
            let kept = tmp.keep();
            eprintln!("mailstack: keeping {}", kept.display());
            Root::Given(kept)
        } else {
            Root::Temp(tmp)
        };
        Self::start_root(root, options)
    }

    /// Starts a stack whose data lives in `dir` (created if missing and kept
    /// after drop). Mail from an earlier run in the same directory is still
    /// there; the ports are new on every start.
    ///
    /// `dir` must be reachable by the `dovecot` and `postfix` users (every
    /// ancestor directory needs the `o+x` bit); its own mode is set to 0755.
    pub fn start_in(dir: &Path) -> Result<MailStack> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let dir = dir.canonicalize().with_context(|| format!("resolving {}", dir.display()))?;
        Self::start_root(Root::Given(dir), Options::default())
    }

    fn start_root(root: Root, options: Options) -> Result<MailStack> {
        preflight(root.path())?;
        let token = format!("{:012x}", process::random_u64() & 0xffff_ffff_ffff);
        let mut stack = MailStack {
            token,
            imap_port: 0,
            imaps_port: 0,
            lmtp_port: 0,
            auth_port: 0,
            smtp_port: 0,
            submission_port: 0,
            smtps_port: 0,
            options,
            dovecot: None,
            postfix: None,
            short_run_dir: None,
            root,
        };
        stack.prepare_dirs()?;

        // Dovecot first (Postfix needs its LMTP port), each with a few
        // attempts on fresh ports in case another process grabbed one of
        // ours between choosing and binding it.
        let mut attempt = 0;
        loop {
            attempt += 1;
            stack.imap_port = process::reserve_port()?;
            stack.imaps_port = process::reserve_port()?;
            stack.lmtp_port = process::reserve_port()?;
            stack.auth_port = process::reserve_port()?;
            match stack.start_dovecot() {
                Ok(()) => break,
                Err(e) => {
                    process::release_port(stack.imap_port);
                    process::release_port(stack.imaps_port);
                    process::release_port(stack.lmtp_port);
                    process::release_port(stack.auth_port);
                    stack.imap_port = 0;
                    stack.imaps_port = 0;
                    stack.lmtp_port = 0;
                    stack.auth_port = 0;
                    if attempt >= PORT_ATTEMPTS || !is_port_conflict(&e) {
                        return Err(e);
                    }
                }
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            stack.smtp_port = process::reserve_port()?;
            stack.submission_port = process::reserve_port()?;
            stack.smtps_port = process::reserve_port()?;
            match stack.start_postfix() {
                Ok(()) => break,
                Err(e) => {
                    process::release_port(stack.smtp_port);
                    process::release_port(stack.submission_port);
                    process::release_port(stack.smtps_port);
                    stack.smtp_port = 0;
                    stack.submission_port = 0;
                    stack.smtps_port = 0;
                    if attempt >= PORT_ATTEMPTS || !is_port_conflict(&e) {
                        return Err(e);
                    }
                }
            }
        }
        let _ = fs::write(
            stack.dir().join("ports"),
            format!(
                "host={HOST}\nimap={}\nimaps={}\nsmtp={}\nsubmission={}\nsmtps={}\nlmtp={}\n",
                stack.imap_port,
                stack.imaps_port,
                stack.smtp_port,
                stack.submission_port,
                stack.smtps_port,
                stack.lmtp_port
            ),
        );
        Ok(stack)
    }

    /// The address all servers listen on: `"127.0.0.1"`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// Dovecot's IMAP port (plain text, STARTTLS offered; login with any user
    /// name and [`PASSWORD`]).
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// Dovecot's IMAPS port (TLS from the first byte, certificate for
    /// `localhost` and 127.0.0.1 signed by [`MailStack::ca_file`]).
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// The PEM file of the private CA that signed both servers' certificate
    /// (Postfix offers STARTTLS on its SMTP port with it).
    pub fn ca_file(&self) -> PathBuf {
        self.dir().join("tls/ca.pem")
    }

    /// Postfix's SMTP port (plain text, no TLS, no authentication; relaying
    /// is allowed from 127.0.0.0/8).
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
    }

    /// Postfix's submission port: STARTTLS is required before AUTH and mail (with
    /// [`Options::no_tls`]: no STARTTLS, AUTH in clear), and only authenticated clients may
    /// send (SASL through Dovecot: PLAIN/LOGIN with [`PASSWORD`], or XOAUTH2/OAUTHBEARER with
    /// [`Options::oauth2_introspection`]).
    pub fn submission_port(&self) -> u16 {
        self.submission_port
    }

    /// Postfix's SMTPS port: TLS from the first byte, then as [`submission_port`](Self::submission_port).
    /// Closed with [`Options::no_tls`].
    pub fn smtps_port(&self) -> u16 {
        self.smtps_port
    }

    /// The options the stack was started with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Dovecot's LMTP port (what Postfix delivers to).
    pub fn lmtp_port(&self) -> u16 {
        self.lmtp_port
    }

    /// The directory holding configuration, queues, mailboxes and logs.
    pub fn dir(&self) -> &Path {
        self.root.path()
    }

    /// The Maildir holding the INBOX that mail for the recipient address
    /// `user` is delivered to (it may not exist yet). Mirrors Dovecot: the
    /// address is lower-cased and a `+detail` is dropped, so
    /// `Kim+Reg@Applicant.example` maps to `mail/kim@applicant.example/Maildir`.
    pub fn maildir(&self, user: &str) -> PathBuf {
        let user = user.to_lowercase();
        let (local, domain) = match user.rfind('@') {
            Some(at) => (&user[..at], &user[at..]),
            None => (user.as_str(), ""),
        };
        let local = local.split('+').next().unwrap_or(local);
        self.dir().join("mail").join(format!("{local}{domain}")).join("Maildir")
    }

    /// The whole Postfix log so far (all runs of this stack).
    pub fn postfix_log(&self) -> String {
        process::read_from(&self.postfix_log_path(), 0)
    }

    /// The whole Dovecot log so far (all runs of this stack).
    pub fn dovecot_log(&self) -> String {
        process::read_from(&self.dovecot_log_path(), 0)
    }

    /// The directory to remove if this process dies without running `Drop`
    /// (only temporary ones, never a directory given to `start_in`).
    fn temp_dir(&self) -> Option<&Path> {
        match &self.root {
            Root::Temp(t) => Some(t.path()),
            Root::Given(_) => None,
        }
    }

    fn postfix_log_path(&self) -> PathBuf {
        self.dir().join("log/postfix.log")
    }

    fn dovecot_log_path(&self) -> PathBuf {
        self.dir().join("log/dovecot.log")
    }

    /// Creates the directory tree with the owners and modes both servers
    /// insist on. Idempotent (also fixes up a directory from an earlier run).
    fn prepare_dirs(&mut self) -> Result<()> {
        let (pf_uid, _pf_gid) = process::lookup_user("postfix")?;
        let postdrop = process::lookup_group("postdrop")?;
        let (dc_uid, dc_gid) = process::lookup_user("dovecot")?;
        let dir = self.dir().to_path_buf();

        // The temp dir is created 0700; the servers' unprivileged processes
        // must be able to traverse it.
        make_dir(&dir, 0, 0, 0o755)?;
        make_dir(&dir.join("log"), 0, 0, 0o755)?;

        // Postfix: the layout of /etc/postfix/postfix-files (what
        // `post-install create-missing` would do).
        let pf = dir.join("postfix");
        make_dir(&pf, 0, 0, 0o755)?;
        make_dir(&pf.join("etc"), 0, 0, 0o755)?;
        let q = pf.join("queue");
        make_dir(&q, 0, 0, 0o755)?;
        for sub in [
            "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved",
            "trace",
        ] {
            make_dir(&q.join(sub), pf_uid, 0, 0o700)?;
        }
        make_dir(&q.join("maildrop"), pf_uid, postdrop, 0o730)?;
        make_dir(&q.join("public"), pf_uid, postdrop, 0o710)?;
        make_dir(&q.join("pid"), 0, 0, 0o755)?;
        make_dir(&pf.join("data"), pf_uid, 0, 0o700)?;

        // A private CA and a certificate for localhost / 127.0.0.1, shared by
        // both servers (made once per directory).
        make_dir(&dir.join("tls"), 0, 0, 0o755)?;
        tls::ensure_certificates(&dir.join("tls"))?;
        if self.options.certificate != Certificate::Good {
            tls::ensure_bad_certificates(&dir.join("tls"))?;
        }

        // Dovecot.
        make_dir(&dir.join("dovecot"), 0, 0, 0o755)?;
        make_dir(&dir.join("dovecot/state"), 0, 0, 0o755)?;
        make_dir(&dir.join("mail"), dc_uid, dc_gid, 0o700)?;

        // Unix socket paths are limited to 107 bytes; Dovecot's longest is
        // about 30 bytes below base_dir.
        if dir.join("dovecot/run").as_os_str().len() > 70 {
            let t =
                tempfile::Builder::new().prefix("mstk").tempdir().context("creating short Dovecot run directory")?;
            make_dir(t.path(), 0, 0, 0o755)?;
            self.short_run_dir = Some(t);
        }
        Ok(())
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        // Postfix first, so it does not log delivery failures to a dying
        // Dovecot. Errors cannot be reported from drop; ServerProcess::stop
        // SIGKILLs whatever is left anyway.
        if let Some(mut p) = self.postfix.take() {
            let _ = p.stop(Duration::from_secs(3));
        }
        if let Some(mut d) = self.dovecot.take() {
            let _ = d.stop(Duration::from_secs(3));
        }
        for port in [
            self.imap_port,
            self.imaps_port,
            self.lmtp_port,
            self.auth_port,
            self.smtp_port,
            self.submission_port,
            self.smtps_port,
        ] {
            if port != 0 {
                process::release_port(port);
            }
        }
    }
}

/// Checks what can be checked before touching anything.
fn preflight(dir: &Path) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("mailstack must run as root (Dovecot and Postfix drop privileges to their own users)");
    }
    process::require_binary(DOVECOT_BIN, "dovecot-imapd dovecot-lmtpd")?;
    process::require_binary(POSTFIX_MASTER_BIN, "postfix")?;
    if !Path::new("/usr/lib/dovecot/lmtp").exists() {
        bail!("/usr/lib/dovecot/lmtp not found; install the Debian package dovecot-lmtpd");
    }
    // Every ancestor must be traversable by the unprivileged server users.
    use std::os::unix::fs::PermissionsExt;
    let mut anc = dir.parent();
    while let Some(a) = anc {
        let mode = fs::metadata(a).with_context(|| format!("stat {}", a.display()))?.permissions().mode();
        if mode & 0o001 == 0 {
            bail!(
                "{} is not searchable by other users (mode {:o}); the dovecot and postfix users \
                 cannot reach {}. Use a directory under /tmp or chmod o+x the ancestors.",
                a.display(),
                mode & 0o7777,
                dir.display()
            );
        }
        anc = a.parent();
    }
    Ok(())
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let s = lines[lines.len().saturating_sub(n)..].join("\n");
    if s.is_empty() {
        "(no output)".to_string()
    } else {
        s
    }
}

fn write_file(path: &Path, contents: &str) -> Result<()> {
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// Writes a file and sets its mtime a minute into the past.
fn write_file_backdated(path: &Path, contents: &str) -> Result<()> {
    write_file(path, contents)?;
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(past))
        .with_context(|| format!("setting mtime of {}", path.display()))
}
