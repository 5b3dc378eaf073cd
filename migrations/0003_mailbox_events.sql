-- What the daemon noticed about the mailbox that staff should hear about (issue #6), shown in the
-- daily summary. Times are Unix seconds (UTC), as everywhere.
--   uidvalidity_changed    the server renumbered the mailbox; it was rescanned
--   uidnext_backwards      UIDNEXT went down under the same UIDVALIDITY; it was rescanned
--   vanished_before_fetch  messages that were in the mailbox but gone (moved or deleted by
--                          someone) before smebridge could read them
-- `details` is a JSON object (counts and UIDs), written by src/store.rs.
CREATE TABLE mailbox_events (
    id       INTEGER PRIMARY KEY,
    kind     TEXT    NOT NULL CHECK (kind IN ('uidvalidity_changed', 'uidnext_backwards', 'vanished_before_fetch')),
    mailbox  TEXT    NOT NULL,
    details  TEXT    NOT NULL,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX mailbox_events_by_at ON mailbox_events (at);

-- Per mailbox incarnation: the UIDNEXT the server last reported (to notice it going backwards),
-- and below which UID every message has been accounted for (recorded, or reported vanished).
CREATE TABLE mailbox_uidnext (
    mailbox      TEXT    NOT NULL,
    uidvalidity  INTEGER NOT NULL,
    uid_next     INTEGER,
    accounted    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (mailbox, uidvalidity)
) STRICT;
