//! PDF fonts: how a string shown on the page becomes text (`ToUnicode` maps, simple encodings,
//! Identity-H CID fonts) and how far it advances (widths, CID widths), so that the pieces of a
//! line can be placed. Bounded in fonts per resource dictionary and widths per font.

use std::collections::{BTreeMap, HashMap};

use super::document::{deref, number};
use crate::parse::attachments::budget::MAX_KEPT_BYTES;
use crate::parse::attachments::contains;

/// Most font resources read for one content stream.
pub(super) const MAX_FONTS: usize = 256;

/// Most glyph widths kept for the fonts of one content stream (a CID font's `/W` can give one
/// width to 65,536 codes in three tokens).
const MAX_WIDTHS: usize = 100_000;

/// A font as far as text placement needs it: how to decode its strings and how wide they are.
pub(super) struct PdfFont<'a> {
    decode: FontDecode<'a>,
    /// 2 for composite (Type0) fonts, else 1.
    pub(super) code_len: usize,
    /// Glyph widths in thousandths of the font size, by character code.
    widths: HashMap<u32, f64>,
    default_width: Option<f64>,
}

enum FontDecode<'a> {
    Lopdf(lopdf::Encoding<'a>),
    Utf16Be,
    EucKr,
}

impl PdfFont<'_> {
    pub(super) fn decode(&self, bytes: &[u8]) -> String {
        match &self.decode {
            FontDecode::Lopdf(encoding) => encoding.bytes_to_string(bytes).unwrap_or_default(),
            FontDecode::Utf16Be => encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0.into_owned(),
            FontDecode::EucKr => encoding_rs::EUC_KR.decode_without_bom_handling(bytes).0.into_owned(),
        }
    }

    /// The advance of `bytes` in text space (before the font size and horizontal scaling),
    /// plus the count of single-byte spaces (for word spacing).
    pub(super) fn advance(&self, bytes: &[u8], text: &str) -> (f64, usize) {
        let codes: Vec<u32> =
            bytes.chunks(self.code_len).map(|code| code.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b))).collect();
        let spaces = if self.code_len == 1 { codes.iter().filter(|&&c| c == 32).count() } else { 0 };
        if self.widths.is_empty() && self.default_width.is_none() {
            // No metrics: estimate half an em for narrow characters, a full em for wide ones.
            let em: f64 = text.chars().map(|c| if (c as u32) < 0x1100 { 0.5 } else { 1.0 }).sum();
            return (em, spaces);
        }
        let width: f64 = codes
            .iter()
            .map(|code| self.widths.get(code).copied().or(self.default_width).unwrap_or(500.0) / 1000.0)
            .sum();
        (width, spaces)
    }
}

pub(super) fn pdf_fonts<'a>(
    document: &'a lopdf::Document,
    fonts: &'a BTreeMap<Vec<u8>, lopdf::Dictionary>,
) -> HashMap<Vec<u8>, PdfFont<'a>> {
    use lopdf::Object;
    let mut out = HashMap::new();
    let mut widths_left = MAX_WIDTHS;
    for (name, font) in fonts {
        let subtype = font.get(b"Subtype").and_then(Object::as_name).unwrap_or_default();
        let composite = subtype == b"Type0";
        let encoding_name = font.get(b"Encoding").and_then(Object::as_name).ok();
        let decode = match encoding_name {
            Some(name) if composite && (contains(name, b"UCS2") || contains(name, b"UTF16")) => Ok(FontDecode::Utf16Be),
            Some(name) if composite && (name.starts_with(b"KSC") || name.starts_with(b"KSCms")) => {
                Ok(FontDecode::EucKr)
            }
            _ => font.get_font_encoding_with_limit(document, MAX_KEPT_BYTES).map(FontDecode::Lopdf),
        };
        let Ok(decode) = decode else { continue };
        let mut widths = HashMap::new();
        let mut default_width = None;
        if composite {
            let descendant = font
                .get(b"DescendantFonts")
                .ok()
                .and_then(|o| deref(document, o).as_array().ok())
                .and_then(|kids| kids.first())
                .and_then(|kid| deref(document, kid).as_dict().ok());
            if let Some(cid_font) = descendant {
                default_width = Some(cid_font.get(b"DW").ok().and_then(number).unwrap_or(1000.0));
                if let Ok(w) = cid_font.get(b"W").and_then(|o| deref(document, o).as_array()) {
                    read_cid_widths(document, w, &mut widths, widths_left);
                }
            }
        } else if let (Ok(first), Ok(list)) = (
            font.get(b"FirstChar").and_then(Object::as_i64),
            font.get(b"Widths").and_then(|o| deref(document, o).as_array()),
        ) {
            for (i, w) in list.iter().enumerate().take(256.min(widths_left)) {
                if let Some(w) = number(deref(document, w)) {
                    widths.insert((first.max(0) as u32).saturating_add(i as u32), w);
                }
            }
        }
        widths_left = widths_left.saturating_sub(widths.len());
        out.insert(name.clone(), PdfFont { decode, code_len: if composite { 2 } else { 1 }, widths, default_width });
    }
    out
}

/// A CID font's `/W` array: `c [w1 w2 ...]` or `c_first c_last w`; at most `max` widths.
fn read_cid_widths(document: &lopdf::Document, w: &[lopdf::Object], widths: &mut HashMap<u32, f64>, max: usize) {
    const MAX_CIDS: u32 = 65_536;
    let mut i = 0;
    while i < w.len() && widths.len() < max {
        let Some(first) = number(deref(document, &w[i])) else {
            return;
        };
        let first = first.max(0.0) as u32;
        match w.get(i + 1).map(|o| deref(document, o)) {
            Some(lopdf::Object::Array(list)) => {
                for (k, width) in list.iter().enumerate().take(max.saturating_sub(widths.len())) {
                    if let Some(width) = number(deref(document, width)) {
                        widths.insert(first.saturating_add(k as u32), width);
                    }
                }
                i += 2;
            }
            Some(last) => {
                let (Some(last), Some(width)) = (number(last), w.get(i + 2).and_then(|o| number(deref(document, o))))
                else {
                    return;
                };
                let room = u32::try_from(max.saturating_sub(widths.len())).unwrap_or(u32::MAX).min(MAX_CIDS);
                let last = (last.max(0.0) as u32).min(first.saturating_add(room.saturating_sub(1)));
                for cid in first..=last {
                    widths.insert(cid, width);
                }
                i += 3;
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::attachments::testdocs::{assert_korean_form, text_of, FIXTURE_PDF_CID};
    use crate::parse::attachments::FormKind;

    #[test]
    fn a_korean_pdf_with_a_cid_font_is_read() {
        let text = text_of(FormKind::Pdf, FIXTURE_PDF_CID);
        assert_eq!(
            text,
            "워크숍 참가 신청서\n\
             성 명\t김민준\t직 위\t책임연구원\n\
             소 속\t(주)한빛테크\t참석인원\t2명\n\
             연락처\t010-1234-5678\t이메일\tminjun.kim@hanbit-tech.example\n\
             위와 같이 워크숍 참가를 신청합니다. 개인정보 수집 및 이용에 동의합니다.\n"
        );
        assert_korean_form(&text);
    }
}
