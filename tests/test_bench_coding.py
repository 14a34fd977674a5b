"""The development experiment of ``experiments/bench_coding.py --graph``."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

from bench_coding import graph_smoothed  # noqa: E402

from topics.themes import assign_themes  # noqa: E402

NAMES = ["a", "b"]


def _case(seed=0):
    rng = np.random.default_rng(seed)
    # two clusters of 8 paragraphs in embedding space
    centres = np.eye(4)[:2]
    v = np.repeat(centres, 8, axis=0) + 0.05 * rng.normal(size=(16, 4))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    scores = np.c_[np.full(16, 0.50), np.full(16, 0.49)] + 0.001 * rng.normal(size=(16, 2))
    return v, scores


def test_without_smoothing_it_is_the_offset_assignment():
    v, scores = _case()
    off = np.array([0.0, 0.005, -1.0])
    out = graph_smoothed(scores, NAMES, v, [], [], off, alpha=0.0)
    assert out == assign_themes(scores, NAMES, offsets=off).theme


def test_codes_are_kept_and_spread_to_embedding_neighbours():
    v, scores = _case()
    off = np.zeros(3)
    # the codebook says "a" everywhere (by 0.01); the second cluster is coded "b" on 4 of 8
    rows = [8, 9, 10, 11]
    out = graph_smoothed(scores, NAMES, v, rows, [1, 1, 1, 1], off, alpha=0.5, k=5)
    assert [out[r] for r in rows] == ["b"] * 4
    assert out[:8] == ["a"] * 8  # the first cluster has no "b" neighbours
    assert set(out[12:]) == {"b"}  # uncoded paragraphs of the coded cluster follow the codes
    without = graph_smoothed(scores, NAMES, v, rows, [1, 1, 1, 1], off, alpha=0.0)
    assert set(without[12:]) == {"a"}
