//! The message as mail: its structure, headers and body text, read before anything is known
//! about the applicant.
//!
//! 1. [`limit`] (`limits.rs`): absurd structure (thousands of parts, deep nesting) is cut before
//!    mail-parser sees it, with a problem for staff; text is bounded too;
//! 2. `headers.rs`: raw 8-bit EUC-KR in the header block, encoded words split inside a
//!    character and ISO-2022-KR words are rewritten as UTF-8 so mail-parser reads them;
//!    [`clean_header_text`] is the form every header value is shown and reused in;
//! 3. [`mime_parse`]: mail-parser finds the parts;
//! 4. `body.rs` decodes the text bodies again from their bytes with `charset.rs` (unlabelled,
//!    mislabelled and ISO-2022-KR Korean), unwraps `format=flowed`, converts HTML with
//!    `html.rs`, and picks the plain or HTML body that states more;
//! 5. `signals.rs` reads what the headers say about automatic mail.

mod addressing;
mod body;
mod charset;
mod headers;
mod html;
mod limits;
mod signals;

use std::panic::catch_unwind;

use mail_parser::MessageParser;

pub use addressing::Addressing;
pub use headers::clean_header_text;
pub use limits::limit;
pub use signals::LOOP_HEADER;

pub(super) use addressing::addressing;
pub(super) use body::{part_bytes, raw as raw_body, read as read_body};
pub(super) use charset::{decode as decode_charset, is_hangul};
pub(super) use headers::{first_address, header_block_end, repair as repair_headers};
pub(super) use limits::{truncate_text, MAX_FIELD_TEXT_BYTES};
pub(super) use signals::{auto_signals, return_path};

/// mail-parser's reading of the message, and whether its MIME structure could be read.
///
/// mail-parser 0.11 has debug assertions that malformed MIME can reach (fuzzing found one:
/// `Invalid part ID, could not find multipart.`); in a debug build they panic. Such a panic is
/// caught here and the message is read again for its headers alone (`false`: the caller reads
/// the body as raw text). Release builds do not have the assertions.
pub(super) fn mime_parse(raw: &[u8]) -> Option<(mail_parser::Message<'_>, bool)> {
    match catch_unwind(|| MessageParser::default().parse(raw)) {
        Ok(parsed) => parsed.map(|message| (message, true)),
        Err(_) => {
            catch_unwind(|| MessageParser::default().parse_headers(raw)).ok().flatten().map(|message| (message, false))
        }
    }
}
