//! The top header block, repaired before mail-parser reads it.
//!
//! mail-parser reads raw 8-bit header bytes as UTF-8 (lossily) and each encoded word on its own
//! by its label. Korean mail breaks both assumptions:
//!
//! - old clients and scripts put **raw EUC-KR** in `Subject:` and in the `From:` display name,
//!   with no encoded words at all;
//! - some mailers cut a long header into encoded words at a fixed byte count, **splitting a
//!   character** between two words (`=?UTF-8?B?...?= =?UTF-8?B?...?=`), which RFC 2047 forbids
//!   and every mail program meets;
//! - encoded words in **ISO-2022-KR**, or with a label that does not match their bytes.
//!
//! [`repair`] rewrites just those header fields as UTF-8 text (RFC 6532 style), which
//! mail-parser reads as it is; everything else, and the body, is left byte for byte.
//!
//! After mail-parser has read them, header values are shown and reused only as
//! [`clean_header_text`]: no line break or other control character survives.

use std::borrow::Cow;

use super::charset;
use crate::domain::EmailAddress;

/// Header fields whose display names need quoting when decoded text is written back raw.
const ADDRESS_HEADERS: &[&str] =
    &["from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-sender"];

/// Characters that may not stand unquoted in a display name.
const SPECIALS: &[char] = &['"', '\\', '<', '>', ',', ';', ':', '@', '[', ']', '(', ')'];

/// The message with its top header block repaired; borrowed when nothing needed repair.
pub fn repair(raw: &[u8]) -> Cow<'_, [u8]> {
    let end = header_block_end(raw);
    let block = &raw[..end];
    let suspicious = !block.is_ascii() || contains(block, b"=?");
    if !suspicious {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 8);
    let mut changed = false;
    for field in fields(block) {
        let repaired = repair_field(field);
        changed |= matches!(repaired, Cow::Owned(_));
        out.extend_from_slice(&repaired);
    }
    if !changed {
        return Cow::Borrowed(raw);
    }
    out.extend_from_slice(&raw[end..]);
    Cow::Owned(out)
}

/// Byte offset where the header block ends: the start of the first empty line (or the end).
pub(crate) fn header_block_end(raw: &[u8]) -> usize {
    let mut start = 0;
    while start < raw.len() {
        let line_end = raw[start..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| start + i + 1);
        let line = &raw[start..line_end];
        if line == b"\n" || line == b"\r\n" {
            return start;
        }
        start = line_end;
    }
    raw.len()
}

/// The header block split into fields, each with its folded continuation lines.
fn fields(block: &[u8]) -> Vec<&[u8]> {
    let mut fields = Vec::new();
    let mut field_start = 0;
    let mut line_start = 0;
    while line_start < block.len() {
        let line_end = block[line_start..].iter().position(|&b| b == b'\n').map_or(block.len(), |i| line_start + i + 1);
        let next = block.get(line_end).copied();
        if !matches!(next, Some(b' ' | b'\t')) {
            fields.push(&block[field_start..line_end]);
            field_start = line_end;
        }
        line_start = line_end;
    }
    if field_start < block.len() {
        fields.push(&block[field_start..]);
    }
    fields
}

fn repair_field(field: &[u8]) -> Cow<'_, [u8]> {
    let raw_fixed = repair_raw_8bit(field);
    if !contains(&raw_fixed, b"=?") {
        return raw_fixed;
    }
    let name =
        field.iter().position(|&b| b == b':').map(|i| String::from_utf8_lossy(&field[..i]).trim().to_ascii_lowercase());
    let address = name.as_deref().is_some_and(|n| ADDRESS_HEADERS.contains(&n));
    match repair_encoded_words(&raw_fixed, address) {
        Some(fixed) => Cow::Owned(fixed),
        None => raw_fixed,
    }
}

/// A field with 8-bit bytes that are not UTF-8, re-encoded as UTF-8 when they read cleanly as
/// Korean (or as Windows-1252, the other charset raw header bytes come in).
fn repair_raw_8bit(field: &[u8]) -> Cow<'_, [u8]> {
    if field.is_ascii() || std::str::from_utf8(field).is_ok() {
        return Cow::Borrowed(field);
    }
    let decoded = charset::decode(field, None);
    if decoded.lossy {
        return Cow::Borrowed(field);
    }
    Cow::Owned(decoded.text.into_bytes())
}

/// One `=?charset?B|Q?payload?=` and where it sits.
struct Word {
    start: usize,
    end: usize,
    charset: String,
    bytes: Vec<u8>,
}

/// The field with every run of adjacent encoded words that mail-parser would misread replaced
/// by its text; `None` when no run needs it.
fn repair_encoded_words(field: &[u8], address: bool) -> Option<Vec<u8>> {
    let words = encoded_words(field);
    let mut out = Vec::with_capacity(field.len());
    let mut copied = 0;
    let mut changed = false;
    for run in runs(field, &words) {
        let Some(text) = run_text(run) else { continue };
        let (start, end) = (run[0].start, run[run.len() - 1].end);
        out.extend_from_slice(&field[copied..start]);
        out.extend_from_slice(replacement(&text, address, inside_quotes(&field[..start])).as_bytes());
        copied = end;
        changed = true;
    }
    if !changed {
        return None;
    }
    out.extend_from_slice(&field[copied..]);
    Some(out)
}

/// Every well-formed encoded word in `field`, in order.
fn encoded_words(field: &[u8]) -> Vec<Word> {
    let mut words = Vec::new();
    let mut i = 0;
    while let Some(offset) = find(&field[i..], b"=?") {
        let start = i + offset;
        match parse_word(field, start) {
            Some(word) => {
                i = word.end;
                words.push(word);
            }
            None => i = start + 2,
        }
    }
    words
}

/// Parses the encoded word starting at `start` (which holds `=?`).
fn parse_word(field: &[u8], start: usize) -> Option<Word> {
    let token = |b: &u8| !b.is_ascii_whitespace() && *b != b'?';
    let rest = &field[start + 2..];
    let charset_len = rest.iter().take_while(|b| token(b)).count();
    let charset = std::str::from_utf8(&rest[..charset_len]).ok()?;
    let charset = charset.split('*').next().unwrap_or(charset).to_owned();
    let rest = rest.get(charset_len..)?.strip_prefix(b"?")?;
    let (&encoding, rest) = rest.split_first()?;
    let rest = rest.strip_prefix(b"?")?;
    let payload_len = rest.iter().take_while(|b| token(b)).count();
    let after = rest.get(payload_len..)?;
    if charset.is_empty() || !after.starts_with(b"?=") {
        return None;
    }
    let payload = &rest[..payload_len];
    let bytes = match encoding.to_ascii_uppercase() {
        b'B' => mail_parser::decoders::base64::base64_decode(payload)?,
        b'Q' => q_decode(payload),
        _ => return None,
    };
    let end = start + 2 + charset_len + 3 + payload_len + 2;
    Some(Word { start, end, charset, bytes })
}

/// RFC 2047 "Q": `_` is a space, `=XX` a byte; a broken escape stays as it is.
fn q_decode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut i = 0;
    while i < payload.len() {
        match payload[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < payload.len() => {
                let hex = std::str::from_utf8(&payload[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'='),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Runs of encoded words separated only by whitespace (which RFC 2047 says to drop).
fn runs<'w>(field: &[u8], words: &'w [Word]) -> Vec<&'w [Word]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=words.len() {
        let joined = i < words.len() && field[words[i - 1].end..words[i].start].iter().all(u8::is_ascii_whitespace);
        if !joined {
            runs.push(&words[start..i]);
            start = i;
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}

/// The text of a run when mail-parser would misread it: ISO-2022-KR words, a character split
/// between words, or bytes that do not match their label. Words of the same charset are joined
/// before decoding. `None` when the run is fine as it is, or cannot be read cleanly either way.
fn run_text(run: &[Word]) -> Option<String> {
    let mut text = String::new();
    let mut misread = false;
    let mut i = 0;
    while i < run.len() {
        let label = run[i].charset.as_str();
        let same = run[i..].iter().take_while(|w| w.charset.eq_ignore_ascii_case(label)).count();
        let group = &run[i..i + same];
        let bytes: Vec<u8> = group.iter().flat_map(|w| w.bytes.iter().copied()).collect();
        let decoded = charset::decode(&bytes, Some(label));
        if decoded.lossy {
            return None;
        }
        misread |= group.iter().any(|w| !charset::reads_as_labelled(&w.bytes, Some(label)));
        text.push_str(&decoded.text);
        i += same;
    }
    misread.then_some(text)
}

/// Decoded text fit to stand in the header: control characters (an encoded CR LF must never
/// become a real line break) made spaces, and quoted where an address header needs it.
fn replacement(text: &str, address: bool, in_quotes: bool) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if !address || !text.contains(SPECIALS) {
        return text;
    }
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    if in_quotes {
        escaped
    } else {
        format!("\"{escaped}\"")
    }
}

/// Whether the position after `before` lies inside a quoted string.
fn inside_quotes(before: &[u8]) -> bool {
    let mut inside = false;
    let mut escaped = false;
    for &b in before {
        match b {
            _ if escaped => escaped = false,
            b'\\' if inside => escaped = true,
            b'"' => inside = !inside,
            _ => {}
        }
    }
    inside
}

/// The first address of an address header, and its display name.
pub fn first_address(address: Option<&mail_parser::Address>) -> (Option<EmailAddress>, Option<String>) {
    let Some(addr) = address.and_then(|a| a.first()) else { return (None, None) };
    let email = addr.address().and_then(|a| EmailAddress::parse(a).ok());
    let name = addr.name().map(clean_header_text).filter(|n| !n.is_empty());
    (email, name)
}

/// Header text fit to be shown or reused: decoded already, here stripped of line breaks and
/// every other control character, and of surrounding space.
pub fn clean_header_text(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn euc_kr(text: &str) -> Vec<u8> {
        encoding_rs::EUC_KR.encode(text).0.into_owned()
    }

    fn repaired(raw: &[u8]) -> String {
        String::from_utf8(repair(raw).into_owned()).unwrap()
    }

    #[test]
    fn raw_euc_kr_headers_become_utf8_and_the_body_is_untouched() {
        let mut raw = b"From: ".to_vec();
        raw.extend(euc_kr("권나연 <nayeon@bluewave.example>"));
        raw.extend(b"\r\nSubject: ");
        raw.extend(euc_kr("워크숍 참가 신청"));
        raw.extend(b"\r\n\r\n");
        let body = euc_kr("성명: 권나연\r\n");
        raw.extend(&body);
        let out = repair(&raw).into_owned();
        assert!(
            out.starts_with("From: 권나연 <nayeon@bluewave.example>\r\nSubject: 워크숍 참가 신청\r\n\r\n".as_bytes())
        );
        assert!(out.ends_with(&body), "the body keeps its own bytes");
    }

    #[test]
    fn clean_headers_are_borrowed() {
        let raw = "From: =?UTF-8?B?6rmA66+87KSA?= <a@b.example>\r\nSubject: 안녕\r\n\r\nbody".as_bytes();
        assert!(matches!(repair(raw), Cow::Borrowed(_)));
        assert!(matches!(repair(b"From: a@b.example\r\n\r\n\xc7\xd1"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_character_split_between_words_is_joined() {
        let data = "워크숍 참가".as_bytes();
        let b64 = |b: &[u8]| String::from_utf8(base64(b)).unwrap();
        let raw = format!("Subject: =?UTF-8?B?{}?=\r\n =?utf-8?B?{}?=\r\n\r\n", b64(&data[..4]), b64(&data[4..]));
        assert_eq!(repaired(raw.as_bytes()), "Subject: 워크숍 참가\r\n\r\n");
    }

    /// Base64 for tests, without another dependency.
    fn base64(bytes: &[u8]) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]);
                } else {
                    out.push(b'=');
                }
            }
        }
        out
    }

    #[test]
    fn iso_2022_kr_words_are_decoded() {
        let word = String::from_utf8(base64(b"\x1b$)C\x0e<:8m\x0f")).unwrap();
        let raw = format!("Subject: =?ISO-2022-KR?B?{word}?=\r\n\r\n");
        assert_eq!(repaired(raw.as_bytes()), "Subject: 성명\r\n\r\n");
    }

    #[test]
    fn mislabelled_q_words_are_decoded_and_quoted_in_addresses() {
        let raw = "From: =?us-ascii?Q?=B1=E8=B9=CE=C1=D8_=28=C7=D1=BA=FB=29?= <a@b.example>\r\n\r\n";
        assert_eq!(repaired(raw.as_bytes()), "From: \"김민준 (한빛)\" <a@b.example>\r\n\r\n");
        let raw = "From: \"=?us-ascii?Q?=B1=E8=22?=\" <a@b.example>\r\n\r\n";
        assert_eq!(repaired(raw.as_bytes()), "From: \"김\\\"\" <a@b.example>\r\n\r\n");
    }

    #[test]
    fn an_encoded_line_break_never_becomes_a_header() {
        // "\xb1\xe8\r\nBcc: x@evil.example" labelled us-ascii: repaired, with the CR LF made spaces.
        let raw = "Subject: =?us-ascii?Q?=B1=E8=0D=0ABcc:_x@evil.example?=\r\n\r\n";
        let out = repaired(raw.as_bytes());
        assert_eq!(out, "Subject: 김  Bcc: x@evil.example\r\n\r\n");
    }

    #[test]
    fn broken_words_are_left_alone() {
        for raw in [
            "Subject: =?utf-8?B?!!!?=\r\n\r\n",
            "Subject: =?utf-8?X?abc?=\r\n\r\n",
            "Subject: =?\r\n\r\n",
            "Subject: =??B??=\r\n\r\n",
            "Subject: =?utf-8?Q?=E\r\n\r\n",
        ] {
            assert_eq!(repaired(raw.as_bytes()), raw);
        }
    }

    #[test]
    fn header_only_messages_and_odd_line_endings() {
        assert_eq!(header_block_end(b"Subject: x\n\nbody"), 11);
        assert_eq!(header_block_end(b"Subject: x\r\n\r\nbody"), 12);
        assert_eq!(header_block_end(b"Subject: x"), 10);
        let mut raw = b"Subject: ".to_vec();
        raw.extend(euc_kr("신청"));
        assert_eq!(repaired(&raw), "Subject: 신청");
    }
}
