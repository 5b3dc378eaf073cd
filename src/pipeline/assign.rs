//! Staff give mail to an event (`smebridge application assign-event`): an unrouted message
//! ([`assign_to_event`]) is decided as an application for the event staff name, as if it had been
//! routed there when it arrived; an application that went to the wrong event
//! ([`move_to_event`]) moves, with its messages, and is judged again by that event's deadline
//! and seats. Either is answered as the pipeline answers an application, and a place it frees
//! goes to the waiting list.

use anyhow::{bail, Context, Result};
use jiff::Timestamp;
use tracing::info;

use super::decide::{consider, details, outcome_of, promote_waitlisted_for, render_or_log};
use super::{Processed, Rules};
use crate::config::EventConfig;
use crate::domain::{is_late, EmailAddress, ReplyKind, Status};
use crate::parse::Inbound;
use crate::reply::{application_number, Addressee, ReplyFacts, Withdrawn};
use crate::store::{RecordedMessage, Store};

/// Staff give an unrouted message to `event` (`smebridge application assign-event MSG-…`): it is
/// decided again as an application for that event, read from its recorded bytes (`inbound`),
/// judged by when it arrived, and answered as if it had been routed there in the first place.
/// Fails when the message is no longer unrouted.
pub fn assign_to_event(
    store: &mut Store,
    rules: Rules<'_>,
    message: &RecordedMessage,
    mut inbound: Inbound,
    event: &EventConfig,
    now: Timestamp,
) -> Result<Processed> {
    let Rules { config, replier } = rules;
    let arrived_at = message.arrived_at;
    let verdict = consider(store, config, &mut inbound, arrived_at, Some(event))?;
    let details = details(&inbound, &verdict.plan.write);
    let outcome = outcome_of(&inbound, verdict.plan.outcome, verdict.detail.clone(), &details, verdict.routed());
    let committed = store
        .assign_message(message.id, arrived_at, &outcome, &verdict.plan.write, now, |application_id| {
            Ok(verdict.render(replier, &inbound, arrived_at, &message.sha256, application_id))
        })?
        .context("the message is no longer waiting for an event (assigned meanwhile?)")?;
    let reply = committed.reply.and(verdict.plan.reply);
    verdict.follow_up(store, rules, now)?;
    info!(
        outcome = verdict.plan.outcome.as_str(),
        event = event.id.as_str(),
        reply = reply.map(|k| k.as_str()).unwrap_or("none"),
        "unrouted message assigned by staff"
    );
    Ok(Processed::Recorded { outcome: verdict.plan.outcome, reply })
}

/// What moving an application did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Its status for the new event.
    pub status: Status,
    /// The reply queued, if any.
    pub reply: Option<ReplyKind>,
}

/// Staff move application `id` to `event` (`smebridge application assign-event SME-…`): it and
/// its messages belong to `event` from now on; its status is judged again there (late if its
/// first mail arrived after that event's deadline, waitlisted if it does not fit, a cancelled one
/// stays cancelled) and the applicant gets that event's acknowledgement, which also withdraws
/// the old event's entry from their calendar (`METHOD:CANCEL`, when one was published). Refused
/// when the address already has an application for `event`.
pub fn move_to_event(
    store: &mut Store,
    rules: Rules<'_>,
    id: i64,
    event: &EventConfig,
    now: Timestamp,
) -> Result<Moved> {
    let number = application_number(id);
    let app = store.application(id)?.with_context(|| format!("there is no application {number}"))?;
    if app.event == event.id {
        bail!("{number} is for {} already", event.id);
    }
    let to = EmailAddress::parse(&app.email).with_context(|| format!("{number} has no usable address"))?;
    if let Some(other) = store.application_by_email(&event.id, &to)? {
        bail!(
            "{number}'s applicant already applied to {} as {}: cancel one of them instead of moving",
            event.id,
            application_number(other.id)
        );
    }
    let attendees = i64::from(app.fields.attendees.unwrap_or(1));
    let status = match app.status {
        Status::Cancelled => Status::Cancelled,
        _ if is_late(app.received_at, event.deadline) => Status::Late,
        _ => match event.capacity {
            Some(capacity) if attendees > i64::from(capacity) - store.seats_taken(&event.id)? => Status::Waitlisted,
            _ => Status::Accepted,
        },
    };
    let kind = match status {
        Status::Accepted => Some(ReplyKind::Ack),
        Status::Waitlisted => Some(ReplyKind::Waitlisted),
        Status::Late => Some(ReplyKind::Late),
        Status::Cancelled => None,
    };
    // Not held to one per applicant and event: a move is news whatever was sent before (moved
    // away and back, the applicant must hear where they stand, and their calendar be put right).
    let thread = store.message_thread(app.last_message)?;
    let from = app.event.clone();
    // The entry in the applicant's calendar for the event it leaves is withdrawn by the reply
    // (when that event is still configured: its facts make the file).
    let withdrawn = match rules.config.event(&from) {
        Some(old) => Some(Withdrawn { event: old, calendar: store.calendar_sent_for(id, &from)? }),
        None => None,
    };
    let calendar = store.calendar_sent_for(id, &event.id)?;
    let actor = crate::ops::actor();
    let moved = store.move_application(id, (&from, &event.id), status, now, &actor, |app| {
        let Some(kind) = kind else { return Ok(None) };
        let (in_reply_to, subject) = thread.clone().unwrap_or_default();
        let answers = crate::parse::sha256_hex(format!("moved-{}-{}-{}", app.id, event.id, now).as_bytes());
        let addressee = Addressee {
            to: &to,
            display_name: app.fields.name.as_deref(),
            subject: subject.as_deref(),
            in_reply_to: &in_reply_to,
            answers_sha256: &answers,
        };
        let facts =
            ReplyFacts { calendar, withdrawn, ..ReplyFacts::about(event, app.id, &app.fields, app.received_at) };
        Ok(render_or_log(rules.replier, kind, &addressee, &facts))
    })?;
    if !moved {
        bail!("{number} changed meanwhile; try again");
    }
    info!(
        application = id,
        from = from.as_str(),
        to = event.id.as_str(),
        status = status.as_str(),
        "application moved by staff"
    );
    if let Some(old) = rules.config.event(&from) {
        promote_waitlisted_for(store, rules, old, now)?;
    }
    Ok(Moved { status, reply: kind })
}
