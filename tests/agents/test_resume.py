"""Resumes (text and PDF) are scrubbed first, then read for skills, experience and a plan."""

from __future__ import annotations

from datetime import date

import pytest

from codesage.agents.pii import PiiScrubber
from codesage.agents.resume import (
    MAX_RESUME_BYTES,
    ResumeError,
    ResumeProfile,
    SkillVocabulary,
    parse_resume,
    plan_for_resume,
    priority_skills,
    resume_scrubber,
)
from codesage.agents.template import (
    Competency,
    InterviewTemplate,
    Question,
    Rubric,
    RubricLevel,
)

TEXT_RESUME = """\
Jonas Whitfield-Mbeki
Senior Backend Engineer
jonas.whitfield@example.com | +1 (415) 555-0142 | linkedin.com/in/jonas-wm | github.com/jwmbeki
221B Baker Street, London NW1 6XE

Summary
Backend engineer with 7 years of experience in Python, Postgres and k8s.

Experience
Senior Backend Engineer, Northwind Ltd
Mar 2020 - Present
- Led a team of 4 engineers moving a Django monolith to FastAPI services with asyncio.
- Cut p99 latency from 900 ms to 150 ms with Redis caching and query tuning in PostgreSQL.
- Mentored two junior engineers and introduced pytest with 90% coverage.
- Built the billing API in Python with Maria Gonzalez; write-up at jwmbeki.github.io/billing.

Education
BSc Computer Science, 2010 - 2014
"""
PERSONAL_DATA = [
    "Jonas",
    "Whitfield",
    "Mbeki",
    "jonas.whitfield@example.com",
    "555-0142",
    "linkedin.com/in/jonas-wm",
    "jwmbeki",
    "Baker Street",
    "NW1 6XE",
    "Gonzalez",
    "github.io",
]


@pytest.fixture(scope="module")
def scrubber() -> PiiScrubber:
    return resume_scrubber()


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF showing `lines` in Helvetica, written by hand."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    text_ops = " ".join(f"({line}) Tj T*" for line in escaped)
    stream = f"BT /F1 11 Tf 14 TL 72 760 Td {text_ops} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return pdf


def test_a_text_resume_yields_skills_experience_and_seniority(scrubber: PiiScrubber) -> None:
    profile = parse_resume(TEXT_RESUME.encode(), "resume.txt", scrubber=scrubber)
    for tag in ("python", "postgresql", "kubernetes", "django", "fastapi", "asyncio", "redis"):
        assert tag in profile.skills
    for tag in ("testing", "leadership", "mentoring", "sql"):
        assert tag in profile.skills
    assert profile.skills[0] in {"python", "postgresql"}
    assert profile.years_experience == 7.0
    assert profile.seniority == "senior"
    assert any("Django monolith to FastAPI" in line for line in profile.highlights)


def test_nothing_personal_survives_into_the_profile(scrubber: PiiScrubber) -> None:
    profile = parse_resume(TEXT_RESUME.encode(), "text/plain", scrubber=scrubber)
    assert [item for item in PERSONAL_DATA if item.lower() in repr(profile).lower()] == []


def test_experience_is_summed_from_work_dates_when_not_stated(scrubber: PiiScrubber) -> None:
    resume = (
        "Experience\nSoftware Engineer, Initech\nJan 2018 – Present\n- Built Go services.\n"
        "Developer, Hooli\nMar 2015 – Dec 2017\n- Wrote Java.\n"
        "Contractor, Vandelay\nJun 2017 – Feb 2018\n- Shipped React apps.\n"
        "Education\nUniversity, 2010 – 2014\n"
    )
    profile = parse_resume(resume.encode(), "cv.md", scrubber=scrubber, today=date(2025, 6, 30))
    # Mar 2015 … Jun 2025, overlaps counted once, study excluded: 10 years 4 months.
    assert profile.years_experience == pytest.approx(10.3, abs=0.05)
    assert profile.seniority == "staff"
    assert {"go", "java", "react"} <= set(profile.skills)


def test_a_pdf_resume_is_read_and_scrubbed(scrubber: PiiScrubber) -> None:
    pdf = make_pdf(
        [
            "Ines Valcourt-Dubois",
            "ines.valcourt@example.fr | +33 6 12 34 56 78",
            "Junior Python Developer",
            "Built REST APIs with Flask and PostgreSQL; wrote unit tests with pytest.",
            "Deployed with Docker on AWS.",
        ]
    )
    profile = parse_resume(pdf, "application/pdf", scrubber=scrubber)
    assert {"python", "flask", "postgresql", "rest", "testing", "docker", "aws"} <= set(
        profile.skills
    )
    assert profile.seniority == "junior"
    assert "Ines" not in repr(profile) and "Valcourt" not in repr(profile)


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (b"%PDF-1.4\nthis is not really a pdf", "resume.pdf", "cannot be read"),
        (b"", "resume.txt", "empty"),
        (b"  \n\t \n", "resume.txt", "empty"),
        (b"---- ... ----", "resume.txt", "no text"),
        (b"a" * (MAX_RESUME_BYTES + 1), "resume.txt", "limit"),
        (b"PK\x03\x04 word document", "resume.docx", "unsupported"),
        (b"binary\x00junk", "text/plain", "not plain text"),
    ],
)
def test_unusable_files_raise_a_clear_resume_error(
    scrubber: PiiScrubber, data: bytes, kind: str, message: str
) -> None:
    with pytest.raises(ResumeError, match=message):
        parse_resume(data, kind, scrubber=scrubber)


def test_a_pdf_without_text_raises_resume_error(scrubber: PiiScrubber) -> None:
    with pytest.raises(ResumeError, match="no text"):
        parse_resume(make_pdf([]), "scan.pdf", scrubber=scrubber)


def question(qid: str, skills: list[str], difficulty: int, competency: str = "backend") -> Question:
    return Question(
        id=qid,
        text=f"Tell me about {qid}.",
        competency=competency,
        difficulty=difficulty,
        skills=skills,
        rubric=Rubric(levels=[RubricLevel(level=3, anchor="Explains it with an example.")]),
    )


@pytest.fixture
def template() -> InterviewTemplate:
    return InterviewTemplate(
        slug="backend",
        title="Backend engineer",
        role="Backend engineer",
        kind="technical",
        competencies=[
            Competency(id="backend", name="Backend"),
            Competency(id="teamwork", name="Teamwork"),
        ],
        questions=[
            question("css-layout", ["css"], 3),
            question("team-conflict", ["leadership"], 2, "teamwork"),
            question("python-easy", ["python"], 2),
            question("postgres-indexes", ["Postgres"], 3),
            question("async-python", ["python", "asyncio"], 4),
            question("python-hard", ["python"], 4),
        ],
    )


def profile(skills: list[str], seniority: str | None) -> ResumeProfile:
    return ResumeProfile(skills=skills, years_experience=None, seniority=seniority, highlights=[])


def test_questions_probing_the_resume_come_first(template: InterviewTemplate) -> None:
    plan = plan_for_resume(template, profile(["python", "postgresql", "asyncio"], "senior"))
    assert plan == [
        "async-python",  # probes two resume skills
        "python-hard",  # one skill, most mentioned, difficulty fits a senior
        "python-easy",
        "postgres-indexes",  # template spells it "Postgres": normalised to the tag
        "css-layout",  # probes nothing on the resume; difficulty 3 is nearer a senior's 4
        "team-conflict",
    ]


def test_seniority_orders_questions_of_equal_overlap(template: InterviewTemplate) -> None:
    plan = plan_for_resume(template, profile(["python"], "junior"))
    assert plan.index("python-easy") < plan.index("python-hard")
    assert set(plan) == {q.id for q in template.questions}


def test_priority_skills_are_the_resume_skills_the_template_probes(
    template: InterviewTemplate,
) -> None:
    resume = profile(["rust", "postgresql", "python", "kafka"], None)
    assert priority_skills(template, resume) == ["postgresql", "python"]


def test_the_vocabulary_maps_synonyms_to_template_tags() -> None:
    vocabulary = SkillVocabulary.default()
    assert vocabulary.normalize("Postgres") == "postgresql"
    assert vocabulary.normalize("k8s") == "kubernetes"
    assert vocabulary.normalize("pytest") == "testing"
    assert vocabulary.normalize("Elixir") == "elixir"
    counts = vocabulary.count_mentions("Go and golang; going to Google. Node.js, not node")
    assert counts["go"] == 2
    assert counts["node"] == 2
