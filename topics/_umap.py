"""Dimension reduction for the cluster stage: PCA, then seeded UMAP on an exact kNN graph.

Kept apart from :mod:`topics.cluster` because it deals with umap-learn's machinery: the
exact scikit-learn neighbour search for corpora up to :data:`EXACT_KNN_MAX` segments and
numba's on-disk cache for UMAP's compiled kernels.
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


def pca(
    X: np.ndarray, p: Mapping[str, Any], random_state: int, fit_rows: np.ndarray | None = None
) -> np.ndarray:
    """PCA to ``p["pca_components"]`` dimensions when the data has more (else ``X`` as is).

    With ``fit_rows`` the components are fitted on those rows only and every row is
    transformed (a large corpus fitted on a sample).
    """
    fit = X if fit_rows is None else X[fit_rows]
    k = int(p.get("pca_components") or 0)
    if k and X.shape[1] > k and len(fit) > k:
        from sklearn.decomposition import PCA

        if fit_rows is None:
            return PCA(n_components=k, random_state=random_state).fit_transform(X)
        model = PCA(n_components=k, random_state=random_state).fit(fit)
        return model.transform(X).astype(X.dtype, copy=False)
    return X


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
    exact neighbour search a search among those candidates.
    Returns float64 coordinates, shape (n, n_components).
    """
    import umap

    _cache_umap_kernels()
    n = len(Z)
    n_neighbors = int(min(p["n_neighbors"], n - 1))
    metric = p.get("metric", "cosine")
    knn = (None, None, None)
    if n <= EXACT_KNN_MAX:
        if cand is not None and metric == "cosine" and cand.shape[1] >= n_neighbors - 1:
            idx, dists = knn_among(Z, cand, n_neighbors)
        else:
            idx, dists = _knn(Z, n_neighbors, metric)
        knn = (idx, dists, None)
    with warnings.catch_warnings():
        # umap warns that a fixed random_state disables parallelism (that is the point) and
        # that a precomputed kNN without a search index cannot transform new data.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        reducer = umap.UMAP(
            n_neighbors=n_neighbors,
            n_components=n_components,
            min_dist=min_dist,
            metric=metric,
            random_state=random_state,
            init="spectral" if n > n_components + 1 else "random",
            precomputed_knn=knn,
            n_epochs=n_epochs,
        )
        return np.asarray(reducer.fit_transform(Z), dtype=np.float64)
