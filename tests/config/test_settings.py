"""Settings from the environment: defaults, overrides and clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from codesage.config import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CODESAGE_"):
            monkeypatch.delenv(name)


def test_defaults_need_no_environment() -> None:
    settings = load_settings()
    assert settings.port == 8080
    assert settings.database_url is None and settings.redis_url is None
    assert settings.ice_servers == []
    assert settings.stt_model == "tiny.en"
    assert settings.stt_final_window == "fit"


def test_environment_is_read_and_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESAGE_PORT", "9000")
    monkeypatch.setenv("CODESAGE_DATABASE_URL", "postgresql://db.internal/codesage")
    monkeypatch.setenv(
        "CODESAGE_ICE_SERVERS", '[{"urls": ["turn:turn.example.org"], "username": "u"}]'
    )
    settings = load_settings()
    assert settings.port == 9000
    assert settings.database_url == "postgresql://db.internal/codesage"
    assert settings.ice_servers[0].urls == ["turn:turn.example.org"]


def test_empty_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESAGE_REDIS_URL", "")
    assert load_settings().redis_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CODESAGE_PORT", "eighty"),
        ("CODESAGE_PORT", "70000"),
        ("CODESAGE_DATABASE_URL", "mysql://localhost/db"),
        ("CODESAGE_REDIS_URL", "localhost:6379"),
        ("CODESAGE_ICE_SERVERS", "stun:example.org"),
        ("CODESAGE_STT_MODEL", "large-v3"),
        ("CODESAGE_STT_FINAL_WINDOW", "half"),
    ],
)
def test_bad_value_is_reported_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_secret_values_are_not_echoed_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESAGE_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("CODESAGE_PORT", "bad")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "sk-very-secret" not in str(caught.value)


def test_jwt_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    secret = settings.resolved_jwt_secret()
    assert len(secret) >= 32
    path = tmp_path / "data" / "jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(data_dir=tmp_path / "data").resolved_jwt_secret() == secret
    assert secret not in repr(settings)


def test_configured_jwt_secret_wins_and_is_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESAGE_JWT_SECRET", "configured-secret-value")
    settings = load_settings()
    assert settings.resolved_jwt_secret() == "configured-secret-value"
    assert "configured-secret-value" not in repr(settings)
