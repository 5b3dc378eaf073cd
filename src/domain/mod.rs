//! Typed values and pure decisions. Nothing in here does I/O or reads a clock: every input,
//! including "now", is an argument, so every rule is unit-tested.

mod application;
mod attendees;
mod auth;
mod classify;
mod decision;
mod email_address;
mod event_id;
mod intent;
mod journey;
mod limits;
mod mailbox;
mod matching;
mod organization;
mod outcome;
mod reading;
mod recipient;
mod reply_kind;
mod retention;
mod routing;
mod schedule;
mod status_request;

pub use application::{ApplicantFields, Change, Status};
pub use attendees::more_attendees;
pub use auth::{auth_verdict, RequireAuth};
pub use classify::{auto_reply, classify, unless_unread, AutoClue, Classified, Clue, Verdict};
pub use decision::{automatic_reason, decide, is_late, AutoSignals, Automatic, Decision, Existing, Facts, ReturnPath};
pub use email_address::EmailAddress;
pub use event_id::EventId;
pub use intent::{looks_like_inquiry, prefers_english, wants_cancellation};
pub use journey::{is_due, next_due, EventTimes, Scheduled};
pub use limits::{rate_limit_wait, ReplyLimits, SentCounts};
pub use mailbox::{classify_mailbox, MailboxChange};
pub use matching::{match_key, namesake_note, namesakes, NAMESAKE_NOTE};
pub use organization::{organization_type, OrganizationType};
pub use outcome::Outcome;
pub use reading::{
    hold_reason, read_plan, stopped_by, Ending, HoldCause, ReadPlan, ReadState, Stopped, MAX_UNFINISHED,
};
pub use recipient::{reply_address, ReplyAddress};
pub use reply_kind::{MailKind, ReplyKind};
pub use retention::{
    arrived_due_before, deletion_day, notice_day, purge_due, retention_stage, RetentionStage, NOTICE_DAYS,
};
pub use routing::{route, skipped_before_opens, Addressed, EventRouting, Route, RouteReason};
pub use schedule::{next_summary_time, summary_due, SummaryWindow};
pub use status_request::is_status_request;
