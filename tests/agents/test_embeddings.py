"""The offline MiniLM encoder: normalised float32 rows, meaningful similarity, a bounded cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from codesage.agents.embeddings import MiniLMEncoder, bundled_minilm_path


def test_bundled_model_folder_is_found() -> None:
    assert (bundled_minilm_path() / "config.json").is_file()


def test_rows_are_normalised_float32(minilm_encoder: MiniLMEncoder) -> None:
    vectors = minilm_encoder.encode(["A short sentence.", "Another, slightly longer sentence."])
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, minilm_encoder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_input_gives_an_empty_matrix(minilm_encoder: MiniLMEncoder) -> None:
    assert minilm_encoder.encode([]).shape == (0, minilm_encoder.dimension)


def test_paraphrases_are_closer_than_unrelated_text(minilm_encoder: MiniLMEncoder) -> None:
    question, paraphrase, unrelated = minilm_encoder.encode(
        [
            "How do you make an API request safe to retry?",
            "Making retries of an API call safe with idempotency keys.",
            "My grandmother grows tomatoes in her garden.",
        ]
    )
    assert float(question @ paraphrase) > float(question @ unrelated) + 0.3


@pytest.fixture(scope="module")
def small_encoder() -> MiniLMEncoder:
    """A second encoder with tiny batches and a two-entry cache."""
    return MiniLMEncoder(batch_size=2, cache_size=2)


def test_results_do_not_depend_on_batching(
    small_encoder: MiniLMEncoder, minilm_encoder: MiniLMEncoder
) -> None:
    texts = [f"Sentence number {i} about caching and databases." for i in range(5)]
    in_small_batches = small_encoder.encode(texts)
    one_at_a_time = np.vstack([minilm_encoder.encode([text]) for text in reversed(texts)])[::-1]
    np.testing.assert_allclose(in_small_batches, one_at_a_time, atol=1e-5)


def test_cache_is_bounded_and_least_recently_used_goes_first(
    small_encoder: MiniLMEncoder,
) -> None:
    encoder = small_encoder
    first = encoder.encode(["alpha sentence"])
    encoder.encode(["beta sentence", "gamma sentence"])
    assert encoder.cached_texts() == ["beta sentence", "gamma sentence"]
    encoder.encode(["beta sentence"])  # touch: beta becomes the most recent
    encoder.encode(["alpha sentence"])
    assert encoder.cached_texts() == ["beta sentence", "alpha sentence"]
    np.testing.assert_allclose(encoder.encode(["alpha sentence"]), first, atol=1e-6)


def test_concurrent_encoding_from_threads_agrees(
    minilm_encoder: MiniLMEncoder, small_encoder: MiniLMEncoder
) -> None:
    texts = [f"Thread safety check {i}: a fast tokenizer shared across threads." for i in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        rows = list(pool.map(lambda text: minilm_encoder.encode([text])[0], texts))
    np.testing.assert_allclose(np.vstack(rows), small_encoder.encode(texts), atol=1e-5)
