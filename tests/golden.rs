//! Golden tests for parsing: every `tests/fixtures/NAME.eml` (raw bytes as mail clients send
//! them; `tests/fixtures/make.py` writes them, and a test checks the committed files are exactly
//! what it writes) is parsed with LF and with CRLF line endings and
//! must give what `NAME.json` says. Then the mail nobody should send: broken structure, absurd
//! sizes and nesting, generated here in code, must parse in bounded time without a panic; and a
//! seeded mutation run over the fixtures.
//!
//! The JSON keys: `classification` (`application`, `cancellation`, `inquiry`, `automatic`, and
//! `unknown` for mail that is not an application: written to someone else, or applying to
//! nothing), the applicant's `name`, `organization`, `position`, `phone`, `attendees` (always
//! compared; `null` means "not found"), and optionally `people`, `subject`, `from_name`,
//! `forwarded_from`, `forwarded_from_name`, `english`, `message_id_synthesized`, `problems`
//! (whether any are recorded), `guessed` (the fields taken from the signature or display name
//! rather than stated), `sources` (where each field came from, as `smebridge parse` words it; an
//! absent key means no source), `stated_email`, `doubts` (the doubtful values, in order),
//! `notes` (the remarks kept), `more_attendees` (a count stated against the recorded one),
//! `evidence` (clues the classification must have weighed, as `smebridge parse` words them),
//! `announcement` (a file under `tests/fixtures/announcements/` to parse with, as `[event]
//! announcement_file`) and `clean` (default `true`: no U+FFFD anywhere in the text read).
//!
//! Every fixture is parsed knowing the center's address (`smebridge@kaist.ac.kr`), as the
//! daemon parses.
//!
//! Whatever the JSON says, every field with a value must have a source and no field without one
//! may have one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use smebridge::parse::{Announcement, Inbound};

#[path = "golden/fixture_json.rs"]
mod fixture_json;

use fixture_json::{actual_json, parse_announced};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture: its name, raw bytes and expectations, sorted by name.
fn fixtures() -> Vec<(String, Vec<u8>, Value)> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures exists")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix(".eml").map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let raw = std::fs::read(fixture_dir().join(format!("{name}.eml"))).unwrap();
            let json = std::fs::read_to_string(fixture_dir().join(format!("{name}.json")))
                .unwrap_or_else(|_| panic!("{name}.eml has no {name}.json"));
            let expected: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}.json: {e}"));
            (name, raw, expected)
        })
        .collect()
}

/// The bytes with every line ending made LF.
fn with_lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// The bytes with every line ending made CRLF.
fn with_crlf(raw: &[u8]) -> Vec<u8> {
    let lf = with_lf(raw);
    let mut out = Vec::with_capacity(lf.len() + lf.len() / 20);
    for &b in &lf {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn parse_bytes(raw: &[u8]) -> Inbound {
    parse_announced(raw, None)
}

/// The announcement a fixture's JSON names, read as `[event] announcement_file` is.
fn announcement_of(expected: &Value) -> Option<Announcement> {
    fixture_json::announcement_of(&fixture_dir(), expected)
}

/// Fields whose value and source disagree: a value without a source or a source without a value.
fn unsourced(inbound: &Inbound) -> Vec<String> {
    let fields = &inbound.fields;
    let sources = &inbound.sources;
    let email = inbound.forwarded_from.as_ref().or(inbound.from.as_ref());
    [
        ("name", fields.name.is_some(), sources.name.is_some()),
        ("organization", fields.organization.is_some(), sources.organization.is_some()),
        ("position", fields.position.is_some(), sources.position.is_some()),
        ("phone", fields.phone.is_some(), sources.phone.is_some()),
        ("email", email.is_some(), sources.email.is_some()),
        ("stated_email", inbound.stated_email.is_some(), sources.stated_email.is_some()),
        // No count stated is a source too: the default of one.
        ("attendees", true, sources.attendees.is_some()),
    ]
    .into_iter()
    .filter(|(_, has_value, has_source)| has_value != has_source)
    .map(|(field, has_value, _)| {
        format!("{field}: {}", if has_value { "a value without a source" } else { "a source without a value" })
    })
    .collect()
}

/// Always compared, whether the JSON states them or not.
const ALWAYS: [&str; 6] = ["classification", "name", "organization", "position", "phone", "attendees"];

/// Differences between what `raw` parses to and `expected`, one line each.
fn mismatches(name: &str, endings: &str, raw: &[u8], expected: &Value) -> Vec<String> {
    let announcement = announcement_of(expected);
    let inbound = parse_announced(raw, announcement.as_ref());
    let actual = actual_json(&inbound);
    let mut out = Vec::new();
    let keys = expected.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    for key in ALWAYS.iter().map(|k| k.to_string()).chain(keys.into_iter().filter(|k| !ALWAYS.contains(&k.as_str()))) {
        if ["clean", "announcement", "evidence"].contains(&key.as_str()) {
            continue;
        }
        let want = expected.get(&key).cloned().unwrap_or(Value::Null);
        let got = actual.get(&key).cloned().unwrap_or(Value::Null);
        if want != got {
            out.push(format!("{name} ({endings}): {key}: expected {want}, got {got}"));
        }
    }
    for wrong in unsourced(&inbound) {
        out.push(format!("{name} ({endings}): {wrong}"));
    }
    let weighed: Vec<String> = inbound.verdict.clues.iter().map(ToString::to_string).collect();
    let auto: Vec<String> = inbound.auto_reply.iter().map(ToString::to_string).collect();
    for clue in expected.get("evidence").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if !weighed.iter().chain(&auto).any(|w| w == clue) {
            out.push(format!("{name} ({endings}): evidence {clue:?} not weighed; weighed: {weighed:?} {auto:?}"));
        }
    }
    if expected.get("people").is_none() && inbound.people.len() > 1 {
        out.push(format!("{name} ({endings}): people: expected at most one, got {:?}", inbound.people));
    }
    let clean = expected.get("clean").and_then(Value::as_bool).unwrap_or(true);
    let fields = [&inbound.fields.name, &inbound.fields.organization, &inbound.fields.position, &inbound.fields.phone];
    if fields.iter().any(|f| f.as_deref().is_some_and(|v| v.contains('\u{FFFD}'))) {
        out.push(format!("{name} ({endings}): U+FFFD in an extracted field: {:?}", inbound.fields));
    }
    if clean {
        let header_text = [&inbound.subject, &inbound.from_name, &inbound.forwarded_from_name];
        if inbound.text.contains('\u{FFFD}')
            || header_text.iter().any(|h| h.as_deref().is_some_and(|v| v.contains('\u{FFFD}')))
        {
            out.push(format!("{name} ({endings}): U+FFFD in the text read"));
        }
        let hangul_in_raw = raw.iter().any(|&b| b >= 0x80) || raw.windows(4).any(|w| w == b"\x1b$)C");
        if hangul_in_raw && !inbound.text.chars().any(is_hangul) && expected["english"] != Value::Bool(true) {
            out.push(format!("{name} ({endings}): 8-bit or ISO-2022-KR body but no Hangul read"));
        }
    }
    out
}

fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

#[test]
fn every_fixture_parses_as_expected_with_lf_and_crlf() {
    let fixtures = fixtures();
    let mut failures = Vec::new();
    for (name, raw, expected) in &fixtures {
        failures.extend(mismatches(name, "LF", &with_lf(raw), expected));
        failures.extend(mismatches(name, "CRLF", &with_crlf(raw), expected));
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_corpus_is_large_enough_and_complete() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 60, "only {} fixtures", fixtures.len());
    for kind in ["application", "cancellation", "inquiry", "automatic", "unknown"] {
        assert!(fixtures.iter().any(|(_, _, e)| e["classification"] == kind), "no fixture is classified {kind}");
    }
}

#[test]
fn sources_are_expected_for_every_kind_of_source() {
    let fixtures = fixtures();
    let with_sources: Vec<&Value> = fixtures.iter().filter_map(|(_, _, e)| e.get("sources")).collect();
    assert!(with_sources.len() >= 15, "only {} fixtures expect sources", with_sources.len());
    let all: Vec<&str> =
        with_sources.iter().filter_map(|s| s.as_object()).flat_map(|o| o.values()).filter_map(Value::as_str).collect();
    for kind in [
        ", label '",
        "table, line",
        "HTML table, line",
        "numbered row of a person",
        "written with label",
        "sentence on line",
        "people named",
        "signature block",
        "sender's display name",
        "From address",
        "forwarded mail, line",
        "attached forwarded mail, line",
        "attached form ",
        "default (1)",
        "subject line",
        "subject line, label '",
        "typed into the quoted form, line",
    ] {
        assert!(all.iter().any(|s| s.contains(kind)), "no fixture expects a source like {kind:?}");
    }
}

/// `smebridge parse` prints, for each field of a fixture that expects sources, the value and the
/// source the fixture expects, on the field's own line.
#[test]
fn explain_shows_each_value_with_its_expected_source() {
    for (name, raw, expected) in fixtures() {
        let Some(sources) = expected.get("sources").and_then(Value::as_object) else { continue };
        let inbound = parse_announced(&raw, announcement_of(&expected).as_ref());
        let explained = smebridge::parse::explain(&inbound);
        for (field, source) in sources {
            let label = if field == "stated_email" { "stated email" } else { field.as_str() };
            let value = match field.as_str() {
                "email" => inbound.forwarded_from.as_ref().or(inbound.from.as_ref()).map(|a| a.to_string()),
                "stated_email" => inbound.stated_email.clone(),
                "attendees" => Some(inbound.fields.attendees.map_or("-".to_owned(), |n| n.to_string())),
                _ => expected[field.as_str()].as_str().map(str::to_owned),
            };
            let value = value.unwrap_or_else(|| panic!("{name}: {field} has a source but no value"));
            let source = source.as_str().unwrap();
            let line = format!("{label:<14}{value}  ← {source}");
            assert!(explained.lines().any(|l| l == line), "{name}: no line {line:?} in\n{explained}");
        }
    }
}

#[test]
fn explain_names_doubts_and_numbers_the_body_lines_the_sources_count() {
    let raw = std::fs::read(fixture_dir().join("doubtful-values-are-kept-and-named.eml")).unwrap();
    let explained = smebridge::parse::explain(&parse_bytes(&raw));
    let doubts = explained.lines().find(|l| l.starts_with("doubts")).unwrap_or_default();
    assert!(doubts.contains(r#"doubtful: phone "010-12-34" is not a phone number"#), "{explained}");
    assert!(explained.contains("organization  새벽정밀  ← line 4, label '소속'"), "{explained}");
    assert!(
        explained.contains("\n   4  소속: 새벽정밀\n"),
        "line 4 of the body is the one the source names:\n{explained}"
    );

    let raw = std::fs::read(fixture_dir().join("gmail-forwarded-application.eml")).unwrap();
    let explained = smebridge::parse::explain(&parse_bytes(&raw));
    assert!(explained.contains("name          정하늘  ← forwarded mail, line 12, label '성명'"), "{explained}");
    assert!(explained.contains("\n  12  성명: 정하늘\n"), "{explained}");
    assert!(explained.contains("forwarded     haneul.jung@bluewave.example (정하늘)"), "{explained}");
}

/// `smebridge parse` says why a mail was classified as it was: each clue with its weight, the
/// score, and for an auto-reply without headers the clues of its words.
#[test]
fn explain_shows_the_evidence_weighed_and_each_new_source() {
    let explained = |name: &str| {
        let raw = std::fs::read(fixture_dir().join(format!("{name}.eml"))).unwrap();
        let json = std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).unwrap();
        let expected: Value = serde_json::from_str(&json).unwrap();
        smebridge::parse::explain(&parse_announced(&raw, announcement_of(&expected).as_ref()))
    };
    let forward = explained("not-an-application-colleague-forwards-with-the-center-in-cc");
    for line in [
        "classified    addressed elsewhere (score -10)",
        "  evidence    -3  the center is only in Cc; To names someone else",
        "              -2  greets someone else: \"김과장님\"",
        "              -2  for information: \"공유드립니다\"",
        "              -2  asks someone else to apply: \"신청해 보세요.\"",
        "              -1  passes on the center's own mail",
    ] {
        assert!(forward.lines().any(|l| l == line), "no line {line:?} in\n{forward}");
    }
    let auto = explained("auto-reply-without-headers-only-the-body-says-so");
    assert!(auto.contains("auto-reply    yes by its words (score 4; 3 or more is automatic)\n"), "{auto}");
    assert!(auto.contains("              +2  says the sender is away: \"부재중\"\n"), "{auto}");
    let more = explained("change-sentence-one-more-person");
    assert!(more.contains("attendees     2  ← sentence on line 3\n"), "{more}");
    assert!(more.contains("  change      +1 against the count recorded  ← sentence on line 3\n"), "{more}");
    let subject = explained("subject-only-with-slashes-from-a-galaxy");
    assert!(subject.contains("phone         010-3030-4040  ← subject line\n"), "{subject}");
    let quoted = explained("quoted-form-filled-in-below-outlooks-original-message");
    assert!(
        quoted.contains("name          배서준  ← typed into the quoted form, line 19, label '성 명'\n"),
        "{quoted}"
    );
}

/// The generator and the committed fixtures cannot drift apart: `tests/fixtures/make.py`, run
/// into an empty directory, writes exactly the committed `.eml` and `.json` files and
/// announcements (`announcements/`), byte for byte
/// (needs `python3`, which `scripts/install-deps` installs). A fixture edited by hand, or a
/// generator change not run, fails here. (The DOCX inside one fixture is deflated by Python's
/// zlib; Debian's gives the committed bytes.)
#[test]
fn the_committed_fixtures_are_exactly_what_make_py_writes() {
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new("python3")
        .arg(fixture_dir().join("make.py"))
        .arg(out.path())
        .output()
        .expect("python3 runs (scripts/install-deps installs it)");
    assert!(run.status.success(), "make.py failed:\n{}", String::from_utf8_lossy(&run.stderr));
    let files = |dir: &Path| -> std::collections::BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".eml") || name.ends_with(".json"))
            .map(|name| {
                let bytes = std::fs::read(dir.join(&name)).unwrap();
                (name, bytes)
            })
            .collect()
    };
    let announcements = |dir: &Path| -> std::collections::BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir.join("announcements"))
            .unwrap()
            .flatten()
            .map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                (format!("announcements/{name}"), std::fs::read(entry.path()).unwrap())
            })
            .collect()
    };
    let (mut written, mut committed) = (files(out.path()), files(&fixture_dir()));
    assert!(written.len() >= 2 * 60, "make.py wrote only {} files", written.len());
    written.extend(announcements(out.path()));
    committed.extend(announcements(&fixture_dir()));
    let differ: std::collections::BTreeSet<&String> =
        written.keys().chain(committed.keys()).filter(|name| written.get(*name) != committed.get(*name)).collect();
    assert!(
        differ.is_empty(),
        "tests/fixtures differs from what make.py writes (missing, extra or changed; run `python3 tests/fixtures/make.py`): {differ:?}"
    );
}

// ---------------------------------------------------------------------------
// Broken and absurd mail, generated here: parsed as far as possible, never a panic, in bounded
// time, with a problem recorded where something was left unread.
// ---------------------------------------------------------------------------

/// Generous: debug builds on a loaded two-core machine. Each case takes well under a second.
const TIME_BOUND: Duration = Duration::from_secs(20);

/// Parses `raw`, checks the result is sane, and returns it.
fn parse_bounded(what: &str, raw: &[u8]) -> Inbound {
    let started = Instant::now();
    let inbound = parse_bytes(raw);
    let took = started.elapsed();
    assert!(took < TIME_BOUND, "{what}: took {took:?}");
    assert_sane(what, &inbound);
    inbound
}

/// What must hold for any input whatsoever.
fn assert_sane(what: &str, inbound: &Inbound) {
    assert!(!inbound.message_id.is_empty(), "{what}: empty message id");
    for header in [
        Some(&inbound.message_id),
        inbound.subject.as_ref(),
        inbound.from_name.as_ref(),
        inbound.forwarded_from_name.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!header.chars().any(char::is_control), "{what}: control character in {header:?}");
    }
    assert!(!inbound.text.contains('\0'), "{what}: NUL in the text");
    let fields = &inbound.fields;
    for value in [&fields.name, &fields.organization, &fields.position, &fields.phone].into_iter().flatten() {
        assert!(!value.contains(['\0', '\n', '\r']), "{what}: line break or NUL in field {value:?}");
    }
    if let Some(phone) = &fields.phone {
        assert!(phone.chars().all(|c| c.is_ascii_digit() || c == '-'), "{what}: phone {phone:?}");
    }
    assert!(fields.attendees.is_none_or(|n| (1..=50).contains(&n)), "{what}: attendees {:?}", fields.attendees);
}

fn has_problem(inbound: &Inbound, words: &str) -> bool {
    inbound.problems.iter().any(|p| p.contains(words))
}

const APPLICATION: &str = "성명: 김민준\r\n소속: 한빛테크\r\n연락처: 010-1234-5678\r\n";

#[test]
fn missing_final_boundaries_at_every_level() {
    let mut raw = String::from("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\n");
    raw.push_str("Content-Type: multipart/alternative; boundary=\"i\"\r\n\r\n--i\r\n");
    raw.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    raw.push_str(APPLICATION);
    let inbound = parse_bounded("unclosed", raw.as_bytes());
    assert_eq!(inbound.fields.name.as_deref(), Some("김민준"));
    assert_eq!(inbound.fields.phone.as_deref(), Some("010-1234-5678"));
}

#[test]
fn damaged_base64_is_read_as_far_as_it_goes_and_recorded() {
    let raw = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\
               Content-Transfer-Encoding: base64\r\n\r\n7ISx66qFOiDquYDrr7zspIANCg==\r\n!!!###\r\n--b\r\n\
               Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%% not base64 %%%%\r\n--b--\r\n";
    let inbound = parse_bounded("bad base64", raw.as_bytes());
    assert_eq!(inbound.fields.name.as_deref(), Some("김민준"));
    assert!(!inbound.problems.is_empty(), "{:?}", inbound.problems);
}

#[test]
fn absurd_nesting_is_cut_with_a_problem() {
    let depth = 10_000;
    let mut multipart = String::from("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
    for i in 1..depth {
        multipart.push_str(&format!("--b{}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n", i - 1));
    }
    multipart.push_str(&format!("--b{}\r\nContent-Type: text/plain\r\n\r\n{APPLICATION}", depth - 1));
    let inbound = parse_bounded("nested multiparts", multipart.as_bytes());
    assert!(has_problem(&inbound, "nests more than"), "{:?}", inbound.problems);

    let mut messages = String::from("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    for _ in 0..depth {
        messages.push_str("--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@d.example\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    }
    let inbound = parse_bounded("nested messages", messages.as_bytes());
    assert!(has_problem(&inbound, "nests more than"), "{:?}", inbound.problems);

    let mut encoded = APPLICATION.to_owned();
    for level in 0..8 {
        let inner = format!(
            "From: l{level}@d.example\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
            base64(encoded.as_bytes())
        );
        encoded = inner;
    }
    let raw = format!("From: a@b.example\r\nSubject: Fwd: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n--b\r\n{}\r\n--b--\r\n", &encoded[encoded.find("Content-Type").unwrap_or(0)..]);
    parse_bounded("base64 messages in messages", raw.as_bytes());
}

#[test]
fn ten_thousand_parts_are_cut_with_a_problem() {
    let mut raw = String::from("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    raw.push_str(&format!("--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{APPLICATION}"));
    for i in 0..10_000 {
        raw.push_str(&format!("--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{i}.txt\"\r\n\r\npart {i}\r\n"));
    }
    raw.push_str("--b--\r\n");
    let inbound = parse_bounded("10,000 parts", raw.as_bytes());
    assert!(has_problem(&inbound, "MIME parts"), "{:?}", inbound.problems);
    assert_eq!(inbound.fields.name.as_deref(), Some("김민준"));
}

#[test]
fn a_30_mb_attachment_and_huge_bodies() {
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let mut raw = format!(
        "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{APPLICATION}\
         --b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    );
    raw.reserve(31 << 20);
    while raw.len() < 30 << 20 {
        raw.push_str(line);
    }
    raw.push_str("--b--\r\n");
    let inbound = parse_bounded("30 MB attachment", raw.as_bytes());
    assert_eq!(inbound.fields.name.as_deref(), Some("김민준"));

    let mut text = format!("From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{APPLICATION}");
    while text.len() < 30 << 20 {
        text.push_str("성명: 가나다, 소속: 라마바 / 연락처: 010-1234-5678 ; 이름 | 회사 | ,,,, ::::\r\n");
    }
    let inbound = parse_bounded("30 MB text body", text.as_bytes());
    assert!(has_problem(&inbound, "only the beginning was read"), "{:?}", inbound.problems);
    assert_eq!(inbound.fields.name.as_deref(), Some("김민준"));

    let mut html = String::from("From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<table><tr><td>성명</td><td>김민준</td></tr>");
    while html.len() < 8 << 20 {
        html.push_str(
            "<tr><td><div>x</div></td><td><table><tr><td>&nbsp;y&amp;</td></tr></table></td></tr><blockquote>",
        );
    }
    let inbound = parse_bounded("8 MB of HTML", html.as_bytes());
    assert_eq!(inbound.fields.name.as_deref(), Some("김민준"));

    let long_line = format!("From: a@b.example\r\nSubject: {}\r\n\r\n{}", "가".repeat(1 << 20), "x".repeat(4 << 20));
    parse_bounded("megabyte lines", long_line.as_bytes());
}

#[test]
fn nul_bytes_anywhere() {
    let raw = b"From: a\0b@c.example\r\nSubject: \0\xec\x8b\xa0\xec\xb2\xad\0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\0\0\xec\x84\xb1\xeb\xaa\x85: \xea\xb9\x80\xeb\xaf\xbc\xec\xa4\x80\0\r\n\0";
    let inbound = parse_bounded("NULs", raw);
    assert_eq!(inbound.fields.name.as_deref(), Some("김민준"));
    parse_bounded("only NULs", &[0u8; 100_000]);
    parse_bounded("NUL then headers", b"\0From: a@b.example\r\n\r\nhi");
}

#[test]
fn a_hundred_kilobytes_of_encoded_words() {
    let mut subject = String::from("From: =?UTF-8?B?6rmA66+87KSA?= <a@b.example>\r\nSubject:");
    while subject.len() < 100 << 10 {
        subject.push_str(" =?UTF-8?B?7JuM7YGs7IiNIOywuOqwgA==?=\r\n");
    }
    subject.push_str("\r\n성명: 김민준\r\n");
    let inbound = parse_bounded("100 KB subject", subject.as_bytes());
    assert!(inbound.subject.as_deref().is_some_and(|s| s.starts_with("워크숍 참가워크숍 참가")));

    // Split inside characters and mislabelled, so that every word goes through the repair.
    let bytes = "김민준".repeat(12_000).into_bytes();
    let mut from = String::from("From:");
    for chunk in bytes.chunks(5) {
        from.push_str(&format!(" =?us-ascii?B?{}?=", base64(chunk)));
    }
    from.push_str(" <a@b.example>\r\nSubject: =?utf-8?Q?");
    from.push_str(&"=ED=95".repeat(20_000));
    from.push_str("?=\r\n\r\nhi\r\n");
    let inbound = parse_bounded("100 KB of split words", from.as_bytes());
    assert!(
        inbound.from_name.as_deref().is_some_and(|n| n.starts_with("김민준김민준")),
        "{:?}",
        inbound.from_name.as_deref().map(|n| n.chars().take(10).collect::<String>())
    );
}

#[test]
fn headers_without_bodies_and_odd_line_ends() {
    for raw in [
        &b"From: a@b.example"[..],
        b"From: a@b.example\r\n",
        b"From: a@b.example\rSubject: x\r\r\rbody",
        b"\r\n\r\n\r\n",
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n----\r\n--",
        b"From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n",
        b"From: a@b.example\r\nContent-Type: text/plain; charset=\"\xff\xfe\"\r\n\r\n\xc7\xd1",
        b"From: a@b.example\r\nContent-Type: text/plain; charset=iso-2022-kr\r\n\r\n\x0e\x0e\x1b$)C\xff\x0f",
        b"From: a@b.example\r\nContent-Type: text/html\r\n\r\n<table><td><table><tr></td></table><blockquote></blockquote></blockquote><",
    ] {
        parse_bounded(&format!("{:?}", String::from_utf8_lossy(raw)), raw);
    }
}

/// Base64 without another dependency.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in bytes.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push_str("\r\n");
        }
        let v = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { char::from(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize]) } else { '=' });
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Mutations of the fixtures (a seeded, bounded stand-in for fuzzing on stable Rust)
// ---------------------------------------------------------------------------

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that matter to MIME, charsets and the field reader.
const INTERESTING: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r",
    b"\0",
    b"=",
    b"?=",
    b"=?",
    b"--",
    b"\r\n--",
    b"\x1b$)C",
    b"\x0e",
    b"\x0f",
    b"\xff",
    b"\x80",
    b"\xc7",
    b"<",
    b">",
    b"<table>",
    b"<td>",
    b"</tr>",
    b"<blockquote>",
    b"&#",
    b":",
    b"\xef\xbc\x9a",
    b"\t",
    b"|",
    b"> ",
    b"-----Original Message-----\r\n",
    b"---------- Forwarded message ---------\r\nFrom: x <y@z.example>\r\n\r\n",
    b"Content-Type: multipart/mixed; boundary=\"",
    b"Content-Transfer-Encoding: base64\r\n",
    b"charset=iso-2022-kr",
    b"format=flowed",
    b"\xea\xb9\x80",
    b"010-",
    b"\xec\x84\xb1\xeb\xaa\x85:",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, piece.iter().copied());
            }
            2 => {
                let end = (at + rng.below(64)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(256)).min(out.len());
                let copy = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, copy);
            }
            4 => out.truncate(at),
            5 => {
                let byte = (rng.next() & 0xFF) as u8;
                out.splice(at..at, std::iter::repeat_n(byte, 1 + rng.below(32)));
            }
            _ => {
                let i = rng.below(out.len().max(1));
                if let Some(b) = out.get_mut(i) {
                    *b = (rng.next() & 0xFF) as u8;
                }
            }
        }
    }
    out
}

#[test]
fn mutated_fixtures_never_panic() {
    let iterations: usize = std::env::var("MUTATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    let fixtures = fixtures();
    for (name, raw, _) in &fixtures {
        for i in 0..iterations {
            let mutated = mutate(&mut rng, raw);
            let result = std::panic::catch_unwind(|| parse_bytes(&mutated));
            match result {
                Ok(inbound) => assert_sane(&format!("{name} mutation {i}"), &inbound),
                Err(_) => {
                    let path = std::env::temp_dir().join(format!("smebridge-crash-{name}-{i}.eml"));
                    let _ = std::fs::write(&path, &mutated);
                    panic!("parse panicked on a mutation of {name}; input saved to {}", path.display());
                }
            }
        }
    }
}
