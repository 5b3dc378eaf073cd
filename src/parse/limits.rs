//! Bounds on the work one message can cause.
//!
//! mail-parser itself copes with absurd structure (it walks nested multiparts without
//! recursion), but everything after it — picking bodies, converting HTML, reading fields — should
//! not have to. [`limit`] looks at the raw bytes before parsing: past [`MAX_PARTS`] MIME parts or
//! [`MAX_CONTAINERS`] multipart/message containers the message is cut at the header that goes
//! too far, and a problem is recorded. Text is bounded separately ([`MAX_PART_BYTES`],
//! [`MAX_TEXT_BYTES`], [`MAX_FIELD_TEXT_BYTES`]).

/// Most `Content-Type:` headers (MIME parts) read; real applications have a handful.
pub const MAX_PARTS: usize = 1000;

/// Most multipart or message/* containers read, which also bounds nesting depth.
pub const MAX_CONTAINERS: usize = 100;

/// Most bytes of one text part decoded.
pub const MAX_PART_BYTES: usize = 2 << 20;

/// Most bytes of body text kept.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Most bytes of text searched for fields: an application is a few hundred bytes.
pub const MAX_FIELD_TEXT_BYTES: usize = 64 << 10;

/// The part of `raw` to parse, and the problem to record when it is not all of it.
pub fn limit(raw: &[u8]) -> (&[u8], Option<String>) {
    let mut parts = 0;
    let mut containers = 0;
    let mut start = 0;
    while start < raw.len() {
        let end = raw[start..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| start + i + 1);
        let line = &raw[start..end];
        if starts_with_ci(line, b"content-type:") {
            parts += 1;
            if is_container(raw, start, end) {
                containers += 1;
            }
            if parts > MAX_PARTS {
                let problem =
                    format!("the message has more than {MAX_PARTS} MIME parts; only the first {MAX_PARTS} were read");
                return (&raw[..start], Some(problem));
            }
            if containers > MAX_CONTAINERS {
                let problem = format!(
                    "the message nests more than {MAX_CONTAINERS} multipart or attached messages; only the first {MAX_CONTAINERS} were read"
                );
                return (&raw[..start], Some(problem));
            }
        }
        start = end;
    }
    (raw, None)
}

/// Whether the `Content-Type:` header at `start..end` (with its folded lines) names a container.
fn is_container(raw: &[u8], start: usize, mut end: usize) -> bool {
    while matches!(raw.get(end), Some(b' ' | b'\t')) && end - start < 4096 {
        end = raw[end..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| end + i + 1);
    }
    let value = &raw[start + b"content-type:".len()..end];
    let value = value.iter().skip_while(|b| b.is_ascii_whitespace()).copied().take(16).collect::<Vec<u8>>();
    starts_with_ci(&value, b"multipart/") || starts_with_ci(&value, b"message/")
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
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
    fn too_many_parts_are_cut_at_the_header_that_goes_too_far() {
        let mut raw = String::from("Content-Type: multipart/mixed; boundary=b\r\n\r\n");
        for i in 0..MAX_PARTS + 5 {
            raw.push_str(&format!("--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"));
        }
        let (kept, problem) = limit(raw.as_bytes());
        assert!(problem.unwrap().contains("MIME parts"));
        let kept = std::str::from_utf8(kept).unwrap();
        assert_eq!(kept.matches("Content-Type:").count(), MAX_PARTS);
        assert!(kept.ends_with("--b\r\n"));
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
    fn truncation_keeps_whole_lines_and_characters() {
        assert_eq!(truncate_text("가나\n다라", 9), ("가나\n", true));
        assert_eq!(truncate_text("가나다라", 7), ("가나", true));
        assert_eq!(truncate_text("abc", 3), ("abc", false));
        assert_eq!(truncate_bytes(b"ab\ncd", 4), (&b"ab\n"[..], true));
        assert_eq!(truncate_bytes(b"abcd", 2), (&b"ab"[..], true));
    }
}
