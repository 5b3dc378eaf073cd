//! `smebridge parse`: an [`Inbound`] as staff and developers read it.

use super::Inbound;
use crate::domain::{automatic_reason, Classified, EmailAddress};

/// A readable account of what was read from a message and from where, for `smebridge parse`:
/// each field with its value and its source, the doubts and problems, then the body text as
/// read (the lines that the sources count).
pub fn explain(inbound: &Inbound) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<14}{value}\n"));
    line(
        "message-id",
        format!("{}{}", inbound.message_id, if inbound.message_id_synthesized { " (synthesized)" } else { "" }),
    );
    line(
        "from",
        format!(
            "{} {}",
            inbound.from.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
            inbound.from_name.as_deref().map(|n| format!("({n})")).unwrap_or_default()
        ),
    );
    line("reply-to", inbound.reply_to.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into()));
    line("subject", opt(&inbound.subject));
    line("return-path", format!("{:?}", inbound.return_path));
    line("signals", format!("{:?}", inbound.signals));
    let applicant_email = inbound.forwarded_from.as_ref().or(inbound.from.as_ref()).map(|a| a.to_string());
    let fields = &inbound.fields;
    let sources = &inbound.sources;
    let attendees = fields.attendees.map(|a| a.to_string());
    for (label, value, source) in [
        ("name", &fields.name, &sources.name),
        ("organization", &fields.organization, &sources.organization),
        ("position", &fields.position, &sources.position),
        ("phone", &fields.phone, &sources.phone),
        ("email", &applicant_email, &sources.email),
        ("stated email", &inbound.stated_email, &sources.stated_email),
        ("attendees", &attendees, &sources.attendees),
    ] {
        if label == "stated email" && value.is_none() {
            continue;
        }
        let from = source.as_ref().map(|s| format!("  ← {s}")).unwrap_or_default();
        line(label, format!("{}{from}", opt(value)));
    }
    line("people", if inbound.people.is_empty() { "-".into() } else { inbound.people.join(", ") });
    line("notes", inbound.notes.clone().unwrap_or_else(|| "-".into()));
    if inbound.forwarded_from.is_some() || inbound.forwarded_from_name.is_some() {
        let address = inbound.forwarded_from.as_ref().map(|a| a.to_string()).unwrap_or_else(|| "-".into());
        let name = inbound.forwarded_from_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        line("forwarded", format!("{address}{name}"));
    }
    if let Some(more) = inbound.more_attendees {
        let source = sources.attendees.as_ref().map(|s| format!("  ← {s}")).unwrap_or_default();
        line("  change", format!("{more:+} against the count recorded{source}"));
    }
    // In the order `crate::domain::decide` weighs them. The center's own address matters only
    // for mail from it, which this does not know: `.invalid` is nobody's (RFC 2606).
    let nobody = EmailAddress::parse("nobody@smebridge.invalid").ok();
    let automatic =
        nobody.and_then(|own| automatic_reason(&inbound.signals, &inbound.return_path, inbound.from.as_ref(), &own));
    let intent = match (automatic, inbound.verdict.classified) {
        (Some(automatic), _) => format!("automatic, never answered: {}", automatic.label()),
        (None, Classified::AddressedElsewhere) => "not an application: written to someone else".into(),
        _ if inbound.cancel_requested => "asks to cancel".into(),
        _ if inbound.inquiry => "asks a question (inquiry)".into(),
        (None, Classified::NothingApplies) => {
            "applies to nothing: a registered applicant's follow-up, else not an application".into()
        }
        _ => "application".into(),
    };
    line("intent", intent);
    let verdict = &inbound.verdict;
    line("classified", format!("{} (score {})", verdict.classified.as_str(), verdict.score));
    if verdict.clues.is_empty() {
        line("  evidence", "none weighed".into());
    }
    for (i, clue) in verdict.clues.iter().enumerate() {
        line(if i == 0 { "  evidence" } else { "" }, format!("{:+}  {clue}", clue.weight()));
    }
    if !inbound.auto_reply.is_empty() {
        let score: i32 = inbound.auto_reply.iter().map(|c| c.weight()).sum();
        let verdict = if inbound.signals.auto_reply_text.is_some() { "yes" } else { "no" };
        line("auto-reply", format!("{verdict} by its words (score {score}; 3 or more is automatic)"));
        for clue in &inbound.auto_reply {
            line("", format!("{:+}  {clue}", clue.weight()));
        }
    }
    line("language", if inbound.english { "English first".into() } else { "Korean first".into() });
    line("doubts", if inbound.doubts.is_empty() { "none".into() } else { inbound.doubts.join("; ") });
    line("problems", if inbound.problems.is_empty() { "none".into() } else { inbound.problems.join("; ") });
    out.push_str("--- body text as read (line numbers as in the sources) ---\n");
    for (number, text) in inbound.text.trim_end().lines().enumerate() {
        out.push_str(&format!("{:>4}  {text}\n", number + 1));
    }
    out.truncate(out.trim_end().len());
    out
}
