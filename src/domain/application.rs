use std::fmt;

use serde::Serialize;

/// Where an application stands. The strings are what staff see in exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Accepted,
    Late,
    Cancelled,
    Waitlisted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Late => "late",
            Status::Cancelled => "cancelled",
            Status::Waitlisted => "waitlisted",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "accepted" => Status::Accepted,
            "late" => Status::Late,
            "cancelled" => Status::Cancelled,
            "waitlisted" => Status::Waitlisted,
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an applicant told us about themselves. `None` means "not found in the mail".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ApplicantFields {
    pub name: Option<String>,
    pub organization: Option<String>,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub attendees: Option<u32>,
}

/// One field that a later mail changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub field: &'static str,
    pub before: Option<String>,
    pub after: String,
}

impl ApplicantFields {
    /// Apply a later mail's fields on top of these: what the later mail states wins, what it
    /// leaves out is kept. Returns the merged fields and the list of real changes.
    pub fn merged_with(&self, later: &ApplicantFields) -> (ApplicantFields, Vec<Change>) {
        let mut merged = self.clone();
        let mut changes = Vec::new();
        merge_text("name", &mut merged.name, &later.name, &mut changes);
        merge_text("organization", &mut merged.organization, &later.organization, &mut changes);
        merge_text("position", &mut merged.position, &later.position, &mut changes);
        merge_text("phone", &mut merged.phone, &later.phone, &mut changes);
        if let Some(n) = later.attendees {
            if merged.attendees != Some(n) {
                changes.push(Change {
                    field: "attendees",
                    before: merged.attendees.map(|a| a.to_string()),
                    after: n.to_string(),
                });
                merged.attendees = Some(n);
            }
        }
        (merged, changes)
    }

    /// The fields an application needs before staff can rely on it, by name.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.name.is_none() {
            missing.push("name");
        }
        if self.organization.is_none() {
            missing.push("organization");
        }
        if self.phone.is_none() {
            missing.push("phone");
        }
        missing
    }
}

fn merge_text(field: &'static str, current: &mut Option<String>, later: &Option<String>, changes: &mut Vec<Change>) {
    if let Some(value) = later {
        if current.as_deref() != Some(value.as_str()) {
            changes.push(Change { field, before: current.clone(), after: value.clone() });
            *current = Some(value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str, org: Option<&str>, phone: Option<&str>) -> ApplicantFields {
        ApplicantFields {
            name: Some(name.into()),
            organization: org.map(Into::into),
            phone: phone.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn a_later_mail_changes_only_what_it_states() {
        let first = fields("김민준", Some("한빛테크"), Some("010-1234-5678"));
        let later = ApplicantFields { phone: Some("010-9999-0000".into()), attendees: Some(2), ..Default::default() };
        let (merged, changes) = first.merged_with(&later);
        assert_eq!(merged.name.as_deref(), Some("김민준"));
        assert_eq!(merged.phone.as_deref(), Some("010-9999-0000"));
        assert_eq!(merged.attendees, Some(2));
        let names: Vec<_> = changes.iter().map(|c| c.field).collect();
        assert_eq!(names, ["phone", "attendees"]);
        assert_eq!(changes[0].before.as_deref(), Some("010-1234-5678"));
    }

    #[test]
    fn restating_the_same_values_is_no_change() {
        let first = fields("김민준", Some("한빛테크"), None);
        let (_, changes) = first.merged_with(&first.clone());
        assert!(changes.is_empty());
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(fields("김민준", None, None).missing(), ["organization", "phone"]);
        assert!(fields("김민준", Some("한빛테크"), Some("02-555-1234")).missing().is_empty());
    }

    #[test]
    fn status_strings_round_trip() {
        for s in [Status::Accepted, Status::Late, Status::Cancelled, Status::Waitlisted] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("pending"), None);
    }
}
