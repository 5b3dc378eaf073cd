//! The applicant's journey after the acknowledgement, in real mailboxes of a real Dovecot with
//! mail through a real Postfix: the calendar file each acknowledgement of a place carries (read
//! back with a real iCalendar parser, Python's `icalendar`), its cancellation, the reminder
//! before the event and the thank-you after it (exactly once, across restarts, with the
//! daemon's clock moved by `SMEBRIDGE_CLOCK_START`), and the record sent back on request.

use std::collections::HashMap;
use std::process::Stdio;

use mail_parser::MimeHeaders;

use crate::helpers::calendar::{calendars, parse_ics};
use crate::helpers::{application, parsed, Desk};

/// Applications close on the 17th; the workshop is on the 18th at 1:30 pm, Seoul time.
const DEADLINE: &str = "2022-11-17T23:59:59+09:00";

fn apply(name: &str, email: &str, id: &str) -> String {
    application(name, email, "워크숍 참가 신청", &format!("성명: {name}\n소속: 여정상사\n연락처: 010-3333-4444\n"), id)
}

fn body_of(raw: &[u8]) -> String {
    parsed(raw).body_text(0).unwrap_or_default().into_owned()
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

/// Staff move the workshop (a new time and room in the configuration): each accepted applicant
/// whose calendar holds the entry gets it again, updated (same UID, higher SEQUENCE, the new
/// time and place), with a short mail saying so; once per change, across passes; nobody on the
/// waiting list; nothing when what changed is not in the calendar (directions); nothing once the
/// event has begun.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_event_updates_the_calendar_entry_of_every_accepted_applicant_once() {
    let desk = Desk::start_with(DEADLINE, &[("event", "capacity = 1")]);
    let (kim, lee) = ("kim@moved.example", "lee@moved.example");
    desk.append_to_center(&apply("김이동", kim, "mv-kim@moved.example"), "16-Nov-2022 10:00:00 +0900").await;
    desk.append_to_center(&apply("이대기", lee, "mv-lee@moved.example"), "16-Nov-2022 10:05:00 +0900").await;
    once_at(&desk, "2022-11-16T12:00:00+09:00");
    let ack = desk.wait_for_mail(kim, 1).await.remove(0).raw;
    let first = parse_ics(&calendars(&ack)[0]);
    desk.wait_for_mail(lee, 1).await;

    let edit = |from: &str, to: &str| edit_config(&desk, from, to);
    // Not in the calendar (how to get there is in the mails, not the entry): nothing is sent.
    edit("capacity = 1", "capacity = 1\ndirections = \"지하철 3호선 동대입구역 5번 출구\"");
    once_at(&desk, "2022-11-16T13:00:00+09:00");
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(kim).await, 1, "nothing changed for the calendar");

    edit("2022-11-18T13:30:00+09:00", "2022-11-18T15:00:00+09:00");
    edit("Banyan Tree Club & Spa Seoul, Festa Hall", "KAIST 학술문화관 2층");
    once_at(&desk, "2022-11-16T14:00:00+09:00");
    once_at(&desk, "2022-11-16T15:00:00+09:00");
    let mails = desk.wait_for_mail(kim, 2).await;
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(kim).await, 2, "one update for one change, across passes");
    assert_eq!(desk.count(lee).await, 1, "the waiting list has no calendar entry to update");
    let update = mails.into_iter().find(|m| m.raw != ack).unwrap().raw;
    let text = body_of(&update);
    assert!(text.contains("일정 또는 장소가 바뀌었습니다") && text.contains("KAIST 학술문화관 2층"), "{text}");
    assert!(text.contains("SME-0001"), "{text}");
    let files = calendars(&update);
    assert_eq!(files.len(), 1, "{files:?}");
    let entry = parse_ics(&files[0]);
    assert_eq!(entry["METHOD"], "PUBLISH");
    assert_eq!(entry["UID"], first["UID"], "the same entry, updated");
    assert!(entry["SEQUENCE"].parse::<u32>().unwrap() > first["SEQUENCE"].parse::<u32>().unwrap());
    assert_eq!(entry["DTSTART"], "2022-11-18T15:00:00+09:00");
    assert_eq!(entry["LOCATION"], "KAIST 학술문화관 2층");
    assert_eq!(desk.outbox().iter().filter(|(kind, _, _)| kind == "rescheduled").count(), 1);

    // Moved again, but only noticed once the event has begun: too late to tell anyone.
    edit("KAIST 학술문화관 2층", "KAIST 학술문화관 3층");
    once_at(&desk, "2022-11-18T15:30:00+09:00");
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(kim).await, 2, "nothing after the event began");
}

/// Updates that cannot go out at once (here held by the rate limits) never tell the applicant
/// something that is no longer so: a newer change replaces the update still waiting, and once
/// the event has begun what still waits is withdrawn, never sent; staff see both among the
/// replies not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_still_waiting_is_replaced_by_a_newer_one_and_withdrawn_once_the_event_begins() {
    let desk = Desk::start_with(DEADLINE, &[("replies", "max_per_sender_per_day = 1")]);
    let kim = "kim@held.example";
    desk.append_to_center(&apply("김대기", kim, "held-kim@held.example"), "16-Nov-2022 10:00:00 +0900").await;
    once_at(&desk, "2022-11-16T12:00:00+09:00");
    desk.wait_for_mail(kim, 1).await;
    let edit = |from: &str, to: &str| edit_config(&desk, from, to);
    let rescheduled = |desk: &Desk| -> Vec<(String, Option<String>)> {
        let conn = rusqlite::Connection::open(desk.database()).unwrap();
        let mut stmt =
            conn.prepare("SELECT state, last_error FROM outbox WHERE kind = 'rescheduled' ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };

    edit("Banyan Tree Club & Spa Seoul, Festa Hall", "KAIST 학술문화관 2층");
    once_at(&desk, "2022-11-16T13:00:00+09:00");
    assert_eq!(rescheduled(&desk), [("pending".to_owned(), None)], "held by the rate limit");
    edit("KAIST 학술문화관 2층", "Banyan Tree Club & Spa Seoul, Festa Hall");
    once_at(&desk, "2022-11-16T14:00:00+09:00");
    let states = rescheduled(&desk);
    assert_eq!(states.len(), 2, "{states:?}");
    assert_eq!(states[0], ("failed".to_owned(), Some("not sent: a newer update of the event replaced it".to_owned())));
    assert_eq!(states[1].0, "pending");

    // The event begins with the newer one still held: withdrawn, never sent.
    once_at(&desk, "2022-11-18T13:31:00+09:00");
    let states = rescheduled(&desk);
    assert_eq!(states[1], ("failed".to_owned(), Some("not sent: the event had begun".to_owned())), "{states:?}");
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(kim).await, 1, "only the acknowledgement reached the applicant");
}

/// Staff edit the configuration: the first `from` becomes `to`.
fn edit_config(desk: &Desk, from: &str, to: &str) {
    let toml = std::fs::read_to_string(&desk.config).unwrap();
    assert!(toml.contains(from), "{from}");
    std::fs::write(&desk.config, toml.replacen(from, to, 1)).unwrap();
}

/// `smebridge ARGS` with the daemon's clock started at `clock` (see `crate::helpers::Desk::command`).
fn once_at(desk: &Desk, clock: &str) -> String {
    let (mut command, log) = desk.command(&["once"]);
    let out = command.env("SMEBRIDGE_CLOCK_START", clock).stderr(Stdio::piped()).output().expect("smebridge");
    std::fs::write(log, &out.stderr).unwrap();
    assert!(out.status.success(), "once at {clock}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The daemon with its clock started at `clock`, until `done` holds (at most 60 s); then SIGTERM.
fn run_daemon_until(desk: &Desk, clock: &str, what: &str, mut done: impl FnMut() -> bool) {
    let (mut daemon, log) = desk.spawn(&["run"], &[("SMEBRIDGE_CLOCK_START", clock)]);
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let status = daemon.wait().unwrap();
    assert!(status.success(), "{}", std::fs::read_to_string(log).unwrap_or_default());
}

/// Outbox rows of `kind`, as (recipient, state).
fn queued(desk: &Desk, kind: &str) -> Vec<(String, String)> {
    desk.outbox().into_iter().filter(|(k, _, _)| k == kind).map(|(_, to, state)| (to, state)).collect()
}

/// How many mails in `user`'s mailbox contain `needle`.
async fn mails_with(desk: &Desk, user: &str, needle: &str) -> usize {
    desk.mailbox(user).await.iter().filter(|m| body_of(&m.raw).contains(needle)).count()
}

const REMINDER: &str = "곧 열립니다";
const THANKS: &str = "참석해 주셔서 감사합니다";

/// Two accepted applicants (one moved up from the waiting list), one who cancelled, one still
/// waiting; the event on the 18th at 1:30 pm, reminders a day ahead, thank-yous a day after.
async fn four_applicants() -> Desk {
    let desk = Desk::start_with(
        DEADLINE,
        &[
            ("event", "capacity = 2"),
            ("event", "remind_before = \"1d\""),
            ("event", "thank_you_after = \"1d\""),
            ("event", "directions = \"지하철 3호선 동대입구역 5번 출구\""),
        ],
    );
    for (i, (name, email)) in [
        ("김확정", "kim@remind.example"),
        ("박취소", "park@remind.example"),
        ("이승급", "lee@remind.example"),
        ("최대기", "choi@remind.example"),
    ]
    .iter()
    .enumerate()
    {
        let at = format!("16-Nov-2022 10:0{i}:00 +0900");
        desk.append_to_center(&apply(name, email, &format!("r{i}@remind.example")), &at).await;
    }
    let cancel = application(
        "박취소",
        "park@remind.example",
        "Re: 워크숍 참가 신청",
        "참가를 취소합니다.\n",
        "r-cancel@remind.example",
    );
    desk.append_to_center(&cancel, "16-Nov-2022 11:00:00 +0900").await;
    once_at(&desk, "2022-11-16T12:00:00+09:00");
    let statuses: HashMap<String, String> =
        desk.export().into_iter().map(|row| (row["email"].clone(), row["status"].clone())).collect();
    assert_eq!(statuses["kim@remind.example"], "accepted");
    assert_eq!(statuses["park@remind.example"], "cancelled");
    assert_eq!(statuses["lee@remind.example"], "accepted", "moved up when Park cancelled");
    assert_eq!(statuses["choi@remind.example"], "waitlisted");
    desk
}

/// The reminder goes once to each accepted applicant, also when the daemon first starts on the
/// morning of the event (late), and never again after a restart; never to the cancelled or the
/// waitlisted; never once the event has begun. The thank-you likewise, after the event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reminder_and_the_thank_you_go_once_to_accepted_applicants_only_across_a_restart() {
    let desk = four_applicants().await;
    assert!(queued(&desk, "reminder").is_empty(), "not due two days ahead");

    // The daemon first starts on the morning of the event: late, but before it begins.
    run_daemon_until(&desk, "2022-11-18T09:00:00+09:00", "the reminders to be sent", || {
        let sent = queued(&desk, "reminder");
        sent.len() == 2 && sent.iter().all(|(_, state)| state == "sent")
    });
    let mut reminded: Vec<String> = queued(&desk, "reminder").into_iter().map(|(to, _)| to).collect();
    reminded.sort();
    assert_eq!(reminded, ["kim@remind.example", "lee@remind.example"]);
    let reminder = desk.wait_for_mail("kim@remind.example", 2).await;
    let text = reminder.iter().map(|m| body_of(&m.raw)).find(|b| b.contains(REMINDER)).expect("Kim's reminder");
    for shown in [
        "2022년 11월 18일 (금) 오후 1:30",
        "Banyan Tree Club & Spa Seoul",
        "동대입구역 5번 출구",
        "\"취소\"",
        "SME-0001",
    ] {
        assert!(text.contains(shown), "the reminder should show {shown:?}:\n{text}");
    }
    assert!(text.contains("Friday 18 November 2022, 1:30 pm") && text.contains("\"cancel\""), "{text}");

    // A restart an hour later, still before the event: nothing again.
    once_at(&desk, "2022-11-18T10:00:00+09:00");
    // Once the event has begun: nothing either.
    once_at(&desk, "2022-11-18T14:00:00+09:00");
    assert_eq!(queued(&desk, "reminder").len(), 2, "{:?}", desk.outbox());
    desk.wait_for_queue_empty();
    for (user, expected) in
        [("kim@remind.example", 1), ("lee@remind.example", 1), ("park@remind.example", 0), ("choi@remind.example", 0)]
    {
        assert_eq!(mails_with(&desk, user, REMINDER).await, expected, "reminders in {user}'s mailbox");
    }

    // The thank-you: not before a day after the end, then once to the accepted.
    once_at(&desk, "2022-11-19T09:00:00+09:00");
    assert!(queued(&desk, "thank_you").is_empty());
    once_at(&desk, "2022-11-19T17:00:00+09:00");
    once_at(&desk, "2022-11-19T18:00:00+09:00");
    let mut thanked: Vec<String> = queued(&desk, "thank_you").into_iter().map(|(to, _)| to).collect();
    thanked.sort();
    assert_eq!(thanked, ["kim@remind.example", "lee@remind.example"]);
    desk.wait_for_queue_empty();
    for (user, expected) in
        [("kim@remind.example", 1), ("lee@remind.example", 1), ("park@remind.example", 0), ("choi@remind.example", 0)]
    {
        assert_eq!(mails_with(&desk, user, THANKS).await, expected, "thank-yous in {user}'s mailbox");
    }
}

/// A desk first started after the event began sends no reminder at all; without
/// `thank_you_after` no thank-you either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reminder_once_the_event_has_begun_and_no_thank_you_unless_configured() {
    let desk = Desk::start_with(DEADLINE, &[("event", "remind_before = \"1d\"")]);
    desk.append_to_center(
        &apply("정늦음", "jung@remind.example", "late-start@remind.example"),
        "16-Nov-2022 10:00:00 +0900",
    )
    .await;
    once_at(&desk, "2022-11-18T13:30:00+09:00");
    once_at(&desk, "2022-11-20T09:00:00+09:00");
    desk.wait_for_mail("jung@remind.example", 1).await;
    desk.wait_for_queue_empty();
    let kinds: Vec<String> = desk.outbox().into_iter().map(|(kind, _, _)| kind).collect();
    assert_eq!(kinds, ["ack"], "only the acknowledgement");
    assert_eq!(mails_with(&desk, "jung@remind.example", REMINDER).await, 0);
}

/// "신청 확인" and "am I registered?" get the record back, with its status; a colleague asking
/// about someone else's application by name learns nothing: their mail waits for staff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applicant_who_asks_gets_their_record_back() {
    let desk = four_applicants().await;
    let ask =
        |name: &str, email: &str, subject: &str, body: &str, id: &str| application(name, email, subject, body, id);
    desk.append_to_center(
        &ask(
            "김확정",
            "kim@remind.example",
            "신청 확인",
            "제 신청이 잘 되었는지 확인 부탁드립니다.\n",
            "ask-1@remind.example",
        ),
        "16-Nov-2022 13:00:00 +0900",
    )
    .await;
    desk.append_to_center(
        &ask("Choi", "choi@remind.example", "Workshop", "Hello,\nam I registered?\n", "ask-2@remind.example"),
        "16-Nov-2022 13:01:00 +0900",
    )
    .await;
    // A colleague writes from another address, naming Kim and Kim's company.
    desk.append_to_center(
        &ask(
            "김확정",
            "office@elsewhere.example",
            "신청 확인",
            "성명: 김확정\n소속: 여정상사\n",
            "ask-3@remind.example",
        ),
        "16-Nov-2022 13:02:00 +0900",
    )
    .await;
    let out = once_at(&desk, "2022-11-16T14:00:00+09:00");
    assert!(out.contains("queued 2 repl"), "{out}");
    assert!(queued(&desk, "status").iter().all(|(to, _)| to != "office@elsewhere.example"));
    let statuses: Vec<(String, String)> = queued(&desk, "status");
    assert_eq!(statuses.len(), 2, "{:?}", desk.outbox());
    desk.wait_for_queue_empty();

    let kim = desk.mailbox("kim@remind.example").await;
    let record = kim.iter().map(|m| body_of(&m.raw)).find(|b| b.contains("신청 내용입니다")).expect("Kim's record");
    for shown in ["SME-0001", "참가 확정", "김확정", "여정상사", "010-3333-4444", "오후 1:30", "Banyan Tree"]
    {
        assert!(record.contains(shown), "the record should show {shown:?}:\n{record}");
    }
    let choi = desk.mailbox("choi@remind.example").await;
    let record =
        choi.iter().map(|m| body_of(&m.raw)).find(|b| b.contains("Here is your registration")).expect("Choi's record");
    assert!(record.contains("on the waiting list") && record.contains("SME-0004"), "{record}");
    // English first: Choi wrote in English.
    assert!(record.find("Here is your registration") < record.find("신청 내용입니다"), "{record}");
    // Each recorded as a repeat of the applicant's; the colleague's, from an address with no
    // application, is a question for staff (never a new application in Kim's name); the
    // applications untouched.
    let outcomes = desk.outcomes();
    assert_eq!(outcomes.iter().filter(|(_, o)| o == "repeat").count(), 2, "{outcomes:?}");
    assert!(outcomes.contains(&(Some("office@elsewhere.example".to_owned()), "inquiry".to_owned())), "{outcomes:?}");
    assert_eq!(desk.export().len(), 4);
}
