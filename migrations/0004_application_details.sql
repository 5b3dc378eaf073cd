-- What else each application records (issue #3): the applicant's free-text notes, everyone the
-- mail names as applicant or attendee, and for each field where its value came from, so that staff can check a value
-- against the mail without opening it.
--
-- notes:   what the applicant wrote under a remarks label (비고, Notes), as written.
-- people:  JSON array of names, in the order the mail gives them (NULL: none named).
-- sources: JSON object, field name -> where its current value was read, in words for staff
--          ("line 4, label '성 명'", "HTML table, line 2, cell '소속'", "signature block", …).
--          A later mail that changes a field replaces that field's entry.
ALTER TABLE applications ADD COLUMN notes TEXT;
ALTER TABLE applications ADD COLUMN people TEXT;
ALTER TABLE applications ADD COLUMN sources TEXT;
