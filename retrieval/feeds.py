"""Polling the corpus's feeds: each due feed polled by one process at a time (`corpus.feeds`),
its new stories stored as articles. Indexing them is the caller's next step (`Library.build`),
so that the bot can run it under its own build lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from corpus.columns import utc_now
from corpus.feeds import store
from corpus.feeds.fetch import FetchLimits
from corpus.feeds.poll import Polled, next_poll, poll
from corpus.feeds.store import (
    FeedProblem,
    FeedView,
    due_feeds,
    feed_lease,
    finish_poll,
    known_items,
    record_items,
)
from retrieval.library import Library
from retrieval.settings import LibrarySettings


@dataclass(frozen=True)
class FeedPollReport:
    """One feed's poll, as an admin reads it."""

    feed_id: int
    name: str
    busy: bool = False  # another process was polling it
    missing: bool = False  # no such feed (never was, or removed)
    error: str | None = None
    warning: str | None = None
    not_modified: bool = False
    entries: int = 0  # items the feed lists
    new: int = 0  # items not met before
    added: list[int] = field(default_factory=list)  # article ids
    updated: list[int] = field(default_factory=list)
    summaries: int = 0  # stories taken from the feed's summary (page unreadable)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, why)
    # the feed's first successful poll: its stories are the feed's backlog, not news to alert
    backlog: bool = False


def add_feed(
    library: Library, url: str, name: str | None = None, *, hold: timedelta = timedelta(0)
) -> FeedView:
    """Follow the feed at `url` (stored canonical; `name` defaults to its host). Raises
    FeedProblem, with a message for the admin, for a non-http URL or a feed already followed.

    `hold`: how long the periodic poll (`poll_feeds` of the due feeds, in any process) leaves
    the new feed alone, for a caller that polls it itself at once and reports that poll (the
    bot's /feed add): otherwise the periodic poll may take the feed first and the caller's
    poll finds it unchanged. Past `hold` (the caller stopped before polling) it is due as any."""
    due_at = utc_now() + hold if hold else None
    with library.session_factory() as session:
        return store.add_feed(session, url, name, due_at=due_at)


def list_feeds(library: Library) -> list[FeedView]:
    """Every followed feed, oldest first, with its last poll and last error."""
    with library.session_factory() as session:
        return store.list_feeds(session)


def remove_feed(library: Library, feed_id: int) -> bool:
    """Stop following a feed; its articles stay. False when there is no such feed."""
    with library.session_factory() as session:
        return store.remove_feed(session, feed_id)


def fetch_limits(settings: LibrarySettings) -> FetchLimits:
    return FetchLimits(allow_private=settings.feed_allow_private_networks)


def poll_feeds(
    library: Library,
    settings: LibrarySettings,
    feed_ids: Sequence[int] | None = None,
    *,
    limits: FetchLimits | None = None,
    now: datetime | None = None,
) -> list[FeedPollReport]:
    """Poll `feed_ids` (default: the feeds that are due) and store their new stories. Blocks
    for the network: call it off the event loop."""
    now = now or utc_now()
    limits = limits or fetch_limits(settings)
    interval = timedelta(minutes=settings.feed_poll_minutes)
    with library.session_factory() as session:
        ids = list(feed_ids) if feed_ids is not None else due_feeds(session, now)
    return [_poll_one(library, feed_id, limits, now, interval) for feed_id in ids]


def _poll_one(
    library: Library, feed_id: int, limits: FetchLimits, now: datetime, interval: timedelta
) -> FeedPollReport:
    with feed_lease(library.session_factory, feed_id, now) as feed:
        if feed is None:
            with library.session_factory() as session:
                gone = store.get_feed(session, feed_id) is None
            return FeedPollReport(feed_id, "", busy=not gone, missing=gone)

        def known(urls: Sequence[str]) -> set[str]:
            with library.session_factory() as session:
                return known_items(session, urls, now)

        polled = poll(
            feed.url,
            feed.name,
            known,
            etag=feed.etag,
            last_modified=feed.last_modified,
            limits=limits,
            now=now,
        )
        records = [story.record for story in polled.stories if story.record is not None]
        report = library.add_articles(records) if records else None
        with library.session_factory() as session:
            new = record_items(
                session, feed.id, [(s.url, s.outcome, s.error) for s in polled.stories]
            )
            finish_poll(
                session,
                feed.id,
                error=polled.error,
                etag=polled.etag,
                last_modified=polled.last_modified,
                seen=new,
                added=len(report.added) if report else 0,
                now=now,
                next_poll_at=lambda failures: next_poll(now, failures, interval),
            )
        return _report(
            feed.id,
            feed.name,
            polled,
            report.added if report else [],
            report.updated if report else [],
            backlog=feed.ok_at is None,
        )


def _report(
    feed_id: int,
    name: str,
    polled: Polled,
    added: list[int],
    updated: list[int],
    *,
    backlog: bool,
) -> FeedPollReport:
    return FeedPollReport(
        feed_id,
        name,
        backlog=backlog and polled.error is None,
        error=polled.error,
        warning=polled.warning,
        not_modified=polled.not_modified,
        entries=polled.entries,
        new=len(polled.stories),
        added=added,
        updated=updated,
        summaries=sum(s.outcome == "summary" for s in polled.stories),
        failed=[(s.url, s.error or "") for s in polled.stories if s.outcome == "failed"],
    )


__all__ = [
    "FeedPollReport",
    "FeedProblem",
    "FeedView",
    "add_feed",
    "fetch_limits",
    "list_feeds",
    "poll_feeds",
    "remove_feed",
]
