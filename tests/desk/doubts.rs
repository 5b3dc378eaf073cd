//! An application whose values look doubtful is stored as read, with `review` naming each
//! doubt, and acknowledged like any other — checked through a real Dovecot and Postfix.

use crate::helpers::{application, Desk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubtful_application_is_stored_for_review_with_its_reasons() {
    let desk = Desk::start();
    let doubtful = application(
        "Pyeon Doyun",
        "doyun@saebyeok.example",
        "Workshop registration",
        "성명: 편도윤\n소속: 새벽정밀\n연락처: 010-12-34\n참석인원: 120명\n",
        "doubt-1@saebyeok.example",
    );
    let plain = application(
        "Kang Haneul",
        "haneul@nuri.example",
        "Workshop registration",
        "성명: 강하늘\n소속: 누리소프트\n연락처: 010-2345-6789\n",
        "plain-1@nuri.example",
    );
    desk.send_to_center("doyun@saebyeok.example", &doubtful).await;
    desk.send_to_center("haneul@nuri.example", &plain).await;
    desk.once();

    desk.wait_for_mail("doyun@saebyeok.example", 1).await;
    let rows = desk.export();
    assert_eq!(rows.len(), 2, "both are stored: {rows:?}");
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let review = |email: &str| -> Option<String> {
        conn.query_row("SELECT review FROM applications WHERE email = ?1", [email], |r| r.get(0)).unwrap()
    };
    let reasons = review("doyun@saebyeok.example").expect("the doubtful application is marked for review");
    assert!(reasons.contains("missing: phone"), "{reasons}");
    assert!(reasons.contains(r#"doubtful: phone "010-12-34" is not a phone number"#), "{reasons}");
    assert!(reasons.contains(r#"doubtful: attendees "120명" is not a usable count"#), "{reasons}");
    assert_eq!(review("haneul@nuri.example"), None, "an ordinary application is not marked");
}
