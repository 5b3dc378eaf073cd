//! What the summary tells staff about deleting personal data (`[retention]`, `smebridge
//! purge`): a week before an event's deletion day, "on DATE the personal data of N applications of
//! EVENT will be deleted"; once it is due and not done, that it is waiting for the operator; and
//! in the first summary after a purge, that it was deleted on DATE.
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
use crate::domain::{notice_day, retention_stage, summary_due, RetentionStage, SummaryWindow};
use crate::ops::retained_events;
use crate::store::{LastSummary, Store};

/// One thing to tell staff about an event's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionNote {
    pub what: RetentionHappening,
    /// The event's name.
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
/// the first): the purges since then, and where each event still holding `applications` stands.
pub(super) fn notes(
    store: &Store,
    config: &Config,
    now: Timestamp,
    previous: Option<Timestamp>,
    applications: usize,
) -> Result<Vec<RetentionNote>> {
    let Some(retention) = config.retention else { return Ok(Vec::new()) };
    let events = retained_events(config);
    let mut notes = Vec::new();
    for purge in store.purges()? {
        if previous.is_some_and(|p| purge.at <= p) || purge.at > now {
            continue;
        }
        let tz =
            events.iter().find(|e| e.id == purge.event).map_or(&config.event.timezone, |e| e.starts_at.time_zone());
        notes.push(RetentionNote {
            what: RetentionHappening::Done,
            event: purge.event_name,
            day: purge.at.to_zoned(tz.clone()).date(),
            applications: purge.applications,
        });
    }
    // The desk has one event: every application stored is its.
    let stored = i64::try_from(applications).unwrap_or(i64::MAX);
    for event in events {
        let stage = retention_stage(&event.starts_at, retention.days, now);
        let what = match stage {
            RetentionStage::Soon { .. } => RetentionHappening::Soon,
            RetentionStage::Due { .. } => RetentionHappening::Overdue,
            RetentionStage::Kept { .. } => continue,
        };
        if stored > 0 {
            notes.push(RetentionNote { what, event: event.name, day: stage.deletion_day(), applications: stored });
        }
    }
    Ok(notes)
}

/// Outside the summary window, the day whose summary is due at `now` only to tell staff about
/// personal data: the notice day of an event still holding applications (until its deletion
/// day), or the first summary time after a purge not told yet.
pub(super) fn notice_day_due(
    store: &Store,
    config: &Config,
    now: Timestamp,
    last: Option<&LastSummary>,
) -> Result<Option<Date>> {
    let Some(retention) = config.retention else { return Ok(None) };
    let tz = &config.event.timezone;
    let at = config.staff.summary_time;
    let local = now.to_zoned(tz.clone()).datetime();
    let last_day = last.map(|l| l.day);
    let on = |day: Date| summary_due(local, at, last_day, SummaryWindow { from: Some(day), until: day });
    let mut due = None;
    for event in retained_events(config) {
        if let RetentionStage::Soon { deletion_day } = retention_stage(&event.starts_at, retention.days, now) {
            due = due.max(on(notice_day(deletion_day)));
        }
    }
    if due.is_some() && !store.holds_applications()? {
        due = None;
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
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
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
