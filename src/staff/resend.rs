//! `smebridge application resend SME-0004`: the applicant lost the acknowledgement; a fresh one
//! of the same kind (acknowledgement, late, waiting list, moved up, applied again) is queued,
//! written from the application as it stands now (an accepted place carries its calendar again).
//! It goes through the outbox like every reply, so the rate limits apply.

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use crate::domain::{ReplyKind, Status};
use crate::pipeline::Rules;
use crate::reply::application_number;
use crate::store::Store;

/// Why, in the history row the resent reply leaves.
const RESENT: &str = "staff via CLI: resend";

/// The replies that acknowledge an application.
const ACKNOWLEDGEMENTS: [ReplyKind; 5] =
    [ReplyKind::Ack, ReplyKind::Late, ReplyKind::Waitlisted, ReplyKind::Promoted, ReplyKind::Reopened];

/// Queue the last acknowledgement of application `id` again (for one never sent, e.g. an
/// application staff added without `--notify`, the one its status calls for). Returns its kind.
/// Nothing is sent here.
pub fn resend(store: &mut Store, rules: Rules<'_>, id: i64, actor: &str, now: Timestamp) -> Result<ReplyKind> {
    let number = application_number(id);
    let app = store.application(id)?.with_context(|| format!("there is no application {number}"))?;
    let kind = match (app.status, store.last_reply_of(id, &ACKNOWLEDGEMENTS)?) {
        (Status::Cancelled, _) => bail!("{number} is cancelled: there is no acknowledgement to send"),
        (_, Some(kind)) => kind,
        (Status::Accepted, None) => ReplyKind::Ack,
        (Status::Waitlisted, None) => ReplyKind::Waitlisted,
        (Status::Late, None) => ReplyKind::Late,
    };
    // A copy still waiting (held by the rate limits, or a refused SMTP login) goes out in its
    // time: a second would only pile up behind it.
    if store.reply_waiting(id, kind)? {
        bail!("{number}: its {kind} reply is already waiting to be sent (see the summary's replies); not queued again");
    }
    let by = super::notice::SentBy { why: RESENT, actor };
    super::notice::queue_notice(store, rules, id, kind, &[], &by, now)?;
    Ok(kind)
}
