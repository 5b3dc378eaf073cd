//! Staff corrections from the command line (`smebridge application …`), one file per command:
//! `add.rs` registers someone by phone or in person; `assign.rs` gives an unrouted message or a misrouted application to an event; `edit.rs`
//! shows, corrects and cancels an application, each change in its history; `resolve.rs` clears
//! what an application or a recorded message needed a person for; `notice.rs` tells the applicant (`--notify`); `resend.rs` sends the
//! acknowledgement again.
//!
//! Staff name what they correct as the summary and the replies show it: an application by its
//! number (`SME-0004`), a recorded message that is no application by its reference (`MSG-0012`,
//! shown with unrouted mail in the summary). Each command writes through the desk in one
//! transaction (`Desk::correct`): with the database to itself it claims it like `once` does and
//! sends the replies it queued before it returns; beside a running daemon (which holds the
//! claim) it only writes, and the daemon sends the queued replies on its next pass.
//! `assign-event` reads the message first (attached forms in child processes), then writes in
//! one transaction like the others.

mod add;
mod assign;
mod edit;
mod notice;
mod resend;
mod resolve;

use anyhow::{bail, Result};

pub use add::{add, Added, Registration};
pub use assign::{assign_event, Assigned};
pub use edit::{cancel, edit, show, Edit, STAFF_VIA_CLI};
pub use resend::resend;
pub use resolve::resolve;

/// Refuse a value staff typed for a field (`--name`, `--phone`, …) that is not one line of
/// text: a control character (a line break, a tab, an escape) would break the summary's lines,
/// the export's cells and the replies that quote it.
fn one_line(flags: &[(&str, Option<&str>)]) -> Result<()> {
    for (flag, value) in flags {
        if let Some(value) = value {
            if value.chars().any(char::is_control) {
                bail!("{flag} must be one line of text, without line breaks, tabs or other control characters");
            }
        }
    }
    Ok(())
}

/// What a staff command is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// `SME-0004`: an application.
    Application(i64),
    /// `MSG-0012`: a recorded message.
    Message(i64),
}

impl Reference {
    /// `SME-0004` or `MSG-0012` (case and leading zeros do not matter).
    pub fn parse(text: &str) -> Result<Reference> {
        let text = text.trim();
        let upper = text.to_ascii_uppercase();
        let (make, number): (fn(i64) -> Reference, &str) = if let Some(n) = upper.strip_prefix("SME-") {
            (Reference::Application, n)
        } else if let Some(n) = upper.strip_prefix("MSG-") {
            (Reference::Message, n)
        } else {
            bail!("{text:?} names no application (SME-0004) and no message (MSG-0012)");
        };
        match number.parse::<i64>() {
            Ok(n) if n > 0 && number.chars().all(|c| c.is_ascii_digit()) => Ok(make(n)),
            _ => bail!("{text:?} names no application (SME-0004) and no message (MSG-0012)"),
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Application(id) => f.write_str(&crate::reply::application_number(*id)),
            Reference::Message(id) => f.write_str(&crate::summary::message_reference(*id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_are_one_line() {
        assert!(one_line(&[("--name", Some("김민준")), ("--phone", None)]).is_ok());
        for bad in ["a\nBcc: x@y.example", "a\tb", "a\u{1b}[31m", "a\r"] {
            let err = one_line(&[("--name", Some("김민준")), ("--phone", Some(bad))]).unwrap_err().to_string();
            assert!(err.starts_with("--phone must be one line"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn applications_and_messages_are_named_as_staff_see_them() {
        assert_eq!(Reference::parse("SME-0004").unwrap(), Reference::Application(4));
        assert_eq!(Reference::parse(" sme-12345 ").unwrap(), Reference::Application(12345));
        assert_eq!(Reference::parse("MSG-0012").unwrap(), Reference::Message(12));
        for bad in ["4", "SME-", "SME-00x4", "SME-0", "SME--4", "ABC-0004"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Reference::Message(12).to_string(), "MSG-0012");
        assert_eq!(Reference::Application(4).to_string(), "SME-0004");
    }
}
