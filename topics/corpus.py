"""Corpus stage: find the documents of a corpus folder and read their text.

A corpus is a folder. An optional ``corpus.csv`` lists the documents: column ``file`` (a path
relative to the folder) is required, ``doc_id`` defaults to the file's relative path without its
extension, and every other column is metadata that later stages can compare by. Without a
``corpus.csv`` every supported file under the folder is a document without metadata.

Problems with one document (missing, empty, binary, corrupt, unsupported) are *skippable*: the
document is skipped with a :class:`~topics.errors.SkippedFileWarning` and recorded, unless
``strict=True``, which turns them into :class:`~topics.errors.InputFileError`. Problems with the
table itself (no ``file`` column, duplicate ``doc_id``) are always errors.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from topics import _readers
from topics._io import read_edited_csv
from topics.errors import CorpusError, InputFileError, SkippedFileWarning

__all__ = [
    "Document",
    "LoadedCorpus",
    "load_corpus",
    "corpus_from_frame",
    "corpus_from_table",
    "corpus_table",
    "PARAGRAPH_SEPARATOR",
    "SUPPORTED_EXTENSIONS",
    "corpus_sha256",
]

SUPPORTED_EXTENSIONS = _readers.SUPPORTED_EXTENSIONS
CORPUS_TABLE = "corpus.csv"
#: Between the paragraphs of a paragraph table's document in its ``text``.
PARAGRAPH_SEPARATOR = "\n\n"


@dataclass
class Document:
    """One readable document of a corpus.

    Attributes
    ----------
    doc_id : str
        Unique identifier of the document within the corpus.
    file : str
        Path relative to the corpus folder, with forward slashes.
    text : str
        The raw extracted text (before cleaning).
    metadata : dict
        Every other column of ``corpus.csv`` for this document (strings; empty cells dropped).
    sha256 : str
        Hash of the file's bytes.
    encoding : str
        The detected text encoding, or the reader used (``docx``, ``pdf``, ``html``).
    paragraphs : list of str or None
        The document's paragraphs as given (rows of a paragraph table, see
        :func:`corpus_from_frame`): they are its segments, neither cleaned nor split, and
        ``text`` is them joined by :data:`PARAGRAPH_SEPARATOR`. None for a document whose
        text is to be segmented.
    """

    doc_id: str
    file: str
    text: str
    metadata: dict[str, str] = field(default_factory=dict)
    sha256: str = ""
    encoding: str = ""
    paragraphs: list[str] | None = None


@dataclass
class LoadedCorpus:
    """The readable documents of a corpus and what was skipped.

    Attributes
    ----------
    root : pathlib.Path
        The corpus folder.
    documents : list of Document
        Documents in corpus order.
    skipped : list of dict
        One record per skipped file: ``file``, ``row`` (of ``corpus.csv`` or None), ``reason``,
        ``message``.
    metadata_columns : list of str
        Metadata column names from ``corpus.csv`` (empty without one).
    has_table : bool
        Whether the folder has a ``corpus.csv``.
    """

    root: Path
    documents: list[Document]
    skipped: list[dict]
    metadata_columns: list[str]
    has_table: bool


def corpus_sha256(documents: list[Document]) -> str:
    """Hash a corpus as a whole: its documents' ids, paths and file hashes, in order."""
    h = hashlib.sha256()
    for d in documents:
        h.update(f"{d.doc_id}\t{d.file}\t{d.sha256}\n".encode())
    return h.hexdigest()


def _default_doc_id(rel: str) -> str:
    return str(PurePosixPath(rel).with_suffix(""))


def _iter_folder(root: Path) -> Iterator[str]:
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        parts = PurePosixPath(rel).parts
        if any(part.startswith(".") for part in parts):
            continue  # hidden files and folders (.git, .DS_Store) are never documents
        if rel == CORPUS_TABLE or p.name.lower() == "readme.md":
            continue
        yield rel


def _read_table(root: Path) -> pd.DataFrame:
    """``corpus.csv`` as text columns: any encoding the documents may have (UTF-8, UTF-16 as
    spreadsheets export "Unicode text", cp1251, ...) and a ``,``, ``;`` or tab separator.
    """
    path = root / CORPUS_TABLE
    try:
        table = read_edited_csv(path)
    except InputFileError as exc:
        raise CorpusError(f"{path}: {exc}; save it as UTF-8 CSV and retry.") from exc
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read corpus.csv ({exc})") from exc
    except pd.errors.ParserError as exc:
        raise CorpusError(f"{path}: corpus.csv is not a valid CSV table: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise CorpusError(
            f"{path}: corpus.csv is empty; it needs a header row with at least a `file` column."
        ) from exc
    table.columns = [str(c).strip() for c in table.columns]
    if "file" not in table.columns:
        raise CorpusError(
            f"{path}: corpus.csv has no `file` column (found: {', '.join(table.columns)}); "
            "add a `file` column holding each document's path relative to the corpus folder."
        )
    for col in table.columns:
        table[col] = table[col].astype(str).str.strip()
    if "doc_id" not in table.columns:
        table["doc_id"] = ""
    missing_id = table["doc_id"] == ""
    table.loc[missing_id, "doc_id"] = table.loc[missing_id, "file"].map(_default_doc_id)
    dup = table["doc_id"].duplicated(keep=False) & (table["file"] != "")
    if dup.any():
        groups = table[dup].groupby("doc_id").groups
        detail = "; ".join(
            f"doc_id {k!r} on rows {', '.join(str(i + 1) for i in v)}" for k, v in groups.items()
        )
        raise CorpusError(
            f"{path}: duplicate doc_id ({detail}). Each document needs a unique doc_id; "
            "edit corpus.csv so that every row has its own."
        )
    return table


def _resolve(root: Path, rel: str) -> Path | None:
    """Return the file inside ``root`` or None when ``rel`` escapes it."""
    candidate = (root / rel).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate


def load_corpus(folder: str | Path, *, strict: bool = False) -> LoadedCorpus:
    r"""Find and read every document of a corpus folder.

    Parameters
    ----------
    folder : str or pathlib.Path
        The corpus folder (read only; nothing is written there).
    strict : bool, default False
        Raise :class:`~topics.errors.InputFileError` on the first unreadable document instead
        of skipping it with a warning.

    Returns
    -------
    LoadedCorpus
        The readable documents and the skipped files with reasons.

    Raises
    ------
    CorpusError
        The folder does not exist, ``corpus.csv`` is malformed or has duplicate ``doc_id``\\ s,
        or no document at all could be read.

    Examples
    --------
    >>> corpus = load_corpus("seeds")  # doctest: +SKIP
    >>> [d.doc_id for d in corpus.documents][:2]  # doctest: +SKIP
    ['000', '001']
    """
    root = Path(folder)
    if not root.is_dir():
        raise CorpusError(f"{root}: corpus folder not found; pass a folder of documents.")
    documents: list[Document] = []
    skipped: list[dict] = []

    def skip(err: InputFileError) -> None:
        if strict:
            raise err
        warnings.warn(str(err), SkippedFileWarning, stacklevel=3)
        skipped.append(
            {"file": err.path, "row": err.row, "reason": err.reason, "message": str(err)}
        )

    has_table = (root / CORPUS_TABLE).is_file()
    entries, meta_cols = _entries(root, has_table)
    for row, rel, doc_id, meta in entries:
        try:
            text, encoding, digest = _read_entry(root, rel, row)
        except InputFileError as err:
            skip(err)
            continue
        documents.append(
            Document(
                doc_id=doc_id,
                file=PurePosixPath(rel).as_posix(),
                text=text,
                metadata=meta,
                sha256=digest,
                encoding=encoding,
            )
        )
    if not documents:
        reasons = "; ".join(s["message"] for s in skipped[:5]) or "the folder holds no files"
        raise CorpusError(
            f"{root}: no readable document (supported: {', '.join(SUPPORTED_EXTENSIONS)}). "
            f"{reasons}"
        )
    return LoadedCorpus(
        root=root,
        documents=documents,
        skipped=skipped,
        metadata_columns=meta_cols,
        has_table=has_table,
    )


def _entries(root: Path, has_table: bool) -> tuple[list[tuple], list[str]]:
    """The documents to read, ``(row, file, doc_id, metadata)`` (``row`` of ``corpus.csv``,
    None without one), and the metadata column names.
    """
    if not has_table:
        return [(None, rel, _default_doc_id(rel), {}) for rel in _iter_folder(root)], []
    table = _read_table(root)
    meta_cols = [c for c in table.columns if c not in ("file", "doc_id")]
    entries = [
        (i + 1, rec["file"], rec["doc_id"], {c: rec[c] for c in meta_cols if rec[c] != ""})
        for i, rec in enumerate(table.to_dict("records"))
    ]
    return entries, meta_cols


def _read_entry(root: Path, rel: str, row: int | None) -> tuple[str, str, str]:
    """Text, encoding and hash of the file ``rel`` of the corpus folder ``root``.

    Raises
    ------
    InputFileError
        Blank, outside the folder, missing or unreadable (``row``: its ``corpus.csv`` row).
    """
    if rel == "":
        raise InputFileError("(blank)", "missing", "the `file` cell is empty; fill it in.", row)
    path = _resolve(root, rel)
    if path is None or PurePosixPath(rel).is_absolute():
        raise InputFileError(
            rel,
            "outside-corpus",
            "refused: the path leads outside the corpus folder. List only files "
            "inside the folder, with paths relative to it.",
            row,
        )
    if not path.is_file():
        raise InputFileError(
            rel,
            "missing",
            "listed in corpus.csv but not found; fix the path or remove the row.",
            row,
        )
    try:
        return _readers.read_document(path)
    except InputFileError as err:
        raise InputFileError(rel, err.reason, err.args[0].split(": ", 1)[-1], row) from None


def _cell(value: object) -> str:
    """A metadata cell as text, like a ``corpus.csv`` cell (missing -> ``""``, 2021.0 -> 2021)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


#: The dtype pandas gives a column of strings (``str`` from pandas 3, else ``object``).
_STR_DTYPE = pd.Series(["text"]).dtype


def corpus_table(frame: pd.DataFrame, *, paragraphs: bool = False) -> pd.DataFrame:
    """A DataFrame corpus checked and in its saved form: ``doc_id``, ``text``, metadata as text.

    ``doc_id`` is filled in by row position where missing (``doc00000``, ...); a text that
    is not a string becomes missing; metadata cells become text as in a ``corpus.csv``
    (missing -> ``""``, ``2021.0`` -> ``"2021"``). :func:`corpus_from_frame` gives the same
    corpus for ``frame`` and for its table, which a run saves as ``corpus.parquet``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Column ``text`` (required), optional ``doc_id`` and any metadata columns.
    paragraphs : bool, default False
        Whether ``frame`` may be a paragraph table: rows are paragraphs, a ``doc_id``
        repeated over the consecutive rows of one document (in reading order), document
        metadata the same on all of a document's rows. Without it every row is a document
        and a repeated ``doc_id`` is an error.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``frame``, in order.

    Raises
    ------
    CorpusError
        Not a DataFrame, no ``text`` column, or a duplicate ``doc_id`` (a paragraph table:
        a document's rows not consecutive, or its metadata not the same on all of them).
    """
    if not isinstance(frame, pd.DataFrame):
        raise CorpusError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    columns = [str(c) for c in frame.columns]
    if "text" not in columns:
        raise CorpusError(
            f"the DataFrame has no `text` column (found: {', '.join(columns) or 'none'}); "
            "put each document's text in a column named `text`."
        )
    frame = frame.reset_index(drop=True)
    frame.columns = columns
    if "doc_id" in columns:
        ids = [_cell(v) or f"doc{i:05d}" for i, v in enumerate(frame["doc_id"])]
    else:
        ids = [f"doc{i:05d}" for i in range(len(frame))]
    dup = pd.Series(ids).duplicated(keep=False)
    if dup.any() and not paragraphs:
        rows = ", ".join(str(i) for i in dup[dup].index[:10])
        raise CorpusError(
            f"duplicate doc_id in the DataFrame (rows {rows}); give every row its own doc_id. "
            "If the rows are paragraphs of documents (a doc_id repeated over its paragraphs, in "
            "reading order), pass split=False (or embeddings=, which implies it): each row is "
            "then one paragraph of its document."
        )
    text = frame["text"]
    if text.dtype == object or text.dtype != _STR_DTYPE:
        text = [t if isinstance(t, str) else None for t in text]
    # else: pandas' own text column (strings or missing) is kept as it is, not copied: at 1M
    # paragraphs its copy and the Python strings in between cost GBs
    table = pd.DataFrame({"doc_id": ids, "text": text})
    for c in columns:
        if c not in ("text", "doc_id"):
            table[c] = [_cell(v) for v in frame[c]]
    if dup.any():
        _check_paragraph_table(table)
    return table


def _check_paragraph_table(table: pd.DataFrame) -> None:
    """A paragraph table's documents are consecutive rows with the same metadata."""
    ids = table["doc_id"]
    first = ids.ne(ids.shift())  # the first row of each run of one doc_id
    runs = ids[first]
    if runs.duplicated().any():
        doc = runs[runs.duplicated()].iloc[0]
        starts = ", ".join(str(i) for i in runs.index[runs == doc][:5])
        raise CorpusError(
            f"doc_id {doc!r} is on rows that are not consecutive (runs starting at rows "
            f"{starts}); a document's paragraphs must be consecutive rows in reading order. "
            "Sort the table by doc_id keeping the order within each document, e.g. "
            "frame.sort_values('doc_id', kind='stable'), or give the documents distinct doc_ids."
        )
    meta = [c for c in table.columns if c not in ("text", "doc_id")]
    if not meta:
        return
    doc_no = first.cumsum().to_numpy()
    for c in meta:
        values = table[c]
        # a cell that differs from its document's first row
        differs = values.ne(values[first].to_numpy()[doc_no - 1]).to_numpy()
        if differs.any():
            row = int(differs.argmax())
            doc = ids.iloc[row]
            head = int(first.index[first & ids.eq(doc)][0])
            raise CorpusError(
                f"doc_id {doc!r}: metadata column {c!r} is {values.iloc[head]!r} on row {head} "
                f"but {values.iloc[row]!r} on row {row}; document metadata must be the same on "
                "every paragraph of a document. Fix the table, or give these paragraphs "
                "different doc_ids if they belong to different documents."
            )


def corpus_from_frame(
    frame: pd.DataFrame, *, strict: bool = False, paragraphs: bool = False
) -> LoadedCorpus:
    """A corpus from a table: one document per row, or one paragraph per row.

    Parameters
    ----------
    frame : pandas.DataFrame
        Column ``text`` (required), optional ``doc_id`` (default ``doc00000``, ``doc00001``, ...
        by row position) and any metadata columns (compared by later stages, like the columns
        of a ``corpus.csv``); see :func:`corpus_table`.
    strict : bool, default False
        Raise on a row with empty text instead of skipping it with a warning.
    paragraphs : bool, default False
        Read ``frame`` as a paragraph table: every row is one paragraph, kept as given
        (:attr:`Document.paragraphs`), and the consecutive rows of one ``doc_id`` are one
        document (see :func:`corpus_table`). Rows with distinct ``doc_id`` are one-paragraph
        documents.

    Returns
    -------
    LoadedCorpus
        ``root`` is ``Path("DataFrame")``; ``file`` of every document is ``""``.

    Raises
    ------
    CorpusError
        No ``text`` column, a duplicate ``doc_id`` (without ``paragraphs``; with it, a
        document whose rows are not consecutive or disagree on metadata), or no row with text.

    Examples
    --------
    >>> import pandas as pd
    >>> c = corpus_from_frame(pd.DataFrame({"text": ["Мугалимдер окутат."], "year": [2021]}))
    >>> c.documents[0].doc_id, c.documents[0].metadata
    ('doc00000', {'year': '2021'})
    """
    return corpus_from_table(corpus_table(frame, paragraphs=paragraphs), strict=strict,
                             paragraphs=paragraphs)  # fmt: skip


def corpus_from_table(
    table: pd.DataFrame, *, strict: bool = False, paragraphs: bool = False
) -> LoadedCorpus:
    """:func:`corpus_from_frame` of a table :func:`corpus_table` has already checked and
    converted (a run's corpus table): the same corpus without converting it twice.
    """
    meta_cols = [c for c in table.columns if c not in ("text", "doc_id")]
    skipped: list[dict] = []
    texts = table["text"].tolist()
    keep = []
    for i, text in enumerate(texts):
        if isinstance(text, str) and text.strip():
            keep.append(i)
            continue
        what = "paragraph" if paragraphs else "row"
        err = InputFileError(
            f"DataFrame row {i}", "empty", f"no text in column `text`; fill the {what} or drop it."
        )
        if strict:
            raise err
        warnings.warn(str(err), SkippedFileWarning, stacklevel=2)
        skipped.append({"file": "", "row": i, "reason": "empty", "message": str(err)})
    if not keep:
        raise CorpusError("the DataFrame has no row with text in column `text`.")
    if len(keep) < len(table):
        table = table.iloc[keep]
    documents = _frame_documents(table, meta_cols, paragraphs)
    return LoadedCorpus(
        root=Path("DataFrame"),
        documents=documents,
        skipped=skipped,
        metadata_columns=meta_cols,
        has_table=True,
    )


def _frame_documents(table: pd.DataFrame, meta_cols: list[str], paragraphs: bool) -> list:
    """The documents of a checked table's rows with text (one per row or per doc_id run)."""
    ids = table["doc_id"].tolist()
    texts = table["text"].tolist()
    if paragraphs:
        starts = [0, *(i for i in range(1, len(ids)) if ids[i] != ids[i - 1]), len(ids)]
    else:
        starts = list(range(len(ids) + 1))
    meta = {c: table[c].tolist() for c in meta_cols}
    documents: list[Document] = []
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        paras = texts[a:b]
        # one paragraph hashes as its text, so a one-row document is as before
        digest = hashlib.sha256("\x1e".join(paras).encode("utf-8")).hexdigest()
        documents.append(
            Document(
                doc_id=ids[a],
                file="",
                text=PARAGRAPH_SEPARATOR.join(paras),
                metadata={c: meta[c][a] for c in meta_cols if meta[c][a] != ""},
                sha256=digest,
                encoding="str",
                paragraphs=paras if paragraphs else None,
            )
        )
    return documents
