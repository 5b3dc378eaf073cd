//! What a mail from a person wants, read from its words: to cancel, to ask a question, and in
//! which language to answer. Heuristics, deliberately conservative: when in doubt a mail counts
//! as an application, which is answered with an acknowledgement that shows what was recorded.

/// Does the applicant ask to cancel? `subject` is the decoded subject; `own_text` is what they
/// wrote above any quoted mail; `states_fields` says whether that text states application fields
/// (then a cancel word in the body is more likely part of a sentence than a request).
pub fn wants_cancellation(subject: Option<&str>, own_text: &str, states_fields: bool) -> bool {
    const WORDS: [&str; 10] = [
        "취소",
        "cancel",
        "불참",
        "참석하지 못",
        "참석 못",
        "참석이 어렵",
        "참가하지 못",
        "참가 못",
        "참가가 어렵",
        "can't attend",
    ];
    if subject.is_some_and(|s| contains_any(s, &WORDS)) {
        return true;
    }
    if states_fields {
        return false;
    }
    let lines = own_lines(own_text);
    lines.len() <= 10 && lines.iter().take(5).any(|l| contains_any(l, &WORDS))
}

/// Is this a question for staff rather than an application? Only when the mail states no
/// fields, asks something, and does not also say it applies.
pub fn looks_like_inquiry(subject: Option<&str>, own_text: &str, states_fields: bool) -> bool {
    const ASKS: [&str; 14] = [
        "?",
        "？",
        "문의",
        "궁금",
        "question",
        "inquiry",
        "enquiry",
        "가능한가요",
        "있나요",
        "인가요",
        "될까요",
        "되나요",
        "알려주",
        "알려 주",
    ];
    const APPLIES: [&str; 11] = [
        "신청",
        "참가하겠",
        "참석하겠",
        "참가 희망",
        "참석 희망",
        "register",
        "registration",
        "apply",
        "application",
        "sign up",
        "attend",
    ];
    if states_fields {
        return false;
    }
    let text = format!("{}\n{}", subject.unwrap_or(""), own_lines(own_text).join("\n"));
    contains_any(&text, &ASKS) && !contains_any(&text, &APPLIES)
}

/// Answer in English first when the applicant wrote in English (no Hangul, some Latin words).
pub fn prefers_english(subject: Option<&str>, own_text: &str) -> bool {
    let text = format!("{} {own_text}", subject.unwrap_or(""));
    let hangul = text.chars().filter(|c| ('\u{AC00}'..='\u{D7A3}').contains(c)).count();
    let latin = text.chars().filter(|c| c.is_ascii_alphabetic()).count();
    hangul == 0 && latin >= 10
}

fn own_lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

fn contains_any(text: &str, words: &[&str]) -> bool {
    let lower = text.to_lowercase();
    words.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_counts_as_asking_to_cancel() {
        assert!(wants_cancellation(Some("참가 취소 요청"), "", false));
        assert!(wants_cancellation(Some("Re: Cancel my registration"), "", true));
        assert!(wants_cancellation(None, "취소합니다.\n김민준 드림", false));
        assert!(wants_cancellation(None, "Hello,\nI am sorry but I cannot come. Please cancel.\nJane", false));
        assert!(wants_cancellation(None, "사정이 생겨 불참하게 되었습니다.", false));
        assert!(!wants_cancellation(Some("워크숍 신청"), "성명: 김민준\n취소 시 미리 연락드리겠습니다.", true));
        assert!(!wants_cancellation(Some("워크숍 신청"), "참가 신청합니다.", false));
    }

    #[test]
    fn questions_are_inquiries_applications_are_not() {
        assert!(looks_like_inquiry(Some("주차 문의"), "행사장에 주차가 가능한가요?", false));
        assert!(looks_like_inquiry(Some("Question"), "Is there parking at the venue?", false));
        assert!(
            !looks_like_inquiry(Some("참가 신청"), "참가 신청합니다. 주차 가능한가요?", false),
            "applies and asks: an application"
        );
        assert!(!looks_like_inquiry(Some("문의"), "성명: 김민준", true), "states fields: an application");
        assert!(!looks_like_inquiry(Some("워크숍"), "참석하겠습니다.", false));
    }

    #[test]
    fn language_of_the_answer() {
        assert!(prefers_english(Some("Registration"), "Name: Jane Doe\nCompany: Acme Robotics"));
        assert!(!prefers_english(Some("신청"), "Name: 김민준"));
        assert!(!prefers_english(None, "ok"), "too little text to tell: Korean first");
    }
}
