-- A reply staff had sent (`smebridge application resend`, `edit --notify`, `cancel --notify`)
-- is a row of the application's history like the changes: `application_history.field` may now be
-- 'reply' (new: the reply's kind, `ack`, `update`, `cancelled` …; by 'staff', with why and who).
-- SQLite cannot change a CHECK in place, so the table is rebuilt with its rows and ids, as 0014 did.
CREATE TABLE application_history_new (
    id          INTEGER PRIMARY KEY,
    application INTEGER NOT NULL REFERENCES applications (id),
    at          INTEGER NOT NULL,
    field       TEXT    NOT NULL CHECK (field IN (
                    'name', 'organization', 'position', 'phone', 'attendees', 'people', 'notes', 'review',
                    'status', 'email', 'event', 'reply')),
    old         TEXT,
    new         TEXT,
    by          TEXT    NOT NULL CHECK (by IN ('mail', 'reparse', 'staff')),
    why         TEXT,
    message     INTEGER REFERENCES messages (id),
    actor       TEXT
) STRICT;
INSERT INTO application_history_new (id, application, at, field, old, new, by, why, message, actor)
    SELECT id, application, at, field, old, new, by, why, message, actor FROM application_history;
DROP TABLE application_history;
ALTER TABLE application_history_new RENAME TO application_history;
CREATE INDEX application_history_by_application ON application_history (application, id);
