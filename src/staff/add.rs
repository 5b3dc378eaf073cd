//! `smebridge application add --event ID --name … --organization … --email …`: a registration
//! staff took by phone or in person. There is no mail, so a short record of what staff entered
//! is kept in its place (outcome `registered`, route `staff`); the application is judged by the
//! event's seats as a mail would be (accepted, or waitlisted when it does not fit; the deadline
//! is staff's call; a missing phone needs a person, as for mail), its history says "staff via CLI" and who, and with `--notify` the
//! applicant gets the acknowledgement (or the waiting-list reply) a mail would have had.

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use super::STAFF_VIA_CLI;
use crate::domain::{ApplicantFields, EmailAddress, EventId, ReplyKind, Status};
use crate::pipeline::Rules;
use crate::reply::{application_number, Addressee, ReplyFacts};
use crate::store::{StaffRecord, Store};

/// What staff took down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub event: EventId,
    pub email: String,
    pub fields: ApplicantFields,
}

/// What `add` did: the application's id and status, and the reply queued (with `notify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub id: i64,
    pub status: Status,
    pub reply: Option<ReplyKind>,
}

/// Register `registration` (see the module docs). Nothing is sent here.
pub fn add(
    store: &mut Store,
    rules: Rules<'_>,
    registration: &Registration,
    notify: bool,
    actor: &str,
    now: Timestamp,
) -> Result<Added> {
    let config = rules.config;
    let event = config
        .event(&registration.event)
        .with_context(|| crate::summary::unknown_event(config, &registration.event))?;
    let email = EmailAddress::parse(registration.email.trim()).context("--email is not an email address")?;
    let fields = &registration.fields;
    super::one_line(&[
        ("--name", fields.name.as_deref()),
        ("--organization", fields.organization.as_deref()),
        ("--position", fields.position.as_deref()),
        ("--phone", fields.phone.as_deref()),
    ])?;
    if fields.name.is_none() || fields.organization.is_none() {
        bail!("a registration needs --name and --organization");
    }
    if let Some(n) = fields.attendees {
        anyhow::ensure!(n >= 1, "--attendees must be at least 1");
    }
    if let Some(other) = store.application_by_email(&event.id, &email)? {
        bail!(
            "this address already applied to {} as {}: correct that one (application edit) instead",
            event.id,
            application_number(other.id)
        );
    }
    let attendees = i64::from(fields.attendees.unwrap_or(1));
    let status = match event.capacity {
        Some(capacity) if attendees > i64::from(capacity) - store.seats_taken(&event.id)? => Status::Waitlisted,
        _ => Status::Accepted,
    };
    let kind = match status {
        Status::Waitlisted => ReplyKind::Waitlisted,
        _ => ReplyKind::Ack,
    };
    let stamp = crate::parse::sha256_hex(format!("staff-add-{email}-{}-{now}", event.id).as_bytes());
    let message_id = format!("smebridge.staff-add.{}@{}", &stamp[..24], config.own_address().domain());
    let raw = record(&message_id, &email, &config.own_address(), fields, actor, now);
    let why = STAFF_VIA_CLI;
    let people: Vec<String> = fields.name.iter().cloned().collect();
    let missing: Vec<String> = fields.missing().iter().map(|f| format!("missing: {f}")).collect();
    let record = StaffRecord {
        event: &event.id,
        email: &email,
        fields,
        people: &people,
        review: (!missing.is_empty()).then(|| missing.join("\n")),
        message_id: &message_id,
        subject: SUBJECT,
        raw: raw.as_bytes(),
    };
    let id = store.register_by_staff(&record, status, why, actor, now, |id| {
        if !notify {
            return Ok(None);
        }
        let addressee = Addressee {
            to: &email,
            display_name: fields.name.as_deref(),
            subject: None,
            in_reply_to: "",
            answers_sha256: &stamp,
        };
        let facts = ReplyFacts { status: Some(status), ..ReplyFacts::about(event, id, fields, now) };
        Ok(Some(
            rules.replier.render(kind, &addressee, &facts).with_context(|| format!("cannot write the {kind} reply"))?,
        ))
    })?;
    Ok(Added { id, status, reply: notify.then_some(kind) })
}

/// The subject of the record kept for a registration staff took.
const SUBJECT: &str = "Registered by staff (smebridge application add)";

/// The record kept in place of the mail: what staff entered, labelled as an application form
/// is, so that reading it again (`smebridge reparse`) finds the same fields.
fn record(
    message_id: &str,
    email: &EmailAddress,
    center: &EmailAddress,
    fields: &ApplicantFields,
    actor: &str,
    now: Timestamp,
) -> String {
    let line =
        |label: &str, value: &Option<String>| value.as_ref().map(|v| format!("{label}: {v}\n")).unwrap_or_default();
    format!(
        "From: <{email}>\r\nTo: <{center}>\r\nSubject: {SUBJECT}\r\nMessage-ID: <{message_id}>\r\nDate: {date}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         {STAFF_VIA_CLI} ({actor})\n\n{name}{organization}{position}{phone}참석인원: {attendees}명\n",
        date = jiff::fmt::rfc2822::to_string(&now.to_zoned(jiff::tz::TimeZone::UTC)).unwrap_or_default(),
        name = line("성명", &fields.name),
        organization = line("소속", &fields.organization),
        position = line("직위", &fields.position),
        phone = line("연락처", &fields.phone),
        attendees = fields.attendees.unwrap_or(1),
    )
}
