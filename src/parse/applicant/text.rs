//! Values and characters as every reader in `applicant/` sees them: a value trimmed of spaces
//! and trailing punctuation, the blanks of an unfilled form, email addresses, and the classes
//! of characters (spaces of every width, colons, bars, dashes, brackets, full-width forms).

/// Trims a raw value (including NBSP and ideographic spaces) and strips
/// trailing `,` `;` `|` (and `.` unless `keep_period`). `None` when nothing
/// is left or the value is an obvious blank (see [`is_placeholder`]).
pub(super) fn clean_value(raw: &str, keep_period: bool) -> Option<&str> {
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
pub(super) fn find_email(value: &str) -> Option<String> {
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

/// Whitespace of any kind (incl. NBSP, U+3000) and zero-width characters.
/// Arrows between an old value and a new one (`김민준 → 김민중`, `010-1111-2222 -> 010-3333-4444`).
pub(super) const ARROWS: &[&str] = &["→", "->", "=>", "⇒"];

/// The value after the last arrow of `value` (`과장 → 차장`: `차장`), or `value` without one.
pub(super) fn after_arrow(value: &str) -> &str {
    ARROWS
        .iter()
        .filter_map(|a| value.rfind(a).map(|at| at + a.len()))
        .max()
        .map_or(value, |at| value[at..].trim_matches(is_space))
}

pub(super) fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// [`is_space`] except tab, which separates label and value.
pub(super) fn is_inline_space(c: char) -> bool {
    c != '\t' && is_space(c)
}

/// Label/value separators of the colon kind.
pub(super) fn is_colon(c: char) -> bool {
    matches!(c, ':' | '：' | '﹕' | '∶' | '=' | '＝')
}

/// Table cell bars.
pub(super) fn is_bar(c: char) -> bool {
    matches!(c, '|' | '│')
}

/// Hyphen, dash and minus variants.
pub(super) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}')
}

/// The bracket closing `open`, for the brackets that may wrap a label.
pub(super) fn closing_bracket(open: char) -> Option<char> {
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
pub(super) fn to_halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// `s` starts with `prefix`, ignoring ASCII case.
pub(super) fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `s` ends with `suffix`, ignoring ASCII case.
pub(super) fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len()
        .checked_sub(suffix.len())
        .and_then(|start| s.get(start..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}
