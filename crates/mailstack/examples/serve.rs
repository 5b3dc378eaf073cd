//! Runs a stack until interrupted, for poking at it by hand:
//! `cargo run -p mailstack --example serve [DIR]`.
//!
//! Without DIR a temporary directory is used. On Ctrl-C the watchdogs kill
//! both servers and remove the temporary directory (a DIR is kept).

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let stack = match std::env::args_os().nth(1) {
        Some(dir) => mailstack::MailStack::start_in(&PathBuf::from(dir))?,
        None => mailstack::MailStack::start()?,
    };
    println!("dir:  {}", stack.dir().display());
    println!("imap: {}:{} (any user, password {:?})", stack.host(), stack.imap_port(), mailstack::PASSWORD);
    println!("smtp: {}:{}", stack.host(), stack.smtp_port());
    println!("Press Ctrl-C to stop.");
    loop {
        std::thread::park();
    }
}
