"""Replies about the newest news — how old an article is, the «الأحدث أولاً» header, the
/latest list — pure functions, no I/O.

A live corpus dates its articles from now («أمس»، «قبل 3 أيام»). An archive's "today" is its
newest article's day (retrieval/recency.py): there an age would read as if a 2015 story were
from yesterday, so an archive's replies show each article's date (every citation has it) and
say once, in the header, when the news ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot import messages
from bot.format import (
    NBSP,
    RLM,
    counted,
    details,
    digits,
    escape,
    format_date,
    isolate,
    link,
    shorten,
)
from retrieval.recency import Recency, Window, age_in_days, is_archive
from retrieval.types import Hit

LATEST_SHOWN = 5  # articles a /latest list shows
LIST_TITLE_CHARS = 80  # two lines of a phone-wide bubble

_PERIODS = {
    Window("day", 0, 1): messages.PERIOD_TODAY,
    Window("day", 1, 1): messages.PERIOD_YESTERDAY,
    Window("day", 2, 1): messages.PERIOD_DAY_BEFORE,
    Window("day", 0, 7): messages.PERIOD_THIS_WEEK,
    Window("day", 7, 7): messages.PERIOD_LAST_WEEK,
    Window("month", 0, 1): messages.PERIOD_THIS_MONTH,
    Window("month", 1, 1): messages.PERIOD_LAST_MONTH,
    Window("year", 0, 1): messages.PERIOD_THIS_YEAR,
    Window("year", 1, 1): messages.PERIOD_LAST_YEAR,
}


@dataclass(frozen=True)
class Dating:
    """How a reply dates the newest news: "today" (`reference`), whether the corpus is an
    archive (dates, no ages), and the window the question named."""

    reference: datetime
    archive: bool
    window: Window | None = None

    @classmethod
    def of(cls, recency: Recency, reference: datetime, now: datetime) -> Dating:
        """For a question's `recency`, `reference` from `Library.reference_time`."""
        return cls(reference, is_archive(reference, now), recency.window)

    def age(self, published: datetime | None) -> str | None:
        """«اليوم»، «أمس»، «قبل 3 أيام»… from now; None for an archive or an undated article."""
        if self.archive or published is None:
            return None
        return age(age_in_days(published, self.reference))

    def missed(self, hits: Sequence[Hit]) -> bool:
        """Whether the question named a window and none of `hits` lies in it."""
        if self.window is None:
            return False
        start, end = self.window.span(self.reference)
        return not any(h.published_at and start <= h.published_at < end for h in hits)

    @property
    def end(self) -> str:
        """« (أخباري تنتهي في 11 أغسطس 2015)» for an archive, else ""."""
        date = format_date(self.reference)
        return messages.ARCHIVE_END.format(date=date) if self.archive and date else ""


def age(days: int) -> str:
    """How long ago, as a reader says it: «اليوم»، «أمس»، «قبل يومين»، «قبل أسبوعين»…, with
    no-break spaces: an age never breaks across lines."""
    return _age(days).replace(" ", NBSP)


def _age(days: int) -> str:
    if days <= 0:
        return messages.AGE_TODAY
    if days == 1:
        return messages.AGE_YESTERDAY
    if days < 7:
        return counted(days, messages.DAYS_AGO)
    if days < 30:
        return counted(days // 7, messages.WEEKS_AGO)
    if days < 365:
        return counted(days // 30, messages.MONTHS_AGO)
    return counted(days // 365, messages.YEARS_AGO)


def period(window: Window) -> str:
    """The window as a question names it: «اليوم»، «الأسبوع الماضي»، «آخر 3 أيام»…"""
    named = _PERIODS.get(window)
    if named is not None:
        return named
    if window.unit == "hour":
        return counted(window.length, messages.PERIOD_LAST_HOURS)
    return counted(window.length, messages.PERIOD_LAST_DAYS)


def answer_header(dating: Dating, shown: Sequence[Hit]) -> str:
    """The first line of an answer to a recency question (HTML)."""
    if dating.window is not None and dating.missed(shown):
        text = messages.RECENT_MISSED.format(period=period(dating.window), end=dating.end)
    else:
        text = messages.RECENT_HEADER.format(end=dating.end)
    return RLM + escape(text)


def format_latest(hits: Sequence[Hit], dating: Dating, topic: str = "") -> str:
    """The newest articles as a numbered list of citations, each with its age."""
    about = messages.LATEST_ABOUT.format(topic=isolate(topic)) if topic else ""
    if dating.window is None:
        head = messages.LATEST_HEADER.format(about=about, end=dating.end)
    else:
        missed = messages.LATEST_MISSED if dating.missed(hits) else messages.LATEST_IN
        head = missed.format(period=period(dating.window), about=about, end=dating.end)
    lines = [RLM + escape(head)]
    for hit in hits:
        title = shorten(hit.title, LIST_TITLE_CHARS) or messages.UNTITLED
        lines.append(f"{RLM}<b>{digits(hit.rank)}.</b> {link(title, hit.url)}")
        about_it = details(hit.citation, dating.age(hit.published_at))
        if about_it:
            lines.append(RLM + about_it)
    return "\n".join(lines)


def format_no_latest(topic: str) -> str:
    """Nothing relevant to `topic` among the articles."""
    return RLM + escape(messages.LATEST_NONE.format(topic=isolate(topic)))
