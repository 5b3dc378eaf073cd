//! The parsing corpus end to end: a representative subset of `tests/fixtures/*.eml` goes the way
//! applicants' mail goes — over SMTP into a real Postfix, delivered by LMTP into a real Dovecot —
//! then `smebridge once` records it and `smebridge export` (the binary, JSON and CSV) must show
//! each application with the fields its `.json` expects (the format `tests/golden.rs` reads),
//! and its attachments. Automatic mail and questions in the subset must give no application.
//!
//! Also here: a mail from another address with an applicant's name and organization is a new
//! application (applicants are matched by address only).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::{Desk, CENTER};
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// (fixture, envelope sender, the application's address or `None` when the mail must not make
/// an application). The subset covers every charset (UTF-8, EUC-KR / ks_c_5601-1987,
/// ISO-2022-KR, raw 8-bit with and without a label, Windows-1252), HTML tables, replies quoting
/// the announcement, inline and attached forwards, an attached form, the signature fallback,
/// legal forms in the organization, automatic mail and an inquiry. Names and organizations are
/// distinct across the subset, so no two applicants are taken for one (see the second test).
const SUBSET: [(&str, &str, Option<&str>); 20] = [
    ("gmail-utf8-alternative", "chaewon.lim@nurisoft.example", Some("chaewon.lim@nurisoft.example")),
    ("outlook-ks-c-5601-base64", "jihoon.park@saebyeok.example", Some("jihoon.park@saebyeok.example")),
    ("daum-euckr-html-qp", "eunchae.noh@hanmail.example", Some("eunchae.noh@hanmail.example")),
    ("iso-2022-kr-body", "bora.hwang@mirae-robot.example", Some("bora.hwang@mirae-robot.example")),
    ("iso-2022-kr-subject-and-name", "soyul.jeon@haneulsoft.example", Some("soyul.jeon@haneulsoft.example")),
    ("raw-euckr-body-without-charset", "sw.ryu@nurisoft.example", Some("sw.ryu@nurisoft.example")),
    ("raw-euckr-in-headers", "nayeon.kwon@bluewave.example", Some("nayeon.kwon@bluewave.example")),
    ("naver-euckr-html-table", "subin.jang@naver.example", Some("subin.jang@naver.example")),
    ("outlook-html-only-table", "yerin.jo@seum-eng.example", Some("yerin.jo@seum-eng.example")),
    ("gmail-reply-korean-attribution", "jian.seo@greenenergylab.example", Some("jian.seo@greenenergylab.example")),
    ("reply-naver-original-message-with-sample-values", "eunbyeol.ko@naver.example", Some("eunbyeol.ko@naver.example")),
    ("gmail-forwarded-application", "nayeon.kwon@bluewave.example", Some("haneul.jung@bluewave.example")),
    ("forwarded-as-attachment-rfc822", "assistant@hmsol.example", Some("seoyoung.moon@hmsol.example")),
    ("attachment-only-with-a-signature", "jaeyun.byun@daon.example", Some("jaeyun.byun@daon.example")),
    ("signature-korean-drim", "serin.oh@haneulsoft.example", Some("serin.oh@haneulsoft.example")),
    ("outlook-english-windows-1252", "d.reyes@examplebio.example", Some("d.reyes@examplebio.example")),
    ("org-jusikhoesa-and-circled-ju", "jiwon.seok@hanbit-tech.example", Some("jiwon.seok@hanbit-tech.example")),
    ("auto-reply-vacation", "jw.yoon@daesung-mach.example", None),
    ("noreply-newsletter", "no-reply@newsletter.example", None),
    ("inquiry-parking", "minseo.kang@hmsol.example", None),
];

/// The application form attached as HWPX, DOCX and PDF (`tests/fixtures/attachments/`), each
/// in a mail of its own from the same person's address: one application, with all three files
/// listed. (They came from three addresses of the same person while applicants were also matched
/// by name and organization; now only the address matches.)
const FORMS: [(&str, &str, &str); 3] = [
    ("application-form.hwpx", "application/hwp+zip", "minjun.kim@hanbit-tech.example"),
    (
        "application-form.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "minjun.kim@hanbit-tech.example",
    ),
    ("application-form.pdf", "application/pdf", "minjun.kim@hanbit-tech.example"),
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture's raw bytes (line endings made CRLF, as SMTP carries them) and its expectations.
fn fixture(name: &str) -> (Vec<u8>, Value) {
    let raw = std::fs::read(fixture_dir().join(format!("{name}.eml"))).unwrap();
    let json = std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).unwrap();
    (mailstack::client::crlf(&raw), serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}.json: {e}")))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A mail with `file` attached, as a mail client writes it.
fn form_mail(from: &str, i: usize, file: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let wrapped: String =
        encoded.as_bytes().chunks(76).map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap())).collect();
    format!(
        "From: <{from}>\r\nTo: {CENTER}\r\nSubject: =?UTF-8?B?7Iug7LKt7IScIOyyqOu2gA==?=\r\nMessage-ID: <form-{i}@forms.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         신청서를 첨부합니다.\r\n--b\r\nContent-Type: {content_type}; name=\"{file}\"\r\nContent-Disposition: attachment; filename=\"{file}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{wrapped}--b--\r\n"
    )
    .into_bytes()
}

async fn send(desk: &Desk, envelope_from: &str, raw: &[u8]) {
    mailstack::client::send_raw(desk.stack.host(), desk.stack.smtp_port(), envelope_from, &[CENTER], raw)
        .await
        .unwrap_or_else(|e| panic!("Postfix must accept the mail from {envelope_from}: {e:#}"));
}

/// `smebridge export --format json`, by application address.
fn export_json(desk: &Desk) -> HashMap<String, Value> {
    let out = desk.smebridge(&["export", "--format", "json"]);
    assert!(out.status.success(), "export failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter().map(|row| (row["email"].as_str().unwrap().to_owned(), row)).collect()
}

/// The export's value for a fixture key: a missing text field is exported as "", a missing
/// number of attendees as 1.
fn exported(expected: &Value, key: &str) -> Value {
    match (key, &expected[key]) {
        ("attendees", Value::Null) => Value::from(1),
        (_, Value::Null) => Value::from(""),
        (_, value) => value.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corpus_through_postfix_and_dovecot_shows_the_expected_fields_in_the_export() {
    let desk = Desk::start();
    let mut sent = 0;
    for (name, envelope, _) in SUBSET {
        send(&desk, envelope, &fixture(name).0).await;
        sent += 1;
    }
    let forms_dir = fixture_dir().join("attachments");
    let mut form_files = Vec::new();
    for (i, (file, content_type, from)) in FORMS.iter().enumerate() {
        let bytes = std::fs::read(forms_dir.join(file)).unwrap();
        send(&desk, from, &form_mail(from, i, file, content_type, &bytes)).await;
        form_files.push((file.to_string(), content_type.to_string(), bytes));
        sent += 1;
        // In this order: the first form's address is the application's (Postfix may deliver
        // mail submitted together in any order).
        desk.stack.wait_for_delivery(CENTER, sent, Duration::from_secs(30)).expect("the form must be delivered");
    }
    desk.stack
        .wait_for_delivery(CENTER, sent, Duration::from_secs(30))
        .expect("every mail must reach the center's mailbox");

    let report = desk.once();
    assert!(report.contains(&format!("recorded {sent} new message(s)")), "{report}");
    let rows = export_json(&desk);

    // Every application in the subset, with the fields its fixture expects.
    let mut failures = Vec::new();
    for (name, _, email) in SUBSET {
        let Some(email) = email else { continue };
        let expected = fixture(name).1;
        assert_eq!(expected["classification"], "application", "{name}: the subset table is wrong");
        let Some(row) = rows.get(email) else {
            failures.push(format!("{name}: no application for {email}"));
            continue;
        };
        for key in ["name", "organization", "position", "phone", "attendees"] {
            let (want, got) = (exported(&expected, key), &row[key]);
            if &want != got {
                failures.push(format!("{name}: {key}: expected {want}, exported {got}"));
            }
        }
        // Where each value came from, as the parser said for the fixture itself.
        if let Some(want) = expected.get("sources") {
            if want != &row["sources"] {
                failures.push(format!("{name}: sources: expected {want}, exported {}", row["sources"]));
            }
        }
        // And every value has a source.
        for key in ["name", "organization", "position", "phone"] {
            if row[key] != "" && row["sources"].get(key).is_none() {
                failures.push(format!("{name}: {key} has no source in the export: {}", row["sources"]));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatch(es):\n{}", failures.len(), failures.join("\n"));

    // Automatic mail and the question made none; the three forms made one.
    for (name, envelope, email) in SUBSET {
        if email.is_none() {
            assert_ne!(fixture(name).1["classification"], "application", "{name}");
            assert!(!rows.contains_key(envelope), "{name} must not make an application");
        }
    }
    let applications = SUBSET.iter().filter(|(_, _, email)| email.is_some()).count() + 1;
    assert_eq!(rows.len(), applications, "{:?}", rows.keys().collect::<Vec<_>>());

    // The form: read from the attachment, the later two mails from the same address belong to
    // the same application, every file listed with its type, size and hash.
    let form = rows.get(FORMS[0].2).unwrap_or_else(|| {
        let reviews: Vec<_> = rows.values().map(|r| (&r["email"], &r["review"])).collect();
        panic!("no application from {}: {reviews:#?}", FORMS[0].2)
    });
    assert_eq!(form["name"], "김민준");
    assert_eq!(form["organization"], "(주)한빛테크");
    assert_eq!(form["position"], "책임연구원");
    assert_eq!(form["phone"], "010-1234-5678");
    let listed: Vec<(String, String, u64, String)> = form["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["type"].as_str().unwrap().to_owned(),
                a["size"].as_u64().unwrap(),
                a["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64, String)> = form_files
        .iter()
        .map(|(file, ty, bytes)| (file.clone(), ty.clone(), bytes.len() as u64, sha256_hex(bytes)))
        .collect();
    assert_eq!(listed, expected);

    // The attachments of the corpus mails: the HWP form (its name an RFC 2047 word) and the
    // forwarded message attached as message/rfc822; mail without attachments lists none.
    let names = |email: &str| -> Vec<(String, String)> {
        rows[email]["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap().to_owned(), a["type"].as_str().unwrap().to_owned()))
            .collect()
    };
    assert_eq!(
        names("jaeyun.byun@daon.example"),
        [("참가신청서_변재윤.hwp".to_owned(), "application/x-hwp".to_owned())]
    );
    assert_eq!(names("seoyoung.moon@hmsol.example"), [("msg.eml".to_owned(), "message/rfc822".to_owned())]);
    assert!(names("chaewon.lim@nurisoft.example").is_empty());

    // The CSV export: the same applications, the contract columns first, attachments last.
    let csv = desk.export();
    assert_eq!(csv.len(), applications);
    let form_row = csv.iter().find(|r| r["email"] == FORMS[0].2).unwrap();
    let kb = |bytes: usize| (bytes + 500) / 1000;
    assert_eq!(
        form_row["attachments"],
        format!(
            "application-form.hwpx (application/hwp+zip, {} kB); application-form.docx ({}, {} kB); application-form.pdf (application/pdf, {} kB)",
            kb(form_files[0].2.len()),
            FORMS[1].1,
            kb(form_files[1].2.len()),
            kb(form_files[2].2.len()),
        )
    );
    let out = desk.smebridge(&["export", "--format", "csv"]);
    let mut csv = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header.join(","),
        "email,name,organization,position,phone,attendees,status,received_at,application_no,attachments,people,notes,sources"
    );
    // The sources column in words, for staff in Excel: the HTML-table fixture's, for one.
    let table = csv.records().map(Result::unwrap).find(|r| &r[0] == "subin.jang@naver.example").unwrap();
    assert!(
        table[12].starts_with("name: HTML table, line 2, cell '성 명'; organization: HTML table"),
        "{}",
        &table[12]
    );
}

/// Applicants are matched by address only: a mail from another address stating the same name
/// and organization (written another way) is a new application, never an update of the first;
/// staff are told of the namesake by its number. (Until the red-team finding that anyone who
/// knows a name and a company could overwrite and read that application, such a mail updated it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_from_another_address_with_the_same_name_and_organization_is_a_new_application_for_staff_to_judge() {
    let desk = Desk::start();
    let work = "kim@hanbit-tech.example";
    let personal = "minjun.kim@home.example";
    let stranger = "kim.minjun@elsewhere.example";
    let mail = |from: &str, id: &str, body: &str| {
        crate::helpers::crlf(&crate::helpers::application("김민준", from, "워크숍 참가 신청", body, id)).into_bytes()
    };
    send(
        &desk,
        work,
        &mail(work, "m1@hanbit-tech.example", "성명: 김민준\n소속: (주)한빛테크\n연락처: 010-1234-5678\n"),
    )
    .await;
    desk.stack.wait_for_delivery(CENTER, 1, Duration::from_secs(30)).unwrap();
    desk.once();

    // The same name and organization from another address: the organization written another
    // way, the name spaced out, another phone number.
    let other = "연락처가 바뀌었습니다.\n성명: 김 민준\n소속: 주식회사 한빛테크\n연락처: 010-9999-8888\n";
    send(&desk, personal, &mail(personal, "m2@home.example", other)).await;
    // Someone of the same name who states no organization: no namesake on the name alone.
    send(&desk, stranger, &mail(stranger, "m3@elsewhere.example", "성명: 김민준\n연락처: 010-7777-6666\n")).await;
    desk.stack.wait_for_delivery(CENTER, 3, Duration::from_secs(30)).unwrap();
    desk.once();

    let rows = export_json(&desk);
    assert_eq!(rows.len(), 3, "{:?}", rows.keys().collect::<Vec<_>>());
    let kim = &rows[work];
    assert_eq!(kim["phone"], "010-1234-5678", "the first application is untouched");
    assert_eq!(kim["organization"], "(주)한빛테크");
    assert_eq!(kim["application_no"], "SME-0001");
    assert_eq!(rows[personal]["phone"], "010-9999-8888");
    assert_eq!(rows[stranger]["phone"], "010-7777-6666");

    // Each message belongs to its own application; staff are told of the namesake by number.
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let linked = |email: &str| -> Vec<String> {
        conn.prepare(
            "SELECT m.sender FROM application_messages am JOIN messages m ON m.id = am.message
             JOIN applications a ON a.id = am.application WHERE a.email = ?1 ORDER BY m.id",
        )
        .unwrap()
        .query_map([email], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    assert_eq!(linked(work), [work]);
    assert_eq!(linked(personal), [personal]);
    let review = |email: &str| -> String {
        conn.query_row("SELECT COALESCE(review, '') FROM applications WHERE email = ?1", [email], |r| r.get(0)).unwrap()
    };
    assert!(review(personal).contains("같은 이름·소속의 신청이 있음: SME-0001 (다른 주소)"), "{}", review(personal));
    assert!(!review(stranger).contains("같은 이름·소속"), "{}", review(stranger));
    assert_eq!(review(work), "", "nothing about the first applicant changed");

    // The other address gets its own acknowledgement, which shows nothing of the first.
    let ack = desk.wait_for_mail(personal, 1).await;
    let body = crate::helpers::parsed(&ack[0].raw).body_text(0).unwrap().into_owned();
    assert!(body.contains("SME-0002") && body.contains("010-9999-8888"), "{body}");
    assert!(!body.contains("SME-0001") && !body.contains("010-1234-5678"), "{body}");
    desk.wait_for_mail(stranger, 1).await;
    assert_eq!(desk.count(work).await, 1);
    assert_eq!(desk.outbox().iter().filter(|(_, to, _)| to == work).count(), 1);
}
