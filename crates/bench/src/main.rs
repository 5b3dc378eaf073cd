//! The benchmark behind `scripts/bench` (issue #7): smebridge against the floor, on the real
//! Dovecot + Postfix the tests use (`crates/mailstack`), loopback only.
//!
//! For each backlog size N (the main one, `--n`, plus the `--scale` sizes), [`backlog`]:
//!
//! 1. a fresh mail stack; the center's mailbox is seeded with N application mails by IMAP APPEND
//!    ([`mails`]: the sample mails of `examples/demo-mail/` and `tests/fixtures/` with a distinct
//!    sender each, plus Gmail-style multipart mails, some with a photo attached and a few with
//!    multi-MB PDFs);
//! 2. **floor, fetch** ([`floor`]): every message's bytes over one IMAP connection (`UID FETCH
//!    a:b (BODY.PEEK[])` in batches of smebridge's batch size; no parsing, no database);
//! 3. **smebridge** ([`run`]): `smebridge once` (the release binary) from a fresh database,
//!    repeated until every message is recorded and the outbox is all `sent`; wall time and peak
//!    RSS (wait4);
//! 4. **floor, send** ([`floor`]): the very acknowledgements smebridge wrote (read from its
//!    outbox) handed to Postfix again over 4 connections with `TCP_NODELAY` at once (smebridge's
//!    pool size, see src/smtp.rs). For reference, once more with lettre's pooled
//!    `AsyncSmtpTransport` (4 in flight, no `TCP_NODELAY`: what smebridge used before), one after
//!    the other on one `TCP_NODELAY` connection, and with `--sequential-floor` one after the
//!    other through lettre's pool.
//!
//! smebridge sends the acknowledgements of each recorded batch while it fetches and records the
//! next (src/outbox.rs `Sender`), so its floor is the larger of fetch and send, not their sum.
//!
//! Then, on the main stack (the backlog recorded): **latency** ([`latency`]) with `smebridge run`
//! idle on IDLE: applications sent one at a time over SMTP; for each, the time from Postfix
//! accepting it to smebridge's acknowledgement being accepted by Postfix (smebridge's `reply
//! sent` log line, which it writes when Postfix has said 250 to the data), and to that
//! acknowledgement lying in the applicant's maildir (the file name Dovecot gives it carries the
//! delivery time in microseconds). A bare async-imap client idles on the same mailbox meanwhile:
//! when it is woken is the floor of any IDLE-driven reply.
//!
//! Prints one table and writes it as JSON (`--json`) ([`report`]). Every IMAP and SMTP
//! connection the benchmark makes itself sets `TCP_NODELAY`, as smebridge's IMAP connection does.
//!
//! `BENCH_LOG_DIR=DIR` keeps smebridge's JSON logs (`once.log`, `run.log`) in DIR, and
//! `BENCH_RUST_LOG=smebridge=debug` raises their level, for finding where time goes.

mod backlog;
mod floor;
mod latency;
mod mails;
mod report;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;

use crate::mails::Corpus;
use crate::report::Report;

/// The center's address, whose mailbox is seeded.
const CENTER: &str = mailstack::desk::CENTER;
/// The pool size smebridge's own transport uses (src/smtp.rs).
const SMTP_POOL: u32 = 4;
/// Arrival time of the seeded backlog: before the deadline.
const INTERNALDATE: &str = "\"16-Nov-2022 10:00:00 +0900\"";

/// A list of numbers given as one comma-separated value. (A type alias, so that clap takes it
/// as one value rather than one per occurrence.)
type Sizes = Vec<usize>;
/// A command line given as one value, split at white space.
type CommandLine = Vec<String>;

/// smebridge against the floor on a private Dovecot + Postfix (see BENCHMARKS.md).
#[derive(Parser, Debug)]
#[command(name = "bench", after_help = "Usually run as scripts/bench, which builds smebridge (release) first.")]
pub struct Args {
    /// The smebridge binary to measure (a release build).
    #[arg(long, value_name = "PATH", value_parser = existing_file)]
    pub smebridge: PathBuf,
    /// The main backlog size; the latency run uses its stack.
    #[arg(long, default_value = "5000", value_parser = at_least_one)]
    pub n: usize,
    /// More backlog sizes for the scaling check, comma-separated ('' for none).
    #[arg(long, default_value = "1000", value_name = "N,N,…", value_parser = sizes)]
    pub scale: Sizes,
    /// Latency samples: applications sent one at a time to `smebridge run` (0: no latency run).
    #[arg(long, default_value = "50", value_parser = number)]
    pub latency: usize,
    /// Where the results are written as JSON.
    #[arg(long, value_name = "FILE", default_value = "bench-results.json")]
    pub json: PathBuf,
    /// Run smebridge with `bcc_self = true` (a copy of every reply to the center).
    #[arg(long)]
    pub bcc_self: bool,
    /// Also measure sending one reply after the other through lettre's pool.
    #[arg(long)]
    pub sequential_floor: bool,
    /// Keep each mail stack in DIR/nN (for inspection) instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Run every `smebridge once` under a profiler, e.g. 'strace -f -c -o FILE'; its times and
    /// RSS are then the wrapper's, not a measurement.
    #[arg(long, value_name = "COMMAND", value_parser = command_line)]
    pub wrap: Option<CommandLine>,
}

fn number(value: &str) -> Result<usize, String> {
    value.replace('_', "").parse().map_err(|_| format!("{value:?} is not a number"))
}

fn at_least_one(value: &str) -> Result<usize, String> {
    match number(value)? {
        0 => Err("must be at least 1".to_owned()),
        n => Ok(n),
    }
}

fn sizes(value: &str) -> Result<Sizes, String> {
    value.split(',').filter(|s| !s.trim().is_empty()).map(|s| number(s.trim())).collect()
}

fn command_line(value: &str) -> Result<CommandLine, String> {
    Ok(value.split_whitespace().map(str::to_owned).collect())
}

fn existing_file(value: &str) -> Result<PathBuf, String> {
    Path::new(value).canonicalize().map_err(|e| format!("{value}: {e}"))
}

/// The repository's root: sample mails, fixtures, reply templates, the git commit.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    match bench(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(args: &Args) -> Result<()> {
    let started = Instant::now();
    let corpus = Corpus::load()?;
    let machine = report::machine();
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
    let (main, stack, desk) = backlog::backlog(args, &corpus, args.n).await?;
    let latency = if args.latency > 0 { Some(latency::latency(args, &corpus, &stack, &desk).await?) } else { None };
    drop(stack);
    drop(desk);

    let mut scaling = vec![main.clone()];
    let mut sizes: Vec<usize> = args.scale.iter().copied().filter(|&n| n != args.n).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for n in sizes {
        let (result, stack, desk) = backlog::backlog(args, &corpus, n).await?;
        drop(stack);
        drop(desk);
        scaling.push(result);
    }
    scaling.sort_by_key(|r| r.n);

    let total = started.elapsed();
    let command = std::env::var("BENCH_COMMAND").unwrap_or_else(|_| std::env::args().collect::<Vec<_>>().join(" "));
    let report = Report { machine, command, args, main, latency, scaling, total };
    let table = report.table();
    println!("\n{table}");
    let json = report.json();
    std::fs::write(&args.json, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("cannot write {}", args.json.display()))?;
    println!("written: {}", args.json.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_of_scripts_bench_still_parses() {
        let args = Args::try_parse_from([
            "bench",
            "--smebridge",
            "/",
            "--n",
            "1_000",
            "--scale",
            "1000,5000,20000",
            "--latency",
            "0",
            "--bcc-self",
            "--wrap",
            "strace -f -c -o out",
        ])
        .unwrap();
        assert_eq!((args.n, args.scale, args.latency), (1000, vec![1000, 5000, 20000], 0));
        assert!(args.bcc_self && !args.sequential_floor);
        assert_eq!(args.wrap.unwrap(), ["strace", "-f", "-c", "-o", "out"]);

        let args = Args::try_parse_from(["bench", "--smebridge", "/", "--scale", ""]).unwrap();
        assert_eq!((args.n, args.scale, args.latency), (5000, vec![], 50));
        assert!(Args::try_parse_from(["bench", "--smebridge", "/", "--n", "0"]).is_err());
        assert!(Args::try_parse_from(["bench", "--n", "10"]).is_err(), "--smebridge is required");
    }
}
