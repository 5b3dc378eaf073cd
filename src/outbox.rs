//! Sending what the outbox holds: each pending reply is marked `sending` (its attempt counted)
//! before it is handed to SMTP, then `sent`, back to `pending` with a later retry time, or
//! `failed` when the server refused it for good or it kept failing for two days. Nothing is ever
//! dropped silently: every outcome is written back to its row.
//!
//! A refused SMTP login (a wrong password, a refused OAuth2 token) is no property of one reply:
//! the pass stops at once, the replies in hand go back to `pending` without their attempt
//! counted, every pending reply waits a backoff that grows while the login keeps being refused
//! (1 min, 2, 4, … 1 hour), and the pass ends with [`SmtpLoginRefused`]. Once the server
//! accepts the login, they all go out (`smebridge once` tries at once whatever the backoff).
//!
//! No clock is read here. Each pass is given `now`, its time: what is due, when a hold ends and
//! when a retry is due are reckoned from it. When the server took a reply (`sent_at`, which the
//! rate limits count) is stamped by the clock the [`Sender`] was made with.

use std::time::Duration;

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Result;
use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinSet;
use tracing::{debug, error, info, instrument, warn};

use crate::domain::{rate_limit_wait, EmailAddress, ReplyLimits, SentCounts};
use crate::smtp::{ReplyTransport, SendError};
use crate::store::{Claim, Envelope, Hold, OutboxRow, Store};

/// After this many failed attempts a temporary failure counts as permanent (about two days with
/// the delays of [`retry_delay`]).
pub const MAX_ATTEMPTS: u32 = 60;

/// Whether to wait for each reply's retry time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The daemon: only replies whose retry time has come.
    Respect,
    /// `smebridge once`: every pending reply, now.
    Ignore,
}

/// A pass stopped because the SMTP server refused our login: nothing was marked failed, the
/// replies stay pending. The daemon logs it and goes on; `once` and `summary --send` fail with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the SMTP server refused the login (wrong password?): replies are kept and will be sent once it accepts \
     ({sent} sent before the refusal, {kept} pending; {refusal})"
)]
pub struct SmtpLoginRefused {
    /// What the server (or the token source) said.
    pub refusal: String,
    /// Replies this pass sent before the refusal (none, unless the server accepted some logins).
    pub sent: usize,
    /// Replies (and staff summaries) waiting in the outbox.
    pub kept: usize,
    /// When the daemon tries again.
    pub retry_in: Duration,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Held back by a rate limit; they go out later.
    pub held: usize,
    /// Timed out with the outcome unknown: left in `sending` for the next pass to resolve.
    pub in_doubt: usize,
}

/// The wait before retry number `attempts + 1`: 1 min, 2, 4, … capped at 1 hour.
pub fn retry_delay(attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(6);
    Duration::from_secs((60u64 << exponent).min(3600))
}

/// How many replies may be claimed (marked `sending`) and handed to the SMTP tasks at once (the
/// transport itself sends [`crate::smtp::POOL_SIZE`] at a time). Two fetch batches' worth: the daemon tops the
/// window up only between batches (a reply can be claimed only once the batch that caused it has
/// committed), so a smaller window would leave the connections idle while a batch is recorded.
/// A crash leaves at most this many replies in doubt, each resolved by the interrupted-send check.
const WINDOW: usize = 2 * crate::imap::FETCH_BATCH;

/// A reply marked `sending`, ready to go.
struct Claimed {
    claim: Claim,
    row: OutboxRow,
    envelope: Envelope,
}

/// A send's outcome: when the server took the reply, or why not.
type Outcome = (Claimed, Result<Timestamp, SendError>);

/// Hands replies to SMTP in the background while the daemon goes on recording mail.
///
/// [`Sender::pump`] never waits: it writes back the outcomes of sends that have finished, then
/// claims due replies (rate limits checked, attempt counted, state `sending`, in one transaction)
/// and starts them as tasks, up to [`WINDOW`] in flight. [`Sender::finish`] pumps until nothing
/// is due and nothing is in flight. Only the caller's task touches the database (one writer);
/// the tasks only talk SMTP. A crash while replies are in flight leaves them in `sending`, which
/// the next pass resolves without a blind resend (see `crate::daemon`).
pub struct Sender<T> {
    transport: Arc<T>,
    limits: ReplyLimits,
    bcc: Option<EmailAddress>,
    /// Stamps when the server took a reply.
    clock: fn() -> Timestamp,
    in_flight: JoinSet<Outcome>,
    /// Rows with an id up to this one were looked at in this pass (see [`Store::due_replies`]).
    after: i64,
    /// Replies attempted in this pass: one attempt per reply per pass, also when a pass that
    /// ignores retry times (`once`) follows the pumping during its sync.
    attempted: HashSet<i64>,
    report: SendReport,
    /// The SMTP server refused our login in this pass (what it said): no more replies are
    /// claimed until the pass ends with [`SmtpLoginRefused`].
    refused: Option<String>,
    /// Passes in a row whose login was refused (the backoff grows with them); 0 once a reply
    /// went out.
    refusals: u32,
    /// After a refused login, no reply is tried before this, unless a pass ignores retry times.
    paused_until: Option<Timestamp>,
}

impl<T: ReplyTransport + Send + Sync + 'static> Sender<T> {
    /// `clock` stamps when the server took each reply (the daemon gives the system clock).
    pub fn new(
        transport: Arc<T>,
        limits: ReplyLimits,
        bcc: Option<EmailAddress>,
        clock: fn() -> Timestamp,
    ) -> Sender<T> {
        Sender {
            transport,
            limits,
            bcc,
            clock,
            in_flight: JoinSet::new(),
            after: 0,
            attempted: HashSet::new(),
            report: SendReport::default(),
            refused: None,
            refusals: 0,
            paused_until: None,
        }
    }

    /// Whether no reply may be claimed now: the login was refused in this pass, or (unless the
    /// pass ignores retry times) it was refused recently. Replies that come due meanwhile are
    /// put off until the pause ends, so that nobody waits on them in vain.
    fn paused(&self, store: &Store, now: Timestamp, backoff: Backoff) -> Result<bool> {
        if self.refused.is_some() {
            return Ok(true);
        }
        match self.paused_until {
            Some(until) if backoff == Backoff::Respect && now < until => {
                store.postpone_due(until)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Write back what has finished, then start due replies up to the window. Never waits.
    pub fn pump(&mut self, store: &mut Store, now: Timestamp, backoff: Backoff) -> Result<()> {
        let mut done = Vec::new();
        while let Some(joined) = self.in_flight.try_join_next() {
            done.extend(finished(joined));
        }
        self.record(store, &done, now)?;
        if self.paused(store, now, backoff)? {
            return Ok(());
        }
        // After a refused login, one reply at a time until one goes out: each SMTP connection
        // logs in, and a provider counts every refused login towards locking the account.
        let window = if self.refusals > 0 { 1 } else { WINDOW };
        while self.in_flight.len() < window {
            let room = window - self.in_flight.len();
            let mut rows = store.due_replies(now, backoff == Backoff::Ignore, self.after, room)?;
            let Some(last) = rows.last() else { break };
            self.after = last.id;
            rows.retain(|row| self.attempted.insert(row.id));
            let limits = self.limits;
            let report = &mut self.report;
            for claimed in store.group(|store| claim(store, rows, now, limits, report))? {
                let transport = Arc::clone(&self.transport);
                let bcc = self.bcc.clone();
                let clock = self.clock;
                self.in_flight.spawn(async move {
                    let result = transport
                        .send(claimed.envelope.from.as_ref(), &claimed.envelope.to, bcc.as_ref(), &claimed.row.raw)
                        .await
                        .map(|()| clock());
                    (claimed, result)
                });
            }
        }
        Ok(())
    }

    /// Send every due reply once (`Backoff::Ignore`: every pending one), wait for all of them,
    /// and return what this pass did; [`SmtpLoginRefused`] when the server refused our login
    /// (then the pass stopped there, and every reply is kept).
    #[instrument(skip_all)]
    pub async fn finish(&mut self, store: &mut Store, now: Timestamp, backoff: Backoff) -> Result<SendReport> {
        // A fresh look at the whole queue: rows passed over while pumping (not yet due then) count.
        self.after = 0;
        loop {
            self.pump(store, now, backoff)?;
            let Some(joined) = self.in_flight.join_next().await else { break };
            let done: Vec<Outcome> = finished(joined).into_iter().collect();
            self.record(store, &done, now)?;
        }
        self.after = 0;
        self.attempted.clear();
        let report = std::mem::take(&mut self.report);
        match (self.refused.take(), self.paused_until) {
            (Some(refusal), Some(until)) => {
                // Also the replies this pass never looked at wait for the backoff.
                store.postpone_due(until)?;
                let kept = store.pending_count()?;
                let retry_in = Duration::try_from(until.duration_since(now)).unwrap_or_default();
                Err(SmtpLoginRefused { refusal, sent: report.sent, kept, retry_in }.into())
            }
            _ => Ok(report),
        }
    }

    /// Wait for the replies in flight and write back their outcomes, starting no new ones: after
    /// this, a row in `sending` is one an earlier process left there, not one of ours.
    pub async fn settle(&mut self, store: &mut Store, now: Timestamp) -> Result<()> {
        while let Some(joined) = self.in_flight.join_next().await {
            let done: Vec<Outcome> = finished(joined).into_iter().collect();
            self.record(store, &done, now)?;
        }
        Ok(())
    }

    fn record(&mut self, store: &mut Store, done: &[Outcome], now: Timestamp) -> Result<()> {
        if done.is_empty() {
            return Ok(());
        }
        if done.iter().any(|(_, result)| result.is_ok()) {
            self.refusals = 0;
            self.paused_until = None;
        }
        let refusal = done.iter().find_map(|(_, result)| match result {
            Err(SendError::LoginRefused(refusal)) => Some(refusal),
            _ => None,
        });
        if let (Some(refusal), None) = (refusal, &self.refused) {
            // Once per pass: the backoff grows with the passes refused in a row.
            self.refusals = self.refusals.saturating_add(1);
            let delay = retry_delay(self.refusals);
            self.paused_until = Some(now.saturating_add(SignedDuration::try_from(delay)?)?);
            self.refused = Some(refusal.clone());
        }
        let resume = self.paused_until.unwrap_or(now);
        let report = &mut self.report;
        store.group(|store| {
            for (claimed, result) in done {
                write_outcome(store, claimed, result, now, resume, report)?;
            }
            Ok(())
        })
    }
}

/// The outcome of a send task. A task that panicked gives none: its reply stays in `sending`,
/// for the resolver, like one interrupted by a crash.
fn finished(joined: Result<Outcome, tokio::task::JoinError>) -> Option<Outcome> {
    match joined {
        Ok(outcome) => Some(outcome),
        Err(e) => {
            error!(error = %e, "a send task failed; its reply is left for the interrupted-send check");
            None
        }
    }
}

/// Check each row's addresses and the rate limits, and claim the ones to send now
/// (`pending → sending`, their attempt counted). A row that is no longer pending when it is
/// claimed (someone else took it since it was read) is left alone and not sent.
fn claim(
    store: &mut Store,
    rows: Vec<OutboxRow>,
    now: Timestamp,
    limits: ReplyLimits,
    report: &mut SendReport,
) -> Result<Vec<Claimed>> {
    let mut claimed = Vec::with_capacity(rows.len());
    // Counted once per group (the count is over the whole last hour), then kept up to date here.
    let mut total_1h = store.sent_last_hour(now)?;
    for row in rows {
        let envelope = match &row.envelope {
            Ok(envelope) => envelope.clone(),
            Err(e) => {
                if store.fail_unsendable(row.id, &format!("bad address: {e}"))? {
                    report.failed += 1;
                } else {
                    taken_meanwhile(row.id);
                }
                continue;
            }
        };
        let counts = SentCounts { to_recipient_24h: store.sent_to(&envelope.to, now)?, total_1h };
        if let Some(wait) = rate_limit_wait(limits, counts) {
            let until = now.saturating_add(SignedDuration::try_from(wait)?)?;
            if store.hold_reply(row.id, until, Hold::RateLimit)? {
                warn!(outbox = row.id, hold_s = wait.as_secs(), "reply held back by the rate limit");
                report.held += 1;
            } else {
                taken_meanwhile(row.id);
            }
            continue;
        }
        match store.claim_reply(row.id, now)? {
            Some(claim) => {
                total_1h += 1;
                claimed.push(Claimed { claim, row, envelope });
            }
            None => taken_meanwhile(row.id),
        }
    }
    Ok(claimed)
}

/// A row read as pending was no longer pending when it was to be claimed.
fn taken_meanwhile(id: i64) {
    warn!(outbox = id, "a reply was no longer pending when it was to be sent (taken by another writer?); left alone");
}

/// Write one send's outcome back to its row. If the claim no longer holds (someone else changed
/// the row meanwhile), nothing is written over their change and the mismatch is logged. A reply
/// that was not tried because the server refused our login waits until `resume`.
fn write_outcome(
    store: &Store,
    claimed: &Claimed,
    result: &Result<Timestamp, SendError>,
    now: Timestamp,
    resume: Timestamp,
    report: &mut SendReport,
) -> Result<()> {
    let (claim, row) = (claimed.claim, &claimed.row);
    let attempts = claim.attempt;
    let held = match result {
        Ok(sent_at) => {
            let held = store.mark_sent(claim, *sent_at)?;
            if held {
                info!(outbox = row.id, kind = %row.kind, "reply sent");
                report.sent += 1;
            }
            held
        }
        Err(SendError::Ambiguous(error)) => {
            // Left in `sending`: after the grace time the next pass looks for the copy in our
            // own mailbox (bcc_self) or marks it unknown — never a blind resend.
            let held = store.note_error(claim, error)?;
            if held {
                warn!(outbox = row.id, attempts, %error, "the server did not answer; whether the reply went out will be checked");
                report.in_doubt += 1;
            }
            held
        }
        Err(SendError::LoginRefused(error)) => {
            // Not an attempt: the reply never reached the server. The pass reports it once.
            let held = store.release_claim(claim, resume, &format!("the SMTP server refused the login: {error}"))?;
            if held {
                debug!(outbox = row.id, "reply kept: the SMTP server refused the login");
            }
            held
        }
        Err(SendError::Transient(error)) if attempts < MAX_ATTEMPTS => {
            let delay = retry_delay(attempts);
            let next = now.saturating_add(SignedDuration::try_from(delay)?)?;
            let held = store.mark_retry(claim, next, error)?;
            if held {
                warn!(outbox = row.id, attempts, retry_in_s = delay.as_secs(), %error, "reply not sent; will retry");
                report.retrying += 1;
            }
            held
        }
        Err(error) => {
            let held = store.mark_failed(claim, &error.to_string())?;
            if held {
                warn!(outbox = row.id, attempts, %error, "reply failed for good");
                report.failed += 1;
            }
            held
        }
    };
    if !held {
        error!(
            outbox = row.id,
            attempts,
            sent = result.is_ok(),
            "a reply's row was changed by someone else while it was being sent; its outcome is not recorded"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// One pass of a one-off [`Sender`], as the daemon makes them.
    async fn send_due<T: ReplyTransport + Send + Sync + 'static>(
        store: &mut Store,
        transport: Arc<T>,
        now: Timestamp,
        backoff: Backoff,
        limits: ReplyLimits,
        bcc: Option<&EmailAddress>,
    ) -> Result<SendReport> {
        Sender::new(transport, limits, bcc.cloned(), Timestamp::now).finish(store, now, backoff).await
    }

    use crate::domain::{MailKind, Outcome, ReplyKind};
    use crate::store::{ApplicationWrite, Arriving, MailboxUid, MessageOutcome, NewMessage, NewReply, OutboxState};

    /// A stand-in transport for unit tests: answers from a script and records what it was given.
    struct Scripted {
        answers: Mutex<Vec<Result<(), SendError>>>,
        sent: Mutex<Vec<(Option<String>, String)>>,
    }

    impl ReplyTransport for Scripted {
        async fn send(
            &self,
            from: Option<&EmailAddress>,
            to: &EmailAddress,
            _bcc: Option<&EmailAddress>,
            _raw: &[u8],
        ) -> Result<(), SendError> {
            self.sent.lock().unwrap().push((from.map(|f| f.to_string()), to.to_string()));
            self.answers.lock().unwrap().remove(0)
        }
    }

    fn store_with_one_reply() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(crate::instance::Instance::claim(&dir.path().join("db.sqlite")).unwrap()).unwrap();
        add_reply(&mut store, "s", 1);
        (dir, store)
    }

    /// Record a message (bytes identified by `sha`, at `uid`) and queue a reply to it.
    fn add_reply(store: &mut Store, sha: &str, uid: u32) {
        let to = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let message_id = format!("m{uid}@x.example");
        let msg = NewMessage {
            arriving: Arriving { sha256: sha, arrived_at: Timestamp::now(), raw: b"x" },
            outcome: MessageOutcome {
                message_id: &message_id,
                sender: Some(&to),
                subject: None,
                outcome: Outcome::Registered,
                outcome_detail: None,
                problems: &[],
                attachments: &[],
                details: &crate::store::NO_DETAILS,
                event: None,
            },
        };
        store
            .commit_message(
                MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid },
                &msg,
                &ApplicationWrite::None,
                Timestamp::now(),
                |_| {
                    Ok(Some(NewReply {
                        kind: MailKind::Reply(ReplyKind::Ack),
                        message_id: format!("r{uid}@kaist.ac.kr"),
                        envelope_from: None,
                        recipient: to.clone(),
                        raw: b"r".to_vec(),
                        event: None,
                        calendar: None,
                    }))
                },
            )
            .unwrap();
    }

    const LIMITS: ReplyLimits = ReplyLimits { per_sender_per_day: 5, per_hour: 100 };

    fn scripted(answers: Vec<Result<(), SendError>>) -> Scripted {
        Scripted { answers: Mutex::new(answers), sent: Mutex::new(Vec::new()) }
    }

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(retry_delay(1), Duration::from_secs(60));
        assert_eq!(retry_delay(2), Duration::from_secs(120));
        assert_eq!(retry_delay(4), Duration::from_secs(480));
        assert_eq!(retry_delay(30), Duration::from_secs(3600));
    }

    #[tokio::test]
    async fn a_temporary_failure_is_retried_later_then_sent_once() {
        let (_dir, mut store) = store_with_one_reply();
        let now = Timestamp::now();
        let transport = Arc::new(scripted(vec![Err(SendError::Transient("421 busy".into())), Ok(())]));
        let first = send_due(&mut store, transport.clone(), now, Backoff::Respect, LIMITS, None).await.unwrap();
        assert_eq!(first, SendReport { sent: 0, retrying: 1, failed: 0, held: 0, in_doubt: 0 });
        let too_soon = send_due(&mut store, transport.clone(), now, Backoff::Respect, LIMITS, None).await.unwrap();
        assert_eq!(too_soon, SendReport::default(), "the retry waits for its time");
        let later = now.checked_add(SignedDuration::from_secs(61)).unwrap();
        let second = send_due(&mut store, transport.clone(), later, Backoff::Respect, LIMITS, None).await.unwrap();
        assert_eq!(second.sent, 1);
        let again = send_due(&mut store, transport.clone(), later, Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(again, SendReport::default(), "a sent reply is never sent again");
        assert_eq!(transport.sent.lock().unwrap().len(), 2);
        assert_eq!(transport.sent.lock().unwrap()[0], (None, "kim@hanbit-tech.example".to_owned()), "MAIL FROM:<>");
    }

    #[tokio::test]
    async fn the_rate_limit_holds_replies_back_without_counting_an_attempt() {
        let (_dir, mut store) = store_with_one_reply();
        add_reply(&mut store, "t", 2);
        let transport = Arc::new(scripted(vec![Ok(())]));
        let one_a_day = ReplyLimits { per_sender_per_day: 1, per_hour: 100 };
        let now = Timestamp::now();
        let report = send_due(&mut store, transport.clone(), now, Backoff::Ignore, one_a_day, None).await.unwrap();
        assert_eq!(report, SendReport { sent: 1, retrying: 0, failed: 0, held: 1, in_doubt: 0 });
        assert_eq!(transport.sent.lock().unwrap().len(), 1, "the second reply to the same address waits");
        let held = store.due_replies(now, true, 0, 100).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].attempts, 0, "holding is not an attempt");
        let later = now.checked_add(SignedDuration::from_hours(25)).unwrap();
        assert!(!store.due_replies(later, false, 0, 100).unwrap().is_empty(), "it goes out later");
    }

    #[tokio::test]
    async fn replies_in_flight_together_count_against_the_per_sender_limit() {
        let (_dir, mut store) = store_with_one_reply();
        for uid in 2..=7 {
            add_reply(&mut store, &format!("s{uid}"), uid);
        }
        let transport = Arc::new(scripted((0..7).map(|_| Ok(())).collect()));
        let five_a_day = ReplyLimits { per_sender_per_day: 5, per_hour: 100 };
        let report =
            send_due(&mut store, transport.clone(), Timestamp::now(), Backoff::Ignore, five_a_day, None).await.unwrap();
        assert_eq!(report, SendReport { sent: 5, retrying: 0, failed: 0, held: 2, in_doubt: 0 });
        assert_eq!(transport.sent.lock().unwrap().len(), 5, "sent concurrently, still at most five");
    }

    #[tokio::test]
    async fn a_timeout_is_never_resent_blindly() {
        let (_dir, mut store) = store_with_one_reply();
        let transport = Arc::new(scripted(vec![Err(SendError::Ambiguous("no answer within 10 s".into()))]));
        let now = Timestamp::now();
        let report = send_due(&mut store, transport.clone(), now, Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(report.in_doubt, 1);
        assert_eq!(store.outbox_counts().unwrap(), vec![(OutboxState::Sending, 1)]);
        let again = send_due(&mut store, transport.clone(), now, Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(again, SendReport::default(), "not picked up again by the sender");
        let later = now.checked_add(SignedDuration::from_secs(1)).unwrap();
        assert_eq!(store.interrupted_sends(later).unwrap().len(), 1, "left for the resolver");
    }

    #[tokio::test]
    async fn a_reply_taken_by_another_writer_between_reading_and_claiming_is_not_sent() {
        let (_dir, mut store) = store_with_one_reply();
        let now = Timestamp::now();
        // This sender reads the row as due…
        let rows = store.due_replies(now, true, 0, 10).unwrap();
        assert_eq!(rows.len(), 1);
        // …someone else claims it before this sender does…
        let theirs = store.claim_reply(rows[0].id, now).unwrap().expect("theirs");
        // …so this sender's claim gets nothing and nothing is handed to SMTP.
        let mut report = SendReport::default();
        let claimed = store.group(|store| claim(store, rows, now, LIMITS, &mut report)).unwrap();
        assert!(claimed.is_empty());
        assert_eq!(report, SendReport::default());
        assert_eq!(store.interrupted_sends(now.checked_add(SignedDuration::from_secs(1)).unwrap()).unwrap().len(), 1);
        assert!(store.mark_sent(theirs, now).unwrap(), "their claim still holds");
    }

    #[tokio::test]
    async fn a_refused_login_keeps_every_reply_uncounted_and_backs_off_until_the_login_works() {
        let (dir, mut store) = store_with_one_reply();
        add_reply(&mut store, "t", 2);
        add_reply(&mut store, "u", 3);
        let refused =
            || Err(SendError::LoginRefused("permanent error (535): 5.7.8 Error: authentication failed".into()));
        let transport = Arc::new(scripted((0..8).map(|_| refused()).collect()));
        let mut sender = Sender::new(transport.clone(), LIMITS, None, Timestamp::now);
        let now = Timestamp::now();
        let calls = |t: &Scripted| t.sent.lock().unwrap().len();

        // The pass stops, saying why; nothing failed, no attempt counted.
        let error = sender.finish(&mut store, now, Backoff::Respect).await.unwrap_err();
        let refusal = error.downcast_ref::<SmtpLoginRefused>().expect("a refused login");
        assert_eq!(refusal.kept, 3);
        assert_eq!(refusal.retry_in, Duration::from_secs(60));
        assert!(refusal.refusal.contains("535"));
        assert_eq!(store.outbox_counts().unwrap(), vec![(OutboxState::Pending, 3)]);
        assert!(store.due_replies(now, true, 0, 10).unwrap().iter().all(|r| r.attempts == 0), "not an attempt");
        let tried = calls(&transport);
        assert!((1..=3).contains(&tried), "the replies in flight together, no more: {tried}");

        // Within the backoff the daemon tries nothing, also for a reply queued meanwhile.
        add_reply(&mut store, "v", 4);
        let soon = now.checked_add(SignedDuration::from_secs(30)).unwrap();
        assert_eq!(sender.finish(&mut store, soon, Backoff::Respect).await.unwrap(), SendReport::default());
        assert_eq!(calls(&transport), tried, "no login tried within the backoff");
        let due = store.next_reply_due().unwrap().expect("pending").as_second();
        assert_eq!(due, now.as_second() + 60, "all of them wait for the backoff");

        // Refused again: the backoff grows, and this time one login was tried, not one per
        // connection (a provider counts each refused login towards locking the account).
        let later = now.checked_add(SignedDuration::from_secs(61)).unwrap();
        let error = sender.finish(&mut store, later, Backoff::Respect).await.unwrap_err();
        let refusal = error.downcast_ref::<SmtpLoginRefused>().expect("a refused login");
        assert_eq!((refusal.kept, refusal.retry_in), (4, Duration::from_secs(120)));
        assert_eq!(calls(&transport), tried + 1, "one reply at a time after a refusal");

        // The login works (`once` ignores the backoff): every reply goes out, each one attempt.
        let transport = Arc::new(scripted((0..4).map(|_| Ok(())).collect()));
        let mut fixed = Sender::new(transport.clone(), LIMITS, None, Timestamp::now);
        let report = fixed.finish(&mut store, later, Backoff::Ignore).await.unwrap();
        assert_eq!(report, SendReport { sent: 4, retrying: 0, failed: 0, held: 0, in_doubt: 0 });
        let conn = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
        let attempts: Vec<i64> = conn
            .prepare("SELECT attempts FROM outbox")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(attempts, vec![1; 4]);
    }

    #[tokio::test]
    async fn a_sent_reply_ends_the_login_backoff() {
        let (_dir, mut store) = store_with_one_reply();
        let refused = Err(SendError::LoginRefused("535 5.7.8".into()));
        let transport = Arc::new(scripted(vec![refused, Ok(()), Ok(())]));
        let mut sender = Sender::new(transport.clone(), LIMITS, None, Timestamp::now);
        let now = Timestamp::now();
        assert!(sender.finish(&mut store, now, Backoff::Respect).await.is_err());
        // The login fixed, a pass that ignores the backoff (`once`) sends it…
        assert_eq!(sender.finish(&mut store, now, Backoff::Ignore).await.unwrap().sent, 1);
        // …and a reply queued now goes out at once, not after the old pause.
        add_reply(&mut store, "t", 2);
        assert_eq!(sender.finish(&mut store, now, Backoff::Respect).await.unwrap().sent, 1);
        assert_eq!(transport.sent.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_permanent_failure_is_recorded_not_retried() {
        let (_dir, mut store) = store_with_one_reply();
        let transport = Arc::new(scripted(vec![Err(SendError::Permanent("550 no such user".into()))]));
        let report =
            send_due(&mut store, transport.clone(), Timestamp::now(), Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(report.failed, 1);
        assert_eq!(store.outbox_counts().unwrap(), vec![(OutboxState::Failed, 1)]);
        let report =
            send_due(&mut store, transport.clone(), Timestamp::now(), Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(report, SendReport::default());
    }
}
