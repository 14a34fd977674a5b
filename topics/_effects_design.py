"""Internals of :mod:`topics.effects`: document table, design matrix, assignment draws, fits.

Plain functions on DataFrames and arrays; the method is described in :mod:`topics.effects`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from topics.errors import TopicsError

_SEGMENT_ONLY = {"topic", "topic_label", "theme", "theme_score", "x", "y", "text", "segment_id"}
_SEGMENT_ONLY |= {"article", "section", "language", "start", "end", "n_chars"}

# --------------------------------------------------------------------------- documents


def formula_rhs(formula: str) -> str:
    """The covariates of a formula (its right-hand side); a response is refused."""
    if not isinstance(formula, str) or not formula.strip():
        raise TopicsError("the formula is empty; give covariates such as 'focus + year'")
    parts = formula.split("~")
    if len(parts) > 2 or parts[0].strip() and len(parts) == 2:
        raise TopicsError(
            f"formula {formula!r}: give only the covariates (right-hand side), e.g. "
            "'focus + year'; the response (each document's share of an item) is built in"
        )
    return parts[-1].strip()


def _missing(values: pd.Series) -> np.ndarray:
    return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()


def _doc_table(segments: pd.DataFrame, used: list[str]) -> pd.DataFrame:
    """One row per document: its covariates (constant within it) and paragraph count."""
    docs = segments["doc_id"].astype(str)
    table = pd.DataFrame(index=pd.Index(pd.unique(docs), name="doc_id"))
    for col in used:
        vals = segments[col].mask(_missing(segments[col]))
        per_doc = vals.groupby(docs, sort=False).nunique(dropna=True)
        if per_doc.max() > 1:
            bad = per_doc.index[per_doc > 1][0]
            raise TopicsError(
                f"covariate {col!r} varies within document {bad!r}; effects need document "
                "covariates (one value per document)"
            )
        column = vals.groupby(docs, sort=False).first().reindex(table.index)
        if not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            # numbers read as text (e.g. a year column of a CSV) are numeric; C(col) makes
            # them categorical again
            numeric = pd.to_numeric(column, errors="coerce")
            if numeric.notna().sum() == column.notna().sum():
                column = numeric
            else:
                column = column.astype(object)
        table[col] = column
    return table


# A column named by its text: Q('year of study').
_QUOTED = re.compile(r"""Q\(\s*['"]([^'"]+)['"]\s*\)""")


def _used_columns(rhs: str, columns: Sequence[str]) -> list[str]:
    """Document columns the formula mentions (as names or inside ``Q('...')``)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", rhs))
    words |= set(_QUOTED.findall(rhs))
    return [c for c in columns if c in words]


def _unknown_column(formula: str, name: str, available: Sequence[str]) -> TopicsError:
    return TopicsError(
        f"formula {formula!r}: unknown column {name!r}; available document columns: "
        f"{', '.join(available) or '(none)'}"
    )


def check_columns(segments: pd.DataFrame, formula: str) -> None:
    """Refuse a formula that names a column the documents do not have, or does not parse,
    before anything is fitted (:func:`design` finds the same, later).

    Names are read from the parsed formula as patsy evaluates it: document columns, ``np``,
    patsy's own functions (``C``, ``Q``, ``I``, ...) and Python's builtins; ``Q('...')``
    names a column by its text.
    """
    import builtins

    import patsy
    import patsy.builtins
    from patsy.eval import ast_names

    available = _metadata_columns(segments)
    columns = {*available, "doc_id"}  # the design's document table has doc_id too
    known = {*columns, "np", *patsy.builtins.__all__, *dir(builtins)}
    try:
        desc = patsy.ModelDesc.from_formula(formula_rhs(formula))
        codes = [f.code for term in desc.rhs_termlist for f in term.factors]
        names = [n for code in codes for n in ast_names(code) if n not in known]
    except (patsy.PatsyError, SyntaxError) as exc:
        raise TopicsError(f"formula {formula!r}: {str(exc).splitlines()[0]}") from None
    names += [q for code in codes for q in _QUOTED.findall(code) if q not in columns]
    if names:
        raise _unknown_column(formula, names[0], available)


def _metadata_columns(segments: pd.DataFrame) -> list[str]:
    return [c for c in segments.columns if c not in _SEGMENT_ONLY and c != "doc_id"]


@dataclass
class _Design:
    rhs: str
    docs: pd.DataFrame  # kept documents with their covariates
    X: np.ndarray  # (n_docs, p)
    names: list[str]
    info: object  # patsy DesignInfo, to build counterfactual rows
    categorical: dict[str, list]  # covariate -> levels
    numeric: list[str]


def design(segments: pd.DataFrame, formula: str, min_df: int) -> _Design:
    import patsy

    rhs = formula_rhs(formula)
    available = _metadata_columns(segments)
    used = _used_columns(rhs, available)
    docs = _doc_table(segments, used)
    if used:
        miss = np.zeros(len(docs), bool)
        for col in used:
            miss |= _missing(docs[col])
        if miss.any():
            dropped = list(docs.index[miss])
            shown = ", ".join(dropped[:5]) + (", ..." if len(dropped) > 5 else "")
            warnings.warn(
                f"formula {formula!r}: {len(dropped)} of {len(docs)} documents lack a value of "
                f"{', '.join(used)} and are left out ({shown})",
                stacklevel=3,
            )
            docs = docs[~miss]
    for col in used:
        distinct = docs[col].unique()
        if len(distinct) < 2:
            value = f" ({distinct[0]!r})" if len(distinct) else ""
            raise TopicsError(
                f"formula {formula!r}: covariate {col!r} has a single value{value} among the "
                f"{len(docs)} documents with all covariates; an effect needs at least two "
                "values (drop it from the formula)"
            )
    env = patsy.EvalEnvironment([{"np": np}])
    try:
        X = patsy.dmatrix(rhs, docs.reset_index(), eval_env=env, NA_action="raise")
    except patsy.PatsyError as exc:
        name = re.search(r"name '([^']+)' is not defined", str(exc))
        if name:
            raise _unknown_column(formula, name.group(1), available) from None
        raise TopicsError(f"formula {formula!r}: {str(exc).splitlines()[0]}") from None
    info = X.design_info
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    if n - p < min_df:
        raise TopicsError(
            f"formula {formula!r} has {p} coefficients but only {n} documents have all its "
            f"covariates; at least {p + min_df} documents are needed (coefficients + "
            f"min_df={min_df}). Use fewer terms or more documents."
        )
    _check_rank(X, info.column_names, formula)
    categorical, numeric = {}, []
    for col in used:
        wrapped = re.search(rf"C\(\s*{re.escape(col)}\b", rhs)
        if wrapped or not pd.api.types.is_numeric_dtype(docs[col]):
            categorical[col] = sorted(docs[col].unique(), key=lambda v: (str(type(v)), v))
        else:
            numeric.append(col)
    return _Design(rhs, docs, X, list(info.column_names), info, categorical, numeric)


def _check_rank(X: np.ndarray, names: list[str], formula: str) -> None:
    _, r, _ = np.linalg.svd(X / np.maximum(np.abs(X).max(0), 1e-12), full_matrices=False)
    if r[-1] > 1e-8 * r[0]:
        return
    _, rr = np.linalg.qr(X / np.maximum(np.abs(X).max(0), 1e-12))
    bad = [names[j] for j in range(len(names)) if abs(rr[j, j]) < 1e-8]
    raise TopicsError(
        f"formula {formula!r}: the coefficients {', '.join(bad) or names[-1]} cannot be "
        "estimated from these documents (collinear terms or an interaction cell with no "
        "documents); simplify the formula"
    )


def term_docs(X: np.ndarray) -> np.ndarray:
    """Documents behind each coefficient: a 0/1 dummy's ones, else all documents."""
    dummy = np.all((X == 0) | (X == 1), axis=0)
    return np.where(dummy & (X.min(0) == 0), (X == 1).sum(0), X.shape[0])


# --------------------------------------------------------------------------- assignments


@dataclass
class _Assignments:
    kind: str
    items: list[str]
    labels: list[str]
    codes: np.ndarray  # (n_seg,) hard item index, -1 = not an item (outlier / no theme)
    probs: np.ndarray | None  # (n_seg, K) draw probabilities, rows of redrawn segments
    redraw: np.ndarray  # (n_seg,) bool: drawn from probs in each composition draw
    hard: bool = False  # probs are the one-hot labels (calibrated by coded paragraphs)


def assignments(segments: pd.DataFrame, kind: str, probs) -> _Assignments:
    if kind == "topic":
        if "topic" not in segments.columns:
            raise TopicsError("the segments table has no 'topic' column; run `topics run`")
        topic = pd.to_numeric(segments["topic"], errors="coerce").fillna(-1).astype(int)
        ids = sorted(set(topic[topic >= 0]))
        labels = {}
        if "topic_label" in segments.columns:
            lab = segments["topic_label"].fillna("").astype(str)
            labels = lab[lab != ""].groupby(topic[lab != ""]).first().to_dict()
        codes = np.array([ids.index(t) if t >= 0 else -1 for t in topic])
        items = [str(k) for k in ids]
        label = [labels.get(k) or f"topic {k}" for k in ids]
        return _Assignments("topic", items, label, codes, None, np.zeros(len(codes), bool))
    if kind != "theme":
        raise TopicsError(f"kind must be 'topic' or 'theme', not {kind!r}")
    if "theme" not in segments.columns:
        raise TopicsError("the segments table has no 'theme' column; run with a codebook")
    theme = segments["theme"].fillna("").astype(str).str.strip().to_numpy()
    names = sorted(set(theme) - {""})
    if probs is not None:
        probs = pd.DataFrame(probs)
        names = sorted(set(names) | set(map(str, probs.columns)))
    if not names:
        raise TopicsError("no segment has a theme; nothing to model")
    lookup = {n: i for i, n in enumerate(names)}
    codes = np.array([lookup.get(t, -1) for t in theme])
    redraw = np.zeros(len(codes), bool)
    matrix = None
    if probs is not None:
        if len(probs) != len(segments):
            raise TopicsError(
                f"theme probabilities have {len(probs)} rows but there are {len(segments)} "
                "segments; pass one row per segment"
            )
        matrix = probs.reindex(columns=names).to_numpy(dtype=float)
        matrix = np.nan_to_num(matrix, nan=0.0)
        if (matrix < 0).any():
            raise TopicsError("theme probabilities must not be negative")
        total = matrix.sum(1)
        redraw = (codes >= 0) & (total > 0)
        matrix[redraw] /= total[redraw, None]
    return _Assignments("theme", names, names, codes, matrix, redraw)


def one_hot(a: _Assignments) -> _Assignments:
    """The hard labels as probabilities (0/1), for a calibration on coded paragraphs."""
    probs = np.zeros((len(a.codes), len(a.items)))
    themed = a.codes >= 0
    probs[themed, a.codes[themed]] = 1.0
    return _Assignments(a.kind, a.items, a.labels, a.codes, probs, themed, hard=True)


#: Fewest coded paragraphs (with a theme, among the modelled ones) a calibration needs.
MIN_CODED = 30


def coded_rows(segments: pd.DataFrame, a: _Assignments, rows: np.ndarray, coded):
    """The coded paragraphs among ``rows`` (segments redrawn by the EM) as calibration data.

    ``coded`` has ``segment_id`` and ``code`` columns (``coded.csv`` of a run, or
    :func:`topics.coding.read_codes`); codes that are not a theme (``none``) and segments
    that are not redrawn (unthemed, left out of the formula) are not used.
    """
    from topics._effects_em import Coded

    if not isinstance(coded, pd.DataFrame) or not {"segment_id", "code"} <= set(coded.columns):
        raise TopicsError("coded paragraphs need a table with 'segment_id' and 'code' columns")
    if "segment_id" not in segments.columns:
        raise TopicsError("coded paragraphs need a 'segment_id' column in the segments table")
    ids = segments["segment_id"].astype(str).to_numpy()[rows]
    pos = pd.Series(np.arange(len(rows)), index=ids)
    pos = pos[~pos.index.duplicated()]
    lookup = {n: i for i, n in enumerate(a.items)}
    code = coded["code"].astype(str).str.strip()
    sid = coded["segment_id"].astype(str)
    use = sid.isin(pos.index) & code.isin(lookup)
    if use.sum() < MIN_CODED:
        raise TopicsError(
            f"only {int(use.sum())} of {len(coded)} coded paragraphs are themed paragraphs of "
            f"this model coded with a theme; at least {MIN_CODED} are needed to calibrate the "
            "theme probabilities (code more paragraphs, or use method='composition')"
        )
    r = pos[sid[use]].to_numpy()
    docs = segments["doc_id"].astype(str).to_numpy()[rows][r]
    return Coded(r, np.array([lookup[c] for c in code[use]]), docs)


def em_note(n_draws: int, info: dict, n_coded: int | None, hard: bool) -> str:
    """How the EM-corrected draws were made, for the ``method`` column."""
    what = "hard theme labels" if hard else "theme probabilities"
    if n_coded:
        evidence = (
            f"{what} recalibrated on {n_coded} coded paragraphs (temperature x"
            f"{info['temperature']:.2g} and per-theme offsets, refitted per draw)"
        )
    else:
        evidence = f"{what} taken as calibrated corpus-wide (not checked: no coded paragraphs)"
    return (
        f"themes drawn {n_draws} times from their posterior under a covariate-dependent "
        f"document prior (Dirichlet-multinomial regression of the formula, precision "
        f"{info['alpha']:.3g}, parameters bootstrapped over documents; evidence: {evidence}); "
        "Rubin's rules"
    )


def draw_codes(a: _Assignments, rng: np.random.Generator) -> np.ndarray:
    codes = a.codes.copy()
    if a.probs is not None and a.redraw.any():
        cum = np.cumsum(a.probs[a.redraw], axis=1)
        u = rng.random(len(cum))[:, None] * cum[:, -1:]
        codes[a.redraw] = np.minimum((u >= cum).sum(1), cum.shape[1] - 1)
    return codes


# --------------------------------------------------------------------------- fitting


def fit_glm(y, X, w, se):
    """One fractional-logit fit: (params, covariance) or None when separated/not converged."""
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM

    if y.max() <= 0 or y.min() >= 1:
        return None
    model = GLM(y, X, family=Binomial(), var_weights=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fractional responses; separation is checked below
        try:
            res = model.fit(scale="X2") if se == "model" else model.fit(cov_type="HC1")
        except (np.linalg.LinAlgError, ValueError):
            return None
    mu = res.fittedvalues
    if not res.converged or mu.min() < 1e-7 or mu.max() > 1 - 1e-7:
        return None
    return np.asarray(res.params), np.asarray(res.cov_params())


def rubin(q: np.ndarray, u: np.ndarray, df_com: float):
    """Pool M estimates ``q`` (M, k) with variances ``u`` (M, k): centre, se, df (k,)."""
    m = q.shape[0]
    qbar, w = q.mean(0), u.mean(0)
    b = q.var(0, ddof=1) if m > 1 else np.zeros_like(qbar)
    t = w + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(t > 0, (1 + 1 / m) * b / t, 0.0)
        df_obs = (df_com + 1) / (df_com + 3) * df_com * (1 - lam)
        df_old = np.where(lam > 0, (m - 1) / lam**2, np.inf)
        df = 1 / (1 / df_old + 1 / df_obs)
    return qbar, np.sqrt(t), np.where(np.isfinite(df), df, df_com)


def specs(d: _Design, grid_size: int) -> list[tuple[str, object, str, object, np.ndarray]]:
    """Counterfactual settings: (covariate, value, moderator, moderator value, doc mask)."""
    grids: dict[str, list] = dict(d.categorical)
    for col in d.numeric:
        v = d.docs[col].astype(float)
        lo, hi = v.min(), v.max()
        if np.allclose(v, np.round(v)) and hi - lo <= 60:
            grids[col] = list(np.arange(lo, hi + 1))
        else:
            grids[col] = list(np.linspace(lo, hi, grid_size))
    cols = {c: d.docs[c].to_numpy() for c in grids}
    out = []
    for col, values in grids.items():
        for v in values:
            out.append((col, v, "", "", cols[col] == v))
    for col in d.numeric:
        for mod, levels in d.categorical.items():
            for lev in levels:
                at_level = cols[mod] == lev
                for v in grids[col]:
                    out.append((col, v, mod, lev, (cols[col] == v) & at_level))
    return out


def spec_matrices(d: _Design, specs) -> np.ndarray:
    """(S, n_docs, p): every document's design row with the spec's covariates set."""
    import patsy

    frames = []
    base = d.docs.reset_index()
    for col, v, mod, lev, _ in specs:
        f = base.copy()
        f[col] = v
        if mod:
            f[mod] = lev
        frames.append(f)
    big = pd.concat(frames, ignore_index=True)
    for col in d.categorical:  # keep every level known, so new rows code like the fit's
        big[col] = big[col].astype(base[col].dtype)
    (X,) = patsy.build_design_matrices([d.info], big, NA_action="raise")
    return np.asarray(X, float).reshape(len(specs), len(base), -1)


def method_text(
    a: _Assignments, se: str, n: int, df: int, n_draws: int, weights: str, note: str | None
) -> str:
    var = (
        f"quasi-binomial dispersion from {n} documents (df={df}), t interval"
        if se == "model"
        else f"document-robust sandwich (HC1, {n} documents), t interval (df={df})"
    )
    unit = "one row per document" + (", weighted by paragraphs" if weights == "paragraph" else "")
    head = f"fractional logit GLM ({unit}); {var}"
    if a.kind == "topic":
        return head + "; hard topic labels (no per-paragraph probabilities: no assignment noise)"
    if a.probs is None:
        return head + (
            "; hard theme labels taken as certain (no theme probabilities or coded "
            "paragraphs: effects on the assigned themes)"
        )
    if note:
        return f"{head}; {note}"
    return head + f"; composition over {n_draws} draws from the theme posterior (Rubin's rules)"
