//! XLSX: every sheet (in workbook order), each row a line and its cells tab-separated, with
//! shared strings resolved; `zip` + `quick-xml`, read element by element. Gaps of more than
//! [`MAX_CELL_GAP`] empty columns are not padded.

use std::collections::HashMap;

use quick_xml::events::Event;

use super::budget::Budget;
use super::layout::Builder;
use super::ooxml::{attr, local_name, normalize_zip_name, open_zip, read_zip_entry, relationship_targets, Zip};
use super::ExtractError::Broken;
use super::{ExtractError, Limits};

/// Most empty cells inserted for a gap between two cells of a row.
const MAX_CELL_GAP: usize = 64;

pub(super) fn xlsx(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut zip = open_zip(bytes, limits)?;
    let shared = match read_zip_entry(&mut zip, "xl/sharedStrings.xml", budget)? {
        Some(xml) => shared_strings(&xml)?,
        None => Vec::new(),
    };
    for sheet in sheet_paths(&mut zip, budget)? {
        let Some(xml) = read_zip_entry(&mut zip, &sheet, budget)? else {
            continue;
        };
        doc.table_start();
        sheet_rows(&xml, &shared, doc)?;
        doc.table_end();
        if doc.is_full() {
            break;
        }
    }
    Ok(())
}

/// The worksheets in workbook order; without a readable workbook, `xl/worksheets/*.xml` by name.
fn sheet_paths(zip: &mut Zip<'_>, budget: &mut Budget) -> Result<Vec<String>, ExtractError> {
    let workbook = read_zip_entry(zip, "xl/workbook.xml", budget)?.unwrap_or_default();
    let rels = read_zip_entry(zip, "xl/_rels/workbook.xml.rels", budget)?.unwrap_or_default();
    let targets: HashMap<String, String> =
        relationship_targets(&rels).into_iter().map(|(id, _, target)| (id, target)).collect();
    let mut paths = Vec::new();
    let mut reader = quick_xml::Reader::from_reader(&workbook[..]);
    let mut buf = Vec::new();
    while let Ok(event) = reader.read_event_into(&mut buf) {
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) if local_name(e.name().as_ref()) == "sheet" => {
                if let Some(target) = targets.get(&attr(e, "id")) {
                    paths.push(match target.strip_prefix('/') {
                        Some(absolute) => absolute.to_owned(),
                        None => format!("xl/{target}"),
                    });
                }
            }
            _ => {}
        }
        buf.clear();
    }
    if paths.is_empty() {
        let mut names: Vec<(u32, String)> = zip
            .file_names()
            .flatten()
            .filter_map(|name| {
                let n = normalize_zip_name(&name);
                let number = n.strip_prefix("xl/worksheets/sheet")?.strip_suffix(".xml")?.parse().ok()?;
                Some((number, name.into_owned()))
            })
            .collect();
        names.sort();
        paths = names.into_iter().map(|(_, name)| name).collect();
    }
    Ok(paths)
}

/// The text of each `si` in `xl/sharedStrings.xml` (phonetic guides left out).
fn shared_strings(xml: &[u8]) -> Result<Vec<String>, ExtractError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut in_t, mut in_phonetic) = (false, false);
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| Broken(format!("bad XML: {e}")))? {
            Event::Eof => return Ok(out),
            Event::Start(ref e) => match local_name(e.name().as_ref()) {
                "si" => current.clear(),
                "t" => in_t = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(ref e) => match local_name(e.name().as_ref()) {
                "si" => out.push(std::mem::take(&mut current)),
                "t" => in_t = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Empty(ref e) if local_name(e.name().as_ref()) == "si" => out.push(String::new()),
            Event::Text(ref e) if in_t && !in_phonetic => current.push_str(&e.xml10_content()),
            Event::GeneralRef(ref e) if in_t && !in_phonetic => current.push_str(&resolve_ref(e)),
            _ => {}
        }
        buf.clear();
    }
}

fn resolve_ref(e: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = e.resolve_char_ref() {
        return c.to_string();
    }
    quick_xml::escape::resolve_predefined_entity(e).unwrap_or_default().to_owned()
}

/// `C12` → column index 2 (zero-based).
fn column_index(reference: &str) -> Option<usize> {
    let letters: Vec<u8> = reference.bytes().take_while(u8::is_ascii_alphabetic).collect();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    Some(letters.iter().fold(0usize, |acc, &b| acc * 26 + usize::from(b.to_ascii_uppercase() - b'A') + 1) - 1)
}

fn sheet_rows(xml: &[u8], shared: &[String], doc: &mut Builder) -> Result<(), ExtractError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    // The cell being read: its column, its type, and its value text.
    let mut next_col = 0usize;
    let mut cell: Option<(Option<usize>, String, String)> = None;
    let (mut in_value, mut in_phonetic) = (false, false);
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| Broken(format!("bad XML: {e}")))? {
            Event::Eof => return Ok(()),
            Event::Start(ref e) => match local_name(e.name().as_ref()) {
                "row" => {
                    doc.row_start();
                    next_col = 0;
                }
                "c" => cell = Some((column_index(&attr(e, "r")), attr(e, "t"), String::new())),
                "v" | "t" => in_value = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(ref e) => match local_name(e.name().as_ref()) {
                "row" => doc.row_end(),
                "c" => {
                    if let Some((col, kind, raw)) = cell.take() {
                        let col = col.unwrap_or(next_col);
                        for _ in next_col..col.min(next_col + MAX_CELL_GAP) {
                            doc.cell_start();
                            doc.cell_end();
                        }
                        next_col = col.max(next_col) + 1;
                        doc.cell_start();
                        doc.text(&cell_value(&kind, &raw, shared));
                        doc.cell_end();
                    }
                }
                "v" | "t" => in_value = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Text(ref e) if in_value && !in_phonetic => {
                if let Some((_, _, raw)) = cell.as_mut() {
                    raw.push_str(&e.xml10_content());
                }
            }
            Event::GeneralRef(ref e) if in_value && !in_phonetic => {
                if let Some((_, _, raw)) = cell.as_mut() {
                    raw.push_str(&resolve_ref(e));
                }
            }
            _ => {}
        }
        if doc.is_full() {
            return Ok(());
        }
        buf.clear();
    }
}

fn cell_value(kind: &str, raw: &str, shared: &[String]) -> String {
    match kind {
        "s" => raw.trim().parse::<usize>().ok().and_then(|i| shared.get(i)).cloned().unwrap_or_default(),
        "b" => if raw.trim() == "1" { "TRUE" } else { "FALSE" }.to_owned(),
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::applicant::extract_fields;
    use crate::parse::attachments::testdocs::{assert_korean_form, text_of, xlsx_form, FIXTURE_XLSX};
    use crate::parse::attachments::FormKind;

    #[test]
    fn xlsx_sheets_rows_and_cells() {
        let text = text_of(FormKind::Xlsx, &xlsx_form());
        assert_eq!(
            text,
            "워크숍 참가 신청서\n\
             성명\t\t김민준\n\
             소속\t(주)한빛테크\n\
             연락처\t010-1234-5678\n\
             참석인원\t2\tTRUE\n\
             메모 시트\n"
        );
        let fields = extract_fields(&text);
        assert_eq!(fields.name.as_deref(), Some("김민준"));
        assert_eq!(fields.organization.as_deref(), Some("(주)한빛테크"));
        assert_eq!(fields.phone.as_deref(), Some("010-1234-5678"));
    }

    #[test]
    fn an_xlsx_made_by_libreoffice_is_read() {
        let text = text_of(FormKind::Xlsx, FIXTURE_XLSX);
        assert!(text.contains("성명\t김민준\t직위\t책임연구원\n"), "{text}");
        assert_korean_form(&text);
    }
}
