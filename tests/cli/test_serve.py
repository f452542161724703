"""`codesage serve` as a newcomer runs it: no environment, embedded servers, /healthz."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from pathlib import Path

from tests.cli.conftest import CodesageCommand, free_port


def _start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    banner = process.stdout.readline()  # blocks until the server announces itself or exits
    return process, banner


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


def test_serve_on_embedded_default_reports_healthy_and_restarts(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    port = free_port()
    command = codesage_command("serve", "--data-dir", str(tmp_path / "data"), "--port", str(port))
    for _ in range(2):  # the second start finds the data folder of the first
        process, banner = _start(command, clean_env)
        try:
            assert f"http://localhost:{port}/" in banner
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
                assert reply.status == 200
                assert json.load(reply) == {"status": "ok", "postgres": "up", "redis": "up"}
        finally:
            assert _stop(process) == 0
        assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()


def test_serve_with_a_bad_variable_exits_with_its_name(
    clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    result = subprocess.run(
        codesage_command("serve"),
        env={**clean_env, "CODESAGE_PORT": "not-a-port"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "CODESAGE_PORT" in result.stderr


def test_serve_with_unreachable_postgres_fails_clearly(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    env = {
        **clean_env,
        "CODESAGE_DATABASE_URL": f"postgresql://nobody:hunter2@127.0.0.1:{free_port()}/x",
        "CODESAGE_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        codesage_command("serve", "--port", str(free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "cannot connect to Postgres" in result.stderr
    assert "hunter2" not in result.stderr
    assert "codesage doctor" in result.stderr
