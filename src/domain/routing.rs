//! Which event a message is for, when one mailbox takes applications for several.
//!
//! [`route`] looks at the message in a fixed order and records the first rule that picks one
//! event as the reason ([`RouteReason`]):
//!
//! 1. **thread**: it answers or forwards mail of one event: its `In-Reply-To`/`References` name a
//!    reply smebridge sent for that event (the outbox has their Message-IDs) or an announcement
//!    staff registered (`announcement_message_id`). The caller looks those up and passes the
//!    events found ([`Addressed::thread`]);
//! 2. **plus-address or tag**: it was sent to `smebridge+ws-2211@…` (To, Cc or Delivered-To), or
//!    its subject carries `[ws-2211]`;
//! 3. **keyword**: the subject or the mail's own text (quotes removed) names one of the event's
//!    keywords, or its id;
//! 4. **only open**: exactly one event takes applications at the moment the mail arrived.
//!
//! A rule that finds several events narrows the choice to them and the next rule decides among
//! those; a rule that finds none leaves the choice as it was. What no rule settles is unrouted:
//! staff assign it, and the sender is asked which event they mean. A desk with one event routes
//! everything to it (reason `only_event`), whenever it arrives, as before several events existed.

use std::fmt;

use jiff::Timestamp;

use super::{EmailAddress, EventId};

/// An event as routing sees it.
#[derive(Debug, Clone, Copy)]
pub struct EventRouting<'a> {
    pub id: &'a EventId,
    /// Applications are taken from this moment (`None`: from the start).
    pub opens: Option<Timestamp>,
    /// …until this one (mail that arrives later is late).
    pub deadline: Timestamp,
    /// Words that name the event (`["AI 세미나", "AI seminar"]`), compared without case.
    pub keywords: &'a [String],
}

impl EventRouting<'_> {
    /// Does the event take applications at `t`: after `opens`, by the deadline?
    pub fn open_at(&self, t: Timestamp) -> bool {
        self.opens.is_none_or(|opens| t >= opens) && t <= self.deadline
    }

    /// Did `t` come before the event opened for applications?
    pub fn before_opens(&self, t: Timestamp) -> bool {
        self.opens.is_some_and(|opens| t < opens)
    }
}

/// What a message says about where it is going.
#[derive(Debug, Clone, Copy)]
pub struct Addressed<'a> {
    /// The events of the mail its `In-Reply-To` and `References` name (our replies, registered
    /// announcements), in any order, repeats allowed.
    pub thread: &'a [EventId],
    /// Its `To`, `Cc` and `Delivered-To` addresses.
    pub recipients: &'a [String],
    pub subject: Option<&'a str>,
    /// What the sender wrote, quotes removed.
    pub text: &'a str,
    /// When it arrived at the server.
    pub arrived_at: Timestamp,
}

/// Why a message was given to an event (`messages.route`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteReason {
    /// A reply or forward in the thread of the event's announcement or of a reply we sent for it.
    Thread,
    /// Sent to the center's address with `+<id>`.
    PlusAddress,
    /// `[<id>]` in the subject.
    SubjectTag,
    /// One of the event's keywords (or its id) in the subject or text.
    Keyword,
    /// The only event taking applications when it arrived.
    OnlyOpen,
    /// The desk has this one event.
    OnlyEvent,
    /// Assigned by staff (`smebridge application assign-event`).
    Staff,
}

impl RouteReason {
    pub const ALL: [RouteReason; 7] = [
        RouteReason::Thread,
        RouteReason::PlusAddress,
        RouteReason::SubjectTag,
        RouteReason::Keyword,
        RouteReason::OnlyOpen,
        RouteReason::OnlyEvent,
        RouteReason::Staff,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteReason::Thread => "thread",
            RouteReason::PlusAddress => "plus_address",
            RouteReason::SubjectTag => "subject_tag",
            RouteReason::Keyword => "keyword",
            RouteReason::OnlyOpen => "only_open",
            RouteReason::OnlyEvent => "only_event",
            RouteReason::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<RouteReason> {
        RouteReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for RouteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a message goes: an index into the events given to [`route`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    To {
        event: usize,
        reason: RouteReason,
    },
    /// No rule settled it. `candidates`: the events the rules narrowed it to (all of them when no
    /// rule found any), in the order given.
    Unrouted {
        candidates: Vec<usize>,
    },
}

impl Route {
    pub fn event(&self) -> Option<usize> {
        match self {
            Route::To { event, .. } => Some(*event),
            Route::Unrouted { .. } => None,
        }
    }
}

/// One routing rule: does it name this event, and so why.
type Rule<'r> = dyn Fn(&EventRouting<'_>) -> Option<RouteReason> + 'r;

/// Which of `events` (in configuration order) a message is for; see the module docs. `own` is
/// the center's address (for plus-addresses).
pub fn route(events: &[EventRouting<'_>], own: &EmailAddress, addressed: &Addressed<'_>) -> Route {
    if events.len() == 1 {
        return Route::To { event: 0, reason: RouteReason::OnlyEvent };
    }
    let subject = addressed.subject.unwrap_or("").to_lowercase();
    let text = addressed.text.to_lowercase();
    let plus: Vec<EventId> = addressed.recipients.iter().filter_map(|r| plus_tag(r, own)).collect();

    let in_thread = |e: &EventRouting<'_>| addressed.thread.contains(e.id).then_some(RouteReason::Thread);
    let addressed_to = |e: &EventRouting<'_>| {
        if plus.contains(e.id) {
            Some(RouteReason::PlusAddress)
        } else {
            subject.contains(&e.id.tag()).then_some(RouteReason::SubjectTag)
        }
    };
    let named = |e: &EventRouting<'_>| {
        let names = |word: &str| {
            let word = word.trim().to_lowercase();
            !word.is_empty() && (mentions(&subject, &word) || mentions(&text, &word))
        };
        (names(e.id.as_str()) || e.keywords.iter().any(|k| names(k))).then_some(RouteReason::Keyword)
    };
    let rules: [&Rule<'_>; 3] = [&in_thread, &addressed_to, &named];
    let mut candidates: Vec<usize> = (0..events.len()).collect();
    for rule in rules {
        let found: Vec<(usize, RouteReason)> =
            candidates.iter().filter_map(|&i| rule(&events[i]).map(|reason| (i, reason))).collect();
        match found.as_slice() {
            [] => {}
            [(event, reason)] => return Route::To { event: *event, reason: *reason },
            several => candidates = several.iter().map(|(i, _)| *i).collect(),
        }
    }
    let open: Vec<usize> = candidates.iter().copied().filter(|&i| events[i].open_at(addressed.arrived_at)).collect();
    match open.as_slice() {
        [event] => Route::To { event: *event, reason: RouteReason::OnlyOpen },
        _ => Route::Unrouted { candidates },
    }
}

/// Was a message routed as `route` sent before applications opened? For an event: before its
/// `opens`. Unrouted: before every event's `opens` (no event was open, nor had been).
pub fn skipped_before_opens(events: &[EventRouting<'_>], route: &Route, arrived_at: Timestamp) -> bool {
    match route {
        Route::To { event, .. } => events[*event].before_opens(arrived_at),
        Route::Unrouted { .. } => !events.is_empty() && events.iter().all(|e| e.before_opens(arrived_at)),
    }
}

/// The event id after the `+` of a plus-address of the center's own address
/// (`smebridge+ws-2211@kaist.ac.kr` → `ws-2211`).
fn plus_tag(recipient: &str, own: &EmailAddress) -> Option<EventId> {
    let (own_local, own_domain) = own.as_str().rsplit_once('@')?;
    let (local, domain) = recipient.trim().trim_start_matches('<').trim_end_matches('>').rsplit_once('@')?;
    let (base, tag) = local.split_once('+')?;
    if !base.eq_ignore_ascii_case(own_local) || !domain.eq_ignore_ascii_case(own_domain) {
        return None;
    }
    EventId::parse(tag).ok()
}

/// Does `haystack` (lower case) name `word` (lower case)? A word of ASCII letters and digits must
/// stand on its own (`ai` is not in `email`); other words (Hangul, with punctuation) are found
/// anywhere.
fn mentions(haystack: &str, word: &str) -> bool {
    let ascii_word = word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if !ascii_word {
        return haystack.contains(word);
    }
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
    haystack.match_indices(word).any(|(at, _)| {
        boundary(haystack[..at].chars().next_back()) && boundary(haystack[at + word.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn own() -> EmailAddress {
        EmailAddress::parse("smebridge@kaist.ac.kr").unwrap()
    }

    struct Two {
        ids: [EventId; 2],
        keywords: [Vec<String>; 2],
    }

    /// A workshop open 11/01–11/17 and a seminar open 11/10–11/30, overlapping 11/10–11/17.
    fn two() -> Two {
        Two {
            ids: [EventId::parse("ws-2211").unwrap(), EventId::parse("sem-2212").unwrap()],
            keywords: [vec!["산학협력 워크숍".into()], vec!["AI 세미나".into(), "AI seminar".into()]],
        }
    }

    impl Two {
        fn events(&self) -> Vec<EventRouting<'_>> {
            vec![
                EventRouting {
                    id: &self.ids[0],
                    opens: Some(ts("2022-11-01T00:00:00+09:00")),
                    deadline: ts("2022-11-17T23:59:59+09:00"),
                    keywords: &self.keywords[0],
                },
                EventRouting {
                    id: &self.ids[1],
                    opens: Some(ts("2022-11-10T00:00:00+09:00")),
                    deadline: ts("2022-11-30T23:59:59+09:00"),
                    keywords: &self.keywords[1],
                },
            ]
        }
    }

    /// A mail on the 15th (both open) that says nothing about where it goes.
    fn plain() -> Addressed<'static> {
        Addressed {
            thread: &[],
            recipients: &[],
            subject: Some("참가 신청"),
            text: "성명: 김민준",
            arrived_at: ts("2022-11-15T10:00:00+09:00"),
        }
    }

    #[test]
    fn a_reply_in_an_events_thread_goes_to_that_event_before_anything_else() {
        let two = two();
        let thread = [two.ids[1].clone()];
        // The subject names the other event's tag: the thread comes first.
        let mail = Addressed { thread: &thread, subject: Some("Re: [ws-2211] 산학협력 워크숍"), ..plain() };
        assert_eq!(route(&two.events(), &own(), &mail), Route::To { event: 1, reason: RouteReason::Thread });
    }

    #[test]
    fn a_plus_address_or_a_subject_tag_names_the_event() {
        let two = two();
        let to = ["SMEBRIDGE+SEM-2212@kaist.ac.kr".to_owned()];
        let mail = Addressed { recipients: &to, ..plain() };
        assert_eq!(route(&two.events(), &own(), &mail), Route::To { event: 1, reason: RouteReason::PlusAddress });
        let mail = Addressed { subject: Some("참가 신청 [WS-2211]"), ..plain() };
        assert_eq!(route(&two.events(), &own(), &mail), Route::To { event: 0, reason: RouteReason::SubjectTag });
        // Someone else's plus-address is not ours.
        let elsewhere = ["smebridge+sem-2212@other.example".to_owned()];
        let mail = Addressed { recipients: &elsewhere, ..plain() };
        assert!(matches!(route(&two.events(), &own(), &mail), Route::Unrouted { .. }));
    }

    #[test]
    fn keywords_and_ids_in_the_subject_or_text_name_the_event_as_words() {
        let two = two();
        let mail = Addressed { text: "다음 주 AI 세미나에 참석하고 싶습니다.", ..plain() };
        assert_eq!(route(&two.events(), &own(), &mail), Route::To { event: 1, reason: RouteReason::Keyword });
        let mail = Addressed { subject: Some("ai seminar registration"), ..plain() };
        assert_eq!(route(&two.events(), &own(), &mail), Route::To { event: 1, reason: RouteReason::Keyword });
        let mail = Addressed { text: "It is for ws-2211, thanks", ..plain() };
        assert_eq!(route(&two.events(), &own(), &mail), Route::To { event: 0, reason: RouteReason::Keyword });
        // "ai seminar" inside another word is no mention.
        let mail = Addressed { text: "see the maui seminars", ..plain() };
        assert!(matches!(route(&two.events(), &own(), &mail), Route::Unrouted { .. }));
    }

    #[test]
    fn the_only_event_open_when_the_mail_arrived_takes_it() {
        let two = two();
        let early = Addressed { arrived_at: ts("2022-11-05T10:00:00+09:00"), ..plain() };
        assert_eq!(route(&two.events(), &own(), &early), Route::To { event: 0, reason: RouteReason::OnlyOpen });
        let after_the_workshop_closed = Addressed { arrived_at: ts("2022-11-20T10:00:00+09:00"), ..plain() };
        assert_eq!(
            route(&two.events(), &own(), &after_the_workshop_closed),
            Route::To { event: 1, reason: RouteReason::OnlyOpen }
        );
    }

    #[test]
    fn what_no_rule_settles_is_unrouted_with_the_events_it_could_be() {
        let two = two();
        assert_eq!(route(&two.events(), &own(), &plain()), Route::Unrouted { candidates: vec![0, 1] });
        // Both tags: narrowed to both, and both are open.
        let both = Addressed { subject: Some("[ws-2211] [sem-2212] 신청"), ..plain() };
        assert_eq!(route(&two.events(), &own(), &both), Route::Unrouted { candidates: vec![0, 1] });
        // After both deadlines: nothing is open.
        let late = Addressed { arrived_at: ts("2022-12-05T10:00:00+09:00"), ..plain() };
        assert_eq!(route(&two.events(), &own(), &late), Route::Unrouted { candidates: vec![0, 1] });
    }

    #[test]
    fn a_rule_that_finds_several_events_leaves_the_choice_to_the_next_among_them() {
        let two = two();
        let keywords = [vec!["워크숍".to_owned()], vec!["워크숍".to_owned()]];
        let mut events = two.events();
        events[0].keywords = &keywords[0];
        events[1].keywords = &keywords[1];
        // Both by keyword; only the workshop is open on the 5th.
        let mail =
            Addressed { text: "워크숍 신청합니다", arrived_at: ts("2022-11-05T10:00:00+09:00"), ..plain() };
        assert_eq!(route(&events, &own(), &mail), Route::To { event: 0, reason: RouteReason::OnlyOpen });
        // Two threads, one tag among them.
        let thread = [two.ids[0].clone(), two.ids[1].clone()];
        let mail = Addressed { thread: &thread, subject: Some("Re: [sem-2212] 안내"), ..plain() };
        assert_eq!(route(&events, &own(), &mail), Route::To { event: 1, reason: RouteReason::SubjectTag });
    }

    #[test]
    fn a_desk_with_one_event_routes_everything_to_it() {
        let id = EventId::default_id();
        let one = [EventRouting { id: &id, opens: None, deadline: ts("2022-11-17T23:59:59+09:00"), keywords: &[] }];
        let late = Addressed { arrived_at: ts("2022-12-05T10:00:00+09:00"), ..plain() };
        assert_eq!(route(&one, &own(), &late), Route::To { event: 0, reason: RouteReason::OnlyEvent });
    }

    #[test]
    fn mail_before_opens_is_skipped_for_its_event_and_unrouted_mail_only_before_every_event() {
        let two = two();
        let events = two.events();
        let on_the_5th = ts("2022-11-05T10:00:00+09:00");
        assert!(!skipped_before_opens(&events, &Route::To { event: 0, reason: RouteReason::OnlyOpen }, on_the_5th));
        assert!(skipped_before_opens(&events, &Route::To { event: 1, reason: RouteReason::SubjectTag }, on_the_5th));
        let unrouted = Route::Unrouted { candidates: vec![0, 1] };
        assert!(!skipped_before_opens(&events, &unrouted, on_the_5th), "the workshop was open");
        assert!(skipped_before_opens(&events, &unrouted, ts("2022-10-20T10:00:00+09:00")));
        let id = EventId::default_id();
        let no_opens =
            [EventRouting { id: &id, opens: None, deadline: ts("2022-11-17T23:59:59+09:00"), keywords: &[] }];
        assert!(!skipped_before_opens(&no_opens, &Route::Unrouted { candidates: vec![0] }, ts("2000-01-01T00:00:00Z")));
    }

    #[test]
    fn reasons_read_back_as_themselves() {
        for reason in RouteReason::ALL {
            assert_eq!(RouteReason::parse(reason.as_str()), Some(reason));
        }
    }
}
