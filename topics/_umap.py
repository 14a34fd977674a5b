"""Dimension reduction for the cluster stage: PCA, then seeded UMAP on an exact kNN graph.

Kept apart from :mod:`topics.cluster` because it deals with umap-learn's machinery: the
exact neighbour search for corpora up to :data:`EXACT_KNN_MAX` segments, numba's on-disk
cache for UMAP's compiled kernels, and a layout whose every step computes the same floats on
every CPU path (:func:`layout`; the descent itself is in :mod:`topics._umap_sgd`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Up to this many segments the k nearest neighbours for UMAP are computed exactly with
#: scikit-learn (fast at this size, and it spares UMAP's JIT-compiled search, several seconds
#: of fixed cost per run); above it UMAP's own approximate search (pynndescent) is used.
EXACT_KNN_MAX = 20_000


def _knn(Z: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(Z)
    dists, idx = nn.kneighbors(Z)
    # Each point is its own first neighbour (as in UMAP's exact search), even for duplicates.
    for row in np.flatnonzero(idx[:, 0] != np.arange(len(Z))):
        others = [j for j in idx[row] if j != row][: k - 1]
        idx[row] = [row, *others]
        dists[row] = [0.0, *np.sort(dists[row])[1:k]]
    return idx.astype(np.int32), np.maximum(dists, 0.0).astype(np.float32)


#: Extra candidates per row kept by :func:`candidates` beyond the ``k`` neighbours, so that a
#: member's small perturbation (relative norm ~0.01) cannot bring in a neighbour from outside.
CANDIDATE_EXTRA = 16


def _unit(Z: np.ndarray) -> np.ndarray:
    Z = np.asarray(Z, dtype=np.float64)
    return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-300)


def candidates(
    Z: np.ndarray, k: int, extra: int = CANDIDATE_EXTRA, block: int = 1024
) -> np.ndarray:
    """The ``k - 1 + extra`` nearest other rows of each row of ``Z`` by cosine (int32).

    Computed once for all members of a consensus: each member perturbs ``Z`` only slightly,
    so its exact neighbours are found among these candidates (:func:`knn_among`) at a small
    fraction of an exact search's cost. Memory is one ``block`` × n matrix at a time.
    """
    U = _unit(Z)
    n = len(U)
    c = int(min(k - 1 + extra, n - 1))
    out = np.empty((n, c), dtype=np.int32)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        S = U[rows] @ U.T
        S[np.arange(len(rows)), rows] = -np.inf  # never its own candidate
        out[rows] = np.argpartition(-S, c - 1, axis=1)[:, :c]
    return out


def knn_among(Z: np.ndarray, cand: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours (cosine) of each row of ``Z`` among its candidates.

    Same form as an exact search: each row first (distance 0), then its ``k - 1`` nearest
    candidates by distance (ties: candidate order). Equal to the exact search whenever every
    true neighbour is a candidate, which :func:`candidates` makes the case for perturbations
    far smaller than the gap to the ``extra``-th next neighbour (checked in the tests).
    """
    U = _unit(Z)
    n = len(U)
    sims = np.einsum("id,ijd->ij", U, U[cand])
    order = np.argsort(-sims, axis=1, kind="stable")[:, : k - 1]
    idx = np.empty((n, k), dtype=np.int32)
    dists = np.zeros((n, k), dtype=np.float32)
    idx[:, 0] = np.arange(n)
    idx[:, 1:] = np.take_along_axis(cand, order, axis=1)
    dists[:, 1:] = np.maximum(1.0 - np.take_along_axis(sims, order, axis=1), 0.0)
    return idx, dists


@functools.cache
def _cache_umap_kernels() -> None:
    """Let numba keep UMAP's compiled kernels on disk, so only the first run compiles them.

    umap-learn jit-compiles its neighbour-graph and layout kernels without numba's on-disk
    cache: every process spent ~8 s of a seed-corpus run compiling them again. Turning the
    cache on (what ``@numba.njit(cache=True)`` does) stores them where numba stores any
    cached function (``__pycache__`` beside umap, or ``NUMBA_CACHE_DIR``). Results are
    unchanged; anything unexpected in numba's or umap's internals leaves this a no-op. Runs
    once per process.
    """
    try:
        import umap.layouts
        import umap.umap_
        from numba.core.caching import NullCache
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # pragma: no cover - other numba/umap layouts
        return
    for module in (umap.umap_, umap.layouts):
        for obj in list(vars(module).values()):
            if isinstance(obj, Dispatcher) and isinstance(getattr(obj, "_cache", None), NullCache):
                try:
                    obj.enable_caching()
                except Exception:  # pragma: no cover - e.g. an unwritable cache location
                    pass


#: The PCA features and the spectral start of a layout are rounded to these grids, so that
#: a float difference far below them (another BLAS kernel or eigensolver path, ~1e-13) cannot
#: reach the layout: it changes a rounded value only when it straddles a grid point
#: (probability ~1e-8 per value). The PCA grid is far below the members' own perturbation
#: (relative norm 0.01), the start's grid (on coordinates scaled to at most 10) below the
#: noise of 1e-4 that umap adds to it.
PCA_GRID = 2.0**-16
INIT_GRID = 2.0**-14


def snap(X: np.ndarray, grid: float) -> np.ndarray:
    """``X`` rounded to multiples of ``grid``, as float32 (exact for |x| < 2**8 with the
    grids above).
    """
    return (np.round(np.asarray(X, dtype=np.float64) / grid) * grid).astype(np.float32)


def pca(
    X: np.ndarray, p: Mapping[str, Any], random_state: int, fit_rows: np.ndarray | None = None
) -> np.ndarray:
    """PCA to ``p["pca_components"]`` dimensions when the data has more (else ``X`` as is).

    With ``fit_rows`` the components are fitted on those rows only and every row is
    transformed (a large corpus fitted on a sample). Fitted and applied in float64, block by
    block of rows, and rounded to :data:`PCA_GRID` (float32): the result does not depend on
    the BLAS kernel that computed it.
    """
    fit = X if fit_rows is None else X[fit_rows]
    k = int(p.get("pca_components") or 0)
    if not (k and X.shape[1] > k and len(fit) > k):
        return X
    from sklearn.decomposition import PCA

    model = PCA(n_components=k, random_state=random_state).fit(fit.astype(np.float64))
    out = np.empty((len(X), k), dtype=np.float32)
    for start in range(0, len(X), 65536):
        rows = slice(start, start + 65536)
        out[rows] = snap((X[rows].astype(np.float64) - model.mean_) @ model.components_.T, PCA_GRID)
    return out


@functools.cache
def _ab(min_dist: float) -> tuple[float, float]:
    """UMAP's curve parameters ``a``, ``b`` for ``min_dist`` (spread 1), rounded to 6 digits."""
    from umap.umap_ import find_ab_params

    a, b = find_ab_params(1.0, min_dist)
    return round(float(a), 6), round(float(b), 6)


def layout(
    Z: np.ndarray,
    p: Mapping[str, Any],
    random_state: int,
    n_components: int,
    min_dist: float,
    n_epochs: int | None = None,
    cand: np.ndarray | None = None,
) -> np.ndarray:
    """Seeded UMAP of ``Z`` (exact kNN up to :data:`EXACT_KNN_MAX` rows).

    ``p`` holds ``n_neighbors`` and ``metric`` (see :func:`topics.cluster.default_params`).
    ``cand`` (from :func:`candidates` on nearly the same rows, cosine metric only) makes the
    exact neighbour search a search among those candidates (without it, among ``Z``'s own).
    Returns float64 coordinates, shape (n, n_components).

    umap-learn's steps (its fuzzy neighbour graph and spectral start), then its stochastic
    gradient descent in :func:`topics._umap_sgd.sgd_epochs`, a copy compiled without
    ``fastmath``: umap compiles
    its own with ``fastmath``, which lets each CPU target fuse and reorder the float
    operations differently, and the descent is chaotic, so that one rounding difference
    gave a different layout (and different topics) under another numba target. Without
    ``fastmath`` every target computes the same IEEE operations; with the spectral start
    rounded to :data:`INIT_GRID`, the same input gives the same layout on every CPU path
    (checked under ``NUMBA_CPU_NAME=generic OPENBLAS_CORETYPE=Prescott`` in the tests).
    """
    from umap.umap_ import fuzzy_simplicial_set, make_epochs_per_sample

    from topics._umap_sgd import sgd_epochs

    _cache_umap_kernels()
    Z = np.asarray(Z, dtype=np.float32)
    n = len(Z)
    rs = np.random.RandomState(random_state)
    n_neighbors = int(min(p["n_neighbors"], n - 1))
    metric = p.get("metric", "cosine")
    if n <= EXACT_KNN_MAX:
        if metric != "cosine":
            idx, dists = _knn(Z, n_neighbors, metric)
        else:
            # Ranked in float64 (the same neighbours on every BLAS kernel), among the given
            # candidates or among this data's own.
            if cand is None or cand.shape[1] < n_neighbors - 1:
                cand = candidates(Z, n_neighbors)
            idx, dists = knn_among(Z, cand, n_neighbors)
    else:
        from umap.umap_ import nearest_neighbors

        idx, dists, _ = nearest_neighbors(Z, n_neighbors, metric, {}, False, rs, n_jobs=1)
    if n_epochs is None:  # umap's default
        n_epochs = 500 if n <= 10_000 else 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. a disconnected graph
        graph, _, _ = fuzzy_simplicial_set(
            Z, n_neighbors, rs, metric, knn_indices=idx, knn_dists=dists
        )
        graph = graph.tocoo()
        graph.sum_duplicates()
        graph.data[graph.data < graph.data.max() / float(n_epochs)] = 0.0
        graph.eliminate_zeros()
        start = _start(Z, graph, n_components, rs, metric)
    a, b = _ab(float(min_dist))
    eps = make_epochs_per_sample(graph.data, n_epochs)
    # umap's per-vertex random states for the negative samples.
    state = rs.randint(np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1, 3)
    states = np.full((n, 3), state, dtype=np.int64) + start[:, 0].astype(np.float64).view(
        np.int64
    ).reshape(-1, 1)
    head, tail = graph.row.astype(np.int64), graph.col.astype(np.int64)
    sgd_epochs(start, head, tail, eps, a, b, states, int(n_epochs), 5.0)
    return start.astype(np.float64)


def _start(Z, graph, n_components: int, rs, metric: str) -> np.ndarray:
    """The starting layout as umap draws it: spectral (random for a tiny graph), scaled to
    [0, 10], float32.

    The spectral coordinates are rounded to :data:`INIT_GRID` (after scaling to at most 10),
    so the eigensolver's BLAS rounding cannot reach the descent.
    """
    n = len(Z)
    if n > n_components + 1:
        from umap.spectral import spectral_layout

        init = spectral_layout(Z, graph, n_components, rs, metric=metric)
        init = snap(init * (10.0 / max(float(np.abs(init).max()), 1e-300)), INIT_GRID)
        init = init + rs.normal(scale=0.0001, size=init.shape).astype(np.float32)
    else:
        init = rs.uniform(low=-10.0, high=10.0, size=(n, n_components)).astype(np.float32)
    lo, hi = init.min(0), init.max(0)
    return (10.0 * (init - lo) / np.where(hi > lo, hi - lo, 1.0)).astype(np.float32, order="C")
