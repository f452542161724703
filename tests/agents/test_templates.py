"""The interview templates shipped with CODESAGE, and how a broken template is reported."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from codesage.agents.template import (
    SHIPPED_TEMPLATES_DIR,
    InterviewTemplate,
    TemplateError,
    load_template,
    load_templates,
)

SHIPPED = {"backend-python": "technical", "dsa-screen": "technical", "behavioural": "behavioural"}
SKILL_TAG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@pytest.fixture(scope="module")
def templates() -> dict[str, InterviewTemplate]:
    return {template.slug: template for template in load_templates()}


def test_the_three_shipped_templates_load(templates: dict[str, InterviewTemplate]) -> None:
    assert set(templates) == set(SHIPPED)
    for slug, kind in SHIPPED.items():
        assert templates[slug].kind == kind


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_template_settings_suit_a_short_adaptive_interview(
    templates: dict[str, InterviewTemplate], slug: str
) -> None:
    template = templates[slug]

    assert template.title and template.role and template.description
    assert 30 <= template.time_budget_minutes <= 45
    assert template.max_questions_per_competency == 3
    assert template.target_standard_error == pytest.approx(0.45)
    assert template.max_follow_ups_per_question == 1
    assert 3 <= len(template.competencies) <= 5


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_every_competency_has_easy_and_hard_questions(
    templates: dict[str, InterviewTemplate], slug: str
) -> None:
    template = templates[slug]
    assert len(template.questions) >= 12

    for competency in template.competencies:
        difficulties = sorted(
            q.difficulty for q in template.questions if q.competency == competency.id
        )
        assert len(difficulties) >= 2, competency.id
        assert difficulties[0] <= 2, f"{competency.id} has no easy question: {difficulties}"
        assert difficulties[-1] >= 4, f"{competency.id} has no hard question: {difficulties}"


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_every_question_has_a_full_rubric(
    templates: dict[str, InterviewTemplate], slug: str
) -> None:
    problems: list[str] = []
    for question in templates[slug].questions:
        rubric = question.rubric
        if sorted(level.level for level in rubric.levels) != [1, 2, 3, 4, 5]:
            problems.append(f"{question.id}: rubric levels are not exactly 1-5")
        problems += [
            f"{question.id}: level {level.level} lacks an anchor or indicators"
            for level in rubric.levels
            if not level.anchor.strip() or not level.indicators
        ]
        if not rubric.key_indicators or len(set(rubric.key_indicators)) != len(
            rubric.key_indicators
        ):
            problems.append(f"{question.id}: key indicators missing or repeated")
        if not rubric.reference_answer or len(rubric.reference_answer.split()) < 40:
            problems.append(f"{question.id}: no real reference answer")
        if not question.follow_ups:
            problems.append(f"{question.id}: no follow-up probe")
        if not question.skills or not all(SKILL_TAG.match(skill) for skill in question.skills):
            problems.append(f"{question.id}: skills must be lowercase tags: {question.skills}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_every_hint_points_at_one_of_its_questions_key_indicators(
    templates: dict[str, InterviewTemplate], slug: str
) -> None:
    problems: list[str] = []
    for question in templates[slug].questions:
        if len(question.hints) < 2:
            problems.append(f"{question.id}: fewer than two hints")
        if sorted(hint.strength for hint in question.hints) != [h.strength for h in question.hints]:
            problems.append(f"{question.id}: hints are not listed from nudge to strongest")
        problems += [
            f"{question.id}: hint indicator {hint.indicator!r} is not a key indicator"
            for hint in question.hints
            if hint.indicator not in question.rubric.key_indicators
        ]
    assert not problems, "\n".join(problems)


def valid_template() -> dict[str, Any]:
    rubric = {
        "reference_answer": "Use a connection pool.",
        "key_indicators": ["use a connection pool"],
        "levels": [{"level": n, "anchor": f"level {n}"} for n in range(1, 6)],
    }
    return {
        "slug": "tiny",
        "title": "Tiny",
        "role": "Engineer",
        "kind": "technical",
        "competencies": [{"id": "databases", "name": "Databases"}],
        "questions": [
            {
                "id": "pool",
                "text": "Why pool?",
                "competency": "databases",
                "difficulty": 2,
                "rubric": copy.deepcopy(rubric),
            },
            {
                "id": "pool-2",
                "text": "How big?",
                "competency": "databases",
                "difficulty": 4,
                "rubric": copy.deepcopy(rubric),
            },
        ],
    }


def unknown_competency(data: dict[str, Any]) -> None:
    data["questions"][1]["competency"] = "networking"


def duplicate_question_id(data: dict[str, Any]) -> None:
    data["questions"][1]["id"] = "pool"


def missing_rubric(data: dict[str, Any]) -> None:
    del data["questions"][1]["rubric"]


def test_the_valid_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(valid_template()), encoding="utf-8")

    assert [q.id for q in load_template(path).questions] == ["pool", "pool-2"]


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        (unknown_competency, "unknown competency 'networking'"),
        (duplicate_question_id, "question ids repeat: ['pool']"),
        (missing_rubric, "questions.1.rubric\n  Field required"),
    ],
)
def test_a_broken_template_raises_an_error_naming_the_file(
    tmp_path: Path, breakage: Any, problem: str
) -> None:
    data = valid_template()
    breakage(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")

    with pytest.raises(TemplateError) as raised:
        load_templates(tmp_path)

    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


def test_unreadable_yaml_raises_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "garbled.yaml"
    path.write_text("slug: [unclosed\n", encoding="utf-8")

    with pytest.raises(TemplateError, match="cannot read") as raised:
        load_templates(tmp_path)

    assert str(path) in str(raised.value)


def test_a_typo_in_a_template_key_is_an_error(tmp_path: Path) -> None:
    source = (SHIPPED_TEMPLATES_DIR / "backend-python.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "typo.yaml"
    broken.write_text(source.replace("follow_ups:", "follow_up:", 1), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template(broken)
    assert "typo.yaml" in str(caught.value) and "follow_up" in str(caught.value)


def test_a_hint_must_point_at_a_key_indicator(tmp_path: Path) -> None:
    data = yaml.safe_load((SHIPPED_TEMPLATES_DIR / "backend-python.yaml").read_text())
    data["questions"][0]["hints"][0]["indicator"] = "something the rubric never mentions"
    path = tmp_path / "hint.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(TemplateError, match="not a key indicator"):
        load_template(path)
