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
    # Levantine without hamza, and the Algerian/Tunisian names
    "كانون ثاني": "يناير",
    "اذار": "مارس",
    "ايار": "مايو",
    "اب": "أغسطس",
    "ايلول": "سبتمبر",
    "تشرين اول": "أكتوبر",
    "تشرين ثاني": "نوفمبر",
    "كانون اول": "ديسمبر",
    "جانفي": "يناير",
    "فيفري": "فبراير",
    "أفريل": "أبريل",
    "افريل": "أبريل",
    "جوان": "يونيو",
    "جويلية": "يوليو",
    "أوت": "أغسطس",
    "اوت": "أغسطس",
}
# Publication dates outside these years are misreadings (a Hijri year read as Gregorian, a
# run of digits); longer values are not dates (and dateparser is slow on them).
FIRST_YEAR, MAX_CHARS = 1900, 120
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
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))  # a Unix timestamp
    if not isinstance(value, str):
        raise DateNotUnderstood(f"date {value!r} is not text")
    shown = value.strip()[:60]
    if len(value) > MAX_CHARS:
        raise DateNotUnderstood(f"date {shown!r}… is too long to be a date")
    text = " ".join(value.translate(_DIGITS).split())
    try:
        parsed = _iso(text) or _rfc2822(text) or _anything(text)
        if parsed is not None and parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # a zone offset pushed it out of datetime's range
        parsed = None
    if parsed is None:
        raise DateNotUnderstood(f"date {shown!r} not understood")
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    if not FIRST_YEAR <= parsed.year <= datetime.now(UTC).year + 1:
        raise DateNotUnderstood(f"date {shown!r} is outside {FIRST_YEAR}-today")
    return parsed


def _iso(text: str) -> datetime | None:
    if text.isdigit() and len(text) >= 9:  # a Unix timestamp, in seconds
        return datetime.fromtimestamp(int(text), UTC)
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
