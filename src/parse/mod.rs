//! Raw message bytes → [`Inbound`]: the decoded headers that decisions need, the body text, and
//! the applicant's fields.
//!
//! Parsing never fails. A message that cannot be read still yields an `Inbound` (with whatever
//! could be recovered) and a list of `problems`, so that it is recorded and shown to staff.
//!
//! Three private rooms, each pure (bytes or text in, values out):
//!
//! - `message/`: the message as mail. Absurd structure (thousands of parts, deep nesting) is cut
//!   before parsing; raw 8-bit EUC-KR in the header block, encoded words split inside a
//!   character and ISO-2022-KR words are rewritten as UTF-8 so mail-parser reads them;
//!   mail-parser finds the parts; the text bodies are decoded again from their bytes
//!   (unlabelled, mislabelled and ISO-2022-KR Korean), `format=flowed` is unwrapped, HTML
//!   converted, and the plain or HTML body that states more is picked; the automatic-mail
//!   signals are read.
//! - `applicant/`: text → the applicant. `label: value` lines (and tables and lists of people)
//!   above any quoted mail; an inline forward, whose fields and sender then count; the signature
//!   block and the display name for what no label states; notes, and values that look wrong.
//! - `attachments/`: every attachment listed; attached forms (HWP, HWPX, DOCX, XLSX, PDF, also
//!   inside a `winmail.dat`) turned into text, one file per format.
//!
//! What they read is combined in `reading.rs`: the mail's own text first; when it states no
//! fields, a forwarded mail (inline, or attached as message/rfc822, parsed on its own), the form
//! typed into the quoted announcement, or the attached application form, read through the
//! [`FormReader`] the caller passes — in a child process with resource limits in the daemon
//! (`crate::isolate`), in-process in tests ([`InProcess`]); the subject line when nothing else
//! states a field; then the signature block and the display name where nothing is stated. Each
//! value keeps where it was read ([`Source`]). `verdict.rs` gathers the evidence the
//! classification weighs (`crate::domain::classify`); `context.rs` holds what parsing knows
//! besides the message ([`Context`]: the announcements, the center's address).
//!
//! The door is narrow: [`parse`], [`parse_with`] and [`explain`]; [`Inbound`] and the types of its fields;
//! [`sha256_hex`] and [`synthesized_message_id`] (a message's identity); [`clean_header_text`],
//! [`LOOP_HEADER`] and [`strip_quoted`] for replies and summaries; the form readers' entry
//! ([`FormKind`], [`kind_of`], [`extract_text`], [`Limits`], [`ExtractError`]), which
//! `crate::isolate` runs in its child; and [`steps`] for benchmarks and bounds tests.

mod applicant;
mod attachments;
mod context;
mod explain;
mod message;
mod reading;
mod verdict;

use sha2::{Digest, Sha256};

use crate::domain::{
    auto_reply, classify, looks_like_inquiry, more_attendees, prefers_english, wants_cancellation, ApplicantFields,
    AutoClue, AutoSignals, Clue, EmailAddress, ReturnPath, Verdict,
};
use applicant::Extracted;
use reading::{read_applicant, states, Reading};
use verdict::{clues, evidence_subject, Evidence};

pub use applicant::{strip_quoted, Announcement, FieldSources, Source};
pub use attachments::{
    extract_text, kind_of, Attachment, ExtractError, FormKind, FormReader, InProcess, Limits, NoForms, Unreadable,
};
pub use context::Context;
pub use explain::explain;
pub use message::{clean_header_text, Addressing, LOOP_HEADER};

/// A received message, decoded. Serialized (JSON) where a message is read in a child process
/// (`crate::isolate`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Inbound {
    /// The Message-ID without angle brackets; synthesized from the content hash when missing.
    pub message_id: String,
    pub message_id_synthesized: bool,
    /// Decoded subject, with line breaks and other control characters removed.
    pub subject: Option<String>,
    pub from: Option<EmailAddress>,
    pub from_name: Option<String>,
    pub reply_to: Option<EmailAddress>,
    pub return_path: ReturnPath,
    pub signals: AutoSignals,
    /// The body as plain text (HTML converted), as the applicant wrote it.
    pub text: String,
    /// The applicant's fields: what the mail states, completed from the signature block and
    /// the display name where it states nothing.
    pub fields: ApplicantFields,
    /// The fields the mail states in so many words (labels, tables, lists of people), without
    /// the guesses `fields` adds: what a follow-up mail should be taken to change.
    pub stated: ApplicantFields,
    /// Where each of `fields` (and the applicant's email) came from, for staff.
    pub sources: FieldSources,
    /// An address the mail states under an email label (`이메일: …`); replies still go to the
    /// sender.
    pub stated_email: Option<String>,
    /// Values that were found but look wrong, in words for staff (see `applicant/doubts.rs`); the
    /// application is stored for review with them.
    pub doubts: Vec<String>,
    /// Everyone the mail names as applicant or attendee, in order (usually just the applicant;
    /// empty when no name is stated).
    pub people: Vec<String>,
    /// What the applicant wrote under a remarks label (`비고`, `Notes`), for staff.
    pub notes: Option<String>,
    /// A sentence asks for this many more (negative: fewer) attendees than recorded (`한 명 더
    /// 가도 될까요`); `stated.attendees` then holds the count for a first mail. See
    /// [`Inbound::stated_over`].
    pub more_attendees: Option<i32>,
    /// Whether the mail is an application to the center at all, and the evidence weighed.
    pub verdict: Verdict,
    /// What the words say about the mail being an auto-reply (weighed into
    /// `signals.auto_reply_text`); empty when nothing does.
    pub auto_reply: Vec<AutoClue>,
    /// For a forwarded application (inline or attached as message/rfc822) whose fields are in
    /// the forwarded mail: its original sender, whose application it is.
    pub forwarded_from: Option<EmailAddress>,
    /// The original sender's display name, with `forwarded_from`.
    pub forwarded_from_name: Option<String>,
    /// The applicant asks to cancel their registration.
    pub cancel_requested: bool,
    /// The mail asks staff a question instead of applying.
    pub inquiry: bool,
    /// The applicant wrote in English: answer in English first.
    pub english: bool,
    /// `Authentication-Results` header values, topmost first.
    pub authentication_results: Vec<String>,
    /// Every attachment (name, type, size, hash), including the files in a `winmail.dat` and
    /// the attachments of an attached forward.
    pub attachments: Vec<Attachment>,
    /// What could not be read, in words for staff.
    pub problems: Vec<String>,
    /// Its thread and recipients: which event it is for (see `crate::domain::route`).
    pub addressing: Addressing,
}

/// Problems that say what the mail lacks, not that part of it went unread.
const NO_TEXT_BODY: &str = "no text body";
const NO_FROM: &str = "no readable From address";

impl Inbound {
    /// Whether part of the mail could not be read (a part, a level of nesting or a form cut off
    /// by the limits, structure that is no MIME, text that would not decode): then what was not
    /// read may be the application. A mail that was read whole and holds no text, or no usable
    /// From, was not partly unread: it lacks them.
    pub fn partly_unread(&self) -> bool {
        self.problems.iter().any(|p| p != NO_TEXT_BODY && p != NO_FROM)
    }

    /// What the mail states, as a change to an application that records `recorded`: a count
    /// stated relative to the recorded one (`한 명 더`) is made absolute.
    #[must_use]
    pub fn stated_over(&self, recorded: &ApplicantFields) -> ApplicantFields {
        let mut stated = self.stated.clone();
        if let Some(more) = self.more_attendees {
            stated.attendees = Some(more_attendees(recorded.attendees, more));
        }
        stated
    }
}

/// Hex SHA-256 of the raw bytes: the identity of a message in the database.
pub fn sha256_hex(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

/// A Message-ID for a message that has none, stable for the same bytes.
pub fn synthesized_message_id(sha256: &str) -> String {
    format!("{}@smebridge.invalid", &sha256[..32.min(sha256.len())])
}

/// Parse raw bytes, reading attached forms with `forms`, without an announcement and without
/// knowing the center's address. Never panics on its own account and never fails; see the
/// module docs.
pub fn parse(raw: &[u8], sha256: &str, forms: &dyn FormReader) -> Inbound {
    parse_with(raw, sha256, &Context::new(forms))
}

/// [`parse`] with what else is known: the announcement and the center's address.
pub fn parse_with(raw: &[u8], sha256: &str, context: &Context<'_>) -> Inbound {
    parse_at_depth(raw, sha256, 0, context)
}

/// [`parse`] for the top message (`depth` 0) or a forwarded message attached to it (1), which is
/// never searched for further forwards (nor for forms).
fn parse_at_depth(raw: &[u8], sha256: &str, depth: usize, context: &Context<'_>) -> Inbound {
    let mut problems = Vec::new();
    let (raw, limit_problem) = message::limit(raw);
    problems.extend(limit_problem);
    let repaired = message::repair_headers(raw);
    let Some((message, structure_readable)) = message::mime_parse(&repaired) else {
        problems.push("the message could not be parsed as MIME".to_owned());
        return unreadable(sha256, problems);
    };

    // Cleaned before the emptiness check: a Message-ID of control characters alone is none.
    let (message_id, message_id_synthesized) =
        match message.message_id().map(clean_header_text).filter(|id| !id.is_empty()) {
            Some(id) => (id, false),
            None => (synthesized_message_id(sha256), true),
        };

    let (from, from_name) = message::first_address(message.from());
    if from.is_none() {
        problems.push(NO_FROM.to_owned());
    }
    let (reply_to, _) = message::first_address(message.reply_to());

    let signals = message::auto_signals(&message);
    let return_path = message::return_path(message.header_raw("Return-Path"));

    let body = if structure_readable { message::read_body(&message) } else { message::raw_body(&repaired) };
    // Structure mail-parser could not read has no attachments to list; the raw bytes are kept.
    let attachments =
        if structure_readable { attachments::list(&message, &attachments::Limits::default()) } else { Vec::new() };
    problems.extend(body.problems);
    let text = body.text;
    if text.trim().is_empty() {
        problems.push(NO_TEXT_BODY.to_owned());
    }
    if body.lossy || text.contains('\u{FFFD}') {
        problems.push("the body contains characters that could not be decoded".to_owned());
    }

    let subject = message.subject().map(clean_header_text);
    let (as_read, _) = message::truncate_text(&text, message::MAX_FIELD_TEXT_BYTES);
    let announcement = applicant::answered(context.announcements, as_read, subject.as_deref());
    // The announcement's own lines are never the applicant's, wherever they stand.
    let masked = match announcement {
        Some(announcement) => announcement.mask(as_read),
        None => std::borrow::Cow::Borrowed(as_read),
    };
    let field_text: &str = &masked;
    let mut read = Reading { depth, forms: context.forms, announcement, unmasked: as_read, problems: &mut problems };
    let applicant =
        read_applicant(&message, field_text, body.html, subject.as_deref(), from_name.as_deref(), &mut read);
    let stated = &applicant.stated;
    let states_fields = stated.name.is_some()
        || stated.organization.is_some()
        || stated.phone.is_some()
        || applicant.stated_sources.attendees.as_ref().is_some_and(Source::is_stated)
        || applicant.stated_sources.position.as_ref().is_some_and(Source::is_stated);
    let own_text = applicant::strip_quoted(field_text);
    let cancel_requested = wants_cancellation(subject.as_deref(), own_text, states_fields);
    let inquiry = !cancel_requested && looks_like_inquiry(subject.as_deref(), own_text, states_fields);
    let english = prefers_english(subject.as_deref(), own_text);
    let mut signals = signals;
    let word_clues = applicant::clues_in_words(own_text, evidence_subject(subject.as_deref(), announcement));
    let applies = word_clues.iter().any(|c| matches!(c, Clue::Applies(_)));
    let auto_reply_clues = applicant::auto_reply_clues(subject.as_deref(), own_text, states_fields, applies);
    signals.auto_reply_text = auto_reply(&auto_reply_clues);
    let verdict = classify(clues(&Evidence {
        message: &message,
        center: context.center(),
        announcement,
        text: field_text,
        unmasked: as_read,
        own_text,
        subject: subject.as_deref(),
        applicant: &applicant,
        attachments: &attachments,
        words: word_clues,
    }));
    let authentication_results = message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| clean_header_text(value))
        .collect();
    let (fields, mut sources) = applicant.completed();
    sources.email = match (&applicant.forwarded_from, &from) {
        (Some(_), _) => applicant.sender_source.clone(),
        (None, Some(_)) => Some(Source::Sender),
        (None, None) => None,
    };
    let doubts = applicant::doubts(&Extracted {
        fields: &fields,
        stated_email: applicant.stated_email.as_deref(),
        applicant_email: applicant.forwarded_from.as_ref().or(from.as_ref()),
        unreadable_phone: applicant.unreadable_phone.as_deref(),
        unreadable_attendees: applicant.unreadable_attendees.as_deref(),
    });
    let mut seen = std::collections::HashSet::new();
    problems.retain(|problem| seen.insert(problem.clone()));
    let notes = applicant::find_notes(field_text);
    let more_attendees = applicant.more_attendees;

    Inbound {
        message_id,
        message_id_synthesized,
        subject,
        from,
        from_name,
        reply_to,
        return_path,
        signals,
        text,
        fields,
        stated: applicant.stated,
        sources,
        stated_email: applicant.stated_email,
        doubts,
        people: applicant.people,
        notes,
        more_attendees,
        verdict,
        auto_reply: auto_reply_clues,
        forwarded_from: applicant.forwarded_from,
        forwarded_from_name: applicant.forwarded_from_name,
        cancel_requested,
        inquiry,
        english,
        authentication_results,
        attachments,
        problems,
        addressing: message::addressing(&message),
    }
}

/// An `Inbound` for bytes mail-parser cannot read at all.
fn unreadable(sha256: &str, problems: Vec<String>) -> Inbound {
    Inbound {
        message_id: synthesized_message_id(sha256),
        message_id_synthesized: true,
        subject: None,
        from: None,
        from_name: None,
        reply_to: None,
        return_path: ReturnPath::Absent,
        signals: AutoSignals::default(),
        text: String::new(),
        fields: ApplicantFields::default(),
        stated: ApplicantFields::default(),
        sources: FieldSources::default(),
        stated_email: None,
        doubts: Vec::new(),
        people: Vec::new(),
        notes: None,
        more_attendees: None,
        verdict: Verdict::default(),
        auto_reply: Vec::new(),
        forwarded_from: None,
        forwarded_from_name: None,
        cancel_requested: false,
        inquiry: false,
        english: false,
        authentication_results: Vec::new(),
        attachments: Vec::new(),
        problems,
        addressing: Addressing::default(),
    }
}

/// Single steps of [`parse`] on their own, for the benchmarks and the resource-bound tests that
/// measure one step; the rest of smebridge calls [`parse`].
pub mod steps {
    /// The MIME pre-scan: the part of a message that is parsed, and the problem recorded when
    /// that is not all of it (too many parts, nesting too deep).
    pub use super::message::limit;

    /// Field extraction from a body text as read (labels, tables, lists of people → the
    /// applicant's fields, with where each was read). What it returns is for measuring only.
    pub fn read_fields(text: &str) -> impl std::fmt::Debug {
        super::applicant::read(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(raw: &str) -> Inbound {
        let raw = raw.replace('\n', "\r\n");
        parse(raw.as_bytes(), &sha256_hex(raw.as_bytes()), &InProcess)
    }

    #[test]
    fn a_plain_korean_application() {
        let msg = inbound(
            "From: =?UTF-8?B?6rmA66+87KSA?= <Kim@Hanbit-Tech.Example>\n\
             To: smebridge@kaist.ac.kr\n\
             Subject: =?UTF-8?B?7JuM7YGs7IiNIOywuOqwgCDsi6Dssq0=?=\n\
             Message-ID: <a1@hanbit-tech.example>\n\
             Content-Type: text/plain; charset=utf-8\n\
             \n\
             성명: 김민준\n소속: 한빛테크\n직위: 책임연구원\n연락처: 010-1234-5678\n",
        );
        assert_eq!(inbound_summary(&msg), ("a1@hanbit-tech.example", Some("kim@hanbit-tech.example")));
        assert_eq!(msg.subject.as_deref(), Some("워크숍 참가 신청"));
        assert_eq!(msg.from_name.as_deref(), Some("김민준"));
        assert_eq!(msg.fields.name.as_deref(), Some("김민준"));
        assert_eq!(msg.fields.organization.as_deref(), Some("한빛테크"));
        assert_eq!(msg.fields.position.as_deref(), Some("책임연구원"));
        assert_eq!(msg.fields.phone.as_deref(), Some("010-1234-5678"));
        assert!(msg.problems.is_empty(), "{:?}", msg.problems);
        assert_eq!(msg.signals, AutoSignals::default());
    }

    fn inbound_summary(msg: &Inbound) -> (&str, Option<&str>) {
        (msg.message_id.as_str(), msg.from.as_ref().map(|a| a.as_str()))
    }

    #[test]
    fn euc_kr_labelled_ks_c_5601_is_decoded() {
        let (body, _, _) = encoding_rs::EUC_KR.encode("성명: 이서연\r\n소속: 다온소재\r\n");
        let mut raw = b"From: lee@daon.example\r\nSubject: apply\r\nContent-Type: text/plain; charset=ks_c_5601-1987\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
        raw.extend_from_slice(&body);
        let msg = parse(&raw, &sha256_hex(&raw), &InProcess);
        assert_eq!(msg.fields.name.as_deref(), Some("이서연"));
        assert_eq!(msg.fields.organization.as_deref(), Some("다온소재"));
    }

    #[test]
    fn missing_message_id_is_synthesized_from_the_hash() {
        let msg = inbound("From: a@b.example\nSubject: x\n\nhello\n");
        assert!(msg.message_id_synthesized);
        assert!(msg.message_id.ends_with("@smebridge.invalid"));
        assert_eq!(inbound("From: a@b.example\nSubject: x\n\nhello\n").message_id, msg.message_id);
    }

    #[test]
    fn a_message_id_of_control_characters_is_synthesized() {
        // Found by fuzzing: `Message-ID: NUL` gave an empty id.
        for raw in [
            &b"From: a@b.example\r\nMessage-ID:\0\r\n\r\nhi"[..],
            b"Message-ID: <\x01\x02>\r\n\r\nhi",
            b"Message-ID: \x7f\r\n\r\n",
        ] {
            let msg = parse(raw, &sha256_hex(raw), &InProcess);
            assert!(msg.message_id_synthesized, "{raw:?}");
            assert!(msg.message_id.ends_with("@smebridge.invalid"));
        }
    }

    #[test]
    fn mime_that_trips_mail_parser_is_read_as_headers_and_raw_text() {
        // Found by fuzzing: reaches a debug assertion inside mail-parser 0.11.
        let raw = b"From: a@b.example\nContent-Type:multipart/ix\n\tboundary=\"=_P_1\"n\n\r\nCen--=_P_1Content-Type:message/rfc822\n\x01\x05\r\n\nContent-Type:message/rfc822;\n\n\r\n-----=_P_1--\r\n";
        let msg = parse(raw, &sha256_hex(raw), &InProcess);
        assert_eq!(msg.from.as_ref().map(|a| a.as_str()), Some("a@b.example"));
        if cfg!(debug_assertions) {
            assert!(msg.problems.iter().any(|p| p.contains("too damaged")), "{:?}", msg.problems);
            assert!(msg.text.contains("-----=_P_1--"));
        }
    }

    #[test]
    fn automatic_signals_are_read() {
        let msg = inbound(
            "From: a@b.example\nAuto-Submitted: auto-replied; owner-email=\"a@b.example\"\nPrecedence: bulk\nList-Id: <x.lists.example>\nX-Autoreply: yes\nReturn-Path: <>\nX-Smebridge-Loop: smebridge@kaist.ac.kr\n\nhi\n",
        );
        assert_eq!(msg.signals.auto_submitted.as_deref(), Some("auto-replied"));
        assert_eq!(msg.signals.precedence.as_deref(), Some("bulk"));
        assert!(msg.signals.list_header.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("List-Id")));
        assert!(msg.signals.autoreply_header);
        assert!(msg.signals.loop_marker);
        assert_eq!(msg.return_path, ReturnPath::Null);
    }

    #[test]
    fn reports_are_recognised() {
        let msg = inbound(
            "From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nfailed\n--b--\n",
        );
        assert!(msg.signals.is_report);
    }

    #[test]
    fn an_injected_line_break_in_the_subject_is_removed() {
        // "Hello\r\nBcc: victim@evil.example" as an encoded word.
        let msg =
            inbound("From: a@b.example\nSubject: =?UTF-8?B?SGVsbG8NCkJjYzogdmljdGltQGV2aWwuZXhhbXBsZQ==?=\n\nhi\n");
        let subject = msg.subject.unwrap();
        assert!(!subject.contains('\r') && !subject.contains('\n'), "{subject:?}");
        assert_eq!(subject, "Hello Bcc: victim@evil.example");
    }

    #[test]
    fn garbage_is_recorded_with_a_problem_not_a_panic() {
        for raw in
            [&b""[..], b"\0\0\0", b"\xff\xfe garbage", b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x"]
        {
            let msg = parse(raw, &sha256_hex(raw), &InProcess);
            assert!(!msg.message_id.is_empty());
            assert!(msg.from.is_none());
            assert!(!msg.problems.is_empty());
        }
    }

    #[test]
    fn the_display_name_stands_in_for_a_missing_name() {
        let msg = inbound("From: \"Jane Doe\" <jane@acme.example>\nSubject: Registration\n\nI would like to attend.\nCompany: Acme Robotics\n");
        assert_eq!(msg.fields.name.as_deref(), Some("Jane Doe"));
        assert_eq!(msg.fields.organization.as_deref(), Some("Acme Robotics"));
    }

    #[test]
    fn sources_of_labels_the_sender_and_the_default_count() {
        let msg = inbound("From: =?UTF-8?B?6rmA66+87KSA?= <kim@hanbit.example>\nSubject: apply\nContent-Type: text/plain; charset=utf-8\n\n신청합니다.\n성명: 김민준\n소속: 한빛테크\n");
        assert_eq!(msg.sources.name, Some(Source::Label { line: 2, label: "성명".into() }));
        assert_eq!(msg.sources.organization, Some(Source::Label { line: 3, label: "소속".into() }));
        assert_eq!(msg.sources.email, Some(Source::Sender));
        assert_eq!(msg.sources.attendees, Some(Source::Default));
        assert_eq!(msg.sources.phone, None);
    }

    #[test]
    fn cells_of_an_html_body_are_html_table_cells() {
        let msg = inbound("From: a@b.example\nContent-Type: text/html; charset=utf-8\n\n<p>신청서</p><table><tr><td>성명</td><td>김민준</td></tr><tr><td>소속</td><td>한빛테크</td></tr></table>\n");
        assert_eq!(msg.sources.name, Some(Source::TableCell { line: 2, label: "성명".into(), html: true }));
        assert_eq!(msg.sources.organization.map(|s| s.to_string()).as_deref(), Some("HTML table, line 3, cell '소속'"));
    }

    #[test]
    fn guesses_are_sourced_to_the_signature_or_the_display_name() {
        let msg = inbound("From: \"Jane Doe\" <jane@acme.example>\nSubject: Registration\n\nI would like to attend.\n\nBest regards,\nJane Doe\nAcme Robotics Inc.\n");
        assert_eq!(msg.sources.name, Some(Source::Signature));
        assert_eq!(msg.sources.organization, Some(Source::Signature));
        let msg = inbound("From: \"Jane Doe\" <jane@acme.example>\nSubject: Registration\n\nI would like to attend.\nCompany: Acme Robotics\n");
        assert_eq!(msg.sources.name, Some(Source::DisplayName));
        assert_eq!(msg.sources.organization, Some(Source::Label { line: 2, label: "Company".into() }));
    }

    #[test]
    fn an_inline_forward_counts_lines_of_the_whole_body() {
        let msg = inbound(
            "From: assistant@hanbit.example\nSubject: Fwd: apply\nContent-Type: text/plain; charset=utf-8\n\n전달합니다.\n\n---------- Forwarded message ---------\nFrom: 김민준 <kim@hanbit.example>\nDate: Wed, 9 Nov 2022\n\n성명: 김민준\n소속: 한빛테크\n",
        );
        let line_of = |needle: &str| msg.text.lines().position(|l| l == needle).map(|i| i + 1);
        let name_line = line_of("성명: 김민준").unwrap();
        assert_eq!(msg.sources.name, Some(Source::Label { line: name_line, label: "성명".into() }.forwarded(false)));
        assert_eq!(msg.sources.email, Some(Source::Sender.forwarded(false)));
        assert_eq!(msg.sources.name.unwrap().to_string(), format!("forwarded mail, line {name_line}, label '성명'"));
    }

    #[test]
    fn doubts_are_on_the_inbound_and_in_explain() {
        let msg = inbound("From: kim@hanbit.example\nContent-Type: text/plain; charset=utf-8\n\n성명: 김민준\n소속: info@hanbit.example\n");
        assert_eq!(
            msg.doubts,
            ["doubtful: organization \"info@hanbit.example\" is an email or web address, not a name"]
        );
        let explained = explain(&msg);
        assert!(explained.contains("organization  info@hanbit.example  ← line 2, label '소속'\n"), "{explained}");
        assert!(explained.contains("doubts        doubtful: organization"), "{explained}");
    }
}
