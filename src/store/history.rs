//! What changed in an application after it was made (`application_history`, migration 0009): a
//! change and its history row are written in one transaction ([`Store::rewrite_application`]),
//! one row per field, saying who made it ([`ChangedBy`]), why, and from which message. `smebridge
//! reparse --apply` writes it; the daily summary tells staff what changed since the previous one
//! ([`Store::history_after`]).

use std::collections::BTreeMap;

use anyhow::Result;
use jiff::Timestamp;
use rusqlite::params;

use super::{people_json, sources_json, Cached, Store};
use crate::domain::{match_key, ApplicantFields};

/// Who changed an application (`application_history.by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangedBy {
    /// A mail from the applicant.
    Mail,
    /// `smebridge reparse --apply`: the stored mail read again by this smebridge's parser.
    Reparse,
    /// A person, through a smebridge command.
    Staff,
}

impl ChangedBy {
    pub const ALL: [ChangedBy; 3] = [ChangedBy::Mail, ChangedBy::Reparse, ChangedBy::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangedBy::Mail => "mail",
            ChangedBy::Reparse => "reparse",
            ChangedBy::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<ChangedBy> {
        ChangedBy::ALL.into_iter().find(|by| by.as_str() == s)
    }
}

/// An application's value that can change (`application_history.field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    Organization,
    Position,
    Phone,
    Attendees,
    /// Everyone named as applicant or attendee, joined with `; `.
    People,
    Notes,
    /// Why staff should look at it (the summary's "needs a person").
    Review,
    Status,
    Email,
    /// The event it is for (staff moved it: `application assign-event`).
    Event,
    /// A reply staff had sent (`application resend`, `--notify`): `new` is its kind.
    Reply,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::Name,
        Field::Organization,
        Field::Position,
        Field::Phone,
        Field::Attendees,
        Field::People,
        Field::Notes,
        Field::Review,
        Field::Status,
        Field::Email,
        Field::Event,
        Field::Reply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Organization => "organization",
            Field::Position => "position",
            Field::Phone => "phone",
            Field::Attendees => "attendees",
            Field::People => "people",
            Field::Notes => "notes",
            Field::Review => "review",
            Field::Status => "status",
            Field::Email => "email",
            Field::Event => "event",
            Field::Reply => "reply",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.as_str() == s)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value that changed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: Field,
    pub old: Option<String>,
    pub new: Option<String>,
    /// Where the new value was read, or the reason given.
    pub why: Option<String>,
    /// The stored message the new value was read from.
    pub message: Option<i64>,
}

/// An application's values after a change: everything [`Store::rewrite_application`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub application: i64,
    pub fields: ApplicantFields,
    pub people: Vec<String>,
    pub notes: Option<String>,
    pub review: Option<String>,
    pub sources: BTreeMap<String, String>,
}

/// A row of `application_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub id: i64,
    pub application: i64,
    pub at: Timestamp,
    pub change: FieldChange,
    pub by: ChangedBy,
    pub actor: Option<String>,
}

impl Store {
    /// Give an application the values of `rewrite` and record `changes` in its history, in one
    /// transaction (the caller's group, inside [`Store::group`]). Its status, address and
    /// messages stay as they are; no reply is queued.
    pub fn rewrite_application(
        &mut self,
        rewrite: &Rewrite,
        changes: &[FieldChange],
        by: ChangedBy,
        actor: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        let tx = self.write()?;
        let f = &rewrite.fields;
        let updated = tx.exec(
            "UPDATE applications SET name = ?2, organization = ?3, position = ?4, phone = ?5, attendees = ?6,
                    people = ?7, notes = ?8, review = ?9, sources = ?10, match_key = ?11
             WHERE id = ?1",
            params![
                rewrite.application,
                f.name,
                f.organization,
                f.position,
                f.phone,
                f.attendees.unwrap_or(1),
                people_json(&rewrite.people),
                rewrite.notes,
                rewrite.review,
                sources_json(&rewrite.sources),
                match_key(f),
            ],
        )?;
        anyhow::ensure!(updated == 1, "there is no application {}", rewrite.application);
        for change in changes {
            tx.exec(
                "INSERT INTO application_history (application, at, field, old, new, by, why, message, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    rewrite.application,
                    at.as_second(),
                    change.field,
                    change.old,
                    change.new,
                    by,
                    change.why,
                    change.message,
                    actor,
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The history rows with an id in `(after, up_to]`, oldest first.
    pub fn history_after(&self, after: i64, up_to: i64) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, application, at, field, old, new, by, why, message, actor FROM application_history
             WHERE id > ?1 AND id <= ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![after, up_to], |r| {
            let at: i64 = r.get(2)?;
            Ok(HistoryEntry {
                id: r.get(0)?,
                application: r.get(1)?,
                at: Timestamp::from_second(at).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Integer, Box::new(e))
                })?,
                change: FieldChange {
                    field: r.get(3)?,
                    old: r.get(4)?,
                    new: r.get(5)?,
                    why: r.get(7)?,
                    message: r.get(8)?,
                },
                by: r.get(6)?,
                actor: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The highest history row id (0: none). Read before what a summary shows, it bounds what
    /// the summary covers.
    pub fn last_history_id(&self) -> Result<i64> {
        Ok(self.conn.row("SELECT COALESCE(MAX(id), 0) FROM application_history", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{insert, message, store};
    use super::*;
    use crate::domain::{EmailAddress, EventId};
    use crate::store::MailboxUid;

    #[test]
    fn a_rewrite_and_its_history_are_one_and_the_history_reads_back_in_order() {
        let (_dir, mut store) = store();
        let kim = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        let committed = store.commit_message(
            at,
            &message("h1", b"h1", &kim),
            &insert(&kim, "김민준", "한빛테크"),
            Timestamp::now(),
            |_| Ok(None),
        );
        let id = committed.unwrap().application.unwrap();
        assert_eq!(store.last_history_id().unwrap(), 0);

        let mut app = store.application_by_email(&EventId::default_id(), &kim).unwrap().unwrap();
        app.fields.phone = Some("010-1234-5678".into());
        app.fields.organization = Some("한빛소재".into());
        let rewrite = Rewrite {
            application: id,
            fields: app.fields.clone(),
            people: vec!["김민준".into()],
            notes: None,
            review: None,
            sources: [("phone".to_owned(), "attached form 'form.docx', line 3, label '연락처'".to_owned())].into(),
        };
        let changes = [
            FieldChange {
                field: Field::Phone,
                old: None,
                new: Some("010-1234-5678".into()),
                why: Some("attached form 'form.docx', line 3, label '연락처'".into()),
                message: Some(1),
            },
            FieldChange {
                field: Field::Organization,
                old: Some("한빛테크".into()),
                new: Some("한빛소재".into()),
                why: None,
                message: Some(1),
            },
        ];
        let now: Timestamp = "2022-11-16T03:00:00Z".parse().unwrap();
        store.rewrite_application(&rewrite, &changes, ChangedBy::Reparse, Some("operator"), now).unwrap();

        let app = store.application_by_email(&EventId::default_id(), &kim).unwrap().unwrap();
        assert_eq!(app.fields, rewrite.fields);
        assert_eq!(app.people, ["김민준"]);
        assert_eq!(app.sources, rewrite.sources);
        // The match key moved with the organization.
        let found = ApplicantFields {
            name: Some("김민준".into()),
            organization: Some("한빛소재".into()),
            ..Default::default()
        };
        assert_eq!(store.namesakes(&EventId::default_id(), &found).unwrap(), [id]);

        let last = store.last_history_id().unwrap();
        let history = store.history_after(0, last).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].change, changes[0]);
        assert_eq!(history[1].change, changes[1]);
        assert!(history.iter().all(|h| h.by == ChangedBy::Reparse && h.at == now && h.application == id));
        assert_eq!(history[0].actor.as_deref(), Some("operator"));
        assert_eq!(store.history_after(history[0].id, last).unwrap().len(), 1);

        // No application, no history.
        let missing = Rewrite { application: 999, ..rewrite };
        assert!(store.rewrite_application(&missing, &changes, ChangedBy::Reparse, None, now).is_err());
        assert_eq!(store.last_history_id().unwrap(), last);
    }

    #[test]
    fn every_field_and_author_is_allowed_by_the_schema_and_nothing_else() {
        let (_dir, store) = store();
        let conn = &store.conn;
        conn.execute_batch(
            "INSERT INTO messages (id, sha256, message_id, arrived_at, size, outcome, recorded_at)
               VALUES (1, 'a', 'a@x.example', 0, 1, 'registered', 0);
             INSERT INTO applications (id, event, email, status, received_at, updated_at, first_message, last_message)
               VALUES (1, 'main', 'kim@x.example', 'accepted', 0, 0, 1, 1);",
        )
        .unwrap();
        let row = |field: &str, by: &str| {
            conn.execute(
                "INSERT INTO application_history (application, at, field, by) VALUES (1, 0, ?1, ?2)",
                [field, by],
            )
            .is_ok()
        };
        for field in Field::ALL {
            assert!(row(field.as_str(), "staff"), "{field}");
            assert_eq!(Field::parse(field.as_str()), Some(field));
        }
        for by in ChangedBy::ALL {
            assert!(row("name", by.as_str()), "{by:?}");
            assert_eq!(ChangedBy::parse(by.as_str()), Some(by));
        }
        assert!(!row("Name", "staff"));
        assert!(!row("name", "someone"));
    }
}
