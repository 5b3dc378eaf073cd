//! Bounds on the work one message can cause.
//!
//! mail-parser copes with absurd structure without recursion, but it keeps a part (about 200
//! bytes, plus its headers) for every MIME part it finds, and it finds one after every boundary
//! delimiter: with or without header lines, wherever on a line the delimiter stands. A 40 MiB
//! message of header-less parts is three million parts, most of a gigabyte. [`limit`] therefore
//! looks at the raw bytes before mail-parser does and counts what mail-parser can make of them:
//!
//! - a part for every `--` followed by a boundary that a `Content-Type: multipart/…` header
//!   earlier in the message declared (the boundary read with mail-parser's own header parser,
//!   so quoting, folding and RFC 2231 continuations give the same boundary), two in a digest,
//!   where a part without headers is an attached message;
//! - a part and a container for every `Content-Type: message/rfc822` (or `global`), and a
//!   container for every `multipart/…`, which also bounds the nesting depth;
//! - the parts inside an attached message sent base64 or quoted-printable, which mail-parser
//!   decodes and parses three levels down: decoded here the same way and counted.
//!
//! A header is recognised as mail-parser recognises one (case and white space in the name
//! ignored, anywhere a header block could start), so the count can only be too high, never too
//! low: the unit tests compare it with mail-parser's own count on thousands of odd messages.
//! Past [`MAX_PARTS`] parts or [`MAX_CONTAINERS`] containers the message is cut before the
//! delimiter or header that goes too far, and a problem is recorded for staff; so it is past a
//! boundary longer than [`MAX_BOUNDARY_BYTES`], a `Content-Type` header naming a container that
//! is longer than 64 KB, or more encoded attached messages than mail-parser would be worth
//! decoding twice. Text is bounded separately ([`MAX_PART_BYTES`], [`MAX_TEXT_BYTES`],
//! [`MAX_FIELD_TEXT_BYTES`]).

use mail_parser::parsers::MessageStream;
use mail_parser::HeaderValue;

/// Most MIME parts read (counted as above); real applications have a handful.
pub const MAX_PARTS: usize = 1000;

/// Most multipart or message/* containers read, which also bounds nesting depth.
pub const MAX_CONTAINERS: usize = 100;

/// Longest MIME boundary accepted (RFC 2046 allows 70 characters); every `--` in the message is
/// compared with the boundaries, so their length bounds the time the comparison takes.
pub const MAX_BOUNDARY_BYTES: usize = 200;

/// Most bytes of one text part decoded.
pub const MAX_PART_BYTES: usize = 2 << 20;

/// Most bytes of body text kept.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Most bytes of text searched for fields: an application is a few hundred bytes.
pub const MAX_FIELD_TEXT_BYTES: usize = 64 << 10;

/// Longest `Content-Type` header naming a container that is read for its boundary.
const MAX_CONTENT_TYPE_BYTES: usize = 64 << 10;

/// Most `Content-Type` headers naming `multipart` or `message` that are read.
const MAX_CONTENT_TYPES: usize = 4 * MAX_CONTAINERS;

/// Most encoded attached messages decoded to count their parts.
const MAX_ENCODED_MESSAGES: usize = 8;

/// How deep mail-parser parses encoded attached messages (its `MAX_NESTED_ENCODED`).
const ENCODED_DEPTH: usize = 3;

/// The part of `raw` to parse, and the problem to record when it is not all of it.
pub fn limit(raw: &[u8]) -> (&[u8], Option<String>) {
    match count(raw, ENCODED_DEPTH, &mut Totals::default()) {
        Ok(()) => (raw, None),
        Err((cut, over)) => (&raw[..cut], Some(over.problem())),
    }
}

/// What the message holds so far, over all levels.
#[derive(Debug, Default)]
struct Totals {
    parts: usize,
    containers: usize,
    content_types: usize,
    encoded: usize,
}

/// Which bound a message went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    Parts,
    Containers,
    Boundary,
    ContentType,
    Encoded,
}

impl Over {
    fn problem(self) -> String {
        match self {
            Over::Parts => {
                format!("the message has more than {MAX_PARTS} MIME parts; only the first {MAX_PARTS} were read")
            }
            Over::Containers => format!(
                "the message nests more than {MAX_CONTAINERS} multipart or attached messages; only the first {MAX_CONTAINERS} were read"
            ),
            Over::Boundary => format!(
                "the message declares a MIME boundary longer than {MAX_BOUNDARY_BYTES} characters; it was read up to that header"
            ),
            Over::ContentType => format!(
                "the message has a Content-Type header longer than {} KB, or more than {MAX_CONTENT_TYPES} naming multipart or message parts; it was read up to that header",
                MAX_CONTENT_TYPE_BYTES >> 10
            ),
            Over::Encoded => format!(
                "the message has more than {MAX_ENCODED_MESSAGES} attached messages in base64 or quoted-printable; it was read up to the next one"
            ),
        }
    }
}

impl Totals {
    fn check(&self) -> Result<(), Over> {
        if self.parts > MAX_PARTS {
            Err(Over::Parts)
        } else if self.containers > MAX_CONTAINERS {
            Err(Over::Containers)
        } else if self.content_types > MAX_CONTENT_TYPES {
            Err(Over::ContentType)
        } else if self.encoded > MAX_ENCODED_MESSAGES {
            Err(Over::Encoded)
        } else {
            Ok(())
        }
    }
}

/// The boundaries declared so far, kept sorted and prefix-free: a delimiter that starts with a
/// longer boundary also starts with its prefix, so only the prefix is needed to count it.
#[derive(Default)]
struct Boundaries {
    sorted: Vec<Vec<u8>>,
    longest: usize,
    /// A multipart/digest was declared: its header-less parts are attached messages.
    digest: bool,
}

impl Boundaries {
    fn add(&mut self, boundary: &[u8], digest: bool) {
        self.digest |= digest;
        if self.sorted.iter().any(|known| boundary.starts_with(known)) {
            return;
        }
        self.sorted.retain(|known| !known.starts_with(boundary));
        let at = self.sorted.partition_point(|known| known.as_slice() < boundary);
        self.sorted.insert(at, boundary.to_vec());
        self.longest = self.longest.max(boundary.len());
    }

    /// Whether `rest` (the bytes after a `--`) starts with a boundary.
    fn starts(&self, rest: &[u8]) -> bool {
        if self.sorted.is_empty() {
            return false;
        }
        let window = &rest[..rest.len().min(self.longest)];
        // In a prefix-free sorted set, a boundary that `window` starts with is the greatest one
        // not above it.
        let at = self.sorted.partition_point(|known| known.as_slice() <= window);
        at > 0 && window.starts_with(&self.sorted[at - 1])
    }
}

/// The header lines of the block being read (since the last blank line) that matter for an
/// encoded attached message.
#[derive(Default)]
struct Block {
    start: usize,
    content_type: bool,
    message: bool,
    /// Where the values of its `Content-Transfer-Encoding` headers start (a few are enough).
    encodings: Vec<usize>,
}

/// Counts the parts and containers mail-parser can make of `raw` (a message, or the decoded
/// inside of an attached one) into `totals`; past a bound, the offset to cut `raw` at.
fn count(raw: &[u8], depth: usize, totals: &mut Totals) -> Result<(), (usize, Over)> {
    totals.parts += 1;
    totals.check().map_err(|over| (0, over))?;
    let mut boundaries = Boundaries::default();
    let mut block = Block::default();
    let mut line_start = 0;
    // Where the header name that a `:` ends may start: after the last `:` or line break.
    let mut name_start = 0;
    let mut ends = LogicalLineEnds::default();
    let mut keywords = Keywords::default();
    let mut i = 0;
    while let Some(next) = next_interesting(raw, i) {
        i = next;
        match raw[i] {
            b'\n' => {
                if is_blank(&raw[line_start..i]) {
                    let body = i + 1;
                    let block = std::mem::replace(&mut block, Block { start: body, ..Block::default() });
                    let attached = block.message || (!block.content_type && boundaries.digest);
                    if attached && !block.encodings.is_empty() {
                        encoded_message(raw, &block, body, depth, totals).map_err(|over| (block.start, over))?;
                    }
                }
                line_start = i + 1;
                name_start = i + 1;
            }
            b':' => {
                if name_ends_with(&raw[name_start..i], b"content-type") {
                    block.content_type = true;
                    let end = ends.after(raw, i);
                    if keywords.within(raw, i, end) {
                        content_type(&raw[i + 1..end], &mut boundaries, &mut block, totals)
                            .map_err(|over| (line_start, over))?;
                    }
                } else if name_ends_with(&raw[name_start..i], b"content-transfer-encoding") && block.encodings.len() < 8
                {
                    block.encodings.push(i + 1);
                }
                name_start = i + 1;
            }
            b'-' if i > 0 && raw[i - 1] == b'-' && boundaries.starts(&raw[i + 1..]) => {
                totals.parts += if boundaries.digest { 2 } else { 1 };
                totals.check().map_err(|over| (i - 1, over))?;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The next line break, colon or hyphen from `from`: the only bytes [`count`] looks at. On its
/// own (not inlined) it compiles to a tight loop; inside `count` it did not, and cost 5 ns a byte.
#[inline(never)]
fn next_interesting(raw: &[u8], from: usize) -> Option<usize> {
    raw.get(from..)?.iter().position(|&b| (b == b'\n') | (b == b':') | (b == b'-')).map(|at| from + at)
}

/// A line that ends a header block wherever it stands: white space only, and not a folded
/// continuation (which starts with a space or a tab).
fn is_blank(line: &[u8]) -> bool {
    !matches!(line.first(), Some(b' ' | b'\t')) && line.iter().all(u8::is_ascii_whitespace)
}

/// Whether the header name before a `:` (from the previous `:` or line start) ends with `name`,
/// compared as mail-parser compares names: ASCII case and white space ignored.
fn name_ends_with(before: &[u8], name: &[u8]) -> bool {
    let mut wanted = name.iter().rev();
    let mut next = wanted.next();
    for &b in before.iter().rev() {
        let Some(&want) = next else { break };
        if b.is_ascii_whitespace() {
            continue;
        }
        if b.to_ascii_lowercase() != want {
            return false;
        }
        next = wanted.next();
    }
    next.is_none()
}

/// A `Content-Type` header value (`value`: after the colon to the end of its folded lines) that
/// names `multipart` or `message`: read with mail-parser's own parser.
fn content_type(value: &[u8], boundaries: &mut Boundaries, block: &mut Block, totals: &mut Totals) -> Result<(), Over> {
    if value.len() > MAX_CONTENT_TYPE_BYTES {
        return Err(Over::ContentType);
    }
    totals.content_types += 1;
    totals.check()?;
    let HeaderValue::ContentType(parsed) = MessageStream::new(value).parse_content_type() else {
        return Ok(());
    };
    match (parsed.ctype(), parsed.subtype()) {
        ("multipart", subtype) => {
            totals.containers += 1;
            totals.check()?;
            if let Some(boundary) = parsed.attribute("boundary").filter(|b| !b.is_empty()) {
                if boundary.len() > MAX_BOUNDARY_BYTES {
                    return Err(Over::Boundary);
                }
                boundaries.add(boundary.as_bytes(), subtype == Some("digest"));
            }
        }
        ("message", Some("rfc822" | "global")) => {
            block.message = true;
            totals.containers += 1;
            totals.parts += 1;
            totals.check()?;
        }
        _ => {}
    }
    Ok(())
}

/// How an attached message's body may be encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Base64,
    QuotedPrintable,
}

/// An attached message whose block has `Content-Transfer-Encoding` headers: its body (from
/// `body`) decoded as mail-parser would decode it, and its parts counted.
fn encoded_message(raw: &[u8], block: &Block, body: usize, depth: usize, totals: &mut Totals) -> Result<(), Over> {
    let mut encodings = Vec::new();
    for &value in &block.encodings {
        let end = LogicalLineEnds::default().after(raw, value.saturating_sub(1));
        let named = if end - value > MAX_CONTENT_TYPE_BYTES {
            // Too long to read: either.
            vec![Encoding::Base64, Encoding::QuotedPrintable]
        } else {
            match MessageStream::new(&raw[value..end]).parse_unstructured() {
                HeaderValue::Text(text) if text.trim().eq_ignore_ascii_case("base64") => vec![Encoding::Base64],
                HeaderValue::Text(text) if text.trim().eq_ignore_ascii_case("quoted-printable") => {
                    vec![Encoding::QuotedPrintable]
                }
                _ => Vec::new(),
            }
        };
        for encoding in named {
            if !encodings.contains(&encoding) {
                encodings.push(encoding);
            }
        }
    }
    if encodings.is_empty() {
        return Ok(());
    }
    totals.encoded += 1;
    totals.check()?;
    if depth == 0 {
        return Ok(());
    }
    let rest = &raw[body..];
    for encoding in encodings {
        let decoded = match encoding {
            // mail-parser's base64 reader stops at the first `--` (the boundary, or an error).
            Encoding::Base64 => {
                let region = &rest[..find(rest, b"--").unwrap_or(rest.len())];
                match MessageStream::new(region).decode_base64_mime(b"") {
                    (usize::MAX, _) => continue,
                    (_, decoded) => decoded.into_owned(),
                }
            }
            // Its quoted-printable reader stops at its own boundary, which is not known here:
            // everything to the end is decoded (the count can only grow with more input).
            Encoding::QuotedPrintable => quoted_printable(rest),
        };
        count(&decoded, depth - 1, totals).map_err(|(_, over)| over)?;
    }
    Ok(())
}

/// Quoted-printable decoded as mail-parser decodes it, except that nothing is an error: up to
/// the point where mail-parser would give up, the output is the same.
fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'=' => match (data.get(i + 1).copied(), data.get(i + 2).copied()) {
                (Some(b'\n'), _) => i += 1,
                (Some(b'\r'), Some(b'\n')) => i += 2,
                (Some(a), Some(b)) if hex(a).is_some() && hex(b).is_some() => {
                    out.push(hex(a).unwrap_or(0) << 4 | hex(b).unwrap_or(0));
                    i += 2;
                }
                _ => out.push(b'='),
            },
            b'\r' => {}
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The end of the folded header line around a position (the first line break not followed by a
/// space or a tab), remembered so that headers inside one long line cost one scan.
#[derive(Default)]
struct LogicalLineEnds {
    from: usize,
    end: usize,
}

impl LogicalLineEnds {
    fn after(&mut self, raw: &[u8], at: usize) -> usize {
        if at >= self.from && at < self.end {
            return self.end;
        }
        let mut end = at;
        loop {
            match raw[end..].iter().position(|&b| b == b'\n') {
                None => break end = raw.len(),
                Some(newline) => {
                    end += newline + 1;
                    if !matches!(raw.get(end), Some(b' ' | b'\t')) {
                        break;
                    }
                }
            }
        }
        *self = LogicalLineEnds { from: at, end };
        end
    }
}

/// Whether `multipart` or `message` (any case) occurs in a folded header line after a position.
/// Headers found inside one long line share its answer, so the line is scanned about once.
#[derive(Default)]
struct Keywords {
    line_end: usize,
    from: usize,
    next: Option<usize>,
}

impl Keywords {
    fn within(&mut self, raw: &[u8], start: usize, end: usize) -> bool {
        let known = self.line_end == end && self.from <= start && self.next.is_none_or(|next| next >= start);
        if !known {
            let line = &raw[..end];
            *self = Keywords {
                line_end: end,
                from: start,
                next: (start..end).find(|&i| {
                    matches!(line[i], b'm' | b'M')
                        && (starts_with_ci(&line[i..], b"multipart") || starts_with_ci(&line[i..], b"message"))
                }),
            };
        }
        self.next.is_some()
    }
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `text` cut to at most `max` bytes at a line break (or a character boundary), and whether it
/// was cut.
pub fn truncate_text(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let at_line = text[..cut].rfind('\n').map_or(cut, |i| i + 1);
    (&text[..at_line], true)
}

/// `bytes` cut to at most `max` bytes, at a line break when there is one.
pub fn truncate_bytes(bytes: &[u8], max: usize) -> (&[u8], bool) {
    if bytes.len() <= max {
        return (bytes, false);
    }
    let at_line = bytes[..max].iter().rposition(|&b| b == b'\n').map_or(max, |i| i + 1);
    (&bytes[..at_line], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_messages_are_untouched() {
        let raw =
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n";
        assert_eq!(limit(raw), (&raw[..], None));
    }

    #[test]
    fn too_many_parts_are_cut_before_the_delimiter_that_goes_too_far() {
        let mut raw = String::from("Content-Type: multipart/mixed; boundary=b\r\n\r\n");
        for i in 0..MAX_PARTS + 5 {
            raw.push_str(&format!("--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"));
        }
        let (kept, problem) = limit(raw.as_bytes());
        assert!(problem.unwrap().contains("MIME parts"));
        let kept = std::str::from_utf8(kept).unwrap();
        // The message itself is a part: it and MAX_PARTS - 1 parts in it are kept.
        assert_eq!(kept.matches("--b").count(), MAX_PARTS - 1);
        assert!(kept.ends_with(&format!("part {}\r\n", MAX_PARTS - 2)), "{}", &kept[kept.len() - 40..]);
        assert_eq!(parts_of(kept.as_bytes()), MAX_PARTS);
    }

    /// Parts mail-parser makes of `raw`, attached messages' parts included.
    fn parts_of(raw: &[u8]) -> usize {
        fn walk(message: &mail_parser::Message<'_>) -> usize {
            message.parts.len()
                + message
                    .parts
                    .iter()
                    .map(|part| match &part.body {
                        mail_parser::PartType::Message(inner) => walk(inner),
                        _ => 0,
                    })
                    .sum::<usize>()
        }
        mail_parser::MessageParser::default().parse(raw).map_or(0, |message| walk(&message))
    }

    fn counted(raw: &[u8]) -> Result<Totals, Over> {
        let mut totals = Totals::default();
        count(raw, ENCODED_DEPTH, &mut totals).map_err(|(_, over)| over)?;
        Ok(totals)
    }

    fn multipart(content_type: &str, body: &str) -> String {
        format!("From: <a@b.example>\r\nContent-Type: {content_type}\r\n\r\n{body}")
    }

    #[test]
    fn parts_without_a_content_type_count() {
        let cases = [
            // No header lines at all.
            multipart("multipart/mixed; boundary=b", &"--b\r\n\r\nx\r\n".repeat(3 * MAX_PARTS)),
            // Only a Content-Disposition.
            multipart(
                "multipart/mixed; boundary=b",
                &"--b\r\nContent-Disposition: attachment\r\n\r\nx\r\n".repeat(3 * MAX_PARTS),
            ),
            // Delimiters in the middle of a line, and junk after them.
            multipart("multipart/mixed; boundary=b", &"x--b\r\n\r\n".repeat(3 * MAX_PARTS)),
            multipart("multipart/mixed; boundary=b", &"--b junk\r\n\r\nx\r\n".repeat(3 * MAX_PARTS)),
            // A boundary quoted, folded onto the next line, in RFC 2231 pieces.
            multipart("multipart/mixed;\r\n boundary=\"b b\"", &"--b b\r\n\r\n".repeat(3 * MAX_PARTS)),
            multipart("multipart/mixed; boundary*0=\"ab\"; boundary*1=\"cd\"", &"--abcd\r\n\r\n".repeat(3 * MAX_PARTS)),
            // A header name in odd case, with white space in it.
            multipart("x", "").replace("Content-Type: x", "cOnTeNt - TyPe :multipart/mixed; boundary=b")
                + &"--b\r\n\r\n".repeat(3 * MAX_PARTS),
        ];
        for raw in cases {
            assert!(parts_of(raw.as_bytes()) > MAX_PARTS, "mail-parser makes them parts: {}", &raw[..80]);
            let (kept, problem) = limit(raw.as_bytes());
            assert!(problem.is_some_and(|p| p.contains("MIME parts")), "{}", &raw[..80]);
            assert!(parts_of(kept) <= MAX_PARTS, "{}: {}", &raw[..80], parts_of(kept));
        }
    }

    #[test]
    fn digest_parts_are_attached_messages_and_count_twice() {
        let raw = multipart("multipart/digest; boundary=d", &"--d\r\n\r\nX: y\r\n\r\nx\r\n".repeat(MAX_PARTS));
        assert!(parts_of(raw.as_bytes()) > MAX_PARTS);
        let (kept, problem) = limit(raw.as_bytes());
        assert!(problem.is_some());
        assert!(parts_of(kept) <= MAX_PARTS);
        assert!(parts_of(kept) > MAX_PARTS / 3, "{}", parts_of(kept));
    }

    #[test]
    fn the_parts_inside_an_encoded_attached_message_count() {
        use base64::Engine as _;
        let inner = multipart("multipart/mixed; boundary=b", &"--b\r\n\r\nx\r\n".repeat(2 * MAX_PARTS));
        let encoded = base64::engine::general_purpose::STANDARD.encode(inner.as_bytes());
        let lines: String =
            encoded.as_bytes().chunks(76).map(|l| format!("{}\r\n", std::str::from_utf8(l).unwrap())).collect();
        let raw = multipart(
            "multipart/mixed; boundary=o",
            &format!(
                "--o\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{lines}--o--\r\n"
            ),
        );
        assert!(parts_of(raw.as_bytes()) > MAX_PARTS);
        let (kept, problem) = limit(raw.as_bytes());
        assert!(problem.is_some_and(|p| p.contains("MIME parts")));
        assert!(parts_of(kept) <= MAX_PARTS);
        // Quoted-printable, with the delimiters hidden as =2D=2D.
        let qp = inner.replace('=', "=3D").replace("--b", "=2D=2Db");
        let raw = multipart(
            "multipart/mixed; boundary=o",
            &format!("--o\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{qp}--o--\r\n"),
        );
        assert!(parts_of(raw.as_bytes()) > MAX_PARTS);
        let (kept, problem) = limit(raw.as_bytes());
        assert!(problem.is_some());
        assert!(parts_of(kept) <= MAX_PARTS);
    }

    #[test]
    fn deep_nesting_is_cut() {
        let mut raw = String::new();
        for i in 0..MAX_CONTAINERS + 1 {
            raw.push_str(&format!("Content-Type: multipart/mixed;\r\n boundary=b{i}\r\n\r\n--b{i}\r\n"));
        }
        let (kept, problem) = limit(raw.as_bytes());
        assert!(problem.unwrap().contains("nests"));
        assert_eq!(std::str::from_utf8(kept).unwrap().matches("multipart").count(), MAX_CONTAINERS);
    }

    #[test]
    fn an_overlong_boundary_or_content_type_is_where_reading_stops() {
        let long = "b".repeat(MAX_BOUNDARY_BYTES + 1);
        let raw =
            multipart("text/plain", &format!("hi\r\n--x\r\nContent-Type: multipart/mixed; boundary={long}\r\n\r\n"));
        let (kept, problem) = limit(raw.as_bytes());
        assert!(problem.unwrap().contains("boundary longer"));
        assert!(kept.ends_with(b"hi\r\n--x\r\n"));
        let folded = format!("multipart/mixed; boundary=b;{}", "\r\n x=y;".repeat(10_000));
        let (_, problem) = limit(multipart(&folded, "").as_bytes());
        assert!(problem.unwrap().contains("Content-Type header longer"));
    }

    /// Random messages from pieces that mail-parser treats specially: the count made here is
    /// never below the parts mail-parser makes.
    #[test]
    fn the_count_is_never_below_what_mail_parser_makes() {
        use base64::Engine as _;
        let nested = "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\nx\r\n--q\r\n\r\n--q--\r\n";
        let nested_b64 = base64::engine::general_purpose::STANDARD.encode(nested);
        let pieces: Vec<String> = [
            "--b\r\n",
            "--c\r\n\r\n",
            "--d\r\n",
            "--b",
            "--c",
            "--d",
            "--q",
            "-",
            "--",
            "\r\n",
            "\n",
            "\r\n\r\n",
            "\n\n",
            " ",
            "\t",
            "x",
            ":",
            "\r",
            "Content-Type: multipart/mixed; boundary=b\r\n",
            "Content-Type: multipart/alternative; boundary=\"c\"\r\n",
            "content-type:multipart/digest;boundary=d\n",
            "Content - Type : multipart/related;\r\n boundary=b\r\n",
            "Content-Type: message/rfc822\r\n",
            "Content-Type: message/global\n",
            "Content-Type: text/plain\r\n",
            "Content-Type: multipart/mixed; boundary*0=\"c\"; boundary*1=\"d\"\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n",
            "Content-Disposition: attachment\r\n",
            "From: <a@b.example>\r\n",
            "=2D=2Dq",
            "--b--",
            "--c--\r\n",
            &nested_b64,
            nested,
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut compared, mut rich, mut slack) = (0, 0, 0);
        for _ in 0..30_000 {
            let n = 3 + random() % 60;
            // Most start as a multipart message would; the rest anyhow.
            let mut raw = match random() % 4 {
                0 => String::new(),
                1 => "Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_owned(),
                2 => "Content-Type: multipart/digest; boundary=d\r\n\r\n".to_owned(),
                _ => "Content-Type: multipart/alternative; boundary=c\r\n\r\n".to_owned(),
            };
            raw.extend((0..n).map(|_| pieces[(random() % pieces.len() as u64) as usize].as_str()));
            // mail-parser has debug assertions that odd structure can reach; those runs say
            // nothing about counting.
            let Ok(actual) = std::panic::catch_unwind(|| parts_of(raw.as_bytes())) else { continue };
            let Ok(totals) = counted(raw.as_bytes()) else { continue };
            assert!(totals.parts >= actual, "counted {} < {actual} parts in {raw:?}", totals.parts);
            compared += 1;
            rich += usize::from(actual >= 6);
            slack = slack.max(totals.parts - actual);
        }
        eprintln!("compared {compared}, {rich} with six parts or more, largest over-count {slack}");
        assert!(compared > 20_000 && rich > 1_000, "{compared} {rich}");
    }

    #[test]
    fn truncation_keeps_whole_lines_and_characters() {
        assert_eq!(truncate_text("가나\n다라", 9), ("가나\n", true));
        assert_eq!(truncate_text("가나다라", 7), ("가나", true));
        assert_eq!(truncate_text("abc", 3), ("abc", false));
        assert_eq!(truncate_bytes(b"ab\ncd", 4), (&b"ab\n"[..], true));
        assert_eq!(truncate_bytes(b"abcd", 2), (&b"ab"[..], true));
    }
}
