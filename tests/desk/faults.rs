//! Breaking things on purpose, against the real Dovecot and Postfix: the IMAP server restarted
//! under the daemon, the mailbox recreated (new UIDVALIDITY), and staff handling the mailbox in
//! their mail client while smebridge works.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{application, crlf, Desk, CENTER};
use futures::TryStreamExt;

fn applicant(i: usize) -> String {
    format!("person{i}@faults.example")
}

fn raw(i: usize) -> String {
    application(
        "신청자",
        &applicant(i),
        "참가 신청",
        &format!("성명: 신청자{i}\n소속: 회사{i}\n연락처: 010-2000-{i:04}\n"),
        &format!("f{i}@faults.example"),
    )
}

fn spawn_daemon(desk: &Desk) -> Child {
    desk.spawn(&["run"], &[]).0
}

fn stop(mut daemon: Child) {
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let started = Instant::now();
    while daemon.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "the daemon must stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn registered(desk: &Desk) -> i64 {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    conn.query_row("SELECT COUNT(*) FROM messages WHERE outcome = 'registered'", [], |r| r.get(0)).unwrap_or(0)
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn delivered(desk: &Desk, user: &str) -> usize {
    let dir = desk.stack.maildir(user);
    ["new", "cur"].iter().map(|d| std::fs::read_dir(dir.join(d)).map(|e| e.count()).unwrap_or(0)).sum()
}

async fn append_all(desk: &Desk, range: std::ops::Range<usize>) {
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    for i in range {
        session.append("INBOX", None, Some("\"16-Nov-2022 10:00:00 +0900\""), crlf(&raw(i)).as_bytes()).await.unwrap();
    }
    session.logout().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_rides_out_imap_server_restarts_mid_fetch_and_during_idle() {
    const BACKLOG: usize = 1000;
    // Above the default cap of 1,000 replies an hour, which this backlog would otherwise reach.
    let mut desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("replies", "max_per_hour = 5000")]);
    // Big enough that the daemon is still fetching when Dovecot goes away (it records a batch of
    // 32 in one commit, so a small backlog can be done before the test looks).
    append_all(&desk, 0..BACKLOG).await;
    let daemon = spawn_daemon(&desk);

    // Restart Dovecot while the backlog is being fetched.
    wait_until("the first messages to be recorded", Duration::from_secs(30), || registered(&desk) > 0);
    desk.stack.stop_dovecot().unwrap();
    let during = registered(&desk);
    std::thread::sleep(Duration::from_millis(500)); // the outage
    desk.stack.start_dovecot().unwrap();
    wait_until("the whole backlog", Duration::from_secs(90), || registered(&desk) == BACKLOG as i64);

    // Restart it again while the daemon waits in IDLE, then send new mail. First let the
    // acknowledgements reach their mailboxes: Dovecot killed in the middle of an LMTP delivery
    // makes Postfix deliver that mail again (at-least-once), which would be a second copy of one
    // reply, not a second reply — and not what this test is about.
    wait_until("the backlog's replies", Duration::from_secs(60), || {
        desk.outbox_states() == vec![("sent".to_owned(), BACKLOG as i64)]
    });
    desk.stack.wait_for_queue_empty(Duration::from_secs(60)).unwrap();
    desk.wait_for_idle(CENTER);
    desk.stack.stop_dovecot().unwrap();
    std::thread::sleep(Duration::from_millis(500)); // the outage
    desk.stack.start_dovecot().unwrap();
    desk.send_to_center(&applicant(BACKLOG), &raw(BACKLOG)).await;
    wait_until("the mail sent after the restart", Duration::from_secs(60), || registered(&desk) == BACKLOG as i64 + 1);
    wait_until("every reply", Duration::from_secs(60), || {
        desk.outbox_states() == vec![("sent".to_owned(), BACKLOG as i64 + 1)]
    });
    stop(daemon);
    desk.stack.wait_for_queue_empty(Duration::from_secs(60)).unwrap();

    eprintln!("{during} of {BACKLOG} were recorded when Dovecot was stopped");
    assert!(during < BACKLOG as i64, "the first restart really hit the backlog");
    assert_eq!(registered(&desk), BACKLOG as i64 + 1, "nothing missed, nothing twice");
    // Exactly one reply per applicant, counted where smebridge hands it over: one submission to
    // Postfix (its `cleanup` logs each message it accepts with its Message-ID) and one distinct
    // Message-ID in the applicant's mailbox. Not the number of files in the mailbox: Dovecot
    // stopped in the middle of an LMTP delivery has written the mail but not answered, so
    // Postfix delivers it again later (at-least-once, by design of the servers) — the same
    // message twice, which mail clients show once, not a second reply from smebridge.
    let postfix_log = desk.stack.postfix_log();
    let wrong: Vec<(usize, Vec<String>, Vec<usize>)> = (0..=BACKLOG)
        .map(|i| {
            let ids = reply_ids(&desk, &applicant(i));
            let submissions = ids.iter().map(|id| submitted(&postfix_log, id)).collect::<Vec<_>>();
            (i, ids, submissions)
        })
        .filter(|(_, ids, submissions)| ids.len() != 1 || submissions != &[1])
        .collect();
    assert!(
        wrong.is_empty(),
        "applicants without exactly one reply (applicant, distinct Message-IDs, submissions of each): {wrong:?}"
    );
    let copies: usize = (0..=BACKLOG).map(|i| delivered(&desk, &applicant(i))).sum();
    eprintln!("{} copies delivered twice by the servers", copies - (BACKLOG + 1));
}

/// The distinct Message-IDs of the mail in `user`'s mailbox.
fn reply_ids(desk: &Desk, user: &str) -> Vec<String> {
    let dir = desk.stack.maildir(user);
    let mut ids: Vec<String> = ["new", "cur"]
        .iter()
        .filter_map(|d| std::fs::read_dir(dir.join(d)).ok())
        .flatten()
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .map(|raw| crate::helpers::header(&raw, "Message-ID").expect("a reply has a Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// How many times Postfix accepted a message with this Message-ID (`cleanup`'s log line).
fn submitted(postfix_log: &str, message_id: &str) -> usize {
    let needle = format!("message-id={}", message_id.trim());
    postfix_log.lines().filter(|l| l.contains("cleanup") && l.contains(&needle)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_mailbox_with_a_new_uidvalidity_duplicates_nothing() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("imap", "mailbox = \"Applications\"")]);
    let host = desk.stack.host();
    let port = desk.stack.imap_port();
    for i in 0..5 {
        mailstack::client::append(
            host,
            port,
            CENTER,
            "Applications",
            crlf(&raw(i)).as_bytes(),
            Some("16-Nov-2022 10:00:00 +0900"),
        )
        .await
        .unwrap();
    }
    let first = desk.once();
    assert!(first.contains("recorded 5 new message") && first.contains("sent 5"), "{first}");
    let validity = |desk: &Desk| -> i64 {
        let conn = rusqlite::Connection::open(desk.database()).unwrap();
        conn.query_row("SELECT uidvalidity FROM mailbox_state", [], |r| r.get(0)).unwrap()
    };
    let before = validity(&desk);

    // Someone deletes the folder and puts the same messages back (e.g. a restore from backup).
    let saved = mailstack::client::fetch_all(host, port, CENTER, "Applications").await.unwrap();
    let mut session = mailstack::client::login(host, port, CENTER).await.unwrap();
    session.delete("Applications").await.unwrap();
    session.logout().await.unwrap();
    std::thread::sleep(Duration::from_millis(1100)); // a new second, so a new UIDVALIDITY
    for mail in &saved {
        mailstack::client::append(host, port, CENTER, "Applications", &mail.raw, Some("16-Nov-2022 10:00:00 +0900"))
            .await
            .unwrap();
    }
    // And one genuinely new application arrives in it.
    mailstack::client::append(host, port, CENTER, "Applications", crlf(&raw(5)).as_bytes(), None).await.unwrap();

    let second = desk.once();
    assert_ne!(validity(&desk), before, "the UIDVALIDITY really changed");
    assert!(second.contains("recorded 1 new message(s) (5 already known"), "{second}");
    assert!(second.contains("queued 1 repl"), "only the new one is answered: {second}");
    assert_eq!(desk.export().len(), 6);
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    for i in 0..6 {
        assert_eq!(delivered(&desk, &applicant(i)), 1, "applicant {i}");
    }

    // Staff are told, in words, with the counts of the rescan.
    let text = staff_summary(&desk);
    assert!(text.contains("■ 메일함 (Mailbox): 1건"), "{text}");
    assert!(
        text.contains("The folder 'Applications' was reset by the server (UIDVALIDITY changed). Every message in it was checked again: 5 messages were recognised as already recorded (not processed or answered again), 1 new message was recorded."),
        "{text}"
    );
}

/// A mailbox restored from a backup keeps its UIDVALIDITY but hands out UIDs again: the UIDs
/// recorded since the backup now name other messages. smebridge sees UIDNEXT go backwards,
/// forgets its UIDs for the folder, looks at every message again (known bytes are recognised),
/// records the new one that got a reused UID, and tells staff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_restored_from_a_backup_reuses_uids_and_nothing_is_missed_or_answered_twice() {
    let mut desk = Desk::start();
    append_all(&desk, 0..3).await;
    assert!(desk.once().contains("recorded 3 new message"));
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();

    // The backup: Dovecot's maildir as it is now (messages, dovecot-uidlist, indexes).
    let maildir = desk.stack.maildir(CENTER);
    let backup = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        let status = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
        assert!(status.success(), "cp -a {} {}", from.display(), to.display());
    };
    desk.stack.stop_dovecot().unwrap();
    copy(&maildir, &backup.path().join("Maildir"));
    desk.stack.start_dovecot().unwrap();

    // Two more arrive and are answered (UIDs 4 and 5, UIDNEXT 6).
    append_all(&desk, 3..5).await;
    assert!(desk.once().contains("recorded 2 new message"));
    // (Their acknowledgements delivered first: Dovecot stopped mid-LMTP makes Postfix deliver a
    // reply twice, which is not what this test is about.)
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();

    // The server is restored from the backup (UIDNEXT 4 again, same UIDVALIDITY), and a new
    // application arrives: it gets UID 4, which smebridge recorded for another message.
    desk.stack.stop_dovecot().unwrap();
    std::fs::remove_dir_all(&maildir).unwrap();
    copy(&backup.path().join("Maildir"), &maildir);
    desk.stack.start_dovecot().unwrap();
    append_all(&desk, 5..6).await;

    let report = desk.once();
    assert!(report.contains("recorded 1 new message(s) (3 already known"), "{report}");
    assert!(report.contains("queued 1 repl"), "only the new one is answered: {report}");
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let events: Vec<String> = conn
        .prepare("SELECT kind FROM mailbox_events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(events.contains(&"uidnext_backwards".to_owned()), "{events:?}");
    assert_eq!(desk.export().len(), 6, "every application recorded once");
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    for i in 0..6 {
        assert_eq!(delivered(&desk, &applicant(i)), 1, "applicant {i}: exactly one acknowledgement");
    }
    let text = staff_summary(&desk);
    assert!(text.contains("went backwards (UIDNEXT decreased"), "staff are told:\n{text}");
}

/// Today's staff summary as `smebridge summary` prints it (the plain-text part).
fn staff_summary(desk: &Desk) -> String {
    let out = desk.smebridge(&["summary"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_reading_flagging_moving_and_deleting_mail_makes_nothing_skipped() {
    let desk = Desk::start();
    // smebridge watches the mailbox from before the mail arrives.
    assert!(desk.once().contains("recorded 0 new message"));
    append_all(&desk, 0..10).await;
    // Staff open the mailbox in their client before smebridge gets to it.
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    session.create("Archive").await.ok();
    session.select("INBOX").await.unwrap();
    session.uid_store("1:5", "+FLAGS (\\Seen)").await.unwrap().try_collect::<Vec<_>>().await.unwrap();
    session.uid_store("6", "+FLAGS (\\Flagged \\Answered)").await.unwrap().try_collect::<Vec<_>>().await.unwrap();
    session.uid_store("2", "-FLAGS (\\Seen)").await.unwrap().try_collect::<Vec<_>>().await.unwrap();
    session.uid_mv("7", "Archive").await.unwrap();
    session.uid_store("8", "+FLAGS (\\Deleted)").await.unwrap().try_collect::<Vec<_>>().await.unwrap();
    session.expunge().await.unwrap().try_collect::<Vec<_>>().await.unwrap();
    session.logout().await.unwrap();

    let out = desk.once();
    assert!(
        out.contains("recorded 8 new message(s) (0 already known, 2 vanished)"),
        "read, unread and flagged mail is all processed: {out}"
    );
    let emails: Vec<String> = desk.export().into_iter().map(|r| r["email"].clone()).collect();
    for i in [0, 1, 2, 3, 4, 5, 8, 9] {
        assert!(emails.contains(&applicant(i)), "applicant {i} was skipped");
    }

    // smebridge changed no flag: what staff marked stays as they left it.
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    session.select("INBOX").await.unwrap();
    let fetched: Vec<_> = session.uid_fetch("1:*", "(UID FLAGS)").await.unwrap().try_collect().await.unwrap();
    for f in &fetched {
        let seen = f.flags().any(|flag| matches!(flag, async_imap::types::Flag::Seen));
        let uid = f.uid.unwrap();
        assert_eq!(seen, [1, 3, 4, 5].contains(&uid), "UID {uid}: \\Seen must be exactly as staff left it");
    }
    session.logout().await.unwrap();

    // What vanished before it could be read (one moved, one deleted) is reported to staff, once.
    assert!(desk.once().contains("recorded 0 new message(s) (0 already known, 0 vanished)"));
    let text = staff_summary(&desk);
    assert!(text.contains("■ 메일함 (Mailbox): 1건"), "{text}");
    assert!(
        text.contains("2 messages disappeared from the inbox before they could be read (moved or deleted by someone)"),
        "{text}"
    );
}

/// The `imap` processes of this stack's Dovecot: one per IMAP session.
fn imap_processes(desk: &Desk) -> Vec<i32> {
    desk.imap_sessions().into_iter().map(|(pid, _)| pid).collect()
}

/// Stopped processes, continued when dropped (also when the test fails).
struct Frozen(Vec<i32>);

impl Frozen {
    fn stop(pids: Vec<i32>) -> Frozen {
        for &pid in &pids {
            // SAFETY: kill(2) on a Dovecot process of this test's own stack.
            assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "SIGSTOP {pid}");
        }
        Frozen(pids)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for &pid in &self.0 {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_imap_connection_is_noticed_by_the_idle_watchdog_and_nothing_is_missed() {
    // IDLE would run 20 minutes; the watchdog checks the connection every 2 s (DONE must be
    // answered within the 10 s command timeout).
    let desk = Desk::start_with(
        "2099-12-31T23:59:59+09:00",
        &[("imap", "idle_timeout = \"20m\""), ("imap", "idle_keepalive = \"2s\"")],
    );
    let (daemon, log) = desk.spawn(&["run"], &[]);
    desk.send_to_center(&applicant(1), &raw(1)).await;
    wait_until("the first application", Duration::from_secs(30), || registered(&desk) == 1);
    wait_until("its reply", Duration::from_secs(30), || desk.outbox_states() == vec![("sent".to_owned(), 1)]);
    desk.wait_for_idle(CENTER);

    // The server process of the daemon's session hangs: the TCP connection stays open, but
    // nothing will ever come back on it (a NAT that dropped the mapping looks the same).
    let session = imap_processes(&desk);
    assert_eq!(session.len(), 1, "only the daemon's session is open: {session:?}");
    let frozen = Frozen::stop(session);
    let started = Instant::now();
    desk.send_to_center(&applicant(2), &raw(2)).await;
    wait_until("the mail sent while the connection was frozen", Duration::from_secs(40), || registered(&desk) == 2);
    let noticed = started.elapsed();
    drop(frozen);

    wait_until("its reply", Duration::from_secs(30), || desk.outbox_states() == vec![("sent".to_owned(), 2)]);
    stop(daemon);
    eprintln!("the frozen connection was replaced and the new mail recorded after {noticed:?}");
    // keepalive 2 s + DONE timeout 10 s + reconnect backoff ≤ 1.5 s, plus delivery: well inside
    // the 40 s wait above, where without the watchdog it would take the whole 20-minute IDLE.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("treating it as dead"), "the watchdog, not something else, noticed:\n{text}");
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    for i in [1, 2] {
        assert_eq!(delivered(&desk, &applicant(i)), 1, "applicant {i}: exactly one acknowledgement");
    }
}

#[test]
fn the_log_scanner_finds_a_planted_leak_and_nothing_in_a_clean_log() {
    let needles = vec!["person7@faults.example".to_owned(), "010-2000-0007".to_owned(), "신청자7".to_owned()];
    let clean = (
        "000-once.log".to_owned(),
        "2022-11-16T01:00:00Z  INFO smebridge::daemon: mailbox synced recorded=1\n".to_owned(),
    );
    assert!(crate::helpers::leaks(std::slice::from_ref(&clean), &needles).is_empty());
    let leaky =
        ("001-run.log".to_owned(), "INFO recorded\nWARN smebridge: from=신청자7 <person7@faults.example>\n".to_owned());
    let found = crate::helpers::leaks(&[clean, leaky], &needles);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|f| f.starts_with("001-run.log: ")), "{found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_scans_its_logs_when_dropped_and_fails_the_test_on_a_leak() {
    let desk = Desk::start();
    desk.append_to_center(&raw(7), "16-Nov-2022 09:00:00 +0900").await;
    desk.once();
    let needles = desk.log_needles();
    for wanted in [applicant(7), "010-2000-0007".to_owned(), "신청자7".to_owned(), mailstack::PASSWORD.to_owned()] {
        assert!(needles.contains(&wanted), "{wanted} is looked for: {needles:?}");
    }
    assert!(desk.scan_logs().is_empty(), "the real logs are clean: {:?}", desk.scan_logs());
    // Plant a leak in a log, as a careless info! would.
    std::fs::write(
        desk.new_log(&["run"]),
        format!("2022-11-16T01:00:00Z  INFO smebridge: reply to {}\n", applicant(7)),
    )
    .unwrap();
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(desk)));
    let message = dropped.expect_err("dropping the desk must fail the test");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("personal data") && message.contains(&applicant(7)), "{message}");
}

#[test]
fn every_smebridge_process_in_the_tests_is_started_through_the_logged_desk() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    // Where the binary may be named: the desk itself, and `smebridge parse`, which needs no
    // configuration, mailbox or database: it prints what it read from a message to stdout, for
    // staff, by design. Nothing there is a log. `package.rs` only packages the binary; the
    // installed copy it runs has no applicants.
    let exempt = ["desk/helpers/mod.rs", "desk/parse_cli.rs", "desk/bounds.rs", "package.rs"];
    let mut sources = Vec::new();
    let mut dirs = vec![tests.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push(path);
            }
        }
    }
    let mut offenders = Vec::new();
    for path in &sources {
        let relative = path.strip_prefix(&tests).unwrap();
        if exempt.iter().any(|e| relative == Path::new(e)) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        // Spelled in two halves so that this file does not match itself.
        if text.contains(concat!("CARGO_BIN_EXE_", "smebridge")) {
            offenders.push(relative.display().to_string());
        }
    }
    assert!(
        sources.iter().any(|p| p.ends_with("desk/e2e.rs"))
            && sources.iter().any(|p| p.ends_with("desk/helpers/mod.rs")),
        "the scan found the tests: {sources:?}"
    );
    assert!(
        offenders.is_empty(),
        "start smebridge with Desk::command/spawn/smebridge (its log is scanned): {offenders:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_is_recorded_with_its_headers_for_staff() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("imap", "max_message_size = 200000")]);
    let attachment = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n".repeat(14_000);
    let big = format!(
        "From: 큰메일 <big@faults.example>\nTo: {CENTER}\nSubject: =?UTF-8?B?7Iug7LKt7ISc?=\nMessage-ID: <big-1@faults.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n성명: 큰메일\n--b\nContent-Type: application/octet-stream; name=\"scan.pdf\"\nContent-Transfer-Encoding: base64\n\n{attachment}--b--\n"
    );
    desk.append_to_center(&big, "16-Nov-2022 09:00:00 +0900").await;
    desk.append_to_center(&raw(1), "16-Nov-2022 09:01:00 +0900").await;

    let out = desk.once();
    assert!(out.contains("recorded 2 new message") && out.contains("queued 1 repl"), "{out}");
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let (outcome, size, subject): (String, i64, String) = conn
        .query_row("SELECT outcome, size, subject FROM messages WHERE sender = 'big@faults.example'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(outcome, "too_large");
    assert!(size < 10_000, "only the headers are kept ({size} bytes)");
    assert_eq!(subject, "신청서");
    let summary = desk.smebridge(&["summary", "--date", "2022-11-16"]);
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(text.contains("Too large") && text.contains("big@faults.example"), "staff are told:\n{text}");
}

/// Postfix's own test server, answering as told: `args` e.g. `-r MAIL` (4xx), `-f RCPT` (5xx),
/// `-W .:60` (takes the data, never answers in time).
struct Sink(Child, u16);

impl Sink {
    fn start(args: &[&str]) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("/usr/sbin/smtp-sink")
            .args(["-u", "postfix"])
            .args(args)
            .arg(format!("127.0.0.1:{port}"))
            .arg("10")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smtp-sink (from the postfix package)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "smtp-sink did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Sink(child, port)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Point smebridge's SMTP at `port`.
fn smtp_port(desk: &Desk, port: u16) {
    let text = std::fs::read_to_string(&desk.config).unwrap();
    let mut out = String::new();
    let mut in_smtp = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_smtp = line == "[smtp]";
        }
        if in_smtp && line.starts_with("port =") {
            out.push_str(&format!("port = {port}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(&desk.config, out).unwrap();
}

fn outbox_of(desk: &Desk, email: &str) -> (String, i64) {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    conn.query_row("SELECT state, attempts FROM outbox WHERE recipient = ?1", [email], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_faults_temporary_permanent_and_silent() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("smtp", "timeout = \"2s\"")]);
    let postfix = desk.stack.smtp_port();

    // 4xx on every MAIL FROM: retried later, never dropped.
    let sink = Sink::start(&["-r", "MAIL,RCPT,DATA"]);
    smtp_port(&desk, sink.1);
    desk.append_to_center(&raw(1), "16-Nov-2022 09:00:00 +0900").await;
    let out = desk.once();
    assert!(out.contains("retrying 1"), "{out}");
    assert_eq!(outbox_of(&desk, &applicant(1)), ("pending".to_owned(), 1));
    drop(sink);

    // 5xx: failed for good, and staff are told.
    let sink = Sink::start(&["-f", "RCPT"]);
    smtp_port(&desk, sink.1);
    desk.append_to_center(&raw(2), "16-Nov-2022 09:01:00 +0900").await;
    let out = desk.once();
    assert!(out.contains("failed 2"), "both replies are refused for good: {out}");
    assert_eq!(outbox_of(&desk, &applicant(2)).0, "failed");
    let summary = desk.smebridge(&["summary", "--date", "2022-11-16"]);
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(text.contains("Reply failed") && text.contains(&applicant(2)), "staff are told:\n{text}");
    drop(sink);

    // A server that takes the data and never answers: the outcome is unknown, so no resend.
    let sink = Sink::start(&["-W", ".:60"]);
    smtp_port(&desk, sink.1);
    desk.append_to_center(&raw(3), "16-Nov-2022 09:02:00 +0900").await;
    let out = desk.once();
    assert!(out.contains("in doubt 1"), "{out}");
    assert_eq!(outbox_of(&desk, &applicant(3)).0, "sending");
    drop(sink);

    // A working server is back.
    smtp_port(&desk, postfix);
    std::thread::sleep(Duration::from_millis(1200)); // the sending grace
    desk.once();
    assert_eq!(outbox_of(&desk, &applicant(3)).0, "unknown", "without a copy to check, staff decide (no blind resend)");
    assert_eq!(outbox_of(&desk, &applicant(1)).0, "failed", "it met the 5xx server on its retry");
    let states: Vec<String> = desk.outbox().into_iter().map(|(_, _, state)| state).collect();
    assert!(!states.iter().any(|s| s == "pending" || s == "sending"), "nothing pending: {states:?}");
    desk.stack.wait_for_queue_empty(Duration::from_secs(30)).unwrap();
    assert_eq!(delivered(&desk, &applicant(3)), 0, "the unknown reply was not sent again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_mail_moves_to_the_processed_folder_and_the_move_is_safe_to_repeat() {
    let desk = Desk::start();
    for i in 0..3 {
        desk.append_to_center(&raw(i), "16-Nov-2022 09:00:00 +0900").await;
    }
    // First without a processed folder: recorded, left in place (as after a crash before the move).
    desk.once();
    assert_eq!(desk.count(CENTER).await, 3);
    let text = std::fs::read_to_string(&desk.config).unwrap().replacen(
        "[imap]\n",
        "[imap]\nprocessed_mailbox = \"Applications/2022-11\"\n",
        1,
    );
    std::fs::write(&desk.config, text).unwrap();
    desk.append_to_center(&raw(3), "16-Nov-2022 09:05:00 +0900").await;

    let out = desk.once();
    assert!(out.contains("recorded 1 new message"), "only the new one is processed: {out}");
    assert_eq!(desk.count(CENTER).await, 0, "everything recorded has left the INBOX");
    // Dovecot's maildir hierarchy delimiter is '.': the configured '/' is spelled that way.
    let moved = mailstack::client::fetch_all(desk.stack.host(), desk.stack.imap_port(), CENTER, "Applications.2022-11")
        .await
        .unwrap();
    assert_eq!(moved.len(), 4);
    let again = desk.once();
    assert!(again.contains("recorded 0 new message"), "{again}");
    assert_eq!(desk.export().len(), 4);
}
