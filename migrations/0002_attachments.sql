-- Attachments listed with their messages; every message that belongs to an application; and a
-- key for finding an applicant who writes from another address.

-- Every attachment of a message, as listed by the parser (src/parse/attachments.rs). The bytes
-- are not stored again: they are in messages.raw.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message      INTEGER NOT NULL REFERENCES messages (id),
    position     INTEGER NOT NULL,              -- order in the message, from 0
    name         TEXT    NOT NULL,              -- decoded file name
    content_type TEXT    NOT NULL,              -- e.g. application/pdf
    size         INTEGER NOT NULL,              -- bytes of the decoded content
    sha256       TEXT    NOT NULL,              -- of the decoded content, hex
    within       TEXT,                          -- the winmail.dat or attached message it was found in
    UNIQUE (message, position)
) STRICT;

-- Which messages belong to which application (applications keeps only the first and the last).
CREATE TABLE application_messages (
    application INTEGER NOT NULL REFERENCES applications (id),
    message     INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (application, message)
) STRICT;
CREATE INDEX application_messages_by_message ON application_messages (message);
-- Of the applications recorded before this migration, only the first and last message are known.
INSERT OR IGNORE INTO application_messages (application, message) SELECT id, first_message FROM applications;
INSERT OR IGNORE INTO application_messages (application, message) SELECT id, last_message FROM applications;

-- Normalized name + organization (domain::match_key); NULL when either is missing. Written with
-- every insert and update, and brought up to date by smebridge whenever it opens the database
-- (rows existing before this migration included), so it is never computed in SQL.
ALTER TABLE applications ADD COLUMN match_key TEXT;
CREATE INDEX applications_by_match_key ON applications (match_key) WHERE match_key IS NOT NULL;
