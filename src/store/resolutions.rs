//! Recorded messages staff have dealt with (`smebridge application resolve MSG-0012`,
//! migrations/0016_message_resolutions.sql): a message that is no application but needs a
//! person ([`NEEDS_A_PERSON`]) is listed in every summary until it is resolved here. One row per
//! message, written once; `purge` deletes it with the message's personal data (the note may name
//! the sender).

use std::collections::HashSet;

use anyhow::Result;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::{Cached, Store};
use crate::domain::Outcome;

/// What became of a message that needs a person until staff resolve it: the summary lists these
/// under "needs a person", and only these can be resolved by their `MSG-` reference.
pub const NEEDS_A_PERSON: [Outcome; 6] = [
    Outcome::Inquiry,
    Outcome::Unreadable,
    Outcome::CancelWithoutApplication,
    Outcome::TooLarge,
    Outcome::Quarantined,
    Outcome::Unrouted,
];

/// Who resolved a message, when, and what they noted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub at: Timestamp,
    pub actor: String,
    pub note: Option<String>,
}

/// A recorded message as `resolve` needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub outcome: Outcome,
    /// Its personal data was purged (it is listed nowhere any more).
    pub purged: bool,
    /// The application it belongs to, if any (the lowest number when several).
    pub application: Option<i64>,
}

impl Store {
    /// Record that staff dealt with message `message` (`note`: what was done; blank is none).
    /// Returns false, and writes nothing, when it was resolved before.
    pub fn resolve_message(&mut self, message: i64, actor: &str, note: Option<&str>, at: Timestamp) -> Result<bool> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let tx = self.write()?;
        let written = tx.exec(
            "INSERT INTO message_resolutions (message, resolved_at, actor, note) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (message) DO NOTHING",
            params![message, at.as_second(), actor, note],
        )?;
        tx.commit()?;
        Ok(written == 1)
    }

    /// The messages staff have resolved, by row id.
    pub fn resolved_messages(&self) -> Result<HashSet<i64>> {
        let mut stmt = self.conn.prepare_cached("SELECT message FROM message_resolutions")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// How message `message` was resolved, if it was.
    pub fn message_resolution(&self, message: i64) -> Result<Option<Resolution>> {
        let row: Option<(i64, String, Option<String>)> = self
            .conn
            .row("SELECT resolved_at, actor, note FROM message_resolutions WHERE message = ?1", [message], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        Ok(row.map(|(at, actor, note)| Resolution {
            at: Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH),
            actor,
            note,
        }))
    }

    /// What became of message `message` (its staff reference is `MSG-<id>`), if there is one.
    pub fn message_state(&self, message: i64) -> Result<Option<MessageState>> {
        Ok(self
            .conn
            .row(
                "SELECT outcome, purged_at IS NOT NULL,
                        (SELECT MIN(application) FROM application_messages WHERE message = messages.id)
                 FROM messages WHERE id = ?1",
                [message],
                |r| Ok(MessageState { outcome: r.get(0)?, purged: r.get(1)?, application: r.get(2)? }),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{insert, message, store};
    use super::super::{ApplicationWrite, MailboxUid, PurgeScope, Purged, MIGRATIONS};
    use super::*;
    use crate::domain::EmailAddress;

    /// Record one message with `outcome` (no application) and return its row id.
    fn record(store: &mut Store, sha: &str, outcome: Outcome) -> i64 {
        let sender = EmailAddress::parse("ask@question.example").unwrap();
        let mut m = message(sha, b"raw", &sender);
        let mid = format!("{sha}@question.example");
        m.outcome.message_id = &mid;
        m.outcome.outcome = outcome;
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: sha.len() as u32 };
        store.commit_message(at, &m, &ApplicationWrite::None, Timestamp::now(), |_| Ok(None)).unwrap().message
    }

    #[test]
    fn a_message_is_resolved_once_with_who_when_and_the_note() {
        let (_dir, mut store) = store();
        let id = record(&mut store, "a", Outcome::Inquiry);
        assert_eq!(store.message_resolution(id).unwrap(), None);
        assert!(store.resolved_messages().unwrap().is_empty());

        let at: Timestamp = "2022-11-17T02:00:00Z".parse().unwrap();
        assert!(store.resolve_message(id, "desk-kim", Some("  answered by phone  "), at).unwrap());
        let expected = Resolution { at, actor: "desk-kim".into(), note: Some("answered by phone".into()) };
        assert_eq!(store.message_resolution(id).unwrap(), Some(expected.clone()));
        assert_eq!(store.resolved_messages().unwrap(), HashSet::from([id]));

        // Again: nothing written, the first stands.
        assert!(!store
            .resolve_message(id, "desk-lee", Some("again"), at + jiff::SignedDuration::from_hours(1))
            .unwrap());
        assert_eq!(store.message_resolution(id).unwrap(), Some(expected));

        // A blank note is no note.
        let other = record(&mut store, "bb", Outcome::Unreadable);
        assert!(store.resolve_message(other, "desk-kim", Some("  "), at).unwrap());
        assert_eq!(store.message_resolution(other).unwrap().unwrap().note, None);
    }

    #[test]
    fn a_message_state_says_its_outcome_whether_it_was_purged_and_its_application() {
        let (_dir, mut store) = store();
        let inquiry = record(&mut store, "a", Outcome::Inquiry);
        assert_eq!(
            store.message_state(inquiry).unwrap(),
            Some(MessageState { outcome: Outcome::Inquiry, purged: false, application: None })
        );
        assert_eq!(store.message_state(inquiry + 100).unwrap(), None);

        let sender = EmailAddress::parse("kim@hanbit.example").unwrap();
        let mut m = message("cc", b"raw", &sender);
        m.outcome.message_id = "app@hanbit.example";
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 9 };
        let made =
            store.commit_message(at, &m, &insert(&sender, "김민준", "한빛"), Timestamp::now(), |_| Ok(None)).unwrap();
        assert_eq!(
            store.message_state(made.message).unwrap(),
            Some(MessageState { outcome: Outcome::Registered, purged: false, application: made.application })
        );
    }

    #[test]
    fn a_database_from_before_resolutions_keeps_its_messages_and_can_resolve_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let step = MIGRATIONS.iter().position(|m| m.contains("CREATE TABLE message_resolutions")).unwrap();
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..step] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", step).unwrap();
            conn.execute_batch(
                "INSERT INTO messages (id, sha256, message_id, arrived_at, size, outcome, recorded_at)
                   VALUES (5, 'a', 'a@x.example', 0, 3, 'inquiry', 0);
                 INSERT INTO raw_messages (message, raw) VALUES (5, x'414243');",
            )
            .unwrap();
        }
        let mut store = super::super::testing::open(&path);
        let version: usize = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
        assert_eq!(store.messages_with_outcomes(&NEEDS_A_PERSON).unwrap().len(), 1);
        assert!(store.resolved_messages().unwrap().is_empty(), "nothing resolved by migrating");
        assert!(store.resolve_message(5, "desk-kim", None, Timestamp::UNIX_EPOCH).unwrap());
        assert!(store.resolve_message(6, "desk-kim", None, Timestamp::UNIX_EPOCH).is_err(), "no message 6");
    }

    #[test]
    fn purge_deletes_the_resolution_of_a_purged_message_with_the_note_staff_typed() {
        let (_dir, mut store) = store();
        let old = record(&mut store, "a", Outcome::Inquiry);
        let at: Timestamp = "2022-11-17T02:00:00Z".parse().unwrap();
        assert!(store.resolve_message(old, "desk-kim", Some("called 김민준 back"), at).unwrap());

        let scope = PurgeScope::NoEvent { before: "2023-01-01T00:00:00Z".parse().unwrap() };
        assert!(matches!(store.purge(&scope, at).unwrap(), Purged::Done { .. }));
        assert_eq!(store.message_resolution(old).unwrap(), None, "the note went with the message");
        assert!(store.resolved_messages().unwrap().is_empty());
        let state = store.message_state(old).unwrap().unwrap();
        assert!(state.purged);
        // A purged message is listed nowhere, resolved or not.
        assert!(store.messages_with_outcomes(&NEEDS_A_PERSON).unwrap().is_empty());
        let notes: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM message_resolutions WHERE note IS NOT NULL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(notes, 0);
    }
}
