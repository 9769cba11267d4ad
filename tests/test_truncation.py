"""No indexed passage is longer than the encoder's window: nothing is silently truncated."""

from __future__ import annotations

import pytest

from corpus.models import Passage
from corpus.split import PassageSpan, fit_passages, split_passages
from retrieval.index import IndexInput, embedding_text
from retrieval.library import Library
from retrieval.settings import LibrarySettings
from retrieval.types import ArticleRecord
from tests.conftest import DEMO, SEED

# 190 "words" of long digit groups and Latin codes: under the 200-word passage cap, but several
# tokens each, so one passage would be ~1,000 tokens.
DENSE_TEXT = " ".join(f"{i:012d}-XK{i:04d}" for i in range(190))


def test_fit_passages_cuts_until_every_passage_fits() -> None:
    body = "جملة أولى قصيرة. " * 30 + "جملة ثانية أطول قليلا من الأولى. " * 30
    spans = split_passages(body)
    fitted = fit_passages(spans, lambda text: len(text.split()) > 40)
    assert all(len(s.text.split()) <= 40 for s in fitted)
    assert all(body[s.char_start : s.char_end] == s.text for s in fitted)
    # nothing lost: the fitted passages cover what the originals covered
    covered = "".join(s.text for s in fitted).replace(" ", "")
    assert covered == "".join(s.text for s in spans).replace(" ", "")
    # a single overlong word cannot be cut and is kept, not looped on
    assert fit_passages([PassageSpan("x" * 50, 0, 50)], lambda t: True) == [
        PassageSpan("x" * 50, 0, 50)
    ]


@pytest.mark.slow
def test_no_indexed_passage_exceeds_the_model_window(tmp_path, real_encoder) -> None:
    settings = LibrarySettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", index_dir=tmp_path / "index"
    )
    library = Library.open(settings, encoder=real_encoder)
    library.ingest_paths([SEED, DEMO])
    record = ArticleRecord("أرقام الشحنات", DENSE_TEXT)
    # split by words alone, this article is one passage over the window
    [alone] = split_passages(DENSE_TEXT)
    too_long = embedding_text(IndexInput(0, record.title, alone.text))
    assert real_encoder.count_passage_tokens(too_long) > real_encoder.max_tokens
    library.add_articles([record])
    with library.session_factory() as session:
        rows = session.query(Passage).all()
        sizes = [
            real_encoder.count_passage_tokens(
                embedding_text(IndexInput(p.id, p.article.title, p.text))
            )
            for p in rows
        ]
    assert len(sizes) > 500 and max(sizes) <= real_encoder.max_tokens
