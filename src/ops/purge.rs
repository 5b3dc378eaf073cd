//! `smebridge purge [--dry-run]`: the personal data of every event whose retention period
//! (`[retention] delete_personal_data_after`, counted from the event's day) has passed is deleted
//! from the database, its counts kept for statistics, and the file rewritten so that the deleted
//! bytes are gone from it (what goes and what stays: `crate::store`'s `purge.rs`).
//!
//! - Due or not is [`crate::domain::purge_due`], a pure function of the event's start, the
//!   period and now; each event is looked at on its own ([`events`]).
//! - `purge` writes, so it claims the database ([`claim_for_purge`]): never beside a running
//!   daemon. An event with mail still waiting to be sent keeps everything until it is sent.
//! - `--dry-run` only reads (no claim: it works while the daemon runs) and says what would go.
//! - Nothing personal is printed or logged: counts, the event's name, dates and file names.
//!
//! Staff hear of it in the daily summary a week before and after (`crate::summary`).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use jiff::civil::Date;
use jiff::{Timestamp, Zoned};
use tracing::info;

use crate::config::Config;
use crate::domain::{retention_stage, RetentionStage};
use crate::instance::{Busy, Instance};
use crate::store::{Compacted, Holdings, PurgeScope, Purged, Store};

/// An event as purge (and the summary's notes about it) sees it.
#[derive(Debug, Clone)]
pub struct RetainedEvent {
    /// Its short id in the database (`main` for the single `[event]`).
    pub id: String,
    pub name: String,
    /// When it starts, in its time zone: retention is counted from its day.
    pub starts_at: Zoned,
}

/// The id of the single `[event]`, as migration 0010 names it.
const SINGLE_EVENT: &str = "main";

/// The events whose personal data purge looks after, each on its own. The desk has one event
/// today; with several (`[[event]]`), one per event, with its own id and start.
pub fn events(config: &Config) -> Vec<RetainedEvent> {
    let event = &config.event;
    vec![RetainedEvent {
        id: SINGLE_EVENT.to_owned(),
        name: event.name.clone(),
        starts_at: event.starts_at.to_zoned(event.timezone.clone()),
    }]
}

impl RetainedEvent {
    /// What the store needs to purge it, its deletion day being `deletion_day`.
    pub fn scope(&self, deletion_day: Date) -> PurgeScope<'_> {
        let events_before =
            deletion_day.to_zoned(self.starts_at.time_zone().clone()).map(|z| z.timestamp()).unwrap_or(Timestamp::MAX);
        PurgeScope { event: &self.id, event_name: &self.name, timezone: self.starts_at.time_zone(), events_before }
    }
}

/// Claim the database for `purge`, or say why not and what to do.
pub fn claim_for_purge(database: &Path) -> Result<Instance> {
    if !database.exists() {
        bail!("there is no database at {} yet: nothing to purge", database.display());
    }
    Instance::claim(database).map_err(|e| match e.downcast_ref::<Busy>() {
        Some(busy) => anyhow::anyhow!(
            "purge deletes personal data and needs the database to itself: {busy}; stop it (sudo systemctl stop \
             smebridge), run purge, and start it again (purge --dry-run only reads and works while smebridge runs)"
        ),
        None => e,
    })
}

/// What purge did, or would do (`--dry-run`), for each event.
#[derive(Debug, Clone)]
pub struct PurgeReport {
    pub dry_run: bool,
    /// `[retention] delete_personal_data_after`, in days.
    pub kept_days: u32,
    pub events: Vec<EventPurge>,
    /// The file after deleting (not in a dry run, nor when nothing was due).
    pub compacted: Option<Compacted>,
    /// Copies beside the database made before (before an upgrade, before a restore): they still
    /// hold what was deleted.
    pub copies: Vec<PathBuf>,
}

/// One event's part of a [`PurgeReport`].
#[derive(Debug, Clone)]
pub struct EventPurge {
    pub id: String,
    pub name: String,
    pub event_day: Date,
    pub stage: RetentionStage,
    pub outcome: PurgeOutcome,
}

/// What became of one event's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeOutcome {
    /// Not due yet: kept.
    NotDue,
    /// Due, and nothing is left of it (purged before).
    NothingLeft,
    /// `--dry-run`: this would be deleted.
    WouldDelete(Holdings),
    /// Deleted; its counts are kept in this many rows.
    Deleted { holdings: Holdings, count_rows: usize },
    /// Due, but mail of it still waits to be sent: nothing was deleted.
    Waiting(Holdings),
}

impl PurgeReport {
    /// Everything due is gone from the file: no event waited for its mail, and the write-ahead
    /// log was emptied. `smebridge purge` exits non-zero otherwise.
    pub fn complete(&self) -> bool {
        self.events.iter().all(|e| !matches!(e.outcome, PurgeOutcome::Waiting(_)))
            && self.compacted.is_none_or(|c| c.wal_emptied)
    }
}

/// Delete the personal data of every event that is due at `now` (see the module documentation).
pub fn purge(store: &mut Store, config: &Config, now: Timestamp) -> Result<PurgeReport> {
    let kept_days = retention_days(config)?;
    let mut report = PurgeReport { dry_run: false, kept_days, events: Vec::new(), compacted: None, copies: Vec::new() };
    for event in events(config) {
        let stage = retention_stage(&event.starts_at, kept_days, now);
        let outcome = match stage {
            RetentionStage::Due { deletion_day } => {
                match store.purge_event(&event.scope(deletion_day), now).context("cannot purge")? {
                    Purged::Done { holdings, count_rows } => {
                        info!(
                            event = %event.id,
                            applications = holdings.applications,
                            messages = holdings.messages,
                            outbox = holdings.outbox,
                            "personal data deleted; counts kept for statistics"
                        );
                        PurgeOutcome::Deleted { holdings, count_rows }
                    }
                    Purged::Nothing => PurgeOutcome::NothingLeft,
                    Purged::Waiting { holdings } => PurgeOutcome::Waiting(holdings),
                }
            }
            RetentionStage::Kept { .. } | RetentionStage::Soon { .. } => PurgeOutcome::NotDue,
        };
        report.events.push(EventPurge::new(&event, stage, outcome));
    }
    if report.events.iter().any(|e| matches!(e.outcome, PurgeOutcome::Deleted { .. } | PurgeOutcome::NothingLeft)) {
        // Also when nothing was left: a purge that could not empty the log last time does it now.
        let compacted = store.compact()?;
        info!(before = compacted.bytes_before, after = compacted.bytes_after, "database compacted");
        report.compacted = Some(compacted);
    }
    if report.events.iter().any(|e| matches!(e.stage, RetentionStage::Due { .. })) {
        report.copies = copies_beside(&config.database.path);
    }
    Ok(report)
}

/// What [`purge`] would delete at `now`; writes nothing (a read-only store will do).
pub fn purge_dry_run(store: &Store, config: &Config, now: Timestamp) -> Result<PurgeReport> {
    let kept_days = retention_days(config)?;
    let mut report = PurgeReport { dry_run: true, kept_days, events: Vec::new(), compacted: None, copies: Vec::new() };
    for event in events(config) {
        let stage = retention_stage(&event.starts_at, kept_days, now);
        let outcome = match stage {
            RetentionStage::Due { deletion_day } => {
                let holdings = store.event_holdings(&event.scope(deletion_day))?;
                if holdings.waiting > 0 {
                    PurgeOutcome::Waiting(holdings)
                } else if holdings.is_empty() {
                    PurgeOutcome::NothingLeft
                } else {
                    PurgeOutcome::WouldDelete(holdings)
                }
            }
            RetentionStage::Kept { .. } | RetentionStage::Soon { .. } => PurgeOutcome::NotDue,
        };
        report.events.push(EventPurge::new(&event, stage, outcome));
    }
    if report.events.iter().any(|e| matches!(e.stage, RetentionStage::Due { .. })) {
        report.copies = copies_beside(&config.database.path);
    }
    Ok(report)
}

fn retention_days(config: &Config) -> Result<u32> {
    match config.retention {
        Some(retention) => Ok(retention.days),
        None => bail!(
            "[retention] delete_personal_data_after is not set in {}: no personal data is ever due for deletion \
             (set it, e.g. \"90d\", as the privacy notice promises)",
            config.path.display()
        ),
    }
}

impl EventPurge {
    fn new(event: &RetainedEvent, stage: RetentionStage, outcome: PurgeOutcome) -> EventPurge {
        EventPurge { id: event.id.clone(), name: event.name.clone(), event_day: event.starts_at.date(), stage, outcome }
    }
}

/// The copies of the database beside it that smebridge made (before an upgrade:
/// `<db>.before-v12.sqlite`; before a restore: `<db>.before-restore-….sqlite`), by name.
fn copies_beside(database: &Path) -> Vec<PathBuf> {
    let Some(name) = database.file_name().map(|n| n.to_string_lossy().into_owned()) else { return Vec::new() };
    let dir = database.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = format!("{name}.before-");
    let mut copies: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            file.starts_with(&prefix) && file.ends_with(".sqlite")
        })
        .map(|e| e.path())
        .collect();
    copies.sort();
    copies
}

impl fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for event in &self.events {
            let deletion_day = event.stage.deletion_day();
            let kept_until = deletion_day.yesterday().unwrap_or(deletion_day);
            write!(
                f,
                "{} ({}), held {}: personal data kept until {kept_until}",
                event.name, event.id, event.event_day
            )?;
            match &event.outcome {
                PurgeOutcome::NotDue => writeln!(f, "; nothing is due before {deletion_day}.")?,
                PurgeOutcome::NothingLeft => {
                    writeln!(f, ", due since {deletion_day}: nothing is left to delete (purged before).")?
                }
                PurgeOutcome::WouldDelete(holdings) => {
                    writeln!(f, ", due since {deletion_day}.")?;
                    writeln!(f, "  would delete: {}", holdings_words(holdings))?;
                    writeln!(
                        f,
                        "  would keep for statistics: the counts of {} application(s) by day, organization type and \
                         status",
                        holdings.applications
                    )?;
                }
                PurgeOutcome::Deleted { holdings, count_rows } => {
                    writeln!(f, ", due since {deletion_day}.")?;
                    writeln!(f, "  deleted: {}", holdings_words(holdings))?;
                    writeln!(
                        f,
                        "  kept for statistics: {} application(s) in {count_rows} row(s) of counts by day, organization \
                         type and status (smebridge stats)",
                        holdings.applications
                    )?;
                }
                PurgeOutcome::Waiting(holdings) => {
                    writeln!(f, ", due since {deletion_day}.")?;
                    writeln!(
                        f,
                        "  NOT deleted: {} mail(s) of this event are still waiting to be sent, and a mail waiting to \
                         be sent is never emptied. Let smebridge send them (start it, or run smebridge once), then run \
                         smebridge purge again.",
                        holdings.waiting
                    )?;
                }
            }
        }
        if let Some(c) = &self.compacted {
            write!(
                f,
                "The database file was rewritten without the deleted data (VACUUM): {:.1} MB before, {:.1} MB now",
                c.bytes_before as f64 / 1e6,
                c.bytes_after as f64 / 1e6
            )?;
            if c.wal_emptied {
                writeln!(f, "; the write-ahead log is empty.")?;
            } else {
                writeln!(
                    f,
                    ".\nThe write-ahead log (-wal) could not be emptied: another program (a backup, an export) was \
                     reading the database. Run smebridge purge again when it has finished."
                )?;
            }
        }
        if !self.copies.is_empty() {
            let names: Vec<String> = self.copies.iter().map(|c| c.display().to_string()).collect();
            writeln!(
                f,
                "Copies of the database made earlier still hold the personal data: {}. Delete them when they are no \
                 longer needed (backups too: the daily backup keeps 14 days).",
                names.join(", ")
            )?;
        }
        if self.dry_run && self.events.iter().any(|e| matches!(e.outcome, PurgeOutcome::WouldDelete(_))) {
            writeln!(
                f,
                "Nothing was changed (--dry-run). `smebridge purge` deletes it; it needs the database to itself (stop \
                 smebridge first)."
            )?;
        }
        Ok(())
    }
}

/// What an event holds, in words (counts only).
fn holdings_words(h: &Holdings) -> String {
    let statuses: Vec<String> = h.by_status.iter().map(|(status, n)| format!("{status} {n}")).collect();
    let statuses = if statuses.is_empty() { String::new() } else { format!(" ({})", statuses.join(", ")) };
    format!(
        "{} application(s){statuses} with {} history row(s); {} message(s) with {:.1} kB of mail and {} attachment(s) \
         listed; {} mail(s) in the outbox; {} mailbox event(s)",
        h.applications,
        h.history,
        h.messages,
        h.raw_bytes as f64 / 1e3,
        h.attachments,
        h.outbox,
        h.mailbox_events,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ApplicantFields, EmailAddress, Outcome, Status};
    use crate::store::{ApplicationWrite, MailboxUid, NewMessage, NO_DETAILS};

    const DEFAULT: &str = include_str!("../../config/smebridge.toml");

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// The shipped configuration (the workshop on 18 November 2022, 90 days), its database in `dir`.
    fn config(dir: &Path, retention: &str) -> Config {
        let text = DEFAULT
            .replace("/var/lib/smebridge/smebridge.sqlite", "smebridge.sqlite")
            .replace("delete_personal_data_after = \"90d\"", retention);
        Config::from_toml(&text, &dir.join("smebridge.toml"), dir).unwrap()
    }

    /// One application from an invented applicant.
    fn desk(config: &Config) -> Store {
        let mut store = Store::open(Instance::claim(&config.database.path).unwrap()).unwrap();
        let kim = EmailAddress::parse("kim.opspurge@hanbit-ops.example").unwrap();
        let message = NewMessage {
            sha256: "sha-ops",
            message_id: "ops-1@hanbit-ops.example",
            arrived_at: at("2022-11-15T10:00:00+09:00"),
            raw: "From: 김옵스 <kim.opspurge@hanbit-ops.example>\n\n성명: 김옵스\n".as_bytes(),
            sender: Some(&kim),
            subject: Some("옵스 신청"),
            outcome: Outcome::Registered,
            outcome_detail: None,
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS,
        };
        let write = ApplicationWrite::Insert {
            email: kim.clone(),
            fields: ApplicantFields { name: Some("김옵스".into()), ..Default::default() },
            status: Status::Accepted,
            review: None,
        };
        let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        store.commit_message(uid, &message, &write, at("2022-11-15T10:00:00+09:00"), |_| Ok(None)).unwrap();
        store
    }

    #[test]
    fn only_what_is_due_goes_and_the_report_says_what_without_personal_data() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), "delete_personal_data_after = \"90d\"");
        let mut store = desk(&config);
        let copy = dir.path().join("smebridge.sqlite.before-v9.sqlite");
        std::fs::write(&copy, b"an old copy").unwrap();

        // A week before: kept, nothing done.
        let early = purge(&mut store, &config, at("2023-02-10T09:00:00+09:00")).unwrap();
        assert_eq!(early.events.len(), 1);
        assert_eq!(early.events[0].outcome, PurgeOutcome::NotDue);
        assert!(early.compacted.is_none() && early.copies.is_empty() && early.complete());
        let name = &config.event.name;
        assert_eq!(
            early.to_string(),
            format!("{name} (main), held 2022-11-18: personal data kept until 2023-02-16; nothing is due before 2023-02-17.\n")
        );
        assert!(store.holds_applications().unwrap());

        // Due: a dry run says what would go and changes nothing.
        let due = at("2023-02-17T09:00:00+09:00");
        let dry = purge_dry_run(&store, &config, due).unwrap();
        let PurgeOutcome::WouldDelete(holdings) = &dry.events[0].outcome else { panic!("{dry:?}") };
        assert_eq!((holdings.applications, holdings.messages), (1, 1));
        let text = dry.to_string();
        assert!(text.contains(", due since 2023-02-17.\n  would delete: 1 application(s) (accepted 1) with 0 history row(s); 1 message(s) with "), "{text}");
        assert!(text.contains(&copy.display().to_string()), "{text}");
        assert!(text.ends_with("Nothing was changed (--dry-run). `smebridge purge` deletes it; it needs the database to itself (stop smebridge first).\n"), "{text}");
        assert!(store.holds_applications().unwrap());

        // And purge deletes it.
        let done = purge(&mut store, &config, due).unwrap();
        assert!(matches!(done.events[0].outcome, PurgeOutcome::Deleted { count_rows: 1, .. }), "{done:?}");
        assert!(done.complete());
        assert!(done.compacted.is_some_and(|c| c.wal_emptied));
        assert_eq!(done.copies, std::slice::from_ref(&copy));
        let text = done.to_string();
        for line in [
            "  deleted: 1 application(s) (accepted 1) with 0 history row(s); 1 message(s) with ",
            "  kept for statistics: 1 application(s) in 1 row(s) of counts by day, organization type and status (smebridge stats)\n",
            "The database file was rewritten without the deleted data (VACUUM): ",
            "; the write-ahead log is empty.\n",
            "still hold the personal data: ",
        ] {
            assert!(text.contains(line), "{line:?} not in:\n{text}");
        }
        for personal in ["kim.opspurge", "hanbit-ops", "김옵스", "옵스 신청"] {
            assert!(!text.contains(personal), "{personal} in the report:\n{text}");
        }
        assert!(!store.holds_applications().unwrap());

        // Again: nothing left.
        let again = purge(&mut store, &config, due).unwrap();
        assert_eq!(again.events[0].outcome, PurgeOutcome::NothingLeft);
        assert!(again.to_string().contains("nothing is left to delete (purged before)"), "{again}");
    }

    #[test]
    fn without_a_retention_period_nothing_is_ever_due_and_purge_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), "");
        let mut store = desk(&config);
        let err = purge(&mut store, &config, at("2030-01-01T00:00:00Z")).unwrap_err().to_string();
        assert!(err.starts_with("[retention] delete_personal_data_after is not set in "), "{err}");
        assert!(purge_dry_run(&store, &config, at("2030-01-01T00:00:00Z")).is_err());
        assert!(store.holds_applications().unwrap());
    }

    #[test]
    fn purge_needs_the_database_to_itself_and_a_database_to_purge() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("smebridge.sqlite");
        let err = claim_for_purge(&database).unwrap_err().to_string();
        assert!(err.starts_with("there is no database at"), "{err}");
        assert!(!database.exists(), "a purge creates nothing");

        let holder = Store::open(Instance::claim(&database).unwrap()).unwrap();
        let err = claim_for_purge(&database).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "purge deletes personal data and needs the database to itself: another smebridge (pid {}) is using",
                std::process::id()
            )),
            "{err}"
        );
        assert!(err.contains("purge --dry-run only reads and works while smebridge runs"), "{err}");
        drop(holder);
        claim_for_purge(&database).expect("free once the holder is gone");
    }
}
