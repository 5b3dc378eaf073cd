//! The body text of a parsed message, decoded from the part's own bytes.
//!
//! mail-parser finds the parts (text bodies, HTML bodies, attachments) and their transfer
//! encodings; the text of each body part is then decoded again from its bytes by
//! [`super::charset::decode`], which reads unlabelled, mislabelled and ISO-2022-KR Korean that
//! mail-parser's label-only decoding loses. `format=flowed` plain text is unwrapped (RFC 3676);
//! HTML goes through [`super::html::to_text`].
//!
//! When a message has both a plain-text and an HTML body (multipart/alternative), both are
//! read and the one in which more application fields can be found is used: webmail often
//! renders tables badly in the plain-text copy.

use std::borrow::Cow;

use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::{charset, html, limits};
use crate::parse::applicant;

/// Most body parts of one kind joined into the text.
const MAX_BODY_PARTS: usize = 32;

/// The text read from a message's body.
#[derive(Debug, Default)]
pub struct Body {
    pub text: String,
    /// Whether any character had to be replaced because it could not be decoded.
    pub lossy: bool,
    /// Whether the text is the HTML body converted (its tables are HTML tables).
    pub html: bool,
    pub problems: Vec<String>,
}

/// Read the body text of `message`. Never fails; see the module docs.
pub fn read(message: &Message<'_>) -> Body {
    let mut problems = Vec::new();
    if message.parts.iter().any(|part| part.is_encoding_problem) {
        problems.push(
            "a part of the message is damaged (bad encoding or a missing boundary); it was read as far as possible"
                .to_owned(),
        );
    }
    let mut plain = join(message, &message.text_body, Kind::Plain, &mut problems);
    let mut html = join(message, &message.html_body, Kind::Html, &mut problems);
    if plain.is_none() && html.is_none() {
        // A damaged text part is not counted as a body by mail-parser; read it anyway.
        let damaged = damaged_text_parts(message);
        plain = join(message, &damaged, Kind::Plain, &mut problems);
        html = join(message, &damaged, Kind::Html, &mut problems);
    }
    let ((text, lossy), from_html) = match (plain, html) {
        (Some(plain), Some(html)) if score(&html.0) > score(&plain.0) => (html, true),
        (Some(plain), _) => (plain, false),
        (None, Some(html)) => (html, true),
        (None, None) => {
            let text = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
            let lossy = text.contains('\u{FFFD}');
            ((text, lossy), false)
        }
    };
    let text = clean_controls(&text);
    let (kept, cut) = limits::truncate_text(&text, limits::MAX_TEXT_BYTES);
    if cut {
        problems.push(format!(
            "the body text is longer than {} bytes; only the beginning was read",
            limits::MAX_TEXT_BYTES
        ));
    }
    Body { text: kept.to_owned(), lossy, html: from_html, problems }
}

/// Text parts mail-parser could not decode that are not attachments.
fn damaged_text_parts(message: &Message<'_>) -> Vec<u32> {
    let is_attachment = |part: &MessagePart<'_>| {
        part.content_disposition().is_some_and(|d| d.is_attachment()) || part.attachment_name().is_some()
    };
    message
        .parts
        .iter()
        .enumerate()
        .filter(|(_, part)| part.is_encoding_problem && !is_attachment(part))
        .filter(|(_, part)| part.content_type().is_none_or(|ct| ct.ctype().eq_ignore_ascii_case("text")))
        .filter_map(|(id, _)| u32::try_from(id).ok())
        .take(MAX_BODY_PARTS)
        .collect()
}

/// The body of a message whose MIME structure could not be read: everything after the header
/// block, decoded as text (see [`charset::decode`]).
pub fn raw(message: &[u8]) -> Body {
    let start = super::headers::header_block_end(message);
    let bytes = message.get(start..).unwrap_or_default();
    let (bytes, _) = limits::truncate_bytes(bytes, limits::MAX_PART_BYTES);
    let decoded = charset::decode(bytes, None);
    let text = clean_controls(&decoded.text);
    let (kept, _) = limits::truncate_text(&text, limits::MAX_TEXT_BYTES);
    Body {
        text: kept.trim_start_matches('\n').to_owned(),
        lossy: decoded.lossy,
        html: false,
        problems: vec![
            "the MIME structure of the message is too damaged to read; its body is shown as raw text".to_owned()
        ],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Html,
}

/// The text of every body part of `kind` among `ids`, joined; `None` when there is none.
fn join(message: &Message<'_>, ids: &[u32], kind: Kind, problems: &mut Vec<String>) -> Option<(String, bool)> {
    let parts = ids
        .iter()
        .filter_map(|&id| message.parts.get(usize::try_from(id).ok()?))
        .filter(|part| match kind {
            Kind::Plain => matches!(part.body, PartType::Text(_)),
            Kind::Html => matches!(part.body, PartType::Html(_)),
        })
        .take(MAX_BODY_PARTS);
    let mut text = String::new();
    let mut lossy = false;
    let mut any = false;
    for part in parts {
        let decoded = part_text(message, part, problems);
        if any && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&decoded.text);
        lossy |= decoded.lossy;
        any = true;
    }
    any.then_some((text, lossy))
}

/// One body part's text, decoded from its bytes; mail-parser's reading when the bytes cannot be
/// recovered.
fn part_text(message: &Message<'_>, part: &MessagePart<'_>, problems: &mut Vec<String>) -> charset::Decoded {
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    let decoded = match part_bytes(message, part) {
        Some(bytes) => {
            let (bytes, cut) = limits::truncate_bytes(&bytes, limits::MAX_PART_BYTES);
            if cut {
                problems.push(format!(
                    "a text part is longer than {} bytes; only the beginning was read",
                    limits::MAX_PART_BYTES
                ));
            }
            charset::decode(bytes, label)
        }
        None => {
            let text = match &part.body {
                PartType::Text(text) | PartType::Html(text) => text.to_string(),
                _ => String::new(),
            };
            let lossy = text.contains('\u{FFFD}');
            charset::Decoded { text, lossy }
        }
    };
    match &part.body {
        PartType::Html(_) => charset::Decoded { text: html::to_text(&decoded.text), lossy: decoded.lossy },
        _ if is_flowed(part) => charset::Decoded { text: unflow(&decoded.text, delsp(part)), lossy: decoded.lossy },
        _ => decoded,
    }
}

/// The part's body bytes with the transfer encoding undone, from the raw message. A part
/// mail-parser could not decode (a missing boundary, damaged base64) is decoded leniently by
/// its declared transfer encoding.
pub fn part_bytes<'a>(message: &'a Message<'_>, part: &MessagePart<'_>) -> Option<Cow<'a, [u8]>> {
    let start = usize::try_from(part.offset_body).ok()?;
    let end = usize::try_from(part.offset_end).ok()?;
    let raw = message.raw_message().get(start..end)?;
    let declared = part.content_transfer_encoding().map(|e| e.trim().to_ascii_lowercase());
    match (part.encoding, declared.as_deref()) {
        (Encoding::Base64, _) => {
            mail_parser::decoders::base64::base64_decode(raw).or_else(|| Some(lenient_base64(raw))).map(Cow::Owned)
        }
        (Encoding::QuotedPrintable, _) => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(raw).map(Cow::Owned)
        }
        (Encoding::None, Some("base64")) if part.is_encoding_problem => Some(Cow::Owned(lenient_base64(raw))),
        (Encoding::None, _) => Some(Cow::Borrowed(raw)),
    }
}

/// Base64 read as far as it goes: characters outside the alphabet are skipped, padding ignored,
/// a final partial group decoded as far as it has bits.
fn lenient_base64(raw: &[u8]) -> Vec<u8> {
    let value = |b: u8| -> Option<u32> {
        Some(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut out = Vec::with_capacity(raw.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for v in raw.iter().filter_map(|&b| value(b)) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xFF) as u8);
        }
    }
    out
}

fn is_flowed(part: &MessagePart<'_>) -> bool {
    part.content_type().and_then(|ct| ct.attribute("format")).is_some_and(|f| f.trim().eq_ignore_ascii_case("flowed"))
}

fn delsp(part: &MessagePart<'_>) -> bool {
    part.content_type().and_then(|ct| ct.attribute("delsp")).is_some_and(|d| d.trim().eq_ignore_ascii_case("yes"))
}

/// How many application fields a candidate text states (above any quote).
fn score(text: &str) -> usize {
    let (text, _) = limits::truncate_text(text, limits::MAX_FIELD_TEXT_BYTES);
    let found = applicant::extract_fields(text);
    [
        found.name.is_some(),
        found.organization.is_some(),
        found.position.is_some(),
        found.phone.is_some(),
        found.attendees.is_some(),
    ]
    .iter()
    .filter(|&&f| f)
    .count()
}

/// Undo `format=flowed` (RFC 3676): a line ending in a space continues on the next line (the
/// space deleted when `delsp=yes`), quote marks and space-stuffing are kept apart, and the
/// signature separator `-- ` is never joined.
pub fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<usize> = None;
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let depth = line.chars().take_while(|&c| c == '>').count();
        let content = &line[depth..];
        let content = content.strip_prefix(' ').unwrap_or(content);
        let continues = open == Some(depth);
        if !continues {
            if open.is_some() {
                out.push('\n');
            }
            if depth > 0 {
                out.push_str(&"> ".repeat(depth));
            }
        }
        let soft = content.ends_with(' ') && content != "-- ";
        if soft {
            out.push_str(if delsp { &content[..content.len() - 1] } else { content });
            open = Some(depth);
        } else {
            out.push_str(content);
            out.push('\n');
            open = None;
        }
    }
    if open.is_some() {
        out.push('\n');
    }
    if !text.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

/// The text with every line ending made `\n` (CR LF, a lone CR, a form feed) and without NUL and
/// the other control characters no one types (tabs stay).
fn clean_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\u{0C}' | '\u{0B}' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flowed_lines_are_joined() {
        assert_eq!(
            unflow("성명: 김민준 / 연락처: 010-12 \r\n34-5678\r\n다음 줄\r\n", true),
            "성명: 김민준 / 연락처: 010-1234-5678\n다음 줄\n"
        );
        assert_eq!(unflow("one \ntwo\n", false), "one two\n");
        assert_eq!(unflow("-- \nsig\n", false), "-- \nsig\n");
        assert_eq!(unflow(">> quoted \n>> more\n>not\n", false), "> > quoted more\n> not\n");
        assert_eq!(unflow(" From space-stuffed\n", false), "From space-stuffed\n");
        assert_eq!(unflow("trailing soft ", false), "trailing soft ");
    }

    #[test]
    fn damaged_base64_is_read_as_far_as_it_goes() {
        assert_eq!(lenient_base64(b"7ISx66qF\r\nOiDrp4j!!!@@spIDshJw===="), "성명: 마준서".as_bytes());
        assert_eq!(lenient_base64(b""), b"");
        assert_eq!(lenient_base64(b"Q"), b"");
    }

    #[test]
    fn control_characters_are_removed() {
        assert_eq!(clean_controls("성명:\0 김민준\r\n\x07끝\t\r다음\u{0C}쪽"), "성명: 김민준\n끝\t\n다음\n쪽");
    }
}
