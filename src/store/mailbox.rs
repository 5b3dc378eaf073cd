//! The mailbox as the database remembers it: the UIDVALIDITY and UIDNEXT last seen, which UIDs
//! are processed, what happened to the mailbox that staff should hear about (renumbered, messages
//! vanished before they could be read), and when it was last read whole.

use std::collections::HashSet;

use anyhow::{Context, Result};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tracing::warn;

use super::{Cached, Store};
use crate::domain::{classify_mailbox, MailboxChange};

/// Where a message was seen.
#[derive(Debug, Clone, Copy)]
pub struct MailboxUid<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
}

impl Store {
    /// The UIDVALIDITY last seen for `mailbox`, if any.
    pub fn uidvalidity(&self, mailbox: &str) -> Result<Option<u32>> {
        Ok(self
            .conn
            .row("SELECT uidvalidity FROM mailbox_state WHERE mailbox = ?1", [mailbox], |r| r.get(0))
            .optional()?)
    }

    pub fn set_uidvalidity(&self, mailbox: &str, uidvalidity: u32, now: Timestamp) -> Result<()> {
        self.conn.exec(
            "INSERT INTO mailbox_state (mailbox, uidvalidity, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at",
            params![mailbox, uidvalidity, now.as_second()],
        )?;
        Ok(())
    }

    /// Compare what `SELECT` said with what is remembered, remember the new state, and record an
    /// event for staff when the mailbox was renumbered ([`MailboxChange`]), all in one
    /// transaction. After a UIDNEXT that went backwards the UIDs recorded for this incarnation
    /// are forgotten (the server may reuse them for other messages), so the sync that follows
    /// looks at every message again; known ones are recognised by their bytes. After a new
    /// UIDVALIDITY nothing is recorded under it yet, so the same holds. Returns the change and
    /// the id of the event, to be completed by [`Store::note_synced`].
    pub fn note_selected(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        uid_next: Option<u32>,
        now: Timestamp,
    ) -> Result<(MailboxChange, Option<i64>)> {
        let tx = self.write()?;
        let old_validity: Option<u32> =
            tx.row("SELECT uidvalidity FROM mailbox_state WHERE mailbox = ?1", [mailbox], |r| r.get(0)).optional()?;
        let remembered: Option<Option<u32>> = tx
            .row(
                "SELECT uid_next FROM mailbox_uidnext WHERE mailbox = ?1 AND uidvalidity = ?2",
                params![mailbox, uidvalidity],
                |r| r.get(0),
            )
            .optional()?;
        let change = classify_mailbox(old_validity, remembered.flatten(), uidvalidity, uid_next);
        tx.exec(
            "INSERT INTO mailbox_state (mailbox, uidvalidity, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at",
            params![mailbox, uidvalidity, now.as_second()],
        )?;
        // Below `accounted` every UID is known to be recorded or reported. On the first look at a
        // mailbox (or the first since this table exists) that is UIDNEXT: what was deleted before
        // smebridge watched is no news. In a renumbered mailbox every UID is new: it starts at 1.
        let accounted = match change {
            MailboxChange::None => uid_next.unwrap_or(u32::MAX),
            MailboxChange::UidvalidityChanged { .. } => 1,
            MailboxChange::UidnextBackwards { new, .. } => new,
        };
        let reset = change != MailboxChange::None;
        tx.exec(
            "INSERT INTO mailbox_uidnext (mailbox, uidvalidity, uid_next, accounted, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (mailbox, uidvalidity) DO UPDATE SET
                 uid_next = CASE WHEN ?6 THEN excluded.uid_next ELSE max(coalesce(uid_next, 0), coalesce(excluded.uid_next, 0)) END,
                 accounted = CASE WHEN ?6 THEN excluded.accounted ELSE accounted END,
                 updated_at = excluded.updated_at",
            params![mailbox, uidvalidity, uid_next, accounted, now.as_second(), reset],
        )?;
        let event = match change {
            MailboxChange::None => None,
            MailboxChange::UidvalidityChanged { old, new } => {
                warn!(old, new, "UIDVALIDITY changed: rescanning; known messages are recognised by their bytes");
                let details = EventDetails { old: Some(old), new: Some(new), ..EventDetails::default() };
                Some(insert_event(&tx, EventKind::UidvalidityChanged, mailbox, &details, now)?)
            }
            MailboxChange::UidnextBackwards { old, new } => {
                warn!(old, new, "UIDNEXT went backwards: forgetting this mailbox's UIDs and rescanning");
                tx.exec(
                    "DELETE FROM mailbox_uids WHERE mailbox = ?1 AND uidvalidity = ?2",
                    params![mailbox, uidvalidity],
                )?;
                let details = EventDetails { old: Some(old), new: Some(new), ..EventDetails::default() };
                Some(insert_event(&tx, EventKind::UidnextBackwards, mailbox, &details, now)?)
            }
        };
        tx.commit()?;
        Ok((change, event))
    }

    /// After a sync: record the messages that vanished before they could be read (UIDs handed
    /// out since the last look that are neither listed now nor recorded: moved or deleted by
    /// someone; plus those listed but gone at FETCH), complete the rescan event with its counts,
    /// and advance what is accounted for. Returns how many vanished unseen (not counting
    /// `synced.vanished_at_fetch`).
    pub fn note_synced(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        rescan: Option<i64>,
        synced: &Synced<'_>,
        now: Timestamp,
    ) -> Result<usize> {
        let tx = self.write()?;
        let (uid_next, accounted): (Option<u32>, u32) = tx
            .row(
                "SELECT uid_next, accounted FROM mailbox_uidnext WHERE mailbox = ?1 AND uidvalidity = ?2",
                params![mailbox, uidvalidity],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((None, u32::MAX));
        let recorded: HashSet<u32> = {
            let mut stmt = tx.prepare_cached("SELECT uid FROM mailbox_uids WHERE mailbox = ?1 AND uidvalidity = ?2")?;
            let uids = stmt.query_map(params![mailbox, uidvalidity], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            uids
        };
        let high = synced.listed.iter().max().map_or(0, |m| m.saturating_add(1)).max(uid_next.unwrap_or(0));
        let unseen = vanished_unseen(accounted, high, synced.listed, &recorded);
        let vanished = unseen.count + synced.vanished_at_fetch;
        if vanished > 0 {
            warn!(
                vanished,
                "messages vanished from the mailbox before they could be read (moved or deleted by someone)"
            );
            let details = EventDetails { count: Some(vanished as u64), uids: unseen.first, ..EventDetails::default() };
            insert_event(&tx, EventKind::VanishedBeforeFetch, mailbox, &details, now)?;
        }
        if high > 0 {
            tx.exec(
                "UPDATE mailbox_uidnext SET accounted = ?3, uid_next = max(coalesce(uid_next, 0), ?3), updated_at = ?4
                 WHERE mailbox = ?1 AND uidvalidity = ?2",
                params![mailbox, uidvalidity, high, now.as_second()],
            )?;
        }
        if let Some(id) = rescan {
            let text: String = tx.row("SELECT details FROM mailbox_events WHERE id = ?1", [id], |r| r.get(0))?;
            let mut details: EventDetails = serde_json::from_str(&text).unwrap_or_default();
            details.recognised = Some(synced.known as u64);
            details.recorded = Some(synced.recorded as u64);
            tx.exec(
                "UPDATE mailbox_events SET details = ?2 WHERE id = ?1",
                params![id, serde_json::to_string(&details)?],
            )?;
        }
        tx.commit()?;
        Ok(unseen.count)
    }

    /// Mailbox events recorded at or after `since` (all of them for `None`), oldest first.
    pub fn mailbox_events(&self, since: Option<Timestamp>) -> Result<Vec<MailboxEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, mailbox, details, at FROM mailbox_events WHERE at >= ?1 ORDER BY at, id",
        )?;
        let rows = stmt.query_map([since.map_or(i64::MIN, |t| t.as_second())], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, EventKind>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (id, kind, mailbox, details, at) = row?;
            events.push(MailboxEvent {
                id,
                kind,
                mailbox,
                details: serde_json::from_str(&details)
                    .with_context(|| format!("bad details in mailbox event {id}"))?,
                at: Timestamp::from_second(at).context("bad time in mailbox_events")?,
            });
        }
        Ok(events)
    }

    /// The UIDs already processed in this mailbox incarnation.
    pub fn processed_uids(&self, mailbox: &str, uidvalidity: u32) -> Result<HashSet<u32>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT uid FROM mailbox_uids WHERE mailbox = ?1 AND uidvalidity = ?2")?;
        let uids =
            stmt.query_map(params![mailbox, uidvalidity], |r| r.get(0))?.collect::<rusqlite::Result<HashSet<u32>>>()?;
        Ok(uids)
    }

    /// Remember that `mailbox` was read whole: listed, and every message in it recorded. `at`
    /// is when that read began, on the daemon's clock.
    pub fn note_mailbox_read(&mut self, mailbox: &str, at: Timestamp) -> Result<()> {
        let tx = self.write()?;
        tx.exec(
            "INSERT INTO mailbox_reads (mailbox, read_at) VALUES (?1, ?2)
             ON CONFLICT (mailbox) DO UPDATE SET read_at = excluded.read_at",
            params![mailbox, at.as_second()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// When `mailbox` was last read whole (`None`: never).
    pub fn mailbox_read(&self, mailbox: &str) -> Result<Option<Timestamp>> {
        let at: Option<i64> = self
            .conn
            .row("SELECT read_at FROM mailbox_reads WHERE mailbox = ?1", [mailbox], |r| r.get(0))
            .optional()?;
        at.map(|s| Timestamp::from_second(s).context("bad time in mailbox_reads")).transpose()
    }
}

/// What happened to the mailbox (`mailbox_events.kind`; see `migrations/0003_mailbox_events.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The server renumbered the mailbox; it was rescanned.
    UidvalidityChanged,
    /// UIDNEXT went down under the same UIDVALIDITY; it was rescanned.
    UidnextBackwards,
    /// Messages were in the mailbox but gone (moved or deleted by someone) before they were read.
    VanishedBeforeFetch,
}

impl EventKind {
    pub const ALL: [EventKind; 3] =
        [EventKind::UidvalidityChanged, EventKind::UidnextBackwards, EventKind::VanishedBeforeFetch];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::UidvalidityChanged => "uidvalidity_changed",
            EventKind::UidnextBackwards => "uidnext_backwards",
            EventKind::VanishedBeforeFetch => "vanished_before_fetch",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Something about the mailbox staff should hear of (see `migrations/0003_mailbox_events.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxEvent {
    pub id: i64,
    pub kind: EventKind,
    pub mailbox: String,
    pub details: EventDetails,
    pub at: Timestamp,
}

/// The `details` of a [`MailboxEvent`], stored as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetails {
    /// The UIDVALIDITY or UIDNEXT before, and after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<u32>,
    /// After a rescan: messages recognised as already recorded, and messages recorded new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recognised: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<u64>,
    /// Vanished messages: how many, and the first few UIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<u32>,
}

/// What a sync saw, for [`Store::note_synced`].
#[derive(Debug, Clone, Copy)]
pub struct Synced<'a> {
    /// Every UID listed in the mailbox.
    pub listed: &'a HashSet<u32>,
    /// UIDs listed but gone before FETCH.
    pub vanished_at_fetch: usize,
    /// Messages recognised as already recorded, and recorded new.
    pub known: usize,
    pub recorded: usize,
}

/// UIDs in `[from, to)` neither listed nor recorded: handed out by the server, then gone.
/// Counted without walking the range (it can be huge); the first few are kept for the record.
struct Unseen {
    count: usize,
    first: Vec<u32>,
}

fn vanished_unseen(from: u32, to: u32, listed: &HashSet<u32>, recorded: &HashSet<u32>) -> Unseen {
    if to <= from {
        return Unseen { count: 0, first: Vec::new() };
    }
    let present = listed.iter().chain(recorded.difference(listed)).filter(|&&u| (from..to).contains(&u)).count();
    let count = (to - from) as usize - present;
    let first = (from..to).take(1 << 20).filter(|u| !listed.contains(u) && !recorded.contains(u)).take(20).collect();
    Unseen { count, first }
}

fn insert_event(
    tx: &Connection,
    kind: EventKind,
    mailbox: &str,
    details: &EventDetails,
    now: Timestamp,
) -> Result<i64> {
    tx.exec(
        "INSERT INTO mailbox_events (kind, mailbox, details, at) VALUES (?1, ?2, ?3, ?4)",
        params![kind, mailbox, serde_json::to_string(details)?, now.as_second()],
    )?;
    Ok(tx.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{listed, record, store, synced};
    use super::*;

    #[test]
    fn a_uidnext_going_backwards_forgets_the_uids_so_everything_is_rescanned_and_recognised_by_bytes() {
        let (_dir, mut store) = store();
        let now = Timestamp::now();
        assert_eq!(store.note_selected("INBOX", 7, Some(1), now).unwrap(), (MailboxChange::None, None));
        record(&mut store, "aaa", 1, 7);
        record(&mut store, "bbb", 2, 7);
        store.note_synced("INBOX", 7, None, &synced(&listed(&[1, 2])), now).unwrap();
        assert_eq!(store.processed_uids("INBOX", 7).unwrap(), listed(&[1, 2]));

        // Restored from a backup: UIDNEXT 2 < 3, same UIDVALIDITY; UID 1 may now be anything.
        let (change, event) = store.note_selected("INBOX", 7, Some(2), now).unwrap();
        assert_eq!(change, MailboxChange::UidnextBackwards { old: 3, new: 2 });
        assert!(store.processed_uids("INBOX", 7).unwrap().is_empty(), "every UID is looked at again");
        // The rescan recognises the old bytes under their (new) UIDs.
        assert!(store.record_known_bytes(MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid: 1 }, "bbb").unwrap());
        let done = Synced { listed: &listed(&[1]), vanished_at_fetch: 0, known: 1, recorded: 0 };
        store.note_synced("INBOX", 7, event, &done, now).unwrap();
        let events = store.mailbox_events(None).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::UidnextBackwards);
        assert_eq!(events[0].details.recognised, Some(1));
        assert_eq!(events[0].details.recorded, Some(0));
        assert_eq!(store.message_count().unwrap(), 2, "nothing recorded is lost");
    }

    #[test]
    fn a_new_uidvalidity_is_an_event_completed_with_the_rescan_counts() {
        let (_dir, mut store) = store();
        let now = Timestamp::now();
        store.note_selected("INBOX", 7, Some(4), now).unwrap();
        record(&mut store, "aaa", 3, 7);
        let (change, event) = store.note_selected("INBOX", 9, Some(5), now).unwrap();
        assert_eq!(change, MailboxChange::UidvalidityChanged { old: 7, new: 9 });
        assert!(store.processed_uids("INBOX", 9).unwrap().is_empty());
        let done = Synced { listed: &listed(&[1, 2, 3, 4]), vanished_at_fetch: 0, known: 3, recorded: 1 };
        assert_eq!(store.note_synced("INBOX", 9, event, &done, now).unwrap(), 0);
        let events = store.mailbox_events(None).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::UidvalidityChanged);
        assert_eq!(
            events[0].details,
            EventDetails { old: Some(7), new: Some(9), recognised: Some(3), recorded: Some(1), ..Default::default() }
        );
        assert!(store
            .mailbox_events(Some(now.checked_add(jiff::SignedDuration::from_secs(1)).unwrap()))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn uids_handed_out_and_gone_before_the_listing_are_reported_once_and_history_is_not() {
        let (_dir, mut store) = store();
        let now = Timestamp::now();
        // First look: UIDs 1..9 were deleted before smebridge ever watched: no news.
        store.note_selected("INBOX", 7, Some(10), now).unwrap();
        assert_eq!(store.note_synced("INBOX", 7, None, &synced(&listed(&[])), now).unwrap(), 0);
        // 10..=15 arrive; 12 is moved away and 13 deleted before the next listing; one more
        // (16) is listed but gone at FETCH. Ours: 10 recorded and moved by us (not listed).
        record(&mut store, "aaa", 10, 7);
        let seen = listed(&[11, 14, 15, 16]);
        let done = Synced { listed: &seen, vanished_at_fetch: 1, known: 0, recorded: 3 };
        assert_eq!(store.note_synced("INBOX", 7, None, &done, now).unwrap(), 2);
        let events = store.mailbox_events(None).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::VanishedBeforeFetch);
        assert_eq!(events[0].details.count, Some(3));
        assert_eq!(events[0].details.uids, vec![12, 13]);
        // The next pass does not report them again.
        assert_eq!(store.note_synced("INBOX", 7, None, &synced(&listed(&[11, 14, 15])), now).unwrap(), 0);
        assert_eq!(store.mailbox_events(None).unwrap().len(), 1);
        // A reconnect with the same numbering is no event.
        assert_eq!(store.note_selected("INBOX", 7, Some(17), now).unwrap(), (MailboxChange::None, None));
    }
}
