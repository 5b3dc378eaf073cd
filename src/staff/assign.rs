//! `smebridge application assign-event REF EVENT`: give mail to an event.
//!
//! - `MSG-0012`, an unrouted message (the summary lists them): read again from its recorded
//!   bytes and decided as an application for the event — on time or late by when it arrived,
//!   accepted or waitlisted by the event's seats now — and answered as usual.
//! - `SME-0004`, an application that went to the wrong event: it moves there with its messages,
//!   is judged again by that event's deadline and seats, and the applicant gets that event's
//!   acknowledgement; its old place goes to the old event's waiting list.

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use super::Reference;
use crate::domain::{EventId, Outcome, ReplyKind, Status};
use crate::isolate::ChildForms;
use crate::pipeline::{self, Processed, Rules};
use crate::store::Store;

/// What an assignment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    /// An unrouted message was decided for the event: its outcome, the application it made or
    /// changed (if any) and the reply queued.
    Message { outcome: Outcome, application: Option<i64>, reply: Option<ReplyKind> },
    /// An application moved: its status there and the reply queued.
    Application { status: Status, reply: Option<ReplyKind> },
}

/// Give `reference` to `event`, at `now`; see the module docs. Nothing is sent here: the
/// replies wait in the outbox for the caller to send.
///
/// The change is one transaction, so it can run beside the daemon (see
/// `crate::daemon::Desk::open_for_staff`). A message is read (its attached forms in child
/// processes) before the transaction begins, so the daemon is never kept waiting on a reader.
pub fn assign_event(
    store: &mut Store,
    rules: Rules<'_>,
    reference: Reference,
    event: &EventId,
    now: Timestamp,
) -> Result<Assigned> {
    let config = rules.config;
    let target = config.event(event).with_context(|| crate::summary::unknown_event(config, event))?;
    match reference {
        Reference::Message(id) => {
            let message = store.message_for_staff(id)?.with_context(|| format!("there is no message {reference}"))?;
            if message.outcome != Outcome::Unrouted {
                bail!(
                    "{reference} is not waiting for an event: it was recorded as {}{}",
                    message.outcome,
                    match message.outcome {
                        Outcome::Registered | Outcome::Updated | Outcome::Cancelled | Outcome::Reopened =>
                            " (to move its application, name the application: SME-…)",
                        _ => "",
                    }
                );
            }
            // Read exactly as the pipeline reads a message (attached forms in child processes).
            let setup = pipeline::ParseSetup::of(rules.config);
            let inbound = pipeline::read_message(&message.raw, &message.sha256, &setup.context(&ChildForms));
            let processed =
                store.group(|store| pipeline::assign_to_event(store, rules, &message, inbound, target, now))?;
            let Processed::Recorded { outcome, reply } = processed else {
                bail!("{reference} was not assigned");
            };
            Ok(Assigned::Message { outcome, application: store.application_of_message(id, event)?, reply })
        }
        Reference::Application(id) => {
            let moved = store.group(|store| pipeline::move_to_event(store, rules, id, target, now))?;
            Ok(Assigned::Application { status: moved.status, reply: moved.reply })
        }
    }
}
