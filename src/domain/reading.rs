//! Reading a message without letting it stop the desk (issue #11).
//!
//! Every message's raw bytes are committed with a "being read" marker and an attempt counter
//! before it is parsed; the commit that records its outcome clears the marker. A marker found
//! at the next start means the process died while reading: by a random kill (a crash of the
//! machine, `kill -9`, an upgrade), or because the message makes a parser abort, overflow its
//! stack or eat memory until the kernel kills it. The two look the same afterwards, so
//! [`read_plan`] does not guess: a message with an unfinished attempt is read again on its own
//! (its own marker commit), after a trial read in a child process with resource limits, which
//! answers the question (see `crate::isolate`). Only what kills that child, or what has stopped
//! the desk [`MAX_UNFINISHED`] times, is held for staff unread.
//!
//! [`Stopped`] says in words how a child process that reads untrusted input ended when it did
//! not answer, from facts the caller gathers ([`stopped_by`]).

use std::fmt;

/// What the database says about these bytes before a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadState {
    /// Never seen.
    New,
    /// Recorded with its outcome: nothing to read.
    Finished,
    /// Recorded with the marker: this many attempts to read it started and none finished.
    Unfinished { attempts: u32 },
}

/// How to read a message, given [`ReadState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPlan {
    /// Its bytes are recorded with an outcome: only its UID is noted.
    Known,
    /// Read with the rest of its batch (one marker commit, one outcome commit for the batch).
    WithBatch,
    /// An earlier attempt never finished: read on its own, first in a child process.
    Alone,
    /// It has stopped the desk [`MAX_UNFINISHED`] times: held for staff without reading it.
    Hold { attempts: u32 },
}

/// How many unfinished attempts hold a message unread although its trial in a child process
/// passed. A trial answers almost every case; this bounds the rest (a death the child's limits
/// do not reproduce, e.g. the kernel's OOM killer choosing the desk under memory pressure the
/// message causes together with the rest of its batch): such a message stops the desk at most
/// this many times. Four, because an innocent message gets here only if random kills land on it
/// three times running, each within the few milliseconds between its own marker commit and its
/// outcome commit (the trial before them counts no attempt); the kill test
/// (`tests/desk/crash.rs`, 20 kills at random moments) must never hold an applicant's mail.
pub const MAX_UNFINISHED: u32 = 4;

/// See the module docs.
pub fn read_plan(state: ReadState) -> ReadPlan {
    match state {
        ReadState::New => ReadPlan::WithBatch,
        ReadState::Finished => ReadPlan::Known,
        // An attempt released cleanly (shutdown between parsing and storing) is no evidence.
        ReadState::Unfinished { attempts: 0 } => ReadPlan::WithBatch,
        ReadState::Unfinished { attempts } if attempts >= MAX_UNFINISHED => ReadPlan::Hold { attempts },
        ReadState::Unfinished { .. } => ReadPlan::Alone,
    }
}

/// Why a message is held unread, in words for staff (the message's outcome detail).
pub fn hold_reason(cause: HoldCause) -> String {
    match cause {
        HoldCause::Trial(stopped) => {
            format!(
                "reading this message stopped smebridge; a trial read in a separate process confirmed it: {stopped}"
            )
        }
        HoldCause::Attempts(attempts) => {
            format!("smebridge stopped {attempts} times while reading this message")
        }
    }
}

/// Why a message is held: its trial in a child process failed, or it stopped the desk too often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldCause {
    Trial(Stopped),
    Attempts(u32),
}

/// How a child process that reads untrusted input ended without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// It tried to allocate past its memory limit (and aborted).
    Memory { limit_mib: u64 },
    /// It ran past its wall-clock limit and was killed.
    Time { limit_s: u64 },
    /// It used up its CPU-time limit (`RLIMIT_CPU`: SIGXCPU).
    Cpu { limit_s: u64 },
    /// It died of another signal (abort, segmentation fault, the OOM killer's SIGKILL).
    Crashed { signal: i32 },
    /// It exited, but not with an answer (an exit status, or output that is no answer).
    Garbled(String),
    /// It could not be started.
    NotStarted(String),
}

impl Stopped {
    /// Whether a trial read that stopped like this shows that reading the message stops the
    /// reader: dying of a signal or overrunning a limit does. A child that could not be started,
    /// or that exited with an error status (it could not set its limits or read its input), shows
    /// nothing about the message: it is read after all (its attempts still bound that).
    pub fn convicts(&self) -> bool {
        matches!(self, Stopped::Memory { .. } | Stopped::Time { .. } | Stopped::Cpu { .. } | Stopped::Crashed { .. })
    }
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stopped::Memory { limit_mib } => write!(f, "it needed more than {limit_mib} MiB"),
            Stopped::Time { limit_s } => write!(f, "it took longer than {limit_s} s"),
            Stopped::Cpu { limit_s } => write!(f, "it needed more than {limit_s} s of processor time"),
            Stopped::Crashed { signal } => write!(f, "the reader crashed (signal {signal})"),
            Stopped::Garbled(what) => write!(f, "the reader gave no usable answer ({what})"),
            Stopped::NotStarted(why) => write!(f, "the reader could not be started ({why})"),
        }
    }
}

/// How a child process ended, as the parent saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    /// The parent killed it at its wall-clock limit.
    pub timed_out: bool,
    /// The signal that ended it.
    pub signal: Option<i32>,
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// Its standard error says an allocation failed (`memory allocation of N bytes failed`, what
    /// Rust prints before aborting when the allocator refuses).
    pub allocation_failed: bool,
}

/// The signals told apart here (Linux numbers).
const SIGABRT: i32 = 6;
const SIGXCPU: i32 = 24;

/// What `ending` means, given the child's limits; `None` when it exited 0 (then its output is
/// the answer, to be checked by the caller).
pub fn stopped_by(ending: Ending, limit_mib: u64, cpu_s: u64, wall_s: u64) -> Option<Stopped> {
    if ending.timed_out {
        return Some(Stopped::Time { limit_s: wall_s });
    }
    match (ending.signal, ending.code) {
        (Some(SIGABRT), _) if ending.allocation_failed => Some(Stopped::Memory { limit_mib }),
        (Some(SIGXCPU), _) => Some(Stopped::Cpu { limit_s: cpu_s }),
        // SIGKILL that the parent did not send: the OOM killer (or the CPU limit's hard value).
        (Some(signal), _) => Some(Stopped::Crashed { signal }),
        (None, Some(0)) => None,
        (None, Some(code)) => Some(Stopped::Garbled(format!("exit status {code}"))),
        (None, None) => Some(Stopped::Garbled("no exit status".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_message_is_read_with_its_batch_and_a_finished_one_only_noted() {
        assert_eq!(read_plan(ReadState::New), ReadPlan::WithBatch);
        assert_eq!(read_plan(ReadState::Finished), ReadPlan::Known);
        assert_eq!(read_plan(ReadState::Unfinished { attempts: 0 }), ReadPlan::WithBatch);
    }

    #[test]
    fn an_unfinished_attempt_means_alone_and_too_many_mean_hold() {
        assert_eq!(read_plan(ReadState::Unfinished { attempts: 1 }), ReadPlan::Alone);
        assert_eq!(read_plan(ReadState::Unfinished { attempts: MAX_UNFINISHED - 1 }), ReadPlan::Alone);
        assert_eq!(
            read_plan(ReadState::Unfinished { attempts: MAX_UNFINISHED }),
            ReadPlan::Hold { attempts: MAX_UNFINISHED }
        );
        assert_eq!(read_plan(ReadState::Unfinished { attempts: 40 }), ReadPlan::Hold { attempts: 40 });
    }

    fn ending(signal: Option<i32>, code: Option<i32>) -> Ending {
        Ending { timed_out: false, signal, code, allocation_failed: false }
    }

    #[test]
    fn how_a_child_ended_in_words() {
        assert_eq!(stopped_by(ending(None, Some(0)), 96, 10, 30), None);
        let oom = Ending { allocation_failed: true, ..ending(Some(6), None) };
        assert_eq!(stopped_by(oom, 96, 10, 30), Some(Stopped::Memory { limit_mib: 96 }));
        assert_eq!(stopped_by(ending(Some(6), None), 96, 10, 30), Some(Stopped::Crashed { signal: 6 }));
        assert_eq!(stopped_by(ending(Some(11), None), 96, 10, 30), Some(Stopped::Crashed { signal: 11 }));
        assert_eq!(stopped_by(ending(Some(24), None), 96, 10, 30), Some(Stopped::Cpu { limit_s: 10 }));
        let killed = Ending { timed_out: true, ..ending(Some(9), None) };
        assert_eq!(stopped_by(killed, 96, 10, 30), Some(Stopped::Time { limit_s: 30 }));
        assert_eq!(stopped_by(ending(Some(9), None), 96, 10, 30), Some(Stopped::Crashed { signal: 9 }));
        assert_eq!(stopped_by(ending(None, Some(101)), 96, 10, 30), Some(Stopped::Garbled("exit status 101".into())));

        assert_eq!(Stopped::Memory { limit_mib: 96 }.to_string(), "it needed more than 96 MiB");
        assert_eq!(Stopped::Cpu { limit_s: 10 }.to_string(), "it needed more than 10 s of processor time");
        assert_eq!(Stopped::Time { limit_s: 10 }.to_string(), "it took longer than 10 s");
        assert_eq!(Stopped::Crashed { signal: 6 }.to_string(), "the reader crashed (signal 6)");
    }

    #[test]
    fn only_a_child_that_died_or_overran_convicts_the_message() {
        assert!(Stopped::Memory { limit_mib: 256 }.convicts());
        assert!(Stopped::Time { limit_s: 30 }.convicts());
        assert!(Stopped::Crashed { signal: 11 }.convicts());
        assert!(!Stopped::NotStarted("Resource temporarily unavailable".into()).convicts());
        assert!(!Stopped::Garbled("exit status 1".into()).convicts());
    }

    #[test]
    fn hold_reasons_say_what_happened() {
        let trial = hold_reason(HoldCause::Trial(Stopped::Crashed { signal: 6 }));
        assert!(trial.contains("stopped smebridge") && trial.ends_with("the reader crashed (signal 6)"), "{trial}");
        assert_eq!(hold_reason(HoldCause::Attempts(3)), "smebridge stopped 3 times while reading this message");
    }
}
