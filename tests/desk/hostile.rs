//! Hostile mail through the whole daemon path: every message recorded, none stalls a pass, and
//! memory stays bounded (peak RSS of `smebridge once`, read as it exits: `helpers/rss.rs`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::bombs::{self, ZipForm};
use crate::helpers::rss::run_for_peak_rss;
use crate::helpers::{application, crlf, Desk, CENTER};

fn header(from: &str, id: &str) -> String {
    format!(
        "From: <{from}>\nTo: {CENTER}\nSubject: hostile\nMessage-ID: <{id}-msg@hostile.example>\nMIME-Version: 1.0\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_mail_is_recorded_without_stalling_or_eating_memory() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("imap", "max_message_size = 20000000")]);
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // 10,000 parts.
    let mut many = header("parts@hostile.example", "parts") + "Content-Type: multipart/mixed; boundary=\"x\"\n\n";
    for i in 0..10_000 {
        many.push_str(&format!("--x\nContent-Type: text/plain\n\npart {i}\n"));
    }
    many.push_str("--x--\n");
    cases.push(("10,000 parts", crlf(&many).into_bytes()));
    // Deep nesting of message/rfc822.
    let mut nested = String::from("성명: 깊은곳\n");
    for i in 0..2_000 {
        nested = format!("Content-Type: message/rfc822\n\nFrom: <n{i}@hostile.example>\nSubject: n\nContent-Type: message/rfc822\n\n{nested}");
    }
    cases.push(("2,000-deep message/rfc822", crlf(&(header("deep@hostile.example", "deep") + &nested)).into_bytes()));
    // Boundaries that prefix each other, and never close.
    let prefix = header("prefix@hostile.example", "prefix")
        + "Content-Type: multipart/mixed; boundary=\"a\"\n\n--a\nContent-Type: multipart/mixed; boundary=\"ab\"\n\n--ab\nContent-Type: text/plain\n\n성명: 접두사\n--a\n--ab\n";
    cases.push(("prefix boundaries", crlf(&prefix).into_bytes()));
    // NUL bytes and invalid UTF-8 in headers.
    let mut bad = b"From: <nul@hostile.example>\r\nTo: smebridge@kaist.ac.kr\r\nSubject: \xff\xfe\x00\x00 broken\r\nMessage-ID: <nul-msg@hostile.example>\r\n\r\n".to_vec();
    bad.extend_from_slice(b"\x00\x00\xc3(\xa0\xa1 \x00 \xe2\x82 body\r\n");
    cases.push(("NUL bytes and invalid UTF-8", bad));
    // 100 KB of encoded words in a header.
    let words = "=?UTF-8?B?7JWI64WV?= ".repeat(5_000);
    cases.push((
        "100 KB of encoded words",
        crlf(
            &(header("words@hostile.example", "words").replacen("Subject: hostile", &format!("Subject: {words}"), 1)
                + "\n성명: 단어\n"),
        )
        .into_bytes(),
    ));
    // A 30 MB message: over the 20 MB limit, so headers only.
    let big = header("big@hostile.example", "big")
        + "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        + &"QUJD".repeat(19)
        + "\n";
    let mut big = crlf(&big).into_bytes();
    let line = b"QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\r\n";
    while big.len() < 30_000_000 {
        big.extend_from_slice(line);
    }
    cases.push(("30 MB", big));

    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    for (_, raw) in &cases {
        session.append("INBOX", None, None, raw).await.unwrap();
    }
    session.logout().await.unwrap();

    // Run as the desk runs every smebridge (its log kept and scanned), with standard output to a
    // file: the peak RSS is this one process's own (see `run_for_peak_rss`).
    let (mut once, log) = desk.command(&["once"]);
    let stdout_file = desk.dir.path().join("once.out");
    once.stdin(Stdio::null()).stdout(std::fs::File::create(&stdout_file).unwrap());
    let started = Instant::now();
    let (code, peak_kb) = run_for_peak_rss(&mut once);
    let elapsed = started.elapsed();
    let stdout = std::fs::read_to_string(&stdout_file).unwrap();
    eprintln!("hostile pass: {elapsed:?}, peak RSS of smebridge once {} MB: {}", peak_kb / 1024, stdout.trim());
    assert_eq!(code, 0, "{}", std::fs::read_to_string(&log).unwrap());
    assert!(stdout.contains(&format!("recorded {} new message", cases.len())), "every one recorded: {stdout}");
    assert_eq!(desk.messages_recorded(), cases.len() as i64);
    assert!(elapsed < Duration::from_secs(120), "no stall");
    assert!(peak_kb < 128 * 1024, "memory bounded: peak {} MB", peak_kb / 1024);
}

/// The bombs of `helpers/bombs.rs` that a real mailbox can hold, each as its own message from a
/// sender of its own: (what it is, sender, raw message).
fn mailbox_bombs() -> Vec<(&'static str, String, Vec<u8>)> {
    let pdf = "application/pdf";
    let form = |id: &str, file: &str, content_type: &str, bytes: Vec<u8>| {
        (format!("{id}@hostile.example"), bombs::application_from(id, file, content_type, &bytes))
    };
    let whole = |id: &str, raw: Vec<u8>| (format!("{id}@hostile.example"), raw);
    let cases = vec![
        ("an allocation bomb PDF (237 bytes)", form("xref", "form.pdf", pdf, bombs::pdf_xref_terabyte())),
        ("PDF forms nested 10,000 deep", form("deep-pdf", "form.pdf", pdf, bombs::pdf_deep_forms(10_000))),
        ("a cyclic PDF", form("cyclic-pdf", "form.pdf", pdf, bombs::pdf_cyclic())),
        (
            "PDF resources chained through 260,000 objects",
            form("chain-pdf", "form.pdf", pdf, bombs::pdf_resource_chain(260_000)),
        ),
        (
            "a DOCX zip bomb (1 GiB inflated)",
            form(
                "zip-docx",
                ZipForm::Docx.file_name(),
                ZipForm::Docx.content_type(),
                bombs::zip_bomb(ZipForm::Docx, 1024),
            ),
        ),
        (
            "an XLSX entity expansion",
            form(
                "entity-xlsx",
                ZipForm::Xlsx.file_name(),
                ZipForm::Xlsx.content_type(),
                bombs::entity_bomb(ZipForm::Xlsx),
            ),
        ),
        (
            "an XLSX sheet with cells at opposite corners",
            form(
                "corners-xlsx",
                ZipForm::Xlsx.file_name(),
                ZipForm::Xlsx.content_type(),
                bombs::xlsx_opposite_corners(),
            ),
        ),
        ("MIME nested 3,000 deep", whole("deep", bombs::deep_mime(3_000))),
        ("a 4 MB header", whole("bigfield", bombs::huge_header_field(4 << 20))),
        ("3,000,000 header-less parts", whole("headerless", bombs::headerless_parts(3_000_000))),
        ("600,000 Content-Disposition-only parts", whole("disposition", bombs::disposition_only_parts(600_000))),
        ("20,000 attachments", whole("attachments", bombs::many_attachments(20_000))),
    ];
    cases.into_iter().map(|(what, (sender, raw))| (what, sender, raw)).collect()
}

/// Five ordinary applications (one of them as large as the message limit allows): (sender, raw).
fn ordinary_applications() -> Vec<(String, Vec<u8>)> {
    let mut mails: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| {
            let sender = format!("applicant{i}@after-bombs.example");
            let raw = application(
                "신청자",
                &sender,
                "워크숍 참가 신청",
                &format!("성명: 신청자{i}\n소속: 회사{i}\n연락처: 010-4000-{i:04}\n"),
                &format!("ordinary-{i}@after-bombs.example"),
            );
            (sender, crlf(&raw).into_bytes())
        })
        .collect();
    let large = bombs::largest_ordinary_application(28_000_000);
    mails.insert(2, ("applicant@large.example".to_owned(), large));
    mails
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_of_bombs_then_applications_is_read_in_one_bounded_pass() {
    let desk = Desk::start();
    let bombs = mailbox_bombs();
    let applications = ordinary_applications();
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    for raw in bombs.iter().map(|(_, _, raw)| raw).chain(applications.iter().map(|(_, raw)| raw)) {
        assert!(raw.len() < bombs::MESSAGE_LIMIT, "{} bytes is over the message limit", raw.len());
        session.append("INBOX", None, None, raw).await.unwrap();
    }
    session.logout().await.unwrap();

    let (mut once, log) = desk.command(&["once"]);
    let stdout_file = desk.dir.path().join("once.out");
    once.stdin(Stdio::null()).stdout(std::fs::File::create(&stdout_file).unwrap());
    let (code, peak_kb) = run_for_peak_rss(&mut once);
    let stdout = std::fs::read_to_string(&stdout_file).unwrap();
    eprintln!("bombs then applications: peak RSS of smebridge once {} MB: {}", peak_kb >> 10, stdout.trim());
    assert_eq!(code, 0, "{}", std::fs::read_to_string(&log).unwrap());
    let total = bombs.len() + applications.len();
    assert!(stdout.contains(&format!("recorded {total} new message")), "every one recorded: {stdout}");
    assert_eq!(desk.messages_recorded(), total as i64);

    desk.wait_for_queue_empty();
    for (sender, _) in &applications {
        assert_eq!(desk.delivered(sender), 1, "{sender} is acknowledged once");
    }
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    for (what, sender, _) in &bombs {
        let row: (String, Option<String>, Option<String>) = conn
            .query_row("SELECT outcome, outcome_detail, problems FROM messages WHERE sender = ?1", [sender], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        eprintln!("{what}: {row:?}");
    }
    let summary = desk.smebridge(&["summary"]);
    eprintln!("{}", String::from_utf8_lossy(&summary.stdout));
    assert!(peak_kb < 128 * 1024, "memory bounded: peak {} MB", peak_kb >> 10);
}
