//! What smebridge reads from a parsing fixture, for writing its expectations: `smebridge
//! parse`'s explanation, then the parse result in the shape of the fixtures' `.json` (the shape
//! `tests/golden.rs` compares; `tests/golden/fixture_json.rs` makes it for both).
//!
//! Usage: `cargo run --example fixture -- NAME` (for `tests/fixtures/NAME.eml`) or
//! `cargo run --example fixture -- FILE.eml`.
//!
//! The expected `.json` is still written by hand in `tests/fixtures/make.py`, never copied from
//! here: this shows where the parser and the expectation differ.

#[path = "../tests/golden/fixture_json.rs"]
mod fixture_json;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use smebridge::parse::explain;

fn main() -> ExitCode {
    match show() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn show() -> Result<()> {
    let arg = std::env::args().nth(1).context("usage: cargo run --example fixture -- NAME|FILE.eml")?;
    let path = if arg.ends_with(".eml") {
        PathBuf::from(&arg)
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{arg}.eml"))
    };
    let raw = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    // The announcement the fixture's JSON names, if any, as the golden test reads it.
    let expected = std::fs::read_to_string(path.with_extension("json"))
        .ok()
        .and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok());
    let fixtures = path.parent().unwrap_or(Path::new("."));
    let announcement = expected.as_ref().and_then(|e| fixture_json::announcement_of(fixtures, e));
    let inbound = fixture_json::parse_announced(&raw, announcement.as_ref());
    println!("{}", explain(&inbound));
    println!("{:#}", fixture_json::actual_json(&inbound));
    Ok(())
}
