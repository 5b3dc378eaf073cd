//! Staff corrections (`smebridge application edit|cancel|show`): a status set by hand with its
//! history row, in one transaction; an application's history for `show`; a notice to the
//! applicant (`--notify`) queued in the outbox.

use anyhow::{Context, Result};
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::{ApplicationWrite, Cached, ChangedBy, Details, Field, HistoryEntry, NewReply, Store};
use crate::domain::{ApplicantFields, EmailAddress, EventId, Outcome, ReplyKind, RouteReason, Status};

/// A registration staff took by phone or in person, as [`Store::register_by_staff`] records it:
/// `raw` is the record kept in place of the mail there was none of.
#[derive(Debug, Clone)]
pub struct StaffRecord<'a> {
    pub event: &'a EventId,
    pub email: &'a EmailAddress,
    pub fields: &'a ApplicantFields,
    /// Everyone named (as a mail's form names them).
    pub people: &'a [String],
    /// What needs a person, as for mail (missing fields).
    pub review: Option<String>,
    pub message_id: &'a str,
    pub subject: &'a str,
    pub raw: &'a [u8],
}

impl Store {
    /// Give application `id` the status `status` and record it in its history (by staff, `why`,
    /// `actor`), in one transaction. Returns the status it had, or `None` when there is no such
    /// application. No reply is queued and nobody moves up here.
    pub fn set_status_by_staff(
        &mut self,
        id: i64,
        status: Status,
        why: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<Option<Status>> {
        let Some(app) = self.application(id)? else { return Ok(None) };
        let tx = self.write()?;
        tx.exec("UPDATE applications SET status = ?2 WHERE id = ?1", params![id, status.as_str()])?;
        tx.exec(
            "INSERT INTO application_history (application, at, field, old, new, by, why, message, actor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8)",
            params![
                id,
                at.as_second(),
                Field::Status,
                app.status.as_str(),
                status.as_str(),
                ChangedBy::Staff,
                why,
                actor
            ],
        )?;
        tx.commit()?;
        Ok(Some(app.status))
    }

    /// Queue `reply`, a notice about application `id` that answers no message (an updated
    /// calendar entry), linked to the application like its other replies.
    pub fn queue_notice(&mut self, id: i64, reply: &NewReply, now: Timestamp) -> Result<i64> {
        let tx = self.write()?;
        let row = super::outbox::insert_reply(&tx, reply, None, Some(id), now.as_second())?;
        tx.commit()?;
        Ok(row)
    }

    /// [`Store::queue_notice`] for a reply staff had sent (`application resend`, `--notify`),
    /// with a row of the application's history in the same transaction: field `reply`, its kind
    /// as the new value, by staff, `why` and `actor`.
    pub fn queue_notice_by_staff(
        &mut self,
        id: i64,
        reply: &NewReply,
        why: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let tx = self.write()?;
        let row = super::outbox::insert_reply(&tx, reply, None, Some(id), now.as_second())?;
        tx.exec(
            "INSERT INTO application_history (application, at, field, old, new, by, why, message, actor)
             VALUES (?1, ?2, 'reply', NULL, ?3, 'staff', ?4, NULL, ?5)",
            params![id, now.as_second(), reply.kind.as_str(), why, actor],
        )?;
        tx.commit()?;
        Ok(row)
    }

    /// Record a registration staff took by phone or in person (`smebridge application add`), in
    /// one transaction: `record` as the message that made it (route `staff`, outcome
    /// `registered`), the application with `status`, a history row (by staff, `why`, `actor`),
    /// and the reply `make_reply` writes for the new application's id, if any. Returns the
    /// application's id.
    pub fn register_by_staff(
        &mut self,
        record: &StaffRecord<'_>,
        status: Status,
        why: &str,
        actor: &str,
        at: Timestamp,
        make_reply: impl FnOnce(i64) -> Result<Option<NewReply>>,
    ) -> Result<i64> {
        let tx = self.write()?;
        let sha256 = crate::parse::sha256_hex(record.raw);
        tx.exec(
            "INSERT INTO messages (sha256, message_id, arrived_at, size, sender, subject, outcome, outcome_detail,
                                   read_attempts, recorded_at, event, route)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?3, ?9, ?10)",
            params![
                sha256,
                record.message_id,
                at.as_second(),
                record.raw.len() as i64,
                record.email.as_str(),
                record.subject,
                Outcome::Registered,
                why,
                record.event,
                RouteReason::Staff,
            ],
        )?;
        let message = tx.last_insert_rowid();
        // A few hundred bytes of what staff typed: bound as a parameter (the mail path writes its
        // bytes in place, src/store/messages.rs).
        tx.exec("INSERT INTO raw_messages (message, raw) VALUES (?1, ?2)", params![message, record.raw])?;
        let write = ApplicationWrite::Insert {
            event: record.event.clone(),
            email: record.email.clone(),
            fields: record.fields.clone(),
            status,
            review: record.review.clone(),
        };
        let details = Details { people: record.people.to_vec(), ..Details::default() };
        let id = super::applications::write_application(&tx, &write, message, at, &details)?
            .context("the application was not written")?;
        tx.exec(
            "UPDATE applications SET match_key = ?2 WHERE id = ?1",
            params![id, crate::domain::match_key(record.fields)],
        )?;
        tx.exec(
            "INSERT OR IGNORE INTO application_messages (application, message) VALUES (?1, ?2)",
            params![id, message],
        )?;
        tx.exec(
            "INSERT INTO application_history (application, at, field, old, new, by, why, message, actor)
             VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?8)",
            params![id, at.as_second(), Field::Status, status.as_str(), ChangedBy::Staff, why, message, actor],
        )?;
        if let Some(reply) = make_reply(id)? {
            super::outbox::insert_reply(&tx, &reply, None, Some(id), at.as_second())?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Of the replies queued for application `id`, the kind of the last one among `kinds`.
    pub fn last_reply_of(&self, id: i64, kinds: &[ReplyKind]) -> Result<Option<ReplyKind>> {
        let placeholders = vec!["?"; kinds.len()].join(",");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT kind FROM outbox WHERE application = {id} AND kind IN ({placeholders}) ORDER BY id DESC LIMIT 1"
        ))?;
        let kind: Option<String> =
            stmt.query_row(rusqlite::params_from_iter(kinds.iter().map(|k| k.as_str())), |r| r.get(0)).optional()?;
        Ok(kind.as_deref().and_then(ReplyKind::parse))
    }

    /// Whether a reply of `kind` to application `id` is still waiting to be sent (`pending`,
    /// held by the rate limits or not).
    pub fn reply_waiting(&self, id: i64, kind: ReplyKind) -> Result<bool> {
        Ok(self
            .conn
            .row(
                "SELECT 1 FROM outbox WHERE application = ?1 AND kind = ?2 AND state = 'pending' LIMIT 1",
                params![id, kind.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Every history row of application `id`, oldest first.
    pub fn history_of(&self, id: i64) -> Result<Vec<HistoryEntry>> {
        Ok(self.history_after(0, i64::MAX)?.into_iter().filter(|h| h.application == id).collect())
    }
}
