//! Measures start/stop times: `cargo run -p mailstack --example timing`.
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    for _ in 0..3 {
        let t = Instant::now();
        let mut s = mailstack::MailStack::start()?;
        let up = t.elapsed();
        let t = Instant::now();
        s.stop_postfix()?;
        let pf = t.elapsed();
        let t = Instant::now();
        s.stop_dovecot()?;
        let dc = t.elapsed();
        let t = Instant::now();
        s.start_postfix()?;
        s.start_dovecot()?;
        let restart = t.elapsed();
        let t = Instant::now();
        drop(s);
        println!(
            "start {up:?}  stop postfix {pf:?}  stop dovecot {dc:?}  restart both {restart:?}  drop {:?}",
            t.elapsed()
        );
    }
    Ok(())
}
