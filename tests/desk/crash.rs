//! Lose nothing, answer nothing twice: `smebridge run` is killed with SIGKILL at random moments
//! while it works through a backlog, and restarted, again and again, against the real Dovecot and
//! Postfix. At the end every message is recorded exactly once, every applicant has exactly one
//! acknowledgement in their mailbox, and the outbox holds nothing pending.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::{application, Desk, CENTER};
use rand::{RngExt, SeedableRng};

const APPLICANTS: usize = 2000;
const KILLS: usize = 20;

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Messages in a user's INBOX, read from the maildir on disk (fast for thousands of users).
fn delivered(desk: &Desk, user: &str) -> usize {
    let maildir = desk.stack.maildir(user);
    count_files(&maildir.join("new")) + count_files(&maildir.join("cur"))
}

/// Where the daemon was when it was killed, judged from the database it left.
/// Replies in `sending` now.
fn sending(desk: &Desk) -> BTreeSet<i64> {
    let Ok(conn) = rusqlite::Connection::open(desk.database()) else { return BTreeSet::new() };
    let Ok(mut stmt) = conn.prepare("SELECT id FROM outbox WHERE state = 'sending'") else { return BTreeSet::new() };
    stmt.query_map([], |r| r.get(0)).map(|rows| rows.flatten().collect()).unwrap_or_default()
}

/// What the daemon was doing when it was killed. `before` is what was in `sending` when it
/// started (left by an earlier kill, waiting out `sending_grace`): only replies this run put in
/// `sending` make it a kill mid-send.
fn phase(desk: &Desk, before: &BTreeSet<i64>) -> &'static str {
    let Ok(conn) = rusqlite::Connection::open(desk.database()) else { return "starting" };
    let recorded: i64 =
        conn.query_row("SELECT COUNT(*) FROM messages WHERE outcome = 'registered'", [], |r| r.get(0)).unwrap_or(0);
    let pending: i64 =
        conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", [], |r| r.get(0)).unwrap_or(0);
    let mid_send = !sending(desk).is_subset(before);
    match (recorded, pending, mid_send) {
        (0, _, _) => "starting (nothing recorded yet)",
        (_, _, true) => "in the middle of a send (reply handed to SMTP, not yet marked sent)",
        (n, _, _) if (n as usize) < APPLICANTS => "recording the backlog",
        (_, p, _) if p > 0 => "sending replies (between sends)",
        _ => "idle (all done)",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_nothing_and_answers_nothing_twice() {
    // The test configuration turns bcc_self off; this test needs the default, on: after a crash
    // mid-send, the copy in the center's mailbox tells whether the server took the reply.
    let desk = Desk::start_with(
        "2099-12-31T23:59:59+09:00",
        // The copy in the center's mailbox is the evidence a reply went out; `sending_grace` is
        // how long delivery of that copy may take. Under this burst (hundreds of replies and
        // their copies in Postfix's queue at once) that is seconds, not the tests' usual 1 s:
        // with 1 s a copy still queued was taken for a reply never sent, and sent again.
        &[("smtp", "bcc_self = true"), ("smtp", "sending_grace = \"10s\""), ("replies", "max_per_hour = 100000")],
    );

    // The backlog: 2,000 applications already in the mailbox when smebridge starts.
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    for i in 0..APPLICANTS {
        let raw = application(
            "신청자",
            &format!("applicant{i}@crash.example"),
            "워크숍 참가 신청",
            &format!("성명: 신청자{i}\n소속: 회사{i}\n연락처: 010-1000-{i:04}\n"),
            &format!("crash-{i}@crash.example"),
        );
        session
            .append("INBOX", None, Some("\"16-Nov-2022 10:00:00 +0900\""), crate::helpers::crlf(&raw).as_bytes())
            .await
            .unwrap();
    }
    session.logout().await.unwrap();

    let mut rng = rand::rngs::StdRng::seed_from_u64(20221117);
    let mut phases: BTreeMap<&'static str, usize> = BTreeMap::new();
    for _ in 0..KILLS {
        let before = sending(&desk);
        let (mut daemon, _log) = desk.spawn(&["run"], &[]);
        // Each run gets a few hundred milliseconds of work in before it is killed.
        std::thread::sleep(Duration::from_millis(rng.random_range(20..400)));
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
        *phases.entry(phase(&desk, &before)).or_default() += 1;
    }
    eprintln!("where the {KILLS} kills landed:");
    for (phase, n) in &phases {
        eprintln!("  {n:>3}  {phase}");
    }

    // Let it finish: passes until nothing is left to do (interrupted sends wait out the 1 s grace).
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(1500));
        let out = desk.smebridge(&["once"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let states = desk.outbox_states();
        if states.iter().all(|(state, _)| state == "sent") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the outbox never drained: {states:?}");
    }
    desk.stack.wait_for_queue_empty(Duration::from_secs(60)).unwrap();

    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let registered: i64 =
        conn.query_row("SELECT COUNT(*) FROM messages WHERE outcome = 'registered'", [], |r| r.get(0)).unwrap();
    let uids: i64 = conn
        .query_row("SELECT COUNT(DISTINCT uid) FROM mailbox_uids m JOIN messages g ON g.id = m.message WHERE g.outcome = 'registered'", [], |r| r.get(0))
        .unwrap();
    let mut outcomes = conn.prepare("SELECT outcome, outcome_detail, COUNT(*) FROM messages GROUP BY 1, 2").unwrap();
    let outcomes: Vec<(String, Option<String>, i64)> =
        outcomes.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(registered, APPLICANTS as i64, "every application recorded exactly once; outcomes: {outcomes:?}");
    assert_eq!(uids, APPLICANTS as i64);
    assert_eq!(desk.export().len(), APPLICANTS);
    assert_eq!(
        desk.outbox_states(),
        vec![("sent".to_owned(), APPLICANTS as i64)],
        "no pending, sending or unknown row"
    );
    let wrong: Vec<(usize, usize)> = (0..APPLICANTS)
        .map(|i| (i, delivered(&desk, &format!("applicant{i}@crash.example"))))
        .filter(|&(_, n)| n != 1)
        .collect();
    assert!(wrong.is_empty(), "applicants without exactly one acknowledgement (index, count): {wrong:?}");
}
