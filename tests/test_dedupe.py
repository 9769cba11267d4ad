"""Near-duplicate stories fold together; different stories on the same event do not."""

from __future__ import annotations

from retrieval.dedupe import group_duplicates, overlap, shingles

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


def test_reprint_overlaps_strongly_and_other_story_does_not():
    assert overlap(shingles(WAS), shingles(REPRINT)) >= 0.5
    assert overlap(shingles(WAS), shingles(OTHER)) < 0.1


def test_groups_keep_first_seen_order():
    assert group_duplicates([OTHER, WAS, REPRINT]) == [[0], [1, 2]]
    assert group_duplicates([WAS, OTHER, REPRINT, OTHER]) == [[0, 2], [1, 3]]


def test_empty_and_short_texts():
    assert shingles("") == frozenset()
    assert overlap(frozenset(), shingles(WAS)) == 0.0
    assert group_duplicates(["نص قصير", "نص قصير"]) == [[0, 1]]
    assert group_duplicates([]) == []
