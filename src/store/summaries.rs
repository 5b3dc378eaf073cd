//! The daily summaries: which day was summarized, when, and up to which application and message
//! (so the next summary knows what is new), recorded with the summary's mails.

use anyhow::{Context, Result};
use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::outbox::insert_reply;
use super::{Cached, NewReply, Store};
use crate::domain::Outcome;

impl Store {
    /// The last day summarized, when and what that summary covered.
    pub fn last_summary(&self) -> Result<Option<LastSummary>> {
        let row: Option<(String, i64, Covered)> = self
            .conn
            .row(
                "SELECT day, created_at, COALESCE(last_application, 0), COALESCE(last_message, 0),
                        COALESCE(last_history, 0)
                 FROM summaries ORDER BY day DESC LIMIT 1",
                [],
                |r| {
                    let covered =
                        Covered { last_application: r.get(2)?, last_message: r.get(3)?, last_history: r.get(4)? };
                    Ok((r.get(0)?, r.get(1)?, covered))
                },
            )
            .optional()?;
        row.map(|(day, at, covered)| {
            Ok(LastSummary {
                day: day.parse().context("bad day in summaries")?,
                at: Timestamp::from_second(at).context("bad time in summaries")?,
                covered,
            })
        })
        .transpose()
    }

    /// The highest message id recorded so far (0: none). Read before what a summary shows, it
    /// bounds what the summary covers ([`Covered`]).
    /// A summary covers messages up to this id: the last one, or, while a message is still being
    /// read (its row is written before its outcome), the one before the first such message, so
    /// that what it turns out to be is told in the next summary.
    pub fn last_message_id(&self) -> Result<i64> {
        Ok(self.conn.row(
            "SELECT COALESCE((SELECT MIN(id) - 1 FROM messages WHERE outcome = ?1), (SELECT MAX(id) FROM messages), 0)",
            [Outcome::Reading],
            |r| r.get(0),
        )?)
    }

    /// Record that `day` is summarized, with what the summary covered, and queue its mails, in
    /// one transaction: a day is summarized exactly once, whatever restarts happen. Returns false
    /// (and queues nothing) if the day was summarized already.
    pub fn record_summary(&mut self, day: Date, now: Timestamp, covered: Covered, mails: &[NewReply]) -> Result<bool> {
        let tx = self.write()?;
        let inserted = tx.exec(
            "INSERT INTO summaries (day, created_at, last_application, last_message, last_history)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (day) DO NOTHING",
            params![
                day.to_string(),
                now.as_second(),
                covered.last_application,
                covered.last_message,
                covered.last_history
            ],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        for mail in mails {
            insert_reply(&tx, mail, None, None, now.as_second())?;
        }
        tx.commit()?;
        Ok(true)
    }
}

/// What a daily summary covered: the last application, message and history row (see
/// `history.rs`) recorded when it was made. Ids grow in the order smebridge records rows, so
/// whatever has a higher id is new for the next summary, whenever its mail arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Covered {
    pub last_application: i64,
    pub last_message: i64,
    pub last_history: i64,
}

/// The last daily summary made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSummary {
    /// The day summarized (in the event's time zone; stored as `YYYY-MM-DD`).
    pub day: Date,
    /// When it was made, on the daemon's clock.
    pub at: Timestamp,
    pub covered: Covered,
}

#[cfg(test)]
mod tests {
    use super::super::testing::store;
    use super::*;

    #[test]
    fn a_summary_remembers_what_it_covered_and_a_read_is_remembered() {
        let (_dir, mut store) = store();
        assert_eq!(store.last_summary().unwrap(), None);
        assert_eq!(store.mailbox_read("INBOX").unwrap(), None);
        let at: Timestamp = "2022-11-16T08:30:00+09:00".parse().unwrap();
        let covered = Covered { last_application: 7, last_message: 12, last_history: 3 };
        let day: Date = "2022-11-16".parse().unwrap();
        assert!(store.record_summary(day, at, covered, &[]).unwrap());
        assert!(!store.record_summary(day, at, Covered::default(), &[]).unwrap(), "once a day");
        assert_eq!(store.last_summary().unwrap(), Some(LastSummary { day, at, covered }));
        store.note_mailbox_read("INBOX", at).unwrap();
        let later = at.checked_add(jiff::SignedDuration::from_secs(60)).unwrap();
        store.note_mailbox_read("INBOX", later).unwrap();
        assert_eq!(store.mailbox_read("INBOX").unwrap(), Some(later));
        assert_eq!(store.mailbox_read("Other").unwrap(), None);
    }
}
