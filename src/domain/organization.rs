//! What kind of organization an applicant comes from, for the statistics kept after personal
//! data is deleted (`smebridge purge`, `smebridge stats`). Worked out from the organization as
//! written and the address's domain, both deleted afterwards; the type is no personal data.
//!
//! The organization's name speaks first (`(주)`, `대학교`, `연구원`, `진흥원`, …), then the
//! domain (`.ac.kr` and `.edu`, `.re.kr`, `.go.kr` and `.or.kr`, `.co.kr`; an organization's own
//! domain is a company's, a free-mail one says nothing). Otherwise an organization that is named
//! is `other`, and without one the type is `unknown`.

use std::fmt;

/// An organization's kind. Stored in `purged_counts.organization_type`, whose `CHECK` lists
/// [`OrganizationType::as_str`] of every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrganizationType {
    Company,
    University,
    /// Research institutes (`연구원`, `연구소`, `.re.kr`).
    Research,
    /// Government, public agencies, foundations and associations.
    Public,
    /// Named, but none of the above could be told.
    Other,
    /// No organization, and an address that says nothing.
    Unknown,
}

impl OrganizationType {
    pub const ALL: [OrganizationType; 6] = [
        OrganizationType::Company,
        OrganizationType::University,
        OrganizationType::Research,
        OrganizationType::Public,
        OrganizationType::Other,
        OrganizationType::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationType::Company => "company",
            OrganizationType::University => "university",
            OrganizationType::Research => "research",
            OrganizationType::Public => "public",
            OrganizationType::Other => "other",
            OrganizationType::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<OrganizationType> {
        OrganizationType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// For staff: Korean, English in parentheses.
    pub fn words(self) -> &'static str {
        match self {
            OrganizationType::Company => "기업 (company)",
            OrganizationType::University => "대학 (university)",
            OrganizationType::Research => "연구기관 (research institute)",
            OrganizationType::Public => "공공·비영리 (public or non-profit)",
            OrganizationType::Other => "기타 (other)",
            OrganizationType::Unknown => "알 수 없음 (unknown)",
        }
    }
}

impl fmt::Display for OrganizationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Korean marks of each kind, found anywhere in the name (spaces removed).
const UNIVERSITY_KO: &[&str] = &["대학교", "대학원", "대학", "과학기술원", "산학협력단"];
const RESEARCH_KO: &[&str] = &["연구원", "연구소", "연구센터", "연구재단"];
const PUBLIC_KO: &[&str] =
    &["진흥원", "공단", "공사", "재단", "협회", "위원회", "시청", "구청", "도청", "군청", "지방자치단체", "정부"];
const COMPANY_KO: &[&str] = &["주식회사", "(주)", "㈜", "유한회사", "(유)", "합자회사", "주)"];
/// Latin words of each kind (whole words, lower case).
const UNIVERSITY_EN: &[&str] = &["university", "college", "kaist", "gist", "dgist", "unist", "postech"];
const RESEARCH_EN: &[&str] = &["institute", "research", "laboratory", "kist", "etri", "kitech", "keti"];
const PUBLIC_EN: &[&str] = &["ministry", "agency", "government", "foundation", "association", "council", "city"];
const COMPANY_EN: &[&str] =
    &["inc", "co", "ltd", "corp", "corporation", "llc", "gmbh", "plc", "company", "limited", "coltd"];
/// Free-mail providers: their domains tell nothing about the applicant's organization.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "kakao.com",
    "nate.com",
    "outlook.com",
    "outlook.kr",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.kr",
    "icloud.com",
    "me.com",
    "korea.com",
    "empal.com",
    "dreamwiz.com",
    "chol.com",
    "hanmir.com",
    "paran.com",
    "lycos.co.kr",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "zoho.com",
    "aol.com",
    "qq.com",
    "163.com",
];

/// The kind of organization of an applicant who named `organization` (if any) and writes from
/// `email`.
pub fn organization_type(organization: Option<&str>, email: &str) -> OrganizationType {
    let named = organization.map(str::trim).filter(|o| !o.is_empty());
    if let Some(kind) = named.and_then(by_name) {
        return kind;
    }
    if let Some(kind) = by_domain(email) {
        return kind;
    }
    if named.is_some() {
        OrganizationType::Other
    } else {
        OrganizationType::Unknown
    }
}

fn by_name(organization: &str) -> Option<OrganizationType> {
    let text: String = organization.chars().map(super::matching::to_halfwidth).collect::<String>().to_lowercase();
    let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let has = |ko: &[&str], en: &[&str]| {
        ko.iter().any(|mark| squashed.contains(mark)) || words.iter().any(|word| en.contains(word))
    };
    // A university's research institute is the university's; a public research institute is
    // research.
    [
        (OrganizationType::University, UNIVERSITY_KO, UNIVERSITY_EN),
        (OrganizationType::Research, RESEARCH_KO, RESEARCH_EN),
        (OrganizationType::Public, PUBLIC_KO, PUBLIC_EN),
        (OrganizationType::Company, COMPANY_KO, COMPANY_EN),
    ]
    .into_iter()
    .find(|(_, ko, en)| has(ko, en))
    .map(|(kind, _, _)| kind)
    .or_else(|| {
        // A name that ends in 청 or 부 is a government office (특허청, 중소벤처기업부).
        (squashed.ends_with('청') || squashed.ends_with("기업부") || squashed.ends_with("자원부"))
            .then_some(OrganizationType::Public)
    })
}

fn by_domain(email: &str) -> Option<OrganizationType> {
    let domain = email.rsplit_once('@')?.1.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || FREE_MAIL.contains(&domain.as_str()) {
        return None;
    }
    if domain == "korea.kr" {
        // The Korean government's shared mail domain.
        return Some(OrganizationType::Public);
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let second = labels.len().checked_sub(2).and_then(|i| labels.get(i)).copied().unwrap_or("");
    let last = labels.last().copied().unwrap_or("");
    Some(match (second, last) {
        ("ac", _) | (_, "edu") => OrganizationType::University,
        ("re", "kr") => OrganizationType::Research,
        ("go" | "or" | "mil", "kr") | (_, "gov" | "mil" | "org" | "int") => OrganizationType::Public,
        // An organization's own domain: nearly always a company's in this audience.
        _ => OrganizationType::Company,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrganizationType::*;

    #[test]
    fn the_name_tells_the_kind_first() {
        for (organization, email, kind) in [
            ("(주)한빛테크", "kim@gmail.com", Company),
            ("㈜ 다온소재", "lee@naver.com", Company),
            ("Acme Robotics Co., Ltd.", "jane@gmail.com", Company),
            ("KAIST", "park@gmail.com", University),
            ("한국과학기술원", "park@kaist.ac.kr", University),
            ("서울대학교 산학협력단", "choi@naver.com", University),
            ("한국전자통신연구원", "han@etri.re.kr", Research),
            ("ETRI", "han@gmail.com", Research),
            ("정보통신산업진흥원", "jung@nipa.kr", Public),
            ("특허청", "oh@korea.kr", Public),
            ("중소벤처기업부", "yoon@gmail.com", Public),
            ("Korea Institute of Science and Technology", "x@kist.re.kr", Research),
        ] {
            assert_eq!(organization_type(Some(organization), email), kind, "{organization} <{email}>");
        }
    }

    #[test]
    fn then_the_domain_and_a_free_mail_domain_says_nothing() {
        for (organization, email, kind) in [
            (None, "kim@hanbit-tech.co.kr", Company),
            (Some("다온소재"), "lee@daon.example", Company),
            (Some("Acme Robotics"), "jane@acme.example", Company),
            (None, "park@unist.ac.kr", University),
            (None, "x@mit.edu", University),
            (None, "y@kiost.re.kr", Research),
            (None, "z@mss.go.kr", Public),
            (None, "z@korea.kr", Public),
            (Some("한국발명진흥"), "z@kipa.or.kr", Public),
            (Some("다온소재"), "lee@naver.com", Other),
            (None, "lee@naver.com", Unknown),
            (Some("  "), "lee@Gmail.COM", Unknown),
            (None, "no-at-sign", Unknown),
        ] {
            assert_eq!(organization_type(organization, email), kind, "{organization:?} <{email}>");
        }
    }

    #[test]
    fn latin_marks_are_whole_words() {
        // "logistics" holds "gist", "corporate" holds "corp": neither is a mark.
        assert_eq!(organization_type(Some("Hanbit Logistics"), "a@gmail.com"), Other);
        assert_eq!(organization_type(Some("Corporate Partners"), "a@gmail.com"), Other);
        assert_eq!(organization_type(Some("Hanbit Corp."), "a@gmail.com"), Company);
    }

    #[test]
    fn every_type_reads_back() {
        for kind in OrganizationType::ALL {
            assert_eq!(OrganizationType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OrganizationType::parse("Company"), None);
    }
}
