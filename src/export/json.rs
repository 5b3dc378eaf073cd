//! JSON: the export's columns as an array of objects, with lists and maps as JSON rather than
//! one cell of text.

use std::io::Write;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;

use super::{row, CSV_COLUMNS, EVENT_COLUMN};
use crate::store::Application;

/// Every application as a JSON array of objects keyed by [`CSV_COLUMNS`], plus `review`;
/// `attachments` is an array of objects (`name`, `type`, `size` in bytes, `sha256`, and
/// `within` for a file found inside another attachment), `people` an array of names, `notes`
/// the applicant's remarks (or null), and
/// `sources` an object (field → where its value was read).
///
/// `event_column`: each object also has `event` (the event's id), after the others.
pub fn write_json(out: impl Write, applications: &[Application], tz: &TimeZone, event_column: bool) -> Result<()> {
    let rows: Vec<serde_json::Value> = applications
        .iter()
        .map(|app| {
            let mut object: serde_json::Map<String, serde_json::Value> = CSV_COLUMNS
                .iter()
                .zip(row(app, tz))
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect();
            object.insert("attendees".into(), serde_json::json!(app.fields.attendees.unwrap_or(1)));
            object.insert("review".into(), serde_json::json!(app.review));
            object.insert("attachments".into(), serde_json::json!(app.attachments));
            object.insert("people".into(), serde_json::json!(app.people));
            object.insert("notes".into(), serde_json::json!(app.notes));
            object.insert("sources".into(), serde_json::json!(app.sources));
            if event_column {
                object.insert(EVENT_COLUMN.into(), serde_json::json!(app.event.as_str()));
            }
            serde_json::Value::Object(object)
        })
        .collect();
    serde_json::to_writer_pretty(out, &rows).context("cannot write the export")?;
    Ok(())
}
