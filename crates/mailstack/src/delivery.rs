//! Mail in a [`MailStack`]: the Postfix queue and the Maildirs it delivers to.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::process;
use crate::*;

impl MailStack {
    /// Asks Postfix to retry all queued mail now (`postqueue -f`), including
    /// deferred mail whose retry time has not come yet.
    pub fn flush_queue(&self) -> Result<()> {
        if self.postfix.is_none() {
            bail!("postfix is not running");
        }
        let etc = self.dir().join("postfix/etc");
        let out = Command::new(POSTQUEUE_BIN)
            .arg("-c")
            .arg(&etc)
            .arg("-f")
            .output()
            .with_context(|| format!("running {POSTQUEUE_BIN}"))?;
        if !out.status.success() {
            bail!("postqueue -f failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(())
    }

    /// Polls the INBOX Maildir (`new/` + `cur/`) of recipient `user` (see
    /// [`maildir`](Self::maildir)) until it holds at least `count` messages,
    /// counting everything there (APPENDed messages too). Every 2 s of
    /// waiting it flushes the Postfix queue (see
    /// [`flush_queue`](Self::flush_queue)). On timeout, the error includes
    /// the tails of the Postfix and Dovecot logs.
    pub fn wait_for_delivery(&self, user: &str, count: usize, timeout: Duration) -> Result<()> {
        let maildir = self.maildir(user);
        let deadline = Instant::now() + timeout;
        let mut next_flush = Instant::now() + FLUSH_EVERY;
        loop {
            let n = count_messages(&maildir);
            if n >= count {
                return Ok(());
            }
            if Instant::now() >= next_flush {
                // Rescues mail parked by a qmgr race (see config.rs).
                let _ = self.flush_queue();
                next_flush = Instant::now() + FLUSH_EVERY;
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {timeout:?} waiting for {count} message(s) for {user} in {} \
                     (found {n})\n--- postfix log (tail) ---\n{}\n--- dovecot log (tail) ---\n{}",
                    maildir.display(),
                    process::tail(&self.postfix_log_path(), LOG_TAIL_LINES),
                    process::tail(&self.dovecot_log_path(), LOG_TAIL_LINES),
                );
            }
            thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until Postfix's queue (maildrop, incoming, active, deferred,
    /// hold) is empty, i.e. every accepted message has been delivered (or
    /// bounced) *and* Postfix has recorded that.
    ///
    /// A message shows up in the Maildir a moment before Postfix removes its
    /// queue file; stopping Postfix in between (like a real `postfix stop`)
    /// leaves it queued, and it is delivered a second time after a restart.
    /// Call this before [`stop_postfix`](Self::stop_postfix) or dropping a
    /// [`start_in`](Self::start_in) stack to rule that out.
    pub fn wait_for_queue_empty(&self, timeout: Duration) -> Result<()> {
        let queue = self.dir().join("postfix/queue");
        let deadline = Instant::now() + timeout;
        let mut next_flush = Instant::now() + FLUSH_EVERY;
        loop {
            let n: usize = ["maildrop", "incoming", "active", "deferred", "hold"]
                .iter()
                .map(|d| count_files(&queue.join(d)))
                .sum();
            if n == 0 {
                return Ok(());
            }
            if Instant::now() >= next_flush {
                let _ = self.flush_queue();
                next_flush = Instant::now() + FLUSH_EVERY;
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {timeout:?}: {n} message(s) still in the Postfix queue\n\
                     --- postfix log (tail) ---\n{}",
                    process::tail(&self.postfix_log_path(), LOG_TAIL_LINES),
                );
            }
            thread::sleep(Duration::from_millis(25));
        }
    }
}

/// Number of messages in a Maildir's `new/` and `cur/`.
pub(crate) fn count_messages(maildir: &Path) -> usize {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| fs::read_dir(maildir.join(sub)).ok())
        .flat_map(|rd| rd.flatten())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .count()
}

/// Number of regular files below `dir` (recursively; Postfix hashes some
/// queues into subdirectories).
pub(crate) fn count_files(dir: &Path) -> usize {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => count_files(&e.path()),
            Ok(t) if t.is_file() => 1,
            _ => 0,
        })
        .sum()
}
