from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from topics import cluster

N_TOPICS, N_LANGS, PER = 4, 3, 40
DIM = 32
#: Eight consensus members instead of the default 30 (a fit costs a quarter): what these
#: tests check (alignment, guidance, determinism, the outlier bound) does not depend on the
#: number of members; on these data 8 and 30 give the same AMI (1.0, seeds 0-2).
FAST = {"consensus_runs": 8}


def _multilingual_blobs(seed: int = 0):
    """Same 4 topics in 3 'languages'; each language adds its own large offset vector.

    Topic centres are random unit vectors (pairwise distance ~1.4), the noise has norm ~0.5
    and each language offset has norm 2: without alignment the language offset dominates
    the geometry, after removing each language's mean the topics are well separated.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_TOPICS, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    offsets = rng.normal(size=(N_LANGS, DIM))
    offsets *= 2.0 / np.linalg.norm(offsets, axis=1, keepdims=True)
    X, topics, langs = [], [], []
    for lang in range(N_LANGS):
        for t in range(N_TOPICS):
            pts = centres[t] + offsets[lang] + rng.normal(scale=0.5 / np.sqrt(DIM), size=(PER, DIM))
            X.append(pts)
            topics += [t] * PER
            langs += [f"l{lang}"] * PER
    X = np.vstack(X).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, np.array(topics), np.array(langs)


@pytest.fixture(scope="module")
def blobs():
    return _multilingual_blobs()


@pytest.fixture(scope="module")
def fitted(blobs):
    X, _, langs = blobs
    return cluster.fit_clusters(X, languages=langs, random_state=0, params=FAST)


@pytest.fixture(scope="module")
def fitted_raw(blobs):
    X, _, _ = blobs
    return cluster.fit_clusters(
        X, languages=None, random_state=0, compute_coords=False, params=FAST
    )


def test_alignment_recovers_topics_across_languages(blobs, fitted):
    _, topics, langs = blobs
    labels = fitted.labels
    # Well-separated blobs: a correct pipeline recovers them almost exactly (AMI ~1);
    # 0.8 leaves room for the <= 10% outliers and a stray split, but not for clustering by
    # language (AMI with topics ~0 then).
    assert adjusted_mutual_info_score(topics, labels) > 0.8
    # The languages mix: language identity explains (almost) nothing of the topics.
    assert adjusted_mutual_info_score(langs, labels) < 0.1
    assert fitted.params["aligned"] is True


def test_without_alignment_clusters_split_by_language(blobs, fitted_raw):
    _, topics, langs = blobs
    labels = fitted_raw.labels
    kept = labels >= 0
    assert adjusted_mutual_info_score(langs[kept], labels[kept]) > 0.5
    # Every topic is split across languages: most clusters hold a single language.
    pure = [len(set(langs[labels == k])) == 1 for k in set(labels[kept].tolist())]
    assert np.mean(pure) > 0.5
    assert fitted_raw.params["aligned"] is False


def test_align_languages_removes_language_means(blobs):
    X, _, langs = blobs
    A = cluster.align_languages(X, langs)
    assert A.dtype == np.float32 and A.shape == X.shape
    np.testing.assert_allclose(np.linalg.norm(A, axis=1), 1.0, rtol=1e-5)
    means = np.stack([A[langs == lang].mean(axis=0) for lang in np.unique(langs)])
    raw_means = np.stack([X[langs == lang].mean(axis=0) for lang in np.unique(langs)])
    spread = np.linalg.norm(means - means.mean(axis=0), axis=1).max()
    raw_spread = np.linalg.norm(raw_means - raw_means.mean(axis=0), axis=1).max()
    assert spread < 0.05 * raw_spread


def test_align_languages_shrinks_rare_language(blobs):
    X, _, langs = blobs
    langs = langs.copy()
    langs[0] = "rare"  # a single segment: its own mean would be the segment itself
    A = cluster.align_languages(X, langs)
    # Centering on its own mean would turn the segment into a zero (then arbitrary) vector;
    # the shrunk mean keeps it close to its topic-mates of the same original language.
    mates = A[1:PER]
    assert float((mates @ A[0]).mean()) > 0.5


def test_align_languages_rejects_bad_input():
    with pytest.raises(ValueError, match="one language code per embedding row"):
        cluster.align_languages(np.zeros((3, 4)), ["ky", "ru"])
    with pytest.raises(ValueError, match="2-D"):
        cluster.align_languages(np.zeros(3), ["ky", "ru", "en"])


def test_umap_kernels_use_numba_disk_cache(fitted):
    # fit_clusters turns on numba's on-disk cache for UMAP's kernels (~8 s per run saved).
    import umap.umap_
    from numba.core.caching import FunctionCache

    assert isinstance(umap.umap_.smooth_knn_dist._cache, FunctionCache)
    assert isinstance(umap.umap_.compute_membership_strengths._cache, FunctionCache)


def test_same_seed_identical_labels(blobs, fitted):
    X, _, langs = blobs
    again = cluster.fit_clusters(
        X, languages=langs, random_state=0, compute_coords=False, params=FAST
    )
    assert again.labels.tobytes() == fitted.labels.tobytes()
    assert again.labels.dtype == fitted.labels.dtype


def test_outlier_share_bounded(blobs, fitted):
    X, _, langs = blobs
    assert np.mean(fitted.labels < 0) <= 0.10
    strict = cluster.fit_clusters(
        X, languages=langs, random_state=1, max_outliers=0.0, compute_coords=False, params=FAST
    )
    assert (strict.labels >= 0).all()


def test_reduce_outliers_keeps_least_similar():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 8)).astype(np.float32)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    labels = np.array([0] * 5 + [1] * 5 + [-1] * 10)
    out = cluster.reduce_outliers(A, labels, max_outliers=0.25)
    assert (out[:10] == labels[:10]).all()
    assert (out < 0).sum() == 5
    # The ones left as -1 are the least similar to any centroid.
    _, C = cluster._centroids(A, labels)
    best = (A[10:] @ C.T).max(axis=1)
    left = out[10:] < 0
    assert best[left].max() <= best[~left].min()


def test_canonical_numbering(fitted):
    labels = fitted.labels
    ks = [k for k in np.unique(labels) if k >= 0]
    assert ks == list(range(len(ks)))
    sizes = [int((labels == k).sum()) for k in ks]
    assert sizes == sorted(sizes, reverse=True)
    np.testing.assert_array_equal(
        cluster.canonical_labels(np.array([3, 3, 9, 9, -1, 1, 1, 1])), [1, 1, 2, 2, -1, 0, 0, 0]
    )


def test_merge_similar_joins_duplicate_topics():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 16))
    A = np.vstack([base[i] + 0.01 * rng.normal(size=(10, 16)) for i in (0, 0, 1, 2)])
    A = (A / np.linalg.norm(A, axis=1, keepdims=True)).astype(np.float32)
    labels = np.repeat([0, 1, 2, 3], 10)
    merged = cluster.merge_similar(A, labels, threshold=0.9)
    assert len(set(merged.tolist())) == 3
    assert len(set(merged[:20].tolist())) == 1
    assert (cluster.merge_similar(A, labels, threshold=1.01) == labels).all()


def test_coords_and_params(blobs, fitted):
    X, _, _ = blobs
    assert fitted.coords2d.shape == (len(X), 2)
    assert np.isfinite(fitted.coords2d).all()
    assert fitted.aligned.shape == X.shape and fitted.aligned.dtype == np.float32
    import json

    json.dumps(fitted.params)  # JSON-serialisable for the manifest
    assert fitted.params["n_topics"] == len(set(fitted.labels.tolist()) - {-1})


def test_default_params_scale_with_n():
    small, mid, large = (cluster.default_params(n) for n in (150, 5_000, 100_000))
    assert small["min_cluster_size"] <= mid["min_cluster_size"] < large["min_cluster_size"]
    assert small["n_neighbors"] <= mid["n_neighbors"] <= large["n_neighbors"]
    assert 10 <= small["n_neighbors"] and large["n_neighbors"] <= 50
    assert small["min_cluster_size"] >= 5
    # umap's convention: fewer epochs per member on larger data
    assert small["consensus_epochs"] == 200 and large["consensus_epochs"] == 100
    with pytest.raises(ValueError):
        cluster.default_params(-1)


def test_unknown_param_rejected(blobs):
    X, _, _ = blobs
    with pytest.raises(ValueError, match="unknown clustering parameter"):
        cluster.fit_clusters(X, params={"min_clustersize": 5})


def test_tiny_corpus_uses_fallback():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(loc=c, size=(4, 8)) for c in (-3, 3)]).astype(np.float32)
    res = cluster.fit_clusters(X, random_state=0)
    assert res.labels.shape == (8,)
    assert res.params["method"].startswith("agglomerative")
    assert len(set(res.labels.tolist())) >= 2
    assert res.coords2d.shape == (8, 2)


def test_guide_and_context_steer_the_partition():
    rng = np.random.default_rng(0)
    n = 240
    # Embeddings carry no topic structure; the codebook guide carries three themes.
    X = rng.normal(size=(n, 32)).astype(np.float32)
    theme = np.repeat([0, 1, 2], n // 3)
    guide = np.eye(3, dtype=np.float32)[theme] * 0.9 + 0.1 / 3
    plain = cluster.fit_clusters(X, random_state=0, compute_coords=False, params=FAST)
    guided = cluster.fit_clusters(X, random_state=0, guide=guide, compute_coords=False, params=FAST)
    assert guided.params["guided"] and not plain.params["guided"]
    assert adjusted_mutual_info_score(theme, guided.labels) > 0.8
    assert adjusted_mutual_info_score(theme, plain.labels) < 0.3
    # The returned embeddings are the aligned ones, not the guided features.
    assert guided.aligned.shape == X.shape
    groups = np.repeat(np.arange(24), 10)
    ctx = cluster.fit_clusters(
        X, random_state=0, groups=groups, guide=guide, compute_coords=False, params=FAST
    )
    assert ctx.params["context"]
    with pytest.raises(ValueError, match="groups has"):
        cluster.fit_clusters(X, groups=groups[:-1])


def test_sampled_path_fits_on_a_sample_and_assigns_every_segment(blobs, fitted):
    """Above ``fit_sample`` segments the members are fitted on a seeded sample and every
    other segment takes its nearest sampled neighbours' topic: all 480 segments get a topic
    or the bounded outlier label, the planted topics are still recovered, the manifest says
    how, and the same seed gives the same labels.
    """
    X, topics, langs = blobs
    params = {"fit_sample": 200, "consensus_runs": 6}
    res = cluster.fit_clusters(X, languages=langs, random_state=0, params=params)
    n = len(X)
    assert res.params["sampled"]["size"] == 200 and res.params["sampled"]["of"] == n
    assert res.labels.shape == (n,) and res.coords2d.shape == (n, 2)
    # The members stay on the sample, which they are compared with.
    assert res.members.shape == (6, 200) and len(res.member_rows) == 200
    assert np.array_equal(res.labels_on_member_rows(), res.labels[res.member_rows])
    assert np.all(np.isfinite(res.coords2d)) and np.ptp(res.coords2d[:, 0]) > 0
    assert np.mean(res.labels < 0) <= 0.05 + 1e-9
    assert adjusted_mutual_info_score(topics, res.labels) > 0.8
    # min_cluster_size is scaled to the sample, not to the corpus.
    assert res.params["min_cluster_size"] == cluster.default_params(200)["min_cluster_size"]
    again = cluster.fit_clusters(X, languages=langs, random_state=0, params=params)
    assert np.array_equal(res.labels, again.labels)
    assert fitted.params["sampled"] is None  # the same data below fit_sample: exact path


def test_sampled_fit_measures_stability_on_its_sample(blobs):
    """A sampled fit's topics are compared with the members where the members were fitted:
    the per-topic stability and the ARI with each member use the sampled rows' topics.
    """
    from topics import model

    X, topics, langs = blobs
    res = cluster.fit_clusters(X, languages=langs, random_state=0,
                               params={"fit_sample": 200, "consensus_runs": 6})  # fmt: skip
    texts = [f"topic{t} word{i % 7}" for i, t in enumerate(topics)]
    out = model._fitted(res, texts, list(langs), random_state=0, top_n_words=5, align=True)
    on_sample = res.labels[res.member_rows]
    assert out.stability_ari == [cluster._ari(on_sample, m) for m in res.members]
    expected = model.topic_stability(on_sample, list(res.members))
    got = dict(zip(out.table["topic"], out.table["stability"], strict=True))
    for k, v in expected.items():
        assert got[k] == pytest.approx(round(v, 4))
    assert all(0.0 <= got[k] <= 1.0 for k in got if k >= 0)


def test_vote_takes_the_majority_and_breaks_ties_by_the_nearest():
    votes = np.array([[1, 2, 2], [3, 4, 5], [-1, -1, 0], [7, 8, 8], [9, 9, 6]])
    assert cluster._vote(votes).tolist() == [2, 3, -1, 8, 9]
    # A tie between two labels goes to the one whose first occurrence is nearest.
    assert cluster._vote(np.array([[4, 5, 5, 4]])).tolist() == [4]
    assert cluster._vote(np.zeros((0, 3), dtype=int)).shape == (0,)


def test_fit_sample_must_not_be_negative(blobs):
    X, _, _ = blobs
    with pytest.raises(ValueError, match="fit_sample"):
        cluster.fit_clusters(X, params={"fit_sample": -1})


def test_members_search_neighbours_among_candidates_exactly():
    """A member's neighbours found among the once-searched candidates are the exact ones."""
    from topics import _umap

    rng = np.random.default_rng(3)
    R = rng.standard_normal((400, 50)).astype(np.float32)
    R[7] = R[3]  # a duplicate row: still its own first neighbour
    k = 12
    cand = _umap.candidates(R, k)
    assert cand.shape == (400, k - 1 + _umap.CANDIDATE_EXTRA)
    assert not np.any(cand == np.arange(400)[:, None])  # never its own candidate
    for seed in range(3):
        Z = cluster._perturb(R, 0.01, seed)
        exact_idx, exact_d = _umap._knn(Z, k, "cosine")
        idx, d = _umap.knn_among(Z, cand, k)
        assert np.array_equal(idx[:, 0], np.arange(400))
        assert np.array_equal(np.sort(idx, axis=1), np.sort(exact_idx, axis=1))
        assert np.allclose(np.sort(d, axis=1), np.sort(exact_d, axis=1), atol=1e-6)


def test_fast_ari_equals_scikit_learn():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 80))
        a = rng.integers(-1, int(rng.integers(1, 7)), n)
        b = a.copy() if rng.random() < 0.2 else rng.integers(-1, int(rng.integers(1, 7)), n)
        assert cluster._ari(a, b) == adjusted_rand_score(a, b)
        # labels with gaps, far from zero, or not integers: the same groups, the same index
        sparse = a * int(rng.integers(1, 50)) - int(rng.integers(0, 10**6))
        wide = np.where(b < 0, -(10**12), b)
        words = np.array(["x", "y", "z", "w", "v", "u", "t", "s"])[b + 1]
        for x, y in ((sparse, b), (a, wide), (sparse, words)):
            assert cluster._ari(x, y) == adjusted_rand_score(x, y)
