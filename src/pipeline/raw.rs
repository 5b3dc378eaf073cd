//! A message's raw bytes, left with whatever received them.

use std::fmt;
use std::ops::Deref;

/// The raw bytes of a message, owned by what received them: the IMAP response that carried a
/// fetched message (so that no copy of it is made), or a plain buffer.
pub struct Raw(Box<dyn AsRef<[u8]> + Send + Sync>);

impl Raw {
    pub fn new(owner: impl AsRef<[u8]> + Send + Sync + 'static) -> Raw {
        Raw(Box::new(owner))
    }
}

impl Deref for Raw {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl From<Vec<u8>> for Raw {
    fn from(bytes: Vec<u8>) -> Raw {
        Raw::new(bytes)
    }
}

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Raw({} bytes)", self.len())
    }
}
