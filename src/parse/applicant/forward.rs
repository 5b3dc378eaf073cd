//! Forwarded applications: someone (a secretary, a colleague, the applicant's other account)
//! forwards the applicant's own mail to the center.
//!
//! ```text
//! 아래 신청 메일 전달드립니다.                  ← the forwarder's note
//!
//! ---------- Forwarded message ---------
//! From: 정하늘 <haneul.jung@bluewave.example>   ← the original sender: the applicant
//! Date: …
//! Subject: 워크숍 참가 신청
//!
//! 성명: 정하늘                                  ← the application
//! ```
//!
//! [`find_inline`] recognises the forward where the applicant's own text would end (see
//! [`strip_quoted`]): a forward banner (`Forwarded message`, `Begin forwarded
//! message:`, `전달된 메시지`), or — when the subject says `Fwd:`/`FW:`/`전달:` — an
//! `-----Original Message-----` banner or an Outlook header block. It reads the forwarded header
//! block (`From:`, `보낸 사람:`, `보낸사람 :`, also quoted with `>`) for the original sender and
//! returns the forwarded body. Whether the forward *is* the application is decided by the caller.

use crate::domain::EmailAddress;

use super::quoted::strip_quoted;

/// A forwarded message found in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The original sender's address, when the header block names one.
    pub from: Option<EmailAddress>,
    /// The original sender's display name.
    pub name: Option<String>,
    /// The forwarded message's body (de-quoted if it was quoted).
    pub body: String,
    /// How many lines of the text come before the body's first line, so that a line number in
    /// `body` plus this is the line in the text the forward was found in.
    pub lines_before: usize,
}

/// Banners that always introduce a forwarded message.
const FORWARD_BANNERS: &[&str] = &[
    "forwarded message",
    "begin forwarded message",
    "forwarded e-mail",
    "forwarded email",
    "전달된 메시지",
    "전달된 메일",
    "전달 메시지",
    "전달 메일",
    "전달한 메시지",
];

/// Banners that introduce a forward only when the subject says it is one.
const REPLY_BANNERS: &[&str] = &["original message", "원본 메시지", "원본 메세지", "원본 메일", "원래 메시지"];

/// Most lines of a forwarded header block.
const MAX_HEADER_LINES: usize = 12;

/// Finds a forwarded message at the end of the sender's own text.
pub fn find_inline(text: &str, subject: Option<&str>) -> Option<Forward> {
    let quote_at = strip_quoted(text).len();
    let own_lines = text[..quote_at].matches('\n').count();
    let rest = &text[quote_at..];
    let lines: Vec<&str> = rest.lines().collect();
    let first = lines.first()?.trim();
    let fwd_subject = subject.is_some_and(is_forward_subject);
    let header_start =
        if is_banner(first, FORWARD_BANNERS) || (fwd_subject && (is_banner(first, REPLY_BANNERS) || is_rule(first))) {
            1
        } else if fwd_subject && header_key(dequote(first)).is_some() {
            0
        } else {
            return None;
        };
    let mut forward = read_forward(&lines[header_start..])?;
    forward.lines_before += own_lines + header_start;
    Some(forward)
}

/// `Fwd:`, `FW:`, `Fw :`, `[Fwd: …]`, `전달:`, `[전달]` at the start of a subject.
pub fn is_forward_subject(subject: &str) -> bool {
    let lower = subject.trim().to_lowercase();
    ["fw:", "fwd:", "fw :", "fwd :", "[fw", "[fwd", "(fwd)", "전달:", "전달 :", "[전달]", "(전달)"]
        .iter()
        .any(|p| lower.starts_with(p))
}

fn is_banner(line: &str, banners: &[&str]) -> bool {
    let core = line
        .trim_matches(|c: char| matches!(c, '-' | '=' | '─' | '*' | '_' | '>' | '–' | '—') || c.is_whitespace())
        .trim_end_matches([':', '：'])
        .trim()
        .to_lowercase();
    banners.contains(&core.as_str())
}

fn is_rule(line: &str) -> bool {
    line.chars().count() >= 10 && line.chars().all(|c| c == '_')
}

/// Reads the header block at the top of `lines` and the body after it.
fn read_forward(lines: &[&str]) -> Option<Forward> {
    let mut i = 0;
    while i < lines.len() && i < 3 && dequote(lines[i]).is_empty() {
        i += 1;
    }
    let mut from = None;
    let mut headers = 0;
    while i < lines.len() && headers < MAX_HEADER_LINES {
        let line = dequote(lines[i]);
        let Some((key, value)) = header_key(line) else { break };
        if key == HeaderKey::From && from.is_none() {
            from = Some(sender(value));
        }
        headers += 1;
        i += 1;
    }
    if headers == 0 {
        return None;
    }
    let quoted = lines[i..].iter().filter(|l| !l.trim().is_empty()).all(|l| l.trim_start().starts_with('>'));
    let body: Vec<&str> = lines[i..].iter().map(|l| if quoted { dequote_keep(l) } else { l }).collect();
    let blank_lines = body.iter().take_while(|l| l.trim_matches('\r').is_empty()).count();
    let body = body.join("\n").trim_start_matches(['\n', '\r']).to_owned();
    let (from, name) = from.unwrap_or((None, None));
    Some(Forward { from, name, body, lines_before: i + blank_lines })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderKey {
    From,
    Other,
}

/// `From: …`, `*보낸 사람:* …`, `보낸사람 : …`: the key and the value.
fn header_key(line: &str) -> Option<(HeaderKey, &str)> {
    const FROM: &[&str] = &["from", "보낸사람", "보낸이", "발신", "발신자", "sender"];
    const OTHER: &[&str] = &[
        "date",
        "sent",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "날짜",
        "보낸날짜",
        "발송일",
        "발송일시",
        "받는사람",
        "수신",
        "수신자",
        "참조",
        "숨은참조",
        "제목",
    ];
    let line = line.trim_start_matches(['*', ' ']);
    let colon = line.find([':', '：'])?;
    let key: String =
        line[..colon].chars().filter(|c| !c.is_whitespace() && *c != '*').collect::<String>().to_lowercase();
    if key.is_empty() || line[..colon].chars().count() > 20 {
        return None;
    }
    let sep_len = line[colon..].chars().next().map_or(1, char::len_utf8);
    let value = line[colon + sep_len..].trim_start_matches(['*', ' ']).trim();
    if FROM.contains(&key.as_str()) {
        Some((HeaderKey::From, value))
    } else if OTHER.contains(&key.as_str()) {
        Some((HeaderKey::Other, value))
    } else {
        None
    }
}

/// `정하늘 <haneul@x.example>`, `"유하람" <…>`, `최유진 [mailto:…]`, `jane@x.example (Jane)`,
/// `jane@x.example`: the address and the display name.
fn sender(value: &str) -> (Option<EmailAddress>, Option<String>) {
    let value = value.trim();
    let (address, name) = if let Some(start) = value.find("[mailto:") {
        let address = value[start + 8..].split(']').next().unwrap_or("");
        (address, value[..start].to_owned())
    } else if let (Some(lt), Some(gt)) = (value.rfind('<'), value.rfind('>')) {
        if lt < gt {
            (&value[lt + 1..gt], format!("{}{}", &value[..lt], &value[gt + 1..]))
        } else {
            (value, String::new())
        }
    } else {
        let address = value.split_whitespace().find(|w| w.contains('@')).unwrap_or("");
        (address, value.replacen(address, "", 1))
    };
    let address = address.trim().trim_matches(['<', '>', '"', '\'', ';', ',']);
    let name = name.trim().trim_matches(|c: char| matches!(c, '"' | '\'' | ';' | ',') || c.is_whitespace());
    let name = name.strip_prefix('(').and_then(|n| n.strip_suffix(')')).unwrap_or(name);
    let email = EmailAddress::parse(address).ok();
    let name = crate::parse::clean_header_text(name);
    let name = (!name.is_empty() && !name.contains('@')).then_some(name);
    (email, name)
}

/// A line without its quote marks and surrounding space.
fn dequote(line: &str) -> &str {
    line.trim().trim_start_matches(|c: char| c == '>' || c.is_whitespace()).trim()
}

/// A line with one level of quoting removed (`> text` → `text`).
fn dequote_keep(line: &str) -> &str {
    let line = line.trim_start();
    let line = line.strip_prefix('>').unwrap_or(line);
    line.strip_prefix(' ').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Option<EmailAddress> {
        Some(EmailAddress::parse(s).unwrap())
    }

    #[test]
    fn gmail_forward() {
        let text = "전달드립니다.\n\n---------- Forwarded message ---------\n보낸사람: 정하늘 <haneul@bluewave.example>\nDate: 2022년 11월 10일\nSubject: 신청\nTo: 권나연 <n@bluewave.example>\n\n\n성명: 정하늘\n";
        let fwd = find_inline(text, Some("Fwd: 신청")).unwrap();
        assert_eq!(fwd.from, addr("haneul@bluewave.example"));
        assert_eq!(fwd.name.as_deref(), Some("정하늘"));
        assert_eq!(fwd.body, "성명: 정하늘");
    }

    #[test]
    fn the_forwarded_body_knows_where_it_starts_in_the_text() {
        let text = "전달드립니다.\n\n---------- Forwarded message ---------\n보낸사람: 정하늘 <haneul@bluewave.example>\nDate: 2022년 11월 10일\n\n\n성명: 정하늘\n소속: 블루웨이브\n";
        let fwd = find_inline(text, Some("Fwd: 신청")).unwrap();
        let line_of = |needle: &str| text.lines().position(|l| l == needle).unwrap() + 1;
        assert_eq!(fwd.lines_before + 1, line_of("성명: 정하늘"));
        assert_eq!(fwd.lines_before + 2, line_of("소속: 블루웨이브"));
    }

    #[test]
    fn outlook_forward_needs_a_forward_subject() {
        let text = "전달합니다.\n\n-----Original Message-----\nFrom: 최유진 [mailto:yujin@haneulbio.example]\nSent: Wednesday\nTo: x\nSubject: 신청\n\n성명: 최유진\n";
        let fwd = find_inline(text, Some("FW: 신청")).unwrap();
        assert_eq!(fwd.from, addr("yujin@haneulbio.example"));
        assert_eq!(fwd.name.as_deref(), Some("최유진"));
        assert_eq!(find_inline(text, Some("RE: 신청")), None, "a reply is not a forward");
    }

    #[test]
    fn quoted_forward_and_spaced_keys() {
        let text = "전달합니다.\n\n------- 전달된 메시지 -------\n> 보낸사람 : \"백지호\" <jiho@nurisoft.example>\n> 날짜 : 2022년\n>\n> 성명: 백지호\n> 소속: 누리소프트\n";
        let fwd = find_inline(text, None).unwrap();
        assert_eq!(fwd.from, addr("jiho@nurisoft.example"));
        assert_eq!(fwd.name.as_deref(), Some("백지호"));
        assert_eq!(fwd.body, "성명: 백지호\n소속: 누리소프트");
    }

    #[test]
    fn senders_in_every_shape() {
        assert_eq!(sender("jane@x.example"), (addr("jane@x.example"), None));
        assert_eq!(sender("jane@x.example (Jane Roe)"), (addr("jane@x.example"), Some("Jane Roe".into())));
        assert_eq!(sender("\"Roe, Jane\" <jane@x.example>"), (addr("jane@x.example"), Some("Roe, Jane".into())));
        assert_eq!(sender("Jane Roe"), (None, Some("Jane Roe".into())));
        assert_eq!(sender(""), (None, None));
        // Found by fuzzing: a tab (or any control character) in the name must not survive.
        assert_eq!(sender("최유진\t(하늘)\u{7} <y@x.example>"), (addr("y@x.example"), Some("최유진 (하늘)".into())));
    }

    #[test]
    fn no_forward() {
        assert_eq!(find_inline("성명: 김민준\n\n> 인용\n", None), None);
        assert_eq!(find_inline("성명: 김민준\n", Some("Fwd: x")), None);
        assert_eq!(find_inline("---------- Forwarded message ---------\n\n본문만\n", None), None);
    }
}
