"""Cluster stage: language alignment, seeded UMAP, HDBSCAN and outlier reduction.

Multilingual sentence embeddings (e5 and similar) carry a strong *language identity*: the
vectors of one language share a common offset, so a density clustering of a mixed corpus
finds languages, not topics. :func:`align_languages` removes that identity (per-language mean
centering, shrunk toward the global mean for rare languages, then projecting out the
directions that still separate the languages). :func:`fit_clusters` then reduces the aligned
vectors with a seeded UMAP, clusters them with HDBSCAN, reassigns most outliers to the nearest
topic centroid, and numbers topics canonically (0 = largest).

The scaled defaults (:func:`default_params`) and the alignment were measured on SIB-200
(the same 1,004 sentences in five languages, ``experiments/bench_sib200.py``).

Examples
--------
>>> import numpy as np
>>> from topics import cluster
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 32)).astype("float32")
>>> res = cluster.fit_clusters(X, random_state=0)  # doctest: +SKIP
>>> res.labels.shape, res.coords2d.shape  # doctest: +SKIP
((300,), (300, 2))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from topics import _umap
from topics._context import group_keys, group_means, neighbour_sum
from topics._rows import row_blocks

__all__ = [
    "ClusterResult",
    "align_languages",
    "canonical_labels",
    "consensus_partition",
    "default_params",
    "fit_clusters",
    "merge_similar",
    "reduce_outliers",
]

#: The co-association matrix of the consensus is built on at most this many segments (a
#: seeded sample of a larger corpus; the other segments join a topic by the members' vote).
CONSENSUS_MAX = 6000

#: Member clusterings of the consensus (up to 6,000 segments). The consensus is a Monte-Carlo
#: estimate: on SIB-200 (5,019 sentences, a continuum of sub-topics) the consensus of two
#: disjoint sets of members agrees at median ARI 0.92 with 30 members each, 0.945 with 60 and
#: 0.97 with 120 (p10 0.87 over 28 pairs of sets; 240: min 0.958); on corpora with clear
#: topics 30 already agree
#: (``experiments/bench_members.py``). A member costs ~1.2 s of one core at 5,000 segments,
#: ~0.08 s at 164.
CONSENSUS_RUNS = 120

#: The consensus records how well two halves of its members agree (``split_half``) when each
#: half has at least this many members.
SPLIT_HALF_MIN = 8

#: Above ``fit_sample`` segments (default :data:`CONSENSUS_MAX`) each other segment takes the
#: topic voted by this many of its nearest sampled segments.
ASSIGN_NEIGHBOURS = 15

#: Corpora of at least this many segments fit their consensus members in worker processes
#: (below it, starting the workers costs more than it saves).
PARALLEL_MIN = 1000

#: From this many segments on, each consensus member runs 100 UMAP epochs instead of 200.
FEW_EPOCHS_MIN = 2000

#: UMAP epochs of the 2-D topic map.
MAP_EPOCHS = 200

#: Languages with fewer segments than this are not aligned on their own mean alone: their
#: mean is shrunk toward the global mean (a mean of 2 paragraphs is mostly their topic).
MIN_LANGUAGE_SEGMENTS = 5

# Keys that fit_clusters adds to ``params`` as a record; accepted (and ignored) as input so
# that a manifest's params can be passed back.
_RESULT_KEYS = frozenset(
    {
        "aligned",
        "n_languages_aligned",
        "method",
        "max_outliers",
        "random_state",
        "n_topics",
        "outlier_share",
        "outliers_before_reduction",
        "topics_before_merging",
        "coords2d",
        "context",
        "guided",
        "consensus",
        "member_seeds",
        "member_topics",
        "sampled",
    }
)


@dataclass
class ClusterResult:
    """Topics of one clustering run.

    Attributes
    ----------
    labels : numpy.ndarray of int, shape (n,)
        Topic per segment, ``-1`` for outliers; topics are numbered by size (0 = largest,
        ties broken by the first segment index).
    aligned : numpy.ndarray of float32, shape (n, d)
        The language-aligned, L2-normalised embeddings that were clustered.
    coords2d : numpy.ndarray of float, shape (n, 2)
        Seeded 2-D UMAP coordinates of ``aligned`` for the topic map.
    params : dict
        Every resolved setting (JSON-serialisable), including what fallbacks were taken.
    members : numpy.ndarray of int, shape (m, len(member_rows))
        The consensus members' topics on the rows they were fitted on (empty when the corpus
        was too small for them): the stability of each topic is measured against them.
    member_rows : numpy.ndarray of int, optional
        The rows the members cover, sorted: the seeded sample of a sampled fit (see
        ``params["sampled"]``); ``None``: every row.
    """

    labels: np.ndarray
    aligned: np.ndarray
    coords2d: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    members: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    member_rows: np.ndarray | None = None

    def labels_on_member_rows(self) -> np.ndarray:
        """:attr:`labels` on the rows the members cover (what they are compared with)."""
        return self.labels if self.member_rows is None else self.labels[self.member_rows]


def default_params(n: int) -> dict[str, Any]:
    """Clustering parameters scaled to the corpus size.

    Parameters
    ----------
    n : int
        Number of segments to cluster.

    Returns
    -------
    dict
        ``n_neighbors`` (UMAP, sqrt(n)/5 clipped to [10, 30]), ``n_components`` (5),
        ``min_dist`` (0.0), ``metric`` ("cosine"), ``pca_components`` (PCA before UMAP),
        ``min_cluster_size`` (HDBSCAN; max(8, n/250): deliberately small, HDBSCAN
        over-splits and ``merge_threshold`` (0.4, centroid cosine) joins the fragments),
        ``min_samples`` (5), ``cluster_selection_method`` ("eom"),
        ``project_language_directions`` (alignment step 2), ``fallback_k`` (0 = chosen by
        silhouette when HDBSCAN finds < 2 topics), ``context_weight`` (0.5: weight of the
        neighbouring paragraphs of the same document when ``groups`` are given),
        ``article_weight``/``article_size`` (1.0 / 10: weight of the document's mean,
        scaled down for documents longer than 10 paragraphs) and
        ``guide_weight`` (2.0: weight of the codebook theme posterior when ``guide`` is
        given); the consensus settings (see :func:`consensus_partition`):
        ``consensus_runs`` (member clusterings: :data:`CONSENSUS_RUNS` up to 6,000
        segments, fewer for larger corpora fitted without a sample, at least 12; each member
        is a seeded UMAP, whose result is a chaotic function of the last digits of its input,
        so only the members' agreement is reproducible and its Monte-Carlo error shrinks
        with their number),
        ``consensus_noise`` (0.01: relative norm of each member's own perturbation of the
        reduced features),
        ``consensus_epochs`` (UMAP epochs per member: 200 below
        :data:`FEW_EPOCHS_MIN` segments, 100 from there on, as umap itself runs fewer epochs
        on larger data, whose epochs hold more edges; on 5,000 SIB-200 sentences members of
        100 epochs agree with each other as well as members of 200, at half the cost),
        ``consensus_max`` (the co-association matrix is built on at most this many
        segments; the others join by the members' vote), ``consensus_cut`` ([0.6, 0.9]:
        the range of co-association distances in which the dendrogram is cut, at the
        highest level that is at least ``consensus_margin`` (0.05) from every merge (the
        top of the range is also taken when only merges of groups smaller than twice
        ``min_cluster_size`` are near it): two topics stay apart only if most members
        separate them, so a split that half the members make is merged instead of
        flipping with float noise), ``consensus_fallback`` ([0.5, 0.95]: when the merge
        heights leave no such level, the level in this range whose partition agrees best
        with the members, mean ARI; a number instead: that fixed level) and ``n_jobs``
        (0: the members of a corpus of at least
        :data:`PARALLEL_MIN` segments are fitted in one worker process per usable core; the
        topics do not depend on it), ``fit_sample`` (6,000: above this many segments the
        PCA, the members, their consensus and the topic map are fitted on a seeded sample of
        this size, with the size-scaled settings of the sample, and every other segment
        takes the topic of its :data:`ASSIGN_NEIGHBOURS` nearest sampled segments; 0 = fit
        on every segment).

    Examples
    --------
    >>> default_params(150)["min_cluster_size"], default_params(100_000)["min_cluster_size"]
    (8, 400)

    This function is long because its docstring documents every setting; the code is one dict.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    n_neighbors = int(np.clip(round(math.sqrt(max(n, 1)) / 5), 10, 30))
    min_cluster_size = int(max(8, round(n / 250)))
    return {
        "n_neighbors": n_neighbors,
        "n_components": 5,
        "min_dist": 0.0,
        "metric": "cosine",
        "pca_components": 50,
        "min_cluster_size": min_cluster_size,
        "min_samples": 5,
        "cluster_selection_method": "eom",
        "merge_threshold": 0.4,
        "project_language_directions": True,
        "fallback_k": 0,
        "context_weight": 0.5,
        "article_weight": 1.0,
        "article_size": 10,
        "guide_weight": 2.0,
        "consensus_runs": int(
            np.clip(round(CONSENSUS_RUNS * math.sqrt(6000 / max(n, 1))), 12, CONSENSUS_RUNS)
        ),
        "consensus_noise": 0.01,
        "consensus_epochs": 200 if n < FEW_EPOCHS_MIN else 100,
        "consensus_max": CONSENSUS_MAX,
        "consensus_cut": [0.6, 0.9],
        "consensus_margin": 0.05,
        "consensus_fallback": [0.5, 0.95],
        "n_jobs": 0,
        "fit_sample": CONSENSUS_MAX,
    }


def _normalise(X: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Rows scaled to unit length (zero rows kept), as float32; ``in_place`` divides ``X``
    itself, block by block of rows (same floats, no second array of its size).
    """
    if not in_place:
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (X / norms).astype(np.float32, copy=False)
    for rows in row_blocks(len(X)):
        norms = np.linalg.norm(X[rows], axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        X[rows] /= norms
    return X.astype(np.float32, copy=False)


def _with_context(
    X: np.ndarray,
    groups: Sequence[object],
    weight: float,
    article_weight: float = 0.0,
    article_size: int = 10,
) -> np.ndarray:
    """Each row read in context: ``X`` plus ``weight`` times the mean of its previous and next
    row in the same group, plus the group's mean times ``article_weight`` scaled by
    ``min(1, article_size / group size)``: a short document (a news item, a press release)
    is mostly about one thing, a long paper covers several.
    """
    g = group_keys(groups)
    if article_weight:
        means, inverse = group_means(X, g)
        sizes = np.bincount(inverse, minlength=len(means))
        scale = article_weight * np.minimum(1.0, article_size / sizes[inverse])
    out = np.empty(X.shape, dtype=np.float32)
    # Block by block of rows, in float64: the floats of X + weight * (neighbour mean) +
    # scale * (group mean) computed on the whole array, without (n, d) float64 arrays.
    for rows in row_blocks(len(X)):
        nb, cnt = neighbour_sum(X, g, rows)
        block = X[rows] + weight * nb / np.maximum(cnt, 1)
        if article_weight:
            block += scale[rows, None] * means[inverse[rows]]
        out[rows] = _normalise(block.astype(np.float32))
    return out


def align_languages(
    embeddings: np.ndarray,
    languages: Sequence[str] | np.ndarray,
    *,
    min_segments: int = MIN_LANGUAGE_SEGMENTS,
    project_directions: bool = True,
) -> np.ndarray:
    """Remove language identity from multilingual embeddings.

    1. Per-language mean centering: each language's mean vector is subtracted. A language
       with ``m`` segments uses the shrunk mean ``(m * mean_l + k * mean_all) / (m + k)``
       with ``k = min_segments``, so a language with one or two segments is mostly centred on
       the global mean instead of having its topic erased.
    2. If at least two languages have ``min_segments`` segments and ``project_directions``:
       the directions spanned by the (uncentred) language means are projected out of every
       vector, so no linear trace of the language offsets is left.
    3. Rows are L2-normalised again.

    Parameters
    ----------
    embeddings : numpy.ndarray, shape (n, d)
        Sentence embeddings (any scale; usually L2-normalised).
    languages : sequence of str, length n
        Language code per row.
    min_segments : int, default 5
        Languages with fewer segments are shrunk toward the global mean and do not count as
        a separate language for step 2.
    project_directions : bool, default True
        Do step 2.

    Returns
    -------
    numpy.ndarray of float32, shape (n, d)
        Aligned, L2-normalised embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(4, dtype="float32")[[0, 1, 2, 3]] + np.array([[5, 0, 0, 0]] * 2 + [[0] * 4] * 2)
    >>> align_languages(X, ["ky", "ky", "ru", "ru"], min_segments=1).shape
    (4, 4)

    This function is long because its docstring documents the three steps; the code is
    about 40 lines.
    """
    X = np.asarray(embeddings)
    X = X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (n, d), got shape {X.shape}")
    langs = np.asarray([str(x) for x in languages], dtype=object)
    if len(langs) != len(X):
        raise ValueError(
            f"languages has {len(langs)} entries but embeddings has {len(X)} rows; "
            "pass one language code per embedding row"
        )
    if len(X) == 0:
        return X.astype(np.float32)
    # Means in float64; rows centred, projected and normalised in float64 block by block into
    # a float32 result: the floats of a whole float64 copy, without (n, d) float64 arrays.
    global_mean = X.mean(axis=0, dtype=np.float64)
    names = sorted(set(langs.tolist()))
    index = {name: j for j, name in enumerate(names)}
    code = np.asarray([index[x] for x in langs], dtype=np.intp) if len(names) > 1 else None
    shrunk, means = np.empty((len(names), X.shape[1])), []
    for j in range(len(names)):
        mask = slice(None) if code is None else code == j  # one language: no copy
        m = len(X) if code is None else int(mask.sum())
        mean = X[mask].mean(axis=0, dtype=np.float64)
        shrunk[j] = (m * mean + min_segments * global_mean) / (m + min_segments)
        if m >= min_segments:
            means.append(mean)
    basis = None
    if project_directions and len(means) >= 2:
        M = np.stack(means) - np.mean(means, axis=0)
        # Orthonormal basis of the span of the language offsets (rank <= n_languages - 1).
        U, s, _ = np.linalg.svd(M.T, full_matrices=False)
        basis = U[:, s > 1e-8 * max(s.max(), 1e-12)]
    out = np.empty(X.shape, dtype=np.float32)
    for rows in row_blocks(len(X)):
        block = X[rows].astype(np.float64)
        block -= shrunk[0] if code is None else shrunk[code[rows]]
        if basis is not None:
            block -= (block @ basis) @ basis.T
        out[rows] = _normalise(block, in_place=True)
    return out


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber topics by size, descending; ties by first occurrence; ``-1`` kept.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (n,)

    Returns
    -------
    numpy.ndarray of int64, shape (n,)

    Examples
    --------
    >>> canonical_labels(np.array([5, 5, -1, 2, 2, 2, 7])).tolist()
    [1, 1, -1, 0, 0, 0, 2]
    """
    labels = np.asarray(labels)
    out = np.full(labels.shape, -1, dtype=np.int64)
    keys = []
    for k in np.unique(labels):
        if k < 0:
            continue
        idx = np.flatnonzero(labels == k)
        keys.append((-len(idx), int(idx[0]), k))
    for new, (_, _, k) in enumerate(sorted(keys)):
        out[labels == k] = new
    return out


def _centroids(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ks = np.array(sorted(k for k in np.unique(labels) if k >= 0), dtype=np.int64)
    C = (
        np.stack([X[labels == k].mean(axis=0) for k in ks])
        if len(ks)
        else np.zeros((0, X.shape[1]))
    )
    return ks, _normalise(C)


def reduce_outliers(
    aligned: np.ndarray, labels: np.ndarray, max_outliers: float = 0.05
) -> np.ndarray:
    """Assign outliers to the most similar topic centroid until few enough remain.

    Outliers are ranked by their cosine similarity to the nearest topic centroid (in the
    aligned space); the most similar ones are assigned first, and the
    ``floor(max_outliers * n)`` least similar stay ``-1``.

    Parameters
    ----------
    aligned : numpy.ndarray, shape (n, d)
        L2-normalised embeddings.
    labels : numpy.ndarray of int, shape (n,)
        Topics with ``-1`` for outliers.
    max_outliers : float, default 0.05
        Largest share of ``-1`` left, in [0, 1].

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        New labels (topic ids unchanged; only outliers are reassigned).
    """
    if not 0.0 <= max_outliers <= 1.0:
        raise ValueError(f"max_outliers must be in [0, 1], got {max_outliers}")
    labels = np.asarray(labels, dtype=np.int64).copy()
    out_idx = np.flatnonzero(labels < 0)
    keep = int(math.floor(max_outliers * len(labels) + 1e-9))
    if len(out_idx) <= keep:
        return labels
    ks, C = _centroids(np.asarray(aligned, dtype=np.float32), labels)
    if len(ks) == 0:
        return labels
    # In float64: the nearest centroid and the order of the outliers then do not depend on
    # the BLAS kernel (a float32 product differs between kernels in the 7th digit).
    sims = np.asarray(aligned[out_idx], dtype=np.float64) @ C.T.astype(np.float64)
    best = sims.argmax(axis=1)
    score = sims[np.arange(len(out_idx)), best]
    # Stable sort on (-similarity, index) keeps the result deterministic under ties.
    order = np.lexsort((out_idx, -score))
    n_assign = len(out_idx) - keep
    chosen = order[:n_assign]
    labels[out_idx[chosen]] = ks[best[chosen]]
    return labels


def merge_similar(aligned: np.ndarray, labels: np.ndarray, threshold: float = 0.4) -> np.ndarray:
    """Merge topics whose centroids are near-duplicates.

    Repeatedly merges the two topics with the most similar centroids (cosine, in the
    centred, aligned space) while that similarity is at least ``threshold`` and more than
    two topics remain. Merging never separates segments that were together, so it can only
    raise cross-lingual agreement; HDBSCAN is run with a small ``min_cluster_size`` and this
    step joins the fragments it splits a broad topic into.

    Parameters
    ----------
    aligned : numpy.ndarray, shape (n, d)
        Centred, L2-normalised embeddings (centroid cosines are only meaningful there).
    labels : numpy.ndarray of int, shape (n,)
        Topics, ``-1`` for outliers (left as they are).
    threshold : float, default 0.4
        Centroid cosine similarity at or above which two topics are merged; ``>= 1``
        disables merging.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Labels where a merged topic takes the id of the larger of the two (ties: smaller id).
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    aligned = np.asarray(aligned, dtype=np.float32)
    ks = [int(k) for k in np.unique(labels) if k >= 0]
    sums = {k: aligned[labels == k].sum(axis=0).astype(np.float64) for k in ks}
    sizes = {k: int((labels == k).sum()) for k in ks}
    while len(ks) > 2:
        C = np.stack([sums[k] / (np.linalg.norm(sums[k]) or 1.0) for k in ks])
        S = C @ C.T
        np.fill_diagonal(S, -np.inf)
        i, j = np.unravel_index(int(np.argmax(S)), S.shape)
        if S[i, j] < threshold:
            break
        a, b = ks[i], ks[j]
        keep, drop = (a, b) if (sizes[a], -a) >= (sizes[b], -b) else (b, a)
        labels[labels == drop] = keep
        sums[keep] += sums.pop(drop)
        sizes[keep] += sizes.pop(drop)
        ks.remove(drop)
    return labels


def _member_seeds(random_state: int, k: int) -> list[int]:
    rng = np.random.default_rng(random_state)
    return [int(x) for x in rng.integers(0, 2**31 - 1, size=k)]


def _perturb(Z: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """``Z`` plus Gaussian noise of relative norm ``scale`` per row (seeded)."""
    if scale <= 0:
        return Z
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(Z.shape)
    noise /= np.maximum(np.linalg.norm(noise, axis=1, keepdims=True), 1e-12)
    noise *= scale * np.linalg.norm(Z, axis=1, keepdims=True)
    return (Z + noise).astype(Z.dtype)


def _member(
    features: np.ndarray,
    reduced: np.ndarray,
    p: Mapping[str, Any],
    seed: int,
    max_outliers: float,
    cand: np.ndarray | None = None,
) -> tuple[np.ndarray, int, float]:
    """One member clustering: perturbed reduced features -> seeded UMAP (neighbours searched
    among ``cand``, see :func:`topics._umap.candidates`) -> HDBSCAN -> outlier reduction ->
    merging. Returns labels, topics before merging, raw outlier share.
    """
    import hdbscan

    Z = _perturb(reduced, float(p["consensus_noise"]), seed)
    epochs = int(p["consensus_epochs"]) or None
    U = _umap.layout(Z, p, seed, int(p["n_components"]), float(p["min_dist"]), epochs, cand)
    labels = (
        hdbscan.HDBSCAN(
            min_cluster_size=int(p["min_cluster_size"]),
            min_samples=int(p["min_samples"]),
            metric="euclidean",
            cluster_selection_method=str(p["cluster_selection_method"]),
        )
        .fit_predict(U)
        .astype(np.int64)
    )
    before = int(len(set(labels.tolist()) - {-1}))
    raw_outliers = float(np.mean(labels < 0))
    labels = reduce_outliers(features, labels, max_outliers)
    labels = merge_similar(features, labels, float(p["merge_threshold"]))
    return labels, before, raw_outliers


def _n_jobs(n_jobs: int, n_tasks: int) -> int:
    """Worker processes for the members: ``n_jobs`` (<= 0: every usable core), at most one per
    member.
    """
    from topics._rows import usable_cores

    if n_jobs <= 0:
        n_jobs = usable_cores()
    return max(1, min(int(n_jobs), n_tasks))


def _run_members(
    features: np.ndarray,
    reduced: np.ndarray,
    p: Mapping[str, Any],
    seeds: Sequence[int],
    max_outliers: float,
    progress: bool = False,
) -> list[tuple[np.ndarray, int, float]]:
    """All members, in worker processes when the corpus is large enough to pay for them
    (with a progress bar over the members when ``progress``).

    Each member depends only on its own seed, so the result is the same however the members
    are spread over processes. The members' neighbour candidates are searched once, here.
    """
    from tqdm.auto import tqdm

    cand = None
    n = len(reduced)
    if p.get("metric", "cosine") == "cosine" and 2 < n <= _umap.EXACT_KNN_MAX:
        cand = _umap.candidates(reduced, int(min(p["n_neighbors"], n - 1)))
    jobs = _n_jobs(int(p.get("n_jobs", 0)), len(seeds))
    if jobs == 1 or len(features) < PARALLEL_MIN:
        outs = (_member(features, reduced, p, s, max_outliers, cand) for s in seeds)
    else:
        from joblib import Parallel, delayed

        p = dict(p)
        # Yielded in seed order, each as soon as it and those before it are done.
        outs = Parallel(n_jobs=jobs, backend="loky", return_as="generator")(
            delayed(_member)(features, reduced, p, s, max_outliers, cand) for s in seeds
        )
    bar = tqdm(outs, total=len(seeds), desc="consensus members", unit="member", leave=False,
               disable=not progress)  # fmt: skip
    return list(bar)


def _robust_cut(
    heights: np.ndarray, lo: float, hi: float, min_margin: float = 0.05
) -> float | None:
    """The highest dendrogram level in ``[lo, hi]`` at least ``min_margin`` from every merge.

    No merge sits near such a cut, so the Monte-Carlo error of the co-associations (the
    members are random draws) cannot move a merge across it, and of the robust levels the
    coarsest is taken (a split that many members do not make is merged). ``None`` when the
    merge heights are dense everywhere in ``[lo, hi]`` (a corpus with a continuum of
    sub-topics: the caller chooses, see :func:`_agreement_cut`). Without any merge, ``hi``.
    """
    h = np.unique(np.round(np.asarray(heights, dtype=np.float64), 9))
    if len(h) == 0:  # no merge to keep away from: every level is robust
        return float(hi)
    grid = np.round(np.arange(round(hi * 1000), round(lo * 1000) - 1, -1) / 1000.0, 3)
    margin = np.min(np.abs(grid[:, None] - h[None, :]), axis=1)
    ok = np.flatnonzero(margin >= min_margin - 1e-12)
    return float(grid[ok[0]]) if len(ok) else None


def _ari(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings: scikit-learn's pair-counting formula on exact
    integer counts (the same float), without its input checks and sparse contingency table,
    which cost ~100x more and dominate :func:`_agreement_cut`'s thousands of calls.
    """
    a, b = _codes(a), _codes(b)
    n = len(a)
    cont = np.bincount(a * (int(b.max(initial=0)) + 1) + b)
    squares = int(np.dot(cont, cont))
    rows = np.bincount(a)
    cols = np.bincount(b)
    tp = squares - n
    fp = int(np.dot(cols, cols)) - squares
    fn = int(np.dot(rows, rows)) - squares
    tn = n * n - fp - fn - squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _codes(labels: np.ndarray) -> np.ndarray:
    """Labels as small non-negative int64 codes with the same groups: shifted by their
    minimum when they are integers in a narrow range (topic ids, -1 for outliers; no sort),
    else their index in ``np.unique``. Gaps between codes leave empty cells in the counts,
    which change none of the sums of squares.
    """
    x = np.asarray(labels).ravel()
    if x.dtype.kind in "iub" and len(x):
        lo, hi = int(x.min()), int(x.max())
        if hi - lo <= 4 * len(x) + 16:
            return x.astype(np.int64) - lo
    return np.unique(x, return_inverse=True)[1].ravel().astype(np.int64)


def _ari_to_members(labels: np.ndarray, members: np.ndarray) -> float:
    """Mean adjusted Rand index of ``labels`` with each member (outliers as one label)."""
    return float(np.mean([_ari(row, labels) for row in members]))


def _agreement_cut(
    Z: np.ndarray, members: np.ndarray, lo: float, hi: float, step: float = 0.01
) -> tuple[float, float]:
    """The level in ``[lo, hi]`` (a grid of ``step``) whose partition agrees best with the
    members (highest mean ARI; ties: the higher level), and that agreement.

    Used when the merges leave no robust gap: the partition that best represents the
    ensemble (the "median partition" criterion of cluster ensembles) is a smooth function
    of the members' distribution, so it moves little when another draw of members (another
    CPU, another float) replaces them, whereas a fixed level can sit on a merge.
    """
    from scipy.cluster.hierarchy import fcluster

    best = (-np.inf, hi)
    for k in range(int(round(hi / step)), int(round(lo / step)) - 1, -1):
        level = round(k * step, 6)
        labels = fcluster(Z, t=level, criterion="distance")
        score = _ari_to_members(labels, members)
        if score > best[0] + 1e-12:
            best = (score, level)
    return float(best[1]), float(best[0])


def consensus_partition(
    members: np.ndarray,
    *,
    cut: Sequence[float] = (0.6, 0.9),
    min_margin: float = 0.05,
    fallback: float | Sequence[float] = (0.5, 0.95),
    max_size: int = CONSENSUS_MAX,
    random_state: int = 0,
    min_size: int = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """One partition agreed by an ensemble of clusterings (evidence accumulation).

    The co-association of two segments is the share of members that put both in the same
    topic (outliers join nothing). Average-linkage clustering of ``1 - co-association`` is cut
    at the highest level in ``cut`` that is at least ``min_margin`` from every merge
    (:func:`_robust_cut`), or, when there is no such level, at the level of the ``fallback``
    range whose partition agrees best with the members (:func:`_agreement_cut`): a topic
    boundary is kept where most members agree and the number of topics does not hinge on a
    threshold that float noise can cross. Co-associations are integer counts, so the linkage sees
    exact values and breaks ties by segment order (never by float order).

    With more than ``max_size`` segments, the matrix is built on a seeded sample of
    ``max_size`` segments; every other segment takes the consensus topic that the members
    vote for (each member's topics mapped to the consensus topic they overlap most on the
    sample).

    Parameters
    ----------
    members : numpy.ndarray of int, shape (m, n)
        Topics of each member clustering (``-1`` = outlier).
    cut : (float, float), default (0.6, 0.9)
        Range of co-association distance in which the dendrogram is cut.
    min_margin : float, default 0.05
        Smallest distance between the cut and any merge height.
    fallback : (float, float) or float, default (0.5, 0.95)
        When no level in ``cut`` has that margin: the range searched for the level whose
        partition has the highest mean ARI with the members; a float is used as a fixed
        level instead.
    max_size : int, default :data:`CONSENSUS_MAX`
    random_state : int, default 0
        Seeds the sample (only used when ``n > max_size``).
    min_size : int, default 1
        When no level has the margin from every merge, the top of ``cut`` is still taken if
        it has the margin from every merge whose smaller side has at least ``min_size``
        segments (rule ``"margin-groups"``): in a corpus with clear topics, a few stragglers
        joining a topic near the cut move a handful of segments, not a topic, and should
        not send the cut to the fallback. Lower levels are not taken this way: there, merges
        of groups just under ``min_size`` are how sub-topics come and go.

    Returns
    -------
    labels : numpy.ndarray of int64, shape (n,)
        Consensus topics (arbitrary ids >= 0; see :func:`canonical_labels`).
    info : dict
        ``cut`` (the level used), ``margin`` (its distance to the nearest merge),
        ``sample`` (segments in the co-association matrix), ``rule`` (``"margin"``,
        ``"margin-groups"``, ``"agreement"`` or ``"fixed"``) and for the agreement rule
        ``agreement`` (the mean ARI with the members).

    Examples
    --------
    >>> m = np.array([[0, 0, 1, 1, 2], [0, 0, 1, 1, 1], [5, 5, 7, 7, 7]])
    >>> consensus_partition(m)[0].tolist()
    [0, 0, 1, 1, 1]

    This function is long because its docstring documents every parameter; the code is under 50
    lines.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    members = np.asarray(members, dtype=np.int64)
    m, n = members.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64), {"cut": None, "margin": None, "sample": 0}
    if n == 1:
        return np.zeros(1, dtype=np.int64), {"cut": None, "margin": None, "sample": 1}
    if n > max_size:
        rng = np.random.default_rng(random_state)
        sample = np.sort(rng.choice(n, size=max_size, replace=False))
    else:
        sample = np.arange(n)
    sub = members[:, sample]
    ns = len(sample)
    dist = _apart_counts(sub) / float(m)
    Z = linkage(dist, method="average")
    lo, hi = float(cut[0]), float(cut[1])
    level = _robust_cut(Z[:, 2], lo, hi, min_margin)
    rule, agreement = "margin", None
    if level is None and min_size > 1:
        # Only stragglers' merges near the top of the range: the topics are clear.
        top = _robust_cut(Z[_smaller_side(Z) >= min_size, 2], lo, hi, min_margin)
        if top is not None and top >= hi - 1e-9:
            level, rule = top, "margin-groups"
    if level is None:
        if isinstance(fallback, (int, float)):
            level, rule = float(fallback), "fixed"
        else:
            level, agreement = _agreement_cut(Z, sub, float(fallback[0]), float(fallback[1]))
            rule = "agreement"
    margin = float(np.min(np.abs(Z[:, 2] - level))) if len(Z) else float("nan")
    sample_labels = fcluster(Z, t=level, criterion="distance").astype(np.int64) - 1
    labels = np.full(n, -1, dtype=np.int64)
    labels[sample] = sample_labels
    if ns < n:
        rest = np.setdiff1d(np.arange(n), sample)
        labels[rest] = _members_vote(members, sample, sample_labels, rest)
    info = {"cut": round(level, 6), "margin": round(margin, 6), "sample": int(ns), "rule": rule}
    if agreement is not None:
        info["agreement"] = round(agreement, 6)
    return labels, info


def _smaller_side(Z: np.ndarray) -> np.ndarray:
    """Segments on the smaller side of each merge of a scipy linkage matrix."""
    n = len(Z) + 1
    size = np.ones(2 * n - 1)
    size[n:] = Z[:, 3]
    return np.minimum(size[Z[:, 0].astype(np.int64)], size[Z[:, 1].astype(np.int64)])


def _members_vote(
    members: np.ndarray, sample: np.ndarray, sample_labels: np.ndarray, rest: np.ndarray
) -> np.ndarray:
    """Consensus topic of each ``rest`` segment: the members vote, each member's topic mapped
    to the consensus topic it overlaps most on the sample (ties: the smaller topic id).
    """
    k = int(sample_labels.max()) + 1
    votes = np.zeros((len(rest), k + 1), dtype=np.int64)  # last column: outlier
    for row in members:
        # lookup[t + 1]: the consensus topic member topic t overlaps most on the sample
        # (k, the outlier column, for -1 and for topics absent from the sample).
        lookup = np.full(int(row.max()) + 2, k, dtype=np.int64)
        for t in np.unique(row[sample]):
            if t < 0:
                continue
            overlap = np.bincount(sample_labels[row[sample] == t], minlength=k)
            lookup[t + 1] = int(np.argmax(overlap))
        votes[np.arange(len(rest)), lookup[row[rest] + 1]] += 1
    best = np.argmax(votes, axis=1)  # ties: the smaller topic id
    return np.where(best == k, -1, best)


def _apart_counts(members: np.ndarray) -> np.ndarray:
    """Condensed counts (0..m) of the members that put each pair of segments apart (an
    outlier is apart from everything), in :func:`scipy.spatial.distance.pdist` order.

    The members' topics are stacked as one-hot columns, so the "together" counts of every
    pair come from one matrix product (exact: sums of at most ``m`` ones in float32).
    """
    from scipy.spatial.distance import squareform

    m, n = members.shape
    blocks = []
    for row in members:
        ids, codes = np.unique(row, return_inverse=True)
        H = np.zeros((n, len(ids)), dtype=np.float32)
        H[np.arange(n), codes.ravel()] = 1.0
        blocks.append(H[:, ids >= 0])
    H = np.hstack(blocks)
    together = H @ H.T
    apart = (m - np.rint(together)).astype(np.int32)
    np.fill_diagonal(apart, 0)
    return squareform(apart, checks=False)


def _drop_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    labels = labels.copy()
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    for k, c in zip(ids, counts, strict=True):
        if c < min_size:
            labels[labels == k] = -1
    return labels


def _fallback_partition(X: np.ndarray, k: int, random_state: int) -> tuple[np.ndarray, int]:
    """Agglomerative (Ward) clustering; ``k = 0`` picks k in [2, 10] by silhouette."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    n = len(X)
    if n < 3:
        return np.zeros(n, dtype=np.int64), 1
    if k:
        k = min(k, n - 1)
        return AgglomerativeClustering(n_clusters=k).fit_predict(X).astype(np.int64), k
    best = (-2.0, 2, None)
    for cand in range(2, min(10, n - 1) + 1):
        lab = AgglomerativeClustering(n_clusters=cand).fit_predict(X)
        score = silhouette_score(X, lab, metric="cosine")
        if score > best[0] + 1e-9:
            best = (score, cand, lab)
    return best[2].astype(np.int64), best[1]


def fit_clusters(
    embeddings: np.ndarray,
    *,
    languages: Sequence[str] | np.ndarray | None = None,
    random_state: int = 0,
    params: Mapping[str, Any] | None = None,
    max_outliers: float = 0.05,
    compute_coords: bool = True,
    groups: Sequence[object] | None = None,
    guide: np.ndarray | None = None,
    progress: bool = False,
) -> ClusterResult:
    """Cluster embeddings into topics.

    Steps: language alignment (:func:`align_languages`; with ``languages=None`` or a single
    language only the global mean is removed) → clustering features (context, guidance) →
    PCA → ``consensus_runs`` member clusterings, each with its own seed and its own small
    perturbation of the reduced features (seeded UMAP → HDBSCAN → outlier reduction
    (:func:`reduce_outliers`) → merging of near-duplicate topics (:func:`merge_similar`)) →
    their consensus (:func:`consensus_partition`; ``params["consensus"]`` records its cut and,
    with at least 16 members, ``split_half``: how the consensus of the even and of the odd
    members agree) → topics smaller than
    ``min_cluster_size`` become outliers, outlier reduction → canonical numbering
    (:func:`canonical_labels`) → a seeded 2-D UMAP for the topic map. Agglomerative
    clustering is the fallback for a tiny corpus or a consensus of fewer than 2 topics.

    The consensus makes the topics robust to float noise: embeddings computed by another
    CPU or another build of the model change each single UMAP/HDBSCAN fit (a chaotic function
    of the last digits), but not how often two segments end up together across members. From
    the same embeddings every step computes the same floats on every CPU path (float64 where
    BLAS is involved, rounded PCA features, UMAP's descent compiled without ``fastmath``: see
    :func:`topics._umap.layout`), so the members themselves are reproduced.

    Parameters
    ----------
    embeddings : numpy.ndarray, shape (n, d)
        Sentence embeddings.
    languages : sequence of str, length n, optional
        Language per row. ``None`` (or a single language with >= 5 segments) skips the
        per-language alignment; the embeddings are only centred and L2-normalised.
    random_state : int, default 0
        Seeds PCA, UMAP and the fallback; the same inputs and seed give identical labels.
    params : mapping, optional
        Overrides of :func:`default_params` (missing keys take the scaled defaults).
    max_outliers : float, default 0.05
        At most this share of segments is left as ``-1``.
    compute_coords : bool, default True
        Compute ``coords2d`` (a second UMAP); ``False`` returns zeros (for stability runs).
    groups : sequence, length n, optional
        Document (or document/article) of each row, rows in reading order. Each paragraph's
        clustering features then include ``context_weight`` times the mean of its previous
        and next paragraph in the same group: a paragraph is read in its context, which
        steadies the partition (the returned ``aligned`` embeddings stay unsmoothed).
    guide : numpy.ndarray, shape (n, T), optional
        Codebook guidance: each row's theme posterior (see
        :func:`topics.themes.theme_posterior`), appended to the features with weight
        ``guide_weight`` (like BERTopic's guided topic modelling, which nudges embeddings
        toward seed topics). Topics then follow the codebook where the text supports it.
    progress : bool, default False
        Show a progress bar over the consensus members (most of the stage's time).

    Returns
    -------
    ClusterResult

    This function is long because its docstring documents every parameter; the code is a
    composition of the steps above in about 50 lines.
    """
    X = _checked(embeddings, max_outliers)
    n = len(X)
    random_state = int(random_state)
    p = resolve_params(n, params)
    aligned, features = _features(X, languages, groups, guide, p)
    sample = _fit_sample(n, p, random_state)
    rows = slice(None) if sample is None else sample
    labels, members, reduced, method = _partition(
        features, rows, sample, p, max_outliers, random_state, progress
    )
    fit_n = n if sample is None else len(sample)
    want_map = compute_coords and fit_n >= 4
    if reduced is None and (want_map or sample is not None):
        reduced = _umap.pca(features, p, random_state, fit_rows=sample)
    coords = None
    if want_map:
        coords = _topic_map(reduced[rows], p, random_state)
    if sample is not None:
        labels, coords = _assign_rest(reduced, sample, labels, coords)
    if "outliers_before_reduction" not in p:
        p["outliers_before_reduction"] = float(np.mean(labels < 0)) if n else 0.0
        p["topics_before_merging"] = int(len(set(labels.tolist()) - {-1}))
    labels = reduce_outliers(features, labels, max_outliers)
    labels = canonical_labels(labels)
    if coords is None:
        coords = np.zeros((n, 2))
    p.update(
        {
            "method": method,
            "max_outliers": float(max_outliers),
            "random_state": random_state,
            "n_topics": int(len(set(labels.tolist()) - {-1})),
            "outlier_share": float(np.mean(labels < 0)) if n else 0.0,
            "coords2d": "umap(n_components=2, min_dist=0.1, metric=cosine)"
            + ("" if sample is None else "; other segments: mean of their nearest sampled"),
        }
    )
    return ClusterResult(
        labels=labels, aligned=aligned, coords2d=coords, params=p, members=members,
        member_rows=sample,
    )  # fmt: skip


def _checked(embeddings: np.ndarray, max_outliers: float) -> np.ndarray:
    X = np.asarray(embeddings, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (n, d), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("embeddings contain NaN or infinite values; re-embed the segments")
    if not 0.0 <= max_outliers <= 1.0:
        raise ValueError(f"max_outliers must be in [0, 1], got {max_outliers}")
    return X


def _partition(
    features: np.ndarray,
    rows: slice | np.ndarray,
    sample: np.ndarray | None,
    p: dict[str, Any],
    max_outliers: float,
    random_state: int,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """Topics of ``features[rows]``: the consensus of the members, or agglomerative
    clustering for a tiny corpus or a consensus of fewer than 2 topics. Returns labels,
    members, the PCA features of every row (``None`` when not computed) and the method.
    """
    n = len(features)
    fit_n = n if sample is None else len(sample)
    members = np.zeros((0, fit_n), dtype=np.int64)
    if n == 0:
        return np.zeros(0, dtype=np.int64), members, None, "consensus"
    if fit_n < max(15, int(p["min_cluster_size"]) * 2):
        # Too few segments for UMAP + density clustering.
        labels, k = _fallback_partition(features[rows], int(p["fallback_k"]), random_state)
        return labels, members, None, f"agglomerative(k={k})"
    reduced = _umap.pca(features, p, random_state, fit_rows=sample)
    labels, members = _consensus_topics(
        features[rows], reduced[rows], p, max_outliers, random_state, progress
    )
    method = "consensus"
    if len(set(labels.tolist()) - {-1}) < 2:
        labels, k = _fallback_partition(features[rows], int(p["fallback_k"]), random_state)
        method = f"agglomerative(k={k}) after the consensus found < 2 topics"
    return labels, members, reduced, method


def _topic_map(reduced: np.ndarray, p: dict[str, Any], random_state: int) -> np.ndarray:
    """Seeded 2-D UMAP of the (PCA) features for the topic map."""
    # A map is a picture, not a finding: 200 epochs (umap's own choice above 10,000 points)
    # draw it as well as the 500 umap gives a smaller corpus, in 40% of the time.
    params = {**p, "n_neighbors": min(p["n_neighbors"], 15)}
    return _umap.layout(reduced, params, random_state, 2, 0.1, MAP_EPOCHS)


def resolve_params(n: int, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every clustering setting for ``n`` segments: :func:`default_params` plus ``params``.

    Above ``fit_sample`` segments the expensive steps are fitted on a sample of that size, so
    the size-scaled defaults (``n_neighbors``, ``min_cluster_size``, ``consensus_runs``) are
    those of the sample; settings given in ``params`` are kept as given. Keys that
    :func:`fit_clusters` records (``method``, ``n_topics``, ...) are accepted and ignored, so a
    manifest's params can be passed back.
    """
    base = default_params(n)
    given = {k: v for k, v in (params or {}).items() if k not in _RESULT_KEYS}
    unknown = set(given) - set(base)
    if unknown:
        raise ValueError(
            f"unknown clustering parameter(s) {sorted(unknown)}; known: {sorted(base)}"
        )
    fit_sample = int(given.get("fit_sample", base["fit_sample"]))
    if fit_sample < 0:
        raise ValueError(f"fit_sample must be >= 0 (0 = fit on every segment), got {fit_sample}")
    p = default_params(min(n, fit_sample)) if 0 < fit_sample < n else base
    p.update(given)
    p["fit_sample"] = fit_sample
    return p


def _features(
    X: np.ndarray,
    languages: Sequence[str] | np.ndarray | None,
    groups: Sequence[object] | None,
    guide: np.ndarray | None,
    p: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Language-aligned embeddings and the clustering features (records what it did in ``p``)."""
    n = len(X)
    n_langs = 0
    if languages is not None:
        if len(languages) != n:
            raise ValueError(f"languages has {len(languages)} entries but embeddings has {n} rows")
        _, counts = np.unique(np.asarray([str(x) for x in languages]), return_counts=True)
        n_langs = int(np.sum(counts >= MIN_LANGUAGE_SEGMENTS))
    if n_langs >= 2:
        aligned = align_languages(
            X, languages, project_directions=bool(p["project_language_directions"])
        )
        p["aligned"] = True
    else:
        # No language alignment, but the common component of all embeddings is removed:
        # e5-style vectors are anisotropic (all cosines ~0.8), which would make the centroid
        # similarities used for merging meaningless.
        aligned = _normalise(X - X.mean(axis=0, keepdims=True), in_place=True) if n else X
        p["aligned"] = False
    p["n_languages_aligned"] = int(n_langs) if n_langs >= 2 else 0

    # Clustering features: the aligned embeddings, read in context, plus codebook guidance.
    features = aligned
    p["context"] = bool(groups is not None and float(p["context_weight"]) > 0 and n > 1)
    p["guided"] = guide is not None
    if guide is not None:
        guide = np.asarray(guide, dtype=np.float32)
        if guide.shape[0] != n:
            raise ValueError(f"guide has {guide.shape[0]} rows but embeddings has {n} rows")
        features = np.hstack([features, float(p["guide_weight"]) * guide])
    if p["context"]:
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries but embeddings has {n} rows")
        features = _with_context(
            features,
            groups,
            float(p["context_weight"]),
            float(p["article_weight"]),
            int(p["article_size"]),
        )
    if features is not aligned:  # an array of this function's own: centred in place
        features -= features.mean(axis=0, keepdims=True)
        features = _normalise(features, in_place=True)
    return aligned, features


def _fit_sample(n: int, p: dict[str, Any], random_state: int) -> np.ndarray | None:
    """Sorted indices of the segments the expensive steps are fitted on (``None``: all)."""
    size = int(p["fit_sample"])
    if size <= 0 or n <= size:
        p["sampled"] = None
        return None
    rng = np.random.default_rng([random_state, 7919])
    sample = np.sort(rng.choice(n, size=size, replace=False))
    p["sampled"] = {
        "size": int(size),
        "of": int(n),
        "method": "uniform seeded sample; every other segment takes the consensus topic "
        f"voted by its {ASSIGN_NEIGHBOURS} nearest sampled segments (cosine, PCA space)",
    }
    return sample


def _consensus_topics(
    features: np.ndarray,
    reduced: np.ndarray,
    p: dict[str, Any],
    max_outliers: float,
    random_state: int,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Members and their consensus on the given rows (records the members in ``p``)."""
    runs = max(1, int(p["consensus_runs"]))
    seeds = _member_seeds(random_state, runs)
    outs = _run_members(features, reduced, p, seeds, max_outliers, progress)
    members = np.stack([o[0] for o in outs])
    p["member_seeds"] = seeds
    p["topics_before_merging"] = [o[1] for o in outs]
    p["outliers_before_reduction"] = float(np.mean([o[2] for o in outs]))
    p["member_topics"] = [int(len(set(o[0].tolist()) - {-1})) for o in outs]
    settings = _consensus_settings(p, random_state)
    labels, info = _kept_consensus(members, p, settings)
    if runs >= 2 * SPLIT_HALF_MIN:
        info["split_half"] = _split_half(features, members, settings, p, max_outliers)
    p["consensus"] = info
    return labels, members


def _consensus_settings(p: Mapping[str, Any], random_state: int) -> dict[str, Any]:
    """:func:`consensus_partition`'s arguments from the clustering settings ``p``."""
    return {
        "cut": tuple(p["consensus_cut"]),
        "min_margin": float(p["consensus_margin"]),
        "fallback": p["consensus_fallback"],
        "max_size": int(p["consensus_max"]),
        "random_state": random_state,
        "min_size": 2 * int(p["min_cluster_size"]),
    }


def _kept_consensus(
    members: np.ndarray, p: Mapping[str, Any], settings: Mapping[str, Any]
) -> tuple[np.ndarray, dict[str, Any]]:
    """The members' consensus with its topics under ``min_cluster_size`` made outliers."""
    labels, info = consensus_partition(members, **settings)
    return _drop_small(labels, int(p["min_cluster_size"])), info


def _split_half(
    features: np.ndarray,
    members: np.ndarray,
    settings: Mapping[str, Any],
    p: Mapping[str, Any],
    max_outliers: float,
) -> dict[str, Any]:
    """How far the consensus is from reproducing itself: the consensus of the even and of
    the odd members, finished as the topics are (small topics to outliers, outlier
    reduction), their ARI and topic counts.

    Embeddings computed on another machine redraw every member, so two machines compare two
    independent draws of members; the two halves are such draws, of half the size (a
    conservative estimate: the Monte-Carlo error shrinks with the number of members).
    """
    halves = [
        reduce_outliers(features, _kept_consensus(members[h::2], p, settings)[0], max_outliers)
        for h in (0, 1)
    ]
    return {
        "ari": round(_ari(halves[0], halves[1]), 4),
        "topics": [int(len(set(x.tolist()) - {-1})) for x in halves],
        "members": [len(members[0::2]), len(members[1::2])],
    }


def _nearest_sampled(
    reduced: np.ndarray, sample: np.ndarray, rest: np.ndarray, k: int, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``sample`` of each ``rest`` row's ``k`` nearest sampled rows (cosine) and
    their similarities, nearest first; ties by sample order. Ranked in float64, so the
    neighbours do not depend on the BLAS kernel.
    """
    S = _umap._unit(reduced[sample])
    k = int(min(k, len(sample)))
    idx = np.empty((len(rest), k), dtype=np.int64)
    sim = np.empty((len(rest), k), dtype=np.float32)
    for start in range(0, len(rest), chunk):
        s = _umap._unit(reduced[rest[start : start + chunk]]) @ S.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        ts = np.take_along_axis(s, top, axis=1)
        order = np.lexsort((top, -ts), axis=1)
        idx[start : start + chunk] = np.take_along_axis(top, order, axis=1)
        sim[start : start + chunk] = np.take_along_axis(ts, order, axis=1)
    return idx, sim


def _vote(neighbour_labels: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Most frequent label per row (``-1`` included); ties: the nearest neighbour's label
    among the tied ones (columns are ordered nearest first).
    """
    lab = np.asarray(neighbour_labels, dtype=np.int64)
    n, k = lab.shape
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    ids, codes = np.unique(lab, return_inverse=True)
    codes = codes.reshape(n, k)
    width = len(ids)
    for start in range(0, n, chunk):
        c = codes[start : start + chunk]
        rows = np.arange(len(c))[:, None]
        counts = np.zeros((len(c), width), dtype=np.int32)
        np.add.at(counts, (np.broadcast_to(rows, c.shape), c), 1)
        per_col = counts[rows, c]  # count of each neighbour's label
        best = np.argmax(per_col == per_col.max(axis=1, keepdims=True), axis=1)
        out[start : start + chunk] = ids[c[np.arange(len(c)), best]]
    return out


def _assign_rest(
    reduced: np.ndarray,
    sample: np.ndarray,
    labels: np.ndarray,
    coords: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Extend topics and map coordinates fitted on ``sample`` to every segment: each other
    segment takes the vote of its nearest sampled segments (and the similarity-weighted mean
    of their map positions).

    The members stay on the sample: the topics' stability is measured there (a uniform
    sample). Extending each member by its own vote cost one vote per member and segment:
    with 120 members at 1,000,000 segments, 136 s of the stage's 482 s.
    """
    n = len(reduced)
    rest = np.setdiff1d(np.arange(n), sample)
    idx, sim = _nearest_sampled(reduced, sample, rest, ASSIGN_NEIGHBOURS)
    full = np.full(n, -1, dtype=np.int64)
    full[sample] = labels
    all_coords = None
    if coords is not None:
        all_coords = np.zeros((n, 2))
        all_coords[sample] = coords
    # Block by block of rows (a row's vote and position are its own): no (n, k) temporaries.
    for rows in row_blocks(len(rest)):
        near, at = idx[rows], rest[rows]
        full[at] = _vote(labels[near])
        if coords is not None:
            w = np.maximum(sim[rows].astype(np.float64), 1e-6)
            all_coords[at] = np.einsum("ij,ijk->ik", w, coords[near]) / w.sum(axis=1, keepdims=True)
    return full, all_coords
