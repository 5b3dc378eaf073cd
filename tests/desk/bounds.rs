//! Resource bounds on hostile input under the 40 MiB message limit.
//!
//! Two kinds of test, both over the bombs of `helpers/bombs.rs`:
//! - in-process: the attachment readers give a bounded, typed error (or bounded text) for each
//!   attached-form bomb, and the MIME pre-scan cuts each hostile message with a problem for
//!   staff. These run inside the test binary, so a bomb that got through would abort it.
//! - the real binary: `smebridge parse FILE` run as a child on each hostile message, its peak
//!   RSS read as it exits (`helpers/rss.rs`) and held under 128 MB. A resource bound, not a
//!   timing.

use std::process::{Command, Stdio};

use crate::helpers::bombs::{self, ZipForm};
use crate::helpers::rss::run_for_peak_rss;
use smebridge::parse::steps as limits;
use smebridge::parse::{extract_text, kind_of, ExtractError, FormKind, Limits};

/// The bound the README promises for one pass.
const MAX_RSS_KB: i64 = 128 * 1024;

/// Runs `smebridge parse` on `raw` as a child process; its exit status, stdout and peak RSS
/// (KiB, see [`run_for_peak_rss`]).
fn parse_in_child(raw: &[u8]) -> (i32, String, i64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("hostile.eml");
    std::fs::write(&path, raw).expect("the message written");
    let out_path = dir.path().join("stdout");
    let out = std::fs::File::create(&out_path).expect("a stdout file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_smebridge"));
    command
        .arg("parse")
        .arg(&path)
        .env_remove("SMEBRIDGE_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null());
    let (code, peak_kb) = run_for_peak_rss(&mut command);
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    (code, stdout, peak_kb)
}

/// The message is read by the real binary within the memory bound; its `problems` line.
fn read_within_bound(name: &str, raw: &[u8]) -> String {
    assert!(raw.len() < bombs::MESSAGE_LIMIT, "{name}: {} bytes is over the message limit", raw.len());
    let (code, stdout, peak_kb) = parse_in_child(raw);
    eprintln!("{name}: {} kB message, peak RSS {} MB", raw.len() >> 10, peak_kb >> 10);
    assert_eq!(code, 0, "{name}: smebridge parse failed: {stdout}");
    assert!(peak_kb < MAX_RSS_KB, "{name}: peak RSS {} MB", peak_kb >> 10);
    stdout.lines().find(|l| l.starts_with("problems")).unwrap_or_default().to_owned()
}

// -------------------------------------------------------------------------------------------
// In process: attached-form bombs give bounded, typed errors
// -------------------------------------------------------------------------------------------

fn read_form(file: &str, bytes: &[u8]) -> Result<String, ExtractError> {
    let kind = kind_of(Some(file), None, bytes).expect("a kind of form");
    extract_text(&kind, bytes, &Limits::default())
}

fn too_complex(result: &Result<String, ExtractError>, what: &str) -> bool {
    matches!(result, Err(ExtractError::TooComplex(why)) if why.contains(what))
}

#[test]
fn the_237_byte_pdf_whose_xref_stream_asks_for_a_terabyte_is_unreadable_not_fatal() {
    let pdf = bombs::pdf_xref_terabyte();
    assert_eq!(pdf.len(), 237);
    assert_eq!(kind_of(Some("form.pdf"), None, &pdf), Some(FormKind::Pdf));
    let result = read_form("form.pdf", &pdf);
    assert!(matches!(result, Err(ExtractError::Broken(_))), "{result:?}");
}

#[test]
fn deep_and_cyclic_pdf_forms_are_too_complex() {
    let deep = read_form("form.pdf", &bombs::pdf_deep_forms(10_000));
    assert!(too_complex(&deep, "nested more than"), "{deep:?}");
    let cyclic = read_form("form.pdf", &bombs::pdf_cyclic());
    assert!(too_complex(&cyclic, "draws itself"), "{cyclic:?}");
}

#[test]
fn pdfs_with_too_many_objects_are_refused_before_loading() {
    for (name, pdf) in [
        ("resources chained through 260,000 objects", bombs::pdf_resource_chain(260_000)),
        ("100,000 pages", bombs::pdf_many_pages(100_000)),
        ("an array of 5,000,000 elements", bombs::pdf_array_flood(5_000_000)),
        ("an object stream listing one array 20,000 times", bombs::pdf_object_stream_flood(20_000, 20_000)),
    ] {
        let result = read_form("form.pdf", &pdf);
        assert!(too_complex(&result, "more objects than"), "{name}: {result:?}");
    }
}

#[test]
fn a_pdf_content_stream_of_five_million_operands_is_too_complex() {
    let result = read_form("form.pdf", &bombs::pdf_operand_flood(5_000_000));
    assert!(too_complex(&result, "content stream has more than"), "{result:?}");
}

#[test]
fn zip_bombs_stop_at_the_decompression_limit() {
    for form in ZipForm::ALL {
        let bomb = bombs::zip_bomb(form, 1024);
        assert!(bomb.len() < 2 << 20, "{form:?}: {} bytes", bomb.len());
        let result = read_form(form.file_name(), &bomb);
        assert!(matches!(result, Err(ExtractError::TooLarge)), "{form:?}: {result:?}");
    }
}

#[test]
fn xml_entities_are_never_expanded() {
    for form in ZipForm::ALL {
        let text = read_form(form.file_name(), &bombs::entity_bomb(form)).expect("read without the entity");
        assert!(!text.contains("lol"), "{form:?}: {text:?}");
        assert!(text.len() < 100, "{form:?}: {} bytes", text.len());
    }
}

#[test]
fn an_xlsx_with_cells_at_opposite_corners_makes_no_grid() {
    let text = read_form("form.xlsx", &bombs::xlsx_opposite_corners()).expect("read");
    assert!(text.contains("성명") && text.contains("모서리"), "{text:?}");
    assert!(text.len() < 1_000, "{} bytes", text.len());
}

#[test]
fn xlsx_floods_of_strings_and_cells_are_bounded() {
    let strings = read_form("form.xlsx", &bombs::xlsx_shared_strings_flood(5_000_000));
    assert!(matches!(strings, Err(ExtractError::TooLarge)), "{strings:?}");
    let cells = read_form("form.xlsx", &bombs::xlsx_empty_cells(2_000, 1_000)).expect("read");
    assert!(cells.trim().is_empty(), "{} bytes", cells.len());
}

#[test]
fn hwp_files_declaring_huge_sizes_are_bounded() {
    let [lying_records, inflating, lying_directory]: [Vec<u8>; 3] =
        bombs::hwp_huge_sizes(1024).try_into().expect("three files");
    let records = read_form("form.hwp", &lying_records);
    assert!(matches!(&records, Ok(text) if text.is_empty()), "{records:?}");
    let inflated = read_form("form.hwp", &inflating);
    assert!(matches!(inflated, Err(ExtractError::TooLarge)), "{inflated:?}");
    let directory = read_form("form.hwp", &lying_directory);
    assert!(matches!(directory, Err(ExtractError::Broken(_))), "{directory:?}");
}

// -------------------------------------------------------------------------------------------
// In process: the MIME pre-scan cuts hostile structure before mail-parser
// -------------------------------------------------------------------------------------------

#[test]
fn hostile_structure_is_cut_before_parsing_with_a_problem_for_staff() {
    for (name, raw, problem) in [
        ("header-less parts", bombs::headerless_parts(3_000_000), "MIME parts"),
        ("Content-Disposition-only parts", bombs::disposition_only_parts(600_000), "MIME parts"),
        ("mid-line delimiters", bombs::midline_boundaries(3_000_000), "MIME parts"),
        ("digest", bombs::digest_parts(1_000_000), "MIME parts"),
        ("encoded attached message", bombs::encoded_attached_message(2_000_000), "MIME parts"),
        ("3,000-deep MIME", bombs::deep_mime(3_000), "nests more than"),
        ("20,000 attachments", bombs::many_attachments(20_000), "MIME parts"),
    ] {
        let (kept, found) = limits::limit(&raw);
        assert!(found.as_deref().is_some_and(|p| p.contains(problem)), "{name}: {found:?}");
        assert!(kept.len() < raw.len() / 10, "{name}: kept {} of {} bytes", kept.len(), raw.len());
    }
}

// -------------------------------------------------------------------------------------------
// Hostile messages: the real binary, peak RSS
// -------------------------------------------------------------------------------------------

#[test]
fn three_million_headerless_parts_stay_under_the_memory_bound() {
    let problems = read_within_bound("3,000,000 header-less parts", &bombs::headerless_parts(3_000_000));
    assert!(problems.contains("MIME parts"), "{problems}");
}

#[test]
fn six_hundred_thousand_disposition_only_parts_stay_under_the_memory_bound() {
    let problems = read_within_bound("600,000 Content-Disposition-only parts", &bombs::disposition_only_parts(600_000));
    assert!(problems.contains("MIME parts"), "{problems}");
}

#[test]
fn midline_delimiters_digests_and_encoded_attached_messages_stay_under_the_memory_bound() {
    for (name, raw) in [
        ("3,000,000 mid-line delimiters", bombs::midline_boundaries(3_000_000)),
        ("1,000,000-part digest", bombs::digest_parts(1_000_000)),
        ("2,000,000 parts in a base64 attached message", bombs::encoded_attached_message(2_000_000)),
    ] {
        let problems = read_within_bound(name, &raw);
        assert!(problems.contains("MIME parts"), "{name}: {problems}");
    }
}

#[test]
fn mime_nested_three_thousand_deep_stays_under_the_memory_bound() {
    let problems = read_within_bound("3,000-deep MIME", &bombs::deep_mime(3_000));
    assert!(problems.contains("nests more than"), "{problems}");
}

#[test]
fn a_four_megabyte_header_stays_under_the_memory_bound() {
    read_within_bound("4 MB To: header", &bombs::huge_header_field(4 << 20));
    read_within_bound("4 MB of header fields", &bombs::many_header_fields(4 << 20));
}

#[test]
fn an_html_tag_with_150_000_attributes_is_read_not_fatal() {
    // 50,000 overflowed the stack before the attributes were bounded; 150,000 stay under the
    // 2 MiB read of a text part.
    let raw = bombs::html_attribute_flood(150_000);
    read_within_bound("150,000 attributes on one tag", &raw);
    let (_, stdout, _) = parse_in_child(&raw);
    assert!(stdout.contains("name") && stdout.contains("속성"), "{stdout}");
}

#[test]
fn twenty_thousand_attachments_stay_under_the_memory_bound() {
    let problems = read_within_bound("20,000 attachments", &bombs::many_attachments(20_000));
    assert!(problems.contains("MIME parts"), "{problems}");
}

/// Every attached-form bomb, as an applicant would send it.
fn attachment_bombs() -> Vec<(String, &'static str, &'static str, Vec<u8>)> {
    let pdf = "application/pdf";
    let mut bombs: Vec<(String, &'static str, &'static str, Vec<u8>)> = vec![
        ("237-byte xref PDF".into(), "form.pdf", pdf, bombs::pdf_xref_terabyte()),
        ("PDF forms 10,000 deep".into(), "form.pdf", pdf, bombs::pdf_deep_forms(10_000)),
        ("cyclic PDF".into(), "form.pdf", pdf, bombs::pdf_cyclic()),
        ("PDF resources chained through 260,000 objects".into(), "form.pdf", pdf, bombs::pdf_resource_chain(260_000)),
        ("PDF of 100,000 pages".into(), "form.pdf", pdf, bombs::pdf_many_pages(100_000)),
        ("PDF content of 5,000,000 operands".into(), "form.pdf", pdf, bombs::pdf_operand_flood(5_000_000)),
        ("PDF array of 5,000,000 elements".into(), "form.pdf", pdf, bombs::pdf_array_flood(5_000_000)),
        ("PDF object stream of 20,000 copies".into(), "form.pdf", pdf, bombs::pdf_object_stream_flood(20_000, 20_000)),
        (
            "XLSX cells at opposite corners".into(),
            "form.xlsx",
            ZipForm::Xlsx.content_type(),
            bombs::xlsx_opposite_corners(),
        ),
        (
            "XLSX of 5,000,000 shared strings".into(),
            "form.xlsx",
            ZipForm::Xlsx.content_type(),
            bombs::xlsx_shared_strings_flood(5_000_000),
        ),
        (
            "XLSX of 2,000,000 empty cells".into(),
            "form.xlsx",
            ZipForm::Xlsx.content_type(),
            bombs::xlsx_empty_cells(2_000, 1_000),
        ),
    ];
    for form in ZipForm::ALL {
        bombs.push((format!("{form:?} zip bomb"), form.file_name(), form.content_type(), bombs::zip_bomb(form, 1024)));
        bombs.push((
            format!("{form:?} entity expansion"),
            form.file_name(),
            form.content_type(),
            bombs::entity_bomb(form),
        ));
    }
    for (i, hwp) in bombs::hwp_huge_sizes(1024).into_iter().enumerate() {
        bombs.push((format!("HWP with huge declared sizes #{i}"), "form.hwp", "application/x-hwp", hwp));
    }
    bombs
}

#[test]
fn attached_form_bombs_stay_under_the_memory_bound() {
    for (name, file, content_type, bytes) in attachment_bombs() {
        read_within_bound(&name, &bombs::application_with(file, content_type, &bytes));
    }
}

#[test]
fn the_largest_ordinary_application_stays_under_the_memory_bound() {
    let raw = bombs::largest_ordinary_application(30_000_000);
    let problems = read_within_bound("39 MB application with a 30 MB attachment", &raw);
    assert_eq!(problems.trim_start_matches("problems").trim(), "none");
}
