"""The bias audit on synthetic data sets whose rates and ratios are known by construction."""

from __future__ import annotations

import csv
import io

import pytest

from codesage.agents.bias_audit import (
    CSV_COLUMNS,
    INTERSECTION,
    RACE_ETHNICITY,
    SEX,
    AuditRecord,
    BiasAuditResult,
    CategoryResult,
    run_bias_audit,
)

HIGH, LOW = 0.9, 0.1


def group(sex: str, race: str, high: int, low: int) -> list[AuditRecord]:
    """`high` records scoring HIGH and `low` scoring LOW, all of one sex and race."""
    return [AuditRecord(HIGH, sex, race)] * high + [AuditRecord(LOW, sex, race)] * low


def category(result: BiasAuditResult, dimension: str, name: str) -> CategoryResult:
    matches = [c for c in result.categories() if c.dimension == dimension and c.category == name]
    assert len(matches) == 1, f"{dimension}/{name}"
    return matches[0]


# 100 candidates, 50 HIGH and 50 LOW, so the median is 0.5 and HIGH is "above".
# Sex: male 30/50 = 0.60, female 20/50 = 0.40 → ratio 0.667.
# Race: white 25/50 = 0.50, black 24/49 ≈ 0.49, one Alaska Native (1 %) at 1/1.
KNOWN = (
    group("male", "white", 15, 10)
    + group("male", "black_or_african_american", 15, 10)
    + group("female", "white", 10, 15)
    + group("female", "black_or_african_american", 9, 15)
    + group("female", "american_indian_or_alaska_native", 1, 0)
)


def test_female_rate_040_against_male_060_is_flagged_at_0667() -> None:
    result = run_bias_audit(KNOWN)
    assert result.total == 100 and result.median == pytest.approx(0.5)
    male, female = category(result, SEX, "male"), category(result, SEX, "female")
    assert (male.count, male.scoring_rate, male.impact_ratio) == (50, 0.6, 1.0)
    assert (female.count, female.share, female.scoring_rate) == (50, 0.5, 0.4)
    assert female.impact_ratio == pytest.approx(2 / 3)
    assert female.adverse_impact_flag and not male.adverse_impact_flag
    assert result.dimensions[0].highest_category == "male"


def test_a_category_under_two_percent_is_flagged_and_not_the_highest() -> None:
    result = run_bias_audit(KNOWN)
    native = category(result, RACE_ETHNICITY, "american_indian_or_alaska_native")
    assert native.small_sample and native.share == 0.01 and native.scoring_rate == 1.0
    # Its rate of 1.0 would otherwise set the bar; white (0.50) does instead.
    assert result.dimensions[1].highest_category == "white"
    assert native.impact_ratio == pytest.approx(2.0)
    black = category(result, RACE_ETHNICITY, "black_or_african_american")
    assert black.impact_ratio == pytest.approx((24 / 49) / 0.5) and not black.adverse_impact_flag
    small_intersection = category(result, INTERSECTION, "female / american_indian_or_alaska_native")
    assert small_intersection.small_sample and small_intersection.flags == ("small_sample",)


def test_intersections_compare_against_the_highest_intersection() -> None:
    result = run_bias_audit(KNOWN)
    intersection = result.dimensions[2]
    assert intersection.dimension == INTERSECTION
    assert intersection.highest_category == "male / black_or_african_american"  # ties: first
    assert category(result, INTERSECTION, "male / white").impact_ratio == pytest.approx(1.0)
    female_white = category(result, INTERSECTION, "female / white")
    assert female_white.impact_ratio == pytest.approx(0.4 / 0.6)
    female_black = category(result, INTERSECTION, "female / black_or_african_american")
    assert female_black.impact_ratio == pytest.approx(0.375 / 0.6)
    assert female_white.adverse_impact_flag and female_black.adverse_impact_flag


def test_a_score_equal_to_the_median_is_not_above_it() -> None:
    records = [
        AuditRecord(0.2, "female", "white"),
        AuditRecord(0.5, "female", "white"),
        AuditRecord(0.5, "male", "white"),
        AuditRecord(0.5, "male", "white"),
        AuditRecord(0.8, "male", "white"),
    ]
    result = run_bias_audit(records)
    assert result.median == 0.5
    assert category(result, SEX, "female").above_median == 0
    assert category(result, SEX, "male").above_median == 1
    assert category(result, RACE_ETHNICITY, "white").scoring_rate == pytest.approx(0.2)


def test_a_dimension_where_all_categories_score_alike_has_ratios_of_one() -> None:
    records = group("female", "white", 5, 5) + group("male", "asian", 5, 5)
    result = run_bias_audit(records)
    for dimension in result.dimensions:
        ratios = [c.impact_ratio for c in dimension.categories]
        assert ratios == [1.0, 1.0]
        assert not any(c.flags for c in dimension.categories)


def test_when_nobody_scores_above_the_median_every_ratio_is_one() -> None:
    records = [AuditRecord(0.5, sex, "white") for sex in ("female", "male")] * 10
    result = run_bias_audit(records)
    assert [c.impact_ratio for c in result.dimensions[0].categories] == [1.0, 1.0]


def test_a_ratio_of_exactly_four_fifths_is_not_flagged() -> None:
    # 9 HIGH of 20, so the median is LOW: female 4/10 = 0.40 against male 5/10 = 0.50.
    result = run_bias_audit(group("female", "white", 4, 6) + group("male", "white", 5, 5))
    female = category(result, SEX, "female")
    assert female.impact_ratio == pytest.approx(0.8) and not female.adverse_impact_flag


def test_exactly_two_percent_is_not_a_small_sample_but_just_under_is() -> None:
    two_percent = run_bias_audit(group("male", "white", 25, 24) + group("male", "asian", 1, 0))
    assert category(two_percent, RACE_ETHNICITY, "asian").share == 0.02
    assert not category(two_percent, RACE_ETHNICITY, "asian").small_sample
    under = run_bias_audit(group("male", "white", 25, 25) + group("male", "asian", 1, 0))
    assert category(under, RACE_ETHNICITY, "asian").small_sample


def test_unknown_and_declined_are_counted_apart_and_get_no_ratio() -> None:
    records = (
        group("female", "white", 5, 5)
        + group("male", "white", 5, 5)
        + group("declined", "white", 10, 0)
        + group("unknown", "declined", 0, 10)
    )
    result = run_bias_audit(records)
    sexes = [c.category for c in result.dimensions[0].categories]
    assert sexes == ["female", "male", "declined", "unknown"]
    declined = category(result, SEX, "declined")
    assert declined.unknown and declined.impact_ratio is None and declined.count == 10
    assert declined.flags == ("unknown",) and declined.scoring_rate == 1.0
    # The median is over everyone, unknown included: 20 HIGH of 40 → 0.5.
    assert result.median == pytest.approx(0.5)
    assert category(result, SEX, "female").impact_ratio == 1.0
    unknown_pairs = category(result, INTERSECTION, "unknown")
    assert unknown_pairs.count == 20 and unknown_pairs.unknown


def test_csv_has_one_clean_row_per_category() -> None:
    result = run_bias_audit(KNOWN)
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(len(d.categories) for d in result.dimensions)
    female = next(r for r in rows if r["dimension"] == "sex" and r["category"] == "female")
    assert female == {
        "dimension": "sex",
        "category": "female",
        "count": "50",
        "share": "0.5000",
        "scoring_rate": "0.4000",
        "impact_ratio": "0.6667",
        "flags": "adverse_impact_flag",
    }


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    result = run_bias_audit([AuditRecord(0.5, "=cmd()", "white")])
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert rows[0]["category"] == "'=cmd()"


def test_no_records_give_empty_dimensions() -> None:
    result = run_bias_audit([])
    assert result.median is None and result.total == 0
    assert all(d.categories == () and d.highest_category is None for d in result.dimensions)
    assert result.to_csv().strip() == ",".join(CSV_COLUMNS)


def test_scores_must_be_finite() -> None:
    with pytest.raises(ValueError, match="finite"):
        run_bias_audit([AuditRecord(float("nan"), "female", "white")])
