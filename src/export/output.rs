//! The file a command that writes personal data writes to (`export --output`, `sheet --output`,
//! `backup --output`, every copy of the database): only ever a regular file that only its owner
//! can read. An existing path that is not a regular file (a device such as `/dev/null`, a FIFO, a
//! directory, a socket) or that is a symbolic link is refused and left exactly as it was: never
//! opened for writing, never chmod-ed, never renamed over. (Run as root, anything else would
//! narrow `/dev/null` to 0600, or replace it with the database.)

use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// Refuse `path` unless nothing is there yet or it is a regular file (not a symbolic link to
/// one): what may be created, truncated or renamed over with personal data.
pub fn refuse_unless_regular_or_absent(path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot look at {}", path.display())),
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        bail!(
            "{} is a symbolic link: personal data is written only to a regular file named directly (name the file \
             itself, or a new one); nothing was written",
            path.display()
        );
    }
    if !kind.is_file() {
        bail!(
            "{} exists and is not a regular file ({}): personal data is written only to a regular file; nothing was \
             written and it was left as it was",
            path.display(),
            kind_words(&kind)
        );
    }
    Ok(())
}

/// Create (or truncate) a file for personal data that only its owner can read (mode 0600): an
/// existing regular file with a wider mode is narrowed. Anything that is not a regular file, and
/// a symbolic link, is refused untouched ([`refuse_unless_regular_or_absent`]; the file is opened
/// with `O_NOFOLLOW`, and what was opened is looked at again before anything is changed, so a
/// file swapped in meanwhile is refused too).
pub fn create_private_file(path: &Path) -> Result<File> {
    refuse_unless_regular_or_absent(path)?;
    let mut options = std::fs::OpenOptions::new();
    // Not `truncate`: that would happen at open, before what was opened is known.
    options.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // O_NONBLOCK: a FIFO put there meanwhile fails at once instead of waiting for a reader;
        // it changes nothing for a regular file.
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
        let file = options.open(path).map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => anyhow::anyhow!(
                "{} is a symbolic link: personal data is written only to a regular file named directly; nothing was \
                 written",
                path.display()
            ),
            _ => anyhow::Error::new(e).context(format!("cannot create {}", path.display())),
        })?;
        let meta = file.metadata().with_context(|| format!("cannot look at {}", path.display()))?;
        if !meta.file_type().is_file() {
            bail!(
                "{} is not a regular file ({}): personal data is written only to a regular file; nothing was written \
                 and it was left as it was",
                path.display(),
                kind_words(&meta.file_type())
            );
        }
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private (mode 0600)", path.display()))?;
        file.set_len(0).with_context(|| format!("cannot empty {}", path.display()))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.truncate(true);
        options.open(path).with_context(|| format!("cannot create {}", path.display()))
    }
}

/// What kind of file this is, for a refusal.
fn kind_words(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn mkfifo(path: &Path) {
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o666) }, 0, "mkfifo {}", path.display());
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).unwrap();
    }

    #[test]
    fn new_files_are_private_and_an_existing_regular_file_is_narrowed_and_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.csv");
        create_private_file(&new).unwrap().write_all(b"a,b\n").unwrap();
        assert_eq!(mode(&new), 0o600);
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "a,b\n");
        let old = dir.path().join("old.csv");
        std::fs::write(&old, "old contents that are longer than the new ones").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private_file(&old).unwrap().write_all(b"x").unwrap();
        assert_eq!((mode(&old), std::fs::read_to_string(&old).unwrap().as_str()), (0o600, "x"));
    }

    #[test]
    fn a_fifo_a_directory_and_a_symbolic_link_are_refused_and_left_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let err = format!("{:#}", create_private_file(&fifo).unwrap_err());
        assert!(err.contains("exists and is not a regular file (a FIFO)"), "{err}");
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(mode(&fifo), 0o666, "not chmod-ed");

        let err = format!("{:#}", create_private_file(dir.path()).unwrap_err());
        assert!(err.contains("(a directory)"), "{err}");

        let target = dir.path().join("target.csv");
        std::fs::write(&target, "kept").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = format!("{:#}", create_private_file(&link).unwrap_err());
        assert!(err.contains("is a symbolic link"), "{err}");
        assert_eq!((mode(&target), std::fs::read_to_string(&target).unwrap().as_str()), (0o644, "kept"));
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        // A link to the FIFO too, and a dangling one (which would create its target).
        let to_fifo = dir.path().join("to-fifo");
        std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
        assert!(create_private_file(&to_fifo).is_err());
        let dangling = dir.path().join("dangling.csv");
        std::os::unix::fs::symlink(dir.path().join("made-by-the-link.csv"), &dangling).unwrap();
        assert!(create_private_file(&dangling).is_err());
        assert!(!dir.path().join("made-by-the-link.csv").exists());

        assert!(refuse_unless_regular_or_absent(&dir.path().join("absent")).is_ok());
        assert!(refuse_unless_regular_or_absent(&target).is_ok());
        assert!(refuse_unless_regular_or_absent(&fifo).is_err());
    }
}
