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

**Assignment noise** (themes only; topics are hard labels that define the topics, so topic
effects carry no assignment uncertainty and their ``method`` says so). Every fit is repeated
on ``n_draws`` data sets, each drawing every themed paragraph's theme, and the fits are pooled
by Rubin's rules (total variance = mean within-draw variance + (1 + 1/M) between-draw
variance, Barnard-Rubin degrees of freedom; stm pools simulated coefficients instead, with
the same centre). Paragraphs without a theme keep that status in every draw: they count in
the denominator of every share but are not an item. Where the themes are drawn from:

``method="em"`` (default)
    From their posterior under a **covariate-dependent document prior**, the structure of
    stm (:mod:`topics._effects_em`): document ``d`` has theme proportions
    ``theta_d ~ Dirichlet(alpha mu(x_d))`` with ``mu`` a multinomial logit of the formula's
    covariates, its paragraphs' themes are drawn from ``theta_d``, and the assignment is
    evidence, the likelihood ``q_ik / pi_k`` (the run's probability over the corpus-wide
    prior it was calibrated against, estimated as the mean probability). The draws come
    from data augmentation (a Gibbs sampler: ``theta_d`` given the themes, themes given
    ``theta_d`` and the evidence) whose parameters ``(mu, alpha)`` are redrawn at every sweep
    by a weighted likelihood bootstrap over documents, so the EM's own uncertainty enters
    the intervals. Why: drawing straight from probabilities that know only the corpus-wide
    shares (all a similarity score can know) pulls every document towards the corpus mix
    and attenuates effects by about half; argmax labels pull documents towards their own
    dominant theme. The document prior puts back what the probabilities cannot know.
    The correction is only as good as the probabilities' calibration. With ``coded``
    paragraphs (a coded sheet: the run's ``--coded`` sheet or ``topics effects --coded``)
    the probabilities are first recalibrated on them, a temperature and per-theme offsets
    (``softmax(a log q + b)``, ridge maximum likelihood, refitted per sweep with bootstrap
    weights per coded document); hard labels then become a calibrated confusion model.
    Without coded paragraphs they are taken as calibrated corpus-wide, which is unchecked:
    overconfident probabilities (the run's ``theme_posterior`` is a softmax at
    ``tau = 0.005``, nearly hard) leave the effects biased, and a warning says that the
    effects then describe the *assigned* themes. (The calibration treats coded paragraphs
    as a sample of the corpus; a run's coded paragraphs also set its theme offsets, so the
    calibration is in-sample for them.)
``method="composition"``
    Straight from the probabilities (the earlier behaviour). Right only when the
    probabilities are already posteriors given each document's own shares.

Without probabilities (and without coded paragraphs) the hard labels are used as they are.

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

import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from topics import _effects_design as _m
from topics import _effects_em as _em
from topics.errors import TopicsError

__all__ = [
    "EffectsResult",
    "effects",
    "effects_tables",
    "run_coded",
    "enough_coded",
    "time_column",
    "prevalence_over_time",
    "write_effects",
    "EFFECT_COLUMNS",
    "PREDICTED_COLUMNS",
    "CONTRAST_COLUMNS",
    "MIN_DF",
    "METHODS",
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
#: Ways of handling noisy theme assignments (see the module docstring).
METHODS = ("em", "composition")
#: Median top probability above which uncalibrated probabilities are called near-certain.
NEAR_CERTAIN = 0.95
#: Fewest residual degrees of freedom (documents minus coefficients) a formula may leave.
MIN_DF = 2
#: Years with fewer documents are flagged ``sparse`` in :func:`prevalence_over_time`.
SPARSE_YEAR_DOCS = 3
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
    method,
    coded,
):
    """The three tables of one formula and kind: every item refitted on each composition
    draw (:func:`_draw_fits`), pooled by Rubin's rules into rows (:func:`_item_rows`).
    """
    d = _m.design(segments, formula, min_df)
    a = _m.assignments(segments, kind, probs)
    n, p = d.X.shape
    df_com = n - p
    doc_index = pd.Index(d.docs.index)
    seg_doc = doc_index.get_indexer(segments["doc_id"].astype(str))
    keep = seg_doc >= 0
    sizes = np.bincount(seg_doc[keep], minlength=n).astype(float)
    w = sizes if weights == "paragraph" else np.ones(n)
    if method == "em" and coded is not None and a.kind == "theme" and a.probs is None:
        a = _m.one_hot(a)  # hard labels whose confusion the coded paragraphs calibrate
    m = n_draws if (a.probs is not None and a.redraw[keep].any()) else 1
    seed = [zlib.crc32(s.encode()) for s in (d.rhs, kind)]
    rng = np.random.default_rng(([int(random_state)] if random_state is not None else []) + seed)
    specs = _m.specs(d, grid_size)
    cat_specs = {(c, v): i for i, (c, v, mod, _, _) in enumerate(specs) if not mod}
    pairs = [
        (col, la, lb, cat_specs[(col, la)], cat_specs[(col, lb)])
        for col, levels in d.categorical.items()
        for i, la in enumerate(levels)
        for lb in levels[i + 1 :]
    ]
    codes, note = _draw_codes(a, d, seg_doc, keep, m, rng, method, coded, segments)
    fits = _draw_fits(d, a, seg_doc, keep, sizes, w, codes, specs, pairs, se)
    method = _m.method_text(a, se, n, df_com, m, weights, note)
    ctx = _Pooling(d, specs, pairs, df_com, 0.5 + confidence / 2, _m.term_docs(d.X))
    eff, pred, con = [], [], []
    for k in range(len(a.items)):
        ident = {"formula": d.rhs, "kind": kind} | {"item": a.items[k], "label": a.labels[k]}
        why = method if fits.ok[k] else _NOT_ESTIMABLE_SEP
        if not fits.present[k]:
            why = "not estimable: the item occurs in none of these documents"
        rows = _item_rows(ctx, fits, k, ident, why)
        eff += rows[0]
        pred += rows[1]
        con += rows[2]
    return (
        _table(eff, EFFECT_COLUMNS),
        _table(pred, PREDICTED_COLUMNS),
        _table(con, CONTRAST_COLUMNS),
    )


def _draw_codes(a, d, seg_doc, keep, m, rng, method, coded, segments):
    """Each draw's item of every kept segment, shape (m, n_kept), and the method note.

    ``method="em"`` draws themes from their posterior under the covariate-dependent document
    prior (:mod:`topics._effects_em`); ``"composition"`` draws them straight from the
    probabilities; without probabilities the labels are used as they are.
    """
    if a.probs is None or not a.redraw[keep].any():
        return a.codes[keep][None, :], None
    if method == "composition":
        return np.stack([_m.draw_codes(a, rng)[keep] for _ in range(m)]), None
    rows = np.flatnonzero(keep & a.redraw)
    cal = _m.coded_rows(segments, a, rows, coded) if coded is not None else None
    top = float(np.median(a.probs[rows].max(1)))
    if cal is None and top > NEAR_CERTAIN:
        warnings.warn(
            f"theme probabilities are near-certain (median top probability {top:.2f}) and no "
            "coded paragraphs calibrate them: the effects describe the ASSIGNED themes and "
            "are biased where the assignment errs. Code a sample (`topics code sample`) and "
            "pass it (`coded=`, `topics effects --coded SHEET`) to correct them.",
            stacklevel=4,
        )
    with np.errstate(over="ignore", under="ignore"):
        draws, info = _em.posterior_draws(a.probs[rows], seg_doc[rows], d.X, m, rng, coded=cal)
    codes = a.codes.copy()
    out = np.repeat(codes[keep][None, :], m, axis=0)
    pos = np.searchsorted(np.flatnonzero(keep), rows)
    out[:, pos] = draws
    return out, _m.em_note(m, info, None if cal is None else len(cal.rows), a.hard)


@dataclass
class _Fits:
    """Per draw and item: coefficients and their variances, the logit of every predicted
    share and its variance, every contrast and its variance; ``ok`` items that could be
    fitted, ``present`` items that occur in some document.
    """

    beta: np.ndarray  # (m, k, p)
    var: np.ndarray
    eta: np.ndarray  # (m, k, n_specs)
    eta_v: np.ndarray
    diff: np.ndarray  # (m, k, n_pairs)
    diff_v: np.ndarray
    ok: np.ndarray  # (k,)
    present: np.ndarray


def _draw_fits(d, a, seg_doc, keep, sizes, w, codes, specs, pairs, se) -> _Fits:
    """Fit every item's fractional logit on each composition draw (rows of ``codes``)."""
    n, p = d.X.shape
    m = len(codes)
    k_items = len(a.items)
    Xs = _m.spec_matrices(d, specs)  # (S, n, p)
    f = _Fits(
        beta=np.full((m, k_items, p), np.nan),
        var=np.full((m, k_items, p), np.nan),
        eta=np.full((m, k_items, len(specs)), np.nan),  # logit of predicted share
        eta_v=np.full((m, k_items, len(specs)), np.nan),
        diff=np.full((m, k_items, len(pairs)), np.nan),
        diff_v=np.full((m, k_items, len(pairs)), np.nan),
        ok=np.ones(k_items, bool),
        present=np.zeros(k_items, bool),
    )
    for draw in range(m):
        item = codes[draw] >= 0
        flat = np.bincount(seg_doc[keep][item] * k_items + codes[draw][item], minlength=n * k_items)
        shares = flat.reshape(n, k_items) / sizes[:, None]
        f.present |= shares.max(0) > 0
        for k in range(k_items):
            if not f.ok[k]:
                continue
            fit = _m.fit_glm(shares[:, k], d.X, w, se)
            if fit is None:
                f.ok[k] = False
                continue
            b, cov = fit
            f.beta[draw, k], f.var[draw, k] = b, np.diag(cov)
            mu = 1 / (1 + np.exp(-(Xs @ b)))  # (S, n)
            share = (mu * w).sum(1) / w.sum()
            grad = np.einsum("sn,snp->sp", mu * (1 - mu) * w, Xs) / w.sum()
            sv = np.einsum("sp,pq,sq->s", grad, cov, grad)
            share = np.clip(share, 1e-12, 1 - 1e-12)
            f.eta[draw, k] = np.log(share / (1 - share))
            f.eta_v[draw, k] = sv / (share * (1 - share)) ** 2
            if pairs:
                ia, ib = np.array([x[3] for x in pairs]), np.array([x[4] for x in pairs])
                f.diff[draw, k] = share[ia] - share[ib]
                g = grad[ia] - grad[ib]
                f.diff_v[draw, k] = np.einsum("sp,pq,sq->s", g, cov, g)
    return f


@dataclass
class _Pooling:
    """What turns the draws' fits into table rows: the design, prediction specs, contrast
    pairs, complete-data degrees of freedom, the t quantile's tail and documents per term.
    """

    d: object
    specs: list
    pairs: list
    df_com: int
    tail: float
    n_term: np.ndarray


def _item_rows(c: _Pooling, f: _Fits, k: int, ident: dict, why: str):
    """Rows of item ``k`` for the effects, predictions and contrasts tables (Rubin-pooled)."""
    d, specs, pairs, df_com, tail = c.d, c.specs, c.pairs, c.df_com, c.tail
    p = d.X.shape[1]
    ok = f.ok[k]
    if ok:
        est, sd, df = _m.rubin(f.beta[:, k], f.var[:, k], df_com)
    else:
        est = sd = df = np.full(p, np.nan)
    t = stats.t.ppf(tail, df) if ok else np.full(p, np.nan)
    pv = 2 * stats.t.sf(np.abs(est / sd), df) if ok else np.full(p, np.nan)
    eff = [
        ident
        | {
            "term": term,
            "estimate": est[j],
            "std_error": sd[j],
            "ci_low": est[j] - t[j] * sd[j],
            "ci_high": est[j] + t[j] * sd[j],
            "p_value": np.nan if term == "Intercept" else pv[j],
            "n_docs": int(c.n_term[j]),
            "df": df[j],
            "method": why,
        }
        for j, term in enumerate(d.names)
    ]
    if ok:
        e, s, df_e = _m.rubin(f.eta[:, k], f.eta_v[:, k], df_com)
        te = stats.t.ppf(tail, df_e)
        lo, hi = e - te * s, e + te * s
    else:
        e = lo = hi = np.full(len(specs), np.nan)
    pred = [
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
        for i, (col, v, mod, lev, mask) in enumerate(specs)
    ]
    if pairs and ok:
        dd, ds, df_d = _m.rubin(f.diff[:, k], f.diff_v[:, k], df_com)
        td = stats.t.ppf(tail, df_d)
        pd_ = 2 * stats.t.sf(np.abs(dd / np.where(ds > 0, ds, np.nan)), df_d)
    else:
        dd = ds = td = pd_ = np.full(len(pairs), np.nan)
    con = [
        ident
        | {
            "covariate": col,
            "level_a": la,
            "level_b": lb,
            "diff": dd[i],
            "ci_low": max(dd[i] - td[i] * ds[i], -1.0),
            "ci_high": min(dd[i] + td[i] * ds[i], 1.0),
            "p_value": pd_[i],
            "n_docs_a": int(specs[sa][4].sum()),
            "n_docs_b": int(specs[sb][4].sum()),
            "method": why,
        }
        for i, (col, la, lb, sa, sb) in enumerate(pairs)
    ]
    return eff, pred, con


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
    method: Literal["em", "composition"] = "em",
    coded: pd.DataFrame | None = None,
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
        Per-segment theme probabilities (columns named by theme); rows of segments without
        a theme are ignored. Without them (and ``coded``) the hard labels are used as such.
    n_draws : int, default 30
        Draws of the themes (used only with ``probs`` or ``coded``).
    confidence : float, default 0.95
    random_state : int or None, default 0
        Seed of the composition draws; the same seed gives identical tables.
    weights : {"document", "paragraph"}, default "document"
        Each document counts once (as stm), or in proportion to its paragraphs.
    se : {"model", "robust"}, default "model"
        Quasi-binomial (pooled dispersion) or sandwich covariance; see the module docstring.
    min_df : int, default :data:`MIN_DF`
        Fewest residual degrees of freedom; fewer documents are refused.
    grid_size : int, default 25
        Points of a numeric covariate's prediction grid (integers spanning at most 60
        units, such as years, use every integer).
    method : {"em", "composition"}, default "em"
        Themes drawn from their posterior under a covariate-dependent document prior, or
        straight from ``probs`` (see the module docstring).
    coded : pandas.DataFrame, optional
        Coded paragraphs (``segment_id``, ``code``), at least 30 themed: with ``"em"`` they
        recalibrate ``probs`` (or the hard labels) first.

    Returns
    -------
    EffectsResult

    Raises
    ------
    topics.errors.TopicsError
        Unknown column (the message lists the available ones), a covariate with a single
        value, too few documents, collinear terms, too few ``coded`` paragraphs.

    Warns
    -----
    UserWarning
        ``"em"`` with near-certain probabilities (median top probability above
        :data:`NEAR_CERTAIN`) and no coded paragraphs: effects on the assigned themes.

    Examples
    --------
    >>> effects(segments, "focus + year").effects  # doctest: +SKIP
    """
    _check_options(segments, confidence, n_draws, weights, se, method)
    return EffectsResult(*_fit_formula(
        segments.reset_index(drop=True), formula, kind, probs, n_draws=n_draws,
        confidence=confidence, random_state=random_state, weights=weights, se=se,
        min_df=min_df, grid_size=grid_size, method=method, coded=coded,
    ))  # fmt: skip


def _check_options(segments, confidence, n_draws, weights, se, method) -> None:
    """Refuse options :func:`effects` cannot use, with what was expected."""
    if not 0 < confidence < 1:
        raise TopicsError(f"confidence must be between 0 and 1 (got {confidence})")
    if n_draws < 2:
        raise TopicsError(f"n_draws must be at least 2 (got {n_draws})")
    if weights not in ("document", "paragraph") or se not in ("model", "robust"):
        raise TopicsError(
            f"weights={weights!r}, se={se!r}: expected document|paragraph, model|robust"
        )
    if method not in METHODS:
        raise TopicsError(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    if not isinstance(segments, pd.DataFrame) or "doc_id" not in segments.columns:
        raise TopicsError("segments must be a DataFrame with a 'doc_id' column")


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
    from pathlib import Path

    from topics.result import Result

    run_dir = Path(run_dir)
    result = Result.load(run_dir)
    segments, probs = result.modelled_segments()
    options["coded"] = run_coded(result, probs, options.get("coded"), options.get("method", "em"))
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
    _replace_rows(run_dir, result, _m.formula_rhs(formula), new)
    if (run_dir / "report.html").exists():
        from topics.report import write_report

        write_report(run_dir)
    return {kind: r.effects for kind, r in new.items()}


def enough_coded(coded: pd.DataFrame | None) -> pd.DataFrame | None:
    """A run's own coded paragraphs (``segment_id``, ``code``) if enough have a theme to
    calibrate the probabilities (:data:`topics._effects_design.MIN_CODED`), else None with
    a warning: a run's few-shot sheet may be too small, which must not stop its effects.
    """
    if coded is None or not len(coded):
        return None
    themed = coded["code"].astype(str).str.strip().str.lower().ne("none").sum()
    if themed < _m.MIN_CODED:
        warnings.warn(
            f"the run's {len(coded)} coded paragraphs ({themed} with a theme) are too few to "
            f"calibrate the theme probabilities (at least {_m.MIN_CODED}); effects use the "
            "probabilities as they are",
            stacklevel=3,
        )
        return None
    return coded[["segment_id", "code"]]


def run_coded(result, probs, coded=None, method: str = "em") -> pd.DataFrame | None:
    """The coded paragraphs that calibrate a saved run's theme probabilities.

    Parameters
    ----------
    result : topics.result.Result
    probs : pandas.DataFrame or None
        The run's theme probabilities (their columns are the theme names).
    coded : str, pathlib.Path or pandas.DataFrame, optional
        A coded sheet (read with :func:`topics.coding.read_codes`, first coder) or a table
        with ``segment_id`` and ``code``; default the run's own ``coded.csv`` (``--coded``).
    method : str
        Only ``"em"`` uses coded paragraphs.

    Returns
    -------
    pandas.DataFrame or None
        ``segment_id`` and ``code``.
    """
    if method != "em":
        return None
    if coded is None:
        return enough_coded(result.coded)
    if isinstance(coded, pd.DataFrame):
        return coded
    from topics.coding import read_codes

    names = [c for c in probs.columns if c != "segment_id"] if probs is not None else []
    if not names and "theme" in result.segments:
        names = sorted(set(result.segments["theme"].fillna("").astype(str)) - {""})
    ids = result.segments["segment_id"].astype(str).tolist()
    return read_codes(coded, names, segment_ids=ids, coders=["code"])[["segment_id", "code"]]


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


def _replace_rows(run_dir, result, rhs: str, new: dict[str, EffectsResult]) -> None:
    """Replace the rows of formula ``rhs`` and the kinds of ``new`` in the run folder's
    effects tables (other rows kept), each file atomically.
    """
    import os

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
            same = old["formula"].astype(str).eq(rhs) & old["kind"].isin(list(new))
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
