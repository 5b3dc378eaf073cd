//! Applications: one per applicant and event, found by address within the event (by name and
//! organization only as namesakes, for a note to staff), listed with the attachments of every message that belongs to them; each
//! event's waiting list moved up as its places free.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::outbox::insert_reply;
use super::{application_from_row, people_json, sources_json, Cached, NewReply, Store, APPLICATION_COLUMNS};
use crate::domain::{match_key, namesakes, ApplicantFields, EmailAddress, EventId, Status};
use crate::reply::CalendarSent;

/// For a message that names nobody and gives no field (automatic mail, tests).
pub static NO_DETAILS: Details = Details { people: Vec::new(), notes: None, sources: BTreeMap::new() };

/// Who the message names and where each field it gives was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// Everyone the mail names as applicant or attendee (empty: nobody by name).
    pub people: Vec<String>,
    /// What the applicant wrote under a remarks label.
    pub notes: Option<String>,
    /// Field name → where its value was read, in words for staff. For an update, only the
    /// fields the mail states (they replace the earlier entries).
    pub sources: BTreeMap<String, String>,
}

/// What a message does to the applications table.
#[derive(Debug, Clone)]
pub enum ApplicationWrite {
    None,
    Insert {
        event: EventId,
        email: EmailAddress,
        fields: ApplicantFields,
        status: Status,
        review: Option<String>,
    },
    /// New field values and, when `status` is set, a new status.
    Update {
        id: i64,
        fields: ApplicantFields,
        status: Option<Status>,
    },
    /// Only note that this message belongs to the application.
    Touch {
        id: i64,
    },
}

/// An application as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: i64,
    /// The event it is for.
    pub event: EventId,
    pub email: String,
    pub fields: ApplicantFields,
    pub status: Status,
    pub received_at: Timestamp,
    /// Why staff should look at it (one reason per line), if anything.
    pub review: Option<String>,
    /// The last message that belongs to this application.
    pub last_message: i64,
    /// Everyone named as applicant or attendee.
    pub people: Vec<String>,
    /// What the applicant wrote under a remarks label (the latest mail's, if it has any).
    pub notes: Option<String>,
    /// Field name → where its current value was read.
    pub sources: BTreeMap<String, String>,
    /// The attachments of every message that belongs to it, in the order they arrived. Filled by
    /// [`Store::applications`] (what exports and the summary list); empty where the pipeline
    /// looks up one application to decide about a message.
    pub attachments: Vec<StoredAttachment>,
}

/// An attachment as listed with an application.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredAttachment {
    pub name: String,
    #[serde(rename = "type")]
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// The `winmail.dat` or attached message it was found in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

impl Store {
    /// Bring every application's `match_key` up to date: rows from before migration 2 have none,
    /// and a change to the normalization ([`match_key`]) must not leave stale keys behind.
    /// Computed here rather than in SQL because the normalization is Rust; only rows whose key
    /// differs are written, so an up-to-date database is only read.
    pub(super) fn refresh_match_keys(&mut self) -> Result<()> {
        let tx = self.write()?;
        let stale: Vec<(i64, Option<String>)> = {
            let mut stmt = tx.prepare("SELECT id, name, organization, match_key FROM applications")?;
            let rows = stmt.query_map([], |r| {
                let fields = ApplicantFields { name: r.get(1)?, organization: r.get(2)?, ..ApplicantFields::default() };
                Ok((r.get::<_, i64>(0)?, match_key(&fields), r.get::<_, Option<String>>(3)?))
            })?;
            let mut stale = Vec::new();
            for row in rows {
                let (id, key, stored) = row?;
                if key != stored {
                    stale.push((id, key));
                }
            }
            stale
        };
        for (id, key) in &stale {
            tx.exec("UPDATE applications SET match_key = ?2 WHERE id = ?1", params![id, key])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The application `email` made for `event`, if any.
    pub fn application_by_email(&self, event: &EventId, email: &EmailAddress) -> Result<Option<Application>> {
        Ok(self
            .conn
            .row(
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE event = ?1 AND email = ?2"),
                params![event, email.as_str()],
                application_from_row,
            )
            .optional()?)
    }

    /// The application with this id (its number is `SME-<id>`), if any.
    pub fn application(&self, id: i64) -> Result<Option<Application>> {
        Ok(self
            .conn
            .row(&format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = ?1"), [id], application_from_row)
            .optional()?)
    }

    /// The applications for `event` with the same name and organization as `fields` (see
    /// [`crate::domain::namesakes`]), by id, oldest first.
    pub fn namesakes(&self, event: &EventId, fields: &ApplicantFields) -> Result<Vec<i64>> {
        let Some(key) = match_key(fields) else { return Ok(Vec::new()) };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE event = ?1 AND match_key = ?2 ORDER BY id"
        ))?;
        let candidates: Vec<Application> =
            stmt.query_map(params![event, key], application_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(namesakes(fields, candidates.iter().map(|app| (app.id, &app.fields))))
    }

    /// The attachments of every message that belongs to each application, by application id;
    /// in the order the messages arrived, and within a message in the order listed.
    pub fn attachments_by_application(&self) -> Result<HashMap<i64, Vec<StoredAttachment>>> {
        let mut stmt = self.conn.prepare(
            "SELECT am.application, a.name, a.content_type, a.size, a.sha256, a.within
             FROM application_messages am
             JOIN attachments a ON a.message = am.message
             JOIN messages m ON m.id = am.message
             ORDER BY am.application, m.arrived_at, m.id, a.position",
        )?;
        let mut out: HashMap<i64, Vec<StoredAttachment>> = HashMap::new();
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                StoredAttachment {
                    name: r.get(1)?,
                    content_type: r.get(2)?,
                    size: r.get(3)?,
                    sha256: r.get(4)?,
                    within: r.get(5)?,
                },
            ))
        })?;
        for row in rows {
            let (application, attachment) = row?;
            out.entry(application).or_default().push(attachment);
        }
        Ok(out)
    }

    /// Every application, oldest first, with its attachments.
    pub fn applications(&self) -> Result<Vec<Application>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {APPLICATION_COLUMNS} FROM applications ORDER BY received_at, id"))?;
        let mut rows: Vec<Application> = stmt.query_map([], application_from_row)?.collect::<rusqlite::Result<_>>()?;
        let mut attachments = self.attachments_by_application()?;
        for app in &mut rows {
            app.attachments = attachments.remove(&app.id).unwrap_or_default();
        }
        Ok(rows)
    }

    /// The subject of the mail that made each application, by application id (for staff).
    pub fn application_subjects(&self) -> Result<HashMap<i64, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.id, m.subject FROM applications a JOIN messages m ON m.id = a.first_message
             WHERE m.subject IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// People registered for `event` (sum of attendees over its accepted applications).
    pub fn seats_taken(&self, event: &EventId) -> Result<i64> {
        Ok(self.conn.row(
            "SELECT COALESCE(SUM(attendees), 0) FROM applications WHERE event = ?1 AND status = 'accepted'",
            [event],
            |r| r.get(0),
        )?)
    }

    /// Move `event`'s waitlisted applications up, first come first served, while they fit in
    /// `capacity` people. Each promotion and its reply commit together. Safe to repeat: with no
    /// seats or no waitlist it does nothing. Returns how many were promoted.
    pub fn promote_waitlisted(
        &mut self,
        event: &EventId,
        capacity: i64,
        now: Timestamp,
        mut make_reply: impl FnMut(&Application, CalendarSent) -> Result<Option<NewReply>>,
    ) -> Result<usize> {
        let mut promoted = 0;
        loop {
            let tx = self.write()?;
            let taken: i64 = tx.row(
                "SELECT COALESCE(SUM(attendees), 0) FROM applications WHERE event = ?1 AND status = 'accepted'",
                [event],
                |r| r.get(0),
            )?;
            let next = tx
                .row(
                    &format!(
                        "SELECT {APPLICATION_COLUMNS} FROM applications WHERE event = ?1 AND status = 'waitlisted'
                         ORDER BY received_at, id LIMIT 1"
                    ),
                    [event],
                    application_from_row,
                )
                .optional()?;
            let Some(app) = next else { return Ok(promoted) };
            if taken + i64::from(app.fields.attendees.unwrap_or(1)) > capacity {
                return Ok(promoted);
            }
            tx.exec(
                "UPDATE applications SET status = 'accepted', updated_at = ?2 WHERE id = ?1",
                params![app.id, now.as_second()],
            )?;
            if let Some(reply) = make_reply(&app, super::journey::calendar_sent(&tx, app.id)?)? {
                insert_reply(&tx, &reply, Some(app.last_message), Some(app.id), now.as_second())?;
            }
            tx.commit()?;
            promoted += 1;
        }
    }
}

impl Store {
    /// Give application `id` to event `to` with `status` (staff's correction of where it went),
    /// atomically with its reply: the application and every message that belongs to it now
    /// belong to `to`, routed by staff. `make_reply` sees the application as it was. False (and
    /// nothing written) when the application is not (or no longer) for `from`. `actor`: who ran
    /// the command, for the history.
    pub fn move_application(
        &mut self,
        id: i64,
        (from, to): (&EventId, &EventId),
        status: Status,
        now: Timestamp,
        actor: &str,
        make_reply: impl FnOnce(&Application) -> Result<Option<NewReply>>,
    ) -> Result<bool> {
        let tx = self.write()?;
        let Some(app) = tx
            .row(
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = ?1 AND event = ?2"),
                params![id, from],
                application_from_row,
            )
            .optional()?
        else {
            return Ok(false);
        };
        tx.exec(
            "UPDATE applications SET event = ?2, status = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, to, status, now.as_second()],
        )?;
        tx.exec(
            "UPDATE messages SET event = ?2, route = 'staff'
             WHERE id IN (SELECT message FROM application_messages WHERE application = ?1)",
            params![id, to],
        )?;
        // In its history: the event, and the status when it is judged differently there.
        let mut changes = vec![(super::history::Field::Event, from.as_str(), to.as_str())];
        if status != app.status {
            changes.push((super::history::Field::Status, app.status.as_str(), status.as_str()));
        }
        for (field, old, new) in changes {
            tx.exec(
                "INSERT INTO application_history (application, at, field, old, new, by, why, message, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'staff', 'staff via CLI: assign-event', NULL, ?6)",
                params![id, now.as_second(), field, old, new, actor],
            )?;
        }
        if let Some(reply) = make_reply(&app)? {
            // It answers no message of its own: the application's messages were answered for the
            // event they first went to (outbox: one reply of a kind per message).
            insert_reply(&tx, &reply, None, Some(id), now.as_second())?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// The application for `event` message `message` belongs to, if any.
    pub fn application_of_message(&self, message: i64, event: &EventId) -> Result<Option<i64>> {
        Ok(self
            .conn
            .row(
                "SELECT a.id FROM application_messages am JOIN applications a ON a.id = am.application
                 WHERE am.message = ?1 AND a.event = ?2",
                params![message, event],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The Message-ID and subject of a recorded message, for a reply that answers it.
    pub fn message_thread(&self, id: i64) -> Result<Option<(String, Option<String>)>> {
        Ok(self
            .conn
            .row("SELECT message_id, subject FROM messages WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }
}

/// What a message does to the applications table, as part of recording it (see
/// [`Store::finish_reading`]): the id of the application it belongs to, if any.
pub(super) fn write_application(
    tx: &Connection,
    write: &ApplicationWrite,
    message_row: i64,
    arrived_at: Timestamp,
    details: &Details,
) -> Result<Option<i64>> {
    Ok(match write {
        ApplicationWrite::None => None,
        ApplicationWrite::Insert { event, email, fields, status, review } => {
            tx.exec(
                    "INSERT INTO applications (email, name, organization, position, phone, attendees, status, received_at, updated_at, first_message, last_message, review, people, sources, notes, event)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14)",
                    params![
                        email.as_str(),
                        fields.name,
                        fields.organization,
                        fields.position,
                        fields.phone,
                        fields.attendees.unwrap_or(1),
                        status.as_str(),
                        arrived_at.as_second(),
                        message_row,
                        review,
                        people_json(&details.people),
                        sources_json(&details.sources),
                        details.notes,
                        event,
                    ],
                )?;
            Some(tx.last_insert_rowid())
        }
        ApplicationWrite::Update { id, fields, status } => {
            tx.exec(
                "UPDATE applications SET name = ?2, organization = ?3, position = ?4, phone = ?5, attendees = ?6,
                            updated_at = ?7, last_message = ?8, status = COALESCE(?9, status),
                            people = COALESCE(?10, people), sources = json_patch(COALESCE(sources, '{}'), ?11),
                            notes = COALESCE(?12, notes)
                     WHERE id = ?1",
                params![
                    id,
                    fields.name,
                    fields.organization,
                    fields.position,
                    fields.phone,
                    fields.attendees.unwrap_or(1),
                    arrived_at.as_second(),
                    message_row,
                    status.map(Status::as_str),
                    people_json(&details.people),
                    sources_json(&details.sources),
                    details.notes,
                ],
            )?;
            Some(*id)
        }
        ApplicationWrite::Touch { id } => {
            tx.exec("UPDATE applications SET last_message = ?2 WHERE id = ?1", params![id, message_row])?;
            Some(*id)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{attachment, insert, message, store};
    use super::*;
    use crate::store::MailboxUid;

    fn main() -> EventId {
        EventId::default_id()
    }

    #[test]
    fn people_and_sources_are_kept_and_an_update_replaces_only_the_sources_it_states() {
        let (_dir, mut store) = store();
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid };
        let sources = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let first = Details {
            notes: Some("주차 필요".into()),
            people: vec!["김민준".into(), "이하은".into()],
            sources: sources(&[("name", "line 3, label '성명'"), ("phone", "signature block")]),
        };
        let mut msg = message("p1", b"p1", &kim);
        msg.outcome.details = &first;
        let fields =
            ApplicantFields {
                name: Some("김민준".into()), phone: Some("010-1234-5678".into()), ..Default::default()
            };
        let insert = ApplicationWrite::Insert {
            event: EventId::default_id(),
            email: kim.clone(),
            fields: fields.clone(),
            status: Status::Accepted,
            review: None,
        };
        let id =
            store.commit_message(at(1), &msg, &insert, Timestamp::now(), |_| Ok(None)).unwrap().application.unwrap();

        let later =
            Details { people: Vec::new(), notes: None, sources: sources(&[("phone", "line 1, label '연락처'")]) };
        let mut msg = message("p2", b"p2", &kim);
        msg.outcome.message_id = "p2@x.example";
        msg.outcome.details = &later;
        let fields = ApplicantFields { phone: Some("010-9876-5432".into()), ..fields };
        store
            .commit_message(
                at(2),
                &msg,
                &ApplicationWrite::Update { id, fields, status: None },
                Timestamp::now(),
                |_| Ok(None),
            )
            .unwrap();

        let app = store.application_by_email(&EventId::default_id(), &kim).unwrap().unwrap();
        assert_eq!(app.people, ["김민준", "이하은"], "a mail naming nobody keeps the people");
        assert_eq!(app.notes.as_deref(), Some("주차 필요"), "a mail without notes keeps the notes");
        assert_eq!(app.sources, sources(&[("name", "line 3, label '성명'"), ("phone", "line 1, label '연락처'")]));
    }

    #[test]
    fn attachments_of_every_message_of_an_application_are_listed_with_it() {
        let (_dir, mut store) = store();
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let other = EmailAddress::parse("lee@daon.example").unwrap();
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid };
        let first = [attachment("신청서.hwpx", 34_000), attachment("명함.png", 20)];
        let mut msg = message("s1", b"raw1", &kim);
        msg.outcome.attachments = &first;
        let app = store
            .commit_message(at(1), &msg, &insert(&kim, "김민준", "한빛테크"), Timestamp::now(), |_| Ok(None))
            .unwrap();
        let app = app.application.unwrap();
        // A second message (e.g. the corrected form) touches the same application.
        let second = [attachment("신청서-수정.pdf", 9)];
        let mut msg = message("s2", b"raw2", &kim);
        msg.outcome.message_id = "m2@x.example";
        msg.outcome.attachments = &second;
        store
            .commit_message(at(2), &msg, &ApplicationWrite::Touch { id: app }, Timestamp::now(), |_| Ok(None))
            .unwrap();
        // A message that belongs to no application keeps its list, shown with nothing.
        let stray = [attachment("광고.pdf", 5)];
        let mut msg = message("s3", b"raw3", &other);
        msg.outcome.message_id = "m3@x.example";
        msg.outcome.attachments = &stray;
        store.commit_message(at(3), &msg, &ApplicationWrite::None, Timestamp::now(), |_| Ok(None)).unwrap();

        let listed = store.attachments_by_application().unwrap();
        let names: Vec<&str> = listed[&app].iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["신청서.hwpx", "명함.png", "신청서-수정.pdf"]);
        assert_eq!(listed[&app][0].size, 34_000);
        assert_eq!(listed.len(), 1);
        let apps = store.applications().unwrap();
        assert_eq!(apps[0].attachments, listed[&app]);
        let stored: i64 = store.conn.query_row("SELECT COUNT(*) FROM attachments", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, 4, "every message's attachments are recorded, linked or not");
    }

    #[test]
    fn namesakes_are_found_by_name_and_organization_and_follow_changes() {
        let (_dir, mut store) = store();
        let at = |uid| MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid };
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let id = store
            .commit_message(
                at(1),
                &message("k1", b"k1", &kim),
                &insert(&kim, "김민준", "(주)한빛테크"),
                Timestamp::now(),
                |_| Ok(None),
            )
            .unwrap()
            .application
            .unwrap();
        let asking = |name: &str, organization: Option<&str>| ApplicantFields {
            name: Some(name.into()),
            organization: organization.map(str::to_owned),
            ..Default::default()
        };
        assert_eq!(store.namesakes(&main(), &asking("김민준", Some("주식회사 한빛테크"))).unwrap(), [id]);
        assert!(store.namesakes(&main(), &asking("김민준", None)).unwrap().is_empty());
        assert!(store.namesakes(&main(), &asking("김민준", Some("한빛소재"))).unwrap().is_empty());
        let elsewhere = EventId::parse("other-event").unwrap();
        assert!(store.namesakes(&elsewhere, &asking("김민준", Some("한빛테크"))).unwrap().is_empty(), "per event");

        // An update that changes the organization moves the key with it.
        let mut msg = message("k2", b"k2", &kim);
        msg.outcome.message_id = "k2@x.example";
        let fields = ApplicantFields {
            name: Some("김민준".into()),
            organization: Some("한빛소재".into()),
            ..Default::default()
        };
        store
            .commit_message(
                at(2),
                &msg,
                &ApplicationWrite::Update { id, fields, status: None },
                Timestamp::now(),
                |_| Ok(None),
            )
            .unwrap();
        assert!(store.namesakes(&main(), &asking("김민준", Some("한빛테크"))).unwrap().is_empty());
        assert_eq!(store.namesakes(&main(), &asking("김민준", Some("한빛소재"))).unwrap(), [id]);

        // A second 김민준 at 한빛소재: both are namesakes, oldest first.
        let other = EmailAddress::parse("minjun@other.example").unwrap();
        let mut msg = message("k3", b"k3", &other);
        msg.outcome.message_id = "k3@x.example";
        let second = store
            .commit_message(at(3), &msg, &insert(&other, "김 민준", "㈜한빛소재"), Timestamp::now(), |_| {
                Ok(None)
            })
            .unwrap()
            .application
            .unwrap();
        assert_eq!(store.namesakes(&main(), &asking("김민준", Some("한빛소재"))).unwrap(), [id, second]);
    }
}
