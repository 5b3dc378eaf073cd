//! `smebridge check` against the real servers: it says in plain words what is wrong.

mod common;

use common::Desk;

fn check(desk: &Desk) -> (bool, String) {
    let out = desk.smebridge(&["check"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn edit_config(desk: &Desk, from: &str, to: &str) {
    let text = std::fs::read_to_string(&desk.config).unwrap();
    assert!(text.contains(from), "the test config should contain {from:?}");
    std::fs::write(&desk.config, text.replacen(from, to, 1)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_on_a_good_configuration_and_explains_each_kind_of_problem() {
    let desk = Desk::start();
    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    assert!(text.contains("ok      IMAP login and mailbox"), "{text}");
    assert!(text.contains("ok      SMTP connection"), "{text}");

    // Wrong password.
    std::fs::write(desk.dir.path().join("password"), "not-the-password\n").unwrap();
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("wrong username or password"), "{text}");
    std::fs::write(desk.dir.path().join("password"), format!("{}\n", mailstack::PASSWORD)).unwrap();

    // Nothing listening on the IMAP port.
    let port = desk.stack.imap_port().to_string();
    let closed = free_port().to_string();
    edit_config(&desk, &format!("port = {port}"), &format!("port = {closed}"));
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("unreachable host") && text.contains("connection refused"), "{text}");
    edit_config(&desk, &format!("port = {closed}"), &format!("port = {port}"));

    // TLS towards a server that does not speak it.
    edit_config(&desk, "security = \"plain\"", "security = \"tls\"");
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("TLS"), "{text}");
    edit_config(&desk, "security = \"tls\"", "security = \"plain\"");

    // A typo in a key.
    edit_config(&desk, "poll_interval", "pol_interval");
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("FAILED  configuration") && text.contains("pol_interval"), "{text}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_reply_template_is_a_configuration_error_not_a_crash_at_send_time() {
    let desk = Desk::start();
    let templates = desk.dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    for entry in std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(&desk.config).unwrap();
    let text = text
        .lines()
        .map(|l| if l.starts_with("templates_dir") { "templates_dir = \"templates\"".to_owned() } else { l.to_owned() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&desk.config, text).unwrap();
    let (ok, text) = check(&desk);
    assert!(ok, "the copied templates are fine: {text}");

    // A syntax error.
    std::fs::write(templates.join("late.ko.txt.j2"), "{{ applicant.name ").unwrap();
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("FAILED  reply templates") && text.contains("late.ko.txt.j2"), "{text}");

    // A name that does not exist (a typo staff might make).
    std::fs::write(templates.join("late.ko.txt.j2"), "{{ applicant.nmae }}").unwrap();
    let (ok, text) = check(&desk);
    assert!(!ok, "{text}");
    assert!(text.contains("late.ko.txt.j2"), "{text}");

    // The daemon refuses to start on it rather than failing at send time.
    let out = desk.smebridge(&["once"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("late.ko.txt.j2"));
}
