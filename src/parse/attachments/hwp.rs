//! HWP 5: `cfb` for the OLE container, `flate2` for the raw-deflated `BodyText/Section*`
//! streams (through the inflation budget), and a minimal record reader (paragraph text and table
//! cells; the HWP crates on crates.io inflate without limits and panic on malformed input). A
//! document with a password or distribution protection is [`ExtractError::Encrypted`](super::ExtractError).

use std::io::{Cursor, Read};

use super::budget::{inflate, Budget};
use super::layout::Builder;
use super::ExtractError::{Broken, Encrypted, Unsupported};
use super::{u16_le, u32_le, ExtractError, Limits};

pub(super) const HWP_SIGNATURE: &[u8] = b"HWP Document File";

pub(super) const HWPTAG_PARA_TEXT: u16 = 67;
pub(super) const HWPTAG_CTRL_HEADER: u16 = 71;
pub(super) const HWPTAG_LIST_HEADER: u16 = 72;
pub(super) const HWPTAG_TABLE: u16 = 77;
/// The control id of a table, `MAKE_4CHID('t','b','l',' ')`.
pub(super) const CTRL_TABLE: u32 = u32::from_be_bytes(*b"tbl ");
/// FileHeader property bits: compressed; password; distribution document (text encrypted);
/// DRM; certificate encryption; certificate DRM.
pub(super) const HWP_COMPRESSED: u32 = 1;
const HWP_PROTECTED: u32 = 1 << 1 | 1 << 2 | 1 << 4 | 1 << 8 | 1 << 10;
/// Most `BodyText/Section*` streams read.
const MAX_HWP_SECTIONS: usize = 1000;

pub(super) fn hwp(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    if bytes.starts_with(HWP_SIGNATURE) {
        return Err(Unsupported("an HWP 3.0 (or older) document".into()));
    }
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| Broken(format!("not an OLE file: {e}")))?;
    let header = read_cfb_stream(&mut cfb, "/FileHeader", 256)?;
    if header.len() < 40 || !header.starts_with(HWP_SIGNATURE) {
        return Err(Broken("no HWP file header".into()));
    }
    let version = u32_le(&header, 32).unwrap_or(0);
    let properties = u32_le(&header, 36).unwrap_or(0);
    if version >> 24 != 5 {
        return Err(Unsupported(format!("HWP version {}", version >> 24)));
    }
    if properties & HWP_PROTECTED != 0 {
        return Err(Encrypted);
    }
    let mut sections = 0;
    while sections < MAX_HWP_SECTIONS {
        let path = format!("/BodyText/Section{sections}");
        if !cfb.is_stream(&path) {
            break;
        }
        let raw = read_cfb_stream(&mut cfb, &path, limits.max_input_bytes)?;
        let data = if properties & HWP_COMPRESSED != 0 {
            inflate(&raw, false, budget)?
        } else {
            budget.spend(raw.len() as u64)?;
            raw
        };
        hwp_records(&data, doc);
        sections += 1;
        if doc.is_full() {
            break;
        }
    }
    if sections == 0 {
        return Err(Broken("no BodyText/Section0".into()));
    }
    Ok(())
}

pub(super) fn read_cfb_stream(
    cfb: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &str,
    max: usize,
) -> Result<Vec<u8>, ExtractError> {
    let stream = cfb.open_stream(path).map_err(|e| Broken(format!("{path}: {e}")))?;
    let mut out = Vec::new();
    stream.take(max as u64).read_to_end(&mut out).map_err(|e| Broken(format!("{path}: {e}")))?;
    Ok(out)
}

/// One HWP record: tag id, nesting level, data.
struct Record<'a> {
    tag: u16,
    level: u16,
    data: &'a [u8],
}

/// The records of a section stream; stops at a record that runs past the end.
fn hwp_record_iter(data: &[u8]) -> impl Iterator<Item = Record<'_>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let header = u32_le(data, pos)?;
        let mut size = (header >> 20) as usize;
        let mut start = pos + 4;
        if size == 0xFFF {
            size = u32_le(data, start)? as usize;
            start += 4;
        }
        let end = start.checked_add(size)?;
        let record = Record {
            tag: (header & 0x3FF) as u16,
            level: ((header >> 10) & 0x3FF) as u16,
            data: data.get(start..end)?,
        };
        pos = end;
        Some(record)
    })
}

/// An open table: the level of its control header, the row being filled, whether a cell is open.
struct HwpTable {
    level: u16,
    row: Option<u16>,
    in_cell: bool,
}

/// Paragraph text and table structure from the records of one section.
///
/// A table is a `tbl ` control (CTRL_HEADER at level L) followed by a TABLE record (L+1) and,
/// for each cell, a LIST_HEADER (L+1) giving the cell's row, then the cell's paragraphs (L+1 and
/// deeper). The table ends at the next record of level L or less.
fn hwp_records(data: &[u8], doc: &mut Builder) {
    let mut tables: Vec<HwpTable> = Vec::new();
    let mut table_control: Option<u16> = None;
    for record in hwp_record_iter(data) {
        while tables.last().is_some_and(|t| record.level <= t.level) {
            tables.pop();
            doc.table_end();
        }
        if table_control.is_some_and(|level| record.level <= level) {
            table_control = None;
        }
        match record.tag {
            HWPTAG_PARA_TEXT => {
                hwp_para_text(record.data, doc);
                doc.para_end();
            }
            HWPTAG_CTRL_HEADER if u32_le(record.data, 0) == Some(CTRL_TABLE) => table_control = Some(record.level),
            HWPTAG_TABLE if table_control.is_some_and(|level| record.level == level + 1) => {
                let level = table_control.take().unwrap_or_default();
                doc.table_start();
                tables.push(HwpTable { level, row: None, in_cell: false });
            }
            HWPTAG_LIST_HEADER => {
                let Some(table) = tables.last_mut().filter(|t| record.level == t.level + 1) else {
                    continue;
                };
                // Paragraph count and list properties (8 bytes), then column and row address.
                let row = u16_le(record.data, 10);
                if table.in_cell {
                    doc.cell_end();
                }
                if table.row.is_none() || row != table.row {
                    doc.row_start();
                    table.row = row.or(Some(u16::MAX));
                }
                doc.cell_start();
                table.in_cell = true;
            }
            _ => {}
        }
        if doc.is_full() {
            break;
        }
    }
    for _ in tables {
        doc.table_end();
    }
}

/// A PARA_TEXT record: UTF-16LE with control characters. Codes 0-31 are controls: most take 8
/// code units (the code, 6 units of parameters, the code again); 0, 10 (line break), 13
/// (paragraph end) and 24-31 take one. 9 is a tab, 24 a hyphen, 30 and 31 special spaces.
fn hwp_para_text(data: &[u8], doc: &mut Builder) {
    let units: Vec<u16> = data.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]])).collect();
    let mut text: Vec<u16> = Vec::new();
    let flush = |text: &mut Vec<u16>, doc: &mut Builder| {
        let decoded: String = char::decode_utf16(text.drain(..)).map(|c| c.unwrap_or('\u{FFFD}')).collect();
        doc.text(&decoded);
    };
    let mut i = 0;
    while i < units.len() {
        let unit = units[i];
        if unit >= 32 {
            text.push(unit);
            i += 1;
            continue;
        }
        flush(&mut text, doc);
        match unit {
            9 => doc.tab(),
            10 => doc.para_end(),
            24 => doc.text("-"),
            30 | 31 => doc.text(" "),
            _ => {}
        }
        i += match unit {
            0 | 10 | 13 | 24..=31 => 1,
            _ => 8,
        };
    }
    flush(&mut text, doc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::applicant::extract_fields;
    use crate::parse::attachments::testdocs::{
        assert_korean_form, hwp_control, hwp_file, hwp_para, hwp_section, hwp_table, le, record, small_limits, text_of,
        FIXTURE_HWP, FIXTURE_HWPX,
    };
    use crate::parse::attachments::{extract_text, kind_of, ExtractError, FormKind, Limits};

    #[test]
    fn hwp5_paragraphs_and_table_cells() {
        let text = text_of(FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &hwp_section()));
        assert_eq!(
            text,
            "참가\t신청서 𝐀\n\
             성명\t김민준\t직위\t책임연구원\n\
             소속\t(주)한빛테크\n\
             연락처\t010-1234-5678\t참석인원\t2명\n\
             위와 같이 신청합니다.\n\
             2025년 5월 1일\n"
        );
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
        // The same document stored uncompressed.
        assert_eq!(text_of(FormKind::Hwp, &hwp_file(0, &hwp_section())), text);
    }

    #[test]
    fn hwp_and_hwpx_written_by_another_tool_are_read() {
        let expected = "워크숍 참가 신청서\n\
                        아래 양식을 작성하여 회신해 주십시오.\n\
                        성명\t김민준\t직위\t책임연구원\n\
                        소속\t(주)한빛테크\t참석인원\t2명\n\
                        연락처\t010-1234-5678\t이메일\tminjun.kim@hanbit-tech.example\n\
                        위와 같이 신청합니다.\n";
        assert_eq!(kind_of(Some("form.hwp"), None, FIXTURE_HWP), Some(FormKind::Hwp));
        assert_eq!(kind_of(None, None, FIXTURE_HWPX), Some(FormKind::Hwpx));
        for (kind, bytes) in [(FormKind::Hwp, FIXTURE_HWP), (FormKind::Hwpx, FIXTURE_HWPX)] {
            let text = text_of(kind, bytes);
            assert_eq!(text, expected);
            assert_korean_form(&text);
            assert_eq!(extract_fields(&text).attendees, Some(2));
        }
    }

    #[test]
    fn hwp5_nested_tables_get_lines_of_their_own() {
        // An outer table whose second cell holds an inner two-row table.
        let inner = hwp_table(&[&["성명", "김민준"], &["소속", "(주)한빛테크"]]);
        let shifted: Vec<u8> = hwp_record_iter(&inner).flat_map(|r| record(r.tag, r.level + 3, r.data)).collect();
        let mut section = hwp_table(&[&["신청자", "x"]]);
        // Replace the last cell's paragraph ("x") by the inner table, which sits one level
        // below the cell's paragraph.
        let cut = hwp_record_iter(&section).map(|r| r.data.len() + 4).collect::<Vec<_>>();
        let keep: usize = cut[..cut.len() - 2].iter().sum();
        section.truncate(keep);
        section.extend(record(66, 2, &[0; 4]));
        section.extend(record(HWPTAG_PARA_TEXT, 3, &le(&[hwp_control(11, b"tbl "), vec![13]].concat())));
        section.extend(record(HWPTAG_CTRL_HEADER, 3, &CTRL_TABLE.to_le_bytes()));
        section.extend(shifted);
        let text = text_of(FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &section));
        assert!(text.contains("신청자\n성명\t김민준\n소속\t(주)한빛테크\n"), "{text:?}");
    }

    #[test]
    fn a_protected_hwp_is_reported_as_encrypted() {
        for flag in [1 << 1, 1 << 2, 1 << 4] {
            let err =
                extract_text(&FormKind::Hwp, &hwp_file(HWP_COMPRESSED | flag, &hwp_section()), &Limits::default());
            assert!(matches!(err, Err(ExtractError::Encrypted)), "{flag}: {err:?}");
        }
    }

    #[test]
    fn old_hwp_versions_are_unsupported() {
        let err = extract_text(&FormKind::Hwp, b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05", &Limits::default());
        assert!(matches!(err, Err(ExtractError::Unsupported(_))), "{err:?}");
    }

    #[test]
    fn an_hwp_section_bomb_stops_at_the_limit() {
        let mut section = Vec::new();
        while section.len() < 4 * 1024 * 1024 {
            section.extend(hwp_para(0, &[0x20; 2000]));
        }
        let err = extract_text(&FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &section), &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
    }
}
