//! What the outbox sends: replies of each kind, and the staff summary (`outbox.kind`, checked in
//! SQL by `migrations/0007_states_as_types.sql`, since several events by `0010_events.sql`, and
//! since the applicant's journey by `0012_journey.sql`, since calendar updates by
//! `0015_calendar_updates.sql`).

use std::fmt;

/// The kinds of reply, each with its templates (`<name>.ko.txt.j2` and `<name>.en.txt.j2`, see
/// `crate::reply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyKind {
    /// An on-time application was registered.
    Ack,
    /// The application arrived after the deadline.
    Late,
    /// A registered applicant changed something.
    Update,
    /// A registered applicant wrote after the deadline: the registration stands.
    AfterDeadline,
    /// A registration was cancelled at the applicant's request.
    Cancelled,
    /// The event is full: the application is on the waiting list.
    Waitlisted,
    /// A place opened up: a waitlisted application is now accepted.
    Promoted,
    /// A cancelled applicant applied again (the acknowledgement's text).
    Reopened,
    /// A question was passed to staff.
    Inquiry,
    /// The mail could be for several events (or none we could tell): which one does the sender
    /// mean? Once per sender, whatever the event.
    WhichEvent,
    /// Before the event (`[event] remind_before`): once per accepted application.
    Reminder,
    /// After the event (`[event] thank_you_after`): once per accepted application.
    ThankYou,
    /// The applicant asked for their registration: the record, as it stands.
    Status,
    /// The event's time, place or name changed after the applicant's calendar entry was
    /// published: the entry again, updated.
    Rescheduled,
}

impl ReplyKind {
    pub const ALL: [ReplyKind; 14] = [
        ReplyKind::Ack,
        ReplyKind::Late,
        ReplyKind::Update,
        ReplyKind::AfterDeadline,
        ReplyKind::Cancelled,
        ReplyKind::Waitlisted,
        ReplyKind::Promoted,
        ReplyKind::Reopened,
        ReplyKind::Inquiry,
        ReplyKind::WhichEvent,
        ReplyKind::Reminder,
        ReplyKind::ThankYou,
        ReplyKind::Status,
        ReplyKind::Rescheduled,
    ];

    /// The name stored in the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Ack => "ack",
            ReplyKind::Late => "late",
            ReplyKind::Update => "update",
            ReplyKind::AfterDeadline => "after_deadline",
            ReplyKind::Cancelled => "cancelled",
            ReplyKind::Waitlisted => "waitlisted",
            ReplyKind::Promoted => "promoted",
            ReplyKind::Reopened => "reopened",
            ReplyKind::Inquiry => "inquiry",
            ReplyKind::WhichEvent => "which_event",
            ReplyKind::Reminder => "reminder",
            ReplyKind::ThankYou => "thank_you",
            ReplyKind::Status => "status",
            ReplyKind::Rescheduled => "rescheduled",
        }
    }

    pub fn parse(s: &str) -> Option<ReplyKind> {
        ReplyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// At most one reply of these kinds goes to an address per event (RFC 5230's idea): a second
    /// acknowledgement or rejection would only confuse. Replies that confirm an action the
    /// applicant took (update, cancel, reopen) answer each action. The question which event a
    /// mail is for belongs to no event: it goes to an address once. Reminders and thank-yous go
    /// once per application (a unique index in SQL, `migrations/0012_journey.sql`), a status
    /// answers each request.
    pub fn once_per_applicant(self) -> bool {
        matches!(
            self,
            ReplyKind::Ack
                | ReplyKind::Late
                | ReplyKind::AfterDeadline
                | ReplyKind::Waitlisted
                | ReplyKind::Inquiry
                | ReplyKind::WhichEvent
        )
    }
}

impl fmt::Display for ReplyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an outbox row is: a reply to an applicant, or mail smebridge starts (the staff summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    Reply(ReplyKind),
    /// The staff's daily summary (or one sent by hand).
    Summary,
}

impl MailKind {
    /// Every kind, replies first.
    pub fn all() -> impl Iterator<Item = MailKind> {
        ReplyKind::ALL.into_iter().map(MailKind::Reply).chain([MailKind::Summary])
    }

    /// The name stored in the outbox: the reply's kind, or `summary`.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Reply(kind) => kind.as_str(),
            MailKind::Summary => "summary",
        }
    }

    pub fn parse(s: &str) -> Option<MailKind> {
        match s {
            "summary" => Some(MailKind::Summary),
            other => ReplyKind::parse(other).map(MailKind::Reply),
        }
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_itself_and_no_reply_is_called_summary() {
        for kind in MailKind::all() {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ReplyKind::parse("summary"), None);
        assert_eq!(MailKind::parse("Ack"), None);
    }
}
