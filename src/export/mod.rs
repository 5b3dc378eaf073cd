//! Applications for staff, one row per application, header first, UTF-8: as CSV ([`write_csv`];
//! with a byte order mark for Excel, [`csv_with_bom`]), as JSON ([`write_json`]) and as an XLSX
//! workbook ([`xlsx`]). The `export` command writes them ([`write()`]); the staff summary attaches
//! the workbook and the CSV.

mod csv;
mod json;
mod output;
mod sheet;
mod xlsx;

use std::io::Write;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::domain::Status;
use crate::store::{Application, StoredAttachment};

pub use self::csv::{csv_with_bom, defuse_formula, write_csv};
pub use self::json::write_json;
pub use self::output::{create_private_file, refuse_unless_regular_or_absent};
pub use self::sheet::{sign_in_filename, sign_in_sheet, sign_in_sheet_for, SIGN_IN_SHEET, WAITLIST_SHEET};
pub use self::xlsx::{xlsx, ReviewItem, XLSX_MIME};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
}

/// Write `applications` in `format`. The workbook has no "needs a person" rows: that sheet is the
/// summary's. `event_column`: append the [`EVENT_COLUMN`] (a desk with several events).
pub fn write(
    format: Format,
    mut out: impl Write,
    applications: &[Application],
    tz: &TimeZone,
    event_column: bool,
) -> Result<()> {
    match format {
        Format::Csv => write_csv(out, applications, tz, event_column),
        Format::Json => write_json(out, applications, tz, event_column),
        Format::Xlsx => out.write_all(&xlsx(applications, &[], tz, event_column)?).context("cannot write the export"),
    }
}

/// The column a desk with several events appends after [`CSV_COLUMNS`]: the application's event
/// id (`ws-2211`). A desk with one event exports the columns it always had.
pub const EVENT_COLUMN: &str = "event";

/// The CSV columns, in order. The first nine are the documented contract; new columns are only
/// ever appended, so a spreadsheet or script reading by position keeps working.
pub const CSV_COLUMNS: [&str; 13] = [
    "email",
    "name",
    "organization",
    "position",
    "phone",
    "attendees",
    "status",
    "received_at",
    "application_no",
    "attachments",
    "people",
    "notes",
    "sources",
];

/// One application as the export's cells, in [`CSV_COLUMNS`] order.
pub fn row(app: &Application, tz: &TimeZone) -> [String; 13] {
    let f = &app.fields;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        app.email.clone(),
        text(&f.name),
        text(&f.organization),
        text(&f.position),
        text(&f.phone),
        f.attendees.unwrap_or(1).to_string(),
        app.status.as_str().to_owned(),
        rfc3339_in(app.received_at, tz),
        crate::reply::application_number(app.id),
        attachments_cell(&app.attachments),
        app.people.join("; "),
        app.notes.clone().unwrap_or_default(),
        sources_cell(app),
    ]
}

/// Where each field's value was read, in one cell: `name: line 4, label '성 명'; phone: signature
/// block`, in the order of the columns.
pub fn sources_cell(app: &Application) -> String {
    ["name", "organization", "position", "phone", "email", "attendees"]
        .iter()
        .filter_map(|field| app.sources.get(*field).map(|source| format!("{field}: {source}")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The attachments in one cell, for people: `신청서.hwpx (application/hwp+zip, 34 kB); …`, with
/// `in winmail.dat` for a file found inside another attachment. Empty when there are none.
pub fn attachments_cell(attachments: &[StoredAttachment]) -> String {
    attachments
        .iter()
        .map(|a| {
            let within = a.within.as_deref().map(|w| format!(", in {w}")).unwrap_or_default();
            format!("{} ({}, {}{within})", a.name, a.content_type, human_size(a.size))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `512 B`, `34 kB`, `2.5 MB` (decimal units, as file managers show them).
fn human_size(bytes: i64) -> String {
    if bytes < 1_000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{} kB", (bytes + 500) / 1_000)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// `2022-11-17T23:58:59+09:00`
pub fn rfc3339_in(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// A status in both languages, as staff read it: (`대기`, `waitlisted`).
pub fn status_words(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Accepted => ("신청", "accepted"),
        Status::Waitlisted => ("대기", "waitlisted"),
        Status::Cancelled => ("취소", "cancelled"),
        Status::Late => ("마감 후", "late"),
    }
}

/// The applications oldest first (by arrival, then by id), as the attachments list them.
fn oldest_first(apps: &[Application]) -> Vec<Application> {
    let mut apps = apps.to_vec();
    apps.sort_by_key(|a| (a.received_at, a.id));
    apps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ApplicantFields;

    /// An application with these attachments (for the csv and json tests).
    pub(super) fn with_attachments(attachments: Vec<StoredAttachment>) -> Application {
        Application {
            id: 4,
            event: crate::domain::EventId::default_id(),
            email: "lee@daon.example".into(),
            fields: ApplicantFields { name: Some("이서연".into()), ..Default::default() },
            status: Status::Accepted,
            received_at: "2022-11-16T01:00:00Z".parse().unwrap(),
            review: None,
            last_message: 1,
            people: Vec::new(),
            notes: None,
            sources: Default::default(),
            attachments,
        }
    }

    pub(super) fn listed(name: &str, content_type: &str, size: i64, within: Option<&str>) -> StoredAttachment {
        StoredAttachment {
            name: name.into(),
            content_type: content_type.into(),
            size,
            sha256: "ab".repeat(32),
            within: within.map(str::to_owned),
        }
    }

    #[test]
    fn attachments_are_listed_in_their_column_and_in_json() {
        let seoul = jiff::tz::db().get("Asia/Seoul").unwrap();
        let app = with_attachments(vec![
            listed("신청서.hwpx", "application/hwp+zip", 34_123, None),
            listed("winmail.dat", "application/ms-tnef", 2_500_000, None),
            listed("참가신청서.docx", "application/msword", 999, Some("winmail.dat")),
        ]);
        let mut out = Vec::new();
        write_csv(&mut out, std::slice::from_ref(&app), &seoul, false).unwrap();
        let mut reader = ::csv::Reader::from_reader(out.as_slice());
        assert_eq!(reader.headers().unwrap().get(9), Some("attachments"));
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(
            &record[9],
            "신청서.hwpx (application/hwp+zip, 34 kB); winmail.dat (application/ms-tnef, 2.5 MB); \
             참가신청서.docx (application/msword, 999 B, in winmail.dat)"
        );

        let mut out = Vec::new();
        write_json(&mut out, &[app], &seoul, false).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json[0]["attachments"][0],
            serde_json::json!({"name": "신청서.hwpx", "type": "application/hwp+zip", "size": 34_123, "sha256": "ab".repeat(32)})
        );
        assert_eq!(json[0]["attachments"][2]["within"], "winmail.dat");
        assert_eq!(json[0]["application_no"], "SME-0004");
    }
}
