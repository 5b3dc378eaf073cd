//! The events of the configuration: `[event]` or `[[event]]` as written, and the validated
//! [`EventConfig`] each becomes (dates, durations, keywords, the announcement's file).

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvent {
    /// Required in `[[event]]`; the single `[event]` defaults to [`EventId::DEFAULT`].
    id: Option<String>,
    name: String,
    opens: Option<String>,
    deadline: String,
    /// Required in the first event; later ones default to it.
    timezone: Option<String>,
    starts_at: String,
    venue: String,
    contact: Option<String>,
    capacity: Option<u32>,
    keywords: Option<Vec<String>>,
    announcement_message_id: Option<OneOrMany>,
    /// The end of the event for the calendar (default: three hours after `starts_at`).
    ends_at: Option<String>,
    /// How long before `starts_at` accepted applicants are reminded (`"1d"`; none by default).
    remind_before: Option<String>,
    /// How long after the end the thank-you goes out (`"1d"`; none by default).
    thank_you_after: Option<String>,
    /// How to get to the venue (shown in the reminder).
    directions: Option<String>,
    announcement_file: Option<PathBuf>,
}

/// The events as written: one `[event]` table or an array of `[[event]]` tables. Read by hand
/// rather than `#[serde(untagged)]`, so that a misspelt key inside still names itself.
#[derive(Debug)]
pub(super) enum RawEvents {
    One(Box<RawEvent>),
    Many(Vec<RawEvent>),
}

impl<'de> Deserialize<'de> for RawEvents {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<RawEvents, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        struct Events;
        impl<'de> serde::de::Visitor<'de> for Events {
            type Value = RawEvents;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an [event] table or [[event]] tables")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<RawEvents, A::Error> {
                RawEvent::deserialize(MapAccessDeserializer::new(map)).map(|e| RawEvents::One(Box::new(e)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> std::result::Result<RawEvents, A::Error> {
                Vec::<RawEvent>::deserialize(SeqAccessDeserializer::new(seq)).map(RawEvents::Many)
            }
        }
        deserializer.deserialize_any(Events)
    }
}

/// `"x"` or `["x", "y"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct EventConfig {
    /// `ws-2211`: in the database, in subject tags and plus-addresses, in staff commands.
    pub id: EventId,
    pub name: String,
    /// Mail that arrived at the server before this instant is recorded and never answered
    /// (`None`: applications are taken from the start).
    pub opens: Option<Timestamp>,
    /// Mail that arrived at the server after this instant is late.
    pub deadline: Timestamp,
    pub timezone: TimeZone,
    pub timezone_name: String,
    pub starts_at: Timestamp,
    pub venue: String,
    /// Who applicants can write to or call about a problem (shown in rejections).
    pub contact: Option<String>,
    /// How many people the venue takes; past it, applications are waitlisted.
    pub capacity: Option<u32>,
    /// Words in a subject or text that name this event (routing, see [`crate::domain::route`]).
    pub keywords: Vec<String>,
    /// Message-IDs (without angle brackets) of the announcements staff sent for this event: a
    /// reply or forward in their thread is for this event.
    pub announcement_message_ids: Vec<String>,
    /// The end of the event, for the calendar ([`DEFAULT_LENGTH`] after `starts_at` unless set).
    pub ends_at: Timestamp,
    /// Accepted applicants are reminded this long before `starts_at` (`None`: no reminder).
    pub remind_before: Option<SignedDuration>,
    /// The thank-you goes out this long after `ends_at` (`None`: none).
    pub thank_you_after: Option<SignedDuration>,
    /// How to get to the venue, for the reminder.
    pub directions: Option<String>,
    /// The announcement the center sent (`announcement_file`, an `.eml` or text), read at load:
    /// its text is never taken for an applicant's, and values typed into its quoted form are.
    pub announcement: Option<std::sync::Arc<crate::parse::Announcement>>,
    /// Where it was read from (absolute, or as configured relative to the configuration's
    /// directory): a large message read in a child process reads it there too.
    pub announcement_file: Option<PathBuf>,
}

/// How long an event lasts when `ends_at` is not set: three hours.
pub const DEFAULT_LENGTH: SignedDuration = SignedDuration::from_hours(3);

impl EventConfig {
    /// The event's times, as the reminder and the thank-you see them.
    pub fn times(&self) -> crate::domain::EventTimes {
        crate::domain::EventTimes {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            remind_before: self.remind_before,
            thank_you_after: self.thank_you_after,
        }
    }

    /// The event as [`crate::domain::route`] sees it.
    pub fn routing(&self) -> EventRouting<'_> {
        EventRouting { id: &self.id, opens: self.opens, deadline: self.deadline, keywords: &self.keywords }
    }
}

/// Without `opens`, a first start answers at most this many messages already in the mailbox
/// without `--accept-backlog`.
pub const DEFAULT_BACKLOG_LIMIT: u64 = 50;

/// The events, validated: `[event]` (its id defaults to [`EventId::DEFAULT`]) or `[[event]]`
/// (each with its own id). Keys in messages are `event.deadline` for the single form and
/// `event[2].deadline` for the second of several.
pub(super) fn events(raw: RawEvents, resolve: impl Fn(PathBuf) -> PathBuf) -> Result<Vec<EventConfig>> {
    let (single, raws) = match raw {
        RawEvents::One(event) => (true, vec![*event]),
        RawEvents::Many(events) => (false, events),
    };
    if raws.is_empty() {
        bail!("[[event]] is empty: at least one event takes applications");
    }
    let mut events: Vec<EventConfig> = Vec::with_capacity(raws.len());
    for (n, r) in raws.into_iter().enumerate() {
        let key = |name: &str| if single { format!("event.{name}") } else { format!("event[{}].{name}", n + 1) };
        let id = match (&r.id, single) {
            (Some(id), _) => EventId::parse(id).with_context(|| key("id"))?,
            (None, true) => EventId::default_id(),
            (None, false) => bail!("{} is missing: each [[event]] needs a short id such as \"ws-2211\"", key("id")),
        };
        if events.iter().any(|e| e.id == id) {
            bail!("{} {:?} is used by two events; each event needs its own id", key("id"), id.as_str());
        }
        let (timezone, timezone_name) = match (&r.timezone, events.first()) {
            (Some(name), _) => (
                jiff::tz::db()
                    .get(name)
                    .with_context(|| format!("{} {name:?} is not a known time zone", key("timezone")))?,
                name.clone(),
            ),
            (None, Some(first)) => (first.timezone.clone(), first.timezone_name.clone()),
            (None, None) => bail!("{} is missing, e.g. \"Asia/Seoul\"", key("timezone")),
        };
        let deadline = timestamp(&key("deadline"), &r.deadline)?;
        let starts_at = timestamp(&key("starts_at"), &r.starts_at)?;
        if starts_at < deadline {
            bail!(
                "{} ({}) is before {} ({}): applications would still be taken after the workshop began; check both dates",
                key("starts_at"),
                r.starts_at,
                key("deadline"),
                r.deadline
            );
        }
        let opens = r.opens.as_deref().map(|o| timestamp(&key("opens"), o)).transpose()?;
        if let (Some(opens), Some(text)) = (opens, &r.opens) {
            if opens >= deadline {
                bail!(
                    "{} ({text}) is not before {} ({}): no mail could ever be on time",
                    key("opens"),
                    key("deadline"),
                    r.deadline
                );
            }
        }
        let keywords = r.keywords.unwrap_or_default();
        if keywords.iter().any(|k| k.trim().is_empty()) {
            bail!("{} has an empty keyword", key("keywords"));
        }
        let announcement_message_ids = match r.announcement_message_id {
            None => Vec::new(),
            Some(OneOrMany::One(id)) => vec![id],
            Some(OneOrMany::Many(ids)) => ids,
        }
        .iter()
        .map(|id| {
            let bare = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
            if bare.is_empty() || !bare.contains('@') || bare.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
            {
                bail!(
                    "{} {id:?} is not a Message-ID like \"<announcement-1@kaist.ac.kr>\"",
                    key("announcement_message_id")
                );
            }
            Ok(bare.to_owned())
        })
        .collect::<Result<Vec<_>>>()?;
        let ends_at = match &r.ends_at {
            Some(text) => timestamp(&key("ends_at"), text)?,
            None => starts_at
                .checked_add(DEFAULT_LENGTH)
                .with_context(|| format!("{} is out of range", key("starts_at")))?,
        };
        if ends_at <= starts_at {
            bail!(
                "{} ({}) is not after {} ({})",
                key("ends_at"),
                r.ends_at.as_deref().unwrap_or_default(),
                key("starts_at"),
                r.starts_at
            );
        }
        let remind_before = r.remind_before.as_deref().map(|t| event_duration(&key("remind_before"), t)).transpose()?;
        let thank_you_after =
            r.thank_you_after.as_deref().map(|t| event_duration(&key("thank_you_after"), t)).transpose()?;
        let directions = r.directions.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        let announcement_file = r.announcement_file.map(&resolve);
        events.push(EventConfig {
            id,
            name: non_empty(&key("name"), &r.name)?,
            opens,
            deadline,
            timezone,
            timezone_name,
            starts_at,
            venue: non_empty(&key("venue"), &r.venue)?,
            contact: r.contact,
            capacity: match r.capacity {
                Some(0) => bail!("{} = 0 would put every applicant on the waiting list: it must be at least 1 (leave it out for no limit)", key("capacity")),
                capacity => capacity,
            },
            keywords: keywords.into_iter().map(|k| k.trim().to_owned()).collect(),
            announcement_message_ids,
            ends_at,
            remind_before,
            thank_you_after,
            directions,
            announcement: announcement_file.as_ref().map(|f| announcement(&key("announcement_file"), f)).transpose()?,
            announcement_file,
        });
    }
    Ok(events)
}

/// The announcement in `file`, which must hold some text.
pub(super) fn announcement(key: &str, file: &Path) -> Result<std::sync::Arc<crate::parse::Announcement>> {
    let raw = std::fs::read(file).with_context(|| format!("cannot read {key} {}", file.display()))?;
    let announcement = crate::parse::Announcement::read(&raw);
    if announcement.is_empty() {
        bail!("{key} {} holds no text", file.display());
    }
    Ok(std::sync::Arc::new(announcement))
}

/// A positive duration of an event's schedule: `"1d"` (a day counts as 24 hours), `"12h"`,
/// `"90m"`, as the other duration keys write them.
pub(super) fn event_duration(key: &str, text: &str) -> Result<SignedDuration> {
    let span: jiff::Span =
        text.parse().with_context(|| format!("{key} {text:?} is not a duration like \"1d\" or \"12h\""))?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .with_context(|| format!("{key} {text:?} is not a duration like \"1d\" or \"12h\""))?;
    if d <= SignedDuration::ZERO {
        bail!("{key} must be longer than zero");
    }
    if d > MAX_SCHEDULE {
        bail!("{key} {text:?} is too long: it must be at most 366 days (\"366d\")");
    }
    Ok(d)
}

/// The longest reminder ahead of an event, or thank-you after it: a year.
const MAX_SCHEDULE: SignedDuration = SignedDuration::from_hours(366 * 24);
