//! `smebridge parse FILE.eml`, the real binary: what it prints for staff, each field with its
//! value and where it came from. Needs no configuration and no mail servers.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Runs `smebridge parse FILE` with no configuration anywhere, and returns its standard output.
fn parse(file: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_smebridge"))
        .arg("parse")
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
