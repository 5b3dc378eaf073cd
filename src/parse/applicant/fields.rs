//! Applicant details from `label: value` lines in an email body: the field reader.
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
//! [`read`] first cuts the quoted or forwarded history off with
//! [`strip_quoted`] (the quoted announcement usually carries the *empty* form),
//! then reads every remaining line as: optional bullet or numbering, a known
//! label, a separator, a value (`labels.rs`). A label standing alone on its
//! line takes its value from the next non-empty line (tables rendered to
//! text). Values are read by their field: phones by `phone.rs`, counts by
//! `attendees.rs`, names (and lists of them) by `people.rs`; `text.rs` trims
//! them and knows the blanks of an unfilled form.
//!
//! Beyond `label: value` lines, three layouts name several people: a name
//! label with a list (`참석자: 김민준, 이서연`), a table whose first row holds
//! the labels (`성명 | 소속 | 직위` then one row per person), and numbered
//! rows (`1. 김민준 / 한빛테크 / 팀장 / 010-…`). Everyone named is listed in
//! [`Fields::people`]; the first person's details are the applicant's. A count
//! in a sentence (`저 포함 3명 참석합니다`) is read when no label states one.
//!
//! Pure (no I/O, no state), like everything in `applicant/`.

use serde::Serialize;

use super::attendees::{parse_attendees, MAX_ATTENDEES};
use super::labels::{is_bare_label, parse_line, strip_list_marker, Field};
use super::people::{header_row, record_row, split_cells, split_people, split_trailing_title, Record};
use super::phone::find_phone;
use super::quoted::strip_quoted;
use super::sentences::{statements, Count};
use super::signature::sign_off_index;
use super::source::{FieldSources, Source};
use super::text::{after_arrow, clean_value, find_email, is_space, to_halfwidth};

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

/// How many lines below a label without a value are searched for that value.
const NEXT_LINE_LOOKAHEAD: usize = 3;

/// Longest line (in characters) accepted as a value on the line below its label.
const MAX_NEXT_LINE_CHARS: usize = 80;

/// Most words accepted in a value on the line below its label.
const MAX_NEXT_LINE_WORDS: usize = 8;

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
    /// A sentence asks for this many more (or, negative, fewer) attendees than recorded
    /// (`한 명 더 가도 될까요`); `fields.attendees` then holds the count for a first mail
    /// (one more than the applicant alone).
    pub more_attendees: Option<i32>,
}

impl Reading {
    /// `self`'s values, and `later`'s where `self` has none, each with its source (first
    /// statement wins, as within one text).
    #[must_use]
    pub fn or(mut self, later: Reading) -> Reading {
        let (f, l) = (&mut self.fields, later.fields);
        let s = &mut self.sources;
        let ls = later.sources;
        macro_rules! take {
            ($field:ident) => {
                if f.$field.is_none() && l.$field.is_some() {
                    f.$field = l.$field;
                    s.$field = ls.$field;
                }
            };
        }
        take!(name);
        take!(organization);
        take!(position);
        take!(phone);
        if f.email.is_none() && l.email.is_some() {
            f.email = l.email;
            s.stated_email = ls.stated_email;
        }
        if f.attendees.is_none() && l.attendees.is_some() {
            f.attendees = l.attendees;
            s.attendees = ls.attendees;
            self.more_attendees = later.more_attendees;
        }
        if f.people.is_empty() {
            f.people = l.people;
        }
        fill(&mut self.unreadable_phone, later.unreadable_phone);
        fill(&mut self.unreadable_attendees, later.unreadable_attendees);
        self
    }
}

/// [`extract_fields`], and where each value was read.
#[must_use]
pub fn read(text: &str) -> Reading {
    read_lines(strip_quoted(text).lines().collect())
}

/// [`read`] of lines already cut to the applicant's own (nothing is stripped).
pub(super) fn read_lines(lines: Vec<&str>) -> Reading {
    let mut reader = Reader { sign_off: sign_off_index(&lines), ..Reader::default() };
    // Which lines are `label: value` lines, as far as the loop reads them (the sentences are
    // read from the others).
    let mut labelled: Vec<Option<bool>> = vec![None; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let line = i + 1;
        if let Some(columns) = header_row(lines[i]) {
            let rows = reader.read_column_table(&lines[i + 1..], line + 1, &columns);
            i += 1 + rows;
            continue;
        }
        let entries = parse_line(lines[i]);
        labelled[i] = Some(!entries.is_empty());
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
    let labelled: Vec<bool> = labelled
        .into_iter()
        .zip(&lines)
        .map(|(known, line)| known.unwrap_or_else(|| !parse_line(line).is_empty()))
        .collect();
    reader.finish(&lines, &labelled)
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
    /// Where the signature block starts (a `-- ` line or the sign-off), as a line index.
    sign_off: Option<usize>,
    /// Phones under a label in the signature block (`Tel. 02-555-0142`), offered only after
    /// what the applicant's sentences state: the applicant's own words beat the signature.
    signature_phones: Vec<(String, Source)>,
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
        // `연락처: 010-1111-2222 → 010-3333-4444`, `직위: 과장 → 차장`: the new value.
        let value = after_arrow(value);
        let line = match &at {
            Source::Label { line, .. } | Source::TableCell { line, .. } => Some(*line),
            _ => None,
        };
        let in_signature = matches!((line, self.sign_off), (Some(line), Some(start)) if line > start);
        if field == Field::Phone && in_signature {
            self.signature_phones.push((value.to_owned(), at));
            return;
        }
        self.offer_now(field, value, at);
    }

    /// [`Reader::offer`], wherever the value is.
    fn offer_now(&mut self, field: Field, value: &str, at: Source) {
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
    fn finish(mut self, lines: &[&str], labelled: &[bool]) -> Reading {
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
        let mut more_attendees = None;
        let said = statements(lines, labelled);
        let sentence = |index: usize| Some(Source::Sentence { line: index + 1 });
        for (slot, field, value) in [
            (&mut fields.name, Field::Name, said.name),
            (&mut fields.organization, Field::Organization, said.organization),
            (&mut fields.position, Field::Position, said.position),
            (&mut fields.phone, Field::Phone, said.phone),
        ] {
            if let (None, Some((value, index))) = (&slot, value) {
                *slot = Some(value);
                self.sources[field as usize] = sentence(index);
            }
        }
        if fields.name.is_some() && fields.people.is_empty() {
            if let Some(name) = fields.name.clone() {
                fields.people.push(name);
            }
        }
        if fields.attendees.is_none() {
            match said.attendees {
                Some((Count::Exactly(n), index)) => {
                    fields.attendees = Some(n);
                    self.sources[Field::Attendees as usize] = sentence(index);
                }
                Some((Count::More(more), index)) => {
                    // A first mail: the applicant, and the change on top.
                    let first = (1 + i64::from(more)).clamp(1, i64::from(MAX_ATTENDEES));
                    fields.attendees = u32::try_from(first).ok();
                    more_attendees = Some(more);
                    self.sources[Field::Attendees as usize] = sentence(index);
                }
                None => {}
            }
        }
        // Phones the signature block gives under a label count after the sentences.
        for (value, at) in std::mem::take(&mut self.signature_phones) {
            self.offer_now(Field::Phone, &value, at);
        }
        let fields = &mut self.fields;
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
            more_attendees,
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

/// The first non-empty cell of a value that runs on into more table cells
/// (`한빛테크\t한빛테크` under a label with one column per person).
fn first_cell(value: &str) -> &str {
    if !value.contains('\t') {
        return value;
    }
    value.split('\t').map(|c| c.trim_matches(is_space)).find(|c| !c.is_empty()).unwrap_or("")
}

/// Sets an empty `slot` to `value`; a filled slot is kept (first value wins).
pub(super) fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::applicant::some;

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
    fn a_labelled_change_from_old_to_new_gives_the_new_value() {
        let body =
            "연락처: 010-1111-2222 → 010-3333-4444\n직위: 과장 -> 차장\n성명: 김민준 ⇒ 김민중\n참석인원: 1명 → 2명";
        let fields = extract_fields(body);
        assert_eq!(fields.phone, some("010-3333-4444"));
        assert_eq!(fields.position, some("차장"));
        assert_eq!(fields.name, some("김민중"));
        assert_eq!(fields.attendees, Some(2));
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
    fn count_under_name_label_is_attendees() {
        let fields = extract_fields("참석자: 2명\n성명: 김민준");
        assert_eq!(fields.attendees, Some(2));
        assert_eq!(fields.name, some("김민준"));
        assert_eq!(extract_fields("참석 인원수: 4").attendees, Some(4));
    }

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
