//! Several people: a name value with a list (`참석자: 김민준, 이서연`), a name with a title,
//! a phone number or companions (`김민준 팀장`, `김민준 (010-…)`, `김민준 외 1명`), a table whose
//! first row holds the labels (`성명 | 소속 | 직위` then one row per person), and numbered rows
//! (`1. 김민준 / 한빛테크 / 팀장 / 010-…`). `guess.rs` tells names and titles apart.

use super::attendees::parse_attendees;
use super::fields::fill;
use super::guess;
use super::labels::{label_only, strip_list_marker, Field};
use super::phone::find_phone;
use super::text::is_space;

/// The people in a name value.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Named {
    /// Each name, in order; empty when the value is not recognisably names
    /// (it is then kept as written).
    pub(super) names: Vec<String>,
    /// A title written with the (first) name: `김민준 (팀장)`, `김민준 팀장`.
    pub(super) title: Option<String>,
    /// A phone number written with the (first) name: `김민준 (010-1234-5678)`.
    pub(super) phone: Option<String>,
    /// `김민준 외 1명`: people coming along besides the named one.
    pub(super) companions: Option<u32>,
}

/// Reads a name value: `김민준`, `김민준, 이서연`, `김민준 및 이서연`,
/// `배서준 (책임연구원)`, `김민준 팀장`, `김민준 외 1명`, `Jane Doe`. Every
/// piece must be a name (with at most a title or a note), else nothing is
/// split and `names` is empty.
pub(super) fn split_people(value: &str) -> Named {
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

/// `한빛테크 / 팀장` → (`한빛테크`, `팀장`): an organization value ending in a
/// title after `/` or `|`.
pub(super) fn split_trailing_title(value: &str) -> (&str, Option<&str>) {
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
pub(super) fn split_cells(line: &str) -> Option<Vec<&str>> {
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
pub(super) fn header_row(line: &str) -> Option<Vec<Option<(Field, &str)>>> {
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

/// One person's details from a numbered row.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Record {
    pub(super) name: String,
    pub(super) organization: Option<String>,
    pub(super) position: Option<String>,
    pub(super) phone: Option<String>,
}

/// A numbered or bulleted row of at least three segments naming a person
/// and at least one of a phone number, title or organization:
/// `1. 김민준 / 한빛테크 / 팀장 / 010-1234-5678`.
pub(super) fn record_row(line: &str) -> Option<Record> {
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

#[cfg(test)]
mod tests {
    use crate::parse::applicant::fields::{extract_fields, Fields};
    use crate::parse::applicant::some;

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
}
