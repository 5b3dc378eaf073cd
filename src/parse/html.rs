//! HTML bodies to text that keeps the shape field extraction needs: each table row on its own
//! line with its cells separated by tabs, line breaks for `<br>`, paragraphs, divs and list items,
//! entities decoded, scripts, styles and comments dropped. (mail-parser's own conversion runs
//! table cells together, which loses "label | value" structure.)

/// Convert an HTML body to plain text.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map(|end| &after[end + 3..]).unwrap_or("");
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // A lone '<' in text.
            push_text(&mut out, rest);
            rest = "";
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let name = tag_name(tag);
        match name.as_str() {
            "script" | "style" | "head" | "title" => {
                let close = format!("</{name}");
                rest = find_ascii_ci(rest, &close)
                    .map(|i| rest[i..].find('>').map(|g| &rest[i + g + 1..]).unwrap_or(""))
                    .unwrap_or("");
            }
            "br" | "/p" | "p" | "div" | "/div" | "tr" | "/tr" | "li" | "/li" | "/h1" | "/h2" | "/h3" | "/h4" | "/h5"
            | "/h6" | "table" | "/table" | "ul" | "/ul" | "ol" | "/ol" | "hr" | "blockquote" | "/blockquote" => {
                newline(&mut out);
            }
            "td" | "th" => {
                if !out.ends_with('\n') && !out.is_empty() {
                    out.push('\t');
                }
            }
            _ => {}
        }
    }
    push_text(&mut out, rest);
    tidy(&out)
}

/// `td class="x"` → `td`; `/TR` → `/tr`.
fn tag_name(tag: &str) -> String {
    let tag = tag.trim();
    let (slash, body) = match tag.strip_prefix('/') {
        Some(b) => ("/", b.trim_start()),
        None => ("", tag),
    };
    let name: String = body.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    format!("{slash}{}", name.to_ascii_lowercase())
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

fn newline(out: &mut String) {
    while out.ends_with([' ', '\t']) {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Append text content: whitespace collapsed as a browser would, entities decoded.
fn push_text(out: &mut String, text: &str) {
    let decoded = decode_entities(text);
    for c in decoded.chars() {
        if c == '\u{a0}' {
            out.push(' ');
        } else if c.is_whitespace() {
            if !out.ends_with([' ', '\n', '\t']) && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` `&nbsp;` and numeric references.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let replacement = end.and_then(|e| entity(&rest[1..e]));
        match (end, replacement) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "middot" => '·',
        "bull" => '•',
        _ => return None,
    })
}

/// Trim each line, drop runs of blank lines.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_matches(|c: char| c == ' ' || c == '\t');
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_become_lines_with_tab_separated_cells() {
        let html = "<table><tr><td>성명</td><td>박지훈</td></tr>\n<tr><TD class=x>소속</TD><td>새벽정밀</td></tr></table>";
        assert_eq!(to_text(html), "성명\t박지훈\n소속\t새벽정밀");
    }

    #[test]
    fn breaks_paragraphs_and_entities() {
        let html = "<p>성명&nbsp;: 김민준<br>소속 : A&amp;B &#54620;&#xBE5B;</p><div>끝</div>";
        assert_eq!(to_text(html), "성명 : 김민준\n소속 : A&B 한빛\n끝");
    }

    #[test]
    fn scripts_styles_and_comments_are_dropped() {
        let html = "<html><head><title>t</title><style>p{color:red}</style></head><body><!-- hidden -->보임<script>alert(1)</script></body></html>";
        assert_eq!(to_text(html), "보임");
    }

    #[test]
    fn broken_html_does_not_panic() {
        for html in ["<", "<td", "&", "&#xZZ;", "<!-- never closed", "<style>never closed", "a < b & c > d", "&#99999999;"] {
            let _ = to_text(html);
        }
        assert_eq!(to_text("a < b"), "a < b");
    }
}
