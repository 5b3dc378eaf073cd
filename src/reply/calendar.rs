//! The `.ics` file an acknowledgement carries (RFC 5545, with the iTIP methods of RFC 5546): the
//! event in the applicant's calendar, and taken out of it again when they cancel.
//!
//! Pure: everything comes in as arguments, the same arguments give the same bytes (the file is
//! rendered into the reply when it is queued, and the outbox keeps the whole message).
//!
//! - `METHOD:PUBLISH` for an accepted application (acknowledged, promoted from the waiting list,
//!   or re-opened after a cancellation), and again, updated, when staff change the event's time,
//!   place or name (`rescheduled`); `METHOD:CANCEL` for its cancellation, only when a calendar
//!   entry was published before ([`method_for`]).
//! - One `UID` per application and event (`SME-0004.ws-2211@kaist.ac.kr`), so a client updates or
//!   removes the entry it has. `SEQUENCE` counts the replies sent for the application before
//!   (of any event), so each file outranks every one before it.
//! - An application staff move to another event withdraws the old event's entry in the same
//!   reply that publishes the new one (two files: `crate::reply::Withdrawn`).
//! - Times are local to the event's time zone (`DTSTART;TZID=Asia/Seoul:…`) with the
//!   `VTIMEZONE` that defines it (the observances in force from the event's start to its end).
//! - Text is escaped (`\\`, `\;`, `\,`, `\n`), lines end in CRLF and are folded at 75 octets
//!   without splitting a UTF-8 character.

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

use crate::domain::ReplyKind;

/// What the file asks the applicant's calendar to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Add (or update) the entry.
    Publish,
    /// Remove it.
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Cancel => "CANCEL",
        }
    }
}

/// The replies sent for an application before this one (counted in the outbox), and whether its
/// entry in one event's calendar is published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CalendarSent {
    /// How many replies went to the application before (of any event).
    pub count: u32,
    /// Whether the last calendar file about the event published the entry (it is in the
    /// applicant's calendar).
    pub published: bool,
}

/// Whether a reply of `kind` carries a calendar file, and which: a publication for every reply
/// that tells an applicant they have a place or that the event's facts changed, a cancellation
/// only of an entry published before. Updates, waiting lists, late and other replies carry none:
/// the calendar's facts are the event's, and nothing the applicant writes changes them.
pub fn method_for(kind: ReplyKind, sent: CalendarSent) -> Option<Method> {
    match kind {
        ReplyKind::Ack | ReplyKind::Promoted | ReplyKind::Reopened | ReplyKind::Rescheduled => Some(Method::Publish),
        ReplyKind::Cancelled if sent.published => Some(Method::Cancel),
        _ => None,
    }
}

/// The replies counted in [`CalendarSent`] (as stored in `outbox.kind`), and of those the ones
/// that publish.
pub const CALENDAR_KINDS: [ReplyKind; 5] =
    [ReplyKind::Ack, ReplyKind::Promoted, ReplyKind::Reopened, ReplyKind::Rescheduled, ReplyKind::Cancelled];

/// One calendar entry.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub method: Method,
    pub uid: &'a str,
    pub sequence: u32,
    /// When this version of the entry was made (`DTSTAMP`).
    pub stamp: Timestamp,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub timezone: &'a TimeZone,
    /// The IANA name (`Asia/Seoul`), the `TZID`.
    pub tzid: &'a str,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
}

/// `SME-0004.ws-2211@kaist.ac.kr`: stable for the application in its event.
pub fn uid(application_number: &str, event_id: &str, domain: &str) -> String {
    format!("{application_number}.{event_id}@{domain}")
}

/// The file: CRLF line ends, folded, escaped.
pub fn ics(entry: &Entry<'_>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//smebridge//workshop registration desk//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("METHOD:{}", entry.method.as_str()),
    ];
    lines.extend(vtimezone(entry.timezone, entry.tzid, entry.starts_at, entry.ends_at));
    let local = |t: Timestamp| t.to_zoned(entry.timezone.clone()).strftime("%Y%m%dT%H%M%S").to_string();
    lines.extend([
        "BEGIN:VEVENT".into(),
        format!("UID:{}", escape_text(entry.uid)),
        format!("DTSTAMP:{}", utc(entry.stamp)),
        format!("SEQUENCE:{}", entry.sequence),
        format!("DTSTART;TZID={}:{}", param_value(entry.tzid), local(entry.starts_at)),
        format!("DTEND;TZID={}:{}", param_value(entry.tzid), local(entry.ends_at)),
        format!("SUMMARY:{}", escape_text(entry.summary)),
        format!("LOCATION:{}", escape_text(entry.location)),
        format!("DESCRIPTION:{}", escape_text(entry.description)),
        format!("ORGANIZER;CN={}:mailto:{}", param_value(entry.organizer_name), entry.organizer_email),
        format!(
            "STATUS:{}",
            match entry.method {
                Method::Publish => "CONFIRMED",
                Method::Cancel => "CANCELLED",
            }
        ),
        "TRANSP:OPAQUE".into(),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ]);
    lines.iter().map(|l| fold(l)).collect()
}

/// `20221116T010000Z`
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The `VTIMEZONE` for `tzid`: the observance in force at `from` and every one that begins
/// before `to`. A zone without transitions (UTC, a fixed offset) gets one observance from 1970.
fn vtimezone(tz: &TimeZone, tzid: &str, from: Timestamp, to: Timestamp) -> Vec<String> {
    let mut lines = vec!["BEGIN:VTIMEZONE".to_owned(), format!("TZID:{}", escape_text(tzid))];
    let mut transitions: Vec<(Timestamp, Offset, bool, String)> = Vec::new();
    if let Some(t) = tz.preceding(from.saturating_add(jiff::SignedDuration::from_nanos(1)).unwrap_or(from)).next() {
        transitions.push((t.timestamp(), t.offset(), t.dst().is_dst(), t.abbreviation().to_owned()));
    }
    for t in tz.following(from) {
        if t.timestamp() >= to {
            break;
        }
        transitions.push((t.timestamp(), t.offset(), t.dst().is_dst(), t.abbreviation().to_owned()));
    }
    if transitions.is_empty() {
        let info = tz.to_offset_info(from);
        let offset = info.offset();
        lines.extend(observance(info.dst().is_dst(), "19700101T000000", offset, offset, info.abbreviation()));
    }
    for (at, offset, dst, name) in transitions {
        // DTSTART is the local time of the change, on the clock in force before it.
        let before = tz.to_offset(at.saturating_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(at));
        let start = at.to_zoned(TimeZone::fixed(before)).strftime("%Y%m%dT%H%M%S").to_string();
        lines.extend(observance(dst, &start, before, offset, &name));
    }
    lines.push("END:VTIMEZONE".into());
    lines
}

fn observance(dst: bool, start: &str, from: Offset, to: Offset, name: &str) -> Vec<String> {
    let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{start}"),
        format!("TZOFFSETFROM:{}", utc_offset(from)),
        format!("TZOFFSETTO:{}", utc_offset(to)),
    ];
    if !name.is_empty() {
        lines.push(format!("TZNAME:{}", escape_text(name)));
    }
    lines.push(format!("END:{kind}"));
    lines
}

/// `+0900`, `-0430`, `+053045` (seconds only when there are any).
fn utc_offset(offset: Offset) -> String {
    let total = offset.seconds();
    let sign = if total < 0 { '-' } else { '+' };
    let total = total.unsigned_abs();
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as `\n`,
/// other control characters dropped.
pub fn escape_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (RFC 5545 3.2): quoted when it holds `:`, `;` or `,`; double quotes and
/// control characters cannot be in one and are dropped.
fn param_value(text: &str) -> String {
    let clean: String = text.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    if clean.contains([':', ';', ',']) || clean.contains(' ') {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// One content line, folded (RFC 5545 3.1): no line longer than 75 octets before its CRLF; a
/// continuation line begins with a space; a UTF-8 character is never split.
fn fold(line: &str) -> String {
    const MAX: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / MAX * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > MAX {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seoul() -> TimeZone {
        jiff::tz::db().get("Asia/Seoul").unwrap()
    }

    fn entry<'a>(tz: &'a TimeZone, method: Method, description: &'a str) -> Entry<'a> {
        Entry {
            method,
            uid: "SME-0004.ws-2211@kaist.ac.kr",
            sequence: if method == Method::Cancel { 1 } else { 0 },
            stamp: "2022-11-16T01:00:00Z".parse().unwrap(),
            starts_at: "2022-11-18T13:30:00+09:00".parse().unwrap(),
            ends_at: "2022-11-18T16:30:00+09:00".parse().unwrap(),
            timezone: tz,
            tzid: "Asia/Seoul",
            summary: "SME R&D Workshop, 2022",
            location: "Banyan Tree Club & Spa Seoul; Festa Hall",
            description,
            organizer_name: "KAIST SME Center",
            organizer_email: "smebridge@kaist.ac.kr",
        }
    }

    /// The unfolded content lines.
    fn unfolded(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(str::to_owned).collect()
    }

    #[test]
    fn a_publication_has_the_event_in_seoul_time_with_its_time_zone() {
        let tz = seoul();
        let ics = ics(&entry(&tz, Method::Publish, "신청번호 SME-0004"));
        let lines = unfolded(&ics);
        for expected in [
            "METHOD:PUBLISH",
            "UID:SME-0004.ws-2211@kaist.ac.kr",
            "SEQUENCE:0",
            "DTSTAMP:20221116T010000Z",
            "DTSTART;TZID=Asia/Seoul:20221118T133000",
            "DTEND;TZID=Asia/Seoul:20221118T163000",
            "SUMMARY:SME R&D Workshop\\, 2022",
            "LOCATION:Banyan Tree Club & Spa Seoul\\; Festa Hall",
            "DESCRIPTION:신청번호 SME-0004",
            "ORGANIZER;CN=\"KAIST SME Center\":mailto:smebridge@kaist.ac.kr",
            "STATUS:CONFIRMED",
            "TZID:Asia/Seoul",
            "TZOFFSETTO:+0900",
        ] {
            assert!(lines.iter().any(|l| l == expected), "{expected:?} missing in\n{ics}");
        }
        // Seoul's last change of offset: daylight saving time ended in October 1988.
        let standard = lines.iter().position(|l| l == "BEGIN:STANDARD").expect("a STANDARD observance");
        assert_eq!(lines[standard + 1], "DTSTART:19881009T030000");
        assert_eq!(lines[standard + 2], "TZOFFSETFROM:+1000");
        assert!(!lines.contains(&"BEGIN:DAYLIGHT".to_owned()));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "every line ends in CRLF");
    }

    #[test]
    fn a_cancellation_has_the_same_uid_and_a_higher_sequence() {
        let tz = seoul();
        let lines = unfolded(&ics(&entry(&tz, Method::Cancel, "x")));
        assert!(lines.contains(&"METHOD:CANCEL".to_owned()));
        assert!(lines.contains(&"STATUS:CANCELLED".to_owned()));
        assert!(lines.contains(&"UID:SME-0004.ws-2211@kaist.ac.kr".to_owned()));
        assert!(lines.contains(&"SEQUENCE:1".to_owned()));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let tz = seoul();
        let long = "가나다라마바사아자차카타파하, 신청번호 SME-0004; 줄바꿈\n다음 줄 ".repeat(8);
        let ics = ics(&entry(&tz, Method::Publish, &long));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        let description = unfolded(&ics).into_iter().find(|l| l.starts_with("DESCRIPTION:")).unwrap();
        assert_eq!(description, format!("DESCRIPTION:{}", escape_text(&long)));
        assert!(
            description.contains("\\n다음 줄")
                && description.contains("\\, 신청번호")
                && description.contains("\\; 줄")
        );
    }

    #[test]
    fn text_escaping() {
        assert_eq!(escape_text("a\\b;c,d\r\ne\rf\u{7}"), "a\\\\b\\;c\\,d\\ne\\nf");
        assert_eq!(param_value("KAIST \"SME\": Center"), "\"KAIST SME: Center\"");
        assert_eq!(param_value("Center"), "Center");
    }

    #[test]
    fn a_zone_with_daylight_saving_time_gets_the_observances_of_the_event() {
        let tz = jiff::tz::db().get("America/New_York").unwrap();
        let mut e = entry(&tz, Method::Publish, "x");
        e.tzid = "America/New_York";
        // Across the end of daylight saving time, 6 November 2022 at 2 am.
        e.starts_at = "2022-11-05T20:00:00-04:00".parse().unwrap();
        e.ends_at = "2022-11-06T10:00:00-05:00".parse().unwrap();
        let lines = unfolded(&ics(&e));
        let daylight = lines.iter().position(|l| l == "BEGIN:DAYLIGHT").expect("the DST in force at the start");
        assert_eq!(lines[daylight + 1], "DTSTART:20220313T020000");
        assert_eq!(lines[daylight + 3], "TZOFFSETTO:-0400");
        let standard = lines.iter().position(|l| l == "BEGIN:STANDARD").expect("the change during the event");
        assert_eq!(lines[standard + 1], "DTSTART:20221106T020000");
        assert_eq!(lines[standard + 2], "TZOFFSETFROM:-0400");
        assert_eq!(lines[standard + 3], "TZOFFSETTO:-0500");
        assert!(lines.contains(&"DTSTART;TZID=America/New_York:20221105T200000".to_owned()));
        // UTC: one observance, no transitions.
        let utc = TimeZone::UTC;
        let lines = unfolded(&ics(&Entry { timezone: &utc, tzid: "UTC", ..entry(&utc, Method::Publish, "x") }));
        assert!(lines.contains(&"DTSTART:19700101T000000".to_owned()));
        assert!(lines.contains(&"TZOFFSETTO:+0000".to_owned()));
    }

    #[test]
    fn which_replies_carry_which_calendar() {
        let none = CalendarSent::default();
        let published = CalendarSent { count: 1, published: true };
        assert_eq!(method_for(ReplyKind::Ack, none), Some(Method::Publish));
        assert_eq!(method_for(ReplyKind::Promoted, none), Some(Method::Publish));
        assert_eq!(method_for(ReplyKind::Reopened, CalendarSent { count: 2, published: false }), Some(Method::Publish));
        assert_eq!(method_for(ReplyKind::Rescheduled, published), Some(Method::Publish));
        assert_eq!(method_for(ReplyKind::Cancelled, published), Some(Method::Cancel));
        assert_eq!(method_for(ReplyKind::Cancelled, none), None, "nothing to take out of a calendar");
        for kind in [ReplyKind::Update, ReplyKind::Waitlisted, ReplyKind::Late, ReplyKind::AfterDeadline] {
            assert_eq!(method_for(kind, published), None, "{kind}");
        }
    }
}
