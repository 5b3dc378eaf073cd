//! The reply templates: built into the binary (the files of `config/templates/`), each one
//! replaceable by a file of the same name in `[replies] templates_dir`. A configuration anywhere
//! works with no template files at all; staff who want other wording edit only the files they
//! change, and a file they delete falls back to the built-in text.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Every template smebridge renders, as shipped in `config/templates/`.
pub(super) const BUILT_IN: [(&str, &str); 28] = [
    ("ack.ko.txt.j2", include_str!("../../config/templates/ack.ko.txt.j2")),
    ("ack.en.txt.j2", include_str!("../../config/templates/ack.en.txt.j2")),
    ("late.ko.txt.j2", include_str!("../../config/templates/late.ko.txt.j2")),
    ("late.en.txt.j2", include_str!("../../config/templates/late.en.txt.j2")),
    ("update.ko.txt.j2", include_str!("../../config/templates/update.ko.txt.j2")),
    ("update.en.txt.j2", include_str!("../../config/templates/update.en.txt.j2")),
    ("after_deadline.ko.txt.j2", include_str!("../../config/templates/after_deadline.ko.txt.j2")),
    ("after_deadline.en.txt.j2", include_str!("../../config/templates/after_deadline.en.txt.j2")),
    ("cancelled.ko.txt.j2", include_str!("../../config/templates/cancelled.ko.txt.j2")),
    ("cancelled.en.txt.j2", include_str!("../../config/templates/cancelled.en.txt.j2")),
    ("waitlisted.ko.txt.j2", include_str!("../../config/templates/waitlisted.ko.txt.j2")),
    ("waitlisted.en.txt.j2", include_str!("../../config/templates/waitlisted.en.txt.j2")),
    ("promoted.ko.txt.j2", include_str!("../../config/templates/promoted.ko.txt.j2")),
    ("promoted.en.txt.j2", include_str!("../../config/templates/promoted.en.txt.j2")),
    ("inquiry.ko.txt.j2", include_str!("../../config/templates/inquiry.ko.txt.j2")),
    ("inquiry.en.txt.j2", include_str!("../../config/templates/inquiry.en.txt.j2")),
    ("which_event.ko.txt.j2", include_str!("../../config/templates/which_event.ko.txt.j2")),
    ("which_event.en.txt.j2", include_str!("../../config/templates/which_event.en.txt.j2")),
    ("reminder.ko.txt.j2", include_str!("../../config/templates/reminder.ko.txt.j2")),
    ("reminder.en.txt.j2", include_str!("../../config/templates/reminder.en.txt.j2")),
    ("thank_you.ko.txt.j2", include_str!("../../config/templates/thank_you.ko.txt.j2")),
    ("thank_you.en.txt.j2", include_str!("../../config/templates/thank_you.en.txt.j2")),
    ("status.ko.txt.j2", include_str!("../../config/templates/status.ko.txt.j2")),
    ("status.en.txt.j2", include_str!("../../config/templates/status.en.txt.j2")),
    ("rescheduled.ko.txt.j2", include_str!("../../config/templates/rescheduled.ko.txt.j2")),
    ("rescheduled.en.txt.j2", include_str!("../../config/templates/rescheduled.en.txt.j2")),
    ("privacy_notice.ko.txt.j2", include_str!("../../config/templates/privacy_notice.ko.txt.j2")),
    ("privacy_notice.en.txt.j2", include_str!("../../config/templates/privacy_notice.en.txt.j2")),
];

/// Where one template's text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    File(PathBuf),
}

/// Where each template came from, for `smebridge check` and for error messages.
#[derive(Debug, Clone)]
pub struct TemplateOrigins {
    dir: PathBuf,
    /// `templates_dir` was written in the configuration (not the default).
    dir_set: bool,
    dir_exists: bool,
    /// In [`BUILT_IN`] order.
    origins: Vec<(&'static str, Origin)>,
    /// `*.j2` files in the directory that are no template smebridge renders (a misspelt name).
    unused: Vec<String>,
}

impl TemplateOrigins {
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.origins.iter().find(|(n, _)| *n == name).map(|(_, o)| o)
    }

    /// The names of the templates read from `templates_dir`.
    pub fn from_dir(&self) -> Vec<&'static str> {
        self.names(|o| matches!(o, Origin::File(_)))
    }

    /// The names of the built-in templates in use.
    pub fn built_in(&self) -> Vec<&'static str> {
        self.names(|o| *o == Origin::BuiltIn)
    }

    fn names(&self, wanted: impl Fn(&Origin) -> bool) -> Vec<&'static str> {
        self.origins.iter().filter(|(_, o)| wanted(o)).map(|(n, _)| *n).collect()
    }

    /// One line: how many templates are built in and how many come from the directory, naming
    /// the smaller group, e.g. `1 from /etc/smebridge/templates (ack.ko.txt.j2), 25 built in`.
    pub fn describe(&self) -> String {
        let (files, built_in) = (self.from_dir(), self.built_in());
        let dir = self.dir.display();
        match (files.len(), built_in.len()) {
            (0, n) if !self.dir_exists => format!("all {n} built in ({dir} does not exist)"),
            (0, n) => format!("all {n} built in (none in {dir})"),
            (n, 0) => format!("all {n} from {dir}"),
            (f, b) if f <= b => format!("{f} from {dir} ({}), {b} built in", files.join(", ")),
            (f, b) => format!("{f} from {dir}, {b} built in ({})", built_in.join(", ")),
        }
    }

    /// What staff should look at although the templates work.
    pub fn warning(&self) -> Option<String> {
        let mut warnings = Vec::new();
        if self.dir_set && !self.dir_exists {
            warnings.push(format!(
                "templates_dir {} does not exist, so every reply uses the built-in text; correct [replies] templates_dir or remove it",
                self.dir.display()
            ));
        }
        if !self.unused.is_empty() {
            let names: Vec<&str> = BUILT_IN.iter().filter_map(|(name, _)| name.strip_suffix(".ko.txt.j2")).collect();
            warnings.push(format!(
                "{} in {} not used: no reply has that name (the names are {}, each .ko.txt.j2 and .en.txt.j2)",
                self.unused.join(", "),
                self.dir.display(),
                names.join(", ")
            ));
        }
        (!warnings.is_empty()).then(|| warnings.join("; "))
    }

    /// `the reply template /etc/smebridge/templates/late.ko.txt.j2` or `the built-in reply
    /// template late.ko.txt.j2`.
    pub(super) fn name_in_words(&self, name: &str) -> String {
        match self.origin(name) {
            Some(Origin::File(path)) => format!("the reply template {}", path.display()),
            _ => format!("the built-in reply template {name}"),
        }
    }
}

/// How much work one rendering of a template may do (minijinja's fuel: about one unit per
/// instruction). The shipped templates take a few thousand; a loop that would run for minutes
/// and fill memory (`{% for i in range(10000) %}{% for j in range(10000) %}…`) stops here, in
/// well under a second, with an error: the check every start makes (each template rendered once)
/// then refuses the file, naming it.
pub(super) const RENDER_FUEL: u64 = 1_000_000;

/// The templates: each file of [`BUILT_IN`]'s names found in `dir`, else the built-in text.
/// A file that cannot be read or does not parse is an error naming it. Every rendering has
/// [`RENDER_FUEL`].
pub(super) fn load(dir: &Path, dir_set: bool) -> Result<(minijinja::Environment<'static>, TemplateOrigins)> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(RENDER_FUEL));

    let dir_exists = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => bail!("templates_dir {} is not a directory", dir.display()),
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => return Err(e).with_context(|| format!("cannot look at templates_dir {}", dir.display())),
    };

    let mut origins = Vec::with_capacity(BUILT_IN.len());
    for (name, text) in BUILT_IN {
        let path = dir.join(name);
        let file = if dir_exists {
            match std::fs::read_to_string(&path) {
                Ok(source) => Some(source),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(e).with_context(|| format!("cannot read the reply template {}", path.display())),
            }
        } else {
            None
        };
        match file {
            Some(source) => {
                env.add_template_owned(name, source)
                    .with_context(|| format!("the reply template {} has a syntax error", path.display()))?;
                origins.push((name, Origin::File(path)));
            }
            None => {
                env.add_template(name, text)
                    .with_context(|| format!("the built-in reply template {name} has a syntax error"))?;
                origins.push((name, Origin::BuiltIn));
            }
        }
    }

    let unused = if dir_exists { unused_files(dir)? } else { Vec::new() };
    Ok((env, TemplateOrigins { dir: dir.to_owned(), dir_set, dir_exists, origins, unused }))
}

/// `*.j2` files in `dir` that no reply uses.
fn unused_files(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot list templates_dir {}", dir.display()))?;
    let mut unused = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list templates_dir {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".j2") && !BUILT_IN.iter().any(|(known, _)| *known == name) {
            unused.push(name);
        }
    }
    unused.sort();
    Ok(unused)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::domain::ApplicantFields;
    use crate::reply::{Replier, ReplyFacts, ReplyKind};

    const EXAMPLE: &str = include_str!("../../config/smebridge.toml");

    /// The shipped configuration, written into `dir` with `edits` applied, its passwords in a
    /// file that does not exist and its servers on this machine: nothing here may reach a
    /// network, and `check` stops at the passwords.
    fn config_in(dir: &Path, edits: &[(&str, &str)]) -> PathBuf {
        let mut text = EXAMPLE
            .replace("credential:imap-password", "no-such-password-file")
            .replace("credential:smtp-password", "no-such-password-file")
            .replace("imap.kaist.ac.kr", "127.0.0.1")
            .replace("smtp.kaist.ac.kr", "127.0.0.1");
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        let path = dir.join("smebridge.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn replier(path: &Path) -> Result<Replier> {
        Replier::new(&Config::load(path).unwrap())
    }

    fn ack_body(replier: &Replier, english: bool) -> String {
        let fields = ApplicantFields {
            name: Some("김민준".into()),
            organization: Some("한빛테크".into()),
            position: None,
            phone: Some("010-1234-5678".into()),
            attendees: Some(1),
        };
        let facts = ReplyFacts {
            english,
            ..ReplyFacts::about(&replier.events[0], 7, &fields, "2022-11-16T01:00:00Z".parse().unwrap())
        };
        replier.body(ReplyKind::Ack, &facts).unwrap()
    }

    #[test]
    fn the_built_in_templates_are_the_files_in_config_templates_and_every_reply_has_both() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        let mut files: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        let mut built_in: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
        built_in.sort();
        assert_eq!(files, built_in);
        for kind in ReplyKind::ALL {
            for name in kind.templates() {
                assert!(BUILT_IN.iter().any(|(n, _)| *n == name), "{name} is not built in");
            }
        }
    }

    #[test]
    fn a_configuration_in_an_empty_directory_replies_with_the_built_in_templates() {
        let dir = tempfile::tempdir().unwrap();
        let replier = replier(&config_in(dir.path(), &[])).expect("the built-in templates need no files");
        let origins = replier.template_origins();
        assert_eq!(origins.built_in().len(), BUILT_IN.len());
        assert!(origins.from_dir().is_empty());
        let templates = dir.path().join("templates");
        assert_eq!(
            origins.describe(),
            format!("all {} built in ({} does not exist)", BUILT_IN.len(), templates.display())
        );
        assert_eq!(origins.warning(), None, "templates_dir is not set: its absence is normal");

        let body = ack_body(&replier, false);
        assert!(body.contains("접수 번호: SME-0007"), "{body}");
        assert!(body.contains("\n중소기업 R&D 공유센터 드림\n"), "{body}");
        assert!(body.contains("\nSME R&D Sharing Center\n"), "{body}");
        assert!(body.contains("중소기업 기술혁신을 위한 산학협력 전략 및 사례 공유 워크숍"), "{body}");
        assert!(body.contains("Industry-University Cooperation Strategies and Cases for SME Technology Innovation"));
        assert!(body.contains("2022년 11월 18일 (금) 오후 1:30"), "{body}");
        assert!(body.contains("Banyan Tree Club & Spa Seoul, Festa Hall"), "{body}");
    }

    #[test]
    fn one_file_in_templates_dir_replaces_its_built_in_text_and_the_others_stay_built_in() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        std::fs::write(
            templates.join("ack.en.txt.j2"),
            "Thank you, {{ applicant.name }}: you are registered ({{ application_no }}).\n-- {{ center.name_en }}\n",
        )
        .unwrap();
        let replier = replier(&config_in(dir.path(), &[])).unwrap();
        let origins = replier.template_origins();
        assert_eq!(origins.from_dir(), ["ack.en.txt.j2"]);
        assert_eq!(origins.origin("ack.en.txt.j2"), Some(&Origin::File(templates.join("ack.en.txt.j2"))));
        assert_eq!(origins.origin("ack.ko.txt.j2"), Some(&Origin::BuiltIn));
        assert_eq!(origins.built_in().len(), BUILT_IN.len() - 1);
        assert_eq!(
            origins.describe(),
            format!("1 from {} (ack.en.txt.j2), {} built in", templates.display(), BUILT_IN.len() - 1)
        );

        let body = ack_body(&replier, true);
        let (english, korean) = body.split_once("------------").unwrap();
        let (english, notice) = english.split_once("\n\n").unwrap();
        assert_eq!(english, "Thank you, 김민준: you are registered (SME-0007).\n-- SME R&D Sharing Center");
        assert!(notice.starts_with("[Personal information: what we collect and why]"), "the built-in notice: {notice}");
        assert!(
            korean.contains("참가 신청이 접수되었습니다") && korean.contains("중소기업 R&D 공유센터 드림"),
            "{korean}"
        );
    }

    #[test]
    fn with_every_file_overridden_but_two_the_two_built_in_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        for (name, text) in BUILT_IN.iter().filter(|(n, _)| !n.starts_with("inquiry.")) {
            std::fs::write(templates.join(name), text).unwrap();
        }
        let origins = replier(&config_in(dir.path(), &[])).unwrap().template_origins().clone();
        assert_eq!(
            origins.describe(),
            format!(
                "{} from {}, 2 built in (inquiry.ko.txt.j2, inquiry.en.txt.j2)",
                BUILT_IN.len() - 2,
                templates.display()
            )
        );
    }

    #[test]
    fn a_broken_override_fails_check_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        let config = config_in(dir.path(), &[]);

        // A syntax error.
        std::fs::write(templates.join("late.ko.txt.j2"), "{{ applicant.name ").unwrap();
        let err = format!("{:#}", replier(&config).err().unwrap());
        let shown = templates.join("late.ko.txt.j2").display().to_string();
        assert!(err.contains(&format!("the reply template {shown} has a syntax error")), "{err}");

        // A value that does not exist: found when the templates are loaded, not at send time.
        std::fs::write(templates.join("late.ko.txt.j2"), "{{ applicant.nmae }}").unwrap();
        let err = format!("{:#}", replier(&config).err().unwrap());
        assert!(err.contains(&format!("the reply template {shown} does not render")), "{err}");

        // `smebridge check` says so (and reaches no server: the passwords cannot be read).
        let lines = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(crate::check::check(&config));
        let line = lines.iter().find(|l| l.what == "reply templates").unwrap();
        let problem = line.problem.as_deref().expect("check must fail on the broken template");
        assert!(problem.contains(&shown) && problem.contains("does not render"), "{problem}");
        assert!(lines.iter().find(|l| l.what == "configuration").unwrap().problem.is_none());
    }

    /// A template whose loops would run for minutes (and fill memory) runs out of fuel instead:
    /// refused when the templates are loaded (as `check` and every start load them), naming the
    /// file.
    #[test]
    fn a_template_that_would_run_for_minutes_runs_out_of_fuel_and_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        let config = config_in(dir.path(), &[]);
        std::fs::write(
            templates.join("ack.en.txt.j2"),
            "{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(100) %}x{% endfor %}{% endfor \
             %}{% endfor %}",
        )
        .unwrap();
        let err = format!("{:#}", replier(&config).err().unwrap());
        let shown = templates.join("ack.en.txt.j2").display().to_string();
        assert!(err.contains(&format!("the reply template {shown} does not render")), "{err}");
        assert!(err.contains("ran out of fuel"), "{err}");
    }

    /// Every shipped template, rendered as the start's check renders it, takes less than a
    /// hundredth of [`RENDER_FUEL`].
    #[test]
    fn the_shipped_templates_use_a_small_part_of_the_fuel() {
        let dir = tempfile::tempdir().unwrap();
        let replier = replier(&config_in(dir.path(), &[])).unwrap();
        let fields = ApplicantFields {
            name: Some("김민준".into()),
            organization: Some("한빛테크".into()),
            position: None,
            phone: Some("010-1234-5678".into()),
            attendees: Some(2),
        };
        let change = crate::domain::Change { field: "phone", before: None, after: "010-1234-5678".into() };
        let facts = ReplyFacts {
            changes: std::slice::from_ref(&change),
            status: Some(crate::domain::Status::Accepted),
            ..ReplyFacts::about(&replier.events[0], 7, &fields, "2022-11-16T01:00:00Z".parse().unwrap())
        };
        let context = replier.context(&facts);
        for (name, _) in BUILT_IN {
            let template = replier.env.get_template(name).unwrap();
            let rendered = template.render_captured(&context).unwrap();
            let (consumed, _) = rendered.state().fuel_levels().unwrap();
            assert!(consumed > 0 && consumed < RENDER_FUEL / 100, "{name}: {consumed}");
        }
    }

    #[test]
    fn check_reports_where_the_templates_come_from() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        std::fs::write(templates.join("late.en.txt.j2"), "Too late, sorry.\n{{ center.name_en }}\n").unwrap();
        let config = config_in(dir.path(), &[]);
        let lines = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(crate::check::check(&config));
        let line = lines.iter().find(|l| l.what == "reply templates").unwrap();
        assert_eq!(line.problem, None);
        assert_eq!(
            line.detail,
            Some(format!("1 from {} (late.en.txt.j2), {} built in", templates.display(), BUILT_IN.len() - 1))
        );
    }

    #[test]
    fn a_misspelt_template_file_and_a_configured_directory_that_does_not_exist_are_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        std::fs::write(templates.join("ack.kr.txt.j2"), "안녕하십니까\n").unwrap();
        std::fs::write(templates.join("ack.ko.txt.j2.dpkg-dist"), "not a template name\n").unwrap();
        let origins = replier(&config_in(dir.path(), &[])).unwrap().template_origins().clone();
        let warning = origins.warning().expect("a misspelt file is warned about");
        assert!(warning.starts_with(&format!("ack.kr.txt.j2 in {} not used", templates.display())), "{warning}");
        assert!(!warning.contains("dpkg-dist"), "{warning}");
        for name in ReplyKind::ALL.iter().flat_map(|kind| kind.templates()) {
            let name = name.split('.').next().unwrap();
            assert!(warning.contains(&format!(" {name},")), "every template's name is listed ({name}): {warning}");
        }

        let config = config_in(dir.path(), &[("# templates_dir = \"templates\"", "templates_dir = \"tempaltes\"")]);
        let origins = replier(&config).unwrap().template_origins().clone();
        assert_eq!(origins.built_in().len(), BUILT_IN.len());
        let warning = origins.warning().expect("a configured directory that does not exist is warned about");
        assert!(warning.contains(&format!("templates_dir {} does not exist", dir.path().join("tempaltes").display())));
    }

    #[test]
    fn a_templates_dir_that_is_a_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("templates"), "").unwrap();
        let err = format!("{:#}", replier(&config_in(dir.path(), &[])).err().unwrap());
        assert!(err.contains("is not a directory"), "{err}");
    }

    #[test]
    fn replies_are_signed_with_the_center_named_in_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(
            dir.path(),
            &[
                ("name = \"중소기업 R&D 공유센터\"", "name = \"예시 지원센터\""),
                ("\"SME R&D Sharing Center\"", "\"Example Support Center\""),
            ],
        );
        for english in [false, true] {
            let body = ack_body(&replier(&config).unwrap(), english);
            assert!(body.contains("\n예시 지원센터 드림\n") && body.contains("\nExample Support Center\n"), "{body}");
            assert!(
                !body.contains("공유센터") && !body.contains("Sharing Center") && !body.contains("KAIST"),
                "{body}"
            );
        }
    }

    fn body(replier: &Replier, kind: ReplyKind, english: bool) -> String {
        let fields = ApplicantFields { name: Some("김민준".into()), ..Default::default() };
        let facts = ReplyFacts {
            english,
            ..ReplyFacts::about(&replier.events[0], 7, &fields, "2022-11-16T01:00:00Z".parse().unwrap())
        };
        replier.body(kind, &facts).unwrap()
    }

    #[test]
    fn every_acknowledgement_carries_the_privacy_notice_with_the_configured_period_and_other_replies_do_not() {
        let dir = tempfile::tempdir().unwrap();
        // The shipped configuration keeps personal data 90 days after the workshop (18 Nov 2022).
        let replier = replier(&config_in(dir.path(), &[])).unwrap();
        for kind in [ReplyKind::Ack, ReplyKind::Reopened, ReplyKind::Waitlisted, ReplyKind::Late] {
            for english in [false, true] {
                let text = body(&replier, kind, english);
                let (first, second) = text.split_once("------------").unwrap();
                let (ko, en) = if english { (second, first) } else { (first, second) };
                assert!(ko.contains("[개인정보 수집·이용 안내]"), "{kind:?}: {ko}");
                assert!(ko.contains("- 수집·이용 목적: 워크숍 참가 신청 접수"), "{ko}");
                assert!(ko.contains("- 수집 항목: 성명, 소속, 직위, 연락처, 이메일 주소"), "{ko}");
                assert!(
                    ko.contains("- 보유·이용 기간: 행사일로부터 90일(2023년 2월 16일까지) 보관한 뒤 파기합니다."),
                    "{ko}"
                );
                assert!(
                    ko.contains("동의를 거부하실 수 있습니다. 다만 동의하지 않으시면 참가 신청을 받을 수 없습니다."),
                    "{ko}"
                );
                assert!(
                    en.contains(
                        "- Kept: for 90 days after the day of the workshop (until 16 February 2023), then deleted."
                    ),
                    "{en}"
                );
                assert!(en.contains("You may decline. Without your consent we cannot register you"), "{en}");
                // Below the reply's own text, in its language.
                assert!(ko.find("드림").unwrap() < ko.find("[개인정보").unwrap(), "{ko}");
            }
        }
        for kind in
            [ReplyKind::Update, ReplyKind::Cancelled, ReplyKind::AfterDeadline, ReplyKind::Promoted, ReplyKind::Inquiry]
        {
            let text = body(&replier, kind, false);
            assert!(!text.contains("개인정보") && !text.contains("Personal information"), "{kind:?}: {text}");
        }

        // Without [retention], the notice says it is deleted when its purpose is served.
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path(), &[("delete_personal_data_after = \"90d\"", "")]);
        let text = body(&replier_ok(&config), ReplyKind::Ack, false);
        assert!(text.contains("- 보유·이용 기간: 행사를 마치고 목적을 달성하면 지체 없이 파기합니다."), "{text}");
        assert!(text.contains("- Kept: until the workshop is over and its purpose served"), "{text}");
    }

    #[test]
    fn the_privacy_notice_counts_the_period_from_the_day_of_the_replys_own_event() {
        let dir = tempfile::tempdir().unwrap();
        let seminar = "[[event]]\nid = \"sem-2303\"\nname = \"AI 세미나 (AI Seminar)\"\n\
                       deadline = \"2023-03-09T23:59:59+09:00\"\nstarts_at = \"2023-03-10T10:00:00+09:00\"\n\
                       venue = \"KAIST 학술문화관\"\n\n[staff]\n";
        let config = config_in(dir.path(), &[("[event]\n", "[[event]]\nid = \"ws-2211\"\n"), ("[staff]\n", seminar)]);
        let replier = replier_ok(&config);
        assert_eq!(replier.events.len(), 2);
        let fields = ApplicantFields { name: Some("김민준".into()), ..Default::default() };
        let ack_for = |event| {
            let facts = ReplyFacts::about(event, 7, &fields, "2022-11-16T01:00:00Z".parse().unwrap());
            replier.body(ReplyKind::Ack, &facts).unwrap()
        };
        // The workshop on 18 Nov 2022, the seminar on 10 Mar 2023: 90 days after each.
        let workshop = ack_for(&replier.events[0]);
        assert!(workshop.contains("행사일로부터 90일(2023년 2월 16일까지)"), "{workshop}");
        let seminar = ack_for(&replier.events[1]);
        assert!(seminar.contains("행사일로부터 90일(2023년 6월 8일까지)"), "{seminar}");
        assert!(seminar.contains("(until 8 June 2023)"), "{seminar}");
    }

    #[test]
    fn a_moved_applications_reply_withdraws_the_old_events_entry_only_when_one_was_published() {
        use crate::domain::EmailAddress;
        use crate::reply::{Addressee, CalendarSent, Withdrawn};
        use mail_parser::MimeHeaders;

        let dir = tempfile::tempdir().unwrap();
        let seminar = "[[event]]\nid = \"sem-2303\"\nname = \"AI 세미나 (AI Seminar)\"\n\
                       deadline = \"2023-03-09T23:59:59+09:00\"\nstarts_at = \"2023-03-10T10:00:00+09:00\"\n\
                       venue = \"KAIST 학술문화관\"\n\n[staff]\n";
        let config = config_in(dir.path(), &[("[event]\n", "[[event]]\nid = \"ws-2211\"\n"), ("[staff]\n", seminar)]);
        let replier = replier_ok(&config);
        let (workshop, seminar) = (&replier.events[0], &replier.events[1]);
        let fields = ApplicantFields { name: Some("김민준".into()), ..Default::default() };
        let to = EmailAddress::parse("kim@daon.example").unwrap();
        let answers = "ab".repeat(32);
        let addressee =
            Addressee { to: &to, display_name: None, subject: None, in_reply_to: "", answers_sha256: &answers };
        // Moved from the workshop to the seminar; two replies went to the application before.
        let files = |kind: ReplyKind, published: bool| -> Vec<String> {
            let sent = CalendarSent { count: 2, published };
            let facts = ReplyFacts {
                calendar: CalendarSent { count: 2, published: false },
                withdrawn: Some(Withdrawn { event: workshop, calendar: sent }),
                ..ReplyFacts::about(seminar, 7, &fields, "2022-11-16T01:00:00Z".parse().unwrap())
            };
            let raw = replier.render(kind, &addressee, &facts).unwrap().raw;
            let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
            mail.attachments()
                .map(|part| {
                    let text = String::from_utf8(part.contents().to_vec()).unwrap();
                    let line = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap_or_default().to_owned();
                    format!(
                        "{} {} {} {}",
                        part.attachment_name().unwrap(),
                        line("METHOD:"),
                        line("UID:"),
                        line("SEQUENCE:")
                    )
                })
                .collect()
        };
        let cancel = "ws-2211.ics METHOD:CANCEL UID:SME-0007.ws-2211@kaist.ac.kr SEQUENCE:2";
        let publish = "sem-2303.ics METHOD:PUBLISH UID:SME-0007.sem-2303@kaist.ac.kr SEQUENCE:2";
        assert_eq!(files(ReplyKind::Ack, true), [cancel, publish]);
        assert_eq!(files(ReplyKind::Ack, false), [publish], "nothing to withdraw");
        assert_eq!(files(ReplyKind::Waitlisted, true), [cancel], "no place there, but the old entry goes");
        assert!(files(ReplyKind::Late, false).is_empty());
    }

    fn replier_ok(path: &Path) -> Replier {
        replier(path).unwrap()
    }

    #[test]
    fn a_notice_that_does_not_state_the_configured_period_fails_check_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        let config = config_in(dir.path(), &[]);
        // Staff shortened the notice and lost the period (or wrote one by hand).
        for text in [
            "[개인정보 수집·이용 안내]\n- 목적: 워크숍 참가 신청 접수\n",
            "[개인정보 수집·이용 안내]\n{% if retention %}- 보유 기간: 행사 후 90일{% endif %}\n",
        ] {
            std::fs::write(templates.join("privacy_notice.ko.txt.j2"), text).unwrap();
            let err = format!("{:#}", replier(&config).err().expect("refused"));
            let shown = templates.join("privacy_notice.ko.txt.j2").display().to_string();
            assert!(
                err.contains(&format!("the reply template {shown} does not say how long personal data is kept")),
                "{err}"
            );
            let lines = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(crate::check::check(&config));
            let line = lines.iter().find(|l| l.what == "reply templates").unwrap();
            let problem = line.problem.as_deref().expect("check fails");
            assert!(problem.contains(&shown) && problem.contains("{{ retention.days }}"), "{problem}");
        }

        // Stating it through any of its variables is fine.
        std::fs::write(
            templates.join("privacy_notice.ko.txt.j2"),
            "[개인정보 수집·이용 안내]\n- 보유 기간: {{ retention.until_ko }}까지\n",
        )
        .unwrap();
        let text = body(&replier_ok(&config), ReplyKind::Ack, false);
        assert!(text.contains("- 보유 기간: 2023년 2월 16일까지"), "{text}");

        // Without [retention] there is no period to state.
        let config = config_in(dir.path(), &[("delete_personal_data_after = \"90d\"", "")]);
        std::fs::write(templates.join("privacy_notice.ko.txt.j2"), "[개인정보 수집·이용 안내]\n").unwrap();
        replier_ok(&config);
    }
}
