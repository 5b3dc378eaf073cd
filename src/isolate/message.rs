//! `smebridge read-message`: a whole message read in a child process, in two ways.
//!
//! - The trial ([`trial_read`]). When the daemon died while a message was being read, nobody
//!   can tell afterwards whether the message killed it or something else did (`kill -9`, a
//!   reboot). The trial reads the message in a child exactly as the daemon's parse stage would
//!   ([`crate::pipeline::read_message`]; forms are not read, they have their own children): if
//!   the child survives, reading the message is safe and the daemon reads it; if it dies or
//!   overruns, the message is what stops the daemon, and it is held for staff unread.
//! - Reading apart ([`read_apart`]). A large message is read in a child, attached forms and all
//!   (each form in a child of the child, as always), and the child answers with what it read
//!   (`Inbound`, as JSON). The daemon then holds only the message's raw bytes, never what
//!   reading them takes: decoded parts, converted text, the parser's structures can be several
//!   times the size of the message (a 39 MB EUC-KR text part is a 60 MB string), and none of it
//!   counts against the daemon's memory.
//!
//! Protocol: `smebridge read-message --size N [--answer [--center ADDRESS] [--announcement
//! FILE]…]`, the raw message on standard input;
//! on standard output `read` and a line break once it was read (the trial), or with `--answer`
//! `inbound`, a line break and the `Inbound` as JSON.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{answer, confine, read_input, run, ChildForms, Limits};
use crate::config::Config;
use crate::domain::{EmailAddress, Stopped};
use crate::parse::{sha256_hex, Announcement, Inbound, NoForms};

/// The trial's limits: 256 MiB, 30 s of CPU and 90 s of wall clock. Generous on purpose: the trial must only fail where
/// the daemon itself would die or stall, and a message may be 40 MiB (`max_message_size`), whose
/// parts are decoded beside the raw bytes. What kills the daemon (a failed allocation of
/// gigabytes, a stack overflow, an abort) is far past either limit or independent of them.
pub const TRIAL_LIMITS: Limits = Limits { memory_mib: 256, cpu_seconds: 30, wall_seconds: 90 };

/// The limits of a message read apart: the trial's memory and CPU time (the same reading), and
/// wall clock for its attached forms too, each read in a child of its own (at most 8, each
/// within 30 s of wall clock: `FORM_LIMITS`).
pub const APART_LIMITS: Limits = Limits { memory_mib: 256, cpu_seconds: 30, wall_seconds: 300 };

/// Most bytes of answer accepted from a message read apart: its body text is at most 1 MiB
/// (`MAX_TEXT_BYTES`), which JSON may escape up to six-fold, plus the attachment list.
const MAX_INBOUND: usize = 16 << 20;

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

/// How the daemon reads a large message apart: with what parsing knows of the desk (the
/// center's address, the events' announcement files), passed to the child as arguments, so that
/// the child reads the message as the daemon's own parse stage would.
#[derive(Debug, Clone, Default)]
pub struct ApartReader {
    args: Vec<String>,
}

impl ApartReader {
    pub fn of(config: &Config) -> ApartReader {
        let mut args = vec!["--center".to_owned(), config.own_address().to_string()];
        // A path that is not UTF-8 cannot be an argument here; the child reads without it.
        for file in config.events.iter().filter_map(|e| e.announcement_file.as_deref()?.to_str()) {
            args.extend(["--announcement".to_owned(), file.to_owned()]);
        }
        ApartReader { args }
    }

    /// Read `raw` whole in a child process confined to [`APART_LIMITS`], attached forms in
    /// children of their own ([`ChildForms`]): what it says, or how the child ended without
    /// saying it.
    pub fn read(&self, raw: &[u8]) -> Result<Inbound, Stopped> {
        let size = raw.len().to_string();
        let mut args = vec!["read-message", "--size", &size, "--answer"];
        args.extend(self.args.iter().map(String::as_str));
        let answer = run(&args, raw, APART_LIMITS, MAX_INBOUND)?;
        decode(&answer)
    }
}

fn decode(answer: &[u8]) -> Result<Inbound, Stopped> {
    let json = answer.strip_prefix(b"inbound\n").ok_or_else(|| Stopped::Garbled("an unknown answer".to_owned()))?;
    // The error's own words could quote the message (an address that does not read back).
    serde_json::from_slice(json).map_err(|_| Stopped::Garbled("an answer that does not read back".to_owned()))
}

/// What the child reads a message with, from its arguments ([`ApartReader::of`]).
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// `--center`: the center's address.
    pub center: Option<String>,
    /// `--announcement`: the events' announcement files.
    pub announcements: Vec<PathBuf>,
}

/// The child: `smebridge read-message --size N [--answer [--center ADDRESS] [--announcement
/// FILE]…]`.
pub fn serve_message(size: usize, answer_inbound: bool, setup: &Setup) -> Result<()> {
    confine(if answer_inbound { APART_LIMITS } else { TRIAL_LIMITS })?;
    let raw = read_input(size)?;
    let sha256 = sha256_hex(&raw);
    if !answer_inbound {
        let inbound = crate::pipeline::read_message(&raw, &sha256, &crate::parse::Context::new(&NoForms));
        drop(inbound);
        return answer("read", b"");
    }
    // As the daemon reads: an announcement file that cannot be read now (changed since the
    // daemon started) is left out rather than the message.
    let announcements: Vec<Announcement> = setup
        .announcements
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .map(|raw| Announcement::read(&raw))
        .collect();
    let announcements: Vec<&Announcement> = announcements.iter().collect();
    let center = setup.center.as_deref().and_then(|c| EmailAddress::parse(c).ok());
    let context = crate::parse::Context {
        announcements: &announcements,
        center: center.as_ref(),
        ..crate::parse::Context::new(&ChildForms)
    };
    let inbound = crate::pipeline::read_message(&raw, &sha256, &context);
    drop(raw);
    let json = serde_json::to_vec(&inbound).context("cannot write what the message says")?;
    answer("inbound", &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InProcess;

    #[test]
    fn what_a_child_read_comes_back_whole_and_anything_else_is_garbled() {
        let raw = b"From: =?UTF-8?B?6rmA66+87KSA?= <kim@hanbit-tech.example>\r\nSubject: apply\r\n\
            Message-ID: <a@hanbit-tech.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
            \xec\x84\xb1\xeb\xaa\x85: \xea\xb9\x80\xeb\xaf\xbc\xec\xa4\x80\r\n";
        let inbound = crate::pipeline::read_message(raw, &sha256_hex(raw), &crate::parse::Context::new(&InProcess));
        let mut answer = b"inbound\n".to_vec();
        answer.extend(serde_json::to_vec(&inbound).unwrap());
        let back = decode(&answer).unwrap();
        assert_eq!(format!("{back:?}"), format!("{inbound:?}"), "every field reads back as it was");
        assert_eq!(back.fields.name.as_deref(), Some("김민준"));

        let garbled = |bytes: &[u8]| matches!(decode(bytes), Err(Stopped::Garbled(_)));
        assert!(garbled(b""));
        assert!(garbled(b"read\n"));
        assert!(garbled(b"inbound\n{}"));
        let mut forged = String::from_utf8(answer).unwrap();
        forged = forged.replace("kim@hanbit-tech.example", "not an address");
        assert!(
            matches!(decode(forged.as_bytes()), Err(Stopped::Garbled(why)) if !why.contains("not an address")),
            "an address that does not parse is refused, and the refusal does not quote it"
        );
    }
}
