//! `[retention]`: how long applicants' personal data is kept (Korea's Personal Information
//! Protection Act: only as long as the purpose needs). `delete_personal_data_after = "90d"`,
//! counted in days from the day of the event (`[event] starts_at`, in the event's time zone).
//! Every acknowledgement's privacy notice states it (`crate::reply`), and `smebridge check` fails
//! when the notice does not.

use anyhow::{bail, Context, Result};
use jiff::civil::Date;
use serde::Deserialize;

/// `[retention]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    delete_personal_data_after: Option<String>,
}

/// How long personal data is kept after the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days after the event's day.
    pub days: u32,
}

impl Retention {
    /// Ten years: anything longer is a typo, not a retention period.
    pub const MAX_DAYS: u32 = 3650;

    /// `None` when `[retention]` sets nothing.
    pub(super) fn from_raw(raw: RawRetention) -> Result<Option<Retention>> {
        raw.delete_personal_data_after.as_deref().map(|text| Retention::parse(text.trim())).transpose()
    }

    fn parse(text: &str) -> Result<Retention> {
        const KEY: &str = "retention.delete_personal_data_after";
        let days: u32 = text
            .strip_suffix('d')
            .and_then(|n| n.trim().parse().ok())
            .with_context(|| format!("{KEY} {text:?} is not a number of days like \"90d\""))?;
        if days == 0 || days > Retention::MAX_DAYS {
            bail!("{KEY} must be between 1 and {} days (\"90d\"), not {text:?}", Retention::MAX_DAYS);
        }
        Ok(Retention { days })
    }

    /// The last day personal data of an event held on `event_day` is kept.
    pub fn kept_until(&self, event_day: Date) -> Result<Date> {
        event_day
            .checked_add(jiff::Span::new().days(i64::from(self.days)))
            .context("the end of retention is out of range")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_period_is_a_number_of_days() {
        assert_eq!(Retention::parse("90d").unwrap(), Retention { days: 90 });
        assert_eq!(Retention::parse("1d").unwrap(), Retention { days: 1 });
        for bad in ["90", "3 months", "0d", "-5d", "3651d", "d", "90days"] {
            let err = Retention::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("retention.delete_personal_data_after"), "{bad}: {err}");
        }
        assert_eq!(Retention::from_raw(RawRetention::default()).unwrap(), None);
        let event_day = jiff::civil::date(2022, 11, 18);
        assert_eq!(Retention { days: 90 }.kept_until(event_day).unwrap(), jiff::civil::date(2023, 2, 16));
    }
}
