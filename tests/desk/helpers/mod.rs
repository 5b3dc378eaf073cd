//! Shared helpers for the tests of this binary: a private mail stack (real Dovecot + Postfix, from
//! the `mailstack` crate), a configuration pointing smebridge at it (`mailstack::desk`, the one
//! the benchmark and the demo write too), and the real `smebridge` binary run as a user would
//! run it.
//!
//! Every smebridge process a test starts goes through [`Desk::command`] (or [`Desk::smebridge`],
//! [`Desk::spawn`]), which runs it at info level and keeps its log under the desk's directory.
//! When the desk is dropped at the end of the test, every log is scanned for the passwords and
//! for every applicant address, name and phone the test sent ([`Desk::log_needles`]): personal
//! data at info level fails the test, whichever test it is.
//!
//! Also here: the hostile inputs of `bounds` ([`bombs`]) and the peak-memory measurement of one
//! child process ([`rss`]).

pub mod bombs;
pub mod calendar;
pub mod rss;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use mailstack::desk::DeskConfig;
use mailstack::MailStack;
use tempfile::TempDir;

pub use mailstack::desk::CENTER;
/// The announced deadline: the 17th, end of day Seoul time (the workshop is on Friday the 18th).
pub const DEADLINE: &str = "2022-11-17T23:59:59+09:00";

/// A mail stack plus a smebridge configuration and database for it.
pub struct Desk {
    pub stack: MailStack,
    pub dir: TempDir,
    pub config: PathBuf,
    /// How many smebridge processes were started (numbers their log files).
    runs: AtomicUsize,
    /// Raw mails the test sent through the desk's helpers (their senders are scanned for).
    sent: Mutex<Vec<Vec<u8>>>,
}

impl Desk {
    /// A fresh stack and a configuration whose deadline is `deadline`.
    pub fn start_with_deadline(deadline: &str) -> Desk {
        Desk::start_with(deadline, &[])
    }

    /// A fresh stack and a configuration with extra lines: each `(section, line)` sets `line`
    /// in `[section]`, e.g. `("event", "capacity = 2")`, replacing the line that sets the same
    /// key there (see `mailstack::desk::DeskConfig::set`).
    pub fn start_with(deadline: &str, extra: &[(&str, &str)]) -> Desk {
        Desk::start_on(MailStack::start().expect("the mail stack must start"), deadline, extra)
    }

    /// As [`Desk::start_with`], on a stack the test started (e.g. with `mailstack::Options`).
    pub fn start_on(stack: MailStack, deadline: &str, extra: &[(&str, &str)]) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), &stack, deadline, extra);
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        Desk { stack, dir, config, runs: AtomicUsize::new(0), sent: Mutex::new(Vec::new()) }
    }

    /// A fresh stack whose deadline is far in the future (everything is on time).
    pub fn start() -> Desk {
        Desk::start_with_deadline("2099-12-31T23:59:59+09:00")
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("smebridge.sqlite")
    }

    /// Where the smebridge processes of this desk write their logs.
    pub fn log_dir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// A new log file for the next smebridge process.
    pub fn new_log(&self, args: &[&str]) -> PathBuf {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        let what = args.first().copied().unwrap_or("smebridge");
        self.log_dir().join(format!("{n:03}-{what}.log"))
    }

    /// `smebridge ARGS --config …` at info level (as in production), its log (standard error)
    /// going to a fresh file under [`Desk::log_dir`], which the desk scans when dropped. Every
    /// smebridge process a test starts is made here.
    pub fn command(&self, args: &[&str]) -> (Command, PathBuf) {
        let log = self.new_log(args);
        let file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_smebridge"));
        command
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env_remove("SMEBRIDGE_CONFIG")
            .env("RUST_LOG", "info")
            .stderr(Stdio::from(file));
        (command, log)
    }

    /// Start `smebridge ARGS` in the background (see [`Desk::command`]); returns the child and
    /// its log file.
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> (Child, PathBuf) {
        let (mut command, log) = self.command(args);
        command.envs(env.iter().copied()).stdout(Stdio::null());
        (command.spawn().expect("smebridge must start"), log)
    }

    /// Start `smebridge run` in the background and wait (at most 30 s) until it holds the claim on
    /// the database (its pid in the lock file); returns the child and its log file.
    pub fn spawn_daemon(&self) -> (Child, PathBuf) {
        let (daemon, log) = self.spawn(&["run"], &[]);
        let lock = self.database().with_file_name("smebridge.sqlite.lock");
        let started = std::time::Instant::now();
        while std::fs::read_to_string(&lock).unwrap_or_default().trim() != daemon.id().to_string() {
            assert!(started.elapsed() < Duration::from_secs(30), "the daemon must claim the database");
            std::thread::sleep(Duration::from_millis(50));
        }
        (daemon, log)
    }

    /// Run `smebridge ARGS --config …` and return its output (standard error too, which is also
    /// kept as its log).
    pub fn smebridge(&self, args: &[&str]) -> Output {
        let (mut command, log) = self.command(args);
        let out = command.stderr(Stdio::piped()).output().expect("smebridge must start");
        std::fs::write(log, &out.stderr).unwrap();
        out
    }

    /// [`Desk::smebridge`] with extra environment variables (e.g. the debug-build fault hooks of
    /// `src/isolate/fault.rs`), no core file if it dies.
    pub fn smebridge_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        use std::os::unix::process::CommandExt;
        let (mut command, log) = self.command(args);
        command.envs(env.iter().copied());
        // SAFETY: setrlimit(2) is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                libc::setrlimit(libc::RLIMIT_CORE, &none);
                Ok(())
            });
        }
        let out = command.stderr(Stdio::piped()).output().expect("smebridge must start");
        std::fs::write(log, &out.stderr).unwrap();
        out
    }

    /// Messages delivered to `user` so far, read from the maildir on disk.
    pub fn delivered(&self, user: &str) -> usize {
        let dir = self.stack.maildir(user);
        ["new", "cur"].iter().map(|d| std::fs::read_dir(dir.join(d)).map(|e| e.count()).unwrap_or(0)).sum()
    }

    /// `smebridge once`, which must succeed; returns its standard output.
    pub fn once(&self) -> String {
        let out = self.smebridge(&["once"]);
        assert!(out.status.success(), "smebridge once failed:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `smebridge export --format csv`, parsed into header + rows.
    pub fn export(&self) -> Vec<std::collections::HashMap<String, String>> {
        let out = self.smebridge(&["export", "--format", "csv"]);
        assert!(out.status.success(), "export failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        let headers = reader.headers().unwrap().clone();
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                headers.iter().zip(r.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
            })
            .collect()
    }

    /// Send raw bytes over SMTP into Postfix, as an applicant's mail client does, and wait until
    /// Dovecot has delivered them to the center's mailbox.
    pub async fn send_to_center(&self, from: &str, raw: &str) {
        self.sent.lock().unwrap().push(raw.as_bytes().to_vec());
        let before = self.count(CENTER).await;
        mailstack::client::send_raw(self.stack.host(), self.stack.smtp_port(), from, &[CENTER], crlf(raw).as_bytes())
            .await
            .expect("Postfix must accept the application");
        self.stack
            .wait_for_delivery(CENTER, before + 1, Duration::from_secs(30))
            .expect("the application must reach the center's mailbox");
    }

    /// Send raw bytes over SMTP with this envelope sender (`""` for `MAIL FROM:<>`), without
    /// waiting for delivery.
    pub async fn submit(&self, envelope_from: &str, to: &[&str], raw: &str) {
        self.sent.lock().unwrap().push(raw.as_bytes().to_vec());
        mailstack::client::send_raw(self.stack.host(), self.stack.smtp_port(), envelope_from, to, crlf(raw).as_bytes())
            .await
            .expect("Postfix must accept the message");
    }

    /// Put a message straight into the center's mailbox with a chosen arrival time.
    pub async fn append_to_center(&self, raw: &str, internaldate: &str) {
        self.sent.lock().unwrap().push(raw.as_bytes().to_vec());
        mailstack::client::append(
            self.stack.host(),
            self.stack.imap_port(),
            CENTER,
            "INBOX",
            crlf(raw).as_bytes(),
            Some(internaldate),
        )
        .await
        .expect("APPEND must work");
    }

    /// Every message in `user`'s INBOX.
    pub async fn mailbox(&self, user: &str) -> Vec<mailstack::client::FetchedMail> {
        mailstack::client::fetch_all(self.stack.host(), self.stack.imap_port(), user, "INBOX").await.expect("fetch")
    }

    pub async fn count(&self, user: &str) -> usize {
        self.mailbox(user).await.len()
    }

    /// Wait until `user` has `n` messages; return them.
    pub async fn wait_for_mail(&self, user: &str, n: usize) -> Vec<mailstack::client::FetchedMail> {
        mailstack::client::wait_for_mail(self.stack.host(), self.stack.imap_port(), user, n, Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("{user} should have {n} message(s): {e:#}\n{}", self.stack.postfix_log()))
    }

    /// Wait until Postfix has delivered everything it was handed (its queue is empty). After a
    /// `smebridge once` has exited, every reply it sent is in that queue or already delivered,
    /// so from then on a mailbox with nothing in it was sent nothing: call this before asserting
    /// that no reply went out.
    pub fn wait_for_queue_empty(&self) {
        self.stack
            .wait_for_queue_empty(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("Postfix must deliver what it was handed: {e:#}"));
    }

    /// The IMAP sessions of this desk's Dovecot (the `imap` children of its master, found by its
    /// configuration path), as (pid, process title). Dovecot names the session's user and the
    /// command in progress in the title: `…/imap [smebridge@kaist.ac.kr 127.0.0.1 IDLE]`.
    pub fn imap_sessions(&self) -> Vec<(i32, String)> {
        let conf = self.stack.dir().join("dovecot/dovecot.conf");
        let conf = conf.to_string_lossy();
        let procs: Vec<(i32, i32, String, String)> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let pid: i32 = e.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                let (comm, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
                let ppid: i32 = rest.split_whitespace().nth(1)?.parse().ok()?;
                let cmdline =
                    std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default().replace('\0', " ");
                Some((pid, ppid, comm.to_owned(), cmdline.trim_end().to_owned()))
            })
            .collect();
        let master = procs
            .iter()
            .find(|p| p.2 == "dovecot" && p.3.contains(conf.as_ref()))
            .expect("this stack's dovecot master")
            .0;
        procs.into_iter().filter(|p| p.1 == master && p.2 == "imap").map(|p| (p.0, p.3)).collect()
    }

    /// Wait until `user` has an IMAP session in IDLE: a daemon logged in as `user` has read the
    /// mailbox and waits for new mail.
    pub fn wait_for_idle(&self, user: &str) {
        let session = format!("[{} ", user.to_lowercase());
        let started = std::time::Instant::now();
        while !self.imap_sessions().iter().any(|(_, title)| title.contains(&session) && title.ends_with(" IDLE]")) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no IMAP session of {user} in IDLE: {:?}",
                self.imap_sessions()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Rows of the outbox by state, read from the database file directly.
    pub fn outbox_states(&self) -> Vec<(String, i64)> {
        let conn = rusqlite::Connection::open(self.database()).unwrap();
        let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    }

    /// Outbox rows as (kind, recipient, state), oldest first.
    pub fn outbox(&self) -> Vec<(String, String, String)> {
        let conn = rusqlite::Connection::open(self.database()).unwrap();
        let mut stmt = conn.prepare("SELECT kind, recipient, state FROM outbox ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    }

    /// Recorded messages as (sender, outcome), in the order recorded.
    pub fn outcomes(&self) -> Vec<(Option<String>, String)> {
        let conn = rusqlite::Connection::open(self.database()).unwrap();
        let mut stmt = conn.prepare("SELECT sender, outcome FROM messages ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    }

    pub fn messages_recorded(&self) -> i64 {
        let conn = rusqlite::Connection::open(self.database()).unwrap();
        conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap()
    }
}

impl Desk {
    /// What must never appear in a log at info level: the passwords, and every applicant
    /// address, name and phone the test sent — read from the database (everything smebridge
    /// recorded, however the mail got into the mailbox) and from the mails sent through the
    /// desk's helpers. Our own addresses are not personal data; very short strings are skipped
    /// (they would match ordinary words).
    pub fn log_needles(&self) -> Vec<String> {
        let mut needles = vec![mailstack::PASSWORD.to_owned()];
        if let Ok(password) = std::fs::read_to_string(self.dir.path().join("password")) {
            needles.push(password.trim().to_owned());
        }
        if let Ok(conn) =
            rusqlite::Connection::open_with_flags(self.database(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        {
            let mut column = |sql: &str| {
                if let Ok(mut stmt) = conn.prepare(sql) {
                    if let Ok(rows) = stmt.query_map([], |r| r.get::<_, Option<String>>(0)) {
                        needles.extend(rows.flatten().flatten());
                    }
                }
            };
            column("SELECT email FROM applications");
            column("SELECT name FROM applications");
            column("SELECT phone FROM applications");
            column("SELECT sender FROM messages");
            column("SELECT recipient FROM outbox");
        }
        for raw in self.sent.lock().unwrap().iter() {
            if let Some(message) = mail_parser::MessageParser::default().parse(raw) {
                for from in message.from().into_iter().flat_map(|a| a.iter()) {
                    needles.extend(from.address().map(str::to_owned));
                    needles.extend(from.name().map(str::to_owned));
                }
            }
        }
        let ours = [CENTER.to_owned(), "staff@kaist.ac.kr".to_owned()];
        needles.retain(|n| n.trim().len() >= 4 && !ours.iter().any(|o| o.eq_ignore_ascii_case(n.trim())));
        needles.sort();
        needles.dedup();
        needles
    }

    /// Scan every log of this desk; see [`leaks`].
    pub fn scan_logs(&self) -> Vec<String> {
        let mut logs = Vec::new();
        for entry in std::fs::read_dir(self.log_dir()).into_iter().flatten().flatten() {
            let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default()).into_owned();
            logs.push((entry.file_name().to_string_lossy().into_owned(), text));
        }
        leaks(&logs, &self.log_needles())
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        // A failing test has already said what is wrong; do not turn it into an abort.
        if std::thread::panicking() {
            return;
        }
        let found = self.scan_logs();
        assert!(
            found.is_empty(),
            "personal data or a password in smebridge's logs at info level:\n{}",
            found.join("\n")
        );
    }
}

/// Every (log, needle) where a needle occurs in a log, as `"file: line"` (the line cut short).
pub fn leaks(logs: &[(String, String)], needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, text) in logs {
        for needle in needles.iter().filter(|n| text.contains(n.as_str())) {
            for line in text.lines().filter(|l| l.contains(needle.as_str())) {
                found.push(format!("{name}: {needle:?} in {:?}", line.chars().take(300).collect::<String>()));
            }
        }
    }
    found
}

/// The tests' configuration for smebridge against `stack` (`mailstack::desk`: the one the
/// benchmark and the demo write too, with the tests' short timeouts), with `extra` lines (see
/// [`Desk::start_with`]), written into `dir` with its password file.
pub fn write_config(dir: &Path, stack: &MailStack, deadline: &str, extra: &[(&str, &str)]) -> PathBuf {
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
    let config = DeskConfig::new(stack, deadline, &templates).expect("a deadline in RFC 3339").for_tests();
    let config = extra.iter().fold(config, |config, (section, line)| config.set(section, line));
    config.write(dir).expect("the configuration written")
}

pub fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The value of a header in a raw message (first occurrence, unfolded).
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    message.header_raw(name).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub fn parsed(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).expect("a parseable message")
}

/// A plain application as a mail client would send it.
pub fn application(from_name: &str, from: &str, subject: &str, body: &str, message_id: &str) -> String {
    format!(
        "From: {from_name} <{from}>\nTo: {CENTER}\nSubject: {subject}\nDate: Wed, 16 Nov 2022 10:00:00 +0900\nMessage-ID: <{message_id}>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}"
    )
}
