"""Real `python -m codesage serve` nodes in subprocesses, for tests across processes."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.cli.conftest import free_port
from tests.conftest import TEST_JWT_SECRET

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


def serve_env(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """This environment without CODESAGE_* variables, plus the shared stores and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODESAGE_")}
    env.update(
        CODESAGE_DATABASE_URL=database_url,
        CODESAGE_REDIS_URL=redis_url,
        CODESAGE_JWT_SECRET=TEST_JWT_SECRET,
        CODESAGE_VOICE_ENABLED="false",
        CODESAGE_INFERENCE_THREADS="1",
        HF_HUB_OFFLINE="1",
    )
    env.update({f"CODESAGE_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class ServeProcess:
    """One node: its URL, its process and the file its logs go to."""

    name: str
    url: str
    process: subprocess.Popen[str]
    log: Path

    def wait_until_serving(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until the node prints its banner (it listens by then); fail if it exits."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout_s
        # A process outside the test: its banner on stdout is the only signal it is up.
        while not select.select([self.process.stdout], [], [], 0.5)[0]:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{self.name} did not start in {timeout_s} s"
        banner = self.process.stdout.readline()
        assert "CODESAGE is running" in banner, self.log.read_text()[-3000:]

    def stop(self, signum: int, timeout_s: float = 30) -> int:
        """Send `signum` and wait for the exit code."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        """Kill the process if it still runs, and close its pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_serve(name: str, folder: Path, env: dict[str, str]) -> ServeProcess:
    """Start node `name` on a free port, its data and log in `folder`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / f"{name}.log"
    node_env = {
        **env,
        "CODESAGE_DATA_DIR": str(folder / name),
        "CODESAGE_NODE_URL": url,
        "CODESAGE_NODE_ID": f"node-{name}",
    }
    command = [sys.executable, "-m", "codesage", "serve", "--host", "127.0.0.1"]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=REPO,
            env=node_env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    return ServeProcess(name, url, process, log)
