//! The parse result in the shape of the fixtures' `.json` files (the keys are described in
//! `tests/golden.rs`): what the golden test compares, and what `cargo run --example fixture`
//! prints (`examples/fixture.rs` includes this file). Both read a fixture as the daemon does:
//! knowing the center's address, and with the announcement the fixture's JSON names.

use std::path::Path;

use serde_json::{json, Value};
use smebridge::domain::{automatic_reason, Classified, EmailAddress};
use smebridge::parse::{parse_with, sha256_hex, Announcement, Context, InProcess, Inbound};

const CENTER: &str = "smebridge@kaist.ac.kr";

/// `raw` parsed as the daemon parses it: knowing the center's address, and with the
/// announcement when one is given.
pub fn parse_announced(raw: &[u8], announcement: Option<&Announcement>) -> Inbound {
    let center = EmailAddress::parse(CENTER).expect("the center's address is valid");
    let context = Context { forms: &InProcess, announcements: announcement.as_slice(), center: Some(&center) };
    parse_with(raw, &sha256_hex(raw), &context)
}

/// The announcement a fixture's JSON names (a file under `fixtures/announcements/`), read as
/// `[event] announcement_file` is.
pub fn announcement_of(fixtures: &Path, expected: &Value) -> Option<Announcement> {
    let file = expected.get("announcement")?.as_str()?;
    let path = fixtures.join("announcements").join(file);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(Announcement::read(&raw))
}

/// What the desk would make of the message from someone not registered yet, in the words of
/// the fixtures (as `smebridge::domain::decide` orders it).
pub fn classification(inbound: &Inbound) -> &'static str {
    let own = EmailAddress::parse(CENTER).expect("the center's address is valid");
    let classified = inbound.verdict.classified;
    if automatic_reason(&inbound.signals, &inbound.return_path, inbound.from.as_ref(), &own).is_some() {
        "automatic"
    } else if classified == Classified::AddressedElsewhere {
        "unknown"
    } else if inbound.cancel_requested {
        "cancellation"
    } else if inbound.inquiry {
        "inquiry"
    } else if classified == Classified::NothingApplies {
        "unknown"
    } else {
        "application"
    }
}

/// The parse result in the shape of the fixtures' JSON (every key the JSON may hold).
pub fn actual_json(inbound: &Inbound) -> Value {
    json!({
        "classification": classification(inbound),
        "name": inbound.fields.name,
        "organization": inbound.fields.organization,
        "position": inbound.fields.position,
        "phone": inbound.fields.phone,
        "attendees": inbound.fields.attendees,
        "people": inbound.people,
        "subject": inbound.subject,
        "from_name": inbound.from_name,
        "forwarded_from": inbound.forwarded_from.as_ref().map(|a| a.as_str()),
        "forwarded_from_name": inbound.forwarded_from_name,
        "english": inbound.english,
        "problems": !inbound.problems.is_empty(),
        "guessed": guessed(inbound),
        "message_id_synthesized": inbound.message_id_synthesized,
        "sources": sources(inbound),
        "stated_email": inbound.stated_email,
        "doubts": inbound.doubts,
        "notes": inbound.notes,
        "more_attendees": inbound.more_attendees,
    })
}

/// Each field's source as staff read it, only for the fields that have one.
fn sources(inbound: &Inbound) -> Value {
    let mut out = serde_json::Map::new();
    for (field, source) in inbound.sources.iter() {
        if let Some(source) = source {
            out.insert(field.to_owned(), Value::String(source.to_string()));
        }
    }
    Value::Object(out)
}

/// The fields shown that the mail does not state: guessed from its signature or display name.
fn guessed(inbound: &Inbound) -> Vec<&'static str> {
    let (shown, stated) = (&inbound.fields, &inbound.stated);
    [
        ("name", &shown.name, &stated.name),
        ("organization", &shown.organization, &stated.organization),
        ("position", &shown.position, &stated.position),
        ("phone", &shown.phone, &stated.phone),
    ]
    .into_iter()
    .filter(|(_, shown, stated)| shown.is_some() && stated.is_none())
    .map(|(field, _, _)| field)
    .collect()
}
