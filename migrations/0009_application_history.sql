-- What changed in an application after it was made, by whom and why (issue 12): one row per
-- field changed. `smebridge reparse --apply` writes it now (by = 'reparse'); it is meant for
-- every later change too (staff commands: 'staff'; an applicant's mail: 'mail'). Written in the
-- same transaction as the change to the application (src/store/history.rs).
--
-- field:   the application's column that changed.
-- old/new: the values as text, NULL for none (attendees as a number, people joined with "; ").
-- why:     where the new value was read, in words for staff ("attached form 'form.docx', line 3,
--          label '연락처'"), or the reason a person gave.
-- message: the stored message the new value was read from, if any.
-- actor:   who ran the command (the login name), when known.
CREATE TABLE application_history (
    id          INTEGER PRIMARY KEY,
    application INTEGER NOT NULL REFERENCES applications (id),
    at          INTEGER NOT NULL,
    field       TEXT    NOT NULL CHECK (field IN (
                    'name', 'organization', 'position', 'phone', 'attendees', 'people', 'notes', 'review',
                    'status', 'email')),
    old         TEXT,
    new         TEXT,
    by          TEXT    NOT NULL CHECK (by IN ('mail', 'reparse', 'staff')),
    why         TEXT,
    message     INTEGER REFERENCES messages (id),
    actor       TEXT
) STRICT;
CREATE INDEX application_history_by_application ON application_history (application, id);

-- What each daily summary covered of that history: the highest row id it told staff about (as
-- last_application and last_message do for applications and messages). NULL for summaries made
-- before this migration, when there was no history.
ALTER TABLE summaries ADD COLUMN last_history INTEGER;
