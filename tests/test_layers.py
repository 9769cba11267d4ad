"""The house layering, checked by parsing imports: bot -> retrieval -> corpus, never back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "corpus": {"retrieval", "bot", "telegram", "faiss", "bm25s", "sentence_transformers", "torch"},
    "retrieval": {"bot", "telegram"},
    "bot": {"faiss", "bm25s", "sentence_transformers", "torch"},
}
# The bot may take value and column types from corpus/, nothing that touches the store.
BOT_MAY_IMPORT_FROM_CORPUS = {"corpus.types", "corpus.columns"}
# Only the backends know which engines serve the index.
ENGINES = {"faiss", "bm25s", "tantivy", "pgvector", "psycopg"}


def imported_modules(path: Path) -> set[str]:
    """Absolute module names imported by a file (`from a.b import c` gives a.b and a.b.c)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def modules_of(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found in {package}/"
    return files


def test_dependencies_point_one_way():
    violations = []
    for package, forbidden in FORBIDDEN.items():
        for path in modules_of(package):
            bad = imported_roots(path) & forbidden
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert violations == []


def test_nothing_imports_bot_but_the_entry_point():
    for package in ("corpus", "retrieval"):
        for path in modules_of(package):
            assert "bot" not in imported_roots(path), path


def test_bot_reaches_corpus_only_for_value_types():
    violations = []
    for path in modules_of("bot"):
        corpus = {m for m in imported_modules(path) if m.split(".")[0] == "corpus"}
        if corpus - BOT_MAY_IMPORT_FROM_CORPUS:
            violations.append(f"{path.relative_to(ROOT)} imports {sorted(corpus)}")
    assert violations == []


def test_only_the_backends_import_the_index_engines():
    backends = ROOT / "retrieval" / "backends"
    violations = [
        str(path.relative_to(ROOT))
        for path in modules_of("retrieval")
        if imported_roots(path) & ENGINES and backends not in path.parents
    ]
    assert violations == []
    assert not imported_roots(ROOT / "retrieval" / "search.py") & {"faiss"}


def test_the_layering_check_sees_violations(tmp_path):
    # The checks above must be able to fail: a module importing the store is caught.
    module = tmp_path / "handlers.py"
    module.write_text("from corpus.store import get_article\nimport faiss\n", encoding="utf-8")
    assert "corpus.store" in imported_modules(module)
    assert {"corpus", "faiss"} <= imported_roots(module)
