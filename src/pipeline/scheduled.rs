//! Mail the desk sends on its own schedule: the reminder before an event and the thank-you after
//! it ([`crate::domain::Scheduled`]), to every accepted application of the event, once each,
//! through the outbox like every reply. Whether one is due is decided at `now`, which the daemon
//! passes (its clock; nothing here reads one); once per application is kept by the database, so
//! a second look, a second pass or a restart queues nothing twice. And when staff change an
//! event's time, place or name, the applicants whose calendars hold the old entry get it again,
//! updated.

use anyhow::Result;
use jiff::Timestamp;
use tracing::info;

use super::decide::render_or_log;
use super::Rules;
use crate::config::EventConfig;
use crate::domain::{is_due, EmailAddress, ReplyKind, Scheduled};
use crate::reply::{calendar_facts, Addressee, ReplyFacts};
use crate::store::{Application, NewReply, Store};

/// Queue every reminder and thank-you due at `now`, and the updated calendar entry for every
/// applicant whose entry is out of date; returns how many were queued.
pub fn queue_scheduled(store: &mut Store, rules: Rules<'_>, now: Timestamp) -> Result<usize> {
    let mut queued = 0;
    for event in &rules.config.events {
        queued += queue_rescheduled(store, rules, event, now)?;
        for scheduled in Scheduled::ALL {
            if !is_due(scheduled, event.times(), now) {
                continue;
            }
            let kind = scheduled.reply_kind();
            let mut count = 0;
            for app in store.awaiting(&event.id, kind)? {
                let facts = ReplyFacts {
                    status: Some(app.status),
                    ..ReplyFacts::about(event, app.id, &app.fields, app.received_at)
                };
                let seed = format!("{kind}-{}-{}", app.id, event.id);
                let Some(reply) = render_about(store, rules, &app, kind, &seed, &facts)? else { continue };
                if store.queue_scheduled(app.id, &reply, now)? {
                    count += 1;
                }
            }
            if count > 0 {
                info!(event = event.id.as_str(), kind = kind.as_str(), queued = count, "scheduled mail queued");
            }
            queued += count;
        }
    }
    Ok(queued)
}

/// Why a pending update or reminder is withdrawn (its error, in the summary's replies not sent).
const BEGUN: &str = "not sent: the event had begun";
const SUPERSEDED: &str = "not sent: a newer update of the event replaced it";

/// Staff changed `event`'s time, place or name after calendar entries were published: each
/// accepted applicant whose entry says otherwise gets it again (`rescheduled`: the entry,
/// updated, with a short mail), until the event begins; never twice for the same change (the
/// reply stores what it published). Returns how many were queued.
fn queue_rescheduled(store: &mut Store, rules: Rules<'_>, event: &EventConfig, now: Timestamp) -> Result<usize> {
    if now >= event.starts_at {
        // What still waits (a refused SMTP login, the rate limits) would come too late.
        let late = store.withdraw_pending(&event.id, None, &[ReplyKind::Rescheduled, ReplyKind::Reminder], BEGUN)?;
        if late > 0 {
            info!(
                event = event.id.as_str(),
                withdrawn = late,
                "the event began: unsent reminders and updates withdrawn"
            );
        }
        return Ok(0);
    }
    let kind = ReplyKind::Rescheduled;
    let facts_now = calendar_facts(event);
    let mut count = 0;
    for app in store.out_of_date_calendars(&event.id, &facts_now)? {
        let calendar = store.calendar_sent_for(app.id, &event.id)?;
        let facts = ReplyFacts {
            calendar,
            status: Some(app.status),
            ..ReplyFacts::about(event, app.id, &app.fields, app.received_at)
        };
        // Unique per reply (the count grows with each): the event may change again, or back.
        let seed = format!("{kind}-{}-{}-{}", app.id, event.id, calendar.count);
        let Some(reply) = render_about(store, rules, &app, kind, &seed, &facts)? else { continue };
        // An earlier update still waiting says what is no longer so: this one replaces it.
        store.withdraw_pending(&event.id, Some(app.id), &[kind], SUPERSEDED)?;
        store.queue_notice(app.id, &reply, now)?;
        count += 1;
    }
    if count > 0 {
        info!(event = event.id.as_str(), queued = count, "the event changed: updated calendar entries queued");
    }
    Ok(count)
}

/// A reply of `kind` about `app` that answers no mail: in the thread of the applicant's last
/// mail (so their client shows it there), its Message-ID made from `seed`. `None` when the
/// address no longer parses or the template fails (logged).
fn render_about(
    store: &Store,
    rules: Rules<'_>,
    app: &Application,
    kind: ReplyKind,
    seed: &str,
    facts: &ReplyFacts<'_>,
) -> Result<Option<NewReply>> {
    let Ok(to) = EmailAddress::parse(&app.email) else { return Ok(None) };
    let (in_reply_to, subject) = store.message_thread(app.last_message)?.unwrap_or_default();
    let answers = crate::parse::sha256_hex(seed.as_bytes());
    let addressee = Addressee {
        to: &to,
        display_name: app.fields.name.as_deref(),
        subject: subject.as_deref(),
        in_reply_to: &in_reply_to,
        answers_sha256: &answers,
    };
    Ok(render_or_log(rules.replier, kind, &addressee, facts))
}

/// How long until the next reminder or thank-you becomes due after `now` (`None`: none ahead).
pub fn until_next_scheduled(rules: Rules<'_>, now: Timestamp) -> Option<std::time::Duration> {
    let next = rules.config.events.iter().filter_map(|e| crate::domain::next_due(e.times(), now)).min()?;
    std::time::Duration::try_from(next.duration_since(now)).ok()
}
