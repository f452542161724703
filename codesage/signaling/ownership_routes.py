"""`GET /api/v1/interviews/{id}/owner`: which node a client must talk to for a live interview."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import BaseModel

from codesage.engine.supervisor import ActorSupervisor
from codesage.signaling.auth import (
    TokenVerifier,
    request_principal,
    require_interview_access,
)
from codesage.signaling.errors import ApiError
from codesage.signaling.openapi import Route
from codesage.storage.interviews import FINAL_STATES, InterviewRepository


class InterviewOwner(BaseModel):
    """The node running an interview's actor, and the URL that reaches it."""

    node_id: str
    url: str


class OwnershipApi:
    """Tells candidates and staff where an interview lives; claims it when nobody runs it."""

    def __init__(
        self,
        tokens: TokenVerifier,
        interviews: InterviewRepository,
        supervisor: ActorSupervisor,
    ):
        self._tokens = tokens
        self._interviews = interviews
        self._supervisor = supervisor

    def routes(self) -> list[Route]:
        """The owner route with its documentation."""
        return [
            Route(
                "GET",
                "/api/v1/interviews/{interview_id}/owner",
                self.owner,
                "The node that runs the interview (this one claims it when none does)",
                "interviewer, recruiter, admin; its candidate",
                InterviewOwner,
                errors=(401, 403, 404, 503),
            )
        ]

    async def owner(self, request: web.Request) -> web.Response:
        """GET /interviews/{id}/owner"""
        principal = request_principal(request.headers, self._tokens)
        try:
            interview_id = uuid.UUID(request.match_info["interview_id"])
        except ValueError:
            raise ApiError(404, "not_found", "No such interview.") from None
        require_interview_access(principal, str(interview_id))
        record = await self._interviews.get(interview_id)
        if record is None:
            raise ApiError(404, "not_found", "No such interview.")
        if record.state in FINAL_STATES:
            # Nothing runs a finished interview: any node serves it from the journal.
            node = self._supervisor.identity
        else:
            node = await self._supervisor.claim(interview_id)
        body = InterviewOwner(node_id=node.node_id, url=node.public_url)
        return web.json_response(body.model_dump())
