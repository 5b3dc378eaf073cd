//! Copies of the database file: what `smebridge backup` writes, the copy kept before an upgrade
//! migrates the database (and before `smebridge restore` replaces it), what a file offered for
//! restoring holds, and the refusal of a database newer than this smebridge.
//!
//! Every copy is made with SQLite's online backup API in one step: the pages are read inside one
//! read transaction of the source, so the copy is the database as of one moment — every
//! transaction committed by then, also those still in the write-ahead log (`-wal`) and not yet
//! checkpointed into the main file, and nothing half-written. A reader in WAL mode does not block
//! the writer, so the daemon keeps recording mail meanwhile (what it commits after that moment is
//! not in the copy), and the copy neither checkpoints nor truncates the live WAL. The copy is
//! written to a temporary file beside its destination (mode 0600 from its creation: it holds
//! personal data), switched to rollback-journal mode so that it is one self-contained file with
//! no `-wal` or `-shm` beside it, checked (`PRAGMA quick_check`), synced, and only then renamed to
//! its name: a file with that name is always a whole copy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::SCHEMA_VERSION;

/// Why this smebridge refuses a database: a newer one made it.
pub fn newer_schema(version: usize) -> String {
    format!(
        "made by a newer smebridge (schema {version}); this one knows up to {SCHEMA_VERSION}; install the newer one \
         or restore a backup"
    )
}

/// What a copy of the database holds (counts only: no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    /// `PRAGMA user_version`.
    pub schema: usize,
    pub messages: i64,
    pub applications: i64,
    /// The size of the file.
    pub bytes: u64,
}

impl std::fmt::Display for Inspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "schema {}, {} message(s), {} application(s), {:.1} MB",
            self.schema,
            self.messages,
            self.applications,
            self.bytes as f64 / 1e6
        )
    }
}

/// Copy the database `from` is connected to into the file `to`, which it replaces (see the module
/// documentation). Its directory is made (mode 0700) if needed. A destination that exists and is
/// not a regular file (a device, a FIFO, a directory, a symbolic link) is refused and left as it
/// was: looked at before the copy is made and again just before the rename.
pub fn copy_to_file(from: &Connection, to: &Path) -> Result<Inspection> {
    crate::export::refuse_unless_regular_or_absent(to)?;
    let name = to.file_name().with_context(|| format!("{} is not a file name", to.display()))?;
    let dir = to.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        private_dir(dir)?;
    }
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = dir.join(partial);
    let copied = write_copy(from, &partial).and_then(|inspection| {
        crate::export::refuse_unless_regular_or_absent(to)?;
        std::fs::rename(&partial, to)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), to.display()))?;
        // The rename itself is durable once the directory is.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(inspection)
    });
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(journal(&partial));
    }
    copied
}

fn write_copy(from: &Connection, partial: &Path) -> Result<Inspection> {
    // Mode 0600 before SQLite opens it (SQLite would make it 0644); SQLite keeps a file's mode.
    let _ = std::fs::remove_file(partial);
    create_private_file(partial)?;
    let mut to = Connection::open(partial).with_context(|| format!("cannot open {}", partial.display()))?;
    copy_pages(from, &mut to).with_context(|| format!("cannot copy the database into {}", partial.display()))?;
    let mode: String = to.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        bail!("the copy {} stays in journal mode {mode}", partial.display());
    }
    let inspection = contents(&to, partial)?;
    drop(to);
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", partial.display()))?;
    Ok(inspection)
}

/// Every page of `from` into `to`, in one step (one read transaction of `from`). A source locked
/// by a writer outside WAL mode is waited for, at most about ten seconds.
fn copy_pages(from: &Connection, to: &mut Connection) -> Result<()> {
    let backup = Backup::new(from, to)?;
    for _ in 0..200 {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked => std::thread::sleep(Duration::from_millis(50)),
            // rusqlite's enum is non-exhaustive.
            #[allow(unreachable_patterns)]
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    bail!("the database stayed locked for ten seconds")
}

/// Check a copy (`PRAGMA quick_check`) and count what it holds.
fn contents(conn: &Connection, path: &Path) -> Result<Inspection> {
    let check: Vec<String> = conn
        .prepare("PRAGMA quick_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()
        .with_context(|| format!("cannot check {}", path.display()))?;
    if check != ["ok"] {
        bail!(
            "{} is damaged: PRAGMA quick_check found {} problem(s), first: {}",
            path.display(),
            check.len(),
            check.first().map(String::as_str).unwrap_or("?")
        );
    }
    let schema: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('messages', 'applications', 'outbox')",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if schema == 0 || tables.len() != 3 {
        bail!("{} is not a smebridge database (it has no messages, applications and outbox tables)", path.display());
    }
    let count = |table: &str| conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0));
    Ok(Inspection {
        schema,
        messages: count("messages")?,
        applications: count("applications")?,
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    })
}

/// What the file at `path` holds, opened read-only: it must be an undamaged smebridge database
/// whose schema this smebridge knows (not newer).
pub fn inspect(path: &Path) -> Result<Inspection> {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header)).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => anyhow::anyhow!("{} is not an SQLite database", path.display()),
        _ => anyhow::Error::new(e).context(format!("cannot read {}", path.display())),
    })?;
    if &header != b"SQLite format 3\0" {
        bail!("{} is not an SQLite database", path.display());
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let schema: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if schema > SCHEMA_VERSION {
        bail!("{} was {}", path.display(), newer_schema(schema));
    }
    contents(&conn, path)
}

/// Are `a` and `b` the same file (also under other names)? False when either does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Where the copy kept before bringing `database` to schema `version` goes: `<database>.before-
/// v<version>.sqlite` beside it, or, when that exists (an earlier attempt), the first of
/// `….before-v<version>-2.sqlite`, `-3`, … that does not: an earlier copy is never replaced.
pub fn before_upgrade_path(database: &Path, version: usize) -> PathBuf {
    numbered(database, &format!("before-v{version}"))
}

/// `<database>.<what>.sqlite`, or with `-2`, `-3`, … the first name not taken.
pub fn numbered(database: &Path, what: &str) -> PathBuf {
    let name = database.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    (1..)
        .map(|n| match n {
            1 => database.with_file_name(format!("{name}.{what}.sqlite")),
            n => database.with_file_name(format!("{name}.{what}-{n}.sqlite")),
        })
        .find(|path| !path.exists())
        .unwrap_or_else(|| database.with_file_name(format!("{name}.{what}.sqlite")))
}

fn journal(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    Ok(())
}

fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::testing::{open, queue_one_reply, record};
    use super::super::Store;
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_copy_is_one_private_self_contained_file_with_everything_committed_and_nothing_left_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let mut store = open(&path);
        queue_one_reply(&mut store);
        // Committed, still in the WAL: the writer's connection is open, nothing checkpointed it.
        assert!(dir.path().join("db.sqlite-wal").metadata().unwrap().len() > 0);
        let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();

        let to = dir.path().join("backups/nested/copy.sqlite");
        let copied = copy_to_file(&reader, &to).unwrap();
        assert_eq!((copied.schema, copied.messages), (SCHEMA_VERSION, 1));
        assert_eq!(mode(&to), 0o600);
        assert_eq!(mode(&dir.path().join("backups")), 0o700);
        let beside: Vec<String> = std::fs::read_dir(to.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(beside, ["copy.sqlite"], "no -wal, -shm, -journal or partial file");
        let header = std::fs::read(&to).unwrap();
        assert_eq!((header[18], header[19]), (1, 1), "rollback-journal mode, not WAL");
        assert_eq!(inspect(&to).unwrap(), copied);

        // Replacing it keeps the name pointing at a whole copy; the writer kept writing.
        record(&mut store, "dd", 2, 7);
        let again = copy_to_file(&reader, &to).unwrap();
        assert_eq!(again.messages, 2);
    }

    #[test]
    fn inspection_refuses_what_is_not_a_smebridge_database_and_what_a_newer_one_made() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        assert!(format!("{:#}", inspect(&text).unwrap_err()).contains("is not an SQLite database"));

        let other = dir.path().join("other.sqlite");
        Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x); PRAGMA user_version = 3;").unwrap();
        let err = format!("{:#}", inspect(&other).unwrap_err());
        assert!(err.contains("is not a smebridge database"), "{err}");

        let newer = dir.path().join("newer.sqlite");
        drop(open(&newer));
        Connection::open(&newer).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = format!("{:#}", inspect(&newer).unwrap_err());
        assert_eq!(
            err,
            format!(
                "{} was made by a newer smebridge (schema {}); this one knows up to {SCHEMA_VERSION}; install the \
                 newer one or restore a backup",
                newer.display(),
                SCHEMA_VERSION + 1
            )
        );
    }

    #[test]
    fn an_upgrade_keeps_a_copy_of_the_old_database_first_and_a_newer_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &super::super::MIGRATIONS[..6] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 6).unwrap();
            conn.execute_batch(
                "INSERT INTO messages (id, sha256, message_id, arrived_at, size, raw, outcome, recorded_at)
                   VALUES (1, 'a', 'a@x.example', 0, 1, x'00', 'registered', 0);
                 INSERT INTO applications (id, email, status, received_at, updated_at, first_message, last_message)
                   VALUES (3, 'kim@x.example', 'accepted', 0, 0, 1, 1);",
            )
            .unwrap();
        }
        let store = open(&path);
        let version: usize = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let kept = dir.path().join(format!("db.sqlite.before-v{SCHEMA_VERSION}.sqlite"));
        let copy = inspect(&kept).expect("the copy kept before the upgrade");
        assert_eq!((copy.schema, copy.messages, copy.applications), (6, 1, 1), "the database as it was");
        assert_eq!(mode(&kept), 0o600);
        drop(store);
        drop(open(&path));
        assert!(
            !dir.path().join(format!("db.sqlite.before-v{SCHEMA_VERSION}-2.sqlite")).exists(),
            "no copy without an upgrade"
        );

        // A newer smebridge's database: refused, not changed, no copy.
        Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(crate::instance::Instance::claim(&path).unwrap()).err().unwrap();
        assert_eq!(
            format!("{err:#}"),
            format!(
                "cannot bring the database schema up to date: the database {} was made by a newer smebridge (schema \
                 {}); this one knows up to {SCHEMA_VERSION}; install the newer one or restore a backup",
                path.display(),
                SCHEMA_VERSION + 1
            )
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let err = Store::open_read(&path).err().unwrap();
        assert!(format!("{err:#}").contains("was made by a newer smebridge"), "{err:#}");
    }

    #[test]
    fn copies_before_an_upgrade_never_replace_an_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("smebridge.sqlite");
        let first = before_upgrade_path(&db, 9);
        assert_eq!(first, dir.path().join("smebridge.sqlite.before-v9.sqlite"));
        std::fs::write(&first, "x").unwrap();
        assert_eq!(before_upgrade_path(&db, 9), dir.path().join("smebridge.sqlite.before-v9-2.sqlite"));
        assert!(same_file(&first, &dir.path().join("./smebridge.sqlite.before-v9.sqlite")));
        assert!(!same_file(&first, &db));
    }
}
