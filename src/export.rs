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
        let f = &app.fields;
        writer.write_record([
            app.email.as_str(),
            f.name.as_deref().unwrap_or(""),
            f.organization.as_deref().unwrap_or(""),
            f.position.as_deref().unwrap_or(""),
            f.phone.as_deref().unwrap_or(""),
            &f.attendees.unwrap_or(1).to_string(),
            app.status.as_str(),
            &rfc3339_in(app.received_at, tz),
            &crate::reply::application_number(app.id),
        ])?;
    }
    writer.flush().context("cannot write the export")?;
    Ok(())
}

/// `2022-11-17T23:58:59+09:00`
pub fn rfc3339_in(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
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
