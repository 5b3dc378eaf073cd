//! What the store's tests share: a fresh database, messages and replies to record.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::*;
use crate::domain::{ApplicantFields, EmailAddress, EventId, MailKind, Outcome, ReplyKind, Status};
use crate::instance::Instance;
use crate::parse::Attachment;

/// A store open for writing, the database claimed.
pub(super) fn open(path: &Path) -> Store {
    Store::open(Instance::claim(path).unwrap()).unwrap()
}

pub(super) fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("db.sqlite"));
    (dir, store)
}

pub(super) fn message<'a>(sha: &'a str, raw: &'a [u8], sender: &'a EmailAddress) -> NewMessage<'a> {
    NewMessage {
        arriving: Arriving { sha256: sha, arrived_at: "2022-11-16T01:00:00Z".parse().unwrap(), raw },
        outcome: MessageOutcome {
            message_id: "m1@x.example",
            sender: Some(sender),
            subject: Some("신청"),
            outcome: Outcome::Registered,
            outcome_detail: None,
            problems: &[],
            attachments: &[],
            details: &NO_DETAILS,
            event: None,
        },
    }
}

pub(super) fn listed(uids: &[u32]) -> HashSet<u32> {
    uids.iter().copied().collect()
}

pub(super) fn synced(listed: &HashSet<u32>) -> Synced<'_> {
    Synced { listed, vanished_at_fetch: 0, known: 0, recorded: 0 }
}

pub(super) fn record(store: &mut Store, sha: &str, uid: u32, validity: u32) {
    let sender = EmailAddress::parse("kim@x.example").unwrap();
    let raw = sha.as_bytes().to_vec();
    let at = MailboxUid { mailbox: "INBOX", uidvalidity: validity, uid };
    let mut m = message(sha, &raw, &sender);
    let mid = format!("{sha}@x.example");
    m.outcome.message_id = &mid;
    store.commit_message(at, &m, &ApplicationWrite::None, Timestamp::now(), |_| Ok(None)).unwrap();
}

pub(super) fn arriving<'a>(sha: &'a str, raw: &'a [u8]) -> Arriving<'a> {
    Arriving { sha256: sha, arrived_at: "2022-11-16T01:00:00Z".parse().unwrap(), raw }
}

/// A second connection to the same database, as a second writer would have (the instance
/// lock keeps a second smebridge out; the outbox must hold even without it).
pub(super) fn second_writer(path: &Path) -> Store {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    Store { conn, _instance: None }
}

pub(super) fn queue_one_reply(store: &mut Store) -> i64 {
    let sender = EmailAddress::parse("kim@hanbit-tech.example").unwrap();
    let at = MailboxUid { mailbox: "INBOX", uidvalidity: 7, uid: 1 };
    let reply = |_| {
        Ok(Some(NewReply {
            kind: MailKind::Reply(ReplyKind::Ack),
            message_id: "r@kaist.ac.kr".into(),
            envelope_from: None,
            recipient: sender.clone(),
            raw: b"reply".to_vec(),
            event: None,
            calendar: None,
        }))
    };
    store
        .commit_message(at, &message("cc", b"raw", &sender), &ApplicationWrite::None, Timestamp::now(), reply)
        .unwrap()
        .reply
        .unwrap()
}

pub(super) fn attachment(name: &str, size: u64) -> Attachment {
    Attachment {
        name: name.into(),
        content_type: "application/pdf".into(),
        size,
        sha256: format!("{:064x}", size),
        within: None,
    }
}

pub(super) fn insert(email: &EmailAddress, name: &str, organization: &str) -> ApplicationWrite {
    ApplicationWrite::Insert {
        event: EventId::default_id(),
        email: email.clone(),
        fields: ApplicantFields {
            name: Some(name.into()),
            organization: Some(organization.into()),
            ..Default::default()
        },
        status: Status::Accepted,
        review: None,
    }
}
