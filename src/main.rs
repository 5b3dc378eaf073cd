//! The `smebridge` command: parse the command line, load the configuration, call the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use smebridge::config::{Config, DEFAULT_PATH};
use smebridge::domain::{EventId, Status};
use smebridge::export::{self, Format};
use smebridge::logging::{self, LogFormat};
use smebridge::store::Store;
use smebridge::{check, daemon, isolate, ops, summary};

/// A registration desk run out of an ordinary mailbox: reads applications over IMAP, records
/// them in SQLite, answers over SMTP.
#[derive(Debug, Parser)]
#[command(name = "smebridge", version)]
struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "SMEBRIDGE_CONFIG", default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Log more (debug level for smebridge).
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: wait for mail (IDLE, or polling), record it, answer it. Stops cleanly on
    /// SIGTERM or SIGINT.
    Run {
        /// On a first start, answer everything already in the mailbox, however much it is.
        #[arg(long)]
        accept_backlog: bool,
    },
    /// One pass: record every message not yet recorded, send every pending reply, exit.
    Once {
        /// On a first start, answer everything already in the mailbox, however much it is.
        #[arg(long)]
        accept_backlog: bool,
    },
    /// Write every application, one row each, header first (csv: UTF-8; xlsx: needs --output).
    Export {
        /// Only the applications for this event (its id); default: every event.
        #[arg(long)]
        event: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Only applications with these statuses (accepted, late, cancelled, waitlisted).
        #[arg(long, value_delimiter = ',')]
        status: Vec<String>,
    },
    /// Write the sign-in sheet for the desk on the day (XLSX, mode 0600): every accepted person,
    /// by organization and name, with columns to sign and tick the name badge, ready to print
    /// on A4; a second sheet holds the waiting list. Works while smebridge runs.
    Sheet {
        /// The event (its id); may be left out when the configuration has one event.
        #[arg(long)]
        event: Option<String>,
        #[arg(long, value_name = "FILE.xlsx")]
        output: PathBuf,
    },
    /// Print the staff summary for a day (default: today), or send it to staff now.
    Summary {
        /// Only this event (its id); default: every event.
        #[arg(long)]
        event: Option<String>,
        /// The day, YYYY-MM-DD in the event's time zone.
        #[arg(long)]
        date: Option<jiff::civil::Date>,
        /// Send it to the staff recipients now instead of printing it.
        #[arg(long)]
        send: bool,
    },
    /// Print where registration stands.
    Stats {
        /// Only this event (its id); default: every event.
        #[arg(long)]
        event: Option<String>,
    },
    /// Staff corrections: an application by its number (SME-0004), a recorded message by its
    /// reference (MSG-0012, as the summary shows unrouted mail). While the daemon runs, the
    /// corrections are written beside it and it sends their replies on its next pass.
    Application {
        #[command(subcommand)]
        action: ApplicationAction,
    },
    /// Check the configuration, the templates, the database, and the IMAP and SMTP logins.
    Check,
    /// OAuth 2.0 logins (Microsoft 365, Google Workspace, …).
    Oauth2 {
        #[command(subcommand)]
        action: Oauth2Action,
    },
    /// Copy the database to FILE (mode 0600): a consistent copy, also while smebridge runs.
    Backup {
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Put a backup (FILE) in place of the database; refused while smebridge runs. The database
    /// it replaces is kept beside it.
    Restore {
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Restore it even though it remembers another mailbox (name or UIDVALIDITY) than the
        /// database it replaces.
        #[arg(long)]
        force: bool,
    },
    /// Read every stored message again with this version's parser and show what that changes in
    /// each application; --apply records the changes (no mail is sent).
    Reparse {
        /// Record the changes (needs the database to itself: stop the daemon first).
        #[arg(long)]
        apply: bool,
    },
    /// Delete the personal data of every event past [retention] delete_personal_data_after (mail,
    /// attachments, names, phones, addresses); counts by day, organization type and status stay
    /// for `stats`. Needs the database to itself (stop the daemon first).
    Purge {
        /// Only show what would be deleted (works while smebridge runs).
        #[arg(long)]
        dry_run: bool,
    },
    /// Show what smebridge reads in a message file (.eml): sender, subject, automatic-mail
    /// signals, why it counts as an application or not, and the applicant's fields with where
    /// each was read. Needs no configuration.
    Parse {
        /// The raw message.
        file: PathBuf,
        /// The announcement the center sent (.eml or text), as `[event] announcement_file`: its
        /// text is never data, values typed into its quoted form are; its sender is the center.
        /// Repeat it for several events' announcements.
        #[arg(long)]
        announcement: Vec<PathBuf>,
        /// The center's address, as the daemon knows it from `[smtp] from`: whether the mail is
        /// addressed to it is weighed (default: the announcement's sender, else not weighed).
        #[arg(long)]
        center: Option<String>,
    },
    /// Internal: read one attached form from standard input in a confined child process (see
    /// `smebridge::isolate`).
    #[command(hide = true)]
    ReadForm {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        size: usize,
    },
    /// Internal: a trial read of one message from standard input in a confined child process;
    /// with `--answer`, a whole read that answers with what the message says.
    #[command(hide = true)]
    ReadMessage {
        #[arg(long)]
        size: usize,
        #[arg(long)]
        answer: bool,
        /// The center's address (as `[smtp] from`).
        #[arg(long)]
        center: Option<String>,
        /// An event's announcement file (repeated).
        #[arg(long)]
        announcement: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ApplicationAction {
    /// Show an application (SME-0004): its fields, status and history. Reads only.
    Show {
        /// SME-0004.
        application: String,
    },
    /// Correct an application's fields; each value that changes is recorded in its history
    /// ("staff via CLI", with your login name). No mail is sent unless --notify.
    Edit {
        /// SME-0004.
        application: String,
        /// Send the applicant the update confirmation (as for an update by mail), now.
        #[arg(long)]
        notify: bool,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        organization: Option<String>,
        #[arg(long)]
        position: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        attendees: Option<u32>,
    },
    /// Cancel an application (recorded in its history); its seats go to the waiting list, and
    /// those who move up are told by mail now, as when an applicant cancels by mail.
    Cancel {
        /// SME-0004.
        application: String,
        /// Send the applicant the cancellation confirmation (as for a cancellation by mail, with
        /// the calendar's cancellation), now.
        #[arg(long)]
        notify: bool,
    },
    /// Register someone by phone or in person (no mail): judged by the event's seats as a mail
    /// would be (accepted, or on the waiting list), recorded in its history ("staff via CLI").
    Add {
        /// The event's id, e.g. ws-2211.
        #[arg(long)]
        event: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        organization: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        position: Option<String>,
        #[arg(long)]
        attendees: Option<u32>,
        /// Send the applicant the acknowledgement (or the waiting-list reply), now.
        #[arg(long)]
        notify: bool,
    },
    /// Send the applicant their last acknowledgement again (written from the application as it
    /// stands; the rate limits apply), now.
    Resend {
        /// SME-0004.
        application: String,
    },
    /// Mark what needed a person as dealt with, so it no longer shows under "needs a person":
    /// an application's review notes are cleared (recorded in its history with the note); a
    /// recorded message that is no application (an inquiry, unreadable or unrouted mail, …) is
    /// marked resolved, with who, when and the note.
    Resolve {
        /// SME-0004 or MSG-0012.
        reference: String,
        /// Why, or what was done (kept in the history, or with the message).
        #[arg(long)]
        note: Option<String>,
    },
    /// Give an unrouted message (MSG-0012) or an application that went to the wrong event
    /// (SME-0004) to an event: it is decided as an application for that event and answered as
    /// usual; the reply is sent now (by the daemon, on its next pass, while it runs).
    AssignEvent {
        /// SME-0004 or MSG-0012.
        reference: String,
        /// The event's id, e.g. ws-2211.
        event: String,
    },
}

#[derive(Debug, Subcommand)]
enum Oauth2Action {
    /// Get the first refresh token: sign in once as the mailbox's user (a code to enter, or an
    /// address to open in a browser) and save the token in refresh_token_file, mode 0600.
    Authorize {
        /// How to sign in (default: device for Microsoft, browser for Google).
        #[arg(long, value_enum)]
        flow: Option<smebridge::oauth2::Flow>,
        /// Use the oauth2 settings of [smtp] (when it has its own) instead of [imap].
        #[arg(long)]
        smtp: bool,
        /// Write the refresh token here instead of refresh_token_file.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Large allocations (1 MiB and up: a fetched message, a decoded attachment) get pages of their
/// own from the kernel and give them back when freed. glibc's default moves that threshold up
/// to the largest block freed so far (up to 32 MiB), after which such blocks come from the heap
/// and stay resident once freed: one pass over a mailbox of large messages then holds the
/// freed buffer of one message beside the next (a peak of 98 MB where one message needs 70).
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt(3) only sets a parameter of the allocator, which it may be given at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    return_large_allocations();
    let cli = Cli::parse();
    // The confined children start nothing: no logging, no runtime, no configuration.
    let child = match &cli.command {
        Command::ReadForm { kind, size } => Some(isolate::serve_form(kind, *size)),
        Command::ReadMessage { size, answer, center, announcement } => {
            let setup = isolate::Setup { center: center.clone(), announcements: announcement.clone() };
            Some(isolate::serve_message(*size, *answer, &setup))
        }
        _ => None,
    };
    if let Some(served) = child {
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("smebridge: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    // A staff command beside a claimant nudges it (`daemon::NUDGE`); `run` listens for it, every
    // other command ignores it rather than die of it.
    // SAFETY: signal(2) with SIG_IGN, before any thread starts.
    unsafe { libc::signal(daemon::NUDGE, libc::SIG_IGN) };
    logging::init(cli.log_format, cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            logging::fatal(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Run { accept_backlog } => {
            let config = Config::load(&cli.config)?;
            runtime.block_on(daemon::run(config, daemon::Start { accept_backlog }, shutdown_signal()))?;
        }
        Command::Once { accept_backlog } => {
            let config = Config::load(&cli.config)?;
            let report = runtime.block_on(daemon::once(config, daemon::Start { accept_backlog }))?;
            println!(
                "recorded {} new message(s) ({} already known, {} vanished); queued {} repl(ies); sent {}, retrying {}, failed {}, held {}, in doubt {}",
                report.sync.recorded,
                report.sync.known,
                report.sync.vanished,
                report.sync.replies_queued,
                report.send.sent,
                report.send.retrying,
                report.send.failed,
                report.send.held,
                report.send.in_doubt,
            );
        }
        Command::Export { event, format, output, status } => {
            let config = Config::load(&cli.config)?;
            let event = event_of(&config, event.as_deref())?;
            let store = Store::open_read(&config.database.path)?;
            let wanted: Vec<Status> = status
                .iter()
                .map(|s| {
                    Status::parse(s.trim())
                        .with_context(|| format!("unknown status {s:?} (accepted, late, cancelled, waitlisted)"))
                })
                .collect::<Result<_>>()?;
            let applications: Vec<_> = store
                .applications()?
                .into_iter()
                .filter(|a| wanted.is_empty() || wanted.contains(&a.status))
                .filter(|a| event.as_ref().is_none_or(|e| &a.event == e))
                .collect();
            let tz = config.timezone();
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(export::create_private_file(path)?),
                None if format == Format::Xlsx => anyhow::bail!("--format xlsx needs --output FILE.xlsx"),
                None => Box::new(std::io::stdout().lock()),
            };
            export::write(format, &mut out, &applications, tz, config.several_events())?;
            out.flush()?;
        }
        Command::Sheet { event, output } => {
            let config = Config::load(&cli.config)?;
            let event = match event_of(&config, event.as_deref())? {
                Some(id) => id,
                None if config.events.len() == 1 => config.events[0].id.clone(),
                None => anyhow::bail!("which event? name it with --event ID ({})", event_ids(&config)),
            };
            let store = Store::open_read(&config.database.path)?;
            let bytes = export::sign_in_sheet_for(&store, &config, &event)?;
            let mut file = export::create_private_file(&output)?;
            file.write_all(&bytes).with_context(|| format!("cannot write {}", output.display()))?;
            println!("sign-in sheet for {event} written to {}", output.display());
        }
        Command::Summary { event, date, send } => {
            let config = Config::load(&cli.config)?;
            let event = event_of(&config, event.as_deref())?;
            let now = smebridge::clock::now();
            let day = date.unwrap_or_else(|| now.to_zoned(config.timezone().clone()).date());
            if send {
                let (queued, report) = runtime.block_on(async {
                    let mut desk = daemon::Desk::open(config)?;
                    let summary = summary::render_for(&desk.store, &desk.config, day, now, event.as_ref())?;
                    let queued = summary::queue_by_hand(&mut desk.store, &desk.config, &summary, now)?;
                    // A refused SMTP login fails the command; the summary waits in the outbox.
                    let report = desk
                        .send_due(smebridge::outbox::Backoff::Ignore)
                        .await
                        .with_context(|| format!("queued {queued} summary mail(s)"))?;
                    anyhow::Ok((queued, report))
                })?;
                println!(
                    "queued {queued} summary mail(s); sent {}, retrying {}, failed {}",
                    report.sent, report.retrying, report.failed
                );
            } else {
                let store = Store::open_read(&config.database.path)?;
                let summary = summary::render_for(&store, &config, day, now, event.as_ref())?;
                println!("{}\n\n{}", summary.subject, summary.text.trim_end());
            }
        }
        Command::Stats { event } => {
            let config = Config::load(&cli.config)?;
            let event = event_of(&config, event.as_deref())?;
            let store = Store::open_read(&config.database.path)?;
            let now = smebridge::clock::now();
            let day = now.to_zoned(config.timezone().clone()).date();
            let summary_input_totals = summary::totals_now(&store, &config, day, now, event.as_ref())?;
            print!("{}", summary_input_totals);
        }
        Command::Application { action: ApplicationAction::Show { application } } => {
            let config = Config::load(&cli.config)?;
            let id = application_id(&application)?;
            let store = Store::open_read(&config.database.path)?;
            print!("{}", smebridge::staff::show(&store, id, config.timezone())?);
        }
        Command::Application {
            action: ApplicationAction::Edit { application, notify, name, organization, position, phone, attendees },
        } => {
            let config = Config::load(&cli.config)?;
            let id = application_id(&application)?;
            let edit = smebridge::staff::Edit { name, organization, position, phone, attendees };
            let actor = ops::actor();
            let (changes, report) = runtime.block_on(async {
                let mut desk = open_for_staff(config)?;
                let changes = desk.correct(|store, rules| {
                    smebridge::staff::edit(store, notify.then_some(rules), id, &edit, &actor, smebridge::clock::now())
                })?;
                let report = match notify && !changes.is_empty() {
                    true => Some(send_for_staff(&mut desk, true).await?),
                    false => None,
                };
                anyhow::Ok((changes, report))
            })?;
            if changes.is_empty() {
                println!("{application}: nothing to change");
            }
            for c in changes {
                println!(
                    "{application} {}: {} -> {}",
                    c.field,
                    c.old.as_deref().unwrap_or("-"),
                    c.new.as_deref().unwrap_or("-")
                );
            }
            if let Some(report) = report {
                println!("{application}: applicant notified; {report}");
            }
        }
        Command::Application { action: ApplicationAction::Cancel { application, notify } } => {
            let config = Config::load(&cli.config)?;
            let id = application_id(&application)?;
            let actor = ops::actor();
            let ((old, promoted), report) = runtime.block_on(async {
                let mut desk = open_for_staff(config)?;
                let done = desk.correct(|store, rules| {
                    smebridge::staff::cancel(store, rules, id, notify, &actor, smebridge::clock::now())
                })?;
                // The cancellation's notice, and the mail of those who moved up.
                let report = send_for_staff(&mut desk, notify || done.1 > 0).await?;
                anyhow::Ok((done, report))
            })?;
            println!("{application} cancelled (was {old}); {promoted} moved up from the waiting list; {report}");
        }
        Command::Application {
            action: ApplicationAction::Add { event, name, organization, email, phone, position, attendees, notify },
        } => {
            let config = Config::load(&cli.config)?;
            let event = event_of(&config, Some(&event))?.context("an event id is needed")?;
            let clean = |v: String| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
            let registration = smebridge::staff::Registration {
                event,
                email,
                fields: smebridge::domain::ApplicantFields {
                    name: clean(name),
                    organization: clean(organization),
                    position: position.and_then(clean),
                    phone: phone.and_then(clean),
                    attendees,
                },
            };
            let actor = ops::actor();
            let (added, report) = runtime.block_on(async {
                let mut desk = open_for_staff(config)?;
                let added = desk.correct(|store, rules| {
                    smebridge::staff::add(store, rules, &registration, notify, &actor, smebridge::clock::now())
                })?;
                let report = match added.reply {
                    Some(_) => Some(send_for_staff(&mut desk, true).await?),
                    None => None,
                };
                anyhow::Ok((added, report))
            })?;
            let number = smebridge::reply::application_number(added.id);
            match report {
                Some(report) => println!("{number} added to {} ({}); {report}", registration.event, added.status),
                None => println!(
                    "{number} added to {} ({}); the applicant was not mailed",
                    registration.event, added.status
                ),
            }
        }
        Command::Application { action: ApplicationAction::Resend { application } } => {
            let config = Config::load(&cli.config)?;
            let id = application_id(&application)?;
            let actor = ops::actor();
            let (kind, report) = runtime.block_on(async {
                let mut desk = open_for_staff(config)?;
                let kind = desk.correct(|store, rules| {
                    smebridge::staff::resend(store, rules, id, &actor, smebridge::clock::now())
                })?;
                let report = send_for_staff(&mut desk, true).await?;
                anyhow::Ok((kind, report))
            })?;
            println!("{application}: {kind} queued again; {report}");
        }
        Command::Application { action: ApplicationAction::Resolve { reference, note } } => {
            let config = Config::load(&cli.config)?;
            let reference = smebridge::staff::Reference::parse(&reference)?;
            let mut desk = open_for_staff(config)?;
            let actor = ops::actor();
            let resolved = desk.correct(|store, _| {
                smebridge::staff::resolve(store, reference, note.as_deref(), &actor, smebridge::clock::now())
            })?;
            match resolved {
                true => println!("{reference}: resolved; it no longer needs a person"),
                false => println!("{reference}: nothing to resolve"),
            }
        }
        Command::Application { action: ApplicationAction::AssignEvent { reference, event } } => {
            let config = Config::load(&cli.config)?;
            let reference = smebridge::staff::Reference::parse(&reference)?;
            let event = event_of(&config, Some(&event))?.context("an event id is needed")?;
            let (assigned, report) = runtime.block_on(async {
                let mut desk = open_for_staff(config)?;
                let pending = desk.store.pending_count()?;
                let assigned = desk.assign_event(reference, &event)?;
                // Its own reply, or the mail of someone moved up on the old event's waiting list.
                let queued = match &assigned {
                    smebridge::staff::Assigned::Message { reply, .. }
                    | smebridge::staff::Assigned::Application { reply, .. } => reply.is_some(),
                } || desk.store.pending_count()? > pending;
                let report = send_for_staff(&mut desk, queued).await?;
                anyhow::Ok((assigned, report))
            })?;
            let what = match assigned {
                smebridge::staff::Assigned::Message { outcome, application, .. } => match application {
                    Some(id) => format!("{outcome}, {}", smebridge::reply::application_number(id)),
                    None => outcome.to_string(),
                },
                smebridge::staff::Assigned::Application { status, .. } => format!("moved, {status}"),
            };
            println!("{reference} assigned to {event}: {what}; {report}");
        }
        Command::Parse { file, announcement, center } => {
            let raw = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let announcements = announcement
                .iter()
                .map(|path| {
                    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                    anyhow::Ok(smebridge::parse::Announcement::read(&raw))
                })
                .collect::<Result<Vec<_>>>()?;
            let announcements: Vec<&smebridge::parse::Announcement> = announcements.iter().collect();
            let center = center
                .map(|c| smebridge::domain::EmailAddress::parse(&c).with_context(|| format!("--center {c:?}")))
                .transpose()?;
            let context = smebridge::parse::Context {
                announcements: &announcements,
                center: center.as_ref(),
                ..smebridge::parse::Context::new(&isolate::ChildForms)
            };
            let inbound = smebridge::parse::parse_with(&raw, &smebridge::parse::sha256_hex(&raw), &context);
            println!("{}", smebridge::parse::explain(&inbound));
        }
        Command::Backup { output } => {
            let config = Config::load(&cli.config)?;
            println!("{}", ops::backup(&config.database.path, &output)?);
        }
        Command::Restore { input, force } => {
            let config = Config::load(&cli.config)?;
            println!("{}", ops::restore(&config.database.path, &input, jiff::Timestamp::now(), force)?);
        }
        Command::Reparse { apply } => {
            let config = Config::load(&cli.config)?;
            let tz = config.timezone();
            let setup = smebridge::pipeline::ParseSetup::of(&config);
            let context = setup.context(&isolate::ChildForms);
            if apply {
                let mut store = Store::open(ops::claim_for_reparse(&config.database.path)?)?;
                let found = ops::reparse(&store, &context)?;
                let applied = ops::apply(&mut store, &found, &ops::actor(), smebridge::clock::now())?;
                print!("{}", found.describe(tz, Some(applied)));
            } else {
                let store = Store::open_read(&config.database.path)?;
                print!("{}", ops::reparse(&store, &context)?.describe(tz, None));
            }
        }
        Command::Purge { dry_run } => {
            let config = Config::load(&cli.config)?;
            let now = smebridge::clock::now();
            let report = if dry_run {
                ops::purge_dry_run(&Store::open_read(&config.database.path)?, &config, now)?
            } else {
                let mut store = Store::open(ops::claim_for_purge(&config.database.path)?)?;
                ops::purge(&mut store, &config, now)?
            };
            print!("{report}");
            if !report.complete() {
                return Ok(ExitCode::FAILURE);
            }
        }
        // Served in main(), before anything else starts.
        Command::ReadForm { .. } | Command::ReadMessage { .. } => {}
        Command::Check => {
            let lines = runtime.block_on(check::check(&cli.config));
            let mut all_ok = true;
            for line in &lines {
                match &line.problem {
                    None => match &line.detail {
                        Some(detail) => println!("ok      {}: {detail}", line.what),
                        None => println!("ok      {}", line.what),
                    },
                    Some(problem) => {
                        all_ok = false;
                        println!("FAILED  {}: {problem}", line.what);
                    }
                }
                if let Some(warning) = &line.warning {
                    println!("WARNING {}: {warning}", line.what);
                }
            }
            return Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        Command::Oauth2 { action: Oauth2Action::Authorize { flow, smtp, output } } => {
            let config = Config::load(&cli.config)?;
            let (section, auth, timeout) = if smtp {
                ("[smtp]", config.smtp.credentials.as_ref().map(|(_, auth)| auth), config.smtp.timeout)
            } else {
                ("[imap]", Some(&config.imap.auth), config.imap.timeout)
            };
            let settings = match auth {
                Some(smebridge::config::Auth::OAuth2(source)) => source.settings(),
                _ => None,
            }
            .with_context(|| format!("{section} has no oauth2 = {{ … }} table to authorize"))?;
            runtime.block_on(smebridge::oauth2::authorize(settings, flow, output.as_deref(), timeout))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The event `--event ID` names, checked against the configuration (`None`: every event).
fn event_of(config: &Config, id: Option<&str>) -> Result<Option<EventId>> {
    let Some(id) = id else { return Ok(None) };
    let id = EventId::parse(id)?;
    config.event(&id).with_context(|| summary::unknown_event(config, &id))?;
    Ok(Some(id))
}

/// `SME-0004` → 4.
fn application_id(text: &str) -> Result<i64> {
    match smebridge::staff::Reference::parse(text)? {
        smebridge::staff::Reference::Application(id) => Ok(id),
        smebridge::staff::Reference::Message(_) => anyhow::bail!("{text} is a message: name an application (SME-0004)"),
    }
}

/// The desk for a staff command that writes: refused while the daemon runs, saying what to do.
/// The desk for a staff correction: with the database to itself, or beside the running daemon
/// (then the replies it queues are sent by the daemon's next pass).
fn open_for_staff(config: Config) -> Result<daemon::Desk> {
    daemon::Desk::open_for_staff(config)
}

/// Send the replies a staff correction queued, now; beside the running daemon, leave them to
/// its next pass. What happened, for the command's output.
async fn send_for_staff(desk: &mut daemon::Desk, queued: bool) -> Result<String> {
    if !queued {
        return Ok("no reply to send".to_owned());
    }
    if desk.beside_daemon() {
        return Ok(match desk.nudge_daemon() {
            Some(pid) => format!("replies queued; the running smebridge (pid {pid}) was asked to send them now"),
            None => "replies queued for the running smebridge to send on its next pass".to_owned(),
        });
    }
    let report = desk.send_due(smebridge::outbox::Backoff::Ignore).await?;
    Ok(format!(
        "replies sent {}, retrying {}, failed {}, held by the rate limits {}",
        report.sent, report.retrying, report.failed, report.held
    ))
}

/// The configured events' ids, for a message: `ws-2211, sem-2212`.
fn event_ids(config: &Config) -> String {
    config.events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", ")
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown requested; finishing the message in hand");
}
