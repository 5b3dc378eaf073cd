//! Sending what the outbox holds: each pending reply is marked `sending` (its attempt counted)
//! before it is handed to SMTP, then `sent`, back to `pending` with a later retry time, or
//! `failed` when the server refused it for good or it kept failing for two days. Nothing is ever
//! dropped silently: every outcome is written back to its row.

use std::time::Duration;

use anyhow::Result;
use futures::stream::{self, StreamExt};
use jiff::{SignedDuration, Timestamp};
use tracing::{info, instrument, warn};

use crate::domain::{rate_limit_wait, EmailAddress, ReplyLimits, SentCounts};
use crate::smtp::{ReplyTransport, SendError, POOL_SIZE};
use crate::store::{OutboxRow, Store};

/// After this many failed attempts a temporary failure counts as permanent (about two days with
/// the delays of [`retry_delay`]).
pub const MAX_ATTEMPTS: u32 = 60;

/// The note on a reply waiting because of the rate limit.
pub const HELD: &str = "held back by the reply rate limit";

/// Whether to wait for each reply's retry time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The daemon: only replies whose retry time has come.
    Respect,
    /// `smebridge once`: every pending reply, now.
    Ignore,
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

/// How many due replies are claimed (marked `sending`, in one transaction) at a time: enough to
/// keep every pooled connection busy, few enough that a crash leaves only a handful in doubt.
const CLAIM: usize = 32;

/// A reply marked `sending`, ready to go.
struct Claimed {
    row: OutboxRow,
    recipient: EmailAddress,
    envelope_from: Option<EmailAddress>,
}

/// Send every due reply once, within the rate limits, [`POOL_SIZE`] at a time.
///
/// Each group of due replies is claimed in one transaction (rate limits checked, attempt
/// counted, state `sending`) before any of them is handed to SMTP; their outcomes are written
/// back in one transaction when the group is done. A crash in between leaves them in `sending`,
/// which the next pass resolves without a blind resend (see `crate::daemon`).
#[instrument(skip_all)]
pub async fn send_due(
    store: &mut Store,
    transport: &impl ReplyTransport,
    now: Timestamp,
    backoff: Backoff,
    limits: ReplyLimits,
    bcc: Option<&EmailAddress>,
) -> Result<SendReport> {
    let mut report = SendReport::default();
    let mut after = 0;
    loop {
        let rows = store.due_replies(now, backoff == Backoff::Ignore, after, CLAIM)?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let claimed = store.group(|store| claim(store, rows, now, limits, &mut report))?;
        let outcomes: Vec<(Claimed, Result<(), SendError>)> = stream::iter(claimed)
            .map(|c| async move {
                let result = transport.send(c.envelope_from.as_ref(), &c.recipient, bcc, &c.row.raw).await;
                (c, result)
            })
            .buffer_unordered(POOL_SIZE)
            .collect()
            .await;
        store.group(|store| {
            for (claimed, result) in &outcomes {
                record(store, &claimed.row, result, now, &mut report)?;
            }
            Ok(())
        })?;
    }
    Ok(report)
}

/// Check each row against the rate limits and its addresses, and mark the ones to send now
/// `sending` (their attempt counted).
fn claim(store: &mut Store, rows: Vec<OutboxRow>, now: Timestamp, limits: ReplyLimits, report: &mut SendReport) -> Result<Vec<Claimed>> {
    let mut claimed = Vec::with_capacity(rows.len());
    // Counted once per group (the count is over the whole last hour), then kept up to date here.
    let mut total_1h = store.sent_last_hour(now)?;
    for row in rows {
        let counts = SentCounts { to_recipient_24h: store.sent_to(&row.recipient, now)?, total_1h };
        if let Some(wait) = rate_limit_wait(limits, counts) {
            let until = now.saturating_add(SignedDuration::try_from(wait)?)?;
            warn!(outbox = row.id, hold_s = wait.as_secs(), "reply held back by the rate limit");
            store.hold_reply(row.id, until, HELD)?;
            report.held += 1;
            continue;
        }
        let addresses = EmailAddress::parse(&row.recipient)
            .and_then(|to| Ok((to, row.envelope_from.as_deref().map(EmailAddress::parse).transpose()?)));
        match addresses {
            Ok((recipient, envelope_from)) => {
                store.mark_sending(row.id, now)?;
                total_1h += 1;
                claimed.push(Claimed { row, recipient, envelope_from });
            }
            Err(e) => {
                store.mark_failed(row.id, &format!("bad address: {e:#}"))?;
                report.failed += 1;
            }
        }
    }
    Ok(claimed)
}

/// Write one send's outcome back to its row.
fn record(store: &Store, row: &OutboxRow, result: &Result<(), SendError>, now: Timestamp, report: &mut SendReport) -> Result<()> {
    let attempts = row.attempts + 1;
    match result {
        Ok(()) => {
            store.mark_sent(row.id, Timestamp::now())?;
            info!(outbox = row.id, kind = %row.kind, "reply sent");
            report.sent += 1;
        }
        Err(SendError::Ambiguous(error)) => {
            // Left in `sending`: after the grace time the next pass looks for the copy in our
            // own mailbox (bcc_self) or marks it unknown — never a blind resend.
            warn!(outbox = row.id, attempts, %error, "the server did not answer; whether the reply went out will be checked");
            store.note_error(row.id, error)?;
            report.in_doubt += 1;
        }
        Err(SendError::Transient(error)) if attempts < MAX_ATTEMPTS => {
            let delay = retry_delay(attempts);
            let next = now.saturating_add(SignedDuration::try_from(delay)?)?;
            warn!(outbox = row.id, attempts, retry_in_s = delay.as_secs(), %error, "reply not sent; will retry");
            store.mark_retry(row.id, next, error)?;
            report.retrying += 1;
        }
        Err(error) => {
            warn!(outbox = row.id, attempts, %error, "reply failed for good");
            store.mark_failed(row.id, &error.to_string())?;
            report.failed += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::store::{ApplicationWrite, MailboxUid, NewMessage, NewReply};

    /// A stand-in transport for unit tests: answers from a script and records what it was given.
    struct Scripted {
        answers: Mutex<Vec<Result<(), SendError>>>,
        sent: Mutex<Vec<(Option<String>, String)>>,
    }

    impl ReplyTransport for Scripted {
        async fn send(&self, from: Option<&EmailAddress>, to: &EmailAddress, _bcc: Option<&EmailAddress>, _raw: &[u8]) -> Result<(), SendError> {
            self.sent.lock().unwrap().push((from.map(|f| f.to_string()), to.to_string()));
            self.answers.lock().unwrap().remove(0)
        }
    }

    fn store_with_one_reply() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        add_reply(&mut store, "s", 1);
        (dir, store)
    }

    /// Record a message (bytes identified by `sha`, at `uid`) and queue a reply to it.
    fn add_reply(store: &mut Store, sha: &str, uid: u32) {
        let to = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let message_id = format!("m{uid}@x.example");
        let msg = NewMessage {
            sha256: sha,
            message_id: &message_id,
            arrived_at: Timestamp::now(),
            raw: b"x",
            sender: Some(&to),
            subject: None,
            outcome: "registered",
            outcome_detail: None,
            problems: &[],
            attachments: &[],
        };
        store
            .commit_message(MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid }, &msg, &ApplicationWrite::None, |_| {
                Ok(Some(NewReply {
                    kind: "ack",
                    message_id: format!("r{uid}@kaist.ac.kr"),
                    envelope_from: None,
                    recipient: to.clone(),
                    raw: b"r".to_vec(),
                }))
            })
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
        let transport = scripted(vec![Err(SendError::Transient("421 busy".into())), Ok(())]);
        let first = send_due(&mut store, &transport, now, Backoff::Respect, LIMITS, None).await.unwrap();
        assert_eq!(first, SendReport { sent: 0, retrying: 1, failed: 0, held: 0, in_doubt: 0 });
        let too_soon = send_due(&mut store, &transport, now, Backoff::Respect, LIMITS, None).await.unwrap();
        assert_eq!(too_soon, SendReport::default(), "the retry waits for its time");
        let later = now.checked_add(SignedDuration::from_secs(61)).unwrap();
        let second = send_due(&mut store, &transport, later, Backoff::Respect, LIMITS, None).await.unwrap();
        assert_eq!(second.sent, 1);
        let again = send_due(&mut store, &transport, later, Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(again, SendReport::default(), "a sent reply is never sent again");
        assert_eq!(transport.sent.lock().unwrap().len(), 2);
        assert_eq!(transport.sent.lock().unwrap()[0], (None, "kim@hanbit-tech.example".to_owned()), "MAIL FROM:<>");
    }

    #[tokio::test]
    async fn the_rate_limit_holds_replies_back_without_counting_an_attempt() {
        let (_dir, mut store) = store_with_one_reply();
        add_reply(&mut store, "t", 2);
        let transport = scripted(vec![Ok(())]);
        let one_a_day = ReplyLimits { per_sender_per_day: 1, per_hour: 100 };
        let now = Timestamp::now();
        let report = send_due(&mut store, &transport, now, Backoff::Ignore, one_a_day, None).await.unwrap();
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
        let transport = scripted((0..7).map(|_| Ok(())).collect());
        let five_a_day = ReplyLimits { per_sender_per_day: 5, per_hour: 100 };
        let report = send_due(&mut store, &transport, Timestamp::now(), Backoff::Ignore, five_a_day, None).await.unwrap();
        assert_eq!(report, SendReport { sent: 5, retrying: 0, failed: 0, held: 2, in_doubt: 0 });
        assert_eq!(transport.sent.lock().unwrap().len(), 5, "sent concurrently, still at most five");
    }

    #[tokio::test]
    async fn a_timeout_is_never_resent_blindly() {
        let (_dir, mut store) = store_with_one_reply();
        let transport = scripted(vec![Err(SendError::Ambiguous("no answer within 10 s".into()))]);
        let now = Timestamp::now();
        let report = send_due(&mut store, &transport, now, Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(report.in_doubt, 1);
        assert_eq!(store.outbox_counts().unwrap(), vec![("sending".to_owned(), 1)]);
        let again = send_due(&mut store, &transport, now, Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(again, SendReport::default(), "not picked up again by the sender");
        let later = now.checked_add(SignedDuration::from_secs(1)).unwrap();
        assert_eq!(store.interrupted_sends(later).unwrap().len(), 1, "left for the resolver");
    }

    #[tokio::test]
    async fn a_permanent_failure_is_recorded_not_retried() {
        let (_dir, mut store) = store_with_one_reply();
        let transport = scripted(vec![Err(SendError::Permanent("550 no such user".into()))]);
        let report = send_due(&mut store, &transport, Timestamp::now(), Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(report.failed, 1);
        assert_eq!(store.outbox_counts().unwrap(), vec![("failed".to_owned(), 1)]);
        let report = send_due(&mut store, &transport, Timestamp::now(), Backoff::Ignore, LIMITS, None).await.unwrap();
        assert_eq!(report, SendReport::default());
    }
}
