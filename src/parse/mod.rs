//! Raw message bytes → [`Inbound`]: the decoded headers that decisions need, the body text, and
//! the applicant's fields.
//!
//! Parsing never fails. A message that cannot be read still yields an `Inbound` (with whatever
//! could be recovered) and a list of `problems`, so that it is recorded and shown to staff.
//! Charsets (including EUC-KR/CP949 labelled `ks_c_5601-1987`) are decoded by mail-parser with
//! its `full_encoding` feature.

pub mod fields;
pub mod html;

use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use crate::domain::{
    looks_like_inquiry, prefers_english, wants_cancellation, ApplicantFields, AutoSignals, EmailAddress, ReturnPath,
};

/// The header our replies carry so that a reply coming back is recognised as our own.
pub const LOOP_HEADER: &str = "X-Smebridge-Loop";

/// A received message, decoded.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The Message-ID without angle brackets; synthesized from the content hash when missing.
    pub message_id: String,
    pub message_id_synthesized: bool,
    /// Decoded subject, with line breaks and other control characters removed.
    pub subject: Option<String>,
    pub from: Option<EmailAddress>,
    pub from_name: Option<String>,
    pub reply_to: Option<EmailAddress>,
    pub return_path: ReturnPath,
    pub signals: AutoSignals,
    /// The body as plain text (HTML converted), as the applicant wrote it.
    pub text: String,
    pub fields: ApplicantFields,
    /// The applicant asks to cancel their registration.
    pub cancel_requested: bool,
    /// The mail asks staff a question instead of applying.
    pub inquiry: bool,
    /// The applicant wrote in English: answer in English first.
    pub english: bool,
    /// `Authentication-Results` header values, topmost first.
    pub authentication_results: Vec<String>,
    /// What could not be read, in words for staff.
    pub problems: Vec<String>,
}

/// Hex SHA-256 of the raw bytes: the identity of a message in the database.
pub fn sha256_hex(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

/// A Message-ID for a message that has none, stable for the same bytes.
pub fn synthesized_message_id(sha256: &str) -> String {
    format!("{}@smebridge.invalid", &sha256[..32.min(sha256.len())])
}

/// Parse raw bytes. Never panics on its own account and never fails; see the module docs.
pub fn parse(raw: &[u8], sha256: &str) -> Inbound {
    let mut problems = Vec::new();
    let Some(message) = MessageParser::default().parse(raw) else {
        problems.push("the message could not be parsed as MIME".to_owned());
        return Inbound {
            message_id: synthesized_message_id(sha256),
            message_id_synthesized: true,
            subject: None,
            from: None,
            from_name: None,
            reply_to: None,
            return_path: ReturnPath::Absent,
            signals: AutoSignals::default(),
            text: String::new(),
            fields: ApplicantFields::default(),
            cancel_requested: false,
            inquiry: false,
            english: false,
            authentication_results: Vec::new(),
            problems,
        };
    };

    let (message_id, message_id_synthesized) = match message.message_id().map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => (clean_header_text(id), false),
        None => (synthesized_message_id(sha256), true),
    };

    let first_addr = |address: Option<&mail_parser::Address>| -> (Option<EmailAddress>, Option<String>) {
        let Some(addr) = address.and_then(|a| a.first()) else { return (None, None) };
        let email = addr.address().and_then(|a| EmailAddress::parse(a).ok());
        let name = addr.name().map(clean_header_text).filter(|n| !n.is_empty());
        (email, name)
    };
    let (from, from_name) = first_addr(message.from());
    if from.is_none() {
        problems.push("no readable From address".to_owned());
    }
    let (reply_to, _) = first_addr(message.reply_to());

    let signals = auto_signals(&message);
    let return_path = return_path(message.header_raw("Return-Path"));

    let text = body_text(&message);
    if text.trim().is_empty() && message.text_body_count() == 0 && message.html_body_count() == 0 {
        problems.push("no text body".to_owned());
    }
    if text.contains('\u{FFFD}') {
        problems.push("the body contains characters that could not be decoded".to_owned());
    }

    let found = fields::extract_fields(&text);
    let states_fields = found.name.is_some() || found.organization.is_some() || found.phone.is_some();
    let subject = message.subject().map(clean_header_text);
    let own_text = fields::strip_quoted(&text);
    let cancel_requested = wants_cancellation(subject.as_deref(), own_text, states_fields);
    let inquiry = !cancel_requested && looks_like_inquiry(subject.as_deref(), own_text, states_fields);
    let english = prefers_english(subject.as_deref(), own_text);
    let authentication_results = message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| clean_header_text(value))
        .collect();
    let fields = ApplicantFields {
        name: found.name.or_else(|| from_name.clone()),
        organization: found.organization,
        position: found.position,
        phone: found.phone,
        attendees: found.attendees,
    };

    Inbound {
        message_id,
        message_id_synthesized,
        subject,
        from,
        from_name,
        reply_to,
        return_path,
        signals,
        text,
        fields,
        cancel_requested,
        inquiry,
        english,
        authentication_results,
        problems,
    }
}

/// The body as text: the first text/plain body; else the first HTML body converted with
/// [`html::to_text`] (which keeps table rows and cells apart).
fn body_text(message: &mail_parser::Message<'_>) -> String {
    match message.text_part(0).map(|part| &part.body) {
        Some(mail_parser::PartType::Text(text)) => text.to_string(),
        Some(mail_parser::PartType::Html(html)) => html::to_text(html),
        _ => match message.html_part(0).map(|part| &part.body) {
            Some(mail_parser::PartType::Html(html)) => html::to_text(html),
            _ => message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        },
    }
}

/// A readable account of what was read from a message, for `smebridge parse`.
pub fn explain(inbound: &Inbound) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<14}{value}\n"));
    line("message-id", format!("{}{}", inbound.message_id, if inbound.message_id_synthesized { " (synthesized)" } else { "" }));
    line("from", format!("{} {}", inbound.from.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into()), inbound.from_name.as_deref().map(|n| format!("({n})")).unwrap_or_default()));
    line("reply-to", inbound.reply_to.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into()));
    line("subject", opt(&inbound.subject));
    line("return-path", format!("{:?}", inbound.return_path));
    line("signals", format!("{:?}", inbound.signals));
    line("name", opt(&inbound.fields.name));
    line("organization", opt(&inbound.fields.organization));
    line("position", opt(&inbound.fields.position));
    line("phone", opt(&inbound.fields.phone));
    line("attendees", inbound.fields.attendees.map(|a| a.to_string()).unwrap_or_else(|| "-".into()));
    let intent = if inbound.cancel_requested {
        "asks to cancel"
    } else if inbound.inquiry {
        "asks a question (inquiry)"
    } else {
        "application"
    };
    line("intent", intent.into());
    line("language", if inbound.english { "English first".into() } else { "Korean first".into() });
    line("problems", if inbound.problems.is_empty() { "none".into() } else { inbound.problems.join("; ") });
    out.push_str("--- body text as read ---\n");
    out.push_str(inbound.text.trim_end());
    out
}

fn auto_signals(message: &mail_parser::Message<'_>) -> AutoSignals {
    let mut signals = AutoSignals::default();
    for (name, value) in message.headers_raw() {
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "auto-submitted" => signals.auto_submitted.get_or_insert_with(|| first_token(value)),
            "precedence" => signals.precedence.get_or_insert_with(|| first_token(value)),
            "x-auto-response-suppress" => signals.x_auto_response_suppress.get_or_insert_with(|| value.to_owned()),
            "x-autoreply" | "x-autorespond" | "x-autogenerated" => {
                signals.autoreply_header = true;
                continue;
            }
            lower if lower.starts_with("list-") => signals.list_header.get_or_insert_with(|| name.to_owned()),
            lower if lower == LOOP_HEADER.to_ascii_lowercase() => {
                signals.loop_marker = true;
                continue;
            }
            _ => continue,
        };
    }
    signals.is_report = message
        .content_type()
        .map(|ct| ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")))
        .unwrap_or(false);
    signals
}

/// `auto-replied; reason=...` → `auto-replied`.
fn first_token(value: &str) -> String {
    value.split(';').next().unwrap_or("").trim().to_owned()
}

fn return_path(raw: Option<&str>) -> ReturnPath {
    let Some(raw) = raw else { return ReturnPath::Absent };
    let inner = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    if inner.is_empty() {
        ReturnPath::Null
    } else {
        ReturnPath::Address(inner.to_owned())
    }
}

/// Header text fit to be shown or reused: decoded already, here stripped of line breaks and
/// every other control character, and of surrounding space.
pub fn clean_header_text(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(raw: &str) -> Inbound {
        let raw = raw.replace('\n', "\r\n");
        parse(raw.as_bytes(), &sha256_hex(raw.as_bytes()))
    }

    #[test]
    fn a_plain_korean_application() {
        let msg = inbound(
            "From: =?UTF-8?B?6rmA66+87KSA?= <Kim@Hanbit-Tech.Example>\n\
             To: smebridge@kaist.ac.kr\n\
             Subject: =?UTF-8?B?7JuM7YGs7IiNIOywuOqwgCDsi6Dssq0=?=\n\
             Message-ID: <a1@hanbit-tech.example>\n\
             Content-Type: text/plain; charset=utf-8\n\
             \n\
             성명: 김민준\n소속: 한빛테크\n직위: 책임연구원\n연락처: 010-1234-5678\n",
        );
        assert_eq!(inbound_summary(&msg), ("a1@hanbit-tech.example", Some("kim@hanbit-tech.example")));
        assert_eq!(msg.subject.as_deref(), Some("워크숍 참가 신청"));
        assert_eq!(msg.from_name.as_deref(), Some("김민준"));
        assert_eq!(msg.fields.name.as_deref(), Some("김민준"));
        assert_eq!(msg.fields.organization.as_deref(), Some("한빛테크"));
        assert_eq!(msg.fields.position.as_deref(), Some("책임연구원"));
        assert_eq!(msg.fields.phone.as_deref(), Some("010-1234-5678"));
        assert!(msg.problems.is_empty(), "{:?}", msg.problems);
        assert_eq!(msg.signals, AutoSignals::default());
    }

    fn inbound_summary(msg: &Inbound) -> (&str, Option<&str>) {
        (msg.message_id.as_str(), msg.from.as_ref().map(|a| a.as_str()))
    }

    #[test]
    fn euc_kr_labelled_ks_c_5601_is_decoded() {
        let (body, _, _) = encoding_rs::EUC_KR.encode("성명: 이서연\r\n소속: 다온소재\r\n");
        let mut raw = b"From: lee@daon.example\r\nSubject: apply\r\nContent-Type: text/plain; charset=ks_c_5601-1987\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
        raw.extend_from_slice(&body);
        let msg = parse(&raw, &sha256_hex(&raw));
        assert_eq!(msg.fields.name.as_deref(), Some("이서연"));
        assert_eq!(msg.fields.organization.as_deref(), Some("다온소재"));
    }

    #[test]
    fn missing_message_id_is_synthesized_from_the_hash() {
        let msg = inbound("From: a@b.example\nSubject: x\n\nhello\n");
        assert!(msg.message_id_synthesized);
        assert!(msg.message_id.ends_with("@smebridge.invalid"));
        assert_eq!(inbound("From: a@b.example\nSubject: x\n\nhello\n").message_id, msg.message_id);
    }

    #[test]
    fn automatic_signals_are_read() {
        let msg = inbound(
            "From: a@b.example\nAuto-Submitted: auto-replied; owner-email=\"a@b.example\"\nPrecedence: bulk\nList-Id: <x.lists.example>\nX-Autoreply: yes\nReturn-Path: <>\nX-Smebridge-Loop: smebridge@kaist.ac.kr\n\nhi\n",
        );
        assert_eq!(msg.signals.auto_submitted.as_deref(), Some("auto-replied"));
        assert_eq!(msg.signals.precedence.as_deref(), Some("bulk"));
        assert!(msg.signals.list_header.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("List-Id")));
        assert!(msg.signals.autoreply_header);
        assert!(msg.signals.loop_marker);
        assert_eq!(msg.return_path, ReturnPath::Null);
    }

    #[test]
    fn reports_are_recognised() {
        let msg = inbound(
            "From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nfailed\n--b--\n",
        );
        assert!(msg.signals.is_report);
    }

    #[test]
    fn an_injected_line_break_in_the_subject_is_removed() {
        // "Hello\r\nBcc: victim@evil.example" as an encoded word.
        let msg = inbound("From: a@b.example\nSubject: =?UTF-8?B?SGVsbG8NCkJjYzogdmljdGltQGV2aWwuZXhhbXBsZQ==?=\n\nhi\n");
        let subject = msg.subject.unwrap();
        assert!(!subject.contains('\r') && !subject.contains('\n'), "{subject:?}");
        assert_eq!(subject, "Hello Bcc: victim@evil.example");
    }

    #[test]
    fn garbage_is_recorded_with_a_problem_not_a_panic() {
        for raw in [&b""[..], b"\0\0\0", b"\xff\xfe garbage", b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x"] {
            let msg = parse(raw, &sha256_hex(raw));
            assert!(!msg.message_id.is_empty());
            assert!(msg.from.is_none());
            assert!(!msg.problems.is_empty());
        }
    }

    #[test]
    fn the_display_name_stands_in_for_a_missing_name() {
        let msg = inbound("From: \"Jane Doe\" <jane@acme.example>\nSubject: Registration\n\nI would like to attend.\nCompany: Acme Robotics\n");
        assert_eq!(msg.fields.name.as_deref(), Some("Jane Doe"));
        assert_eq!(msg.fields.organization.as_deref(), Some("Acme Robotics"));
    }
}
