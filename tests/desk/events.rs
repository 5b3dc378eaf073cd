//! Several events from one mailbox, through a real Postfix and Dovecot: each application lands in
//! its event (by thread, plus-address, subject tag, keyword, the only open event), an ambiguous
//! mail gets one question and is assigned by staff, seats and waiting lists are per event, the
//! same person applies to two events, exports, summary and stats take `--event`, and mail from
//! before `opens` is recorded but never answered (or, without `opens`, a full mailbox on the first
//! start waits for `--accept-backlog`).

use std::collections::HashMap;

use crate::helpers::calendar::{calendars, parse_ics};
use crate::helpers::{header, parsed, Desk, CENTER};

/// Two overlapping events: the workshop takes applications from 2020, the seminar from 2021;
/// both until 2099. The seminar's announcement was sent as `<announce-sem-2212@kaist.ac.kr>`.
fn two_events(capacities: (Option<u32>, Option<u32>), extra: &[(&str, &str)]) -> Desk {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", extra);
    let capacity = |c: Option<u32>| c.map(|c| format!("capacity = {c}\n")).unwrap_or_default();
    let events = format!(
        r#"
[[event]]
id = "ws-2211"
name = "산학협력 워크숍 (Industry-University Workshop)"
opens = "2020-01-01T00:00:00+09:00"
deadline = "2099-06-30T23:59:59+09:00"
timezone = "Asia/Seoul"
starts_at = "2099-07-01T13:30:00+09:00"
venue = "Banyan Tree Club & Spa Seoul, Festa Hall"
contact = "{CENTER}"
keywords = ["산학협력"]
{}
[[event]]
id = "sem-2212"
name = "AI 세미나 (AI Seminar)"
opens = "2021-01-01T00:00:00+09:00"
deadline = "2099-12-30T23:59:59+09:00"
starts_at = "2099-12-31T10:00:00+09:00"
venue = "KAIST 학술문화관"
keywords = ["AI 세미나", "AI seminar"]
announcement_message_id = "<announce-sem-2212@kaist.ac.kr>"
{}"#,
        capacity(capacities.0),
        capacity(capacities.1),
    );
    replace_event_section(&desk, &events);
    desk
}

/// Replace the configuration's `[event]` table with `text`.
pub(crate) fn replace_event_section(desk: &Desk, text: &str) {
    let toml = std::fs::read_to_string(&desk.config).unwrap();
    let start = toml.find("\n[event]\n").expect("the desk configuration has an [event] table");
    let end = toml[start + 1..].find("\n[").map_or(toml.len(), |i| start + 1 + i);
    std::fs::write(&desk.config, format!("{}{text}{}", &toml[..start], &toml[end..])).unwrap();
}

/// A mail as a client sends it: `headers` (one per line) after From and Subject.
fn mail(from: &str, subject: &str, headers: &str, body: &str, id: &str) -> String {
    let has_to = headers.starts_with("To: ") || headers.contains("\nTo: ");
    let to = if has_to { String::new() } else { format!("To: {CENTER}\n") };
    format!(
        "From: {from}\n{to}{headers}Subject: {subject}\nDate: Wed, 16 Nov 2022 10:00:00 +0900\nMessage-ID: <{id}>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}"
    )
}

fn fields(name: &str, organization: &str, phone: &str) -> String {
    format!("성명: {name}\n소속: {organization}\n연락처: {phone}\n")
}

/// Every recorded message as sender → (event, route, outcome), the last one per sender.
fn routes(desk: &Desk) -> HashMap<String, (Option<String>, Option<String>, String)> {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let mut stmt = conn.prepare("SELECT sender, event, route, outcome FROM messages ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn routed(event: &str, route: &str, outcome: &str) -> (Option<String>, Option<String>, String) {
    (Some(event.to_owned()), Some(route.to_owned()), outcome.to_owned())
}

fn body(raw: &[u8]) -> String {
    parsed(raw).body_text(0).unwrap().into_owned()
}

/// `smebridge export --format csv ARGS`, as header + rows.
fn export(desk: &Desk, args: &[&str]) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut command = vec!["export", "--format", "csv"];
    command.extend_from_slice(args);
    let out = desk.smebridge(&command);
    assert!(out.status.success(), "export failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows =
        reader.records().map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect()).collect();
    (headers, rows)
}

/// The standard output of a command that must succeed.
fn run(desk: &Desk, args: &[&str]) -> String {
    let out = desk.smebridge(args);
    assert!(out.status.success(), "smebridge {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The value `smebridge stats` prints for the row starting with `label`.
fn stat(stats: &str, label: &str) -> String {
    let line = stats.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label:?} in\n{stats}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_application_lands_in_its_event_by_thread_plus_address_tag_keyword_and_the_only_open_event() {
    let desk = two_events((None, None), &[]);
    let tagged = "garam@garam-tech.example";
    let plus = "bora@bora-lab.example";
    let keyword = "chan@chan-soft.example";
    let announcement = "dana@dana-bio.example";
    let only_open = "eun@eun-works.example";
    let before_opens = "old@old-news.example";

    let send = |from: &'static str, subject: &str, headers: &str, body: String, id: &str| {
        let raw = mail(from, subject, headers, &body, id);
        let desk = &desk;
        async move { desk.send_to_center(from, &raw).await }
    };
    send(tagged, "[WS-2211] 참가 신청", "", fields("김가람", "가람테크", "010-1000-0001"), "t1@garam.example").await;
    send(
        plus,
        "참가 신청",
        "To: 세미나 신청 <smebridge+sem-2212@kaist.ac.kr>\n",
        fields("이보라", "보라연구소", "010-1000-0002"),
        "p1@bora.example",
    )
    .await;
    let keyword_body = format!("AI 세미나에 참가하고 싶습니다.\n{}", fields("박찬", "찬소프트", "010-1000-0003"));
    send(keyword, "신청합니다", "", keyword_body, "k1@chan.example").await;
    send(
        announcement,
        "Re: 행사 안내",
        "In-Reply-To: <announce-sem-2212@kaist.ac.kr>\nReferences: <announce-sem-2212@kaist.ac.kr>\n",
        fields("최다나", "다나바이오", "010-1000-0004"),
        "a1@dana.example",
    )
    .await;
    // In mid-2020 only the workshop took applications; before 2020 neither did.
    let raw = mail(only_open, "참가 신청", "", &fields("정은", "은웍스", "010-1000-0005"), "o1@eun.example");
    desk.append_to_center(&raw, "01-Jun-2020 10:00:00 +0900").await;
    let raw =
        mail(before_opens, "지난 행사 안내", "", &fields("오래된", "옛날뉴스", "010-1000-0006"), "b1@old.example");
    desk.append_to_center(&raw, "01-Jun-2019 10:00:00 +0900").await;

    let report = desk.once();
    assert!(report.contains("recorded 6 new message"), "{report}");
    assert!(report.contains("queued 5 repl"), "everything but the mail from before opens is answered: {report}");
    let r = routes(&desk);
    assert_eq!(r[tagged], routed("ws-2211", "subject_tag", "registered"));
    assert_eq!(r[plus], routed("sem-2212", "plus_address", "registered"));
    assert_eq!(r[keyword], routed("sem-2212", "keyword", "registered"));
    assert_eq!(r[announcement], routed("sem-2212", "thread", "registered"));
    assert_eq!(r[only_open], routed("ws-2211", "only_open", "registered"));
    assert_eq!(r[before_opens], (None, None, "before_opens".to_owned()));

    // Each acknowledgement names its event, and its privacy notice counts the 90 days of
    // retention from that event's day (the workshop on 1 July 2099, the seminar on 31 December).
    let workshop_kept = "행사일로부터 90일(2099년 9월 29일까지)";
    let seminar_kept = "행사일로부터 90일(2100년 3월 31일까지)";
    for (who, event, name, kept) in [
        (tagged, "ws-2211", "산학협력 워크숍", workshop_kept),
        (plus, "sem-2212", "AI 세미나", seminar_kept),
        (keyword, "sem-2212", "AI 세미나", seminar_kept),
        (announcement, "sem-2212", "AI 세미나", seminar_kept),
        (only_open, "ws-2211", "산학협력 워크숍", workshop_kept),
    ] {
        let ack = desk.wait_for_mail(who, 1).await;
        let text = body(&ack[0].raw);
        assert!(text.contains(&format!("「{name}")), "{who}'s acknowledgement names {event}:\n{text}");
        assert!(text.contains(kept), "{who}'s privacy notice counts from {event}'s day:\n{text}");
    }
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(before_opens).await, 0, "mail from before applications opened is never answered");

    // A reply to the workshop's acknowledgement, with no tag in it: the thread says which event.
    let ack = desk.mailbox(tagged).await.remove(0);
    let ack_id = header(&ack.raw, "Message-ID").unwrap();
    let correction = mail(
        tagged,
        "연락처 변경",
        &format!("In-Reply-To: {ack_id}\nReferences: {ack_id}\n"),
        "연락처: 010-9999-0001\n",
        "t2@garam.example",
    );
    desk.send_to_center(tagged, &correction).await;
    desk.once();
    assert_eq!(routes(&desk)[tagged], routed("ws-2211", "thread", "updated"));
    let update = desk.wait_for_mail(tagged, 2).await;
    assert!(body(&update[1].raw).contains("010-9999-0001"), "{}", body(&update[1].raw));

    // The export appends the event column after the documented ones.
    let (headers, rows) = export(&desk, &[]);
    assert_eq!(
        headers.join(","),
        "email,name,organization,position,phone,attendees,status,received_at,application_no,attachments,people,notes,sources,event"
    );
    let event_of: HashMap<&str, &str> = rows.iter().map(|r| (r["email"].as_str(), r["event"].as_str())).collect();
    assert_eq!(
        event_of,
        HashMap::from([
            (tagged, "ws-2211"),
            (plus, "sem-2212"),
            (keyword, "sem-2212"),
            (announcement, "sem-2212"),
            (only_open, "ws-2211"),
        ])
    );
    assert_eq!(rows.iter().find(|r| r["email"] == tagged).unwrap()["phone"], "010-9999-0001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_mail_gets_one_question_and_staff_assign_it_with_the_usual_acknowledgement() {
    let desk = two_events((None, None), &[]);
    let who = "hana@hana-sys.example";
    let first = mail(who, "참가 신청", "", &fields("한하나", "하나시스템", "010-2000-0001"), "h1@hana.example");
    desk.send_to_center(who, &first).await;
    desk.once();
    let question = desk.wait_for_mail(who, 1).await;
    let text = body(&question[0].raw);
    for needle in ["[ws-2211] 산학협력 워크숍", "[sem-2212] AI 세미나", "어느 행사", "which one you mean"]
    {
        assert!(text.contains(needle), "the question lists the open events ({needle:?}):\n{text}");
    }
    assert_eq!(header(&question[0].raw, "In-Reply-To").as_deref(), Some("<h1@hana.example>"));
    assert_eq!(routes(&desk)[who], (None, None, "unrouted".to_owned()));
    assert!(export(&desk, &[]).1.is_empty(), "an unrouted mail is no application yet");

    // Writing again without saying which: recorded for staff, not asked twice.
    let again =
        mail(who, "신청 확인 부탁드립니다", "", &fields("한하나", "하나시스템", "010-2000-0001"), "h2@hana.example");
    desk.send_to_center(who, &again).await;
    desk.once();
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(who).await, 1, "one question per sender");
    let which: Vec<_> = desk.outbox().into_iter().filter(|(kind, _, _)| kind == "which_event").collect();
    assert_eq!(which.len(), 1);

    // Staff see it in the summary, with the reference to assign it by.
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let id: i64 = conn
        .query_row("SELECT MIN(id) FROM messages WHERE sender = ?1 AND outcome = 'unrouted'", [who], |r| r.get(0))
        .unwrap();
    let reference = format!("MSG-{id:04}");
    let summary = run(&desk, &["summary"]);
    assert!(summary.contains("[행사 미지정 (Which event?)]"), "{summary}");
    assert!(summary.contains(&format!("smebridge application assign-event {reference}")), "{summary}");
    assert!(summary.contains("the sender was asked which event"), "{summary}");

    let out = run(&desk, &["application", "assign-event", &reference, "sem-2212"]);
    assert!(out.contains(&format!("{reference} assigned to sem-2212: registered, SME-")), "{out}");
    assert!(out.contains("replies sent 1"), "{out}");
    let mails = desk.wait_for_mail(who, 2).await;
    let ack = body(&mails[1].raw);
    assert!(ack.contains("「AI 세미나") && ack.contains("접수 번호: SME-"), "{ack}");
    assert_eq!(header(&mails[1].raw, "In-Reply-To").as_deref(), Some("<h1@hana.example>"), "it answers the mail");
    let (_, rows) = export(&desk, &["--event", "sem-2212"]);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["email"].as_str(), rows[0]["status"].as_str()), (who, "accepted"));
    let route: (String, String, String) = conn
        .query_row("SELECT event, route, outcome FROM messages WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(route, ("sem-2212".to_owned(), "staff".to_owned(), "registered".to_owned()));
    // Assigned once: a second time is refused, and the mail since is no longer waiting for staff.
    let twice = desk.smebridge(&["application", "assign-event", &reference, "ws-2211"]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("is not waiting for an event"));
    assert!(!run(&desk, &["summary"]).contains(&reference));
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(who).await, 2, "the question and the acknowledgement, nothing more");

    // An application staff move to the other event, while the daemon runs: judged and
    // acknowledged there, and the seminar's entry in the applicant's calendar is withdrawn by
    // the same mail that publishes the workshop's.
    let seminar_ack = calendars(&mails[1].raw);
    assert_eq!(seminar_ack.len(), 1, "the seminar's acknowledgement publishes it");
    let (mut daemon, log) = desk.spawn_daemon();
    let application = rows[0]["application_no"].clone();
    let out = run(&desk, &["application", "assign-event", &application, "ws-2211"]);
    assert!(out.contains(&format!("{application} assigned to ws-2211: moved, accepted")), "{out}");
    assert!(out.contains("was asked to send them now"), "{out}");
    let mails = desk.wait_for_mail(who, 3).await;
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    assert!(daemon.wait().unwrap().success(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    assert!(body(&mails[2].raw).contains("「산학협력 워크숍"), "{}", body(&mails[2].raw));
    let files: Vec<HashMap<String, String>> = calendars(&mails[2].raw).iter().map(|ics| parse_ics(ics)).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let (withdrawn, published) = (&files[0], &files[1]);
    let old = parse_ics(&seminar_ack[0]);
    assert_eq!((withdrawn["METHOD"].as_str(), withdrawn["STATUS"].as_str()), ("CANCEL", "CANCELLED"));
    assert_eq!(withdrawn["UID"], old["UID"], "the seminar's entry, as published");
    assert!(withdrawn["UID"].ends_with(".sem-2212@kaist.ac.kr"), "{withdrawn:?}");
    assert!(withdrawn["SEQUENCE"].parse::<u32>().unwrap() > old["SEQUENCE"].parse::<u32>().unwrap());
    assert_eq!(published["METHOD"], "PUBLISH");
    assert_eq!(published["UID"], format!("{application}.ws-2211@kaist.ac.kr"));
    assert_eq!(published["DTSTART"], "2099-07-01T13:30:00+09:00");
    assert!(export(&desk, &["--event", "sem-2212"]).1.is_empty());
    assert_eq!(export(&desk, &["--event", "ws-2211"]).1[0]["application_no"], application);
    // And back: the applicant hears it again (an acknowledgement of the seminar was sent before,
    // but this is news), and the workshop's entry leaves the calendar for the seminar's.
    let out = run(&desk, &["application", "assign-event", &application, "sem-2212"]);
    assert!(out.contains(&format!("{application} assigned to sem-2212: moved, accepted; replies sent 1")), "{out}");
    let mails = desk.wait_for_mail(who, 4).await;
    let files: Vec<HashMap<String, String>> = calendars(&mails[3].raw).iter().map(|ics| parse_ics(ics)).collect();
    let methods: Vec<(&str, &str)> = files.iter().map(|f| (f["METHOD"].as_str(), f["UID"].as_str())).collect();
    let (ws, sem) = (format!("{application}.ws-2211@kaist.ac.kr"), format!("{application}.sem-2212@kaist.ac.kr"));
    assert_eq!(methods, [("CANCEL", ws.as_str()), ("PUBLISH", sem.as_str())]);
    assert!(files[1]["SEQUENCE"].parse::<u32>().unwrap() > old["SEQUENCE"].parse::<u32>().unwrap());
    assert_eq!(export(&desk, &["--event", "sem-2212"]).1[0]["application_no"], application);
    // The move is in the application's history, by staff, and `application show` lists it.
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let moved: (String, String, String, String) = conn
        .query_row("SELECT old, new, by, why FROM application_history WHERE field = 'event'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!(moved, ("sem-2212".into(), "ws-2211".into(), "staff".into(), "staff via CLI: assign-event".into()));
    let shown = run(&desk, &["application", "show", &application]);
    assert!(shown.contains("staff event: sem-2212 -> ws-2211 (staff via CLI: assign-event"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_and_waiting_lists_are_per_event_and_one_person_may_apply_to_both() {
    let desk = two_events((Some(1), Some(2)), &[]);
    let (first, second) = ("min@min-tech.example", "seo@seo-lab.example");
    let apply = |from: &str, tag: &str, n: u32| {
        let (name, organization) = if from == first { ("김민", "민테크") } else { ("이서", "서연구소") };
        mail(
            from,
            &format!("[{tag}] 참가 신청"),
            "",
            &fields(name, organization, "010-3000-0001"),
            &format!("{n}@x.example"),
        )
    };
    for (n, (from, tag)) in
        [(first, "ws-2211"), (second, "ws-2211"), (first, "sem-2212"), (second, "sem-2212")].into_iter().enumerate()
    {
        desk.send_to_center(from, &apply(from, tag, n as u32)).await;
        desk.once(); // one at a time, so that the first applicant is first in line
    }
    let status = |event: &str| -> HashMap<String, String> {
        export(&desk, &["--event", event]).1.into_iter().map(|r| (r["email"].clone(), r["status"].clone())).collect()
    };
    let accepted = "accepted".to_owned();
    assert_eq!(
        status("ws-2211"),
        HashMap::from([(first.to_owned(), accepted.clone()), (second.to_owned(), "waitlisted".to_owned())])
    );
    assert_eq!(
        status("sem-2212"),
        HashMap::from([(first.to_owned(), accepted.clone()), (second.to_owned(), accepted.clone())])
    );
    // One acknowledgement per event: the same person is answered for each.
    let mails = desk.wait_for_mail(first, 2).await;
    let texts: Vec<String> = mails.iter().map(|m| body(&m.raw)).collect();
    assert!(texts[0].contains("「산학협력 워크숍") && texts[1].contains("「AI 세미나"), "{texts:?}");
    let mails = desk.wait_for_mail(second, 2).await;
    assert!(body(&mails[0].raw).contains("대기"), "waitlisted for the workshop: {}", body(&mails[0].raw));

    // Stats and the summary, per event and for all.
    let ws = run(&desk, &["stats", "--event", "ws-2211"]);
    assert_eq!(
        (stat(&ws, "신청 (accepted)"), stat(&ws, "대기 (waitlisted)"), stat(&ws, "잔여 좌석")),
        ("1".into(), "1".into(), "0".into())
    );
    let sem = run(&desk, &["stats", "--event", "sem-2212"]);
    assert_eq!((stat(&sem, "신청 (accepted)"), stat(&sem, "대기 (waitlisted)")), ("2".into(), "0".into()));
    let all = run(&desk, &["stats"]);
    assert!(all.contains("[ws-2211] 산학협력 워크숍") && all.contains("[sem-2212] AI 세미나"), "{all}");
    let summary = run(&desk, &["summary"]);
    assert!(summary.contains("■ 현황 (Where registration stands) · [ws-2211] 산학협력 워크숍"), "{summary}");
    assert!(summary.contains("■ 현황 (Where registration stands) · [sem-2212] AI 세미나"), "{summary}");
    let only_sem = run(&desk, &["summary", "--event", "sem-2212"]);
    assert!(only_sem.contains("AI 세미나") && !only_sem.contains("[ws-2211]"), "{only_sem}");
    assert!(only_sem.contains("신청 (Accepted): 2건"), "{only_sem}");
    let unknown = desk.smebridge(&["export", "--event", "ws-9999"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no event \"ws-9999\" (its events: ws-2211, sem-2212)"));

    // The first applicant cancels the workshop: the second moves up there; the seminar is untouched.
    let ack = desk.mailbox(first).await.remove(0);
    let ack_id = header(&ack.raw, "Message-ID").unwrap();
    let cancel = mail(first, "Re: 참가 신청", &format!("In-Reply-To: {ack_id}\n"), "취소합니다.\n", "c1@min.example");
    desk.send_to_center(first, &cancel).await;
    desk.once();
    assert_eq!(
        status("ws-2211"),
        HashMap::from([(first.to_owned(), "cancelled".to_owned()), (second.to_owned(), accepted.clone())])
    );
    assert_eq!(
        status("sem-2212"),
        HashMap::from([(first.to_owned(), accepted.clone()), (second.to_owned(), accepted)])
    );
    let promoted = desk.wait_for_mail(second, 3).await;
    assert!(body(&promoted[2].raw).contains("「산학협력 워크숍"), "{}", body(&promoted[2].raw));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_from_before_opens_is_recorded_never_answered_and_counted_for_staff() {
    // One event opening on 1 November 2022; a low backlog limit, which opens makes moot.
    let desk = Desk::start_with(
        "2099-12-31T23:59:59+09:00",
        &[("event", "opens = \"2022-11-01T00:00:00+09:00\""), ("replies", "backlog_limit = 1")],
    );
    let old = ["news@old-letters.example", "prev@last-year.example"];
    for (i, from) in old.iter().enumerate() {
        let raw = mail(
            from,
            "지난 행사 후기",
            "",
            &fields("지난사람", "옛회사", "010-4000-0001"),
            &format!("old{i}@x.example"),
        );
        desk.append_to_center(&raw, "20-Oct-2022 10:00:00 +0900").await;
    }
    let new = "now@this-year.example";
    let raw = mail(new, "참가 신청", "", &fields("올해사람", "새회사", "010-4000-0002"), "new@x.example");
    desk.append_to_center(&raw, "05-Nov-2022 10:00:00 +0900").await;

    let report = desk.once();
    assert!(report.contains("recorded 3 new message") && report.contains("queued 1 repl"), "{report}");
    desk.wait_for_mail(new, 1).await;
    desk.wait_for_queue_empty();
    for from in old {
        assert_eq!(desk.count(from).await, 0, "{from} wrote before applications opened");
        assert_eq!(
            routes(&desk)[from],
            (Some("main".to_owned()), Some("only_event".to_owned()), "before_opens".to_owned())
        );
    }
    let rows = desk.export();
    assert_eq!(rows.len(), 1, "mail from before opens is no application");
    assert_eq!(rows[0]["email"], new);
    let summary = run(&desk, &["summary"]);
    assert!(summary.contains("신청 시작 전에 온 메일 2건은 기록만 하고 답장하지 않았습니다."), "{summary}");
    assert!(summary.contains("2 messages that arrived before applications opened were recorded and not answered."));
    assert_eq!(stat(&run(&desk, &["stats"]), "신청 시작 전 (before opens)"), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_on_a_full_mailbox_without_opens_answers_nothing_until_told_to_accept_the_backlog() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("replies", "backlog_limit = 3")]);
    let senders: Vec<String> = (0..4).map(|i| format!("backlog{i}@full-box.example")).collect();
    // Four different people (each their own name and organization: else they are one applicant).
    let people = [("김하나", "하나상사"), ("이두리", "두리정밀"), ("박세나", "세나바이오"), ("최네라", "네라소프트")];
    for (i, from) in senders.iter().enumerate() {
        let (name, organization) = people[i];
        let raw =
            mail(from, "참가 신청", "", &fields(name, organization, "010-5000-0001"), &format!("bl{i}@x.example"));
        desk.send_to_center(from, &raw).await;
    }
    let refused = desk.smebridge(&["once"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    for needle in [
        "first start",
        "already holds 4 messages",
        "backlog_limit = 3",
        "opens",
        "--accept-backlog",
        "Nothing was recorded or sent",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in:\n{stderr}");
    }
    assert_eq!(desk.messages_recorded(), 0);
    // The daemon stops on it too, instead of retrying.
    let daemon = desk.smebridge(&["run"]);
    assert!(!daemon.status.success());
    assert!(String::from_utf8_lossy(&daemon.stderr).contains("--accept-backlog"));
    desk.wait_for_queue_empty();
    for from in &senders {
        assert_eq!(desk.count(from).await, 0, "nothing was answered");
    }

    let accepted = run(&desk, &["once", "--accept-backlog"]);
    assert!(accepted.contains("recorded 4 new message") && accepted.contains("queued 4 repl"), "{accepted}");
    for from in &senders {
        desk.wait_for_mail(from, 1).await;
    }
    // No longer a first start: more mail than the limit needs no flag.
    let later: Vec<String> = (0..4).map(|i| format!("later{i}@full-box.example")).collect();
    let people = [("정다섯", "다섯기계"), ("강여섯", "여섯화학"), ("조일곱", "일곱전자"), ("윤여덟", "여덟식품")];
    for (i, from) in later.iter().enumerate() {
        let (name, organization) = people[i];
        let raw =
            mail(from, "참가 신청", "", &fields(name, organization, "010-5000-0002"), &format!("lt{i}@x.example"));
        desk.send_to_center(from, &raw).await;
    }
    assert!(desk.once().contains("queued 4 repl"));
}
