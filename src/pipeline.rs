//! One message through the pipeline: raw bytes → parse → decide → store (+ reply in the outbox).
//!
//! Everything here is synchronous and local: the IMAP fetch before it and the SMTP send after it
//! live in [`crate::daemon`] and [`crate::outbox`].

use std::panic::{catch_unwind, AssertUnwindSafe};

use anyhow::{Context, Result};
use jiff::Timestamp;
use tracing::{debug, error, info, instrument, Span};

use crate::config::Config;
use crate::domain::{automatic_reason, decide, ApplicantFields, Change, Decision, EmailAddress, Existing, Facts, Status};
use crate::parse::{self, Inbound};
use crate::reply::{Addressee, Replier, ReplyFacts, ReplyKind};
use crate::store::{ApplicationWrite, MailboxUid, NewMessage, Store};

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// These exact bytes were recorded before (another UID, or a UIDVALIDITY change).
    AlreadyRecorded,
    /// Recorded now, with this outcome; `reply` says whether a reply was queued.
    Recorded { outcome: &'static str, reply: Option<ReplyKind> },
}

/// Record one message and everything that follows from it, in one transaction.
#[instrument(skip_all, fields(uid = at.uid, message_id, outcome))]
pub fn process_message(
    store: &mut Store,
    config: &Config,
    replier: &Replier,
    at: MailboxUid<'_>,
    arrived_at: Timestamp,
    raw: &[u8],
) -> Result<Processed> {
    let sha256 = parse::sha256_hex(raw);
    if store.record_known_bytes(at, &sha256)? {
        debug!("already recorded (same bytes)");
        return Ok(Processed::AlreadyRecorded);
    }

    let inbound = parse_isolated(raw, &sha256);
    Span::current().record("message_id", inbound.message_id.as_str());

    let own = config.own_address();
    let automatic = automatic_reason(&inbound.signals, &inbound.return_path, inbound.from.as_ref(), &own);
    let duplicate_message_id = !inbound.message_id_synthesized && store.message_id_seen(&inbound.message_id)?;
    let existing = match &inbound.from {
        Some(from) => store.application_by_email(from)?,
        None => None,
    };
    let decision = decide(&Facts {
        arrived_at,
        deadline: config.event.deadline,
        automatic: automatic.clone(),
        duplicate_message_id,
        cancel_requested: inbound.cancel_requested,
        existing: existing.as_ref().map(|a| Existing { status: a.status }),
    });

    let plan = plan(&decision, &inbound, existing.as_ref());
    Span::current().record("outcome", plan.outcome);

    let message = NewMessage {
        sha256: &sha256,
        message_id: &inbound.message_id,
        arrived_at,
        raw,
        sender: inbound.from.as_ref(),
        subject: inbound.subject.as_deref(),
        outcome: plan.outcome,
        outcome_detail: automatic.map(|a| a.label()),
        problems: &inbound.problems,
    };
    let recipient = reply_recipient(&inbound);
    let reply_kind = plan.reply;
    let committed = store
        .commit_message(at, &message, &plan.write, |application_id| {
            let (Some(kind), Some(to)) = (reply_kind, recipient) else { return Ok(None) };
            let addressee = Addressee {
                to,
                display_name: inbound.from_name.as_deref(),
                subject: inbound.subject.as_deref(),
                in_reply_to: &inbound.message_id,
                answers_sha256: &sha256,
            };
            let facts = ReplyFacts { application_id, fields: &plan.fields, arrived_at, changes: &plan.changes };
            match replier.render(kind, &addressee, &facts) {
                Ok(reply) => Ok(Some(reply)),
                Err(e) => {
                    // Templates are test-rendered at start-up, so this is not expected; the
                    // message and application are still recorded.
                    error!(error = %format!("{e:#}"), "cannot render the reply; recorded without one");
                    Ok(None)
                }
            }
        })
        .context("cannot record the message")?;

    let reply = committed.reply.and(reply_kind);
    info!(
        outcome = plan.outcome,
        reply = reply.map(|k| k.as_str()).unwrap_or("none"),
        reply_to_header = inbound.reply_to.is_some(),
        "message recorded"
    );
    Ok(Processed::Recorded { outcome: plan.outcome, reply })
}

/// Replies go to `Reply-To` when the applicant set one, else to `From`.
fn reply_recipient(inbound: &Inbound) -> Option<&EmailAddress> {
    inbound.reply_to.as_ref().or(inbound.from.as_ref())
}

/// The parser must never take the daemon down: a panic in it becomes a recorded problem.
fn parse_isolated(raw: &[u8], sha256: &str) -> Inbound {
    match catch_unwind(AssertUnwindSafe(|| parse::parse(raw, sha256))) {
        Ok(inbound) => inbound,
        Err(_) => {
            error!("the parser panicked on a message; it is recorded unparsed");
            let mut inbound = parse::parse(b"", sha256);
            inbound.problems = vec!["the parser crashed on this message".to_owned()];
            inbound
        }
    }
}

/// What to write and whether to answer, for a decision.
struct Plan {
    outcome: &'static str,
    write: ApplicationWrite,
    reply: Option<ReplyKind>,
    /// The applicant's fields as the reply should show them.
    fields: ApplicantFields,
    changes: Vec<Change>,
}

fn plan(decision: &Decision, inbound: &Inbound, existing: Option<&crate::store::Application>) -> Plan {
    let quiet = |outcome, write| Plan { outcome, write, reply: None, fields: ApplicantFields::default(), changes: Vec::new() };
    match (decision, existing, &inbound.from) {
        (Decision::Ignore(_), _, _) => quiet("automatic", ApplicationWrite::None),
        (Decision::Duplicate, _, _) => quiet("duplicate", ApplicationWrite::None),
        (Decision::Register(status), None, Some(from)) => Plan {
            outcome: "registered",
            write: ApplicationWrite::Insert { email: from.clone(), fields: inbound.fields.clone(), status: *status },
            reply: Some(if *status == Status::Late { ReplyKind::Late } else { ReplyKind::Ack }),
            fields: inbound.fields.clone(),
            changes: Vec::new(),
        },
        (Decision::Update, Some(app), _) => {
            let (merged, changes) = app.fields.merged_with(&updates_only(&inbound.fields, inbound.from_name.as_deref()));
            if changes.is_empty() {
                quiet("repeat", ApplicationWrite::Touch { id: app.id })
            } else {
                Plan {
                    outcome: "updated",
                    write: ApplicationWrite::Update { id: app.id, fields: merged.clone(), status: None },
                    reply: Some(ReplyKind::Update),
                    fields: merged,
                    changes,
                }
            }
        }
        (Decision::AfterDeadline, Some(app), _) => Plan {
            outcome: "after_deadline",
            write: ApplicationWrite::Touch { id: app.id },
            reply: Some(ReplyKind::AfterDeadline),
            fields: app.fields.clone(),
            changes: Vec::new(),
        },
        (Decision::Repeat, Some(app), _) => quiet("repeat", ApplicationWrite::Touch { id: app.id }),
        (Decision::Cancel, Some(app), _) => Plan {
            outcome: "cancelled",
            write: ApplicationWrite::Update { id: app.id, fields: app.fields.clone(), status: Some(Status::Cancelled) },
            reply: Some(ReplyKind::Cancelled),
            fields: app.fields.clone(),
            changes: Vec::new(),
        },
        (Decision::Reopen, Some(app), _) => {
            let (merged, _) = app.fields.merged_with(&updates_only(&inbound.fields, inbound.from_name.as_deref()));
            Plan {
                outcome: "reopened",
                write: ApplicationWrite::Update { id: app.id, fields: merged.clone(), status: Some(Status::Accepted) },
                reply: Some(ReplyKind::Ack),
                fields: merged,
                changes: Vec::new(),
            }
        }
        (Decision::Register(Status::Late), Some(app), _) => Plan {
            outcome: "late",
            write: ApplicationWrite::Touch { id: app.id },
            reply: Some(ReplyKind::Late),
            fields: app.fields.clone(),
            changes: Vec::new(),
        },
        (Decision::CancelUnknown, _, _) => quiet("cancel_without_application", ApplicationWrite::None),
        // decide() only registers mail with a sender and only updates known applicants.
        _ => quiet("unreadable", ApplicationWrite::None),
    }
}

/// In a follow-up mail the display name is not a statement of a new name: only fields the
/// applicant wrote count as changes.
fn updates_only(fields: &ApplicantFields, display_name: Option<&str>) -> ApplicantFields {
    let mut fields = fields.clone();
    if fields.name.as_deref() == display_name {
        fields.name = None;
    }
    fields
}
