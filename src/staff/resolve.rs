//! `smebridge application resolve SME-0004 [--note TEXT]`: staff have dealt with what the
//! application needed a person for; its review notes are cleared, so it no longer appears under
//! "needs a person" in the summaries, and the clearing is a row of its history.

use anyhow::{Context, Result};
use jiff::Timestamp;

use super::STAFF_VIA_CLI;
use crate::reply::application_number;
use crate::store::{ChangedBy, Field, FieldChange, Rewrite, Store};

/// Clear the review notes of application `id` (recorded in its history with `note`, if any).
/// Returns the notes it had; `None`: there was nothing to resolve (and nothing is written).
pub fn resolve(store: &mut Store, id: i64, note: Option<&str>, actor: &str, now: Timestamp) -> Result<Option<String>> {
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
