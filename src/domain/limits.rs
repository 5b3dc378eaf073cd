//! Reply rate limits (RFC 3834 §2, RFC 5230 `:days`): however the inbound mail behaves, one
//! address gets at most a few replies a day, and the desk sends at most so many an hour in all.

use std::time::Duration;

/// The configured caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    pub per_sender_per_day: u32,
    pub per_hour: u32,
}

/// Replies already sent in the windows that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentCounts {
    /// To this recipient in the last 24 hours.
    pub to_recipient_24h: u32,
    /// To anyone in the last hour.
    pub total_1h: u32,
}

/// `None`: send now. `Some(wait)`: hold the reply that long and try again.
pub fn rate_limit_wait(limits: ReplyLimits, sent: SentCounts) -> Option<Duration> {
    if sent.to_recipient_24h >= limits.per_sender_per_day {
        return Some(Duration::from_secs(3600));
    }
    if sent.total_1h >= limits.per_hour {
        return Some(Duration::from_secs(300));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_sender_and_in_all() {
        let limits = ReplyLimits { per_sender_per_day: 3, per_hour: 100 };
        assert_eq!(rate_limit_wait(limits, SentCounts { to_recipient_24h: 2, total_1h: 99 }), None);
        assert!(rate_limit_wait(limits, SentCounts { to_recipient_24h: 3, total_1h: 0 }).is_some());
        assert!(rate_limit_wait(limits, SentCounts { to_recipient_24h: 0, total_1h: 100 }).is_some());
    }
}
