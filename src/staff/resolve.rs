//! `smebridge application resolve SME-0004|MSG-0012 [--note TEXT]`: staff have dealt with what
//! needed a person, so it no longer appears under "needs a person" in the summaries.
//!
//! - An application (`SME-0004`): its review notes are cleared, and the clearing is a row of its
//!   history.
//! - A recorded message that is no application (`MSG-0012`: an inquiry, unreadable, too large,
//!   held-unread or unrouted mail, a cancellation from someone with no application): who resolved it,
//!   when and the note are recorded beside it (`message_resolutions`).

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use super::{Reference, STAFF_VIA_CLI};
use crate::domain::Outcome;
use crate::reply::application_number;
use crate::store::{ChangedBy, Field, FieldChange, Rewrite, Store, NEEDS_A_PERSON};

/// Resolve what `reference` needed a person for (`note`: why, or what was done). Returns false
/// when there was nothing to resolve (and nothing is written). An error, and nothing written,
/// for a reference to nothing, or to a message that never needed a person.
pub fn resolve(
    store: &mut Store,
    reference: Reference,
    note: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<bool> {
    match reference {
        Reference::Application(id) => resolve_application(store, id, note, actor, now).map(|cleared| cleared.is_some()),
        Reference::Message(id) => resolve_message(store, id, note, actor, now),
    }
}

/// Clear the review notes of application `id` (recorded in its history with `note`, if any).
/// Returns the notes it had; `None`: there was nothing to resolve (and nothing is written).
fn resolve_application(
    store: &mut Store,
    id: i64,
    note: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<Option<String>> {
    let app = store.application(id)?.with_context(|| format!("there is no application {}", application_number(id)))?;
    let Some(review) = app.review.clone() else { return Ok(None) };
    let why = match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => format!("{STAFF_VIA_CLI}: {note}"),
        None => STAFF_VIA_CLI.to_owned(),
    };
    let change =
        FieldChange { field: Field::Review, old: Some(review.clone()), new: None, why: Some(why), message: None };
    let rewrite = Rewrite {
        application: id,
        fields: app.fields.clone(),
        people: app.people.clone(),
        notes: app.notes.clone(),
        review: None,
        sources: app.sources.clone(),
    };
    store.rewrite_application(&rewrite, &[change], ChangedBy::Staff, Some(actor), now)?;
    Ok(Some(review))
}

/// Record that staff dealt with message `id`. False: resolved before, or its personal data was
/// purged (it is listed nowhere any more).
fn resolve_message(store: &mut Store, id: i64, note: Option<&str>, actor: &str, now: Timestamp) -> Result<bool> {
    let reference = Reference::Message(id);
    let state = store.message_state(id)?.with_context(|| format!("there is no message {reference}"))?;
    if !NEEDS_A_PERSON.contains(&state.outcome) {
        bail!("{}", not_for_a_person(reference, state.outcome, state.application));
    }
    if state.purged {
        return Ok(false);
    }
    store.resolve_message(id, actor, note, now)
}

/// Why a message that needs no person cannot be resolved, and what to name instead.
fn not_for_a_person(reference: Reference, outcome: Outcome, application: Option<i64>) -> String {
    let what = format!("{reference} was recorded as {outcome}, not as something that needs a person");
    match (outcome, application) {
        (Outcome::Reading, _) => format!("{what}: it is still being read"),
        (_, Some(app)) => format!(
            "{what}: it belongs to application {number}; to clear what that application needs a person for: \
             smebridge application resolve {number}",
            number = application_number(app)
        ),
        (_, None) => format!("{what}; there is nothing to resolve"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_that_needs_no_person_is_refused_with_what_it_was_and_what_to_name_instead() {
        let reference = Reference::Message(12);
        assert_eq!(
            not_for_a_person(reference, Outcome::Registered, Some(4)),
            "MSG-0012 was recorded as registered, not as something that needs a person: it belongs to application \
             SME-0004; to clear what that application needs a person for: smebridge application resolve SME-0004"
        );
        assert_eq!(
            not_for_a_person(reference, Outcome::Automatic, None),
            "MSG-0012 was recorded as automatic, not as something that needs a person; there is nothing to resolve"
        );
        assert!(not_for_a_person(reference, Outcome::Reading, None).ends_with("it is still being read"));
    }
}
