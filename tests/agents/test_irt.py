"""Graded response model: probabilities, information, EAP ability and recalibration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codesage.agents.irt import (
    GradedItem,
    category_probabilities,
    estimate_ability,
    item_from_difficulty,
    item_information,
    recalibrate_items,
)

THETAS = np.linspace(-6.0, 6.0, 121)


def simulate_level(item: GradedItem, theta: float, rng: np.random.Generator) -> int:
    """One answer level drawn from the model for a candidate of ability `theta`."""
    return int(rng.choice(5, p=category_probabilities(item, theta))) + 1


def item_bank(size: int, rng: np.random.Generator) -> list[GradedItem]:
    """Items with centres spread over the ability range and realistic discriminations."""
    bank = []
    for centre in rng.uniform(-2.5, 2.5, size):
        spread = sorted(rng.uniform(0.6, 1.2, 4).cumsum() - 1.8)
        low, mid_low, mid_high, high = (float(centre + s) for s in spread)
        bank.append(GradedItem(float(rng.uniform(1.2, 2.2)), (low, mid_low, mid_high, high)))
    return bank


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("discrimination", [0.3, 1.2, 4.0])
def test_probabilities_sum_to_one_and_move_monotonically(
    difficulty: int, discrimination: float
) -> None:
    item = item_from_difficulty(difficulty, discrimination)
    probabilities = category_probabilities(item, np.concatenate(([-40.0], THETAS, [40.0])))

    assert probabilities.shape == (123, 5)
    assert np.all(probabilities >= 0)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    at_least = np.cumsum(probabilities[:, ::-1], axis=1)[:, ::-1]
    assert np.all(np.diff(at_least, axis=0) >= -1e-12), "P(level ≥ k) must rise with ability"
    assert np.all(np.diff(probabilities[:, 0]) <= 1e-12)
    assert np.all(np.diff(probabilities[:, 4]) >= -1e-12)
    expected_level = probabilities @ np.arange(1, 6)
    assert np.all(np.diff(expected_level) > 0)


def test_probabilities_stay_finite_far_from_the_item() -> None:
    item = GradedItem(4.0, (-0.3, -0.1, 0.1, 0.3))
    probabilities = category_probabilities(item, np.array([-500.0, 500.0]))

    assert np.all(np.isfinite(probabilities))
    assert probabilities[0, 0] == pytest.approx(1.0)
    assert probabilities[1, 4] == pytest.approx(1.0)


def test_difficulty_seeds_centred_thresholds() -> None:
    medium = item_from_difficulty(3, 1.2)
    hard = item_from_difficulty(5, 1.2)

    assert np.mean(medium.thresholds) == pytest.approx(0.0)
    assert np.mean(hard.thresholds) == pytest.approx(1.6)
    probabilities = category_probabilities(medium, 0.0)
    assert probabilities == pytest.approx(probabilities[::-1])
    assert int(np.argmax(probabilities)) == 2
    with pytest.raises(ValueError):
        item_from_difficulty(6, 1.2)


def test_items_reject_unordered_thresholds_and_round_trip() -> None:
    with pytest.raises(ValueError, match="increase"):
        GradedItem(1.0, (0.0, 0.0, 1.0, 2.0))
    with pytest.raises(ValueError, match="positive"):
        GradedItem(0.0, (0.0, 0.5, 1.0, 2.0))
    item = GradedItem(1.3, (-1.0, -0.2, 0.4, 1.9))
    assert GradedItem.from_dict(item.to_dict()) == item


def test_information_peaks_near_the_item_and_grows_with_discrimination() -> None:
    easy, hard = item_from_difficulty(1, 1.5), item_from_difficulty(5, 1.5)

    assert item_information(easy, -1.6) > item_information(easy, 1.6)
    assert item_information(hard, 1.6) > item_information(hard, -1.6)
    peak = max(THETAS, key=lambda theta: item_information(hard, float(theta)))
    assert peak == pytest.approx(1.6, abs=0.2)
    assert item_information(item_from_difficulty(3, 2.5), 0.0) > item_information(
        item_from_difficulty(3, 1.0), 0.0
    )
    assert 0.0 < item_information(hard, -6.0) < 1e-3


def test_information_matches_the_variance_of_the_score_function() -> None:
    # For any model, Fisher information = E[(d/dθ log P(X))²]; check it with finite differences.
    item = GradedItem(1.7, (-1.1, -0.2, 0.6, 1.3))
    theta, step = 0.4, 1e-5
    probabilities = category_probabilities(item, theta)
    scores = (
        np.log(category_probabilities(item, theta + step))
        - np.log(category_probabilities(item, theta - step))
    ) / (2 * step)

    assert item_information(item, theta) == pytest.approx(
        float(np.sum(probabilities * scores**2)), rel=1e-5
    )


def test_ability_without_answers_is_the_prior() -> None:
    estimate = estimate_ability([])

    assert estimate.theta == pytest.approx(0.0, abs=1e-9)
    assert estimate.standard_error == pytest.approx(1.0, abs=1e-3)


def test_ability_follows_the_levels_given() -> None:
    item = item_from_difficulty(3, 1.5)
    strong = estimate_ability([(item, 5), (item, 4)])
    weak = estimate_ability([(item, 1), (item, 2)])

    assert strong.theta > 0.5
    assert weak.theta < -0.5
    with pytest.raises(ValueError):
        estimate_ability([(item, 0)])


def test_ability_is_stable_for_long_contradictory_patterns() -> None:
    # Failing easy items while acing hard ones, 200 times over: every grid point's likelihood
    # underflows a plain product of probabilities.
    easy, hard = item_from_difficulty(1, 4.0), item_from_difficulty(5, 4.0)
    estimate = estimate_ability([(easy, 1), (hard, 5)] * 200)

    assert math.isfinite(estimate.theta)
    assert math.isfinite(estimate.standard_error)
    assert estimate.theta == pytest.approx(0.0, abs=0.1)


def test_ability_saturates_sensibly_when_every_answer_is_top() -> None:
    easy = item_from_difficulty(1, 4.0)
    estimate = estimate_ability([(easy, 5)] * 300)

    # Level 5 on an easy item only says "above its top threshold (−0.1)"; the prior does the rest.
    assert 1.0 < estimate.theta < 2.5
    assert estimate.standard_error < 1.0


def test_eap_converges_to_simulated_abilities_as_items_accumulate() -> None:
    rng = np.random.default_rng(2024)
    bank = item_bank(60, rng)
    true_thetas = rng.normal(0.0, 1.0, 40)
    checkpoints = (5, 15, 60)
    squared_errors: dict[int, list[float]] = {n: [] for n in checkpoints}
    standard_errors: dict[int, list[float]] = {n: [] for n in checkpoints}

    for theta in true_thetas:
        responses = [(item, simulate_level(item, float(theta), rng)) for item in bank]
        for n in checkpoints:
            estimate = estimate_ability(responses[:n])
            squared_errors[n].append(float(estimate.theta - theta) ** 2)
            standard_errors[n].append(estimate.standard_error)

    rmse = {n: math.sqrt(float(np.mean(squared_errors[n]))) for n in checkpoints}
    mean_se = {n: float(np.mean(standard_errors[n])) for n in checkpoints}
    assert rmse[5] > rmse[15] > rmse[60]
    assert mean_se[5] > mean_se[15] > mean_se[60]
    assert rmse[60] < 0.3
    # The reported standard error should describe the actual error, not just shrink.
    assert 0.6 < rmse[60] / mean_se[60] < 1.6


def simulated_responses(
    item: GradedItem, count: int, rng: np.random.Generator
) -> list[tuple[float, int]]:
    """(ability, level) pairs of `count` candidates with N(0, 1) abilities."""
    abilities = rng.normal(0.0, 1.0, count)
    return [(float(theta), simulate_level(item, float(theta), rng)) for theta in abilities]


def test_recalibration_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(7)
    truth = {
        "easy": GradedItem(1.8, (-2.2, -1.4, -0.7, 0.2)),
        "medium": GradedItem(1.1, (-1.2, -0.3, 0.5, 1.4)),
        "hard": GradedItem(2.3, (-0.4, 0.3, 1.0, 1.8)),
    }
    responses = {item_id: simulated_responses(item, 1500, rng) for item_id, item in truth.items()}

    refitted = recalibrate_items(responses)

    assert set(refitted) == set(truth)
    for item_id, item in truth.items():
        fitted = refitted[item_id]
        assert fitted.discrimination == pytest.approx(item.discrimination, abs=0.3), item_id
        assert np.allclose(fitted.thresholds, item.thresholds, atol=0.25), item_id


def test_recalibration_moves_a_misseeded_item_towards_the_data() -> None:
    rng = np.random.default_rng(11)
    truth = GradedItem(1.5, (0.3, 0.9, 1.6, 2.3))
    seeded = item_from_difficulty(1, 1.2)

    refitted = recalibrate_items(
        {"q": simulated_responses(truth, 800, rng)}, current={"q": seeded}
    )["q"]

    assert abs(np.mean(refitted.thresholds) - 1.275) < abs(np.mean(seeded.thresholds) - 1.275)
    assert np.mean(refitted.thresholds) == pytest.approx(1.275, abs=0.25)


def test_recalibration_skips_items_with_too_few_responses() -> None:
    rng = np.random.default_rng(3)
    item = item_from_difficulty(3, 1.2)
    responses = {
        "plenty": simulated_responses(item, 120, rng),
        "few": simulated_responses(item, 10, rng),
    }

    refitted = recalibrate_items(responses, min_responses=50)

    assert set(refitted) == {"plenty"}


def test_recalibration_keeps_thresholds_ordered_when_a_level_never_occurs() -> None:
    rng = np.random.default_rng(5)
    pairs = [(float(theta), int(rng.integers(1, 5))) for theta in rng.normal(0, 1, 200)]

    refitted = recalibrate_items({"no_top_level": pairs})["no_top_level"]

    assert all(np.isfinite(refitted.thresholds))
    assert list(refitted.thresholds) == sorted(set(refitted.thresholds))
    with pytest.raises(ValueError, match="outside"):
        recalibrate_items({"bad": [(0.0, 6)] * 60})
