//! CSV: the `export` command's default format, and the summary's attachment (with a byte order
//! mark, so Excel in Korea opens it as UTF-8).

use std::io::Write;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;

use super::{oldest_first, row, CSV_COLUMNS, EVENT_COLUMN};
use crate::store::Application;

/// Write every application as CSV. `received_at` is the arrival time at the server, RFC 3339 in
/// the event's time zone. `event_column`: the event's id after the other columns.
pub fn write_csv(out: impl Write, applications: &[Application], tz: &TimeZone, event_column: bool) -> Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    let mut header = CSV_COLUMNS.to_vec();
    header.extend(event_column.then_some(EVENT_COLUMN));
    writer.write_record(header)?;
    for app in applications {
        let mut cells: Vec<String> = row(app, tz).iter().map(|cell| defuse_formula(cell)).collect();
        cells.extend(event_column.then(|| app.event.to_string()));
        writer.write_record(cells)?;
    }
    writer.flush().context("cannot write the export")?;
    Ok(())
}

/// The export CSV (`smebridge export` columns), oldest first, preceded by a UTF-8 byte order
/// mark, so Excel in Korea opens it as UTF-8 instead of guessing CP949.
pub fn csv_with_bom(apps: &[Application], tz: &TimeZone, event_column: bool) -> Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    write_csv(&mut out, &oldest_first(apps), tz, event_column)?;
    Ok(out)
}

/// A cell an applicant wrote that starts like a spreadsheet formula (`=`, `+`, `-`, `@`) is
/// prefixed with `'`, so that opening the CSV in Excel cannot run it (CSV injection).
pub fn defuse_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ApplicantFields, Status};
    use crate::export::tests::{listed, with_attachments};
    use crate::summary::fixtures::{sample, seoul};

    #[test]
    fn formulas_from_applicants_are_defused() {
        assert_eq!(defuse_formula("=HYPERLINK(\"http://x.example\")"), "'=HYPERLINK(\"http://x.example\")");
        assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse_formula("010-1234-5678"), "010-1234-5678");
        assert_eq!(defuse_formula("(주)한빛테크"), "(주)한빛테크");
    }

    #[test]
    fn csv_has_the_contract_columns_and_local_times() {
        let seoul = seoul();
        let apps = vec![Application {
            id: 3,
            event: crate::domain::EventId::default_id(),
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
            people: vec!["김민준".into(), "이하은".into()],
            notes: Some("=주차 필요".into()),
            sources: [("name", "line 4, label '성 명'"), ("phone", "signature block")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            attachments: Vec::new(),
        }];
        let mut out = Vec::new();
        write_csv(&mut out, &apps, &seoul, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "email,name,organization,position,phone,attendees,status,received_at,application_no,attachments,people,notes,sources"
        );
        assert_eq!(
            lines.next().unwrap(),
            "kim@hanbit-tech.example,김민준,\"(주)한빛테크, 연구소\",,010-1234-5678,2,accepted,2022-11-17T23:58:59+09:00,SME-0003,,\
             김민준; 이하은,'=주차 필요,\"name: line 4, label '성 명'; phone: signature block\""
        );
    }

    #[test]
    fn an_attachment_name_that_starts_like_a_formula_is_defused_in_csv() {
        let seoul = seoul();
        let app = with_attachments(vec![listed("=HYPERLINK(\"http://x.example\").pdf", "application/pdf", 10, None)]);
        let mut out = Vec::new();
        write_csv(&mut out, &[app], &seoul, false).unwrap();
        let mut reader = ::csv::Reader::from_reader(out.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[9], "'=HYPERLINK(\"http://x.example\").pdf (application/pdf, 10 B)");
    }

    #[test]
    fn csv_starts_with_a_bom_and_round_trips() {
        let input = sample();
        let bytes = csv_with_bom(&input.applications, &seoul(), false).unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        let mut reader = ::csv::Reader::from_reader(&bytes[3..]);
        assert_eq!(reader.headers().unwrap(), &::csv::StringRecord::from(CSV_COLUMNS.to_vec()));
        let records: Vec<::csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), input.applications.len());
        assert_eq!(
            records[0].iter().collect::<Vec<_>>(),
            [
                "minjun.kim@hanbit-tech.example",
                "김민준",
                "(주)한빛테크",
                "책임연구원",
                "010-1234-5678",
                "2",
                "accepted",
                "2022-11-10T10:12:00+09:00",
                "SME-0001",
                "", // attachments: none
                "", // people: none named
                "", // notes: none
                "", // sources: not known in this sample
            ]
        );
        assert_eq!(&records[3][1], "<script>alert(1)</script>");
    }
}
