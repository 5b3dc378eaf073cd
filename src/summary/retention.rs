//! What the summary tells staff about deleting personal data (`[retention]`, `smebridge
//! purge`), per event: a week before an event's deletion day, "on DATE the personal data of N
//! applications of EVENT will be deleted"; once it is due and not done, that it is waiting for
//! the operator; and in the first summary after a purge, that it was deleted on DATE. With
//! several events each note names its event by id and name; a summary of one event (`--event`)
//! has only that event's notes. Mail for no event, which purge deletes as it comes due, is not
//! told (it holds no application).
//!
//! Daily summaries usually stop the day after the event (`[staff] summary_until`), long before
//! the data is due. So a summary is also made, outside that window, on the day staff are told
//! ([`crate::domain::notice_day`]) and on the first summary time after a purge
//! ([`notice_day_due`]).

use anyhow::Result;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::config::Config;
use crate::domain::{notice_day, retention_stage, summary_due, EventId, RetentionStage, SummaryWindow};
use crate::ops::retained_events;
use crate::store::{Application, LastSummary, Store};

/// One thing to tell staff about an event's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionNote {
    pub what: RetentionHappening,
    /// The event as staff know it: its name (with several events, after its id: `[ws-2211] …`).
    pub event: String,
    /// The deletion day (`Soon`, `Overdue`), or the day it was deleted (`Done`), in the event's
    /// time zone.
    pub day: Date,
    /// Applications whose personal data goes (or went).
    pub applications: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionHappening {
    /// Deleted on `day`, within the week.
    Soon,
    /// Due since `day`, not deleted yet.
    Overdue,
    /// Deleted on `day`.
    Done,
}

/// The notes for a summary made at `now` whose previous summary was made at `previous` (`None`:
/// the first), of every event or `only` of one: the purges since then, and where each event
/// still holding some of `applications` (those stored, of any event) stands.
pub(super) fn notes(
    store: &Store,
    config: &Config,
    now: Timestamp,
    previous: Option<Timestamp>,
    applications: &[Application],
    only: Option<&EventId>,
) -> Result<Vec<RetentionNote>> {
    let Some(retention) = config.retention else { return Ok(Vec::new()) };
    let wanted = |id: &EventId| only.is_none_or(|o| o == id);
    let events: Vec<_> = retained_events(config).into_iter().filter(|e| wanted(&e.id)).collect();
    let label = |id: &EventId, name: &str| {
        if config.several_events() {
            format!("{} {name}", id.tag())
        } else {
            name.to_owned()
        }
    };
    let mut notes = Vec::new();
    for purge in store.purges()? {
        if previous.is_some_and(|p| purge.at <= p) || purge.at > now || !wanted(&purge.event) {
            continue;
        }
        let tz = events.iter().find(|e| e.id == purge.event).map_or(config.timezone(), |e| e.starts_at.time_zone());
        notes.push(RetentionNote {
            what: RetentionHappening::Done,
            event: label(&purge.event, &purge.event_name),
            day: purge.at.to_zoned(tz.clone()).date(),
            applications: purge.applications,
        });
    }
    for event in events {
        let stage = retention_stage(&event.starts_at, retention.days, now);
        let what = match stage {
            RetentionStage::Soon { .. } => RetentionHappening::Soon,
            RetentionStage::Due { .. } => RetentionHappening::Overdue,
            RetentionStage::Kept { .. } => continue,
        };
        let stored = applications.iter().filter(|a| a.event == event.id).count();
        if stored > 0 {
            notes.push(RetentionNote {
                what,
                event: label(&event.id, &event.name),
                day: stage.deletion_day(),
                applications: i64::try_from(stored).unwrap_or(i64::MAX),
            });
        }
    }
    Ok(notes)
}

/// Outside the summary window, the day whose summary is due at `now` only to tell staff about
/// personal data: the notice day of an event still holding applications (until its deletion
/// day), or the first summary time after a purge not told yet. Summary days are the desk's (the
/// first event's time zone); each event's deletion day is its own.
pub(super) fn notice_day_due(
    store: &Store,
    config: &Config,
    now: Timestamp,
    last: Option<&LastSummary>,
) -> Result<Option<Date>> {
    let Some(retention) = config.retention else { return Ok(None) };
    let tz = config.timezone();
    let at = config.staff.summary_time;
    let local = now.to_zoned(tz.clone()).datetime();
    let last_day = last.map(|l| l.day);
    let on = |day: Date| summary_due(local, at, last_day, SummaryWindow { from: Some(day), until: day });
    let mut due = None;
    for event in retained_events(config) {
        if let RetentionStage::Soon { deletion_day } = retention_stage(&event.starts_at, retention.days, now) {
            if store.holds_applications(&event.id)? {
                due = due.max(on(notice_day(deletion_day)));
            }
        }
    }
    for purge in store.purges()? {
        if last.is_some_and(|l| purge.at <= l.at) || purge.at > now {
            continue;
        }
        due = due.max(on(first_summary_day(purge.at, tz, at)));
    }
    Ok(due)
}

/// The day of the first summary time at or after `t`.
fn first_summary_day(t: Timestamp, tz: &TimeZone, at: Time) -> Date {
    let local = t.to_zoned(tz.clone()).datetime();
    if local.time() <= at {
        local.date()
    } else {
        local.date().tomorrow().unwrap_or(local.date())
    }
}

/// The note in words: (Korean, English).
pub(super) fn sentence(note: &RetentionNote) -> (String, String) {
    let RetentionNote { event, day, applications: n, .. } = note;
    let applications = if *n == 1 { "1 application".to_owned() } else { format!("{n} applications") };
    match note.what {
        RetentionHappening::Soon => (
            format!(
                "{day}에 {event} 신청 {n}건의 개인정보(이름, 연락처, 주소, 메일 원문과 첨부 파일)가 삭제됩니다. 통계용 \
                 건수만 남습니다. 필요한 자료는 그 전에 내려받아 두세요."
            ),
            format!(
                "On {day} the personal data of {applications} of {event} will be deleted (names, phones, addresses, \
                 the mail and its attachments); only counts are kept for statistics. Export what you need before then."
            ),
        ),
        RetentionHappening::Overdue => (
            format!(
                "{event} 신청 {n}건의 개인정보는 {day}부터 삭제 대상이지만 아직 삭제되지 않았습니다. 관리자가 smebridge \
                 purge를 실행해야 합니다."
            ),
            format!(
                "The personal data of {applications} of {event} is due for deletion since {day} but has not been \
                 deleted yet: the operator runs smebridge purge."
            ),
        ),
        RetentionHappening::Done => (
            format!("{day}에 {event} 신청 {n}건의 개인정보를 삭제했습니다. 건수는 통계로 남아 있습니다."),
            format!(
                "The personal data of {applications} of {event} was deleted on {day}; the counts are kept for \
                 statistics (smebridge stats)."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::domain::{ApplicantFields, EmailAddress, Outcome, RouteReason, Status};
    use crate::instance::Instance;
    use crate::store::{ApplicationWrite, Arriving, MailboxUid, MessageOutcome, NewMessage, NO_DETAILS};
    use crate::summary::{render_for, summary_if_due};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const SHIPPED: &str = include_str!("../../config/smebridge.toml");

    /// `text` as configuration, with daily summaries only in 2099 (as in the end-to-end tests).
    fn configured(dir: &Path, text: &str) -> Config {
        let text = text
            .replace("/var/lib/smebridge/smebridge.sqlite", "smebridge.sqlite")
            .replace("# summary_from = \"2022-11-07\"", "summary_from = \"2099-01-01\"")
            .replace("# summary_until = \"2022-11-19\"", "summary_until = \"2099-12-31\"");
        Config::from_toml(&text, &dir.join("smebridge.toml"), dir).unwrap()
    }

    /// An application to `event` from `address`.
    fn apply(store: &mut Store, event: &EventId, address: &str, uid: u32) {
        let sender = EmailAddress::parse(address).unwrap();
        let (sha, message_id) = (format!("sha-{uid}"), format!("m{uid}@hanbit.example"));
        let message = NewMessage {
            arriving: Arriving { sha256: &sha, arrived_at: at("2022-11-15T10:00:00+09:00"), raw: b"application" },
            outcome: MessageOutcome {
                message_id: &message_id,
                sender: Some(&sender),
                subject: Some("신청"),
                outcome: Outcome::Registered,
                outcome_detail: None,
                problems: &[],
                attachments: &[],
                details: &NO_DETAILS,
                event: Some((event, RouteReason::OnlyEvent)),
            },
        };
        let write = ApplicationWrite::Insert {
            event: event.clone(),
            email: sender.clone(),
            fields: ApplicantFields { name: Some("김민준".into()), ..Default::default() },
            status: Status::Accepted,
            review: None,
        };
        let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid };
        store.commit_message(uid, &message, &write, at("2022-11-15T10:00:00+09:00"), |_| Ok(None)).unwrap();
    }

    /// The shipped configuration (the workshop on 18 November 2022, kept 90 days: deleted on 17
    /// February 2023) and a desk with one application.
    fn desk(dir: &Path) -> (Config, Store) {
        let config = configured(dir, SHIPPED);
        let mut store = Store::open(Instance::claim(&config.database.path).unwrap()).unwrap();
        apply(&mut store, &EventId::default_id(), "kim@hanbit.example", 1);
        (config, store)
    }

    /// The shipped configuration with two events, the workshop (`ws-2211`, 18 November 2022) and
    /// a seminar (`sem-2303`, 10 March 2023, deleted from 9 June), and a desk with two
    /// applications to the workshop and three to the seminar.
    fn two_events(dir: &Path) -> (Config, Store) {
        let start = SHIPPED.find("\n[event]\n").unwrap();
        let end = start + 1 + SHIPPED[start + 1..].find("\n[staff]").unwrap();
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
deadline = "2023-03-09T23:59:59+09:00"
starts_at = "2023-03-10T10:00:00+09:00"
venue = "KAIST 학술문화관"
"#;
        let config = configured(dir, &format!("{}{events}{}", &SHIPPED[..start], &SHIPPED[end..]));
        let mut store = Store::open(Instance::claim(&config.database.path).unwrap()).unwrap();
        let (workshop, seminar) = (&config.events[0].id, &config.events[1].id);
        for (uid, (event, address)) in [
            (workshop, "kim@hanbit.example"),
            (workshop, "lee@daon.example"),
            (seminar, "park@kist.example"),
            (seminar, "choi@unist.example"),
            (seminar, "kim@hanbit.example"),
        ]
        .into_iter()
        .enumerate()
        {
            apply(&mut store, event, address, uid as u32 + 1);
        }
        (config, store)
    }

    fn purge_at(store: &mut Store, config: &Config, now: &str) {
        // The summaries queued so far went out (purge waits for mail still to be sent).
        for row in store.due_replies(at(now), true, 0, 100).unwrap() {
            let claim = store.claim_reply(row.id, at(now)).unwrap().unwrap();
            assert!(store.mark_sent(claim, at(now)).unwrap());
        }
        let report = crate::ops::purge(store, config, at(now)).unwrap();
        assert!(report.complete(), "{report}");
    }

    #[test]
    fn outside_the_summary_window_a_summary_is_made_on_the_notice_day_and_after_a_purge_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let (config, mut store) = desk(dir.path());
        let due = |store: &Store, now: &str| {
            let last = store.last_summary().unwrap();
            notice_day_due(store, &config, at(now), last.as_ref()).unwrap()
        };
        let d = |day| jiff::civil::date(2023, 2, day);
        assert_eq!(due(&store, "2023-02-09T09:00:00+09:00"), None, "more than a week before");
        assert_eq!(due(&store, "2023-02-10T08:29:59+09:00"), None, "the summary time");
        assert_eq!(due(&store, "2023-02-10T08:30:00+09:00"), Some(d(10)));
        assert_eq!(due(&store, "2023-02-13T09:00:00+09:00"), Some(d(10)), "missed: made when back, in the week");
        assert_eq!(summary_if_due(&mut store, &config, at("2023-02-10T08:30:00+09:00")).unwrap(), Some(d(10)));
        assert_eq!(due(&store, "2023-02-13T09:00:00+09:00"), None, "told once");
        assert_eq!(summary_if_due(&mut store, &config, at("2023-02-13T09:00:00+09:00")).unwrap(), None);
        assert_eq!(due(&store, "2023-02-20T09:00:00+09:00"), None, "overdue is told in summaries, not by one");

        // Purged at 10:00 on the 17th, after that day's summary time: the next morning's.
        purge_at(&mut store, &config, "2023-02-17T10:00:00+09:00");
        assert_eq!(due(&store, "2023-02-17T11:00:00+09:00"), None);
        assert_eq!(due(&store, "2023-02-18T08:30:00+09:00"), Some(d(18)));
        let summary = render_for(&store, &config, d(18), at("2023-02-18T08:30:00+09:00"), None).unwrap();
        assert!(summary.text.contains("■ 개인정보 삭제 (Deleting personal data)\n  2023-02-17에 "), "{}", summary.text);
        assert!(summary.text.contains("The personal data of 1 application of 중소기업 기술혁신을 위한 산학협력 전략 및 사례 공유 워크숍 (Industry-University Cooperation Strategies and Cases for SME Technology Innovation) was deleted on 2023-02-17"), "{}", summary.text);
        assert!(summary.html.contains("개인정보 삭제 (Deleting personal data)</div>"));
        assert_eq!(summary_if_due(&mut store, &config, at("2023-02-18T08:30:00+09:00")).unwrap(), Some(d(18)));
        assert_eq!(due(&store, "2023-02-19T09:00:00+09:00"), None, "told once");
        let later = render_for(&store, &config, d(19), at("2023-02-19T09:00:00+09:00"), None).unwrap();
        assert!(!later.text.contains("개인정보 삭제"), "not again after it was told:\n{}", later.text);
    }

    #[test]
    fn the_notes_say_soon_then_overdue_then_done() {
        let dir = tempfile::tempdir().unwrap();
        let (config, mut store) = desk(dir.path());
        let notes_at = |store: &Store, now: &str, previous: Option<&str>| -> Vec<(RetentionHappening, Date, i64)> {
            notes(store, &config, at(now), previous.map(at), &store.applications().unwrap(), None)
                .unwrap()
                .into_iter()
                .map(|n| (n.what, n.day, n.applications))
                .collect()
        };
        let d = |day| jiff::civil::date(2023, 2, day);
        assert!(notes_at(&store, "2023-02-09T23:00:00+09:00", None).is_empty());
        assert_eq!(notes_at(&store, "2023-02-10T00:00:00+09:00", None), [(RetentionHappening::Soon, d(17), 1)]);
        assert_eq!(notes_at(&store, "2023-02-17T00:00:00+09:00", None), [(RetentionHappening::Overdue, d(17), 1)]);
        purge_at(&mut store, &config, "2023-02-17T03:15:00+09:00");
        let after = "2023-02-17T08:30:00+09:00";
        assert_eq!(notes_at(&store, after, None), [(RetentionHappening::Done, d(17), 1)]);
        assert_eq!(notes_at(&store, after, Some("2023-02-16T08:30:00+09:00")), [(RetentionHappening::Done, d(17), 1)]);
        assert!(notes_at(&store, after, Some("2023-02-17T04:00:00+09:00")).is_empty(), "told already");
        assert!(notes_at(&store, "2023-02-17T03:00:00+09:00", None).iter().all(|n| n.0 != RetentionHappening::Done));
    }

    #[test]
    fn with_two_events_each_is_told_of_on_its_own_with_its_own_applications_and_named_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let (config, mut store) = two_events(dir.path());
        // The summary made at `now`, the previous one the day before.
        let notes_at =
            |store: &Store, now: &str, only: Option<&EventId>| -> Vec<(String, RetentionHappening, Date, i64)> {
                let previous = at(now) - jiff::SignedDuration::from_hours(24);
                notes(store, &config, at(now), Some(previous), &store.applications().unwrap(), only)
                    .unwrap()
                    .into_iter()
                    .map(|n| (n.event, n.what, n.day, n.applications))
                    .collect()
            };
        let workshop =
            |what, day, n| ("[ws-2211] 산학협력 워크숍".to_owned(), what, jiff::civil::date(2023, 2, day), n);
        let seminar = |what, day, n| ("[sem-2303] AI 세미나".to_owned(), what, jiff::civil::date(2023, 6, day), n);

        // The week before the workshop's deletion day: only it, with its two applications.
        assert_eq!(notes_at(&store, "2023-02-10T09:00:00+09:00", None), [workshop(RetentionHappening::Soon, 17, 2)]);
        let (ws, sem) = (config.events[0].id.clone(), config.events[1].id.clone());
        assert!(notes_at(&store, "2023-02-10T09:00:00+09:00", Some(&sem)).is_empty(), "a summary of the seminar");
        let last = store.last_summary().unwrap();
        let d = |month, day| jiff::civil::date(2023, month, day);
        assert_eq!(
            notice_day_due(&store, &config, at("2023-02-10T09:00:00+09:00"), last.as_ref()).unwrap(),
            Some(d(2, 10))
        );

        // The workshop purged (the seminar is not due): told once, its seminar counts untouched.
        purge_at(&mut store, &config, "2023-02-17T03:15:00+09:00");
        assert!(store.holds_applications(&sem).unwrap() && !store.holds_applications(&ws).unwrap());
        assert_eq!(notes_at(&store, "2023-02-17T08:30:00+09:00", None), [workshop(RetentionHappening::Done, 17, 2)]);
        assert!(notes_at(&store, "2023-02-17T08:30:00+09:00", Some(&sem)).is_empty());
        let summary = render_for(&store, &config, d(2, 17), at("2023-02-17T08:30:00+09:00"), None).unwrap();
        assert!(
            summary.text.contains("2023-02-17에 [ws-2211] 산학협력 워크숍 신청 2건의 개인정보를 삭제했습니다."),
            "{}",
            summary.text
        );

        // The seminar's week, then its day: three applications (the workshop's applicant among them).
        assert_eq!(notes_at(&store, "2023-06-02T09:00:00+09:00", None), [seminar(RetentionHappening::Soon, 9, 3)]);
        assert_eq!(
            notes_at(&store, "2023-06-09T09:00:00+09:00", Some(&sem)),
            [seminar(RetentionHappening::Overdue, 9, 3)]
        );
        let summary = render_for(&store, &config, d(6, 2), at("2023-06-02T09:00:00+09:00"), None).unwrap();
        assert!(
            summary
                .text
                .contains("On 2023-06-09 the personal data of 3 applications of [sem-2303] AI 세미나 will be deleted"),
            "{}",
            summary.text
        );
        purge_at(&mut store, &config, "2023-06-09T09:00:00+09:00");
        assert!(!store.holds_applications(&sem).unwrap());
        assert_eq!(notes_at(&store, "2023-06-10T08:30:00+09:00", None), [seminar(RetentionHappening::Done, 9, 3)]);
        assert!(notes_at(&store, "2023-06-10T08:30:00+09:00", Some(&ws)).is_empty(), "a summary of the workshop");
    }

    #[test]
    fn a_desk_without_applications_or_without_retention_hears_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut config, mut store) = desk(dir.path());
        purge_at(&mut store, &config, "2023-02-17T03:15:00+09:00");
        let told = summary_if_due(&mut store, &config, at("2023-02-17T08:30:00+09:00")).unwrap();
        assert_eq!(told, Some(jiff::civil::date(2023, 2, 17)), "the purge is told");
        // A later event day: the desk holds no application to warn about.
        config.events[0].starts_at = at("2023-05-01T13:30:00+09:00");
        let last = store.last_summary().unwrap();
        assert_eq!(notice_day_due(&store, &config, at("2023-07-24T09:00:00+09:00"), last.as_ref()).unwrap(), None);
        assert!(notes(&store, &config, at("2023-07-24T09:00:00+09:00"), Some(at("2023-07-01T00:00:00Z")), &[], None)
            .unwrap()
            .is_empty());
        config.retention = None;
        assert!(notes(&store, &config, at("2023-02-18T09:00:00+09:00"), None, &[], None).unwrap().is_empty());
        assert_eq!(notice_day_due(&store, &config, at("2023-02-18T09:00:00+09:00"), None).unwrap(), None);
    }

    #[test]
    fn the_first_summary_after_a_purge_is_that_day_before_the_summary_time_and_the_next_day_after_it() {
        let tz = jiff::tz::db().get("Asia/Seoul").unwrap();
        let at_ = Time::constant(8, 30, 0, 0);
        let d = |day| jiff::civil::date(2023, 2, day);
        assert_eq!(first_summary_day(at("2023-02-17T03:15:00+09:00"), &tz, at_), d(17));
        assert_eq!(first_summary_day(at("2023-02-17T08:30:00+09:00"), &tz, at_), d(17));
        assert_eq!(first_summary_day(at("2023-02-17T10:00:00+09:00"), &tz, at_), d(18));
    }

    #[test]
    fn each_note_says_what_when_and_how_many_in_both_languages() {
        let note = |what, n| RetentionNote {
            what,
            event: "중소기업 R&D 워크숍".into(),
            day: jiff::civil::date(2023, 2, 17),
            applications: n,
        };
        let (ko, en) = sentence(&note(RetentionHappening::Soon, 3));
        assert!(ko.starts_with("2023-02-17에 중소기업 R&D 워크숍 신청 3건의 개인정보"), "{ko}");
        assert!(
            en.starts_with("On 2023-02-17 the personal data of 3 applications of 중소기업 R&D 워크숍 will be deleted"),
            "{en}"
        );
        let (ko, en) = sentence(&note(RetentionHappening::Done, 1));
        assert_eq!(
            ko,
            "2023-02-17에 중소기업 R&D 워크숍 신청 1건의 개인정보를 삭제했습니다. 건수는 통계로 남아 있습니다."
        );
        assert!(en.starts_with("The personal data of 1 application of 중소기업 R&D 워크숍 was deleted on 2023-02-17"));
        let (_, en) = sentence(&note(RetentionHappening::Overdue, 2));
        assert!(en.contains("due for deletion since 2023-02-17 but has not been deleted yet"), "{en}");
    }
}
