//! Personal data has an end date (issue 12), against the real Dovecot and Postfix and the real
//! binary: applications with invented, distinctive strings (names, phones, addresses, subject
//! words, attachment text) go through the desk and are answered; staff get a summary listing
//! them. Then the clock moves on (`SMEBRIDGE_CLOCK_START`, src/clock.rs):
//!
//! - a week before the deletion day, a summary is made (outside the daily window) and tells staff
//!   "on DATE the personal data of N applications of EVENT will be deleted";
//! - `smebridge purge --dry-run` says what would go and changes no byte of the database;
//! - `smebridge purge` is refused while the daemon holds the database (dry runs still work);
//! - `smebridge purge` deletes: no applicant string is left in the bytes of the database file
//!   (nor in its `-wal` or `-shm`); `smebridge stats` shows the same counts as before; the mail
//!   still in the mailbox is known and not answered again;
//! - the next morning's summary tells staff it was deleted on DATE, and holds no applicant data.
//!
//! And with the copies of the database: after an upgrade, purge names the copy kept before it
//! (which still holds the data it deleted), and a backup taken after a purge holds none of it.
//!
//! With two events (`[[event]]`), purge deletes only the data of the one whose day is far
//! enough behind, and the mail for no event that came in as long ago; the other event's stays
//! until its own day comes.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use smebridge::store::SCHEMA_VERSION;

use crate::helpers::{parsed, Desk, CENTER, DEADLINE};

const STAFF: &str = "staff@kaist.ac.kr";

/// Every string of the invented applicants that the database holds while their data is kept.
const PERSONAL: &[&str] = &[
    // The first applicant: address, names (From and Reply-To), organization, position, phone,
    // street address, subject words, the attached file's name and text.
    "minjun.purgetest@hanbit-purge.example",
    "김퍼지",
    "(주)퍼지한빛테크",
    "책임퍼지연구원",
    "010-7357-2468",
    "대전 퍼지구 퍼지로 77",
    "퍼지워크숍",
    "secretary.purgetest@hanbit-purge.example",
    "퍼지비서",
    "purge-form-kim.txt",
    "ATTACHMENT-PURGE-TEXT-7ZQ",
    // The second.
    "soeun.purgetest@daon-purge.example",
    "이소거",
    "다온소거소재",
    "010-2468-1357",
    // One after the deadline.
    "late.purgetest@kist-purge.re.kr",
    "박늦음",
    "한국퍼지연구원",
    "010-9753-8642",
    // A question, not an application.
    "ask.purgetest@qna-purge.example",
    "주차퍼지문의",
    "QUESTION-PURGE-TEXT-5KD",
];

/// The first applicant's mail: fields in the text, a Reply-To, a text file attached.
fn kim() -> String {
    format!(
        "From: 김퍼지 <minjun.purgetest@hanbit-purge.example>\nReply-To: 퍼지비서 <secretary.purgetest@hanbit-purge.example>\n\
         To: {CENTER}\nSubject: 퍼지워크숍 참가 신청\nDate: Tue, 15 Nov 2022 10:00:00 +0900\nMessage-ID: <purge-1@mail.example>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\n\n성명: 김퍼지\n소속: (주)퍼지한빛테크\n직위: 책임퍼지연구원\n연락처: 010-7357-2468\n\
         주소: 대전 퍼지구 퍼지로 77\n참석 인원: 2명\n--b\nContent-Type: text/plain; charset=utf-8; name=\"purge-form-kim.txt\"\n\
         Content-Disposition: attachment; filename=\"purge-form-kim.txt\"\nContent-Transfer-Encoding: 8bit\n\n\
         ATTACHMENT-PURGE-TEXT-7ZQ 부가 정보\n--b--\n"
    )
}

fn plain(from_name: &str, from: &str, subject: &str, body: &str, id: &str, date: &str) -> String {
    format!(
        "From: {from_name} <{from}>\nTo: {CENTER}\nSubject: {subject}\nDate: {date}\nMessage-ID: <{id}>\n\
         MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}"
    )
}

fn out_text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `smebridge ARGS` with the daemon's clock started at `clock`.
fn at(desk: &Desk, clock: &str, args: &[&str]) -> Output {
    desk.smebridge_with_env(args, &[("SMEBRIDGE_CLOCK_START", clock)])
}

fn succeeds_at(desk: &Desk, clock: &str, args: &[&str]) -> String {
    let out = at(desk, clock, args);
    assert!(out.status.success(), "smebridge {args:?} at {clock} failed:\n{}", out_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The database file and whatever SQLite keeps beside it, as (name, bytes).
fn database_files(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let path = format!("{}{suffix}", db.display());
            std::fs::read(&path).ok().map(|bytes| (path, bytes))
        })
        .collect()
}

/// What holds the database's content: the file and its write-ahead log (none and empty are
/// the same: a reader may create an empty one). Not the `-shm`, SQLite's index of the log, whose
/// read marks every reader updates.
fn content_files(db: &Path) -> (Vec<u8>, Vec<u8>) {
    let read = |suffix: &str| std::fs::read(format!("{}{suffix}", db.display())).unwrap_or_default();
    (read(""), read("-wal"))
}

/// Which of `needles` occur in the bytes of `files`.
fn found_in(files: &[(String, Vec<u8>)], needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for needle in needles {
        for (name, bytes) in files {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{needle:?} in {name}"));
            }
        }
    }
    found
}

/// The applicant strings that are nowhere in the database's files.
fn missing(db: &Path) -> Vec<&'static str> {
    let files = database_files(db);
    PERSONAL.iter().copied().filter(|p| found_in(&files, &[p]).is_empty()).collect()
}

/// The text part of the newest staff mail, once there are `n`.
async fn staff_mail(desk: &Desk, n: usize) -> String {
    let mails = desk.wait_for_mail(STAFF, n).await;
    let newest = mails.iter().max_by_key(|m| m.uid).unwrap();
    parsed(&newest.raw).body_text(0).unwrap().into_owned()
}

/// `stats` without what purge is meant to change: the line counting purged applications, and
/// what needs a person (a to-do list, not a statistic: the question is gone with its data).
fn statistics(stats: &str) -> Vec<String> {
    stats
        .lines()
        .filter(|l| !l.starts_with("개인정보 삭제됨") && !l.starts_with("확인 필요"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_leaves_no_applicant_string_in_the_database_file_keeps_the_statistics_and_staff_are_told_before_and_after(
) {
    let desk = Desk::start_with(DEADLINE, &[]);
    let db = desk.database();
    desk.append_to_center(&kim(), "15-Nov-2022 10:00:00 +0900").await;
    let lee = plain(
        "이소거",
        "soeun.purgetest@daon-purge.example",
        "워크숍 참가 신청",
        "성명: 이소거\n소속: 다온소거소재\n연락처: 010-2468-1357\n",
        "purge-2@mail.example",
        "Wed, 16 Nov 2022 11:00:00 +0900",
    );
    desk.append_to_center(&lee, "16-Nov-2022 11:00:00 +0900").await;
    let late = plain(
        "박늦음",
        "late.purgetest@kist-purge.re.kr",
        "워크숍 참가 신청",
        "성명: 박늦음\n소속: 한국퍼지연구원\n연락처: 010-9753-8642\n",
        "purge-3@mail.example",
        "Fri, 18 Nov 2022 09:00:00 +0900",
    );
    desk.append_to_center(&late, "18-Nov-2022 09:00:00 +0900").await;
    let question = plain(
        "문의자",
        "ask.purgetest@qna-purge.example",
        "주차퍼지문의",
        "행사장에 주차가 가능한가요? QUESTION-PURGE-TEXT-5KD\n",
        "purge-4@mail.example",
        "Wed, 16 Nov 2022 12:00:00 +0900",
    );
    desk.append_to_center(&question, "16-Nov-2022 12:00:00 +0900").await;

    // The desk in November: everything recorded and answered, and staff sent a summary.
    let once = succeeds_at(&desk, "2022-11-18T10:00:00+09:00", &["once"]);
    assert!(once.contains("recorded 4 new message(s)"), "{once}");
    succeeds_at(&desk, "2022-11-18T10:05:00+09:00", &["summary", "--send"]);
    desk.wait_for_queue_empty();
    let replied = ["minjun.purgetest@hanbit-purge.example", "soeun.purgetest@daon-purge.example"]
        .map(|a| desk.delivered(a))
        .iter()
        .sum::<usize>()
        + desk.delivered("secretary.purgetest@hanbit-purge.example")
        + desk.delivered("late.purgetest@kist-purge.re.kr");
    assert_eq!(replied, 3, "each applicant answered once (the first at the Reply-To address or the sender)");
    let first_summary = staff_mail(&desk, 1).await;
    assert!(first_summary.contains("김퍼지"), "{first_summary}");
    let rows = desk.export();
    assert_eq!(rows.len(), 3);
    assert_eq!(missing(&db), Vec::<&str>::new(), "the test's own check: every string is in the database to begin with");
    let stats_before = succeeds_at(&desk, "2023-02-10T09:00:00+09:00", &["stats"]);

    // A week before the deletion day (the workshop on 18 November, kept 90 days: until 16
    // February; deleted from the 17th), outside the daily window: a summary tells staff.
    succeeds_at(&desk, "2023-02-10T08:31:00+09:00", &["once"]);
    let week_ahead = staff_mail(&desk, 2).await;
    assert!(week_ahead.contains("■ 개인정보 삭제 (Deleting personal data)"), "{week_ahead}");
    assert!(week_ahead.contains("2023-02-17에 "), "{week_ahead}");
    assert!(week_ahead.contains("On 2023-02-17 the personal data of 3 applications of "), "{week_ahead}");
    assert!(week_ahead.contains(" will be deleted (names, phones, addresses, the mail and its attachments)"));

    // Not due yet: a dry run and a purge change nothing.
    let early = succeeds_at(&desk, "2023-02-10T09:00:00+09:00", &["purge", "--dry-run"]);
    assert!(early.ends_with("personal data kept until 2023-02-16; nothing is due before 2023-02-17.\n"), "{early}");
    let early = succeeds_at(&desk, "2023-02-16T23:59:00+09:00", &["purge"]);
    assert!(early.contains("nothing is due before 2023-02-17"), "{early}");
    assert_eq!(missing(&db), Vec::<&str>::new(), "nothing deleted before its day");

    // Due. A dry run counts what would go and leaves every byte of the database as it was.
    let due = "2023-02-17T09:00:00+09:00";
    let before_dry_run = content_files(&db);
    let dry = succeeds_at(&desk, due, &["purge", "--dry-run"]);
    assert!(dry.contains(", due since 2023-02-17.\n  would delete: 3 application(s) (accepted 2, late 1)"), "{dry}");
    assert!(dry.contains("; 4 message(s) with "), "{dry}");
    assert!(dry.contains("Nothing was changed (--dry-run)."), "{dry}");
    assert!(content_files(&db) == before_dry_run, "a dry run changes no byte of the database or its log");

    // While the daemon runs: purge is refused, a dry run still works.
    let (mut daemon, log) = desk.spawn(&["run"], &[("SMEBRIDGE_CLOCK_START", due)]);
    desk.wait_for_idle(CENTER);
    let refused = at(&desk, due, &["purge"]);
    assert_eq!(refused.status.code(), Some(1), "{}", out_text(&refused));
    let expected = format!(
        "purge deletes personal data and needs the database to itself: another smebridge (pid {}) is using {}",
        daemon.id(),
        db.display()
    );
    assert!(out_text(&refused).contains(&expected), "{}", out_text(&refused));
    assert!(succeeds_at(&desk, due, &["purge", "--dry-run"]).contains("would delete: 3 application(s)"));
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
    assert_eq!(desk.export().len(), 3, "nothing deleted while it ran");

    // Purge.
    let purged = succeeds_at(&desk, due, &["purge"]);
    for line in [
        "  deleted: 3 application(s) (accepted 2, late 1) with 0 history row(s); 4 message(s) with ",
        "  kept for statistics: 3 application(s) in ",
        "The database file was rewritten without the deleted data (VACUUM): ",
        "; the write-ahead log is empty.\n",
    ] {
        assert!(purged.contains(line), "{line:?} not in:\n{purged}");
    }
    let left = found_in(&database_files(&db), PERSONAL);
    assert!(left.is_empty(), "personal data left in the database file after purge: {left:?}");

    // The statistics are the same; the applications are gone from exports.
    let stats_after = succeeds_at(&desk, "2023-02-17T09:05:00+09:00", &["stats"]);
    assert_eq!(statistics(&stats_after), statistics(&stats_before), "before:\n{stats_before}\nafter:\n{stats_after}");
    for shown in [
        "신청 (accepted)",
        "참석 인원 (attendees)",
        "마감 후 (late)",
        "  기업 (company)",
        "  연구기관 (research institute)",
    ] {
        assert!(stats_after.lines().any(|l| l.starts_with(shown)), "{shown:?} not in:\n{stats_after}");
    }
    assert!(stats_after.lines().any(|l| l.starts_with("개인정보 삭제됨") && l.ends_with(" 3")), "{stats_after}");
    assert!(desk.export().is_empty());

    // The next morning: the mail still in the mailbox is known (not recorded or answered again),
    // and a summary tells staff, with nothing personal in it.
    let once = succeeds_at(&desk, "2023-02-18T08:31:00+09:00", &["once"]);
    assert!(once.starts_with("recorded 0 new message(s)") && once.contains("queued 0 repl(ies)"), "{once}");
    let after = staff_mail(&desk, 3).await;
    assert!(after.contains("was deleted on 2023-02-17; the counts are kept for statistics"), "{after}");
    assert!(after.contains("The personal data of 3 applications of "), "{after}");
    assert!(after.contains("2023-02-17에 ") && after.contains("신청 3건의 개인정보를 삭제했습니다"), "{after}");
    desk.wait_for_queue_empty();
    assert_eq!(
        [
            "minjun.purgetest@hanbit-purge.example",
            "soeun.purgetest@daon-purge.example",
            "late.purgetest@kist-purge.re.kr"
        ]
        .map(|a| desk.delivered(a))
        .iter()
        .sum::<usize>()
            + desk.delivered("secretary.purgetest@hanbit-purge.example"),
        3,
        "no applicant was answered again"
    );
    let left = found_in(&database_files(&db), PERSONAL);
    assert!(left.is_empty(), "personal data in the database file after the next summary: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_upgrade_purge_names_the_copy_kept_before_it_and_a_backup_taken_after_the_purge_is_clean() {
    // The application smebridge 0.1 recorded (schema 6), and one that arrives after the upgrade.
    const OLD: &[&str] = &["old@old.example", "오래된", "옛회사", "010-5555-0001"];
    const NEW: &[&str] = &["upgrade.purgetest@upgrade-purge.example", "최업글", "업글퍼지소재", "010-3141-5926"];
    let desk = Desk::start_with(DEADLINE, &[]);
    let db = desk.database();
    crate::operations::schema_6_database(&db);
    let mail = plain(
        "최업글",
        "upgrade.purgetest@upgrade-purge.example",
        "워크숍 참가 신청",
        "성명: 최업글\n소속: 업글퍼지소재\n연락처: 010-3141-5926\n",
        "purge-upgrade@mail.example",
        "Thu, 17 Nov 2022 10:00:00 +0900",
    );
    desk.append_to_center(&mail, "17-Nov-2022 10:00:00 +0900").await;
    let once = succeeds_at(&desk, "2022-11-18T10:00:00+09:00", &["once"]);
    assert!(once.contains("recorded 1 new message(s)"), "{once}");
    let copy = desk.dir.path().join(format!("smebridge.sqlite.before-v{SCHEMA_VERSION}.sqlite"));
    assert!(copy.exists(), "the upgrade kept a copy");
    let before = desk.dir.path().join("before-purge.sqlite");
    succeeds_at(&desk, "2023-02-17T08:00:00+09:00", &["backup", "--output", before.to_str().unwrap()]);
    assert_eq!(desk.export().len(), 2);

    let purged = succeeds_at(&desk, "2023-02-17T09:00:00+09:00", &["purge"]);
    assert!(purged.contains("  deleted: 2 application(s) (accepted 2)"), "{purged}");
    assert!(
        purged.contains(&format!(
            "Copies of the database made earlier still hold the personal data: {}. Delete them when they are no \
             longer needed (backups too: the daily backup keeps 14 days).",
            copy.display()
        )),
        "{purged}"
    );
    let everyone: Vec<&str> = OLD.iter().chain(NEW).copied().collect();
    let left = found_in(&database_files(&db), &everyone);
    assert!(left.is_empty(), "personal data left in the database file: {left:?}");
    // What purge warned about: the copies made before it still hold what they held.
    let file = |path: &Path| vec![(path.display().to_string(), std::fs::read(path).unwrap())];
    assert_eq!(found_in(&file(&copy), OLD).len(), OLD.len(), "the copy from before the upgrade");
    assert_eq!(found_in(&file(&before), &everyone).len(), everyone.len(), "the backup from before the purge");

    // A backup taken now is a copy of the purged database: nothing personal in it.
    let after = desk.dir.path().join("after-purge.sqlite");
    succeeds_at(&desk, "2023-02-17T09:10:00+09:00", &["backup", "--output", after.to_str().unwrap()]);
    let left = found_in(&file(&after), &everyone);
    assert!(left.is_empty(), "personal data in a backup taken after the purge: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_events_purge_deletes_only_the_data_of_the_event_whose_day_has_come() {
    const WORKSHOP: &[&str] = &["ws.purgetest@hanbit-ws.example", "김워크", "(주)워크퍼지", "010-1111-2211"];
    const SEMINAR: &[&str] = &["sem.purgetest@daon-sem.example", "이세미", "다온세미소재", "010-2222-2303"];
    // Mail for no event: an application that named neither, asked which event it is for.
    const UNROUTED: &[&str] = &["which.purgetest@which-purge.example", "박어느", "WHICH-PURGE-TEXT-3QX"];
    let desk = Desk::start_with(DEADLINE, &[]);
    let db = desk.database();
    crate::events::replace_event_section(
        &desk,
        &format!(
            r#"
[[event]]
id = "ws-2211"
name = "산학협력 워크숍 (Industry-University Workshop)"
deadline = "2022-11-17T23:59:59+09:00"
timezone = "Asia/Seoul"
starts_at = "2022-11-18T13:30:00+09:00"
venue = "Banyan Tree Club & Spa Seoul, Festa Hall"
contact = "{CENTER}"

[[event]]
id = "sem-2303"
name = "AI 세미나 (AI Seminar)"
deadline = "2023-03-09T23:59:59+09:00"
timezone = "Asia/Seoul"
starts_at = "2023-03-10T10:00:00+09:00"
venue = "KAIST 학술문화관"
"#
        ),
    );
    let mails = [
        (
            plain(
                "김워크",
                "ws.purgetest@hanbit-ws.example",
                "[ws-2211] 참가 신청",
                "성명: 김워크\n소속: (주)워크퍼지\n연락처: 010-1111-2211\n",
                "two-1@mail.example",
                "Tue, 15 Nov 2022 10:00:00 +0900",
            ),
            "15-Nov-2022 10:00:00 +0900",
        ),
        (
            plain(
                "이세미",
                "sem.purgetest@daon-sem.example",
                "[sem-2303] 참가 신청",
                "성명: 이세미\n소속: 다온세미소재\n연락처: 010-2222-2303\n",
                "two-2@mail.example",
                "Wed, 16 Nov 2022 10:00:00 +0900",
            ),
            "16-Nov-2022 10:00:00 +0900",
        ),
        (
            plain(
                "박어느",
                "which.purgetest@which-purge.example",
                "참가 신청",
                "성명: 박어느\nWHICH-PURGE-TEXT-3QX\n",
                "two-3@mail.example",
                "Wed, 16 Nov 2022 11:00:00 +0900",
            ),
            "16-Nov-2022 11:00:00 +0900",
        ),
    ];
    for (mail, date) in &mails {
        desk.append_to_center(mail, date).await;
    }
    let once = succeeds_at(&desk, "2022-11-16T12:00:00+09:00", &["once"]);
    assert!(once.contains("recorded 3 new message(s)"), "{once}");
    desk.wait_for_queue_empty();
    for address in [WORKSHOP[0], SEMINAR[0], UNROUTED[0]] {
        assert_eq!(desk.delivered(address), 1, "{address} answered (the last asked which event)");
    }
    let everyone: Vec<&str> = WORKSHOP.iter().chain(SEMINAR).chain(UNROUTED).copied().collect();
    assert_eq!(found_in(&database_files(&db), &everyone).len(), everyone.len(), "the test's own check");

    // 17 February 2023: the workshop's data is due (kept until the 16th), the seminar's is kept
    // until 8 June; the mail for no event came in on 16 November, before the workshop's day.
    let purged = succeeds_at(&desk, "2023-02-17T09:00:00+09:00", &["purge"]);
    for line in [
        "산학협력 워크숍 (Industry-University Workshop) (ws-2211), held 2022-11-18: personal data kept until \
         2023-02-16, due since 2023-02-17.\n  deleted: 1 application(s) (accepted 1)",
        "AI 세미나 (AI Seminar) (sem-2303), held 2023-03-10: personal data kept until 2023-06-08; nothing is due \
         before 2023-06-09.\n",
        "Mail for no event (automatic mail, duplicates, unreadable or unrouted mail), kept 90 days from the day it \
         arrived: due for what arrived before 2022-11-19.\n  deleted: 1 message(s) with ",
    ] {
        assert!(purged.contains(line), "{line:?} not in:\n{purged}");
    }
    let files = database_files(&db);
    let left: Vec<String> = found_in(&files, WORKSHOP).into_iter().chain(found_in(&files, UNROUTED)).collect();
    assert!(left.is_empty(), "the workshop's data left after its purge: {left:?}");
    assert_eq!(found_in(&files, SEMINAR).len(), SEMINAR.len(), "the seminar's data is kept");
    let stats = succeeds_at(&desk, "2023-02-17T09:05:00+09:00", &["stats", "--event", "ws-2211"]);
    assert!(stats.lines().any(|l| l.starts_with("신청 (accepted)") && l.ends_with(" 1")), "{stats}");
    assert!(stats.lines().any(|l| l.starts_with("개인정보 삭제됨") && l.ends_with(" 1")), "{stats}");
    let stats = succeeds_at(&desk, "2023-02-17T09:05:00+09:00", &["stats", "--event", "sem-2303"]);
    assert!(stats.lines().any(|l| l.starts_with("개인정보 삭제됨") && l.ends_with(" 0")), "{stats}");
    let exported = desk.export();
    assert_eq!(exported.len(), 1, "{exported:?}");

    // The seminar's day comes (9 June): its data goes too.
    let purged = succeeds_at(&desk, "2023-06-09T09:00:00+09:00", &["purge"]);
    assert!(purged.contains("(sem-2303), held 2023-03-10: personal data kept until 2023-06-08, due since 2023-06-09.\n  deleted: 1 application(s)"), "{purged}");
    assert!(purged.contains("(ws-2211), held 2022-11-18: personal data kept until 2023-02-16, due since 2023-02-17: nothing is left to delete (purged before).\n"), "{purged}");
    let left = found_in(&database_files(&db), &everyone);
    assert!(left.is_empty(), "personal data left after both purges: {left:?}");
}
