//! The announcement the center sent (`[event] announcement_file`): every line of it is the
//! center's text and never the applicant's data, and its form lines are the blanks an
//! applicant fills in.
//!
//! People reply to the announcement and type their values into the quoted blank form, below
//! `-----Original Message-----` or `>` lines, with only a line of their own on top. Without the
//! announcement nothing below the quote is read (the quote is the center's form, maybe with
//! sample values such as `홍길동`). With it, [`Announcement::quoted_answers`] reads the quote
//! line by line: a line that is the announcement's own (compared without quote marks and with
//! spaces collapsed) is the center's; a `label: value` line for a field the announcement's
//! form asks for that is *not* one of its lines is the applicant's answer. A value typed on the
//! line below a blank label (`> ■ 성 명 :` ↵ `> 김민준`) is read as well. The rest of the quote
//! (the mail client's header block, the center's other text) is not data.
//!
//! [`Announcement::mask`] blanks the announcement's lines wherever they appear, so that its
//! text is never read as the applicant's even when a mail client did not mark the quote.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::domain::EmailAddress;

use super::fields::{read_lines, Reading};
use super::labels::{parse_line, Field};
use super::quoted::strip_quoted;
use super::source::Source;
use super::text::is_space;

/// The center's announcement as text: its lines, the fields its form asks for, and who sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announcement {
    /// Every line with some text, normalized (see [`normalize`]).
    lines: HashSet<String>,
    /// The form's lines whose value is blank (`■ 성 명 :`), normalized.
    blanks: HashSet<String>,
    /// The fields the form asks for.
    fields: Vec<Field>,
    sender: Option<EmailAddress>,
    subject: Option<String>,
}

impl Announcement {
    /// The announcement whose text (the body as read) is `text`, sent by `sender` with `subject`.
    pub fn from_text(text: &str, sender: Option<EmailAddress>, subject: Option<String>) -> Announcement {
        let mut announcement = Announcement { sender, subject, ..Announcement::default() };
        for line in text.lines() {
            let plain = normalize(line);
            if plain.chars().filter(|c| !is_space(*c)).count() < 2 {
                continue;
            }
            let entries = parse_line(&plain);
            for entry in &entries {
                if !announcement.fields.contains(&entry.field) {
                    announcement.fields.push(entry.field);
                }
            }
            if let [only] = entries.as_slice() {
                if only.value.trim_matches(is_space).is_empty() {
                    announcement.blanks.insert(plain.clone());
                }
            }
            announcement.lines.insert(plain);
        }
        announcement
    }

    /// Who sent the announcement: the center.
    pub fn sender(&self) -> Option<&EmailAddress> {
        self.sender.as_ref()
    }

    /// The announcement's subject.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// How many lines of text the announcement has.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the announcement has no text at all.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether `line` is one of the announcement's lines.
    pub(in crate::parse) fn has_line(&self, line: &str) -> bool {
        self.lines.contains(&normalize(line))
    }

    /// `text` with every line of the announcement blanked (line numbers are kept).
    pub(in crate::parse) fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !text.lines().any(|line| self.has_line(line)) {
            return Cow::Borrowed(text);
        }
        let kept: Vec<&str> = text.lines().map(|line| if self.has_line(line) { "" } else { line }).collect();
        Cow::Owned(kept.join("\n"))
    }

    /// How many of the announcement's lines are in `text`, as a share of all of them (0 to 1).
    pub(in crate::parse) fn share_in(&self, text: &str) -> f64 {
        if self.lines.is_empty() {
            return 0.0;
        }
        let found: HashSet<String> = text.lines().map(normalize).filter(|l| self.lines.contains(l)).collect();
        found.len() as f64 / self.lines.len() as f64
    }

    /// What the applicant typed into the announcement's form quoted below their reply (see the
    /// module docs); `None` when the quote holds no answer.
    pub(in crate::parse) fn quoted_answers(&self, text: &str) -> Option<Reading> {
        if self.fields.is_empty() {
            return None;
        }
        let own = strip_quoted(text);
        let before = own.matches('\n').count();
        let quoted: Vec<&str> = text[own.len()..].lines().map(dequote).collect();
        let filled = |j: usize| !quoted[j].trim_matches(is_space).is_empty();
        let next_filled = |i: usize| (i + 1..quoted.len().min(i + 3)).find(|&j| filled(j));
        let mut kept = vec![""; quoted.len()];
        for (i, &line) in quoted.iter().enumerate() {
            if !filled(i) {
                continue;
            }
            if self.has_line(line) {
                // A blank label of the form, with the value typed on the line below it.
                let value_below = next_filled(i).filter(|&j| {
                    let below = quoted[j];
                    !self.has_line(below) && parse_line(below).is_empty() && below.chars().count() <= 40
                });
                if self.blanks.contains(&normalize(line)) {
                    if let Some(j) = value_below {
                        kept[i] = line;
                        kept[j] = quoted[j];
                    }
                }
                continue;
            }
            let entries = parse_line(line);
            if !entries.is_empty() && entries.iter().all(|e| self.fields.contains(&e.field)) {
                kept[i] = line;
            }
        }
        let mut reading = read_lines(kept);
        let f = &reading.fields;
        let states = f.name.is_some() || f.organization.is_some() || f.phone.is_some() || f.position.is_some();
        if !states && f.attendees.is_none() {
            return None;
        }
        reading.sources = reading.sources.map(|s| Source::QuotedForm { within: Box::new(s.shifted(before)) });
        Some(reading)
    }
}

/// Of the announcements the desk knows (one per event that registered one), the one a mail with
/// this text and subject answers: the only one; of several, the one with the largest share of
/// its lines in the text, else the one whose subject the mail's repeats (`RE: …`); none when
/// nothing tells (then no text is masked and no quoted form read).
pub(in crate::parse) fn answered<'a>(
    announcements: &[&'a Announcement],
    text: &str,
    subject: Option<&str>,
) -> Option<&'a Announcement> {
    if let [only] = announcements {
        return Some(only);
    }
    let quoted = announcements
        .iter()
        .map(|a| (a, a.share_in(text)))
        .filter(|(_, share)| *share > 0.0)
        .max_by(|(_, x), (_, y)| x.total_cmp(y))
        .map(|(a, _)| *a);
    quoted.or_else(|| {
        let subject = subject?.to_lowercase();
        announcements.iter().copied().find(|a| {
            a.subject().map(str::to_lowercase).is_some_and(|own| !own.trim().is_empty() && subject.contains(own.trim()))
        })
    })
}

/// A line without quote marks, with spaces collapsed: how lines are compared.
fn normalize(line: &str) -> String {
    dequote(line).split(is_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A line without its leading quote marks (`> `, `>> `).
fn dequote(line: &str) -> &str {
    line.trim_start_matches(|c: char| c == '>' || is_space(c)).trim_end_matches(is_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANNOUNCEMENT: &str = "[KAIST SME R&D센터] 워크숍 참가 안내\n\n- 일시: 2022년 11월 18일(금) 13:30\n\n\
                                [참가 신청서]\n■ 성 명 :\n■ 소 속 :\n■ 직 위 :\n■ 연락처 :\n■ 참석인원 :\n\n\
                                (작성 예) 성명: 홍길동 / 소속: (주)가나다 / 연락처: 010-0000-0000\n문의: 042-350-0000\n";

    fn announcement() -> Announcement {
        Announcement::from_text(ANNOUNCEMENT, None, None)
    }

    #[test]
    fn values_typed_into_the_quoted_form_are_the_applicants() {
        let text =
            "아래에 작성했습니다.\n\n-----Original Message-----\nFrom: KAIST\n\n[참가 신청서]\n■ 성 명 : 김민준\n\
                    ■ 소 속 : 한빛테크\n■ 직 위 :\n■ 연락처 : 010-1234-5678\n■ 참석인원 : 2명\n\n\
                    (작성 예) 성명: 홍길동 / 소속: (주)가나다 / 연락처: 010-0000-0000\n";
        let reading = announcement().quoted_answers(text).unwrap();
        assert_eq!(reading.fields.name.as_deref(), Some("김민준"));
        assert_eq!(reading.fields.organization.as_deref(), Some("한빛테크"));
        assert_eq!(reading.fields.position, None, "the blank stays blank");
        assert_eq!(reading.fields.phone.as_deref(), Some("010-1234-5678"));
        assert_eq!(reading.fields.attendees, Some(2));
        let line = text.lines().position(|l| l == "■ 성 명 : 김민준").unwrap() + 1;
        let label = Source::Label { line, label: "성 명".into() };
        assert_eq!(reading.sources.name, Some(Source::QuotedForm { within: Box::new(label) }));
    }

    #[test]
    fn gt_quotes_and_a_value_below_its_label() {
        let text = "참석합니다.\n\n> [참가 신청서]\n> ■ 성 명 :\n> 이서연\n> ■ 소 속 : 다온소재\n> ■ 직 위 :\n";
        let reading = announcement().quoted_answers(text).unwrap();
        assert_eq!(reading.fields.name.as_deref(), Some("이서연"));
        assert_eq!(reading.fields.organization.as_deref(), Some("다온소재"));
    }

    #[test]
    fn the_announcement_quoted_as_sent_holds_no_answer() {
        let text = format!("참석합니다.\n\n{}", ANNOUNCEMENT.lines().map(|l| format!("> {l}\n")).collect::<String>());
        assert_eq!(announcement().quoted_answers(&text), None);
        assert_eq!(Announcement::default().quoted_answers(&text), None, "no announcement, no answers");
    }

    #[test]
    fn of_several_announcements_the_one_the_mail_quotes_or_whose_subject_it_repeats() {
        let workshop = Announcement::from_text(ANNOUNCEMENT, None, Some("[KAIST] 워크숍 참가 안내".into()));
        let seminar_text = "AI 세미나 안내\n\n[세미나 신청]\n■ 성 명 :\n■ 소 속 :\n■ 이메일 :\n";
        let seminar = Announcement::from_text(seminar_text, None, Some("AI 세미나 안내".into()));
        let both = [&workshop, &seminar];
        let quoting =
            |text: &str| format!("신청합니다.\n\n{}", text.lines().map(|l| format!("> {l}\n")).collect::<String>());
        assert_eq!(answered(&both, &quoting(seminar_text), None), Some(&seminar));
        assert_eq!(
            answered(&both, &quoting(ANNOUNCEMENT), Some("RE: AI 세미나 안내")),
            Some(&workshop),
            "the text first"
        );
        assert_eq!(answered(&both, "신청합니다.", Some("RE: AI 세미나 안내")), Some(&seminar));
        assert_eq!(answered(&both, "신청합니다.", Some("참가 신청")), None, "nothing tells");
        assert_eq!(answered(&[&workshop], "신청합니다.", None), Some(&workshop), "the only one, always");
        assert_eq!(answered(&[], "신청합니다.", None), None);
    }

    #[test]
    fn lines_of_the_announcement_are_masked_anywhere() {
        let a = announcement();
        let masked =
            a.mask("신청합니다.\n(작성 예) 성명: 홍길동 / 소속: (주)가나다 / 연락처: 010-0000-0000\n성명: 김민준");
        assert_eq!(masked, "신청합니다.\n\n성명: 김민준");
        assert!(a.share_in(ANNOUNCEMENT) > 0.99);
        assert!(a.share_in("성명: 김민준") < 0.01);
    }
}
