//! `smebridge purge [--dry-run]`: the personal data of every event whose retention period
//! (`[retention] delete_personal_data_after`, counted from the event's day in its time zone) has
//! passed is deleted from the database, its counts kept for statistics, and the file rewritten so
//! that the deleted bytes are gone from it (what goes and what stays: `crate::store`'s
//! `purge.rs`).
//!
//! - Due or not is [`crate::domain::purge_due`], a pure function of the event's start, the
//!   period and now; each configured event is looked at on its own ([`events`]).
//! - Mail for no event (automatic mail, duplicates, unreadable or unrouted mail) is kept the same
//!   period, counted from the day it arrived ([`crate::domain::arrived_due_before`]), and goes in
//!   the same run once that has passed.
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
use crate::domain::{arrived_due_before, retention_stage, EventId, RetentionStage};
use crate::instance::{Busy, Instance};
use crate::store::{Compacted, Holdings, PurgeScope, Purged, Store};

/// An event as purge (and the summary's notes about it) sees it.
#[derive(Debug, Clone)]
pub struct RetainedEvent {
    /// Its id in the database (`main` for a single `[event]` that names none).
    pub id: EventId,
    pub name: String,
    /// When it starts, in its time zone: retention is counted from its day.
    pub starts_at: Zoned,
}

/// The events whose personal data purge looks after, each on its own: every configured event
/// (`[event]`, or each `[[event]]`), with its own start and time zone. Applications of an event
/// the configuration no longer names are not among them (`check` warns about those).
pub fn events(config: &Config) -> Vec<RetainedEvent> {
    config
        .events
        .iter()
        .map(|event| RetainedEvent {
            id: event.id.clone(),
            name: event.name.clone(),
            starts_at: event.starts_at.to_zoned(event.timezone.clone()),
        })
        .collect()
}

impl RetainedEvent {
    /// What the store needs to purge it.
    pub fn scope(&self) -> PurgeScope<'_> {
        PurgeScope::Event { id: &self.id, name: &self.name, timezone: self.starts_at.time_zone() }
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

/// What purge did, or would do (`--dry-run`), for each event and for the mail for no event.
#[derive(Debug, Clone)]
pub struct PurgeReport {
    pub dry_run: bool,
    /// `[retention] delete_personal_data_after`, in days.
    pub kept_days: u32,
    pub events: Vec<EventPurge>,
    pub no_event: NoEventPurge,
    /// The file after deleting (not in a dry run, nor when nothing was due).
    pub compacted: Option<Compacted>,
    /// Copies beside the database made before (before an upgrade, before a restore): they still
    /// hold what was deleted.
    pub copies: Vec<PathBuf>,
}

/// One event's part of a [`PurgeReport`].
#[derive(Debug, Clone)]
pub struct EventPurge {
    pub id: EventId,
    pub name: String,
    pub event_day: Date,
    pub stage: RetentionStage,
    pub outcome: PurgeOutcome,
}

/// The part of a [`PurgeReport`] about mail for no event.
#[derive(Debug, Clone)]
pub struct NoEventPurge {
    /// What arrived before this day (in the desk's time zone) is due.
    pub arrived_before: Date,
    /// Never [`PurgeOutcome::NotDue`].
    pub outcome: PurgeOutcome,
}

/// What became of one event's personal data (or of the mail for no event).
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
    /// Everything due is gone from the file: nothing waited for its mail, and the write-ahead
    /// log was emptied. `smebridge purge` exits non-zero otherwise.
    pub fn complete(&self) -> bool {
        self.outcomes().all(|o| !matches!(o, PurgeOutcome::Waiting(_))) && self.compacted.is_none_or(|c| c.wal_emptied)
    }

    fn outcomes(&self) -> impl Iterator<Item = &PurgeOutcome> {
        self.events.iter().map(|e| &e.outcome).chain([&self.no_event.outcome])
    }

    /// Was anything due: an event, or mail for no event that is still held?
    fn anything_due(&self) -> bool {
        self.events.iter().any(|e| matches!(e.stage, RetentionStage::Due { .. }))
            || !matches!(self.no_event.outcome, PurgeOutcome::NotDue | PurgeOutcome::NothingLeft)
    }
}

/// Delete the personal data of every event that is due at `now`, and the mail for no event that
/// is (see the module documentation).
pub fn purge(store: &mut Store, config: &Config, now: Timestamp) -> Result<PurgeReport> {
    let kept_days = retention_days(config)?;
    let mut events = Vec::new();
    for event in self::events(config) {
        let stage = retention_stage(&event.starts_at, kept_days, now);
        let outcome = match stage {
            RetentionStage::Due { .. } => {
                let outcome = done(store.purge(&event.scope(), now).context("cannot purge")?);
                if let PurgeOutcome::Deleted { holdings, .. } = &outcome {
                    info!(
                        event = %event.id,
                        applications = holdings.applications,
                        messages = holdings.messages,
                        outbox = holdings.outbox,
                        "personal data deleted; counts kept for statistics"
                    );
                }
                outcome
            }
            RetentionStage::Kept { .. } | RetentionStage::Soon { .. } => PurgeOutcome::NotDue,
        };
        events.push(EventPurge::new(&event, stage, outcome));
    }
    let before = arrived_due_before(now, config.timezone(), kept_days);
    let outcome = done(store.purge(&PurgeScope::NoEvent { before }, now).context("cannot purge mail for no event")?);
    if let PurgeOutcome::Deleted { holdings, .. } = &outcome {
        info!(messages = holdings.messages, outbox = holdings.outbox, "mail for no event deleted");
    }
    let no_event = NoEventPurge { arrived_before: before.to_zoned(config.timezone().clone()).date(), outcome };
    let mut report = PurgeReport { dry_run: false, kept_days, events, no_event, compacted: None, copies: Vec::new() };
    // Also when an event had nothing left: a purge that could not empty the log last time does
    // it now.
    if report.outcomes().any(|o| matches!(o, PurgeOutcome::Deleted { .. }))
        || report.events.iter().any(|e| e.outcome == PurgeOutcome::NothingLeft)
    {
        let compacted = store.compact()?;
        info!(before = compacted.bytes_before, after = compacted.bytes_after, "database compacted");
        report.compacted = Some(compacted);
    }
    if report.anything_due() {
        report.copies = copies_beside(&config.database.path);
    }
    Ok(report)
}

/// What [`purge`] would delete at `now`; writes nothing (a read-only store will do).
pub fn purge_dry_run(store: &Store, config: &Config, now: Timestamp) -> Result<PurgeReport> {
    let kept_days = retention_days(config)?;
    let would = |holdings: Holdings| {
        if holdings.waiting > 0 {
            PurgeOutcome::Waiting(holdings)
        } else if holdings.is_empty() {
            PurgeOutcome::NothingLeft
        } else {
            PurgeOutcome::WouldDelete(holdings)
        }
    };
    let mut events = Vec::new();
    for event in self::events(config) {
        let stage = retention_stage(&event.starts_at, kept_days, now);
        let outcome = match stage {
            RetentionStage::Due { .. } => would(store.purge_holdings(&event.scope())?),
            RetentionStage::Kept { .. } | RetentionStage::Soon { .. } => PurgeOutcome::NotDue,
        };
        events.push(EventPurge::new(&event, stage, outcome));
    }
    let before = arrived_due_before(now, config.timezone(), kept_days);
    let no_event = NoEventPurge {
        arrived_before: before.to_zoned(config.timezone().clone()).date(),
        outcome: would(store.purge_holdings(&PurgeScope::NoEvent { before })?),
    };
    let mut report = PurgeReport { dry_run: true, kept_days, events, no_event, compacted: None, copies: Vec::new() };
    if report.anything_due() {
        report.copies = copies_beside(&config.database.path);
    }
    Ok(report)
}

/// A purge's result as the report tells it.
fn done(purged: Purged) -> PurgeOutcome {
    match purged {
        Purged::Done { holdings, count_rows } => PurgeOutcome::Deleted { holdings, count_rows },
        Purged::Nothing => PurgeOutcome::NothingLeft,
        Purged::Waiting { holdings } => PurgeOutcome::Waiting(holdings),
    }
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
        // Told only when some of it is due (it comes due day by day, as it arrived).
        let no_event = &self.no_event;
        if matches!(
            no_event.outcome,
            PurgeOutcome::WouldDelete(_) | PurgeOutcome::Deleted { .. } | PurgeOutcome::Waiting(_)
        ) {
            writeln!(
                f,
                "Mail for no event (automatic mail, duplicates, unreadable or unrouted mail), kept {} days from the day \
                 it arrived: due for what arrived before {}.",
                self.kept_days, no_event.arrived_before
            )?;
            match &no_event.outcome {
                PurgeOutcome::WouldDelete(holdings) => writeln!(f, "  would delete: {}", mail_words(holdings))?,
                PurgeOutcome::Deleted { holdings, .. } => writeln!(f, "  deleted: {}", mail_words(holdings))?,
                PurgeOutcome::Waiting(holdings) => writeln!(
                    f,
                    "  NOT deleted: {} mail(s) emptied with it (a reply to it, a staff summary) are still waiting \
                     to be sent. Let smebridge send them (start it, or run smebridge once), then run smebridge purge \
                     again.",
                    holdings.waiting
                )?,
                PurgeOutcome::NotDue | PurgeOutcome::NothingLeft => {}
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
        if self.dry_run && self.outcomes().any(|o| matches!(o, PurgeOutcome::WouldDelete(_))) {
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
    format!("{} application(s){statuses} with {} history row(s); {}", h.applications, h.history, mail_words(h))
}

/// The mail part of [`holdings_words`].
fn mail_words(h: &Holdings) -> String {
    let mailbox_events =
        if h.mailbox_events > 0 { format!("; {} mailbox event(s)", h.mailbox_events) } else { String::new() };
    format!(
        "{} message(s) with {:.1} kB of mail and {} attachment(s) listed; {} mail(s) in the outbox{mailbox_events}",
        h.messages,
        h.raw_bytes as f64 / 1e3,
        h.attachments,
        h.outbox,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ApplicantFields, EmailAddress, Outcome, RouteReason, Status};
    use crate::store::{ApplicationWrite, Arriving, MailboxUid, MessageOutcome, NewMessage, NO_DETAILS};

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

    /// The shipped configuration with two events: the workshop (`ws-2211`, 18 November 2022, in
    /// Seoul) and a seminar in Los Angeles (`sem-2303`, 10 March 2023), kept 90 days.
    fn two_events(dir: &Path) -> Config {
        let start = DEFAULT.find("\n[event]\n").unwrap();
        let end = start + 1 + DEFAULT[start + 1..].find("\n[staff]").unwrap();
        let events = r#"
[[event]]
id = "ws-2211"
name = "산학협력 워크숍"
deadline = "2022-11-17T23:59:59+09:00"
timezone = "Asia/Seoul"
starts_at = "2022-11-18T13:30:00+09:00"
venue = "Banyan Tree Club & Spa Seoul, Festa Hall"

[[event]]
id = "sem-2303"
name = "AI 세미나"
deadline = "2023-03-09T23:59:59-08:00"
timezone = "America/Los_Angeles"
starts_at = "2023-03-10T10:00:00-08:00"
venue = "Westin Bonaventure"
"#;
        let text = format!("{}{events}{}", &DEFAULT[..start], &DEFAULT[end..])
            .replace("/var/lib/smebridge/smebridge.sqlite", "smebridge.sqlite");
        Config::from_toml(&text, &dir.join("smebridge.toml"), dir).unwrap()
    }

    fn open(config: &Config) -> Store {
        Store::open(Instance::claim(&config.database.path).unwrap()).unwrap()
    }

    /// An application to `event` from an invented applicant named `name`, from `address`.
    fn apply(store: &mut Store, event: &EventId, address: &str, name: &str, uid: u32) {
        let sender = EmailAddress::parse(address).unwrap();
        let raw = format!("From: {name} <{address}>\n\n성명: {name}\n");
        let (sha, message_id) = (format!("sha-ops-{uid}"), format!("ops-{uid}@mail.example"));
        let subject = format!("{name} 신청");
        let message = NewMessage {
            arriving: Arriving { sha256: &sha, arrived_at: at("2022-11-15T10:00:00+09:00"), raw: raw.as_bytes() },
            outcome: MessageOutcome {
                message_id: &message_id,
                sender: Some(&sender),
                subject: Some(&subject),
                outcome: Outcome::Registered,
                outcome_detail: None,
                problems: &[],
                attachments: &[],
                details: &NO_DETAILS,
                event: Some((event, RouteReason::SubjectTag)),
            },
        };
        let write = ApplicationWrite::Insert {
            event: event.clone(),
            email: sender.clone(),
            fields: ApplicantFields { name: Some(name.into()), ..Default::default() },
            status: Status::Accepted,
            review: None,
        };
        let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid };
        store.commit_message(uid, &message, &write, at("2022-11-15T10:00:00+09:00"), |_| Ok(None)).unwrap();
    }

    /// One application from an invented applicant.
    fn desk(config: &Config) -> Store {
        let mut store = open(config);
        apply(&mut store, &EventId::default_id(), "kim.opspurge@hanbit-ops.example", "김옵스", 1);
        store
    }

    /// The database file and its write-ahead log, as bytes.
    fn file_bytes(config: &Config) -> Vec<u8> {
        let db = &config.database.path;
        let mut bytes = std::fs::read(db).unwrap();
        bytes.extend(std::fs::read(format!("{}-wal", db.display())).unwrap_or_default());
        bytes
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn only_what_is_due_goes_and_the_report_says_what_without_personal_data() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), "delete_personal_data_after = \"90d\"");
        let main = EventId::default_id();
        let mut store = desk(&config);
        let copy = dir.path().join("smebridge.sqlite.before-v9.sqlite");
        std::fs::write(&copy, b"an old copy").unwrap();

        // A week before: kept, nothing done.
        let early = purge(&mut store, &config, at("2023-02-10T09:00:00+09:00")).unwrap();
        assert_eq!(early.events.len(), 1);
        assert_eq!(early.events[0].outcome, PurgeOutcome::NotDue);
        assert_eq!(early.no_event.outcome, PurgeOutcome::NothingLeft);
        assert!(early.compacted.is_none() && early.copies.is_empty() && early.complete());
        let name = &config.events[0].name;
        assert_eq!(
            early.to_string(),
            format!("{name} (main), held 2022-11-18: personal data kept until 2023-02-16; nothing is due before 2023-02-17.\n")
        );
        assert!(store.holds_applications(&main).unwrap());

        // Due: a dry run says what would go and changes nothing.
        let due = at("2023-02-17T09:00:00+09:00");
        let dry = purge_dry_run(&store, &config, due).unwrap();
        let PurgeOutcome::WouldDelete(holdings) = &dry.events[0].outcome else { panic!("{dry:?}") };
        assert_eq!((holdings.applications, holdings.messages), (1, 1));
        let text = dry.to_string();
        assert!(text.contains(", due since 2023-02-17.\n  would delete: 1 application(s) (accepted 1) with 0 history row(s); 1 message(s) with "), "{text}");
        assert!(text.contains(&copy.display().to_string()), "{text}");
        assert!(text.ends_with("Nothing was changed (--dry-run). `smebridge purge` deletes it; it needs the database to itself (stop smebridge first).\n"), "{text}");
        assert!(store.holds_applications(&main).unwrap());

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
        assert!(!store.holds_applications(&main).unwrap());

        // Again: nothing left.
        let again = purge(&mut store, &config, due).unwrap();
        assert_eq!(again.events[0].outcome, PurgeOutcome::NothingLeft);
        assert!(again.to_string().contains("nothing is left to delete (purged before)"), "{again}");
    }

    #[test]
    fn with_two_events_only_the_one_past_its_retention_goes_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = two_events(dir.path());
        let (workshop, seminar) = (EventId::parse("ws-2211").unwrap(), EventId::parse("sem-2303").unwrap());
        let listed = events(&config);
        assert_eq!(listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["ws-2211", "sem-2303"]);
        assert_eq!(listed[1].starts_at.time_zone().iana_name(), Some("America/Los_Angeles"), "each its own zone");
        let mut store = open(&config);
        apply(&mut store, &workshop, "kim.twoevents@hanbit-ws.example", "김워크숍", 1);
        apply(&mut store, &seminar, "lee.twoevents@daon-sem.example", "이세미나", 2);
        const WORKSHOP: [&str; 3] = ["kim.twoevents@hanbit-ws.example", "김워크숍", "hanbit-ws"];
        const SEMINAR: [&str; 3] = ["lee.twoevents@daon-sem.example", "이세미나", "daon-sem"];
        let bytes = file_bytes(&config);
        assert!(WORKSHOP.iter().chain(&SEMINAR).all(|s| contains(&bytes, s)), "the test's own check");

        // The workshop's data is kept until 16 February 2023, the seminar's until 8 June 2023
        // (its day in Los Angeles).
        let now = at("2023-02-17T09:00:00+09:00");
        let done = purge(&mut store, &config, now).unwrap();
        assert!(done.complete(), "{done}");
        let outcome = |id: &EventId| &done.events.iter().find(|e| &e.id == id).unwrap().outcome;
        assert!(matches!(outcome(&workshop), PurgeOutcome::Deleted { count_rows: 1, .. }), "{done:?}");
        assert_eq!(outcome(&seminar), &PurgeOutcome::NotDue);
        let text = done.to_string();
        assert!(text.contains("산학협력 워크숍 (ws-2211), held 2022-11-18: personal data kept until 2023-02-16, due since 2023-02-17.\n  deleted: 1 application(s)"), "{text}");
        assert!(text.contains("AI 세미나 (sem-2303), held 2023-03-10: personal data kept until 2023-06-08; nothing is due before 2023-06-09.\n"), "{text}");

        let bytes = file_bytes(&config);
        for gone in WORKSHOP {
            assert!(!contains(&bytes, gone), "{gone:?} is still in the file");
        }
        for kept in SEMINAR {
            assert!(contains(&bytes, kept), "{kept:?} went with the other event's purge");
        }
        assert!(!store.holds_applications(&workshop).unwrap() && store.holds_applications(&seminar).unwrap());
        let kept: Vec<(EventId, i64)> =
            store.purged_counts().unwrap().into_iter().map(|c| (c.event, c.applications)).collect();
        assert_eq!(kept, [(workshop.clone(), 1)]);

        // Due from midnight starting 9 June in Los Angeles: 16:00 that day in Seoul.
        let not_yet = purge(&mut store, &config, at("2023-06-09T15:59:59+09:00")).unwrap();
        assert_eq!(not_yet.events[1].outcome, PurgeOutcome::NotDue);
        let done = purge(&mut store, &config, at("2023-06-09T16:00:00+09:00")).unwrap();
        assert!(matches!(done.events[1].outcome, PurgeOutcome::Deleted { count_rows: 1, .. }), "{done:?}");
        assert_eq!(done.events[0].outcome, PurgeOutcome::NothingLeft);
        let bytes = file_bytes(&config);
        assert!(SEMINAR.iter().all(|s| !contains(&bytes, s)));
    }

    #[test]
    fn mail_for_no_event_goes_when_its_own_period_has_passed_and_the_report_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), "delete_personal_data_after = \"30d\"");
        let mut store = open(&config);
        // A bounce (mail for no event) that arrived on 1 December 2022, after the workshop.
        let daemon = EmailAddress::parse("mailer-daemon@bounce-ops.example").unwrap();
        let message = NewMessage {
            arriving: Arriving {
                sha256: "sha-bounce",
                arrived_at: at("2022-12-01T10:00:00+09:00"),
                raw: b"From: mailer-daemon@bounce-ops.example\n\nBOUNCE-OPS-QUOTED",
            },
            outcome: MessageOutcome {
                message_id: "bounce@bounce-ops.example",
                sender: Some(&daemon),
                subject: Some("Undelivered"),
                outcome: Outcome::Automatic,
                outcome_detail: None,
                problems: &[],
                attachments: &[],
                details: &NO_DETAILS,
                event: None,
            },
        };
        let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        store
            .commit_message(uid, &message, &ApplicationWrite::None, message.arriving.arrived_at, |_| Ok(None))
            .unwrap();

        // The workshop's data is due from 19 December; the bounce's from 1 January 2023.
        let report = purge(&mut store, &config, at("2022-12-31T23:00:00+09:00")).unwrap();
        assert_eq!(report.no_event.outcome, PurgeOutcome::NothingLeft);
        assert!(!report.to_string().contains("Mail for no event"), "{report}");
        assert!(contains(&file_bytes(&config), "BOUNCE-OPS-QUOTED"));

        let now = at("2023-01-01T00:00:00+09:00");
        let dry = purge_dry_run(&store, &config, now).unwrap();
        assert!(matches!(&dry.no_event.outcome, PurgeOutcome::WouldDelete(h) if h.messages == 1), "{dry:?}");
        assert!(dry.to_string().ends_with("Nothing was changed (--dry-run). `smebridge purge` deletes it; it needs the database to itself (stop smebridge first).\n"), "{dry}");
        let done = purge(&mut store, &config, now).unwrap();
        let text = done.to_string();
        assert!(
            text.contains(
                "Mail for no event (automatic mail, duplicates, unreadable or unrouted mail), kept 30 days from the day \
                 it arrived: due for what arrived before 2022-12-02.\n  deleted: 1 message(s) with "
            ),
            "{text}"
        );
        assert!(done.complete() && done.compacted.is_some_and(|c| c.wal_emptied), "{done:?}");
        assert!(!contains(&file_bytes(&config), "BOUNCE-OPS-QUOTED"));
        assert!(store.purges().unwrap().is_empty(), "no event's purge: nothing for the summary to tell");
    }

    #[test]
    fn without_a_retention_period_nothing_is_ever_due_and_purge_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), "");
        let mut store = desk(&config);
        let err = purge(&mut store, &config, at("2030-01-01T00:00:00Z")).unwrap_err().to_string();
        assert!(err.starts_with("[retention] delete_personal_data_after is not set in "), "{err}");
        assert!(purge_dry_run(&store, &config, at("2030-01-01T00:00:00Z")).is_err());
        assert!(store.holds_applications(&EventId::default_id()).unwrap());
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
