//! What the applicant's journey needs from the database: the calendar files an application was
//! sent before (for the next one's `SEQUENCE`, see `crate::reply::calendar`), and the mail the
//! desk sends on its own schedule (reminders, thank-yous): who is due one, and recording it once.

use anyhow::Result;
use rusqlite::{params, Connection};

use super::{Cached, Store};
use crate::domain::ReplyKind;
use crate::reply::calendar::CALENDAR_KINDS;
use crate::reply::CalendarSent;

impl Store {
    /// The replies that may carry a calendar file queued for application `id` so far.
    pub fn calendar_sent(&self, id: i64) -> Result<CalendarSent> {
        calendar_sent(&self.conn, id)
    }
}

/// [`Store::calendar_sent`], inside a write transaction.
pub(super) fn calendar_sent(conn: &Connection, id: i64) -> Result<CalendarSent> {
    {
        let kinds: Vec<&str> = CALENDAR_KINDS.iter().map(|k| k.as_str()).collect();
        let (count, last): (i64, Option<String>) = conn.row(
            "SELECT COUNT(*), (SELECT kind FROM outbox WHERE application = ?1 AND kind IN (?2, ?3, ?4, ?5)
                               ORDER BY id DESC LIMIT 1)
             FROM outbox WHERE application = ?1 AND kind IN (?2, ?3, ?4, ?5)",
            params![id, kinds[0], kinds[1], kinds[2], kinds[3]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let published = last.as_deref().and_then(ReplyKind::parse).is_some_and(|k| k != ReplyKind::Cancelled);
        Ok(CalendarSent { count: u32::try_from(count).unwrap_or(u32::MAX), published })
    }
}
