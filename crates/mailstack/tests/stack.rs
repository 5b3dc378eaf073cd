//! Integration tests against a real Dovecot + Postfix (needs root and the
//! Debian packages dovecot-imapd, dovecot-lmtpd, postfix).

use std::time::{Duration, Instant};

use mailstack::{client, MailStack};

const WAIT: Duration = Duration::from_secs(20);

fn message(subject: &str) -> Vec<u8> {
    format!(
        "From: Registration Desk <smebridge@kaist.ac.kr>\r\n\
         To: someone@applicant.example\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{subject}@mailstack.test>\r\n\
         Date: Thu, 17 Nov 2022 23:58:59 +0900\r\n\
         \r\n\
         Hello from mailstack.\r\n"
    )
    .into_bytes()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn start() -> MailStack {
    let t = Instant::now();
    let stack = MailStack::start().expect("start mail stack");
    eprintln!(
        "stack up in {:?} (imap {}, smtp {}, dir {})",
        t.elapsed(),
        stack.imap_port(),
        stack.smtp_port(),
        stack.dir().display()
    );
    stack
}

#[tokio::test]
async fn smtp_to_imap_roundtrip() {
    let stack = start();
    let user = "someone@applicant.example";
    client::send_raw(stack.host(), stack.smtp_port(), "smebridge@kaist.ac.kr", &[user], &message("roundtrip-subject"))
        .await
        .expect("send");
    stack.wait_for_delivery(user, 1, WAIT).expect("delivery");
    let mails = client::fetch_all(stack.host(), stack.imap_port(), user, "INBOX").await.expect("fetch");
    assert_eq!(mails.len(), 1);
    assert!(contains(&mails[0].raw, "Subject: roundtrip-subject"), "{}", String::from_utf8_lossy(&mails[0].raw));
    assert!(mails[0].internaldate.is_some());
    // Postfix added its trace header on the way.
    assert!(contains(&mails[0].raw, "Received: from"));
    assert!(stack.postfix_log().contains("status=sent"));

    // User names are case-insensitive; other users see nothing.
    let again = client::fetch_all(stack.host(), stack.imap_port(), "SomeOne@Applicant.Example", "INBOX")
        .await
        .expect("fetch mixed case");
    assert_eq!(again.len(), 1);
    let other = client::fetch_all(stack.host(), stack.imap_port(), "nobody@applicant.example", "INBOX")
        .await
        .expect("fetch other");
    assert!(other.is_empty());
}

#[tokio::test]
async fn many_recipients_and_utf8() {
    let stack = start();
    let raw = "From: a@kaist.ac.kr\r\nTo: x@y\r\nSubject: =?UTF-8?B?7ZWc6riA?=\r\n\r\n\
               본문 한글 UTF-8 body\r\n"
        .as_bytes();
    let to = ["kim@applicant.example", "lee@other.example", "smebridge@kaist.ac.kr"];
    client::send_raw(stack.host(), stack.smtp_port(), "", &to, raw).await.expect("send");
    // Dovecot drops a +detail and lower-cases: this lands in kim's INBOX too.
    client::send_raw(stack.host(), stack.smtp_port(), "", &["Kim+Reg@Applicant.example"], raw)
        .await
        .expect("send plus address");
    stack.wait_for_delivery("KIM+whatever@applicant.example", 2, WAIT).expect("plus delivery");
    for user in to {
        let mails = client::wait_for_mail(stack.host(), stack.imap_port(), user, 1, WAIT).await.expect("wait_for_mail");
        assert!(contains(&mails[0].raw, "본문 한글"));
    }
}

#[tokio::test]
async fn append_with_internaldate() {
    let stack = start();
    let user = "kim@applicant.example";
    let raw = message("appended-subject");
    client::append(stack.host(), stack.imap_port(), user, "INBOX", &raw, Some("17-Nov-2022 23:58:59 +0900"))
        .await
        .expect("append");
    client::append(stack.host(), stack.imap_port(), user, "Archive", &raw, None).await.expect("append to new mailbox");
    let mails = client::fetch_all(stack.host(), stack.imap_port(), user, "INBOX").await.expect("fetch");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].raw, raw, "APPEND/FETCH must round-trip byte for byte");
    // Same instant; Maildir keeps no zone, so it comes back in UTC.
    assert_eq!(mails[0].internaldate.as_deref(), Some("17-Nov-2022 14:58:59 +0000"));
    let archived = client::fetch_all(stack.host(), stack.imap_port(), user, "Archive").await.expect("fetch");
    assert_eq!(archived.len(), 1);
    stack.wait_for_delivery(user, 1, Duration::from_secs(1)).expect("maildir count");
}

#[tokio::test]
async fn postfix_stop_and_start() {
    let mut stack = start();
    let user = "someone@applicant.example";
    let port = stack.smtp_port();

    let t = Instant::now();
    stack.stop_postfix().expect("stop postfix");
    eprintln!("postfix stopped in {:?}", t.elapsed());
    let err = client::send_raw(stack.host(), port, "a@kaist.ac.kr", &[user], &message("while-down")).await;
    assert!(err.is_err(), "sending must fail while postfix is stopped");

    let t = Instant::now();
    stack.start_postfix().expect("start postfix");
    eprintln!("postfix restarted in {:?}", t.elapsed());
    assert_eq!(stack.smtp_port(), port);
    client::send_raw(stack.host(), port, "a@kaist.ac.kr", &[user], &message("after-restart"))
        .await
        .expect("send after restart");
    stack.wait_for_delivery(user, 1, WAIT).expect("delivery after restart");
    let mails = client::fetch_all(stack.host(), stack.imap_port(), user, "INBOX").await.expect("fetch");
    assert!(contains(&mails[0].raw, "after-restart"));
}

#[tokio::test]
async fn dovecot_stop_queues_mail_until_restart() {
    let mut stack = start();
    let user = "queued@applicant.example";
    let t = Instant::now();
    stack.stop_dovecot().expect("stop dovecot");
    eprintln!("dovecot stopped in {:?}", t.elapsed());
    assert!(client::fetch_all(stack.host(), stack.imap_port(), user, "INBOX").await.is_err());

    client::send_raw(stack.host(), stack.smtp_port(), "a@kaist.ac.kr", &[user], &message("queued"))
        .await
        .expect("postfix accepts while dovecot is down");
    std::thread::sleep(Duration::from_millis(500));
    stack.start_dovecot().expect("start dovecot");
    let t = Instant::now();
    stack.wait_for_delivery(user, 1, WAIT).expect("deferred mail delivered");
    eprintln!("deferred mail delivered {:?} after dovecot restart", t.elapsed());
    let mails = client::fetch_all(stack.host(), stack.imap_port(), user, "INBOX").await.expect("fetch");
    assert!(contains(&mails[0].raw, "Subject: queued"));
}

#[tokio::test]
async fn two_stacks_side_by_side() {
    let a = start();
    let b = start();
    assert_ne!(a.smtp_port(), b.smtp_port());
    assert_ne!(a.imap_port(), b.imap_port());
    let user = "same@applicant.example";
    client::send_raw(a.host(), a.smtp_port(), "x@kaist.ac.kr", &[user], &message("to-a")).await.expect("send a");
    client::send_raw(b.host(), b.smtp_port(), "x@kaist.ac.kr", &[user], &message("to-b")).await.expect("send b");
    let ma = client::wait_for_mail(a.host(), a.imap_port(), user, 1, WAIT).await.expect("a");
    let mb = client::wait_for_mail(b.host(), b.imap_port(), user, 1, WAIT).await.expect("b");
    assert_eq!((ma.len(), mb.len()), (1, 1));
    assert!(contains(&ma[0].raw, "to-a") && !contains(&ma[0].raw, "to-b"));
    assert!(contains(&mb[0].raw, "to-b"));
}

#[test]
fn drop_leaves_no_processes() {
    let stack = start();
    let dir = stack.dir().to_path_buf();
    let marker = dir.to_string_lossy().into_owned();
    assert!(count_processes_mentioning(&marker) >= 2, "servers should be running");
    drop(stack);
    assert_eq!(count_processes_mentioning(&marker), 0, "processes survived drop");
    assert!(!dir.exists(), "temp dir should be removed");
}

#[test]
fn start_in_keeps_mail_across_runs() {
    let parent = tempfile::tempdir().expect("tempdir");
    // tempdir() is 0700; the servers' users must be able to traverse it.
    std::fs::set_permissions(parent.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let dir = parent.path().join("demo");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let user = "persist@applicant.example";
    {
        let stack = MailStack::start_in(&dir).expect("first run");
        rt.block_on(client::send_raw(stack.host(), stack.smtp_port(), "a@b.example", &[user], &message("persist")))
            .expect("send");
        stack.wait_for_delivery(user, 1, WAIT).expect("delivery");
        // Otherwise the message may still be "in flight" for Postfix when the
        // stack is dropped, and be delivered again by the second run.
        stack.wait_for_queue_empty(WAIT).expect("queue drained");
    }
    assert!(dir.join("mail").exists());
    let stack = MailStack::start_in(&dir).expect("second run");
    let mails = rt.block_on(client::fetch_all(stack.host(), stack.imap_port(), user, "INBOX")).expect("fetch");
    assert_eq!(mails.len(), 1);
}

/// Processes whose command line mentions `needle` (the stack's directory
/// appears in both masters' command lines).
fn count_processes_mentioning(needle: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|c| contains(c, needle))
        .count()
}

#[test]
fn restart_on_taken_port_fails_cleanly() {
    let mut stack = start();
    stack.stop_dovecot().expect("stop dovecot");
    let squatter = std::net::TcpListener::bind(("127.0.0.1", stack.imap_port())).expect("bind imap port");
    let err = stack.start_dovecot().expect_err("dovecot cannot bind its port");
    let msg = format!("{err:#}");
    eprintln!("{msg}");
    assert!(msg.contains("Address already in use"), "{msg}");
    drop(squatter);
    stack.start_dovecot().expect("start dovecot once the port is free");

    stack.stop_postfix().expect("stop postfix");
    let squatter = std::net::TcpListener::bind(("127.0.0.1", stack.smtp_port())).expect("bind smtp port");
    let err = stack.start_postfix().expect_err("postfix cannot bind its port");
    let msg = format!("{err:#}");
    eprintln!("{msg}");
    assert!(msg.contains("Address already in use"), "{msg}");
    drop(squatter);
    stack.start_postfix().expect("start postfix once the port is free");
}

/// A test process that dies without unwinding (abort, SIGKILL, Ctrl-C) must
/// not leave servers or the temp dir behind: the watchdogs clean up.
#[test]
fn watchdog_cleans_up_after_abort() {
    if std::env::var_os("MAILSTACK_ABORT_CHILD").is_some() {
        let stack = MailStack::start().expect("start in child");
        println!("STACKDIR={}", stack.dir().display());
        std::process::abort();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "watchdog_cleans_up_after_abort", "--nocapture", "--test-threads=1"])
        .env("MAILSTACK_ABORT_CHILD", "1")
        .output()
        .expect("run child test process");
    assert!(!out.status.success(), "child must have aborted");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The harness may print "test ... " on the same line.
    let dir = stdout
        .split("STACKDIR=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no STACKDIR in child output: {stdout}"))
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while (count_processes_mentioning(&dir) > 0 || std::path::Path::new(&dir).exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count_processes_mentioning(&dir), 0, "servers survived the abort");
    assert!(!std::path::Path::new(&dir).exists(), "temp dir survived the abort");
}
