"""Large-corpus memory: the steps that work block by block of rows give the floats of the
whole-array code, and the report reads only what it draws."""

from __future__ import annotations

import functools
import shutil

import numpy as np
import pandas as pd
import pytest

from topics import _context, cluster, pipeline
from topics._rows import row_blocks
from topics.corpus import corpus_table


def test_row_blocks_cover_the_rows_in_balanced_blocks():
    for n, size in [(0, 4), (1, 4), (4, 4), (5, 4), (10, 4), (70_000, 32_768), (65_537, 32_768)]:
        blocks = list(row_blocks(n, size))
        covered = np.concatenate([np.arange(n)[b] for b in blocks]) if blocks else []
        assert np.array_equal(covered, np.arange(n))
        lengths = [b.stop - b.start for b in blocks]
        assert all(x <= size for x in lengths)
        if len(blocks) > 1:  # balanced: BLAS never gets a sliver of a block
            assert max(lengths) - min(lengths) <= 1
            assert min(lengths) >= size // 2
    with pytest.raises(ValueError):
        list(row_blocks(3, 0))


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 7 rows in cluster and pipeline, so every blocked loop runs many times."""
    blocks = functools.partial(row_blocks, size=7)
    monkeypatch.setattr(cluster, "row_blocks", blocks)
    monkeypatch.setattr(pipeline, "row_blocks", blocks)


def _data(n=60, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float16).astype(np.float32)
    X[5] = 0.0  # a zero row stays zero
    langs = rng.choice(["ky", "ru", "en", "tg"], size=n, p=[0.5, 0.3, 0.17, 0.03]).tolist()
    groups = [f"d{i // 9}/1" for i in range(n)]
    groups[10] = groups[40] = "far/2"  # a group whose rows are not consecutive
    return X, langs, groups


def test_blocked_alignment_and_context_equal_the_whole_array(small_blocks, monkeypatch):
    X, langs, groups = _data()
    blocked_aligned = cluster.align_languages(X, langs)
    blocked_context = cluster._with_context(blocked_aligned, groups, 0.5, 1.0, 10)
    monkeypatch.setattr(cluster, "row_blocks", functools.partial(row_blocks, size=10**9))
    aligned = cluster.align_languages(X, langs)
    context = cluster._with_context(aligned, groups, 0.5, 1.0, 10)
    assert blocked_aligned.dtype == aligned.dtype == np.float32
    # the projection is a BLAS product, whose last bit may depend on the number of rows
    np.testing.assert_allclose(blocked_aligned, aligned, rtol=0, atol=1e-6)
    context_again = cluster._with_context(blocked_aligned, groups, 0.5, 1.0, 10)
    assert np.array_equal(context_again, blocked_context)
    np.testing.assert_allclose(blocked_context, context, rtol=0, atol=1e-6)


def test_blocked_alignment_equals_a_float64_reference():
    """The alignment's definition, written out on the whole float64 array."""
    X, langs, _ = _data(n=80, seed=1)
    langs = np.asarray(langs)
    Y = X.astype(np.float64)
    k = cluster.MIN_LANGUAGE_SEGMENTS
    means, out = [], np.empty_like(Y)
    for lang in sorted(set(langs)):
        m = int((langs == lang).sum())
        mean = Y[langs == lang].mean(axis=0)
        out[langs == lang] = Y[langs == lang] - (m * mean + k * Y.mean(axis=0)) / (m + k)
        if m >= k:
            means.append(mean)
    M = np.stack(means) - np.mean(means, axis=0)
    U, s, _ = np.linalg.svd(M.T, full_matrices=False)
    basis = U[:, s > 1e-8 * s.max()]
    out -= (out @ basis) @ basis.T
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    np.testing.assert_allclose(
        cluster.align_languages(X, langs.tolist()), out / norms, rtol=0, atol=1e-6
    )


def test_blocked_context_equals_its_definition(small_blocks):
    """Each row plus ``weight`` times the mean of its previous and next row of the same
    group, plus its group's mean scaled by ``min(1, size / group size)``; unit length."""
    X, _, groups = _data(n=50, seed=2)
    expected = np.empty((len(X), X.shape[1]))
    for i in range(len(X)):
        near = [j for j in (i - 1, i + 1) if 0 <= j < len(X) and groups[j] == groups[i]]
        nb = X[near].astype(np.float64).mean(axis=0) if near else 0.0
        same = [j for j in range(len(X)) if groups[j] == groups[i]]
        scale = 0.8 * min(1.0, 4 / len(same))
        expected[i] = X[i] + 0.5 * nb + scale * X[same].astype(np.float64).mean(axis=0)
    norms = np.linalg.norm(expected, axis=1, keepdims=True)
    expected /= np.where(norms == 0, 1.0, norms)
    got = cluster._with_context(X, groups, 0.5, 0.8, 4)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_features_with_guide_and_context_are_unit_rows(small_blocks):
    X, langs, groups = _data()
    guide = np.random.default_rng(3).random((len(X), 4)).astype(np.float32)
    p = cluster.default_params(len(X))
    aligned, features = cluster._features(X, langs, groups, guide, p)
    assert features.dtype == np.float32 and features.shape == (len(X), X.shape[1] + 4)
    assert np.allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    assert p["context"] and p["guided"] and p["aligned"]


def test_group_means_give_group_mean():
    X, _, groups = _data()
    keys = _context.group_keys(groups)
    means, inverse = _context.group_means(X, keys)
    assert len(means) == len(set(groups))
    assert np.array_equal(means[inverse], _context.group_mean(X, keys))
    for g in set(groups):
        rows = [i for i, x in enumerate(groups) if x == g]
        np.testing.assert_allclose(means[inverse[rows[0]]], X[rows].mean(axis=0), rtol=1e-6)
    empty = _context.group_mean(np.zeros((0, 3), dtype=np.float32), keys[:0])
    assert empty.shape == (0, 3)


def test_blocked_assignment_equals_the_whole_array(small_blocks, monkeypatch):
    rng = np.random.default_rng(4)
    reduced = rng.normal(size=(200, 5)).astype(np.float32)
    sample = np.sort(rng.choice(200, 50, replace=False))
    labels = rng.integers(-1, 4, 50)
    coords = rng.normal(size=(50, 2))
    blocked = cluster._assign_rest(reduced, sample, labels, coords)
    monkeypatch.setattr(cluster, "row_blocks", functools.partial(row_blocks, size=10**9))
    whole = cluster._assign_rest(reduced, sample, labels, coords)
    for a, b in zip(blocked, whole, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(blocked[0][sample], labels)
    assert np.array_equal(blocked[1][sample], coords)


def test_checked_embeddings_are_normalised_and_rounded(small_blocks):
    X, _, _ = _data()
    X[5] = 1.0
    out = pipeline._check_embeddings(X.astype(np.float64) * 3)
    expected = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float16)
    assert out.dtype == np.float32 and np.array_equal(out, expected.astype(np.float32))
    X[7, 2] = np.nan
    with pytest.raises(pipeline.TopicsError, match=r"rows \[7\] are not finite"):
        pipeline._check_embeddings(X)


def test_corpus_table_keeps_a_text_column_as_the_list_path_would():
    texts = ["Биринчи абзац.", None, "  second  ", "üç"]
    frame = pd.DataFrame({"doc_id": ["a", "b", "c", "d"], "text": texts, "year": [1, 2, 3, 4]})
    as_objects = frame.astype({"text": object})
    kept, converted = corpus_table(frame), corpus_table(as_objects)
    pd.testing.assert_frame_equal(kept, converted)
    assert kept["text"].isna().tolist() == [False, True, False, False]
    assert kept["text"].tolist()[2] == "  second  "  # text is never stripped


def test_report_does_not_read_what_it_does_not_draw(tmp_path):
    from test_figures import make_result

    from topics.report import NOT_DRAWN, write_report
    from topics.result import Result

    run_dir = make_result(tmp_path)[1]
    first = write_report(run_dir, tmp_path / "first.html").read_bytes()
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    for name in ("embeddings.safetensors", "corpus.parquet", "theme_probs.parquet",
                 "documents.parquet", "documents.csv", "coded.csv"):  # fmt: skip
        (broken / name).write_text("not readable", "utf-8")
    assert write_report(broken, tmp_path / "second.html").read_bytes() == first
    light = Result.load(run_dir, skip=NOT_DRAWN)
    assert light.documents is None and light.embeddings is None and light.corpus is None
    assert len(light.segments) == len(Result.load(run_dir).segments)
    with pytest.raises(ValueError, match="cannot skip"):
        Result.load(run_dir, skip=("segments",))
