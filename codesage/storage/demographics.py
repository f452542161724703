"""Candidates' demographic categories, stored apart from interview data and read only by the audit.

Only the bias audit may use this repository: scoring and review never see these categories.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

# The EEO-1 categories LL144 audits use; the migration's CHECK constraints list the same values.
SEX_CATEGORIES = ("female", "male")
RACE_ETHNICITY_CATEGORIES = (
    "hispanic_or_latino",
    "white",
    "black_or_african_american",
    "native_hawaiian_or_pacific_islander",
    "asian",
    "american_indian_or_alaska_native",
    "two_or_more_races",
)
UNKNOWN_CATEGORIES = ("unknown", "declined")
"""Allowed in both fields; the audit counts them but leaves them out of impact ratios."""

_SEPARATORS = re.compile(r"[\s\-/]+")


class DemographicsError(ValueError):
    """An upload the repository refuses; the message says which row and why."""


@dataclass(frozen=True)
class Demographics:
    """One candidate's categories, already validated."""

    candidate_id: uuid.UUID
    sex: str
    race_ethnicity: str


@dataclass(frozen=True)
class UpsertCounts:
    """How many rows an upload created and how many replaced an earlier upload."""

    created: int
    updated: int


@dataclass(frozen=True)
class AuditAnswerRow:
    """One stored answer score of an audited interview, oldest first within the interview."""

    question_key: str
    """The question's id, or the turn's id when the turn has none."""
    competency: str
    level: int | None
    score: float | None
    confidence: float
    insufficient_evidence: bool


@dataclass(frozen=True)
class AuditInterviewRow:
    """A candidate's latest completed real interview, its categories and its answer scores."""

    interview_id: uuid.UUID
    candidate_id: uuid.UUID
    template_id: uuid.UUID
    ended_at: datetime
    sex: str
    race_ethnicity: str
    answers: tuple[AuditAnswerRow, ...]


def normalized_category(value: object, allowed: Sequence[str], field: str) -> str:
    """`value` as a stored category ("Black or African-American" → "black_or_african_american")."""
    if not isinstance(value, str):
        raise DemographicsError(f"{field} must be text")
    key = _SEPARATORS.sub("_", value.strip().lower())
    if key in allowed or key in UNKNOWN_CATEGORIES:
        return key
    choices = ", ".join((*allowed, *UNKNOWN_CATEGORIES))
    raise DemographicsError(f"{field} {value!r} is not one of: {choices}")


def parse_demographics(candidate_id: object, sex: object, race_ethnicity: object) -> Demographics:
    """Validated categories of one candidate; `DemographicsError` naming the bad field."""
    try:
        parsed_id = uuid.UUID(str(candidate_id))
    except ValueError:
        raise DemographicsError(f"candidate_id {candidate_id!r} is not a UUID") from None
    return Demographics(
        candidate_id=parsed_id,
        sex=normalized_category(sex, SEX_CATEGORIES, "sex"),
        race_ethnicity=normalized_category(
            race_ethnicity, RACE_ETHNICITY_CATEGORIES, "race_ethnicity"
        ),
    )


class DemographicsRepository:
    """Writes uploads to `candidate_demographics` and reads them joined to scores for the audit."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def upsert(self, rows: Sequence[Demographics]) -> UpsertCounts:
        """Store every row in one transaction, replacing earlier uploads; all or nothing."""
        ids = [row.candidate_id for row in rows]
        repeated = sorted(str(i) for i, n in Counter(ids).items() if n > 1)
        if repeated:
            raise DemographicsError(f"candidates appear more than once: {', '.join(repeated[:5])}")
        if not rows:
            return UpsertCounts(0, 0)
        async with self._pool.acquire() as connection, connection.transaction():
            known = await connection.fetch("SELECT id FROM candidates WHERE id = ANY($1)", ids)
            missing = sorted(set(map(str, ids)) - {str(r["id"]) for r in known})
            if missing:
                raise DemographicsError(f"no such candidates: {', '.join(missing[:5])}")
            results = await connection.fetch(
                "INSERT INTO candidate_demographics (candidate_id, sex, race_ethnicity) "
                "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) "
                "ON CONFLICT (candidate_id) DO UPDATE SET sex = EXCLUDED.sex, "
                "race_ethnicity = EXCLUDED.race_ethnicity, uploaded_at = now() "
                # xmax is 0 only on a freshly inserted row version: tells created from updated.
                "RETURNING (xmax = 0) AS created",
                ids,
                [row.sex for row in rows],
                [row.race_ethnicity for row in rows],
            )
        created = sum(1 for r in results if r["created"])
        return UpsertCounts(created=created, updated=len(results) - created)

    async def audit_rows(
        self,
        *,
        ended_from: datetime | None = None,
        ended_before: datetime | None = None,
        template_slug: str | None = None,
    ) -> list[AuditInterviewRow]:
        """Each candidate's latest completed real interview in range, with categories and scores.

        Candidates without an upload come back as "unknown" in both fields.
        """
        # One snapshot for both reads, so that scores match the interviews they belong to.
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            interviews = await connection.fetch(
                """
                WITH latest AS (
                    SELECT DISTINCT ON (i.candidate_id)
                           i.id, i.candidate_id, i.template_id, i.ended_at
                    FROM interviews i JOIN interview_templates t ON t.id = i.template_id
                    WHERE i.state = 'done' AND i.mode = 'real' AND i.ended_at IS NOT NULL
                      AND ($1::timestamptz IS NULL OR i.ended_at >= $1)
                      AND ($2::timestamptz IS NULL OR i.ended_at < $2)
                      AND ($3::text IS NULL OR t.slug = $3)
                    ORDER BY i.candidate_id, i.ended_at DESC, i.id
                )
                SELECT l.*, coalesce(d.sex, 'unknown') AS sex,
                       coalesce(d.race_ethnicity, 'unknown') AS race_ethnicity
                FROM latest l LEFT JOIN candidate_demographics d USING (candidate_id)
                ORDER BY l.ended_at, l.id
                """,
                ended_from,
                ended_before,
                template_slug,
            )
            scores = await connection.fetch(
                "SELECT s.interview_id, coalesce(t.question_id, t.id::text) AS question_key, "
                "s.competency, s.level, s.score, s.confidence, s.insufficient_evidence "
                "FROM scores s JOIN turns t ON t.id = s.turn_id "
                "WHERE s.interview_id = ANY($1) ORDER BY s.created_at, t.ordinal, s.id",
                [row["id"] for row in interviews],
            )
        answers: dict[uuid.UUID, list[AuditAnswerRow]] = {row["id"]: [] for row in interviews}
        for score in scores:
            answers[score["interview_id"]].append(
                AuditAnswerRow(
                    question_key=score["question_key"],
                    competency=score["competency"],
                    level=score["level"],
                    score=score["score"],
                    confidence=score["confidence"],
                    insufficient_evidence=score["insufficient_evidence"],
                )
            )
        return [
            AuditInterviewRow(
                interview_id=row["id"],
                candidate_id=row["candidate_id"],
                template_id=row["template_id"],
                ended_at=row["ended_at"],
                sex=row["sex"],
                race_ethnicity=row["race_ethnicity"],
                answers=tuple(answers[row["id"]]),
            )
            for row in interviews
        ]
