"""Fixtures for resilience tests: seeded templates and a scoring pool on the real scorer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from codesage.agents.scoring_pool import ScoringPool
from codesage.engine.template_catalog import seed_templates
from codesage.storage.connections import Storage
from codesage.storage.templates import TemplateRepository


@pytest.fixture
async def scoring(rubric_scorer: Any) -> AsyncIterator[ScoringPool]:
    """The bounded scoring pool every engine node of a test shares."""
    pool = ScoringPool(rubric_scorer, max_workers=2)
    yield pool
    pool.close()


@pytest.fixture
async def seeded(storage: Storage) -> Storage:
    """The test's storage with the shipped templates stored."""
    await seed_templates(TemplateRepository(storage.pool))
    return storage
