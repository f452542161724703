"""The ATS connector is switched on by settings and wired into a node."""

from __future__ import annotations

from typing import Any

import pytest

from codesage.config import SettingsError, load_settings
from codesage.engine.ats import GreenhouseSettings
from codesage.node import build_node
from codesage.storage.connections import Storage
from tests.conftest import TEST_JWT_SECRET, TEST_REDIS_URL


def test_a_partial_greenhouse_configuration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODESAGE_GREENHOUSE_BASE_URL", "https://ats.example.org/v1")
    monkeypatch.setenv("CODESAGE_GREENHOUSE_API_KEY", "key")
    with pytest.raises(SettingsError) as caught:
        load_settings().greenhouse()
    assert "CODESAGE_GREENHOUSE_ON_BEHALF_OF" in str(caught.value)
    assert "CODESAGE_GREENHOUSE_WEBHOOK_SECRET" in str(caught.value)


async def test_a_configured_node_receives_ats_webhooks(
    storage: Storage, redis_prefix: str, rubric_scorer: Any, aiohttp_client: Any
) -> None:
    node = await build_node(
        storage,
        redis_url=TEST_REDIS_URL,
        jwt_secret=TEST_JWT_SECRET,
        inference_threads=1,
        web_dist=None,
        scorer=rubric_scorer,
        socket_channel=f"{redis_prefix}socketio",
        ats=GreenhouseSettings(
            base_url="http://127.0.0.1:9/v1", api_key="k", on_behalf_of="1", webhook_secret="s"
        ),
        public_url="https://interviews.example.org",
    )
    try:
        client = await aiohttp_client(node.app)
        document = await (await client.get("/openapi.json")).json()
        assert "/api/v1/ats/webhook" in document["paths"]
        unsigned = await client.post("/api/v1/ats/webhook", json={"action": "x"})
        assert unsigned.status in (401, 403)
    finally:
        await node.close()
