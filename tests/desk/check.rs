//! `smebridge check` against the real servers: it says in plain words what is wrong.

use crate::helpers::Desk;

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

    // The daemon refuses to start on it rather than failing at send time, and leaves nothing
    // behind: no database is created for a configuration that cannot run.
    let out = desk.smebridge(&["once"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("late.ko.txt.j2"));
    assert!(!desk.database().exists(), "no database for a broken template");
    assert!(!desk.dir.path().join("smebridge.sqlite-wal").exists());
}

fn set_database_path(desk: &Desk, path: &str) {
    let text = std::fs::read_to_string(&desk.config).unwrap();
    let text: Vec<String> = text
        .lines()
        .map(|l| if l.starts_with("path = ") { format!("path = \"{path}\"") } else { l.to_owned() })
        .collect();
    std::fs::write(&desk.config, text.join("\n")).unwrap();
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// `check` creates nothing: a database in a directory that does not exist is a failure that
/// says so (and the directory is not made), a missing database in an existing directory is fine
/// and still not created, an existing one is only read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_changes_nothing_and_says_what_is_wrong_with_the_database_path() {
    let desk = Desk::start();
    let missing = desk.dir.path().join("nonexistent/dir");
    set_database_path(&desk, &missing.join("db.sqlite").display().to_string());
    let (ok, text) = check(&desk);
    assert!(!ok, "{text}");
    assert!(text.contains(&format!("FAILED  database: the directory {} does not exist", missing.display())), "{text}");
    assert!(!desk.dir.path().join("nonexistent").exists(), "check must not create the directory");

    set_database_path(&desk, "smebridge.sqlite");
    let before = files_in(desk.dir.path());
    let (ok, text) = check(&desk);
    assert!(ok && text.contains("ok      database"), "{text}");
    assert_eq!(files_in(desk.dir.path()), before, "check must not create the database");

    // An existing database is only read (opened read-only: no journal, no WAL left behind).
    desk.once();
    let before = files_in(desk.dir.path());
    assert!(before.contains(&"smebridge.sqlite".to_owned()), "{before:?}");
    let (ok, text) = check(&desk);
    assert!(ok && text.contains("ok      database") && !text.contains("WARNING"), "{text}");
    assert_eq!(files_in(desk.dir.path()), before);
}

/// A database file other users may read is warned about, by `check` and at every start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_readable_by_others_is_warned_about_by_check_and_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let desk = Desk::start();
    desk.once();
    std::fs::set_permissions(desk.database(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, text) = check(&desk);
    assert!(ok, "a warning, not a failure: {text}");
    assert!(text.contains("WARNING database:") && text.contains("mode 0644") && text.contains("chmod 600"), "{text}");
    let out = desk.smebridge(&["once"]);
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("WARN") && log.contains("open to other users") && log.contains("0644"), "{log}");
}

/// Configurations that cannot do what staff expect are refused with the key named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configurations_that_cannot_work_are_refused_by_check() {
    let desk = Desk::start();
    let original = std::fs::read_to_string(&desk.config).unwrap();
    let cases = [
        ("recipients = [\"staff@kaist.ac.kr\"]", "recipients = []", "staff.recipients is empty"),
        ("summary_until = \"2100-12-31\"", "summary_until = \"2098-12-31\"", "is before staff.summary_from"),
        (
            "starts_at = \"2100-01-01T13:30:00+09:00\"",
            "starts_at = \"2099-12-30T13:30:00+09:00\"",
            "before event.deadline",
        ),
    ];
    for (from, to, expected) in cases {
        std::fs::write(&desk.config, original.replacen(from, to, 1)).unwrap();
        let (ok, text) = check(&desk);
        assert!(!ok, "{to}: {text}");
        assert!(text.contains("FAILED  configuration") && text.contains(expected), "{to}: {text}");
    }
    assert!(!desk.database().exists());
}
