//! The daemon backs off on an error that comes after it logged in to the mailbox, as on one
//! that keeps it from logging in: a pass that fails every time (here: the real Dovecot refuses
//! the processed mailbox's name, so moving what was recorded fails after each login) is retried
//! after 1 s, 2 s, 4 s, …, not every second, and the warning says the pass failed (the mailbox
//! connection was fine).

use std::time::{Duration, Instant};

use crate::helpers::{application, Desk};

/// The `retry_in_s` of each warning in `log` that says `what`.
fn retries(log: &str, what: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains(what))
        .filter_map(|l| l.split("retry_in_s=").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_that_fails_after_logging_in_backs_off_and_says_the_pass_failed() {
    // Not valid modified UTF-7 (RFC 3501 5.1.3): Dovecot refuses to create or move to it.
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("imap", "processed_mailbox = \"Done/&bad\"")]);
    let raw =
        application("신청자", "retry@retries.example", "참가 신청", "성명: 신청자\n소속: 회사\n", "r1@retries.example");
    desk.send_to_center("retry@retries.example", &raw).await;
    let (mut daemon, log) = desk.spawn(&["run"], &[]);
    let started = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if retries(&text, "the pass failed; retrying").len() >= 3 {
            break text;
        }
        assert!(daemon.try_wait().unwrap().is_none(), "the daemon must keep running:\n{text}");
        assert!(started.elapsed() < Duration::from_secs(60), "three failed passes expected:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    daemon.wait().unwrap();
    // The mail was recorded and answered: the connection and the recording work, the move fails.
    assert_eq!(desk.messages_recorded(), 1);
    let delays = retries(&text, "the pass failed; retrying");
    // 1 s, 2 s, 4 s, each stretched by up to half again (jitter), whole seconds in the log.
    assert_eq!(delays[0], 1, "{text}");
    assert!((2..=3).contains(&delays[1]), "the backoff grows although each login succeeded: {delays:?}\n{text}");
    assert!((4..=6).contains(&delays[2]), "the backoff grows although each login succeeded: {delays:?}\n{text}");
    assert!(!text.contains("cannot connect to the mailbox"), "the mailbox was reachable:\n{text}");
    assert!(text.contains("IMAP UID MOVE failed"), "the failure is named:\n{text}");
}
