//! Keeping the desk (issue 12), against the real Dovecot and Postfix and the real binary:
//!
//! - `smebridge backup` while `smebridge run` answers applications that keep arriving: every
//!   copy is whole and consistent, and the last one, restored into a fresh desk, exports exactly
//!   what the desk exports;
//! - `smebridge restore` is refused while the daemon runs, and keeps the database it replaces; a
//!   backup that remembers another mailbox state is refused unless `--force`;
//! - a database made by an older smebridge (schema 6, made here by the old migrations alone) is
//!   copied before it is upgraded; a database from a newer smebridge is refused, untouched;
//! - the acknowledgement in the applicant's real mailbox carries the privacy notice with the
//!   configured retention period; `check` fails on a notice that leaves the period out;
//! - `smebridge reparse`: an attached form that could not be read the first time (the debug-build
//!   fault hook `SMEBRIDGE_FAULT_FORM=abort`, `src/isolate/fault.rs`) is read by reparse, shown,
//!   and with `--apply` (refused while the daemon runs) recorded with no mail sent; the summary
//!   says so; a name staff corrected is kept by `reparse --apply`;
//! - `export`, `sheet` and `backup` refuse an `--output` that is not a regular file (a FIFO
//!   standing in for a device) or is a symbolic link, and leave it as it was.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use smebridge::store::SCHEMA_VERSION;

use crate::helpers::{application, Desk, CENTER};

const KIM: &str = "kim@hanbit-tech.example";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn succeeds(desk: &Desk, args: &[&str]) -> String {
    let out = desk.smebridge(args);
    assert!(out.status.success(), "smebridge {args:?} failed:\n{}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn applicant(i: usize) -> (String, String) {
    let email = format!("applicant{i}@ops.example");
    let body = format!("성명: 신청자{i}\n소속: 회사{i}\n연락처: 010-4000-{i:04}\n참석 인원: {}명\n", 1 + i % 3);
    (
        email.clone(),
        application(&format!("신청자{i}"), &email, "워크숍 참가 신청", &body, &format!("ops-{i}@ops.example")),
    )
}

/// `smebridge run` in the background; it has read the mailbox once it waits in IDLE.
fn start_daemon(desk: &Desk) -> (Child, PathBuf) {
    let (child, log) = desk.spawn(&["run"], &[]);
    desk.wait_for_idle(CENTER);
    (child, log)
}

fn stop_daemon(mut daemon: Child, log: &Path) {
    // SAFETY: kill(2) on the child we spawned and have not reaped.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let since = Instant::now();
    let status = loop {
        if let Some(status) = daemon.try_wait().unwrap() {
            break status;
        }
        assert!(since.elapsed() < Duration::from_secs(20), "the daemon must stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{}", std::fs::read_to_string(log).unwrap_or_default());
}

/// Wait until each address has `n` replies in its maildir.
fn wait_for_replies(desk: &Desk, addresses: &[String], n: usize) {
    let since = Instant::now();
    while addresses.iter().any(|a| desk.delivered(a) < n) {
        assert!(since.elapsed() < Duration::from_secs(90), "not every applicant was answered");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Counts in a copy, read with SQLite directly: (user_version, applications, applications
/// without the reply that was written with them, PRAGMA integrity_check).
fn copy_contents(path: &Path) -> (usize, i64, i64, String) {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let version = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    let apps = conn.query_row("SELECT COUNT(*) FROM applications", [], |r| r.get(0)).unwrap();
    let unanswered = conn
        .query_row(
            "SELECT COUNT(*) FROM applications a WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.application = a.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let integrity = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    (version, apps, unanswered, integrity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_taken_while_the_daemon_answers_a_stream_of_applications_are_whole_and_the_last_restores_into_a_fresh_desk(
) {
    const N: usize = 24;
    let desk = Desk::start();
    let (daemon, log) = start_daemon(&desk);
    let backups = desk.dir.path().join("backups");
    let mails: Vec<(String, String)> = (0..N).map(applicant).collect();

    // Applications keep arriving (one every 100 ms) while three backups are taken.
    let outputs = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let sender = scope.spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    for (email, raw) in &mails {
                        desk.submit(email, &[CENTER], raw).await;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                });
            });
            let mut outputs = Vec::new();
            for k in 0..3 {
                std::thread::sleep(Duration::from_millis(600));
                let file = backups.join(format!("smebridge-{k}.sqlite"));
                let out = desk.smebridge(&["backup", "--output", file.to_str().unwrap()]);
                outputs.push((file, out));
            }
            sender.join().unwrap();
            outputs
        })
    });
    let addresses: Vec<String> = mails.iter().map(|(email, _)| email.clone()).collect();
    wait_for_replies(&desk, &addresses, 1);

    // Each copy: made beside the running daemon, private, one self-contained file, consistent
    // (every application with the reply written in its transaction).
    let mut counts = Vec::new();
    for (file, out) in &outputs {
        assert!(out.status.success(), "backup while the daemon runs:\n{}", stderr(out));
        assert!(
            stdout(out).starts_with(&format!(
                "copied {} to {} (schema {SCHEMA_VERSION}, ",
                desk.database().display(),
                file.display()
            )),
            "{}",
            stdout(out)
        );
        assert_eq!(mode(file), 0o600);
        let (version, apps, unanswered, integrity) = copy_contents(file);
        assert_eq!((version, unanswered, integrity.as_str()), (SCHEMA_VERSION, 0, "ok"), "{}", file.display());
        counts.push(apps);
    }
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "later copies hold more: {counts:?}");
    eprintln!("applications in the copies taken while mail arrived: {counts:?} of {N}");
    let beside: Vec<String> =
        std::fs::read_dir(&backups).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(beside.len(), 3, "no -wal, -journal or partial files: {beside:?}");
    assert_eq!(mode(&backups), 0o700);

    // The last one, after everything was answered, still with the daemon running.
    let last = backups.join("smebridge-last.sqlite");
    succeeds(&desk, &["backup", "--output", last.to_str().unwrap()]);
    stop_daemon(daemon, &log);
    assert_eq!(copy_contents(&last).1, N as i64);

    // Restored into a fresh desk, it exports what the desk exports.
    let fresh = Desk::start();
    let restored = succeeds(&fresh, &["restore", "--input", last.to_str().unwrap()]);
    assert!(restored.contains("; there was no database before"), "{restored}");
    assert_eq!(mode(&fresh.database()), 0o600);
    for format in ["csv", "json"] {
        let original = succeeds(&desk, &["export", "--format", format]);
        assert_eq!(succeeds(&fresh, &["export", "--format", format]), original, "{format}");
    }
    let rows = fresh.export();
    assert_eq!(rows.len(), N);
    assert!(rows.iter().any(|r| r["email"] == "applicant7@ops.example" && r["phone"] == "010-4000-0007"));
}

/// `mkfifo PATH` with mode 0666 (a stand-in for a device such as `/dev/null`, which a test must
/// not touch).
fn mkfifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that lives across the call.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o666) }, 0, "mkfifo {}", path.display());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).unwrap();
}

/// `export`, `sheet` and `backup` write personal data only to a regular file: a FIFO (as a
/// device would be) and a symbolic link are refused, not chmod-ed, not followed, not replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_sheet_and_backup_refuse_an_output_that_is_not_a_regular_file_and_leave_it_as_it_was() {
    use std::os::unix::fs::FileTypeExt;
    let desk = Desk::start();
    let (email, mail) = applicant(3);
    desk.send_to_center(&email, &mail).await;
    desk.once();
    let fifo = desk.dir.path().join("fifo");
    mkfifo(&fifo);
    let target = desk.dir.path().join("shared.csv");
    std::fs::write(&target, "someone else's file").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = desk.dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    for output in [&fifo, &link] {
        let output = output.to_str().unwrap();
        for args in [
            vec!["export", "--format", "csv", "--output", output],
            vec!["sheet", "--output", output],
            vec!["backup", "--output", output],
        ] {
            let out = desk.smebridge(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}{}", stdout(&out), stderr(&out));
            let expected = match output.ends_with("fifo") {
                true => "exists and is not a regular file (a FIFO)",
                false => "is a symbolic link",
            };
            assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
            let meta = std::fs::symlink_metadata(&fifo).unwrap();
            assert!(meta.file_type().is_fifo(), "{args:?} replaced the FIFO");
            assert_eq!(meta.permissions().mode() & 0o777, 0o666, "{args:?} changed the FIFO's mode");
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "{args:?}");
            assert_eq!(mode(&target), 0o644, "{args:?} narrowed the link's target");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "someone else's file", "{args:?}");
        }
    }
    // A regular file is still written, and private.
    let csv = desk.dir.path().join("applications.csv");
    succeeds(&desk, &["export", "--format", "csv", "--output", csv.to_str().unwrap()]);
    assert_eq!(mode(&csv), 0o600);
    assert!(std::fs::read_to_string(&csv).unwrap().contains(&email));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_is_refused_while_the_daemon_runs_and_afterwards_keeps_the_database_it_replaces() {
    let desk = Desk::start();
    let (first, first_mail) = applicant(1);
    desk.send_to_center(&first, &first_mail).await;
    desk.once();
    let backup = desk.dir.path().join("one.sqlite");
    succeeds(&desk, &["backup", "--output", backup.to_str().unwrap()]);
    let (second, second_mail) = applicant(2);
    desk.send_to_center(&second, &second_mail).await;

    let (daemon, log) = start_daemon(&desk);
    wait_for_replies(&desk, std::slice::from_ref(&second), 1);
    let before = desk.export();
    let out = desk.smebridge(&["restore", "--input", backup.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "cannot restore while smebridge is running: another smebridge (pid {}) is using {}; stop it first",
        daemon.id(),
        desk.database().display()
    );
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    assert_eq!(desk.export(), before, "nothing changed");
    stop_daemon(daemon, &log);
    assert!(!std::fs::read_dir(desk.dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("before-restore")));

    // Stopped: the backup goes back in, the database it replaces is kept beside it, whole.
    let restored = succeeds(&desk, &["restore", "--input", backup.to_str().unwrap()]);
    let kept = restored
        .split("; the database it replaced is kept as ")
        .nth(1)
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_else(|| panic!("{restored}"));
    assert!(kept.starts_with(desk.dir.path()) && kept.to_string_lossy().contains(".before-restore-"), "{restored}");
    assert_eq!(mode(&kept), 0o600);
    assert_eq!(copy_contents(&kept).1, 2, "the replaced database holds both applications");
    let rows = desk.export();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["email"], first);
    // The desk runs on it: the second application, still in the mailbox, is read again.
    desk.once();
    assert_eq!(desk.export().len(), 2);
}

/// A backup that remembers another UIDVALIDITY for the mailbox than the desk's database (as a
/// backup of another desk's database does; made here from this desk's backup) is refused, and the
/// database left as it was; `--force` restores it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_backup_that_remembers_another_mailbox_unless_forced() {
    let desk = Desk::start();
    let (email, mail) = applicant(4);
    desk.send_to_center(&email, &mail).await;
    desk.once();
    let backup = desk.dir.path().join("other-desk.sqlite");
    succeeds(&desk, &["backup", "--output", backup.to_str().unwrap()]);
    let uidvalidity: u32 = {
        let conn = rusqlite::Connection::open(&backup).unwrap();
        let ours: u32 = conn.query_row("SELECT uidvalidity FROM mailbox_state", [], |r| r.get(0)).unwrap();
        conn.execute("UPDATE mailbox_state SET uidvalidity = ?1", [ours + 7]).unwrap();
        ours
    };
    let before = desk.export();

    let out = desk.smebridge(&["restore", "--input", backup.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let expected = format!(
        "is not a backup of this desk's mailbox: mailbox INBOX has UIDVALIDITY {} in the backup but {uidvalidity} in \
         the database it replaces",
        uidvalidity + 7
    );
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    assert!(stderr(&out).contains("answer every applicant again; nothing was changed"), "{}", stderr(&out));
    assert!(stderr(&out).contains("restore it with --force"), "{}", stderr(&out));
    assert_eq!(desk.export(), before);
    assert!(!std::fs::read_dir(desk.dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("before-restore")));

    let restored = succeeds(&desk, &["restore", "--input", backup.to_str().unwrap(), "--force"]);
    assert!(restored.contains("; the database it replaced is kept as "), "{restored}");
    let now: u32 = rusqlite::Connection::open(desk.database())
        .unwrap()
        .query_row("SELECT uidvalidity FROM mailbox_state", [], |r| r.get(0))
        .unwrap();
    assert_eq!(now, uidvalidity + 7);
}

/// A database as smebridge 0.1 with schema 6 left it, made by the migrations of that time alone,
/// holding one application (also used by `purge`).
pub(crate) fn schema_6_database(path: &Path) {
    const OLD: [&str; 6] = [
        include_str!("../../migrations/0001_init.sql"),
        include_str!("../../migrations/0002_attachments.sql"),
        include_str!("../../migrations/0003_mailbox_events.sql"),
        include_str!("../../migrations/0004_application_details.sql"),
        include_str!("../../migrations/0005_record_before_reading.sql"),
        include_str!("../../migrations/0006_summary_coverage_and_mailbox_reads.sql"),
    ];
    let conn = rusqlite::Connection::open(path).unwrap();
    for sql in OLD {
        conn.execute_batch(sql).unwrap();
    }
    conn.execute_batch(
        "PRAGMA user_version = 6;
         INSERT INTO messages (id, sha256, message_id, arrived_at, size, raw, sender, subject, outcome, recorded_at)
           VALUES (1, 'old', 'old-1@old.example', 1668560400, 3, x'414243', 'old@old.example', '신청', 'registered',
                   1668560400);
         INSERT INTO applications (id, email, name, organization, phone, attendees, status, received_at, updated_at,
                                   first_message, last_message, sources)
           VALUES (1, 'old@old.example', '오래된', '옛회사', '010-5555-0001', 1, 'accepted', 1668560400, 1668560400,
                   1, 1, '{}');
         INSERT INTO application_messages (application, message) VALUES (1, 1);
         INSERT INTO outbox (kind, answers, application, message_id, recipient, raw, state, next_attempt_at,
                             created_at, sent_at)
           VALUES ('ack', 1, 1, 'smebridge.ack.old@kaist.ac.kr', 'old@old.example', x'00', 'sent', 0, 0, 0);",
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_database_is_copied_before_it_is_upgraded_and_a_newer_one_is_refused_untouched() {
    let desk = Desk::start();
    schema_6_database(&desk.database());
    let (email, mail) = applicant(3);
    desk.send_to_center(&email, &mail).await;

    let out = desk.smebridge(&["once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = desk.dir.path().join(format!("smebridge.sqlite.before-v{SCHEMA_VERSION}.sqlite"));
    let log = stderr(&out);
    assert!(log.contains("upgrading the database schema; a copy of the database as it was is kept"), "{log}");
    assert!(log.contains(&kept.display().to_string()) && log.contains("from=6"), "{log}");
    assert_eq!(mode(&kept), 0o600);
    let (version, apps, _, integrity) = copy_contents(&kept);
    assert_eq!((version, apps, integrity.as_str()), (6, 1, "ok"), "the database as it was");
    assert_eq!(copy_contents(&desk.database()).0, SCHEMA_VERSION, "migrated in place");
    let rows = desk.export();
    let emails: Vec<&str> = rows.iter().map(|r| r["email"].as_str()).collect();
    assert_eq!(emails, ["old@old.example", email.as_str()], "the old application kept, the new one added");
    // Postfix delivers after `once` returns: wait for it, then count.
    desk.wait_for_mail(&email, 1).await;
    desk.wait_for_queue_empty();
    assert_eq!(desk.delivered(&email), 1);

    // A newer smebridge's database: every command refuses it in the same words, nothing changes.
    rusqlite::Connection::open(desk.database())
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let bytes = std::fs::read(desk.database()).unwrap();
    let refusal = format!(
        "made by a newer smebridge (schema {}); this one knows up to {SCHEMA_VERSION}; install the newer one or restore a backup",
        SCHEMA_VERSION + 1
    );
    for args in [&["once"][..], &["export"], &["reparse"]] {
        let out = desk.smebridge(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(&refusal), "{args:?}: {}", stderr(&out));
    }
    let check = desk.smebridge(&["check"]);
    assert!(!check.status.success());
    assert!(
        stdout(&check).contains(&format!("FAILED  database: {} was {refusal}", desk.database().display())),
        "{}",
        stdout(&check)
    );
    let restore = desk.smebridge(&["restore", "--input", desk.database().to_str().unwrap()]);
    assert!(stderr(&restore).contains(&refusal), "{}", stderr(&restore));
    assert_eq!(std::fs::read(desk.database()).unwrap(), bytes, "untouched");
    assert!(!desk.dir.path().join(format!("smebridge.sqlite.before-v{SCHEMA_VERSION}-2.sqlite")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acknowledgement_in_the_applicants_mailbox_carries_the_privacy_notice_with_the_configured_period() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("retention", "delete_personal_data_after = \"30d\"")]);
    let (email, mail) = applicant(4);
    desk.send_to_center(&email, &mail).await;
    desk.once();
    let inbox = desk.wait_for_mail(&email, 1).await;
    let body = crate::helpers::parsed(&inbox[0].raw).body_text(0).unwrap().into_owned();
    // The workshop is on 1 January 2100 (the day after the deadline): 30 days later.
    for line in [
        "[개인정보 수집·이용 안내]",
        "- 수집·이용 목적: 워크숍 참가 신청 접수, 참가자 확인, 행사 안내",
        "- 수집 항목: 성명, 소속, 직위, 연락처, 이메일 주소, 참석 인원, 보내 주신 메일과 첨부 파일",
        "- 보유·이용 기간: 행사일로부터 30일(2100년 1월 31일까지) 보관한 뒤 파기합니다.",
        "- 동의를 거부하실 수 있습니다. 다만 동의하지 않으시면 참가 신청을 받을 수 없습니다. 동의하지 않으시면",
        "[Personal information: what we collect and why]",
        "- Kept: for 30 days after the day of the workshop (until 31 January 2100), then deleted.",
    ] {
        assert!(body.lines().any(|l| l == line), "{line:?} not in the acknowledgement:\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fails_and_nothing_is_sent_when_the_notice_leaves_the_period_out() {
    let desk = Desk::start();
    let templates = desk.dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("privacy_notice.en.txt.j2"),
        "[Personal information]\n- Purpose: registration\n- Kept: for a while\n",
    )
    .unwrap();
    std::fs::write(
        &desk.config,
        std::fs::read_to_string(&desk.config)
            .unwrap()
            .lines()
            .map(
                |l| {
                    if l.starts_with("templates_dir") {
                        "templates_dir = \"templates\"".to_owned()
                    } else {
                        l.to_owned()
                    }
                },
            )
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let check = desk.smebridge(&["check"]);
    assert_eq!(check.status.code(), Some(1));
    let expected = format!(
        "FAILED  reply templates: the reply template {} does not say how long personal data is kept: [retention] \
         delete_personal_data_after is set",
        templates.join("privacy_notice.en.txt.j2").display()
    );
    assert!(stdout(&check).contains(&expected), "{}", stdout(&check));

    let (email, mail) = applicant(5);
    desk.send_to_center(&email, &mail).await;
    let once = desk.smebridge(&["once"]);
    assert_eq!(once.status.code(), Some(1), "no acknowledgement goes out without the period");
    desk.wait_for_queue_empty();
    assert_eq!(desk.delivered(&email), 0);
}

/// An application whose text states no fields, with the application form attached as DOCX.
fn with_form(id: &str) -> String {
    use base64::Engine as _;
    let form =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attachments/application-form.docx"))
            .unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(form);
    let lines: String = encoded.as_bytes().chunks(76).map(|l| format!("{}\n", String::from_utf8_lossy(l))).collect();
    format!(
        "From: 김민준 <{KIM}>\nTo: {CENTER}\nSubject: 워크숍 참가 신청\nDate: Wed, 16 Nov 2022 10:00:00 +0900\nMessage-ID: <{id}>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"form\"\n\n--form\nContent-Type: text/plain; charset=utf-8\n\n안녕하세요. 참가 신청서를 첨부합니다.\n\n김민준 드림\n--form\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; name=\"form.docx\"\nContent-Disposition: attachment; filename=\"form.docx\"\nContent-Transfer-Encoding: base64\n\n{lines}--form--\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reparse_reads_a_form_the_desk_could_not_read_shows_it_applies_it_without_mail_and_the_summary_says_so() {
    let desk = Desk::start();
    desk.send_to_center(KIM, &with_form("form-1@hanbit-tech.example")).await;
    let (other, other_mail) = applicant(6);
    desk.send_to_center(&other, &other_mail).await;
    // Every form reader of this pass crashes (debug-build fault hook).
    let out = desk.smebridge_with_env(&["once"], &[("SMEBRIDGE_FAULT_FORM", "abort")]);
    assert!(out.status.success(), "{}", stderr(&out));
    desk.wait_for_queue_empty();
    assert_eq!((desk.delivered(KIM), desk.delivered(&other)), (1, 1), "both acknowledged");
    let before = desk.export();
    let kim = before.iter().find(|r| r["email"] == KIM).unwrap().clone();
    assert_eq!((kim["organization"].as_str(), kim["phone"].as_str()), ("", ""), "the form was not read");
    let summary = succeeds(&desk, &["summary", "--date", "2022-11-16"]);
    assert!(summary.contains("the form 'form.docx' could not be read: the reader crashed (signal 6)"), "{summary}");

    // While the daemon runs: reparse reads (and works), --apply is refused.
    let (daemon, log) = start_daemon(&desk);
    let shown = succeeds(&desk, &["reparse"]);
    let expected =
        format!("SME-0001 {KIM}\n  organization: (none) → (주)한빛테크\n      from attached form form.docx, ");
    assert!(shown.starts_with(&expected), "{shown}");
    for line in [
        "  phone: (none) → 010-1234-5678",
        "  position: (none) → 책임연구원",
        "  attendees: 1 → 2",
        "  people: (none) → 김민준",
        "      from attached form form.docx, table, line 5, cell '연락처', in the mail that arrived ",
        "1 application(s) would change (",
        "Nothing was written: `smebridge reparse --apply` records these changes (no mail is sent; staff are told in the next summary).",
    ] {
        assert!(shown.contains(line), "{line:?} not in:\n{shown}");
    }
    assert!(
        shown.contains("  review: missing: organization; missing: phone; the form 'form.docx' could not be read"),
        "{shown}"
    );
    assert!(!shown.contains(&other), "the other application does not change:\n{shown}");
    let refused = desk.smebridge(&["reparse", "--apply"]);
    assert_eq!(refused.status.code(), Some(1));
    let expected = format!(
        "reparse --apply changes applications and needs the database to itself: another smebridge (pid {}) is using",
        daemon.id()
    );
    assert!(stderr(&refused).contains(&expected), "{}", stderr(&refused));
    assert_eq!(desk.export(), before, "nothing written");
    stop_daemon(daemon, &log);

    let outbox = desk.outbox();
    let applied = succeeds(&desk, &["reparse", "--apply"]);
    assert!(applied.contains("1 application(s) changed (") && applied.contains("No mail was sent"), "{applied}");
    let after = desk.export();
    let kim = after.iter().find(|r| r["email"] == KIM).unwrap();
    assert_eq!(kim["organization"], "(주)한빛테크");
    assert_eq!(kim["phone"], "010-1234-5678");
    assert_eq!(kim["attendees"], "2");
    assert!(kim["sources"].contains("organization: attached form form.docx"), "{}", kim["sources"]);
    assert_eq!(kim["status"], "accepted");
    assert_eq!(after.iter().find(|r| r["email"] == other), before.iter().find(|r| r["email"] == other));
    assert_eq!(desk.outbox(), outbox, "no reply queued");
    desk.wait_for_queue_empty();
    assert_eq!(desk.delivered(KIM), 1, "no mail sent");
    let history: Vec<(String, String)> = rusqlite::Connection::open(desk.database())
        .unwrap()
        .prepare("SELECT field, by FROM application_history ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let fields: Vec<&str> = history.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["organization", "position", "phone", "attendees", "people", "review"]);
    assert!(history.iter().all(|(_, by)| by == "reparse"));

    // The next summary tells staff, and no longer lists the unread form.
    let summary = succeeds(&desk, &["summary", "--date", "2022-11-16"]);
    for change in [
        "김민준 (SME-0001): 메일 다시 읽음 (re-read by smebridge reparse): 소속 (Organization) - → (주)한빛테크",
        "김민준 (SME-0001): 메일 다시 읽음 (re-read by smebridge reparse): 연락처 (Phone) - → 010-1234-5678",
        "김민준 (SME-0001): 메일 다시 읽음 (re-read by smebridge reparse): 확인 사항 해소 (review notes cleared)",
    ] {
        assert!(summary.contains(change), "{change:?} not in:\n{summary}");
    }
    assert!(!summary.contains("could not be read"), "{summary}");

    assert!(succeeds(&desk, &["reparse"]).starts_with("Reading the stored mail again changes nothing"));
}

/// `application edit` then `reparse --apply`: the name staff set stays, the report says it is
/// kept, and the history has no reparse row undoing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reparse_keeps_a_name_staff_corrected_and_says_so() {
    let desk = Desk::start();
    let (email, mail) = applicant(5);
    desk.send_to_center(&email, &mail).await;
    desk.once();
    assert_eq!(desk.export()[0]["name"], "신청자5");
    succeeds(&desk, &["application", "edit", "SME-0001", "--name", "정정된이름"]);

    let shown = succeeds(&desk, &["reparse"]);
    let kept = format!("SME-0001 {email}\n  name: 정정된이름 (kept: set by staff on ");
    assert!(shown.contains(&kept), "{shown}");
    assert!(shown.contains("the mail reads 신청자5)\n"), "{shown}");
    assert!(shown.contains("Reading the stored mail again changes nothing ("), "{shown}");
    assert!(shown.contains("1 value(s) set by staff are kept as they are"), "{shown}");
    succeeds(&desk, &["reparse", "--apply"]);
    assert_eq!(desk.export()[0]["name"], "정정된이름");
    let history: Vec<(String, String)> = rusqlite::Connection::open(desk.database())
        .unwrap()
        .prepare("SELECT field, by FROM application_history ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(history, [("name".to_owned(), "staff".to_owned())]);
}
