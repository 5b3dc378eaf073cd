//! Whose application a mail is and what it says: the applicant's fields, read from text.
//!
//! - `fields.rs` reads `label: value` lines (and tables and lists of people) above any quoted
//!   mail (`quoted.rs`), with where each value was read (`source.rs`); one file per kind of
//!   value it reads: `labels.rs` (a line of a form), `people.rs`, `phone.rs`, `attendees.rs`,
//!   and `text.rs` for the characters and blanks they share;
//! - `forward.rs` recognises an inline forward, whose fields and sender then count;
//! - `signature.rs` (with `guess.rs` telling names, titles and organizations apart) fills what
//!   no label states from the signature block and the display name;
//! - `sentences.rs` reads values stated in sentences (`휴대폰 번호가 010-…으로 바뀌었습니다`,
//!   `한 명 더 가도 될까요`), with the grammar of `particles.rs` (Korean particles and the
//!   copula) and `numerals.rs` (numbers in digits and in Hangul); `subject.rs` reads the
//!   subject line when the body states nothing;
//! - `announcement.rs` knows the center's announcement: its text is never data, and a line of
//!   its form typed into below the quote is the applicant's answer;
//! - `evidence.rs` gathers what the words show about whom a mail is for and whether it is an
//!   auto-reply (weighed in [`crate::domain::classify`]);
//! - `notes.rs` keeps the applicant's remarks, `doubts.rs` the values that look wrong.
//!
//! All of it is pure: text in, values out. How the readings of the mail's own text, a forwarded
//! mail, an attached form, the signature and the display name combine is decided one level up,
//! in [`crate::parse`].

mod announcement;
mod attendees;
mod doubts;
mod evidence;
mod fields;
mod forward;
mod guess;
mod labels;
mod notes;
mod numerals;
mod particles;
mod people;
mod phone;
mod quoted;
mod sentences;
mod signature;
mod source;
mod subject;
mod text;

pub(super) use announcement::answered;
pub use announcement::Announcement;
pub use quoted::strip_quoted;
pub use source::{FieldSources, Source};

pub(super) use doubts::{doubts, Extracted};
pub(super) use evidence::{auto_reply_clues, clues_in_words};
pub(super) use fields::{extract_fields, read, Fields, Reading};
pub(super) use forward::{find_inline as find_inline_forward, is_forward_subject};
pub(super) use notes::find_notes;
pub(super) use signature::{from_display_name, from_signature, Guess};
pub(super) use subject::read_subject;

/// Shorthand for the expected value of an optional text field, in the unit tests.
#[cfg(test)]
fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}
