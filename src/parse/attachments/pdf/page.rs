//! A PDF page's text, placed: the content stream is run (text state, the current matrix, form
//! XObjects nested at most [`MAX_FORM_DEPTH`] deep and never inside themselves), as are the
//! appearances of the page's annotations, which is where filled-in form fields are (a field
//! without one gives its value). The pieces of text are then sorted into lines by their
//! position; a vertical rule or a wide gap between two pieces of a line makes a tab, so that
//! the cells of a table row come out as the layout builder's rows do. A scanned page has no
//! text and gives none.

use std::collections::BTreeMap;

use super::census;
use super::document::{
    deref, deref_with_id, number, MAX_CONTENT_TOKENS, MAX_PDF_CONTENT_TOKENS, MAX_PDF_FORMS, MAX_PDF_LOOKUPS,
};
use super::fonts::{pdf_fonts, PdfFont, MAX_FONTS};
use crate::parse::attachments::budget::{Budget, MAX_KEPT_BYTES};
use crate::parse::attachments::layout::Builder;
use crate::parse::attachments::ExtractError;
use crate::parse::attachments::ExtractError::{TooComplex, TooLarge};

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
pub(super) struct PdfWalk<'a> {
    pub(super) document: &'a lopdf::Document,
    pub(super) budget: &'a mut Budget,
    pub(super) forms: usize,
    pub(super) content_tokens: usize,
    pub(super) lookups: usize,
    /// The forms being run, outermost first: meeting one of them again is a cycle.
    pub(super) running: Vec<lopdf::ObjectId>,
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
        let tokens = census::tokens(content, MAX_CONTENT_TOKENS);
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

pub(super) fn pdf_page(
    walk: &mut PdfWalk<'_>,
    page_id: lopdf::ObjectId,
    doc: &mut Builder,
) -> Result<(), ExtractError> {
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

#[cfg(test)]
mod tests {
    use crate::parse::applicant::extract_fields;
    use crate::parse::attachments::testdocs::{pdf_form, pdf_with, pdf_with_fields, text_of};
    use crate::parse::attachments::FormKind;

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
}
