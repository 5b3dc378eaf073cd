//! Applications for staff: one row per application, header first, UTF-8.

use std::io::Write;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::store::Application;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
}

/// The CSV columns, in order. The first eight are the documented contract.
pub const CSV_COLUMNS: [&str; 9] =
    ["email", "name", "organization", "position", "phone", "attendees", "status", "received_at", "application_no"];

/// Write every application as CSV. `received_at` is the arrival time at the server, RFC 3339 in
/// the event's time zone.
pub fn write_csv(out: impl Write, applications: &[Application], tz: &TimeZone) -> Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_COLUMNS)?;
    for app in applications {
        writer.write_record(row(app, tz).map(|cell| defuse_formula(&cell)))?;
    }
    writer.flush().context("cannot write the export")?;
    Ok(())
}

/// One application as the export's cells, in [`CSV_COLUMNS`] order.
pub fn row(app: &Application, tz: &TimeZone) -> [String; 9] {
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
    ]
}

/// A cell an applicant wrote that starts like a spreadsheet formula (`=`, `+`, `-`, `@`) is
/// prefixed with `'`, so that opening the CSV in Excel cannot run it (CSV injection).
pub fn defuse_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// Every application as a JSON array of objects keyed by [`CSV_COLUMNS`], plus `review`.
pub fn write_json(out: impl Write, applications: &[Application], tz: &TimeZone) -> Result<()> {
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
            serde_json::Value::Object(object)
        })
        .collect();
    serde_json::to_writer_pretty(out, &rows).context("cannot write the export")?;
    Ok(())
}

/// `2022-11-17T23:58:59+09:00`
pub fn rfc3339_in(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_from_applicants_are_defused() {
        assert_eq!(defuse_formula("=HYPERLINK(\"http://x.example\")"), "'=HYPERLINK(\"http://x.example\")");
        assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse_formula("010-1234-5678"), "010-1234-5678");
        assert_eq!(defuse_formula("(주)한빛테크"), "(주)한빛테크");
    }
    use crate::domain::{ApplicantFields, Status};

    #[test]
    fn csv_has_the_contract_columns_and_local_times() {
        let seoul = jiff::tz::db().get("Asia/Seoul").unwrap();
        let apps = vec![Application {
            id: 3,
            email: "kim@hanbit-tech.example".into(),
            fields: ApplicantFields {
                name: Some("김민준".into()),
                organization: Some("(주)한빛테크, 연구소".into()),
                position: None,
                phone: Some("010-1234-5678".into()),
                attendees: Some(2),
            },
            status: Status::Accepted,
            received_at: "2022-11-17T14:58:59Z".parse().unwrap(),
            review: None,
            last_message: 1,
        }];
        let mut out = Vec::new();
        write_csv(&mut out, &apps, &seoul).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), "email,name,organization,position,phone,attendees,status,received_at,application_no");
        assert_eq!(
            lines.next().unwrap(),
            "kim@hanbit-tech.example,김민준,\"(주)한빛테크, 연구소\",,010-1234-5678,2,accepted,2022-11-17T23:58:59+09:00,SME-0003"
        );
    }
}
