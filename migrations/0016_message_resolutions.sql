-- Staff have dealt with a recorded message that is no application (an inquiry, unreadable, too
-- large, held-unread or unrouted mail, a cancellation from someone with no application):
-- `smebridge application resolve MSG-0012 [--note TEXT]`. The daily summary stops listing it
-- under "needs a person". One row per message, written once (resolving again writes nothing):
-- when, who (`$SUDO_USER`, else `$USER`) and the note staff typed, if any. A note may name the
-- sender, so `smebridge purge` deletes the row with the message's personal data (a purged
-- message is never listed again anyway). `messages` is not rebuilt: its rows are never deleted.
CREATE TABLE message_resolutions (
    message     INTEGER PRIMARY KEY REFERENCES messages (id),
    resolved_at INTEGER NOT NULL,                -- Unix seconds
    actor       TEXT    NOT NULL,
    note        TEXT
) STRICT;
