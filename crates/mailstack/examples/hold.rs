fn main() -> anyhow::Result<()> {
    let s = mailstack::MailStack::start()?;
    println!("{}", s.dir().display());
    std::thread::sleep(std::time::Duration::from_secs(600));
    Ok(())
}
