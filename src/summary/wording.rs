//! The summary's words: Korean first, English in parentheses (or in a second sentence), for a
//! staff that reads both. Dates and times as Korean staff write them (`11/16 (수) 09:05`), and
//! applicant text made one short line before it is shown.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::model::{AttentionKind, MailboxHappening, MailboxNote, Staleness, Totals};
use crate::domain::{MailKind, Outcome};
use crate::store::{ChangedBy, Field, OutboxState};

impl AttentionKind {
    pub fn ko(self) -> &'static str {
        match self {
            AttentionKind::Review => "검토 필요",
            AttentionKind::Inquiry => "문의",
            AttentionKind::Unclassified => "분류 안 됨",
            AttentionKind::Unrouted => "행사 미지정",
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
            AttentionKind::Unrouted => "Which event?",
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

/// The loud warning of a summary made from a mailbox not read lately: (Korean, English).
pub(super) fn stale_words(staleness: &Staleness, tz: &TimeZone) -> (String, String) {
    let Staleness::Stale { read, age, before_previous } = *staleness else {
        return (
            "smebridge가 메일함을 아직 한 번도 읽지 못했습니다. 받은편지함의 신청이 이 요약에 빠져 있을 수 있습니다. smebridge가 메일함에 로그인할 수 있는지 확인해 주세요 (smebridge check).".to_owned(),
            "smebridge has never read the mailbox: applications in the inbox may be missing from this summary. Check that smebridge can log in to the mailbox (smebridge check).".to_owned(),
        );
    };
    let when = time_ko(read, tz);
    let (ago_ko, ago_en) = span_words(age);
    let (also_ko, also_en) = if before_previous {
        (" 지난 요약 이후로는 한 번도 읽지 못했습니다.", " It has not been read since the previous summary.")
    } else {
        ("", "")
    };
    (
        format!(
            "메일함을 마지막으로 읽은 때는 {when} ({ago_ko} 전)입니다.{also_ko} 그 뒤에 온 메일은 이 요약에 없습니다. smebridge가 메일함에 로그인할 수 있는지 확인해 주세요 (smebridge check)."
        ),
        format!(
            "The mailbox was last read at {when}, {ago_en} before this summary.{also_en} Mail that arrived after that is not in this summary. Check that smebridge can log in to the mailbox (smebridge check)."
        ),
    )
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
pub(super) fn subject(event_name: &str, day: &str, new: usize, new_people: u32, attention: usize) -> String {
    let mut notes =
        vec![if new == 0 { "새 신청 없음".to_string() } else { format!("신규 {new}건·{new_people}명") }];
    if attention > 0 {
        notes.push(format!("확인 필요 {attention}건"));
    }
    format!("[smebridge] {} 신청 현황 {day} ({})", one_line(event_name, 120), notes.join(", "))
}

/// The subject of a summary made from a mailbox not read lately: the warning first.
pub(super) fn stale_subject(subject: &str) -> String {
    subject.replacen("[smebridge] ", "[smebridge] ⚠ 메일함 미확인 (mailbox not read) · ", 1)
}

/// The countdown to the deadline: (`D-3`, `마감까지 3일`, `3 days left`).
pub(super) fn countdown(days_to_deadline: Option<i64>) -> (String, String, String) {
    match days_to_deadline {
        None => ("마감".to_string(), "마감됨".to_string(), "deadline passed".to_string()),
        Some(0) => ("D-day".to_string(), "오늘 마감".to_string(), "closes today".to_string()),
        Some(1) => ("D-1".to_string(), "마감까지 1일".to_string(), "1 day left".to_string()),
        Some(n) => (format!("D-{n}"), format!("마감까지 {n}일"), format!("{n} days left")),
    }
}

/// When the mailbox was last read, or that it never was.
pub(super) fn last_read(at: Option<Timestamp>, tz: &TimeZone) -> String {
    at.map_or_else(|| "없음 (never)".to_owned(), |t| time_ko(t, tz))
}

// What the job says about the things that need a person.

/// After the first few forged-sender holds: how many more.
pub(super) fn more_forged(more: usize) -> String {
    format!("외 {more}건 (and {more} more): 발신자 인증 실패로 보류 (held: sender not authenticated); 전체 목록은 첨부 파일 (full list attached)")
}

/// A message held unread because reading it stops smebridge.
pub(super) fn held_unread(reason: &str) -> String {
    format!("읽지 않고 보류, 원본 보관 (held unread, raw message kept): {reason}")
}

/// A message for no event smebridge could tell: the command that assigns it and the one that
/// clears it when staff dealt with it otherwise (`MSG-0012` is its reference), then what it
/// could be for. The commands come first: the mail cuts the line after a few words.
pub(super) fn unrouted(reference: &str, detail: &str, asked: bool) -> String {
    let asked = if asked {
        "보낸 사람에게 어느 행사인지 물었습니다 (the sender was asked which event)"
    } else {
        "보낸 사람에게 묻지 않았습니다 (the sender was not asked)"
    };
    format!(
        "{reference} · 지정: smebridge application assign-event {reference} <행사 ID> · {} · 어느 행사인지 알 수 없음 ({detail}); {asked}.",
        resolve_hint(reference)
    )
}

/// A recorded message that is no application but needs a person: its reference and the command
/// that clears it once dealt with, then `what` it is (last: the mail cuts the line after a few
/// words).
pub(super) fn message_item(reference: &str, what: &str) -> String {
    let hint = resolve_hint(reference);
    if what.trim().is_empty() {
        format!("{reference} · {hint}")
    } else {
        format!("{reference} · {hint} · {what}")
    }
}

/// The command that takes message `reference` off the list once staff dealt with it.
fn resolve_hint(reference: &str) -> String {
    format!("처리 후: smebridge application resolve {reference}")
}

/// The line for messages skipped because they arrived before applications opened.
pub(super) fn skipped_before_opens(count: u64) -> (String, String) {
    (
        format!("신청 시작 전에 온 메일 {count}건은 기록만 하고 답장하지 않았습니다."),
        format!(
            "{count} {} that arrived before applications opened {} recorded and not answered.",
            plural(count, "message", "messages"),
            plural(count, "was", "were"),
        ),
    )
}

/// A cancellation from someone with no application.
pub(super) fn cancel_without_application(excerpt: &str) -> String {
    format!("취소 요청, 신청 내역 없음 (cancellation without an application): {excerpt}")
}

/// A message over the size limit, of which only the headers were kept.
pub(super) fn too_large(size: &str) -> String {
    format!("크기 제한 초과, 머리글만 보관 (over the size limit, headers kept): {size}")
}

/// Replies waiting because of the rate limit.
pub(super) fn held_replies(held: i64, recipients: i64) -> String {
    format!(
        "회신 {held}건이 발송 한도로 대기 중 ({recipients}개 주소) — {held} replies held back by the rate limit, to {recipients} address(es)"
    )
}

/// A reply that failed, or whose fate is unknown, or that is being retried.
pub(super) fn reply_failed(kind: MailKind, state: OutboxState, error: &str) -> String {
    format!("{kind} reply {state}: {error}")
}

/// What a change since the previous summary was, by the outcome of the message that made it.
pub(super) fn change(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Cancelled => "취소 (Cancelled)",
        Outcome::Reopened => "재신청 (Applied again)",
        _ => "변경 (Updated)",
    }
}

/// A value of an application changed other than by the applicant's mail, for the changes since
/// the previous summary: who changed it, and old → new (a review note only as cleared or
/// changed: the notes themselves are under "needs a person").
pub(super) fn history_change(by: ChangedBy, field: Field, old: Option<&str>, new: Option<&str>) -> String {
    let who = match by {
        ChangedBy::Reparse => "메일 다시 읽음 (re-read by smebridge reparse)",
        ChangedBy::Staff => "직원 수정 (changed by staff)",
        ChangedBy::Mail => "변경 (Updated)",
    };
    let (ko, en) = match field {
        Field::Name => ("성명", "Name"),
        Field::Organization => ("소속", "Organization"),
        Field::Position => ("직위", "Position"),
        Field::Phone => ("연락처", "Phone"),
        Field::Attendees => ("참석 인원", "Attendees"),
        Field::People => ("참가자", "People"),
        Field::Notes => ("비고", "Notes"),
        Field::Status => ("상태", "Status"),
        Field::Email => ("이메일", "Email"),
        Field::Event => ("행사", "Event"),
        Field::Reply => ("회신 발송", "Reply sent"),
        Field::Review => {
            return match new {
                None => format!("{who}: 확인 사항 해소 (review notes cleared)"),
                Some(_) => format!("{who}: 확인 사항 바뀜 (review notes changed)"),
            }
        }
    };
    format!("{who}: {ko} ({en}) {} → {}", old.unwrap_or("-"), new.unwrap_or("-"))
}

/// The rows of `smebridge stats`: (label, value). `skipped`: messages that arrived before
/// applications opened (a row only when there are any).
pub(super) fn stats_rows(t: &Totals, needs_person: usize, skipped: u64) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("신청 (accepted)", t.accepted.to_string()),
        ("참석 인원 (attendees)", t.attendees.to_string()),
        ("대기 (waitlisted)", t.waitlisted.to_string()),
        ("취소 (cancelled)", t.cancelled.to_string()),
        ("마감 후 (late)", t.late.to_string()),
        ("확인 필요 (needs a person)", needs_person.to_string()),
    ];
    if let Some(left) = t.capacity_left {
        rows.push(("잔여 좌석 (seats left)", left.to_string()));
    }
    rows.push((
        "마감까지 (days to deadline)",
        t.days_to_deadline.map(|d| d.to_string()).unwrap_or_else(|| "마감 (closed)".to_owned()),
    ));
    if skipped > 0 {
        rows.push(("신청 시작 전 (before opens)", skipped.to_string()));
    }
    rows
}

// Dates, times and applicant text.

/// Applicant text on one line: whitespace and control characters collapsed to single spaces,
/// invisible formatting (zero-width, bidirectional overrides) removed, at most `max` characters.
pub(super) fn one_line(s: &str, max: usize) -> String {
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

const WEEKDAYS_KO: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];

pub(super) fn weekday_ko(d: Date) -> &'static str {
    WEEKDAYS_KO[d.weekday().to_monday_zero_offset() as usize]
}

/// `2022-11-16 (수)`
pub(super) fn date_ko(d: Date) -> String {
    format!("{} ({})", d.strftime("%Y-%m-%d"), weekday_ko(d))
}

/// `2022-11-16 (수) 09:05`
pub(super) fn time_ko(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    format!("{} {}", date_ko(dt.date()), dt.strftime("%H:%M"))
}

/// `08:30` on the summary's day, else the full time.
pub(super) fn as_of(day: Date, t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    if dt.date() == day {
        dt.strftime("%H:%M").to_string()
    } else {
        time_ko(t, tz)
    }
}

/// `11/16 (수) 09:05`
pub(super) fn short_time_ko(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    format!("{}/{} ({}) {}", dt.month(), dt.day(), weekday_ko(dt.date()), dt.strftime("%H:%M"))
}
