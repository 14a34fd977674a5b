"""Few-shot calibration of codebook themes by coded paragraphs (see :mod:`topics.themes`).

The functions are public as ``topics.themes.theme_offsets``, ``choose_shrinkage`` and
``cross_validated_themes``; they live here to keep :mod:`topics.themes` short.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np


def _none_threshold(scores: np.ndarray, min_z: float) -> float:
    """The best score below which a segment stays unthemed (see :func:`assign_themes`)."""
    best = scores.max(axis=1)
    med = np.median(best)
    mad = 1.4826 * np.median(np.abs(best - med))
    return float(med - min_z * (mad if mad > 1e-12 else 1.0))


def _with_none(scores: np.ndarray, min_z: float) -> np.ndarray:
    """Scores with a last column for "no theme": the corpus's unthemed threshold."""
    return np.c_[scores, np.full(scores.shape[0], _none_threshold(scores, min_z))]


def theme_offsets(
    scores: np.ndarray,
    rows: Sequence[int],
    labels: Sequence[int],
    *,
    min_z: float = 3.0,
    l2: float = 3.0,
    tau: float = 0.01,
) -> np.ndarray:
    """Per-theme offsets that make the combined scores agree with coded paragraphs.

    Fits ``p(k | i) = softmax_k(a * s[i, k] / tau + b[k])`` on the coded paragraphs by
    maximum likelihood with a ridge penalty ``l2 * (sum(b**2) + (a - 1)**2)``, where ``s``
    are the scores with a "no theme" column (the unthemed threshold of
    :func:`assign_themes`). Returns ``b * tau / a``: offsets on the cosine scale of the
    scores, so that ``argmax(s + offsets)`` is the fitted model's prediction.

    Parameters
    ----------
    scores : numpy.ndarray, shape (n, T)
        Combined scores of the whole corpus (:func:`combine_scores`).
    rows : sequence of int
        The coded paragraphs (rows of ``scores``).
    labels : sequence of int
        Their codes: a theme index, or ``T`` for "no theme".
    min_z : float, default 3.0
        As in :func:`assign_themes`.
    l2 : float, default 3.0
        Shrinkage towards the codebook alone; ``inf`` keeps the codebook as it is.
        :func:`choose_shrinkage` picks it from the coded paragraphs.
    tau : float, default 0.01
        Scale of the scores (a few hundredths of cosine separate themes).

    Returns
    -------
    numpy.ndarray, shape (T + 1,)
        Zeros when no paragraph is coded or ``l2`` is ``inf``.

    Examples
    --------
    >>> from topics.themes import assign_themes
    >>> s = np.array([[0.50, 0.48], [0.50, 0.47], [0.52, 0.50], [0.30, 0.60]])
    >>> off = theme_offsets(s, [0, 1, 2], [1, 1, 1], l2=0.1)
    >>> assign_themes(s, ["a", "b"], offsets=off).theme[:3]
    ['b', 'b', 'b']
    """
    rows = np.asarray(rows, dtype=np.int64)
    lab = np.asarray(labels, dtype=np.int64)
    k = scores.shape[1] + 1
    if len(rows) == 0 or np.isinf(l2):
        return np.zeros(k)
    x = _with_none(scores, min_z)[rows] / tau
    x = x - x.max(axis=1, keepdims=True)  # softmax is shift-invariant; keeps exp() in range
    y = np.zeros((len(rows), k))
    y[np.arange(len(rows)), lab] = 1.0
    a, b = _ridge_logit(x, y, l2)
    return b * tau / a


def _ridge_logit(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Minimise ``-sum(y * log softmax(a * x + b)) + l2 * (|b|^2 + (a - 1)^2)`` over the scale
    ``a >= 0.05`` and the offsets ``b``.

    The objective is convex, so Newton's method with a backtracking line search finds the
    optimum in a few steps (``choose_shrinkage`` fits it many times); L-BFGS-B takes over in
    the rare case that the scale reaches its bound.
    """
    from scipy.special import logsumexp

    k = y.shape[1]

    def value(q: np.ndarray) -> float:
        s = q[0] * x + q[1:]
        lse = logsumexp(s, axis=1, keepdims=True)
        return -float(np.sum(y * (s - lse))) + l2 * (float(q[1:] @ q[1:]) + (q[0] - 1.0) ** 2)

    q = np.r_[1.0, np.zeros(k)]
    f = value(q)
    for _ in range(100):
        s = q[0] * x + q[1:]
        p = np.exp(s - logsumexp(s, axis=1, keepdims=True))
        g = p - y
        grad = np.r_[float(np.sum(g * x)) + 2 * l2 * (q[0] - 1.0), g.sum(axis=0) + 2 * l2 * q[1:]]
        # Hessian of the softmax cross-entropy in (a, b): W = diag(p) - p p^T per row
        px = np.sum(p * x, axis=1, keepdims=True)
        wx = p * x - p * px  # W x per row
        hess = np.empty((k + 1, k + 1))
        hess[0, 0] = float(np.sum(x * wx))
        hess[0, 1:] = hess[1:, 0] = wx.sum(axis=0)
        hess[1:, 1:] = np.diag(p.sum(axis=0)) - p.T @ p
        hess += 2 * l2 * np.eye(k + 1)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-10:
            new = q - t * step
            if new[0] >= 0.05 and (f_new := value(new)) <= f - 1e-4 * t * float(grad @ step):
                break
            t /= 2
        else:
            break
        q, f_old, f = new, f, f_new
        if f_old - f < 1e-12 * max(1.0, abs(f)):
            break
    if q[0] <= 0.05 + 1e-9 or np.linalg.norm(grad) > 1e-4 * max(1.0, len(x)):
        q = _ridge_logit_bounded(x, y, l2, q)
    return float(q[0]), q[1:]


def _ridge_logit_bounded(x, y, l2, start) -> np.ndarray:
    """The same objective by L-BFGS-B, for a scale at its bound."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    def loss(q: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = q[0], q[1:]
        s = a * x + b
        lse = logsumexp(s, axis=1, keepdims=True)
        g = np.exp(s - lse) - y
        value = -float(np.sum(y * (s - lse))) + l2 * (float(b @ b) + (a - 1.0) ** 2)
        grad = np.r_[float(np.sum(g * x)) + 2 * l2 * (a - 1.0), g.sum(axis=0) + 2 * l2 * b]
        return value, grad

    bounds = [(0.05, None)] + [(None, None)] * y.shape[1]
    start = np.r_[max(start[0], 0.05), start[1:]]
    return minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds).x


#: Ridge penalties :func:`choose_shrinkage` compares, from the codebook alone (``inf``) to
#: offsets that follow the codes closely.
SHRINKAGE_GRID = (math.inf, 10.0, 3.0, 1.0)

#: The penalty used when the coded paragraphs come from a single document (nothing to
#: cross-validate on).
DEFAULT_L2 = 3.0


def _fold_ids(folds: Sequence[object], max_folds: int) -> np.ndarray:
    """Fold number of each coded paragraph: its document, documents grouped round-robin (in
    sorted order) into at most ``max_folds`` folds, so the folds never depend on row order.
    """
    _, inv = np.unique(np.asarray([str(f) for f in folds], dtype=object), return_inverse=True)
    return inv % max_folds


def choose_shrinkage(
    scores: np.ndarray,
    rows: Sequence[int],
    labels: Sequence[int],
    folds: Sequence[object],
    *,
    grid: Sequence[float] = SHRINKAGE_GRID,
    min_z: float = 3.0,
    tau: float = 0.01,
    max_folds: int = 10,
) -> tuple[float, dict[float, float]]:
    """How far the coded paragraphs may move the codebook: the ridge penalty of
    :func:`theme_offsets` chosen by cross-validation over documents.

    For each candidate penalty, each fold's (document's) codes are predicted by offsets
    fitted on the other folds, and scored by their log-likelihood under
    ``softmax((s + offsets) / tau)``. The candidate with the highest total wins; ties go to
    the earlier (more cautious) one. ``inf`` (the codebook alone) wins when offsets learnt
    from some documents do not carry over to the others, as when the codebook already fits
    the codes or the codes disagree among themselves.

    Parameters
    ----------
    scores : numpy.ndarray, shape (n, T)
    rows, labels : sequence of int
        Coded paragraphs and their codes, as in :func:`theme_offsets`.
    folds : sequence
        Document of each coded paragraph.
    grid : sequence of float, default :data:`SHRINKAGE_GRID`
    min_z, tau : float
        As in :func:`theme_offsets`.
    max_folds : int, default 10
        Documents are grouped into at most this many folds.

    Returns
    -------
    l2 : float
        The chosen penalty; :data:`DEFAULT_L2` when the codes come from fewer than two
        documents.
    loglik : dict
        Cross-validated log-likelihood of each candidate (empty without a choice).

    Examples
    --------
    >>> s = np.array([[0.50, 0.49]] * 6)
    >>> choose_shrinkage(s, range(6), [1] * 6, ["d1", "d1", "d2", "d2", "d3", "d3"])[0]
    1.0
    """
    rows = np.asarray(rows, dtype=np.int64)
    lab = np.asarray(labels, dtype=np.int64)
    fid = _fold_ids(folds, max_folds)
    if len(np.unique(fid)) < 2:
        return DEFAULT_L2, {}
    full = _with_none(scores, min_z)
    loglik: dict[float, float] = {}
    for l2 in grid:
        total = 0.0
        for f in np.unique(fid):
            test = fid == f
            off = theme_offsets(scores, rows[~test], lab[~test], min_z=min_z, l2=l2, tau=tau)
            z = (full[rows[test]] + off[None, :]) / tau
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            total += float(logp[np.arange(int(test.sum())), lab[test]].sum())
        loglik[float(l2)] = total
    values = list(loglik.values())
    return float(list(loglik)[int(np.argmax(values))]), loglik


def cross_validated_themes(
    scores: np.ndarray,
    names: Sequence[str],
    rows: Sequence[int],
    labels: Sequence[int],
    folds: Sequence[object],
    *,
    min_z: float = 3.0,
    l2: float | Literal["auto"] = "auto",
) -> list[str]:
    """The theme of each coded paragraph predicted without its fold's codes.

    For each fold (normally the document), :func:`theme_offsets` is fitted on the coded
    paragraphs of all *other* folds and applied to this fold's paragraphs: no coded
    paragraph is ever scored by a model that saw its own code (nor its document's). With
    ``l2="auto"`` the penalty is chosen (:func:`choose_shrinkage`) from the other folds'
    codes too, as the run chooses it from all codes.

    Parameters
    ----------
    scores : numpy.ndarray, shape (n, T)
    names : sequence of str
    rows, labels : sequence of int
        Coded paragraphs and their codes, as in :func:`theme_offsets`.
    folds : sequence
        Fold (document) of each coded paragraph.
    min_z : float
    l2 : float or "auto", default "auto"

    Returns
    -------
    list of str
        One theme (``""`` = none) per coded paragraph, in the order of ``rows``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    lab = np.asarray(labels, dtype=np.int64)
    folds = np.asarray([str(f) for f in folds], dtype=object)
    out = [""] * len(rows)
    for f in np.unique(folds):
        test = folds == f
        pen = l2
        if pen == "auto":
            pen, _ = choose_shrinkage(scores, rows[~test], lab[~test], folds[~test], min_z=min_z)
        off = theme_offsets(scores, rows[~test], lab[~test], min_z=min_z, l2=float(pen))
        # the unthemed threshold is the corpus's, not the fold's
        pick = (_with_none(scores, min_z)[rows[test]] + off[None, :]).argmax(axis=1)
        for j, p in zip(np.flatnonzero(test), pick, strict=True):
            out[j] = names[p] if p < len(names) else ""
    return out
