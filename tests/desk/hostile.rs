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

/// Why staff see a form that could not be read.
fn form_unreadable(file: &str, why: &str) -> String {
    format!("the form '{file}' could not be read: {why}")
}

const TOO_COMPLEX: &str = "the document is too complex to read";
const MIME_PARTS: &str = "the message has more than 1000 MIME parts; only the first 1000 were read";

/// One bomb in the mailbox: what it is, its sender, the raw message, and what staff are told
/// about it in the summary's needs-a-person list.
struct Bomb {
    what: &'static str,
    sender: String,
    raw: Vec<u8>,
    told: String,
}

/// The bombs of `helpers/bombs.rs` that a real mailbox can hold, each as its own message from a
/// sender of its own. Most are named for what they are; three are defused without a word (the
/// entity is not expanded, the sheet makes no grid, the header is read), and staff see them for
/// what they lack.
fn mailbox_bombs() -> Vec<Bomb> {
    let pdf = "application/pdf";
    let (docx, xlsx) = (ZipForm::Docx, ZipForm::Xlsx);
    let form = |what, id: &str, file: &str, content_type: &str, bytes: Vec<u8>, told: String| Bomb {
        what,
        sender: format!("{id}@hostile.example"),
        raw: bombs::application_from(id, file, content_type, &bytes),
        told,
    };
    let whole = |what, id: &str, raw: Vec<u8>, told: &str| Bomb {
        what,
        sender: format!("{id}@hostile.example"),
        raw,
        told: told.to_owned(),
    };
    let no_fields = "missing: name; missing: organization; missing: phone";
    vec![
        form(
            "an allocation bomb PDF (237 bytes)",
            "xref",
            "form.pdf",
            pdf,
            bombs::pdf_xref_terabyte(),
            form_unreadable("form.pdf", "the document could not be read: not a readable PDF: couldn't parse input"),
        ),
        form(
            "PDF forms nested 10,000 deep",
            "deep-pdf",
            "form.pdf",
            pdf,
            bombs::pdf_deep_forms(10_000),
            form_unreadable("form.pdf", &format!("{TOO_COMPLEX}: form XObjects are nested more than 12 deep")),
        ),
        form(
            "a cyclic PDF",
            "cyclic-pdf",
            "form.pdf",
            pdf,
            bombs::pdf_cyclic(),
            form_unreadable("form.pdf", &format!("{TOO_COMPLEX}: form XObject 6 draws itself")),
        ),
        form(
            "PDF resources chained through 260,000 objects (a 38 MB message)",
            "chain-pdf",
            "form.pdf",
            pdf,
            bombs::pdf_resource_chain(260_000),
            form_unreadable(
                "form.pdf",
                &format!(
                    "{TOO_COMPLEX}: the PDF has more objects than the limit allows (loading it would take over 48 MB)"
                ),
            ),
        ),
        form(
            "a DOCX zip bomb (1 GiB inflated)",
            "zip-docx",
            docx.file_name(),
            docx.content_type(),
            bombs::zip_bomb(docx, 1024),
            form_unreadable("form.docx", "the attachment is larger than the limits allow"),
        ),
        form(
            "an XLSX entity expansion (its text read without the entity)",
            "entity-xlsx",
            xlsx.file_name(),
            xlsx.content_type(),
            bombs::entity_bomb(xlsx),
            format!("{no_fields}\n"),
        ),
        form(
            "an XLSX sheet with cells at opposite corners (read as two cells)",
            "corners-xlsx",
            xlsx.file_name(),
            xlsx.content_type(),
            bombs::xlsx_opposite_corners(),
            "missing: organization; missing: phone\n".to_owned(),
        ),
        whole(
            "MIME nested 3,000 deep",
            "deep",
            bombs::deep_mime(3_000),
            "the message nests more than 100 multipart or attached messages; only the first 100 were read",
        ),
        whole(
            "a 4 MB To: header (read)",
            "bigfield",
            bombs::huge_header_field(4 << 20),
            "missing: organization; missing: phone\n",
        ),
        whole("3,000,000 header-less parts (29 MB)", "headerless", bombs::headerless_parts(3_000_000), MIME_PARTS),
        whole(
            "600,000 Content-Disposition-only parts (25 MB)",
            "disposition",
            bombs::disposition_only_parts(600_000),
            MIME_PARTS,
        ),
        whole("20,000 attachments (19 MB)", "attachments", bombs::many_attachments(20_000), MIME_PARTS),
    ]
}

/// Five ordinary applications, one of them as large as the message limit allows (a 38 MB
/// message with a 28 MB attachment): (sender, raw).
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
    mails.insert(2, ("applicant@large.example".to_owned(), bombs::largest_ordinary_application(28_000_000)));
    mails
}

/// The entries of the summary's needs-a-person list, each its lines joined by line breaks.
fn needs_a_person(summary: &str) -> Vec<String> {
    let section = summary
        .split("■ ")
        .find(|s| s.starts_with("확인 필요 (Needs a person)"))
        .unwrap_or_else(|| panic!("no needs-a-person list in the summary:\n{summary}"));
    let mut entries: Vec<String> = Vec::new();
    for line in section.lines().skip(1) {
        let numbered = line.trim_start().split_once(". ").is_some_and(|(n, _)| n.parse::<u32>().is_ok());
        match entries.last_mut() {
            Some(entry) if !numbered => {
                entry.push_str(line.trim());
                entry.push('\n');
            }
            _ => entries.push(format!("{}\n", line.trim())),
        }
    }
    entries
}

/// Twelve hostile messages (attached-form bombs of every kind, absurd MIME structure, a 4 MB
/// header, messages of 19–38 MB), then five ordinary applications (one of them 38 MB), read by
/// one `smebridge once` on a real Dovecot + Postfix: it exits 0 with its peak RSS under 128 MB
/// (`helpers/rss.rs`), every message is recorded, every ordinary applicant is acknowledged
/// exactly once and no one twice, and the staff summary shows every hostile message with what
/// is wrong with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_of_bombs_then_applications_is_read_in_one_bounded_pass() {
    let desk = Desk::start();
    let bombs = mailbox_bombs();
    let applications = ordinary_applications();
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    for raw in bombs.iter().map(|b| &b.raw).chain(applications.iter().map(|(_, raw)| raw)) {
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
    assert!(peak_kb < 128 * 1024, "memory bounded: peak {} MB", peak_kb >> 10);

    desk.wait_for_queue_empty();
    for (sender, _) in &applications {
        assert_eq!(desk.delivered(sender), 1, "{sender} is acknowledged exactly once");
    }
    let summary = desk.smebridge(&["summary"]);
    assert!(summary.status.success(), "{}", String::from_utf8_lossy(&summary.stderr));
    let summary = String::from_utf8(summary.stdout).unwrap();
    let entries = needs_a_person(&summary);
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    for bomb in &bombs {
        assert!(desk.delivered(&bomb.sender) <= 1, "{}: never answered twice", bomb.what);
        let (outcome, problems): (String, Option<String>) = conn
            .query_row("SELECT outcome, problems FROM messages WHERE sender = ?1", [&bomb.sender], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap_or_else(|e| panic!("{}: not recorded ({e})", bomb.what));
        let told = bomb.told.trim_end();
        assert_eq!(outcome, "registered", "{}", bomb.what);
        let entry = entries
            .iter()
            .find(|e| e.contains(&format!(" · {}\n", bomb.sender)))
            .unwrap_or_else(|| panic!("{}: not in the needs-a-person list:\n{summary}", bomb.what));
        // A wording that ends the entry (`told` ends with a line break) is all staff are told.
        let shown = if bomb.told.ends_with('\n') { entry.ends_with(&bomb.told) } else { entry.contains(told) };
        assert!(shown, "{}: staff are told {told:?}; the summary says:\n{entry}", bomb.what);
        if bomb.told.ends_with('\n') {
            assert_eq!(problems, None, "{}: defused without a problem", bomb.what);
        } else {
            assert!(problems.as_deref().is_some_and(|p| p.contains(told)), "{}: {problems:?}", bomb.what);
        }
    }
    // What the defused forms and header gave: no entity text, two cells, the body's name.
    let names: Vec<(String, Option<String>)> = conn
        .prepare("SELECT email, name FROM applications ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let name_of = |sender: &str| names.iter().find(|(email, _)| email == sender).and_then(|(_, name)| name.clone());
    assert_eq!(name_of("entity-xlsx@hostile.example"), None, "no laughs expanded into a name");
    assert_eq!(name_of("corners-xlsx@hostile.example").as_deref(), Some("모서리"));
    assert_eq!(name_of("bigfield@hostile.example").as_deref(), Some("머리"));
    assert_eq!(name_of("applicant@large.example").as_deref(), Some("김민준"), "the 38 MB application is read");
}

/// A 38 MB question in EUC-KR (read in process, such a text needs some 210 MB: the decoded
/// string beside the bytes) is read apart by `once` and again for the summary's excerpt: both
/// stay under the bound, and staff see the question.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_question_is_read_and_summarized_for_staff_within_the_memory_bound() {
    let desk = Desk::start();
    let question = "워크숍 당일 주차가 가능한지 문의드립니다. 가능한가요?\r\n\r\n";
    let filler = "가나다라마바사 아자차카타파하 ".repeat(100) + "\r\n";
    let mut body = String::from(question);
    while body.len() < 56_000_000 {
        body.push_str(&filler);
    }
    let mut raw = b"From: <asker@large-question.example>\r\nTo: smebridge@kaist.ac.kr\r\nSubject: =?UTF-8?B?7KO87LCoIOusuOydmA==?=\r\n\
        Message-ID: <question@large-question.example>\r\nDate: Wed, 16 Nov 2022 10:00:00 +0900\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=euc-kr\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        .to_vec();
    let (encoded, _, unmappable) = encoding_rs::EUC_KR.encode(&body);
    assert!(!unmappable);
    raw.extend_from_slice(&encoded);
    assert!(raw.len() > 36 << 20 && raw.len() < bombs::MESSAGE_LIMIT, "{} bytes", raw.len());
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    session.append("INBOX", None, None, &raw).await.unwrap();
    session.logout().await.unwrap();

    let peak = |args: &[&str]| {
        let (mut command, log) = desk.command(args);
        let out = desk.dir.path().join(format!("{}.out", args[0]));
        command.stdin(Stdio::null()).stdout(std::fs::File::create(&out).unwrap());
        let (code, peak_kb) = run_for_peak_rss(&mut command);
        assert_eq!(code, 0, "{}", std::fs::read_to_string(&log).unwrap());
        eprintln!("a {} MB question: peak RSS of smebridge {} {} MB", raw.len() >> 20, args[0], peak_kb >> 10);
        (std::fs::read_to_string(&out).unwrap(), peak_kb)
    };
    let (once, once_kb) = peak(&["once"]);
    assert!(once.contains("recorded 1 new message"), "{once}");
    let outcomes = desk.outcomes();
    assert_eq!(outcomes, [(Some("asker@large-question.example".to_owned()), "inquiry".to_owned())]);
    let (summary, summary_kb) = peak(&["summary"]);
    let entries = needs_a_person(&summary);
    let entry = entries.iter().find(|e| e.contains("asker@large-question.example")).expect("the question for staff");
    assert!(entry.contains("워크숍 당일 주차가 가능한지 문의드립니다."), "{entry}");
    assert!(once_kb < 128 * 1024, "memory bounded: once peaked at {} MB", once_kb >> 10);
    assert!(summary_kb < 128 * 1024, "memory bounded: summary peaked at {} MB", summary_kb >> 10);
}
