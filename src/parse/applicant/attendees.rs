//! Attendee counts under a label (`2명`, `두 명`, `2 people`, `본인 외 1명`): [`parse_attendees`].
//! The numbers themselves are read by `numerals.rs`; counts in sentences (`저 포함 3명
//! 참석합니다`, `한 명 더 가도 될까요`) by `sentences.rs`.

use super::numerals::{leading_number, normalized, Number};
use super::text::{clean_value, is_colon, is_space};

/// Largest attendee count accepted by [`parse_attendees`].
pub(super) const MAX_ATTENDEES: u32 = 50;

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
/// outside `1..=50`. Sino-Korean numerals (`이 명`) are read with their counter.
#[must_use]
pub fn parse_attendees(raw: &str) -> Option<u32> {
    let text = normalized(raw);
    let text = clean_value(&text, false)?;
    let (besides, text) = strip_self(text);
    let text = strip_count_prefix(text);
    let Number { value: count, rest, needs_counter: needs_unit, .. } = leading_number(text)?;
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

/// Removes a counter (`명`, `people` …) from the start of `text`; reports
/// whether there was one.
fn strip_unit(text: &str) -> (bool, &str) {
    COUNT_UNITS
        .iter()
        .filter_map(|unit| text.strip_prefix(unit))
        .find(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map_or((false, text), |rest| (true, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::applicant::fields::extract_fields;

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
}
