"""How many consensus members: the Monte-Carlo error of the consensus against its size.

The consensus of the topic stage (``topics.cluster.consensus_partition``) is an estimate from a
random draw of member clusterings. Embeddings from another machine redraw every member (a
member is a chaotic function of the last digits of its input), so two machines compare two
independent draws. This benchmark measures that directly: one pipeline run of a bench corpus
fits a pool of ``--pool`` members (the run's own features and settings), the pool is split
into disjoint sets of ``m`` members for each ``--sizes`` value, and each set's consensus is
computed as the topic stage does (cut, topics under ``min_cluster_size`` to outliers, outlier
reduction). Printed per size: the ARI between the consensus of every pair of sets (median,
10th percentile, min), their topic counts, and where labels exist the mean AMI of the sets'
topics against them (per segment).

Corpora as in ``bench_stability.py``.

Usage::

    python experiments/bench_members.py [--corpora sib-sentence news-ky seeds-nocb]
        [--pool 360] [--sizes 30 60 120]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))


def pooled_run(cfg, pool: int):
    """Run the pipeline with ``pool`` members and keep what the consensus saw."""
    from topics import cluster
    from topics.pipeline import run

    seen: dict = {}
    original = cluster._consensus_topics

    def keep(features, reduced, p, max_outliers, random_state, progress=False):
        labels, members = original(features, reduced, p, max_outliers, random_state, progress)
        seen.update(features=features, members=members, p=dict(p), max_outliers=max_outliers,
                    random_state=random_state)  # fmt: skip
        return labels, members

    cfg.topics.consensus_runs = pool
    cluster._consensus_topics = keep
    try:
        result = run(cfg)
    finally:
        cluster._consensus_topics = original
    return result, seen


def consensus_of(members: np.ndarray, seen: dict) -> np.ndarray:
    """The topics the stage would give with these members (as ``_consensus_topics`` and
    ``fit_clusters`` finish them)."""
    from topics import cluster

    p = seen["p"]
    settings = cluster._consensus_settings(p, seen["random_state"])
    labels, _ = cluster._kept_consensus(members, p, settings)
    labels = cluster.reduce_outliers(seen["features"], labels, seen["max_outliers"])
    return cluster.canonical_labels(labels)


def main(argv: list[str] | None = None) -> int:
    from bench_stability import build_corpus

    from topics.cluster import _ari
    from topics.config import RunConfig

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", nargs="+", default=["sib-sentence", "news-ky", "seeds-nocb"])
    ap.add_argument("--pool", type=int, default=360)
    ap.add_argument("--sizes", type=int, nargs="+", default=[30, 60, 120])
    args = ap.parse_args(argv)
    for name in args.corpora:
        with tempfile.TemporaryDirectory() as tmp:
            corpus, codebook, labels = build_corpus(name, Path(tmp))
            cfg = RunConfig(corpus=str(corpus), seed=0)
            cfg.themes.codebook = codebook
            t0 = time.perf_counter()
            result, seen = pooled_run(cfg, args.pool)
            members = seen["members"]
            print(f"{name}: {members.shape[1]} segments, {len(members)} members, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
            truth = None
            if labels is not None:  # per segment, when the members cover every segment
                seg = result.segments[result.segments["topic"].notna()]
                if len(seg) == members.shape[1]:
                    truth = seg["doc_id"].map(labels.set_index("doc_id")["label"]).to_numpy()
            for m in args.sizes:
                sets = [members[i * m : (i + 1) * m] for i in range(len(members) // m)]
                if len(sets) < 2:
                    print(f"  {m} members: fewer than 2 disjoint sets in the pool", flush=True)
                    continue
                labs = [consensus_of(s, seen) for s in sets]
                aris = [_ari(a, b) for a, b in itertools.combinations(labs, 2)]
                line = (f"  {m} members, {len(sets)} sets: ARI median {np.median(aris):.3f}, "
                        f"p10 {np.percentile(aris, 10):.3f}, min {np.min(aris):.3f}; "
                        f"topics {[int(lab.max()) + 1 for lab in labs]}")  # fmt: skip
                if truth is not None:
                    ok = np.array([t == t for t in truth])  # labelled segments (not NaN)
                    amis = [adjusted_mutual_info_score(truth[ok], lab[ok]) for lab in labs]
                    line += f"; AMI {np.mean(amis):.3f}"
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
