"""The house layering: bot -> retrieval -> corpus, never the other way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "corpus": {"retrieval", "bot", "telegram", "faiss", "sentence_transformers", "torch"},
    "retrieval": {"bot", "telegram"},
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_dependencies_point_one_way():
    violations = []
    for package, forbidden in FORBIDDEN.items():
        files = sorted((ROOT / package).rglob("*.py"))
        assert files, f"no modules found in {package}/"
        for path in files:
            bad = imported_roots(path) & forbidden
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert violations == []


def test_nothing_imports_bot_but_the_entry_point():
    for package in ("corpus", "retrieval"):
        for path in (ROOT / package).rglob("*.py"):
            assert "bot" not in imported_roots(path), path
