//! What the headers say about where a message is going and what it answers: the Message-IDs of
//! its thread (`In-Reply-To`, `References`) and the addresses it was sent to (`To`, `Cc`,
//! `Delivered-To`). The desk routes a message to an event by them (`crate::domain::route`).

/// Where a message says it is going and what it answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressing {
    /// The Message-IDs of `In-Reply-To` and `References`, without angle brackets, each once.
    pub thread: Vec<String>,
    /// The addresses of `To`, `Cc` and `Delivered-To`, lower case, each once.
    pub recipients: Vec<String>,
}

/// At most this many Message-IDs and addresses are kept of each kind: a header listing
/// thousands names no event better than its first few.
const MAX_KEPT: usize = 64;

pub fn addressing(message: &mail_parser::Message<'_>) -> Addressing {
    let mut thread: Vec<String> = Vec::new();
    for value in [message.in_reply_to(), message.references()] {
        for id in value.as_text_list().unwrap_or_default() {
            let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
            if !id.is_empty() && !thread.iter().any(|t| t == id) && thread.len() < MAX_KEPT {
                thread.push(id.to_owned());
            }
        }
    }
    let mut recipients: Vec<String> = Vec::new();
    let mut keep = |address: &str| {
        let address = address.trim().trim_start_matches('<').trim_end_matches('>').trim().to_lowercase();
        if address.contains('@') && !recipients.contains(&address) && recipients.len() < MAX_KEPT {
            recipients.push(address);
        }
    };
    for list in [message.to(), message.cc()].into_iter().flatten() {
        list.iter().filter_map(|a| a.address()).for_each(&mut keep);
    }
    message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Delivered-To"))
        .for_each(|(_, value)| keep(value));
    Addressing { thread, recipients }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_and_the_recipients_are_read_from_their_headers() {
        let raw = b"From: Kim <kim@hanbit.example>\r\nTo: Desk <SMEBRIDGE+WS-2211@kaist.ac.kr>, other@x.example\r\n\
Cc: smebridge@kaist.ac.kr\r\nDelivered-To: smebridge@kaist.ac.kr\r\nIn-Reply-To: <a1@kaist.ac.kr>\r\n\
References: <root@kaist.ac.kr>\r\n <a1@kaist.ac.kr>\r\nSubject: Re: x\r\n\r\nbody\r\n";
        let message = mail_parser::MessageParser::default().parse(&raw[..]).unwrap();
        let read = addressing(&message);
        assert_eq!(read.thread, ["a1@kaist.ac.kr", "root@kaist.ac.kr"]);
        assert_eq!(read.recipients, ["smebridge+ws-2211@kaist.ac.kr", "other@x.example", "smebridge@kaist.ac.kr"]);
        let bare = mail_parser::MessageParser::default().parse(&b"From: a@b.example\r\n\r\nx"[..]).unwrap();
        assert_eq!(addressing(&bare), Addressing::default());
    }
}
