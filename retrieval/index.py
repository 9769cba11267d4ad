"""Versioned on-disk index: a dense and a lexical index (from a backend) + manifest, switched
atomically.

Layout of INDEX_DIR:
    CURRENT                 name of the version being served (replaced atomically)
    versions/<name>/        the dense index's files, lexical/, keys.npy, manifest.json
    build.lock              held (flock) by the one build allowed at a time
A build writes a complete new version under a temporary name, renames it into place, then
swaps CURRENT. A crash at any point leaves the previous version serving.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from retrieval.arabic import strip_marks
from retrieval.backends import DEFAULT_BACKEND, Backend, DenseIndex, LexicalIndex, get_backend
from retrieval.encoder import Encoder
from retrieval.errors import BuildInProgress, IndexCorrupt, IndexMismatch, IndexNotReady
from retrieval.spelling import Spelling
from retrieval.types import BuildReport

FORMAT_VERSION = 1
KEEP_VERSIONS = 2
EMBED_BATCH = 32
TITLE_CHARS = 200  # passages per encoder call; progress is reported after each
_KEYS, _LEXICAL, _SPELLING, _MANIFEST = "keys.npy", "lexical", "spelling.json", "manifest.json"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexInput:
    """One passage as the index sees it."""

    passage_id: int
    title: str
    text: str


@dataclass(frozen=True)
class IndexVersion:
    """A loaded, verified index version."""

    name: str
    manifest: dict
    dense: DenseIndex
    lexical: LexicalIndex
    spelling: Spelling

    @property
    def size(self) -> int:
        return len(self.dense)


def embedding_text(item: IndexInput) -> str:
    """What gets embedded for a passage: its article title gives context the passage may lack;
    vocalization and invisible marks are stripped, as from questions (`arabic.strip_marks`)."""
    title = item.title[:TITLE_CHARS]  # a "title" longer than this is a paragraph, not context
    return strip_marks(f"{title}\n{item.text}" if title else item.text)


def embedding_key(encoder_fingerprint: str, text: str) -> bytes:
    """Vectors are reused across builds only for the same text under the same model."""
    return hashlib.sha256(f"{encoder_fingerprint}\0{text}".encode()).digest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _checksums(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != _MANIFEST)
    return {str(p.relative_to(folder)): _sha256_file(p) for p in files}


class IndexStore:
    """The index directory: builds new versions with `backend`, loads the current one."""

    def __init__(self, root: Path, backend: Backend | None = None) -> None:
        self.root = root
        self.versions = root / "versions"
        self.backend = backend or get_backend(DEFAULT_BACKEND)

    def current_name(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def load(self, encoder: Encoder | None = None) -> IndexVersion:
        """Load and verify the current version; check it matches `encoder` when given."""
        name = self.current_name()
        if name is None:
            raise IndexNotReady(f"no index in {self.root}: run `python -m retrieval build`")
        return self._load_version(self.versions / name, encoder)

    def _load_version(self, folder: Path, encoder: Encoder | None) -> IndexVersion:
        manifest = _read_manifest(folder)
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorrupt(f"{folder}: index format {manifest.get('format')}, expected 1")
        actual = _checksums(folder)
        if actual != manifest.get("files"):
            bad = sorted(set(actual.items()) ^ set(manifest.get("files", {}).items()))
            raise IndexCorrupt(f"{folder}: files do not match the manifest: {bad[:3]}")
        built_with = manifest.get("backend", DEFAULT_BACKEND)
        if built_with != self.backend.name:
            raise IndexMismatch(
                f"index built with backend {built_with}, INDEX_BACKEND is {self.backend.name}: "
                "rebuild with --full"
            )
        if encoder is not None and (
            manifest["model_fingerprint"] != encoder.fingerprint or manifest["dim"] != encoder.dim
        ):
            raise IndexMismatch(
                f"index built with {manifest['model']} ({manifest['model_fingerprint']}, "
                f"dim {manifest['dim']}), loaded model is {encoder.name} "
                f"({encoder.fingerprint}, dim {encoder.dim}): rebuild with --full"
            )
        try:
            dense = self.backend.dense.load(folder)
            lexical = self.backend.lexical.load(folder / _LEXICAL)
            spelling = Spelling.load(folder / _SPELLING)
        except (IndexCorrupt, IndexMismatch):
            raise
        except Exception as exc:  # whatever an engine raises on files it cannot read
            raise IndexCorrupt(f"{folder}: cannot read index files ({exc})") from exc
        if not (len(dense) == manifest["passages"] == len(lexical)):
            raise IndexCorrupt(f"{folder}: passage counts disagree with the manifest")
        return IndexVersion(folder.name, manifest, dense, lexical, spelling)

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        """One build at a time, across processes (the bot and the CLI may both try)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "build.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise BuildInProgress("another index build is running") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def build(
        self,
        items: Sequence[IndexInput],
        encoder: Encoder,
        *,
        corpus_hash: str,
        full: bool = False,
        progress: Progress | None = None,
        show_progress: bool = False,
    ) -> BuildReport:
        """Build a new version from `items`, reusing unchanged vectors unless `full`, and serve it.

        Steps: vectors (reused or embedded), the backend's indexes written aside, a manifest,
        then the atomic switch and pruning of old versions.
        """
        with self.build_lock():
            started = time.perf_counter()
            texts = [embedding_text(item) for item in items]
            keys = [embedding_key(encoder.fingerprint, t) for t in texts]
            previous = {} if full else self._previous_vectors(encoder)
            vectors, embedded = _vectors(encoder, texts, keys, previous, progress, show_progress)
            work, name = self._new_folder()
            ids = [item.passage_id for item in items]
            self.backend.dense.build(ids, vectors).save(work)
            self.backend.lexical.build(ids, texts).save(work / _LEXICAL)
            Spelling.learn(texts).save(work / _SPELLING)
            _save_keys(work / _KEYS, keys)
            seconds = time.perf_counter() - started
            report = BuildReport(name, len(items), embedded, len(items) - embedded, seconds)
            self._write_manifest(work, report, encoder, corpus_hash)
            self._publish(work, name)
            return report

    def _previous_vectors(self, encoder: Encoder) -> dict[bytes, np.ndarray]:
        """Vectors of the version being served, by embedding key, when the model is the same."""
        name = self.current_name()
        if name is None:
            return {}
        folder = self.versions / name
        try:
            manifest = _read_manifest(folder)
            if manifest.get("model_fingerprint") != encoder.fingerprint:
                return {}
            backend = get_backend(manifest.get("backend", DEFAULT_BACKEND))
            dense = backend.dense.load(folder)
            keys = np.load(folder / _KEYS)
            vectors = dense.vectors(dense.ids)
        except Exception:  # an unreadable previous version only costs re-embedding
            return {}
        return {k.tobytes(): v for k, v in zip(keys, vectors, strict=True)}

    def _new_folder(self) -> tuple[Path, str]:
        """A fresh temporary folder for a version, and the version's name."""
        self.versions.mkdir(parents=True, exist_ok=True)
        self._clean_temporaries()
        name = datetime.now(UTC).strftime("v%Y%m%dT%H%M%S%fZ")
        work = self.versions / f".tmp-{name}"
        work.mkdir()
        return work, name

    def _write_manifest(
        self, work: Path, report: BuildReport, encoder: Encoder, corpus_hash: str
    ) -> None:
        manifest = {
            "format": FORMAT_VERSION,
            "version": report.version,
            "backend": self.backend.name,
            "model": encoder.name,
            "model_fingerprint": encoder.fingerprint,
            "dim": encoder.dim,
            "passages": report.passages,
            "embedded": report.embedded,
            "reused": report.reused,
            "corpus_hash": corpus_hash,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(report.seconds, 3),
            "files": _checksums(work),
        }
        (work / _MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))

    def _publish(self, work: Path, name: str) -> None:
        """Make a complete version durable, rename it into place and serve it."""
        _fsync_tree(work)
        os.replace(work, self.versions / name)
        self._switch(name)
        self._prune()

    def _switch(self, name: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        with tmp.open("w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.root / "CURRENT")

    def _clean_temporaries(self) -> None:
        for stale in self.versions.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def _prune(self) -> None:
        current = self.current_name()
        names = sorted(p.name for p in self.versions.iterdir() if p.name.startswith("v"))
        for name in names[:-KEEP_VERSIONS]:
            if name != current:
                shutil.rmtree(self.versions / name, ignore_errors=True)


def _read_manifest(folder: Path) -> dict:
    try:
        return dict(json.loads((folder / _MANIFEST).read_text()))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{folder}: manifest unreadable ({exc})") from exc


def _save_keys(path: Path, keys: Sequence[bytes]) -> None:
    # Raw uint8 rows: numpy's fixed-width bytes type ("S32") drops trailing NUL bytes, and
    # one digest in 256 ends with one; such a key would never match again.
    rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
    np.save(path, rows)


def _vectors(
    encoder: Encoder,
    texts: Sequence[str],
    keys: Sequence[bytes],
    previous: dict[bytes, np.ndarray],
    progress: Progress | None,
    show_progress: bool,
) -> tuple[np.ndarray, int]:
    """One vector per text: reused from `previous` by key, else embedded. Returns (vectors,
    how many were embedded)."""
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    # Length-sorted batches: sentence-transformers sorts by length only inside one call, and a
    # batch costs what its longest passage costs (benchmarks/throughput.py: 7.6 -> 9.8 passages/s).
    todo = sorted(
        (i for i, key in enumerate(keys) if key not in previous), key=lambda i: len(texts[i])
    )
    for i, key in enumerate(keys):
        if key in previous:
            vectors[i] = previous[key]
    _embed_rows(encoder, texts, todo, vectors, progress, show_progress)
    return vectors, len(todo)


def _embed_rows(
    encoder: Encoder,
    texts: Sequence[str],
    rows: Sequence[int],
    out: np.ndarray,
    progress: Progress | None,
    show_progress: bool,
) -> None:
    bar = None
    if show_progress and rows:
        from tqdm import tqdm

        bar = tqdm(total=len(rows), unit="passage", desc="embedding")
    done = 0
    for start in range(0, len(rows), EMBED_BATCH):
        chunk = rows[start : start + EMBED_BATCH]
        out[chunk] = encoder.encode_passages([texts[i] for i in chunk], batch_size=EMBED_BATCH)
        done += len(chunk)
        if bar is not None:
            bar.update(len(chunk))
        if progress is not None:
            progress(done, len(rows))
    if bar is not None:
        bar.close()


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())
