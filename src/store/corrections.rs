//! Staff corrections (`smebridge application edit|cancel|show`): a status set by hand with its
//! history row, in one transaction; an application's history for `show`.

use anyhow::Result;
use jiff::Timestamp;
use rusqlite::params;

use super::{Cached, ChangedBy, Field, HistoryEntry, Store};
use crate::domain::Status;

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

    /// Every history row of application `id`, oldest first.
    pub fn history_of(&self, id: i64) -> Result<Vec<HistoryEntry>> {
        Ok(self.history_after(0, i64::MAX)?.into_iter().filter(|h| h.application == id).collect())
    }
}
