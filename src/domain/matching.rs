//! Noticing a namesake: an application with the same name and organization as a mail from
//! another address.
//!
//! Applicants are matched by address only (the address an application was made from, compared
//! case-insensitively). A mail from an address with no application for the event never changes,
//! cancels or reveals another address's application, even when it states the same name and
//! organization: a second 김민수 at the same big company is a second applicant, and anyone who
//! knows a name and a company must learn nothing about that person. Such a match is only a hint
//! for staff: the mail is handled as coming from a new applicant, and staff get a note naming the
//! other application(s) by number ([`namesake_note`]) to judge whether it is the same person.
//!
//! The names are compared narrowly:
//!
//! - both the name and the organization must be known, on the mail and on the application;
//!   a name alone never matches (two 김민준 at two companies are two people);
//! - the name is compared without its whitespace and case folded (`김 민준` = `김민준`, as forms
//!   space out Korean names; `Jane  Doe` = `jane doe`), the organization by [`organization_key`] (`(주)한빛테크` =
//!   `한빛테크` = `㈜ 한빛 테크`).

use super::ApplicantFields;

/// The key an application is found under by its applicant's name and organization, `None` when
/// either is missing (or normalizes to nothing). Stored with each application (and recomputed
/// whenever the database is opened, so a change to the normalization never leaves stale keys).
#[must_use]
pub fn match_key(fields: &ApplicantFields) -> Option<String> {
    let name = normalized_name(fields.name.as_deref()?);
    let organization = organization_key(fields.organization.as_deref()?);
    if name.is_empty() || organization.is_empty() {
        return None;
    }
    // U+001F (unit separator) cannot occur in either half: both are free of control characters.
    Some(format!("{name}\u{1f}{organization}"))
}

/// Legal-form marks removed by [`organization_key`].
const LEGAL_FORMS_KO: &[&str] =
    &["주식회사", "(주)", "㈜", "유한회사", "(유)", "재단법인", "(재)", "사단법인", "(사)", "합자회사", "(합)"];

/// Legal-form words removed by [`organization_key`] (compared without dots
/// and commas).
const LEGAL_FORMS_EN: &[&str] =
    &["inc", "co", "ltd", "coltd", "corp", "corporation", "llc", "limited", "company", "gmbh", "plc"];

/// The form of an organization's name to match on: the name as written,
/// without legal forms (`(주)`, `㈜`, `주식회사`, `Inc.`, `Co., Ltd.`, …),
/// spaces and punctuation, lower-cased, full-width forms made ASCII.
/// `(주)한빛테크`, `㈜ 한빛테크`, `주식회사 한빛테크` and `한빛테크(주)` all give
/// `한빛테크`; `Example Co., Ltd.` gives `example`. Only for matching: the
/// organization is always stored as written.
#[must_use]
fn organization_key(organization: &str) -> String {
    let mut text: String = organization.chars().map(to_halfwidth).collect::<String>().to_lowercase();
    for form in LEGAL_FORMS_KO {
        text = text.replace(form, " ");
    }
    text.split(|c: char| is_space(c) || c == ',')
        .filter(|word| {
            let bare: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
            !LEGAL_FORMS_EN.contains(&bare.as_str())
        })
        .flat_map(str::chars)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Whitespace of any kind (incl. NBSP, U+3000) and zero-width characters (as the field reader
/// in `parse` counts it).
fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Full-width ASCII forms (`０`, `－`, `＋`, `：`…) to ASCII, U+3000 to space.
pub(super) fn to_halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// `name` without whitespace, lower-cased.
fn normalized_name(name: &str) -> String {
    name.split_whitespace().collect::<String>().to_lowercase()
}

/// The applications (by id, in the order given) among `candidates` with the same [`match_key`]
/// as `fields`: none if the mail lacks the name or the organization.
#[must_use]
pub fn namesakes<'a>(
    fields: &ApplicantFields,
    candidates: impl IntoIterator<Item = (i64, &'a ApplicantFields)>,
) -> Vec<i64> {
    let Some(key) = match_key(fields) else { return Vec::new() };
    candidates
        .into_iter()
        .filter(|(_, other)| match_key(other).as_deref() == Some(key.as_str()))
        .map(|(id, _)| id)
        .collect()
}

/// How the note for staff about namesakes starts (see [`namesake_note`]).
pub const NAMESAKE_NOTE: &str = "같은 이름·소속의 신청이 있음";

/// The note for staff about a mail from an address with no application whose name and
/// organization are those of the applications numbered `numbers` (made from other addresses):
/// their numbers and nothing else of them, e.g. `같은 이름·소속의 신청이 있음: SME-0022 (다른 주소)`.
/// `None` when there are none.
#[must_use]
pub fn namesake_note(numbers: &[String]) -> Option<String> {
    (!numbers.is_empty()).then(|| format!("{NAMESAKE_NOTE}: {} (다른 주소)", numbers.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: Option<&str>, organization: Option<&str>) -> ApplicantFields {
        ApplicantFields {
            name: name.map(str::to_owned),
            organization: organization.map(str::to_owned),
            phone: Some("010-1234-5678".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_same_name_and_organization_written_differently_are_namesakes() {
        let stored = person(Some("김민준"), Some("(주)한빛테크"));
        for (name, org) in [
            ("김민준", "(주)한빛테크"),
            (" 김민준 ", "㈜ 한빛테크"),
            ("김 민 준", "(주) 한빛 테크"),
            ("김민준", "주식회사 한빛테크"),
            ("김민준", "한빛테크(주)"),
        ] {
            assert_eq!(namesakes(&person(Some(name), Some(org)), [(7, &stored)]), [7], "{name} / {org}");
        }
        let jane = person(Some("Jane  Doe"), Some("Acme Robotics Co., Ltd."));
        assert_eq!(namesakes(&person(Some("jane doe"), Some("ACME ROBOTICS INC")), [(3, &jane)]), [3]);
    }

    #[test]
    fn a_name_alone_is_no_namesake() {
        let stored = person(Some("김민준"), Some("(주)한빛테크"));
        assert!(namesakes(&person(Some("김민준"), None), [(1, &stored)]).is_empty(), "no organization on the mail");
        let without_org = person(Some("김민준"), None);
        assert!(namesakes(&person(Some("김민준"), Some("한빛테크")), [(1, &without_org)]).is_empty(), "none stored");
        assert!(namesakes(&person(None, Some("한빛테크")), [(1, &stored)]).is_empty(), "no name on the mail");
        // An organization that is only a legal form normalizes to nothing.
        let bare = person(Some("김민준"), Some("(주)"));
        assert!(namesakes(&person(Some("김민준"), Some("주식회사")), [(1, &bare)]).is_empty());
        assert_eq!(match_key(&bare), None);
    }

    #[test]
    fn another_name_or_organization_is_no_namesake() {
        let stored = person(Some("김민준"), Some("(주)한빛테크"));
        assert!(namesakes(&person(Some("김민지"), Some("한빛테크")), [(1, &stored)]).is_empty());
        assert!(namesakes(&person(Some("김민준"), Some("한빛소재")), [(1, &stored)]).is_empty());
    }

    #[test]
    fn every_matching_application_is_a_namesake() {
        let first = person(Some("이서연"), Some("다온소재"));
        let second = person(Some("이서연"), Some("(주)다온소재"));
        let other = person(Some("박지훈"), Some("다온소재"));
        let mail = person(Some("이서연"), Some("다온소재"));
        assert_eq!(namesakes(&mail, [(1, &first), (2, &second), (3, &other)]), [1, 2]);
        assert_eq!(namesakes(&mail, [(1, &first), (3, &other)]), [1]);
    }

    #[test]
    fn the_namesake_note_names_numbers_and_nothing_else() {
        assert_eq!(namesake_note(&[]), None);
        assert_eq!(
            namesake_note(&["SME-0022".into()]).as_deref(),
            Some("같은 이름·소속의 신청이 있음: SME-0022 (다른 주소)")
        );
        assert_eq!(
            namesake_note(&["SME-0001".into(), "SME-0012".into()]).as_deref(),
            Some("같은 이름·소속의 신청이 있음: SME-0001, SME-0012 (다른 주소)")
        );
    }

    #[test]
    fn organization_keys() {
        for (written, key) in [
            ("(주)한빛테크", "한빛테크"),
            ("㈜한빛테크", "한빛테크"),
            ("주식회사 한빛테크", "한빛테크"),
            ("한빛테크(주)", "한빛테크"),
            ("（주） 한빛 테크", "한빛테크"),
            ("Example Co., Ltd.", "example"),
            ("Example Co.,Ltd", "example"),
            ("Example Bio Inc.", "examplebio"),
            ("EXAMPLE BIO, INC", "examplebio"),
            ("Example Robotics Corp.", "examplerobotics"),
            ("(재)한국정밀소재연구원", "한국정밀소재연구원"),
            ("Cobalt Labs", "cobaltlabs"),
        ] {
            assert_eq!(organization_key(written), key, "{written}");
        }
    }
}
