//! The smebridge configuration for a desk on a [`MailStack`]: the one file the end-to-end tests
//! (`tests/desk/helpers`), the benchmark (`crates/bench`) and the demo (`examples/demo.rs`) all
//! write, each with its own changes on top, so that the three cannot drift apart.
//!
//! ```no_run
//! # fn demo() -> anyhow::Result<()> {
//! use std::path::Path;
//! use mailstack::{desk::DeskConfig, MailStack};
//!
//! let stack = MailStack::start()?;
//! let dir = tempfile::tempdir()?;
//! let config = DeskConfig::new(&stack, "2099-12-31T23:59:59+09:00", Path::new("config/templates"))?
//!     .for_tests()
//!     .set("event", "capacity = 2")
//!     .write(dir.path())?;
//! # Ok(()) }
//! ```
//!
//! The text is plain TOML, one `key = value` line per setting under its `[section]`, so that a
//! test can still edit the file as text (point a port elsewhere, misspell a key).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{MailStack, PASSWORD};

/// The center's address: the mailbox smebridge reads, and the `From:` of its replies.
pub const CENTER: &str = "smebridge@kaist.ac.kr";

/// The staff address of the tests and the benchmark (`[staff] recipients`).
pub const STAFF: &str = "staff@kaist.ac.kr";

/// A smebridge configuration pointed at a [`MailStack`], as ordered `[section]`s of
/// `key = value` lines. Start from [`DeskConfig::new`], change it with [`set`](Self::set) and
/// [`remove`](Self::remove), and [`write`](Self::write) it.
#[derive(Clone, Debug)]
pub struct DeskConfig {
    comment: Vec<String>,
    sections: Vec<(String, Vec<String>)>,
}

impl DeskConfig {
    /// The center's configuration (like `config/smebridge.toml`), pointed at `stack`: plain IMAP
    /// and SMTP on loopback, logging in as [`CENTER`] with the stack's password (from the file
    /// `password`), applications until `deadline` (RFC 3339), the workshop the next day at
    /// 1:30 pm Seoul time (see [`workshop_start`]), summaries to [`STAFF`], the database
    /// `smebridge.sqlite` next to the configuration, personal data kept 90 days after the event,
    /// the reply templates in `templates_dir`.
    pub fn new(stack: &MailStack, deadline: &str, templates_dir: &Path) -> Result<DeskConfig> {
        let host = stack.host();
        let text = |s: &str| format!("\"{s}\"");
        let sections = vec![
            (
                "imap",
                vec![
                    ("host", text(host)),
                    ("port", stack.imap_port().to_string()),
                    ("security", text("plain")),
                    ("username", text(CENTER)),
                    ("password_file", text("password")),
                    ("poll_interval", text("2s")),
                ],
            ),
            (
                "smtp",
                vec![
                    ("host", text(host)),
                    ("port", stack.smtp_port().to_string()),
                    ("security", text("plain")),
                    ("from", text(&format!("KAIST SME Center <{CENTER}>"))),
                ],
            ),
            (
                "event",
                vec![
                    ("name", text("SME R&D Workshop")),
                    ("deadline", text(deadline)),
                    ("timezone", text("Asia/Seoul")),
                    ("starts_at", text(&workshop_start(deadline)?)),
                    ("venue", text("Banyan Tree Club & Spa Seoul, Festa Hall")),
                    ("contact", text(CENTER)),
                ],
            ),
            ("staff", vec![("recipients", format!("[\"{STAFF}\"]")), ("summary_time", text("08:30"))]),
            ("database", vec![("path", text("smebridge.sqlite"))]),
            ("retention", vec![("delete_personal_data_after", text("90d"))]),
            ("replies", vec![("templates_dir", text(&templates_dir.display().to_string()))]),
        ];
        Ok(DeskConfig {
            comment: Vec::new(),
            sections: sections
                .into_iter()
                .map(|(name, lines)| {
                    (name.to_owned(), lines.into_iter().map(|(key, value)| format!("{key} = {value}")).collect())
                })
                .collect(),
        })
    }

    /// What the tests (and the benchmark) change: an IMAP command timeout of 10 s, SMTP 5 s; no
    /// copy of each reply to the center (`bcc_self = false`) and a sending grace of 1 s; no
    /// daily summary unless a test asks for one (`summary_from` in 2099); no first-start backlog
    /// guard (`backlog_limit`: they fill the mailbox before the first start on purpose).
    pub fn for_tests(self) -> DeskConfig {
        self.set("replies", "backlog_limit = 1000000   # the tests fill the mailbox before the first start")
            .set("imap", "timeout = \"10s\"")
            .set("smtp", "timeout = \"5s\"")
            .set("smtp", "bcc_self = false")
            .set("smtp", "sending_grace = \"1s\"")
            .set("staff", "summary_from = \"2099-01-01\"   # no daily summary unless a test asks for one")
            .set("staff", "summary_until = \"2100-12-31\"")
    }

    /// A comment line at the top of the file (`# ` is added).
    pub fn comment(mut self, text: &str) -> DeskConfig {
        self.comment.push(format!("# {text}"));
        self
    }

    /// Set `line` (`key = value`, TOML) in `[section]`: it replaces the line that sets the same
    /// key there, or is added at the end of the section (and the section at the end of the
    /// file when there is none yet).
    pub fn set(mut self, section: &str, line: &str) -> DeskConfig {
        let key = key_of(line).to_owned();
        let lines = self.section(section);
        match lines.iter_mut().find(|l| key_of(l) == key) {
            Some(existing) => *existing = line.to_owned(),
            None => lines.push(line.to_owned()),
        }
        self
    }

    /// Remove `key` from `[section]` (smebridge's default applies).
    pub fn remove(mut self, section: &str, key: &str) -> DeskConfig {
        self.section(section).retain(|l| key_of(l) != key);
        self
    }

    /// The value of `key` in `[section]` as written (a TOML string keeps its quotes).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let (_, lines) = self.sections.iter().find(|(name, _)| name == section)?;
        let line = lines.iter().find(|l| key_of(l) == key)?;
        line.split_once('=').map(|(_, value)| value.trim())
    }

    /// The configuration as TOML text.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for line in &self.comment {
            out.push_str(line);
            out.push('\n');
        }
        for (name, lines) in &self.sections {
            out.push_str(&format!("\n[{name}]\n"));
            for line in lines {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Write `smebridge.toml` into `dir`, and next to it the password file that `[imap]
    /// password_file` names, holding the stack's [`PASSWORD`]. Returns the configuration's path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let password_file = self
            .get("imap", "password_file")
            .map(|v| v.trim_matches('"').to_owned())
            .context("the configuration has no [imap] password_file")?;
        let password = dir.join(password_file);
        std::fs::write(&password, format!("{PASSWORD}\n"))
            .with_context(|| format!("cannot write {}", password.display()))?;
        let path = dir.join("smebridge.toml");
        std::fs::write(&path, self.to_toml()).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    fn section(&mut self, section: &str) -> &mut Vec<String> {
        let at = match self.sections.iter().position(|(name, _)| name == section) {
            Some(at) => at,
            None => {
                self.sections.push((section.to_owned(), Vec::new()));
                self.sections.len() - 1
            }
        };
        &mut self.sections[at].1
    }
}

/// The key a `key = value` line sets.
fn key_of(line: &str) -> &str {
    line.split('=').next().unwrap_or_default().trim()
}

/// When the workshop begins for a `deadline` (RFC 3339): the day after it, 1:30 pm Seoul time
/// (for the announced deadline, 2022-11-17 end of day, Friday 18 November 2022), as RFC 3339.
/// smebridge refuses a workshop that starts before its deadline.
pub fn workshop_start(deadline: &str) -> Result<String> {
    let seoul = jiff::tz::db().get("Asia/Seoul").context("the time zone Asia/Seoul")?;
    let at: jiff::Timestamp = deadline.parse().with_context(|| format!("{deadline:?} is not an RFC 3339 time"))?;
    let day = at.to_zoned(seoul.clone()).date().tomorrow()?;
    Ok(day.at(13, 30, 0, 0).to_zoned(seoul)?.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(sections: &[(&str, &[&str])]) -> DeskConfig {
        DeskConfig {
            comment: Vec::new(),
            sections: sections
                .iter()
                .map(|(name, lines)| (name.to_string(), lines.iter().map(|l| l.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn set_replaces_the_key_in_its_own_section_only_and_adds_what_is_missing() {
        let config = lines(&[("imap", &["port = 1", "timeout = \"10s\""]), ("smtp", &["timeout = \"5s\""])])
            .set("smtp", "timeout = \"2s\"")
            .set("imap", "max_message_size = 200000")
            .set("security", "require_auth = \"dmarc\"")
            .remove("imap", "port");
        assert_eq!(
            config.to_toml(),
            "\n[imap]\ntimeout = \"10s\"\nmax_message_size = 200000\n\n[smtp]\ntimeout = \"2s\"\n\n[security]\nrequire_auth = \"dmarc\"\n"
        );
        assert_eq!(config.get("smtp", "timeout"), Some("\"2s\""));
        assert_eq!(config.get("smtp", "port"), None);
    }

    #[test]
    fn the_workshop_starts_the_day_after_the_deadline_at_half_past_one_in_seoul() {
        assert_eq!(workshop_start("2022-11-17T23:59:59+09:00").unwrap(), "2022-11-18T13:30:00+09:00");
        assert_eq!(workshop_start("2099-12-31T23:59:59+09:00").unwrap(), "2100-01-01T13:30:00+09:00");
        // 20:00 UTC on the 17th is already the 18th in Seoul.
        assert_eq!(workshop_start("2022-11-17T20:00:00Z").unwrap(), "2022-11-19T13:30:00+09:00");
        assert!(workshop_start("tomorrow").is_err());
    }
}
