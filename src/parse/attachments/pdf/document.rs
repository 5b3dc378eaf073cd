//! The PDF as a file: checked and measured before `lopdf` loads it, then read page by page.
//!
//! Readers look for the header in the first kilobyte; a file without one is refused. Before
//! lopdf sees the file, every stream is inflated once here (through the filters lopdf would
//! apply, counted against the budget) and thrown away, and what loading will keep in memory is
//! measured (`census.rs`): a file whose objects would take more is `TooComplex`. An encrypted
//! PDF is refused (even one that opens without a password): its streams cannot be measured
//! before they are decrypted. Reading is budgeted too: the first [`MAX_PDF_PAGES`] pages, at
//! most [`MAX_PDF_FORMS`] forms, [`MAX_CONTENT_TOKENS`] tokens a content stream and
//! [`MAX_PDF_CONTENT_TOKENS`] in all, [`MAX_PDF_LOOKUPS`] object lookups.

use super::census;
use super::page::{pdf_page, PdfWalk};
use crate::parse::attachments::budget::{inflate_each, Budget, MAX_KEPT_BYTES};
use crate::parse::attachments::layout::Builder;
use crate::parse::attachments::ExtractError::{Broken, Encrypted, TooLarge};
use crate::parse::attachments::{contains, find, rfind, ExtractError};

/// Most filters applied in a row to one PDF stream.
const MAX_PDF_FILTERS: usize = 4;

/// Most pages read; the text of an application form is on its first few.
const MAX_PDF_PAGES: usize = 200;

/// Most form XObjects and appearance streams run for the whole document.
pub(super) const MAX_PDF_FORMS: usize = 2_000;

/// Most tokens of one content stream decoded (each becomes an object in memory).
pub(super) const MAX_CONTENT_TOKENS: usize = 200_000;

/// Most tokens of content streams decoded for the whole document.
pub(super) const MAX_PDF_CONTENT_TOKENS: usize = 4_000_000;

/// Most objects looked up (references followed) while reading the whole document.
pub(super) const MAX_PDF_LOOKUPS: usize = 2_000_000;

pub fn pdf(bytes: &[u8], budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    // Readers look for the header in the first kilobyte; without one it is some other file
    // with a .pdf name (lopdf would search all of it for objects before giving up).
    if find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none() {
        return Err(Broken("no PDF header".into()));
    }
    if has_encrypt_entry(bytes) {
        return Err(Encrypted);
    }
    let mut census = census::Census::new();
    measure_pdf_streams(bytes, budget, &mut census)?;
    census.file(bytes)?;
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(budget.left_usize().min(MAX_KEPT_BYTES)),
        ..Default::default()
    };
    let document = lopdf::Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword | lopdf::Error::UnsupportedSecurityHandler(_) => {
            Encrypted
        }
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => TooLarge,
        e => Broken(format!("not a readable PDF: {e}")),
    })?;
    if document.is_encrypted() || document.was_encrypted() {
        return Err(Encrypted);
    }
    let mut walk =
        PdfWalk { document: &document, budget, forms: 0, content_tokens: 0, lookups: 0, running: Vec::new() };
    for page_id in document.page_iter().take(MAX_PDF_PAGES) {
        pdf_page(&mut walk, page_id, doc)?;
        if doc.is_full() {
            break;
        }
    }
    Ok(())
}

/// Whether a trailer names an `/Encrypt` dictionary.
fn has_encrypt_entry(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(i) = find(rest, b"/Encrypt") {
        let after = rest.get(i + 8).copied().unwrap_or(b' ');
        if !after.is_ascii_alphanumeric() {
            return true;
        }
        rest = &rest[i + 8..];
    }
    false
}

/// Inflates every stream of the file once, counting the output against the budget and keeping
/// none of it, so that lopdf is only given files whose streams fit. Images are skipped: reading
/// text never inflates them. Object and cross-reference streams, which lopdf decodes while it
/// loads, are measured for the [`census::Census`] too.
fn measure_pdf_streams(bytes: &[u8], budget: &mut Budget, census: &mut census::Census) -> Result<(), ExtractError> {
    let mut pos = 0;
    while let Some(found) = find(&bytes[pos..], b"stream") {
        let keyword = pos + found;
        // The dictionary is looked for after the end of the previous stream only, so that
        // the whole scan stays linear in the size of the file.
        let previous_end = pos;
        pos = keyword + 6;
        if bytes[..keyword].ends_with(b"end") {
            continue;
        }
        let mut start = pos;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let dict = stream_dictionary(&bytes[previous_end..keyword]);
        if contains(dict, b"/Image") {
            continue;
        }
        let filters = stream_filters(dict);
        let object_stream = contains(dict, b"/ObjStm");
        let xref_stream = contains(dict, b"/XRef");
        let (used, decoded) = decode_counted(&bytes[start..], &filters, budget, object_stream || xref_stream)?;
        if object_stream {
            census.object_stream(dict, &decoded)?;
        }
        if xref_stream {
            census.xref_stream(decoded.len())?;
        }
        pos = (start + used.max(1)).min(bytes.len());
    }
    Ok(())
}

/// The text between the `obj` keyword before a `stream` keyword and that keyword.
fn stream_dictionary(before: &[u8]) -> &[u8] {
    let window = &before[before.len().saturating_sub(16 * 1024)..];
    match rfind(window, b"obj") {
        Some(i) => &window[i..],
        None => window,
    }
}

/// The names after `/Filter`: `/FlateDecode` or `[/ASCII85Decode /FlateDecode]`. Without a
/// readable `/Filter`, Flate is assumed if the data looks like it.
fn stream_filters(dict: &[u8]) -> Vec<Vec<u8>> {
    let Some(i) = find(dict, b"/Filter") else {
        return Vec::new();
    };
    let rest = &dict[i + 7..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len())..];
    let end = if rest.first() == Some(&b'[') {
        rest.iter().position(|&b| b == b']').unwrap_or(rest.len())
    } else {
        rest.iter()
            .skip(1)
            .position(|&b| b == b'/' || b == b'>' || b.is_ascii_whitespace())
            .map_or(rest.len(), |p| p + 1)
    };
    rest[..end]
        .split(|&b| b == b'/')
        .skip(1)
        .map(|name| name.iter().take_while(|b| b.is_ascii_alphanumeric()).copied().collect())
        .take(MAX_PDF_FILTERS)
        .collect()
}

/// Decodes `data` through `filters` (as lopdf would), spending the budget on every byte
/// produced; the last step's output is counted, and kept only when `keep` says so (unfiltered
/// data is then kept as it stands, to its `endstream`). Returns how much of `data` was used (a
/// guess where the first filter is not Flate) and what was kept.
fn decode_counted(
    data: &[u8],
    filters: &[Vec<u8>],
    budget: &mut Budget,
    keep: bool,
) -> Result<(usize, Vec<u8>), ExtractError> {
    let looks_like_zlib =
        |d: &[u8]| d.len() >= 2 && d[0] & 0x0F == 8 && (u16::from(d[0]) << 8 | u16::from(d[1])) % 31 == 0;
    let filters: Vec<&[u8]> = if filters.is_empty() && looks_like_zlib(data) {
        vec![b"FlateDecode".as_slice()]
    } else {
        filters.iter().map(Vec::as_slice).collect()
    };
    if filters.is_empty() {
        let end = if keep { find(data, b"endstream").unwrap_or(data.len()) } else { 0 };
        return Ok((0, data[..end].to_vec()));
    }
    let mut input: Vec<u8> = Vec::new();
    let mut current: &[u8] = data;
    let mut used = 0;
    for (i, filter) in filters.iter().enumerate() {
        let last = i + 1 == filters.len();
        let wanted = !last || keep;
        let output: Vec<u8> = match *filter {
            b"FlateDecode" | b"Fl" => {
                let mut kept = Vec::new();
                let mut keep_chunk = |chunk: &[u8]| {
                    if wanted && kept.len() + chunk.len() <= MAX_KEPT_BYTES {
                        kept.extend_from_slice(chunk);
                    }
                };
                let consumed = match inflate_each(current, true, budget, &mut keep_chunk) {
                    Ok(consumed) => consumed,
                    // lopdf retries without the zlib header.
                    Err(Broken(_)) if current.len() > 2 => inflate_each(&current[2..], false, budget, &mut keep_chunk)
                        .or_else(|e| if matches!(e, Broken(_)) { Ok(0) } else { Err(e) })?,
                    Err(Broken(_)) => 0,
                    Err(e) => return Err(e),
                };
                if i == 0 {
                    used = consumed;
                }
                kept
            }
            b"LZWDecode" | b"LZW" => lzw_counted(current, budget, wanted)?,
            b"ASCII85Decode" | b"A85" => {
                let end = find(current, b"~>").map_or(current.len(), |e| e + 2);
                if i == 0 {
                    used = end;
                }
                // Never more than four bytes out per byte in.
                let out_len = (end as u64).saturating_mul(4);
                budget.spend(out_len)?;
                if wanted {
                    ascii85(&current[..end])
                } else {
                    Vec::new()
                }
            }
            // Filters lopdf does not decode (images, hex) cost nothing here either.
            _ => return Ok((used, Vec::new())),
        };
        input = output;
        current = &input;
    }
    Ok((used, input))
}

fn lzw_counted(data: &[u8], budget: &mut Budget, keep: bool) -> Result<Vec<u8>, ExtractError> {
    let mut decoder = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 32 * 1024];
    let mut pos = 0;
    loop {
        let result = decoder.decode_bytes(&data[pos..], &mut chunk);
        pos += result.consumed_in;
        budget.spend(result.consumed_out as u64)?;
        if keep && out.len() + result.consumed_out <= MAX_KEPT_BYTES {
            out.extend_from_slice(&chunk[..result.consumed_out]);
        }
        match result.status {
            Ok(weezl::LzwStatus::Ok) if result.consumed_in > 0 || result.consumed_out > 0 => {}
            _ => return Ok(out),
        }
    }
}

fn ascii85(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut group, mut count) = (0u32, 0);
    for &c in data {
        match c {
            b'z' if count == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group = group.wrapping_mul(85).wrapping_add(u32::from(c - b'!'));
                count += 1;
                if count == 5 {
                    out.extend_from_slice(&group.to_be_bytes());
                    (group, count) = (0, 0);
                }
            }
            b'~' => break,
            _ => {}
        }
    }
    out
}

pub(super) fn deref<'a>(document: &'a lopdf::Document, object: &'a lopdf::Object) -> &'a lopdf::Object {
    deref_with_id(document, object).1
}

/// An object, the one it refers to when it is a reference, and that one's number.
pub(super) fn deref_with_id<'a>(
    document: &'a lopdf::Document,
    object: &'a lopdf::Object,
) -> (Option<lopdf::ObjectId>, &'a lopdf::Object) {
    match object {
        lopdf::Object::Reference(id) => match document.get_object(*id) {
            Ok(target) => (Some(*id), target),
            Err(_) => (None, object),
        },
        _ => (None, object),
    }
}

pub(super) fn number(object: &lopdf::Object) -> Option<f64> {
    match object {
        lopdf::Object::Integer(i) => Some(*i as f64),
        lopdf::Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use crate::parse::applicant::extract_fields;
    use crate::parse::attachments::testdocs::{
        assert_korean_form, pdf_form, pdf_with, small_limits, text_of, FIXTURE_PDF,
    };
    use crate::parse::attachments::{extract_text, ExtractError, FormKind, Limits};

    #[test]
    fn a_korean_pdf_made_by_libreoffice_is_read() {
        // A borderless table with narrow cells: the cells are told apart by their gaps alone.
        let text = text_of(FormKind::Pdf, FIXTURE_PDF);
        assert!(
            text.starts_with("2025 스마트제조 워크숍 참가 신청서\n아래 양식을 작성하여 회신해 주십시오.\n"),
            "{text}"
        );
        assert!(text.contains("성명\t김민준\t직위\t책임연구원\n"), "{text}");
        assert!(text.contains("소속\t(주)한빛테크\n"), "{text}");
        assert!(text.contains("연락처\t010-1234-5678\t이메일\tminjun.kim@hanbit-tech.example\n"), "{text}");
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
    }

    #[test]
    fn a_pdf_without_text_gives_empty_text() {
        assert_eq!(text_of(FormKind::Pdf, &pdf_with(&[], "", "")), "");
    }

    #[test]
    fn an_encrypted_pdf_is_refused() {
        let pdf = pdf_with(
            &[(72.0, 700.0, "secret")],
            "",
            "/Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >> ",
        );
        assert!(matches!(extract_text(&FormKind::Pdf, &pdf, &Limits::default()), Err(ExtractError::Encrypted)));
    }

    #[test]
    fn a_pdf_stream_bomb_stops_at_the_limit() {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b' '; 4 * 1024 * 1024]).unwrap();
        let data = encoder.finish().unwrap();
        let mut pdf = pdf_form();
        pdf.extend_from_slice(
            format!("9 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n", data.len()).as_bytes(),
        );
        pdf.extend_from_slice(&data);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let err = extract_text(&FormKind::Pdf, &pdf, &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
        // Behind an ASCII85 filter as well.
        let mut pdf = pdf_form();
        let a85 = ascii85_encode(&data);
        pdf.extend_from_slice(b"9 0 obj\n<< /Filter [/ASCII85Decode /FlateDecode] >>\nstream\n");
        pdf.extend_from_slice(&a85);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let err = extract_text(&FormKind::Pdf, &pdf, &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
    }

    fn ascii85_encode(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(4) {
            let mut group = [0u8; 4];
            group[..chunk.len()].copy_from_slice(chunk);
            let mut n = u32::from_be_bytes(group);
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = (n % 85) as u8 + b'!';
                n /= 85;
            }
            out.extend_from_slice(&digits[..chunk.len() + 1]);
        }
        out.extend_from_slice(b"~>");
        out
    }
}
