"""Fixtures for the agents tests: the real MiniLM encoder, loaded once per session."""

from __future__ import annotations

import pytest

from codesage.agents.embeddings import MiniLMEncoder
from codesage.agents.scoring import RubricScorer


@pytest.fixture(scope="session")
def minilm_encoder() -> MiniLMEncoder:
    """The offline all-MiniLM-L6-v2 encoder (a couple of seconds to load)."""
    return MiniLMEncoder()


@pytest.fixture(scope="session")
def answer_scorer(minilm_encoder: MiniLMEncoder) -> RubricScorer:
    """The live rubric scorer with its default thresholds."""
    return RubricScorer(minilm_encoder)
