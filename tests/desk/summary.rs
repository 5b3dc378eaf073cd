//! The staff's morning summary, end to end: the daemon (with its clock started at a chosen
//! moment) sends exactly one summary a day to the staff mailbox in Dovecot, across a restart and
//! a missed summary time; the mail has a text and an HTML part, the chart, an XLSX and a CSV; the
//! numbers match the database; and the HTML renders in a real browser.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{application, parsed, Desk, DEADLINE};
use base64::Engine as _;
use mail_parser::MimeHeaders;

const STAFF: &str = "staff@kaist.ac.kr";

/// Run the daemon with its clock started at `clock_start` until `done` holds (at most 60 s), then
/// SIGTERM it.
fn run_daemon(desk: &Desk, clock_start: &str, what: &str, mut done: impl FnMut() -> bool) {
    let (mut daemon, log) = desk.spawn(&["run"], &[("SMEBRIDGE_CLOCK_START", clock_start)]);
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = daemon.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the daemon must stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{}", std::fs::read_to_string(log).unwrap_or_default());
}

/// Whether the daemon has read the mailbox whole at or after `clock` on its own clock: it then
/// decides at once whether a summary is due (and sends one before it stops).
fn read_since(desk: &Desk, clock: &str) -> bool {
    let since: jiff::Timestamp = clock.parse().unwrap();
    let Ok(conn) = rusqlite::Connection::open(desk.database()) else { return false };
    // Unix seconds on the daemon's clock (migrations/0006).
    let read_at: Option<i64> =
        conn.query_row("SELECT MAX(read_at) FROM mailbox_reads", [], |r| r.get(0)).ok().flatten();
    read_at.is_some_and(|at| at >= since.as_second())
}

fn summaries(desk: &Desk) -> usize {
    let maildir = desk.stack.maildir(STAFF);
    ["new", "cur"].iter().map(|d| std::fs::read_dir(maildir.join(d)).map(|e| e.count()).unwrap_or(0)).sum()
}

async fn seed(desk: &Desk) {
    let people = [
        ("김민준", "kim@hanbit.example", "(주)한빛테크", "2", "15-Nov-2022 10:00:00 +0900"),
        ("이서연", "lee@daon.example", "다온소재", "1", "15-Nov-2022 15:30:00 +0900"),
        ("Jane Doe", "jane@acme.example", "Acme Robotics", "1", "16-Nov-2022 07:10:00 +0900"),
    ];
    for (i, (name, email, org, n, at)) in people.iter().enumerate() {
        let raw = application(
            name,
            email,
            "참가 신청",
            &format!("성명: {name}\n소속: {org}\n연락처: 010-5555-000{i}\n참석인원: {n}명\n"),
            &format!("s{i}@x.example"),
        );
        desk.append_to_center(&raw, at).await;
    }
    // One question for staff.
    let question = application("문의자", "ask@q.example", "주차 문의", "주차가 가능한가요?\n", "q1@q.example");
    desk.append_to_center(&question, "15-Nov-2022 11:00:00 +0900").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_summary_a_day_across_restarts_and_a_missed_time() {
    let desk = Desk::start_with(DEADLINE, &[("staff", "summary_from = \"2022-11-07\"")]);
    seed(&desk).await;

    // 08:29:57 on the 16th: the summary is due three seconds later.
    run_daemon(&desk, "2022-11-16T08:29:57+09:00", "the summary of the 16th", || summaries(&desk) == 1);
    desk.stack.wait_for_delivery(STAFF, 1, Duration::from_secs(30)).unwrap();

    // Restarted the same morning: no second summary.
    let restart = "2022-11-16T08:31:00+09:00";
    run_daemon(&desk, restart, "a read after the restart", || read_since(&desk, restart));
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    assert_eq!(summaries(&desk), 1, "one summary on the 16th, whatever the restarts");

    // Down over the 17th's summary time, back at 10:00: that day's summary is sent, once.
    run_daemon(&desk, "2022-11-17T10:00:00+09:00", "the summary of the 17th", || summaries(&desk) == 2);
    desk.stack.wait_for_delivery(STAFF, 2, Duration::from_secs(30)).unwrap();
    let restart = "2022-11-17T10:05:00+09:00";
    run_daemon(&desk, restart, "a read after the restart", || read_since(&desk, restart));
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    assert_eq!(summaries(&desk), 2);

    let mails = desk.wait_for_mail(STAFF, 2).await;
    let subjects: Vec<String> = mails.iter().map(|m| parsed(&m.raw).subject().unwrap().to_owned()).collect();
    assert!(subjects[0].contains("2022-11-16"), "{subjects:?}");
    assert!(subjects[1].contains("2022-11-17"), "{subjects:?}");
    assert!(subjects[1].contains("새 신청 없음"), "a day with nothing new still gets a summary: {subjects:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_has_both_parts_the_chart_and_attachments_that_match_the_database() {
    let desk = Desk::start_with(DEADLINE, &[("event", "capacity = 40")]);
    seed(&desk).await;
    desk.once();
    let out = desk.smebridge(&["summary", "--date", "2022-11-16", "--send"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw = desk.wait_for_mail(STAFF, 1).await.remove(0).raw;
    let mail = parsed(&raw);

    assert_eq!(crate::helpers::header(&raw, "Auto-Submitted").as_deref(), Some("auto-generated"));
    let text = mail.body_text(0).unwrap().into_owned();
    let html = mail.body_html(0).unwrap().into_owned();
    let export = desk.export();
    let accepted = export.iter().filter(|r| r["status"] == "accepted").count();
    let people: u32 =
        export.iter().filter(|r| r["status"] == "accepted").map(|r| r["attendees"].parse::<u32>().unwrap()).sum();
    assert_eq!((accepted, people), (3, 4));
    for part in [&text, &html] {
        assert!(part.contains("신청") && part.contains("Accepted"), "Korean labels with English");
        assert!(part.contains("김민준") && part.contains("Jane Doe"));
        assert!(part.contains("주차"), "the inquiry needs a person");
    }
    assert!(text.contains(&format!("{accepted}")) && text.contains(&format!("{people}")), "{text}");
    assert!(html.contains("cid:chart"));

    let mut chart = None;
    let mut xlsx = None;
    let mut csv = None;
    for part in mail.parts.iter() {
        let ctype =
            part.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))).unwrap_or_default();
        match ctype.as_str() {
            "image/png" => {
                assert_eq!(part.content_id(), Some("chart"));
                chart = Some(part.contents().to_vec());
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                xlsx = Some(part.contents().to_vec())
            }
            "text/csv" => csv = Some(part.contents().to_vec()),
            _ => {}
        }
    }
    assert!(chart.expect("an inline chart").starts_with(b"\x89PNG\r\n\x1a\n"));

    // The XLSX, opened with a spreadsheet reader, holds exactly the export's rows.
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.expect("an XLSX attachment"))).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len(), export.len() + 1, "header + one row per application");
    for app in &export {
        assert!(
            rows.iter().any(|r| r.contains(&app["email"]) && r.contains(&app["name"])),
            "{} in the XLSX: {rows:?}",
            app["email"]
        );
    }
    assert!(book.sheet_names().len() >= 2, "a second sheet with the review list");

    // The CSV starts with a BOM and round-trips to the export.
    let csv = csv.expect("a CSV attachment");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let emails: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    let mut expected: Vec<String> = export.iter().map(|r| r["email"].clone()).collect();
    let mut got = emails.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

/// The HTML summary as a person sees it: rendered by headless Chromium (Debian's package, which
/// scripts/install-deps installs) to a PNG and to a PDF whose text must show the totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_summary_renders_in_a_real_browser_and_shows_the_totals() {
    let desk = Desk::start_with(DEADLINE, &[("event", "capacity = 40")]);
    seed(&desk).await;
    desk.once();
    desk.smebridge(&["summary", "--date", "2022-11-16", "--send"]);
    let raw = desk.wait_for_mail(STAFF, 1).await.remove(0).raw;
    let mail = parsed(&raw);
    let html = mail.body_html(0).unwrap().into_owned();
    let chart =
        mail.parts.iter().find(|p| p.content_id() == Some("chart")).map(|p| p.contents().to_vec()).expect("chart");
    // A browser has no cid: resolver; give it the same image as a data: URI.
    let page = html.replace(
        "cid:chart",
        &format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&chart)),
    );
    let dir = tempfile::tempdir().unwrap();
    let page_path = dir.path().join("summary.html");
    std::fs::write(&page_path, page).unwrap();
    let png = dir.path().join("summary.png");
    let pdf = dir.path().join("summary.pdf");

    let chromium = |args: &[String]| {
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg(format!("file://{}", page_path.display()))
            .output()
            .expect("chromium must be installed (scripts/install-deps installs it)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    chromium(&[format!("--screenshot={}", png.display()), "--window-size=900,1400".into()]);
    chromium(&[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".into()]);

    let shot = std::fs::read(&png).unwrap();
    assert!(shot.starts_with(b"\x89PNG") && shot.len() > 20_000, "a real screenshot ({} bytes)", shot.len());
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output().expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let squashed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for shown in ["Accepted", "Attendees", "신청", "김민준", "Jane Doe", "36"] {
        assert!(squashed.contains(shown), "the rendered page should show {shown:?}:\n{squashed}");
    }
}

/// `smebridge ARGS` with the daemon's clock started at `clock` (see [`Desk::command`]).
fn smebridge_at(desk: &Desk, args: &[&str], clock: &str) -> std::process::Output {
    let (mut command, log) = desk.command(args);
    let out = command
        .env("SMEBRIDGE_CLOCK_START", clock)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("smebridge must start");
    std::fs::write(log, &out.stderr).unwrap();
    out
}

fn once_at(desk: &Desk, clock: &str) -> String {
    let out = smebridge_at(desk, &["once"], clock);
    assert!(out.status.success(), "once at {clock}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn summaries_recorded(desk: &Desk) -> i64 {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    conn.query_row("SELECT COUNT(*) FROM summaries", [], |r| r.get(0)).unwrap()
}

/// (subject, text part) of a staff mail.
fn subject_and_text(raw: &[u8]) -> (String, String) {
    let mail = parsed(raw);
    (mail.subject().unwrap().to_owned(), mail.body_text(0).unwrap().into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_that_cannot_log_in_sends_nothing_and_the_next_good_pass_answers_and_summarizes() {
    let mut desk = Desk::start_with(DEADLINE, &[("staff", "summary_from = \"2022-11-07\"")]);
    let kim = "kim@hanbit.example";
    let lee = "lee@daon.example";
    // Kim's application is recorded while Postfix is down: its acknowledgement waits in the
    // outbox. No summary yet (before the first summary time nothing was missed).
    desk.stack.stop_postfix().expect("stop Postfix");
    let raw = application("김민준", kim, "참가 신청", "성명: 김민준\n소속: (주)한빛테크\n", "k1@hanbit.example");
    desk.append_to_center(&raw, "16-Nov-2022 06:50:00 +0900").await;
    let first = once_at(&desk, "2022-11-16T07:00:00+09:00");
    assert!(first.contains("recorded 1 new message") && first.contains("retrying 1"), "{first}");
    desk.stack.start_postfix().expect("start Postfix");
    // Lee applies; then the password is wrong when the summary is due.
    let raw = application("이서연", lee, "참가 신청", "성명: 이서연\n소속: 다온소재\n", "l1@daon.example");
    desk.append_to_center(&raw, "16-Nov-2022 08:00:00 +0900").await;
    let password = desk.dir.path().join("password");
    let good = std::fs::read_to_string(&password).unwrap();
    std::fs::write(&password, "not-the-password\n").unwrap();

    let out = smebridge_at(&desk, &["once"], "2022-11-16T09:00:00+09:00");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a pass that cannot log in fails:\n{stderr}");
    assert!(stderr.contains("cannot log in to the mailbox; nothing was sent"), "{stderr}");
    assert!(stderr.contains("wrong username or password"), "{stderr}");
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    assert_eq!(desk.count(STAFF).await, 0, "no staff summary from a mailbox that was not read");
    assert_eq!(desk.count(kim).await, 0, "nothing sent at all, not even a pending reply");
    assert_eq!(desk.count(lee).await, 0);
    assert_eq!(summaries_recorded(&desk), 0, "the day's summary is not used up");
    assert_eq!(desk.outbox_states(), vec![("pending".to_owned(), 1)]);

    // The password fixed: the next pass reads the mailbox, answers both and summarizes.
    std::fs::write(&password, good).unwrap();
    let second = once_at(&desk, "2022-11-16T09:00:00+09:00");
    assert!(second.contains("recorded 1 new message"), "{second}");
    assert_eq!(desk.wait_for_mail(kim, 1).await.len(), 1);
    assert_eq!(desk.wait_for_mail(lee, 1).await.len(), 1);
    let (subject, text) = subject_and_text(&desk.wait_for_mail(STAFF, 1).await[0].raw);
    assert!(subject.contains("2022-11-16") && subject.contains("신규 2건"), "{subject}");
    assert!(!subject.contains("⚠"), "the mailbox was just read: {subject}");
    assert!(text.contains("1. 김민준") && text.contains("2. 이서연"), "both are new:\n{text}");
    assert!(text.contains("메일함 확인 (mailbox last read): 2022-11-16 (수) 09:00"), "{text}");
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    assert_eq!(desk.count(kim).await, 1, "one acknowledgement each");
    assert_eq!(desk.count(lee).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_recorded_after_a_summary_it_arrived_before_is_new_in_the_next_summary() {
    let desk = Desk::start_with(DEADLINE, &[("staff", "summary_from = \"2022-11-07\"")]);
    let raw = application("김민준", "kim@hanbit.example", "참가 신청", "성명: 김민준\n소속: 한빛테크\n", "k@h.example");
    desk.append_to_center(&raw, "15-Nov-2022 10:00:00 +0900").await;
    once_at(&desk, "2022-11-16T08:31:00+09:00");
    let (subject, _) = subject_and_text(&desk.wait_for_mail(STAFF, 1).await[0].raw);
    assert!(subject.contains("2022-11-16") && subject.contains("신규 1건"), "{subject}");

    // Lee's mail arrived at 08:00, before that summary, but smebridge records it only later (the
    // mailbox was not read in between).
    let raw = application("이서연", "lee@daon.example", "참가 신청", "성명: 이서연\n소속: 다온소재\n", "l@d.example");
    desk.append_to_center(&raw, "16-Nov-2022 08:00:00 +0900").await;

    // A summary sent by hand an hour and a half after the last read warns that it is stale.
    let out = smebridge_at(&desk, &["summary", "--send"], "2022-11-16T10:05:00+09:00");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (subject, text) = subject_and_text(&desk.wait_for_mail(STAFF, 2).await[1].raw);
    assert!(subject.starts_with("[smebridge] ⚠ 메일함 미확인 (mailbox not read)"), "{subject}");
    assert!(
        text.contains("The mailbox was last read at 2022-11-16 (수) 08:31, 1 h 34 min before this summary"),
        "{text}"
    );

    once_at(&desk, "2022-11-17T08:31:00+09:00");
    let mails = desk.wait_for_mail(STAFF, 3).await;
    let (subject, text) = subject_and_text(&mails[2].raw);
    assert!(subject.contains("2022-11-17") && subject.contains("신규 1건"), "{subject}");
    assert!(text.contains("1. 이서연"), "recorded after the previous summary, so new in this one:\n{text}");
    assert!(!text.contains("1. 김민준"), "{text}");
}
