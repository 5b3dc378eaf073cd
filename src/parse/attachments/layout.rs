//! The layout builder every format reader feeds: paragraphs, tables, rows and cells in, text out
//! in the layout the module docs of `attachments` describe (a paragraph per line, a table row
//! per line with its cells tab-separated, nested tables on lines of their own). Bounded in
//! nesting ([`MAX_TABLE_DEPTH`]), nodes ([`MAX_NODES`]) and the length of the text.

/// Text read so far, as paragraphs and tables.
#[derive(Debug)]
enum Block {
    Para(String),
    Table(Vec<Row>),
}

/// The cells of a row; each cell is a list of blocks.
type Row = Vec<Vec<Block>>;

enum Frame {
    Table { rows: Vec<Row>, row: Option<Row> },
    Cell(Vec<Block>),
}

/// Tables nested deeper than this are read as text of the cell around them (rendering and
/// dropping the tree recurse, so the depth must stay small).
const MAX_TABLE_DEPTH: usize = 16;

/// Most paragraphs, rows and cells kept (empty cells cost memory but no text).
const MAX_NODES: usize = 500_000;

/// Collects paragraphs, tables, rows and cells as a reader meets them, tolerating events that do
/// not nest properly, and renders them as text.
pub(super) struct Builder {
    root: Vec<Block>,
    stack: Vec<Frame>,
    para: String,
    chars: usize,
    max_chars: usize,
    nodes: usize,
    /// Tables opened beyond [`MAX_TABLE_DEPTH`] and not yet closed; their rows and cells are
    /// ignored.
    too_deep: usize,
}

impl Builder {
    pub(super) fn new(max_chars: usize) -> Self {
        Self { root: Vec::new(), stack: Vec::new(), para: String::new(), chars: 0, max_chars, nodes: 0, too_deep: 0 }
    }

    /// Whether the text limit (or the node limit) is reached: readers may stop.
    pub(super) fn is_full(&self) -> bool {
        self.chars >= self.max_chars || self.nodes >= MAX_NODES
    }

    /// Text inside the current paragraph. Control characters become spaces.
    pub(super) fn text(&mut self, text: &str) {
        for c in text.chars() {
            if self.is_full() {
                return;
            }
            self.chars += 1;
            self.para.push(if c.is_control() && c != '\t' { ' ' } else { c });
        }
    }

    pub(super) fn tab(&mut self) {
        self.text("\t");
    }

    /// Ends the current paragraph (a line break inside a paragraph does the same).
    pub(super) fn para_end(&mut self) {
        let text = std::mem::take(&mut self.para);
        if text.trim().is_empty() || self.nodes >= MAX_NODES {
            return;
        }
        self.nodes += 1;
        let block = Block::Para(text);
        match self.stack.last_mut() {
            None => self.root.push(block),
            Some(Frame::Cell(blocks)) => blocks.push(block),
            // Text inside a table but outside its cells (a caption, say): a row of its own.
            Some(Frame::Table { rows, .. }) => rows.push(vec![vec![block]]),
        }
    }

    pub(super) fn table_start(&mut self) {
        self.para_end();
        let depth = self.stack.iter().filter(|f| matches!(f, Frame::Table { .. })).count();
        if self.too_deep > 0 || depth >= MAX_TABLE_DEPTH {
            self.too_deep += 1;
            return;
        }
        self.stack.push(Frame::Table { rows: Vec::new(), row: None });
    }

    pub(super) fn row_start(&mut self) {
        if self.too_deep > 0 {
            return self.para_end();
        }
        self.row_end();
        if let Some(Frame::Table { row, .. }) = self.stack.last_mut() {
            if self.nodes < MAX_NODES {
                self.nodes += 1;
                *row = Some(Vec::new());
            }
        }
    }

    pub(super) fn cell_start(&mut self) {
        if self.too_deep > 0 {
            return self.para_end();
        }
        self.cell_end();
        if let Some(Frame::Table { row, .. }) = self.stack.last_mut() {
            if self.nodes < MAX_NODES {
                self.nodes += 1;
                row.get_or_insert_with(Vec::new);
                self.stack.push(Frame::Cell(Vec::new()));
            }
        }
    }

    pub(super) fn cell_end(&mut self) {
        self.para_end();
        if self.too_deep > 0 {
            return;
        }
        if let Some(Frame::Cell(_)) = self.stack.last() {
            let Some(Frame::Cell(cell)) = self.stack.pop() else {
                return;
            };
            if let Some(Frame::Table { row, .. }) = self.stack.last_mut() {
                row.get_or_insert_with(Vec::new).push(cell);
            }
        }
    }

    pub(super) fn row_end(&mut self) {
        self.cell_end();
        if self.too_deep > 0 {
            return;
        }
        if let Some(Frame::Table { rows, row }) = self.stack.last_mut() {
            if let Some(done) = row.take() {
                rows.push(done);
            }
        }
    }

    pub(super) fn table_end(&mut self) {
        self.row_end();
        if self.too_deep > 0 {
            self.too_deep -= 1;
            return;
        }
        if let Some(Frame::Table { .. }) = self.stack.last() {
            let Some(Frame::Table { rows, .. }) = self.stack.pop() else {
                return;
            };
            let block = Block::Table(rows);
            match self.stack.last_mut() {
                None => self.root.push(block),
                Some(Frame::Cell(blocks)) => blocks.push(block),
                Some(Frame::Table { rows, .. }) => rows.push(vec![vec![block]]),
            }
        }
    }

    pub(super) fn finish(mut self) -> String {
        self.para_end();
        self.too_deep = 0;
        while !self.stack.is_empty() {
            match self.stack.last() {
                Some(Frame::Cell(_)) => self.cell_end(),
                _ => self.table_end(),
            }
        }
        let mut out = String::new();
        render_blocks(&self.root, &mut out);
        out
    }
}

fn render_blocks(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Para(text) => push_line(out, text.trim()),
            Block::Table(rows) => {
                for row in rows {
                    render_row(row, out);
                }
            }
        }
    }
}

fn render_row(row: &Row, out: &mut String) {
    if row.len() == 1 {
        render_blocks(&row[0], out);
        return;
    }
    let mut cells: Vec<String> = Vec::new();
    for cell in row {
        let paras: Vec<String> = cell
            .iter()
            .filter_map(|block| match block {
                Block::Para(text) => Some(collapse_spaces(text)),
                Block::Table(_) => None,
            })
            .collect();
        cells.push(paras.join(" "));
        if cell.iter().any(|block| matches!(block, Block::Table(_))) {
            flush_cells(&mut cells, out);
            for block in cell {
                if let Block::Table(_) = block {
                    render_blocks(std::slice::from_ref(block), out);
                }
            }
        }
    }
    flush_cells(&mut cells, out);
}

/// Writes the cells gathered so far as one tab-separated line, without empty cells at its ends.
fn flush_cells(cells: &mut Vec<String>, out: &mut String) {
    let start = cells.iter().position(|c| !c.is_empty());
    let end = cells.iter().rposition(|c| !c.is_empty());
    if let (Some(start), Some(end)) = (start, end) {
        push_line(out, &cells[start..=end].join("\t"));
    }
    cells.clear();
}

/// Cell text on one line: tabs, line breaks and runs of spaces become one space.
fn collapse_spaces(text: &str) -> String {
    text.split([' ', '\t', '\n', '\r']).filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
}

fn push_line(out: &mut String, line: &str) {
    let line = line.trim_end();
    if !line.is_empty() {
        out.push_str(line);
        out.push('\n');
    }
}

pub(super) fn truncate_chars(mut text: String, max_chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        text.truncate(cut);
    }
    text
}

#[cfg(test)]
mod tests {
    use crate::parse::attachments::testdocs::docx_form;
    use crate::parse::attachments::{extract_text, FormKind, Limits};

    #[test]
    fn long_text_is_cut_at_the_limit() {
        let limits = Limits { max_text_chars: 10, ..Limits::default() };
        let text = extract_text(&FormKind::Docx, &docx_form(), &limits).unwrap();
        assert!(text.chars().count() <= 10, "{text:?}");
        assert!(text.starts_with("워크숍 참가"), "{text:?}");
    }
}
