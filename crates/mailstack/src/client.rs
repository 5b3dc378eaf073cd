//! Async (tokio) client helpers for talking to a [`MailStack`](crate::MailStack)
//! the way a mail client would: SMTP submission without TLS, IMAP over plain
//! TCP with the fixed [`PASSWORD`].

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use async_imap::Session;
use futures::TryStreamExt;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

use crate::PASSWORD;

/// Timeout for connecting and for each network round trip.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One message as fetched over IMAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMail {
    /// The message's IMAP UID in its mailbox.
    pub uid: u32,
    /// The full message (`BODY[]`), byte for byte.
    pub raw: Vec<u8>,
    /// The INTERNALDATE in IMAP syntax, e.g. `"17-Nov-2022 14:58:59 +0000"`.
    /// Dovecot's Maildir stores it as a file mtime, so the instant is kept
    /// but the zone offset always comes back as `+0000`.
    pub internaldate: Option<String>,
}

/// `raw` with every bare LF made CRLF, as mail travels over SMTP and IMAP (existing CRLFs kept).
pub fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Submits `raw` (a complete RFC 5322 message) over plain SMTP, with the
/// envelope sender `from` (empty for the null sender `<>`) and recipients
/// `to`. Fails if the server refuses the connection or any command.
pub async fn send_raw(host: &str, port: u16, from: &str, to: &[&str], raw: &[u8]) -> Result<()> {
    let from = if from.is_empty() {
        None
    } else {
        Some(from.parse::<Address>().with_context(|| format!("bad sender address {from:?}"))?)
    };
    let to = to
        .iter()
        .map(|t| t.parse::<Address>().with_context(|| format!("bad recipient address {t:?}")))
        .collect::<Result<Vec<_>>>()?;
    let envelope = Envelope::new(from, to).context("building SMTP envelope")?;

    let hello = ClientId::Domain("mailstack.client".to_string());
    let mut conn = AsyncSmtpConnection::connect_tokio1((host, port), Some(IO_TIMEOUT), &hello, None, None)
        .await
        .with_context(|| format!("connecting to SMTP {host}:{port}"))?;
    let sent = conn.send(&envelope, raw).await;
    // Always say goodbye, even after a rejected command.
    let _ = conn.quit().await;
    sent.with_context(|| format!("sending via SMTP {host}:{port}"))?;
    Ok(())
}

/// Logs in as `user` with [`PASSWORD`] over plain TCP.
pub async fn login(host: &str, port: u16, user: &str) -> Result<Session<TcpStream>> {
    let tcp = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| anyhow!("timed out connecting to IMAP {host}:{port}"))?
        .with_context(|| format!("connecting to IMAP {host}:{port}"))?;
    let mut client = async_imap::Client::new(tcp);
    // async-imap 0.11 does not consume the server greeting itself.
    let greeting = tokio::time::timeout(IO_TIMEOUT, client.read_response())
        .await
        .map_err(|_| anyhow!("timed out waiting for the IMAP greeting from {host}:{port}"))?
        .context("reading IMAP greeting")?;
    if greeting.is_none() {
        bail!("IMAP server {host}:{port} closed the connection before greeting");
    }
    client.login(user, PASSWORD).await.map_err(|(e, _)| anyhow!(e)).with_context(|| format!("IMAP LOGIN as {user}"))
}

/// IMAP `APPEND`s `raw` to `mailbox` of `user` (creating the mailbox if it
/// does not exist), optionally with an INTERNALDATE (arrival time) such as
/// `"17-Nov-2022 23:58:59 +0900"` (the surrounding quotes are optional).
pub async fn append(
    host: &str,
    port: u16,
    user: &str,
    mailbox: &str,
    raw: &[u8],
    internaldate: Option<&str>,
) -> Result<()> {
    let mut session = login(host, port, user).await?;
    if !mailbox.eq_ignore_ascii_case("INBOX") {
        // Fails harmlessly with [ALREADYEXISTS] if it is already there.
        let _ = session.create(mailbox).await;
    }
    let date = internaldate.map(|d| {
        let d = d.trim();
        if d.starts_with('"') {
            d.to_string()
        } else {
            format!("\"{d}\"")
        }
    });
    let res = session
        .append(mailbox, None, date.as_deref(), raw)
        .await
        .with_context(|| format!("IMAP APPEND to {user}/{mailbox}"));
    let _ = session.logout().await;
    res
}

/// Fetches every message in `mailbox` of `user` (`UID`, `INTERNALDATE`,
/// `BODY.PEEK[]`, so no `\Seen` flags are set), ordered by UID.
pub async fn fetch_all(host: &str, port: u16, user: &str, mailbox: &str) -> Result<Vec<FetchedMail>> {
    let mut session = login(host, port, user).await?;
    let res = fetch_all_in(&mut session, mailbox).await;
    let _ = session.logout().await;
    res.with_context(|| format!("fetching {user}/{mailbox}"))
}

async fn fetch_all_in(session: &mut Session<TcpStream>, mailbox: &str) -> Result<Vec<FetchedMail>> {
    let mb = session.examine(mailbox).await?;
    if mb.exists == 0 {
        return Ok(Vec::new());
    }
    let fetches: Vec<_> = session.uid_fetch("1:*", "(UID INTERNALDATE BODY.PEEK[])").await?.try_collect().await?;
    let mut out = Vec::with_capacity(fetches.len());
    for f in &fetches {
        let Some(uid) = f.uid else { continue };
        out.push(FetchedMail {
            uid,
            raw: f.body().unwrap_or_default().to_vec(),
            internaldate: f.internal_date().map(|d| d.format("%d-%b-%Y %H:%M:%S %z").to_string()),
        });
    }
    out.sort_by_key(|m| m.uid);
    Ok(out)
}

/// Polls `user`'s INBOX until it holds at least `count` messages and returns
/// them all; fails after `timeout` (reporting how many were there).
pub async fn wait_for_mail(
    host: &str,
    port: u16,
    user: &str,
    count: usize,
    timeout: Duration,
) -> Result<Vec<FetchedMail>> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = fetch_all(host, port, user, "INBOX").await;
        if let Ok(mails) = &last {
            if mails.len() >= count {
                return last;
            }
        }
        if Instant::now() >= deadline {
            return match last {
                Ok(mails) => Err(anyhow!(
                    "timed out after {timeout:?}: {user}'s INBOX has {} message(s), expected {count}",
                    mails.len()
                )),
                Err(e) => Err(e.context(format!("timed out after {timeout:?} waiting for mail for {user}"))),
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
