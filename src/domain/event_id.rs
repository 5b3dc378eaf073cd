//! An event's short id (`ws-2211`): how configuration, database, subject tags (`[ws-2211]`),
//! plus-addresses (`smebridge+ws-2211@…`) and the staff commands name an event.

use std::fmt;

use anyhow::{bail, Result};

/// A valid event id: 1 to 32 characters, lower-case ASCII letters and digits, with `-`, `_` or
/// `.` between them. Ids are compared in lower case (`WS-2211` in a subject is `ws-2211`), so one
/// is stored only in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    /// The id of the single `[event]` when it names none, and of every application recorded
    /// before smebridge knew several events (`migrations/0010_events.sql`).
    pub const DEFAULT: &'static str = "main";

    /// Read an id as written (in configuration, in a staff command, after a `+` or between
    /// brackets); upper case is taken as lower case.
    pub fn parse(text: &str) -> Result<EventId> {
        let id = text.trim().to_ascii_lowercase();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let first_last_ok = id.chars().next().is_some_and(ok_char) && id.chars().last().is_some_and(ok_char);
        if id.is_empty()
            || id.len() > 32
            || !first_last_ok
            || !id.chars().all(|c| ok_char(c) || matches!(c, '-' | '_' | '.'))
        {
            bail!(
                "{text:?} is not an event id: use 1 to 32 lower-case letters and digits, with - _ or . between them (e.g. \"ws-2211\")"
            );
        }
        Ok(EventId(id))
    }

    /// The id of the single `[event]` that names none.
    pub fn default_id() -> EventId {
        EventId(EventId::DEFAULT.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tag applicants put in a subject: `[ws-2211]`.
    pub fn tag(&self) -> String {
        format!("[{}]", self.0)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_lower_case_words_that_fit_a_tag_and_a_plus_address() {
        assert_eq!(EventId::parse("ws-2211").unwrap().as_str(), "ws-2211");
        assert_eq!(EventId::parse(" WS-2211 ").unwrap().as_str(), "ws-2211", "upper case is read as lower");
        assert_eq!(EventId::parse("seminar.2023_01").unwrap().tag(), "[seminar.2023_01]");
        for bad in ["", "-ws", "ws-", "ws 2211", "ws+2211", "워크숍", "[ws-2211]", &"a".repeat(33)] {
            assert!(EventId::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(EventId::default_id().as_str(), "main");
    }
}
