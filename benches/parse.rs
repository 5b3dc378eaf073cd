//! Microbenchmarks of `smebridge::parse::parse` (raw bytes → `Inbound`), the CPU-bound step of the
//! pipeline: every demo mail (`examples/demo-mail/`) on its own in bytes per second; the demo
//! mails and the parsing corpus (`tests/fixtures/`, when present) each as a whole in messages and
//! bytes per second; and one application carrying a 3 MB attachment (the size of a scanned
//! business registration), with the SHA-256 the pipeline takes of every message for comparison.
//!
//! Field extraction on its own (`parse::steps::read_fields`, labels → fields with their sources) is
//! measured on the decoded body texts of the fixture corpus, in texts and bytes per second.
//!
//! The mails are parsed with CRLF line endings, as they come from IMAP.
//!
//! `cargo bench --bench parse` (add `-- --quick` for a short run). See BENCHMARKS.md.

use mailstack::client::crlf;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smebridge::parse::steps::read_fields as read;
use smebridge::parse::{parse, sha256_hex, InProcess};

/// Every `.eml` in `dir`, as (name, CRLF bytes), sorted by name.
fn samples(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, crlf(&raw))
        })
        .collect()
}

/// An application (Korean, plain text) with a `size`-byte PDF attachment, base64 in 76-column lines.
fn with_attachment(size: usize) -> Vec<u8> {
    let mut payload = Vec::with_capacity(size);
    let mut x: u32 = 0x9e37_79b9;
    while payload.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        payload.extend_from_slice(&x.to_le_bytes());
    }
    payload.truncate(size);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
    let mut mail = String::from(
        "From: =?UTF-8?B?6rmA66+87KSA?= <kim.minjun@hanbit-tech.example>\r\n\
         To: smebridge@kaist.ac.kr\r\n\
         Subject: =?UTF-8?B?7JuM7YGs7IiNIOywuOqwgCDsi6Dssq3tlanri4jri6Q=?=\r\n\
         Date: Wed, 16 Nov 2022 10:02:11 +0900\r\n\
         Message-ID: <bench-attachment@hanbit-tech.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         성명: 김민준\r\n소속: (주)한빛테크\r\n직위: 책임연구원\r\n연락처: 010-1234-5678\r\n참석인원: 2명\r\n\r\n\
         사업자등록증 사본을 첨부합니다.\r\n\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"registration.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"registration.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in encoded.as_bytes().chunks(76) {
        mail.push_str(std::str::from_utf8(line).unwrap_or_default());
        mail.push_str("\r\n");
    }
    mail.push_str("--b1--\r\n");
    mail.into_bytes()
}

fn bench_parse(c: &mut Criterion) {
    let demo = samples("examples/demo-mail");
    let fixtures = samples("tests/fixtures");
    assert!(!demo.is_empty(), "no sample mails in examples/demo-mail");

    // Each demo mail on its own: bytes per second.
    let mut each = c.benchmark_group("parse/demo");
    for (name, raw) in &demo {
        let sha = sha256_hex(raw);
        each.throughput(Throughput::Bytes(raw.len() as u64));
        each.bench_with_input(BenchmarkId::from_parameter(name), raw, |b, raw| {
            b.iter(|| parse(black_box(raw), &sha, &InProcess))
        });
    }
    each.finish();

    // Each set in a row, the way a mixed backlog arrives: messages per second and bytes per
    // second. The fixtures are the parsing corpus (charsets, forwards, signatures, attached
    // forms, hostile MIME), so they are slower on average than real applications.
    for (set, mails) in [("demo-mail", &demo), ("fixtures", &fixtures)] {
        if mails.is_empty() {
            continue;
        }
        let hashes: Vec<String> = mails.iter().map(|(_, raw)| sha256_hex(raw)).collect();
        let total: u64 = mails.iter().map(|(_, raw)| raw.len() as u64).sum();
        let mut group = c.benchmark_group(format!("parse/all-{set}"));
        for (label, throughput) in
            [("messages", Throughput::Elements(mails.len() as u64)), ("bytes", Throughput::Bytes(total))]
        {
            group.throughput(throughput);
            group.bench_function(label, |b| {
                b.iter(|| {
                    for ((_, raw), sha) in mails.iter().zip(&hashes) {
                        black_box(parse(black_box(raw), sha, &InProcess));
                    }
                })
            });
        }
        group.finish();
    }

    // Field extraction alone, on the bodies as the parser decoded them (charset, HTML, quotes
    // already dealt with): how much of parsing is reading the labels.
    let texts: Vec<String> =
        fixtures.iter().chain(&demo).map(|(_, raw)| parse(raw, &sha256_hex(raw), &InProcess).text).collect();
    let text_bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let mut extraction = c.benchmark_group("fields/read");
    for (label, throughput) in
        [("texts", Throughput::Elements(texts.len() as u64)), ("bytes", Throughput::Bytes(text_bytes))]
    {
        extraction.throughput(throughput);
        extraction.bench_function(label, |b| {
            b.iter(|| {
                for text in &texts {
                    black_box(read(black_box(text)));
                }
            })
        });
    }
    extraction.finish();

    // A multi-MB attachment: decoding it dominates. Also the SHA-256 the pipeline takes of every
    // message before parsing it, for comparison.
    let big = with_attachment(3 << 20);
    let sha = sha256_hex(&big);
    let mut large = c.benchmark_group("parse/3MB-attachment");
    large.sample_size(20);
    large.throughput(Throughput::Bytes(big.len() as u64));
    large.bench_function("parse", |b| b.iter(|| parse(black_box(&big), &sha, &InProcess)));
    large.bench_function("sha256", |b| b.iter(|| sha256_hex(black_box(&big))));
    large.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
