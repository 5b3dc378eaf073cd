//! Who gets a reply, and which — checked in the real mailboxes of a real Dovecot, with mail
//! going through a real Postfix. One test per rule.

use std::time::Duration;

use crate::helpers::{application, header, parsed, Desk, CENTER};

fn apply(name: &str, email: &str, id: &str) -> String {
    application(
        name,
        email,
        "워크숍 참가 신청",
        &format!("성명: {name}\n소속: 테스트상사\n연락처: 010-1111-2222\n"),
        id,
    )
}

fn body_of(raw: &[u8]) -> String {
    parsed(raw).body_text(0).unwrap().into_owned()
}

/// Every kind of automatic mail is recorded and never answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_mail_of_every_kind_gets_no_reply() {
    let desk = Desk::start();
    let cases: Vec<(&str, String)> = vec![
        ("as1@auto.example", "Auto-Submitted: auto-generated".into()),
        ("pb1@auto.example", "Precedence: bulk".into()),
        ("pl1@auto.example", "Precedence: list".into()),
        ("pj1@auto.example", "Precedence: junk".into()),
        ("li1@auto.example", "List-Id: <workshop.lists.example>".into()),
        ("lu1@auto.example", "List-Unsubscribe: <mailto:leave@lists.example>".into()),
        ("ls1@auto.example", "Sender: workshop-bounces@lists.example".into()),
        ("xa1@auto.example", "X-Auto-Response-Suppress: All".into()),
        ("xo1@auto.example", "X-Auto-Response-Suppress: DR, OOF".into()),
        ("xr1@auto.example", "X-Autoreply: yes".into()),
        ("xs1@auto.example", "X-Autorespond: vacation".into()),
        ("lp1@auto.example", "X-Smebridge-Loop: smebridge@kaist.ac.kr".into()),
        ("noreply@shop.example", "X-Mailer: shop".into()),
        ("no-reply@shop.example", "X-Mailer: shop".into()),
        ("workshop-request@lists.example", "X-Mailer: list".into()),
        ("owner-workshop@lists.example", "X-Mailer: list".into()),
        ("postmaster@mx.example", "X-Mailer: mx".into()),
        ("mailer-daemon@mx.example", "X-Mailer: mx".into()),
    ];
    for (i, (from, extra)) in cases.iter().enumerate() {
        let raw = apply("자동메일", from, &format!("auto-{i}@auto.example"))
            .replace("MIME-Version: 1.0\n", &format!("MIME-Version: 1.0\n{extra}\n"));
        desk.send_to_center(from, &raw).await;
    }
    // An empty envelope sender: Dovecot records `Return-Path: <>`.
    let bounce_like = apply("빈발신자", "nullsender@auto.example", "null-1@auto.example");
    desk.submit("", &[CENTER], &bounce_like).await;
    // A delivery report.
    let report = format!(
        "From: Mail Delivery System <mailer@mx2.example>\nTo: {CENTER}\nSubject: Undelivered Mail\nMessage-ID: <dsn-1@mx2.example>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n성명: 반송\n--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx2.example\n--b1--\n"
    );
    desk.send_to_center("mailer@mx2.example", &report).await;
    // Mail from our own address.
    desk.send_to_center(CENTER, &apply("센터", CENTER, "self-1@kaist.ac.kr")).await;
    // And from its plus-address (the one routing by event uses).
    let plus = CENTER.replacen('@', "+main@", 1);
    desk.send_to_center(&plus, &apply("센터", &plus, "self-2@kaist.ac.kr")).await;
    // And one real application, to prove replies do go out.
    desk.send_to_center("real@person.example", &apply("김실제", "real@person.example", "real-1@person.example")).await;
    desk.stack.wait_for_delivery(CENTER, cases.len() + 5, Duration::from_secs(30)).unwrap();

    let out = desk.once();
    assert!(out.contains(&format!("recorded {} new message", cases.len() + 5)), "{out}");
    assert!(out.contains("queued 1 repl"), "only the real application is answered: {out}");
    desk.wait_for_mail("real@person.example", 1).await;
    desk.wait_for_queue_empty();
    for (from, extra) in &cases {
        assert_eq!(desk.count(from).await, 0, "{from} ({extra}) must get no reply");
    }
    assert_eq!(desk.count("nullsender@auto.example").await, 0);
    assert_eq!(desk.count("mailer@mx2.example").await, 0);
    let automatic = desk.outcomes().iter().filter(|(_, o)| o == "automatic").count();
    assert_eq!(automatic, cases.len() + 4, "every automatic mail is recorded as such: {:?}", desk.outcomes());
    assert_eq!(desk.export().len(), 1);
}

/// A From header its client mangled (the closing `>` lost) leaves nobody to answer: nothing is
/// sent, but the mail is no automatic mail either: staff find it among what needs a person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mangled_from_is_not_answered_and_staff_are_shown_it() {
    let desk = Desk::start();
    let raw = apply("홍망가", "mangled@from.example", "mangled-1@from.example").replacen(
        "<mangled@from.example>",
        "<mangled@from.example",
        1,
    );
    assert!(raw.contains("From: 홍망가 <mangled@from.example\n"), "{raw}");
    desk.send_to_center("mangled@from.example", &raw).await;
    let out = desk.once();
    assert!(out.contains("recorded 1 new message") && out.contains("queued 0"), "{out}");
    assert_eq!(desk.outcomes().last().unwrap().1, "unreadable", "{:?}", desk.outcomes());
    assert!(desk.export().is_empty());
    let summary = desk.smebridge(&["summary"]);
    let summary = String::from_utf8_lossy(&summary.stdout);
    assert!(summary.contains("확인 필요 (Needs a person): 1건"), "{summary}");
    assert!(summary.contains("성명: 홍망가"), "the mail's text is shown: {summary}");
    desk.wait_for_queue_empty();
    assert_eq!(desk.count("mangled@from.example").await, 0);
}

/// An acknowledgement that comes back (forwarded, or reflected by a broken auto-responder) is
/// recognised as our own and not answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_reply_coming_back_is_not_answered() {
    let desk = Desk::start();
    desk.send_to_center("kim@loop.example", &apply("김루프", "kim@loop.example", "loop-1@loop.example")).await;
    desk.once();
    let ack = desk.wait_for_mail("kim@loop.example", 1).await.remove(0);
    // The applicant's server bounces it back to the center (with our headers still in it).
    let returned = String::from_utf8(ack.raw).unwrap().replace("To: ", "X-Original-To: ").replacen(
        "From:",
        &format!("To: {CENTER}\nFrom:"),
        1,
    );
    desk.submit("", &[CENTER], &returned).await;
    desk.stack.wait_for_delivery(CENTER, 2, Duration::from_secs(30)).unwrap();
    let out = desk.once();
    assert!(out.contains("recorded 1 new message") && out.contains("queued 0"), "{out}");
    assert_eq!(desk.outcomes().last().unwrap().1, "automatic");
}

/// A subject carrying `\r\nBcc: victim` in an encoded word adds no recipient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoded_header_injection_adds_no_recipient() {
    let desk = Desk::start();
    // "Hello\r\nBcc: victim@target.example" and a display name with the same trick.
    let raw = apply("김주입", "inject@attack.example", "inj-1@attack.example")
        .replace("Subject: 워크숍 참가 신청", "Subject: =?UTF-8?B?SGVsbG8NCkJjYzogdmljdGltQHRhcmdldC5leGFtcGxl?=")
        .replace("From: 김주입 <", "From: =?UTF-8?B?S2ltDQpCY2M6IHZpY3RpbTJAdGFyZ2V0LmV4YW1wbGU=?= <");
    desk.send_to_center("inject@attack.example", &raw).await;
    desk.once();
    let reply = desk.wait_for_mail("inject@attack.example", 1).await.remove(0);
    desk.wait_for_queue_empty();
    assert_eq!(desk.count("victim@target.example").await, 0, "the would-be victim got nothing");
    assert_eq!(desk.count("victim2@target.example").await, 0, "the would-be victim got nothing");
    assert_eq!(header(&reply.raw, "Bcc"), None);
    assert_eq!(parsed(&reply.raw).subject(), Some("Re: Hello Bcc: victim@target.example"), "one line, decoded text");
}

/// A Reply-To naming someone else is not mailed: the reply goes to the sender (the applicant),
/// and staff are told what the Reply-To asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_naming_someone_else_is_not_mailed_the_sender_is_answered_and_staff_told() {
    let desk = Desk::start();
    let raw = apply("이비서", "ceo@firm.example", "rt-1@firm.example")
        .replace("MIME-Version", "Reply-To: assistant@firm.example\nMIME-Version");
    desk.send_to_center("ceo@firm.example", &raw).await;
    desk.once();
    let reply = desk.wait_for_mail("ceo@firm.example", 1).await.remove(0);
    desk.wait_for_queue_empty();
    assert_eq!(desk.count("assistant@firm.example").await, 0, "the Reply-To address gets nothing");
    let to: Vec<String> = parsed(&reply.raw)
        .to()
        .into_iter()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address().map(str::to_owned))
        .collect();
    assert_eq!(to, ["ceo@firm.example"]);
    assert_eq!(header(&reply.raw, "Cc"), None);
    assert_eq!(desk.export()[0]["email"], "ceo@firm.example", "the application is the sender's");
    let review = review_of(&desk, "ceo@firm.example");
    assert!(review.contains("Reply-To names another address (assistant@firm.example)"), "{review}");
}

/// Ten applicants each naming the same third party in Reply-To: each applicant gets their own
/// acknowledgement, the third party gets nothing, and staff see it in the summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_applicants_naming_one_third_party_in_reply_to_cannot_make_it_a_target() {
    let desk = Desk::start();
    let target = "target@third-party.example";
    let applicants: Vec<String> = (0..10).map(|i| format!("applicant{i}@many.example")).collect();
    for (i, email) in applicants.iter().enumerate() {
        let raw = apply(&format!("신청자{i}"), email, &format!("rt-many-{i}@many.example"))
            .replace("MIME-Version", &format!("Reply-To: {target}\nMIME-Version"));
        desk.send_to_center(email, &raw).await;
    }
    let out = desk.once();
    assert!(out.contains("queued 10 repl") && out.contains("sent 10"), "{out}");
    for email in &applicants {
        let mails = desk.wait_for_mail(email, 1).await;
        assert_eq!(mails.len(), 1, "{email} gets exactly their acknowledgement");
        assert!(body_of(&mails[0].raw).contains("접수 번호"), "an acknowledgement");
    }
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(target).await, 0, "the third party is no target");
    assert!(desk.outbox().iter().all(|(_, to, _)| to != target), "{:?}", desk.outbox());
    for email in &applicants {
        assert!(review_of(&desk, email).contains(target), "staff are told for {email}");
    }
    let summary = desk.smebridge(&["summary"]);
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(summary.status.success(), "{text}");
    assert_eq!(text.matches(&format!("Reply-To names another address ({target})")).count(), 10, "{text}");
}

fn review_of(desk: &Desk, email: &str) -> String {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    conn.query_row("SELECT COALESCE(review, '') FROM applications WHERE email = ?1", [email], |r| r.get(0)).unwrap()
}

/// Mail written in English is answered in English first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_mail_gets_english_first() {
    let desk = Desk::start();
    let raw = application(
        "Jane Doe",
        "jane@acme.example",
        "Registration",
        "Hello, I would like to register.\nName: Jane Doe\nCompany: Acme Robotics\nPhone: 010-2345-6789\n",
        "en-1@acme.example",
    );
    desk.send_to_center("jane@acme.example", &raw).await;
    desk.send_to_center(
        "kim@korean.example",
        &application(
            "김민준",
            "kim@korean.example",
            "신청",
            "성명: 김민준\n소속: 한빛\n연락처: 010-1234-5678\n",
            "ko-1@korean.example",
        ),
    )
    .await;
    desk.once();
    let en = body_of(&desk.wait_for_mail("jane@acme.example", 1).await[0].raw);
    assert!(en.starts_with("Dear Jane Doe"), "{en}");
    assert!(en.contains("안녕하십니까"), "Korean still follows:\n{en}");
    let ko = body_of(&desk.wait_for_mail("kim@korean.example", 1).await[0].raw);
    assert!(ko.starts_with("안녕하십니까"), "{ko}");
}

/// Past the capacity, applications are waitlisted; a cancellation moves the first one up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_event_waitlists_and_a_cancellation_promotes_the_first_in_line() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("event", "capacity = 2")]);
    for (name, email) in [
        ("가나다", "a@cap.example"),
        ("라마바", "b@cap.example"),
        ("사아자", "c@cap.example"),
        ("차카타", "d@cap.example"),
    ] {
        desk.send_to_center(email, &apply(name, email, &format!("{}-1@cap.example", &email[..1]))).await;
    }
    desk.once();
    let status = |rows: &Vec<std::collections::HashMap<String, String>>, email: &str| {
        rows.iter().find(|r| r["email"] == email).unwrap()["status"].clone()
    };
    let rows = desk.export();
    assert_eq!(status(&rows, "a@cap.example"), "accepted");
    assert_eq!(status(&rows, "b@cap.example"), "accepted");
    assert_eq!(status(&rows, "c@cap.example"), "waitlisted");
    assert_eq!(status(&rows, "d@cap.example"), "waitlisted");
    let waitlisted = body_of(&desk.wait_for_mail("c@cap.example", 1).await[0].raw);
    assert!(waitlisted.contains("대기자") && waitlisted.contains("waiting list"), "{waitlisted}");

    let cancel = application("가나다", "a@cap.example", "참가 취소", "취소합니다.\n", "a-2@cap.example");
    desk.send_to_center("a@cap.example", &cancel).await;
    desk.once();
    let rows = desk.export();
    assert_eq!(status(&rows, "a@cap.example"), "cancelled");
    assert_eq!(status(&rows, "c@cap.example"), "accepted", "first in line moves up");
    assert_eq!(status(&rows, "d@cap.example"), "waitlisted");
    let inbox = desk.wait_for_mail("c@cap.example", 2).await;
    assert!(inbox.iter().any(|m| body_of(&m.raw).contains("참가가 확정")), "C is told");
    desk.wait_for_mail("a@cap.example", 2).await; // ack + cancellation confirmation
}

/// At most N replies per address per day: past that, replies wait in the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_one_address_are_rate_limited() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("replies", "max_per_sender_per_day = 2")]);
    let email = "chatty@rate.example";
    desk.send_to_center(email, &apply("박수다", email, "r-1@rate.example")).await;
    desk.once();
    for (i, phone) in ["010-3333-0001", "010-3333-0002"].iter().enumerate() {
        let change =
            application("박수다", email, "변경", &format!("연락처: {phone}\n"), &format!("r-{}@rate.example", i + 2));
        desk.send_to_center(email, &change).await;
        desk.once();
    }
    desk.wait_for_mail(email, 2).await;
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(email).await, 2, "the third reply waits");
    let states: Vec<String> = desk.outbox().into_iter().map(|(_, _, state)| state).collect();
    assert_eq!(states, ["sent", "sent", "pending"]);
    assert_eq!(desk.export()[0]["phone"], "010-3333-0002", "the change itself is applied");
}

/// A sender failing the center's DMARC check is stored for review and gets no reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_sender_is_held_for_review_without_a_reply() {
    let desk = Desk::start_with(
        "2099-12-31T23:59:59+09:00",
        &[("security", "require_auth = \"dmarc\""), ("security", "authserv_id = \"mx.kaist.ac.kr\"")],
    );
    let forged = apply("위조", "victim@bank.example", "forged-1@bank.example")
        .replace("From:", "Authentication-Results: mx.kaist.ac.kr; spf=fail smtp.mailfrom=bank.example; dmarc=fail header.from=bank.example\nFrom:");
    let genuine = apply("진짜", "real@genuine.example", "genuine-1@genuine.example")
        .replace("From:", "Authentication-Results: mx.kaist.ac.kr; spf=pass smtp.mailfrom=genuine.example; dmarc=pass header.from=genuine.example\nFrom:");
    // A "dmarc=pass" the sender smuggled in through the envelope sender, which our server
    // quoted in a comment and a property: still a DMARC failure.
    let spoof = apply("위조둘", "other@bank.example", "forged-2@bank.example").replace(
        "From:",
        "Authentication-Results: mx.kaist.ac.kr; spf=softfail (mx: domain of \"x; dmarc=pass y\"@evil.example does\n not designate 192.0.2.7 as permitted sender) smtp.mailfrom=\"x; dmarc=pass y\"@evil.example;\n dmarc=fail header.from=bank.example\nFrom:",
    );
    desk.send_to_center("victim@bank.example", &forged).await;
    desk.send_to_center("other@bank.example", &spoof).await;
    desk.send_to_center("real@genuine.example", &genuine).await;
    desk.once();
    desk.wait_for_mail("real@genuine.example", 1).await;
    desk.wait_for_queue_empty();
    assert_eq!(desk.count("victim@bank.example").await, 0, "no backscatter to a forged address");
    assert_eq!(desk.count("other@bank.example").await, 0, "the smuggled pass does not count");
    assert_eq!(desk.export().len(), 3, "the held applications are stored");
    for forged in ["victim@bank.example", "other@bank.example"] {
        let review = review_of(&desk, forged);
        assert!(review.contains("dmarc=fail"), "{forged}: {review}");
    }
}

/// A question is passed to staff, not registered; the short reply is off by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inquiry_is_not_an_application() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("replies", "answer_inquiries = true")]);
    let question = application(
        "문의자",
        "ask@question.example",
        "주차 문의",
        "행사장에 주차가 가능한가요?\n",
        "q-1@question.example",
    );
    desk.send_to_center("ask@question.example", &question).await;
    desk.once();
    assert!(desk.export().is_empty(), "no application for a question");
    let reply = body_of(&desk.wait_for_mail("ask@question.example", 1).await[0].raw);
    assert!(reply.contains("담당자에게 전달"), "{reply}");
    assert!(!reply.contains("접수 번호"), "never a registration acknowledgement");
    assert_eq!(desk.outcomes()[0].1, "inquiry");
}
