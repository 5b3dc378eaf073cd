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
//!
//! How a text line looks depends on where standard error goes ([`Destination`]):
//!
//! - **the journal** (a systemd service: `$JOURNAL_STREAM` names standard error's device and
//!   inode, systemd.exec(5)): `<4>smebridge::daemon: mailbox connection lost; reconnecting
//!   retry_in_s=2` — an sd-daemon(3) priority prefix that journald turns into the entry's
//!   priority (so `journalctl -p warning` finds the warnings), no timestamp (journald stamps
//!   every entry), no level word, no colour;
//! - **a terminal**: time, level and colour (unless `$NO_COLOR` is set);
//! - **anything else** (a file, a pipe, cron's mail): the same without colour.
//!
//! `--log-format json` is one JSON object per line wherever it goes.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;

use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Full};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::layer::{Context, Layered, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

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
    let destination = Destination::of_stderr();
    let colour = destination.colour(std::env::var_os("NO_COLOR").as_deref());
    // `try_init` also routes the `log` crate's records (async-imap logs through it) into this
    // subscriber; they pass the same filters, by their own target.
    let directives = filter.to_string();
    let result = subscriber(filter, output(format, destination, colour, MaskedStderr)).try_init();
    // A subscriber may already be installed (tests); that is fine.
    if result.is_ok() {
        tracing::debug!(
            %directives,
            silenced = PROTOCOL_CRATES.join(","),
            "logging: these crates' protocol traffic is never written, at any level"
        );
    }
}

/// The whole subscriber: the two fixed filters of the module documentation, `filter` (from
/// `RUST_LOG`), then `output`.
fn subscriber(filter: EnvFilter, output: Box<dyn Layer<Filtered> + Send + Sync>) -> impl Subscriber + Send + Sync {
    tracing_subscriber::registry().with(NoProtocolEcho).with(filter).with(output)
}

/// What the output layer sits on.
type Filtered = Layered<EnvFilter, Layered<NoProtocolEcho, Registry>>;

/// The layer that writes each event to `writer`, formatted for `destination`.
fn output<S, W>(format: LogFormat, destination: Destination, colour: bool, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(colour);
    match (format, destination) {
        (LogFormat::Json, _) => layer.json().flatten_event(true).boxed(),
        (LogFormat::Text, Destination::Journal) => layer.event_format(JournalFormat::default()).boxed(),
        (LogFormat::Text, _) => layer.boxed(),
    }
}

/// Where standard error goes, which decides how a text line looks (module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The journal stream systemd connected to a service.
    Journal,
    /// A terminal.
    Terminal,
    /// A file, a pipe, anything else.
    Other,
}

impl Destination {
    /// Where this process's standard error goes now.
    pub fn of_stderr() -> Destination {
        let stderr = io::stderr();
        if is_journal_stream(std::env::var_os("JOURNAL_STREAM").as_deref(), stderr.as_fd()) {
            Destination::Journal
        } else if stderr.is_terminal() {
            Destination::Terminal
        } else {
            Destination::Other
        }
    }

    /// ANSI colour only on a terminal, and not there either when `$NO_COLOR` is set to
    /// something (<https://no-color.org/>).
    pub fn colour(self, no_color: Option<&OsStr>) -> bool {
        self == Destination::Terminal && no_color.is_none_or(|v| v.is_empty())
    }
}

/// Is `fd` the journal stream that `$JOURNAL_STREAM` (`value`, `"DEVICE:INODE"` in decimal)
/// names? systemd.exec(5): compare the device and inode, since the variable is inherited by
/// every child, also one whose standard error went elsewhere.
pub fn is_journal_stream(value: Option<&OsStr>, fd: BorrowedFd<'_>) -> bool {
    let Some((dev, ino)) = value.and_then(OsStr::to_str).and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    // A duplicate of the descriptor, to ask for its metadata; closed again when dropped.
    match fd.try_clone_to_owned().map(std::fs::File::from).and_then(|f| f.metadata()) {
        Ok(meta) => meta.dev() == dev && meta.ino() == ino,
        Err(_) => false,
    }
}

/// The sd-daemon(3) priority of a level: `<3>` error, `<4>` warning, `<6>` info, `<7>` debug
/// (trace too).
pub fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// A text line for the journal: the event as the terminal shows it but without time, level and
/// colour, behind its priority prefix. Every line of a multi-line event carries the prefix
/// (journald reads each line as an entry of its own).
pub struct JournalFormat {
    inner: format::Format<Full, ()>,
}

impl Default for JournalFormat {
    fn default() -> Self {
        JournalFormat { inner: format::format().without_time().with_level(false).with_ansi(false) }
    }
}

impl<S, N> FormatEvent<S, N> for JournalFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut text = String::new();
        self.inner.format_event(ctx, format::Writer::new(&mut text), event)?;
        let priority = priority(*event.metadata().level());
        for line in text.trim_end_matches('\n').split('\n') {
            writeln!(writer, "<{priority}>{}", line.trim_end_matches('\r'))?;
        }
        Ok(())
    }
}

/// The last word of a command that failed: `smebridge: {message}` on standard error, each line
/// behind the error priority `<3>` when standard error is the journal.
pub fn fatal(message: &str) {
    let prefix = if Destination::of_stderr() == Destination::Journal { "<3>" } else { "" };
    let mut text = String::new();
    for line in format!("smebridge: {message}").lines() {
        let _ = writeln!(text, "{prefix}{line}");
    }
    let _ = io::stderr().write_all(text.as_bytes());
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

    /// Everything the subscriber writes, through the same masking writer as standard error.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    struct CapturedWriter(Captured);

    impl Write for CapturedWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 .0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Masked<CapturedWriter>;
        fn make_writer(&'a self) -> Self::Writer {
            Masked(CapturedWriter(self.clone()))
        }
    }

    /// What the program's subscriber writes for a few events, formatted for `destination`.
    fn written(format: LogFormat, destination: Destination, colour: bool) -> String {
        let captured = Captured::default();
        let subscriber = subscriber(EnvFilter::new("trace"), output(format, destination, colour, captured.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!("cannot open the database");
            tracing::warn!(retry_in_s = 2, "mailbox connection lost; reconnecting");
            tracing::info!(mailbox = %"INBOX", "smebridge is running");
            tracing::debug!("IDLE renewed");
            tracing::trace!("a trace line");
            tracing::warn!(error = %"550 5.1.1 <kim.minjun@hanbit-tech.example>: Recipient address rejected", "reply failed");
            tracing::warn!("first line\nsecond line");
            let span = tracing::info_span!("sync", uid = 4);
            span.in_scope(|| tracing::info!("recorded"));
            // The protocol crates stay silent here too.
            tracing::error!(target: "async_imap::imap_stream", "A0001 LOGIN user secret");
        });
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn journal_lines_carry_the_priority_and_neither_time_nor_level_nor_colour() {
        let text = written(LogFormat::Text, Destination::Journal, false);
        let here = "smebridge::logging::tests";
        assert_eq!(
            text,
            [
                format!("<3>{here}: cannot open the database"),
                format!("<4>{here}: mailbox connection lost; reconnecting retry_in_s=2"),
                format!("<6>{here}: smebridge is running mailbox=INBOX"),
                format!("<7>{here}: IDLE renewed"),
                format!("<7>{here}: a trace line"),
                format!(
                    "<4>{here}: reply failed error=550 5.1.1 <***@hanbit-tech.example>: Recipient address rejected"
                ),
                format!("<4>{here}: first line"),
                "<4>second line".to_owned(),
                format!("<6>sync{{uid=4}}: {here}: recorded"),
                String::new(),
            ]
            .join("\n")
        );
    }

    #[test]
    fn other_destinations_keep_time_and_level_and_colour_only_on_a_terminal() {
        let plain = written(LogFormat::Text, Destination::Other, false);
        assert!(!plain.contains("\x1b["), "{plain}");
        assert!(!plain.contains("<4>"), "{plain}");
        let line = plain.lines().find(|l| l.contains("mailbox connection lost")).unwrap();
        // `2026-12-01T14:39:07.764377Z  WARN smebridge::logging::tests: mailbox connection lost; …`
        let (time, rest) = line.split_once(' ').unwrap();
        assert!(time.parse::<jiff::Timestamp>().is_ok(), "{line}");
        assert!(rest.trim_start().starts_with("WARN smebridge::logging::tests: mailbox connection lost"), "{line}");
        assert!(plain.contains("<***@hanbit-tech.example>") && !plain.contains("kim.minjun"), "{plain}");

        let terminal = written(LogFormat::Text, Destination::Terminal, true);
        assert!(terminal.contains("\x1b["), "{terminal}");

        let json = written(LogFormat::Json, Destination::Journal, false);
        let first: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
        assert_eq!(first["level"], "WARN");
        assert_eq!(first["message"], "mailbox connection lost; reconnecting");
        assert!(!json.contains("kim.minjun") && !json.contains("LOGIN"), "{json}");
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(Destination::Terminal.colour(None));
        assert!(Destination::Terminal.colour(Some(OsStr::new(""))));
        assert!(!Destination::Terminal.colour(Some(OsStr::new("1"))));
        assert!(!Destination::Other.colour(None));
        assert!(!Destination::Journal.colour(None));
    }

    #[test]
    fn the_journal_stream_is_recognised_by_device_and_inode_not_by_the_variable_alone() {
        let file = tempfile::tempfile().unwrap();
        let other = tempfile::tempfile().unwrap();
        let meta = file.metadata().unwrap();
        let value = format!("{}:{}", meta.dev(), meta.ino());
        assert!(is_journal_stream(Some(OsStr::new(&value)), file.as_fd()));
        // Set, but for another stream (a child whose standard error was redirected).
        assert!(!is_journal_stream(Some(OsStr::new(&value)), other.as_fd()));
        assert!(!is_journal_stream(None, file.as_fd()));
        for nonsense in ["", ":", "12", "a:b", "1:2:3"] {
            assert!(!is_journal_stream(Some(OsStr::new(nonsense)), file.as_fd()), "{nonsense}");
        }
    }

    #[test]
    fn the_masking_writer_passes_whole_lines_through() {
        let mut out = Masked(Vec::new());
        out.write_all("a kim@a.example b\n".as_bytes()).unwrap();
        assert_eq!(String::from_utf8(out.0).unwrap(), "a ***@a.example b\n");
    }
}
