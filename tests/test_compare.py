from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from topics import compare
from topics.errors import TopicsError


def make_segments(docs: list[dict], seed: int = 0) -> pd.DataFrame:
    """Segments of documents given as ``{"doc_id", "topics": [...], "themes": [...], **meta}``."""
    rows = []
    for d in docs:
        topics = list(d["topics"])
        themes = list(d.get("themes", [""] * len(topics)))
        meta = {k: v for k, v in d.items() if k not in ("doc_id", "topics", "themes")}
        for i, (t, th) in enumerate(zip(topics, themes, strict=True)):
            rows.append(
                {
                    "doc_id": d["doc_id"],
                    "segment_id": f"{d['doc_id']}:{i:04d}",
                    "article": 1 + (i >= len(topics) // 2 and d.get("two_articles", False)),
                    "section": "body",
                    "language": "ky",
                    "text": f"paragraph {i}",
                    "topic": int(t),
                    "topic_label": "outliers" if t < 0 else f"label {t}",
                    "theme": th,
                    "theme_score": 0.5,
                    "x": 0.0,
                    "y": 0.0,
                    **meta,
                }
            )
    seg = pd.DataFrame(rows)
    return seg.drop(columns=["two_articles"], errors="ignore")


@pytest.fixture(scope="module")
def seedlike() -> pd.DataFrame:
    """Five documents shaped like the seed corpus (2 school, 2 university, 1 general)."""
    rng = np.random.default_rng(1)
    meta = [
        ("000", "school", "newsletter", "2021"),
        ("001", "school", "press-release", "2019"),
        ("002", "university", "paper", "2022"),
        ("003", "general", "paper", ""),
        ("004", "university", "paper", ""),
    ]
    docs = []
    for i, (doc, focus, kind, year) in enumerate(meta):
        n = int(rng.integers(20, 80))
        docs.append(
            {
                "doc_id": doc,
                "topics": rng.integers(-1, 4, size=n),
                "themes": rng.choice(["", "access", "quality"], size=n),
                "focus": focus,
                "kind": kind,
                "year": year,
                "title": f"Title {i}",
                "two_articles": doc == "003",
            }
        )
    return make_segments(docs)


@pytest.fixture(scope="module")
def seedlike_result(seedlike):
    return compare.compare(seedlike, random_state=0, n_boot=500, n_perm=500)


def test_default_by_picks_metadata_and_excludes_title(seedlike):
    by = compare.default_by(seedlike)
    assert by[:3] == ["focus", "kind", "year"]
    assert by[-2:] == ["doc_id", "article"]
    assert "title" not in by and "language" not in by and "theme" not in by


def test_default_by_skips_columns_varying_within_documents(seedlike):
    seg = seedlike.copy()
    seg["mood"] = np.where(np.arange(len(seg)) % 2 == 0, "a", "b")
    seg["constant"] = "x"
    by = compare.default_by(seg)
    assert "mood" not in by and "constant" not in by


def test_schema_and_sorting(seedlike_result):
    prev, diff = seedlike_result
    assert list(prev.columns) == compare.PREVALENCE_COLUMNS
    assert list(diff.columns) == compare.DIFFERENCE_COLUMNS
    assert str(prev["topic"].dtype) == "Int64"
    assert prev.loc[prev["kind"] == "theme", "topic"].isna().all()
    assert (prev.loc[prev["kind"] == "topic", "theme"] == "").all()
    assert list(dict.fromkeys(prev["by"])) == ["focus", "kind", "year", "doc_id", "article"]
    assert set(diff["by"]) == {"focus", "kind", "year"}
    art = prev.loc[prev["by"] == "article", "group"]
    assert {"003/1", "003/2", "000/1"} <= set(art)


def test_shares_sum_to_one_with_outlier_and_unthemed_rows(seedlike_result):
    prev, _ = seedlike_result
    sums = prev.groupby(["by", "group", "kind"])["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    for (_, _), block in prev.groupby(["by", "group"]):
        topics = block[block["kind"] == "topic"]
        themes = block[block["kind"] == "theme"]
        assert (topics.loc[topics["topic"] == -1, "label"] == "outliers").all()
        assert (topics["topic"] == -1).sum() == 1
        assert (themes["theme"] == "(no theme)").sum() == 1


def test_intervals_contain_share_and_methods_are_named(seedlike_result):
    prev, diff = seedlike_result
    assert (prev["ci_low"] <= prev["share"] + 1e-12).all()
    assert (prev["share"] <= prev["ci_high"] + 1e-12).all()
    assert (prev["seg_ci_low"] <= prev["share"] + 1e-12).all()
    assert (prev["share"] <= prev["seg_ci_high"] + 1e-12).all()
    single = prev[prev["by"].isin(["doc_id", "article"])]
    assert (single["method"] == "paragraph-level (within one document)").all()
    meta = prev[prev["by"] == "focus"]
    # two documents per group: never the bootstrap, never paragraphs posing as documents
    assert meta["method"].str.startswith("beta-binomial").all()
    assert meta["method"].str.contains("5 docs").all()
    assert (diff["ci_low"] <= diff["diff"] + 1e-12).all()
    assert (diff["diff"] <= diff["ci_high"] + 1e-12).all()


def test_n_docs_and_n_segments(seedlike, seedlike_result):
    prev, diff = seedlike_result
    focus = prev[(prev["by"] == "focus") & (prev["kind"] == "topic")]
    n_docs = focus.groupby("group")["n_docs"].first().to_dict()
    assert n_docs == {"general": 1, "school": 2, "university": 2}
    n_seg = focus.groupby("group")["n_segments"].first()
    assert n_seg.to_dict() == seedlike.groupby("focus").size().to_dict()
    year = prev[prev["by"] == "year"]
    assert year["group"].iloc[-1] == "(missing)"
    assert year.loc[year["group"] == "(missing)", "n_docs"].iloc[0] == 2
    pair = diff[(diff["by"] == "focus") & (diff["group_a"] == "school")].iloc[0]
    assert (pair["n_docs_a"], pair["n_docs_b"]) == (2, 2)


def test_differences_match_prevalence(seedlike_result):
    prev, diff = seedlike_result
    share = prev.set_index(["by", "group", "kind", "label"])["share"]
    for r in diff.sample(20, random_state=0).itertuples():
        a = share[(r.by, r.group_a, r.kind, r.label)]
        b = share[(r.by, r.group_b, r.kind, r.label)]
        assert r.share_a == pytest.approx(a) and r.share_b == pytest.approx(b)
        assert r.diff == pytest.approx(a - b)


def test_no_theme_rows_without_themes(seedlike):
    seg = seedlike.assign(theme="")
    prev = compare.prevalence(seg, by="focus", random_state=0, n_boot=200)
    assert set(prev["kind"]) == {"topic"}


def between_document_corpus(n_docs: int, size: int = 100) -> pd.DataFrame:
    """One group where documents are entirely topic 0 or entirely topic 1."""
    docs = [{"doc_id": f"d{i:02d}", "topics": [i % 2] * size, "grp": "g"} for i in range(n_docs)]
    docs.append({"doc_id": "other", "topics": [0, 1] * 50, "grp": "h"})
    return make_segments(docs)


@pytest.mark.parametrize("n_docs", [4, 12, 24])
def test_document_level_interval_reflects_between_document_variation(n_docs):
    seg = between_document_corpus(n_docs)
    prev = compare.prevalence(seg, by="grp", random_state=0, n_boot=1000)
    row = prev[(prev["group"] == "g") & (prev["topic"] == 0)].iloc[0]
    assert row["share"] == pytest.approx(0.5)
    seg_width = row["seg_ci_high"] - row["seg_ci_low"]
    doc_width = row["ci_high"] - row["ci_low"]
    assert seg_width < 0.12  # hundreds of paragraphs
    assert doc_width > 0.35  # but only a handful of documents, all-or-nothing
    expected = "document bootstrap" if n_docs >= compare.MIN_DOCS_BOOTSTRAP else "beta-binomial"
    assert row["method"].startswith(expected)


def test_bootstrap_resamples_whole_documents():
    # 12 all-or-nothing documents: any replicate share is (documents of topic 0) / 12, so
    # a paragraph-level resampling would give an interval of width ~0.06, not ~0.5.
    seg = between_document_corpus(12)
    prev = compare.prevalence(seg, by="grp", random_state=3, n_boot=2000, min_docs_bootstrap=10)
    assert prev["method"].iloc[0].startswith("document bootstrap")
    row = prev[(prev["group"] == "g") & (prev["topic"] == 0)].iloc[0]
    assert row["ci_low"] * 12 == pytest.approx(round(row["ci_low"] * 12))
    assert row["ci_high"] * 12 == pytest.approx(round(row["ci_high"] * 12))


def two_group_corpus(n_per_group, shift, seed, size=40):
    rng = np.random.default_rng(seed)
    docs = []
    for g in ("a", "b"):
        for i in range(n_per_group):
            p0 = np.clip(rng.normal(0.3 + (shift if g == "a" else 0.0), 0.05), 0, 1)
            topics = rng.choice([0, 1, -1], size=size, p=[p0, (1 - p0) * 0.7, (1 - p0) * 0.3])
            docs.append({"doc_id": f"{g}{i:02d}", "topics": topics, "grp": g})
    return make_segments(docs)


def test_permutation_p_two_vs_two_cannot_go_below_one_third():
    seg = make_segments(
        [
            {"doc_id": "a1", "topics": [0] * 30, "grp": "a"},
            {"doc_id": "a2", "topics": [0] * 50, "grp": "a"},
            {"doc_id": "b1", "topics": [1] * 40, "grp": "b"},
            {"doc_id": "b2", "topics": [1] * 20, "grp": "b"},
        ]
    )
    diff = compare.differences(seg, by="grp", random_state=0)
    assert (diff["p_value"] >= 1 / 3 - 1e-12).all()
    assert diff.loc[diff["topic"] == 0, "p_value"].iloc[0] == pytest.approx(1 / 3)
    assert diff.loc[diff["topic"] == 0, "diff"].iloc[0] == pytest.approx(1.0)


def test_exact_permutation_gives_multiples_of_one_over_assignments():
    seg = two_group_corpus(3, 0.2, seed=0)  # C(6, 3) = 20 assignments
    p = compare.differences(seg, by="grp", random_state=0)["p_value"].to_numpy()
    np.testing.assert_allclose(p * 20, np.round(p * 20), atol=1e-9)


def test_planted_difference_detected_with_many_documents():
    seg = two_group_corpus(compare.MIN_DOCS_BOOTSTRAP, 0.15, seed=1)
    diff = compare.differences(seg, by="grp", random_state=0, n_boot=1000, n_perm=1000)
    row = diff[diff["topic"] == 0].iloc[0]
    assert row["p_value"] < 0.05 and row["q_value"] < 0.05
    assert row["method"].startswith("document bootstrap stratified")
    assert row["ci_low"] > 0
    assert row["ci_low"] <= 0.15 <= row["ci_high"]


def test_null_difference_rarely_rejected():
    rejections = 0
    for seed in range(12):
        seg = two_group_corpus(12, 0.0, seed=100 + seed)
        diff = compare.differences(seg, by="grp", random_state=seed, n_boot=300, n_perm=500)
        rejections += int(diff.loc[diff["topic"] == 0, "p_value"].iloc[0] < 0.05)
    assert rejections <= 2


def test_benjamini_hochberg_properties():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=50) ** 2
    q = compare.benjamini_hochberg(p)
    order = np.argsort(p)
    assert (q >= p - 1e-15).all() and (q <= 1).all()
    assert (np.diff(q[order]) >= -1e-15).all()
    np.testing.assert_allclose(
        compare.benjamini_hochberg([0.01, 0.02, 0.03, 0.04, 0.05]), [0.05] * 5
    )
    # R: p.adjust(c(0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205), "BH")
    np.testing.assert_allclose(
        compare.benjamini_hochberg([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]),
        [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.08457143, 0.205],
        rtol=1e-6,
    )
    q = compare.benjamini_hochberg([0.01, np.nan, 0.02])
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02)


def test_q_values_within_by_and_kind(seedlike_result):
    _, diff = seedlike_result
    for _, block in diff.groupby(["by", "kind"]):
        np.testing.assert_allclose(
            block["q_value"], compare.benjamini_hochberg(block["p_value"].to_numpy())
        )


def test_deterministic_given_random_state():
    seg = two_group_corpus(12, 0.05, seed=4)
    kw = dict(by=["grp"], n_boot=300, n_perm=300, min_docs_bootstrap=10)  # bootstrap in use
    one = compare.compare(seg, random_state=7, **kw)
    two = compare.compare(seg, random_state=7, **kw)
    other = compare.compare(seg, random_state=8, **kw)
    pd.testing.assert_frame_equal(one[0], two[0])
    pd.testing.assert_frame_equal(one[1], two[1])
    assert one[0]["method"].str.startswith("document bootstrap").all()
    assert not one[0]["ci_low"].equals(other[0]["ci_low"])
    assert not one[1]["p_value"].equals(other[1]["p_value"])


def test_one_document_per_group_is_not_estimable():
    seg = make_segments(
        [
            {"doc_id": "a", "topics": [0, 1, 1, 0], "grp": "x"},
            {"doc_id": "b", "topics": [1, 1, 1, 0], "grp": "y"},
        ]
    )
    prev = compare.prevalence(seg, by="grp", random_state=0, n_boot=200)
    assert prev["ci_low"].isna().all()
    assert prev["method"].str.startswith("not estimable").all()
    assert prev["seg_ci_low"].notna().all()


def test_clear_errors(seedlike):
    with pytest.raises(TopicsError, match="nonexistent"):
        compare.prevalence(seedlike, by="nonexistent")
    with pytest.raises(TopicsError, match="no topic"):
        compare.prevalence(seedlike.assign(topic=pd.array([pd.NA] * len(seedlike), "Int64")))
    with pytest.raises(TopicsError, match="empty"):
        compare.prevalence(seedlike.iloc[:0])


def test_single_document_groupings_have_no_pairwise_differences(seedlike):
    prev, diff = compare.compare(seedlike, by=["doc_id"], random_state=0, n_boot=200)
    assert diff.empty and list(diff.columns) == compare.DIFFERENCE_COLUMNS
    assert sorted(prev["group"].unique()) == ["000", "001", "002", "003", "004"]
    assert (prev["n_docs"] == 1).all()


def test_bootstrap_and_permutation_in_blocks_draw_the_same(monkeypatch):
    from topics import _stats

    rng = np.random.default_rng(5)
    counts = rng.integers(0, 6, size=(57, 4)).astype(float)
    sizes = counts.sum(1) + 3

    def draw():
        boot = _stats.boot_shares(counts, sizes, np.random.default_rng(1), 300)
        p = _stats.permutation_p(counts, sizes, 20, 300, np.random.default_rng(2))
        return boot, p

    whole = draw()
    monkeypatch.setattr(_stats, "_BLOCK", 100)  # blocks of one row
    blocks = draw()
    assert np.array_equal(whole[0], blocks[0]) and np.array_equal(whole[1], blocks[1])
    assert whole[0].shape == (300, 4)


def test_group_mean_matches_masked_means():
    from topics._context import group_mean

    rng = np.random.default_rng(0)
    values = rng.normal(size=(400, 3)).astype(np.float32)
    keys = np.array([f"d{k}" for k in rng.integers(0, 37, 400)])
    out = group_mean(values, keys)
    for k in np.unique(keys):
        assert np.array_equal(
            out[keys == k], np.broadcast_to(values[keys == k].mean(0), (np.sum(keys == k), 3))
        )
