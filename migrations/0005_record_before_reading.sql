-- Record before reading (issue #11): a message's raw bytes are committed before it is parsed,
-- with the outcome 'reading' (src/store.rs READING) and an attempt counter; the transaction that
-- records what reading it concluded replaces that outcome. A row still 'reading' when smebridge
-- starts means it died while reading: counted here, the message is read again on its own, first
-- in a child process, and held unread for staff (outcome 'quarantined') if that child dies too,
-- or after domain::MAX_UNFINISHED unfinished attempts (src/domain/reading.rs).
--
-- read_attempts: attempts to read the message that were started; while the outcome is
-- 'reading', none of them finished (an attempt given up cleanly is taken back). Messages
-- recorded before this migration were each read once.
ALTER TABLE messages ADD COLUMN read_attempts INTEGER NOT NULL DEFAULT 1 CHECK (read_attempts >= 0);

