"""Fixtures for the browser tests: Debian's Chromium, the built web apps, a real server.

The server is `python -m codesage serve` in a subprocess on a free port, on the test's own
fresh database and the test Redis, with a known JWT secret so that tests can mint tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from codesage.signaling.auth import JwtTokens
from tests.conftest import TEST_REDIS_URL

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "web" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps dialling Google's hosts, which a closed
# network refuses; the rest keep a headless run quiet and deterministic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
E2E_JWT_SECRET = "e2e-jwt-secret-" + "s" * 33  # 48 characters
SERVER_START_TIMEOUT_S = 120.0  # a cold start loads the embedding model
SERVER_STOP_TIMEOUT_S = 30.0
RUNNING_LINE = "CODESAGE is running"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, installed with scripts/ensure-debian-packages.sh when missing."""
    if not CHROMIUM.exists():
        script = REPO / "scripts" / "ensure-debian-packages.sh"
        if script.exists() and shutil.which("apt-get"):
            subprocess.run(["bash", str(script)], check=False, timeout=600)
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing and could not be installed "
            "(run `apt-get install -y chromium` as root)"
        )
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built web apps; `make test` (or `make web`) builds them."""
    if not (WEB_DIST / "index.html").exists():
        pytest.fail(f"{WEB_DIST} is not built: run `make web` (cd web && npm ci && npm run build)")
    return WEB_DIST


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A `codesage serve` subprocess, its base URL and a way to mint tokens for it."""

    process: asyncio.subprocess.Process
    base_url: str
    tokens: JwtTokens
    log_path: Path
    output: list[str] = field(default_factory=list)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote, for assertion messages."""
        stderr: list[str] = []
        if self.log_path.exists():
            stderr = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join([*self.output, *stderr][-lines:])


async def _drain(stream: asyncio.StreamReader, into: list[str]) -> None:
    """Keep reading the server's stdout so that it never blocks on a full pipe."""
    while line := await stream.readline():
        into.append(line.decode(errors="replace").rstrip())


@pytest.fixture
async def live_server(
    database_url: str, tmp_path: Path, web_dist: Path
) -> AsyncIterator[RunningServer]:
    """`codesage serve` on a free port; stopped with SIGINT, which must exit with code 0."""
    port = _free_port()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    log_path = tmp_path / "server-stderr.log"
    env = {
        **os.environ,
        "CODESAGE_DATABASE_URL": database_url,
        "CODESAGE_REDIS_URL": TEST_REDIS_URL,
        "CODESAGE_JWT_SECRET": E2E_JWT_SECRET,
        "CODESAGE_DATA_DIR": str(data_dir),
        "CODESAGE_WEB_DIR": str(web_dist),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codesage",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdout is not None
    server = RunningServer(process, f"http://127.0.0.1:{port}", JwtTokens(E2E_JWT_SECRET), log_path)
    drain: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(SERVER_START_TIMEOUT_S):
            while True:
                raw = await process.stdout.readline()
                if not raw:
                    await process.wait()
                    pytest.fail(
                        f"`codesage serve` exited with {process.returncode} before it was "
                        f"running:\n{server.log_tail()}"
                    )
                line = raw.decode(errors="replace").rstrip()
                server.output.append(line)
                if RUNNING_LINE in line:
                    break
        drain = asyncio.create_task(_drain(process.stdout, server.output))
        yield server
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(SERVER_STOP_TIMEOUT_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
                pytest.fail(f"the server did not stop on SIGINT:\n{server.log_tail()}")
        if drain is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await drain
    assert process.returncode == 0, (
        f"`codesage serve` exited with {process.returncode} after SIGINT:\n{server.log_tail()}"
    )
