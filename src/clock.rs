//! The time the daemon acts on. Normally the system clock; tests (and staff rehearsing a day)
//! may start it at another moment with `SMEBRIDGE_CLOCK_START=2022-11-16T08:29:58+09:00`, after
//! which it runs at normal speed. Only scheduling reads it (the daily summary and the reports);
//! whether a mail is late is always judged on its arrival time at the server.

use std::sync::OnceLock;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

/// The environment variable that starts the clock elsewhere.
pub const CLOCK_START_ENV: &str = "SMEBRIDGE_CLOCK_START";

static START: OnceLock<Option<(Timestamp, Instant)>> = OnceLock::new();

/// Now, on the daemon's clock.
pub fn now() -> Timestamp {
    let start = START.get_or_init(|| {
        let value = std::env::var(CLOCK_START_ENV).ok()?;
        let at = value.parse::<Timestamp>().ok()?;
        tracing::warn!(start = %at, "the clock is started at {CLOCK_START_ENV}, not the system time");
        Some((at, Instant::now()))
    });
    match start {
        Some((at, since)) => {
            let elapsed = SignedDuration::try_from(since.elapsed()).unwrap_or(SignedDuration::ZERO);
            at.saturating_add(elapsed).unwrap_or(*at)
        }
        None => Timestamp::now(),
    }
}
