"""Questions that ask for the newest news, and the moment "today" means for a corpus.

`detect` reads a question for a recency cue — the latest («ما آخر أخبار النفط؟»، «ما الجديد
في…»، «مؤخراً») or a stretch of time («اليوم»، «أمس»، «الأسبوع الماضي»، «آخر 3 أيام») — and
returns what is left to search for. Words are compared folded (`retrieval.arabic.fold_word`: no
marks, one alef, ى/ي, ة/ه), with a leading و/ف and ب/ل/ك tried off. «آخر» also means "last" and
"other" («في آخر المباراة»، «آخر مرة»، «لاعب آخر»), «اليوم» names days («اليوم الوطني») and a
newspaper («صحيفة اليوم»): the rules read the neighbouring words (tests/test_recency.py measures
them on a table of questions and on the project's question sets). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final, Literal, TypeVar

from retrieval.arabic import analyze_query, fold_word, light_stem
from retrieval.types import Hit

Unit = Literal["hour", "day", "month", "year"]
_V = TypeVar("_V")

# Calendar days ("today", "yesterday", an article's age) are counted in Arabia Standard Time
# (UTC+3: Riyadh, Baghdad, Kuwait, Doha, Amman), where the bundled outlets publish; Cairo and
# the Maghreb are one to three hours behind, which moves only articles published near midnight.
NEWS_ZONE: Final = timezone(timedelta(hours=3), "AST")
# A corpus whose newest article is older than this is an archive, and "today" is that article's
# day. In the SaudiNewsNet archive (14 outlets, three weeks, 29,848 articles) consecutive
# articles were at most 30 hours apart but once, 81 hours, when its collection paused: a fed
# corpus is silent for a day at most, a stopped one for longer.
ARCHIVE_AFTER: Final = timedelta(days=3)


@dataclass(frozen=True)
class Window:
    """A stretch of time before the reference moment: `length` units ending `back` units before
    the current one. Days, months and years are calendar ones in NEWS_ZONE; hours count back
    from the moment itself. A week is 7 days back: the Arab world starts weeks on Saturday,
    Sunday or Monday."""

    unit: Unit
    back: int
    length: int

    def span(self, reference: datetime) -> tuple[datetime, datetime]:
        """[start, end) of the window around `reference` (aware datetimes); a window that
        reaches the present ends with the current day, month or year."""
        local = reference.astimezone(NEWS_ZONE)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.unit == "hour":
            start = local - timedelta(hours=self.back + self.length)
            end = local - timedelta(hours=self.back) if self.back else day + timedelta(days=1)
            return start, end
        if self.unit == "day":
            return (
                day - timedelta(days=self.back + self.length - 1),
                day + timedelta(days=1 - self.back),
            )
        per = 12 if self.unit == "year" else 1
        first = (local.month - 1) if self.unit == "month" else 0
        index = local.year * 12 + first  # months since year 0 of the current unit's start
        start_index = index - per * (self.back + self.length - 1)
        end_index = index + per * (1 - self.back)
        return _month_start(day, start_index), _month_start(day, end_index)


def _month_start(day: datetime, index: int) -> datetime:
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


@dataclass(frozen=True)
class Recency:
    """A question asking for the newest news: what about (`topic`: the question without its
    recency words, "" for the news in general) and when (`window`; None: just the latest)."""

    topic: str
    window: Window | None = None


def reference_time(newest_published: datetime | None, now: datetime) -> datetime:
    """The moment "today" means: `now` for a live corpus, its newest article's publication for
    an archive (newest article older than ARCHIVE_AFTER)."""
    if newest_published is None or now - newest_published <= ARCHIVE_AFTER:
        return now
    return newest_published


def is_archive(reference: datetime, now: datetime) -> bool:
    """Whether `reference` (from `reference_time`) is an archive's newest article, not now."""
    return now - reference > ARCHIVE_AFTER


def age_in_days(published: datetime, reference: datetime) -> int:
    """Calendar days (NEWS_ZONE) from publication to the reference day: 0 the same day."""
    days = reference.astimezone(NEWS_ZONE).date() - published.astimezone(NEWS_ZONE).date()
    return max(days.days, 0)


def newest_first(
    hits: Sequence[Hit], span: tuple[datetime, datetime] | None, min_relevance: float
) -> list[Hit]:
    """Relevant hits published in `span` newest first, then the other relevant hits newest first
    (undated last), then the rest as ranked. Newest by calendar day, as replies date them: the
    more relevant first within a day. Relevant: `Hit.relevance` reaches `min_relevance`; hits
    without one (lexical-only search) count as relevant, as the bot shows them."""

    def group(hit: Hit) -> int:
        if not hit.passes(min_relevance):
            return 2
        published = hit.published_at
        return 0 if span and published and span[0] <= published < span[1] else 1

    def order(item: tuple[int, Hit]) -> tuple[int, int, float, int]:
        rank, hit = item
        published = hit.published_at
        day = published.astimezone(NEWS_ZONE).date().toordinal() if published else 0
        return group(hit), -day, -(hit.relevance or 0.0), rank

    relevant = sorted(((i, h) for i, h in enumerate(hits) if group(h) < 2), key=order)
    return [h for _, h in relevant] + [h for h in hits if group(h) == 2]


# --- reading a question -----------------------------------------------------------------------
def _words(text: str) -> frozenset[str]:
    return frozenset(fold_word(w) for w in text.split())


_LATEST = _words("آخر أحدث")
# What the newest of is asked for after «آخر»/«أحدث» (definite or not), and what a recency
# question says besides its topic: left out of the search.
_NEWS = _words(
    "أخبار الأخبار خبر الخبر أنباء الأنباء نبأ مستجدات المستجدات تطورات التطورات جديد الجديد "
    "أحداث الأحداث تقارير التقارير تقرير تصريحات التصريحات تصريح بيان البيان بيانات "
    "قرارات القرارات قرار إحصاءات الإحصاءات إحصائيات الإحصائيات أرقام الأرقام نتائج النتائج "
    "معلومات المعلومات مقالات المقالات مقال ما"
)
_GENERIC = _words(
    "أخبار الأخبار خبر الخبر أنباء الأنباء نبأ مستجدات المستجدات تطورات التطورات جديد الجديد "
    "أحداث الأحداث حدث يحدث حصل يحصل جرى يجري صار يصير أهم أبرز "
    "أعطني عطني هات أرني اعرض أريد أبغى أبي"
)
_NEWS_ASKED = _words("أخبار الأخبار جديد الجديد تطورات التطورات مستجدات المستجدات")
# «آخر» before these is "the last", not "the latest" («آخر مرة»، «آخر موعد»، «آخر أيامه»).
_TIME_NOUNS = _words(
    "مرة يوم أيام موعد أجل دقيقة دقائق لحظة لحظات ساعة ساعات أسبوع أسابيع شهر أشهر سنة سنوات "
    "عام أعوام فرصة مهلة مطاف نفس رمق قطرة حرف كلمة"
)
_TIME_STEMS = frozenset(light_stem(w) for w in _TIME_NOUNS)
_ASKING = _words("ما ماذا من هل كم متى أين كيف ماهو ماهي هو هي شو ايش إيش وش شنو")
_ALWAYS_LATEST = _words("مستجدات المستجدات مؤخرا موخرا حاليا الآن الحين هالأيام")
_UNTIL = _words("حتى إلى لحد لغاية للحين")
_TODAY = _words("اليوم النهارده النهاردة")
_YESTERDAY = _words("أمس الأمس البارحة بارحة امبارح مبارح")
_PART_OF_DAY = _words("صباح مساء ظهر عصر فجر ليلة ظهيرة")
_FIRST = _words("أول الأول")
# «اليوم» as a name: after these words, or before an ordinal or an adjective («اليوم الوطني»)
_NAMES_BEFORE = _words("صحيفة جريدة موقع قناة برنامج مجلة")
_ORDINALS = _words("الأول الثالث الرابع الخامس السادس السابع الثامن التاسع العاشر الأخير الموعود")
_WEEKDAYS = _words("الأحد الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت")
_THIS = _words("هذا هذه")
_PERIODS = {fold_word(w): u for w, u in (("الأسبوع", "week"), ("الشهر", "month"))} | {
    fold_word(w): "year" for w in ("العام", "السنة")
}
_HAL = {"هال" + word.removeprefix("ال"): unit for word, unit in _PERIODS.items()}  # هالأسبوع
_CURRENT = _words("الحالي الحالية الجاري الجارية")
_PAST = _words(
    "الماضي الماضية الماضيين المنصرم المنصرمة الفائت الفائتة السابق السابقة المنقضي المنقضية"
)
_LAST = _words("الأخير الأخيرة الأخيرين")
_DURING = _words("خلال طوال طيلة")
_COMPARED = _words("مقارنة بالمقارنة قياسا مقابل")
_RECENT_NOUNS = _words(
    "الآونة الفترة المدة الأيام الأسابيع الأشهر الشهور السنوات الأعوام الساعات "
    "الأخبار التطورات المستجدات الأحداث الأنباء"
)
_THESE_DAYS = _words("الأيام")
_NUMBERS = {
    fold_word(w): n
    for n, words in enumerate(
        (
            "",
            "واحد",
            "اثنين اثنان",
            "ثلاث ثلاثة",
            "أربع أربعة",
            "خمس خمسة",
            "ست ستة",
            "سبع سبعة",
            "ثمان ثماني ثمانية",
            "تسع تسعة",
            "عشر عشرة",
        )
    )
    for w in words.split()
}
_UNITS = {
    fold_word(w): unit
    for unit, words in (
        ("hour", "ساعة ساعات"),
        ("day", "يوم أيام يوما"),
        ("week", "أسبوع أسابيع أسبوعا"),
        ("month", "شهر أشهر شهور شهرا"),
        ("year", "سنة سنوات سنين عام أعوام عاما"),
    )
    for w in words.split()
}
_DUALS = {
    fold_word(w): unit
    for unit, words in (
        ("hour", "ساعتين ساعتان"),
        ("day", "يومين يومان"),
        ("week", "أسبوعين أسبوعان"),
        ("month", "شهرين شهران"),
        ("year", "سنتين سنتان عامين عامان"),
    )
    for w in words.split()
}
_DAYS_IN = {"week": 7, "month": 30, "year": 365}
_EDGES = re.compile(r"^\W+|\W+$")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    key: str  # folded, without the punctuation around it
    forms: frozenset[str]  # the key, and the key with a leading conjunction/preposition off


@dataclass(frozen=True)
class _Cue:
    used: tuple[int, ...]  # the tokens that say it
    window: Window | None


def detect(question: str) -> Recency | None:
    """The recency the question asks for, or None when it asks for none."""
    tokens = [_token(m) for m in re.finditer(r"\S+", question)]
    cues = []
    for i in range(len(tokens)):
        for rule in _RULES:
            cue = rule(tokens, i)
            if cue is not None:
                cues.append(cue)
                break
    if not cues:
        return None
    used = {i for cue in cues for i in cue.used}
    kept = [t for i, t in enumerate(tokens) if i not in used and t.forms.isdisjoint(_GENERIC)]
    window = next((cue.window for cue in cues if cue.window is not None), None)
    return Recency(_topic(question, kept), window)


def about(topic: str) -> Recency:
    """The latest about `topic` (`/latest النفط`); recency words in it count («النفط اليوم»)."""
    detected = detect(topic)
    if detected is not None:
        return detected
    tokens = [_token(m) for m in re.finditer(r"\S+", topic)]
    return Recency(_topic(topic, [t for t in tokens if t.forms.isdisjoint(_GENERIC)]))


def _topic(question: str, kept: list[_Token]) -> str:
    """The kept words without question and function words at either end; "" when nothing
    searchable is left («ما آخر الأخبار؟»)."""
    while kept and (not analyze_query(kept[0].key) or kept[0].key in _ASKING):
        kept = kept[1:]
    while kept and (not analyze_query(kept[-1].key) or kept[-1].key in _ASKING):
        kept = kept[:-1]
    return " ".join(question[t.start : t.end] for t in kept)


def _token(match: re.Match[str]) -> _Token:
    key = _EDGES.sub("", fold_word(match.group()))
    forms = {key}
    if key[:1] in ("و", "ف") and len(key) > 3:
        forms.add(key[1:])
    for form in list(forms):
        if form.startswith("لل") and len(form) > 3:
            forms.add("ال" + form[2:])
        elif form[:1] in ("ب", "ل", "ك") and len(form) > 3:
            forms.add(form[1:])
    return _Token(match.start(), match.end(), key, frozenset(forms))


def _is(tokens: Sequence[_Token], i: int, words: frozenset[str]) -> bool:
    return 0 <= i < len(tokens) and not tokens[i].forms.isdisjoint(words)


def _lookup(tokens: Sequence[_Token], i: int, table: dict[str, _V]) -> _V | None:
    """The value of the token's first form in `table`, with or without its article."""
    if not 0 <= i < len(tokens):
        return None
    for form in sorted(tokens[i].forms, key=len, reverse=True):
        for bare in (form, form.removeprefix("ال")):
            if bare in table:
                return table[bare]
    return None


def _number(tokens: Sequence[_Token], i: int) -> int | None:
    if 0 <= i < len(tokens):
        bare = tokens[i].key.removeprefix("ال")
        if bare.isdigit() and 0 < int(bare) <= 1000:
            return int(bare)
    return _lookup(tokens, i, _NUMBERS)


def _last_units(unit: str, n: int) -> Window:
    """The last `n` hours, days, weeks, months or years (weeks and longer in days)."""
    if unit == "hour":
        return Window("hour", 0, n)
    return Window("day", 0, n * _DAYS_IN.get(unit, 1))


def _counted(tokens: Sequence[_Token], i: int) -> _Cue | None:
    """«آخر 3 أيام»، «آخر يومين»، «الأيام الثلاثة الماضية»، «الـ24 ساعة الماضية»."""
    if _is(tokens, i, _LATEST):
        if (dual := _lookup(tokens, i + 1, _DUALS)) is not None:
            return _Cue((i, i + 1), _last_units(dual, 2))
        n, unit = _number(tokens, i + 1), _lookup(tokens, i + 2, _UNITS)
        return _Cue((i, i + 1, i + 2), _last_units(unit, n)) if n and unit else None
    if (dual := _lookup(tokens, i, _DUALS)) is not None and _is(tokens, i + 1, _PAST | _LAST):
        return _Cue((i, i + 1), _last_units(dual, 2))
    n, unit = _number(tokens, i), _lookup(tokens, i + 1, _UNITS)
    if not (n and unit):  # the unit first: «الأيام الثلاثة الماضية»
        unit, n = _lookup(tokens, i, _UNITS), _number(tokens, i + 1)
    if n and unit and _is(tokens, i + 2, _PAST | _LAST):
        return _Cue((i, i + 1, i + 2), _last_units(unit, n))
    return None


def _period(tokens: Sequence[_Token], i: int) -> _Cue | None:
    """«هذا الأسبوع»، «الشهر الماضي»، «خلال العام الماضي»، «السنة الحالية»، «هالشهر»."""
    if (unit := _lookup(tokens, i, _HAL)) is not None:
        return _Cue((i,), _this(unit))
    if _is(tokens, i, _THIS) and (unit := _lookup(tokens, i + 1, _PERIODS)) is not None:
        return _Cue((i, i + 1), _this(unit))
    unit = _lookup(tokens, i, _PERIODS)
    if unit is None or _is(tokens, i - 1, _COMPARED):  # «مقارنة بالعام الماضي»
        return None
    if unit == "year" and i > 0 and tokens[i - 1].key.startswith("ال"):
        return None  # «العام» as "general": «المدير العام السابق»، «الأمين العام الحالي»
    if _is(tokens, i + 1, _CURRENT):
        return _Cue((i, i + 1), _this(unit))
    if _is(tokens, i + 1, _PAST) and _is(tokens, i - 1, _DURING):
        return _Cue((i - 1, i, i + 1), _last_units(unit, 1))
    if _is(tokens, i + 1, _PAST):
        return _Cue((i, i + 1), _previous(unit))
    if _is(tokens, i + 1, _LAST):
        return _Cue((i, i + 1), _last_units(unit, 1))
    return None


def _this(unit: str) -> Window:
    return Window("day", 0, 7) if unit == "week" else Window(_calendar(unit), 0, 1)


def _previous(unit: str) -> Window:
    return Window("day", 7, 7) if unit == "week" else Window(_calendar(unit), 1, 1)


def _calendar(unit: str) -> Unit:
    return "year" if unit == "year" else "month"


def _newest(tokens: Sequence[_Token], i: int) -> _Cue | None:
    """«آخر/أحدث» + what is news («آخر أخبار»، «أحدث ما نُشر») or a thing the question names
    («آخر مباراة»), not a time («آخر مرة»), not a definite noun («في آخر المباراة»: its end)."""
    if not _is(tokens, i, _LATEST) or i + 1 >= len(tokens):
        return None
    following = tokens[i + 1]
    if not following.forms.isdisjoint(_NEWS):
        return _Cue((i,), None)
    if (
        following.key.startswith("ال")
        or following.key in _TIME_NOUNS
        or light_stem(following.key) in _TIME_STEMS
        or not analyze_query(following.key)  # a function word: «لاعب آخر إلى…»
    ):
        return None
    if "احدث" in tokens[i].forms:  # also a verb: «ما الذي أحدث ضجة»
        asked = _is(tokens, i - 1, _ASKING)
        return _Cue((i,), None) if asked and not following.key.endswith("ا") else None
    return _Cue((i,), None)


def _today(tokens: Sequence[_Token], i: int) -> _Cue | None:
    """«اليوم», not a day's or a newspaper's name («اليوم الوطني»، «صحيفة اليوم»)."""
    if not _is(tokens, i, _TODAY) or _is(tokens, i - 1, _NAMES_BEFORE):
        return None
    if i + 1 < len(tokens):
        following = tokens[i + 1].key
        if following in _ORDINALS or (
            following.startswith("ال") and following.endswith("ي") and following not in _WEEKDAYS
        ):
            return None  # «اليوم العالمي»، «اليوم الأول»، «اليوم الذي»
    if _is(tokens, i - 1, _UNTIL):  # «حتى اليوم»: the latest, no window
        return _Cue((i - 1, i), None)
    before = (i - 1,) if _is(tokens, i - 1, _PART_OF_DAY | _THIS) else ()
    return _Cue((*before, i), Window("day", 0, 1))


def _yesterday(tokens: Sequence[_Token], i: int) -> _Cue | None:
    """«أمس»، «البارحة»، «امبارح»; «أول أمس» / «أمس الأول»: the day before."""
    if not _is(tokens, i, _YESTERDAY):
        return None
    if _is(tokens, i - 1, _FIRST):
        return _Cue((i - 1, i), Window("day", 2, 1))
    if _is(tokens, i + 1, _FIRST):
        return _Cue((i, i + 1), Window("day", 2, 1))
    before = (i - 1,) if _is(tokens, i - 1, _PART_OF_DAY) else ()
    return _Cue((*before, i), Window("day", 1, 1))


def _lately(tokens: Sequence[_Token], i: int) -> _Cue | None:
    """«مؤخراً»، «حتى الآن»، «ما الجديد»، «ما أخبار…»، «في الآونة الأخيرة»، «هذه الأيام»."""
    if _is(tokens, i, _ALWAYS_LATEST):
        return _Cue((i - 1, i) if _is(tokens, i - 1, _UNTIL) else (i,), None)
    if _is(tokens, i, _NEWS_ASKED) and _is(tokens, i - 1, _ASKING):
        return _Cue((i,), None)
    if _is(tokens, i, _RECENT_NOUNS) and _is(tokens, i + 1, _LAST | _PAST):
        return _Cue((i, i + 1), None)
    if _is(tokens, i, _THIS) and _is(tokens, i + 1, _THESE_DAYS):
        return _Cue((i, i + 1), None)
    return None


_RULES: Final[tuple[Callable[[Sequence[_Token], int], _Cue | None], ...]] = (
    _counted,
    _period,
    _newest,
    _today,
    _yesterday,
    _lately,
)
