//! Every attachment of a message, listed for the record and for staff: decoded file name, MIME
//! type, size and SHA-256 of the decoded content; the files inside an Outlook `winmail.dat` and
//! the attachments of a message forwarded as `message/rfc822` too, each with where it was found.

use super::tnef::unwrap_tnef;
use super::{find, Limits};

/// One attachment of a message, as staff see it listed with the application. Its bytes are not
/// kept here: the raw message is stored whole, so they can always be taken from it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// The file name, decoded (RFC 2047 encoded words and RFC 2231 parameters by mail-parser,
    /// raw 8-bit EUC-KR here), without any directory part or control characters;
    /// `attachment-N` (`.eml` for a message) when the sender gave none.
    pub name: String,
    /// The declared MIME type, lower-cased, without parameters; for a file inside a
    /// `winmail.dat`, which declares none, guessed from the extension.
    pub content_type: String,
    /// Bytes of the decoded content (after base64 or quoted-printable).
    pub size: u64,
    /// SHA-256 of the decoded content, hex.
    pub sha256: String,
    /// The attachment this one was found in: a `winmail.dat`, or a message attached as
    /// `message/rfc822` (a forward); `None` for the message's own attachments.
    pub within: Option<String>,
}

/// Most attachments listed for one message (the MIME part cap in `limits.rs` comes first).
const MAX_LISTED: usize = 1_000;

/// Every attachment of `message`: each part mail-parser counts as one (including inline images
/// and attached text files), then the files inside an Outlook `winmail.dat` and the attachments
/// of a message attached as `message/rfc822` — one level down, as deep as the applicant's
/// fields are read. The containers are listed themselves too, before what they hold.
#[must_use]
pub fn list(message: &mail_parser::Message<'_>, limits: &Limits) -> Vec<Attachment> {
    let mut out = Vec::new();
    list_into(message, None, limits, &mut out);
    out
}

fn list_into(message: &mail_parser::Message<'_>, within: Option<&str>, limits: &Limits, out: &mut Vec<Attachment>) {
    use mail_parser::{MimeHeaders, PartType};
    for (index, part) in message.attachments().enumerate() {
        if out.len() >= MAX_LISTED {
            return;
        }
        let is_message = matches!(part.body, PartType::Message(_));
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_owned(),
            })
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| {
                if is_message {
                    "message/rfc822".to_owned()
                } else {
                    "application/octet-stream".to_owned()
                }
            });
        let bytes =
            crate::parse::message::part_bytes(message, part).unwrap_or(std::borrow::Cow::Borrowed(part.contents()));
        let name = part_name(message, part, index, is_message);
        out.push(Attachment {
            name: name.clone(),
            content_type: content_type.clone(),
            size: bytes.len() as u64,
            sha256: crate::parse::sha256_hex(&bytes),
            within: within.map(str::to_owned),
        });
        if within.is_some() {
            // One level down only: what a forwarded message or winmail.dat holds is listed, not
            // what those hold in turn.
            continue;
        }
        let is_tnef = content_type == "application/ms-tnef"
            || content_type == "application/vnd.ms-tnef"
            || name.eq_ignore_ascii_case("winmail.dat");
        if is_tnef {
            for (inner_name, inner) in unwrap_tnef(&bytes, limits).unwrap_or_default() {
                if out.len() >= MAX_LISTED {
                    return;
                }
                out.push(Attachment {
                    content_type: type_by_extension(&inner_name).to_owned(),
                    name: clean_file_name(&inner_name).unwrap_or_else(|| "attachment".to_owned()),
                    size: inner.len() as u64,
                    sha256: crate::parse::sha256_hex(&inner),
                    within: Some(name.clone()),
                });
            }
        } else if let PartType::Message(inner) = &part.body {
            list_into(inner, Some(&name), limits, out);
        }
    }
}

/// The file name of an attachment part, as staff should read it.
fn part_name(
    message: &mail_parser::Message<'_>,
    part: &mail_parser::MessagePart<'_>,
    index: usize,
    is_message: bool,
) -> String {
    use mail_parser::{MimeHeaders, PartType};
    let declared = part.attachment_name().and_then(clean_file_name);
    // mail-parser reads raw 8-bit header bytes as UTF-8; an EUC-KR file name comes out as
    // U+FFFD, so it is read again from the part's own header bytes.
    let declared = match declared {
        Some(name) if name.contains('\u{FFFD}') => raw_file_name(message, part).or(Some(name)),
        other => other,
    };
    if let Some(name) = declared {
        return name;
    }
    if let PartType::Message(inner) = &part.body {
        if let Some(subject) = inner.subject().and_then(clean_file_name).filter(|s| !s.contains('\u{FFFD}')) {
            return format!("{subject}.eml");
        }
    }
    format!("attachment-{}{}", index + 1, if is_message { ".eml" } else { "" })
}

/// `name` without any directory part, control characters or surrounding space; `None` if
/// nothing is left.
fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    (!cleaned.is_empty()).then_some(cleaned)
}

/// The `filename=` (else `name=`) parameter of a part's header block, decoded from raw 8-bit
/// bytes (UTF-8 or EUC-KR).
fn raw_file_name(message: &mail_parser::Message<'_>, part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let start = usize::try_from(part.offset_header).ok()?;
    let end = usize::try_from(part.offset_body).ok()?;
    let header = message.raw_message().get(start..end)?;
    let value = raw_parameter(header, b"filename=").or_else(|| raw_parameter(header, b"name="))?;
    let decoded = crate::parse::message::decode_charset(value, None);
    clean_file_name(&decoded.text).filter(|_| !decoded.lossy)
}

/// The value of a `key=` parameter in raw header bytes: quoted, or up to `;` or the line end.
fn raw_parameter<'a>(header: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let lower = header.to_ascii_lowercase();
    let at = find(&lower, key)? + key.len();
    let rest = &header[at..];
    if let Some(quoted) = rest.strip_prefix(b"\"") {
        let close = quoted.iter().position(|&b| b == b'"')?;
        return Some(&quoted[..close]);
    }
    let end = rest.iter().position(|&b| matches!(b, b';' | b'\r' | b'\n')).unwrap_or(rest.len());
    Some(rest[..end].trim_ascii())
}

/// The MIME type a file name suggests, for the files in a `winmail.dat` (which declares none).
fn type_by_extension(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "hwp" => "application/x-hwp",
        "hwpx" => "application/hwp+zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::attachments::testdocs::{docx_form, tnef_file, FIXTURE_HWPX};
    use crate::parse::attachments::Limits;

    fn b64_lines(bytes: &[u8]) -> String {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        encoded.as_bytes().chunks(76).map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap())).collect()
    }

    fn listed(raw: &[u8]) -> Vec<Attachment> {
        let message = mail_parser::MessageParser::default().parse(raw).unwrap();
        list(&message, &Limits::default())
    }

    #[test]
    fn every_attachment_is_listed_with_its_decoded_name_type_size_and_hash() {
        let hwpx = FIXTURE_HWPX;
        let tnef = tnef_file(&docx_form());
        let (euc_kr_name, _, _) = encoding_rs::EUC_KR.encode("견적서.pdf");
        let mut raw = Vec::new();
        raw.extend_from_slice(
            b"From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
              --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n\
              --b\r\nContent-Type: application/hwp+zip; name=\"=?UTF-8?B?7Iug7LKt7IScLmh3cHg=?=\"\r\n\
              Content-Disposition: attachment; filename=\"=?UTF-8?B?7Iug7LKt7IScLmh3cHg=?=\"\r\n\
              Content-Transfer-Encoding: base64\r\n\r\n",
        );
        raw.extend_from_slice(b64_lines(hwpx).as_bytes());
        // RFC 2231, split in two continuations: 참가 신청서.pdf
        raw.extend_from_slice(
            b"--b\r\nContent-Type: Application/PDF\r\nContent-Disposition: attachment;\r\n \
              filename*0*=UTF-8''%EC%B0%B8%EA%B0%80%20;\r\n filename*1*=%EC%8B%A0%EC%B2%AD%EC%84%9C.pdf\r\n\
              Content-Transfer-Encoding: base64\r\n\r\n",
        );
        raw.extend_from_slice(b64_lines(b"%PDF-1.4 tiny").as_bytes());
        // Raw 8-bit EUC-KR in the part header, as old webmail sends it.
        raw.extend_from_slice(b"--b\r\nContent-Type: application/octet-stream; name=\"");
        raw.extend_from_slice(&euc_kr_name);
        raw.extend_from_slice(b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        raw.extend_from_slice(b64_lines(b"1234567").as_bytes());
        raw.extend_from_slice(
            b"--b\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        );
        raw.extend_from_slice(b64_lines(&tnef).as_bytes());
        raw.extend_from_slice(
            b"--b\r\nContent-Type: message/rfc822\r\n\r\n\
              From: c@d.example\r\nSubject: =?UTF-8?B?7Iug7LKt?=\r\nContent-Type: multipart/mixed; boundary=\"i\"\r\n\r\n\
              --i\r\nContent-Type: text/plain\r\n\r\nform attached\r\n\
              --i\r\nContent-Type: image/png; name=\"card.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--i--\r\n\
              --b--\r\n",
        );
        let got = listed(&raw);
        let summary: Vec<(&str, &str, u64, Option<&str>)> =
            got.iter().map(|a| (a.name.as_str(), a.content_type.as_str(), a.size, a.within.as_deref())).collect();
        let docx_len = docx_form().len() as u64;
        let forwarded = got.iter().find(|a| a.content_type == "message/rfc822").map(|a| a.size).unwrap();
        assert_eq!(
            summary,
            vec![
                ("신청서.hwpx", "application/hwp+zip", hwpx.len() as u64, None),
                ("참가 신청서.pdf", "application/pdf", 13, None),
                ("견적서.pdf", "application/octet-stream", 7, None),
                ("winmail.dat", "application/ms-tnef", tnef.len() as u64, None),
                (
                    "참가신청서_김민준.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    docx_len,
                    Some("winmail.dat")
                ),
                ("memo.txt", "text/plain", "메모".len() as u64, Some("winmail.dat")),
                ("신청.eml", "message/rfc822", forwarded, None),
                ("card.png", "image/png", 4, Some("신청.eml")),
            ]
        );
        assert_eq!(got[0].sha256, crate::parse::sha256_hex(hwpx));
        assert_eq!(got[4].sha256, crate::parse::sha256_hex(&docx_form()));
        assert!(forwarded > 100, "the forwarded message's own bytes: {forwarded}");
    }

    #[test]
    fn a_message_without_attachments_lists_none_and_names_are_never_paths() {
        assert!(listed(b"From: a@b.example\r\nContent-Type: text/plain\r\n\r\nhi\r\n").is_empty());
        assert_eq!(clean_file_name("C:\\Users\\kim\\신청서.hwp").as_deref(), Some("신청서.hwp"));
        assert_eq!(clean_file_name("../../etc/\r\npasswd").as_deref(), Some("passwd"));
        assert_eq!(clean_file_name(" \t "), None);
        let raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--b--\r\n";
        assert_eq!(listed(raw)[0].name, "attachment-1");
    }
}
