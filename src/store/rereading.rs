//! What `smebridge reparse` reads: the messages that belong to each application, with what
//! became of each, and their raw bytes one at a time (a database of big messages is never held
//! in memory whole).

use anyhow::{Context, Result};
use jiff::Timestamp;
use rusqlite::params;

use super::{Cached, Store};
use crate::domain::Outcome;

/// A message that belongs to an application, as recorded (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationMessage {
    pub application: i64,
    /// The message's row id.
    pub message: i64,
    /// The message made the application (it is the application's first).
    pub first: bool,
    pub outcome: Outcome,
    pub outcome_detail: Option<String>,
    pub arrived_at: Timestamp,
}

impl Store {
    /// Every message that belongs to an application, by application and then in the order the
    /// messages were recorded (the order the desk read them in).
    pub fn application_messages(&self) -> Result<Vec<ApplicationMessage>> {
        let mut stmt = self.conn.prepare(
            "SELECT am.application, m.id, m.id = a.first_message, m.outcome, m.outcome_detail, m.arrived_at
             FROM application_messages am
             JOIN applications a ON a.id = am.application
             JOIN messages m ON m.id = am.message
             ORDER BY am.application, m.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let at: i64 = r.get(5)?;
            Ok(ApplicationMessage {
                application: r.get(0)?,
                message: r.get(1)?,
                first: r.get(2)?,
                outcome: r.get(3)?,
                outcome_detail: r.get(4)?,
                arrived_at: Timestamp::from_second(at).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Integer, Box::new(e))
                })?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The SHA-256 and raw bytes of the message with row id `message`.
    pub fn stored_raw(&self, message: i64) -> Result<(String, Vec<u8>)> {
        self.conn
            .row("SELECT sha256, raw FROM messages WHERE id = ?1", params![message], |r| Ok((r.get(0)?, r.get(1)?)))
            .with_context(|| format!("cannot read the stored message {message}"))
    }
}
