//! A refused SMTP login is a configuration error, not a property of the replies: against the
//! real Postfix of the stack, whose SMTP AUTH goes through the stack's Dovecot (SASL), which
//! refuses a wrong password with `535 5.7.8`. Nothing is marked failed, no attempt is counted,
//! `once` and `summary --send` fail saying so, the daemon keeps running, and once the password
//! is right every reply (and the staff summary) goes out.

use std::process::Child;
use std::time::{Duration, Instant};

use mailstack::desk::STAFF;

use crate::helpers::{application, Desk, CENTER};

const REFUSED: &str =
    "the SMTP server refused the login (wrong password?): replies are kept and will be sent once it accepts";

fn applicant(i: usize) -> String {
    format!("login{i}@smtp-login.example")
}

fn apply(i: usize) -> String {
    application(
        "신청자",
        &applicant(i),
        "워크숍 참가 신청",
        &format!("성명: 신청자{i}\n소속: 회사{i}\n연락처: 010-3000-{i:04}\n"),
        &format!("login-{i}@smtp-login.example"),
    )
}

/// A desk whose `[smtp]` logs in as the center with the password in `smtp-password`, written
/// wrong; returns the path of that file.
fn desk_with_a_wrong_smtp_password() -> (Desk, std::path::PathBuf) {
    let desk = Desk::start_with(
        "2099-12-31T23:59:59+09:00",
        &[("smtp", &format!("username = \"{CENTER}\"")), ("smtp", "password_file = \"smtp-password\"")],
    );
    let file = desk.dir.path().join("smtp-password");
    std::fs::write(&file, "not-the-smtp-password\n").unwrap();
    (desk, file)
}

/// Outbox rows as (kind, state, attempts), oldest first.
fn outbox(desk: &Desk) -> Vec<(String, String, i64)> {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let mut stmt = conn.prepare("SELECT kind, state, attempts FROM outbox ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

/// The earliest time a pending reply is due, as seconds since the epoch.
fn next_attempt_at(desk: &Desk) -> i64 {
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    conn.query_row("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'", [], |r| r.get(0)).unwrap()
}

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_smtp_login_fails_the_pass_keeps_every_reply_and_they_go_out_once_it_is_fixed() {
    let (desk, password) = desk_with_a_wrong_smtp_password();
    for i in 0..3 {
        desk.send_to_center(&applicant(i), &apply(i)).await;
    }

    // `once`: the three are recorded and queued, none is failed, and the command fails.
    let out = desk.smebridge(&["once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a refused SMTP login fails `once`:\n{stderr}");
    assert!(stderr.contains(REFUSED), "{stderr}");
    assert!(stderr.contains("535"), "the server's answer is shown:\n{stderr}");
    assert!(stderr.contains("recorded 3 new message(s), queued 3 repl(ies): the SMTP server refused"), "{stderr}");
    assert!(stderr.contains("(0 sent before the refusal, 3 pending;"), "{stderr}");
    assert!(!stderr.contains("failed for good"), "{stderr}");
    let replies = |desk: &Desk| outbox(desk).into_iter().filter(|(kind, ..)| kind != "summary").collect::<Vec<_>>();
    assert_eq!(replies(&desk), vec![("ack".to_owned(), "pending".to_owned(), 0); 3], "kept, no attempt counted");
    assert!(next_attempt_at(&desk) >= now_s() + 30, "the next try waits for the backoff");
    // Postfix did refuse the login (it is the server's refusal, not ours).
    let postfix = desk.stack.postfix_log();
    assert!(postfix.contains("authentication failed"), "{postfix}");

    // `summary --send`: the same; the summary waits in the outbox too.
    let out = desk.smebridge(&["summary", "--send"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a refused SMTP login fails `summary --send`:\n{stderr}");
    assert!(
        stderr.contains("queued 1 summary mail(s): the SMTP server refused") && stderr.contains(REFUSED),
        "{stderr}"
    );
    let summaries: Vec<_> = outbox(&desk).into_iter().filter(|(kind, ..)| kind == "summary").collect();
    assert!(!summaries.is_empty(), "{summaries:?}");
    assert!(summaries.iter().all(|(_, state, attempts)| state == "pending" && *attempts == 0), "{summaries:?}");
    assert!(outbox(&desk).iter().all(|(_, state, _)| state == "pending"), "nothing failed: {:?}", outbox(&desk));

    // The password fixed: one pass sends every reply and the summary.
    std::fs::write(&password, format!("{}\n", mailstack::PASSWORD)).unwrap();
    let out = desk.once();
    let total = outbox(&desk).len();
    assert!(out.contains(&format!("sent {total}, retrying 0, failed 0")), "{out}");
    for i in 0..3 {
        assert_eq!(desk.wait_for_mail(&applicant(i), 1).await.len(), 1);
    }
    assert_eq!(desk.wait_for_mail(STAFF, summaries.len()).await.len(), summaries.len());
    assert!(outbox(&desk).iter().all(|(_, state, attempts)| state == "sent" && *attempts == 1), "{:?}", outbox(&desk));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_keeps_running_keeps_the_replies_and_sends_them_after_the_backoff_once_the_password_is_fixed() {
    let (desk, password) = desk_with_a_wrong_smtp_password();
    desk.send_to_center(&applicant(7), &apply(7)).await;
    let (mut daemon, log) = desk.spawn(&["run"], &[]);
    let refused = wait_for(&mut daemon, &log, "the refusal", |text| text.contains(REFUSED));
    assert!(refused.contains("retry_in_s=59") || refused.contains("retry_in_s=60"), "a minute:\n{refused}");

    // Another application arrives while the login is refused: recorded, and kept too.
    desk.send_to_center(&applicant(8), &apply(8)).await;
    let started = Instant::now();
    let acks = |desk: &Desk| outbox(desk).into_iter().filter(|(kind, ..)| kind != "summary").collect::<Vec<_>>();
    while acks(&desk).len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "the daemon must go on reading the mailbox");
        std::thread::sleep(Duration::from_millis(100));
    }
    let replies = acks(&desk);
    assert_eq!(replies, vec![("ack".to_owned(), "pending".to_owned(), 0); 2], "kept, no attempt counted");
    assert!(next_attempt_at(&desk) >= now_s() + 20, "both wait for the backoff");
    assert_eq!(desk.delivered(&applicant(7)) + desk.delivered(&applicant(8)), 0);

    // The password file fixed while the daemon runs: it is read again at the next try, after
    // the backoff, and both replies go out, each on its first counted attempt.
    std::fs::write(&password, format!("{}\n", mailstack::PASSWORD)).unwrap();
    let text =
        wait_for(&mut daemon, &log, "the replies after the backoff", |text| text.matches("reply sent").count() >= 2);
    stop(daemon);
    assert_eq!(text.matches(REFUSED).count(), 1, "one refusal, then the backoff (a minute):\n{text}");
    assert!(!text.contains("failed for good") && !text.contains("the pass failed"), "{text}");
    assert_eq!(desk.wait_for_mail(&applicant(7), 1).await.len(), 1);
    assert_eq!(desk.wait_for_mail(&applicant(8), 1).await.len(), 1);
    assert_eq!(acks(&desk), vec![("ack".to_owned(), "sent".to_owned(), 1); 2]);
}

/// The daemon's log once `done` says so (the daemon must keep running meanwhile).
fn wait_for(daemon: &mut Child, log: &std::path::Path, what: &str, done: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if done(&text) {
            return text;
        }
        assert!(daemon.try_wait().unwrap().is_none(), "the daemon must keep running:\n{text}");
        assert!(started.elapsed() < Duration::from_secs(120), "timed out waiting for {what}:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
