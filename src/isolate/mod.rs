//! Untrusted input read in a child process with resource limits (issue #11; STYLE habit 16).
//!
//! A third-party parser that aborts, overflows its stack, loops or allocates until the kernel
//! steps in takes its whole process with it, and `catch_unwind` cannot stop that. So the risky
//! reading runs in a child: smebridge itself, started again with a hidden subcommand, the input
//! on its standard input and the answer on its standard output. The child limits itself before
//! it reads anything (`confine`: `RLIMIT_DATA`, `RLIMIT_CPU`, `RLIMIT_CORE` = 0); the parent
//! (`run`) kills it at a wall-clock limit. A child that dies, overruns or answers nonsense
//! gives a [`Stopped`] saying why in words, and the parent carries on.
//!
//! Two children:
//! - [`ChildForms`] (`smebridge read-form`) reads one attached form (HWP, HWPX, DOCX, XLSX,
//!   PDF) for [`crate::parse::parse`];
//! - [`trial_read`] (`smebridge read-message`) reads a whole message the way the daemon would,
//!   to learn whether reading it is what stopped the daemon before (see
//!   [`crate::domain::read_plan`]);
//! - [`read_apart`] (`smebridge read-message --answer`) reads a large message whole and answers
//!   with what it says, so that the daemon never holds what reading a large message takes
//!   (see [`crate::pipeline::LARGE_MESSAGE`]).
//!
//! The child is `/proc/self/exe`, the running executable itself, so a binary replaced on disk
//! during an upgrade still starts its own children.

pub(crate) mod fault;
mod form;
mod message;

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::domain::{stopped_by, Ending, Stopped};

pub use form::{serve_form, ChildForms, FORM_LIMITS};
pub use message::{serve_message, trial_read, ApartReader, Setup, APART_LIMITS, TRIAL_LIMITS};

/// What a child may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_DATA`: heap and every private writable mapping, in MiB.
    pub memory_mib: u64,
    /// CPU time (`RLIMIT_CPU`): what a reader that computes without end runs into.
    pub cpu_seconds: u64,
    /// Wall-clock time, enforced by the parent: what a reader that waits without end runs into.
    /// Longer than the CPU limit, so that a busy machine (a child gets a share of the CPU, not
    /// all of it) does not turn an ordinary form into an unreadable one.
    pub wall_seconds: u64,
}

/// The running executable, whichever file it was started from.
const SELF_EXE: &str = "/proc/self/exe";

/// Most bytes of a child's standard error kept (to tell a failed allocation from other aborts).
const MAX_STDERR: usize = 16 << 10;

/// Runs `smebridge ARGS` as a child confined to `limits`, with `input` on its standard input.
/// Its standard output if it exited 0 in time with at most `max_output` bytes; else why not.
pub(crate) fn run(args: &[&str], input: &[u8], limits: Limits, max_output: usize) -> Result<Vec<u8>, Stopped> {
    let wall = Duration::from_secs(limits.wall_seconds);
    let started = Instant::now();
    let mut child = Command::new(SELF_EXE)
        .arg0("smebridge")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Stopped::NotStarted(e.to_string()))?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Stopped::NotStarted("no pipes to the child".to_owned()));
    };

    let (status, timed_out, output, errors) = std::thread::scope(|scope| {
        // Writing, and reading both outputs, each on its own thread: a child that stops reading
        // or writes a lot must not block the parent, which is watching the clock.
        scope.spawn(move || {
            // A child that dies early closes the pipe: the error is the child's story, told below.
            let _ = stdin.write_all(input);
        });
        let (tx, rx) = mpsc::channel();
        let tx_err = tx.clone();
        scope.spawn(move || tx.send((true, read_capped(stdout, max_output))));
        scope.spawn(move || tx_err.send((false, read_capped(stderr, MAX_STDERR))));
        let deadline = started + wall;
        let (mut output, mut errors) = (None, None);
        let mut timed_out = false;
        while output.is_none() || errors.is_none() {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok((true, bytes)) => output = Some(bytes),
                Ok((false, bytes)) => errors = Some(bytes),
                Err(_) => {
                    timed_out = true;
                    break;
                }
            }
        }
        // Both pipes are closed: the child is exiting. It still gets only the time left.
        let mut status = None;
        while !timed_out {
            match child.try_wait() {
                Ok(Some(done)) => {
                    status = Some(done);
                    break;
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
                _ => timed_out = true,
            }
        }
        if timed_out {
            let _ = child.kill();
        }
        // Reaped in every case (after a kill this returns at once), so no zombie is left.
        let status = status.or_else(|| child.wait().ok());
        (status, timed_out, output, errors)
    });

    let errors = errors.map(|(bytes, _)| bytes).unwrap_or_default();
    let ending = Ending {
        timed_out,
        signal: status.and_then(|s| s.signal()),
        code: status.and_then(|s| s.code()),
        allocation_failed: contains(&errors, b"memory allocation of"),
    };
    if let Some(stopped) = stopped_by(ending, limits.memory_mib, limits.cpu_seconds, limits.wall_seconds) {
        return Err(stopped);
    }
    match output {
        Some((bytes, false)) => Ok(bytes),
        Some((_, true)) => Err(Stopped::Garbled(format!("more than {max_output} bytes of output"))),
        None => Err(Stopped::Garbled("no output".to_owned())),
    }
}

/// Up to `max` bytes of `from`, and whether there was more (which is read and thrown away, so
/// that the writer is never blocked).
fn read_capped(mut from: impl Read, max: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut more = false;
    let mut buffer = [0u8; 64 << 10];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = max.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                more |= n > room;
            }
        }
    }
    (kept, more)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The child's side, first thing: no core files, `limits.cpu_seconds` of CPU time (then SIGXCPU,
/// and SIGKILL a second later), `limits.memory_mib` of data; limits already lower (inherited)
/// are kept. SIGTERM, SIGINT and SIGHUP are ignored: a stop of the service (systemd signals
/// every process of the unit) or a Ctrl-C lets the daemon finish the message in hand, and the
/// child's answer with it, instead of making a reader killed from outside look like one the
/// input killed. The child is bounded by its limits, and the parent kills it with SIGKILL.
pub(crate) fn confine(limits: Limits) -> Result<()> {
    lower(libc::RLIMIT_CORE, 0, 0)?;
    lower(libc::RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)?;
    let bytes = limits.memory_mib << 20;
    lower(libc::RLIMIT_DATA, bytes, bytes)?;
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: signal(2) with SIG_IGN installs no handler; this process is single-threaded.
        if unsafe { libc::signal(signal, libc::SIG_IGN) } == libc::SIG_ERR {
            return Err(std::io::Error::last_os_error()).context("cannot ignore the stop signals");
        }
    }
    Ok(())
}

fn lower(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> Result<()> {
    let mut now = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit(2) and setrlimit(2) with valid pointers to an rlimit.
    unsafe {
        if libc::getrlimit(resource, &mut now) != 0 {
            return Err(std::io::Error::last_os_error()).context("cannot read a resource limit");
        }
        let hard = now.rlim_max.min(hard);
        let new = libc::rlimit { rlim_cur: soft.min(hard), rlim_max: hard };
        if libc::setrlimit(resource, &new) != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot set resource limit {resource}"));
        }
    }
    Ok(())
}

/// Exactly `size` bytes from standard input, in one allocation.
fn read_input(size: usize) -> Result<Vec<u8>> {
    let mut input = Vec::with_capacity(size);
    std::io::stdin().lock().take(size as u64).read_to_end(&mut input).context("cannot read standard input")?;
    anyhow::ensure!(input.len() == size, "expected {size} bytes on standard input, got {}", input.len());
    Ok(input)
}

/// Writes the answer to standard output.
fn answer(head: &str, body: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(head.as_bytes())?;
    out.write_all(b"\n")?;
    out.write_all(body)?;
    out.flush().context("cannot write the answer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_cap_is_drained_and_flagged() {
        let data = vec![b'x'; 200_000];
        assert_eq!(read_capped(&data[..], 1_000_000), (data.clone(), false));
        let (kept, more) = read_capped(&data[..], 1000);
        assert_eq!(kept.len(), 1000);
        assert!(more);
    }
}
