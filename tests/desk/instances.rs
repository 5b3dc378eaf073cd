//! One smebridge per database, against the real Dovecot and Postfix: two `smebridge run` and one
//! `smebridge once` started together on one database, round after round, never answer an
//! applicant twice; the ones refused exit non-zero at once, naming the pid of the one that holds
//! the database — also when the database does not exist yet. Readers (`export`, `stats`,
//! `summary`, `check`) keep working while the daemon holds it. A configuration that names the
//! database through a symbolic link is the same claim.

use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use crate::helpers::{application, Desk, CENTER};

const ROUNDS: usize = 4;
const PER_ROUND: usize = 100;

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Messages in a user's INBOX, read from the maildir on disk.
fn delivered(desk: &Desk, user: &str) -> usize {
    let maildir = desk.stack.maildir(user);
    count_files(&maildir.join("new")) + count_files(&maildir.join("cur"))
}

/// Replies sent so far (0 while the database is still being made).
fn sent_replies(desk: &Desk) -> i64 {
    let Ok(conn) = rusqlite::Connection::open(desk.database()) else { return 0 };
    conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", [], |r| r.get(0)).unwrap_or(0)
}

/// One smebridge process of a round.
struct Started {
    what: &'static str,
    child: Child,
    log: std::path::PathBuf,
    exit: Option<ExitStatus>,
}

impl Started {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn poll(&mut self) {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().unwrap();
        }
    }
}

/// Start these commands together (as fast as processes can be started).
fn start_together(desk: &Desk, commands: &[&'static str]) -> Vec<Started> {
    commands
        .iter()
        .map(|&what| {
            let (child, log) = desk.spawn(&[what], &[]);
            Started { what, child, log, exit: None }
        })
        .collect()
}

/// Wait until every `once` has exited and at most one process is still running (a `run` runs
/// until stopped, so of two `run`s one must have been refused).
fn settle(started: &mut [Started]) {
    let since = Instant::now();
    loop {
        started.iter_mut().for_each(Started::poll);
        let running = started.iter().filter(|s| s.exit.is_none()).count();
        let once_running = started.iter().any(|s| s.what == "once" && s.exit.is_none());
        if running <= 1 && !once_running {
            return;
        }
        assert!(since.elapsed() < Duration::from_secs(60), "the processes did not settle");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every process that exited unsuccessfully was refused, and says so, naming the pid of another
/// process of the same start. Returns how many were refused.
fn check_refusals(desk: &Desk, started: &[Started]) -> usize {
    let database = desk.database();
    let mut refused = 0;
    for s in started {
        let Some(exit) = s.exit else { continue };
        if exit.success() {
            assert_eq!(s.what, "once", "only a `once` ends on its own");
            continue;
        }
        let log = s.log();
        let holder = started.iter().filter(|other| other.pid() != s.pid()).find(|other| {
            log.contains(&format!("another smebridge (pid {}) is using {}", other.pid(), database.display()))
        });
        assert!(
            holder.is_some(),
            "a refused `{}` must name the pid of the smebridge holding {}; its output:\n{log}",
            s.what,
            database.display()
        );
        assert!(!log.contains("migration"), "refused for the right reason, not a migration error:\n{log}");
        refused += 1;
    }
    refused
}

/// SIGTERM whatever is still running; it must stop cleanly. (Once it has logged in to IMAP: by
/// then it listens for the signal.)
fn stop(started: &mut [Started]) {
    for s in started.iter_mut().filter(|s| s.exit.is_none()) {
        let since = Instant::now();
        while !s.log().contains("logged in to IMAP") {
            assert!(since.elapsed() < Duration::from_secs(30), "the daemon did not log in:\n{}", s.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: kill(2) on a child we spawned and have not reaped.
        unsafe { libc::kill(s.pid() as i32, libc::SIGTERM) };
        let since = Instant::now();
        while s.exit.is_none() {
            assert!(since.elapsed() < Duration::from_secs(30), "the daemon must stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
            s.poll();
        }
        assert!(s.exit.unwrap().success(), "{}", s.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_and_a_once_started_together_never_answer_an_applicant_twice() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("replies", "max_per_hour = 100000")]);
    assert!(!desk.database().exists(), "the first round starts on a brand-new database");
    let mut refusals = 0;
    for round in 0..ROUNDS {
        let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
        for i in 0..PER_ROUND {
            let raw = application(
                "신청자",
                &format!("r{round}-applicant{i}@instances.example"),
                "워크숍 참가 신청",
                &format!("성명: 신청자{i}\n소속: 회사{round}-{i}\n연락처: 010-2{round}00-{i:04}\n"),
                &format!("r{round}-{i}@instances.example"),
            );
            session
                .append("INBOX", None, Some("\"16-Nov-2022 10:00:00 +0900\""), crate::helpers::crlf(&raw).as_bytes())
                .await
                .unwrap();
        }
        session.logout().await.unwrap();

        let mut started = start_together(&desk, &["run", "run", "once"]);
        settle(&mut started);
        let refused = check_refusals(&desk, &started);
        assert!(refused >= 1, "of two `run`s started together one must be refused");
        refusals += refused;

        // Let whichever instance holds the database answer everyone, then stop it.
        let expected = ((round + 1) * PER_ROUND) as i64;
        let since = Instant::now();
        while sent_replies(&desk) < expected {
            assert!(since.elapsed() < Duration::from_secs(60), "replies not sent: {:?}", desk.outbox_states());
            std::thread::sleep(Duration::from_millis(100));
        }
        stop(&mut started);
        desk.stack.wait_for_queue_empty(Duration::from_secs(60)).unwrap();

        assert_eq!(desk.outbox_states(), vec![("sent".to_owned(), expected)], "every reply sent, once");
        let wrong: Vec<(usize, usize)> = (0..PER_ROUND)
            .map(|i| (i, delivered(&desk, &format!("r{round}-applicant{i}@instances.example"))))
            .filter(|&(_, n)| n != 1)
            .collect();
        assert!(wrong.is_empty(), "round {round}: applicants without exactly one acknowledgement: {wrong:?}");
    }
    eprintln!("{refusals} instances refused over {ROUNDS} rounds");
    assert_eq!(desk.export().len(), ROUNDS * PER_ROUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_a_brand_new_database_is_refused_naming_the_first() {
    let desk = Desk::start();
    for attempt in 0..3 {
        // A brand-new database each time: nothing of it on disk, not even the lock file.
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", desk.database().display()));
        }
        let mut started = start_together(&desk, &["run", "run"]);
        settle(&mut started);
        assert_eq!(check_refusals(&desk, &started), 1, "attempt {attempt}: exactly one of the two is refused");
        let refused = started.iter().find(|s| s.exit.is_some()).unwrap();
        let holder = started.iter().find(|s| s.exit.is_none()).unwrap();
        assert_eq!(refused.exit.unwrap().code(), Some(1));
        let lock = std::fs::read_to_string(format!("{}.lock", desk.database().display())).unwrap();
        assert_eq!(lock.trim(), holder.pid().to_string(), "the lock file names the holder");
        stop(&mut started);
        // The holder made a working database.
        let out = desk.smebridge(&["stats"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_work_while_the_daemon_holds_the_database_and_writers_are_refused() {
    let desk = Desk::start();
    desk.send_to_center(
        "kim@hanbit.example",
        &application(
            "김민준",
            "kim@hanbit.example",
            "참가 신청",
            "성명: 김민준\n소속: 한빛테크\n",
            "k1@hanbit.example",
        ),
    )
    .await;
    let mut started = start_together(&desk, &["run"]);
    desk.wait_for_mail("kim@hanbit.example", 1).await;

    let export = desk.export();
    assert_eq!(export.len(), 1);
    assert_eq!(export[0]["name"], "김민준");
    for args in [&["stats"][..], &["summary"], &["check"]] {
        let out = desk.smebridge(args);
        assert!(out.status.success(), "{args:?} while the daemon runs:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let daemon = started[0].pid();
    for args in [&["once"][..], &["summary", "--send"]] {
        let out = desk.smebridge(args);
        assert_eq!(out.status.code(), Some(1), "{args:?} must be refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = format!("another smebridge (pid {daemon}) is using {}", desk.database().display());
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
    }
    stop(&mut started);
    assert_eq!(desk.count("staff@kaist.ac.kr").await, 0, "the refused `summary --send` sent nothing");
    assert_eq!(desk.count("kim@hanbit.example").await, 1);
}

/// A second configuration that names the daemon's database through a symbolic link (in another
/// directory) finds the same claim: its `once` is refused, and no lock file is made beside the
/// link. (The desk's configuration file is rewritten to be that second configuration while `run`,
/// which read the first, holds the database.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_naming_the_database_through_a_symbolic_link_is_refused_while_the_daemon_holds_it() {
    let desk = Desk::start();
    desk.send_to_center(
        "lee@daon.example",
        &application("이서연", "lee@daon.example", "참가 신청", "성명: 이서연\n소속: 다온\n", "l1@daon.example"),
    )
    .await;
    let mut started = start_together(&desk, &["run"]);
    desk.wait_for_mail("lee@daon.example", 1).await;

    let elsewhere = desk.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let link = elsewhere.join("smebridge.sqlite");
    std::os::unix::fs::symlink(desk.database(), &link).unwrap();
    let first = std::fs::read_to_string(&desk.config).unwrap();
    let second = first.replace("path = \"smebridge.sqlite\"", &format!("path = \"{}\"", link.display()));
    assert_ne!(first, second, "the configuration names its database as expected");
    std::fs::write(&desk.config, &second).unwrap();
    let out = desk.smebridge(&["once"]);
    std::fs::write(&desk.config, &first).unwrap();

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = format!("another smebridge (pid {}) is using {}", started[0].pid(), link.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!elsewhere.join("smebridge.sqlite.lock").exists(), "no lock beside the link");
    stop(&mut started);
    assert_eq!(desk.count("lee@daon.example").await, 1, "answered once");
}
