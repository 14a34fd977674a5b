"""Do the comparison statistics of `topics.compare` keep their promises?

Simulates semi-synthetic corpora with a planted difference between two groups of documents
and runs `topics.compare.compare` on each, exactly as the pipeline does.

Corpora. Each document has 20-80 paragraphs (the seed documents' range). Its topic shares are
drawn from a Dirichlet around a base composition (``--conc``: smaller = documents differ more;
the intra-document correlation is about 1 / (conc + 1)). In group B every paragraph not in
the planted item is moved to it with probability ``delta / (1 - base_share)``, so the
expected share of the item is higher by exactly ``delta`` and the other items shrink
proportionally. With ``--run DIR`` a second corpus family resamples the real seed segments'
topics (``DIR/segments.csv`` of a `topics run`): each synthetic document picks a seed
document at random and resamples its paragraphs' topics (the planted item is the largest
non-outlier topic).

For each design (documents per group x planted difference x method) it prints, over
``--reps`` replicates:

- ``cov_diff``: coverage of the true difference of the planted item by the 95% interval;
- ``cov_share``: coverage of the true group shares (all items, both groups);
- ``width``: mean width of the planted item's difference interval;
- ``absent``: share of replicates where the planted item never occurs (counted as misses);
- ``rej_p``: share of replicates with p < 0.05 for the planted item (false-positive rate at
  delta = 0, power otherwise); ``rej_q``: q < 0.05 for the planted item;
  ``any_q``: any item with q < 0.05 (at delta = 0: the family-wise false-positive rate).

``method`` is ``auto`` (the default rule: document bootstrap from ``min_docs_bootstrap``
documents per group, else the beta-binomial model), ``bootstrap`` or ``beta-binomial``
(forced, to show why the threshold is where it is).

Usage::

    nice python experiments/bench_compare.py [--reps 300] [--sizes 2 5 10 30] [--run DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from topics import compare  # noqa: E402

BASE = np.array([0.25, 0.15, 0.15, 0.12, 0.12, 0.10, 0.06, 0.05])  # item 0 = outliers
PLANTED = 1


def plant(p: np.ndarray, item: int, delta: float, base_share: float) -> np.ndarray:
    """Move paragraphs to ``item`` so that its expected share rises by ``delta``."""
    q = delta / (1 - base_share)
    out = p * (1 - q)
    out[..., item] += q
    return out


def dirichlet_corpus(rng, n_per_group, delta, conc):
    """Counts (n_docs, n_items), group labels and true shares of groups A and B."""
    n_docs = 2 * n_per_group
    sizes = rng.integers(20, 81, size=n_docs)
    p = rng.dirichlet(conc * BASE, size=n_docs)
    group = np.repeat(["A", "B"], n_per_group)
    p[group == "B"] = plant(p[group == "B"], PLANTED, delta, BASE[PLANTED])
    counts = np.array([rng.multinomial(n, pi) for n, pi in zip(sizes, p, strict=True)])
    truth = {"A": BASE, "B": plant(BASE.copy(), PLANTED, delta, BASE[PLANTED])}
    return counts, group, truth


def seed_pool(run_dir: Path) -> tuple[list[np.ndarray], int, int]:
    """Topic codes of each seed document's modelled paragraphs, the item count, the item."""
    path = run_dir / "segments.csv"
    seg = pd.read_csv(path, dtype={"doc_id": str})
    seg = seg[seg["topic"].notna()]
    ids = np.sort(seg["topic"].astype(int).unique())
    code = np.searchsorted(ids, seg["topic"].astype(int).to_numpy())
    sizes = np.bincount(code, minlength=len(ids))
    non_outlier = [i for i, k in enumerate(ids) if k >= 0] or list(range(len(ids)))
    item = max(non_outlier, key=lambda i: sizes[i])
    docs = seg["doc_id"].to_numpy()
    return [code[docs == d] for d in sorted(set(docs))], len(ids), item


def seed_corpus(rng, n_per_group, delta, pool):
    docs, n_items, item = pool
    shares = np.array([np.bincount(d, minlength=n_items) / len(d) for d in docs])
    base = shares.mean(0)  # each synthetic document picks its source uniformly
    n_docs = 2 * n_per_group
    group = np.repeat(["A", "B"], n_per_group)
    counts = np.zeros((n_docs, n_items), dtype=int)
    for i in range(n_docs):
        src = docs[rng.integers(len(docs))]
        drawn = np.bincount(rng.choice(src, size=rng.integers(20, 81)), minlength=n_items)
        if group[i] == "B" and delta > 0:
            q = delta / (1 - base[item])
            moved = rng.binomial(drawn, q)
            moved[item] = 0
            drawn = drawn - moved
            drawn[item] += moved.sum()
        counts[i] = drawn
    truth = {"A": base, "B": plant(base.copy(), item, delta, base[item])}
    return counts, group, truth, item


def to_segments(counts: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """One row per paragraph, as the pipeline hands them to `compare`."""
    doc = np.repeat(np.arange(len(counts)), counts.sum(1))
    topic = np.concatenate([np.repeat(np.arange(counts.shape[1]), c) for c in counts])
    return pd.DataFrame(
        {
            "doc_id": [f"d{i:03d}" for i in doc],
            "article": 1,
            "topic": topic,
            "grp": group[doc],
        }
    )


METHODS = {"bootstrap": 2, "beta-binomial": 10**9}


def one_replicate(seg, truth, item, rep, n_boot, n_perm, min_docs):
    out = {}
    for name, threshold in METHODS.items():
        prev, diff = compare.compare(
            seg,
            by=["grp"],
            n_boot=n_boot,
            n_perm=n_perm,
            random_state=rep,
            min_docs_bootstrap=threshold,
        )
        t_a, t_b = truth["A"], truth["B"]
        true_share = np.where(prev["group"] == "A", t_a[prev["topic"]], t_b[prev["topic"]])
        cov_share = np.mean((prev["ci_low"] <= true_share) & (true_share <= prev["ci_high"]))
        rows = diff[diff["topic"] == item]
        if rows.empty:  # the item never occurs in this corpus: no row, counted as a miss
            rows = pd.DataFrame([{"ci_low": np.nan, "ci_high": np.nan, "p_value": 1.0}])
            rows["q_value"] = 1.0
        row = rows.iloc[0]
        true_diff = t_a[item] - t_b[item]
        out[name] = {
            "cov_diff": float(row["ci_low"] <= true_diff <= row["ci_high"]),
            "cov_share": cov_share,
            "width": row["ci_high"] - row["ci_low"],
            "rej_p": float(row["p_value"] < 0.05),
            "rej_q": float(row["q_value"] < 0.05),
            "any_q": float((diff["q_value"] < 0.05).any()),
            "absent": float(len(diff[diff["topic"] == item]) == 0),
        }
    n_docs = int(prev["n_docs"].min())
    out["auto"] = out["bootstrap" if n_docs >= min_docs else "beta-binomial"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 5, 10, 30])
    ap.add_argument("--deltas", type=float, nargs="+", default=[0.0, 0.05, 0.10])
    ap.add_argument("--conc", type=float, default=10.0, help="Dirichlet concentration")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--n-perm", type=int, default=2000)
    ap.add_argument("--run", type=Path, help="a run folder: also resample its seed segments")
    ap.add_argument("--no-dirichlet", action="store_true", help="only the seed-resampling corpora")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    min_docs = compare.MIN_DOCS_BOOTSTRAP

    families = {} if args.no_dirichlet and args.run else {"dirichlet": None}
    if args.run is not None:
        families["seeds"] = seed_pool(args.run)
    t0 = time.perf_counter()
    rows = []
    for family, pool in families.items():
        for size in args.sizes:
            for delta in args.deltas:
                rng = np.random.default_rng([args.seed, size, int(delta * 1000), len(family)])
                acc: dict[str, list[dict]] = {m: [] for m in ["auto", *METHODS]}
                for rep in range(args.reps):
                    if pool is None:
                        counts, group, truth = dirichlet_corpus(rng, size, delta, args.conc)
                        item = PLANTED
                    else:
                        counts, group, truth, item = seed_corpus(rng, size, delta, pool)
                    seg = to_segments(counts, group)
                    res = one_replicate(seg, truth, item, rep, args.n_boot, args.n_perm, min_docs)
                    for m, r in res.items():
                        acc[m].append(r)
                for m, recs in acc.items():
                    mean = pd.DataFrame(recs).mean()
                    rows.append(
                        {
                            "corpus": family,
                            "docs/group": f"{size}v{size}",
                            "delta": delta,
                            "method": m,
                            **mean.round(3).to_dict(),
                        }
                    )
                print(f"  done {family} {size}v{size} delta={delta}", file=sys.stderr)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    conc = f"conc={args.conc} (rho ~ {1 / (args.conc + 1):.3f}) " if "dirichlet" in families else ""
    print(
        f"reps={args.reps} {conc}n_boot={args.n_boot} n_perm={args.n_perm} "
        f"min_docs_bootstrap={min_docs} time={time.perf_counter() - t0:.0f}s"
    )
    print(table.to_string(index=False))
    null = table[(table["delta"] == 0) & (table["method"] == "auto")]
    auto = table[table["method"] == "auto"]
    print(
        f"\nauto: min cov_diff={auto['cov_diff'].min():.3f} "
        f"min cov_share={auto['cov_share'].min():.3f} "
        f"max FPR (p<0.05, delta=0)={null['rej_p'].max():.3f} (targets >= 0.90, <= 0.07)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
