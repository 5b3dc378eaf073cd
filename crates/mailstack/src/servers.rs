//! Starting and stopping each server of a [`MailStack`], and waiting for their ports.

use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::config::{DovecotParams, PostfixParams};
use crate::process::{self, port_accepts, read_greeting, ServerProcess};
use crate::*;

impl MailStack {
    /// Stops Postfix and its worker processes (SIGTERM to the master, which
    /// terminates its workers; SIGKILL to the whole process group if anything
    /// is left after 5 s). When this returns, the SMTP port refuses
    /// connections. Mail already queued stays in the queue and is delivered
    /// after [`start_postfix`](Self::start_postfix) -- possibly a second time
    /// if it was being delivered at that very moment (see
    /// [`wait_for_queue_empty`](Self::wait_for_queue_empty)).
    pub fn stop_postfix(&mut self) -> Result<()> {
        if let Some(mut p) = self.postfix.take() {
            p.stop(STOP_GRACE)?;
        }
        wait_port_closed(self.smtp_port, "postfix")
    }

    /// (Re)starts Postfix on the same SMTP port as before and waits until it
    /// answers with its banner. A no-op if it is running.
    pub fn start_postfix(&mut self) -> Result<()> {
        if self.postfix.is_some() {
            return Ok(());
        }
        let dir = self.dir().to_path_buf();
        let etc = dir.join("postfix/etc");
        let params = PostfixParams {
            queue_dir: &dir.join("postfix/queue"),
            data_dir: &dir.join("postfix/data"),
            smtp_port: self.smtp_port,
            lmtp_port: self.lmtp_port,
            auth_port: self.auth_port,
            tls_dir: &dir.join("tls"),
            token: &self.token,
            submission_port: self.submission_port,
            smtps_port: self.smtps_port,
            cert: self.options.certificate.file_stem(),
            tls: !self.options.no_tls,
        };
        // Postfix re-reads (sleeping 300 ms each time, for up to ~2 s) any
        // table or main.cf whose mtime is within the current second, to
        // avoid reading a half-written file. Back-date ours.
        write_file_backdated(&etc.join("main.cf"), &config::postfix_main_cf(&params))?;
        write_file_backdated(&etc.join("master.cf"), &config::postfix_master_cf(&params))?;

        // Fail fast, and with a clear message, if the port is taken: the
        // master would exit silently (see below).
        process::check_port_free(self.smtp_port, "postfix (smtp)")?;
        let log = self.postfix_log_path();
        let offset = process::file_len(&log);
        let master = process::require_binary(POSTFIX_MASTER_BIN, "postfix")?;
        let mut cmd = Command::new(master);
        // -d: no fork, no setsid, stdout kept (for maillog_file =
        // /dev/stdout), so the master and all its workers stay in the
        // process group we create. (`postfix start-fg` runs `master -s`
        // when not PID 1, which forks a setsid()'d master out of our group.)
        cmd.arg("-c").arg(&etc).arg("-d");
        let marker = etc.to_string_lossy().into_owned();
        // SIGTERM to the master alone: it terminates its whole process group
        // itself (that is what `postfix stop` does), within milliseconds.
        let server = ServerProcess::spawn("postfix", cmd, &log, &marker, false, self.temp_dir())?;
        let expected = format!("mailstack-{}", self.token);
        let port = self.smtp_port;
        let ready = wait_ready(&server, &log, offset, "postfix", || {
            let line = read_greeting(port).ok()?;
            Some(line.starts_with("220 ") && line.contains(&expected))
        });
        match ready {
            Ok(()) => {
                self.postfix = Some(server);
                Ok(())
            }
            Err(e) => {
                drop(server);
                // The master logs through postlogd, which is not running yet
                // when it fails early (e.g. on a taken port): then its log is
                // empty. `postfix check` at least reports configuration and
                // permission problems.
                if process::read_from(&log, offset).trim().is_empty() {
                    let check = Command::new("/usr/sbin/postfix").arg("-c").arg(&etc).arg("check").output();
                    let text = match check {
                        Ok(o) => {
                            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
                        }
                        Err(err) => format!("(could not run postfix check: {err})"),
                    };
                    return Err(e.context(format!(
                        "postfix master failed before it could log anything; \
                         `postfix -c {} check` says: {}",
                        etc.display(),
                        if text.trim().is_empty() { "nothing" } else { text.trim() }
                    )));
                }
                Err(e)
            }
        }
    }

    /// Stops Dovecot and all its processes. When this returns, the IMAP and
    /// LMTP ports refuse connections; Postfix keeps mail for Dovecot queued
    /// (retrying every 2-4 s) and [`start_dovecot`](Self::start_dovecot)
    /// flushes it through.
    pub fn stop_dovecot(&mut self) -> Result<()> {
        if let Some(mut d) = self.dovecot.take() {
            d.stop(STOP_GRACE)?;
        }
        wait_port_closed(self.imap_port, "dovecot (imap)")?;
        wait_port_closed(self.imaps_port, "dovecot (imaps)")?;
        wait_port_closed(self.lmtp_port, "dovecot (lmtp)")
    }

    /// (Re)starts Dovecot on the same ports and with the same mail as before
    /// and waits until both IMAP and LMTP greet; then asks Postfix (if
    /// running) to deliver what it queued meanwhile. A no-op if Dovecot is
    /// running.
    pub fn start_dovecot(&mut self) -> Result<()> {
        if self.dovecot.is_some() {
            return Ok(());
        }
        let dir = self.dir().to_path_buf();
        let run_dir = match &self.short_run_dir {
            Some(t) => t.path().join("run"),
            None => dir.join("dovecot/run"),
        };
        // Runtime state only; a stale master.pid or socket from a killed
        // instance would otherwise confuse the new one.
        if run_dir.exists() {
            fs::remove_dir_all(&run_dir).with_context(|| format!("removing {}", run_dir.display()))?;
        }
        let conf = dir.join("dovecot/dovecot.conf");
        let log = self.dovecot_log_path();
        let oauth2_args = dir.join("dovecot/oauth2.conf.ext");
        if let Some(url) = &self.options.oauth2_introspection {
            write_file(&oauth2_args, &config::dovecot_oauth2_args(url))?;
        }
        let params = DovecotParams {
            run_dir: &run_dir,
            state_dir: &dir.join("dovecot/state"),
            mail_root: &dir.join("mail"),
            log_file: &log,
            imap_port: self.imap_port,
            imaps_port: self.imaps_port,
            lmtp_port: self.lmtp_port,
            auth_port: self.auth_port,
            tls_dir: &dir.join("tls"),
            token: &self.token,
            cert: self.options.certificate.file_stem(),
            tls: !self.options.no_tls,
            oauth2_args: self.options.oauth2_introspection.as_ref().map(|_| oauth2_args.as_path()),
            oauth2_mechanisms: if self.options.oauthbearer_only { "oauthbearer" } else { "xoauth2 oauthbearer" },
        };
        write_file(&conf, &config::dovecot_conf(&params))?;

        process::check_port_free(self.imap_port, "dovecot (imap)")?;
        process::check_port_free(self.imaps_port, "dovecot (imaps)")?;
        process::check_port_free(self.lmtp_port, "dovecot (lmtp)")?;
        process::check_port_free(self.auth_port, "dovecot (auth)")?;
        let offset = process::file_len(&log);
        let bin = process::require_binary(DOVECOT_BIN, "dovecot-imapd dovecot-lmtpd")?;
        let mut cmd = Command::new(bin);
        cmd.arg("-F").arg("-c").arg(&conf);
        let marker = conf.to_string_lossy().into_owned();
        // SIGTERM to the whole group: with only the master signalled, it
        // waits about a second for its `log` process to drain.
        let server = ServerProcess::spawn("dovecot", cmd, &log, &marker, true, self.temp_dir())?;
        let expected = format!("mailstack-{}", self.token);
        let (imap, lmtp) = (self.imap_port, self.lmtp_port);
        let ready = wait_ready(&server, &log, offset, "dovecot", || {
            let line = read_greeting(imap).ok()?;
            if !(line.starts_with("* OK") && line.contains(&expected)) {
                return Some(false);
            }
            let line = read_greeting(lmtp).ok()?;
            Some(line.starts_with("220 ") && line.contains(&expected))
        });
        match ready {
            Ok(()) => {
                self.dovecot = Some(server);
                // Deliver what Postfix deferred while Dovecot was down now,
                // rather than at its next retry.
                if self.postfix.is_some() {
                    let _ = self.flush_queue();
                }
                Ok(())
            }
            Err(e) => {
                drop(server);
                Err(e)
            }
        }
    }
}

/// Waits until `probe` returns `Some(true)` (server ready), failing early if
/// the server process exits. `probe` returns `None` while the port does not
/// answer yet and `Some(false)` if someone else's server answers.
pub(crate) fn wait_ready(
    server: &ServerProcess,
    log: &Path,
    log_offset: u64,
    name: &str,
    mut probe: impl FnMut() -> Option<bool>,
) -> Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if server.leader_exited() {
            // Give the log writer a moment to flush the reason.
            thread::sleep(Duration::from_millis(100));
            bail!(
                "{name} exited during startup\n--- {name} log ---\n{}",
                last_lines(&process::read_from(log, log_offset), LOG_TAIL_LINES)
            );
        }
        match probe() {
            Some(true) => return Ok(()),
            Some(false) => {
                // Someone else answers on our port: our bind must have failed
                // (the server will exit shortly) -- or will, so keep polling.
            }
            None => {}
        }
        if Instant::now() >= deadline {
            bail!(
                "{name} did not become ready within {START_TIMEOUT:?}\n--- {name} log ---\n{}",
                last_lines(&process::read_from(log, log_offset), LOG_TAIL_LINES)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a startup error was caused by a port being taken.
pub(crate) fn is_port_conflict(e: &anyhow::Error) -> bool {
    let s = format!("{e:#}");
    s.contains("Address already in use") || s.contains("address already in use")
}

/// Waits (bounded) until nothing accepts connections on `port`.
pub(crate) fn wait_port_closed(port: u16, name: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while port_accepts(port) {
        if Instant::now() >= deadline {
            bail!("{name}: port {port} still accepts connections after stopping");
        }
        thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
