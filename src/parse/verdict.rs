//! The evidence a mail's classification weighs (`crate::domain::classify`): where the center
//! is among the recipients, what the applicant states, an attached form, the words of their own
//! text, and whether it passes on the center's own mail.

use mail_parser::PartType;

use super::applicant;
use super::reading::Applicant;
use super::{clean_header_text, kind_of, message, Announcement, Attachment, FormKind, Source};
use crate::domain::{Clue, EmailAddress};

/// The subject as evidence of applying: none when it is the announcement's own (`RE: …`), whose
/// words are the center's.
pub(super) fn evidence_subject<'a>(subject: Option<&'a str>, announcement: Option<&Announcement>) -> Option<&'a str> {
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
pub(super) struct Evidence<'a> {
    pub(super) message: &'a mail_parser::Message<'a>,
    pub(super) center: Option<&'a EmailAddress>,
    pub(super) announcement: Option<&'a Announcement>,
    /// The body text as read (announcement lines blanked).
    pub(super) text: &'a str,
    /// The same before the announcement's lines were blanked.
    pub(super) unmasked: &'a str,
    /// The sender's own part of it.
    pub(super) own_text: &'a str,
    pub(super) subject: Option<&'a str>,
    pub(super) applicant: &'a Applicant,
    pub(super) attachments: &'a [Attachment],
    /// The clues in the sender's words.
    pub(super) words: Vec<Clue>,
}

/// Every clue of whether the mail applies to the center (weighed by [`classify`]): the
/// recipients, the words, what is stated and where, attached forms, and what is passed on.
pub(super) fn clues(e: &Evidence<'_>) -> Vec<Clue> {
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
