"""PiiScrubber removes names, contacts, addresses, links, handles and birth dates, not skills."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest

from codesage.agents.pii import (
    NameLexicon,
    PiiKind,
    PiiScrubber,
    PiiSpan,
    default_detectors,
)
from codesage.agents.resume import SkillVocabulary

RESUME = """\
Priyanka Ramaswamy-Okafor
Senior Backend Engineer | Berlin, Germany
priyanka.ro@gmail.com · +49 151 23456789 · (415) 555-0199
linkedin.com/in/priyanka-ro · https://github.com/pramaswamy · pramaswamy.dev · @pri_codes
Address: 742 Evergreen Terrace, Springfield, IL 62704
Date of birth: 14 February 1992

Summary
Backend engineer with 9 years of experience building Python services on PostgreSQL and
Kubernetes, with asyncio, Django, FastAPI, Redis and AWS.

Experience
- Led a team of 5 engineers; mentored Tobias Schmidt and Aoife Byrne.
- Priyanka's team cut p99 latency from 800 ms to 120 ms with asyncio and Redis.
References: Dr. Helen Okonkwo, helen.okonkwo@unilag.edu.ng
"""

PERSONAL_DATA = [
    "Priyanka",
    "Ramaswamy",
    "Okafor",
    "priyanka.ro@gmail.com",
    "23456789",
    "555-0199",
    "linkedin.com/in/priyanka-ro",
    "github.com/pramaswamy",
    "pramaswamy.dev",
    "pri_codes",
    "742 Evergreen",
    "62704",
    "1992",
    "Tobias",
    "Schmidt",
    "Aoife",
    "Byrne",
    "Helen",
    "Okonkwo",
    "unilag",
]
SKILLS = ["Python", "PostgreSQL", "Kubernetes", "asyncio", "Django", "FastAPI", "Redis", "AWS"]


@pytest.fixture(scope="module")
def scrubber() -> PiiScrubber:
    return PiiScrubber(protected_terms=SkillVocabulary.default().terms())


def test_a_resume_loses_every_piece_of_personal_data(scrubber: PiiScrubber) -> None:
    scrubbed = scrubber.scrub_document(RESUME)
    survivors = [item for item in PERSONAL_DATA if item.lower() in scrubbed.lower()]
    assert survivors == []


def test_a_resume_keeps_its_skills_and_shows_placeholders(scrubber: PiiScrubber) -> None:
    scrubbed = scrubber.scrub_document(RESUME)
    assert [skill for skill in SKILLS if skill not in scrubbed] == []
    for placeholder in ("{{NAME}}", "{{EMAIL}}", "{{PHONE}}", "{{URL}}", "{{ADDRESS}}"):
        assert placeholder in scrubbed
    assert "Date of birth: {{DATE_OF_BIRTH}}" in scrubbed
    assert "{{NAME}}'s team cut p99 latency" in scrubbed


def test_a_heading_name_unknown_to_any_list_is_removed_where_it_recurs(
    scrubber: PiiScrubber,
) -> None:
    resume = "Qorvath Zelinski\nPython developer.\nqorvathz@example.org\nZelinski built the API."
    scrubbed = scrubber.scrub_document(resume)
    assert "Qorvath" not in scrubbed
    assert "Zelinski" not in scrubbed
    assert scrubbed.splitlines()[1] == "Python developer."


def test_speech_loses_introduced_and_titled_names(scrubber: PiiScrubber) -> None:
    answer = "hi, my name is tomasz and I pair with Dr. Qwerty on the Kafka consumers"
    scrubbed = scrubber.scrub(answer)
    assert "tomasz" not in scrubbed
    assert "Qwerty" not in scrubbed
    assert "Kafka consumers" in scrubbed


def test_skill_and_everyday_words_are_not_taken_for_personal_data(scrubber: PiiScrubber) -> None:
    text = (
        "We ran Kubernetes with Helm, Jenkins and Ruby on Rails; tests used pytest and setup.py. "
        "Will it scale? Date of the launch: May 2019 – Present. The Node.js and ASP.NET services "
        "talk over Socket.IO. Mentored engineers and shipped Go and Rust."
    )
    assert scrubber.scrub(text) == text


def test_links_without_a_scheme_are_found_but_file_names_are_not(scrubber: PiiScrubber) -> None:
    scrubbed = scrubber.scrub("See janedoe.io/blog and gitlab.com/jd, not README.md or main.py")
    assert scrubbed == "See {{URL}} and {{URL}}, not README.md or main.py"


def test_spans_are_ordered_and_never_overlap(scrubber: PiiScrubber) -> None:
    spans = scrubber.find(RESUME, document=True)
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    email = RESUME.index("priyanka.ro@gmail.com")
    assert PiiSpan(email, email + len("priyanka.ro@gmail.com"), PiiKind.EMAIL) in spans


class EmployeeNumberDetector:
    """A site-specific detector a deployment adds to the defaults."""

    def find(self, text: str) -> Iterator[PiiSpan]:
        for match in re.finditer(r"\bEMP-\d{4,}\b", text):
            yield PiiSpan(match.start(), match.end(), PiiKind.ID_NUMBER)


def test_extra_detectors_can_be_passed_in() -> None:
    lexicon = NameLexicon.from_packages()
    detectors = [*default_detectors(lexicon, frozenset()), EmployeeNumberDetector()]
    scrubber = PiiScrubber(lexicon=lexicon, detectors=detectors)
    scrubbed = scrubber.scrub("Badge EMP-20931, mail ops@example.com")
    assert scrubbed == "Badge {{ID_NUMBER}}, mail {{EMAIL}}"


def test_the_name_lexicon_tells_names_from_words() -> None:
    lexicon = NameLexicon.from_packages()
    assert lexicon.is_strong_name("Maria")
    assert not lexicon.is_strong_name("Date")
    assert not lexicon.is_strong_name("May")
    assert lexicon.is_unknown_word("Zelinski")
    assert not lexicon.is_unknown_word("Mentored")
