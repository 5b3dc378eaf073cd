//! Whether a mail asks for the sender's registration record ("신청 확인", "am I registered?").
//! Pure and small on purpose: the subject and the first lines of the sender's own text (quoted
//! mail removed by the caller) are looked at for a handful of phrases. The pipeline answers it
//! only for the application's own address and only when the mail does nothing else
//! (`crate::pipeline`, `asks_for_status`).

/// Korean phrases, compared with spaces and punctuation removed (`신청 확인`, `신청확인`,
/// `등록 확인 부탁`, `신청이 되었는지`).
const KOREAN: [&str; 10] = [
    "신청확인",
    "등록확인",
    "접수확인",
    "신청여부",
    "등록여부",
    "접수여부",
    "신청되었는지",
    "등록되었는지",
    "접수되었는지",
    "신청이되었는지",
];

/// English phrases, compared in lower case with runs of spaces made one.
const ENGLISH: [&str; 8] = [
    "am i registered",
    "am i signed up",
    "registration status",
    "check my registration",
    "confirm my registration",
    "is my registration",
    "was my application received",
    "did you receive my application",
];

/// How far into the sender's own text the phrase may be: a request is the point of the mail,
/// not something in a signature or a forwarded text.
const FIRST_LINES: usize = 6;

/// Whether the subject or the first lines of `own_text` ask for the record.
pub fn is_status_request(subject: Option<&str>, own_text: &str) -> bool {
    let subject = subject.map(strip_reply_prefixes).unwrap_or_default();
    let head: Vec<&str> = own_text.lines().map(str::trim).filter(|l| !l.is_empty()).take(FIRST_LINES).collect();
    std::iter::once(subject).chain(head).any(asks)
}

fn asks(text: &str) -> bool {
    let squeezed: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    let words = text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    KOREAN.iter().any(|p| squeezed.contains(p)) || ENGLISH.iter().any(|p| words.contains(p))
}

/// `Re: Fwd: 신청 확인` → `신청 확인`.
fn strip_reply_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    loop {
        let lower = rest.to_lowercase();
        let Some(prefix) = ["re:", "fw:", "fwd:", "회신:", "답장:", "전달:"].iter().find(|p| lower.starts_with(*p))
        else {
            return rest;
        };
        rest = rest[prefix.len()..].trim_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phrases_applicants_use_are_status_requests() {
        for (subject, text) in [
            (Some("신청 확인"), ""),
            (Some("Re: 등록 확인 부탁드립니다"), ""),
            (Some("문의"), "안녕하세요.\n워크숍 신청이 되었는지 궁금합니다."),
            (Some("접수확인 요청"), ""),
            (None, "Hello,\nAm I registered for the workshop?"),
            (Some("Registration status?"), ""),
            (Some("question"), "Could you check my registration please?"),
        ] {
            assert!(is_status_request(subject, text), "{subject:?} {text:?}");
        }
    }

    #[test]
    fn applications_cancellations_and_far_down_phrases_are_not() {
        for (subject, text) in [
            (Some("워크숍 참가 신청"), "성명: 김민준\n소속: 한빛테크\n"),
            (Some("Re: 워크숍 참가 신청"), "사정이 생겨 참가를 취소합니다."),
            (Some("Registration"), "Name: Jane Doe\nOrganization: Acme"),
            (Some("질문"), "주차가 가능한가요?"),
            (Some("x"), "1\n2\n3\n4\n5\n6\n신청 확인 부탁드립니다"),
        ] {
            assert!(!is_status_request(subject, text), "{subject:?} {text:?}");
        }
    }

    #[test]
    fn reply_prefixes_are_skipped() {
        assert_eq!(strip_reply_prefixes("Re: RE: Fwd: 신청 확인"), "신청 확인");
        assert_eq!(strip_reply_prefixes("회신: 답장: x"), "x");
    }
}
