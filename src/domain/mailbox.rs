//! What a `SELECT` says about the mailbox compared with what was remembered: the pure rule
//! behind rescanning a renumbered mailbox and telling staff (`Store::note_selected`).

/// What a `SELECT` says about the mailbox, compared with what was remembered from before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxChange {
    /// Nothing unusual (or nothing remembered yet: the first look at this mailbox).
    None,
    /// A new UIDVALIDITY: the server renumbered the mailbox (recreated, restored, migrated). Every
    /// UID recorded before is meaningless now.
    UidvalidityChanged { old: u32, new: u32 },
    /// Same UIDVALIDITY but a smaller UIDNEXT than seen before. RFC 3501 forbids it; it happens
    /// when a server restores a mailbox from a backup without changing UIDVALIDITY, and then
    /// UIDs may be reused for other messages: the UIDs recorded before cannot be trusted.
    UidnextBackwards { old: u32, new: u32 },
}

/// Classify a `SELECT` against the remembered (UIDVALIDITY, UIDNEXT) of the same mailbox.
/// Either anomaly means the mailbox must be rescanned as if never seen; known messages are
/// then recognised by the SHA-256 of their bytes.
pub fn classify_mailbox(
    old_uidvalidity: Option<u32>,
    old_uid_next: Option<u32>,
    new_uidvalidity: u32,
    new_uid_next: Option<u32>,
) -> MailboxChange {
    match old_uidvalidity {
        None => MailboxChange::None,
        Some(old) if old != new_uidvalidity => MailboxChange::UidvalidityChanged { old, new: new_uidvalidity },
        Some(_) => match (old_uid_next, new_uid_next) {
            (Some(old), Some(new)) if new < old => MailboxChange::UidnextBackwards { old, new },
            _ => MailboxChange::None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renumbered_mailbox_is_told_apart_from_an_ordinary_one() {
        use MailboxChange as C;
        assert_eq!(classify_mailbox(None, None, 7, Some(10)), C::None, "first look: nothing to compare");
        assert_eq!(classify_mailbox(Some(7), Some(10), 7, Some(10)), C::None);
        assert_eq!(classify_mailbox(Some(7), Some(10), 7, Some(15)), C::None, "new mail moves UIDNEXT up");
        assert_eq!(classify_mailbox(Some(7), Some(10), 8, Some(3)), C::UidvalidityChanged { old: 7, new: 8 });
        assert_eq!(
            classify_mailbox(Some(7), Some(10), 8, Some(30)),
            C::UidvalidityChanged { old: 7, new: 8 },
            "a new UIDVALIDITY wins whatever UIDNEXT does"
        );
        assert_eq!(classify_mailbox(Some(7), Some(10), 7, Some(9)), C::UidnextBackwards { old: 10, new: 9 });
        assert_eq!(classify_mailbox(Some(7), None, 7, Some(1)), C::None, "nothing remembered to compare");
        assert_eq!(classify_mailbox(Some(7), Some(10), 7, None), C::None, "the server did not say");
    }
}
