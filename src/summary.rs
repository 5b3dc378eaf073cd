//! The staff's daily summary: one mail saying where registration stands, what needs a person and
//! what changed, with a chart of applications per day and the full list attached as XLSX and CSV.
//!
//! Everything here is pure: the caller reads the database and the clock and hands them over in a
//! [`SummaryInput`]; [`render`] returns the subject, both bodies and the attachments as bytes.
//! Nothing here sends mail. The parts are meant to be assembled as
//!
//! ```text
//! multipart/mixed
//! ├── multipart/related
//! │   ├── multipart/alternative
//! │   │   ├── text/plain; charset=utf-8      Summary::text
//! │   │   └── text/html; charset=utf-8       Summary::html, shows the chart as <img src="cid:chart">
//! │   └── image/png, Content-ID: <chart>, inline      Summary::chart_png
//! ├── XLSX_MIME, attachment, Summary::xlsx_filename   Summary::xlsx
//! └── text/csv; charset=utf-8, attachment             Summary::csv (starts with a UTF-8 BOM)
//! ```
//!
//! Text that came from applicants (names, organizations, subjects, excerpts) is made one line
//! (control and bidirectional-override characters removed) and the HTML is rendered by minijinja
//! with HTML auto-escaping, so no applicant text can become markup. The chart draws its few
//! digits with a bitmap font defined here: no system font is needed at run time.

use std::cmp::Reverse;

use anyhow::{Context, Result};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use serde::Serialize;

use crate::domain::Status;
use crate::reply::application_number;
use crate::store::Application;

/// The Content-ID of the chart: the HTML shows it as `<img src="cid:chart">`.
pub const CHART_CID: &str = "chart";
/// The MIME type of [`Summary::xlsx`].
pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The chart shows at most this many days (the most recent ones).
pub const CHART_DAYS: usize = 120;
/// The mail lists at most this many rows per section; the attachments always hold everything.
/// (Gmail cuts off messages over about 100 KB.)
const MAX_ROWS: usize = 100;
/// Applicant text is cut to this many characters in the mail.
const MAX_EXCERPT: usize = 240;
/// Excel refuses longer strings in a cell.
const MAX_CELL: usize = 32_767;

/// Everything the summary is made of. The caller reads it from the database and the clock.
#[derive(Debug, Clone)]
pub struct SummaryInput {
    pub event_name: String,
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
    pub deadline: Timestamp,
    /// Seats, counted in people (the sum of `attendees` over accepted applications).
    pub capacity: Option<u32>,
    /// Every application, in any order.
    pub applications: Vec<Application>,
    /// What is still waiting for a person, whenever it happened.
    pub needs_person: Vec<Attention>,
    /// Updates and cancellations since the previous summary.
    pub changes: Vec<ChangeNote>,
    /// What the daemon noticed about the mailbox (any time; those since the previous summary
    /// are shown).
    pub mailbox: Vec<MailboxNote>,
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
pub const STALE_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

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
    /// A reply that failed or bounced.
    ReplyFailed,
    /// Held because the sender looks forged.
    ForgedSender,
    /// Dropped or cut by a size limit.
    TooLarge,
    Other,
}

impl AttentionKind {
    pub const ALL: [AttentionKind; 7] = [
        AttentionKind::Review,
        AttentionKind::Inquiry,
        AttentionKind::Unclassified,
        AttentionKind::ReplyFailed,
        AttentionKind::ForgedSender,
        AttentionKind::TooLarge,
        AttentionKind::Other,
    ];

    pub fn ko(self) -> &'static str {
        match self {
            AttentionKind::Review => "검토 필요",
            AttentionKind::Inquiry => "문의",
            AttentionKind::Unclassified => "분류 안 됨",
            AttentionKind::ReplyFailed => "회신 실패",
            AttentionKind::ForgedSender => "발신자 위조 의심",
            AttentionKind::TooLarge => "크기 초과",
            AttentionKind::Other => "기타",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            AttentionKind::Review => "Review",
            AttentionKind::Inquiry => "Inquiry",
            AttentionKind::Unclassified => "Unclassified",
            AttentionKind::ReplyFailed => "Reply failed",
            AttentionKind::ForgedSender => "Forged sender?",
            AttentionKind::TooLarge => "Too large",
            AttentionKind::Other => "Other",
        }
    }

    /// `문의 (Inquiry)`
    pub fn label(self) -> String {
        format!("{} ({})", self.ko(), self.en())
    }

    /// Badge colours in the HTML: (background, text).
    fn colors(self) -> (&'static str, &'static str) {
        match self {
            AttentionKind::Review | AttentionKind::TooLarge => ("#fff3cd", "#7a5200"),
            AttentionKind::Inquiry => ("#e1ecff", "#1d4a9a"),
            AttentionKind::ReplyFailed | AttentionKind::ForgedSender => ("#fde2e1", "#9b1c1c"),
            AttentionKind::Unclassified | AttentionKind::Other => ("#eceff3", "#374151"),
        }
    }
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

/// What a [`MailboxNote`] means, in plain words: (Korean, English).
pub fn mailbox_sentence(note: &MailboxNote) -> (String, String) {
    let is_inbox = note.mailbox.eq_ignore_ascii_case("INBOX");
    let (where_ko, where_en) = if is_inbox {
        ("받은편지함".to_owned(), "the inbox".to_owned())
    } else {
        let name = one_line(&note.mailbox, 80);
        (format!("메일함 '{name}'"), format!("the folder '{name}'"))
    };
    let rescan = |recognised: Option<u64>, recorded: Option<u64>| {
        match (recognised, recorded) {
        (Some(r), Some(n)) => (
            format!(
                "모든 메일을 다시 확인했습니다: {r}건은 이미 기록된 메일로 확인되어 다시 처리하지 않았고, 새 메일 {n}건을 기록했습니다. 이미 기록된 메일은 하나도 잃지 않았습니다."
            ),
            format!(
                "Every message in it was checked again: {r} {} recognised as already recorded (not processed or answered again), {n} new {} recorded. Nothing recorded before was lost.",
                plural(r, "message was", "messages were"),
                plural(n, "message was", "messages were"),
            ),
        ),
        _ => (
            "모든 메일을 다시 확인하는 중입니다. 이미 기록된 메일은 내용으로 알아보고 다시 처리하지 않습니다.".to_owned(),
            "Every message in it is being checked again; already recorded ones are recognised by their content and not processed again.".to_owned(),
        ),
    }
    };
    match note.what {
        MailboxHappening::Reset { recognised, recorded } => {
            let (ko, en) = rescan(recognised, recorded);
            (
                format!("서버가 {where_ko}을(를) 초기화했습니다 (UIDVALIDITY 변경). {ko}"),
                format!("{} was reset by the server (UIDVALIDITY changed). {en}", capitalized(&where_en)),
            )
        }
        MailboxHappening::NumberingWentBack { recognised, recorded } => {
            let (ko, en) = rescan(recognised, recorded);
            (
                format!("{where_ko}의 메일 번호가 뒤로 돌아갔습니다 (UIDNEXT 감소, 예: 백업에서 복원). {ko}"),
                format!(
                    "The message numbering of {where_en} went backwards (UIDNEXT decreased, e.g. restored from a backup). {en}"
                ),
            )
        }
        MailboxHappening::Vanished { count } => (
            format!(
                "메일 {count}건이 읽기 전에 {where_ko}에서 사라졌습니다 (누군가 옮기거나 삭제함). 다른 폴더나 휴지통을 확인해 주세요."
            ),
            format!(
                "{count} {} from {where_en} before {} could be read (moved or deleted by someone). Look for {} in the other folders or the trash.",
                plural(count, "message disappeared", "messages disappeared"),
                plural(count, "it", "they"),
                plural(count, "it", "them"),
            ),
        ),
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
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

/// Count the applications by status and work out seats and days left.
pub fn totals(input: &SummaryInput) -> Totals {
    let mut totals = Totals {
        accepted: 0,
        attendees: 0,
        waitlisted: 0,
        cancelled: 0,
        late: 0,
        capacity_left: None,
        days_to_deadline: None,
    };
    for app in &input.applications {
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
    totals.capacity_left = input.capacity.map(|c| i64::from(c) - i64::from(totals.attendees));
    totals.days_to_deadline = (input.generated_at <= input.deadline).then(|| {
        let today = input.timezone.to_datetime(input.generated_at).date();
        let last_day = input.timezone.to_datetime(input.deadline).date();
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

/// Render the whole summary.
///
/// New applications are those recorded after the previous summary's last one (all of them when
/// there is no previous summary).
pub fn render(input: &SummaryInput) -> Result<Summary> {
    let tz = &input.timezone;
    let totals = totals(input);

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

    let mut per_day = applications_per_day(&input.applications, tz);
    pad_to(&mut per_day, input.day);
    let per_day = &per_day[per_day.len().saturating_sub(CHART_DAYS)..];

    let day = input.day.strftime("%Y-%m-%d").to_string();
    let stale = stale_mailbox(input);
    let mut subject = subject(&input.event_name, &day, new.len(), new_people, attention.len());
    if stale.is_some() {
        subject = subject.replacen("[smebridge] ", "[smebridge] ⚠ 메일함 미확인 (mailbox not read) · ", 1);
    }
    let view = View {
        subject: subject.clone(),
        event_name: one_line(&input.event_name, MAX_EXCERPT),
        day: date_ko(input.day),
        as_of: as_of(input.day, input.generated_at, tz),
        tz_name: tz.iana_name().unwrap_or("UTC").to_string(),
        since: input.previous.map(|p| time_ko(p.at, tz)),
        last_read: input.last_read.map_or_else(|| "없음 (never)".to_owned(), |t| time_ko(t, tz)),
        stale,
        totals: TotalsView::new(&totals, input, tz),
        attention_count: attention.len(),
        attention_more: attention.len().saturating_sub(MAX_ROWS),
        attention: attention.iter().take(MAX_ROWS).map(|a| AttentionView::new(a, tz)).collect(),
        new_count: new.len(),
        new_people,
        new_more: new.len().saturating_sub(MAX_ROWS),
        new_apps: new.iter().take(MAX_ROWS).map(|a| AppView::new(a, tz)).collect(),
        changes_count: changes.len(),
        changes_more: changes.len().saturating_sub(MAX_ROWS),
        changes: changes.iter().take(MAX_ROWS).map(|c| ChangeView::new(c, tz)).collect(),
        mailbox_more: mailbox.len().saturating_sub(MAX_ROWS),
        mailbox: mailbox.iter().take(MAX_ROWS).map(|m| MailboxView::new(m, tz)).collect(),
        chart: ChartView::new(per_day, input.generated_at, tz),
        xlsx_filename: format!("smebridge-applications-{day}.xlsx"),
        csv_filename: format!("smebridge-applications-{day}.csv"),
    };

    let env = templates()?;
    let html = env.get_template("summary.html")?.render(&view).context("cannot render the summary (HTML)")?;
    let text = env.get_template("summary.txt")?.render(&view).context("cannot render the summary (text)")?;
    Ok(Summary {
        subject,
        text,
        html,
        chart_png: chart_png(per_day)?,
        xlsx: xlsx(&input.applications, &input.needs_person, tz)?,
        csv: csv_with_bom(&input.applications, tz)?,
        xlsx_filename: view.xlsx_filename,
        csv_filename: view.csv_filename,
    })
}

/// The loud warning of a summary made from a mailbox not read lately: never read, read more
/// than [`STALE_AFTER`] before the summary, or not read since the previous summary.
fn stale_mailbox(input: &SummaryInput) -> Option<StaleView> {
    let tz = &input.timezone;
    let Some(read) = input.last_read else {
        return Some(StaleView {
            ko: "smebridge가 메일함을 아직 한 번도 읽지 못했습니다. 받은편지함의 신청이 이 요약에 빠져 있을 수 있습니다. smebridge가 메일함에 로그인할 수 있는지 확인해 주세요 (smebridge check).".to_owned(),
            en: "smebridge has never read the mailbox: applications in the inbox may be missing from this summary. Check that smebridge can log in to the mailbox (smebridge check).".to_owned(),
        });
    };
    let age = input.generated_at.duration_since(read);
    let before_previous = input.previous.is_some_and(|p| read <= p.at);
    if age <= STALE_AFTER && !before_previous {
        return None;
    }
    let when = time_ko(read, tz);
    let (ago_ko, ago_en) = span_words(age);
    let (also_ko, also_en) = if before_previous {
        (" 지난 요약 이후로는 한 번도 읽지 못했습니다.", " It has not been read since the previous summary.")
    } else {
        ("", "")
    };
    Some(StaleView {
        ko: format!(
            "메일함을 마지막으로 읽은 때는 {when} ({ago_ko} 전)입니다.{also_ko} 그 뒤에 온 메일은 이 요약에 없습니다. smebridge가 메일함에 로그인할 수 있는지 확인해 주세요 (smebridge check)."
        ),
        en: format!(
            "The mailbox was last read at {when}, {ago_en} before this summary.{also_en} Mail that arrived after that is not in this summary. Check that smebridge can log in to the mailbox (smebridge check)."
        ),
    })
}

/// `3시간 5분`, `3 h 5 min`; whole days past two days.
fn span_words(d: jiff::SignedDuration) -> (String, String) {
    let minutes = d.as_secs().max(0) / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days >= 2 {
        (format!("{days}일"), format!("{days} days"))
    } else {
        let hours = hours + days * 24;
        (format!("{hours}시간 {mins}분"), format!("{hours} h {mins} min"))
    }
}

/// `[smebridge] 중소기업 R&D 워크숍 신청 현황 2022-11-16 (신규 3건·4명, 확인 필요 2건)`
fn subject(event_name: &str, day: &str, new: usize, new_people: u32, attention: usize) -> String {
    let mut notes =
        vec![if new == 0 { "새 신청 없음".to_string() } else { format!("신규 {new}건·{new_people}명") }];
    if attention > 0 {
        notes.push(format!("확인 필요 {attention}건"));
    }
    format!("[smebridge] {} 신청 현황 {day} ({})", one_line(event_name, 120), notes.join(", "))
}

/// Extend the series with zero days up to `day`, so the chart ends on the summary's day.
fn pad_to(per_day: &mut Vec<(Date, u32)>, day: Date) {
    let Some(&(last, _)) = per_day.last() else {
        per_day.push((day, 0));
        return;
    };
    per_day.extend(last.series(Span::new().days(1)).skip(1).take_while(|d| *d <= day).map(|d| (d, 0)));
}

fn attendees(app: &Application) -> u32 {
    app.fields.attendees.unwrap_or(1)
}

fn sorted(apps: &[Application]) -> Vec<Application> {
    let mut apps = apps.to_vec();
    apps.sort_by_key(|a| (a.received_at, a.id));
    apps
}

fn status_label(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Accepted => ("신청", "accepted"),
        Status::Waitlisted => ("대기", "waitlisted"),
        Status::Cancelled => ("취소", "cancelled"),
        Status::Late => ("마감 후", "late"),
    }
}

// --- text helpers --------------------------------------------------------------------------------

/// Applicant text on one line: whitespace and control characters collapsed to single spaces,
/// invisible formatting (zero-width, bidirectional overrides) removed, at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let mut words = s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty());
    let mut line = words.next().unwrap_or("").to_string();
    for word in words {
        line.push(' ');
        line.push_str(word);
    }
    line.retain(|c| !is_invisible(c));
    if line.chars().count() > max {
        line = line.chars().take(max.saturating_sub(1)).collect::<String>();
        line.push('…');
    }
    line
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn optional(s: &Option<String>) -> Option<String> {
    s.as_deref().map(|s| one_line(s, MAX_EXCERPT)).filter(|s| !s.is_empty())
}

const WEEKDAYS_KO: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];

fn weekday_ko(d: Date) -> &'static str {
    WEEKDAYS_KO[d.weekday().to_monday_zero_offset() as usize]
}

/// `2022-11-16 (수)`
fn date_ko(d: Date) -> String {
    format!("{} ({})", d.strftime("%Y-%m-%d"), weekday_ko(d))
}

/// `2022-11-16 (수) 09:05`
fn time_ko(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    format!("{} {}", date_ko(dt.date()), dt.strftime("%H:%M"))
}

/// `08:30` on the summary's day, else the full time.
fn as_of(day: Date, t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    if dt.date() == day {
        dt.strftime("%H:%M").to_string()
    } else {
        time_ko(t, tz)
    }
}

/// `11/16 (수) 09:05`
fn short_time_ko(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    format!("{}/{} ({}) {}", dt.month(), dt.day(), weekday_ko(dt.date()), dt.strftime("%H:%M"))
}

/// How many columns a string takes in a fixed-width layout (Excel column widths): Hangul, CJK
/// and full-width forms count 2.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\u{1100}'..='\u{115F}'
            | '\u{2E80}'..='\u{A4CF}'
            | '\u{AC00}'..='\u{D7A3}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF00}'..='\u{FF60}'
            | '\u{FFE0}'..='\u{FFE6}' => 2,
            _ => 1,
        })
        .sum()
}

// --- what the templates see ----------------------------------------------------------------------

#[derive(Serialize)]
struct View {
    subject: String,
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
    totals: TotalsView,
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
    mailbox_more: usize,
    chart: ChartView,
    xlsx_filename: String,
    csv_filename: String,
}

#[derive(Serialize)]
struct StaleView {
    ko: String,
    en: String,
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
    fn new(totals: &Totals, input: &SummaryInput, tz: &TimeZone) -> TotalsView {
        let (countdown, countdown_ko, countdown_en) = match totals.days_to_deadline {
            None => ("마감".to_string(), "마감됨".to_string(), "deadline passed".to_string()),
            Some(0) => ("D-day".to_string(), "오늘 마감".to_string(), "closes today".to_string()),
            Some(1) => ("D-1".to_string(), "마감까지 1일".to_string(), "1 day left".to_string()),
            Some(n) => (format!("D-{n}"), format!("마감까지 {n}일"), format!("{n} days left")),
        };
        TotalsView {
            accepted: totals.accepted,
            attendees: totals.attendees,
            waitlisted: totals.waitlisted,
            cancelled: totals.cancelled,
            late: totals.late,
            capacity: input.capacity,
            seats_left: totals.capacity_left,
            over_capacity: totals.capacity_left.is_some_and(|n| n < 0),
            over_by: -totals.capacity_left.unwrap_or(0),
            deadline: time_ko(input.deadline, tz),
            deadline_short: {
                let dt = tz.to_datetime(input.deadline);
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
    fn new(a: &Application, tz: &TimeZone) -> AppView {
        let (ko, en) = status_label(a.status);
        let (status_bg, status_fg) = match a.status {
            Status::Accepted => ("#e3f4e8", "#1e6b34"),
            Status::Waitlisted => ("#fff3cd", "#7a5200"),
            Status::Cancelled => ("#eceff3", "#374151"),
            Status::Late => ("#fde2e1", "#9b1c1c"),
        };
        AppView {
            no: application_number(a.id),
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

fn templates() -> Result<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    // The name decides escaping: `.html` is auto-escaped, `.txt` is not.
    env.add_template_owned("summary.html", HTML_TEMPLATE.replace("$FONT", FONT))?;
    env.add_template("summary.txt", TEXT_TEMPLATE)?;
    Ok(env)
}

/// Outlook does not inherit fonts into table cells, so every cell names them.
const FONT: &str =
    "font-family:'Malgun Gothic','맑은 고딕','Apple SD Gothic Neo','Noto Sans KR','Noto Sans CJK KR',Arial,sans-serif;";

const HTML_TEMPLATE: &str = r##"<!DOCTYPE html>
<html lang="ko">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ subject }}</title>
</head>
<body style="margin:0;padding:0;background-color:#eef1f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#eef1f5" style="background-color:#eef1f5;">
<tr><td align="center" style="padding:20px 8px;">
<table role="presentation" width="720" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:720px;max-width:100%;background-color:#ffffff;border:1px solid #d9dee7;">
<tr><td bgcolor="#1f3a68" style="background-color:#1f3a68;padding:18px 24px;$FONT color:#ffffff;">
<div style="font-size:13px;color:#c9d4e8;">smebridge · 신청 현황 (Registration summary)</div>
<div style="font-size:21px;font-weight:bold;line-height:1.35;color:#ffffff;margin:2px 0;">{{ event_name }}</div>
<div style="font-size:13px;color:#c9d4e8;">{{ day }} · {{ as_of }} 기준 (as of) · 메일함 확인 (mailbox last read) {{ last_read }}</div>
</td></tr>
{% if stale %}
<tr><td bgcolor="#b42318" style="background-color:#b42318;padding:14px 24px;$FONT font-size:14px;line-height:1.5;color:#ffffff;">
<div style="font-size:17px;font-weight:bold;color:#ffffff;">⚠ 메일함을 읽지 못했습니다 (The mailbox has not been read)</div>
<div style="color:#ffffff;">{{ stale.ko }}</div>
<div style="font-size:13px;color:#fde2e1;">{{ stale.en }}</div>
</td></tr>
{% endif %}

<tr><td style="padding:20px 24px 4px 24px;$FONT font-size:14px;line-height:1.5;color:#1f2937;">
<div style="font-size:16px;font-weight:bold;color:#1f3a68;margin:0 0 10px 0;">현황 (Where registration stands)</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
<tr>
<td valign="top" bgcolor="#f3f6fb" style="background-color:#f3f6fb;border-left:4px solid #1f3a68;padding:10px 12px;$FONT">
<div style="font-size:12px;color:#4b5563;">신청 (Accepted)</div>
<div style="font-size:26px;font-weight:bold;color:#111827;line-height:1.2;">{{ totals.accepted }}<span style="font-size:13px;font-weight:normal;color:#4b5563;"> 건</span></div>
</td>
<td width="8" style="width:8px;font-size:1px;">&nbsp;</td>
<td valign="top" bgcolor="#f3f6fb" style="background-color:#f3f6fb;border-left:4px solid #1f3a68;padding:10px 12px;$FONT">
<div style="font-size:12px;color:#4b5563;">참석 인원 (Attendees)</div>
<div style="font-size:26px;font-weight:bold;color:#111827;line-height:1.2;">{{ totals.attendees }}<span style="font-size:13px;font-weight:normal;color:#4b5563;"> 명</span></div>
</td>
{% if totals.capacity is not none %}
<td width="8" style="width:8px;font-size:1px;">&nbsp;</td>
{% if totals.over_capacity %}
<td valign="top" bgcolor="#fdecec" style="background-color:#fdecec;border-left:4px solid #b42318;padding:10px 12px;$FONT">
<div style="font-size:12px;color:#4b5563;">정원 초과 (Over capacity)</div>
<div style="font-size:26px;font-weight:bold;color:#b42318;line-height:1.2;">{{ totals.over_by }}<span style="font-size:13px;font-weight:normal;color:#4b5563;"> 명 / 정원 {{ totals.capacity }}</span></div>
</td>
{% else %}
<td valign="top" bgcolor="#f3f6fb" style="background-color:#f3f6fb;border-left:4px solid #1f3a68;padding:10px 12px;$FONT">
<div style="font-size:12px;color:#4b5563;">잔여 좌석 (Seats left)</div>
<div style="font-size:26px;font-weight:bold;color:#111827;line-height:1.2;">{{ totals.seats_left }}<span style="font-size:13px;font-weight:normal;color:#4b5563;"> / {{ totals.capacity }}</span></div>
</td>
{% endif %}
{% endif %}
<td width="8" style="width:8px;font-size:1px;">&nbsp;</td>
<td valign="top" bgcolor="{{ '#f3f4f6' if totals.deadline_passed else '#fff7e6' }}" style="background-color:{{ '#f3f4f6' if totals.deadline_passed else '#fff7e6' }};border-left:4px solid {{ '#6b7280' if totals.deadline_passed else '#d97706' }};padding:10px 12px;$FONT">
<div style="font-size:12px;color:#4b5563;">{{ totals.countdown_ko }} ({{ totals.countdown_en }})</div>
<div style="font-size:26px;font-weight:bold;color:#111827;line-height:1.2;">{{ totals.countdown }}<span style="font-size:12px;font-weight:normal;color:#4b5563;"> {{ totals.deadline_short }}</span></div>
</td>
</tr>
</table>
<div style="font-size:13px;color:#4b5563;margin:10px 0 0 0;">대기 (Waitlisted) <b style="color:#111827;">{{ totals.waitlisted }}</b>건 &nbsp;·&nbsp; 취소 (Cancelled) <b style="color:#111827;">{{ totals.cancelled }}</b>건 &nbsp;·&nbsp; 마감 후 접수 (Late) <b style="color:#111827;">{{ totals.late }}</b>건</div>
</td></tr>

<tr><td style="padding:18px 24px 4px 24px;$FONT font-size:14px;color:#1f2937;">
<div style="font-size:15px;font-weight:bold;color:#1f3a68;margin:0 0 6px 0;">일별 신청 (Applications per day)</div>
<img src="cid:chart" width="{{ chart.width }}" height="{{ chart.height }}" alt="일별 신청 건수 그래프 (Applications per day), {{ chart.first }}–{{ chart.last }}, 최대 {{ chart.peak }}건" style="display:block;width:100%;max-width:{{ chart.width }}px;height:auto;border:0;">
<div style="font-size:12px;color:#6b7280;margin:4px 0 0 0;">{{ chart.first }} – {{ chart.last }} · 합계 (Total) {{ chart.total }}건 · 하루 최대 (Peak) {{ chart.peak }}건{% if chart.peak %} ({{ chart.peak_day }}){% endif %}{% if chart.partial %} · 진한 막대는 {{ chart.partial }}까지 (dark bar: today so far){% endif %}</div>
</td></tr>

<tr><td style="padding:22px 24px 4px 24px;$FONT font-size:14px;line-height:1.5;color:#1f2937;">
<div style="font-size:16px;font-weight:bold;color:{{ '#b42318' if attention_count else '#1f3a68' }};margin:0 0 6px 0;">확인 필요 (Needs a person){% if attention_count %} · {{ attention_count }}건{% endif %}</div>
{% if attention %}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">
{% for a in attention %}
<tr>
<td valign="top" width="150" style="width:150px;padding:9px 8px 9px 0;border-top:1px solid #e5e7eb;$FONT font-size:13px;">
<span style="background-color:{{ a.bg }};color:{{ a.fg }};padding:2px 7px;font-size:12px;font-weight:bold;white-space:nowrap;">{{ a.kind }}</span>
<div style="font-size:12px;color:#6b7280;margin:4px 0 0 0;">{{ a.at }}</div>
</td>
<td valign="top" style="padding:9px 0;border-top:1px solid #e5e7eb;$FONT font-size:13px;color:#1f2937;">
{% if a.subject %}<div style="font-weight:bold;">{{ a.subject }}</div>{% endif %}
{% if a.sender %}<div style="font-size:12px;color:#6b7280;">{{ a.sender }}</div>{% endif %}
<div style="color:#374151;">{{ a.detail }}</div>
</td>
</tr>
{% endfor %}
</table>
{% if attention_more %}<div style="font-size:12px;color:#6b7280;margin:4px 0 0 0;">외 {{ attention_more }}건은 첨부한 엑셀의 '확인 필요' 시트에 있습니다 (and {{ attention_more }} more in the attached XLSX).</div>{% endif %}
{% else %}
<div style="font-size:13px;color:#4b5563;">확인할 것이 없습니다 (Nothing needs a person).</div>
{% endif %}
</td></tr>

<tr><td style="padding:22px 24px 4px 24px;$FONT font-size:14px;line-height:1.5;color:#1f2937;">
<div style="font-size:16px;font-weight:bold;color:#1f3a68;margin:0 0 2px 0;">새 신청 (New applications){% if new_count %} · {{ new_count }}건 · {{ new_people }}명{% endif %}</div>
<div style="font-size:12px;color:#6b7280;margin:0 0 8px 0;">{% if since %}지난 요약 이후 (since the last summary, {{ since }}){% else %}첫 요약: 지금까지의 전체 신청 (first summary: everything so far){% endif %}</div>
{% if new_apps %}
<table width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">
<tr bgcolor="#f3f4f6">
<th align="left" style="padding:6px 6px;background-color:#f3f4f6;border-bottom:1px solid #d1d5db;$FONT font-size:12px;color:#374151;">접수 (Received)</th>
<th align="left" style="padding:6px 6px;background-color:#f3f4f6;border-bottom:1px solid #d1d5db;$FONT font-size:12px;color:#374151;">성명 (Name)</th>
<th align="left" style="padding:6px 6px;background-color:#f3f4f6;border-bottom:1px solid #d1d5db;$FONT font-size:12px;color:#374151;">소속 · 직위 (Organization · Position)</th>
<th align="left" style="padding:6px 6px;background-color:#f3f4f6;border-bottom:1px solid #d1d5db;$FONT font-size:12px;color:#374151;">연락처 · 이메일 (Phone · Email)</th>
<th align="right" style="padding:6px 6px;background-color:#f3f4f6;border-bottom:1px solid #d1d5db;$FONT font-size:12px;color:#374151;white-space:nowrap;">인원</th>
</tr>
{% for a in new_apps %}
<tr>
<td valign="top" style="padding:7px 6px;border-bottom:1px solid #e5e7eb;$FONT font-size:12px;color:#4b5563;white-space:nowrap;">{{ a.received }}<div style="color:#9ca3af;">{{ a.no }}</div></td>
<td valign="top" style="padding:7px 6px;border-bottom:1px solid #e5e7eb;$FONT font-size:13px;color:#111827;"><b>{{ a.name or "—" }}</b>{% if a.status %}<div><span style="background-color:{{ a.status_bg }};color:{{ a.status_fg }};padding:1px 6px;font-size:11px;white-space:nowrap;">{{ a.status }}</span></div>{% endif %}</td>
<td valign="top" style="padding:7px 6px;border-bottom:1px solid #e5e7eb;$FONT font-size:13px;color:#111827;">{{ a.organization or "—" }}<div style="font-size:12px;color:#6b7280;">{{ a.position or "" }}</div></td>
<td valign="top" style="padding:7px 6px;border-bottom:1px solid #e5e7eb;$FONT font-size:13px;color:#111827;"><span style="white-space:nowrap;">{{ a.phone or "—" }}</span><div style="font-size:12px;color:#6b7280;word-break:break-all;">{{ a.email }}</div></td>
<td valign="top" align="right" style="padding:7px 6px;border-bottom:1px solid #e5e7eb;$FONT font-size:13px;color:#111827;white-space:nowrap;">{{ a.attendees }}명</td>
</tr>
{% endfor %}
</table>
{% if new_more %}<div style="font-size:12px;color:#6b7280;margin:4px 0 0 0;">외 {{ new_more }}건은 첨부 파일에 있습니다 (and {{ new_more }} more in the attachments).</div>{% endif %}
{% else %}
<div style="font-size:13px;color:#4b5563;">새 신청 없음 (Nothing new).</div>
{% endif %}
</td></tr>

<tr><td style="padding:22px 24px 4px 24px;$FONT font-size:14px;line-height:1.5;color:#1f2937;">
<div style="font-size:16px;font-weight:bold;color:#1f3a68;margin:0 0 6px 0;">변경 · 취소 (Updates and cancellations){% if changes_count %} · {{ changes_count }}건{% endif %}</div>
{% if changes %}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">
{% for c in changes %}
<tr>
<td valign="top" width="110" style="width:110px;padding:7px 6px 7px 0;border-top:1px solid #e5e7eb;$FONT font-size:12px;color:#4b5563;white-space:nowrap;">{{ c.at }}</td>
<td valign="top" width="150" style="width:150px;padding:7px 6px;border-top:1px solid #e5e7eb;$FONT font-size:13px;color:#111827;"><b>{{ c.name or "—" }}</b><div style="font-size:12px;color:#9ca3af;">{{ c.no }}</div></td>
<td valign="top" style="padding:7px 0 7px 6px;border-top:1px solid #e5e7eb;$FONT font-size:13px;color:#1f2937;">{{ c.what }}</td>
</tr>
{% endfor %}
</table>
{% if changes_more %}<div style="font-size:12px;color:#6b7280;margin:4px 0 0 0;">외 {{ changes_more }}건 (and {{ changes_more }} more).</div>{% endif %}
{% else %}
<div style="font-size:13px;color:#4b5563;">변경 없음 (No changes).</div>
{% endif %}
</td></tr>
{% if mailbox %}

<tr><td style="padding:22px 24px 4px 24px;$FONT font-size:14px;line-height:1.5;color:#1f2937;">
<div style="font-size:16px;font-weight:bold;color:#b45309;margin:0 0 6px 0;">메일함 (Mailbox) · {{ mailbox|length + mailbox_more }}건</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">
{% for m in mailbox %}
<tr>
<td valign="top" width="110" style="width:110px;padding:7px 6px 7px 0;border-top:1px solid #e5e7eb;$FONT font-size:12px;color:#4b5563;white-space:nowrap;">{{ m.at }}</td>
<td valign="top" style="padding:7px 0 7px 6px;border-top:1px solid #e5e7eb;$FONT font-size:13px;color:#1f2937;">{{ m.ko }}<div style="font-size:12px;color:#6b7280;">{{ m.en }}</div></td>
</tr>
{% endfor %}
</table>
{% if mailbox_more %}<div style="font-size:12px;color:#6b7280;margin:4px 0 0 0;">외 {{ mailbox_more }}건 (and {{ mailbox_more }} more).</div>{% endif %}
</td></tr>
{% endif %}

<tr><td style="padding:22px 24px 20px 24px;$FONT font-size:12px;line-height:1.6;color:#6b7280;">
<div style="border-top:1px solid #e5e7eb;padding:12px 0 0 0;">
<b style="color:#374151;">첨부 (Attachments)</b>: 전체 신청자 목록 (all applications) — {{ xlsx_filename }} (엑셀 Excel), {{ csv_filename }}<br>
시각은 모두 {{ tz_name }} 기준입니다 (all times in {{ tz_name }}). smebridge가 자동으로 보낸 메일입니다 (sent automatically by smebridge).
</div>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"##;

const TEXT_TEMPLATE: &str = r#"{{ event_name }} — 신청 현황 (Registration summary)
{{ day }} · {{ as_of }} 기준 (as of) · 메일함 확인 (mailbox last read): {{ last_read }}
{% if stale %}

!!! 경고 (WARNING) !!!
{{ stale.ko }}
{{ stale.en }}
{% endif %}

■ 현황 (Where registration stands)
  신청 (Accepted): {{ totals.accepted }}건
  참석 인원 (Attendees): {{ totals.attendees }}명
{% if totals.capacity is not none %}
{% if totals.over_capacity %}
  정원 초과 (Over capacity): {{ totals.over_by }}명 (정원 capacity {{ totals.capacity }}명)
{% else %}
  잔여 좌석 (Seats left): {{ totals.seats_left }} / {{ totals.capacity }}
{% endif %}
{% endif %}
  대기 (Waitlisted): {{ totals.waitlisted }}건 · 취소 (Cancelled): {{ totals.cancelled }}건 · 마감 후 접수 (Late): {{ totals.late }}건
  마감 (Deadline): {{ totals.deadline }} · {{ totals.countdown }} {{ totals.countdown_ko }} ({{ totals.countdown_en }})

■ 확인 필요 (Needs a person): {{ attention_count }}건
{% for a in attention %}
  {{ loop.index }}. [{{ a.kind }}] {{ a.at }}{% if a.sender %} · {{ a.sender }}{% endif %}

{% if a.subject %}
     제목 (Subject): {{ a.subject }}
{% endif %}
     {{ a.detail }}
{% else %}
  확인할 것이 없습니다 (Nothing needs a person).
{% endfor %}
{% if attention_more %}
  … 외 {{ attention_more }}건: 첨부한 엑셀의 '확인 필요' 시트 (and {{ attention_more }} more in the attached XLSX)
{% endif %}

■ 새 신청 (New applications): {{ new_count }}건 · {{ new_people }}명
{% if since %}
  지난 요약 이후 (since the last summary, {{ since }})
{% else %}
  첫 요약: 지금까지의 전체 신청 (first summary: everything so far)
{% endif %}
{% for a in new_apps %}
  {{ loop.index }}. {{ a.name or "(이름 없음 no name)" }}{% if a.status %} [{{ a.status }}]{% endif %} · {{ a.organization or "-" }} · {{ a.position or "-" }}
     {{ a.phone or "-" }} · {{ a.email }} · {{ a.attendees }}명 · {{ a.received }} · {{ a.no }}
{% else %}
  새 신청 없음 (Nothing new).
{% endfor %}
{% if new_more %}
  … 외 {{ new_more }}건은 첨부 파일에 있습니다 (and {{ new_more }} more in the attachments)
{% endif %}

■ 변경 · 취소 (Updates and cancellations): {{ changes_count }}건
{% for c in changes %}
  {{ loop.index }}. {{ c.at }} · {{ c.name or "-" }} ({{ c.no }}): {{ c.what }}
{% else %}
  변경 없음 (No changes).
{% endfor %}
{% if changes_more %}
  … 외 {{ changes_more }}건 (and {{ changes_more }} more)
{% endif %}
{% if mailbox %}

■ 메일함 (Mailbox): {{ mailbox|length + mailbox_more }}건
{% for m in mailbox %}
  {{ loop.index }}. {{ m.at }} · {{ m.ko }}
     {{ m.en }}
{% endfor %}
{% if mailbox_more %}
  … 외 {{ mailbox_more }}건 (and {{ mailbox_more }} more)
{% endif %}
{% endif %}

■ 일별 신청 (Applications per day), {{ chart.first }} – {{ chart.last }}: 합계 (Total) {{ chart.total }}건
{% if chart.partial %}
  (마지막 날은 {{ chart.partial }}까지 / last day so far)
{% endif %}
{% for r in chart.rows %}
  {{ r.day }} {{ r.bar }} {{ r.count }}
{% endfor %}

첨부 (Attachments): {{ xlsx_filename }}, {{ csv_filename }}
시각은 모두 {{ tz_name }} 기준입니다 (all times in {{ tz_name }}).
smebridge가 자동으로 보낸 메일입니다 (sent automatically by smebridge).
"#;

// --- attachments ---------------------------------------------------------------------------------

/// The XLSX headers of the applications sheet; see [`xlsx`].
const XLSX_COLUMNS: [&str; 10] = [
    "신청번호 (No.)",
    "성명 (Name)",
    "소속 (Organization)",
    "직위 (Position)",
    "연락처 (Phone)",
    "이메일 (Email)",
    "인원 (Attendees)",
    "상태 (Status)",
    "접수 시각 (Received)",
    "첨부 (Attachments)",
];

const REVIEW_COLUMNS: [&str; 5] =
    ["종류 (Kind)", "시각 (Time)", "보낸 사람 (Sender)", "제목 (Subject)", "내용 (Detail)"];

/// The workbook: sheet `신청자` (every application, oldest first; arrival times as Excel date
/// cells in the event's time zone) and sheet `확인 필요` (what needs a person). Both have a
/// bold, frozen header row with an autofilter, and columns wide enough for Hangul.
pub fn xlsx(apps: &[Application], needs_person: &[Attention], tz: &TimeZone) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let header =
        Format::new().set_bold().set_background_color(Color::RGB(0xDCE4F0)).set_border_bottom(FormatBorder::Thin);
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm").set_align(FormatAlign::Left);
    let plain = Format::new();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);

    let sheet = book.add_worksheet();
    sheet.set_name("신청자")?;
    let mut widths = Widths::new(&XLSX_COLUMNS);
    for (col, title) in XLSX_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    let apps = sorted(apps);
    for (i, app) in apps.iter().enumerate() {
        let row = i as u32 + 1;
        let f = &app.fields;
        let (ko, en) = status_label(app.status);
        let texts = [
            (0, application_number(app.id)),
            (1, f.name.clone().unwrap_or_default()),
            (2, f.organization.clone().unwrap_or_default()),
            (3, f.position.clone().unwrap_or_default()),
            (4, f.phone.clone().unwrap_or_default()),
            (5, app.email.clone()),
            (7, format!("{ko} ({en})")),
            (9, crate::export::attachments_cell(&app.attachments)),
        ];
        for (col, value) in texts {
            write_text(sheet, &mut widths, row, col, &value, &plain)?;
        }
        sheet.write_number(row, 6, f64::from(attendees(app)))?;
        write_time(sheet, &mut widths, row, 8, app.received_at, tz, &when)?;
    }
    finish_sheet(sheet, &widths, apps.len())?;

    let sheet = book.add_worksheet();
    sheet.set_name("확인 필요")?;
    let mut widths = Widths::new(&REVIEW_COLUMNS);
    for (col, title) in REVIEW_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    let mut items: Vec<&Attention> = needs_person.iter().collect();
    items.sort_by_key(|a| a.at);
    for (i, item) in items.iter().enumerate() {
        let row = i as u32 + 1;
        write_text(sheet, &mut widths, row, 0, &item.kind.label(), &plain)?;
        write_time(sheet, &mut widths, row, 1, item.at, tz, &when)?;
        write_text(sheet, &mut widths, row, 2, item.sender.as_deref().unwrap_or(""), &plain)?;
        write_text(sheet, &mut widths, row, 3, item.subject.as_deref().unwrap_or(""), &plain)?;
        write_text(sheet, &mut widths, row, 4, &item.detail, &wrap)?;
    }
    finish_sheet(sheet, &widths, items.len())?;

    book.save_to_buffer().context("cannot write the XLSX")
}

/// The widest value seen per column, in display columns.
struct Widths(Vec<usize>);

impl Widths {
    fn new(headers: &[&str]) -> Widths {
        Widths(headers.iter().map(|h| display_width(h)).collect())
    }

    fn see(&mut self, col: u16, width: usize) {
        let w = &mut self.0[col as usize];
        *w = (*w).max(width);
    }
}

fn write_text(
    sheet: &mut Worksheet,
    widths: &mut Widths,
    row: u32,
    col: u16,
    value: &str,
    format: &Format,
) -> Result<()> {
    let value: String =
        if value.chars().count() > MAX_CELL { value.chars().take(MAX_CELL).collect() } else { value.to_string() };
    widths.see(col, value.lines().map(display_width).max().unwrap_or(0));
    sheet.write_string_with_format(row, col, value, format)?;
    Ok(())
}

fn write_time(
    sheet: &mut Worksheet,
    widths: &mut Widths,
    row: u32,
    col: u16,
    t: Timestamp,
    tz: &TimeZone,
    format: &Format,
) -> Result<()> {
    let dt = tz.to_datetime(t);
    let cell = ExcelDateTime::from_ymd(dt.year() as u16, dt.month() as u8, dt.day() as u8)
        .and_then(|d| d.and_hms(dt.hour() as u16, dt.minute() as u8, dt.second()))
        .with_context(|| format!("{dt} cannot be an Excel date"))?;
    widths.see(col, "2022-11-16 09:05".len());
    sheet.write_datetime_with_format(row, col, cell, format)?;
    Ok(())
}

fn finish_sheet(sheet: &mut Worksheet, widths: &Widths, rows: usize) -> Result<()> {
    for (col, width) in widths.0.iter().enumerate() {
        sheet.set_column_width(col as u16, (*width + 2).clamp(8, 60) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows as u32, widths.0.len() as u16 - 1)?;
    Ok(())
}

/// The export CSV (`smebridge export` columns) preceded by a UTF-8 byte order mark, so Excel in
/// Korea opens it as UTF-8 instead of guessing CP949.
pub fn csv_with_bom(apps: &[Application], tz: &TimeZone) -> Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    crate::export::write_csv(&mut out, &sorted(apps), tz)?;
    Ok(out)
}

// --- the chart -----------------------------------------------------------------------------------

/// The chart's size in CSS pixels, as the HTML shows it; the PNG has twice as many pixels each
/// way, so it stays sharp on high-density screens.
const CHART_WIDTH: u32 = 672;
const CHART_HEIGHT: u32 = 160;
const CHART_SCALE: u32 = 2;

const BACKGROUND: [u8; 3] = [0xFF, 0xFF, 0xFF];
const BAR: [u8; 3] = [0x3B, 0x6F, 0xC4];
const LATEST_BAR: [u8; 3] = [0x1F, 0x3A, 0x68];
const AXIS: [u8; 3] = [0xB8, 0xBF, 0xCA];
const GRID: [u8; 3] = [0xEE, 0xF0, 0xF4];
const INK: [u8; 3] = [0x4B, 0x55, 0x63];

/// A bar chart of applications per day as PNG: one bar per day (the latest darker), the count
/// above each bar where it fits (else above the highest and the latest), and `M/D` under every
/// few days, anchored on the latest. Digits come from a built-in bitmap font. At most the last
/// [`CHART_DAYS`] days are drawn.
pub fn chart_png(per_day: &[(Date, u32)]) -> Result<Vec<u8>> {
    let days = &per_day[per_day.len().saturating_sub(CHART_DAYS)..];
    let (width, height) = (CHART_WIDTH * CHART_SCALE, CHART_HEIGHT * CHART_SCALE);
    let mut canvas = Canvas::new(width, height);
    let glyph = 3 * CHART_SCALE / 2; // one bitmap-font pixel
    let text_h = 7 * glyph;
    let margin = 6 * CHART_SCALE;
    let top = margin + text_h + 4 * CHART_SCALE;
    let base = height - margin - text_h - 5 * CHART_SCALE;
    let plot_h = base - top;
    let (left, right) = (margin, width - margin);

    // Faint guide lines at a half and at the full height of the highest bar.
    for y in [top, top + plot_h / 2] {
        canvas.fill(left, y, right - left, CHART_SCALE / 2, GRID);
    }
    canvas.fill(left, base, right - left, CHART_SCALE, AXIS);
    let n = days.len().max(1);
    let slot = f64::from(right - left) / n as f64;
    let bar_w = ((slot * 0.64).round() as u32).clamp(1, 36 * CHART_SCALE);
    let peak = days.iter().map(|&(_, c)| c).max().unwrap_or(0);
    let peak_at = days.iter().position(|&(_, c)| c == peak && c > 0);
    let all_labels_fit =
        days.iter().all(|&(_, c)| f64::from(text_width(&c.to_string(), glyph) + 2 * CHART_SCALE) <= slot);
    let center = |i: usize| f64::from(left) + slot * (i as f64 + 0.5);

    for (i, &(_, count)) in days.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let cx = center(i);
        let h = ((f64::from(count) / f64::from(peak.max(1))) * f64::from(plot_h))
            .round()
            .max(f64::from(2 * CHART_SCALE)) as u32;
        let x = (cx - f64::from(bar_w) / 2.0).round().max(0.0) as u32;
        let color = if i + 1 == days.len() { LATEST_BAR } else { BAR };
        canvas.fill(x, base - h, bar_w, h, color);
        if all_labels_fit || Some(i) == peak_at || i + 1 == days.len() {
            canvas.text_centered(&count.to_string(), cx, base - h - 3 * CHART_SCALE - text_h, glyph, INK);
        }
    }

    // Date labels from the latest day backwards, every `step` days, never overlapping.
    let label_room = f64::from(text_width("12/31", glyph) + 10 * CHART_SCALE);
    let step = ((label_room / slot).ceil() as usize).max(1);
    let mut free_until = f64::from(width);
    for i in (0..days.len()).rev().step_by(step) {
        let label = format!("{}/{}", days[i].0.month(), days[i].0.day());
        let w = f64::from(text_width(&label, glyph));
        let x = (center(i) - w / 2.0).clamp(f64::from(left), f64::from(right) - w);
        if x + w + f64::from(4 * CHART_SCALE) > free_until {
            continue;
        }
        canvas.text(&label, x.round() as u32, base + 5 * CHART_SCALE, glyph, INK);
        free_until = x;
    }
    canvas.encode()
}

/// An RGB image to draw rectangles and bitmap digits on.
struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Canvas {
        Canvas { width, height, pixels: BACKGROUND.repeat((width * height) as usize) }
    }

    /// Fill a rectangle, clipped to the image.
    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
        for row in y..(y + h).min(self.height) {
            for col in x..(x + w).min(self.width) {
                let at = ((row * self.width + col) * 3) as usize;
                self.pixels[at..at + 3].copy_from_slice(&color);
            }
        }
    }

    fn text(&mut self, s: &str, x: u32, y: u32, px: u32, color: [u8; 3]) {
        let mut pen = x;
        for c in s.chars() {
            if let Some(rows) = glyph_rows(c) {
                for (r, bits) in rows.iter().enumerate() {
                    for b in 0..5 {
                        if bits & (0b10000 >> b) != 0 {
                            self.fill(pen + b * px, y + r as u32 * px, px, px, color);
                        }
                    }
                }
            }
            pen += 6 * px;
        }
    }

    fn text_centered(&mut self, s: &str, cx: f64, y: u32, px: u32, color: [u8; 3]) {
        let w = f64::from(text_width(s, px));
        let x = (cx - w / 2.0).clamp(0.0, f64::from(self.width) - w).round() as u32;
        self.text(s, x, y, px, color);
    }

    fn encode(self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().context("cannot start the chart PNG")?;
        writer.write_image_data(&self.pixels).context("cannot write the chart PNG")?;
        writer.finish().context("cannot finish the chart PNG")?;
        Ok(out)
    }
}

fn text_width(s: &str, px: u32) -> u32 {
    (s.chars().count() as u32 * 6).saturating_sub(1) * px
}

/// A 5×7 bitmap font for what the chart writes: digits and `/`. Bit 4 is the leftmost column.
fn glyph_rows(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        '1' => [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        '2' => [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        '3' => [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        '4' => [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        '5' => [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        '6' => [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        '7' => [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        '8' => [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        '9' => [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        '/' => [0b00001, 0b00010, 0b00010, 0b00100, 0b01000, 0b01000, 0b10000],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

    use super::*;
    use crate::domain::ApplicantFields;

    fn seoul() -> TimeZone {
        jiff::tz::db().get("Asia/Seoul").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    struct App<'a> {
        id: i64,
        name: &'a str,
        org: &'a str,
        position: Option<&'a str>,
        phone: &'a str,
        email: &'a str,
        attendees: Option<u32>,
        status: Status,
        received: &'a str,
    }

    fn app(a: App<'_>) -> Application {
        Application {
            id: a.id,
            email: a.email.into(),
            fields: ApplicantFields {
                name: Some(a.name.into()),
                organization: Some(a.org.into()),
                position: a.position.map(Into::into),
                phone: Some(a.phone.into()),
                attendees: a.attendees,
            },
            status: a.status,
            received_at: at(a.received),
            review: None,
            last_message: a.id,
            people: Vec::new(),
            notes: None,
            sources: Default::default(),
            attachments: Vec::new(),
        }
    }

    /// A simple applicant: only the fields the test cares about differ.
    fn simple(id: i64, name: &str, attendees: Option<u32>, status: Status, received: &str) -> Application {
        app(App {
            id,
            name,
            org: "(주)한빛테크",
            position: None,
            phone: "010-1234-5678",
            email: "someone@hanbit-tech.example",
            attendees,
            status,
            received,
        })
    }

    fn input(applications: Vec<Application>) -> SummaryInput {
        SummaryInput {
            event_name: "중소기업 R&D 워크숍".into(),
            timezone: seoul(),
            day: jiff::civil::date(2022, 11, 16),
            generated_at: at("2022-11-16T08:30:00+09:00"),
            previous: Some(Previous { at: at("2022-11-15T08:30:00+09:00"), last_application: 0 }),
            last_read: Some(at("2022-11-16T08:29:58+09:00")),
            deadline: at("2022-11-17T23:59:59+09:00"),
            capacity: Some(40),
            applications,
            needs_person: Vec::new(),
            changes: Vec::new(),
            mailbox: Vec::new(),
        }
    }

    /// A realistic morning: two new applications (one waitlisted), one inquiry, one update.
    fn sample() -> SummaryInput {
        let mut input = input(vec![
            app(App {
                id: 1,
                name: "김민준",
                org: "(주)한빛테크",
                position: Some("책임연구원"),
                phone: "010-1234-5678",
                email: "minjun.kim@hanbit-tech.example",
                attendees: Some(2),
                status: Status::Accepted,
                received: "2022-11-10T10:12:00+09:00",
            }),
            app(App {
                id: 2,
                name: "Jane Doe",
                org: "Acme Robotics Korea",
                position: Some("CTO"),
                phone: "+82-10-3456-7890",
                email: "jane.doe@acme-robotics.example",
                attendees: None,
                status: Status::Cancelled,
                received: "2022-11-12T21:40:00+09:00",
            }),
            app(App {
                id: 3,
                name: "이서연",
                org: "누리바이오(주)",
                position: Some("선임연구원"),
                phone: "010-2345-6789",
                email: "seoyeon.lee@nuri-bio.example",
                attendees: Some(3),
                status: Status::Accepted,
                received: "2022-11-15T16:20:00+09:00",
            }),
            app(App {
                id: 4,
                name: "<script>alert(1)</script>",
                org: "Evil & Sons <b>",
                position: None,
                phone: "010-0000-0000",
                email: "x@evil.example",
                attendees: Some(1),
                status: Status::Waitlisted,
                received: "2022-11-16T07:45:00+09:00",
            }),
        ]);
        input.needs_person = vec![Attention {
            kind: AttentionKind::Inquiry,
            at: at("2022-11-15T11:03:00+09:00"),
            sender: Some("Park <park@daehan.example>".into()),
            subject: Some("주차 <문의>".into()),
            detail: "행사장에 주차가 가능한가요?\n\n감사합니다".into(),
        }];
        input.changes = vec![ChangeNote {
            application_no: "SME-0001".into(),
            name: Some("김민준".into()),
            at: at("2022-11-15T13:00:00+09:00"),
            what: "참석 인원 1 → 2".into(),
        }];
        // The previous summary had counted the first two.
        input.previous = Some(Previous { at: at("2022-11-15T08:30:00+09:00"), last_application: 2 });
        input
    }

    #[test]
    fn totals_count_people_over_accepted_applications_only() {
        let input = input(vec![
            simple(1, "김민준", Some(2), Status::Accepted, "2022-11-10T01:00:00Z"),
            simple(2, "이서연", None, Status::Accepted, "2022-11-11T01:00:00Z"),
            simple(3, "박지훈", Some(5), Status::Late, "2022-11-18T01:00:00Z"),
            simple(4, "최유진", Some(4), Status::Cancelled, "2022-11-12T01:00:00Z"),
            simple(5, "Jane Doe", Some(3), Status::Waitlisted, "2022-11-13T01:00:00Z"),
        ]);
        let t = totals(&input);
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
        input.capacity = Some(3);
        assert_eq!(totals(&input).capacity_left, Some(-2));
        input.capacity = None;
        assert_eq!(totals(&input).capacity_left, None);
    }

    #[test]
    fn days_to_deadline_count_calendar_days_in_the_event_time_zone() {
        let mut input = input(Vec::new());
        let days = |input: &SummaryInput| totals(input).days_to_deadline;
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

    #[test]
    fn xlsx_has_both_sheets_hangul_and_real_date_cells() {
        let input = sample();
        let bytes = xlsx(&input.applications, &input.needs_person, &seoul()).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["신청자", "확인 필요"]);

        let sheet = book.worksheet_range("신청자").unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows.len(), 1 + input.applications.len());
        let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
        assert_eq!(header, XLSX_COLUMNS);
        let first = rows[1];
        let text = |c: &Data| c.to_string();
        assert_eq!(
            first[..6].iter().map(text).collect::<Vec<_>>(),
            ["SME-0001", "김민준", "(주)한빛테크", "책임연구원", "010-1234-5678", "minjun.kim@hanbit-tech.example"]
        );
        assert_eq!(first[6], Data::Float(2.0));
        assert_eq!(first[7].to_string(), "신청 (accepted)");
        let Data::DateTime(received) = &first[8] else { panic!("not a date cell: {:?}", first[8]) };
        assert!(received.is_datetime());
        // 2022-11-10 10:12 in Seoul, as an Excel serial (days since 1899-12-30).
        let expected = f64::from((jiff::civil::date(2022, 11, 10) - jiff::civil::date(1899, 12, 30)).get_days())
            + (10.0 * 60.0 + 12.0) / (24.0 * 60.0);
        assert!((received.as_f64() - expected).abs() < 1e-6, "{} != {expected}", received.as_f64());
        // Missing attendees count as one, like the export.
        assert_eq!(rows[2][1].to_string(), "Jane Doe");
        assert_eq!(rows[2][6], Data::Float(1.0));
        assert_eq!(rows[2][7].to_string(), "취소 (cancelled)");
        // Applicant text is data, never markup or a formula.
        assert_eq!(rows[4][1].to_string(), "<script>alert(1)</script>");

        let review = book.worksheet_range("확인 필요").unwrap();
        let rows: Vec<&[Data]> = review.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0].to_string(), "종류 (Kind)");
        assert_eq!(rows[1][0].to_string(), "문의 (Inquiry)");
        assert!(matches!(&rows[1][1], Data::DateTime(t) if t.is_datetime()));
        assert_eq!(rows[1][3].to_string(), "주차 <문의>");
        assert!(rows[1][4].to_string().contains("주차가 가능한가요?"));
    }

    #[test]
    fn xlsx_columns_are_wide_enough_for_hangul() {
        assert_eq!(display_width("김민준"), 6);
        assert_eq!(display_width("Jane Doe"), 8);
        assert_eq!(display_width("(주)한빛테크"), 12);
        // An empty workbook is still a valid workbook.
        let bytes = xlsx(&[], &[], &seoul()).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.worksheet_range("신청자").unwrap().rows().count(), 1);
    }

    #[test]
    fn csv_starts_with_a_bom_and_round_trips() {
        let input = sample();
        let bytes = csv_with_bom(&input.applications, &seoul()).unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        assert_eq!(reader.headers().unwrap(), &csv::StringRecord::from(crate::export::CSV_COLUMNS.to_vec()));
        let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), input.applications.len());
        assert_eq!(
            records[0].iter().collect::<Vec<_>>(),
            [
                "minjun.kim@hanbit-tech.example",
                "김민준",
                "(주)한빛테크",
                "책임연구원",
                "010-1234-5678",
                "2",
                "accepted",
                "2022-11-10T10:12:00+09:00",
                "SME-0001",
                "", // attachments: none
                "", // people: none named
                "", // notes: none
                "", // sources: not known in this sample
            ]
        );
        assert_eq!(&records[3][1], "<script>alert(1)</script>");
    }

    #[test]
    fn the_mail_states_the_totals_in_both_parts_and_escapes_applicant_text() {
        let summary = render(&sample()).unwrap();
        assert_eq!(
            summary.subject,
            "[smebridge] 중소기업 R&D 워크숍 신청 현황 2022-11-16 (신규 2건·4명, 확인 필요 1건)"
        );

        let html = &summary.html;
        assert!(html.contains(r#"<img src="cid:chart""#));
        assert!(!html.contains("<script"), "applicant text became markup");
        assert!(!html.contains("<b>\""));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(html.contains("Evil &amp; Sons &lt;b&gt;"));
        assert!(html.contains("주차 &lt;문의&gt;"));
        assert!(html.contains("Park &lt;park@daehan.example&gt;"));
        assert!(!html.contains("http://") && !html.contains("https://"), "no external resources");
        // accepted 2 (김민준 2 + 이서연 3 people), seats 40 - 5, D-1
        for needle in [
            "신청 (Accepted)",
            ">2<span",
            "참석 인원 (Attendees)",
            ">5<span",
            "잔여 좌석 (Seats left)",
            ">35<span",
            "D-1",
        ] {
            assert!(html.contains(needle), "HTML lacks {needle:?}");
        }
        assert!(html.contains("대기 (Waitlisted) <b style=\"color:#111827;\">1</b>건"));

        let text = &summary.text;
        for needle in [
            "신청 (Accepted): 2건",
            "참석 인원 (Attendees): 5명",
            "잔여 좌석 (Seats left): 35 / 40",
            "대기 (Waitlisted): 1건 · 취소 (Cancelled): 1건 · 마감 후 접수 (Late): 0건",
            "D-1 마감까지 1일 (1 day left)",
            "■ 새 신청 (New applications): 2건 · 4명",
            "<script>alert(1)</script> [대기 (waitlisted)]",
            "[문의 (Inquiry)] 11/15 (화) 11:03 · Park <park@daehan.example>",
            "행사장에 주차가 가능한가요? 감사합니다",
            "11/15 (화) 13:00 · 김민준 (SME-0001): 참석 인원 1 → 2",
        ] {
            assert!(text.contains(needle), "text lacks {needle:?}:\n{text}");
        }
        // Only the two applications since the previous summary are new.
        assert!(!text.contains("minjun.kim@hanbit-tech.example ·"));
        assert_eq!(summary.xlsx_filename, "smebridge-applications-2022-11-16.xlsx");
        assert!(summary.csv.starts_with(b"\xEF\xBB\xBF"));
        assert!(summary.xlsx.starts_with(b"PK"));
    }

    #[test]
    fn a_day_with_nothing_new_still_gets_a_short_summary() {
        let mut input = input(vec![simple(1, "김민준", Some(2), Status::Accepted, "2022-11-10T10:12:00+09:00")]);
        input.generated_at = at("2022-11-18T08:30:00+09:00");
        input.day = jiff::civil::date(2022, 11, 18);
        input.previous = Some(Previous { at: at("2022-11-17T08:30:00+09:00"), last_application: 1 });
        input.last_read = Some(at("2022-11-18T08:29:00+09:00"));
        let summary = render(&input).unwrap();
        assert_eq!(summary.subject, "[smebridge] 중소기업 R&D 워크숍 신청 현황 2022-11-18 (새 신청 없음)");
        assert!(summary.html.contains("새 신청 없음 (Nothing new)"));
        assert!(summary.html.contains("확인할 것이 없습니다 (Nothing needs a person)"));
        assert!(summary.html.contains("마감됨 (deadline passed)"));
        assert!(summary.text.contains("새 신청 없음 (Nothing new)"));
        assert!(summary.text.contains("변경 없음 (No changes)"));
        // The chart runs up to the summary's day.
        assert!(summary.text.contains("11/18 (금)  0"), "{}", summary.text);

        // And with no applications at all.
        let empty = render(&SummaryInput { applications: Vec::new(), previous: None, ..input }).unwrap();
        assert!(empty.text.contains("신청 (Accepted): 0건"));
        assert!(empty.html.contains("새 신청 없음"));
    }

    #[test]
    fn mailbox_events_are_told_in_plain_words_and_the_section_is_omitted_without_them() {
        let quiet = render(&sample()).unwrap();
        assert!(!quiet.html.contains("메일함 (Mailbox)") && !quiet.text.contains("메일함 (Mailbox)"));

        let mut input = sample();
        let note = |at_: &str, what| MailboxNote { at: at(at_), mailbox: "INBOX".into(), what };
        input.mailbox = vec![
            note("2022-11-16T07:00:00+09:00", MailboxHappening::Vanished { count: 2 }),
            note("2022-11-15T23:10:00+09:00", MailboxHappening::Reset { recognised: Some(12), recorded: Some(1) }),
            // Before the previous summary: already told.
            note("2022-11-15T08:00:00+09:00", MailboxHappening::Vanished { count: 9 }),
        ];
        let summary = render(&input).unwrap();
        for part in [&summary.text, &summary.html] {
            assert!(part.contains("메일함 (Mailbox) · 2건") || part.contains("메일함 (Mailbox): 2건"), "{part}");
            assert!(
                part.contains(
                    "2 messages disappeared from the inbox before they could be read (moved or deleted by someone)"
                ),
                "{part}"
            );
            assert!(part.contains("The inbox was reset by the server (UIDVALIDITY changed). Every message in it was checked again: 12 messages were recognised as already recorded"), "{part}");
            assert!(part.contains("1 new message was recorded. Nothing recorded before was lost."), "{part}");
            assert!(part.contains("메일 2건이 읽기 전에 받은편지함에서 사라졌습니다"), "{part}");
            assert!(!part.contains("9 messages"), "events before the previous summary are not repeated");
        }
        // Oldest first.
        let text = &summary.text;
        assert!(text.find("was reset").unwrap() < text.find("disappeared").unwrap());

        let one = MailboxNote {
            at: at("2022-11-16T07:00:00+09:00"),
            mailbox: "Applications".into(),
            what: MailboxHappening::Vanished { count: 1 },
        };
        let (ko, en) = mailbox_sentence(&one);
        assert_eq!(en, "1 message disappeared from the folder 'Applications' before it could be read (moved or deleted by someone). Look for it in the other folders or the trash.");
        assert!(ko.contains("메일 1건") && ko.contains("'Applications'"));
        let back =
            MailboxNote { what: MailboxHappening::NumberingWentBack { recognised: None, recorded: None }, ..one };
        assert!(mailbox_sentence(&back).1.contains("went backwards (UIDNEXT decreased"));
        assert!(mailbox_sentence(&back).1.contains("is being checked again"));
    }

    #[test]
    fn new_applications_are_those_recorded_since_the_previous_summary_whenever_their_mail_arrived() {
        let mut input = input(vec![
            simple(1, "김민준", None, Status::Accepted, "2022-11-14T10:00:00+09:00"),
            // Arrived before the previous summary (08:30 on the 15th) but recorded after it: the
            // mailbox could not be read then, or it was recorded in the same second.
            simple(2, "이서연", None, Status::Accepted, "2022-11-15T08:10:00+09:00"),
        ]);
        input.previous = Some(Previous { at: at("2022-11-15T08:30:00+09:00"), last_application: 1 });
        let summary = render(&input).unwrap();
        assert!(summary.subject.contains("(신규 1건·1명)"), "{}", summary.subject);
        assert!(summary.text.contains("1. 이서연"), "{}", summary.text);
        assert!(!summary.text.contains("1. 김민준"), "{}", summary.text);
    }

    #[test]
    fn the_summary_says_when_the_mailbox_was_last_read_and_warns_loudly_when_that_is_stale() {
        let fresh = render(&sample()).unwrap();
        assert!(fresh.text.contains("메일함 확인 (mailbox last read): 2022-11-16 (수) 08:29"), "{}", fresh.text);
        assert!(fresh.html.contains("메일함 확인 (mailbox last read) 2022-11-16 (수) 08:29"));
        assert!(!fresh.text.contains("WARNING") && !fresh.subject.contains("⚠"));

        // Two hours before the summary.
        let mut old = sample();
        old.last_read = Some(at("2022-11-16T06:25:00+09:00"));
        let summary = render(&old).unwrap();
        assert!(
            summary.subject.starts_with("[smebridge] ⚠ 메일함 미확인 (mailbox not read) · "),
            "{}",
            summary.subject
        );
        for part in [&summary.text, &summary.html] {
            assert!(
                part.contains("The mailbox was last read at 2022-11-16 (수) 06:25, 2 h 5 min before this summary."),
                "{part}"
            );
            assert!(part.contains("Mail that arrived after that is not in this summary."), "{part}");
            assert!(part.contains("(2시간 5분 전)"), "{part}");
        }
        assert!(summary.text.contains("!!! 경고 (WARNING) !!!"));
        assert!(summary.html.contains("메일함을 읽지 못했습니다 (The mailbox has not been read)"));

        // Recent, but not since the previous summary.
        let mut input = sample();
        input.previous = Some(Previous { at: at("2022-11-16T08:10:00+09:00"), last_application: 2 });
        input.last_read = Some(at("2022-11-16T08:05:00+09:00"));
        let summary = render(&input).unwrap();
        assert!(summary.text.contains("It has not been read since the previous summary."), "{}", summary.text);
        assert!(summary.subject.contains("⚠"));

        // Never.
        let mut input = sample();
        input.last_read = None;
        let summary = render(&input).unwrap();
        assert!(summary.text.contains("메일함 확인 (mailbox last read): 없음 (never)"), "{}", summary.text);
        assert!(summary.text.contains("smebridge has never read the mailbox"), "{}", summary.text);
    }

    #[test]
    fn the_first_summary_lists_everything() {
        let mut input = sample();
        input.previous = None;
        let summary = render(&input).unwrap();
        assert!(summary.subject.contains("(신규 4건·7명, 확인 필요 1건)"), "{}", summary.subject);
        assert!(summary.text.contains("첫 요약"));
    }

    #[test]
    fn applicant_text_cannot_break_lines_or_hide_behind_bidi_controls() {
        assert_eq!(one_line("  김민준\r\nBcc: x@evil.example\t ", 100), "김민준 Bcc: x@evil.example");
        assert_eq!(one_line("abc\u{202E}fdp.exe", 100), "abcfdp.exe");
        assert_eq!(one_line("가나다라마", 3), "가나…");
        let mut input = sample();
        input.event_name = "워크숍\r\nBcc: x@evil.example".into();
        assert!(!render(&input).unwrap().subject.contains(['\r', '\n']));
    }

    #[test]
    fn long_sections_are_cut_in_the_mail_but_not_in_the_attachments() {
        let apps: Vec<Application> =
            (1..=150).map(|i| simple(i, "김민준", None, Status::Accepted, "2022-11-15T10:00:00+09:00")).collect();
        let summary = render(&input(apps)).unwrap();
        assert!(summary.html.contains("외 50건은 첨부 파일에 있습니다"));
        assert_eq!(summary.html.matches("SME-0").count(), 100);
        assert!(summary.html.contains("SME-0100") && !summary.html.contains("SME-0101"));
        let mut reader = csv::Reader::from_reader(&summary.csv[3..]);
        assert_eq!(reader.records().count(), 150);
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
        let info = reader.info();
        (info.width, info.height)
    }

    #[test]
    fn the_chart_is_a_png_of_the_advertised_size() {
        let expected = (CHART_WIDTH * CHART_SCALE, CHART_HEIGHT * CHART_SCALE);
        let input = sample();
        let per_day = applications_per_day(&input.applications, &seoul());
        assert_eq!(png_size(&chart_png(&per_day).unwrap()), expected);
        assert_eq!(png_size(&chart_png(&[]).unwrap()), expected);
        // A long registration period still fits.
        let long: Vec<(Date, u32)> = jiff::civil::date(2022, 1, 1)
            .series(Span::new().days(1))
            .take(400)
            .enumerate()
            .map(|(i, d)| (d, (i % 17) as u32 * 100))
            .collect();
        assert_eq!(png_size(&chart_png(&long).unwrap()), expected);
        assert!(render(&input).unwrap().html.contains(&format!(r#"width="{CHART_WIDTH}" height="{CHART_HEIGHT}""#)));
    }
}
