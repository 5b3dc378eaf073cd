//! What loading a PDF will cost, worked out before lopdf loads it.
//!
//! lopdf parses every object the cross-reference data names (or, when that is damaged, every
//! `N G obj` it finds), keeps each as a tree of `Object`s (measured at about 130 bytes a token:
//! a form XObject chain of 260,000 objects took 600 MB), copies every string and stream, and
//! decodes object and cross-reference streams as it loads. It parses each object from its
//! offset against the whole file, so an object hidden in another object's string or stream data
//! is parsed again, and an object stream can list one large object under thousands of numbers.
//! [`census`] finds every place an object can start (every `obj` keyword after a number,
//! wherever it stands; every `trailer`; every entry of an object stream), measures one object
//! from there (its tokens, and the bytes of its strings and stream data) and adds up what lopdf
//! would keep, stopping as soon as that passes [`MAX_LOAD_BYTES`]. Content streams, which are
//! decoded into objects page by page while text is read, are measured with [`tokens`].

use crate::parse::attachments::{find, ExtractError};

/// What one token costs once lopdf has parsed it into an `Object` (with its place in a
/// dictionary or array), in bytes.
pub(super) const TOKEN_BYTES: u64 = 128;

/// What one cross-reference entry costs in lopdf's table, in bytes.
const XREF_ENTRY_BYTES: u64 = 48;

/// Most bytes lopdf may be expected to keep for one PDF.
pub(super) const MAX_LOAD_BYTES: u64 = 48 << 20;

/// The running total of what loading will keep.
pub(super) struct Census {
    bytes: u64,
}

impl Census {
    pub(super) fn new() -> Self {
        Census { bytes: 0 }
    }

    fn add(&mut self, bytes: u64) -> Result<(), ExtractError> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > MAX_LOAD_BYTES {
            return Err(ExtractError::TooComplex(format!(
                "the PDF has more objects than the limit allows (loading it would take over {} MB)",
                MAX_LOAD_BYTES >> 20
            )));
        }
        Ok(())
    }

    fn left(&self) -> u64 {
        MAX_LOAD_BYTES.saturating_sub(self.bytes)
    }

    /// Every object, trailer and cross-reference table of the file, as lopdf would keep them.
    pub(super) fn file(&mut self, bytes: &[u8]) -> Result<(), ExtractError> {
        let mut pos = 0;
        while let Some(found) = find(&bytes[pos..], b"obj") {
            let at = pos + found;
            pos = at + 3;
            if bytes[..at].ends_with(b"end") || !starts_an_object(bytes, at) {
                continue;
            }
            let cost = object_cost(bytes, at + 3, self.left());
            self.add(cost)?;
        }
        let mut pos = 0;
        while let Some(found) = find(&bytes[pos..], b"trailer") {
            let at = pos + found;
            pos = at + 7;
            self.add(object_cost(bytes, at + 7, self.left()))?;
        }
        let mut pos = 0;
        while let Some(found) = find(&bytes[pos..], b"xref") {
            let at = pos + found;
            pos = at + 4;
            if bytes[..at].ends_with(b"start") {
                continue;
            }
            // A table's entries are 20 bytes each, up to its trailer.
            let end = find(&bytes[at..], b"trailer").map_or(bytes.len(), |t| at + t);
            self.add((end - at) as u64 / 18 * XREF_ENTRY_BYTES)?;
        }
        Ok(())
    }

    /// A decoded object stream: every entry of its index is parsed as an object of its own.
    pub(super) fn object_stream(&mut self, dict: &[u8], content: &[u8]) -> Result<(), ExtractError> {
        let first = number_after(dict, b"/First").unwrap_or(content.len()).min(content.len());
        // The index as lopdf reads it: numbers split at white space, comments dropped, in pairs.
        let numbers: Vec<Option<usize>> = content[..first]
            .split(|&b| b == b'\r' || b == b'\n')
            .flat_map(|line| {
                let line = line.split(|&b| b == b'%').next().unwrap_or_default();
                line.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty())
            })
            .map(|word| std::str::from_utf8(word).ok().and_then(|w| w.parse::<u32>().ok()).map(|n| n as usize))
            .collect();
        for pair in numbers.chunks_exact(2) {
            let (Some(_), Some(offset)) = (pair[0], pair[1]) else {
                continue;
            };
            let at = first.saturating_add(offset);
            if at < content.len() {
                self.add(object_cost(content, at, self.left()))?;
            } else {
                self.add(TOKEN_BYTES)?;
            }
        }
        Ok(())
    }

    /// A decoded cross-reference stream: lopdf accepts entries as narrow as three bytes.
    pub(super) fn xref_stream(&mut self, decoded_len: usize) -> Result<(), ExtractError> {
        self.add(decoded_len as u64 / 3 * XREF_ENTRY_BYTES)
    }
}

/// Whether the `obj` keyword at `at` can end an object header (`N G obj`): it stands on its own
/// and a number is before it, possibly past white space and comments (a comment ends a line, so
/// a line break before it is taken as possibly one).
fn starts_an_object(bytes: &[u8], at: usize) -> bool {
    let after = bytes.get(at + 3).copied().unwrap_or(b' ');
    if is_regular(after) {
        return false;
    }
    let before = &bytes[..at];
    let gap = before.iter().rev().take_while(|&&b| is_white(b)).count();
    let previous = before.len().checked_sub(gap + 1).map(|i| before[i]);
    previous.is_some_and(|b| b.is_ascii_digit())
        || before[before.len() - gap..].iter().any(|&b| b == b'\n' || b == b'\r')
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\0' | b'\x0c')
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delimiter(b)
}

/// The number after `key` in a dictionary's text (`/First 42`).
fn number_after(dict: &[u8], key: &[u8]) -> Option<usize> {
    let at = find(dict, key)? + key.len();
    let rest = &dict[at..];
    let rest = &rest[rest.iter().position(|&b| !is_white(b))?..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// What lopdf keeps for the one object that starts at `at` (after any white space): its tokens
/// and the bytes of its strings and stream data. Stops counting past `limit`.
fn object_cost(bytes: &[u8], at: usize, limit: u64) -> u64 {
    let mut lexer = Lexer { bytes, pos: at };
    let mut depth = 0usize;
    let mut cost = 0u64;
    while let Some(token) = lexer.next_token() {
        cost = cost.saturating_add(TOKEN_BYTES + token.copied as u64);
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Other => {}
        }
        if cost > limit {
            return cost;
        }
        if depth == 0 {
            // A dictionary followed by `stream`: its data is copied too.
            let mut peek = Lexer { bytes, pos: lexer.pos };
            if peek.next_token().is_some_and(|t| t.word == b"stream") {
                let start = peek.pos;
                let end = find(&bytes[start..], b"endstream").map_or(bytes.len(), |e| start + e);
                cost = cost.saturating_add((end - start) as u64);
            }
            return cost;
        }
    }
    cost
}

/// Tokens in a content stream: what decoding it into operations keeps, one `Object` each.
pub(super) fn tokens(content: &[u8], stop_after: usize) -> usize {
    let mut lexer = Lexer { bytes: content, pos: 0 };
    let mut count = 0;
    while count <= stop_after && lexer.next_token().is_some() {
        count += 1;
    }
    count
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    Other,
}

struct Token<'a> {
    kind: Kind,
    word: &'a [u8],
    /// Bytes lopdf copies for it (strings).
    copied: usize,
}

/// PDF tokens, roughly as lopdf's parser sees them; never fails.
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn next_token(&mut self) -> Option<Token<'a>> {
        let bytes = self.bytes;
        loop {
            match bytes.get(self.pos)? {
                &b if is_white(b) => self.pos += 1,
                b'%' => {
                    self.pos += bytes[self.pos..]
                        .iter()
                        .position(|&b| b == b'\n' || b == b'\r')
                        .unwrap_or(bytes.len() - self.pos);
                }
                _ => break,
            }
        }
        let start = self.pos;
        let token = |kind, end: usize, copied| Token { kind, word: &bytes[start..end], copied };
        match bytes[start] {
            b'(' => {
                let mut depth = 0usize;
                let mut i = start;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                self.pos = (i + 1).min(bytes.len());
                Some(token(Kind::Other, self.pos, self.pos - start))
            }
            b'<' if bytes.get(start + 1) == Some(&b'<') => {
                self.pos += 2;
                Some(token(Kind::Open, self.pos, 0))
            }
            b'>' if bytes.get(start + 1) == Some(&b'>') => {
                self.pos += 2;
                Some(token(Kind::Close, self.pos, 0))
            }
            b'<' => {
                self.pos = find(&bytes[start..], b">").map_or(bytes.len(), |e| start + e + 1);
                Some(token(Kind::Other, self.pos, (self.pos - start) / 2))
            }
            b'[' | b'{' => {
                self.pos += 1;
                Some(token(Kind::Open, self.pos, 0))
            }
            b']' | b'}' => {
                self.pos += 1;
                Some(token(Kind::Close, self.pos, 0))
            }
            b'/' => {
                self.pos += 1 + bytes[start + 1..].iter().take_while(|&&b| is_regular(b)).count();
                Some(token(Kind::Other, self.pos, self.pos - start))
            }
            b if is_regular(b) => {
                self.pos += bytes[start..].iter().take_while(|&&b| is_regular(b)).count();
                Some(token(Kind::Other, self.pos, 0))
            }
            // A stray `)` or `>`.
            _ => {
                self.pos += 1;
                Some(token(Kind::Other, self.pos, 0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_is_measured_to_its_end() {
        let pdf = b"1 0 obj << /A [1 2 (x(y)z)] /B <41> >> endobj 2 0 obj [3] endobj";
        let cost = object_cost(pdf, 7, u64::MAX);
        // << /A [ 1 2 (x(y)z) ] /B <41> >>: ten tokens; the names, the string and half the hex
        // string are copied.
        assert_eq!(cost, 10 * TOKEN_BYTES + 2 + 7 + 2 + 2);
        let stream = b"1 0 obj << /Length 3 >> stream\nabc\nendstream endobj";
        assert_eq!(object_cost(stream, 7, u64::MAX), 4 * TOKEN_BYTES + 7 + 5);
    }

    #[test]
    fn object_headers_are_found_wherever_they_stand() {
        assert!(starts_an_object(b"12 0 obj", 5));
        assert!(starts_an_object(b"12 0 %c\nobj", 8));
        assert!(!starts_an_object(b"12 0 objx", 5));
        assert!(!starts_an_object(b"xx obj", 3));
    }

    #[test]
    fn nested_strings_hiding_objects_add_up() {
        // Each object is a string holding the next: lopdf would copy nearly the whole file once
        // per object.
        let mut pdf = Vec::new();
        for i in 1..=2_000 {
            pdf.extend_from_slice(format!("{i} 0 obj (").as_bytes());
        }
        pdf.extend_from_slice(&vec![b'x'; 100_000]);
        pdf.extend_from_slice(&b") endobj".repeat(2_000));
        let err = Census::new().file(&pdf);
        assert!(matches!(err, Err(ExtractError::TooComplex(_))), "{err:?}");
    }
}
