"""The node tunes glibc's malloc (arenas, mmap threshold) unless the operator chose a value."""

from __future__ import annotations

import platform
from collections.abc import Callable

import pytest

from codesage.config.allocator import fix_mmap_threshold, limit_malloc_arenas

SETTINGS = pytest.mark.parametrize(
    ("apply", "variable", "operators_value"),
    [
        (limit_malloc_arenas, "MALLOC_ARENA_MAX", "4"),
        (fix_mmap_threshold, "MALLOC_MMAP_THRESHOLD_", "65536"),
    ],
)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
@SETTINGS
def test_the_setting_is_applied_on_glibc(
    monkeypatch: pytest.MonkeyPatch,
    apply: Callable[[], bool],
    variable: str,
    operators_value: str,
) -> None:
    monkeypatch.delenv(variable, raising=False)
    assert apply() is True


@SETTINGS
def test_an_operators_own_setting_wins(
    monkeypatch: pytest.MonkeyPatch,
    apply: Callable[[], bool],
    variable: str,
    operators_value: str,
) -> None:
    monkeypatch.setenv(variable, operators_value)
    assert apply() is False
