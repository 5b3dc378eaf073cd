//! Reading attached application forms, through an injected [`FormReader`].
//!
//! The formats (HWP, HWPX, DOCX, XLSX, PDF) are read by third-party parsers ([`super`]),
//! and a parser that aborts, overflows its stack or allocates until the kernel steps in takes
//! its whole process with it; `catch_unwind` cannot help. So [`crate::parse::parse`] does not
//! call [`extract_text`] itself: the caller hands it a reader. The daemon and
//! `smebridge parse` pass `crate::isolate::ChildForms`, which reads each form in a child process
//! with memory, CPU and wall-clock limits; unit tests, golden tests and benchmarks pass
//! [`InProcess`] (their binaries are not smebridge and cannot run themselves as a child).
//!
//! A form that cannot be read is a problem for staff, with the reason, never silence: the
//! applicant's mail is still read from its text. At most [`MAX_FORMS_READ`] forms are read per
//! message, so a message with thousands of attachments costs at most that many readers.

use mail_parser::MimeHeaders;

use super::tnef::unwrap_tnef;
use super::{extract_text, kind_of, FormKind, Limits};
use crate::domain::Stopped;
use crate::parse::{applicant, clean_header_text, states};

/// Most attached forms read for one message; the rest are listed with the message, not read.
pub const MAX_FORMS_READ: usize = 8;

/// Why an attached form gave no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// The reader refused it: encrypted, unsupported, broken, over its budget (an
    /// [`ExtractError`](super::ExtractError), in words).
    Refused(String),
    /// The reader's process died or overran its limits.
    Stopped(Stopped),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Refused(why) => f.write_str(why),
            Unreadable::Stopped(stopped) => stopped.fmt(f),
        }
    }
}

/// Turns an attached form into text (in the layout [`extract_text`] gives).
pub trait FormReader {
    fn read(&self, kind: &FormKind, bytes: &[u8]) -> Result<String, Unreadable>;
}

/// Reads forms in this process, with [`Limits::default`]. For tests, benchmarks
/// and the child process itself; never for the daemon (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl FormReader for InProcess {
    fn read(&self, kind: &FormKind, bytes: &[u8]) -> Result<String, Unreadable> {
        extract_text(kind, bytes, &Limits::default()).map_err(|e| Unreadable::Refused(e.to_string()))
    }
}

/// Reads no form: every form is taken as empty (no fields, no problem). For reading a message
/// again only for its text (the summary's excerpts) or for a trial of the message's own parsing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoForms;

impl FormReader for NoForms {
    fn read(&self, _: &FormKind, _: &[u8]) -> Result<String, Unreadable> {
        Ok(String::new())
    }
}

/// What reading the attached forms gave.
#[derive(Debug, Default)]
pub struct Forms {
    /// The fields of the first form that states any, and the form's file name.
    pub found: Option<(String, applicant::Reading)>,
    /// Forms that could not be read, and forms left unread past [`MAX_FORMS_READ`], in words.
    pub problems: Vec<String>,
}

/// The fields of the first attached form (HWP, HWPX, DOCX, XLSX, PDF, text; also inside an
/// Outlook `winmail.dat`) that states any, read with `reader`; and what could not be read.
pub fn attached_form(message: &mail_parser::Message<'_>, reader: &dyn FormReader) -> Forms {
    let limits = Limits::default();
    let mut forms = Forms::default();
    let mut read_so_far = 0;
    // `None`: go on with the next attachment; `Some(true)`: found; `Some(false)`: stop (cap).
    let mut read = |name: Option<&str>, content_type: Option<&str>, bytes: &[u8], forms: &mut Forms| -> Option<bool> {
        let kind = kind_of(name, content_type, bytes)?;
        let shown_name =
            name.map(clean_header_text).filter(|n| !n.is_empty()).unwrap_or_else(|| "(no file name)".to_owned());
        if read_so_far == MAX_FORMS_READ {
            forms.problems.push(format!(
                "the message has more than {MAX_FORMS_READ} attached forms; only the first {MAX_FORMS_READ} were read"
            ));
            return Some(false);
        }
        read_so_far += 1;
        match reader.read(&kind, bytes) {
            Ok(text) => {
                let found = applicant::read(&text);
                if !states(&found.fields) {
                    return None;
                }
                forms.found = Some((shown_name, found));
                Some(true)
            }
            Err(why) => {
                forms.problems.push(format!("the form '{shown_name}' could not be read: {why}"));
                None
            }
        }
    };
    for part in message.attachments() {
        let name = part.attachment_name();
        let content_type = part.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")));
        let bytes = part.contents();
        let is_tnef = content_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("application/ms-tnef"))
            || name.is_some_and(|n| n.eq_ignore_ascii_case("winmail.dat"));
        if is_tnef {
            // The TNEF container is read here (smebridge's own reader, no third-party code); the
            // forms in it go to `reader` like any other.
            for (inner_name, inner) in unwrap_tnef(bytes, &limits).unwrap_or_default() {
                if read(Some(&inner_name), None, &inner, &mut forms).is_some() {
                    return forms;
                }
            }
            continue;
        }
        if read(name, content_type.as_deref(), bytes, &mut forms).is_some() {
            return forms;
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::parse::{parse, sha256_hex};

    /// A reader that counts its calls and answers what it is told.
    struct Scripted {
        calls: Cell<usize>,
        answer: fn(usize) -> Result<String, Unreadable>,
    }

    impl FormReader for Scripted {
        fn read(&self, _: &FormKind, _: &[u8]) -> Result<String, Unreadable> {
            let n = self.calls.get();
            self.calls.set(n + 1);
            (self.answer)(n)
        }
    }

    fn with_pdfs(count: usize) -> Vec<u8> {
        let mut raw = String::from(
            "From: Kim <kim@forms.example>\r\nSubject: apply\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe form is attached.\r\n",
        );
        for i in 0..count {
            raw.push_str(&format!(
                "--b\r\nContent-Type: application/pdf; name=\"form{i}.pdf\"\r\nContent-Disposition: attachment; filename=\"form{i}.pdf\"\r\n\r\n%PDF-1.4 {i}\r\n"
            ));
        }
        raw.push_str("--b--\r\n");
        raw.into_bytes()
    }

    #[test]
    fn a_form_that_cannot_be_read_is_a_problem_with_its_name_and_reason() {
        let reader =
            Scripted { calls: Cell::new(0), answer: |_| Err(Unreadable::Stopped(Stopped::Memory { limit_mib: 96 })) };
        let raw = with_pdfs(1);
        let inbound = parse(&raw, &sha256_hex(&raw), &reader);
        assert_eq!(reader.calls.get(), 1);
        assert!(
            inbound.problems.contains(&"the form 'form0.pdf' could not be read: it needed more than 96 MiB".to_owned()),
            "{:?}",
            inbound.problems
        );
        // The mail itself is still read.
        assert_eq!(inbound.from.as_ref().map(|a| a.as_str()), Some("kim@forms.example"));
        assert_eq!(inbound.fields.name.as_deref(), Some("Kim"));
    }

    #[test]
    fn at_most_eight_forms_are_read_and_staff_are_told_of_the_rest() {
        let reader = Scripted { calls: Cell::new(0), answer: |_| Ok("nothing to see".to_owned()) };
        let raw = with_pdfs(20);
        let inbound = parse(&raw, &sha256_hex(&raw), &reader);
        assert_eq!(reader.calls.get(), MAX_FORMS_READ);
        assert!(
            inbound.problems.iter().any(|p| p.contains("more than 8 attached forms; only the first 8 were read")),
            "{:?}",
            inbound.problems
        );
        assert_eq!(inbound.attachments.len(), 20, "every attachment is still listed");
    }

    #[test]
    fn reading_stops_at_the_first_form_that_states_fields() {
        let reader = Scripted {
            calls: Cell::new(0),
            answer: |n| match n {
                0 => Err(Unreadable::Refused("the document is password-protected or encrypted".to_owned())),
                _ => Ok("성명: 김민준\n소속: 한빛테크\n".to_owned()),
            },
        };
        let raw = with_pdfs(5);
        let inbound = parse(&raw, &sha256_hex(&raw), &reader);
        assert_eq!(reader.calls.get(), 2);
        assert_eq!(inbound.fields.organization.as_deref(), Some("한빛테크"));
        assert_eq!(
            inbound.problems,
            ["the form 'form0.pdf' could not be read: the document is password-protected or encrypted"]
        );
    }

    #[test]
    fn a_form_stopped_by_its_budget_is_reported_not_left_as_missing_fields() {
        // A DOCX whose document inflates past the 50 MiB budget (issue #11: staff saw only
        // "missing: organization").
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("word/document.xml", options).unwrap();
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..51 {
            zip.write_all(&zeros).unwrap();
        }
        let docx = zip.finish().unwrap().into_inner();
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&docx);
        let raw = format!(
            "From: Kim <kim@forms.example>\r\nSubject: apply\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe form is attached.\r\n--b\r\nContent-Type: application/octet-stream; name=\"form.docx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b--\r\n"
        );
        let inbound = parse(raw.as_bytes(), &sha256_hex(raw.as_bytes()), &InProcess);
        assert!(
            inbound.problems.iter().any(|p| p.starts_with("the form 'form.docx' could not be read: ")),
            "{:?}",
            inbound.problems
        );
    }

    #[test]
    fn no_forms_reads_nothing_and_reports_nothing() {
        let raw = with_pdfs(3);
        let inbound = parse(&raw, &sha256_hex(&raw), &NoForms);
        assert!(inbound.problems.is_empty(), "{:?}", inbound.problems);
    }
}
