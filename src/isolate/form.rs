//! `smebridge read-form`: one attached form read in a child process.
//!
//! Protocol: `smebridge read-form --kind pdf --size N`, the form's N bytes on standard input;
//! on standard output `text` and a line break, then the text (UTF-8), or `refused` and a line
//! break, then the reader's reason in words. Anything else is no answer.

use anyhow::{Context, Result};
use tracing::warn;

use super::{answer, confine, fault, read_input, run, Limits};
use crate::parse::{self, FormKind, FormReader, InProcess, Unreadable};

/// The form reader's limits.
///
/// Memory: 96 MiB of data. The readers are budgeted by [`parse::Limits`]: an input of at
/// most 30 MiB and at most 50 MiB inflated, counted as it is inflated — 80 MiB for a form at the
/// very limits, and the 16 MiB left is room for the readers' own tables and the text. A real
/// application form (tens to hundreds of kB) needs a few MiB. Nothing legitimate needs more, and
/// a child that asks for more (a PDF whose cross-reference stream claims a terabyte) is stopped
/// at the first allocation past the limit instead of taking the machine's memory. The child runs
/// while the daemon (about 35 MB at its peak in the hostile-mail test) waits for it, one child
/// at a time; typical children stay in single-digit MiB, and only a form at the very limits
/// brings the pair near 128 MB.
///
/// Time: 10 s of CPU, 30 s of wall clock. Reading the largest real form takes well under a
/// second of CPU; the wall clock is longer so that a loaded machine does not fail a good form.
pub const FORM_LIMITS: Limits = Limits { memory_mib: 96, cpu_seconds: 10, wall_seconds: 30 };

/// Most bytes of answer accepted: the text is cut at 200,000 characters (at most 4 bytes each).
const MAX_ANSWER: usize = 1 << 20;

/// Reads each form in a child process confined to [`FORM_LIMITS`]: what the daemon and
/// `smebridge parse` use. Plain text attachments are read here (smebridge's own code, no
/// third-party parser).
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildForms;

impl FormReader for ChildForms {
    fn read(&self, kind: &FormKind, bytes: &[u8]) -> Result<String, Unreadable> {
        if *kind == FormKind::Text || bytes.len() > parse::Limits::default().max_input_bytes {
            // Text needs no third-party parser; a form over the input limit is refused before
            // any parsing, here as in the child.
            return InProcess.read(kind, bytes);
        }
        let size = bytes.len().to_string();
        let answer = run(&["read-form", "--kind", kind_name(kind), "--size", &size], bytes, FORM_LIMITS, MAX_ANSWER)
            .map_err(|stopped| {
                warn!(kind = kind_name(kind), reason = %stopped, "an attached form could not be read in its child process");
                Unreadable::Stopped(stopped)
            })?;
        decode(&answer)
    }
}

fn decode(answer: &[u8]) -> Result<String, Unreadable> {
    let garbled = |what: &str| Unreadable::Stopped(crate::domain::Stopped::Garbled(what.to_owned()));
    let split = answer.iter().position(|&b| b == b'\n').ok_or_else(|| garbled("no answer line"))?;
    let (head, body) = (&answer[..split], &answer[split + 1..]);
    let body = String::from_utf8(body.to_vec()).map_err(|_| garbled("text that is not UTF-8"))?;
    match head {
        b"text" => Ok(body),
        b"refused" => Err(Unreadable::Refused(body)),
        _ => Err(garbled("an unknown answer")),
    }
}

fn kind_name(kind: &FormKind) -> &'static str {
    match kind {
        FormKind::Docx => "docx",
        FormKind::Hwpx => "hwpx",
        FormKind::Hwp => "hwp",
        FormKind::Xlsx => "xlsx",
        FormKind::Pdf => "pdf",
        FormKind::Text => "text",
    }
}

fn kind_by_name(name: &str) -> Option<FormKind> {
    [FormKind::Docx, FormKind::Hwpx, FormKind::Hwp, FormKind::Xlsx, FormKind::Pdf, FormKind::Text]
        .into_iter()
        .find(|kind| kind_name(kind) == name)
}

/// The child: `smebridge read-form --kind KIND --size N`. Limits itself, reads the form from
/// standard input, answers on standard output.
pub fn serve_form(kind: &str, size: usize) -> Result<()> {
    confine(FORM_LIMITS)?;
    fault::form();
    let kind = kind_by_name(kind).with_context(|| format!("unknown form kind {kind:?}"))?;
    let bytes = read_input(size)?;
    match parse::extract_text(&kind, &bytes, &parse::Limits::default()) {
        Ok(text) => answer("text", text.as_bytes()),
        Err(why) => answer("refused", why.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Stopped;

    #[test]
    fn answers_are_decoded_and_anything_else_is_garbled() {
        assert_eq!(decode(b"text\n\xec\x84\xb1\xeb\xaa\x85: x\n"), Ok("성명: x\n".to_owned()));
        assert_eq!(decode(b"text\n"), Ok(String::new()));
        assert_eq!(decode(b"refused\nencrypted"), Err(Unreadable::Refused("encrypted".to_owned())));
        for bad in [&b""[..], b"text", b"hello\nworld", b"text\n\xff"] {
            assert!(matches!(decode(bad), Err(Unreadable::Stopped(Stopped::Garbled(_)))), "{bad:?}");
        }
    }

    #[test]
    fn every_kind_has_a_name_that_reads_back() {
        for kind in [FormKind::Docx, FormKind::Hwpx, FormKind::Hwp, FormKind::Xlsx, FormKind::Pdf, FormKind::Text] {
            assert_eq!(kind_by_name(kind_name(&kind)), Some(kind));
        }
        assert_eq!(kind_by_name("exe"), None);
    }
}
