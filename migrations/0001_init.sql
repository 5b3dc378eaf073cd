-- The first schema. Times are Unix seconds (UTC); the event's time zone is applied on output.

-- Every message that ever arrived, with its raw bytes, whatever happened to it.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT    NOT NULL UNIQUE,      -- identity of the bytes
    message_id    TEXT    NOT NULL,             -- header value, or synthesized from sha256
    arrived_at    INTEGER NOT NULL,             -- IMAP INTERNALDATE
    size          INTEGER NOT NULL,
    raw           BLOB    NOT NULL,
    sender        TEXT,                         -- From address, lower-cased, if readable
    subject       TEXT,
    outcome       TEXT    NOT NULL,             -- registered | updated | after_deadline | repeat | duplicate | automatic
    outcome_detail TEXT,                        -- e.g. why a message counts as automatic
    problems      TEXT,                         -- what could not be read, one per line
    recorded_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_by_message_id ON messages (message_id);

-- Which UID a message has in which mailbox incarnation. A UID counts as processed once its row
-- is here, and the row is written in the same transaction as everything the message caused.
CREATE TABLE mailbox_uids (
    mailbox     TEXT    NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    message     INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (mailbox, uidvalidity, uid)
) STRICT;

CREATE TABLE mailbox_state (
    mailbox     TEXT    PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- One application per applicant address.
CREATE TABLE applications (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT,
    organization  TEXT,
    position      TEXT,
    phone         TEXT,
    attendees     INTEGER NOT NULL DEFAULT 1,
    status        TEXT    NOT NULL CHECK (status IN ('accepted', 'late', 'cancelled', 'waitlisted')),
    review        TEXT,                         -- why staff should look at it, one reason per line
    received_at   INTEGER NOT NULL,             -- arrival of the first message
    updated_at    INTEGER NOT NULL,
    first_message INTEGER NOT NULL REFERENCES messages (id),
    last_message  INTEGER NOT NULL REFERENCES messages (id)
) STRICT;

-- Replies to send. Written in the same transaction as the message they answer; the full
-- message (with its fixed Message-ID) is rendered before the first attempt.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,           -- ack | late | update | after_deadline | cancelled | waitlisted | promoted | reopened | inquiry
    answers         INTEGER REFERENCES messages (id),   -- NULL for mail we start (the staff summary)
    application     INTEGER REFERENCES applications (id),
    message_id      TEXT    NOT NULL UNIQUE,
    envelope_from   TEXT,                       -- NULL: MAIL FROM:<>
    recipient       TEXT    NOT NULL,
    raw             BLOB    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sending_since   INTEGER,                    -- when the current attempt began
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (answers, kind)
) STRICT;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_recipient ON outbox (recipient, kind);
CREATE INDEX outbox_sent ON outbox (sent_at);

-- One row per day a staff summary was made; written with its outbox rows, so a day is summarized
-- exactly once, whatever restarts happen.
CREATE TABLE summaries (
    day         TEXT    PRIMARY KEY,            -- YYYY-MM-DD in the event's time zone
    created_at  INTEGER NOT NULL
) STRICT;
