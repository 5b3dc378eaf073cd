//! The floor: what the servers need for the same work without smebridge — fetching every
//! message over one IMAP connection, and handing the acknowledgements to Postfix.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::{StreamExt, TryStreamExt};
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mailstack::MailStack;

use crate::backlog::Backlog;
use crate::report::mb;
use crate::{CENTER, SMTP_POOL};

/// Fetch every message's bytes over one connection, in batches of smebridge's size; returns
/// the bytes received.
pub async fn fetch(stack: &MailStack, n: usize) -> Result<u64> {
    let mut session = imap_login(stack).await?;
    let mailbox = session.examine("INBOX").await?;
    if mailbox.exists as usize != n {
        bail!("the mailbox holds {} messages, expected {n}", mailbox.exists);
    }
    let batch = smebridge::imap::FETCH_BATCH as u32;
    let (mut bytes, mut count) = (0u64, 0usize);
    let mut first = 1u32;
    // The seeded mailbox is fresh: its UIDs are 1..=n.
    while first as usize <= n {
        let last = (first + batch - 1).min(n as u32);
        let mut stream = session.uid_fetch(format!("{first}:{last}"), "(UID BODY.PEEK[])").await?;
        while let Some(fetch) = stream.try_next().await? {
            if let Some(body) = fetch.body() {
                bytes += body.len() as u64;
                count += 1;
            }
        }
        drop(stream);
        first = last + 1;
    }
    session.logout().await.ok();
    if count != n {
        bail!("fetched {count} messages, expected {n}");
    }
    Ok(bytes)
}

/// Hand `acks` (recipient, bytes) to Postfix again: through lettre's pooled transport, one at a
/// time on one `TCP_NODELAY` connection, [`SMTP_POOL`] such connections at once (the floor,
/// `floor_send_s`), and with `sequential` one at a time through lettre's pool. Postfix's queue
/// is let empty between the runs.
pub async fn send(stack: &MailStack, acks: &[(String, Vec<u8>)], sequential: bool, result: &mut Backlog) -> Result<()> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(stack.host())
        .port(stack.smtp_port())
        .timeout(Some(Duration::from_secs(30)))
        .pool_config(PoolConfig::new().max_size(SMTP_POOL).idle_timeout(Duration::from_secs(30)))
        .build();
    let envelopes: Vec<Envelope> =
        acks.iter().map(|(to, _)| Ok(Envelope::new(None, vec![to.parse::<Address>()?])?)).collect::<Result<_>>()?;
    let t = Instant::now();
    futures::stream::iter(envelopes.iter().zip(acks))
        .map(|(envelope, (_, raw))| transport.send_raw(envelope, raw))
        .buffer_unordered(SMTP_POOL as usize)
        .try_collect::<Vec<_>>()
        .await
        .context("floor send")?;
    result.floor_send_lettre_pool_s = t.elapsed().as_secs_f64();
    println!(
        "  for reference, lettre's pooled transport (no TCP_NODELAY): {} acknowledgements ({:.1} MB) to Postfix, {SMTP_POOL} in flight, in {:.2} s",
        acks.len(),
        mb(result.ack_bytes),
        result.floor_send_lettre_pool_s
    );
    stack.wait_for_queue_empty(Duration::from_secs(300))?;
    let hello = ClientId::Domain("bench.example".to_owned());
    let tcp = tokio::net::TcpStream::connect((stack.host(), stack.smtp_port())).await?;
    tcp.set_nodelay(true)?;
    let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?;
    let t = Instant::now();
    for (envelope, (_, raw)) in envelopes.iter().zip(acks) {
        conn.send(envelope, raw).await.context("floor send with TCP_NODELAY")?;
    }
    result.floor_send_nodelay_s = t.elapsed().as_secs_f64();
    let _ = conn.quit().await;
    println!("  for reference, one at a time on one connection with TCP_NODELAY: {:.2} s", result.floor_send_nodelay_s);
    stack.wait_for_queue_empty(Duration::from_secs(300))?;
    // And what the floor would be if lettre set TCP_NODELAY: 4 such connections at once.
    let mut conns = Vec::new();
    for _ in 0..SMTP_POOL {
        let tcp = tokio::net::TcpStream::connect((stack.host(), stack.smtp_port())).await?;
        tcp.set_nodelay(true)?;
        conns.push(AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?);
    }
    let jobs: Vec<(&Envelope, &[u8])> = envelopes.iter().zip(acks).map(|(e, (_, raw))| (e, raw.as_slice())).collect();
    let per = jobs.len().div_ceil(conns.len()).max(1);
    let t = Instant::now();
    futures::future::try_join_all(conns.iter_mut().zip(jobs.chunks(per)).map(|(conn, chunk)| async move {
        for (envelope, raw) in chunk {
            conn.send(envelope, raw).await?;
        }
        anyhow::Ok(())
    }))
    .await
    .context("floor send with TCP_NODELAY, 4 connections")?;
    result.floor_send_s = t.elapsed().as_secs_f64();
    for mut conn in conns {
        let _ = conn.quit().await;
    }
    println!(
        "  floor, send: {SMTP_POOL} connections with TCP_NODELAY at once (smebridge's pool): {:.2} s",
        result.floor_send_s
    );
    stack.wait_for_queue_empty(Duration::from_secs(300))?;
    if sequential {
        let t = Instant::now();
        for (envelope, (_, raw)) in envelopes.iter().zip(acks) {
            transport.send_raw(envelope, raw).await.context("sequential floor send")?;
        }
        let s = t.elapsed().as_secs_f64();
        result.floor_send_sequential_s = Some(s);
        println!(
            "  for reference, one at a time through the pool (as smebridge sent before it had its own pool): {s:.2} s"
        );
        stack.wait_for_queue_empty(Duration::from_secs(300))?;
    }
    drop(transport);
    Ok(())
}

/// Log in to the center's mailbox over plain TCP with `TCP_NODELAY`, as smebridge does (async-imap
/// writes a command in several pieces; with Nagle on, the last piece waits for the server's
/// delayed ACK).
pub async fn imap_login(stack: &MailStack) -> Result<async_imap::Session<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect((stack.host(), stack.imap_port())).await?;
    tcp.set_nodelay(true)?;
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await?.context("no IMAP greeting")?;
    client.login(CENTER, mailstack::PASSWORD).await.map_err(|(e, _)| e).context("IMAP LOGIN")
}
