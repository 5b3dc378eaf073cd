//! Replies to applicants: rendered from the templates in `config/templates/` (Korean first,
//! English below) into a complete RFC 5322 message, ready for the outbox. The templates are
//! built in; `[replies] templates_dir` replaces them file by file ([`templates`]). Each is
//! signed with the center's name from `[center]`.
//!
//! Every reply carries `Auto-Submitted: auto-replied` (RFC 3834), `In-Reply-To` and `References`
//! naming the applicant's message, our loop-marker header, and a Message-ID of ours that is fixed
//! here, before the first send attempt. Text taken from the applicant's mail (subject, display
//! name) was decoded by the parser and is stripped of control characters before lettre encodes
//! it again, so a subject cannot smuggle in a header.
//!
//! Templates are loaded and test-rendered when the [`Replier`] is built, so a broken template is
//! a configuration error (reported by `smebridge check` and at start-up), not a failure at send
//! time.

pub mod calendar;
mod notice;
mod templates;

use anyhow::{Context, Result};
use jiff::{Timestamp, Zoned};
use lettre::message::header::ContentType;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use serde::Serialize;

use crate::config::{CenterConfig, Config, EventConfig, Retention};
pub use crate::domain::ReplyKind;
use crate::domain::{ApplicantFields, Change, EmailAddress, MailKind, Status};
use crate::parse::{clean_header_text, LOOP_HEADER};
use crate::store::NewReply;

pub use calendar::CalendarSent;
pub use templates::{Origin, TemplateOrigins};

/// The template files of each kind of reply (the kinds themselves are [`crate::domain::ReplyKind`]).
impl ReplyKind {
    fn template_stem(self) -> &'static str {
        match self {
            ReplyKind::Reopened => "ack",
            other => other.as_str(),
        }
    }

    fn templates(self) -> [String; 2] {
        let stem = self.template_stem();
        [format!("{stem}.ko.txt.j2"), format!("{stem}.en.txt.j2")]
    }
}

/// Whom a reply goes to and what it answers.
#[derive(Debug, Clone)]
pub struct Addressee<'a> {
    pub to: &'a EmailAddress,
    pub display_name: Option<&'a str>,
    /// The applicant's subject, decoded.
    pub subject: Option<&'a str>,
    /// The Message-ID being answered, without angle brackets.
    pub in_reply_to: &'a str,
    /// SHA-256 of the message being answered: makes our Message-ID stable.
    pub answers_sha256: &'a str,
}

/// What a reply says about the application.
#[derive(Debug, Clone)]
pub struct ReplyFacts<'a> {
    /// The event the reply is about (for the question which event a sender means: any event,
    /// the question names those in `open_events`).
    pub event: &'a EventConfig,
    /// The events taking applications, for the question which event a sender means.
    pub open_events: &'a [&'a EventConfig],
    pub application_id: Option<i64>,
    /// English first (the applicant wrote in English); Korean first otherwise.
    pub english: bool,
    pub fields: &'a ApplicantFields,
    pub arrived_at: Timestamp,
    pub changes: &'a [Change],
    /// The calendar files sent for the application before (what an acknowledgement or a
    /// cancellation attaches depends on it: [`calendar::method_for`]).
    pub calendar: CalendarSent,
    /// The application's status, for a reply that states it (the answer to a status request).
    pub status: Option<Status>,
    /// The event the application left (staff moved it): its calendar entry, if one was
    /// published, is withdrawn by a `METHOD:CANCEL` file beside the reply's own.
    pub withdrawn: Option<Withdrawn<'a>>,
}

/// The calendar entry of an event an application left.
#[derive(Debug, Clone, Copy)]
pub struct Withdrawn<'a> {
    pub event: &'a EventConfig,
    /// The calendar files sent for the application about that event.
    pub calendar: CalendarSent,
}

impl<'a> ReplyFacts<'a> {
    /// The facts of a reply about application `application_id` for `event`, in Korean first,
    /// stating no change, no earlier calendar and no status; the rest is set with struct update.
    pub fn about(
        event: &'a EventConfig,
        application_id: i64,
        fields: &'a ApplicantFields,
        arrived_at: Timestamp,
    ) -> ReplyFacts<'a> {
        ReplyFacts {
            event,
            open_events: &[],
            application_id: Some(application_id),
            english: false,
            fields,
            arrived_at,
            changes: &[],
            calendar: CalendarSent::default(),
            status: None,
            withdrawn: None,
        }
    }
}

pub struct Replier {
    env: minijinja::Environment<'static>,
    origins: TemplateOrigins,
    from: Mailbox,
    envelope_from: Option<EmailAddress>,
    /// Every event, for the self-test.
    events: Vec<EventConfig>,
    center: CenterConfig,
    retention: Option<Retention>,
}

impl Replier {
    /// Load the templates (the files in `[replies] templates_dir`, the built-in text for the
    /// rest) and render each once with sample data.
    pub fn new(config: &Config) -> Result<Replier> {
        let (env, origins) = templates::load(&config.replies.templates_dir, config.replies.templates_dir_set)?;
        let replier = Replier {
            env,
            origins,
            from: config.smtp.from.clone(),
            envelope_from: config.smtp.envelope_from.clone(),
            events: config.events.clone(),
            center: config.center.clone(),
            retention: config.retention,
        };
        replier.self_test()?;
        Ok(replier)
    }

    /// Where each template came from (`smebridge check` prints it).
    pub fn template_origins(&self) -> &TemplateOrigins {
        &self.origins
    }

    fn self_test(&self) -> Result<()> {
        let fields = ApplicantFields {
            name: Some("김민준".into()),
            organization: Some("한빛테크".into()),
            position: None,
            phone: Some("010-1234-5678".into()),
            attendees: Some(2),
        };
        let change = Change { field: "phone", before: None, after: "010-1234-5678".into() };
        let all: Vec<&EventConfig> = self.events.iter().collect();
        for event in &self.events {
            let facts = ReplyFacts {
                event,
                open_events: &all,
                application_id: Some(1),
                english: false,
                fields: &fields,
                arrived_at: event.deadline,
                changes: std::slice::from_ref(&change),
                calendar: CalendarSent::default(),
                status: Some(Status::Accepted),
                withdrawn: None,
            };
            let context = self.context(&facts);
            for (name, _) in templates::BUILT_IN {
                self.env
                    .get_template(name)
                    .and_then(|t| t.render(&context))
                    .with_context(|| format!("{} does not render", self.origins.name_in_words(name)))?;
            }
            notice::check_states_period(self, event, &context)?;
        }
        Ok(())
    }

    /// The templates' context; the privacy notice's period counts from the reply's event.
    fn context<'a>(&'a self, facts: &'a ReplyFacts<'a>) -> TemplateContext<'a> {
        let mut context = TemplateContext::new(&self.center, facts);
        context.retention = notice::retention_view(self.retention, facts.event);
        context
    }

    /// The text of a reply: both languages, the applicant's first; each followed by the privacy
    /// notice in an acknowledgement ([`ReplyKind::carries_privacy_notice`]).
    pub fn body(&self, kind: ReplyKind, facts: &ReplyFacts<'_>) -> Result<String> {
        let context = self.context(facts);
        let render = |name: &str| -> Result<String> {
            let text = self.env.get_template(name)?.render(&context).with_context(|| name.to_owned())?;
            Ok(text.trim_end().to_owned())
        };
        let [ko, en] = kind.templates().map(|name| render(&name));
        let [ko, en] = match kind.carries_privacy_notice() {
            true => [(ko, notice::TEMPLATES[0]), (en, notice::TEMPLATES[1])]
                .map(|(text, notice)| Ok(format!("{}\n\n{}", text?, render(notice)?))),
            false => [ko, en],
        };
        let (first, second) = if facts.english { (en?, ko?) } else { (ko?, en?) };
        Ok(format!("{first}\n\n------------------------------------------------------------\n\n{second}\n"))
    }

    /// A complete reply message for the outbox.
    pub fn render(&self, kind: ReplyKind, to: &Addressee<'_>, facts: &ReplyFacts<'_>) -> Result<NewReply> {
        let body = self.body(kind, facts)?;
        let message_id = format!(
            "smebridge.{}.{}@{}",
            kind.as_str(),
            &to.answers_sha256[..24.min(to.answers_sha256.len())],
            self.from.email.domain()
        );
        let recipient =
            Mailbox::new(to.display_name.map(clean_header_text).filter(|n| !n.is_empty()), to.to.to_lettre());
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(recipient)
            .subject(reply_subject(
                to.subject,
                if kind == ReplyKind::WhichEvent { &self.center.name } else { &facts.event.name },
            ))
            .message_id(Some(format!("<{message_id}>")))
            .header(AutoSubmitted("auto-replied".into()))
            .header(LoopMarker(self.from.email.to_string()));
        if is_safe_message_id(to.in_reply_to) {
            builder = builder.in_reply_to(format!("<{}>", to.in_reply_to)).references(format!("<{}>", to.in_reply_to));
        }
        let text = SinglePart::plain(body);
        let files = self.calendar_files(kind, facts)?;
        let message = if files.is_empty() {
            builder.singlepart(text)
        } else {
            builder.multipart(
                files.into_iter().fold(MultiPart::mixed().singlepart(text), |mixed, file| mixed.singlepart(file)),
            )
        }
        .context("cannot build the reply")?;
        Ok(NewReply {
            kind: MailKind::Reply(kind),
            message_id,
            envelope_from: self.envelope_from.clone(),
            recipient: to.to.clone(),
            raw: message.formatted(),
            event: (kind != ReplyKind::WhichEvent).then(|| facts.event.id.clone()),
            calendar: (facts.application_id.is_some()
                && calendar::method_for(kind, facts.calendar) == Some(calendar::Method::Publish))
            .then(|| calendar_facts(facts.event)),
        })
    }
}

impl Replier {
    /// The `.ics` files a reply of `kind` carries (see [`calendar`]): the withdrawal of the
    /// entry of an event the application left, if one was published, then the reply's own entry,
    /// if any. Made from the events' facts and the application's number, so the same reply gives
    /// the same files; `DTSTAMP` is when the mail being answered arrived.
    fn calendar_files(&self, kind: ReplyKind, facts: &ReplyFacts<'_>) -> Result<Vec<SinglePart>> {
        let Some(id) = facts.application_id else { return Ok(Vec::new()) };
        let withdrawal = facts
            .withdrawn
            .filter(|w| w.calendar.published)
            .map(|w| (calendar::Method::Cancel, w.event, CalendarSent { count: facts.calendar.count, ..w.calendar }));
        let own = calendar::method_for(kind, facts.calendar).map(|method| (method, facts.event, facts.calendar));
        withdrawal
            .into_iter()
            .chain(own)
            .map(|(method, event, sent)| {
                let ics = self.calendar_entry(method, event, id, sent.count, facts.arrived_at);
                let content_type =
                    ContentType::parse(&format!("text/calendar; charset=utf-8; method={}", method.as_str()))
                        .context("the calendar's content type")?;
                Ok(Attachment::new(format!("{}.ics", event.id.as_str())).body(ics, content_type))
            })
            .collect()
    }

    /// One calendar file: `method` for application `id`'s entry in `event`.
    fn calendar_entry(
        &self,
        method: calendar::Method,
        event: &EventConfig,
        id: i64,
        sequence: u32,
        stamp: Timestamp,
    ) -> String {
        let number = application_number(id);
        let uid = calendar::uid(&number, event.id.as_str(), self.from.email.domain());
        let description =
            format!("신청번호 {number} / Application no. {number}\n{} / {}", self.center.name, self.center.name_en);
        let entry = calendar::Entry {
            method,
            uid: &uid,
            sequence,
            stamp,
            starts_at: event.starts_at,
            ends_at: event.ends_at,
            timezone: &event.timezone,
            tzid: &event.timezone_name,
            summary: &event.name,
            location: &event.venue,
            description: &description,
            organizer_name: &self.center.name,
            organizer_email: self.from.email.as_ref(),
        };
        calendar::ics(&entry)
    }
}

/// What `event`'s calendar entry says: its start, end, time zone, place and name, one line
/// (stored with each reply that publishes the entry, `outbox.calendar`). When it changes, the
/// entries published before are out of date.
pub fn calendar_facts(event: &EventConfig) -> String {
    format!("{} {} {} | {} | {}", event.starts_at, event.ends_at, event.timezone_name, event.venue, event.name)
}

/// The longest reply subject, in characters: a sender's 100,000-character subject must not make
/// a 100 KB header (RFC 5322 asks for lines under 998 bytes; mail clients show far less).
pub const MAX_SUBJECT_CHARS: usize = 200;

/// `Re: ` and the applicant's subject on one line; the event's name when there was no subject.
/// At most [`MAX_SUBJECT_CHARS`] characters, a longer one cut with `…`.
pub fn reply_subject(original: Option<&str>, event_name: &str) -> String {
    let original = original.map(clean_header_text).unwrap_or_default();
    let subject = if original.is_empty() {
        format!("Re: {}", clean_header_text(event_name))
    } else {
        let lower = original.to_lowercase();
        if lower.starts_with("re:")
            || lower.starts_with("re :")
            || original.starts_with("회신:")
            || original.starts_with("답장:")
        {
            original
        } else {
            format!("Re: {original}")
        }
    };
    shortened(subject, MAX_SUBJECT_CHARS)
}

/// `text` cut to at most `max` characters (on a character boundary), ending with `…` when cut.
fn shortened(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// Only plain visible ASCII goes into `In-Reply-To`/`References`.
fn is_safe_message_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 250 && id.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

// --- headers -----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(crate) struct AutoSubmitted(pub(crate) String);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LoopMarker(pub(crate) String);

impl Header for LoopMarker {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(LOOP_HEADER)
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(LoopMarker(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

// --- template context --------------------------------------------------------------------------

#[derive(Clone, Serialize)]
struct TemplateContext<'a> {
    event: EventView<'a>,
    /// The events taking applications (the question which event a sender means lists them).
    events: Vec<EventView<'a>>,
    center: CenterView<'a>,
    application_no: Option<String>,
    applicant: &'a ApplicantFields,
    attendees: u32,
    arrived_ko: String,
    arrived_en: String,
    missing: Vec<FieldLabel>,
    changes: Vec<ChangeView<'a>>,
    /// `[retention]` for the privacy notice (none when not configured).
    retention: Option<notice::RetentionView>,
    /// The application's status in words, for a reply that states it.
    status: Option<FieldLabel>,
}

#[derive(Clone, Serialize)]
struct EventView<'a> {
    id: &'a str,
    /// `[ws-2211]`: what to put in a subject.
    tag: String,
    name: &'a str,
    venue: &'a str,
    contact: Option<&'a str>,
    /// How to get to the venue (`[event] directions`).
    directions: Option<&'a str>,
    starts_ko: String,
    starts_en: String,
    deadline_ko: String,
    deadline_en: String,
}

/// The signature: `{{ center.name }}` under the Korean text, `{{ center.name_en }}` under the
/// English one.
#[derive(Clone, Serialize)]
struct CenterView<'a> {
    name: &'a str,
    name_en: &'a str,
}

#[derive(Clone, Serialize)]
struct FieldLabel {
    ko: &'static str,
    en: &'static str,
}

#[derive(Clone, Serialize)]
struct ChangeView<'a> {
    ko: &'static str,
    en: &'static str,
    before: Option<&'a str>,
    after: &'a str,
}

impl<'a> TemplateContext<'a> {
    fn new(center: &'a CenterConfig, facts: &'a ReplyFacts<'a>) -> TemplateContext<'a> {
        let event = facts.event;
        let zoned = |t: Timestamp| t.to_zoned(event.timezone.clone());
        TemplateContext {
            event: EventView::new(event),
            events: facts.open_events.iter().map(|e| EventView::new(e)).collect(),
            center: CenterView { name: &center.name, name_en: &center.name_en },
            application_no: facts.application_id.map(application_number),
            applicant: facts.fields,
            attendees: facts.fields.attendees.unwrap_or(1),
            arrived_ko: format_ko(&zoned(facts.arrived_at)),
            arrived_en: format_en(&zoned(facts.arrived_at)),
            missing: facts.fields.missing().into_iter().map(field_label).collect(),
            changes: facts
                .changes
                .iter()
                .map(|c| {
                    let label = field_label(c.field);
                    ChangeView { ko: label.ko, en: label.en, before: c.before.as_deref(), after: &c.after }
                })
                .collect(),
            retention: None,
            status: facts.status.map(status_label),
        }
    }
}

fn status_label(status: Status) -> FieldLabel {
    let (ko, en) = match status {
        Status::Accepted => ("참가 확정", "accepted"),
        Status::Waitlisted => {
            ("대기 (자리가 나면 알려 드립니다)", "on the waiting list (we will tell you when a place opens up)")
        }
        Status::Late => ("마감 후 접수 (담당자가 확인합니다)", "received after the deadline (staff will look at it)"),
        Status::Cancelled => ("취소됨", "cancelled"),
    };
    FieldLabel { ko, en }
}

impl<'a> EventView<'a> {
    fn new(event: &'a EventConfig) -> EventView<'a> {
        let zoned = |t: Timestamp| t.to_zoned(event.timezone.clone());
        EventView {
            id: event.id.as_str(),
            tag: event.id.tag(),
            name: &event.name,
            venue: &event.venue,
            contact: event.contact.as_deref(),
            directions: event.directions.as_deref(),
            starts_ko: format_ko(&zoned(event.starts_at)),
            starts_en: format_en(&zoned(event.starts_at)),
            deadline_ko: format_ko(&zoned(event.deadline)),
            deadline_en: format_en(&zoned(event.deadline)),
        }
    }
}

/// The number applicants quote when they write again, e.g. `SME-0007`.
pub fn application_number(id: i64) -> String {
    format!("SME-{id:04}")
}

fn field_label(field: &str) -> FieldLabel {
    let (ko, en) = match field {
        "name" => ("성명", "Name"),
        "organization" => ("소속", "Organization"),
        "position" => ("직위", "Position"),
        "phone" => ("연락처", "Phone"),
        "attendees" => ("참석 인원", "Attendees"),
        _ => ("기타", "Other"),
    };
    FieldLabel { ko, en }
}

/// `2022년 11월 18일 (금) 오후 1:30`
pub fn format_ko(t: &Zoned) -> String {
    const DAYS: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];
    let day = DAYS[t.weekday().to_monday_zero_offset() as usize];
    let (half, hour) = twelve_hour(t.hour());
    let half = if half == "am" { "오전" } else { "오후" };
    format!("{}년 {}월 {}일 ({day}) {half} {hour}:{:02}", t.year(), t.month(), t.day(), t.minute())
}

/// `Friday 18 November 2022, 1:30 pm`
pub fn format_en(t: &Zoned) -> String {
    let (half, hour) = twelve_hour(t.hour());
    format!("{}, {hour}:{:02} {half}", t.strftime("%A %-d %B %Y"), t.minute())
}

fn twelve_hour(hour: i8) -> (&'static str, i8) {
    let half = if hour < 12 { "am" } else { "pm" };
    let h = match hour % 12 {
        0 => 12,
        h => h,
    };
    (half, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seoul(s: &str) -> Zoned {
        s.parse::<Timestamp>().unwrap().to_zoned(jiff::tz::db().get("Asia/Seoul").unwrap())
    }

    #[test]
    fn dates_read_naturally_in_both_languages() {
        let t = seoul("2022-11-18T13:30:00+09:00");
        assert_eq!(format_ko(&t), "2022년 11월 18일 (금) 오후 1:30");
        assert_eq!(format_en(&t), "Friday 18 November 2022, 1:30 pm");
        let midnight = seoul("2022-11-17T23:59:59+09:00");
        assert_eq!(format_ko(&midnight), "2022년 11월 17일 (목) 오후 11:59");
        assert_eq!(format_en(&seoul("2022-11-18T00:05:00+09:00")), "Friday 18 November 2022, 12:05 am");
    }

    #[test]
    fn subjects_are_one_line_and_not_re_re() {
        assert_eq!(reply_subject(Some("워크숍 신청"), "W"), "Re: 워크숍 신청");
        assert_eq!(reply_subject(Some("RE: 워크숍 신청"), "W"), "RE: 워크숍 신청");
        assert_eq!(reply_subject(Some("Hi\r\nBcc: x@evil.example"), "W"), "Re: Hi Bcc: x@evil.example");
        assert_eq!(reply_subject(None, "SME Workshop"), "Re: SME Workshop");
        assert_eq!(reply_subject(Some("  "), "SME Workshop"), "Re: SME Workshop");
    }

    #[test]
    fn a_huge_subject_is_cut_on_a_character_boundary_and_stays_one_line() {
        // 100,000 characters of Hangul (three bytes each) with line breaks sprinkled in.
        let huge = "신청\r\n합니다 ".repeat(12_500);
        let subject = reply_subject(Some(&huge), "W");
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(subject.starts_with("Re: 신청 합니다 신청"), "{subject}");
        assert!(subject.ends_with('…'));
        assert!(!subject.contains(['\r', '\n']));
        // Exactly at the limit: kept whole.
        let fits = "가".repeat(MAX_SUBJECT_CHARS - 4);
        assert_eq!(reply_subject(Some(&fits), "W"), format!("Re: {fits}"));
        let over = "가".repeat(MAX_SUBJECT_CHARS - 3);
        assert!(reply_subject(Some(&over), "W").ends_with("가…"));
    }

    #[test]
    fn only_clean_message_ids_are_referenced() {
        assert!(is_safe_message_id("abc.123@mail.example"));
        assert!(!is_safe_message_id("abc@x>\r\nBcc: y"));
        assert!(!is_safe_message_id(""));
    }

    #[test]
    fn application_numbers() {
        assert_eq!(application_number(7), "SME-0007");
        assert_eq!(application_number(12345), "SME-12345");
    }
}
