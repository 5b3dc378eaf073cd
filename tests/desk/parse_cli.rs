//! `smebridge parse FILE.eml`, the real binary: what it prints for staff, each field with its
//! value and where it came from, and why the mail was classified as it was (each clue with its
//! weight). Needs no configuration and no mail servers; `--announcement` and `--center` tell it
//! what `[event] announcement_file` and `[smtp] from` tell the daemon.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Runs `smebridge parse FILE` with no configuration anywhere, and returns its standard output.
fn parse(file: &Path) -> String {
    parse_with(file, &[])
}

/// Runs `smebridge parse ARGS… FILE` with no configuration anywhere, and returns its standard
/// output.
fn parse_with(file: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_smebridge"))
        .arg("parse")
        .args(args)
        .arg(file)
        .env("SMEBRIDGE_CONFIG", "/nonexistent/smebridge.toml")
        .output()
        .expect("smebridge must start");
    assert!(out.status.success(), "smebridge parse failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn parse_prints_each_field_with_its_source() {
    let out = parse(&fixture("naver-euckr-html-table.eml"));
    for line in [
        "name          장수빈  ← HTML table, line 2, cell '성 명'",
        "organization  하늘바이오  ← HTML table, line 3, cell '소 속'",
        "position      연구원  ← HTML table, line 4, cell '직 위'",
        "phone         010-4456-1287  ← HTML table, line 5, cell '연 락 처'",
        "email         subin.jang@naver.example  ← From address",
        "attendees     1  ← HTML table, line 6, cell '참석인원'",
        "doubts        none",
        "problems      none",
    ] {
        assert!(out.lines().any(|l| l == line), "no line {line:?} in:\n{out}");
    }
}

#[test]
fn parse_names_guesses_forwards_defaults_and_doubts() {
    let out = parse(&fixture("display-name-with-company-and-title.eml"));
    assert!(out.contains("name          김서준  ← sender's display name\n"), "{out}");
    assert!(out.contains("attendees     -  ← default (1): no count stated\n"), "{out}");

    let out = parse(&fixture("forwarded-as-attachment-rfc822.eml"));
    assert!(
        out.contains("email         seoyoung.moon@hmsol.example  ← attached forwarded mail, From address\n"),
        "{out}"
    );

    let out = parse(&fixture("doubtful-values-are-kept-and-named.eml"));
    let doubts = out.lines().find(|l| l.starts_with("doubts")).unwrap_or_default();
    assert!(doubts.contains(r#"doubtful: attendees "120명" is not a usable count"#), "{out}");
    assert!(out.contains("stated email  seoyeon.lee@daon.example  ← line 6, label '이메일'\n"), "{out}");
}

#[test]
fn parse_of_a_missing_file_fails_with_the_file_named() {
    let missing = fixture("no-such-mail.eml");
    let out = Command::new(env!("CARGO_BIN_EXE_smebridge"))
        .arg("parse")
        .arg(&missing)
        .output()
        .expect("smebridge must start");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-mail.eml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `line` is one of the lines of `out`, as a whole.
fn has_line(out: &str, line: &str) -> bool {
    out.lines().any(|l| l == line)
}

#[test]
fn parse_explains_why_a_mail_is_not_an_application_with_each_clue_weighed() {
    let file = fixture("not-an-application-colleague-forwards-with-the-center-in-cc.eml");
    let out = parse_with(&file, &["--center", "smebridge@kaist.ac.kr"]);
    for line in [
        "intent        not an application: written to someone else",
        "classified    addressed elsewhere (score -10)",
        "  evidence    -3  the center is only in Cc; To names someone else",
        "              -2  greets someone else: \"김과장님\"",
        "              -2  for information: \"공유드립니다\"",
        "              -2  asks someone else to apply: \"신청해 보세요.\"",
        "              -1  passes on the center's own mail",
    ] {
        assert!(has_line(&out, line), "no line {line:?} in:\n{out}");
    }
    // Without the center's address its place among the recipients is not weighed; the
    // announcement's sender is the center.
    let without = parse(&file);
    assert!(!without.contains("the center is only in Cc"), "{without}");
    let announced = parse_with(&file, &["--announcement", &announcement("announcement-ko.eml")]);
    assert!(has_line(&announced, "  evidence    -3  the center is only in Cc; To names someone else"), "{announced}");

    let out =
        parse_with(&fixture("thanks-only-jal-badatseumnida-from-daum.eml"), &["--center", "smebridge@kaist.ac.kr"]);
    assert!(
        has_line(&out, "intent        applies to nothing: a registered applicant's follow-up, else not an application"),
        "{out}"
    );
    assert!(has_line(&out, "              -1  only thanks or an acknowledgement: \"잘 받았습니다\""), "{out}");
}

#[test]
fn parse_names_an_auto_reply_by_its_words_and_the_words() {
    let out = parse(&fixture("auto-reply-without-headers-bujaejung-bracket-from-groupware.eml"));
    let intent = out.lines().find(|l| l.starts_with("intent")).unwrap_or_default();
    assert!(intent.starts_with("intent        automatic, never answered: auto-reply by its words (score 5"), "{out}");
    for line in [
        "auto-reply    yes by its words (score 5; 3 or more is automatic)",
        "              +3  subject starts with \"[부재중]\"",
        "              +2  says the sender is away: \"부재중\"",
    ] {
        assert!(has_line(&out, line), "no line {line:?} in:\n{out}");
    }
}

#[test]
fn parse_reads_the_quoted_form_only_with_the_announcement_and_says_so() {
    let file = fixture("quoted-form-filled-in-a-daum-html-reply-in-euc-kr.eml");
    let out = parse_with(&file, &["--announcement", &announcement("announcement-ko.eml")]);
    for line in [
        "name          정다은  ← typed into the quoted form, line 14, label '성 명'",
        "organization  하늘소프트  ← typed into the quoted form, line 15, label '소 속'",
        "phone         010-3141-5926  ← typed into the quoted form, line 17, label '연락처'",
        "attendees     1  ← typed into the quoted form, line 18, label '참석인원'",
    ] {
        assert!(has_line(&out, line), "no line {line:?} in:\n{out}");
    }
    // Line 14 of the text as read, which the sources count, is the line typed into.
    assert!(out.contains("\n  14  ■ 성 명 : 정다은\n"), "{out}");
    let without = parse(&file);
    assert!(has_line(&without, "organization  -"), "without the announcement the quote is the center's:\n{without}");
}

#[test]
fn parse_shows_values_read_from_sentences_the_subject_and_against_the_signature() {
    let out = parse(&fixture("change-sentence-one-more-person.eml"));
    assert!(has_line(&out, "attendees     2  ← sentence on line 3"), "{out}");
    assert!(has_line(&out, "  change      +1 against the count recorded  ← sentence on line 3"), "{out}");

    let out = parse(&fixture("subject-only-with-a-count-from-a-galaxy.eml"));
    assert!(has_line(&out, "phone         010-7070-8080  ← subject line"), "{out}");
    assert!(has_line(&out, "attendees     2  ← subject line"), "{out}");

    let out = parse(&fixture("stated-mobile-beats-a-signature-without-a-sign-off.eml"));
    assert!(has_line(&out, "phone         010-7373-8484  ← sentence on line 1"), "{out}");
    assert!(has_line(&out, "organization  (주)한빛테크  ← signature block"), "{out}");

    let out = parse(&fixture("change-labelled-from-old-to-new-with-an-arrow-from-naver.eml"));
    assert!(has_line(&out, "phone         010-2727-5577  ← line 2, label '연락처'"), "the new number:\n{out}");
}

#[test]
fn parse_refuses_a_center_that_is_no_address() {
    let out = Command::new(env!("CARGO_BIN_EXE_smebridge"))
        .args(["parse", "--center", "not an address"])
        .arg(fixture("thanks-only-english.eml"))
        .env("SMEBRIDGE_CONFIG", "/nonexistent/smebridge.toml")
        .output()
        .expect("smebridge must start");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--center"), "{}", String::from_utf8_lossy(&out.stderr));
}

fn announcement(name: &str) -> String {
    fixture("announcements").join(name).to_string_lossy().into_owned()
}
