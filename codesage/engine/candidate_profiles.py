"""Resume text → an anonymous skills profile, scrubbed of personal data, off the event loop."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Executor
from typing import Any

from codesage.agents.pii import PiiScrubber
from codesage.agents.resume import parse_resume, priority_skills, resume_scrubber
from codesage.agents.template import InterviewTemplate


class ResumeProfiler:
    """Builds candidate profiles in `executor`; the scrubber is built once, on first use."""

    def __init__(self, executor: Executor):
        self._executor = executor
        self._scrubber: PiiScrubber | None = None
        self._lock = threading.Lock()

    def _profile(self, template: InterviewTemplate, resume_text: str) -> dict[str, Any]:
        with self._lock:
            if self._scrubber is None:
                self._scrubber = resume_scrubber()
        profile = parse_resume(resume_text.encode("utf-8"), "text/plain", scrubber=self._scrubber)
        return {
            "skills": priority_skills(template, profile),
            "all_skills": profile.skills,
            "years_experience": profile.years_experience,
            "seniority": profile.seniority,
            "highlights": profile.highlights,
        }

    async def profile(self, template: InterviewTemplate, resume_text: str) -> dict[str, Any]:
        """The scrubbed profile; only skills and experience, never names or contacts."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._profile, template, resume_text)
