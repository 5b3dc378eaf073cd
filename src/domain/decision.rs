//! What to do with a message, decided from facts alone.
//!
//! The rules follow RFC 3834 (automatic responses) and RFC 5230 (vacation): never answer mail
//! that is itself automatic, list traffic, a bounce or report, or our own; judge the deadline on
//! the time the mail *arrived at the server* (IMAP INTERNALDATE), never the sender's `Date:`.

use jiff::Timestamp;

use super::{Classified, EmailAddress, Status};

/// The envelope sender as the final server recorded it in `Return-Path:`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReturnPath {
    /// No `Return-Path:` header (e.g. a message put in the mailbox by APPEND).
    Absent,
    /// `Return-Path: <>`: a bounce or another message that must not be answered.
    Null,
    Address(String),
}

/// The header signals that mark a message as automatic.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AutoSignals {
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    /// The name of the first `List-*` header, if any.
    pub list_header: Option<String>,
    pub x_auto_response_suppress: Option<String>,
    /// `X-Autoreply` or `X-Autorespond` is present.
    pub autoreply_header: bool,
    /// The top-level type is `multipart/report` (delivery, disposition or feedback report).
    pub is_report: bool,
    /// Our own loop-marker header is present: this is one of our replies coming back.
    pub loop_marker: bool,
    /// No header says so, but the words do (a subject prefix like `[자동회신]`, a body about
    /// being away until a date): why, as weighed by [`super::auto_reply`].
    pub auto_reply_text: Option<String>,
    /// The `Sender` header's address: a list server names itself there (`list-bounces@…`,
    /// `owner-…@…`) when it keeps the author's From.
    pub sender_header: Option<String>,
}

/// Why a message is recorded but never answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Automatic {
    AutoSubmitted(String),
    Precedence(String),
    MailingList(String),
    SuppressAutoReply(String),
    AutoReplyHeader,
    Report,
    NullReturnPath,
    SystemSender(String),
    OwnAddress,
    OwnLoopMarker,
    NoSender,
    /// An auto-reply by its words alone (see [`AutoSignals::auto_reply_text`]).
    AutoReplyText(String),
}

impl Automatic {
    /// A short, stable label for the database and logs.
    pub fn label(&self) -> String {
        match self {
            Automatic::AutoSubmitted(v) => format!("auto-submitted: {v}"),
            Automatic::Precedence(v) => format!("precedence: {v}"),
            Automatic::MailingList(h) => format!("list header: {h}"),
            Automatic::SuppressAutoReply(v) => format!("x-auto-response-suppress: {v}"),
            Automatic::AutoReplyHeader => "x-autoreply header".into(),
            Automatic::Report => "multipart/report".into(),
            Automatic::NullReturnPath => "empty return path".into(),
            Automatic::SystemSender(s) => format!("system sender: {s}"),
            Automatic::OwnAddress => "our own address".into(),
            Automatic::OwnLoopMarker => "our own reply".into(),
            Automatic::NoSender => "no usable sender address".into(),
            Automatic::AutoReplyText(why) => format!("auto-reply by its words ({why})"),
        }
    }
}

/// Is this message automatic (and so must never be answered)? `None` means a person wrote it.
pub fn automatic_reason(
    signals: &AutoSignals,
    return_path: &ReturnPath,
    sender: Option<&EmailAddress>,
    own: &EmailAddress,
) -> Option<Automatic> {
    if signals.loop_marker {
        return Some(Automatic::OwnLoopMarker);
    }
    if let Some(value) = &signals.auto_submitted {
        if !value.trim().eq_ignore_ascii_case("no") && !value.trim().is_empty() {
            return Some(Automatic::AutoSubmitted(value.trim().to_ascii_lowercase()));
        }
    }
    if let Some(value) = &signals.precedence {
        let v = value.trim().to_ascii_lowercase();
        if matches!(v.as_str(), "bulk" | "list" | "junk") {
            return Some(Automatic::Precedence(v));
        }
    }
    if let Some(header) = &signals.list_header {
        return Some(Automatic::MailingList(header.clone()));
    }
    if let Some(value) = &signals.x_auto_response_suppress {
        let suppresses = value
            .split(',')
            .map(|v| v.trim().to_ascii_lowercase())
            .any(|v| matches!(v.as_str(), "all" | "oof" | "autoreply"));
        if suppresses {
            return Some(Automatic::SuppressAutoReply(value.trim().to_owned()));
        }
    }
    if signals.autoreply_header {
        return Some(Automatic::AutoReplyHeader);
    }
    if let Some(why) = &signals.auto_reply_text {
        return Some(Automatic::AutoReplyText(why.clone()));
    }
    if signals.is_report {
        return Some(Automatic::Report);
    }
    if let Some(sender) = signals.sender_header.as_deref().filter(|s| is_list_address(s)) {
        return Some(Automatic::MailingList(format!("Sender: {}", sender.to_ascii_lowercase())));
    }
    match return_path {
        ReturnPath::Null => return Some(Automatic::NullReturnPath),
        ReturnPath::Address(a) if is_system_address(a) => return Some(Automatic::SystemSender(a.to_ascii_lowercase())),
        _ => {}
    }
    let Some(sender) = sender else {
        return Some(Automatic::NoSender);
    };
    if sender.same_mailbox(own) {
        return Some(Automatic::OwnAddress);
    }
    if is_system_address(sender.as_str()) {
        return Some(Automatic::SystemSender(sender.as_str().to_owned()));
    }
    None
}

/// The addresses a list server sends as (in `Sender`, keeping the author's From). Narrower than
/// [`is_system_address`]: a `Sender: noreply@…` of a web form or groupware sending for a person
/// does not make their application automatic.
fn is_list_address(address: &str) -> bool {
    let local = address.rsplit_once('@').map(|(l, _)| l).unwrap_or(address).to_ascii_lowercase();
    matches!(local.as_str(), "listserv" | "majordomo")
        || local.ends_with("-request")
        || local.starts_with("owner-")
        || local.ends_with("-bounces")
        || local.contains("-bounces+")
}

/// Addresses that belong to software, not people: bounces, list managers, "do not reply".
fn is_system_address(address: &str) -> bool {
    let local = address.rsplit_once('@').map(|(l, _)| l).unwrap_or(address).to_ascii_lowercase();
    let squashed: String = local.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    matches!(local.as_str(), "mailer-daemon" | "postmaster" | "listserv" | "majordomo")
        || squashed.starts_with("noreply")
        || squashed.starts_with("donotreply")
        || squashed.starts_with("donotrespond")
        || local.ends_with("-request")
        || local.starts_with("owner-")
        || local.ends_with("-bounces")
}

/// Mail that arrived after the deadline is late. The deadline instant itself is on time.
pub fn is_late(arrived_at: Timestamp, deadline: Timestamp) -> bool {
    arrived_at > deadline
}

/// What we already know about this applicant, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    pub status: Status,
}

/// Everything [`decide`] needs.
#[derive(Debug, Clone)]
pub struct Facts {
    pub arrived_at: Timestamp,
    pub deadline: Timestamp,
    pub automatic: Option<Automatic>,
    /// A different copy of a message with the same Message-ID was already recorded (the same mail
    /// delivered twice, e.g. once to an alias and once directly).
    pub duplicate_message_id: bool,
    /// The sender could not be authenticated as required (see [`super::auth_verdict`]): why.
    pub unauthenticated: Option<String>,
    /// The applicant asks to cancel (see [`super::wants_cancellation`]).
    pub cancel_requested: bool,
    /// The mail asks a question rather than applying (see [`super::looks_like_inquiry`]).
    pub inquiry: bool,
    /// Whether it is an application to the center at all (see [`super::classify`]).
    pub classified: Classified,
    /// The application the sender's address made for the event (applicants are matched by address
    /// only: see [`super::namesakes`]).
    pub existing: Option<Existing>,
    /// With no application of its own, the mail states the name and organization of an
    /// application another address made (see [`super::namesakes`]). It changes nothing about
    /// that application: it only turns a request for "my" record into a question for staff.
    pub namesake: bool,
    /// The mail asks for the sender's registration record (see [`super::is_status_request`]).
    pub status_request: bool,
    /// How many people the mail registers (1 unless it says otherwise).
    pub attendees: u32,
    /// Places left under the event's capacity, if it has one.
    pub seats_left: Option<i64>,
    /// The mail could not be given to one event (see [`super::route`]); `existing` and the
    /// deadline then mean nothing.
    pub unrouted: bool,
    /// It arrived before applications opened (see [`super::skipped_before_opens`]).
    pub before_opens: bool,
}

/// What happens to a message. Every message is recorded whatever the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Automatic mail: recorded, never answered.
    Ignore(Automatic),
    /// Another copy of a message we already have: recorded, not processed again.
    Duplicate,
    /// The sender failed the required authentication: the application is stored for staff to
    /// review, and nothing is sent to an address that may be forged.
    Hold(String),
    /// A question for staff, not an application.
    Inquiry,
    /// The applicant's first mail: a new application with this status (accepted, waitlisted or
    /// late).
    Register(Status),
    /// On time, from someone already registered: their fields are updated.
    Update,
    /// Late, from someone registered on time: the registration stands, changes need staff.
    AfterDeadline,
    /// Late again, from someone already told they were late: recorded, no second rejection.
    Repeat,
    /// A registered applicant cancels (accepted at any time, also after the deadline).
    Cancel,
    /// A cancelled applicant applies again before the deadline: the application reopens with this
    /// status (accepted, or waitlisted when the event is full).
    Reopen(Status),
    /// A cancelled applicant applies again after the deadline: told it is too late.
    ReopenLate,
    /// A cancellation from an address with no application: recorded for staff, not answered.
    CancelUnknown,
    /// Not an application (written to someone else, or nothing in it applies and the sender
    /// has no application): recorded for staff, never answered, changes nothing.
    NotAnApplication,
    /// Before applications opened: recorded, never answered, not an application.
    BeforeOpens,
    /// For no event we can tell (or several): recorded for staff to assign. `ask`: the sender may
    /// be asked which event they mean (not when their address may be forged).
    Unrouted { ask: bool },
}

pub fn decide(facts: &Facts) -> Decision {
    if let Some(reason) = &facts.automatic {
        return Decision::Ignore(reason.clone());
    }
    if facts.duplicate_message_id {
        return Decision::Duplicate;
    }
    if facts.before_opens {
        return Decision::BeforeOpens;
    }
    // Mail to someone else is no application for any event: nobody is asked which one.
    if facts.classified == Classified::AddressedElsewhere {
        return Decision::NotAnApplication;
    }
    let unrouted = Decision::Unrouted { ask: facts.unauthenticated.is_none() };
    let late = is_late(facts.arrived_at, facts.deadline);
    let existing = facts.existing.map(|e| e.status);
    if facts.cancel_requested {
        if facts.unrouted {
            return unrouted;
        }
        return match existing {
            None => Decision::CancelUnknown,
            Some(Status::Accepted | Status::Waitlisted) => Decision::Cancel,
            Some(Status::Cancelled | Status::Late) => Decision::Repeat,
        };
    }
    if facts.inquiry {
        return Decision::Inquiry;
    }
    // "Is 김민수 registered?" from an address with no application, naming another address's
    // application: for staff to answer, never registered as a new application (nor told anything).
    if facts.status_request && facts.namesake && existing.is_none() && !facts.unrouted {
        return Decision::Inquiry;
    }
    // Nothing in it applies: from someone registered (for the event it was routed to) a
    // follow-up that changes nothing; otherwise nothing to register, and no one to ask.
    if facts.classified == Classified::NothingApplies && (existing.is_none() || facts.unrouted) {
        return Decision::NotAnApplication;
    }
    if facts.unrouted {
        return unrouted;
    }
    if let Some(reason) = &facts.unauthenticated {
        if existing.is_none() {
            return Decision::Hold(reason.clone());
        }
    }
    let fits = facts.seats_left.is_none_or(|left| i64::from(facts.attendees) <= left);
    let on_time_status = if fits { Status::Accepted } else { Status::Waitlisted };
    match (existing, late) {
        (None, false) => Decision::Register(on_time_status),
        (None, true) => Decision::Register(Status::Late),
        (Some(Status::Late), _) => Decision::Repeat,
        (Some(Status::Cancelled), false) => Decision::Reopen(on_time_status),
        (Some(Status::Cancelled), true) => Decision::ReopenLate,
        (Some(_), false) => Decision::Update,
        (Some(_), true) => Decision::AfterDeadline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn own() -> EmailAddress {
        EmailAddress::parse("smebridge@kaist.ac.kr").unwrap()
    }

    fn applicant() -> EmailAddress {
        EmailAddress::parse("kim@hanbit-tech.example").unwrap()
    }

    fn person(signals: AutoSignals) -> Option<Automatic> {
        automatic_reason(&signals, &ReturnPath::Address("kim@hanbit-tech.example".into()), Some(&applicant()), &own())
    }

    fn facts(arrived: &str) -> Facts {
        Facts {
            arrived_at: ts(arrived),
            deadline: ts("2022-11-17T23:59:59+09:00"),
            automatic: None,
            duplicate_message_id: false,
            unauthenticated: None,
            cancel_requested: false,
            inquiry: false,
            classified: Classified::Application,
            existing: None,
            namesake: false,
            status_request: false,
            attendees: 1,
            seats_left: None,
            unrouted: false,
            before_opens: false,
        }
    }

    #[test]
    fn mail_before_opens_is_skipped_and_unrouted_mail_waits_for_staff() {
        let mut f = facts("2022-11-16T09:00:00+09:00");
        f.before_opens = true;
        f.cancel_requested = true;
        assert_eq!(decide(&f), Decision::BeforeOpens, "before opens, nothing is answered, not even a cancellation");
        f.automatic = Some(Automatic::AutoReplyHeader);
        assert_eq!(decide(&f), Decision::Ignore(Automatic::AutoReplyHeader), "automatic mail stays automatic");

        let mut f = facts("2022-11-16T09:00:00+09:00");
        f.unrouted = true;
        assert_eq!(decide(&f), Decision::Unrouted { ask: true });
        f.cancel_requested = true;
        assert_eq!(decide(&f), Decision::Unrouted { ask: true }, "which registration to cancel?");
        f.cancel_requested = false;
        f.inquiry = true;
        assert_eq!(decide(&f), Decision::Inquiry, "a question needs no event");
        f.inquiry = false;
        f.unauthenticated = Some("dmarc=fail".into());
        assert_eq!(decide(&f), Decision::Unrouted { ask: false }, "no question to an address that may be forged");
    }

    #[test]
    fn cancellations() {
        let mut f = facts("2022-11-18T09:00:00+09:00");
        f.cancel_requested = true;
        assert_eq!(decide(&f), Decision::CancelUnknown);
        f.existing = Some(Existing { status: Status::Accepted });
        assert_eq!(decide(&f), Decision::Cancel, "a cancellation after the deadline still counts");
        f.existing = Some(Existing { status: Status::Cancelled });
        assert_eq!(decide(&f), Decision::Repeat);
        f.cancel_requested = false;
        assert_eq!(decide(&f), Decision::ReopenLate, "reopening after the deadline is late");
        f.arrived_at = ts("2022-11-16T09:00:00+09:00");
        assert_eq!(decide(&f), Decision::Reopen(Status::Accepted));
        f.seats_left = Some(0);
        assert_eq!(decide(&f), Decision::Reopen(Status::Waitlisted));
    }

    /// The same name and organization as another address's application: a namesake is a new
    /// applicant; their cancellation finds no application of theirs; their request for the
    /// record is a question for staff.
    #[test]
    fn a_namesake_from_another_address_is_a_new_applicant_and_touches_nothing() {
        let mut f = facts("2022-11-16T09:00:00+09:00");
        f.namesake = true;
        assert_eq!(decide(&f), Decision::Register(Status::Accepted), "a second 김민수 gets their own seat");
        f.arrived_at = ts("2022-11-18T09:00:00+09:00");
        assert_eq!(decide(&f), Decision::Register(Status::Late), "late like any new applicant");
        f.arrived_at = ts("2022-11-16T09:00:00+09:00");
        f.cancel_requested = true;
        assert_eq!(decide(&f), Decision::CancelUnknown, "cancels nothing: for staff");
        f.cancel_requested = false;
        f.classified = Classified::NothingApplies;
        assert_eq!(decide(&f), Decision::NotAnApplication, "changes nothing: for staff");
        f.classified = Classified::Application;
        f.status_request = true;
        assert_eq!(decide(&f), Decision::Inquiry, "asking for someone else's record: for staff");
        f.unauthenticated = Some("dmarc=fail".into());
        assert_eq!(decide(&f), Decision::Inquiry, "whoever sent it");
        f.unauthenticated = None;
        f.namesake = false;
        assert_eq!(decide(&f), Decision::Register(Status::Accepted), "no namesake: a status request is no question");
        f.namesake = true;
        f.existing = Some(Existing { status: Status::Accepted });
        assert_eq!(
            decide(&f),
            Decision::Update,
            "from the address's own application: its own record (answered by the pipeline)"
        );
    }

    #[test]
    fn capacity_waitlists_what_does_not_fit() {
        let mut f = facts("2022-11-16T09:00:00+09:00");
        f.seats_left = Some(2);
        f.attendees = 2;
        assert_eq!(decide(&f), Decision::Register(Status::Accepted));
        f.attendees = 3;
        assert_eq!(decide(&f), Decision::Register(Status::Waitlisted));
        f.seats_left = None;
        assert_eq!(decide(&f), Decision::Register(Status::Accepted), "no capacity, no limit");
        f.arrived_at = ts("2022-11-18T09:00:00+09:00");
        f.seats_left = Some(0);
        assert_eq!(decide(&f), Decision::Register(Status::Late), "late is late, full or not");
    }

    #[test]
    fn inquiries_and_unauthenticated_senders() {
        let mut f = facts("2022-11-16T09:00:00+09:00");
        f.inquiry = true;
        assert_eq!(decide(&f), Decision::Inquiry);
        f.inquiry = false;
        f.unauthenticated = Some("dmarc=fail".into());
        assert_eq!(decide(&f), Decision::Hold("dmarc=fail".into()));
        f.automatic = Some(Automatic::Report);
        assert_eq!(decide(&f), Decision::Ignore(Automatic::Report), "automatic mail first");
    }

    #[test]
    fn mail_that_is_not_an_application() {
        let mut f = facts("2022-11-16T09:00:00+09:00");
        f.classified = Classified::AddressedElsewhere;
        assert_eq!(decide(&f), Decision::NotAnApplication);
        f.existing = Some(Existing { status: Status::Accepted });
        assert_eq!(decide(&f), Decision::NotAnApplication, "written to someone else: no update either");
        f.cancel_requested = true;
        assert_eq!(decide(&f), Decision::NotAnApplication, "nor a cancellation");
        f.cancel_requested = false;
        f.classified = Classified::NothingApplies;
        assert_eq!(decide(&f), Decision::Update, "a registered applicant's thank-you: an update that changes nothing");
        f.existing = None;
        assert_eq!(decide(&f), Decision::NotAnApplication, "from anyone else: nothing to register");
        f.cancel_requested = true;
        assert_eq!(decide(&f), Decision::CancelUnknown, "a cancellation is weighed before");
        f.cancel_requested = false;
        f.inquiry = true;
        assert_eq!(decide(&f), Decision::Inquiry, "so is a question");
        f.inquiry = false;
        f.automatic = Some(Automatic::AutoReplyText("score 3".into()));
        assert_eq!(decide(&f), Decision::Ignore(Automatic::AutoReplyText("score 3".into())));
    }

    #[test]
    fn mail_that_is_not_an_application_is_never_asked_which_event() {
        let mut f = facts("2022-11-16T09:00:00+09:00");
        f.unrouted = true;
        assert_eq!(decide(&f), Decision::Unrouted { ask: true }, "an application for no event we can tell");
        f.classified = Classified::AddressedElsewhere;
        assert_eq!(decide(&f), Decision::NotAnApplication, "written to someone else");
        f.classified = Classified::NothingApplies;
        assert_eq!(decide(&f), Decision::NotAnApplication, "a thank-you");
        f.existing = Some(Existing { status: Status::Accepted });
        assert_eq!(decide(&f), Decision::NotAnApplication, "a thank-you for no event we can tell changes nothing");
        f.before_opens = true;
        assert_eq!(decide(&f), Decision::BeforeOpens, "before applications opened, whatever it is");
    }

    #[test]
    fn an_auto_reply_by_its_words_is_automatic() {
        let signals = AutoSignals {
            auto_reply_text: Some("score 3: subject starts with \"[자동회신]\" +3".into()),
            ..Default::default()
        };
        let reason = person(signals).unwrap();
        assert_eq!(reason.label(), "auto-reply by its words (score 3: subject starts with \"[자동회신]\" +3)");
    }

    #[test]
    fn one_minute_either_side_of_the_deadline_in_seoul() {
        assert!(!is_late(ts("2022-11-17T23:58:59+09:00"), ts("2022-11-17T23:59:59+09:00")));
        assert!(!is_late(ts("2022-11-17T23:59:59+09:00"), ts("2022-11-17T23:59:59+09:00")));
        assert!(is_late(ts("2022-11-18T00:00:59+09:00"), ts("2022-11-17T23:59:59+09:00")));
        // 15:00 UTC on the 17th is already midnight in Seoul.
        assert!(is_late(ts("2022-11-17T15:00:00Z"), ts("2022-11-17T23:59:59+09:00")));
    }

    #[test]
    fn first_mail_registers_on_time_or_late() {
        assert_eq!(decide(&facts("2022-11-17T23:58:59+09:00")), Decision::Register(Status::Accepted));
        assert_eq!(decide(&facts("2022-11-18T00:00:59+09:00")), Decision::Register(Status::Late));
    }

    #[test]
    fn later_mail_from_a_known_applicant() {
        let mut f = facts("2022-11-16T10:00:00+09:00");
        f.existing = Some(Existing { status: Status::Accepted });
        assert_eq!(decide(&f), Decision::Update);
        f.arrived_at = ts("2022-11-18T10:00:00+09:00");
        assert_eq!(decide(&f), Decision::AfterDeadline);
        f.existing = Some(Existing { status: Status::Late });
        assert_eq!(decide(&f), Decision::Repeat);
    }

    #[test]
    fn automatic_mail_and_duplicates_are_never_answered() {
        let mut f = facts("2022-11-16T10:00:00+09:00");
        f.duplicate_message_id = true;
        assert_eq!(decide(&f), Decision::Duplicate);
        f.automatic = Some(Automatic::AutoReplyHeader);
        assert_eq!(decide(&f), Decision::Ignore(Automatic::AutoReplyHeader));
    }

    #[test]
    fn auto_submitted_other_than_no() {
        let signals = |v: &str| AutoSignals { auto_submitted: Some(v.into()), ..Default::default() };
        assert_eq!(person(signals("auto-replied")), Some(Automatic::AutoSubmitted("auto-replied".into())));
        assert_eq!(person(signals("Auto-Generated")), Some(Automatic::AutoSubmitted("auto-generated".into())));
        assert_eq!(person(signals("no")), None);
        assert_eq!(person(signals(" No ")), None);
    }

    #[test]
    fn precedence_lists_and_suppression() {
        let p = |v: &str| AutoSignals { precedence: Some(v.into()), ..Default::default() };
        assert!(person(p("bulk")).is_some());
        assert!(person(p("List")).is_some());
        assert!(person(p("junk")).is_some());
        assert_eq!(person(p("first-class")), None);
        let list = AutoSignals { list_header: Some("List-Id".into()), ..Default::default() };
        assert_eq!(person(list), Some(Automatic::MailingList("List-Id".into())));
        let s = |v: &str| AutoSignals { x_auto_response_suppress: Some(v.into()), ..Default::default() };
        assert!(person(s("All")).is_some());
        assert!(person(s("DR, OOF")).is_some());
        assert!(person(s("AutoReply")).is_some());
        assert_eq!(person(s("DR, RN")), None);
        assert!(person(AutoSignals { autoreply_header: true, ..Default::default() }).is_some());
        assert!(person(AutoSignals { is_report: true, ..Default::default() }).is_some());
        assert_eq!(person(AutoSignals { loop_marker: true, ..Default::default() }), Some(Automatic::OwnLoopMarker));
        // A list that keeps the author's From names itself in Sender; a secretary sending for
        // the boss does not make the mail automatic.
        let sender = |v: &str| AutoSignals { sender_header: Some(v.into()), ..Default::default() };
        assert_eq!(
            person(sender("workshop-bounces@lists.example")),
            Some(Automatic::MailingList("Sender: workshop-bounces@lists.example".into()))
        );
        assert!(person(sender("owner-workshop@lists.example")).is_some());
        assert!(person(sender("workshop-bounces+kim=hanbit-tech.example@lists.example")).is_some());
        assert_eq!(person(sender("secretary@hanbit-tech.example")), None);
        assert_eq!(person(sender("noreply@groupware.example")), None, "a form or groupware sending for a person");
    }

    #[test]
    fn bounces_system_senders_and_ourselves() {
        let signals = AutoSignals::default();
        let me = own();
        let check = |rp: ReturnPath, sender: &str| {
            let s = EmailAddress::parse(sender).unwrap();
            automatic_reason(&signals, &rp, Some(&s), &me)
        };
        // The center's plus-addresses (routing by event uses them) are its own address too.
        let plus = me.as_str().replacen('@', "+ws-2211@", 1);
        let rp = || ReturnPath::Address("x@y.example".into());
        assert_eq!(check(rp(), &plus), Some(Automatic::OwnAddress), "{plus}");
        assert_eq!(check(rp(), &plus.to_uppercase()), Some(Automatic::OwnAddress));
        let other = me.as_str().replacen('@', "x@", 1);
        assert_eq!(check(rp(), &other), None, "{other} is someone else");
        assert_eq!(check(ReturnPath::Null, "kim@hanbit-tech.example"), Some(Automatic::NullReturnPath));
        assert!(check(ReturnPath::Address("MAILER-DAEMON@mx.example".into()), "kim@hanbit-tech.example").is_some());
        for system in [
            "mailer-daemon@mx.example",
            "postmaster@mx.example",
            "noreply@shop.example",
            "no-reply@shop.example",
            "no_reply@shop.example",
            "do-not-reply@shop.example",
            "donotreply@shop.example",
            "workshop-request@lists.example",
            "owner-workshop@lists.example",
        ] {
            assert!(check(ReturnPath::Absent, system).is_some(), "{system} must not be answered");
        }
        assert_eq!(check(ReturnPath::Absent, "smebridge@kaist.ac.kr"), Some(Automatic::OwnAddress));
        assert_eq!(check(ReturnPath::Absent, "noh.minji@hanbit-tech.example"), None, "a person named Noh is a person");
        assert_eq!(automatic_reason(&signals, &ReturnPath::Absent, None, &me), Some(Automatic::NoSender));
    }
}
