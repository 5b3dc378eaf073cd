//! Free-text notes: what the applicant writes under a remarks label (`비고: 주차 지원 부탁드립니다`,
//! `Notes: vegetarian meal, please`), kept with the application for staff.
//!
//! Only the applicant's own text counts (quoted announcements are stripped first), only lines
//! that start with a notes label followed by `:`, `：` or a tab (a form row), and "nothing"
//! answers (`없음`, `none`, `-`) are no notes. The lines under a remarks label belong to it
//! until a blank line, the next label (`성명:`, `기타:`) or the sign-off (`감사합니다.`): a
//! remark written over several lines is kept whole, its lines joined by spaces.

use super::guess;
use super::labels::parse_line;
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
    let lines: Vec<&str> = strip_quoted(text).lines().collect();
    let mut notes: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(first) = note_on_line(lines[i]) else {
            i += 1;
            continue;
        };
        let mut note: Vec<&str> = vec![first.value];
        i += 1;
        while let Some(line) = lines.get(i).map(|l| l.trim()) {
            let ends = line.is_empty()
                || note_on_line(line).is_some()
                || !parse_line(line).is_empty()
                || guess::is_closing(line)
                || guess::name_before_closing(line).is_some();
            if ends {
                break;
            }
            note.push(line);
            i += 1;
        }
        let joined = note.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ");
        if !joined.is_empty() && !is_nothing(&joined) {
            notes.push(joined);
        }
    }
    if notes.is_empty() {
        return None;
    }
    let joined = notes.join(" / ");
    Some(match joined.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    })
}

/// A notes label on a line, and what follows it there (maybe nothing: the note is below).
struct Label<'a> {
    value: &'a str,
}

/// Whether a note says there is none (`없음`, `N/A`).
fn is_nothing(value: &str) -> bool {
    NOTHING.iter().any(|n| value.eq_ignore_ascii_case(n))
}

/// The notes label a line starts with, and the value after it on that line.
fn note_on_line(line: &str) -> Option<Label<'_>> {
    let line = line.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '■' | '□' | '●' | '○' | '•' | '-' | '*' | '·' | '※' | '▶' | '>')
    });
    let line = line.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(['.', ')']).trim_start();
    let (label, rest) = split_label(line)?;
    let compact: String = label.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    if !LABELS.contains(&compact.as_str()) {
        return None;
    }
    Some(Label { value: rest.trim() })
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
    fn a_remark_over_several_lines_is_kept_until_a_blank_line_a_label_or_the_sign_off() {
        let text = "성명: 김민준\n비고:\n휠체어를 이용합니다.\n엘리베이터 가까운 좌석이면\n좋겠습니다.\n\n감사합니다.";
        assert_eq!(find_notes(text).as_deref(), Some("휠체어를 이용합니다. 엘리베이터 가까운 좌석이면 좋겠습니다."));
        let text = "비고: 주차 1대 필요\n  오후 세션만 참석\n연락처: 010-1234-5678\n";
        assert_eq!(find_notes(text).as_deref(), Some("주차 1대 필요 오후 세션만 참석"), "the next label ends it");
        let text = "요청사항: 채식 도시락\n감사합니다.\n김민준 드림";
        assert_eq!(find_notes(text).as_deref(), Some("채식 도시락"), "the sign-off ends it");
        let text = "Remarks:\n- vegetarian meal\n- parking for one car\nBest regards,\nJane";
        assert_eq!(find_notes(text).as_deref(), Some("- vegetarian meal - parking for one car"));
        assert_eq!(find_notes("비고:\n\n성명: 김민준"), None, "a blank line right after the label: no notes");
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
