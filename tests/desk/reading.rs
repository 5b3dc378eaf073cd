//! Reading what applicants mean (issue 14), end to end: fixtures of `tests/fixtures/` (the same
//! bytes `tests/golden.rs` checks) go over SMTP into a real Postfix, are delivered by LMTP into a
//! real Dovecot, and `smebridge once` reads them with the announcement configured as
//! `[event] announcement_file`. Then `smebridge export`, the recorded outcomes and the real
//! mailboxes must show:
//!
//! - the application read from the subject line, from the form typed into the quoted
//!   announcement, from the applicant's sentence rather than the signature, with remarks over
//!   several lines — each answered once;
//! - mail that is not an application (a colleague's forward with the center in Cc, an FYI, a
//!   mail to a friend, a thank-you from a stranger) and auto-replies without any header saying
//!   so — never answered, never counted, shown to staff as unclassified;
//! - changes stated in sentences applied to the application with their source, each answered
//!   with an update that lists exactly what changed; a thank-you changes nothing and gets no mail;
//! - remarks kept when a later mail without remarks changes something else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::{self, Desk, CENTER};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The desk, with the Korean announcement as `[event] announcement_file`.
fn desk() -> Desk {
    let announcement = fixture_dir().join("announcements/announcement-ko.eml");
    let line = format!("announcement_file = \"{}\"", announcement.display());
    Desk::start_with("2099-12-31T23:59:59+09:00", &[("event", &line)])
}

/// A fixture's raw bytes (CRLF, as SMTP carries them) and its expectations.
fn fixture(name: &str) -> (Vec<u8>, Value) {
    let raw = std::fs::read(fixture_dir().join(format!("{name}.eml"))).unwrap();
    let json = std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).unwrap();
    (mailstack::client::crlf(&raw), serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}.json: {e}")))
}

/// Hand `raw` to Postfix for the center (whatever its `To` and `Cc` say) and wait until the
/// center's mailbox has `total` messages.
async fn send(desk: &Desk, envelope_from: &str, raw: &[u8], total: usize) {
    mailstack::client::send_raw(desk.stack.host(), desk.stack.smtp_port(), envelope_from, &[CENTER], raw)
        .await
        .unwrap_or_else(|e| panic!("Postfix must accept the mail from {envelope_from}: {e:#}"));
    desk.stack.wait_for_delivery(CENTER, total, Duration::from_secs(30)).expect("the mail must reach the center");
}

/// `smebridge export --format json`, by application address.
fn export_json(desk: &Desk) -> HashMap<String, Value> {
    let out = desk.smebridge(&["export", "--format", "json"]);
    assert!(out.status.success(), "export failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter().map(|row| (row["email"].as_str().unwrap().to_owned(), row)).collect()
}

/// The export's value for a fixture key: a missing text field is "", a missing count 1.
fn exported(expected: &Value, key: &str) -> Value {
    match (key, &expected[key]) {
        ("attendees", Value::Null) => Value::from(1),
        (_, Value::Null) => Value::from(""),
        (_, value) => value.clone(),
    }
}

/// Replies queued for `to`, by kind.
fn replies_to(desk: &Desk, to: &str) -> Vec<String> {
    desk.outbox().into_iter().filter(|(_, recipient, _)| recipient == to).map(|(kind, _, _)| kind).collect()
}

/// (fixture, envelope sender, whether it makes an application answered with an ack).
const CORPUS: [(&str, &str, bool); 30] = [
    ("subject-only-with-slashes-from-a-galaxy", "hayul.kim@mirae-robot.example", true),
    ("subject-only-with-commas-from-outlook", "seoyeon.lee@daon.example", true),
    ("quoted-form-filled-in-below-outlooks-original-message", "seojun.bae@mirae-robot.example", true),
    ("quoted-form-filled-in-between-gt-lines", "yuna.shin@bluewave.example", true),
    ("stated-mobile-beats-the-office-number-in-the-signature", "bora.hwang@mirae-robot.example", true),
    ("remarks-over-several-lines", "bonchan.koo@kpmi.example", true),
    ("change-sentence-with-a-teammate", "hajun.song@nurisoft.example", true),
    ("applicant-writes-to-the-boss-with-the-center-in-cc", "soyeon.lim@seum-eng.example", true),
    ("applicant-away-on-business-is-no-auto-reply", "jimin.han@greenenergylab.example", true),
    ("subject-only-with-a-count-from-a-galaxy", "jihwan.oh@seum-eng.example", true),
    ("quoted-form-filled-in-a-daum-html-reply-in-euc-kr", "daeun.jung@hanmail.example", true),
    ("stated-mobile-beats-a-signature-without-a-sign-off", "taeho.kim@hanbit-tech.example", true),
    ("not-an-application-colleague-forwards-with-the-center-in-cc", "nayeon.kwon@bluewave.example", false),
    ("not-an-application-fyi-in-english-with-the-center-in-cc", "d.reyes@examplebio.example", false),
    ("not-an-application-bare-forward-with-the-center-in-cc", "eunchae.noh@hanmail.example", false),
    ("not-an-application-empty-mail", "empty.mail@applicant.example", false),
    ("not-an-application-written-to-a-friend", "jiho.baek@nurisoft.example", false),
    ("not-an-application-reply-all-to-share-internally", "junho.lee@seum-eng.example", false),
    ("thanks-only-english", "jane.doe@acme-robotics.example", false),
    ("thanks-only-jal-badatseumnida-from-daum", "hana.cho@hanmail.example", false),
    ("not-an-application-forwarded-to-a-friend-with-the-center-in-bcc", "minseo.kang@hmsol.example", false),
    ("auto-reply-without-headers-jadong-hoesin-from-outlook", "jimin.han@greenenergylab.example", false),
    ("auto-reply-without-headers-bujae-jung-allim-from-groupware", "ty.ahn@daesung-mach.example", false),
    ("auto-reply-without-headers-automatic-reply-english", "olivia@example-analytics.example", false),
    ("auto-reply-without-headers-out-of-office-gmail", "jane.doe@acme-robotics.example", false),
    ("auto-reply-without-headers-jadong-eungdap-from-naver", "subin.jang@naver.example", false),
    ("auto-reply-without-headers-only-the-body-says-so", "th.moon@ksensortec.example", false),
    ("auto-reply-without-headers-bujaejung-bracket-from-groupware", "sw.park@ksensortec.example", false),
    ("auto-reply-without-headers-away-until-after-a-date-from-groupware", "sw.park@ksensortec.example", false),
    ("auto-reply-without-headers-hyuga-jung-from-naver", "minho.seo@naver.example", false),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_applicants_mean_is_read_and_what_is_not_an_application_is_never_answered() {
    let desk = desk();
    for (i, (name, envelope, _)) in CORPUS.iter().enumerate() {
        send(&desk, envelope, &fixture(name).0, i + 1).await;
    }
    let report = desk.once();
    assert!(report.contains(&format!("recorded {} new message(s)", CORPUS.len())), "{report}");

    // Every application with the fields (and sources, remarks) its fixture expects.
    let rows = export_json(&desk);
    let mut failures = Vec::new();
    for (name, envelope, applies) in CORPUS {
        let expected = fixture(name).1;
        if !applies {
            continue;
        }
        assert_eq!(expected["classification"], "application", "{name}: the corpus table is wrong");
        let Some(row) = rows.get(envelope) else {
            failures.push(format!("{name}: no application for {envelope}"));
            continue;
        };
        for key in ["name", "organization", "position", "phone", "attendees"] {
            let (want, got) = (exported(&expected, key), &row[key]);
            if &want != got {
                failures.push(format!("{name}: {key}: expected {want}, exported {got}"));
            }
        }
        if let Some(want) = expected.get("sources") {
            if want != &row["sources"] {
                failures.push(format!("{name}: sources: expected {want}, exported {}", row["sources"]));
            }
        }
        if let Some(notes) = expected.get("notes") {
            if notes != &row["notes"] {
                failures.push(format!("{name}: notes: expected {notes}, exported {}", row["notes"]));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatch(es):\n{}", failures.len(), failures.join("\n"));
    let applications: Vec<&str> = CORPUS.iter().filter(|c| c.2).map(|c| c.1).collect();
    assert_eq!(rows.len(), applications.len(), "only the applications count: {:?}", rows.keys().collect::<Vec<_>>());

    // Each applicant's acknowledgement arrives; nobody else gets anything (jimin.han's
    // auto-reply came from an applicant: the one reply there is the acknowledgement).
    for address in &applications {
        assert_eq!(replies_to(&desk, address), ["ack"], "{address}");
        desk.wait_for_mail(address, 1).await;
    }
    let others: Vec<(&str, &str)> =
        CORPUS.iter().filter(|c| !applications.contains(&c.1)).map(|c| (c.0, c.1)).collect();
    assert_eq!(others.len(), 17);
    for (name, envelope) in &others {
        assert!(replies_to(&desk, envelope).is_empty(), "{name}: {envelope} must get no reply");
    }
    desk.wait_for_queue_empty();
    for (name, envelope) in &others {
        assert_eq!(desk.count(envelope).await, 0, "{name}: no mail in {envelope}'s mailbox");
    }
    for address in &applications {
        assert_eq!(desk.count(address).await, 1, "{address}: exactly one mail, the acknowledgement");
    }

    // Recorded as what they are: auto-replies as automatic; mail that is not an application for
    // staff (the outcome of unclassified mail), with the evidence weighed.
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let outcome = |subject_part: &str| -> (String, Option<String>) {
        conn.query_row(
            "SELECT outcome, outcome_detail FROM messages WHERE subject LIKE '%' || ?1 || '%' ORDER BY id LIMIT 1",
            [subject_part],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("no message with {subject_part:?} in its subject: {e}"))
    };
    for subject in
        ["[자동회신]", "부재 중 알림", "Automatic reply:", "Out of Office:", "[자동응답]", "[부재중]", "[휴가중]"]
    {
        let (outcome, detail) = outcome(subject);
        assert_eq!(outcome, "automatic", "{subject}");
        assert!(detail.as_deref().is_some_and(|d| d.starts_with("auto-reply by its words")), "{subject}: {detail:?}");
    }
    let (outcome_, detail) = outcome("FW: [KAIST SME R&D센터]");
    assert_eq!(outcome_, "unreadable");
    let detail = detail.unwrap_or_default();
    assert!(
        detail.starts_with("not an application: addressed elsewhere")
            && detail.contains("the center is only in Cc; To names someone else -3"),
        "{detail}"
    );
    let automatic = desk.outcomes().iter().filter(|(_, o)| o == "automatic").count();
    assert_eq!(automatic, 9, "{:?}", desk.outcomes());

    // Staff see the mail that is not an application among what needs a person.
    let out = desk.smebridge(&["summary"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    let unclassified = summary.lines().filter(|l| l.contains("분류 안 됨")).count();
    assert_eq!(unclassified, 9, "nine mails that are not applications, each for staff:\n{summary}");
}

/// A message over 8 MiB is read in a child process: with the center's address and the
/// announcement as the daemon reads, so a form typed into the quoted announcement is read there
/// too (here the Outlook reply of the corpus, with a 9 MiB photo attached).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_reply_is_read_apart_with_the_announcement() {
    let desk = desk();
    let (raw, expected) = fixture("quoted-form-filled-in-below-outlooks-original-message");
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..head_end].to_vec()).unwrap();
    let entity_start = head.find("MIME-Version:").unwrap();
    let (headers, entity_head) = head.split_at(entity_start);
    let entity_head = entity_head.replacen("MIME-Version: 1.0\r\n", "", 1);
    let photo: Vec<u8> = (0..9u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut large = format!(
        "{headers}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer-large\"\r\n\r\n\
         --outer-large\r\n{entity_head}\r\n\r\n"
    )
    .into_bytes();
    large.extend_from_slice(&raw[head_end + 4..]);
    large.extend_from_slice(
        b"\r\n--outer-large\r\nContent-Type: image/jpeg; name=\"photo.jpg\"\r\n\
          Content-Disposition: attachment; filename=\"photo.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    large.extend_from_slice(helpers::bombs::base64_lines(&photo).as_bytes());
    large.extend_from_slice(b"\r\n--outer-large--\r\n");
    assert!(large.len() > 12 << 20, "over the 8 MiB that is read apart: {} bytes", large.len());

    send(&desk, "seojun.bae@mirae-robot.example", &large, 1).await;
    let report = desk.once();
    assert!(report.contains("recorded 1 new message"), "{report}");
    let rows = export_json(&desk);
    let row = &rows["seojun.bae@mirae-robot.example"];
    for key in ["name", "organization", "position", "phone", "attendees"] {
        assert_eq!(row[key], exported(&expected, key), "{key}: {row}");
    }
    assert!(row["attachments"].to_string().contains("photo.jpg"), "{row}");
}

/// A registration as a mail client sends it (UTF-8 plain text).
fn registration(name: &str, from: &str, id: &str, body: &str) -> Vec<u8> {
    helpers::crlf(&helpers::application(name, from, "워크숍 참가 신청", body, id)).into_bytes()
}

/// The change lines of an update reply: Korean ones (`  연락처: a → b`), or English ones
/// (`  Phone: a -> b`).
fn change_lines(body: &str, arrow: &str) -> Vec<String> {
    body.lines().filter(|l| l.starts_with("  ") && l.contains(arrow)).map(|l| l.trim().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_stated_in_sentences_update_the_application_and_the_update_says_exactly_what_changed() {
    let desk = desk();
    // (address, registration body, fixture stating a change, the Korean change lines expected).
    let cases: [(&str, &str, &str, &str, &[&str]); 11] = [
        (
            "minjun.kim@hanbit-tech.example",
            "김민준",
            "성명: 김민준\n소속: (주)한빛테크\n직위: 책임연구원\n연락처: 010-1234-5678\n참석인원: 1명\n",
            "change-sentence-one-more-person",
            &["참석 인원: 1 → 2"],
        ),
        (
            "jiwoo.hong@nurisoft.example",
            "홍지우",
            "성명: 홍지우\n소속: 누리소프트\n연락처: 010-6632-1190\n",
            "change-sentence-phone-from-old-to-new",
            &["연락처: 010-6632-1190 → 010-6632-5577"],
        ),
        (
            "jw.yoon@daesung-mach.example",
            "윤재원",
            "성명: 윤재원\n소속: 대성기계공업(주)\n직위: 과장\n연락처: 010-7193-2258\n",
            "change-sentence-position-promoted",
            &["직위: 과장 → 차장"],
        ),
        (
            "eunchae.noh@hanmail.example",
            "노은채",
            "성명: 노은채\n소속: 다온소재\n연락처: 010-8123-4590\n",
            "change-sentence-organization-after-a-merger",
            &["소속: 다온소재 → (주)다온첨단소재"],
        ),
        (
            "minjung.kim@hanbit-tech.example",
            "김민준",
            "성명: 김민준\n소속: 새벽정밀\n연락처: 010-2468-0000\n",
            "change-sentence-name-spelling",
            &["성명: 김민준 → 김민중"],
        ),
        (
            "hajun.kang@seum-eng.example",
            "강하준",
            "성명: 강하준\n소속: 세움엔지니어링\n연락처: 010-1111-2323\n참석인원: 3명\n",
            "change-sentence-one-of-three-cannot-come",
            &["참석 인원: 3 → 2"],
        ),
        (
            "doyun.kim@haneulbio.example",
            "김도윤",
            "성명: 김도윤\n소속: 하늘바이오\n연락처: 010-7788-1234\n",
            "change-sentence-new-mobile-on-the-next-line",
            &["연락처: 010-7788-1234 → 010-7788-2020"],
        ),
        (
            "jiho.moon@naver.example",
            "문지호",
            "성명: 문지호\n소속: 하늘소프트\n연락처: 010-2727-1190\n",
            "change-labelled-from-old-to-new-with-an-arrow-from-naver",
            &["연락처: 010-2727-1190 → 010-2727-5577"],
        ),
        (
            "dohyun.yoon@hanbit-tech.example",
            "윤도현",
            "성명: 윤도현\n소속: (주)한빛테크\n연락처: 010-5050-6060\n",
            "change-sentence-new-value-after-a-colon",
            &["소속: (주)한빛테크 → (주)한빛테크 스마트팩토리사업부"],
        ),
        (
            "seoa.yoon@naver.example",
            "윤서아",
            "성명: 윤서아\n소속: 다온소재\n연락처: 010-4040-5050\n",
            "change-sentence-moved-to-another-company-from-naver",
            &["소속: 다온소재 → (주)미래로봇"],
        ),
        (
            "olivia@example-analytics.example",
            "Olivia Bennett",
            "Name: Olivia Bennett\nOrganization: Example Analytics\nPhone: 010-9090-1010\n",
            "change-sentence-english-bring-a-colleague",
            &["참석 인원: 1 → 2"],
        ),
    ];
    let mut total = 0;
    for (i, (address, name, body, _, _)) in cases.iter().enumerate() {
        total += 1;
        send(&desk, address, &registration(name, address, &format!("reg-{i}@reading.example"), body), total).await;
    }
    desk.once();
    for (address, ..) in &cases {
        desk.wait_for_mail(address, 1).await;
    }

    // The changes, in sentences, from the same addresses; and a thank-you from the first.
    let center_before = desk.count(CENTER).await;
    total = center_before;
    for (address, _, _, change, _) in &cases {
        total += 1;
        send(&desk, address, &fixture(change).0, total).await;
    }
    total += 1;
    send(&desk, cases[0].0, &fixture("thanks-only-korean-reply-to-the-acknowledgement").0, total).await;
    desk.once();

    let rows = export_json(&desk);
    for (address, _, _, change, expected_lines) in &cases {
        let replies = replies_to(&desk, address);
        assert_eq!(replies, ["ack", "update"], "{change}: {address}");
        let mails = desk.wait_for_mail(address, 2).await;
        let update =
            mails.iter().find(|m| helpers::parsed(&m.raw).body_text(0).is_some_and(|b| b.contains("고쳤습니다")));
        let body = helpers::parsed(&update.unwrap_or_else(|| panic!("{change}: no update in {address}'s mailbox")).raw)
            .body_text(0)
            .unwrap()
            .into_owned();
        assert_eq!(
            change_lines(&body, " → "),
            *expected_lines,
            "{change}: the update says exactly what changed:\n{body}"
        );
        assert_eq!(change_lines(&body, " -> ").len(), expected_lines.len(), "{change}: and so does its English part");
        // The new value in the application, with the sentence as its source.
        let expected = fixture(change).1;
        let row = &rows[*address];
        for (key, source) in expected["sources"].as_object().into_iter().flatten() {
            let field_changed = expected_lines.iter().any(|l| {
                let label = l.split(':').next().unwrap_or("");
                matches!(
                    (key.as_str(), label),
                    ("name", "성명")
                        | ("organization", "소속")
                        | ("position", "직위")
                        | ("phone", "연락처")
                        | ("attendees", "참석 인원")
                )
            });
            if field_changed {
                assert_eq!(&row["sources"][key], source, "{change}: the source of {key}");
            }
        }
    }
    assert_eq!(rows["minjun.kim@hanbit-tech.example"]["attendees"], 2);
    assert_eq!(rows["minjung.kim@hanbit-tech.example"]["name"], "김민중");
    assert_eq!(rows["hajun.kang@seum-eng.example"]["attendees"], 2);
    assert_eq!(rows["eunchae.noh@hanmail.example"]["organization"], "(주)다온첨단소재");

    // The thank-you changed nothing and got no mail: two mails (ack, update), nothing more.
    desk.wait_for_queue_empty();
    assert_eq!(desk.count(cases[0].0).await, 2, "no mail for a thank-you");
    let outcomes: Vec<String> =
        desk.outcomes().into_iter().filter(|(s, _)| s.as_deref() == Some(cases[0].0)).map(|(_, o)| o).collect();
    assert_eq!(outcomes, ["registered", "updated", "repeat"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remarks_over_several_lines_are_kept_when_a_later_mail_without_remarks_changes_the_phone() {
    let desk = desk();
    let koo = "bonchan.koo@kpmi.example";
    let (raw, expected) = fixture("remarks-over-several-lines");
    send(&desk, koo, &raw, 1).await;
    desk.once();
    let notes = expected["notes"].as_str().unwrap().to_owned();
    assert_eq!(export_json(&desk)[koo]["notes"], notes.as_str(), "kept whole, over several lines");
    desk.wait_for_mail(koo, 1).await;

    let again = "성명: 구본찬\n소속: 한국정밀소재연구원\n연락처: 010-6621-5050\n";
    let total = desk.count(CENTER).await + 1;
    send(&desk, koo, &registration("구본찬", koo, "remarks-2@kpmi.example", again), total).await;
    desk.once();
    let row = &export_json(&desk)[koo];
    assert_eq!(row["phone"], "010-6621-5050", "the re-send changes the phone");
    assert_eq!(row["notes"], notes.as_str(), "and does not erase the remarks");
    let mails = desk.wait_for_mail(koo, 2).await;
    let update = mails
        .iter()
        .map(|m| helpers::parsed(&m.raw).body_text(0).unwrap().into_owned())
        .find(|b| b.contains("고쳤습니다"))
        .expect("an update");
    assert_eq!(change_lines(&update, " → "), ["연락처: 010-6621-0937 → 010-6621-5050"]);
}
