//! Latency: applications sent one at a time to `smebridge run` idling on IDLE, each timed from
//! Postfix accepting it to smebridge's acknowledgement being accepted by Postfix and lying in
//! the applicant's maildir; a bare IDLE client on the same mailbox gives the floor.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use jiff::Timestamp;
use lettre::address::Envelope;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use mailstack::MailStack;
use serde_json::Value;

use crate::floor::imap_login;
use crate::mails::{message_id, sender, Corpus};
use crate::report::pct;
use crate::run::{read_log, Child, DeskDir};
use crate::{Args, CENTER};

/// The latency samples (seconds) and their parts.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub samples: usize,
    /// Postfix accepted the application → Postfix accepted the acknowledgement.
    pub accepted: Vec<f64>,
    /// Postfix accepted the application → the acknowledgement in the applicant's maildir.
    pub delivered: Vec<f64>,
    /// Parts (medians are reported): application accepted → in the center's maildir → recorded
    /// by smebridge → reply accepted → reply in the applicant's maildir.
    pub inbound: Vec<f64>,
    pub record: Vec<f64>,
    /// The bare IDLE client woken → smebridge has recorded the message.
    pub after_wake: Vec<f64>,
    pub send: Vec<f64>,
    pub outbound: Vec<f64>,
    /// Application accepted → a bare async-imap client idling on the mailbox is woken.
    pub idle_floor: Vec<f64>,
    pub daemon_peak_rss_kb: i64,
}

/// A bare IDLE client on the center's mailbox, recording when the server wakes it.
async fn idle_watcher(
    stack: &MailStack,
    stop: tokio_util::sync::CancellationToken,
) -> Result<tokio::task::JoinHandle<Result<Vec<Timestamp>>>> {
    use async_imap::extensions::idle::IdleResponse;
    let mut session = imap_login(stack).await?;
    session.select("INBOX").await?;
    Ok(tokio::spawn(async move {
        let mut wakes = Vec::new();
        loop {
            let mut idle = session.idle();
            idle.init().await?;
            let woken = {
                let (wait, _interrupt) = idle.wait_with_timeout(Duration::from_secs(600));
                tokio::select! {
                    r = wait => Some(r?),
                    _ = stop.cancelled() => None,
                }
            };
            if matches!(woken, Some(IdleResponse::NewData(_))) {
                wakes.push(Timestamp::now());
            }
            session = idle.done().await?;
            while session.unsolicited_responses.try_recv().is_ok() {}
            if woken.is_none() {
                session.logout().await.ok();
                return Ok(wakes);
            }
        }
    }))
}

pub async fn latency(args: &Args, corpus: &Corpus, stack: &MailStack, desk: &DeskDir) -> Result<Latency> {
    println!(
        "\n== latency: {} applications, one at a time, to `smebridge run` on IDLE (mailbox of {})",
        args.latency, args.n
    );
    let daemon = Child::spawn(args, desk, "run", "run")?;
    // Wait until it has logged in, synced (nothing new) and gone idle.
    let ready = Instant::now();
    loop {
        let log = read_log(&daemon.log)?;
        if log.iter().any(|e| e.message == "logged in to IMAP") {
            break;
        }
        if ready.elapsed() > Duration::from_secs(60) {
            bail!("smebridge run did not log in within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stop_watcher = tokio_util::sync::CancellationToken::new();
    let watcher = idle_watcher(stack, stop_watcher.clone()).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let hello = ClientId::Domain("applicant.example".to_owned());
    let mut sent_at: Vec<(String, String, Timestamp)> = Vec::new(); // (address, message-id, accepted)
    let mut delivered_at: Vec<Timestamp> = Vec::new();
    for i in 0..args.latency {
        let raw = corpus.application(i, "lat");
        let from = sender(&raw).context("a latency mail without a From address")?;
        let message_id = message_id(&raw).unwrap_or_default();
        let envelope = Envelope::new(Some(from.parse()?), vec![CENTER.parse()?])?;
        let tcp = tokio::net::TcpStream::connect((stack.host(), stack.smtp_port())).await?;
        tcp.set_nodelay(true)?;
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?;
        conn.send(&envelope, &raw).await.context("Postfix refused an application")?;
        let accepted = Timestamp::now();
        let _ = conn.quit().await;
        sent_at.push((from.clone(), message_id, accepted));

        let maildir = stack.maildir(&from);
        let waiting = Instant::now();
        let delivered = loop {
            if let Some(at) = first_delivery(&maildir) {
                break at;
            }
            if waiting.elapsed() > Duration::from_secs(30) {
                bail!(
                    "no acknowledgement for application {i} ({from}) within 30 s; daemon log: {}",
                    daemon.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        delivered_at.push(delivered);
    }
    daemon.terminate();
    let exited = daemon.wait(Duration::from_secs(30)).await?;
    stop_watcher.cancel();
    let wakes = watcher.await?.context("the bare IDLE client failed")?;

    // Match smebridge's log to the applications: "message recorded" carries the IMAP UID (in its
    // span; the Message-ID there is masked, as every address in the log), "reply sent" the outbox
    // id. The database knows each UID's Message-ID and each outbox id's recipient.
    let conn = rusqlite::Connection::open(desk.database())?;
    let mut stmt = conn.prepare("SELECT id, recipient FROM outbox")?;
    let recipient_of: HashMap<i64, String> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let mut stmt =
        conn.prepare("SELECT u.uid, m.message_id FROM mailbox_uids u JOIN messages m ON m.id = u.message")?;
    let message_id_of: HashMap<i64, String> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let mut reply_sent: HashMap<String, Timestamp> = HashMap::new();
    let mut recorded: HashMap<String, Timestamp> = HashMap::new();
    for e in &exited.log {
        match e.message.as_str() {
            "reply sent" => {
                if let Some(to) = e.fields.get("outbox").and_then(Value::as_i64).and_then(|id| recipient_of.get(&id)) {
                    reply_sent.entry(to.clone()).or_insert(e.at);
                }
            }
            "message recorded" => {
                if let Some(id) = e
                    .fields
                    .get("span")
                    .and_then(|s| s.get("uid"))
                    .and_then(Value::as_i64)
                    .and_then(|uid| message_id_of.get(&uid))
                {
                    recorded.entry(id.to_owned()).or_insert(e.at);
                }
            }
            _ => {}
        }
    }
    let arrived = center_arrivals(stack, &sent_at)?;

    let mut result = Latency { samples: args.latency, daemon_peak_rss_kb: exited.peak_rss_kb, ..Latency::default() };
    let secs = |a: Timestamp, b: Timestamp| b.duration_since(a).as_secs_f64();
    for (k, ((from, id, accepted), delivered)) in sent_at.iter().zip(&delivered_at).enumerate() {
        let next = sent_at.get(k + 1).map(|s| s.2);
        if let Some(wake) = wakes.iter().find(|&&w| w >= *accepted && next.is_none_or(|n| w < n)) {
            result.idle_floor.push(secs(*accepted, *wake));
            if let Some(&rec) = recorded.get(id) {
                result.after_wake.push(secs(*wake, rec));
            }
        }
        let sent = *reply_sent
            .get(&from.to_lowercase())
            .or_else(|| reply_sent.get(from))
            .with_context(|| format!("no `reply sent` logged for {from}"))?;
        result.accepted.push(secs(*accepted, sent));
        result.delivered.push(secs(*accepted, *delivered));
        result.send.push(secs(recorded.get(id).copied().unwrap_or(sent), sent));
        result.outbound.push(secs(sent, *delivered));
        if let Some(&arrival) = arrived.get(id) {
            result.inbound.push(secs(*accepted, arrival));
            if let Some(&rec) = recorded.get(id) {
                result.record.push(secs(arrival, rec));
            }
        }
    }
    println!(
        "  application accepted → acknowledgement accepted by Postfix: p50 {:.3} s, p95 {:.3} s, max {:.3} s",
        pct(&result.accepted, 0.5),
        pct(&result.accepted, 0.95),
        pct(&result.accepted, 1.0)
    );
    println!(
        "  application accepted → acknowledgement in the applicant's maildir: p50 {:.3} s, p95 {:.3} s, max {:.3} s",
        pct(&result.delivered, 0.5),
        pct(&result.delivered, 0.95),
        pct(&result.delivered, 1.0)
    );
    println!(
        "  floor: a bare IDLE client is woken after p50 {:.3} s, p95 {:.3} s, max {:.3} s ({} of {} woken)",
        pct(&result.idle_floor, 0.5),
        pct(&result.idle_floor, 0.95),
        pct(&result.idle_floor, 1.0),
        result.idle_floor.len(),
        result.samples
    );
    println!(
        "  medians: inbound delivery {:.3} s, IDLE wake-up + fetch + record {:.3} s (of which after the bare client woke {:.3} s), send {:.3} s, outbound delivery {:.3} s",
        pct(&result.inbound, 0.5),
        pct(&result.record, 0.5),
        pct(&result.after_wake, 0.5),
        pct(&result.send, 0.5),
        pct(&result.outbound, 0.5)
    );
    Ok(result)
}

/// When the first message landed in a maildir: the time Dovecot put in its file name
/// (`<seconds>.M<microseconds>P<pid>…`), or now if the name does not say.
fn first_delivery(maildir: &Path) -> Option<Timestamp> {
    let mut first: Option<Timestamp> = None;
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let at = delivery_time(&name).unwrap_or_else(Timestamp::now);
            first = Some(first.map_or(at, |f| f.min(at)));
        }
    }
    first
}

fn delivery_time(name: &str) -> Option<Timestamp> {
    let (secs, rest) = name.split_once('.')?;
    let micros = rest.strip_prefix('M')?.split('P').next()?;
    Timestamp::new(secs.parse().ok()?, micros.parse::<i32>().ok()? * 1000).ok()
}

/// When each latency application landed in the center's maildir, by Message-ID.
fn center_arrivals(stack: &MailStack, sent: &[(String, String, Timestamp)]) -> Result<HashMap<String, Timestamp>> {
    let since =
        sent.first().map(|s| s.2).unwrap_or_else(Timestamp::now).checked_sub(jiff::SignedDuration::from_secs(5))?;
    let wanted: std::collections::HashSet<&str> = sent.iter().map(|s| s.1.as_str()).collect();
    let maildir = stack.maildir(CENTER);
    let mut found = HashMap::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(at) = delivery_time(&name) else { continue };
            if at < since {
                continue;
            }
            let raw = std::fs::read(entry.path()).unwrap_or_default();
            if let Some(id) = message_id(&raw) {
                if wanted.contains(id.as_str()) {
                    found.insert(id, at);
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delivery_time_is_read_from_dovecots_file_name() {
        let at = delivery_time("1668560400.M123456P4242.mailstack.test,S=1234,W=1260:2,").unwrap();
        assert_eq!(at, Timestamp::new(1_668_560_400, 123_456_000).unwrap());
        assert_eq!(delivery_time("msg.1234"), None);
    }
}
