-- The applicant's journey (issue 13): the desk sends mail on its own schedule, not only in answer
-- to a message. New outbox kinds:
--   reminder    before the event ([event] remind_before), once per accepted application
--   thank_you   after the event ([event] thank_you_after), once per accepted application
--   status      the answer to "신청 확인" / "am I registered?": the record as it stands
-- A reminder or a thank-you answers no message (answers is NULL, so UNIQUE (answers, kind) does
-- not hold it to one): a unique index on (application, kind) for these two kinds does, so that
-- however often the daemon looks (and across restarts) an application gets each at most once;
-- smebridge inserts them with ON CONFLICT DO NOTHING and counts the rows written.
--
-- SQLite cannot change a CHECK, so `outbox` is rebuilt as 0007 and 0010 did (ids kept, and
-- 0011's purged_at with them).
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN (
                        'ack', 'late', 'update', 'after_deadline', 'cancelled', 'waitlisted', 'promoted',
                        'reopened', 'inquiry', 'which_event', 'reminder', 'thank_you', 'status', 'summary')),
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
