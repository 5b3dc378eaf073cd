-- A message's raw bytes in a table of their own (issue #11: memory bounded by the size limit).
--
-- In `messages` the bytes sat in the row itself, and SQLite rewrites a whole row for every
-- UPDATE: recording a message's outcome (and every later change to the row) read the raw bytes
-- back into memory and wrote them again, and every query that reached a column after `raw`
-- walked its overflow pages. Here the bytes are written once, when the message is recorded
-- before it is read (src/store/messages.rs: zeroblob, then an incremental blob write, so no
-- copy of the message is made in memory), and read only where they are needed (reparse, the
-- staff summary's excerpt).
--
-- message: the row in `messages` whose bytes these are (one each).
-- raw:     the message exactly as the server delivered it (its headers alone for a message over
--          the size limit; `messages.size` is the size of what is kept here).
CREATE TABLE raw_messages (
    message INTEGER PRIMARY KEY REFERENCES messages (id),
    raw     BLOB    NOT NULL
) STRICT;
INSERT INTO raw_messages (message, raw) SELECT id, raw FROM messages;
ALTER TABLE messages DROP COLUMN raw;
