//! Messages through the pipeline: fetch → record → parse → decide → store (+ reply in the outbox).
//!
//! The stages, as [`crate::daemon`] runs them for each batch fetched:
//!
//! 1. **fetch** (IMAP, in the daemon): the batch's raw bytes, [`Incoming`];
//! 2. [`sort`]: what each message needs, from what the database knows of its bytes
//!    ([`crate::domain::read_plan`]): nothing (known bytes), reading with the batch, or — when an
//!    earlier attempt to read it never finished, because the process died — reading on its own
//!    ([`read_suspect`]);
//! 3. [`record`]: the raw bytes of the batch, marked as being read, in one transaction, before
//!    anything is parsed;
//! 4. [`parse()`]: each message read ([`read_message`]), outside any write transaction; attached
//!    forms in child processes (`crate::isolate`), and a message over [`LARGE_MESSAGE`] whole in
//!    a child process, so that this process holds its raw bytes and never what reading them
//!    takes (see [`Readers`]);
//! 5. [`decide_and_store`] (`decide.rs`): the message routed to an event, the decision and
//!    everything it causes, in the batch's group transaction, which turns each marker into the
//!    message's outcome and counts its UID.
//!
//! Staff give unrouted mail (or a misrouted application) to an event later: `assign.rs`. The
//! reminders and thank-yous the desk sends on its own schedule: `scheduled.rs`.
//!
//! Everything here is synchronous and local: the IMAP fetch before it and the SMTP send after it
//! live in [`crate::daemon`] and [`crate::outbox`]. Nothing here reads a clock: the daemon passes
//! `now`, the time it records the batch at (a message's arrival time comes from the server).

mod assign;
mod decide;
mod raw;
mod scheduled;

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use anyhow::{Context, Result};
use jiff::Timestamp;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::domain::{hold_reason, read_plan, EmailAddress, HoldCause, Outcome, ReadPlan, Stopped};
use crate::parse::{self, Announcement, FormReader, Inbound};
use crate::reply::{Replier, ReplyKind};
use crate::store::{ApplicationWrite, Arriving, MailboxUid, MessageOutcome, Reading, Store, NO_DETAILS};

pub use assign::{assign_to_event, move_to_event, Moved};
pub use decide::{decide_and_store, promote_waitlisted};
pub(crate) use decide::{details_of, held_review_of, note_reply_to, review};
pub use raw::Raw;
pub use scheduled::{queue_scheduled, until_next_scheduled};

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// These exact bytes were recorded before (another UID, or a UIDVALIDITY change).
    AlreadyRecorded,
    /// Recorded now, with this outcome; `reply` says whether a reply was queued.
    Recorded { outcome: Outcome, reply: Option<ReplyKind> },
    /// Not processed: the pass stopped first. Its UID is left for the next pass.
    Left,
}

/// Messages larger than this (bytes) are read apart, whole, in a child process
/// ([`Readers::apart`]). Below it reading in this process is cheap enough: at most a few times
/// the message, next to a fetched batch of at most `imap::FETCH_BATCH_BYTES`.
pub const LARGE_MESSAGE: usize = 8 << 20;

/// How messages are read. The daemon's readers are child processes (`crate::isolate`); tests
/// and tools pass their own.
#[derive(Clone, Copy)]
pub struct Readers<'a> {
    /// Attached forms (the daemon's `isolate::ChildForms`).
    pub forms: &'a dyn FormReader,
    /// A message over [`LARGE_MESSAGE`], read whole in a confined child process with its forms
    /// (the daemon's `isolate::read_apart`); `Err` says how the child ended without an answer.
    pub apart: &'a dyn Fn(&[u8]) -> Result<Inbound, Stopped>,
    /// A trial read in a child process of a message whose earlier reading never finished (the
    /// daemon's `isolate::trial_read`); see [`read_suspect`].
    pub trial: &'a dyn Fn(&[u8]) -> Result<(), Stopped>,
}

impl<'a> Readers<'a> {
    /// Everything read in this process, forms with `forms`: no child processes.
    pub fn in_process(forms: &'a dyn FormReader) -> Readers<'a> {
        Readers { forms, apart: &no_child, trial: &no_child }
    }
}

/// A reader that starts no child: the message is then read in this process.
fn no_child<T>(_: &[u8]) -> Result<T, Stopped> {
    Err(Stopped::NotStarted("no child processes here".to_owned()))
}

/// What the decisions follow and the replies say: the configuration (deadline, capacity, reply
/// policy, sender authentication) and the reply templates.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub config: &'a Config,
    pub replier: &'a Replier,
}

/// A message as fetched.
#[derive(Debug)]
pub struct Incoming {
    pub uid: u32,
    /// When it arrived at the server (INTERNALDATE).
    pub arrived_at: Timestamp,
    pub raw: Raw,
    /// Set when the message was over the size limit and `raw` holds its headers only.
    pub too_large: Option<u64>,
}

/// A fetched message and what it needs ([`sort`]).
#[derive(Debug)]
pub struct Arrival {
    pub incoming: Incoming,
    pub sha256: String,
    pub plan: ReadPlan,
}

impl Arrival {
    fn arriving(&self) -> Arriving<'_> {
        Arriving { sha256: &self.sha256, arrived_at: self.incoming.arrived_at, raw: &self.incoming.raw }
    }

    fn reading(&self) -> Reading<'_> {
        Reading { sha256: &self.sha256, arrived_at: self.incoming.arrived_at }
    }
}

/// A message after [`parse()`]: what it says, without its bytes (they are recorded).
#[derive(Debug)]
pub struct Parsed {
    pub uid: u32,
    pub arrived_at: Timestamp,
    pub sha256: String,
    pub too_large: Option<u64>,
    pub read: Read,
}

/// What the parse stage did with a message.
#[derive(Debug)]
pub enum Read {
    /// Its bytes are recorded with an outcome already: nothing to read.
    Known,
    Read(Box<Inbound>),
    /// Not read: the child process that read it died or overran (a large message, read
    /// apart). Held for staff unread, with this reason.
    Held(String),
    /// The pass stopped before it was read.
    NotRead,
}

/// Stage 2: what each message of a fetched batch needs. Bytes met earlier in the same batch
/// count as known (the first one is read; the next finds it recorded).
pub fn sort(store: &Store, batch: Vec<Incoming>) -> Result<Vec<Arrival>> {
    let mut seen = HashSet::new();
    let mut sorted = Vec::with_capacity(batch.len());
    for incoming in batch {
        let sha256 = parse::sha256_hex(&incoming.raw);
        let plan = if seen.insert(sha256.clone()) { read_plan(store.read_state(&sha256)?) } else { ReadPlan::Known };
        sorted.push(Arrival { incoming, sha256, plan });
    }
    Ok(sorted)
}

/// Stage 3: the raw bytes of every message to be read with the batch, marked as being read, in
/// one transaction, before anything is parsed.
pub fn record(store: &mut Store, batch: &[Arrival], now: Timestamp) -> Result<()> {
    let arriving: Vec<Arriving<'_>> =
        batch.iter().filter(|a| a.plan == ReadPlan::WithBatch).map(Arrival::arriving).collect();
    if arriving.is_empty() {
        return Ok(());
    }
    store.mark_reading(&arriving, now).context("cannot record the messages before reading them")
}

/// Stage 4: read each message of the batch, in order, until `shutdown`; no write transaction is
/// open meanwhile. The bytes are let go as soon as the message is read.
pub fn parse(batch: Vec<Arrival>, config: &Config, readers: Readers<'_>, shutdown: &CancellationToken) -> Vec<Parsed> {
    let setup = ParseSetup::of(config);
    let context = setup.context(readers.forms);
    batch
        .into_iter()
        .map(|arrival| {
            let read = match arrival.plan {
                ReadPlan::Known => Read::Known,
                _ if shutdown.is_cancelled() => Read::NotRead,
                _ => read(&arrival.incoming.raw, &arrival.sha256, readers, &context),
            };
            Parsed {
                uid: arrival.incoming.uid,
                arrived_at: arrival.incoming.arrived_at,
                sha256: arrival.sha256,
                too_large: arrival.incoming.too_large,
                read,
            }
        })
        .collect()
}

/// Read one message: in this process, or apart in a child when it is large. A child that died
/// or overran holds the message for staff; one that could not be started (or answered
/// nonsense) is no evidence against the message, which is then read here.
fn read(raw: &[u8], sha256: &str, readers: Readers<'_>, context: &parse::Context<'_>) -> Read {
    if raw.len() <= LARGE_MESSAGE {
        return Read::Read(Box::new(read_message(raw, sha256, context)));
    }
    match (readers.apart)(raw) {
        Ok(inbound) => Read::Read(Box::new(inbound)),
        Err(stopped) if stopped.convicts() => {
            warn!(size = raw.len(), reason = %stopped, "a large message stopped the process that read it; it is held for staff unread");
            Read::Held(hold_reason(HoldCause::Apart(stopped)))
        }
        Err(stopped) => {
            warn!(size = raw.len(), reason = %stopped, "a large message could not be read in a separate process; reading it here");
            Read::Read(Box::new(read_message(raw, sha256, context)))
        }
    }
}

/// The messages the parse stage left unread (the pass stopped first).
pub fn unread(parsed: &[Parsed]) -> Vec<String> {
    parsed.iter().filter(|p| matches!(p.read, Read::NotRead)).map(|p| p.sha256.clone()).collect()
}

/// Take back the attempt counted for messages left unread: it is no sign against them.
pub fn release(store: &mut Store, unread: &[String]) -> Result<()> {
    if unread.is_empty() {
        return Ok(());
    }
    let unread: Vec<&str> = unread.iter().map(String::as_str).collect();
    store.release_reading(&unread)
}

/// A message whose earlier reading never finished ([`ReadPlan::Alone`]) or stopped smebridge
/// too often ([`ReadPlan::Hold`]), through every stage on its own: a trial read in a child
/// process ([`Readers::trial`]); if it passes, the attempt counted in its own commit, then the
/// message read here and stored in a commit of its own. A large message is read apart instead
/// ([`Readers::apart`]), which is its trial too. Held for staff unread, with the reason, if the
/// trial fails or it has stopped smebridge too often.
pub fn read_suspect(
    store: &mut Store,
    rules: Rules<'_>,
    at: MailboxUid<'_>,
    arrival: Arrival,
    readers: Readers<'_>,
    now: Timestamp,
) -> Result<Processed> {
    match arrival.plan {
        ReadPlan::Known | ReadPlan::WithBatch => {
            anyhow::bail!("read_suspect is for messages whose reading never finished")
        }
        ReadPlan::Hold { attempts } => {
            hold(store, at, arrival.reading(), hold_reason(HoldCause::Attempts(attempts)), now)
        }
        ReadPlan::Alone => {
            // The child first: it can die without taking this process along, so it needs no
            // marker; a kill meanwhile counts no attempt against the message.
            let raw = &arrival.incoming.raw;
            let tried = if raw.len() > LARGE_MESSAGE {
                (readers.apart)(raw).map(Some)
            } else {
                (readers.trial)(raw).map(|()| None)
            };
            let read_apart = match tried {
                Ok(read_apart) => {
                    info!(
                        uid = at.uid,
                        "an earlier attempt to read this message never finished; its trial read passed"
                    );
                    read_apart
                }
                Err(stopped) if stopped.convicts() => {
                    return hold(store, at, arrival.reading(), hold_reason(HoldCause::Trial(stopped)), now);
                }
                Err(stopped) => {
                    warn!(
                        uid = at.uid,
                        reason = %stopped,
                        "an earlier attempt to read this message never finished and no trial read could be made; reading it"
                    );
                    None
                }
            };
            store.mark_reading(&[arrival.arriving()], now).context("cannot record the message before reading it")?;
            let setup = ParseSetup::of(rules.config);
            let inbound = match read_apart {
                Some(inbound) => inbound,
                None => read_message(raw, &arrival.sha256, &setup.context(readers.forms)),
            };
            let parsed = Parsed {
                uid: arrival.incoming.uid,
                arrived_at: arrival.incoming.arrived_at,
                sha256: arrival.sha256,
                too_large: arrival.incoming.too_large,
                read: Read::Read(Box::new(inbound)),
            };
            decide_and_store(store, rules, at, parsed, now)
        }
    }
}

/// Record the message read as `reading` as held for staff, unread: the outcome `quarantined`
/// with `reason`, its UID counted, no reply. Its bytes stay in the database for staff.
fn hold(
    store: &mut Store,
    at: MailboxUid<'_>,
    reading: Reading<'_>,
    reason: String,
    now: Timestamp,
) -> Result<Processed> {
    warn!(uid = at.uid, reason = %reason, "a message is held for staff unread: reading it stops its reader");
    let message_id = parse::synthesized_message_id(reading.sha256);
    let problems = [reason.clone()];
    let outcome = MessageOutcome {
        message_id: &message_id,
        sender: None,
        subject: None,
        outcome: Outcome::Quarantined,
        outcome_detail: Some(reason),
        problems: &problems,
        attachments: &[],
        details: &NO_DETAILS,
        event: None,
    };
    store
        .finish_reading(at, reading, &outcome, &ApplicationWrite::None, now, |_| Ok(None))
        .context("cannot record the message as held")?;
    Ok(Processed::Recorded { outcome: Outcome::Quarantined, reply: None })
}

/// What parsing knows of the desk, from its configuration: the center's address and the
/// announcements of its events (`announcement_file`). The daemon's parse stage, `smebridge
/// reparse` and `smebridge application assign-event` read with it.
pub struct ParseSetup<'a> {
    own: EmailAddress,
    announcements: Vec<&'a Announcement>,
}

impl<'a> ParseSetup<'a> {
    pub fn of(config: &'a Config) -> ParseSetup<'a> {
        ParseSetup {
            own: config.own_address(),
            announcements: config.events.iter().filter_map(|e| e.announcement.as_deref()).collect(),
        }
    }

    /// The context to parse with, attached forms read with `forms`.
    pub fn context<'b>(&'b self, forms: &'b dyn FormReader) -> parse::Context<'b> {
        parse::Context { forms, announcements: &self.announcements, center: Some(&self.own) }
    }
}

/// Read one message: the parse stage's work for one message, here and in the trial child
/// (`crate::isolate::trial_read`). A panic in the parser becomes a recorded problem; what a
/// panic cannot catch is what the marker, the trial and the child processes are for.
pub fn read_message(raw: &[u8], sha256: &str, context: &parse::Context<'_>) -> Inbound {
    crate::isolate::fault::reading(raw);
    match catch_unwind(AssertUnwindSafe(|| parse::parse_with(raw, sha256, context))) {
        Ok(inbound) => inbound,
        Err(_) => {
            error!("the parser panicked on a message; it is recorded unparsed");
            let mut inbound = parse::parse(b"", sha256, &parse::NoForms);
            inbound.problems = vec!["the parser crashed on this message".to_owned()];
            inbound
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::path::Path;

    use super::*;
    use crate::domain::{ReadState, MAX_UNFINISHED};
    use crate::parse::InProcess;

    struct Desk {
        _dir: tempfile::TempDir,
        store: Store,
        config: Config,
        replier: Replier,
    }

    fn desk() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(crate::instance::Instance::claim(&dir.path().join("db.sqlite")).unwrap()).unwrap();
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(base.join("smebridge.toml")).unwrap();
        let config = Config::from_toml(&text, &base.join("smebridge.toml"), &base).unwrap();
        let replier = Replier::new(&config).unwrap();
        Desk { _dir: dir, store, config, replier }
    }

    fn application(i: u32) -> Incoming {
        let raw = format!(
            "From: Kim <kim{i}@pipeline.example>\r\nSubject: apply\r\nMessage-ID: <p{i}@pipeline.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n성명: 김민준{i}\r\n소속: 한빛테크{i}\r\n"
        );
        Incoming {
            uid: i,
            arrived_at: "2022-11-16T01:00:00Z".parse().unwrap(),
            raw: raw.into_bytes().into(),
            too_large: None,
        }
    }

    /// An application larger than [`LARGE_MESSAGE`]: its fields, then a long remark.
    fn large_application(i: u32) -> Incoming {
        let mut incoming = application(i);
        let mut raw = incoming.raw.to_vec();
        while raw.len() <= LARGE_MESSAGE {
            raw.extend_from_slice("덧붙이는 말입니다. ".repeat(1000).as_bytes());
            raw.extend_from_slice(b"\r\n");
        }
        incoming.raw = raw.into();
        incoming
    }

    /// Reads a large message as the child would, counting the messages it is given.
    fn apart_here(count: &Cell<usize>) -> impl Fn(&[u8]) -> Result<Inbound, Stopped> + '_ {
        move |raw| {
            count.set(count.get() + 1);
            Ok(read_message(raw, &parse::sha256_hex(raw), &parse::Context::new(&InProcess)))
        }
    }

    fn at(uid: u32) -> MailboxUid<'static> {
        MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid }
    }

    /// The batch through record, parse, decide and store, as the daemon runs it.
    fn through(desk: &mut Desk, batch: Vec<Arrival>, shutdown: &CancellationToken) -> Vec<Processed> {
        record(&mut desk.store, &batch, Timestamp::now()).unwrap();
        let parsed = parse(batch, &desk.config, Readers::in_process(&InProcess), shutdown);
        let unread = unread(&parsed);
        let rules = Rules { config: &desk.config, replier: &desk.replier };
        let now = Timestamp::now();
        let stored = desk
            .store
            .group(|store| parsed.into_iter().map(|p| decide_and_store(store, rules, at(p.uid), p, now)).collect())
            .unwrap();
        release(&mut desk.store, &unread).unwrap();
        stored
    }

    fn sha(incoming: &Incoming) -> String {
        parse::sha256_hex(&incoming.raw)
    }

    #[test]
    fn the_bytes_are_committed_as_being_read_before_parsing_and_the_outcome_replaces_the_marker() {
        let mut desk = desk();
        let batch = sort(&desk.store, vec![application(1), application(2)]).unwrap();
        let shas: Vec<String> = batch.iter().map(|a| a.sha256.clone()).collect();
        assert!(batch.iter().all(|a| a.plan == ReadPlan::WithBatch));
        record(&mut desk.store, &batch, Timestamp::now()).unwrap();
        for sha in &shas {
            assert_eq!(desk.store.read_state(sha).unwrap(), ReadState::Unfinished { attempts: 1 });
        }
        assert!(desk.store.processed_uids("INBOX", 1).unwrap().is_empty(), "no UID counts before its outcome");
        assert_eq!(desk.store.message_count().unwrap(), 2, "the raw bytes are recorded");

        let parsed = parse(batch, &desk.config, Readers::in_process(&InProcess), &CancellationToken::new());
        let rules = Rules { config: &desk.config, replier: &desk.replier };
        let now = Timestamp::now();
        let stored: Vec<Processed> = desk
            .store
            .group(|store| parsed.into_iter().map(|p| decide_and_store(store, rules, at(p.uid), p, now)).collect())
            .unwrap();
        assert!(stored
            .iter()
            .all(|p| matches!(p, Processed::Recorded { outcome: Outcome::Registered, reply: Some(_) })));
        for sha in &shas {
            assert_eq!(desk.store.read_state(sha).unwrap(), ReadState::Finished);
        }
        assert_eq!(desk.store.processed_uids("INBOX", 1).unwrap(), [1, 2].into_iter().collect());
        assert_eq!(desk.store.message_count().unwrap(), 2, "each message recorded once");
    }

    #[test]
    fn the_same_bytes_twice_in_a_batch_are_read_once() {
        let mut desk = desk();
        let mut twin = application(1);
        twin.uid = 2;
        let batch = sort(&desk.store, vec![application(1), twin]).unwrap();
        assert_eq!(batch[1].plan, ReadPlan::Known);
        let stored = through(&mut desk, batch, &CancellationToken::new());
        assert!(matches!(stored[0], Processed::Recorded { outcome: Outcome::Registered, .. }));
        assert_eq!(stored[1], Processed::AlreadyRecorded);
        assert_eq!(desk.store.processed_uids("INBOX", 1).unwrap(), [1, 2].into_iter().collect());
    }

    #[test]
    fn a_pass_stopped_before_reading_leaves_the_uid_and_takes_the_attempt_back() {
        let mut desk = desk();
        let stopped = CancellationToken::new();
        stopped.cancel();
        let message = application(1);
        let sha = sha(&message);
        let batch = sort(&desk.store, vec![message]).unwrap();
        assert_eq!(through(&mut desk, batch, &stopped), [Processed::Left]);
        assert!(desk.store.processed_uids("INBOX", 1).unwrap().is_empty());
        assert_eq!(desk.store.read_state(&sha).unwrap(), ReadState::Unfinished { attempts: 0 });
        let again = sort(&desk.store, vec![application(1)]).unwrap();
        assert_eq!(again[0].plan, ReadPlan::WithBatch, "read with its batch next time, no trial");
    }

    /// The process "dies" after an attempt was marked (with a batch, or alone): the marker stays.
    fn die_while_reading(desk: &mut Desk, message: Incoming) {
        let arrival = sort(&desk.store, vec![message]).unwrap().remove(0);
        desk.store.mark_reading(&[arrival.arriving()], Timestamp::now()).unwrap();
    }

    #[test]
    fn a_message_whose_reading_never_finished_is_tried_in_a_child_first_and_read_if_the_trial_passes() {
        let mut desk = desk();
        die_while_reading(&mut desk, application(1));
        let sorted = sort(&desk.store, vec![application(1)]).unwrap();
        assert_eq!(sorted[0].plan, ReadPlan::Alone);
        let sha = sorted[0].sha256.clone();
        let tried = Cell::new(false);
        let (d, rules) = (&mut desk.store, Rules { config: &desk.config, replier: &desk.replier });
        let arrival = sorted.into_iter().next().unwrap();
        let processed = read_suspect(
            d,
            rules,
            at(1),
            arrival,
            Readers {
                trial: &|raw| {
                    assert!(!raw.is_empty());
                    tried.set(true);
                    Ok(())
                },
                ..Readers::in_process(&InProcess)
            },
            Timestamp::now(),
        )
        .unwrap();
        assert!(tried.get());
        assert!(matches!(processed, Processed::Recorded { outcome: Outcome::Registered, reply: Some(ReplyKind::Ack) }));
        assert_eq!(desk.store.read_state(&sha).unwrap(), ReadState::Finished);
        assert_eq!(desk.store.applications().unwrap().len(), 1);
    }

    #[test]
    fn a_message_that_kills_its_trial_is_held_unread_with_the_reason_and_its_uid_counted() {
        let mut desk = desk();
        die_while_reading(&mut desk, application(1));
        let arrival = sort(&desk.store, vec![application(1)]).unwrap().remove(0);
        let sha = arrival.sha256.clone();
        let (d, rules) = (&mut desk.store, Rules { config: &desk.config, replier: &desk.replier });
        let processed = read_suspect(
            d,
            rules,
            at(1),
            arrival,
            Readers { trial: &|_| Err(Stopped::Crashed { signal: 6 }), ..Readers::in_process(&InProcess) },
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(processed, Processed::Recorded { outcome: Outcome::Quarantined, reply: None });
        assert_eq!(desk.store.read_state(&sha).unwrap(), ReadState::Finished);
        assert_eq!(desk.store.processed_uids("INBOX", 1).unwrap(), [1].into_iter().collect());
        assert!(desk.store.applications().unwrap().is_empty(), "nothing decided from a message not read");
        let held = desk.store.messages_with_outcomes(&[Outcome::Quarantined]).unwrap();
        assert_eq!(held.len(), 1);
        let detail = held[0].detail.clone().unwrap();
        assert!(detail.contains("stopped smebridge") && detail.contains("the reader crashed (signal 6)"), "{detail}");
        assert!(!desk.store.raw_message(held[0].id).unwrap().is_empty(), "the raw bytes are kept for staff");
        assert!(desk.store.outbox_counts().unwrap().is_empty(), "no reply");
    }

    #[test]
    fn a_trial_that_could_not_be_made_is_no_evidence_and_the_message_is_read() {
        let mut desk = desk();
        die_while_reading(&mut desk, application(1));
        let arrival = sort(&desk.store, vec![application(1)]).unwrap().remove(0);
        let sha = arrival.sha256.clone();
        let (d, rules) = (&mut desk.store, Rules { config: &desk.config, replier: &desk.replier });
        let processed = read_suspect(
            d,
            rules,
            at(1),
            arrival,
            Readers {
                trial: &|_| Err(Stopped::NotStarted("Resource temporarily unavailable".to_owned())),
                ..Readers::in_process(&InProcess)
            },
            Timestamp::now(),
        )
        .unwrap();
        assert!(matches!(processed, Processed::Recorded { outcome: Outcome::Registered, .. }));
        assert_eq!(desk.store.read_state(&sha).unwrap(), ReadState::Finished);
    }

    #[test]
    fn a_message_that_stopped_the_desk_too_often_is_held_without_another_try() {
        let mut desk = desk();
        for _ in 0..MAX_UNFINISHED {
            die_while_reading(&mut desk, application(1));
        }
        let arrival = sort(&desk.store, vec![application(1)]).unwrap().remove(0);
        assert_eq!(arrival.plan, ReadPlan::Hold { attempts: MAX_UNFINISHED });
        let (d, rules) = (&mut desk.store, Rules { config: &desk.config, replier: &desk.replier });
        let processed = read_suspect(
            d,
            rules,
            at(1),
            arrival,
            Readers { trial: &|_| panic!("no trial for a message held already"), ..Readers::in_process(&InProcess) },
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(processed, Processed::Recorded { outcome: Outcome::Quarantined, reply: None });
        let held = desk.store.messages_with_outcomes(&[Outcome::Quarantined]).unwrap();
        let expected = format!("smebridge stopped {MAX_UNFINISHED} times while reading this message");
        assert_eq!(held[0].detail.as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn only_a_large_message_is_read_apart_and_its_answer_decides() {
        let mut desk = desk();
        let read_apart = Cell::new(0);
        let apart = apart_here(&read_apart);
        let batch = sort(&desk.store, vec![application(1), large_application(2), application(3)]).unwrap();
        record(&mut desk.store, &batch, Timestamp::now()).unwrap();
        let readers = Readers { apart: &apart, ..Readers::in_process(&InProcess) };
        let parsed = parse(batch, &desk.config, readers, &CancellationToken::new());
        assert_eq!(read_apart.get(), 1, "the large one alone");
        let rules = Rules { config: &desk.config, replier: &desk.replier };
        let now = Timestamp::now();
        let stored: Vec<Processed> = desk
            .store
            .group(|store| parsed.into_iter().map(|p| decide_and_store(store, rules, at(p.uid), p, now)).collect())
            .unwrap();
        assert!(stored.iter().all(|p| matches!(p, Processed::Recorded { outcome: Outcome::Registered, .. })));
        let names: Vec<Option<String>> =
            desk.store.applications().unwrap().into_iter().map(|a| a.fields.name).collect();
        assert_eq!(names, [Some("김민준1".to_owned()), Some("김민준2".to_owned()), Some("김민준3".to_owned())]);
    }

    #[test]
    fn a_large_message_whose_reader_died_is_held_and_the_rest_of_the_batch_is_read() {
        let mut desk = desk();
        let large = large_application(2);
        let size = large.raw.len();
        let batch = sort(&desk.store, vec![application(1), large, application(3)]).unwrap();
        record(&mut desk.store, &batch, Timestamp::now()).unwrap();
        let readers =
            Readers { apart: &|_| Err(Stopped::Memory { limit_mib: 256 }), ..Readers::in_process(&InProcess) };
        let parsed = parse(batch, &desk.config, readers, &CancellationToken::new());
        let rules = Rules { config: &desk.config, replier: &desk.replier };
        let now = Timestamp::now();
        let stored: Vec<Processed> = desk
            .store
            .group(|store| parsed.into_iter().map(|p| decide_and_store(store, rules, at(p.uid), p, now)).collect())
            .unwrap();
        assert!(matches!(stored[0], Processed::Recorded { outcome: Outcome::Registered, reply: Some(_) }));
        assert_eq!(stored[1], Processed::Recorded { outcome: Outcome::Quarantined, reply: None });
        assert!(matches!(stored[2], Processed::Recorded { outcome: Outcome::Registered, reply: Some(_) }));
        assert_eq!(desk.store.processed_uids("INBOX", 1).unwrap(), [1, 2, 3].into_iter().collect());
        let held = desk.store.messages_with_outcomes(&[Outcome::Quarantined]).unwrap();
        assert_eq!(
            held[0].detail.as_deref(),
            Some("this large message was read in a separate process, which could not finish: it needed more than 256 MiB")
        );
        assert_eq!(desk.store.raw_message(held[0].id).unwrap().len(), size, "its bytes are kept for staff");
        assert_eq!(desk.store.applications().unwrap().len(), 2, "nothing decided from a message not read");
    }

    #[test]
    fn a_large_message_whose_reader_could_not_start_is_read_here() {
        let mut desk = desk();
        let batch = sort(&desk.store, vec![large_application(1)]).unwrap();
        let stored = through(&mut desk, batch, &CancellationToken::new());
        assert!(matches!(stored[0], Processed::Recorded { outcome: Outcome::Registered, reply: Some(_) }));
        assert_eq!(desk.store.applications().unwrap()[0].fields.name.as_deref(), Some("김민준1"));
    }

    #[test]
    fn a_large_suspect_is_read_apart_instead_of_a_trial_and_held_if_that_dies() {
        let mut desk = desk();
        die_while_reading(&mut desk, large_application(1));
        die_while_reading(&mut desk, large_application(2));
        let sorted = sort(&desk.store, vec![large_application(1), large_application(2)]).unwrap();
        assert!(sorted.iter().all(|a| a.plan == ReadPlan::Alone));
        let read_apart = Cell::new(0);
        let apart = apart_here(&read_apart);
        let mut results = Vec::new();
        for (arrival, dies) in sorted.into_iter().zip([false, true]) {
            let (d, rules) = (&mut desk.store, Rules { config: &desk.config, replier: &desk.replier });
            let died = |_: &[u8]| Err(Stopped::Crashed { signal: 9 });
            let readers = Readers {
                apart: if dies { &died } else { &apart },
                trial: &|_| panic!("no separate trial for a message read apart"),
                ..Readers::in_process(&InProcess)
            };
            results.push(read_suspect(d, rules, at(arrival.incoming.uid), arrival, readers, Timestamp::now()).unwrap());
        }
        assert_eq!(read_apart.get(), 1);
        assert!(matches!(results[0], Processed::Recorded { outcome: Outcome::Registered, reply: Some(_) }));
        assert_eq!(results[1], Processed::Recorded { outcome: Outcome::Quarantined, reply: None });
        let held = desk.store.messages_with_outcomes(&[Outcome::Quarantined]).unwrap();
        let detail = held[0].detail.clone().unwrap();
        assert!(detail.contains("stopped smebridge") && detail.ends_with("the reader crashed (signal 9)"), "{detail}");
    }

    #[test]
    fn later_mail_in_the_same_batch_is_read_normally_after_a_suspect() {
        let mut desk = desk();
        die_while_reading(&mut desk, application(1));
        let sorted = sort(&desk.store, vec![application(1), application(2), application(3)]).unwrap();
        let plans: Vec<ReadPlan> = sorted.iter().map(|a| a.plan).collect();
        assert_eq!(plans, [ReadPlan::Alone, ReadPlan::WithBatch, ReadPlan::WithBatch]);
        let (suspects, batch): (Vec<_>, Vec<_>) = sorted.into_iter().partition(|a| a.plan == ReadPlan::Alone);
        for arrival in suspects {
            let (d, rules) = (&mut desk.store, Rules { config: &desk.config, replier: &desk.replier });
            read_suspect(
                d,
                rules,
                at(arrival.incoming.uid),
                arrival,
                Readers { trial: &|_| Err(Stopped::Memory { limit_mib: 256 }), ..Readers::in_process(&InProcess) },
                Timestamp::now(),
            )
            .unwrap();
        }
        let stored = through(&mut desk, batch, &CancellationToken::new());
        assert!(stored
            .iter()
            .all(|p| matches!(p, Processed::Recorded { outcome: Outcome::Registered, reply: Some(_) })));
        assert_eq!(desk.store.processed_uids("INBOX", 1).unwrap(), [1, 2, 3].into_iter().collect());
        assert_eq!(desk.store.applications().unwrap().len(), 2);
    }
}
