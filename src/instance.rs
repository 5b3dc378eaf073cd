//! One smebridge per database.
//!
//! Two processes writing one database would both answer the same mail. Every command that
//! writes (`run`, `once`, `summary --send`, `restore`, `reparse --apply`, `purge`) therefore claims the
//! database first with
//! [`Instance::claim`], before it opens it: an exclusive `flock(2)` on `<database>.lock` beside
//! it (`smebridge.sqlite.lock`), a file that holds the claimant's pid. A second claimant is
//! refused at once with [`Busy`]: "another smebridge (pid N) is using DB" — also on a database
//! that does not exist yet, since the lock is taken before the database is created.
//!
//! The lock file sits beside the database's real file: the path is resolved first (symbolic
//! links, `..`, a relative path; for a database not made yet, its directory's real path), so a
//! second configuration that names the same database through a symbolic link (or another path)
//! finds the same lock and is refused.
//!
//! The lock belongs to the open file, not to the file's name: the kernel drops it when the process
//! ends, however it ends (`kill -9` included), so a lock file left behind never blocks a restart.
//! For the same reason the file is never removed: a process could otherwise lock a file that
//! another has just unlinked, and two would hold "the" lock at once. The pid in it is only what
//! the error message says; a holder clears it when it lets go, and a pid left by one that crashed
//! is not named (no such process).
//!
//! Only [`crate::store::Store::open`] opens the database for writing, and it takes an [`Instance`]
//! (and keeps it: the claim lasts as long as the store). A new command that writes gets the rule
//! by construction. Readers (`export`, `stats`, `summary` without `--send`, `check`, `backup`,
//! `reparse` without `--apply`, `purge --dry-run`) take no lock:
//! they open the database read-only ([`crate::store::Store::open_read`]) and work while the daemon
//! runs.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

/// The claim on a database; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Instance {
    /// Holds the lock while it is open.
    file: File,
    database: PathBuf,
}

impl Drop for Instance {
    /// The pid is cleared before the lock goes (with the file), so that the next claimant's
    /// rivals do not read a pid that is gone. After a crash it stays; see [`Instance::claim`].
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// Another process holds the database. Callers branch on it (a reader that would have to bring
/// the schema up to date says why it cannot).
#[derive(Debug, thiserror::Error)]
#[error("another smebridge ({}) is using {}", pid_words(*.pid), .database.display())]
pub struct Busy {
    /// The holder's pid, as it wrote it into the lock file (`None`: it had not written it yet).
    pub pid: Option<u32>,
    pub database: PathBuf,
}

fn pid_words(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_owned(),
    }
}

/// `smebridge.sqlite` → `smebridge.sqlite.lock`, in the same directory.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    database.with_file_name(name)
}

impl Instance {
    /// Claim `database` for this process, or fail at once with [`Busy`] (downcast the error to
    /// tell) when another process has it. Creates the database's directory if needed (as opening
    /// it for writing always has), but not the database.
    pub fn claim(database: &Path) -> Result<Instance> {
        if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        let path = lock_path(&real_path(database)?);
        let mut file = open_lock_file(&path)?;
        // The holder writes its pid right after taking the lock: for a moment the file may be
        // empty, or still name a holder that crashed. Then look again (the lock may be free by
        // then, too); after half a second say so without a pid.
        let mut looks = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    looks += 1;
                    let pid = written_pid(&mut file).filter(|&pid| alive(pid));
                    if pid.is_some() || looks >= 50 {
                        return Err(Busy { pid, database: database.to_path_buf() }.into());
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
        }
        // Ours now: say who holds it.
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(format!("{}\n", std::process::id()).as_bytes()))
            .with_context(|| format!("cannot write to {}", path.display()))?;
        Ok(Instance { file, database: database.to_path_buf() })
    }

    /// The database this claim is for.
    pub fn database(&self) -> &Path {
        &self.database
    }
}

/// Where the database at `database` really is: every symbolic link followed (also one whose
/// target does not exist yet: the database SQLite would create through it), as an absolute path
/// without `.` or `..`. For a database that does not exist yet, its directory's real path and its
/// name.
fn real_path(database: &Path) -> Result<PathBuf> {
    let mut path = database.to_path_buf();
    // As many links as the kernel follows (Linux: 40) before ELOOP.
    for _ in 0..40 {
        if let Ok(real) = std::fs::canonicalize(&path) {
            return Ok(real);
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        match std::fs::read_link(&path) {
            // A link to what is not there yet: follow it (a relative target is its directory's).
            Ok(target) => path = dir.join(target),
            Err(_) => {
                let name = path.file_name().with_context(|| format!("{} names no file", database.display()))?;
                let dir = std::fs::canonicalize(&dir)
                    .with_context(|| format!("cannot find the directory of the database {}", database.display()))?;
                return Ok(dir.join(name));
            }
        }
    }
    anyhow::bail!("{}: too many levels of symbolic links", database.display())
}

fn open_lock_file(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).with_context(|| format!("cannot open the lock file {}", path.display()))
}

/// The pid in the lock file, if it holds one.
fn written_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Is there a process with this pid? Where `/proc` cannot tell, assume so.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_naming_the_holder_and_the_claim_ends_with_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("new").join("smebridge.sqlite");
        let first = Instance::claim(&database).unwrap();
        assert!(!database.exists(), "claiming does not create the database");
        let lock = std::fs::read_to_string(dir.path().join("new/smebridge.sqlite.lock")).unwrap();
        assert_eq!(lock.trim(), std::process::id().to_string());

        // A second open file of the same lock (as a second process has) is refused.
        let err = Instance::claim(&database).unwrap_err();
        let busy = err.downcast_ref::<Busy>().expect("a Busy error");
        assert_eq!(busy.pid, Some(std::process::id()));
        assert_eq!(
            err.to_string(),
            format!("another smebridge (pid {}) is using {}", std::process::id(), database.display())
        );

        drop(first);
        let lock = std::fs::read_to_string(dir.path().join("new/smebridge.sqlite.lock")).unwrap();
        assert_eq!(lock, "", "a holder that is gone names no pid");
        let again = Instance::claim(&database).expect("free again once the holder is gone");
        assert_eq!(again.database(), database);
    }

    #[test]
    fn a_pid_left_by_a_holder_that_crashed_is_not_named() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("smebridge.sqlite");
        // A holder killed with SIGKILL leaves its pid; pid_max is at most 2^22 on Linux.
        std::fs::write(lock_path(&database), "4194305\n").unwrap();
        let first = Instance::claim(&database).expect("a stale pid does not hold the lock");
        // Before the new holder had written its pid, a rival would have found the stale one:
        // it must not be named as the holder.
        std::fs::write(lock_path(&database), "4194305\n").unwrap();
        let err = Instance::claim(&database).unwrap_err();
        assert_eq!(err.downcast_ref::<Busy>().unwrap().pid, None);
        assert!(err.to_string().starts_with("another smebridge (pid unknown) is using"), "{err}");
        drop(first);
    }

    /// A second configuration naming the database through a symbolic link (or `..`) is refused
    /// while the first holds it: the lock sits beside the real file, not beside the link.
    #[cfg(unix)]
    #[test]
    fn a_database_named_through_a_symbolic_link_is_the_same_claim() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("data/smebridge.sqlite");
        let first = Instance::claim(&real).unwrap();
        std::fs::write(&real, "").unwrap();
        let link = dir.path().join("link.sqlite");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = Instance::claim(&link).unwrap_err();
        assert_eq!(err.downcast_ref::<Busy>().map(|b| b.pid), Some(Some(std::process::id())), "{err:#}");
        assert!(!dir.path().join("link.sqlite.lock").exists(), "no lock beside the link");
        // A link to the directory, and `..` on the way.
        std::os::unix::fs::symlink(dir.path().join("data"), dir.path().join("data-link")).unwrap();
        for other in [dir.path().join("data-link/smebridge.sqlite"), dir.path().join("data/../data/smebridge.sqlite")] {
            let err = Instance::claim(&other).unwrap_err();
            assert!(err.downcast_ref::<Busy>().is_some(), "{}: {err:#}", other.display());
        }
        drop(first);

        // A link to a database not made yet (SQLite would create its target): the same.
        let future = dir.path().join("data/future.sqlite");
        let dangling = dir.path().join("future-link.sqlite");
        std::os::unix::fs::symlink("data/future.sqlite", &dangling).unwrap();
        let first = Instance::claim(&future).unwrap();
        let err = Instance::claim(&dangling).unwrap_err();
        assert!(err.downcast_ref::<Busy>().is_some(), "{err:#}");
        drop(first);
        let by_link = Instance::claim(&dangling).unwrap();
        assert_eq!(by_link.database(), dangling, "the claim still names the database as it was given");
        assert!(Instance::claim(&future).unwrap_err().downcast_ref::<Busy>().is_some());
    }

    #[test]
    fn the_lock_file_sits_beside_the_database() {
        assert_eq!(
            lock_path(Path::new("/var/lib/smebridge/db.sqlite")),
            Path::new("/var/lib/smebridge/db.sqlite.lock")
        );
        assert_eq!(lock_path(Path::new("smebridge.sqlite")), Path::new("smebridge.sqlite.lock"));
    }
}
