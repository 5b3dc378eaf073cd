//! The staff's daily summary as a job: decide whether it is due, gather its data from the
//! database, render it ([`super::render`]), build the mail and queue it in the outbox — the day
//! and its mails in one transaction, so each day is summarized exactly once across restarts.

use anyhow::{Context, Result};
use jiff::civil::Date;
use jiff::Timestamp;
use lettre::message::{Attachment, Mailbox, Message, MultiPart};
use tracing::info;

use super::model::{
    totals, Attention, AttentionKind, ChangeNote, EventFacts, MailboxHappening, MailboxNote, Previous, Summary,
    SummaryInput, CHART_CID,
};
use super::{render, retention, statistics, wording};
use crate::config::Config;
use crate::domain::{next_summary_time, summary_due, EmailAddress, EventId, MailKind, Outcome, SummaryWindow};
use crate::export::XLSX_MIME;
use crate::reply::{application_number, AutoSubmitted, LoopMarker};
use crate::store::{ChangedBy, Covered, EventKind, Hold, LastSummary, NewReply, PurgedCount, Store, NEEDS_A_PERSON};

/// How many forged-sender holds the summary lists one by one.
const FORGED_SHOWN: usize = 10;

/// If a summary is due at `now`, make it and queue it for every staff recipient. Returns the day
/// summarized. Call it only right after the mailbox was read whole: a pass that could not read
/// the mailbox makes no summary (it would tell staff that nothing came in).
pub fn summary_if_due(store: &mut Store, config: &Config, now: Timestamp) -> Result<Option<Date>> {
    let tz = config.timezone();
    let last = store.last_summary()?;
    let last_day = last.as_ref().map(|l| l.day);
    let window = SummaryWindow { from: config.staff.summary_from, until: config.staff.summary_until };
    let local = now.to_zoned(tz.clone()).datetime();
    let due = match summary_due(local, config.staff.summary_time, last_day, window) {
        Some(day) => Some(day),
        // Outside the window too: staff hear a week before personal data is deleted, and after.
        None => retention::notice_day_due(store, config, now, last.as_ref())?,
    };
    let Some(day) = due else { return Ok(None) };

    let (input, covered) = gather(store, config, day, now, last.as_ref(), None)?;
    let rendered = render(&input)?;
    let sheets = sign_in_sheets_due(config, &input, now)?;
    let mails = compose(config, &rendered, &sheets, &format!("{day}"), None)?;
    if store.record_summary(day, now, covered, &mails)? {
        info!(%day, recipients = mails.len(), "daily summary queued for staff");
        Ok(Some(day))
    } else {
        Ok(None)
    }
}

/// The sign-in sheet of every event that begins before the next daily summary (this summary is
/// the last one before it), as (file name, workbook).
fn sign_in_sheets_due(config: &Config, input: &SummaryInput, now: Timestamp) -> Result<Vec<(String, Vec<u8>)>> {
    let next = now + until_next(config, now);
    let mut sheets = Vec::new();
    for event in config.events.iter().filter(|e| now < e.starts_at && e.starts_at <= next) {
        let apps: Vec<_> = input.applications.iter().filter(|a| a.event == event.id).cloned().collect();
        let sheet = crate::export::sign_in_sheet(&event.name, &apps, &event.timezone)?;
        sheets.push((crate::export::sign_in_filename(&event.id), sheet));
    }
    Ok(sheets)
}

/// How long until a summary could next become due.
pub fn until_next(config: &Config, now: Timestamp) -> std::time::Duration {
    let tz = config.timezone();
    let local = now.to_zoned(tz.clone()).datetime();
    let next = next_summary_time(local, config.staff.summary_time);
    next.to_zoned(tz.clone())
        .map(|z| z.timestamp().duration_since(now))
        .ok()
        .and_then(|d| std::time::Duration::try_from(d).ok())
        .unwrap_or(std::time::Duration::from_secs(3600))
}

/// The summary for `day` as it would be made at `now` (for `smebridge summary`), of every event
/// or only of `event`.
pub fn render_for(
    store: &Store,
    config: &Config,
    day: Date,
    now: Timestamp,
    event: Option<&EventId>,
) -> Result<Summary> {
    let previous = store.last_summary()?.filter(|last| last.at < now);
    render(&gather(store, config, day, now, previous.as_ref(), event)?.0)
}

/// Queue `summary` for every staff recipient now, outside the daily schedule.
pub fn queue_by_hand(store: &mut Store, config: &Config, summary: &Summary, now: Timestamp) -> Result<usize> {
    let mails = compose(config, summary, &[], &summary.xlsx_filename, Some(now))?;
    for mail in &mails {
        store.queue_mail(mail, now)?;
    }
    Ok(mails.len())
}

/// Where registration stands, as a small terminal table (for `smebridge stats`): of the one
/// event, or one table per event (each under its id and name), or only of `event`. Each event's
/// applications whose personal data was purged are counted with it, from the counts kept.
pub fn totals_now(
    store: &Store,
    config: &Config,
    day: Date,
    now: Timestamp,
    event: Option<&EventId>,
) -> Result<String> {
    let (input, _) = gather(store, config, day, now, None, event)?;
    let purged = store.purged_counts()?;
    // Hangul is two columns wide in a terminal.
    let width = |s: &str| s.chars().map(|c| if c >= '\u{1100}' { 2 } else { 1 }).sum::<usize>();
    let titled = config.several_events();
    let mut out = String::new();
    for (n, facts) in input.events.iter().enumerate() {
        let purged: Vec<PurgedCount> = purged.iter().filter(|c| c.event == facts.id).cloned().collect();
        let totals = statistics::with_purged(totals(&input, facts), &purged);
        let rows = wording::stats_rows(&totals, input.needs_person.len(), input.skipped_before_opens);
        let label_width = rows.iter().map(|(l, _)| width(l)).max().unwrap_or(0);
        if titled {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&format!("{} {}\n", facts.id.tag(), wording::one_line(&facts.name, 120)));
        }
        for (label, value) in rows {
            out.push_str(&format!("{label}{}  {value:>6}\n", " ".repeat(label_width - width(label))));
        }
        // By type and day in the event's own time zone, as purge counted its days.
        let tz = config.event(&facts.id).map_or(config.timezone(), |e| &e.timezone);
        let stored: Vec<&crate::store::Application> =
            input.applications.iter().filter(|a| a.event == facts.id).collect();
        out.push_str(&statistics::breakdown(&facts.id, &stored, &purged, tz));
    }
    Ok(out)
}

/// Everything the summary shows, read from the database, and what it covers: the last
/// application and message it saw (read first, so nothing recorded meanwhile is counted as
/// covered without being shown).
///
/// `only`: of that event alone (its applications, what needs a person about it or about no
/// event, its changes); else of every event.
fn gather(
    store: &Store,
    config: &Config,
    day: Date,
    now: Timestamp,
    previous: Option<&LastSummary>,
    only: Option<&EventId>,
) -> Result<(SummaryInput, Covered)> {
    let events: Vec<&crate::config::EventConfig> = match only {
        Some(id) => vec![config.event(id).with_context(|| unknown_event(config, id))?],
        None => config.events.iter().collect(),
    };
    let wanted = |event: Option<&EventId>| only.is_none_or(|o| event.is_none_or(|e| e == o));
    let last_message = store.last_message_id()?;
    let last_history = store.last_history_id()?;
    let applications: Vec<crate::store::Application> =
        store.applications()?.into_iter().filter(|a| only.is_none_or(|o| &a.event == o)).collect();
    let subjects = store.application_subjects()?;
    let last_application = applications.iter().map(|a| a.id).max().unwrap_or(0);
    let covered = Covered { last_application, last_message, last_history };
    let told = previous.map_or(Covered::default(), |p| p.covered);
    let mut needs_person = Vec::new();
    let mut forged = Vec::new();
    for app in &applications {
        if let Some(review) = &app.review {
            let item = Attention {
                kind: if review.contains("not authenticated") {
                    AttentionKind::ForgedSender
                } else {
                    AttentionKind::Review
                },
                at: app.received_at,
                sender: Some(app.email.clone()),
                // The subject of the mail that made the application (not the applicant's name).
                subject: subjects.get(&app.id).cloned(),
                detail: format!("{}: {}", application_number(app.id), review.replace('\n', "; ")),
            };
            if item.kind == AttentionKind::ForgedSender {
                forged.push(item);
            } else {
                needs_person.push(item);
            }
        }
    }
    // A flood of forged senders must not bury everything else: the first few, then a count.
    if forged.len() > FORGED_SHOWN {
        let more = forged.len() - FORGED_SHOWN;
        let last_at = forged.last().map(|f| f.at).unwrap_or(now);
        forged.truncate(FORGED_SHOWN);
        forged.push(Attention {
            kind: AttentionKind::ForgedSender,
            at: last_at,
            sender: None,
            subject: None,
            detail: wording::more_forged(more),
        });
    }
    needs_person.extend(forged);
    // Staff said they dealt with these (`smebridge application resolve MSG-0012`).
    let resolved = store.resolved_messages()?;
    for note in store.messages_with_outcomes(&NEEDS_A_PERSON)? {
        if !wanted(note.event.as_ref()) || resolved.contains(&note.id) {
            continue;
        }
        // An unrouted message whose sender has written since, to an event, is settled.
        if note.outcome == Outcome::Unrouted && store.routed_since(note.sender.as_deref(), note.id)? {
            continue;
        }
        let kind = match note.outcome {
            Outcome::Inquiry => AttentionKind::Inquiry,
            Outcome::TooLarge => AttentionKind::TooLarge,
            Outcome::Unrouted => AttentionKind::Unrouted,
            _ => AttentionKind::Unclassified,
        };
        // Never read again what stops the reader.
        let excerpt =
            if note.outcome == Outcome::Quarantined { String::new() } else { excerpt(&store.raw_message(note.id)?) };
        // Each names its reference and the command that clears it first: the mail shows the
        // first line or so of what follows.
        let reference = message_reference(note.id);
        needs_person.push(Attention {
            kind,
            at: note.arrived_at,
            sender: note.sender,
            subject: note.subject,
            detail: match note.outcome {
                Outcome::Quarantined => {
                    wording::message_item(&reference, &wording::held_unread(&note.detail.unwrap_or_default()))
                }
                // With the note naming applications of the same name and organization at
                // other addresses, when there are any (nothing else of them).
                Outcome::CancelWithoutApplication => wording::message_item(
                    &reference,
                    &wording::cancel_without_application(&noted(note.detail.as_deref(), &excerpt)),
                ),
                Outcome::Inquiry => wording::message_item(&reference, &noted(note.detail.as_deref(), &excerpt)),
                Outcome::TooLarge => {
                    wording::message_item(&reference, &wording::too_large(&note.detail.unwrap_or_default()))
                }
                Outcome::Unrouted => format!(
                    "{} {excerpt}",
                    wording::unrouted(
                        &reference,
                        &note.detail.clone().unwrap_or_default(),
                        store.which_event_asked(note.id)?,
                    )
                ),
                _ => wording::message_item(&reference, &excerpt),
            },
        });
    }
    let (held, held_recipients) = store.held_replies(Hold::RateLimit)?;
    if held > 0 {
        needs_person.push(Attention {
            kind: AttentionKind::Other,
            at: now,
            sender: None,
            subject: None,
            detail: wording::held_replies(held, held_recipients),
        });
    }
    for reply in store.troubled_replies()? {
        if reply.kind == MailKind::Summary {
            continue;
        }
        needs_person.push(Attention {
            kind: AttentionKind::ReplyFailed,
            at: reply.created_at,
            sender: Some(reply.recipient),
            subject: None,
            detail: wording::reply_failed(reply.kind, reply.state, &reply.last_error.unwrap_or_default()),
        });
    }

    let by_email: std::collections::HashMap<(&EventId, &str), &crate::store::Application> =
        applications.iter().map(|a| ((&a.event, a.email.as_str()), a)).collect();
    let by_id: std::collections::HashMap<i64, &crate::store::Application> =
        applications.iter().map(|a| (a.id, a)).collect();
    let mut changes = Vec::new();
    for note in store.messages_with_outcomes(&[Outcome::Updated, Outcome::Cancelled, Outcome::Reopened])? {
        // New since the previous summary by when smebridge recorded it, not by arrival.
        if note.id <= told.last_message || note.id > covered.last_message {
            continue;
        }
        // The application the message changed (linked to it whoever wrote it, e.g. a forward).
        let Some(event) = note.event.as_ref() else { continue };
        let linked = store.application_of_message(note.id, event)?.and_then(|id| by_id.get(&id).copied());
        let Some(app) = linked.or_else(|| note.sender.as_deref().and_then(|s| by_email.get(&(event, s)).copied()))
        else {
            continue;
        };
        changes.push(ChangeNote {
            application_no: application_number(app.id),
            name: app.fields.name.clone(),
            at: note.arrived_at,
            what: wording::change(note.outcome).to_owned(),
        });
    }
    // What changed in applications other than by their mail (`smebridge reparse --apply`, staff):
    // their mail is told above.
    for entry in store.history_after(told.last_history, covered.last_history)? {
        // Of another event than the one asked for: not this summary's.
        if entry.by == ChangedBy::Mail || (only.is_some() && !by_id.contains_key(&entry.application)) {
            continue;
        }
        let change = &entry.change;
        changes.push(ChangeNote {
            application_no: application_number(entry.application),
            name: by_id.get(&entry.application).and_then(|a| a.fields.name.clone()),
            at: entry.at,
            what: wording::history_change(entry.by, change.field, change.old.as_deref(), change.new.as_deref()),
        });
    }

    let mailbox = store
        .mailbox_events(previous.map(|p| p.at))?
        .into_iter()
        .map(|e| {
            let d = &e.details;
            let what = match e.kind {
                EventKind::UidvalidityChanged => {
                    MailboxHappening::Reset { recognised: d.recognised, recorded: d.recorded }
                }
                EventKind::UidnextBackwards => {
                    MailboxHappening::NumberingWentBack { recognised: d.recognised, recorded: d.recorded }
                }
                EventKind::VanishedBeforeFetch => MailboxHappening::Vanished { count: d.count.unwrap_or(0) },
            };
            MailboxNote { at: e.at, mailbox: e.mailbox, what }
        })
        .collect();

    let retention = retention::notes(store, config, now, previous.map(|p| p.at), &applications, only)?;
    let input = SummaryInput {
        title: match events.as_slice() {
            [one] => one.name.clone(),
            _ => config.center.name.clone(),
        },
        timezone: config.timezone().clone(),
        day,
        generated_at: now,
        previous: previous.map(|p| Previous { at: p.at, last_application: p.covered.last_application }),
        last_read: store.mailbox_read(&config.imap.mailbox)?,
        events: events
            .iter()
            .map(|e| EventFacts {
                id: e.id.clone(),
                name: e.name.clone(),
                opens: e.opens,
                deadline: e.deadline,
                starts_at: e.starts_at,
                capacity: e.capacity,
            })
            .collect(),
        applications,
        needs_person,
        changes,
        mailbox,
        skipped_before_opens: u64::try_from(store.outcome_count(Outcome::BeforeOpens)?).unwrap_or(0),
        retention,
    };
    Ok((input, covered))
}

/// How staff name a recorded message in commands: `MSG-0012`.
pub fn message_reference(id: i64) -> String {
    format!("MSG-{id:04}")
}

/// An `--event` the configuration does not have, and the ones it has.
pub fn unknown_event(config: &Config, id: &EventId) -> String {
    let known: Vec<&str> = config.events.iter().map(|e| e.id.as_str()).collect();
    format!("the configuration has no event \"{id}\" (its events: {})", known.join(", "))
}

/// The first lines the sender wrote, for a glance.
fn excerpt(raw: &[u8]) -> String {
    // Only the text is wanted: no attached form is read (here, in the daemon's own process). A
    // large message is read apart, as the pipeline reads it, so the daemon never holds what
    // reading it takes; a child that fails leaves the excerpt empty.
    let inbound = if raw.len() > crate::pipeline::LARGE_MESSAGE {
        match crate::isolate::ApartReader::default().read(raw) {
            Ok(inbound) => inbound,
            Err(_) => return String::new(),
        }
    } else {
        crate::parse::parse(raw, &crate::parse::sha256_hex(raw), &crate::parse::NoForms)
    };
    let own = crate::parse::strip_quoted(&inbound.text);
    own.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

/// `excerpt`, after the message's outcome detail when it has one (its lines joined with `; `).
fn noted(detail: Option<&str>, excerpt: &str) -> String {
    match detail.map(str::trim).filter(|d| !d.is_empty()) {
        Some(detail) => format!("{} — {excerpt}", detail.replace('\n', "; ")),
        None => excerpt.to_owned(),
    }
}

/// One mail per staff recipient:
/// mixed [ related [ alternative [text, html], chart.png ], applications.xlsx, applications.csv,
/// sign-in sheets… ].
fn compose(
    config: &Config,
    summary: &Summary,
    sheets: &[(String, Vec<u8>)],
    tag: &str,
    manual: Option<Timestamp>,
) -> Result<Vec<NewReply>> {
    let from = config.smtp.from.clone();
    let domain = from.email.domain().to_owned();
    let staff: Vec<Mailbox> = config.staff.recipients.iter().map(|r| Mailbox::new(None, r.to_lettre())).collect();
    let mut mails = Vec::new();
    for (index, recipient) in config.staff.recipients.iter().enumerate() {
        let related = MultiPart::related()
            .multipart(MultiPart::alternative_plain_html(summary.text.clone(), summary.html.clone()))
            .singlepart(
                Attachment::new_inline(CHART_CID.to_owned()).body(summary.chart_png.clone(), "image/png".parse()?),
            );
        let mut mixed = MultiPart::mixed()
            .multipart(related)
            .singlepart(Attachment::new(summary.xlsx_filename.clone()).body(summary.xlsx.clone(), XLSX_MIME.parse()?))
            .singlepart(
                Attachment::new(summary.csv_filename.clone())
                    .body(summary.csv.clone(), "text/csv; charset=utf-8".parse()?),
            );
        for (name, sheet) in sheets {
            mixed = mixed.singlepart(Attachment::new(name.clone()).body(sheet.clone(), XLSX_MIME.parse()?));
        }
        let unique = match manual {
            Some(at) => format!("{}.{}", tag, at.as_millisecond()),
            None => tag.to_owned(),
        };
        let message_id = format!("smebridge.summary.{unique}.{index}@{domain}");
        let mut builder = Message::builder()
            .from(from.clone())
            .to(Mailbox::new(None, recipient.to_lettre()))
            .subject(summary.subject.clone())
            .message_id(Some(format!("<{message_id}>")))
            .header(AutoSubmitted("auto-generated".into()))
            .header(LoopMarker(from.email.to_string()));
        // Staff replying to the summary reach each other, not the registration desk.
        for mailbox in &staff {
            builder = builder.reply_to(mailbox.clone());
        }
        let message = builder.multipart(mixed).context("cannot build the summary mail")?;
        mails.push(NewReply {
            event: None,
            kind: MailKind::Summary,
            message_id,
            envelope_from: config.smtp.envelope_from.clone(),
            recipient: EmailAddress::from_lettre(&recipient.to_lettre()),
            raw: message.formatted(),
            calendar: None,
        });
    }
    Ok(mails)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::path::Path;

    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

    use super::*;
    use crate::domain::{ApplicantFields, Status};
    use crate::store::{ApplicationWrite, Arriving, MailboxUid, MessageOutcome, NewMessage, NO_DETAILS};

    #[test]
    fn the_subject_column_shows_the_mails_subject_not_the_applicants_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(crate::instance::Instance::claim(&dir.path().join("db.sqlite")).unwrap()).unwrap();
        let config =
            Config::from_toml(include_str!("../../config/smebridge.toml"), Path::new("t.toml"), dir.path()).unwrap();
        let sender = EmailAddress::parse("kim@hanbit.example").unwrap();
        let arrived_at: Timestamp = "2022-11-16T01:00:00Z".parse().unwrap();
        let message = NewMessage {
            arriving: Arriving { sha256: "aa", arrived_at, raw: b"raw" },
            outcome: MessageOutcome {
                message_id: "m1@hanbit.example",
                sender: Some(&sender),
                subject: Some("워크숍 참가 신청서 제출"),
                outcome: Outcome::Registered,
                outcome_detail: None,
                problems: &[],
                attachments: &[],
                details: &NO_DETAILS,
                event: None,
            },
        };
        let write = ApplicationWrite::Insert {
            event: EventId::default_id(),
            email: sender.clone(),
            fields: ApplicantFields { name: Some("김민준".into()), ..ApplicantFields::default() },
            status: Status::Accepted,
            review: Some("missing: organization".into()),
        };
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
        store.commit_message(at, &message, &write, Timestamp::now(), |_| Ok(None)).unwrap();

        let day: Date = "2022-11-16".parse().unwrap();
        let (input, _) = gather(&store, &config, day, arrived_at, None, None).unwrap();
        assert_eq!(input.needs_person.len(), 1);
        assert_eq!(input.needs_person[0].subject.as_deref(), Some("워크숍 참가 신청서 제출"));

        let summary = render(&input).unwrap();
        assert!(summary.text.contains("제목 (Subject): 워크숍 참가 신청서 제출"), "{}", summary.text);
        assert!(!summary.text.contains("제목 (Subject): 김민준"), "{}", summary.text);
        assert!(summary.html.contains(">워크숍 참가 신청서 제출</div>"), "{}", summary.html);
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(summary.xlsx)).unwrap();
        let review = book.worksheet_range("확인 필요").unwrap();
        let rows: Vec<&[Data]> = review.rows().collect();
        assert_eq!(rows[0][3].to_string(), "제목 (Subject)");
        assert_eq!(rows[1][3].to_string(), "워크숍 참가 신청서 제출");
    }

    /// Record a message that is no application, with `outcome`, and return its row id.
    fn record_message(store: &mut Store, n: u32, outcome: Outcome, text: &str, detail: Option<&str>) -> i64 {
        let sender = EmailAddress::parse(&format!("ask{n}@question.example")).unwrap();
        let raw = format!(
            "From: ask{n}@question.example\r\nTo: desk@center.example\r\nSubject: q{n}\r\n\
             Message-ID: <q{n}@question.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        );
        let sha = format!("{n:064x}");
        let message_id = format!("q{n}@question.example");
        let message = NewMessage {
            arriving: Arriving {
                sha256: &sha,
                arrived_at: "2022-11-16T01:00:00Z".parse::<Timestamp>().unwrap()
                    + jiff::SignedDuration::from_mins(n.into()),
                raw: raw.as_bytes(),
            },
            outcome: MessageOutcome {
                message_id: &message_id,
                sender: Some(&sender),
                subject: Some("문의"),
                outcome,
                outcome_detail: detail.map(str::to_owned),
                problems: &[],
                attachments: &[],
                details: &NO_DETAILS,
                event: None,
            },
        };
        let at = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: n };
        store.commit_message(at, &message, &ApplicationWrite::None, Timestamp::now(), |_| Ok(None)).unwrap().message
    }

    #[test]
    fn a_message_staff_resolved_leaves_needs_a_person_and_the_others_say_how_to_resolve_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(crate::instance::Instance::claim(&dir.path().join("db.sqlite")).unwrap()).unwrap();
        let config =
            Config::from_toml(include_str!("../../config/smebridge.toml"), Path::new("t.toml"), dir.path()).unwrap();
        let parking = record_message(&mut store, 1, Outcome::Inquiry, "행사장에 주차가 가능한가요?", None);
        let unreadable = record_message(&mut store, 2, Outcome::Unreadable, "???", None);
        let unrouted =
            record_message(&mut store, 3, Outcome::Unrouted, "신청합니다", Some("for which event? no rule told"));
        let registered = record_message(&mut store, 4, Outcome::Registered, "성명: 김민준", None);
        let day: Date = "2022-11-16".parse().unwrap();
        let now: Timestamp = "2022-11-16T03:00:00Z".parse().unwrap();

        let (input, _) = gather(&store, &config, day, now, None, None).unwrap();
        let details: Vec<&str> = input.needs_person.iter().map(|a| a.detail.as_str()).collect();
        assert_eq!(details.len(), 3, "{details:?}");
        assert_eq!(
            details[0],
            format!(
                "MSG-{parking:04} · 처리 후: smebridge application resolve MSG-{parking:04} · 행사장에 주차가 가능한가요?"
            )
        );
        assert!(details[1].starts_with(&format!("MSG-{unreadable:04} · 처리 후: smebridge application resolve")));
        let r = format!("MSG-{unrouted:04}");
        assert!(
            details[2].starts_with(&format!(
                "{r} · 지정: smebridge application assign-event {r} <행사 ID> · 처리 후: smebridge application resolve {r} · \
                 어느 행사인지 알 수 없음 (for which event? no rule told); 보낸 사람에게 묻지 않았습니다"
            )),
            "{}",
            details[2]
        );
        assert!(!details.iter().any(|d| d.contains(&format!("MSG-{registered:04}"))));
        // The mail shows each item's command whole, however long what follows.
        let summary = render(&input).unwrap();
        for id in [parking, unreadable, unrouted] {
            assert!(summary.text.contains(&format!("smebridge application resolve MSG-{id:04}")), "{}", summary.text);
        }
        assert!(summary.subject.contains("확인 필요 3건"), "{}", summary.subject);

        assert!(store.resolve_message(parking, "desk-kim", Some("answered by phone"), now).unwrap());
        assert!(store.resolve_message(unrouted, "desk-kim", None, now).unwrap());
        let (input, _) = gather(&store, &config, day, now, None, None).unwrap();
        let details: Vec<&str> = input.needs_person.iter().map(|a| a.detail.as_str()).collect();
        assert_eq!(details.len(), 1, "{details:?}");
        assert!(details[0].starts_with(&format!("MSG-{unreadable:04} ")), "{details:?}");
        let summary = render(&input).unwrap();
        assert!(summary.subject.contains("확인 필요 1건"), "{}", summary.subject);
        assert!(!summary.text.contains(&format!("MSG-{parking:04}")), "{}", summary.text);
        assert!(!summary.text.contains(&format!("MSG-{unrouted:04}")), "{}", summary.text);
    }
}
