//! Numbers as applicants write them, for counts of people: digits (full-width too), native
//! Korean numerals (`하나`, `둘`, `셋` …; before a counter `한`, `두`, `세`, `네`, `스무`),
//! Sino-Korean numerals (`일`, `이`, `삼` … `십`, `이십`: only before a counter, where they
//! cannot be read as anything else) and English words (`one` … `twenty`).
//!
//! [`leading_number`] reads one at the start of a text and says whether it needs a counter
//! (`명`, `분`, `인`, `people` …) after it to be a number at all: `네` alone is "yes", `이` alone
//! is "this", `한` alone is "one" only in `한 명`.
//!
//! The text is expected lower-cased and in half-width forms ([`normalized`]).

use super::text::to_halfwidth;

/// A number read at the start of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Number<'a> {
    pub(super) value: u32,
    /// The text after the number.
    pub(super) rest: &'a str,
    /// Whether only a counter after it makes it a number (`한`, `두`, `이`, `삼`).
    pub(super) needs_counter: bool,
    /// A Sino-Korean numeral (`이`, `삼`, `십`), which counts people with `명` and `인` only.
    pub(super) sino: bool,
}

/// Native Korean tens: word, value, whether it needs a counter (`스무 명`).
const NATIVE_TENS: &[(&str, u32, bool)] = &[("스물", 20, false), ("스무", 20, true), ("열", 10, false)];

/// Native Korean units. The attributive forms (`한`, `두`, `세`, `네`) are only numbers before
/// a counter; alone, `네` means "yes".
const NATIVE_ONES: &[(&str, u32, bool)] = &[
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

/// Sino-Korean digits, each only a number before a counter (`이 명`, `삼 인`).
const SINO_DIGITS: &[(&str, u32)] =
    &[("일", 1), ("이", 2), ("삼", 3), ("사", 4), ("오", 5), ("육", 6), ("칠", 7), ("팔", 8), ("구", 9)];

/// English number words, `one` = 1 …
pub(super) const ENGLISH: &[&str] = &[
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

/// `text` lower-cased, with full-width forms made half-width: the form [`leading_number`] reads.
pub(super) fn normalized(text: &str) -> String {
    text.chars().map(to_halfwidth).collect::<String>().to_lowercase()
}

/// The number at the start of `text` (lower-cased, half-width): digits, a native or Sino-Korean
/// numeral, or an English word.
pub(super) fn leading_number(text: &str) -> Option<Number<'_>> {
    digits(text).or_else(|| native(text)).or_else(|| sino(text)).or_else(|| english(text))
}

/// One to three ASCII digits.
fn digits(text: &str) -> Option<Number<'_>> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=3).contains(&len) {
        return None;
    }
    Some(Number { value: text[..len].parse().ok()?, rest: &text[len..], needs_counter: false, sino: false })
}

/// Native Korean numerals: `열`, `열두`, `스무`, `다섯` …
fn native(text: &str) -> Option<Number<'_>> {
    let (tens, rest, tens_needs_counter) = word(text, NATIVE_TENS).unwrap_or((0, text, false));
    match word(rest, NATIVE_ONES) {
        Some((ones, rest, needs_counter)) => Some(Number { value: tens + ones, rest, needs_counter, sino: false }),
        None if tens > 0 => Some(Number { value: tens, rest, needs_counter: tens_needs_counter, sino: false }),
        None => None,
    }
}

/// Sino-Korean numerals up to 99: `삼`, `십`, `십이`, `이십`, `이십오`. Always need a counter.
fn sino(text: &str) -> Option<Number<'_>> {
    fn digit(t: &str) -> Option<(u32, &str)> {
        SINO_DIGITS.iter().find_map(|&(w, v)| t.strip_prefix(w).map(|rest| (v, rest)))
    }
    let (first, rest) = match digit(text) {
        Some((value, rest)) => (Some(value), rest),
        None => (None, text),
    };
    let Some(after_ten) = rest.strip_prefix('십') else {
        return first.map(|value| Number { value, rest, needs_counter: true, sino: true });
    };
    let tens = first.unwrap_or(1) * 10;
    let (ones, rest) = digit(after_ten).map_or((0, after_ten), |(v, r)| (v, r));
    Some(Number { value: tens + ones, rest, needs_counter: true, sino: true })
}

/// The first of `words` that starts `text`: its value, the text after it, and its
/// needs-a-counter flag.
fn word<'a>(text: &'a str, words: &[(&str, u32, bool)]) -> Option<(u32, &'a str, bool)> {
    words.iter().find_map(|&(w, value, needs)| text.strip_prefix(w).map(|rest| (value, rest, needs)))
}

/// English number words `one` … `twenty`.
fn english(text: &str) -> Option<Number<'_>> {
    let len = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    let word = &text[..len];
    let position = ENGLISH.iter().position(|&w| w == word)?;
    Some(Number { value: u32::try_from(position + 1).ok()?, rest: &text[len..], needs_counter: false, sino: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<(u32, &str, bool)> {
        leading_number(text).map(|n| (n.value, n.rest, n.needs_counter))
    }

    #[test]
    fn digits_and_full_width_digits() {
        assert_eq!(read("3명"), Some((3, "명", false)));
        assert_eq!(read("12 people"), Some((12, " people", false)));
        assert_eq!(read(&normalized("３명")), Some((3, "명", false)));
        assert_eq!(read("1234"), None, "four digits are no count");
    }

    #[test]
    fn native_korean_numerals() {
        for (text, value, needs) in [
            ("하나", 1, false),
            ("한 명", 1, true),
            ("둘", 2, false),
            ("두 명", 2, true),
            ("세명", 3, true),
            ("네 분", 4, true),
            ("다섯", 5, false),
            ("열두 명", 12, true),
            ("열", 10, false),
            ("스무 명", 20, true),
            ("스물하나", 21, false),
        ] {
            let n = leading_number(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!((n.value, n.needs_counter), (value, needs), "{text}");
        }
    }

    #[test]
    fn sino_korean_numerals_need_a_counter() {
        for (text, value) in
            [("일 명", 1), ("이 명", 2), ("삼 인", 3), ("십 명", 10), ("십이 명", 12), ("이십오 명", 25)]
        {
            let n = leading_number(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!((n.value, n.needs_counter), (value, true), "{text}");
        }
        assert_eq!(read("사과"), Some((4, "과", true)), "a word that starts like one needs its counter to count");
    }

    #[test]
    fn english_words() {
        assert_eq!(read("two people"), Some((2, " people", false)));
        assert_eq!(read("twenty"), Some((20, "", false)));
        assert_eq!(read("twos"), None);
        assert_eq!(read("people"), None);
    }
}
