//! What became of a message, as recorded in `messages.outcome` (checked in SQL by
//! `migrations/0007_states_as_types.sql`, and since several events, by
//! `migrations/0010_events.sql`).

use std::fmt;

/// What became of a message. Decided by the pipeline from the decision about it; `Reading` is
/// the marker of bytes recorded before they are read (see `crate::domain::read_plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Its raw bytes are recorded and reading them has not finished.
    Reading,
    /// It made a new application (accepted, waitlisted or late: the application's status says).
    Registered,
    /// It changed a registered application.
    Updated,
    /// From a registered applicant, changing nothing.
    Repeat,
    /// From a registered applicant after the deadline: the registration stands, nothing changes.
    AfterDeadline,
    /// A cancelled applicant applied again after the deadline: refused as late.
    Late,
    /// It cancelled an application.
    Cancelled,
    /// A cancelled applicant applied again before the deadline.
    Reopened,
    /// Its Message-ID was recorded before (the same mail again, other bytes).
    Duplicate,
    /// Automatic mail (an auto-reply, a bounce, a list): recorded, never answered.
    Automatic,
    /// A question rather than an application: for staff.
    Inquiry,
    /// Its sender failed the required authentication: stored for review, not answered.
    Held,
    /// A cancellation from someone with no application.
    CancelWithoutApplication,
    /// Nothing could be made of it (no sender to register).
    Unreadable,
    /// Over the size limit: only its headers were fetched.
    TooLarge,
    /// Held for staff unread: reading it stops smebridge.
    Quarantined,
    /// For none of the events, or for several: waits for staff to assign it (the sender is asked
    /// which event they mean).
    Unrouted,
    /// Arrived before applications opened (`[event] opens`): recorded, not answered, not counted.
    BeforeOpens,
}

impl Outcome {
    pub const ALL: [Outcome; 18] = [
        Outcome::Reading,
        Outcome::Registered,
        Outcome::Updated,
        Outcome::Repeat,
        Outcome::AfterDeadline,
        Outcome::Late,
        Outcome::Cancelled,
        Outcome::Reopened,
        Outcome::Duplicate,
        Outcome::Automatic,
        Outcome::Inquiry,
        Outcome::Held,
        Outcome::CancelWithoutApplication,
        Outcome::Unreadable,
        Outcome::TooLarge,
        Outcome::Quarantined,
        Outcome::Unrouted,
        Outcome::BeforeOpens,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Reading => "reading",
            Outcome::Registered => "registered",
            Outcome::Updated => "updated",
            Outcome::Repeat => "repeat",
            Outcome::AfterDeadline => "after_deadline",
            Outcome::Late => "late",
            Outcome::Cancelled => "cancelled",
            Outcome::Reopened => "reopened",
            Outcome::Duplicate => "duplicate",
            Outcome::Automatic => "automatic",
            Outcome::Inquiry => "inquiry",
            Outcome::Held => "held",
            Outcome::CancelWithoutApplication => "cancel_without_application",
            Outcome::Unreadable => "unreadable",
            Outcome::TooLarge => "too_large",
            Outcome::Quarantined => "quarantined",
            Outcome::Unrouted => "unrouted",
            Outcome::BeforeOpens => "before_opens",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_as_itself() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::parse("Registered"), None);
    }
}
