//! What the applicant's own words show about whom a mail is for and whether it applies, and
//! whether it is an auto-reply: the clues [`crate::domain::classify`] and
//! [`crate::domain::auto_reply`] weigh.
//!
//! - **whom the text greets**: the first line, `김과장님,`, `박 팀장님 안녕하세요`, `민수야,`,
//!   `Hi John,` — the center when it names the center (`담당자님`, `SME센터`, `KAIST`), else
//!   someone else;
//! - **whether the sender applies**: `신청`, `참가`, `참석`, `등록` (and `register`, `attend` …)
//!   used by the sender about themselves (`신청합니다`, `참석하겠습니다`, `신청서 보내드립니다`),
//!   not as a noun of the announcement (`신청 안내`, `참가 방법`, `참석 인원`) and not asking
//!   someone else (`신청해 보세요`, `같이 가시죠`: see `sentences.rs`);
//! - **for information** (`FYI`, `참고하세요`, `공유드립니다`), **only thanks** (`잘
//!   받았습니다`);
//! - **an auto-reply**: the subject's prefix (`[자동회신]`, `Automatic reply:`, `부재 중
//!   알림`), a text about being away (`부재중`, `휴가`, `out of the office`) until a date, a
//!   contact for urgent matters.

use crate::domain::{AutoClue, Clue};

use super::sentences::addressee_directed;
use super::text::is_space;

/// Words of applying, Korean and English.
const APPLY_WORDS: &[&str] = &[
    "신청",
    "참가",
    "참석",
    "등록",
    "register",
    "registration",
    "apply",
    "application",
    "attend",
    "sign up",
    "sign me up",
    "participate",
    "count me in",
    "rsvp",
];

/// What may follow a word of applying when it is a noun of the announcement, not the sender
/// applying (compared without spaces).
const NOUN_USES: &[&str] = &[
    "안내",
    "방법",
    "기간",
    "마감",
    "양식",
    "링크",
    "페이지",
    "요령",
    "서양식",
    "을받",
    "를받",
    "받습니다",
    "받고",
    "바랍니다",
    "문의",
    "가능",
    "여부",
    "비",
    "대상",
    "자격",
    "현황",
    "인원",
    "자",
    "취소",
    "불가",
    "어렵",
    "못",
    "하지못",
    "이어렵",
    "확인",
    "완료",
    "접수",
    "deadline",
    "form",
    "fee",
    "link",
    "details",
    "ee",
    "ance",
];

/// Words before an English word of applying that make it someone else's (`you can register`).
const YOU: &[&str] = &["you", "your", "you'll", "you're"];

/// Greetings' words that name the center.
const CENTER_WORDS: &[&str] = &[
    "담당자",
    "센터",
    "사무국",
    "관계자",
    "운영",
    "kaist",
    "sme",
    "귀하",
    "귀중",
    "center",
    "centre",
    "organizer",
    "organiser",
    "sir",
    "madam",
    "whom",
    "workshop",
];

/// For-information phrases.
const FYI: &[&str] = &[
    "fyi",
    "참고하세요",
    "참고하시기",
    "참고하시라고",
    "참고 바랍니다",
    "참고바랍니다",
    "참고 부탁",
    "참고용",
    "공유드립니다",
    "공유 드립니다",
    "공유합니다",
    "공유하겠",
    "for your information",
    "for your reference",
    "just so you know",
];

/// Thanks and acknowledgements.
const THANKS: &[&str] = &[
    "잘 받았습니다",
    "잘받았습니다",
    "받았습니다",
    "확인했습니다",
    "확인하였습니다",
    "확인 했습니다",
    "감사합니다",
    "감사드립니다",
    "고맙습니다",
    "thank you",
    "thanks",
    "received",
    "noted",
];

/// The clues in the sender's own text (quoted mail cut off) and the subject (`None` when it is
/// the announcement's own subject).
pub(in crate::parse) fn clues_in_words(own_text: &str, subject: Option<&str>) -> Vec<Clue> {
    let mut clues = Vec::new();
    if let Some(greeting) = greeting(own_text) {
        let lower = greeting.to_lowercase();
        if CENTER_WORDS.iter().any(|w| lower.contains(w)) {
            clues.push(Clue::GreetsCenter(greeting));
        } else {
            clues.push(Clue::GreetsSomeoneElse(greeting));
        }
    }
    let own_lower = own_text.to_lowercase();
    if let Some(phrase) = FYI.iter().find(|p| own_lower.contains(*p)) {
        clues.push(Clue::ForInformation((*phrase).to_owned()));
    }
    if let Some(phrase) = casual_speech(own_text) {
        clues.push(Clue::SpeaksCasually(phrase));
    }
    let mut applies = None;
    let mut asks = None;
    // A reply's or a forward's subject is someone else's words.
    let subject = subject.filter(|s| !is_reply_or_forward(s)).unwrap_or("");
    for text in [own_text, subject] {
        for line in text.lines() {
            match apply_use(line) {
                Some(Use::Mine(phrase)) => applies = applies.or(Some(phrase)),
                Some(Use::Someone(phrase)) => asks = asks.or(Some(phrase)),
                None => {}
            }
        }
    }
    if let Some(phrase) = asks {
        clues.push(Clue::AsksSomeoneElse(phrase));
    }
    match applies {
        Some(phrase) => clues.push(Clue::Applies(phrase)),
        None => {
            if let Some(thanks) = THANKS.iter().find(|t| own_lower.contains(*t)) {
                clues.push(Clue::OnlyThanks((*thanks).to_owned()));
            }
        }
    }
    clues
}

/// Endings of casual speech (반말), which nobody writes to an institution: `시간 돼?`, `같이
/// 가자`, `이거 봐봐`.
const CASUAL_ENDINGS: &[&str] =
    &["야", "자", "니", "냐", "돼", "어", "지", "해", "줘", "봐", "거든", "잖아", "할게", "갈게", "래", "냐고"];

/// Endings of polite or formal speech (`합니다`, `해요`, `하십시오`).
const POLITE_ENDINGS: &[&str] = &["요", "다", "까", "오", "죠", "니다"];

/// The first sentence in casual speech, when the whole text has no polite one: the mail speaks
/// to a friend, not to the center.
fn casual_speech(own_text: &str) -> Option<String> {
    let mut casual = None;
    for line in own_text.lines() {
        for sentence in line.split_inclusive(['.', '?', '!']) {
            let last = sentence.split(is_space).rfind(|w| !w.is_empty()).unwrap_or("");
            let word = last.trim_end_matches(['.', '?', '!', '~', ',', '^', ';', ')']);
            if word.is_empty() || !word.chars().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)) {
                continue;
            }
            if POLITE_ENDINGS.iter().any(|e| word.ends_with(e)) {
                return None;
            }
            if casual.is_none() && CASUAL_ENDINGS.iter().any(|e| word.ends_with(e)) {
                casual = Some(sentence.trim_matches(is_space).to_owned());
            }
        }
    }
    casual
}

/// `Re:`, `RE :`, `Fwd:`, `FW:`, `답장:`, `회신:`, `전달:`, `[전달]` at the start of a subject.
fn is_reply_or_forward(subject: &str) -> bool {
    let lower = subject.trim_matches(is_space).to_lowercase();
    ["re:", "re :", "fw:", "fwd:", "fw :", "fwd :", "답장", "회신:", "전달:", "[전달]", "[fw", "[fwd", "aw:", "sv:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// How a line uses a word of applying.
enum Use {
    /// The sender applies: the phrase.
    Mine(String),
    /// The sender asks someone else to.
    Someone(String),
}

/// The first use (the leftmost) of a word of applying on `line` that is not a noun of the
/// announcement.
fn apply_use(line: &str) -> Option<Use> {
    // ASCII lower-casing keeps every byte offset of `line`.
    let lower = line.to_ascii_lowercase();
    if addressee_directed(&lower) {
        return Some(Use::Someone(phrase_around(line, &lower)));
    }
    let mine = |word: &str, at: usize| {
        let after: String = lower[at + word.len()..].chars().filter(|c| !is_space(*c)).take(10).collect();
        if NOUN_USES.iter().any(|n| after.starts_with(n)) {
            return false;
        }
        if word.is_ascii() {
            let before: Vec<&str> = lower[..at].split_whitespace().rev().take(2).collect();
            let prefixed = at > 0 && lower[..at].ends_with(|c: char| c.is_ascii_alphabetic());
            if prefixed || before.iter().any(|w| YOU.contains(w)) {
                return false;
            }
        }
        true
    };
    let at = APPLY_WORDS
        .iter()
        .flat_map(|word| lower.match_indices(word).map(move |(at, _)| (at, *word)))
        .filter(|&(at, word)| mine(word, at))
        .map(|(at, _)| at)
        .min()?;
    Some(Use::Mine(phrase_at(line, at)))
}

/// A few words of `line` from byte `at` on, for explaining.
fn phrase_at(line: &str, at: usize) -> String {
    let at = if line.is_char_boundary(at) { at } else { 0 };
    let start = line[..at].char_indices().rev().find(|(_, c)| is_space(*c)).map_or(0, |(i, c)| i + c.len_utf8());
    line[start..].split(is_space).filter(|w| !w.is_empty()).take(3).collect::<Vec<_>>().join(" ")
}

fn phrase_around(line: &str, lower: &str) -> String {
    let at = APPLY_WORDS.iter().filter_map(|w| lower.find(w)).min().unwrap_or(0);
    phrase_at(line, at.min(line.len()))
}

/// The greeting on the first line of the sender's own text: the words before `님`, `씨`, a
/// vocative `야`/`아` or an English salutation, as written (`김과장님`, `Hi John`).
fn greeting(own_text: &str) -> Option<String> {
    let first = own_text.lines().map(|l| l.trim_matches(is_space)).find(|l| !l.is_empty())?;
    let head: String = first.chars().take(40).collect();
    for honorific in ["님", "씨"] {
        if let Some(at) = head.find(honorific) {
            let end = at + honorific.len();
            let rest = head[end..].trim_start_matches(['께', ',', '!', '.']);
            let at_start_of_line = head[..at].split(is_space).filter(|w| !w.is_empty()).count() <= 3;
            let then = rest.trim_matches(is_space);
            let greets = then.is_empty() || then.starts_with("안녕") || head[end..].starts_with([',', '께']);
            if at_start_of_line && greets && at > 0 {
                return Some(head[..end].trim_matches(is_space).to_owned());
            }
        }
    }
    let first_word = head.split(is_space).next().unwrap_or("");
    let vocative = first_word.trim_end_matches([',', '!']);
    let hangul = |s: &str| s.chars().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
    if (vocative.ends_with('야') || vocative.ends_with('아'))
        && hangul(vocative)
        && (3..=4).contains(&vocative.chars().count())
        && first_word.ends_with(',')
    {
        return Some(vocative.to_owned());
    }
    let lower = head.to_ascii_lowercase();
    for salutation in ["hi ", "hello ", "dear ", "hey "] {
        if let Some(rest) = lower.strip_prefix(salutation) {
            let name = rest.split([',', '!']).next().unwrap_or("").trim();
            if !name.is_empty() && name.split_whitespace().count() <= 4 {
                return Some(head[..salutation.len() + name.len()].trim().to_owned());
            }
        }
    }
    None
}

/// Prefixes that open an auto-reply's subject.
const AUTO_PREFIXES: &[&str] = &[
    "[자동회신]",
    "[자동 회신]",
    "[자동응답]",
    "[자동 응답]",
    "[부재중]",
    "[부재 중]",
    "[부재]",
    "[휴가]",
    "[휴가중]",
    "[휴가 중]",
    "[출장중]",
    "[출장 중]",
    "부재 알림",
    "부재중 안내",
    "부재 중 안내",
    "자동회신:",
    "자동 회신:",
    "자동응답:",
    "자동 응답:",
    "부재중:",
    "부재 중:",
    "부재중 알림",
    "부재 중 알림",
    "automatic reply:",
    "auto reply:",
    "auto-reply:",
    "autoreply:",
    "auto response:",
    "autoresponse:",
    "auto-response:",
    "out of office:",
    "out of office reply",
    "out of the office:",
    "ooo:",
    "[auto-reply]",
    "[autoreply]",
    "[out of office]",
    "[ooo]",
    "vacation reply",
    "absence notice",
];

/// Phrases that make a subject an auto-reply's wherever they stand.
const AUTO_PHRASES: &[&str] = &[
    "자동회신",
    "자동 회신",
    "자동응답",
    "부재중 알림",
    "부재 중 알림",
    "부재 알림",
    "부재중 안내",
    "automatic reply",
    "out of office",
    "autoreply",
];

/// Phrases of being away.
const AWAY: &[&str] = &[
    "부재중",
    "부재 중",
    "휴가",
    "출장 중",
    "출장중",
    "자리를 비",
    "외근",
    "연차",
    "out of the office",
    "out of office",
    "away from",
    "on vacation",
    "on leave",
    "on holiday",
    "annual leave",
    "limited access",
    "currently away",
];

/// Phrases of a date the sender is back on (with a digit in the same sentence).
const UNTIL: &[&str] =
    &["까지", "복귀", "돌아", "이후", "until", "till", "through", "return", "back on", "back in", "after"];

/// Phrases naming someone for urgent matters.
const URGENT: &[&str] =
    &["급한 용무", "급한 일", "급한 업무", "급한 건", "급한 사항", "급하신", "긴급", "urgent", "immediate assistance"];

/// The clues of an auto-reply in the subject and the sender's own text; `states` and
/// `applies` say whether the mail states fields or says it applies (which count against).
pub(in crate::parse) fn auto_reply_clues(
    subject: Option<&str>,
    own_text: &str,
    states: bool,
    applies: bool,
) -> Vec<AutoClue> {
    let mut clues = Vec::new();
    let subject = subject.unwrap_or("").trim_matches(is_space).to_lowercase();
    if let Some(prefix) = AUTO_PREFIXES.iter().find(|p| subject.starts_with(*p)) {
        clues.push(AutoClue::SubjectPrefix((*prefix).to_owned()));
    } else if let Some(phrase) = AUTO_PHRASES.iter().find(|p| subject.contains(*p)) {
        clues.push(AutoClue::SubjectPhrase((*phrase).to_owned()));
    }
    let lower = own_text.to_lowercase();
    if let Some(away) = AWAY.iter().find(|a| lower.contains(*a)) {
        clues.push(AutoClue::Away((*away).to_owned()));
        let dated =
            lower.lines().find(|l| l.chars().any(|c| c.is_ascii_digit()) && UNTIL.iter().any(|u| l.contains(u)));
        if let Some(line) = dated {
            let phrase = UNTIL.iter().find(|u| line.contains(*u)).copied().unwrap_or_default();
            clues.push(AutoClue::Until(phrase.to_owned()));
        }
        if let Some(urgent) = URGENT.iter().find(|u| lower.contains(*u)) {
            clues.push(AutoClue::Urgent((*urgent).to_owned()));
        }
    }
    if clues.is_empty() {
        return clues;
    }
    if states {
        clues.push(AutoClue::StatesFields);
    }
    if applies {
        clues.push(AutoClue::Applies);
    }
    clues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auto_reply;

    fn has(clues: &[Clue], want: impl Fn(&Clue) -> bool) -> bool {
        clues.iter().any(want)
    }

    #[test]
    fn whom_the_text_greets() {
        assert_eq!(greeting("김과장님,\n아래 안내 공유드립니다."), Some("김과장님".to_owned()));
        assert_eq!(greeting("박 팀장님 안녕하세요.\n"), Some("박 팀장님".to_owned()));
        assert_eq!(greeting("SME센터 담당자님께,\n신청합니다."), Some("SME센터 담당자님".to_owned()));
        assert_eq!(greeting("민수야, 이거 봐봐\n"), Some("민수야".to_owned()));
        assert_eq!(greeting("Hi John,\nSee below."), Some("Hi John".to_owned()));
        assert_eq!(greeting("Dear SME R&D Center,\n"), Some("Dear SME R&D Center".to_owned()));
        assert_eq!(greeting("안녕하세요.\n성명: 김민준"), None);
        assert_eq!(greeting("참가 신청합니다. 김민준님이 추천해 주셨습니다.\n"), None, "not at the start");
    }

    #[test]
    fn applying_told_from_the_announcements_nouns_and_from_asking_others() {
        for line in [
            "참가 신청합니다.",
            "워크숍에 참석하겠습니다",
            "신청서 보내드립니다.",
            "I would like to register.",
            "[참가신청] 김민준",
        ] {
            assert!(matches!(apply_use(line), Some(Use::Mine(_))), "{line}");
        }
        for line in [
            "[KAIST] 워크숍 참가 안내",
            "신청 방법은 아래와 같습니다",
            "참석 인원: 2명",
            "Registration deadline: 17 Nov",
        ] {
            assert!(apply_use(line).is_none(), "{line}");
        }
        for line in ["관심 있으시면 신청해 보세요.", "같이 가시죠", "You can register here."] {
            assert!(matches!(apply_use(line), Some(Use::Someone(_))), "{line}");
        }
    }

    #[test]
    fn the_clues_of_a_colleagues_forward() {
        let clues = clues_in_words(
            "김과장님,\n워크숍 안내 공유드립니다. 관심 있으시면 신청해 보세요.\n",
            Some("FW: 워크숍 참가 안내"),
        );
        assert!(has(&clues, |c| matches!(c, Clue::GreetsSomeoneElse(g) if g == "김과장님")));
        assert!(has(&clues, |c| matches!(c, Clue::ForInformation(_))));
        assert!(has(&clues, |c| matches!(c, Clue::AsksSomeoneElse(_))));
        assert!(!has(&clues, |c| matches!(c, Clue::Applies(_))));
    }

    #[test]
    fn casual_speech_speaks_to_a_friend() {
        assert_eq!(
            casual_speech("민수야, 이번 주말에 시간 돼?\n저녁이나 같이 먹자."),
            Some("민수야, 이번 주말에 시간 돼?".into())
        );
        assert_eq!(casual_speech("참가 신청합니다.\n성명: 김민준"), None);
        assert_eq!(casual_speech("혹시 시간 돼?\n참가 신청합니다."), None, "any polite sentence: not casual");
        assert_eq!(casual_speech("김민준 드림\n한빛테크 | 팀장"), None);
    }

    #[test]
    fn thanks_only() {
        let clues = clues_in_words("잘 받았습니다. 감사합니다.\n김민준 드림", Some("RE: [접수] 워크숍 참가 신청 확인"));
        assert!(has(&clues, |c| matches!(c, Clue::OnlyThanks(t) if t == "잘 받았습니다")), "{clues:?}");
    }

    #[test]
    fn auto_replies_without_headers() {
        let by_subject = auto_reply_clues(Some("[자동회신] RE: 워크숍 참가 안내"), "", false, false);
        assert!(auto_reply(&by_subject).is_some());
        let by_body =
            auto_reply_clues(Some("RE: 워크숍 참가 안내"), "11월 21일까지 휴가로 부재중입니다.", false, false);
        assert!(auto_reply(&by_body).is_some(), "{by_body:?}");
        let english = auto_reply_clues(
            Some("Out of Office: Workshop"),
            "I am out of the office until 21 November.",
            false,
            false,
        );
        assert_eq!(english.len(), 3);
        let applicant_away =
            auto_reply_clues(Some("참가 신청"), "출장 중이라 11월 20일까지 답장이 늦습니다. 신청합니다.", false, true);
        assert!(auto_reply(&applicant_away).is_none(), "{applicant_away:?}");
        assert!(auto_reply_clues(Some("워크숍 참가 신청"), "성명: 김민준", true, true).is_empty());
        for subject in
            ["[휴가중] RE: 워크숍", "부재 알림", "[부재중] RE: 워크숍 참가 안내", "[Out of Office] RE: workshop"]
        {
            assert!(auto_reply(&auto_reply_clues(Some(subject), "", false, false)).is_some(), "{subject}");
        }
        let dated_after = auto_reply_clues(
            Some("RE: 워크숍 참가 안내"),
            "현재 출장 중이라 11/21 이후 확인 가능합니다. 급한 건은 010-5555-1212로 연락 바랍니다.",
            false,
            false,
        );
        assert_eq!(dated_after.len(), 3, "away, a date, a contact for urgent matters: {dated_after:?}");
        assert!(auto_reply(&dated_after).is_some());
    }
}
