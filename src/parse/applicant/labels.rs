//! One line of a form: optional bullet or numbering, a known label, a separator, a value.
//!
//! A line is read only when it *starts* (after bullets or numbering) with a known label
//! followed by a separator, so a label word inside a sentence is never taken. Labels are
//! Korean and English (`성 명`, `소속`, `Full name`, `E-mail`), spaced out, wrapped in brackets
//! (`[성명]`, `【성명(Name)】`), numbered (`참석자 1:`) or joined (`소속/직위:`). Several
//! `label: value` pairs on one line, split by `/`, `,`, `;`, `|` or a tab, are all read.

use super::phone::{find_phone, is_phone_char};
use super::text::{closing_bracket, find_email, is_bar, is_colon, is_dash, is_inline_space, is_space, to_halfwidth};

/// Which [`Fields`](super::fields::Fields) slot a label fills (and, as an index, which slot of
/// the field reader's sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
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
pub(super) struct Entry<'a> {
    pub(super) field: Field,
    pub(super) value: &'a str,
    /// The label as written.
    pub(super) label: &'a str,
    /// The value is the table cell beside the label's cell.
    pub(super) cell: bool,
}

/// Every `label: value` pair on `line`, or nothing when the line does not
/// start with a label and a separator.
pub(super) fn parse_line(line: &str) -> Vec<Entry<'_>> {
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
        // The number first (`HP 010-1234-5678 (휴대폰)`): `휴대폰 번호가 바뀌었습니다: 010-…` is a
        // sentence, read by `sentences.rs`.
        Field::Phone => value.split(|c: char| !is_phone_char(c)).next().and_then(find_phone).is_some(),
        Field::Email => value.split_whitespace().next().is_some_and(|token| find_email(token).is_some()),
        _ => false,
    }
}

/// The field of a cell that holds a label and nothing else (`성 명`,
/// `연락처(휴대폰)`, `Name:`), and the label as written.
pub(super) fn label_only(cell: &str) -> Option<(Field, &str)> {
    let cell = strip_list_marker(cell);
    let (field, len) = find_label(cell)?;
    let rest = skip_annotation(&cell[len..]).trim_matches(|c: char| is_space(c) || is_colon(c));
    rest.is_empty().then_some((field, &cell[..len]))
}

/// Whether a value is itself just a label (a misread header row).
pub(super) fn is_bare_label(value: &str) -> bool {
    label_only(value).is_some()
}

/// Removes leading bullets and list numbering, repeatedly:
/// `■ □ ● ○ ◆ ▶ - * • ·`, `1.`, `1)`, `(1)`, `가.`, `①`, table bars.
pub(super) fn strip_list_marker(line: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use crate::parse::applicant::fields::{extract_fields, Fields};
    use crate::parse::applicant::some;

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
    fn label_words_inside_sentences_are_not_taken() {
        let body = "I would like to know the name of the venue.\nName of the venue is unclear.\n\
                    이름은 김민준입니다.\n회사소개: 첨부 참조\nPhone me any time.\nThe title: is it final?";
        let reading = crate::parse::applicant::fields::read(body);
        let fields = reading.fields;
        // `이름은 김민준입니다` is no label line, but a sentence stating the name (`sentences.rs`).
        assert_eq!(reading.sources.name, Some(crate::parse::Source::Sentence { line: 3 }));
        assert_eq!(fields.name.as_deref(), Some("김민준"));
        assert_eq!(fields.organization, None);
        assert_eq!(fields.phone, None);
        assert_eq!(fields.position, None);
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
    fn commas_inside_values_are_kept() {
        let fields = extract_fields("성명: Doe, Jane\n회사: Example Co., Ltd.");
        assert_eq!(fields.name, some("Doe, Jane"));
        assert_eq!(fields.organization, some("Example Co., Ltd."));
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
    fn phone_and_email_without_separator() {
        let body = "김민준 드림\n한빛테크 | 팀장\nTel. 02-555-1234\nHP 010-1234-5678\nE-mail mj@hanbit.example";
        let fields = extract_fields(body);
        assert_eq!(fields.phone, some("02-555-1234"));
        assert_eq!(fields.email, some("mj@hanbit.example"));
        assert_eq!(fields.name, None);
    }

    #[test]
    fn email_value_forms() {
        assert_eq!(extract_fields("Email: Jane Doe <jane@labs.example>").email, some("jane@labs.example"));
        assert_eq!(extract_fields("이메일: mailto:mj@hanbit.example").email, some("mj@hanbit.example"));
        assert_eq!(extract_fields("이메일: 없음").email, None);
        assert_eq!(extract_fields("이메일: mj＠hanbit.example").email, some("mj@hanbit.example"));
    }
}
