"""The bias audit of NYC Local Law 144 for scores: scoring rates and impact ratios per category.

The scoring rate of a category is the share of its candidates scoring above the median of all
candidates (a score equal to the median is not above it). Its impact ratio is that rate over
the highest rate among the categories of the same dimension; a ratio under four fifths is
flagged as adverse impact. Unknown categories are counted but never get a ratio, and
categories under 2 % of the data are reported, flagged and kept out of picking the highest
rate (both as the LL144 rules allow). Rates and ratios are computed exactly, as fractions.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

SEX = "sex"
RACE_ETHNICITY = "race_ethnicity"
INTERSECTION = "sex_race_ethnicity"
DIMENSIONS = (SEX, RACE_ETHNICITY, INTERSECTION)
UNKNOWN = "unknown"
INTERSECTION_SEPARATOR = " / "
CSV_COLUMNS = ("dimension", "category", "count", "share", "scoring_rate", "impact_ratio", "flags")
# Spreadsheets run cells starting with these as formulas.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditSettings:
    """The thresholds of the audit."""

    adverse_impact_ratio: Fraction = Fraction(4, 5)
    """Impact ratios strictly below this are flagged (the four-fifths rule)."""
    small_sample_share: Fraction = Fraction(1, 50)
    """Categories with a share of the data strictly below this are flagged `small_sample`."""
    unknown_categories: frozenset[str] = frozenset({"unknown", "declined"})


@dataclass(frozen=True)
class AuditRecord:
    """One candidate's overall score (0–1) and categories."""

    score: float
    sex: str
    race_ethnicity: str


@dataclass(frozen=True)
class CategoryResult:
    """The audit figures of one category of one dimension."""

    dimension: str
    category: str
    count: int
    above_median: int
    share: float
    scoring_rate: float
    impact_ratio: float | None
    """None for unknown categories, and when no ratio is defined (the highest rate is 0)."""
    small_sample: bool
    adverse_impact_flag: bool
    unknown: bool

    @property
    def flags(self) -> tuple[str, ...]:
        """The names of the flags that are set."""
        named = (
            ("adverse_impact_flag", self.adverse_impact_flag),
            ("small_sample", self.small_sample),
            ("unknown", self.unknown),
        )
        return tuple(name for name, is_set in named if is_set)

    def to_json(self) -> dict[str, Any]:
        """The category as JSON, with its flag names."""
        return {
            "category": self.category,
            "count": self.count,
            "above_median": self.above_median,
            "share": self.share,
            "scoring_rate": self.scoring_rate,
            "impact_ratio": self.impact_ratio,
            "small_sample": self.small_sample,
            "adverse_impact_flag": self.adverse_impact_flag,
            "unknown": self.unknown,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class DimensionResult:
    """Every category of one dimension (sex, race/ethnicity or their intersection)."""

    dimension: str
    highest_category: str | None
    """The category whose rate the ratios divide by; None when there is no known category."""
    categories: tuple[CategoryResult, ...]


@dataclass(frozen=True)
class BiasAuditResult:
    """The whole audit: the median and each dimension's categories."""

    total: int
    median: float | None
    adverse_impact_ratio: float
    small_sample_share: float
    dimensions: tuple[DimensionResult, ...]

    def categories(self) -> Iterator[CategoryResult]:
        """Every category of every dimension, in report order."""
        for dimension in self.dimensions:
            yield from dimension.categories

    def to_json(self) -> dict[str, Any]:
        """The result as JSON."""
        return {
            "total": self.total,
            "median": self.median,
            "adverse_impact_ratio": self.adverse_impact_ratio,
            "small_sample_share": self.small_sample_share,
            "dimensions": [
                {
                    "dimension": d.dimension,
                    "highest_category": d.highest_category,
                    "categories": [c.to_json() for c in d.categories],
                }
                for d in self.dimensions
            ],
        }

    def to_csv(self) -> str:
        """One row per category: dimension, category, count, share, rate, ratio, flags."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for c in self.categories():
            writer.writerow(
                (
                    _cell(c.dimension),
                    _cell(c.category),
                    c.count,
                    f"{c.share:.4f}",
                    f"{c.scoring_rate:.4f}",
                    "" if c.impact_ratio is None else f"{c.impact_ratio:.4f}",
                    ";".join(c.flags),
                )
            )
        return out.getvalue()


def run_bias_audit(
    records: Sequence[AuditRecord], settings: AuditSettings | None = None
) -> BiasAuditResult:
    """Scoring rates and impact ratios by sex, race/ethnicity and their intersection."""
    settings = settings if settings is not None else AuditSettings()
    if any(not math.isfinite(r.score) for r in records):
        raise ValueError("every score must be a finite number")
    median = statistics.median(r.score for r in records) if records else None
    above = [median is not None and r.score > median for r in records]
    unknown = settings.unknown_categories

    def intersection(record: AuditRecord) -> str:
        if record.sex in unknown or record.race_ethnicity in unknown:
            return UNKNOWN
        return f"{record.sex}{INTERSECTION_SEPARATOR}{record.race_ethnicity}"

    keys: dict[str, Callable[[AuditRecord], str]] = {
        SEX: lambda r: r.sex,
        RACE_ETHNICITY: lambda r: r.race_ethnicity,
        INTERSECTION: intersection,
    }
    dimensions = tuple(
        _dimension(name, [keys[name](r) for r in records], above, settings) for name in DIMENSIONS
    )
    return BiasAuditResult(
        total=len(records),
        median=median,
        adverse_impact_ratio=float(settings.adverse_impact_ratio),
        small_sample_share=float(settings.small_sample_share),
        dimensions=dimensions,
    )


def _dimension(
    name: str, categories: list[str], above: list[bool], settings: AuditSettings
) -> DimensionResult:
    total = len(categories)
    counts: dict[str, tuple[int, int]] = {}
    for category, is_above in zip(categories, above, strict=True):
        count, above_count = counts.get(category, (0, 0))
        counts[category] = (count + 1, above_count + int(is_above))
    rates = {c: Fraction(a, n) for c, (n, a) in counts.items()}
    known = sorted(c for c in counts if c not in settings.unknown_categories)
    small = {c for c in known if Fraction(counts[c][0], total) < settings.small_sample_share}
    # When every known category is small there is nothing better to compare against.
    eligible = [c for c in known if c not in small] or known
    highest = max(eligible, key=lambda c: rates[c], default=None)
    results = []
    for category in known + sorted(c for c in counts if c in settings.unknown_categories):
        count, above_count = counts[category]
        is_unknown = category not in known
        ratio = None if is_unknown or highest is None else _ratio(rates[category], rates[highest])
        results.append(
            CategoryResult(
                dimension=name,
                category=category,
                count=count,
                above_median=above_count,
                share=count / total,
                scoring_rate=float(rates[category]),
                impact_ratio=None if ratio is None else float(ratio),
                small_sample=category in small,
                adverse_impact_flag=ratio is not None and ratio < settings.adverse_impact_ratio,
                unknown=is_unknown,
            )
        )
    return DimensionResult(name, highest, tuple(results))


def _ratio(rate: Fraction, highest: Fraction) -> Fraction | None:
    if highest == 0:
        # Nobody in any compared category scored above the median: no disparity among them,
        # but a (small) category that did has no finite ratio.
        return Fraction(1) if rate == 0 else None
    return rate / highest


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text
