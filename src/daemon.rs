//! The loop: wait for mail (IDLE, or polling), process what is new, send what is due.
//!
//! [`once`] is a single pass (for cron, the demo and tests); [`run`] is the daemon. Both are built
//! from the same steps on [`Desk`]: [`Desk::sync`] (fetch → record → parse → decide → store every
//! message not yet recorded; see [`crate::pipeline`]) and [`Desk::send_due`] (drain the outbox).
//! Shutdown is an injected future: when it completes, the message in hand is finished and the
//! loop returns.
//!
//! The clocks are read here and passed down: the system clock (`Timestamp::now`) for what
//! happens to mail (recorded, claimed, sent, retried), and the daemon's clock ([`clock::now`],
//! which `SMEBRIDGE_CLOCK_START` can move) for scheduling (the daily summary, when the mailbox
//! was last read). Whether a mail is late is judged on its arrival time at the server.
//!
//! A first start on a full mailbox would answer everything in it, also old mail that is no
//! application: unless every event has `opens` (mail before it is recorded, not answered), a
//! first start that finds more than `[replies] backlog_limit` messages records and sends nothing
//! and says so ([`BacklogRefused`]), until it is started with `--accept-backlog`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use jiff::Timestamp;
use rand::RngExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, instrument, warn};

use crate::config::Config;
use crate::domain::{Outcome, ReadPlan};
use crate::imap::{batches, ConnectError, Connection, Fetched, Woken, FETCH_BATCH, FETCH_BATCH_BYTES};
use crate::instance::Instance;
use crate::isolate::{trial_read, ApartReader, ChildForms};
use crate::outbox::{Backoff, SendReport, Sender, SmtpLoginRefused};
use crate::pipeline::{self, promote_waitlisted, Incoming, Processed, Raw, Readers, Rules};
use crate::reply::Replier;
use crate::smtp::Smtp;
use crate::store::{MailboxUid, Store, Synced};
use crate::{clock, staff, summary};

/// Everything a pass needs, opened once.
pub struct Desk {
    pub config: Config,
    pub store: Store,
    replier: Replier,
    sender: Sender<Smtp>,
    /// Reads a large message in a child process, with the center's address and announcements.
    apart: ApartReader,
    /// Answer whatever a first start finds in the mailbox (`--accept-backlog`).
    accept_backlog: bool,
    /// Opened beside a running daemon that holds the claim ([`Desk::open_for_staff`]): it may
    /// write corrections, one transaction each, but never read the mailbox or send mail. The
    /// daemon's pid, when its lock file names it (to nudge it: [`Desk::nudge_daemon`]).
    beside_daemon: Option<Option<u32>>,
}

/// The signal a staff command sends the daemon after writing beside it ([`Desk::nudge_daemon`]):
/// "replies are waiting: make a pass now", instead of at the next mail or IDLE timeout. Every
/// smebridge that can hold the claim ignores it (`main` sets that up first), and `run` listens
/// for it before it claims the database, so a nudge never kills the holder. A daemon older than
/// this nudge cannot be beside a newer staff command: the schema differs (migration 0015), and
/// a staff command refuses a database at another schema version.
pub const NUDGE: libc::c_int = libc::SIGUSR1;

/// How `once` and `run` start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Start {
    /// `--accept-backlog`: a first start answers everything already in the mailbox, however
    /// much it is.
    pub accept_backlog: bool,
}

/// A first start found more old mail than it may answer without being told to. Nothing was
/// recorded or sent. The daemon stops on it rather than retrying: only staff can decide.
#[derive(Debug, thiserror::Error)]
#[error(
    "this is the first start and the mailbox {mailbox} already holds {messages} messages, more than [replies] \
     backlog_limit = {limit}; as {without} no opens, smebridge would answer every one of them, old mail too \
     (replies to earlier announcements, newsletters). Nothing was recorded or sent. Set opens (RFC 3339) in every \
     event: mail that arrived before it is recorded and never answered. Or start with --accept-backlog to answer \
     them all"
)]
pub struct BacklogRefused {
    pub mailbox: String,
    pub messages: usize,
    pub limit: u64,
    /// `event ws-2211 has`, `events main, sem-2212 have`.
    pub without: String,
}

/// What one sync of the mailbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Messages recorded now.
    pub recorded: usize,
    /// Messages whose bytes were already recorded (new UID for known bytes).
    pub known: usize,
    /// Replies queued.
    pub replies_queued: usize,
    /// Of `recorded`, messages held for staff unread because reading them stops smebridge.
    pub quarantined: usize,
    /// Messages gone before they could be fetched (listed, then gone; or handed a UID and gone
    /// before the mailbox was listed). Staff are told in the summary.
    pub vanished: usize,
}

/// What `smebridge once` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub sync: SyncReport,
    pub send: SendReport,
}

impl Desk {
    /// Load the templates, set up SMTP, claim the database (one smebridge per database: a second
    /// one fails here, at once, with [`crate::instance::Busy`]) and open it. Fails on any
    /// configuration problem before the database is touched.
    pub fn open(config: Config) -> Result<Desk> {
        let replier = Replier::new(&config)?;
        let smtp = Arc::new(Smtp::new(&config.smtp)?);
        let store = Store::open(Instance::claim(&config.database.path)?)?;
        let bcc = config.smtp.bcc_self.then(|| config.own_address());
        let sender = Sender::new(smtp, config.replies.limits, bcc, Timestamp::now);
        let apart = ApartReader::of(&config);
        Ok(Desk { config, store, replier, sender, apart, accept_backlog: false, beside_daemon: None })
    }

    /// [`Desk::open`] for a staff correction: when another smebridge (the daemon) holds the
    /// claim, the database is opened beside it instead ([`Store::open_beside_daemon`]); then
    /// [`Desk::beside_daemon`] is true, each correction is one transaction, and the replies it
    /// queues wait in the outbox for the daemon's next pass ([`Desk::send_due`] refuses).
    pub fn open_for_staff(config: Config) -> Result<Desk> {
        match Desk::open(config.clone()) {
            Ok(desk) => Ok(desk),
            Err(e) if e.downcast_ref::<crate::instance::Busy>().is_some() => {
                let pid = e.downcast_ref::<crate::instance::Busy>().and_then(|busy| busy.pid);
                let replier = Replier::new(&config)?;
                let smtp = Arc::new(Smtp::new(&config.smtp)?);
                let store = Store::open_beside_daemon(&config.database.path)?;
                let bcc = config.smtp.bcc_self.then(|| config.own_address());
                let sender = Sender::new(smtp, config.replies.limits, bcc, Timestamp::now);
                let apart = ApartReader::of(&config);
                Ok(Desk { config, store, replier, sender, apart, accept_backlog: false, beside_daemon: Some(pid) })
            }
            Err(e) => Err(e),
        }
    }

    /// Opened beside the running daemon ([`Desk::open_for_staff`]): nothing may be sent from here.
    pub fn beside_daemon(&self) -> bool {
        self.beside_daemon.is_some()
    }

    /// Beside the running daemon: ask it to make a pass now ([`NUDGE`]), so that the replies
    /// a correction queued go out at once. The daemon's pid, when it could be asked.
    /// Only a process that is smebridge (by `/proc/PID/comm`) is signalled: a pid left in the
    /// lock file may now be another program's (reused, or of another pid namespace).
    pub fn nudge_daemon(&self) -> Option<u32> {
        let pid = self.beside_daemon.flatten()?;
        let pid_t = libc::pid_t::try_from(pid).ok().filter(|&p| p > 0)?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        if comm.trim_end() != "smebridge" {
            return None;
        }
        // SAFETY: kill(2) with a pid the claim's lock file names; the holder ignores or handles
        // NUDGE (see its docs).
        (unsafe { libc::kill(pid_t, NUDGE) } == 0).then_some(pid)
    }

    /// Staff give a message or an application to an event (`smebridge application
    /// assign-event`), now; its replies are queued (send them with [`Desk::send_due`]).
    pub fn assign_event(
        &mut self,
        reference: staff::Reference,
        event: &crate::domain::EventId,
    ) -> Result<staff::Assigned> {
        let rules = Rules { config: &self.config, replier: &self.replier };
        staff::assign_event(&mut self.store, rules, reference, event, Timestamp::now())
    }

    /// Run a staff correction with the desk's rules (configuration and reply templates); the
    /// replies it queues wait for [`Desk::send_due`].
    /// The correction is one transaction (so it can run beside the daemon, see
    /// [`Desk::open_for_staff`]).
    pub fn correct<T>(&mut self, f: impl FnOnce(&mut Store, Rules<'_>) -> Result<T>) -> Result<T> {
        let rules = Rules { config: &self.config, replier: &self.replier };
        self.store.group(|store| f(store, rules))
    }

    /// Refuse a first start on a mailbox that holds more than `backlog_limit` messages while
    /// some event has no `opens` (see [`BacklogRefused`]), unless told to accept it.
    fn check_backlog(&self, listed: usize) -> Result<()> {
        let limit = self.config.replies.backlog_limit;
        let without: Vec<&str> =
            self.config.events.iter().filter(|e| e.opens.is_none()).map(|e| e.id.as_str()).collect();
        if self.accept_backlog || without.is_empty() || listed as u64 <= limit || self.store.message_count()? > 0 {
            return Ok(());
        }
        let without = match without.as_slice() {
            [one] => format!("event {one} has"),
            many => format!("events {} have", many.join(", ")),
        };
        Err(BacklogRefused { mailbox: self.config.imap.mailbox.clone(), messages: listed, limit, without }.into())
    }

    /// Record every message in the selected mailbox that is not recorded yet, oldest UID first.
    /// Stops between messages when `shutdown` is cancelled.
    #[instrument(skip_all, fields(mailbox = %self.config.imap.mailbox))]
    pub async fn sync(
        &mut self,
        conn: &mut Connection,
        uidvalidity: u32,
        shutdown: &CancellationToken,
    ) -> Result<SyncReport> {
        let mailbox = self.config.imap.mailbox.clone();
        // A renumbered mailbox is rescanned whole (nothing is recorded under the new numbers) and
        // staff are told; see `Store::note_selected`.
        let (_, rescan) = self.store.note_selected(&mailbox, uidvalidity, conn.take_uid_next(), Timestamp::now())?;
        self.resolve_interrupted_sends(conn).await?;
        let rules = Rules { config: &self.config, replier: &self.replier };
        promote_waitlisted(&mut self.store, rules, Timestamp::now())?;

        let listed = conn.uids().await?;
        self.check_backlog(listed.len())?;
        let done = self.store.processed_uids(&mailbox, uidvalidity)?;
        let mut todo: Vec<u32> = listed.difference(&done).copied().collect();
        todo.sort_unstable();

        let mut report = SyncReport::default();
        // 1. fetch: the sizes first, then the messages in batches bounded by count and bytes
        // (a batch is held whole while it is recorded and read).
        let sizes = conn.sizes(&todo).await?;
        report.vanished += todo.len() - sizes.len();
        let size_of: HashMap<u32, u64> = sizes.iter().copied().collect();
        for batch in batches(&sizes, FETCH_BATCH, FETCH_BATCH_BYTES) {
            if shutdown.is_cancelled() {
                break;
            }
            let batch: Vec<(u32, u64)> =
                batch.iter().map(|uid| (*uid, size_of.get(uid).copied().unwrap_or(0))).collect();
            let fetched = conn.fetch(&batch, self.config.imap.max_message_size).await?;
            let got: HashSet<u32> = fetched.iter().map(|f| f.uid).collect();
            report.vanished += batch.iter().filter(|(uid, _)| !got.contains(uid)).count();
            let interrupted = self.read_batch(&mailbox, uidvalidity, fetched, shutdown, &mut report)?;
            // The batch is committed: its replies may go out while the next batch is read.
            self.sender.pump(&mut self.store, Timestamp::now(), Backoff::Respect)?;
            if interrupted {
                return Ok(report);
            }
        }
        let synced = Synced {
            listed: &listed,
            vanished_at_fetch: report.vanished,
            known: report.known,
            recorded: report.recorded,
        };
        report.vanished += self.store.note_synced(&mailbox, uidvalidity, rescan, &synced, Timestamp::now())?;
        if report != SyncReport::default() {
            info!(
                recorded = report.recorded,
                held_unread = report.quarantined,
                known = report.known,
                replies = report.replies_queued,
                vanished = report.vanished,
                "mailbox synced"
            );
        }
        if let Some(target) = &self.config.imap.processed_mailbox {
            // Only what is committed moves; a crash before the move just means it moves next time.
            let recorded = self.store.processed_uids(&mailbox, uidvalidity)?;
            let mut to_move: Vec<u32> = listed.intersection(&recorded).copied().collect();
            to_move.sort_unstable();
            for chunk in to_move.chunks(500) {
                conn.move_to(chunk, target).await?;
            }
        }
        Ok(report)
    }

    /// A fetched batch through the rest of the pipeline. Messages whose earlier reading never
    /// finished go first, each on its own; then the batch: 2. record (the raw bytes, marked as
    /// being read, one commit) → 3. parse (no transaction open) → 4. decide and 5. store (one
    /// group commit, which turns the markers into outcomes; no UID of it counts as processed
    /// before that commit). Returns whether `shutdown` stopped it.
    fn read_batch(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        fetched: Vec<Fetched>,
        shutdown: &CancellationToken,
        report: &mut SyncReport,
    ) -> Result<bool> {
        let incoming = fetched.into_iter().map(incoming).collect();
        let (suspects, batch): (Vec<_>, Vec<_>) = pipeline::sort(&self.store, incoming)?
            .into_iter()
            .partition(|a| matches!(a.plan, ReadPlan::Alone | ReadPlan::Hold { .. }));
        let rules = Rules { config: &self.config, replier: &self.replier };
        // Attached forms, large messages and trials each in a confined child process
        // (`crate::isolate`).
        let apart = |raw: &[u8]| self.apart.read(raw);
        let readers = Readers { forms: &ChildForms, apart: &apart, trial: &trial_read };
        for arrival in suspects {
            if shutdown.is_cancelled() {
                return Ok(true);
            }
            let at = MailboxUid { mailbox, uidvalidity, uid: arrival.incoming.uid };
            let now = Timestamp::now();
            let processed = pipeline::read_suspect(&mut self.store, rules, at, arrival, readers, now)?;
            report.count(&processed);
        }

        pipeline::record(&mut self.store, &batch, Timestamp::now())?;
        let parsed = pipeline::parse(batch, &self.config, readers, shutdown);
        let unread = pipeline::unread(&parsed);
        // Its outcomes are recorded as of the end of its reading.
        let now = Timestamp::now();
        let stored = self.store.group(|store| {
            let mut stored = Vec::with_capacity(parsed.len());
            for message in parsed {
                let at = MailboxUid { mailbox, uidvalidity, uid: message.uid };
                stored.push(pipeline::decide_and_store(store, rules, at, message, now)?);
            }
            Ok(stored)
        });
        // What the pass stopped before reading is no sign against it, whatever else happened.
        pipeline::release(&mut self.store, &unread)?;
        for processed in stored? {
            report.count(&processed);
        }
        Ok(shutdown.is_cancelled())
    }

    /// Replies an earlier process left in `sending` (it died mid-send) are not blindly resent:
    /// with `bcc_self`, the copy in our own mailbox says whether the server took the reply
    /// (then it counts as sent) or not (then it is sent again). Without it nobody can tell, so
    /// the reply is marked `unknown` for staff. Only rows older than `sending_grace` are looked
    /// at, so that a copy still on its way is not missed.
    async fn resolve_interrupted_sends(&mut self, conn: &mut Connection) -> Result<()> {
        self.sender.settle(&mut self.store, Timestamp::now()).await?;
        let grace = jiff::SignedDuration::try_from(self.config.smtp.sending_grace)?;
        let before = Timestamp::now().checked_sub(grace)?;
        for (claim, message_id) in self.store.interrupted_sends(before)? {
            let id = claim.id;
            // Each change is conditional on the row still being in `sending` under that attempt.
            let changed = if !self.config.smtp.bcc_self {
                warn!(outbox = id, "a reply was interrupted mid-send; whether it went out is unknown");
                self.store.mark_unknown(claim, "interrupted mid-send; no copy to check (bcc_self is off)")?
            } else if conn.has_message_id(&message_id).await? {
                info!(outbox = id, "a reply interrupted mid-send had reached the server");
                self.store.mark_sent(claim, Timestamp::now())?
            } else {
                info!(outbox = id, "a reply interrupted mid-send had not reached the server; sending it again");
                self.store.mark_retry(claim, Timestamp::now(), "interrupted mid-send before the server took it")?
            };
            if !changed {
                warn!(outbox = id, "an interrupted reply was changed by someone else meanwhile; left as it is");
            }
        }
        Ok(())
    }

    /// Send the replies that are due.
    pub async fn send_due(&mut self, backoff: Backoff) -> Result<SendReport> {
        anyhow::ensure!(self.beside_daemon.is_none(), "the running smebridge sends the replies, not this one");
        self.sender.finish(&mut self.store, Timestamp::now(), backoff).await
    }

    /// Remember that the mailbox was read whole, by a sync that began at `began` (on the daemon's
    /// clock): the staff summary states it.
    pub fn note_read(&mut self, began: Timestamp) -> Result<()> {
        self.store.note_mailbox_read(&self.config.imap.mailbox, began)
    }

    /// Make and queue the staff summary if it is due at `now` (on the daemon's clock). Only after
    /// a sync that read the mailbox whole: a summary from a mailbox that was not read would tell
    /// staff that nothing came in.
    pub fn summary_if_due(&mut self, now: Timestamp) -> Result<Option<jiff::civil::Date>> {
        summary::summary_if_due(&mut self.store, &self.config, now)
    }

    /// Queue the reminders and thank-yous due at `now` (on the daemon's clock; see
    /// [`pipeline::queue_scheduled`]).
    pub fn queue_scheduled(&mut self, now: Timestamp) -> Result<usize> {
        let rules = Rules { config: &self.config, replier: &self.replier };
        pipeline::queue_scheduled(&mut self.store, rules, now)
    }

    fn rules(&self) -> Rules<'_> {
        Rules { config: &self.config, replier: &self.replier }
    }

    /// How long until the next reply retry is due (`None`: nothing pending).
    fn until_next_reply(&self) -> Result<Option<Duration>> {
        let Some(due) = self.store.next_reply_due()? else { return Ok(None) };
        let wait = due.duration_since(Timestamp::now());
        Ok(Some(Duration::try_from(wait).unwrap_or(Duration::ZERO)))
    }
}

/// One pass: record every new message, make the staff summary if it is due, then send every
/// pending reply (retry times are ignored: whoever runs `once` wants the queue drained now).
///
/// Only a pass that read the mailbox makes a summary. When the mailbox cannot be read:
/// - the server refused the login (a wrong username or password: the configuration is wrong):
///   nothing at all is sent and the error says so;
/// - anything else (unreachable, timeouts, a connection lost mid-sync): pending replies still go
///   out, as in the daemon, but no summary; the error says so.
///
/// Both return an error (`smebridge once` exits non-zero), and so does a pass whose SMTP login
/// was refused ([`SmtpLoginRefused`]: nothing is marked failed, every reply stays pending).
pub async fn once(config: Config, start: Start) -> Result<PassReport> {
    let mut desk = Desk::open(config)?;
    desk.accept_backlog = start.accept_backlog;
    let never = CancellationToken::new();
    let began = clock::now();
    let synced = async {
        let (mut conn, selected) = Connection::open(&desk.config.imap).await?;
        let report = desk.sync(&mut conn, selected.uidvalidity, &never).await?;
        conn.logout().await;
        anyhow::Ok(report)
    }
    .await;
    let sync = match synced {
        Ok(sync) => sync,
        Err(e) if matches!(e.downcast_ref::<ConnectError>(), Some(ConnectError::LoginRefused { .. })) => {
            // Nothing was synced, so nothing was handed to SMTP either.
            return Err(e.context("cannot log in to the mailbox; nothing was sent (no reply, no staff summary)"));
        }
        // Nothing recorded, nothing to send: staff must decide first.
        Err(e) if e.is::<BacklogRefused>() => return Err(e),
        Err(e) => {
            let sent = match desk.send_due(Backoff::Ignore).await {
                Ok(send) => {
                    format!("pending replies: sent {}, retrying {}, failed {}", send.sent, send.retrying, send.failed)
                }
                Err(smtp) if smtp.is::<SmtpLoginRefused>() => format!("pending replies: {smtp}"),
                Err(smtp) => return Err(smtp.context(format!("{:#}", e.context("cannot read the mailbox")))),
            };
            return Err(e.context(format!("cannot read the mailbox; no staff summary was made; {sent}")));
        }
    };
    desk.note_read(began)?;
    desk.summary_if_due(clock::now())?;
    desk.queue_scheduled(clock::now())?;
    // A refused SMTP login fails the pass: the configuration is wrong. What was recorded stays
    // recorded, and every reply (the staff summary too) waits in the outbox.
    let send = desk.send_due(Backoff::Ignore).await.with_context(|| {
        format!("recorded {} new message(s), queued {} repl(ies)", sync.recorded, sync.replies_queued)
    })?;
    Ok(PassReport { sync, send })
}

/// The daemon. Returns when `shutdown` completes (after finishing the message in hand), or with
/// an error only for problems a restart would not fix (e.g. the database cannot be opened).
pub async fn run(config: Config, start: Start, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    // Before the claim: once the lock file names this process, staff commands may nudge it.
    let nudge = listen_for_nudges();
    let mut desk = Desk::open(config)?;
    desk.accept_backlog = start.accept_backlog;
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    info!(mailbox = %desk.config.imap.mailbox, "smebridge is running");

    // Failures since the last pass that completed: the backoff grows with them, whether the
    // mailbox could not be reached or a pass failed after logging in (a full disk, say).
    let mut failures: u32 = 0;
    while !token.is_cancelled() {
        match session(&mut desk, &token, &nudge, &mut failures).await {
            Ok(()) => break,
            Err(failed) if failed.error.is::<BacklogRefused>() => return Err(failed.error),
            Err(SessionError { error: e, stage }) => {
                failures = failures.saturating_add(1);
                let delay = reconnect_delay(failures, rand::rng().random_range(0.0..1.0))
                    .max(crate::imap::suggested_backoff(&e).unwrap_or_default());
                let error = format!("{e:#}");
                let retry_in_s = delay.as_secs();
                warn!(error, retry_in_s, "{}", what_failed(stage, &e));
                // The outbox does not depend on IMAP: keep answering while the mailbox is away.
                if let Err(e) = send_due_in_daemon(&mut desk).await {
                    error!(error = %format!("{e:#}"), "cannot send replies");
                }
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = token.cancelled() => {}
                }
            }
        }
    }
    info!("smebridge stopped");
    Ok(())
}

/// Where a session failed: what the daemon's warning names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Connecting to the mailbox and logging in.
    Connect,
    /// A pass after logging in: reading the mailbox, recording, sending, waiting.
    Pass,
}

struct SessionError {
    error: anyhow::Error,
    stage: Stage,
}

/// The daemon's warning for a failed session, by what failed.
fn what_failed(stage: Stage, error: &anyhow::Error) -> &'static str {
    match stage {
        Stage::Connect => "cannot connect to the mailbox; retrying",
        Stage::Pass if error.chain().any(|cause| cause.is::<rusqlite::Error>()) => {
            "the pass failed: the database could not be used; retrying"
        }
        Stage::Pass => "the pass failed; retrying",
    }
}

/// Send what is due. A refused SMTP login is logged, not returned: the daemon goes on reading
/// the mailbox, and the replies wait in the outbox (with a backoff, see `crate::outbox`).
async fn send_due_in_daemon(desk: &mut Desk) -> Result<()> {
    match desk.send_due(Backoff::Respect).await {
        Ok(_) => Ok(()),
        Err(e) => match e.downcast_ref::<SmtpLoginRefused>() {
            Some(refused) => {
                error!(retry_in_s = refused.retry_in.as_secs(), "{refused}");
                Ok(())
            }
            None => Err(e),
        },
    }
}

/// One IMAP connection's life: sync, send, wait; until shutdown (Ok) or an error (Err, with
/// where it happened). `failures` is set back to 0 only when a pass completed (the mailbox read
/// whole and what was due sent), so an error right after each login still backs off.
async fn session(
    desk: &mut Desk,
    shutdown: &CancellationToken,
    nudge: &Notify,
    failures: &mut u32,
) -> Result<(), SessionError> {
    let (conn, selected) =
        Connection::open(&desk.config.imap).await.map_err(|error| SessionError { error, stage: Stage::Connect })?;
    passes(desk, conn, selected.uidvalidity, shutdown, nudge, failures)
        .await
        .map_err(|error| SessionError { error, stage: Stage::Pass })
}

/// The passes on one logged-in connection (see [`session`]).
async fn passes(
    desk: &mut Desk,
    mut conn: Connection,
    uidvalidity: u32,
    shutdown: &CancellationToken,
    nudge: &Notify,
    failures: &mut u32,
) -> Result<()> {
    if !conn.has_idle() {
        info!(poll_interval_s = desk.config.imap.poll_interval.as_secs(), "the server has no IDLE; polling");
    }
    loop {
        let began = clock::now();
        desk.sync(&mut conn, uidvalidity, shutdown).await?;
        if shutdown.is_cancelled() {
            conn.logout().await;
            return Ok(());
        }
        // Read whole: only now may a summary be made.
        desk.note_read(began)?;
        desk.summary_if_due(clock::now())?;
        desk.queue_scheduled(clock::now())?;
        send_due_in_daemon(desk).await?;
        // A pass completed: the next failure starts the backoff afresh.
        *failures = 0;

        let mut wait = if conn.has_idle() { desk.config.imap.idle_timeout } else { desk.config.imap.poll_interval };
        if let Some(next) = desk.until_next_reply()? {
            wait = wait.min(next.max(Duration::from_secs(1)));
        }
        wait = wait.min(summary::until_next(&desk.config, clock::now()) + Duration::from_millis(200));
        if let Some(next) = pipeline::until_next_scheduled(desk.rules(), clock::now()) {
            wait = wait.min(next + Duration::from_millis(200));
        }
        let woken = if conn.has_idle() {
            // A nudge ends the IDLE as shutdown would (DONE, the connection kept), but only
            // this round's token is cancelled.
            let round = shutdown.child_token();
            let idled = CancellationToken::new();
            let idle = async {
                let result = conn.idle(wait, &round).await;
                idled.cancel();
                result
            };
            let watch = async {
                tokio::select! {
                    _ = nudge.notified() => round.cancel(),
                    _ = idled.cancelled() => {}
                }
            };
            let (result, ()) = tokio::join!(idle, watch);
            let (back, woken) = result?;
            conn = back;
            match woken {
                Woken::Shutdown if !shutdown.is_cancelled() => Woken::Nudged,
                woken => woken,
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(wait) => Woken::Timeout,
                _ = nudge.notified() => Woken::Nudged,
                _ = shutdown.cancelled() => Woken::Shutdown,
            }
        };
        if woken == Woken::Nudged {
            info!("a staff command queued replies; making a pass now");
        }
        if woken == Woken::Shutdown {
            conn.logout().await;
            return Ok(());
        }
    }
}

impl SyncReport {
    fn count(&mut self, processed: &Processed) {
        match processed {
            Processed::AlreadyRecorded => self.known += 1,
            Processed::Recorded { outcome, reply } => {
                self.recorded += 1;
                self.replies_queued += usize::from(reply.is_some());
                self.quarantined += usize::from(*outcome == Outcome::Quarantined);
            }
            Processed::Left => {}
        }
    }
}

fn incoming(fetched: Fetched) -> Incoming {
    Incoming {
        uid: fetched.uid,
        arrived_at: fetched.arrived_at,
        raw: Raw::new(fetched.raw),
        too_large: fetched.original_size,
    }
}

/// Listen for [`NUDGE`]: each one wakes the daemon's wait (one stored, if it comes mid-pass).
fn listen_for_nudges() -> Arc<Notify> {
    let nudge = Arc::new(Notify::new());
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()) {
        Ok(mut signals) => {
            let woken = nudge.clone();
            tokio::spawn(async move {
                while signals.recv().await.is_some() {
                    woken.notify_one();
                }
            });
        }
        Err(e) => warn!(error = %e, "cannot listen for staff commands' nudges; their replies wait for the next pass"),
    }
    nudge
}

/// Jittered exponential backoff for reconnecting: 1 s, 2 s, 4 s … capped at 5 minutes, each
/// stretched by up to half again by `jitter` (0..1), so that a fleet does not reconnect in step.
pub fn reconnect_delay(failures: u32, jitter: f64) -> Duration {
    let base = 1u64 << failures.saturating_sub(1).min(9);
    let capped = base.min(300) as f64;
    Duration::from_secs_f64(capped * (1.0 + 0.5 * jitter.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_backoff_grows_is_capped_and_never_zero() {
        assert_eq!(reconnect_delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(reconnect_delay(2, 0.0), Duration::from_secs(2));
        assert_eq!(reconnect_delay(5, 0.0), Duration::from_secs(16));
        assert_eq!(reconnect_delay(50, 0.0), Duration::from_secs(300));
        assert_eq!(reconnect_delay(50, 1.0), Duration::from_secs(450));
        assert!(reconnect_delay(0, 0.0) >= Duration::from_secs(1));
    }

    #[test]
    fn the_warning_says_what_failed() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        );
        let full = anyhow::Error::from(full).context("cannot record the message");
        assert_eq!(what_failed(Stage::Pass, &full), "the pass failed: the database could not be used; retrying");
        let imap = anyhow::anyhow!("connection reset").context("IMAP UID FETCH failed");
        assert_eq!(what_failed(Stage::Pass, &imap), "the pass failed; retrying");
        assert_eq!(what_failed(Stage::Connect, &imap), "cannot connect to the mailbox; retrying");
    }
}
