//! Logging with tracing: readable lines by default, JSON with `--log-format json`.
//! `RUST_LOG` overrides the level (e.g. `RUST_LOG=smebridge=debug`). At info level no applicant's
//! name, address or phone is logged; message ids and outcomes are.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Install the global subscriber, writing to standard error.
pub fn init(format: LogFormat, verbose: bool) {
    let default = if verbose { "smebridge=debug,info" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A subscriber may already be installed (tests); that is fine.
    drop(result);
}
