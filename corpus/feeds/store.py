"""Feeds in the database: adding, listing, removing, and the per-feed lease that lets one
process at a time poll a feed (several bot replicas share one database)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from corpus.columns import utc_now
from corpus.feeds.urls import canonical_url, is_http_url
from corpus.models import Feed, FeedItem

# A poll holds its feed this long at most: longer than any poll takes (50 items, each fetch
# bounded by FetchLimits.total_s), short enough that a crashed poller's feed is soon polled
# by another process.
LEASE: Final = timedelta(minutes=30)
# A story whose page and summary both failed is tried again at each poll for this long (the
# page may have been down, or not yet published), then given up.
RETRY_FAILED: Final = timedelta(hours=24)
NAME_CHARS: Final = 255


class FeedProblem(ValueError):
    """A feed that cannot be added or found, in words for the admin who asked."""


@dataclass(frozen=True)
class FeedView:
    """A feed as /feed list shows it."""

    id: int
    url: str
    name: str
    added_at: datetime
    polled_at: datetime | None
    ok_at: datetime | None
    last_error: str | None
    failures: int
    next_poll_at: datetime | None
    items_seen: int
    articles_added: int
    etag: str | None = None  # the server's validators, for the next conditional GET
    last_modified: str | None = None


def _view(feed: Feed) -> FeedView:
    return FeedView(
        feed.id,
        feed.url,
        feed.name,
        feed.added_at,
        feed.polled_at,
        feed.ok_at,
        feed.last_error,
        feed.failures,
        feed.next_poll_at,
        feed.items_seen,
        feed.articles_added,
        feed.etag,
        feed.last_modified,
    )


def add_feed(
    session: Session, url: str, name: str | None = None, *, due_at: datetime | None = None
) -> FeedView:
    """Follow the feed at `url` (stored canonical), named `name` or by its host; FeedProblem
    when the URL is not http(s) or the feed is already followed. `due_at`: when `due_feeds`
    first lists it (None: at once)."""
    url = url.strip()
    if not is_http_url(url):
        raise FeedProblem(f"not an http(s) URL: {url[:200]}")
    canonical = canonical_url(url)
    label = (name or "").strip() or _host(canonical)
    feed = Feed(
        url=canonical,
        name=label[:NAME_CHARS],
        failures=0,
        items_seen=0,
        articles_added=0,
        added_at=utc_now(),
        next_poll_at=due_at,
    )
    session.add(feed)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        existing = session.scalars(select(Feed).where(Feed.url == canonical)).one()
        raise FeedProblem(f"already followed as feed {existing.id} ({existing.name})") from exc
    return _view(feed)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


def list_feeds(session: Session) -> list[FeedView]:
    """Every feed, oldest first."""
    return [_view(feed) for feed in session.scalars(select(Feed).order_by(Feed.id))]


def get_feed(session: Session, feed_id: int) -> FeedView | None:
    feed = session.get(Feed, feed_id)
    return _view(feed) if feed is not None else None


def remove_feed(session: Session, feed_id: int) -> bool:
    """Stop following a feed; its articles stay in the corpus. False when there is none."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return False
    session.delete(feed)
    session.commit()
    return True


def due_feeds(session: Session, now: datetime) -> list[int]:
    """Feeds whose backoff is over (or never polled), oldest poll first."""
    query = (
        select(Feed.id)
        .where(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))
        .order_by(Feed.polled_at.is_not(None), Feed.polled_at, Feed.id)
    )
    return list(session.scalars(query))


@contextlib.contextmanager
def feed_lease(
    session_factory: sessionmaker[Session], feed_id: int, now: datetime | None = None
) -> Iterator[FeedView | None]:
    """Hold `feed_id` for one poll: yields the feed, or None when another process holds it
    (or it was removed). One conditional UPDATE takes it, so two processes never both do."""
    now = now or utc_now()
    with session_factory() as session:
        result = session.execute(
            update(Feed)
            .where(Feed.id == feed_id)
            .where(or_(Feed.lease_until.is_(None), Feed.lease_until < now))
            .values(lease_until=now + LEASE)
        )
        taken = cast("CursorResult[Any]", result).rowcount
        session.commit()
        feed = session.get(Feed, feed_id) if taken else None
        view = _view(feed) if feed is not None else None
    if view is None:
        yield None
        return
    try:
        yield view
    finally:
        with session_factory() as session:
            session.execute(update(Feed).where(Feed.id == feed_id).values(lease_until=None))
            session.commit()


def known_items(session: Session, urls: Sequence[str], now: datetime | None = None) -> set[str]:
    """Which of these canonical URLs some feed has already met, except stories that failed
    less than RETRY_FAILED ago: those are tried again (a page that was down may be back)."""
    now = now or utc_now()
    found: set[str] = set()
    unique = sorted(set(urls))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        retry = (FeedItem.outcome == "failed") & (FeedItem.seen_at > now - RETRY_FAILED)
        query = select(FeedItem.url).where(FeedItem.url.in_(chunk)).where(~retry)
        found.update(session.scalars(query))
    return found


def record_items(
    session: Session, feed_id: int, items: Sequence[tuple[str, str, str | None]]
) -> int:
    """Remember (url, outcome, error) items met by `feed_id`; an item another process recorded
    meanwhile is left as it is, except a failed one that now succeeded. Returns how many were
    new."""
    new = 0
    for url, outcome, error in items:
        try:
            with session.begin_nested():
                session.add(FeedItem(url=url, feed_id=feed_id, outcome=outcome, error=error))
            new += 1
        except IntegrityError:
            if outcome != "failed":
                session.execute(
                    update(FeedItem)
                    .where(FeedItem.url == url, FeedItem.outcome == "failed")
                    .values(outcome=outcome, error=error)
                )
    session.commit()
    return new


def finish_poll(
    session: Session,
    feed_id: int,
    *,
    error: str | None,
    etag: str | None,
    last_modified: str | None,
    seen: int,
    added: int,
    now: datetime,
    next_poll_at: Callable[[int], datetime | None],
) -> None:
    """Record one poll's outcome: `error` None = the feed answered (items or 304); `seen` new
    items met, `added` articles they added; `next_poll_at(failures)` sets the backoff."""
    feed = session.get(Feed, feed_id)
    if feed is None:  # removed while it was polled
        return
    feed.polled_at = now
    if error is None:
        feed.ok_at, feed.last_error, feed.failures = now, None, 0
        feed.etag, feed.last_modified = etag, last_modified
    else:
        feed.last_error, feed.failures = error[:1000], feed.failures + 1
    feed.next_poll_at = next_poll_at(feed.failures)
    feed.items_seen += seen
    feed.articles_added += added
    session.commit()
