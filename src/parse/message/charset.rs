//! Text from bytes in the charsets Korean mail really arrives in, whatever its label says.
//!
//! mail-parser decodes by the label alone. That loses Hangul in three common cases, which
//! [`decode`] handles from the raw bytes instead:
//!
//! - **ISO-2022-KR** (RFC 1557; old Unix mailers and some groupware): mail-parser (like
//!   encoding_rs) maps the label to the replacement decoder, so the text would become a single
//!   U+FFFD. [`decode_iso_2022_kr`]
//!   reads it: `ESC $ ) C` designates KS X 1001, SO/SI shift into and out of it, and each
//!   shifted byte pair is EUC-KR with the high bit cleared.
//! - **Raw 8-bit text with no label, or a wrong one** (`us-ascii`, `iso-8859-1`, …; old
//!   groupware, scripts, misconfigured gateways): valid UTF-8 is UTF-8; otherwise, if the bytes
//!   are clean EUC-KR/CP949 and mostly Hangul, they are Korean; otherwise Windows-1252.
//! - **`utf-8` on EUC-KR bytes** (or a Korean label on UTF-8 bytes): the label is checked
//!   against the bytes and the other reading is used when only it is clean.
//!
//! Every other label is trusted (through mail-parser's decoders), unless its reading is lossy
//! and one of the two readings above is clean.
//!
//! The decoders themselves are mail-parser's (encoding_rs underneath, with its `full_encoding`
//! feature): EUC-KR there is the WHATWG one, i.e. CP949/UHC, which Outlook sends as
//! `ks_c_5601-1987`. A reading is clean when it holds no U+FFFD (which EUC-KR cannot encode).

use mail_parser::decoders::charsets::map::charset_decoder;

/// Text decoded from bytes, and whether anything had to be replaced with U+FFFD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub lossy: bool,
}

impl Decoded {
    fn clean(text: impl Into<String>) -> Decoded {
        Decoded { text: text.into(), lossy: false }
    }
}

/// How much a charset label can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    /// EUC-KR and its supersets under their many names (`ks_c_5601-1987`, `cp949`, …).
    Korean,
    Utf8,
    Iso2022Kr,
    /// No label, an ASCII or Latin-1 label, or one nobody knows: says little about 8-bit bytes.
    Weak,
    /// Any other known charset.
    Other,
}

/// Names of EUC-KR and its superset CP949 (compared lower-cased, `-` as `_`).
const KOREAN_LABELS: &[&str] = &[
    "ks_c_5601_1987",
    "ks_c_5601_1989",
    "ks_c_5601",
    "ksc5601",
    "ksc_5601",
    "ksc5601_1987",
    "euc_kr",
    "euckr",
    "x_euc_kr",
    "cseuckr",
    "csksc56011987",
    "iso_ir_149",
    "korean",
    "windows_949",
    "x_windows_949",
    "cp949",
    "ms949",
    "uhc",
];

const UTF8_LABELS: &[&str] =
    &["utf_8", "utf8", "unicode_1_1_utf_8", "unicode11utf8", "unicode20utf8", "x_unicode20utf8"];

const ISO_2022_KR_LABELS: &[&str] = &["iso_2022_kr", "csiso2022kr"];

/// Labels that say nothing about 8-bit bytes: ASCII, Latin-1 and Windows-1252 (which Korean
/// text is most often mislabelled as), and the placeholders of careless software.
const WEAK_LABELS: &[&str] = &[
    "us_ascii",
    "ascii",
    "ansi_x3.4_1968",
    "iso646_us",
    "iso_8859_1",
    "iso8859_1",
    "iso88591",
    "iso_8859_1:1987",
    "latin1",
    "l1",
    "cp819",
    "ibm819",
    "iso_ir_100",
    "csisolatin1",
    "windows_1252",
    "cp1252",
    "x_cp1252",
    "cswindows1252",
    "x_unknown",
    "unknown_8bit",
    "unknown",
    "8bit",
    "default",
    "x_user_defined",
];

fn classify(label: Option<&str>) -> Label {
    let Some(label) = label.map(|l| l.trim().trim_matches('"').trim()).filter(|l| !l.is_empty()) else {
        return Label::Weak;
    };
    let key = label.to_ascii_lowercase().replace('-', "_");
    let key = key.as_str();
    if ISO_2022_KR_LABELS.contains(&key) {
        Label::Iso2022Kr
    } else if KOREAN_LABELS.contains(&key) {
        Label::Korean
    } else if UTF8_LABELS.contains(&key) {
        Label::Utf8
    } else if WEAK_LABELS.contains(&key) || charset_decoder(label.as_bytes()).is_none() {
        Label::Weak
    } else {
        Label::Other
    }
}

/// Decode `bytes` (already free of any transfer encoding) that claim to be in `label`.
pub fn decode(bytes: &[u8], label: Option<&str>) -> Decoded {
    let class = classify(label);
    if class == Label::Iso2022Kr || (matches!(class, Label::Weak | Label::Korean) && has_iso_2022_kr_designator(bytes))
    {
        let decoded = decode_iso_2022_kr(bytes);
        if !decoded.lossy {
            return decoded;
        }
        return utf8(bytes).or_else(|| korean_hangul(bytes)).unwrap_or(decoded);
    }
    if bytes.is_ascii() && class != Label::Other {
        return Decoded::clean(String::from_utf8_lossy(bytes));
    }
    match class {
        Label::Korean => korean(bytes).or_else(|| utf8(bytes)).unwrap_or_else(|| by_mail_parser(bytes, "euc-kr")),
        Label::Utf8 => utf8(bytes)
            .or_else(|| korean_hangul(bytes))
            .or_else(|| korean_despite_errors(bytes))
            .unwrap_or_else(|| Decoded { text: String::from_utf8_lossy(bytes).into_owned(), lossy: true }),
        Label::Weak => utf8(bytes)
            .or_else(|| korean_hangul(bytes))
            .or_else(|| korean_despite_errors(bytes))
            .unwrap_or_else(|| by_mail_parser(bytes, "windows-1252")),
        Label::Other | Label::Iso2022Kr => {
            let by_label = by_mail_parser(bytes, label.unwrap_or_default());
            if !by_label.lossy {
                return by_label;
            }
            utf8(bytes).or_else(|| korean_hangul(bytes)).unwrap_or(by_label)
        }
    }
}

/// Whether the bytes, read as `label` alone, would lose or garble text that [`decode`] reads
/// cleanly: the case where re-decoding a header is worth it. (`headers.rs` asks
/// [`reads_as_labelled`] word by word; this states the rule its unit test checks.)
#[cfg(test)]
fn label_misreads(bytes: &[u8], label: Option<&str>) -> bool {
    !reads_as_labelled(bytes, label) && !decode(bytes, label).lossy
}

/// Whether mail-parser, decoding by `label` alone, reads `bytes` without loss or guesswork.
/// Labels other than Korean, UTF-8, ISO-2022-KR and the weak ones are given the benefit of the
/// doubt.
pub fn reads_as_labelled(bytes: &[u8], label: Option<&str>) -> bool {
    match classify(label) {
        Label::Iso2022Kr => false,
        Label::Korean => korean(bytes).is_some(),
        Label::Utf8 => std::str::from_utf8(bytes).is_ok(),
        Label::Weak => bytes.is_ascii(),
        Label::Other => true,
    }
}

fn utf8(bytes: &[u8]) -> Option<Decoded> {
    std::str::from_utf8(bytes).ok().map(Decoded::clean)
}

/// EUC-KR/CP949 without a single error.
fn korean(bytes: &[u8]) -> Option<Decoded> {
    Some(by_mail_parser(bytes, "euc-kr")).filter(|decoded| !decoded.lossy)
}

/// EUC-KR/CP949 without errors that is mostly Hangul: how unlabelled Korean is told from
/// Latin-1 (whose accented letters seldom pair up into valid CP949, and never into Hangul text).
fn korean_hangul(bytes: &[u8]) -> Option<Decoded> {
    let decoded = korean(bytes)?;
    let non_ascii = decoded.text.chars().filter(|c| !c.is_ascii()).count();
    let hangul = decoded.text.chars().filter(|&c| is_hangul(c)).count();
    (hangul > 0 && hangul * 2 >= non_ascii).then_some(decoded)
}

/// Korean text with a few bytes that are no EUC-KR/CP949 (a truncated character, a stray byte
/// from a gateway): read as Korean, lossily, when Hangul makes up most of it and the errors are
/// few (at most one per 10 syllables). One bad byte pair must not turn a whole Korean body into
/// Latin-1 mojibake (found by attacking the binary).
fn korean_despite_errors(bytes: &[u8]) -> Option<Decoded> {
    let decoded = by_mail_parser(bytes, "euc-kr");
    let errors = decoded.text.chars().filter(|&c| c == '\u{FFFD}').count();
    let other = decoded.text.chars().filter(|&c| !c.is_ascii() && c != '\u{FFFD}').count();
    let hangul = decoded.text.chars().filter(|&c| is_hangul(c)).count();
    (hangul >= 4 && errors * 10 <= hangul && hangul * 2 >= other).then_some(decoded)
}

/// `bytes` through mail-parser's decoder for `label` (UTF-8, lossily, for a label it does not
/// know); lossy when the text holds a U+FFFD.
fn by_mail_parser(bytes: &[u8], label: &str) -> Decoded {
    let text = match charset_decoder(label.trim().trim_matches('"').as_bytes()) {
        Some(decoder) => decoder(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    };
    let lossy = text.contains('\u{FFFD}');
    Decoded { text, lossy }
}

/// A Hangul syllable (not jamo).
pub fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

// ISO-2022-KR control bytes (RFC 1557).
const ESC: u8 = 0x1B;
const SO: u8 = 0x0E;
const SI: u8 = 0x0F;
/// `ESC $ ) C`: designates KS X 1001 as the set SO shifts to.
const DESIGNATOR: &[u8] = b"\x1b$)C";

fn has_iso_2022_kr_designator(bytes: &[u8]) -> bool {
    bytes.windows(DESIGNATOR.len()).any(|w| w == DESIGNATOR) && bytes.contains(&SO)
}

/// Decode ISO-2022-KR (RFC 1557). The designator may appear anywhere (and repeatedly); SO
/// shifts to KS X 1001, SI back to ASCII, and a line break also ends a shifted run. Shifted
/// bytes come in pairs, each byte plus 0x80 giving EUC-KR. Anything else (8-bit bytes, odd
/// pairs, unknown escapes, unassigned codes) becomes U+FFFD and makes the result `lossy`.
pub fn decode_iso_2022_kr(bytes: &[u8]) -> Decoded {
    let mut out = String::with_capacity(bytes.len());
    let mut lossy = false;
    let mut shifted: Vec<u8> = Vec::new();
    let mut in_ks = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match b {
            ESC if bytes[i - 1..].starts_with(DESIGNATOR) => i += DESIGNATOR.len() - 1,
            ESC => {
                lossy = true;
                out.push('\u{FFFD}');
            }
            SO => in_ks = true,
            SI => {
                lossy |= flush_ks(&mut shifted, &mut out);
                in_ks = false;
            }
            b'\r' | b'\n' => {
                lossy |= flush_ks(&mut shifted, &mut out);
                in_ks = false;
                out.push(char::from(b));
            }
            0x21..=0x7E if in_ks => shifted.push(b | 0x80),
            0x00..=0x7F => {
                lossy |= flush_ks(&mut shifted, &mut out);
                out.push(char::from(b));
            }
            _ => {
                flush_ks(&mut shifted, &mut out);
                lossy = true;
                out.push('\u{FFFD}');
            }
        }
    }
    lossy |= flush_ks(&mut shifted, &mut out);
    Decoded { text: out, lossy }
}

/// Decode collected KS X 1001 bytes (already with the high bit set) into `out`; returns whether
/// anything was lost.
fn flush_ks(shifted: &mut Vec<u8>, out: &mut String) -> bool {
    if shifted.is_empty() {
        return false;
    }
    let odd = shifted.len() % 2 == 1;
    let decoded = by_mail_parser(shifted, "euc-kr");
    out.push_str(&decoded.text);
    shifted.clear();
    odd || decoded.lossy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn euc_kr(text: &str) -> Vec<u8> {
        encoding_rs::EUC_KR.encode(text).0.into_owned()
    }

    #[test]
    fn iso_2022_kr_round_trip() {
        // "성명: 김민준\r\n소속: 한빛테크\r\n" as written by an RFC 1557 mailer.
        let bytes = b"\x1b$)C\x0e<:8m\x0f: \x0e1h9NAX\x0f\r\n\x0e<R<S\x0f: \x0eGQ:{EWE)\x0f\r\n";
        let decoded = decode_iso_2022_kr(bytes);
        assert_eq!(decoded, Decoded::clean("성명: 김민준\r\n소속: 한빛테크\r\n"));
        assert_eq!(decode(bytes, Some("ISO-2022-KR")), decoded);
        assert_eq!(decode(bytes, None), decoded, "recognised by its designator without a label");
    }

    #[test]
    fn iso_2022_kr_line_break_ends_a_shift_and_spaces_pass() {
        let decoded = decode_iso_2022_kr(b"\x1b$)C\x0e1h9NAX\nabc \x0e1h\x0f x");
        assert_eq!(decoded, Decoded::clean("김민준\nabc 김 x"));
    }

    #[test]
    fn broken_iso_2022_kr_is_lossy_not_a_panic() {
        for bytes in [&b"\x0e1"[..], b"\x1b$)C\x0e\xff\xfe", b"\x1b(B", b"\x0e\x7e\x7e", b"\x1b", b"\x1b$)"] {
            let decoded = decode_iso_2022_kr(bytes);
            assert!(decoded.lossy, "{bytes:?} → {decoded:?}");
        }
    }

    #[test]
    fn korean_labels_read_cp949() {
        let bytes = euc_kr("샾테크 강똠이");
        for label in ["ks_c_5601-1987", "KS_C_5601-1987", "euc-kr", "\"euc-kr\"", "cp949", "x-windows-949", "korean"] {
            assert_eq!(decode(&bytes, Some(label)), Decoded::clean("샾테크 강똠이"), "{label}");
        }
    }

    #[test]
    fn unlabelled_or_mislabelled_euc_kr_is_recognised() {
        let bytes = euc_kr("성명: 류승우\n소속: 누리소프트");
        for label in
            [None, Some("us-ascii"), Some("iso-8859-1"), Some("windows-1252"), Some("x-unknown"), Some("utf-8")]
        {
            assert_eq!(decode(&bytes, label).text, "성명: 류승우\n소속: 누리소프트", "{label:?}");
        }
    }

    #[test]
    fn utf8_under_a_korean_label_is_utf8() {
        assert_eq!(decode("성명: 김민준".as_bytes(), Some("euc-kr")).text, "성명: 김민준");
    }

    #[test]
    fn latin1_stays_latin1() {
        let bytes = encoding_rs::WINDOWS_1252.encode("Zoë Müller, Präzision GmbH, café").0.into_owned();
        for label in [None, Some("iso-8859-1"), Some("us-ascii")] {
            assert_eq!(decode(&bytes, label), Decoded::clean("Zoë Müller, Präzision GmbH, café"), "{label:?}");
        }
    }

    #[test]
    fn korean_with_one_bad_byte_pair_is_still_korean_and_marked_lossy() {
        let mut bytes = euc_kr("성명: 강원시\n소속: 한빛테크\n연락처: 010-1234-5678\n");
        bytes.extend_from_slice(b"\xc7\x41 ");
        bytes.extend(euc_kr("참석합니다."));
        for label in [None, Some("us-ascii"), Some("utf-8")] {
            let decoded = decode(&bytes, label);
            assert!(decoded.lossy, "{label:?}: {decoded:?}");
            assert!(decoded.text.starts_with("성명: 강원시\n소속: 한빛테크\n"), "{label:?}: {}", decoded.text);
        }
        // Latin-1 prose is no Korean with errors.
        let latin = encoding_rs::WINDOWS_1252
            .encode("Résumé de la réunion: élèves, café, thé glacé, déjà vu, à bientôt. Müller Straße.")
            .0
            .into_owned();
        assert!(decode(&latin, None).text.starts_with("Résumé de la réunion"));
    }

    #[test]
    fn other_labels_are_trusted() {
        let sjis = encoding_rs::SHIFT_JIS.encode("ハロー").0.into_owned();
        assert_eq!(decode(&sjis, Some("shift_jis")).text, "ハロー");
    }

    #[test]
    fn undecodable_bytes_are_lossy() {
        assert!(decode(b"\xff\xfe\xfd", Some("utf-8")).lossy);
        assert!(decode(b"\xc7\xd1\xff", Some("euc-kr")).lossy);
    }

    #[test]
    fn label_misreads_only_when_the_other_reading_is_clean() {
        assert!(label_misreads(&euc_kr("김민준"), Some("utf-8")));
        assert!(label_misreads(&euc_kr("김민준"), Some("us-ascii")));
        assert!(!label_misreads(&euc_kr("김민준"), Some("euc-kr")));
        assert!(!label_misreads("김민준".as_bytes(), Some("utf-8")));
        assert!(!label_misreads(b"\xff\xfe", Some("utf-8")));
        assert!(label_misreads(b"\x1b$)C\x0e1h\x0f", Some("iso-2022-kr")));
    }
}
