"""Live answer scoring: rubric-anchor and reference matching over sentence embeddings.

The level comes mechanically from two components, each a 1–5 estimate:
* BARS: for each rubric level, how well the answer's best spans match that level's indicators
  (its anchor when it has none); the rating is the highest level whose indicators are matched
  well enough, else the best-matching level.
* Content: how well the answer's spans cover the key indicators (or, without them, the
  sentences of the reference answer), mapped linearly onto 1–5.
Answers that are empty, too short, garbled, off-topic or a bare keyword list get
"insufficient evidence" with a reason instead of a score.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codesage.agents.answer_score import AnswerScore, EvidenceSpan
from codesage.agents.embeddings import SentenceEncoder
from codesage.agents.template import Rubric

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ScoringThresholds:
    """Tunable thresholds; defaults were tuned on the tune split of benchmarks/scoring_eval.py."""

    min_words: int = 6
    """Fewer words than this is too short to judge."""
    min_plausible_word_share: float = 0.7
    max_filler_share: float = 0.35
    max_repeated_trigram_share: float = 0.3
    """Natural answers rarely repeat three words in a row (<0.1 even at 750 words); loops do."""
    max_stutter_share: float = 0.2
    """Share of words that repeat the word right before them ("the the the")."""
    min_relevance: float = 0.22
    """If no sentence of the answer reaches this cosine to the question or the rubric's
    substantive texts, the answer is off-topic."""
    max_keyword_list_share: float = 0.8
    """Share of words in list-like sentences above which the answer is a keyword list."""
    list_span_weight: float = 0.5
    """List-like sentences still count, but their similarities are scaled by this."""
    level_temperature: float = 0.01
    demonstrated_similarity: float = 0.4
    """Topic-adjusted mean cosine at which a level's indicators count as demonstrated."""
    demonstrated_softness: float = 0.02
    coverage_floor: float = 0.1
    coverage_ceiling: float = 0.5
    bars_weight: float = 10.0
    content_weight: float = 1.0
    topic_baseline_weight: float = 0.6
    """Share of an indicator's cosine to the question subtracted before scoring: merely being on
    the question's topic is not evidence of any level."""
    evidence_similarity: float = 0.5
    """A span is evidence for an indicator when their cosine reaches this."""
    max_span_words: int = 25
    """Longer sentences (unpunctuated speech) are cut into overlapping windows."""
    window_words: int = 15


@dataclass(frozen=True)
class TextSpan:
    """A `[start, end)` slice of the answer; `weight` < 1 marks a list-like (keyword) span."""

    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class TextScreen:
    """Word statistics used to decide whether an answer can be scored at all."""

    word_count: int
    plausible_share: float
    filler_share: float
    repeated_trigram_share: float
    stutter_share: float
    keyword_list_share: float
    function_word_share: float


# Function words carry the grammar of a sentence; a bag of keywords has almost none.
_FUNCTION_WORDS_TEXT = """
    a an the i me my mine we us our you your he him his she her it its they them their this
    that these those and or but so because if then than as of to in on at by for with from about
    into over under after before while when where which who whom whose what how why is are was
    were be been being am do does did done have has had having will would can could should shall
    may might must not no there here also just very too all any some each every other such only
    own same more most up out off again once both few until against between through during above
    below yes one lot like really i'd i'm i've i'll it's that's we'd we're we've don't didn't
    doesn't isn't wasn't can't won't per via versus plus without within across since among
    around along upon onto towards toward whether either neither nor yet though although unless
    instead rather"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())
FILLER_WORDS = frozenset(
    {"um", "umm", "uh", "uhm", "uhh", "er", "erm", "hmm", "mm", "mhm", "ah", "eh"}
)
_VOWELS = frozenset("aeiouy")


def _words(text: str) -> list[tuple[int, int]]:
    """Offsets of word-like tokens (letters, digits, inner apostrophes)."""
    spans: list[tuple[int, int]] = []
    start = -1
    for index, char in enumerate(text):
        # Inner apostrophes and hyphens keep "don't" and "follow-up" as one word.
        joins = char in "'’-" and start >= 0 and text[index + 1 : index + 2].isalnum()
        inside = char.isalnum() or joins
        if inside and start < 0:
            start = index
        elif not inside and start >= 0:
            spans.append((start, index))
            start = -1
    if start >= 0:
        spans.append((start, len(text)))
    return spans


def _is_plausible_word(word: str) -> bool:
    if len(word) == 1 or any(char.isdigit() for char in word):
        return True
    if not word.isascii():
        return True  # other scripts cannot be judged by English spelling rules
    if word.isupper() and len(word) <= 6:
        return True  # acronyms such as HTTP or SQL
    lower = word.lower()
    if not any(char in _VOWELS for char in lower):
        return False
    if any(lower[i] == lower[i + 1] == lower[i + 2] for i in range(len(lower) - 2)):
        return False
    run = 0
    for char in lower:
        run = 0 if char in _VOWELS or not char.isalpha() else run + 1
        if run >= 5:
            return False
    return True


def _is_list_like(sentence: str) -> bool:
    """A run of keywords rather than a sentence: no grammar words, or many tiny comma items."""
    words = [sentence[s:e].lower() for s, e in _words(sentence)]
    if len(words) < 3:
        return False
    function_share = sum(word in FUNCTION_WORDS for word in words) / len(words)
    # Short sentences ("Paying tiers get higher limits.") can lack grammar words honestly.
    if len(words) >= 6 and function_share < 0.15:
        return True
    items = [item for item in _split_items(sentence) if _words(item)]
    mean_item_words = len(words) / max(1, len(items))
    return function_share < 0.3 and len(items) >= 4 and mean_item_words <= 2.5


def _split_items(sentence: str) -> list[str]:
    parts: list[str] = []
    for piece in sentence.replace(";", ",").replace("/", ",").split(","):
        for item in f" {piece} ".replace(" and ", ",").replace(" or ", ",").split(","):
            parts.append(item)
    return parts


def _sentences(answer: str) -> list[tuple[int, int]]:
    """Sentence offsets: split after . ! ? ; followed by space, and at line breaks."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for index, char in enumerate(answer):
        at_end = index + 1 == len(answer)
        breaks = char == "\n" or (char in ".!?;" and (at_end or answer[index + 1].isspace()))
        if breaks or at_end:
            bounds.append((start, index + 1))
            start = index + 1
    trimmed: list[tuple[int, int]] = []
    for begin, end in bounds:
        while begin < end and answer[begin].isspace():
            begin += 1
        while end > begin and answer[end - 1].isspace():
            end -= 1
        if _words(answer[begin:end]):
            trimmed.append((begin, end))
    return trimmed


def split_spans(answer: str, thresholds: ScoringThresholds) -> list[TextSpan]:
    """Sentences, with long ones (unpunctuated speech) cut into overlapping word windows."""
    spans: list[TextSpan] = []
    for begin, end in _sentences(answer):
        weight = thresholds.list_span_weight if _is_list_like(answer[begin:end]) else 1.0
        words = _words(answer[begin:end])
        if len(words) <= thresholds.max_span_words:
            spans.append(TextSpan(begin, end, weight))
            continue
        size = thresholds.window_words
        stride = max(1, size * 2 // 3)
        for first in range(0, len(words), stride):
            chunk = words[first : first + size]
            spans.append(TextSpan(begin + chunk[0][0], begin + chunk[-1][1], weight))
            if first + size >= len(words):
                break
    return spans


def screen_text(answer: str) -> TextScreen:
    """Word statistics of the answer: plausibility, fillers, repetition and list-likeness."""
    words = [answer[s:e] for s, e in _words(answer)]
    lower = [word.lower() for word in words]
    count = len(words)
    if count == 0:
        return TextScreen(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    bigrams = list(itertools.pairwise(lower))
    trigrams = list(zip(lower, lower[1:], lower[2:], strict=False))
    repeated = len(trigrams) - len(set(trigrams))
    list_words = sum(
        len(_words(answer[s:e])) for s, e in _sentences(answer) if _is_list_like(answer[s:e])
    )
    return TextScreen(
        word_count=count,
        plausible_share=sum(_is_plausible_word(word) for word in words) / count,
        filler_share=sum(word in FILLER_WORDS for word in lower) / count,
        repeated_trigram_share=repeated / max(1, len(trigrams)),
        stutter_share=sum(a == b for a, b in bigrams) / count,
        keyword_list_share=list_words / count,
        function_word_share=sum(word in FUNCTION_WORDS for word in lower) / count,
    )


def _garbled_reason(screen: TextScreen, thresholds: ScoringThresholds) -> str | None:
    if screen.plausible_share < thresholds.min_plausible_word_share:
        return "garbled: most words are not recognisable words"
    if screen.filler_share > thresholds.max_filler_share:
        return "garbled: mostly filler sounds"
    if screen.stutter_share > thresholds.max_stutter_share:
        return "garbled: words repeat back to back"
    if (
        screen.word_count >= 8
        and screen.repeated_trigram_share > thresholds.max_repeated_trigram_share
    ):
        return "garbled: the same phrase repeats"
    return None


@dataclass(frozen=True)
class _RubricTexts:
    """The rubric flattened into the texts the scorer embeds."""

    topic: list[str]
    """What the question is about (question, reference, key indicators, anchors): relevance."""
    levels: list[int]
    level_indicators: list[list[str]]
    points: list[str]
    """The content checklist: key indicators, or else the reference answer's sentences."""


def _rubric_texts(question: str, rubric: Rubric) -> _RubricTexts:
    levels = sorted(rubric.levels, key=lambda level: level.level)
    reference_sentences: list[str] = []
    if rubric.reference_answer:
        reference = rubric.reference_answer
        reference_sentences = [reference[s:e] for s, e in _sentences(reference)]
    topic = [question, *rubric.key_indicators, *(level.anchor for level in levels)]
    if rubric.reference_answer:
        topic.append(rubric.reference_answer)
    return _RubricTexts(
        topic=topic,
        levels=[level.level for level in levels],
        level_indicators=[level.indicators or [level.anchor] for level in levels],
        points=list(rubric.key_indicators) or reference_sentences,
    )


@dataclass(frozen=True)
class _Matches:
    """Cosines of every answer span to a group of rubric texts, raw and topic-adjusted."""

    texts: list[str]
    raw: Matrix
    """(span x text) cosine, list-like spans scaled down; evidence is judged on this."""
    adjusted: Matrix
    """`raw` minus the share of each text's cosine to the question; levels are judged on this."""


@dataclass(frozen=True)
class _Estimate:
    level: float
    certainty: float
    components: dict[str, float]


class RubricScorer:
    """Scores an answer against its rubric with sentence embeddings (blocking; thread-safe)."""

    def __init__(
        self, encoder: SentenceEncoder, thresholds: ScoringThresholds | None = None
    ) -> None:
        self._encoder = encoder
        self._thresholds = thresholds if thresholds is not None else ScoringThresholds()

    @property
    def encoder(self) -> SentenceEncoder:
        """The sentence encoder in use (shared, e.g. to reuse its cache elsewhere)."""
        return self._encoder

    @property
    def thresholds(self) -> ScoringThresholds:
        """The thresholds in use."""
        return self._thresholds

    def prepare(self, question: str, rubric: Rubric) -> None:
        """Embed the rubric ahead of time (when the question is asked) so scoring is faster."""
        texts = _rubric_texts(question, rubric)
        flat = [text for group in texts.level_indicators for text in group]
        self._encoder.encode([*texts.topic, *flat, *texts.points])

    def score(self, question: str, answer: str, rubric: Rubric) -> AnswerScore:
        """A level with evidence, or insufficient evidence with a reason."""
        limits = self._thresholds
        if not answer.strip():
            return _insufficient("empty answer", 1.0)
        screen = screen_text(answer)
        if screen.word_count < limits.min_words:
            return _insufficient(f"too short: {screen.word_count} words", 1.0)
        garbled = _garbled_reason(screen, limits)
        if garbled is not None:
            return _insufficient(garbled, 0.9)

        texts = _rubric_texts(question, rubric)
        spans = split_spans(answer, limits)
        span_vectors = self._encoder.encode([answer[s.start : s.end] for s in spans])
        weights = np.array([span.weight for span in spans], dtype=np.float32)[:, None]

        topic = self._encoder.encode(texts.topic)
        relevance = float((span_vectors @ topic.T * weights).max())
        if relevance < limits.min_relevance:
            confidence = min(1.0, 0.5 + (limits.min_relevance - relevance) / limits.min_relevance)
            if screen.function_word_share < 0.15:
                return _insufficient("garbled: no recognisable sentences", confidence, relevance)
            return _insufficient(
                "off-topic: the answer does not address the question", confidence, relevance
            )
        if screen.keyword_list_share >= limits.max_keyword_list_share:
            return _insufficient(
                "a list of keywords, not an explanation: ask the candidate to walk through it",
                0.8,
                relevance,
            )

        question_vector = topic[0]  # the question is the first topic text
        levels = [
            self._match(group, span_vectors, weights, question_vector)
            for group in texts.level_indicators
        ]
        points = (
            self._match(texts.points, span_vectors, weights, question_vector)
            if texts.points
            else None
        )
        estimate = self._estimate(texts.levels, levels, points)
        level = min(5, max(1, int(np.floor(estimate.level + 0.5))))
        supporting = [points] if points is not None else []
        if level in texts.levels:
            supporting.append(levels[texts.levels.index(level)])
        evidence = self._evidence(spans, supporting)
        matched = {span.indicator for span in evidence}
        matched_points = tuple(point for point in texts.points if point in matched)
        missing = tuple(point for point in texts.points if point not in matched)

        # Mostly how clearly one level wins, then how much evidence and how clearly on-topic.
        # Hand-set weights; benchmarks/scoring_eval.py checks confidence falls as error grows.
        evidence_amount = min(1.0, len(evidence) / 3)
        relevance_margin = min(1.0, (relevance - limits.min_relevance) / 0.2)
        confidence = 0.1 + 0.9 * (
            0.5 * estimate.certainty + 0.3 * evidence_amount + 0.2 * relevance_margin
        )
        return AnswerScore(
            level=level,
            score=(estimate.level - 1) / 4,
            confidence=round(confidence, 4),
            insufficient_evidence=False,
            evidence=evidence,
            matched_indicators=matched_points,
            missing_indicators=missing,
            details={
                "relevance": relevance,
                "expected_level": estimate.level,
                "keyword_list_share": screen.keyword_list_share,
                **estimate.components,
            },
        )

    def _match(
        self, texts: list[str], span_vectors: Matrix, weights: Matrix, question: Matrix
    ) -> _Matches:
        vectors = self._encoder.encode(texts)
        raw = span_vectors @ vectors.T * weights
        baseline = self._thresholds.topic_baseline_weight * (vectors @ question)
        return _Matches(texts=texts, raw=raw, adjusted=raw - baseline[None, :])

    def _estimate(
        self, level_numbers: list[int], levels: list[_Matches], points: _Matches | None
    ) -> _Estimate:
        """Combine the BARS and content components into one expected level with a certainty."""
        limits = self._thresholds
        estimates: list[tuple[float, float]] = []
        components: dict[str, float] = {}
        certainty: float | None = None
        if levels:
            probabilities = self._level_distribution(levels)
            bars_level = float(probabilities @ np.array(level_numbers, dtype=np.float64))
            ranked = np.sort(probabilities)[::-1]
            certainty = float(ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0))
            estimates.append((limits.bars_weight, bars_level))
            components["bars_level"] = bars_level
        if points is not None:
            coverage = float(points.adjusted.max(axis=0).mean())
            width = limits.coverage_ceiling - limits.coverage_floor
            content_level = 1 + 4 * min(1.0, max(0.0, (coverage - limits.coverage_floor) / width))
            estimates.append((limits.content_weight, content_level))
            components["content_level"] = content_level
            components["coverage"] = coverage
        if not estimates:
            raise ValueError("the rubric has neither levels nor points to score against")
        total = sum(weight for weight, _ in estimates)
        level = sum(weight * value for weight, value in estimates) / total
        if certainty is None:
            # Content only: sure when the estimate sits on a level, unsure near a boundary.
            certainty = float(1 - 2 * abs(level - np.floor(level + 0.5)))
        if len(estimates) == 2:
            certainty *= 1 - min(1.0, abs(estimates[0][1] - estimates[1][1]) / 2)
        return _Estimate(level=level, certainty=certainty, components=components)

    def _level_distribution(self, levels: list[_Matches]) -> npt.NDArray[np.float64]:
        """Probability of each rubric level (ascending), rating as a BARS rater does.

        A level is demonstrated when the best spans match its indicators, on average, above
        `demonstrated_similarity`; the rating is the highest demonstrated level, because a
        strong answer also says what weaker ones say. When no level is demonstrated, the
        best-matching level wins (a sharp softmax).
        """
        limits = self._thresholds
        scores = np.array([m.adjusted.max(axis=0).mean() for m in levels], dtype=np.float64)
        logits = (scores - scores.max()) / limits.level_temperature
        best_match = np.exp(logits) / np.exp(logits).sum()
        z = np.clip(
            (scores - limits.demonstrated_similarity) / limits.demonstrated_softness, -50, 50
        )
        demonstrated = 1 / (1 + np.exp(-z))
        distribution = np.zeros_like(scores)
        none_above = 1.0  # probability that no higher level was demonstrated
        for index in range(len(scores) - 1, -1, -1):
            distribution[index] = none_above * demonstrated[index]
            none_above *= 1 - demonstrated[index]
        result: npt.NDArray[np.float64] = distribution + none_above * best_match
        return result

    def _evidence(self, spans: list[TextSpan], groups: list[_Matches]) -> tuple[EvidenceSpan, ...]:
        """The best span for each indicator whose cosine reaches the evidence threshold."""
        found: dict[tuple[int, int, str], EvidenceSpan] = {}
        for group in groups:
            for column, indicator in enumerate(group.texts):
                similarities = group.raw[:, column]
                best = int(similarities.argmax())
                if similarities[best] < self._thresholds.evidence_similarity:
                    continue
                span = spans[best]
                found[(span.start, span.end, indicator)] = EvidenceSpan(
                    span.start, span.end, indicator, round(float(similarities[best]), 4)
                )
        return tuple(sorted(found.values(), key=lambda e: (e.start, -e.similarity)))


def _insufficient(reason: str, confidence: float, relevance: float | None = None) -> AnswerScore:
    return AnswerScore(
        level=None,
        score=None,
        confidence=round(confidence, 4),
        insufficient_evidence=True,
        reason=reason,
        details={} if relevance is None else {"relevance": relevance},
    )
