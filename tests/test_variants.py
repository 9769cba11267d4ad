"""A question's spelling must not change its answer: spelling variants of 22 news questions get
the same first hit and the same answered / not-answered decision (real model and index)."""

from __future__ import annotations

import json
import unicodedata

import pytest

from bot.answers import select_relevant
from bot.settings import Settings
from retrieval.library import Library
from retrieval.settings import LibrarySettings
from tests.conftest import DEMO, SEED

pytestmark = pytest.mark.slow

QUESTIONS = [
    "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟",
    "من سيلتقي في كأس السوبر الألمانية؟",
    "كم يبلغ راتب والكوت الأسبوعي مع آرسنال؟",
    "من هو اللاعب الغاني الذي يقترب من الانضمام إلى الاتحاد؟",
    "هل توترت العلاقات بين مصر والسودان؟",
    "ما علاقة الجلوس الطويل بمرض السكري؟",
    "أين ستقام محطة الكهرباء العاملة بالطاقة الشمسية؟",
    "كم سيغيب سامي خضيرة عن الملاعب؟",
    "كيف أغلقت سوق الأسهم السعودية يوم الاثنين؟",
    "ما عقوبة من يؤجر بيته لمهاجرين غير شرعيين في بريطانيا؟",
    "ماذا حدث بين قوات صالح والحوثيين في صنعاء؟",
    "بماذا اتهم العبادي الأطراف السياسية؟",
    "كم بلغ سعر برميل النفط؟",
    "كم أنتجت المملكة من المياه المحلاة؟",
    "كم عدد الإصابات الجديدة بفيروس كورونا؟",
    "ماذا حدث في محافظة ضمد بسبب الأمطار؟",
    "لماذا يجتمع وزراء خارجية لجنة مبادرة السلام العربية؟",
    "هل تسبب حريق المنزل في نجران في خسائر؟",
    "ما هدف الوقف الخيري للأمير نايف بن عبدالعزيز؟",
    "كيف ردت البحرين على حرق الرضيع الفلسطيني؟",
    "ماذا فعلت وزارة الشؤون الاجتماعية؟",
    "من المسؤول عن رئاسة مجلس الوزراء في غياب الملك؟",
    "كيف أكتب دالة تكرارية بلغة بايثون؟",  # not answerable: must stay unanswered
    "ما هي وصفة الكنافة النابلسية؟",
]
HARAKAT = "\u064e\u064f\u0650\u0652"


def vocalized(text: str) -> str:
    """Every Arabic letter followed by a haraka (not a correct vocalization: any marks)."""
    out = []
    for i, ch in enumerate(text):
        out.append(ch)
        if "\u0621" <= ch <= "\u064a":
            out.append(HARAKAT[i % len(HARAKAT)])
    return "".join(out)


def bare_alef(text: str) -> str:
    return text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")


def final_ha(text: str) -> str:
    return " ".join(w[:-1] + "ه" if w.endswith("ة") else w for w in text.split(" "))


def hamza_seats(text: str) -> str:
    return text.translate(str.maketrans({"ؤ": "ئ", "ئ": "ؤ"}))


def tatweel(text: str) -> str:
    return " ".join(w[:2] + "ـ" + w[2:] if len(w) > 4 else w for w in text.split(" "))


def invisible(text: str) -> str:
    return text.replace(" ", " \u200f\u200b")


VARIANTS = {
    "vocalized (NFC)": lambda t: unicodedata.normalize("NFC", vocalized(t)),
    "vocalized (NFD)": lambda t: unicodedata.normalize("NFD", vocalized(t)),
    "bare alef": bare_alef,
    "ه for ة": final_ha,
    "hamza seats swapped": hamza_seats,
    "tatweel": tatweel,
    "invisible marks": invisible,
    "all at once": lambda t: invisible(tatweel(final_ha(bare_alef(vocalized(t))))),
}


@pytest.fixture(scope="module")
def library(tmp_path_factory, real_encoder):
    folder = tmp_path_factory.mktemp("variants")
    subset = folder / "demo80.jsonl"
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    wanted = [line for line in lines if json.loads(line)["title"]][:120]
    subset.write_text("\n".join(wanted) + "\n", encoding="utf-8")
    settings = LibrarySettings(
        database_url=f"sqlite:///{folder / 'db.sqlite'}", index_dir=folder / "index"
    )
    lib = Library.open(settings, encoder=real_encoder)
    lib.ingest_paths([SEED, subset])
    lib.build()
    return lib


def reply(library: Library, question: str) -> tuple[int | None, bool]:
    """The first hit's article and whether the bot would present an answer."""
    settings = Settings()
    hits = library.search(question, 2 * settings.top_k)
    shown, _ = select_relevant(hits, settings.top_k, settings.min_relevance)
    return (hits[0].article_id if hits else None), bool(shown)


@pytest.mark.parametrize("question", QUESTIONS)
def test_spelling_variants_get_the_same_reply(library, question):
    expected = reply(library, question)
    for name, variant in VARIANTS.items():
        spelled = variant(question)
        assert reply(library, spelled) == expected, f"{name}: {spelled}"
