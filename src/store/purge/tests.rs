use std::path::Path;

use super::super::testing::{attachment, open, queue_one_reply, store};
use super::super::{ApplicationWrite, Arriving, Details, MailboxUid, MessageOutcome, NewMessage, NewReply};
use super::*;
use crate::domain::{ApplicantFields, EmailAddress, MailKind, Outcome, ReplyKind, RouteReason};

/// Strings of the invented applicants of the event: none may be left in the file after a
/// purge.
const PERSONAL: [&str; 12] = [
    "kim.purgetest@hanbit-purge.example",
    "김퍼지",
    "(주)퍼지테크",
    "010-7777-1234",
    "퍼지워크숍 신청",
    "ATTACHED-PURGE-SECRET",
    "김퍼지_신청서.pdf",
    "채식 도시락 부탁",
    "ask.purgetest@qna-purge.example",
    "주차문의퍼지",
    "QUESTION-PURGE-BODY",
    "HISTORY-OLD-PHONE-010-1111-2222",
];

/// Strings of a bounce of the acknowledgement: mail for no event.
const BOUNCED: [&str; 2] = ["mailer-daemon@hanbit-purge.example", "BOUNCE-PURGE-QUOTED"];

fn main_event() -> EventId {
    EventId::default_id()
}

fn seoul() -> TimeZone {
    jiff::tz::db().get("Asia/Seoul").unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn scope<'a>(id: &'a EventId, tz: &'a TimeZone) -> PurgeScope<'a> {
    PurgeScope::Event { id, name: "퍼지 워크숍", timezone: tz }
}

/// Mail for no event that arrived before the workshop's deletion day (17 February 2023).
fn no_event() -> PurgeScope<'static> {
    PurgeScope::NoEvent { before: at("2023-02-17T00:00:00+09:00") }
}

/// The database file and its write-ahead log, as bytes.
fn file_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", db.display())).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A desk's worth of one applicant of the one event: the application with its details and
/// history, an acknowledgement sent, an inquiry from someone else, a bounce of the
/// acknowledgement (mail for no event), a staff summary sent, a mailbox event.
fn seed(store: &mut Store) -> String {
    let main = main_event();
    let kim = EmailAddress::parse("kim.purgetest@hanbit-purge.example").unwrap();
    let raw = "From: 김퍼지 <kim.purgetest@hanbit-purge.example>\nSubject: 퍼지워크숍 신청\n\n성명: 김퍼지\n\
               소속: (주)퍼지테크\n연락처: 010-7777-1234\n비고: 채식 도시락 부탁\n\nATTACHED-PURGE-SECRET\n";
    let details = Details {
        people: vec!["김퍼지".into()],
        notes: Some("채식 도시락 부탁".into()),
        sources: [("phone".to_owned(), "line 4, label '연락처'".to_owned())].into(),
    };
    let attachments = [attachment("김퍼지_신청서.pdf", 120)];
    let message = NewMessage {
        arriving: Arriving { sha256: "sha-kim", arrived_at: at("2022-11-15T10:00:00+09:00"), raw: raw.as_bytes() },
        outcome: MessageOutcome {
            message_id: "m-kim@mail.example",
            sender: Some(&kim),
            subject: Some("퍼지워크숍 신청"),
            outcome: Outcome::Registered,
            outcome_detail: None,
            problems: &[],
            attachments: &attachments,
            details: &details,
            event: Some((&main, RouteReason::OnlyEvent)),
        },
    };
    let write = ApplicationWrite::Insert {
        event: main.clone(),
        email: kim.clone(),
        fields: ApplicantFields {
            name: Some("김퍼지".into()),
            organization: Some("(주)퍼지테크".into()),
            phone: Some("010-7777-1234".into()),
            attendees: Some(2),
            ..Default::default()
        },
        status: Status::Accepted,
        review: None,
    };
    let ack = |_| {
        Ok(Some(NewReply {
            kind: MailKind::Reply(ReplyKind::Ack),
            message_id: "ack-1@kaist.ac.kr".into(),
            envelope_from: None,
            recipient: kim.clone(),
            raw: "To: kim.purgetest@hanbit-purge.example\n\n김퍼지 님, 접수되었습니다.".as_bytes().to_vec(),
            event: Some(main.clone()),
            calendar: None,
        }))
    };
    let when = at("2022-11-15T10:00:05+09:00");
    let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 1 };
    let reply = store.commit_message(uid, &message, &write, when, ack).unwrap().reply.unwrap();
    let claim = store.claim_reply(reply, when).unwrap().unwrap();
    assert!(store.mark_sent(claim, when).unwrap());

    let asker = EmailAddress::parse("ask.purgetest@qna-purge.example").unwrap();
    let question = NewMessage {
        arriving: Arriving {
            sha256: "sha-ask",
            raw: b"Subject: \xec\xa3\xbc\xec\xb0\xa8\n\nQUESTION-PURGE-BODY",
            ..message.arriving
        },
        outcome: MessageOutcome {
            message_id: "m-ask@mail.example",
            sender: Some(&asker),
            subject: Some("주차문의퍼지"),
            outcome: Outcome::Inquiry,
            attachments: &[],
            details: &NO_DETAILS_REF,
            ..message.outcome.clone()
        },
    };
    let uid = MailboxUid { uid: 2, ..uid };
    store.commit_message(uid, &question, &ApplicationWrite::None, when, |_| Ok(None)).unwrap();

    let daemon = EmailAddress::parse("mailer-daemon@hanbit-purge.example").unwrap();
    let bounce = NewMessage {
        arriving: Arriving {
            sha256: "sha-bounce",
            arrived_at: at("2022-11-15T10:01:00+09:00"),
            raw: b"From: mailer-daemon@hanbit-purge.example\n\nBOUNCE-PURGE-QUOTED",
        },
        outcome: MessageOutcome {
            message_id: "m-bounce@hanbit-purge.example",
            sender: Some(&daemon),
            subject: Some("Undelivered"),
            outcome: Outcome::Automatic,
            event: None,
            ..question.outcome.clone()
        },
    };
    let uid = MailboxUid { uid: 3, ..uid };
    store.commit_message(uid, &bounce, &ApplicationWrite::None, when, |_| Ok(None)).unwrap();

    let summary = NewReply {
        kind: MailKind::Summary,
        message_id: "smebridge.summary.2022-11-16.0@kaist.ac.kr".into(),
        envelope_from: None,
        recipient: EmailAddress::parse("staff@kaist.ac.kr").unwrap(),
        raw: "1. 김퍼지 · (주)퍼지테크 · 010-7777-1234".as_bytes().to_vec(),
        event: None,
        calendar: None,
    };
    let id = store.queue_mail(&summary, when).unwrap();
    let claim = store.claim_reply(id, when).unwrap().unwrap();
    assert!(store.mark_sent(claim, when).unwrap());

    let application: i64 = store.conn.query_row("SELECT id FROM applications", [], |r| r.get(0)).unwrap();
    store
        .conn
        .execute(
            "INSERT INTO application_history (application, at, field, old, new, by, why)
             VALUES (?1, 0, 'phone', 'HISTORY-OLD-PHONE-010-1111-2222', '010-7777-1234', 'reparse', 'line 4')",
            [application],
        )
        .unwrap();
    store
        .conn
        .execute(
            "INSERT INTO mailbox_events (kind, mailbox, details, at) VALUES ('vanished_before_fetch', 'INBOX', '{\"count\":1}', ?1)",
            [at("2022-11-16T00:00:00Z").as_second()],
        )
        .unwrap();
    raw.to_owned()
}

static NO_DETAILS_REF: Details = Details { people: Vec::new(), notes: None, sources: BTreeMap::new() };

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn purge_leaves_no_applicant_string_in_the_file_and_keeps_the_counts_and_what_knows_the_mail_again() {
    let (dir, mut store) = store();
    let db = dir.path().join("db.sqlite");
    seed(&mut store);
    let (main, tz) = (main_event(), seoul());
    let before = file_bytes(&db);
    for needle in PERSONAL.iter().chain(&BOUNCED) {
        assert!(contains(&before, needle), "the test's own check: {needle:?} is in the file before");
    }

    // What would go, read by a reader beside the writer; nothing changes.
    let reader = Store::open_read(&db).unwrap();
    let holdings = reader.purge_holdings(&scope(&main, &tz)).unwrap();
    assert_eq!(
        holdings,
        Holdings {
            applications: 1,
            by_status: vec![(Status::Accepted, 1)],
            messages: 2,
            raw_bytes: holdings.raw_bytes,
            attachments: 1,
            outbox: 2,
            waiting: 0,
            history: 1,
            mailbox_events: 0,
        }
    );
    assert!(holdings.raw_bytes > 100);
    let loose = reader.purge_holdings(&no_event()).unwrap();
    assert_eq!((loose.applications, loose.messages, loose.outbox, loose.mailbox_events), (0, 1, 1, 1), "{loose:?}");
    drop(reader);
    assert_eq!(file_bytes(&db), before, "counting changes nothing");

    let now = at("2023-02-17T09:00:00+09:00");
    let purged = store.purge(&scope(&main, &tz), now).unwrap();
    assert_eq!(purged, Purged::Done { holdings: holdings.clone(), count_rows: 1 });
    let compacted = store.compact().unwrap();
    assert!(compacted.wal_emptied, "{compacted:?}");
    let after = file_bytes(&db);
    for needle in PERSONAL {
        assert!(!contains(&after, needle), "{needle:?} is still in the file after the purge");
    }
    for needle in BOUNCED {
        assert!(contains(&after, needle), "{needle:?}: mail for no event goes with its own scope");
    }
    // The bounce arrived on 15 November: as long before the deletion day as the event.
    let purged = store.purge(&no_event(), now).unwrap();
    let Purged::Done { holdings: loose, count_rows: 0 } = purged else { panic!("{purged:?}") };
    assert_eq!((loose.messages, loose.outbox, loose.mailbox_events), (1, 0, 1), "the summary went with the event");
    assert!(store.compact().unwrap().wal_emptied);
    let after = file_bytes(&db);
    for needle in BOUNCED {
        assert!(!contains(&after, needle), "{needle:?} is still in the file after the purge");
    }

    // Kept: the counts, the purge, and what makes the mail known again.
    assert_eq!(
        store.purged_counts().unwrap(),
        [PurgedCount {
            event: main.clone(),
            day: jiff::civil::date(2022, 11, 15),
            organization_type: OrganizationType::Company,
            status: Status::Accepted,
            applications: 1,
            attendees: 2,
        }]
    );
    assert_eq!(
        store.purges().unwrap(),
        [PurgeRecord {
            event: main.clone(),
            event_name: "퍼지 워크숍".into(),
            at: now,
            applications: 1,
            messages: 2,
            outbox: 2,
        }],
        "a purge of mail for no event is no event's purge"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM messages JOIN raw_messages ON message = id WHERE purged_at IS NOT NULL AND raw = x''"
        ),
        3
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM outbox WHERE purged_at IS NOT NULL AND raw = x'' AND recipient = ''"),
        2
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), 2, "what was sent stays sent");
    for table in ["applications", "application_messages", "application_history", "attachments", "mailbox_events"] {
        assert_eq!(count(&store, &format!("SELECT COUNT(*) FROM {table}")), 0, "{table}");
    }
    let at_uid = MailboxUid { mailbox: "INBOX", uidvalidity: 9, uid: 1 };
    assert!(store.record_known_bytes(at_uid, "sha-kim").unwrap(), "the same bytes are known, not read again");
    assert!(store.message_id_seen("m-ask@mail.example").unwrap(), "and so is the Message-ID");
    assert!(store.messages_with_outcomes(&[Outcome::Inquiry]).unwrap().is_empty(), "nothing left to show staff");
    assert!(store.troubled_replies().unwrap().is_empty());
    assert!(!store.holds_applications(&main).unwrap());
    let fk: i64 = count(&store, "SELECT COUNT(*) FROM pragma_foreign_key_check");
    assert_eq!(fk, 0);

    // Again: nothing left; still compacted cleanly.
    assert_eq!(store.purge(&scope(&main, &tz), now).unwrap(), Purged::Nothing);
    assert_eq!(store.purge(&no_event(), now).unwrap(), Purged::Nothing);
    assert!(store.compact().unwrap().wal_emptied);
}

/// Strings of the second event's applicant, and of mail for no event.
const SEMINAR: [&str; 5] =
    ["lee.seminartest@daon-seminar.example", "이세미", "(주)세미나다온", "010-4242-9898", "SEMINAR-ONLY-TEXT"];
const UNROUTED_EARLY: &str = "UNROUTED-EARLY-PURGE";
const UNROUTED_LATE: &str = "UNROUTED-LATE-KEPT";

/// An application to `event` from `who` (arrived at `arrived`), acknowledged and sent.
fn apply(store: &mut Store, event: &EventId, who: &str, name: &str, organization: &str, body: &str, uid: u32) {
    let sender = EmailAddress::parse(who).unwrap();
    let raw = format!("From: {who}\n\n성명: {name}\n소속: {organization}\n{body}\n");
    let (sha, mid) = (format!("sha-{uid}"), format!("m-{uid}@mail.example"));
    let message = NewMessage {
        arriving: Arriving { sha256: &sha, arrived_at: at("2022-11-15T10:00:00+09:00"), raw: raw.as_bytes() },
        outcome: MessageOutcome {
            message_id: &mid,
            sender: Some(&sender),
            subject: Some(name),
            outcome: Outcome::Registered,
            outcome_detail: None,
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS_REF,
            event: Some((event, RouteReason::SubjectTag)),
        },
    };
    let write = ApplicationWrite::Insert {
        event: event.clone(),
        email: sender.clone(),
        fields: ApplicantFields {
            name: Some(name.into()),
            organization: Some(organization.into()),
            ..Default::default()
        },
        status: Status::Accepted,
        review: None,
    };
    let ack = |_| {
        Ok(Some(NewReply {
            kind: MailKind::Reply(ReplyKind::Ack),
            message_id: format!("ack-{uid}@kaist.ac.kr"),
            envelope_from: None,
            recipient: sender.clone(),
            raw: format!("To: {who}\n\n{name} 님, 접수되었습니다.").into_bytes(),
            event: Some(event.clone()),
            calendar: None,
        }))
    };
    let when = at("2022-11-15T10:00:05+09:00");
    let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid };
    let reply = store.commit_message(uid, &message, &write, when, ack).unwrap().reply.unwrap();
    let claim = store.claim_reply(reply, when).unwrap().unwrap();
    assert!(store.mark_sent(claim, when).unwrap());
}

/// Mail for no event smebridge could tell, asked which event it is for (the question sent).
fn unrouted(store: &mut Store, text: &str, arrived: &str, uid: u32) {
    let sender = EmailAddress::parse("which.purgetest@unrouted-purge.example").unwrap();
    let raw = format!("From: which.purgetest@unrouted-purge.example\n\n{text}\n");
    let (sha, mid) = (format!("sha-{uid}"), format!("m-{uid}@mail.example"));
    let message = NewMessage {
        arriving: Arriving { sha256: &sha, arrived_at: at(arrived), raw: raw.as_bytes() },
        outcome: MessageOutcome {
            message_id: &mid,
            sender: Some(&sender),
            subject: Some("신청"),
            outcome: Outcome::Unrouted,
            outcome_detail: None,
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS_REF,
            event: None,
        },
    };
    let question = |_| {
        Ok(Some(NewReply {
            kind: MailKind::Reply(ReplyKind::WhichEvent),
            message_id: format!("which-{uid}@kaist.ac.kr"),
            envelope_from: None,
            recipient: sender.clone(),
            raw: format!("To: which.purgetest@unrouted-purge.example\n\n> {text}").into_bytes(),
            event: None,
            calendar: None,
        }))
    };
    let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid };
    let reply = store.commit_message(uid, &message, &ApplicationWrite::None, at(arrived), question).unwrap().reply;
    let claim = store.claim_reply(reply.unwrap(), at(arrived)).unwrap().unwrap();
    assert!(store.mark_sent(claim, at(arrived)).unwrap());
}

/// The copy of our own reply `message_id` that came back to the desk's mailbox.
fn own_copy(store: &mut Store, message_id: &str, text: &str, arrived: &str, uid: u32) {
    let own = EmailAddress::parse("smebridge@kaist.ac.kr").unwrap();
    let raw = format!("From: smebridge@kaist.ac.kr\nMessage-ID: <{message_id}>\n\n{text}\n");
    let sha = format!("sha-{uid}");
    let message = NewMessage {
        arriving: Arriving { sha256: &sha, arrived_at: at(arrived), raw: raw.as_bytes() },
        outcome: MessageOutcome {
            message_id,
            sender: Some(&own),
            subject: Some("접수"),
            outcome: Outcome::Automatic,
            outcome_detail: Some("our own reply".into()),
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS_REF,
            event: None,
        },
    };
    let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid };
    store.commit_message(uid, &message, &ApplicationWrite::None, at(arrived), |_| Ok(None)).unwrap();
}

#[test]
fn an_events_purge_takes_its_rows_only_and_mail_for_no_event_goes_by_the_day_it_arrived() {
    let (dir, mut store) = store();
    let db = dir.path().join("db.sqlite");
    let tz = seoul();
    let (workshop, seminar) = (EventId::parse("ws-2211").unwrap(), EventId::parse("sem-2303").unwrap());
    apply(
        &mut store,
        &workshop,
        "kim.purgetest@hanbit-purge.example",
        "김퍼지",
        "(주)퍼지테크",
        "ATTACHED-PURGE-SECRET",
        1,
    );
    // The same kind of mail for the other event, and the same address applying to both.
    apply(
        &mut store,
        &seminar,
        "lee.seminartest@daon-seminar.example",
        "이세미",
        "(주)세미나다온",
        "010-4242-9898 SEMINAR-ONLY-TEXT",
        2,
    );
    apply(&mut store, &seminar, "kim.purgetest@hanbit-purge.example", "김퍼지", "(주)퍼지테크", "", 3);
    unrouted(&mut store, UNROUTED_EARLY, "2022-11-15T11:00:00+09:00", 4);
    unrouted(&mut store, UNROUTED_LATE, "2023-02-10T11:00:00+09:00", 5);
    // The copies of the acknowledgements that came back to the desk's mailbox (bcc_self): the
    // workshop's read late, the seminar's at once.
    own_copy(&mut store, "ack-1@kaist.ac.kr", "ACK-COPY-WORKSHOP", "2023-02-16T10:00:00+09:00", 6);
    own_copy(&mut store, "ack-2@kaist.ac.kr", "ACK-COPY-SEMINAR", "2022-11-15T10:00:10+09:00", 7);

    // The workshop's deletion day has come; the seminar's has not.
    let now = at("2023-02-17T09:00:00+09:00");
    let purged = store.purge(&scope(&workshop, &tz), now).unwrap();
    let Purged::Done { holdings, count_rows: 1 } = purged else { panic!("{purged:?}") };
    assert_eq!((holdings.applications, holdings.messages, holdings.outbox), (1, 2, 1), "its own rows only");
    let before = crate::domain::arrived_due_before(now, &tz, 90);
    assert_eq!(before, at("2022-11-19T00:00:00+09:00"));
    let purged = store.purge(&PurgeScope::NoEvent { before }, now).unwrap();
    let Purged::Done { holdings, .. } = purged else { panic!("{purged:?}") };
    assert_eq!((holdings.messages, holdings.outbox), (1, 1), "the early mail and the question it was asked");
    assert!(store.compact().unwrap().wal_emptied);

    let bytes = file_bytes(&db);
    for gone in ["ATTACHED-PURGE-SECRET", UNROUTED_EARLY, "ACK-COPY-WORKSHOP"] {
        assert!(!contains(&bytes, gone), "{gone:?} is still in the file");
    }
    let others = [UNROUTED_LATE, "김퍼지", "kim.purgetest@hanbit-purge.example", "ACK-COPY-SEMINAR"];
    for kept in SEMINAR.iter().chain(&others) {
        assert!(contains(&bytes, kept), "{kept:?} went with another event's purge");
    }
    assert!(!store.holds_applications(&workshop).unwrap());
    assert!(store.holds_applications(&seminar).unwrap());
    assert_eq!(store.applications().unwrap().len(), 2);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM outbox WHERE event = 'sem-2303' AND purged_at IS NULL AND raw <> x''"),
        2
    );
    let counts = store.purged_counts().unwrap();
    assert_eq!(counts.iter().map(|c| (c.event.as_str(), c.applications)).collect::<Vec<_>>(), [("ws-2211", 1)]);
    assert_eq!(store.purges().unwrap().iter().map(|p| p.event.as_str()).collect::<Vec<_>>(), ["ws-2211"]);
    assert_eq!(store.purge(&scope(&workshop, &tz), now).unwrap(), Purged::Nothing, "nothing of it is left");

    // Later the seminar's day comes too.
    let later = at("2023-06-01T09:00:00+09:00");
    assert!(matches!(store.purge(&scope(&seminar, &tz), later).unwrap(), Purged::Done { count_rows: 1, .. }));
    let before = crate::domain::arrived_due_before(later, &tz, 90);
    assert!(matches!(store.purge(&PurgeScope::NoEvent { before }, later).unwrap(), Purged::Done { .. }));
    assert!(store.compact().unwrap().wal_emptied);
    let bytes = file_bytes(&db);
    for gone in SEMINAR.iter().chain(&others) {
        assert!(!contains(&bytes, gone), "{gone:?} is still in the file");
    }
    let events: Vec<(String, i64)> =
        store.purged_counts().unwrap().into_iter().map(|c| (c.event.as_str().to_owned(), c.applications)).collect();
    assert_eq!(events, [("sem-2303".to_owned(), 2), ("ws-2211".to_owned(), 1)]);
}

#[test]
fn a_reply_waiting_to_be_sent_keeps_everything_of_its_event() {
    let (dir, mut store) = store();
    seed(&mut store);
    let (main, tz) = (main_event(), seoul());
    // A reply of the event waiting to be sent, and one to mail for no event.
    let kim = EmailAddress::parse("kim.purgetest@hanbit-purge.example").unwrap();
    let update = NewMessage {
        arriving: Arriving { sha256: "sha-update", arrived_at: at("2022-11-16T10:00:00+09:00"), raw: b"update" },
        outcome: MessageOutcome {
            message_id: "m-update@mail.example",
            sender: Some(&kim),
            subject: Some("update"),
            outcome: Outcome::Updated,
            outcome_detail: None,
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS_REF,
            event: Some((&main, RouteReason::OnlyEvent)),
        },
    };
    let reply = |_| {
        Ok(Some(NewReply {
            kind: MailKind::Reply(ReplyKind::Update),
            message_id: "update-1@kaist.ac.kr".into(),
            envelope_from: None,
            recipient: kim.clone(),
            raw: b"updated".to_vec(),
            event: Some(main.clone()),
            calendar: None,
        }))
    };
    let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 9 };
    store.commit_message(uid, &update, &ApplicationWrite::None, update.arriving.arrived_at, reply).unwrap();
    queue_one_reply(&mut store);
    let db = dir.path().join("db.sqlite");
    let purged = store.purge(&scope(&main, &tz), at("2023-02-17T09:00:00+09:00")).unwrap();
    let Purged::Waiting { holdings } = purged else { panic!("{purged:?}") };
    assert_eq!(holdings.waiting, 1, "its own reply; not the one to mail for no event");
    let purged = store.purge(&no_event(), at("2023-02-17T09:00:00+09:00")).unwrap();
    assert!(matches!(purged, Purged::Waiting { holdings: Holdings { waiting: 1, .. } }), "{purged:?}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM applications"), 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages WHERE purged_at IS NOT NULL"), 0);
    assert!(store.purged_counts().unwrap().is_empty() && store.purges().unwrap().is_empty());
    assert!(contains(&file_bytes(&db), "김퍼지"));
    drop(store);
    // The selection tables are gone with the rolled-back transaction: the next purge starts clean.
    let mut store = open(&db);
    assert!(matches!(
        store.purge(&scope(&main, &tz), at("2023-02-17T09:00:00+09:00")).unwrap(),
        Purged::Waiting { .. }
    ));
}

#[test]
fn counts_of_a_second_purge_add_to_those_of_the_first() {
    let (_dir, mut store) = store();
    let (main, tz) = (main_event(), seoul());
    seed(&mut store);
    assert!(matches!(store.purge(&scope(&main, &tz), at("2023-02-17T09:00:00+09:00")).unwrap(), Purged::Done { .. }));
    // A late application after the purge, from the same organization on the same day (the
    // mail is dated then): the same row of counts grows.
    let lee = EmailAddress::parse("lee@hanbit-purge.example").unwrap();
    let message = NewMessage {
        arriving: Arriving { sha256: "sha-lee", arrived_at: at("2022-11-15T11:00:00+09:00"), raw: b"late" },
        outcome: MessageOutcome {
            message_id: "m-lee@mail.example",
            sender: Some(&lee),
            subject: Some("late"),
            outcome: Outcome::Registered,
            outcome_detail: None,
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS_REF,
            event: Some((&main, RouteReason::OnlyEvent)),
        },
    };
    let write = ApplicationWrite::Insert {
        event: main.clone(),
        email: lee.clone(),
        fields: ApplicantFields { organization: Some("(주)퍼지테크".into()), ..Default::default() },
        status: Status::Accepted,
        review: None,
    };
    let uid = MailboxUid { mailbox: "INBOX", uidvalidity: 1, uid: 4 };
    store.commit_message(uid, &message, &write, Timestamp::now(), |_| Ok(None)).unwrap();
    assert!(matches!(store.purge(&scope(&main, &tz), at("2023-03-01T09:00:00+09:00")).unwrap(), Purged::Done { .. }));
    let counts = store.purged_counts().unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].applications, counts[0].attendees), (2, 3));
    assert_eq!(store.purges().unwrap().len(), 2);
}

#[test]
fn statistics_count_the_day_of_arrival_in_the_events_time_zone_and_the_organization_type() {
    let counted = |email, organization, received: &str| Counted {
        email,
        organization,
        status: Status::Accepted,
        attendees: None,
        received_at: at(received),
    };
    let rows = tally(
        [
            counted("a@hanbit.co.kr", None, "2022-11-13T14:59:59Z"),
            counted("b@kaist.ac.kr", Some("KAIST"), "2022-11-13T15:00:00Z"),
            counted("c@naver.com", None, "2022-11-14T01:00:00Z"),
        ],
        &main_event(),
        &seoul(),
    );
    let seen: Vec<(String, OrganizationType, i64)> =
        rows.iter().map(|r| (r.day.to_string(), r.organization_type, r.attendees)).collect();
    assert_eq!(
        seen,
        [
            ("2022-11-13".to_owned(), OrganizationType::Company, 1),
            ("2022-11-14".to_owned(), OrganizationType::University, 1),
            ("2022-11-14".to_owned(), OrganizationType::Unknown, 1),
        ]
    );
}
