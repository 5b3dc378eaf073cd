//! The applicant, from what the rooms read: the mail's own text first; when it states no
//! fields, a forwarded mail (inline, or attached and parsed on its own), the form typed into the
//! quoted announcement, or the attached application form; the subject line when nothing else
//! states a field; then the signature block and the display name where nothing is stated.

use mail_parser::PartType;

use super::applicant::{self, Fields, Guess};
use super::{
    attachments, message, parse_at_depth, sha256_hex, Announcement, Context, FieldSources, FormReader, Inbound, Source,
};
use crate::domain::{ApplicantFields, EmailAddress};

/// Whose application a message carries and what it says.
pub(super) struct Applicant {
    /// What the mail states (labels, tables, lists).
    pub(super) stated: ApplicantFields,
    /// Where each stated field was read.
    pub(super) stated_sources: FieldSources,
    /// An address stated under an email label.
    pub(super) stated_email: Option<String>,
    pub(super) people: Vec<String>,
    /// Guesses from the signature block and the display name.
    pub(super) guess: Guess,
    /// Where each guess came from.
    pub(super) guess_sources: FieldSources,
    /// The display name as written: the last resort for the name.
    pub(super) display_name: Option<String>,
    /// Where the display name is (the sender's, or a forwarded mail's sender's).
    pub(super) display_source: Source,
    pub(super) forwarded_from: Option<EmailAddress>,
    pub(super) forwarded_from_name: Option<String>,
    /// With `forwarded_from`: the source of the applicant's email.
    pub(super) sender_source: Option<Source>,
    /// A phone label whose value holds no phone number (see [`applicant::Reading`]).
    pub(super) unreadable_phone: Option<String>,
    /// An attendees label whose value is no usable count.
    pub(super) unreadable_attendees: Option<String>,
    /// A count stated relative to the recorded one (see [`Inbound::more_attendees`]).
    pub(super) more_attendees: Option<i32>,
}

impl Applicant {
    /// The stated fields, completed with the guesses where they say nothing, and where each
    /// came from.
    pub(super) fn completed(&self) -> (ApplicantFields, FieldSources) {
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
pub(super) struct Reading<'a> {
    pub(super) depth: usize,
    pub(super) forms: &'a dyn FormReader,
    pub(super) announcement: Option<&'a Announcement>,
    /// The text before the announcement's lines were blanked (the same lines): what the quoted
    /// form is read from.
    pub(super) unmasked: &'a str,
    pub(super) problems: &'a mut Vec<String>,
}

/// Reads the applicant (see [`read_body_applicant`]); when nothing in the body, a forward or a
/// form states a field, from the subject line (phone mailers put everything there).
pub(super) fn read_applicant(
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
pub(super) fn states(found: &Fields) -> bool {
    found.name.is_some() || found.organization.is_some() || found.phone.is_some()
}

fn states_reading(found: &Fields) -> bool {
    states(found)
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

pub(super) fn merge_fields(first: ApplicantFields, then: ApplicantFields) -> ApplicantFields {
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
pub(super) fn attached_message(message: &mail_parser::Message<'_>, context: &Context<'_>) -> Option<Inbound> {
    let part = message
        .attachments
        .iter()
        .filter_map(|&id| message.parts.get(usize::try_from(id).ok()?))
        .find(|part| matches!(part.body, PartType::Message(_)))?;
    let bytes = message::part_bytes(message, part)?;
    Some(parse_at_depth(&bytes, &sha256_hex(&bytes), 1, context))
}
