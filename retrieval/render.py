"""Hits as plain text for the terminal (the bot has its own HTML formatting)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from retrieval.types import Hit, SourceRef


def _citation(title: str, source: str | None, published_at: object, url: str | None) -> str:
    date = published_at.strftime("%Y-%m-%d") if hasattr(published_at, "strftime") else None
    return " · ".join(part for part in (title, source, date, url) if part)


def _marked(hit: Hit) -> str:
    """The passage with its answer sentence between » « markers."""
    if hit.answer_span is None:
        return hit.text
    start, end = hit.answer_span
    return f"{hit.text[:start]}»{hit.text[start:end]}«{hit.text[end:]}"


def _also(refs: Sequence[SourceRef]) -> str:
    return "نُشر أيضاً في: " + "، ".join(
        _citation(r.title, r.source, r.published_at, r.url) for r in refs
    )


def render_hit_text(hit: Hit, width: int = 100) -> str:
    """One hit: rank, score, citation, passage (wrapped), other outlets."""
    citation = _citation(hit.title, hit.source, hit.published_at, hit.url)
    lines = [
        f"{hit.rank}. [{hit.score:.3f}] {citation}",
        textwrap.fill(
            " ".join(_marked(hit).split()), width, initial_indent="   ", subsequent_indent="   "
        ),
    ]
    if hit.also_in:
        lines.append("   " + _also(hit.also_in))
    return "\n".join(lines)


def render_hits_text(hits: Sequence[Hit]) -> str:
    return "\n\n".join(render_hit_text(hit) for hit in hits)
