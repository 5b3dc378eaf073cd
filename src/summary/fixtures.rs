//! Sample summaries for the tests of the summary and of the exports.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{Attention, AttentionKind, ChangeNote, EventFacts, Previous, SummaryInput};
use crate::domain::{ApplicantFields, EventId, Status};
use crate::store::Application;

pub(crate) fn seoul() -> TimeZone {
    jiff::tz::db().get("Asia/Seoul").unwrap()
}

pub(crate) fn at(s: &str) -> Timestamp {
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
        event: EventId::default_id(),
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
pub(crate) fn simple(id: i64, name: &str, attendees: Option<u32>, status: Status, received: &str) -> Application {
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

pub(crate) fn input(applications: Vec<Application>) -> SummaryInput {
    SummaryInput {
        title: "중소기업 R&D 워크숍".into(),
        timezone: seoul(),
        day: jiff::civil::date(2022, 11, 16),
        generated_at: at("2022-11-16T08:30:00+09:00"),
        previous: Some(Previous { at: at("2022-11-15T08:30:00+09:00"), last_application: 0 }),
        last_read: Some(at("2022-11-16T08:29:58+09:00")),
        events: vec![EventFacts {
            id: EventId::default_id(),
            name: "중소기업 R&D 워크숍".into(),
            opens: None,
            deadline: at("2022-11-17T23:59:59+09:00"),
            starts_at: at("2022-11-18T13:30:00+09:00"),
            capacity: Some(40),
        }],
        applications,
        needs_person: Vec::new(),
        changes: Vec::new(),
        mailbox: Vec::new(),
        skipped_before_opens: 0,
        retention: Vec::new(),
    }
}

/// A realistic morning: two new applications (one waitlisted), one inquiry, one update.
pub(crate) fn sample() -> SummaryInput {
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
