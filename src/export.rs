//! Applications for staff: one row per application, header first, UTF-8.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::store::{Application, StoredAttachment};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
}

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

/// Create (or truncate) an export file that only its owner can read (mode 0600): it holds
/// personal data. An existing file with a wider mode is narrowed first.
pub fn create_private_file(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private (mode 0600)", path.display()))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path).with_context(|| format!("cannot create {}", path.display()))
    }
}

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

/// A cell an applicant wrote that starts like a spreadsheet formula (`=`, `+`, `-`, `@`) is
/// prefixed with `'`, so that opening the CSV in Excel cannot run it (CSV injection).
pub fn defuse_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// Every application as a JSON array of objects keyed by [`CSV_COLUMNS`], plus `review`;
/// `attachments` is an array of objects (`name`, `type`, `size` in bytes, `sha256`, and
/// `within` for a file found inside another attachment), `people` an array of names, `notes`
/// the applicant's remarks (or null), and
/// `sources` an object (field → where its value was read).
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
            object.insert("attachments".into(), serde_json::json!(app.attachments));
            object.insert("people".into(), serde_json::json!(app.people));
            object.insert("notes".into(), serde_json::json!(app.notes));
            object.insert("sources".into(), serde_json::json!(app.sources));
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

    #[cfg(unix)]
    #[test]
    fn export_files_are_created_private_and_existing_ones_are_narrowed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let new = dir.path().join("new.csv");
        write_csv(create_private_file(&new).unwrap(), &[], &TimeZone::UTC).unwrap();
        assert_eq!(mode(&new), 0o600);
        assert!(std::fs::read_to_string(&new).unwrap().starts_with("email,"));
        let old = dir.path().join("old.csv");
        std::fs::write(&old, "old contents that are longer than the new ones").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private_file(&old).unwrap().write_all(b"x").unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "x");
    }

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
            people: vec!["김민준".into(), "이하은".into()],
            notes: Some("=주차 필요".into()),
            sources: [("name", "line 4, label '성 명'"), ("phone", "signature block")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            attachments: Vec::new(),
        }];
        let mut out = Vec::new();
        write_csv(&mut out, &apps, &seoul).unwrap();
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

    fn with_attachments(attachments: Vec<StoredAttachment>) -> Application {
        Application {
            id: 4,
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

    fn listed(name: &str, content_type: &str, size: i64, within: Option<&str>) -> StoredAttachment {
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
        write_csv(&mut out, std::slice::from_ref(&app), &seoul).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        assert_eq!(reader.headers().unwrap().get(9), Some("attachments"));
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(
            &record[9],
            "신청서.hwpx (application/hwp+zip, 34 kB); winmail.dat (application/ms-tnef, 2.5 MB); \
             참가신청서.docx (application/msword, 999 B, in winmail.dat)"
        );

        let mut out = Vec::new();
        write_json(&mut out, &[app], &seoul).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json[0]["attachments"][0],
            serde_json::json!({"name": "신청서.hwpx", "type": "application/hwp+zip", "size": 34_123, "sha256": "ab".repeat(32)})
        );
        assert_eq!(json[0]["attachments"][2]["within"], "winmail.dat");
        assert_eq!(json[0]["application_no"], "SME-0004");
    }

    #[test]
    fn an_attachment_name_that_starts_like_a_formula_is_defused_in_csv() {
        let seoul = jiff::tz::db().get("Asia/Seoul").unwrap();
        let app = with_attachments(vec![listed("=HYPERLINK(\"http://x.example\").pdf", "application/pdf", 10, None)]);
        let mut out = Vec::new();
        write_csv(&mut out, &[app], &seoul).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[9], "'=HYPERLINK(\"http://x.example\").pdf (application/pdf, 10 B)");
    }
}
