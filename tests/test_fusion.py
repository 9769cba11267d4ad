"""Fusion of dense and lexical hit lists: RRF arithmetic and the z-score combination."""

from __future__ import annotations

import math

import pytest

from benchmarks.arcd_hybrid import rrf  # reciprocal rank fusion: only the benchmark uses it
from retrieval.fusion import fuse


def test_rrf_scores():
    fused = dict(rrf([[1, 2, 3], [3, 1]], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)


def test_rrf_order_and_weights():
    assert [d for d, _ in rrf([[1, 2, 3], [3, 1]])] == [1, 3, 2]
    # A heavy second ranking puts its own top document first.
    assert rrf([[1, 2, 3], [3, 1]], weights=[1.0, 3.0])[0][0] == 3
    with pytest.raises(ValueError):
        rrf([[1], [2]], weights=[1.0])


def test_rrf_empty():
    assert rrf([]) == []
    assert rrf([[], []]) == []


def test_fuse_empty_inputs():
    assert fuse([], []) == []


def test_fuse_single_signal_keeps_its_order():
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(7, 12.0), (8, 3.0)]
    assert [d for d, _ in fuse(dense, [])] == [1, 2, 3]
    assert [d for d, _ in fuse([], lexical)] == [7, 8]


def test_fuse_matches_hand_computed_z_scores():
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(3, 10.0)]  # padded with zeros to the pool of 3: [10, 0, 0]
    d_mean, d_std = 0.8, math.sqrt(0.02 / 3)
    l_mean, l_std = 10 / 3, math.sqrt(((20 / 3) ** 2 + 2 * (10 / 3) ** 2) / 3)
    expected = {
        1: 0.5 * (0.9 - d_mean) / d_std + 0.5 * (0 - l_mean) / l_std,
        2: 0.5 * (0.8 - d_mean) / d_std + 0.5 * (0 - l_mean) / l_std,
        3: 0.5 * (0.7 - d_mean) / d_std + 0.5 * (10 - l_mean) / l_std,
    }
    fused = fuse(dense, lexical)
    # 1: 0.5*1.22 - 0.5*0.71 = 0.26; 3: -0.5*1.22 + 0.5*1.41 = 0.10; 2: -0.5*0.71 = -0.35
    assert [d for d, _ in fused] == [1, 3, 2]
    for doc, score in fused:
        assert score == pytest.approx(expected[doc])


def test_fuse_agreement_beats_a_single_signal():
    dense = [(1, 0.90), (2, 0.89), (3, 0.80), (4, 0.79)]
    lexical = [(5, 9.0), (2, 8.5), (6, 1.0)]
    fused = fuse(dense, lexical)
    assert fused[0][0] == 2
    # Lexical-only passages get the lowest dense score, so they stay candidates.
    assert {d for d, _ in fused} == {1, 2, 3, 4, 5, 6}


def test_fuse_weight_extremes():
    dense = [(1, 0.9), (2, 0.5)]
    lexical = [(2, 5.0), (1, 1.0)]
    assert [d for d, _ in fuse(dense, lexical, dense_weight=1.0)] == [1, 2]
    assert [d for d, _ in fuse(dense, lexical, dense_weight=0.0)] == [2, 1]


def test_fuse_equal_scores_carry_no_preference():
    dense = [(1, 0.5), (2, 0.5)]
    lexical = [(2, 3.0)]
    assert [d for d, _ in fuse(dense, lexical)] == [2, 1]
