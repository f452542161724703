"""Removes personal data (names, contacts, addresses, links, birth dates) from free text."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol

import faker.providers.person
import pyap
import textblob.en  # type: ignore[import-untyped]
from faker.providers.address import Provider as AddressProvider
from faker.providers.address.en_US import Provider as UsAddressProvider
from faker.providers.lorem.en_US import Provider as EnglishLoremProvider


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


class PiiKind(StrEnum):
    """A kind of personal data; its placeholder replaces it in scrubbed text."""

    NAME = "NAME"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    ADDRESS = "ADDRESS"
    URL = "URL"
    HANDLE = "HANDLE"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    ID_NUMBER = "ID_NUMBER"
    PERSONAL_DETAIL = "PERSONAL_DETAIL"

    @property
    def placeholder(self) -> str:
        """The text that stands in for removed data, e.g. "{{NAME}}"."""
        return "{{" + self.value + "}}"


@dataclass(frozen=True)
class PiiSpan:
    """Personal data found at characters `[start, end)` of a text."""

    start: int
    end: int
    kind: PiiKind


class PiiDetector(Protocol):
    """Finds one or more kinds of personal data in a text."""

    def find(self, text: str) -> Iterable[PiiSpan]: ...


# Phone numbers are only recognised in their national format for the region searched, so several
# common regions are searched; international (+CC) numbers are found by every one of them.
DEFAULT_PHONE_LOCALES = ("en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "en_AU", "es_ES", "nl_NL")

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?")
_INITIAL = re.compile(r"[A-Z]\.?")
_HONORIFICS = ("Mr", "Mrs", "Ms", "Mx", "Miss", "Dr", "Prof", "Sir", "Dame")
_HONORIFIC = re.compile(
    r"\b(?:" + "|".join(_HONORIFICS) + r")\.?\s+[A-Z][^\W\d_]*(?:['’\-][^\W\d_]+)*"
    r"(?:\s+[A-Z][^\W\d_]*(?:['’\-][^\W\d_]+)*){0,2}"
)
_INTRODUCTION = re.compile(
    r"\b(?:my name is|name's|i am|i'm|called|named)\s+"
    r"(?P<name>[^\W\d_]+(?:['’\-][^\W\d_]+)*(?:\s+[^\W\d_]+(?:['’\-][^\W\d_]+)*)?)",
    re.IGNORECASE,
)
_LABELLED_FIELD = re.compile(
    r"(?:^|(?<=[|•·;]))[ \t]*[-*•]?[ \t]*(?P<label>full name|name|home address|address|location|"
    r"phone|mobile|cell|tel|telephone|e-?mail|linkedin|github|gitlab|twitter|website|"
    r"portfolio|blog|homepage|skype|telegram|dob|d\.o\.b\.?|date of birth|birth ?date|birthday|"
    r"born|age|gender|sex|nationality|citizenship|marital status|religion)[ \t]*[:：][ \t]*"
    r"(?P<value>[^|•·;\n]*[^|•·;\n\s])",
    re.IGNORECASE | re.MULTILINE,
)
_LABEL_KINDS: dict[str, PiiKind] = {
    **dict.fromkeys(["full name", "name"], PiiKind.NAME),
    **dict.fromkeys(["home address", "address", "location"], PiiKind.ADDRESS),
    **dict.fromkeys(["phone", "mobile", "cell", "tel", "telephone"], PiiKind.PHONE),
    **dict.fromkeys(["email", "e-mail"], PiiKind.EMAIL),
    **dict.fromkeys(["skype", "telegram", "twitter"], PiiKind.HANDLE),
    **dict.fromkeys(
        ["linkedin", "github", "gitlab", "website", "portfolio", "blog", "homepage"],
        PiiKind.URL,
    ),
    **dict.fromkeys(
        ["dob", "d.o.b", "d.o.b.", "date of birth", "birthdate", "birth date", "birthday", "born"],
        PiiKind.DATE_OF_BIRTH,
    ),
    "age": PiiKind.DATE_OF_BIRTH,
}
_DOMAIN = re.compile(
    r"(?<![\w@.\-/])(?:https?://)?(?P<host>(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?P<tld>[a-z]{2,24}))"
    r"(?![\w\-])(?::\d+)?(?:/[^\s,;)\]>\"']*)?",
    re.IGNORECASE,
)
_SCHEME_URL = re.compile(r"\b(?:https?|ftp)://[^\s,;)\]>\"']+", re.IGNORECASE)
_GENERIC_TLDS = _wordset(
    "com org net edu gov io dev app ai me co info biz xyz tech site online page blog codes cloud "
    "design engineer engineering software ninja space website name pro work email live life studio "
    "one world digital solutions systems tools run"
)
# Country codes that are also source-file suffixes: "setup.py" or "README.md" is not a website.
_FILE_SUFFIX_TLDS = frozenset({"py", "rs", "pl", "md", "cc", "so", "ps", "ts", "sc", "mk", "am"})
_SHORT_LABEL_TLDS = frozenset({"com", "org", "net", "io", "dev", "ai", "me"})
_US_STATE_ZIP = re.compile(
    r"\b(?:" + "|".join(UsAddressProvider.states_abbr) + r")\s+\d{5}(?:-\d{4})?\b"
)
_CANADIAN_POSTCODE = re.compile(r"\b[A-Z]\d[A-Z][ \-]?\d[A-Z]\d\b")
_EUROPEAN_STREET = re.compile(
    r"(?:\b[^\W\d_]*(?:straße|strasse|str\.|weg|gasse|platz|allee|laan|straat|gatan|vägen|veien)"
    r"\s+\d+[a-z]?|\b(?:\d+[a-z]?,?\s+)?(?:rue|avenue|boulevard|via|viale|calle|avenida|rua|plaza|"
    r"piazza|carrer)\s+(?:[^\W\d_]+\s+){0,3}[^\W\d_]+(?:,?\s+\d+[a-z]?)?)"
    r"(?:,?\s+\d{4,5}\s+[A-Z][^\W\d_]+)?",
    re.IGNORECASE,
)
_PYAP_COUNTRIES: tuple[Literal["US", "GB", "CA"], ...] = ("US", "GB", "CA")
# Words that start many resume lines or headings and are never the owner's name.
_HEADING_WORDS = _wordset(
    "curriculum vitae resume résumé cv profile summary contact details experience education "
    "skills projects objective about me engineer developer programmer manager scientist analyst "
    "architect consultant designer intern senior junior lead staff principal head director "
    "software backend frontend full stack data platform cloud devops site reliability"
)
# Capitalised words in dates, job titles and company names that the name lists or the English
# lexicon get wrong ("May", "Mar" are names there; "Backend" is unknown to it).
_COMMON_CAPITALISED = _wordset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
    "saturday sunday mon tue wed thu fri sat sun present current today remote hybrid onsite "
    "inc ltd llc corp gmbh plc co pty ag sa se bv "
    "backend frontend fullstack devops devsecops sre fintech saas paas startup scaleup "
    "microservice microservices api apis app apps online website webapp ecommerce blockchain "
    "cybersecurity analytics dataset datasets pipeline pipelines middleware workflow workflows "
    "dashboard dashboards chatbot frameworks toolkit runtime realtime opensource "
    # Spoken answers open with fillers the lexicon does not know ("Hmm, it depends").
    "hmm hm mm um umm uh uhh er erm ah oh okay ok yeah yep nope"
)
_PROPER_NOUN_TAGS = frozenset({"NNP", "NNPS"})
_INFLECTIONS = ("ing", "ed", "es", "s", "ers", "er", "ly", "ment", "ments", "ation", "ations")


@dataclass(frozen=True)
class NameLexicon:
    """Known personal names, and known English words, to tell "Maria" from "Date" or "Will"."""

    names: frozenset[str]
    """Lower-cased first and last names."""
    english_words: frozenset[str]
    """Lower-cased words used as common (not proper) nouns, verbs, adjectives…"""
    proper_nouns: frozenset[str]
    """Lower-cased words that a dictionary lists capitalised as proper nouns."""

    @classmethod
    def from_packages(cls) -> NameLexicon:
        """Names from every locale Faker ships; English words from TextBlob's Brill lexicon."""
        names: set[str] = set()
        for module_info in pkgutil.iter_modules(faker.providers.person.__path__):
            provider = importlib.import_module(
                f"faker.providers.person.{module_info.name}"
            ).Provider
            for attribute in (
                "first_names",
                "first_names_male",
                "first_names_female",
                "last_names",
            ):
                names.update(_alphabetic_lower(getattr(provider, attribute, ())))
        english = {word.lower() for word in EnglishLoremProvider.word_list}
        proper: set[str] = set()
        for word, tag in textblob.en.lexicon.items():
            if tag in _PROPER_NOUN_TAGS and word[:1].isupper():
                proper.add(word.lower())
            elif word.islower():
                english.add(word)
        return cls(frozenset(names), frozenset(english | _COMMON_CAPITALISED), frozenset(proper))

    def is_name(self, word: str) -> bool:
        """Whether any hyphen/apostrophe part of `word` is a known first or last name."""
        return any(part in self.names for part in _name_parts(word))

    def is_strong_name(self, word: str) -> bool:
        """A known name not mainly an English word: "Maria" or "Mark", not "Date", "Will", "May"."""
        parts = [p for p in _name_parts(word) if p in self.names]
        return any(
            p not in _COMMON_CAPITALISED and (p not in self.english_words or p in self.proper_nouns)
            for p in parts
        )

    def is_unknown_word(self, word: str) -> bool:
        """Neither an English word nor a dictionary proper noun, so likely a rare name."""
        parts = _name_parts(word)
        return bool(parts) and not any(self.is_english(p) or p in self.proper_nouns for p in parts)

    def is_english(self, word: str) -> bool:
        """Whether lower-case `word`, or its stem ("mentored"), is an English word."""
        if word in self.english_words:
            return True
        for suffix in _INFLECTIONS:
            stem = word.removesuffix(suffix)
            if stem != word and len(stem) >= 3:
                if stem in self.english_words or stem + "e" in self.english_words:
                    return True
                if stem[-1] == stem[-2] and stem[:-1] in self.english_words:
                    return True  # doubled consonant: "shipped", "planning"
        return False


def _name_parts(word: str) -> list[str]:
    return [p for p in re.split(r"['’\-]", word.rstrip(".").lower()) if len(p) > 1]


def _alphabetic_lower(names: Any) -> Iterator[str]:
    # Some providers expose names as properties or weighted dicts; only real strings count.
    if not isinstance(names, list | tuple | dict):
        return
    for name in names:
        if isinstance(name, str) and _WORD.fullmatch(name):
            yield name.lower()


class ScrubadubDetector:
    """Adapts one scrubadub detector, reporting what it finds (and `accept`s) as one kind."""

    def __init__(
        self, detector: Any, kind: PiiKind, accept: Callable[[str], bool] | None = None
    ) -> None:
        self._detector = detector
        self._kind = kind
        self._accept = accept

    def find(self, text: str) -> Iterator[PiiSpan]:
        for filth in self._detector.iter_filth(text):
            start, end = int(filth.beg), int(filth.end)
            if self._accept is None or self._accept(text[start:end]):
                yield PiiSpan(start, end, self._kind)


class NameDetector:
    """Capitalised runs holding a known or unknown-to-English name, honorifics, introductions."""

    def __init__(self, lexicon: NameLexicon, protected_words: frozenset[str]) -> None:
        self._lexicon = lexicon
        self._protected = protected_words

    def find(self, text: str) -> Iterator[PiiSpan]:
        yield from self._capitalised_runs(text)
        for match in _HONORIFIC.finditer(text):
            yield PiiSpan(match.start(), match.end(), PiiKind.NAME)
        for match in _INTRODUCTION.finditer(text):
            words = list(_WORD.finditer(match.group("name")))
            keep = [w for w in words if self._is_introduced_name(w.group())]
            if keep and keep[0] is words[0]:
                offset = match.start("name")
                yield PiiSpan(offset + keep[0].start(), offset + keep[-1].end(), PiiKind.NAME)

    def _is_introduced_name(self, word: str) -> bool:
        bare = word.rstrip(".").lower()
        if bare in self._protected or (bare in self._lexicon.english_words and word.islower()):
            return False
        return word[0].isupper() or self._lexicon.is_name(word)

    def _capitalised_runs(self, text: str) -> Iterator[PiiSpan]:
        run: list[re.Match[str]] = []
        for match in _WORD.finditer(text):
            if run and not self._continues_run(text, run[-1], match):
                yield from self._judge_run(run)
                run = []
            if self._is_capitalised_candidate(match.group()) and not _glued_to_digits(match):
                run.append(match)
            elif run:
                yield from self._judge_run(run)
                run = []
        yield from self._judge_run(run)

    @staticmethod
    def _continues_run(text: str, previous: re.Match[str], current: re.Match[str]) -> bool:
        gap = text[previous.end() : current.start()]
        word = previous.group()
        if word.endswith(".") and not (_INITIAL.fullmatch(word) or word[:-1] in _HONORIFICS):
            return False  # a full stop ends the sentence, and the run with it
        return gap in {" ", "\t"} or (word.endswith(".") and gap == "")

    def _is_capitalised_candidate(self, word: str) -> bool:
        # A skill that is also a name ("Julia", "Ruby") may join a run, so "Julia Roberts" goes.
        return word[0].isupper() and (not self._is_protected(word) or self._lexicon.is_name(word))

    def _is_protected(self, word: str) -> bool:
        return word.rstrip(".").lower() in self._protected

    def _judge_run(self, run: list[re.Match[str]]) -> Iterator[PiiSpan]:
        words = [m.group().rstrip(".") for m in run]
        if len(words) == 1 and words[0].isupper() and len(words[0]) <= 3:
            return  # a lone short acronym ("RAM", "IDE") even where it spells a name
        strong = any(
            not self._is_protected(w)
            and (self._lexicon.is_strong_name(w) or self._is_unknown_titlecase(w))
            for w in words
        )
        is_part = [self._is_name_part(m.group()) for m in run]
        if not strong:
            return
        # Trim leading and trailing words such as "Senior" that are neither names nor initials.
        first = is_part.index(True)
        last = len(is_part) - 1 - is_part[::-1].index(True)
        end = run[last].end()
        if run[last].group().endswith(".") and _INITIAL.fullmatch(run[last].group()) is None:
            end -= 1  # a sentence's full stop, not an initial's
        if run[last].group().rstrip(".").endswith(("'s", "’s")):
            end -= 2  # keep the possessive: "{{NAME}}'s team" still reads
        yield PiiSpan(run[first].start(), end, PiiKind.NAME)

    def _is_name_part(self, word: str) -> bool:
        return (
            self._lexicon.is_name(word)
            or self._is_unknown_titlecase(word.rstrip("."))
            or _INITIAL.fullmatch(word) is not None
        )

    def _is_unknown_titlecase(self, word: str) -> bool:
        # Title case only: acronyms ("AWS") and camel case ("FastAPI") are product names.
        head = re.split(r"['’\-]", word)[0]
        is_title = len(head) >= 2 and head[0].isupper() and head[1:].islower()
        return len(word) >= 3 and is_title and self._lexicon.is_unknown_word(word)


def _glued_to_digits(match: re.Match[str]) -> bool:
    # "Auth0", "S3" and "EC2" are product names: a name is never written with digits attached.
    text = match.string
    before = text[match.start() - 1] if match.start() > 0 else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return before.isdigit() or after.isdigit() or after == "_"


class LabelledFieldDetector:
    """Values of fields such as "Phone:", "Address:", "GitHub:" or "Date of birth:"."""

    def find(self, text: str) -> Iterator[PiiSpan]:
        for match in _LABELLED_FIELD.finditer(text):
            label = " ".join(match.group("label").lower().split())
            kind = _LABEL_KINDS.get(label, PiiKind.PERSONAL_DETAIL)
            yield PiiSpan(match.start("value"), match.end("value"), kind)


class LinkDetector:
    """Links with or without a scheme, such as "linkedin.com/in/someone" or "someone.dev"."""

    def __init__(self, protected_words: frozenset[str]) -> None:
        self._protected = protected_words
        self._country_codes = frozenset(c.lower() for c in AddressProvider.alpha_2_country_codes)

    def find(self, text: str) -> Iterator[PiiSpan]:
        for match in _SCHEME_URL.finditer(text):
            yield PiiSpan(match.start(), match.end(), PiiKind.URL)
        for match in _DOMAIN.finditer(text):
            if self._is_link(match.group("host").lower(), match.group("tld").lower()):
                yield PiiSpan(match.start(), match.end(), PiiKind.URL)

    def _is_link(self, host: str, tld: str) -> bool:
        if host in self._protected:
            return False
        if len(host.split(".")[-2]) < 2 and tld not in _SHORT_LABEL_TLDS:
            return False
        if tld in _GENERIC_TLDS:
            return True
        return tld in self._country_codes | {"uk", "eu"} and tld not in _FILE_SUFFIX_TLDS


class AddressDetector:
    """Street addresses (pyap for US, UK and Canada, plus European street forms) and postcodes."""

    def find(self, text: str) -> Iterator[PiiSpan]:
        for country in _PYAP_COUNTRIES:
            for address in pyap.parse(text, country=country):
                if address.match_start is not None and address.match_end is not None:
                    yield PiiSpan(address.match_start, address.match_end, PiiKind.ADDRESS)
        for pattern in (_US_STATE_ZIP, _CANADIAN_POSTCODE, _EUROPEAN_STREET):
            for match in pattern.finditer(text):
                yield PiiSpan(match.start(), match.end(), PiiKind.ADDRESS)


def default_detectors(
    lexicon: NameLexicon,
    protected_words: frozenset[str],
    phone_locales: Sequence[str] = DEFAULT_PHONE_LOCALES,
) -> list[PiiDetector]:
    """scrubadub's detectors that work offline, plus this module's own."""
    # scrubadub imports nltk and takes seconds: only pay for it when a scrubber is built.
    from scrubadub.detectors import (
        CredentialDetector,
        CreditCardDetector,
        DateOfBirthDetector,
        EmailDetector,
        PhoneDetector,
        PostalCodeDetector,
        SkypeDetector,
        TwitterDetector,
        UrlDetector,
    )
    from scrubadub.detectors.en_GB import NationalInsuranceNumberDetector
    from scrubadub.detectors.en_US import SocialSecurityNumberDetector

    detectors: list[PiiDetector] = [
        ScrubadubDetector(EmailDetector(), PiiKind.EMAIL),
        ScrubadubDetector(UrlDetector(), PiiKind.URL),
        ScrubadubDetector(TwitterDetector(), PiiKind.HANDLE),
        ScrubadubDetector(SkypeDetector(), PiiKind.HANDLE),
        ScrubadubDetector(PostalCodeDetector(locale="en_GB"), PiiKind.ADDRESS),
        ScrubadubDetector(DateOfBirthDetector(), PiiKind.DATE_OF_BIRTH, _looks_like_a_date),
        ScrubadubDetector(CreditCardDetector(), PiiKind.ID_NUMBER),
        ScrubadubDetector(CredentialDetector(), PiiKind.ID_NUMBER),
        ScrubadubDetector(SocialSecurityNumberDetector(locale="en_US"), PiiKind.ID_NUMBER),
        ScrubadubDetector(NationalInsuranceNumberDetector(locale="en_GB"), PiiKind.ID_NUMBER),
    ]
    detectors += [
        ScrubadubDetector(PhoneDetector(name=f"phone_{locale}", locale=locale), PiiKind.PHONE)
        for locale in phone_locales
    ]
    detectors += [
        NameDetector(lexicon, protected_words),
        LabelledFieldDetector(),
        LinkDetector(protected_words),
        AddressDetector(),
    ]
    return detectors


def _looks_like_a_date(found: str) -> bool:
    # dateparser also reads durations ("8 years of") as dates; a birth date names a year or d/m/y.
    return re.search(r"\b(?:19|20)\d{2}\b|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}", found) is not None


# When spans of different kinds overlap, the longest wins; on a tie, the earlier kind here.
_KIND_PRIORITY = (
    PiiKind.EMAIL,
    PiiKind.URL,
    PiiKind.PHONE,
    PiiKind.ADDRESS,
    PiiKind.DATE_OF_BIRTH,
    PiiKind.ID_NUMBER,
    PiiKind.HANDLE,
    PiiKind.NAME,
    PiiKind.PERSONAL_DETAIL,
)
_HEADER_LINES = 5
_HEADER_SEPARATORS = re.compile(r"\s*(?:[|•·,;–—\t]|\s{3,})\s*")


class PiiScrubber:
    """Replaces personal data in text with placeholders such as "{{NAME}}" (blocking, CPU-bound).

    `protected_terms` (skills such as "Python", "Node.js") are never taken for names or links.
    """

    def __init__(
        self,
        *,
        protected_terms: Iterable[str] = (),
        lexicon: NameLexicon | None = None,
        detectors: Sequence[PiiDetector] | None = None,
    ) -> None:
        terms = {term.lower() for term in protected_terms}
        # "Node.js" protects "node.js" as a link and "node" as a word; "Ruby on Rails" each word.
        words = {word for term in terms for word in re.split(r"[^\w#+]+", term) if word}
        self._protected = frozenset(terms | words)
        self._lexicon = lexicon if lexicon is not None else NameLexicon.from_packages()
        self._detectors: list[PiiDetector] = (
            list(detectors)
            if detectors is not None
            else default_detectors(self._lexicon, self._protected)
        )

    def scrub(self, text: str) -> str:
        """`text` with every piece of personal data found replaced by its placeholder."""
        return _replace(text, self.find(text))

    def scrub_document(self, text: str) -> str:
        """Like `scrub`, also taking a name-shaped heading (atop a resume) as the owner's name."""
        return _replace(text, self.find(text, document=True))

    def find(self, text: str, *, document: bool = False) -> list[PiiSpan]:
        """Non-overlapping spans of personal data in `text`, in order."""
        spans = [
            span
            for detector in self._detectors
            for span in detector.find(text)
            if span.end > span.start and not self._is_protected(text[span.start : span.end])
        ]
        if document:
            spans += self._document_owner(text)
        spans += self._recurrences(text, [s for s in spans if s.kind is PiiKind.NAME])
        return _merge(spans)

    def _is_protected(self, found: str) -> bool:
        return found.lstrip("@").rstrip(".").lower() in self._protected

    def _document_owner(self, text: str) -> list[PiiSpan]:
        offset = 0
        seen_lines = 0
        for line in text.splitlines(keepends=True):
            if line.strip():
                seen_lines += 1
                segment = _HEADER_SEPARATORS.split(line.strip())[0]
                if self._is_name_shaped(segment):
                    start = offset + line.index(segment)
                    return [PiiSpan(start, start + len(segment), PiiKind.NAME)]
                if seen_lines >= _HEADER_LINES:
                    break
            offset += len(line)
        return []

    def _is_name_shaped(self, segment: str) -> bool:
        words = segment.split()
        if not 2 <= len(words) <= 4:
            return False
        for word in words:
            bare = word.rstrip(".").lower()
            if not _WORD.fullmatch(word) or not word[0].isupper():
                return False
            if bare in _HEADING_WORDS or bare in self._protected:
                return False
        return True

    def _recurrences(self, text: str, names: list[PiiSpan]) -> list[PiiSpan]:
        # A name found once is removed wherever it recurs, also inside handles such as "jdoe_42".
        words = {
            word.rstrip(".").lower()
            for span in names
            for word in _WORD.findall(text[span.start : span.end])
        }
        words = {
            w
            for w in words
            if len(w) >= 3 and w not in self._protected and w not in _COMMON_CAPITALISED
        }
        if not words:
            return []
        compounds = {a + b for a in words for b in words if a != b}
        compounds |= {a[0] + b for a in words for b in words if a != b}
        found: list[PiiSpan] = []
        for match in re.finditer(r"[\w.\-@/]+", text):
            original = match.group().rstrip(".-/")
            token = original.lower()
            if not set(re.split(r"[\d_.@/\-]+", token)) & (words | compounds):
                continue
            if token in words and original.islower() and self._lexicon.is_english(token):
                continue  # "Will Smith" leaves "we will ship" alone
            kind = PiiKind.NAME if token in words else PiiKind.HANDLE
            found.append(PiiSpan(match.start(), match.start() + len(original), kind))
        return found


def _merge(spans: list[PiiSpan]) -> list[PiiSpan]:
    merged: list[PiiSpan] = []
    for group in _overlapping_groups(sorted(spans, key=lambda s: (s.start, -s.end))):
        winner = max(group, key=lambda s: (s.end - s.start, -_KIND_PRIORITY.index(s.kind)))
        merged.append(PiiSpan(group[0].start, max(s.end for s in group), winner.kind))
    return merged


def _overlapping_groups(spans: list[PiiSpan]) -> Iterator[list[PiiSpan]]:
    group: list[PiiSpan] = []
    group_end = 0
    for span in spans:
        if group and span.start >= group_end:
            yield group
            group = []
        group_end = max(group_end, span.end) if group else span.end
        group.append(span)
    if group:
        yield group


def _replace(text: str, spans: list[PiiSpan]) -> str:
    parts: list[str] = []
    position = 0
    for span in spans:
        parts += [text[position : span.start], span.kind.placeholder]
        position = span.end
    parts.append(text[position:])
    return "".join(parts)
