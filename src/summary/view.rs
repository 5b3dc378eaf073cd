//! What the templates see (`templates/summary.html.j2`, `templates/summary.txt.j2`): the
//! summary's facts as display-ready text, applicant text made one short line. The HTML template
//! is rendered with auto-escaping, so none of it can become markup.

use std::cmp::Reverse;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use super::chart::{CHART_HEIGHT, CHART_WIDTH};
use super::model::{
    attendees, staleness, totals, Attention, AttentionKind, ChangeNote, EventFacts, MailboxNote, SummaryInput, Totals,
};
use super::wording::{
    as_of, countdown, date_ko, last_read, mailbox_sentence, one_line, short_time_ko, skipped_before_opens,
    stale_subject, stale_words, subject, time_ko, weekday_ko,
};
use crate::domain::Status;
use crate::export::status_words;
use crate::reply::application_number;
use crate::store::Application;

/// The mail lists at most this many rows per section; the attachments always hold everything.
/// (Gmail cuts off messages over about 100 KB.)
const MAX_ROWS: usize = 100;
/// Applicant text is cut to this many characters in the mail.
const MAX_EXCERPT: usize = 240;

impl AttentionKind {
    /// Badge colours in the HTML: (background, text).
    fn colors(self) -> (&'static str, &'static str) {
        match self {
            AttentionKind::Review | AttentionKind::TooLarge => ("#fff3cd", "#7a5200"),
            AttentionKind::Inquiry => ("#e1ecff", "#1d4a9a"),
            AttentionKind::ReplyFailed | AttentionKind::ForgedSender => ("#fde2e1", "#9b1c1c"),
            AttentionKind::Unclassified | AttentionKind::Other => ("#eceff3", "#374151"),
            AttentionKind::Unrouted => ("#ede9fe", "#5b21b6"),
        }
    }
}

fn optional(s: &Option<String>) -> Option<String> {
    s.as_deref().map(|s| one_line(s, MAX_EXCERPT)).filter(|s| !s.is_empty())
}

#[derive(Serialize)]
pub(super) struct View {
    pub(super) subject: String,
    event_name: String,
    day: String,
    /// `08:30`, or the full time when the summary was made on another day than `day`.
    as_of: String,
    tz_name: String,
    since: Option<String>,
    /// When the mailbox was last read whole, or `없음 (never)`.
    last_read: String,
    /// Set when that is too long ago: a loud warning at the top.
    stale: Option<StaleView>,
    /// Where registration stands, one section per event still taking or about to hold its
    /// applicants (with one event, always its section, untitled).
    sections: Vec<SectionView>,
    /// One line for each other event: not open yet, or over within the last week.
    other_events: Vec<LineView>,
    /// Messages recorded but not answered because they arrived before applications opened.
    skipped: Option<LineView>,
    attention_count: usize,
    attention_more: usize,
    attention: Vec<AttentionView>,
    new_count: usize,
    new_people: u32,
    new_more: usize,
    new_apps: Vec<AppView>,
    changes_count: usize,
    changes_more: usize,
    changes: Vec<ChangeView>,
    /// Omitted from the mail when empty.
    mailbox: Vec<MailboxView>,
    /// Deleting personal data: (Korean, English) sentences; omitted when empty.
    retention: Vec<NoteView>,
    mailbox_more: usize,
    chart: ChartView,
    pub(super) xlsx_filename: String,
    pub(super) csv_filename: String,
}

impl View {
    /// The view of `input`, whose chart shows `per_day`.
    ///
    /// New applications are those recorded after the previous summary's last one (all of them
    /// when there is no previous summary).
    pub(super) fn new(input: &SummaryInput, per_day: &[(Date, u32)]) -> View {
        let tz = &input.timezone;
        let several = input.several_events();

        let mut apps: Vec<&Application> = input.applications.iter().collect();
        apps.sort_by_key(|a| (a.received_at, a.id));
        let new: Vec<&Application> =
            apps.iter().copied().filter(|a| input.previous.is_none_or(|p| a.id > p.last_application)).collect();
        let new_people = new.iter().fold(0u32, |n, a| n.saturating_add(attendees(a)));

        let mut attention: Vec<&Attention> = input.needs_person.iter().collect();
        attention.sort_by_key(|a| a.at);
        let mut changes: Vec<&ChangeNote> = input.changes.iter().collect();
        changes.sort_by_key(|c| c.at);
        let mut mailbox: Vec<&MailboxNote> = input
            .mailbox
            .iter()
            .filter(|m| input.previous.is_none_or(|p| m.at > p.at) && m.at <= input.generated_at)
            .collect();
        mailbox.sort_by_key(|m| m.at);

        let day = input.day.strftime("%Y-%m-%d").to_string();
        let stale = staleness(input).map(|s| {
            let (ko, en) = stale_words(&s, tz);
            StaleView { ko, en }
        });
        let mut subject = subject(&input.title, &day, new.len(), new_people, attention.len());
        if stale.is_some() {
            subject = stale_subject(&subject);
        }
        View {
            subject,
            event_name: one_line(&input.title, MAX_EXCERPT),
            day: date_ko(input.day),
            as_of: as_of(input.day, input.generated_at, tz),
            tz_name: tz.iana_name().unwrap_or("UTC").to_string(),
            since: input.previous.map(|p| time_ko(p.at, tz)),
            last_read: last_read(input.last_read, tz),
            stale,
            sections: sections(input),
            other_events: other_events(input),
            skipped: (input.skipped_before_opens > 0).then(|| {
                let (ko, en) = skipped_before_opens(input.skipped_before_opens);
                LineView { ko, en }
            }),
            attention_count: attention.len(),
            attention_more: attention.len().saturating_sub(MAX_ROWS),
            attention: attention.iter().take(MAX_ROWS).map(|a| AttentionView::new(a, tz)).collect(),
            new_count: new.len(),
            new_people,
            new_more: new.len().saturating_sub(MAX_ROWS),
            new_apps: new.iter().take(MAX_ROWS).map(|a| AppView::new(a, tz, several)).collect(),
            changes_count: changes.len(),
            changes_more: changes.len().saturating_sub(MAX_ROWS),
            changes: changes.iter().take(MAX_ROWS).map(|c| ChangeView::new(c, tz)).collect(),
            mailbox_more: mailbox.len().saturating_sub(MAX_ROWS),
            mailbox: mailbox.iter().take(MAX_ROWS).map(|m| MailboxView::new(m, tz)).collect(),
            retention: input.retention.iter().map(NoteView::new).collect(),
            chart: ChartView::new(per_day, input.generated_at, tz),
            xlsx_filename: format!("smebridge-applications-{day}.xlsx"),
            csv_filename: format!("smebridge-applications-{day}.csv"),
        }
    }
}

#[derive(Serialize)]
struct StaleView {
    ko: String,
    en: String,
}

/// A sentence in both languages.
#[derive(Serialize)]
struct LineView {
    ko: String,
    en: String,
}

#[derive(Serialize)]
struct SectionView {
    /// `[ws-2211] 산학협력 워크숍`; none with a single event.
    title: Option<String>,
    totals: TotalsView,
}

/// The events that get a section: the one event of a single-event desk, always; with several,
/// those open for applications (or with no `opens`) whose day has not passed.
fn sections(input: &SummaryInput) -> Vec<SectionView> {
    let tz = &input.timezone;
    let several = input.several_events();
    input
        .events
        .iter()
        .filter(|e| !several || (has_opened(e, input) && input.day <= tz.to_datetime(e.starts_at).date()))
        .map(|e| SectionView {
            title: several.then(|| one_line(&format!("{} {}", e.id.tag(), e.name), MAX_EXCERPT)),
            totals: TotalsView::new(&totals(input, e), e, tz),
        })
        .collect()
}

fn has_opened(event: &EventFacts, input: &SummaryInput) -> bool {
    event.opens.is_none_or(|opens| opens <= input.generated_at)
}

/// With several events, a line for each event without a section: not open yet (when it opens),
/// or held within the last week (how many it had).
fn other_events(input: &SummaryInput) -> Vec<LineView> {
    let tz = &input.timezone;
    if !input.several_events() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for e in &input.events {
        let name = one_line(&format!("{} {}", e.id.tag(), e.name), MAX_EXCERPT);
        let start_day = tz.to_datetime(e.starts_at).date();
        if !has_opened(e, input) {
            let opens = e.opens.map(|o| time_ko(o, tz)).unwrap_or_default();
            lines.push(LineView {
                ko: format!("{name}: 신청 시작 전 ({opens}부터 신청)"),
                en: format!("{name}: not open yet (applications from {opens})"),
            });
        } else if start_day < input.day && (input.day - start_day).get_days() <= 7 {
            let t = totals(input, e);
            lines.push(LineView {
                ko: format!("{name}: {} 종료 · 신청 {}건 · {}명", date_ko(start_day), t.accepted, t.attendees),
                en: format!("{name}: held on {start_day} · {} accepted, {} attendees", t.accepted, t.attendees),
            });
        }
    }
    lines
}

#[derive(Serialize)]
struct TotalsView {
    accepted: u32,
    attendees: u32,
    waitlisted: u32,
    cancelled: u32,
    late: u32,
    capacity: Option<u32>,
    seats_left: Option<i64>,
    over_capacity: bool,
    over_by: i64,
    deadline: String,
    /// `11/17 23:59`
    deadline_short: String,
    /// `D-3`, `D-day`, `마감`
    countdown: String,
    countdown_ko: String,
    countdown_en: String,
    deadline_passed: bool,
}

impl TotalsView {
    fn new(totals: &Totals, event: &EventFacts, tz: &TimeZone) -> TotalsView {
        let (countdown, countdown_ko, countdown_en) = countdown(totals.days_to_deadline);
        TotalsView {
            accepted: totals.accepted,
            attendees: totals.attendees,
            waitlisted: totals.waitlisted,
            cancelled: totals.cancelled,
            late: totals.late,
            capacity: event.capacity,
            seats_left: totals.capacity_left,
            over_capacity: totals.capacity_left.is_some_and(|n| n < 0),
            over_by: -totals.capacity_left.unwrap_or(0),
            deadline: time_ko(event.deadline, tz),
            deadline_short: {
                let dt = tz.to_datetime(event.deadline);
                format!("{}/{} {}", dt.month(), dt.day(), dt.strftime("%H:%M"))
            },
            countdown,
            countdown_ko,
            countdown_en,
            deadline_passed: totals.days_to_deadline.is_none(),
        }
    }
}

#[derive(Serialize)]
struct AttentionView {
    kind: String,
    bg: &'static str,
    fg: &'static str,
    at: String,
    sender: Option<String>,
    subject: Option<String>,
    detail: String,
}

impl AttentionView {
    fn new(a: &Attention, tz: &TimeZone) -> AttentionView {
        let (bg, fg) = a.kind.colors();
        AttentionView {
            kind: a.kind.label(),
            bg,
            fg,
            at: short_time_ko(a.at, tz),
            sender: optional(&a.sender),
            subject: optional(&a.subject),
            detail: one_line(&a.detail, MAX_EXCERPT),
        }
    }
}

#[derive(Serialize)]
struct AppView {
    no: String,
    /// `[ws-2211]`, with several events.
    event: Option<String>,
    received: String,
    name: Option<String>,
    organization: Option<String>,
    position: Option<String>,
    phone: Option<String>,
    email: String,
    attendees: u32,
    /// Only for applications not (or no longer) accepted: `대기 (waitlisted)`.
    status: Option<String>,
    status_bg: &'static str,
    status_fg: &'static str,
}

impl AppView {
    fn new(a: &Application, tz: &TimeZone, several: bool) -> AppView {
        let (ko, en) = status_words(a.status);
        let (status_bg, status_fg) = match a.status {
            Status::Accepted => ("#e3f4e8", "#1e6b34"),
            Status::Waitlisted => ("#fff3cd", "#7a5200"),
            Status::Cancelled => ("#eceff3", "#374151"),
            Status::Late => ("#fde2e1", "#9b1c1c"),
        };
        AppView {
            no: application_number(a.id),
            event: several.then(|| a.event.tag()),
            received: short_time_ko(a.received_at, tz),
            name: optional(&a.fields.name),
            organization: optional(&a.fields.organization),
            position: optional(&a.fields.position),
            phone: optional(&a.fields.phone),
            email: one_line(&a.email, MAX_EXCERPT),
            attendees: attendees(a),
            status: (a.status != Status::Accepted).then(|| format!("{ko} ({en})")),
            status_bg,
            status_fg,
        }
    }
}

#[derive(Serialize)]
struct ChangeView {
    no: String,
    name: Option<String>,
    at: String,
    what: String,
}

impl ChangeView {
    fn new(c: &ChangeNote, tz: &TimeZone) -> ChangeView {
        ChangeView {
            no: one_line(&c.application_no, 40),
            name: optional(&c.name),
            at: short_time_ko(c.at, tz),
            what: one_line(&c.what, MAX_EXCERPT),
        }
    }
}

#[derive(Serialize)]
struct MailboxView {
    at: String,
    ko: String,
    en: String,
}

impl MailboxView {
    fn new(m: &MailboxNote, tz: &TimeZone) -> MailboxView {
        let (ko, en) = mailbox_sentence(m);
        MailboxView { at: short_time_ko(m.at, tz), ko, en }
    }
}

#[derive(Serialize)]
struct NoteView {
    ko: String,
    en: String,
}

impl NoteView {
    fn new(note: &super::RetentionNote) -> NoteView {
        let (ko, en) = super::retention::sentence(note);
        NoteView { ko: one_line(&ko, 2 * MAX_EXCERPT), en: one_line(&en, 2 * MAX_EXCERPT) }
    }
}

#[derive(Serialize)]
struct ChartView {
    width: u32,
    height: u32,
    first: String,
    last: String,
    total: u32,
    peak: u32,
    peak_day: String,
    /// `11/16 08:30`: when the last day shown is still in progress, up to when it is counted.
    partial: Option<String>,
    /// The most recent days as text bars, for the plain-text part.
    rows: Vec<ChartRow>,
}

#[derive(Serialize)]
struct ChartRow {
    day: String,
    bar: String,
    count: u32,
}

impl ChartView {
    fn new(per_day: &[(Date, u32)], generated_at: Timestamp, tz: &TimeZone) -> ChartView {
        let now = tz.to_datetime(generated_at);
        let short = |d: Date| format!("{}/{}", d.month(), d.day());
        let peak = per_day.iter().copied().min_by_key(|&(d, n)| (Reverse(n), Reverse(d)));
        let max = peak.map_or(0, |(_, n)| n).max(1);
        ChartView {
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
            first: per_day.first().map(|&(d, _)| short(d)).unwrap_or_default(),
            last: per_day.last().map(|&(d, _)| short(d)).unwrap_or_default(),
            total: per_day.iter().map(|&(_, n)| n).sum(),
            peak: peak.map_or(0, |(_, n)| n),
            peak_day: peak.map(|(d, _)| short(d)).unwrap_or_default(),
            partial: per_day
                .last()
                .filter(|&&(d, _)| d == now.date())
                .map(|&(d, _)| format!("{} {}", short(d), now.strftime("%H:%M"))),
            rows: per_day[per_day.len().saturating_sub(14)..]
                .iter()
                .map(|&(d, n)| ChartRow {
                    day: format!("{:>5} ({})", short(d), weekday_ko(d)),
                    bar: "█".repeat(((n as usize) * 30).div_ceil(max as usize)),
                    count: n,
                })
                .collect(),
        }
    }
}
