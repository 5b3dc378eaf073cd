//! `smebridge reparse [--apply]`: the stored mail read again by this smebridge's parser, and
//! what that changes in each application.
//!
//! Each application is replayed from its messages, in the order the desk recorded them, as the
//! pipeline wrote it (`crate::pipeline`'s `decide.rs`): the message that made it gives every
//! field (and the review: what is missing, what looks wrong, what could not be read), an update
//! or a reopening changes the fields it states, a cancellation only its notes, people and
//! sources; the other messages (repeats, mail after the deadline) changed nothing then and change
//! nothing now. Each message is read as the daemon reads it ([`crate::pipeline::read_message`],
//! attached forms through the [`FormReader`] given: the confined child processes of
//! `crate::isolate` in `smebridge reparse`). What the replay ends with is compared with the
//! application as stored, value by value.
//!
//! What reparse corrects is how mail was read, never what the desk decided: no status changes, no
//! message moves to another application, nothing becomes or stops being an application, and no
//! mail is sent. `--apply` writes each changed application and one history row per value
//! (`by = 'reparse'`, where the new value was read, from which message) in one transaction; the
//! next daily summary lists them.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tracing::info;

use crate::domain::{ApplicantFields, Outcome};
use crate::parse::{FormReader, Inbound};
use crate::pipeline::{details_of, held_review_of, note_reply_to, read_message, review};
use crate::reply::{application_number, format_ko};
use crate::store::{Application, ApplicationMessage, ChangedBy, Field, FieldChange, Rewrite, Store};

/// What reading the stored mail again changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reparse {
    /// The applications that change, by id.
    pub changed: Vec<ApplicationChanges>,
    /// Messages read again.
    pub read: usize,
    /// Applications replayed.
    pub applications: usize,
    /// Messages recorded in all.
    pub recorded: i64,
}

/// One application's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationChanges {
    pub application: i64,
    pub email: String,
    pub changes: Vec<FieldChange>,
    /// When each message named in `changes` arrived.
    pub arrivals: BTreeMap<i64, Timestamp>,
    /// Everything the application holds after the changes.
    pub rewrite: Rewrite,
}

/// What [`apply`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub applications: usize,
    pub values: usize,
}

/// How a message shaped its application, by what the desk decided about it then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// It made the application: every field, the review.
    Made,
    /// An update or a reopening: the fields it states.
    Changed,
    /// A cancellation: its notes, people and sources only.
    Cancelled,
}

fn role(message: &ApplicationMessage) -> Option<Role> {
    match message.outcome {
        Outcome::Registered | Outcome::Held if message.first => Some(Role::Made),
        Outcome::Updated | Outcome::Reopened => Some(Role::Changed),
        Outcome::Cancelled => Some(Role::Cancelled),
        _ => None,
    }
}

/// An application as the replay builds it.
#[derive(Debug, Default)]
struct Replayed {
    fields: ApplicantFields,
    people: Vec<String>,
    notes: Option<String>,
    review: Option<String>,
    sources: BTreeMap<String, String>,
    /// Field → (where its value was read, the message), for the fields it has.
    read_from: BTreeMap<&'static str, (Option<String>, i64)>,
    /// The message that made the application (its review is that message's).
    made: i64,
    /// Where the notes or people were last set.
    details_from: i64,
}

impl Replayed {
    fn made(inbound: &Inbound, message: &ApplicationMessage) -> Replayed {
        let details = details_of(inbound, false);
        let extra = message.outcome_detail.as_deref().and_then(held_review_of);
        let mut fields = inbound.fields.clone();
        fields.attendees = Some(fields.attendees.unwrap_or(1));
        let read_from = FIELDS
            .iter()
            .map(|(field, _)| (field.as_str(), (details.sources.get(field.as_str()).cloned(), message.message)))
            .collect();
        Replayed {
            fields,
            people: details.people,
            notes: details.notes,
            review: review(inbound, extra.as_deref()),
            sources: details.sources,
            read_from,
            made: message.message,
            details_from: message.message,
        }
    }

    fn changed(&mut self, inbound: &Inbound, message: &ApplicationMessage) {
        let (merged, changes) = self.fields.merged_with(&inbound.stated);
        self.fields = merged;
        let details = details_of(inbound, true);
        for change in changes {
            self.read_from.insert(change.field, (details.sources.get(change.field).cloned(), message.message));
        }
        self.details(details, message);
    }

    fn details(&mut self, details: crate::store::Details, message: &ApplicationMessage) {
        self.sources.extend(details.sources);
        if !details.people.is_empty() {
            self.people = details.people;
            self.details_from = message.message;
        }
        if details.notes.is_some() {
            self.notes = details.notes;
            self.details_from = message.message;
        }
    }
}

/// The applicant's fields, each with how its value reads as text.
type Getter = fn(&ApplicantFields) -> Option<String>;
const FIELDS: [(Field, Getter); 5] = [
    (Field::Name, |f| f.name.clone()),
    (Field::Organization, |f| f.organization.clone()),
    (Field::Position, |f| f.position.clone()),
    (Field::Phone, |f| f.phone.clone()),
    (Field::Attendees, |f| Some(f.attendees.unwrap_or(1).to_string())),
];

/// Read every message that made or changed an application again, attached forms with `forms`,
/// and compare what each application would be with what it is. Writes nothing.
pub fn reparse(store: &Store, forms: &dyn FormReader) -> Result<Reparse> {
    let applications: BTreeMap<i64, Application> = store.applications()?.into_iter().map(|app| (app.id, app)).collect();
    let mut messages: BTreeMap<i64, Vec<ApplicationMessage>> = BTreeMap::new();
    for message in store.application_messages()? {
        messages.entry(message.application).or_default().push(message);
    }
    let mut report = Reparse { changed: Vec::new(), read: 0, applications: 0, recorded: store.message_count()? };
    for (id, app) in &applications {
        let mut replayed: Option<Replayed> = None;
        let mut arrivals = BTreeMap::new();
        for message in messages.get(id).into_iter().flatten() {
            let Some(role) = role(message) else { continue };
            let (sha256, raw) = store.stored_raw(message.message)?;
            let mut inbound = read_message(&raw, &sha256, forms);
            drop(raw);
            note_reply_to(&mut inbound);
            report.read += 1;
            arrivals.insert(message.message, message.arrived_at);
            match (role, replayed.as_mut()) {
                (Role::Made, _) => replayed = Some(Replayed::made(&inbound, message)),
                (Role::Changed, Some(state)) => state.changed(&inbound, message),
                (Role::Cancelled, Some(state)) => state.details(details_of(&inbound, true), message),
                // Nothing made it as far as the database knows (an application recorded before
                // the desk listed its messages): nothing to replay onto.
                (_, None) => {}
            }
        }
        let Some(replayed) = replayed else { continue };
        report.applications += 1;
        let changes = compare(app, &replayed);
        if changes.is_empty() {
            continue;
        }
        arrivals.retain(|message, _| changes.iter().any(|c| c.message == Some(*message)));
        report.changed.push(ApplicationChanges {
            application: *id,
            email: app.email.clone(),
            changes,
            arrivals,
            rewrite: Rewrite {
                application: *id,
                fields: replayed.fields,
                people: replayed.people,
                notes: replayed.notes,
                review: replayed.review,
                sources: replayed.sources,
            },
        });
    }
    Ok(report)
}

/// Every value of `app` that the replay reads differently.
fn compare(app: &Application, replayed: &Replayed) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for (field, get) in FIELDS {
        let (old, new) = (get(&app.fields), get(&replayed.fields));
        if old != new {
            let (why, message) = replayed.read_from.get(field.as_str()).cloned().unzip();
            changes.push(FieldChange { field, old, new, why: why.flatten(), message });
        }
    }
    let people = |p: &[String]| (!p.is_empty()).then(|| p.join("; "));
    let others = [
        (Field::People, people(&app.people), people(&replayed.people), replayed.details_from),
        (Field::Notes, app.notes.clone(), replayed.notes.clone(), replayed.details_from),
        (Field::Review, app.review.clone(), replayed.review.clone(), replayed.made),
    ];
    for (field, old, new, message) in others {
        if old != new {
            changes.push(FieldChange { field, old, new, why: None, message: Some(message) });
        }
    }
    changes
}

/// Record what `reparse` found, in one transaction: each application's new values and one
/// history row per value, by `actor` at `now`. Sends nothing.
pub fn apply(store: &mut Store, reparse: &Reparse, actor: &str, now: Timestamp) -> Result<Applied> {
    store
        .group(|store| {
            for app in &reparse.changed {
                store.rewrite_application(&app.rewrite, &app.changes, ChangedBy::Reparse, Some(actor), now)?;
            }
            Ok(())
        })
        .context("cannot record what reading the stored mail again changed")?;
    let applied =
        Applied { applications: reparse.changed.len(), values: reparse.changed.iter().map(|a| a.changes.len()).sum() };
    info!(applications = applied.applications, values = applied.values, "reparse: changes recorded");
    Ok(applied)
}

impl Reparse {
    /// What changes, for the operator's terminal: per application, each value (old → new) and
    /// where the new one was read; then what was read and what happens next.
    pub fn describe(&self, tz: &TimeZone, applied: Option<Applied>) -> String {
        let mut out = String::new();
        for app in &self.changed {
            out.push_str(&format!("{} {}\n", application_number(app.application), app.email));
            for change in &app.changes {
                out.push_str(&format!(
                    "  {}: {} → {}\n",
                    change.field,
                    shown(change.old.as_deref()),
                    shown(change.new.as_deref())
                ));
                let arrived = change.message.and_then(|m| app.arrivals.get(&m));
                match (&change.why, arrived) {
                    (Some(why), Some(at)) => out.push_str(&format!(
                        "      from {why}, in the mail that arrived {}\n",
                        format_ko(&at.to_zoned(tz.clone()))
                    )),
                    (None, Some(at)) => out.push_str(&format!(
                        "      from the mail that arrived {}\n",
                        format_ko(&at.to_zoned(tz.clone()))
                    )),
                    _ => {}
                }
            }
        }
        let values: usize = self.changed.iter().map(|a| a.changes.len()).sum();
        let read = format!(
            "{} message(s) read again, those that made or changed {} application(s); the other {} recorded message(s) \
             changed no application and are left as they were",
            self.read,
            self.applications,
            (self.recorded - self.read as i64).max(0)
        );
        match (self.changed.is_empty(), applied) {
            (true, _) => out.push_str(&format!("Reading the stored mail again changes nothing ({read}).\n")),
            (false, None) => out.push_str(&format!(
                "{} application(s) would change ({values} value(s)); {read}.\nNothing was written: `smebridge reparse \
                 --apply` records these changes (no mail is sent; staff are told in the next summary).\n",
                self.changed.len()
            )),
            (false, Some(applied)) => out.push_str(&format!(
                "{} application(s) changed ({} value(s)), recorded with their history; {read}. No mail was sent; staff \
                 are told in the next summary.\n",
                applied.applications, applied.values
            )),
        }
        out
    }
}

/// A value on one line (lines joined with `; `), `(none)` for none.
fn shown(value: Option<&str>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(v) => v.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; "),
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} application(s), {} value(s)", self.applications, self.values)
    }
}
