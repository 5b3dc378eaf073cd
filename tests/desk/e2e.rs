//! The whole loop against a real Dovecot and a real Postfix: mail goes in as an applicant's
//! client sends it, `smebridge` (the real binary) processes it, and what comes back is read from
//! the applicant's own mailbox over IMAP.

use std::time::Duration;

use crate::helpers::{application, header, parsed, Desk, CENTER, DEADLINE};

const KIM: &str = "kim.minjun@hanbit-tech.example";

fn kim_application() -> String {
    application(
        "김민준",
        KIM,
        "워크숍 참가 신청합니다",
        "안녕하세요. 아래와 같이 참가 신청합니다.\n\n성명: 김민준\n소속: (주)한빛테크\n직위: 책임연구원\n연락처: 010-1234-5678\n참석인원: 2명\n비고: 주차 지원 부탁드립니다\n\n감사합니다.\n",
        "kim-1@hanbit-tech.example",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_sent_over_smtp_is_recorded_and_acknowledged() {
    let desk = Desk::start();
    desk.send_to_center(KIM, &kim_application()).await;

    let report = desk.once();
    assert!(report.contains("recorded 1 new message"), "{report}");
    assert!(report.contains("sent 1"), "{report}");

    // Stored as the applicant wrote it.
    let rows = desk.export();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["email"], KIM);
    assert_eq!(row["name"], "김민준");
    assert_eq!(row["organization"], "(주)한빛테크");
    assert_eq!(row["position"], "책임연구원");
    assert_eq!(row["phone"], "010-1234-5678");
    assert_eq!(row["attendees"], "2");
    assert_eq!(row["notes"], "주차 지원 부탁드립니다", "the applicant's remarks are kept for staff");
    assert!(row["sources"].contains("name: line "), "where each value was read: {}", row["sources"]);
    assert_eq!(row["status"], "accepted");
    assert!(row["received_at"].ends_with("+09:00"), "arrival time in Seoul time: {}", row["received_at"]);

    // The acknowledgement, as it arrived in the applicant's mailbox.
    let inbox = desk.wait_for_mail(KIM, 1).await;
    let ack = &inbox[0].raw;
    let message = parsed(ack);
    assert_eq!(message.from().and_then(|f| f.first()).and_then(|a| a.address()), Some(CENTER));
    assert_eq!(message.to().and_then(|t| t.first()).and_then(|a| a.address()), Some(KIM));
    assert_eq!(message.subject(), Some("Re: 워크숍 참가 신청합니다"));
    assert_eq!(header(ack, "In-Reply-To").as_deref(), Some("<kim-1@hanbit-tech.example>"));
    assert_eq!(header(ack, "References").as_deref(), Some("<kim-1@hanbit-tech.example>"));
    assert_eq!(header(ack, "Auto-Submitted").as_deref(), Some("auto-replied"));
    assert!(message.message_id().is_some_and(|id| id.ends_with("@kaist.ac.kr")));
    assert_eq!(header(ack, "Return-Path").as_deref(), Some("<>"), "replies go out with an empty envelope sender");
    let body = message.body_text(0).unwrap();
    for expected in [
        "김민준",
        "(주)한빛테크",
        "책임연구원",
        "010-1234-5678",
        "SME-0001",
        "Banyan Tree",
        // The workshop's start (the test configuration's: the day after its deadline).
        "2100년 1월 1일 (금) 오후 1:30",
        "취소",
        "cancel",
    ] {
        assert!(body.contains(expected), "the acknowledgement should mention {expected:?}:\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_is_judged_on_arrival_in_seoul_not_on_the_date_header() {
    let desk = Desk::start_with_deadline(DEADLINE);
    // Arrived one minute before the deadline, but claims to be written after it.
    let early = application(
        "이서연",
        "lee.seoyeon@daon.example",
        "참가 신청",
        "성명: 이서연\n소속: 다온소재\n연락처: 010-2222-3333\n",
        "lee-1@daon.example",
    )
    .replace("Wed, 16 Nov 2022 10:00:00 +0900", "Sat, 19 Nov 2022 09:00:00 +0900");
    // Arrived one minute after the deadline, but claims to be written the day before.
    let late = application(
        "박지훈",
        "park.jihoon@saebyeok.example",
        "참가 신청",
        "성명: 박지훈\n소속: 새벽정밀\n연락처: 010-4444-5555\n",
        "park-1@saebyeok.example",
    );
    desk.append_to_center(&early, "17-Nov-2022 23:58:59 +0900").await;
    desk.append_to_center(&late, "18-Nov-2022 00:00:59 +0900").await;

    let report = desk.once();
    assert!(report.contains("recorded 2 new message"), "{report}");

    let rows = desk.export();
    let status_of = |email: &str| rows.iter().find(|r| r["email"] == email).map(|r| r["status"].clone());
    assert_eq!(status_of("lee.seoyeon@daon.example").as_deref(), Some("accepted"));
    assert_eq!(status_of("park.jihoon@saebyeok.example").as_deref(), Some("late"));
    let late_row = rows.iter().find(|r| r["status"] == "late").unwrap();
    assert_eq!(late_row["received_at"], "2022-11-18T00:00:59+09:00");

    let ack = desk.wait_for_mail("lee.seoyeon@daon.example", 1).await;
    assert!(parsed(&ack[0].raw).body_text(0).unwrap().contains("접수 번호"));

    let rejection = desk.wait_for_mail("park.jihoon@saebyeok.example", 1).await;
    let body = parsed(&rejection[0].raw).body_text(0).unwrap().into_owned();
    assert!(body.contains("마감"), "{body}");
    assert!(body.contains("2022년 11월 17일 (목) 오후 11:59"), "quotes the deadline in Seoul time:\n{body}");
    assert!(body.contains("2022년 11월 18일 (금) 오전 12:00"), "quotes the arrival in Seoul time:\n{body}");
    assert!(body.contains("after the deadline"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_once_twice_sends_no_second_reply() {
    let desk = Desk::start();
    desk.send_to_center(KIM, &kim_application()).await;
    let first = desk.once();
    assert!(first.contains("sent 1"), "{first}");
    desk.wait_for_mail(KIM, 1).await;

    let second = desk.once();
    assert!(second.contains("recorded 0 new message"), "{second}");
    assert!(second.contains("queued 0"), "{second}");
    assert!(second.contains("sent 0"), "{second}");

    // Everything Postfix was handed is delivered: then count.
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(KIM).await, 1, "exactly one acknowledgement");
    assert_eq!(desk.outbox_states(), vec![("sent".to_owned(), 1)]);
    assert_eq!(desk.messages_recorded(), 1);
    assert_eq!(desk.export().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_reply_is_recorded_but_never_answered() {
    let desk = Desk::start();
    let vacation = "From: Choi Out-of-office <choi@gachon-bio.example>\nTo: smebridge@kaist.ac.kr\nSubject: 부재중: 워크숍 안내\nAuto-Submitted: auto-replied\nMessage-ID: <ooo-1@gachon-bio.example>\nContent-Type: text/plain; charset=utf-8\n\n현재 부재중입니다. 성명: 최부재\n";
    desk.send_to_center("choi@gachon-bio.example", vacation).await;
    // A real application in the same pass proves the pass ran and its replies were delivered.
    desk.send_to_center(KIM, &kim_application()).await;

    let report = desk.once();
    assert!(report.contains("recorded 2 new message"), "{report}");
    assert!(report.contains("queued 1"), "{report}");
    desk.wait_for_mail(KIM, 1).await;
    desk.wait_for_queue_empty();

    assert_eq!(desk.count("choi@gachon-bio.example").await, 0, "no reply to an auto-reply");
    assert_eq!(desk.messages_recorded(), 2, "the auto-reply is still recorded");
    let rows = desk.export();
    assert_eq!(rows.len(), 1, "an auto-reply is not an application");
    assert_eq!(rows[0]["email"], KIM);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_cannot_be_sent_stays_pending_and_goes_out_exactly_once_later() {
    let mut desk = Desk::start();
    desk.stack.stop_postfix().expect("stop Postfix");
    // Postfix is down, so the application arrives the other way mail can: straight into the box.
    desk.append_to_center(&kim_application(), "16-Nov-2022 10:00:00 +0900").await;

    let first = desk.once();
    assert!(first.contains("recorded 1 new message"), "{first}");
    assert!(first.contains("sent 0, retrying 1"), "{first}");
    assert_eq!(desk.outbox_states(), vec![("pending".to_owned(), 1)]);
    assert_eq!(desk.export().len(), 1, "the application is stored although the reply is not out");

    desk.stack.start_postfix().expect("start Postfix");
    let second = desk.once();
    assert!(second.contains("sent 1"), "{second}");
    assert_eq!(desk.outbox_states(), vec![("sent".to_owned(), 1)]);
    desk.wait_for_mail(KIM, 1).await;

    let third = desk.once();
    assert!(third.contains("sent 0"), "{third}");
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(KIM).await, 1, "delivered exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_mail_updates_the_application_instead_of_duplicating_it() {
    let desk = Desk::start();
    desk.send_to_center(KIM, &kim_application()).await;
    desk.once();
    desk.wait_for_mail(KIM, 1).await;

    let correction = application(
        "김민준",
        KIM,
        "RE: 워크숍 참가 신청합니다",
        "연락처가 바뀌었습니다.\n연락처: 010-9876-5432\n\n-----Original Message-----\nFrom: smebridge@kaist.ac.kr\nSent: Wednesday, November 16, 2022 10:01 AM\n\n연락처: 010-1234-5678\n",
        "kim-2@hanbit-tech.example",
    );
    desk.send_to_center(KIM, &correction).await;
    let report = desk.once();
    assert!(report.contains("queued 1"), "{report}");

    let rows = desk.export();
    assert_eq!(rows.len(), 1, "one application per applicant");
    assert_eq!(rows[0]["phone"], "010-9876-5432");
    assert_eq!(rows[0]["name"], "김민준", "fields the correction does not mention are kept");

    let inbox = desk.wait_for_mail(KIM, 2).await;
    let update = inbox
        .iter()
        .map(|m| parsed(&m.raw).body_text(0).unwrap().into_owned())
        .find(|b| b.contains("→"))
        .expect("an update confirmation");
    assert!(update.contains("010-1234-5678 → 010-9876-5432"), "{update}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_answers_new_mail_as_it_arrives_and_stops_cleanly_on_sigterm() {
    let desk = Desk::start();
    let (command, log) = desk.command(&["run"]);
    let mut daemon = tokio::process::Command::from(command).kill_on_drop(true).spawn().expect("smebridge run starts");

    // Mail that arrives while the daemon waits in IDLE is answered without any `once`.
    desk.wait_for_idle(CENTER);
    desk.send_to_center(KIM, &kim_application()).await;
    let inbox = desk.wait_for_mail(KIM, 1).await;
    assert_eq!(header(&inbox[0].raw, "Auto-Submitted").as_deref(), Some("auto-replied"));
    // Two more, one after the other, on the same IMAP connection: each answered, and the
    // mailbox seen as it is (one connection, many syncs: no false "UIDNEXT went backwards").
    for (name, org, to) in
        [("이하은", "다온바이오", "lee@daon-bio.example"), ("박도윤", "새솔소프트", "park@saesol-soft.example")]
    {
        let body = format!("성명: {name}\n소속: {org}\n연락처: 010-2222-3333\n");
        let mail = application(name, to, "참가 신청", &body, &format!("apply@{}", to.split('@').nth(1).unwrap()));
        desk.send_to_center(to, &mail).await;
        desk.wait_for_mail(to, 1).await;
    }
    let events: i64 = rusqlite::Connection::open(desk.database())
        .unwrap()
        .query_row("SELECT COUNT(*) FROM mailbox_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events, 0, "nothing unusual happened to the mailbox");

    let pid = daemon.id().expect("running") as i32;
    // SAFETY: kill(2) on the child we spawned.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(20), daemon.wait())
        .await
        .expect("the daemon stops within 20 s of SIGTERM")
        .unwrap();
    let stderr = std::fs::read_to_string(log).unwrap();
    assert!(status.success(), "exit status {status:?}\n{stderr}");
    assert!(stderr.contains("smebridge stopped"), "{stderr}");
    assert!(!stderr.contains(mailstack::PASSWORD), "no password in the log:\n{stderr}");
    assert!(!stderr.contains(KIM), "no applicant address at info level:\n{stderr}");
    assert!(!stderr.contains("김민준"), "no applicant name at info level:\n{stderr}");
    assert!(!stderr.contains("010-1234-5678"), "no applicant phone at info level:\n{stderr}");
    assert_eq!(desk.outbox_states(), vec![("sent".to_owned(), 3)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applicant_can_cancel_by_replying_and_apply_again() {
    let desk = Desk::start();
    desk.send_to_center(KIM, &kim_application()).await;
    desk.once();
    let ack = desk.wait_for_mail(KIM, 1).await;
    let ack_id = parsed(&ack[0].raw).message_id().unwrap().to_owned();

    // A reply to the acknowledgement, quoting it as Gmail does.
    let quoted: String = parsed(&ack[0].raw).body_text(0).unwrap().lines().map(|l| format!("> {l}\n")).collect();
    let cancel = format!(
        "From: 김민준 <{KIM}>\nTo: {CENTER}\nSubject: Re: Re: 워크숍 참가 신청합니다\nMessage-ID: <kim-cancel@hanbit-tech.example>\nIn-Reply-To: <{ack_id}>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n사정이 생겨 참가를 취소합니다. 죄송합니다.\n\n2022년 11월 16일 (수) 오전 10:01, KAIST <{CENTER}>님이 작성:\n{quoted}"
    );
    desk.send_to_center(KIM, &cancel).await;
    let report = desk.once();
    assert!(report.contains("queued 1"), "{report}");
    assert_eq!(desk.export()[0]["status"], "cancelled");
    let inbox = desk.wait_for_mail(KIM, 2).await;
    let bodies: Vec<String> = inbox.iter().map(|m| parsed(&m.raw).body_text(0).unwrap().into_owned()).collect();
    assert!(bodies.iter().any(|b| b.contains("취소했습니다") && b.contains("SME-0001")), "{bodies:?}");

    // Applying again reopens the same application.
    desk.send_to_center(KIM, &kim_application().replace("kim-1@", "kim-3@")).await;
    desk.once();
    let rows = desk.export();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "accepted");
    assert_eq!(rows[0]["application_no"], "SME-0001");
    desk.wait_for_mail(KIM, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_application_is_the_original_senders() {
    let desk = Desk::start();
    let forward = format!(
        "From: 비서 <assistant@hanbit-tech.example>\nTo: {CENTER}\nSubject: Fwd: 워크숍 참가 신청\nMessage-ID: <fwd-1@hanbit-tech.example>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n전달합니다.\n\n---------- Forwarded message ---------\nFrom: 김민준 <{KIM}>\nDate: 2022년 11월 15일 (화) 오전 9:00\nSubject: 워크숍 참가 신청\nTo: 비서 <assistant@hanbit-tech.example>\n\n성명: 김민준\n소속: (주)한빛테크\n연락처: 010-1234-5678\n"
    );
    desk.send_to_center("assistant@hanbit-tech.example", &forward).await;
    desk.once();
    let rows = desk.export();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["email"], KIM, "the applicant, not the forwarder");
    assert_eq!(rows[0]["name"], "김민준");
    desk.wait_for_mail(KIM, 1).await;
    assert_eq!(desk.count("assistant@hanbit-tech.example").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_form_attached_as_hwp_docx_or_pdf_is_read() {
    use base64::Engine as _;
    let desk = Desk::start();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attachments");
    for (i, (file, ctype)) in [
        ("application-form.hwp", "application/x-hwp"),
        ("application-form.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("application-form.pdf", "application/pdf"),
    ]
    .iter()
    .enumerate()
    {
        let bytes = std::fs::read(fixtures.join(file)).unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        let wrapped: String =
            encoded.as_bytes().chunks(76).map(|c| format!("{}\n", std::str::from_utf8(c).unwrap())).collect();
        let from = format!("form{i}@forms.example");
        let mail = format!(
            "From: <{from}>\nTo: {CENTER}\nSubject: =?UTF-8?B?7Iug7LKt7IScIOyyqOu2gA==?=\nMessage-ID: <form-{i}@forms.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n신청서를 첨부합니다.\n--b\nContent-Type: {ctype}; name=\"{file}\"\nContent-Disposition: attachment; filename=\"{file}\"\nContent-Transfer-Encoding: base64\n\n{wrapped}--b--\n"
        );
        desk.send_to_center(&from, &mail).await;
    }
    desk.once();
    // The three forms name the same person, sent from three addresses: each address is an
    // applicant of its own (matched by address only), so each application shows what its form
    // says (the mails say nothing else): each form must have been read. The second and third
    // carry a note for staff naming the earlier ones by number.
    let rows = desk.export();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let files = ["application-form.hwp", "application-form.docx", "application-form.pdf"];
    for (i, file) in files.iter().enumerate() {
        let row = rows.iter().find(|r| r["email"] == format!("form{i}@forms.example")).unwrap();
        assert_eq!(row["name"], "김민준", "{row:?}");
        assert_eq!(row["phone"], "010-1234-5678", "{row:?}");
        assert!(row["organization"].contains("한빛테크"), "{row:?}");
        assert!(row["attachments"].contains(file), "{row:?}");
    }
    let outcomes: Vec<String> = desk.outcomes().into_iter().map(|(_, outcome)| outcome).collect();
    assert_eq!(outcomes, ["registered"; 3]);
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let review = |email: &str| -> String {
        conn.query_row("SELECT COALESCE(review, '') FROM applications WHERE email = ?1", [email], |r| r.get(0)).unwrap()
    };
    assert!(!review("form0@forms.example").contains("같은 이름·소속"));
    assert!(review("form1@forms.example").contains("같은 이름·소속의 신청이 있음: SME-0001 (다른 주소)"));
    assert!(review("form2@forms.example").contains("같은 이름·소속의 신청이 있음: SME-0001, SME-0002 (다른 주소)"));
}
