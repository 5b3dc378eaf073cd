//! Logging with tracing: readable lines by default, JSON with `--log-format json`.
//! `RUST_LOG` sets the level (e.g. `RUST_LOG=smebridge=debug`), within two limits no `RUST_LOG`
//! value can lift, because they are separate filters at the subscriber, not directives that a
//! more specific directive could override:
//!
//! - **Protocol echo is off at every level.** The IMAP and SMTP clients and the TLS stack log the
//!   traffic itself at debug and trace level: async-imap's trace target prints the IMAP `LOGIN`
//!   command with the password, lettre's debug target every line it writes (whole replies and
//!   staff summaries, with names and phones, and `AUTH PLAIN` with the SMTP password in base64).
//!   Events from [`PROTOCOL_CRATES`] never reach the output; other crates' events only at `warn`
//!   and `error`. smebridge's own events follow `RUST_LOG`.
//! - **Addresses are masked in every line written**: `kim@hanbit.example` is written
//!   `***@hanbit.example` ([`mask_addresses`]), so an error text that quotes an address (a mail
//!   server's "<kim@…>: Recipient address rejected") does not put it in the log.
//!
//! smebridge's own events carry ids, UIDs, counts and outcomes, never an applicant's name,
//! address, phone, subject or text, at any level.

use std::borrow::Cow;
use std::io::{self, Write};

use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Crates whose logs echo protocol traffic (commands, replies, message bytes, credentials):
/// silenced at every level, whatever `RUST_LOG` says.
pub const PROTOCOL_CRATES: &[&str] = &[
    "async_imap",
    "imap_proto",
    "lettre",
    "rustls",
    "tokio_rustls",
    "rustls_pki_types",
    "webpki",
    "mail_parser",
    "mail_builder",
    "html5gum",
];

/// Install the global subscriber, writing to standard error.
pub fn init(format: LogFormat, verbose: bool) {
    let default = if verbose { "smebridge=debug,info" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let output = tracing_subscriber::fmt::layer().with_writer(MaskedStderr);
    let output = match format {
        LogFormat::Text => output.boxed(),
        LogFormat::Json => output.json().flatten_event(true).boxed(),
    };
    // `try_init` also routes the `log` crate's records (async-imap logs through it) into this
    // subscriber; they pass the same filters, by their own target.
    let directives = filter.to_string();
    let result = tracing_subscriber::registry().with(NoProtocolEcho).with(filter).with(output).try_init();
    // A subscriber may already be installed (tests); that is fine.
    if result.is_ok() {
        tracing::debug!(
            %directives,
            silenced = PROTOCOL_CRATES.join(","),
            "logging: these crates' protocol traffic is never written, at any level"
        );
    }
}

/// May an event or span with this metadata be written at all? See the module documentation.
pub fn allowed(metadata: &Metadata<'_>) -> bool {
    let target = metadata.target();
    if in_crate(target, "smebridge") {
        return true;
    }
    if PROTOCOL_CRATES.iter().any(|c| in_crate(target, c)) {
        return false;
    }
    // tracing orders levels by verbosity: ERROR < WARN < INFO < DEBUG < TRACE.
    *metadata.level() <= Level::WARN
}

fn in_crate(target: &str, krate: &str) -> bool {
    target.strip_prefix(krate).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// The global filter of [`allowed`]: a layer of its own, so that it holds whatever the
/// `EnvFilter` beside it enables.
struct NoProtocolEcho;

impl<S: Subscriber> Layer<S> for NoProtocolEcho {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if allowed(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        allowed(metadata)
    }
}

/// Standard error, every line written through [`mask_addresses`].
struct MaskedStderr;

impl<'a> MakeWriter<'a> for MaskedStderr {
    type Writer = Masked<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        Masked(io::stderr())
    }
}

/// Writes what it is given with the addresses masked. The formatter hands over each event whole,
/// in one `write`.
pub struct Masked<W>(pub W);

impl<W: Write> Write for Masked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(mask_addresses(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Every `local@domain.tld` in `text` with its local part replaced by `***`; the domain is kept
/// (it tells a mail server's name from an applicant's company, and Message-IDs stay
/// recognisable by their domain).
pub fn mask_addresses(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let local = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let (before, after) = (&rest[..at], &rest[at + 1..]);
        let start = before.char_indices().rev().take_while(|&(_, c)| local(c)).last().map(|(i, _)| i);
        let end = after.find(|c: char| !domain(c)).unwrap_or(after.len());
        let host = after[..end].trim_end_matches(['.', '-']);
        match start {
            Some(start) if host.contains('.') => {
                out.push_str(&before[..start]);
                out.push_str("***@");
            }
            _ => {
                out.push_str(before);
                out.push('@');
            }
        }
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata_allowed(target: &'static str, level: Level) -> bool {
        struct Cs;
        impl tracing::callsite::Callsite for Cs {
            fn set_interest(&self, _: Interest) {}
            fn metadata(&self) -> &Metadata<'_> {
                unreachable!()
            }
        }
        static CS: Cs = Cs;
        let fields = tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CS));
        let meta = Metadata::new("event", target, level, None, None, None, fields, tracing::metadata::Kind::EVENT);
        allowed(&meta)
    }

    #[test]
    fn protocol_crates_are_silent_at_every_level_and_our_own_events_follow_rust_log() {
        for level in [Level::TRACE, Level::DEBUG, Level::INFO, Level::WARN, Level::ERROR] {
            assert!(!metadata_allowed("async_imap::imap_stream", level));
            assert!(!metadata_allowed("lettre::transport::smtp::client::async_connection", level));
            assert!(!metadata_allowed("rustls::client::hs", level));
            assert!(!metadata_allowed("imap_proto", level));
            assert!(metadata_allowed("smebridge::pipeline", level));
            assert!(metadata_allowed("smebridge", level));
        }
        // A crate whose name starts like ours is not ours.
        assert!(!metadata_allowed("smebridge_extra", Level::DEBUG));
        // Other crates: warnings and errors only.
        assert!(metadata_allowed("rusqlite", Level::WARN));
        assert!(metadata_allowed("tokio::runtime", Level::ERROR));
        assert!(!metadata_allowed("tokio::runtime", Level::DEBUG));
        assert!(!metadata_allowed("rusqlite", Level::INFO));
    }

    #[test]
    fn addresses_are_masked_and_the_rest_of_the_line_is_kept() {
        assert_eq!(
            mask_addresses(
                r#"WARN smebridge::outbox: reply failed error="550 5.1.1 <kim.minjun@hanbit-tech.example>: Recipient address rejected" outbox=3"#
            ),
            r#"WARN smebridge::outbox: reply failed error="550 5.1.1 <***@hanbit-tech.example>: Recipient address rejected" outbox=3"#
        );
        assert_eq!(mask_addresses("message_id=a1@hanbit.example uid=4"), "message_id=***@hanbit.example uid=4");
        assert_eq!(mask_addresses("{\"to\":\"이서연@다온.example\"}"), "{\"to\":\"***@다온.example\"}");
        // Not an address: nothing to mask.
        assert_eq!(mask_addresses("user@localhost, @everyone, a@b"), "user@localhost, @everyone, a@b");
        assert_eq!(mask_addresses("no at sign"), "no at sign");
        assert_eq!(mask_addresses("x@y.example."), "***@y.example.");
    }

    #[test]
    fn the_masking_writer_passes_whole_lines_through() {
        let mut out = Masked(Vec::new());
        out.write_all("a kim@a.example b\n".as_bytes()).unwrap();
        assert_eq!(String::from_utf8(out.0).unwrap(), "a ***@a.example b\n");
    }
}
