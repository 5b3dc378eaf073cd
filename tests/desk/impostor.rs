//! Someone else's name and organization, from another address: through the real Postfix and
//! Dovecot, a mail that states the name and organization of an application made from another
//! address never changes, cancels or reveals that application. A second applicant of the same
//! name at the same company gets an application of their own (staff are told of the namesake by
//! number); a cancellation naming someone else cancels nothing and waits for a person; a request
//! for someone else's record is a question for staff. Staff see each in the summary.

use crate::helpers::{application, parsed, Desk};

fn body_of(raw: &[u8]) -> String {
    parsed(raw).body_text(0).unwrap_or_default().into_owned()
}

const VICTIM: &str = "hong35@naver.example";
const NAMESAKE: &str = "hong.other@another.example";
const ATTACKER: &str = "attacker@evil.example";
const ASKER: &str = "office@curious.example";

/// What only the first applicant's record holds: none of it may reach anyone else.
const VICTIMS_OWN: [&str; 4] = ["010-2222-3535", "팀장", VICTIM, "SME-0001"];

fn row<'a>(
    rows: &'a [std::collections::HashMap<String, String>],
    email: &str,
) -> &'a std::collections::HashMap<String, String> {
    rows.iter().find(|r| r["email"] == email).unwrap_or_else(|| panic!("no application for {email}: {rows:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_name_and_organization_from_another_address_never_reaches_the_first_application() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("replies", "answer_inquiries = true")]);

    // The first applicant.
    let first = application(
        "홍길동팔",
        VICTIM,
        "워크숍 참가 신청",
        "성명: 홍길동팔\n소속: 팔비트\n직위: 팀장\n연락처: 010-2222-3535\n",
        "victim-1@naver.example",
    );
    desk.send_to_center(VICTIM, &first).await;
    desk.once();
    assert!(body_of(&desk.wait_for_mail(VICTIM, 1).await[0].raw).contains("SME-0001"));

    // A second person of the same name at the same company, from their own address.
    let second = application(
        "홍길동팔",
        NAMESAKE,
        "워크숍 참가 신청",
        "성명: 홍길동팔\n소속: 팔비트\n직위: 연구원\n연락처: 010-9999-1111\n",
        "namesake-1@another.example",
    );
    desk.send_to_center(NAMESAKE, &second).await;
    desk.once();

    let rows = desk.export();
    assert_eq!(rows.len(), 2, "a new application of its own: {rows:?}");
    let victim = row(&rows, VICTIM);
    assert_eq!((victim["phone"].as_str(), victim["position"].as_str()), ("010-2222-3535", "팀장"), "unchanged");
    assert_eq!(victim["status"], "accepted");
    let namesake = row(&rows, NAMESAKE);
    assert_eq!((namesake["phone"].as_str(), namesake["position"].as_str()), ("010-9999-1111", "연구원"));
    assert_eq!(namesake["status"], "accepted", "the second 홍길동팔 gets their own seat");

    let ack = body_of(&desk.wait_for_mail(NAMESAKE, 1).await[0].raw);
    assert!(ack.contains("SME-0002") && ack.contains("010-9999-1111"), "their own acknowledgement:\n{ack}");
    for shown in VICTIMS_OWN {
        assert!(!ack.contains(shown), "the reply must not show {shown:?}:\n{ack}");
    }

    // A stranger cancels, naming the first applicant.
    let cancel = application(
        "홍길동팔",
        ATTACKER,
        "워크숍 참가 취소",
        "워크숍 참가를 취소합니다.\n성명: 홍길동팔\n소속: 팔비트\n",
        "cancel-1@evil.example",
    );
    desk.send_to_center(ATTACKER, &cancel).await;
    // Someone else asks for the first applicant's record.
    let ask = application("홍길동팔", ASKER, "신청 확인", "성명: 홍길동팔\n소속: 팔비트\n", "ask-1@curious.example");
    desk.send_to_center(ASKER, &ask).await;
    desk.once();
    desk.wait_for_queue_empty();

    let rows = desk.export();
    assert_eq!(rows.len(), 2, "neither made an application: {rows:?}");
    let victim = row(&rows, VICTIM);
    assert_eq!(victim["status"], "accepted", "nothing was cancelled");
    assert_eq!((victim["phone"].as_str(), victim["position"].as_str()), ("010-2222-3535", "팀장"));
    let outcomes = desk.outcomes();
    let outcome_of = |sender: &str| outcomes.iter().find(|(s, _)| s.as_deref() == Some(sender)).map(|(_, o)| o.clone());
    assert_eq!(outcome_of(ATTACKER).as_deref(), Some("cancel_without_application"), "{outcomes:?}");
    assert_eq!(outcome_of(ASKER).as_deref(), Some("inquiry"), "{outcomes:?}");

    assert_eq!(desk.count(ATTACKER).await, 0, "the cancellation is answered by no one but staff");
    let asked = desk.mailbox(ASKER).await;
    assert_eq!(asked.len(), 1, "the question is acknowledged, as questions are");
    let asked = body_of(&asked[0].raw);
    assert!(asked.contains("담당자에게 전달"), "{asked}");
    for shown in VICTIMS_OWN.iter().chain(&["SME-0002", "010-9999-1111", "연구원"]) {
        assert!(!asked.contains(shown), "the reply must not show {shown:?}:\n{asked}");
    }
    assert_eq!(desk.count(VICTIM).await, 1, "the first applicant has only their acknowledgement");
    assert_eq!(desk.count(NAMESAKE).await, 1);

    // Staff see all three under "needs a person", each naming the first application by number.
    let summary = desk.smebridge(&["summary"]);
    let text = String::from_utf8_lossy(&summary.stdout).into_owned();
    assert!(summary.status.success(), "{text}");
    assert!(text.contains("SME-0002: 같은 이름·소속의 신청이 있음: SME-0001 (다른 주소)"), "{text}");
    let cancel_item = text.lines().find(|l| l.contains("MSG-0003")).unwrap_or_else(|| panic!("MSG-0003:\n{text}"));
    assert!(cancel_item.contains("취소 요청, 신청 내역 없음"), "{cancel_item}");
    // By now two applications have that name and organization: both are named.
    assert!(cancel_item.contains("같은 이름·소속의 신청이 있음: SME-0001, SME-0002 (다른 주소)"), "{cancel_item}");
    let ask_item = text.lines().find(|l| l.contains("MSG-0004")).unwrap_or_else(|| panic!("MSG-0004:\n{text}"));
    assert!(ask_item.contains("같은 이름·소속의 신청이 있음: SME-0001, SME-0002 (다른 주소)"), "{ask_item}");
    for line in text.lines().filter(|l| l.contains("같은 이름·소속")) {
        for shown in ["010-2222-3535", "팀장", VICTIM] {
            assert!(!line.contains(shown), "the note names the number only: {line}");
        }
    }

    // Staff dealt with the cancellation: it leaves the list.
    let resolved = desk.smebridge(&["application", "resolve", "MSG-0003"]);
    assert!(resolved.status.success(), "{}", String::from_utf8_lossy(&resolved.stderr));
    let text = String::from_utf8_lossy(&desk.smebridge(&["summary"]).stdout).into_owned();
    assert!(!text.contains("MSG-0003"), "{text}");
    assert!(text.contains("MSG-0004"), "{text}");
}
