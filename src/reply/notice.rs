//! The privacy notice (개인정보 수집·이용 안내) that every acknowledgement carries: Korea's
//! Personal Information Protection Act expects whoever collects personal data to say, when
//! collecting it, what it is for, which items are recorded, how long they are kept and that the
//! person may decline (and what follows). Its wording is a pair of templates like the replies'
//! (`privacy_notice.ko.txt.j2`, `privacy_notice.en.txt.j2`: built in, replaceable from
//! `templates_dir`), appended below each language's text of every reply that confirms an
//! application was recorded — so a reply template staff rewrote cannot lose it.
//!
//! How long is `[retention] delete_personal_data_after`, given to the templates as
//! `retention.days`, `retention.until_ko` and `retention.until_en` (`retention` is none when it is
//! not configured). When it is configured, a notice that does not state it is a configuration
//! error ([`check_states_period`]): `smebridge check` fails, and so does every start.

use anyhow::{bail, Result};
use serde::Serialize;

use super::{Replier, ReplyKind, TemplateContext};
use crate::config::{EventConfig, Retention};

/// The notice's templates, Korean and English.
pub(super) const TEMPLATES: [&str; 2] = ["privacy_notice.ko.txt.j2", "privacy_notice.en.txt.j2"];

impl ReplyKind {
    /// Does this reply confirm that an application (and so personal data) was recorded? Then it
    /// carries the privacy notice: the acknowledgement (also of a reopened application), the
    /// waiting-list one and the late one (a late application is recorded too).
    pub fn carries_privacy_notice(self) -> bool {
        matches!(self, ReplyKind::Ack | ReplyKind::Reopened | ReplyKind::Waitlisted | ReplyKind::Late)
    }
}

/// What the notice templates see as `retention`.
#[derive(Debug, Clone, Serialize)]
pub(super) struct RetentionView {
    days: u32,
    /// The last day personal data is kept: `2023년 2월 16일`.
    until_ko: String,
    /// `16 February 2023`.
    until_en: String,
}

/// `retention` for the templates, counted from the event's day.
pub(super) fn retention_view(retention: Option<Retention>, event: &EventConfig) -> Option<RetentionView> {
    let retention = retention?;
    let event_day = event.starts_at.to_zoned(event.timezone.clone()).date();
    // A period past the calendar's end was refused with the configuration; say the days only.
    let until = retention.kept_until(event_day).ok();
    Some(RetentionView {
        days: retention.days,
        until_ko: until.map(|d| format!("{}년 {}월 {}일", d.year(), d.month(), d.day())).unwrap_or_default(),
        until_en: until.map(|d| d.strftime("%-d %B %Y").to_string()).unwrap_or_default(),
    })
}

/// With `[retention]` configured, each notice must state the period: rendered for two different
/// periods (counted from `event`, the sample's), its text must differ. A notice that leaves the
/// period out (or writes one by hand, which the next change of the configuration would make
/// wrong) is refused, naming the file.
pub(super) fn check_states_period(replier: &Replier, event: &EventConfig, sample: &TemplateContext<'_>) -> Result<()> {
    if replier.retention.is_none() {
        return Ok(());
    }
    let with = |days: u32| -> Result<Vec<String>> {
        let mut context = sample.clone();
        context.retention = retention_view(Some(Retention { days }), event);
        TEMPLATES.iter().map(|name| Ok(replier.env.get_template(name)?.render(&context)?)).collect()
    };
    let (one, other) = (with(30)?, with(31)?);
    for ((name, a), b) in TEMPLATES.iter().zip(&one).zip(&other) {
        if a == b {
            bail!(
                "{} does not say how long personal data is kept: [retention] delete_personal_data_after is set, so \
                 the notice must show it with {{{{ retention.days }}}} (or {{{{ retention.until_ko }}}} / \
                 {{{{ retention.until_en }}}})",
                replier.origins.name_in_words(name)
            );
        }
    }
    Ok(())
}
