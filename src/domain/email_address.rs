use std::fmt;

use anyhow::{anyhow, Result};

/// An email address that has been checked. The domain is lower-cased, and so is the local part:
/// applicants are matched by address, and no mail system the center deals with treats
/// `Kim@` and `kim@` as different people.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parse a bare address (`user@example.org`, optionally in angle brackets).
    pub fn parse(input: &str) -> Result<EmailAddress> {
        let trimmed = input.trim().trim_start_matches('<').trim_end_matches('>').trim();
        let address: lettre::Address =
            trimmed.parse().map_err(|e| anyhow!("{trimmed:?} is not an email address ({e})"))?;
        Ok(EmailAddress::from_lettre(&address))
    }

    pub fn from_lettre(address: &lettre::Address) -> EmailAddress {
        EmailAddress(format!("{}@{}", address.user(), address.domain()).to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(local, _)| local).unwrap_or(&self.0)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, domain)| domain).unwrap_or("")
    }

    /// The same mailbox as `other`, a `+tag` after either local part aside
    /// (`smebridge+ws-2211@kaist.ac.kr` is the center's own address).
    pub fn same_mailbox(&self, other: &EmailAddress) -> bool {
        let base = |a: &EmailAddress| -> (String, String) {
            let local = a.local_part();
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            (local.to_owned(), a.domain().to_owned())
        };
        self == other || base(self) == base(other)
    }

    pub fn to_lettre(&self) -> lettre::Address {
        // Every EmailAddress was built from a lettre::Address, and lower-casing keeps it valid.
        lettre::Address::new(self.local_part(), self.domain())
            .unwrap_or_else(|_| lettre::Address::new_dangerous(self.local_part(), self.domain()))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// As its text; read back through [`EmailAddress::parse`] (a message read in a child process
/// comes back this way, and nothing unchecked gets past the edge).
impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<EmailAddress, D::Error> {
        let text = String::deserialize(deserializer)?;
        EmailAddress::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lowercased() {
        let a = EmailAddress::parse(" <Kim.MinJun@Hanbit-Tech.Example> ").unwrap();
        assert_eq!(a.as_str(), "kim.minjun@hanbit-tech.example");
        assert_eq!(a.local_part(), "kim.minjun");
        assert_eq!(a.domain(), "hanbit-tech.example");
    }

    #[test]
    fn an_address_reads_back_as_itself_and_garbage_does_not_read() {
        let a = EmailAddress::parse("Kim@Hanbit-Tech.Example").unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"kim@hanbit-tech.example\"");
        assert_eq!(serde_json::from_str::<EmailAddress>(&json).unwrap(), a);
        assert!(serde_json::from_str::<EmailAddress>("\"not an address\"").is_err());
    }

    #[test]
    fn garbage_is_refused() {
        for bad in ["", "kim", "kim@", "@example.org", "kim@@example.org", "a b@example.org"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
