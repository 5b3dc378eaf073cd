//! Korean phone numbers: [`normalize_phone`] gives the dashed national form
//! (`010-1234-5678`, `02-555-1234`) by the numbering plan, [`find_phone`] the first one
//! written in a value with notes around it.

use super::text::{is_dash, is_space, to_halfwidth};

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

/// The first Korean phone number in `value`: the whole value, or else the
/// first run of phone-like characters (`010-1234-5678 (휴대폰)`,
/// `02-555-1234 / 010-1234-5678`).
pub(super) fn find_phone(value: &str) -> Option<String> {
    normalize_phone(value).or_else(|| {
        value
            .split(|c: char| !is_phone_char(c))
            .filter(|run| run.chars().any(|c| to_halfwidth(c).is_ascii_digit()))
            .find_map(normalize_phone)
    })
}

/// Characters that may appear in a written phone number.
pub(super) fn is_phone_char(c: char) -> bool {
    let c = to_halfwidth(c);
    c.is_ascii_digit() || matches!(c, '+' | '.' | '(' | ')') || is_dash(c) || is_space(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::applicant::fields::extract_fields;
    use crate::parse::applicant::some;

    #[test]
    fn phone_value_with_notes() {
        assert_eq!(extract_fields("연락처: 010-1234-5678 (휴대폰)").phone, some("010-1234-5678"));
        assert_eq!(extract_fields("연락처: 사무실 02-555-1234, 휴대폰 010-1234-5678").phone, some("02-555-1234"));
        assert_eq!(extract_fields("전화: 02)555-1234").phone, some("02-555-1234"));
    }

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
}
