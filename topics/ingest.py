"""Ingest: corpus folder -> cleaned, segmented, language-tagged segments table.

Composes :mod:`topics.corpus` (read), :mod:`topics.clean` (clean), :mod:`topics.segment`
(segment) and :mod:`topics.langid` (language) into one table with one row per segment.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from topics import _io
from topics.clean import clean_document
from topics.corpus import PARAGRAPH_SEPARATOR, LoadedCorpus, corpus_sha256, load_corpus
from topics.langid import detect_language
from topics.schema import MODEL_COLUMNS, SEGMENT_COLUMNS
from topics.segment import Segment, segment_document

__all__ = ["IngestResult", "ingest", "write_ingest", "SEGMENT_COLUMNS"]


@dataclass
class IngestResult:
    """Segments and documents of an ingested corpus.

    Attributes
    ----------
    segments : pandas.DataFrame
        One row per segment: :data:`SEGMENT_COLUMNS` plus the document's metadata columns.
        ``start``/``end`` are offsets into ``documents.text`` of the same ``doc_id``.
    documents : pandas.DataFrame
        One row per read document: ``doc_id``, ``file``, ``sha256``, ``encoding``,
        ``n_segments``, metadata columns and the cleaned ``text``.
    manifest : dict
        Files read and skipped (with reasons), counts per language and section, corpus hash,
        timings.
    """

    segments: pd.DataFrame
    documents: pd.DataFrame
    manifest: dict = field(default_factory=dict)


def segments_from_corpus(
    corpus: LoadedCorpus,
    *,
    progress: bool = False,
    max_chars: int = 1200,
    min_chars: int = 60,
    split: bool = True,
) -> IngestResult:
    """Clean and segment every document of a loaded corpus.

    Parameters
    ----------
    corpus : LoadedCorpus
        From :func:`topics.corpus.load_corpus`.
    progress : bool, default False
        Show a progress bar.
    max_chars, min_chars : int
        Passed to :func:`topics.segment.segment_document`.
    split : bool, default True
        False keeps every document as one ``body`` segment with its text exactly as given
        (neither cleaned nor split), so that the i-th document is the i-th segment: for
        embeddings computed outside ``topics``, one per document. A document with
        :attr:`~topics.corpus.Document.paragraphs` (a paragraph table's) is always segmented
        into exactly those paragraphs, as given: one ``body`` segment each, in order.

    Returns
    -------
    IngestResult
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    doc_rows: list[dict] = []
    # A metadata column named like a segment column (e.g. the document's `language` beside
    # each segment's detected `language`) is kept as `doc_<name>`.
    reserved = set(SEGMENT_COLUMNS) | set(MODEL_COLUMNS)
    rename = {c: (f"doc_{c}" if c in reserved else c) for c in corpus.metadata_columns}
    meta_cols = [rename[c] for c in corpus.metadata_columns]
    # the segments table column by column: a dict per segment costs ~1 KB at 1M paragraphs
    columns: dict[str, list] = {c: [] for c in [*SEGMENT_COLUMNS, *meta_cols]}
    for doc in tqdm(corpus.documents, desc="ingest", unit="doc", disable=not progress):
        cleaned, segments = _segment(doc, split, max_chars=max_chars, min_chars=min_chars)
        _add_segment_rows(columns, doc, segments, rename)
        doc_rows.append(
            {
                "doc_id": doc.doc_id,
                "file": doc.file,
                "sha256": doc.sha256,
                "encoding": doc.encoding,
                "n_segments": len(segments),
                **doc.metadata,
                "text": cleaned,
            }
        )
    if columns["doc_id"]:
        segments_df = pd.DataFrame(columns)[SEGMENT_COLUMNS + meta_cols]
    else:  # no segment: untyped (object) columns
        segments_df = pd.DataFrame([], columns=SEGMENT_COLUMNS + meta_cols)
    for col in meta_cols:
        segments_df[col] = segments_df[col].fillna("")
    documents_df = pd.DataFrame(doc_rows)
    seconds = time.perf_counter() - t0
    if segments_df.empty:
        warnings.warn(
            "no segment was produced: every document is empty after cleaning", stacklevel=2
        )
    manifest = _manifest(corpus, segments_df, meta_cols, seconds)
    return IngestResult(segments=segments_df, documents=documents_df, manifest=manifest)


def _segment(doc, split: bool, *, max_chars: int, min_chars: int) -> tuple[str, list[Segment]]:
    """A document's cleaned text and its segments: its paragraphs as given when it has them,
    else its text as one segment without ``split``, else its segmented cleaned text.
    """
    text = doc.text
    if doc.paragraphs is not None:
        return text, _paragraph_segments(doc.paragraphs)
    if not split:
        return text, [Segment(1, "body", detect_language(text), text, 0, len(text))]
    cleaned = clean_document(text)
    return cleaned, segment_document(
        cleaned, detect_language, max_chars=max_chars, min_chars=min_chars
    )


def _paragraph_segments(paragraphs: list[str]) -> list[Segment]:
    """One ``body`` segment per paragraph, with its offsets in the paragraphs joined by
    :data:`topics.corpus.PARAGRAPH_SEPARATOR` (the document's ``text``).
    """
    out = []
    start = 0
    for para in paragraphs:
        end = start + len(para)
        out.append(Segment(1, "body", detect_language(para), para, start, end))
        start = end + len(PARAGRAPH_SEPARATOR)
    return out


def _add_segment_rows(
    columns: dict[str, list], doc, segments: list[Segment], rename: dict[str, str]
) -> None:
    """Append the rows of ``doc``'s segments (``doc`` a :class:`topics.corpus.Document`) to
    the segments table's ``columns``; a metadata value the document lacks is missing (NaN).
    """
    n = len(segments)
    columns["doc_id"].extend([doc.doc_id] * n)
    columns["segment_id"].extend(f"{doc.doc_id}:{k:04d}" for k in range(n))
    columns["article"].extend(seg.article for seg in segments)
    columns["section"].extend(seg.section for seg in segments)
    columns["language"].extend(seg.language for seg in segments)
    columns["text"].extend(seg.text for seg in segments)
    columns["start"].extend(seg.start for seg in segments)
    columns["end"].extend(seg.end for seg in segments)
    columns["n_chars"].extend(seg.end - seg.start for seg in segments)
    columns["file"].extend([doc.file] * n)
    meta = {rename[k]: v for k, v in doc.metadata.items()}
    for name in set(rename.values()):
        columns[name].extend([meta.get(name, np.nan)] * n)


def _manifest(
    corpus: LoadedCorpus, segments: pd.DataFrame, meta_cols: list[str], seconds: float
) -> dict:
    """What an ingest read and skipped, its counts per language and section, and its time."""
    return {
        "corpus": {
            "path": corpus.root.name,
            "has_corpus_csv": corpus.has_table,
            "metadata_columns": meta_cols,
            "sha256": corpus_sha256(corpus.documents),
        },
        "files_read": [
            {"file": d.file, "doc_id": d.doc_id, "sha256": d.sha256, "encoding": d.encoding}
            for d in corpus.documents
        ],
        "files_skipped": corpus.skipped,
        "counts": {
            "documents": len(corpus.documents),
            "segments": int(len(segments)),
            "articles": int(segments.groupby("doc_id")["article"].nunique().sum())
            if len(segments)
            else 0,
            "by_language": {k: int(v) for k, v in segments["language"].value_counts().items()},
            "by_section": {k: int(v) for k, v in segments["section"].value_counts().items()},
        },
        "timings": {"ingest_s": round(seconds, 3)},
    }


def ingest(corpus: str | Path, *, strict: bool = False, progress: bool = False) -> IngestResult:
    """Read, clean and segment a corpus folder.

    Parameters
    ----------
    corpus : str or pathlib.Path
        Corpus folder, optionally with a ``corpus.csv`` metadata table.
    strict : bool, default False
        Treat unreadable documents as errors instead of skipping them with a warning.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    IngestResult

    Examples
    --------
    >>> res = ingest("seeds")  # doctest: +SKIP
    >>> res.segments.groupby("section").size()  # doctest: +SKIP
    """
    loaded = load_corpus(corpus, strict=strict)
    return segments_from_corpus(loaded, progress=progress)


def write_segments(folder: Path, segments: pd.DataFrame, documents: pd.DataFrame) -> None:
    """Write ``segments.csv``/``.parquet`` and ``documents.csv``/``.parquet`` into ``folder``."""
    segments.to_csv(folder / "segments.csv", index=False)
    segments.to_parquet(folder / "segments.parquet", index=False)
    documents.to_csv(folder / "documents.csv", index=False)
    documents.to_parquet(folder / "documents.parquet", index=False)


def write_ingest(result: IngestResult, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write an ingest result to ``out`` atomically.

    Writes ``segments.csv``, ``segments.parquet``, ``documents.csv``, ``documents.parquet`` and
    ``manifest.json`` into a temporary folder that is moved into place only when complete.

    Parameters
    ----------
    result : IngestResult
    out : str or pathlib.Path
        Output folder; refused if it exists unless ``overwrite``.
    overwrite : bool, default False

    Returns
    -------
    pathlib.Path
        The output folder.
    """
    out = Path(out)
    manifest = dict(result.manifest)
    manifest["versions"] = _io.package_versions()
    with _io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        write_segments(tmp, result.segments, result.documents)
        _io.write_json(tmp / "manifest.json", manifest)
    return out
