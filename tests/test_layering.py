"""Lower parts never import upper ones (design: data flows one way)."""

from __future__ import annotations

import ast
from pathlib import Path

import codesage

# Which codesage subpackages each subpackage may import.
ALLOWED_IMPORTS: dict[str, set[str]] = {
    "config": set(),
    "storage": {"config"},
    "agents": {"config"},
    "media": {"config", "agents"},
    "engine": {"config", "storage", "agents", "media"},
    "signaling": {"config", "storage", "agents", "media", "engine"},
}


def layering_violations(package_root: Path) -> list[str]:
    """Every `file: imports codesage.X` where X is not allowed for the file's subpackage."""
    violations = []
    for part, allowed in ALLOWED_IMPORTS.items():
        for path in sorted((package_root / part).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    pieces = name.split(".")
                    if pieces[0] != "codesage" or len(pieces) < 2:
                        continue
                    target = pieces[1]
                    if target != part and target in ALLOWED_IMPORTS and target not in allowed:
                        violations.append(f"{path.relative_to(package_root)}: imports {name}")
    return violations


def test_codesage_respects_the_layers() -> None:
    assert layering_violations(Path(codesage.__file__).parent) == []


def test_the_check_catches_storage_importing_engine(tmp_path: Path) -> None:
    for part in ALLOWED_IMPORTS:
        (tmp_path / part).mkdir()
    (tmp_path / "storage" / "bad.py").write_text("from codesage.engine.actor import Actor\n")
    (tmp_path / "agents" / "bad.py").write_text("import codesage.signaling.app\n")
    assert layering_violations(tmp_path) == [
        "storage/bad.py: imports codesage.engine.actor",
        "agents/bad.py: imports codesage.signaling.app",
    ]
