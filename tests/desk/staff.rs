//! The desk on the day, through a real Postfix and Dovecot: the sign-in sheet (`smebridge sheet`)
//! lists every accepted person and the waiting list, and prints on A4 with its header row on
//! every page; staff corrections (`smebridge application …`) with their history entries.

use std::io::{Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

use crate::helpers::calendar::calendars;
use crate::helpers::{application, Desk};

/// The standard output of a command that must succeed.
fn run(desk: &Desk, args: &[&str]) -> String {
    let out = desk.smebridge(args);
    assert!(out.status.success(), "smebridge {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Send one application through Postfix and record it (one at a time, so arrival order holds).
async fn apply(desk: &Desk, name: &str, from: &str, body: &str, n: usize) {
    let raw = application(name, from, "참가 신청", body, &format!("staff{n}@x.example"));
    desk.send_to_center(from, &raw).await;
    desk.once();
}

/// Four applications (seven people) for five or six seats: two named people from 다온소재, a contact with one unnamed
/// companion from 한빛테크, one person from 가람; the fourth does not fit and waits.
async fn seed(desk: &Desk) {
    apply(
        desk,
        "김민준",
        "kim@daon.example",
        "성명: 김민준, 이서연\n소속: 다온소재\n직위: 팀장\n연락처: 010-5555-0001\n참석인원: 2명\n",
        1,
    )
    .await;
    apply(
        desk,
        "최유진",
        "choi@hanbit.example",
        "성명: 최유진\n소속: 한빛테크\n연락처: 010-5555-0002\n참석인원: 2명\n",
        2,
    )
    .await;
    apply(desk, "박지호", "park@garam.example", "성명: 박지호\n소속: 가람\n연락처: 010-5555-0003\n", 3).await;
    apply(desk, "정하늘", "jung@nuri.example", "성명: 정하늘\n소속: 누리\n연락처: 010-5555-0004\n참석인원: 2명\n", 4)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sheet_lists_every_accepted_person_by_organization_with_the_waitlist_and_a4_print_settings() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("event", "capacity = 5")]);
    seed(&desk).await;

    let file = desk.dir.path().join("sign-in.xlsx");
    let out = run(&desk, &["sheet", "--output", file.to_str().unwrap()]);
    assert!(out.contains("sign-in sheet for"), "{out}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);

    let bytes = std::fs::read(&file).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["참석자 서명부", "대기자"]);
    let sheet = book.worksheet_range("참석자 서명부").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(Data::to_string).collect()).collect();
    assert_eq!(
        rows[0],
        [
            "No.",
            "소속 (Organization)",
            "성명 (Name)",
            "직위 (Position)",
            "연락처 (Phone)",
            "신청번호 (Application)",
            "서명 (Signature)",
            "명찰 (Badge)"
        ]
    );
    let people: Vec<[&str; 4]> = rows[1..].iter().map(|r| [&*r[0], &*r[1], &*r[2], &*r[5]]).collect();
    assert_eq!(
        people,
        [
            ["1", "가람", "박지호", "SME-0003"],
            ["2", "다온소재", "김민준", "SME-0001"],
            ["3", "다온소재", "이서연", "SME-0001"],
            ["4", "한빛테크", "최유진", "SME-0002"],
            ["5", "한빛테크", "동행 1", "SME-0002"],
        ]
    );
    // The phone in full for the contact; signature empty; an empty badge box.
    assert_eq!(rows[2][3..], ["팀장", "010-5555-0001", "SME-0001", "", "☐"]);

    let waiting = book.worksheet_range("대기자").unwrap();
    let rows: Vec<Vec<String>> = waiting.rows().map(|r| r.iter().map(Data::to_string).collect()).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][..6], ["1", "누리", "정하늘", "2", "010-5555-0004", "SME-0004"]);

    // Print settings, as Excel reads them from the file.
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
    assert!(xml.contains(r#"<pageSetup paperSize="9" fitToHeight="0" orientation="landscape""#), "{xml}");
    assert!(xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#), "{xml}");
    assert!(xml.contains("<printOptions"), "{xml}");
    assert!(xml.contains("<oddHeader>&amp;L&amp;\"-,Bold\"SME R&amp;&amp;D Workshop"), "{xml}");
    assert!(xml.contains("<oddFooter>&amp;C&amp;P / &amp;N</oddFooter>"), "{xml}");
    let mut workbook = String::new();
    zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut workbook).unwrap();
    assert!(workbook
        .contains(r#"<definedName name="_xlnm.Print_Titles" localSheetId="0">'참석자 서명부'!$1:$1</definedName>"#));
    assert!(workbook.contains(r#"<definedName name="_xlnm.Print_Titles" localSheetId="1">대기자!$1:$1</definedName>"#));
}

/// The last daily summary before the event (the morning of the day it begins) carries the
/// sign-in sheet; the one the day before does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_summary_before_the_event_carries_the_sign_in_sheet() {
    use mail_parser::MimeHeaders;
    const STAFF: &str = "staff@kaist.ac.kr";
    // The workshop begins on the 18th at 13:30; summaries at 08:30.
    let desk = Desk::start_with(crate::helpers::DEADLINE, &[("staff", "summary_from = \"2022-11-07\"")]);
    let raw = application(
        "김민준",
        "kim@daon.example",
        "참가 신청",
        "성명: 김민준\n소속: 다온소재\n연락처: 010-5555-0001\n",
        "sum1@x.example",
    );
    desk.append_to_center(&raw, "15-Nov-2022 10:00:00 +0900").await;
    let attachments = |n: usize| {
        let desk = &desk;
        async move {
            let mails = desk.wait_for_mail(STAFF, n).await;
            let mail = crate::helpers::parsed(&mails[n - 1].raw);
            let names: Vec<String> =
                mail.attachments().filter_map(|p| p.attachment_name().map(str::to_owned)).collect();
            let sheet = mail
                .attachments()
                .find(|p| p.attachment_name().is_some_and(|n| n.contains("sign-in")))
                .map(|p| p.contents().to_vec());
            (names, sheet)
        }
    };
    for (clock, n) in [("2022-11-17T08:29:57+09:00", 1), ("2022-11-18T08:29:57+09:00", 2)] {
        let (mut daemon, log) = desk.spawn(&["run"], &[("SMEBRIDGE_CLOCK_START", clock)]);
        desk.stack
            .wait_for_delivery(STAFF, n, std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("summary {n}: {e:#}\n{}", std::fs::read_to_string(&log).unwrap_or_default()));
        // SAFETY: kill(2) on the child we spawned.
        unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
        assert!(daemon.wait().unwrap().success(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    }
    let (names, sheet) = attachments(1).await;
    assert!(sheet.is_none(), "the 17th's summary is not the last before the event: {names:?}");
    let (names, sheet) = attachments(2).await;
    let sheet = sheet.unwrap_or_else(|| panic!("no sign-in sheet in the 18th's summary: {names:?}"));
    assert!(names.contains(&"smebridge-sign-in-main.xlsx".to_owned()), "{names:?}");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(sheet)).unwrap();
    let rows: Vec<Vec<String>> = book
        .worksheet_range("참석자 서명부")
        .unwrap()
        .rows()
        .map(|r| r.iter().map(Data::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][1..3], ["다온소재", "김민준"]);
}

/// `edit` and `cancel` by application number, each change in the application's history with
/// who made it; the cancelled seats go to the waiting list and the applicant who moves up gets
/// the mail in their real mailbox. While the daemon runs, a correction is written beside it and
/// the daemon, nudged, sends its notice at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_edit_and_cancel_by_number_are_recorded_in_the_history_and_the_waitlist_moves_up() {
    // Six seats: five taken, 정하늘's two wait; the edit takes the sixth; the cancellation frees
    // two, enough for 정하늘.
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("event", "capacity = 6")]);
    seed(&desk).await;
    assert_eq!(desk.wait_for_mail("jung@nuri.example", 1).await.len(), 1, "waitlisted acknowledgement");

    let out = desk.smebridge_with_env(
        &["application", "edit", "SME-0003", "--phone", "010-7777-0003", "--attendees", "2", "--name", "박지호"],
        &[("SUDO_USER", "desk-kim")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, "SME-0003 phone: 010-5555-0003 -> 010-7777-0003\nSME-0003 attendees: 1 -> 2\n");
    let export = desk.export();
    let row = export.iter().find(|r| r["application_no"] == "SME-0003").unwrap();
    assert_eq!((row["phone"].as_str(), row["attendees"].as_str()), ("010-7777-0003", "2"));

    let out = desk.smebridge_with_env(&["application", "cancel", "sme-0002"], &[("SUDO_USER", "desk-kim")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.starts_with("sme-0002 cancelled (was accepted); 1 moved up"), "{printed}");
    let status: std::collections::HashMap<String, String> =
        desk.export().into_iter().map(|r| (r["application_no"].clone(), r["status"].clone())).collect();
    assert_eq!(status["SME-0002"], "cancelled");
    assert_eq!(status["SME-0004"], "accepted", "the waiting list moved up: {status:?}");
    let promoted = desk.wait_for_mail("jung@nuri.example", 2).await;
    assert!(crate::helpers::parsed(&promoted[1].raw).body_text(0).unwrap().contains("SME-0004"));

    let show = run(&desk, &["application", "show", "SME-0003"]);
    let history: Vec<&str> = show.lines().skip_while(|l| *l != "history:").skip(1).collect();
    assert_eq!(history.len(), 2, "{show}");
    assert!(history[0].ends_with("staff phone: 010-5555-0003 -> 010-7777-0003 (staff via CLI, desk-kim)"), "{show}");
    assert!(history[1].ends_with("staff attendees: 1 -> 2 (staff via CLI, desk-kim)"), "{show}");
    let show = run(&desk, &["application", "show", "SME-0002"]);
    assert!(show.starts_with("SME-0002 (cancelled"), "{show}");
    assert!(show.contains("staff status: accepted -> cancelled (staff via CLI, desk-kim)"), "{show}");

    // While the daemon runs: a correction is written beside it, and the command nudges the
    // daemon, which sends the notice at once (no new mail wakes it here).
    let (mut daemon, log) = desk.spawn_daemon();
    let edited = desk.smebridge_with_env(
        &["application", "edit", "SME-0001", "--phone", "010-0000-0001", "--notify"],
        &[("SUDO_USER", "desk-kim")],
    );
    let notified = desk.stack.wait_for_delivery("kim@daon.example", 2, std::time::Duration::from_secs(60));
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let daemon_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(daemon.wait().unwrap().success(), "{daemon_log}");
    assert!(edited.status.success(), "{}", String::from_utf8_lossy(&edited.stderr));
    let printed = String::from_utf8(edited.stdout).unwrap();
    assert!(
        printed.contains(&format!(
            "replies queued; the running smebridge (pid {}) was asked to send them now",
            daemon.id()
        )),
        "{printed}"
    );
    notified.unwrap_or_else(|e| panic!("the daemon sends the notice: {e:#}\n{daemon_log}"));
    assert!(daemon_log.contains("a staff command queued replies; making a pass now"), "{daemon_log}");
    let mails = desk.wait_for_mail("kim@daon.example", 2).await;
    assert!(
        mails.iter().any(|m| crate::helpers::parsed(&m.raw).body_text(0).unwrap().contains("010-0000-0001")),
        "the update confirmation"
    );
    let show = run(&desk, &["application", "show", "SME-0001"]);
    assert!(show.contains("staff phone: 010-5555-0001 -> 010-0000-0001 (staff via CLI, desk-kim)"), "{show}");
}

/// `resolve` clears what an application needed a person for: the summary lists it before and
/// not after, and the application's history says who resolved it and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_resolve_clears_the_needs_a_person_item_from_the_summary_with_a_history_row() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[]);
    // No organization: the application needs a person.
    apply(&desk, "김민준", "kim@daon.example", "성명: 김민준\n연락처: 010-5555-0001\n", 1).await;
    apply(&desk, "박지호", "park@garam.example", "성명: 박지호\n소속: 가람\n연락처: 010-5555-0003\n", 2).await;

    let before = run(&desk, &["summary"]);
    assert!(before.contains("SME-0001: missing: organization"), "{before}");
    assert!(!before.contains("SME-0002:"), "{before}");

    let out = desk.smebridge_with_env(
        &["application", "resolve", "SME-0001", "--note", "called: a private person, no organization"],
        &[("SUDO_USER", "desk-kim")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "SME-0001: resolved; it no longer needs a person\n");

    let after = run(&desk, &["summary"]);
    assert!(!after.contains("SME-0001: missing"), "{after}");
    let show = run(&desk, &["application", "show", "SME-0001"]);
    assert!(!show.contains("needs a person"), "{show}");
    assert!(
        show.contains(
            "staff review: missing: organization -> - (staff via CLI: called: a private person, no organization, desk-kim)"
        ),
        "{show}"
    );
    // Nothing left to resolve: said so, nothing written.
    assert_eq!(run(&desk, &["application", "resolve", "SME-0001"]), "SME-0001: nothing to resolve\n");
    assert_eq!(run(&desk, &["application", "show", "SME-0001"]), show);
}

/// `resolve MSG-…` clears a recorded message that is no application: an inquiry is listed in the
/// summary with its reference and the command, resolved beside the running daemon with who and
/// the note, and the next summary no longer lists it. A message that made an application is
/// refused, pointing at the application; so is a reference to no message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_resolve_clears_an_inquiry_by_its_message_reference_and_refuses_an_applications_message() {
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[]);
    let question = application(
        "문의자",
        "ask@question.example",
        "주차 문의",
        "행사장에 주차가 가능한가요?\n",
        "q-1@question.example",
    );
    desk.send_to_center("ask@question.example", &question).await;
    desk.once();
    apply(&desk, "박지호", "park@garam.example", "성명: 박지호\n소속: 가람\n연락처: 010-5555-0003\n", 2).await;
    let conn = rusqlite::Connection::open(desk.database()).unwrap();
    let id_of = |outcome: &str| -> i64 {
        conn.query_row("SELECT id FROM messages WHERE outcome = ?1", [outcome], |r| r.get(0)).unwrap()
    };
    let inquiry = format!("MSG-{:04}", id_of("inquiry"));
    let registered = format!("MSG-{:04}", id_of("registered"));

    let before = run(&desk, &["summary"]);
    assert!(before.contains("확인 필요 (Needs a person): 1건"), "{before}");
    assert!(
        before.contains(&format!("{inquiry} · 처리 후: smebridge application resolve {inquiry} · 행사장에 주차가")),
        "{before}"
    );

    // An application's message needs no person of its own: refused, naming the application.
    let refused = desk.smebridge(&["application", "resolve", &registered, "--note", "no"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains(&format!(
            "{registered} was recorded as registered, not as something that needs a person: it belongs to application \
             SME-0001; to clear what that application needs a person for: smebridge application resolve SME-0001"
        )),
        "{err}"
    );
    let refused = desk.smebridge(&["application", "resolve", "MSG-0999"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("there is no message MSG-0999"));

    // Beside the running daemon: written in one transaction while it holds the claim.
    let (mut daemon, log) = desk.spawn_daemon();
    let out = desk.smebridge_with_env(
        &["application", "resolve", &inquiry.to_lowercase(), "--note", "answered by phone: parking at the back"],
        &[("SUDO_USER", "desk-kim")],
    );
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    assert!(daemon.wait().unwrap().success(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{inquiry}: resolved; it no longer needs a person\n"));
    let recorded: (String, Option<String>) = conn
        .query_row("SELECT actor, note FROM message_resolutions WHERE message = ?1", [id_of("inquiry")], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(recorded, ("desk-kim".to_owned(), Some("answered by phone: parking at the back".to_owned())));

    let after = run(&desk, &["summary"]);
    assert!(!after.contains(&inquiry), "{after}");
    assert!(after.contains("확인 필요 (Needs a person): 0건"), "{after}");
    // Nothing left to resolve: said so, nothing written.
    assert_eq!(run(&desk, &["application", "resolve", &inquiry]), format!("{inquiry}: nothing to resolve\n"));
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM message_resolutions", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1);
}

/// `edit --notify` and `cancel --notify`: the applicant gets, in their real mailbox, the same
/// update and cancellation confirmations as for doing it by mail; the cancellation withdraws the
/// calendar entry the acknowledgement published (METHOD:CANCEL, the same UID).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_edit_and_cancel_with_notify_send_the_applicant_the_mail_confirmations() {
    const KIM: &str = "kim@daon.example";
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[]);
    apply(&desk, "김민준", KIM, "성명: 김민준\n소속: 다온소재\n연락처: 010-5555-0001\n", 1).await;
    let ack = desk.wait_for_mail(KIM, 1).await.remove(0).raw;
    let published = calendars(&ack);
    assert_eq!(published.len(), 1, "the acknowledgement publishes the entry");
    assert!(published[0].contains("METHOD:PUBLISH") && published[0].contains("UID:SME-0001.main@"), "{}", published[0]);

    let out = desk.smebridge_with_env(
        &["application", "edit", "SME-0001", "--phone", "010-7777-0001", "--notify"],
        &[("SUDO_USER", "desk-kim")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("SME-0001: applicant notified; replies sent 1, retrying 0, failed 0"), "{printed}");
    let mails = desk.wait_for_mail(KIM, 2).await;
    let update = mails.into_iter().find(|m| m.raw != ack).unwrap().raw;
    let body = crate::helpers::parsed(&update).body_text(0).unwrap().into_owned();
    assert!(body.contains("010-7777-0001") && body.contains("SME-0001"), "{body}");
    assert!(calendars(&update).is_empty(), "an update carries no calendar file");

    let out = desk.smebridge_with_env(&["application", "cancel", "SME-0001", "--notify"], &[("SUDO_USER", "desk-kim")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("replies sent 1,"), "{printed}");
    let mails = desk.wait_for_mail(KIM, 3).await;
    let cancelled = mails.into_iter().find(|m| m.raw != ack && m.raw != update).unwrap().raw;
    let body = crate::helpers::parsed(&cancelled).body_text(0).unwrap().into_owned();
    assert!(body.contains("취소했습니다"), "{body}");
    let withdrawn = calendars(&cancelled);
    assert_eq!(withdrawn.len(), 1, "the cancellation carries a calendar file");
    assert!(withdrawn[0].contains("METHOD:CANCEL") && withdrawn[0].contains("UID:SME-0001.main@"), "{}", withdrawn[0]);

    let show = run(&desk, &["application", "show", "SME-0001"]);
    assert!(show.contains("staff phone: 010-5555-0001 -> 010-7777-0001 (staff via CLI, desk-kim)"), "{show}");
    assert!(show.contains("staff status: accepted -> cancelled (staff via CLI, desk-kim)"), "{show}");
}

/// `add`: registrations by phone or in person. Seats count as for mail (the second does not fit
/// and waits), the history says "staff via CLI" and who, `--notify` sends the acknowledgement to
/// the applicant's real mailbox, and the same address cannot be added twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_add_registers_by_phone_with_seats_history_and_the_acknowledgement_on_notify() {
    const PARK: &str = "park@garam.example";
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("event", "capacity = 3")]);
    apply(&desk, "김민준", "kim@daon.example", "성명: 김민준\n소속: 다온소재\n연락처: 010-5555-0001\n", 1).await;

    let add = |args: &[&str]| {
        let mut all = vec!["application", "add", "--event", "main"];
        all.extend_from_slice(args);
        desk.smebridge_with_env(&all, &[("SUDO_USER", "desk-kim")])
    };
    let out = add(&[
        "--name",
        "박지호",
        "--organization",
        "가람",
        "--email",
        PARK,
        "--phone",
        "010-5555-0003",
        "--attendees",
        "2",
        "--notify",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "SME-0002 added to main (accepted); replies sent 1, retrying 0, failed 0, held by the rate limits 0\n"
    );
    let ack = desk.wait_for_mail(PARK, 1).await.remove(0).raw;
    let body = crate::helpers::parsed(&ack).body_text(0).unwrap().into_owned();
    assert!(body.contains("SME-0002") && body.contains("박지호"), "{body}");
    let published = calendars(&ack);
    assert_eq!(published.len(), 1, "an accepted registration's acknowledgement carries the calendar");
    assert!(published[0].contains("UID:SME-0002.main@"), "{}", published[0]);

    // No seat left for two more: the waiting list, as for mail; nobody mailed without --notify.
    let out = add(&["--name", "정하늘", "--organization", "누리", "--email", "jung@nuri.example", "--attendees", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "SME-0003 added to main (waitlisted); the applicant was not mailed\n"
    );
    let out = add(&["--name", "박지호", "--organization", "가람", "--email", PARK]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already applied to main as SME-0002"));

    let rows = desk.export();
    let row = rows.iter().find(|r| r["application_no"] == "SME-0002").unwrap();
    assert_eq!(
        (row["name"].as_str(), row["organization"].as_str(), row["phone"].as_str(), row["status"].as_str()),
        ("박지호", "가람", "010-5555-0003", "accepted")
    );
    let row = rows.iter().find(|r| r["application_no"] == "SME-0003").unwrap();
    assert_eq!(row["status"], "waitlisted");
    let show = run(&desk, &["application", "show", "SME-0002"]);
    assert!(show.contains("staff status: - -> accepted (staff via CLI, desk-kim)"), "{show}");
    // The next pass of the desk leaves them as they are, and so does reading the record kept in
    // place of the mail again.
    desk.once();
    assert_eq!(desk.export().len(), 3);
    let reparse = run(&desk, &["reparse"]);
    assert!(!reparse.contains("SME-0002") && !reparse.contains("SME-0003"), "{reparse}");
}

/// `resend`: a fresh acknowledgement of the same kind reaches the applicant's real mailbox (with
/// the application's calendar entry again); the rate limits still apply: past
/// `max_per_sender_per_day` it is held back, not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_resend_queues_the_acknowledgement_again_within_the_rate_limits() {
    const KIM: &str = "kim@daon.example";
    let desk = Desk::start_with("2099-12-31T23:59:59+09:00", &[("replies", "max_per_sender_per_day = 2")]);
    apply(&desk, "김민준", KIM, "성명: 김민준\n소속: 다온소재\n연락처: 010-5555-0001\n", 1).await;
    let ack = desk.wait_for_mail(KIM, 1).await.remove(0).raw;
    let resend = || {
        let out = desk.smebridge_with_env(&["application", "resend", "SME-0001"], &[("SUDO_USER", "desk-kim")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };

    let out = resend();
    assert_eq!(out, "SME-0001: ack queued again; replies sent 1, retrying 0, failed 0, held by the rate limits 0\n");
    let again = desk.wait_for_mail(KIM, 2).await.into_iter().find(|m| m.raw != ack).unwrap().raw;
    let (first, second) = (crate::helpers::parsed(&ack), crate::helpers::parsed(&again));
    assert_eq!(second.subject(), first.subject(), "the same acknowledgement");
    assert_ne!(second.message_id(), first.message_id(), "a fresh mail");
    assert!(second.body_text(0).unwrap().contains("SME-0001"));
    let entry = calendars(&again);
    assert_eq!(entry.len(), 1);
    assert!(entry[0].contains("METHOD:PUBLISH") && entry[0].contains("UID:SME-0001.main@"), "{}", entry[0]);

    // A third mail to the same address today is over the limit: held back.
    let out = resend();
    assert_eq!(out, "SME-0001: ack queued again; replies sent 0, retrying 0, failed 0, held by the rate limits 1\n");
    // While that copy waits, another is not piled up behind it.
    let refused = desk.smebridge(&["application", "resend", "SME-0001"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("SME-0001: its ack reply is already waiting to be sent"), "{err}");

    // Each resend is a row of the application's history, with who had it sent.
    let show = run(&desk, &["application", "show", "SME-0001"]);
    let history: Vec<&str> = show.lines().skip_while(|l| *l != "history:").skip(1).collect();
    assert_eq!(history.len(), 2, "{show}");
    for line in history {
        assert!(line.ends_with("staff reply: - -> ack (staff via CLI: resend, desk-kim)"), "{show}");
    }
}
