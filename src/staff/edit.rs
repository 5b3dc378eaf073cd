//! `smebridge application show|edit|cancel SME-0004`: look at an application with its history,
//! correct its fields, cancel it. Each change is a row of the application's history (by staff,
//! "staff via CLI", the login name that ran the command); `--notify` tells the applicant
//! (see `notice.rs`).

use std::fmt::Write as _;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::domain::{Change, ReplyKind, Status};
use crate::pipeline::{self, Rules};
use crate::reply::application_number;
use crate::store::{ChangedBy, Field, FieldChange, Rewrite, Store};

/// The reason recorded with every change a staff command makes.
pub const STAFF_VIA_CLI: &str = "staff via CLI";

/// Why, in the history row of a notice staff had sent with `--notify`.
const NOTIFIED: &str = "staff via CLI: --notify";

/// The fields `edit` can set; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    pub name: Option<String>,
    pub organization: Option<String>,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub attendees: Option<u32>,
}

/// The application, its fields and its history, as text for staff.
pub fn show(store: &Store, id: i64, tz: &TimeZone) -> Result<String> {
    let app = store.application(id)?.with_context(|| format!("there is no application {}", application_number(id)))?;
    let f = &app.fields;
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut out = String::new();
    writeln!(out, "{} ({}, event {})", application_number(id), app.status, app.event)?;
    writeln!(out, "  email:        {}", app.email)?;
    writeln!(out, "  name:         {}", text(&f.name))?;
    writeln!(out, "  organization: {}", text(&f.organization))?;
    writeln!(out, "  position:     {}", text(&f.position))?;
    writeln!(out, "  phone:        {}", text(&f.phone))?;
    writeln!(out, "  attendees:    {}", f.attendees.unwrap_or(1))?;
    if !app.people.is_empty() {
        writeln!(out, "  people:       {}", app.people.join("; "))?;
    }
    writeln!(out, "  received:     {}", crate::export::rfc3339_in(app.received_at, tz))?;
    if let Some(review) = &app.review {
        writeln!(out, "  needs a person: {}", review.replace('\n', "; "))?;
    }
    let history = store.history_of(id)?;
    if !history.is_empty() {
        writeln!(out, "history:")?;
    }
    for h in history {
        writeln!(
            out,
            "  {} {} {}: {} -> {} ({}{})",
            crate::export::rfc3339_in(h.at, tz),
            h.by.as_str(),
            h.change.field,
            h.change.old.as_deref().unwrap_or("-"),
            h.change.new.as_deref().unwrap_or("-"),
            h.change.why.as_deref().unwrap_or(""),
            h.actor.map(|a| format!(", {a}")).unwrap_or_default(),
        )?;
    }
    Ok(out)
}

/// Set the fields `edit` names on application `id`, recording each value that changes in its
/// history. Returns the changes (none: nothing to do). With `notify` (the rules to write it
/// with), the applicant's update confirmation listing the changes is queued, as for an update by
/// mail; nothing is sent here.
pub fn edit(
    store: &mut Store,
    notify: Option<Rules<'_>>,
    id: i64,
    edit: &Edit,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<FieldChange>> {
    super::one_line(&[
        ("--name", edit.name.as_deref()),
        ("--organization", edit.organization.as_deref()),
        ("--position", edit.position.as_deref()),
        ("--phone", edit.phone.as_deref()),
    ])?;
    let app = store.application(id)?.with_context(|| format!("there is no application {}", application_number(id)))?;
    let mut fields = app.fields.clone();
    let mut changes = Vec::new();
    let mut set = |field: Field, slot: &mut Option<String>, new: &Option<String>| {
        if let Some(new) = new.as_ref().map(|v| v.trim().to_owned()) {
            let new = (!new.is_empty()).then_some(new);
            if *slot != new {
                changes.push(FieldChange {
                    field,
                    old: slot.clone(),
                    new: new.clone(),
                    why: Some(STAFF_VIA_CLI.to_owned()),
                    message: None,
                });
                *slot = new;
            }
        }
    };
    set(Field::Name, &mut fields.name, &edit.name);
    set(Field::Organization, &mut fields.organization, &edit.organization);
    set(Field::Position, &mut fields.position, &edit.position);
    set(Field::Phone, &mut fields.phone, &edit.phone);
    if let Some(n) = edit.attendees {
        anyhow::ensure!(n >= 1, "--attendees must be at least 1");
        let old = fields.attendees.unwrap_or(1);
        if old != n {
            changes.push(FieldChange {
                field: Field::Attendees,
                old: Some(old.to_string()),
                new: Some(n.to_string()),
                why: Some(STAFF_VIA_CLI.to_owned()),
                message: None,
            });
            fields.attendees = Some(n);
        }
    }
    if changes.is_empty() {
        return Ok(changes);
    }
    let rewrite = Rewrite {
        application: id,
        fields,
        people: app.people.clone(),
        notes: app.notes.clone(),
        review: app.review.clone(),
        sources: app.sources.clone(),
    };
    store.rewrite_application(&rewrite, &changes, ChangedBy::Staff, Some(actor), now)?;
    if let Some(rules) = notify {
        let told: Vec<Change> = changes
            .iter()
            .map(|c| Change {
                field: c.field.as_str(),
                before: c.old.clone(),
                after: c.new.clone().unwrap_or_default(),
            })
            .collect();
        let by = super::notice::SentBy { why: NOTIFIED, actor };
        super::notice::queue_notice(store, rules, id, ReplyKind::Update, &told, &by, now)?;
    }
    Ok(changes)
}

/// Cancel application `id` (recorded in its history) and give its seats to the waiting list, as
/// a cancellation by mail does (those moved up are told by mail, queued here). Returns the
/// status it had and how many moved up. With `notify`, the applicant's cancellation confirmation
/// is queued first, as for a cancellation by mail (with the calendar's cancellation when an
/// entry was published).
pub fn cancel(
    store: &mut Store,
    rules: Rules<'_>,
    id: i64,
    notify: bool,
    actor: &str,
    now: Timestamp,
) -> Result<(Status, usize)> {
    let app = store.application(id)?.with_context(|| format!("there is no application {}", application_number(id)))?;
    anyhow::ensure!(app.status != Status::Cancelled, "{} is already cancelled", application_number(id));
    let old = store
        .set_status_by_staff(id, Status::Cancelled, STAFF_VIA_CLI, actor, now)?
        .with_context(|| format!("there is no application {}", application_number(id)))?;
    if notify {
        let by = super::notice::SentBy { why: NOTIFIED, actor };
        super::notice::queue_notice(store, rules, id, ReplyKind::Cancelled, &[], &by, now)?;
    }
    let promoted = pipeline::promote_waitlisted(store, rules, now)?;
    Ok((old, promoted))
}
