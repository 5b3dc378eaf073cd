-- Summaries only from a mailbox that was read (issue 11).
--
-- What each daily summary covered, by the order smebridge recorded things rather than by when
-- mail arrived: the highest application id and message id recorded when it was made. Ids grow in
-- the order rows are recorded, so the next summary calls new whatever has a higher id — however
-- early its mail arrived, and even when it was recorded in the same second as the summary.
-- Summaries made before this migration covered what had been recorded by the time they were made
-- (to the second, the best that can be said of them now).
ALTER TABLE summaries ADD COLUMN last_application INTEGER;
ALTER TABLE summaries ADD COLUMN last_message INTEGER;
UPDATE summaries SET
    last_application = (SELECT COALESCE(MAX(a.id), 0) FROM applications a JOIN messages m ON m.id = a.first_message
                        WHERE m.recorded_at <= summaries.created_at),
    last_message = (SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.recorded_at <= summaries.created_at);

-- When each mailbox was last read whole: listed, and every message in it recorded. `read_at` is
-- when that read began (everything that had arrived by then is recorded), in Unix seconds on the
-- daemon's clock (src/clock.rs), like the summaries' times. The summary states it and warns when
-- it is old.
CREATE TABLE mailbox_reads (
    mailbox  TEXT    PRIMARY KEY,
    read_at  INTEGER NOT NULL
) STRICT;
