//! A flood: 5,000 mails from one sender and 1,000 from forged senders, all in the mailbox when
//! smebridge looks. Every one is recorded; replies are capped per sender and in all; the forged
//! ones get nothing; staff are told.

use std::time::{Duration, Instant};

use crate::helpers::{application, crlf, Desk, CENTER};

const FROM_ONE: usize = 5_000;
const FORGED: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_recorded_whole_and_answered_within_the_caps() {
    let desk = Desk::start_with(
        "2099-12-31T23:59:59+09:00",
        &[
            ("replies", "max_per_sender_per_day = 3"),
            ("replies", "max_per_hour = 50"),
            ("security", "require_auth = \"dmarc\""),
            ("security", "authserv_id = \"mx.kaist.ac.kr\""),
        ],
    );
    // Seeding 6,000 messages by APPEND takes minutes; they are delivered into the maildir the way
    // a local delivery agent would (files in new/), and smebridge reads them over IMAP as usual.
    let started = Instant::now();
    let mut session = mailstack::client::login(desk.stack.host(), desk.stack.imap_port(), CENTER).await.unwrap();
    session.select("INBOX").await.unwrap(); // makes Dovecot create the maildir
    session.logout().await.unwrap();
    let new = desk.stack.maildir(CENTER).join("new");
    let owner = std::fs::metadata(new.parent().unwrap()).unwrap();
    use std::os::unix::fs::MetadataExt;
    let deliver = |i: usize, raw: String| {
        let path = new.join(format!("{}.flood{i}.mailstack", 1_668_560_400 + i));
        std::fs::write(&path, crlf(&raw)).unwrap();
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
    };
    for i in 0..FROM_ONE {
        // The same person, changing their phone number again and again (each a real update).
        let raw = application(
            "김반복",
            "loop@flood.example",
            "신청",
            &format!("연락처: 010-7000-{:04}\n", i % 10_000),
            &format!("one-{i}@flood.example"),
        )
        .replace("From:", "Authentication-Results: mx.kaist.ac.kr; dmarc=pass header.from=flood.example\nFrom:");
        deliver(i, raw);
    }
    for i in 0..FORGED {
        let raw = application(
            "위조",
            &format!("victim{i}@forged.example"),
            "신청",
            "성명: 위조\n연락처: 010-1234-5678\n",
            &format!("forged-{i}@forged.example"),
        )
        .replace("From:", "Authentication-Results: mx.kaist.ac.kr; dmarc=fail header.from=forged.example\nFrom:");
        deliver(FROM_ONE + i, raw);
    }
    eprintln!("seeded {} messages in {:?}", FROM_ONE + FORGED, started.elapsed());

    let started = Instant::now();
    let out = desk.once();
    eprintln!("smebridge once: {:?}: {}", started.elapsed(), out.trim());
    assert!(out.contains(&format!("recorded {} new message", FROM_ONE + FORGED)), "{out}");
    assert_eq!(desk.messages_recorded(), (FROM_ONE + FORGED) as i64, "every one recorded");

    desk.stack.wait_for_queue_empty(Duration::from_secs(60)).unwrap();
    let delivered = |user: &str| {
        let dir = desk.stack.maildir(user);
        ["new", "cur"].iter().map(|d| std::fs::read_dir(dir.join(d)).map(|e| e.count()).unwrap_or(0)).sum::<usize>()
    };
    assert_eq!(delivered("loop@flood.example"), 3, "capped per sender per day");
    let forged_answered = (0..FORGED).filter(|i| delivered(&format!("victim{i}@forged.example")) > 0).count();
    assert_eq!(forged_answered, 0, "no backscatter to forged senders");
    let sent: i64 = desk.outbox().iter().filter(|(_, _, state)| state == "sent").count() as i64;
    assert!(sent <= 50, "capped in all per hour: {sent}");

    let summary = desk.smebridge(&["summary", "--date", "2022-11-16"]);
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(text.contains("held back by the rate limit"), "staff are told about held replies:\n{text}");
    assert!(
        text.contains("Forged sender") && text.contains("and 990 more"),
        "staff are told about forged senders:\n{text}"
    );
}
