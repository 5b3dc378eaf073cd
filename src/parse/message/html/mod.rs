//! HTML bodies to text that keeps the shape field extraction needs: each table row on its own
//! line with its cells separated by tabs, line breaks for `<br>`, paragraphs, divs and list items,
//! quoted mail (`<blockquote>`) prefixed with `> ` as a plain-text reply would be, scripts, styles,
//! the head and comments dropped. (mail-parser's own conversion runs table cells together, which
//! loses "label | value" structure.)
//!
//! The markup is read by html5gum, a WHATWG-compliant tokenizer (it passes html5lib's tokenizer
//! tests): attribute values never become text, whatever they hold (`<td title="a>b">`, `alt`),
//! character references are decoded as a browser does (`&eacute;`, `&rarr;`, `&nbsp` without
//! `;`, `&#0;` as U+FFFD), and `<script>`, `<style>`, `<title>` and `<textarea>` contents are
//! read as the raw text they are. What remains ours is the rendering below.
//!
//! Tables are rendered row by row: a row of several cells becomes one line, each cell's own line
//! breaks (`<td><p>김민준</p><p>(대표)</p></td>`) folded into spaces so the cells stay aligned;
//! a one-cell row, or a cell holding a nested table (layout tables of groupware mail), keeps its
//! lines. Nesting deeper than `MAX_TABLE_DEPTH` (32) is flattened.
//!
//! Before the tokenizer, every tag loses its attributes past 256 ([`attributes`]): html5gum's
//! attribute states call one another, and enough attributes on one tag overflow the stack.

mod attributes;

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Span, Tokenizer};

/// Deepest table nesting rendered as tables; deeper `<table>` tags only break lines.
const MAX_TABLE_DEPTH: usize = 32;

/// Deepest `<blockquote>` nesting shown with `>` marks.
const MAX_QUOTE_DEPTH: usize = 16;

/// Elements whose content is never shown: the document's head, scripts and styles, and what a
/// mail client does not display either.
const HIDDEN: &[&[u8]] =
    &[b"head", b"script", b"style", b"title", b"xml", b"template", b"noscript", b"iframe", b"noembed", b"noframes"];

/// Convert an HTML body to plain text.
pub fn to_text(html: &str) -> String {
    let html = attributes::bounded(html);
    let html: &str = &html;
    let mut renderer = Renderer::new();
    let mut reader = Reader::default();
    {
        let mut emitter = CallbackEmitter::new(|event: CallbackEvent<'_>, _: Span<()>| -> Option<()> {
            reader.event(event, &mut renderer);
            None
        });
        // Switch to raw text after <script>, <style>, <title>, <textarea>…, as a browser does.
        emitter.naively_switch_states(true);
        // The reader of a &str cannot fail (its error type is Infallible): draining the
        // tokenizer only runs the callback above.
        for _ in Tokenizer::new_with_emitter(html, emitter) {}
    }
    renderer.finish()
}

/// Turns tokenizer events into renderer calls, leaving out what is hidden.
#[derive(Default)]
struct Reader {
    /// The hidden element being skipped, and how deeply it nests in itself.
    hidden: Option<(Vec<u8>, usize)>,
    /// The start tag being read (its attributes are ignored).
    tag: Vec<u8>,
}

impl Reader {
    fn event(&mut self, event: CallbackEvent<'_>, renderer: &mut Renderer) {
        match event {
            CallbackEvent::OpenStartTag { name } => {
                self.tag.clear();
                self.tag.extend_from_slice(name);
            }
            CallbackEvent::CloseStartTag { .. } => {
                let name = std::mem::take(&mut self.tag);
                match &mut self.hidden {
                    Some((hidden, depth)) if *hidden == name => *depth += 1,
                    // An unclosed <head> ends where the body begins.
                    Some((hidden, _)) if hidden.as_slice() == b"head" && name.as_slice() == b"body" => {
                        self.hidden = None;
                    }
                    Some(_) => {}
                    None if HIDDEN.contains(&name.as_slice()) => self.hidden = Some((name, 1)),
                    None => renderer.tag(&String::from_utf8_lossy(&name)),
                }
            }
            CallbackEvent::EndTag { name } => match &mut self.hidden {
                Some((hidden, depth)) if hidden.as_slice() == name => {
                    *depth -= 1;
                    if *depth == 0 {
                        self.hidden = None;
                    }
                }
                Some(_) => {}
                None => renderer.tag(&format!("/{}", String::from_utf8_lossy(name))),
            },
            CallbackEvent::String { value } if self.hidden.is_none() => {
                renderer.text(&String::from_utf8_lossy(value));
            }
            // Attribute names and values, comments, doctypes and parse errors show nothing.
            _ => {}
        }
    }
}

/// Where text goes: the document or a table cell (both hold text), or a table (holds the cells
/// of its current row).
enum Frame {
    Text { buf: String, has_table: bool },
    Table { cells: Vec<Cell> },
}

/// A finished table cell.
struct Cell {
    text: String,
    has_table: bool,
}

struct Renderer {
    /// The document first, then open tables and cells, innermost last.
    stack: Vec<Frame>,
    quote_depth: usize,
    table_depth: usize,
    /// Never written in practice: what [`Renderer::buf`] returns if the stack held no text frame.
    spill: String,
}

impl Renderer {
    fn new() -> Renderer {
        Renderer {
            stack: vec![Frame::Text { buf: String::new(), has_table: false }],
            quote_depth: 0,
            table_depth: 0,
            spill: String::new(),
        }
    }

    fn tag(&mut self, name: &str) {
        match name {
            "table" if self.table_depth < MAX_TABLE_DEPTH => self.open_table(),
            "/table" if self.table_depth > 0 => self.close_table(),
            "tr" | "/tr" if self.table_depth > 0 => self.end_row(),
            "td" | "th" if self.table_depth > 0 => self.open_cell(),
            "/td" | "/th" if self.table_depth > 0 => self.close_cell(),
            "td" | "th" => {
                let buf = self.buf();
                if !buf.ends_with('\n') && !buf.is_empty() {
                    buf.push('\t');
                }
            }
            "blockquote" => {
                self.newline();
                self.quote_depth = (self.quote_depth + 1).min(MAX_QUOTE_DEPTH);
            }
            "/blockquote" => {
                self.newline();
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
            "br" | "/p" | "p" | "div" | "/div" | "li" | "/li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "/h1"
            | "/h2" | "/h3" | "/h4" | "/h5" | "/h6" | "ul" | "/ul" | "ol" | "/ol" | "hr" | "pre" | "/pre" | "table"
            | "/table" | "tr" | "/tr" | "dt" | "dd" => self.newline(),
            _ => {}
        }
    }

    /// The innermost text buffer, opening an implicit cell when text stands directly in a table.
    fn buf(&mut self) -> &mut String {
        if !matches!(self.stack.last(), Some(Frame::Text { .. })) {
            self.stack.push(Frame::Text { buf: String::new(), has_table: false });
        }
        let Renderer { stack, spill, .. } = self;
        match stack.last_mut() {
            Some(Frame::Text { buf, .. }) => buf,
            _ => spill,
        }
    }

    /// Text as the tokenizer gives it (character references decoded).
    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if matches!(self.stack.last(), Some(Frame::Table { .. })) && text.chars().all(char::is_whitespace) {
            return;
        }
        let prefix = "> ".repeat(self.quote_depth);
        let buf = self.buf();
        // NUL and other control characters are not text (a browser drops U+0000 too).
        for c in text.chars().filter(|c| !c.is_control() || c.is_whitespace()) {
            if buf.is_empty() || buf.ends_with('\n') {
                if c.is_whitespace() && c != '\u{a0}' {
                    continue;
                }
                buf.push_str(&prefix);
            }
            if c == '\u{a0}' {
                buf.push(' ');
            } else if c.is_whitespace() {
                if !buf.ends_with([' ', '\n', '\t']) {
                    buf.push(' ');
                }
            } else {
                buf.push(c);
            }
        }
    }

    fn newline(&mut self) {
        if let Some(Frame::Text { buf, .. }) = self.stack.last_mut() {
            newline(buf);
        }
    }

    fn open_table(&mut self) {
        self.newline();
        if let Some(Frame::Text { has_table, .. }) = self.stack.last_mut() {
            *has_table = true;
        }
        self.table_depth += 1;
        self.stack.push(Frame::Table { cells: Vec::new() });
    }

    fn close_table(&mut self) {
        self.end_row();
        if matches!(self.stack.last(), Some(Frame::Table { .. })) {
            self.stack.pop();
            self.table_depth -= 1;
        }
        self.newline();
    }

    fn open_cell(&mut self) {
        self.close_cell();
        if matches!(self.stack.last(), Some(Frame::Table { .. })) {
            self.stack.push(Frame::Text { buf: String::new(), has_table: false });
        }
    }

    /// Ends the open cell of the innermost table, if any, adding it to the table's row.
    fn close_cell(&mut self) {
        let is_cell = self.stack.len() >= 2
            && matches!(self.stack.last(), Some(Frame::Text { .. }))
            && matches!(self.stack.get(self.stack.len() - 2), Some(Frame::Table { .. }));
        if !is_cell {
            return;
        }
        if let Some(Frame::Text { buf, has_table }) = self.stack.pop() {
            if let Some(Frame::Table { cells }) = self.stack.last_mut() {
                cells.push(Cell { text: tidy(&buf), has_table });
            }
        }
    }

    /// Ends the current row of the innermost table: its cells become a line (or lines) of the
    /// text around the table.
    fn end_row(&mut self) {
        self.close_cell();
        let Some(Frame::Table { cells }) = self.stack.last_mut() else {
            return;
        };
        let cells = std::mem::take(cells);
        if cells.is_empty() {
            return;
        }
        let row = render_row(&cells);
        let depth = self.stack.len();
        if let Some(Frame::Text { buf, .. }) = self.stack.get_mut(depth.wrapping_sub(2)) {
            newline(buf);
            buf.push_str(&row);
            buf.push('\n');
        }
    }

    fn finish(mut self) -> String {
        while self.stack.len() > 1 {
            let before = self.stack.len();
            match self.stack.last() {
                Some(Frame::Table { .. }) => self.close_table(),
                _ => self.close_cell(),
            }
            if self.stack.len() == before {
                self.stack.pop();
            }
        }
        match self.stack.pop() {
            Some(Frame::Text { buf, .. }) => tidy(&buf),
            _ => String::new(),
        }
    }
}

/// A row's cells as text: one cell as it is; several cells on one line, tab-separated, each
/// cell's line breaks folded into spaces unless it holds a nested table.
fn render_row(cells: &[Cell]) -> String {
    if let [only] = cells {
        return only.text.clone();
    }
    let rendered: Vec<String> = cells
        .iter()
        .map(|cell| {
            if cell.has_table {
                cell.text.clone()
            } else {
                cell.text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
            }
        })
        .collect();
    rendered.join("\t")
}

fn newline(out: &mut String) {
    while out.ends_with([' ', '\t']) {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
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
        let html =
            "<table><tr><td>성명</td><td>박지훈</td></tr>\n<tr><TD class=x>소속</TD><td>새벽정밀</td></tr></table>";
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
    fn paragraphs_inside_cells_stay_in_their_row() {
        let html = "<table><tr><td><div>성명</div></td><td><p>김민준</p><p>(대표)</p></td></tr>\
                    <tr><td><p>연락처</p></td><td><div>010-1234-5678</div></td></tr></table>";
        assert_eq!(to_text(html), "성명\t김민준 (대표)\n연락처\t010-1234-5678");
    }

    #[test]
    fn layout_tables_keep_their_lines_and_nested_tables_their_rows() {
        let html = "<table width=100%><tr><td>안녕하세요.<br>신청합니다.\
                    <table><tr><th>성명</th><th>소속</th></tr><tr><td>김민준</td><td>한빛테크</td></tr></table>\
                    김민준 드림</td></tr></table>";
        assert_eq!(to_text(html), "안녕하세요.\n신청합니다.\n성명\t소속\n김민준\t한빛테크\n김민준 드림");
    }

    #[test]
    fn a_one_cell_row_of_a_form_keeps_empty_cells_apart() {
        let html = "<table><tr><td></td><td>성명</td><td>김민준</td></tr></table>";
        assert_eq!(to_text(html), "성명\t김민준");
    }

    #[test]
    fn blockquotes_are_marked_as_quoted() {
        let html = "<div>성명: 김민준</div><div class=gmail_quote><blockquote>성명:<br>소속:<blockquote>깊이</blockquote></blockquote></div><div>끝</div>";
        assert_eq!(to_text(html), "성명: 김민준\n> 성명:\n> 소속:\n> > 깊이\n끝");
    }

    #[test]
    fn unclosed_tables_and_cells_are_closed_at_the_end() {
        assert_eq!(to_text("<table><tr><td>성명<td>김민준"), "성명\t김민준");
        assert_eq!(to_text("</td></tr></table>끝"), "끝");
        assert_eq!(to_text("<table>직접 <b>글</b></table>"), "직접 글");
    }

    #[test]
    fn absurd_nesting_is_flattened_not_recursed() {
        let html = "<table><tr><td>".repeat(10_000) + "깊음";
        assert_eq!(to_text(&html), "깊음");
        let html = "<blockquote>".repeat(10_000) + "인용";
        assert!(to_text(&html).ends_with("인용"));
    }

    #[test]
    fn attribute_values_never_become_text() {
        assert_eq!(to_text(r#"<table><tr><td title="a>b">성명</td><td>김민준</td></tr></table>"#), "성명\t김민준");
        assert_eq!(to_text(r#"<p><img alt="로고 LOGO" src="x.png">신청서</p>"#), "신청서");
        assert_eq!(to_text(r#"<a href='http://x.example/?a=1&b=<2>' title="성명: 가짜">링크</a>"#), "링크");
        assert_eq!(to_text("<div data-x=\"<td>\" class=a>본문</div>"), "본문");
    }

    #[test]
    fn character_references_are_decoded_as_a_browser_does() {
        assert_eq!(to_text("caf&eacute; &rarr; &nbsp;x&nbspy &amp;c &lt;b&gt;"), "café →  x y &c <b>");
        assert_eq!(to_text("&#54620;&#xBE5B; &copy &notit; &bogus;"), "한빛 © ¬it; &bogus;");
        // &#0; is U+FFFD, never a NUL; raw NULs and other controls are dropped.
        let text = to_text("a&#0;b\0c\u{1}d&#x80;");
        assert!(!text.contains('\0') && !text.contains('\u{1}'), "{text:?}");
        assert_eq!(text, "a\u{FFFD}bcd€");
    }

    #[test]
    fn hidden_elements_show_nothing_and_an_unclosed_head_ends_at_the_body() {
        assert_eq!(to_text("<script>if (a < b) { x = '</td>'; }</script>보임"), "보임");
        assert_eq!(to_text("<head><meta charset=utf-8><title>제목</title><body>본문"), "본문");
        assert_eq!(to_text("<xml><o:OfficeDocumentSettings>x</o:OfficeDocumentSettings></xml>본문"), "본문");
        assert_eq!(to_text("<textarea>성명: 김민준</textarea>"), "성명: 김민준");
    }

    #[test]
    fn broken_html_does_not_panic() {
        for html in [
            "<",
            "<td",
            "&",
            "&#xZZ;",
            "<!-- never closed",
            "<style>never closed",
            "a < b & c > d",
            "&#99999999;",
            "<td></td>",
            "</table></table><tr>",
        ] {
            let _ = to_text(html);
        }
        assert_eq!(to_text("a < b"), "a < b");
    }
}
