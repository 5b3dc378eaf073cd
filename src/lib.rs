//! smebridge runs a workshop registration desk out of an ordinary mailbox.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! mailbox (IMAP) --fetch--> raw bytes --parse--> Inbound --decide--> Decision --store--> SQLite
//!                                                                      |                   |
//!                                                                      +--> outbox row ----+--send--> SMTP
//! ```
//!
//! - [`imap`] connects to the mailbox, lists UIDs, fetches raw messages (`BODY.PEEK[]`) and waits
//!   for new mail with IDLE (or polls).
//! - [`parse`] turns raw bytes into an [`parse::Inbound`]: decoded headers, body text and the
//!   applicant's fields. It never fails: what it cannot read it records as a problem. Behind a
//!   narrow facade, `parse/message/` reads the mail (structure, headers, charsets, bodies),
//!   `parse/applicant/` the applicant from text, and `parse/attachments/` lists the attachments
//!   and turns attached forms into text, one file per format.
//! - [`domain`] holds the typed values (email addresses, applications, event ids) and the pure
//!   decisions (which event is it for? is it late? is it automatic mail? is it a duplicate?),
//!   which take every input as an argument.
//! - [`store`] is the SQLite database, the source of truth: every message with its raw bytes, the
//!   applications, the outbox and the per-mailbox sync state, one file per concern under
//!   `src/store/`. Writes that belong together share a transaction; every column that holds a
//!   state is an enum here ([`domain::Outcome`], [`domain::MailKind`], [`store::OutboxState`], …)
//!   and a `CHECK` there.
//! - [`reply`] renders acknowledgements and rejections from the templates in `config/templates/`.
//! - [`outbox`] sends pending replies over SMTP, retrying with backoff, and records each outcome.
//! - [`pipeline`] ties fetch → record → parse → decide → store together: raw bytes are recorded
//!   before anything is parsed, so a message that kills the parser is recognised at the next start.
//! - [`isolate`] runs the third-party file parsers (attached forms) in child processes with
//!   memory, CPU and wall-clock limits, and tries a suspect message in one before reading it.
//! - [`daemon`] is the loop (`run`) and the single pass (`once`); shutdown is an injected future.
//!   It reads the clocks (the system clock for mail, [`clock::now`] for scheduling) and passes
//!   `now` down (as `main.rs` does for `summary` and `stats`); nothing below them reads a clock.
//! - [`summary`] is the staff's daily summary: when it is due, what it says (Korean and English,
//!   from the templates in `src/summary/templates/`), its chart, and the mail queued for staff.
//! - [`export`] writes the applications for staff as CSV, JSON or an XLSX workbook (the `export`
//!   command; the summary attaches the workbook and the CSV); [`check`] verifies a configuration
//!   end to end.
//! - [`staff`] holds the staff's corrections from the command line (`smebridge application …`):
//!   giving unrouted mail, or a misrouted application, to an event.
//! - [`config`] turns the TOML file into a validated [`config::Config`]: one event or several
//!   (`[[event]]`), each with its id, dates, seats and the words that route mail to it.
//! - [`instance`] keeps it to one smebridge per database: every command that writes claims the
//!   database first (a lock file beside it); readers open it read-only.
//! - [`ops`] keeps the desk: `backup` and `restore` of the database, and `reparse` (the stored
//!   mail read again by this version's parser, the changes recorded with their history).

pub mod check;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod domain;
pub mod export;
pub mod imap;
pub mod instance;
pub mod isolate;
pub mod logging;
pub mod oauth2;
pub mod ops;
pub mod outbox;
pub mod parse;
pub mod pipeline;
pub mod reply;
pub mod smtp;
pub mod staff;
pub mod store;
pub mod summary;
pub mod tls;
