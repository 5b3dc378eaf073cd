//! Korean particles (조사) and the copula on the end of a word: `차장으로` is `차장` + `으로`,
//! `다온소재로` is `다온소재` + `로`, `김민중입니다` is `김민중` + `입니다`.
//!
//! A particle is taken off only where Korean grammar allows it after the syllable before it:
//! `이 은 을 과 으로 이랑` follow a final consonant (받침), `가 는 를 와 로 랑` a vowel (`로`
//! also a final `ㄹ`). So `미래로` keeps its `로` as a particle (`미래` + `로`) while `한빛로`
//! cannot be `한빛` + `로` (`빛` ends in a consonant: it would be `한빛으로`): the `로` is part
//! of the word. After digits and Latin letters, whose reading decides, either form is accepted.

use super::text::is_space;

/// What a particle does in a sentence, as far as reading statements needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Particle {
    /// `이`, `가`: the subject (`번호가 바뀌었습니다`).
    Subject,
    /// `은`, `는`: the topic (`제 번호는 …`).
    Topic,
    /// `을`, `를`: the object (`번호를 변경`).
    Object,
    /// `으로`, `로`: what something becomes (`차장으로 변경`).
    Into,
    /// `에서`, `부터`: what something was (`과장에서 차장으로`).
    From,
    /// `와`, `과`, `랑`, `이랑`, `하고`: together with (`팀원과 같이`).
    With,
    /// `의`: of (`저의 번호`).
    Of,
    /// `도`, `만`, `까지`, `에`, `에게`, `께`: anything else.
    Other,
    /// The copula: `입니다`, `이에요`, `예요`, `이고`, `이며`, `이었습니다`, `였습니다`.
    Is,
}

/// Where a particle may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Consonant,
    Vowel,
    /// `로`: after a vowel or a final `ㄹ`.
    VowelOrRieul,
    Any,
}

/// Particles and copula forms, longest first within what could overlap.
const PARTICLES: &[(&str, Particle, After)] = &[
    ("이었습니다", Particle::Is, After::Consonant),
    ("였습니다", Particle::Is, After::Vowel),
    ("입니다", Particle::Is, After::Any),
    ("이에요", Particle::Is, After::Consonant),
    ("예요", Particle::Is, After::Vowel),
    ("이고", Particle::Is, After::Consonant),
    ("이며", Particle::Is, After::Consonant),
    ("이라", Particle::Is, After::Consonant),
    ("으로", Particle::Into, After::Consonant),
    ("에서", Particle::From, After::Any),
    ("부터", Particle::From, After::Any),
    ("이랑", Particle::With, After::Consonant),
    ("하고", Particle::With, After::Any),
    ("에게", Particle::Other, After::Any),
    ("까지", Particle::Other, After::Any),
    ("로", Particle::Into, After::VowelOrRieul),
    ("랑", Particle::With, After::Vowel),
    ("과", Particle::With, After::Consonant),
    ("와", Particle::With, After::Vowel),
    ("이", Particle::Subject, After::Consonant),
    ("가", Particle::Subject, After::Vowel),
    ("은", Particle::Topic, After::Consonant),
    ("는", Particle::Topic, After::Vowel),
    ("을", Particle::Object, After::Consonant),
    ("를", Particle::Object, After::Vowel),
    ("의", Particle::Of, After::Any),
    ("도", Particle::Other, After::Any),
    ("만", Particle::Other, After::Any),
    ("께", Particle::Other, After::Any),
    ("에", Particle::Other, After::Any),
];

/// The end of a syllable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Vowel,
    Rieul,
    Consonant,
    /// Not a Hangul syllable (a digit, a Latin letter, a bracket): either form may follow.
    Unknown,
}

fn ending(c: char) -> Ending {
    let code = u32::from(c);
    if !(0xAC00..=0xD7A3).contains(&code) {
        return Ending::Unknown;
    }
    match (code - 0xAC00) % 28 {
        0 => Ending::Vowel,
        8 => Ending::Rieul,
        _ => Ending::Consonant,
    }
}

fn allowed(after: After, before: Ending) -> bool {
    match (after, before) {
        (After::Any, _) | (_, Ending::Unknown) => true,
        (After::Consonant, e) => matches!(e, Ending::Consonant | Ending::Rieul),
        (After::Vowel, e) => e == Ending::Vowel,
        (After::VowelOrRieul, e) => matches!(e, Ending::Vowel | Ending::Rieul),
    }
}

/// `word` without a particle or copula on its end, and the particle; the word itself and `None`
/// when it has none (or nothing would be left of it). Trailing punctuation is dropped first.
pub(super) fn split_particle(word: &str) -> (&str, Option<Particle>) {
    let word = word.trim_end_matches(|c: char| is_space(c) || matches!(c, '.' | ',' | '!' | '?' | '~' | ':'));
    for &(particle, kind, after) in PARTICLES {
        let Some(stem) = word.strip_suffix(particle) else { continue };
        let Some(last) = stem.chars().next_back() else { continue };
        if allowed(after, ending(last)) {
            return (stem, Some(kind));
        }
    }
    (word, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn particles_follow_the_final_consonant_rule() {
        assert_eq!(split_particle("차장으로"), ("차장", Some(Particle::Into)));
        assert_eq!(split_particle("다온소재로"), ("다온소재", Some(Particle::Into)));
        assert_eq!(split_particle("새벽정밀로"), ("새벽정밀", Some(Particle::Into)), "로 after a final ㄹ");
        assert_eq!(split_particle("한빛로"), ("한빛로", None), "빛 ends in a consonant: 로 is part of the word");
        assert_eq!(split_particle("번호가"), ("번호", Some(Particle::Subject)));
        assert_eq!(split_particle("연락처가"), ("연락처", Some(Particle::Subject)));
        assert_eq!(split_particle("소속이"), ("소속", Some(Particle::Subject)));
        assert_eq!(split_particle("김하이"), ("김하이", None), "하 has no final consonant: 이 is no particle");
        assert_eq!(split_particle("직위는"), ("직위", Some(Particle::Topic)));
        assert_eq!(split_particle("번호를"), ("번호", Some(Particle::Object)));
        assert_eq!(split_particle("팀원과"), ("팀원", Some(Particle::With)));
        assert_eq!(split_particle("동료와"), ("동료", Some(Particle::With)));
        assert_eq!(split_particle("과장에서"), ("과장", Some(Particle::From)));
    }

    #[test]
    fn the_copula_and_punctuation() {
        assert_eq!(split_particle("김민중입니다."), ("김민중", Some(Particle::Is)));
        assert_eq!(split_particle("차장이에요"), ("차장", Some(Particle::Is)));
        assert_eq!(split_particle("대리예요!"), ("대리", Some(Particle::Is)));
        assert_eq!(split_particle("010-5555-6666입니다"), ("010-5555-6666", Some(Particle::Is)));
    }

    #[test]
    fn after_digits_and_latin_letters_either_form_is_read() {
        assert_eq!(split_particle("010-3333-4444로"), ("010-3333-4444", Some(Particle::Into)));
        assert_eq!(split_particle("010-3333-4440으로"), ("010-3333-4440", Some(Particle::Into)));
        assert_eq!(split_particle("ACME로"), ("ACME", Some(Particle::Into)));
    }

    #[test]
    fn a_lone_particle_is_a_word() {
        assert_eq!(split_particle("로"), ("로", None));
        assert_eq!(split_particle("이"), ("이", None));
        assert_eq!(split_particle("회사"), ("회사", None));
    }
}
