"""Engine-only nodes for resilience tests: a supervisor with leases, an event log, a recorder."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from codesage.agents.template import InterviewTemplate
from codesage.engine.commands import Answer, Consent, Join
from codesage.engine.event_log import InterviewEventLog
from codesage.engine.live_mirror import RetryPolicy
from codesage.engine.loader import InterviewActorLoader
from codesage.engine.ownership import InterviewLeases, NodeIdentity
from codesage.engine.supervisor import ActorSupervisor
from codesage.storage.connections import Storage
from codesage.storage.interviews import InterviewRepository
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.templates import TemplateRepository

# Short outage backoff so that tests notice recovery quickly.
FAST_RETRY = RetryPolicy(attempt_timeout_s=1.0, initial_delay_s=0.05, max_delay_s=0.5)


class Recorder:
    """A real event and notice sink that keeps what it receives (stands in for the socket hub)."""

    def __init__(self) -> None:
        self.events: list[InterviewEvent] = []
        self.notices: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None:
        self.events.append(event)

    async def notice(self, interview_id: uuid.UUID, payload: dict[str, Any]) -> None:
        async with self._changed:
            self.notices.append(payload)
            self._changed.notify_all()

    async def notice_received(self, component: str, degraded: bool, timeout_s: float) -> None:
        """Wait until a notice about `component` with this `degraded` value has arrived."""
        wanted = {"component": component, "degraded": degraded}

        async def arrived() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: wanted in self.notices)

        await asyncio.wait_for(arrived(), timeout_s)


@dataclass
class EngineNode:
    """One node's engine: what a `codesage serve` process runs, without the web layer."""

    identity: NodeIdentity
    supervisor: ActorSupervisor
    event_log: InterviewEventLog
    leases: InterviewLeases
    recorder: Recorder

    async def close(self) -> None:
        """Stop actors (releasing their leases), then the event log's retries."""
        await self.supervisor.stop_all()
        await self.event_log.close()


def engine_node(
    storage: Storage,
    scorer: Any,
    name: str,
    *,
    ttl_s: float = 10.0,
    prefix: str = "codesage:",
) -> EngineNode:
    """A node called `name` on `storage`, holding leases for `ttl_s` under `prefix`."""
    identity = NodeIdentity(f"node-{name}", f"http://{name}.test")
    recorder = Recorder()
    journal = InterviewJournal(storage.pool)
    event_log = InterviewEventLog(
        journal,
        storage.live,
        recorder,
        notices=recorder,
        postgres_retry=FAST_RETRY,
        redis_retry=FAST_RETRY,
    )
    loader = InterviewActorLoader(
        InterviewRepository(storage.pool), TemplateRepository(storage.pool), event_log, scorer
    )
    leases = InterviewLeases(storage.redis, identity, ttl_s=ttl_s, prefix=prefix)
    supervisor = ActorSupervisor(loader, leases=leases, settle=event_log.settle)
    return EngineNode(identity, supervisor, event_log, leases, recorder)


async def schedule(storage: Storage, slug: str = "backend-python") -> uuid.UUID:
    """A new real-mode interview on a shipped (seeded) template."""
    template = await TemplateRepository(storage.pool).latest(slug)
    assert template is not None
    record = await InterviewRepository(storage.pool).create(template.id, "real")
    return record.id


async def template_of(storage: Storage, slug: str = "backend-python") -> InterviewTemplate:
    """The shipped template as stored."""
    record = await TemplateRepository(storage.pool).latest(slug)
    assert record is not None
    return InterviewTemplate.model_validate(record.body)


async def begin(supervisor: ActorSupervisor, interview_id: uuid.UUID) -> dict[str, Any]:
    """Join and consent; the first prompt."""
    await supervisor.ask(interview_id, Join())
    snapshot: dict[str, Any] = await supervisor.ask(interview_id, Consent(True))
    prompt: dict[str, Any] = snapshot["prompt"]
    return prompt


async def answer_well(
    supervisor: ActorSupervisor,
    interview_id: uuid.UUID,
    template: InterviewTemplate,
    prompt: dict[str, Any],
) -> dict[str, Any]:
    """Answer `prompt` with its reference answer; the prompt that follows."""
    text = template.question(prompt["question_id"]).rubric.reference_answer
    assert text is not None
    result = await supervisor.ask(interview_id, Answer(prompt["prompt_id"], text))
    assert result["accepted"] is True
    snapshot: dict[str, Any] = await supervisor.ask(interview_id, Join())
    following: dict[str, Any] = snapshot["prompt"]
    return following


async def journal_of(storage: Storage, interview_id: uuid.UUID) -> list[InterviewEvent]:
    """Every stored event of the interview, in order."""
    return await InterviewJournal(storage.pool).events_after(interview_id, 0, 10_000)


def assert_gapless(events: list[InterviewEvent]) -> None:
    """Sequence numbers run 1, 2, 3, … with no gap and no repeat."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
