"""SQLAlchemy models: an Article and the Passages cut from its cleaned body."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from corpus.columns import UTCDateTime, utc_now


class Base(DeclarativeBase):
    """Declarative base of the corpus schema."""


class Article(Base):
    """One news article; `body` is the cleaned text that passage offsets point into."""

    __tablename__ = "articles"
    # Never reuse ids of deleted rows: an index built earlier may still cite them.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(2048), index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    language: Mapped[str] = mapped_column(String(16), default="ar")
    # sha256 of the cleaned title + body: the change detector for idempotent ingest.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    passages: Mapped[list[Passage]] = relationship(
        back_populates="article",
        order_by="Passage.ordinal",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"Article(id={self.id!r}, external_id={self.external_id!r}, title={self.title!r})"


class Passage(Base):
    """A contiguous slice `article.body[char_start:char_end]`, the unit that gets embedded."""

    __tablename__ = "passages"
    __table_args__ = (
        UniqueConstraint("article_id", "ordinal"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    # sha256 of `text`: lets the index reuse embeddings of passages that did not change.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)

    article: Mapped[Article] = relationship(back_populates="passages")

    def __repr__(self) -> str:
        return f"Passage(id={self.id!r}, article_id={self.article_id!r}, ordinal={self.ordinal!r})"


class LineShape(Base):
    """How many articles of one source carry a line of one shape (`corpus.boilerplate`):
    the evidence that a line is the site's boilerplate rather than the story's."""

    __tablename__ = "line_shapes"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)  # boilerplate.shape_key
    articles: Mapped[int] = mapped_column(Integer, default=0)


class Feed(Base):
    """An RSS/Atom/RDF feed the corpus follows (`corpus.feeds.poll`): where it is, what its
    server said last (for conditional GET), and how polling it went."""

    __tablename__ = "feeds"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)  # canonical (feeds.urls)
    name: Mapped[str] = mapped_column(String(255))  # the outlet, as citations show it
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row: sets the backoff
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    articles_added: Mapped[int] = mapped_column(Integer, default=0)
    # One poller at a time across processes: a lease taken by a conditional UPDATE.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeedItem(Base):
    """A story seen in a feed, by canonical URL: each is fetched and ingested once, whichever
    feed (or replica) meets it first."""

    __tablename__ = "feed_items"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("feeds.id", ondelete="SET NULL"), index=True
    )
    # "page": the article page's text; "summary": the feed's own (page refused or unreadable);
    # "failed": nothing usable (see `error`)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
