"""Migrations on real Postgres: empty database, up-to-date database, two nodes at once."""

from __future__ import annotations

import asyncio

import asyncpg

from codesage.storage.database import (
    Migration,
    applied_versions,
    apply_migrations,
    create_pool,
    shipped_migrations,
)


async def test_empty_database_gets_every_table(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        applied = await apply_migrations(pool)
        assert applied == [m.version for m in shipped_migrations()]
        tables = {
            row["table_name"]
            for row in await pool.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        assert {
            "interview_templates",
            "candidates",
            "interviews",
            "turns",
            "scores",
            "interview_events",
            "schema_migrations",
        } <= tables
    finally:
        await pool.close()


async def test_candidates_table_has_no_personal_data_columns(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        await apply_migrations(pool)
        columns = {
            row["column_name"]
            for row in await pool.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'candidates'"
            )
        }
        assert columns == {"id", "profile", "created_at"}
    finally:
        await pool.close()


async def test_up_to_date_database_applies_nothing(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        await apply_migrations(pool)
        assert await apply_migrations(pool) == []
        assert await applied_versions(pool) == [m.version for m in shipped_migrations()]
    finally:
        await pool.close()


async def test_new_migration_applies_on_top_of_existing_schema(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        await apply_migrations(pool)
        extra = Migration(9999, "probe", "CREATE TABLE probe (id integer PRIMARY KEY)")
        assert await apply_migrations(pool, [*shipped_migrations(), extra]) == [9999]
        assert await pool.fetchval("SELECT count(*) FROM probe") == 0
    finally:
        await pool.close()


async def test_failed_migration_leaves_nothing_half_applied(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        broken = Migration(1, "broken", "CREATE TABLE half (id integer); SELECT no_such_fn();")
        try:
            await apply_migrations(pool, [broken])
        except asyncpg.PostgresError:
            pass
        else:
            raise AssertionError("a broken migration must raise")
        exists = await pool.fetchval("SELECT to_regclass('half') IS NOT NULL")
        assert exists is False
        assert await pool.fetchval("SELECT to_regclass('schema_migrations') IS NULL")
    finally:
        await pool.close()


async def test_two_nodes_migrating_at_once_apply_each_version_once(database_url: str) -> None:
    pools = [await create_pool(database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(apply_migrations(pool) for pool in pools))
        every_version = [m.version for m in shipped_migrations()]
        # Exactly one node applied the migrations; the others found them done.
        assert sorted(results, key=len) == [[], [], every_version]
        assert await applied_versions(pools[0]) == every_version
    finally:
        for pool in pools:
            await pool.close()
