"""Statistical primitives of the compare stage (arrays in, arrays out).

Wilson and beta-binomial intervals, the intra-document correlation, the document bootstrap
with Hesterberg's expanded percentile interval, document-permutation p-values and
Benjamini-Hochberg q-values. :mod:`topics.compare` composes them into tables; the methods are
described there.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

__all__ = [
    "benjamini_hochberg",
    "boot_shares",
    "icc",
    "percentile_interval",
    "permutation_p",
    "pooled_interval",
    "wilson",
]


def wilson(x, n, z):
    """Wilson score interval for ``x`` successes in ``n`` trials (arrays broadcast)."""
    x, n = np.asarray(x, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, x / n, np.nan)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def icc(counts: np.ndarray, sizes: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Intra-document correlation per item, nested ANOVA estimator pooled over groups.

    ``counts`` (n_docs, n_items), ``sizes`` (n_docs,), ``group`` (n_docs,) integer codes.
    Returns (n_items,) values in [0, 1], NaN when no group has two documents.
    """
    n_docs, n_groups = len(sizes), len(np.unique(group))
    df_b, df_w = n_docs - n_groups, sizes.sum() - n_docs
    if df_b < 1:
        return np.full(counts.shape[1], np.nan)
    g_counts = np.zeros((n_groups, counts.shape[1]))
    np.add.at(g_counts, group, counts)
    g_sizes = np.bincount(group, weights=sizes, minlength=n_groups)
    p_doc = counts / sizes[:, None]
    p_grp = g_counts[group] / g_sizes[group][:, None]
    msb = (sizes[:, None] * (p_doc - p_grp) ** 2).sum(0) / df_b
    msw = (sizes[:, None] * p_doc * (1 - p_doc)).sum(0) / max(df_w, 1)
    n0 = (sizes.sum() - (np.bincount(group, weights=sizes**2) / g_sizes).sum()) / df_b
    var_b = np.maximum(0.0, (msb - msw) / n0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(var_b + msw > 0, var_b / (var_b + msw), 0.0)
    return np.clip(rho, 0, 1)


def pooled_interval(counts, sizes, rho, df, confidence):
    """Beta-binomial Wilson interval for one group: (low, high) per item."""
    n_total = sizes.sum()
    deff = (sizes[:, None] * (1 + (sizes[:, None] - 1) * rho[None, :])).sum(0) / n_total
    n_eff = n_total / deff
    x_eff = counts.sum(0) / n_total * n_eff
    t = stats.t.ppf(0.5 + confidence / 2, df) if df >= 1 else np.nan
    low, high = wilson(x_eff, n_eff, t)
    return low, high


#: Elements of a (replicates x documents) block drawn at once: memory stays bounded for
#: groups of many documents; blocks of rows draw the same numbers as one big draw.
_BLOCK = 1 << 22


def _row_blocks(n_rows: int, m: int) -> list[tuple[int, int]]:
    step = max(1, _BLOCK // max(1, m))
    return [(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]


def boot_shares(counts, sizes, rng, n_boot):
    """Document-bootstrap replicates of the group shares: (n_boot, n_items)."""
    m = len(sizes)
    out = np.empty((n_boot, counts.shape[1]))
    for lo, hi in _row_blocks(n_boot, m):
        k = hi - lo
        draws = rng.integers(0, m, size=(k, m)) + (np.arange(k) * m)[:, None]
        w = np.bincount(draws.ravel(), minlength=k * m).reshape(k, m).astype(float)
        out[lo:hi] = (w @ counts) / (w @ sizes)[:, None]
    return out


def percentile_interval(reps, confidence, m):
    """Expanded percentile interval (Hesterberg 2015) for a bootstrap over ``m`` documents.

    The plain percentile interval is too narrow with few clusters (its variance is (m-1)/m of
    the unbiased one and it uses a normal, not a t, quantile); the expanded interval takes the
    quantiles at the tail probability whose normal quantile is sqrt(m/(m-1)) t_{m-1}. NaN
    resamples (a statistic undefined in a resample) are left out.
    """
    t = stats.t.ppf(0.5 + confidence / 2, m - 1)
    tail = stats.norm.cdf(-math.sqrt(m / (m - 1)) * t)
    return np.nanquantile(reps, tail, axis=0), np.nanquantile(reps, 1 - tail, axis=0)


def permutation_p(counts, sizes, n_a, n_perm, rng):
    """Two-sided permutation p-value of the share difference, permuting documents.

    The first ``n_a`` rows of ``counts`` belong to group a. Exact when the number of distinct
    assignments is at most ``n_perm``.
    """
    m = len(sizes)
    n_assign = math.comb(m, n_a)
    if n_assign <= n_perm:
        assign = np.zeros((n_assign, m))
        for i, chosen in enumerate(itertools.combinations(range(m), n_a)):
            assign[i, list(chosen)] = 1.0
        exact = True
    else:
        assign = None
        exact = False
    total_c, total_n = counts.sum(0), sizes.sum()

    def diff(a):
        ca, na = a @ counts, a @ sizes
        return ca / na[:, None] - (total_c - ca) / (total_n - na)[:, None]

    base = np.r_[np.ones(n_a), np.zeros(m - n_a)]
    obs = diff(base[None, :])[0]
    if assign is not None:
        perm = diff(assign)
    else:  # in blocks of rows: the same permutations as one (n_perm, m) draw
        perm = np.vstack(
            [
                diff(rng.permuted(np.tile(base, (hi - lo, 1)), axis=1))
                for lo, hi in _row_blocks(n_perm, m)
            ]
        )
    # a tolerance so that ties in floating point count as ties
    extreme = (np.abs(perm) >= np.abs(obs) - 1e-12).sum(0)
    if exact:
        return extreme / n_assign
    return (extreme + 1) / (n_perm + 1)


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries are ignored.

    Parameters
    ----------
    p : array-like of float, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``q >= p``, monotone in ``p``, at most 1.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3)
    array([0.03, 0.04, 0.04])
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    q[ok] = out
    return q
