//! Recognising an applicant who writes from another address.
//!
//! Applicants are matched by address first. When no application has the address, one with the
//! same name and the same organization is the applicant's own: a colleague or assistant writing
//! on their behalf, or the applicant writing from a personal address. The rule is deliberately
//! narrow, because a wrong match changes or cancels someone else's registration:
//!
//! - both the name and the organization must be known, on the mail and on the application;
//!   a name alone never matches (two 김민준 at two companies are two people);
//! - the name is compared without its whitespace and case folded (`김 민준` = `김민준`, as forms
//!   space out Korean names; `Jane  Doe` = `jane doe`), the organization by [`crate::parse::organization_key`] (`(주)한빛테크` =
//!   `한빛테크` = `㈜ 한빛 테크`);
//! - exactly one application may match; with two or more, nothing matches and the mail is
//!   treated as coming from a new applicant.

use super::ApplicantFields;

/// The key an application is found under by its applicant's name and organization, `None` when
/// either is missing (or normalizes to nothing). Stored with each application (and recomputed
/// whenever the database is opened, so a change to the normalization never leaves stale keys).
#[must_use]
pub fn match_key(fields: &ApplicantFields) -> Option<String> {
    let name = normalized_name(fields.name.as_deref()?);
    let organization = crate::parse::organization_key(fields.organization.as_deref()?);
    if name.is_empty() || organization.is_empty() {
        return None;
    }
    // U+001F (unit separator) cannot occur in either half: both are free of control characters.
    Some(format!("{name}\u{1f}{organization}"))
}

/// `name` without whitespace, lower-cased.
fn normalized_name(name: &str) -> String {
    name.split_whitespace().collect::<String>().to_lowercase()
}

/// The application (by id) that `fields` names by name and organization: the only one among
/// `candidates` with the same [`match_key`]. `None` if the mail lacks either, or if no
/// application or more than one matches.
#[must_use]
pub fn same_applicant<'a>(
    fields: &ApplicantFields,
    candidates: impl IntoIterator<Item = (i64, &'a ApplicantFields)>,
) -> Option<i64> {
    let key = match_key(fields)?;
    let mut matching = candidates.into_iter().filter(|(_, other)| match_key(other).as_deref() == Some(key.as_str()));
    let (id, _) = matching.next()?;
    match matching.next() {
        Some(_) => None,
        None => Some(id),
    }
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
    fn the_same_name_and_organization_written_differently_match() {
        let stored = person(Some("김민준"), Some("(주)한빛테크"));
        for (name, org) in [
            ("김민준", "(주)한빛테크"),
            (" 김민준 ", "㈜ 한빛테크"),
            ("김 민 준", "(주) 한빛 테크"),
            ("김민준", "주식회사 한빛테크"),
            ("김민준", "한빛테크(주)"),
        ] {
            assert_eq!(same_applicant(&person(Some(name), Some(org)), [(7, &stored)]), Some(7), "{name} / {org}");
        }
        let jane = person(Some("Jane  Doe"), Some("Acme Robotics Co., Ltd."));
        assert_eq!(same_applicant(&person(Some("jane doe"), Some("ACME ROBOTICS INC")), [(3, &jane)]), Some(3));
    }

    #[test]
    fn a_name_alone_never_matches() {
        let stored = person(Some("김민준"), Some("(주)한빛테크"));
        assert_eq!(same_applicant(&person(Some("김민준"), None), [(1, &stored)]), None, "no organization on the mail");
        let without_org = person(Some("김민준"), None);
        assert_eq!(same_applicant(&person(Some("김민준"), Some("한빛테크")), [(1, &without_org)]), None, "none stored");
        assert_eq!(same_applicant(&person(None, Some("한빛테크")), [(1, &stored)]), None, "no name on the mail");
        // An organization that is only a legal form normalizes to nothing.
        let bare = person(Some("김민준"), Some("(주)"));
        assert_eq!(same_applicant(&person(Some("김민준"), Some("주식회사")), [(1, &bare)]), None);
        assert_eq!(match_key(&bare), None);
    }

    #[test]
    fn another_name_or_organization_does_not_match() {
        let stored = person(Some("김민준"), Some("(주)한빛테크"));
        assert_eq!(same_applicant(&person(Some("김민지"), Some("한빛테크")), [(1, &stored)]), None);
        assert_eq!(same_applicant(&person(Some("김민준"), Some("한빛소재")), [(1, &stored)]), None);
    }

    #[test]
    fn two_matching_applications_are_ambiguous_and_match_nothing() {
        let first = person(Some("이서연"), Some("다온소재"));
        let second = person(Some("이서연"), Some("(주)다온소재"));
        let other = person(Some("박지훈"), Some("다온소재"));
        let mail = person(Some("이서연"), Some("다온소재"));
        assert_eq!(same_applicant(&mail, [(1, &first), (2, &second), (3, &other)]), None);
        assert_eq!(same_applicant(&mail, [(1, &first), (3, &other)]), Some(1));
    }
}
