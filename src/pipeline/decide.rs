//! Stage 5 of the pipeline: decide about a parsed message ([`crate::domain::decide`], from what
//! it says and what the database knows) and record the outcome, the application change and the
//! reply it causes in one transaction; give places freed by a cancellation to the waiting list.

use anyhow::{Context, Result};
use jiff::Timestamp;
use tracing::{debug, error, info, instrument, Span};

use super::{Parsed, Processed, Read, Rules};
use crate::domain::{
    auth_verdict, automatic_reason, decide, reply_address, ApplicantFields, Change, Decision, EmailAddress, Existing,
    Facts, Outcome, ReplyAddress, Status,
};
use crate::parse::Inbound;
use crate::reply::{Addressee, Replier, ReplyFacts, ReplyKind};
use crate::store::{
    Application, ApplicationWrite, Details, MailboxUid, MessageOutcome, NewReply, Reading, Store, NO_DETAILS,
};

/// Stage 5: decide about one parsed message and record the outcome and everything that follows
/// from it (application, reply) in one transaction (the batch's group, when inside one), at
/// `now`.
#[instrument(skip_all, fields(uid = at.uid, message_id, outcome))]
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
        // Known bytes not recorded with an outcome after all: the same bytes earlier in the
        // batch were left unread. Left for the next pass, like them.
        Read::Known | Read::NotRead => return Ok(Processed::Left),
    };
    let reading = Reading { sha256: &sha256, arrived_at };
    if let Some(size) = too_large {
        // Only the headers were fetched: record it for staff, decide nothing from a body we
        // do not have.
        inbound.problems.push(format!("too large ({size} bytes): only the headers were kept"));
        let message = outcome_of(&inbound, Outcome::TooLarge, Some(format!("{size} bytes")), &NO_DETAILS);
        store.finish_reading(at, reading, &message, &ApplicationWrite::None, now, |_| Ok(None))?;
        info!(outcome = Outcome::TooLarge.as_str(), size, "message recorded (headers only)");
        return Ok(Processed::Recorded { outcome: Outcome::TooLarge, reply: None });
    }
    Span::current().record("message_id", inbound.message_id.as_str());

    let own = config.own_address();
    let automatic = automatic_reason(&inbound.signals, &inbound.return_path, inbound.from.as_ref(), &own);
    let duplicate_message_id = !inbound.message_id_synthesized && store.message_id_seen(&inbound.message_id)?;
    let unauthenticated =
        auth_verdict(&inbound.authentication_results, &config.security.authserv_id, config.security.require_auth);
    let existing = existing_application(store, &inbound, unauthenticated.is_some())?;
    let seats_left = match config.event.capacity {
        Some(capacity) => Some(i64::from(capacity) - store.seats_taken()?),
        None => None,
    };
    let decision = decide(&Facts {
        arrived_at,
        deadline: config.event.deadline,
        automatic: automatic.clone(),
        duplicate_message_id,
        unauthenticated: unauthenticated.clone(),
        cancel_requested: inbound.cancel_requested,
        inquiry: inbound.inquiry,
        classified: inbound.verdict.classified,
        existing: existing.as_ref().map(|a| Existing { status: a.status }),
        attendees: inbound.fields.attendees.unwrap_or(1),
        seats_left,
    });

    note_reply_to(&mut inbound);
    let mut plan = plan(&decision, &inbound, existing.as_ref());
    if plan.reply == Some(ReplyKind::Inquiry) && !config.replies.answer_inquiries {
        plan.reply = None;
    }
    let recipient = reply_recipient(&inbound);
    if let (Some(kind), Some(to)) = (plan.reply, recipient) {
        if kind.once_per_applicant() && store.reply_kind_queued_for(to, kind)? {
            debug!(kind = kind.as_str(), "a reply of this kind was already sent to this address");
            plan.reply = None;
        }
    }
    Span::current().record("outcome", plan.outcome.as_str());

    let detail = match (&automatic, &decision) {
        (Some(a), _) => Some(a.label()),
        (None, Decision::Hold(reason)) => Some(format!("{HELD}{reason}")),
        (None, Decision::NotAnApplication) => Some(format!("not an application: {}", inbound.verdict)),
        _ => None,
    };
    let details = details(&inbound, &plan.write);
    let message = outcome_of(&inbound, plan.outcome, detail, &details);
    let reply_kind = plan.reply;
    let committed = store
        .finish_reading(at, reading, &message, &plan.write, now, |application_id| {
            let (Some(kind), Some(to)) = (reply_kind, recipient) else { return Ok(None) };
            let addressee = Addressee {
                to,
                display_name: applicant_name(&inbound),
                subject: inbound.subject.as_deref(),
                in_reply_to: &inbound.message_id,
                answers_sha256: &sha256,
            };
            let facts = ReplyFacts {
                application_id,
                english: inbound.english,
                fields: &plan.fields,
                arrived_at,
                changes: &plan.changes,
            };
            Ok(render_or_log(replier, kind, &addressee, &facts))
        })
        .context("cannot record the message")?;

    if plan.outcome == Outcome::Cancelled {
        promote_waitlisted(store, rules, now)?;
    }

    let reply = committed.reply.and(reply_kind);
    info!(
        outcome = plan.outcome.as_str(),
        reply = reply.map(|k| k.as_str()).unwrap_or("none"),
        reply_to_header = inbound.reply_to.is_some(),
        "message recorded"
    );
    Ok(Processed::Recorded { outcome: plan.outcome, reply })
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

/// [`held_review`] from the outcome detail recorded with the held message, if it is one.
pub(crate) fn held_review_of(outcome_detail: &str) -> Option<String> {
    outcome_detail.strip_prefix(HELD).map(held_review)
}

/// What the message row records for `inbound`.
fn outcome_of<'a>(
    inbound: &'a Inbound,
    outcome: Outcome,
    outcome_detail: Option<String>,
    details: &'a Details,
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
    }
}

/// Who the mail names and where each field came from, for the application it writes: every
/// field for a new application; for an update only the fields the mail states (those are what
/// change), so the other fields keep their earlier sources.
fn details(inbound: &Inbound, write: &ApplicationWrite) -> Details {
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
    let Some(capacity) = rules.config.event.capacity else { return Ok(0) };
    let promoted = store.promote_waitlisted(i64::from(capacity), now, |app| {
        let Ok(to) = EmailAddress::parse(&app.email) else { return Ok(None) };
        let answers = format!("promoted-{}-{}", app.id, now);
        let addressee = Addressee {
            to: &to,
            display_name: app.fields.name.as_deref(),
            subject: None,
            in_reply_to: "",
            answers_sha256: &crate::parse::sha256_hex(answers.as_bytes()),
        };
        let facts = ReplyFacts {
            application_id: Some(app.id),
            english: false,
            fields: &app.fields,
            arrived_at: app.received_at,
            changes: &[],
        };
        Ok(render_or_log(rules.replier, ReplyKind::Promoted, &addressee, &facts))
    })?;
    if promoted > 0 {
        info!(promoted, "waitlisted applications moved up");
    }
    Ok(promoted)
}

fn render_or_log(replier: &Replier, kind: ReplyKind, to: &Addressee<'_>, facts: &ReplyFacts<'_>) -> Option<NewReply> {
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

/// The application this mail belongs to: the applicant's address first; else (see
/// [`crate::domain::same_applicant`]) the only one with the same name and organization, so that
/// a colleague, an assistant or the applicant's personal address updates the application
/// instead of duplicating it. The application keeps its address; the message is linked to it
/// and the reply goes to whoever wrote. A mail that fails the required sender authentication is
/// matched by address only: it must not reach someone else's application just by naming them.
fn existing_application(store: &Store, inbound: &Inbound, unauthenticated: bool) -> Result<Option<Application>> {
    let Some(from) = applicant(inbound) else { return Ok(None) };
    if let Some(application) = store.application_by_email(from)? {
        return Ok(Some(application));
    }
    if unauthenticated {
        return Ok(None);
    }
    let found = store.application_by_name_and_organization(&inbound.fields)?;
    if let Some(application) = &found {
        debug!(application = application.id, "no application for this address; matched by name and organization");
    }
    Ok(found)
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
struct Plan {
    outcome: Outcome,
    write: ApplicationWrite,
    reply: Option<ReplyKind>,
    /// The applicant's fields as the reply should show them.
    fields: ApplicantFields,
    changes: Vec<Change>,
}

impl Plan {
    fn quiet(outcome: Outcome, write: ApplicationWrite) -> Plan {
        Plan { outcome, write, reply: None, fields: ApplicantFields::default(), changes: Vec::new() }
    }

    fn reply(outcome: Outcome, write: ApplicationWrite, kind: ReplyKind, fields: ApplicantFields) -> Plan {
        Plan { outcome, write, reply: Some(kind), fields, changes: Vec::new() }
    }
}

fn plan(decision: &Decision, inbound: &Inbound, existing: Option<&Application>) -> Plan {
    let review = |extra: Option<&str>| review(inbound, extra);
    match (decision, existing, applicant(inbound)) {
        (Decision::Ignore(_), _, _) => Plan::quiet(Outcome::Automatic, ApplicationWrite::None),
        (Decision::Duplicate, _, _) => Plan::quiet(Outcome::Duplicate, ApplicationWrite::None),
        (Decision::Inquiry, _, _) => {
            Plan::reply(Outcome::Inquiry, ApplicationWrite::None, ReplyKind::Inquiry, ApplicantFields::default())
        }
        (Decision::CancelUnknown, _, _) => Plan::quiet(Outcome::CancelWithoutApplication, ApplicationWrite::None),
        // Staff see it as unclassified mail; nobody is answered, nothing changes.
        (Decision::NotAnApplication, _, _) => Plan::quiet(Outcome::Unreadable, ApplicationWrite::None),
        (Decision::Hold(reason), None, Some(from)) => Plan::quiet(
            Outcome::Held,
            ApplicationWrite::Insert {
                email: from.clone(),
                fields: inbound.fields.clone(),
                status: Status::Accepted,
                review: review(Some(&held_review(reason))),
            },
        ),
        (Decision::Register(status), None, Some(from)) => Plan::reply(
            Outcome::Registered,
            ApplicationWrite::Insert {
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
