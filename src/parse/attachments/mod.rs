//! Attached application forms → plain text that the field reader (`crate::parse::applicant`)
//! can read.
//!
//! Applicants often return the center's form as an attachment: HWP 5 (Hancom's binary format),
//! HWPX (zipped OWPML), DOCX, XLSX or a text PDF, and Outlook sometimes wraps the attachments
//! in a TNEF `winmail.dat`. [`kind_of`] tells which kind an attachment is, [`extract_text`] turns
//! it into text, [`unwrap_tnef`] takes the files out of a `winmail.dat` (and [`tnef_body`] its
//! plain body, when it has one).
//!
//! The text keeps the layout the field extractor relies on:
//! - a paragraph per line;
//! - a table row per line, its cells separated by a tab (`성명\t김민준`), empty cells at the ends
//!   of a row dropped; the paragraphs of one cell are joined with a space;
//! - a row with a single cell (a box drawn around a block of text) keeps its paragraphs as lines;
//! - a table nested in a cell has its rows on lines of their own, below the part of the outer row
//!   that precedes it.
//!
//! Everything here is pure (no I/O) and bounded by [`Limits`]: the input size, the total number
//! of bytes inflated (counted while inflating, so a zip bomb stops at the limit without the
//! memory being allocated), the number of zip entries, and the length of the text (longer text is
//! cut, not refused); no decompressed part larger than [`MAX_KEPT_BYTES`] is held at once.
//! Garbage gives an [`ExtractError`], never a panic; as a last line of defence the third-party
//! parsers (zip, CFB, PDF) run under `catch_unwind`.
//!
//! Formats and their readers:
//! - DOCX, HWPX, XLSX: `zip` + `quick-xml`, read here element by element.
//! - HWP 5: `cfb` for the OLE container, `flate2` for the raw-deflated `BodyText/Section*`
//!   streams, and a minimal record reader below (paragraph text and table cells; the HWP crates
//!   on crates.io inflate without limits and panic on malformed input).
//! - PDF: `lopdf` (0.47, which bounds the streams it decodes while loading) for objects, fonts
//!   and content streams; the text (of the page, of the form XObjects it draws, and of its
//!   annotations' appearances, which is where filled-in form fields are) is placed by its
//!   position on the page and read line by line; a vertical rule or a wide gap between two
//!   pieces of a line makes a tab, so that the cells of a table row come out as above. Before
//!   lopdf sees the file, every stream is inflated once here, counted and thrown away, and what
//!   loading will keep in memory is measured ([`pdf_census`]): a file whose objects would take
//!   more is [`ExtractError::TooComplex`]. Reading is budgeted too: the first
//!   [`MAX_PDF_PAGES`] pages, forms nested at most [`MAX_FORM_DEPTH`] deep and never inside
//!   themselves, at most [`MAX_PDF_FORMS`] forms, [`MAX_CONTENT_TOKENS`] tokens a content
//!   stream. An encrypted PDF is refused (even one that opens without a password): its streams
//!   cannot be measured before they are decrypted. A scanned PDF has no text and gives an empty
//!   string.
//! - TNEF: a small reader of MS-OXTNEF attributes and attachment MAPI properties.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use flate2::{Decompress, FlushDecompress, Status};
use quick_xml::events::{BytesStart, Event};

mod forms;
mod pdf_census;

pub(super) use forms::attached_form;
pub use forms::{FormReader, InProcess, NoForms, Unreadable, MAX_FORMS_READ};

/// How much an attachment may cost to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest attachment accepted, in bytes.
    pub max_input_bytes: usize,
    /// Most bytes inflated (zip entries, HWP sections, PDF streams) for one attachment, in total.
    pub max_decompressed_bytes: u64,
    /// Longest text returned, in characters; the rest is cut off.
    pub max_text_chars: usize,
    /// Most entries in a zip archive (DOCX, HWPX, XLSX), and most attachments in a TNEF file.
    pub max_zip_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 30 * 1024 * 1024,
            max_decompressed_bytes: 50 * 1024 * 1024,
            max_text_chars: 200_000,
            max_zip_entries: 2_000,
        }
    }
}

/// The kinds of attachment [`extract_text`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Docx,
    Hwpx,
    Hwp,
    Xlsx,
    Pdf,
    Text,
}

/// Why an attachment gave no text.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("the attachment is larger than the limits allow")]
    TooLarge,
    #[error("the document is password-protected or encrypted")]
    Encrypted,
    #[error("unsupported document: {0}")]
    Unsupported(String),
    #[error("the document could not be read: {0}")]
    Broken(String),
    /// Reading it would take more than the limits allow: too many objects, pages, forms or
    /// cells, nesting too deep, or a structure that refers to itself.
    #[error("the document is too complex to read: {0}")]
    TooComplex(String),
}

use ExtractError::{Broken, Encrypted, TooComplex, TooLarge, Unsupported};

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY_MAGIC: &[u8] = b"PK\x05\x06";
const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const HWP_SIGNATURE: &[u8] = b"HWP Document File";
const TNEF_SIGNATURE: u32 = 0x223E_9F78;

// ---------------------------------------------------------------------------
// Recognising the kind
// ---------------------------------------------------------------------------

/// The kind of an attachment: by its content first (a zip holding `word/document.xml`,
/// `Contents/section0.xml` or `xl/workbook.xml`; an OLE file with an HWP `FileHeader`; `%PDF`),
/// then by the file name's extension, then by the content type. `None` for anything else
/// (images, legacy `.doc`/`.xls`, archives).
#[must_use]
pub fn kind_of(filename: Option<&str>, content_type: Option<&str>, bytes: &[u8]) -> Option<FormKind> {
    kind_by_content(bytes)
        .or_else(|| filename.and_then(kind_by_extension))
        .or_else(|| content_type.and_then(kind_by_content_type))
}

fn kind_by_content(bytes: &[u8]) -> Option<FormKind> {
    if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(ZIP_EMPTY_MAGIC) {
        let names = guarded(|| {
            zip::ZipArchive::new(Cursor::new(bytes))
                .map(|zip| zip.file_names().map(normalize_zip_name).collect::<Vec<_>>())
                .map_err(|e| Broken(e.to_string()))
        })
        .ok()?;
        let has = |name: &str| names.iter().any(|n| n == name);
        return if has("word/document.xml") {
            Some(FormKind::Docx)
        } else if names.iter().any(|n| is_hwpx_section(n)) {
            Some(FormKind::Hwpx)
        } else if has("xl/workbook.xml") {
            Some(FormKind::Xlsx)
        } else {
            None
        };
    }
    if bytes.starts_with(CFB_MAGIC) {
        let is_hwp = guarded(|| {
            let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| Broken(e.to_string()))?;
            let head = read_cfb_stream(&mut cfb, "/FileHeader", 64)?;
            Ok(head.starts_with(HWP_SIGNATURE))
        });
        return is_hwp.unwrap_or(false).then_some(FormKind::Hwp);
    }
    if bytes.starts_with(HWP_SIGNATURE) {
        // HWP 3.0 and older: not an OLE file; extract_text explains that it is unsupported.
        return Some(FormKind::Hwp);
    }
    if find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some() {
        return Some(FormKind::Pdf);
    }
    None
}

fn kind_by_extension(filename: &str) -> Option<FormKind> {
    let name = filename.trim().trim_matches('"').to_ascii_lowercase();
    let (_, ext) = name.rsplit_once('.')?;
    match ext {
        "docx" | "docm" => Some(FormKind::Docx),
        "hwpx" => Some(FormKind::Hwpx),
        "hwp" => Some(FormKind::Hwp),
        "xlsx" | "xlsm" => Some(FormKind::Xlsx),
        "pdf" => Some(FormKind::Pdf),
        "txt" | "text" => Some(FormKind::Text),
        _ => None,
    }
}

fn kind_by_content_type(content_type: &str) -> Option<FormKind> {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Some(FormKind::Docx),
        "application/hwp+zip" | "application/vnd.hancom.hwpx" | "application/haansofthwpx" => Some(FormKind::Hwpx),
        "application/x-hwp" | "application/hwp" | "application/haansofthwp" | "application/vnd.hancom.hwp" => {
            Some(FormKind::Hwp)
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(FormKind::Xlsx),
        "application/pdf" | "application/x-pdf" => Some(FormKind::Pdf),
        "text/plain" => Some(FormKind::Text),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Extraction: entry point, limits, the text tree
// ---------------------------------------------------------------------------

/// The text of an attached form of the given kind; see the module docs for its layout.
pub fn extract_text(kind: &FormKind, bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(TooLarge);
    }
    let mut budget = Budget { left: limits.max_decompressed_bytes };
    if let FormKind::Text = kind {
        return Ok(truncate_chars(plain_text(bytes), limits.max_text_chars));
    }
    let mut doc = Builder::new(limits.max_text_chars);
    guarded(|| match kind {
        FormKind::Docx => docx(bytes, limits, &mut budget, &mut doc),
        FormKind::Hwpx => hwpx(bytes, limits, &mut budget, &mut doc),
        FormKind::Xlsx => xlsx(bytes, limits, &mut budget, &mut doc),
        FormKind::Hwp => hwp(bytes, limits, &mut budget, &mut doc),
        FormKind::Pdf => pdf(bytes, &mut budget, &mut doc),
        FormKind::Text => Ok(()),
    })?;
    Ok(truncate_chars(doc.finish(), limits.max_text_chars))
}

/// Runs a parser, turning a panic inside a third-party crate into [`ExtractError::Broken`].
fn guarded<T>(run: impl FnOnce() -> Result<T, ExtractError>) -> Result<T, ExtractError> {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err(Broken("the reader failed on malformed data".into())))
}

/// Most bytes of one decompressed part kept in memory at once (an XML part, an HWP section, a
/// PDF content stream or object stream); [`Limits::max_decompressed_bytes`] bounds what is
/// inflated in all, counted and mostly thrown away. A larger part is [`ExtractError::TooLarge`].
const MAX_KEPT_BYTES: usize = 16 << 20;

/// What is left of [`Limits::max_decompressed_bytes`].
struct Budget {
    left: u64,
}

impl Budget {
    fn left_usize(&self) -> usize {
        usize::try_from(self.left).unwrap_or(usize::MAX)
    }

    fn spend(&mut self, bytes: u64) -> Result<(), ExtractError> {
        self.left = self.left.checked_sub(bytes).ok_or(TooLarge)?;
        Ok(())
    }
}

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
struct Builder {
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
    fn new(max_chars: usize) -> Self {
        Self { root: Vec::new(), stack: Vec::new(), para: String::new(), chars: 0, max_chars, nodes: 0, too_deep: 0 }
    }

    /// Whether the text limit (or the node limit) is reached: readers may stop.
    fn is_full(&self) -> bool {
        self.chars >= self.max_chars || self.nodes >= MAX_NODES
    }

    /// Text inside the current paragraph. Control characters become spaces.
    fn text(&mut self, text: &str) {
        for c in text.chars() {
            if self.is_full() {
                return;
            }
            self.chars += 1;
            self.para.push(if c.is_control() && c != '\t' { ' ' } else { c });
        }
    }

    fn tab(&mut self) {
        self.text("\t");
    }

    /// Ends the current paragraph (a line break inside a paragraph does the same).
    fn para_end(&mut self) {
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

    fn table_start(&mut self) {
        self.para_end();
        let depth = self.stack.iter().filter(|f| matches!(f, Frame::Table { .. })).count();
        if self.too_deep > 0 || depth >= MAX_TABLE_DEPTH {
            self.too_deep += 1;
            return;
        }
        self.stack.push(Frame::Table { rows: Vec::new(), row: None });
    }

    fn row_start(&mut self) {
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

    fn cell_start(&mut self) {
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

    fn cell_end(&mut self) {
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

    fn row_end(&mut self) {
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

    fn table_end(&mut self) {
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

    fn finish(mut self) -> String {
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

fn truncate_chars(mut text: String, max_chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        text.truncate(cut);
    }
    text
}

// ---------------------------------------------------------------------------
// Plain text
// ---------------------------------------------------------------------------

/// A `.txt` attachment: UTF-8 or UTF-16 with a byte-order mark, UTF-8, else CP949 (EUC-KR).
fn plain_text(bytes: &[u8]) -> String {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(rest).into_owned()
    } else if bytes.starts_with(b"\xFF\xFE") {
        encoding_rs::UTF_16LE.decode(bytes).0.into_owned()
    } else if bytes.starts_with(b"\xFE\xFF") {
        encoding_rs::UTF_16BE.decode(bytes).0.into_owned()
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        text.to_owned()
    } else {
        encoding_rs::EUC_KR.decode(bytes).0.into_owned()
    };
    text.replace("\r\n", "\n").replace('\r', "\n")
}

// ---------------------------------------------------------------------------
// Zip containers
// ---------------------------------------------------------------------------

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn open_zip<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Zip<'a>, ExtractError> {
    if bytes.starts_with(CFB_MAGIC) {
        // Office wraps password-protected DOCX/XLSX in an OLE file ("EncryptedPackage").
        let encrypted = cfb::CompoundFile::open(Cursor::new(bytes)).is_ok_and(|cfb| cfb.is_stream("/EncryptedPackage"));
        return Err(if encrypted {
            Encrypted
        } else {
            Unsupported("a legacy binary (OLE) document, not a zip-based one".into())
        });
    }
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| Broken(format!("not a readable zip file: {e}")))?;
    if zip.len() > limits.max_zip_entries {
        return Err(TooLarge);
    }
    Ok(zip)
}

/// Zip entry names compared the way Office does: `/` separators, ASCII case ignored.
fn normalize_zip_name(name: &str) -> String {
    name.replace('\\', "/").trim_start_matches('/').to_ascii_lowercase()
}

fn is_hwpx_section(name: &str) -> bool {
    section_number(name).is_some()
}

/// `contents/section12.xml` → 12.
fn section_number(name: &str) -> Option<u32> {
    name.strip_prefix("contents/section")?.strip_suffix(".xml")?.parse().ok()
}

/// The entry called `name` (compared as by [`normalize_zip_name`]), inflated within the budget;
/// `None` when there is no such entry.
fn read_zip_entry(zip: &mut Zip<'_>, name: &str, budget: &mut Budget) -> Result<Option<Vec<u8>>, ExtractError> {
    let wanted = normalize_zip_name(name);
    let Some(index) = (0..zip.len()).find(|&i| zip.name_for_index(i).is_some_and(|n| normalize_zip_name(n) == wanted))
    else {
        return Ok(None);
    };
    let entry = zip.by_index(index).map_err(|e| match e.to_string() {
        msg if msg.to_ascii_lowercase().contains("password") => Encrypted,
        msg => Broken(format!("{name}: {msg}")),
    })?;
    if entry.encrypted() {
        return Err(Encrypted);
    }
    read_bounded(entry, budget).map(Some)
}

/// Reads to the end, spending the budget as bytes arrive (a declared size is never trusted);
/// more than [`MAX_KEPT_BYTES`] is [`ExtractError::TooLarge`].
fn read_bounded(mut reader: impl Read, budget: &mut Budget) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = reader.read(&mut chunk).map_err(|e| Broken(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        budget.spend(n as u64)?;
        if out.len() + n > MAX_KEPT_BYTES {
            return Err(TooLarge);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

// ---------------------------------------------------------------------------
// XML documents: DOCX and HWPX
// ---------------------------------------------------------------------------

/// What an XML element means for the text, by its local name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Para,
    Text,
    Tab,
    Break,
    Space,
    Hyphen,
    Table,
    Row,
    Cell,
    /// An element whose content is not text (properties, tab stops, fallbacks that repeat text).
    Skip,
    Other,
}

fn docx_tag(local: &[u8]) -> Tag {
    match local {
        b"p" => Tag::Para,
        b"t" => Tag::Text,
        b"tab" | b"ptab" => Tag::Tab,
        b"br" | b"cr" => Tag::Break,
        b"noBreakHyphen" | b"softHyphen" => Tag::Hyphen,
        b"tbl" => Tag::Table,
        b"tr" => Tag::Row,
        b"tc" => Tag::Cell,
        b"pPr" | b"rPr" | b"tblPr" | b"trPr" | b"tcPr" | b"tblGrid" | b"sectPr" | b"Fallback" | b"instrText"
        | b"delText" => Tag::Skip,
        _ => Tag::Other,
    }
}

fn hwpx_tag(local: &[u8]) -> Tag {
    match local {
        b"p" => Tag::Para,
        b"t" => Tag::Text,
        b"tab" => Tag::Tab,
        b"lineBreak" => Tag::Break,
        b"nbSpace" | b"fwSpace" => Tag::Space,
        b"hyphen" => Tag::Hyphen,
        b"tbl" => Tag::Table,
        b"tr" => Tag::Row,
        b"tc" => Tag::Cell,
        b"secPr" | b"linesegarray" | b"default" | b"cellAddr" | b"cellSpan" | b"cellSz" | b"cellMargin" => Tag::Skip,
        _ => Tag::Other,
    }
}

fn local_name(name: &[u8]) -> &[u8] {
    name.rsplit(|&b| b == b':').next().unwrap_or(name)
}

/// Walks an XML document, turning its elements into [`Builder`] events as `classify` says.
/// Text is taken only inside `Text` elements.
fn walk_xml(xml: &[u8], classify: fn(&[u8]) -> Tag, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut skip_depth = 0usize;
    let mut text_depth = 0usize;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| Broken(format!("bad XML: {e}")))?;
        match event {
            Event::Eof => return Ok(()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = classify(local_name(e.name().as_ref()));
                if skip_depth > 0 || tag == Tag::Skip {
                    if !empty {
                        skip_depth += 1;
                    }
                } else {
                    match tag {
                        Tag::Text if !empty => text_depth += 1,
                        Tag::Tab => doc.tab(),
                        Tag::Break => doc.para_end(),
                        Tag::Space => doc.text(" "),
                        Tag::Hyphen => doc.text("-"),
                        Tag::Table if !empty => doc.table_start(),
                        Tag::Row if !empty => doc.row_start(),
                        Tag::Cell => {
                            doc.cell_start();
                            if empty {
                                doc.cell_end();
                            }
                        }
                        _ => {}
                    }
                }
            }
            Event::End(ref e) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                match classify(local_name(e.name().as_ref())) {
                    Tag::Para => doc.para_end(),
                    Tag::Text => text_depth = text_depth.saturating_sub(1),
                    Tag::Table => doc.table_end(),
                    Tag::Row => doc.row_end(),
                    Tag::Cell => doc.cell_end(),
                    _ => {}
                }
            }
            Event::Text(ref e) if skip_depth == 0 && text_depth > 0 => {
                let text = e.xml10_content().map_err(|e| Broken(format!("bad XML text: {e}")))?;
                doc.text(&text);
            }
            Event::CData(ref e) if skip_depth == 0 && text_depth > 0 => {
                doc.text(&String::from_utf8_lossy(e));
            }
            Event::GeneralRef(ref e) if skip_depth == 0 && text_depth > 0 => {
                if let Ok(Some(c)) = e.resolve_char_ref() {
                    doc.text(c.encode_utf8(&mut [0; 4]));
                } else if let Some(text) =
                    e.decode().ok().and_then(|name| quick_xml::escape::resolve_predefined_entity(&name))
                {
                    doc.text(text);
                }
            }
            _ => {}
        }
        if doc.is_full() {
            return Ok(());
        }
        buf.clear();
    }
}

fn docx(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut zip = open_zip(bytes, limits)?;
    let part = match read_zip_entry(&mut zip, "word/document.xml", budget)? {
        Some(xml) => xml,
        None => {
            // The main part may have another name; the package relationships say which.
            let rels = read_zip_entry(&mut zip, "_rels/.rels", budget)?
                .ok_or_else(|| Broken("no word/document.xml".into()))?;
            let target = relationship_targets(&rels)
                .into_iter()
                .find(|(_, kind, _)| kind.ends_with("/officeDocument"))
                .map(|(_, _, target)| target)
                .ok_or_else(|| Broken("no main document part".into()))?;
            read_zip_entry(&mut zip, &target, budget)?
                .ok_or_else(|| Broken("the main document part is missing".into()))?
        }
    };
    walk_xml(&part, docx_tag, doc)
}

fn hwpx(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut zip = open_zip(bytes, limits)?;
    let mut sections: Vec<(u32, String)> = zip
        .file_names()
        .filter_map(|name| section_number(&normalize_zip_name(name)).map(|n| (n, name.to_owned())))
        .collect();
    if sections.is_empty() {
        return Err(Broken("no Contents/section*.xml".into()));
    }
    sections.sort();
    for (_, name) in sections {
        let xml = read_zip_entry(&mut zip, &name, budget)?.unwrap_or_default();
        walk_xml(&xml, hwpx_tag, doc)?;
        doc.para_end();
        if doc.is_full() {
            break;
        }
    }
    Ok(())
}

/// `(Id, Type, Target)` of each `Relationship` in a `.rels` part.
fn relationship_targets(xml: &[u8]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    while let Ok(event) = reader.read_event_into(&mut buf) {
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) if local_name(e.name().as_ref()) == b"Relationship" => {
                out.push((attr(e, b"Id"), attr(e, b"Type"), attr(e, b"Target")));
            }
            _ => {}
        }
        buf.clear();
    }
    out
}

/// The unescaped value of the attribute with local name `name`, or "".
fn attr(e: &BytesStart<'_>, name: &[u8]) -> String {
    e.attributes()
        .flatten()
        .find(|a| local_name(a.key.as_ref()) == name)
        .map(|a| {
            let raw = String::from_utf8_lossy(&a.value);
            quick_xml::escape::unescape(&raw).map_or_else(|_| raw.to_string(), |v| v.into_owned())
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// XLSX
// ---------------------------------------------------------------------------

/// Most empty cells inserted for a gap between two cells of a row.
const MAX_CELL_GAP: usize = 64;

fn xlsx(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    let mut zip = open_zip(bytes, limits)?;
    let shared = match read_zip_entry(&mut zip, "xl/sharedStrings.xml", budget)? {
        Some(xml) => shared_strings(&xml)?,
        None => Vec::new(),
    };
    for sheet in sheet_paths(&mut zip, budget)? {
        let Some(xml) = read_zip_entry(&mut zip, &sheet, budget)? else {
            continue;
        };
        doc.table_start();
        sheet_rows(&xml, &shared, doc)?;
        doc.table_end();
        if doc.is_full() {
            break;
        }
    }
    Ok(())
}

/// The worksheets in workbook order; without a readable workbook, `xl/worksheets/*.xml` by name.
fn sheet_paths(zip: &mut Zip<'_>, budget: &mut Budget) -> Result<Vec<String>, ExtractError> {
    let workbook = read_zip_entry(zip, "xl/workbook.xml", budget)?.unwrap_or_default();
    let rels = read_zip_entry(zip, "xl/_rels/workbook.xml.rels", budget)?.unwrap_or_default();
    let targets: HashMap<String, String> =
        relationship_targets(&rels).into_iter().map(|(id, _, target)| (id, target)).collect();
    let mut paths = Vec::new();
    let mut reader = quick_xml::Reader::from_reader(&workbook[..]);
    let mut buf = Vec::new();
    while let Ok(event) = reader.read_event_into(&mut buf) {
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) if local_name(e.name().as_ref()) == b"sheet" => {
                if let Some(target) = targets.get(&attr(e, b"id")) {
                    paths.push(match target.strip_prefix('/') {
                        Some(absolute) => absolute.to_owned(),
                        None => format!("xl/{target}"),
                    });
                }
            }
            _ => {}
        }
        buf.clear();
    }
    if paths.is_empty() {
        let mut names: Vec<(u32, String)> = zip
            .file_names()
            .filter_map(|name| {
                let n = normalize_zip_name(name);
                let number = n.strip_prefix("xl/worksheets/sheet")?.strip_suffix(".xml")?.parse().ok()?;
                Some((number, name.to_owned()))
            })
            .collect();
        names.sort();
        paths = names.into_iter().map(|(_, name)| name).collect();
    }
    Ok(paths)
}

/// The text of each `si` in `xl/sharedStrings.xml` (phonetic guides left out).
fn shared_strings(xml: &[u8]) -> Result<Vec<String>, ExtractError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut in_t, mut in_phonetic) = (false, false);
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| Broken(format!("bad XML: {e}")))? {
            Event::Eof => return Ok(out),
            Event::Start(ref e) => match local_name(e.name().as_ref()) {
                b"si" => current.clear(),
                b"t" => in_t = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(ref e) => match local_name(e.name().as_ref()) {
                b"si" => out.push(std::mem::take(&mut current)),
                b"t" => in_t = false,
                b"rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Empty(ref e) if local_name(e.name().as_ref()) == b"si" => out.push(String::new()),
            Event::Text(ref e) if in_t && !in_phonetic => current.push_str(&e.xml10_content().unwrap_or_default()),
            Event::GeneralRef(ref e) if in_t && !in_phonetic => current.push_str(&resolve_ref(e)),
            _ => {}
        }
        buf.clear();
    }
}

fn resolve_ref(e: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = e.resolve_char_ref() {
        return c.to_string();
    }
    e.decode().ok().and_then(|name| quick_xml::escape::resolve_predefined_entity(&name)).unwrap_or_default().to_owned()
}

/// `C12` → column index 2 (zero-based).
fn column_index(reference: &str) -> Option<usize> {
    let letters: Vec<u8> = reference.bytes().take_while(u8::is_ascii_alphabetic).collect();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    Some(letters.iter().fold(0usize, |acc, &b| acc * 26 + usize::from(b.to_ascii_uppercase() - b'A') + 1) - 1)
}

fn sheet_rows(xml: &[u8], shared: &[String], doc: &mut Builder) -> Result<(), ExtractError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    // The cell being read: its column, its type, and its value text.
    let mut next_col = 0usize;
    let mut cell: Option<(Option<usize>, String, String)> = None;
    let (mut in_value, mut in_phonetic) = (false, false);
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| Broken(format!("bad XML: {e}")))? {
            Event::Eof => return Ok(()),
            Event::Start(ref e) => match local_name(e.name().as_ref()) {
                b"row" => {
                    doc.row_start();
                    next_col = 0;
                }
                b"c" => cell = Some((column_index(&attr(e, b"r")), attr(e, b"t"), String::new())),
                b"v" | b"t" => in_value = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(ref e) => match local_name(e.name().as_ref()) {
                b"row" => doc.row_end(),
                b"c" => {
                    if let Some((col, kind, raw)) = cell.take() {
                        let col = col.unwrap_or(next_col);
                        for _ in next_col..col.min(next_col + MAX_CELL_GAP) {
                            doc.cell_start();
                            doc.cell_end();
                        }
                        next_col = col.max(next_col) + 1;
                        doc.cell_start();
                        doc.text(&cell_value(&kind, &raw, shared));
                        doc.cell_end();
                    }
                }
                b"v" | b"t" => in_value = false,
                b"rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Text(ref e) if in_value && !in_phonetic => {
                if let Some((_, _, raw)) = cell.as_mut() {
                    raw.push_str(&e.xml10_content().unwrap_or_default());
                }
            }
            Event::GeneralRef(ref e) if in_value && !in_phonetic => {
                if let Some((_, _, raw)) = cell.as_mut() {
                    raw.push_str(&resolve_ref(e));
                }
            }
            _ => {}
        }
        if doc.is_full() {
            return Ok(());
        }
        buf.clear();
    }
}

fn cell_value(kind: &str, raw: &str, shared: &[String]) -> String {
    match kind {
        "s" => raw.trim().parse::<usize>().ok().and_then(|i| shared.get(i)).cloned().unwrap_or_default(),
        "b" => if raw.trim() == "1" { "TRUE" } else { "FALSE" }.to_owned(),
        _ => raw.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// HWP 5 (OLE compound file with compressed record streams)
// ---------------------------------------------------------------------------

const HWPTAG_PARA_TEXT: u16 = 67;
const HWPTAG_CTRL_HEADER: u16 = 71;
const HWPTAG_LIST_HEADER: u16 = 72;
const HWPTAG_TABLE: u16 = 77;
/// The control id of a table, `MAKE_4CHID('t','b','l',' ')`.
const CTRL_TABLE: u32 = u32::from_be_bytes(*b"tbl ");
/// FileHeader property bits: compressed; password; distribution document (text encrypted);
/// DRM; certificate encryption; certificate DRM.
const HWP_COMPRESSED: u32 = 1;
const HWP_PROTECTED: u32 = 1 << 1 | 1 << 2 | 1 << 4 | 1 << 8 | 1 << 10;
/// Most `BodyText/Section*` streams read.
const MAX_HWP_SECTIONS: usize = 1000;

fn hwp(bytes: &[u8], limits: &Limits, budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    if bytes.starts_with(HWP_SIGNATURE) {
        return Err(Unsupported("an HWP 3.0 (or older) document".into()));
    }
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| Broken(format!("not an OLE file: {e}")))?;
    let header = read_cfb_stream(&mut cfb, "/FileHeader", 256)?;
    if header.len() < 40 || !header.starts_with(HWP_SIGNATURE) {
        return Err(Broken("no HWP file header".into()));
    }
    let version = u32_le(&header, 32).unwrap_or(0);
    let properties = u32_le(&header, 36).unwrap_or(0);
    if version >> 24 != 5 {
        return Err(Unsupported(format!("HWP version {}", version >> 24)));
    }
    if properties & HWP_PROTECTED != 0 {
        return Err(Encrypted);
    }
    let mut sections = 0;
    while sections < MAX_HWP_SECTIONS {
        let path = format!("/BodyText/Section{sections}");
        if !cfb.is_stream(&path) {
            break;
        }
        let raw = read_cfb_stream(&mut cfb, &path, limits.max_input_bytes)?;
        let data = if properties & HWP_COMPRESSED != 0 {
            inflate(&raw, false, budget)?
        } else {
            budget.spend(raw.len() as u64)?;
            raw
        };
        hwp_records(&data, doc);
        sections += 1;
        if doc.is_full() {
            break;
        }
    }
    if sections == 0 {
        return Err(Broken("no BodyText/Section0".into()));
    }
    Ok(())
}

fn read_cfb_stream(
    cfb: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &str,
    max: usize,
) -> Result<Vec<u8>, ExtractError> {
    let stream = cfb.open_stream(path).map_err(|e| Broken(format!("{path}: {e}")))?;
    let mut out = Vec::new();
    stream.take(max as u64).read_to_end(&mut out).map_err(|e| Broken(format!("{path}: {e}")))?;
    Ok(out)
}

fn u16_le(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Inflates zlib (`zlib_header`) or raw deflate data, spending the budget as it goes. Data that
/// ends early gives what was inflated so far.
fn inflate(data: &[u8], zlib_header: bool, budget: &mut Budget) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut over = false;
    inflate_each(data, zlib_header, budget, |chunk| {
        over |= out.len() + chunk.len() > MAX_KEPT_BYTES;
        if !over {
            out.extend_from_slice(chunk);
        }
    })?;
    if over {
        return Err(TooLarge);
    }
    Ok(out)
}

/// Inflates `data`, handing each piece of output to `sink`; returns the number of input bytes
/// used. Errors in the data end the stream quietly after what was good (`Ok`), unless nothing at
/// all could be inflated (`Broken`).
fn inflate_each(
    data: &[u8],
    zlib_header: bool,
    budget: &mut Budget,
    mut sink: impl FnMut(&[u8]),
) -> Result<usize, ExtractError> {
    let mut inflater = Decompress::new(zlib_header);
    let mut chunk = vec![0u8; 32 * 1024];
    loop {
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let input = data.get(usize::try_from(in_before).unwrap_or(usize::MAX)..).unwrap_or_default();
        let status = match inflater.decompress(input, &mut chunk, FlushDecompress::None) {
            Ok(status) => status,
            Err(e) if out_before == 0 => return Err(Broken(format!("bad compressed data: {e}"))),
            Err(_) => return Ok(in_before as usize),
        };
        let produced = (inflater.total_out() - out_before) as usize;
        budget.spend(produced as u64)?;
        sink(&chunk[..produced]);
        let stalled = produced == 0 && inflater.total_in() == in_before;
        if status == Status::StreamEnd || stalled {
            return Ok(inflater.total_in() as usize);
        }
    }
}

/// One HWP record: tag id, nesting level, data.
struct Record<'a> {
    tag: u16,
    level: u16,
    data: &'a [u8],
}

/// The records of a section stream; stops at a record that runs past the end.
fn hwp_record_iter(data: &[u8]) -> impl Iterator<Item = Record<'_>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let header = u32_le(data, pos)?;
        let mut size = (header >> 20) as usize;
        let mut start = pos + 4;
        if size == 0xFFF {
            size = u32_le(data, start)? as usize;
            start += 4;
        }
        let end = start.checked_add(size)?;
        let record = Record {
            tag: (header & 0x3FF) as u16,
            level: ((header >> 10) & 0x3FF) as u16,
            data: data.get(start..end)?,
        };
        pos = end;
        Some(record)
    })
}

/// An open table: the level of its control header, the row being filled, whether a cell is open.
struct HwpTable {
    level: u16,
    row: Option<u16>,
    in_cell: bool,
}

/// Paragraph text and table structure from the records of one section.
///
/// A table is a `tbl ` control (CTRL_HEADER at level L) followed by a TABLE record (L+1) and,
/// for each cell, a LIST_HEADER (L+1) giving the cell's row, then the cell's paragraphs (L+1 and
/// deeper). The table ends at the next record of level L or less.
fn hwp_records(data: &[u8], doc: &mut Builder) {
    let mut tables: Vec<HwpTable> = Vec::new();
    let mut table_control: Option<u16> = None;
    for record in hwp_record_iter(data) {
        while tables.last().is_some_and(|t| record.level <= t.level) {
            tables.pop();
            doc.table_end();
        }
        if table_control.is_some_and(|level| record.level <= level) {
            table_control = None;
        }
        match record.tag {
            HWPTAG_PARA_TEXT => {
                hwp_para_text(record.data, doc);
                doc.para_end();
            }
            HWPTAG_CTRL_HEADER if u32_le(record.data, 0) == Some(CTRL_TABLE) => table_control = Some(record.level),
            HWPTAG_TABLE if table_control.is_some_and(|level| record.level == level + 1) => {
                let level = table_control.take().unwrap_or_default();
                doc.table_start();
                tables.push(HwpTable { level, row: None, in_cell: false });
            }
            HWPTAG_LIST_HEADER => {
                let Some(table) = tables.last_mut().filter(|t| record.level == t.level + 1) else {
                    continue;
                };
                // Paragraph count and list properties (8 bytes), then column and row address.
                let row = u16_le(record.data, 10);
                if table.in_cell {
                    doc.cell_end();
                }
                if table.row.is_none() || row != table.row {
                    doc.row_start();
                    table.row = row.or(Some(u16::MAX));
                }
                doc.cell_start();
                table.in_cell = true;
            }
            _ => {}
        }
        if doc.is_full() {
            break;
        }
    }
    for _ in tables {
        doc.table_end();
    }
}

/// A PARA_TEXT record: UTF-16LE with control characters. Codes 0-31 are controls: most take 8
/// code units (the code, 6 units of parameters, the code again); 0, 10 (line break), 13
/// (paragraph end) and 24-31 take one. 9 is a tab, 24 a hyphen, 30 and 31 special spaces.
fn hwp_para_text(data: &[u8], doc: &mut Builder) {
    let units: Vec<u16> = data.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]])).collect();
    let mut text: Vec<u16> = Vec::new();
    let flush = |text: &mut Vec<u16>, doc: &mut Builder| {
        let decoded: String = char::decode_utf16(text.drain(..)).map(|c| c.unwrap_or('\u{FFFD}')).collect();
        doc.text(&decoded);
    };
    let mut i = 0;
    while i < units.len() {
        let unit = units[i];
        if unit >= 32 {
            text.push(unit);
            i += 1;
            continue;
        }
        flush(&mut text, doc);
        match unit {
            9 => doc.tab(),
            10 => doc.para_end(),
            24 => doc.text("-"),
            30 | 31 => doc.text(" "),
            _ => {}
        }
        i += match unit {
            0 | 10 | 13 | 24..=31 => 1,
            _ => 8,
        };
    }
    flush(&mut text, doc);
}

// ---------------------------------------------------------------------------
// PDF
// ---------------------------------------------------------------------------

/// Most filters applied in a row to one PDF stream.
const MAX_PDF_FILTERS: usize = 4;

/// Most pages read; the text of an application form is on its first few.
const MAX_PDF_PAGES: usize = 200;

/// Most form XObjects and appearance streams run for the whole document.
const MAX_PDF_FORMS: usize = 2_000;

/// Most tokens of one content stream decoded (each becomes an object in memory).
const MAX_CONTENT_TOKENS: usize = 200_000;

/// Most tokens of content streams decoded for the whole document.
const MAX_PDF_CONTENT_TOKENS: usize = 4_000_000;

/// Most objects looked up (references followed) while reading the whole document.
const MAX_PDF_LOOKUPS: usize = 2_000_000;

fn pdf(bytes: &[u8], budget: &mut Budget, doc: &mut Builder) -> Result<(), ExtractError> {
    // Readers look for the header in the first kilobyte; without one it is some other file
    // with a .pdf name (lopdf would search all of it for objects before giving up).
    if find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none() {
        return Err(Broken("no PDF header".into()));
    }
    if has_encrypt_entry(bytes) {
        return Err(Encrypted);
    }
    let mut census = pdf_census::Census::new();
    measure_pdf_streams(bytes, budget, &mut census)?;
    census.file(bytes)?;
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(budget.left_usize().min(MAX_KEPT_BYTES)),
        ..Default::default()
    };
    let document = lopdf::Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword | lopdf::Error::UnsupportedSecurityHandler(_) => {
            Encrypted
        }
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => TooLarge,
        e => Broken(format!("not a readable PDF: {e}")),
    })?;
    if document.is_encrypted() || document.was_encrypted() {
        return Err(Encrypted);
    }
    let mut walk =
        PdfWalk { document: &document, budget, forms: 0, content_tokens: 0, lookups: 0, running: Vec::new() };
    for page_id in document.page_iter().take(MAX_PDF_PAGES) {
        pdf_page(&mut walk, page_id, doc)?;
        if doc.is_full() {
            break;
        }
    }
    Ok(())
}

/// Whether a trailer names an `/Encrypt` dictionary.
fn has_encrypt_entry(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(i) = find(rest, b"/Encrypt") {
        let after = rest.get(i + 8).copied().unwrap_or(b' ');
        if !after.is_ascii_alphanumeric() {
            return true;
        }
        rest = &rest[i + 8..];
    }
    false
}

/// Inflates every stream of the file once, counting the output against the budget and keeping
/// none of it, so that lopdf is only given files whose streams fit. Images are skipped: reading
/// text never inflates them. Object and cross-reference streams, which lopdf decodes while it
/// loads, are measured for the [`pdf_census::Census`] too.
fn measure_pdf_streams(bytes: &[u8], budget: &mut Budget, census: &mut pdf_census::Census) -> Result<(), ExtractError> {
    let mut pos = 0;
    while let Some(found) = find(&bytes[pos..], b"stream") {
        let keyword = pos + found;
        // The dictionary is looked for after the end of the previous stream only, so that
        // the whole scan stays linear in the size of the file.
        let previous_end = pos;
        pos = keyword + 6;
        if bytes[..keyword].ends_with(b"end") {
            continue;
        }
        let mut start = pos;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let dict = stream_dictionary(&bytes[previous_end..keyword]);
        if contains(dict, b"/Image") {
            continue;
        }
        let filters = stream_filters(dict);
        let object_stream = contains(dict, b"/ObjStm");
        let xref_stream = contains(dict, b"/XRef");
        let (used, decoded) = decode_counted(&bytes[start..], &filters, budget, object_stream || xref_stream)?;
        if object_stream {
            census.object_stream(dict, &decoded)?;
        }
        if xref_stream {
            census.xref_stream(decoded.len())?;
        }
        pos = (start + used.max(1)).min(bytes.len());
    }
    Ok(())
}

/// The text between the `obj` keyword before a `stream` keyword and that keyword.
fn stream_dictionary(before: &[u8]) -> &[u8] {
    let window = &before[before.len().saturating_sub(16 * 1024)..];
    match rfind(window, b"obj") {
        Some(i) => &window[i..],
        None => window,
    }
}

/// The names after `/Filter`: `/FlateDecode` or `[/ASCII85Decode /FlateDecode]`. Without a
/// readable `/Filter`, Flate is assumed if the data looks like it.
fn stream_filters(dict: &[u8]) -> Vec<Vec<u8>> {
    let Some(i) = find(dict, b"/Filter") else {
        return Vec::new();
    };
    let rest = &dict[i + 7..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len())..];
    let end = if rest.first() == Some(&b'[') {
        rest.iter().position(|&b| b == b']').unwrap_or(rest.len())
    } else {
        rest.iter()
            .skip(1)
            .position(|&b| b == b'/' || b == b'>' || b.is_ascii_whitespace())
            .map_or(rest.len(), |p| p + 1)
    };
    rest[..end]
        .split(|&b| b == b'/')
        .skip(1)
        .map(|name| name.iter().take_while(|b| b.is_ascii_alphanumeric()).copied().collect())
        .take(MAX_PDF_FILTERS)
        .collect()
}

/// Decodes `data` through `filters` (as lopdf would), spending the budget on every byte
/// produced; the last step's output is counted, and kept only when `keep` says so (unfiltered
/// data is then kept as it stands, to its `endstream`). Returns how much of `data` was used (a
/// guess where the first filter is not Flate) and what was kept.
fn decode_counted(
    data: &[u8],
    filters: &[Vec<u8>],
    budget: &mut Budget,
    keep: bool,
) -> Result<(usize, Vec<u8>), ExtractError> {
    let looks_like_zlib =
        |d: &[u8]| d.len() >= 2 && d[0] & 0x0F == 8 && (u16::from(d[0]) << 8 | u16::from(d[1])) % 31 == 0;
    let filters: Vec<&[u8]> = if filters.is_empty() && looks_like_zlib(data) {
        vec![b"FlateDecode".as_slice()]
    } else {
        filters.iter().map(Vec::as_slice).collect()
    };
    if filters.is_empty() {
        let end = if keep { find(data, b"endstream").unwrap_or(data.len()) } else { 0 };
        return Ok((0, data[..end].to_vec()));
    }
    let mut input: Vec<u8> = Vec::new();
    let mut current: &[u8] = data;
    let mut used = 0;
    for (i, filter) in filters.iter().enumerate() {
        let last = i + 1 == filters.len();
        let wanted = !last || keep;
        let output: Vec<u8> = match *filter {
            b"FlateDecode" | b"Fl" => {
                let mut kept = Vec::new();
                let mut keep_chunk = |chunk: &[u8]| {
                    if wanted && kept.len() + chunk.len() <= MAX_KEPT_BYTES {
                        kept.extend_from_slice(chunk);
                    }
                };
                let consumed = match inflate_each(current, true, budget, &mut keep_chunk) {
                    Ok(consumed) => consumed,
                    // lopdf retries without the zlib header.
                    Err(Broken(_)) if current.len() > 2 => inflate_each(&current[2..], false, budget, &mut keep_chunk)
                        .or_else(|e| if matches!(e, Broken(_)) { Ok(0) } else { Err(e) })?,
                    Err(Broken(_)) => 0,
                    Err(e) => return Err(e),
                };
                if i == 0 {
                    used = consumed;
                }
                kept
            }
            b"LZWDecode" | b"LZW" => lzw_counted(current, budget, wanted)?,
            b"ASCII85Decode" | b"A85" => {
                let end = find(current, b"~>").map_or(current.len(), |e| e + 2);
                if i == 0 {
                    used = end;
                }
                // Never more than four bytes out per byte in.
                let out_len = (end as u64).saturating_mul(4);
                budget.spend(out_len)?;
                if wanted {
                    ascii85(&current[..end])
                } else {
                    Vec::new()
                }
            }
            // Filters lopdf does not decode (images, hex) cost nothing here either.
            _ => return Ok((used, Vec::new())),
        };
        input = output;
        current = &input;
    }
    Ok((used, input))
}

fn lzw_counted(data: &[u8], budget: &mut Budget, keep: bool) -> Result<Vec<u8>, ExtractError> {
    let mut decoder = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 32 * 1024];
    let mut pos = 0;
    loop {
        let result = decoder.decode_bytes(&data[pos..], &mut chunk);
        pos += result.consumed_in;
        budget.spend(result.consumed_out as u64)?;
        if keep && out.len() + result.consumed_out <= MAX_KEPT_BYTES {
            out.extend_from_slice(&chunk[..result.consumed_out]);
        }
        match result.status {
            Ok(weezl::LzwStatus::Ok) if result.consumed_in > 0 || result.consumed_out > 0 => {}
            _ => return Ok(out),
        }
    }
}

fn ascii85(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut group, mut count) = (0u32, 0);
    for &c in data {
        match c {
            b'z' if count == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group = group.wrapping_mul(85).wrapping_add(u32::from(c - b'!'));
                count += 1;
                if count == 5 {
                    out.extend_from_slice(&group.to_be_bytes());
                    (group, count) = (0, 0);
                }
            }
            b'~' => break,
            _ => {}
        }
    }
    out
}

/// A font as far as text placement needs it: how to decode its strings and how wide they are.
struct PdfFont<'a> {
    decode: FontDecode<'a>,
    /// 2 for composite (Type0) fonts, else 1.
    code_len: usize,
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
    fn decode(&self, bytes: &[u8]) -> String {
        match &self.decode {
            FontDecode::Lopdf(encoding) => encoding.bytes_to_string(bytes).unwrap_or_default(),
            FontDecode::Utf16Be => encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0.into_owned(),
            FontDecode::EucKr => encoding_rs::EUC_KR.decode_without_bom_handling(bytes).0.into_owned(),
        }
    }

    /// The advance of `bytes` in text space (before the font size and horizontal scaling),
    /// plus the count of single-byte spaces (for word spacing).
    fn advance(&self, bytes: &[u8], text: &str) -> (f64, usize) {
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

fn pdf_fonts<'a>(
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

fn deref<'a>(document: &'a lopdf::Document, object: &'a lopdf::Object) -> &'a lopdf::Object {
    deref_with_id(document, object).1
}

/// An object, the one it refers to when it is a reference, and that one's number.
fn deref_with_id<'a>(
    document: &'a lopdf::Document,
    object: &'a lopdf::Object,
) -> (Option<lopdf::ObjectId>, &'a lopdf::Object) {
    match object {
        lopdf::Object::Reference(id) => match document.get_object(*id) {
            Ok(target) => (Some(*id), target),
            Err(_) => (None, object),
        },
        _ => (None, object),
    }
}

fn number(object: &lopdf::Object) -> Option<f64> {
    match object {
        lopdf::Object::Integer(i) => Some(*i as f64),
        lopdf::Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

/// A 2-D affine matrix `[a b c d e f]` as PDF writes it (row vectors: p' = p × M).
#[derive(Clone, Copy)]
struct Matrix([f64; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn translate(x: f64, y: f64) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, x, y])
    }

    /// `self × other`: `self` applied first.
    fn then(self, other: Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = other.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn origin(self) -> (f64, f64) {
        (self.0[4], self.0[5])
    }

    /// How much the matrix scales a vertical length.
    fn vertical_scale(self) -> f64 {
        self.0[2].hypot(self.0[3])
    }
}

/// A piece of text placed on the page: baseline start, end, size, text.
struct Fragment {
    x: f64,
    y: f64,
    end: f64,
    size: f64,
    text: String,
}

/// The text state of a content stream while it is read.
struct TextState {
    ctm: Matrix,
    saved: Vec<Matrix>,
    tm: Matrix,
    line: Matrix,
    font: Option<Vec<u8>>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    scale: f64,
    leading: f64,
}

/// Most nested `q` operators followed.
const MAX_GRAPHICS_DEPTH: usize = 64;

/// The resource dictionaries in force for a content stream, innermost first.
#[derive(Clone)]
struct Resources<'a> {
    dicts: Vec<&'a lopdf::Dictionary>,
}

/// Most font resources read for one content stream.
const MAX_FONTS: usize = 256;

/// Most glyph widths kept for the fonts of one content stream (a CID font's `/W` can give one
/// width to 65,536 codes in three tokens).
const MAX_WIDTHS: usize = 100_000;

impl<'a> Resources<'a> {
    /// The page's resources, then those of its ancestors in the page tree (inherited).
    fn of_page(document: &'a lopdf::Document, page_id: lopdf::ObjectId) -> Self {
        let mut dicts = Vec::new();
        let mut node = document.get_dictionary(page_id).ok();
        for _ in 0..32 {
            let Some(current) = node else { break };
            dicts.extend(document.get_dict_in_dict(current, b"Resources").ok());
            node = document.get_dict_in_dict(current, b"Parent").ok();
        }
        Resources { dicts }
    }

    /// The resources of a form XObject or appearance stream, falling back on `outer`.
    fn of_stream(document: &'a lopdf::Document, stream: &'a lopdf::Stream, outer: &Resources<'a>) -> Self {
        let mut dicts: Vec<&lopdf::Dictionary> =
            document.get_dict_in_dict(&stream.dict, b"Resources").into_iter().collect();
        dicts.extend(outer.dicts.iter().copied());
        dicts.truncate(MAX_FORM_DEPTH + 32);
        Resources { dicts }
    }

    /// The font dictionaries by resource name (innermost wins), cloned so that /Encoding can
    /// be dropped where a /ToUnicode map exists: lopdf reads /Encoding first, and the
    /// ToUnicode map is the one to trust (LibreOffice, for one, labels subset fonts of Hangul
    /// glyphs WinAnsiEncoding). At most [`MAX_FONTS`].
    fn fonts(&self, document: &'a lopdf::Document) -> BTreeMap<Vec<u8>, lopdf::Dictionary> {
        let mut fonts = BTreeMap::new();
        for dict in self.dicts.iter().rev() {
            let Ok(entries) = document.get_dict_in_dict(dict, b"Font") else {
                continue;
            };
            for (name, font) in entries.iter().take(MAX_FONTS) {
                let Ok(font) = deref(document, font).as_dict() else {
                    continue;
                };
                let mut font = font.clone();
                if font.has(b"ToUnicode") {
                    font.remove(b"Encoding");
                }
                fonts.insert(name.clone(), font);
            }
        }
        while fonts.len() > MAX_FONTS {
            fonts.pop_last();
        }
        fonts
    }

    /// The form XObject called `name`, with its object number.
    fn xobject(
        &self,
        document: &'a lopdf::Document,
        name: &[u8],
    ) -> Option<(Option<lopdf::ObjectId>, &'a lopdf::Stream)> {
        let object =
            self.dicts.iter().find_map(|dict| document.get_dict_in_dict(dict, b"XObject").ok()?.get(name).ok())?;
        let (id, object) = deref_with_id(document, object);
        let stream = object.as_stream().ok()?;
        (stream.dict.get(b"Subtype").and_then(lopdf::Object::as_name).ok() == Some(b"Form".as_slice()))
            .then_some((id, stream))
    }
}

/// Text and vertical rules gathered from a page: its content, the form XObjects it draws, and
/// the appearances of its annotations (filled-in form fields).
#[derive(Default)]
struct PageMarks {
    fragments: Vec<Fragment>,
    rules: Vec<Rule>,
}

/// Most levels of form XObjects followed (a form drawing a form ...); deeper is an error.
const MAX_FORM_DEPTH: usize = 12;

/// Reading one document, and what it may still cost: the decompression budget, and counts of
/// the forms run, content tokens decoded and objects looked up, each with a limit that ends the
/// reading with [`ExtractError::TooComplex`].
struct PdfWalk<'a> {
    document: &'a lopdf::Document,
    budget: &'a mut Budget,
    forms: usize,
    content_tokens: usize,
    lookups: usize,
    /// The forms being run, outermost first: meeting one of them again is a cycle.
    running: Vec<lopdf::ObjectId>,
}

impl PdfWalk<'_> {
    fn look_up(&mut self, count: usize) -> Result<(), ExtractError> {
        self.lookups += count;
        if self.lookups > MAX_PDF_LOOKUPS {
            return Err(TooComplex(format!("reading it looks up more than {MAX_PDF_LOOKUPS} objects")));
        }
        Ok(())
    }

    /// Spends the budget on a decoded content stream and checks what decoding it will keep.
    fn content(&mut self, content: &[u8]) -> Result<(), ExtractError> {
        self.budget.spend(content.len() as u64)?;
        let tokens = pdf_census::tokens(content, MAX_CONTENT_TOKENS);
        if tokens > MAX_CONTENT_TOKENS {
            return Err(TooComplex(format!("a content stream has more than {MAX_CONTENT_TOKENS} tokens")));
        }
        self.content_tokens += tokens;
        if self.content_tokens > MAX_PDF_CONTENT_TOKENS {
            return Err(TooComplex(format!("its content streams have more than {MAX_PDF_CONTENT_TOKENS} tokens")));
        }
        Ok(())
    }

    /// What one stream decoded by lopdf may be: what is left of the decompression budget, and
    /// no more than is kept at once.
    fn left(&self) -> usize {
        self.budget.left_usize().min(MAX_KEPT_BYTES)
    }
}

fn pdf_page(walk: &mut PdfWalk<'_>, page_id: lopdf::ObjectId, doc: &mut Builder) -> Result<(), ExtractError> {
    let document = walk.document;
    let resources = Resources::of_page(document, page_id);
    let mut marks = PageMarks::default();
    match document.get_page_content_with_limit(page_id, walk.left()) {
        Ok(content) => {
            walk.content(&content)?;
            run_content(walk, &content, &resources, Matrix::IDENTITY, 0, &mut marks)?;
        }
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => return Err(TooLarge),
        Err(_) => {}
    }
    let annotations = document.get_page_annotations(page_id).unwrap_or_default();
    walk.look_up(annotations.len())?;
    for annotation in annotations {
        annotation_marks(walk, annotation, &resources, &mut marks)?;
    }
    page_lines(marks.fragments, marks.rules, doc);
    Ok(())
}

/// Runs a form XObject or an appearance stream (object `id`) with `ctm` as its coordinate
/// system.
fn run_form(
    walk: &mut PdfWalk<'_>,
    (id, form): (Option<lopdf::ObjectId>, &lopdf::Stream),
    outer: &Resources<'_>,
    ctm: Matrix,
    depth: usize,
    marks: &mut PageMarks,
) -> Result<(), ExtractError> {
    if depth > MAX_FORM_DEPTH {
        return Err(TooComplex(format!("form XObjects are nested more than {MAX_FORM_DEPTH} deep")));
    }
    if let Some(id) = id {
        if walk.running.contains(&id) {
            return Err(TooComplex(format!("form XObject {} draws itself", id.0)));
        }
    }
    walk.forms += 1;
    if walk.forms > MAX_PDF_FORMS {
        return Err(TooComplex(format!("it draws more than {MAX_PDF_FORMS} form XObjects")));
    }
    let content = match form.get_plain_content_with_limit(walk.left()) {
        Ok(content) => content,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => return Err(TooLarge),
        Err(_) => return Ok(()),
    };
    walk.content(&content)?;
    let resources = Resources::of_stream(walk.document, form, outer);
    walk.running.extend(id);
    let result = run_content(walk, &content, &resources, ctm, depth, marks);
    if id.is_some() {
        walk.running.pop();
    }
    result
}

/// Reads a content stream: text placed by the text and graphics state, and vertical lines.
fn run_content(
    walk: &mut PdfWalk<'_>,
    content: &[u8],
    resources: &Resources<'_>,
    ctm: Matrix,
    depth: usize,
    marks: &mut PageMarks,
) -> Result<(), ExtractError> {
    use lopdf::Object;
    let document = walk.document;
    let fonts = resources.fonts(document);
    walk.look_up(fonts.len())?;
    let fonts = pdf_fonts(document, &fonts);
    let Ok(content) = lopdf::content::Content::decode(content) else {
        return Ok(());
    };
    let mut state = TextState {
        ctm,
        saved: Vec::new(),
        tm: Matrix::IDENTITY,
        line: Matrix::IDENTITY,
        font: None,
        size: 0.0,
        char_spacing: 0.0,
        word_spacing: 0.0,
        scale: 1.0,
        leading: 0.0,
    };
    let mut point = (0.0, 0.0);
    let num = |operands: &[Object], i: usize| operands.get(i).and_then(number).unwrap_or(0.0);
    for op in &content.operations {
        let operands = &op.operands[..];
        match op.operator.as_str() {
            "m" => point = (num(operands, 0), num(operands, 1)),
            "l" => {
                let to = (num(operands, 0), num(operands, 1));
                add_rule(&mut marks.rules, state.ctm, point, to);
                point = to;
            }
            "re" => {
                let (x, y, w, h) = (num(operands, 0), num(operands, 1), num(operands, 2), num(operands, 3));
                add_rule(&mut marks.rules, state.ctm, (x, y), (x, y + h));
                add_rule(&mut marks.rules, state.ctm, (x + w, y), (x + w, y + h));
            }
            "q" if state.saved.len() < MAX_GRAPHICS_DEPTH => state.saved.push(state.ctm),
            "Q" => state.ctm = state.saved.pop().unwrap_or(state.ctm),
            "cm" => {
                let m = Matrix([0, 1, 2, 3, 4, 5].map(|i| num(operands, i)));
                state.ctm = m.then(state.ctm);
            }
            "BT" => {
                state.tm = Matrix::IDENTITY;
                state.line = Matrix::IDENTITY;
            }
            "Tf" => {
                state.font = operands.first().and_then(|o| o.as_name().ok()).map(<[u8]>::to_vec);
                state.size = num(operands, 1);
            }
            "Tc" => state.char_spacing = num(operands, 0),
            "Tw" => state.word_spacing = num(operands, 0),
            "Tz" => state.scale = num(operands, 0) / 100.0,
            "TL" => state.leading = num(operands, 0),
            "Td" | "TD" => {
                if op.operator == "TD" {
                    state.leading = -num(operands, 1);
                }
                state.line = Matrix::translate(num(operands, 0), num(operands, 1)).then(state.line);
                state.tm = state.line;
            }
            "Tm" => {
                state.line = Matrix([0, 1, 2, 3, 4, 5].map(|i| num(operands, i)));
                state.tm = state.line;
            }
            "T*" => next_line(&mut state),
            "Do" => {
                walk.look_up(1)?;
                let Some(form) =
                    operands.first().and_then(|o| o.as_name().ok()).and_then(|name| resources.xobject(document, name))
                else {
                    continue;
                };
                let matrix = matrix_of(document, &form.1.dict, b"Matrix").unwrap_or(Matrix::IDENTITY);
                run_form(walk, form, resources, matrix.then(state.ctm), depth + 1, marks)?;
            }
            "Tj" | "'" | "\"" | "TJ" => {
                if op.operator == "'" || op.operator == "\"" {
                    if op.operator == "\"" {
                        state.word_spacing = num(operands, 0);
                        state.char_spacing = num(operands, 1);
                    }
                    next_line(&mut state);
                }
                let font = state.font.as_ref().and_then(|name| fonts.get(name));
                let Some(font) = font else { continue };
                let parts: Vec<&Object> = match op.operator.as_str() {
                    "TJ" => {
                        operands.first().and_then(|o| o.as_array().ok()).map(|a| a.iter().collect()).unwrap_or_default()
                    }
                    "\"" => operands.get(2).into_iter().collect(),
                    _ => operands.first().into_iter().collect(),
                };
                show_text(&parts, font, &mut state, &mut marks.fragments);
            }
            _ => {}
        }
    }
    Ok(())
}

/// An annotation's normal appearance, placed in its rectangle; for a form field without one,
/// its value (`/V`) written at the left of its rectangle. Hidden annotations, links and
/// pop-ups are skipped.
fn annotation_marks(
    walk: &mut PdfWalk<'_>,
    annotation: &lopdf::Dictionary,
    resources: &Resources<'_>,
    marks: &mut PageMarks,
) -> Result<(), ExtractError> {
    use lopdf::Object;
    let document = walk.document;
    let subtype = annotation.get(b"Subtype").and_then(Object::as_name).unwrap_or_default();
    let hidden = annotation.get(b"F").and_then(Object::as_i64).unwrap_or(0) & 2 != 0;
    if hidden || matches!(subtype, b"Link" | b"Popup") {
        return Ok(());
    }
    let Some(rect) = rectangle(document, annotation, b"Rect") else {
        return Ok(());
    };
    let normal = document
        .get_dict_in_dict(annotation, b"AP")
        .ok()
        .and_then(|ap| ap.get(b"N").ok())
        .map(|n| deref_with_id(document, n));
    let appearance = match normal {
        Some((id, Object::Stream(stream))) => Some((id, stream)),
        Some((_, Object::Dictionary(states))) => annotation
            .get(b"AS")
            .and_then(Object::as_name)
            .ok()
            .and_then(|state| states.get(state).ok())
            .map(|s| deref_with_id(document, s))
            .and_then(|(id, s)| Some((id, s.as_stream().ok()?))),
        _ => None,
    };
    if let Some((id, stream)) = appearance {
        // Map the appearance's bounding box (after its /Matrix) onto the rectangle.
        let matrix = matrix_of(document, &stream.dict, b"Matrix").unwrap_or(Matrix::IDENTITY);
        let [bx0, by0, bx1, by1] =
            rectangle(document, &stream.dict, b"BBox").unwrap_or([0.0, 0.0, rect[2] - rect[0], rect[3] - rect[1]]);
        let corners = [(bx0, by0), (bx1, by0), (bx0, by1), (bx1, by1)]
            .map(|(x, y)| Matrix::translate(x, y).then(matrix).origin());
        let min_x = corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
        let max_x = corners.iter().map(|c| c.0).fold(f64::NEG_INFINITY, f64::max);
        let min_y = corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
        let max_y = corners.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
        let ratio = |to: f64, from: f64| if from.abs() > 1e-6 { to / from } else { 1.0 };
        let fit = Matrix::translate(-min_x, -min_y)
            .then(Matrix([
                ratio(rect[2] - rect[0], max_x - min_x),
                0.0,
                0.0,
                ratio(rect[3] - rect[1], max_y - min_y),
                0.0,
                0.0,
            ]))
            .then(Matrix::translate(rect[0], rect[1]));
        return run_form(walk, (id, stream), resources, matrix.then(fit), 1, marks);
    }
    let value = field_value(document, annotation)
        .or_else(|| annotation.get(b"Contents").ok().and_then(|v| lopdf::decode_text_string(v).ok()));
    if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
        let size = default_font_size(annotation).unwrap_or(10.0);
        let text = value.replace(['\r', '\n'], " ");
        let width = text.chars().map(|c| if (c as u32) < 0x1100 { 0.5 } else { 1.0 }).sum::<f64>() * size;
        marks.fragments.push(Fragment {
            x: rect[0] + 2.0,
            y: rect[1] + (rect[3] - rect[1] - size).max(0.0) / 2.0,
            end: rect[0] + 2.0 + width,
            size,
            text,
        });
    }
    Ok(())
}

/// A form field's text value, looked up through its /Parent chain.
fn field_value(document: &lopdf::Document, field: &lopdf::Dictionary) -> Option<String> {
    let mut node = field;
    for _ in 0..16 {
        if let Ok(value) = node.get(b"V") {
            let value = deref(document, value);
            return matches!(value, lopdf::Object::String(..)).then(|| lopdf::decode_text_string(value).ok()).flatten();
        }
        node = document.get_dict_in_dict(node, b"Parent").ok()?;
    }
    None
}

/// The font size in a field's default appearance string (`/DA (/Helv 10 Tf 0 g)`).
fn default_font_size(field: &lopdf::Dictionary) -> Option<f64> {
    let da = field.get(b"DA").and_then(lopdf::Object::as_str).ok()?;
    let da = String::from_utf8_lossy(da);
    let words: Vec<&str> = da.split_whitespace().collect();
    let tf = words.iter().position(|w| *w == "Tf")?;
    words.get(tf.checked_sub(1)?)?.parse().ok().filter(|size: &f64| *size > 0.0)
}

/// A `[x0 y0 x1 y1]` entry, normalised so that x0 ≤ x1 and y0 ≤ y1.
fn rectangle(document: &lopdf::Document, dict: &lopdf::Dictionary, key: &[u8]) -> Option<[f64; 4]> {
    let array = deref(document, dict.get(key).ok()?).as_array().ok()?;
    let n: Vec<f64> = array.iter().filter_map(|o| number(deref(document, o))).collect();
    let [x0, y0, x1, y1] = n[..] else { return None };
    Some([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)])
}

fn matrix_of(document: &lopdf::Document, dict: &lopdf::Dictionary, key: &[u8]) -> Option<Matrix> {
    let array = deref(document, dict.get(key).ok()?).as_array().ok()?;
    let n: Vec<f64> = array.iter().filter_map(|o| number(deref(document, o))).collect();
    let [a, b, c, d, e, f] = n[..] else {
        return None;
    };
    Some(Matrix([a, b, c, d, e, f]))
}

/// A vertical line on the page (a table border, or the side of a cell's rectangle).
struct Rule {
    x: f64,
    bottom: f64,
    top: f64,
}

/// Most rules kept for one page.
const MAX_RULES: usize = 5_000;

/// Most pieces of text placed on one page.
const MAX_FRAGMENTS: usize = 100_000;

/// Keeps the segment `from`–`to` (user space) if it is vertical on the page.
fn add_rule(rules: &mut Vec<Rule>, ctm: Matrix, from: (f64, f64), to: (f64, f64)) {
    let place = |(x, y): (f64, f64)| Matrix::translate(x, y).then(ctm).origin();
    let ((x0, y0), (x1, y1)) = (place(from), place(to));
    if rules.len() < MAX_RULES && (x0 - x1).abs() < 1.0 && (y0 - y1).abs() >= 1.0 && x0.is_finite() {
        rules.push(Rule { x: (x0 + x1) / 2.0, bottom: y0.min(y1), top: y0.max(y1) });
    }
}

fn next_line(state: &mut TextState) {
    state.line = Matrix::translate(0.0, -state.leading).then(state.line);
    state.tm = state.line;
}

/// Places the strings of a `Tj`/`TJ` and advances the text matrix past them.
fn show_text(parts: &[&lopdf::Object], font: &PdfFont<'_>, state: &mut TextState, fragments: &mut Vec<Fragment>) {
    for part in parts {
        match part {
            lopdf::Object::String(bytes, _) => {
                let text = font.decode(bytes);
                let start = state.tm.then(state.ctm);
                let (width, spaces) = font.advance(bytes, &text);
                let codes = bytes.len().div_ceil(font.code_len) as f64;
                let advance = (width * state.size + state.char_spacing * codes + state.word_spacing * spaces as f64)
                    * state.scale;
                state.tm = Matrix::translate(advance, 0.0).then(state.tm);
                let end = state.tm.then(state.ctm);
                let (x, y) = start.origin();
                let size = (state.size * start.vertical_scale()).abs().max(0.1);
                if !text.is_empty() && fragments.len() < MAX_FRAGMENTS {
                    fragments.push(Fragment { x, y, end: end.origin().0, size, text });
                }
            }
            other => {
                if let Some(adjust) = number(other) {
                    let advance = -adjust / 1000.0 * state.size * state.scale;
                    state.tm = Matrix::translate(advance, 0.0).then(state.tm);
                }
            }
        }
    }
}

/// Groups the fragments of a page into lines by baseline and joins each line left to right. A
/// vertical rule between two fragments, or a gap of 0.4 em or more, is a tab (a new cell, or a
/// label and its value): text on a line shows spaces as glyphs, and cells leave wider gaps. A
/// smaller gap is a space.
fn page_lines(mut fragments: Vec<Fragment>, mut rules: Vec<Rule>, doc: &mut Builder) {
    rules.retain(|rule| rule.x.is_finite() && rule.bottom.is_finite() && rule.top.is_finite());
    rules.sort_by(|a, b| a.x.total_cmp(&b.x));
    fragments.retain(|f| f.x.is_finite() && f.y.is_finite() && f.end.is_finite());
    fragments.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<Vec<Fragment>> = Vec::new();
    for fragment in fragments {
        match lines.last_mut() {
            Some(line) if (line[0].y - fragment.y).abs() <= 0.4 * line[0].size.max(fragment.size) => {
                line.push(fragment)
            }
            _ => lines.push(vec![fragment]),
        }
    }
    doc.table_start();
    for mut line in lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
        doc.row_start();
        let mut cell = String::new();
        let mut previous: Option<(f64, f64)> = None;
        for fragment in line {
            if let Some((end, size)) = previous {
                let gap = fragment.x - end;
                let em = size.max(fragment.size);
                let first = rules.partition_point(|rule| rule.x <= end - 1.0);
                let ruled = rules[first..]
                    .iter()
                    .take_while(|rule| rule.x < fragment.x + 1.0)
                    .any(|rule| rule.bottom < fragment.y + 0.6 * em && rule.top > fragment.y);
                if ruled || gap >= 0.4 * em {
                    cell_text(doc, &cell);
                    cell.clear();
                } else if gap > 0.15 * em && !cell.ends_with(' ') && !fragment.text.starts_with(' ') {
                    cell.push(' ');
                }
            }
            cell.push_str(&fragment.text);
            previous = Some((fragment.end.max(fragment.x), fragment.size));
        }
        cell_text(doc, &cell);
        doc.row_end();
    }
    doc.table_end();
}

fn cell_text(doc: &mut Builder, text: &str) {
    doc.cell_start();
    doc.text(text);
    doc.cell_end();
}

// ---------------------------------------------------------------------------
// TNEF (winmail.dat)
// ---------------------------------------------------------------------------

const LVL_MESSAGE: u8 = 1;
const LVL_ATTACHMENT: u8 = 2;
// Attribute ids (low 16 bits of the attribute tag).
const ATT_BODY: u32 = 0x800C;
const ATT_ATTACH_DATA: u32 = 0x800F;
const ATT_ATTACH_TITLE: u32 = 0x8010;
const ATT_MSG_PROPS: u32 = 0x9003;
const ATT_ATTACH_REND_DATA: u32 = 0x9002;
const ATT_ATTACHMENT: u32 = 0x9005;
const ATT_OEM_CODEPAGE: u32 = 0x9007;
// MAPI property ids and types.
const PR_BODY: u16 = 0x1000;
const PR_ATTACH_DATA_BIN: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PR_DISPLAY_NAME: u16 = 0x3001;
const PT_STRING8: u16 = 0x001E;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;
const MV_FLAG: u16 = 0x1000;

#[derive(Default)]
struct TnefAttachment {
    title: Option<String>,
    long_name: Option<String>,
    data: Option<Vec<u8>>,
}

#[derive(Default)]
struct Tnef {
    attachments: Vec<TnefAttachment>,
    body: Option<String>,
}

/// The files inside an Outlook TNEF attachment (`winmail.dat`, `application/ms-tnef`), as
/// (file name, bytes). The name is the attachment's long file name when the TNEF carries one,
/// else its title; any path is removed. Attachments without data (embedded messages, OLE
/// objects) are left out.
pub fn unwrap_tnef(bytes: &[u8], limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, ExtractError> {
    let tnef = read_tnef(bytes, limits)?;
    Ok(tnef
        .attachments
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let data = a.data?;
            let name = a.long_name.or(a.title).map(|n| base_name(&n)).filter(|n| !n.is_empty());
            Some((name.unwrap_or_else(|| format!("attachment-{}", i + 1)), data))
        })
        .collect())
}

/// The plain-text body of a TNEF message, when it carries one (`attBody` or `PR_BODY`). Outlook
/// usually sends only an RTF body, which is not read here. (Nothing reads TNEF bodies yet: the
/// mail's own text body comes first; the unit tests keep the reader honest.)
#[cfg(test)]
#[must_use]
pub fn tnef_body(bytes: &[u8], limits: &Limits) -> Option<String> {
    read_tnef(bytes, limits).ok()?.body.filter(|b| !b.trim().is_empty())
}

fn base_name(name: &str) -> String {
    let name = name.trim_end_matches('\0');
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim().to_owned()
}

fn read_tnef(bytes: &[u8], limits: &Limits) -> Result<Tnef, ExtractError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(TooLarge);
    }
    if u32_le(bytes, 0) != Some(TNEF_SIGNATURE) {
        return Err(Broken("not a TNEF file".into()));
    }
    let mut tnef = Tnef::default();
    let mut codepage: &'static encoding_rs::Encoding = encoding_rs::WINDOWS_1252;
    let mut pos = 6; // signature, legacy key
    while pos < bytes.len() {
        let (Some(&level), Some(tag), Some(len)) = (bytes.get(pos), u32_le(bytes, pos + 1), u32_le(bytes, pos + 5))
        else {
            return Err(Broken("truncated TNEF attribute".into()));
        };
        let start = pos + 9;
        let data = start
            .checked_add(len as usize)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| Broken("truncated TNEF attribute".into()))?;
        pos = start + data.len() + 2; // checksum
        let id = tag & 0xFFFF;
        match (level, id) {
            (LVL_MESSAGE, ATT_OEM_CODEPAGE) => codepage = windows_codepage(u32_le(data, 0).unwrap_or(0)),
            (LVL_MESSAGE, ATT_BODY) => tnef.body = Some(decode_string8(data, codepage)),
            (LVL_MESSAGE, ATT_MSG_PROPS) => {
                for prop in mapi_properties(data, codepage) {
                    if let (PR_BODY, MapiValue::Text(text)) = (prop.id, prop.value) {
                        tnef.body.get_or_insert(text);
                    }
                }
            }
            (LVL_ATTACHMENT, ATT_ATTACH_REND_DATA) => {
                if tnef.attachments.len() >= limits.max_zip_entries {
                    return Err(TooLarge);
                }
                tnef.attachments.push(TnefAttachment::default());
            }
            (LVL_ATTACHMENT, _) => {
                if tnef.attachments.is_empty() {
                    tnef.attachments.push(TnefAttachment::default());
                }
                let Some(current) = tnef.attachments.last_mut() else {
                    continue;
                };
                match id {
                    ATT_ATTACH_TITLE => current.title = Some(decode_string8(data, codepage)),
                    ATT_ATTACH_DATA => current.data = Some(data.to_vec()),
                    ATT_ATTACHMENT => {
                        for prop in mapi_properties(data, codepage) {
                            match (prop.id, prop.value) {
                                (PR_ATTACH_LONG_FILENAME, MapiValue::Text(name)) => current.long_name = Some(name),
                                (PR_ATTACH_FILENAME | PR_DISPLAY_NAME, MapiValue::Text(name))
                                    if current.title.is_none() =>
                                {
                                    current.title = Some(name);
                                }
                                (PR_ATTACH_DATA_BIN, MapiValue::Binary(data)) if current.data.is_none() => {
                                    current.data = Some(data)
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok(tnef)
}

fn windows_codepage(codepage: u32) -> &'static encoding_rs::Encoding {
    match codepage {
        949 | 51949 => encoding_rs::EUC_KR,
        932 => encoding_rs::SHIFT_JIS,
        936 => encoding_rs::GBK,
        950 => encoding_rs::BIG5,
        65001 => encoding_rs::UTF_8,
        1250..=1258 => encoding_rs::Encoding::for_label(format!("windows-{codepage}").as_bytes())
            .unwrap_or(encoding_rs::WINDOWS_1252),
        _ => encoding_rs::WINDOWS_1252,
    }
}

fn decode_string8(data: &[u8], codepage: &'static encoding_rs::Encoding) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    codepage.decode_without_bom_handling(&data[..end]).0.into_owned()
}

enum MapiValue {
    Text(String),
    Binary(Vec<u8>),
    Other,
}

struct MapiProperty {
    id: u16,
    value: MapiValue,
}

/// The properties of an `attMsgProps`/`attAttachment` block (MS-OXTNEF 2.1.3.4); reading stops
/// at the first property it cannot size.
fn mapi_properties(data: &[u8], codepage: &'static encoding_rs::Encoding) -> Vec<MapiProperty> {
    let mut out = Vec::new();
    let Some(count) = u32_le(data, 0) else {
        return out;
    };
    let mut pos = 4;
    let padded = |n: usize| n.div_ceil(4) * 4;
    for _ in 0..count.min(10_000) {
        let (Some(kind), Some(id)) = (u16_le(data, pos), u16_le(data, pos + 2)) else {
            break;
        };
        pos += 4;
        if id >= 0x8000 {
            // Named property: GUID, kind, then a number or a name.
            let Some(name_kind) = u32_le(data, pos + 16) else {
                break;
            };
            pos += 20;
            if name_kind == 0 {
                pos += 4;
            } else {
                let Some(len) = u32_le(data, pos) else { break };
                pos = pos.saturating_add(4).saturating_add(padded(len as usize));
            }
        }
        let multi = kind & MV_FLAG != 0;
        let base = kind & !MV_FLAG;
        let values = if multi || matches!(base, PT_STRING8 | PT_UNICODE | PT_BINARY | 0x000D) {
            let Some(n) = u32_le(data, pos) else { break };
            pos += 4;
            n
        } else {
            1
        };
        let fixed = match base {
            0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => Some(4),
            0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
            0x0048 => Some(16),
            PT_STRING8 | PT_UNICODE | PT_BINARY | 0x000D => None,
            _ => break,
        };
        let mut value = MapiValue::Other;
        for _ in 0..values.min(10_000) {
            match fixed {
                Some(size) => pos = pos.saturating_add(size),
                None => {
                    let Some(len) = u32_le(data, pos) else {
                        return out;
                    };
                    let start = pos + 4;
                    let Some(bytes) = start.checked_add(len as usize).and_then(|end| data.get(start..end)) else {
                        return out;
                    };
                    if matches!(value, MapiValue::Other) {
                        value = match base {
                            PT_STRING8 => MapiValue::Text(decode_string8(bytes, codepage)),
                            PT_UNICODE => MapiValue::Text(
                                encoding_rs::UTF_16LE
                                    .decode_without_bom_handling(bytes)
                                    .0
                                    .trim_end_matches('\0')
                                    .to_owned(),
                            ),
                            _ => MapiValue::Binary(bytes.to_vec()),
                        };
                    }
                    pos = start.saturating_add(padded(len as usize));
                }
            }
        }
        out.push(MapiProperty { id, value });
    }
    out
}

// ---------------------------------------------------------------------------
// Listing every attachment
// ---------------------------------------------------------------------------

/// One attachment of a message, as staff see it listed with the application. Its bytes are not
/// kept here: the raw message is stored whole, so they can always be taken from it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name, decoded (RFC 2047 encoded words and RFC 2231 parameters by mail-parser,
    /// raw 8-bit EUC-KR here), without any directory part or control characters;
    /// `attachment-N` (`.eml` for a message) when the sender gave none.
    pub name: String,
    /// The declared MIME type, lower-cased, without parameters; for a file inside a
    /// `winmail.dat`, which declares none, guessed from the extension.
    pub content_type: String,
    /// Bytes of the decoded content (after base64 or quoted-printable).
    pub size: u64,
    /// SHA-256 of the decoded content, hex.
    pub sha256: String,
    /// The attachment this one was found in: a `winmail.dat`, or a message attached as
    /// `message/rfc822` (a forward); `None` for the message's own attachments.
    pub within: Option<String>,
}

/// Most attachments listed for one message (the MIME part cap in `limits.rs` comes first).
const MAX_LISTED: usize = 1_000;

/// Every attachment of `message`: each part mail-parser counts as one (including inline images
/// and attached text files), then the files inside an Outlook `winmail.dat` and the attachments
/// of a message attached as `message/rfc822` — one level down, as deep as the applicant's
/// fields are read. The containers are listed themselves too, before what they hold.
#[must_use]
pub fn list(message: &mail_parser::Message<'_>, limits: &Limits) -> Vec<Attachment> {
    let mut out = Vec::new();
    list_into(message, None, limits, &mut out);
    out
}

fn list_into(message: &mail_parser::Message<'_>, within: Option<&str>, limits: &Limits, out: &mut Vec<Attachment>) {
    use mail_parser::{MimeHeaders, PartType};
    for (index, part) in message.attachments().enumerate() {
        if out.len() >= MAX_LISTED {
            return;
        }
        let is_message = matches!(part.body, PartType::Message(_));
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_owned(),
            })
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| {
                if is_message {
                    "message/rfc822".to_owned()
                } else {
                    "application/octet-stream".to_owned()
                }
            });
        let bytes = super::message::part_bytes(message, part).unwrap_or(std::borrow::Cow::Borrowed(part.contents()));
        let name = part_name(message, part, index, is_message);
        out.push(Attachment {
            name: name.clone(),
            content_type: content_type.clone(),
            size: bytes.len() as u64,
            sha256: super::sha256_hex(&bytes),
            within: within.map(str::to_owned),
        });
        if within.is_some() {
            // One level down only: what a forwarded message or winmail.dat holds is listed, not
            // what those hold in turn.
            continue;
        }
        let is_tnef = content_type == "application/ms-tnef"
            || content_type == "application/vnd.ms-tnef"
            || name.eq_ignore_ascii_case("winmail.dat");
        if is_tnef {
            for (inner_name, inner) in unwrap_tnef(&bytes, limits).unwrap_or_default() {
                if out.len() >= MAX_LISTED {
                    return;
                }
                out.push(Attachment {
                    content_type: type_by_extension(&inner_name).to_owned(),
                    name: clean_file_name(&inner_name).unwrap_or_else(|| "attachment".to_owned()),
                    size: inner.len() as u64,
                    sha256: super::sha256_hex(&inner),
                    within: Some(name.clone()),
                });
            }
        } else if let PartType::Message(inner) = &part.body {
            list_into(inner, Some(&name), limits, out);
        }
    }
}

/// The file name of an attachment part, as staff should read it.
fn part_name(
    message: &mail_parser::Message<'_>,
    part: &mail_parser::MessagePart<'_>,
    index: usize,
    is_message: bool,
) -> String {
    use mail_parser::{MimeHeaders, PartType};
    let declared = part.attachment_name().and_then(clean_file_name);
    // mail-parser reads raw 8-bit header bytes as UTF-8; an EUC-KR file name comes out as
    // U+FFFD, so it is read again from the part's own header bytes.
    let declared = match declared {
        Some(name) if name.contains('\u{FFFD}') => raw_file_name(message, part).or(Some(name)),
        other => other,
    };
    if let Some(name) = declared {
        return name;
    }
    if let PartType::Message(inner) = &part.body {
        if let Some(subject) = inner.subject().and_then(clean_file_name).filter(|s| !s.contains('\u{FFFD}')) {
            return format!("{subject}.eml");
        }
    }
    format!("attachment-{}{}", index + 1, if is_message { ".eml" } else { "" })
}

/// `name` without any directory part, control characters or surrounding space; `None` if
/// nothing is left.
fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    (!cleaned.is_empty()).then_some(cleaned)
}

/// The `filename=` (else `name=`) parameter of a part's header block, decoded from raw 8-bit
/// bytes (UTF-8 or EUC-KR).
fn raw_file_name(message: &mail_parser::Message<'_>, part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let start = usize::try_from(part.offset_header).ok()?;
    let end = usize::try_from(part.offset_body).ok()?;
    let header = message.raw_message().get(start..end)?;
    let value = raw_parameter(header, b"filename=").or_else(|| raw_parameter(header, b"name="))?;
    let decoded = super::message::decode_charset(value, None);
    clean_file_name(&decoded.text).filter(|_| !decoded.lossy)
}

/// The value of a `key=` parameter in raw header bytes: quoted, or up to `;` or the line end.
fn raw_parameter<'a>(header: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let lower = header.to_ascii_lowercase();
    let at = find(&lower, key)? + key.len();
    let rest = &header[at..];
    if let Some(quoted) = rest.strip_prefix(b"\"") {
        let close = quoted.iter().position(|&b| b == b'"')?;
        return Some(&quoted[..close]);
    }
    let end = rest.iter().position(|&b| matches!(b, b';' | b'\r' | b'\n')).unwrap_or(rest.len());
    Some(rest[..end].trim_ascii())
}

/// The MIME type a file name suggests, for the files in a `winmail.dat` (which declares none).
fn type_by_extension(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "hwp" => "application/x-hwp",
        "hwpx" => "application/hwp+zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

// ---------------------------------------------------------------------------
// Byte search
// ---------------------------------------------------------------------------

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    // Looking for the first byte alone is what makes this fast on megabytes of stream data.
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(i) = haystack.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if haystack[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::parse::applicant::extract_fields;

    const FIXTURE_DOCX: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.docx");
    /// LibreOffice 7.4 (HTML → DOCX → PDF): TrueType subsets, "WinAnsiEncoding" + ToUnicode.
    const FIXTURE_PDF: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.pdf");
    /// fpdf2 with NanumGothic: a CID font, Identity-H + ToUnicode, table with borders.
    const FIXTURE_PDF_CID: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form-cid.pdf");
    const FIXTURE_XLSX: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.xlsx");
    /// Written by hwp-converter-ai 0.2.0 (MIT) from Markdown, on its bundled Hancom template;
    /// reduced to FileHeader, DocInfo and BodyText/Section0.
    const FIXTURE_HWP: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.hwp");
    /// Written by the same tool; author and dates removed from Contents/content.hpf.
    const FIXTURE_HWPX: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.hwpx");

    // -- builders for small real documents ---------------------------------

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

    fn docx_cell(text: &str) -> String {
        format!(
            r#"<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"#
        )
    }

    fn docx_row(cells: &[&str]) -> String {
        format!("<w:tr>{}</w:tr>", cells.iter().map(|c| docx_cell(c)).collect::<String>())
    }

    fn docx_form() -> Vec<u8> {
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {W}><w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t xml:space="preserve">워크숍 참가 신청서 </w:t></w:r><w:r><w:t>(R&amp;D 센터)</w:t></w:r></w:p>
<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w="2000"/></w:tblGrid>
{}
{}
{}
<w:tr><w:tc><w:p><w:r><w:t>참석인원</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>2</w:t></w:r><w:r><w:br/><w:t>명</w:t></w:r></w:p></w:tc></w:tr>
</w:tbl>
<w:p><w:r><w:t>비고</w:t><w:tab/><w:t>주차 필요</w:t></w:r></w:p>
<w:p><w:r><w:delText>지운 글</w:delText><w:t>&#xAC10;사합니다.</w:t></w:r></w:p>
<w:sectPr/></w:body></w:document>"#,
            docx_row(&["성명", "김민준", "직위", "책임연구원"]),
            docx_row(&["소속", "(주)한빛테크"]),
            docx_row(&["연락처", "010-1234-5678", "이메일", "minjun.kim@hanbit-tech.example"]),
        );
        zip_of(&[
            ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#),
            ("word/document.xml", body.as_bytes()),
        ])
    }

    fn hwpx_cell(text: &str) -> String {
        format!(
            r#"<hp:tc><hp:subList><hp:p><hp:run><hp:t>{text}</hp:t></hp:run><hp:linesegarray><hp:lineseg textpos="0"/></hp:linesegarray></hp:p></hp:subList><hp:cellAddr colAddr="0" rowAddr="0"/></hp:tc>"#
        )
    }

    fn hwpx_form() -> Vec<u8> {
        let row = |cells: &[&str]| format!("<hp:tr>{}</hp:tr>", cells.iter().map(|c| hwpx_cell(c)).collect::<String>());
        let section = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">
<hp:p><hp:run><hp:secPr><hp:grid/></hp:secPr><hp:t>참가 신청서</hp:t></hp:run></hp:p>
<hp:p><hp:run><hp:tbl rowCnt="4" colCnt="4">{}{}{}{}</hp:tbl><hp:t/></hp:run></hp:p>
<hp:p><hp:run><hp:t>위와 같이 신청합니다.<hp:lineBreak/>2025년 5월 1일</hp:t></hp:run></hp:p>
</hs:sec>"#,
            row(&["성 명", "김민준", "직 위", "책임연구원"]),
            row(&["소 속", "(주)한빛테크", "", ""]),
            row(&["연락처", "010-1234-5678", "참석인원", "2명"]),
            row(&["이메일", "minjun.kim@hanbit-tech.example"]),
        );
        let section1 =
            r#"<hs:sec xmlns:hs="x" xmlns:hp="y"><hp:p><hp:run><hp:t>둘째 구역</hp:t></hp:run></hp:p></hs:sec>"#;
        zip_of(&[
            ("mimetype", b"application/hwp+zip"),
            ("Contents/content.hpf", b"<opf:package/>"),
            ("Contents/section1.xml", section1.as_bytes()),
            ("Contents/section0.xml", section.as_bytes()),
        ])
    }

    fn xlsx_form() -> Vec<u8> {
        let workbook = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="신청서" sheetId="1" r:id="rId1"/><sheet name="메모" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
        let rels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>"#;
        let shared = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>성명</t></si><si><t>김민준</t><rPh sb="0" eb="1"><t>キム</t></rPh></si><si><r><t>소</t></r><r><t>속</t></r></si><si><t>(주)한빛테크</t></si><si><t>연락처</t></si><si><t>참석인원</t></si></sst>"#;
        let sheet1 = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>워크숍 참가 신청서</t></is></c></row>
<row r="3"><c r="A3" t="s"><v>0</v></c><c r="C3" t="s"><v>1</v></c></row>
<row r="4"><c r="A4" t="s"><v>2</v></c><c r="B4" t="s"><v>3</v></c></row>
<row r="5"><c r="A5" t="s"><v>4</v></c><c r="B5" t="str"><v>010-1234-5678</v></c></row>
<row r="6"><c r="A6" t="s"><v>5</v></c><c r="B6"><v>2</v></c><c r="C6" t="b"><v>1</v></c></row>
</sheetData></worksheet>"#;
        let sheet2 = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>메모 시트</t></is></c></row></sheetData></worksheet>"#;
        zip_of(&[
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", rels),
            ("xl/sharedStrings.xml", shared.as_bytes()),
            ("xl/worksheets/sheet2.xml", sheet2.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet1.as_bytes()),
        ])
    }

    /// One HWP record: header (tag, level, size) and data.
    fn record(tag: u16, level: u16, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if data.len() < 0xFFF {
            out.extend_from_slice(&(u32::from(tag) | u32::from(level) << 10 | (data.len() as u32) << 20).to_le_bytes());
        } else {
            out.extend_from_slice(&(u32::from(tag) | u32::from(level) << 10 | 0xFFF << 20).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn utf16(text: &str) -> Vec<u16> {
        text.encode_utf16().collect()
    }

    fn le(units: &[u16]) -> Vec<u8> {
        units.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    /// A paragraph at `level`: PARA_HEADER, then PARA_TEXT ending with the paragraph mark.
    fn hwp_para(level: u16, units: &[u16]) -> Vec<u8> {
        let mut text = units.to_vec();
        text.push(13);
        let mut out = record(66, level, &(text.len() as u32).to_le_bytes());
        out.extend(record(HWPTAG_PARA_TEXT, level + 1, &le(&text)));
        out
    }

    /// An extended control character (8 code units) with a control id.
    fn hwp_control(code: u16, id: &[u8; 4]) -> Vec<u16> {
        let id = u32::from_be_bytes(*id);
        vec![code, (id & 0xFFFF) as u16, (id >> 16) as u16, 0, 0, 0, 0, code]
    }

    /// A table paragraph at level 0: the control in the text, CTRL_HEADER, TABLE, and per cell a
    /// LIST_HEADER and one paragraph.
    fn hwp_table(rows: &[&[&str]]) -> Vec<u8> {
        let mut out = record(66, 0, &[0; 4]);
        out.extend(record(HWPTAG_PARA_TEXT, 1, &le(&[hwp_control(11, b"tbl "), vec![13]].concat())));
        out.extend(record(HWPTAG_CTRL_HEADER, 1, &CTRL_TABLE.to_le_bytes()));
        let mut table = vec![0u8; 4];
        table.extend_from_slice(&(rows.len() as u16).to_le_bytes());
        table.extend_from_slice(&4u16.to_le_bytes());
        out.extend(record(HWPTAG_TABLE, 2, &table));
        for (r, row) in rows.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                let mut list = Vec::new();
                list.extend_from_slice(&1u16.to_le_bytes()); // paragraphs
                list.extend_from_slice(&[0; 2]);
                list.extend_from_slice(&0u32.to_le_bytes()); // properties
                list.extend_from_slice(&(c as u16).to_le_bytes());
                list.extend_from_slice(&(r as u16).to_le_bytes());
                list.extend_from_slice(&[1, 0, 1, 0]); // spans
                list.extend_from_slice(&[0; 22]);
                out.extend(record(HWPTAG_LIST_HEADER, 2, &list));
                out.extend(hwp_para(2, &utf16(text)));
            }
        }
        out
    }

    fn hwp_section() -> Vec<u8> {
        let mut title = utf16("참가");
        title.extend([9, 0, 0, 0, 0, 0, 0, 9]); // a tab
        title.extend(utf16("신청서 "));
        title.extend(hwp_control(2, b"secd")); // section definition control
        title.extend(utf16("𝐀")); // outside the BMP: a surrogate pair
        let mut section = hwp_para(0, &title);
        section.extend(hwp_table(&[
            &["성명", "김민준", "직위", "책임연구원"],
            &["소속", "(주)한빛테크", "", ""],
            &["연락처", "010-1234-5678", "참석인원", "2명"],
        ]));
        let mut closing = utf16("위와 같이 신청합니다.");
        closing.push(10);
        closing.extend(utf16("2025년 5월 1일"));
        section.extend(hwp_para(0, &closing));
        section
    }

    fn hwp_file(properties: u32, section: &[u8]) -> Vec<u8> {
        let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        let mut header = vec![0u8; 256];
        header[..HWP_SIGNATURE.len()].copy_from_slice(HWP_SIGNATURE);
        header[32..36].copy_from_slice(&0x0501_0100u32.to_le_bytes());
        header[36..40].copy_from_slice(&properties.to_le_bytes());
        cfb.create_stream("/FileHeader").unwrap().write_all(&header).unwrap();
        cfb.create_stream("/DocInfo").unwrap().write_all(&[0; 16]).unwrap();
        cfb.create_storage("/BodyText").unwrap();
        let body = if properties & HWP_COMPRESSED != 0 {
            let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(section).unwrap();
            encoder.finish().unwrap()
        } else {
            section.to_vec()
        };
        cfb.create_stream("/BodyText/Section0").unwrap().write_all(&body).unwrap();
        cfb.flush().unwrap();
        cfb.into_inner().into_inner()
    }

    /// A one-page PDF with Helvetica text shown at `(x, y, text)`, with a correct xref.
    fn pdf_with(lines: &[(f64, f64, &str)], graphics: &str, extra_trailer: &str) -> Vec<u8> {
        let mut content = format!("{graphics}\nBT /F1 12 Tf\n");
        for (x, y, text) in lines {
            content.push_str(&format!("1 0 0 1 {x} {y} Tm ({text}) Tj\n"));
        }
        content.push_str("ET\n");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
            pdf_stream("", &content),
        ];
        pdf_of(&objects, extra_trailer)
    }

    fn pdf_stream(dict: &str, content: &str) -> String {
        format!("<< /Length {} {dict} >>\nstream\n{content}endstream", content.len())
    }

    /// A PDF of the given objects (numbered from 1; the first is the catalog).
    fn pdf_of(objects: &[String], extra_trailer: &str) -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R {extra_trailer}>>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    fn pdf_form() -> Vec<u8> {
        pdf_with(
            &[
                (72.0, 760.0, "Workshop registration form"),
                (72.0, 720.0, "Name"),
                (200.0, 720.0, "Jane Doe"),
                (72.0, 700.0, "Company"),
                (200.0, 700.0, "Acme Robotics"),
                (72.0, 680.0, "Phone"),
                (200.0, 680.0, "010-1234-5678"),
            ],
            "",
            "",
        )
    }

    fn tnef_attr(out: &mut Vec<u8>, level: u8, tag: u32, data: &[u8]) {
        out.push(level);
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        let checksum = data.iter().fold(0u16, |acc, &b| acc.wrapping_add(u16::from(b)));
        out.extend_from_slice(&checksum.to_le_bytes());
    }

    fn mapi_unicode(id: u16, text: &str) -> Vec<u8> {
        let mut value: Vec<u8> = text.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
        let len = value.len() as u32;
        value.resize(value.len().div_ceil(4) * 4, 0);
        let mut out = Vec::new();
        out.extend_from_slice(&PT_UNICODE.to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend(value);
        out
    }

    fn tnef_file(form: &[u8]) -> Vec<u8> {
        let mut out = TNEF_SIGNATURE.to_le_bytes().to_vec();
        out.extend_from_slice(&0x1234u16.to_le_bytes());
        tnef_attr(&mut out, LVL_MESSAGE, 0x0008_9006, &0x0001_0000u32.to_le_bytes()); // attTnefVersion
        let mut codepage = 949u32.to_le_bytes().to_vec();
        codepage.extend_from_slice(&0u32.to_le_bytes());
        tnef_attr(&mut out, LVL_MESSAGE, 0x0006_9007, &codepage);
        let (body, _, _) = encoding_rs::EUC_KR.encode("성명: 김민준\r\n첨부 파일을 확인해 주세요.\0");
        tnef_attr(&mut out, LVL_MESSAGE, 0x0002_800C, &body);
        // First attachment: title in CP949, long name among the MAPI properties.
        tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_9002, &[1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
        let (title, _, _) = encoding_rs::EUC_KR.encode("신청서~1.DOC\0");
        tnef_attr(&mut out, LVL_ATTACHMENT, 0x0001_8010, &title);
        tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_800F, form);
        let mut props = 3u32.to_le_bytes().to_vec();
        props.extend_from_slice(&0x0003u16.to_le_bytes()); // PT_LONG PR_ATTACH_METHOD
        props.extend_from_slice(&0x3705u16.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        props.extend(mapi_unicode(PR_ATTACH_LONG_FILENAME, "참가신청서_김민준.docx"));
        props.extend(mapi_unicode(0x370E, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
        tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_9005, &props);
        // Second attachment: a title only.
        tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_9002, &[1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
        tnef_attr(&mut out, LVL_ATTACHMENT, 0x0001_8010, b"C:\\temp\\memo.txt\0");
        tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_800F, "메모".as_bytes());
        out
    }

    // -- helpers for assertions --------------------------------------------

    fn text_of(kind: FormKind, bytes: &[u8]) -> String {
        extract_text(&kind, bytes, &Limits::default()).unwrap_or_else(|e| panic!("{kind:?}: {e}"))
    }

    fn assert_korean_form(text: &str) {
        let fields = extract_fields(text);
        assert_eq!(fields.name.as_deref(), Some("김민준"), "{text}");
        assert_eq!(fields.organization.as_deref(), Some("(주)한빛테크"), "{text}");
        assert_eq!(fields.position.as_deref(), Some("책임연구원"), "{text}");
        assert_eq!(fields.phone.as_deref(), Some("010-1234-5678"), "{text}");
    }

    fn small_limits() -> Limits {
        Limits { max_decompressed_bytes: 1024 * 1024, ..Limits::default() }
    }

    // -- kinds -------------------------------------------------------------

    #[test]
    fn kinds_are_recognised_by_content_first() {
        assert_eq!(kind_of(Some("form.bin"), None, &docx_form()), Some(FormKind::Docx));
        assert_eq!(kind_of(None, None, &hwpx_form()), Some(FormKind::Hwpx));
        assert_eq!(kind_of(Some("form.pdf"), None, &xlsx_form()), Some(FormKind::Xlsx));
        assert_eq!(kind_of(None, Some("application/octet-stream"), &hwp_file(1, &hwp_section())), Some(FormKind::Hwp));
        assert_eq!(kind_of(None, None, &pdf_form()), Some(FormKind::Pdf));
        assert_eq!(kind_of(None, None, FIXTURE_DOCX), Some(FormKind::Docx));
        assert_eq!(kind_of(None, None, FIXTURE_XLSX), Some(FormKind::Xlsx));
        assert_eq!(kind_of(None, None, FIXTURE_PDF), Some(FormKind::Pdf));
    }

    #[test]
    fn kinds_fall_back_to_the_name_then_the_content_type() {
        assert_eq!(kind_of(Some("신청서.HWP"), None, b"garbage"), Some(FormKind::Hwp));
        assert_eq!(kind_of(Some("\"form.hwpx\""), None, b""), Some(FormKind::Hwpx));
        assert_eq!(kind_of(Some("memo.txt"), None, "성명: 김민준".as_bytes()), Some(FormKind::Text));
        assert_eq!(kind_of(None, Some("text/plain; charset=utf-8"), b"hi"), Some(FormKind::Text));
        assert_eq!(kind_of(None, Some("application/x-hwp"), b"??"), Some(FormKind::Hwp));
        assert_eq!(kind_of(Some("photo.jpg"), Some("image/jpeg"), b"\xFF\xD8\xFF"), None);
        assert_eq!(kind_of(None, None, &zip_of(&[("a.txt", b"x")])), None);
        // An OLE file that is not HWP (a legacy .doc, say) is not guessed at.
        let mut other = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        other.create_stream("/WordDocument").unwrap().write_all(b"x").unwrap();
        assert_eq!(kind_of(None, None, &other.into_inner().into_inner()), None);
    }

    // -- formats -----------------------------------------------------------

    #[test]
    fn docx_rows_become_tab_separated_lines() {
        let text = text_of(FormKind::Docx, &docx_form());
        assert_eq!(
            text,
            "워크숍 참가 신청서 (R&D 센터)\n\
             성명\t김민준\t직위\t책임연구원\n\
             소속\t(주)한빛테크\n\
             연락처\t010-1234-5678\t이메일\tminjun.kim@hanbit-tech.example\n\
             참석인원\t2 명\n\
             비고\t주차 필요\n\
             감사합니다.\n"
        );
        assert_korean_form(&text);
        let fields = extract_fields(&text);
        assert_eq!(fields.email.as_deref(), Some("minjun.kim@hanbit-tech.example"));
        assert_eq!(fields.attendees, Some(2));
    }

    #[test]
    fn a_docx_made_by_libreoffice_is_read() {
        let text = text_of(FormKind::Docx, FIXTURE_DOCX);
        assert!(text.contains("성명\t김민준\t직위\t책임연구원\n"), "{text}");
        assert!(text.contains("소속\t(주)한빛테크\n"), "{text}");
        assert!(text.starts_with("2025 스마트제조 워크숍 참가 신청서\n"), "{text}");
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
    }

    #[test]
    fn hwpx_sections_are_read_in_order() {
        let text = text_of(FormKind::Hwpx, &hwpx_form());
        assert_eq!(
            text,
            "참가 신청서\n\
             성 명\t김민준\t직 위\t책임연구원\n\
             소 속\t(주)한빛테크\n\
             연락처\t010-1234-5678\t참석인원\t2명\n\
             이메일\tminjun.kim@hanbit-tech.example\n\
             위와 같이 신청합니다.\n\
             2025년 5월 1일\n\
             둘째 구역\n"
        );
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
    }

    #[test]
    fn xlsx_sheets_rows_and_cells() {
        let text = text_of(FormKind::Xlsx, &xlsx_form());
        assert_eq!(
            text,
            "워크숍 참가 신청서\n\
             성명\t\t김민준\n\
             소속\t(주)한빛테크\n\
             연락처\t010-1234-5678\n\
             참석인원\t2\tTRUE\n\
             메모 시트\n"
        );
        let fields = extract_fields(&text);
        assert_eq!(fields.name.as_deref(), Some("김민준"));
        assert_eq!(fields.organization.as_deref(), Some("(주)한빛테크"));
        assert_eq!(fields.phone.as_deref(), Some("010-1234-5678"));
    }

    #[test]
    fn an_xlsx_made_by_libreoffice_is_read() {
        let text = text_of(FormKind::Xlsx, FIXTURE_XLSX);
        assert!(text.contains("성명\t김민준\t직위\t책임연구원\n"), "{text}");
        assert_korean_form(&text);
    }

    #[test]
    fn hwp5_paragraphs_and_table_cells() {
        let text = text_of(FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &hwp_section()));
        assert_eq!(
            text,
            "참가\t신청서 𝐀\n\
             성명\t김민준\t직위\t책임연구원\n\
             소속\t(주)한빛테크\n\
             연락처\t010-1234-5678\t참석인원\t2명\n\
             위와 같이 신청합니다.\n\
             2025년 5월 1일\n"
        );
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
        // The same document stored uncompressed.
        assert_eq!(text_of(FormKind::Hwp, &hwp_file(0, &hwp_section())), text);
    }

    #[test]
    fn hwp_and_hwpx_written_by_another_tool_are_read() {
        let expected = "워크숍 참가 신청서\n\
                        아래 양식을 작성하여 회신해 주십시오.\n\
                        성명\t김민준\t직위\t책임연구원\n\
                        소속\t(주)한빛테크\t참석인원\t2명\n\
                        연락처\t010-1234-5678\t이메일\tminjun.kim@hanbit-tech.example\n\
                        위와 같이 신청합니다.\n";
        assert_eq!(kind_of(Some("form.hwp"), None, FIXTURE_HWP), Some(FormKind::Hwp));
        assert_eq!(kind_of(None, None, FIXTURE_HWPX), Some(FormKind::Hwpx));
        for (kind, bytes) in [(FormKind::Hwp, FIXTURE_HWP), (FormKind::Hwpx, FIXTURE_HWPX)] {
            let text = text_of(kind, bytes);
            assert_eq!(text, expected);
            assert_korean_form(&text);
            assert_eq!(extract_fields(&text).attendees, Some(2));
        }
    }

    #[test]
    fn hwp5_nested_tables_get_lines_of_their_own() {
        // An outer table whose second cell holds an inner two-row table.
        let inner = hwp_table(&[&["성명", "김민준"], &["소속", "(주)한빛테크"]]);
        let shifted: Vec<u8> = hwp_record_iter(&inner).flat_map(|r| record(r.tag, r.level + 3, r.data)).collect();
        let mut section = hwp_table(&[&["신청자", "x"]]);
        // Replace the last cell's paragraph ("x") by the inner table, which sits one level
        // below the cell's paragraph.
        let cut = hwp_record_iter(&section).map(|r| r.data.len() + 4).collect::<Vec<_>>();
        let keep: usize = cut[..cut.len() - 2].iter().sum();
        section.truncate(keep);
        section.extend(record(66, 2, &[0; 4]));
        section.extend(record(HWPTAG_PARA_TEXT, 3, &le(&[hwp_control(11, b"tbl "), vec![13]].concat())));
        section.extend(record(HWPTAG_CTRL_HEADER, 3, &CTRL_TABLE.to_le_bytes()));
        section.extend(shifted);
        let text = text_of(FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &section));
        assert!(text.contains("신청자\n성명\t김민준\n소속\t(주)한빛테크\n"), "{text:?}");
    }

    #[test]
    fn a_protected_hwp_is_reported_as_encrypted() {
        for flag in [1 << 1, 1 << 2, 1 << 4] {
            let err =
                extract_text(&FormKind::Hwp, &hwp_file(HWP_COMPRESSED | flag, &hwp_section()), &Limits::default());
            assert!(matches!(err, Err(ExtractError::Encrypted)), "{flag}: {err:?}");
        }
    }

    #[test]
    fn old_hwp_versions_are_unsupported() {
        let err = extract_text(&FormKind::Hwp, b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05", &Limits::default());
        assert!(matches!(err, Err(ExtractError::Unsupported(_))), "{err:?}");
    }

    #[test]
    fn pdf_text_is_placed_in_lines_and_cells() {
        let text = text_of(FormKind::Pdf, &pdf_form());
        assert_eq!(text, "Workshop registration form\nName\tJane Doe\nCompany\tAcme Robotics\nPhone\t010-1234-5678\n");
        let fields = extract_fields(&text);
        assert_eq!(fields.name.as_deref(), Some("Jane Doe"));
        assert_eq!(fields.organization.as_deref(), Some("Acme Robotics"));
        assert_eq!(fields.phone.as_deref(), Some("010-1234-5678"));
    }

    #[test]
    fn a_korean_pdf_made_by_libreoffice_is_read() {
        // A borderless table with narrow cells: the cells are told apart by their gaps alone.
        let text = text_of(FormKind::Pdf, FIXTURE_PDF);
        assert!(
            text.starts_with("2025 스마트제조 워크숍 참가 신청서\n아래 양식을 작성하여 회신해 주십시오.\n"),
            "{text}"
        );
        assert!(text.contains("성명\t김민준\t직위\t책임연구원\n"), "{text}");
        assert!(text.contains("소속\t(주)한빛테크\n"), "{text}");
        assert!(text.contains("연락처\t010-1234-5678\t이메일\tminjun.kim@hanbit-tech.example\n"), "{text}");
        assert_korean_form(&text);
        assert_eq!(extract_fields(&text).attendees, Some(2));
    }

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

    fn pdf_with_fields() -> Vec<u8> {
        let font = "/Font << /F1 4 0 R >>";
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R 8 0 R] >> >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 4 0 R >> /XObject << /Fm1 6 0 R >> >> >>"
                .to_owned(),
            // Resources inherited from the page tree; annotations by reference.
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Annots [7 0 R 8 0 R 10 0 R] >>".to_owned(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
            pdf_stream("", "BT /F1 12 Tf 72 720 Td (Name) Tj ET q 1 0 0 1 72 700 cm /Fm1 Do Q"),
            // A form XObject with its own resources, drawn where the page puts it.
            pdf_stream(&format!("/Type /XObject /Subtype /Form /BBox [0 0 100 20] /Resources << {font} >>"), "BT /F1 12 Tf 0 0 Td (Company) Tj ET"),
            // A filled-in text field: its appearance stream, placed in its rectangle.
            "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Jane Doe) /Rect [200 715 350 735] /AP << /N 9 0 R >> >>".to_owned(),
            // A field filled in without an appearance (NeedAppearances): its value.
            "<< /Type /Annot /Subtype /Widget /FT /Tx /T (company) /V (Acme Robotics) /DA (/Helv 12 Tf 0 g) /Rect [200 695 350 715] >>".to_owned(),
            pdf_stream(&format!("/Type /XObject /Subtype /Form /BBox [0 0 150 20] /Resources << {font} >>"), "/Tx BMC BT /F1 12 Tf 2 5 Td (Jane Doe) Tj ET EMC"),
            // A hidden annotation is not read.
            "<< /Type /Annot /Subtype /FreeText /F 2 /Contents (hidden) /Rect [72 600 200 620] >>".to_owned(),
        ];
        pdf_of(&objects, "")
    }

    #[test]
    fn pdf_form_xobjects_and_filled_in_fields_are_read() {
        let text = text_of(FormKind::Pdf, &pdf_with_fields());
        assert_eq!(text, "Name\tJane Doe\nCompany\tAcme Robotics\n");
    }

    #[test]
    fn pdf_table_borders_separate_cells_that_nearly_touch() {
        // "Name" ends near x=96 (no font metrics: half an em a letter); the value starts at
        // x=100, a gap of a third of an em, which alone reads as a space. A border at x=98
        // (a line, and the side of a cell rectangle) makes it a cell boundary.
        let lines =
            [(72.0, 720.0, "Name"), (100.0, 720.0, "Jane Doe"), (80.0, 700.0, "Tel"), (101.0, 700.0, "02-555-1234")];
        // A line beside the first row; a cell rectangle (its right side) beside the second.
        let borders = "0.5 w 98 712 m 98 735 l S 60 710 38 0.5 re f 60 695 38 15 re S";
        let text = text_of(FormKind::Pdf, &pdf_with(&lines, borders, ""));
        assert_eq!(text, "Name\tJane Doe\nTel\t02-555-1234\n");
        let unruled = text_of(FormKind::Pdf, &pdf_with(&lines, "", ""));
        assert_eq!(unruled, "Name Jane Doe\nTel 02-555-1234\n");
    }

    #[test]
    fn a_pdf_without_text_gives_empty_text() {
        assert_eq!(text_of(FormKind::Pdf, &pdf_with(&[], "", "")), "");
    }

    #[test]
    fn an_encrypted_pdf_is_refused() {
        let pdf = pdf_with(
            &[(72.0, 700.0, "secret")],
            "",
            "/Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >> ",
        );
        assert!(matches!(extract_text(&FormKind::Pdf, &pdf, &Limits::default()), Err(ExtractError::Encrypted)));
    }

    #[test]
    fn plain_text_in_utf8_utf16_and_cp949() {
        assert_eq!(text_of(FormKind::Text, "성명: 김민준\r\n".as_bytes()), "성명: 김민준\n");
        let (cp949, _, _) = encoding_rs::EUC_KR.encode("소속: 한빛테크");
        assert_eq!(text_of(FormKind::Text, &cp949), "소속: 한빛테크");
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("직위".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(text_of(FormKind::Text, &utf16), "직위");
    }

    // -- TNEF --------------------------------------------------------------

    #[test]
    fn tnef_attachments_come_out_with_their_long_names() {
        let form = docx_form();
        let files = unwrap_tnef(&tnef_file(&form), &Limits::default()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, "참가신청서_김민준.docx");
        assert_eq!(files[0].1, form);
        assert_eq!(files[1], ("memo.txt".to_owned(), "메모".as_bytes().to_vec()));
        // And the attachment reads like any other.
        let kind = kind_of(Some(&files[0].0), None, &files[0].1).unwrap();
        assert_korean_form(&extract_text(&kind, &files[0].1, &Limits::default()).unwrap());
        assert_eq!(
            tnef_body(&tnef_file(&form), &Limits::default()).as_deref(),
            Some("성명: 김민준\r\n첨부 파일을 확인해 주세요.")
        );
    }

    #[test]
    fn tnef_garbage_is_an_error() {
        assert!(matches!(unwrap_tnef(b"not tnef", &Limits::default()), Err(ExtractError::Broken(_))));
        let mut file = tnef_file(b"data");
        file.truncate(file.len() - 5);
        assert!(matches!(unwrap_tnef(&file, &Limits::default()), Err(ExtractError::Broken(_))));
    }

    // -- limits and garbage ------------------------------------------------

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let bomb = zip_of(&[("word/document.xml", &zeros)]);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let started = std::time::Instant::now();
        let err = extract_text(&FormKind::Docx, &bomb, &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // Many small parts add up too.
        let parts: Vec<(String, Vec<u8>)> =
            (0..8).map(|i| (format!("Contents/section{i}.xml"), vec![b' '; 200 * 1024])).collect();
        let parts: Vec<(&str, &[u8])> = parts.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        assert!(matches!(extract_text(&FormKind::Hwpx, &zip_of(&parts), &small_limits()), Err(ExtractError::TooLarge)));
    }

    #[test]
    fn too_many_zip_entries_or_too_many_bytes_are_refused() {
        let names: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"x".as_slice())).collect();
        let limits = Limits { max_zip_entries: 10, ..Limits::default() };
        assert!(matches!(extract_text(&FormKind::Docx, &zip_of(&entries), &limits), Err(ExtractError::TooLarge)));
        let limits = Limits { max_input_bytes: 100, ..Limits::default() };
        assert!(matches!(extract_text(&FormKind::Docx, &docx_form(), &limits), Err(ExtractError::TooLarge)));
    }

    #[test]
    fn an_hwp_section_bomb_stops_at_the_limit() {
        let mut section = Vec::new();
        while section.len() < 4 * 1024 * 1024 {
            section.extend(hwp_para(0, &[0x20; 2000]));
        }
        let err = extract_text(&FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &section), &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
    }

    #[test]
    fn a_pdf_stream_bomb_stops_at_the_limit() {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b' '; 4 * 1024 * 1024]).unwrap();
        let data = encoder.finish().unwrap();
        let mut pdf = pdf_form();
        pdf.extend_from_slice(
            format!("9 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n", data.len()).as_bytes(),
        );
        pdf.extend_from_slice(&data);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let err = extract_text(&FormKind::Pdf, &pdf, &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
        // Behind an ASCII85 filter as well.
        let mut pdf = pdf_form();
        let a85 = ascii85_encode(&data);
        pdf.extend_from_slice(b"9 0 obj\n<< /Filter [/ASCII85Decode /FlateDecode] >>\nstream\n");
        pdf.extend_from_slice(&a85);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        let err = extract_text(&FormKind::Pdf, &pdf, &small_limits());
        assert!(matches!(err, Err(ExtractError::TooLarge)), "{err:?}");
    }

    fn ascii85_encode(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(4) {
            let mut group = [0u8; 4];
            group[..chunk.len()].copy_from_slice(chunk);
            let mut n = u32::from_be_bytes(group);
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = (n % 85) as u8 + b'!';
                n /= 85;
            }
            out.extend_from_slice(&digits[..chunk.len() + 1]);
        }
        out.extend_from_slice(b"~>");
        out
    }

    #[test]
    fn long_text_is_cut_at_the_limit() {
        let limits = Limits { max_text_chars: 10, ..Limits::default() };
        let text = extract_text(&FormKind::Docx, &docx_form(), &limits).unwrap();
        assert!(text.chars().count() <= 10, "{text:?}");
        assert!(text.starts_with("워크숍 참가"), "{text:?}");
    }

    #[test]
    fn encrypted_office_files_are_reported() {
        let mut ole = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        ole.create_stream("/EncryptionInfo").unwrap().write_all(b"x").unwrap();
        ole.create_stream("/EncryptedPackage").unwrap().write_all(b"x").unwrap();
        let bytes = ole.into_inner().into_inner();
        assert_eq!(kind_of(Some("form.docx"), None, &bytes), Some(FormKind::Docx));
        assert!(matches!(extract_text(&FormKind::Docx, &bytes, &Limits::default()), Err(ExtractError::Encrypted)));
    }

    #[test]
    fn pathological_structures_stay_shallow_and_fast() {
        let started = std::time::Instant::now();
        // Tables nested 5,000 deep (rendering and dropping recurse, so depth is capped).
        let depth = 5_000;
        let mut xml = format!("<w:document {W}><w:body>");
        xml.push_str(&"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p>".repeat(depth));
        xml.push_str("<w:p><w:r><w:t>성명: 김민준</w:t></w:r></w:p>");
        xml.push_str(&"</w:tc></w:tr></w:tbl>".repeat(depth));
        xml.push_str("</w:body></w:document>");
        let text = text_of(FormKind::Docx, &zip_of(&[("word/document.xml", xml.as_bytes())]));
        assert!(text.contains("성명: 김민준"), "{}", &text[..text.len().min(200)]);
        // The same in HWP: each table inside a cell of the one before.
        let mut section = Vec::new();
        for level in 0..300u16 {
            let base = level * 2;
            section.extend(record(66, base, &[0; 4]));
            section.extend(record(HWPTAG_CTRL_HEADER, base + 1, &CTRL_TABLE.to_le_bytes()));
            section.extend(record(HWPTAG_TABLE, base + 2, &[0; 8]));
            section.extend(record(HWPTAG_LIST_HEADER, base + 2, &[0; 12]));
        }
        section.extend(hwp_para(600, &utf16("소속: 한빛테크")));
        let text = text_of(FormKind::Hwp, &hwp_file(HWP_COMPRESSED, &section));
        assert!(text.contains("소속: 한빛테크"), "{text:?}");
        // A PDF made of nothing but "stream" keywords, and one with deeply nested arrays.
        let mut pdf = pdf_form();
        pdf.extend(b"stream\n".repeat(200_000));
        let _ = extract_text(&FormKind::Pdf, &pdf, &Limits::default());
        let nested = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let _ = extract_text(&FormKind::Pdf, &pdf_with(&[(72.0, 700.0, "x")], &nested, ""), &Limits::default());
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }

    /// Truncations, byte flips and random bytes for every format: an error or some text,
    /// never a panic (not even one caught by the guard).
    #[test]
    fn garbage_never_panics() {
        static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let this_test = std::thread::current().id();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == this_test {
                PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            previous(info);
        }));
        let samples: Vec<(FormKind, Vec<u8>)> = vec![
            (FormKind::Docx, docx_form()),
            (FormKind::Hwpx, hwpx_form()),
            (FormKind::Xlsx, xlsx_form()),
            (FormKind::Hwp, hwp_file(HWP_COMPRESSED, &hwp_section())),
            (FormKind::Hwp, hwp_file(0, &hwp_section())),
            (FormKind::Pdf, pdf_form()),
            (FormKind::Pdf, FIXTURE_PDF.to_vec()),
            (FormKind::Pdf, FIXTURE_PDF_CID.to_vec()),
            (FormKind::Pdf, pdf_with_fields()),
            (FormKind::Docx, FIXTURE_DOCX.to_vec()),
            (FormKind::Hwp, FIXTURE_HWP.to_vec()),
            (FormKind::Hwpx, FIXTURE_HWPX.to_vec()),
            (FormKind::Xlsx, FIXTURE_XLSX.to_vec()),
            (FormKind::Text, tnef_file(b"payload")),
        ];
        let limits = small_limits();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let try_all = |bytes: &[u8], kind: &FormKind| {
            let _ = kind_of(None, None, bytes);
            let _ = extract_text(kind, bytes, &limits);
            let _ = unwrap_tnef(bytes, &limits);
        };
        for (kind, sample) in &samples {
            let step = (sample.len() / 97).max(1);
            for cut in (0..sample.len()).step_by(step) {
                try_all(&sample[..cut], kind);
            }
            // The last records and the zip central directory are at the end: cut finely there.
            for cut in sample.len().saturating_sub(300)..sample.len() {
                try_all(&sample[..cut], kind);
            }
            for _ in 0..150 {
                let mut damaged = sample.clone();
                for _ in 0..1 + random() % 8 {
                    let at = (random() % damaged.len() as u64) as usize;
                    damaged[at] = random() as u8;
                }
                try_all(&damaged, kind);
            }
        }
        for _ in 0..200 {
            let len = (random() % 4096) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| random() as u8).collect();
            for (i, magic) in [ZIP_MAGIC, CFB_MAGIC, b"%PDF-1.4\n", &TNEF_SIGNATURE.to_le_bytes()].iter().enumerate() {
                if random() % 5 == i as u64 && bytes.len() >= magic.len() {
                    bytes[..magic.len()].copy_from_slice(magic);
                }
            }
            for kind in [FormKind::Docx, FormKind::Hwp, FormKind::Pdf, FormKind::Xlsx, FormKind::Hwpx, FormKind::Text] {
                try_all(&bytes, &kind);
            }
        }
        let _ = std::panic::take_hook();
        assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0, "parsers panicked (caught by the guard)");
    }

    // -- listing -----------------------------------------------------------

    fn b64_lines(bytes: &[u8]) -> String {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        encoded.as_bytes().chunks(76).map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap())).collect()
    }

    fn listed(raw: &[u8]) -> Vec<Attachment> {
        let message = mail_parser::MessageParser::default().parse(raw).unwrap();
        list(&message, &Limits::default())
    }

    #[test]
    fn every_attachment_is_listed_with_its_decoded_name_type_size_and_hash() {
        let hwpx = FIXTURE_HWPX;
        let tnef = tnef_file(&docx_form());
        let (euc_kr_name, _, _) = encoding_rs::EUC_KR.encode("견적서.pdf");
        let mut raw = Vec::new();
        raw.extend_from_slice(
            b"From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
              --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n\
              --b\r\nContent-Type: application/hwp+zip; name=\"=?UTF-8?B?7Iug7LKt7IScLmh3cHg=?=\"\r\n\
              Content-Disposition: attachment; filename=\"=?UTF-8?B?7Iug7LKt7IScLmh3cHg=?=\"\r\n\
              Content-Transfer-Encoding: base64\r\n\r\n",
        );
        raw.extend_from_slice(b64_lines(hwpx).as_bytes());
        // RFC 2231, split in two continuations: 참가 신청서.pdf
        raw.extend_from_slice(
            b"--b\r\nContent-Type: Application/PDF\r\nContent-Disposition: attachment;\r\n \
              filename*0*=UTF-8''%EC%B0%B8%EA%B0%80%20;\r\n filename*1*=%EC%8B%A0%EC%B2%AD%EC%84%9C.pdf\r\n\
              Content-Transfer-Encoding: base64\r\n\r\n",
        );
        raw.extend_from_slice(b64_lines(b"%PDF-1.4 tiny").as_bytes());
        // Raw 8-bit EUC-KR in the part header, as old webmail sends it.
        raw.extend_from_slice(b"--b\r\nContent-Type: application/octet-stream; name=\"");
        raw.extend_from_slice(&euc_kr_name);
        raw.extend_from_slice(b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        raw.extend_from_slice(b64_lines(b"1234567").as_bytes());
        raw.extend_from_slice(
            b"--b\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        );
        raw.extend_from_slice(b64_lines(&tnef).as_bytes());
        raw.extend_from_slice(
            b"--b\r\nContent-Type: message/rfc822\r\n\r\n\
              From: c@d.example\r\nSubject: =?UTF-8?B?7Iug7LKt?=\r\nContent-Type: multipart/mixed; boundary=\"i\"\r\n\r\n\
              --i\r\nContent-Type: text/plain\r\n\r\nform attached\r\n\
              --i\r\nContent-Type: image/png; name=\"card.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--i--\r\n\
              --b--\r\n",
        );
        let got = listed(&raw);
        let summary: Vec<(&str, &str, u64, Option<&str>)> =
            got.iter().map(|a| (a.name.as_str(), a.content_type.as_str(), a.size, a.within.as_deref())).collect();
        let docx_len = docx_form().len() as u64;
        let forwarded = got.iter().find(|a| a.content_type == "message/rfc822").map(|a| a.size).unwrap();
        assert_eq!(
            summary,
            vec![
                ("신청서.hwpx", "application/hwp+zip", hwpx.len() as u64, None),
                ("참가 신청서.pdf", "application/pdf", 13, None),
                ("견적서.pdf", "application/octet-stream", 7, None),
                ("winmail.dat", "application/ms-tnef", tnef.len() as u64, None),
                (
                    "참가신청서_김민준.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    docx_len,
                    Some("winmail.dat")
                ),
                ("memo.txt", "text/plain", "메모".len() as u64, Some("winmail.dat")),
                ("신청.eml", "message/rfc822", forwarded, None),
                ("card.png", "image/png", 4, Some("신청.eml")),
            ]
        );
        assert_eq!(got[0].sha256, crate::parse::sha256_hex(hwpx));
        assert_eq!(got[4].sha256, crate::parse::sha256_hex(&docx_form()));
        assert!(forwarded > 100, "the forwarded message's own bytes: {forwarded}");
    }

    #[test]
    fn a_message_without_attachments_lists_none_and_names_are_never_paths() {
        assert!(listed(b"From: a@b.example\r\nContent-Type: text/plain\r\n\r\nhi\r\n").is_empty());
        assert_eq!(clean_file_name("C:\\Users\\kim\\신청서.hwp").as_deref(), Some("신청서.hwp"));
        assert_eq!(clean_file_name("../../etc/\r\npasswd").as_deref(), Some("passwd"));
        assert_eq!(clean_file_name(" \t "), None);
        let raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--b--\r\n";
        assert_eq!(listed(raw)[0].name, "attachment-1");
    }
}
