//! The part of a body the applicant wrote: everything above the quoted reply or the forwarded
//! history ([`strip_quoted`]). The quoted announcement usually carries the *empty* form, so
//! nothing below the cut is read for fields.

use super::text::{ends_with_ci, is_dash, is_space, starts_with_ci};

/// The part of a body the applicant wrote: everything above the first
/// quote/forward marker.
///
/// Recognised markers (the cut is made at the start of the marker line):
/// - `-----Original Message-----`, `-----원본 메시지-----`,
///   `---------- Forwarded message ---------` and similar banners, any case
///   and any number of dashes;
/// - `On … wrote:` attributions, also when wrapped over two lines;
/// - Korean attributions ending in `님이 작성:`, or in `작성:` with a date;
/// - an Outlook header block: a line starting with `From:` or `보낸 사람:`
///   followed within the next four non-empty lines by `Sent:`, `Date:`, `To:`,
///   `보낸 날짜:`, `받는 사람:` and the like;
/// - an Outlook separator of ten or more underscores;
/// - the first line starting with `>`.
#[must_use]
pub fn strip_quoted(text: &str) -> &str {
    let spans = line_spans(text);
    let lines: Vec<&str> = spans.iter().map(|&(_, line)| line.trim_matches(is_space)).collect();
    match (0..lines.len()).find(|&i| starts_quote(&lines, i)) {
        Some(i) => &text[..spans[i].0],
        None => text,
    }
}

/// Every line of `text` with the byte offset where it starts.
fn line_spans(text: &str) -> Vec<(usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n')
        .map(|line| {
            let span = (start, line);
            start += line.len();
            span
        })
        .collect()
}

/// Whether quoted or forwarded history begins at trimmed line `i`.
fn starts_quote(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    let next = lines.get(i + 1).copied().unwrap_or("");
    line.starts_with('>')
        || is_banner(line)
        || is_underscore_rule(line)
        || is_english_attribution(line, next)
        || is_korean_attribution(line, next)
        || is_header_block(lines, i)
}

/// Banner texts of reply/forward separators, compared after the surrounding
/// dashes are removed and the text is lowercased.
const BANNERS: &[&str] = &[
    "original message",
    "forwarded message",
    "begin forwarded message",
    "원본 메시지",
    "원본 메세지",
    "원본 메일",
    "원래 메시지",
    "전달된 메시지",
    "전달된 메일",
    "전달 메시지",
];

/// `-----Original Message-----`, `---------- Forwarded message ---------`, ...
fn is_banner(line: &str) -> bool {
    let core = line
        .trim_matches(|c: char| is_dash(c) || matches!(c, '=' | '─' | '*') || is_space(c))
        .trim_end_matches(':')
        .to_lowercase();
    BANNERS.contains(&core.as_str())
}

/// Outlook's `________________________________` separator.
fn is_underscore_rule(line: &str) -> bool {
    line.chars().count() >= 10 && line.chars().all(|c| c == '_')
}

/// `On Tue, 5 Mar 2024 at 10:12, Jane Doe <jane@x.example> wrote:`, possibly
/// wrapped so that `wrote:` ends the following line.
fn is_english_attribution(line: &str, next: &str) -> bool {
    starts_with_ci(line, "On ") && (ends_with_ci(line, "wrote:") || ends_with_ci(next, "wrote:"))
}

/// `2024년 3월 5일 (화) 오전 10:12, 사무국 <office@univ.example>님이 작성:`, or
/// any line ending in `작성:` that carries a year; also when the attribution
/// is wrapped so that `작성:` ends the line after the date.
fn is_korean_attribution(line: &str, next: &str) -> bool {
    let starts_with_date = line.starts_with(|c: char| c.is_ascii_digit()) && has_year(line);
    line.ends_with("님이 작성:")
        || (line.ends_with("작성:") && has_year(line))
        || (starts_with_date && next.ends_with("작성:"))
}

/// Whether `line` contains a run of four digits (a year in a date), which
/// tells `2024. 3. 5. … 작성:` from a numbered form item `2. … 작성:`.
fn has_year(line: &str) -> bool {
    line.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 4)
}

/// Line starts that open an Outlook-style header block.
const HEADER_OPENERS: &[&str] = &["From:", "보낸 사람:", "보낸사람:"];

/// Line starts that follow the opener inside such a block.
const HEADER_FOLLOWERS: &[&str] = &[
    "Sent:",
    "Date:",
    "To:",
    "Cc:",
    "Subject:",
    "보낸 날짜:",
    "보낸날짜:",
    "날짜:",
    "받는 사람:",
    "받는사람:",
    "참조:",
    "제목:",
];

/// A `From:` / `보낸 사람:` line followed within four non-empty lines by
/// another header line. Markdown-ish bold (`*From:*`) is tolerated.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    let is_header = |line: &str, keys: &[&str]| {
        let line = line.trim_start_matches(|c: char| c == '*' || is_space(c));
        keys.iter().any(|key| starts_with_ci(line, key))
    };
    is_header(lines[i], HEADER_OPENERS)
        && lines[i + 1..].iter().filter(|line| !line.is_empty()).take(4).any(|line| is_header(line, HEADER_FOLLOWERS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::applicant::fields::{extract_fields, Fields};
    use crate::parse::applicant::some;

    #[test]
    fn numbered_form_item_ending_in_jakseong_is_not_a_quote() {
        let body = "1. 성명: 김민준\n2. 신청 사유 작성:\n자동화 공정 도입 검토";
        assert_eq!(strip_quoted(body), body);
        assert_eq!(extract_fields(body).name, some("김민준"));
    }

    /// The announcement with an empty form, as quoted below a reply.
    const EMPTY_FORM: &str = "[2024 SME 워크숍 참가 신청서]\n성명:\n소속:\n직위:\n연락처:\n이메일:\n참석인원:\n";

    /// Applicant part used with each quote marker.
    const FILLED: &str = "참가 신청합니다.\n성명: 김민준\n소속: 한빛테크\n";

    fn assert_cut_at(marker: &str) {
        let body = format!("{FILLED}\n{marker}\n{EMPTY_FORM}직위: 교수\n연락처: 010-9999-8888\n");
        assert_eq!(strip_quoted(&body), format!("{FILLED}\n"), "marker {marker:?}");
        let fields = extract_fields(&body);
        assert_eq!(fields.name, some("김민준"), "marker {marker:?}");
        assert_eq!(fields.organization, some("한빛테크"), "marker {marker:?}");
        assert_eq!(fields.position, None, "marker {marker:?}");
        assert_eq!(fields.phone, None, "marker {marker:?}");
    }

    #[test]
    fn cut_at_original_message_banners() {
        assert_cut_at("-----Original Message-----");
        assert_cut_at("--- original message ---");
        assert_cut_at("----------ORIGINAL MESSAGE----------");
        assert_cut_at("-----원본 메시지-----");
        assert_cut_at("---------- Forwarded message ---------");
        assert_cut_at("Begin forwarded message:");
    }

    #[test]
    fn cut_at_on_wrote() {
        assert_cut_at("On Tue, Mar 5, 2024 at 10:12 AM SME Center <sme@univ.example> wrote:");
        assert_cut_at("On Tue, Mar 5, 2024 at 10:12 AM SME Center <\nsme@univ.example> wrote:");
    }

    #[test]
    fn cut_at_korean_attribution() {
        assert_cut_at("2024년 3월 5일 (화) 오전 10:12, SME센터 <sme@univ.example>님이 작성:");
        assert_cut_at("2024년 3월 5일 (화) 오전 10:12, SME센터 <\nsme@univ.example>님이 작성:");
        assert_cut_at("2024. 3. 5. 오전 10:12에 SME센터 작성:");
    }

    #[test]
    fn cut_at_outlook_header_block() {
        assert_cut_at("From: SME Center <sme@univ.example>\nSent: Tuesday, March 5, 2024 10:12 AM\nTo: Jane Doe");
        assert_cut_at(
            "보낸 사람: SME센터 <sme@univ.example>\n보낸 날짜: 2024년 3월 5일 화요일 오전 10:12\n받는 사람: 김민준",
        );
        assert_cut_at("*From:* SME Center\n\n*Date:* Tue, 5 Mar 2024");
    }

    #[test]
    fn cut_at_outlook_separator() {
        assert_cut_at("________________________________");
        assert_cut_at("__________");
    }

    #[test]
    fn cut_at_first_quoted_line() {
        assert_cut_at("> 안내드립니다.");
        assert_cut_at("  >> nested");
    }

    #[test]
    fn no_cut_without_marker() {
        let body = "From: the applicant, see below.\nOn Monday we will attend.\nI wrote: nothing\n_____\n성명: 김민준";
        assert_eq!(strip_quoted(body), body);
        assert_eq!(extract_fields(body).name, some("김민준"));
    }

    #[test]
    fn from_line_without_header_block_is_kept() {
        let body = "From: 한빛테크\n1\n2\n3\n4\n5\nTo: 센터";
        assert_eq!(strip_quoted(body), body);
    }

    #[test]
    fn fields_only_below_the_quote_are_not_read() {
        let body = "참석하겠습니다.\n\n-----Original Message-----\nFrom: Jane Doe\n성명: 이서연\n연락처: 010-1111-2222";
        assert_eq!(extract_fields(body), Fields::default());
        let body = "> 성명: 이서연\n> 소속: 한빛테크";
        assert_eq!(extract_fields(body), Fields::default());
    }

    #[test]
    fn forwarded_message_at_top_leaves_nothing() {
        let body = "---------- Forwarded message ---------\nFrom: Jane Doe <jane@labs.example>\n성명: Jane Doe";
        assert_eq!(strip_quoted(body), "");
        assert_eq!(extract_fields(body), Fields::default());
    }

    #[test]
    fn strip_quoted_keeps_crlf_prefix_intact() {
        let body = "성명: 김민준\r\n\r\n> quoted\r\n";
        assert_eq!(strip_quoted(body), "성명: 김민준\r\n\r\n");
    }

    #[test]
    fn realistic_gmail_reply_in_korean() {
        let body = "안녕하세요, 한빛테크 김민준입니다.\r\n워크숍 참가 신청서 보내드립니다.\r\n\r\n\
                    ■ 성 명 : 김민준\r\n\
                    ■ 소 속 : (주)한빛테크\r\n\
                    ■ 직 위 : 책임연구원\r\n\
                    ■ 연락처 : 010.1234.5678\r\n\
                    ■ 이메일 : minjun@hanbit.example\r\n\
                    ■ 참석인원 : 두 명\r\n\r\n\
                    감사합니다.\r\n김민준 드림\r\n\r\n\
                    2024년 3월 5일 (화) 오전 10:12, SME센터 <sme@univ.example>님이 작성:\r\n\
                    > [참가 신청서]\r\n\
                    > ■ 성 명 :\r\n\
                    > ■ 소 속 :\r\n\
                    > 문의: 02-555-1234\r\n";
        assert_eq!(
            extract_fields(body),
            Fields {
                name: some("김민준"),
                organization: some("(주)한빛테크"),
                position: some("책임연구원"),
                phone: some("010-1234-5678"),
                email: some("minjun@hanbit.example"),
                attendees: Some(2),
                people: vec!["김민준".to_string()],
            }
        );
    }

    #[test]
    fn realistic_outlook_reply_with_rendered_table() {
        let body = "Please find my registration below.\n\n\
                    Name\tJane Doe\n\
                    Organisation\tExample Bio Inc.\n\
                    Position\tCTO\n\
                    Phone\t+82-2-555-1234\n\
                    Attendees\t1 person\n\n\
                    Jane Doe | CTO | Example Bio Inc.\n\
                    ________________________________\n\
                    From: SME Center <sme@univ.example>\n\
                    Sent: Tuesday, March 5, 2024 10:12 AM\n\
                    Name:\nOrganisation:\nPhone:\nEmail: sme@univ.example\n";
        assert_eq!(
            extract_fields(body),
            Fields {
                name: some("Jane Doe"),
                organization: some("Example Bio Inc."),
                position: some("CTO"),
                phone: some("02-555-1234"),
                email: None,
                attendees: Some(1),
                people: vec!["Jane Doe".to_string()],
            }
        );
    }
}
