"""Settings of a CODESAGE node, validated once at start."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

ENV_PREFIX = "CODESAGE_"
JWT_SECRET_FILE = "jwt_secret"


class SettingsError(Exception):
    """Raised when the environment holds an invalid setting; the message names the variable."""


class IceServer(BaseModel):
    """One STUN/TURN server handed to aiortc and to the browser."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class GreenhouseConfig:
    """What the Greenhouse-style connector needs (secrets unwrapped)."""

    base_url: str
    api_key: str
    on_behalf_of: str
    webhook_secret: str


@dataclass(frozen=True)
class LanguageModelConfig:
    """The optional OpenAI-compatible model (secret unwrapped)."""

    base_url: str
    model: str
    api_key: str | None
    timeout_seconds: float
    resume_questions: int


class Settings(BaseSettings):
    """Everything a node needs to know, from `CODESAGE_*` variables (or keyword arguments)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str | None = Field(
        default=None, description="Postgres URL; unset starts an embedded Postgres."
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL; unset starts an embedded Redis."
    )
    data_dir: Path = Field(
        default=Path("codesage-data"),
        description="Folder for the embedded servers, the generated JWT secret and recordings.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="Secret for signing tokens; generated and kept in the data folder when unset.",
    )
    web_dir: Path | None = Field(
        default=None, description="Built web apps folder; default web/dist of the checkout."
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port the HTTP server binds.")
    ice_servers: list[IceServer] = Field(
        default_factory=list,
        description='JSON list of ICE servers, e.g. [{"urls": ["stun:stun.example.org"]}].',
    )
    stt_model: Literal["tiny.en", "base"] = Field(
        default="tiny.en", description="Whisper model: tiny.en (English) or base (multilingual)."
    )
    stt_final_window: Literal["full", "fit"] = Field(
        default="fit",
        description=(
            "Encoder window of the end-of-answer decode: fit (the audio's own length; the "
            "same word error rate, measured, at half the time of a 15 s answer) or full "
            "(Whisper's stock 30 s window)."
        ),
    )
    voice_enabled: bool = Field(
        default=True, description="Spoken interviews over WebRTC; false for typed only."
    )
    tts_voice: str = Field(default="en_US-joe-medium", description="Piper voice name.")
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2", description="Sentence-embedding model used for scoring."
    )
    max_voice_interviews: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Spoken interviews a node runs at once (more type); default 1 per CPU core.",
    )
    inference_threads: int = Field(
        default=2, ge=1, le=64, description="Threads in the shared model-inference pool."
    )
    stt_final_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "CPU threads of each end-of-answer decode (live captions use one): a second core "
            "that is idle finishes the final sooner after the candidate stops speaking."
        ),
    )
    llm_base_url: str | None = Field(
        default=None, description="Optional OpenAI-compatible endpoint, e.g. http://host/v1."
    )
    llm_model: str | None = Field(default=None, description="Model name for the optional LLM.")
    llm_api_key: SecretStr | None = Field(default=None, description="Key for the optional LLM.")
    llm_timeout_seconds: float = Field(
        default=6.0,
        gt=0,
        le=120,
        description="Longest wait for the LLM; past it the interview goes on without it.",
    )
    llm_resume_questions: int = Field(
        default=2, ge=0, le=5, description="Resume questions the LLM writes for each candidate."
    )
    public_url: str | None = Field(
        default=None,
        description="The address candidates reach this service at (absolute join links).",
    )
    greenhouse_base_url: str | None = Field(
        default=None, description="Greenhouse-style ATS API; unset disables the connector."
    )
    greenhouse_api_key: SecretStr | None = Field(default=None, description="ATS API key.")
    greenhouse_on_behalf_of: str | None = Field(
        default=None, description="ATS user id that writes are made as."
    )
    greenhouse_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret the ATS signs its webhooks with."
    )
    node_id: str | None = Field(
        default=None, description="This node's id, unique among running nodes; default host:port."
    )
    node_url: str | None = Field(
        default=None,
        description="URL that reaches this node itself; default CODESAGE_PUBLIC_URL or host:port.",
    )
    # 4 s keeps the promise that a candidate resumes within 5 s of a node dying (the lease
    # outlives its last renewal by 2/3 to 3/3 of it); the cost is a Redis call per live
    # interview every 1.3 s. Measured: benchmarks/failover.py, docs/performance.md.
    lease_ttl_seconds: float = Field(
        default=4.0,
        ge=1,
        le=300,
        description="Interview ownership lease; a dead node's interviews move after this long.",
    )
    drain_seconds: float = Field(
        default=20.0,
        ge=0,
        le=3600,
        description="On SIGTERM, time allowed to hand live interviews over to other nodes.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must start with postgresql:// or postgres://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator(
        "database_url",
        "redis_url",
        "llm_base_url",
        "llm_model",
        "public_url",
        "greenhouse_base_url",
        "node_id",
        "node_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    def greenhouse(self) -> GreenhouseConfig | None:
        """The ATS connector's settings, when every one of them is given."""
        if self.greenhouse_base_url is None:
            return None
        missing = [
            name
            for name in (
                "greenhouse_api_key",
                "greenhouse_on_behalf_of",
                "greenhouse_webhook_secret",
            )
            if getattr(self, name) is None
        ]
        if missing:
            names = ", ".join(ENV_PREFIX + name.upper() for name in missing)
            raise SettingsError(f"CODESAGE_GREENHOUSE_BASE_URL is set but not {names}")
        assert self.greenhouse_api_key is not None and self.greenhouse_webhook_secret is not None
        return GreenhouseConfig(
            base_url=self.greenhouse_base_url,
            api_key=self.greenhouse_api_key.get_secret_value(),
            on_behalf_of=str(self.greenhouse_on_behalf_of),
            webhook_secret=self.greenhouse_webhook_secret.get_secret_value(),
        )

    def language_model(self) -> LanguageModelConfig | None:
        """The optional LLM's settings, or None when CODESAGE_LLM_BASE_URL is unset."""
        if self.llm_base_url is None:
            return None
        if self.llm_model is None:
            raise SettingsError("CODESAGE_LLM_BASE_URL is set but not CODESAGE_LLM_MODEL")
        return LanguageModelConfig(
            base_url=self.llm_base_url,
            model=self.llm_model,
            api_key=None if self.llm_api_key is None else self.llm_api_key.get_secret_value(),
            timeout_seconds=self.llm_timeout_seconds,
            resume_questions=self.llm_resume_questions,
        )

    def voice_capacity(self) -> int:
        """Spoken interviews this node takes: the setting, else 1 per core.

        Measured on 2-core boxes (docs/performance.md): on a fast box 2 at a time hold the
        latency and caption targets, 4 all but bursts of long answers; on a box half as fast
        even one waits 1-2 s after a long answer; at 8 finals can be lost.
        """
        return self.max_voice_interviews or (os.cpu_count() or 1)

    def resolved_jwt_secret(self) -> str:
        """The configured JWT secret, or one generated once and kept in the data folder."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / JWT_SECRET_FILE
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        # O_EXCL: when two nodes race on a fresh data folder, the loser reads the winner's secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        return secret


def _variable_name(location: tuple[int | str, ...]) -> str:
    field = str(location[0]) if location else "?"
    return ENV_PREFIX + field.upper()


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; raise `SettingsError` naming each bad variable."""
    try:
        return Settings(**overrides)
    except SourceError as exc:
        # Raised for JSON-valued variables that do not parse; it names the field in quotes.
        field = str(exc).split('"')[1] if '"' in str(exc) else "?"
        name = _variable_name((field,))
        raise SettingsError(
            f"invalid configuration:\n  {name}: not valid JSON ({exc.__cause__})"
        ) from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = _variable_name(error["loc"])
            shown = error.get("input")
            # Never echo a secret back into a terminal or log.
            if "secret" in name.lower() or "key" in name.lower():
                shown = "***"
            problems.append(f"{name}: {error['msg']} (got {shown!r})")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None
