//! The SQLite database: the source of truth.
//!
//! - Every message is recorded with its raw bytes, keyed by the SHA-256 of those bytes, before it
//!   is read: with the outcome `reading` and an attempt counter ([`Store::mark_reading`]). The
//!   bytes sit in `raw_messages`, written once in place (no copy of a message is made in memory)
//!   and read only where they are needed ([`Store::raw_message`]), so no later change to the
//!   message's row touches them. The
//!   transaction that records what reading it concluded replaces that outcome, and records the
//!   (mailbox, UIDVALIDITY, UID) it was seen under, the application and the reply it caused
//!   ([`Store::finish_reading`]). A UID counts as processed only once that transaction committed.
//! - The schema lives in `migrations/`, one numbered file per change, applied in order and tracked
//!   with `PRAGMA user_version`.
//! - WAL journal, `synchronous = FULL`, a busy timeout, `BEGIN IMMEDIATE` for every write
//!   transaction. The database file is created readable by its owner only (it holds personal
//!   data).
//!
//! This file opens the database, brings its schema up to date, runs group commits and maps rows
//! to values. The [`Store`]'s methods are grouped by concern in child files, each adding an
//! `impl Store` block: `mailbox.rs` (sync state per mailbox: UIDVALIDITY, UIDNEXT, processed UIDs,
//! events for staff, when it was last read), `messages.rs` (recording a message before and after
//! reading it), `applications.rs`, `outbox.rs` (replies waiting, claimed, sent),
//! `summaries.rs` (what each daily summary covered), `history.rs` (what changed in an application
//! after it was made, and why), `rereading.rs` (what `smebridge reparse` reads), `purge.rs`
//! (an event's personal data deleted, its counts kept, the file compacted) and `journey.rs`
//! (calendar files sent before, reminders and thank-yous due), `resolutions.rs` (recorded
//! messages staff have dealt with). `copy.rs`
//! copies the file: backups, and the copy kept before an upgrade migrates the database.

mod applications;
mod copy;
mod corrections;
mod history;
mod journey;
mod mailbox;
mod messages;
mod outbox;
mod purge;
mod rereading;
mod resolutions;
mod summaries;
#[cfg(test)]
mod testing;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql, TransactionBehavior};
use tracing::{info, warn};

use crate::domain::{ApplicantFields, EmailAddress, EventId, MailKind, OrganizationType, Outcome, RouteReason, Status};
use crate::instance::{Busy, Instance};

pub use applications::{Application, ApplicationWrite, Details, StoredAttachment, NO_DETAILS};
pub use copy::{copy_to_file, inspect, newer_schema, numbered, same_file, Inspection};
pub use corrections::StaffRecord;
pub use history::{ChangedBy, Field, FieldChange, HistoryEntry, Rewrite};
pub use mailbox::{EventDetails, EventKind, MailboxEvent, MailboxUid, Synced};
pub use messages::{Arriving, CommitResult, MessageNote, MessageOutcome, NewMessage, Reading, RecordedMessage};
pub use outbox::{Claim, Envelope, Hold, NewReply, OutboxRow, OutboxState, TroubledReply};
pub use purge::{tally, Compacted, Counted, Holdings, PurgeRecord, PurgeScope, Purged, PurgedCount};
pub use rereading::ApplicationMessage;
pub use resolutions::{MessageState, Resolution, NEEDS_A_PERSON};
pub use summaries::{Covered, LastSummary};

/// The schema version this smebridge brings a database to (`PRAGMA user_version`).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_attachments.sql"),
    include_str!("../../migrations/0003_mailbox_events.sql"),
    include_str!("../../migrations/0004_application_details.sql"),
    include_str!("../../migrations/0005_record_before_reading.sql"),
    include_str!("../../migrations/0006_summary_coverage_and_mailbox_reads.sql"),
    include_str!("../../migrations/0007_states_as_types.sql"),
    include_str!("../../migrations/0009_application_history.sql"),
    include_str!("../../migrations/0010_events.sql"),
    include_str!("../../migrations/0011_purge.sql"),
    include_str!("../../migrations/0012_journey.sql"),
    // The order here is the order applied (a file's place in this list is its schema version);
    // 0008 was set aside and never used.
    include_str!("../../migrations/0013_raw_messages.sql"),
    include_str!("../../migrations/0014_history_of_events.sql"),
    include_str!("../../migrations/0015_calendar_updates.sql"),
    include_str!("../../migrations/0016_message_resolutions.sql"),
    include_str!("../../migrations/0017_history_of_replies.sql"),
];

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
        store.migrate(path).context("cannot bring the database schema up to date")?;
        store.refresh_match_keys().context("cannot update the applications' name and organization keys")?;
        Ok(store)
    }

    /// Open the database for a staff correction while the daemon holds the claim (see
    /// [`crate::instance`]): no claim is taken, so only what is written in one transaction at a
    /// time (WAL, with the busy timeout) is safe; the schema must be up to date already (the
    /// daemon brought it there). The caller must neither read the mailbox nor send mail.
    pub fn open_beside_daemon(path: &Path) -> Result<Store> {
        let (conn, version) = read_only(path)?;
        drop(conn);
        if version != MIGRATIONS.len() {
            anyhow::bail!(
                "the database {} is at schema version {version} and this smebridge needs version {}: stop the \
                 running smebridge and run the command again",
                path.display(),
                MIGRATIONS.len()
            );
        }
        let conn = Connection::open(path).with_context(|| format!("cannot open the database {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store { conn, _instance: None })
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

    /// Bring the schema of the database at `path` up to date. An existing database is copied
    /// first (`<path>.before-v<N>.sqlite`, see [`copy::before_upgrade_path`]), and the log says
    /// where: an upgrade that goes wrong, or a newer smebridge given up for an older one, can be
    /// undone with `smebridge restore`.
    fn migrate(&mut self, path: &Path) -> Result<()> {
        let version: usize = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            anyhow::bail!("the database {} was {}", path.display(), newer_schema(version));
        }
        if version == MIGRATIONS.len() {
            return Ok(());
        }
        if version > 0 {
            let kept = copy::before_upgrade_path(path, MIGRATIONS.len());
            let copied = copy_to_file(&self.conn, &kept)
                .context("cannot keep a copy of the database before upgrading its schema; nothing was changed")?;
            info!(
                from = version,
                to = MIGRATIONS.len(),
                copy = %kept.display(),
                contents = %copied,
                "upgrading the database schema; a copy of the database as it was is kept"
            );
        }
        // Foreign keys are off while the schema changes: a migration that rebuilds a table (the
        // only way to change a CHECK in SQLite) drops the old one, which would otherwise count as
        // deleting every row other tables point at. Each step checks them before it commits. The
        // pragma has no effect inside a transaction, hence here.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let migrated = self.apply_migrations(version);
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        migrated
    }

    /// Every migration after `version`, each in a transaction of its own.
    fn apply_migrations(&mut self, version: usize) -> Result<()> {
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql).with_context(|| format!("migration {} failed", index + 1))?;
            let dangling: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
            if dangling > 0 {
                anyhow::bail!("migration {} failed: {dangling} rows would point at rows that do not exist", index + 1);
            }
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
}

// --- rows to values -----------------------------------------------------------------------------

const APPLICATION_COLUMNS: &str =
    "id, email, name, organization, position, phone, attendees, status, received_at, review, last_message, people, sources, notes, event";

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
        status: row.get(7)?,
        received_at: Timestamp::from_second(received)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Integer, Box::new(e)))?,
        review: row.get(9)?,
        last_message: row.get(10)?,
        people: json_column(row, 11)?.unwrap_or_default(),
        sources: json_column(row, 12)?.unwrap_or_default(),
        notes: row.get(13)?,
        event: row.get(14)?,
        attachments: Vec::new(),
    })
}

/// An outbox row as [`Store::due_replies`] selects it. Its addresses were stored from
/// [`EmailAddress`]es; one that no longer parses (a hand-edited row) makes the row unsendable
/// rather than the query fail.
fn outbox_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    let envelope_from: Option<String> = row.get(3)?;
    let recipient: String = row.get(4)?;
    let envelope = EmailAddress::parse(&recipient)
        .and_then(|to| Ok(Envelope { to, from: envelope_from.as_deref().map(EmailAddress::parse).transpose()? }))
        .map_err(|e| format!("{e:#}"));
    Ok(OutboxRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        message_id: row.get(2)?,
        envelope,
        raw: row.get(5)?,
        state: row.get(6)?,
        attempts: row.get(7)?,
    })
}

/// The states as SQL text: each type's `as_str` is what its column holds (and its `CHECK`
/// lists), `parse` reads it back; a value no type knows is an error.
macro_rules! text_column {
    ($($ty:ty),*) => {$(
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                <$ty>::parse(text).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} {text:?}", stringify!($ty)).into())
                })
            }
        }
    )*};
}

text_column!(Status, Outcome, MailKind, OutboxState, Hold, EventKind, RouteReason);
text_column!(ChangedBy, Field, OrganizationType);

impl ToSql for EventId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for EventId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        EventId::parse(value.as_str()?).map_err(|e| FromSqlError::Other(format!("{e:#}").into()))
    }
}

// --- opening the file -------------------------------------------------------------------------

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
        anyhow::bail!("the database {} was {}", path.display(), newer_schema(version));
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
    use rusqlite::Connection;

    use super::testing::{open, queue_one_reply, store};
    use super::*;
    use crate::domain::{ApplicantFields, ReplyKind};

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
    fn readers_open_read_only_and_write_nothing_while_the_database_is_claimed() {
        let (dir, mut writer) = store();
        let path = dir.path().join("db.sqlite");
        queue_one_reply(&mut writer);
        let reader = Store::open_read(&path).expect("a reader works while a writer holds the database");
        assert_eq!(reader.message_count().unwrap(), 1);
        let write = reader.conn.execute("UPDATE outbox SET state = 'failed'", []);
        assert!(write.is_err(), "the reader's connection cannot write");
        assert_eq!(writer.outbox_counts().unwrap(), vec![(OutboxState::Pending, 1)]);

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

    /// Whether the schema accepts `value` in `column` of a fresh row of its table.
    fn accepts(conn: &Connection, column: &str, value: &str) -> bool {
        let sql = match column {
            "outcome" => {
                "INSERT INTO messages (sha256, message_id, arrived_at, size, outcome, recorded_at)
                 VALUES (hex(randomblob(16)), 'm@x.example', 0, 1, ?1, 0)"
            }
            "kind" => {
                "INSERT INTO outbox (kind, message_id, recipient, raw, state, next_attempt_at, created_at)
                 VALUES (?1, hex(randomblob(16)), 'kim@x.example', x'00', 'pending', 0, 0)"
            }
            "state" => {
                "INSERT INTO outbox (kind, message_id, recipient, raw, state, next_attempt_at, created_at)
                 VALUES ('ack', hex(randomblob(16)), 'kim@x.example', x'00', ?1, 0, 0)"
            }
            "held_by" => {
                "INSERT INTO outbox (kind, message_id, recipient, raw, state, held_by, next_attempt_at, created_at)
                 VALUES ('ack', hex(randomblob(16)), 'kim@x.example', x'00', 'pending', ?1, 0, 0)"
            }
            "event" => "INSERT INTO mailbox_events (kind, mailbox, details, at) VALUES (?1, 'INBOX', '{}', 0)",
            _ => unreachable!("{column}"),
        };
        conn.execute(sql, [value]).is_ok()
    }

    #[test]
    fn every_state_a_type_knows_is_allowed_by_its_check_and_nothing_else() {
        let (_dir, store) = store();
        let conn = &store.conn;
        let columns: [(&str, Vec<&str>); 5] = [
            ("outcome", Outcome::ALL.iter().map(|o| o.as_str()).collect()),
            ("kind", MailKind::all().map(MailKind::as_str).collect()),
            ("state", OutboxState::ALL.iter().map(|s| s.as_str()).collect()),
            ("held_by", Hold::ALL.iter().map(|h| h.as_str()).collect()),
            ("event", EventKind::ALL.iter().map(|k| k.as_str()).collect()),
        ];
        for (column, values) in columns {
            for value in values {
                assert!(accepts(conn, column, value), "{column} {value:?} is refused");
            }
            assert!(!accepts(conn, column, "Pending"), "{column} takes a value no type knows");
        }
        let held_while_sending = conn.execute(
            "INSERT INTO outbox (kind, message_id, recipient, raw, state, held_by, next_attempt_at, created_at)
             VALUES ('ack', 'h@x.example', 'kim@x.example', x'00', 'sending', 'rate_limit', 0, 0)",
            [],
        );
        assert!(held_while_sending.is_err(), "only a pending reply can be held");
    }

    #[test]
    fn a_version_6_database_keeps_every_row_and_its_held_replies_say_so_in_their_own_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            for sql in &MIGRATIONS[..6] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 6).unwrap();
            conn.execute_batch(
                "INSERT INTO messages (id, sha256, message_id, arrived_at, size, raw, outcome, recorded_at)
                   VALUES (1, 'a', 'a@x.example', 0, 1, x'00', 'registered', 0),
                          (7, 'b', 'b@x.example', 1, 1, x'00', 'reading', 1);
                 INSERT INTO mailbox_uids (mailbox, uidvalidity, uid, message) VALUES ('INBOX', 1, 1, 1);
                 INSERT INTO applications (id, email, status, received_at, updated_at, first_message, last_message)
                   VALUES (3, 'kim@x.example', 'accepted', 0, 0, 1, 1);
                 INSERT INTO outbox (id, kind, answers, application, message_id, recipient, raw, state, attempts,
                                     next_attempt_at, last_error, created_at)
                   VALUES (1, 'ack', 1, 3, 'r1@x.example', 'kim@x.example', x'00', 'pending', 0, 0,
                           'held back by the reply rate limit', 0),
                          (2, 'summary', NULL, NULL, 'r2@x.example', 'staff@x.example', x'00', 'failed', 1, 0,
                           '550 no such user', 0),
                          (3, 'update', 1, 3, 'r3@x.example', 'kim@x.example', x'00', 'pending', 2, 0,
                           '421 try later', 0);",
            )
            .unwrap();
        }
        let store = open(&path);
        let version: usize = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
        type Row = (i64, MailKind, OutboxState, Option<Hold>, Option<String>);
        let rows: Vec<Row> = store
            .conn
            .prepare("SELECT id, kind, state, held_by, last_error FROM outbox ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows,
            [
                (1, MailKind::Reply(ReplyKind::Ack), OutboxState::Pending, Some(Hold::RateLimit), None),
                (2, MailKind::Summary, OutboxState::Failed, None, Some("550 no such user".to_owned())),
                (3, MailKind::Reply(ReplyKind::Update), OutboxState::Pending, None, Some("421 try later".to_owned())),
            ]
        );
        assert_eq!(store.held_replies(Hold::RateLimit).unwrap(), (1, 1));
        let troubled: Vec<MailKind> = store.troubled_replies().unwrap().iter().map(|t| t.kind).collect();
        assert_eq!(troubled, [MailKind::Summary, MailKind::Reply(ReplyKind::Update)], "a held reply is no trouble");
        // Every message kept its id, so what points at it still does; the marker reads back.
        assert_eq!(store.processed_uids("INBOX", 1).unwrap(), [1].into_iter().collect());
        assert_eq!(store.last_message_id().unwrap(), 6, "covered up to the message still being read");
        assert_eq!(store.applications().unwrap()[0].last_message, 1);
        let dangling: i64 =
            store.conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(dangling, 0);
        let enforced: bool = store.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
        assert!(enforced, "foreign keys are enforced again after migrating");
        // A held reply is claimed like any other and is no longer held.
        let claim = store.claim_reply(1, Timestamp::UNIX_EPOCH).unwrap().expect("pending");
        assert!(store.mark_sent(claim, Timestamp::UNIX_EPOCH).unwrap());
        assert_eq!(store.held_replies(Hold::RateLimit).unwrap(), (0, 0));
    }

    #[test]
    fn a_database_from_before_raw_messages_keeps_every_messages_bytes_in_their_own_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let raw_messages = MIGRATIONS.iter().position(|m| m.contains("CREATE TABLE raw_messages")).unwrap();
        let last_rebuild = MIGRATIONS.iter().rposition(|m| m.contains("RENAME TO messages")).unwrap();
        assert!(raw_messages > last_rebuild, "a step after the last rebuild of messages (0010)");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..raw_messages] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", raw_messages).unwrap();
            conn.execute_batch(
                "INSERT INTO messages (id, sha256, message_id, arrived_at, size, raw, outcome, recorded_at)
                   VALUES (1, 'a', 'a@x.example', 0, 3, x'414243', 'registered', 0),
                          (4, 'b', 'b@x.example', 1, 0, x'', 'reading', 1);
                 INSERT INTO applications (id, event, email, status, received_at, updated_at, first_message, last_message)
                   VALUES (3, 'main', 'kim@x.example', 'accepted', 0, 0, 1, 1);",
            )
            .unwrap();
        }
        let store = open(&path);
        assert_eq!(store.raw_message(1).unwrap(), b"ABC");
        assert_eq!(store.raw_message(4).unwrap(), b"");
        assert_eq!(store.stored_raw(1).unwrap(), ("a".to_owned(), b"ABC".to_vec()));
        let columns: Vec<String> = store
            .conn
            .prepare("SELECT name FROM pragma_table_info('messages')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(!columns.iter().any(|c| c == "raw"), "{columns:?}");
        assert_eq!(store.message_count().unwrap(), 2);
        assert_eq!(store.applications().unwrap()[0].last_message, 1);
        let dangling: i64 =
            store.conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(dangling, 0);
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
        assert_eq!(store.namesakes(&EventId::default_id(), &found).unwrap(), [1]);
        // A summary made before migration 6 covered what had been recorded by then (message 1,
        // recorded at 0, and both applications it made; not message 2, recorded at 1).
        let last = store.last_summary().unwrap().unwrap();
        assert_eq!(last.covered, Covered { last_application: 2, last_message: 1, last_history: 0 });
    }
}
