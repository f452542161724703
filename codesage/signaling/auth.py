"""Who is calling: roles, signed tokens, and the checks that guard every route and socket."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

import jwt

ISSUER = "codesage"
AUDIENCE = "codesage"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
LEEWAY_SECONDS = 5
CANDIDATE_TTL_SECONDS = 24 * 3600
STAFF_TTL_SECONDS = 12 * 3600
MAX_TTL_SECONDS = 7 * 24 * 3600
REQUIRED_CLAIMS = ("sub", "role", "exp", "iat", "jti", "iss", "aud")

AuthErrorCode = Literal["missing_token", "invalid_token", "expired_token", "forbidden"]
Clock = Callable[[], datetime]


class Role(StrEnum):
    """What a token holder may do; staff is everyone but the candidate."""

    CANDIDATE = "candidate"
    INTERVIEWER = "interviewer"
    RECRUITER = "recruiter"
    ADMIN = "admin"


STAFF_ROLES: frozenset[Role] = frozenset({Role.INTERVIEWER, Role.RECRUITER, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """A verified caller; candidates always carry the one interview their token grants."""

    subject: str
    role: Role
    interview_id: str | None
    expires_at: datetime


class AuthError(Exception):
    """A refused caller: `code` and `status` for the API error body; never holds the token."""

    def __init__(self, code: AuthErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: AuthErrorCode = code
        self.status: int = 403 if code == "forbidden" else 401
        self.message = message


class TokenVerifier(Protocol):
    """Turns a bearer token into a principal or raises `AuthError`."""

    def verify(self, token: str) -> Principal:
        """The principal the token names; `AuthError` when it is invalid or expired."""
        ...


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def default_ttl_seconds(role: Role) -> int:
    """How long a token of this role lives unless told otherwise."""
    return CANDIDATE_TTL_SECONDS if role is Role.CANDIDATE else STAFF_TTL_SECONDS


def validated_ttl(role: Role, ttl_seconds: int | None) -> int:
    """The token lifetime to use: the role's default, or the given one if 1..MAX_TTL_SECONDS."""
    ttl = default_ttl_seconds(role) if ttl_seconds is None else ttl_seconds
    if not 0 < ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL_SECONDS} seconds, got {ttl}")
    return ttl


def canonical_uuid(value: str, what: str) -> str:
    """The value as a lowercase hyphenated UUID; ValueError naming `what` otherwise."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None


class JwtTokens:
    """HS256 tokens signed with the node's secret: mints them and verifies them."""

    def __init__(self, secret: str, *, clock: Clock = utc_now) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long")
        self._secret = secret
        self._clock = clock

    def issue(
        self,
        role: Role,
        *,
        interview_id: str | None = None,
        ttl_seconds: int | None = None,
        subject: str | None = None,
    ) -> str:
        """A signed token for `role`; candidates need `interview_id`. ValueError on bad input."""
        ttl = validated_ttl(role, ttl_seconds)
        if role is Role.CANDIDATE and interview_id is None:
            raise ValueError("a candidate token needs an interview id")
        now = self._clock()
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid4()) if subject is None else canonical_uuid(subject, "subject"),
            "role": role.value,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
            "jti": uuid.uuid4().hex,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        if interview_id is not None:
            claims["interview"] = canonical_uuid(interview_id, "interview id")
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The principal the token names, after checking signature, expiry, issuer and claims."""
        claims = self._decode(token)
        expires_at = _expiry(claims)
        if expires_at + timedelta(seconds=LEEWAY_SECONDS) <= self._clock():
            raise AuthError("expired_token", "the token has expired")
        try:
            role = Role(claims["role"])
            subject = canonical_uuid(claims["sub"], "subject")
            interview = claims.get("interview")
            interview_id = None if interview is None else canonical_uuid(interview, "interview")
        except ValueError:
            raise AuthError("invalid_token", "the token's claims are not valid") from None
        if role is Role.CANDIDATE and interview_id is None:
            raise AuthError("invalid_token", "a candidate token must name its interview")
        return Principal(subject, role, interview_id, expires_at)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],  # pinned: never "none", never what the header asks for
                audience=AUDIENCE,
                issuer=ISSUER,
                # Time claims are checked against our own clock so expiry can be tested.
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            # PyJWT's messages can quote token parts; ours never do.
            raise AuthError("invalid_token", "the token is not valid") from None
        return claims


def _expiry(claims: Mapping[str, Any]) -> datetime:
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise AuthError("invalid_token", "the token's expiry is not a number")
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        raise AuthError("invalid_token", "the token's expiry is out of range") from None


def require_role(principal: Principal, *roles: Role) -> None:
    """Raise `AuthError` forbidden unless the principal has one of `roles`."""
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise AuthError("forbidden", f"this needs one of the roles: {allowed}")


def require_interview_access(
    principal: Principal, interview_id: str, *, staff_roles: frozenset[Role] = STAFF_ROLES
) -> None:
    """Let `staff_roles` in, and a candidate only into their own interview; else forbidden."""
    if principal.role in staff_roles:
        return
    if principal.role is Role.CANDIDATE and principal.interview_id is not None:
        try:
            if canonical_uuid(interview_id, "interview id") == principal.interview_id:
                return
        except ValueError:
            pass  # not a UUID, so not their interview
    raise AuthError("forbidden", "this token does not grant access to that interview")


def bearer_token(header_value: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header; `AuthError` when absent."""
    if header_value is None or not header_value.strip():
        raise AuthError("missing_token", "an Authorization: Bearer <token> header is required")
    scheme, _, token = header_value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise AuthError("invalid_token", "the Authorization header must use the Bearer scheme")
    if not token:
        raise AuthError("missing_token", "the Authorization header holds no token")
    if " " in token:
        raise AuthError("invalid_token", "the Authorization header must hold a single token")
    return token


def request_principal(headers: Mapping[str, str], verifier: TokenVerifier) -> Principal:
    """Who made a REST request: its bearer token, verified; `AuthError` otherwise."""
    return verifier.verify(bearer_token(headers.get("Authorization")))
