"""Publication dates as news sites and feeds write them, to aware UTC datetimes.

ISO 8601 is parsed directly (the bulk of archives, and fast); RSS/e-mail dates by the standard
library; everything else by `dateparser` in Arabic and English, day before month as in the Arab
world («01/08/2015» is 1 August). Eastern Arabic digits and the Levantine and Maghrebi month
names (آب، تموز، غشت …), which dateparser's Arabic data lacks, are rewritten first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import dateparser

_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Month names used in the Levant/Iraq and the Maghreb -> the names dateparser knows.
_MONTHS: Final = {
    "كانون الثاني": "يناير",
    "شباط": "فبراير",
    "آذار": "مارس",
    "نيسان": "أبريل",
    "أيار": "مايو",
    "حزيران": "يونيو",
    "تموز": "يوليو",
    "آب": "أغسطس",
    "أيلول": "سبتمبر",
    "تشرين الأول": "أكتوبر",
    "تشرين الثاني": "نوفمبر",
    "كانون الأول": "ديسمبر",
    "يوليوز": "يوليو",
    "غشت": "أغسطس",
    "شتنبر": "سبتمبر",
    "نونبر": "نوفمبر",
    "دجنبر": "ديسمبر",
    "ماي": "مايو",
}
_MONTH_NAMES: Final = re.compile(
    r"(?<!\w)(" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + r")(?!\w)"
)
_SETTINGS: Final = {
    "DATE_ORDER": "DMY",
    # Absolute dates only: "yesterday" in an archive is relative to an unknown day.
    "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
    "REQUIRE_PARTS": ["month", "year"],
    "PREFER_DAY_OF_MONTH": "first",
    "TIMEZONE": "UTC",  # naive dates are taken as UTC, like everywhere in the store
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
}


class DateNotUnderstood(ValueError):
    """A non-empty date value that is no date this parser knows."""


def parse_date(value: Any) -> datetime | None:
    """An aware UTC datetime; None when `value` is missing or blank.

    Raises DateNotUnderstood for anything else that is not a date (the caller keeps the
    article without a date and reports it).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise DateNotUnderstood(f"date {value!r} is not text")
    text = " ".join(value.translate(_DIGITS).split())
    parsed = _iso(text) or _rfc2822(text) or _anything(text)
    if parsed is None:
        raise DateNotUnderstood(f"date {value.strip()[:60]!r} not understood")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _rfc2822(text: str) -> datetime | None:
    """RSS 2.0 pubDate: `Sat, 01 Aug 2015 07:51:31 +0300`."""
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _anything(text: str) -> datetime | None:
    text = _MONTH_NAMES.sub(lambda m: _MONTHS[m.group(1)], text)
    parsed = dateparser.parse(text, languages=["ar", "en"], settings=_SETTINGS)  # type: ignore[arg-type]
    return parsed
