"""Compare: topic and theme prevalence across groups, with honest confidence intervals.

For each grouping (``by``: a metadata column such as ``focus``, or the pseudo-groupings
``doc_id`` and ``article``), :func:`prevalence` gives each group's share of segments in every
topic and theme, and :func:`differences` the pairwise differences between groups.

Documents, not paragraphs, are the sampled units (a document's paragraphs share author, genre
and subject), so every interval names its ``method`` and the documents behind it (``n_docs``):

``document bootstrap (expanded percentile)``
    Resamples whole documents within the group (differences: stratified by group); used from
    ``min_docs_bootstrap`` documents per group (20; with fewer it under-covers when documents
    differ strongly, see ``experiments/bench_compare.py``). Hesterberg's expanded percentile
    corrects the plain percentile interval's narrowness with few documents.
``beta-binomial (document effect from N docs, df=k)``
    Smaller groups. Per item, the intra-document correlation ``rho`` is estimated by a nested
    one-way ANOVA from all N documents of the grouping, *assuming it is the same in every
    group*; then ``Var(share) = p (1 - p) sum_d n_d (1 + (n_d - 1) rho) / N_g^2``, and the
    interval is a Wilson interval at that effective size with a Student-t quantile on
    ``k = N - G`` degrees of freedom. Differences: Newcombe's hybrid score interval from the
    two groups' intervals. With one document per group nothing estimates ``rho``: no interval.
``paragraph-level (within one document)``
    ``by="doc_id"``/``"article"``: the population is that document's paragraphs (Wilson).

The ``level`` column says the same as data (:data:`topics.schema.LEVELS`): ``document``
(the first two methods), ``paragraph`` (the third) or ``none`` (no interval).
``seg_ci_low``/``seg_ci_high`` always hold the paragraph-level Wilson interval for reference;
for a metadata grouping it treats paragraphs as independent and is too narrow for documents.
p-values permute documents between two groups, exactly when there are at most ``n_perm``
assignments (2 vs 2 documents: 6, so p >= 1/3), else Monte-Carlo ``(k + 1) / (n_perm + 1)``;
q-values are Benjamini-Hochberg within each ``by`` and kind.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from topics import _stats
from topics._stats import benjamini_hochberg
from topics.errors import TopicsError
from topics.schema import DIFFERENCE_COLUMNS, MODEL_COLUMNS, PREVALENCE_COLUMNS, SEGMENT_COLUMNS

__all__ = ["compare", "prevalence", "differences", "default_by", "benjamini_hochberg"]
__all__ += ["PREVALENCE_COLUMNS", "DIFFERENCE_COLUMNS", "MIN_DOCS_BOOTSTRAP"]

PSEUDO_BY = ("doc_id", "article")
# Below 20 documents per group the expanded-percentile bootstrap under-covers group shares
# when documents differ strongly (0.86-0.89 at 10-15 documents, intra-document correlation
# 0.25), while the beta-binomial model keeps >= 0.93: experiments/bench_compare.py.
MIN_DOCS_BOOTSTRAP = 20
MISSING = "(missing)"
NO_THEME = "(no theme)"
BOOT_METHOD = "document bootstrap (expanded percentile)"
PARAGRAPH_METHOD = "paragraph-level (within one document)"
NOT_ESTIMABLE = "not estimable (one document per group: no document-level variance)"


def _as_group(values: pd.Series) -> pd.Series:
    """Metadata values as group names; missing or empty values become ``"(missing)"``."""

    def name(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return MISSING
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip()
        return s if s else MISSING

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names = np.array([name(v) for v in uniques], dtype=object)
    return pd.Series(names[codes], index=values.index, dtype=object)


def default_by(segments: pd.DataFrame) -> list[str]:
    """The groupings compared when none are given.

    Metadata columns (not segment or model columns) that are constant within each document,
    have at least two distinct non-empty values and fewer distinct values than documents
    (so an identifier such as ``title`` is left out), then ``"doc_id"`` and ``"article"``.

    Parameters
    ----------
    segments : pandas.DataFrame
        One row per segment with ``doc_id`` and the corpus's metadata columns.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"doc_id": list("aabbcd"), "focus": list("xxyyxy"),
    ...                     "title": list("AABBCD")})
    >>> default_by(seg)
    ['focus', 'doc_id']
    """
    _require(segments, ["doc_id"])
    skip = set(SEGMENT_COLUMNS) | set(MODEL_COLUMNS)
    docs = segments["doc_id"].astype(str)
    n_docs = docs.nunique()
    chosen = []
    for col in segments.columns:
        if col in skip:
            continue
        values = _as_group(segments[col])
        if values.groupby(docs).nunique().max() != 1:
            continue
        distinct = values[values != MISSING].nunique()
        if 2 <= distinct and distinct < n_docs:
            chosen.append(col)
    return chosen + [c for c in PSEUDO_BY if c in segments.columns]


def _require(segments: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in segments.columns]
    if missing:
        raise TopicsError(
            f"the segments table has no column(s) {missing}; available: "
            f"{sorted(map(str, segments.columns))}"
        )


def _resolve_by(segments: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    _require(segments, ["doc_id"])
    if by is None:
        return default_by(segments)
    by = [by] if isinstance(by, str) else list(by)
    _require(segments, by)
    return by


def _natural(name: str) -> tuple:
    """Sort key: "(missing)" last, numbers by value ("doc/2" before "doc/10")."""
    parts = re.split(r"(\d+)", name)
    return (name == MISSING, [int(t) if i % 2 else t for i, t in enumerate(parts)])


def _groups(segments: pd.DataFrame, by: str) -> pd.Series:
    docs = segments["doc_id"].astype(str)
    if by == "doc_id":
        return docs
    if by == "article":
        return docs + "/" + segments["article"].astype(str)
    return _as_group(segments[by])


@dataclass
class _Items:
    kind: str
    codes: np.ndarray  # (n_segments,) item index per segment
    topic: list  # topic id per item (pd.NA for themes)
    theme: list[str]  # theme name per item ("" for topics)
    label: list[str]


def _items(segments: pd.DataFrame) -> list[_Items]:
    out = []
    if "topic" in segments.columns:
        topic = pd.to_numeric(segments["topic"], errors="coerce")
        if topic.isna().any():
            raise TopicsError(
                f"{int(topic.isna().sum())} segments have no topic; pass only the modelled "
                "segments (outliers have topic -1)"
            )
        topic = topic.astype(int).to_numpy()
        ids = np.unique(topic)
        labels = {}
        if "topic_label" in segments.columns:
            lab = segments["topic_label"].fillna("").astype(str)
            labels = lab.where(lab != "").groupby(topic).first().dropna().to_dict()
        label = [labels.get(k) or ("outliers" if k < 0 else f"topic {k}") for k in ids]
        codes = np.searchsorted(ids, topic)
        out.append(_Items("topic", codes, [int(k) for k in ids], [""] * len(ids), label))
    if "theme" in segments.columns:
        theme = segments["theme"].fillna("").astype(str).str.strip()
        if (theme != "").any():
            theme = theme.where(theme != "", NO_THEME).to_numpy()
            names = sorted(set(theme) - {NO_THEME}) + ([NO_THEME] if NO_THEME in theme else [])
            codes = pd.Categorical(theme, categories=names).codes.astype(int)
            out.append(_Items("theme", codes, [pd.NA] * len(names), names, names))
    if not out:
        raise TopicsError("the segments table has neither a 'topic' nor a 'theme' column")
    return out


def _rng(random_state, *keys: str) -> np.random.Generator:
    """A generator per task, so one grouping's results do not depend on the others."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    return np.random.default_rng([int(random_state)] + [zlib.crc32(k.encode()) for k in keys])


@dataclass
class _Grouping:
    by: str
    names: list[str]  # sorted group names
    doc_group: np.ndarray  # (n_units,) group code per unit (document, or document part)
    unit_sizes: np.ndarray  # (n_units,)
    n_docs: np.ndarray  # (n_groups,) distinct documents per group


def _grouping(segments: pd.DataFrame, by: str) -> tuple[_Grouping, np.ndarray]:
    """Units (documents) of a grouping and the unit index of every segment."""
    groups = _groups(segments, by)
    doc_codes, doc_names = pd.factorize(segments["doc_id"].astype(str))
    names = sorted(set(groups), key=_natural)
    group_codes = pd.Categorical(groups, categories=names).codes.astype(np.int64)
    units, unit_of_seg = np.unique(group_codes * len(doc_names) + doc_codes, return_inverse=True)
    if by not in PSEUDO_BY and len(units) > len(doc_names):
        warnings.warn(
            f"'{by}' varies within documents; its groups share documents, so the parts of a "
            "document are treated as separate units and intervals are too narrow",
            stacklevel=4,
        )
    doc_group = units // len(doc_names)
    unit_sizes = np.bincount(unit_of_seg).astype(float)
    n_docs = np.bincount(doc_group, minlength=len(names))
    return _Grouping(by, names, doc_group, unit_sizes, n_docs), unit_of_seg


def _members(g: _Grouping) -> list[np.ndarray]:
    """Unit rows of each group in their original order (one sort, not a scan per group)."""
    order = np.argsort(g.doc_group, kind="stable")
    return np.split(order, np.cumsum(np.bincount(g.doc_group, minlength=len(g.names)))[:-1])


def _prevalence_rows(g, counts, items, confidence, n_boot, min_docs, random_state):
    z = stats.norm.ppf(0.5 + confidence / 2)
    n_groups, n_items = len(g.names), counts.shape[1]
    rho = _stats.icc(counts, g.unit_sizes, g.doc_group)
    df = len(g.unit_sizes) - n_groups
    rows = []
    members = _members(g)
    for gi, name in enumerate(g.names):
        sel = members[gi]
        c, s = counts[sel], g.unit_sizes[sel]
        x, n = c.sum(0), s.sum()
        share = x / n
        seg_low, seg_high = _stats.wilson(x, n, z)
        if g.by in PSEUDO_BY:
            low, high, method, level = seg_low, seg_high, PARAGRAPH_METHOD, "paragraph"
        elif g.n_docs[gi] >= min_docs:
            reps = _stats.boot_shares(c, s, _rng(random_state, g.by, name, items.kind), n_boot)
            low, high = _stats.percentile_interval(reps, confidence, int(g.n_docs[gi]))
            method, level = BOOT_METHOD, "document"
        elif df >= 1:
            low, high = _stats.pooled_interval(c, s, rho, df, confidence)
            method = f"beta-binomial (document effect from {len(g.unit_sizes)} docs, df={df})"
            level = "document"
        else:
            low = high = np.full(n_items, np.nan)
            method, level = NOT_ESTIMABLE, "none"
        ok = np.isfinite(low)
        rows.append(
            _items_frame(g.by, items, group=name)
            | {
                "share": share,
                "ci_low": np.where(ok, np.fmin(low, share), np.nan),
                "ci_high": np.where(ok, np.fmax(high, share), np.nan),
                "method": method,
                "level": level,
                "n_segments": int(n),
                "n_docs": int(g.n_docs[gi]),
                "seg_ci_low": seg_low,
                "seg_ci_high": seg_high,
            }
        )
    return rows


def _difference_rows(g, counts, items, confidence, n_boot, n_perm, min_docs, random_state):
    rho = _stats.icc(counts, g.unit_sizes, g.doc_group)
    rho_docs, df = g.unit_sizes, len(g.unit_sizes) - len(g.names)
    rows = []
    members = _members(g)
    for ia, ib in itertools.combinations(range(len(g.names)), 2):
        a, b = g.names[ia], g.names[ib]
        sa, sb = members[ia], members[ib]
        ca, na, cb, nb = counts[sa], g.unit_sizes[sa], counts[sb], g.unit_sizes[sb]
        pa, pb = ca.sum(0) / na.sum(), cb.sum(0) / nb.sum()
        diff = pa - pb
        rng = _rng(random_state, g.by, a, b, items.kind)
        if g.n_docs[ia] >= min_docs and g.n_docs[ib] >= min_docs:
            reps = _stats.boot_shares(ca, na, rng, n_boot) - _stats.boot_shares(cb, nb, rng, n_boot)
            m = int(min(g.n_docs[ia], g.n_docs[ib]))
            low, high = _stats.percentile_interval(reps, confidence, m)
            method = "document bootstrap stratified by group (expanded percentile)"
            level = "document"
        elif df >= 1:
            la, ha = _stats.pooled_interval(ca, na, rho, df, confidence)
            lb, hb = _stats.pooled_interval(cb, nb, rho, df, confidence)
            low = diff - np.sqrt((pa - la) ** 2 + (hb - pb) ** 2)
            high = diff + np.sqrt((ha - pa) ** 2 + (pb - lb) ** 2)
            method = f"beta-binomial Newcombe (document effect from {len(rho_docs)} docs, df={df})"
            level = "document"
        else:
            low = high = np.full(len(diff), np.nan)
            method, level = NOT_ESTIMABLE, "none"
        p = _stats.permutation_p(np.vstack([ca, cb]), np.r_[na, nb], len(na), n_perm, rng)
        rows.append(
            _items_frame(g.by, items, group_a=a, group_b=b)
            | {
                "share_a": pa,
                "share_b": pb,
                "diff": diff,
                "ci_low": low,
                "ci_high": high,
                "method": method,
                "level": level,
                "p_value": p,
                "q_value": np.nan,
                "n_docs_a": int(g.n_docs[ia]),
                "n_docs_b": int(g.n_docs[ib]),
            }
        )
    return rows


def _items_frame(by: str, items: _Items, **groups: str) -> dict:
    cols = {"by": by, **groups, "kind": items.kind, "topic": items.topic}
    return cols | {"theme": items.theme, "label": items.label}


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """One table from per-group blocks of equal-length arrays and scalars."""
    data: dict[str, list] = {c: [] for c in columns}
    for r in rows:
        length = len(r["label"])
        for c in columns:
            v = r.get(c, np.nan)
            data[c].extend(v if isinstance(v, list | np.ndarray) else [v] * length)
    df = pd.DataFrame(data, columns=columns)
    df["topic"] = pd.array(data["topic"], dtype="Int64")
    for col in ("n_segments", "n_docs", "n_docs_a", "n_docs_b"):
        if col in df.columns:
            df[col] = df[col].astype("int64")
    for col in set(columns) & {"by", "group", "group_a", "group_b", "kind", "theme", "label"}:
        df[col] = df[col].astype(str)
    return df


def _tables(
    segments, by, *, confidence, n_boot, n_perm, random_state, min_docs, prev=True, diff=True
):
    """Both tables, each grouping's units computed once."""
    if not 0 < confidence < 1:
        raise TopicsError(f"confidence must be between 0 and 1 (got {confidence})")
    if n_boot < 100 or n_perm < 100 or min_docs < 2:
        msg = f"got n_boot={n_boot}, n_perm={n_perm}, min_docs_bootstrap={min_docs}"
        raise TopicsError(f"need n_boot, n_perm >= 100 and min_docs_bootstrap >= 2 ({msg})")
    if not isinstance(segments, pd.DataFrame) or segments.empty:
        raise TopicsError("segments must be a non-empty DataFrame (one row per segment)")
    by_list, all_items = _resolve_by(segments, by), _items(segments)
    conf, seed = confidence, random_state
    prev_rows, diff_parts = [], []
    for b in by_list:
        g, unit_of_seg = _grouping(segments, b)
        for items in all_items:
            n_units, n_items = len(g.unit_sizes), len(items.label)
            flat = np.bincount(unit_of_seg * n_items + items.codes, minlength=n_units * n_items)
            counts = flat.reshape(n_units, n_items).astype(float)  # (documents, items)
            if prev:
                prev_rows += _prevalence_rows(g, counts, items, conf, n_boot, min_docs, seed)
            if diff and b not in PSEUDO_BY:
                rows = _difference_rows(g, counts, items, conf, n_boot, n_perm, min_docs, seed)
                part = _frame(rows, DIFFERENCE_COLUMNS)
                part["q_value"] = benjamini_hochberg(part["p_value"].to_numpy())
                diff_parts.append(part)
    prev_df = _frame(prev_rows, PREVALENCE_COLUMNS) if prev else None
    diff_df = _frame([], DIFFERENCE_COLUMNS)
    if diff_parts:
        diff_df = pd.concat(diff_parts, ignore_index=True)
    return prev_df, (diff_df if diff else None)


def prevalence(
    segments: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
    min_docs_bootstrap: int = MIN_DOCS_BOOTSTRAP,
) -> pd.DataFrame:
    """Share of segments in each topic and theme per group, with confidence intervals.

    Parameters
    ----------
    segments : pandas.DataFrame
        One row per modelled segment: ``doc_id``, ``article``, ``topic`` (int, -1 outliers),
        ``topic_label``, ``theme`` ("" = no theme) and metadata columns.
    by : str or list of str, optional
        Groupings; metadata columns, ``"doc_id"`` or ``"article"``. Default
        :func:`default_by`.
    confidence : float, default 0.95
    n_boot : int, default 2000
        Bootstrap replicates (groups with at least ``min_docs_bootstrap`` documents).
    random_state : int, numpy.random.Generator or None
        Seed; the same seed gives identical tables.
    min_docs_bootstrap : int, default :data:`MIN_DOCS_BOOTSTRAP` (20)
        Fewest documents for the document bootstrap; smaller groups use the beta-binomial
        model with a document effect pooled over the grouping's documents.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PREVALENCE_COLUMNS`; within each (``by``, ``group``, ``kind``) the
        shares sum to 1 (outliers and ``"(no theme)"`` are rows of their own).

    Examples
    --------
    >>> prev = prevalence(segments, by="focus", random_state=0)  # doctest: +SKIP
    >>> prev.groupby(["group", "kind"])["share"].sum()  # doctest: +SKIP
    """
    opts = dict(confidence=confidence, n_boot=n_boot, n_perm=100, random_state=random_state)
    return _tables(segments, by, min_docs=min_docs_bootstrap, diff=False, **opts)[0]


def differences(
    segments: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    n_perm: int = 2000,
    random_state: int | np.random.Generator | None = None,
    min_docs_bootstrap: int = MIN_DOCS_BOOTSTRAP,
) -> pd.DataFrame:
    """Pairwise differences in topic and theme shares between the groups of each grouping.

    ``doc_id`` and ``article`` are skipped (single documents are not compared pairwise).

    Parameters
    ----------
    segments : pandas.DataFrame
        As for :func:`prevalence`.
    by, confidence, n_boot, random_state, min_docs_bootstrap
        As for :func:`prevalence` (the bootstrap needs both groups to have enough documents).
    n_perm : int, default 2000
        Monte-Carlo permutations; exact enumeration when there are at most this many
        distinct assignments of documents to the two groups.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIFFERENCE_COLUMNS`; ``diff = share_a - share_b``; ``q_value`` is
        Benjamini-Hochberg within each ``by`` and kind.

    Examples
    --------
    >>> diff = differences(segments, by="focus", random_state=0)  # doctest: +SKIP
    >>> diff.sort_values("q_value").head()  # doctest: +SKIP
    """
    opts = dict(confidence=confidence, n_boot=n_boot, n_perm=n_perm, random_state=random_state)
    return _tables(segments, by, min_docs=min_docs_bootstrap, prev=False, **opts)[1]


def compare(
    segments: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    n_perm: int = 2000,
    random_state: int | np.random.Generator | None = None,
    min_docs_bootstrap: int = MIN_DOCS_BOOTSTRAP,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prevalence and pairwise differences for every grouping.

    Parameters
    ----------
    segments : pandas.DataFrame
        As for :func:`prevalence`.
    by, confidence, n_boot, n_perm, random_state, min_docs_bootstrap
        See :func:`prevalence` and :func:`differences`.

    Returns
    -------
    prevalence : pandas.DataFrame
    differences : pandas.DataFrame

    Examples
    --------
    >>> prev, diff = compare(segments, random_state=0)  # doctest: +SKIP
    """
    opts = dict(confidence=confidence, n_boot=n_boot, n_perm=n_perm, random_state=random_state)
    return _tables(segments, by, min_docs=min_docs_bootstrap, **opts)
