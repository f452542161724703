"""The node's Prometheus metrics, `/metrics`, the HTTP middleware, loop lag and the dashboard."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import REGISTRY
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.parser import text_string_to_metric_families

from codesage.config.metrics import ERROR_KINDS, EventLoopLagMonitor, NodeMetrics
from codesage.signaling.errors import ApiError, json_errors
from codesage.signaling.metrics_routes import (
    UNMATCHED_ROUTE,
    add_metrics_routes,
    http_metrics_middleware,
)

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "codesage-dashboard.json"

# Every metric the issue asks for, with its Prometheus type.
EXPECTED_TYPES = {
    "codesage_interviews_active": "gauge",
    "codesage_response_latency_seconds": "histogram",
    "codesage_scoring_seconds": "histogram",
    "codesage_scoring_queue_wait_seconds": "histogram",
    "codesage_stt_queue_wait_seconds": "histogram",
    "codesage_stt_queue_length": "gauge",
    "codesage_event_loop_lag_seconds": "histogram",
    "codesage_webhook_deliveries": "counter",
    "codesage_errors": "counter",
    "codesage_events": "counter",
    "codesage_http_requests": "counter",
    "codesage_http_request_seconds": "histogram",
}
INTERVIEW_ROUTE = "/api/v1/interviews/{interview_id}"


def metrics_app(metrics: NodeMetrics) -> web.Application:
    """An app wired as a node wires it: metrics middleware first, then the JSON errors."""

    async def interview(request: web.Request) -> web.Response:
        if request.query.get("deny"):
            raise ApiError(403, "forbidden", "Not yours.")
        if request.query.get("gone"):
            raise web.HTTPGone()
        if request.query.get("crash"):
            raise RuntimeError("a bug")
        return web.json_response({"id": request.match_info["interview_id"]})

    app = web.Application(middlewares=[http_metrics_middleware(metrics), json_errors])
    app.router.add_get(INTERVIEW_ROUTE, interview)
    add_metrics_routes(app, metrics)
    return app


def families(text: str) -> dict[str, Any]:
    """Parsed metric families of a text exposition, by name."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def exported_sample_names(metrics: NodeMetrics) -> set[str]:
    """Every series name the node can export (labelled metrics export none until first use)."""
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
    return {
        family.name + suffix
        for family in metrics.registry.collect()
        for suffix in suffixes[family.type]
    }


async def test_metrics_endpoint_serves_every_metric_with_its_type(aiohttp_client: Any) -> None:
    client = await aiohttp_client(metrics_app(NodeMetrics.create()))
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    served = families(await response.text())
    assert {name: served[name].type for name in EXPECTED_TYPES} == EXPECTED_TYPES


def test_durations_are_histograms_in_seconds() -> None:
    metrics = NodeMetrics.create()
    histograms = [f.name for f in metrics.registry.collect() if f.type == "histogram"]
    assert histograms and all(name.endswith("_seconds") for name in histograms)
    # OpenMetrics carries the unit explicitly; Prometheus' text format only in the name.
    text = openmetrics_latest(metrics.registry).decode()
    for name in histograms:
        assert f"# UNIT {name} seconds" in text


def test_known_error_kinds_and_outcomes_start_at_zero() -> None:
    metrics = NodeMetrics.create()
    for kind in ERROR_KINDS:
        assert metrics.registry.get_sample_value("codesage_errors_total", {"kind": kind}) == 0
    delivered = {"outcome": "delivered"}
    assert metrics.registry.get_sample_value("codesage_webhook_deliveries_total", delivered) == 0


def test_unknown_error_kinds_are_counted_as_other() -> None:
    metrics = NodeMetrics.create()
    metrics.count_error("actor_crash")
    metrics.count_error(f"something {uuid.uuid4()}")
    sample = metrics.registry.get_sample_value
    assert sample("codesage_errors_total", {"kind": "actor_crash"}) == 1
    assert sample("codesage_errors_total", {"kind": "other"}) == 1


def test_webhook_outcomes_are_a_closed_set() -> None:
    metrics = NodeMetrics.create()
    metrics.count_webhook("retrying")
    assert (
        metrics.registry.get_sample_value(
            "codesage_webhook_deliveries_total", {"outcome": "retrying"}
        )
        == 1
    )
    with pytest.raises(ValueError, match="unknown webhook outcome"):
        metrics.count_webhook("exploded")


async def test_requests_are_counted_by_route_template_never_by_path(
    aiohttp_client: Any,
) -> None:
    metrics = NodeMetrics.create()
    client = await aiohttp_client(metrics_app(metrics))
    first, second = uuid.uuid4(), uuid.uuid4()
    assert (await client.get(f"/api/v1/interviews/{first}")).status == 200
    assert (await client.get(f"/api/v1/interviews/{second}")).status == 200
    assert (await client.get(f"/api/v1/interviews/{first}?deny=1")).status == 403
    assert (await client.get(f"/api/v1/interviews/{first}?gone=1")).status == 410
    assert (await client.get(f"/api/v1/interviews/{first}?crash=1")).status == 500
    assert (await client.get(f"/no/such/page/{second}")).status == 404
    assert (await client.request("PROPFIND", f"/api/v1/interviews/{first}")).status == 405

    def count(method: str, route: str, status: str) -> float | None:
        labels = {"method": method, "route": route, "status": status}
        return metrics.registry.get_sample_value("codesage_http_requests_total", labels)

    assert count("GET", INTERVIEW_ROUTE, "200") == 2
    # The status the JSON error middleware finally sent, not the exception's class.
    assert count("GET", INTERVIEW_ROUTE, "403") == 1
    assert count("GET", INTERVIEW_ROUTE, "410") == 1
    assert count("GET", INTERVIEW_ROUTE, "500") == 1
    unhandled = {"kind": "http_unhandled"}
    assert metrics.registry.get_sample_value("codesage_errors_total", unhandled) == 1
    assert count("GET", UNMATCHED_ROUTE, "404") == 1
    assert count("OTHER", UNMATCHED_ROUTE, "405") == 1
    duration_count = metrics.registry.get_sample_value(
        "codesage_http_request_seconds_count", {"route": INTERVIEW_ROUTE}
    )
    assert duration_count == 5

    exposition = (await (await client.get("/metrics")).text()).lower()
    assert str(first) not in exposition and str(second) not in exposition
    assert "/no/such/page" not in exposition


async def test_loop_lag_monitor_records_a_blocked_loop() -> None:
    metrics = NodeMetrics.create()
    first_sample: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def on_sample(lag: float) -> None:
        if not first_sample.done():
            first_sample.set_result(lag)

    async def block_the_loop() -> None:
        # Deliberately blocking: this is the lag being measured, not a wait for something.
        time.sleep(0.2)  # noqa: ASYNC251

    monitor = EventLoopLagMonitor(metrics.event_loop_lag, interval_s=0.01, on_sample=on_sample)
    monitor.start()
    # Tasks start in creation order: the monitor arms its wakeup before the loop is blocked.
    blocker = asyncio.get_running_loop().create_task(block_the_loop())
    try:
        lag = await asyncio.wait_for(first_sample, timeout=10)
        await blocker
    finally:
        await monitor.stop()
    assert not monitor.running
    assert 0.15 <= lag < 5
    sample = metrics.registry.get_sample_value
    total = sample("codesage_event_loop_lag_seconds_count") or 0
    assert total >= 1
    assert (sample("codesage_event_loop_lag_seconds_sum") or 0) >= 0.15
    # The blocked wakeup landed above the 0.1 s bucket.
    below = sample("codesage_event_loop_lag_seconds_bucket", {"le": "0.1"}) or 0
    assert total - below >= 1


async def test_loop_lag_monitor_refuses_a_second_start() -> None:
    monitor = EventLoopLagMonitor(NodeMetrics.create().event_loop_lag)
    monitor.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            monitor.start()
    finally:
        await monitor.stop()
    await monitor.stop()  # stopping twice is harmless


def test_two_nodes_do_not_share_metrics() -> None:
    one, two = NodeMetrics.create(), NodeMetrics.create()
    assert one.registry is not two.registry
    one.interviews_active.set(3)
    one.count_error("redis")
    one.response_latency.observe(0.4)
    assert two.registry.get_sample_value("codesage_interviews_active") == 0
    assert two.registry.get_sample_value("codesage_errors_total", {"kind": "redis"}) == 0
    assert two.registry.get_sample_value("codesage_response_latency_seconds_count") == 0
    # Nothing lands in prometheus_client's process-wide default registry.
    assert REGISTRY.get_sample_value("codesage_interviews_active") is None


def test_dashboard_is_valid_grafana_json_on_a_prometheus_input() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["schemaVersion"] >= 36
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert panel["targets"], panel["title"]


def test_dashboard_uses_only_metrics_the_node_exports() -> None:
    text = DASHBOARD.read_text(encoding="utf-8")
    used = set(re.findall(r"\bcodesage_[a-z0-9_]+", text))
    exported = exported_sample_names(NodeMetrics.create())
    assert used and used <= exported, sorted(used - exported)
    for wanted in (
        "codesage_interviews_active",
        "codesage_response_latency_seconds_bucket",
        "codesage_scoring_seconds_bucket",
        "codesage_event_loop_lag_seconds_bucket",
        "codesage_http_requests_total",
        "codesage_errors_total",
        "codesage_webhook_deliveries_total",
    ):
        assert wanted in used, wanted


def test_dashboard_quantiles_are_taken_over_bucket_rates() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    quantiles = [e for e in expressions if "histogram_quantile" in e]
    assert quantiles
    pattern = r"histogram_quantile\(0\.\d+, sum by \(le[^)]*\) \(rate\(codesage_\w+_bucket\{"
    for expression in quantiles:
        assert re.match(pattern, expression), expression
    latency = [e for e in quantiles if "codesage_response_latency_seconds_bucket" in e]
    assert {e.split(",")[0] for e in latency} == {
        "histogram_quantile(0.5",
        "histogram_quantile(0.95",
    }
