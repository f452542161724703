"""Reads a PDF or text resume, scrubs it of personal data, and plans questions on its skills."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from codesage.agents.pii import PiiScrubber
from codesage.agents.template import InterviewTemplate

MAX_RESUME_BYTES = 5 * 1024 * 1024
MAX_PDF_PAGES = 30
MAX_HIGHLIGHTS = 8
MAX_HIGHLIGHT_CHARS = 200


class ResumeError(Exception):
    """A resume that cannot be used: too large, unreadable, of an unsupported type, or empty."""


@dataclass(frozen=True)
class SkillEntry:
    """One skill tag and the ways resumes write it; `exact` forms match case-sensitively."""

    tag: str
    synonyms: tuple[str, ...]
    exact: tuple[str, ...] = ()
    implies: tuple[str, ...] = ()


def _skill(
    tag: str, *synonyms: str, exact: tuple[str, ...] = (), implies: tuple[str, ...] = ()
) -> SkillEntry:
    spellings = dict.fromkeys((tag, tag.replace("-", " "), *synonyms))  # ordered, no repeats
    return SkillEntry(tag, tuple(spellings), exact, implies)


# Tools known by one name. They are skills in their own right and, as skill words, are kept
# from the PII scrubber. Those that are also English words match only when capitalised.
_PLAIN_TOOLS = """
objective-c lua perl haskell clojure erlang elixir ocaml fsharp julia matlab fortran cobol groovy
solidity zig html css sass tailwind jquery redux svelte webpack vite storybook android ios xcode
xamarin tauri nginx tomcat gunicorn uvicorn traefik istio linkerd haproxy hadoop trino flink
databricks redshift clickhouse cassandra neo4j influxdb timescaledb cockroachdb duckdb metabase
tableau looker selenium cypress playwright postman heroku netlify vercel cloudflare firebase
supabase digitalocean openstack vagrant argocd jira confluence figma okta auth0 keycloak prisma
sequelize hibernate typeorm maven gradle bazel cmake npm conda kibana logstash fluentd jaeger
splunk pagerduty nats zeromq sqs kinesis keras mlflow kubeflow langchain huggingface
"""
_CAPITALISED_TOOLS = """
Swift Dart Unity Electron Bootstrap Ember Envoy Hive Presto Pulsar Mocha Sentry Vault Consul
Nomad Packer Apache Notion Flutter Ionic Babel Yarn Poetry Superset
"""

# Tags match the lowercase `skills` tags of interview templates.
DEFAULT_SKILLS: tuple[SkillEntry, ...] = (
    _skill("python", "python3", "cpython"),
    _skill("asyncio", "async/await", "async io", "asynchronous python", implies=("python",)),
    _skill("django", "django rest framework", "drf", implies=("python",)),
    _skill("fastapi", "fast api", implies=("python",)),
    _skill("flask", implies=("python",)),
    _skill("aiohttp", implies=("python", "asyncio")),
    _skill("celery", implies=("python",)),
    _skill("sqlalchemy", implies=("python", "sql")),
    _skill("pydantic", implies=("python",)),
    _skill("pandas", "numpy", "scipy", implies=("python",)),
    _skill("java", "jvm", "spring boot", "spring framework"),
    _skill("kotlin"),
    _skill("scala"),
    _skill("go", "golang", exact=("Go",)),
    _skill("rust", "rustlang"),
    _skill("cpp", "c++", "cplusplus"),
    _skill("csharp", "c#", ".net", "asp.net", "dotnet"),
    _skill("javascript", "ecmascript", "es6", exact=("JS",)),
    _skill("typescript", exact=("TS",)),
    _skill("node", "node.js", "nodejs", "express.js", implies=("javascript",)),
    _skill("react", "react.js", "reactjs", "next.js", implies=("javascript",)),
    _skill("vue", "vue.js", "vuejs", "nuxt", implies=("javascript",)),
    _skill("angular", "angularjs", implies=("javascript",)),
    _skill("ruby", "ruby on rails", "rails"),
    _skill("php", "laravel", "symfony"),
    _skill("bash", "shell scripting", "shell scripts", "zsh"),
    _skill("sql", "t-sql", "pl/sql", "sql queries", "relational databases"),
    _skill("postgresql", "postgres", "psql", "postgis", "asyncpg", implies=("sql",)),
    _skill("mysql", "mariadb", implies=("sql",)),
    _skill("sqlite", implies=("sql",)),
    _skill("mongodb", "mongo"),
    _skill("redis", "redis streams", "valkey"),
    _skill("elasticsearch", "elastic search", "opensearch"),
    _skill("kafka", "apache kafka", "kafka streams"),
    _skill("rabbitmq", "rabbit mq", "amqp"),
    _skill("spark", "pyspark", "apache spark"),
    _skill("airflow", "apache airflow"),
    _skill("graphql"),
    _skill("websockets", "websocket", "socket.io", "webrtc"),
    _skill("grpc", "protobuf", "protocol buffers"),
    _skill("rest", "restful", "rest api", "rest apis", exact=("REST",)),
    _skill("api-design", "api design", "openapi", "swagger"),
    _skill("aws", "amazon web services", "ec2", "s3", "aws lambda", "dynamodb", "cloudformation"),
    _skill("gcp", "google cloud", "google cloud platform", "bigquery"),
    _skill("azure", "microsoft azure"),
    _skill("docker", "dockerfile", "docker compose", "containers", "containerization"),
    _skill("kubernetes", "k8s", "kubectl", "helm", "eks", "gke", "aks", "openshift"),
    _skill("terraform", "infrastructure as code", "pulumi", "cloudformation"),
    _skill("ansible", "puppet", "chef"),
    _skill(
        "ci-cd",
        "ci/cd",
        "continuous integration",
        "continuous delivery",
        "continuous deployment",
        "github actions",
        "gitlab ci",
        "jenkins",
        "circleci",
        exact=("CI", "CD"),
    ),
    _skill("linux", "unix", "ubuntu", "debian"),
    _skill("git", "github", "gitlab"),
    _skill("observability", "prometheus", "grafana", "opentelemetry", "datadog", "monitoring"),
    _skill(
        "testing",
        "pytest",
        "unit tests",
        "unit testing",
        "integration tests",
        "integration testing",
        "test-driven",
        "tdd",
        "unittest",
        "jest",
        "junit",
        "tests",
    ),
    _skill(
        "system-design",
        "distributed systems",
        "software architecture",
        "system architecture",
        "architected",
        "scalability",
        "high availability",
    ),
    _skill("microservices", "microservice", "service-oriented architecture", "soa"),
    _skill("concurrency", "multithreading", "multi-threading", "threading", "parallelism"),
    _skill("performance", "performance tuning", "profiling", "latency", "throughput"),
    _skill("security", "oauth", "oauth2", "owasp", "authentication", "authorization"),
    _skill("algorithms", "data structures", "leetcode", "competitive programming"),
    _skill("complexity", "big-o", "big o", "time complexity", "space complexity"),
    _skill("dynamic-programming", "memoization"),
    _skill("recursion", "recursive"),
    _skill("problem-solving", "problem solving"),
    _skill("debugging", "troubleshooting", "root cause analysis", "root-cause analysis"),
    _skill("memory-management", "memory leaks", "garbage collection", "memory profiling"),
    _skill("generators", "python generators", implies=("python",)),
    _skill(
        "machine-learning",
        "deep learning",
        "pytorch",
        "tensorflow",
        "scikit-learn",
        "sklearn",
        exact=("ML",),
    ),
    _skill("data-engineering", "etl", "elt", "data pipelines", "data pipeline", "dbt", "snowflake"),
    _skill(
        "leadership",
        "led",
        "lead",
        "team lead",
        "tech lead",
        "led a team",
        "managed a team",
        "head of",
        "engineering manager",
    ),
    _skill("mentoring", "mentor", "mentored", "mentorship", "coaching", "coached"),
    _skill("communication", "stakeholders", "stakeholder management", "presentations"),
    _skill("collaboration", "cross-functional", "collaborated", "pair programming"),
    _skill("agile", "scrum", "kanban", "sprint planning"),
    _skill("incident-response", "on-call", "on call", "incident management", "postmortems"),
    _skill("react-native", implies=("javascript",)),
    _skill("power-bi", "powerbi"),
    *(_skill(tag) for tag in _PLAIN_TOOLS.split()),
    *(SkillEntry(word.lower(), (), exact=(word,)) for word in _CAPITALISED_TOOLS.split()),
)


class SkillVocabulary:
    """Finds skill mentions in text and maps every synonym to its tag."""

    def __init__(self, entries: Iterable[SkillEntry]) -> None:
        self._entries = tuple(entries)
        self._tag_of: dict[str, str] = {}
        for entry in self._entries:
            self._tag_of[entry.tag] = entry.tag
            for form in (*entry.synonyms, *entry.exact):
                self._tag_of.setdefault(form.lower(), entry.tag)
        self._patterns = [(entry, _mention_pattern(entry)) for entry in self._entries]

    @classmethod
    def default(cls) -> SkillVocabulary:
        """The vocabulary shipped with CODESAGE."""
        return cls(DEFAULT_SKILLS)

    def terms(self) -> list[str]:
        """Every spelling of every skill, for keeping them out of the PII scrubber's reach."""
        return sorted({form for entry in self._entries for form in (*entry.synonyms, *entry.exact)})

    def normalize(self, term: str) -> str:
        """The tag for a skill spelling ("Postgres" → "postgresql"); unknown terms lower-cased."""
        lowered = term.strip().lower()
        return self._tag_of.get(lowered, lowered)

    def count_mentions(self, text: str) -> Counter[str]:
        """How often each tag is mentioned; implied tags (Django → python) count once each time."""
        counts: Counter[str] = Counter()
        for entry, pattern in self._patterns:
            found = len(pattern.findall(text))
            if found:
                counts[entry.tag] += found
                for implied in entry.implies:
                    counts[implied] += found
        return counts


def _mention_pattern(entry: SkillEntry) -> re.Pattern[str]:
    # Longest first so "node.js" wins over "node"; boundaries keep "go" out of "google".
    def alternatives(forms: Iterable[str]) -> str:
        return "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))

    boundary_before, boundary_after = r"(?<![\w#+.])", r"(?![\w#+]|\.\w)"
    parts = [f"(?i:{alternatives(entry.synonyms)})"] if entry.synonyms else []
    if entry.exact:
        parts.append(alternatives(entry.exact))
    return re.compile(f"{boundary_before}(?:{'|'.join(parts)}){boundary_after}")


@dataclass(frozen=True)
class ResumeProfile:
    """What a scrubbed resume says about skills and experience; holds no personal data."""

    skills: list[str]
    """Skill tags, most mentioned first."""
    years_experience: float | None
    seniority: str | None
    """One of "junior", "mid", "senior", "staff", "principal", or None when unknown."""
    highlights: list[str]
    """Short scrubbed lines about experience and projects."""


def resume_scrubber(vocabulary: SkillVocabulary | None = None) -> PiiScrubber:
    """A PII scrubber that leaves skill words alone (takes about a second to build: reuse it)."""
    return PiiScrubber(protected_terms=(vocabulary or SkillVocabulary.default()).terms())


def parse_resume(
    data: bytes,
    filename_or_mime: str,
    *,
    scrubber: PiiScrubber | None = None,
    vocabulary: SkillVocabulary | None = None,
    today: date | None = None,
    max_bytes: int = MAX_RESUME_BYTES,
) -> ResumeProfile:
    """Extract, scrub (first) and read a PDF or plain-text resume; raises ResumeError."""
    vocabulary = vocabulary or SkillVocabulary.default()
    scrubber = scrubber or resume_scrubber(vocabulary)
    text = scrubber.scrub_document(extract_resume_text(data, filename_or_mime, max_bytes))
    sections = list(_sections(text.splitlines()))
    counts = vocabulary.count_mentions(text)
    skills = sorted(counts, key=lambda tag: -counts[tag])  # ties keep vocabulary order
    years = _stated_years(text)
    if years is None:
        years = _years_from_date_ranges(sections, today or date.today())
    return ResumeProfile(
        skills=skills,
        years_experience=years,
        seniority=_seniority(text, years),
        highlights=_highlights(sections, vocabulary),
    )


def extract_resume_text(data: bytes, filename_or_mime: str, max_bytes: int) -> str:
    """The text of a PDF or plain-text resume, whitespace tidied; raises ResumeError."""
    if len(data) > max_bytes:
        raise ResumeError(f"resume is {len(data)} bytes; the limit is {max_bytes}")
    if not data.strip():
        raise ResumeError("resume file is empty")
    kind = filename_or_mime.lower()
    if data.startswith(b"%PDF-") or kind.endswith((".pdf", "/pdf")):
        text = _pdf_text(data)
    elif kind.endswith((".txt", ".text", ".md", "text/plain", "text/markdown")):
        text = _plain_text(data)
    else:
        raise ResumeError(f"unsupported resume type {filename_or_mime!r}: send PDF or plain text")
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    tidied = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not re.search(r"\w{2,}", tidied):
        raise ResumeError("no text found in the resume (a scanned image?)")
    return tidied


def _pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ResumeError("the PDF is password-protected")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ResumeError(
                f"the PDF has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}"
            )
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except ResumeError:
        raise
    # pypdf raises a variety of errors on damaged files; all mean the same to the candidate.
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ResumeError(f"the PDF cannot be read: {exc}") from exc


def _plain_text(data: bytes) -> str:
    if b"\x00" in data:
        raise ResumeError("the file is not plain text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Old editors save Windows-1252; reading it as such beats refusing the resume.
        return data.decode("cp1252", errors="replace")


_SECTION_HEADINGS = {
    "experience": "experience",
    "work experience": "experience",
    "professional experience": "experience",
    "employment": "experience",
    "employment history": "experience",
    "work history": "experience",
    "career history": "experience",
    "projects": "projects",
    "personal projects": "projects",
    "selected projects": "projects",
    "open source": "projects",
    "summary": "summary",
    "profile": "summary",
    "about": "summary",
    "about me": "summary",
    "education": "education",
    "certifications": "education",
    "courses": "education",
    "skills": "skills",
    "technical skills": "skills",
    "core skills": "skills",
    "languages": "other",
    "interests": "other",
    "hobbies": "other",
    "references": "other",
    "contact": "other",
    "awards": "other",
    "publications": "other",
}
_HIGHLIGHT_SECTIONS = {"experience", "projects", "summary", "preamble"}


def _sections(lines: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(section, line) for every non-heading line; lines before any heading are "preamble"."""
    section = "preamble"
    for line in lines:
        heading = line.strip().rstrip(":").lower()
        if heading in _SECTION_HEADINGS:
            section = _SECTION_HEADINGS[heading]
        elif line.strip():
            yield section, line.strip()


_STATED_YEARS = re.compile(
    r"(?P<years>\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\b(?:\s+of)?(?:\s+[\w+#.-]+){0,3}?"
    r"\s+(?:experience|exp\b)",
    re.IGNORECASE,
)
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = r"(?:(?P<{0}>" + "|".join(_MONTHS) + r")[a-z]*\.?|(?P<{0}n>\d{{1,2}})/)"
_DATE_RANGE = re.compile(
    r"(?:" + _MONTH.format("m1") + r"\s*)?(?P<y1>(?:19|20)\d{2})\s*(?:-|–|—|to|until)\s*"
    r"(?:(?:" + _MONTH.format("m2") + r"\s*)?(?P<y2>(?:19|20)\d{2})"
    r"|(?P<open>present|current|now|today))",
    re.IGNORECASE,
)


def _stated_years(text: str) -> float | None:
    found = [float(m.group("years")) for m in _STATED_YEARS.finditer(text)]
    plausible = [years for years in found if 0 < years <= 50]
    return max(plausible) if plausible else None


def _years_from_date_ranges(sections: Iterable[tuple[str, str]], today: date) -> float | None:
    spans: list[tuple[float, float]] = []
    for section, line in sections:
        if section in {"education", "other"}:
            continue  # study and hobbies are not work experience
        for match in _DATE_RANGE.finditer(line):
            start = _month_point(match, "1", today, start=True)
            end = _month_point(match, "2", today, start=False)
            if start < end <= today.year + 1:
                spans.append((start, end))
    if not spans:
        return None
    total, covered_until = 0.0, float("-inf")
    for start, end in sorted(spans):  # overlapping roles count once
        start = max(start, covered_until)
        if end > start:
            total += end - start
            covered_until = end
    return round(total, 1)


def _month_point(match: re.Match[str], which: str, today: date, *, start: bool) -> float:
    if which == "2" and match.group("open"):
        return today.year + today.month / 12
    year = int(match.group(f"y{which}"))
    name, number = match.group(f"m{which}"), match.group(f"m{which}n")
    if name:
        month = _MONTHS.index(name[:3].lower()) + 1
    elif number and 1 <= int(number) <= 12:
        month = int(number)
    else:
        return float(year)  # bare years: "2015 – 2019" counts as four years
    return year + (month - 1) / 12 if start else year + month / 12


_TITLE = re.compile(
    r"\b(?P<level>Principal|Distinguished|Staff|Senior|Sr\.|Lead|Junior|Jr\.|Graduate|Intern|"
    r"Mid-[Ll]evel|Head of|Director of|VP of)\s+(?:[A-Z][\w+#./-]*\s+){0,3}?"
    r"(?:Engineer|Developer|Programmer|Architect|SRE|Scientist|Analyst|Consultant|Engineering|"
    r"Manager)\b|\b(?P<lead>Tech Lead|Team Lead|Engineering Manager)\b"
)
_TITLE_LEVELS = {
    "principal": "principal",
    "distinguished": "principal",
    "head of": "principal",
    "director of": "principal",
    "vp of": "principal",
    "staff": "staff",
    "senior": "senior",
    "sr.": "senior",
    "lead": "senior",
    "mid-level": "mid",
    "junior": "junior",
    "jr.": "junior",
    "graduate": "junior",
    "intern": "junior",
}


def _seniority(text: str, years: float | None) -> str | None:
    # Resumes list the latest role first, so the first title found is the current level.
    title = _TITLE.search(text)
    if title:
        return "senior" if title.group("lead") else _TITLE_LEVELS[title.group("level").lower()]
    if years is None:
        return None
    for limit, level in ((2, "junior"), (5, "mid"), (9, "senior")):
        if years < limit:
            return level
    return "staff"


def _highlights(sections: Iterable[tuple[str, str]], vocabulary: SkillVocabulary) -> list[str]:
    chosen: list[str] = []
    for section, line in sections:
        text = line.lstrip("-*•·–> ").strip()
        words = text.split()
        if section not in _HIGHLIGHT_SECTIONS or "{{" in text[:12]:
            continue
        if len(re.findall(r"[^\W\d_]{2,}", text)) < 5:
            continue
        placeholders = text.count("{{")
        if placeholders * 3 > len(words):
            continue  # a contact line, not an achievement
        if vocabulary.count_mentions(text) or re.search(r"\d", text):
            chosen.append(_shorten(text))
        if len(chosen) == MAX_HIGHLIGHTS:
            break
    return chosen


def _shorten(text: str) -> str:
    if len(text) <= MAX_HIGHLIGHT_CHARS:
        return text
    return text[: MAX_HIGHLIGHT_CHARS - 1].rsplit(" ", 1)[0] + "…"


_TARGET_DIFFICULTY = {"junior": 2.0, "mid": 3.0, "senior": 4.0, "staff": 4.5, "principal": 5.0}


def plan_for_resume(
    template: InterviewTemplate,
    profile: ResumeProfile,
    vocabulary: SkillVocabulary | None = None,
) -> list[str]:
    """Every question id: most resume skills probed first (more-mentioned skills break ties),
    then difficulty nearest the candidate's seniority, then template order."""
    vocabulary = vocabulary or SkillVocabulary.default()
    # A skill the resume names early (most mentioned) weighs more than one named once.
    weight = {skill: len(profile.skills) - i for i, skill in enumerate(profile.skills)}
    target = _TARGET_DIFFICULTY.get(profile.seniority or "", 3.0)

    def rank(indexed: tuple[int, str, int, set[str]]) -> tuple[int, int, float, int]:
        position, _, difficulty, tags = indexed
        probed = tags & weight.keys()
        return (-len(probed), -sum(weight[t] for t in probed), abs(difficulty - target), position)

    questions = [
        (i, q.id, q.difficulty, {vocabulary.normalize(s) for s in q.skills})
        for i, q in enumerate(template.questions)
    ]
    return [question_id for _, question_id, _, _ in sorted(questions, key=rank)]


def priority_skills(
    template: InterviewTemplate,
    profile: ResumeProfile,
    vocabulary: SkillVocabulary | None = None,
) -> list[str]:
    """The resume's skills that the template can probe, most mentioned first."""
    vocabulary = vocabulary or SkillVocabulary.default()
    probed = {vocabulary.normalize(s) for q in template.questions for s in q.skills}
    return [skill for skill in profile.skills if skill in probed]
