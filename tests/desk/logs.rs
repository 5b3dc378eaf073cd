//! No password and no applicant data in smebridge's log at any level, whatever `RUST_LOG` asks
//! for: `smebridge once` and `smebridge check` against a real Dovecot and a real Postfix (with
//! SMTP AUTH, so the SMTP password goes over the wire too), at `RUST_LOG=trace` and with the
//! protocol crates' targets asked for by name.

use std::process::{Output, Stdio};

use crate::helpers::{application, Desk, CENTER};
use base64::Engine as _;

/// (name, address, phone, organization, postal address, subject)
const APPLICANTS: [(&str, &str, &str, &str, &str, &str); 4] = [
    (
        "김하늘",
        "haneul.kim@sky-logs.example",
        "010-3141-5926",
        "하늘정밀",
        "대전광역시 유성구 대학로 291",
        "하늘정밀 워크숍 신청서",
    ),
    (
        "박서준",
        "seojun.park@river-logs.example",
        "010-2718-2818",
        "강물소재",
        "서울특별시 성동구 왕십리로 222",
        "강물소재 참가 신청합니다",
    ),
    (
        "Olivia Trent",
        "olivia.trent@bridge-logs.example",
        "+82-10-1618-0339",
        "Bridgeworks",
        "17 Harbour Lane, Busan",
        "Registration Bridgeworks Trent",
    ),
    (
        "이도윤",
        "doyun.lee@stone-logs.example",
        "010-1414-2135",
        "돌다리건설",
        "부산광역시 해운대구 센텀로 99",
        "돌다리건설 이도윤 신청",
    ),
];

fn apply(i: usize) -> String {
    let (name, email, phone, org, street, subject) = APPLICANTS[i];
    application(
        name,
        email,
        subject,
        &format!("성명: {name}\n소속: {org}\n연락처: {phone}\n주소: {street}\n참석 인원: 1\n"),
        &format!("logs-{i}@msg-logs.example"),
    )
}

/// Run smebridge with this `RUST_LOG`; its standard error is kept as its log (the desk scans
/// it at info-level needles too when dropped).
fn run_with(desk: &Desk, args: &[&str], rust_log: &str) -> (Output, String) {
    let (mut command, log) = desk.command(args);
    command.env("RUST_LOG", rust_log).stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = command.output().expect("smebridge must start");
    std::fs::write(&log, &out.stderr).unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, text)
}

/// Everything that must never be in a log: both passwords (plain, and as they travel in SMTP
/// `AUTH PLAIN` / `AUTH LOGIN`, base64), and each applicant's name, address, phone,
/// organization, postal address and subject, plus whatever else the desk knows of.
fn needles(desk: &Desk) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut needles = desk.log_needles();
    needles.push(mailstack::PASSWORD.to_owned());
    needles.push(b64(&format!("\0{CENTER}\0{}", mailstack::PASSWORD)));
    needles.push(b64(mailstack::PASSWORD));
    for (name, email, phone, org, street, subject) in APPLICANTS {
        needles.extend([name, email, phone, org, street, subject].map(str::to_owned));
        // The local part alone, and the phone's digits as a mail might carry them.
        needles.push(email.split('@').next().unwrap().to_owned());
        needles.push(phone.chars().filter(char::is_ascii_digit).collect());
    }
    needles.sort();
    needles.dedup();
    needles
}

fn assert_clean(desk: &Desk, what: &str, log: &str) {
    let found = crate::helpers::leaks(&[(what.to_owned(), log.to_owned())], &needles(desk));
    assert!(found.is_empty(), "{what} leaks:\n{}", found.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_applicant_data_in_the_log_at_any_level() {
    let desk = Desk::start();
    // SMTP AUTH with the stack's password (Dovecot checks it for Postfix).
    let config = std::fs::read_to_string(&desk.config).unwrap();
    let config =
        config.replacen("[smtp]\n", &format!("[smtp]\nusername = \"{CENTER}\"\npassword_file = \"password\"\n"), 1);
    std::fs::write(&desk.config, config).unwrap();

    // `check` logs in to IMAP and to SMTP (AUTH) at trace level.
    let (out, log) = run_with(&desk, &["check"], "trace");
    assert!(out.status.success(), "{}\n{log}", String::from_utf8_lossy(&out.stdout));
    assert_clean(&desk, "check at trace", &log);

    let rounds: [(&[usize], &[&str], &str); 3] = [
        (&[0, 1], &[], "trace"),
        (&[2], &[], "trace,async_imap=trace,imap_proto=trace,lettre=trace,rustls=trace,tokio_rustls=trace"),
        (
            &[3],
            &["--log-format", "json"],
            "async_imap::imap_stream=trace,lettre::transport::smtp::client=trace,smebridge=trace,trace",
        ),
    ];
    let mut answered = 0;
    for (applicants, flags, rust_log) in rounds {
        for &i in applicants {
            desk.send_to_center(APPLICANTS[i].1, &apply(i)).await;
        }
        let args: Vec<&str> = ["once"].iter().chain(flags).copied().collect();
        let (out, log) = run_with(&desk, &args, rust_log);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "once at RUST_LOG={rust_log} failed:\n{stdout}\n{log}");
        assert!(stdout.contains(&format!("sent {}", applicants.len())), "{stdout}");

        // The test means something: the level asked for is in force (our own debug line says
        // which directives hold), the IMAP login and the replies happened and were logged.
        assert!(log.contains("these crates' protocol traffic is never written"), "RUST_LOG={rust_log}:\n{log}");
        assert!(log.contains("logged in to IMAP"), "{log}");
        assert!(log.contains("reply sent"), "{log}");
        assert!(log.lines().count() >= 5, "{log}");
        assert_clean(&desk, &format!("once at RUST_LOG={rust_log}"), &log);

        answered += applicants.len();
        for &i in applicants {
            desk.wait_for_mail(APPLICANTS[i].1, 1).await;
        }
    }
    assert_eq!(answered, APPLICANTS.len());
    // The SMTP password did go over the wire: Postfix took the login.
    let postfix = desk.stack.postfix_log();
    assert!(postfix.contains(&format!("sasl_username={CENTER}")), "smebridge must log in to SMTP:\n{postfix}");
}
