//! Calendar files in the mail applicants receive: found among a mail's parts, and read back with
//! a real iCalendar parser.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use mail_parser::MimeHeaders;

use super::parsed;

/// The `text/calendar` parts of a mail, as text.
pub fn calendars(raw: &[u8]) -> Vec<String> {
    let mail = parsed(raw);
    mail.attachments()
        .filter(|part| part.content_type().is_some_and(|ct| ct.ctype() == "text" && ct.subtype() == Some("calendar")))
        .map(|part| String::from_utf8(part.contents().to_vec()).expect("UTF-8 calendar"))
        .collect()
}

/// Read an `.ics` with Python's `icalendar` (Debian's python3-icalendar, hence the system
/// interpreter): the calendar's METHOD and, of its one VEVENT, the properties as the parser
/// understood them (DTSTART/DTEND as ISO times with their TZID; SEQUENCE as an integer).
pub fn parse_ics(ics: &str) -> HashMap<String, String> {
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
