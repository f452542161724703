-- Demographic categories for the bias audit (NYC Local Law 144), uploaded by recruiters.
-- Kept apart from interview data: nothing that scores or reviews an interview reads this
-- table; only the audit joins it. The allowed values mirror codesage/storage/demographics.py.

CREATE TABLE candidate_demographics (
    candidate_id    uuid PRIMARY KEY REFERENCES candidates (id) ON DELETE CASCADE,
    sex             text NOT NULL CHECK (sex IN ('female', 'male', 'unknown', 'declined')),
    race_ethnicity  text NOT NULL CHECK (race_ethnicity IN (
                        'hispanic_or_latino',
                        'white',
                        'black_or_african_american',
                        'native_hawaiian_or_pacific_islander',
                        'asian',
                        'american_indian_or_alaska_native',
                        'two_or_more_races',
                        'unknown',
                        'declined'
                    )),
    uploaded_at     timestamptz NOT NULL DEFAULT now()
);
