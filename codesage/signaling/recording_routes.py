"""Recordings of an interview: the track manifest and each playable segment (staff only)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel

from codesage.engine.voice_conversation import recording_prefix
from codesage.media.recording import BlobNotFound, BlobStore, recordings_by_track
from codesage.signaling.auth import JwtTokens, Role, request_principal, require_role
from codesage.signaling.errors import ApiError
from codesage.signaling.openapi import Route

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
REVIEWERS = (Role.RECRUITER, Role.ADMIN, Role.INTERVIEWER)


class RecordingSegmentView(BaseModel):
    """One playable segment."""

    name: str
    start_offset_s: float
    duration_s: float
    content_type: str


class RecordingTrack(BaseModel):
    """One recorded track with its segments in playback order."""

    track: str
    segments: list[RecordingSegmentView]


class RecordingList(BaseModel):
    """An interview's recordings and the wall-clock time of their timeline's zero."""

    items: list[RecordingTrack]
    started_at: str | None


@dataclass(frozen=True)
class RecordingDependencies:
    """Where recordings are and how callers are authenticated."""

    tokens: JwtTokens
    store: BlobStore


class RecordingApi:
    """Lists and serves recording segments; names are checked so no path can escape."""

    def __init__(self, deps: RecordingDependencies):
        self._d = deps

    def routes(self) -> list[Route]:
        """The recording routes with their documentation."""
        base = "/api/v1/interviews/{interview_id}/recordings"
        return [
            Route("GET", base, self.list_recordings, "List an interview's recordings",
                  "recruiter, admin, interviewer", RecordingList),
            Route("GET", base + "/{track}/{name}", self.segment, "One recording segment",
                  "recruiter, admin, interviewer", None, errors=(401, 403, 404)),
        ]  # fmt: skip

    def _authorise(self, request: web.Request) -> str:
        principal = request_principal(request.headers, self._d.tokens)
        require_role(principal, *REVIEWERS)
        try:
            return str(uuid.UUID(request.match_info["interview_id"]))
        except ValueError:
            raise ApiError(404, "not_found", "No such interview.") from None

    async def list_recordings(self, request: web.Request) -> web.Response:
        """GET …/recordings"""
        interview_id = self._authorise(request)
        prefix = recording_prefix(uuid.UUID(interview_id))
        tracks = await recordings_by_track(self._d.store, prefix)
        started_at = None
        try:
            origin = json.loads(await self._d.store.read(f"{prefix}/timeline.json"))["origin"]
            started_at = datetime.fromtimestamp(float(origin), UTC).isoformat()
        except BlobNotFound:
            pass
        items = [
            {
                "track": track,
                "segments": [
                    {
                        "name": segment.key.rsplit("/", 1)[-1],
                        "start_offset_s": segment.start_seconds,
                        "duration_s": segment.duration_seconds,
                        "content_type": segment.media_type,
                    }
                    for segment in segments
                ],
            }
            for track, segments in tracks.items()
        ]
        return web.json_response({"items": items, "started_at": started_at})

    async def segment(self, request: web.Request) -> web.Response:
        """GET …/recordings/{track}/{name}"""
        interview_id = self._authorise(request)
        track, name = request.match_info["track"], request.match_info["name"]
        if not (_NAME.match(track) and _NAME.match(name)) or ".." in name or ".." in track:
            raise ApiError(404, "not_found", "No such recording.")
        key = f"{recording_prefix(uuid.UUID(interview_id))}/{track}/{name}"
        try:
            data = await self._d.store.read(key)
        except (BlobNotFound, ValueError):
            raise ApiError(404, "not_found", "No such recording.") from None
        content_type = "video/webm" if name.endswith(".webm") else "audio/ogg"
        return web.Response(body=data, content_type=content_type)
