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
//!    forms in child processes (`crate::isolate`);
//! 5. [`decide_and_store`]: the decision and everything it causes, in the batch's group
//!    transaction, which turns each marker into the message's outcome and counts its UID.
//!
//! Everything here is synchronous and local: the IMAP fetch before it and the SMTP send after it
//! live in [`crate::daemon`] and [`crate::outbox`].

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use anyhow::{Context, Result};
use jiff::Timestamp;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, instrument, warn, Span};

use crate::config::Config;
use crate::domain::{
    auth_verdict, automatic_reason, decide, hold_reason, read_plan, reply_address, ApplicantFields, Change, Decision,
    EmailAddress, Existing, Facts, HoldCause, ReadPlan, ReplyAddress, Status, Stopped,
};
use crate::parse::{self, FormReader, Inbound};
use crate::reply::{Addressee, Replier, ReplyFacts, ReplyKind};
use crate::store::{
    Application, ApplicationWrite, Arriving, Details, MailboxUid, MessageOutcome, NewReply, Reading, Store, NO_DETAILS,
};

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// These exact bytes were recorded before (another UID, or a UIDVALIDITY change).
    AlreadyRecorded,
    /// Recorded now, with this outcome; `reply` says whether a reply was queued.
    Recorded { outcome: &'static str, reply: Option<ReplyKind> },
    /// Not processed: the pass stopped first. Its UID is left for the next pass.
    Left,
}

/// The outcome of a message held for staff unread, because reading it stops smebridge.
pub const QUARANTINED: &str = "quarantined";

/// A message as fetched.
#[derive(Debug)]
pub struct Incoming {
    pub uid: u32,
    /// When it arrived at the server (INTERNALDATE).
    pub arrived_at: Timestamp,
    pub raw: Vec<u8>,
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
pub fn record(store: &mut Store, batch: &[Arrival]) -> Result<()> {
    let arriving: Vec<Arriving<'_>> =
        batch.iter().filter(|a| a.plan == ReadPlan::WithBatch).map(Arrival::arriving).collect();
    if arriving.is_empty() {
        return Ok(());
    }
    store.mark_reading(&arriving).context("cannot record the messages before reading them")
}

/// Stage 4: read each message of the batch, in order, until `shutdown`; no write transaction is
/// open meanwhile. The bytes are let go as soon as the message is read.
pub fn parse(
    batch: Vec<Arrival>,
    config: &Config,
    forms: &dyn FormReader,
    shutdown: &CancellationToken,
) -> Vec<Parsed> {
    let own = config.own_address();
    let context = context(config, &own, forms);
    batch
        .into_iter()
        .map(|arrival| {
            let read = match arrival.plan {
                ReadPlan::Known => Read::Known,
                _ if shutdown.is_cancelled() => Read::NotRead,
                _ => Read::Read(Box::new(read_message(&arrival.incoming.raw, &arrival.sha256, &context))),
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
/// process (`trial`); if it passes, the attempt counted in its own commit, then the message read
/// here and stored in a commit of its own. Held for staff unread, with the reason, if the trial
/// fails or it has stopped smebridge too often.
pub fn read_suspect(
    store: &mut Store,
    config: &Config,
    replier: &Replier,
    at: MailboxUid<'_>,
    arrival: Arrival,
    forms: &dyn FormReader,
    trial: impl FnOnce(&[u8]) -> Result<(), Stopped>,
) -> Result<Processed> {
    match arrival.plan {
        ReadPlan::Known | ReadPlan::WithBatch => {
            anyhow::bail!("read_suspect is for messages whose reading never finished")
        }
        ReadPlan::Hold { attempts } => hold(store, at, &arrival, HoldCause::Attempts(attempts)),
        ReadPlan::Alone => {
            // The trial first: its child can die without taking this process along, so it needs
            // no marker; a kill meanwhile counts no attempt against the message.
            match trial(&arrival.incoming.raw) {
                Ok(()) => {
                    info!(uid = at.uid, "an earlier attempt to read this message never finished; its trial read passed")
                }
                Err(stopped) if stopped.convicts() => return hold(store, at, &arrival, HoldCause::Trial(stopped)),
                Err(stopped) => warn!(
                    uid = at.uid,
                    reason = %stopped,
                    "an earlier attempt to read this message never finished and no trial read could be made; reading it"
                ),
            }
            store.mark_reading(&[arrival.arriving()]).context("cannot record the message before reading it")?;
            let own = config.own_address();
            let inbound = read_message(&arrival.incoming.raw, &arrival.sha256, &context(config, &own, forms));
            let parsed = Parsed {
                uid: arrival.incoming.uid,
                arrived_at: arrival.incoming.arrived_at,
                sha256: arrival.sha256,
                too_large: arrival.incoming.too_large,
                read: Read::Read(Box::new(inbound)),
            };
            decide_and_store(store, config, replier, at, parsed)
        }
    }
}

/// Record `arrival` as held for staff, unread: the outcome `quarantined` with the reason, its UID
/// counted, no reply. Its bytes stay in the database for staff.
fn hold(store: &mut Store, at: MailboxUid<'_>, arrival: &Arrival, cause: HoldCause) -> Result<Processed> {
    let reason = hold_reason(cause);
    warn!(uid = at.uid, reason = %reason, "a message is held for staff unread: reading it stops smebridge");
    let message_id = parse::synthesized_message_id(&arrival.sha256);
    let problems = [reason.clone()];
    let outcome = MessageOutcome {
        message_id: &message_id,
        sender: None,
        subject: None,
        outcome: QUARANTINED,
        outcome_detail: Some(reason),
        problems: &problems,
        attachments: &[],
        details: &NO_DETAILS,
    };
    store
        .finish_reading(at, arrival.reading(), &outcome, &ApplicationWrite::None, |_| Ok(None))
        .context("cannot record the message as held")?;
    Ok(Processed::Recorded { outcome: QUARANTINED, reply: None })
}

/// What parsing knows of the desk: the form reader, the announcement, the center's address.
fn context<'a>(config: &'a Config, own: &'a EmailAddress, forms: &'a dyn FormReader) -> parse::Context<'a> {
    parse::Context { forms, announcement: config.event.announcement.as_deref(), center: Some(own) }
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

/// Stage 5: decide about one parsed message and record the outcome and everything that follows
/// from it (application, reply) in one transaction (the batch's group, when inside one).
#[instrument(skip_all, fields(uid = at.uid, message_id, outcome))]
pub fn decide_and_store(
    store: &mut Store,
    config: &Config,
    replier: &Replier,
    at: MailboxUid<'_>,
    parsed: Parsed,
) -> Result<Processed> {
    let Parsed { arrived_at, sha256, too_large, read, .. } = parsed;
    if store.record_known_bytes(at, &sha256)? {
        debug!("already recorded (same bytes)");
        return Ok(Processed::AlreadyRecorded);
    }
    let mut inbound = match read {
        Read::Read(inbound) => *inbound,
        // Known bytes not recorded with an outcome after all: the same bytes earlier in the
        // batch were left unread. Left for the next pass, like them.
        Read::Known | Read::NotRead => return Ok(Processed::Left),
    };
    let reading = Reading { sha256: &sha256, arrived_at };
    if let Some(size) = too_large {
        // Only the headers were fetched: record it for staff, decide nothing from a body we
        // do not have.
        inbound.problems.push(format!("too large ({size} bytes): only the headers were kept"));
        let message = outcome_of(&inbound, "too_large", Some(format!("{size} bytes")), &NO_DETAILS);
        store.finish_reading(at, reading, &message, &ApplicationWrite::None, |_| Ok(None))?;
        info!(outcome = "too_large", size, "message recorded (headers only)");
        return Ok(Processed::Recorded { outcome: "too_large", reply: None });
    }
    Span::current().record("message_id", inbound.message_id.as_str());

    let own = config.own_address();
    let automatic = automatic_reason(&inbound.signals, &inbound.return_path, inbound.from.as_ref(), &own);
    let duplicate_message_id = !inbound.message_id_synthesized && store.message_id_seen(&inbound.message_id)?;
    let unauthenticated =
        auth_verdict(&inbound.authentication_results, &config.security.authserv_id, config.security.require_auth);
    let existing = existing_application(store, &inbound, unauthenticated.is_some())?;
    let seats_left = match config.event.capacity {
        Some(capacity) => Some(i64::from(capacity) - store.seats_taken()?),
        None => None,
    };
    let decision = decide(&Facts {
        arrived_at,
        deadline: config.event.deadline,
        automatic: automatic.clone(),
        duplicate_message_id,
        unauthenticated: unauthenticated.clone(),
        cancel_requested: inbound.cancel_requested,
        inquiry: inbound.inquiry,
        classified: inbound.verdict.classified,
        existing: existing.as_ref().map(|a| Existing { status: a.status }),
        attendees: inbound.fields.attendees.unwrap_or(1),
        seats_left,
    });

    if let Some(note) = reply_address_of(&inbound).and_then(|r| r.note()) {
        inbound.problems.push(note); // for staff: with the application's review, and on the message
    }
    let mut plan = plan(&decision, &inbound, existing.as_ref());
    if plan.reply == Some(ReplyKind::Inquiry) && !config.replies.answer_inquiries {
        plan.reply = None;
    }
    let recipient = reply_recipient(&inbound);
    if let (Some(kind), Some(to)) = (plan.reply, recipient) {
        if kind.once_per_applicant() && store.reply_kind_queued_for(to, kind.as_str())? {
            debug!(kind = kind.as_str(), "a reply of this kind was already sent to this address");
            plan.reply = None;
        }
    }
    Span::current().record("outcome", plan.outcome);

    let detail = match (&automatic, &decision) {
        (Some(a), _) => Some(a.label()),
        (None, Decision::Hold(reason)) => Some(format!("sender not authenticated: {reason}")),
        (None, Decision::NotAnApplication) => Some(format!("not an application: {}", inbound.verdict)),
        _ => None,
    };
    let details = details(&inbound, &plan.write);
    let message = outcome_of(&inbound, plan.outcome, detail, &details);
    let reply_kind = plan.reply;
    let committed = store
        .finish_reading(at, reading, &message, &plan.write, |application_id| {
            let (Some(kind), Some(to)) = (reply_kind, recipient) else { return Ok(None) };
            let addressee = Addressee {
                to,
                display_name: applicant_name(&inbound),
                subject: inbound.subject.as_deref(),
                in_reply_to: &inbound.message_id,
                answers_sha256: &sha256,
            };
            let facts = ReplyFacts {
                application_id,
                english: inbound.english,
                fields: &plan.fields,
                arrived_at,
                changes: &plan.changes,
            };
            Ok(render_or_log(replier, kind, &addressee, &facts))
        })
        .context("cannot record the message")?;

    if plan.outcome == "cancelled" {
        promote_waitlisted(store, config, replier)?;
    }

    let reply = committed.reply.and(reply_kind);
    info!(
        outcome = plan.outcome,
        reply = reply.map(|k| k.as_str()).unwrap_or("none"),
        reply_to_header = inbound.reply_to.is_some(),
        "message recorded"
    );
    Ok(Processed::Recorded { outcome: plan.outcome, reply })
}

/// What the message row records for `inbound`.
fn outcome_of<'a>(
    inbound: &'a Inbound,
    outcome: &'static str,
    outcome_detail: Option<String>,
    details: &'a Details,
) -> MessageOutcome<'a> {
    MessageOutcome {
        message_id: &inbound.message_id,
        sender: inbound.from.as_ref(),
        subject: inbound.subject.as_deref(),
        outcome,
        outcome_detail,
        problems: &inbound.problems,
        attachments: &inbound.attachments,
        details,
    }
}

/// Who the mail names and where each field came from, for the application it writes: every
/// field for a new application; for an update only the fields the mail states (those are what
/// change), so the other fields keep their earlier sources.
fn details(inbound: &Inbound, write: &ApplicationWrite) -> Details {
    let stated_only = match write {
        ApplicationWrite::Insert { .. } => false,
        ApplicationWrite::Update { .. } => true,
        ApplicationWrite::None | ApplicationWrite::Touch { .. } => return Details::default(),
    };
    let s = &inbound.sources;
    let st = &inbound.stated;
    let fields = [
        ("name", &s.name, st.name.is_some()),
        ("organization", &s.organization, st.organization.is_some()),
        ("position", &s.position, st.position.is_some()),
        ("phone", &s.phone, st.phone.is_some()),
        ("email", &s.email, false),
        ("attendees", &s.attendees, st.attendees.is_some()),
    ];
    let sources = fields
        .into_iter()
        .filter(|(_, _, stated)| *stated || !stated_only)
        .filter_map(|(field, source, _)| source.as_ref().map(|source| (field.to_owned(), source.to_string())))
        .collect();
    Details { people: inbound.people.clone(), notes: inbound.notes.clone(), sources }
}

/// Give freed places to the waiting list, first come first served, each with a reply. Runs
/// after every cancellation and at the start of every pass (so a crash between a cancellation
/// and the promotion only delays it).
pub fn promote_waitlisted(store: &mut Store, config: &Config, replier: &Replier) -> Result<usize> {
    let Some(capacity) = config.event.capacity else { return Ok(0) };
    let promoted = store.promote_waitlisted(i64::from(capacity), |app| {
        let Ok(to) = EmailAddress::parse(&app.email) else { return Ok(None) };
        let answers = format!("promoted-{}-{}", app.id, Timestamp::now());
        let addressee = Addressee {
            to: &to,
            display_name: app.fields.name.as_deref(),
            subject: None,
            in_reply_to: "",
            answers_sha256: &crate::parse::sha256_hex(answers.as_bytes()),
        };
        let facts = ReplyFacts {
            application_id: Some(app.id),
            english: false,
            fields: &app.fields,
            arrived_at: app.received_at,
            changes: &[],
        };
        Ok(render_or_log(replier, ReplyKind::Promoted, &addressee, &facts))
    })?;
    if promoted > 0 {
        info!(promoted, "waitlisted applications moved up");
    }
    Ok(promoted)
}

fn render_or_log(replier: &Replier, kind: ReplyKind, to: &Addressee<'_>, facts: &ReplyFacts<'_>) -> Option<NewReply> {
    match replier.render(kind, to, facts) {
        Ok(reply) => Some(reply),
        Err(e) => {
            // Templates are test-rendered at start-up, so this is not expected; the message and
            // application are still recorded.
            error!(error = %format!("{e:#}"), kind = kind.as_str(), "cannot render the reply; recorded without one");
            None
        }
    }
}

/// The application this mail belongs to: the applicant's address first; else (see
/// [`crate::domain::same_applicant`]) the only one with the same name and organization, so that
/// a colleague, an assistant or the applicant's personal address updates the application
/// instead of duplicating it. The application keeps its address; the message is linked to it
/// and the reply goes to whoever wrote. A mail that fails the required sender authentication is
/// matched by address only: it must not reach someone else's application just by naming them.
fn existing_application(store: &Store, inbound: &Inbound, unauthenticated: bool) -> Result<Option<Application>> {
    let Some(from) = applicant(inbound) else { return Ok(None) };
    if let Some(application) = store.application_by_email(from)? {
        return Ok(Some(application));
    }
    if unauthenticated {
        return Ok(None);
    }
    let found = store.application_by_name_and_organization(&inbound.fields)?;
    if let Some(application) = &found {
        debug!(application = application.id, "no application for this address; matched by name and organization");
    }
    Ok(found)
}

/// Whose application this is: the original sender of a forwarded application, else the sender.
fn applicant(inbound: &Inbound) -> Option<&EmailAddress> {
    inbound.forwarded_from.as_ref().or(inbound.from.as_ref())
}

fn applicant_name(inbound: &Inbound) -> Option<&str> {
    match &inbound.forwarded_from {
        Some(_) => inbound.forwarded_from_name.as_deref(),
        None => inbound.from_name.as_deref(),
    }
}

/// Replies go to the applicant only (see [`crate::domain::reply_address`]): for a forwarded
/// application its original sender, otherwise `From`; a `Reply-To` naming anyone else is not
/// mailed, staff get a note.
fn reply_recipient(inbound: &Inbound) -> Option<&EmailAddress> {
    reply_address_of(inbound).map(|r| r.to)
}

fn reply_address_of(inbound: &Inbound) -> Option<ReplyAddress<'_>> {
    reply_address(inbound.from.as_ref(), inbound.forwarded_from.as_ref(), inbound.reply_to.as_ref())
}

/// What to write and whether to answer, for a decision.
struct Plan {
    outcome: &'static str,
    write: ApplicationWrite,
    reply: Option<ReplyKind>,
    /// The applicant's fields as the reply should show them.
    fields: ApplicantFields,
    changes: Vec<Change>,
}

impl Plan {
    fn quiet(outcome: &'static str, write: ApplicationWrite) -> Plan {
        Plan { outcome, write, reply: None, fields: ApplicantFields::default(), changes: Vec::new() }
    }

    fn reply(outcome: &'static str, write: ApplicationWrite, kind: ReplyKind, fields: ApplicantFields) -> Plan {
        Plan { outcome, write, reply: Some(kind), fields, changes: Vec::new() }
    }
}

fn plan(decision: &Decision, inbound: &Inbound, existing: Option<&Application>) -> Plan {
    let review = |extra: Option<&str>| -> Option<String> {
        let mut reasons: Vec<String> = inbound.fields.missing().iter().map(|f| format!("missing: {f}")).collect();
        // Values that were read but look wrong: stored as read, for staff to check.
        reasons.extend(inbound.doubts.iter().cloned());
        reasons.extend(inbound.problems.iter().cloned());
        reasons.extend(extra.map(str::to_owned));
        (!reasons.is_empty()).then(|| reasons.join("\n"))
    };
    match (decision, existing, applicant(inbound)) {
        (Decision::Ignore(_), _, _) => Plan::quiet("automatic", ApplicationWrite::None),
        (Decision::Duplicate, _, _) => Plan::quiet("duplicate", ApplicationWrite::None),
        (Decision::Inquiry, _, _) => {
            Plan::reply("inquiry", ApplicationWrite::None, ReplyKind::Inquiry, ApplicantFields::default())
        }
        (Decision::CancelUnknown, _, _) => Plan::quiet("cancel_without_application", ApplicationWrite::None),
        // Staff see it as unclassified mail; nobody is answered, nothing changes.
        (Decision::NotAnApplication, _, _) => Plan::quiet("unreadable", ApplicationWrite::None),
        (Decision::Hold(reason), None, Some(from)) => Plan::quiet(
            "held",
            ApplicationWrite::Insert {
                email: from.clone(),
                fields: inbound.fields.clone(),
                status: Status::Accepted,
                review: review(Some(&format!("sender not authenticated ({reason}): no reply was sent"))),
            },
        ),
        (Decision::Register(status), None, Some(from)) => Plan::reply(
            "registered",
            ApplicationWrite::Insert {
                email: from.clone(),
                fields: inbound.fields.clone(),
                status: *status,
                review: review(None),
            },
            match status {
                Status::Late => ReplyKind::Late,
                Status::Waitlisted => ReplyKind::Waitlisted,
                _ => ReplyKind::Ack,
            },
            inbound.fields.clone(),
        ),
        (Decision::Update, Some(app), _) => {
            // Only what the mail states counts as a change, not guesses from a signature.
            let (merged, changes) = app.fields.merged_with(&inbound.stated_over(&app.fields));
            if changes.is_empty() {
                return Plan::quiet("repeat", ApplicationWrite::Touch { id: app.id });
            }
            Plan {
                outcome: "updated",
                write: ApplicationWrite::Update { id: app.id, fields: merged.clone(), status: None },
                reply: Some(ReplyKind::Update),
                fields: merged,
                changes,
            }
        }
        (Decision::AfterDeadline, Some(app), _) => Plan::reply(
            "after_deadline",
            ApplicationWrite::Touch { id: app.id },
            ReplyKind::AfterDeadline,
            app.fields.clone(),
        ),
        (Decision::Repeat, Some(app), _) => Plan::quiet("repeat", ApplicationWrite::Touch { id: app.id }),
        (Decision::Cancel, Some(app), _) => Plan::reply(
            "cancelled",
            ApplicationWrite::Update { id: app.id, fields: app.fields.clone(), status: Some(Status::Cancelled) },
            ReplyKind::Cancelled,
            app.fields.clone(),
        ),
        (Decision::Reopen(status), Some(app), _) => {
            let (merged, _) = app.fields.merged_with(&inbound.stated_over(&app.fields));
            let kind = if *status == Status::Waitlisted { ReplyKind::Waitlisted } else { ReplyKind::Reopened };
            Plan::reply(
                "reopened",
                ApplicationWrite::Update { id: app.id, fields: merged.clone(), status: Some(*status) },
                kind,
                merged,
            )
        }
        (Decision::ReopenLate, Some(app), _) => {
            Plan::reply("late", ApplicationWrite::Touch { id: app.id }, ReplyKind::Late, app.fields.clone())
        }
        // decide() only registers mail with a sender and only updates known applicants.
        _ => Plan::quiet("unreadable", ApplicationWrite::None),
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
        Incoming { uid: i, arrived_at: "2022-11-16T01:00:00Z".parse().unwrap(), raw: raw.into_bytes(), too_large: None }
    }

    fn at(uid: u32) -> MailboxUid<'static> {
        MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid }
    }

    /// The batch through record, parse, decide and store, as the daemon runs it.
    fn through(desk: &mut Desk, batch: Vec<Arrival>, shutdown: &CancellationToken) -> Vec<Processed> {
        record(&mut desk.store, &batch).unwrap();
        let parsed = parse(batch, &desk.config, &InProcess, shutdown);
        let unread = unread(&parsed);
        let (config, replier) = (&desk.config, &desk.replier);
        let stored = desk
            .store
            .group(|store| parsed.into_iter().map(|p| decide_and_store(store, config, replier, at(p.uid), p)).collect())
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
        record(&mut desk.store, &batch).unwrap();
        for sha in &shas {
            assert_eq!(desk.store.read_state(sha).unwrap(), ReadState::Unfinished { attempts: 1 });
        }
        assert!(desk.store.processed_uids("INBOX", 1).unwrap().is_empty(), "no UID counts before its outcome");
        assert_eq!(desk.store.message_count().unwrap(), 2, "the raw bytes are recorded");

        let parsed = parse(batch, &desk.config, &InProcess, &CancellationToken::new());
        let (config, replier) = (&desk.config, &desk.replier);
        let stored: Vec<Processed> = desk
            .store
            .group(|store| parsed.into_iter().map(|p| decide_and_store(store, config, replier, at(p.uid), p)).collect())
            .unwrap();
        assert!(stored.iter().all(|p| matches!(p, Processed::Recorded { outcome: "registered", reply: Some(_) })));
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
        assert!(matches!(stored[0], Processed::Recorded { outcome: "registered", .. }));
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
        desk.store.mark_reading(&[arrival.arriving()]).unwrap();
    }

    #[test]
    fn a_message_whose_reading_never_finished_is_tried_in_a_child_first_and_read_if_the_trial_passes() {
        let mut desk = desk();
        die_while_reading(&mut desk, application(1));
        let sorted = sort(&desk.store, vec![application(1)]).unwrap();
        assert_eq!(sorted[0].plan, ReadPlan::Alone);
        let sha = sorted[0].sha256.clone();
        let tried = Cell::new(false);
        let (d, config, replier) = (&mut desk.store, &desk.config, &desk.replier);
        let arrival = sorted.into_iter().next().unwrap();
        let processed = read_suspect(d, config, replier, at(1), arrival, &InProcess, |raw| {
            assert!(!raw.is_empty());
            tried.set(true);
            Ok(())
        })
        .unwrap();
        assert!(tried.get());
        assert!(matches!(processed, Processed::Recorded { outcome: "registered", reply: Some(ReplyKind::Ack) }));
        assert_eq!(desk.store.read_state(&sha).unwrap(), ReadState::Finished);
        assert_eq!(desk.store.applications().unwrap().len(), 1);
    }

    #[test]
    fn a_message_that_kills_its_trial_is_held_unread_with_the_reason_and_its_uid_counted() {
        let mut desk = desk();
        die_while_reading(&mut desk, application(1));
        let arrival = sort(&desk.store, vec![application(1)]).unwrap().remove(0);
        let sha = arrival.sha256.clone();
        let (d, config, replier) = (&mut desk.store, &desk.config, &desk.replier);
        let processed =
            read_suspect(d, config, replier, at(1), arrival, &InProcess, |_| Err(Stopped::Crashed { signal: 6 }))
                .unwrap();
        assert_eq!(processed, Processed::Recorded { outcome: QUARANTINED, reply: None });
        assert_eq!(desk.store.read_state(&sha).unwrap(), ReadState::Finished);
        assert_eq!(desk.store.processed_uids("INBOX", 1).unwrap(), [1].into_iter().collect());
        assert!(desk.store.applications().unwrap().is_empty(), "nothing decided from a message not read");
        let held = desk.store.messages_with_outcomes(&[QUARANTINED]).unwrap();
        assert_eq!(held.len(), 1);
        let detail = held[0].detail.clone().unwrap();
        assert!(detail.contains("stopped smebridge") && detail.contains("the reader crashed (signal 6)"), "{detail}");
        assert!(!held[0].raw.is_empty(), "the raw bytes are kept for staff");
        assert!(desk.store.outbox_counts().unwrap().is_empty(), "no reply");
    }

    #[test]
    fn a_trial_that_could_not_be_made_is_no_evidence_and_the_message_is_read() {
        let mut desk = desk();
        die_while_reading(&mut desk, application(1));
        let arrival = sort(&desk.store, vec![application(1)]).unwrap().remove(0);
        let sha = arrival.sha256.clone();
        let (d, config, replier) = (&mut desk.store, &desk.config, &desk.replier);
        let processed = read_suspect(d, config, replier, at(1), arrival, &InProcess, |_| {
            Err(Stopped::NotStarted("Resource temporarily unavailable".to_owned()))
        })
        .unwrap();
        assert!(matches!(processed, Processed::Recorded { outcome: "registered", .. }));
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
        let (d, config, replier) = (&mut desk.store, &desk.config, &desk.replier);
        let processed = read_suspect(d, config, replier, at(1), arrival, &InProcess, |_| {
            panic!("no trial for a message held already")
        })
        .unwrap();
        assert_eq!(processed, Processed::Recorded { outcome: QUARANTINED, reply: None });
        let held = desk.store.messages_with_outcomes(&[QUARANTINED]).unwrap();
        let expected = format!("smebridge stopped {MAX_UNFINISHED} times while reading this message");
        assert_eq!(held[0].detail.as_deref(), Some(expected.as_str()));
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
            let (d, config, replier) = (&mut desk.store, &desk.config, &desk.replier);
            read_suspect(d, config, replier, at(arrival.incoming.uid), arrival, &InProcess, |_| {
                Err(Stopped::Memory { limit_mib: 256 })
            })
            .unwrap();
        }
        let stored = through(&mut desk, batch, &CancellationToken::new());
        assert!(stored.iter().all(|p| matches!(p, Processed::Recorded { outcome: "registered", reply: Some(_) })));
        assert_eq!(desk.store.processed_uids("INBOX", 1).unwrap(), [1, 2, 3].into_iter().collect());
        assert_eq!(desk.store.applications().unwrap().len(), 2);
    }
}
