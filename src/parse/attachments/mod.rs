//! Attachments: every one listed, and attached application forms turned into plain text that
//! the field reader (`crate::parse::applicant`) can read.
//!
//! Applicants often return the center's form as an attachment: HWP 5 (Hancom's binary format),
//! HWPX (zipped OWPML), DOCX, XLSX or a text PDF, and Outlook sometimes wraps the attachments
//! in a TNEF `winmail.dat`. [`kind_of`] tells which kind an attachment is, [`extract_text`] turns
//! it into text, [`unwrap_tnef`] takes the files out of a `winmail.dat`. [`list`] lists every
//! attachment (name, type, size, SHA-256), and [`attached_form`] reads the first attached form
//! that states fields through the [`FormReader`] the caller passes (`forms.rs`).
//!
//! One file per format, each with its unit tests: `docx_hwpx.rs` (the two share an XML walker)
//! and `xlsx.rs` on the zip helpers of `ooxml.rs`; `hwp.rs`; `pdf/`; `tnef.rs`. Every reader
//! feeds the layout builder of `layout.rs`, so that the text keeps the layout the field reader
//! relies on:
//! - a paragraph per line;
//! - a table row per line, its cells separated by a tab (`성명\t김민준`), empty cells at the ends
//!   of a row dropped; the paragraphs of one cell are joined with a space;
//! - a row with a single cell (a box drawn around a block of text) keeps its paragraphs as lines;
//! - a table nested in a cell has its rows on lines of their own, below the part of the outer row
//!   that precedes it.
//!
//! Everything here is pure (no I/O) and bounded by [`Limits`]: the input size, the total number
//! of bytes inflated (counted while inflating, so a zip bomb stops at the limit without the
//! memory being allocated; `budget.rs`), the number of zip entries, and the length of the text
//! (longer text is cut, not refused); no decompressed part larger than `MAX_KEPT_BYTES` is held
//! at once. Garbage gives an [`ExtractError`], never a panic; as a last line of defence the
//! third-party parsers (zip, CFB, PDF) run under `catch_unwind`. The documents the unit tests
//! read are built in `testdocs.rs`.

mod budget;
mod docx_hwpx;
mod forms;
mod hwp;
mod layout;
mod listing;
mod ooxml;
mod pdf;
#[cfg(test)]
mod testdocs;
mod tnef;
mod xlsx;

pub use forms::{FormReader, InProcess, NoForms, Unreadable};
pub use listing::Attachment;

pub(super) use forms::attached_form;
pub(super) use listing::list;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use budget::Budget;
use docx_hwpx::{docx, hwpx};
use hwp::{hwp, read_cfb_stream, HWP_SIGNATURE};
use layout::{truncate_chars, Builder};
use ooxml::{is_hwpx_section, normalize_zip_name};
use pdf::pdf;
use xlsx::xlsx;

use ExtractError::{Broken, TooLarge};

/// How much an attachment may cost to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest attachment accepted, in bytes.
    pub max_input_bytes: usize,
    /// Most bytes inflated (zip entries, HWP sections, PDF streams) for one attachment, in total.
    pub max_decompressed_bytes: u64,
    /// Longest text returned, in characters; the rest is cut off.
    pub max_text_chars: usize,
    /// Most entries in a zip archive (DOCX, HWPX, XLSX), and most attachments in a TNEF file.
    pub max_zip_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 30 * 1024 * 1024,
            max_decompressed_bytes: 50 * 1024 * 1024,
            max_text_chars: 200_000,
            max_zip_entries: 2_000,
        }
    }
}

/// The kinds of attachment [`extract_text`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Docx,
    Hwpx,
    Hwp,
    Xlsx,
    Pdf,
    Text,
}

/// Why an attachment gave no text.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("the attachment is larger than the limits allow")]
    TooLarge,
    #[error("the document is password-protected or encrypted")]
    Encrypted,
    #[error("unsupported document: {0}")]
    Unsupported(String),
    #[error("the document could not be read: {0}")]
    Broken(String),
    /// Reading it would take more than the limits allow: too many objects, pages, forms or
    /// cells, nesting too deep, or a structure that refers to itself.
    #[error("the document is too complex to read: {0}")]
    TooComplex(String),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY_MAGIC: &[u8] = b"PK\x05\x06";
pub(super) const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The kind of an attachment: by its content first (a zip holding `word/document.xml`,
/// `Contents/section0.xml` or `xl/workbook.xml`; an OLE file with an HWP `FileHeader`; `%PDF`),
/// then by the file name's extension, then by the content type. `None` for anything else
/// (images, legacy `.doc`/`.xls`, archives).
#[must_use]
pub fn kind_of(filename: Option<&str>, content_type: Option<&str>, bytes: &[u8]) -> Option<FormKind> {
    kind_by_content(bytes)
        .or_else(|| filename.and_then(kind_by_extension))
        .or_else(|| content_type.and_then(kind_by_content_type))
}

fn kind_by_content(bytes: &[u8]) -> Option<FormKind> {
    if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(ZIP_EMPTY_MAGIC) {
        let names = guarded(|| {
            zip::ZipArchive::new(Cursor::new(bytes))
                .map(|zip| zip.file_names().flatten().map(|n| normalize_zip_name(&n)).collect::<Vec<_>>())
                .map_err(|e| Broken(e.to_string()))
        })
        .ok()?;
        let has = |name: &str| names.iter().any(|n| n == name);
        return if has("word/document.xml") {
            Some(FormKind::Docx)
        } else if names.iter().any(|n| is_hwpx_section(n)) {
            Some(FormKind::Hwpx)
        } else if has("xl/workbook.xml") {
            Some(FormKind::Xlsx)
        } else {
            None
        };
    }
    if bytes.starts_with(CFB_MAGIC) {
        let is_hwp = guarded(|| {
            let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| Broken(e.to_string()))?;
            let head = read_cfb_stream(&mut cfb, "/FileHeader", 64)?;
            Ok(head.starts_with(HWP_SIGNATURE))
        });
        return is_hwp.unwrap_or(false).then_some(FormKind::Hwp);
    }
    if bytes.starts_with(HWP_SIGNATURE) {
        // HWP 3.0 and older: not an OLE file; extract_text explains that it is unsupported.
        return Some(FormKind::Hwp);
    }
    if find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some() {
        return Some(FormKind::Pdf);
    }
    None
}

fn kind_by_extension(filename: &str) -> Option<FormKind> {
    let name = filename.trim().trim_matches('"').to_ascii_lowercase();
    let (_, ext) = name.rsplit_once('.')?;
    match ext {
        "docx" | "docm" => Some(FormKind::Docx),
        "hwpx" => Some(FormKind::Hwpx),
        "hwp" => Some(FormKind::Hwp),
        "xlsx" | "xlsm" => Some(FormKind::Xlsx),
        "pdf" => Some(FormKind::Pdf),
        "txt" | "text" => Some(FormKind::Text),
        _ => None,
    }
}

fn kind_by_content_type(content_type: &str) -> Option<FormKind> {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Some(FormKind::Docx),
        "application/hwp+zip" | "application/vnd.hancom.hwpx" | "application/haansofthwpx" => Some(FormKind::Hwpx),
        "application/x-hwp" | "application/hwp" | "application/haansofthwp" | "application/vnd.hancom.hwp" => {
            Some(FormKind::Hwp)
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(FormKind::Xlsx),
        "application/pdf" | "application/x-pdf" => Some(FormKind::Pdf),
        "text/plain" => Some(FormKind::Text),
        _ => None,
    }
}

/// The text of an attached form of the given kind; see the module docs for its layout.
pub fn extract_text(kind: &FormKind, bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(TooLarge);
    }
    let mut budget = Budget { left: limits.max_decompressed_bytes };
    if let FormKind::Text = kind {
        return Ok(truncate_chars(plain_text(bytes), limits.max_text_chars));
    }
    let mut doc = Builder::new(limits.max_text_chars);
    guarded(|| match kind {
        FormKind::Docx => docx(bytes, limits, &mut budget, &mut doc),
        FormKind::Hwpx => hwpx(bytes, limits, &mut budget, &mut doc),
        FormKind::Xlsx => xlsx(bytes, limits, &mut budget, &mut doc),
        FormKind::Hwp => hwp(bytes, limits, &mut budget, &mut doc),
        FormKind::Pdf => pdf(bytes, &mut budget, &mut doc),
        FormKind::Text => Ok(()),
    })?;
    Ok(truncate_chars(doc.finish(), limits.max_text_chars))
}

/// Runs a parser, turning a panic inside a third-party crate into [`ExtractError::Broken`].
fn guarded<T>(run: impl FnOnce() -> Result<T, ExtractError>) -> Result<T, ExtractError> {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err(Broken("the reader failed on malformed data".into())))
}

/// A `.txt` attachment: UTF-8 or UTF-16 with a byte-order mark, UTF-8, else CP949 (EUC-KR).
fn plain_text(bytes: &[u8]) -> String {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(rest).into_owned()
    } else if bytes.starts_with(b"\xFF\xFE") {
        encoding_rs::UTF_16LE.decode(bytes).0.into_owned()
    } else if bytes.starts_with(b"\xFE\xFF") {
        encoding_rs::UTF_16BE.decode(bytes).0.into_owned()
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        text.to_owned()
    } else {
        encoding_rs::EUC_KR.decode(bytes).0.into_owned()
    };
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// A little-endian `u16` at `at` (HWP records, TNEF attributes).
pub(super) fn u16_le(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// A little-endian `u32` at `at`.
pub(super) fn u32_le(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The first `needle` in `haystack` (PDF streams, MIME parameters).
pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    // Looking for the first byte alone is what makes this fast on megabytes of stream data.
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(i) = haystack.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if haystack[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

pub(super) fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::hwp::{CTRL_TABLE, HWPTAG_CTRL_HEADER, HWPTAG_LIST_HEADER, HWPTAG_TABLE, HWP_COMPRESSED};
    use super::testdocs::{
        docx_form, hwp_file, hwp_para, hwp_section, hwpx_form, pdf_form, pdf_with, pdf_with_fields, record,
        small_limits, text_of, tnef_file, utf16, xlsx_form, zip_of, FIXTURE_DOCX, FIXTURE_HWP, FIXTURE_HWPX,
        FIXTURE_PDF, FIXTURE_PDF_CID, FIXTURE_XLSX, W,
    };
    use super::tnef::{unwrap_tnef, TNEF_SIGNATURE};
    use super::*;

    #[test]
    fn kinds_are_recognised_by_content_first() {
        assert_eq!(kind_of(Some("form.bin"), None, &docx_form()), Some(FormKind::Docx));
        assert_eq!(kind_of(None, None, &hwpx_form()), Some(FormKind::Hwpx));
        assert_eq!(kind_of(Some("form.pdf"), None, &xlsx_form()), Some(FormKind::Xlsx));
        assert_eq!(kind_of(None, Some("application/octet-stream"), &hwp_file(1, &hwp_section())), Some(FormKind::Hwp));
        assert_eq!(kind_of(None, None, &pdf_form()), Some(FormKind::Pdf));
        assert_eq!(kind_of(None, None, FIXTURE_DOCX), Some(FormKind::Docx));
        assert_eq!(kind_of(None, None, FIXTURE_XLSX), Some(FormKind::Xlsx));
        assert_eq!(kind_of(None, None, FIXTURE_PDF), Some(FormKind::Pdf));
    }

    #[test]
    fn kinds_fall_back_to_the_name_then_the_content_type() {
        assert_eq!(kind_of(Some("신청서.HWP"), None, b"garbage"), Some(FormKind::Hwp));
        assert_eq!(kind_of(Some("\"form.hwpx\""), None, b""), Some(FormKind::Hwpx));
        assert_eq!(kind_of(Some("memo.txt"), None, "성명: 김민준".as_bytes()), Some(FormKind::Text));
        assert_eq!(kind_of(None, Some("text/plain; charset=utf-8"), b"hi"), Some(FormKind::Text));
        assert_eq!(kind_of(None, Some("application/x-hwp"), b"??"), Some(FormKind::Hwp));
        assert_eq!(kind_of(Some("photo.jpg"), Some("image/jpeg"), b"\xFF\xD8\xFF"), None);
        assert_eq!(kind_of(None, None, &zip_of(&[("a.txt", b"x")])), None);
        // An OLE file that is not HWP (a legacy .doc, say) is not guessed at.
        let mut other = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        other.create_stream("/WordDocument").unwrap().write_all(b"x").unwrap();
        assert_eq!(kind_of(None, None, &other.into_inner().into_inner()), None);
    }

    #[test]
    fn plain_text_in_utf8_utf16_and_cp949() {
        assert_eq!(text_of(FormKind::Text, "성명: 김민준\r\n".as_bytes()), "성명: 김민준\n");
        let (cp949, _, _) = encoding_rs::EUC_KR.encode("소속: 한빛테크");
        assert_eq!(text_of(FormKind::Text, &cp949), "소속: 한빛테크");
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("직위".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(text_of(FormKind::Text, &utf16), "직위");
    }

    #[test]
    fn encrypted_office_files_are_reported() {
        let mut ole = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        ole.create_stream("/EncryptionInfo").unwrap().write_all(b"x").unwrap();
        ole.create_stream("/EncryptedPackage").unwrap().write_all(b"x").unwrap();
        let bytes = ole.into_inner().into_inner();
        assert_eq!(kind_of(Some("form.docx"), None, &bytes), Some(FormKind::Docx));
        assert!(matches!(extract_text(&FormKind::Docx, &bytes, &Limits::default()), Err(ExtractError::Encrypted)));
    }

    #[test]
    fn pathological_structures_stay_shallow() {
        // Tables nested 5,000 deep (rendering and dropping recurse, so depth is capped).
        let depth = 5_000;
        let mut xml = format!("<w:document {W}><w:body>");
        xml.push_str(&"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p>".repeat(depth));
        xml.push_str("<w:p><w:r><w:t>성명: 김민준</w:t></w:r></w:p>");
        xml.push_str(&"</w:tc></w:tr></w:tbl>".repeat(depth));
        xml.push_str("</w:body></w:document>");
        let text = text_of(FormKind::Docx, &zip_of(&[("word/document.xml", xml.as_bytes())]));
        assert!(text.contains("성명: 김민준"), "{}", &text[..text.len().min(200)]);
        // The same in HWP: each table inside a cell of the one before.
        let mut section = Vec::new();
        for level in 0..300u16 {
            let base = level * 2;
            section.extend(record(66, base, &[0; 4]));
            section.extend(record(HWPTAG_CTRL_HEADER, base + 1, &CTRL_TABLE.to_le_bytes()));
            section.extend(record(HWPTAG_TABLE, base + 2, &[0; 8]));
            section.extend(record(HWPTAG_LIST_HEADER, base + 2, &[0; 12]));
        }
        section.extend(hwp_para(600, &utf16("소속: 한빛테크")));
        let text = text_of(FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &section));
        assert!(text.contains("소속: 한빛테크"), "{text:?}");
        // A PDF made of nothing but "stream" keywords, and one with deeply nested arrays.
        let mut pdf = pdf_form();
        pdf.extend(b"stream\n".repeat(200_000));
        let _ = extract_text(&FormKind::Pdf, &pdf, &Limits::default());
        let nested = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let _ = extract_text(&FormKind::Pdf, &pdf_with(&[(72.0, 700.0, "x")], &nested, ""), &Limits::default());
    }

    /// Truncations, byte flips and random bytes for every format: an error or some text,
    /// never a panic (not even one caught by the guard).
    #[test]
    fn garbage_never_panics() {
        static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let this_test = std::thread::current().id();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == this_test {
                PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            previous(info);
        }));
        let samples: Vec<(FormKind, Vec<u8>)> = vec![
            (FormKind::Docx, docx_form()),
            (FormKind::Hwpx, hwpx_form()),
            (FormKind::Xlsx, xlsx_form()),
            (FormKind::Hwp, hwp_file(HWP_COMPRESSED, &hwp_section())),
            (FormKind::Hwp, hwp_file(0, &hwp_section())),
            (FormKind::Pdf, pdf_form()),
            (FormKind::Pdf, FIXTURE_PDF.to_vec()),
            (FormKind::Pdf, FIXTURE_PDF_CID.to_vec()),
            (FormKind::Pdf, pdf_with_fields()),
            (FormKind::Docx, FIXTURE_DOCX.to_vec()),
            (FormKind::Hwp, FIXTURE_HWP.to_vec()),
            (FormKind::Hwpx, FIXTURE_HWPX.to_vec()),
            (FormKind::Xlsx, FIXTURE_XLSX.to_vec()),
            (FormKind::Text, tnef_file(b"payload")),
        ];
        let limits = small_limits();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let try_all = |bytes: &[u8], kind: &FormKind| {
            let _ = kind_of(None, None, bytes);
            let _ = extract_text(kind, bytes, &limits);
            let _ = unwrap_tnef(bytes, &limits);
        };
        for (kind, sample) in &samples {
            let step = (sample.len() / 97).max(1);
            for cut in (0..sample.len()).step_by(step) {
                try_all(&sample[..cut], kind);
            }
            // The last records and the zip central directory are at the end: cut finely there.
            for cut in sample.len().saturating_sub(300)..sample.len() {
                try_all(&sample[..cut], kind);
            }
            for _ in 0..150 {
                let mut damaged = sample.clone();
                for _ in 0..1 + random() % 8 {
                    let at = (random() % damaged.len() as u64) as usize;
                    damaged[at] = random() as u8;
                }
                try_all(&damaged, kind);
            }
        }
        for _ in 0..200 {
            let len = (random() % 4096) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| random() as u8).collect();
            for (i, magic) in [ZIP_MAGIC, CFB_MAGIC, b"%PDF-1.4\n", &TNEF_SIGNATURE.to_le_bytes()].iter().enumerate() {
                if random() % 5 == i as u64 && bytes.len() >= magic.len() {
                    bytes[..magic.len()].copy_from_slice(magic);
                }
            }
            for kind in [FormKind::Docx, FormKind::Hwp, FormKind::Pdf, FormKind::Xlsx, FormKind::Hwpx, FormKind::Text] {
                try_all(&bytes, &kind);
            }
        }
        let _ = std::panic::take_hook();
        assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0, "parsers panicked (caught by the guard)");
    }
}
