"""Socket.IO on a real port: candidates and observers through whole interviews, and abuse."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestServer

from codesage.engine.commands import ObserverAction
from codesage.engine.event_log import candidate_event_types
from codesage.node import Node
from codesage.signaling.auth import JwtTokens, Role
from codesage.signaling.socket_guard import MAX_MESSAGE_BYTES
from codesage.storage.journal import InterviewJournal
from tests.conftest import TEST_JWT_SECRET
from tests.engine.interview_script import new_interview, strong_answer, template_of

CANDIDATE = "/candidate"
OBSERVER = "/observer"
TIMEOUT = 10
SLUG = "backend-python"


class Peer:
    """One Socket.IO connection on one namespace; queues whatever the server pushes."""

    def __init__(self, url: str, namespace: str):
        self.url = url
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.received: list[dict[str, Any]] = []
        self.superseded: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.disconnected = asyncio.Event()
        self.connect_error: dict[str, Any] | None = None
        self.errors: list[dict[str, Any]] = []
        self.sio.on("event", self._on_event, namespace=namespace)
        self.sio.on("superseded", self._on_superseded, namespace=namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=namespace)
        self.sio.on("connect_error", self._on_connect_error, namespace=namespace)
        self.sio.on("error", self.errors.append, namespace=namespace)

    async def _on_event(self, data: dict[str, Any]) -> None:
        self.received.append(data)
        self.events.put_nowait(data)

    async def _on_superseded(self, data: dict[str, Any]) -> None:
        if not self.superseded.done():
            self.superseded.set_result(data)

    async def _on_disconnect(self, *args: Any) -> None:
        self.disconnected.set()

    async def _on_connect_error(self, data: Any) -> None:
        self.connect_error = data

    async def connect(self, token: str | None) -> None:
        await self.sio.connect(
            self.url,
            transports=["websocket"],
            namespaces=[self.namespace],
            auth=None if token is None else {"token": token},
            wait_timeout=TIMEOUT,
        )

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(
            event, {} if data is None else data, namespace=self.namespace, timeout=TIMEOUT
        )
        return ack

    async def ok(self, event: str, data: Any = None) -> dict[str, Any]:
        ack = await self.call(event, data)
        assert ack["ok"] is True, (event, ack)
        return ack

    async def refused(self, event: str, data: Any, code: str) -> dict[str, Any]:
        ack = await self.call(event, data)
        assert ack["ok"] is False, (event, ack)
        assert set(ack) == {"ok", "error"} and set(ack["error"]) == {"code", "message"}, ack
        assert ack["error"]["code"] == code, (event, ack)
        assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]
        return ack

    async def next_event(self, event_type: str | None = None) -> dict[str, Any]:
        """The next pushed event (of `event_type`, skipping others)."""
        while True:
            event = await asyncio.wait_for(self.events.get(), TIMEOUT)
            if event_type is None or event["type"] == event_type:
                return event

    def drain(self) -> list[dict[str, Any]]:
        """Pushed events not taken yet."""
        events = []
        while not self.events.empty():
            events.append(self.events.get_nowait())
        return events


Connect = Callable[[str, str | None], Awaitable[Peer]]


@pytest.fixture
async def server(node: Node, aiohttp_server: Any) -> TestServer:
    """The node's app on a real port."""
    started: TestServer = await aiohttp_server(node.app)
    return started


@pytest.fixture
async def connect(server: TestServer) -> AsyncIterator[Connect]:
    """Connects peers to the server; disconnects them all after the test."""
    peers: list[Peer] = []
    url = str(server.make_url("/"))

    async def open_peer(namespace: str, token: str | None) -> Peer:
        peer = Peer(url, namespace)
        peers.append(peer)
        await peer.connect(token)
        return peer

    yield open_peer
    for peer in peers:
        if peer.sio.connected:
            await peer.sio.disconnect()


def candidate_token(node: Node, interview_id: uuid.UUID) -> str:
    return node.tokens.issue(Role.CANDIDATE, interview_id=str(interview_id), ttl_seconds=600)


def staff_token(node: Node, role: Role = Role.INTERVIEWER) -> str:
    return node.tokens.issue(role, ttl_seconds=600)


async def journal(node: Node, interview_id: uuid.UUID) -> list[dict[str, Any]]:
    events = await InterviewJournal(node.storage.pool).events_after(interview_id, 0, 10_000)
    return [e.to_json() for e in events]


async def candidate_in(
    node: Node, connect: Connect, interview_id: uuid.UUID
) -> tuple[Peer, dict[str, Any]]:
    """A candidate connected, joined and consented; returns the peer and the first prompt."""
    peer = await connect(CANDIDATE, candidate_token(node, interview_id))
    await peer.ok("join")
    consented = await peer.ok("consent", {"accepted": True})
    assert consented["snapshot"]["state"] == "questioning"
    prompt: dict[str, Any] = consented["snapshot"]["prompt"]
    assert prompt["kind"] == "question"
    assert (await peer.next_event("prompt"))["payload"] == prompt, "the prompt is pushed too"
    return peer, prompt


def assert_contiguous(events: list[dict[str, Any]], first: int = 1) -> None:
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(first, first + len(seqs))), seqs


# --- connecting ----------------------------------------------------------------------------


async def test_bad_tokens_and_wrong_roles_are_refused_at_connect(
    node: Node, server: TestServer, connect: Connect
) -> None:
    interview_id = await new_interview(node, SLUG)
    past = JwtTokens(TEST_JWT_SECRET, clock=lambda: datetime.now(UTC) - timedelta(hours=2))
    forged = JwtTokens("another-secret-" + "y" * 40)
    cases: list[tuple[str, str | None, str]] = [
        (CANDIDATE, None, "missing_token"),
        (OBSERVER, None, "missing_token"),
        (CANDIDATE, "", "missing_token"),
        (CANDIDATE, "not-a-token", "invalid_token"),
        (OBSERVER, "a.b.c", "invalid_token"),
        (CANDIDATE, forged.issue(Role.CANDIDATE, interview_id=str(interview_id)), "invalid_token"),
        (OBSERVER, forged.issue(Role.ADMIN), "invalid_token"),
        (CANDIDATE, past.issue(Role.CANDIDATE, interview_id=str(interview_id), ttl_seconds=60),
         "expired_token"),
        (OBSERVER, past.issue(Role.INTERVIEWER, ttl_seconds=60), "expired_token"),
        # Each role on the other's channel.
        (OBSERVER, candidate_token(node, interview_id), "forbidden"),
        (CANDIDATE, staff_token(node, Role.ADMIN), "forbidden"),
        (CANDIDATE, staff_token(node, Role.RECRUITER), "forbidden"),
        (CANDIDATE, staff_token(node, Role.INTERVIEWER), "forbidden"),
    ]  # fmt: skip
    url = str(server.make_url("/"))
    for namespace, token, code in cases:
        peer = Peer(url, namespace)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect(token)
        assert not peer.sio.connected, (namespace, code)
        # socket.io clients see `err.message == code` and `err.data == {code, message}`.
        error = peer.connect_error
        assert isinstance(error, dict) and error["message"] == code, (namespace, code, error)
        assert set(error["data"]) == {"code", "message"} and error["data"]["code"] == code
        assert error["data"]["message"] and (not token or token not in str(error))
    # The right tokens get in.
    await connect(CANDIDATE, candidate_token(node, interview_id))
    for role in (Role.INTERVIEWER, Role.RECRUITER, Role.ADMIN):
        await connect(OBSERVER, staff_token(node, role))


# --- a whole interview ---------------------------------------------------------------------


async def test_a_whole_typed_interview_with_an_observer_watching(
    node: Node, connect: Connect
) -> None:
    interview_id = await new_interview(node, SLUG)
    template = await template_of(node, SLUG)
    observer = await connect(OBSERVER, staff_token(node))
    watched = await observer.ok("watch", {"interview_id": str(interview_id)})
    assert watched["interview"]["id"] == str(interview_id) and watched["events"] == []
    assert watched["interview"]["state"] == "scheduled"

    candidate = await connect(CANDIDATE, candidate_token(node, interview_id))
    joined = await candidate.ok("join", {})
    snapshot = joined["snapshot"]
    assert snapshot["interview_id"] == str(interview_id) and snapshot["mode"] == "real"
    assert snapshot["state"] == "waiting" and snapshot["prompt"] is None
    assert snapshot["draft"] == "" and snapshot["template_title"] == template.title
    assert snapshot["notice"]["ai"] and snapshot["notice"]["scoring"]
    # This node serves typed interviews only: the browser must not ask for the microphone.
    assert snapshot["voice"] is False and snapshot["ice_servers"] == []
    assert [e["type"] for e in joined["events"]] == ["state_changed"]
    candidate_seen = list(joined["events"])

    live = await observer.ok("list_live")
    assert [i["id"] for i in live["interviews"]] == [str(interview_id)]

    consented = await candidate.ok("consent", {"accepted": True})
    prompt = consented["snapshot"]["prompt"]
    assert consented["snapshot"]["state"] == "questioning"
    assert (await candidate.next_event("prompt"))["payload"] == prompt
    answers: dict[str, str] = {}
    while prompt["kind"] != "closing":
        assert prompt["kind"] in ("question", "follow_up"), prompt
        assert len(answers) < 40, "the interview must end"
        text = strong_answer(template, prompt)
        answers[prompt["prompt_id"]] = text
        result = await candidate.ok("answer", {"prompt_id": prompt["prompt_id"], "text": text})
        assert result["accepted"] is True
        prompt = (await candidate.next_event("prompt"))["payload"]
    ended = await candidate.next_event("ended")
    assert ended["payload"] == {"reason": "completed"}

    # The observer saw every event, in order, live, with no gap and nothing twice.
    stored = await journal(node, interview_id)
    while not observer.received or observer.received[-1]["type"] != "ended":
        await observer.next_event()
    assert {e["interview_id"] for e in observer.received} == {str(interview_id)}
    observed = [{k: v for k, v in e.items() if k != "interview_id"} for e in observer.received]
    assert observed == stored
    assert_contiguous(observed)
    finals = [e for e in observed if e["type"] == "answer_final"]
    assert {e["payload"]["prompt_id"]: e["payload"]["text"] for e in finals} == answers
    assert all(e["payload"]["source"] == "typed" for e in finals)
    scores = [e for e in observed if e["type"] == "score"]
    assert [e["payload"]["prompt_id"] for e in scores] == [
        e["payload"]["prompt_id"] for e in finals
    ]
    for final, score in zip(finals, scores, strict=True):
        assert final["seq"] < score["seq"], "each answer is shown before its score"

    # The candidate saw exactly their events: the join replay, then live ones; no scores.
    candidate_seen += candidate.received
    visible = set(candidate_event_types("real"))
    assert candidate_seen == [e for e in stored if e["type"] in visible]
    assert not {e["type"] for e in candidate_seen} & {"score", "summary", "note"}
    record = await node.interviews.get(interview_id)
    assert record is not None and record.state == "done" and record.last_seq == stored[-1]["seq"]
    assert (await observer.ok("list_live"))["interviews"] == []


async def test_an_injected_question_is_asked_after_the_current_answer(
    node: Node, connect: Connect
) -> None:
    interview_id = await new_interview(node, SLUG)
    template = await template_of(node, SLUG)
    observer = await connect(OBSERVER, staff_token(node))
    await observer.ok("watch", {"interview_id": str(interview_id)})
    candidate, first = await candidate_in(node, connect, interview_id)
    question = "Tell me about the last production incident you handled."
    acted = await observer.ok(
        "act", {"interview_id": str(interview_id), "action": "inject_question", "text": question}
    )
    assert isinstance(acted["seq"], int)
    action = await observer.next_event("observer_action")
    assert action["seq"] == acted["seq"] and action["payload"]["action"] == "inject_question"
    # An ack comes after everything pushed before it on the same connection.
    still = await candidate.ok("join", {"after_seq": acted["seq"]})
    assert still["events"] == [] and still["snapshot"]["prompt"] == first
    assert candidate.drain() == [], "the candidate is not interrupted (nor told of the action)"

    await candidate.ok(
        "answer", {"prompt_id": first["prompt_id"], "text": strong_answer(template, first)}
    )
    injected = (await candidate.next_event("prompt"))["payload"]
    assert injected["kind"] == "injected" and injected["text"] == question
    assert injected["competency"] is None and injected["number"] == first["number"] + 1
    await candidate.ok("answer", {"prompt_id": injected["prompt_id"], "text": "A cache stampede."})
    after = (await candidate.next_event("prompt"))["payload"]
    assert (
        after["kind"] in ("question", "follow_up") and after["prompt_id"] != injected["prompt_id"]
    )
    finals = []
    while len(finals) < 2:
        event = await observer.next_event()
        if event["type"] == "answer_final":
            finals.append(event["payload"])
    assert finals[1] == {
        "prompt_id": injected["prompt_id"],
        "text": "A cache stampede.",
        "source": "typed",
    }


async def test_practice_candidates_get_hints_and_live_feedback(
    node: Node, connect: Connect
) -> None:
    interview_id = await new_interview(node, SLUG, mode="practice")
    template = await template_of(node, SLUG)
    candidate, prompt = await candidate_in(node, connect, interview_id)
    hint = await candidate.ok("hint", {"prompt_id": prompt["prompt_id"]})
    assert hint["hint"]["text"] and 1 <= hint["hint"]["strength"] <= 3
    pushed = await candidate.next_event("hint")
    assert pushed["payload"]["text"] == hint["hint"]["text"]
    await candidate.refused("hint", {"prompt_id": "not-the-prompt"}, "stale_prompt")
    await candidate.ok(
        "answer", {"prompt_id": prompt["prompt_id"], "text": strong_answer(template, prompt)}
    )
    score = await candidate.next_event("score")
    assert score["payload"]["prompt_id"] == prompt["prompt_id"]
    await candidate.next_event("summary")

    real = await new_interview(node, SLUG)
    other, real_prompt = await candidate_in(node, connect, real)
    await other.refused("hint", {"prompt_id": real_prompt["prompt_id"]}, "hints_not_allowed")


# --- reconnecting and tabs -----------------------------------------------------------------


async def test_a_reconnect_replays_exactly_the_missed_events_and_the_draft(
    node: Node, connect: Connect
) -> None:
    interview_id = await new_interview(node, SLUG)
    observer = await connect(OBSERVER, staff_token(node))
    first, prompt = await candidate_in(node, connect, interview_id)
    seen = (await first.ok("join", {"after_seq": 0}))["events"]
    last_seq = seen[-1]["seq"]
    draft = "I would start by profiling the slow endpoint, then"
    await first.ok("draft", {"prompt_id": prompt["prompt_id"], "text": draft})
    await first.sio.disconnect()

    target = {"interview_id": str(interview_id)}
    await observer.ok("act", {**target, "action": "pause"})
    await observer.ok("act", {**target, "action": "note", "text": "Dropped off; waiting."})
    await observer.ok("act", {**target, "action": "resume"})

    second = await connect(CANDIDATE, candidate_token(node, interview_id))
    rejoined = await second.ok("join", {"after_seq": last_seq})
    stored = await journal(node, interview_id)
    visible = set(candidate_event_types("real"))
    missed = [e for e in stored if e["seq"] > last_seq and e["type"] in visible]
    assert rejoined["events"] == missed
    assert [e["payload"]["state"] for e in missed] == ["paused", "questioning"]
    snapshot = rejoined["snapshot"]
    assert snapshot["draft"] == draft and snapshot["prompt"] == prompt
    assert snapshot["state"] == "questioning" and snapshot["last_seq"] == stored[-1]["seq"]
    # Replaying from the start gives the whole candidate history, each event once.
    everything = (await second.ok("join", {"after_seq": 0}))["events"]
    assert everything == [e for e in stored if e["type"] in visible]
    assert second.drain() == [], "nothing was pushed twice"
    # The draft is the current prompt's only: an answer clears it.
    await second.ok("answer", {"prompt_id": prompt["prompt_id"], "text": "A short answer."})
    assert (await second.next_event("answer_final"))["seq"] > stored[-1]["seq"]
    following = (await second.next_event("prompt"))["payload"]
    after_answer = (await second.ok("join", {"after_seq": 10_000}))["snapshot"]
    assert after_answer["prompt"] == following and after_answer["draft"] == ""


async def test_a_second_tab_supersedes_the_first(node: Node, connect: Connect) -> None:
    interview_id = await new_interview(node, SLUG)
    first = await connect(CANDIDATE, candidate_token(node, interview_id))
    await first.ok("join")
    second = await connect(CANDIDATE, candidate_token(node, interview_id))
    await second.ok("join")
    notice = await asyncio.wait_for(first.superseded, TIMEOUT)
    assert set(notice) == {"message"} and notice["message"]
    await asyncio.wait_for(first.disconnected.wait(), TIMEOUT)
    assert not first.sio.connected
    consented = await second.ok("consent", {"accepted": True})
    assert consented["snapshot"]["state"] == "questioning"
    assert (await second.next_event("prompt"))["payload"] == consented["snapshot"]["prompt"]
    assert not second.superseded.done()
    # A third tab takes over from the second in turn.
    third = await connect(CANDIDATE, candidate_token(node, interview_id))
    assert (await third.ok("join"))["snapshot"]["prompt"] == consented["snapshot"]["prompt"]
    await asyncio.wait_for(second.superseded, TIMEOUT)
    await asyncio.wait_for(second.disconnected.wait(), TIMEOUT)


# --- refusals ------------------------------------------------------------------------------


async def test_answers_after_the_end_are_refused(node: Node, connect: Connect) -> None:
    interview_id = await new_interview(node, SLUG)
    observer = await connect(OBSERVER, staff_token(node))
    candidate, prompt = await candidate_in(node, connect, interview_id)
    await observer.ok("act", {"interview_id": str(interview_id), "action": "end"})
    closing = await candidate.next_event("prompt")
    assert closing["payload"]["kind"] == "closing"
    assert (await candidate.next_event("ended"))["payload"] == {"reason": "ended_by_interviewer"}
    answer = {"prompt_id": prompt["prompt_id"], "text": "Late, but here it is."}
    await candidate.refused("answer", answer, "interview_ended")
    closing_answer = {"prompt_id": closing["payload"]["prompt_id"], "text": "Thanks!"}
    await candidate.refused("answer", closing_answer, "interview_ended")
    await candidate.refused("consent", {"accepted": True}, "interview_ended")
    await observer.refused(
        "act", {"interview_id": str(interview_id), "action": "pause"}, "interview_ended"
    )
    stored = await journal(node, interview_id)
    assert stored[-1]["type"] == "ended"
    assert not [e for e in stored if e["type"] == "answer_final"]


async def test_oversized_and_malformed_messages_are_refused_and_the_connection_lives_on(
    node: Node, connect: Connect
) -> None:
    interview_id = await new_interview(node, SLUG)
    candidate = await connect(CANDIDATE, candidate_token(node, interview_id))
    await candidate.ok("join")
    huge = "x" * (MAX_MESSAGE_BYTES + 1)
    await candidate.refused("draft", {"prompt_id": "p", "text": huge}, "too_large")
    await candidate.refused("answer", {"prompt_id": "p", "text": huge}, "too_large")
    await candidate.ok("join")
    malformed: list[tuple[str, Any]] = [
        ("answer", {}),  # missing fields
        ("answer", {"prompt_id": "p"}),
        ("answer", {"prompt_id": 7, "text": "x"}),  # wrong type
        ("answer", {"prompt_id": "p", "text": ["x"]}),
        ("draft", {"prompt_id": "p", "text": "x", "extra": True}),  # extra field
        ("draft", {"prompt_id": "p" * 65, "text": "x"}),
        ("consent", {}),
        ("consent", {"accepted": [True]}),
        ("join", {"after_seq": -1}),
        ("join", {"after_seq": "soon"}),
        ("join", {"after": 3}),
        ("hint", {"prompt": "p"}),
        ("answer", "just a string"),
        ("answer", ["a", "list"]),
        ("draft", 42),
    ]
    for event, data in malformed:
        await candidate.refused(event, data, "invalid_message")
    ack = await candidate.ok("join")
    assert ack["snapshot"]["state"] == "waiting", "nothing malformed changed the interview"

    observer = await connect(OBSERVER, staff_token(node))
    target = str(interview_id)
    observer_malformed: list[tuple[str, Any]] = [
        ("watch", {}),
        ("watch", {"interview_id": "not-a-uuid"}),
        ("watch", {"interview_id": "-" * 36}),
        ("watch", {"interview_id": target, "after_seq": -5}),
        ("unwatch", {"interview_id": 12}),
        ("act", {"interview_id": target, "action": "explode"}),
        ("act", {"interview_id": target}),
        ("act", {"interview_id": "-" * 36, "action": "pause"}),
        ("act", {"interview_id": target, "action": "cancel"}),  # REST only
        ("list_live", {"all": True}),
    ]
    for event, data in observer_malformed:
        await observer.refused(event, data, "invalid_message")
    await observer.refused(
        "act", {"interview_id": target, "action": "note", "text": huge}, "too_large"
    )
    await observer.refused(
        "act", {"interview_id": target, "action": "inject_question", "text": "  "}, "text_required"
    )
    await observer.ok("watch", {"interview_id": target})
    stored = await journal(node, interview_id)
    assert [e["type"] for e in stored] == ["state_changed"], "only the join was recorded"


async def test_a_flood_is_rate_limited_and_other_interviews_carry_on(
    node: Node, connect: Connect
) -> None:
    flooded_id = await new_interview(node, SLUG)
    calm_id = await new_interview(node, SLUG)
    flooder = await connect(CANDIDATE, candidate_token(node, flooded_id))
    calm = await connect(CANDIDATE, candidate_token(node, calm_id))
    await calm.ok("join")

    async def calm_candidate() -> list[dict[str, Any]]:
        acks = [await calm.call("consent", {"accepted": True})]
        prompt = acks[0]["snapshot"]["prompt"]
        for n in range(5):
            acks.append(
                await calm.call("draft", {"prompt_id": prompt["prompt_id"], "text": f"draft {n}"})
            )
        acks.append(await calm.call("join", {}))
        return acks

    flood = [flooder.call("draft", {"prompt_id": "p", "text": f"message {n}"}) for n in range(200)]
    flood_acks, calm_acks = await asyncio.gather(asyncio.gather(*flood), calm_candidate())
    codes = [a["error"]["code"] for a in flood_acks if not a["ok"]]
    accepted = sum(1 for a in flood_acks if a["ok"])
    assert set(codes) == {"rate_limited"}
    # A burst of 40 passes, then 20 a second: most of 200 at once are refused.
    assert 40 <= accepted <= 160 and len(codes) >= 40, (accepted, len(codes))
    assert all(a["ok"] for a in calm_acks), calm_acks
    assert calm_acks[-1]["snapshot"]["draft"] == "draft 4"


async def test_joining_an_interview_that_is_not_open_is_refused(
    node: Node, connect: Connect
) -> None:
    template = await node.templates.latest(SLUG)
    assert template is not None
    now = datetime.now(UTC)
    early = await node.interviews.create(template.id, "real", window_start=now + timedelta(hours=1))
    late = await node.interviews.create(
        template.id,
        "real",
        window_start=now - timedelta(hours=2),
        window_end=now - timedelta(hours=1),
    )
    cancelled = await new_interview(node, SLUG)
    await node.supervisor.ask(cancelled, ObserverAction("cancel", str(uuid.uuid4())))
    cases = [
        (early.id, "not_open_yet"),
        (late.id, "window_closed"),
        (cancelled, "interview_cancelled"),
        (uuid.uuid4(), "not_found"),  # a valid token for an interview that does not exist
    ]
    for interview_id, code in cases:
        candidate = await connect(CANDIDATE, candidate_token(node, interview_id))
        await candidate.refused("join", {}, code)
        await candidate.refused("answer", {"prompt_id": "p", "text": "Hello?"}, (
            "not_found" if code == "not_found" else
            "interview_ended" if code == "interview_cancelled" else "not_accepting_answers"
        ))  # fmt: skip
    for record in (early, late):
        stored = await node.interviews.get(record.id)
        assert stored is not None and stored.state == "scheduled" and stored.last_seq == 0


async def test_watching_or_acting_on_an_unknown_interview_is_not_found(
    node: Node, connect: Connect
) -> None:
    observer = await connect(OBSERVER, staff_token(node))
    unknown = str(uuid.uuid4())
    await observer.refused("watch", {"interview_id": unknown}, "not_found")
    await observer.refused("act", {"interview_id": unknown, "action": "pause"}, "not_found")
    await observer.ok("unwatch", {"interview_id": unknown})
    assert (await observer.ok("list_live"))["interviews"] == []


async def test_unwatch_stops_the_events_of_that_interview_only(
    node: Node, connect: Connect
) -> None:
    first = await new_interview(node, SLUG)
    second = await new_interview(node, SLUG)
    observer = await connect(OBSERVER, staff_token(node))
    admin = staff_token(node, Role.ADMIN)
    acting = await connect(OBSERVER, admin)
    # Any spelling of the UUID names the same interview.
    await observer.ok("watch", {"interview_id": str(first).upper()})
    await observer.ok("watch", {"interview_id": str(second)})
    noted = await acting.ok("act", {"interview_id": str(first), "action": "note", "text": "one"})
    event = await observer.next_event()
    assert (event["interview_id"], event["seq"]) == (str(first), noted["seq"])
    assert event["payload"] == {"text": "one", "by": node.tokens.verify(admin).subject}
    await observer.ok("unwatch", {"interview_id": str(first)})
    await acting.ok("act", {"interview_id": str(first), "action": "note", "text": "two"})
    await acting.ok("act", {"interview_id": str(second), "action": "note", "text": "three"})
    # Events reach a connection in the order they were sent: "two" would have come first.
    event = await observer.next_event()
    assert (event["interview_id"], event["payload"]["text"]) == (str(second), "three")
    assert observer.drain() == []
