"""Passes each committed event to several sinks (sockets, webhooks, ATS), each isolated."""

from __future__ import annotations

import logging
import uuid

from codesage.engine.event_log import EventSink
from codesage.storage.journal import InterviewEvent

log = logging.getLogger(__name__)


class FanOutSink:
    """Every sink sees every event in order; one sink's failure never starves the others."""

    def __init__(self, *sinks: EventSink):
        self._sinks = sinks

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None:
        """Publish to each sink in turn, logging (not raising) a sink's failure."""
        for sink in self._sinks:
            try:
                await sink.publish(interview_id, mode, event)
            except Exception as exc:
                log.warning(
                    "event sink failed",
                    extra={
                        "interview_id": str(interview_id),
                        "sink": type(sink).__name__,
                        "error": type(exc).__name__,
                    },
                )
