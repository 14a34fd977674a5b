"""Human coding: sheets for coders, and agreement between the machine's themes and theirs.

A **coding sheet** is a table with one row per sampled paragraph: ``segment_id``, ``doc_id``,
``text``, an empty ``code`` column (and ``code_2``, ... for further coders), and the sampling
design of the row (``stratum``, ``inclusion_prob``, ``weight``). It is written as ``.xlsx``
(worksheets ``coding``, ``codebook`` and ``design``) or ``.csv`` (the codebook and design go
to ``NAME.codebook.csv`` and ``NAME.design.csv`` beside it). The machine's theme is never
written to the sheet: it would anchor the coders. Strata are named by opaque ids (``S01``,
...) in a random order, and the rows are shuffled.

**Agreement** compares the machine with each coder and the coders with each other: accuracy,
Cohen's kappa, Krippendorff's alpha (nominal, the ``krippendorff`` package), per-theme
precision / recall / F1, each with a bootstrap interval over paragraphs clustered by document,
and the confusion matrix. A paragraph that was a coded *example* of the run (``--coded``) is
compared through its cross-validated theme (predicted with its document's examples left out,
computed at run time), never its in-sample theme.

Example
-------
>>> from topics.result import Result
>>> from topics import coding
>>> res = Result.load("results/seeds")                                # doctest: +SKIP
>>> sheet = coding.sample_sheet(res, n=80, random_state=0)            # doctest: +SKIP
>>> coding.write_sheet(sheet, "sheet.xlsx")                           # doctest: +SKIP
>>> agr = coding.agreement(res, "sheet.xlsx")                         # doctest: +SKIP
>>> agr.table.query("measure == 'kappa'")                             # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from topics._io import read_edited_csv
from topics.errors import TopicsError, TopicsWarning
from topics.result import Result

__all__ = [
    "NONE",
    "Sheet",
    "Agreement",
    "sample_sheet",
    "write_sheet",
    "read_sheet",
    "read_codes",
    "sheet_sha256",
    "cohen_kappa",
    "krippendorff_alpha",
    "pair_statistics",
    "agreement",
    "write_agreement",
]

#: The code for "no theme fits" (the machine's empty theme).
NONE = "none"

#: Columns of a sheet that are not coder columns.
SHEET_COLUMNS = ("segment_id", "doc_id", "text", "stratum", "inclusion_prob", "weight")

_CODER = re.compile(r"^code(_\d+)?$")


@dataclass
class Sheet:
    """A coding sheet: the rows for coders, the codebook and the sampling design.

    Attributes
    ----------
    rows : pandas.DataFrame
        ``segment_id``, ``doc_id``, ``text``, ``code`` (empty), ``code_2``, ... (empty),
        ``stratum``, ``inclusion_prob``, ``weight`` (= 1 / inclusion_prob).
    codebook : pandas.DataFrame
        ``theme``, ``description``, ``keywords``; the last row is ``none``.
    design : pandas.DataFrame
        One row per stratum: ``stratum``, ``population`` (paragraphs in the stratum),
        ``sampled``, ``inclusion_prob``, ``weight``; plus the design's ``by``, ``random_state``
        and ``run_sha256`` (the run's outputs) on every row.
    """

    rows: pd.DataFrame
    codebook: pd.DataFrame
    design: pd.DataFrame


def _allocate(sizes: np.ndarray, n: int) -> np.ndarray:
    """Sample size per stratum: a floor for every stratum, the rest proportional to size.

    Each stratum first gets ``min(size, max(2, n // (2 * H)))`` (so a rare theme is coded
    often enough to estimate its precision); the remaining rows are shared in proportion to
    the strata's sizes (largest remainder), never more than a stratum holds.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    h = len(sizes)
    alloc = np.minimum(sizes, max(2, n // (2 * h)))
    if alloc.sum() > n:  # more strata than rows allow: one each for the largest strata
        alloc = np.zeros(h, dtype=np.int64)
        alloc[np.argsort(-sizes, kind="stable")[:n]] = 1
        return alloc
    while alloc.sum() < n and (alloc < sizes).any():
        room = sizes - alloc
        left = n - alloc.sum()
        share = left * sizes * (room > 0) / max((sizes * (room > 0)).sum(), 1)
        add = np.minimum(np.floor(share).astype(np.int64), room)
        if add.sum() == 0:  # largest remainder, one row at a time
            order = np.lexsort((np.arange(h), -(share - np.floor(share)) - (room > 0)))
            add = np.zeros(h, dtype=np.int64)
            add[[i for i in order if room[i] > 0][0]] = 1
        alloc += add
    return alloc


def sample_sheet(
    result: Result,
    n: int = 80,
    *,
    by: Literal["theme", "topic"] = "theme",
    coders: int = 1,
    random_state: int = 0,
    run_sha256: str = "",
) -> Sheet:
    """Draw a stratified sample of modelled paragraphs for human coding.

    Parameters
    ----------
    result : Result
        A run with themes (``by="theme"``) or topics (``by="topic"``).
    n : int, default 80
        Paragraphs to draw (all of them when the run has fewer).
    by : {"theme", "topic"}
        Strata: the machine's theme (unthemed paragraphs are a stratum of their own) or topic.
    coders : int, default 1
        Coder columns: ``code``, ``code_2``, ...
    random_state : int, default 0
    run_sha256 : str, optional
        The run's ``outputs.sha256``, recorded in the design.

    Returns
    -------
    Sheet
        Rows in random order; ``weight`` = population / sampled of the row's stratum.
    """
    if by not in ("theme", "topic"):
        raise TopicsError(f"--by must be 'theme' or 'topic', not {by!r}")
    if n < 1 or coders < 1:
        raise TopicsError("--n and --coders must be at least 1")
    pool, key = _strata(result, by)
    values = sorted(key.unique())
    rng = np.random.default_rng(random_state)
    sizes = np.array([(key == v).sum() for v in values])
    alloc = _allocate(sizes, min(n, len(pool)))
    ids = [f"S{i + 1:02d}" for i in range(len(values))]
    ids = [ids[i] for i in rng.permutation(len(values))]  # ids say nothing about the stratum
    picked = []
    design = []
    for v, sid, size, k in zip(values, ids, sizes, alloc, strict=True):
        members = np.flatnonzero((key == v).to_numpy())
        take = np.sort(rng.choice(members, size=int(k), replace=False)) if k else members[:0]
        prob = k / size
        design.append(
            {
                "stratum": sid,
                "population": int(size),
                "sampled": int(k),
                "inclusion_prob": float(prob),
                "weight": float(size / k) if k else np.nan,
            }
        )
        rows = pool.iloc[take][["segment_id", "doc_id", "text"]].copy()
        rows["stratum"] = sid
        rows["inclusion_prob"] = float(prob)
        rows["weight"] = float(size / k) if k else np.nan
        picked.append(rows)
    rows = pd.concat(picked, ignore_index=True)
    rows = rows.iloc[rng.permutation(len(rows))].reset_index(drop=True)
    coder_cols = ["code"] + [f"code_{i}" for i in range(2, coders + 1)]
    for c in coder_cols:
        rows[c] = ""
    rows = rows[
        ["segment_id", "doc_id", "text", *coder_cols, "stratum", "inclusion_prob", "weight"]
    ]
    design = pd.DataFrame(design).sort_values("stratum", kind="stable").reset_index(drop=True)
    design["by"] = by
    design["random_state"] = random_state
    design["run_sha256"] = run_sha256
    return Sheet(rows=rows, codebook=_sheet_codebook(result), design=design)


def _strata(result: Result, by: str) -> tuple[pd.DataFrame, pd.Series]:
    """The modelled paragraphs and the stratum (theme or topic) of each."""
    seg = result.segments
    if "topic" not in seg:
        raise TopicsError("this run has no modelled paragraphs; sample from a `topics run`")
    pool = seg[seg["topic"].notna()].copy()
    if by == "theme":
        if result.themes is None:
            raise TopicsError(
                "this run has no codebook themes; use --by topic, or rerun with --themes"
            )
        return pool, pool["theme"].fillna("").astype(str)
    return pool, pool["topic"].astype(int).astype(str)


def _sheet_codebook(result: Result) -> pd.DataFrame:
    """The codebook worksheet: the run's themes and ``none``."""
    if result.themes is not None:
        cb = result.themes[["theme", "description", "keywords"]].copy()
    else:
        cb = pd.DataFrame(columns=["theme", "description", "keywords"])
    cb = pd.concat(
        [cb, pd.DataFrame([{"theme": NONE, "description": "no theme fits", "keywords": ""}])],
        ignore_index=True,
    )
    return cb.fillna("")


def _side(path: Path, what: str) -> Path:
    return path.with_name(f"{path.stem}.{what}.csv")


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_sheet(sheet: Sheet, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a coding sheet as ``.xlsx`` (three worksheets) or ``.csv`` (plus two side files).

    Parameters
    ----------
    sheet : Sheet
    path : str or pathlib.Path
        Ends in ``.xlsx`` or ``.csv``.
    overwrite : bool, default False
        An existing file is refused unless ``overwrite`` (coders' work is not replaced by
        accident).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise TopicsError(f"{path}: a coding sheet is .xlsx or .csv, not {suffix or 'no suffix'}")
    if path.exists() and not overwrite:
        raise TopicsError(f"{path}: file exists (it may hold codes); pass --overwrite to replace")
    if suffix == ".csv":
        for frame, target in (
            (sheet.rows, path),
            (sheet.codebook, _side(path, "codebook")),
            (sheet.design, _side(path, "design")),
        ):
            _atomic(
                target,
                lambda p, f=frame: f.to_csv(p, index=False, lineterminator="\n", encoding="utf-8"),
            )
        return path

    def write_xlsx(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xl:
            sheet.rows.to_excel(xl, sheet_name="coding", index=False)
            sheet.codebook.to_excel(xl, sheet_name="codebook", index=False)
            sheet.design.to_excel(xl, sheet_name="design", index=False)
            ws = xl.sheets["coding"]
            widths = {"A": 26, "B": 10, "C": 90}
            for col, w in widths.items():
                ws.column_dimensions[col].width = w
            from openpyxl.styles import Alignment

            for cell in ws["C"][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")

    _atomic(path, write_xlsx)
    return path


def read_sheet(path: str | Path) -> pd.DataFrame:
    """Read the coding table of a sheet (``.xlsx``: worksheet ``coding`` or the first one).

    Every cell is read as text (empty cells as ``""``); column names are stripped and
    lower-cased. A column ``row`` gives each row's number as the user sees it in a
    spreadsheet (the header is row 1).

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise TopicsError(f"{path}: coding sheet not found")
    try:
        if suffix == ".xlsx":
            import openpyxl

            names = openpyxl.load_workbook(path, read_only=True).sheetnames
            name = "coding" if "coding" in names else names[0]
            df = pd.read_excel(path, sheet_name=name, dtype=str, keep_default_na=False)
        elif suffix == ".csv":  # as Excel saves it: ";" and cp1251 in Russian settings
            df = read_edited_csv(path)
        else:
            raise TopicsError(f"{path}: a coding sheet is .xlsx or .csv, not {suffix!r}")
    except TopicsError:
        raise
    except Exception as exc:  # corrupt workbook, bad encoding, ...
        raise TopicsError(f"{path}: cannot read the coding sheet ({exc})") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "segment_id" not in df:
        raise TopicsError(
            f"{path}: no `segment_id` column (found: {', '.join(df.columns)}); a coding sheet "
            "needs the columns segment_id and code"
        )
    df = df.fillna("").astype(str)
    for c in df.columns:
        df[c] = df[c].str.strip()
    df["row"] = np.arange(len(df)) + 2  # the header is row 1 in Excel and line 1 in a CSV
    return df


def sheet_sha256(path: str | Path) -> str:
    """SHA-256 of a sheet file (recorded in manifests)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def coder_columns(df: pd.DataFrame) -> list[str]:
    """The coder columns of a sheet: ``code``, ``code_2``, ... in order."""
    cols = [c for c in df.columns if _CODER.match(c)]
    return sorted(cols, key=lambda c: 1 if c == "code" else int(c.split("_")[1]))


def read_codes(
    path: str | Path,
    themes: Sequence[str],
    *,
    segment_ids: Sequence[str] | None = None,
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The codes of a sheet, validated against the codebook and the corpus.

    A code is a theme name of the codebook (case and surrounding spaces ignored) or
    ``none``. Other columns are ignored.

    Parameters
    ----------
    path : str or pathlib.Path
    themes : sequence of str
        The codebook's theme names.
    segment_ids : sequence of str, optional
        The corpus's segment ids; a sheet row naming another id is an error.
    coders : sequence of str, optional
        Coder columns to read (default all: ``code``, ``code_2``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per sheet row with at least one code: ``segment_id``, ``row`` and one column
        per coder holding the canonical theme name, ``none``, or ``""`` (not coded).

    Raises
    ------
    TopicsError
        A missing ``code`` column, an unknown theme, a duplicate or unknown segment id; the
        message names the row.
    """
    path = Path(path)
    df = read_sheet(path)
    cols = list(coders) if coders is not None else coder_columns(df)
    if not cols or any(c not in df for c in cols):
        raise TopicsError(
            f"{path}: no `code` column; write each paragraph's theme (or `none`) in a column "
            "named code"
        )
    canon = {t.strip().lower(): t for t in themes}
    canon[NONE] = NONE
    where = "row"  # a CSV's text cells may span lines: rows are counted, header = row 1
    empty = [c for c in cols if (df[c] == "").all()]
    for c in cols:
        bad = df[(df[c] != "") & ~df[c].str.lower().isin(canon)]
        if len(bad):
            r = bad.iloc[0]
            raise TopicsError(
                f"{path}, {where} {r['row']} (segment {r['segment_id']}): unknown theme "
                f"{r[c]!r} in column {c}; use a codebook theme ({', '.join(themes)}) or `none`"
            )
        df[c] = [canon[v.lower()] if v else "" for v in df[c]]
    missing = df[df["segment_id"] == ""]
    if len(missing) and (missing[cols] != "").any(axis=None):
        r = missing[(missing[cols] != "").any(axis=1)].iloc[0]
        raise TopicsError(f"{path}, {where} {r['row']}: a code without a segment_id")
    df = df[df["segment_id"] != ""]
    _check_segment_ids(df, path, segment_ids)
    uncoded = df[(df[cols] == "").all(axis=1)]
    if len(uncoded) and len(empty) < len(cols):
        rows = ", ".join(str(r) for r in uncoded["row"].head(10))
        more = "" if len(uncoded) <= 10 else f" and {len(uncoded) - 10} more"
        warnings.warn(
            f"{path}: {len(uncoded)} row(s) without a code skipped ({where}s {rows}{more})",
            TopicsWarning,
            stacklevel=2,
        )
    df = df[(df[cols] != "").any(axis=1)]
    return df[["segment_id", "row", *cols]].reset_index(drop=True)


def _check_segment_ids(df: pd.DataFrame, path: Path, segment_ids) -> None:
    """Refuse a sheet naming a segment twice, or one not in ``segment_ids`` (when given)."""
    where = "row"
    dup = df[df["segment_id"].duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]["segment_id"]
        rows = ", ".join(str(r) for r in dup.loc[dup["segment_id"] == first, "row"])
        raise TopicsError(
            f"{path}, {where}s {rows}: segment {first} appears more than once; keep one row "
            "per paragraph"
        )
    if segment_ids is not None:
        known = set(map(str, segment_ids))
        unknown = df[~df["segment_id"].isin(known)]
        if len(unknown):
            r = unknown.iloc[0]
            raise TopicsError(
                f"{path}, {where} {r['row']}: segment {r['segment_id']} is not in this corpus; "
                "was the sheet drawn from another corpus or an older run?"
            )


# --------------------------------------------------------------------------- statistics


def _confusion(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k), dtype=np.float64)
    np.add.at(m, (a, b), 1.0)
    return m


def _kappa_from(m: np.ndarray) -> float:
    n = m.sum()
    if n == 0:
        return np.nan
    po = np.trace(m) / n
    pe = float(m.sum(1) @ m.sum(0)) / n**2
    return float((po - pe) / (1 - pe)) if pe < 1 else np.nan


def _alpha_from(m: np.ndarray) -> float:
    """Nominal Krippendorff's alpha of two coders without missing values, from their
    confusion matrix (used inside the bootstrap; equals :func:`krippendorff_alpha`).
    """
    o = m + m.T  # coincidence matrix: each unit gives the two ordered pairs of its values
    n = o.sum()
    nc = o.sum(1)
    denom = n**2 - float(nc @ nc)
    if n <= 1 or denom <= 0:
        return np.nan
    return float(1 - (n - 1) * (n - np.trace(o)) / denom)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two codings of the same units.

    Examples
    --------
    >>> round(cohen_kappa(list("yyyn"), list("yynn")), 3)
    0.5
    """
    labels = sorted(set(a) | set(b))
    ix = {v: i for i, v in enumerate(labels)}
    m = _confusion(np.array([ix[v] for v in a]), np.array([ix[v] for v in b]), max(len(labels), 1))
    return _kappa_from(m)


def krippendorff_alpha(*codings: Sequence[str]) -> float:
    """Nominal Krippendorff's alpha of two or more codings (``""`` = not coded).

    Computed by the ``krippendorff`` package.
    """
    import krippendorff

    labels = sorted({v for c in codings for v in c if v != ""})
    if len(labels) < 2:
        return np.nan
    ix = {v: float(i) for i, v in enumerate(labels)}
    data = np.array([[ix.get(v, np.nan) for v in c] for c in codings], dtype=float)
    return float(
        krippendorff.alpha(
            reliability_data=data,
            level_of_measurement="nominal",
            value_domain=list(range(len(labels))),
        )
    )


def _stats_from(m: np.ndarray) -> np.ndarray:
    """[accuracy, kappa, alpha, precision_1..K, recall_1..K, f1_1..K] of a confusion matrix
    ``m[pred, ref]``.
    """
    n = m.sum()
    tp = np.diag(m)
    pred = m.sum(1)
    ref = m.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(pred > 0, tp / pred, np.nan)
        rec = np.where(ref > 0, tp / ref, np.nan)
        f1 = np.where(pred + ref > 0, 2 * tp / (pred + ref), np.nan)
    acc = np.trace(m) / n if n else np.nan
    return np.r_[acc, _kappa_from(m), _alpha_from(m), prec, rec, f1]


def pair_statistics(
    pred: Sequence[str],
    ref: Sequence[str],
    docs: Sequence[object],
    *,
    labels: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Agreement of two codings with intervals from a bootstrap clustered by document.

    Documents are resampled with replacement (all paragraphs of a drawn document come with
    it); the interval is the expanded percentile interval of the resampled statistic, which
    is wider for few documents (see :func:`_bootstrap`).

    Parameters
    ----------
    pred, ref : sequence of str
        The two codings (for per-theme precision/recall: ``pred`` is scored against ``ref``).
    docs : sequence
        Document of each paragraph (the bootstrap's clusters).
    labels : sequence of str, optional
        Categories (default: all that occur), in the order of the per-theme rows.
    weights : sequence of float, optional
        Sampling weights of the paragraphs (``1 / inclusion_prob``); adds a
        ``accuracy_weighted`` row: the estimated accuracy over the population sampled.
    n_boot : int, default 2000
    confidence : float, default 0.95
    random_state : int, default 0

    Returns
    -------
    table : pandas.DataFrame
        ``measure`` (accuracy, accuracy_weighted, kappa, alpha, precision, recall, f1),
        ``theme`` (``""`` for overall measures), ``value``, ``ci_low``, ``ci_high``,
        ``support`` (paragraphs the theme has in ``ref``, or all paragraphs).
    confusion : numpy.ndarray, shape (K, K)
        Counts, rows ``pred``, columns ``ref``.
    """
    pred = list(pred)
    ref = list(ref)
    labels = list(labels) if labels is not None else sorted(set(pred) | set(ref))
    ix = {v: i for i, v in enumerate(labels)}
    k = len(labels)
    a = np.array([ix[v] for v in pred], dtype=np.int64)
    b = np.array([ix[v] for v in ref], dtype=np.int64)
    _, d = np.unique(np.asarray([str(x) for x in docs]), return_inverse=True)
    g = int(d.max()) + 1 if len(d) else 0
    per_doc = np.zeros((g, k, k))
    np.add.at(per_doc, (d, a, b), 1.0)
    m = per_doc.sum(0)
    point = _stats_from(m)
    w = None if weights is None else np.asarray(weights, dtype=float)
    if w is not None:
        wd = np.zeros(g)
        wc = np.zeros(g)
        np.add.at(wd, d, w)
        np.add.at(wc, d, w * (a == b))
        point = np.r_[point, wc.sum() / wd.sum()]
    weighted = None if w is None else (wc, wd)
    lo, hi = _bootstrap(per_doc, weighted, len(point), n_boot, confidence, random_state)
    # The point estimate of alpha comes from the maintained implementation.
    point[2] = krippendorff_alpha(pred, ref) if len(set(pred) | set(ref)) > 1 else np.nan
    table = _measure_table(point, lo, hi, labels, m.sum(0), len(a), weighted=w is not None)
    return table, m


def _measure_table(point, lo, hi, labels, support, n: int, *, weighted: bool) -> pd.DataFrame:
    """One row per measure (overall, then precision, recall and f1 per label)."""
    k = len(labels)
    rows = [("accuracy", "", 0, n), ("kappa", "", 1, n), ("alpha", "", 2, n)]
    if weighted:
        rows.insert(1, ("accuracy_weighted", "", len(point) - 1, n))
    for j, lab in enumerate(labels):
        for off, name in ((3, "precision"), (3 + k, "recall"), (3 + 2 * k, "f1")):
            rows.append((name, lab, off + j, int(support[j])))
    return pd.DataFrame(
        [
            {
                "measure": name,
                "theme": lab,
                "value": point[i],
                "ci_low": lo[i],
                "ci_high": hi[i],
                "support": sup,
            }
            for name, lab, i, sup in rows
        ]
    )


def _bootstrap(per_doc, weighted, n_stats, n_boot, confidence, random_state):
    """Interval (``lo``, ``hi``) of every statistic over documents resampled with
    replacement; ``per_doc`` holds each document's confusion counts, ``weighted`` its
    weighted (correct, total) sums for the weighted accuracy, or None.

    The expanded percentile interval for ``G`` documents
    (:func:`topics._stats.percentile_interval`, as the comparisons use): a bootstrap over
    few documents understates the spread, and the plain percentile interval covered the
    population value in only 88-89% of simulated samples of 8 or 15 documents at the 95%
    level (``experiments/bench_coding.py``). Clipped to the statistics' ranges.
    """
    from topics._stats import percentile_interval

    g = per_doc.shape[0]
    rng = np.random.default_rng(random_state)
    reps = []
    if g >= 2 and n_boot > 0:
        counts = rng.multinomial(g, np.full(g, 1.0 / g), size=n_boot).astype(float)
        boot_m = np.tensordot(counts, per_doc, axes=1)
        for i in range(n_boot):
            s = _stats_from(boot_m[i])
            if weighted is not None:
                wc, wd = weighted
                s = np.r_[s, (counts[i] @ wc) / (counts[i] @ wd)]
            reps.append(s)
    if not reps:
        return np.full(n_stats, np.nan), np.full(n_stats, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (absent themes)
        lo, hi = percentile_interval(np.array(reps), confidence, g)
    floor = np.zeros(n_stats)
    floor[1:3] = -1.0  # kappa and alpha; the others are shares
    return np.maximum(lo, floor), np.minimum(hi, 1.0)


@dataclass
class Agreement:
    """Agreement of the machine and the coders on a coded sheet.

    Attributes
    ----------
    table : pandas.DataFrame
        ``rater_a``, ``rater_b``, ``measure``, ``theme``, ``value``, ``ci_low``, ``ci_high``,
        ``support``, ``n`` (paragraphs coded by both), ``n_docs``, ``evaluation``,
        ``method``. ``rater_a`` is scored against ``rater_b`` (``machine`` vs ``code``).
    confusion : pandas.DataFrame
        ``rater_a``, ``rater_b``, ``label_a``, ``label_b``, ``count`` (every cell, zeros
        included).
    info : dict
        What was compared (recorded in the manifest under ``validation``).
    """

    table: pd.DataFrame
    confusion: pd.DataFrame
    info: dict = field(default_factory=dict)


def machine_codes(result: Result, segment_ids: Sequence[str]) -> tuple[list[str], list[bool]]:
    """The machine's theme of each segment as a code, and whether it is cross-validated.

    A segment that was a coded example of the run gets its cross-validated theme (its
    document's examples left out; ``coded.csv``), any other its run theme.
    """
    seg = result.segments.set_index(result.segments["segment_id"].astype(str))
    cv: dict[str, str] = {}
    coded = getattr(result, "coded", None)
    if coded is not None and len(coded):
        cv = dict(
            zip(
                coded["segment_id"].astype(str),
                coded["cv_theme"].fillna("").astype(str),
                strict=True,
            )
        )
    out, was_cv = [], []
    for s in segment_ids:
        if s in cv:
            t, flag = cv[s], True
        else:
            t, flag = seg.at[s, "theme"] if s in seg.index else "", False
            t = "" if pd.isna(t) else str(t)
        out.append(t or NONE)
        was_cv.append(flag)
    return out, was_cv


def agreement(
    result: Result,
    sheet: str | Path | pd.DataFrame,
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> Agreement:
    """Agreement of the machine's themes with each coder of ``sheet``, and between coders.

    Parameters
    ----------
    result : Result
        A run with codebook themes.
    sheet : str, pathlib.Path or pandas.DataFrame
        A coded sheet (``segment_id`` and ``code``, optionally ``code_2``, ..., ``weight``),
        or such a table in memory.
    n_boot : int, default 2000
        Bootstrap resamples of documents.
    confidence : float, default 0.95
    random_state : int, default 0

    Returns
    -------
    Agreement
    """
    if result.themes is None or "theme" not in result.segments:
        raise TopicsError("this run has no codebook themes; run with --themes first")
    names = [str(t) for t in result.themes["theme"]]
    seg = result.segments
    codes, raw, label, sha = _read_sheet_codes(sheet, names, seg)
    coders = coder_columns(codes)
    weights = _sheet_weights(raw.set_index("segment_id"), codes["segment_id"])
    doc_of = dict(zip(seg["segment_id"].astype(str), seg["doc_id"].astype(str), strict=True))
    docs = np.array([doc_of[s] for s in codes["segment_id"]])
    machine, was_cv = machine_codes(result, codes["segment_id"].tolist())
    ratings = {"machine": np.array(machine, dtype=object)}
    for c in coders:
        ratings[c] = codes[c].to_numpy(dtype=object)
    labels = [*names, NONE]
    n_cv = int(np.sum(was_cv))
    evaluation = _evaluation(n_cv, len(codes))
    method = (
        f"cluster bootstrap over documents, {n_boot} resamples, expanded percentile interval "
        "(Hesterberg 2015)"
    )
    tables, conf = _pair_tables(
        ratings, coders, docs, labels, weights, evaluation, method,
        n_boot=n_boot, confidence=confidence, random_state=random_state,
    )  # fmt: skip
    if not tables:
        raise TopicsError(f"{label}: no coded rows; fill in the `code` column first")
    if len(set(docs)) < 10:
        warnings.warn(
            f"{label}: the coded paragraphs come from {len(set(docs))} documents; intervals "
            "from a bootstrap over so few documents are rough (they are widened for the small "
            "number, but rest on few clusters); code paragraphs from more documents",
            TopicsWarning,
            stacklevel=2,
        )
    table = pd.concat(tables, ignore_index=True)
    info = {
        "sheet": label,
        "sheet_sha256": sha,
        "coders": coders,
        "n_paragraphs": len(codes),
        "n_docs": len(set(docs)),
        "n_cross_validated": n_cv,
        "evaluation": evaluation,
        "weighted": weights is not None,
        "n_boot": n_boot,
        "confidence": confidence,
        "random_state": random_state,
        "files": ["agreement.csv", "confusion.csv"],
    }
    return Agreement(table=table, confusion=pd.concat(conf, ignore_index=True), info=info)


def _pair_tables(ratings, coders, docs, labels, weights, evaluation, method, **boot):
    """Agreement rows and confusion cells of the machine with every coder and of every two
    coders (pairs coded by both; ``boot``: :func:`pair_statistics`'s bootstrap settings).
    """
    pairs = [("machine", c) for c in coders] + [
        (coders[i], coders[j]) for i in range(len(coders)) for j in range(i + 1, len(coders))
    ]
    tables, conf = [], []
    for ra, rb in pairs:
        both = (ratings[ra] != "") & (ratings[rb] != "")
        if not both.any():
            continue
        t, m = pair_statistics(
            ratings[ra][both],
            ratings[rb][both],
            docs[both],
            labels=labels,
            weights=None if weights is None else weights[both],
            **boot,
        )
        t.insert(0, "rater_b", rb)
        t.insert(0, "rater_a", ra)
        t["n"], t["n_docs"] = int(both.sum()), len(set(docs[both]))
        t["evaluation"] = evaluation if ra == "machine" else "coder vs coder"
        t["method"] = method
        tables.append(t)
        conf.append(_confusion_rows(ra, rb, labels, m))
    return tables, conf


def _sheet_weights(raw: pd.DataFrame, segment_ids: pd.Series) -> np.ndarray | None:
    """The sheet's sampling weights of ``segment_ids``; None without a complete, positive
    ``weight`` column.
    """
    if "weight" not in raw:
        return None
    wv = pd.to_numeric(raw.loc[segment_ids, "weight"], errors="coerce").to_numpy()
    return wv if np.isfinite(wv).all() and (wv > 0).all() else None


def _evaluation(n_cv: int, n: int) -> str:
    """How the machine's codes were evaluated: held out, or cross-validated by document."""
    if not n_cv:
        return "held out (no coded paragraph was an example of this run)"
    return (
        f"cross-validated by document ({n_cv} of {n} paragraphs were coded examples "
        "of this run: each was predicted with its document's examples left out)"
    )


def _read_sheet_codes(sheet: str | Path | pd.DataFrame, names: list[str], seg: pd.DataFrame):
    """The validated codes of a sheet (file or table in memory), its raw rows, its name for
    messages and its hash (``""`` in memory). Every coded segment must have been modelled.
    """
    ids = seg["segment_id"].astype(str).tolist()
    codes, raw, label, sha = _read_codes_of(sheet, names, ids)
    modelled = seg[seg["topic"].notna()] if "topic" in seg else seg
    not_modelled = codes[~codes["segment_id"].isin(set(modelled["segment_id"].astype(str)))]
    if len(not_modelled):
        r = not_modelled.iloc[0]
        raise TopicsError(
            f"{label}, row {r['row']}: segment {r['segment_id']} was not modelled in this run "
            "(a title, reference or very short segment); remove it from the sheet"
        )
    return codes, raw, label, sha


def _read_codes_of(sheet: str | Path | pd.DataFrame, names: list[str], ids: list[str]):
    """:func:`read_codes` of a sheet file or of a table in memory."""
    if isinstance(sheet, pd.DataFrame):  # codes in memory (notebooks, tests)
        raw = sheet.astype(str).copy()
        raw["row"] = np.arange(len(raw)) + 2
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sheet.csv"
            raw.drop(columns="row").to_csv(path, index=False)
            codes = read_codes(path, names, segment_ids=ids)
        return codes, raw, "(in memory)", ""
    codes = read_codes(sheet, names, segment_ids=ids)
    return codes, read_sheet(sheet), Path(sheet).name, sheet_sha256(sheet)


def _confusion_rows(ra: str, rb: str, labels: list[str], m: np.ndarray) -> pd.DataFrame:
    """Every cell of the confusion matrix ``m`` of raters ``ra`` (rows) and ``rb``."""
    ii, jj = np.meshgrid(np.arange(len(labels)), np.arange(len(labels)), indexing="ij")
    return pd.DataFrame(
        {
            "rater_a": ra,
            "rater_b": rb,
            "label_a": [labels[i] for i in ii.ravel()],
            "label_b": [labels[j] for j in jj.ravel()],
            "count": m.ravel().astype(int),
        }
    )


def write_agreement(run_dir: str | Path, agr: Agreement, *, report: bool = True) -> Path:
    """Save an agreement into a run folder and record it in the manifest.

    Writes ``agreement.csv`` and ``confusion.csv`` (each atomically), adds ``validation``
    to ``manifest.json`` and, with ``report``, rewrites ``report.html`` with its
    "Validation" section.

    Returns
    -------
    pathlib.Path
        ``run_dir/agreement.csv``.
    """
    import json

    run_dir = Path(run_dir)
    if not (run_dir / "segments.csv").exists():
        raise TopicsError(f"{run_dir}: not a run folder (no segments.csv)")
    for frame, name in ((agr.table, "agreement.csv"), (agr.confusion, "confusion.csv")):
        _atomic(
            run_dir / name,
            lambda p, f=frame: f.to_csv(p, index=False, lineterminator="\n", float_format="%.4f"),
        )
    mpath = run_dir / "manifest.json"
    manifest = json.loads(mpath.read_text("utf-8")) if mpath.exists() else {}
    manifest["validation"] = agr.info
    _atomic(
        mpath,
        lambda p: p.write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8"
        ),
    )
    if report and (run_dir / "report.html").exists():
        from topics.report import write_report

        write_report(run_dir)
    return run_dir / "agreement.csv"


# --------------------------------------------------------------------------- few-shot


def read_examples(
    path: str | Path, names: Sequence[str], segments: pd.DataFrame, modelled: Sequence[int]
) -> pd.DataFrame:
    """The coded paragraphs of a sheet as examples for the theme assignment.

    Reads the ``segment_id`` and ``code`` columns (other columns, further coders included,
    are ignored).

    Parameters
    ----------
    path : str or pathlib.Path
        A coded sheet (``.xlsx`` or ``.csv``).
    names : sequence of str
        The codebook's theme names.
    segments : pandas.DataFrame
        The run's segments table.
    modelled : sequence of int
        Positions (``iloc``) of the modelled segments, the rows of the theme scores.

    Returns
    -------
    pandas.DataFrame
        ``segment_id``, ``doc_id``, ``code``, ``row`` (in the sheet), ``pos`` (row of the
        theme scores), ``label`` (theme index, ``len(names)`` for ``none``).
    """
    ids = segments["segment_id"].astype(str).to_numpy()
    codes = read_codes(path, names, segment_ids=ids, coders=["code"])
    pos_of = {ids[i]: p for p, i in enumerate(modelled)}
    missing = codes[~codes["segment_id"].isin(pos_of)]
    if len(missing):
        r = missing.iloc[0]
        raise TopicsError(
            f"{path}, row {r['row']}: segment {r['segment_id']} is not a modelled paragraph "
            "(a title, keywords, references or a very short segment); remove the row"
        )
    doc_of = dict(zip(ids, segments["doc_id"].astype(str), strict=True))
    label = {n: i for i, n in enumerate(names)}
    label[NONE] = len(names)
    return pd.DataFrame(
        {
            "segment_id": codes["segment_id"],
            "doc_id": [doc_of[s] for s in codes["segment_id"]],
            "code": codes["code"],
            "row": codes["row"],
            "pos": [pos_of[s] for s in codes["segment_id"]],
            "label": [label[c] for c in codes["code"]],
        }
    )


def few_shot(
    scores: np.ndarray,
    names: Sequence[str],
    path: str | Path,
    segments: pd.DataFrame,
    modelled: Sequence[int],
    *,
    min_z: float = 3.0,
):
    """Themes calibrated on a coded sheet, with cross-validated themes of the coded paragraphs.

    Parameters
    ----------
    scores : numpy.ndarray, shape (n_modelled, T)
        Combined codebook scores (:func:`topics.themes.combine_scores`).
    names : sequence of str
    path : str or pathlib.Path
        The coded sheet.
    segments : pandas.DataFrame
    modelled : sequence of int
        Positions of the modelled segments (rows of ``scores``).
    min_z : float, default 3.0

    Returns
    -------
    assigned : topics.themes.ThemeAssignment
        Every modelled paragraph's theme with the offsets learnt from all coded paragraphs.
    coded : pandas.DataFrame
        ``segment_id``, ``doc_id``, ``code``, ``theme`` (in-sample), ``cv_theme`` (the
        theme predicted with the paragraph's document's codes left out).
    info : dict
        For the manifest: the sheet, its hash, counts per code, the chosen penalty ``l2``
        (``None``: the codebook alone, the offsets are zero) with the cross-validated
        log-likelihood of each candidate, the offsets.
    """
    from topics import themes as th

    ex = read_examples(path, names, segments, modelled)
    l2, loglik = th.choose_shrinkage(scores, ex["pos"], ex["label"], ex["doc_id"], min_z=min_z)
    offsets = th.theme_offsets(scores, ex["pos"], ex["label"], min_z=min_z, l2=l2)
    assigned = th.assign_themes(scores, names, min_z=min_z, offsets=offsets)
    cv = th.cross_validated_themes(scores, names, ex["pos"], ex["label"], ex["doc_id"], min_z=min_z)
    coded = pd.DataFrame(
        {
            "segment_id": ex["segment_id"],
            "doc_id": ex["doc_id"],
            "code": ex["code"],
            "theme": [assigned.theme[p] for p in ex["pos"]],
            "cv_theme": cv,
        }
    )
    info = {
        "coded": Path(path).name,
        "coded_sha256": sheet_sha256(path),
        "n_coded": len(ex),
        "n_coded_docs": int(ex["doc_id"].nunique()),
        "codes": {k: int(v) for k, v in ex["code"].value_counts().sort_index().items()},
        "method": "per-theme offsets (ridge multinomial logit on the coded paragraphs); "
        "penalty chosen by cross-validation over documents",
        "l2": None if np.isinf(l2) else l2,
        "l2_cv_loglik": {str(k): round(v, 3) for k, v in loglik.items()},
        "offsets": {n: round(float(o), 5) for n, o in zip([*names, NONE], offsets, strict=True)},
        "cross_validation": "coded paragraphs are predicted with their document's codes left "
        "out (cv_theme in coded.csv); `topics code agreement` uses those",
    }
    return assigned, coded, info
