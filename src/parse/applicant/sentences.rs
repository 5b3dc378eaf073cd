//! Values stated in sentences rather than under labels: the grammar of the applicant's own
//! words.
//!
//! ```text
//! 휴대폰 번호가 010-5555-6666으로 바뀌었습니다.    → phone 010-5555-6666
//! 직위가 과장에서 차장으로 변경되었습니다.          → position 차장 (과장 was the old one)
//! 소속이 한빛테크에서 (주)다온소재로 바뀌었습니다.   → organization (주)다온소재
//! 이름을 김민중으로 정정 부탁드립니다.              → name 김민중
//! 저 포함 세 명으로 해 주세요.                     → attendees exactly 3
//! 한 명 더 가도 될까요?                           → attendees: one more than recorded
//! 팀원과 같이 가겠습니다.                          → attendees exactly 2 (the applicant and one)
//! ```
//!
//! A sentence states a value when it names the field (`번호`, `직위`, `소속`, `이름`, `인원` …)
//! and ties a value to it with the grammar Korean uses for that: the particle `으로/로` on what
//! something becomes (`차장으로 변경`), `에서` on what it was (`과장에서`), the copula on what
//! it is (`010-…입니다`), `A → B`, or `A이 아니라 B`. Particles are taken off words by the
//! final-consonant rule (`particles.rs`); numbers are read in digits and in Hangul
//! (`numerals.rs`); a value must look like its field (a phone by the numbering plan, a title,
//! a person's name, an organization's words) or it is not taken. Counts of people are read
//! with what follows the counter: `더`, `추가`, `늘` add to the recorded count, `줄`, `빠지`,
//! `불참`, `못` take from it, `으로` and the verbs of attending state it. A sentence that asks
//! someone else to act (`가시죠`, `신청해 보세요`) states nothing about the applicant.
//!
//! Only lines that are not `label: value` lines are read (labels are read as labels), and only
//! the applicant's own lines are given here (quoted mail is cut off before).

mod counts;

use super::guess;
use super::numerals::{normalized, ENGLISH as ENGLISH_NUMBERS};
use super::particles::{split_particle, Particle};
use super::phone::normalize_phone;
use super::text::{is_dash, is_space, to_halfwidth, ARROWS};
use counts::ALONE;

/// Largest count of attendees one mail can state (as for labels, see `attendees.rs`).
const MAX_COUNT: u32 = 50;

/// A number of attendees stated in a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// `저 포함 세 명으로 해 주세요`: exactly this many.
    Exactly(u32),
    /// `한 명 더 가도 될까요`, `한 명은 불참합니다`: this many more (or fewer) than recorded.
    More(i32),
}

/// What the sentences of a text state, each with the index of the line it was read on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Statements {
    pub(super) name: Option<(String, usize)>,
    pub(super) organization: Option<(String, usize)>,
    pub(super) position: Option<(String, usize)>,
    pub(super) phone: Option<(String, usize)>,
    pub(super) attendees: Option<(Count, usize)>,
}

/// Nouns that name the phone.
const PHONE_NOUNS: &[&str] = &["연락처", "번호", "전화", "휴대폰", "핸드폰", "phone", "mobile", "cell", "number"];

/// Words that make a number in the sentence someone else's (a fax, the company's main line, a
/// contact for urgent matters in an auto-reply).
const NOT_MINE: &[&str] =
    &["팩스", "fax", "대표번호", "문의", "급한", "긴급", "urgent", "대신", "instead", "colleague", "동료"];

/// Nouns that name the organization.
const ORG_NOUNS: &[&str] = &[
    "소속",
    "회사",
    "기관",
    "업체",
    "상호",
    "직장",
    "근무처",
    "company",
    "organization",
    "organisation",
    "affiliation",
    "employer",
];

/// Verbs that say the applicant moved to another organization, whose new name carries `으로`.
const ORG_MOVE_VERBS: &[&str] = &["이직", "옮겼", "옮기", "옮김", "전직"];

/// Nouns that name the position.
const POSITION_NOUNS: &[&str] = &["직위", "직급", "직책", "직함", "position", "title"];

/// Nouns that name the applicant's name.
const NAME_NOUNS: &[&str] = &["이름", "성함", "성명", "name"];

/// Words that say a value changed or is corrected.
const CHANGE_WORDS: &[&str] = &[
    "변경",
    "바뀌",
    "바뀐",
    "바꿔",
    "바꾸",
    "바꿨",
    "수정",
    "정정",
    "바로잡",
    "고쳐",
    "고치",
    "옮기",
    "옮겼",
    "이직",
    "승진",
    "달라",
    "교체",
    "잘못",
    "오타",
    "새 ",
    "새로",
    "change",
    "update",
    "correct",
    "new ",
    "moved",
    "promoted",
    "now ",
    "spell",
];

/// Nouns of a cause, which take `으로` without being a new value (`부서 이동으로`, `회사
/// 합병으로`, `인사 발령으로`).
const CAUSES: &[&str] =
    &["이동", "합병", "발령", "사정", "사유", "관계", "개편", "변경", "인수", "통합", "요청", "문제", "이유"];

/// Words before a value that are not part of it (`제 번호`, `새 직함`).
const DETERMINERS: &[&str] = &[
    "제",
    "저",
    "저의",
    "저희",
    "우리",
    "새",
    "새로운",
    "현재",
    "이제",
    "지금",
    "이번",
    "앞으로",
    "새로",
    "기존",
    "예전",
    "지난달",
    "지난주",
    "최근",
    "올해",
    "작년",
    "이번달",
    "얼마전",
];

/// Verbs of applying or going with an ending that asks someone else to do it (compared without
/// spaces): the sentence states nothing about the applicant. `해 주세요` (do it for me) is not
/// among them: that asks the center to act for the applicant.
pub(super) const ADDRESSEE_DIRECTED: &[&str] = &[
    "신청하세요",
    "신청해보세요",
    "신청하시면",
    "신청하시기",
    "신청해보시",
    "신청하시죠",
    "신청하십시오",
    "신청해보심",
    "참석하세요",
    "참석해보세요",
    "참석하시면",
    "참석하시죠",
    "참가하세요",
    "참가해보세요",
    "참가하시면",
    "참가하시죠",
    "등록하세요",
    "등록하시면",
    "가시죠",
    "가세요",
    "가보세요",
    "가보시",
    "가실래",
    "가시겠",
    "오세요",
    "youshould",
    "youmightwant",
    "youmaywant",
    "feelfreeto",
    "ifyouareinterested",
    "ifyou'reinterested",
    "youcanregister",
    "youcanapply",
    "youcanattend",
    "youcansignup",
];

/// What the sentences among `lines` state. `lines` are the applicant's own lines; label lines
/// among them (`labelled`) are skipped. The first statement of each field wins; a count is the first exact
/// one, changed by the first change stated after it (a change repeated in other words is the
/// same change).
pub(super) fn statements(lines: &[&str], labelled: &[bool]) -> Statements {
    let mut found = Statements::default();
    let mut exact: Option<(u32, usize)> = None;
    let mut more: Option<(i32, usize)> = None;
    // A sentence that announces a new phone without giving it (`휴대폰 번호가 바뀌었습니다.`):
    // the number in the next sentences, up to two lines further, is the phone.
    let mut phone_announced: Option<usize> = None;
    for (index, line) in lines.iter().enumerate() {
        if line.trim_matches(is_space).is_empty() || labelled.get(index).copied().unwrap_or(false) {
            continue;
        }
        for text in split_sentences(line) {
            if !may_state(text) {
                continue;
            }
            let sentence = Sentence::new(text);
            if sentence.words.is_empty() || sentence.addresses_someone_else() {
                continue;
            }
            if found.phone.is_none() {
                let announced = phone_announced.is_some_and(|at| index <= at + 2);
                found.phone = sentence.phone(announced).map(|p| (p, index));
                if sentence.announces_phone() {
                    phone_announced = Some(index);
                }
            }
            if found.position.is_none() {
                found.position = sentence.position().map(|p| (p, index));
            }
            if found.organization.is_none() {
                found.organization = sentence.organization().map(|o| (o, index));
            }
            if found.name.is_none() {
                found.name = sentence.name().map(|n| (n, index));
            }
            match sentence.count() {
                Some(Count::Exactly(n)) if exact.is_none() => exact = Some((n, index)),
                Some(Count::More(d)) if more.is_none() => more = Some((d, index)),
                _ => {}
            }
        }
    }
    found.attendees = match (exact, more) {
        (Some((n, at)), Some((d, later))) if later >= at => {
            let total = i64::from(n) + i64::from(d);
            u32::try_from(total).ok().filter(|t| (1..=MAX_COUNT).contains(t)).map(|t| (Count::Exactly(t), later))
        }
        (Some((n, at)), _) => Some((Count::Exactly(n), at)),
        (None, Some((d, at))) if d != 0 => Some((Count::More(d), at)),
        _ => None,
    };
    found
}

/// The sentences of a line: split after `.`, `!`, `?` or `。` followed by a space (not after
/// `Co.`, `Ltd.` and the like).
fn split_sentences(line: &str) -> Vec<&str> {
    const ABBREVIATIONS: &[&str] = &["co", "ltd", "inc", "corp", "no", "mr", "ms", "mrs", "dr", "jr", "st", "tel"];
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?' | '。' | '？' | '！') {
            continue;
        }
        let end = i + c.len_utf8();
        let followed_by_space = chars.peek().is_none_or(|&(_, next)| is_space(next));
        let word = line[start..i].rsplit(is_space).next().unwrap_or("").to_ascii_lowercase();
        if followed_by_space && !ABBREVIATIONS.contains(&word.as_str()) {
            out.push(&line[start..end]);
            start = end;
        }
    }
    out.push(&line[start..]);
    out.into_iter().map(|s| s.trim_matches(is_space)).filter(|s| !s.is_empty()).collect()
}

/// A word of a sentence, with its particle taken off.
#[derive(Debug)]
struct Word<'a> {
    stem: &'a str,
    particle: Option<Particle>,
}

/// One sentence, read word by word.
struct Sentence<'a> {
    text: &'a str,
    /// Lower-cased, half-width.
    lower: String,
    words: Vec<Word<'a>>,
}

impl<'a> Sentence<'a> {
    fn new(text: &'a str) -> Sentence<'a> {
        let words = text
            .split(is_space)
            .map(|w| w.trim_matches(|c: char| matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’' | '「' | '」')))
            .filter(|w| !w.is_empty())
            .map(|w| {
                let (stem, particle) = split_particle(w);
                Word { stem, particle }
            })
            .collect();
        Sentence { text, lower: normalized(text), words }
    }

    fn mentions(&self, nouns: &[&str]) -> bool {
        nouns.iter().any(|n| self.lower.contains(n))
    }

    fn says_change(&self) -> bool {
        self.mentions(CHANGE_WORDS)
    }

    /// Whether the sentence asks someone else to act (`같이 가시죠`, `신청해 보세요`).
    fn addresses_someone_else(&self) -> bool {
        addressee_directed(&self.lower)
    }

    /// The phone the sentence states: a number named as the phone (`휴대폰 번호는 …입니다`, or
    /// `announced` by a sentence just before), or one that something becomes (`010-…으로
    /// 변경`) or is (`…입니다`). Of several, a mobile number among those marked as the new one,
    /// else the first marked, else (named) a mobile one or the first; one marked as the old one
    /// (`…에서`) never.
    fn phone(&self, announced: bool) -> Option<String> {
        let phones = phones_in(self.text);
        if phones.is_empty() || self.mentions(NOT_MINE) {
            return None;
        }
        let named = announced || self.mentions(PHONE_NOUNS);
        let candidates: Vec<&String> =
            phones.iter().filter(|(_, p)| *p != Some(Particle::From)).map(|(phone, _)| phone).collect();
        let marked: Vec<&String> = phones
            .iter()
            .filter(|(_, p)| matches!(p, Some(Particle::Into | Particle::Is)))
            .map(|(phone, _)| phone)
            .collect();
        let pool = if marked.is_empty() && named { candidates } else { marked };
        let chosen = pool.iter().find(|p| p.starts_with("01")).or_else(|| pool.first())?;
        Some((*chosen).clone())
    }

    /// Whether the sentence names the phone and says it changed or is given below, without a
    /// number of its own (`휴대폰 번호가 바뀌어 알려드립니다.`, `My mobile number has changed.`).
    fn announces_phone(&self) -> bool {
        let announces = self.mentions(&["알려", "아래", "다음", "보내", "below", "following"]) || self.says_change();
        self.mentions(PHONE_NOUNS) && announces && phones_in(self.text).is_empty() && !self.mentions(NOT_MINE)
    }

    /// The position the sentence states: `직위가 과장에서 차장으로 변경되었습니다`, `부장으로
    /// 승진했습니다`, `직급은 책임연구원입니다`, `my title is now CTO`.
    fn position(&self) -> Option<String> {
        let named = self.mentions(POSITION_NOUNS);
        if !named && !self.lower.contains("승진") && !self.lower.contains("promoted") {
            return None;
        }
        if let Some(value) = self.korean_value(POSITION_NOUNS, named || self.lower.contains("승진")) {
            if guess::is_title(&value) {
                return Some(value);
            }
        }
        self.english_value(&[
            "title is now ",
            "position is now ",
            "promoted to ",
            "title to ",
            "position to ",
            "title is ",
        ])
        .filter(|v| guess::is_title(v))
    }

    /// The organization the sentence states: `소속이 한빛테크에서 (주)다온소재로 바뀌었습니다`,
    /// `다온소재로 이직했습니다`, `회사명이 주식회사 새벽정밀로 바뀌었습니다`.
    fn organization(&self) -> Option<String> {
        let named = self.mentions(ORG_NOUNS);
        let moved = self.mentions(ORG_MOVE_VERBS);
        if !named && !moved && !self.lower.contains("moved to") {
            return None;
        }
        let korean = self.korean_value(ORG_NOUNS, true);
        let value = korean.or_else(|| {
            self.english_value(&[
                "company is now ",
                "organization is now ",
                "moved to ",
                "company to ",
                "organization to ",
            ])
        })?;
        looks_like_organization(&value).then_some(value)
    }

    /// The name the sentence states or corrects: `이름을 김민중으로 정정 부탁드립니다`, `제
    /// 이름은 김민중입니다`, `김민준이 아니라 김민중입니다`, `성함 표기 김민준 → 김민중`.
    fn name(&self) -> Option<String> {
        if let Some(name) = self.instead_of().filter(|n| guess::is_person_name(n)) {
            return Some(name);
        }
        if !self.mentions(NAME_NOUNS) {
            return None;
        }
        let korean = self.korean_value(NAME_NOUNS, true).filter(|n| guess::is_person_name(n));
        korean.or_else(|| {
            self.english_value(&["name is spelled ", "name to ", "name should be ", "name should read ", "my name is "])
                .filter(|n| guess::is_person_name(n))
        })
    }

    /// `A이 아니라 B입니다`, `A → B`: B, when A and B are both names.
    fn instead_of(&self) -> Option<String> {
        let words = &self.words;
        for (i, word) in words.iter().enumerate() {
            let arrow = ARROWS.contains(&word.stem);
            let not_but = word.stem.starts_with("아니") && i > 0;
            if !arrow && !not_but {
                continue;
            }
            let before = words.get(i.checked_sub(1)?)?.stem;
            let after = words.get(i + 1)?.stem;
            if guess::is_person_name(before) && guess::is_person_name(after) {
                return Some(after.to_owned());
            }
        }
        None
    }

    /// The value a Korean sentence ties to its field (named by one of `nouns`): the words up to
    /// one carrying `으로/로` (what it becomes), else the copula (what it is), else after an
    /// arrow; the first such after the field's noun; back to the noun, a word with a particle,
    /// or a determiner (`제`, `새`, `지난달`). `loose`: the `으로` value is taken even without a
    /// word of change (the caller knows the sentence is about the field).
    fn korean_value(&self, nouns: &[&str], loose: bool) -> Option<String> {
        let words = &self.words;
        if let Some(i) = words.iter().position(|w| ARROWS.contains(&w.stem)) {
            let after = words.get(i + 1)?;
            return Some(after.stem.to_owned());
        }
        // `소속이 바뀌었습니다: 한빛테크 연구소`: the field named and said to change before a colon,
        // its new value after.
        if let Some((before, after)) = self.text.split_once([':', '：']) {
            let before = before.to_lowercase();
            let named = nouns.iter().any(|n| before.contains(n)) && CHANGE_WORDS.iter().any(|w| before.contains(w));
            let value = after.trim_matches(|c: char| is_space(c) || matches!(c, '.' | '"'));
            let value = value.strip_suffix("입니다").unwrap_or(value).trim_matches(is_space);
            if named && !value.is_empty() && value.split_whitespace().count() <= 6 {
                return Some(value.to_owned());
            }
        }
        let is_noun = |w: &Word<'_>| {
            let lower = w.stem.to_lowercase();
            nouns.iter().any(|n| lower.contains(n))
        };
        // The field's noun that is the subject, topic or object (`소속이`, `직위는`, `이름을`),
        // else the first: `회사 합병으로 소속이 …` is about `소속`.
        let marked = |w: &Word<'_>| matches!(w.particle, Some(Particle::Subject | Particle::Topic | Particle::Object));
        let noun = words.iter().position(|w| is_noun(w) && marked(w)).or_else(|| words.iter().position(is_noun));
        // `부서 이동으로 소속이 …`: a cause with `으로` is not what something becomes.
        let takes = |i: usize, particle: Particle| {
            words[i].particle == Some(particle)
                && !(particle == Particle::Into && CAUSES.iter().any(|c| words[i].stem.ends_with(c)))
        };
        let first = |particle: Particle| {
            let after_noun = noun.and_then(|at| (at..words.len()).find(|&i| takes(i, particle)));
            after_noun.or_else(|| (0..words.len()).find(|&i| takes(i, particle)))
        };
        let end = match (first(Particle::Into), first(Particle::Is)) {
            (Some(i), _) if loose || self.says_change() => i,
            (_, Some(i)) => i,
            _ => return None,
        };
        let mut start = end;
        while start > 0 {
            let before = &words[start - 1];
            let boundary = before.particle.is_some()
                || DETERMINERS.contains(&before.stem)
                || is_field_noun(before.stem)
                || end - start >= 3;
            if boundary {
                break;
            }
            start -= 1;
        }
        let value: Vec<&str> = words[start..=end].iter().map(|w| w.stem).collect();
        let value = value.join(" ");
        let value = value.trim_matches(|c: char| is_space(c) || matches!(c, ',' | '.' | ':' | '"'));
        (!value.is_empty() && !is_field_noun(value)).then(|| value.to_owned())
    }

    /// The text after the first of `phrases` in an English sentence, to its end.
    fn english_value(&self, phrases: &[&str]) -> Option<String> {
        // ASCII lower-casing keeps every byte offset of the text.
        let lower = self.text.to_ascii_lowercase();
        let (at, phrase) = phrases.iter().find_map(|p| lower.find(p).map(|at| (at, *p)))?;
        let start = at + phrase.len();
        let rest = self.text.get(start..)?;
        let mut value = rest.trim_end_matches(|c: char| is_space(c) || matches!(c, '!' | ',' | ';'));
        let last = value.trim_end_matches('.').rsplit(is_space).next().unwrap_or("").to_ascii_lowercase();
        if !["inc", "ltd", "co", "corp"].contains(&last.as_str()) {
            value = value.trim_end_matches('.');
        }
        let value = value.strip_prefix("\"").unwrap_or(value).trim_end_matches('"');
        (!value.is_empty() && value.split_whitespace().count() <= 6).then(|| value.to_owned())
    }
}

/// Whether `lower` (lower-cased) asks someone else to apply or go (see [`ADDRESSEE_DIRECTED`]).
pub(super) fn addressee_directed(lower: &str) -> bool {
    let compact: String = lower.chars().filter(|c| !is_space(*c)).collect();
    ADDRESSEE_DIRECTED.iter().any(|p| compact.contains(p))
}

/// Whether a sentence could state anything, checked before it is read word by word (most prose
/// states nothing). Each clause is what one reading needs before it can find a value, from the
/// same word lists: a digit (phones, counts in digits), a counter or `이서` (`한 명`, `둘이서`),
/// an English number word, going together or alone, an arrow or `아니` (a name instead of
/// another), a field's noun, a move or a promotion.
fn may_state(text: &str) -> bool {
    let lower = normalized(text);
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    lower.chars().any(|c| c.is_ascii_digit())
        || has(&["명", "분", "인", "사람", "이서", "같이", "함께", " with ", "bring ", "아니"])
        || has(ARROWS)
        || has(ALONE)
        || has(ENGLISH_NUMBERS)
        || [PHONE_NOUNS, ORG_NOUNS, ORG_MOVE_VERBS, POSITION_NOUNS, NAME_NOUNS].iter().any(|nouns| has(nouns))
        || has(&["moved to", "승진", "promoted"])
}

/// Whether `word` (without its particle) is one of the nouns that name a field.
fn is_field_noun(word: &str) -> bool {
    let lower = word.to_lowercase();
    let compact: String = lower.chars().filter(|c| !is_space(*c)).collect();
    [PHONE_NOUNS, ORG_NOUNS, POSITION_NOUNS, NAME_NOUNS].iter().flat_map(|nouns| nouns.iter()).any(|n| compact == *n)
        || ["회사명", "기관명", "업체명", "휴대폰번호", "핸드폰번호", "전화번호", "휴대전화", "철자", "표기", "영문"]
            .contains(&compact.as_str())
}

/// Words that could be an organization: letters, at most six words, not a name or a title, no
/// address, not a sentence.
fn looks_like_organization(value: &str) -> bool {
    let words = value.split_whitespace().count();
    (1..=6).contains(&words)
        && value.chars().any(char::is_alphabetic)
        && !value.contains('@')
        && !guess::is_person_name(value)
        && !guess::is_title(value)
        && !value.ends_with("니다")
}

/// Every Korean phone number in `text`, with the particle right after it (`으로`, `입니다`,
/// `에서` …).
fn phones_in(text: &str) -> Vec<(String, Option<Particle>)> {
    let is_phone_char = |c: char| {
        let c = to_halfwidth(c);
        c.is_ascii_digit() || matches!(c, '+' | '.' | '(' | ')') || is_dash(c) || c == ' '
    };
    let mut out = Vec::new();
    let mut start = None;
    // A number before an arrow is the old one (`에서`), after an arrow the new one (`으로`).
    let mut push = |before: &str, run: &str, rest: &str| {
        let run = run.trim_matches(|c: char| c == ' ' || c == '.' || c == '(' || c == ')');
        if !run.chars().any(|c| to_halfwidth(c).is_ascii_digit()) {
            return;
        }
        if let Some(phone) = normalize_phone(run) {
            let word: String = rest.trim_start().chars().take_while(|c| !is_space(*c)).collect();
            let particle = if ARROWS.iter().any(|a| word.starts_with(a)) {
                Some(Particle::From)
            } else if ARROWS.iter().any(|a| before.trim_end().ends_with(a)) {
                Some(Particle::Into)
            } else {
                split_particle(&format!("0{word}")).1
            };
            out.push((phone, particle));
        }
    };
    for (i, c) in text.char_indices() {
        match (is_phone_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                push(&text[..s], &text[s..i], &text[i..]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        push(&text[..s], &text[s..], "");
    }
    out
}

#[cfg(test)]
mod tests;
