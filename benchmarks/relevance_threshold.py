"""Cosine (Hit.dense_score) distributions of answerable and unanswerable questions: how the old
single cosine threshold (0.84) was calibrated. The bot's gate now weighs more evidence and is
calibrated by benchmarks/gate.py, which reuses the question lists below.

Two views, both with the real model:
  * news questions written by hand over the demo corpus: ones it answers (positives: the score of
    the hit from the expected article) and ones it cannot answer (negatives: the best score);
  * ARCD: the gold paragraph's score for sampled questions (positives), and the best score the
    same questions get on the news corpus, which does not contain their answers (negatives).

Prints the distributions and the threshold that maximises TPR - FPR (Youden's J).

    DATABASE_URL=sqlite:///data/sanad.db INDEX_DIR=data/index \
        python benchmarks/relevance_threshold.py ../shared/data/arcd/arcd.json --paragraphs 120
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from pathlib import Path

import numpy as np

from retrieval.library import Library
from retrieval.settings import LibrarySettings

IN_CORPUS = [
    ("ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟", "الطرابلسي يبحث مع سفير مالطا"),
    ("من سيلتقي في كأس السوبر الألمانية؟", "بايرن ميونيخ وفولفسبورغ"),
    ("كم يبلغ راتب والكوت الأسبوعي مع آرسنال؟", "آرسنال يمدد تعاقده"),
    ("من هو اللاعب الغاني الذي يقترب من الانضمام إلى الاتحاد؟", "الغاني واكاسو"),
    ("هل توترت العلاقات بين مصر والسودان؟", "القاهرة تنفي توتر"),
    ("ما علاقة الجلوس الطويل بمرض السكري؟", "الجلوس لفترات طويلة"),
    ("أين ستقام محطة الكهرباء العاملة بالطاقة الشمسية؟", "العواجي"),
    ("كم سيغيب سامي خضيرة عن الملاعب؟", "خضيرة يغيب"),
    ("كيف أغلقت سوق الأسهم السعودية يوم الاثنين؟", "الأسهم المحلية تغلق"),
    ("ما عقوبة من يؤجر بيته لمهاجرين غير شرعيين في بريطانيا؟", "مشروع قانون بريطاني"),
    ("ماذا حدث بين قوات صالح والحوثيين في صنعاء؟", "اقتتال عنيف"),
    ("بماذا اتهم العبادي الأطراف السياسية؟", "العبادي يتهم"),
    ("كم بلغ سعر برميل النفط؟", "النفط يرتفع"),
    ("كم أنتجت المملكة من المياه المحلاة؟", "المياه المحلاة"),
    ("كم عدد الإصابات الجديدة بفيروس كورونا؟", "إصابتان بكورونا"),
    ("ماذا حدث في محافظة ضمد بسبب الأمطار؟", "السيول تداهم"),
    ("لماذا يجتمع وزراء خارجية لجنة مبادرة السلام العربية؟", "مبادرة السلام العربية"),
    ("من ترأس جلسة مجلس الوزراء في غياب الملك سلمان؟", "أحفاد الملك عبدالعزيز"),
    ("كم حياً تخدم شبكة المياه الجديدة في الطائف؟", "الطائف"),
    ("هل تسبب حريق المنزل في نجران في خسائر؟", "مدني نجران"),
    ("ما هدف الوقف الخيري للأمير نايف بن عبدالعزيز؟", "وقف خيري"),
    ("كيف ردت البحرين على حرق الرضيع الفلسطيني؟", "البحرين تدين"),
]
OUT_OF_CORPUS = [
    "كيف أكتب دالة تكرارية بلغة بايثون؟",
    "ما هي وصفة الكنافة النابلسية؟",
    "كم يبلغ ارتفاع جبل إيفرست؟",
    "من فاز بكأس العالم لكرة القدم عام 2022؟",
    "ما أعراض نقص فيتامين د؟",
    "كيف أزرع الطماطم في الشرفة؟",
    "ما عاصمة أستراليا؟",
    "كيف أغير زيت السيارة بنفسي؟",
    "ما أفضل طريقة لتعلم العزف على البيانو؟",
    "متى اخترع الهاتف؟",
    "ما هي نظرية النسبية لأينشتاين؟",
    "كيف أعتني بقطة صغيرة؟",
    "ما سعر عملة البيتكوين اليوم؟",
    "من كتب رواية مئة عام من العزلة؟",
    "كيف تتكون الأعاصير؟",
    "ما فوائد اليوغا لآلام الظهر؟",
    "كيف أحسب مساحة الدائرة؟",
    "ما هو أطول نهر في العالم؟",
    "كيف أستعد لمقابلة عمل؟",
    "ما هي لغة البرمجة رست؟",
    "من فاز في انتخابات الرئاسة الأمريكية عام 2024؟",
    "كيف يعمل الذكاء الاصطناعي التوليدي؟",
]


def _describe(name: str, values: list[float]) -> None:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    print(
        f"{name:<34} n={len(values):<4} min={min(values):.3f} p5={cuts[0]:.3f} "
        f"median={statistics.median(values):.3f} p95={cuts[18]:.3f} max={max(values):.3f}"
    )


def _best(library: Library, question: str) -> float:
    hits = library.search(question, 4)
    return max((h.dense_score or 0.0) for h in hits) if hits else 0.0


def news_scores(library: Library) -> tuple[list[float], list[float]]:
    positives, negatives = [], []
    for question, title in IN_CORPUS:
        hits = library.search(question, 10)
        found = [h.dense_score or 0.0 for h in hits if title in h.title]
        if not found:
            print(f"  (expected article not in the top 10: {question})")
        positives.append(found[0] if found else 0.0)
    for question in OUT_OF_CORPUS:
        negatives.append(_best(library, question))
    return positives, negatives


def arcd_scores(
    library: Library, qa_file: Path, paragraphs: int, seed: int
) -> tuple[list[float], list[float]]:
    data = json.loads(qa_file.read_text(encoding="utf-8"))["data"]
    items = [p for article in data for p in article["paragraphs"]]
    sample = random.Random(seed).sample(items, min(paragraphs, len(items)))
    vectors = library.encoder.encode_passages([p["context"] for p in sample])
    positives, negatives = [], []
    for vector, paragraph in zip(vectors, sample, strict=True):
        questions = [qa["question"].strip(" -") for qa in paragraph["qas"]]
        queries = library.encoder.encode_queries(questions)
        positives += [float(s) for s in queries @ np.asarray(vector)]
        negatives += [_best(library, q) for q in questions]
    return positives, negatives


def youden(positives: list[float], negatives: list[float]) -> tuple[float, float, float]:
    """The threshold maximising TPR - FPR, with its TPR and FPR."""
    best = (0.0, 0.0, 1.0, -1.0)
    for t in np.arange(0.70, 0.95, 0.005):
        tpr = sum(p >= t for p in positives) / len(positives)
        fpr = sum(n >= t for n in negatives) / len(negatives)
        if tpr - fpr > best[3]:
            best = (float(t), tpr, fpr, tpr - fpr)
    return best[0], best[1], best[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("qa_file", type=Path, nargs="?")
    parser.add_argument("--paragraphs", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    library = Library.open(LibrarySettings.load())
    library.prepare()
    news_pos, news_neg = news_scores(library)
    _describe("news, answerable (expected hit)", news_pos)
    _describe("news, not answerable (best hit)", news_neg)
    t, tpr, fpr = youden(news_pos, news_neg)
    print(f"news: threshold {t:.3f}  TPR {tpr:.2f}  FPR {fpr:.2f}")
    if args.qa_file:
        arcd_pos, arcd_neg = arcd_scores(library, args.qa_file, args.paragraphs, args.seed)
        _describe("ARCD, gold paragraph", arcd_pos)
        _describe("ARCD questions on the news corpus", arcd_neg)
        t, tpr, fpr = youden(arcd_pos, arcd_neg)
        print(f"ARCD: threshold {t:.3f}  TPR {tpr:.2f}  FPR {fpr:.2f}")
        t, tpr, fpr = youden(news_pos + arcd_pos, news_neg + arcd_neg)
        print(f"all:  threshold {t:.3f}  TPR {tpr:.2f}  FPR {fpr:.2f}")


if __name__ == "__main__":
    main()
