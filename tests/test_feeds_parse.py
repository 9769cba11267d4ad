"""corpus.feeds.parse over the test news site's feeds (tests/feedsite.py), fetched with urllib."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from corpus.feeds.parse import FeedError, ParsedFeed, html_to_text, parse_feed
from tests.feedsite import FeedSite, Item, render_feed


@pytest.fixture(scope="module")
def site():
    with FeedSite(delay=0.2) as served:
        yield served


def get(site: FeedSite, path: str, **headers: str) -> tuple[bytes, str | None, str]:
    """(body, Content-Type, final URL) of a GET."""
    request = urllib.request.Request(site.url(path), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), response.headers["Content-Type"], response.url


def parse(site: FeedSite, path: str) -> ParsedFeed:
    body, content_type, url = get(site, path)
    return parse_feed(body, url, content_type)


@pytest.mark.parametrize("fmt", ["rss", "atom", "rdf"])
def test_each_format_gives_links_titles_summaries_dates_and_guids(site, fmt):
    articles = site.articles[3:8]
    url = site.add_feed(f"all-{fmt}", [a.slug for a in articles], fmt=fmt)
    feed = parse(site, url.removeprefix(site.base_url))
    assert feed.title == f"سند — all-{fmt}"
    assert feed.warning is None
    assert [e.link for e in feed.entries] == [site.url(f"/news/{a.slug}.html") for a in articles]
    assert [e.title for e in feed.entries] == [a.title for a in articles]
    # The description is "<img …><p>summary</p>": only the text is left.
    assert [e.summary for e in feed.entries] == [a.summary for a in articles]
    assert [e.published_at for e in feed.entries] == [a.published for a in articles]
    # RDF items have no guid but their rdf:about (the link).
    expected = [
        e.link if fmt == "rdf" else f"urn:x:{a.slug}"
        for e, a in zip(feed.entries, articles, strict=True)
    ]
    assert [e.guid for e in feed.entries] == expected


def test_dates_are_aware_utc(site):
    feed = parse(site, "/broken/moved.rss")  # pubDate in +0300
    first, article = feed.entries[0], site.articles[0]
    assert first.published_at is not None and first.published_at.tzinfo is UTC
    assert first.published_at == datetime(2015, 8, 1, 4, 51, 31, tzinfo=UTC)
    assert article.published.hour == 7  # the feed said 07:51 Saudi time


@pytest.mark.parametrize("path", ["/broken/relative.rss", "/broken/relative.atom"])
def test_relative_links_are_made_absolute(site, path):
    feed = parse(site, path)
    expected = [site.url(f"/news/{a.slug}.html") for a in site.articles[:3]]
    assert [e.link for e in feed.entries] == expected


def test_relative_links_resolve_against_the_url_given():
    body = render_feed("rss", "t", "/", [Item("news/a.html", "a", "s", None, None)])
    feed = parse_feed(body, "https://example.com/feeds/main.rss")
    assert feed.entries[0].link == "https://example.com/feeds/news/a.html"


def test_items_without_dates_or_titles_are_kept(site):
    undated = parse(site, "/broken/no-dates.rss")
    assert len(undated.entries) == 3
    assert all(e.published_at is None and e.title for e in undated.entries)
    untitled = parse(site, "/broken/no-titles.rss")
    assert len(untitled.entries) == 3
    assert all(e.title is None and e.published_at and e.summary for e in untitled.entries)


def test_duplicates_are_kept_for_the_poller(site):
    feed = parse(site, "/broken/duplicates.rss")
    first, second = (site.url(f"/news/{a.slug}.html") for a in site.articles[:2])
    tracked = f"{second}?utm_source=rss&utm_medium=feed#comments"
    assert [e.link for e in feed.entries] == [first, first, second, tracked]


def test_malformed_xml_keeps_the_entries_before_the_break(site):
    feed = parse(site, "/broken/truncated.rss")
    # Cut inside the third item's title: that item has no link and is skipped.
    assert [e.title for e in feed.entries] == [a.title for a in site.articles[:2]]
    assert feed.warning is not None
    assert "SAXParseException" in feed.warning
    assert "1 of 3 entries without an http(s) link" in feed.warning


def test_an_html_page_is_not_a_feed(site):
    body, content_type, url = get(site, "/broken/html.rss")
    with pytest.raises(FeedError, match=r"^not a feed: the address serves a web page"):
        parse_feed(body, url, content_type)
    with pytest.raises(FeedError, match=r"^not a feed: the address serves a web page"):
        parse_feed(body, url)  # without the header too


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n", b"not found", b"\x00\xff\xfe\x01 binary", b"<?xml version='1.0'?><urlset/>"],
)
def test_other_non_feeds_raise_with_a_reason(content):
    with pytest.raises(FeedError, match=r"^not a feed: .+"):
        parse_feed(content, "https://example.com/feed")


def test_a_malformed_feed_without_entries_raises():
    content = b"<?xml version='1.0'?><rss version='2.0'><channel><title>cut"
    with pytest.raises(FeedError, match=r"^no entries in a malformed feed: "):
        parse_feed(content, "https://example.com/feed")


def test_a_valid_feed_without_items_is_empty_not_an_error(site):
    feed = parse(site, "/broken/empty.rss")
    assert feed.entries == () and feed.warning is None and feed.title


def test_summary_html_is_stripped_to_paragraphs():
    html = (
        "<p>الفقرة <b>الأولى</b>&nbsp;هنا</p><script>alert('x')</script>"
        "<style>p{}</style><ul><li>بند</li></ul>النهاية &amp; <a href='/x'>رابط</a>"
    )
    item = Item("https://example.com/a", "t", "", None, None)
    escaped = html.replace("&", "&amp;").replace("<", "&lt;").encode()
    body = render_feed("rss", "t", "/", [item]).replace(
        b"<description>", b"<description>" + escaped
    )
    entry = parse_feed(body, "https://example.com/feed").entries[0]
    assert entry.summary == "الفقرة الأولى هنا\n\nبند\n\nالنهاية & رابط"
    assert html_to_text("a<br>b<div>c</div>") == "a\n\nb\n\nc"
    assert html_to_text("") == ""


def test_plain_text_fields_are_not_read_as_html():
    body = (
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>t</title>"
        b"<entry><title type='text'>a &lt;b&gt; c</title><link href='https://e.com/1'/>"
        b"<summary type='text'>x &lt; y</summary></entry></feed>"
    )
    entry = parse_feed(body, "https://e.com/feed").entries[0]
    assert (entry.title, entry.summary) == ("a <b> c", "x < y")


def test_atom_content_stands_in_for_a_missing_summary():
    body = (
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>t</title>"
        b"<entry><title>a</title><link href='https://e.com/1'/>"
        b"<content type='html'>&lt;p&gt;the body&lt;/p&gt;</content></entry></feed>"
    )
    assert parse_feed(body, "https://e.com/feed").entries[0].summary == "the body"


def test_links_that_are_not_http_are_skipped():
    items = [
        Item("javascript:alert(1)", "a", "", None, None),
        Item("mailto:x@example.com", "b", "", None, None),
        Item("https://example.com/ok", "c", "", None, None),
    ]
    feed = parse_feed(render_feed("rss", "t", "/", items), "https://example.com/feed")
    assert [e.link for e in feed.entries] == ["https://example.com/ok"]
    assert feed.warning == "2 of 3 entries without an http(s) link"


def test_charset_from_the_content_type_header():
    article_title = "أمطار غزيرة على مكة"
    item = Item("https://e.com/1", article_title, "ملخص", None, None)
    body = render_feed("rss", "عنوان", "/", [item]).decode()
    legacy = body.replace(' encoding="utf-8"', "").encode("windows-1256")
    feed = parse_feed(legacy, "https://e.com/feed", "application/rss+xml; charset=windows-1256")
    assert feed.entries[0].title == article_title
    assert feed.entries[0].summary == "ملخص"


def test_never_fetches_what_it_is_given(site):
    before = len(site.requests)
    with pytest.raises(FeedError):
        parse_feed(site.url("/broken/moved.rss").encode(), site.url("/"))
    assert len(site.requests) == before


def test_site_answers_conditional_gets_and_publish_changes_the_feed(site):
    url = site.add_feed("live", [a.slug for a in site.articles[:2]])
    path = url.removeprefix(site.base_url)
    first = urllib.request.urlopen(url, timeout=10)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        with pytest.raises(urllib.error.HTTPError) as answer:
            get(site, path, **headers)
        assert answer.value.code == 304
    assert site.requests[-1][2]["if-modified-since"] == modified
    site.publish("live", site.articles[9].slug)
    body, content_type, final = get(site, path, **{"If-None-Match": etag})
    entries = parse_feed(body, final, content_type).entries
    assert entries[0].title == site.articles[9].title and len(entries) == 3
    body, *_ = get(site, path, **{"If-Modified-Since": modified})
    assert body  # Last-Modified moved on too, even within the same second


def test_site_broken_cases_answer_as_described(site):
    dead = parse(site, "/broken/dead-link.rss").entries[0]
    assert dead.summary == site.articles[1].summary  # what the poller falls back to
    broken = [("/broken/missing.rss", 404), ("/broken/error.rss", 500)]
    for path, status in [*broken, (dead.link.removeprefix(site.base_url), 404)]:
        with pytest.raises(urllib.error.HTTPError) as answer:
            get(site, path)
        assert answer.value.code == status
    assert get(site, "/broken/old.rss")[2] == site.url("/broken/moved.rss")
    assert get(site, "/broken/chain.html")[2] == site.url(f"/news/{site.articles[0].slug}.html")
    with pytest.raises(urllib.error.HTTPError):  # urllib gives up on the loop
        get(site, "/broken/loop.html")
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(site.url("/broken/slow.rss"), timeout=site.delay / 4)
    with urllib.request.urlopen(site.url("/broken/huge.html"), timeout=10) as response:
        assert int(response.headers["Content-Length"]) == 50 * 2**20
        assert len(response.read(2**20)) == 2**20  # then closed without reading the rest
