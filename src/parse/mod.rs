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
//! What they read is combined here: the mail's own text first; when it states no fields, a
//! forwarded mail (inline, or attached as message/rfc822, parsed on its own) or the attached
//! application form, read through the [`FormReader`] the caller passes — in a child process
//! with resource limits in the daemon (`crate::isolate`), in-process in tests ([`InProcess`]);
//! then the signature block and the display name where nothing is stated. Each value keeps
//! where it was read ([`Source`]).
//!
//! The door is narrow: [`parse`] and [`explain`]; [`Inbound`] and the types of its fields;
//! [`sha256_hex`] and [`synthesized_message_id`] (a message's identity); [`clean_header_text`],
//! [`LOOP_HEADER`] and [`strip_quoted`] for replies and summaries; the form readers' entry
//! ([`FormKind`], [`kind_of`], [`extract_text`], [`Limits`], [`ExtractError`]), which
//! `crate::isolate` runs in its child; and [`steps`] for benchmarks and bounds tests.

mod applicant;
mod attachments;
mod explain;
mod message;

use mail_parser::PartType;
use sha2::{Digest, Sha256};

use crate::domain::{
    auto_reply, classify, looks_like_inquiry, more_attendees, prefers_english, wants_cancellation, ApplicantFields,
    AutoClue, AutoSignals, Clue, EmailAddress, ReturnPath, Verdict,
};
use applicant::{Extracted, Fields, Guess};

pub use applicant::{strip_quoted, Announcement, FieldSources, Source};
pub use attachments::{
    extract_text, kind_of, Attachment, ExtractError, FormKind, FormReader, InProcess, Limits, NoForms, Unreadable,
};
pub use explain::explain;
pub use message::{clean_header_text, Addressing, LOOP_HEADER};

/// A received message, decoded.
#[derive(Debug, Clone)]
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

impl Inbound {
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

/// What parsing knows besides the message: how attached forms are read, the announcements the
/// center sent, one per event (their text is never data; see `applicant/announcement.rs`), and
/// the center's address (whether the mail is addressed to it).
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub forms: &'a dyn FormReader,
    pub announcements: &'a [&'a Announcement],
    /// The center's address; `None`: the first announcement's sender, if any, else unknown (the
    /// recipients are then not weighed).
    pub center: Option<&'a EmailAddress>,
}

impl<'a> Context<'a> {
    /// Forms read with `forms`; no announcement, the center unknown.
    pub fn new(forms: &'a dyn FormReader) -> Context<'a> {
        Context { forms, announcements: &[], center: None }
    }

    fn center(&self) -> Option<&'a EmailAddress> {
        self.center.or_else(|| self.announcements.iter().find_map(|a| a.sender()))
    }
}

impl Announcement {
    /// The announcement from a file: a whole message (`.eml`, as the center sent it; its body is
    /// read as any mail's) or plain text (UTF-8 or EUC-KR).
    pub fn read(raw: &[u8]) -> Announcement {
        let header_end = message::header_block_end(raw);
        let looks_like_mail = header_end > 0 && {
            let head = String::from_utf8_lossy(&raw[..header_end]).to_ascii_lowercase();
            ["\nfrom:", "\nsubject:", "\ncontent-type:", "\nmime-version:"]
                .iter()
                .any(|h| format!("\n{head}").contains(h))
        };
        if looks_like_mail {
            let repaired = message::repair_headers(raw);
            if let Some((mail, readable)) = message::mime_parse(&repaired) {
                let body = if readable { message::read_body(&mail) } else { message::raw_body(&repaired) };
                let (sender, _) = message::first_address(mail.from());
                let subject = mail.subject().map(clean_header_text);
                return Announcement::from_text(&body.text, sender, subject);
            }
        }
        Announcement::from_text(&message::decode_charset(raw, None).text, None, None)
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
        problems.push("no readable From address".to_owned());
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
        problems.push("no text body".to_owned());
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

/// Whose application a message carries and what it says.
struct Applicant {
    /// What the mail states (labels, tables, lists).
    stated: ApplicantFields,
    /// Where each stated field was read.
    stated_sources: FieldSources,
    /// An address stated under an email label.
    stated_email: Option<String>,
    people: Vec<String>,
    /// Guesses from the signature block and the display name.
    guess: Guess,
    /// Where each guess came from.
    guess_sources: FieldSources,
    /// The display name as written: the last resort for the name.
    display_name: Option<String>,
    /// Where the display name is (the sender's, or a forwarded mail's sender's).
    display_source: Source,
    forwarded_from: Option<EmailAddress>,
    forwarded_from_name: Option<String>,
    /// With `forwarded_from`: the source of the applicant's email.
    sender_source: Option<Source>,
    /// A phone label whose value holds no phone number (see [`applicant::Reading`]).
    unreadable_phone: Option<String>,
    /// An attendees label whose value is no usable count.
    unreadable_attendees: Option<String>,
    /// A count stated relative to the recorded one (see [`Inbound::more_attendees`]).
    more_attendees: Option<i32>,
}

impl Applicant {
    /// The stated fields, completed with the guesses where they say nothing, and where each
    /// came from.
    fn completed(&self) -> (ApplicantFields, FieldSources) {
        let stated = self.stated.clone();
        let guess = self.guess.clone();
        // A source only where its value is used: the first of stated, guessed, display name.
        let pick = |stated: &Option<String>,
                    stated_source: &Option<Source>,
                    guess: &Option<String>,
                    guess_source: &Option<Source>| {
            match (stated, guess) {
                (Some(_), _) => stated_source.clone(),
                (None, Some(_)) => guess_source.clone(),
                (None, None) => None,
            }
        };
        let (s, g) = (&self.stated_sources, &self.guess_sources);
        let name_source = pick(&stated.name, &s.name, &guess.name, &g.name)
            .or_else(|| self.display_name.as_ref().map(|_| self.display_source.clone()));
        let sources = FieldSources {
            name: name_source,
            organization: pick(&stated.organization, &s.organization, &guess.organization, &g.organization),
            position: pick(&stated.position, &s.position, &guess.position, &g.position),
            phone: pick(&stated.phone, &s.phone, &guess.phone, &g.phone),
            email: None,
            stated_email: self.stated_email.as_ref().and(s.stated_email.clone()),
            attendees: if stated.attendees.is_some() { s.attendees.clone() } else { Some(Source::Default) },
        };
        let fields = ApplicantFields {
            name: stated.name.or(guess.name).or_else(|| self.display_name.clone()),
            organization: stated.organization.or(guess.organization),
            position: stated.position.or(guess.position),
            phone: stated.phone.or(guess.phone),
            attendees: stated.attendees,
        };
        (fields, sources)
    }
}

/// Guesses from the signature block of `text` and from the display name, the signature first,
/// with where each came from.
fn guesses(text: &str, display_name: Option<&str>) -> (Guess, FieldSources) {
    let signed = applicant::from_signature(applicant::strip_quoted(text));
    let display = display_name.map(applicant::from_display_name).unwrap_or_default();
    let source = |in_signature: bool, in_display: bool| {
        if in_signature {
            Some(Source::Signature)
        } else if in_display {
            Some(Source::DisplayName)
        } else {
            None
        }
    };
    let sources = FieldSources {
        name: source(signed.name.is_some(), display.name.is_some()),
        organization: source(signed.organization.is_some(), display.organization.is_some()),
        position: source(signed.position.is_some(), display.position.is_some()),
        phone: source(signed.phone.is_some(), display.phone.is_some()),
        ..FieldSources::default()
    };
    (signed.or(display), sources)
}

/// How [`read_applicant`] reads: at which depth, with which form reader and announcement, and
/// where to put what it cannot read.
struct Reading<'a> {
    depth: usize,
    forms: &'a dyn FormReader,
    announcement: Option<&'a Announcement>,
    /// The text before the announcement's lines were blanked (the same lines): what the quoted
    /// form is read from.
    unmasked: &'a str,
    problems: &'a mut Vec<String>,
}

/// Reads the applicant (see [`read_body_applicant`]); when nothing in the body, a forward or a
/// form states a field, from the subject line (phone mailers put everything there).
fn read_applicant(
    message: &mail_parser::Message<'_>,
    text: &str,
    html: bool,
    subject: Option<&str>,
    from_name: Option<&str>,
    read: &mut Reading<'_>,
) -> Applicant {
    let found = read_body_applicant(message, text, html, subject, from_name, read);
    let states = found.stated.name.is_some() || found.stated.organization.is_some() || found.stated.phone.is_some();
    if states || read.depth > 0 {
        return found;
    }
    let Some(subject) = subject else { return found };
    let in_subject = applicant::read_subject(subject);
    if !states_reading(&in_subject.fields) {
        return found;
    }
    let none = (Guess::default(), FieldSources::default());
    Applicant { people: in_subject.fields.people.clone(), ..found }.then(Applicant::own(in_subject, none, None))
}

/// Reads the applicant from the sender's own text (with what they typed into the quoted form of
/// the announcement, when it is known), or — when that states no fields and the mail forwards
/// one that does — from the forwarded mail (inline, or attached as message/rfc822), or from an
/// attached form. `html`: the text is the HTML body converted.
fn read_body_applicant(
    message: &mail_parser::Message<'_>,
    text: &str,
    html: bool,
    subject: Option<&str>,
    from_name: Option<&str>,
    read: &mut Reading<'_>,
) -> Applicant {
    let mut own = applicant::read(text);
    if let Some(answers) = read.announcement.and_then(|a| a.quoted_answers(read.unmasked)) {
        own = own.or(answers);
    }
    if html {
        own.sources = own.sources.map(Source::in_html);
    }
    if read.depth > 0 || states(&own.fields) {
        return Applicant::own(own, guesses(text, from_name), from_name);
    }
    if let Some(forward) = applicant::find_inline_forward(text, subject) {
        let mut theirs = applicant::read(&forward.body);
        if states(&theirs.fields) {
            // Line numbers in the forwarded body are lines of the body as read.
            let inside = |source: Source| {
                let source = source.shifted(forward.lines_before);
                if html { source.in_html() } else { source }.forwarded(false)
            };
            theirs.sources = theirs.sources.map(inside);
            let (guess, guess_sources) = guesses(&forward.body, forward.name.as_deref());
            let sender_source = forward.from.as_ref().map(|_| Source::Sender.forwarded(false));
            let forwarded_from = forward.from.clone();
            let forwarded_from_name = forward.name.clone();
            return Applicant {
                guess,
                guess_sources: guess_sources.map(|s| s.forwarded(false)),
                display_name: forward.name.clone(),
                display_source: Source::DisplayName.forwarded(false),
                forwarded_from,
                forwarded_from_name,
                sender_source,
                ..merged(own, theirs)
            };
        }
    }
    if let Some(inner) = attached_message(message, &Context::new(read.forms)) {
        let inner_states =
            inner.stated.name.is_some() || inner.stated.organization.is_some() || inner.stated.phone.is_some();
        if inner_states {
            let inside = |source: Source| source.forwarded(true);
            let guess = Guess {
                name: inner.fields.name.clone(),
                organization: inner.fields.organization.clone(),
                position: inner.fields.position.clone(),
                phone: inner.fields.phone.clone(),
            };
            // The inner mail's stated fields are those whose source is stated; its completed
            // fields are the guesses, with their own sources.
            let inner_sources = inner.sources.clone().map(inside);
            let stated_sources = FieldSources {
                name: inner.stated.name.as_ref().and(inner_sources.name.clone()),
                organization: inner.stated.organization.as_ref().and(inner_sources.organization.clone()),
                position: inner.stated.position.as_ref().and(inner_sources.position.clone()),
                phone: inner.stated.phone.as_ref().and(inner_sources.phone.clone()),
                email: None,
                stated_email: inner_sources.stated_email.clone(),
                attendees: inner.stated.attendees.and(inner_sources.attendees.clone()),
            };
            let theirs = Applicant {
                stated: inner.stated,
                stated_sources,
                stated_email: inner.stated_email,
                people: inner.people,
                more_attendees: inner.more_attendees,
                ..Applicant::own(applicant::Reading::default(), (Guess::default(), FieldSources::default()), None)
            };
            let none = (Guess::default(), FieldSources::default());
            let statements = Applicant::own(own, none, None).then(theirs);
            return Applicant {
                guess,
                guess_sources: inner_sources,
                display_name: inner.from_name.clone(),
                display_source: Source::DisplayName.forwarded(true),
                sender_source: inner.from.as_ref().map(|_| Source::Sender.forwarded(true)),
                forwarded_from: inner.from,
                forwarded_from_name: inner.from_name,
                ..statements
            };
        }
    }
    let forms = attachments::attached_form(message, read.forms);
    read.problems.extend(forms.problems);
    if let Some((attachment, mut form)) = forms.found {
        // The application form filled in and attached: its fields, completed by what the mail
        // itself says.
        form.sources = form.sources.map(|source| source.in_form(&attachment));
        let guessed = guesses(text, from_name);
        let mine = Applicant::own(own, guessed, from_name);
        return mine.then(Applicant::own(form, (Guess::default(), FieldSources::default()), None));
    }
    Applicant::own(own, guesses(text, from_name), from_name)
}

impl Applicant {
    /// The applicant of the sender's own text, with the guesses `guessed` and the sender's
    /// display name.
    fn own(found: applicant::Reading, guessed: (Guess, FieldSources), display_name: Option<&str>) -> Applicant {
        let (guess, guess_sources) = guessed;
        Applicant {
            stated: stated_fields(&found.fields),
            stated_sources: found.sources,
            stated_email: found.fields.email,
            people: found.fields.people,
            guess,
            guess_sources,
            display_name: display_name.map(str::to_owned),
            display_source: Source::DisplayName,
            forwarded_from: None,
            forwarded_from_name: None,
            sender_source: None,
            unreadable_phone: found.unreadable_phone,
            unreadable_attendees: found.unreadable_attendees,
            more_attendees: found.more_attendees,
        }
    }

    /// `self`'s statements first, then `then`'s (the forwarder's own words before the forwarded
    /// mail's, the mail's before its attached form's); the people `self` names, else `then`'s;
    /// `self`'s guesses and everything else.
    fn then(self, then: Applicant) -> Applicant {
        let more_attendees = if self.stated.attendees.is_some() { self.more_attendees } else { then.more_attendees };
        let merged = merged_reading(self.stated, self.stated_sources, then.stated, then.stated_sources);
        Applicant {
            more_attendees,
            stated: merged.0,
            stated_sources: merged.1,
            stated_email: self.stated_email.or(then.stated_email),
            people: if self.people.is_empty() { then.people } else { self.people },
            unreadable_phone: self.unreadable_phone.or(then.unreadable_phone),
            unreadable_attendees: self.unreadable_attendees.or(then.unreadable_attendees),
            ..self
        }
    }
}

/// Whether extracted fields state anything that makes an application: a name, an organization
/// or a phone number.
fn states(found: &Fields) -> bool {
    found.name.is_some() || found.organization.is_some() || found.phone.is_some()
}

fn states_reading(found: &Fields) -> bool {
    states(found)
}

/// The subject as evidence of applying: none when it is the announcement's own (`RE: …`), whose
/// words are the center's.
fn evidence_subject<'a>(subject: Option<&'a str>, announcement: Option<&Announcement>) -> Option<&'a str> {
    let subject = subject?;
    let own = announcement.and_then(Announcement::subject).map(clean_header_text);
    let bare = subject
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_alphabetic() || matches!(c, ':' | ' ' | '[' | ']'))
        .trim();
    match own {
        Some(own) if !own.is_empty() && (subject.ends_with(&own) || own.ends_with(bare)) => None,
        _ => Some(subject),
    }
}

/// What the clues are gathered from.
struct Evidence<'a> {
    message: &'a mail_parser::Message<'a>,
    center: Option<&'a EmailAddress>,
    announcement: Option<&'a Announcement>,
    /// The body text as read (announcement lines blanked).
    text: &'a str,
    /// The same before the announcement's lines were blanked.
    unmasked: &'a str,
    /// The sender's own part of it.
    own_text: &'a str,
    subject: Option<&'a str>,
    applicant: &'a Applicant,
    attachments: &'a [Attachment],
    /// The clues in the sender's words.
    words: Vec<Clue>,
}

/// Every clue of whether the mail applies to the center (weighed by [`classify`]): the
/// recipients, the words, what is stated and where, attached forms, and what is passed on.
fn clues(e: &Evidence<'_>) -> Vec<Clue> {
    let mut clues = Vec::new();
    if let Some(center) = e.center {
        let named = |list: Option<&mail_parser::Address<'_>>| -> (bool, bool) {
            let Some(list) = list else { return (false, false) };
            let mut center_named = false;
            let mut others = false;
            for addr in list.iter() {
                match addr.address().and_then(|a| EmailAddress::parse(a).ok()) {
                    Some(a) if &a == center => center_named = true,
                    Some(_) => others = true,
                    None => {}
                }
            }
            (center_named, others)
        };
        let (in_to, others_in_to) = named(e.message.to());
        let (in_cc, _) = named(e.message.cc());
        clues.push(match (in_to, in_cc) {
            (true, _) => Clue::CenterInTo,
            (false, true) if others_in_to => Clue::CenterOnlyInCc,
            _ => Clue::CenterNotNamed,
        });
    }
    let mut words = e.words.clone();
    // A greeting first, in the order the mail reads.
    words.sort_by_key(|c| !matches!(c, Clue::GreetsCenter(_) | Clue::GreetsSomeoneElse(_)));
    let (greetings, rest): (Vec<Clue>, Vec<Clue>) =
        words.into_iter().partition(|c| matches!(c, Clue::GreetsCenter(_) | Clue::GreetsSomeoneElse(_)));
    clues.extend(greetings);
    let a = e.applicant;
    let stated = [
        (a.stated.name.is_some(), &a.stated_sources.name),
        (a.stated.organization.is_some(), &a.stated_sources.organization),
        (a.stated.phone.is_some(), &a.stated_sources.phone),
        (a.stated.position.is_some(), &a.stated_sources.position),
        (a.stated.attendees.is_some(), &a.stated_sources.attendees),
    ];
    let first_stated =
        stated.into_iter().filter(|(has, _)| *has).find_map(|(_, source)| source.clone().filter(Source::is_stated));
    if let Some(source) = first_stated {
        clues.push(Clue::StatesFields(source.to_string()));
    }
    let is_form = |a: &&Attachment| {
        let kind = kind_of(Some(&a.name), Some(&a.content_type), &[]);
        a.within.is_none() && kind.is_some_and(|k| k != FormKind::Text)
    };
    if let Some(form) = e.attachments.iter().find(is_form) {
        clues.push(Clue::AttachesForm(form.name.clone()));
    }
    clues.extend(rest);
    let below = &e.text[e.own_text.len().min(e.text.len())..];
    let inline = applicant::find_inline_forward(e.text, e.subject);
    let attached = attached_sender(e.message);
    let forwards = e.subject.is_some_and(applicant::is_forward_subject) || inline.is_some() || attached.is_some();
    if forwards {
        let from_center = |sender: Option<&EmailAddress>| e.center.is_some_and(|c| sender == Some(c));
        let inline_sender = inline.as_ref().and_then(|f| f.from.as_ref());
        let unmasked_below = &e.unmasked[applicant::strip_quoted(e.unmasked).len()..];
        let announcement_below = e.announcement.is_some_and(|a| a.share_in(unmasked_below) >= 0.5);
        if from_center(inline_sender) || from_center(attached.as_ref()) || announcement_below {
            clues.push(Clue::PassesOnCentersMail);
        }
    }
    let nothing_own = e.own_text.trim_matches(char::is_whitespace).is_empty();
    if nothing_own && (!below.trim().is_empty() || attached.is_some()) {
        clues.push(Clue::NothingOfTheirOwn);
    }
    clues
}

/// The sender of a message attached as message/rfc822, if there is one.
fn attached_sender(message: &mail_parser::Message<'_>) -> Option<EmailAddress> {
    message.attachments.iter().filter_map(|&id| message.parts.get(usize::try_from(id).ok()?)).find_map(|part| {
        match &part.body {
            PartType::Message(inner) => message::first_address(inner.from()).0,
            _ => None,
        }
    })
}

fn stated_fields(found: &Fields) -> ApplicantFields {
    ApplicantFields {
        name: found.name.clone(),
        organization: found.organization.clone(),
        position: found.position.clone(),
        phone: found.phone.clone(),
        attendees: found.attendees,
    }
}

/// The forwarder's own statements first, then the forwarded mail's (people likewise), as an
/// applicant whose other parts the caller fills in.
fn merged(own: applicant::Reading, theirs: applicant::Reading) -> Applicant {
    let none = || (Guess::default(), FieldSources::default());
    Applicant::own(own, none(), None).then(Applicant::own(theirs, none(), None))
}

/// Two sets of stated fields merged, first statement wins, with their sources.
fn merged_reading(
    first: ApplicantFields,
    first_sources: FieldSources,
    then: ApplicantFields,
    then_sources: FieldSources,
) -> (ApplicantFields, FieldSources) {
    // A field's source goes with its value: take each from the side whose value is used.
    let side = |first_has: bool, a: Option<Source>, b: Option<Source>| if first_has { a } else { b };
    let sources = FieldSources {
        name: side(first.name.is_some(), first_sources.name, then_sources.name),
        organization: side(first.organization.is_some(), first_sources.organization, then_sources.organization),
        position: side(first.position.is_some(), first_sources.position, then_sources.position),
        phone: side(first.phone.is_some(), first_sources.phone, then_sources.phone),
        email: None,
        stated_email: first_sources.stated_email.or(then_sources.stated_email),
        attendees: side(first.attendees.is_some(), first_sources.attendees, then_sources.attendees),
    };
    (merge_fields(first, then), sources)
}

fn merge_fields(first: ApplicantFields, then: ApplicantFields) -> ApplicantFields {
    ApplicantFields {
        name: first.name.or(then.name),
        organization: first.organization.or(then.organization),
        position: first.position.or(then.position),
        phone: first.phone.or(then.phone),
        attendees: first.attendees.or(then.attendees),
    }
}

/// The first message attached as message/rfc822 (Outlook's "forward as attachment"), parsed on
/// its own.
fn attached_message(message: &mail_parser::Message<'_>, context: &Context<'_>) -> Option<Inbound> {
    let part = message
        .attachments
        .iter()
        .filter_map(|&id| message.parts.get(usize::try_from(id).ok()?))
        .find(|part| matches!(part.body, PartType::Message(_)))?;
    let bytes = message::part_bytes(message, part)?;
    Some(parse_at_depth(&bytes, &sha256_hex(&bytes), 1, context))
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
