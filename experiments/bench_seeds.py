"""Quality and stability on the seed corpus against the hand-coded validation set.

Runs the full pipeline (`topics.pipeline.run`) on `seeds/` with `experiments/codebook.toml`
for three seeds and measures, against `experiments/seed_labels.csv` (hand-coded themes of seed
paragraphs, identified by a verbatim quote):

- theme accuracy: share of labelled paragraphs whose assigned theme is one of their labels;
- theme macro-F1: per theme, TP = assigned t and t is a label; FP = assigned t, not a label;
  FN = t is the paragraph's first (main) label and the assignment is not one of its labels;
- topic AMI / NMI: the paragraphs' topics against their main hand-coded theme;
- stability: pairwise ARI of topic assignments between seeds; byte-identical rerun check;
- with ``--codebook-samples N``: theme accuracy and macro-F1 with N random reduced versions
  of the codebook (fewer keywords, sometimes no description), a check that theme assignment
  does not depend on one rich, carefully written codebook.

Usage::

    python experiments/bench_seeds.py [--seeds 0 1 2] [--codebook-samples 30]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
from sklearn.metrics import normalized_mutual_info_score as nmi

ROOT = Path(__file__).resolve().parents[1]


def match_labels(segments: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Attach each hand-coded quote to the segment that contains it."""
    rows = []
    for rec in labels.itertuples():
        hits = segments[
            (segments["doc_id"].astype(str) == str(rec.doc_id).zfill(3))
            & segments["text"].str.contains(rec.quote, regex=False)
        ]
        rows.append(
            {
                "quote": rec.quote,
                "gold": [t.strip() for t in rec.themes.split(";") if t.strip()],
                "n_hits": len(hits),
                "idx": hits.index[0] if len(hits) else None,
            }
        )
    return pd.DataFrame(rows)


def evaluated(segments: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The labelled paragraphs that match one segment and were modelled; and how many matched."""
    m = match_labels(segments, labels)
    found = m[m["n_hits"] == 1]
    return found[segments.loc[found["idx"], "topic"].notna().to_numpy()], len(found)


def theme_metrics(pred: list[str], gold: list[list[str]]) -> dict:
    names = sorted({t for g in gold for t in g if t != "none"})
    correct = [(p in g) or (p == "" and g == ["none"]) for p, g in zip(pred, gold, strict=True)]
    f1s = []
    for t in names:
        tp = sum(p == t and t in g for p, g in zip(pred, gold, strict=True))
        fp = sum(p == t and t not in g for p, g in zip(pred, gold, strict=True))
        fn = sum(g[0] == t and p not in g for p, g in zip(pred, gold, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return {"accuracy": float(np.mean(correct)), "macro_f1": float(np.mean(f1s))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--labels", type=Path, default=ROOT / "experiments" / "seed_labels.csv")
    ap.add_argument("--codebook", type=Path, default=ROOT / "experiments" / "codebook.toml")
    ap.add_argument(
        "--codebook-samples",
        type=int,
        default=0,
        metavar="N",
        help="also score N random reduced versions of the codebook (each theme keeps a random "
        "subset of its keywords, and loses its description with probability 0.3)",
    )
    args = ap.parse_args(argv)

    from topics.config import RunConfig
    from topics.pipeline import run

    labels = pd.read_csv(args.labels, dtype=str, keep_default_na=False)
    rows = []
    topic_runs = []
    for seed in args.seeds:
        cfg = RunConfig(corpus=str(ROOT / "seeds"), seed=seed)
        cfg.themes.codebook = str(args.codebook)
        t0 = time.perf_counter()
        res = run(cfg)
        secs = time.perf_counter() - t0
        seg = res.segments
        modelled, n_found = evaluated(seg, labels)
        pred = seg.loc[modelled["idx"], "theme"].tolist()
        gold = modelled["gold"].tolist()
        tm = theme_metrics(pred, gold)
        topics = seg.loc[modelled["idx"], "topic"].astype(int).to_numpy()
        main_gold = [g[0] for g in gold]
        topic_runs.append(seg["topic"].astype("float").fillna(-2).to_numpy())
        rows.append(
            {
                "seed": seed,
                "labelled": len(labels),
                "matched": n_found,
                "evaluated": len(modelled),
                "theme_acc": round(tm["accuracy"], 3),
                "theme_macroF1": round(tm["macro_f1"], 3),
                "topic_AMI": round(adjusted_mutual_info_score(main_gold, topics), 3),
                "topic_NMI": round(nmi(main_gold, topics), 3),
                "n_topics": int(res.manifest["model"]["n_topics"]),
                "outliers": round(res.manifest["model"]["outlier_share"], 3),
                "seconds": round(secs, 1),
            }
        )
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False))
    print(
        f"median topic AMI {table['topic_AMI'].median():.3f}; mean theme accuracy "
        f"{table['theme_acc'].mean():.3f}; mean macro-F1 {table['theme_macroF1'].mean():.3f}"
    )
    aris = [
        adjusted_rand_score(a[(a > -2) & (b > -2)], b[(a > -2) & (b > -2)])
        for a, b in itertools.combinations(topic_runs, 2)
    ]
    if aris:
        print(f"pairwise ARI between seeds: {', '.join(f'{x:.3f}' for x in aris)}")
    if args.codebook_samples:
        reduced_codebooks(args.codebook, labels, args.codebook_samples)
    return 0


def reduced_codebooks(codebook: Path, labels: pd.DataFrame, n: int, seed: int = 0) -> None:
    """Theme scores with random reduced codebooks: how much they rely on a rich codebook."""
    import tempfile
    import tomllib

    import tomli_w

    from topics.config import RunConfig
    from topics.pipeline import run

    full = tomllib.loads(codebook.read_text("utf-8"))["theme"]
    rng = np.random.default_rng(seed)
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            themes = []
            for t in full:
                kw = list(t.get("keywords", []))
                keep = (
                    sorted(
                        rng.choice(len(kw), size=int(rng.integers(0, len(kw) + 1)), replace=False)
                    )
                    if kw
                    else []
                )
                desc = t.get("description", "") if rng.random() > 0.3 else ""
                if not keep and not desc:
                    desc = t.get("description", "")
                themes.append(
                    {"name": t["name"], "description": desc, "keywords": [kw[j] for j in keep]}
                )
            path = Path(tmp) / f"codebook_{i}.toml"
            path.write_text(tomli_w.dumps({"theme": themes}), "utf-8")
            cfg = RunConfig(corpus=str(ROOT / "seeds"), seed=0)
            cfg.themes.codebook = str(path)
            cfg.topics.consensus_runs = 1  # themes only: one member is enough
            seg = run(cfg).segments
            m, _ = evaluated(seg, labels)
            scores.append(theme_metrics(seg.loc[m["idx"], "theme"].tolist(), m["gold"].tolist()))
    acc = np.array([s["accuracy"] for s in scores])
    f1 = np.array([s["macro_f1"] for s in scores])
    print(
        f"{n} reduced codebooks: theme accuracy mean {acc.mean():.3f} (min {acc.min():.3f}), "
        f"macro-F1 mean {f1.mean():.3f} (min {f1.min():.3f})"
    )


if __name__ == "__main__":
    sys.exit(main())
