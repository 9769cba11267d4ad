"""Near-duplicate stories fold together; different stories on the same event do not."""

from __future__ import annotations

from retrieval.dedupe import containment, group_duplicates, overlap, same_story, shingles

WAS = (
    "وقد أكد الجانبان على أهمية وحدة العراق وأمنه وضرورة إشراك كافة مكونات شعبه في العملية "
    "السياسية ليكونوا يداً واحدة في الدفاع عن ترابه وبناء مؤسساته والحفاظ على استقلاله."
)
# The same agency text as another paper printed it: other spelling, one word dropped.
REPRINT = (
    "وقد أكد الجانبان أهمية وحدة العراق وأمنه وضرورة إشراك كل مكونات شعبه في العملية "
    "السياسية ليكونوا يدًا واحدة في الدفاع عن ترابه وبناء مؤسساته والحفاظ على استقلاله."
)
OTHER = (
    "رفضت حكومة البصرة المحلية في جنوب العراق تطبيق قانون التعرفة الجمركية الجديد الذي رفعت "
    "الحكومة المركزية نسبته من خمسة الى عشرين بالمئة اثر الازمة المالية."
)
LEAD = "واس - عمان: صدر اليوم بيان مشترك بمناسبة زيارة ولي ولي العهد إلى المملكة الأردنية."


def test_reprint_is_the_same_story_and_other_story_is_not():
    assert overlap(shingles(WAS), shingles(REPRINT)) >= 0.3
    assert overlap(shingles(WAS), shingles(OTHER)) < 0.05
    w, r, o = shingles(WAS), shingles(REPRINT), shingles(OTHER)
    assert same_story(w, r)
    assert not same_story(w, o)


def test_passages_cut_differently_are_compared_with_the_whole_article():
    # One paper printed LEAD and WAS as one passage, the other split them apart.
    article_a = shingles(LEAD + " " + WAS)
    passage_b, article_b = shingles(REPRINT), shingles(REPRINT + " " + LEAD)
    assert containment(passage_b, article_a) >= 0.5
    assert same_story(article_a, article_b)


def test_groups_keep_first_seen_order():
    texts = [OTHER, WAS, REPRINT]
    assert group_duplicates(len(texts), texts.__getitem__) == [[0], [1, 2]]
    texts = [WAS, OTHER, REPRINT, OTHER]
    assert group_duplicates(len(texts), texts.__getitem__) == [[0, 2], [1, 3]]


def test_empty_and_short_texts():
    assert shingles("") == frozenset()
    assert overlap(frozenset(), shingles(WAS)) == 0.0
    assert containment(frozenset(), shingles(WAS)) == 0.0
    assert group_duplicates(2, lambda i: "نص قصير") == [[0, 1]]
    assert group_duplicates(0, lambda i: "") == []


def test_copies_winning_with_different_passages_still_fold():
    # Two outlets printed one story; the question matched the first half in one copy and the
    # second half in the other, so the two winning passages share no 4-word run at all.
    first_half, second_half = WAS, LEAD
    article_a = first_half + " " + second_half
    article_b = REPRINT + " " + second_half.replace("اليوم", "الأحد")
    passages = [first_half, second_half.replace("اليوم", "الأحد")]
    assert overlap(shingles(passages[0]), shingles(passages[1])) == 0.0
    assert group_duplicates(len(passages), [article_a, article_b].__getitem__) == [[0, 1]]


def test_stories_sharing_one_boilerplate_paragraph_are_not_one_story():
    boiler = (
        "ويأتي ذلك ضمن جهود الجهات المختصة في المملكة لتعزيز الوعي لدى المواطنين والمقيمين "
        "بأهمية المحافظة على الصحة العامة والالتزام بالتعليمات الصادرة بهذا الشأن"
    )
    health_lead = (
        "أعلنت وزارة الصحة تسجيل حالات جديدة في المنطقة الشرقية خلال الأسبوع الماضي، وأوضحت أن "
        "الفرق الميدانية زارت المستشفيات والمراكز الصحية وتابعت المخالطين وأجرت الفحوص اللازمة "
        "لهم، كما دعت الوزارة إلى مراجعة أقرب مركز صحي عند ظهور الأعراض."
    )
    festival_lead = (
        "انطلق مهرجان التمور في بريدة بمشاركة واسعة من المزارعين والتجار القادمين من مختلف "
        "مناطق المملكة، وشهد اليوم الأول بيع كميات كبيرة من السكري والخلاص، وتوقع المنظمون أن "
        "يزور المهرجان أكثر من مئة ألف زائر حتى نهايته الشهر المقبل."
    )
    health, festival = f"{health_lead} {boiler}", f"{festival_lead} {boiler}"
    passages = [boiler, festival_lead]
    assert group_duplicates(len(passages), [health, festival].__getitem__) == [[0], [1]]
