//! The subject line as a source. Phone mailers send everything in the subject and nothing in
//! the body: `김민준/한빛테크/팀장/010-1234-5678`, `[참가신청] 이서연, 다온소재, 010-2345-6789`,
//! `워크숍 신청 - 박지훈 - 새벽정밀 - 대표`, `성명: 김민준 / 소속: 한빛테크`.
//!
//! Labels are read as in a body (`labels.rs`); without labels the subject is split at `/`,
//! `,`, `|`, `·`, `;`, a dash between words, or else at spaces, and each piece is told by what
//! it is: a phone by the numbering plan, a count with its counter (`2명`), a person's name, a
//! title, an organization (a legal form, a company-like ending, or the one piece left over). The words of an application
//! (`워크숍`, `참가 신청`, `[참가신청]`) and `Re:`/`Fwd:` are dropped first. Only a subject
//! naming a person and their organization or phone counts: an ordinary subject (`워크숍 참가
//! 신청`, `김민준입니다`) states nothing.
//!
//! The caller reads the subject only when the body states nothing.

use super::attendees::parse_attendees;
use super::fields::{read_lines, Reading};
use super::guess;
use super::phone::{find_phone, is_phone_char};
use super::source::{FieldSources, Source};
use super::text::{is_dash, is_space};

/// Prefixes of replies and forwards.
const PREFIXES: &[&str] = &["re:", "re :", "fw:", "fwd:", "fw :", "fwd :", "답장:", "회신:", "전달:", "답변:"];

/// Words of an application, not values (compared without spaces, lower-cased).
const NOISE: &[&str] = &[
    "워크숍",
    "워크샵",
    "참가",
    "참석",
    "신청",
    "참가신청",
    "참석신청",
    "참가신청서",
    "신청서",
    "신청합니다",
    "참가신청합니다",
    "신청드립니다",
    "접수",
    "workshop",
    "registration",
    "register",
    "apply",
    "application",
    "sme",
    "kaist",
];

/// What the subject states, with each value sourced to the subject.
pub(in crate::parse) fn read_subject(subject: &str) -> Reading {
    let subject = strip_prefixes(subject);
    let labelled = read_lines(vec![subject]);
    if states(&labelled) {
        let mut reading = labelled;
        reading.sources = reading.sources.map(|source| match source {
            Source::Label { label, .. } | Source::TableCell { label, .. } | Source::WithLabel { label, .. } => {
                Source::Subject { label: Some(label) }
            }
            _ => Source::Subject { label: None },
        });
        return reading;
    }
    unlabelled(subject).unwrap_or_default()
}

fn states(reading: &Reading) -> bool {
    let f = &reading.fields;
    f.name.is_some() || f.organization.is_some() || f.phone.is_some()
}

/// The subject without `Re:`/`Fwd:` (repeated) and surrounding space.
fn strip_prefixes(subject: &str) -> &str {
    let mut s = subject.trim_matches(is_space);
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(prefix) = PREFIXES.iter().find(|p| lower.starts_with(*p)) else { return s };
        s = s[prefix.len()..].trim_matches(is_space);
    }
}

/// Pieces without labels: a person, and their organization or phone. Pieces split at spaces
/// only (no `/`, `,`, `|` …) are believed with a phone or a title among them: a subject of
/// plain words (`중소기업 기술혁신 워크숍`) has words that look like names.
fn unlabelled(subject: &str) -> Option<Reading> {
    let (phone, rest) = take_phone(subject);
    let (pieces, separated) = split_pieces(&rest);
    let mut reading = Reading::default();
    let fields = &mut reading.fields;
    let mut unknown = Vec::new();
    for piece in pieces {
        // `2명`, `두 명`: a count with its counter (a bare number is no count).
        let counted = piece.chars().any(|c| !c.is_ascii_digit() && !is_space(c));
        if let (None, Some(n), true) = (fields.attendees, parse_attendees(&piece), counted) {
            fields.attendees = Some(n);
        } else if fields.name.is_none() && guess::is_person_name(&piece) {
            fields.name = Some(piece);
        } else if let (None, Some((name, title))) = (&fields.name, guess::name_and_title(&piece)) {
            fields.name = Some(name.to_owned());
            fields.position = Some(title.to_owned());
        } else if fields.position.is_none() && guess::is_title(&piece) {
            fields.position = Some(piece);
        } else if fields.organization.is_none() && (guess::has_org_marker(&piece) || guess::has_org_suffix(&piece)) {
            fields.organization = Some(piece);
        } else {
            unknown.push(piece);
        }
    }
    let plain = |s: &String| !s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(char::is_alphabetic);
    if fields.organization.is_none() && unknown.len() == 1 && plain(&unknown[0]) {
        fields.organization = unknown.pop();
    }
    fields.phone = phone;
    let name = fields.name.clone()?;
    if fields.organization.is_none() && fields.phone.is_none() {
        return None;
    }
    if !separated && fields.phone.is_none() && fields.position.is_none() {
        return None;
    }
    fields.people = vec![name];
    let subject = |value: &Option<String>| value.as_ref().map(|_| Source::Subject { label: None });
    reading.sources = FieldSources {
        name: subject(&fields.name),
        organization: subject(&fields.organization),
        position: subject(&fields.position),
        phone: subject(&fields.phone),
        attendees: fields.attendees.map(|_| Source::Subject { label: None }),
        ..FieldSources::default()
    };
    Some(reading)
}

/// The first phone number in the subject, and the subject with it cut out (a space in its
/// place).
fn take_phone(subject: &str) -> (Option<String>, String) {
    let mut start = None;
    for (i, c) in subject.char_indices().chain(std::iter::once((subject.len(), '\0'))) {
        let phone_char = c != '\0' && is_phone_char(c);
        match (phone_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let run = &subject[s..i];
                if let Some(phone) = find_phone(run.trim_matches(|c: char| is_space(c) || is_dash(c))) {
                    return (Some(phone), format!("{} {}", &subject[..s], &subject[i..]));
                }
                start = None;
            }
            _ => {}
        }
    }
    (None, subject.to_owned())
}

/// The pieces of a subject: split at `/ , | · ;` and dashes between words, or at spaces when
/// there are none (then `false`); bracketed tags opened, noise words dropped.
fn split_pieces(subject: &str) -> (Vec<String>, bool) {
    let opened: String = subject.chars().map(|c| if matches!(c, '[' | ']' | '【' | '】') { ' ' } else { c }).collect();
    let separators = |c: char| matches!(c, '/' | ',' | '，' | '|' | '·' | 'ㆍ' | ';' | '_') || is_dash(c);
    let separated = opened.contains(separators);
    let pieces: Vec<&str> =
        if separated { opened.split(separators).collect() } else { opened.split(is_space).collect() };
    let pieces = pieces.into_iter().map(|p| strip_noise(p.trim_matches(is_space))).filter(|p| !p.is_empty()).collect();
    (pieces, separated)
}

/// A piece without the words of an application around it (`참가신청 김민준` → `김민준`).
fn strip_noise(piece: &str) -> String {
    piece
        .split(is_space)
        .filter(|w| {
            let compact: String = w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
            !compact.is_empty() && !NOISE.contains(&compact.as_str())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(subject: &str) -> (Option<String>, Option<String>, Option<String>, Option<String>) {
        let f = read_subject(subject).fields;
        (f.name, f.organization, f.position, f.phone)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn everything_in_the_subject_with_every_separator() {
        for subject in [
            "김민준/한빛테크/팀장/010-1234-5678",
            "김민준, 한빛테크, 팀장, 010-1234-5678",
            "김민준 - 한빛테크 - 팀장 - 010-1234-5678",
            "김민준 | 한빛테크 | 팀장 | 01012345678",
            "김민준·한빛테크·팀장·010.1234.5678",
            "김민준 한빛테크 팀장 010 1234 5678",
            "[참가신청] 김민준/한빛테크/팀장/010-1234-5678",
            "워크숍 참가 신청 - 김민준 - 한빛테크 - 팀장 - 010-1234-5678",
        ] {
            assert_eq!(
                fields(subject),
                (some("김민준"), some("한빛테크"), some("팀장"), some("010-1234-5678")),
                "{subject}"
            );
        }
    }

    #[test]
    fn labels_in_the_subject() {
        let reading = read_subject("성명: 이서연 / 소속: 다온소재 / 연락처: 010-2345-6789");
        assert_eq!(reading.fields.name, some("이서연"));
        assert_eq!(reading.sources.name, Some(Source::Subject { label: Some("성명".into()) }));
        assert_eq!(reading.sources.phone.map(|s| s.to_string()).as_deref(), Some("subject line, label '연락처'"));
    }

    #[test]
    fn an_organization_with_a_legal_form_and_a_name_with_a_title() {
        assert_eq!(fields("(주)새벽정밀 / 박지훈 대표"), (some("박지훈"), some("(주)새벽정밀"), some("대표"), None));
        let reading = read_subject("Re: 김하율/미래로봇/010-3030-4040");
        assert_eq!(reading.sources.organization, Some(Source::Subject { label: None }));
        assert_eq!(reading.fields.people, ["김하율"]);
    }

    #[test]
    fn a_count_with_its_counter_in_the_subject() {
        for (subject, count) in [
            ("[신청] 김민준/한빛테크/010-1234-5678/2명", Some(2)),
            ("이서연 / 다온소재 / 과장 / 010-2222-3333 / 세 명", Some(3)),
            ("김민준/한빛테크/팀장/010-1234-5678", None),
        ] {
            let reading = read_subject(subject);
            assert_eq!(reading.fields.attendees, count, "{subject}");
            let source = count.map(|_| Source::Subject { label: None });
            assert_eq!(reading.sources.attendees, source, "{subject}");
        }
    }

    #[test]
    fn ordinary_subjects_state_nothing() {
        for subject in [
            "워크숍 참가 신청",
            "RE: [KAIST SME R&D센터] 2022 중소기업 기술혁신 워크숍 참가 안내",
            "김민준입니다",
            "참가 신청합니다 - 김민준",
            "2022-11-18 워크숍",
            "Workshop registration",
            "중소기업 기술혁신 워크숍 참가 안내",
            "Re: 김민준 한빛테크",
        ] {
            assert_eq!(fields(subject), (None, None, None, None), "{subject}");
        }
    }
}
