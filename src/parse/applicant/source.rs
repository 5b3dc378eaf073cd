//! Where each of the applicant's fields was read, so that staff (and `smebridge parse`) can see
//! why a value is what it is: a label on line 4, a cell of an HTML table, an attached form, the
//! signature block, the sender's display name.
//!
//! Line numbers are 1-based lines of the text the value was read from: the body text as read
//! (what `smebridge parse` prints below the fields), also for an inline forward; for an attached
//! form or an attached mail, the lines of that attachment's text.

use std::fmt;

use serde::Serialize;

/// Where one field's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A `label: value` line, or a label alone on its line with the value below it; the label
    /// as written (`성 명`, `Tel`).
    Label { line: usize, label: String },
    /// A table row: the cell beside a label cell (`성명⇥김민준`), or under a header row of
    /// labels. `html` when the table was in the HTML body.
    TableCell { line: usize, label: String, html: bool },
    /// A numbered row of one person's details (`1. 김민준 / 한빛테크 / 팀장`).
    PersonRow { line: usize },
    /// Written with the value of another label (`성명: 김민준 (팀장)`, `소속: 한빛테크 / 팀장`,
    /// `성명: 김민준 외 1명`).
    WithLabel { line: usize, label: String },
    /// A value stated in a sentence (`휴대폰 번호가 010-…으로 바뀌었습니다`, `저 포함 3명
    /// 참석합니다`), see `sentences.rs`.
    Sentence { line: usize },
    /// The subject line, with the label when it had one (`성명: 김민준 / …`), see `subject.rs`.
    Subject { label: Option<String> },
    /// Typed into the center's form quoted below a reply: a line of the quote that differs from
    /// the announcement's (see `announcement.rs`).
    QuotedForm { within: Box<Source> },
    /// The number of people the mail names, when it states no count.
    PeopleList { count: usize },
    /// The signature block at the end of the applicant's text.
    Signature,
    /// The sender's display name (`From: "김민준 / 한빛테크" <…>`).
    DisplayName,
    /// The From address: the applicant's email.
    Sender,
    /// In a forwarded mail: inline in the body, or attached as message/rfc822 (`attached`).
    ForwardedMail { attached: bool, within: Box<Source> },
    /// In an attached application form (HWP, HWPX, DOCX, XLSX, PDF, text).
    Form { attachment: String, within: Box<Source> },
    /// Nothing states the number of attendees: the application counts as one.
    Default,
}

impl Source {
    /// The same place in a text that starts `by` lines further down (a forwarded body inside
    /// the body as read).
    #[must_use]
    pub fn shifted(self, by: usize) -> Source {
        match self {
            Source::Label { line, label } => Source::Label { line: line + by, label },
            Source::TableCell { line, label, html } => Source::TableCell { line: line + by, label, html },
            Source::PersonRow { line } => Source::PersonRow { line: line + by },
            Source::WithLabel { line, label } => Source::WithLabel { line: line + by, label },
            Source::Sentence { line } => Source::Sentence { line: line + by },
            Source::QuotedForm { within } => Source::QuotedForm { within: Box::new(within.shifted(by)) },
            other => other,
        }
    }

    /// The same place, known to be in a text converted from HTML: its tables were HTML tables.
    #[must_use]
    pub fn in_html(self) -> Source {
        match self {
            Source::TableCell { line, label, .. } => Source::TableCell { line, label, html: true },
            other => other,
        }
    }

    /// The same place inside a forwarded mail.
    #[must_use]
    pub fn forwarded(self, attached: bool) -> Source {
        Source::ForwardedMail { attached, within: Box::new(self) }
    }

    /// The same place inside the attached form `attachment`.
    #[must_use]
    pub fn in_form(self, attachment: &str) -> Source {
        Source::Form { attachment: attachment.to_owned(), within: Box::new(self) }
    }

    /// Whether the value was stated in the mail rather than guessed or assumed.
    #[must_use]
    pub fn is_stated(&self) -> bool {
        match self {
            Source::Signature | Source::DisplayName | Source::Sender | Source::Default => false,
            Source::ForwardedMail { within, .. } | Source::Form { within, .. } | Source::QuotedForm { within } => {
                within.is_stated()
            }
            _ => true,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Label { line, label } => write!(f, "line {line}, label '{label}'"),
            Source::TableCell { line, label, html: true } => write!(f, "HTML table, line {line}, cell '{label}'"),
            Source::TableCell { line, label, html: false } => write!(f, "table, line {line}, cell '{label}'"),
            Source::PersonRow { line } => write!(f, "numbered row of a person, line {line}"),
            Source::WithLabel { line, label } => write!(f, "line {line}, written with label '{label}'"),
            Source::Sentence { line } => write!(f, "sentence on line {line}"),
            Source::Subject { label: None } => f.write_str("subject line"),
            Source::Subject { label: Some(label) } => write!(f, "subject line, label '{label}'"),
            Source::QuotedForm { within } => write!(f, "typed into the quoted form, {within}"),
            Source::PeopleList { count } => write!(f, "the {count} people named"),
            Source::Signature => f.write_str("signature block"),
            Source::DisplayName => f.write_str("sender's display name"),
            Source::Sender => f.write_str("From address"),
            Source::ForwardedMail { attached: false, within } => write!(f, "forwarded mail, {within}"),
            Source::ForwardedMail { attached: true, within } => write!(f, "attached forwarded mail, {within}"),
            Source::Form { attachment, within } => write!(f, "attached form {attachment}, {within}"),
            Source::Default => f.write_str("default (1): no count stated"),
        }
    }
}

/// Where each of the applicant's fields came from; `None` where the field has no value.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldSources {
    pub name: Option<Source>,
    pub organization: Option<Source>,
    pub position: Option<Source>,
    pub phone: Option<Source>,
    /// The applicant's address: the From address, or the forwarded mail's sender.
    pub email: Option<Source>,
    /// An address the mail states under an email label (kept in `Inbound::stated_email`).
    pub stated_email: Option<Source>,
    pub attendees: Option<Source>,
}

impl FieldSources {
    /// Every source, each changed by `f`.
    #[must_use]
    pub fn map(self, f: impl Fn(Source) -> Source) -> FieldSources {
        FieldSources {
            name: self.name.map(&f),
            organization: self.organization.map(&f),
            position: self.position.map(&f),
            phone: self.phone.map(&f),
            email: self.email.map(&f),
            stated_email: self.stated_email.map(&f),
            attendees: self.attendees.map(&f),
        }
    }

    /// `self`'s sources, and `other`'s where `self` has none (the counterpart of merging the
    /// fields themselves, first statement wins).
    #[must_use]
    pub fn or(self, other: FieldSources) -> FieldSources {
        FieldSources {
            name: self.name.or(other.name),
            organization: self.organization.or(other.organization),
            position: self.position.or(other.position),
            phone: self.phone.or(other.phone),
            email: self.email.or(other.email),
            stated_email: self.stated_email.or(other.stated_email),
            attendees: self.attendees.or(other.attendees),
        }
    }

    /// Each field with its source, in the order staff read them.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&Source>)> {
        [
            ("name", self.name.as_ref()),
            ("organization", self.organization.as_ref()),
            ("position", self.position.as_ref()),
            ("phone", self.phone.as_ref()),
            ("email", self.email.as_ref()),
            ("stated_email", self.stated_email.as_ref()),
            ("attendees", self.attendees.as_ref()),
        ]
        .into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_as_staff_would_say_them() {
        let label = Source::Label { line: 4, label: "성 명".into() };
        assert_eq!(label.to_string(), "line 4, label '성 명'");
        let cell = Source::TableCell { line: 2, label: "소속".into(), html: false };
        assert_eq!(cell.clone().in_html().to_string(), "HTML table, line 2, cell '소속'");
        assert_eq!(cell.to_string(), "table, line 2, cell '소속'");
        assert_eq!(
            label.clone().in_form("신청서.hwpx").to_string(),
            "attached form 신청서.hwpx, line 4, label '성 명'"
        );
        assert_eq!(Source::Sender.forwarded(false).to_string(), "forwarded mail, From address");
        assert_eq!(Source::Signature.forwarded(true).to_string(), "attached forwarded mail, signature block");
        assert_eq!(Source::DisplayName.to_string(), "sender's display name");
        assert_eq!(Source::Default.to_string(), "default (1): no count stated");
        assert_eq!(Source::PeopleList { count: 3 }.to_string(), "the 3 people named");
        assert_eq!(Source::Subject { label: None }.to_string(), "subject line");
        let typed = Source::QuotedForm { within: Box::new(label.clone()) };
        assert_eq!(typed.to_string(), "typed into the quoted form, line 4, label '성 명'");
        assert!(typed.is_stated());
    }

    #[test]
    fn shifting_moves_only_line_numbers() {
        let moved = Source::Label { line: 2, label: "소속".into() }.shifted(10);
        assert_eq!(moved, Source::Label { line: 12, label: "소속".into() });
        assert_eq!(Source::Signature.shifted(10), Source::Signature);
        assert_eq!(Source::PeopleList { count: 2 }.shifted(10), Source::PeopleList { count: 2 });
    }

    #[test]
    fn stated_sources_are_told_from_guesses() {
        assert!(Source::Sentence { line: 1 }.is_stated());
        assert!(Source::Label { line: 1, label: "성명".into() }.forwarded(false).is_stated());
        assert!(!Source::Signature.in_form("a.docx").is_stated());
        assert!(!Source::DisplayName.is_stated());
        assert!(!Source::Default.is_stated());
    }
}
