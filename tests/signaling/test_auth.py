"""Tokens and the role/interview checks built on them."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from codesage.signaling.auth import (
    LEEWAY_SECONDS,
    MAX_TTL_SECONDS,
    STAFF_ROLES,
    AuthError,
    JwtTokens,
    Principal,
    Role,
    bearer_token,
    require_interview_access,
    require_role,
)

SECRET = "s" * 64  # long enough for the HS512 test too
OTHER_SECRET = "o" * 40
INTERVIEW = str(uuid.uuid4())
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def fixed_clock(at: datetime) -> JwtTokens:
    """Tokens over SECRET whose clock always reads `at`."""
    return JwtTokens(SECRET, clock=lambda: at)


def valid_claims(**changes: Any) -> dict[str, Any]:
    """Claims as `issue` would write them for a candidate, with `changes` applied (None drops)."""
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "role": "candidate",
        "interview": INTERVIEW,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(hours=1)).timestamp()),
        "jti": uuid.uuid4().hex,
        "iss": "codesage",
        "aud": "codesage",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_refused(tokens: JwtTokens, token: str, code: str) -> None:
    with pytest.raises(AuthError) as caught:
        tokens.verify(token)
    assert caught.value.code == code
    assert caught.value.status == 401
    assert token not in str(caught.value)


@pytest.mark.parametrize("role", list(Role))
def test_round_trip_keeps_role_subject_interview_and_expiry(role: Role) -> None:
    tokens = fixed_clock(NOW)
    subject = str(uuid.uuid4())
    token = tokens.issue(role, interview_id=INTERVIEW, ttl_seconds=600, subject=subject)
    assert tokens.verify(token) == Principal(
        subject=subject, role=role, interview_id=INTERVIEW, expires_at=NOW + timedelta(seconds=600)
    )


def test_defaults_give_candidates_a_day_and_staff_half_a_day_and_a_fresh_subject() -> None:
    tokens = fixed_clock(NOW)
    candidate = tokens.verify(tokens.issue(Role.CANDIDATE, interview_id=INTERVIEW))
    admin = tokens.verify(tokens.issue(Role.ADMIN))
    assert candidate.expires_at == NOW + timedelta(hours=24)
    assert admin.expires_at == NOW + timedelta(hours=12)
    assert admin.interview_id is None
    assert uuid.UUID(candidate.subject) != uuid.UUID(admin.subject)


def test_issue_refuses_bad_input() -> None:
    tokens = fixed_clock(NOW)
    with pytest.raises(ValueError, match="interview"):
        tokens.issue(Role.CANDIDATE)
    with pytest.raises(ValueError, match="UUID"):
        tokens.issue(Role.CANDIDATE, interview_id="not-a-uuid")
    with pytest.raises(ValueError, match="ttl"):
        tokens.issue(Role.ADMIN, ttl_seconds=0)
    with pytest.raises(ValueError, match="ttl"):
        tokens.issue(Role.ADMIN, ttl_seconds=MAX_TTL_SECONDS + 1)
    tokens.issue(Role.ADMIN, ttl_seconds=MAX_TTL_SECONDS)  # the maximum itself is allowed


def test_expired_token_is_refused_after_the_leeway_only() -> None:
    token = fixed_clock(NOW).issue(Role.ADMIN, ttl_seconds=60)
    expiry = NOW + timedelta(seconds=60)
    within = fixed_clock(expiry + timedelta(seconds=LEEWAY_SECONDS - 1))
    assert within.verify(token).role is Role.ADMIN
    assert_refused(fixed_clock(expiry + timedelta(seconds=LEEWAY_SECONDS)), token, "expired_token")


def test_token_minted_already_expired_is_refused_by_the_real_clock() -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    token = fixed_clock(past).issue(Role.RECRUITER, ttl_seconds=60)
    assert_refused(JwtTokens(SECRET), token, "expired_token")


def test_token_signed_with_another_secret_is_invalid() -> None:
    token = JwtTokens(OTHER_SECRET).issue(Role.ADMIN)
    assert_refused(JwtTokens(SECRET), token, "invalid_token")


def test_tampered_payload_is_invalid() -> None:
    tokens = JwtTokens(SECRET)
    header, _, signature = tokens.issue(Role.CANDIDATE, interview_id=INTERVIEW).split(".")
    promoted = b64url(valid_claims(role="admin", exp=int(datetime.now(UTC).timestamp()) + 600))
    assert_refused(tokens, f"{header}.{promoted}.{signature}", "invalid_token")


def test_unsigned_alg_none_token_is_invalid() -> None:
    claims = valid_claims(role="admin", exp=int(datetime.now(UTC).timestamp()) + 600)
    token = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}."
    assert_refused(JwtTokens(SECRET), token, "invalid_token")


def test_other_hmac_algorithm_with_the_right_secret_is_invalid() -> None:
    token = jwt.encode(valid_claims(), SECRET, algorithm="HS512")
    assert_refused(fixed_clock(NOW), token, "invalid_token")


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"aud": None},
        {"iss": None},
        {"interview": None},
        {"role": "superuser"},
        {"sub": "not-a-uuid"},
        {"interview": "not-a-uuid"},
        {"exp": None},
        {"exp": "tomorrow"},
    ],
    ids=repr,
)
def test_token_with_wrong_or_missing_claims_is_invalid(changes: dict[str, Any]) -> None:
    token = jwt.encode(valid_claims(**changes), SECRET, algorithm="HS256")
    assert_refused(fixed_clock(NOW), token, "invalid_token")


def test_hand_made_token_with_valid_claims_is_accepted() -> None:
    # Guards the test above: the same claims without the change do verify.
    token = jwt.encode(valid_claims(), SECRET, algorithm="HS256")
    assert fixed_clock(NOW).verify(token).interview_id == INTERVIEW


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "...."])
def test_malformed_token_is_invalid(garbage: str) -> None:
    with pytest.raises(AuthError) as caught:
        JwtTokens(SECRET).verify(garbage)
    assert caught.value.code == "invalid_token"


def test_short_secret_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        JwtTokens("s" * 31)
    JwtTokens("s" * 32)  # the minimum itself is enough


def principal(role: Role, interview_id: str | None = None) -> Principal:
    return Principal(str(uuid.uuid4()), role, interview_id, NOW)


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_staff_may_access_any_interview(role: Role) -> None:
    require_interview_access(principal(role), str(uuid.uuid4()))


def test_candidate_may_access_only_their_own_interview() -> None:
    candidate = principal(Role.CANDIDATE, INTERVIEW)
    require_interview_access(candidate, INTERVIEW)
    require_interview_access(candidate, INTERVIEW.upper())  # same UUID, other spelling
    for other in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(AuthError) as caught:
            require_interview_access(candidate, other)
        assert (caught.value.code, caught.value.status) == ("forbidden", 403)


def test_narrower_staff_roles_shut_out_the_others() -> None:
    with pytest.raises(AuthError) as caught:
        require_interview_access(
            principal(Role.INTERVIEWER), INTERVIEW, staff_roles=frozenset({Role.ADMIN})
        )
    assert caught.value.status == 403


def test_require_role_allows_listed_roles_and_forbids_others() -> None:
    require_role(principal(Role.RECRUITER), Role.RECRUITER, Role.ADMIN)
    with pytest.raises(AuthError) as caught:
        require_role(principal(Role.CANDIDATE, INTERVIEW), Role.RECRUITER, Role.ADMIN)
    assert (caught.value.code, caught.value.status) == ("forbidden", 403)


@pytest.mark.parametrize(
    "header", ["Bearer abc.def.ghi", "bearer abc.def.ghi", " Bearer  abc.def.ghi "]
)
def test_bearer_token_is_taken_from_the_header(header: str) -> None:
    assert bearer_token(header) == "abc.def.ghi"


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer   "])
def test_absent_bearer_token_is_missing(header: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        bearer_token(header)
    assert (caught.value.code, caught.value.status) == ("missing_token", 401)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "abc.def.ghi", "Bearer a b"])
def test_other_authorization_schemes_are_invalid(header: str) -> None:
    with pytest.raises(AuthError) as caught:
        bearer_token(header)
    assert (caught.value.code, caught.value.status) == ("invalid_token", 401)
