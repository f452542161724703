"""Samejima's graded response model: item parameters, ability estimates, information, refits."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize

FloatArray = npt.NDArray[np.float64]

LEVELS = 5
"""Answer levels 1–5 are the GRM's ordered categories."""
THRESHOLD_COUNT = LEVELS - 1

# Offsets of the four thresholds around an item's centre: one logit apart, so a candidate
# at the centre most likely gives a level-3 answer and each extra logit moves about one level.
_THRESHOLD_OFFSETS = (-1.5, -0.5, 0.5, 1.5)
_LOGIT_PER_DIFFICULTY_STEP = 0.8

# ±5 covers any plausible candidate under the N(0, 1) prior; 101 nodes keep EAP errors far
# below the standard errors we report while costing microseconds.
_GRID = np.linspace(-5.0, 5.0, 101)
_LOG_PRIOR = -0.5 * _GRID**2
# Read-only so these shared constants cannot become state shared between interviews.
_GRID.setflags(write=False)
_LOG_PRIOR.setflags(write=False)

# Bounds keep a refit inside what a template may declare (discrimination ≤ 4) and stop
# thresholds of never-observed categories from running off to infinity.
_MIN_DISCRIMINATION = 0.2
_MAX_DISCRIMINATION = 4.0
_THRESHOLD_LIMIT = 6.0
_MIN_THRESHOLD_GAP = 0.05


@dataclass(frozen=True)
class GradedItem:
    """One GRM item: discrimination `a` and four increasing thresholds between levels 1–5."""

    discrimination: float
    thresholds: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        if not self.discrimination > 0:
            raise ValueError(f"discrimination must be positive, got {self.discrimination}")
        if len(self.thresholds) != THRESHOLD_COUNT:
            raise ValueError(f"an item needs {THRESHOLD_COUNT} thresholds: {self.thresholds}")
        if any(low >= high for low, high in itertools.pairwise(self.thresholds)):
            raise ValueError(f"thresholds must increase: {self.thresholds}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for checkpoints."""
        return {"discrimination": self.discrimination, "thresholds": list(self.thresholds)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradedItem:
        """Inverse of `to_dict`."""
        low, mid_low, mid_high, high = (float(b) for b in data["thresholds"])
        return cls(float(data["discrimination"]), (low, mid_low, mid_high, high))


@dataclass(frozen=True)
class AbilityEstimate:
    """An EAP ability estimate `theta` (logits, prior N(0, 1)) and its posterior SD."""

    theta: float
    standard_error: float

    def to_dict(self) -> dict[str, float]:
        """Plain-JSON form for checkpoints and reports."""
        return {"theta": self.theta, "standard_error": self.standard_error}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AbilityEstimate:
        """Inverse of `to_dict`."""
        return cls(float(data["theta"]), float(data["standard_error"]))


def item_from_difficulty(difficulty: int, discrimination: float) -> GradedItem:
    """Seed parameters from a template's 1–5 difficulty: centre (difficulty − 3) × 0.8."""
    if not 1 <= difficulty <= LEVELS:
        raise ValueError(f"difficulty must be 1–5, got {difficulty}")
    centre = (difficulty - 3) * _LOGIT_PER_DIFFICULTY_STEP
    low, mid_low, mid_high, high = (centre + offset for offset in _THRESHOLD_OFFSETS)
    return GradedItem(discrimination, (low, mid_low, mid_high, high))


def _log_sigmoid(x: FloatArray) -> FloatArray:
    return -np.logaddexp(0.0, -x)


def _log_category_probabilities(
    discrimination: float, thresholds: Sequence[float], theta: FloatArray
) -> FloatArray:
    """log P(level = k | theta), shape theta.shape + (5,), without cancellation at any theta."""
    bounds = np.concatenate(([-np.inf], np.asarray(thresholds, dtype=np.float64), [np.inf]))
    theta_column = np.asarray(theta, dtype=np.float64)[..., np.newaxis]
    # P(k) = σ(x) − σ(y) with x = a(θ − b_{k−1}), y = a(θ − b_k); subtracting two nearly equal
    # sigmoids underflows far from the item, but σ(x) − σ(y) = σ(x)·σ(−y)·(1 − e^{−(x−y)})
    # and x − y = a(b_k − b_{k−1}) does not depend on θ, so every factor stays well scaled.
    upper = discrimination * (theta_column - bounds[:-1])
    lower = discrimination * (theta_column - bounds[1:])
    gap = discrimination * np.diff(bounds)
    with np.errstate(invalid="ignore"):
        log_gap = np.log(-np.expm1(-gap))
    result: FloatArray = _log_sigmoid(upper) + _log_sigmoid(-lower) + log_gap
    return result


def category_probabilities(item: GradedItem, theta: float | FloatArray) -> FloatArray:
    """P(level = 1..5 | theta); the last axis has the five levels and sums to 1."""
    log_p = _log_category_probabilities(
        item.discrimination, item.thresholds, np.asarray(theta, dtype=np.float64)
    )
    result: FloatArray = np.exp(log_p)
    return result


def item_information(item: GradedItem, theta: float) -> float:
    """Fisher information of the item at `theta` (Samejima's GRM formula)."""
    bounds = np.concatenate(([-np.inf], np.asarray(item.thresholds), [np.inf]))
    with np.errstate(over="ignore"):
        cumulative = 1.0 / (1.0 + np.exp(-item.discrimination * (theta - bounds)))
    slopes = cumulative * (1.0 - cumulative)
    derivatives = item.discrimination * (slopes[:-1] - slopes[1:])
    probabilities = category_probabilities(item, theta)
    # A category with vanishing probability has a derivative that vanishes faster; skip it
    # instead of dividing 0 by 0.
    usable = probabilities > 1e-300
    return float(np.sum(derivatives[usable] ** 2 / probabilities[usable]))


def estimate_ability(responses: Sequence[tuple[GradedItem, int]]) -> AbilityEstimate:
    """EAP estimate and posterior SD from (item, level 1–5) pairs on a quadrature grid."""
    log_posterior = _LOG_PRIOR.copy()
    for item, level in responses:
        if not 1 <= level <= LEVELS:
            raise ValueError(f"level must be 1–5, got {level}")
        log_p = _log_category_probabilities(item.discrimination, item.thresholds, _GRID)
        log_posterior += log_p[:, level - 1]
    # Normalising in log space first keeps long, consistent response patterns from underflowing.
    weights = np.exp(log_posterior - np.max(log_posterior))
    weights /= np.sum(weights)
    theta = float(np.sum(weights * _GRID))
    variance = float(np.sum(weights * (_GRID - theta) ** 2))
    return AbilityEstimate(theta, math.sqrt(max(variance, 0.0)))


def _unpack(parameters: FloatArray) -> tuple[float, FloatArray]:
    # a = e^u and b_k = b_1 + Σ (gap floor + e^v): an unconstrained vector always maps to a
    # positive discrimination and strictly ordered thresholds.
    discrimination = float(np.exp(parameters[0]))
    gaps = _MIN_THRESHOLD_GAP + np.exp(parameters[2:])
    thresholds = parameters[1] + np.concatenate(([0.0], np.cumsum(gaps)))
    return discrimination, thresholds


def _pack(item: GradedItem) -> FloatArray:
    gaps = np.maximum(np.diff(item.thresholds) - _MIN_THRESHOLD_GAP, 1e-3)
    return np.concatenate(([math.log(item.discrimination), item.thresholds[0]], np.log(gaps)))


def _negative_log_posterior(
    parameters: FloatArray, abilities: FloatArray, level_indices: npt.NDArray[np.intp]
) -> float:
    discrimination, thresholds = _unpack(parameters)
    log_p = _log_category_probabilities(discrimination, thresholds.tolist(), abilities)
    log_likelihood = float(np.sum(log_p[np.arange(len(level_indices)), level_indices]))
    # Weak priors (log a ~ N(0, 0.75²), b ~ N(0, 3²)) add almost nothing where the data speak
    # but keep a level nobody reached from pushing its threshold to infinity.
    log_prior = -0.5 * (math.log(discrimination) / 0.75) ** 2 - 0.5 * float(
        np.sum((thresholds / 3.0) ** 2)
    )
    return -(log_likelihood + log_prior)


def _fit_item(abilities: FloatArray, levels: npt.NDArray[np.intp], start: GradedItem) -> GradedItem:
    result = optimize.minimize(
        _negative_log_posterior,
        _pack(start),
        args=(abilities, levels - 1),
        method="L-BFGS-B",
    )
    discrimination, thresholds = _unpack(np.asarray(result.x, dtype=np.float64))
    discrimination = min(max(discrimination, _MIN_DISCRIMINATION), _MAX_DISCRIMINATION)
    clipped = np.clip(thresholds, -_THRESHOLD_LIMIT, _THRESHOLD_LIMIT)
    # Clipping can merge thresholds at the limit; re-space them so the order stays strict.
    for index in range(1, THRESHOLD_COUNT):
        clipped[index] = max(clipped[index], clipped[index - 1] + _MIN_THRESHOLD_GAP)
    low, mid_low, mid_high, high = (float(b) for b in clipped)
    return GradedItem(discrimination, (low, mid_low, mid_high, high))


def recalibrate_items(
    responses: Mapping[str, Sequence[tuple[float, int]]],
    *,
    current: Mapping[str, GradedItem] | None = None,
    min_responses: int = 50,
) -> dict[str, GradedItem]:
    """Refit each item from stored (ability, level) pairs; items with too few are left out.

    The fit maximises the likelihood (with weak priors) over a and ordered thresholds, starting
    from `current[item_id]` when given. Only refitted items appear in the result.
    """
    refitted: dict[str, GradedItem] = {}
    for item_id, pairs in responses.items():
        if len(pairs) < min_responses:
            continue
        abilities = np.asarray([ability for ability, _ in pairs], dtype=np.float64)
        levels = np.asarray([level for _, level in pairs], dtype=np.intp)
        if np.any((levels < 1) | (levels > LEVELS)):
            raise ValueError(f"item {item_id!r} has levels outside 1–5")
        start = (current or {}).get(item_id) or item_from_difficulty(3, 1.0)
        refitted[item_id] = _fit_item(abilities, levels, start)
    return refitted
