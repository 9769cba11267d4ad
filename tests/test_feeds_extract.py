"""corpus.feeds.extract on the test news site's pages (tests/feedsite.py): every demo article's
page gives its text without the clutter around it; pages without an article give None."""

from __future__ import annotations

import dataclasses
import urllib.request
from datetime import UTC

import pytest

from corpus.feeds.extract import MIN_TEXT_CHARS, Extracted, extract_article
from corpus.feeds.fetch import decode_html
from tests.feedsite import THIN_TEXT, FeedSite
from tests.feedsite_pages import DemoArticle, render_index, render_page


@pytest.fixture(scope="module")
def site():
    with FeedSite() as served:
        yield served


def get(site: FeedSite, path: str) -> tuple[bytes, str | None, str]:
    with urllib.request.urlopen(site.url(path), timeout=10) as response:
        return response.read(), response.headers["Content-Type"], response.url


def _norm(text: str) -> str:
    return " ".join(text.split())


def holds_article(got: Extracted | None, article: DemoArticle) -> bool:
    """The first and the last sentence are in the text (whitespace collapsed)."""
    text = _norm(got.text) if got else ""
    return _norm(article.first_sentence) in text and _norm(article.last_sentence) in text


def test_every_demo_page_gives_the_article_and_no_clutter(site):
    missing, leaks, wrong_meta = [], {}, []
    for article in site.articles:
        page = site.page(article.slug)
        got = extract_article(page.html, site.url(f"/news/{article.slug}.html"))
        if not holds_article(got, article):
            missing.append(article.slug)
        text = _norm(got.text) if got else ""
        if leaked := [c for c in page.clutter if _norm(c) in text]:
            leaks[article.slug] = leaked
        if got is None or (got.title, got.published_at) != (
            article.title,
            article.published.astimezone(UTC),
        ):
            wrong_meta.append(article.slug)
    assert len(site.articles) == 200
    assert missing == []
    assert leaks == {}
    assert wrong_meta == []


def test_text_is_paragraphs_without_the_title(site):
    article = max(site.articles, key=lambda a: len(a.paragraphs))
    got = extract_article(site.page(article.slug).html, site.url("/"))
    assert got is not None
    assert got.text.split("\n\n") == list(article.paragraphs)
    assert got.site_name == "صحيفة سند الإخبارية"


def test_clutter_is_discoverable_and_excludes_the_articles_own_words(site):
    article = site.articles[0]
    clutter = site.clutter_of(article.slug)
    assert "جميع الحقوق محفوظة © 2015 صحيفة سند الإخبارية" in clutter
    assert site.articles[1].title in clutter  # related links
    assert len(clutter) > 25
    assert not any(c in article.body for c in clutter)


def test_served_pages_are_the_rendered_ones(site):
    article = site.articles[5]
    body, content_type, _ = get(site, f"/news/{article.slug}.html")
    assert content_type == "text/html; charset=utf-8"
    assert body.decode() == site.page(article.slug).html


@pytest.mark.parametrize("path", ["/broken/cp1256.html", "/broken/iso8859-6.html"])
def test_legacy_charset_pages(site, path):
    body, content_type, url = get(site, path)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    article = site.legacy_article(path)
    got = extract_article(decode_html(body, content_type), url)
    assert holds_article(got, article)
    assert got is not None and got.title == article.title


def test_a_redirected_page_is_the_article(site):
    body, content_type, url = get(site, "/broken/chain.html")
    got = extract_article(decode_html(body, content_type), url)
    assert holds_article(got, site.articles[0])


def test_a_page_without_enough_article_text_gives_none(site):
    body, content_type, url = get(site, "/broken/thin.html")
    assert THIN_TEXT in body.decode()
    assert extract_article(decode_html(body, content_type), url) is None


def test_a_front_page_gives_none(site):
    assert extract_article(render_index(site.articles[:20]), site.url("/")) is None


def test_the_minimum_is_what_decides(site):
    article = site.articles[0]
    sentence = "هذا نص قصير لخبر عاجل يتحدث عن حدث وقع اليوم في المدينة."
    for count, expected in ((2, None), (6, "text")):
        short = dataclasses.replace(article, paragraphs=(" ".join([sentence] * count),))
        got = extract_article(render_page(short, site.articles[1:5]).html, site.url("/"))
        assert (got is None) == (expected is None), count
    assert 2 * len(sentence) < MIN_TEXT_CHARS < 6 * len(sentence)


def test_the_same_page_extracts_the_same_every_time(site):
    # trafilatura's default deduplication cache is process-wide: a page's title line went from
    # its fourth extraction on, and the whole page (None) from its seventh.
    page = site.page(site.articles[7].slug).html
    texts = [extract_article(page, site.url("/")) for _ in range(8)]
    assert None not in texts and len({t.text for t in texts if t}) == 1


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<<<>>>",
        "\x00\x01\x02 binary \xff",
        "<html><body></body></html>",
        "<div>" * 20000 + "نص" + "</div>" * 20000,
        "<p>\ud800 lone surrogate</p>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>",
        "<html><head><title>عنوان فقط</title></head><body><script>" + "x" * 5000 + "</script>",
        "<ul>" + "<li><a href='/section'>قسم الأخبار المحلية</a></li>" * 300 + "</ul>",
    ],
    ids=[
        "empty",
        "blank",
        "brackets",
        "control-chars",
        "empty-body",
        "deep-nesting",
        "lone-surrogate",
        "xml-declaration",
        "script-only",
        "links-only",
    ],
)
def test_garbage_gives_none_and_never_raises(html):
    assert extract_article(html, "https://example.com/x") is None
