"""The report stays small: sampled topic map, capped per-document figures and tables."""

from __future__ import annotations

import numpy as np
import pytest
from test_figures import make_result

from topics import figures, report
from topics.report import render_report


@pytest.fixture
def res(tmp_path):
    return figures.Result.load(make_result(tmp_path)[1])


def test_map_sample_is_stratified_and_bounded():
    rng = np.random.default_rng(0)
    topic = np.r_[np.full(5000, 0), np.full(900, 1), np.full(7, 2), np.full(300, -1)]
    topic = topic[rng.permutation(len(topic))]
    rows = figures.map_sample(topic, 600, random_state=0)
    kept = topic[rows]
    assert set(kept) == set(topic)  # every topic represented, outliers too
    assert np.sum(kept == 2) == 7  # a tiny topic is kept whole
    assert len(rows) <= 600 + 20 * 4 and np.all(np.diff(rows) > 0)
    # roughly proportional for the large topics
    assert abs(np.sum(kept == 0) / np.sum(kept == 1) - 5000 / 900) < 0.5
    assert np.array_equal(rows, figures.map_sample(topic, 600, random_state=0))
    assert np.array_equal(figures.map_sample(topic, 10**6), np.arange(len(topic)))


def test_topic_map_draws_a_stated_sample_above_the_cap(res):
    n = int(res.segments["topic"].notna().sum())
    full = figures.topic_map(res)
    assert sum(len(t.x) for t in full.data) == n and full.data[0].type == "scatter"
    small = figures.topic_map(res, max_points=5)
    n_drawn = sum(len(t.x) for t in small.data)
    assert n_drawn < n
    assert {t.name for t in small.data} == {t.name for t in full.data}  # every topic shown
    assert all(t.type == "scattergl" for t in small.data)
    assert f"{n_drawn:,} of {n:,} paragraphs" in small.layout.title.text
    hover = [s for t in small.data for s in np.asarray(t.customdata)[:, 0]]
    assert max(len(s.replace("<br>", " ")) for s in hover) <= 100 + 2


def test_report_caps_shrink_the_page_and_say_so(res, monkeypatch):
    full = render_report(res)
    monkeypatch.setattr(figures, "MAP_MAX_POINTS", 5)
    monkeypatch.setattr(figures, "MAX_DOCS", 1)
    monkeypatch.setattr(figures, "MAX_WORD_PANELS", 1)
    monkeypatch.setattr(report, "MAX_TABLE_ROWS", 2)
    capped = render_report(res)
    assert len(capped) < len(full)
    assert "stratified sample of" in capped
    assert "largest of" in capped  # per-document figures and topic words name their cut
    n_docs = res.segments["doc_id"].nunique()
    assert f"The first 2 of {n_docs} documents" in capped
    assert "in prevalence.csv" in capped  # where the rows left out are
    # the sections a reader needs are still there
    for heading in ("Corpus", "Topic map", "Topics", "Group comparison"):
        assert f"<h2>{heading}</h2>" in capped
