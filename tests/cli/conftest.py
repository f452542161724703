"""Helpers for running the real `codesage` command in a subprocess."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable

import pytest


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The environment without any CODESAGE_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CODESAGE_")}


CodesageCommand = Callable[..., list[str]]


@pytest.fixture
def codesage_command() -> CodesageCommand:
    """Builds `python -m codesage ARGS` for the interpreter running the tests."""

    def build(*args: str) -> list[str]:
        return [sys.executable, "-m", "codesage", *args]

    return build
