"""Schemathesis against a live node's /openapi.json: no 5xx, and replies match the document."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from codesage.signaling.auth import JwtTokens, Role
from tests.conftest import ADMIN_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_URL, _with_database
from tests.resilience.serve_process import serve_env, start_serve

EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Findings in other modules, reported and not fixed yet. Each entry narrows the run for one
# operation and nothing more; delete it once the finding is fixed.
KNOWN_ISSUES: dict[str, Any] = {}
KNOWN_MISMATCHES = {
    # signaling/audit_routes.py answers format=csv with text/csv, which its document omits.
    "GET /api/v1/audit": content_type_conformance,
}


def _strategy(operation: Any) -> Any:
    strategy = operation.as_strategy()
    known = KNOWN_ISSUES.get(operation.label)
    return strategy if known is None else strategy.filter(known)


def _checks(operation: Any) -> list[Any]:
    return [c for c in CHECKS if c is not KNOWN_MISMATCHES.get(operation.label)]


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `codesage serve` on a database of its own, for every operation of the module."""
    name = f"codesage_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    folder: Path = tmp_path_factory.mktemp("contract")
    env = serve_env(_with_database(ADMIN_DATABASE_URL, name), TEST_REDIS_URL)
    node = start_serve("contract", folder, env)
    try:
        node.wait_until_serving()
        yield node.url
        assert node.stop(signal.SIGTERM) == 0
    finally:
        node.kill()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _contract_test(operation: Any, headers: dict[str, str]) -> Any:
    """A hypothesis test calling `operation` with generated requests and checking each reply."""
    checks = _checks(operation)

    # The schemathesis pytest plugin (4.32) does not run under pytest 9: drive hypothesis.
    @given(case=_strategy(operation))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    return check


def test_every_operation_answers_within_its_documented_contract(live_node: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_node}/openapi.json")
    headers = {"Authorization": f"Bearer {JwtTokens(TEST_JWT_SECRET).issue(Role.ADMIN)}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        try:
            _contract_test(operation, headers)()
        except (AssertionError, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {exc!r}")
    assert not failures, "\n\n".join(failures)
