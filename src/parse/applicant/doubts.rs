//! Values that were found but look wrong: an application with any is still stored, marked for
//! review with the reasons, so that staff look before they rely on it.
//!
//! The rules are deliberately few and conservative; each flags only what is almost never a real
//! value, because every flag costs staff a look:
//!
//! - **phone**: a value under a phone label in which no Korean number could be found though it
//!   has digits (`010-12-34`, also the form's own example `010-0000-0000`), when no other phone
//!   was found; a stored phone that is not of a Korean number's shape;
//! - **name**: digits, an `@`, a web address, or more than [`MAX_NAME_CHARS`] characters (a
//!   sentence or a signature line read as a name);
//! - **organization**: nothing but an email or web address;
//! - **attendees**: a count outside 1–[`MAX_ATTENDEES`], or a value under an attendees label
//!   with digits that is no usable count (`0명`, `120명`);
//! - **email**: an address stated in the mail that shares neither the mailbox name nor the
//!   domain with the applicant's address (likely another person's, while replies go to the
//!   sender). The same name at another domain (work and personal mail) or another mailbox at
//!   the same domain (a colleague or a shared address) is common and not flagged.
//!
//! Pure: no I/O; the caller passes what the parser found.

use crate::domain::{ApplicantFields, EmailAddress};

use super::phone::normalize_phone;

/// Longer names than this are doubtful (Korean names are 2–5 characters, the longest
/// romanised names well under 40).
pub const MAX_NAME_CHARS: usize = 40;

/// Largest believable number of attendees from one application.
pub const MAX_ATTENDEES: u32 = 50;

/// What the checks look at.
#[derive(Debug, Clone, Copy)]
pub struct Extracted<'a> {
    /// The applicant's fields as they will be stored.
    pub fields: &'a ApplicantFields,
    /// An address the mail states under an email label.
    pub stated_email: Option<&'a str>,
    /// The address the application is stored under (the sender, or a forward's original sender).
    pub applicant_email: Option<&'a EmailAddress>,
    /// A value under a phone label that holds no phone number.
    pub unreadable_phone: Option<&'a str>,
    /// A value under an attendees label that is no usable count.
    pub unreadable_attendees: Option<&'a str>,
}

#[cfg(test)]
impl<'a> Extracted<'a> {
    /// Just the fields, nothing else known (for the unit tests).
    #[must_use]
    pub fn new(fields: &'a ApplicantFields) -> Extracted<'a> {
        Extracted {
            fields,
            stated_email: None,
            applicant_email: None,
            unreadable_phone: None,
            unreadable_attendees: None,
        }
    }
}

/// The reasons the extracted values look doubtful, in words for staff
/// (`doubtful: phone "010-12-34" is not a phone number`); empty when none do.
#[must_use]
pub fn doubts(found: &Extracted<'_>) -> Vec<String> {
    let fields = found.fields;
    let mut out = Vec::new();
    match (&fields.phone, found.unreadable_phone) {
        (Some(phone), _) if normalize_phone(phone).is_none() => {
            out.push(format!("doubtful: phone \"{}\" is not a phone number", shown(phone)));
        }
        (None, Some(raw)) => out.push(format!("doubtful: phone \"{}\" is not a phone number", shown(raw))),
        _ => {}
    }
    if let Some(name) = &fields.name {
        if let Some(why) = name_doubt(name) {
            out.push(format!("doubtful: name \"{}\" {why}", shown(name)));
        }
    }
    if let Some(organization) = &fields.organization {
        if is_address(organization) {
            out.push(format!(
                "doubtful: organization \"{}\" is an email or web address, not a name",
                shown(organization)
            ));
        }
    }
    match (fields.attendees, found.unreadable_attendees) {
        (Some(n), _) if !(1..=MAX_ATTENDEES).contains(&n) => {
            out.push(format!("doubtful: attendees {n} is not a believable count (1–{MAX_ATTENDEES})"));
        }
        (None, Some(raw)) => {
            out.push(format!(
                "doubtful: attendees \"{}\" is not a usable count (1–{MAX_ATTENDEES}); counted as 1",
                shown(raw)
            ));
        }
        _ => {}
    }
    if let (Some(stated), Some(applicant)) = (found.stated_email, found.applicant_email) {
        if unrelated_addresses(stated, applicant.as_str()) {
            out.push(format!(
                "doubtful: the mail gives the email \"{}\", unrelated to the sender {applicant}; replies go to the sender",
                shown(stated)
            ));
        }
    }
    out
}

/// Why a name looks wrong, if it does.
fn name_doubt(name: &str) -> Option<&'static str> {
    if name.chars().count() > MAX_NAME_CHARS {
        Some("is too long for a name")
    } else if name.contains('@') || has_web_address(name) {
        Some("contains an email or web address")
    } else if name.chars().any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c)) {
        Some("contains digits")
    } else {
        None
    }
}

/// `http://…`, `https://…`, `www.…` anywhere in `text`.
fn has_web_address(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("http://") || lower.contains("https://") || lower.contains("www.")
}

/// A value that is nothing but one email or web address.
fn is_address(text: &str) -> bool {
    let text = text.trim();
    let one_token = !text.chars().any(char::is_whitespace);
    let email = one_token && EmailAddress::parse(text.trim_start_matches("mailto:")).is_ok();
    let lower = text.to_lowercase();
    let url = one_token && (lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www."));
    email || url
}

/// Whether two addresses share neither the mailbox name nor the domain (compared without
/// case).
fn unrelated_addresses(stated: &str, applicant: &str) -> bool {
    let split = |address: &str| {
        let lower = address.to_lowercase();
        let (local, domain) = lower.rsplit_once('@').unwrap_or((lower.as_str(), ""));
        (local.to_owned(), domain.to_owned())
    };
    let (stated_local, stated_domain) = split(stated);
    let (local, domain) = split(applicant);
    stated_local != local && stated_domain != domain
}

/// A value as quoted in a reason: at most 60 characters, so that a runaway value does not
/// swamp the review list.
fn shown(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        format!("{}…", value.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str, organization: &str, phone: Option<&str>, attendees: Option<u32>) -> ApplicantFields {
        ApplicantFields {
            name: Some(name.to_owned()),
            organization: Some(organization.to_owned()),
            position: None,
            phone: phone.map(str::to_owned),
            attendees,
        }
    }

    fn check(fields: &ApplicantFields) -> Vec<String> {
        doubts(&Extracted::new(fields))
    }

    #[test]
    fn an_ordinary_application_raises_no_doubt() {
        let plain = fields("김민준", "(주)한빛테크", Some("010-1234-5678"), Some(2));
        let applicant = EmailAddress::parse("minjun@hanbit.example").unwrap();
        let found = Extracted {
            fields: &plain,
            stated_email: Some("minjun.kim@hanbit.example"),
            applicant_email: Some(&applicant),
            ..Extracted::new(&plain)
        };
        assert_eq!(doubts(&found), Vec::<String>::new());
        assert!(check(&fields("Jane Doe", "Example Robotics Co., Ltd.", Some("02-555-1234"), None)).is_empty());
        assert!(check(&ApplicantFields::default()).is_empty(), "missing values are not doubtful");
    }

    #[test]
    fn a_labelled_phone_that_is_no_number_is_doubtful_unless_another_was_found() {
        let none = fields("김민준", "한빛테크", None, None);
        let found = Extracted { fields: &none, unreadable_phone: Some("010-12-34"), ..Extracted::new(&none) };
        assert_eq!(doubts(&found), ["doubtful: phone \"010-12-34\" is not a phone number"]);
        let other = fields("김민준", "한빛테크", Some("010-1234-5678"), None);
        let found = Extracted { fields: &other, unreadable_phone: Some("010-12-34"), ..Extracted::new(&other) };
        assert!(doubts(&found).is_empty());
    }

    #[test]
    fn stored_phones_of_no_valid_shape_are_doubtful() {
        assert_eq!(
            check(&fields("김민준", "한빛테크", Some("010-12-34"), None)),
            ["doubtful: phone \"010-12-34\" is not a phone number"]
        );
        assert_eq!(
            check(&fields("김민준", "한빛테크", Some("010-0000-0000"), None)),
            ["doubtful: phone \"010-0000-0000\" is not a phone number"]
        );
    }

    #[test]
    fn names_with_digits_addresses_or_sentences_are_doubtful() {
        let reason = |name: &str| check(&fields(name, "한빛테크", None, None));
        assert_eq!(reason("김민준2"), ["doubtful: name \"김민준2\" contains digits"]);
        assert_eq!(
            reason("minjun@hanbit.example"),
            ["doubtful: name \"minjun@hanbit.example\" contains an email or web address"]
        );
        assert_eq!(
            reason("www.hanbit.example"),
            ["doubtful: name \"www.hanbit.example\" contains an email or web address"]
        );
        let sentence = "워크숍에 참가하고 싶습니다 그런데 주차가 가능한지 궁금합니다 답변 부탁드립니다";
        assert_eq!(reason(sentence), [format!("doubtful: name \"{sentence}\" is too long for a name")]);
        assert!(reason("Maria de los Angeles Garcia").is_empty());
    }

    #[test]
    fn an_organization_that_is_only_an_address_is_doubtful() {
        let reason = |organization: &str| check(&fields("김민준", organization, None, None));
        assert_eq!(
            reason("info@hanbit.example"),
            ["doubtful: organization \"info@hanbit.example\" is an email or web address, not a name"]
        );
        assert_eq!(
            reason("https://hanbit.example"),
            ["doubtful: organization \"https://hanbit.example\" is an email or web address, not a name"]
        );
        assert!(reason("한빛테크 (www.hanbit.example)").is_empty(), "a name with its site is a name");
    }

    #[test]
    fn absurd_or_unusable_counts_are_doubtful() {
        assert_eq!(
            check(&fields("김민준", "한빛테크", None, Some(0))),
            ["doubtful: attendees 0 is not a believable count (1–50)"]
        );
        assert_eq!(
            check(&fields("김민준", "한빛테크", None, Some(51))),
            ["doubtful: attendees 51 is not a believable count (1–50)"]
        );
        assert!(check(&fields("김민준", "한빛테크", None, Some(50))).is_empty());
        let none = fields("김민준", "한빛테크", None, None);
        let found = Extracted { fields: &none, unreadable_attendees: Some("120명"), ..Extracted::new(&none) };
        assert_eq!(doubts(&found), ["doubtful: attendees \"120명\" is not a usable count (1–50); counted as 1"]);
    }

    #[test]
    fn only_an_unrelated_stated_email_is_doubtful() {
        let plain = fields("김민준", "한빛테크", None, None);
        let applicant = EmailAddress::parse("minjun@hanbit.example").unwrap();
        let with = |stated| {
            doubts(&Extracted {
                fields: &plain,
                stated_email: Some(stated),
                applicant_email: Some(&applicant),
                ..Extracted::new(&plain)
            })
        };
        assert!(with("Minjun@Hanbit.Example").is_empty(), "the same address");
        assert!(with("minjun@mail.example").is_empty(), "the same name elsewhere");
        assert!(with("office@hanbit.example").is_empty(), "the same domain");
        assert_eq!(
            with("seoyeon@daon.example"),
            ["doubtful: the mail gives the email \"seoyeon@daon.example\", unrelated to the sender minjun@hanbit.example; replies go to the sender"]
        );
    }

    #[test]
    fn runaway_values_are_shortened_in_reasons() {
        let long = "가".repeat(200);
        let reasons = check(&fields(&long, "한빛테크", None, None));
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].chars().count() < 120, "{}", reasons[0]);
    }
}
