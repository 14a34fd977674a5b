"""A paragraph table: ``topics.run(frame, embeddings=...)`` on rows that are paragraphs of
documents (a ``doc_id`` repeated over a document's consecutive rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_SETTINGS, small_corpus

import topics
from topics.corpus import PARAGRAPH_SEPARATOR, corpus_from_frame, corpus_table
from topics.errors import CorpusError, InputFileError, SkippedFileWarning
from topics.ingest import segments_from_corpus

PER_DOC = 4  # paragraphs per document


def paragraph_table(n_per_topic: int = 20):
    """:func:`small_corpus` regrouped: every 4 consecutive rows (one planted topic) are the
    paragraphs of one document, with the document's ``focus`` and ``year`` on each."""
    frame, vectors = small_corpus(n_per_topic=n_per_topic)
    doc = np.arange(len(frame)) // PER_DOC
    frame["doc_id"] = [f"D{d:02d}" for d in doc]
    frame["focus"] = np.where(doc % 2 == 0, "school", "university")
    frame["year"] = 2018 + doc % 4
    return frame.drop(columns="planted"), vectors, frame["planted"].to_numpy()


@pytest.fixture(scope="module")
def para_run():
    """The run of :func:`paragraph_table` and the context groups the topic stage got."""
    import topics.model

    real, seen = topics.model.fit_topics, {}

    def spy(*args, **kwargs):
        seen["groups"] = kwargs.get("groups")
        return real(*args, **kwargs)

    frame, vectors, _ = paragraph_table()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(topics.model, "fit_topics", spy)
        result = topics.run(frame, embeddings=vectors, by=["focus", "doc_id"], **SMALL_SETTINGS)
    return result, seen["groups"]


def test_segments_are_the_rows_and_documents_the_doc_ids(para_run):
    result, _ = para_run
    frame, _, planted = paragraph_table()
    seg, docs = result.segments, result.documents
    assert seg["text"].tolist() == frame["text"].tolist()  # one segment per row, as given
    assert seg["doc_id"].tolist() == frame["doc_id"].tolist()
    index = np.arange(len(frame)) % PER_DOC  # the paragraph's index within its document
    assert seg["segment_id"].tolist() == [
        f"{d}:{k:04d}" for d, k in zip(frame["doc_id"], index, strict=True)
    ]
    assert docs["doc_id"].tolist() == sorted(set(frame["doc_id"]))
    assert (docs["n_segments"] == PER_DOC).all()
    assert docs["year"].tolist() == [str(2018 + d % 4) for d in range(len(docs))]
    # offsets into the document's text, which is its paragraphs in order
    text = dict(zip(docs["doc_id"], docs["text"], strict=True))
    for row in seg.itertuples():
        assert text[row.doc_id][row.start : row.end] == row.text
    first = frame[frame["doc_id"] == "D00"]["text"]
    assert text["D00"] == PARAGRAPH_SEPARATOR.join(first)
    assert result.manifest["counts"]["documents"] == len(docs) == len(frame) // PER_DOC
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(planted, seg["topic"].astype(int)) > 0.9


def test_context_groups_and_document_comparisons_are_the_documents(para_run):
    result, groups = para_run
    seg = result.segments
    # the topic stage reads each paragraph in its document: one group per document
    assert groups == (seg["doc_id"] + "/1").tolist()
    assert len(set(groups)) == seg["doc_id"].nunique() == len(seg) // PER_DOC
    per_doc = result.prevalence(by="doc_id", kind="topic")
    assert set(per_doc["group"]) == set(seg["doc_id"])
    assert (per_doc["n_docs"] == 1).all() and (per_doc["n_segments"] == PER_DOC).all()
    assert np.allclose(per_doc.groupby("group")["share"].sum(), 1.0)
    focus = result.prevalence(by="focus", kind="topic")
    docs_per_focus = result.documents.groupby("focus").size()  # documents, not paragraphs
    assert (focus["n_docs"] == focus["group"].map(docs_per_focus)).all()
    assert set(docs_per_focus) == {7, 8}


def test_a_paragraph_run_is_saved_reported_and_verified(para_run, tmp_path):
    from topics.verify import verify

    result, _ = para_run
    folder = result.save(tmp_path / "run")
    saved = pd.read_parquet(folder / "corpus.parquet")
    assert saved["doc_id"].duplicated().any()  # the paragraph table itself
    back = topics.load(folder)
    assert len(back.documents) == back.segments["doc_id"].nunique() == len(saved) // PER_DOC
    html = (folder / "report.html").read_text("utf-8")
    assert f"Corpus: {len(back.documents)} documents, {len(saved)} paragraphs" in html
    report = verify(folder)
    assert set(report.table()["status"]) == {"identical"}, report.table()


def test_inconsistent_or_scattered_documents_are_named():
    frame, vectors, _ = paragraph_table(n_per_topic=4)
    bad = frame.copy()
    bad.loc[5, "year"] = 1999  # row 5 is the second paragraph of D01
    with pytest.raises(CorpusError, match=r"doc_id 'D01': metadata column 'year' is '2019' on row "
                       r"4 but '1999' on row 5"):  # fmt: skip
        topics.run(bad, embeddings=vectors)
    scattered = frame.iloc[[0, 1, 4, 2, 3, 5, 6, 7, 8, 9, 10, 11]]
    with pytest.raises(CorpusError, match=r"doc_id 'D00' is on rows that are not consecutive "
                       r"\(runs starting at rows 0, 3\).*sort_values"):  # fmt: skip
        topics.run(scattered, embeddings=vectors)


def test_without_embeddings_a_repeated_doc_id_is_still_an_error_naming_the_option():
    frame, _, _ = paragraph_table(n_per_topic=4)
    with pytest.raises(CorpusError, match=r"duplicate doc_id in the DataFrame.*split=False"):
        topics.run(frame)
    with pytest.raises(CorpusError, match="duplicate doc_id"):
        corpus_table(frame)
    assert len(corpus_table(frame, paragraphs=True)) == len(frame)


def test_one_row_documents_read_as_paragraphs_are_what_they_were():
    """split=False on a table with distinct doc_ids: the paragraph reading changes nothing."""
    frame, _ = small_corpus(n_per_topic=3)
    old = segments_from_corpus(corpus_from_frame(frame, strict=True), split=False)
    new = segments_from_corpus(corpus_from_frame(frame, strict=True, paragraphs=True), split=False)
    pd.testing.assert_frame_equal(old.segments, new.segments)
    pd.testing.assert_frame_equal(old.documents, new.documents)
    assert old.manifest["corpus"]["sha256"] == new.manifest["corpus"]["sha256"]


def test_an_empty_paragraph_is_named_and_skipped_when_not_strict():
    frame, _, _ = paragraph_table(n_per_topic=4)
    frame.loc[6, "text"] = "  "
    with pytest.raises(InputFileError, match="DataFrame row 6.*no text"):
        corpus_from_frame(frame, strict=True, paragraphs=True)
    with pytest.warns(SkippedFileWarning, match="DataFrame row 6"):
        loaded = corpus_from_frame(frame, paragraphs=True)
    d01 = next(d for d in loaded.documents if d.doc_id == "D01")
    assert d01.paragraphs == frame.loc[[4, 5, 7], "text"].tolist()
