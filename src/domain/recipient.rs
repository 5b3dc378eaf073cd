//! Who a reply goes to.
//!
//! The policy keeps two promises at once: **the person who applied learns the outcome**, and
//! **no one else can be made a target** of the desk's mail. A reply goes to the applicant — the
//! original sender of a forwarded application, otherwise the `From` — and only there. A
//! `Reply-To` naming anyone else is not mailed: the sender chose it freely, so honouring it would
//! let anyone aim acknowledgements at a third party (ten applicants naming one address in
//! `Reply-To` gave it ten mails and the applicants none) while the applicant heard nothing.
//! Staff get a note instead, so a person can decide. Every reply still counts against the
//! once-per-event rule and the per-address daily cap of its one recipient.

use super::EmailAddress;

/// Where the reply to a mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyAddress<'a> {
    /// The applicant: the only recipient.
    pub to: &'a EmailAddress,
    /// A `Reply-To` that named someone else; not mailed, shown to staff ([`ReplyAddress::note`]).
    pub ignored_reply_to: Option<&'a EmailAddress>,
}

impl ReplyAddress<'_> {
    /// What staff are told when a `Reply-To` was not followed.
    pub fn note(&self) -> Option<String> {
        self.ignored_reply_to.map(|other| {
            format!("Reply-To names another address ({other}): the reply went to the sender ({}) only", self.to)
        })
    }
}

/// The reply's address for a mail from `from` (the `From` header), which forwards an application
/// from `forwarded_from` if set, and asks for replies at `reply_to`. `None`: nobody to answer.
pub fn reply_address<'a>(
    from: Option<&'a EmailAddress>,
    forwarded_from: Option<&'a EmailAddress>,
    reply_to: Option<&'a EmailAddress>,
) -> Option<ReplyAddress<'a>> {
    let to = forwarded_from.or(from)?;
    // A Reply-To that is the applicant, or the person forwarding, names no one new.
    let ignored_reply_to = reply_to.filter(|r| *r != to && Some(*r) != from);
    Some(ReplyAddress { to, ignored_reply_to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn the_reply_goes_to_the_sender_never_to_a_reply_to_naming_someone_else() {
        let (kim, third) = (a("kim@hanbit.example"), a("victim@third.example"));
        let got = reply_address(Some(&kim), None, Some(&third)).unwrap();
        assert_eq!(got.to, &kim);
        assert_eq!(got.ignored_reply_to, Some(&third));
        let note = got.note().unwrap();
        assert!(note.contains("victim@third.example") && note.contains("kim@hanbit.example"), "{note}");
    }

    #[test]
    fn a_reply_to_that_is_the_sender_is_no_news() {
        let kim = a("kim@hanbit.example");
        let same = a("Kim@Hanbit.Example");
        let got = reply_address(Some(&kim), None, Some(&same)).unwrap();
        assert_eq!((got.to, got.ignored_reply_to, got.note()), (&kim, None, None));
        let got = reply_address(Some(&kim), None, None).unwrap();
        assert_eq!((got.to, got.note()), (&kim, None));
    }

    #[test]
    fn a_forwarded_application_is_answered_to_its_original_sender() {
        let (assistant, applicant, third) = (a("desk@hanbit.example"), a("kim@hanbit.example"), a("x@third.example"));
        let got = reply_address(Some(&assistant), Some(&applicant), None).unwrap();
        assert_eq!((got.to, got.ignored_reply_to), (&applicant, None));
        // The forwarder's own Reply-To (itself) is no third party; another one is.
        let got = reply_address(Some(&assistant), Some(&applicant), Some(&assistant)).unwrap();
        assert_eq!((got.to, got.ignored_reply_to), (&applicant, None));
        let got = reply_address(Some(&assistant), Some(&applicant), Some(&third)).unwrap();
        assert_eq!((got.to, got.ignored_reply_to), (&applicant, Some(&third)));
    }

    #[test]
    fn without_a_sender_nobody_is_answered_whatever_the_reply_to_says() {
        let third = a("victim@third.example");
        assert_eq!(reply_address(None, None, Some(&third)), None);
        assert_eq!(reply_address(None, None, None), None);
    }
}
