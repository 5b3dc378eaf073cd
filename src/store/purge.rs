//! Deleting personal data (`smebridge purge`, `crate::ops`'s `purge.rs`), one [`PurgeScope`] at
//! a time — an event's, or the mail's that is for no event: which rows are the scope's, what goes
//! and what stays, the counts kept for statistics, and compacting the file so that what was
//! deleted is gone from its bytes too (migrations/0011_purge.sql).
//!
//! What goes, for the applications and messages of the scope:
//! - the applications (address, name, organization, position, phone, people, notes, sources,
//!   review), their history (old and new values) and their links to messages;
//! - each message's raw bytes ([`clear_raw_bytes`]: bodies, attachments, every header), sender,
//!   subject, details and problems, its attachment list (names, types, sizes, hashes) and, when
//!   staff resolved it, that resolution (who, when and the note they typed);
//! - each reply's bytes, recipient and last error in the outbox, and those of every staff summary
//!   (a summary lists applications and mail of every event); a mail still waiting to be sent is
//!   never emptied: while the scope has one, nothing of it is purged ([`Purged::Waiting`]);
//! - with the mail for no event, the mailbox events (UIDs, counts) recorded as long ago.
//!
//! What stays: per event, day, organization type and status, how many applications and people
//! ([`PurgedCount`], worked out before the rows go); each message's SHA-256, Message-ID,
//! arrival, size and outcome, and its UIDs (mail still in the mailbox is known and never answered
//! again); each outbox row's kind, state and times (the desk's own Message-IDs); one [`PurgeRecord`]
//! per purge of an event. All in one transaction, with `secure_delete` on; then
//! [`Store::compact`] rewrites the file (`VACUUM`) and empties the write-ahead log
//! (`wal_checkpoint(TRUNCATE)`).
//!
//! Which rows are a scope's is said in one place, [`select_event`]; where raw bytes live in
//! one other, [`clear_raw_bytes`] and [`raw_bytes_selected`].

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rusqlite::{params, Connection};

use super::Store;
use crate::domain::{organization_type, EventId, OrganizationType, Status};

/// Whose personal data goes.
#[derive(Debug, Clone, Copy)]
pub enum PurgeScope<'a> {
    /// An event's: its applications, the messages decided for it and the replies sent for it.
    Event {
        id: &'a EventId,
        /// Its name, recorded with the purge for the summary that tells staff.
        name: &'a str,
        /// Its time zone: the day each application arrived, for the statistics.
        timezone: &'a TimeZone,
    },
    /// The mail for no event (`messages.event` NULL: automatic mail, duplicates, unreadable,
    /// too large or unrouted mail) that arrived before `before`, the replies to it (the question
    /// which event a sender means), and the mailbox events recorded before `before`.
    NoEvent { before: Timestamp },
}

/// What a scope holds that purge deletes: counts only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub applications: i64,
    /// Applications by status (accepted, waitlisted, cancelled, late; those with none left out).
    pub by_status: Vec<(Status, i64)>,
    /// Messages not purged yet (those still being read are nobody's yet).
    pub messages: i64,
    /// Their raw bytes.
    pub raw_bytes: i64,
    pub attachments: i64,
    /// Replies and staff summaries sent, failed or in doubt: emptied.
    pub outbox: i64,
    /// Replies and staff summaries still waiting to be sent: while there are any, nothing goes.
    pub waiting: i64,
    /// Rows of the applications' history.
    pub history: i64,
    pub mailbox_events: i64,
}

impl Holdings {
    /// Nothing personal left to delete.
    pub fn is_empty(&self) -> bool {
        self.applications == 0
            && self.messages == 0
            && self.outbox == 0
            && self.waiting == 0
            && self.history == 0
            && self.mailbox_events == 0
    }
}

/// What [`Store::purge`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purged {
    /// Deleted: what there was, and how many rows of counts now hold its statistics.
    Done { holdings: Holdings, count_rows: usize },
    /// Nothing was left to delete.
    Nothing,
    /// Nothing deleted: mail of the scope is still waiting to be sent.
    Waiting { holdings: Holdings },
}

/// Counts kept for statistics: applications and people per event, day, organization type and
/// status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedCount {
    pub event: EventId,
    /// The day the application arrived, in the event's time zone.
    pub day: Date,
    pub organization_type: OrganizationType,
    pub status: Status,
    pub applications: i64,
    /// The people those applications named (1 where an application stated none).
    pub attendees: i64,
}

/// One purge of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeRecord {
    pub event: EventId,
    pub event_name: String,
    pub at: Timestamp,
    pub applications: i64,
    pub messages: i64,
    pub outbox: i64,
}

/// What [`Store::compact`] did to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// The write-ahead log was emptied (truncated to nothing). False when a reader (a backup, an
    /// export) kept it busy: the old pages may still be in the `-wal` until the next purge.
    pub wal_emptied: bool,
}

/// What an application contributes to the statistics.
#[derive(Debug, Clone, Copy)]
pub struct Counted<'a> {
    pub email: &'a str,
    pub organization: Option<&'a str>,
    pub status: Status,
    pub attendees: Option<u32>,
    pub received_at: Timestamp,
}

/// The statistics of `applications` of `event`: applications and people per (day in `tz`,
/// organization type, status), in that order. The same for applications still stored
/// (`smebridge stats`) and for those about to be purged, so the counts add up.
pub fn tally<'a>(
    applications: impl IntoIterator<Item = Counted<'a>>,
    event: &EventId,
    tz: &TimeZone,
) -> Vec<PurgedCount> {
    // Keyed by the status's place in STATUSES (Status has no order of its own).
    let mut counts: BTreeMap<(Date, OrganizationType, usize), (Status, i64, i64)> = BTreeMap::new();
    for app in applications {
        let day = tz.to_datetime(app.received_at).date();
        let kind = organization_type(app.organization, app.email);
        let place = STATUSES.iter().position(|s| *s == app.status).unwrap_or(STATUSES.len());
        let entry = counts.entry((day, kind, place)).or_insert((app.status, 0, 0));
        entry.1 += 1;
        entry.2 += i64::from(app.attendees.unwrap_or(1));
    }
    counts
        .into_iter()
        .map(|((day, organization_type, _), (status, applications, attendees))| PurgedCount {
            event: event.clone(),
            day,
            organization_type,
            status,
            applications,
            attendees,
        })
        .collect()
}

const STATUSES: [Status; 4] = [Status::Accepted, Status::Waitlisted, Status::Cancelled, Status::Late];

impl Store {
    /// What purging `scope` would delete (works on a read-only store: `--dry-run`).
    pub fn purge_holdings(&self, scope: &PurgeScope<'_>) -> Result<Holdings> {
        select_event(&self.conn, scope)?;
        let holdings = holdings(&self.conn, scope);
        drop_selection(&self.conn)?;
        holdings
    }

    /// Delete the personal data of `scope`'s applications and messages, keeping their counts
    /// (see the module documentation), in one transaction. Nothing at all is deleted while mail
    /// of the scope waits to be sent. Call [`Store::compact`] afterwards.
    pub fn purge(&mut self, scope: &PurgeScope<'_>, now: Timestamp) -> Result<Purged> {
        // Freed pages and cells are overwritten with zeros; VACUUM then rewrites the file anyway.
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let tx = self.write()?;
        select_event(&tx, scope)?;
        let holdings = holdings(&tx, scope)?;
        if holdings.waiting > 0 {
            drop_selection(&tx)?;
            return Ok(Purged::Waiting { holdings });
        }
        if holdings.is_empty() {
            drop_selection(&tx)?;
            return Ok(Purged::Nothing);
        }
        let counts = match scope {
            PurgeScope::Event { id, timezone, .. } => selected_counts(&tx, id, timezone)?,
            PurgeScope::NoEvent { .. } => Vec::new(),
        };
        for count in &counts {
            tx.execute(
                "INSERT INTO purged_counts (event, day, organization_type, status, applications, attendees)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (event, day, organization_type, status) DO UPDATE SET
                     applications = applications + excluded.applications,
                     attendees = attendees + excluded.attendees",
                params![
                    count.event,
                    count.day.to_string(),
                    count.organization_type,
                    count.status,
                    count.applications,
                    count.attendees
                ],
            )?;
        }
        let at = now.as_second();
        tx.execute_batch(
            "DELETE FROM application_history WHERE application IN (SELECT id FROM temp.purge_applications);
             DELETE FROM application_messages WHERE application IN (SELECT id FROM temp.purge_applications);
             UPDATE outbox SET application = NULL WHERE application IN (SELECT id FROM temp.purge_applications);
             DELETE FROM applications WHERE id IN (SELECT id FROM temp.purge_applications);
             DELETE FROM attachments WHERE message IN (SELECT id FROM temp.purge_messages);
             DELETE FROM message_resolutions WHERE message IN (SELECT id FROM temp.purge_messages);",
        )?;
        clear_raw_bytes(&tx)?;
        tx.execute(
            "UPDATE messages SET sender = NULL, subject = NULL, outcome_detail = NULL, problems = NULL, purged_at = ?1
             WHERE id IN (SELECT id FROM temp.purge_messages)",
            [at],
        )?;
        tx.execute(
            "UPDATE outbox SET raw = x'', recipient = '', last_error = NULL, purged_at = ?1
             WHERE id IN (SELECT id FROM temp.purge_outbox)",
            [at],
        )?;
        match scope {
            PurgeScope::Event { id, name, .. } => {
                tx.execute(
                    "INSERT INTO purges (event, event_name, at, applications, messages, outbox)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![id, name, at, holdings.applications, holdings.messages, holdings.outbox],
                )?;
            }
            PurgeScope::NoEvent { before } => {
                tx.execute("DELETE FROM mailbox_events WHERE at < ?1", [before.as_second()])?;
            }
        }
        drop_selection(&tx)?;
        tx.commit().context("cannot commit the purge")?;
        Ok(Purged::Done { holdings, count_rows: counts.len() })
    }

    /// Rewrite the database file without the space deleted rows left (`VACUUM`), and move
    /// everything from the write-ahead log into it and empty the log
    /// (`wal_checkpoint(TRUNCATE)`), so that no deleted byte is left in either file.
    pub fn compact(&mut self) -> Result<Compacted> {
        let path = self.conn.path().map(std::path::PathBuf::from).context("the database has no file")?;
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let wal = {
            let mut name = path.clone().into_os_string();
            name.push("-wal");
            std::path::PathBuf::from(name)
        };
        let bytes_before = size(&path) + size(&wal);
        self.conn.execute_batch("VACUUM").context("cannot compact the database (VACUUM)")?;
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .context("cannot empty the write-ahead log")?;
        let wal_emptied = busy == 0 && size(&wal) == 0;
        Ok(Compacted { bytes_before, bytes_after: size(&path) + size(&wal), wal_emptied })
    }

    /// Does the desk still hold an application of `event` (one whose personal data is not
    /// purged)?
    pub fn holds_applications(&self, event: &EventId) -> Result<bool> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM applications WHERE event = ?1)", [event], |r| r.get(0))?)
    }

    /// The counts kept of purged applications, by event, day, organization type and status.
    pub fn purged_counts(&self) -> Result<Vec<PurgedCount>> {
        let mut stmt = self.conn.prepare(
            "SELECT event, day, organization_type, status, applications, attendees FROM purged_counts
             ORDER BY event, day, organization_type, status",
        )?;
        let rows = stmt.query_map([], |r| {
            let day: String = r.get(1)?;
            Ok(PurgedCount {
                event: r.get(0)?,
                day: day.parse().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
                })?,
                organization_type: r.get(2)?,
                status: r.get(3)?,
                applications: r.get(4)?,
                attendees: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every purge of an event so far, oldest first.
    pub fn purges(&self) -> Result<Vec<PurgeRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT event, event_name, at, applications, messages, outbox FROM purges ORDER BY at, id")?;
        let rows = stmt.query_map([], |r| {
            Ok(PurgeRecord {
                event: r.get(0)?,
                event_name: r.get(1)?,
                at: Timestamp::from_second(r.get(2)?).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Integer, Box::new(e))
                })?,
                applications: r.get(3)?,
                messages: r.get(4)?,
                outbox: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Which rows are the scope's, into `temp.purge_applications`, `temp.purge_messages` and
/// `temp.purge_outbox` (every statement of the purge reads them). Never a message still being
/// read, nor a row purged before.
///
/// An event's ([`PurgeScope::Event`]): its applications (`applications.event`, migration 0010);
/// the messages decided for it (`messages.event`: applications, updates, cancellations,
/// questions, late mail, mail that came before it opened) and any other message linked to one
/// of its applications; the replies sent for it (`outbox.event`) or answering those messages.
///
/// The mail for no event ([`PurgeScope::NoEvent`]): messages with no `messages.event`, linked to
/// no application and no copy of a reply sent for an event, that arrived before the scope's
/// moment — each is kept as long after the day it arrived as an event's data is after the
/// event's day (it may have been for any event, or none: its own day is the only one it has) —
/// and the replies answering them.
///
/// Either way, every staff summary not emptied yet when messages or applications go: a summary
/// lists the applications, and the mail that needs a person, of every event. And the copies of
/// the selected replies and summaries that came back to the desk's own mailbox (`bcc_self`:
/// recorded as mail for no event, under the Message-ID of their outbox row), and of every reply
/// sent for the event: they go with what they copy.
fn select_event(conn: &Connection, scope: &PurgeScope<'_>) -> rusqlite::Result<()> {
    drop_selection(conn)?;
    conn.execute_batch(
        "CREATE TEMP TABLE purge_applications (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE purge_messages (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE purge_outbox (id INTEGER PRIMARY KEY);",
    )?;
    match scope {
        PurgeScope::Event { id, .. } => {
            conn.execute(
                "INSERT INTO temp.purge_applications (id) SELECT id FROM main.applications WHERE event = ?1",
                [id],
            )?;
            conn.execute(
                "INSERT INTO temp.purge_messages (id)
                     SELECT id FROM main.messages
                     WHERE outcome <> 'reading' AND purged_at IS NULL
                       AND (event = ?1
                            OR id IN (SELECT message FROM main.application_messages
                                      WHERE application IN (SELECT id FROM temp.purge_applications)))",
                [id],
            )?;
            conn.execute(
                "INSERT INTO temp.purge_outbox (id)
                     SELECT id FROM main.outbox
                     WHERE purged_at IS NULL
                       AND (event = ?1
                            OR application IN (SELECT id FROM temp.purge_applications)
                            OR answers IN (SELECT id FROM temp.purge_messages))",
                [id],
            )?;
        }
        PurgeScope::NoEvent { before } => {
            conn.execute(
                "INSERT INTO temp.purge_messages (id)
                     SELECT id FROM main.messages
                     WHERE outcome <> 'reading' AND purged_at IS NULL AND event IS NULL AND arrived_at < ?1
                       AND id NOT IN (SELECT message FROM main.application_messages)
                       AND message_id NOT IN (SELECT message_id FROM main.outbox WHERE event IS NOT NULL)",
                [before.as_second()],
            )?;
            conn.execute(
                "INSERT INTO temp.purge_outbox (id)
                     SELECT id FROM main.outbox
                     WHERE purged_at IS NULL AND answers IN (SELECT id FROM temp.purge_messages)",
                [],
            )?;
        }
    }
    conn.execute_batch(
        "INSERT OR IGNORE INTO temp.purge_outbox (id)
             SELECT id FROM main.outbox
             WHERE purged_at IS NULL AND kind = 'summary'
               AND (EXISTS (SELECT 1 FROM temp.purge_applications) OR EXISTS (SELECT 1 FROM temp.purge_messages));",
    )?;
    let event = match scope {
        PurgeScope::Event { id, .. } => Some(*id),
        PurgeScope::NoEvent { .. } => None,
    };
    conn.execute(
        "INSERT OR IGNORE INTO temp.purge_messages (id)
             SELECT id FROM main.messages
             WHERE outcome <> 'reading' AND purged_at IS NULL AND event IS NULL
               AND message_id IN (SELECT message_id FROM main.outbox
                                  WHERE id IN (SELECT id FROM temp.purge_outbox) OR event = ?1)",
        [event],
    )?;
    Ok(())
}

fn drop_selection(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.purge_applications;
         DROP TABLE IF EXISTS temp.purge_messages;
         DROP TABLE IF EXISTS temp.purge_outbox;",
    )
}

/// Delete the raw bytes of the selected messages (`temp.purge_messages`), wherever they are
/// kept: in `raw_messages` (emptied, so every message still has its row of bytes). This and
/// [`raw_bytes_selected`] are the two places that know where raw bytes live.
fn clear_raw_bytes(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute("UPDATE raw_messages SET raw = x'' WHERE message IN (SELECT id FROM temp.purge_messages)", [])
}

/// How many raw bytes the selected messages hold (see [`clear_raw_bytes`]).
fn raw_bytes_selected(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COALESCE(SUM(length(raw)), 0) FROM raw_messages WHERE message IN (SELECT id FROM temp.purge_messages)",
        [],
        |r| r.get(0),
    )
}

/// Count what the selection holds.
fn holdings(conn: &Connection, scope: &PurgeScope<'_>) -> Result<Holdings> {
    let count = |sql: &str| -> rusqlite::Result<i64> { conn.query_row(sql, [], |r| r.get(0)) };
    let mut by_status = Vec::new();
    for status in STATUSES {
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM applications WHERE status = ?1 AND id IN (SELECT id FROM temp.purge_applications)",
            [status],
            |r| r.get(0),
        )?;
        if n > 0 {
            by_status.push((status, n));
        }
    }
    let outbox_in = |states: &str| {
        count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE state IN ({states}) AND id IN (SELECT id FROM temp.purge_outbox)"
        ))
    };
    let mailbox_events = match scope {
        PurgeScope::Event { .. } => 0,
        PurgeScope::NoEvent { before } => {
            conn.query_row("SELECT COUNT(*) FROM mailbox_events WHERE at < ?1", [before.as_second()], |r| r.get(0))?
        }
    };
    Ok(Holdings {
        applications: count("SELECT COUNT(*) FROM temp.purge_applications")?,
        by_status,
        messages: count("SELECT COUNT(*) FROM temp.purge_messages")?,
        raw_bytes: raw_bytes_selected(conn)?,
        attachments: count("SELECT COUNT(*) FROM attachments WHERE message IN (SELECT id FROM temp.purge_messages)")?,
        outbox: outbox_in("'sent', 'failed', 'unknown'")?,
        waiting: outbox_in("'pending', 'sending'")?,
        history: count(
            "SELECT COUNT(*) FROM application_history WHERE application IN (SELECT id FROM temp.purge_applications)",
        )?,
        mailbox_events,
    })
}

/// The statistics of the selected applications of `event` ([`tally`]).
fn selected_counts(conn: &Connection, event: &EventId, tz: &TimeZone) -> Result<Vec<PurgedCount>> {
    let mut stmt = conn.prepare(
        "SELECT email, organization, status, attendees, received_at FROM applications
         WHERE id IN (SELECT id FROM temp.purge_applications)",
    )?;
    type Row = (String, Option<String>, Status, Option<u32>, i64);
    let rows: Vec<Row> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let counted = rows
        .iter()
        .map(|(email, organization, status, attendees, received)| {
            Ok(Counted {
                email,
                organization: organization.as_deref(),
                status: *status,
                attendees: *attendees,
                received_at: Timestamp::from_second(*received).context("bad arrival time in applications")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(tally(counted, event, tz))
}

#[cfg(test)]
mod tests;
