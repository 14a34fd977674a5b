"""End-to-end ingest of the seed corpus: sections, articles, languages, offsets, outputs."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from conftest import ROOT, SEEDS

from topics.ingest import ingest, write_ingest
from topics.langid import LANGUAGES
from topics.segment import SECTIONS


def test_articles_and_sections(seeds_ingest):
    seg = seeds_ingest.segments
    assert set(seg["section"]) <= set(SECTIONS)
    assert set(seg["language"]) <= set(LANGUAGES)
    # 003 holds two articles, each with its own title block and abstract.
    assert sorted(seg.loc[seg["doc_id"] == "003", "article"].unique()) == [1, 2]
    a2 = seg[(seg["doc_id"] == "003") & (seg["article"] == 2)]
    assert a2.iloc[0]["section"] == "title"
    assert "ДИСТАНТТЫК ОКУТУУНУН" in a2.iloc[0]["text"]
    # Trilingual abstracts: one segment per language.
    for doc in ("002", "004"):
        abstracts = seg[(seg["doc_id"] == doc) & (seg["section"] == "abstract")]
        assert sorted(abstracts["language"]) == ["en", "ky", "ru"], doc
    kw = seg[(seg["doc_id"] == "002") & (seg["section"] == "keywords")]
    assert sorted(kw["language"]) == ["en", "ky", "ru"]
    assert not kw["text"].str.contains("Негизги сөздөр|Ключевые слова|Key words").any()
    refs = seg[(seg["doc_id"] == "002") & (seg["section"] == "references")]
    assert len(refs) >= 5
    # The press releases and newsletter are body text in Kyrgyz.
    for doc in ("000", "001"):
        body = seg[(seg["doc_id"] == doc) & (seg["section"] == "body")]
        assert len(body) >= 10
        assert (body["language"] == "ky").mean() >= 0.9


def test_offsets_and_cleaning(seeds_ingest):
    seg, docs = seeds_ingest.segments, seeds_ingest.documents.set_index("doc_id")
    for row in seg.itertuples():
        assert docs.loc[row.doc_id, "text"][row.start : row.end] == row.text
    text = " ".join(seg["text"])
    assert "ҥ" not in text and "[bookmark:" not in text and "%D0" not in text
    assert "Кыргызстандагы" in " ".join(seg.loc[seg["doc_id"] == "002", "text"])
    assert not seg["text"].str.contains(r"https?://|\S+@\S+\.\w+").any()


def test_hand_coded_quotes_are_whole_in_one_segment(seeds_ingest):
    # Every quote of the hand-coded validation set lies inside exactly one segment.
    seg = seeds_ingest.segments
    norm = seg["text"].str.replace(r"\s+", " ", regex=True)
    with open(ROOT / "experiments" / "seed_labels.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 100
    misses = []
    for r in rows:
        hits = norm[(seg["doc_id"] == r["doc_id"]) & norm.str.contains(r["quote"], regex=False)]
        if len(hits) != 1:
            misses.append(r["quote"])
    assert not misses


def test_segment_ids_stable_and_outputs_written(tmp_path, seeds_ingest):
    again = ingest(SEEDS)
    pd.testing.assert_frame_equal(again.segments, seeds_ingest.segments)
    out = write_ingest(again, tmp_path / "out")
    for name in ("segments.csv", "segments.parquet", "documents.csv", "manifest.json"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["counts"]["documents"] == 5
    assert manifest["counts"]["by_language"]["ky"] > 100
    assert set(manifest["counts"]["by_section"]) == set(SECTIONS)
    assert len(manifest["files_read"]) == 5 and manifest["files_skipped"] == []
    with pytest.raises(Exception, match="overwrite"):
        write_ingest(again, out)
    seg = pd.read_csv(out / "segments.csv", keep_default_na=False, dtype=str)
    assert {"doc_id", "segment_id", "focus", "kind", "doc_language"} <= set(seg.columns)
