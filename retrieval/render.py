"""Hits as plain text for the terminal (the bot has its own HTML formatting)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from retrieval.types import Citation, Hit


def _citation(cited: Citation) -> str:
    date = cited.published_at.strftime("%Y-%m-%d") if cited.published_at else None
    return " · ".join(part for part in (cited.title, cited.source, date, cited.url) if part)


def _marked(hit: Hit) -> str:
    """The passage with its answer sentence between » « markers."""
    if hit.answer_span is None:
        return hit.text
    start, end = hit.answer_span
    return f"{hit.text[:start]}»{hit.text[start:end]}«{hit.text[end:]}"


def _also(refs: Sequence[Citation]) -> str:
    return "نُشر أيضاً في: " + "، ".join(_citation(ref) for ref in refs)


def render_hit_text(hit: Hit, width: int = 100) -> str:
    """One hit: rank, score, citation, passage (wrapped), other outlets."""
    citation = _citation(hit.citation)
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
