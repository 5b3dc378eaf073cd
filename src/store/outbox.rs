//! The outbox: replies (and the staff summary) written in the transaction that caused them, then
//! claimed for sending, sent, retried or given up. Every change of a row's state is conditional
//! on the state it expects.

use anyhow::{Context, Result};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::{outbox_from_row, Cached, Store};
use crate::domain::{EmailAddress, EventId, MailKind, ReplyKind};

/// Where an outbox row is in its life (`outbox.state`):
///
/// ```text
/// pending ──claim──> sending ──> sent
///    ^                  │ ├────> failed   (refused for good, or tried too often)
///    └──── retry ───────┘ └────> unknown  (interrupted mid-send, no copy to check)
/// ```
///
/// A pending row may be held ([`Hold`]); a row that cannot be sent at all goes from pending to
/// failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    Pending,
    Sending,
    Sent,
    Failed,
    Unknown,
}

impl OutboxState {
    pub const ALL: [OutboxState; 5] =
        [OutboxState::Pending, OutboxState::Sending, OutboxState::Sent, OutboxState::Failed, OutboxState::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxState> {
        OutboxState::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

impl std::fmt::Display for OutboxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a pending reply waits without its attempt counted (`outbox.held_by`). Cleared when the
/// reply is claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hold {
    /// The reply rate limits (`[replies] max_per_sender_per_day`, `max_per_hour`).
    RateLimit,
}

impl Hold {
    pub const ALL: [Hold; 1] = [Hold::RateLimit];

    pub fn as_str(self) -> &'static str {
        match self {
            Hold::RateLimit => "rate_limit",
        }
    }

    pub fn parse(s: &str) -> Option<Hold> {
        Hold::ALL.into_iter().find(|hold| hold.as_str() == s)
    }
}

/// A reply (or a summary) to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewReply {
    pub kind: MailKind,
    pub message_id: String,
    pub envelope_from: Option<EmailAddress>,
    pub recipient: EmailAddress,
    pub raw: Vec<u8>,
    /// The event it is sent for (`None`: the staff summary, the question which event a sender
    /// means). A reply to it is in that event's thread.
    pub event: Option<EventId>,
    /// What the calendar entry it publishes for `event` says (`crate::reply::calendar_facts`);
    /// `None` when it publishes none. Kept to tell when the entry is out of date.
    pub calendar: Option<String>,
}

/// A reply waiting in (or gone through) the outbox.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: MailKind,
    pub message_id: String,
    /// Its addresses; why not, when one no longer parses (then it cannot be sent).
    pub envelope: Result<Envelope, String>,
    pub raw: Vec<u8>,
    pub state: OutboxState,
    pub attempts: u32,
}

/// Whom a reply goes to, and the envelope sender (`None`: `MAIL FROM:<>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub to: EmailAddress,
    pub from: Option<EmailAddress>,
}

/// A reply claimed for sending ([`Store::claim_reply`]): its row and the attempt it was claimed
/// for. Every later change of the row names the claim and happens only while the row is still in
/// `sending` under that attempt, so an outcome can never be written over someone else's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: i64,
    pub attempt: u32,
}

impl Store {
    /// Has a reply of this kind already been queued for this address and event (in any state)?
    /// `event` `None`: a reply for no event (the question which event a sender means).
    pub fn reply_kind_queued_for(
        &self,
        recipient: &EmailAddress,
        kind: ReplyKind,
        event: Option<&EventId>,
    ) -> Result<bool> {
        Ok(self
            .conn
            .row(
                "SELECT 1 FROM outbox WHERE recipient = ?1 AND kind = ?2 AND event IS ?3 LIMIT 1",
                params![recipient.as_str(), MailKind::Reply(kind), event],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The events of the replies smebridge sent with these Message-IDs (without angle
    /// brackets): a mail answering or forwarding one of them is in that event's thread.
    pub fn events_of_replies(&self, message_ids: &[&str]) -> Result<Vec<EventId>> {
        let mut events = Vec::new();
        let mut stmt =
            self.conn.prepare_cached("SELECT event FROM outbox WHERE message_id = ?1 AND event IS NOT NULL")?;
        for id in message_ids {
            if let Some(event) = stmt.query_row([id], |r| r.get::<_, EventId>(0)).optional()? {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// Replies sent (or being sent: several go out at once) to `recipient` in the last day.
    pub fn sent_to(&self, recipient: &EmailAddress, now: Timestamp) -> Result<u32> {
        let since = now.as_second() - 86_400;
        Ok(self.conn.row(
            "SELECT COUNT(*) FROM outbox WHERE recipient = ?1
               AND ((state = 'sent' AND sent_at > ?2) OR (state = 'sending' AND sending_since > ?2))",
            params![recipient.as_str(), since],
            |r| r.get(0),
        )?)
    }

    /// Replies sent (or being sent) to anyone in the last hour. Two indexed counts: `sent_at`
    /// is set only on sent rows, and rows in `sending` are few.
    pub fn sent_last_hour(&self, now: Timestamp) -> Result<u32> {
        let since = now.as_second() - 3600;
        let sent: u32 = self.conn.row("SELECT COUNT(*) FROM outbox WHERE sent_at > ?1", [since], |r| r.get(0))?;
        let sending: u32 = self.conn.row(
            "SELECT COUNT(*) FROM outbox WHERE state = 'sending' AND sending_since > ?1",
            [since],
            |r| r.get(0),
        )?;
        Ok(sent + sending)
    }

    // Every change of an outbox row's state below is conditional on the state it expects
    // (`… WHERE id = ? AND state = 'pending'`; leaving `sending`, also the attempt that claimed
    // the row) and says whether it happened. Even two writers on one database (which the
    // instance lock prevents) could then never both claim, and so both send, one reply.

    /// Put a pending reply back in the queue until `until` without counting an attempt, held
    /// for `why`. False when the row is no longer pending.
    #[must_use = "false means the row was not pending: someone else has it"]
    pub fn hold_reply(&self, id: i64, until: Timestamp, why: Hold) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET next_attempt_at = ?2, held_by = ?3 WHERE id = ?1 AND state = 'pending'",
            params![id, until.as_second(), why],
        )? == 1)
    }

    /// A pending reply that cannot be sent at all (e.g. its address does not parse): `failed`.
    /// False when the row is no longer pending.
    #[must_use = "false means the row was not pending: someone else has it"]
    pub fn fail_unsendable(&self, id: i64, error: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET state = 'failed', held_by = NULL, last_error = ?2 WHERE id = ?1 AND state = 'pending'",
            params![id, error],
        )? == 1)
    }

    /// Replies to attempt now: pending ones whose retry time has come (or all pending ones when
    /// `ignore_backoff`), oldest first, at most `limit` of them with an id above `after_id`.
    pub fn due_replies(
        &self,
        now: Timestamp,
        ignore_backoff: bool,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, message_id, envelope_from, recipient, raw, state, attempts FROM outbox
             WHERE state = 'pending' AND (?1 OR next_attempt_at <= ?2) AND id > ?3 ORDER BY id LIMIT ?4",
        )?;
        let rows = stmt
            .query_map(params![ignore_backoff, now.as_second(), after_id, limit as i64], outbox_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// When the next pending reply is due, if any.
    pub fn next_reply_due(&self) -> Result<Option<Timestamp>> {
        let next: Option<i64> =
            self.conn.row("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'", [], |r| r.get(0))?;
        next.map(|s| Timestamp::from_second(s).context("bad time in outbox")).transpose()
    }

    /// Claim a pending reply for sending: `pending → sending`, the attempt counted before it is
    /// made (a crash mid-send leaves the row in `sending`). `None` when the row is no longer
    /// pending (claimed, sent or given up by someone else since it was read): then it must not
    /// be sent.
    pub fn claim_reply(&self, id: i64, now: Timestamp) -> Result<Option<Claim>> {
        let attempt: Option<u32> = self
            .conn
            .row(
                "UPDATE outbox SET state = 'sending', held_by = NULL, attempts = attempts + 1, sending_since = ?2
                 WHERE id = ?1 AND state = 'pending' RETURNING attempts",
                params![id, now.as_second()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(attempt.map(|attempt| Claim { id, attempt }))
    }

    /// Replies an earlier process left in `sending` that started before `before`, with the
    /// Message-ID to look for.
    pub fn interrupted_sends(&self, before: Timestamp) -> Result<Vec<(Claim, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, attempts, message_id FROM outbox WHERE state = 'sending' AND sending_since < ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([before.as_second()], |r| Ok((Claim { id: r.get(0)?, attempt: r.get(1)? }, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Record an error on a claimed reply without changing its state (it stays `sending`, in
    /// doubt). False when the claim no longer holds.
    #[must_use = "false means the claim no longer holds"]
    pub fn note_error(&self, claim: Claim, error: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET last_error = ?3 WHERE id = ?1 AND state = 'sending' AND attempts = ?2",
            params![claim.id, claim.attempt, error],
        )? == 1)
    }

    /// The server may or may not have the reply: `sending → unknown`, for staff. False when the
    /// claim no longer holds.
    #[must_use = "false means the claim no longer holds"]
    pub fn mark_unknown(&self, claim: Claim, why: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET state = 'unknown', last_error = ?3 WHERE id = ?1 AND state = 'sending' AND attempts = ?2",
            params![claim.id, claim.attempt, why],
        )? == 1)
    }

    /// `sending → sent`. False when the claim no longer holds.
    #[must_use = "false means the claim no longer holds"]
    pub fn mark_sent(&self, claim: Claim, now: Timestamp) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET state = 'sent', sent_at = ?3, last_error = NULL
             WHERE id = ?1 AND state = 'sending' AND attempts = ?2",
            params![claim.id, claim.attempt, now.as_second()],
        )? == 1)
    }

    /// `sending → pending`, to be tried again at `next_attempt_at`. False when the claim no
    /// longer holds.
    #[must_use = "false means the claim no longer holds"]
    pub fn mark_retry(&self, claim: Claim, next_attempt_at: Timestamp, error: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?3, last_error = ?4
             WHERE id = ?1 AND state = 'sending' AND attempts = ?2",
            params![claim.id, claim.attempt, next_attempt_at.as_second(), error],
        )? == 1)
    }

    /// `sending → pending` with the attempt given back: the reply never reached the server (it
    /// refused our login first), so this claim does not count towards giving it up. To be tried
    /// at `next_attempt_at`. False when the claim no longer holds. (The next claim gets the same
    /// attempt number; this one is never used again: the sender writes one outcome per claim.)
    #[must_use = "false means the claim no longer holds"]
    pub fn release_claim(&self, claim: Claim, next_attempt_at: Timestamp, error: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET state = 'pending', attempts = attempts - 1, next_attempt_at = ?3, last_error = ?4
             WHERE id = ?1 AND state = 'sending' AND attempts = ?2",
            params![claim.id, claim.attempt, next_attempt_at.as_second(), error],
        )? == 1)
    }

    /// Put off every pending reply due before `until` until then (the SMTP server refuses our
    /// login; see `crate::outbox`). How many were put off.
    pub fn postpone_due(&self, until: Timestamp) -> Result<usize> {
        Ok(self.conn.exec(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE state = 'pending' AND next_attempt_at < ?1",
            [until.as_second()],
        )?)
    }

    /// How many replies (and summaries) wait in the outbox.
    pub fn pending_count(&self) -> Result<usize> {
        let n: i64 = self.conn.row("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", [], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or_default())
    }

    /// `sending → failed`: refused for good, or tried too often. False when the claim no longer
    /// holds.
    #[must_use = "false means the claim no longer holds"]
    pub fn mark_failed(&self, claim: Claim, error: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET state = 'failed', last_error = ?3 WHERE id = ?1 AND state = 'sending' AND attempts = ?2",
            params![claim.id, claim.attempt, error],
        )? == 1)
    }

    /// Outbox rows by state, for reports and tests.
    pub fn outbox_counts(&self) -> Result<Vec<(OutboxState, i64)>> {
        let mut stmt = self.conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Queue mail that answers nothing (a summary sent by hand).
    pub fn queue_mail(&mut self, mail: &NewReply, now: Timestamp) -> Result<i64> {
        let tx = self.write()?;
        let id = insert_reply(&tx, mail, None, None, now.as_second())?;
        tx.commit()?;
        Ok(id)
    }

    /// Replies held for `why`: (how many, to how many addresses).
    pub fn held_replies(&self, why: Hold) -> Result<(i64, i64)> {
        Ok(self.conn.row(
            "SELECT COUNT(*), COUNT(DISTINCT recipient) FROM outbox WHERE state = 'pending' AND held_by = ?1",
            [why],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Replies that failed, whose fate is unknown, or that are being retried (not those merely
    /// held: [`Store::held_replies`], nor those whose personal data was purged).
    pub fn troubled_replies(&self) -> Result<Vec<TroubledReply>> {
        let mut stmt = self.conn.prepare(
            "SELECT recipient, kind, state, last_error, created_at FROM outbox
             WHERE (state IN ('failed', 'unknown') OR (state = 'pending' AND attempts > 0)) AND held_by IS NULL
               AND purged_at IS NULL
             ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TroubledReply {
                    recipient: r.get(0)?,
                    kind: r.get(1)?,
                    state: r.get(2)?,
                    last_error: r.get(3)?,
                    created_at: Timestamp::from_second(r.get(4)?).unwrap_or(Timestamp::UNIX_EPOCH),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

/// A reply staff should know about.
#[derive(Debug, Clone)]
pub struct TroubledReply {
    pub recipient: String,
    pub kind: MailKind,
    pub state: OutboxState,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

pub(super) fn insert_reply(
    tx: &Connection,
    reply: &NewReply,
    answers: Option<i64>,
    application: Option<i64>,
    now: i64,
) -> Result<i64> {
    tx.exec(
        "INSERT INTO outbox (kind, answers, application, message_id, envelope_from, recipient, raw, state, attempts, next_attempt_at, created_at, event, calendar)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?8, ?9, ?10)",
        params![
            reply.kind,
            answers,
            application,
            reply.message_id,
            reply.envelope_from.as_ref().map(|a| a.as_str()),
            reply.recipient.as_str(),
            reply.raw,
            now,
            reply.event,
            reply.calendar,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{message, queue_one_reply, second_writer, store};
    use super::*;
    use crate::store::{ApplicationWrite, MailboxUid};

    #[test]
    fn outbox_retry_and_states() {
        let (_dir, mut store) = store();
        let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid: 1 };
        let reply = |_| {
            Ok(Some(NewReply {
                kind: MailKind::Reply(ReplyKind::Ack),
                message_id: "r@kaist.ac.kr".into(),
                envelope_from: None,
                recipient: sender.clone(),
                raw: b"reply".to_vec(),
                event: None,
                calendar: None,
            }))
        };
        let id = store
            .commit_message(at, &message("bb", b"raw", &sender), &ApplicationWrite::None, Timestamp::now(), reply)
            .unwrap()
            .reply
            .unwrap();
        let now: Timestamp = "2022-11-16T01:00:00Z".parse().unwrap();
        let first = store.claim_reply(id, now).unwrap().expect("a pending reply can be claimed");
        assert_eq!(first, Claim { id, attempt: 1 });
        let later = now.checked_add(jiff::SignedDuration::from_secs(60)).unwrap();
        assert!(store.interrupted_sends(now).unwrap().is_empty(), "not before the grace time");
        assert_eq!(store.interrupted_sends(later).unwrap(), vec![(first, "r@kaist.ac.kr".to_owned())]);
        assert!(store.mark_retry(first, later, "connection refused").unwrap());
        assert!(store.due_replies(now, false, 0, 100).unwrap().is_empty(), "backoff is respected");
        assert_eq!(store.due_replies(now, true, 0, 100).unwrap().len(), 1, "a manual pass ignores backoff");
        assert_eq!(store.next_reply_due().unwrap(), Some(later));
        let second = store.claim_reply(id, later).unwrap().unwrap();
        assert_eq!(second.attempt, 2);
        assert!(store.mark_sent(second, later).unwrap());
        assert_eq!(store.outbox_counts().unwrap(), vec![(OutboxState::Sent, 1)]);
    }

    #[test]
    fn a_second_claim_of_the_same_row_gets_nothing_even_from_another_writer() {
        let (dir, mut store) = store();
        let id = queue_one_reply(&mut store);
        let other = second_writer(&dir.path().join("db.sqlite"));
        let now = Timestamp::now();
        // Both writers read the row as due before either claims it.
        assert_eq!(store.due_replies(now, true, 0, 10).unwrap().len(), 1);
        assert_eq!(other.due_replies(now, true, 0, 10).unwrap().len(), 1);
        let claim = store.claim_reply(id, now).unwrap().expect("the first claim gets the row");
        assert_eq!(other.claim_reply(id, now).unwrap(), None, "the second claim gets nothing");
        assert_eq!(store.claim_reply(id, now).unwrap(), None, "nor does claiming again on the same connection");
        // Nothing but the claim's own outcome moves a row in `sending`.
        assert!(!other.hold_reply(id, now, Hold::RateLimit).unwrap());
        assert!(!other.fail_unsendable(id, "bad address").unwrap());
        assert!(store.mark_sent(claim, now).unwrap());
        assert!(!other.mark_sent(claim, now).unwrap(), "sent once, recorded once");
        assert_eq!(store.outbox_counts().unwrap(), vec![(OutboxState::Sent, 1)]);
    }

    #[test]
    fn an_outcome_under_a_stale_claim_is_not_written_over_a_newer_one() {
        let (_dir, mut store) = store();
        let id = queue_one_reply(&mut store);
        let now = Timestamp::now();
        let stale = store.claim_reply(id, now).unwrap().unwrap();
        // The resolver of an interrupted send put it back, and it was claimed again.
        assert!(store.mark_retry(stale, now, "interrupted").unwrap());
        let fresh = store.claim_reply(id, now).unwrap().unwrap();
        assert_eq!(fresh.attempt, stale.attempt + 1);
        for (what, moved) in [
            ("sent", store.mark_sent(stale, now).unwrap()),
            ("retry", store.mark_retry(stale, now, "x").unwrap()),
            ("failed", store.mark_failed(stale, "x").unwrap()),
            ("unknown", store.mark_unknown(stale, "x").unwrap()),
            ("note", store.note_error(stale, "x").unwrap()),
        ] {
            assert!(!moved, "a stale claim must not write {what}");
        }
        assert_eq!(store.outbox_counts().unwrap(), vec![(OutboxState::Sending, 1)]);
        assert!(store.mark_failed(fresh, "550 no such user").unwrap());
        assert_eq!(store.outbox_counts().unwrap(), vec![(OutboxState::Failed, 1)]);
    }
}
