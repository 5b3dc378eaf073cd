//! The benchmark behind `scripts/bench` (issue #7): smebridge against the floor, on the real
//! Dovecot + Postfix the tests use (`crates/mailstack`), loopback only.
//!
//! For each backlog size N (the main one, `--n`, plus the `--scale` sizes):
//!
//! 1. a fresh mail stack; the center's mailbox is seeded with N application mails by IMAP APPEND
//!    (the sample mails of `examples/demo-mail/` and `tests/fixtures/` with a distinct sender each,
//!    plus Gmail-style multipart mails, some with a photo attached and a few with multi-MB PDFs);
//! 2. **floor, fetch**: every message's bytes over one IMAP connection (`UID FETCH a:b
//!    (BODY.PEEK[])` in batches of smebridge's batch size; no parsing, no database);
//! 3. **smebridge**: `smebridge once` (the release binary) from a fresh database, repeated until
//!    every message is recorded and the outbox is all `sent`; wall time and peak RSS (wait4);
//! 4. **floor, send**: the very acknowledgements smebridge wrote (read from its outbox) handed to
//!    Postfix again over 4 connections with `TCP_NODELAY` at once (smebridge's pool size, see
//!    src/smtp.rs). For reference, once more with lettre's pooled `AsyncSmtpTransport` (4 in
//!    flight, no `TCP_NODELAY`: what smebridge used before), one after the other on one
//!    `TCP_NODELAY` connection, and with `--sequential-floor` one after the other through
//!    lettre's pool.
//!
//! smebridge sends the acknowledgements of each recorded batch while it fetches and records the
//! next (src/outbox.rs `Sender`), so its floor is the larger of fetch and send, not their sum.
//!
//! Then, on the main stack (the backlog recorded): **latency** with `smebridge run` idle on IDLE:
//! applications sent one at a time over SMTP; for each, the time from Postfix accepting it to
//! smebridge's acknowledgement being accepted by Postfix (smebridge's `reply sent` log line, which
//! it writes when Postfix has said 250 to the data), and to that acknowledgement lying in the
//! applicant's maildir (the file name Dovecot gives it carries the delivery time in microseconds).
//! A bare async-imap client idles on the same mailbox meanwhile: when it is woken is the floor of
//! any IDLE-driven reply.
//!
//! Prints one table and writes it as JSON (`--json`). Every IMAP and SMTP connection the benchmark
//! makes itself sets `TCP_NODELAY`, as smebridge's IMAP connection does.
//!
//! Usage: bench --smebridge PATH [--n 5000] [--scale 1000,5000] [--latency 50] [--json FILE]
//!              [--bcc-self] [--sequential-floor] [--keep DIR] [--wrap 'PROFILER ARGS']
//!
//! `BENCH_LOG_DIR=DIR` keeps smebridge's JSON logs (`once.log`, `run.log`) in DIR, and
//! `BENCH_RUST_LOG=smebridge=debug` raises their level, for finding where time goes.
//!
//! `--wrap` runs every `smebridge once` under a profiler (`--wrap 'strace -f -c -o FILE'`); its
//! times and RSS are then the wrapper's, not a measurement.

use mailstack::client::crlf;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mailstack::MailStack;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const CENTER: &str = "smebridge@kaist.ac.kr";
/// The pool size smebridge's own transport uses (src/smtp.rs).
const SMTP_POOL: u32 = 4;
/// Arrival time of the seeded backlog: before the deadline.
const INTERNALDATE: &str = "\"16-Nov-2022 10:00:00 +0900\"";

struct Args {
    smebridge: PathBuf,
    n: usize,
    scale: Vec<usize>,
    latency: usize,
    json: PathBuf,
    bcc_self: bool,
    sequential_floor: bool,
    keep: Option<PathBuf>,
    /// A command line put before `smebridge once` (profiling), e.g. `strace -f -c -o FILE`.
    wrap: Vec<String>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        smebridge: PathBuf::new(),
        n: 5000,
        scale: vec![1000],
        latency: 50,
        json: PathBuf::from("bench-results.json"),
        bcc_self: false,
        sequential_floor: false,
        keep: None,
        wrap: Vec::new(),
    };
    let mut smebridge = None;
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, what: &str| -> Result<usize> {
        let v = v.with_context(|| format!("{what} needs a number"))?;
        v.replace('_', "").parse().with_context(|| format!("{what}: {v:?} is not a number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--smebridge" => smebridge = it.next().map(PathBuf::from),
            "--n" => a.n = number(it.next(), "--n")?,
            "--scale" => {
                let list = it.next().context("--scale needs a list, e.g. 1000,5000,20000")?;
                a.scale = list
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| number(Some(s.trim().to_owned()), "--scale"))
                    .collect::<Result<_>>()?;
            }
            "--latency" => a.latency = number(it.next(), "--latency")?,
            "--json" => a.json = it.next().map(PathBuf::from).context("--json needs a file")?,
            "--bcc-self" => a.bcc_self = true,
            "--sequential-floor" => a.sequential_floor = true,
            "--keep" => a.keep = Some(it.next().map(PathBuf::from).context("--keep needs a directory")?),
            "--wrap" => {
                a.wrap =
                    it.next().context("--wrap needs a command line")?.split_whitespace().map(str::to_owned).collect()
            }
            "-h" | "--help" => {
                println!("bench --smebridge PATH [--n 5000] [--scale 1000,5000,20000] [--latency 50] [--json FILE] [--bcc-self] [--sequential-floor] [--keep DIR] [--wrap 'strace -f -c -o FILE']");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    a.smebridge =
        smebridge.context("--smebridge PATH is required")?.canonicalize().context("--smebridge: no such file")?;
    if a.n == 0 {
        bail!("--n must be at least 1");
    }
    Ok(a)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = args()?;
    let started = Instant::now();
    let corpus = Corpus::load()?;
    let machine = machine();
    println!(
        "smebridge benchmark: N = {}, scaling {:?}, {} latency samples; {} cores ({}); smebridge {}",
        args.n,
        args.scale,
        args.latency,
        machine["cores"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["commit"].as_str().unwrap_or("?")
    );

    // The main backlog, whose stack the latency run then reuses.
    let (main, stack, desk) = backlog(&args, &corpus, args.n).await?;
    let latency = if args.latency > 0 { Some(latency(&args, &corpus, &stack, &desk).await?) } else { None };
    drop(stack);
    drop(desk);

    let mut scaling = vec![main.clone()];
    let mut sizes: Vec<usize> = args.scale.iter().copied().filter(|&n| n != args.n).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for n in sizes {
        let (result, stack, desk) = backlog(&args, &corpus, n).await?;
        drop(stack);
        drop(desk);
        scaling.push(result);
    }
    scaling.sort_by_key(|r| r.n);

    let total = started.elapsed();
    let command = std::env::var("BENCH_COMMAND").unwrap_or_else(|_| std::env::args().collect::<Vec<_>>().join(" "));
    let report = Report { machine, command, args: &args, main, latency, scaling, total };
    let table = report.table();
    println!("\n{table}");
    let json = report.json();
    std::fs::write(&args.json, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("cannot write {}", args.json.display()))?;
    println!("written: {}", args.json.display());
    Ok(())
}

// --- the mails ----------------------------------------------------------------------------------

/// The shapes the seeded mails are made from.
struct Corpus {
    /// Sample mails as files: (name, LF text bytes).
    files: Vec<(String, Vec<u8>)>,
}

/// One generated mail.
struct Mail {
    raw: Vec<u8>,
    shape: &'static str,
}

impl Corpus {
    fn load() -> Result<Corpus> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<PathBuf> = ["examples/demo-mail", "tests/fixtures"]
            .iter()
            .filter_map(|dir| std::fs::read_dir(root.join(dir)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        let files = paths
            .iter()
            .map(|p| {
                let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                Ok((name, std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?))
            })
            .collect::<Result<Vec<_>>>()?;
        if files.is_empty() {
            bail!("no sample mails in examples/demo-mail or tests/fixtures");
        }
        Ok(Corpus { files })
    }

    /// Mail number `i` of a backlog of `n`, from applicant address variant `tag`: 10 % the
    /// sample mails (every shape of the parsing corpus; they repeat their applicants' names and
    /// organizations, so beyond the first round smebridge takes them as the same applicants
    /// writing again), 10 % Gmail-style multipart/alternative, 5 % with a photo attached
    /// (60–300 kB), max(3, n / 1000) with a 2–5 MB PDF, spread evenly, and the rest Outlook-style
    /// plain text in `ks_c_5601-1987` — every synthetic mail a distinct applicant.
    fn mail(&self, i: usize, n: usize, tag: &str) -> Mail {
        let big = (n / 1000).max(3).min(n);
        let slot = big_slot(i, n, big);
        let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64 ^ 0x5eed);
        let (shape, raw): (&'static str, Vec<u8>) = if let Some(k) = slot {
            let mb = [2usize, 3, 5][k % 3];
            (
                "pdf-attachment",
                synthetic(i, tag, Some(("application/pdf", "business-registration.pdf", mb << 20)), &mut rng),
            )
        } else if i % 20 == 7 {
            let size = rng.gen_range(60_000..300_000);
            ("photo-attachment", synthetic(i, tag, Some(("image/jpeg", "namecard.jpg", size)), &mut rng))
        } else if i % 10 == 3 {
            ("gmail-alternative", synthetic(i, tag, None, &mut rng))
        } else if !i.is_multiple_of(10) {
            ("outlook-ks_c_5601", outlook(i, tag))
        } else {
            let (name, text) = &self.files[(i / 10) % self.files.len()];
            (leak(name), personalize(text, i, tag))
        };
        Mail { raw: crlf(&raw), shape }
    }

    /// A mail for the latency run: an on-time application from a fresh applicant (no automatic
    /// mail, no large attachment). Synthetic (a Gmail-style multipart mail) because samples made
    /// from the fixtures keep their names and organizations, and after the backlog (which holds
    /// the same samples) smebridge rightly takes them as repeats and does not acknowledge again.
    fn application(&self, i: usize, tag: &str) -> Vec<u8> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
        crlf(&synthetic(i, tag, None, &mut rng))
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Which of the `big` evenly spread slots `i` is, if any.
fn big_slot(i: usize, n: usize, big: usize) -> Option<usize> {
    (0..big).find(|&k| (2 * k + 1) * n / (2 * big) == i)
}

/// A sample mail made into applicant `i`'s own: every address in From, Reply-To, Sender and
/// Return-Path gets `.{tag}{i}` before its `@`, and the Message-ID is made unique.
fn personalize(raw: &[u8], i: usize, tag: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut out = String::with_capacity(raw.len() + 64);
    // Distinct bytes for every applicant, even for a sample with no Message-ID or From address
    // to rewrite (smebridge rightly records identical bytes only once).
    let _ = writeln!(out, "X-Bench-Seq: {tag}{i}");
    let mut current = String::new();
    for line in head.lines() {
        if !line.starts_with([' ', '\t']) {
            current = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        }
        match current.as_str() {
            "message-id" if !line.starts_with([' ', '\t']) => {
                let _ = writeln!(out, "Message-ID: <bench-{tag}{i}@bench.example>");
            }
            "message-id" => {}
            "from" | "reply-to" | "sender" | "return-path" => {
                out.push_str(&tag_addresses(line, &format!(".{tag}{i}")));
                out.push('\n');
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out.push_str(body);
    out.into_bytes()
}

/// Insert `suffix` before the `@` of every address in a header line.
fn tag_addresses(line: &str, suffix: &str) -> String {
    let bytes = line.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let mut out = String::with_capacity(line.len() + suffix.len());
    let mut last = 0;
    for (at, _) in line.match_indices('@') {
        let mut start = at;
        while start > 0 && local(bytes[start - 1]) {
            start -= 1;
        }
        if start < at && bytes.get(at + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
            out.push_str(&line[last..at]);
            out.push_str(suffix);
            last = at;
        }
    }
    out.push_str(&line[last..]);
    out
}

const NAMES: [(&str, &str, &str, &str); 8] = [
    ("김서준", "(주)한울정밀", "책임연구원", "kim.seojun"),
    ("이하은", "다온바이오", "대표이사", "lee.haeun"),
    ("박도윤", "새솔소프트", "선임연구원", "park.doyun"),
    ("최지우", "누리로보틱스", "과장", "choi.jiwoo"),
    ("정민서", "가람화학", "연구소장", "jung.minseo"),
    ("강예준", "미리내전자", "팀장", "kang.yejun"),
    ("조수아", "한빛소재", "부장", "cho.sua"),
    ("윤시우", "온누리테크", "주임연구원", "yoon.siwoo"),
];

/// A Gmail-style application: multipart/alternative (text and HTML, base64) with a signature;
/// with `attachment` = (type, file name, size) wrapped in multipart/mixed with random bytes.
fn synthetic(i: usize, tag: &str, attachment: Option<(&str, &str, usize)>, rng: &mut impl Rng) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (name, org, title, local) = NAMES[i % NAMES.len()];
    // A distinct organization for every applicant: smebridge matches applicants by name and
    // organization too, and 5,000 people from 8 companies would rightly be merged.
    let org = &format!("{org} 제{}공장 {}", i + 1, tag.to_uppercase());
    let from =
        format!("{local}.{tag}{i}@{}", ["gmail.example", "naver.example", "daum.example", "company.example"][i % 4]);
    let phone = format!("010-{:04}-{:04}", 1000 + i % 9000, (i * 7919) % 10000);
    let attendees = 1 + i % 3;
    let text = format!(
        "안녕하세요.\n중소기업 R&D 역량강화 워크숍에 참가 신청합니다.\n\n성명: {name}\n소속: {org}\n직위: {title}\n연락처: {phone}\n\
         참석인원: {attendees}명\n\n감사합니다.\n{name} 드림\n\n--\n{name} | {title}\n{org}\n{phone}\n"
    );
    let mut html = String::from(
        "<div dir=\"ltr\"><div>안녕하세요.</div><div>중소기업 R&amp;D 역량강화 워크숍에 참가 신청합니다.</div><br>",
    );
    for (label, value) in [("성명", name), ("소속", org), ("직위", title), ("연락처", phone.as_str())] {
        let _ = write!(html, "<div style=\"font-family:arial,sans-serif\">{label}: {value}</div>");
    }
    let _ = write!(html, "<div>참석인원: {attendees}명</div><br><div>감사합니다.</div><div>{name} 드림</div>");
    // A signature block of the kind mail clients add: a table with inline styles.
    html.push_str("<br><div class=\"gmail_signature\"><table cellpadding=\"0\" cellspacing=\"0\" style=\"font-family:Arial,sans-serif;font-size:12px;color:#333\">");
    for _ in 0..6 {
        let _ = write!(html, "<tr><td style=\"padding:2px 8px;border-left:3px solid #1a73e8\">{name} · {title} · {org} · {phone}</td></tr>");
    }
    html.push_str("</table></div></div>");
    let wrap = |s: &str| -> String {
        b64.encode(s.as_bytes()).as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned() + "\n").collect()
    };
    let subject = format!("=?UTF-8?B?{}?=", b64.encode(format!("[참가신청] 워크숍 참가 신청 - {org} {name}")));
    let display = format!("=?UTF-8?B?{}?=", b64.encode(name));
    let mut mail = format!(
        "Return-Path: <{from}>\nFrom: {display} <{from}>\nTo: {CENTER}\nSubject: {subject}\nDate: Wed, 16 Nov 2022 10:{:02}:00 +0900\n\
         Message-ID: <CAbench{tag}{i}x{:08x}@mail.gmail.example>\nMIME-Version: 1.0\n",
        i % 60,
        rng.gen::<u32>(),
    );
    let alternative = format!(
        "--alt{i}\nContent-Type: text/plain; charset=\"UTF-8\"\nContent-Transfer-Encoding: base64\n\n{}\n\
         --alt{i}\nContent-Type: text/html; charset=\"UTF-8\"\nContent-Transfer-Encoding: base64\n\n{}\n--alt{i}--\n",
        wrap(&text),
        wrap(&html),
    );
    match attachment {
        None => {
            let _ = write!(mail, "Content-Type: multipart/alternative; boundary=\"alt{i}\"\n\n{alternative}");
        }
        Some((mime, file, size)) => {
            let mut payload = vec![0u8; size];
            rng.fill(payload.as_mut_slice());
            let _ = write!(
                mail,
                "Content-Type: multipart/mixed; boundary=\"mix{i}\"\n\n--mix{i}\nContent-Type: multipart/alternative; boundary=\"alt{i}\"\n\n\
                 {alternative}\n--mix{i}\nContent-Type: {mime}; name=\"{file}\"\nContent-Disposition: attachment; filename=\"{file}\"\n\
                 Content-Transfer-Encoding: base64\n\n"
            );
            let encoded = b64.encode(&payload);
            mail.reserve(encoded.len() + encoded.len() / 38);
            for chunk in encoded.as_bytes().chunks(76) {
                mail.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                mail.push('\n');
            }
            let _ = writeln!(mail, "--mix{i}--");
        }
    }
    mail.into_bytes()
}

/// An Outlook-style application: text/plain labelled `ks_c_5601-1987` (EUC-KR bytes, base64),
/// Korean headers as encoded words in the same charset.
fn outlook(i: usize, tag: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let euckr = |s: &str| encoding_rs::EUC_KR.encode(s).0.into_owned();
    let (name, org, title, local) = NAMES[(i / 3) % NAMES.len()];
    let org = format!("{org} {}연구소 {}", i + 1, tag.to_uppercase());
    let from = format!("{local}.{tag}{i}@{}", ["company.example", "corp.example"][i % 2]);
    let phone = format!("02-{:03}-{:04}", 200 + i % 700, (i * 104_729) % 10000);
    let body = format!(
        "안녕하십니까.\n\n공고하신 워크숍에 아래와 같이 참가를 신청합니다.\n\n1. 성 명 : {name}\n2. 소 속 : {org}\n3. 직 위 : {title}\n\
         4. 연락처 : {phone}\n5. 참석인원 : {}명\n\n감사합니다.\n\n{name} 올림\n",
        1 + i % 2
    );
    let subject = format!("워크숍 참가 신청 ({org})");
    let mut mail = format!(
        "From: =?ks_c_5601-1987?B?{}?= <{from}>\nTo: {CENTER}\nSubject: =?ks_c_5601-1987?B?{}?=\n\
         Date: Wed, 16 Nov 2022 11:{:02}:00 +0900\nMessage-ID: <bench{tag}{i}@outlook.example>\nMIME-Version: 1.0\n\
         X-Mailer: Microsoft Outlook 16.0\nContent-Type: text/plain; charset=\"ks_c_5601-1987\"\nContent-Transfer-Encoding: base64\n\n",
        b64.encode(euckr(name)),
        b64.encode(euckr(&subject)),
        i % 60,
    );
    for chunk in b64.encode(euckr(&body)).as_bytes().chunks(76) {
        mail.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        mail.push('\n');
    }
    mail.into_bytes()
}

// --- the backlog ----------------------------------------------------------------------------------

/// smebridge's configuration and database for one stack.
struct DeskDir {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl DeskDir {
    fn database(&self) -> PathBuf {
        self.dir.path().join("smebridge.sqlite")
    }
}

#[derive(Clone, Debug, Default)]
struct Backlog {
    n: usize,
    bytes: u64,
    shapes: Vec<(String, usize)>,
    largest: usize,
    seed_s: f64,
    floor_fetch_s: f64,
    floor_send_s: f64,
    floor_send_sequential_s: Option<f64>,
    floor_send_nodelay_s: f64,
    /// lettre's own pooled transport, 4 in flight: no `TCP_NODELAY`, so ~40 ms per message.
    floor_send_lettre_pool_s: f64,
    smebridge_cpu_s: f64,
    acks: usize,
    ack_bytes: u64,
    smebridge_s: f64,
    passes: usize,
    peak_rss_kb: i64,
    /// From smebridge's log: spawn → logged in, logged in → mailbox synced, synced → exit.
    startup_s: Option<f64>,
    record_s: Option<f64>,
    send_s: Option<f64>,
}

impl Backlog {
    /// smebridge sends the replies of each recorded batch while it reads the next, so its floor
    /// is the larger of the two paths, not their sum.
    fn floor_s(&self) -> f64 {
        self.floor_fetch_s.max(self.floor_send_s)
    }
    fn ratio(&self) -> f64 {
        self.smebridge_s / self.floor_s()
    }
    fn per_message_ms(&self) -> f64 {
        self.smebridge_s * 1000.0 / self.n as f64
    }
}

async fn backlog(args: &Args, corpus: &Corpus, n: usize) -> Result<(Backlog, MailStack, DeskDir)> {
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
    floor_fetch(&stack, n).await?;
    let t = Instant::now();
    let bytes = floor_fetch(&stack, n).await?;
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
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(stack.host())
        .port(stack.smtp_port())
        .timeout(Some(Duration::from_secs(30)))
        .pool_config(PoolConfig::new().max_size(SMTP_POOL).idle_timeout(Duration::from_secs(30)))
        .build();
    let envelopes: Vec<Envelope> =
        acks.iter().map(|(to, _)| Ok(Envelope::new(None, vec![to.parse::<Address>()?])?)).collect::<Result<_>>()?;
    let t = Instant::now();
    futures::stream::iter(envelopes.iter().zip(&acks))
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
    for (envelope, (_, raw)) in envelopes.iter().zip(&acks) {
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
    let jobs: Vec<(&Envelope, &[u8])> = envelopes.iter().zip(&acks).map(|(e, (_, raw))| (e, raw.as_slice())).collect();
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
    if args.sequential_floor {
        let t = Instant::now();
        for (envelope, (_, raw)) in envelopes.iter().zip(&acks) {
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

/// Fetch every message's bytes over one connection, in batches of smebridge's size; returns
/// the bytes received.
async fn floor_fetch(stack: &MailStack, n: usize) -> Result<u64> {
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

/// Log in to the center's mailbox over plain TCP with `TCP_NODELAY`, as smebridge does (async-imap
/// writes a command in several pieces; with Nagle on, the last piece waits for the server's
/// delayed ACK).
async fn imap_login(stack: &MailStack) -> Result<async_imap::Session<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect((stack.host(), stack.imap_port())).await?;
    tcp.set_nodelay(true)?;
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await?.context("no IMAP greeting")?;
    client.login(CENTER, mailstack::PASSWORD).await.map_err(|(e, _)| e).context("IMAP LOGIN")
}

/// Recipient and bytes of every reply in the outbox, in order.
fn outbox_messages(db: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let conn = rusqlite::Connection::open(db)?;
    let mut stmt = conn.prepare("SELECT recipient, raw FROM outbox ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Messages recorded, and outbox rows by state.
fn db_state(db: &Path) -> Result<(i64, Vec<(String, i64)>)> {
    let conn = rusqlite::Connection::open(db)?;
    let recorded = conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
    let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")?;
    let states = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok((recorded, states))
}

fn write_config(stack: &MailStack, bcc_self: bool) -> Result<DeskDir> {
    let dir = tempfile::Builder::new().prefix("smebridge-bench-").tempdir()?;
    std::fs::write(dir.path().join("password"), format!("{}\n", mailstack::PASSWORD))?;
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
    let text = format!(
        r#"# Written by examples/bench.rs: the tests' configuration, with the rate limits raised.
[imap]
host = "{host}"
port = {imap}
security = "plain"
username = "{CENTER}"
password_file = "password"
poll_interval = "2s"
timeout = "30s"

[smtp]
host = "{host}"
port = {smtp}
security = "plain"
from = "KAIST SME Center <{CENTER}>"
timeout = "30s"
bcc_self = {bcc_self}
sending_grace = "1s"

[event]
name = "SME R&D Workshop"
deadline = "2099-12-31T23:59:59+09:00"
timezone = "Asia/Seoul"
starts_at = "2100-01-01T13:30:00+09:00"
venue = "Banyan Tree Club & Spa Seoul, Festa Hall"
contact = "{CENTER}"

[staff]
recipients = ["staff@kaist.ac.kr"]
summary_time = "08:30"
summary_from = "2099-01-01"

[database]
path = "smebridge.sqlite"

[replies]
templates_dir = "{templates}"
max_per_hour = 1000000
max_per_sender_per_day = 1000
"#,
        host = stack.host(),
        imap = stack.imap_port(),
        smtp = stack.smtp_port(),
        templates = templates.display(),
    );
    let config = dir.path().join("smebridge.toml");
    std::fs::write(&config, text)?;
    Ok(DeskDir { dir, config })
}

// --- running smebridge --------------------------------------------------------------------------

/// A spawned smebridge, killed if it is still running when dropped.
struct Child {
    pid: libc::pid_t,
    spawned: Timestamp,
    started: Instant,
    log: PathBuf,
    stdout: PathBuf,
    reaped: bool,
}

struct Exited {
    elapsed: Duration,
    /// User + system CPU time of the process.
    cpu: Duration,
    spawned: Timestamp,
    exited: Timestamp,
    peak_rss_kb: i64,
    stdout: String,
    log: Vec<LogEvent>,
}

impl Child {
    fn spawn(args: &Args, desk: &DeskDir, command: &str, name: &str) -> Result<Child> {
        // `BENCH_LOG_DIR` keeps smebridge's logs there (the desk directory is removed at the end).
        let log = match std::env::var_os("BENCH_LOG_DIR") {
            Some(dir) => PathBuf::from(dir).join(format!("{name}.log")),
            None => desk.dir.path().join(format!("{name}.log")),
        };
        let stdout = desk.dir.path().join(format!("{name}.out"));
        let spawned = Timestamp::now();
        let started = Instant::now();
        let wrap = if command == "once" { args.wrap.as_slice() } else { &[] };
        let mut cmd = match wrap.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(&args.smebridge);
                c
            }
            None => Command::new(&args.smebridge),
        };
        let child = cmd
            .args([command, "--log-format", "json", "--config"])
            .arg(&desk.config)
            .env_remove("SMEBRIDGE_CONFIG")
            // Info, as in production, unless `BENCH_RUST_LOG` asks for more (for a diagnosis).
            .env("RUST_LOG", std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout)?)
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("cannot run {}", args.smebridge.display()))?;
        let pid = libc::pid_t::try_from(child.id())?;
        // Reaped by wait4 below, not by std.
        drop(child);
        Ok(Child { pid, spawned, started, log, stdout, reaped: false })
    }

    /// Wait for the exit (at most `limit`, then SIGKILL and fail), with its resource usage.
    async fn wait(mut self, limit: Duration) -> Result<Exited> {
        let pid = self.pid;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut status = 0;
            // SAFETY: plain syscall on our own child with valid out-pointers.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            let failed = (r != pid).then(std::io::Error::last_os_error);
            let _ = tx.send((failed, status, usage, Instant::now(), Timestamp::now()));
        });
        let received = tokio::task::spawn_blocking(move || match rx.recv_timeout(limit) {
            Ok(v) => Ok(v),
            Err(_) => {
                // SAFETY: our own child, not yet reaped.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                let _ = rx.recv();
                Err(())
            }
        })
        .await?;
        self.reaped = true;
        let (failed, status, usage, ended, exited) = match received {
            Ok(v) => v,
            Err(_) => {
                bail!("smebridge did not finish within {} s; killed. Log: {}", limit.as_secs(), self.log.display())
            }
        };
        if let Some(e) = failed {
            bail!("wait4 failed: {e}");
        }
        let log = read_log(&self.log)?;
        let stdout = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            let tail: Vec<String> =
                std::fs::read_to_string(&self.log)?.lines().rev().take(20).map(str::to_owned).collect();
            bail!(
                "smebridge exited with status {status:#x}:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(Exited {
            elapsed: ended - self.started,
            spawned: self.spawned,
            exited,
            peak_rss_kb: usage.ru_maxrss,
            cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
            stdout,
            log,
        })
    }

    fn terminate(&self) {
        // SAFETY: our own child, not yet reaped (so the pid cannot have been reused).
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: as above; reap it so no zombie is left.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

async fn run_once(args: &Args, desk: &DeskDir, limit: Duration) -> Result<Exited> {
    Child::spawn(args, desk, "once", "once")?.wait(limit).await
}

/// One line of smebridge's JSON log.
#[derive(Debug, Clone)]
struct LogEvent {
    at: Timestamp,
    message: String,
    fields: Value,
}

fn read_log(path: &Path) -> Result<Vec<LogEvent>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|v| {
            let at = v.get("timestamp")?.as_str()?.parse().ok()?;
            let message = v.get("message")?.as_str()?.to_owned();
            Some(LogEvent { at, message, fields: v })
        })
        .collect())
}

// --- latency --------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct Latency {
    samples: usize,
    /// Postfix accepted the application → Postfix accepted the acknowledgement.
    accepted: Vec<f64>,
    /// Postfix accepted the application → the acknowledgement in the applicant's maildir.
    delivered: Vec<f64>,
    /// Parts (medians are reported): application accepted → in the center's maildir → recorded
    /// by smebridge → reply accepted → reply in the applicant's maildir.
    inbound: Vec<f64>,
    record: Vec<f64>,
    /// The bare IDLE client woken → smebridge has recorded the message.
    after_wake: Vec<f64>,
    send: Vec<f64>,
    outbound: Vec<f64>,
    /// Application accepted → a bare async-imap client idling on the mailbox is woken.
    idle_floor: Vec<f64>,
    daemon_peak_rss_kb: i64,
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

async fn latency(args: &Args, corpus: &Corpus, stack: &MailStack, desk: &DeskDir) -> Result<Latency> {
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

    // Match smebridge's log to the applications: "message recorded" carries the Message-ID (in
    // its span), "reply sent" the outbox id, whose recipient the database knows.
    let conn = rusqlite::Connection::open(desk.database())?;
    let mut stmt = conn.prepare("SELECT id, recipient FROM outbox")?;
    let recipient_of: HashMap<i64, String> =
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
                if let Some(id) = e.fields.get("span").and_then(|s| s.get("message_id")).and_then(Value::as_str) {
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

fn sender(raw: &[u8]) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse_headers(raw)?;
    message.from()?.first()?.address().map(str::to_owned)
}

fn message_id(raw: &[u8]) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse_headers(raw)?;
    message.message_id().map(str::to_owned)
}

// --- the report -----------------------------------------------------------------------------------

/// Nearest-rank percentile (`q` = 1.0: the maximum); NaN for no samples.
fn pct(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| (kb / 1024.0 / 1024.0).round())
        .unwrap_or(0.0);
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    json!({
        "cores": cores,
        "cpu": cpu,
        "memory_gib": mem_gib,
        "kernel": kernel,
        "commit": if dirty { format!("{commit}+dirty") } else { commit },
        "date": Timestamp::now().to_string(),
        "loadavg_at_start": loadavg(),
    })
}

/// The 1-, 5- and 15-minute load averages: other work on the machine skews CPU-bound phases.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Report<'a> {
    machine: Value,
    command: String,
    args: &'a Args,
    main: Backlog,
    latency: Option<Latency>,
    scaling: Vec<Backlog>,
    total: Duration,
}

impl Report<'_> {
    fn table(&self) -> String {
        let m = &self.main;
        let mut t = String::new();
        let row = |t: &mut String, what: &str, value: String, target: &str| {
            let _ = writeln!(t, "| {what:<58} | {value:>28} | {target:<16} |");
        };
        let _ = writeln!(
            t,
            "smebridge {} on {} cores ({}), {} GiB; {}",
            self.machine["commit"].as_str().unwrap_or("?"),
            self.machine["cores"],
            self.machine["cpu"].as_str().unwrap_or("?"),
            self.machine["memory_gib"],
            self.machine["date"].as_str().unwrap_or("?"),
        );
        let _ = writeln!(t, "command: {}", self.command);
        let _ = writeln!(t);
        let _ = writeln!(t, "| {:<58} | {:>28} | {:<16} |", "measure", "value", "target");
        let _ = writeln!(t, "|{}|{}|{}|", "-".repeat(60), "-".repeat(30), "-".repeat(18));
        row(
            &mut t,
            "backlog N, of which with a 2–5 MB attachment",
            format!("{} ({})", m.n, shape_count(m, "pdf-attachment")),
            "",
        );
        row(
            &mut t,
            "mailbox size (largest message)",
            format!("{:.1} MB ({:.1} MB)", mb(m.bytes), mb(m.largest as u64)),
            "",
        );
        row(
            &mut t,
            "acknowledgements (avg size)",
            format!("{} ({:.1} kB)", m.acks, m.ack_bytes as f64 / m.acks.max(1) as f64 / 1000.0),
            "",
        );
        row(&mut t, "floor (a): fetch all over one IMAP connection", format!("{:.2} s", m.floor_fetch_s), "");
        row(
            &mut t,
            &format!("floor (b): hand all acks to Postfix, {SMTP_POOL} connections (TCP_NODELAY)"),
            format!("{:.2} s", m.floor_send_s),
            "",
        );
        row(&mut t, "floor = max((a), (b)) (smebridge sends while it records)", format!("{:.2} s", m.floor_s()), "");
        row(
            &mut t,
            "  reference: (b) by lettre's pooled transport (no TCP_NODELAY)",
            format!("{:.2} s", m.floor_send_lettre_pool_s),
            "",
        );
        row(&mut t, "  reference: (b) with TCP_NODELAY, one at a time", format!("{:.2} s", m.floor_send_nodelay_s), "");
        if let Some(s) = m.floor_send_sequential_s {
            row(&mut t, "  reference: (b) one at a time through the pool", format!("{s:.2} s"), "");
        }
        row(
            &mut t,
            "smebridge once: recorded and every ack accepted",
            format!("{:.2} s ({} pass)", m.smebridge_s, m.passes),
            "",
        );
        if let (Some(a), Some(b), Some(c)) = (m.startup_s, m.record_s, m.send_s) {
            row(
                &mut t,
                "  start + login / fetch + record / send (from its log)",
                format!("{a:.2} / {b:.2} / {c:.2} s"),
                "",
            );
        }
        row(&mut t, "  CPU time of smebridge (user + system)", format!("{:.2} s", m.smebridge_cpu_s), "");
        row(&mut t, "smebridge throughput", format!("{:.0} messages/s", m.n as f64 / m.smebridge_s), "");
        row(&mut t, "smebridge / floor", format!("{:.2} ×", m.ratio()), &verdict(m.ratio() <= 1.5, "≤ 1.5 ×"));
        let rss = m.peak_rss_kb as f64 / 1024.0;
        row(&mut t, "peak RSS of smebridge once", format!("{rss:.1} MB"), &verdict(rss <= 64.0, "≤ 64 MB"));
        if let Some(l) = &self.latency {
            let (p50, p95, max) = (pct(&l.accepted, 0.5), pct(&l.accepted, 0.95), pct(&l.accepted, 1.0));
            row(
                &mut t,
                &format!("latency, {} mails on IDLE: to ack accepted, p50", l.samples),
                format!("{p50:.3} s"),
                &verdict(p50 <= 0.5, "≤ 0.5 s"),
            );
            row(&mut t, "  p95", format!("{p95:.3} s"), &verdict(p95 <= 1.0, "≤ 1 s"));
            row(&mut t, "  max", format!("{max:.3} s"), "");
            row(
                &mut t,
                "  floor: bare IDLE client woken, p50 / p95 / max",
                format!(
                    "{:.3} / {:.3} / {:.3} s",
                    pct(&l.idle_floor, 0.5),
                    pct(&l.idle_floor, 0.95),
                    pct(&l.idle_floor, 1.0)
                ),
                "",
            );
            row(
                &mut t,
                "  to ack in the applicant's maildir: p50 / p95 / max",
                format!(
                    "{:.3} / {:.3} / {:.3} s",
                    pct(&l.delivered, 0.5),
                    pct(&l.delivered, 0.95),
                    pct(&l.delivered, 1.0)
                ),
                "",
            );
            row(
                &mut t,
                "  medians: inbound / wake+record (after wake) / send / out",
                format!(
                    "{:.3}/{:.3} ({:.3})/{:.3}/{:.3}",
                    pct(&l.inbound, 0.5),
                    pct(&l.record, 0.5),
                    pct(&l.after_wake, 0.5),
                    pct(&l.send, 0.5),
                    pct(&l.outbound, 0.5)
                ),
                "",
            );
            row(&mut t, "  peak RSS of smebridge run", format!("{:.1} MB", l.daemon_peak_rss_kb as f64 / 1024.0), "");
        }
        let per: Vec<f64> = self.scaling.iter().map(Backlog::per_message_ms).collect();
        let (lo, hi) = (per.iter().copied().fold(f64::INFINITY, f64::min), per.iter().copied().fold(0.0, f64::max));
        let mid = (lo + hi) / 2.0;
        for s in &self.scaling {
            row(
                &mut t,
                &format!(
                    "scaling: N = {} (floor {:.2} s, RSS {:.0} MB)",
                    s.n,
                    s.floor_s(),
                    s.peak_rss_kb as f64 / 1024.0
                ),
                format!("{:.2} s, {:.2} ms/msg", s.smebridge_s, s.per_message_ms()),
                "",
            );
        }
        if self.scaling.len() > 1 {
            let spread = (hi - lo) / 2.0 / mid * 100.0;
            row(
                &mut t,
                "time per message across N: ± around the midpoint",
                format!("± {spread:.0} %"),
                &verdict(spread <= 20.0, "± 20 %"),
            );
        }
        let _ = writeln!(
            t,
            "\nwhole benchmark: {:.0} s; load average at start {}, at end {}",
            self.total.as_secs_f64(),
            self.machine["loadavg_at_start"].as_str().unwrap_or("?"),
            loadavg()
        );
        t
    }

    fn json(&self) -> Value {
        let backlog = |b: &Backlog| {
            json!({
                "n": b.n,
                "bytes": b.bytes,
                "largest_bytes": b.largest,
                "shapes": b.shapes.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "seed_s": b.seed_s,
                "floor_fetch_s": b.floor_fetch_s,
                "floor_send_s": b.floor_send_s,
                "floor_s": b.floor_s(),
                "floor_rule": "max(fetch, send): smebridge sends while it records",
                "floor_send_sequential_s": b.floor_send_sequential_s,
                "floor_send_nodelay_one_connection_s": b.floor_send_nodelay_s,
                "floor_send_lettre_pool_s": b.floor_send_lettre_pool_s,
                "smebridge_cpu_s": b.smebridge_cpu_s,
                "acks": b.acks,
                "ack_bytes": b.ack_bytes,
                "smebridge_s": b.smebridge_s,
                "smebridge_passes": b.passes,
                "smebridge_messages_per_s": b.n as f64 / b.smebridge_s,
                "smebridge_ms_per_message": b.per_message_ms(),
                "ratio_to_floor": b.ratio(),
                "peak_rss_kb": b.peak_rss_kb,
                "phases_from_log_s": { "startup_login": b.startup_s, "fetch_record": b.record_s, "send": b.send_s },
            })
        };
        let dist = |v: &[f64]| json!({ "p50": pct(v, 0.5), "p95": pct(v, 0.95), "max": pct(v, 1.0), "samples": v });
        json!({
            "machine": self.machine,
            "command": self.command,
            "settings": {
                "n": self.args.n,
                "scale": self.args.scale,
                "latency_samples": self.args.latency,
                "bcc_self": self.args.bcc_self,
                "smtp_pool": SMTP_POOL,
                "fetch_batch": smebridge::imap::FETCH_BATCH,
            },
            "backlog": backlog(&self.main),
            "latency": self.latency.as_ref().map(|l| json!({
                "samples": l.samples,
                "to_ack_accepted_s": dist(&l.accepted),
                "to_ack_delivered_s": dist(&l.delivered),
                "floor_bare_idle_client_woken_s": dist(&l.idle_floor),
                "parts_s": {
                    "inbound_delivery": dist(&l.inbound),
                    "wake_fetch_record": dist(&l.record),
                    "after_bare_client_woke_to_recorded": dist(&l.after_wake),
                    "send": dist(&l.send),
                    "outbound_delivery": dist(&l.outbound),
                },
                "daemon_peak_rss_kb": l.daemon_peak_rss_kb,
            })),
            "scaling": self.scaling.iter().map(backlog).collect::<Vec<_>>(),
            "targets": {
                "ratio_to_floor_max": 1.5,
                "latency_p50_max_s": 0.5,
                "latency_p95_max_s": 1.0,
                "peak_rss_max_mb": 64,
                "per_message_spread_max_pct": 20,
            },
            "total_s": self.total.as_secs_f64(),
            "loadavg_at_end": loadavg(),
        })
    }
}

fn shape_count(b: &Backlog, shape: &str) -> usize {
    b.shapes.iter().find(|(k, _)| k == shape).map(|(_, v)| *v).unwrap_or(0)
}

fn verdict(ok: bool, target: &str) -> String {
    format!("{target} {}", if ok { "met" } else { "MISSED" })
}
