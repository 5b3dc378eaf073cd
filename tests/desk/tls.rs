//! TLS through rustls against the real servers: IMAPS and IMAP STARTTLS to Dovecot, SMTP
//! STARTTLS to Postfix, trusting a private CA given as `ca_file`; without it, `check` says the
//! TLS handshake failed.

use crate::helpers::{application, Desk};

/// Rewrite the test configuration for TLS: IMAP with `imap_security` on `imap_port`, SMTP with
/// STARTTLS, both trusting `ca` when given.
fn use_tls(desk: &Desk, imap_security: &str, imap_port: u16, ca: Option<&std::path::Path>) {
    let text = std::fs::read_to_string(&desk.config).unwrap();
    let mut out = String::new();
    let mut section = String::new();
    for line in text.lines() {
        if line.starts_with('[') {
            section = line.to_owned();
        }
        let line = match (section.as_str(), line.split('=').next().unwrap_or("").trim()) {
            ("[imap]", "security") => format!("security = \"{imap_security}\""),
            ("[imap]", "port") => format!("port = {imap_port}"),
            ("[smtp]", "security") => "security = \"starttls\"".to_owned(),
            _ => line.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
        if let (Some(ca), true) = (ca, line.starts_with("security =")) {
            out.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
        }
    }
    std::fs::write(&desk.config, out).unwrap();
}

fn check(desk: &Desk) -> (bool, String) {
    let out = desk.smebridge(&["check"]);
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaps_and_smtp_starttls_with_a_private_ca_carry_the_whole_loop() {
    let desk = Desk::start();
    let ca = desk.stack.ca_file();
    use_tls(&desk, "tls", desk.stack.imaps_port(), Some(&ca));
    let (ok, text) = check(&desk);
    assert!(ok, "{text}");

    desk.send_to_center(
        "tls@secure.example",
        &application(
            "김보안",
            "tls@secure.example",
            "신청",
            "성명: 김보안\n소속: 보안상사\n연락처: 010-4444-1234\n",
            "tls-1@secure.example",
        ),
    )
    .await;
    let out = desk.once();
    assert!(out.contains("recorded 1 new message") && out.contains("sent 1"), "{out}");
    desk.wait_for_mail("tls@secure.example", 1).await;
    let log = desk.stack.postfix_log();
    assert!(
        log.lines().any(|l| l.contains("starttls=1") && l.contains("data=1")),
        "the reply went over STARTTLS:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_starttls_works_and_an_unknown_ca_is_a_plain_tls_failure() {
    let desk = Desk::start();
    let ca = desk.stack.ca_file();
    use_tls(&desk, "starttls", desk.stack.imap_port(), Some(&ca));
    let (ok, text) = check(&desk);
    assert!(ok, "{text}");

    // Without the private CA, neither server's certificate is trusted.
    let without: String = std::fs::read_to_string(&desk.config)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("ca_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&desk.config, without).unwrap();
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("FAILED  IMAP login and mailbox: TLS with 127.0.0.1 failed"), "{text}");
    assert!(text.contains("FAILED  SMTP connection: TLS failure"), "{text}");
    assert!(text.to_lowercase().contains("unknown") || text.to_lowercase().contains("issuer"), "says why: {text}");
}

/// Point the desk at `imap` and `smtp` (security, port), trusting the stack's CA; with
/// `smtp_login`, SMTP logs in with the stack's password (the submission ports want that).
fn point(desk: &Desk, imap: (&str, u16), smtp: (&str, u16), smtp_login: bool) {
    let ca = desk.stack.ca_file();
    let text = std::fs::read_to_string(&desk.config).unwrap();
    let mut out = String::new();
    let mut section = String::new();
    for line in text.lines() {
        if line.starts_with('[') {
            section = line.to_owned();
        }
        let line = match (section.as_str(), line.split('=').next().unwrap_or("").trim()) {
            ("[imap]", "security") => format!("security = \"{}\"\nca_file = \"{}\"", imap.0, ca.display()),
            ("[imap]", "port") => format!("port = {}", imap.1),
            ("[smtp]", "security") => {
                let login = if smtp_login {
                    format!("\nusername = \"{}\"\npassword_file = \"password\"", crate::helpers::CENTER)
                } else {
                    String::new()
                };
                format!("security = \"{}\"\nca_file = \"{}\"{login}", smtp.0, ca.display())
            }
            ("[smtp]", "port") => format!("port = {}", smtp.1),
            _ => line.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    std::fs::write(&desk.config, out).unwrap();
}

fn desk_with(options: mailstack::Options) -> Desk {
    let stack = mailstack::MailStack::start_with(options).expect("the mail stack must start");
    Desk::start_on(stack, "2099-12-31T23:59:59+09:00", &[])
}

fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("no line {start:?} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_starttls_and_smtps_with_a_login_carry_the_whole_loop() {
    let desk = Desk::start();
    point(&desk, ("starttls", desk.stack.imap_port()), ("tls", desk.stack.smtps_port()), true);
    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    desk.send_to_center(
        "smtps@secure.example",
        &application(
            "박암호",
            "smtps@secure.example",
            "신청",
            "성명: 박암호\n소속: 암호상사\n",
            "smtps-1@secure.example",
        ),
    )
    .await;
    let out = desk.once();
    assert!(out.contains("sent 1"), "{out}");
    desk.wait_for_mail("smtps@secure.example", 1).await;
    // The submission went over the implicit-TLS port, after AUTH (the port relays nothing else).
    let log = desk.stack.postfix_log();
    assert!(log.contains(&format!("sasl_method=PLAIN, sasl_username={}", crate::helpers::CENTER)), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_host_is_refused_by_both_and_check_says_wrong_host_name() {
    let desk = desk_with(mailstack::Options { certificate: mailstack::Certificate::WrongHost, ..Default::default() });
    point(&desk, ("tls", desk.stack.imaps_port()), ("starttls", desk.stack.smtp_port()), false);
    let (ok, text) = check(&desk);
    assert!(!ok);
    for start in ["FAILED  IMAP login and mailbox:", "FAILED  SMTP connection:"] {
        let l = line(&text, start);
        assert!(
            l.contains("wrong host name") && l.contains("not valid for 127.0.0.1") && l.contains("wrong.example"),
            "{l}"
        );
    }
    let out = desk.smebridge(&["once"]);
    assert!(!out.status.success());
    assert!(desk.stack.dovecot_log().lines().all(|l| !l.contains("Login: user=")), "no login over a bad certificate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused_by_both_and_check_says_expired() {
    let desk = desk_with(mailstack::Options { certificate: mailstack::Certificate::Expired, ..Default::default() });
    point(&desk, ("starttls", desk.stack.imap_port()), ("tls", desk.stack.smtps_port()), true);
    let (ok, text) = check(&desk);
    assert!(!ok);
    for start in ["FAILED  IMAP login and mailbox:", "FAILED  SMTP connection:"] {
        let l = line(&text, start);
        assert!(l.contains("expired certificate") && l.contains("expired on 2020-01-02"), "{l}");
    }
    assert!(desk.stack.dovecot_log().lines().all(|l| !l.contains("Login: user=")));
    assert!(!desk.stack.postfix_log().contains("sasl_method"));
}

/// A server (or someone in between) that does not offer STARTTLS when `starttls` is
/// configured: an error, never a login in plain text — although both servers here would take
/// one (Dovecot counts loopback as secure; the submission port offers AUTH in clear).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_offer_starttls_is_an_error_and_no_password_goes_out_in_clear() {
    let desk = desk_with(mailstack::Options { no_tls: true, ..Default::default() });
    point(&desk, ("starttls", desk.stack.imap_port()), ("starttls", desk.stack.submission_port()), true);
    let (ok, text) = check(&desk);
    assert!(!ok);
    for start in ["FAILED  IMAP login and mailbox:", "FAILED  SMTP connection:"] {
        let l = line(&text, start);
        assert!(l.contains("does not offer STARTTLS") && l.contains("forbids going on without TLS"), "{l}");
    }
    let out = desk.smebridge(&["once"]);
    assert!(!out.status.success());
    // Neither server saw a login attempt.
    let dovecot = desk.stack.dovecot_log();
    assert!(!dovecot.contains("Login: user=") && !dovecot.contains("auth failed"), "{dovecot}");
    let postfix = desk.stack.postfix_log();
    assert!(!postfix.contains("sasl_method") && !postfix.contains("authentication failed"), "{postfix}");
    // In plain text (the same configuration with "plain") the login would have worked: the
    // refusal above is smebridge's, not the servers'.
    let text =
        std::fs::read_to_string(&desk.config).unwrap().replace("security = \"starttls\"", "security = \"plain\"");
    std::fs::write(&desk.config, text).unwrap();
    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
}
