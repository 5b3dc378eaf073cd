//! `--notify`: tell the applicant what staff did, with the reply the applicant would have had
//! for doing it by mail (the same templates): an update confirmation after `edit`, a
//! cancellation confirmation after `cancel` (with the calendar's `METHOD:CANCEL` when a calendar
//! entry was published before). Queued in the outbox like every reply, in the thread of the
//! application's last mail; rate limits apply when it is sent. Each notice is a row of the
//! application's history (field `reply`: its kind, by staff, why and who).

use anyhow::{Context, Result};
use jiff::Timestamp;

use crate::domain::{Change, EmailAddress, ReplyKind};
use crate::pipeline::Rules;
use crate::reply::{application_number, Addressee, ReplyFacts};
use crate::store::Store;

/// What staff did that the notice tells, and who: for the history row the notice leaves.
pub(super) struct SentBy<'a> {
    /// `staff via CLI: resend`, `staff via CLI: --notify`.
    pub why: &'a str,
    pub actor: &'a str,
}

/// Queue a reply of `kind` about application `id` as it stands now, listing `changes`, with a
/// row of its history saying staff had it sent (`by`). Returns the outbox row.
pub(super) fn queue_notice(
    store: &mut Store,
    rules: Rules<'_>,
    id: i64,
    kind: ReplyKind,
    changes: &[Change],
    by: &SentBy<'_>,
    now: Timestamp,
) -> Result<i64> {
    let number = application_number(id);
    let app = store.application(id)?.with_context(|| format!("there is no application {number}"))?;
    let event = rules
        .config
        .event(&app.event)
        .with_context(|| format!("{number} is for event {}, which is not configured", app.event))?;
    let to = EmailAddress::parse(&app.email).with_context(|| format!("{number} has no usable address"))?;
    let (in_reply_to, subject) = store.message_thread(app.last_message)?.unwrap_or_default();
    let answers = crate::parse::sha256_hex(format!("staff-{}-{id}-{now}", kind.as_str()).as_bytes());
    let addressee = Addressee {
        to: &to,
        display_name: app.fields.name.as_deref(),
        subject: subject.as_deref(),
        in_reply_to: &in_reply_to,
        answers_sha256: &answers,
    };
    let facts = ReplyFacts {
        changes,
        calendar: store.calendar_sent(id)?,
        status: Some(app.status),
        ..ReplyFacts::about(event, id, &app.fields, app.received_at)
    };
    let reply =
        rules.replier.render(kind, &addressee, &facts).with_context(|| format!("cannot write the {kind} reply"))?;
    store.queue_notice_by_staff(id, &reply, by.why, by.actor, now)
}
