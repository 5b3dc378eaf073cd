-- Calendar entries kept up to date (issue 13): when staff change an event's time, place or name,
-- every applicant whose calendar holds the entry gets it again, updated. New outbox kind:
--   rescheduled   the event's calendar facts changed: the entry again (METHOD:PUBLISH, the same
--                 UID, a higher SEQUENCE) with a short mail saying what it is now
-- and a column: what the calendar entry a reply published said (`calendar`, the event's start,
-- end, time zone, venue and name as `crate::reply::calendar_facts` writes them; NULL for a reply
-- that published none). The last published facts of an application, against the event's facts
-- now, tell whether its entry is out of date. Replies queued before this migration have none:
-- their entries are taken to be current.
--
-- SQLite cannot change a CHECK, so `outbox` is rebuilt as 0007, 0010 and 0012 did (ids kept,
-- 0011's purged_at and 0012's indexes with them).
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN (
                        'ack', 'late', 'update', 'after_deadline', 'cancelled', 'waitlisted', 'promoted',
                        'reopened', 'inquiry', 'which_event', 'reminder', 'thank_you', 'status', 'rescheduled',
                        'summary')),
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
    purged_at       INTEGER,
    calendar        TEXT,
    UNIQUE (answers, kind),
    CHECK (held_by IS NULL OR state = 'pending')
) STRICT;
INSERT INTO outbox_new (id, kind, answers, application, message_id, envelope_from, recipient, raw, state, held_by,
                        attempts, next_attempt_at, sending_since, last_error, created_at, sent_at, event, purged_at)
    SELECT id, kind, answers, application, message_id, envelope_from, recipient, raw, state, held_by,
           attempts, next_attempt_at, sending_since, last_error, created_at, sent_at, event, purged_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_recipient ON outbox (recipient, kind);
CREATE INDEX outbox_sent ON outbox (sent_at);
CREATE INDEX outbox_by_application ON outbox (application, kind);
CREATE UNIQUE INDEX outbox_once_per_application ON outbox (application, kind) WHERE kind IN ('reminder', 'thank_you');
