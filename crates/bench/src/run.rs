//! Running smebridge: its configuration and database for one stack, the process with its wall
//! time, CPU time and peak RSS (wait4), its JSON log, and what it left in the database.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use jiff::Timestamp;
use mailstack::desk::DeskConfig;
use mailstack::MailStack;
use serde_json::Value;

use crate::Args;

/// smebridge's configuration and database for one stack.
pub struct DeskDir {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl DeskDir {
    pub fn database(&self) -> PathBuf {
        self.dir.path().join("smebridge.sqlite")
    }
}

/// Recipient and bytes of every reply in the outbox, in order.
pub fn outbox_messages(db: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let conn = rusqlite::Connection::open(db)?;
    let mut stmt = conn.prepare("SELECT recipient, raw FROM outbox ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Messages recorded, and outbox rows by state.
pub fn db_state(db: &Path) -> Result<(i64, Vec<(String, i64)>)> {
    let conn = rusqlite::Connection::open(db)?;
    let recorded = conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
    let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")?;
    let states = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok((recorded, states))
}

/// The tests' configuration (`mailstack::desk`) with longer timeouts and the rate limits raised.
pub fn write_config(stack: &MailStack, bcc_self: bool) -> Result<DeskDir> {
    let dir = tempfile::Builder::new().prefix("smebridge-bench-").tempdir()?;
    let templates = crate::repo_root().join("config/templates");
    let config = DeskConfig::new(stack, "2099-12-31T23:59:59+09:00", &templates)?
        .comment("Written by the benchmark (crates/bench): the tests' configuration, with the rate limits raised.")
        .for_tests()
        .set("imap", "timeout = \"30s\"")
        .set("smtp", "timeout = \"30s\"")
        .set("smtp", &format!("bcc_self = {bcc_self}"))
        .remove("staff", "summary_until")
        .set("replies", "max_per_hour = 1000000")
        .set("replies", "max_per_sender_per_day = 1000")
        .write(dir.path())?;
    Ok(DeskDir { dir, config })
}

/// A spawned smebridge, killed if it is still running when dropped.
pub struct Child {
    pid: libc::pid_t,
    spawned: Timestamp,
    started: Instant,
    pub log: PathBuf,
    stdout: PathBuf,
    reaped: bool,
}

pub struct Exited {
    pub elapsed: Duration,
    /// User + system CPU time of the process.
    pub cpu: Duration,
    pub spawned: Timestamp,
    pub exited: Timestamp,
    pub peak_rss_kb: i64,
    pub stdout: String,
    pub log: Vec<LogEvent>,
}

impl Child {
    pub fn spawn(args: &Args, desk: &DeskDir, command: &str, name: &str) -> Result<Child> {
        // `BENCH_LOG_DIR` keeps smebridge's logs there (the desk directory is removed at the end).
        let log = match std::env::var_os("BENCH_LOG_DIR") {
            Some(dir) => PathBuf::from(dir).join(format!("{name}.log")),
            None => desk.dir.path().join(format!("{name}.log")),
        };
        let stdout = desk.dir.path().join(format!("{name}.out"));
        let spawned = Timestamp::now();
        let started = Instant::now();
        let wrap = if command == "once" { args.wrap.as_deref().unwrap_or_default() } else { &[] };
        let mut cmd = match wrap.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(&args.smebridge);
                c
            }
            None => Command::new(&args.smebridge),
        };
        let child = cmd
            .args([command, "--log-format", "json", "--config"])
            .arg(&desk.config)
            .env_remove("SMEBRIDGE_CONFIG")
            // Info, as in production, unless `BENCH_RUST_LOG` asks for more (for a diagnosis).
            .env("RUST_LOG", std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout)?)
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("cannot run {}", args.smebridge.display()))?;
        let pid = libc::pid_t::try_from(child.id())?;
        // Reaped by wait4 below, not by std.
        drop(child);
        Ok(Child { pid, spawned, started, log, stdout, reaped: false })
    }

    /// Wait for the exit (at most `limit`, then SIGKILL and fail), with its resource usage.
    pub async fn wait(mut self, limit: Duration) -> Result<Exited> {
        let pid = self.pid;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut status = 0;
            // SAFETY: plain syscall on our own child with valid out-pointers.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            let failed = (r != pid).then(std::io::Error::last_os_error);
            let _ = tx.send((failed, status, usage, Instant::now(), Timestamp::now()));
        });
        let received = tokio::task::spawn_blocking(move || match rx.recv_timeout(limit) {
            Ok(v) => Ok(v),
            Err(_) => {
                // SAFETY: our own child, not yet reaped.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                let _ = rx.recv();
                Err(())
            }
        })
        .await?;
        self.reaped = true;
        let (failed, status, usage, ended, exited) = match received {
            Ok(v) => v,
            Err(_) => {
                bail!("smebridge did not finish within {} s; killed. Log: {}", limit.as_secs(), self.log.display())
            }
        };
        if let Some(e) = failed {
            bail!("wait4 failed: {e}");
        }
        let log = read_log(&self.log)?;
        let stdout = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            let tail: Vec<String> =
                std::fs::read_to_string(&self.log)?.lines().rev().take(20).map(str::to_owned).collect();
            bail!(
                "smebridge exited with status {status:#x}:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(Exited {
            elapsed: ended - self.started,
            spawned: self.spawned,
            exited,
            peak_rss_kb: usage.ru_maxrss,
            cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
            stdout,
            log,
        })
    }

    pub fn terminate(&self) {
        // SAFETY: our own child, not yet reaped (so the pid cannot have been reused).
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: as above; reap it so no zombie is left.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

pub async fn run_once(args: &Args, desk: &DeskDir, limit: Duration) -> Result<Exited> {
    Child::spawn(args, desk, "once", "once")?.wait(limit).await
}

/// One line of smebridge's JSON log.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub at: Timestamp,
    pub message: String,
    pub fields: Value,
}

pub fn read_log(path: &Path) -> Result<Vec<LogEvent>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|v| {
            let at = v.get("timestamp")?.as_str()?.parse().ok()?;
            let message = v.get("message")?.as_str()?.to_owned();
            Some(LogEvent { at, message, fields: v })
        })
        .collect())
}
