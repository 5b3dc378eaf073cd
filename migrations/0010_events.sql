-- Several events from one mailbox (issue 13). Every application belongs to an event, named by
-- its short id (`ws-2211`, from the configuration's [[event]] id; the single [event] is `main`
-- unless it names one). An address may apply to several events, once each. Every message the
-- desk decided about for an event says which and why (the routing reason), and every reply says
-- for which event it was sent, so that "once per applicant" replies are once per event.
--
-- Everything recorded before this migration belongs to the one event the desk had: `main`.
--
-- New states: messages.outcome 'unrouted' (for no event smebridge could tell: staff assign it)
-- and 'before_opens' (arrived before applications opened: recorded, not answered, not
-- counted); outbox.kind 'which_event' (the question which event a sender means).
--
-- SQLite cannot change a UNIQUE or a CHECK of an existing table, so `applications`, `messages`
-- and `outbox` are rebuilt as 0007 did: created anew, filled with every row (ids kept), the old
-- table dropped, the new one renamed. smebridge runs migrations with foreign keys off and checks
-- them before each commit (src/store/mod.rs).

-- applications.event: the event the application is for. UNIQUE (event, email) replaces
-- UNIQUE (email): the same address may apply to two events.
CREATE TABLE applications_new (
    id            INTEGER PRIMARY KEY,
    event         TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    name          TEXT,
    organization  TEXT,
    position      TEXT,
    phone         TEXT,
    attendees     INTEGER NOT NULL DEFAULT 1,
    status        TEXT    NOT NULL CHECK (status IN ('accepted', 'late', 'cancelled', 'waitlisted')),
    review        TEXT,
    received_at   INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    first_message INTEGER NOT NULL REFERENCES messages (id),
    last_message  INTEGER NOT NULL REFERENCES messages (id),
    match_key     TEXT,
    notes         TEXT,
    people        TEXT,
    sources       TEXT,
    UNIQUE (event, email)
) STRICT;
INSERT INTO applications_new (id, event, email, name, organization, position, phone, attendees, status, review,
                              received_at, updated_at, first_message, last_message, match_key, notes, people, sources)
    SELECT id, 'main', email, name, organization, position, phone, attendees, status, review,
           received_at, updated_at, first_message, last_message, match_key, notes, people, sources
    FROM applications;
DROP TABLE applications;
ALTER TABLE applications_new RENAME TO applications;
CREATE INDEX applications_by_match_key ON applications (event, match_key) WHERE match_key IS NOT NULL;
CREATE INDEX applications_by_event_status ON applications (event, status);

-- messages.event: the event the message was decided for (NULL: none — automatic mail, a
-- duplicate, unreadable or unrouted mail).
-- messages.route: why (see src/domain/routing.rs):
--   thread        a reply or forward in the thread of the event's announcement or of a reply we sent for it
--   plus_address  sent to smebridge+<id>@…
--   subject_tag   [<id>] in the subject
--   keyword       one of the event's keywords, or its id, in the subject or text
--   only_open     the only event taking applications when it arrived
--   only_event    the desk has one event
--   staff         assigned by staff (smebridge application assign-event)
CREATE TABLE messages_new (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT    NOT NULL UNIQUE,
    message_id    TEXT    NOT NULL,
    arrived_at    INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    raw           BLOB    NOT NULL,
    sender        TEXT,
    subject       TEXT,
    outcome       TEXT    NOT NULL CHECK (outcome IN (
                      'reading', 'registered', 'updated', 'repeat', 'after_deadline', 'late', 'cancelled',
                      'reopened', 'duplicate', 'automatic', 'inquiry', 'held', 'cancel_without_application',
                      'unreadable', 'too_large', 'quarantined', 'unrouted', 'before_opens')),
    outcome_detail TEXT,
    problems      TEXT,
    recorded_at   INTEGER NOT NULL,
    read_attempts INTEGER NOT NULL DEFAULT 1 CHECK (read_attempts >= 0),
    event         TEXT,
    route         TEXT    CHECK (route IN (
                      'thread', 'plus_address', 'subject_tag', 'keyword', 'only_open', 'only_event', 'staff')),
    CHECK (route IS NULL OR event IS NOT NULL)
) STRICT;
-- What the one-event desk decided about, it decided for its one event.
INSERT INTO messages_new (id, sha256, message_id, arrived_at, size, raw, sender, subject, outcome, outcome_detail,
                          problems, recorded_at, read_attempts, event, route)
    SELECT id, sha256, message_id, arrived_at, size, raw, sender, subject, outcome, outcome_detail,
           problems, recorded_at, read_attempts,
           CASE WHEN outcome IN ('registered', 'updated', 'repeat', 'after_deadline', 'late', 'cancelled', 'reopened',
                                 'inquiry', 'held', 'cancel_without_application') THEN 'main' END,
           CASE WHEN outcome IN ('registered', 'updated', 'repeat', 'after_deadline', 'late', 'cancelled', 'reopened',
                                 'inquiry', 'held', 'cancel_without_application') THEN 'only_event' END
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_message_id ON messages (message_id);

-- outbox.event: the event a reply was sent for (NULL: the staff summary, and the question which
-- event a sender means). Our replies' Message-IDs route answers to them (routing by thread).
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN (
                        'ack', 'late', 'update', 'after_deadline', 'cancelled', 'waitlisted', 'promoted',
                        'reopened', 'inquiry', 'which_event', 'summary')),
    answers         INTEGER REFERENCES messages (id),
    application     INTEGER REFERENCES applications (id),
    message_id      TEXT    NOT NULL UNIQUE,
    envelope_from   TEXT,
    recipient       TEXT    NOT NULL,
    raw             BLOB    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    held_by         TEXT    CHECK (held_by IN ('rate_limit')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sending_since   INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    event           TEXT,
    UNIQUE (answers, kind),
    CHECK (held_by IS NULL OR state = 'pending')
) STRICT;
INSERT INTO outbox_new (id, kind, answers, application, message_id, envelope_from, recipient, raw, state, held_by,
                        attempts, next_attempt_at, sending_since, last_error, created_at, sent_at, event)
    SELECT id, kind, answers, application, message_id, envelope_from, recipient, raw, state, held_by,
           attempts, next_attempt_at, sending_since, last_error, created_at, sent_at,
           CASE WHEN kind <> 'summary' THEN 'main' END
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_recipient ON outbox (recipient, kind);
CREATE INDEX outbox_sent ON outbox (sent_at);
