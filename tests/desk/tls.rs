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
