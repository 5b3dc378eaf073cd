//! Messages: their raw bytes recorded before they are read ([`Store::mark_reading`]), what reading
//! them concluded and everything it causes in one transaction ([`Store::finish_reading`]), and the
//! recorded messages as staff are told of them.

use anyhow::{Context, Result};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::applications::write_application;
use super::outbox::insert_reply;
use super::{ApplicationWrite, Cached, Details, MailboxUid, NewReply, Store};
use crate::domain::{match_key, EmailAddress, EventId, Outcome, ReadState, RouteReason};
use crate::parse::Attachment;

/// A message as recorded.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Its bytes, as they arrived.
    pub arriving: Arriving<'a>,
    /// What reading it concluded.
    pub outcome: MessageOutcome<'a>,
}

/// A message's raw bytes, recorded before it is read ([`Store::mark_reading`]).
#[derive(Debug, Clone, Copy)]
pub struct Arriving<'a> {
    pub sha256: &'a str,
    pub arrived_at: Timestamp,
    pub raw: &'a [u8],
}

/// What reading a message concluded: a [`NewMessage`] without the bytes, which are recorded
/// already ([`Store::finish_reading`]).
#[derive(Debug, Clone)]
pub struct MessageOutcome<'a> {
    pub message_id: &'a str,
    pub sender: Option<&'a EmailAddress>,
    pub subject: Option<&'a str>,
    pub outcome: Outcome,
    pub outcome_detail: Option<String>,
    pub problems: &'a [String],
    pub attachments: &'a [Attachment],
    pub details: &'a Details,
    /// The event the message was decided for and why it went there (`messages.event`,
    /// `messages.route`); `None` for mail that concerns no event (automatic, duplicate,
    /// unreadable) or none that could be told (unrouted).
    pub event: Option<(&'a EventId, RouteReason)>,
}

/// Which recorded bytes a [`Store::finish_reading`] is about.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    pub sha256: &'a str,
    /// When the message arrived (an application it makes was received then).
    pub arrived_at: Timestamp,
}

impl Store {
    /// If these exact bytes were recorded before with an outcome (seen under another UID or
    /// UIDVALIDITY), note the new UID and return true: the message must not be processed again.
    pub fn record_known_bytes(&mut self, at: MailboxUid<'_>, sha256: &str) -> Result<bool> {
        let tx = self.write()?;
        let existing: Option<i64> = tx
            .row(
                "SELECT id FROM messages WHERE sha256 = ?1 AND outcome <> ?2",
                params![sha256, Outcome::Reading],
                |r| r.get(0),
            )
            .optional()?;
        let Some(message) = existing else {
            return Ok(false);
        };
        insert_uid(&tx, at, message)?;
        tx.commit()?;
        Ok(true)
    }

    /// What is known of these bytes before reading them: never seen, recorded with an outcome,
    /// or recorded with attempts to read them that never finished.
    pub fn read_state(&self, sha256: &str) -> Result<ReadState> {
        let found: Option<(Outcome, u32)> = self
            .conn
            .row("SELECT outcome, read_attempts FROM messages WHERE sha256 = ?1", [sha256], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(match found {
            None => ReadState::New,
            Some((Outcome::Reading, attempts)) => ReadState::Unfinished { attempts },
            Some(_) => ReadState::Finished,
        })
    }

    /// Record these messages' raw bytes as being read, in one transaction, before they are read:
    /// new bytes with the outcome `reading` and one attempt, bytes already being read with one
    /// attempt more. Bytes recorded with an outcome are left alone. `now`: when they are recorded.
    pub fn mark_reading(&mut self, messages: &[Arriving<'_>], now: Timestamp) -> Result<()> {
        let now = now.as_second();
        let tx = self.write()?;
        for message in messages {
            let synthesized = crate::parse::synthesized_message_id(message.sha256);
            if insert_message(&tx, message.sha256, &synthesized, message.arrived_at, message.raw, now)?.is_none() {
                tx.exec(
                    "UPDATE messages SET read_attempts = read_attempts + 1 WHERE sha256 = ?1 AND outcome = ?2",
                    params![message.sha256, Outcome::Reading],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Take back the attempt [`Store::mark_reading`] counted for messages that were not read
    /// after all (the pass stopped cleanly first): it is no sign that they stop the reader.
    pub fn release_reading(&mut self, sha256s: &[&str]) -> Result<()> {
        let tx = self.write()?;
        for sha256 in sha256s {
            tx.exec(
                "UPDATE messages SET read_attempts = read_attempts - 1
                 WHERE sha256 = ?1 AND outcome = ?2 AND read_attempts > 0",
                params![sha256, Outcome::Reading],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Was a message with this Message-ID recorded before (with an outcome: bytes still being
    /// read carry a synthesized one)?
    pub fn message_id_seen(&self, message_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .row(
                "SELECT 1 FROM messages WHERE message_id = ?1 AND outcome <> ?2 LIMIT 1",
                params![message_id, Outcome::Reading],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Record one message and everything it causes, atomically: the message row with its bytes,
    /// its UID, the application change and the reply. [`Store::finish_reading`] for bytes not
    /// recorded yet (or recorded as being read).
    pub fn commit_message(
        &mut self,
        at: MailboxUid<'_>,
        message: &NewMessage<'_>,
        application: &ApplicationWrite,
        now: Timestamp,
        make_reply: impl FnOnce(Option<i64>) -> Result<Option<NewReply>>,
    ) -> Result<CommitResult> {
        let now = now.as_second();
        let tx = self.write()?;
        let NewMessage { arriving, outcome } = message;
        insert_message(&tx, arriving.sha256, outcome.message_id, arriving.arrived_at, arriving.raw, now)?;
        let reading = Reading { sha256: arriving.sha256, arrived_at: arriving.arrived_at };
        let committed = finish(&tx, at, reading, outcome, application, make_reply, now)?;
        tx.commit()?;
        Ok(committed)
    }

    /// Record what reading a message concluded, and everything it causes, atomically: the outcome
    /// replaces the `reading` marker of the row [`Store::mark_reading`] wrote; its UID, the
    /// application change and the reply are written beside it. `make_reply` is called inside the
    /// transaction with the application's id, so the reply can quote the application number. If
    /// the bytes were recorded with an outcome meanwhile (the same bytes under another UID), only
    /// the UID is noted.
    pub fn finish_reading(
        &mut self,
        at: MailboxUid<'_>,
        reading: Reading<'_>,
        message: &MessageOutcome<'_>,
        application: &ApplicationWrite,
        now: Timestamp,
        make_reply: impl FnOnce(Option<i64>) -> Result<Option<NewReply>>,
    ) -> Result<CommitResult> {
        let now = now.as_second();
        let tx = self.write()?;
        let committed = finish(&tx, at, reading, message, application, make_reply, now)?;
        tx.commit()?;
        Ok(committed)
    }

    /// Messages with one of these outcomes, oldest first (not those whose personal data was
    /// purged: nothing is left of them to show), without their bytes: see [`Store::raw_message`].
    pub fn messages_with_outcomes(&self, outcomes: &[Outcome]) -> Result<Vec<MessageNote>> {
        let placeholders = vec!["?"; outcomes.len()].join(",");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT arrived_at, sender, subject, outcome, outcome_detail, problems, recorded_at, id, event
             FROM messages WHERE outcome IN ({placeholders}) AND purged_at IS NULL ORDER BY arrived_at, id"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(outcomes.iter()), |r| {
                Ok(MessageNote {
                    arrived_at: Timestamp::from_second(r.get(0)?).unwrap_or(Timestamp::UNIX_EPOCH),
                    sender: r.get(1)?,
                    subject: r.get(2)?,
                    outcome: r.get(3)?,
                    detail: r.get(4)?,
                    problems: r.get(5)?,
                    recorded_at: Timestamp::from_second(r.get(6)?).unwrap_or(Timestamp::UNIX_EPOCH),
                    id: r.get(7)?,
                    event: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// How many messages are recorded.
    pub fn message_count(&self) -> Result<i64> {
        Ok(self.conn.row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?)
    }

    /// The raw bytes of the message with row id `message`, read straight into one buffer.
    pub fn raw_message(&self, message: i64) -> Result<Vec<u8>> {
        read_raw(&self.conn, message)
            .with_context(|| format!("cannot read the raw bytes of the stored message {message}"))
    }

    /// How many messages are recorded with `outcome`.
    pub fn outcome_count(&self, outcome: Outcome) -> Result<i64> {
        Ok(self.conn.row("SELECT COUNT(*) FROM messages WHERE outcome = ?1", [outcome], |r| r.get(0))?)
    }

    /// Has `sender` written since message `after` (a later row) in mail that went to an event?
    /// Then an unrouted message of theirs is settled (they said which event, or staff assigned
    /// it).
    pub fn routed_since(&self, sender: Option<&str>, after: i64) -> Result<bool> {
        let Some(sender) = sender else { return Ok(false) };
        Ok(self
            .conn
            .row(
                "SELECT 1 FROM messages WHERE sender = ?1 AND id > ?2 AND event IS NOT NULL LIMIT 1",
                params![sender, after],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Was the sender of message `id` asked which event they mean (in answer to it)?
    pub fn which_event_asked(&self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .row("SELECT 1 FROM outbox WHERE answers = ?1 AND kind = 'which_event' LIMIT 1", [id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The recorded message with this row id (its staff reference is `MSG-<id>`), with its raw
    /// bytes, if there is one.
    pub fn message_for_staff(&self, id: i64) -> Result<Option<RecordedMessage>> {
        let found: Option<(String, i64, Outcome)> = self
            .conn
            .row("SELECT sha256, arrived_at, outcome FROM messages WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((sha256, arrived_at, outcome)) = found else { return Ok(None) };
        Ok(Some(RecordedMessage {
            id,
            sha256,
            arrived_at: Timestamp::from_second(arrived_at).unwrap_or(Timestamp::UNIX_EPOCH),
            raw: self.raw_message(id)?,
            outcome,
        }))
    }

    /// Record what staff decided for an unrouted message (its event, through `message.event`),
    /// and everything it causes, atomically: the outcome replaces `unrouted`; the application
    /// change and the reply are written beside it, as [`Store::finish_reading`] does for a message
    /// just read. `None` (and nothing written) when the message is no longer unrouted.
    pub fn assign_message(
        &mut self,
        id: i64,
        arrived_at: Timestamp,
        message: &MessageOutcome<'_>,
        application: &ApplicationWrite,
        now: Timestamp,
        make_reply: impl FnOnce(Option<i64>) -> Result<Option<NewReply>>,
    ) -> Result<Option<CommitResult>> {
        let now = now.as_second();
        let tx = self.write()?;
        let (event, route) = message.event.unzip();
        let assigned = tx.exec(
            "UPDATE messages SET outcome = ?2, outcome_detail = ?3, problems = ?4, event = ?5, route = ?6
             WHERE id = ?1 AND outcome = ?7",
            params![
                id,
                message.outcome,
                message.outcome_detail,
                (!message.problems.is_empty()).then(|| message.problems.join("\n")),
                event,
                route,
                Outcome::Unrouted,
            ],
        )?;
        if assigned == 0 {
            return Ok(None);
        }
        let application_id = write_application(&tx, application, id, arrived_at, message.details)?;
        // Its attachments were listed when it was recorded; only the link to the application is new.
        record_attachments_and_links(&tx, id, &[], application, application_id)?;
        let reply = make_reply(application_id)?;
        let reply_id = match &reply {
            None => None,
            Some(reply) => Some(insert_reply(&tx, reply, Some(id), application_id, now)?),
        };
        tx.commit()?;
        Ok(Some(CommitResult { message: id, application: application_id, reply: reply_id }))
    }
}

/// Insert a message row marked as being read, with its raw bytes, unless a row for these bytes
/// exists; the new row's id, `None` when it existed.
///
/// The bytes go into `raw_messages` without a copy in memory: a zero-filled blob of their size
/// is inserted, then written in place (SQLite's incremental blob I/O, through its page cache).
/// Binding them as a parameter would cost two copies of the message (the bound value and the
/// record built from it).
fn insert_message(
    tx: &Connection,
    sha256: &str,
    message_id: &str,
    arrived_at: Timestamp,
    raw: &[u8],
    now: i64,
) -> Result<Option<i64>> {
    let size = i64::try_from(raw.len()).context("a message larger than SQLite can hold")?;
    let inserted = tx.exec(
        "INSERT INTO messages (sha256, message_id, arrived_at, size, outcome, read_attempts, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
         ON CONFLICT (sha256) DO NOTHING",
        params![sha256, message_id, arrived_at.as_second(), size, Outcome::Reading, now],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    tx.exec("INSERT INTO raw_messages (message, raw) VALUES (?1, zeroblob(?2))", params![id, size])?;
    let mut blob = tx.blob_open("main", "raw_messages", "raw", id, false)?;
    blob.write_at(raw, 0)?;
    blob.close()?;
    Ok(Some(id))
}

/// The raw bytes of message `message`: one buffer of their size, filled from the blob.
pub(super) fn read_raw(conn: &Connection, message: i64) -> Result<Vec<u8>> {
    let blob = conn.blob_open("main", "raw_messages", "raw", message, true)?;
    let mut raw = vec![0; blob.len()];
    blob.read_at_exact(&mut raw, 0)?;
    Ok(raw)
}

/// A recorded message as staff name it (`MSG-<id>`), with what is needed to decide about it
/// again: see [`Store::message_for_staff`].
#[derive(Debug, Clone)]
pub struct RecordedMessage {
    pub id: i64,
    pub sha256: String,
    pub arrived_at: Timestamp,
    pub raw: Vec<u8>,
    pub outcome: Outcome,
}

/// A recorded message, as the staff summary needs it.
#[derive(Debug, Clone)]
pub struct MessageNote {
    /// Grows in the order messages are recorded.
    pub id: i64,
    pub arrived_at: Timestamp,
    pub recorded_at: Timestamp,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub outcome: Outcome,
    pub detail: Option<String>,
    pub problems: Option<String>,
    /// The event it was decided for, if any.
    pub event: Option<EventId>,
}

/// The ids a [`Store::commit_message`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct CommitResult {
    pub message: i64,
    pub application: Option<i64>,
    pub reply: Option<i64>,
}

/// The rows that go with a newly recorded message: its attachments, its link to the application
/// it belongs to, and that application's name + organization key when its fields changed.
fn record_attachments_and_links(
    tx: &Connection,
    message: i64,
    attachments: &[Attachment],
    write: &ApplicationWrite,
    application: Option<i64>,
) -> Result<()> {
    for (position, attachment) in attachments.iter().enumerate() {
        tx.exec(
            "INSERT INTO attachments (message, position, name, content_type, size, sha256, within)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                message,
                position as i64,
                attachment.name,
                attachment.content_type,
                i64::try_from(attachment.size).unwrap_or(i64::MAX),
                attachment.sha256,
                attachment.within,
            ],
        )?;
    }
    let Some(application) = application else { return Ok(()) };
    tx.exec(
        "INSERT INTO application_messages (application, message) VALUES (?1, ?2)
         ON CONFLICT (application, message) DO NOTHING",
        params![application, message],
    )?;
    if let ApplicationWrite::Insert { fields, .. } | ApplicationWrite::Update { fields, .. } = write {
        tx.exec("UPDATE applications SET match_key = ?2 WHERE id = ?1", params![application, match_key(fields)])?;
    }
    Ok(())
}

/// See [`Store::finish_reading`].
fn finish(
    tx: &Connection,
    at: MailboxUid<'_>,
    reading: Reading<'_>,
    message: &MessageOutcome<'_>,
    application: &ApplicationWrite,
    make_reply: impl FnOnce(Option<i64>) -> Result<Option<NewReply>>,
    now: i64,
) -> Result<CommitResult> {
    let (event, route) = message.event.unzip();
    let finished = tx.exec(
        "UPDATE messages SET message_id = ?2, sender = ?3, subject = ?4, outcome = ?5, outcome_detail = ?6,
                    problems = ?7, recorded_at = ?8, event = ?10, route = ?11
             WHERE sha256 = ?1 AND outcome = ?9",
        params![
            reading.sha256,
            message.message_id,
            message.sender.map(|s| s.as_str()),
            message.subject,
            message.outcome,
            message.outcome_detail,
            (!message.problems.is_empty()).then(|| message.problems.join("\n")),
            now,
            Outcome::Reading,
            event,
            route,
        ],
    )?;
    let message_row: i64 = tx
        .row("SELECT id FROM messages WHERE sha256 = ?1", [reading.sha256], |r| r.get(0))
        .optional()?
        .context("the message's bytes were not recorded before it was read")?;
    insert_uid(tx, at, message_row)?;
    if finished == 0 {
        // The same bytes were recorded with an outcome meanwhile: nothing more to do.
        return Ok(CommitResult { message: message_row, application: None, reply: None });
    }
    let arrived_at = reading.arrived_at;

    let application_id = write_application(tx, application, message_row, arrived_at, message.details)?;

    record_attachments_and_links(tx, message_row, message.attachments, application, application_id)?;

    let reply = make_reply(application_id)?;
    let reply_id = match &reply {
        None => None,
        Some(reply) => Some(insert_reply(tx, reply, Some(message_row), application_id, now)?),
    };
    Ok(CommitResult { message: message_row, application: application_id, reply: reply_id })
}

fn insert_uid(tx: &Connection, at: MailboxUid<'_>, message: i64) -> Result<()> {
    tx.exec(
        "INSERT INTO mailbox_uids (mailbox, uidvalidity, uid, message) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING",
        params![at.mailbox, at.uidvalidity, at.uid, message],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::testing::{arriving, attachment, insert, listed, message, open, store};
    use super::*;
    use crate::domain::{ApplicantFields, MailKind, ReplyKind, Status};

    #[test]
    fn bytes_marked_as_being_read_are_not_known_bytes_until_their_outcome_is_recorded() {
        let (_dir, mut store) = store();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::New);
        store.mark_reading(&[arriving("aa", b"raw one"), arriving("bb", b"raw two")], Timestamp::now()).unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Unfinished { attempts: 1 });
        assert_eq!(store.message_count().unwrap(), 2);
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        assert!(!store.record_known_bytes(at, "aa").unwrap(), "being read is not recorded");
        assert!(store.processed_uids("INBOX", 1).unwrap().is_empty());
        assert!(store.messages_with_outcomes(&[Outcome::Registered]).unwrap().is_empty());

        let sender = EmailAddress::parse("kim@x.example").unwrap();
        let message = message("aa", b"raw one", &sender);
        let reading = Reading { sha256: "aa", arrived_at: message.arriving.arrived_at };
        let committed =
            store
                .finish_reading(at, reading, &message.outcome, &ApplicationWrite::None, Timestamp::now(), |_| Ok(None));
        committed.unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Finished);
        assert_eq!(store.processed_uids("INBOX", 1).unwrap(), listed(&[1]));
        let recorded = store.messages_with_outcomes(&[Outcome::Registered]).unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!(
            store.raw_message(recorded[0].id).unwrap(),
            b"raw one",
            "the bytes recorded before reading are the message's"
        );
        assert_eq!(recorded[0].sender.as_deref(), Some("kim@x.example"));
        // Marking finished bytes again changes nothing.
        store.mark_reading(&[arriving("aa", b"raw one")], Timestamp::now()).unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Finished);
    }

    #[test]
    fn the_bytes_are_written_in_place_once_and_read_back_whole() {
        let (_dir, mut store) = store();
        let large: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
        store.mark_reading(&[arriving("big", &large), arriving("empty", b"")], Timestamp::now()).unwrap();
        // Marked again (the pass died): the attempt is counted, the bytes are not written again.
        store.mark_reading(&[arriving("big", &large)], Timestamp::now()).unwrap();
        assert_eq!(store.read_state("big").unwrap(), ReadState::Unfinished { attempts: 2 });
        let rows: i64 = store.conn.row("SELECT COUNT(*) FROM raw_messages", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 2);
        let id: i64 = store.conn.row("SELECT id FROM messages WHERE sha256 = 'big'", [], |r| r.get(0)).unwrap();
        assert!(store.raw_message(id).unwrap() == large, "the bytes read back are the bytes written");
        let size: i64 = store.conn.row("SELECT size FROM messages WHERE id = ?1", [id], |r| r.get(0)).unwrap();
        assert_eq!(size, 5_000_000);
        let empty: i64 = store.conn.row("SELECT id FROM messages WHERE sha256 = 'empty'", [], |r| r.get(0)).unwrap();
        assert!(store.raw_message(empty).unwrap().is_empty());
        assert!(store.raw_message(999).is_err(), "no bytes for a message never recorded");
    }

    #[test]
    fn every_unfinished_attempt_is_counted_and_one_given_up_cleanly_is_taken_back() {
        let (_dir, mut store) = store();
        store.mark_reading(&[arriving("aa", b"raw")], Timestamp::now()).unwrap();
        store.mark_reading(&[arriving("aa", b"raw")], Timestamp::now()).unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Unfinished { attempts: 2 });
        store.release_reading(&["aa"]).unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Unfinished { attempts: 1 });
        store.release_reading(&["aa", "aa", "unknown"]).unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Unfinished { attempts: 0 }, "never below zero");
    }

    #[test]
    fn an_outcome_for_bytes_never_recorded_is_refused() {
        let (_dir, mut store) = store();
        let sender = EmailAddress::parse("kim@x.example").unwrap();
        let message = message("zz", b"raw", &sender);
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        let reading = Reading { sha256: "zz", arrived_at: message.arriving.arrived_at };
        let refused =
            store
                .finish_reading(at, reading, &message.outcome, &ApplicationWrite::None, Timestamp::now(), |_| Ok(None));
        assert!(format!("{:#}", refused.unwrap_err()).contains("not recorded before it was read"));
        assert!(store.processed_uids("INBOX", 1).unwrap().is_empty());
    }

    #[test]
    fn a_group_commits_all_its_messages_together_or_none() {
        let (dir, mut store) = store();
        let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let none = |_: Option<i64>| Ok(None);
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid };
        // A failing group leaves nothing behind, not even the messages before the failure.
        let failed: Result<()> = store.group(|store| {
            store.commit_message(
                at(1),
                &message("a1", b"one", &sender),
                &ApplicationWrite::None,
                Timestamp::now(),
                none,
            )?;
            store.commit_message(
                at(2),
                &message("a2", b"two", &sender),
                &ApplicationWrite::None,
                Timestamp::now(),
                none,
            )?;
            anyhow::bail!("the disk is full")
        });
        assert!(failed.is_err());
        assert_eq!(store.message_count().unwrap(), 0);
        assert!(store.processed_uids("INBOX", 7).unwrap().is_empty(), "no UID counts before the commit");

        // A group that succeeds: both messages, visible inside the group and durable after it.
        store
            .group(|store| {
                store.commit_message(
                    at(1),
                    &message("a1", b"one", &sender),
                    &ApplicationWrite::None,
                    Timestamp::now(),
                    none,
                )?;
                assert!(store.record_known_bytes(at(3), "a1")?, "a write earlier in the group is seen");
                store.commit_message(
                    at(2),
                    &message("a2", b"two", &sender),
                    &ApplicationWrite::None,
                    Timestamp::now(),
                    none,
                )?;
                Ok(())
            })
            .unwrap();
        drop(store);
        let reopened = open(&dir.path().join("db.sqlite"));
        assert_eq!(reopened.message_count().unwrap(), 2);
        assert_eq!(reopened.processed_uids("INBOX", 7).unwrap(), HashSet::from([1, 2, 3]));
    }

    #[test]
    fn a_message_its_application_and_reply_commit_together_once() {
        let (_dir, mut store) = store();
        let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid: 1 };
        let write = ApplicationWrite::Insert {
            event: EventId::default_id(),
            email: sender.clone(),
            fields: ApplicantFields { name: Some("김민준".into()), ..Default::default() },
            status: Status::Accepted,
            review: None,
        };
        let reply = |id: Option<i64>| {
            Ok(Some(NewReply {
                kind: MailKind::Reply(ReplyKind::Ack),
                message_id: format!("reply-{}@kaist.ac.kr", id.unwrap()),
                envelope_from: None,
                recipient: sender.clone(),
                raw: b"reply".to_vec(),
                event: None,
                calendar: None,
            }))
        };
        let first = store.commit_message(at, &message("aa", b"raw", &sender), &write, Timestamp::now(), reply).unwrap();
        assert!(first.reply.is_some());
        // The same bytes again, e.g. under a new UIDVALIDITY: recorded once, answered once.
        let at2 = MailboxUid { mailbox: "INBOX", uidvalidity: 8, uid: 1 };
        assert!(store.record_known_bytes(at2, "aa").unwrap());
        assert!(store.processed_uids("INBOX", 8).unwrap().contains(&1));
        assert_eq!(store.message_count().unwrap(), 1);
        assert_eq!(store.applications().unwrap().len(), 1);
        assert_eq!(store.due_replies(Timestamp::now(), false, 0, 100).unwrap().len(), 1);
        assert!(store.message_id_seen("m1@x.example").unwrap());
    }

    #[test]
    fn the_same_bytes_again_add_no_second_attachment_list() {
        let (_dir, mut store) = store();
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let list = [attachment("신청서.hwpx", 34_000)];
        let mut msg = message("same", b"raw", &kim);
        msg.outcome.attachments = &list;
        let write = insert(&kim, "김민준", "한빛테크");
        store
            .commit_message(
                MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 },
                &msg,
                &write,
                Timestamp::now(),
                |_| Ok(None),
            )
            .unwrap();
        store
            .commit_message(
                MailboxUid { mailbox: "INBOX", uidvalidity: 2, uid: 1 },
                &msg,
                &write,
                Timestamp::now(),
                |_| Ok(None),
            )
            .unwrap();
        let listed = store.attachments_by_application().unwrap();
        assert_eq!(listed.values().map(Vec::len).sum::<usize>(), 1);
    }
}
