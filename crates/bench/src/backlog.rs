//! One backlog of N: a fresh mail stack seeded with N mails, the floor of fetching them,
//! `smebridge once` until all are recorded and answered, and the floor of sending its
//! acknowledgements.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use jiff::Timestamp;
use mailstack::MailStack;

use crate::mails::Corpus;
use crate::report::mb;
use crate::run::{db_state, outbox_messages, run_once, write_config, DeskDir};
use crate::{floor, Args, CENTER, INTERNALDATE};

#[derive(Clone, Debug, Default)]
pub struct Backlog {
    pub n: usize,
    pub bytes: u64,
    pub shapes: Vec<(String, usize)>,
    pub largest: usize,
    pub seed_s: f64,
    pub floor_fetch_s: f64,
    pub floor_send_s: f64,
    pub floor_send_sequential_s: Option<f64>,
    pub floor_send_nodelay_s: f64,
    /// lettre's own pooled transport, 4 in flight: no `TCP_NODELAY`, so ~40 ms per message.
    pub floor_send_lettre_pool_s: f64,
    pub smebridge_cpu_s: f64,
    pub acks: usize,
    pub ack_bytes: u64,
    pub smebridge_s: f64,
    pub passes: usize,
    pub peak_rss_kb: i64,
    /// From smebridge's log: spawn → logged in, logged in → mailbox synced, synced → exit.
    pub startup_s: Option<f64>,
    pub record_s: Option<f64>,
    pub send_s: Option<f64>,
}

impl Backlog {
    /// smebridge sends the replies of each recorded batch while it reads the next, so its floor
    /// is the larger of the two paths, not their sum.
    pub fn floor_s(&self) -> f64 {
        self.floor_fetch_s.max(self.floor_send_s)
    }
    pub fn ratio(&self) -> f64 {
        self.smebridge_s / self.floor_s()
    }
    pub fn per_message_ms(&self) -> f64 {
        self.smebridge_s * 1000.0 / self.n as f64
    }
}

pub async fn backlog(args: &Args, corpus: &Corpus, n: usize) -> Result<(Backlog, MailStack, DeskDir)> {
    println!("\n== backlog of {n}");
    let stack = match &args.keep {
        Some(dir) => MailStack::start_in(&dir.join(format!("n{n}")))?,
        None => MailStack::start()?,
    };
    let desk = write_config(&stack, args.bcc_self)?;
    let mut result = Backlog { n, ..Backlog::default() };

    // 1. Seed: APPEND with several messages per command (MULTIAPPEND, RFC 3502) and
    //    non-synchronizing literals (LITERAL+, RFC 7888), so Dovecot saves each batch in one
    //    transaction (one APPEND per message costs ~12 ms of Dovecot's fsyncs here).
    let t = Instant::now();
    let mut seeder = Seeder::connect(&stack).await?;
    let mut shapes: HashMap<&'static str, usize> = HashMap::new();
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut batch_bytes = 0;
    for i in 0..n {
        let mail = corpus.mail(i, n, "b");
        result.bytes += mail.raw.len() as u64;
        result.largest = result.largest.max(mail.raw.len());
        *shapes.entry(mail.shape).or_default() += 1;
        batch_bytes += mail.raw.len();
        batch.push(mail.raw);
        if batch.len() >= 250 || batch_bytes >= 16 << 20 || i + 1 == n {
            seeder.append(&batch).await.with_context(|| format!("APPEND of mails up to {i}"))?;
            batch.clear();
            batch_bytes = 0;
        }
        if (i + 1) % 5000 == 0 {
            println!("  seeded {}/{n}", i + 1);
        }
    }
    seeder.logout().await;
    result.seed_s = t.elapsed().as_secs_f64();
    result.shapes = shapes.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    result.shapes.sort();
    println!(
        "  seeded {n} mails, {:.1} MB (largest {:.1} MB) by APPEND in {:.1} s",
        mb(result.bytes),
        mb(result.largest as u64),
        result.seed_s
    );

    // 2. Floor, fetch: once to warm Dovecot's index and the page cache (smebridge profits from
    //    that just the same), then timed.
    floor::fetch(&stack, n).await?;
    let t = Instant::now();
    let bytes = floor::fetch(&stack, n).await?;
    result.floor_fetch_s = t.elapsed().as_secs_f64();
    println!(
        "  floor, fetch: {n} messages, {:.1} MB over one IMAP connection in {:.2} s",
        mb(bytes),
        result.floor_fetch_s
    );

    // 3. smebridge once, until everything is recorded and sent.
    let limit = Duration::from_secs(120 + n as u64 / 10);
    let mut passes = 0;
    let mut total = Duration::ZERO;
    loop {
        passes += 1;
        let run = run_once(args, &desk, limit).await?;
        total += run.elapsed;
        result.peak_rss_kb = result.peak_rss_kb.max(run.peak_rss_kb);
        result.smebridge_cpu_s += run.cpu.as_secs_f64();
        if passes == 1 {
            let at = |m: &str| run.log.iter().find(|e| e.message == m).map(|e| e.at);
            let login = at("logged in to IMAP");
            let synced = at("mailbox synced");
            let secs = |a: Timestamp, b: Timestamp| b.duration_since(a).as_secs_f64();
            result.startup_s = login.map(|l| secs(run.spawned, l));
            result.record_s = login.zip(synced).map(|(l, s)| secs(l, s));
            result.send_s = synced.map(|s| secs(s, run.exited));
        }
        let (recorded, states) = db_state(&desk.database())?;
        let unsent: i64 = states.iter().filter(|(s, _)| s != "sent").map(|(_, c)| c).sum();
        println!(
            "  smebridge once (pass {passes}): {:.2} s, {}; db: {recorded} messages, outbox {states:?}",
            run.elapsed.as_secs_f64(),
            run.stdout.trim()
        );
        if recorded as usize >= n && unsent == 0 {
            break;
        }
        if passes >= 3 {
            bail!("after {passes} passes of smebridge once: {recorded} of {n} recorded, outbox {states:?}");
        }
    }
    result.smebridge_s = total.as_secs_f64();
    result.passes = passes;

    // 4. Floor, send: the acknowledgements smebridge wrote, handed to Postfix again.
    stack.wait_for_queue_empty(Duration::from_secs(300)).context("Postfix did not deliver smebridge's replies")?;
    let acks = outbox_messages(&desk.database())?;
    result.acks = acks.len();
    result.ack_bytes = acks.iter().map(|(_, raw)| raw.len() as u64).sum();
    floor::send(&stack, &acks, args.sequential_floor, &mut result).await?;
    println!(
        "  smebridge: {:.2} s = {:.2} ms/message, {:.0} messages/s, {:.2} × the floor ({:.2} s), peak RSS {:.1} MB",
        result.smebridge_s,
        result.per_message_ms(),
        n as f64 / result.smebridge_s,
        result.ratio(),
        result.floor_s(),
        result.peak_rss_kb as f64 / 1024.0
    );
    Ok((result, stack, desk))
}

/// A raw IMAP connection for seeding the center's mailbox: async-imap has no MULTIAPPEND.
struct Seeder {
    reader: tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    tag: u32,
}

impl Seeder {
    async fn connect(stack: &MailStack) -> Result<Seeder> {
        let tcp = tokio::net::TcpStream::connect((stack.host(), stack.imap_port())).await?;
        tcp.set_nodelay(true)?;
        let (read, writer) = tcp.into_split();
        let mut seeder = Seeder { reader: tokio::io::BufReader::new(read), writer, tag: 0 };
        seeder.line().await?; // greeting
        seeder.command(format!("LOGIN \"{CENTER}\" \"{}\"\r\n", mailstack::PASSWORD).as_bytes()).await?;
        Ok(seeder)
    }

    /// `APPEND INBOX date {n+} … date {n+} …`: every message in one command, arrival time
    /// [`INTERNALDATE`].
    async fn append(&mut self, mails: &[Vec<u8>]) -> Result<()> {
        let mut command = b"APPEND INBOX".to_vec();
        for raw in mails {
            command.extend_from_slice(format!(" {INTERNALDATE} {{{}+}}\r\n", raw.len()).as_bytes());
            command.extend_from_slice(raw);
        }
        command.extend_from_slice(b"\r\n");
        self.command(&command).await
    }

    /// Send a tagged command, read up to its tagged answer, which must be OK.
    async fn command(&mut self, command: &[u8]) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        self.tag += 1;
        let tag = format!("s{}", self.tag);
        self.writer.write_all(format!("{tag} ").as_bytes()).await?;
        self.writer.write_all(command).await?;
        loop {
            let line = self.line().await?;
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                if rest.starts_with("OK") {
                    return Ok(());
                }
                bail!("IMAP server answered: {}", line.trim_end());
            }
        }
    }

    async fn line(&mut self) -> Result<String> {
        use tokio::io::AsyncBufReadExt;
        let mut line = String::new();
        if tokio::time::timeout(Duration::from_secs(120), self.reader.read_line(&mut line)).await?? == 0 {
            bail!("the IMAP server closed the connection");
        }
        Ok(line)
    }

    async fn logout(mut self) {
        let _ = self.command(b"LOGOUT\r\n").await;
    }
}
