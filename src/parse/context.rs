//! What parsing knows besides the message ([`Context`]): how attached forms are read, the
//! announcements the center sent, and the center's address; and an announcement read from its
//! file (`announcement_file`).

use crate::domain::EmailAddress;

use super::{clean_header_text, message, Announcement, FormReader};

/// What parsing knows besides the message: how attached forms are read, the announcements the
/// center sent, one per event (their text is never data; see `applicant/announcement.rs`), and
/// the center's address (whether the mail is addressed to it).
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub forms: &'a dyn FormReader,
    pub announcements: &'a [&'a Announcement],
    /// The center's address; `None`: the first announcement's sender, if any, else unknown (the
    /// recipients are then not weighed).
    pub center: Option<&'a EmailAddress>,
}

impl<'a> Context<'a> {
    /// Forms read with `forms`; no announcement, the center unknown.
    pub fn new(forms: &'a dyn FormReader) -> Context<'a> {
        Context { forms, announcements: &[], center: None }
    }

    pub(super) fn center(&self) -> Option<&'a EmailAddress> {
        self.center.or_else(|| self.announcements.iter().find_map(|a| a.sender()))
    }
}

impl Announcement {
    /// The announcement from a file: a whole message (`.eml`, as the center sent it; its body is
    /// read as any mail's) or plain text (UTF-8 or EUC-KR).
    pub fn read(raw: &[u8]) -> Announcement {
        let header_end = message::header_block_end(raw);
        let looks_like_mail = header_end > 0 && {
            let head = String::from_utf8_lossy(&raw[..header_end]).to_ascii_lowercase();
            ["\nfrom:", "\nsubject:", "\ncontent-type:", "\nmime-version:"]
                .iter()
                .any(|h| format!("\n{head}").contains(h))
        };
        if looks_like_mail {
            let repaired = message::repair_headers(raw);
            if let Some((mail, readable)) = message::mime_parse(&repaired) {
                let body = if readable { message::read_body(&mail) } else { message::raw_body(&repaired) };
                let (sender, _) = message::first_address(mail.from());
                let subject = mail.subject().map(clean_header_text);
                return Announcement::from_text(&body.text, sender, subject);
            }
        }
        Announcement::from_text(&message::decode_charset(raw, None).text, None, None)
    }
}
