//! `smebridge restore --input FILE`: a backup put in place of the database.
//!
//! 1. The file must be an undamaged smebridge database whose schema this smebridge knows
//!    (`PRAGMA quick_check`, its tables, its schema not newer): a file from a newer smebridge is
//!    refused with the words of every other refusal of a newer database.
//! 2. The database is claimed ([`Instance::claim`]): while a daemon or any other writer uses it,
//!    restore is refused, naming the holder's pid, and changes nothing.
//! 3. The backup must be of this desk's mailbox: where both the backup and the database it
//!    replaces remember a mailbox (`mailbox_state`: its name and UIDVALIDITY; the IMAP account
//!    itself is not recorded), they must share one and agree on its UIDVALIDITY. A backup of
//!    another desk's database would otherwise be taken for this desk's past, and the next pass
//!    would record every message in the mailbox as new and answer every applicant again.
//!    `--force` restores it anyway (after the server renumbered the mailbox, say: then the
//!    messages are recognised by their bytes), saying what differed.
//! 4. The backup is copied (SQLite's online backup API) into a new 0600 file beside the database
//!    and checked.
//! 5. The database it replaces is kept, whole and as it was (also when it is damaged, which is
//!    why one restores): a hard link `<database>.before-restore-<time>.sqlite` to it, its `-wal`
//!    and `-shm` renamed along; then the copy is renamed over the database in one step. A reader
//!    that had the old database open keeps reading it to its end; every new one opens the
//!    restored database, with no stale write-ahead log beside it. The kept copy is then turned
//!    into one self-contained file where it can be (its WAL checkpointed into it).
//! 6. The restored database is opened as every start opens it: a backup from an older smebridge
//!    is brought up to date (after the copy every upgrade keeps).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags};
use tracing::{info, warn};

use crate::instance::{Busy, Instance};
use crate::store::{copy_to_file, inspect, numbered, same_file, Inspection, Store};

/// What `smebridge restore` did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub input: PathBuf,
    pub database: PathBuf,
    pub contents: Inspection,
    /// Where the database it replaced is kept, if there was one.
    pub kept: Option<PathBuf>,
}

impl fmt::Display for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "restored {} ({}) as {}", self.input.display(), self.contents, self.database.display())?;
        match &self.kept {
            Some(kept) => write!(f, "; the database it replaced is kept as {}", kept.display()),
            None => write!(f, "; there was no database before"),
        }
    }
}

/// Put the backup `input` in place of the database at `database`; `now` names the copy of the
/// database it replaces. A backup of another mailbox than the database's is refused unless
/// `force` (see the module documentation).
pub fn restore(database: &Path, input: &Path, now: Timestamp, force: bool) -> Result<Restored> {
    let contents = inspect(input).context("cannot restore from it")?;
    if same_file(database, input) {
        bail!("{} is the database itself: restore from a backup of it", input.display());
    }
    let instance = Instance::claim(database).map_err(|e| match e.downcast_ref::<Busy>() {
        Some(busy) => anyhow::anyhow!(
            "cannot restore while smebridge is running: {busy}; stop it first (sudo systemctl stop smebridge) and \
             restore again"
        ),
        None => e,
    })?;
    if let Some(mismatch) = other_mailbox(database, input) {
        if !force {
            bail!(
                "{} is not a backup of this desk's mailbox: {mismatch}. Restoring another desk's (or another \
                 account's) backup would make the next pass take every message in the mailbox for new and answer \
                 every applicant again; nothing was changed. If it is this desk's backup and the server renumbered \
                 the mailbox since (a new UIDVALIDITY), restore it with --force",
                input.display()
            );
        }
        warn!(mismatch = %mismatch, "restoring a backup of another mailbox state (--force)");
    }

    let dir = database.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = database.file_name().with_context(|| format!("{} is not a file name", database.display()))?;
    let staged = dir.join(format!(".{}.restoring", name.to_string_lossy()));
    {
        let source =
            Connection::open_with_flags(input, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .with_context(|| format!("cannot open {}", input.display()))?;
        source.busy_timeout(Duration::from_secs(10))?;
        copy_to_file(&source, &staged).with_context(|| format!("cannot copy {}", input.display()))?;
    }

    let kept = match std::fs::metadata(database) {
        Ok(meta) if meta.len() > 0 => {
            let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
            let kept = numbered(database, &format!("before-restore-{stamp}"));
            keep_aside(database, &kept).inspect_err(|_| {
                let _ = std::fs::remove_file(&staged);
            })?;
            Some(kept)
        }
        _ => None,
    };
    std::fs::rename(&staged, database)
        .with_context(|| format!("cannot rename {} to {}", staged.display(), database.display()))?;
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    if let Some(kept) = &kept {
        if let Err(e) = self_contained(kept) {
            warn!(kept = %kept.display(), error = %format!("{e:#}"), "the replaced database is kept with its write-ahead log beside it");
        }
    }

    // As every start opens it: brought up to date if an older smebridge made the backup.
    drop(Store::open(instance).context("cannot open the restored database")?);
    info!(database = %database.display(), contents = %contents, "database restored from a backup");
    Ok(Restored { input: input.to_owned(), database: database.to_owned(), contents, kept })
}

/// The mailboxes a database remembers: name → the UIDVALIDITY last seen. Empty when it has read
/// none (or is no database, or cannot be read: then there is nothing to compare).
fn mailbox_states(path: &Path) -> BTreeMap<String, u32> {
    let read = || -> rusqlite::Result<BTreeMap<String, u32>> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let mut stmt = conn.prepare("SELECT mailbox, uidvalidity FROM mailbox_state")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    };
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > 0 => read().unwrap_or_else(|e| {
            warn!(path = %path.display(), error = %e, "cannot read which mailbox the database remembers");
            BTreeMap::new()
        }),
        _ => BTreeMap::new(),
    }
}

/// How the mailbox the backup `input` remembers differs from the one `database` remembers, when
/// both remember one: no mailbox in common, or one with another UIDVALIDITY.
fn other_mailbox(database: &Path, input: &Path) -> Option<String> {
    let (ours, theirs) = (mailbox_states(database), mailbox_states(input));
    if ours.is_empty() || theirs.is_empty() {
        return None;
    }
    let differing: Vec<String> = ours
        .iter()
        .filter_map(|(name, ours)| {
            let theirs = theirs.get(name)?;
            (theirs != ours).then(|| {
                format!("mailbox {name} has UIDVALIDITY {theirs} in the backup but {ours} in the database it replaces")
            })
        })
        .collect();
    if !differing.is_empty() {
        return Some(differing.join("; "));
    }
    if !ours.keys().any(|name| theirs.contains_key(name)) {
        let names = |m: &BTreeMap<String, u32>| m.keys().cloned().collect::<Vec<_>>().join(", ");
        return Some(format!(
            "the backup read mailbox(es) {} and the database it replaces {}",
            names(&theirs),
            names(&ours)
        ));
    }
    None
}

/// Keep the database at `database` as `kept`: a hard link to it (mode 0600), its `-wal` and
/// `-shm` renamed to `kept`'s. `database` itself is then replaced by the caller.
fn keep_aside(database: &Path, kept: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::hard_link(database, kept)
        .with_context(|| format!("cannot keep the database {} as {}", database.display(), kept.display()))?;
    std::fs::set_permissions(kept, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private", kept.display()))?;
    for suffix in ["-wal", "-shm"] {
        let (from, to) = (with_suffix(database, suffix), with_suffix(kept, suffix));
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot move {} to {}", from.display(), to.display())),
        }
    }
    Ok(())
}

/// Checkpoint `path`'s write-ahead log into it and leave WAL mode, so that it is one file.
fn self_contained(path: &Path) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("delete"), "still in journal mode {mode}");
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::domain::EmailAddress;
    use crate::store::{ApplicationWrite, Arriving, MailboxUid, MessageOutcome, NewMessage, NO_DETAILS};

    fn store_at(path: &Path) -> Store {
        Store::open(Instance::claim(path).unwrap()).unwrap()
    }

    fn one_message(store: &mut Store, sha: &str) {
        let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let message = NewMessage {
            arriving: Arriving { sha256: sha, arrived_at: Timestamp::UNIX_EPOCH, raw: sha.as_bytes() },
            outcome: MessageOutcome {
                message_id: sha,
                sender: Some(&sender),
                subject: None,
                outcome: crate::domain::Outcome::Automatic,
                outcome_detail: None,
                problems: &[],
                attachments: &[],
                details: &NO_DETAILS,
                event: None,
            },
        };
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        store.commit_message(at, &message, &ApplicationWrite::None, Timestamp::UNIX_EPOCH, |_| Ok(None)).unwrap();
    }

    #[test]
    fn a_restore_replaces_the_database_keeps_the_old_one_whole_and_is_refused_while_it_is_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("smebridge.sqlite");
        let backup = dir.path().join("backup.sqlite");
        {
            let mut store = store_at(&db);
            one_message(&mut store, "a");
            crate::ops::backup(&db, &backup).unwrap();
            one_message(&mut store, "b");
            // Claimed: refused, nothing changed.
            let err = restore(&db, &backup, Timestamp::UNIX_EPOCH, false).unwrap_err().to_string();
            assert!(err.starts_with("cannot restore while smebridge is running: another smebridge (pid "), "{err}");
            assert!(err.ends_with("stop it first (sudo systemctl stop smebridge) and restore again"), "{err}");
        }
        assert_eq!(inspect(&db).unwrap().messages, 2);

        let restored = restore(&db, &backup, "2022-11-16T01:02:03Z".parse().unwrap(), false).unwrap();
        let kept = dir.path().join("smebridge.sqlite.before-restore-20221116T010203Z.sqlite");
        assert_eq!(restored.kept.as_deref(), Some(kept.as_path()));
        assert_eq!(inspect(&db).unwrap().messages, 1, "the backup's contents");
        assert_eq!(inspect(&kept).unwrap().messages, 2, "the replaced database, whole");
        for file in [&db, &kept] {
            assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600, "{}", file.display());
        }
        assert!(!with_suffix(&kept, "-wal").exists(), "the kept copy is one file");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains("restoring") || n.contains("partial")), "{names:?}");
        // The restored database works as any other.
        drop(store_at(&db));

        // Not a smebridge database: refused before anything happens.
        let other = dir.path().join("other.sqlite");
        Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        let err = format!("{:#}", restore(&db, &other, Timestamp::UNIX_EPOCH, false).unwrap_err());
        assert!(err.contains("is not a smebridge database"), "{err}");
        let err = format!("{:#}", restore(&db, &db, Timestamp::UNIX_EPOCH, false).unwrap_err());
        assert!(err.contains("is the database itself"), "{err}");
    }

    #[test]
    fn a_restore_into_a_desk_without_a_database_makes_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("smebridge.sqlite");
        let backup = dir.path().join("backup.sqlite");
        {
            let mut store = store_at(&db);
            one_message(&mut store, "a");
            crate::ops::backup(&db, &backup).unwrap();
        }
        let fresh = dir.path().join("fresh/smebridge.sqlite");
        let restored = restore(&fresh, &backup, Timestamp::UNIX_EPOCH, false).unwrap();
        assert_eq!(restored.kept, None);
        assert_eq!(inspect(&fresh).unwrap().messages, 1);
    }

    #[test]
    fn a_backup_of_another_mailbox_is_refused_unless_forced_and_one_of_this_mailbox_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("smebridge.sqlite");
        let ours = dir.path().join("ours.sqlite");
        let other_desk = dir.path().join("other-desk/smebridge.sqlite");
        let theirs = dir.path().join("theirs.sqlite");
        let now = Timestamp::UNIX_EPOCH;
        {
            let mut store = store_at(&db);
            one_message(&mut store, "a");
            store.set_uidvalidity("INBOX", 1_700_000_001, now).unwrap();
            crate::ops::backup(&db, &ours).unwrap();
            one_message(&mut store, "b");
            let mut other = store_at(&other_desk);
            one_message(&mut other, "c");
            other.set_uidvalidity("INBOX", 1_700_000_555, now).unwrap();
            crate::ops::backup(&other_desk, &theirs).unwrap();
        }

        let err = format!("{:#}", restore(&db, &theirs, now, false).unwrap_err());
        assert!(
            err.contains(
                "is not a backup of this desk's mailbox: mailbox INBOX has UIDVALIDITY 1700000555 in the backup but \
                 1700000001 in the database it replaces"
            ),
            "{err}"
        );
        assert!(err.ends_with("restore it with --force"), "{err}");
        assert_eq!(inspect(&db).unwrap().messages, 2, "nothing changed");
        let beside: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("before-restore") || n.contains("restoring"))
            .collect();
        assert_eq!(beside, Vec::<String>::new());

        // Another mailbox altogether.
        Connection::open(&theirs).unwrap().execute("UPDATE mailbox_state SET mailbox = 'Registrations'", []).unwrap();
        let err = format!("{:#}", restore(&db, &theirs, now, false).unwrap_err());
        assert!(err.contains("the backup read mailbox(es) Registrations and the database it replaces INBOX"), "{err}");

        // This desk's own backup goes back in; so does the other one with --force.
        assert_eq!(restore(&db, &ours, now, false).unwrap().contents.messages, 1);
        assert_eq!(restore(&db, &theirs, now, true).unwrap().contents.messages, 1);
        assert_eq!(mailbox_states(&db), BTreeMap::from([("Registrations".to_owned(), 1_700_000_555)]));
    }
}
