//! What the applicant's journey needs from the database: the calendar files an application was
//! sent before (for the next one's `SEQUENCE`, see `crate::reply::calendar`), and the mail the
//! desk sends on its own schedule (reminders, thank-yous): who is due one, and recording it once.

use anyhow::Result;
use rusqlite::{params, Connection};

use jiff::Timestamp;

use super::{application_from_row, Application, Cached, NewReply, Store, APPLICATION_COLUMNS};
use crate::domain::{EventId, ReplyKind};
use crate::reply::calendar::CALENDAR_KINDS;
use crate::reply::CalendarSent;

impl Store {
    /// The calendar files application `id` was sent before, for its event now
    /// ([`calendar_sent_for`]).
    pub fn calendar_sent(&self, id: i64) -> Result<CalendarSent> {
        calendar_sent(&self.conn, id)
    }

    /// The calendar files application `id` was sent before, for `event` ([`calendar_sent_for`]).
    pub fn calendar_sent_for(&self, id: i64, event: &EventId) -> Result<CalendarSent> {
        calendar_sent_for(&self.conn, id, event)
    }

    /// The accepted applications of `event` that were never queued a `kind` (a reminder or a
    /// thank-you), oldest first.
    pub fn awaiting(&self, event: &EventId, kind: ReplyKind) -> Result<Vec<Application>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications
             WHERE event = ?1 AND status = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.application = applications.id AND outbox.kind = ?2)
             ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![event, kind.as_str()], application_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The accepted applications of `event` whose calendar entry is out of date: the last
    /// calendar file they were sent about `event` published facts other than `facts` (the
    /// event's now, `crate::reply::calendar_facts`). Oldest first. An entry published before
    /// smebridge kept the facts (`migrations/0015_calendar_updates.sql`) counts as current.
    pub fn out_of_date_calendars(&self, event: &EventId, facts: &str) -> Result<Vec<Application>> {
        let kinds = kinds_sql(&CALENDAR_KINDS);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications
             WHERE event = ?1 AND status = 'accepted'
               AND (SELECT calendar FROM outbox
                    WHERE outbox.application = applications.id AND outbox.event = ?1 AND outbox.kind IN ({kinds})
                    ORDER BY outbox.id DESC LIMIT 1) != ?2
             ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![event, facts], application_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Withdraw the pending replies of `kinds` about `event` (of application `application`, or of
    /// every one): they become `failed` with `why` as their error, so they are never sent and the
    /// summary lists them among the replies not sent. How many.
    pub fn withdraw_pending(
        &mut self,
        event: &EventId,
        application: Option<i64>,
        kinds: &[ReplyKind],
        why: &str,
    ) -> Result<usize> {
        let kinds = kinds_sql(kinds);
        let tx = self.write()?;
        let withdrawn = tx.exec(
            &format!(
                "UPDATE outbox SET state = 'failed', held_by = NULL, last_error = ?3
                 WHERE state = 'pending' AND event = ?1 AND (?2 IS NULL OR application = ?2) AND kind IN ({kinds})"
            ),
            params![event, application, why],
        )?;
        tx.commit()?;
        Ok(withdrawn)
    }

    /// Queue `reply` (a reminder or a thank-you) for application `id`, unless one of its kind
    /// was queued for it before (the unique index of `migrations/0012_journey.sql`): whether it
    /// was queued now.
    pub fn queue_scheduled(&mut self, id: i64, reply: &NewReply, now: Timestamp) -> Result<bool> {
        let tx = self.write()?;
        let written = tx.exec(
            "INSERT INTO outbox (kind, answers, application, message_id, envelope_from, recipient, raw, state, attempts,
                                 next_attempt_at, created_at, event, calendar)
             VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?8, ?9)
             ON CONFLICT DO NOTHING",
            params![
                reply.kind,
                id,
                reply.message_id,
                reply.envelope_from.as_ref().map(|a| a.as_str()),
                reply.recipient.as_str(),
                reply.raw,
                now.as_second(),
                reply.event,
                reply.calendar,
            ],
        )?;
        tx.commit()?;
        Ok(written == 1)
    }
}

/// [`Store::calendar_sent`], inside a write transaction: of the application's event now.
pub(super) fn calendar_sent(conn: &Connection, id: i64) -> Result<CalendarSent> {
    let event: EventId = conn.row("SELECT event FROM applications WHERE id = ?1", [id], |r| r.get(0))?;
    calendar_sent_for(conn, id, &event)
}

/// The calendar files sent for application `id` before: `count` is every reply it was sent,
/// whatever the event (so each calendar file's `SEQUENCE` outranks every one before it, also
/// after a move between events and back); `published` is whether the last of them about
/// `event` put the entry in the applicant's calendar.
pub(super) fn calendar_sent_for(conn: &Connection, id: i64, event: &EventId) -> Result<CalendarSent> {
    let kinds = kinds_sql(&CALENDAR_KINDS);
    let (count, last): (i64, Option<String>) = conn.row(
        &format!(
            "SELECT COUNT(*), (SELECT kind FROM outbox WHERE application = ?1 AND event = ?2 AND kind IN ({kinds})
                               ORDER BY id DESC LIMIT 1)
             FROM outbox WHERE application = ?1"
        ),
        params![id, event],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let published = last.as_deref().and_then(ReplyKind::parse).is_some_and(|k| k != ReplyKind::Cancelled);
    Ok(CalendarSent { count: u32::try_from(count).unwrap_or(u32::MAX), published })
}

/// `'ack', 'promoted', …`: reply kinds for an SQL `IN` (their constant names, no applicant's
/// text).
fn kinds_sql(kinds: &[ReplyKind]) -> String {
    kinds.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ")
}
