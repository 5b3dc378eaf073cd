//! The access token in memory: handed out while fresh, fetched anew a little before it expires,
//! and replaced when a server refused it. One fetch at a time: IMAP and SMTP asking together
//! make one refresh, not two.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::TokenError;
use crate::config::Secret;

/// Assumed lifetime of a token whose endpoint did not say (`expires_in` is only RECOMMENDED).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// A token is refreshed at most this long before it expires…
const MAX_MARGIN: Duration = Duration::from_secs(60);

/// …or a fifth of its lifetime before, for short-lived ones.
pub(super) fn refresh_at(obtained: Instant, lifetime: Option<Duration>) -> Instant {
    let lifetime = lifetime.unwrap_or(DEFAULT_LIFETIME);
    obtained + lifetime - (lifetime / 5).min(MAX_MARGIN)
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

#[derive(Default)]
pub(super) struct Cache {
    slot: Mutex<Option<Cached>>,
}

impl Cache {
    /// The cached token while fresh; else the one `fetch` gets (with its lifetime, if known).
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<Secret, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Option<Duration>), TokenError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(cached.token.clone());
        }
        Self::fill(&mut slot, fetch).await
    }

    /// A server refused `rejected`: fetch a new token — unless another connection already
    /// replaced it, in which case that one is handed out.
    pub async fn renew<F, Fut>(&self, rejected: &Secret, fetch: F) -> Result<Secret, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Option<Duration>), TokenError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref().filter(|c| c.token != *rejected && Instant::now() < c.refresh_at) {
            return Ok(cached.token.clone());
        }
        *slot = None;
        Self::fill(&mut slot, fetch).await
    }

    async fn fill<F, Fut>(slot: &mut Option<Cached>, fetch: F) -> Result<Secret, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Option<Duration>), TokenError>>,
    {
        let asked = Instant::now();
        *slot = None;
        let (token, lifetime) = fetch().await?;
        *slot = Some(Cached { token: token.clone(), refresh_at: refresh_at(asked, lifetime) });
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fetch that counts and hands out `token-N` valid for `lifetime`.
    async fn counting(n: &AtomicUsize, lifetime: u64) -> Result<(Secret, Option<Duration>), TokenError> {
        let i = n.fetch_add(1, Ordering::SeqCst) + 1;
        Ok((Secret::new(format!("token-{i}")), Some(Duration::from_secs(lifetime))))
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_is_reused_while_fresh_and_refreshed_before_it_expires() {
        let cache = Cache::default();
        let n = AtomicUsize::new(0);
        assert_eq!(cache.get(|| counting(&n, 3600)).await.unwrap().expose(), "token-1");
        tokio::time::advance(Duration::from_secs(3500)).await;
        assert_eq!(cache.get(|| counting(&n, 3600)).await.unwrap().expose(), "token-1");
        // Within the last minute of its hour: a new one, before the server would refuse it.
        tokio::time::advance(Duration::from_secs(41)).await;
        assert_eq!(cache.get(|| counting(&n, 3600)).await.unwrap().expose(), "token-2");
        assert_eq!(n.load(Ordering::SeqCst), 2);

        // A short-lived token is refreshed after four fifths of its life, not a minute before.
        let short = Cache::default();
        let m = AtomicUsize::new(0);
        short.get(|| counting(&m, 10)).await.unwrap();
        tokio::time::advance(Duration::from_millis(7_900)).await;
        assert_eq!(short.get(|| counting(&m, 10)).await.unwrap().expose(), "token-1");
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(short.get(|| counting(&m, 10)).await.unwrap().expose(), "token-2");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_token_is_replaced_once_even_when_two_connections_report_it() {
        let cache = Cache::default();
        let n = AtomicUsize::new(0);
        let first = cache.get(|| counting(&n, 3600)).await.unwrap();
        let renewed = cache.renew(&first, || counting(&n, 3600)).await.unwrap();
        assert_eq!(renewed.expose(), "token-2");
        // The second connection that saw token-1 refused gets token-2, no third fetch.
        assert_eq!(cache.renew(&first, || counting(&n, 3600)).await.unwrap().expose(), "token-2");
        assert_eq!(n.load(Ordering::SeqCst), 2);
        // A failed fetch leaves nothing cached.
        let failed = cache.renew(&renewed, || async { Err(TokenError::Unavailable("down".into())) }).await;
        assert!(failed.is_err());
        assert_eq!(cache.get(|| counting(&n, 3600)).await.unwrap().expose(), "token-3");
    }
}
