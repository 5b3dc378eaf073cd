//! When an event's personal data must go (`[retention] delete_personal_data_after`, counted in
//! days from the event's day in its time zone, as the privacy notice states it). Pure: the
//! event's start, the period and "now" are arguments.
//!
//! The notice says the data is kept for N days after the event's day, until that last day
//! included (`config::Retention::kept_until`); from the next day on it is due for deletion,
//! and staff are told [`NOTICE_DAYS`] days before.
//!
//! Mail for no event (automatic mail, duplicates, unreadable or unrouted mail) has no event's
//! day: its own day, the day it arrived, takes that place ([`arrived_due_before`]).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

/// Staff hear of a deletion this many days before its day.
pub const NOTICE_DAYS: i64 = 7;

/// Where an event's personal data stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionStage {
    /// Kept; deletion is more than [`NOTICE_DAYS`] days away.
    Kept { deletion_day: Date },
    /// Kept, and deleted within [`NOTICE_DAYS`] days: staff are told.
    Soon { deletion_day: Date },
    /// Due for deletion since `deletion_day`.
    Due { deletion_day: Date },
}

impl RetentionStage {
    /// The first day the data is no longer kept.
    pub fn deletion_day(self) -> Date {
        match self {
            RetentionStage::Kept { deletion_day }
            | RetentionStage::Soon { deletion_day }
            | RetentionStage::Due { deletion_day } => deletion_day,
        }
    }
}

/// The first day the personal data of an event that starts at `start` is no longer kept: the day
/// after the `kept_days`-th day after the event's day (in the event's time zone). A period that
/// runs past the calendar's end never ends.
pub fn deletion_day(start: &Zoned, kept_days: u32) -> Date {
    start.date().checked_add(Span::new().days(i64::from(kept_days) + 1)).unwrap_or(Date::MAX)
}

/// Is the personal data of the event that starts at `start`, kept for `kept_days` days after its
/// day, due for deletion at `now`? From midnight of its deletion day, in the event's time zone.
pub fn purge_due(start: &Zoned, kept_days: u32, now: Timestamp) -> bool {
    matches!(retention_stage(start, kept_days, now), RetentionStage::Due { .. })
}

/// Where the personal data of the event that starts at `start` stands at `now`.
pub fn retention_stage(start: &Zoned, kept_days: u32, now: Timestamp) -> RetentionStage {
    let deletion_day = deletion_day(start, kept_days);
    let today = now.to_zoned(start.time_zone().clone()).date();
    if today >= deletion_day {
        RetentionStage::Due { deletion_day }
    } else if (deletion_day - today).get_days() <= NOTICE_DAYS as i32 {
        RetentionStage::Soon { deletion_day }
    } else {
        RetentionStage::Kept { deletion_day }
    }
}

/// The day staff are told of a deletion on `deletion_day`.
pub fn notice_day(deletion_day: Date) -> Date {
    deletion_day.checked_sub(Span::new().days(NOTICE_DAYS)).unwrap_or(deletion_day)
}

/// Mail for no event is kept `kept_days` days after the day it arrived (in `tz`), as an event's
/// data is after the event's day: at `now`, what arrived before the returned moment (midnight
/// starting the `kept_days`-th day before today) is due for deletion.
pub fn arrived_due_before(now: Timestamp, tz: &TimeZone, kept_days: u32) -> Timestamp {
    let today = now.to_zoned(tz.clone()).date();
    match today.checked_sub(Span::new().days(i64::from(kept_days))) {
        Ok(first_kept) => first_kept.to_zoned(tz.clone()).map_or(Timestamp::MIN, |z| z.timestamp()),
        // Before the calendar's start: nothing arrived that early.
        Err(_) => Timestamp::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// The workshop: Friday 18 November 2022, 1:30 pm in Seoul.
    fn workshop() -> Zoned {
        "2022-11-18T13:30:00+09:00[Asia/Seoul]".parse().unwrap()
    }

    #[test]
    fn kept_through_the_last_day_the_notice_names_and_due_from_midnight_after_it_in_the_events_time_zone() {
        // 90 days after the 18th is 16 February 2023, the last day kept (as the notice says).
        assert_eq!(deletion_day(&workshop(), 90), jiff::civil::date(2023, 2, 17));
        let kept_until = crate::config::Retention { days: 90 }.kept_until(workshop().date()).unwrap();
        assert_eq!(deletion_day(&workshop(), 90), kept_until.tomorrow().unwrap(), "the day after the last day kept");

        assert!(!purge_due(&workshop(), 90, at("2023-02-16T23:59:59+09:00")));
        assert!(purge_due(&workshop(), 90, at("2023-02-17T00:00:00+09:00")));
        // 15:00 UTC on the 16th is already the 17th in Seoul.
        assert!(purge_due(&workshop(), 90, at("2023-02-16T15:00:00Z")));
        assert!(!purge_due(&workshop(), 90, at("2023-02-16T14:59:59Z")));
        assert!(purge_due(&workshop(), 90, at("2030-01-01T00:00:00Z")), "and stays due");
        assert!(!purge_due(&workshop(), 90, at("2022-11-18T15:00:00+09:00")), "not on the event's own day");
    }

    #[test]
    fn counted_from_the_events_day_whatever_its_hour() {
        let early: Zoned = "2022-11-18T00:00:00+09:00[Asia/Seoul]".parse().unwrap();
        let late: Zoned = "2022-11-18T23:59:00+09:00[Asia/Seoul]".parse().unwrap();
        assert_eq!(deletion_day(&early, 1), deletion_day(&late, 1));
        assert_eq!(deletion_day(&early, 1), jiff::civil::date(2022, 11, 20));
        assert!(purge_due(&late, 1, at("2022-11-20T00:00:00+09:00")));
        assert!(!purge_due(&late, 1, at("2022-11-19T23:59:59+09:00")));
    }

    #[test]
    fn staff_hear_of_it_the_week_before_and_it_is_due_from_its_day() {
        let stage = |now: &str| retention_stage(&workshop(), 90, at(now));
        let day = jiff::civil::date(2023, 2, 17);
        assert_eq!(stage("2023-02-09T23:59:59+09:00"), RetentionStage::Kept { deletion_day: day });
        assert_eq!(stage("2023-02-10T00:00:00+09:00"), RetentionStage::Soon { deletion_day: day });
        assert_eq!(stage("2023-02-16T23:59:59+09:00"), RetentionStage::Soon { deletion_day: day });
        assert_eq!(stage("2023-02-17T00:00:00+09:00"), RetentionStage::Due { deletion_day: day });
        assert_eq!(notice_day(day), jiff::civil::date(2023, 2, 10));
        assert_eq!(stage("2022-12-01T09:00:00+09:00").deletion_day(), day);
    }

    #[test]
    fn mail_for_no_event_is_due_when_its_arrival_day_would_be_as_an_events_day() {
        let seoul = workshop().time_zone().clone();
        // Arrived on the event's day: due from the same midnight as the event's data.
        let arrived: Zoned = "2022-11-18T10:00:00+09:00[Asia/Seoul]".parse().unwrap();
        for now in ["2023-02-16T23:59:59+09:00", "2023-02-17T00:00:00+09:00", "2023-03-01T12:00:00+09:00"] {
            let due = arrived.timestamp() < arrived_due_before(at(now), &seoul, 90);
            assert_eq!(due, purge_due(&arrived, 90, at(now)), "{now}");
        }
        assert_eq!(arrived_due_before(at("2023-02-17T00:00:00+09:00"), &seoul, 90), at("2022-11-19T00:00:00+09:00"));
        // 15:00 UTC is already the next day in Seoul.
        assert_eq!(arrived_due_before(at("2023-02-16T15:00:00Z"), &seoul, 90), at("2022-11-19T00:00:00+09:00"));
        assert_eq!(arrived_due_before(at("-009999-01-05T00:00:00Z"), &TimeZone::UTC, 30), Timestamp::MIN);
    }

    #[test]
    fn a_period_past_the_end_of_the_calendar_never_ends() {
        let far: Zoned = "9999-12-01T00:00:00+00:00[UTC]".parse().unwrap();
        assert_eq!(deletion_day(&far, 3650), Date::MAX);
        assert!(!purge_due(&far, 3650, Timestamp::MAX));
    }
}
