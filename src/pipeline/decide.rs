//! Stage 5 of the pipeline: decide about a parsed message ([`crate::domain::decide`], from what
//! it says and what the database knows) and record the outcome, the application change and the
//! reply it causes in one transaction; give places freed by a cancellation to the waiting list.
//!
//! A message is first given to an event ([`crate::domain::route`]: its thread, a plus-address or
//! subject tag, keywords, the only event open); everything after that (the applicant found by
//! address, namesakes from other addresses noted for staff, the deadline, the seats, "one reply of a kind per applicant") is that
//! event's. What no rule gives to one event is recorded as unrouted, for staff to assign
//! (`assign.rs`), and its sender is asked which event they mean.

use anyhow::{Context, Result};
use jiff::Timestamp;
use tracing::{debug, error, info, instrument, Span};

use super::{Parsed, Processed, Read, Rules};
use crate::config::{Config, EventConfig};
use crate::domain::{
    auth_verdict, automatic_reason, decide, is_status_request, namesake_note, reply_address, route,
    skipped_before_opens, Addressed, ApplicantFields, Automatic, Change, Decision, EmailAddress, EventId, EventRouting,
    Existing, Facts, Outcome, ReplyAddress, Route, RouteReason, Status, NAMESAKE_NOTE,
};
use crate::parse::Inbound;
use crate::reply::{application_number, Addressee, CalendarSent, Replier, ReplyFacts, ReplyKind};
use crate::store::{
    Application, ApplicationWrite, Details, MailboxUid, MessageOutcome, NewReply, Reading, Store, NO_DETAILS,
};

/// Stage 5: decide about one parsed message and record the outcome and everything that follows
/// from it (application, reply) in one transaction (the batch's group, when inside one), at
/// `now`.
#[instrument(skip_all, fields(uid = at.uid, message_id, event, outcome))]
pub fn decide_and_store(
    store: &mut Store,
    rules: Rules<'_>,
    at: MailboxUid<'_>,
    parsed: Parsed,
    now: Timestamp,
) -> Result<Processed> {
    let Rules { config, replier } = rules;
    let Parsed { arrived_at, sha256, too_large, read, .. } = parsed;
    if store.record_known_bytes(at, &sha256)? {
        debug!("already recorded (same bytes)");
        return Ok(Processed::AlreadyRecorded);
    }
    let mut inbound = match read {
        Read::Read(inbound) => *inbound,
        Read::Held(reason) => return super::hold(store, at, Reading { sha256: &sha256, arrived_at }, reason, now),
        // Known bytes not recorded with an outcome after all: the same bytes earlier in the
        // batch were left unread. Left for the next pass, like them.
        Read::Known | Read::NotRead => return Ok(Processed::Left),
    };
    let reading = Reading { sha256: &sha256, arrived_at };
    if let Some(size) = too_large {
        // Only the headers were fetched: record it for staff, decide nothing from a body we
        // do not have.
        inbound.problems.push(format!("too large ({size} bytes): only the headers were kept"));
        let message = outcome_of(&inbound, Outcome::TooLarge, Some(format!("{size} bytes")), &NO_DETAILS, None);
        store.finish_reading(at, reading, &message, &ApplicationWrite::None, now, |_| Ok(None))?;
        info!(outcome = Outcome::TooLarge.as_str(), size, "message recorded (headers only)");
        return Ok(Processed::Recorded { outcome: Outcome::TooLarge, reply: None });
    }
    Span::current().record("message_id", inbound.message_id.as_str());

    let verdict = consider(store, config, &mut inbound, arrived_at, None)?;
    let details = details(&inbound, &verdict.plan.write);
    let message = outcome_of(&inbound, verdict.plan.outcome, verdict.detail.clone(), &details, verdict.routed());
    let committed = store
        .finish_reading(at, reading, &message, &verdict.plan.write, now, |application_id| {
            Ok(verdict.render(replier, &inbound, arrived_at, &sha256, application_id))
        })
        .context("cannot record the message")?;
    let reply = committed.reply.and(verdict.plan.reply);
    verdict.follow_up(store, rules, now)?;
    info!(
        outcome = verdict.plan.outcome.as_str(),
        reply = reply.map(|k| k.as_str()).unwrap_or("none"),
        reply_to_header = inbound.reply_to.is_some(),
        "message recorded"
    );
    Ok(Processed::Recorded { outcome: verdict.plan.outcome, reply })
}

/// What was decided about a message, and what it causes.
pub(super) struct Verdict<'c> {
    /// The event the message went to, and why (`None`: no event concerned, or none found).
    event: Option<(&'c EventConfig, RouteReason)>,
    pub(super) plan: Plan,
    /// Why, in words, for the message row (automatic, held, unrouted, before opens).
    pub(super) detail: Option<String>,
    /// For the question which event a sender means: the events it lists.
    listed: Vec<&'c EventConfig>,
    /// The calendar files the application was sent before (for the reply's own).
    calendar: CalendarSent,
}

impl<'c> Verdict<'c> {
    pub(super) fn routed(&self) -> Option<(&'c EventId, RouteReason)> {
        self.event.map(|(event, reason)| (&event.id, reason))
    }

    /// The reply the plan asks for, rendered; `None` when there is none (or no one to send it to).
    pub(super) fn render(
        &self,
        replier: &Replier,
        inbound: &Inbound,
        arrived_at: Timestamp,
        sha256: &str,
        application_id: Option<i64>,
    ) -> Option<NewReply> {
        let (Some(kind), Some(to)) = (self.plan.reply, reply_recipient(inbound)) else { return None };
        let event = self.event.map(|(e, _)| e).or(self.listed.first().copied())?;
        let addressee = Addressee {
            to,
            display_name: applicant_name(inbound),
            subject: inbound.subject.as_deref(),
            in_reply_to: &inbound.message_id,
            answers_sha256: sha256,
        };
        let facts = ReplyFacts {
            event,
            open_events: &self.listed,
            application_id,
            english: inbound.english,
            fields: &self.plan.fields,
            arrived_at,
            changes: &self.plan.changes,
            calendar: self.calendar,
            status: self.plan.status,
            withdrawn: None,
        };
        render_or_log(replier, kind, &addressee, &facts)
    }

    /// After the commit: a cancellation frees places for the event's waiting list.
    pub(super) fn follow_up(&self, store: &mut Store, rules: Rules<'_>, now: Timestamp) -> Result<()> {
        if let (Outcome::Cancelled, Some((event, _))) = (self.plan.outcome, self.event) {
            promote_waitlisted_for(store, rules, event, now)?;
        }
        Ok(())
    }
}

/// Decide about `inbound`, which arrived at `arrived_at`: route it to an event (or take
/// `assigned`, staff's choice), then everything [`decide`] needs from that event and the
/// database, then the plan. Notes for staff are added to `inbound.problems`.
pub(super) fn consider<'c>(
    store: &Store,
    config: &'c Config,
    inbound: &mut Inbound,
    arrived_at: Timestamp,
    assigned: Option<&'c EventConfig>,
) -> Result<Verdict<'c>> {
    let own = config.own_address();
    let automatic = automatic_reason(&inbound.signals, &inbound.return_path, inbound.from.as_ref(), &own);
    // A message staff assign is recorded already: its own Message-ID is no duplicate.
    let duplicate_message_id =
        assigned.is_none() && !inbound.message_id_synthesized && store.message_id_seen(&inbound.message_id)?;
    let unauthenticated =
        auth_verdict(&inbound.authentication_results, &config.security.authserv_id, config.security.require_auth);

    let events: Vec<EventRouting<'_>> = config.events.iter().map(EventConfig::routing).collect();
    let (route, before_opens) = match assigned {
        Some(event) => {
            let index = config.events.iter().position(|e| e.id == event.id).unwrap_or(0);
            (Route::To { event: index, reason: RouteReason::Staff }, false)
        }
        // Mail that is answered by no one needs no event (and no look-ups to find one).
        None if automatic.is_some() || duplicate_message_id => (Route::Unrouted { candidates: Vec::new() }, false),
        None => {
            let route = route_message(store, config, &events, inbound, arrived_at)?;
            let before = skipped_before_opens(&events, &route, arrived_at);
            (route, before)
        }
    };
    let concerned = automatic.is_none() && !duplicate_message_id;
    let event = match &route {
        Route::To { event, reason } if concerned => Some((&config.events[*event], *reason)),
        _ => None,
    };
    if let Some((event, reason)) = event {
        Span::current().record("event", event.id.as_str());
        debug!(event = event.id.as_str(), reason = reason.as_str(), "routed");
    }
    let existing = match event {
        Some((event, _)) => existing_application(store, inbound, &event.id)?,
        None => None,
    };
    // With no application of its own: other addresses' applications with this name and
    // organization, for staff to judge (never to be changed, cancelled or shown by this mail).
    let namesakes = match (event, &existing) {
        (Some((event, _)), None) => store.namesakes(&event.id, &inbound.fields)?,
        _ => Vec::new(),
    };
    let namesake_note = namesake_note(&namesakes.iter().map(|&id| application_number(id)).collect::<Vec<_>>());
    if !namesakes.is_empty() {
        debug!(
            namesakes = namesakes.len(),
            "no application for this address; the same name and organization elsewhere"
        );
    }
    let seats_left = match event.and_then(|(e, _)| e.capacity.map(|c| (e, c))) {
        Some((event, capacity)) => Some(i64::from(capacity) - store.seats_taken(&event.id)?),
        None => None,
    };
    let decision = decide(&Facts {
        arrived_at,
        deadline: event.map_or(arrived_at, |(e, _)| e.deadline),
        automatic: automatic.clone(),
        duplicate_message_id,
        unauthenticated: unauthenticated.clone(),
        cancel_requested: inbound.cancel_requested,
        inquiry: inbound.inquiry,
        // The problems are what could not be read (see `Inbound::problems`).
        classified: crate::domain::unless_unread(inbound.verdict.classified, inbound.partly_unread()),
        existing: existing.as_ref().map(|a| Existing { status: a.status }),
        namesake: namesake_note.is_some(),
        status_request: is_status_request(inbound.subject.as_deref(), crate::parse::strip_quoted(&inbound.text)),
        attendees: inbound.fields.attendees.unwrap_or(1),
        seats_left,
        unrouted: event.is_none(),
        before_opens,
    });

    note_reply_to(inbound);
    // In the review of the application it makes, and on the message.
    inbound.problems.extend(namesake_note.clone());
    let mut plan = plan(&decision, inbound, existing.as_ref(), event.map(|(e, _)| &e.id));
    if let Some(app) = existing.as_ref().filter(|app| asks_for_status(inbound, app, plan.outcome)) {
        plan = Plan::status(app);
    }
    // The events a question which event a sender means lists: the open ones among those the mail
    // could be for, else every open one; with none open there is nothing to ask.
    let listed: Vec<&EventConfig> = match (&decision, &route) {
        (Decision::Unrouted { .. }, Route::Unrouted { candidates }) => {
            let open = |i: &usize| events[*i].open_at(arrived_at);
            let among: Vec<usize> = candidates.iter().copied().filter(open).collect();
            let chosen = if among.is_empty() { (0..events.len()).filter(open).collect() } else { among };
            chosen.into_iter().map(|i| &config.events[i]).collect()
        }
        _ => Vec::new(),
    };
    match plan.reply {
        Some(ReplyKind::Inquiry) if !config.replies.answer_inquiries || event.is_none() => plan.reply = None,
        Some(ReplyKind::WhichEvent) if listed.is_empty() => plan.reply = None,
        _ => {}
    }
    let recipient = reply_recipient(inbound);
    if let (Some(kind), Some(to)) = (plan.reply, recipient) {
        let for_event = event.filter(|_| kind != ReplyKind::WhichEvent).map(|(e, _)| &e.id);
        if kind.once_per_applicant() && store.reply_kind_queued_for(to, kind, for_event)? {
            debug!(kind = kind.as_str(), "a reply of this kind was already sent to this address");
            plan.reply = None;
        }
    }
    Span::current().record("outcome", plan.outcome.as_str());

    let base = match (&automatic, &decision, &route) {
        (Some(a), _, _) => Some(a.label()),
        (None, Decision::Hold(reason), _) => Some(format!("{HELD}{reason}")),
        (None, Decision::NotAnApplication, _) => Some(format!("not an application: {}", inbound.verdict)),
        (None, Decision::Unrouted { .. }, Route::Unrouted { candidates }) => Some(unrouted_detail(config, candidates)),
        (None, Decision::BeforeOpens, _) => Some(before_opens_detail(event.map(|(e, _)| e))),
        _ => None,
    };
    // The namesake note on a line of its own (see [`held_review_of`]; the summary shows it).
    let detail = match (base, namesake_note) {
        (Some(base), Some(note)) => Some(format!("{base}\n{note}")),
        (base, note) => base.or(note),
    };
    let calendar = match (&plan.reply, &plan.write) {
        (Some(_), ApplicationWrite::Update { id, .. } | ApplicationWrite::Touch { id }) => store.calendar_sent(*id)?,
        _ => CalendarSent::default(),
    };
    Ok(Verdict { event, plan, detail, listed, calendar })
}

/// Route `inbound` among `events` (the configuration's, in order): its thread is looked up
/// among the replies smebridge sent and the announcements staff registered.
fn route_message(
    store: &Store,
    config: &Config,
    events: &[EventRouting<'_>],
    inbound: &Inbound,
    arrived_at: Timestamp,
) -> Result<Route> {
    if events.len() == 1 {
        // The one event takes everything (as `route` says); nothing to look up.
        return Ok(Route::To { event: 0, reason: RouteReason::OnlyEvent });
    }
    let ids: Vec<&str> = inbound.addressing.thread.iter().map(String::as_str).collect();
    let mut thread = store.events_of_replies(&ids)?;
    for event in &config.events {
        if event.announcement_message_ids.iter().any(|a| ids.contains(&a.as_str())) {
            thread.push(event.id.clone());
        }
    }
    let own_text = crate::parse::strip_quoted(&inbound.text);
    Ok(route(
        events,
        &config.own_address(),
        &Addressed {
            thread: &thread,
            recipients: &inbound.addressing.recipients,
            subject: inbound.subject.as_deref(),
            text: own_text,
            arrived_at,
        },
    ))
}

/// For staff: which events an unrouted message could be for.
fn unrouted_detail(config: &Config, candidates: &[usize]) -> String {
    let ids: Vec<&str> = candidates.iter().filter_map(|&i| config.events.get(i)).map(|e| e.id.as_str()).collect();
    if ids.is_empty() || ids.len() == config.events.len() {
        "for which event? no rule told".to_owned()
    } else {
        format!("for which event? one of {}", ids.join(", "))
    }
}

/// For staff: why a message was skipped.
fn before_opens_detail(event: Option<&EventConfig>) -> String {
    match event.and_then(|e| e.opens.map(|opens| (e, opens))) {
        Some((event, opens)) => format!(
            "arrived before applications for {} opened ({})",
            event.id,
            crate::export::rfc3339_in(opens, &event.timezone)
        ),
        None => "arrived before applications opened for any event".to_owned(),
    }
}

/// A `Reply-To` naming someone else, noted among the problems: for staff, with the
/// application's review and on the message. (Also `smebridge reparse`, `crate::ops`.)
pub(crate) fn note_reply_to(inbound: &mut Inbound) {
    if let Some(note) = reply_address_of(inbound).and_then(|r| r.note()) {
        inbound.problems.push(note);
    }
}

/// Why staff should look at the application `inbound` makes (its `review`), if anything: the
/// fields it lacks, values that look wrong, what could not be read, and `extra`. (Also
/// `smebridge reparse`, which must reach the same words.)
pub(crate) fn review(inbound: &Inbound, extra: Option<&str>) -> Option<String> {
    let mut reasons: Vec<String> = inbound.fields.missing().iter().map(|f| format!("missing: {f}")).collect();
    // Values that were read but look wrong: stored as read, for staff to check.
    reasons.extend(inbound.doubts.iter().cloned());
    reasons.extend(inbound.problems.iter().cloned());
    reasons.extend(extra.map(str::to_owned));
    (!reasons.is_empty()).then(|| reasons.join("\n"))
}

/// The outcome detail of a held message: this, then the reason.
const HELD: &str = "sender not authenticated: ";

/// What the review of a held application says about its sender.
fn held_review(reason: &str) -> String {
    format!("sender not authenticated ({reason}): no reply was sent")
}

/// What the review of the application a message made says beyond what reading the message finds,
/// from the outcome detail recorded with it: [`held_review`] for a held message, and the note
/// about namesakes at other addresses ([`crate::domain::namesake_note`]), each on its own line.
pub(crate) fn held_review_of(outcome_detail: &str) -> Option<String> {
    let mut lines = outcome_detail.lines();
    let held = lines.next().and_then(|first| first.strip_prefix(HELD)).map(held_review);
    let namesake = outcome_detail.lines().find(|line| line.starts_with(NAMESAKE_NOTE)).map(str::to_owned);
    // In the order the review was first written: the note among what reading found, then this.
    let extra: Vec<String> = namesake.into_iter().chain(held).collect();
    (!extra.is_empty()).then(|| extra.join("\n"))
}

/// What the message row records for `inbound`.
pub(super) fn outcome_of<'a>(
    inbound: &'a Inbound,
    outcome: Outcome,
    outcome_detail: Option<String>,
    details: &'a Details,
    event: Option<(&'a EventId, RouteReason)>,
) -> MessageOutcome<'a> {
    MessageOutcome {
        message_id: &inbound.message_id,
        sender: inbound.from.as_ref(),
        subject: inbound.subject.as_deref(),
        outcome,
        outcome_detail,
        problems: &inbound.problems,
        attachments: &inbound.attachments,
        details,
        event,
    }
}

/// Who the mail names and where each field came from, for the application it writes: every
/// field for a new application; for an update only the fields the mail states (those are what
/// change), so the other fields keep their earlier sources.
pub(super) fn details(inbound: &Inbound, write: &ApplicationWrite) -> Details {
    match write {
        ApplicationWrite::Insert { .. } => details_of(inbound, false),
        ApplicationWrite::Update { .. } => details_of(inbound, true),
        ApplicationWrite::None | ApplicationWrite::Touch { .. } => Details::default(),
    }
}

/// [`details`] of a new application (every field's source), or of an update (`stated_only`).
pub(crate) fn details_of(inbound: &Inbound, stated_only: bool) -> Details {
    let s = &inbound.sources;
    let st = &inbound.stated;
    let fields = [
        ("name", &s.name, st.name.is_some()),
        ("organization", &s.organization, st.organization.is_some()),
        ("position", &s.position, st.position.is_some()),
        ("phone", &s.phone, st.phone.is_some()),
        ("email", &s.email, false),
        ("attendees", &s.attendees, st.attendees.is_some()),
    ];
    let sources = fields
        .into_iter()
        .filter(|(_, _, stated)| *stated || !stated_only)
        .filter_map(|(field, source, _)| source.as_ref().map(|source| (field.to_owned(), source.to_string())))
        .collect();
    Details { people: inbound.people.clone(), notes: inbound.notes.clone(), sources }
}

/// Give freed places to the waiting list, first come first served, each with a reply. Runs
/// after every cancellation and at the start of every pass (so a crash between a cancellation
/// and the promotion only delays it).
pub fn promote_waitlisted(store: &mut Store, rules: Rules<'_>, now: Timestamp) -> Result<usize> {
    let mut promoted = 0;
    for event in &rules.config.events {
        promoted += promote_waitlisted_for(store, rules, event, now)?;
    }
    Ok(promoted)
}

/// [`promote_waitlisted`] for one event.
pub(super) fn promote_waitlisted_for(
    store: &mut Store,
    rules: Rules<'_>,
    event: &EventConfig,
    now: Timestamp,
) -> Result<usize> {
    let Some(capacity) = event.capacity else { return Ok(0) };
    let promoted = store.promote_waitlisted(&event.id, i64::from(capacity), now, |app, calendar| {
        let Ok(to) = EmailAddress::parse(&app.email) else { return Ok(None) };
        let answers = format!("promoted-{}-{}", app.id, now);
        let addressee = Addressee {
            to: &to,
            display_name: app.fields.name.as_deref(),
            subject: None,
            in_reply_to: "",
            answers_sha256: &crate::parse::sha256_hex(answers.as_bytes()),
        };
        let facts = ReplyFacts { calendar, ..ReplyFacts::about(event, app.id, &app.fields, app.received_at) };
        Ok(render_or_log(rules.replier, ReplyKind::Promoted, &addressee, &facts))
    })?;
    if promoted > 0 {
        info!(promoted, event = event.id.as_str(), "waitlisted applications moved up");
    }
    Ok(promoted)
}

pub(super) fn render_or_log(
    replier: &Replier,
    kind: ReplyKind,
    to: &Addressee<'_>,
    facts: &ReplyFacts<'_>,
) -> Option<NewReply> {
    match replier.render(kind, to, facts) {
        Ok(reply) => Some(reply),
        Err(e) => {
            // Templates are test-rendered at start-up, so this is not expected; the message and
            // application are still recorded.
            error!(error = %format!("{e:#}"), kind = kind.as_str(), "cannot render the reply; recorded without one");
            None
        }
    }
}

/// The application this mail belongs to: the one the applicant's address (the original sender
/// of a forwarded application, else the sender; case-insensitive) made for the event. Never one
/// found by name and organization: a mail naming someone else's application must not change,
/// cancel or reveal it (see [`crate::domain::namesakes`]; staff get a note instead). Applicants
/// are matched within the event: the same person may apply to two events.
fn existing_application(store: &Store, inbound: &Inbound, event: &EventId) -> Result<Option<Application>> {
    let Some(from) = applicant(inbound) else { return Ok(None) };
    store.application_by_email(event, from)
}

/// Whether `inbound` asks for its application's record (see [`crate::domain::is_status_request`])
/// and gets it: only from the application's own address (not from whoever forwarded it), and only when the mail does nothing else (changes, cancels, or applies).
fn asks_for_status(inbound: &Inbound, app: &Application, outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Repeat | Outcome::Inquiry | Outcome::AfterDeadline)
        && inbound.from.as_ref().is_some_and(|from| from.as_str() == app.email)
        && is_status_request(inbound.subject.as_deref(), crate::parse::strip_quoted(&inbound.text))
}

/// Whose application this is: the original sender of a forwarded application, else the sender.
fn applicant(inbound: &Inbound) -> Option<&EmailAddress> {
    inbound.forwarded_from.as_ref().or(inbound.from.as_ref())
}

fn applicant_name(inbound: &Inbound) -> Option<&str> {
    match &inbound.forwarded_from {
        Some(_) => inbound.forwarded_from_name.as_deref(),
        None => inbound.from_name.as_deref(),
    }
}

/// Replies go to the applicant only (see [`crate::domain::reply_address`]): for a forwarded
/// application its original sender, otherwise `From`; a `Reply-To` naming anyone else is not
/// mailed, staff get a note.
fn reply_recipient(inbound: &Inbound) -> Option<&EmailAddress> {
    reply_address_of(inbound).map(|r| r.to)
}

fn reply_address_of(inbound: &Inbound) -> Option<ReplyAddress<'_>> {
    reply_address(inbound.from.as_ref(), inbound.forwarded_from.as_ref(), inbound.reply_to.as_ref())
}

/// What to write and whether to answer, for a decision.
pub(super) struct Plan {
    pub(super) outcome: Outcome,
    pub(super) write: ApplicationWrite,
    pub(super) reply: Option<ReplyKind>,
    /// The applicant's fields as the reply should show them.
    fields: ApplicantFields,
    changes: Vec<Change>,
    /// The application's status, for a reply that states it.
    status: Option<Status>,
}

impl Plan {
    fn quiet(outcome: Outcome, write: ApplicationWrite) -> Plan {
        Plan { outcome, write, reply: None, fields: ApplicantFields::default(), changes: Vec::new(), status: None }
    }

    fn reply(outcome: Outcome, write: ApplicationWrite, kind: ReplyKind, fields: ApplicantFields) -> Plan {
        Plan { outcome, write, reply: Some(kind), fields, changes: Vec::new(), status: None }
    }

    /// The answer to a status request: the record as it stands; the mail is a repeat.
    fn status(app: &Application) -> Plan {
        Plan {
            status: Some(app.status),
            ..Plan::reply(
                Outcome::Repeat,
                ApplicationWrite::Touch { id: app.id },
                ReplyKind::Status,
                app.fields.clone(),
            )
        }
    }
}

/// `event`: the event the message went to (`None`: none).
fn plan(decision: &Decision, inbound: &Inbound, existing: Option<&Application>, event: Option<&EventId>) -> Plan {
    let review = |extra: Option<&str>| review(inbound, extra);
    match (decision, existing, applicant(inbound).zip(event)) {
        // Nobody to answer, yet maybe a person's application (a From its client mangled): staff
        // see it among what needs a person, not among automatic mail.
        (Decision::Ignore(Automatic::NoSender), _, _) => Plan::quiet(Outcome::Unreadable, ApplicationWrite::None),
        (Decision::Ignore(_), _, _) => Plan::quiet(Outcome::Automatic, ApplicationWrite::None),
        (Decision::Duplicate, _, _) => Plan::quiet(Outcome::Duplicate, ApplicationWrite::None),
        (Decision::BeforeOpens, _, _) => Plan::quiet(Outcome::BeforeOpens, ApplicationWrite::None),
        (Decision::Unrouted { ask }, _, _) => Plan {
            outcome: Outcome::Unrouted,
            write: ApplicationWrite::None,
            reply: ask.then_some(ReplyKind::WhichEvent),
            fields: inbound.fields.clone(),
            changes: Vec::new(),
            status: None,
        },
        (Decision::Inquiry, _, _) => {
            Plan::reply(Outcome::Inquiry, ApplicationWrite::None, ReplyKind::Inquiry, ApplicantFields::default())
        }
        (Decision::CancelUnknown, _, _) => Plan::quiet(Outcome::CancelWithoutApplication, ApplicationWrite::None),
        // Staff see it as unclassified mail; nobody is answered, nothing changes.
        (Decision::NotAnApplication, _, _) => Plan::quiet(Outcome::Unreadable, ApplicationWrite::None),
        (Decision::Hold(reason), None, Some((from, event))) => Plan::quiet(
            Outcome::Held,
            ApplicationWrite::Insert {
                event: event.clone(),
                email: from.clone(),
                fields: inbound.fields.clone(),
                status: Status::Accepted,
                review: review(Some(&held_review(reason))),
            },
        ),
        (Decision::Register(status), None, Some((from, event))) => Plan::reply(
            Outcome::Registered,
            ApplicationWrite::Insert {
                event: event.clone(),
                email: from.clone(),
                fields: inbound.fields.clone(),
                status: *status,
                review: review(None),
            },
            match status {
                Status::Late => ReplyKind::Late,
                Status::Waitlisted => ReplyKind::Waitlisted,
                _ => ReplyKind::Ack,
            },
            inbound.fields.clone(),
        ),
        (Decision::Update, Some(app), _) => {
            // Only what the mail states counts as a change, not guesses from a signature.
            let (merged, changes) = app.fields.merged_with(&inbound.stated_over(&app.fields));
            if changes.is_empty() {
                return Plan::quiet(Outcome::Repeat, ApplicationWrite::Touch { id: app.id });
            }
            Plan {
                outcome: Outcome::Updated,
                write: ApplicationWrite::Update { id: app.id, fields: merged.clone(), status: None },
                reply: Some(ReplyKind::Update),
                fields: merged,
                changes,
                status: None,
            }
        }
        (Decision::AfterDeadline, Some(app), _) => Plan::reply(
            Outcome::AfterDeadline,
            ApplicationWrite::Touch { id: app.id },
            ReplyKind::AfterDeadline,
            app.fields.clone(),
        ),
        (Decision::Repeat, Some(app), _) => Plan::quiet(Outcome::Repeat, ApplicationWrite::Touch { id: app.id }),
        (Decision::Cancel, Some(app), _) => Plan::reply(
            Outcome::Cancelled,
            ApplicationWrite::Update { id: app.id, fields: app.fields.clone(), status: Some(Status::Cancelled) },
            ReplyKind::Cancelled,
            app.fields.clone(),
        ),
        (Decision::Reopen(status), Some(app), _) => {
            let (merged, _) = app.fields.merged_with(&inbound.stated_over(&app.fields));
            let kind = if *status == Status::Waitlisted { ReplyKind::Waitlisted } else { ReplyKind::Reopened };
            Plan::reply(
                Outcome::Reopened,
                ApplicationWrite::Update { id: app.id, fields: merged.clone(), status: Some(*status) },
                kind,
                merged,
            )
        }
        (Decision::ReopenLate, Some(app), _) => {
            Plan::reply(Outcome::Late, ApplicationWrite::Touch { id: app.id }, ReplyKind::Late, app.fields.clone())
        }
        // decide() only registers mail with a sender and only updates known applicants.
        _ => Plan::quiet(Outcome::Unreadable, ApplicationWrite::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_review_notes_in_an_outcome_detail_are_found_again_in_the_order_first_written() {
        let note = "같은 이름·소속의 신청이 있음: SME-0022 (다른 주소)";
        assert_eq!(held_review_of(note).as_deref(), Some(note));
        let held = format!("{HELD}dmarc=fail\n{note}");
        assert_eq!(
            held_review_of(&held).as_deref(),
            Some(format!("{note}\nsender not authenticated (dmarc=fail): no reply was sent").as_str())
        );
        assert_eq!(held_review_of("not an application: nothing applies"), None);
        assert_eq!(held_review_of("not an application: nothing applies\nsender not authenticated: x"), None);
    }
}
