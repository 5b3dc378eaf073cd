//! When the desk writes to applicants on its own: the reminder before the event and the
//! thank-you after it. Pure: "now" is an argument (the daemon passes its clock).
//!
//! Each goes out in a window: the reminder from `remind_before` ahead of the start until the
//! event begins (a daemon started late still sends it, never once the event has begun); the
//! thank-you from `thank_you_after` past the end for [`THANK_YOU_WINDOW`] (a desk that was down
//! a day still thanks people; one started weeks later does not). Once per application is kept
//! by the database (`migrations/0012_journey.sql`), not here.

use jiff::{SignedDuration, Timestamp};

use super::ReplyKind;

/// How long after it is due a thank-you may still go out.
pub const THANK_YOU_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Mail the desk sends on its own schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduled {
    Reminder,
    ThankYou,
}

impl Scheduled {
    pub const ALL: [Scheduled; 2] = [Scheduled::Reminder, Scheduled::ThankYou];

    pub fn reply_kind(self) -> ReplyKind {
        match self {
            Scheduled::Reminder => ReplyKind::Reminder,
            Scheduled::ThankYou => ReplyKind::ThankYou,
        }
    }
}

/// An event's times, as the schedule needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTimes {
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub remind_before: Option<SignedDuration>,
    pub thank_you_after: Option<SignedDuration>,
}

/// When `kind` may go out for the event: from (included) until (excluded); `None` when the
/// event has none.
pub fn window(kind: Scheduled, times: EventTimes) -> Option<(Timestamp, Timestamp)> {
    match kind {
        Scheduled::Reminder => {
            let before = times.remind_before?;
            Some((times.starts_at.saturating_sub(before).ok()?, times.starts_at))
        }
        Scheduled::ThankYou => {
            let from = times.ends_at.saturating_add(times.thank_you_after?).ok()?;
            Some((from, from.saturating_add(THANK_YOU_WINDOW).ok()?))
        }
    }
}

/// Whether `kind` is due at `now` for the event.
pub fn is_due(kind: Scheduled, times: EventTimes, now: Timestamp) -> bool {
    window(kind, times).is_some_and(|(from, until)| from <= now && now < until)
}

/// The next moment after `now` at which some kind becomes due for the event (for the daemon's
/// wait), if any.
pub fn next_due(times: EventTimes, now: Timestamp) -> Option<Timestamp> {
    Scheduled::ALL.into_iter().filter_map(|k| window(k, times)).map(|(from, _)| from).filter(|from| *from > now).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn workshop() -> EventTimes {
        EventTimes {
            starts_at: at("2022-11-18T13:30:00+09:00"),
            ends_at: at("2022-11-18T16:30:00+09:00"),
            remind_before: Some(SignedDuration::from_hours(24)),
            thank_you_after: Some(SignedDuration::from_hours(24)),
        }
    }

    #[test]
    fn the_reminder_is_due_from_a_day_before_until_the_event_begins_never_after() {
        let t = workshop();
        assert!(!is_due(Scheduled::Reminder, t, at("2022-11-17T13:29:59+09:00")));
        assert!(is_due(Scheduled::Reminder, t, at("2022-11-17T13:30:00+09:00")));
        assert!(is_due(Scheduled::Reminder, t, at("2022-11-18T13:29:59+09:00")), "a late start still reminds");
        assert!(!is_due(Scheduled::Reminder, t, at("2022-11-18T13:30:00+09:00")), "never once it began");
        assert!(!is_due(Scheduled::Reminder, t, at("2022-11-19T09:00:00+09:00")));
    }

    #[test]
    fn the_thank_you_is_due_a_day_after_the_end_for_a_week() {
        let t = workshop();
        assert!(!is_due(Scheduled::ThankYou, t, at("2022-11-19T16:29:59+09:00")));
        assert!(is_due(Scheduled::ThankYou, t, at("2022-11-19T16:30:00+09:00")));
        assert!(is_due(Scheduled::ThankYou, t, at("2022-11-26T16:29:59+09:00")));
        assert!(!is_due(Scheduled::ThankYou, t, at("2022-11-26T16:30:00+09:00")));
    }

    #[test]
    fn without_the_keys_nothing_is_ever_due() {
        let t = EventTimes { remind_before: None, thank_you_after: None, ..workshop() };
        for now in ["2022-11-17T20:00:00+09:00", "2022-11-19T20:00:00+09:00"] {
            assert!(!is_due(Scheduled::Reminder, t, at(now)));
            assert!(!is_due(Scheduled::ThankYou, t, at(now)));
        }
        assert_eq!(next_due(t, at("2022-11-01T00:00:00Z")), None);
    }

    #[test]
    fn the_next_due_moment_is_the_nearest_window_ahead() {
        let t = workshop();
        assert_eq!(next_due(t, at("2022-11-01T00:00:00Z")), Some(at("2022-11-17T13:30:00+09:00")));
        assert_eq!(next_due(t, at("2022-11-17T20:00:00+09:00")), Some(at("2022-11-19T16:30:00+09:00")));
        assert_eq!(next_due(t, at("2022-11-20T00:00:00+09:00")), None);
    }
}
