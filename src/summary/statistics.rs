//! The statistics `smebridge stats` keeps showing after personal data is deleted: the counts of
//! purged applications (`purged_counts`, migrations/0011_purge.sql) added to those of the
//! applications still stored, by status (the totals), by organization type and by day. Both are
//! counted the same way ([`crate::store::tally`]), so purging changes none of the numbers.

use jiff::tz::TimeZone;

use super::model::Totals;
use crate::domain::{EventId, OrganizationType, Status};
use crate::store::{tally, Application, Counted, PurgedCount};

/// `totals` (of the applications still stored) with the purged applications added.
pub(super) fn with_purged(mut totals: Totals, purged: &[PurgedCount]) -> Totals {
    for count in purged {
        let n = u32::try_from(count.applications).unwrap_or(u32::MAX);
        match count.status {
            Status::Accepted => {
                let people = u32::try_from(count.attendees).unwrap_or(u32::MAX);
                totals.accepted = totals.accepted.saturating_add(n);
                totals.attendees = totals.attendees.saturating_add(people);
                totals.capacity_left = totals.capacity_left.map(|left| left - i64::from(people));
            }
            Status::Waitlisted => totals.waitlisted = totals.waitlisted.saturating_add(n),
            Status::Cancelled => totals.cancelled = totals.cancelled.saturating_add(n),
            Status::Late => totals.late = totals.late.saturating_add(n),
        }
    }
    totals
}

/// `event`'s applications (every status) by organization type and by day of arrival (in `tz`,
/// the event's time zone), stored and purged together, and how many of them were purged: lines
/// for the terminal.
pub(super) fn breakdown(
    event: &EventId,
    applications: &[&Application],
    purged: &[PurgedCount],
    tz: &TimeZone,
) -> String {
    let stored = tally(
        applications.iter().map(|a| Counted {
            email: &a.email,
            organization: a.fields.organization.as_deref(),
            status: a.status,
            attendees: a.fields.attendees,
            received_at: a.received_at,
        }),
        event,
        tz,
    );
    let all = || stored.iter().chain(purged);
    let mut by_type: Vec<(OrganizationType, i64)> = OrganizationType::ALL.iter().map(|t| (*t, 0)).collect();
    let mut by_day: std::collections::BTreeMap<jiff::civil::Date, i64> = Default::default();
    for count in all() {
        if let Some(entry) = by_type.iter_mut().find(|(t, _)| *t == count.organization_type) {
            entry.1 += count.applications;
        }
        *by_day.entry(count.day).or_default() += count.applications;
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.push(("기관 유형별 신청 (applications by organization type)".into(), String::new()));
    rows.extend(by_type.iter().filter(|(_, n)| *n > 0).map(|(t, n)| (format!("  {}", t.words()), n.to_string())));
    rows.push(("일별 신청 (applications by day)".into(), String::new()));
    rows.extend(by_day.iter().map(|(day, n)| (format!("  {day}"), n.to_string())));
    let deleted: i64 = purged.iter().map(|c| c.applications).sum();
    rows.push(("개인정보 삭제됨 (deleted, counts kept)".into(), deleted.to_string()));

    // Hangul is two columns wide in a terminal.
    let width = |s: &str| s.chars().map(|c| if c >= '\u{1100}' { 2 } else { 1 }).sum::<usize>();
    let label_width = rows.iter().filter(|(_, v)| !v.is_empty()).map(|(l, _)| width(l)).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        if value.is_empty() {
            out.push_str(&format!("{label}\n"));
        } else {
            let pad = " ".repeat(label_width.saturating_sub(width(&label)));
            out.push_str(&format!("{label}{pad}  {value:>6}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::fixtures::{input, seoul, simple};
    use crate::summary::totals;

    fn main() -> EventId {
        EventId::default_id()
    }

    /// The totals of `stored` (applications of the fixtures' one event).
    fn totals_of(stored: Vec<Application>) -> Totals {
        let input = input(stored);
        totals(&input, &input.events[0])
    }

    fn purged(day: &str, kind: OrganizationType, status: Status, applications: i64, attendees: i64) -> PurgedCount {
        PurgedCount {
            event: main(),
            day: day.parse().unwrap(),
            organization_type: kind,
            status,
            applications,
            attendees,
        }
    }

    #[test]
    fn the_counts_of_purged_applications_add_to_the_totals_as_if_they_were_stored() {
        let stored = vec![
            simple(1, "김민준", Some(2), Status::Accepted, "2022-11-15T01:00:00Z"),
            simple(2, "이서연", None, Status::Accepted, "2022-11-15T02:00:00Z"),
            simple(3, "박지훈", Some(3), Status::Cancelled, "2022-11-16T01:00:00Z"),
        ];
        let whole = totals_of(stored.clone());
        // The same applications, purged: their counts as purge keeps them.
        let kept = tally(
            stored.iter().map(|a| Counted {
                email: &a.email,
                organization: a.fields.organization.as_deref(),
                status: a.status,
                attendees: a.fields.attendees,
                received_at: a.received_at,
            }),
            &main(),
            &seoul(),
        );
        assert_eq!(with_purged(totals_of(Vec::new()), &kept), whole);
        assert_eq!(whole.capacity_left, Some(37));
        let before = breakdown(&main(), &stored.iter().collect::<Vec<_>>(), &[], &seoul());
        let after = breakdown(&main(), &[], &kept, &seoul());
        let without_deleted =
            |t: &str| t.lines().filter(|l| !l.starts_with("개인정보 삭제됨")).collect::<Vec<_>>().join("\n");
        assert_eq!(without_deleted(&before), without_deleted(&after), "purging changes no count");
        assert!(after.lines().any(|l| l.starts_with("개인정보 삭제됨") && l.ends_with(" 3")), "{after}");
    }

    #[test]
    fn stored_and_purged_applications_are_counted_together_by_type_and_day() {
        let stored = vec![simple(1, "김민준", None, Status::Accepted, "2022-11-15T01:00:00Z")];
        let kept = vec![
            purged("2022-11-15", OrganizationType::University, Status::Late, 2, 2),
            purged("2022-11-17", OrganizationType::Company, Status::Accepted, 1, 4),
        ];
        let text = breakdown(&main(), &stored.iter().collect::<Vec<_>>(), &kept, &seoul());
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        let shown = |label: &str, n: &str| lines.iter().any(|l| l.starts_with(label) && l.ends_with(&format!(" {n}")));
        assert!(shown("  기업 (company)", "2"), "{text}");
        assert!(shown("  대학 (university)", "2"), "{text}");
        assert!(!text.contains("연구기관"), "types without applications are left out:\n{text}");
        assert!(shown("  2022-11-15", "3") && shown("  2022-11-17", "1"), "{text}");
        assert!(shown("개인정보 삭제됨", "3"), "{text}");
        let t = with_purged(totals_of(stored), &kept);
        assert_eq!((t.accepted, t.attendees, t.late, t.capacity_left), (2, 5, 2, Some(35)));
    }
}
