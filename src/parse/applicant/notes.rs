//! Free-text notes: what the applicant writes under a remarks label (`비고: 주차 지원 부탁드립니다`,
//! `Notes: vegetarian meal, please`), kept with the application for staff.
//!
//! Only the applicant's own text counts (quoted announcements are stripped first), only lines
//! that start with a notes label followed by `:`, `：` or a tab (a form row), and "nothing"
//! answers (`없음`, `none`, `-`) are no notes.

use super::quoted::strip_quoted;

/// Labels that introduce notes. Compared without spaces; ASCII case-insensitively.
const LABELS: &[&str] = &[
    "비고",
    "기타",
    "기타사항",
    "요청사항",
    "문의사항",
    "참고사항",
    "메모",
    "특이사항",
    "notes",
    "note",
    "remarks",
    "remark",
    "comments",
    "comment",
];

/// What counts as "no notes".
const NOTHING: &[&str] = &["없음", "없습니다", "해당없음", "해당 없음", "none", "n/a", "na", "no", "-", "x", "."];

/// Longest notes kept (characters); the raw message is kept for the rest.
const MAX_CHARS: usize = 500;

/// The applicant's notes, several joined with ` / `; `None` when there are none.
pub fn find_notes(text: &str) -> Option<String> {
    let notes: Vec<&str> = strip_quoted(text).lines().filter_map(note_on_line).collect();
    if notes.is_empty() {
        return None;
    }
    let joined = notes.join(" / ");
    Some(match joined.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    })
}

/// The note a line gives, if it starts with a notes label.
fn note_on_line(line: &str) -> Option<&str> {
    let line = line.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '■' | '□' | '●' | '○' | '•' | '-' | '*' | '·' | '※' | '▶' | '>')
    });
    let line = line.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(['.', ')']).trim_start();
    let (label, rest) = split_label(line)?;
    let compact: String = label.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    if !LABELS.contains(&compact.as_str()) {
        return None;
    }
    let value = rest.trim();
    let nothing = NOTHING.iter().any(|n| value.eq_ignore_ascii_case(n));
    (!value.is_empty() && !nothing).then_some(value)
}

/// `label: value`, `label：value` or `label<TAB>value`; the label is short (a few words).
fn split_label(line: &str) -> Option<(&str, &str)> {
    let at = line.find([':', '：', '\t'])?;
    let label = line[..at].trim_end_matches(|c: char| c.is_whitespace() || c == ']').trim_start_matches('[');
    let rest = &line[at..];
    let rest = &rest[rest.chars().next()?.len_utf8()..];
    (label.chars().count() <= 12).then_some((label, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_under_a_remarks_label_are_kept() {
        let text = "성명: 김민준\n소속: (주)한빛테크\n비고: 주차 지원 부탁드립니다\n";
        assert_eq!(find_notes(text).as_deref(), Some("주차 지원 부탁드립니다"));
        assert_eq!(
            find_notes("Name: Jane Doe\nNotes: vegetarian meal, please").as_deref(),
            Some("vegetarian meal, please")
        );
        assert_eq!(find_notes("■ 요청 사항： 휠체어 접근 가능한 좌석").as_deref(), Some("휠체어 접근 가능한 좌석"));
        assert_eq!(find_notes("성명\t김민준\n비고\t오후 세션만 참석").as_deref(), Some("오후 세션만 참석"));
        assert_eq!(find_notes("[비고] : 발표자료 사전 공유 요청").as_deref(), Some("발표자료 사전 공유 요청"));
    }

    #[test]
    fn several_notes_are_joined_and_nothing_answers_are_no_notes() {
        assert_eq!(find_notes("비고: 주차 필요\n기타: 점심 제외").as_deref(), Some("주차 필요 / 점심 제외"));
        for nothing in ["비고: 없음", "비고:", "Remarks: N/A", "기타: -", "성명: 김민준"] {
            assert_eq!(find_notes(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn a_quoted_announcement_is_not_the_applicants_notes() {
        let text = "성명: 김민준\n\n-----Original Message-----\nFrom: KAIST\n비고: 주차는 지원되지 않습니다\n";
        assert_eq!(find_notes(text), None);
        let text = "참가 신청합니다.\n\n> 비고: (자유롭게 기재)\n";
        assert_eq!(find_notes(text), None);
    }

    #[test]
    fn a_sentence_that_merely_contains_a_label_word_is_not_a_note() {
        assert_eq!(find_notes("기타 문의는 전화로 드리겠습니다."), None);
        assert_eq!(find_notes("The notes from last year: very helpful"), None, "the label must start the line");
    }

    #[test]
    fn very_long_notes_are_cut() {
        let notes = find_notes(&format!("비고: {}", "가".repeat(2000))).unwrap();
        assert_eq!(notes.chars().count(), MAX_CHARS + 1);
        assert!(notes.ends_with('…'));
    }
}
