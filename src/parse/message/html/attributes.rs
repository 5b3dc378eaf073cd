//! A bound on attributes per tag, before the tokenizer sees the markup.
//!
//! html5gum 0.9 reads a tag's attributes by calling each state from the one before (its
//! `inline_next_state`), and for double-quoted values the calls form a cycle: attribute name →
//! before value → value → after value → before the next name → … Every attribute of one tag
//! is one more round of nested calls, so a single `<p a0="x" a1="x" …>` with some fifty thousand
//! attributes overflows the stack, an abort that no `catch_unwind` catches (found by attacking
//! the binary). smebridge reads no attribute (only tag names shape the text), so here every tag
//! loses the attributes past [`MAX_ATTRIBUTES`]; markup with fewer is passed on untouched.
//!
//! The scan follows the WHATWG tokenizer where it decides what is a tag and where an attribute
//! ends: comments (`<!-- … -->`, `<!-->`), other markup declarations and `<?…>` up to `>`, tag
//! names, attribute names, quoted and unquoted values, and the raw text of `<script>`, `<style>`,
//! `<textarea>`, `<title>`… up to their end tag (as the tokenizer's naive state switching
//! reads them). Where it might differ from the tokenizer it can only cut attributes, never text:
//! the only bytes it ever removes are those of the attributes it counts past the bound.

use std::borrow::Cow;

/// More attributes than any mail client writes on one tag (a few dozen at most).
pub const MAX_ATTRIBUTES: usize = 256;

/// Elements whose content the tokenizer reads as raw text, up to their end tag.
const RAW_TEXT: &[&[u8]] =
    &[b"textarea", b"title", b"script", b"style", b"iframe", b"xmp", b"noembed", b"noframe", b"noscript"];

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// `html` with every tag's attributes past [`MAX_ATTRIBUTES`] removed (borrowed when none is).
pub fn bounded(html: &str) -> Cow<'_, str> {
    let b = html.as_bytes();
    let len = b.len();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < len {
        let Some(at) = b[i..].iter().position(|&c| c == b'<') else { break };
        i += at;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = comment_end(b, i + 4);
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            i = b[i + 2..].iter().position(|&c| c == b'>').map_or(len, |p| i + 2 + p + 1);
            continue;
        }
        let name_start = if rest.starts_with(b"</") { i + 2 } else { i + 1 };
        if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        let end_tag = name_start == i + 2;
        let mut j = name_start;
        while j < len && !is_space(b[j]) && b[j] != b'/' && b[j] != b'>' {
            j += 1;
        }
        let name = b[name_start..j].to_ascii_lowercase();
        let mut count = 0;
        loop {
            while j < len && (is_space(b[j]) || b[j] == b'/') {
                j += 1;
            }
            if j >= len {
                break;
            }
            if b[j] == b'>' {
                j += 1;
                break;
            }
            let attribute = j;
            j = attribute_end(b, j);
            count += 1;
            if count > MAX_ATTRIBUTES {
                let out = out.get_or_insert_with(|| String::with_capacity(html.len()));
                out.push_str(&html[copied..attribute]);
                copied = j;
            }
        }
        i = j;
        if !end_tag && RAW_TEXT.contains(&name.as_slice()) {
            i = raw_text_end(b, i, &name);
        } else if !end_tag && name == b"plaintext" {
            break;
        }
    }
    match out {
        Some(mut out) => {
            out.push_str(&html[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(html),
    }
}

/// Where the attribute that begins at `start` ends: its name (whose first character may be
/// anything but white space, `/` and `>`), then, after `=`, a quoted or unquoted value.
fn attribute_end(b: &[u8], start: usize) -> usize {
    let len = b.len();
    let mut j = start + 1;
    while j < len && !is_space(b[j]) && !matches!(b[j], b'/' | b'>' | b'=') {
        j += 1;
    }
    let mut k = j;
    while k < len && is_space(b[k]) {
        k += 1;
    }
    if k >= len || b[k] != b'=' {
        return j;
    }
    k += 1;
    while k < len && is_space(b[k]) {
        k += 1;
    }
    match b.get(k) {
        Some(&quote) if quote == b'"' || quote == b'\'' => {
            b[k + 1..].iter().position(|&c| c == quote).map_or(len, |p| k + 1 + p + 1)
        }
        _ => {
            while k < len && !is_space(b[k]) && b[k] != b'>' {
                k += 1;
            }
            k
        }
    }
}

/// Where a comment whose text begins at `from` ends: after `-->` or `--!>`; `<!-->` and
/// `<!--->` are empty comments.
fn comment_end(b: &[u8], from: usize) -> usize {
    let rest = &b[from.min(b.len())..];
    if rest.starts_with(b">") {
        return from + 1;
    }
    if rest.starts_with(b"->") {
        return from + 2;
    }
    let end = rest.windows(3).position(|w| w == b"-->");
    let bang = rest.windows(4).position(|w| w == b"--!>");
    match (end, bang) {
        (Some(e), Some(x)) if x < e => from + x + 4,
        (Some(e), _) => from + e + 3,
        (None, Some(x)) => from + x + 4,
        (None, None) => b.len(),
    }
}

/// Where the raw text of element `name` that begins at `from` ends: at its end tag (`</name`
/// followed by white space, `/` or `>`, in any case), or the end of the markup.
fn raw_text_end(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(at) = b[i..].windows(2).position(|w| w == b"</") {
        let start = i + at;
        let after = start + 2 + name.len();
        if b.len() >= after
            && b[start + 2..after].eq_ignore_ascii_case(name)
            && b.get(after).is_none_or(|&c| is_space(c) || c == b'/' || c == b'>')
        {
            return start;
        }
        i = start + 2;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_with(n: usize, value: &str) -> String {
        let attributes: Vec<String> = (0..n).map(|i| format!("a{i}={value}")).collect();
        format!("<p {}>", attributes.join(" "))
    }

    #[test]
    fn markup_with_few_attributes_is_passed_on_as_it_is() {
        for html in [
            "<table><tr><td title=\"a>b\" class=x>성명</td><td>김민준</td></tr></table>",
            "<p a=\"'\" b='\"' c=d e>text</p><!-- <p a=1> --><!--><!--->",
            "<script>if (a<b && c>d) { x = \"</p>\"; }</script><p>after</p>",
            "<p/ / />unclosed <a href=\"x",
            &tag_with(MAX_ATTRIBUTES, "\"x\""),
        ] {
            assert!(matches!(bounded(html), Cow::Borrowed(_)), "{html}");
        }
    }

    #[test]
    fn a_tag_keeps_its_first_attributes_and_loses_the_rest_whatever_their_quoting() {
        for value in ["\"x\"", "'x'", "x", "\"a > b\"", "\"'\""] {
            let html = format!("{}성명: 김민준</p>", tag_with(MAX_ATTRIBUTES + 1000, value));
            let out = bounded(&html);
            assert!(out.ends_with(">성명: 김민준</p>"), "{value}: {}", &out[out.len().saturating_sub(80)..]);
            assert!(out.contains(&format!(" a{}={value}", MAX_ATTRIBUTES - 1)), "{value}");
            assert!(!out.contains(&format!("a{}=", MAX_ATTRIBUTES)), "{value}");
        }
        // Attributes without spaces between them, and on an end tag.
        let crowded: String = (0..MAX_ATTRIBUTES + 10).map(|i| format!("a{i}=\"x\"")).collect();
        let html = format!("<p {crowded}>one</p {crowded}>two");
        let out = bounded(&html);
        assert!(out.ends_with(">two") && out.contains(">one</p "), "{out}");
        assert_eq!(out.matches("=\"x\"").count(), 2 * MAX_ATTRIBUTES);
    }

    #[test]
    fn text_in_comments_raw_text_and_attribute_values_is_no_tag() {
        let many = tag_with(MAX_ATTRIBUTES + 1, "\"x\"");
        for html in [
            format!("<!-- {many} -->"),
            format!("<script>{many}</script>"),
            format!("<p title=\"{}\">", many.replace('"', "'")),
        ] {
            assert!(matches!(bounded(&html), Cow::Borrowed(_)), "{}", &html[..60]);
        }
        // After the raw text ends, tags count again.
        let html = format!("<style>p {{}}</STYLE >{many}");
        assert!(matches!(bounded(&html), Cow::Owned(_)));
    }
}
