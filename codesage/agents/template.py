"""Interview templates: competencies, questions and their BARS rubrics, validated by pydantic."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SHIPPED_TEMPLATES_DIR = Path(__file__).parent / "templates"


class TemplateError(Exception):
    """A template file that cannot be read or does not validate; the message names the file."""


class TemplatePart(BaseModel):
    """Unknown keys are errors: a typo such as `follow_up:` must not silently drop content."""

    model_config = ConfigDict(extra="forbid")


class RubricLevel(TemplatePart):
    """One level of a behaviourally anchored rating scale."""

    level: int = Field(ge=1, le=5)
    anchor: str = Field(min_length=1, description="What an answer at this level looks like.")
    indicators: list[str] = Field(
        default_factory=list, description="Concrete things said at this level (examples)."
    )


class Rubric(TemplatePart):
    """How an answer is judged: BARS levels and/or a reference answer, plus key indicators."""

    levels: list[RubricLevel] = Field(default_factory=list)
    reference_answer: str | None = None
    key_indicators: list[str] = Field(
        default_factory=list,
        description="Points a strong answer covers; missing ones drive follow-ups and hints.",
    )

    @model_validator(mode="after")
    def _has_a_standard(self) -> Rubric:
        if not self.levels and not self.reference_answer:
            raise ValueError("a rubric needs BARS levels, a reference answer, or both")
        # Anchors at some levels only (say 1, 3 and 5) are common BARS practice; repeats are not.
        seen = [level.level for level in self.levels]
        if len(seen) != len(set(seen)):
            raise ValueError(f"rubric levels repeat: {sorted(seen)}")
        return self


class Hint(TemplatePart):
    """A practice-mode hint; `strength` 1 is a nudge, 3 nearly gives the point away."""

    text: str = Field(min_length=1)
    strength: int = Field(default=1, ge=1, le=3)
    indicator: str | None = Field(
        default=None, description="The key indicator this hint points towards, if any."
    )


class Question(TemplatePart):
    """One question with its rubric, follow-up probes and practice hints."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: str = Field(min_length=1)
    competency: str
    difficulty: int = Field(ge=1, le=5, description="1 easy … 5 hard; seeds the IRT parameters.")
    discrimination: float = Field(default=1.2, gt=0, le=4)
    skills: list[str] = Field(
        default_factory=list, description="Skills this question probes (for resume matching)."
    )
    follow_ups: list[str] = Field(default_factory=list)
    hints: list[Hint] = Field(default_factory=list)
    rubric: Rubric

    @model_validator(mode="after")
    def _hints_point_at_indicators(self) -> Question:
        known = set(self.rubric.key_indicators)
        for hint in self.hints:
            if hint.indicator is not None and hint.indicator not in known:
                raise ValueError(
                    f"hint indicator {hint.indicator!r} is not a key indicator of {self.id!r}"
                )
        return self


class Competency(TemplatePart):
    """A competency the interview measures; `weight` is its share of the overall score."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    description: str = ""
    weight: float = Field(default=1.0, gt=0)


class InterviewTemplate(TemplatePart):
    """A structured interview for one role."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    role: str
    kind: Literal["technical", "behavioural", "mixed"]
    description: str = ""
    competencies: list[Competency] = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)
    time_budget_minutes: int = Field(default=45, ge=1, le=240)
    max_questions_per_competency: int = Field(default=4, ge=1)
    target_standard_error: float = Field(default=0.45, gt=0)
    max_follow_ups_per_question: int = Field(default=1, ge=0, le=5)

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: list[Question]) -> list[Question]:
        ids = [q.id for q in questions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"question ids repeat: {duplicates}")
        return questions

    @model_validator(mode="after")
    def _known_competencies(self) -> InterviewTemplate:
        known = {c.id for c in self.competencies}
        for question in self.questions:
            if question.competency not in known:
                raise ValueError(
                    f"question {question.id!r} names unknown competency {question.competency!r}"
                )
        return self

    def question(self, question_id: str) -> Question:
        """The question with this id (KeyError if absent)."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


def load_template(path: Path) -> InterviewTemplate:
    """Read and validate one YAML or JSON template file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path}: cannot read: {exc}") from exc
    try:
        return InterviewTemplate.model_validate(data)
    except ValidationError as exc:
        raise TemplateError(f"{path}: invalid template:\n{exc}") from exc


def load_templates(folder: Path = SHIPPED_TEMPLATES_DIR) -> list[InterviewTemplate]:
    """Every `*.yaml`, `*.yml` and `*.json` template in `folder`, sorted by slug."""
    if not folder.is_dir():
        raise TemplateError(f"{folder}: no such template folder")
    paths = sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    by_slug: dict[str, Path] = {}
    templates = []
    for path in paths:
        template = load_template(path)
        if template.slug in by_slug:
            raise TemplateError(
                f"{path} and {by_slug[template.slug]} both use the slug {template.slug!r}"
            )
        by_slug[template.slug] = path
        templates.append(template)
    return sorted(templates, key=lambda t: t.slug)
