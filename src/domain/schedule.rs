//! When the staff summary is due. Pure: "now" is an argument.

use jiff::civil::{Date, DateTime, Time};

/// The window in which daily summaries are sent (both days included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryWindow {
    pub from: Option<Date>,
    pub until: Date,
}

/// The day whose summary should be made now, if any: the latest day whose summary time has
/// passed, within the window, and not summarized yet. A daemon that was down at summary time
/// sends that day's summary when it comes back — once, and only the latest missed day (it
/// covers everything since the previous summary). The very first summary waits for the summary
/// time: before any summary was made, nothing was missed.
pub fn summary_due(now: DateTime, at: Time, last: Option<Date>, window: SummaryWindow) -> Option<Date> {
    let today = now.date();
    let day = match (now.time() >= at, last) {
        (true, _) => today,
        (false, Some(_)) => today.yesterday().ok()?,
        (false, None) => return None,
    };
    let day = day.min(window.until);
    if window.from.is_some_and(|from| day < from) {
        return None;
    }
    if last.is_some_and(|last| last >= day) {
        return None;
    }
    // Past the window's end, the final summary is still sent once if it was missed.
    Some(day)
}

/// The next moment a summary could become due, after `now` (for the daemon's wake-up timer).
pub fn next_summary_time(now: DateTime, at: Time) -> DateTime {
    let today = now.date().to_datetime(at);
    if today > now {
        today
    } else {
        now.date().tomorrow().map(|d| d.to_datetime(at)).unwrap_or(today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> DateTime {
        s.parse().unwrap()
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    const AT: Time = Time::constant(8, 30, 0, 0);

    fn window() -> SummaryWindow {
        SummaryWindow { from: None, until: d("2022-11-19") }
    }

    #[test]
    fn due_once_a_day_after_the_summary_time() {
        assert_eq!(summary_due(dt("2022-11-16T08:29:59"), AT, Some(d("2022-11-15")), window()), None);
        assert_eq!(summary_due(dt("2022-11-16T08:30:00"), AT, Some(d("2022-11-15")), window()), Some(d("2022-11-16")));
        assert_eq!(summary_due(dt("2022-11-16T23:00:00"), AT, Some(d("2022-11-16")), window()), None, "once a day");
    }

    #[test]
    fn a_missed_summary_is_sent_once_when_back() {
        // Down from the 14th to the 16th at 10:00: one summary, for the 16th.
        assert_eq!(summary_due(dt("2022-11-16T10:00:00"), AT, Some(d("2022-11-13")), window()), Some(d("2022-11-16")));
        // Back at 07:00 on the 16th: yesterday's was missed.
        assert_eq!(summary_due(dt("2022-11-16T07:00:00"), AT, Some(d("2022-11-14")), window()), Some(d("2022-11-15")));
        assert_eq!(summary_due(dt("2022-11-16T07:00:00"), AT, None, window()), None, "the first one waits for 08:30");
    }

    #[test]
    fn the_window_bounds_the_summaries() {
        let w = SummaryWindow { from: Some(d("2022-11-07")), until: d("2022-11-19") };
        assert_eq!(summary_due(dt("2022-11-06T09:00:00"), AT, None, w), None, "before registration opens");
        assert_eq!(
            summary_due(dt("2022-11-25T09:00:00"), AT, Some(d("2022-11-18")), w),
            Some(d("2022-11-19")),
            "the last one, late"
        );
        assert_eq!(
            summary_due(dt("2022-11-06T09:00:00"), AT, None, SummaryWindow { from: None, until: d("2022-11-19") }),
            Some(d("2022-11-06"))
        );
        assert_eq!(
            summary_due(dt("2022-11-25T09:00:00"), AT, Some(d("2022-11-19")), w),
            None,
            "nothing after the window"
        );
    }

    #[test]
    fn next_wake_up() {
        assert_eq!(next_summary_time(dt("2022-11-16T08:00:00"), AT), dt("2022-11-16T08:30:00"));
        assert_eq!(next_summary_time(dt("2022-11-16T08:30:00"), AT), dt("2022-11-17T08:30:00"));
    }
}
