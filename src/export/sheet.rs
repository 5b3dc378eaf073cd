//! The sign-in sheet for the desk on the day (`smebridge sheet`, and attached to the last daily
//! summary before the event): a workbook printed on A4 and signed by hand.
//!
//! Sheet `참석자 서명부`: one row per person expected, not per application — every attendee the
//! mail named, and where an application only gave a count (`인원: 3`) the contact followed by
//! numbered blank rows (`동행 1`, `동행 2`) for the desk to fill in. Sorted by organization, then
//! name (an unnamed companion stays right after its contact; people without an organization
//! last). Columns: No., organization, name, position, phone (in full: the sheet is printed for
//! the desk, not mailed around), application number, signature and name badge (both empty).
//! Printed on A4 landscape, fit to one page wide, the header row repeated on every page, the
//! event's name in the page header and `page / pages` in the footer, with grid lines.
//!
//! Sheet `대기자`: the waiting list in its order (first come, first moved up), so that the desk
//! can seat people who did not come.

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use crate::config::Config;
use crate::domain::{EventId, Status};
use crate::reply::application_number;
use crate::store::{Application, Store};

/// The headers of the sign-in sheet.
pub const SHEET_COLUMNS: [&str; 8] = [
    "No.",
    "소속 (Organization)",
    "성명 (Name)",
    "직위 (Position)",
    "연락처 (Phone)",
    "신청번호 (Application)",
    "서명 (Signature)",
    "명찰 (Badge)",
];

/// The headers of the waiting list sheet.
pub const WAITLIST_COLUMNS: [&str; 7] = [
    "순번 (No.)",
    "소속 (Organization)",
    "성명 (Name)",
    "인원 (Attendees)",
    "연락처 (Phone)",
    "신청번호 (Application)",
    "접수 시각 (Received)",
];

/// The names of the two sheets.
pub const SIGN_IN_SHEET: &str = "참석자 서명부";
pub const WAITLIST_SHEET: &str = "대기자";

/// A4 in Excel's paper size numbers.
const PAPER_A4: u8 = 9;

/// One printed row of the sign-in sheet: a person expected at the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub organization: String,
    /// A name, or `동행 1` for a companion nobody named.
    pub name: String,
    pub position: String,
    pub phone: String,
    pub application: i64,
    /// The `n` of `동행 n`; 0 for a named person.
    companion: u32,
    /// The name the row sorts by: its own, or its contact's for an unnamed companion.
    sort_name: String,
}

/// Everyone expected from the accepted applications among `apps`, in the sheet's order.
pub fn attendees(apps: &[Application]) -> Vec<Attendee> {
    let mut rows = Vec::new();
    for app in apps.iter().filter(|a| a.status == Status::Accepted) {
        let f = &app.fields;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let organization = text(&f.organization);
        let contact = f.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| app.email.clone());
        // The contact first, then everyone else the mail named (once each).
        let mut names = vec![contact.clone()];
        for person in &app.people {
            if !names.iter().any(|n| n == person) && !person.trim().is_empty() {
                names.push(person.clone());
            }
        }
        let expected = (f.attendees.unwrap_or(1).max(1) as usize).max(names.len());
        for (i, name) in names.iter().enumerate() {
            let is_contact = i == 0;
            rows.push(Attendee {
                organization: organization.clone(),
                name: name.clone(),
                position: if is_contact { text(&f.position) } else { String::new() },
                phone: if is_contact { text(&f.phone) } else { String::new() },
                application: app.id,
                companion: 0,
                sort_name: name.clone(),
            });
        }
        for n in 1..=(expected - names.len()) as u32 {
            rows.push(Attendee {
                organization: organization.clone(),
                name: format!("동행 {n}"),
                position: String::new(),
                phone: String::new(),
                application: app.id,
                companion: n,
                sort_name: contact.clone(),
            });
        }
    }
    rows.sort_by(|a, b| {
        (a.organization.is_empty(), &a.organization, &a.sort_name, a.application, a.companion).cmp(&(
            b.organization.is_empty(),
            &b.organization,
            &b.sort_name,
            b.application,
            b.companion,
        ))
    });
    rows
}

/// The waiting list among `apps`, in its order (by arrival, then number).
pub fn waitlist(apps: &[Application]) -> Vec<&Application> {
    let mut waiting: Vec<&Application> = apps.iter().filter(|a| a.status == Status::Waitlisted).collect();
    waiting.sort_by_key(|a| (a.received_at, a.id));
    waiting
}

/// The sign-in workbook for the event called `event_name`, from its applications `apps` (any
/// status: only accepted and waitlisted ones are listed), as bytes.
pub fn sign_in_sheet(event_name: &str, apps: &[Application], tz: &TimeZone) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDCE4F0))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let cell = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter);
    let when = cell.clone().set_num_format("yyyy-mm-dd hh:mm").set_align(FormatAlign::Left);
    // Page header text: `&` starts a code there.
    let title = event_name.replace('&', "&&");

    let sheet = book.add_worksheet();
    sheet.set_name(SIGN_IN_SHEET)?;
    let people = attendees(apps);
    let mut widths: Vec<usize> = SHEET_COLUMNS.iter().map(|h| super::xlsx::display_width(h)).collect();
    for (col, title) in SHEET_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    for (i, person) in people.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_number_with_format(row, 0, (i + 1) as f64, &cell)?;
        let texts = [
            (1, person.organization.as_str()),
            (2, person.name.as_str()),
            (3, person.position.as_str()),
            (4, person.phone.as_str()),
            (5, &application_number(person.application)),
            (6, ""),
            (7, "☐"),
        ];
        for (col, value) in texts {
            widths[col] = widths[col].max(super::xlsx::display_width(value));
            sheet.write_string_with_format(row, col as u16, value, &cell)?;
        }
        // Room to sign by hand.
        sheet.set_row_height(row, 30)?;
    }
    widths[6] = widths[6].max(24);
    set_widths(sheet, &widths)?;
    print_setup(sheet, &format!("&L&\"-,Bold\"{title}&R참석자 서명부 (Sign-in)"))?;

    let sheet = book.add_worksheet();
    sheet.set_name(WAITLIST_SHEET)?;
    let waiting = waitlist(apps);
    let mut widths: Vec<usize> = WAITLIST_COLUMNS.iter().map(|h| super::xlsx::display_width(h)).collect();
    for (col, title) in WAITLIST_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    for (i, app) in waiting.iter().enumerate() {
        let row = i as u32 + 1;
        let f = &app.fields;
        sheet.write_number_with_format(row, 0, (i + 1) as f64, &cell)?;
        let name = f.name.clone().unwrap_or_else(|| app.email.clone());
        let texts = [
            (1, f.organization.clone().unwrap_or_default()),
            (2, name),
            (4, f.phone.clone().unwrap_or_default()),
            (5, application_number(app.id)),
        ];
        for (col, value) in texts {
            widths[col] = widths[col].max(super::xlsx::display_width(&value));
            sheet.write_string_with_format(row, col as u16, value, &cell)?;
        }
        sheet.write_number_with_format(row, 3, f64::from(f.attendees.unwrap_or(1)), &cell)?;
        super::xlsx::write_excel_time(sheet, row, 6, app.received_at, tz, &when)?;
        widths[6] = widths[6].max("2022-11-16 09:05".len());
    }
    set_widths(sheet, &widths)?;
    print_setup(sheet, &format!("&L&\"-,Bold\"{title}&R대기자 (Waiting list)"))?;

    book.save_to_buffer().context("cannot write the sign-in sheet")
}

/// The sign-in workbook for `event`, from the database.
pub fn sign_in_sheet_for(store: &Store, config: &Config, event: &EventId) -> Result<Vec<u8>> {
    let facts = config.event(event).with_context(|| crate::summary::unknown_event(config, event))?;
    let apps: Vec<Application> = store.applications()?.into_iter().filter(|a| &a.event == event).collect();
    sign_in_sheet(&facts.name, &apps, &facts.timezone)
}

/// The file name the summary gives the sheet: `smebridge-sign-in-ws-2211.xlsx`.
pub fn sign_in_filename(event: &EventId) -> String {
    format!("smebridge-sign-in-{event}.xlsx")
}

fn set_widths(sheet: &mut Worksheet, widths: &[usize]) -> Result<()> {
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, (*width + 2).clamp(6, 40) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// A4 landscape, one page wide, the header row on every page, the event in the page header and
/// the page number in the footer.
fn print_setup(sheet: &mut Worksheet, page_header: &str) -> Result<()> {
    sheet
        .set_paper_size(PAPER_A4)
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_print_gridlines(true)
        .set_print_center_horizontally(true)
        .set_margins(0.5, 0.5, 0.75, 0.75, 0.3, 0.3)
        .set_header(page_header)
        .set_footer("&C&P / &N");
    sheet.set_repeat_rows(0, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

    use super::*;
    use crate::domain::{ApplicantFields, EventId};

    fn app(id: i64, name: &str, org: &str, attendees: Option<u32>, people: &[&str], status: Status) -> Application {
        Application {
            id,
            event: EventId::default_id(),
            email: format!("person{id}@desk.example"),
            fields: ApplicantFields {
                name: Some(name.into()),
                organization: (!org.is_empty()).then(|| org.into()),
                position: Some("팀장".into()),
                phone: Some(format!("010-1234-{id:04}")),
                attendees,
            },
            status,
            received_at: jiff::Timestamp::from_second(1_668_560_000 + id * 60).unwrap(),
            review: None,
            last_message: id,
            people: people.iter().map(|p| p.to_string()).collect(),
            notes: None,
            sources: Default::default(),
            attachments: Vec::new(),
        }
    }

    fn sample() -> Vec<Application> {
        vec![
            app(1, "최유진", "한빛테크", Some(3), &["최유진"], Status::Accepted),
            app(2, "김민준", "다온상사", Some(2), &["김민준", "박지호"], Status::Accepted),
            app(3, "Jane Doe", "", None, &[], Status::Accepted),
            app(4, "이서연", "가람", Some(1), &[], Status::Cancelled),
            app(5, "정하늘", "누리", Some(1), &[], Status::Waitlisted),
            app(6, "강바다", "가람", Some(2), &[], Status::Waitlisted),
            app(7, "안도윤", "다온상사", Some(1), &[], Status::Accepted),
        ]
    }

    #[test]
    fn every_expected_person_has_a_row_sorted_by_organization_then_name() {
        let rows: Vec<(String, String, i64)> =
            attendees(&sample()).into_iter().map(|a| (a.organization, a.name, a.application)).collect();
        let expected = [
            ("다온상사", "김민준", 2),
            ("다온상사", "박지호", 2),
            ("다온상사", "안도윤", 7),
            ("한빛테크", "최유진", 1),
            ("한빛테크", "동행 1", 1),
            ("한빛테크", "동행 2", 1),
            ("", "Jane Doe", 3),
        ];
        let expected: Vec<(String, String, i64)> =
            expected.iter().map(|(o, n, i)| (o.to_string(), n.to_string(), *i)).collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn sign_in_sheet_opens_with_people_waitlist_and_print_settings() {
        let bytes = sign_in_sheet("창업 & 수출 워크숍", &sample(), &TimeZone::UTC).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        assert_eq!(book.sheet_names(), [SIGN_IN_SHEET, WAITLIST_SHEET]);
        let sheet = book.worksheet_range(SIGN_IN_SHEET).unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows[0].iter().map(|c| c.to_string()).collect::<Vec<_>>(), SHEET_COLUMNS);
        assert_eq!(rows.len(), 1 + 7);
        let text = |c: &Data| c.to_string();
        assert_eq!(
            rows[1].iter().map(text).collect::<Vec<_>>(),
            ["1", "다온상사", "김민준", "팀장", "010-1234-0002", "SME-0002", "", "☐"]
        );
        assert_eq!(rows[5][2].to_string(), "동행 1");
        assert_eq!(rows[5][5].to_string(), "SME-0001");

        let waiting = book.worksheet_range(WAITLIST_SHEET).unwrap();
        let rows: Vec<&[Data]> = waiting.rows().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1][2].to_string(), "정하늘");
        assert_eq!(rows[2][2].to_string(), "강바다");
        assert_eq!(rows[2][3], Data::Float(2.0));

        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
        // A4, landscape, fit to pages: one wide (fitToWidth's default, 1, is left out), as many
        // tall as it takes.
        assert!(xml.contains(r#"<pageSetup paperSize="9" fitToHeight="0" orientation="landscape""#), "{xml}");
        assert!(!xml.contains("fitToWidth"), "{xml}");
        assert!(xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#), "{xml}");
        assert!(xml.contains(r#"<printOptions horizontalCentered="1" gridLines="1"/>"#), "{xml}");
        assert!(xml.contains("<oddHeader>&amp;L&amp;\"-,Bold\"창업 &amp;&amp; 수출 워크숍"), "{xml}");
        assert!(xml.contains("<oddFooter>&amp;C&amp;P / &amp;N</oddFooter>"), "{xml}");
        let mut workbook = String::new();
        zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut workbook).unwrap();
        assert!(
            workbook.contains(&format!(
                r#"<definedName name="_xlnm.Print_Titles" localSheetId="0">'{SIGN_IN_SHEET}'!$1:$1</definedName>"#
            )),
            "{workbook}"
        );
    }
}
