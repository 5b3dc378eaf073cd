-- States as types (issue 15): every column that holds a state lists its values in a CHECK, as
-- applications.status and mailbox_events.kind already do; each has an enum with as_str/parse in
-- Rust (src/domain/outcome.rs, src/domain/reply_kind.rs, src/store/outbox.rs). And a reply held
-- back by the rate limit says so in a column of its own (outbox.held_by) instead of an English
-- sentence in last_error.
--
-- SQLite cannot add a CHECK to an existing column, so `messages` and `outbox` are rebuilt:
-- created anew, filled with every row (ids kept), the old table dropped, the new one renamed
-- (https://sqlite.org/lang_altertable.html#otheralter). smebridge runs migrations with foreign
-- keys off and checks them before each commit (src/store/mod.rs).

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
                      'unreadable', 'too_large', 'quarantined')),
    outcome_detail TEXT,
    problems      TEXT,
    recorded_at   INTEGER NOT NULL,
    read_attempts INTEGER NOT NULL DEFAULT 1 CHECK (read_attempts >= 0)
) STRICT;
INSERT INTO messages_new (id, sha256, message_id, arrived_at, size, raw, sender, subject, outcome, outcome_detail,
                          problems, recorded_at, read_attempts)
    SELECT id, sha256, message_id, arrived_at, size, raw, sender, subject, outcome, outcome_detail,
           problems, recorded_at, read_attempts
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_message_id ON messages (message_id);

-- held_by: why a pending reply waits without its attempt counted; NULL when it does not.
--   rate_limit   the reply rate limits ([replies] max_per_sender_per_day, max_per_hour)
-- Cleared when the reply is claimed for sending; only a pending reply can be held.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN (
                        'ack', 'late', 'update', 'after_deadline', 'cancelled', 'waitlisted', 'promoted',
                        'reopened', 'inquiry', 'summary')),
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
    UNIQUE (answers, kind),
    CHECK (held_by IS NULL OR state = 'pending')
) STRICT;
-- A reply held until now carries the sentence src/outbox.rs wrote ("held back by the reply rate
-- limit"); the column says it from now on.
INSERT INTO outbox_new (id, kind, answers, application, message_id, envelope_from, recipient, raw, state, held_by,
                        attempts, next_attempt_at, sending_since, last_error, created_at, sent_at)
    SELECT id, kind, answers, application, message_id, envelope_from, recipient, raw, state,
           CASE WHEN state = 'pending' AND last_error = 'held back by the reply rate limit' THEN 'rate_limit' END,
           attempts, next_attempt_at, sending_since,
           CASE WHEN state = 'pending' AND last_error = 'held back by the reply rate limit' THEN NULL ELSE last_error END,
           created_at, sent_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_recipient ON outbox (recipient, kind);
CREATE INDEX outbox_sent ON outbox (sent_at);
