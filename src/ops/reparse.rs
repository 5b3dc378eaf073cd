//! `smebridge reparse [--apply]`: the stored mail read again by this smebridge's parser, and
//! what that changes in each application.
//!
//! Each application is replayed from its messages, in the order the desk recorded them, as the
//! pipeline wrote it (`crate::pipeline`'s `decide.rs`): the message that made it gives every
//! field (and the review: what is missing, what looks wrong, what could not be read), an update
//! or a reopening changes the fields it states, a cancellation only its notes, people and
//! sources; the other messages (repeats, mail after the deadline) changed nothing then and change
//! nothing now. Each message is read as the daemon reads it ([`crate::pipeline::read_message`],
//! with the context given: attached forms through the confined child processes of
//! `crate::isolate` in `smebridge reparse`, the announcement of `[event] announcement_file`, the
//! center's address). What the replay ends with is compared with the
//! application as stored, value by value.
//!
//! What reparse corrects is how mail was read, never what the desk decided: no status changes, no
//! message moves to another application or event, nothing becomes or stops being an application,
//! and no mail is sent. (A desk with several events replays each application within its own
//! event; the report names the event then.) `--apply` writes each changed application and one history row per value
//! (`by = 'reparse'`, where the new value was read, from which message) in one transaction; the
//! next daily summary lists them.
//!
//! What staff set is never undone: a value whose last change in the application's history was
//! made by staff (`by = 'staff'`: `application edit`, `application resolve`, …) is left as it is,
//! with where it was read, however the mail reads now; the report lists it as kept ("kept: set by
//! staff on …").

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tracing::info;

use crate::domain::{ApplicantFields, EventId, Outcome};
use crate::parse::{self, Inbound};
use crate::pipeline::{details_of, held_review_of, note_reply_to, read_message, review};
use crate::reply::{application_number, format_ko};
use crate::store::{Application, ApplicationMessage, ChangedBy, Field, FieldChange, HistoryEntry, Rewrite, Store};

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
    /// The applications belong to more than one event: each change names its event.
    pub several_events: bool,
    /// Values the mail reads differently that staff set last: left as they are.
    pub kept: Vec<Kept>,
}

/// A value the stored mail reads differently, left as staff set it (the last change of the
/// field in the application's history was by staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub application: i64,
    pub event: EventId,
    pub email: String,
    pub field: Field,
    /// The value as stored (as staff left it).
    pub stored: Option<String>,
    /// What the stored mail reads.
    pub read: Option<String>,
    /// When staff set it, and who.
    pub at: Timestamp,
    pub actor: Option<String>,
}

/// One application's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationChanges {
    pub application: i64,
    /// The event the application is for.
    pub event: EventId,
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
        let (merged, changes) = self.fields.merged_with(&inbound.stated_over(&self.fields));
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

/// Read every message that made or changed an application again, as `context` says (attached
/// forms, the announcements, the center's address: [`crate::pipeline::ParseSetup`]), and
/// compare what each application would be with what it is. Writes nothing.
pub fn reparse(store: &Store, context: &parse::Context<'_>) -> Result<Reparse> {
    let applications: BTreeMap<i64, Application> = store.applications()?.into_iter().map(|app| (app.id, app)).collect();
    let mut messages: BTreeMap<i64, Vec<ApplicationMessage>> = BTreeMap::new();
    for message in store.application_messages()? {
        messages.entry(message.application).or_default().push(message);
    }
    let events: std::collections::BTreeSet<&EventId> = applications.values().map(|app| &app.event).collect();
    let mut report = Reparse {
        changed: Vec::new(),
        read: 0,
        applications: 0,
        recorded: store.message_count()?,
        several_events: events.len() > 1,
        kept: Vec::new(),
    };
    let staff = set_by_staff(store)?;
    for (id, app) in &applications {
        let mut replayed: Option<Replayed> = None;
        let mut arrivals = BTreeMap::new();
        for message in messages.get(id).into_iter().flatten() {
            let Some(role) = role(message) else { continue };
            let (sha256, raw) = store.stored_raw(message.message)?;
            let mut inbound = read_message(&raw, &sha256, context);
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
        let mut changes = compare(app, &replayed);
        let mut rewrite = Rewrite {
            application: *id,
            fields: replayed.fields,
            people: replayed.people,
            notes: replayed.notes,
            review: replayed.review,
            sources: replayed.sources,
        };
        // What staff set last stays as they set it (with where it was read), changed or not.
        for field in Field::ALL {
            let Some(entry) = staff.get(&(*id, field)) else { continue };
            if let Some(at) = changes.iter().position(|c| c.field == field) {
                let change = changes.remove(at);
                report.kept.push(Kept {
                    application: *id,
                    event: app.event.clone(),
                    email: app.email.clone(),
                    field,
                    stored: change.old,
                    read: change.new,
                    at: entry.at,
                    actor: entry.actor.clone(),
                });
            }
            keep_stored(&mut rewrite, app, field);
        }
        if changes.is_empty() {
            continue;
        }
        arrivals.retain(|message, _| changes.iter().any(|c| c.message == Some(*message)));
        report.changed.push(ApplicationChanges {
            application: *id,
            event: app.event.clone(),
            email: app.email.clone(),
            changes,
            arrivals,
            rewrite,
        });
    }
    Ok(report)
}

/// (application, field) → the history row of the field's last change, for every field whose last
/// change was made by staff.
fn set_by_staff(store: &Store) -> Result<BTreeMap<(i64, Field), HistoryEntry>> {
    let mut last: BTreeMap<(i64, Field), HistoryEntry> = BTreeMap::new();
    // Oldest first: a later row replaces an earlier one.
    for entry in store.history_after(0, store.last_history_id()?)? {
        last.insert((entry.application, entry.change.field), entry);
    }
    last.retain(|_, entry| entry.by == ChangedBy::Staff);
    Ok(last)
}

/// Put `field` of `rewrite` back as `app` holds it, with where it was read.
fn keep_stored(rewrite: &mut Rewrite, app: &Application, field: Field) {
    let (to, from) = (&mut rewrite.fields, &app.fields);
    match field {
        Field::Name => to.name = from.name.clone(),
        Field::Organization => to.organization = from.organization.clone(),
        Field::Position => to.position = from.position.clone(),
        Field::Phone => to.phone = from.phone.clone(),
        Field::Attendees => to.attendees = from.attendees,
        Field::People => rewrite.people = app.people.clone(),
        Field::Notes => rewrite.notes = app.notes.clone(),
        Field::Review => rewrite.review = app.review.clone(),
        // Never changed by reparse.
        Field::Status | Field::Email | Field::Event | Field::Reply => {}
    }
    let key = field.as_str();
    match app.sources.get(key) {
        Some(source) => rewrite.sources.insert(key.to_owned(), source.clone()),
        None => rewrite.sources.remove(key),
    };
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
        let when = |at: &Timestamp| format_ko(&at.to_zoned(tz.clone()));
        let mut ids: Vec<i64> =
            self.changed.iter().map(|a| a.application).chain(self.kept.iter().map(|k| k.application)).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let app = self.changed.iter().find(|a| a.application == id);
            let kept: Vec<&Kept> = self.kept.iter().filter(|k| k.application == id).collect();
            let (event, email) = match (app, kept.first()) {
                (Some(app), _) => (&app.event, &app.email),
                (None, Some(kept)) => (&kept.event, &kept.email),
                (None, None) => continue,
            };
            match self.several_events {
                true => out.push_str(&format!("{} {} {}\n", application_number(id), event.tag(), email)),
                false => out.push_str(&format!("{} {}\n", application_number(id), email)),
            }
            for change in app.map(|a| a.changes.as_slice()).unwrap_or_default() {
                out.push_str(&format!(
                    "  {}: {} → {}\n",
                    change.field,
                    shown(change.old.as_deref()),
                    shown(change.new.as_deref())
                ));
                let arrived = change.message.and_then(|m| app.and_then(|a| a.arrivals.get(&m)));
                match (&change.why, arrived) {
                    (Some(why), Some(at)) => {
                        out.push_str(&format!("      from {why}, in the mail that arrived {}\n", when(at)))
                    }
                    (None, Some(at)) => out.push_str(&format!("      from the mail that arrived {}\n", when(at))),
                    _ => {}
                }
            }
            for kept in kept {
                let by = kept.actor.as_deref().map(|a| format!(" by {a}")).unwrap_or_default();
                out.push_str(&format!(
                    "  {}: {} (kept: set by staff on {}{by}; the mail reads {})\n",
                    kept.field,
                    shown(kept.stored.as_deref()),
                    when(&kept.at),
                    shown(kept.read.as_deref())
                ));
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
        if !self.kept.is_empty() {
            out.push_str(&format!(
                "{} value(s) set by staff are kept as they are (reparse never undoes a correction by staff).\n",
                self.kept.len()
            ));
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::config::Config;
    use crate::domain::Stopped;
    use crate::parse::{FormKind, FormReader, InProcess, Unreadable};
    use crate::pipeline::{self, Incoming, Rules};
    use crate::reply::Replier;
    use crate::store::{MailboxUid, OutboxState};

    struct Desk {
        _dir: tempfile::TempDir,
        store: Store,
        config: Config,
        replier: Replier,
        uid: u32,
    }

    fn desk() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(crate::instance::Instance::claim(&dir.path().join("db.sqlite")).unwrap()).unwrap();
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(base.join("smebridge.toml")).unwrap();
        let config = Config::from_toml(&text, &base.join("smebridge.toml"), &base).unwrap();
        let replier = Replier::new(&config).unwrap();
        Desk { _dir: dir, store, config, replier, uid: 0 }
    }

    /// The shipped configuration with a second event: the workshop is `ws-2211`, a seminar
    /// `sem-2303`.
    fn two_event_desk() -> Desk {
        let mut desk = desk();
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(base.join("smebridge.toml")).unwrap().replacen(
            "[event]\n",
            "[[event]]\nid = \"ws-2211\"\n",
            1,
        );
        let seminar = "[[event]]\nid = \"sem-2303\"\nname = \"AI 세미나 (AI Seminar)\"\n\
                       deadline = \"2023-03-09T23:59:59+09:00\"\nstarts_at = \"2023-03-10T10:00:00+09:00\"\n\
                       venue = \"KAIST 학술문화관\"\n\n[staff]\n";
        let text = text.replacen("[staff]\n", seminar, 1);
        desk.config = Config::from_toml(&text, &base.join("smebridge.toml"), &base).unwrap();
        desk.replier = Replier::new(&desk.config).unwrap();
        desk
    }

    /// Every form reader dies, as one does under `SMEBRIDGE_FAULT_FORM=abort`.
    struct Crashing;
    impl FormReader for Crashing {
        fn read(&self, _: &FormKind, _: &[u8]) -> Result<String, Unreadable> {
            Err(Unreadable::Stopped(Stopped::Crashed { signal: 6 }))
        }
    }

    /// The message through the pipeline as the daemon runs it, forms read with `forms`.
    fn receive(desk: &mut Desk, raw: String, forms: &dyn FormReader) {
        receive_bytes(desk, raw.replace('\n', "\r\n").into_bytes(), forms);
    }

    fn receive_bytes(desk: &mut Desk, raw: Vec<u8>, forms: &dyn FormReader) {
        desk.uid += 1;
        let incoming = Incoming {
            uid: desk.uid,
            arrived_at: "2022-11-16T01:00:00Z".parse::<Timestamp>().unwrap()
                + jiff::SignedDuration::from_mins(desk.uid.into()),
            raw: raw.into(),
            too_large: None,
        };
        let batch = pipeline::sort(&desk.store, vec![incoming]).unwrap();
        pipeline::record(&mut desk.store, &batch, Timestamp::now()).unwrap();
        let parsed =
            pipeline::parse(batch, &desk.config, pipeline::Readers::in_process(forms), &CancellationToken::new());
        let rules = Rules { config: &desk.config, replier: &desk.replier };
        for p in parsed {
            let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: p.uid };
            pipeline::decide_and_store(&mut desk.store, rules, at, p, Timestamp::now()).unwrap();
        }
    }

    /// `reparse` as `smebridge reparse` runs it with the desk's configuration, forms read with
    /// `forms`.
    fn reparse_with(desk: &Desk, forms: &dyn FormReader) -> Reparse {
        reparse(&desk.store, &pipeline::ParseSetup::of(&desk.config).context(forms)).unwrap()
    }

    fn mail(from: &str, id: &str, subject: &str, body: &str) -> String {
        format!(
            "From: Applicant <{from}>\nTo: smebridge@kaist.ac.kr\nSubject: {subject}\nMessage-ID: <{id}>\nContent-Type: text/plain; charset=utf-8\n\n{body}"
        )
    }

    fn with_form(from: &str, id: &str) -> String {
        use base64::Engine as _;
        let form = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attachments/application-form.docx"),
        )
        .unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(form);
        let lines: String =
            encoded.as_bytes().chunks(76).map(|l| format!("{}\n", String::from_utf8_lossy(l))).collect();
        format!(
            "From: 김민준 <{from}>\nTo: smebridge@kaist.ac.kr\nSubject: 워크숍 참가 신청\nMessage-ID: <{id}>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n참가 신청서를 첨부합니다.\n\n김민준 드림\n--b\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; name=\"form.docx\"\nContent-Disposition: attachment; filename=\"form.docx\"\nContent-Transfer-Encoding: base64\n\n{lines}--b--\n"
        )
    }

    #[test]
    fn read_again_by_the_same_parser_nothing_changes() {
        let mut desk = desk();
        let forms = InProcess;
        receive(
            &mut desk,
            mail(
                "lee@daon.example",
                "l1@daon.example",
                "신청",
                "성명: 이서연\n소속: 다온\n연락처: 010-2222-3333\n비고: 채식\n",
            ),
            &forms,
        );
        receive(
            &mut desk,
            mail("lee@daon.example", "l2@daon.example", "수정", "연락처: 010-2222-4444\n참석 인원: 2명\n"),
            &forms,
        );
        receive(&mut desk, mail("lee@daon.example", "l3@daon.example", "다시", "성명: 이서연\n"), &forms);
        receive(&mut desk, mail("park@hana.example", "p1@hana.example", "신청", "성명: 박지훈\n"), &forms);
        receive(&mut desk, mail("park@hana.example", "p2@hana.example", "취소", "취소합니다.\n"), &forms);
        receive(&mut desk, with_form("kim@hanbit-tech.example", "k1@hanbit-tech.example"), &forms);
        let apps = desk.store.applications().unwrap();
        assert_eq!(apps.len(), 3);
        assert_eq!(apps[0].fields.phone.as_deref(), Some("010-2222-4444"), "the update was applied");

        let found = reparse_with(&desk, &forms);
        assert_eq!(found.changed, [], "{}", found.describe(desk.config.timezone(), None));
        assert_eq!((found.applications, found.read, found.recorded), (3, 5, 6), "the repeat is not read again");
        let text = found.describe(desk.config.timezone(), None);
        assert!(text.starts_with("Reading the stored mail again changes nothing (5 message(s) read again"), "{text}");
    }

    /// Staff register the announcement (`announcement_file`) after replies typed into its quoted
    /// form came in: reparse reads the form with it, as the daemon now does.
    #[test]
    fn an_announcement_registered_later_lets_reparse_read_the_form_typed_into_its_quote() {
        let mut desk = desk();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let raw = std::fs::read(fixtures.join("quoted-form-filled-in-below-outlooks-original-message.eml")).unwrap();
        receive_bytes(&mut desk, raw, &InProcess);
        let before = desk.store.applications().unwrap().remove(0);
        assert_eq!((before.fields.organization.as_deref(), before.fields.phone.as_deref()), (None, None));
        assert_eq!(reparse_with(&desk, &InProcess).changed, [], "without the announcement nothing changes");

        let announcement = std::fs::read(fixtures.join("announcements/announcement-ko.eml")).unwrap();
        desk.config.events[0].announcement = Some(std::sync::Arc::new(parse::Announcement::read(&announcement)));
        let found = reparse_with(&desk, &InProcess);
        assert_eq!(found.changed.len(), 1);
        let change = |field: Field| found.changed[0].changes.iter().find(|c| c.field == field).cloned().unwrap();
        let organization = change(Field::Organization);
        assert_eq!((organization.old, organization.new.as_deref()), (None, Some("미래로봇")));
        let why = organization.why.unwrap();
        assert!(why.starts_with("typed into the quoted form, line 20, label '소 속'"), "{why}");
        assert_eq!(change(Field::Phone).new.as_deref(), Some("010-2231-8890"));
        assert_eq!(change(Field::Position).new.as_deref(), Some("책임연구원"));
        assert_eq!(change(Field::Attendees).new.as_deref(), Some("2"));
    }

    #[test]
    fn a_form_that_could_not_be_read_is_read_again_and_apply_records_it_with_its_history_and_sends_nothing() {
        let mut desk = desk();
        receive(&mut desk, with_form("kim@hanbit-tech.example", "k1@hanbit-tech.example"), &Crashing);
        let before = desk.store.applications().unwrap().remove(0);
        assert_eq!(before.fields.organization, None, "nothing read from the form");
        let review = before.review.clone().unwrap();
        assert!(review.contains("the form 'form.docx' could not be read: the reader crashed (signal 6)"), "{review}");
        let outbox = desk.store.outbox_counts().unwrap();

        let found = reparse_with(&desk, &InProcess);
        assert_eq!(found.changed.len(), 1);
        let app = &found.changed[0];
        let change = |field: Field| app.changes.iter().find(|c| c.field == field).cloned();
        let organization = change(Field::Organization).expect("the organization is read from the form now");
        assert_eq!((organization.old, organization.new.as_deref()), (None, Some("(주)한빛테크")));
        let why = organization.why.unwrap();
        assert!(why.starts_with("attached form form.docx, "), "{why}");
        assert_eq!(change(Field::Phone).unwrap().new.as_deref(), Some("010-1234-5678"));
        assert_eq!(
            change(Field::Attendees).unwrap(),
            FieldChange {
                field: Field::Attendees,
                old: Some("1".into()),
                new: Some("2".into()),
                why: change(Field::Attendees).unwrap().why,
                message: Some(1),
            }
        );
        let review = change(Field::Review).unwrap();
        assert_eq!(review.old, before.review);
        assert!(review.new.as_deref().is_none_or(|r| !r.contains("could not be read")), "{review:?}");
        let text = found.describe(desk.config.timezone(), None);
        assert!(text.contains("SME-0001 kim@hanbit-tech.example\n  organization: (none) → (주)한빛테크\n      from attached form form.docx, "), "{text}");
        assert!(text.contains("in the mail that arrived 2022년 11월 16일 (수) 오전 10:01"), "{text}");
        assert!(text.contains("Nothing was written: `smebridge reparse --apply` records these changes"), "{text}");
        assert_eq!(desk.store.applications().unwrap()[0], before, "a dry run writes nothing");

        let now: Timestamp = "2022-11-16T05:00:00Z".parse().unwrap();
        let applied = apply(&mut desk.store, &found, "operator", now).unwrap();
        assert_eq!(applied, Applied { applications: 1, values: app.changes.len() });
        let after = desk.store.applications().unwrap().remove(0);
        assert_eq!(after.fields.organization.as_deref(), Some("(주)한빛테크"));
        assert_eq!(after.fields.attendees, Some(2));
        assert_eq!((after.status, after.received_at, &after.email), (before.status, before.received_at, &before.email));
        assert!(after.sources["organization"].starts_with("attached form form.docx"), "{:?}", after.sources);
        let history = desk.store.history_after(0, desk.store.last_history_id().unwrap()).unwrap();
        assert_eq!(history.len(), app.changes.len());
        assert!(history
            .iter()
            .all(|h| h.by == ChangedBy::Reparse && h.at == now && h.actor.as_deref() == Some("operator")));
        assert_eq!(desk.store.outbox_counts().unwrap(), outbox, "no mail");
        assert!(outbox.iter().all(|(state, _)| *state == OutboxState::Pending));

        // Read again: nothing left to change.
        assert_eq!(reparse_with(&desk, &InProcess).changed, []);

        // Staff are told in the next summary, once.
        let day = jiff::civil::date(2022, 11, 16);
        let later = now + jiff::SignedDuration::from_hours(1);
        let summary = crate::summary::render_for(&desk.store, &desk.config, day, later, None).unwrap();
        let told = "SME-0001): 메일 다시 읽음 (re-read by smebridge reparse): 소속 (Organization) - → (주)한빛테크";
        assert!(summary.text.contains(told), "{}", summary.text);
        assert!(summary.text.contains("메일 다시 읽음 (re-read by smebridge reparse): 확인 사항"), "{}", summary.text);
        assert!(crate::summary::summary_if_due(&mut desk.store, &desk.config, later).unwrap().is_some());
        let next = crate::summary::render_for(
            &desk.store,
            &desk.config,
            day,
            later + jiff::SignedDuration::from_hours(24),
            None,
        )
        .unwrap();
        assert!(!next.text.contains("re-read by smebridge reparse"), "told once: {}", next.text);
    }

    /// `application edit` set a value; reading the mail again neither undoes it nor its source,
    /// and the report says it is kept.
    #[test]
    fn a_value_staff_set_last_is_kept_as_they_set_it_and_the_report_says_so() {
        let mut desk = desk();
        receive(&mut desk, with_form("kim@hanbit-tech.example", "k1@hanbit-tech.example"), &Crashing);
        receive(
            &mut desk,
            mail("lee@daon.example", "l1@daon.example", "신청", "성명: 이서연\n소속: 다온\n연락처: 010-2222-3333\n"),
            &InProcess,
        );
        let edited: Timestamp = "2022-11-16T04:00:00Z".parse().unwrap();
        let staff_set = |desk: &mut Desk, id: i64, edit: crate::staff::Edit| {
            let changes = crate::staff::edit(&mut desk.store, None, id, &edit, "operator", edited).unwrap();
            assert_eq!(changes.len(), 1);
        };
        let by_staff = crate::staff::Edit { organization: Some("한빛 (직원 입력)".into()), ..Default::default() };
        staff_set(&mut desk, 1, by_staff);
        staff_set(&mut desk, 2, crate::staff::Edit { name: Some("이서윤".into()), ..Default::default() });
        let before: Vec<Application> = desk.store.applications().unwrap();

        let found = reparse_with(&desk, &InProcess);
        assert_eq!(found.changed.len(), 1, "only the form's other values change");
        let app = &found.changed[0];
        assert_eq!(app.application, 1);
        assert!(app.changes.iter().all(|c| c.field != Field::Organization), "{:?}", app.changes);
        assert!(app.changes.iter().any(|c| c.field == Field::Phone), "{:?}", app.changes);
        assert_eq!(app.rewrite.fields.organization.as_deref(), Some("한빛 (직원 입력)"));
        assert_eq!(app.rewrite.sources.get("organization"), before[0].sources.get("organization"));
        let kept: Vec<(i64, Field, Option<&str>, Option<&str>)> =
            found.kept.iter().map(|k| (k.application, k.field, k.stored.as_deref(), k.read.as_deref())).collect();
        assert_eq!(
            kept,
            [
                (1, Field::Organization, Some("한빛 (직원 입력)"), Some("(주)한빛테크")),
                (2, Field::Name, Some("이서윤"), Some("이서연")),
            ]
        );
        let text = found.describe(desk.config.timezone(), None);
        for line in [
            "SME-0001 kim@hanbit-tech.example\n",
            "  organization: 한빛 (직원 입력) (kept: set by staff on 2022년 11월 16일 (수) 오후 1:00 by operator; the \
             mail reads (주)한빛테크)\n",
            "SME-0002 lee@daon.example\n  name: 이서윤 (kept: set by staff on 2022년 11월 16일 (수) 오후 1:00 by \
             operator; the mail reads 이서연)\n",
            "2 value(s) set by staff are kept as they are (reparse never undoes a correction by staff).\n",
        ] {
            assert!(text.contains(line), "{line:?} not in:\n{text}");
        }

        let now: Timestamp = "2022-11-16T05:00:00Z".parse().unwrap();
        apply(&mut desk.store, &found, "operator", now).unwrap();
        let after = desk.store.applications().unwrap();
        assert_eq!(after[0].fields.organization.as_deref(), Some("한빛 (직원 입력)"));
        assert_eq!(after[0].fields.phone.as_deref(), Some("010-1234-5678"), "the rest is read from the form");
        assert_eq!(after[1], before[1], "nothing else changed in the second");
        let history = desk.store.history_after(0, desk.store.last_history_id().unwrap()).unwrap();
        assert!(history
            .iter()
            .filter(|h| h.by == ChangedBy::Reparse)
            .all(|h| h.application == 1 && h.change.field != Field::Organization));

        // Read again: still kept, nothing else left to change.
        let again = reparse_with(&desk, &InProcess);
        assert_eq!((again.changed.len(), again.kept.len()), (0, 2));
    }

    #[test]
    fn with_several_events_each_application_is_read_again_within_its_event_and_the_report_names_it() {
        let mut desk = two_event_desk();
        let kim = "kim@hanbit-tech.example";
        // The same person applies to both events; the seminar's form could not be read.
        let workshop = mail(kim, "w1@hanbit-tech.example", "[ws-2211] 참가 신청", "성명: 김민준\n소속: 한빛테크\n");
        receive(&mut desk, workshop, &InProcess);
        let seminar = with_form(kim, "s1@hanbit-tech.example").replace("Subject: 워크숍", "Subject: [sem-2303] 세미나");
        receive(&mut desk, seminar, &Crashing);
        let apps = desk.store.applications().unwrap();
        let events: Vec<&str> = apps.iter().map(|a| a.event.as_str()).collect();
        assert_eq!(events, ["ws-2211", "sem-2303"]);
        assert_eq!(apps[1].fields.organization, None, "nothing read from the form");

        let found = reparse_with(&desk, &InProcess);
        assert!(found.several_events);
        assert_eq!(found.changed.len(), 1, "the workshop's application reads the same");
        assert_eq!((found.changed[0].application, found.changed[0].event.as_str()), (2, "sem-2303"));
        let text = found.describe(desk.config.timezone(), None);
        assert!(
            text.contains("SME-0002 [sem-2303] kim@hanbit-tech.example\n  organization: (none) → (주)한빛테크\n"),
            "{text}"
        );
        assert!(!text.contains("SME-0001"), "{text}");

        apply(&mut desk.store, &found, "operator", "2022-11-16T05:00:00Z".parse().unwrap()).unwrap();
        let apps = desk.store.applications().unwrap();
        assert_eq!(apps[0].fields.organization.as_deref(), Some("한빛테크"), "the other event's is untouched");
        assert_eq!(apps[1].fields.organization.as_deref(), Some("(주)한빛테크"));
        assert_eq!(apps.iter().map(|a| a.event.as_str()).collect::<Vec<_>>(), events, "no application moves");

        // Staff are told in that event's summary, not in the other's.
        let day = jiff::civil::date(2022, 11, 16);
        let later: Timestamp = "2022-11-16T06:00:00Z".parse().unwrap();
        let summary_of = |event: &str| {
            let id = EventId::parse(event).unwrap();
            crate::summary::render_for(&desk.store, &desk.config, day, later, Some(&id)).unwrap().text
        };
        let told = "SME-0002): 메일 다시 읽음 (re-read by smebridge reparse): 소속 (Organization) - → (주)한빛테크";
        assert!(summary_of("sem-2303").contains(told), "{}", summary_of("sem-2303"));
        assert!(!summary_of("ws-2211").contains("re-read by smebridge reparse"), "{}", summary_of("ws-2211"));
        let all = crate::summary::render_for(&desk.store, &desk.config, day, later, None).unwrap().text;
        assert!(all.contains(told), "{all}");
    }
}
