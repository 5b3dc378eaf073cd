//! What a summary is made of ([`SummaryInput`], read by the job from the database and the
//! clock), what it counts ([`totals`], [`applications_per_day`]) and what it renders to
//! ([`Summary`]). Pure: no database, no clock, no wording.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

use crate::domain::{EventId, Status};
use crate::store::Application;

/// The Content-ID of the chart: the HTML shows it as `<img src="cid:chart">`.
pub const CHART_CID: &str = "chart";
/// The chart shows at most this many days (the most recent ones).
pub const CHART_DAYS: usize = 120;

/// Everything the summary is made of. The caller reads it from the database and the clock.
#[derive(Debug, Clone)]
pub struct SummaryInput {
    /// The summary's title: the event's name (with several events, the center's).
    pub title: String,
    pub timezone: TimeZone,
    /// The day the summary is for (its date in the subject and heading).
    pub day: Date,
    pub generated_at: Timestamp,
    /// The previous summary; `None` for the first one (then everything is new).
    pub previous: Option<Previous>,
    /// When the mailbox was last read whole (`None`: never). The summary states it, and warns
    /// when it is older than [`STALE_AFTER`] or not after the previous summary: then mail that
    /// arrived since is missing from this summary.
    pub last_read: Option<Timestamp>,
    /// The events the summary is about, in configuration order (never empty). With one, the
    /// summary looks as it did before several events existed.
    pub events: Vec<EventFacts>,
    /// Every application of those events, in any order.
    pub applications: Vec<Application>,
    /// What is still waiting for a person, whenever it happened.
    pub needs_person: Vec<Attention>,
    /// Updates and cancellations since the previous summary.
    pub changes: Vec<ChangeNote>,
    /// What the daemon noticed about the mailbox (any time; those since the previous summary
    /// are shown).
    pub mailbox: Vec<MailboxNote>,
    /// Messages recorded without an answer because they arrived before applications opened.
    pub skipped_before_opens: u64,
    /// Personal data about to be deleted, overdue, or deleted since the previous summary, per
    /// event.
    pub retention: Vec<super::RetentionNote>,
}

/// An event as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFacts {
    pub id: EventId,
    pub name: String,
    /// Applications are taken from here (`None`: from the start)…
    pub opens: Option<Timestamp>,
    /// …until here.
    pub deadline: Timestamp,
    pub starts_at: Timestamp,
    /// Seats, counted in people (the sum of `attendees` over accepted applications).
    pub capacity: Option<u32>,
}

impl SummaryInput {
    /// Several events: each application and section names its event.
    pub fn several_events(&self) -> bool {
        self.events.len() > 1
    }
}

/// What the previous summary covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Previous {
    /// When it was made ("since …"; mailbox events after it are told).
    pub at: Timestamp,
    /// The last application it counted. Application ids grow in the order smebridge records
    /// them, so those with a higher id are new: judged by when smebridge recorded them, not by
    /// when their mail arrived (a mail read late, or recorded in the same second as the previous
    /// summary, is still new).
    pub last_application: i64,
}

/// A summary made this long after the mailbox was last read warns staff.
pub const STALE_AFTER: SignedDuration = SignedDuration::from_hours(1);

/// Why a summary must warn that the mailbox behind it was not read lately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Staleness {
    /// The mailbox was never read.
    Never,
    /// Last read at `read`, `age` before the summary; `before_previous`: not since the previous
    /// summary.
    Stale { read: Timestamp, age: SignedDuration, before_previous: bool },
}

/// Does the summary need the warning? When the mailbox was never read, read more than
/// [`STALE_AFTER`] before the summary, or not read since the previous summary.
pub(super) fn staleness(input: &SummaryInput) -> Option<Staleness> {
    let Some(read) = input.last_read else { return Some(Staleness::Never) };
    let age = input.generated_at.duration_since(read);
    let before_previous = input.previous.is_some_and(|p| read <= p.at);
    (age > STALE_AFTER || before_previous).then_some(Staleness::Stale { read, age, before_previous })
}

/// One thing a person has to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub kind: AttentionKind,
    pub at: Timestamp,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// A reason or a short excerpt; cut to a few lines in the mail, kept whole in the XLSX.
    pub detail: String,
}

/// Why something needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttentionKind {
    /// An application marked for review (e.g. missing fields), with the reasons.
    Review,
    /// A question rather than an application.
    Inquiry,
    /// A message that could not be classified.
    Unclassified,
    /// A message for no event smebridge could tell (or several): staff assign it.
    Unrouted,
    /// A reply that failed or bounced.
    ReplyFailed,
    /// Held because the sender looks forged.
    ForgedSender,
    /// Dropped or cut by a size limit.
    TooLarge,
    Other,
}

impl AttentionKind {
    pub const ALL: [AttentionKind; 8] = [
        AttentionKind::Review,
        AttentionKind::Inquiry,
        AttentionKind::Unclassified,
        AttentionKind::Unrouted,
        AttentionKind::ReplyFailed,
        AttentionKind::ForgedSender,
        AttentionKind::TooLarge,
        AttentionKind::Other,
    ];
}

/// An update or a cancellation since the previous summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNote {
    /// e.g. `SME-0007`
    pub application_no: String,
    pub name: Option<String>,
    pub at: Timestamp,
    /// e.g. `연락처 010-1234-5678 → 010-9876-5432` or `취소 (cancelled)`.
    pub what: String,
}

/// Something that happened to the mailbox itself, which staff should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxNote {
    pub at: Timestamp,
    /// The folder, e.g. `INBOX`.
    pub mailbox: String,
    pub what: MailboxHappening,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxHappening {
    /// The server renumbered the mailbox (UIDVALIDITY changed); it was read again whole.
    /// The counts are those of the rescan (`None` while it has not finished).
    Reset { recognised: Option<u64>, recorded: Option<u64> },
    /// The server's numbering went backwards (UIDNEXT decreased); read again whole.
    NumberingWentBack { recognised: Option<u64>, recorded: Option<u64> },
    /// Messages were gone (moved or deleted) before they could be read.
    Vanished { count: u64 },
}

/// Where registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Accepted applications (mails that registered), not people.
    pub accepted: u32,
    /// People: the sum of `attendees` over accepted applications (1 where not stated).
    pub attendees: u32,
    pub waitlisted: u32,
    pub cancelled: u32,
    /// Arrived after the deadline (rejected).
    pub late: u32,
    /// Capacity minus attendees; negative when over capacity. `None` without a capacity.
    pub capacity_left: Option<i64>,
    /// Calendar days (event time zone) from `generated_at` to the deadline: 0 on the last day.
    /// `None` once the deadline has passed.
    pub days_to_deadline: Option<i64>,
}

/// The rendered summary: everything the mail needs.
#[derive(Debug, Clone)]
pub struct Summary {
    /// One line, no line breaks.
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Inline image, Content-ID [`CHART_CID`].
    pub chart_png: Vec<u8>,
    pub xlsx: Vec<u8>,
    /// UTF-8 with a BOM, the columns of `smebridge export`.
    pub csv: Vec<u8>,
    /// ASCII file names for the attachments, e.g. `smebridge-applications-2022-11-16.xlsx`.
    pub xlsx_filename: String,
    pub csv_filename: String,
}

/// Count `event`'s applications by status and work out its seats and days left.
pub fn totals(input: &SummaryInput, event: &EventFacts) -> Totals {
    let mut totals = Totals {
        accepted: 0,
        attendees: 0,
        waitlisted: 0,
        cancelled: 0,
        late: 0,
        capacity_left: None,
        days_to_deadline: None,
    };
    for app in input.applications.iter().filter(|a| a.event == event.id) {
        match app.status {
            Status::Accepted => {
                totals.accepted += 1;
                totals.attendees = totals.attendees.saturating_add(attendees(app));
            }
            Status::Waitlisted => totals.waitlisted += 1,
            Status::Cancelled => totals.cancelled += 1,
            Status::Late => totals.late += 1,
        }
    }
    totals.capacity_left = event.capacity.map(|c| i64::from(c) - i64::from(totals.attendees));
    totals.days_to_deadline = (input.generated_at <= event.deadline).then(|| {
        let today = input.timezone.to_datetime(input.generated_at).date();
        let last_day = input.timezone.to_datetime(event.deadline).date();
        i64::from((last_day - today).get_days())
    });
    totals
}

/// Applications received per day (event time zone), from the first day with one to the last,
/// days without any included as zero. Empty without applications.
pub fn applications_per_day(apps: &[Application], tz: &TimeZone) -> Vec<(Date, u32)> {
    let mut days: Vec<Date> = apps.iter().map(|a| tz.to_datetime(a.received_at).date()).collect();
    days.sort_unstable();
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return Vec::new();
    };
    let mut counted = days.into_iter().peekable();
    first
        .series(Span::new().days(1))
        .take_while(|d| *d <= last)
        .map(|day| {
            let mut n = 0;
            while counted.next_if_eq(&day).is_some() {
                n += 1;
            }
            (day, n)
        })
        .collect()
}

/// Extend the series with zero days up to `day`, so the chart ends on the summary's day.
fn pad_to(per_day: &mut Vec<(Date, u32)>, day: Date) {
    let Some(&(last, _)) = per_day.last() else {
        per_day.push((day, 0));
        return;
    };
    per_day.extend(last.series(Span::new().days(1)).skip(1).take_while(|d| *d <= day).map(|d| (d, 0)));
}

pub(super) fn attendees(app: &Application) -> u32 {
    app.fields.attendees.unwrap_or(1)
}

/// Applications per day up to the summary's day, at most the last [`CHART_DAYS`] of them: what
/// the chart draws.
pub(super) fn chart_days(input: &SummaryInput) -> Vec<(Date, u32)> {
    let mut per_day = applications_per_day(&input.applications, &input.timezone);
    pad_to(&mut per_day, input.day);
    per_day.split_off(per_day.len().saturating_sub(CHART_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::fixtures::{at, input, seoul, simple};

    #[test]
    fn totals_count_people_over_accepted_applications_only() {
        let input = input(vec![
            simple(1, "김민준", Some(2), Status::Accepted, "2022-11-10T01:00:00Z"),
            simple(2, "이서연", None, Status::Accepted, "2022-11-11T01:00:00Z"),
            simple(3, "박지훈", Some(5), Status::Late, "2022-11-18T01:00:00Z"),
            simple(4, "최유진", Some(4), Status::Cancelled, "2022-11-12T01:00:00Z"),
            simple(5, "Jane Doe", Some(3), Status::Waitlisted, "2022-11-13T01:00:00Z"),
        ]);
        let t = totals(&input, &input.events[0]);
        assert_eq!(
            t,
            Totals {
                accepted: 2,
                attendees: 3,
                waitlisted: 1,
                cancelled: 1,
                late: 1,
                capacity_left: Some(37),
                days_to_deadline: Some(1),
            }
        );
    }

    #[test]
    fn capacity_left_goes_negative_when_overbooked_and_is_none_without_capacity() {
        let mut input = input(vec![simple(1, "김민준", Some(5), Status::Accepted, "2022-11-10T01:00:00Z")]);
        input.events[0].capacity = Some(3);
        assert_eq!(totals(&input, &input.events[0]).capacity_left, Some(-2));
        input.events[0].capacity = None;
        assert_eq!(totals(&input, &input.events[0]).capacity_left, None);
    }

    #[test]
    fn days_to_deadline_count_calendar_days_in_the_event_time_zone() {
        let mut input = input(Vec::new());
        let days = |input: &SummaryInput| totals(input, &input.events[0]).days_to_deadline;
        input.generated_at = at("2022-11-10T08:30:00+09:00");
        assert_eq!(days(&input), Some(7));
        // 16:00 UTC on the 16th is already the 17th in Seoul: the last day.
        input.generated_at = at("2022-11-16T16:00:00Z");
        assert_eq!(days(&input), Some(0));
        input.generated_at = at("2022-11-17T23:59:59+09:00");
        assert_eq!(days(&input), Some(0));
        input.generated_at = at("2022-11-18T00:00:00+09:00");
        assert_eq!(days(&input), None);
    }

    #[test]
    fn applications_per_day_include_empty_days_and_use_local_dates() {
        let apps = vec![
            simple(1, "a", None, Status::Accepted, "2022-11-13T14:59:59Z"), // 11-13 23:59 KST
            simple(2, "b", None, Status::Accepted, "2022-11-13T15:00:00Z"), // 11-14 00:00 KST
            simple(3, "c", None, Status::Late, "2022-11-16T02:00:00Z"),
            simple(4, "d", None, Status::Accepted, "2022-11-14T03:00:00Z"),
        ];
        let d = |day| jiff::civil::date(2022, 11, day);
        assert_eq!(applications_per_day(&apps, &seoul()), [(d(13), 1), (d(14), 2), (d(15), 0), (d(16), 1)]);
        assert!(applications_per_day(&[], &seoul()).is_empty());
    }
}
