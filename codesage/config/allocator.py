"""The C allocator's settings for a long-running node (glibc only)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import Callable

log = logging.getLogger(__name__)

# glibc's mallopt parameters (malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
NODE_MALLOC_ARENAS = 2
"""Measured at 4 concurrent spoken interviews: RSS per interview 87 -> 53 MB, PSS 73 -> 35 MB
(glibc gives each busy thread its own arena: model, codec and executor threads)."""
NODE_MMAP_THRESHOLD = 128 * 1024
"""glibc's initial threshold, kept fixed. By default each free of a large block raises it (up
to 32 MB), after which Whisper's and the codecs' big, short-lived buffers come from the heap
and their freed pages stay resident: a 20-minute soak grew ~280 MB per 10 minutes that way."""


def _mallopt(param: int, value: int, *, unless_set: str, what: str) -> bool:
    """Set one glibc malloc parameter; False where it cannot (not glibc) or when the operator's
    environment variable `unless_set` chose it already (glibc has read it)."""
    if unless_set in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt: Callable[[int, int], int] = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    applied = bool(mallopt(param, value))
    if not applied:
        log.info("could not %s", what)
    return applied


def limit_malloc_arenas(arenas: int = NODE_MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas before threads start; False where it cannot (not glibc).

    An operator's own `MALLOC_ARENA_MAX` wins: glibc has read it already.
    """
    return _mallopt(_M_ARENA_MAX, arenas, unless_set="MALLOC_ARENA_MAX", what="limit malloc arenas")


def fix_mmap_threshold(threshold: int = NODE_MMAP_THRESHOLD) -> bool:
    """Serve blocks of `threshold` bytes and more with mmap, so freeing them returns their pages
    to the system; False where it cannot (not glibc). An operator's `MALLOC_MMAP_THRESHOLD_`
    wins."""
    return _mallopt(
        _M_MMAP_THRESHOLD,
        threshold,
        unless_set="MALLOC_MMAP_THRESHOLD_",
        what="fix the mmap threshold",
    )
