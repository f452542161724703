"""Socket.IO: the candidate and observer namespaces, and fan-out of interview events."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import socketio
from aiohttp import web
from redis.exceptions import RedisError

from codesage.engine.commands import (
    Answer,
    Consent,
    HintRequest,
    InterviewError,
    Join,
    ObserverAction,
)
from codesage.engine.event_log import candidate_event_types, candidate_may_see
from codesage.engine.supervisor import ActorSupervisor
from codesage.engine.voice_conversation import VoiceConversation, VoiceConversations
from codesage.media.peer import ObserverPeer, SignallingError
from codesage.signaling.api_models import (
    ActMessage,
    AnswerMessage,
    ConsentMessage,
    DraftMessage,
    EmptyMessage,
    EndTurnMessage,
    HintMessage,
    JoinMessage,
    MediaAnswerMessage,
    MediaWatchMessage,
    RtcIceMessage,
    RtcOfferMessage,
    UnwatchMessage,
    WatchMessage,
)
from codesage.signaling.auth import STAFF_ROLES, AuthError, Principal, Role, TokenVerifier
from codesage.signaling.socket_guard import Ack, MessageGuard
from codesage.storage.interviews import LIVE_STATES, InterviewRepository
from codesage.storage.journal import InterviewEvent, InterviewJournal
from codesage.storage.live_state import LiveStateStore

log = logging.getLogger(__name__)

CANDIDATE_NS = "/candidate"
OBSERVER_NS = "/observer"
REPLAY_LIMIT = 5000


@dataclass(frozen=True)
class SocketDependencies:
    """What the namespaces need from the engine and storage."""

    tokens: TokenVerifier
    supervisor: ActorSupervisor
    journal: InterviewJournal
    interviews: InterviewRepository
    live: LiveStateStore
    voice: VoiceConversations | None = None
    ice_servers: tuple[dict[str, Any], ...] = ()
    """STUN/TURN servers for the browser's peer (`RTCIceServer` form), sent with every join."""


def _principal_from(auth: Any, tokens: TokenVerifier) -> Principal:
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token:
        raise AuthError("missing_token", "Connect with auth: {token: ...}.")
    return tokens.verify(token)


def _refused(exc: AuthError) -> Exception:
    # The client sees `err.message == code` and `err.data == {code, message}`.
    error: Exception = socketio.exceptions.ConnectionRefusedError(
        exc.code, {"code": exc.code, "message": exc.message}
    )
    return error


async def _live_state(live: LiveStateStore, key: str) -> dict[str, str]:
    """The interview's live-state hash; empty while Redis is unreachable."""
    try:
        return await live.get_state(key)
    except (RedisError, OSError) as exc:
        log.warning("live state unreadable", extra={"interview_id": key, "error": str(exc)})
        return {}


async def _set_live_state(live: LiveStateStore, key: str, fields: dict[str, str]) -> None:
    """Merge into the live-state hash; during a Redis outage the write is skipped, not fatal."""
    try:
        await live.set_state(key, fields)
    except (RedisError, OSError) as exc:
        log.warning("live state not saved", extra={"interview_id": key, "error": str(exc)})


class CandidateNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """A candidate's connection: bound by its token to one interview."""

    def __init__(self, deps: SocketDependencies, guard: MessageGuard):
        super().__init__(CANDIDATE_NS)
        self._deps = deps
        self._guard = guard

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Refuse anything but a valid candidate token."""
        try:
            principal = _principal_from(auth, self._deps.tokens)
            if principal.role != Role.CANDIDATE or principal.interview_id is None:
                raise AuthError("forbidden", "This is the candidate channel.")
        except AuthError as exc:
            raise _refused(exc) from None
        await self.save_session(sid, {"interview_id": principal.interview_id})

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        """Forget the rate limit; a lost socket also closes its peer (browsers don't say)."""
        self._guard.forget(sid)
        if self._deps.voice is None:
            return
        session = await self.get_session(sid)
        key = session.get("interview_id")
        if key is None:
            return
        conversation = self._deps.voice.get(uuid.UUID(key))
        current = (await _live_state(self._deps.live, key)).get("candidate_sid")
        # Only the current tab's socket owns the peer: an older tab leaving must not end it.
        if conversation is not None and current == sid:
            await conversation.hang_up()

    async def _interview_id(self, sid: str) -> uuid.UUID:
        session = await self.get_session(sid)
        return uuid.UUID(session["interview_id"])

    async def on_join(self, sid: str, data: Any = None) -> Ack:
        """Take over the interview from any other tab, then send a snapshot and missed events."""
        interview_id = await self._interview_id(sid)

        async def join(message: JoinMessage) -> Ack:
            snapshot = await self._deps.supervisor.ask(interview_id, Join())
            key = str(interview_id)
            previous = (await _live_state(self._deps.live, key)).get("candidate_sid")
            if previous and previous != sid:
                # One tab wins: the newest. The other is told why before it is closed.
                await self.emit(
                    "superseded",
                    {"message": "This interview was opened in another tab or window."},
                    to=previous,
                )
                await self.disconnect(previous)
            await _set_live_state(self._deps.live, key, {"candidate_sid": sid})
            await self.enter_room(sid, f"candidate:{interview_id}")
            events = await self._deps.journal.events_after(
                interview_id,
                message.after_seq,
                REPLAY_LIMIT,
                types=candidate_event_types(snapshot["mode"]),
            )
            draft = await self._draft(key, snapshot)
            # The browser's peer needs the node's TURN servers to meet it from behind a NAT;
            # `voice` false tells it not to ask for the microphone at all.
            voice = {"voice": self._deps.voice is not None, "ice_servers": self._deps.ice_servers}
            return {
                "ok": True,
                "snapshot": {**snapshot, "draft": draft, **voice},
                "events": [e.to_json() for e in events],
            }

        return await self._guard.run(sid, data, JoinMessage, join)

    async def _draft(self, key: str, snapshot: dict[str, Any]) -> str:
        state = await _live_state(self._deps.live, key)
        prompt = snapshot.get("prompt")
        if prompt and state.get("draft_prompt") == prompt["prompt_id"]:
            return state.get("draft", "")
        return ""

    async def on_consent(self, sid: str, data: Any = None) -> Ack:
        """Record consent (or its refusal) and start the questions."""
        interview_id = await self._interview_id(sid)

        async def consent(message: ConsentMessage) -> Ack:
            snapshot = await self._deps.supervisor.ask(interview_id, Consent(message.accepted))
            return {"ok": True, "snapshot": snapshot}

        return await self._guard.run(sid, data, ConsentMessage, consent)

    async def on_draft(self, sid: str, data: Any = None) -> Ack:
        """Keep the typed answer so far, so that a dropped connection loses nothing."""
        interview_id = await self._interview_id(sid)

        async def draft(message: DraftMessage) -> Ack:
            await _set_live_state(
                self._deps.live,
                str(interview_id),
                {"draft": message.text, "draft_prompt": message.prompt_id},
            )
            return {"ok": True}

        return await self._guard.run(sid, data, DraftMessage, draft)

    async def on_answer(self, sid: str, data: Any = None) -> Ack:
        """A final typed answer."""
        interview_id = await self._interview_id(sid)

        async def answer(message: AnswerMessage) -> Ack:
            result = await self._deps.supervisor.ask(
                interview_id, Answer(message.prompt_id, message.text)
            )
            await _set_live_state(
                self._deps.live, str(interview_id), {"draft": "", "draft_prompt": ""}
            )
            return {"ok": True, **result}

        return await self._guard.run(sid, data, AnswerMessage, answer)

    async def on_hint(self, sid: str, data: Any = None) -> Ack:
        """A practice hint."""
        interview_id = await self._interview_id(sid)

        async def hint(message: HintMessage) -> Ack:
            result = await self._deps.supervisor.ask(interview_id, HintRequest(message.prompt_id))
            return {"ok": True, **result}

        return await self._guard.run(sid, data, HintMessage, hint)

    def _voice(self, interview_id: uuid.UUID, *, create: bool) -> VoiceConversation:
        voice = self._deps.voice
        if voice is None:
            raise InterviewError("voice_unavailable", "Voice is not available; please type.", 503)
        conversation = voice.open(interview_id) if create else voice.get(interview_id)
        if conversation is None:
            raise InterviewError("no_peer", "Start voice with an offer first.")
        return conversation

    async def on_rtc_offer(self, sid: str, data: Any = None) -> Ack:
        """Answer the browser's WebRTC offer; the open question is then spoken."""
        interview_id = await self._interview_id(sid)

        async def offer(message: RtcOfferMessage) -> Ack:
            actor = await self._deps.supervisor.actor(interview_id)
            conversation = self._voice(interview_id, create=True)
            try:
                answer = await conversation.accept_offer(message.sdp)
            except SignallingError as exc:
                raise InterviewError("malformed_sdp", str(exc), 400) from exc
            snapshot = actor.snapshot()
            conversation.adopt_prompt(snapshot["prompt"], snapshot["answered"])
            return {"ok": True, "sdp": answer}

        return await self._guard.run(sid, data, RtcOfferMessage, offer)

    async def on_rtc_ice(self, sid: str, data: Any = None) -> Ack:
        """A trickled ICE candidate for the candidate's peer."""
        interview_id = await self._interview_id(sid)

        async def ice(message: RtcIceMessage) -> Ack:
            conversation = self._voice(interview_id, create=False)
            try:
                await conversation.add_ice_candidate(message.candidate)
            except SignallingError as exc:
                raise InterviewError("invalid_candidate", str(exc), 400) from exc
            return {"ok": True}

        return await self._guard.run(sid, data, RtcIceMessage, ice)

    async def on_rtc_hangup(self, sid: str, data: Any = None) -> Ack:
        """Close the candidate's peer; typed answers go on."""
        interview_id = await self._interview_id(sid)

        async def hangup(_: EmptyMessage) -> Ack:
            if self._deps.voice is not None:
                conversation = self._deps.voice.get(interview_id)
                if conversation is not None:
                    await conversation.hang_up()
            return {"ok": True}

        return await self._guard.run(sid, data, EmptyMessage, hangup)

    async def on_end_turn(self, sid: str, data: Any = None) -> Ack:
        """ "I'm done": end the spoken answer now."""
        interview_id = await self._interview_id(sid)

        async def end_turn(message: EndTurnMessage) -> Ack:
            await self._voice(interview_id, create=False).end_turn(message.prompt_id)
            return {"ok": True}

        return await self._guard.run(sid, data, EndTurnMessage, end_turn)


class ObserverNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Staff watching and acting on live interviews."""

    def __init__(self, deps: SocketDependencies, guard: MessageGuard):
        super().__init__(OBSERVER_NS)
        self._deps = deps
        self._guard = guard
        self._media: dict[str, dict[str, ObserverPeer]] = {}

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Refuse anything but a valid staff token."""
        try:
            principal = _principal_from(auth, self._deps.tokens)
            if principal.role not in STAFF_ROLES:
                raise AuthError(
                    "forbidden", "Only interviewers, recruiters and admins may observe."
                )
        except AuthError as exc:
            raise _refused(exc) from None
        await self.save_session(sid, {"subject": principal.subject})

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        """Forget the rate limit and close the watcher's media peers."""
        self._guard.forget(sid)
        for peer in self._media.pop(sid, {}).values():
            await peer.close("observer-left")

    async def on_media_watch(self, sid: str, data: Any = None) -> Ack:
        """Offer the interview's live candidate audio, video and agent voice (owner node)."""

        async def media_watch(message: MediaWatchMessage) -> Ack:
            voice = self._deps.voice
            conversation = None if voice is None else voice.get(uuid.UUID(message.interview_id))
            if conversation is None:
                raise InterviewError("no_voice", "This interview has no live voice here.", 404)
            peer, offer = await conversation.observe()
            media_id = uuid.uuid4().hex
            self._media.setdefault(sid, {})[media_id] = peer
            return {"ok": True, "media_id": media_id, "sdp": offer}

        return await self._guard.run(sid, data, MediaWatchMessage, media_watch)

    async def on_media_answer(self, sid: str, data: Any = None) -> Ack:
        """The watcher's answer to a media offer."""

        async def media_answer(message: MediaAnswerMessage) -> Ack:
            peer = self._media.get(sid, {}).get(message.media_id)
            if peer is None:
                raise InterviewError("not_found", "No such media offer.", 404)
            try:
                await peer.accept_answer(message.sdp)
            except SignallingError as exc:
                raise InterviewError("malformed_sdp", str(exc), 400) from exc
            return {"ok": True}

        return await self._guard.run(sid, data, MediaAnswerMessage, media_answer)

    async def on_list_live(self, sid: str, data: Any = None) -> Ack:
        """Interviews in progress, on any node."""

        async def list_live(_: EmptyMessage) -> Ack:
            records = await self._deps.interviews.list(states=LIVE_STATES, limit=200)
            return {"ok": True, "interviews": [r.to_json() for r in records]}

        return await self._guard.run(sid, data, EmptyMessage, list_live)

    async def on_watch(self, sid: str, data: Any = None) -> Ack:
        """Join the interview's room, then send the events after `after_seq`."""

        async def watch(message: WatchMessage) -> Ack:
            interview_id = uuid.UUID(message.interview_id)
            record = await self._deps.interviews.get(interview_id)
            if record is None:
                raise InterviewError("not_found", "No such interview.", 404)
            await self.enter_room(sid, f"observe:{interview_id}")
            events = await self._deps.journal.events_after(
                interview_id, message.after_seq, REPLAY_LIMIT
            )
            return {
                "ok": True,
                "interview": record.to_json(),
                "events": [e.to_json() for e in events],
            }

        return await self._guard.run(sid, data, WatchMessage, watch)

    async def on_unwatch(self, sid: str, data: Any = None) -> Ack:
        """Leave the interview's room."""

        async def unwatch(message: UnwatchMessage) -> Ack:
            await self.leave_room(sid, f"observe:{uuid.UUID(message.interview_id)}")
            return {"ok": True}

        return await self._guard.run(sid, data, UnwatchMessage, unwatch)

    async def on_act(self, sid: str, data: Any = None) -> Ack:
        """Pause, resume, inject a question, take over, hand back, note or end."""
        session = await self.get_session(sid)

        async def act(message: ActMessage) -> Ack:
            result = await self._deps.supervisor.ask(
                uuid.UUID(message.interview_id),
                ObserverAction(message.action, session["subject"], message.text),
            )
            return {"ok": True, **result}

        return await self._guard.run(sid, data, ActMessage, act)


class SocketHub:
    """The Socket.IO server; also the engine's event sink, fanning events out to rooms."""

    def __init__(self, redis_url: str | None, *, channel: str = "codesage-socketio"):
        manager = None
        if redis_url is not None:
            manager = socketio.AsyncRedisManager(redis_url, channel=channel)
        self.server = socketio.AsyncServer(
            async_mode="aiohttp",
            client_manager=manager,
            transports=["websocket"],
            # Engine-level cap; the guard answers anything above 64 KiB with a clear error.
            max_http_buffer_size=1_000_000,
            cors_allowed_origins=[],
        )
        self.guard = MessageGuard()

    def attach_namespaces(self, deps: SocketDependencies) -> None:
        """Register the candidate and observer namespaces."""
        self.server.register_namespace(CandidateNamespace(deps, self.guard))
        self.server.register_namespace(ObserverNamespace(deps, self.guard))

    async def publish(self, interview_id: uuid.UUID, mode: str, event: InterviewEvent) -> None:
        """Send a committed event to its observers and, when allowed, to its candidate."""
        body = event.to_json()
        await self.server.emit(
            "event",
            {"interview_id": str(interview_id), **body},
            room=f"observe:{interview_id}",
            namespace=OBSERVER_NS,
        )
        if candidate_may_see(event.type, mode):
            await self.server.emit(
                "event", body, room=f"candidate:{interview_id}", namespace=CANDIDATE_NS
            )

    async def close_connections(self, app: web.Application) -> None:
        """Disconnect every client (node shutdown) so that each reconnects to another node now."""
        if self.server.eio.sockets:  # engine.io waits on the set of them, which must not be empty
            await self.server.eio.disconnect()

    async def notice(self, interview_id: uuid.UUID, payload: dict[str, Any]) -> None:
        """A `service_notice` (no sequence number) to the interview's observers and candidate.

        python-socketio emits to this node's clients before publishing to Redis, so the
        owner's clients hear of a Redis outage too.
        """
        await self.server.emit(
            "service_notice",
            {"interview_id": str(interview_id), **payload},
            room=f"observe:{interview_id}",
            namespace=OBSERVER_NS,
        )
        await self.server.emit(
            "service_notice", payload, room=f"candidate:{interview_id}", namespace=CANDIDATE_NS
        )
