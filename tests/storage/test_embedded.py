"""The zero-config default: embedded real Postgres and Redis keep data across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesage.storage.connections import Storage
from codesage.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from codesage.storage.templates import TemplateRepository


async def _open_embedded(data_dir: Path) -> tuple[EmbeddedPostgres, EmbeddedRedis, Storage]:
    postgres = EmbeddedPostgres(data_dir / "postgres")
    redis = EmbeddedRedis(data_dir / "redis")
    storage = await Storage.open(postgres.start(), redis.start())
    return postgres, redis, storage


async def _close(postgres: EmbeddedPostgres, redis: EmbeddedRedis, storage: Storage) -> None:
    await storage.close()
    redis.stop()
    postgres.stop()


async def test_embedded_servers_store_and_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    postgres, redis, storage = await _open_embedded(data_dir)
    try:
        saved = await TemplateRepository(storage.pool).save("py", "Python", "Backend", {"q": 1})
        await storage.live.set_state("iv-1", {"state": "questioning"})
    finally:
        await _close(postgres, redis, storage)

    # Both servers really stopped: Postgres removed its pid file, Redis its socket.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not redis.socket_path.exists()

    postgres, redis, storage = await _open_embedded(data_dir)
    try:
        again = await TemplateRepository(storage.pool).get(saved.id)
        assert again is not None and again.body == {"q": 1}
        assert await storage.live.get_state("iv-1") == {"state": "questioning"}
    finally:
        await _close(postgres, redis, storage)


async def test_a_second_redis_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path / "redis")
    first.start()
    try:
        second = EmbeddedRedis(tmp_path / "redis")
        try:
            second.start()
        except Exception as exc:
            assert "another Redis" in str(exc)
        else:
            second.stop()
            raise AssertionError("a second server on the same folder must be refused")
    finally:
        first.stop()


async def test_a_relative_data_folder_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make run` uses ./codesage-data: a relative path, as a newcomer's first run does.
    monkeypatch.chdir(tmp_path)
    postgres, redis, storage = await _open_embedded(Path("codesage-data"))
    try:
        assert await storage.health() == {"postgres": True, "redis": True}
    finally:
        await _close(postgres, redis, storage)
