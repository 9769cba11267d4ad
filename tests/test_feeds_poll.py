"""Polling feeds end to end below the bot: a real local news site (tests/feedsite.py), real
SQLite, the real fetcher, parser and extractor; a fake encoder for speed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from corpus.columns import utc_now
from corpus.feeds.fetch import FetchLimits
from corpus.feeds.store import (
    RETRY_FAILED,
    FeedProblem,
    add_feed,
    due_feeds,
    feed_lease,
    get_feed,
    known_items,
    list_feeds,
    record_items,
    remove_feed,
)
from corpus.models import Article, FeedItem
from retrieval.feeds import add_feed as add_feed_with_hold
from retrieval.feeds import poll_feeds
from retrieval.library import Library
from retrieval.settings import LibrarySettings
from tests.conftest import new_postgres_database
from tests.fakes import FakeEncoder
from tests.feedsite import FeedSite


@pytest.fixture(scope="module")
def site():
    with FeedSite(delay=1.5) as served:
        yield served


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(tmp_path, request):
    """SQLite, and PostgreSQL (where several replicas share the feeds, their leases and items)."""
    if request.param == "postgres":
        url = new_postgres_database(request.getfixturevalue("postgres_server"), "feeds")
    else:
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    return LibrarySettings(
        database_url=url,
        index_dir=tmp_path / "index",
        index_backend="memory",
        feed_allow_private_networks=True,  # the site is on 127.0.0.1
    )


@pytest.fixture()
def library(settings):
    library = Library.open(settings, encoder=FakeEncoder())
    yield library
    library.close()


LIMITS = FetchLimits(allow_private=True, timeout_s=0.5, total_s=5.0, max_bytes=2 * 2**20)


def _add(library, url, name=None):
    with library.session_factory() as session:
        return add_feed(session, url, name)


def _poll(library, settings, ids=None, **kw):
    return poll_feeds(library, settings, ids, limits=kw.pop("limits", LIMITS), **kw)


def _articles(library):
    with library.session_factory() as session:
        return session.execute(select(Article.url, Article.title, Article.source)).all()


def test_a_feed_is_polled_its_stories_stored_and_a_second_poll_is_conditional(
    site, library, settings
):
    slugs = [a.slug for a in site.articles[:6]]
    url = site.add_feed("main", slugs, fmt="rss")
    feed = _add(library, url, "الوئام")
    [report] = _poll(library, settings)
    assert (report.error, report.entries, report.new, len(report.added)) == (None, 6, 6, 6)
    assert report.summaries == 0 and not report.failed and report.backlog
    stored = _articles(library)
    assert {source for _, _, source in stored} == {"الوئام"}
    assert {title for _, title, _ in stored} == {site.article(s).title for s in slugs}
    # the page's text, not the feed's summary: the article's last paragraph is in the body
    with library.session_factory() as session:
        body = session.scalars(select(Article.body).where(Article.title == site.articles[0].title))
        assert site.articles[0].paragraphs[-1][:40] in body.one()
    before = len(site.requests)
    [again] = _poll(library, settings, [feed.id])
    assert again.not_modified and again.new == 0 and not again.backlog
    conditional = [h for _, path, h in site.requests[before:] if path == "/feeds/main.rss"]
    assert conditional and "if-none-match" in conditional[-1]
    view = get_feed_view(library, feed.id)
    assert (view.items_seen, view.articles_added, view.last_error) == (6, 6, None)


def get_feed_view(library, feed_id):
    with library.session_factory() as session:
        return get_feed(session, feed_id)


def test_a_published_item_is_found_by_the_next_poll_and_nothing_twice(site, library, settings):
    url = site.add_feed("grow", [a.slug for a in site.articles[10:13]], fmt="atom")
    feed = _add(library, url)
    _poll(library, settings, [feed.id])
    site.publish("grow", site.articles[13].slug)
    [report] = _poll(library, settings, [feed.id])
    assert (report.entries, report.new, len(report.added)) == (4, 1, 1) and not report.backlog
    assert len(_articles(library)) == 4


def test_a_story_in_two_feeds_and_with_tracking_parameters_is_stored_once(site, library, settings):
    first = _add(library, site.url("/broken/duplicates.rss"), "one")
    second = _add(library, site.add_feed("dup", [site.articles[0].slug], fmt="rdf"), "two")
    reports = _poll(library, settings, [first.id, second.id])
    assert [len(r.added) for r in reports] == [2, 0]  # a[0] twice, a[1] with ?utm_…#frag
    assert reports[1].entries == 1 and reports[1].new == 0
    with library.session_factory() as session:
        urls = sorted(session.scalars(select(FeedItem.url)))
    assert len(urls) == 2 and not any("utm_" in u or "#" in u for u in urls)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/broken/missing.rss", "HTTP 404"),
        ("/broken/error.rss", "HTTP 500"),
        ("/broken/slow.rss", "timed out after 0.5 s"),
        ("/broken/html.rss", "not a feed"),
    ],
)
def test_a_broken_feed_is_reported_and_backs_off(site, library, settings, path, error):
    feed = _add(library, site.url(path))
    [report] = _poll(library, settings, [feed.id])
    assert report.error is not None and error in report.error
    view = get_feed_view(library, feed.id)
    assert view.failures == 1 and error in (view.last_error or "")
    assert view.next_poll_at is not None and view.next_poll_at > utc_now()
    with library.session_factory() as session:
        assert feed.id not in due_feeds(session, utc_now())  # backing off
        assert feed.id in due_feeds(session, utc_now() + timedelta(hours=25))
    _poll(library, settings, [feed.id])
    assert get_feed_view(library, feed.id).failures == 2


def test_broken_items_fall_back_to_the_summary_or_are_reported(site, library, settings):
    cases = ["/broken/dead-link.rss", "/broken/thin.rss", "/broken/no-titles.rss"]
    cases += ["/broken/no-dates.rss", "/broken/truncated.rss"]
    cases += ["/broken/old.rss", "/broken/empty.rss"]
    feeds = [_add(library, site.url(path)) for path in cases]
    reports = {
        path: r
        for path, r in zip(cases, _poll(library, settings, [f.id for f in feeds]), strict=True)
    }
    assert all(r.error is None for r in reports.values()), reports
    dead, thin = reports["/broken/dead-link.rss"], reports["/broken/thin.rss"]
    # the page is gone or has no article: the feed's summary stands in, or the item is listed
    for report in (dead, thin):
        assert report.summaries + len(report.failed) >= 1
    assert any("HTTP 404" in why for _, why in dead.failed) or dead.summaries == 1
    titles = {title for _, title, _ in _articles(library)}
    assert all(titles), "an item without a title gets one from its page"
    assert reports["/broken/truncated.rss"].warning is not None
    assert reports["/broken/empty.rss"].entries == 0
    with library.session_factory() as session:
        dated = session.execute(select(Article.published_at)).scalars().all()
    assert all(moment is not None for moment in dated)  # undated items: dated when first seen


@pytest.mark.parametrize("path", ["/broken/relative.rss", "/broken/relative.atom"])
def test_relative_item_links_resolve_against_the_feed(site, library, settings, path):
    [report] = _poll(library, settings, [_add(library, site.url(path)).id])
    assert report.new == 3 and not report.failed, report
    urls = {url for url, _, _ in _articles(library)}
    assert urls == {site.url(f"/news/{a.slug}.html") for a in site.articles[:3]}


def test_private_addresses_are_refused_unless_allowed(site, library, settings):
    feed = _add(library, site.add_feed("private", [site.articles[0].slug]))
    [report] = _poll(library, settings, [feed.id], limits=FetchLimits())
    assert report.error is not None and "refused" in report.error
    assert not _articles(library)


def test_one_process_polls_a_feed_at_a_time(site, library, settings):
    feed = _add(library, site.add_feed("lease", [site.articles[20].slug]))
    with feed_lease(library.session_factory, feed.id) as held:
        assert held is not None
        [report] = _poll(library, settings, [feed.id])
        assert report.busy and not _articles(library)
        results = []
        threads = [
            threading.Thread(
                target=lambda: results.append(
                    feed_lease(library.session_factory, feed.id).__enter__()
                )
            )
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [None] * 4
    [report] = _poll(library, settings, [feed.id])
    assert not report.busy and len(report.added) == 1
    [report] = _poll(library, settings, [feed.id + 100])  # no such feed: said so, not "busy"
    assert report.missing and not report.busy


def test_a_feed_added_for_its_own_first_poll_is_left_to_that_poll(site, library, settings):
    """/feed add polls the new feed itself and reports that poll: a periodic poll (of the
    due feeds, any process) in between would take its stories and leave the admin's poll
    "nothing new" (seen in the e2e test). Held, the periodic poll skips it until `hold`."""
    url = site.add_feed("held", [site.articles[25].slug])
    hold = timedelta(minutes=15)
    feed = add_feed_with_hold(library, url, hold=hold)
    assert _poll(library, settings) == []  # the periodic poll, between add and the admin's
    [report] = _poll(library, settings, [feed.id])  # the admin's
    assert len(report.added) == 1 and report.backlog, report
    with library.session_factory() as session:  # polled: the hold is gone, due every round
        assert feed.id in due_feeds(session, utc_now())
    with library.session_factory() as session:  # the caller died before its poll: due later
        other = add_feed_with_hold(library, site.add_feed("late", []), hold=hold)
        assert other.id not in due_feeds(session, utc_now())
        assert other.id in due_feeds(session, utc_now() + hold + timedelta(seconds=1))
        assert _add(library, site.add_feed("now", [])).id in due_feeds(session, utc_now())


def test_feeds_are_added_listed_and_removed_with_clear_errors(site, library):
    url = site.add_feed("crud", [site.articles[0].slug])
    feed = _add(library, url + "?utm_source=x", "  مصدر  ")
    assert feed.url == url and feed.name == "مصدر"
    with pytest.raises(FeedProblem, match="already followed as feed"):
        _add(library, url)
    with pytest.raises(FeedProblem, match="not an http"):
        _add(library, "file:///etc/passwd")
    with library.session_factory() as session:
        assert [v.id for v in list_feeds(session)] == [feed.id]
        assert remove_feed(session, feed.id) and not remove_feed(session, feed.id)
        assert list_feeds(session) == []
    assert _add(library, "https://example.com/feed.xml").name == "example.com"


def test_added_stories_are_answerable_after_the_build(site, library, settings):
    article = site.articles[30]
    feed = _add(library, site.add_feed("answer", [article.slug]))
    [report] = _poll(library, settings, [feed.id])
    library.build()
    hits = library.search(article.title, 3)
    assert hits and hits[0].article_id == report.added[0]


def test_a_failed_story_is_tried_again_for_a_day_then_given_up(library):
    url = "https://news.example/a/1"
    with library.session_factory() as session:
        feed = add_feed(session, "https://news.example/rss")
        seen = utc_now()
        assert record_items(session, feed.id, [(url, "failed", "HTTP 503")]) == 1
        assert known_items(session, [url], seen + timedelta(hours=1)) == set()  # tried again
        assert known_items(session, [url], seen + RETRY_FAILED + timedelta(minutes=1)) == {url}
        # the page came back: the story is stored and no longer counted as failed
        assert record_items(session, feed.id, [(url, "page", None)]) == 0
        assert known_items(session, [url], seen + timedelta(hours=1)) == {url}
        item = session.scalars(select(FeedItem).where(FeedItem.url == url)).one()
        assert (item.outcome, item.error) == ("page", None)
