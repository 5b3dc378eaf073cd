//! The staff's daily summary: one mail saying where registration stands, what needs a person and
//! what changed, with a chart of applications per day and the full list attached as XLSX and CSV.
//!
//! - `job.rs`: the daily job. Is a summary due? Gather its data from the database, render it,
//!   build the mail and queue it in the outbox, the day and its mails in one transaction (so each
//!   day is summarized exactly once across restarts). Also `smebridge summary` and `stats`.
//! - `retention.rs`: what staff are told about deleting personal data (a week before, and
//!   after), and the summaries made for that outside the daily window; `statistics.rs`: the
//!   counts `stats` keeps showing after personal data is deleted.
//! - [`render`] and everything it calls are pure: the job reads the database and the clock and
//!   hands them over in a [`SummaryInput`] (`model.rs`, with the totals); `wording.rs` has the
//!   bilingual words (Korean, English in parentheses); `view.rs` makes what the templates see;
//!   the layouts are `templates/summary.html.j2` and `templates/summary.txt.j2`; `chart.rs`
//!   draws the PNG. The attachments come from [`crate::export`].
//!
//! The parts are assembled as
//!
//! ```text
//! multipart/mixed
//! ├── multipart/related
//! │   ├── multipart/alternative
//! │   │   ├── text/plain; charset=utf-8      Summary::text
//! │   │   └── text/html; charset=utf-8       Summary::html, shows the chart as <img src="cid:chart">
//! │   └── image/png, Content-ID: <chart>, inline      Summary::chart_png
//! ├── XLSX_MIME, attachment, Summary::xlsx_filename   Summary::xlsx
//! └── text/csv; charset=utf-8, attachment             Summary::csv (starts with a UTF-8 BOM)
//! ```
//!
//! Text that came from applicants (names, organizations, subjects, excerpts) is made one line
//! (control and bidirectional-override characters removed) and the HTML is rendered by minijinja
//! with HTML auto-escaping, so no applicant text can become markup. The chart draws its few
//! digits with a bitmap font defined here: no system font is needed at run time.

mod chart;
#[cfg(test)]
pub(crate) mod fixtures;
mod job;
mod model;
mod retention;
mod statistics;
mod view;
mod wording;

use anyhow::{Context, Result};

pub use job::{message_reference, queue_by_hand, render_for, summary_if_due, totals_now, unknown_event, until_next};
pub use model::{
    applications_per_day, totals, Attention, AttentionKind, ChangeNote, EventFacts, MailboxHappening, MailboxNote,
    Previous, Summary, SummaryInput, Totals, CHART_CID, CHART_DAYS, STALE_AFTER,
};
pub use retention::{RetentionHappening, RetentionNote};
pub use wording::mailbox_sentence;

use crate::export::{self, ReviewItem};
use view::View;

/// The HTML layout; auto-escaped (its name ends in `.html`).
const HTML_TEMPLATE: &str = include_str!("templates/summary.html.j2");
/// The plain-text layout.
const TEXT_TEMPLATE: &str = include_str!("templates/summary.txt.j2");

/// Render the whole summary: subject, both bodies, the chart and the attachments.
pub fn render(input: &SummaryInput) -> Result<Summary> {
    let tz = &input.timezone;
    let per_day = model::chart_days(input);
    let view = View::new(input, &per_day);
    let env = templates()?;
    let html = env.get_template("summary.html")?.render(&view).context("cannot render the summary (HTML)")?;
    let text = env.get_template("summary.txt")?.render(&view).context("cannot render the summary (text)")?;
    let review: Vec<ReviewItem<'_>> = input
        .needs_person
        .iter()
        .map(|a| ReviewItem {
            kind: a.kind.label(),
            at: a.at,
            sender: a.sender.as_deref(),
            subject: a.subject.as_deref(),
            detail: &a.detail,
        })
        .collect();
    Ok(Summary {
        subject: view.subject,
        text,
        html,
        chart_png: chart::chart_png(&per_day)?,
        xlsx: export::xlsx(&input.applications, &review, tz, input.several_events())?,
        csv: export::csv_with_bom(&input.applications, tz, input.several_events())?,
        xlsx_filename: view.xlsx_filename,
        csv_filename: view.csv_filename,
    })
}

fn templates() -> Result<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    // The name decides escaping: `.html` is auto-escaped, `.txt` is not.
    env.add_template("summary.html", HTML_TEMPLATE)?;
    env.add_template("summary.txt", TEXT_TEMPLATE)?;
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::fixtures::{at, input, sample, simple};
    use super::wording::one_line;
    use super::*;
    use crate::domain::Status;
    use crate::store::Application;

    #[test]
    fn the_mail_states_the_totals_in_both_parts_and_escapes_applicant_text() {
        let summary = render(&sample()).unwrap();
        assert_eq!(
            summary.subject,
            "[smebridge] 중소기업 R&D 워크숍 신청 현황 2022-11-16 (신규 2건·4명, 확인 필요 1건)"
        );

        let html = &summary.html;
        assert!(html.contains(r#"<img src="cid:chart""#));
        assert!(!html.contains("<script"), "applicant text became markup");
        assert!(!html.contains("<b>\""));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(html.contains("Evil &amp; Sons &lt;b&gt;"));
        assert!(html.contains("주차 &lt;문의&gt;"));
        assert!(html.contains("Park &lt;park@daehan.example&gt;"));
        assert!(!html.contains("http://") && !html.contains("https://"), "no external resources");
        // accepted 2 (김민준 2 + 이서연 3 people), seats 40 - 5, D-1
        for needle in [
            "신청 (Accepted)",
            ">2<span",
            "참석 인원 (Attendees)",
            ">5<span",
            "잔여 좌석 (Seats left)",
            ">35<span",
            "D-1",
        ] {
            assert!(html.contains(needle), "HTML lacks {needle:?}");
        }
        assert!(html.contains("대기 (Waitlisted) <b style=\"color:#111827;\">1</b>건"));

        let text = &summary.text;
        for needle in [
            "신청 (Accepted): 2건",
            "참석 인원 (Attendees): 5명",
            "잔여 좌석 (Seats left): 35 / 40",
            "대기 (Waitlisted): 1건 · 취소 (Cancelled): 1건 · 마감 후 접수 (Late): 0건",
            "D-1 마감까지 1일 (1 day left)",
            "■ 새 신청 (New applications): 2건 · 4명",
            "<script>alert(1)</script> [대기 (waitlisted)]",
            "[문의 (Inquiry)] 11/15 (화) 11:03 · Park <park@daehan.example>",
            "행사장에 주차가 가능한가요? 감사합니다",
            "11/15 (화) 13:00 · 김민준 (SME-0001): 참석 인원 1 → 2",
        ] {
            assert!(text.contains(needle), "text lacks {needle:?}:\n{text}");
        }
        // Only the two applications since the previous summary are new.
        assert!(!text.contains("minjun.kim@hanbit-tech.example ·"));
        assert_eq!(summary.xlsx_filename, "smebridge-applications-2022-11-16.xlsx");
        assert!(summary.csv.starts_with(b"\xEF\xBB\xBF"));
        assert!(summary.xlsx.starts_with(b"PK"));
    }

    #[test]
    fn a_day_with_nothing_new_still_gets_a_short_summary() {
        let mut input = input(vec![simple(1, "김민준", Some(2), Status::Accepted, "2022-11-10T10:12:00+09:00")]);
        input.generated_at = at("2022-11-18T08:30:00+09:00");
        input.day = jiff::civil::date(2022, 11, 18);
        input.previous = Some(Previous { at: at("2022-11-17T08:30:00+09:00"), last_application: 1 });
        input.last_read = Some(at("2022-11-18T08:29:00+09:00"));
        let summary = render(&input).unwrap();
        assert_eq!(summary.subject, "[smebridge] 중소기업 R&D 워크숍 신청 현황 2022-11-18 (새 신청 없음)");
        assert!(summary.html.contains("새 신청 없음 (Nothing new)"));
        assert!(summary.html.contains("확인할 것이 없습니다 (Nothing needs a person)"));
        assert!(summary.html.contains("마감됨 (deadline passed)"));
        assert!(summary.text.contains("새 신청 없음 (Nothing new)"));
        assert!(summary.text.contains("변경 없음 (No changes)"));
        // The chart runs up to the summary's day.
        assert!(summary.text.contains("11/18 (금)  0"), "{}", summary.text);

        // And with no applications at all.
        let empty = render(&SummaryInput { applications: Vec::new(), previous: None, ..input }).unwrap();
        assert!(empty.text.contains("신청 (Accepted): 0건"));
        assert!(empty.html.contains("새 신청 없음"));
    }

    #[test]
    fn mailbox_events_are_told_in_plain_words_and_the_section_is_omitted_without_them() {
        let quiet = render(&sample()).unwrap();
        assert!(!quiet.html.contains("메일함 (Mailbox)") && !quiet.text.contains("메일함 (Mailbox)"));

        let mut input = sample();
        let note = |at_: &str, what| MailboxNote { at: at(at_), mailbox: "INBOX".into(), what };
        input.mailbox = vec![
            note("2022-11-16T07:00:00+09:00", MailboxHappening::Vanished { count: 2 }),
            note("2022-11-15T23:10:00+09:00", MailboxHappening::Reset { recognised: Some(12), recorded: Some(1) }),
            // Before the previous summary: already told.
            note("2022-11-15T08:00:00+09:00", MailboxHappening::Vanished { count: 9 }),
        ];
        let summary = render(&input).unwrap();
        for part in [&summary.text, &summary.html] {
            assert!(part.contains("메일함 (Mailbox) · 2건") || part.contains("메일함 (Mailbox): 2건"), "{part}");
            assert!(
                part.contains(
                    "2 messages disappeared from the inbox before they could be read (moved or deleted by someone)"
                ),
                "{part}"
            );
            assert!(part.contains("The inbox was reset by the server (UIDVALIDITY changed). Every message in it was checked again: 12 messages were recognised as already recorded"), "{part}");
            assert!(part.contains("1 new message was recorded. Nothing recorded before was lost."), "{part}");
            assert!(part.contains("메일 2건이 읽기 전에 받은편지함에서 사라졌습니다"), "{part}");
            assert!(!part.contains("9 messages"), "events before the previous summary are not repeated");
        }
        // Oldest first.
        let text = &summary.text;
        assert!(text.find("was reset").unwrap() < text.find("disappeared").unwrap());

        let one = MailboxNote {
            at: at("2022-11-16T07:00:00+09:00"),
            mailbox: "Applications".into(),
            what: MailboxHappening::Vanished { count: 1 },
        };
        let (ko, en) = mailbox_sentence(&one);
        assert_eq!(en, "1 message disappeared from the folder 'Applications' before it could be read (moved or deleted by someone). Look for it in the other folders or the trash.");
        assert!(ko.contains("메일 1건") && ko.contains("'Applications'"));
        let back =
            MailboxNote { what: MailboxHappening::NumberingWentBack { recognised: None, recorded: None }, ..one };
        assert!(mailbox_sentence(&back).1.contains("went backwards (UIDNEXT decreased"));
        assert!(mailbox_sentence(&back).1.contains("is being checked again"));
    }

    #[test]
    fn new_applications_are_those_recorded_since_the_previous_summary_whenever_their_mail_arrived() {
        let mut input = input(vec![
            simple(1, "김민준", None, Status::Accepted, "2022-11-14T10:00:00+09:00"),
            // Arrived before the previous summary (08:30 on the 15th) but recorded after it: the
            // mailbox could not be read then, or it was recorded in the same second.
            simple(2, "이서연", None, Status::Accepted, "2022-11-15T08:10:00+09:00"),
        ]);
        input.previous = Some(Previous { at: at("2022-11-15T08:30:00+09:00"), last_application: 1 });
        let summary = render(&input).unwrap();
        assert!(summary.subject.contains("(신규 1건·1명)"), "{}", summary.subject);
        assert!(summary.text.contains("1. 이서연"), "{}", summary.text);
        assert!(!summary.text.contains("1. 김민준"), "{}", summary.text);
    }

    #[test]
    fn the_summary_says_when_the_mailbox_was_last_read_and_warns_loudly_when_that_is_stale() {
        let fresh = render(&sample()).unwrap();
        assert!(fresh.text.contains("메일함 확인 (mailbox last read): 2022-11-16 (수) 08:29"), "{}", fresh.text);
        assert!(fresh.html.contains("메일함 확인 (mailbox last read) 2022-11-16 (수) 08:29"));
        assert!(!fresh.text.contains("WARNING") && !fresh.subject.contains("⚠"));

        // Two hours before the summary.
        let mut old = sample();
        old.last_read = Some(at("2022-11-16T06:25:00+09:00"));
        let summary = render(&old).unwrap();
        assert!(
            summary.subject.starts_with("[smebridge] ⚠ 메일함 미확인 (mailbox not read) · "),
            "{}",
            summary.subject
        );
        for part in [&summary.text, &summary.html] {
            assert!(
                part.contains("The mailbox was last read at 2022-11-16 (수) 06:25, 2 h 5 min before this summary."),
                "{part}"
            );
            assert!(part.contains("Mail that arrived after that is not in this summary."), "{part}");
            assert!(part.contains("(2시간 5분 전)"), "{part}");
        }
        assert!(summary.text.contains("!!! 경고 (WARNING) !!!"));
        assert!(summary.html.contains("메일함을 읽지 못했습니다 (The mailbox has not been read)"));

        // Recent, but not since the previous summary.
        let mut input = sample();
        input.previous = Some(Previous { at: at("2022-11-16T08:10:00+09:00"), last_application: 2 });
        input.last_read = Some(at("2022-11-16T08:05:00+09:00"));
        let summary = render(&input).unwrap();
        assert!(summary.text.contains("It has not been read since the previous summary."), "{}", summary.text);
        assert!(summary.subject.contains("⚠"));

        // Never.
        let mut input = sample();
        input.last_read = None;
        let summary = render(&input).unwrap();
        assert!(summary.text.contains("메일함 확인 (mailbox last read): 없음 (never)"), "{}", summary.text);
        assert!(summary.text.contains("smebridge has never read the mailbox"), "{}", summary.text);
    }

    #[test]
    fn the_first_summary_lists_everything() {
        let mut input = sample();
        input.previous = None;
        let summary = render(&input).unwrap();
        assert!(summary.subject.contains("(신규 4건·7명, 확인 필요 1건)"), "{}", summary.subject);
        assert!(summary.text.contains("첫 요약"));
    }

    #[test]
    fn applicant_text_cannot_break_lines_or_hide_behind_bidi_controls() {
        assert_eq!(one_line("  김민준\r\nBcc: x@evil.example\t ", 100), "김민준 Bcc: x@evil.example");
        assert_eq!(one_line("abc\u{202E}fdp.exe", 100), "abcfdp.exe");
        assert_eq!(one_line("가나다라마", 3), "가나…");
        let mut input = sample();
        input.title = "워크숍\r\nBcc: x@evil.example".into();
        assert!(!render(&input).unwrap().subject.contains(['\r', '\n']));
    }

    #[test]
    fn long_sections_are_cut_in_the_mail_but_not_in_the_attachments() {
        let apps: Vec<Application> =
            (1..=150).map(|i| simple(i, "김민준", None, Status::Accepted, "2022-11-15T10:00:00+09:00")).collect();
        let summary = render(&input(apps)).unwrap();
        assert!(summary.html.contains("외 50건은 첨부 파일에 있습니다"));
        assert_eq!(summary.html.matches("SME-0").count(), 100);
        assert!(summary.html.contains("SME-0100") && !summary.html.contains("SME-0101"));
        let mut reader = csv::Reader::from_reader(&summary.csv[3..]);
        assert_eq!(reader.records().count(), 150);
    }
}
