//! The report: one table on the terminal and the same as JSON, with the machine it ran on and
//! the targets of issue #7.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{json, Value};

use crate::backlog::Backlog;
use crate::latency::Latency;
use crate::{Args, SMTP_POOL};

/// Nearest-rank percentile (`q` = 1.0: the maximum); NaN for no samples.
pub fn pct(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

pub fn machine() -> Value {
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
            .current_dir(crate::repo_root())
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

pub struct Report<'a> {
    pub machine: Value,
    pub command: String,
    pub args: &'a Args,
    pub main: Backlog,
    pub latency: Option<Latency>,
    pub scaling: Vec<Backlog>,
    pub total: Duration,
}

impl Report<'_> {
    pub fn table(&self) -> String {
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

    pub fn json(&self) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values = [0.5, 0.1, 0.4, 0.2, 0.3];
        assert_eq!(pct(&values, 0.5), 0.3);
        assert_eq!(pct(&values, 0.95), 0.5);
        assert_eq!(pct(&values, 1.0), 0.5);
        assert_eq!(pct(&values, 0.0), 0.1);
        assert!(pct(&[], 0.5).is_nan());
    }
}
