"""Effects: topic and theme prevalence regressed on document covariates, with honest intervals.

What R's ``stm::estimateEffect`` gives, for BERTopic topics and codebook themes. For each item
(topic or theme) and a formula of document covariates (``"focus + year"``, ``"focus * year"``,
``"C(kind) + bs(year, df=3)"``; patsy syntax, as in statsmodels), a **fractional logit**
(quasi-binomial GLM, statsmodels) of every document's share of paragraphs in the item:

``logit E[share_d] = x_d' beta``

Documents are the unit: one row per document (its share), so paragraphs of one document are
never counted as independent. Intervals use

``se="model"`` (default)
    The quasi-binomial variance with the dispersion estimated from all documents (Pearson
    chi-square over ``n_docs - p``) and Student-t quantiles on those degrees of freedom. With
    few documents the dispersion rests on few degrees of freedom and the intervals are wide.
``se="robust"``
    The sandwich (HC1) covariance; with one row per document it is the document-clustered
    covariance. Robust to a wrong variance function, too narrow with few documents.

**Assignment uncertainty** by the method of composition (as ``stm::estimateEffect``): when
per-paragraph probabilities are given (the theme posterior of :mod:`topics.themes`), the model
is refitted on ``n_draws`` data sets, each drawing every paragraph's item from its
probabilities, and the fits are pooled by Rubin's rules (total variance = mean within-draw
variance + (1 + 1/M) between-draw variance, Barnard-Rubin degrees of freedom). stm instead
pools simulated coefficients; Rubin's rules give the same centre and a variance that does not
depend on a simulation size. Topics are hard labels (BERTopic is fitted without
probabilities), so topic effects carry no assignment uncertainty and their ``method`` says so.
Paragraphs without a theme (or topic outliers) keep that status in every draw: they count in
the denominator of every share but are not an item.

Outputs (tidy tables, one row per number):

- :data:`EFFECT_COLUMNS` (``effects.csv``): one row per coefficient (log-odds scale).
  ``q_value`` is Benjamini-Hochberg over the non-intercept rows of one formula and kind.
- :data:`PREDICTED_COLUMNS` (``effects_predicted.csv``): the predicted mean share at each
  value of a covariate (numeric ones on a grid, optionally per level of a categorical
  ``moderator``), averaged over the documents' other covariates, with intervals.
- :data:`CONTRAST_COLUMNS` (``effects_contrasts.csv``): differences in predicted share
  between two levels of a categorical covariate (same averaging), with p- and q-values.

Small samples are refused, never estimated confidently: a formula needs at least
``p + min_df`` documents with all its covariates (``p`` coefficients); an item absent from
every document of a level (separation) gets no estimate; ``n_docs`` on every row counts the
documents behind it (for a level's coefficient, the documents of that level).
"""

from __future__ import annotations

import re
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from topics.errors import TopicsError

__all__ = [
    "EffectsResult",
    "effects",
    "effects_tables",
    "time_column",
    "prevalence_over_time",
    "write_effects",
    "EFFECT_COLUMNS",
    "PREDICTED_COLUMNS",
    "CONTRAST_COLUMNS",
    "MIN_DF",
    "SPARSE_YEAR_DOCS",
]

EFFECT_COLUMNS = (
    "formula kind item label term estimate std_error ci_low ci_high p_value q_value "
    "n_docs df method"
).split()
PREDICTED_COLUMNS = (
    "formula kind item label covariate covariate_type value moderator moderator_value share "
    "ci_low ci_high n_docs method"
).split()
CONTRAST_COLUMNS = (
    "formula kind item label covariate level_a level_b diff ci_low ci_high p_value q_value "
    "n_docs_a n_docs_b method"
).split()
#: Fewest residual degrees of freedom (documents minus coefficients) a formula may leave.
MIN_DF = 2
#: Years with fewer documents are flagged ``sparse`` in :func:`prevalence_over_time`.
SPARSE_YEAR_DOCS = 3
_SEGMENT_ONLY = {"topic", "topic_label", "theme", "theme_score", "x", "y", "text", "segment_id"}
_SEGMENT_ONLY |= {"article", "section", "language", "start", "end", "n_chars"}
_NOT_ESTIMABLE_SEP = (
    "not estimable: the item is absent from (or fills) every document of some covariate "
    "value (separation); merge levels or drop the term"
)


@dataclass
class EffectsResult:
    """The three tables of one or more effect models.

    Attributes
    ----------
    effects : pandas.DataFrame
        Columns :data:`EFFECT_COLUMNS`.
    predicted : pandas.DataFrame
        Columns :data:`PREDICTED_COLUMNS`.
    contrasts : pandas.DataFrame
        Columns :data:`CONTRAST_COLUMNS`.
    """

    effects: pd.DataFrame
    predicted: pd.DataFrame
    contrasts: pd.DataFrame


# --------------------------------------------------------------------------- documents


def _rhs(formula: str) -> str:
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
        if column.dtype == object:
            numeric = pd.to_numeric(column, errors="coerce")
            if numeric.notna().sum() == column.notna().sum():
                column = numeric
        table[col] = column
    return table


def _used_columns(rhs: str, columns: Sequence[str]) -> list[str]:
    """Document columns the formula mentions (as names or inside ``Q('...')``)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", rhs))
    words |= set(re.findall(r"""Q\(\s*['"]([^'"]+)['"]\s*\)""", rhs))
    return [c for c in columns if c in words]


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


def _design(segments: pd.DataFrame, formula: str, min_df: int) -> _Design:
    import patsy

    rhs = _rhs(formula)
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
            raise TopicsError(
                f"formula {formula!r}: unknown column {name.group(1)!r}; available document "
                f"columns: {', '.join(available) or '(none)'}"
            ) from None
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


def _term_docs(X: np.ndarray) -> np.ndarray:
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


def _assignments(segments: pd.DataFrame, kind: str, probs) -> _Assignments:
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


def _draw_codes(a: _Assignments, rng: np.random.Generator) -> np.ndarray:
    codes = a.codes.copy()
    if a.probs is not None and a.redraw.any():
        cum = np.cumsum(a.probs[a.redraw], axis=1)
        u = rng.random(len(cum))[:, None] * cum[:, -1:]
        codes[a.redraw] = np.minimum((u >= cum).sum(1), cum.shape[1] - 1)
    return codes


# --------------------------------------------------------------------------- fitting


def _fit(y, X, w, se):
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


def _rubin(q: np.ndarray, u: np.ndarray, df_com: float):
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


def _specs(d: _Design, grid_size: int) -> list[tuple[str, object, str, object, np.ndarray]]:
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


def _spec_matrices(d: _Design, specs) -> np.ndarray:
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


def _method(a: _Assignments, se: str, n: int, df: int, n_draws: int, weights: str) -> str:
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
        return head + "; hard theme labels (no theme probabilities: no assignment noise)"
    return head + f"; composition over {n_draws} draws from the theme posterior (Rubin's rules)"


def _fit_formula(
    segments,
    formula,
    kind,
    probs,
    *,
    n_draws,
    confidence,
    random_state,
    weights,
    se,
    min_df,
    grid_size,
):
    d = _design(segments, formula, min_df)
    a = _assignments(segments, kind, probs)
    n, p = d.X.shape
    df_com = n - p
    doc_index = pd.Index(d.docs.index)
    seg_doc = doc_index.get_indexer(segments["doc_id"].astype(str))
    keep = seg_doc >= 0
    sizes = np.bincount(seg_doc[keep], minlength=n).astype(float)
    w = sizes if weights == "paragraph" else np.ones(n)
    k_items = len(a.items)
    m = n_draws if (a.probs is not None and a.redraw[keep].any()) else 1
    seed = [zlib.crc32(s.encode()) for s in (d.rhs, kind)]
    rng = np.random.default_rng(([int(random_state)] if random_state is not None else []) + seed)
    specs = _specs(d, grid_size)
    Xs = _spec_matrices(d, specs)  # (S, n, p)
    cat_specs = {(c, v): i for i, (c, v, mod, _, _) in enumerate(specs) if not mod}
    pairs = [
        (col, la, lb, cat_specs[(col, la)], cat_specs[(col, lb)])
        for col, levels in d.categorical.items()
        for i, la in enumerate(levels)
        for lb in levels[i + 1 :]
    ]
    beta = np.full((m, k_items, p), np.nan)
    var = np.full((m, k_items, p), np.nan)
    eta = np.full((m, k_items, len(specs)), np.nan)  # logit of predicted share
    eta_v = np.full_like(eta, np.nan)
    diff = np.full((m, k_items, len(pairs)), np.nan)
    diff_v = np.full_like(diff, np.nan)
    ok = np.ones(k_items, bool)
    present = np.zeros(k_items, bool)
    for draw in range(m):
        codes = _draw_codes(a, rng)[keep]
        item = codes >= 0
        flat = np.bincount(seg_doc[keep][item] * k_items + codes[item], minlength=n * k_items)
        shares = flat.reshape(n, k_items) / sizes[:, None]
        present |= shares.max(0) > 0
        for k in range(k_items):
            if not ok[k]:
                continue
            fit = _fit(shares[:, k], d.X, w, se)
            if fit is None:
                ok[k] = False
                continue
            b, cov = fit
            beta[draw, k], var[draw, k] = b, np.diag(cov)
            mu = 1 / (1 + np.exp(-(Xs @ b)))  # (S, n)
            share = (mu * w).sum(1) / w.sum()
            grad = np.einsum("sn,snp->sp", mu * (1 - mu) * w, Xs) / w.sum()
            sv = np.einsum("sp,pq,sq->s", grad, cov, grad)
            share = np.clip(share, 1e-12, 1 - 1e-12)
            eta[draw, k] = np.log(share / (1 - share))
            eta_v[draw, k] = sv / (share * (1 - share)) ** 2
            if pairs:
                ia, ib = np.array([x[3] for x in pairs]), np.array([x[4] for x in pairs])
                diff[draw, k] = share[ia] - share[ib]
                g = grad[ia] - grad[ib]
                diff_v[draw, k] = np.einsum("sp,pq,sq->s", g, cov, g)
    method = _method(a, se, n, df_com, m, weights)
    tail = 0.5 + confidence / 2
    n_term = _term_docs(d.X)
    base = {"formula": d.rhs, "kind": kind}
    eff, pred, con = [], [], []
    for k in range(k_items):
        ident = base | {"item": a.items[k], "label": a.labels[k]}
        why = method if ok[k] else _NOT_ESTIMABLE_SEP
        if not present[k]:
            why = "not estimable: the item occurs in none of these documents"
        if ok[k]:
            est, sd, df = _rubin(beta[:, k], var[:, k], df_com)
        else:
            est = sd = df = np.full(p, np.nan)
        t = stats.t.ppf(tail, df) if ok[k] else np.full(p, np.nan)
        pv = 2 * stats.t.sf(np.abs(est / sd), df) if ok[k] else np.full(p, np.nan)
        for j, term in enumerate(d.names):
            is_int = term == "Intercept"
            eff.append(
                ident
                | {
                    "term": term,
                    "estimate": est[j],
                    "std_error": sd[j],
                    "ci_low": est[j] - t[j] * sd[j],
                    "ci_high": est[j] + t[j] * sd[j],
                    "p_value": np.nan if is_int else pv[j],
                    "n_docs": int(n_term[j]),
                    "df": df[j],
                    "method": why,
                }
            )
        if ok[k]:
            e, s, df_e = _rubin(eta[:, k], eta_v[:, k], df_com)
            te = stats.t.ppf(tail, df_e)
            lo, hi = e - te * s, e + te * s
        else:
            e = lo = hi = np.full(len(specs), np.nan)
        for i, (col, v, mod, lev, mask) in enumerate(specs):
            pred.append(
                ident
                | {
                    "covariate": col,
                    "covariate_type": "categorical" if col in d.categorical else "numeric",
                    "value": v,
                    "moderator": mod,
                    "moderator_value": lev,
                    "share": 1 / (1 + np.exp(-e[i])),
                    "ci_low": 1 / (1 + np.exp(-lo[i])),
                    "ci_high": 1 / (1 + np.exp(-hi[i])),
                    "n_docs": int(mask.sum()),
                    "method": why,
                }
            )
        if pairs and ok[k]:
            dd, ds, df_d = _rubin(diff[:, k], diff_v[:, k], df_com)
            td = stats.t.ppf(tail, df_d)
            pd_ = 2 * stats.t.sf(np.abs(dd / np.where(ds > 0, ds, np.nan)), df_d)
        else:
            dd = ds = td = pd_ = np.full(len(pairs), np.nan)
        for i, (col, la, lb, sa, sb) in enumerate(pairs):
            con.append(
                ident
                | {
                    "covariate": col,
                    "level_a": la,
                    "level_b": lb,
                    "diff": dd[i],
                    "ci_low": dd[i] - td[i] * ds[i],
                    "ci_high": dd[i] + td[i] * ds[i],
                    "p_value": pd_[i],
                    "n_docs_a": int(specs[sa][4].sum()),
                    "n_docs_b": int(specs[sb][4].sum()),
                    "method": why,
                }
            )
    return (
        _table(eff, EFFECT_COLUMNS),
        _table(pred, PREDICTED_COLUMNS),
        _table(con, CONTRAST_COLUMNS),
    )


def _table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    if "q_value" in columns:
        df["q_value"] = _bh(df["p_value"].to_numpy(dtype=float))
    for col in ("value", "moderator_value", "level_a", "level_b"):
        if col in df.columns:
            df[col] = df[col].map(_plain_value).astype(str)
    return df


def _plain_value(v) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, float | np.floating):
        return f"{float(v):.6g}"
    return str(v)


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values over the non-NaN entries."""
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def effects(
    segments: pd.DataFrame,
    formula: str,
    *,
    kind: Literal["theme", "topic"] = "theme",
    probs: pd.DataFrame | np.ndarray | None = None,
    n_draws: int = 30,
    confidence: float = 0.95,
    random_state: int | None = 0,
    weights: Literal["document", "paragraph"] = "document",
    se: Literal["model", "robust"] = "model",
    min_df: int = MIN_DF,
    grid_size: int = 25,
) -> EffectsResult:
    """Regress each item's document share on document covariates (fractional logit).

    Parameters
    ----------
    segments : pandas.DataFrame
        One row per modelled segment: ``doc_id``, ``topic`` and/or ``theme``, and the
        document covariates named in ``formula`` (constant within a document).
    formula : str
        Covariates in patsy syntax (``"focus + year"``, ``"focus * year"``,
        ``"C(year)"``, ``"focus + bs(year, df=3)"``); a leading ``~`` is allowed.
        Documents missing a covariate are left out with a warning.
    kind : {"theme", "topic"}, default "theme"
    probs : pandas.DataFrame or numpy.ndarray of shape (n_segments, n_themes), optional
        Per-segment theme probabilities (columns named by theme) for the method of
        composition; rows of segments without a theme are ignored. Without them the hard
        labels are used and no assignment uncertainty is added.
    n_draws : int, default 30
        Composition draws (used only with ``probs``).
    confidence : float, default 0.95
    random_state : int or None, default 0
        Seed of the composition draws; the same seed gives identical tables.
    weights : {"document", "paragraph"}, default "document"
        Each document counts once (the prevalence of a typical document, as stm), or in
        proportion to its paragraphs.
    se : {"model", "robust"}, default "model"
        Quasi-binomial (pooled dispersion) or sandwich covariance; see the module docstring.
    min_df : int, default :data:`MIN_DF`
        Fewest residual degrees of freedom; fewer documents are refused.
    grid_size : int, default 25
        Points of a numeric covariate's grid for predictions (integer covariates spanning
        at most 60 units, such as years, use every integer).

    Returns
    -------
    EffectsResult

    Raises
    ------
    topics.errors.TopicsError
        Unknown column (the message lists the available ones), a covariate with a single
        value, too few documents, collinear terms.

    Examples
    --------
    >>> res = effects(segments, "focus + year", kind="theme")  # doctest: +SKIP
    >>> res.effects.query("term != 'Intercept'")  # doctest: +SKIP
    """
    if not 0 < confidence < 1:
        raise TopicsError(f"confidence must be between 0 and 1 (got {confidence})")
    if n_draws < 2:
        raise TopicsError(f"n_draws must be at least 2 (got {n_draws})")
    if weights not in ("document", "paragraph") or se not in ("model", "robust"):
        raise TopicsError(
            f"weights={weights!r}, se={se!r}: expected document|paragraph, model|robust"
        )
    if not isinstance(segments, pd.DataFrame) or "doc_id" not in segments.columns:
        raise TopicsError("segments must be a DataFrame with a 'doc_id' column")
    segments = segments.reset_index(drop=True)
    tables = _fit_formula(
        segments,
        formula,
        kind,
        probs,
        n_draws=n_draws,
        confidence=confidence,
        random_state=random_state,
        weights=weights,
        se=se,
        min_df=min_df,
        grid_size=grid_size,
    )
    return EffectsResult(*tables)


def effects_tables(
    segments: pd.DataFrame,
    formulas: Sequence[str],
    kinds: Sequence[str] = ("theme", "topic"),
    *,
    probs: pd.DataFrame | np.ndarray | None = None,
    on_error: Literal["raise", "warn"] = "raise",
    **options,
) -> EffectsResult:
    """:func:`effects` for several formulas and kinds, concatenated.

    Kinds the segments have no data for (no ``theme`` column, no themes) are skipped. With
    ``on_error="warn"`` a refused formula (too few documents, unknown column) becomes a
    warning and is left out; used at the end of a run so one formula cannot fail it.

    Returns
    -------
    EffectsResult
    """
    parts: list[EffectsResult] = []
    for formula in formulas:
        for kind in kinds:
            if kind == "theme" and (
                "theme" not in segments.columns
                or not segments["theme"].fillna("").astype(str).str.strip().ne("").any()
            ):
                continue
            try:
                parts.append(
                    effects(
                        segments,
                        formula,
                        kind=kind,
                        probs=probs if kind == "theme" else None,
                        **options,
                    )
                )
            except TopicsError as exc:
                if on_error == "raise":
                    raise
                warnings.warn(f"effects skipped: {exc}", stacklevel=2)
                break
    cols = (EFFECT_COLUMNS, PREDICTED_COLUMNS, CONTRAST_COLUMNS)
    out = [pd.DataFrame(columns=c) for c in cols]
    for i, name in enumerate(("effects", "predicted", "contrasts")):
        frames = [getattr(r, name) for r in parts]
        if frames:
            out[i] = pd.concat(frames, ignore_index=True)
    return EffectsResult(*out)


def write_effects(
    run_dir,
    formula: str,
    *,
    kinds: Sequence[str] = ("theme", "topic"),
    random_state: int | None = None,
    **options,
) -> dict[str, pd.DataFrame]:
    """Fit one formula on a saved run and write the tables into the run folder.

    Rows of the same formula and kind already in ``effects.csv``, ``effects_predicted.csv``
    and ``effects_contrasts.csv`` are replaced, other formulas kept; every file is replaced
    atomically, and ``report.html`` is rewritten when the run has one.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A run folder written by ``topics run``.
    formula : str
    kinds : sequence of {"theme", "topic"}
        ``"theme"`` is skipped when the run has no themes (unless it is the only kind).
    random_state : int, optional
        Default: the run's seed.
    **options
        Passed to :func:`effects`.

    Returns
    -------
    dict of str to pandas.DataFrame
        The new effects rows per kind.
    """
    import os
    from pathlib import Path

    from topics.result import Result

    run_dir = Path(run_dir)
    result = Result.load(run_dir)
    segments, probs = result.modelled_segments()
    seed = result.config.get("seed", 0) if random_state is None else random_state
    has_themes = "theme" in segments and segments["theme"].fillna("").astype(str).ne("").any()
    new: dict[str, EffectsResult] = {}
    for kind in kinds:
        if kind == "theme" and not has_themes and len(kinds) > 1:
            continue
        new[kind] = effects(
            segments,
            formula,
            kind=kind,
            random_state=seed,
            probs=probs if kind == "theme" else None,
            **options,
        )
    names = {
        "effects": ("effect_estimates", EFFECT_COLUMNS),
        "effects_predicted": ("effect_predictions", PREDICTED_COLUMNS),
        "effects_contrasts": ("effect_contrasts", CONTRAST_COLUMNS),
    }
    for (file, (attr, cols)), part in zip(
        names.items(), ("effects", "predicted", "contrasts"), strict=True
    ):
        old = getattr(result, attr)
        frames = []
        if old is not None and len(old):
            same = old["formula"].astype(str).eq(_rhs(formula)) & old["kind"].isin(list(new))
            frames.append(old.loc[~same, [c for c in cols if c in old.columns]])
        frames += [getattr(r, part) for r in new.values()]
        table = (
            pd.concat([f for f in frames if len(f)], ignore_index=True)
            if any(len(f) for f in frames)
            else pd.DataFrame(columns=cols)
        )
        tmp = run_dir / f".{file}.csv.tmp"
        table.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, run_dir / f"{file}.csv")
    if (run_dir / "report.html").exists():
        from topics.report import write_report

        write_report(run_dir)
    return {kind: r.effects for kind, r in new.items()}


# --------------------------------------------------------------------------- over time


def time_column(segments: pd.DataFrame) -> str | None:
    """The corpus's year (or date) column, if it has one with two or more values.

    Looks for a metadata column named ``year`` or ``date`` (any case).
    """
    for want in ("year", "date"):
        for col in segments.columns:
            if str(col).lower() == want:
                years = _years(segments[col])
                if years.dropna().nunique() >= 2:
                    return col
    return None


def _years(values: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().sum() >= values.notna().sum() * 0.5 and numeric.notna().any():
        return numeric.where(numeric.between(1000, 3000)).round()
    dates = pd.to_datetime(values, errors="coerce", format="mixed")
    return dates.dt.year.astype(float)


def prevalence_over_time(
    segments: pd.DataFrame,
    column: str | None = None,
    *,
    random_state: int | None = 0,
    **options,
) -> pd.DataFrame | None:
    """Topic and theme prevalence per year, with document-level intervals.

    The shares and intervals of :func:`topics.compare.prevalence` grouped by year (a date
    column is reduced to its year), plus ``year`` (int) and ``sparse`` (fewer than
    :data:`SPARSE_YEAR_DOCS` documents that year). Documents without a year are left out.

    Returns
    -------
    pandas.DataFrame or None
        None when the corpus has no year/date column with two or more years.
    """
    from topics.compare import prevalence

    column = column or time_column(segments)
    if column is None:
        return None
    seg = segments.copy()
    seg["year"] = _years(seg[column])
    seg = seg[seg["year"].notna()]
    if seg["year"].nunique() < 2:
        return None
    seg["year"] = seg["year"].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = prevalence(seg, by="year", random_state=random_state, **options)
    table["year"] = table["group"].astype(int)
    table["sparse"] = table["n_docs"] < SPARSE_YEAR_DOCS
    return table.sort_values(["kind", "year"], kind="stable").reset_index(drop=True)
