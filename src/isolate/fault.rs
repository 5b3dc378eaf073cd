//! Faults on demand, for the tests that show that a message or a form cannot stop the desk
//! (`tests/desk/poison.rs`). Compiled only in debug builds (`cfg(debug_assertions)`, which is
//! what `cargo test` runs); in a release build these functions are empty and no variable is read.
//!
//! - `SMEBRIDGE_FAULT_ABORT_READING=TEXT`: reading a message whose raw bytes contain TEXT aborts
//!   the process (SIGABRT), as a parser does when an allocation fails. It fires wherever a
//!   message is read: the daemon's parse stage, and the trial child (`smebridge read-message`).
//! - `SMEBRIDGE_FAULT_FORM=hang|abort|memory`: the form-reading child (`smebridge read-form`)
//!   sleeps for an hour, aborts, or allocates memory until its limit stops it, before reading.

/// See the module docs.
pub fn reading(raw: &[u8]) {
    #[cfg(debug_assertions)]
    if let Some(needle) = std::env::var_os("SMEBRIDGE_FAULT_ABORT_READING") {
        let needle = needle.as_encoded_bytes();
        if !needle.is_empty() && raw.windows(needle.len()).any(|w| w == needle) {
            eprintln!("SMEBRIDGE_FAULT_ABORT_READING: aborting while reading a message");
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = raw;
}

/// See the module docs.
pub fn form() {
    #[cfg(debug_assertions)]
    match std::env::var("SMEBRIDGE_FAULT_FORM").as_deref() {
        Ok("hang") => std::thread::sleep(std::time::Duration::from_secs(3600)),
        Ok("abort") => std::process::abort(),
        Ok("memory") => {
            let mut held: Vec<Vec<u8>> = Vec::new();
            loop {
                // Touched, so that it is really used; the limit stops this with an abort.
                held.push(vec![1u8; 1 << 20]);
            }
        }
        _ => {}
    }
}
