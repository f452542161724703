"""Resume text → an anonymous skills profile, scrubbed of personal data, off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any, Protocol

from codesage.agents.pii import PiiScrubber
from codesage.agents.resume import ResumeProfile, parse_resume, priority_skills, resume_scrubber
from codesage.agents.template import Competency, InterviewTemplate


class ResumeQuestionWriter(Protocol):
    """Writes interview questions from a scrubbed profile (the optional language model)."""

    async def write(
        self, profile: ResumeProfile, competencies: Sequence[Competency]
    ) -> list[str]: ...


class ResumeProfiler:
    """Builds candidate profiles in `executor`; the scrubber is built once, on first use."""

    def __init__(self, executor: Executor, question_writer: ResumeQuestionWriter | None = None):
        self._executor = executor
        self._question_writer = question_writer
        self._scrubber: PiiScrubber | None = None
        self._lock = threading.Lock()

    def _profile(
        self, template: InterviewTemplate, resume_text: str
    ) -> tuple[ResumeProfile, dict[str, Any]]:
        with self._lock:
            if self._scrubber is None:
                self._scrubber = resume_scrubber()
        profile = parse_resume(resume_text.encode("utf-8"), "text/plain", scrubber=self._scrubber)
        return profile, {
            "skills": priority_skills(template, profile),
            "all_skills": profile.skills,
            "years_experience": profile.years_experience,
            "seniority": profile.seniority,
            "highlights": profile.highlights,
        }

    async def profile(self, template: InterviewTemplate, resume_text: str) -> dict[str, Any]:
        """The scrubbed profile; only skills and experience, never names or contacts."""
        loop = asyncio.get_running_loop()
        profile, stored = await loop.run_in_executor(
            self._executor, self._profile, template, resume_text
        )
        if self._question_writer is not None:
            # The model sees only the scrubbed profile, never the resume text.
            questions = await self._question_writer.write(profile, template.competencies)
            if questions:
                stored["generated_questions"] = questions
        return stored
