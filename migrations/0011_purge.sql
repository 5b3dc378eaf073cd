-- Personal data has an end date (issue 12): `smebridge purge` deletes the personal data of an
-- event's applications once `[retention] delete_personal_data_after` has passed since the event
-- (src/ops/purge.rs, src/store/purge.rs). What it keeps is counts, here, and the rows that keep
-- the desk from answering the same mail twice (messages by SHA-256 and Message-ID, their UIDs;
-- the outbox rows of what was sent), emptied of everything personal.
--
-- Each event is purged on its own. Events are named by their short id (`main` for the single
-- [event], as migration 0010 names it). Mail for no event (messages.event NULL) is purged by the
-- day it arrived and makes no row in `purges`.

-- What each purge deleted, per event: the daily summary says "deleted on DATE" after it.
-- event_name: the event's name when it was purged (not personal data; the configuration may
-- have moved on to another event by the time a summary tells it).
CREATE TABLE purges (
    id            INTEGER PRIMARY KEY,
    event         TEXT    NOT NULL,
    event_name    TEXT    NOT NULL,
    at            INTEGER NOT NULL,             -- when the purge committed (Unix seconds)
    applications  INTEGER NOT NULL,
    messages      INTEGER NOT NULL,
    outbox        INTEGER NOT NULL              -- replies and staff summaries emptied
) STRICT;
CREATE INDEX purges_by_at ON purges (at);

-- The statistics kept of purged applications: how many per day of arrival (the event's time
-- zone), organization type (src/domain/organization.rs, worked out before the organization and
-- the address were deleted) and status, and how many people they named. `smebridge stats` adds
-- them to the applications still stored, so its counts do not change when personal data goes.
CREATE TABLE purged_counts (
    event             TEXT    NOT NULL,
    day               TEXT    NOT NULL,         -- YYYY-MM-DD
    organization_type TEXT    NOT NULL CHECK (organization_type IN (
                          'company', 'university', 'research', 'public', 'other', 'unknown')),
    status            TEXT    NOT NULL CHECK (status IN ('accepted', 'late', 'cancelled', 'waitlisted')),
    applications      INTEGER NOT NULL CHECK (applications > 0),
    attendees         INTEGER NOT NULL CHECK (attendees >= 0),
    PRIMARY KEY (event, day, organization_type, status)
) STRICT;

-- When a message's or an outbox row's personal data was deleted (NULL: it is still there). A
-- purged message keeps its SHA-256, Message-ID, arrival, size and outcome; its bytes, sender,
-- subject and details are gone. A purged outbox row keeps its kind, state and times; its bytes,
-- recipient and last error are gone. Staff are not shown purged rows as needing a person.
ALTER TABLE messages ADD COLUMN purged_at INTEGER;
ALTER TABLE outbox ADD COLUMN purged_at INTEGER;
