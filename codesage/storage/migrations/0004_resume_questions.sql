-- Questions the optional language model writes from a candidate's scrubbed resume are asked
-- (unscored) as turns of their own kind, so reviewers can tell them from the template's.

ALTER TABLE turns DROP CONSTRAINT turns_kind_check;
ALTER TABLE turns ADD CONSTRAINT turns_kind_check
    CHECK (kind IN ('question', 'follow_up', 'injected', 'resume'));
