//! Which messages one `UID FETCH` asks for: a pure function of their sizes.
//!
//! A fetched batch is held whole while it is recorded and read, so it is bounded twice: by
//! count ([`FETCH_BATCH`], which bounds the group commit and the per-message work) and by bytes
//! ([`FETCH_BATCH_BYTES`], which bounds the memory the raw messages take). The sizes are the
//! server's `RFC822.SIZE`, asked for before any message is downloaded.

/// Most messages one `UID FETCH` asks for.
pub const FETCH_BATCH: usize = 32;

/// Most bytes (by `RFC822.SIZE`) one `UID FETCH` asks for; a message larger than this is
/// fetched on its own.
pub const FETCH_BATCH_BYTES: u64 = 16 << 20;

/// Cut `sizes` (UID and size, in the order they are to be read) into batches of at most
/// `max_count` messages and `max_bytes` bytes, in the same order. A message larger than
/// `max_bytes` makes a batch of its own. Every UID is in exactly one batch.
pub fn batches(sizes: &[(u32, u64)], max_count: usize, max_bytes: u64) -> Vec<Vec<u32>> {
    let max_count = max_count.max(1);
    let mut batches = Vec::new();
    let mut batch: Vec<u32> = Vec::new();
    let mut bytes: u64 = 0;
    for &(uid, size) in sizes {
        let full = batch.len() >= max_count || bytes.checked_add(size).is_none_or(|total| total > max_bytes);
        if full && !batch.is_empty() {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        batch.push(uid);
        bytes = bytes.saturating_add(size);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn small_messages_go_in_batches_of_the_count() {
        let sizes: Vec<(u32, u64)> = (1..=70).map(|uid| (uid, 10_000)).collect();
        let cut = batches(&sizes, 32, 16 * MIB);
        assert_eq!(cut.iter().map(Vec::len).collect::<Vec<_>>(), [32, 32, 6]);
        assert_eq!(cut.concat(), (1..=70).collect::<Vec<u32>>(), "every UID once, in order");
    }

    #[test]
    fn a_batch_stops_before_the_message_that_would_take_it_past_the_bytes() {
        let sizes = [(1, 6 * MIB), (2, 6 * MIB), (3, 6 * MIB), (4, MIB), (5, 4 * MIB)];
        assert_eq!(batches(&sizes, 32, 16 * MIB), [vec![1, 2], vec![3, 4, 5]]);
    }

    #[test]
    fn a_message_larger_than_the_bytes_is_fetched_alone() {
        let sizes = [(1, 1000), (2, 38 * MIB), (3, 1000), (4, 17 * MIB), (5, 17 * MIB), (6, 1000)];
        assert_eq!(batches(&sizes, 32, 16 * MIB), [vec![1], vec![2], vec![3], vec![4], vec![5], vec![6]]);
    }

    #[test]
    fn exactly_the_bytes_fit_and_one_more_does_not() {
        assert_eq!(batches(&[(1, 8 * MIB), (2, 8 * MIB)], 32, 16 * MIB), [vec![1, 2]]);
        assert_eq!(batches(&[(1, 8 * MIB), (2, 8 * MIB + 1)], 32, 16 * MIB), [vec![1], vec![2]]);
        assert_eq!(batches(&[(1, 16 * MIB)], 32, 16 * MIB), [vec![1]]);
    }

    #[test]
    fn nothing_in_nothing_out_and_zero_limits_still_move() {
        assert!(batches(&[], 32, 16 * MIB).is_empty());
        assert_eq!(batches(&[(1, 5), (2, 5)], 0, 0), [vec![1], vec![2]]);
        assert_eq!(batches(&[(1, 0), (2, 0), (3, 0)], 2, 0), [vec![1, 2], vec![3]]);
        assert_eq!(batches(&[(1, u64::MAX), (2, u64::MAX)], 32, u64::MAX), [vec![1], vec![2]]);
    }
}
