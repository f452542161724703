"""A node's object graph: storage, engine and web app wired together (the composition root)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from codesage.agents.embeddings import MiniLMEncoder
from codesage.agents.llm import LLMInterviewAssistant, OpenAICompatibleLLM
from codesage.agents.resume import resume_scrubber
from codesage.agents.scoring import RubricScorer
from codesage.agents.scoring_pool import ScoringPool
from codesage.agents.speech_to_text import EncoderWindow
from codesage.config.metrics import EventLoopLagMonitor, NodeMetrics
from codesage.config.settings import IceServer, LanguageModelConfig
from codesage.engine.ats import GreenhouseSettings
from codesage.engine.ats_wiring import AtsIntegration, build_ats_integration
from codesage.engine.bias_audit_report import BiasAuditReports
from codesage.engine.candidate_profiles import ResumeProfiler
from codesage.engine.commands import Command
from codesage.engine.event_log import EventSink, InterviewEventLog
from codesage.engine.fan_out import FanOutSink
from codesage.engine.language_model import (
    ModelProbeWriter,
    ModelResumeQuestions,
    RecordCommand,
    SecondOpinionReviewer,
)
from codesage.engine.loader import InterviewActorLoader
from codesage.engine.ownership import InterviewLeases, NodeIdentity
from codesage.engine.reports import InterviewReports
from codesage.engine.supervisor import ActorSupervisor
from codesage.engine.template_catalog import seed_templates
from codesage.engine.voice_conversation import VoiceConversations, VoiceResources
from codesage.engine.webhooks import (
    DeliveryOutcome,
    DispatcherSettings,
    OutcomeListener,
    WebhookDispatcher,
    WebhookOutbox,
)
from codesage.media.inference_pool import DecodeKind
from codesage.media.recording import BlobStore
from codesage.signaling.app import create_app
from codesage.signaling.audit_routes import AuditDependencies
from codesage.signaling.auth import JwtTokens, Role
from codesage.signaling.ownership_routes import OwnershipApi
from codesage.signaling.recording_routes import RecordingDependencies
from codesage.signaling.rest import RestDependencies
from codesage.signaling.sockets import SocketDependencies, SocketHub
from codesage.signaling.webhook_routes import WebhookDependencies
from codesage.storage.connections import Storage
from codesage.storage.demographics import DemographicsRepository
from codesage.storage.interviews import InterviewRepository
from codesage.storage.journal import InterviewJournal
from codesage.storage.templates import TemplateRepository
from codesage.storage.webhooks import AtsLinkRepository, ClaimedDelivery, WebhookRepository

log = logging.getLogger(__name__)


def _webhook_outcome_counter(metrics: NodeMetrics) -> OutcomeListener:
    # The dispatcher's outcomes, in the metric's vocabulary (a lost lease is retried later).
    names = {"delivered": "delivered", "retrying": "retrying", "failed": "gave_up"}

    def count(claim: ClaimedDelivery, outcome: DeliveryOutcome) -> None:
        if outcome in names:
            metrics.count_webhook(names[outcome])

    return count


def use_one_torch_thread_per_job() -> None:
    """Parallelism comes from the scoring pool's threads, one core each.

    Measured here: torch's default intra-op threading on a busy 2-core box made one batch
    of 16 sentences 13x slower (1.2 s against 0.09 s with one thread).
    """
    import torch

    torch.set_num_threads(1)


@dataclass
class LanguageModelServices:
    """What the optional language model does in a node, and the HTTP session it uses."""

    probes: ModelProbeWriter
    resume_questions: ModelResumeQuestions
    second_opinions: SecondOpinionReviewer
    http: aiohttp.ClientSession

    async def close(self) -> None:
        """Abandon second opinions in progress and close the HTTP session."""
        await self.second_opinions.close()
        await self.http.close()


async def connect_language_model(
    config: LanguageModelConfig, record: RecordCommand, metrics: NodeMetrics
) -> LanguageModelServices:
    """The model's three uses in live interviews; answers are scrubbed before they leave."""
    http = aiohttp.ClientSession()
    llm = OpenAICompatibleLLM(
        config.base_url, config.model, config.api_key, http, timeout=config.timeout_seconds
    )
    assistant = LLMInterviewAssistant(llm, await asyncio.to_thread(resume_scrubber))
    timeout = config.timeout_seconds
    return LanguageModelServices(
        probes=ModelProbeWriter(assistant, timeout, metrics=metrics),
        resume_questions=ModelResumeQuestions(
            assistant, timeout, config.resume_questions, metrics=metrics
        ),
        second_opinions=SecondOpinionReviewer(assistant, timeout, record, metrics=metrics),
        http=http,
    )


@dataclass
class Node:
    """Everything one running node holds; `close` releases it in order."""

    app: web.Application
    storage: Storage
    tokens: JwtTokens
    templates: TemplateRepository
    interviews: InterviewRepository
    supervisor: ActorSupervisor
    scoring: ScoringPool
    executor: ThreadPoolExecutor
    metrics: NodeMetrics
    loop_lag: EventLoopLagMonitor
    dispatcher: WebhookDispatcher
    event_log: InterviewEventLog
    voice: VoiceConversations | None = None
    ats: AtsIntegration | None = None
    language_model: LanguageModelServices | None = None

    async def close(self) -> None:
        """Stop voice and actors (their state is checkpointed), then webhooks, then pools."""
        await self.loop_lag.stop()
        if self.voice is not None:
            await self.voice.close_all()
        await self.supervisor.stop_all()
        if self.language_model is not None:
            await self.language_model.close()
        await self.event_log.close()
        # After the actors: their last events are queued as deliveries before it stops.
        await self.dispatcher.stop()
        if self.ats is not None:
            await self.ats.close()
        self.scoring.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


async def build_node(
    storage: Storage,
    *,
    redis_url: str,
    jwt_secret: str,
    inference_threads: int,
    web_dist: Path | None,
    scorer: RubricScorer | None = None,
    socket_channel: str = "codesage-socketio",
    metrics: NodeMetrics | None = None,
    voice: VoiceResources | None = None,
    ats: GreenhouseSettings | None = None,
    public_url: str = "http://localhost:8080",
    identity: NodeIdentity | None = None,
    lease_ttl_seconds: float = 4.0,
    redis_prefix: str = "codesage:",
    language_model: LanguageModelConfig | None = None,
) -> Node:
    """Wire a node on open `storage`; seeds the shipped templates."""
    # One registry per node: two nodes in one process (tests) never share counters.
    metrics = metrics if metrics is not None else NodeMetrics.create()
    if voice is not None:
        voice = dataclasses.replace(voice, metrics=metrics)
        metrics.stt_queue_length.set_function(lambda: voice.speech_pool.queue_length)
    templates = TemplateRepository(storage.pool)
    interviews = InterviewRepository(storage.pool)
    await seed_templates(templates)
    if scorer is None:
        use_one_torch_thread_per_job()
        # Loading the model takes a couple of seconds: keep the loop free meanwhile.
        encoder = await asyncio.to_thread(MiniLMEncoder)
        scorer = RubricScorer(encoder)
    scoring = ScoringPool(scorer, max_workers=inference_threads, metrics=metrics)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesage-profile")
    tokens = JwtTokens(jwt_secret)
    hub = SocketHub(redis_url, channel=socket_channel)
    webhooks = WebhookRepository(storage.pool)
    dispatcher = WebhookDispatcher(
        webhooks, DispatcherSettings(), on_outcome=_webhook_outcome_counter(metrics)
    )
    outbox = WebhookOutbox(webhooks, interviews, dispatcher.wake)
    journal = InterviewJournal(storage.pool, commit_hooks=[outbox.enqueue_committed])
    reports = InterviewReports(journal, templates)
    voice_conversations = None
    sinks: list[EventSink] = [hub, outbox]
    ats_integration = None
    if ats is not None:
        ats_integration = build_ats_integration(
            ats,
            public_url=public_url,
            links=AtsLinkRepository(storage.pool),
            templates=templates,
            interviews=interviews,
            reports=reports,
            outbox=outbox,
            issue_token=lambda interview_id, candidate_id: tokens.issue(
                Role.CANDIDATE, interview_id=str(interview_id), subject=str(candidate_id)
            ),
        )
        sinks.append(ats_integration.scorecards)

    async def ask_actor(interview_id: uuid.UUID, command: Command) -> Any:
        # Bound late: the supervisor is built below, after the event log it needs.
        return await supervisor.ask(interview_id, command)

    model = (
        None
        if language_model is None
        else await connect_language_model(language_model, ask_actor, metrics)
    )
    if voice is not None:
        voice_conversations = VoiceConversations(voice, ask_actor)
        sinks.append(voice_conversations)
    event_log = InterviewEventLog(
        journal, storage.live, FanOutSink(*sinks), notices=hub, metrics=metrics
    )
    loader = InterviewActorLoader(
        interviews,
        templates,
        event_log,
        scoring,
        metrics=metrics,
        probe_writer=None if model is None else model.probes,
        score_listener=None if model is None else model.second_opinions,
    )
    leases = InterviewLeases(
        storage.redis,
        identity or NodeIdentity.ephemeral(),
        ttl_s=lease_ttl_seconds,
        prefix=redis_prefix,
    )
    supervisor = ActorSupervisor(loader, leases=leases, settle=event_log.settle, metrics=metrics)
    # Read at scrape time from the supervisor itself, so the gauge cannot drift.
    metrics.interviews_active.set_function(lambda: len(supervisor.live_ids()))
    rest = RestDependencies(
        tokens=tokens,
        templates=templates,
        interviews=interviews,
        journal=journal,
        supervisor=supervisor,
        reports=reports,
        profiler=ResumeProfiler(executor, None if model is None else model.resume_questions),
        webhook_outbox=outbox,
    )
    demographics = DemographicsRepository(storage.pool)
    audit = AuditDependencies(
        tokens=tokens, demographics=demographics, reports=BiasAuditReports(demographics, templates)
    )
    sockets = SocketDependencies(
        tokens,
        supervisor,
        journal,
        interviews,
        storage.live,
        voice=voice_conversations,
        ice_servers=()
        if voice is None
        else tuple(server.model_dump(exclude_none=True) for server in voice.ice_servers),
    )
    app = create_app(
        storage.health,
        rest=rest,
        audit=audit,
        recordings=(
            RecordingDependencies(tokens=tokens, store=voice.recordings)
            if voice is not None and voice.recordings is not None
            else None
        ),
        webhooks=WebhookDependencies(
            tokens=tokens,
            webhooks=webhooks,
            wake_dispatcher=dispatcher.wake,
            ats=None if ats_integration is None else ats_integration.connector,
        ),
        ownership=OwnershipApi(tokens, interviews, supervisor),
        draining=lambda: supervisor.draining,
        hub=hub,
        sockets=sockets,
        web_dist=web_dist,
        metrics=metrics,
    )
    loop_lag = EventLoopLagMonitor(metrics.event_loop_lag)
    loop_lag.start()
    dispatcher.start()
    return Node(
        app,
        storage,
        tokens,
        templates,
        interviews,
        supervisor,
        scoring,
        executor,
        metrics,
        loop_lag,
        dispatcher,
        event_log,
        voice_conversations,
        ats_integration,
        model,
    )


async def load_voice_resources(
    *,
    stt_model: str,
    data_dir: Path,
    stt_final_window: EncoderWindow,
    inference_threads: int,
    stt_final_threads: int,
    ice_servers: list[IceServer],
    recordings: BlobStore | None,
    metrics: NodeMetrics | None = None,
    max_live_peers: int | None = None,
) -> VoiceResources:
    """Load the speech models once per node (in threads: this takes seconds)."""
    from codesage.agents.speech_to_text import WhisperModelName, WhisperSpeechToText
    from codesage.agents.text_to_speech import PiperTextToSpeech
    from codesage.media.inference_pool import SpeechInferencePool
    from codesage.media.vad import SileroVadModel

    name: WhisperModelName = "base" if stt_model == "base" else "tiny.en"

    def load_stt(cpu_threads: int) -> WhisperSpeechToText:
        return WhisperSpeechToText.load(
            name, data_dir, workers=inference_threads, cpu_threads=cpu_threads
        )

    stt = await asyncio.to_thread(load_stt, 1)
    # Finals get their own copy of the weights with more threads per decode: the decision
    # waits for the final, and an idle core cuts it ~1.5x; captions stay on one thread each.
    final_stt = (
        stt if stt_final_threads <= 1 else await asyncio.to_thread(load_stt, stt_final_threads)
    )
    tts = await asyncio.to_thread(PiperTextToSpeech.load)
    vad = await asyncio.to_thread(SileroVadModel)
    return VoiceResources(
        text_to_speech=tts,
        speech_pool=SpeechInferencePool(
            final_stt.with_encoder_window(stt_final_window),
            workers=inference_threads,
            # Partials encode only the audio's own length: ~4x cheaper; measured on the
            # concurrent benchmark at N=8 it cut caption lag p50 from 11.8 s to 2.8 s and WER
            # was unchanged. Finals do too by default: offline over 150 answers their WER
            # was that of the stock 30 s window (docs/performance.md, twelfth session).
            partial_stt=stt.with_encoder_window("fit"),
            on_wait=None if metrics is None else _stt_wait_recorder(metrics),
        ),
        vad_model=vad,
        synthesis_executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesage-tts"),
        ice_servers=ice_servers,
        recordings=recordings,
        metrics=metrics,
        max_live_peers=max_live_peers,
    )


def _stt_wait_recorder(metrics: NodeMetrics) -> Callable[[DecodeKind, float], None]:
    def record(kind: DecodeKind, seconds: float) -> None:
        metrics.stt_queue_wait.observe(seconds)

    return record
