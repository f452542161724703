"""Opening and closing the Postgres pool and Redis client a node works with."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from codesage.storage.database import DatabaseError, apply_migrations, create_pool, ping
from codesage.storage.live_state import LiveStateStore


class RedisUnavailableError(Exception):
    """Redis did not answer at start; the message names the URL (without password)."""


@dataclass
class Storage:
    """The node's connections: a migrated Postgres pool, a Redis client and the live store."""

    pool: asyncpg.Pool
    redis: Redis
    live: LiveStateStore

    @classmethod
    async def open(
        cls, database_url: str, redis_url: str, *, redis_prefix: str = "codesage:"
    ) -> Storage:
        """Connect to both servers and apply pending migrations; fail fast with a clear error."""
        pool = await create_pool(database_url)
        try:
            await apply_migrations(pool)
            redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
            try:
                await redis.ping()
            except (RedisError, OSError) as exc:
                await redis.aclose()
                raise RedisUnavailableError(
                    f"cannot reach Redis at {_redact(redis_url)}: {exc}"
                ) from exc
        except BaseException:
            await pool.close()
            raise
        return cls(pool=pool, redis=redis, live=LiveStateStore(redis, prefix=redis_prefix))

    async def health(self) -> dict[str, bool]:
        """Whether Postgres and Redis each answer right now."""
        return {"postgres": await ping(self.pool), "redis": await self.live.ping()}

    async def close(self) -> None:
        """Close both connections."""
        await self.redis.aclose()
        await self.pool.close()


def _redact(url: str) -> str:
    return url.split("@", 1)[-1] if "@" in url else url


__all__ = ["DatabaseError", "RedisUnavailableError", "Storage"]
