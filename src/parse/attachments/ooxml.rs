//! Zip containers (DOCX, HWPX, XLSX): opened within [`Limits`](super::Limits) (entries, input
//! size), entries read through the inflation budget, and the small XML helpers the readers of
//! `docx_hwpx.rs` and `xlsx.rs` share (local names, attributes, relationship targets).

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use super::budget::{Budget, MAX_KEPT_BYTES};
use super::ExtractError::{Broken, Encrypted, TooLarge, Unsupported};
use super::{ExtractError, Limits, CFB_MAGIC};

pub(super) type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

pub(super) fn open_zip<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Zip<'a>, ExtractError> {
    if bytes.starts_with(CFB_MAGIC) {
        // Office wraps password-protected DOCX/XLSX in an OLE file ("EncryptedPackage").
        let encrypted = cfb::CompoundFile::open(Cursor::new(bytes)).is_ok_and(|cfb| cfb.is_stream("/EncryptedPackage"));
        return Err(if encrypted {
            Encrypted
        } else {
            Unsupported("a legacy binary (OLE) document, not a zip-based one".into())
        });
    }
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| Broken(format!("not a readable zip file: {e}")))?;
    if zip.len() > limits.max_zip_entries {
        return Err(TooLarge);
    }
    Ok(zip)
}

/// Zip entry names compared the way Office does: `/` separators, ASCII case ignored.
pub(super) fn normalize_zip_name(name: &str) -> String {
    name.replace('\\', "/").trim_start_matches('/').to_ascii_lowercase()
}

pub(super) fn is_hwpx_section(name: &str) -> bool {
    section_number(name).is_some()
}

/// `contents/section12.xml` → 12.
pub(super) fn section_number(name: &str) -> Option<u32> {
    name.strip_prefix("contents/section")?.strip_suffix(".xml")?.parse().ok()
}

/// The entry called `name` (compared as by [`normalize_zip_name`]), inflated within the budget;
/// `None` when there is no such entry.
pub(super) fn read_zip_entry(
    zip: &mut Zip<'_>,
    name: &str,
    budget: &mut Budget,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let wanted = normalize_zip_name(name);
    let Some(index) = (0..zip.len())
        .find(|&i| zip.name_for_index(i).is_some_and(|n| n.is_ok_and(|n| normalize_zip_name(&n) == wanted)))
    else {
        return Ok(None);
    };
    let entry = zip.by_index(index).map_err(|e| match e.to_string() {
        msg if msg.to_ascii_lowercase().contains("password") => Encrypted,
        msg => Broken(format!("{name}: {msg}")),
    })?;
    if entry.encrypted() {
        return Err(Encrypted);
    }
    read_bounded(entry, budget).map(Some)
}

/// Reads to the end, spending the budget as bytes arrive (a declared size is never trusted);
/// more than [`MAX_KEPT_BYTES`] is [`ExtractError::TooLarge`].
fn read_bounded(mut reader: impl Read, budget: &mut Budget) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = reader.read(&mut chunk).map_err(|e| Broken(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        budget.spend(n as u64)?;
        if out.len() + n > MAX_KEPT_BYTES {
            return Err(TooLarge);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

pub(super) fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// `(Id, Type, Target)` of each `Relationship` in a `.rels` part.
pub(super) fn relationship_targets(xml: &[u8]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    while let Ok(event) = reader.read_event_into(&mut buf) {
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) if local_name(e.name().as_ref()) == "Relationship" => {
                out.push((attr(e, "Id"), attr(e, "Type"), attr(e, "Target")));
            }
            _ => {}
        }
        buf.clear();
    }
    out
}

/// The unescaped value of the attribute with local name `name`, or "".
pub(super) fn attr(e: &BytesStart<'_>, name: &str) -> String {
    e.attributes()
        .flatten()
        .find(|a| local_name(a.key.as_ref()) == name)
        .map(|a| quick_xml::escape::unescape(&a.value).map_or_else(|_| a.value.to_string(), |v| v.into_owned()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::parse::attachments::testdocs::{docx_form, small_limits, zip_of};
    use crate::parse::attachments::{extract_text, ExtractError, FormKind, Limits};

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let bomb = zip_of(&[("word/document.xml", &zeros)]);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let err = extract_text(&FormKind::Docx, &bomb, &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
        // Many small parts add up too.
        let parts: Vec<(String, Vec<u8>)> =
            (0..8).map(|i| (format!("Contents/section{i}.xml"), vec![b' '; 200 * 1024])).collect();
        let parts: Vec<(&str, &[u8])> = parts.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        assert!(matches!(extract_text(&FormKind::Hwpx, &zip_of(&parts), &small_limits()), Err(ExtractError::TooLarge)));
    }

    #[test]
    fn too_many_zip_entries_or_too_many_bytes_are_refused() {
        let names: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"x".as_slice())).collect();
        let limits = Limits { max_zip_entries: 10, ..Limits::default() };
        assert!(matches!(extract_text(&FormKind::Docx, &zip_of(&entries), &limits), Err(ExtractError::TooLarge)));
        let limits = Limits { max_input_bytes: 100, ..Limits::default() };
        assert!(matches!(extract_text(&FormKind::Docx, &docx_form(), &limits), Err(ExtractError::TooLarge)));
    }

    /// quick-xml reads UTF-8 only and, since 0.42, checks the whole part, not only the text taken
    /// from it: a part in another encoding is broken, never read as empty cells or mojibake.
    #[test]
    fn an_xml_part_that_is_not_utf8_is_broken() {
        let xml = r#"<?xml version="1.0" encoding="EUC-KR"?><w:document xmlns:w="x"><w:body><w:p><w:r><w:t>성명</w:t></w:r></w:p></w:body></w:document>"#;
        let docx = zip_of(&[("word/document.xml", &encoding_rs::EUC_KR.encode(xml).0)]);
        let err = extract_text(&FormKind::Docx, &docx, &Limits::default());
        assert!(matches!(err, Err(ExtractError::Broken(_))), "{err:?}");
        let sheet = encoding_rs::EUC_KR
            .encode(r#"<worksheet><sheetData><row><c t="str"><v>성명</v></c></row></sheetData></worksheet>"#)
            .0;
        let xlsx = zip_of(&[("xl/workbook.xml", b"<workbook/>"), ("xl/worksheets/sheet1.xml", &sheet)]);
        let err = extract_text(&FormKind::Xlsx, &xlsx, &Limits::default());
        assert!(matches!(err, Err(ExtractError::Broken(_))), "{err:?}");
    }
}
