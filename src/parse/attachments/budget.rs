//! What reading one attachment may inflate: a [`Budget`] of bytes, spent while inflating, so a
//! bomb stops at the limit without the memory being allocated, and the bounded inflaters that
//! spend it (HWP sections, PDF streams).

use flate2::{Decompress, FlushDecompress, Status};

use super::ExtractError;
use super::ExtractError::{Broken, TooLarge};

/// Most bytes of one decompressed part kept in memory at once (an XML part, an HWP section, a
/// PDF content stream or object stream); [`Limits::max_decompressed_bytes`] bounds what is
/// inflated in all, counted and mostly thrown away. A larger part is [`ExtractError::TooLarge`].
pub(super) const MAX_KEPT_BYTES: usize = 16 << 20;

/// What is left of [`Limits::max_decompressed_bytes`].
pub(super) struct Budget {
    pub(super) left: u64,
}

impl Budget {
    pub(super) fn left_usize(&self) -> usize {
        usize::try_from(self.left).unwrap_or(usize::MAX)
    }

    pub(super) fn spend(&mut self, bytes: u64) -> Result<(), ExtractError> {
        self.left = self.left.checked_sub(bytes).ok_or(TooLarge)?;
        Ok(())
    }
}

/// Inflates zlib (`zlib_header`) or raw deflate data, spending the budget as it goes. Data that
/// ends early gives what was inflated so far.
pub(super) fn inflate(data: &[u8], zlib_header: bool, budget: &mut Budget) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut over = false;
    inflate_each(data, zlib_header, budget, |chunk| {
        over |= out.len() + chunk.len() > MAX_KEPT_BYTES;
        if !over {
            out.extend_from_slice(chunk);
        }
    })?;
    if over {
        return Err(TooLarge);
    }
    Ok(out)
}

/// Inflates `data`, handing each piece of output to `sink`; returns the number of input bytes
/// used. Errors in the data end the stream quietly after what was good (`Ok`), unless nothing at
/// all could be inflated (`Broken`).
pub(super) fn inflate_each(
    data: &[u8],
    zlib_header: bool,
    budget: &mut Budget,
    mut sink: impl FnMut(&[u8]),
) -> Result<usize, ExtractError> {
    let mut inflater = Decompress::new(zlib_header);
    let mut chunk = vec![0u8; 32 * 1024];
    loop {
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let input = data.get(usize::try_from(in_before).unwrap_or(usize::MAX)..).unwrap_or_default();
        let status = match inflater.decompress(input, &mut chunk, FlushDecompress::None) {
            Ok(status) => status,
            Err(e) if out_before == 0 => return Err(Broken(format!("bad compressed data: {e}"))),
            Err(_) => return Ok(in_before as usize),
        };
        let produced = (inflater.total_out() - out_before) as usize;
        budget.spend(produced as u64)?;
        sink(&chunk[..produced]);
        let stalled = produced == 0 && inflater.total_in() == in_before;
        if status == Status::StreamEnd || stalled {
            return Ok(inflater.total_in() as usize);
        }
    }
}
