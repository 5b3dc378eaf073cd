//! The demo behind `scripts/demo`: brings up a private mail stack (real Dovecot + Postfix on
//! loopback), sends it the sample applications in `examples/demo-mail/` the way applicants'
//! mail clients do, runs `smebridge once` against it, and shows what was recorded and what each
//! applicant found in their mailbox.
//!
//! Usage: demo --smebridge PATH [--data DIR] [--keep-running]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use jiff::{SignedDuration, Timestamp};
use mailstack::desk::{DeskConfig, CENTER};
use mailstack::MailStack;

const STAFF: &str = "sme-center@kaist.ac.kr";

struct Args {
    smebridge: PathBuf,
    data: PathBuf,
    keep_running: bool,
}

fn args() -> Result<Args> {
    let mut smebridge = None;
    let mut data = PathBuf::from("demo-data");
    let mut keep_running = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--smebridge" => smebridge = it.next().map(PathBuf::from),
            "--data" => data = it.next().map(PathBuf::from).context("--data needs a directory")?,
            "--keep-running" => keep_running = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(Args { smebridge: smebridge.context("--smebridge PATH is required")?, data, keep_running })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo-mail");
    if args.data.exists() {
        std::fs::remove_dir_all(&args.data).with_context(|| format!("cannot clear {}", args.data.display()))?;
    }
    std::fs::create_dir_all(&args.data)?;
    let data = args.data.canonicalize()?;

    step("Starting a private mail stack (Dovecot for IMAP, Postfix for SMTP) on loopback");
    let stack = MailStack::start_in(&data.join("mailstack"))?;
    println!("  IMAP 127.0.0.1:{}   SMTP 127.0.0.1:{}", stack.imap_port(), stack.smtp_port());

    // The demo's deadline is an hour from now, so mail sent now is on time; one sample is put in
    // the mailbox with an arrival time after the deadline, to show a late application.
    let deadline = Timestamp::now().checked_add(SignedDuration::from_hours(1))?;
    let config = write_config(&data, &stack, deadline)?;
    println!("  configuration: {}", config.display());

    step("Applicants send their mail");
    let mut sent = 0;
    for entry in sorted_files(&samples)? {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let raw = std::fs::read(&entry)?;
        let from = sender_of(&raw).with_context(|| format!("{name} has no From address"))?;
        if name.contains("late") {
            let arrival = deadline.checked_add(SignedDuration::from_mins(3))?;
            let date = arrival
                .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)))
                .strftime("%d-%b-%Y %H:%M:%S %z")
                .to_string();
            mailstack::client::append(stack.host(), stack.imap_port(), CENTER, "INBOX", &raw, Some(&date)).await?;
            println!("  {name:<40} arrives 3 minutes after the deadline");
        } else {
            mailstack::client::send_raw(stack.host(), stack.smtp_port(), &from, &[CENTER], &raw).await?;
            println!("  {name:<40} sent over SMTP by {from}");
        }
        sent += 1;
        // One at a time, so that they arrive in the order written (a correction after its application).
        stack.wait_for_delivery(CENTER, sent, Duration::from_secs(30))?;
    }

    step("smebridge once");
    let once = run(&args.smebridge, &config, &["once"])?;
    println!("  {}", once.trim());

    step("What staff get: smebridge export --format csv");
    let csv_path = data.join("applications.csv");
    run(&args.smebridge, &config, &["export", "--format", "csv", "--output", csv_path.to_str().unwrap_or_default()])?;
    print_table(&std::fs::read_to_string(&csv_path)?);
    println!("  (saved as {})", csv_path.display());

    step("What each applicant finds in their mailbox");
    let mut applicants: Vec<String> = Vec::new();
    for entry in sorted_files(&samples)? {
        let from = sender_of(&std::fs::read(&entry)?).unwrap_or_default();
        if !applicants.contains(&from) {
            applicants.push(from);
        }
    }
    // Replies are handed to Postfix by `once`; give it a moment to deliver them all.
    let replies: usize = once_count(&once, "sent ");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut delivered = 0;
        for a in &applicants {
            delivered += mailstack::client::fetch_all(stack.host(), stack.imap_port(), a, "INBOX").await?.len();
        }
        if delivered >= replies || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for a in &applicants {
        let inbox = mailstack::client::fetch_all(stack.host(), stack.imap_port(), a, "INBOX").await?;
        show_inbox(a, &inbox);
    }
    if let Some(first) = applicants.first() {
        let inbox = mailstack::client::fetch_all(stack.host(), stack.imap_port(), first, "INBOX").await?;
        if let Some(reply) = inbox.first() {
            step(&format!("The acknowledgement {first} received"));
            show_message(&reply.raw);
        }
    }

    step("What staff get each morning: smebridge summary --send");
    let sent = run(&args.smebridge, &config, &["summary", "--send"])?;
    println!("  {}", sent.trim());
    let staff_mail =
        mailstack::client::wait_for_mail(stack.host(), stack.imap_port(), STAFF, 1, Duration::from_secs(30)).await?;
    if let Some(mail) = staff_mail.first() {
        show_summary(&mail.raw, &data)?;
    }

    step("Done");
    println!("  Database:      {}", data.join("smebridge.sqlite").display());
    println!("  Configuration: {}", config.display());
    if args.keep_running {
        println!(
            "  The mail stack keeps running; try `{} run --config {}` in another terminal. Ctrl-C stops it.",
            args.smebridge.display(),
            config.display()
        );
        tokio::signal::ctrl_c().await?;
    }
    drop(stack);
    Ok(())
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    Ok(files)
}

fn sender_of(raw: &[u8]) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    message.from()?.first()?.address().map(str::to_owned)
}

fn run(smebridge: &Path, config: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(smebridge)
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("SMEBRIDGE_CONFIG")
        .output()
        .with_context(|| format!("cannot run {}", smebridge.display()))?;
    if !out.status.success() {
        bail!("smebridge {} failed:\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The summary as staff see it: its text part here, its HTML (with the chart) saved next to the
/// data, and a screenshot of it when Chromium is installed.
fn show_summary(raw: &[u8], data: &Path) -> Result<()> {
    use base64::Engine as _;
    use mail_parser::MimeHeaders;
    let Some(mail) = mail_parser::MessageParser::default().parse(raw) else { return Ok(()) };
    println!("  Subject: {}", mail.subject().unwrap_or(""));
    for part in mail.parts.iter().filter(|p| p.attachment_name().is_some()) {
        println!("  Attached: {} ({} bytes)", part.attachment_name().unwrap_or(""), part.contents().len());
    }
    println!();
    for line in mail.body_text(0).unwrap_or_default().lines() {
        println!("  | {line}");
    }
    let chart =
        mail.parts.iter().find(|p| p.content_id() == Some("chart")).map(|p| p.contents().to_vec()).unwrap_or_default();
    let html = mail.body_html(0).unwrap_or_default().replace(
        "cid:chart",
        &format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(chart)),
    );
    let page = data.join("summary.html");
    std::fs::write(&page, html)?;
    println!("\n  The HTML summary: {}", page.display());
    let shot = data.join("summary.png");
    let profile = data.join("chromium-profile");
    let rendered = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--window-size=900,1500"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output();
    if rendered.is_ok_and(|o| o.status.success()) {
        println!("  As a picture:     {}", shot.display());
    }
    Ok(())
}

/// The number after `label` in smebridge's one-line report ("… sent 7, …").
fn once_count(report: &str, label: &str) -> usize {
    report
        .split(label)
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A message as a mail client shows it: decoded headers, then the text.
fn show_message(raw: &[u8]) {
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else { return };
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .map(|a| format!("{} <{}>", a.name().unwrap_or(""), a.address().unwrap_or("")))
            .unwrap_or_default()
    };
    println!("  From:           {}", addr(message.from()));
    println!("  To:             {}", addr(message.to()));
    println!("  Subject:        {}", message.subject().unwrap_or(""));
    for name in ["Message-ID", "In-Reply-To", "References", "Auto-Submitted", "Return-Path"] {
        println!("  {:<16}{}", format!("{name}:"), message.header_raw(name).unwrap_or("").trim());
    }
    println!();
    for line in message.body_text(0).unwrap_or_default().lines() {
        println!("  | {line}");
    }
}

fn show_inbox(address: &str, inbox: &[mailstack::client::FetchedMail]) {
    if inbox.is_empty() {
        println!("  {address:<34} (nothing: automatic mail is never answered)");
        return;
    }
    for mail in inbox {
        let subject = mail_parser::MessageParser::default()
            .parse(&mail.raw)
            .and_then(|m| m.subject().map(str::to_owned))
            .unwrap_or_default();
        println!("  {address:<34} {subject}");
    }
}

/// A CSV as an aligned table (width counted in terminal columns: Hangul is two wide).
fn print_table(csv_text: &str) {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text.as_bytes());
    let rows: Vec<Vec<String>> =
        reader.records().filter_map(|r| r.ok()).map(|r| r.iter().map(str::to_owned).collect()).collect();
    let keep = ["email", "name", "organization", "position", "phone", "attendees", "status", "received_at"];
    let Some(header) = rows.first() else { return };
    let columns: Vec<usize> =
        header.iter().enumerate().filter(|(_, h)| keep.contains(&h.as_str())).map(|(i, _)| i).collect();
    let width = |s: &str| s.chars().map(|c| if c >= '\u{1100}' { 2 } else { 1 }).sum::<usize>();
    let widths: Vec<usize> = columns.iter().map(|&c| rows.iter().map(|r| width(&r[c])).max().unwrap_or(0)).collect();
    for row in &rows {
        let mut line = String::from("  ");
        for (&c, &w) in columns.iter().zip(&widths) {
            line.push_str(&row[c]);
            line.push_str(&" ".repeat(w - width(&row[c]) + 2));
        }
        println!("{}", line.trim_end());
    }
}

/// The center's configuration (`mailstack::desk`, the one the tests and the benchmark write too),
/// with the center's Korean names, pointed at the demo's private mail stack.
fn write_config(data: &Path, stack: &MailStack, deadline: Timestamp) -> Result<PathBuf> {
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
    let deadline = deadline.to_zoned(jiff::tz::db().get("Asia/Seoul")?).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    DeskConfig::new(stack, &deadline, &templates)?
        .comment("Written by the demo: the center's configuration, pointed at the demo's private mail stack.")
        .set("imap", "password_file = \"imap-password\"")
        .set("imap", "poll_interval = \"5s\"")
        .set("smtp", &format!("from = \"KAIST 중소기업 R&D 센터 <{CENTER}>\""))
        .set("event", "name = \"중소기업 R&D 역량강화 워크숍 (SME R&D Workshop)\"")
        .set("staff", &format!("recipients = [\"{STAFF}\"]"))
        .write(data)
}
