//! Typed values and pure decisions. Nothing in here does I/O or reads a clock: every input,
//! including "now", is an argument, so every rule is unit-tested.

mod application;
mod decision;
mod email_address;

pub use application::{ApplicantFields, Change, Status};
pub use decision::{automatic_reason, decide, is_late, wants_cancellation, AutoSignals, Automatic, Decision, Facts, Existing, ReturnPath};
pub use email_address::EmailAddress;
