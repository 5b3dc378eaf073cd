//! `smebridge backup --output FILE`: one consistent copy of the database, made while the daemon
//! runs. A reader's action: the database is opened read-only and no claim is taken on it (the
//! daemon holds that), so the daily timer can run beside the desk. How the copy is made, and what
//! it does with the write-ahead log, is said in `crate::store`'s `copy.rs`: one read transaction,
//! everything committed by then (also what is still in the `-wal`), the live WAL left alone, the
//! copy one self-contained 0600 file, renamed into place only when whole and checked.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags};
use tracing::info;

use crate::store::{copy_to_file, same_file, Inspection};

/// What `smebridge backup` did.
#[derive(Debug, Clone)]
pub struct BackedUp {
    pub database: PathBuf,
    pub output: PathBuf,
    pub contents: Inspection,
}

impl fmt::Display for BackedUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "copied {} to {} ({})", self.database.display(), self.output.display(), self.contents)
    }
}

/// Copy the database at `database` to `output` (replacing a file of that name; its directory is
/// made, mode 0700, if needed).
pub fn backup(database: &Path, output: &Path) -> Result<BackedUp> {
    if !database.exists() {
        bail!("there is no database at {} yet (`smebridge once` or `smebridge run` creates it)", database.display());
    }
    if same_file(database, output) || is_beside(database, output) {
        bail!("{} is the database itself or one of its own files: write the copy elsewhere", output.display());
    }
    let conn =
        Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_context(|| format!("cannot open the database {}", database.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let contents = copy_to_file(&conn, output)
        .with_context(|| format!("cannot copy the database {} to {}", database.display(), output.display()))?;
    info!(output = %output.display(), contents = %contents, "database copied");
    Ok(BackedUp { database: database.to_owned(), output: output.to_owned(), contents })
}

/// Is `output` the database's WAL, shared-memory, journal or lock file?
fn is_beside(database: &Path, output: &Path) -> bool {
    let (Some(name), Some(other)) = (database.file_name(), output.file_name()) else { return false };
    let (name, other) = (name.to_string_lossy(), other.to_string_lossy());
    let same_dir = |a: &Path, b: &Path| match (a.parent(), b.parent()) {
        (Some(a), Some(b)) => a == b || same_file(a, b) || (a.as_os_str().is_empty() && b == Path::new(".")),
        _ => false,
    };
    ["-wal", "-shm", "-journal", ".lock"].iter().any(|suffix| other == format!("{name}{suffix}"))
        && same_dir(database, output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_and_its_own_files_are_never_a_backup_destination() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("smebridge.sqlite");
        let err = backup(&db, &dir.path().join("copy.sqlite")).unwrap_err();
        assert!(err.to_string().starts_with("there is no database at"), "{err:#}");

        drop(crate::store::Store::open(crate::instance::Instance::claim(&db).unwrap()).unwrap());
        for name in ["smebridge.sqlite", "smebridge.sqlite-wal", "smebridge.sqlite.lock"] {
            let err = backup(&db, &dir.path().join(name)).unwrap_err();
            assert!(err.to_string().contains("is the database itself"), "{name}: {err:#}");
        }
        let done = backup(&db, &dir.path().join("backups/smebridge-20221116.sqlite")).unwrap();
        assert_eq!(done.contents.messages, 0);
        assert!(done.to_string().contains("backups/smebridge-20221116.sqlite (schema "), "{done}");
    }

    #[test]
    fn a_destination_that_is_not_a_regular_file_is_refused_and_left_as_it_was() {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("smebridge.sqlite");
        drop(crate::store::Store::open(crate::instance::Instance::claim(&db).unwrap()).unwrap());

        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o666) }, 0);
        std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o666)).unwrap();
        let err = format!("{:#}", backup(&db, &fifo).unwrap_err());
        assert!(err.contains("exists and is not a regular file (a FIFO)"), "{err}");
        let meta = std::fs::symlink_metadata(&fifo).unwrap();
        assert!(meta.file_type().is_fifo(), "not replaced");
        assert_eq!(meta.permissions().mode() & 0o777, 0o666, "not chmod-ed");

        let target = dir.path().join("elsewhere.sqlite");
        std::fs::write(&target, "not the database").unwrap();
        let link = dir.path().join("link.sqlite");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = format!("{:#}", backup(&db, &link).unwrap_err());
        assert!(err.contains("is a symbolic link"), "{err}");
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "not the database");

        std::fs::create_dir(dir.path().join("d")).unwrap();
        let err = format!("{:#}", backup(&db, &dir.path().join("d")).unwrap_err());
        assert!(err.contains("(a directory)"), "{err}");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "no partial copy left behind");
    }
}
