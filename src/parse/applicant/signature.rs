//! Fallbacks for mail that does not label its fields: the signature block and the sender's
//! display name.
//!
//! ```text
//! 감사합니다.
//!
//! 오세린 드림                          → name
//! 하늘소프트 | 마케팅팀 과장            → organization, position
//! T. 02-555-0142 | M. 010-6678-1203   → phone (the mobile number is preferred)
//! ```
//!
//! [`from_signature`] finds the signature — after a `-- ` separator, from the last sign-off
//! (`감사합니다`, `Best regards,`, `… 드림`), or else the last paragraph when it opens with a
//! person's name and holds no sentence, or else the last few short lines that are not
//! sentences — splits each line into segments (`|`, `/`, `·`, `,`, tabs, wide gaps) and asks
//! [`super::guess`] what each segment is. [`from_display_name`] does the same for display names
//! such as `김서준/책임연구원/한빛테크` or `박혜린 [다온소재]`. Only what the body does not label
//! is ever taken from here.

use super::guess;
use super::labels::{parse_line, Field};
use super::phone::find_phone as normalize_phone_in;

/// Most lines read as a signature.
const MAX_SIGNATURE_LINES: usize = 8;

/// Longest line (in characters) read as part of any signature.
const MAX_LINE_CHARS: usize = 200;

/// Longest line (in characters) read as part of a signature without a separator or sign-off.
const MAX_BARE_LINE_CHARS: usize = 70;

/// What a signature or display name suggests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Guess {
    pub name: Option<String>,
    pub organization: Option<String>,
    pub position: Option<String>,
    pub phone: Option<String>,
}

impl Guess {
    /// Fills what `self` lacks from `other`.
    pub fn or(mut self, other: Guess) -> Guess {
        self.name = self.name.or(other.name);
        self.organization = self.organization.or(other.organization);
        self.position = self.position.or(other.position);
        self.phone = self.phone.or(other.phone);
        self
    }
}

/// Guesses from the signature of `own_text` (the applicant's text above any quote).
pub fn from_signature(own_text: &str) -> Guess {
    let all: Vec<&str> = own_text.lines().collect();
    let lines: Vec<&str> = all.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
    let paragraph: Vec<&str>;
    let mut region = signature_region(&lines);
    if !marked(&lines) {
        if let Some(start) = signature_paragraph(&all) {
            paragraph = all[start..].iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
            region = cap(&paragraph);
        }
    }
    let mut reader = Reader::default();
    for line in region {
        reader.line(line);
    }
    reader.finish()
}

/// Guesses from a display name: `김서준/책임연구원/한빛테크`, `박혜린 [다온소재]`,
/// `오세린 (하늘소프트)`, `김민준 팀장`, `Daniel Reyes`.
pub fn from_display_name(display: &str) -> Guess {
    let mut reader = Reader::default();
    reader.segments(&split_display_name(display));
    reader.finish()
}

/// Whether a separator or a sign-off marks where the signature starts among `lines` (the
/// non-empty ones).
fn marked(lines: &[&str]) -> bool {
    lines.iter().any(|l| matches!(*l, "--" | "-- " | "—" | "――")) || {
        let tail_start = lines.len().saturating_sub(12);
        lines[tail_start..]
            .iter()
            .any(|l| guess::is_closing(l) || guess::name_before_closing(l).is_some() || starts_with_closing(l))
    }
}

/// The last paragraph of `lines` (as they are, blank ones included) when it is a signature
/// that no separator or sign-off marks: two to six short lines after a blank one, none of them
/// a sentence or a name, organization or position label, the first opening with a person's
/// name (`김민준 책임연구원` ↵ `(주)한빛테크` ↵ `Tel. 02-555-1234`). Its index.
pub(super) fn signature_paragraph(lines: &[&str]) -> Option<usize> {
    let end = lines.iter().rposition(|l| !l.trim().is_empty())? + 1;
    // The whole text as one paragraph has no signature apart from it.
    let start = lines[..end].iter().rposition(|l| l.trim().is_empty())? + 1;
    let block = &lines[start..end];
    if !(2..=6).contains(&block.len()) {
        return None;
    }
    let first = block[0].trim();
    let words: Vec<&str> = first.split_whitespace().collect();
    let opens_with_name = guess::is_person_name(first)
        || words.first().is_some_and(|w| guess::is_person_name(w))
        || (words.len() >= 2 && guess::is_person_name(&words[..2].join(" ")));
    let plain = block.iter().map(|l| l.trim()).all(|l| {
        l.chars().count() <= MAX_BARE_LINE_CHARS
            && !is_sentence(l)
            && parse_line(l).iter().all(|e| matches!(e.field, Field::Phone | Field::Email))
    });
    (opens_with_name && plain).then_some(start)
}

/// The lines that make up the signature, possibly none.
fn signature_region<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    if let Some(i) = lines.iter().rposition(|l| matches!(*l, "--" | "-- " | "—" | "――")) {
        return cap(&lines[i + 1..]);
    }
    let tail_start = lines.len().saturating_sub(12);
    let sign_off = (tail_start..lines.len()).rev().find(|&i| {
        guess::is_closing(lines[i]) || guess::name_before_closing(lines[i]).is_some() || starts_with_closing(lines[i])
    });
    if let Some(i) = sign_off {
        return cap(&lines[i..]);
    }
    let bare = lines.iter().rev().take_while(|l| is_bare_signature_line(l)).count().min(MAX_SIGNATURE_LINES);
    &lines[lines.len() - bare..]
}

/// The index in `lines` (as they are, blank ones included) of the line where a signature block
/// marked by a separator (`--`) or a sign-off (`감사합니다`, `김민준 드림`, `Best regards,`)
/// starts; `None` when nothing marks one.
pub(super) fn sign_off_index(lines: &[&str]) -> Option<usize> {
    if let Some(i) = lines.iter().rposition(|l| matches!(l.trim(), "--" | "—" | "――")) {
        return Some(i);
    }
    let filled: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].trim().is_empty()).collect();
    let tail = &filled[filled.len().saturating_sub(12)..];
    let signed_off = tail.iter().rev().copied().find(|&i| {
        let line = lines[i].trim();
        guess::is_closing(line) || guess::name_before_closing(line).is_some() || starts_with_closing(line)
    });
    signed_off.or_else(|| signature_paragraph(lines))
}

fn cap<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    &lines[..lines.len().min(MAX_SIGNATURE_LINES)]
}

/// `감사합니다. 김민준 드림` and the like: a sign-off followed by more on the same line.
fn starts_with_closing(line: &str) -> bool {
    ["감사합니다", "고맙습니다", "Best regards", "Regards", "Thanks"].iter().any(|c| {
        line.starts_with(c)
            && line.len() > c.len()
            && guess::name_before_closing(line[c.len()..].trim_start_matches(['.', ',', ' '])).is_some()
    })
}

/// A short line that is not a sentence and holds at least two segments or a phone number.
fn is_bare_signature_line(line: &str) -> bool {
    let segments = split_segments(line);
    line.chars().count() <= MAX_BARE_LINE_CHARS
        && !is_sentence(line)
        && (segments.len() >= 2 || normalize_phone_in(line).is_some())
}

/// A line that ends as a sentence (or a label waiting for its value) does.
fn is_sentence(line: &str) -> bool {
    line.ends_with(['.', '?', '!', '。', '？', '！'])
        || line.ends_with("니다")
        || line.ends_with("요")
        || line.ends_with(':')
}

/// Splits a signature line at `|`, `/`, `·`, tabs, wide gaps and `, ` (except inside
/// `Co., Ltd.`).
fn split_segments(line: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut start = 0;
    for (i, c) in line.char_indices() {
        let rest = &line[i + c.len_utf8()..];
        let wide_gap = c == ' ' && rest.starts_with(' ');
        let comma = matches!(c, ',' | '，') && !continues_company(rest);
        if matches!(c, '|' | '│' | '/' | '·' | 'ㆍ' | '•' | '\t' | ';') || wide_gap || comma {
            push_segment(&mut segments, &line[start..i]);
            start = i + c.len_utf8();
        }
    }
    push_segment(&mut segments, &line[start..]);
    segments
}

/// Whether text after a comma continues a company name (`Co., Ltd.`, `Co., Inc.`).
fn continues_company(rest: &str) -> bool {
    let rest = rest.trim_start();
    ["ltd", "inc", "llc", "limited", "corp"]
        .iter()
        .any(|w| rest.get(..w.len()).is_some_and(|head| head.eq_ignore_ascii_case(w)))
}

fn push_segment(segments: &mut Vec<String>, segment: &str) {
    let segment = segment.trim();
    if !segment.is_empty() {
        segments.push(segment.to_owned());
    }
}

/// Display names split at `/ | , ( ) [ ]`.
fn split_display_name(display: &str) -> Vec<String> {
    let mut segments = Vec::new();
    for piece in display.split(['/', '|', '(', ')', '[', ']', '（', '）', '·', ',', '_']) {
        push_segment(&mut segments, piece);
    }
    segments
}

/// Collects guesses line by line; the first guess for each slot wins, except that a mobile
/// number beats an earlier landline.
#[derive(Default)]
struct Reader {
    guess: Guess,
    weak_organization: Option<String>,
    phone_is_mobile: bool,
}

impl Reader {
    fn line(&mut self, line: &str) {
        if guess::is_closing(line) || line.chars().count() > MAX_LINE_CHARS {
            return;
        }
        let line = line.trim_start_matches(['-', '*', '=', '_', ' ']);
        let line = strip_leading_closing(line);
        self.segments(&split_segments(line));
    }

    fn segments(&mut self, segments: &[String]) {
        let mut unknown = Vec::new();
        let mut personal = false;
        for segment in segments {
            match self.segment(segment) {
                Some(found) => personal |= found,
                None => unknown.push(segment.as_str()),
            }
        }
        // Next to a name or a title, an unknown segment is most likely the organization.
        if personal {
            if let Some(org) = unknown.iter().find(|s| looks_like_org_words(s)) {
                self.weak_organization.get_or_insert_with(|| (*org).to_owned());
            }
        }
    }

    /// Classifies one segment. `Some(true)`: a name or title; `Some(false)`: something else
    /// recognised; `None`: unknown.
    fn segment(&mut self, segment: &str) -> Option<bool> {
        let (label, value) = strip_contact_label(segment);
        if value.contains('@') || label == Some(Contact::Fax) {
            return Some(false);
        }
        if let Some(phone) = normalize_phone_in(value) {
            self.phone(phone);
            return Some(false);
        }
        if label.is_some() {
            return Some(false);
        }
        if let Some(name) = guess::name_before_closing(segment) {
            fill(&mut self.guess.name, name);
            return Some(true);
        }
        if let Some((name, title)) = guess::name_and_title(segment) {
            fill(&mut self.guess.name, name);
            fill(&mut self.guess.position, title);
            return Some(true);
        }
        if guess::is_person_name(segment) {
            fill(&mut self.guess.name, segment);
            return Some(true);
        }
        if guess::is_title(segment) {
            fill(&mut self.guess.position, segment);
            return Some(true);
        }
        if guess::has_org_marker(segment) {
            fill(&mut self.guess.organization, segment);
            return Some(false);
        }
        if let Some((org, title)) = org_and_title(segment) {
            fill(&mut self.guess.organization, org);
            fill(&mut self.guess.position, title);
            return Some(true);
        }
        if guess::has_org_suffix(segment) && segment.split_whitespace().count() <= 3 {
            self.weak_organization.get_or_insert_with(|| segment.to_owned());
            return Some(false);
        }
        None
    }

    fn phone(&mut self, phone: String) {
        let mobile = phone.starts_with("01");
        if self.guess.phone.is_none() || (mobile && !self.phone_is_mobile) {
            self.guess.phone = Some(phone);
            self.phone_is_mobile = mobile;
        }
    }

    fn finish(mut self) -> Guess {
        if self.guess.organization.is_none() {
            self.guess.organization = self.weak_organization;
        }
        self.guess
    }
}

fn fill(slot: &mut Option<String>, value: &str) {
    if slot.is_none() {
        *slot = Some(value.to_owned());
    }
}

/// `세움엔지니어링 대표` → (`세움엔지니어링`, `대표`): words then a title, the words not a
/// department.
fn org_and_title(segment: &str) -> Option<(&str, &str)> {
    let (org, title) = segment.rsplit_once(char::is_whitespace)?;
    let org = org.trim();
    let usable = guess::is_title(title) && !org.is_empty() && !guess::is_department(org) && looks_like_org_words(org);
    usable.then_some((org, title))
}

/// Words that could be an organization's name: letters, no digits, at most six words, not a
/// name or a title or a sign-off.
fn looks_like_org_words(text: &str) -> bool {
    let words = text.split_whitespace().count();
    (1..=6).contains(&words)
        && !text.chars().any(|c| c.is_ascii_digit())
        && text.chars().any(char::is_alphabetic)
        && !guess::is_person_name(text)
        && !guess::is_title(text)
        && !guess::is_closing(text)
        && !text.ends_with(['.', '?', '!'])
}

/// Sign-off words at the start of a line (`감사합니다. 김민준 드림`).
fn strip_leading_closing(line: &str) -> &str {
    for closing in ["감사합니다", "고맙습니다"] {
        if let Some(rest) = line.strip_prefix(closing) {
            return rest.trim_start_matches(['.', ',', ' ', '!']);
        }
    }
    line
}

/// What a contact prefix says a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contact {
    Phone,
    Fax,
    Email,
}

/// `T. 02-555-0142`, `M 010-…`, `Mobile: …`, `Fax …`, `E. jane@…`, `휴대폰 …`: the prefix's
/// meaning and the value after it.
fn strip_contact_label(segment: &str) -> (Option<Contact>, &str) {
    const PREFIXES: &[(&str, Contact)] = &[
        ("mobile", Contact::Phone),
        ("mob", Contact::Phone),
        ("cell", Contact::Phone),
        ("phone", Contact::Phone),
        ("tel", Contact::Phone),
        ("hp", Contact::Phone),
        ("h.p", Contact::Phone),
        ("direct", Contact::Phone),
        ("office", Contact::Phone),
        ("t", Contact::Phone),
        ("m", Contact::Phone),
        ("p", Contact::Phone),
        ("휴대폰", Contact::Phone),
        ("핸드폰", Contact::Phone),
        ("휴대전화", Contact::Phone),
        ("전화", Contact::Phone),
        ("직통", Contact::Phone),
        ("대표전화", Contact::Phone),
        ("연락처", Contact::Phone),
        ("fax", Contact::Fax),
        ("f", Contact::Fax),
        ("팩스", Contact::Fax),
        ("e-mail", Contact::Email),
        ("email", Contact::Email),
        ("mail", Contact::Email),
        ("e", Contact::Email),
        ("이메일", Contact::Email),
        ("메일", Contact::Email),
    ];
    for &(prefix, contact) in PREFIXES {
        let Some(head) = segment.get(..prefix.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(prefix) {
            continue;
        }
        let rest = &segment[prefix.len()..];
        let value = rest.trim_start_matches(['.', ':', '：', ')', ' ', '\u{a0}']);
        let separated = rest.len() != value.len() || rest.is_empty();
        if separated && !value.is_empty() {
            return (Some(contact), value);
        }
    }
    (None, segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(name: Option<&str>, org: Option<&str>, position: Option<&str>, phone: Option<&str>) -> Guess {
        Guess {
            name: name.map(Into::into),
            organization: org.map(Into::into),
            position: position.map(Into::into),
            phone: phone.map(Into::into),
        }
    }

    #[test]
    fn korean_signature_after_a_sign_off() {
        let text = "신청합니다.\n\n감사합니다.\n\n오세린 드림\n하늘소프트 | 마케팅팀 과장\nT. 02-555-0142 | M. 010-6678-1203\n";
        assert_eq!(
            from_signature(text),
            guess(Some("오세린"), Some("하늘소프트"), Some("마케팅팀 과장"), Some("010-6678-1203"))
        );
    }

    #[test]
    fn english_signature() {
        let text = "Please register me.\n\nBest regards,\nDaniel Kim\nSenior Engineer\nExample Robotics Co., Ltd.\nMobile: +82 10 9081 2235\n";
        assert_eq!(
            from_signature(text),
            guess(
                Some("Daniel Kim"),
                Some("Example Robotics Co., Ltd."),
                Some("Senior Engineer"),
                Some("010-9081-2235")
            )
        );
    }

    #[test]
    fn dash_separated_signature() {
        let text =
            "참가하고 싶습니다.\n\n--\n한지민 | 책임연구원\n(주)그린에너지랩\nM. 010-5521-3390\nE. jimin@x.example\n";
        assert_eq!(
            from_signature(text),
            guess(Some("한지민"), Some("(주)그린에너지랩"), Some("책임연구원"), Some("010-5521-3390"))
        );
    }

    #[test]
    fn bare_last_line() {
        let text = "워크숍 참가 신청합니다.\n이준호, 세움엔지니어링 대표, 010-4455-6677\n";
        assert_eq!(
            from_signature(text),
            guess(Some("이준호"), Some("세움엔지니어링"), Some("대표"), Some("010-4455-6677"))
        );
    }

    #[test]
    fn a_last_paragraph_opening_with_a_name_and_no_sign_off() {
        let text = "참가 신청합니다.\n\n김민준 책임연구원\n(주)한빛테크\nTel. 02-555-1234\nMobile. 010-1111-2222\n";
        assert_eq!(
            from_signature(text),
            guess(Some("김민준"), Some("(주)한빛테크"), Some("책임연구원"), Some("010-1111-2222"))
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(sign_off_index(&lines), Some(2), "its labelled phones are the signature's");
        // A form at the end is no signature, nor is a paragraph of sentences or the only one.
        for text in [
            "참가 신청합니다.\n\n성명: 김민준\n연락처: 010-1234-5678\n",
            "안녕하세요.\n\n김민준입니다. 신청합니다.\n감사합니다!\n",
            "김민준 책임연구원\n(주)한빛테크\n",
        ] {
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(signature_paragraph(&lines), None, "{text}");
        }
    }

    #[test]
    fn prose_is_not_a_signature() {
        assert_eq!(from_signature("안녕하세요.\n행사장에 주차가 가능한가요?\n"), Guess::default());
        assert_eq!(from_signature("급한 용무는 010-1234-5678으로 연락 바랍니다.\n"), Guess::default());
        assert_eq!(from_signature(""), Guess::default());
    }

    #[test]
    fn fax_numbers_are_not_phones() {
        let text = "감사합니다.\n김민준 드림\nFax. 02-555-1234\n";
        assert_eq!(from_signature(text).phone, None);
    }

    #[test]
    fn display_names() {
        assert_eq!(
            from_display_name("김서준/책임연구원/한빛테크"),
            guess(Some("김서준"), Some("한빛테크"), Some("책임연구원"), None)
        );
        assert_eq!(from_display_name("박혜린 [다온소재]"), guess(Some("박혜린"), Some("다온소재"), None, None));
        assert_eq!(from_display_name("김민준 팀장"), guess(Some("김민준"), None, Some("팀장"), None));
        assert_eq!(from_display_name("Daniel Reyes"), guess(Some("Daniel Reyes"), None, None, None));
        assert_eq!(from_display_name("jimin.han"), Guess::default());
        assert_eq!(from_display_name("SME 뉴스레터"), Guess::default());
    }
}
