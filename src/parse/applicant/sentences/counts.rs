//! Counts of people stated in sentences (see the parent module): `N명` and what follows it
//! (`더`, `추가` add to the recorded count; `불참`, `못` take from it; `으로` and the verbs of
//! attending state it), the applicant with companions (`팀원과 같이`), alone (`저 혼자`), and the
//! English forms (`3 people will attend`, `one more person`).

use super::super::numerals::{leading_number, normalized};
use super::super::particles::Particle;
use super::super::text::{is_space, ARROWS};
use super::{Count, Sentence, MAX_COUNT};

/// Words of attending after a count (`세 명이 참석합니다`).
const ATTEND_VERBS: &[&str] =
    &["참석", "참가", "신청", "방문", "갑니다", "가겠", "갈게", "가요", "함께", "같이", "등록"];

/// Words after a count that take it away from the recorded one (`한 명은 불참합니다`).
const FEWER_WORDS: &[&str] = &["줄", "빠지", "빠져", "빠집", "불참", "못", "제외", "취소", "어렵"];

/// Words after a count that add it to the recorded one (`한 명 더`, `한 명 추가`).
const MORE_WORDS: &[&str] = &["더", "추가", "늘"];

/// People an applicant comes with (`팀원과 같이 가겠습니다`).
const COMPANIONS: &[&str] = &[
    "팀원",
    "동료",
    "직원",
    "후배",
    "선배",
    "상사",
    "동기",
    "대표님",
    "과장님",
    "부장님",
    "차장님",
    "팀장님",
    "대리님",
    "이사님",
    "연구원",
    "부하",
    "사장님",
    "실장님",
    "소장님",
    "직원분",
    "colleague",
    "coworker",
    "co-worker",
];

/// Words that say the applicant comes alone (`저 혼자 참석합니다`).
pub(super) const ALONE: &[&str] = &["혼자", "저만", "본인만", "저 한 명만", "by myself", "just me", "only me"];

impl Sentence<'_> {
    /// The count of attendees the sentence states, exactly or as a change.
    pub(super) fn count(&self) -> Option<Count> {
        self.korean_count().or_else(|| self.companions()).or_else(|| self.alone()).or_else(|| self.english_count())
    }

    /// `N명` (or `분`, `인`, `사람`) and what follows it.
    fn korean_count(&self) -> Option<Count> {
        let text = &self.lower;
        text.char_indices().find_map(|(i, _)| {
            let before = &text[..i];
            let word_start = before.is_empty()
                || before.ends_with(|c: char| is_space(c) || matches!(c, ',' | '(' | '.' | '총' | '~'));
            if !word_start {
                return None;
            }
            let number = leading_number(&text[i..])?;
            let rest = number.rest.trim_start_matches(is_space);
            // A Sino-Korean numeral counts people with `명` and `인` only: `이 분` is "this person".
            let counters: &[&str] = if number.sino { &["명", "인"] } else { &["명", "분", "인", "사람"] };
            let Some(after) = counters.iter().find_map(|c| rest.strip_prefix(c)) else {
                // `둘이서 가겠습니다`: a native numeral and `이서` need no counter.
                let together = rest.starts_with("이서") && !number.needs_counter;
                return together.then_some(Count::Exactly(number.value)).filter(|_| in_range(number.value));
            };
            if after.starts_with(|c: char| c.is_alphanumeric() && !is_particle_start(c)) {
                return None; // `명단`, `인사`: another word
            }
            let n = number.value;
            if !in_range(n) {
                return None;
            }
            let after_trimmed =
                after.trim_start_matches(|c: char| is_space(c) || matches!(c, '이' | '가' | '은' | '는' | '도' | '만'));
            let besides = before.trim_end_matches(is_space).ends_with('외');
            if besides {
                return Some(Count::Exactly(n + 1));
            }
            if after.starts_with("으로") || after.starts_with("로") {
                return Some(Count::Exactly(n));
            }
            // `3명 → 2명`: the count after the arrow.
            let arrowed = ARROWS.iter().find_map(|a| after.trim_start_matches(is_space).strip_prefix(a));
            if let Some(next) = arrowed.and_then(|next| leading_number(next.trim_start_matches(is_space))) {
                let counted = counters.iter().any(|c| next.rest.trim_start_matches(is_space).starts_with(c));
                return (counted && in_range(next.value)).then_some(Count::Exactly(next.value));
            }
            let signed = i32::try_from(n).ok()?;
            let window: String = after_trimmed.chars().take(14).collect();
            if FEWER_WORDS.iter().any(|w| window.contains(w)) {
                return Some(Count::More(-signed));
            }
            if MORE_WORDS.iter().any(|w| after_trimmed.starts_with(w)) {
                return Some(Count::More(signed));
            }
            if ATTEND_VERBS.iter().any(|v| after_trimmed.starts_with(v))
                || (before.contains("포함") && !after_trimmed.is_empty())
            {
                return Some(Count::Exactly(n));
            }
            None
        })
    }

    /// `팀원과 같이 가겠습니다`, `동료 한 명과 함께 참석하겠습니다`: the applicant and companions.
    fn companions(&self) -> Option<Count> {
        let together = ["같이", "함께", " with ", "bring "].iter().any(|w| self.lower.contains(w));
        let attends = ["가", "참석", "참가", "방문", "신청", "갈", "attend", "come", "join", "bring"]
            .iter()
            .any(|v| self.lower.contains(v));
        if !together || !attends {
            return None;
        }
        let words = &self.words;
        for (i, word) in words.iter().enumerate() {
            let lower = word.stem.to_lowercase();
            let companion = COMPANIONS.iter().any(|c| lower.starts_with(c) && !lower.contains("들"));
            if !companion {
                continue;
            }
            if word.particle == Some(Particle::With) {
                return Some(Count::Exactly(2));
            }
            // `동료 한 명과`, `팀원 두 명과`: a count after the companion.
            if let (Some(number), Some(counter)) = (words.get(i + 1), words.get(i + 2)) {
                let counted = ["명", "분"].contains(&counter.stem) && counter.particle == Some(Particle::With);
                let normal = normalized(number.stem);
                let n = leading_number(&normal).filter(|n| n.rest.is_empty()).map(|n| n.value);
                if let (true, Some(n)) = (counted, n) {
                    if in_range(n + 1) {
                        return Some(Count::Exactly(n + 1));
                    }
                }
            }
            if ["with a ", "bring a ", "with my ", "bring my ", "with one ", "bring one "]
                .iter()
                .any(|w| self.lower.contains(w))
            {
                return Some(Count::Exactly(2));
            }
        }
        None
    }

    /// `저 혼자 참석합니다`, `본인만 참석합니다`: the applicant alone.
    fn alone(&self) -> Option<Count> {
        let attends = ATTEND_VERBS.iter().chain(&["attend", "come", "join"]).any(|v| self.lower.contains(v));
        (ALONE.iter().any(|a| self.lower.contains(a)) && attends).then_some(Count::Exactly(1))
    }

    /// English: `3 people will attend`, `a table for 3 people`, `we will be 3 people`, `one more
    /// person`, `make it 3`.
    fn english_count(&self) -> Option<Count> {
        let words: Vec<&str> =
            self.lower.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric())).collect();
        (0..words.len()).find_map(|k| {
            let number = leading_number(words[k]).filter(|n| n.rest.is_empty() && !n.needs_counter)?;
            let n = number.value;
            if !in_range(n) {
                return None;
            }
            let next = *words.get(k + 1)?;
            let people = ["people", "persons", "attendees", "participants", "guests", "of"].contains(&next);
            if next == "more" || next == "additional" || next == "extra" {
                return Some(Count::More(i32::try_from(n).ok()?));
            }
            if k >= 2 && words[k - 2] == "make" && words[k - 1] == "it" {
                return Some(Count::Exactly(n));
            }
            let verb_follows = words
                .iter()
                .skip(k + 2)
                .take(4)
                .any(|w| ["attend", "join", "come", "participat", "register"].iter().any(|v| w.starts_with(v)));
            let for_people = k > 0 && words[k - 1] == "for" && next != "of";
            // `we will be 3 people`, `a total of 3 people`.
            let are = k > 0 && ["be", "are", "total"].contains(&words[k - 1]);
            (people && (verb_follows || for_people || are)).then_some(Count::Exactly(n))
        })
    }
}

fn in_range(n: u32) -> bool {
    (1..=MAX_COUNT).contains(&n)
}

/// Whether `c` can start a particle after a counter (`명이`, `명은`, `명과`, `명으로`, `명만`).
fn is_particle_start(c: char) -> bool {
    matches!(
        c,
        '이' | '가'
            | '은'
            | '는'
            | '을'
            | '를'
            | '과'
            | '와'
            | '으'
            | '로'
            | '도'
            | '만'
            | '서'
            | '의'
            | '께'
            | '에'
            | '까'
            | '입'
    )
}
