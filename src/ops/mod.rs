//! Keeping the desk: what an operator runs besides the daemon.
//!
//! - `backup.rs`: `smebridge backup --output FILE`, a consistent copy of the database while the
//!   daemon runs (a reader's action: it takes no claim on the database);
//! - `restore.rs`: `smebridge restore --input FILE`, a backup put back in place of the database,
//!   refused while another smebridge uses it; the database it replaces is kept beside it;
//! - `reparse.rs`: `smebridge reparse [--apply]`, every stored message that made or changed an
//!   application read again by this smebridge's parser (attached forms in the same confined
//!   child processes as the daemon's), what that changes in each application shown, and with
//!   `--apply` recorded, with its history, without sending any mail;
//! - `purge.rs`: `smebridge purge [--dry-run]`, the personal data of every event past its
//!   retention period deleted (each event on its own, and mail for no event by the day it
//!   arrived), its counts kept for statistics, the file rewritten without it.
//!
//! The copies themselves (SQLite's online backup API, what a copy holds) are
//! [`crate::store`]'s, which also keeps a copy before an upgrade migrates the database.

mod backup;
mod purge;
mod reparse;
mod restore;

pub use backup::{backup, BackedUp};
pub use purge::{
    claim_for_purge, events as retained_events, purge, purge_dry_run, EventPurge, NoEventPurge, PurgeOutcome,
    PurgeReport, RetainedEvent,
};
pub use reparse::{apply, reparse, ApplicationChanges, Applied, Reparse};
pub use restore::{restore, Restored};

/// Claim the database for `reparse --apply`, or say why not and what to do.
pub fn claim_for_reparse(database: &std::path::Path) -> anyhow::Result<crate::instance::Instance> {
    crate::instance::Instance::claim(database).map_err(|e| match e.downcast_ref::<crate::instance::Busy>() {
        Some(busy) => anyhow::anyhow!(
            "reparse --apply changes applications and needs the database to itself: {busy}; stop it (sudo \
             systemctl stop smebridge), run reparse --apply, and start it again (without --apply, reparse only \
             reads and works while smebridge runs)"
        ),
        None => e,
    })
}

/// Who runs this command, for the history of what it changes: the login name behind `sudo`,
/// else the user's; `uid N` when neither is known.
pub fn actor() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|name| !name.trim().is_empty())
        .unwrap_or_else(|| {
            // SAFETY: getuid(2) cannot fail and touches no memory of ours.
            format!("uid {}", unsafe { libc::getuid() })
        })
}
