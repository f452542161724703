"""A node's Prometheus metrics, in a registry of its own, and the event-loop lag monitor.

It lives in `config`, the lowest layer, so that every part can record metrics without
importing upward. Names follow Prometheus conventions: base units (seconds), `_total` counters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Label vocabularies. Label values must come from small fixed sets: every distinct value is a
# new time series in Prometheus, so ids, paths and free text never become label values.
ERROR_KINDS = (
    "actor_crash",
    "actor_restart_limit",
    "scoring",
    "postgres",
    "redis",
    "http_unhandled",
    "socket",
    "media",
    "stt",
    "tts",
    "webhook",
    "llm",
    "other",
)
WEBHOOK_OUTCOMES = ("delivered", "retrying", "gave_up")
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Buckets, in seconds, chosen around what each measures.
RESPONSE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
SCORING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUEUE_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOOP_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


TURN_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0)
TURN_STAGES = (
    "final_decode_started",
    "end_of_turn",
    "final_transcript",
    "score_ready",
    "first_agent_audio",
)


@dataclass(frozen=True)
class NodeMetrics:
    """Every metric one node exports, registered in `registry` (never the global default)."""

    registry: CollectorRegistry
    interviews_active: Gauge
    response_latency: Histogram
    scoring_seconds: Histogram
    scoring_queue_wait: Histogram
    stt_queue_wait: Histogram
    stt_queue_length: Gauge
    event_loop_lag: Histogram
    webhook_deliveries: Counter
    errors: Counter
    events: Counter
    http_requests: Counter
    http_request_seconds: Histogram
    turn_latency: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> NodeMetrics:
        """Register the node's metrics in `registry`, or in a new registry of their own."""
        reg = registry if registry is not None else CollectorRegistry()
        metrics = cls(
            registry=reg,
            interviews_active=Gauge(
                "codesage_interviews_active",
                "Interviews with a live actor on this node.",
                registry=reg,
            ),
            response_latency=Histogram(
                "codesage_response_latency_seconds",
                "From a candidate's answer arriving to the next prompt being committed.",
                buckets=RESPONSE_BUCKETS,
                unit="seconds",
                registry=reg,
            ),
            scoring_seconds=Histogram(
                "codesage_scoring_seconds",
                "Time scoring one answer in a worker thread.",
                buckets=SCORING_BUCKETS,
                unit="seconds",
                registry=reg,
            ),
            scoring_queue_wait=Histogram(
                "codesage_scoring_queue_wait_seconds",
                "Time an answer waits for a scoring worker.",
                buckets=QUEUE_WAIT_BUCKETS,
                unit="seconds",
                registry=reg,
            ),
            stt_queue_wait=Histogram(
                "codesage_stt_queue_wait_seconds",
                "Time an utterance waits for a speech-to-text worker.",
                buckets=QUEUE_WAIT_BUCKETS,
                unit="seconds",
                registry=reg,
            ),
            turn_latency=Histogram(
                "codesage_turn_latency_seconds",
                "Spoken turns: from the end of the candidate's speech to each stage "
                "(final_decode_started, end_of_turn, final_transcript, score_ready, "
                "first_agent_audio).",
                ["stage"],
                buckets=TURN_BUCKETS,
                unit="seconds",
                registry=reg,
            ),
            stt_queue_length=Gauge(
                "codesage_stt_queue_length",
                "Utterances waiting for a speech-to-text worker.",
                registry=reg,
            ),
            event_loop_lag=Histogram(
                "codesage_event_loop_lag_seconds",
                "How late a periodic asyncio wakeup fires (time the loop was blocked).",
                buckets=LOOP_LAG_BUCKETS,
                unit="seconds",
                registry=reg,
            ),
            webhook_deliveries=Counter(
                "codesage_webhook_deliveries_total",
                "Outbound webhook delivery attempts by outcome.",
                ["outcome"],
                registry=reg,
            ),
            errors=Counter(
                "codesage_errors_total",
                "Errors by kind (a fixed vocabulary, see ERROR_KINDS).",
                ["kind"],
                registry=reg,
            ),
            events=Counter(
                "codesage_events_total",
                "Interview events committed, by event type.",
                ["type"],
                registry=reg,
            ),
            http_requests=Counter(
                "codesage_http_requests_total",
                "HTTP requests by method, route template and status.",
                ["method", "route", "status"],
                registry=reg,
            ),
            http_request_seconds=Histogram(
                "codesage_http_request_seconds",
                "HTTP request duration by route template.",
                ["route"],
                buckets=HTTP_BUCKETS,
                unit="seconds",
                registry=reg,
            ),
        )
        # Known label values start at zero, so rate() and dashboards see them before the first.
        for kind in ERROR_KINDS:
            metrics.errors.labels(kind=kind)
        for outcome in WEBHOOK_OUTCOMES:
            metrics.webhook_deliveries.labels(outcome=outcome)
        return metrics

    def count_error(self, kind: str) -> None:
        """Count one error; a kind outside ERROR_KINDS counts as "other" to bound cardinality."""
        self.errors.labels(kind=kind if kind in ERROR_KINDS else "other").inc()

    def count_webhook(self, outcome: str) -> None:
        """Count one delivery attempt: "delivered", "retrying" (retry scheduled) or "gave_up"."""
        if outcome not in WEBHOOK_OUTCOMES:
            raise ValueError(f"unknown webhook outcome {outcome!r}")
        self.webhook_deliveries.labels(outcome=outcome).inc()

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one HTTP request; `route` must be a template, never a raw path."""
        method = method if method in HTTP_METHODS else "OTHER"
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_request_seconds.labels(route=route).observe(seconds)


class EventLoopLagMonitor:
    """Measures how late a periodic wakeup fires; the lateness is time the loop was blocked."""

    def __init__(
        self,
        histogram: Histogram,
        *,
        interval_s: float = 0.5,
        on_sample: Callable[[float], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._histogram = histogram
        self._interval_s = interval_s
        self._on_sample = on_sample
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the monitor's task is running."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start measuring on the running loop."""
        if self.running:
            raise RuntimeError("the event-loop lag monitor is already running")
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="codesage-event-loop-lag"
        )

    async def stop(self) -> None:
        """Stop measuring and wait for the task to end."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self._interval_s
            await asyncio.sleep(self._interval_s)
            lag = max(0.0, loop.time() - due)
            self._histogram.observe(lag)
            if self._on_sample is not None:
                self._on_sample(lag)
