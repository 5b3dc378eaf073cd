//! Applicant details from `label: value` lines in an email body.
//!
//! Workshop applications usually arrive as a filled-in copy of the form from
//! the announcement, in Korean or English:
//!
//! ```text
//! ■ 성 명 : 김민준
//! ■ 소 속 : 한빛테크
//! ■ 연락처 : 010-1234-5678
//! ```
//!
//! [`extract_fields`] first cuts the quoted or forwarded history off with
//! [`strip_quoted`] (the quoted announcement usually carries the *empty* form),
//! then reads every remaining line as: optional bullet or numbering, a known
//! label, a separator, a value. A label standing alone on its line takes its
//! value from the next non-empty line (tables rendered to text).
//! [`normalize_phone`] and [`parse_attendees`] are public so callers can reuse
//! them on values from elsewhere.
//!
//! Beyond `label: value` lines, three layouts name several people: a name
//! label with a list (`참석자: 김민준, 이서연`), a table whose first row holds
//! the labels (`성명 | 소속 | 직위` then one row per person), and numbered
//! rows (`1. 김민준 / 한빛테크 / 팀장 / 010-…`). Everyone named is listed in
//! [`Fields::people`]; the first person's details are the applicant's. A count
//! in a sentence (`저 포함 3명 참석합니다`) is read when no label states one.
//!
//! The module is pure (no I/O, no state); it uses [`super::guess`] to tell
//! names and titles apart in unlabelled text.

use serde::Serialize;

use super::guess;
use super::source::{FieldSources, Source};

/// Applicant details found in an email body.
///
/// Every field is optional; the first usable value for a field wins.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Fields {
    /// The applicant's name, as written.
    pub name: Option<String>,
    /// Company, institute or other affiliation, as written.
    pub organization: Option<String>,
    /// Job title or rank, as written.
    pub position: Option<String>,
    /// Phone number normalized by [`normalize_phone`] (e.g. `010-1234-5678`).
    /// A labelled value with no recognisable Korean number leaves this `None`.
    pub phone: Option<String>,
    /// An address written in the body under an email label.
    pub email: Option<String>,
    /// Number of attendees, as parsed by [`parse_attendees`]; else as stated in
    /// a sentence; else the number of [`Fields::people`] when several are named.
    pub attendees: Option<u32>,
    /// Everyone named as applicant or attendee, in order, without repeats
    /// (usually just the applicant).
    pub people: Vec<String>,
}

/// Largest attendee count accepted by [`parse_attendees`].
const MAX_ATTENDEES: u32 = 50;

/// How many lines below a label without a value are searched for that value.
const NEXT_LINE_LOOKAHEAD: usize = 3;

/// Longest line (in characters) accepted as a value on the line below its label.
const MAX_NEXT_LINE_CHARS: usize = 80;

/// Most words accepted in a value on the line below its label.
const MAX_NEXT_LINE_WORDS: usize = 8;

// ---------------------------------------------------------------------------
// Quote stripping
// ---------------------------------------------------------------------------

/// The part of a body the applicant wrote: everything above the first
/// quote/forward marker.
///
/// Recognised markers (the cut is made at the start of the marker line):
/// - `-----Original Message-----`, `-----원본 메시지-----`,
///   `---------- Forwarded message ---------` and similar banners, any case
///   and any number of dashes;
/// - `On … wrote:` attributions, also when wrapped over two lines;
/// - Korean attributions ending in `님이 작성:`, or in `작성:` with a date;
/// - an Outlook header block: a line starting with `From:` or `보낸 사람:`
///   followed within the next four non-empty lines by `Sent:`, `Date:`, `To:`,
///   `보낸 날짜:`, `받는 사람:` and the like;
/// - an Outlook separator of ten or more underscores;
/// - the first line starting with `>`.
#[must_use]
pub fn strip_quoted(text: &str) -> &str {
    let spans = line_spans(text);
    let lines: Vec<&str> = spans.iter().map(|&(_, line)| line.trim_matches(is_space)).collect();
    match (0..lines.len()).find(|&i| starts_quote(&lines, i)) {
        Some(i) => &text[..spans[i].0],
        None => text,
    }
}

/// Every line of `text` with the byte offset where it starts.
fn line_spans(text: &str) -> Vec<(usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n')
        .map(|line| {
            let span = (start, line);
            start += line.len();
            span
        })
        .collect()
}

/// Whether quoted or forwarded history begins at trimmed line `i`.
fn starts_quote(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    let next = lines.get(i + 1).copied().unwrap_or("");
    line.starts_with('>')
        || is_banner(line)
        || is_underscore_rule(line)
        || is_english_attribution(line, next)
        || is_korean_attribution(line, next)
        || is_header_block(lines, i)
}

/// Banner texts of reply/forward separators, compared after the surrounding
/// dashes are removed and the text is lowercased.
const BANNERS: &[&str] = &[
    "original message",
    "forwarded message",
    "begin forwarded message",
    "원본 메시지",
    "원본 메세지",
    "원본 메일",
    "원래 메시지",
    "전달된 메시지",
    "전달된 메일",
    "전달 메시지",
];

/// `-----Original Message-----`, `---------- Forwarded message ---------`, ...
fn is_banner(line: &str) -> bool {
    let core = line
        .trim_matches(|c: char| is_dash(c) || matches!(c, '=' | '─' | '*') || is_space(c))
        .trim_end_matches(':')
        .to_lowercase();
    BANNERS.contains(&core.as_str())
}

/// Outlook's `________________________________` separator.
fn is_underscore_rule(line: &str) -> bool {
    line.chars().count() >= 10 && line.chars().all(|c| c == '_')
}

/// `On Tue, 5 Mar 2024 at 10:12, Jane Doe <jane@x.example> wrote:`, possibly
/// wrapped so that `wrote:` ends the following line.
fn is_english_attribution(line: &str, next: &str) -> bool {
    starts_with_ci(line, "On ") && (ends_with_ci(line, "wrote:") || ends_with_ci(next, "wrote:"))
}

/// `2024년 3월 5일 (화) 오전 10:12, 사무국 <office@univ.example>님이 작성:`, or
/// any line ending in `작성:` that carries a year; also when the attribution
/// is wrapped so that `작성:` ends the line after the date.
fn is_korean_attribution(line: &str, next: &str) -> bool {
    let starts_with_date = line.starts_with(|c: char| c.is_ascii_digit()) && has_year(line);
    line.ends_with("님이 작성:")
        || (line.ends_with("작성:") && has_year(line))
        || (starts_with_date && next.ends_with("작성:"))
}

/// Whether `line` contains a run of four digits (a year in a date), which
/// tells `2024. 3. 5. … 작성:` from a numbered form item `2. … 작성:`.
fn has_year(line: &str) -> bool {
    line.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 4)
}

/// Line starts that open an Outlook-style header block.
const HEADER_OPENERS: &[&str] = &["From:", "보낸 사람:", "보낸사람:"];

/// Line starts that follow the opener inside such a block.
const HEADER_FOLLOWERS: &[&str] = &[
    "Sent:",
    "Date:",
    "To:",
    "Cc:",
    "Subject:",
    "보낸 날짜:",
    "보낸날짜:",
    "날짜:",
    "받는 사람:",
    "받는사람:",
    "참조:",
    "제목:",
];

/// A `From:` / `보낸 사람:` line followed within four non-empty lines by
/// another header line. Markdown-ish bold (`*From:*`) is tolerated.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    let is_header = |line: &str, keys: &[&str]| {
        let line = line.trim_start_matches(|c: char| c == '*' || is_space(c));
        keys.iter().any(|key| starts_with_ci(line, key))
    };
    is_header(lines[i], HEADER_OPENERS)
        && lines[i + 1..].iter().filter(|line| !line.is_empty()).take(4).any(|line| is_header(line, HEADER_FOLLOWERS))
}

// ---------------------------------------------------------------------------
// Field extraction
// ---------------------------------------------------------------------------

/// Extract fields from the applicant's own text (calls [`strip_quoted`] first).
///
/// A line is read only when it *starts* (after bullets or numbering) with a
/// known label followed by a separator, so a label word inside a sentence is
/// never taken. Several `label: value` pairs on one line, split by `/`, `,`,
/// `;`, `|` or a tab, are all read. A label with an empty value takes the next
/// non-empty line as its value unless that line is itself a label line or
/// reads like a sentence.
#[must_use]
pub fn extract_fields(text: &str) -> Fields {
    read(text).fields
}

/// What [`read`] finds in a text: the fields, where each was read, and labelled
/// values that could not be used.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reading {
    pub fields: Fields,
    /// Where each field of `fields` was read; `email` is left empty and
    /// `stated_email` is the source of [`Fields::email`].
    pub sources: FieldSources,
    /// The first value under a phone label in which no phone number could be
    /// found, though it has digits (`010-12-34`).
    pub unreadable_phone: Option<String>,
    /// The first value under an attendees label that is not a usable count,
    /// though it has digits (`0명`, `120명`).
    pub unreadable_attendees: Option<String>,
}

/// [`extract_fields`], and where each value was read.
#[must_use]
pub fn read(text: &str) -> Reading {
    let lines: Vec<&str> = strip_quoted(text).lines().collect();
    let mut reader = Reader::default();
    let mut i = 0;
    while i < lines.len() {
        let line = i + 1;
        if let Some(columns) = header_row(lines[i]) {
            let rows = reader.read_column_table(&lines[i + 1..], line + 1, &columns);
            i += 1 + rows;
            continue;
        }
        let entries = parse_line(lines[i]);
        if entries.is_empty() {
            if let Some(record) = record_row(lines[i]) {
                reader.offer_record(&record, line);
            }
            i += 1;
            continue;
        }
        if let [only] = entries.as_slice() {
            if clean_value(only.value, false).is_none() {
                if let Some(j) = next_line_value(&lines, i) {
                    let at = Source::Label { line, label: only.label.to_owned() };
                    reader.offer(only.field, strip_list_marker(lines[j]), at);
                    i = j + 1;
                    continue;
                }
            }
        }
        for entry in &entries {
            let label = entry.label.to_owned();
            let at =
                if entry.cell { Source::TableCell { line, label, html: false } } else { Source::Label { line, label } };
            reader.offer(entry.field, entry.value, at);
        }
        i += 1;
    }
    reader.finish(&lines)
}

/// The state of [`read`]: the fields so far, the hints, and where each was
/// found.
#[derive(Debug, Default)]
struct Reader {
    fields: Fields,
    hints: Hints,
    /// Indexed by [`Field`].
    sources: [Option<Source>; 6],
    /// Where each hint was found, indexed by [`Field`].
    hint_sources: [Option<Source>; 6],
    unreadable_phone: Option<String>,
    unreadable_attendees: Option<String>,
}

impl Field {
    /// Every field, in the order of the indexes of [`Reader::sources`] and [`filled`].
    const ALL: [Field; 6] =
        [Field::Name, Field::Organization, Field::Position, Field::Phone, Field::Email, Field::Attendees];
}

/// Which fields have a value.
fn filled(fields: &Fields) -> [bool; 6] {
    [
        fields.name.is_some(),
        fields.organization.is_some(),
        fields.position.is_some(),
        fields.phone.is_some(),
        fields.email.is_some(),
        fields.attendees.is_some(),
    ]
}

/// Which hints have a value (same indexes as [`filled`]).
fn hinted(hints: &Hints) -> [bool; 6] {
    [false, false, hints.position.is_some(), hints.phone.is_some(), false, hints.attendees.is_some()]
}

impl Reader {
    /// Runs `act` and records `at` as the source of every field it filled and
    /// `hint_at` as the source of every hint it filled.
    fn traced(&mut self, at: &Source, hint_at: &Source, act: impl FnOnce(&mut Fields, &mut Hints)) {
        let (fields_before, hints_before) = (filled(&self.fields), hinted(&self.hints));
        act(&mut self.fields, &mut self.hints);
        let (fields_after, hints_after) = (filled(&self.fields), hinted(&self.hints));
        for slot in Field::ALL {
            let k = slot as usize;
            if fields_after[k] && !fields_before[k] {
                self.sources[k] = Some(at.clone());
            }
            if hints_after[k] && !hints_before[k] {
                self.hint_sources[k] = Some(hint_at.clone());
            }
        }
    }

    /// [`Fields::offer`] with its source; a labelled phone or count that
    /// cannot be used is kept for [`Reading`].
    fn offer(&mut self, field: Field, value: &str, at: Source) {
        let label = match &at {
            Source::Label { label, .. } | Source::TableCell { label, .. } => label.clone(),
            _ => String::new(),
        };
        let line = match &at {
            Source::Label { line, .. } | Source::TableCell { line, .. } => *line,
            _ => 0,
        };
        let hint_at = Source::WithLabel { line, label };
        self.traced(&at, &hint_at, |fields, hints| fields.offer(field, value, hints));
        let cell = first_cell(value);
        let has_digit = cell.chars().any(|c| to_halfwidth(c).is_ascii_digit());
        let kept = || clean_value(cell, true).map(str::to_string);
        match field {
            Field::Phone if has_digit && find_phone(cell).is_none() => fill(&mut self.unreadable_phone, kept()),
            Field::Attendees if has_digit && parse_attendees(cell).is_none() => {
                fill(&mut self.unreadable_attendees, kept());
            }
            _ => {}
        }
    }

    /// Reads the rows under a header row of labels (`성명 | 소속 | 직위`):
    /// the first row is the applicant's, every row's name is a person.
    /// `first_line` is the line number of the first row. Returns the number
    /// of rows read.
    fn read_column_table(&mut self, lines: &[&str], first_line: usize, columns: &[Option<(Field, &str)>]) -> usize {
        let mut rows = 0;
        for line in lines {
            let Some(cells) = split_cells(line).filter(|c| c.len() >= 2) else {
                break;
            };
            if header_row(line).is_some() {
                break;
            }
            for (&column, cell) in columns.iter().zip(&cells) {
                match column {
                    Some((field, label)) if rows == 0 => {
                        let at = Source::TableCell { line: first_line, label: label.to_owned(), html: false };
                        self.offer(field, cell, at);
                    }
                    Some((Field::Name, _)) => {
                        if let Some(value) = clean_value(cell, false) {
                            let named = split_people(value);
                            if named.names.is_empty() {
                                self.fields.add_person(value);
                            }
                            for name in &named.names {
                                self.fields.add_person(name);
                            }
                        }
                    }
                    _ => {}
                }
            }
            rows += 1;
        }
        rows
    }

    /// A numbered row naming a person (see [`record_row`]) on `line`.
    fn offer_record(&mut self, record: &Record, line: usize) {
        let at = Source::PersonRow { line };
        self.traced(&at, &at, |fields, hints| fields.offer_record(record, hints));
    }

    /// After every line: hints fill what no label stated; the count comes
    /// from a sentence, else from the people named.
    fn finish(mut self, lines: &[&str]) -> Reading {
        let fields = &mut self.fields;
        let hints = std::mem::take(&mut self.hints);
        let before = filled(fields);
        fill(&mut fields.position, hints.position);
        fill(&mut fields.phone, hints.phone);
        fill(&mut fields.attendees, hints.attendees);
        for slot in [Field::Position, Field::Phone, Field::Attendees] {
            let k = slot as usize;
            if filled(fields)[k] && !before[k] {
                self.sources[k] = self.hint_sources[k].take();
            }
        }
        if fields.attendees.is_none() {
            if let Some((index, count)) = attendees_in_sentences(lines) {
                fields.attendees = Some(count);
                self.sources[Field::Attendees as usize] = Some(Source::Sentence { line: index + 1 });
            }
        }
        if fields.attendees.is_none() && fields.people.len() >= 2 {
            fields.attendees = u32::try_from(fields.people.len()).ok().filter(|&n| n <= MAX_ATTENDEES);
            if fields.attendees.is_some() {
                let count = fields.people.len();
                self.sources[Field::Attendees as usize] = Some(Source::PeopleList { count });
            }
        }
        let [name, organization, position, phone, stated_email, attendees] = self.sources;
        Reading {
            fields: self.fields,
            sources: FieldSources { name, organization, position, phone, email: None, stated_email, attendees },
            unreadable_phone: self.unreadable_phone,
            unreadable_attendees: self.unreadable_attendees,
        }
    }
}

/// What a value said about another field: `김민준 (팀장)` and `한빛테크 / 팀장`
/// name a position, `김민준 (010-1234-5678)` a phone, `김민준 외 1명` a number
/// of attendees. Used only when no label states them.
#[derive(Debug, Default)]
struct Hints {
    position: Option<String>,
    phone: Option<String>,
    attendees: Option<u32>,
}

impl Fields {
    /// Stores the raw `value` found under a `field` label, unless that field
    /// already has a value or `value` is unusable for it. A count under a
    /// name label (`참석자: 2명`) is taken as the number of attendees.
    fn offer(&mut self, field: Field, value: &str, hints: &mut Hints) {
        let cell = first_cell(value);
        let text = |keep_period| clean_value(cell, keep_period).filter(|v| !is_bare_label(v)).map(str::to_string);
        match field {
            Field::Name if parse_attendees(value).is_some() => {
                fill(&mut self.attendees, parse_attendees(value));
            }
            Field::Name => self.offer_name(value, hints),
            Field::Organization => {
                let (organization, title) = split_trailing_title(cell);
                fill(
                    &mut self.organization,
                    clean_value(organization, true).filter(|v| !is_bare_label(v)).map(str::to_string),
                );
                fill(&mut hints.position, title.map(str::to_string));
            }
            Field::Position => fill(&mut self.position, text(false)),
            Field::Phone => fill(&mut self.phone, find_phone(cell)),
            Field::Email => fill(&mut self.email, find_email(value)),
            Field::Attendees => fill(&mut self.attendees, parse_attendees(cell)),
        }
    }

    /// A value under a name label: one name, a list of names, or a name
    /// with a title or a count of companions (see [`split_people`]).
    fn offer_name(&mut self, value: &str, hints: &mut Hints) {
        let Some(value) = clean_value(value, false).filter(|v| !is_bare_label(v)) else {
            return;
        };
        let named = split_people(value);
        if named.names.is_empty() {
            fill(&mut self.name, Some(value.to_string()));
            self.add_person(value);
            return;
        }
        fill(&mut self.name, named.names.first().cloned());
        for name in &named.names {
            self.add_person(name);
        }
        fill(&mut hints.position, named.title);
        fill(&mut hints.phone, named.phone);
        fill(&mut hints.attendees, named.companions.map(|n| n + 1));
    }

    fn add_person(&mut self, name: &str) {
        if !self.people.iter().any(|p| p == name) {
            self.people.push(name.to_string());
        }
    }

    /// A numbered row naming a person (see [`record_row`]).
    fn offer_record(&mut self, record: &Record, hints: &mut Hints) {
        fill(&mut self.name, Some(record.name.clone()));
        self.add_person(&record.name);
        fill(&mut self.organization, record.organization.clone());
        fill(&mut self.phone, record.phone.clone());
        fill(&mut hints.position, record.position.clone());
    }
}

// ---------------------------------------------------------------------------
// People, tables of people, counts in sentences
// ---------------------------------------------------------------------------

/// The people in a name value.
#[derive(Debug, Default, PartialEq, Eq)]
struct Named {
    /// Each name, in order; empty when the value is not recognisably names
    /// (it is then kept as written).
    names: Vec<String>,
    /// A title written with the (first) name: `김민준 (팀장)`, `김민준 팀장`.
    title: Option<String>,
    /// A phone number written with the (first) name: `김민준 (010-1234-5678)`.
    phone: Option<String>,
    /// `김민준 외 1명`: people coming along besides the named one.
    companions: Option<u32>,
}

/// Reads a name value: `김민준`, `김민준, 이서연`, `김민준 및 이서연`,
/// `배서준 (책임연구원)`, `김민준 팀장`, `김민준 외 1명`, `Jane Doe`. Every
/// piece must be a name (with at most a title or a note), else nothing is
/// split and `names` is empty.
fn split_people(value: &str) -> Named {
    let mut named = Named::default();
    for piece in split_name_list(value) {
        let (base, note) = split_note(piece);
        let (base, companions) = split_companions(base);
        let (name, title) = if guess::is_person_name(base) {
            (base, None)
        } else if let Some((name, title)) = guess::name_and_title(base) {
            (name, Some(title))
        } else {
            return Named::default();
        };
        if named.names.is_empty() {
            named.title = title.or(note.filter(|n| guess::is_title(n))).map(str::to_string);
            named.phone = note.and_then(find_phone);
        }
        named.companions = named.companions.or(companions);
        named.names.push(name.to_string());
    }
    named
}

/// Splits a list of names at `,` `、` `/` `;` and the words `및`, `와`, `and`, `&`.
fn split_name_list(value: &str) -> Vec<&str> {
    let mut pieces = vec![value];
    for separator in [" 및 ", " 와 ", " and ", " & "] {
        pieces = pieces.into_iter().flat_map(|p| p.split(separator)).collect();
    }
    pieces
        .into_iter()
        .flat_map(|p| p.split([',', '、', '，', '/', ';', '\t']))
        .map(|p| p.trim_matches(is_space))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The first non-empty cell of a value that runs on into more table cells
/// (`한빛테크\t한빛테크` under a label with one column per person).
fn first_cell(value: &str) -> &str {
    if !value.contains('\t') {
        return value;
    }
    value.split('\t').map(|c| c.trim_matches(is_space)).find(|c| !c.is_empty()).unwrap_or("")
}

/// `한빛테크 / 팀장` → (`한빛테크`, `팀장`): an organization value ending in a
/// title after `/` or `|`.
fn split_trailing_title(value: &str) -> (&str, Option<&str>) {
    match value.rsplit_once(['/', '|', '│']) {
        Some((organization, title))
            if guess::is_title(title.trim_matches(is_space)) && !organization.trim_matches(is_space).is_empty() =>
        {
            (organization.trim_matches(is_space), Some(title.trim_matches(is_space)))
        }
        _ => (value, None),
    }
}

/// `배서준 (책임연구원)` → (`배서준`, `책임연구원`).
fn split_note(piece: &str) -> (&str, Option<&str>) {
    let Some(inner) = piece.strip_suffix([')', '）']) else {
        return (piece, None);
    };
    match inner.rfind(['(', '（']) {
        Some(open) => {
            let note = inner[open..].trim_start_matches(['(', '（']).trim_matches(is_space);
            (inner[..open].trim_matches(is_space), Some(note))
        }
        None => (piece, None),
    }
}

/// `김민준 외 1명` → (`김민준`, 1).
fn split_companions(piece: &str) -> (&str, Option<u32>) {
    match piece.split_once(" 외 ") {
        Some((name, rest)) => match parse_attendees(rest) {
            Some(n) => (name.trim_matches(is_space), Some(n)),
            None => (piece, None),
        },
        None => (piece, None),
    }
}

/// The cells of a table row rendered as text: split at tabs, or at `|` when
/// the line has no tab; `None` for a line with neither.
fn split_cells(line: &str) -> Option<Vec<&str>> {
    let line = line.trim_matches(|c: char| c == ' ' || c == '\u{a0}');
    let cells: Vec<&str> = if line.contains('\t') {
        line.split('\t').collect()
    } else if line.contains(['|', '│']) {
        line.trim_matches(['|', '│']).split(['|', '│']).collect()
    } else {
        return None;
    };
    Some(cells.into_iter().map(|c| c.trim_matches(is_space)).collect())
}

/// Index-column headings allowed in a header row (`No.`, `번호`).
const INDEX_HEADINGS: &[&str] = &["no", "no.", "#", "번호", "순번", "연번", "구분"];

/// A header row: at least two cells that are labels and nothing else (an
/// index heading or an empty cell aside). Returns each column's field.
fn header_row(line: &str) -> Option<Vec<Option<(Field, &str)>>> {
    let cells = split_cells(line)?;
    let mut columns = Vec::with_capacity(cells.len());
    let mut labels = 0;
    for cell in cells {
        if let Some(column) = label_only(cell) {
            columns.push(Some(column));
            labels += 1;
        } else if cell.is_empty() || INDEX_HEADINGS.contains(&cell.to_lowercase().as_str()) {
            columns.push(None);
        } else {
            return None;
        }
    }
    (labels >= 2).then_some(columns)
}

/// The field of a cell that holds a label and nothing else (`성 명`,
/// `연락처(휴대폰)`, `Name:`), and the label as written.
fn label_only(cell: &str) -> Option<(Field, &str)> {
    let cell = strip_list_marker(cell);
    let (field, len) = find_label(cell)?;
    let rest = skip_annotation(&cell[len..]).trim_matches(|c: char| is_space(c) || is_colon(c));
    rest.is_empty().then_some((field, &cell[..len]))
}

/// Whether a value is itself just a label (a misread header row).
fn is_bare_label(value: &str) -> bool {
    label_only(value).is_some()
}

/// One person's details from a numbered row.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    name: String,
    organization: Option<String>,
    position: Option<String>,
    phone: Option<String>,
}

/// A numbered or bulleted row of at least three segments naming a person
/// and at least one of a phone number, title or organization:
/// `1. 김민준 / 한빛테크 / 팀장 / 010-1234-5678`.
fn record_row(line: &str) -> Option<Record> {
    let trimmed = line.trim_matches(is_space);
    let stripped = strip_list_marker(trimmed);
    if stripped.len() == trimmed.len() {
        return None;
    }
    let segments: Vec<&str> = stripped
        .split(['/', '|', '│', '\t', ',', '，'])
        .map(|s| s.trim_matches(is_space))
        .filter(|s| !s.is_empty())
        .collect();
    if segments.len() < 3 {
        return None;
    }
    let first = segments[0];
    let starts_with_name = guess::is_person_name(first) || guess::name_and_title(first).is_some();
    if !starts_with_name {
        return None;
    }
    let mut record = Record { name: String::new(), organization: None, position: None, phone: None };
    let mut unknown = Vec::new();
    for segment in segments {
        if record.phone.is_none() {
            if let Some(phone) = find_phone(segment) {
                record.phone = Some(phone);
                continue;
            }
        }
        if record.name.is_empty() && guess::is_person_name(segment) {
            record.name = segment.to_string();
        } else if let (true, Some((name, title))) = (record.name.is_empty(), guess::name_and_title(segment)) {
            record.name = name.to_string();
            record.position = Some(title.to_string());
        } else if record.position.is_none() && guess::is_title(segment) {
            record.position = Some(segment.to_string());
        } else if guess::has_org_marker(segment) || guess::has_org_suffix(segment) {
            fill(&mut record.organization, Some(segment.to_string()));
        } else {
            unknown.push(segment);
        }
    }
    let plain_words = |s: &str| !s.contains('@') && !s.chars().any(|c| c.is_ascii_digit());
    if record.organization.is_none() && unknown.len() == 1 && plain_words(unknown[0]) {
        record.organization = unknown.first().map(|s| s.to_string());
    }
    let details = record.phone.is_some() || record.position.is_some() || record.organization.is_some();
    (!record.name.is_empty() && details).then_some(record)
}

/// A count of attendees in a sentence of the applicant's own lines:
/// `저 포함 3명 참석합니다`, `김민준 외 1명 참가`, `두 명이 참석할 예정입니다`,
/// `2 people will attend`, `a table for 3 people`.
/// Returns the index of the line and the count.
fn attendees_in_sentences(lines: &[&str]) -> Option<(usize, u32)> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| parse_line(line).is_empty())
        .find_map(|(index, line)| {
            let text: String = line.chars().map(to_halfwidth).collect::<String>().to_lowercase();
            korean_count_sentence(&text).or_else(|| english_count_sentence(&text)).map(|count| (index, count))
        })
        .filter(|(_, n)| (1..=MAX_ATTENDEES).contains(n))
}

/// Verbs that, after `N명`, make the number a count of attendees.
const ATTEND_VERBS_KO: &[&str] = &["참석", "참가", "신청", "방문", "갑니다", "가겠", "함께"];

fn korean_count_sentence(text: &str) -> Option<u32> {
    text.char_indices().find_map(|(i, _)| {
        let before = &text[..i];
        let word_start =
            before.is_empty() || before.ends_with(|c: char| is_space(c) || matches!(c, ',' | '(' | '.' | '총'));
        if !word_start {
            return None;
        }
        let (count, rest, _) = leading_count(&text[i..])?;
        let rest = rest.trim_start_matches(is_inline_space).strip_prefix('명')?;
        let rest =
            rest.trim_start_matches(|c: char| is_space(c) || matches!(c, '이' | '가' | '은' | '는' | '도' | '서'));
        if !ATTEND_VERBS_KO.iter().any(|verb| rest.starts_with(verb)) {
            return None;
        }
        let besides = before.trim_end_matches(is_space).ends_with('외');
        Some(count + u32::from(besides))
    })
}

fn english_count_sentence(text: &str) -> Option<u32> {
    let words: Vec<&str> = text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric())).collect();
    (0..words.len()).find_map(|k| {
        let (count, rest, _) = leading_count(words[k])?;
        if !rest.is_empty() {
            return None;
        }
        let next = *words.get(k + 1)?;
        let people = ["people", "persons", "attendees", "participants", "guests", "of"].contains(&next);
        let verb_follows = words
            .iter()
            .skip(k + 2)
            .take(4)
            .any(|w| ["attend", "join", "come", "participat", "register"].iter().any(|v| w.starts_with(v)));
        let for_people = k > 0 && words[k - 1] == "for" && next != "of";
        (people && (verb_follows || for_people)).then_some(count)
    })
}

/// Sets an empty `slot` to `value`; a filled slot is kept (first value wins).
fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Index of the line below line `i` holding the value of its empty label:
/// the next non-empty line within [`NEXT_LINE_LOOKAHEAD`] lines, provided it
/// is not a label line itself and looks like a value rather than prose.
fn next_line_value(lines: &[&str], i: usize) -> Option<usize> {
    let end = lines.len().min(i + 1 + NEXT_LINE_LOOKAHEAD);
    let j = (i + 1..end).find(|&j| !lines[j].trim_matches(is_space).is_empty())?;
    let usable = parse_line(lines[j]).is_empty() && looks_like_value(strip_list_marker(lines[j]));
    usable.then_some(j)
}

/// Whether a line standing under a label reads like a form value: short, not
/// an (unknown) `label:` line, not a sentence.
fn looks_like_value(line: &str) -> bool {
    let line = line.trim_matches(is_space);
    let sentence_end =
        line.ends_with(['?', '!', '？', '！']) || ["다", "다.", "요", "요."].iter().any(|end| line.ends_with(end));
    clean_value(line, true).is_some()
        && line.chars().count() <= MAX_NEXT_LINE_CHARS
        && line.split_whitespace().count() <= MAX_NEXT_LINE_WORDS
        && !line.contains([':', '：'])
        && !sentence_end
}

/// Trims a raw value (including NBSP and ideographic spaces) and strips
/// trailing `,` `;` `|` (and `.` unless `keep_period`). `None` when nothing
/// is left or the value is an obvious blank (see [`is_placeholder`]).
fn clean_value(raw: &str, keep_period: bool) -> Option<&str> {
    let value = raw.trim_matches(is_space).trim_end_matches(|c: char| {
        is_space(c) || matches!(c, ',' | ';' | '，' | '；' | '、' | '|' | '│') || (c == '.' && !keep_period)
    });
    (!is_placeholder(value)).then_some(value)
}

/// Blanks of an unfilled form: nothing, `( )`, `____`, `---`, `OOO`, `○○○`,
/// `xxx`, `ㅇㅇㅇ`, `***`. Real-looking sample values are *not* blanks.
fn is_placeholder(value: &str) -> bool {
    let core: Vec<char> = value.chars().filter(|&c| !is_space(c) && !is_bracket(c)).collect();
    let Some(&first) = core.first() else {
        return true;
    };
    let all_rules = core.iter().all(|&c| matches!(c, '_' | '＿' | '.' | '…') || is_dash(c));
    let repeated_mark = core.len() >= 2
        && matches!(first.to_ascii_lowercase(), 'o' | 'x' | '○' | '◯' | 'ㅇ' | '*' | '△')
        && core.iter().all(|c| c.eq_ignore_ascii_case(&first));
    all_rules || repeated_mark
}

/// The first address-like token of `value` (`<>`, `mailto:` and trailing
/// punctuation removed).
fn find_email(value: &str) -> Option<String> {
    let value: String = value.chars().map(to_halfwidth).collect();
    value
        .split(|c: char| is_space(c) || matches!(c, '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | '"' | '\''))
        .map(|token| {
            let token = token.strip_prefix("mailto:").unwrap_or(token);
            token.trim_end_matches(['.', ':'])
        })
        .find(|token| is_email(token))
        .map(str::to_string)
}

/// A plausible `local@domain.tld`.
fn is_email(token: &str) -> bool {
    let Some((local, domain)) = token.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The first Korean phone number in `value`: the whole value, or else the
/// first run of phone-like characters (`010-1234-5678 (휴대폰)`,
/// `02-555-1234 / 010-1234-5678`).
pub(crate) fn find_phone(value: &str) -> Option<String> {
    normalize_phone(value).or_else(|| {
        value
            .split(|c: char| !is_phone_char(c))
            .filter(|run| run.chars().any(|c| to_halfwidth(c).is_ascii_digit()))
            .find_map(normalize_phone)
    })
}

/// Characters that may appear in a written phone number.
fn is_phone_char(c: char) -> bool {
    let c = to_halfwidth(c);
    c.is_ascii_digit() || matches!(c, '+' | '.' | '(' | ')') || is_dash(c) || is_space(c)
}

// ---------------------------------------------------------------------------
// Line parsing
// ---------------------------------------------------------------------------

/// Which [`Fields`] slot a label fills (and, as an index, which slot of [`Reader::sources`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Organization,
    Position,
    Phone,
    Email,
    Attendees,
}

/// Recognised labels. Spaces inside a label are optional in the text (`성 명`,
/// `Full name`, `Fullname` all match), letters compare ASCII
/// case-insensitively, and the longest matching label wins.
const LABELS: &[(&str, Field)] = &[
    ("성명", Field::Name),
    ("이름", Field::Name),
    ("성함", Field::Name),
    ("신청자", Field::Name),
    ("신청자 성명", Field::Name),
    ("신청자명", Field::Name),
    ("참석자", Field::Name),
    ("참석자 성명", Field::Name),
    ("참석자명", Field::Name),
    ("참석자 명단", Field::Name),
    ("참가자", Field::Name),
    ("참가자 성명", Field::Name),
    ("참가자명", Field::Name),
    ("참가자 명단", Field::Name),
    ("담당자", Field::Name),
    ("담당자 성명", Field::Name),
    ("name", Field::Name),
    ("full name", Field::Name),
    ("your name", Field::Name),
    ("applicant", Field::Name),
    ("applicant name", Field::Name),
    ("소속", Field::Organization),
    ("소속기관", Field::Organization),
    ("회사", Field::Organization),
    ("회사명", Field::Organization),
    ("기관", Field::Organization),
    ("기관명", Field::Organization),
    ("업체명", Field::Organization),
    ("기업명", Field::Organization),
    ("company", Field::Organization),
    ("company name", Field::Organization),
    ("organization", Field::Organization),
    ("organisation", Field::Organization),
    ("affiliation", Field::Organization),
    ("직위", Field::Position),
    ("직책", Field::Position),
    ("직급", Field::Position),
    ("직함", Field::Position),
    ("position", Field::Position),
    ("title", Field::Position),
    ("job title", Field::Position),
    ("연락처", Field::Phone),
    ("전화", Field::Phone),
    ("전화번호", Field::Phone),
    ("휴대폰", Field::Phone),
    ("휴대폰 번호", Field::Phone),
    ("휴대전화", Field::Phone),
    ("휴대전화 번호", Field::Phone),
    ("핸드폰", Field::Phone),
    ("핸드폰 번호", Field::Phone),
    ("h.p", Field::Phone),
    ("hp", Field::Phone),
    ("phone", Field::Phone),
    ("phone number", Field::Phone),
    ("telephone", Field::Phone),
    ("mobile", Field::Phone),
    ("mobile phone", Field::Phone),
    ("tel", Field::Phone),
    ("cell", Field::Phone),
    ("cell phone", Field::Phone),
    ("contact number", Field::Phone),
    ("이메일", Field::Email),
    ("이메일 주소", Field::Email),
    ("메일", Field::Email),
    ("메일 주소", Field::Email),
    ("e-mail", Field::Email),
    ("e-mail address", Field::Email),
    ("email", Field::Email),
    ("email address", Field::Email),
    ("참석인원", Field::Attendees),
    ("참가인원", Field::Attendees),
    ("신청인원", Field::Attendees),
    ("인원", Field::Attendees),
    ("인원수", Field::Attendees),
    ("참석 인원수", Field::Attendees),
    ("참가 인원수", Field::Attendees),
    ("신청 인원수", Field::Attendees),
    ("참석자 수", Field::Attendees),
    ("참가자 수", Field::Attendees),
    ("attendees", Field::Attendees),
    ("number of attendees", Field::Attendees),
    ("no. of attendees", Field::Attendees),
    ("participants", Field::Attendees),
    ("number of participants", Field::Attendees),
    ("number of people", Field::Attendees),
    ("headcount", Field::Attendees),
];

/// How a label is tied to its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    /// `:`, `：` or `=`.
    Colon,
    /// A tab, `|`, or a dash with a space beside it (`성명 - 김민준`).
    Other,
    /// The label was wrapped (`[성명] 김민준`), which delimits it by itself.
    Bracket,
    /// No separator, but the value is plainly a phone number or an address
    /// (`Tel. 02-555-1234`, `E-mail jane@x.example`).
    Implied,
    /// Nothing follows the label on its line.
    Alone,
}

/// A label recognised at the start of some text, and what follows it.
struct Head<'a> {
    field: Field,
    /// The label as written (`성 명`, `Tel`), for [`Source`].
    label: &'a str,
    sep: Sep,
    /// The label and its value are cells of a table row (a tab or `|` between them).
    cell: bool,
    /// Everything after the separator (the value, maybe more pairs).
    rest: &'a str,
}

/// One `label → value` pair read from a line; `value` is raw (uncleaned).
struct Entry<'a> {
    field: Field,
    value: &'a str,
    /// The label as written.
    label: &'a str,
    /// The value is the table cell beside the label's cell.
    cell: bool,
}

/// Every `label: value` pair on `line`, or nothing when the line does not
/// start with a label and a separator.
fn parse_line(line: &str) -> Vec<Entry<'_>> {
    if let Some(entries) = combined_labels(line) {
        return entries;
    }
    let mut entries = Vec::new();
    let mut next = parse_head(strip_list_marker(line)).or_else(|| head_after_sentence(line));
    while let Some(head) = next {
        let (value, tail) = split_off_next_label(head.rest);
        entries.push(Entry { field: head.field, value, label: head.label, cell: head.cell });
        next = tail;
    }
    entries
}

/// Labels joined into one (`소속/직위: 한빛테크 / 팀장`, `성명·소속 : 김민준·한빛테크`): the
/// value is split the same way, and only a value with as many pieces as
/// there are labels is read.
fn combined_labels(line: &str) -> Option<Vec<Entry<'_>>> {
    const JOINERS: &[char] = &['/', '·', 'ㆍ', ',', '，', '･'];
    let mut rest = strip_list_marker(line);
    let mut fields = Vec::new();
    let mut joiner = None;
    loop {
        let (field, len) = find_label(rest)?;
        fields.push((field, rest[..len].trim_matches(is_space)));
        let after = skip_annotation(&rest[len..]).trim_start_matches(is_inline_space);
        let next = after.chars().next()?;
        if is_colon(next) && fields.len() >= 2 {
            rest = after[next.len_utf8()..].trim_start_matches(is_space);
            break;
        }
        if !JOINERS.contains(&next) || joiner.is_some_and(|j| j != next) || fields.len() >= 4 {
            return None;
        }
        joiner = Some(next);
        rest = after[next.len_utf8()..].trim_start_matches(is_inline_space);
    }
    let joiner = joiner?;
    let values = std::iter::once(joiner)
        .chain(['/', ',', '·'])
        .map(|j| rest.split(j).collect::<Vec<&str>>())
        .find(|values| values.len() == fields.len())?;
    Some(
        fields
            .into_iter()
            .zip(values)
            .map(|((field, label), value)| Entry { field, value, label, cell: false })
            .collect(),
    )
}

/// A `label: value` pair after a sentence on the same line, as phone mail
/// runs them together (`신청합니다. 성명: 김도윤 / 소속: …`): only after a
/// sentence end and only with a colon.
fn head_after_sentence(line: &str) -> Option<Head<'_>> {
    line.char_indices().filter(|&(_, c)| matches!(c, '.' | '!' | '?' | '。')).find_map(|(i, c)| {
        let after = &line[i + c.len_utf8()..];
        let rest = after.trim_start_matches(is_inline_space);
        if rest.len() == after.len() {
            return None;
        }
        parse_head(rest).filter(|head| head.sep == Sep::Colon)
    })
}

/// Cuts `value` before a further `label: value` pair on the same line
/// (`김민준 / 소속: 한빛테크`), returning the value and the next pair.
///
/// After `/ , ; |` or a tab any separator is accepted; after a plain space
/// only `:`/`=` (or a self-evident phone/email value) so that ordinary words
/// in a value are never mistaken for labels.
fn split_off_next_label(value: &str) -> (&str, Option<Head<'_>>) {
    let mut prev_space = true;
    for (i, c) in value.char_indices() {
        let punct = matches!(c, '/' | ',' | ';' | '|' | '│' | '\t' | '，' | '；');
        let space_start = is_inline_space(c) && !prev_space;
        prev_space = is_inline_space(c);
        if !punct && !space_start {
            continue;
        }
        let candidate = value[i + c.len_utf8()..].trim_start_matches(is_space);
        let accepted = |head: &Head| match head.sep {
            Sep::Colon | Sep::Implied => true,
            Sep::Other | Sep::Bracket => punct,
            Sep::Alone => false,
        };
        if let Some(head) = parse_head(candidate).filter(accepted) {
            return (&value[..i], Some(head));
        }
    }
    (value, None)
}

/// Reads a label and its separator at the start of `s` (bullets already
/// removed): `성명:`, `[성명]`, `성명(Name) :`, `Tel.`, `성명` alone.
fn parse_head(s: &str) -> Option<Head<'_>> {
    let (field, label, after, bracketed) = wrapped_label(s).or_else(|| bare_label(s))?;
    let (sep, rest) = separator(field, after, bracketed)?;
    let lead = after.trim_start_matches(is_inline_space);
    let cell = sep == Sep::Other && (lead.starts_with('\t') || lead.starts_with(is_bar));
    Some(Head { field, label, sep, rest, cell })
}

/// A label at the start of `s`, plus any annotation such as `(Name)`.
/// Returns the field, the label as written, the text after the label, and
/// `false` (not wrapped).
fn bare_label(s: &str) -> Option<(Field, &str, &str, bool)> {
    let (field, len) = find_label(s)?;
    Some((field, &s[..len], skip_annotation(skip_ordinal(&s[len..])), false))
}

/// Skips the number of a numbered label (`참석자 1:`, `성명2 :`): one or two
/// digits or a circled number, followed by a colon.
fn skip_ordinal(s: &str) -> &str {
    let t = s.trim_start_matches(is_inline_space);
    let len = match t.chars().next() {
        Some(c) if is_enclosed_ordinal(c) => c.len_utf8(),
        _ => t.bytes().take_while(u8::is_ascii_digit).count(),
    };
    if !(1..=3).contains(&len) {
        return s;
    }
    let after = &t[len..];
    if after.trim_start_matches(is_inline_space).starts_with(is_colon) {
        after
    } else {
        s
    }
}

/// A label wrapped in brackets: `[성명]`, `<성명>`, `【성명(Name)】`.
/// Returns the field, the label as written, the text after the closing
/// bracket, and `true`.
fn wrapped_label(s: &str) -> Option<(Field, &str, &str, bool)> {
    let open = s.chars().next()?;
    let close = closing_bracket(open)?;
    let inner_start = open.len_utf8();
    let inner_end = inner_start + s[inner_start..].find(close)?;
    let inner = s[inner_start..inner_end].trim_matches(is_space);
    let (field, len) = find_label(inner)?;
    let leftover = skip_annotation(&inner[len..]).trim_matches(|c: char| is_space(c) || is_colon(c));
    leftover.is_empty().then(|| (field, &inner[..len], &s[inner_end + close.len_utf8()..], true))
}

/// The longest label at the start of `s` that ends on a word boundary, with
/// the number of bytes it covers.
fn find_label(s: &str) -> Option<(Field, usize)> {
    LABELS
        .iter()
        .filter_map(|&(label, field)| match_label(s, label).map(|len| (field, len)))
        .filter(|&(_, len)| {
            let rest = &s[len..];
            !rest.starts_with(char::is_alphanumeric) || skip_ordinal(rest).len() != rest.len()
        })
        .max_by_key(|&(_, len)| len)
}

/// Byte length of `label` at the start of `s`, allowing spaces between its
/// characters and ignoring ASCII case; spaces in `label` are optional.
fn match_label(s: &str, label: &str) -> Option<usize> {
    let mut rest = s;
    for (k, want) in label.chars().filter(|&c| c != ' ').enumerate() {
        if k > 0 {
            rest = rest.trim_start_matches(is_inline_space);
        }
        let mut chars = rest.chars();
        if !chars.next()?.eq_ignore_ascii_case(&want) {
            return None;
        }
        rest = chars.as_str();
    }
    Some(s.len() - rest.len())
}

/// Skips what may sit between a label and its separator: an abbreviation
/// dot (`Tel.`) and a parenthesised note without digits (`성명(Name)`,
/// `연락처 (휴대폰)`, `Name(성명)`).
fn skip_annotation(s: &str) -> &str {
    let s = s.strip_prefix('.').unwrap_or(s);
    let t = s.trim_start_matches(is_inline_space);
    let Some(open @ ('(' | '（')) = t.chars().next() else {
        return s;
    };
    let close = if open == '(' { ')' } else { '）' };
    let Some(end) = t.find(close) else {
        return s;
    };
    let note = &t[open.len_utf8()..end];
    if note.chars().count() > 30 || note.chars().any(|c| to_halfwidth(c).is_ascii_digit()) {
        return s;
    }
    &t[end + close.len_utf8()..]
}

/// Classifies what follows a label and returns the separator kind with the
/// text after it; `None` when the label is not followed by a separator (it is
/// then a word in a sentence, not a label).
fn separator(field: Field, after: &str, bracketed: bool) -> Option<(Sep, &str)> {
    let lead = after.trim_start_matches(is_space);
    if lead.is_empty() {
        return Some((Sep::Alone, ""));
    }
    let gap = &after[..after.len() - lead.len()];
    let mut chars = lead.chars();
    let first = chars.next()?;
    let tail = chars.as_str();
    if is_colon(first) {
        Some((Sep::Colon, skip_separators(tail)))
    } else if is_bar(first) || (is_dash(first) && (!gap.is_empty() || tail.starts_with(is_space))) {
        Some((Sep::Other, skip_separators(tail)))
    } else if gap.matches('\t').count() >= 2 {
        // An empty cell after the label (`직위\t\t소속\t한빛정밀`): the value starts after the
        // first tab, so that it is empty when the next cell is another label, instead of that
        // label being taken for the value and its own value lost.
        let first_tab = after.find('\t').map_or(0, |at| at + 1);
        Some((Sep::Other, &after[first_tab..]))
    } else if gap.contains('\t') {
        Some((Sep::Other, lead))
    } else if bracketed {
        Some((Sep::Bracket, lead))
    } else if !gap.is_empty() && is_self_evident(field, lead) {
        Some((Sep::Implied, lead))
    } else {
        None
    }
}

/// Skips spaces and doubled separators after the first (`Name :- Jane`).
fn skip_separators(s: &str) -> &str {
    s.trim_start_matches(|c: char| is_space(c) || is_colon(c) || is_dash(c))
}

/// Whether a value following a label without separator can only be that
/// label's value: a valid phone number, or an address.
fn is_self_evident(field: Field, value: &str) -> bool {
    match field {
        Field::Phone => find_phone(value).is_some(),
        Field::Email => value.split_whitespace().next().is_some_and(|token| find_email(token).is_some()),
        _ => false,
    }
}

/// Removes leading bullets and list numbering, repeatedly:
/// `■ □ ● ○ ◆ ▶ - * • ·`, `1.`, `1)`, `(1)`, `가.`, `①`, table bars.
fn strip_list_marker(line: &str) -> &str {
    let mut s = line.trim_matches(is_space);
    loop {
        let rest = strip_one_marker(s).trim_start_matches(is_space);
        if rest.len() == s.len() {
            return s;
        }
        s = rest;
    }
}

/// Removes one bullet or numbering from the start of `s`, if any.
fn strip_one_marker(s: &str) -> &str {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_bullet(c) || is_enclosed_ordinal(c) => chars.as_str(),
        Some(_) => numbering(s).unwrap_or(s),
        None => s,
    }
}

/// `1.`, `12)`, `(3)`, `가.`, `나)`, `(다)` at the start of `s`: returns what
/// follows. Numbers starting with `0` or followed by a digit (`02.555`,
/// `(02) 555`, `1.5`) are values, not numbering.
fn numbering(s: &str) -> Option<&str> {
    let (inner, wrapped) = match s.strip_prefix(['(', '（']) {
        Some(inner) => (inner, true),
        None => (s, false),
    };
    let after = &inner[ordinal_len(inner)?..];
    let rest = if wrapped { after.strip_prefix([')', '）'])? } else { after.strip_prefix(['.', ')'])? };
    (!rest.starts_with(|c: char| c.is_ascii_digit())).then_some(rest)
}

/// Byte length of a list ordinal at the start of `s`: one or two digits not
/// starting with `0`, or one of the Hangul ordinals `가나다…하`.
fn ordinal_len(s: &str) -> Option<usize> {
    let first = s.chars().next()?;
    if "가나다라마바사아자차카타파하".contains(first) {
        return Some(first.len_utf8());
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    ((1..=2).contains(&digits) && first != '0').then_some(digits)
}

/// Bullet symbols used before form labels (and table bars).
fn is_bullet(c: char) -> bool {
    "■□▪▫●○◎◆◇▶▷►▸★☆※☞✓✔√-*•·∙・ㆍ‣–—|│".contains(c)
}

/// Circled or parenthesised numbers and Hangul: `①`, `⑴`, `⒈`, `❶`, `㉮`, `㈎`.
fn is_enclosed_ordinal(c: char) -> bool {
    matches!(
        c,
        '\u{2460}'..='\u{249B}' | '\u{2776}'..='\u{2793}' | '\u{3200}'..='\u{321C}' | '\u{3260}'..='\u{327B}'
    )
}

// ---------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------

/// Korean numbering plan: prefix, digits in the first group, allowed total
/// digit counts of the national number.
const NUMBER_PLANS: &[(&str, usize, &[usize])] = &[
    ("010", 3, &[11]),
    ("011", 3, &[10, 11]),
    ("016", 3, &[10, 11]),
    ("017", 3, &[10, 11]),
    ("018", 3, &[10, 11]),
    ("019", 3, &[10, 11]),
    ("02", 2, &[9, 10]),
    ("031", 3, &[10, 11]),
    ("032", 3, &[10, 11]),
    ("033", 3, &[10, 11]),
    ("041", 3, &[10, 11]),
    ("042", 3, &[10, 11]),
    ("043", 3, &[10, 11]),
    ("044", 3, &[10, 11]),
    ("051", 3, &[10, 11]),
    ("052", 3, &[10, 11]),
    ("053", 3, &[10, 11]),
    ("054", 3, &[10, 11]),
    ("055", 3, &[10, 11]),
    ("061", 3, &[10, 11]),
    ("062", 3, &[10, 11]),
    ("063", 3, &[10, 11]),
    ("064", 3, &[10, 11]),
    ("050", 4, &[11, 12]),
    ("070", 3, &[10, 11]),
    ("080", 3, &[10, 11]),
    ("15", 4, &[8]),
    ("16", 4, &[8]),
    ("18", 4, &[8]),
];

/// Normalizes a Korean phone number to its dashed national form.
///
/// `"010 1234 5678"`, `"010.1234.5678"`, `"+82 10-1234-5678"`,
/// `"+82-2-555-1234"`, full-width `"０１０－１２３４－５６７８"`,
/// `"01012345678"`, `"02-555-1234"`, `"031-123-4567"` become
/// `"010-1234-5678"` / `"02-555-1234"` / `"031-123-4567"`. Mobile (01x),
/// Seoul (02) and regional area codes, 070, 080, 050x and 15xx/16xx/18xx
/// service numbers are accepted. `None` when `raw` holds anything but digits
/// and the usual separators (` `, `-`, `.`, `(`, `)`, leading `+`), or the
/// digits are not a plausible Korean number.
#[must_use]
pub fn normalize_phone(raw: &str) -> Option<String> {
    let (plus, digits) = scan_phone(raw)?;
    let national = national_number(plus, &digits)?;
    format_national(&national)
}

/// The digits of `raw` and whether it starts with `+`; `None` on any other
/// character. Full-width forms and dash variants are accepted.
fn scan_phone(raw: &str) -> Option<(bool, String)> {
    let mut plus = false;
    let mut digits = String::new();
    for c in raw.chars().map(to_halfwidth) {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            '.' | '(' | ')' => {}
            c if is_dash(c) || is_space(c) => {}
            _ => return None,
        }
    }
    Some((plus, digits))
}

/// Converts international forms (`+82…`, `0082…`) to the national number;
/// other country codes give `None`.
fn national_number(plus: bool, digits: &str) -> Option<String> {
    let international = if plus { Some(digits.strip_prefix("82")?) } else { digits.strip_prefix("0082") };
    match international {
        None => Some(digits.to_string()),
        Some(rest) if rest.starts_with('0') || is_service_number(rest) => Some(rest.to_string()),
        Some(rest) => Some(format!("0{rest}")),
    }
}

/// 15xx/16xx/18xx-xxxx numbers, which have no leading `0`.
fn is_service_number(digits: &str) -> bool {
    digits.len() == 8 && ["15", "16", "18"].iter().any(|p| digits.starts_with(p))
}

/// Dashes a national number according to [`NUMBER_PLANS`]; `None` when no
/// plan fits or the middle group starts with `0`.
fn format_national(digits: &str) -> Option<String> {
    let &(_, head_len, lengths) = NUMBER_PLANS.iter().find(|(prefix, ..)| digits.starts_with(prefix))?;
    if !lengths.contains(&digits.len()) {
        return None;
    }
    let (head, rest) = digits.split_at(head_len);
    if rest.len() == 4 {
        return Some(format!("{head}-{rest}"));
    }
    let (middle, last) = rest.split_at(rest.len() - 4);
    (!middle.starts_with('0')).then(|| format!("{head}-{middle}-{last}"))
}

// ---------------------------------------------------------------------------
// Attendee counts
// ---------------------------------------------------------------------------

/// Native Korean tens: word, value, whether it needs a counter (`스무 명`).
const KO_TENS: &[(&str, u32, bool)] = &[("스물", 20, false), ("스무", 20, true), ("열", 10, false)];

/// Native Korean units: word, value, whether it needs a counter. The
/// attributive forms (`한`, `두`, `세`, `네`) are only numbers before `명`;
/// alone, `네` means "yes".
const KO_ONES: &[(&str, u32, bool)] = &[
    ("하나", 1, false),
    ("한", 1, true),
    ("둘", 2, false),
    ("두", 2, true),
    ("셋", 3, false),
    ("세", 3, true),
    ("넷", 4, false),
    ("네", 4, true),
    ("다섯", 5, false),
    ("여섯", 6, false),
    ("일곱", 7, false),
    ("여덟", 8, false),
    ("아홉", 9, false),
];

/// English number words, `one` = 1 …
const EN_NUMBERS: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// Counters that may follow the number.
const COUNT_UNITS: &[&str] = &[
    "명",
    "분",
    "인",
    "사람",
    "people",
    "persons",
    "person",
    "pax",
    "ppl",
    "participants",
    "participant",
    "attendees",
    "attendee",
    "guests",
    "guest",
];

/// Words that may precede the number (`총 2명`, `total 3`).
const COUNT_PREFIXES: &[&str] = &["총", "약", "total", "about"];

/// Parses an attendee count.
///
/// `"2"`, `"2명"`, `"2 명"`, `"두 명"`, `"세명"`, `"2 people"`, `"2 persons"`,
/// `"two"`, `"총 3명"`, `"2명 (본인 포함)"` give `Some(n)`. Native Korean
/// numerals up to 스물 and English words up to twenty are understood; a
/// parenthesised note may follow. `None` for anything else and for counts
/// outside `1..=50`.
#[must_use]
pub fn parse_attendees(raw: &str) -> Option<u32> {
    let text: String = raw.chars().map(to_halfwidth).collect::<String>().to_lowercase();
    let text = clean_value(&text, false)?;
    let (besides, text) = strip_self(text);
    let text = strip_count_prefix(text);
    let (count, rest, needs_unit) = leading_count(text)?;
    let (has_unit, rest) = strip_unit(rest.trim_start_matches(is_space));
    let rest = rest.trim_matches(is_space);
    let note_only = rest.is_empty() || rest.starts_with(['(', '（', '[']);
    let total = count + besides;
    let valid = note_only && (has_unit || !needs_unit) && count >= 1 && (1..=MAX_ATTENDEES).contains(&total);
    valid.then_some(total)
}

/// The applicant counted apart: `본인 외 1명` (one more than the number),
/// `본인 포함 2명` (the number), `me + 1`. Returns how many to add and the
/// rest of the text.
fn strip_self(text: &str) -> (u32, &str) {
    const SELF: &[(&str, u32)] = &[
        ("본인 외", 1),
        ("본인외", 1),
        ("저 외", 1),
        ("저외", 1),
        ("본인 포함", 0),
        ("본인포함", 0),
        ("저 포함", 0),
        ("저포함", 0),
        ("me +", 1),
        ("me and", 1),
        ("myself +", 1),
        ("myself and", 1),
    ];
    SELF.iter()
        .find_map(|&(prefix, besides)| {
            text.strip_prefix(prefix)
                .map(|rest| (besides, rest.trim_start_matches(|c: char| is_space(c) || is_colon(c))))
        })
        .unwrap_or((0, text))
}

/// Removes a leading `총`/`약`/`total`/`about` (and a following `:`).
fn strip_count_prefix(text: &str) -> &str {
    COUNT_PREFIXES
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
        .filter(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map_or(text, |rest| rest.trim_start_matches(|c: char| is_space(c) || is_colon(c)))
}

/// A number at the start of `text` (digits, native Korean or English word):
/// its value, the text after it, and whether it must be followed by a counter.
fn leading_count(text: &str) -> Option<(u32, &str, bool)> {
    leading_digits(text).or_else(|| leading_korean_count(text)).or_else(|| leading_english_count(text))
}

/// One to three ASCII digits.
fn leading_digits(text: &str) -> Option<(u32, &str, bool)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=3).contains(&len) {
        return None;
    }
    Some((text[..len].parse().ok()?, &text[len..], false))
}

/// Native Korean numerals: `열`, `열두`, `스무`, `다섯` …
fn leading_korean_count(text: &str) -> Option<(u32, &str, bool)> {
    let (tens, rest, tens_needs_unit) = leading_word(text, KO_TENS).unwrap_or((0, text, false));
    match leading_word(rest, KO_ONES) {
        Some((ones, rest, needs_unit)) => Some((tens + ones, rest, needs_unit)),
        None if tens > 0 => Some((tens, rest, tens_needs_unit)),
        None => None,
    }
}

/// The first of `words` that starts `text`: its value, the text after it,
/// and its needs-a-counter flag.
fn leading_word<'a>(text: &'a str, words: &[(&str, u32, bool)]) -> Option<(u32, &'a str, bool)> {
    words.iter().find_map(|&(word, value, needs_unit)| text.strip_prefix(word).map(|rest| (value, rest, needs_unit)))
}

/// English number words `one` … `twenty`.
fn leading_english_count(text: &str) -> Option<(u32, &str, bool)> {
    let len = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    let position = EN_NUMBERS.iter().position(|&word| word == &text[..len])?;
    let value = u32::try_from(position + 1).ok()?;
    Some((value, &text[len..], false))
}

/// Removes a counter (`명`, `people` …) from the start of `text`; reports
/// whether there was one.
fn strip_unit(text: &str) -> (bool, &str) {
    COUNT_UNITS
        .iter()
        .filter_map(|unit| text.strip_prefix(unit))
        .find(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map_or((false, text), |rest| (true, rest))
}

// ---------------------------------------------------------------------------
// Character helpers
// ---------------------------------------------------------------------------

/// Whitespace of any kind (incl. NBSP, U+3000) and zero-width characters.
fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// [`is_space`] except tab, which separates label and value.
fn is_inline_space(c: char) -> bool {
    c != '\t' && is_space(c)
}

/// Label/value separators of the colon kind.
fn is_colon(c: char) -> bool {
    matches!(c, ':' | '：' | '﹕' | '∶' | '=' | '＝')
}

/// Table cell bars.
fn is_bar(c: char) -> bool {
    matches!(c, '|' | '│')
}

/// Hyphen, dash and minus variants.
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}')
}

/// The bracket closing `open`, for the brackets that may wrap a label.
fn closing_bracket(open: char) -> Option<char> {
    Some(match open {
        '[' => ']',
        '<' => '>',
        '(' => ')',
        '（' => '）',
        '［' => '］',
        '【' => '】',
        '〈' => '〉',
        '《' => '》',
        '「' => '」',
        '『' => '』',
        '〔' => '〕',
        _ => return None,
    })
}

/// Whether `c` opens or closes one of the brackets known to [`closing_bracket`].
fn is_bracket(c: char) -> bool {
    closing_bracket(c).is_some() || matches!(c, ']' | '>' | ')' | '）' | '］' | '】' | '〉' | '》' | '」' | '』' | '〕')
}

/// Full-width ASCII forms (`０`, `－`, `＋`, `：`…) to ASCII, U+3000 to space.
fn to_halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// `s` starts with `prefix`, ignoring ASCII case.
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `s` ends with `suffix`, ignoring ASCII case.
fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len()
        .checked_sub(suffix.len())
        .and_then(|start| s.get(start..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shorthand for the expected value of an optional text field.
    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    // -- label families ------------------------------------------------------

    #[test]
    fn korean_form_all_fields() {
        let body = "안녕하세요. 워크숍 참가 신청합니다.\n\n\
                    성명: 김민준\n\
                    소속: 한빛테크\n\
                    직위: 팀장\n\
                    연락처: 010-1234-5678\n\
                    이메일: minjun@hanbit.example\n\
                    참석인원: 2명\n\n\
                    감사합니다.";
        assert_eq!(
            extract_fields(body),
            Fields {
                name: some("김민준"),
                organization: some("한빛테크"),
                position: some("팀장"),
                phone: some("010-1234-5678"),
                email: some("minjun@hanbit.example"),
                attendees: Some(2),
                people: vec!["김민준".to_string()],
            }
        );
    }

    #[test]
    fn english_form_all_fields() {
        let body = "Hello,\n\nFull name: Jane Doe\nCompany: Example Robotics Co., Ltd.\nJob title: Research Engineer\n\
                    Mobile: +82 10-9876-5432\nE-mail: jane.doe@robotics.example\nNumber of attendees: two\n\nBest regards,\nJane";
        assert_eq!(
            extract_fields(body),
            Fields {
                name: some("Jane Doe"),
                organization: some("Example Robotics Co., Ltd."),
                position: some("Research Engineer"),
                phone: some("010-9876-5432"),
                email: some("jane.doe@robotics.example"),
                attendees: Some(2),
                people: vec!["Jane Doe".to_string()],
            }
        );
    }

    #[test]
    fn every_name_label() {
        for label in
            ["성명", "이름", "신청자", "참석자 성명", "참석자", "Name", "Full name", "Applicant", "NAME", "full NAME"]
        {
            let fields = extract_fields(&format!("{label}: 이서연"));
            assert_eq!(fields.name, some("이서연"), "label {label}");
        }
    }

    #[test]
    fn every_organization_label() {
        for label in [
            "소속",
            "회사명",
            "회사",
            "기관명",
            "기관",
            "업체명",
            "기업명",
            "소속기관",
            "Company",
            "Organization",
            "Organisation",
            "Affiliation",
            "AFFILIATION",
        ] {
            let fields = extract_fields(&format!("{label}: 한빛테크"));
            assert_eq!(fields.organization, some("한빛테크"), "label {label}");
        }
    }

    #[test]
    fn every_position_label() {
        for label in ["직위", "직책", "직급", "Position", "Title", "Job title", "job TITLE"] {
            let fields = extract_fields(&format!("{label}: 책임연구원"));
            assert_eq!(fields.position, some("책임연구원"), "label {label}");
        }
    }

    #[test]
    fn every_phone_label() {
        for label in [
            "연락처",
            "전화",
            "전화번호",
            "휴대폰",
            "휴대전화",
            "핸드폰",
            "H.P",
            "HP",
            "Phone",
            "Mobile",
            "Tel",
            "Cell",
            "tel.",
            "H.P.",
            "휴대폰 번호",
        ] {
            let fields = extract_fields(&format!("{label}: 010-2222-3333"));
            assert_eq!(fields.phone, some("010-2222-3333"), "label {label}");
        }
    }

    #[test]
    fn every_email_label() {
        for label in ["이메일", "메일", "E-mail", "Email", "EMAIL", "e-mail address", "이메일 주소"] {
            let fields = extract_fields(&format!("{label}: seoyeon@lab.example"));
            assert_eq!(fields.email, some("seoyeon@lab.example"), "label {label}");
        }
    }

    #[test]
    fn every_attendees_label() {
        for label in [
            "참석인원",
            "참석 인원",
            "인원",
            "참가인원",
            "인원수",
            "Attendees",
            "Number of attendees",
            "Participants",
            "Headcount",
            "참석자 수",
        ] {
            let fields = extract_fields(&format!("{label}: 3"));
            assert_eq!(fields.attendees, Some(3), "label {label}");
        }
    }

    // -- separators, bullets, spacing ------------------------------------------

    #[test]
    fn separators() {
        for line in [
            "성명: 김민준",
            "성명 : 김민준",
            "성명：김민준",
            "성명 ： 김민준",
            "성명\t김민준",
            "성명 - 김민준",
            "성명 = 김민준",
            "성명=김민준",
            "Name :- 김민준",
            "성명 | 김민준 |",
        ] {
            assert_eq!(extract_fields(line).name, some("김민준"), "line {line:?}");
        }
    }

    #[test]
    fn bullets_and_numbering_are_ignored() {
        for prefix in
            ["■", "□", "●", "○", "◆", "▶", "-", "*", "•", "·", "1.", "1)", "(1)", "가.", "①", "12.", "- ■", "ㆍ", "1.■"]
        {
            let fields = extract_fields(&format!("{prefix} 소속: 한빛테크"));
            assert_eq!(fields.organization, some("한빛테크"), "prefix {prefix:?}");
            let fields = extract_fields(&format!("{prefix}소속: 한빛테크"));
            assert_eq!(fields.organization, some("한빛테크"), "prefix {prefix:?} without space");
        }
    }

    #[test]
    fn spaced_korean_labels() {
        let body = "성 명 : 김민준\n소  속 : 한빛테크\n직 위: 선임\n연 락 처 : 01012345678\n참석 인원 : 1명";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.position, some("선임"));
        assert_eq!(fields.phone, some("010-1234-5678"));
        assert_eq!(fields.attendees, Some(1));
    }

    #[test]
    fn wrapped_and_annotated_labels() {
        let body = "[성명] 김민준\n<소속> 한빛테크\n【직위】: 대리\n연락처(휴대폰): 010-3333-4444\nE-mail(이메일) : mj@hanbit.example\n참석인원(본인 포함): 2";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.position, some("대리"));
        assert_eq!(fields.phone, some("010-3333-4444"));
        assert_eq!(fields.email, some("mj@hanbit.example"));
        assert_eq!(fields.attendees, Some(2));
        assert_eq!(extract_fields("성명(Name): Jane Doe").name, some("Jane Doe"));
        assert_eq!(extract_fields("Name(성명): Jane Doe").name, some("Jane Doe"));
        assert_eq!(extract_fields("[성명(Name)] Jane Doe").name, some("Jane Doe"));
    }

    #[test]
    fn values_are_trimmed_of_spaces_and_trailing_punctuation() {
        let body =
            "성명:\u{00A0}김민준\u{3000},\n직위: 팀장;\n소속:   Example Co., Ltd.  \n이메일: <mj@hanbit.example>.";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.position, some("팀장"));
        assert_eq!(fields.organization, some("Example Co., Ltd."));
        assert_eq!(fields.email, some("mj@hanbit.example"));
    }

    #[test]
    fn crlf_input() {
        let body =
            "성명: 김민준\r\n소속: 한빛테크\r\n연락처: 010-1234-5678\r\n\r\n-----Original Message-----\r\n성명:\r\n";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.phone, some("010-1234-5678"));
    }

    #[test]
    fn value_on_next_line_from_rendered_table() {
        let body = "성명\n김민준\n소속\n\n한빛테크\n직위\n팀장\n연락처\n010 1234 5678\n이메일\nmj@hanbit.example\n참석인원\n2명";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.position, some("팀장"));
        assert_eq!(fields.phone, some("010-1234-5678"));
        assert_eq!(fields.email, some("mj@hanbit.example"));
        assert_eq!(fields.attendees, Some(2));
    }

    #[test]
    fn empty_colon_value_takes_plain_next_line() {
        let fields = extract_fields("Name:\nJane Doe\nCompany:\nExample Labs");
        assert_eq!(fields.name, some("Jane Doe"));
        assert_eq!(fields.organization, some("Example Labs"));
    }

    #[test]
    fn unfilled_form_lines_are_none_and_do_not_swallow_labels() {
        let body =
            "성명 :\n소속 : 한빛테크\n직위 : ____\n연락처 : ( )\n이메일 : OOO\n참석인원 :\n\n위와 같이 신청합니다.";
        let fields = extract_fields(body);
        assert_eq!(fields.name, None);
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.position, None);
        assert_eq!(fields.phone, None);
        assert_eq!(fields.email, None);
        assert_eq!(fields.attendees, None);
    }

    #[test]
    fn placeholders() {
        for blank in
            ["", "  ", "( )", "(   )", "____", "___ ___", "OOO", "ooo", "○○○", "xxx", "XX", "ㅇㅇㅇ", "-", "[ ]"]
        {
            assert_eq!(extract_fields(&format!("성명: {blank}")).name, None, "blank {blank:?}");
        }
        for value in ["(이름)", "홍길동", "O", "Oh Minji"] {
            assert_eq!(extract_fields(&format!("성명: {value}")).name, some(value), "value {value:?}");
        }
    }

    #[test]
    fn first_non_empty_value_wins() {
        let body = "성명:\n이름: 김민준\n성명: 이서연\nTel: 02-555-1234\n휴대폰: 010-1234-5678";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.phone, some("02-555-1234"));
    }

    #[test]
    fn unusable_value_leaves_room_for_a_later_one() {
        let body = "연락처: 추후 안내\n휴대폰: 010-1234-5678\n참석인원: 미정\n인원: 3명";
        let fields = extract_fields(body);
        assert_eq!(fields.phone, some("010-1234-5678"));
        assert_eq!(fields.attendees, Some(3));
    }

    #[test]
    fn label_words_inside_sentences_are_not_taken() {
        let body = "I would like to know the name of the venue.\nName of the venue is unclear.\n\
                    이름은 김민준입니다.\n회사소개: 첨부 참조\nPhone me any time.\nThe title: is it final?";
        let fields = extract_fields(body);
        assert_eq!(fields.name, None);
        assert_eq!(fields.organization, None);
        assert_eq!(fields.phone, None);
        assert_eq!(fields.position, None);
    }

    #[test]
    fn standalone_label_does_not_take_prose_or_labels() {
        let fields = extract_fields("신청자\n아래와 같이 신청합니다.\n성명: 김민준");
        assert_eq!(fields.name, some("김민준"));
        let fields = extract_fields("Name\nCompany: Example Labs");
        assert_eq!(fields.name, None);
        assert_eq!(fields.organization, some("Example Labs"));
        let fields = extract_fields("성명:\n비고: 없음");
        assert_eq!(fields.name, None);
    }

    #[test]
    fn several_fields_on_one_line() {
        let fields = extract_fields("성명: 김민준 / 소속: 한빛테크 / 직위: 팀장");
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.position, some("팀장"));

        let fields =
            extract_fields("Name: Jane Doe, Company: Example Labs | Phone: 010-1234-5678; Email: jane@labs.example");
        assert_eq!(fields.name, some("Jane Doe"));
        assert_eq!(fields.organization, some("Example Labs"));
        assert_eq!(fields.phone, some("010-1234-5678"));
        assert_eq!(fields.email, some("jane@labs.example"));

        let fields = extract_fields("| 성명 | 김민준 | 소속 | 한빛테크 |\n성명\t이서연\t직위\t연구원");
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.position, some("연구원"));

        let fields = extract_fields("Name: Jane Doe Title: CTO");
        assert_eq!(fields.name, some("Jane Doe"));
        assert_eq!(fields.position, some("CTO"));
    }

    #[test]
    fn count_under_name_label_is_attendees() {
        let fields = extract_fields("참석자: 2명\n성명: 김민준");
        assert_eq!(fields.attendees, Some(2));
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(extract_fields("참석 인원수: 4").attendees, Some(4));
    }

    #[test]
    fn numbered_form_item_ending_in_jakseong_is_not_a_quote() {
        let body = "1. 성명: 김민준\n2. 신청 사유 작성:\n자동화 공정 도입 검토";
        assert_eq!(strip_quoted(body), body);
        assert_eq!(extract_fields(body).name, some("김민준"));
    }

    #[test]
    fn commas_inside_values_are_kept() {
        let fields = extract_fields("성명: Doe, Jane\n회사: Example Co., Ltd.");
        assert_eq!(fields.name, some("Doe, Jane"));
        assert_eq!(fields.organization, some("Example Co., Ltd."));
    }

    // -- several people ----------------------------------------------------------

    fn people(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_list_of_names_is_people_and_a_count() {
        let fields = extract_fields("참석자: 김민준, 이서연\n소속: 한빛테크");
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.people, people(&["김민준", "이서연"]));
        assert_eq!(fields.attendees, Some(2));
        let fields = extract_fields("참석자: 김민준 및 이서연 / 소속: 한빛테크");
        assert_eq!(fields.people, people(&["김민준", "이서연"]));
        assert_eq!(fields.organization, some("한빛테크"));
        let fields = extract_fields("Attendees' names: x\nName: Jane Doe and John Roe\nAttendees: 3");
        assert_eq!(fields.people, people(&["Jane Doe", "John Roe"]));
        assert_eq!(fields.attendees, Some(3), "a stated count wins over the names counted");
    }

    #[test]
    fn a_title_or_companions_after_a_name() {
        let fields = extract_fields("성명: 배서준 (책임연구원)\n소속: 미래로봇");
        assert_eq!((fields.name, fields.position), (some("배서준"), some("책임연구원")));
        let fields = extract_fields("성명: 김민준 팀장\n직위: 연구소장");
        assert_eq!((fields.name, fields.position), (some("김민준"), some("연구소장")), "a label wins over the hint");
        let fields = extract_fields("성명: 김민준 외 1명");
        assert_eq!((fields.name, fields.attendees), (some("김민준"), Some(2)));
        let fields = extract_fields("성명: 김민준 (010-1234-5678)");
        assert_eq!((fields.name, fields.phone), (some("김민준"), some("010-1234-5678")));
        assert_eq!(fields.position, None);
        let fields = extract_fields("소속: 한빛테크 / 팀장");
        assert_eq!((fields.organization, fields.position), (some("한빛테크"), some("팀장")));
        let fields = extract_fields("소속: 한빛테크 / 기술연구소");
        assert_eq!((fields.organization, fields.position), (some("한빛테크 / 기술연구소"), None));
    }

    #[test]
    fn combined_labels_split_their_value() {
        let fields = extract_fields("소속/직위: 한빛테크 / 팀장\n성명 · 연락처 : 김민준 · 010-1234-5678");
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.position, some("팀장"));
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.phone, some("010-1234-5678"));
        let fields = extract_fields("소속/직위: 한빛테크");
        assert_eq!((fields.organization, fields.position), (None, None), "one value for two labels is ambiguous");
        let fields = extract_fields("Name/Company: Jane Doe, Example Bio Inc.");
        assert_eq!((fields.name, fields.organization), (some("Jane Doe"), some("Example Bio Inc.")));
    }

    #[test]
    fn numbered_name_labels() {
        let fields = extract_fields("참석자 1: 배서준\n참석자2 : 신유나\n참석자 ③: 오세린\n연락처 010-2231-8890");
        assert_eq!(fields.name, some("배서준"));
        assert_eq!(fields.people, people(&["배서준", "신유나", "오세린"]));
        assert_eq!(fields.attendees, Some(3));
        assert_eq!(fields.phone, some("010-2231-8890"));
    }

    #[test]
    fn a_table_with_a_header_row() {
        let body =
            "아래와 같이 신청합니다.\nNo.\t성명\t소속\t직위\t연락처\n1\t송하준\t누리소프트\t팀장\t010-3928-1174\n\
                    2\t류승우\t누리소프트\t선임\t010-5530-7719\n감사합니다.";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("송하준"));
        assert_eq!(fields.organization, some("누리소프트"));
        assert_eq!(fields.position, some("팀장"));
        assert_eq!(fields.phone, some("010-3928-1174"));
        assert_eq!(fields.people, people(&["송하준", "류승우"]));
        assert_eq!(fields.attendees, Some(2));
        let fields = extract_fields("| 성명 | 소속 |\n| 김민준 | 한빛테크 |");
        assert_eq!((fields.name, fields.organization), (some("김민준"), some("한빛테크")));
    }

    #[test]
    fn a_table_with_one_column_per_person() {
        let fields =
            extract_fields("성명\t김민준\t이서연\n소속\t한빛테크\t한빛테크\n연락처\t010-1234-5678\t010-2345-6789");
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛테크"));
        assert_eq!(fields.phone, some("010-1234-5678"));
        assert_eq!(fields.people, people(&["김민준", "이서연"]));
    }

    #[test]
    fn a_header_row_alone_gives_no_values() {
        let fields = extract_fields("성명\t소속\t직위\n\n감사합니다.");
        assert_eq!(fields, Fields::default());
    }

    #[test]
    fn numbered_rows_of_people() {
        let body = "참석자 명단은 아래와 같습니다.\n1. 강하준 / 세움엔지니어링 / 부장 / 010-1111-2323\n\
                    2. 임소연 / 세움엔지니어링 / 대리 / 010-4545-6767\n3) 조민호, 사원, 010-8989-1010";
        let fields = extract_fields(body);
        assert_eq!(fields.name, some("강하준"));
        assert_eq!(fields.organization, some("세움엔지니어링"));
        assert_eq!(fields.position, some("부장"));
        assert_eq!(fields.phone, some("010-1111-2323"));
        assert_eq!(fields.people, people(&["강하준", "임소연", "조민호"]));
        assert_eq!(fields.attendees, Some(3));
        let fields = extract_fields("1. 일시 / 장소 / 문의\n2. 2022년 11월 18일 / 서울 / 02-555-1234");
        assert_eq!(fields, Fields::default());
    }

    #[test]
    fn counts_in_sentences() {
        for (body, want) in [
            ("저 포함 3명 참석 예정입니다.", 3),
            ("김민준 외 1명 참석합니다", 2),
            ("두 명이 참석하겠습니다.", 2),
            ("저희 회사에서 총2명 참가 신청드립니다.", 2),
            ("Two of us will attend.", 2),
            ("Please reserve seats for 3 people.", 3),
            ("3 people will join from our lab.", 3),
        ] {
            assert_eq!(extract_fields(body).attendees, Some(want), "{body}");
        }
        for body in ["2022년 11월 18일 참석", "2명의 연구원이 있습니다.", "We have 10 engineers.", "참석인원: 미정"]
        {
            assert_eq!(extract_fields(body).attendees, None, "{body}");
        }
        assert_eq!(extract_fields("참석인원: 1명\n저 포함 3명 참석합니다.").attendees, Some(1), "the label wins");
    }

    #[test]
    fn attendees_counted_apart_from_the_applicant() {
        assert_eq!(parse_attendees("본인 외 1명"), Some(2));
        assert_eq!(parse_attendees("본인외 2명"), Some(3));
        assert_eq!(parse_attendees("본인 포함 2명"), Some(2));
        assert_eq!(parse_attendees("저 포함 3명"), Some(3));
        assert_eq!(parse_attendees("me + 1"), Some(2));
        assert_eq!(parse_attendees("본인 외 0명"), None);
        assert_eq!(parse_attendees("본인 외 50명"), None);
    }

    #[test]
    fn phone_and_email_without_separator() {
        let body = "김민준 드림\n한빛테크 | 팀장\nTel. 02-555-1234\nHP 010-1234-5678\nE-mail mj@hanbit.example";
        let fields = extract_fields(body);
        assert_eq!(fields.phone, some("02-555-1234"));
        assert_eq!(fields.email, some("mj@hanbit.example"));
        assert_eq!(fields.name, None);
    }

    #[test]
    fn phone_value_with_notes() {
        assert_eq!(extract_fields("연락처: 010-1234-5678 (휴대폰)").phone, some("010-1234-5678"));
        assert_eq!(extract_fields("연락처: 사무실 02-555-1234, 휴대폰 010-1234-5678").phone, some("02-555-1234"));
        assert_eq!(extract_fields("전화: 02)555-1234").phone, some("02-555-1234"));
    }

    #[test]
    fn email_value_forms() {
        assert_eq!(extract_fields("Email: Jane Doe <jane@labs.example>").email, some("jane@labs.example"));
        assert_eq!(extract_fields("이메일: mailto:mj@hanbit.example").email, some("mj@hanbit.example"));
        assert_eq!(extract_fields("이메일: 없음").email, None);
        assert_eq!(extract_fields("이메일: mj＠hanbit.example").email, some("mj@hanbit.example"));
    }

    // -- quote stripping -------------------------------------------------------

    /// The announcement with an empty form, as quoted below a reply.
    const EMPTY_FORM: &str = "[2024 SME 워크숍 참가 신청서]\n성명:\n소속:\n직위:\n연락처:\n이메일:\n참석인원:\n";

    /// Applicant part used with each quote marker.
    const FILLED: &str = "참가 신청합니다.\n성명: 김민준\n소속: 한빛테크\n";

    fn assert_cut_at(marker: &str) {
        let body = format!("{FILLED}\n{marker}\n{EMPTY_FORM}직위: 교수\n연락처: 010-9999-8888\n");
        assert_eq!(strip_quoted(&body), format!("{FILLED}\n"), "marker {marker:?}");
        let fields = extract_fields(&body);
        assert_eq!(fields.name, some("김민준"), "marker {marker:?}");
        assert_eq!(fields.organization, some("한빛테크"), "marker {marker:?}");
        assert_eq!(fields.position, None, "marker {marker:?}");
        assert_eq!(fields.phone, None, "marker {marker:?}");
    }

    #[test]
    fn cut_at_original_message_banners() {
        assert_cut_at("-----Original Message-----");
        assert_cut_at("--- original message ---");
        assert_cut_at("----------ORIGINAL MESSAGE----------");
        assert_cut_at("-----원본 메시지-----");
        assert_cut_at("---------- Forwarded message ---------");
        assert_cut_at("Begin forwarded message:");
    }

    #[test]
    fn cut_at_on_wrote() {
        assert_cut_at("On Tue, Mar 5, 2024 at 10:12 AM SME Center <sme@univ.example> wrote:");
        assert_cut_at("On Tue, Mar 5, 2024 at 10:12 AM SME Center <\nsme@univ.example> wrote:");
    }

    #[test]
    fn cut_at_korean_attribution() {
        assert_cut_at("2024년 3월 5일 (화) 오전 10:12, SME센터 <sme@univ.example>님이 작성:");
        assert_cut_at("2024년 3월 5일 (화) 오전 10:12, SME센터 <\nsme@univ.example>님이 작성:");
        assert_cut_at("2024. 3. 5. 오전 10:12에 SME센터 작성:");
    }

    #[test]
    fn cut_at_outlook_header_block() {
        assert_cut_at("From: SME Center <sme@univ.example>\nSent: Tuesday, March 5, 2024 10:12 AM\nTo: Jane Doe");
        assert_cut_at(
            "보낸 사람: SME센터 <sme@univ.example>\n보낸 날짜: 2024년 3월 5일 화요일 오전 10:12\n받는 사람: 김민준",
        );
        assert_cut_at("*From:* SME Center\n\n*Date:* Tue, 5 Mar 2024");
    }

    #[test]
    fn cut_at_outlook_separator() {
        assert_cut_at("________________________________");
        assert_cut_at("__________");
    }

    #[test]
    fn cut_at_first_quoted_line() {
        assert_cut_at("> 안내드립니다.");
        assert_cut_at("  >> nested");
    }

    #[test]
    fn no_cut_without_marker() {
        let body = "From: the applicant, see below.\nOn Monday we will attend.\nI wrote: nothing\n_____\n성명: 김민준";
        assert_eq!(strip_quoted(body), body);
        assert_eq!(extract_fields(body).name, some("김민준"));
    }

    #[test]
    fn from_line_without_header_block_is_kept() {
        let body = "From: 한빛테크\n1\n2\n3\n4\n5\nTo: 센터";
        assert_eq!(strip_quoted(body), body);
    }

    #[test]
    fn fields_only_below_the_quote_are_not_read() {
        let body = "참석하겠습니다.\n\n-----Original Message-----\nFrom: Jane Doe\n성명: 이서연\n연락처: 010-1111-2222";
        assert_eq!(extract_fields(body), Fields::default());
        let body = "> 성명: 이서연\n> 소속: 한빛테크";
        assert_eq!(extract_fields(body), Fields::default());
    }

    #[test]
    fn forwarded_message_at_top_leaves_nothing() {
        let body = "---------- Forwarded message ---------\nFrom: Jane Doe <jane@labs.example>\n성명: Jane Doe";
        assert_eq!(strip_quoted(body), "");
        assert_eq!(extract_fields(body), Fields::default());
    }

    #[test]
    fn strip_quoted_keeps_crlf_prefix_intact() {
        let body = "성명: 김민준\r\n\r\n> quoted\r\n";
        assert_eq!(strip_quoted(body), "성명: 김민준\r\n\r\n");
    }

    #[test]
    fn realistic_gmail_reply_in_korean() {
        let body = "안녕하세요, 한빛테크 김민준입니다.\r\n워크숍 참가 신청서 보내드립니다.\r\n\r\n\
                    ■ 성 명 : 김민준\r\n\
                    ■ 소 속 : (주)한빛테크\r\n\
                    ■ 직 위 : 책임연구원\r\n\
                    ■ 연락처 : 010.1234.5678\r\n\
                    ■ 이메일 : minjun@hanbit.example\r\n\
                    ■ 참석인원 : 두 명\r\n\r\n\
                    감사합니다.\r\n김민준 드림\r\n\r\n\
                    2024년 3월 5일 (화) 오전 10:12, SME센터 <sme@univ.example>님이 작성:\r\n\
                    > [참가 신청서]\r\n\
                    > ■ 성 명 :\r\n\
                    > ■ 소 속 :\r\n\
                    > 문의: 02-555-1234\r\n";
        assert_eq!(
            extract_fields(body),
            Fields {
                name: some("김민준"),
                organization: some("(주)한빛테크"),
                position: some("책임연구원"),
                phone: some("010-1234-5678"),
                email: some("minjun@hanbit.example"),
                attendees: Some(2),
                people: vec!["김민준".to_string()],
            }
        );
    }

    #[test]
    fn realistic_outlook_reply_with_rendered_table() {
        let body = "Please find my registration below.\n\n\
                    Name\tJane Doe\n\
                    Organisation\tExample Bio Inc.\n\
                    Position\tCTO\n\
                    Phone\t+82-2-555-1234\n\
                    Attendees\t1 person\n\n\
                    Jane Doe | CTO | Example Bio Inc.\n\
                    ________________________________\n\
                    From: SME Center <sme@univ.example>\n\
                    Sent: Tuesday, March 5, 2024 10:12 AM\n\
                    Name:\nOrganisation:\nPhone:\nEmail: sme@univ.example\n";
        assert_eq!(
            extract_fields(body),
            Fields {
                name: some("Jane Doe"),
                organization: some("Example Bio Inc."),
                position: some("CTO"),
                phone: some("02-555-1234"),
                email: None,
                attendees: Some(1),
                people: vec!["Jane Doe".to_string()],
            }
        );
    }

    // -- phone numbers -----------------------------------------------------------

    #[test]
    fn phone_normalization() {
        let cases = [
            ("010 1234 5678", "010-1234-5678"),
            ("010.1234.5678", "010-1234-5678"),
            ("010-1234-5678", "010-1234-5678"),
            ("01012345678", "010-1234-5678"),
            ("+82 10-1234-5678", "010-1234-5678"),
            ("+82-10-1234-5678", "010-1234-5678"),
            ("+82 (0)10 1234 5678", "010-1234-5678"),
            ("+821012345678", "010-1234-5678"),
            ("0082-10-1234-5678", "010-1234-5678"),
            ("+82-2-555-1234", "02-555-1234"),
            ("０１０－１２３４－５６７８", "010-1234-5678"),
            ("＋８２ １０ １２３４ ５６７８", "010-1234-5678"),
            ("02-555-1234", "02-555-1234"),
            ("02-3555-1234", "02-3555-1234"),
            ("(02) 555-1234", "02-555-1234"),
            ("025551234", "02-555-1234"),
            ("031-123-4567", "031-123-4567"),
            ("031-1234-5678", "031-1234-5678"),
            ("064 712 3456", "064-712-3456"),
            ("011-234-5678", "011-234-5678"),
            ("070-1234-5678", "070-1234-5678"),
            ("080-123-4567", "080-123-4567"),
            ("0505-123-4567", "0505-123-4567"),
            ("0505-1234-5678", "0505-1234-5678"),
            ("1588-1234", "1588-1234"),
            ("1644 5678", "1644-5678"),
            ("+82 1588 1234", "1588-1234"),
            ("010–1234–5678", "010-1234-5678"),
            (" 010-1234-5678 ", "010-1234-5678"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_phone(raw).as_deref(), Some(want), "raw {raw:?}");
        }
    }

    #[test]
    fn phone_rejections() {
        for raw in [
            "",
            "hello",
            "010-1234-567",
            "010-1234-56789",
            "555-1234",
            "12345",
            "+1 555 123 4567",
            "+44 20 7946 0000",
            "099-123-4567",
            "02-055-1234",
            "010-0000-0000",
            "1234-5678",
            "1588-12345",
            "Tel: 010-1234-5678",
            "010-1234-5678 (휴대폰)",
            "010-1234-5678+1",
            "2024-03-05",
            "0212345678901",
        ] {
            assert_eq!(normalize_phone(raw), None, "raw {raw:?}");
        }
    }

    // -- attendee counts ---------------------------------------------------------

    #[test]
    fn attendees_with_digits() {
        let cases = [
            ("2", 2),
            ("2명", 2),
            ("2 명", 2),
            ("２명", 2),
            ("10명", 10),
            ("1인", 1),
            ("2 people", 2),
            ("2 persons", 2),
            ("1 person", 1),
            ("3 pax", 3),
            ("2people", 2),
            ("총 3명", 3),
            ("총3명", 3),
            ("Total: 4", 4),
            ("2명 (본인 포함)", 2),
            ("2명(본인포함)", 2),
            ("2명.", 2),
            ("50", 50),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_attendees(raw), Some(want), "raw {raw:?}");
        }
    }

    #[test]
    fn attendees_with_korean_numerals() {
        let cases = [
            ("한 명", 1),
            ("한명", 1),
            ("두 명", 2),
            ("두명", 2),
            ("세명", 3),
            ("세 명", 3),
            ("네 명", 4),
            ("다섯 명", 5),
            ("여섯명", 6),
            ("일곱 명", 7),
            ("여덟 명", 8),
            ("아홉 명", 9),
            ("열 명", 10),
            ("열두 명", 12),
            ("스무 명", 20),
            ("하나", 1),
            ("둘", 2),
            ("셋", 3),
            ("다섯", 5),
            ("두 분", 2),
            ("세 사람", 3),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_attendees(raw), Some(want), "raw {raw:?}");
        }
    }

    #[test]
    fn attendees_with_english_words() {
        let words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
        for (n, word) in (1..).zip(words) {
            assert_eq!(parse_attendees(word), Some(n), "word {word}");
            assert_eq!(parse_attendees(&format!("{} people", word.to_uppercase())), Some(n), "word {word}");
        }
        assert_eq!(parse_attendees("Two persons"), Some(2));
        assert_eq!(parse_attendees("twelve"), Some(12));
    }

    #[test]
    fn attendees_rejections() {
        for raw in [
            "",
            "0",
            "0명",
            "51",
            "100명",
            "1000",
            "many",
            "미정",
            "네",
            "세",
            "두",
            "한빛테크",
            "2~3명",
            "2-3",
            "2.5",
            "010-1234-5678",
            "2nd",
            "2 명 참석합니다",
            "people",
            "twos",
            "( )",
            "___",
        ] {
            assert_eq!(parse_attendees(raw), None, "raw {raw:?}");
        }
    }

    // -- empty cells ---------------------------------------------------------

    #[test]
    fn an_empty_cell_between_label_cells_leaves_the_next_pair_intact() {
        // A form row with an empty 직위 cell: 직위 must stay empty and 소속 keep its value.
        let fields = extract_fields("성명\t김민준\t직위\t\t소속\t한빛정밀\n연락처\t010-2345-6789\n");
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.position, None);
        assert_eq!(fields.organization, some("한빛정밀"));
        assert_eq!(fields.phone, some("010-2345-6789"));

        let fields = extract_fields("성명\t김민준\t직위\t\t\t소속\t한빛정밀\n");
        assert_eq!((fields.position, fields.organization), (None, some("한빛정밀")));
    }

    #[test]
    fn a_value_after_an_empty_cell_is_still_the_labels_value() {
        // The fix must not lose a value that sits one empty cell away from its label.
        let fields = extract_fields("성명\t\t김민준\t소속\t한빛정밀\n");
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(fields.organization, some("한빛정밀"));
    }

    // -- where each value was read ---------------------------------------------

    fn label(line: usize, label: &str) -> Option<Source> {
        Some(Source::Label { line, label: label.to_string() })
    }

    fn cell(line: usize, label: &str) -> Option<Source> {
        Some(Source::TableCell { line, label: label.to_string(), html: false })
    }

    #[test]
    fn labelled_lines_record_their_line_and_label_as_written() {
        let reading = read("안녕하세요.\n\n■ 성 명 : 김민준\n[소속] 한빛테크\nTel. 02-555-1234\n이메일: mj@hanbit.example\n참석인원: 2명\n");
        assert_eq!(reading.sources.name, label(3, "성 명"));
        assert_eq!(reading.sources.organization, label(4, "소속"));
        assert_eq!(reading.sources.phone, label(5, "Tel"));
        assert_eq!(reading.sources.stated_email, label(6, "이메일"));
        assert_eq!(reading.sources.attendees, label(7, "참석인원"));
        assert_eq!(reading.sources.position, None, "no position, no source");
        assert_eq!(reading.sources.email, None, "the sender's address is not the text's to give");
    }

    #[test]
    fn a_value_below_its_label_is_sourced_to_the_label() {
        let reading = read("성명\n김하율\n\n소속\n미래로봇\n");
        assert_eq!(reading.sources.name, label(1, "성명"));
        assert_eq!(reading.sources.organization, label(4, "소속"));
    }

    #[test]
    fn table_cells_beside_and_under_labels_are_cells() {
        let beside = read("Name\tJane Doe\nCompany | Example Bio Inc.\n연락처: 010-1234-5678\n");
        assert_eq!(beside.sources.name, cell(1, "Name"));
        assert_eq!(beside.sources.organization, cell(2, "Company"));
        assert_eq!(beside.sources.phone, label(3, "연락처"), "a colon is a label, not a cell");

        let under = read("2명 신청합니다.\n성명\t소속\t연락처\n송하준\t누리소프트\t010-3928-1174\n류승우\t누리소프트\t010-5530-7719\n");
        assert_eq!(under.sources.name, cell(3, "성명"));
        assert_eq!(under.sources.organization, cell(3, "소속"));
        assert_eq!(under.sources.phone, cell(3, "연락처"));
        assert_eq!(under.sources.attendees, Some(Source::Sentence { line: 1 }));
    }

    #[test]
    fn the_empty_cell_row_sources_each_value_to_its_own_label() {
        let reading = read("성명\t김민준\t직위\t\t소속\t한빛정밀\n");
        assert_eq!(reading.sources.name, cell(1, "성명"));
        assert_eq!(reading.sources.organization, cell(1, "소속"));
        assert_eq!(reading.sources.position, None);
    }

    #[test]
    fn values_written_with_another_label_numbered_rows_and_counts() {
        let with_name = read("참석자 1: 배서준 (책임연구원)\n참석자 2: 신유나\n소속: 미래로봇\n");
        assert_eq!(with_name.sources.name, label(1, "참석자"));
        assert_eq!(with_name.sources.position, Some(Source::WithLabel { line: 1, label: "참석자".to_string() }));
        assert_eq!(with_name.sources.attendees, Some(Source::PeopleList { count: 2 }));

        let rows =
            read("명단입니다.\n1. 강하준 / 세움엔지니어링 / 부장 / 010-1111-2323\n2. 임소연 / 세움엔지니어링 / 대리\n");
        assert_eq!(rows.sources.name, Some(Source::PersonRow { line: 2 }));
        assert_eq!(rows.sources.position, Some(Source::PersonRow { line: 2 }));
        assert_eq!(rows.sources.phone, Some(Source::PersonRow { line: 2 }));

        let sentence = read("성명: 유지환\n저 포함 3명 참석 예정입니다.\n");
        assert_eq!(sentence.sources.attendees, Some(Source::Sentence { line: 2 }));

        let count_under_a_name_label = read("참석자: 2명\n");
        assert_eq!(count_under_a_name_label.fields.attendees, Some(2));
        assert_eq!(count_under_a_name_label.sources.attendees, label(1, "참석자"));
    }

    #[test]
    fn the_first_value_keeps_its_source() {
        let reading = read("성명: 김민준\n성명: 이서연\n");
        assert_eq!(reading.fields.name, some("김민준"));
        assert_eq!(reading.sources.name, label(1, "성명"));
    }

    #[test]
    fn labelled_values_that_cannot_be_used_are_kept_for_doubts() {
        let reading = read("연락처: 010-12-34\n참석인원: 120명\n");
        assert_eq!((reading.fields.phone, reading.fields.attendees), (None, None));
        assert_eq!(reading.unreadable_phone, some("010-12-34"));
        assert_eq!(reading.unreadable_attendees, some("120명"));
        let words = read("연락처: 추후 안내\n참석인원: 미정\n");
        assert_eq!((words.unreadable_phone, words.unreadable_attendees), (None, None), "no digits, nothing doubtful");
    }
}
