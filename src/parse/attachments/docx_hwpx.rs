//! DOCX (`word/document.xml`) and HWPX (`Contents/section*.xml`, OWPML): word-processor XML,
//! read element by element with `quick-xml` by one walker. The two formats differ only in their
//! element names ([`docx_tag`], [`hwpx_tag`]): paragraphs, tabs and line breaks, tables, rows
//! and cells become calls on the layout builder.

use quick_xml::events::Event;

use super::budget::Budget;
use super::layout::Builder;
use super::ooxml::{local_name, normalize_zip_name, open_zip, read_zip_entry, relationship_targets, section_number};
use super::ExtractError::Broken;
use super::{ExtractError, Limits};

/// What an XML element means for the text, by its local name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Para,
    Text,
    Tab,
    Break,
    Space,
    Hyphen,
    Table,
    Row,
    Cell,
    /// An element whose content is not text (properties, tab stops, fallbacks that repeat text).
    Skip,
    Other,
}

fn docx_tag(local: &str) -> Tag {
    match local {
        "p" => Tag::Para,
        "t" => Tag::Text,
        "tab" | "ptab" => Tag::Tab,
        "br" | "cr" => Tag::Break,
        "noBreakHyphen" | "softHyphen" => Tag::Hyphen,
        "tbl" => Tag::Table,
        "tr" => Tag::Row,
        "tc" => Tag::Cell,
        "pPr" | "rPr" | "tblPr" | "trPr" | "tcPr" | "tblGrid" | "sectPr" | "Fallback" | "instrText" | "delText" => {
            Tag::Skip
        }
        _ => Tag::Other,
    }
}

fn hwpx_tag(local: &str) -> Tag {
    match local {
        "p" => Tag::Para,
        "t" => Tag::Text,
        "tab" => Tag::Tab,
        "lineBreak" => Tag::Break,
        "nbSpace" | "fwSpace" => Tag::Space,
        "hyphen" => Tag::Hyphen,
        "tbl" => Tag::Table,
        "tr" => Tag::Row,
        "tc" => Tag::Cell,
        "secPr" | "linesegarray" | "default" | "cellAddr" | "cellSpan" | "cellSz" | "cellMargin" => Tag::Skip,
        _ => Tag::Other,
    }
}

/// Walks an XML document, turning its elements into [`Builder`] events as `classify` says.
/// Text is taken only inside `Text` elements.
fn walk_xml(xml: &[u8], classify: fn(&str) -> Tag, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut skip_depth = 0usize;
    let mut text_depth = 0usize;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| Broken(format!("bad XML: {e}")))?;
        match event {
            Event::Eof => return Ok(()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = classify(local_name(e.name().as_ref()));
                if skip_depth > 0 || tag == Tag::Skip {
                    if !empty {
                        skip_depth += 1;
                    }
                } else {
                    match tag {
                        Tag::Text if !empty => text_depth += 1,
                        Tag::Tab => doc.tab(),
                        Tag::Break => doc.para_end(),
                        Tag::Space => doc.text(" "),
                        Tag::Hyphen => doc.text("-"),
                        Tag::Table if !empty => doc.table_start(),
                        Tag::Row if !empty => doc.row_start(),
                        Tag::Cell => {
                            doc.cell_start();
                            if empty {
                                doc.cell_end();
                            }
                        }
                        _ => {}
                    }
                }
            }
            Event::End(ref e) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                match classify(local_name(e.name().as_ref())) {
                    Tag::Para => doc.para_end(),
                    Tag::Text => text_depth = text_depth.saturating_sub(1),
                    Tag::Table => doc.table_end(),
                    Tag::Row => doc.row_end(),
                    Tag::Cell => doc.cell_end(),
                    _ => {}
                }
            }
            Event::Text(ref e) if skip_depth == 0 && text_depth > 0 => {
                doc.text(&e.xml10_content());
            }
            Event::CData(ref e) if skip_depth == 0 && text_depth > 0 => {
                doc.text(e);
            }
            Event::GeneralRef(ref e) if skip_depth == 0 && text_depth > 0 => {
                if let Ok(Some(c)) = e.resolve_char_ref() {
                    doc.text(c.encode_utf8(&mut [0; 4]));
                } else if let Some(text) = quick_xml::escape::resolve_predefined_entity(e) {
                    doc.text(text);
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

pub(super) fn docx(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut zip = open_zip(bytes, limits)?;
    let part = match read_zip_entry(&mut zip, "word/document.xml", budget)? {
        Some(xml) => xml,
        None => {
            // The main part may have another name; the package relationships say which.
            let rels = read_zip_entry(&mut zip, "_rels/.rels", budget)?
                .ok_or_else(|| Broken("no word/document.xml".into()))?;
            let target = relationship_targets(&rels)
                .into_iter()
                .find(|(_, kind, _)| kind.ends_with("/officeDocument"))
                .map(|(_, _, target)| target)
                .ok_or_else(|| Broken("no main document part".into()))?;
            read_zip_entry(&mut zip, &target, budget)?
                .ok_or_else(|| Broken("the main document part is missing".into()))?
        }
    };
    walk_xml(&part, docx_tag, doc)
}

pub(super) fn hwpx(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut zip = open_zip(bytes, limits)?;
    let mut sections: Vec<(u32, String)> = zip
        .file_names()
        .flatten()
        .filter_map(|name| section_number(&normalize_zip_name(&name)).map(|n| (n, name.into_owned())))
        .collect();
    if sections.is_empty() {
        return Err(Broken("no Contents/section*.xml".into()));
    }
    sections.sort();
    for (_, name) in sections {
        let xml = read_zip_entry(&mut zip, &name, budget)?.unwrap_or_default();
        walk_xml(&xml, hwpx_tag, doc)?;
        doc.para_end();
        if doc.is_full() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::parse::applicant::extract_fields;
    use crate::parse::attachments::testdocs::{assert_korean_form, docx_form, hwpx_form, text_of, FIXTURE_DOCX};
    use crate::parse::attachments::FormKind;

    #[test]
    fn docx_rows_become_tab_separated_lines() {
        let text = text_of(FormKind::Docx, &docx_form());
        assert_eq!(
            text,
            "워크숍 참가 신청서 (R&D 센터)\n\
             성명\t김민준\t직위\t책임연구원\n\
             소속\t(주)한빛테크\n\
             연락처\t010-1234-5678\t이메일\tminjun.kim@hanbit-tech.example\n\
             참석인원\t2 명\n\
             비고\t주차 필요\n\
             감사합니다.\n"
        );
        assert_korean_form(&text);
        let fields = extract_fields(&text);
        assert_eq!(fields.email.as_deref(), Some("minjun.kim@hanbit-tech.example"));
        assert_eq!(fields.attendees, Some(2));
    }

    #[test]
    fn a_docx_made_by_libreoffice_is_read() {
        let text = text_of(FormKind::Docx, FIXTURE_DOCX);
        assert!(text.contains("성명\t김민준\t직위\t책임연구원\n"), "{text}");
        assert!(text.contains("소속\t(주)한빛테크\n"), "{text}");
        assert!(text.starts_with("2025 스마트제조 워크숍 참가 신청서\n"), "{text}");
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
    }

    #[test]
    fn hwpx_sections_are_read_in_order() {
        let text = text_of(FormKind::Hwpx, &hwpx_form());
        assert_eq!(
            text,
            "참가 신청서\n\
             성 명\t김민준\t직 위\t책임연구원\n\
             소 속\t(주)한빛테크\n\
             연락처\t010-1234-5678\t참석인원\t2명\n\
             이메일\tminjun.kim@hanbit-tech.example\n\
             위와 같이 신청합니다.\n\
             2025년 5월 1일\n\
             둘째 구역\n"
        );
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
    }
}
