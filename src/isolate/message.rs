//! `smebridge read-message`: a trial read of a whole message in a child process.
//!
//! When the daemon died while a message was being read, nobody can tell afterwards whether the
//! message killed it or something else did (`kill -9`, a reboot). The trial reads the message
//! in a child exactly as the daemon's parse stage would ([`crate::pipeline::read_message`];
//! forms are not read, they have their own children): if the child survives, reading the
//! message is safe and the daemon reads it; if it dies or overruns, the message is what stops
//! the daemon, and it is held for staff unread.
//!
//! Protocol: `smebridge read-message --size N`, the raw message on standard input; `read` and a
//! line break on standard output once it was read.

use anyhow::Result;

use super::{answer, confine, read_input, run, Limits};
use crate::domain::Stopped;
use crate::parse::{sha256_hex, NoForms};

/// The trial's limits: 256 MiB, 30 s of CPU and 90 s of wall clock. Generous on purpose: the trial must only fail where
/// the daemon itself would die or stall, and a message may be 40 MiB (`max_message_size`), whose
/// parts are decoded beside the raw bytes. What kills the daemon (a failed allocation of
/// gigabytes, a stack overflow, an abort) is far past either limit or independent of them.
pub const TRIAL_LIMITS: Limits = Limits { memory_mib: 256, cpu_seconds: 30, wall_seconds: 90 };

/// Read `raw` in a child process confined to [`TRIAL_LIMITS`]: `Ok` if reading it is safe.
pub fn trial_read(raw: &[u8]) -> Result<(), Stopped> {
    let size = raw.len().to_string();
    let answer = run(&["read-message", "--size", &size], raw, TRIAL_LIMITS, 64)?;
    if answer == b"read\n" {
        Ok(())
    } else {
        Err(Stopped::Garbled("an unknown answer".to_owned()))
    }
}

/// The child: `smebridge read-message --size N`.
pub fn serve_message(size: usize) -> Result<()> {
    confine(TRIAL_LIMITS)?;
    let raw = read_input(size)?;
    let inbound = crate::pipeline::read_message(&raw, &sha256_hex(&raw), &crate::parse::Context::new(&NoForms));
    drop(inbound);
    answer("read", b"")
}
