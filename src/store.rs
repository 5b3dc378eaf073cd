//! The SQLite database: the source of truth.
//!
//! - Every message is recorded with its raw bytes, keyed by the SHA-256 of those bytes, before it
//!   is read: with the outcome `reading` and an attempt counter ([`Store::mark_reading`]). The
//!   transaction that records what reading it concluded replaces that outcome, and records the
//!   (mailbox, UIDVALIDITY, UID) it was seen under, the application and the reply it caused
//!   ([`Store::finish_reading`]). A UID counts as processed only once that transaction committed.
//! - The schema lives in `migrations/`, one numbered file per change, applied in order and tracked
//!   with `PRAGMA user_version`.
//! - WAL journal, `synchronous = FULL`, a busy timeout, `BEGIN IMMEDIATE` for every write
//!   transaction. The database file is created readable by its owner only (it holds personal
//!   data).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use jiff::Timestamp;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::domain::{
    classify_mailbox, match_key, same_applicant, ApplicantFields, EmailAddress, MailboxChange, ReadState, Status,
};
use crate::instance::{Busy, Instance};
use crate::parse::Attachment;

/// The schema version this smebridge brings a database to (`PRAGMA user_version`).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_attachments.sql"),
    include_str!("../migrations/0003_mailbox_events.sql"),
    include_str!("../migrations/0004_application_details.sql"),
    include_str!("../migrations/0005_record_before_reading.sql"),
    include_str!("../migrations/0006_summary_coverage_and_mailbox_reads.sql"),
];

/// The outcome of a message whose bytes are recorded and whose reading has not finished.
pub const READING: &str = "reading";

pub struct Store {
    conn: Connection,
    /// The claim on the database of a store open for writing; `None` when read-only.
    _instance: Option<Instance>,
}

/// See [`Store::write`].
enum Write<'c> {
    Transaction(rusqlite::Transaction<'c>),
    /// Inside a [`Store::group`]: the group's transaction is the unit. No savepoint per write:
    /// nothing inside a group catches an error and carries on (every error ends the group,
    /// which rolls back whole), so a savepoint would only cost a statement journal per write.
    InGroup(&'c Connection),
}

impl std::ops::Deref for Write<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Write::Transaction(tx) => tx,
            Write::InGroup(conn) => conn,
        }
    }
}

impl Write<'_> {
    fn commit(self) -> rusqlite::Result<()> {
        match self {
            Write::Transaction(tx) => tx.commit(),
            Write::InGroup(_) => Ok(()),
        }
    }
}

/// Statements through rusqlite's statement cache: the same few statements run for every
/// message, and preparing them anew each time was a tenth of smebridge's CPU (perf, N = 5,000).
trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// A message as recorded.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub sha256: &'a str,
    pub message_id: &'a str,
    pub arrived_at: Timestamp,
    pub raw: &'a [u8],
    pub sender: Option<&'a EmailAddress>,
    pub subject: Option<&'a str>,
    pub outcome: &'a str,
    pub outcome_detail: Option<String>,
    pub problems: &'a [String],
    /// Listed in the `attachments` table, in the same transaction as the message.
    pub attachments: &'a [Attachment],
    /// What the message says beyond the fields, for the application it inserts or updates.
    pub details: &'a Details,
}

impl<'a> NewMessage<'a> {
    /// Everything but the bytes.
    fn outcome(&self) -> MessageOutcome<'a> {
        MessageOutcome {
            message_id: self.message_id,
            sender: self.sender,
            subject: self.subject,
            outcome: self.outcome,
            outcome_detail: self.outcome_detail.clone(),
            problems: self.problems,
            attachments: self.attachments,
            details: self.details,
        }
    }
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
    pub outcome: &'a str,
    pub outcome_detail: Option<String>,
    pub problems: &'a [String],
    pub attachments: &'a [Attachment],
    pub details: &'a Details,
}

/// Which recorded bytes a [`Store::finish_reading`] is about.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    pub sha256: &'a str,
    /// When the message arrived (an application it makes was received then).
    pub arrived_at: Timestamp,
}

/// For a message that names nobody and gives no field (automatic mail, tests).
pub static NO_DETAILS: Details = Details { people: Vec::new(), notes: None, sources: BTreeMap::new() };

/// Who the message names and where each field it gives was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// Everyone the mail names as applicant or attendee (empty: nobody by name).
    pub people: Vec<String>,
    /// What the applicant wrote under a remarks label.
    pub notes: Option<String>,
    /// Field name → where its value was read, in words for staff. For an update, only the
    /// fields the mail states (they replace the earlier entries).
    pub sources: BTreeMap<String, String>,
}

/// Where a message was seen.
#[derive(Debug, Clone, Copy)]
pub struct MailboxUid<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
}

/// What a message does to the applications table.
#[derive(Debug, Clone)]
pub enum ApplicationWrite {
    None,
    Insert {
        email: EmailAddress,
        fields: ApplicantFields,
        status: Status,
        review: Option<String>,
    },
    /// New field values and, when `status` is set, a new status.
    Update {
        id: i64,
        fields: ApplicantFields,
        status: Option<Status>,
    },
    /// Only note that this message belongs to the application.
    Touch {
        id: i64,
    },
}

/// A reply to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewReply {
    pub kind: &'static str,
    pub message_id: String,
    pub envelope_from: Option<EmailAddress>,
    pub recipient: EmailAddress,
    pub raw: Vec<u8>,
}

/// An application as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: i64,
    pub email: String,
    pub fields: ApplicantFields,
    pub status: Status,
    pub received_at: Timestamp,
    /// Why staff should look at it (one reason per line), if anything.
    pub review: Option<String>,
    /// The last message that belongs to this application.
    pub last_message: i64,
    /// Everyone named as applicant or attendee.
    pub people: Vec<String>,
    /// What the applicant wrote under a remarks label (the latest mail's, if it has any).
    pub notes: Option<String>,
    /// Field name → where its current value was read.
    pub sources: BTreeMap<String, String>,
    /// The attachments of every message that belongs to it, in the order they arrived. Filled by
    /// [`Store::applications`] (what exports and the summary list); empty where the pipeline
    /// looks up one application to decide about a message.
    pub attachments: Vec<StoredAttachment>,
}

/// A reply waiting in (or gone through) the outbox.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub message_id: String,
    pub envelope_from: Option<String>,
    pub recipient: String,
    pub raw: Vec<u8>,
    pub state: String,
    pub attempts: u32,
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
    /// Open the database for writing, creating it if needed, bring its schema up to date and
    /// refresh the applications' match keys. Only with the database claimed ([`Instance`]): the
    /// store keeps the claim, so no other smebridge can write while it is open.
    pub fn open(instance: Instance) -> Result<Store> {
        let path = instance.database().to_path_buf();
        let path = path.as_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        create_private(path)?;
        if let Some(mode) = open_to_others(path) {
            warn!(path = %path.display(), mode = %format!("{mode:04o}"), "the database file is open to other users of this machine; it holds personal data: chmod 600 it");
        }
        let conn = Connection::open(path).with_context(|| format!("cannot open the database {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Store { conn, _instance: Some(instance) };
        store.migrate().context("cannot bring the database schema up to date")?;
        store.refresh_match_keys().context("cannot update the applications' name and organization keys")?;
        Ok(store)
    }

    /// Open the database for reading only (`export`, `stats`, `summary`): nothing is written, no
    /// claim is taken, so it works while the daemon runs. A database whose schema is older than
    /// this smebridge is brought up to date first, which needs the claim: when another smebridge
    /// holds it, that is said plainly.
    pub fn open_read(path: &Path) -> Result<Store> {
        let (conn, version) = read_only(path)?;
        if version == MIGRATIONS.len() {
            return Ok(Store { conn, _instance: None });
        }
        drop(conn);
        match Instance::claim(path) {
            Ok(instance) => drop(Store::open(instance)?),
            Err(e) => match e.downcast_ref::<Busy>() {
                Some(busy) => anyhow::bail!(
                    "the database {} is at schema version {version} and this smebridge needs version {}; it cannot be \
                     brought up to date now because {busy} (an older smebridge, probably): stop it and start this one",
                    path.display(),
                    MIGRATIONS.len(),
                ),
                None => return Err(e),
            },
        }
        let (conn, _) = read_only(path)?;
        Ok(Store { conn, _instance: None })
    }

    /// Can the database be used? For `smebridge check`; writes nothing and creates nothing. A
    /// database that does not exist yet is fine when its directory exists (the first run creates
    /// it); one with an older schema is fine (the next run brings it up to date).
    pub fn probe(path: &Path) -> Result<()> {
        if !path.exists() {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !dir.is_dir() {
                anyhow::bail!("the directory {} does not exist", dir.display());
            }
            return Ok(());
        }
        let (conn, _) = read_only(path)?;
        conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
            .with_context(|| format!("cannot read the database {}", path.display()))?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let version: usize = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            anyhow::bail!(
                "the database is at schema version {version}, newer than this smebridge knows ({}); upgrade smebridge",
                MIGRATIONS.len()
            );
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql).with_context(|| format!("migration {} failed", index + 1))?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A write transaction: `BEGIN IMMEDIATE` on its own, or part of the group's transaction
    /// inside a [`Store::group`].
    fn write(&mut self) -> Result<Write<'_>> {
        Ok(if self.conn.is_autocommit() {
            Write::Transaction(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
        } else {
            Write::InGroup(&self.conn)
        })
    }

    /// Run `f` as one transaction: every write in it becomes durable with one commit (one
    /// fsync) at the end, or not at all. This is the group commit of the backlog: a batch of
    /// messages is recorded together, and none of them counts as processed (its UID row is part
    /// of the same transaction) before the commit. Nothing outside the database may happen on
    /// the strength of a write inside `f` (no reply is sent, no message moved) until it returns.
    /// Any error inside `f` must end it (it rolls the whole group back). Nested calls join the
    /// outer group.
    pub fn group<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return f(self);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT").context("cannot commit to the database")?;
                Ok(value)
            }
            Err(e) => {
                // SQLite may already have rolled back (e.g. disk full); the error that matters
                // is `e`.
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                Err(e)
            }
        }
    }

    /// Bring every application's `match_key` up to date: rows from before migration 2 have none,
    /// and a change to the normalization ([`match_key`]) must not leave stale keys behind.
    /// Computed here rather than in SQL because the normalization is Rust; only rows whose key
    /// differs are written, so an up-to-date database is only read.
    fn refresh_match_keys(&mut self) -> Result<()> {
        let tx = self.write()?;
        let stale: Vec<(i64, Option<String>)> = {
            let mut stmt = tx.prepare("SELECT id, name, organization, match_key FROM applications")?;
            let rows = stmt.query_map([], |r| {
                let fields = ApplicantFields { name: r.get(1)?, organization: r.get(2)?, ..ApplicantFields::default() };
                Ok((r.get::<_, i64>(0)?, match_key(&fields), r.get::<_, Option<String>>(3)?))
            })?;
            let mut stale = Vec::new();
            for row in rows {
                let (id, key, stored) = row?;
                if key != stored {
                    stale.push((id, key));
                }
            }
            stale
        };
        for (id, key) in &stale {
            tx.exec("UPDATE applications SET match_key = ?2 WHERE id = ?1", params![id, key])?;
        }
        tx.commit()?;
        Ok(())
    }

    // --- mailbox sync -------------------------------------------------------------------------

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
                Some(insert_event(&tx, EVENT_UIDVALIDITY, mailbox, &details, now)?)
            }
            MailboxChange::UidnextBackwards { old, new } => {
                warn!(old, new, "UIDNEXT went backwards: forgetting this mailbox's UIDs and rescanning");
                tx.exec(
                    "DELETE FROM mailbox_uids WHERE mailbox = ?1 AND uidvalidity = ?2",
                    params![mailbox, uidvalidity],
                )?;
                let details = EventDetails { old: Some(old), new: Some(new), ..EventDetails::default() };
                Some(insert_event(&tx, EVENT_UIDNEXT, mailbox, &details, now)?)
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
            insert_event(&tx, EVENT_VANISHED, mailbox, &details, now)?;
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
                r.get::<_, String>(1)?,
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

    /// If these exact bytes were recorded before with an outcome (seen under another UID or
    /// UIDVALIDITY), note the new UID and return true: the message must not be processed again.
    pub fn record_known_bytes(&mut self, at: MailboxUid<'_>, sha256: &str) -> Result<bool> {
        let tx = self.write()?;
        let existing: Option<i64> = tx
            .row("SELECT id FROM messages WHERE sha256 = ?1 AND outcome <> ?2", [sha256, READING], |r| r.get(0))
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
        let found: Option<(String, u32)> = self
            .conn
            .row("SELECT outcome, read_attempts FROM messages WHERE sha256 = ?1", [sha256], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(match found {
            None => ReadState::New,
            Some((outcome, attempts)) if outcome == READING => ReadState::Unfinished { attempts },
            Some(_) => ReadState::Finished,
        })
    }

    /// Record these messages' raw bytes as being read, in one transaction, before they are read:
    /// new bytes with the outcome `reading` and one attempt, bytes already being read with one
    /// attempt more. Bytes recorded with an outcome are left alone.
    pub fn mark_reading(&mut self, messages: &[Arriving<'_>]) -> Result<()> {
        let now = Timestamp::now().as_second();
        let tx = self.write()?;
        for message in messages {
            tx.exec(
                "INSERT INTO messages (sha256, message_id, arrived_at, size, raw, outcome, read_attempts, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)
                 ON CONFLICT (sha256) DO UPDATE SET read_attempts = read_attempts + 1 WHERE outcome = ?6",
                params![
                    message.sha256,
                    crate::parse::synthesized_message_id(message.sha256),
                    message.arrived_at.as_second(),
                    message.raw.len() as i64,
                    message.raw,
                    READING,
                    now,
                ],
            )?;
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
                params![sha256, READING],
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
                [message_id, READING],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    // --- applications -------------------------------------------------------------------------

    pub fn application_by_email(&self, email: &EmailAddress) -> Result<Option<Application>> {
        Ok(self
            .conn
            .row(
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE email = ?1"),
                [email.as_str()],
                application_from_row,
            )
            .optional()?)
    }

    /// The application of an applicant writing from an address no application has: the only one
    /// with the same name and organization (see [`crate::domain::same_applicant`]), if any.
    pub fn application_by_name_and_organization(&self, fields: &ApplicantFields) -> Result<Option<Application>> {
        let Some(key) = match_key(fields) else { return Ok(None) };
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE match_key = ?1"))?;
        let candidates: Vec<Application> =
            stmt.query_map([key], application_from_row)?.collect::<rusqlite::Result<_>>()?;
        let id = same_applicant(fields, candidates.iter().map(|app| (app.id, &app.fields)));
        Ok(id.and_then(|id| candidates.into_iter().find(|app| app.id == id)))
    }

    /// The attachments of every message that belongs to each application, by application id;
    /// in the order the messages arrived, and within a message in the order listed.
    pub fn attachments_by_application(&self) -> Result<std::collections::HashMap<i64, Vec<StoredAttachment>>> {
        let mut stmt = self.conn.prepare(
            "SELECT am.application, a.name, a.content_type, a.size, a.sha256, a.within
             FROM application_messages am
             JOIN attachments a ON a.message = am.message
             JOIN messages m ON m.id = am.message
             ORDER BY am.application, m.arrived_at, m.id, a.position",
        )?;
        let mut out: std::collections::HashMap<i64, Vec<StoredAttachment>> = std::collections::HashMap::new();
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                StoredAttachment {
                    name: r.get(1)?,
                    content_type: r.get(2)?,
                    size: r.get(3)?,
                    sha256: r.get(4)?,
                    within: r.get(5)?,
                },
            ))
        })?;
        for row in rows {
            let (application, attachment) = row?;
            out.entry(application).or_default().push(attachment);
        }
        Ok(out)
    }

    /// Every application, oldest first, with its attachments.
    pub fn applications(&self) -> Result<Vec<Application>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {APPLICATION_COLUMNS} FROM applications ORDER BY received_at, id"))?;
        let mut rows: Vec<Application> = stmt.query_map([], application_from_row)?.collect::<rusqlite::Result<_>>()?;
        let mut attachments = self.attachments_by_application()?;
        for app in &mut rows {
            app.attachments = attachments.remove(&app.id).unwrap_or_default();
        }
        Ok(rows)
    }

    /// Record one message and everything it causes, atomically: the message row with its bytes,
    /// its UID, the application change and the reply. [`Store::finish_reading`] for bytes not
    /// recorded yet (or recorded as being read).
    pub fn commit_message(
        &mut self,
        at: MailboxUid<'_>,
        message: &NewMessage<'_>,
        application: &ApplicationWrite,
        make_reply: impl FnOnce(Option<i64>) -> Result<Option<NewReply>>,
    ) -> Result<CommitResult> {
        let now = Timestamp::now().as_second();
        let tx = self.write()?;
        tx.exec(
            "INSERT INTO messages (sha256, message_id, arrived_at, size, raw, outcome, read_attempts, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)
             ON CONFLICT (sha256) DO NOTHING",
            params![
                message.sha256,
                message.message_id,
                message.arrived_at.as_second(),
                message.raw.len() as i64,
                message.raw,
                READING,
                now,
            ],
        )?;
        let reading = Reading { sha256: message.sha256, arrived_at: message.arrived_at };
        let committed = finish(&tx, at, reading, &message.outcome(), application, make_reply, now)?;
        tx.commit()?;
        Ok(committed)
    }

    /// The subject of the mail that made each application, by application id (for staff).
    pub fn application_subjects(&self) -> Result<std::collections::HashMap<i64, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.id, m.subject FROM applications a JOIN messages m ON m.id = a.first_message
             WHERE m.subject IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        make_reply: impl FnOnce(Option<i64>) -> Result<Option<NewReply>>,
    ) -> Result<CommitResult> {
        let now = Timestamp::now().as_second();
        let tx = self.write()?;
        let committed = finish(&tx, at, reading, message, application, make_reply, now)?;
        tx.commit()?;
        Ok(committed)
    }
}

impl Store {
    /// People registered (sum of attendees over accepted applications).
    pub fn seats_taken(&self) -> Result<i64> {
        Ok(self.conn.row(
            "SELECT COALESCE(SUM(attendees), 0) FROM applications WHERE status = 'accepted'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Move waitlisted applications up, first come first served, while they fit in `capacity`
    /// people. Each promotion and its reply commit together. Safe to repeat: with no seats or no
    /// waitlist it does nothing. Returns how many were promoted.
    pub fn promote_waitlisted(
        &mut self,
        capacity: i64,
        mut make_reply: impl FnMut(&Application) -> Result<Option<NewReply>>,
    ) -> Result<usize> {
        let mut promoted = 0;
        loop {
            let tx = self.write()?;
            let taken: i64 =
                tx.row("SELECT COALESCE(SUM(attendees), 0) FROM applications WHERE status = 'accepted'", [], |r| {
                    r.get(0)
                })?;
            let next = tx
                .row(
                    &format!(
                        "SELECT {APPLICATION_COLUMNS} FROM applications WHERE status = 'waitlisted' ORDER BY received_at, id LIMIT 1"
                    ),
                    [],
                    application_from_row,
                )
                .optional()?;
            let Some(app) = next else { return Ok(promoted) };
            if taken + i64::from(app.fields.attendees.unwrap_or(1)) > capacity {
                return Ok(promoted);
            }
            tx.exec(
                "UPDATE applications SET status = 'accepted', updated_at = ?2 WHERE id = ?1",
                params![app.id, Timestamp::now().as_second()],
            )?;
            if let Some(reply) = make_reply(&app)? {
                insert_reply(&tx, &reply, Some(app.last_message), Some(app.id), Timestamp::now().as_second())?;
            }
            tx.commit()?;
            promoted += 1;
        }
    }

    // --- outbox -------------------------------------------------------------------------------

    /// Has a reply of this kind already been queued for this address (in any state)?
    pub fn reply_kind_queued_for(&self, recipient: &EmailAddress, kind: &str) -> Result<bool> {
        Ok(self
            .conn
            .row(
                "SELECT 1 FROM outbox WHERE recipient = ?1 AND kind = ?2 LIMIT 1",
                params![recipient.as_str(), kind],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Replies sent (or being sent: several go out at once) to `recipient` in the last day.
    pub fn sent_to(&self, recipient: &str, now: Timestamp) -> Result<u32> {
        let since = now.as_second() - 86_400;
        Ok(self.conn.row(
            "SELECT COUNT(*) FROM outbox WHERE recipient = ?1
               AND ((state = 'sent' AND sent_at > ?2) OR (state = 'sending' AND sending_since > ?2))",
            params![recipient, since],
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

    /// Put a pending reply back in the queue for later without counting an attempt (e.g. held by
    /// a rate limit). False when the row is no longer pending.
    #[must_use = "false means the row was not pending: someone else has it"]
    pub fn hold_reply(&self, id: i64, until: Timestamp, why: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1 AND state = 'pending'",
            params![id, until.as_second(), why],
        )? == 1)
    }

    /// A pending reply that cannot be sent at all (e.g. its address does not parse): `failed`.
    /// False when the row is no longer pending.
    #[must_use = "false means the row was not pending: someone else has it"]
    pub fn fail_unsendable(&self, id: i64, error: &str) -> Result<bool> {
        Ok(self.conn.exec(
            "UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1 AND state = 'pending'",
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
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, sending_since = ?2
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
    pub fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    // --- the staff summary ----------------------------------------------------------------------

    /// The last day summarized, when and what that summary covered.
    pub fn last_summary(&self) -> Result<Option<LastSummary>> {
        let row: Option<(String, i64, Covered)> = self
            .conn
            .row(
                "SELECT day, created_at, COALESCE(last_application, 0), COALESCE(last_message, 0)
                 FROM summaries ORDER BY day DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, Covered { last_application: r.get(2)?, last_message: r.get(3)? })),
            )
            .optional()?;
        row.map(|(day, at, covered)| Ok(LastSummary { day, at: Timestamp::from_second(at)?, covered })).transpose()
    }

    /// The highest message id recorded so far (0: none). Read before what a summary shows, it
    /// bounds what the summary covers ([`Covered`]).
    /// A summary covers messages up to this id: the last one, or, while a message is still being
    /// read (its row is written before its outcome), the one before the first such message, so
    /// that what it turns out to be is told in the next summary.
    pub fn last_message_id(&self) -> Result<i64> {
        Ok(self.conn.row(
            "SELECT COALESCE((SELECT MIN(id) - 1 FROM messages WHERE outcome = ?1), (SELECT MAX(id) FROM messages), 0)",
            [READING],
            |r| r.get(0),
        )?)
    }

    /// Record that `day` is summarized, with what the summary covered, and queue its mails, in
    /// one transaction: a day is summarized exactly once, whatever restarts happen. Returns false
    /// (and queues nothing) if the day was summarized already.
    pub fn record_summary(&mut self, day: &str, now: Timestamp, covered: Covered, mails: &[NewReply]) -> Result<bool> {
        let tx = self.write()?;
        let inserted = tx.exec(
            "INSERT INTO summaries (day, created_at, last_application, last_message) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (day) DO NOTHING",
            params![day, now.as_second(), covered.last_application, covered.last_message],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        for mail in mails {
            insert_reply(&tx, mail, None, None, now.as_second())?;
        }
        tx.commit()?;
        Ok(true)
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

    /// Queue mail that answers nothing (a summary sent by hand).
    pub fn queue_mail(&mut self, mail: &NewReply, now: Timestamp) -> Result<i64> {
        let tx = self.write()?;
        let id = insert_reply(&tx, mail, None, None, now.as_second())?;
        tx.commit()?;
        Ok(id)
    }

    /// Messages with one of these outcomes: (arrived_at, sender, subject, outcome, detail, raw).
    pub fn messages_with_outcomes(&self, outcomes: &[&str]) -> Result<Vec<MessageNote>> {
        let placeholders = vec!["?"; outcomes.len()].join(",");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT arrived_at, sender, subject, outcome, outcome_detail, problems, raw, recorded_at, id FROM messages
             WHERE outcome IN ({placeholders}) ORDER BY arrived_at, id"
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
                    raw: r.get(6)?,
                    recorded_at: Timestamp::from_second(r.get(7)?).unwrap_or(Timestamp::UNIX_EPOCH),
                    id: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Replies waiting because of the rate limit: (how many, to how many addresses).
    pub fn held_replies(&self) -> Result<(i64, i64)> {
        Ok(self.conn.row(
            "SELECT COUNT(*), COUNT(DISTINCT recipient) FROM outbox WHERE state = 'pending' AND last_error = ?1",
            [crate::outbox::HELD],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Replies that failed, whose fate is unknown, or that are being retried.
    pub fn troubled_replies(&self) -> Result<Vec<TroubledReply>> {
        let mut stmt = self.conn.prepare(
            "SELECT recipient, kind, state, last_error, created_at FROM outbox
             WHERE state IN ('failed', 'unknown') OR (state = 'pending' AND attempts > 0) ORDER BY id",
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

    /// How many messages are recorded.
    pub fn message_count(&self) -> Result<i64> {
        Ok(self.conn.row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?)
    }
}

pub const EVENT_UIDVALIDITY: &str = "uidvalidity_changed";
pub const EVENT_UIDNEXT: &str = "uidnext_backwards";
pub const EVENT_VANISHED: &str = "vanished_before_fetch";

/// Something about the mailbox staff should hear of (see `migrations/0003_mailbox_events.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxEvent {
    pub id: i64,
    /// [`EVENT_UIDVALIDITY`], [`EVENT_UIDNEXT`] or [`EVENT_VANISHED`].
    pub kind: String,
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

fn insert_event(tx: &Connection, kind: &str, mailbox: &str, details: &EventDetails, now: Timestamp) -> Result<i64> {
    tx.exec(
        "INSERT INTO mailbox_events (kind, mailbox, details, at) VALUES (?1, ?2, ?3, ?4)",
        params![kind, mailbox, serde_json::to_string(details)?, now.as_second()],
    )?;
    Ok(tx.last_insert_rowid())
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
    pub outcome: String,
    pub detail: Option<String>,
    pub problems: Option<String>,
    pub raw: Vec<u8>,
}

/// What a daily summary covered: the last application and the last message recorded when it
/// was made. Ids grow in the order smebridge records rows, so whatever has a higher id is new
/// for the next summary, whenever its mail arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Covered {
    pub last_application: i64,
    pub last_message: i64,
}

/// The last daily summary made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSummary {
    /// `YYYY-MM-DD`, the day summarized.
    pub day: String,
    /// When it was made, on the daemon's clock.
    pub at: Timestamp,
    pub covered: Covered,
}

/// A reply staff should know about.
#[derive(Debug, Clone)]
pub struct TroubledReply {
    pub recipient: String,
    pub kind: String,
    pub state: String,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// An attachment as listed with an application.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredAttachment {
    pub name: String,
    #[serde(rename = "type")]
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// The `winmail.dat` or attached message it was found in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

/// The ids a [`Store::commit_message`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct CommitResult {
    pub message: i64,
    pub application: Option<i64>,
    pub reply: Option<i64>,
}

fn insert_reply(
    tx: &Connection,
    reply: &NewReply,
    answers: Option<i64>,
    application: Option<i64>,
    now: i64,
) -> Result<i64> {
    tx.exec(
        "INSERT INTO outbox (kind, answers, application, message_id, envelope_from, recipient, raw, state, attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?8)",
        params![
            reply.kind,
            answers,
            application,
            reply.message_id,
            reply.envelope_from.as_ref().map(|a| a.as_str()),
            reply.recipient.as_str(),
            reply.raw,
            now,
        ],
    )?;
    Ok(tx.last_insert_rowid())
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
    let finished = tx.exec(
        "UPDATE messages SET message_id = ?2, sender = ?3, subject = ?4, outcome = ?5, outcome_detail = ?6,
                    problems = ?7, recorded_at = ?8
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
            READING,
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

    let application_id = match application {
        ApplicationWrite::None => None,
        ApplicationWrite::Insert { email, fields, status, review } => {
            tx.exec(
                    "INSERT INTO applications (email, name, organization, position, phone, attendees, status, received_at, updated_at, first_message, last_message, review, people, sources, notes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9, ?10, ?11, ?12, ?13)",
                    params![
                        email.as_str(),
                        fields.name,
                        fields.organization,
                        fields.position,
                        fields.phone,
                        fields.attendees.unwrap_or(1),
                        status.as_str(),
                        arrived_at.as_second(),
                        message_row,
                        review,
                        people_json(&message.details.people),
                        sources_json(&message.details.sources),
                        message.details.notes,
                    ],
                )?;
            Some(tx.last_insert_rowid())
        }
        ApplicationWrite::Update { id, fields, status } => {
            tx.exec(
                "UPDATE applications SET name = ?2, organization = ?3, position = ?4, phone = ?5, attendees = ?6,
                            updated_at = ?7, last_message = ?8, status = COALESCE(?9, status),
                            people = COALESCE(?10, people), sources = json_patch(COALESCE(sources, '{}'), ?11),
                            notes = COALESCE(?12, notes)
                     WHERE id = ?1",
                params![
                    id,
                    fields.name,
                    fields.organization,
                    fields.position,
                    fields.phone,
                    fields.attendees.unwrap_or(1),
                    arrived_at.as_second(),
                    message_row,
                    status.map(Status::as_str),
                    people_json(&message.details.people),
                    sources_json(&message.details.sources),
                    message.details.notes,
                ],
            )?;
            Some(*id)
        }
        ApplicationWrite::Touch { id } => {
            tx.exec("UPDATE applications SET last_message = ?2 WHERE id = ?1", params![id, message_row])?;
            Some(*id)
        }
    };

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

const APPLICATION_COLUMNS: &str =
    "id, email, name, organization, position, phone, attendees, status, received_at, review, last_message, people, sources, notes";

/// A JSON column, `None` when NULL.
fn json_column<T: serde::de::DeserializeOwned>(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<T>> {
    let Some(text) = row.get::<_, Option<String>>(index)? else { return Ok(None) };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e)))
}

/// `people` as stored: a JSON array, or NULL for nobody.
fn people_json(people: &[String]) -> Option<String> {
    (!people.is_empty()).then(|| serde_json::Value::from(people.to_vec()).to_string())
}

/// `sources` as stored: a JSON object (`{}` when nothing is known).
fn sources_json(sources: &BTreeMap<String, String>) -> String {
    serde_json::to_string(sources).unwrap_or_else(|_| "{}".to_owned())
}

fn application_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Application> {
    let status: String = row.get(7)?;
    let received: i64 = row.get(8)?;
    Ok(Application {
        id: row.get(0)?,
        email: row.get(1)?,
        fields: ApplicantFields {
            name: row.get(2)?,
            organization: row.get(3)?,
            position: row.get(4)?,
            phone: row.get(5)?,
            attendees: row.get(6)?,
        },
        status: Status::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                7,
                rusqlite::types::Type::Text,
                format!("unknown status {status:?}").into(),
            )
        })?,
        received_at: Timestamp::from_second(received)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Integer, Box::new(e)))?,
        review: row.get(9)?,
        last_message: row.get(10)?,
        people: json_column(row, 11)?.unwrap_or_default(),
        sources: json_column(row, 12)?.unwrap_or_default(),
        notes: row.get(13)?,
        attachments: Vec::new(),
    })
}

fn outbox_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        message_id: row.get(2)?,
        envelope_from: row.get(3)?,
        recipient: row.get(4)?,
        raw: row.get(5)?,
        state: row.get(6)?,
        attempts: row.get(7)?,
    })
}

/// A read-only connection to an existing database and its schema version; an error for a
/// database newer than this smebridge.
fn read_only(path: &Path) -> Result<(Connection, usize)> {
    if !path.exists() {
        anyhow::bail!(
            "there is no database at {} yet (`smebridge once` or `smebridge run` creates it)",
            path.display()
        );
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        anyhow::bail!(
            "the database is at schema version {version}, newer than this smebridge knows ({}); upgrade smebridge",
            MIGRATIONS.len()
        );
    }
    Ok((conn, version))
}

/// The permission bits of `path` when its group or others may read or write it, else `None`
/// (also when it cannot be looked at).
pub fn open_to_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Create the database file with mode 0600 before SQLite opens it (SQLite would use 0644).
fn create_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create the database {}", path.display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store open for writing, the database claimed.
    fn open(path: &Path) -> Store {
        Store::open(Instance::claim(path).unwrap()).unwrap()
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("db.sqlite"));
        (dir, store)
    }

    fn message<'a>(sha: &'a str, raw: &'a [u8], sender: &'a EmailAddress) -> NewMessage<'a> {
        NewMessage {
            sha256: sha,
            message_id: "m1@x.example",
            arrived_at: "2022-11-16T01:00:00Z".parse().unwrap(),
            raw,
            sender: Some(sender),
            subject: Some("신청"),
            outcome: "registered",
            outcome_detail: None,
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS,
        }
    }

    fn listed(uids: &[u32]) -> HashSet<u32> {
        uids.iter().copied().collect()
    }

    fn synced(listed: &HashSet<u32>) -> Synced<'_> {
        Synced { listed, vanished_at_fetch: 0, known: 0, recorded: 0 }
    }

    fn record(store: &mut Store, sha: &str, uid: u32, validity: u32) {
        let sender = EmailAddress::parse("kim@x.example").unwrap();
        let raw = sha.as_bytes().to_vec();
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: validity, uid };
        let mut m = message(sha, &raw, &sender);
        let mid = format!("{sha}@x.example");
        m.message_id = &mid;
        store.commit_message(at, &m, &ApplicationWrite::None, |_| Ok(None)).unwrap();
    }

    fn arriving<'a>(sha: &'a str, raw: &'a [u8]) -> Arriving<'a> {
        Arriving { sha256: sha, arrived_at: "2022-11-16T01:00:00Z".parse().unwrap(), raw }
    }

    #[test]
    fn bytes_marked_as_being_read_are_not_known_bytes_until_their_outcome_is_recorded() {
        let (_dir, mut store) = store();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::New);
        store.mark_reading(&[arriving("aa", b"raw one"), arriving("bb", b"raw two")]).unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Unfinished { attempts: 1 });
        assert_eq!(store.message_count().unwrap(), 2);
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        assert!(!store.record_known_bytes(at, "aa").unwrap(), "being read is not recorded");
        assert!(store.processed_uids("INBOX", 1).unwrap().is_empty());
        assert!(store.messages_with_outcomes(&["registered"]).unwrap().is_empty());

        let sender = EmailAddress::parse("kim@x.example").unwrap();
        let message = message("aa", b"raw one", &sender);
        let reading = Reading { sha256: "aa", arrived_at: message.arrived_at };
        let committed = store.finish_reading(at, reading, &message.outcome(), &ApplicationWrite::None, |_| Ok(None));
        committed.unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Finished);
        assert_eq!(store.processed_uids("INBOX", 1).unwrap(), listed(&[1]));
        let recorded = store.messages_with_outcomes(&["registered"]).unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].raw, b"raw one", "the bytes recorded before reading are the message's");
        assert_eq!(recorded[0].sender.as_deref(), Some("kim@x.example"));
        // Marking finished bytes again changes nothing.
        store.mark_reading(&[arriving("aa", b"raw one")]).unwrap();
        assert_eq!(store.read_state("aa").unwrap(), ReadState::Finished);
    }

    #[test]
    fn every_unfinished_attempt_is_counted_and_one_given_up_cleanly_is_taken_back() {
        let (_dir, mut store) = store();
        store.mark_reading(&[arriving("aa", b"raw")]).unwrap();
        store.mark_reading(&[arriving("aa", b"raw")]).unwrap();
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
        let reading = Reading { sha256: "zz", arrived_at: message.arrived_at };
        let refused = store.finish_reading(at, reading, &message.outcome(), &ApplicationWrite::None, |_| Ok(None));
        assert!(format!("{:#}", refused.unwrap_err()).contains("not recorded before it was read"));
        assert!(store.processed_uids("INBOX", 1).unwrap().is_empty());
    }

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
        assert_eq!(events[0].kind, EVENT_UIDNEXT);
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
        assert_eq!(events[0].kind, EVENT_UIDVALIDITY);
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
        assert_eq!(events[0].kind, EVENT_VANISHED);
        assert_eq!(events[0].details.count, Some(3));
        assert_eq!(events[0].details.uids, vec![12, 13]);
        // The next pass does not report them again.
        assert_eq!(store.note_synced("INBOX", 7, None, &synced(&listed(&[11, 14, 15])), now).unwrap(), 0);
        assert_eq!(store.mailbox_events(None).unwrap().len(), 1);
        // A reconnect with the same numbering is no event.
        assert_eq!(store.note_selected("INBOX", 7, Some(17), now).unwrap(), (MailboxChange::None, None));
    }

    #[test]
    fn the_database_file_is_private() {
        let (dir, _store) = store();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("db.sqlite")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn reopening_does_not_migrate_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        drop(open(&path));
        let store = open(&path);
        assert_eq!(store.message_count().unwrap(), 0);
    }

    #[test]
    fn people_and_sources_are_kept_and_an_update_replaces_only_the_sources_it_states() {
        let (_dir, mut store) = store();
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid };
        let sources = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let first = Details {
            notes: Some("주차 필요".into()),
            people: vec!["김민준".into(), "이하은".into()],
            sources: sources(&[("name", "line 3, label '성명'"), ("phone", "signature block")]),
        };
        let mut msg = message("p1", b"p1", &kim);
        msg.details = &first;
        let fields =
            ApplicantFields {
                name: Some("김민준".into()), phone: Some("010-1234-5678".into()), ..Default::default()
            };
        let insert = ApplicationWrite::Insert {
            email: kim.clone(),
            fields: fields.clone(),
            status: Status::Accepted,
            review: None,
        };
        let id = store.commit_message(at(1), &msg, &insert, |_| Ok(None)).unwrap().application.unwrap();

        let later =
            Details { people: Vec::new(), notes: None, sources: sources(&[("phone", "line 1, label '연락처'")]) };
        let mut msg = message("p2", b"p2", &kim);
        msg.message_id = "p2@x.example";
        msg.details = &later;
        let fields = ApplicantFields { phone: Some("010-9876-5432".into()), ..fields };
        store
            .commit_message(at(2), &msg, &ApplicationWrite::Update { id, fields, status: None }, |_| Ok(None))
            .unwrap();

        let app = store.application_by_email(&kim).unwrap().unwrap();
        assert_eq!(app.people, ["김민준", "이하은"], "a mail naming nobody keeps the people");
        assert_eq!(app.notes.as_deref(), Some("주차 필요"), "a mail without notes keeps the notes");
        assert_eq!(app.sources, sources(&[("name", "line 3, label '성명'"), ("phone", "line 1, label '연락처'")]));
    }

    #[test]
    fn a_group_commits_all_its_messages_together_or_none() {
        let (dir, mut store) = store();
        let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let none = |_: Option<i64>| Ok(None);
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid };
        // A failing group leaves nothing behind, not even the messages before the failure.
        let failed: Result<()> = store.group(|store| {
            store.commit_message(at(1), &message("a1", b"one", &sender), &ApplicationWrite::None, none)?;
            store.commit_message(at(2), &message("a2", b"two", &sender), &ApplicationWrite::None, none)?;
            anyhow::bail!("the disk is full")
        });
        assert!(failed.is_err());
        assert_eq!(store.message_count().unwrap(), 0);
        assert!(store.processed_uids("INBOX", 7).unwrap().is_empty(), "no UID counts before the commit");

        // A group that succeeds: both messages, visible inside the group and durable after it.
        store
            .group(|store| {
                store.commit_message(at(1), &message("a1", b"one", &sender), &ApplicationWrite::None, none)?;
                assert!(store.record_known_bytes(at(3), "a1")?, "a write earlier in the group is seen");
                store.commit_message(at(2), &message("a2", b"two", &sender), &ApplicationWrite::None, none)?;
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
            email: sender.clone(),
            fields: ApplicantFields { name: Some("김민준".into()), ..Default::default() },
            status: Status::Accepted,
            review: None,
        };
        let reply = |id: Option<i64>| {
            Ok(Some(NewReply {
                kind: "ack",
                message_id: format!("reply-{}@kaist.ac.kr", id.unwrap()),
                envelope_from: None,
                recipient: sender.clone(),
                raw: b"reply".to_vec(),
            }))
        };
        let first = store.commit_message(at, &message("aa", b"raw", &sender), &write, reply).unwrap();
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
    fn outbox_retry_and_states() {
        let (_dir, mut store) = store();
        let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid: 1 };
        let reply = |_| {
            Ok(Some(NewReply {
                kind: "ack",
                message_id: "r@kaist.ac.kr".into(),
                envelope_from: None,
                recipient: sender.clone(),
                raw: b"reply".to_vec(),
            }))
        };
        let id = store
            .commit_message(at, &message("bb", b"raw", &sender), &ApplicationWrite::None, reply)
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
        assert_eq!(store.outbox_counts().unwrap(), vec![("sent".to_owned(), 1)]);
    }

    /// A second connection to the same database, as a second writer would have (the instance
    /// lock keeps a second smebridge out; the outbox must hold even without it).
    fn second_writer(path: &Path) -> Store {
        let conn = Connection::open(path).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        Store { conn, _instance: None }
    }

    fn queue_one_reply(store: &mut Store) -> i64 {
        let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid: 1 };
        let reply = |_| {
            Ok(Some(NewReply {
                kind: "ack",
                message_id: "r@kaist.ac.kr".into(),
                envelope_from: None,
                recipient: sender.clone(),
                raw: b"reply".to_vec(),
            }))
        };
        store
            .commit_message(at, &message("cc", b"raw", &sender), &ApplicationWrite::None, reply)
            .unwrap()
            .reply
            .unwrap()
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
        assert!(!other.hold_reply(id, now, "held").unwrap());
        assert!(!other.fail_unsendable(id, "bad address").unwrap());
        assert!(store.mark_sent(claim, now).unwrap());
        assert!(!other.mark_sent(claim, now).unwrap(), "sent once, recorded once");
        assert_eq!(store.outbox_counts().unwrap(), vec![("sent".to_owned(), 1)]);
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
        assert_eq!(store.outbox_counts().unwrap(), vec![("sending".to_owned(), 1)]);
        assert!(store.mark_failed(fresh, "550 no such user").unwrap());
        assert_eq!(store.outbox_counts().unwrap(), vec![("failed".to_owned(), 1)]);
    }

    #[test]
    fn readers_open_read_only_and_write_nothing_while_the_database_is_claimed() {
        let (dir, mut writer) = store();
        let path = dir.path().join("db.sqlite");
        queue_one_reply(&mut writer);
        let reader = Store::open_read(&path).expect("a reader works while a writer holds the database");
        assert_eq!(reader.message_count().unwrap(), 1);
        let write = reader.conn.execute("UPDATE outbox SET state = 'failed'", []);
        assert!(write.is_err(), "the reader's connection cannot write");
        assert_eq!(writer.outbox_counts().unwrap(), vec![("pending".to_owned(), 1)]);

        let missing = dir.path().join("none.sqlite");
        let err = Store::open_read(&missing).err().expect("no database to read");
        assert!(err.to_string().contains("there is no database at"), "{err:#}");
        assert!(!missing.exists(), "a reader creates nothing");
    }

    #[test]
    fn a_reader_brings_an_old_schema_up_to_date_only_when_no_one_holds_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let old = MIGRATIONS.len() - 1;
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..old] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", old).unwrap();
        }
        let holder = Instance::claim(&path).unwrap();
        let err = Store::open_read(&path).err().expect("cannot migrate while another instance holds it");
        let text = format!("{err:#}");
        assert!(
            text.contains(&format!("at schema version {old} and this smebridge needs version {}", old + 1)),
            "{text}"
        );
        assert!(text.contains(&format!("another smebridge (pid {})", std::process::id())), "{text}");
        assert!(text.contains("stop it and start this one"), "{text}");
        drop(holder);

        let reader = Store::open_read(&path).expect("brought up to date, then read");
        let version: usize = reader.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
        drop(reader);
        let _writer = Instance::claim(&path).expect("the reader let go of its claim");
    }

    #[test]
    fn probing_for_check_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("db.sqlite");
        Store::probe(&fresh).expect("a database not made yet, in a directory that exists, is fine");
        assert!(!fresh.exists());
        let nowhere = dir.path().join("no/such/dir/db.sqlite");
        let err = Store::probe(&nowhere).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err:#}");
        assert!(!dir.path().join("no").exists(), "the directory is not created");
        drop(open(&fresh));
        Store::probe(&fresh).unwrap();
    }

    #[test]
    fn a_summary_remembers_what_it_covered_and_a_read_is_remembered() {
        let (_dir, mut store) = store();
        assert_eq!(store.last_summary().unwrap(), None);
        assert_eq!(store.mailbox_read("INBOX").unwrap(), None);
        let at: Timestamp = "2022-11-16T08:30:00+09:00".parse().unwrap();
        let covered = Covered { last_application: 7, last_message: 12 };
        assert!(store.record_summary("2022-11-16", at, covered, &[]).unwrap());
        assert!(!store.record_summary("2022-11-16", at, Covered::default(), &[]).unwrap(), "once a day");
        assert_eq!(store.last_summary().unwrap(), Some(LastSummary { day: "2022-11-16".into(), at, covered }));
        store.note_mailbox_read("INBOX", at).unwrap();
        let later = at.checked_add(jiff::SignedDuration::from_secs(60)).unwrap();
        store.note_mailbox_read("INBOX", later).unwrap();
        assert_eq!(store.mailbox_read("INBOX").unwrap(), Some(later));
        assert_eq!(store.mailbox_read("Other").unwrap(), None);
    }

    fn attachment(name: &str, size: u64) -> Attachment {
        Attachment {
            name: name.into(),
            content_type: "application/pdf".into(),
            size,
            sha256: format!("{:064x}", size),
            within: None,
        }
    }

    fn insert(email: &EmailAddress, name: &str, organization: &str) -> ApplicationWrite {
        ApplicationWrite::Insert {
            email: email.clone(),
            fields: ApplicantFields {
                name: Some(name.into()),
                organization: Some(organization.into()),
                ..Default::default()
            },
            status: Status::Accepted,
            review: None,
        }
    }

    #[test]
    fn attachments_of_every_message_of_an_application_are_listed_with_it() {
        let (_dir, mut store) = store();
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let other = EmailAddress::parse("lee@daon.example").unwrap();
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid };
        let first = [attachment("신청서.hwpx", 34_000), attachment("명함.png", 20)];
        let mut msg = message("s1", b"raw1", &kim);
        msg.attachments = &first;
        let app = store.commit_message(at(1), &msg, &insert(&kim, "김민준", "한빛테크"), |_| Ok(None)).unwrap();
        let app = app.application.unwrap();
        // A second message (e.g. the corrected form) touches the same application.
        let second = [attachment("신청서-수정.pdf", 9)];
        let mut msg = message("s2", b"raw2", &kim);
        msg.message_id = "m2@x.example";
        msg.attachments = &second;
        store.commit_message(at(2), &msg, &ApplicationWrite::Touch { id: app }, |_| Ok(None)).unwrap();
        // A message that belongs to no application keeps its list, shown with nothing.
        let stray = [attachment("광고.pdf", 5)];
        let mut msg = message("s3", b"raw3", &other);
        msg.message_id = "m3@x.example";
        msg.attachments = &stray;
        store.commit_message(at(3), &msg, &ApplicationWrite::None, |_| Ok(None)).unwrap();

        let listed = store.attachments_by_application().unwrap();
        let names: Vec<&str> = listed[&app].iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["신청서.hwpx", "명함.png", "신청서-수정.pdf"]);
        assert_eq!(listed[&app][0].size, 34_000);
        assert_eq!(listed.len(), 1);
        let apps = store.applications().unwrap();
        assert_eq!(apps[0].attachments, listed[&app]);
        let stored: i64 = store.conn.query_row("SELECT COUNT(*) FROM attachments", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, 4, "every message's attachments are recorded, linked or not");
    }

    #[test]
    fn the_same_bytes_again_add_no_second_attachment_list() {
        let (_dir, mut store) = store();
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let list = [attachment("신청서.hwpx", 34_000)];
        let mut msg = message("same", b"raw", &kim);
        msg.attachments = &list;
        let write = insert(&kim, "김민준", "한빛테크");
        store
            .commit_message(MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 }, &msg, &write, |_| Ok(None))
            .unwrap();
        store
            .commit_message(MailboxUid { mailbox: "INBOX", uidvalidity: 2, uid: 1 }, &msg, &write, |_| Ok(None))
            .unwrap();
        let listed = store.attachments_by_application().unwrap();
        assert_eq!(listed.values().map(Vec::len).sum::<usize>(), 1);
    }

    #[test]
    fn an_application_is_found_by_name_and_organization_only_when_unambiguous() {
        let (_dir, mut store) = store();
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid };
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let id = store
            .commit_message(at(1), &message("k1", b"k1", &kim), &insert(&kim, "김민준", "(주)한빛테크"), |_| {
                Ok(None)
            })
            .unwrap()
            .application
            .unwrap();
        let asking = |name: &str, organization: Option<&str>| ApplicantFields {
            name: Some(name.into()),
            organization: organization.map(str::to_owned),
            ..Default::default()
        };
        let found = store.application_by_name_and_organization(&asking("김민준", Some("주식회사 한빛테크"))).unwrap();
        assert_eq!(found.map(|a| (a.id, a.email)), Some((id, "kim@hanbit-tech.example".to_owned())));
        assert!(store.application_by_name_and_organization(&asking("김민준", None)).unwrap().is_none());
        assert!(store.application_by_name_and_organization(&asking("김민준", Some("한빛소재"))).unwrap().is_none());

        // An update that changes the organization moves the key with it.
        let mut msg = message("k2", b"k2", &kim);
        msg.message_id = "k2@x.example";
        let fields = ApplicantFields {
            name: Some("김민준".into()),
            organization: Some("한빛소재".into()),
            ..Default::default()
        };
        store
            .commit_message(at(2), &msg, &ApplicationWrite::Update { id, fields, status: None }, |_| Ok(None))
            .unwrap();
        assert!(store.application_by_name_and_organization(&asking("김민준", Some("한빛테크"))).unwrap().is_none());
        assert!(store.application_by_name_and_organization(&asking("김민준", Some("한빛소재"))).unwrap().is_some());

        // A second 김민준 at 한빛소재 makes the name ambiguous: nothing matches.
        let other = EmailAddress::parse("minjun@other.example").unwrap();
        let mut msg = message("k3", b"k3", &other);
        msg.message_id = "k3@x.example";
        store.commit_message(at(3), &msg, &insert(&other, "김 민준", "㈜한빛소재"), |_| Ok(None)).unwrap();
        assert!(store.application_by_name_and_organization(&asking("김민준", Some("한빛소재"))).unwrap().is_none());
    }

    #[test]
    fn a_version_1_database_gets_keys_and_message_links_when_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO messages (id, sha256, message_id, arrived_at, size, raw, outcome, recorded_at)
                   VALUES (1, 'a', 'a@x.example', 0, 1, x'00', 'registered', 0),
                          (2, 'b', 'b@x.example', 1, 1, x'00', 'updated', 1);
                 INSERT INTO applications (email, name, organization, status, received_at, updated_at, first_message, last_message)
                   VALUES ('kim@hanbit-tech.example', '김민준', '(주)한빛테크', 'accepted', 0, 1, 1, 2),
                          ('jane@acme.example', 'Jane Doe', NULL, 'accepted', 0, 0, 1, 1);
                 INSERT INTO summaries (day, created_at) VALUES ('2022-11-16', 0);",
            )
            .unwrap();
        }
        let store = open(&path);
        let version: i64 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64, "every migration applied");
        let keys: Vec<Option<String>> = store
            .conn
            .prepare("SELECT match_key FROM applications ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(keys, [Some("김민준\u{1f}한빛테크".to_owned()), None]);
        let links: i64 = store.conn.query_row("SELECT COUNT(*) FROM application_messages", [], |r| r.get(0)).unwrap();
        assert_eq!(links, 3, "first and last message of the first application, the one of the second");
        let found = ApplicantFields {
            name: Some("김민준".into()),
            organization: Some("한빛테크".into()),
            ..Default::default()
        };
        assert!(store.application_by_name_and_organization(&found).unwrap().is_some());
        // A summary made before migration 6 covered what had been recorded by then (message 1,
        // recorded at 0, and both applications it made; not message 2, recorded at 1).
        let last = store.last_summary().unwrap().unwrap();
        assert_eq!(last.covered, Covered { last_application: 2, last_message: 1 });
    }
}
