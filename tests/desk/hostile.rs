//! Hostile mail through the whole daemon path: every message recorded, none stalls a pass, and
//! memory stays bounded (peak RSS of `smebridge once`, read as it exits: `helpers/rss.rs`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::rss::run_for_peak_rss;
use crate::helpers::{crlf, Desk, CENTER};

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
