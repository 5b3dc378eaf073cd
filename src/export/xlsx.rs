//! The XLSX workbook: sheet `신청자` (every application, oldest first; arrival times as Excel
//! date cells in the event's time zone) and sheet `확인 필요` (what needs a person, from the
//! staff summary; empty in `smebridge export`). Both have a bold, frozen header row with an
//! autofilter, and columns wide enough for Hangul.

use anyhow::{Context, Result};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use super::{attachments_cell, oldest_first, status_words};
use crate::reply::application_number;
use crate::store::Application;

/// The MIME type of the workbook.
pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Excel refuses longer strings in a cell.
const MAX_CELL: usize = 32_767;

/// The headers of the applications sheet.
const XLSX_COLUMNS: [&str; 10] = [
    "신청번호 (No.)",
    "성명 (Name)",
    "소속 (Organization)",
    "직위 (Position)",
    "연락처 (Phone)",
    "이메일 (Email)",
    "인원 (Attendees)",
    "상태 (Status)",
    "접수 시각 (Received)",
    "첨부 (Attachments)",
];

const REVIEW_COLUMNS: [&str; 5] =
    ["종류 (Kind)", "시각 (Time)", "보낸 사람 (Sender)", "제목 (Subject)", "내용 (Detail)"];

/// One row of the `확인 필요` sheet: something a person has to look at.
#[derive(Debug, Clone)]
pub struct ReviewItem<'a> {
    /// What it is, in both languages: `문의 (Inquiry)`.
    pub kind: String,
    pub at: Timestamp,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// Kept whole (the mail shows a few lines of it).
    pub detail: &'a str,
}

/// The header of the column a desk with several events adds after [`XLSX_COLUMNS`].
const EVENT_HEADER: &str = "행사 (Event)";

/// The workbook, as bytes. `event_column`: a last column with each application's event id.
pub fn xlsx(
    apps: &[Application],
    needs_person: &[ReviewItem<'_>],
    tz: &TimeZone,
    event_column: bool,
) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let header =
        Format::new().set_bold().set_background_color(Color::RGB(0xDCE4F0)).set_border_bottom(FormatBorder::Thin);
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm").set_align(FormatAlign::Left);
    let plain = Format::new();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);

    let sheet = book.add_worksheet();
    sheet.set_name("신청자")?;
    let mut columns = XLSX_COLUMNS.to_vec();
    columns.extend(event_column.then_some(EVENT_HEADER));
    let mut widths = Widths::new(&columns);
    for (col, title) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    let apps = oldest_first(apps);
    for (i, app) in apps.iter().enumerate() {
        let row = i as u32 + 1;
        let f = &app.fields;
        let (ko, en) = status_words(app.status);
        let texts = [
            (0, application_number(app.id)),
            (1, f.name.clone().unwrap_or_default()),
            (2, f.organization.clone().unwrap_or_default()),
            (3, f.position.clone().unwrap_or_default()),
            (4, f.phone.clone().unwrap_or_default()),
            (5, app.email.clone()),
            (7, format!("{ko} ({en})")),
            (9, attachments_cell(&app.attachments)),
        ];
        for (col, value) in texts {
            write_text(sheet, &mut widths, row, col, &value, &plain)?;
        }
        sheet.write_number(row, 6, f64::from(f.attendees.unwrap_or(1)))?;
        write_time(sheet, &mut widths, row, 8, app.received_at, tz, &when)?;
        if event_column {
            write_text(sheet, &mut widths, row, XLSX_COLUMNS.len() as u16, app.event.as_str(), &plain)?;
        }
    }
    finish_sheet(sheet, &widths, apps.len())?;

    let sheet = book.add_worksheet();
    sheet.set_name("확인 필요")?;
    let mut widths = Widths::new(&REVIEW_COLUMNS);
    for (col, title) in REVIEW_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    let mut items: Vec<&ReviewItem<'_>> = needs_person.iter().collect();
    items.sort_by_key(|a| a.at);
    for (i, item) in items.iter().enumerate() {
        let row = i as u32 + 1;
        write_text(sheet, &mut widths, row, 0, &item.kind, &plain)?;
        write_time(sheet, &mut widths, row, 1, item.at, tz, &when)?;
        write_text(sheet, &mut widths, row, 2, item.sender.unwrap_or(""), &plain)?;
        write_text(sheet, &mut widths, row, 3, item.subject.unwrap_or(""), &plain)?;
        write_text(sheet, &mut widths, row, 4, item.detail, &wrap)?;
    }
    finish_sheet(sheet, &widths, items.len())?;

    book.save_to_buffer().context("cannot write the XLSX")
}

/// How many columns a string takes in a fixed-width layout (Excel column widths): Hangul, CJK
/// and full-width forms count 2.
pub(super) fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\u{1100}'..='\u{115F}'
            | '\u{2E80}'..='\u{A4CF}'
            | '\u{AC00}'..='\u{D7A3}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF00}'..='\u{FF60}'
            | '\u{FFE0}'..='\u{FFE6}' => 2,
            _ => 1,
        })
        .sum()
}

/// The widest value seen per column, in display columns.
struct Widths(Vec<usize>);

impl Widths {
    fn new(headers: &[&str]) -> Widths {
        Widths(headers.iter().map(|h| display_width(h)).collect())
    }

    fn see(&mut self, col: u16, width: usize) {
        let w = &mut self.0[col as usize];
        *w = (*w).max(width);
    }
}

fn write_text(
    sheet: &mut Worksheet,
    widths: &mut Widths,
    row: u32,
    col: u16,
    value: &str,
    format: &Format,
) -> Result<()> {
    let value: String =
        if value.chars().count() > MAX_CELL { value.chars().take(MAX_CELL).collect() } else { value.to_string() };
    widths.see(col, value.lines().map(display_width).max().unwrap_or(0));
    sheet.write_string_with_format(row, col, value, format)?;
    Ok(())
}

fn write_time(
    sheet: &mut Worksheet,
    widths: &mut Widths,
    row: u32,
    col: u16,
    t: Timestamp,
    tz: &TimeZone,
    format: &Format,
) -> Result<()> {
    widths.see(col, "2022-11-16 09:05".len());
    write_excel_time(sheet, row, col, t, tz, format)
}

/// `t` in `tz` as an Excel date cell.
pub(super) fn write_excel_time(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    t: Timestamp,
    tz: &TimeZone,
    format: &Format,
) -> Result<()> {
    let dt = tz.to_datetime(t);
    let cell = ExcelDateTime::from_ymd(dt.year() as u16, dt.month() as u8, dt.day() as u8)
        .and_then(|d| d.and_hms(dt.hour() as u16, dt.minute() as u8, dt.second()))
        .with_context(|| format!("{dt} cannot be an Excel date"))?;
    sheet.write_datetime_with_format(row, col, cell, format)?;
    Ok(())
}

fn finish_sheet(sheet: &mut Worksheet, widths: &Widths, rows: usize) -> Result<()> {
    for (col, width) in widths.0.iter().enumerate() {
        sheet.set_column_width(col as u16, (*width + 2).clamp(8, 60) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows as u32, widths.0.len() as u16 - 1)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

    use super::*;
    use crate::summary::fixtures::{sample, seoul};

    #[test]
    fn xlsx_has_both_sheets_hangul_and_real_date_cells() {
        let input = sample();
        let review: Vec<ReviewItem<'_>> = input
            .needs_person
            .iter()
            .map(|a| ReviewItem {
                kind: a.kind.label(),
                at: a.at,
                sender: a.sender.as_deref(),
                subject: a.subject.as_deref(),
                detail: &a.detail,
            })
            .collect();
        let bytes = xlsx(&input.applications, &review, &seoul(), false).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["신청자", "확인 필요"]);

        let sheet = book.worksheet_range("신청자").unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows.len(), 1 + input.applications.len());
        let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
        assert_eq!(header, XLSX_COLUMNS);
        let first = rows[1];
        let text = |c: &Data| c.to_string();
        assert_eq!(
            first[..6].iter().map(text).collect::<Vec<_>>(),
            ["SME-0001", "김민준", "(주)한빛테크", "책임연구원", "010-1234-5678", "minjun.kim@hanbit-tech.example"]
        );
        assert_eq!(first[6], Data::Float(2.0));
        assert_eq!(first[7].to_string(), "신청 (accepted)");
        let Data::DateTime(received) = &first[8] else { panic!("not a date cell: {:?}", first[8]) };
        assert!(received.is_datetime());
        // 2022-11-10 10:12 in Seoul, as an Excel serial (days since 1899-12-30).
        let expected = f64::from((jiff::civil::date(2022, 11, 10) - jiff::civil::date(1899, 12, 30)).get_days())
            + (10.0 * 60.0 + 12.0) / (24.0 * 60.0);
        assert!((received.as_f64() - expected).abs() < 1e-6, "{} != {expected}", received.as_f64());
        // Missing attendees count as one, like the export.
        assert_eq!(rows[2][1].to_string(), "Jane Doe");
        assert_eq!(rows[2][6], Data::Float(1.0));
        assert_eq!(rows[2][7].to_string(), "취소 (cancelled)");
        // Applicant text is data, never markup or a formula.
        assert_eq!(rows[4][1].to_string(), "<script>alert(1)</script>");

        let review = book.worksheet_range("확인 필요").unwrap();
        let rows: Vec<&[Data]> = review.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0].to_string(), "종류 (Kind)");
        assert_eq!(rows[1][0].to_string(), "문의 (Inquiry)");
        assert!(matches!(&rows[1][1], Data::DateTime(t) if t.is_datetime()));
        assert_eq!(rows[1][3].to_string(), "주차 <문의>");
        assert!(rows[1][4].to_string().contains("주차가 가능한가요?"));
    }

    #[test]
    fn xlsx_columns_are_wide_enough_for_hangul() {
        assert_eq!(display_width("김민준"), 6);
        assert_eq!(display_width("Jane Doe"), 8);
        assert_eq!(display_width("(주)한빛테크"), 12);
        // An empty workbook is still a valid workbook.
        let bytes = xlsx(&[], &[], &seoul(), false).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.worksheet_range("신청자").unwrap().rows().count(), 1);
    }
}
