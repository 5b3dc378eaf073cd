//! A mail that kills the reader must not stop the desk (issue #11), against the real Dovecot and
//! Postfix and the real `smebridge` binary.
//!
//! - An allocation-bomb PDF attached to an application is read in a confined child process: the
//!   child dies, the application is answered from its text, and staff are told the form could
//!   not be read and why.
//! - A form reader that hangs is killed at its time limit.
//! - A mail that kills smebridge itself while it is being read (the debug-build fault hook
//!   `SMEBRIDGE_FAULT_ABORT_READING`, `src/isolate/fault.rs`: no real message kills the parser
//!   deterministically once the parsers are bounded, which is the point) stops the first pass;
//!   the next pass tries it in a child, holds it for staff unread and answers everyone after it,
//!   once. The same death without the fault the next time (a random kill) costs nothing.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::helpers::{application, crlf, Desk, CENTER};

/// A PDF 1.5 whose cross-reference stream declares entry widths (`/W`) adding up to a terabyte:
/// a reader that believes it allocates the table before reading a byte of it.
fn allocation_bomb_pdf() -> Vec<u8> {
    let object = b"1 0 obj\n<< /Type /XRef /Size 2 /W [1 1099511627776 1] /Index [0 2] /Root 1 0 R /Length 0 >>\nstream\n\nendstream\nendobj\n";
    let mut pdf = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let offset = pdf.len();
    pdf.extend_from_slice(object);
    pdf.extend_from_slice(format!("startxref\n{offset}\n%%EOF\n").as_bytes());
    pdf
}

/// An application whose text states no fields (the form is meant to), with `form` attached.
fn with_form(from_name: &str, from: &str, id: &str, file_name: &str, content_type: &str, form: &[u8]) -> String {
    let encoded = base64_lines(form);
    format!(
        "From: {from_name} <{from}>\nTo: {CENTER}\nSubject: 워크숍 참가 신청\nDate: Wed, 16 Nov 2022 10:00:00 +0900\nMessage-ID: <{id}>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"form\"\n\n--form\nContent-Type: text/plain; charset=utf-8\n\n안녕하세요. 참가 신청서를 첨부합니다.\n\n{from_name} 드림\n--form\nContent-Type: {content_type}; name=\"{file_name}\"\nContent-Disposition: attachment; filename=\"{file_name}\"\nContent-Transfer-Encoding: base64\n\n{encoded}--form--\n"
    )
}

fn base64_lines(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded.as_bytes().chunks(76).map(|line| format!("{}\n", String::from_utf8_lossy(line))).collect()
}

fn ordinary(i: usize) -> String {
    application(
        "신청자",
        &format!("applicant{i}@poison.example"),
        "워크숍 참가 신청",
        &format!("성명: 신청자{i}\n소속: 회사{i}\n연락처: 010-3000-{i:04}\n"),
        &format!("ordinary-{i}@poison.example"),
    )
}

async fn append(desk: &Desk, raws: &[String]) {
    for raw in raws {
        desk.append_to_center(raw, "16-Nov-2022 10:00:00 +0900").await;
    }
}

/// (outcome, outcome detail, problems, raw) of the message from `sender`.
fn recorded(desk: &Desk, sender: &str) -> (String, Option<String>, Option<String>, Vec<u8>) {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    conn.query_row("SELECT outcome, outcome_detail, problems, raw FROM messages WHERE sender = ?1", [sender], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
}

/// The summary staff would get today, as `smebridge summary` prints it.
fn summary(desk: &Desk) -> String {
    let out = desk.smebridge(&["summary"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn wait_for_replies(desk: &Desk) {
    desk.stack.wait_for_queue_empty(Duration::from_secs(60)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allocation_bomb_form_kills_only_its_reader_and_the_applicant_is_answered_from_the_text() {
    let desk = Desk::start();
    let bomb_pdf = allocation_bomb_pdf();
    let bomb = with_form(
        "김폭탄",
        "bomb@poison.example",
        "bomb-1@msg.poison.example",
        "신청서.pdf",
        "application/pdf",
        &bomb_pdf,
    );
    let mut mails = vec![bomb.clone()];
    mails.extend((0..3).map(ordinary));
    append(&desk, &mails).await;

    desk.once();
    assert_eq!(desk.messages_recorded(), 4);
    wait_for_replies(&desk);

    // Everyone is answered exactly once, the bomb's sender too (from the mail's text).
    for i in 0..3 {
        assert_eq!(desk.delivered(&format!("applicant{i}@poison.example")), 1, "applicant {i}");
    }
    assert_eq!(desk.delivered("bomb@poison.example"), 1, "the bomb's sender is acknowledged");

    // Recorded with its raw bytes, the form marked unreadable with the reason.
    let (outcome, _, problems, raw) = recorded(&desk, "bomb@poison.example");
    assert_eq!(outcome, "registered");
    assert_eq!(raw, crlf(&bomb).into_bytes(), "the raw bytes as they arrived");
    let problems = problems.expect("a problem is recorded");
    let unreadable = problems
        .lines()
        .find(|p| p.starts_with("the form '신청서.pdf' could not be read: "))
        .unwrap_or_else(|| panic!("the form is marked unreadable: {problems:?}"));
    assert!(unreadable.len() > "the form '신청서.pdf' could not be read: ".len(), "with a reason: {unreadable}");

    // Staff see why, not only "missing: organization".
    let summary = summary(&desk);
    let line = summary
        .lines()
        .find(|l| l.contains("missing: organization"))
        .unwrap_or_else(|| panic!("the application is in needs-a-person:\n{summary}"));
    eprintln!("the summary says: {line}");
    assert!(line.contains(unreadable), "the reason is with it: {line}");

    // And `smebridge parse` says the same.
    let file = desk.dir.path().join("bomb.eml");
    std::fs::write(&file, crlf(&bomb)).unwrap();
    let parsed = desk.smebridge(&["parse", file.to_str().unwrap()]);
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    let parsed = String::from_utf8(parsed.stdout).unwrap();
    assert!(parsed.lines().any(|l| l.starts_with("problems") && l.contains(unreadable)), "{parsed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_reader_that_hangs_is_killed_at_its_time_limit_and_the_mail_is_still_answered() {
    let desk = Desk::start();
    let docx = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attachments/application-form.docx"),
    )
    .unwrap();
    let docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let slow = with_form("이느림", "slow@poison.example", "slow-1@msg.poison.example", "form.docx", docx_type, &docx);
    append(&desk, &[slow, ordinary(7)]).await;

    // Every form reader of this pass hangs (debug-build fault hook, src/isolate/fault.rs).
    let out = desk.smebridge_with_env(&["once"], &[("SMEBRIDGE_FAULT_FORM", "hang")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for_replies(&desk);

    assert_eq!(desk.delivered("slow@poison.example"), 1);
    assert_eq!(desk.delivered("applicant7@poison.example"), 1);
    let (outcome, _, problems, _) = recorded(&desk, "slow@poison.example");
    assert_eq!(outcome, "registered");
    assert!(
        problems.as_deref().unwrap_or("").contains("the form 'form.docx' could not be read: it took longer than 30 s"),
        "{problems:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_reader_that_runs_out_of_memory_or_crashes_is_told_apart() {
    let desk = Desk::start();
    let docx = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attachments/application-form.docx"),
    )
    .unwrap();
    let docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let mail = with_form("박양식", "form@poison.example", "form-1@msg.poison.example", "form.docx", docx_type, &docx);
    let file = desk.dir.path().join("form.eml");
    std::fs::write(&file, crlf(&mail)).unwrap();
    let parse = |fault: &str| {
        let out = desk.smebridge_with_env(&["parse", file.to_str().unwrap()], &[("SMEBRIDGE_FAULT_FORM", fault)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // Read as it is, the form gives the applicant's fields.
    assert!(parse("none").contains("organization  (주)한빛테크"), "{}", parse("none"));
    for (fault, reason) in [("memory", "it needed more than 96 MiB"), ("abort", "the reader crashed (signal 6)")] {
        let out = parse(fault);
        let problem = format!("the form 'form.docx' could not be read: {reason}");
        assert!(out.lines().any(|l| l.starts_with("problems") && l.contains(&problem)), "{fault}: {out}");
        assert!(out.contains("organization  -"), "nothing read from the form: {out}");
    }
}

/// The mail that kills smebridge while it is being read, and the ones around it.
fn poison_batch() -> Vec<String> {
    let poison = application(
        "독약",
        "poison@poison.example",
        "워크숍 참가 신청",
        "성명: 독약\n소속: 위험회사\nKILL-THE-READER\n",
        "poison-1@msg.poison.example",
    );
    vec![ordinary(0), poison, ordinary(1), ordinary(2), ordinary(3)]
}

const FAULT: (&str, &str) = ("SMEBRIDGE_FAULT_ABORT_READING", "KILL-THE-READER");

fn attempts(desk: &Desk, sender: Option<&str>) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let mut stmt = conn
        .prepare("SELECT outcome, read_attempts FROM messages WHERE sender IS ?1 OR ?1 IS NULL ORDER BY id")
        .unwrap();
    stmt.query_map([sender], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_that_kills_smebridge_stops_one_pass_then_is_held_for_staff_and_the_rest_answered_once() {
    let desk = Desk::start();
    append(&desk, &poison_batch()).await;

    // 1st pass: dies reading the poison. Everything fetched was recorded first.
    let first = desk.smebridge_with_env(&["once"], &[FAULT]);
    assert_eq!(first.status.signal(), Some(6), "the first pass dies: {}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(desk.messages_recorded(), 5, "the raw bytes were committed before parsing");
    assert_eq!(attempts(&desk, None), vec![("reading".to_owned(), 1); 5], "all being read, none finished");
    assert!(desk.outbox().is_empty(), "nothing answered from an unfinished batch");

    // 2nd pass (the fault still armed): each message is tried on its own in a child first; the
    // poison's child dies, so it is held; the others are answered.
    let out = desk.smebridge_with_env(&["once"], &[FAULT]);
    assert!(out.status.success(), "the 2nd pass completes: {}", String::from_utf8_lossy(&out.stderr));
    // A 3rd pass finds nothing to do.
    let replies = desk.outbox();
    let out = desk.smebridge_with_env(&["once"], &[FAULT]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(desk.messages_recorded(), 5);
    assert_eq!(desk.outbox(), replies, "no new reply");
    wait_for_replies(&desk);

    for i in 0..4 {
        assert_eq!(desk.delivered(&format!("applicant{i}@poison.example")), 1, "applicant {i}: exactly one reply");
    }
    assert_eq!(desk.delivered("poison@poison.example"), 0, "the poison is not answered");
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let (outcome, detail, raw): (String, String, Vec<u8>) = conn
        .query_row("SELECT outcome, outcome_detail, raw FROM messages WHERE raw LIKE '%KILL-THE-READER%'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(outcome, "quarantined");
    assert!(detail.contains("the reader crashed (signal 6)"), "{detail}");
    assert!(!raw.is_empty(), "its raw bytes are kept");
    let uids: i64 = conn.query_row("SELECT COUNT(*) FROM mailbox_uids", [], |r| r.get(0)).unwrap();
    assert_eq!(uids, 5, "every UID counted, the poison's too");

    // Staff are told, with the reason, in the summary's needs-a-person list.
    let summary = summary(&desk);
    let line = summary
        .lines()
        .find(|l| l.contains("held unread") && l.contains("the reader crashed (signal 6)"))
        .unwrap_or_else(|| panic!("the poison is in needs-a-person:\n{summary}"));
    eprintln!("the summary says: {line}");

    // New mail after it is read normally.
    append(&desk, &[ordinary(4)]).await;
    let out = desk.smebridge_with_env(&["once"], &[FAULT]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for_replies(&desk);
    assert_eq!(desk.delivered("applicant4@poison.example"), 1);
    assert_eq!(attempts(&desk, Some("applicant4@poison.example")), [("registered".to_owned(), 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_killed_while_reading_an_innocent_mail_costs_it_nothing() {
    let desk = Desk::start();
    append(&desk, &poison_batch()).await;

    // The first pass dies while reading (as a kill -9 would stop it there) ...
    let first = desk.smebridge_with_env(&["once"], &[FAULT]);
    assert_eq!(first.status.signal(), Some(6));
    // ... and the next, without the fault, finds that reading the mail is safe: its trial read
    // passes and it is answered like the others.
    desk.once();
    wait_for_replies(&desk);
    for i in 0..4 {
        assert_eq!(desk.delivered(&format!("applicant{i}@poison.example")), 1, "applicant {i}");
    }
    assert_eq!(desk.delivered("poison@poison.example"), 1);
    assert_eq!(attempts(&desk, Some("poison@poison.example")), [("registered".to_owned(), 2)]);
}
