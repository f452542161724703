"""The live rubric scorer on the real MiniLM model: ordering, insufficient evidence, stuffing,
evidence spans. Rubrics and answers here are not in the benchmark's tuning set."""

from __future__ import annotations

import math

import pytest

from codesage.agents.answer_score import AnswerScore
from codesage.agents.scoring import RubricScorer
from codesage.agents.template import Rubric, RubricLevel

PASSWORDS_QUESTION = "How would you store user passwords in a web application?"
PASSWORDS = Rubric(
    reference_answer=(
        "Never store the password itself. Hash it with a slow password hashing function such as "
        "Argon2id, scrypt or bcrypt, with a unique random salt per password. Tune the work factor "
        "to the hardware and rehash on login when it changes. Rate limit login attempts and "
        "reject passwords known from breaches."
    ),
    key_indicators=[
        "never store plain-text passwords, store a hash",
        "use a slow password hashing function such as bcrypt, scrypt or Argon2",
        "use a unique random salt for each password",
        "tune the work factor and rehash when it changes",
        "rate limit login attempts",
    ],
    levels=[
        RubricLevel(
            level=1,
            anchor="Stores passwords in plain text or with reversible encryption.",
            indicators=["store the password in the users table", "encrypt it so we can decrypt it"],
        ),
        RubricLevel(
            level=2,
            anchor="Hashes with a fast general-purpose hash and no salt.",
            indicators=["hash it with MD5", "use SHA-256 on the password"],
        ),
        RubricLevel(
            level=3,
            anchor="Salts and hashes, but with a fast hash or no detail on the algorithm.",
            indicators=["add a salt before hashing", "store the salt next to the hash"],
        ),
        RubricLevel(
            level=4,
            anchor="Uses a slow salted password hash such as bcrypt or Argon2.",
            indicators=["use bcrypt", "Argon2 with a random salt"],
        ),
        RubricLevel(
            level=5,
            anchor="Slow salted hash with a tuned work factor, rehashing, rate limiting and "
            "breached-password checks.",
            indicators=[
                "tune the cost factor",
                "rehash on the next login",
                "rate limit login attempts",
                "check against breached passwords",
            ],
        ),
    ],
)
PASSWORD_ANSWERS = {
    "good": (
        "I'd never store the password itself. I'd hash it with Argon2id or bcrypt, which are "
        "deliberately slow, with a unique random salt per user that the library keeps next to "
        "the hash. I'd pick the cost factor so one hash takes about a hundred milliseconds on "
        "our servers, and rehash at the next login whenever we raise it. On top of that I'd "
        "rate limit login attempts and refuse passwords that appear in known breach lists."
    ),
    "mediocre": (
        "I would hash the passwords, and add a salt to each one before hashing so that two "
        "users with the same password end up with different hashes. The salt can live in the "
        "same table."
    ),
    "bad": (
        "I'd keep the passwords in the users table, encrypted with a key, so that support can "
        "decrypt them and tell people their password when they forget it."
    ),
}

RACE_QUESTION = "What is a race condition, and how do you prevent one?"
RACE = Rubric(
    reference_answer=(
        "A race condition happens when the result depends on the timing of concurrent "
        "operations on shared state, for example two threads doing a read-modify-write on a "
        "counter and losing an update. Prevent it by making the critical section atomic with a "
        "lock or mutex, atomic operations, or database transactions and constraints, or avoid "
        "shared mutable state with message passing or immutable data. Races are intermittent, "
        "so test with many concurrent iterations."
    )
)
RACE_ANSWERS = {
    "good": (
        "It's when two threads or processes touch shared data at the same time and the outcome "
        "depends on who runs first. Say two threads increment a counter: both read five, both "
        "write six, and one increment is lost. You make the read-modify-write atomic, with a "
        "mutex around the critical section, an atomic increment, or a database transaction with "
        "a row lock. Better still, avoid shared mutable state and pass messages through a queue. "
        "And since races are intermittent, I'd test with lots of concurrent iterations."
    ),
    "mediocre": (
        "It is when two threads use the same variable at the same time and something goes "
        "wrong. You can fix it by putting a lock around it."
    ),
    "bad": (
        "I'm not really sure, I think it's something that happens with programs sometimes, "
        "and then you just restart them and it goes away."
    ),
}
# Fluent, confident and wrong, reusing the question's own words.
RACE_WRONG_DEFINITION = (
    "A race condition is when your program is too slow under load, so you make it faster, "
    "for example by adding more servers."
)


def _rank_value(result: AnswerScore) -> float:
    # Insufficient evidence ranks below every score for ordering purposes.
    return -1.0 if result.score is None else result.score


@pytest.mark.parametrize(
    ("question", "rubric", "answers"),
    [(PASSWORDS_QUESTION, PASSWORDS, PASSWORD_ANSWERS), (RACE_QUESTION, RACE, RACE_ANSWERS)],
    ids=["levels-and-reference", "reference-only"],
)
def test_good_beats_mediocre_beats_bad(
    answer_scorer: RubricScorer, question: str, rubric: Rubric, answers: dict[str, str]
) -> None:
    results = {name: answer_scorer.score(question, text, rubric) for name, text in answers.items()}
    assert not results["good"].insufficient_evidence
    assert not results["mediocre"].insufficient_evidence
    assert _rank_value(results["good"]) > _rank_value(results["mediocre"])
    assert _rank_value(results["mediocre"]) > _rank_value(results["bad"])
    assert results["good"].level is not None and results["good"].level >= 4


@pytest.mark.xfail(
    strict=True,
    reason="known weakness: with only a reference answer, embedding similarity cannot tell a "
    "fluent wrong definition that echoes the question from a short correct one",
)
def test_wrong_definition_scores_below_a_short_correct_one(answer_scorer: RubricScorer) -> None:
    wrong = answer_scorer.score(RACE_QUESTION, RACE_WRONG_DEFINITION, RACE)
    short_correct = answer_scorer.score(RACE_QUESTION, RACE_ANSWERS["mediocre"], RACE)
    assert _rank_value(short_correct) > _rank_value(wrong)


def test_bad_answer_with_levels_is_rated_low(answer_scorer: RubricScorer) -> None:
    result = answer_scorer.score(PASSWORDS_QUESTION, PASSWORD_ANSWERS["bad"], PASSWORDS)
    assert result.level is not None and result.level <= 2


@pytest.mark.parametrize(
    ("answer", "reason_starts"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("Use bcrypt.", "too short"),
        ("asdkj qwe lkjsd poiuy mnbv zxcv hjkl qqq wxq", "garbled"),
        ("um uh so um yeah uh um like uh you know um uh", "garbled"),
        ("Thank you for watching. Thank you for watching. Thank you for watching.", "garbled"),
        (
            "Last summer we drove along the coast of Portugal, stopping in small fishing villages "
            "and eating grilled sardines every evening.",
            "off-topic",
        ),
    ],
    ids=[
        "empty",
        "whitespace",
        "too-short",
        "keyboard-mash",
        "fillers",
        "hallucination",
        "off-topic",
    ],
)
def test_unscorable_answers_get_insufficient_evidence_with_a_reason(
    answer_scorer: RubricScorer, answer: str, reason_starts: str
) -> None:
    result = answer_scorer.score(PASSWORDS_QUESTION, answer, PASSWORDS)
    assert result.insufficient_evidence
    assert result.level is None and result.score is None
    assert result.reason is not None and result.reason.startswith(reason_starts)
    assert result.evidence == ()
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize(
    "stuffed",
    [
        "Argon2 bcrypt scrypt salt pepper hash work factor cost rehash rate limiting breach list.",
        "My approach is Argon2, bcrypt, salts, peppers, cost factors, rehashing, rate limits and "
        "breach lists.",
    ],
    ids=["bare-keywords", "keywords-in-a-sentence-frame"],
)
def test_keyword_stuffing_does_not_score_high(answer_scorer: RubricScorer, stuffed: str) -> None:
    result = answer_scorer.score(PASSWORDS_QUESTION, stuffed, PASSWORDS)
    assert result.insufficient_evidence or (result.level is not None and result.level <= 2)


def test_a_keyword_dump_adds_nothing_to_a_weak_answer(answer_scorer: RubricScorer) -> None:
    weak = PASSWORD_ANSWERS["mediocre"]
    padded = weak + " Argon2 bcrypt scrypt pepper work factor cost rehash rate limiting breach."
    weak_result = answer_scorer.score(PASSWORDS_QUESTION, weak, PASSWORDS)
    padded_result = answer_scorer.score(PASSWORDS_QUESTION, padded, PASSWORDS)
    good_result = answer_scorer.score(PASSWORDS_QUESTION, PASSWORD_ANSWERS["good"], PASSWORDS)
    assert padded_result.score is not None and good_result.score is not None
    assert weak_result.score is not None
    assert padded_result.score < good_result.score
    assert padded_result.score <= weak_result.score + 0.25


def test_evidence_spans_point_into_the_answer(answer_scorer: RubricScorer) -> None:
    answers = [
        *PASSWORD_ANSWERS.values(),
        "so i would hash the password with bcrypt and a random salt and then tune the cost "
        "factor so a hash takes a hundred milliseconds and also rate limit the login endpoint",
        "  Ich würde bcrypt nutzen.\n\nI'd hash with bcrypt — a slow hash — plus a salt "
        "per user; “never” plain text.  ",
    ]
    seen_evidence = 0
    for answer in answers:
        result = answer_scorer.score(PASSWORDS_QUESTION, answer, PASSWORDS)
        for span in result.evidence:
            assert 0 <= span.start < span.end <= len(answer)
            assert answer[span.start : span.end].strip()
            assert span.indicator is not None
            seen_evidence += 1
    assert seen_evidence > 0


def test_scores_are_consistent_and_explained(answer_scorer: RubricScorer) -> None:
    result = answer_scorer.score(PASSWORDS_QUESTION, PASSWORD_ANSWERS["good"], PASSWORDS)
    assert result.score is not None and result.level is not None
    assert 0.0 <= result.score <= 1.0
    assert result.level == math.floor(1 + 4 * result.score + 0.5)
    assert 0.0 <= result.confidence <= 1.0
    assert set(result.matched_indicators) <= set(PASSWORDS.key_indicators)
    assert set(result.matched_indicators).isdisjoint(result.missing_indicators)
    assert set(result.matched_indicators) | set(result.missing_indicators) == set(
        PASSWORDS.key_indicators
    )
    assert "use a slow password hashing function such as bcrypt, scrypt or Argon2" in (
        result.matched_indicators
    )


def test_confidence_is_lower_for_an_answer_that_matches_no_level_well(
    answer_scorer: RubricScorer,
) -> None:
    clear = answer_scorer.score(PASSWORDS_QUESTION, PASSWORD_ANSWERS["good"], PASSWORDS)
    vague = answer_scorer.score(
        PASSWORDS_QUESTION,
        "Security is very important to me, and I always follow best practices for passwords "
        "and keep up with what the security team recommends.",
        PASSWORDS,
    )
    assert not vague.insufficient_evidence
    assert vague.confidence < clear.confidence


def test_prepare_fills_the_cache_without_changing_scores(minilm_encoder: object) -> None:
    from codesage.agents.embeddings import MiniLMEncoder

    assert isinstance(minilm_encoder, MiniLMEncoder)
    scorer = RubricScorer(minilm_encoder)
    before = scorer.score(RACE_QUESTION, RACE_ANSWERS["mediocre"], RACE)
    scorer.prepare(RACE_QUESTION, RACE)
    assert RACE_QUESTION in minilm_encoder.cached_texts()
    assert scorer.score(RACE_QUESTION, RACE_ANSWERS["mediocre"], RACE) == before
