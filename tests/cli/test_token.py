"""`codesage token` as an operator runs it: `TOKEN=$(codesage token ...)`."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import jwt
import pytest

from codesage.signaling.auth import MAX_TTL_SECONDS, JwtTokens, Role
from tests.cli.conftest import CodesageCommand


def run_token(
    codesage_command: CodesageCommand, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        codesage_command("token", *args), env=env, capture_output=True, text=True, timeout=60
    )


def tokens_of(data_dir: Path) -> JwtTokens:
    """A verifier over the secret the command generated in `data_dir`."""
    return JwtTokens((data_dir / "jwt_secret").read_text().strip())


def test_candidate_token_verifies_with_the_generated_secret(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    data_dir = tmp_path / "data"
    interview = str(uuid.uuid4())
    env = {**clean_env, "CODESAGE_DATA_DIR": str(data_dir)}
    result = run_token(codesage_command, env, "--role", "candidate", "--interview", interview)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # the token alone, so $(...) captures just it
    principal = tokens_of(data_dir).verify(result.stdout.strip())
    assert (principal.role, principal.interview_id) == (Role.CANDIDATE, interview)


def test_staff_token_honours_ttl_and_data_dir_option(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    data_dir = tmp_path / "given"
    env = {**clean_env, "CODESAGE_DATA_DIR": str(tmp_path / "ignored")}
    result = run_token(
        codesage_command, env, "--role", "admin", "--ttl", "120", "--data-dir", str(data_dir)
    )
    assert result.returncode == 0, result.stderr
    principal = tokens_of(data_dir).verify(result.stdout.strip())
    assert principal.role is Role.ADMIN
    assert not (tmp_path / "ignored").exists()
    issued_at = jwt.decode(result.stdout.strip(), options={"verify_signature": False})["iat"]
    assert principal.expires_at.timestamp() - issued_at == 120


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "candidate"], "needs --interview"),
        (["--role", "candidate", "--interview", "nope"], "--interview must be a UUID"),
        (["--role", "admin", "--ttl", "0"], "ttl must be between 1 and"),
        (["--role", "admin", "--ttl", "-5"], "ttl must be between 1 and"),
        (["--role", "admin", "--ttl", str(MAX_TTL_SECONDS + 1)], "ttl must be between 1 and"),
        (["--role", "root"], "invalid choice"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_bad_options_exit_2_with_a_clear_message_and_no_secret(
    args: list[str],
    message: str,
    tmp_path: Path,
    clean_env: dict[str, str],
    codesage_command: CodesageCommand,
) -> None:
    env = {**clean_env, "CODESAGE_DATA_DIR": str(tmp_path / "data")}
    result = run_token(codesage_command, env, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()


def test_too_short_configured_secret_exits_2(
    tmp_path: Path, clean_env: dict[str, str], codesage_command: CodesageCommand
) -> None:
    env = {**clean_env, "CODESAGE_DATA_DIR": str(tmp_path), "CODESAGE_JWT_SECRET": "tiny-secret"}
    result = run_token(codesage_command, env, "--role", "admin")
    assert result.returncode == 2
    assert "at least 32 bytes" in result.stderr
    assert "tiny-secret" not in result.stderr
