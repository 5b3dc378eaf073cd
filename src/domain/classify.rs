//! Is a mail an application to the center at all, and is it an auto-reply that carries no
//! header saying so? Both weighed from evidence the parser gathers (`crate::parse`), each clue
//! with a fixed weight, so that `smebridge parse` can show why a mail was classified as it was.
//!
//! **Addressed to the center?** A colleague forwarding the announcement to someone else with
//! the center only in Cc, an "FYI", a mail that speaks to a third person: the evidence is where
//! the center is among the recipients, whom the text greets, whether it passes on the center's
//! own mail, and whether the sender wrote anything of their own that applies.
//!
//! | clue | weight |
//! |---|---|
//! | the center is in `To` | +2 |
//! | the center is only in `Cc` (`To` names someone else) | −3 |
//! | the text greets the center (`담당자님`) / someone else (`김과장님,`) | +1 / −2 |
//! | fields stated (labels, sentences, the subject, a form, the quoted form) | +3 |
//! | an application form attached | +2 |
//! | says they apply (`참가 신청합니다`) | +2 |
//! | asks someone else to apply (`신청해 보세요`) | −2 |
//! | for information (`FYI`, `참고하세요`, `공유드립니다`) | −2 |
//! | casual speech throughout (`시간 돼?`, `같이 먹자`: to a friend, never to an institution) | −3 |
//! | passes on the center's own mail (a forward of the announcement) | −1 |
//! | nothing of their own above the quoted or forwarded mail | −1 |
//! | only thanks or an acknowledgement (`잘 받았습니다`) | −1 |
//!
//! A score of −3 or less: addressed elsewhere — never an application, never answered, shown
//! to staff (also from a registered applicant: it changes nothing). Otherwise, a mail with no
//! clue of applying at all (no fields, no form, no "I apply") applies to nothing: from someone
//! registered it is a follow-up that changes nothing; from anyone else it is shown to staff
//! and not answered. Everything else is an application.
//!
//! **An auto-reply without headers?** Korean groupware and some webmail send vacation replies
//! with no `Auto-Submitted`, only a subject prefix and a body about being away until a date:
//!
//! | clue | weight |
//! |---|---|
//! | the subject starts with an auto-reply prefix (`[자동회신]`, `Automatic reply:`) | +3 |
//! | such a phrase elsewhere in the subject (`부재 중 알림`) | +2 |
//! | the text says the sender is away (`부재중`, `휴가`, `out of the office`) | +2 |
//! | … until a date, or back on one (`11월 21일까지`, `until 21 November`) | +1 |
//! | … and names someone else for urgent matters (`급한 용무는`) | +1 |
//! | fields stated / says they apply | −3 / −2 |
//!
//! A score of 3 or more is automatic: recorded, never answered, never counted.

use std::fmt;

/// One thing a mail shows about whether it applies to the center.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Clue {
    CenterInTo,
    CenterOnlyInCc,
    /// The center is neither in `To` nor in `Cc` (a `Bcc`, or an alias).
    CenterNotNamed,
    GreetsCenter(String),
    GreetsSomeoneElse(String),
    /// Fields are stated; where the first was read.
    StatesFields(String),
    AttachesForm(String),
    Applies(String),
    AsksSomeoneElse(String),
    ForInformation(String),
    SpeaksCasually(String),
    PassesOnCentersMail,
    NothingOfTheirOwn,
    OnlyThanks(String),
}

impl Clue {
    /// For (+) or against (−) the mail being an application to the center.
    pub fn weight(&self) -> i32 {
        match self {
            Clue::CenterInTo => 2,
            Clue::CenterOnlyInCc => -3,
            Clue::CenterNotNamed => 0,
            Clue::GreetsCenter(_) => 1,
            Clue::GreetsSomeoneElse(_) => -2,
            Clue::StatesFields(_) => 3,
            Clue::AttachesForm(_) => 2,
            Clue::Applies(_) => 2,
            Clue::AsksSomeoneElse(_) => -2,
            Clue::ForInformation(_) => -2,
            Clue::SpeaksCasually(_) => -3,
            Clue::PassesOnCentersMail => -1,
            Clue::NothingOfTheirOwn => -1,
            Clue::OnlyThanks(_) => -1,
        }
    }

    /// Whether the clue is one of applying: fields, a form, or saying so.
    fn applies(&self) -> bool {
        matches!(self, Clue::StatesFields(_) | Clue::AttachesForm(_) | Clue::Applies(_))
    }
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::CenterInTo => f.write_str("the center is in To"),
            Clue::CenterOnlyInCc => f.write_str("the center is only in Cc; To names someone else"),
            Clue::CenterNotNamed => f.write_str("the center is not in To or Cc (Bcc or an alias)"),
            Clue::GreetsCenter(g) => write!(f, "greets the center: \"{g}\""),
            Clue::GreetsSomeoneElse(g) => write!(f, "greets someone else: \"{g}\""),
            Clue::StatesFields(at) => write!(f, "states fields ({at})"),
            Clue::AttachesForm(name) => write!(f, "attaches a form: {name}"),
            Clue::Applies(p) => write!(f, "says they apply: \"{p}\""),
            Clue::AsksSomeoneElse(p) => write!(f, "asks someone else to apply: \"{p}\""),
            Clue::ForInformation(p) => write!(f, "for information: \"{p}\""),
            Clue::SpeaksCasually(p) => write!(f, "speaks casually, as to a friend: \"{p}\""),
            Clue::PassesOnCentersMail => f.write_str("passes on the center's own mail"),
            Clue::NothingOfTheirOwn => f.write_str("nothing of their own above the quoted or forwarded mail"),
            Clue::OnlyThanks(p) => write!(f, "only thanks or an acknowledgement: \"{p}\""),
        }
    }
}

/// What a mail is, as far as the center is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Classified {
    /// An application, or a registered applicant's follow-up.
    Application,
    /// Written to someone else (the center in Cc, an FYI): never an application.
    AddressedElsewhere,
    /// Nothing in it applies (no fields, no form, no "I apply"): a follow-up from someone
    /// registered, otherwise nothing the desk can act on.
    NothingApplies,
}

/// "Nothing applies" is concluded from what was read. When part of the mail could not be read
/// (`unread`: a part, a nesting level or a form the limits cut off), the part not read may be the
/// application: it stays one, with what it lacks for staff to review, rather than mail nobody
/// looks at.
pub fn unless_unread(classified: Classified, unread: bool) -> Classified {
    match classified {
        Classified::NothingApplies if unread => Classified::Application,
        other => other,
    }
}

impl Classified {
    pub fn as_str(self) -> &'static str {
        match self {
            Classified::Application => "application",
            Classified::AddressedElsewhere => "addressed elsewhere",
            Classified::NothingApplies => "nothing applies",
        }
    }
}

/// The classification and what it was weighed from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub classified: Classified,
    pub score: i32,
    pub clues: Vec<Clue>,
}

impl Default for Verdict {
    /// Nothing known: an application (as every mail from a person was before it was weighed).
    fn default() -> Verdict {
        Verdict { classified: Classified::Application, score: 0, clues: Vec::new() }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (score {})", self.classified.as_str(), self.score)?;
        for (i, clue) in self.clues.iter().enumerate() {
            write!(f, "{} {clue} {:+}", if i == 0 { ":" } else { ";" }, clue.weight())?;
        }
        Ok(())
    }
}

/// The score at or below which a mail is addressed elsewhere.
const ELSEWHERE: i32 = -3;

/// Weigh the clues (see the module docs).
pub fn classify(clues: Vec<Clue>) -> Verdict {
    let score = clues.iter().map(Clue::weight).sum();
    let classified = if score <= ELSEWHERE {
        Classified::AddressedElsewhere
    } else if !clues.iter().any(Clue::applies) {
        Classified::NothingApplies
    } else {
        Classified::Application
    };
    Verdict { classified, score, clues }
}

/// One thing a mail's words show about it being an automatic reply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AutoClue {
    SubjectPrefix(String),
    SubjectPhrase(String),
    Away(String),
    Until(String),
    Urgent(String),
    StatesFields,
    Applies,
}

impl AutoClue {
    pub fn weight(&self) -> i32 {
        match self {
            AutoClue::SubjectPrefix(_) => 3,
            AutoClue::SubjectPhrase(_) | AutoClue::Away(_) => 2,
            AutoClue::Until(_) | AutoClue::Urgent(_) => 1,
            AutoClue::StatesFields => -3,
            AutoClue::Applies => -2,
        }
    }
}

impl fmt::Display for AutoClue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutoClue::SubjectPrefix(p) => write!(f, "subject starts with \"{p}\""),
            AutoClue::SubjectPhrase(p) => write!(f, "subject says \"{p}\""),
            AutoClue::Away(p) => write!(f, "says the sender is away: \"{p}\""),
            AutoClue::Until(p) => write!(f, "until a date: \"{p}\""),
            AutoClue::Urgent(p) => write!(f, "names a contact for urgent matters: \"{p}\""),
            AutoClue::StatesFields => f.write_str("states application fields"),
            AutoClue::Applies => f.write_str("says they apply"),
        }
    }
}

/// The score at or above which a mail's words make it an auto-reply.
const AUTOMATIC: i32 = 3;

/// Whether a mail's words make it an auto-reply: why, when they do.
pub fn auto_reply(clues: &[AutoClue]) -> Option<String> {
    let score: i32 = clues.iter().map(AutoClue::weight).sum();
    (score >= AUTOMATIC).then(|| {
        let why: Vec<String> = clues.iter().map(|c| format!("{c} {:+}", c.weight())).collect();
        format!("score {score}: {}", why.join("; "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(clues: Vec<Clue>) -> Classified {
        classify(clues).classified
    }

    #[test]
    fn a_colleague_passing_on_the_announcement_with_the_center_in_cc_is_addressed_elsewhere() {
        let clues = vec![
            Clue::CenterOnlyInCc,
            Clue::GreetsSomeoneElse("김과장님".into()),
            Clue::ForInformation("공유드립니다".into()),
            Clue::AsksSomeoneElse("신청해 보세요".into()),
            Clue::PassesOnCentersMail,
        ];
        let verdict = classify(clues);
        assert_eq!(verdict.classified, Classified::AddressedElsewhere);
        assert_eq!(verdict.score, -10);
        let even_a_bare_forward = vec![Clue::CenterOnlyInCc, Clue::PassesOnCentersMail, Clue::NothingOfTheirOwn];
        assert_eq!(kind(even_a_bare_forward), Classified::AddressedElsewhere);
    }

    #[test]
    fn an_applicant_writing_to_their_boss_with_the_center_in_cc_still_applies() {
        let clues = vec![
            Clue::CenterOnlyInCc,
            Clue::GreetsSomeoneElse("팀장님".into()),
            Clue::StatesFields("line 3, label '성명'".into()),
            Clue::Applies("신청합니다".into()),
        ];
        assert_eq!(classify(clues).score, 0);
        let clues = vec![Clue::CenterOnlyInCc, Clue::StatesFields("line 2, label '성명'".into())];
        assert_eq!(kind(clues), Classified::Application);
    }

    #[test]
    fn a_mail_that_applies_to_nothing() {
        assert_eq!(kind(vec![Clue::CenterInTo, Clue::OnlyThanks("잘 받았습니다".into())]), Classified::NothingApplies);
        assert_eq!(
            unless_unread(Classified::NothingApplies, true),
            Classified::Application,
            "what was not read may apply"
        );
        assert_eq!(unless_unread(Classified::NothingApplies, false), Classified::NothingApplies);
        assert_eq!(unless_unread(Classified::AddressedElsewhere, true), Classified::AddressedElsewhere);
        assert_eq!(kind(vec![Clue::CenterInTo, Clue::GreetsSomeoneElse("민수야".into())]), Classified::NothingApplies);
        assert_eq!(kind(vec![]), Classified::NothingApplies);
        assert_eq!(kind(vec![Clue::CenterInTo, Clue::AttachesForm("신청서.hwp".into())]), Classified::Application);
    }

    #[test]
    fn the_verdict_says_what_it_weighed() {
        let verdict = classify(vec![Clue::CenterInTo, Clue::Applies("참가 신청합니다".into())]);
        assert_eq!(
            verdict.to_string(),
            "application (score 4): the center is in To +2; says they apply: \"참가 신청합니다\" +2"
        );
    }

    #[test]
    fn auto_replies_by_their_words() {
        assert!(auto_reply(&[AutoClue::SubjectPrefix("[자동회신]".into())]).is_some());
        assert!(auto_reply(&[AutoClue::Away("부재중".into()), AutoClue::Until("11월 21일까지".into())]).is_some());
        assert!(auto_reply(&[AutoClue::Away("휴가".into())]).is_none(), "away alone is not enough");
        let applies_while_away =
            [AutoClue::Away("출장".into()), AutoClue::Until("11월 20일까지".into()), AutoClue::Applies];
        assert!(auto_reply(&applies_while_away).is_none());
        let form_while_away =
            [AutoClue::SubjectPhrase("부재".into()), AutoClue::Away("휴가".into()), AutoClue::StatesFields];
        assert!(auto_reply(&form_while_away).is_none());
        let why = auto_reply(&[AutoClue::SubjectPrefix("Automatic reply:".into())]).unwrap();
        assert_eq!(why, "score 3: subject starts with \"Automatic reply:\" +3");
    }
}
