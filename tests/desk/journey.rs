//! The applicant's journey after the acknowledgement, in real mailboxes of a real Dovecot with
//! mail through a real Postfix: the calendar file each acknowledgement of a place carries (read
//! back with a real iCalendar parser, Python's `icalendar`), its cancellation, the reminder
//! before the event and the thank-you after it (exactly once, across restarts, with the
//! daemon's clock moved by `SMEBRIDGE_CLOCK_START`), and the record sent back on request.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use mail_parser::MimeHeaders;

use crate::helpers::{application, parsed, Desk};

/// Applications close on the 17th; the workshop is on the 18th at 1:30 pm, Seoul time.
const DEADLINE: &str = "2022-11-17T23:59:59+09:00";

fn apply(name: &str, email: &str, id: &str) -> String {
    application(name, email, "워크숍 참가 신청", &format!("성명: {name}\n소속: 여정상사\n연락처: 010-3333-4444\n"), id)
}

fn body_of(raw: &[u8]) -> String {
    parsed(raw).body_text(0).unwrap_or_default().into_owned()
}

/// The `text/calendar` parts of a mail, as text.
fn calendars(raw: &[u8]) -> Vec<String> {
    let mail = parsed(raw);
    mail.attachments()
        .filter(|part| part.content_type().is_some_and(|ct| ct.ctype() == "text" && ct.subtype() == Some("calendar")))
        .map(|part| String::from_utf8(part.contents().to_vec()).expect("UTF-8 calendar"))
        .collect()
}

/// Read an `.ics` with Python's `icalendar` (Debian's python3-icalendar, hence the system
/// interpreter): the calendar's METHOD and, of its one VEVENT, the properties as the parser
/// understood them (DTSTART/DTEND as ISO times with their TZID; SEQUENCE as an integer).
fn parse_ics(ics: &str) -> HashMap<String, String> {
    const SCRIPT: &str = r#"
import json, sys
import icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
events = [c for c in cal.walk() if c.name == "VEVENT"]
zones = [c for c in cal.walk() if c.name == "VTIMEZONE"]
assert len(events) == 1, len(events)
e = events[0]
start, end = e.decoded("DTSTART"), e.decoded("DTEND")
print(json.dumps({
    "METHOD": str(cal["METHOD"]),
    "UID": str(e["UID"]),
    "SEQUENCE": str(int(e.decoded("SEQUENCE"))),
    "DTSTART": start.isoformat(),
    "DTEND": end.isoformat(),
    "TZID": e["DTSTART"].params["TZID"],
    "VTIMEZONE": ",".join(str(z["TZID"]) for z in zones),
    "LOCATION": str(e["LOCATION"]),
    "SUMMARY": str(e["SUMMARY"]),
    "DESCRIPTION": str(e["DESCRIPTION"]),
    "STATUS": str(e["STATUS"]),
}))
"#;
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 (scripts/install-deps installs it with python3-icalendar)");
    child.stdin.take().unwrap().write_all(ics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "icalendar rejects the file:\n{}\n{ics}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An accepted applicant's acknowledgement carries an `.ics` a real parser reads with the
/// event's time in Seoul, its venue and a UID for the application; the waitlisted one gets none
/// until promoted; an update carries none; the cancellation carries METHOD:CANCEL with the same
/// UID and a higher SEQUENCE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_applicant_gets_a_calendar_file_and_its_cancellation_the_waitlisted_none() {
    let desk = Desk::start_with(DEADLINE, &[("event", "capacity = 1")]);
    let (kim, lee) = ("kim@journey.example", "lee@journey.example");
    desk.append_to_center(&apply("김여정", kim, "cal-kim@journey.example"), "16-Nov-2022 10:00:00 +0900").await;
    desk.append_to_center(&apply("이대기", lee, "cal-lee@journey.example"), "16-Nov-2022 10:05:00 +0900").await;
    desk.once();
    let ack = desk.wait_for_mail(kim, 1).await.remove(0).raw;
    let waitlisted = desk.wait_for_mail(lee, 1).await.remove(0).raw;

    let files = calendars(&ack);
    assert_eq!(files.len(), 1, "one calendar file on the acknowledgement");
    let mail = parsed(&ack);
    let part = mail.attachments().next().unwrap();
    assert_eq!(part.content_type().unwrap().attribute("method"), Some("PUBLISH"));
    assert_eq!(part.attachment_name(), Some("main.ics"));
    let published = parse_ics(&files[0]);
    assert_eq!(published["METHOD"], "PUBLISH");
    assert_eq!(published["UID"], "SME-0001.main@kaist.ac.kr");
    assert_eq!(published["SEQUENCE"], "0");
    assert_eq!(published["DTSTART"], "2022-11-18T13:30:00+09:00");
    assert_eq!(published["DTEND"], "2022-11-18T16:30:00+09:00", "three hours by default");
    assert_eq!(published["TZID"], "Asia/Seoul");
    assert_eq!(published["VTIMEZONE"], "Asia/Seoul");
    assert_eq!(published["LOCATION"], "Banyan Tree Club & Spa Seoul, Festa Hall");
    assert_eq!(published["SUMMARY"], "SME R&D Workshop");
    assert!(published["DESCRIPTION"].contains("SME-0001"), "{published:?}");
    assert!(body_of(&ack).contains("SME-0001"), "the text is still the acknowledgement");
    assert!(calendars(&waitlisted).is_empty(), "no calendar for a place on the waiting list");

    // An update changes nothing the calendar holds: no new file.
    let update = application(
        "김여정",
        kim,
        "Re: 워크숍 참가 신청",
        "연락처를 010-9999-8888로 변경합니다.\n연락처: 010-9999-8888\n",
        "cal-kim-2@journey.example",
    );
    desk.append_to_center(&update, "16-Nov-2022 11:00:00 +0900").await;
    desk.once();
    let mails = desk.wait_for_mail(kim, 2).await;
    let update_reply = mails.iter().find(|m| m.raw != ack).unwrap();
    assert!(body_of(&update_reply.raw).contains("010-9999-8888"), "{}", body_of(&update_reply.raw));
    assert!(calendars(&update_reply.raw).is_empty(), "an update carries no calendar file");

    // Kim cancels: the entry is taken out again; Lee moves up and gets the event in theirs.
    let cancel = application(
        "김여정",
        kim,
        "Re: 워크숍 참가 신청",
        "사정이 생겨 참가를 취소합니다.\n",
        "cal-kim-3@journey.example",
    );
    desk.append_to_center(&cancel, "16-Nov-2022 12:00:00 +0900").await;
    desk.once();
    let update_reply = update_reply.raw.clone();
    let cancelled =
        desk.wait_for_mail(kim, 3).await.into_iter().find(|m| m.raw != ack && m.raw != update_reply).unwrap().raw;
    assert!(body_of(&cancelled).contains("취소했습니다"), "{}", body_of(&cancelled));
    let files = calendars(&cancelled);
    assert_eq!(files.len(), 1, "the cancellation carries a calendar file");
    let withdrawn = parse_ics(&files[0]);
    assert_eq!(withdrawn["METHOD"], "CANCEL");
    assert_eq!(withdrawn["STATUS"], "CANCELLED");
    assert_eq!(withdrawn["UID"], published["UID"], "the same entry");
    assert!(withdrawn["SEQUENCE"].parse::<u32>().unwrap() > 0, "{withdrawn:?}");

    let promoted = desk.wait_for_mail(lee, 2).await.into_iter().find(|m| m.raw != waitlisted).unwrap().raw;
    let files = calendars(&promoted);
    assert_eq!(files.len(), 1, "promoted from the waiting list: the calendar file now");
    let lee_entry = parse_ics(&files[0]);
    assert_eq!(lee_entry["METHOD"], "PUBLISH");
    assert_eq!(lee_entry["UID"], "SME-0002.main@kaist.ac.kr");
    assert_eq!(lee_entry["DTSTART"], "2022-11-18T13:30:00+09:00");
}
