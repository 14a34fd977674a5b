"""Few-shot themes from coded paragraphs, and interval coverage of the agreement statistics.

1. **Few-shot vs zero-shot on the seed validation set** (`experiments/seed_labels.csv`):
   draw N labelled seed paragraphs at random (N = 10, 20, 30, 40; 20 draws each), write them
   as a coding sheet (`segment_id`, `code` = the paragraph's main hand-coded label), run the
   theme assignment with that sheet (`topics.coding.few_shot`, what `topics run --coded`
   calls) and score the *other* labelled paragraphs (held out): any-label accuracy and
   macro-F1 as in `bench_seeds.py`. Zero-shot, and few-shot with the earlier fixed penalty
   (`l2 = 3`), are scored on the same held-out paragraphs. 1b: sheets of 30 drawn as
   `topics code sample` draws them (stratified by the machine's zero-shot theme).
   One draw is also run through the whole pipeline (`topics.pipeline.run` with
   `cfg.themes.coded`) to check that the fast path here gives the same themes.
2. **Generality** (`--reduced K`): the same at N = 30 with K random reduced versions of the
   codebook (as `bench_seeds.py --codebook-samples`), random and stratified sheets: a weaker
   codebook, where calibration matters more.
3. **Interval coverage on simulated coders**: documents with their own theme mix, a machine
   whose accuracy varies by document and a coder who errs at random; the share of 95%
   intervals (cluster bootstrap over documents) that contain the population value of
   accuracy, Cohen's kappa and Krippendorff's alpha.

`--graph` adds a development experiment, not the run's method: the few-shot themes smoothed
over the paragraphs' embedding neighbours (``graph_smoothed``, label propagation with the
codes clamped).

`--draw-seed` and `--codebook-seed` set the draws of the sheets and of the reduced codebooks;
the few-shot method was chosen on other draws (see `experiments/RESULTS.md`).

Usage::

    python experiments/bench_coding.py [--reps 20] [--reduced 12] [--sim 200]
        [--draw-seed 0] [--codebook-seed 0] [--graph]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_seeds import match_labels, theme_metrics  # noqa: E402


def theme_inputs(codebook_themes, seed_run=None):
    """Segments, modelled rows and combined codebook scores of the seed corpus, computed
    with the same functions and arguments as the themes block of ``topics.pipeline.run``.
    """
    from topics import embed
    from topics import themes as th
    from topics.config import RunConfig
    from topics.corpus import load_corpus
    from topics.ingest import segments_from_corpus
    from topics.words import make_analyzer

    cfg = RunConfig(corpus=str(ROOT / "seeds"))
    seg = segments_from_corpus(
        load_corpus(cfg.corpus), max_chars=cfg.ingest.max_chars, min_chars=cfg.ingest.min_chars
    ).segments
    modelled = seg["section"].isin(cfg.topics.sections) & (seg["n_chars"] >= 20)
    idx = np.flatnonzero(modelled.to_numpy())
    texts = seg["text"].iloc[idx].tolist()
    languages = seg["language"].iloc[idx].tolist()
    backend = embed.get_backend(cfg.embed.model)
    vectors = embed.embed_texts(texts, backend, kind="passage")
    groups = (seg["doc_id"].astype(str) + "/" + seg["article"].astype(str)).iloc[idx].tolist()
    analyzer = make_analyzer(sorted(set(languages)))

    def combined(themes):
        q_texts, owner = th.theme_queries(themes)
        proto = th.codebook_scores(
            vectors,
            [embed.embed_texts(q_texts, backend, kind=k) for k in ("query", "passage")],
            owner,
            len(themes),
        )
        lexical = th.lexical_scores(texts, themes, analyzer)
        return th.combine_scores(proto, lexical, groups=groups)

    return seg, idx, combined, np.asarray(vectors, dtype=np.float64)


def graph_smoothed(scores, names, vectors, rows, labs, offsets, alpha=0.3, k=10, tau=0.01):
    """Few-shot themes smoothed over the paragraphs' embedding neighbours (development
    experiment, not the run's method): the posterior ``softmax((s + offsets) / tau)`` (with the
    "none" column), coded paragraphs clamped to their code, propagated over the ``k``-nearest-
    neighbour graph of the embeddings, ``F = (1 - alpha) P0 + alpha W F``. Brute-force
    neighbours: fine for the seed corpus, not for a large one.
    """
    from topics._fewshot import _with_none

    z = (_with_none(scores, 3.0) + offsets[None, :]) / tau
    z -= z.max(axis=1, keepdims=True)
    p0 = np.exp(z)
    p0 /= p0.sum(axis=1, keepdims=True)
    p0[rows] = 0.0
    p0[rows, labs] = 1.0
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, -np.inf)
    nn = np.argsort(-sim, axis=1)[:, :k]
    f = p0.copy()
    for _ in range(30):
        f = (1 - alpha) * p0 + alpha * f[nn].mean(axis=1)
    return [names[q] if q < len(names) else "" for q in f.argmax(axis=1)]


def labelled(seg: pd.DataFrame, idx: np.ndarray, labels: pd.DataFrame) -> pd.DataFrame:
    """Labelled paragraphs that match one modelled segment; ``code`` = the segment's main
    label (its first quote's first theme).
    """
    m = match_labels(seg, labels)
    m = m[(m["n_hits"] == 1) & m["idx"].isin(set(seg.index[idx]))].copy()
    m["segment_id"] = seg.loc[m["idx"], "segment_id"].astype(str).to_numpy()
    first = m.groupby("segment_id", sort=False)["gold"].first()
    m["code"] = m["segment_id"].map(first.map(lambda g: g[0]))
    return m


def score(themes_of: dict[str, str], rows: pd.DataFrame) -> dict:
    return theme_metrics([themes_of[s] for s in rows["segment_id"]], rows["gold"].tolist())


def stratified_pick(segs: pd.DataFrame, strata: np.ndarray, n: int, rng) -> np.ndarray:
    """Rows of ``segs`` drawn as ``topics code sample`` draws them: strata = the machine's
    zero-shot theme, a floor per stratum and the rest in proportion (``coding._allocate``).
    """
    from topics.coding import _allocate

    values = sorted(set(strata))
    alloc = _allocate(np.array([(strata == v).sum() for v in values]), n)
    take = [
        rng.choice(np.flatnonzero(strata == v), int(k), replace=False)
        for v, k in zip(values, alloc, strict=True)
    ]
    return np.sort(np.concatenate(take))


def few_vs_zero(
    seg, idx, scores, names, lab, sizes, reps, seed=0, tmp=None, design="random", vectors=None
):
    """Held-out scores of zero-shot, few-shot (``few_shot``, the run's path), few-shot with
    the earlier fixed penalty (``l2 = 3``) and, with ``vectors``, few-shot smoothed over the
    embedding neighbours (:func:`graph_smoothed`), over ``reps`` sheets per size."""
    from topics import themes as th
    from topics.coding import few_shot

    ids = seg["segment_id"].astype(str).to_numpy()[idx]
    zero_theme = th.assign_themes(scores, names).theme
    zero = dict(zip(ids, zero_theme, strict=True))
    segs = lab.drop_duplicates("segment_id")[["segment_id", "code"]].reset_index(drop=True)
    strata = np.array([zero[s] for s in segs["segment_id"]], dtype=object)
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        for r in range(reps):
            if design == "stratified":
                pick = segs.iloc[stratified_pick(segs, strata, n, rng)]
            else:
                pick = segs.iloc[np.sort(rng.choice(len(segs), n, replace=False))]
            path = Path(tmp) / f"sheet_{n}_{r}.csv"
            pick.to_csv(path, index=False)
            assigned, coded, info = few_shot(scores, names, path, seg, idx)
            few = dict(zip(ids, assigned.theme, strict=True))
            pos = {s: i for i, s in enumerate(ids)}
            rows = [pos[s] for s in pick["segment_id"]]
            labs = [names.index(c) if c in names else len(names) for c in pick["code"]]
            off = th.theme_offsets(scores, rows, labs, l2=3.0)
            fixed = dict(zip(ids, th.assign_themes(scores, names, offsets=off).theme, strict=True))
            held = lab[~lab["segment_id"].isin(set(pick["segment_id"]))]
            z, f, x = score(zero, held), score(few, held), score(fixed, held)
            g = {"accuracy": np.nan, "macro_f1": np.nan}
            if vectors is not None:
                docs = seg["doc_id"].astype(str).to_numpy()[idx][rows]
                l2 = th.choose_shrinkage(scores, rows, labs, docs)[0]
                off_auto = th.theme_offsets(scores, rows, labs, l2=l2)
                smooth = graph_smoothed(scores, names, vectors, rows, labs, off_auto)
                g = score(dict(zip(ids, smooth, strict=True)), held)
            cv = np.mean(
                [
                    (c == t) or (c == "none" and t == "")
                    for c, t in zip(coded["code"], coded["cv_theme"], strict=True)
                ]
            )
            out.append(
                {
                    "n": n,
                    "rep": r,
                    "held_out": len(held),
                    "zero_acc": z["accuracy"],
                    "zero_f1": z["macro_f1"],
                    "few_acc": f["accuracy"],
                    "few_f1": f["macro_f1"],
                    "fixed_acc": x["accuracy"],
                    "fixed_f1": x["macro_f1"],
                    "graph_acc": g["accuracy"],
                    "graph_f1": g["macro_f1"],
                    "l2": np.inf if info["l2"] is None else info["l2"],
                    "cv_main_acc": cv,
                }
            )
    return pd.DataFrame(out)


def summarise(df: pd.DataFrame, by: str = "n") -> pd.DataFrame:
    rows = []
    for key, g in df.groupby(by):
        rec = {by: key, "held-out paragraphs": int(g["held_out"].median())}
        for method in ("zero", "few", "fixed", "graph"):
            for m in ("acc", "f1"):
                c = f"{method}_{m}"
                rec[c] = f"{g[c].mean():.3f} ± {g[c].std():.3f} (min {g[c].min():.3f})"
        better_acc = (g["few_acc"] > g["zero_acc"]).mean()
        better_f1 = (g["few_f1"] > g["zero_f1"]).mean()
        rec["few > zero (acc / F1)"] = f"{better_acc:.0%} / {better_f1:.0%}"
        rec["l2 chosen"] = ", ".join(
            f"{k:g}: {v}" for k, v in g["l2"].value_counts().sort_index(ascending=False).items()
        )
        rows.append(rec)
    return pd.DataFrame(rows)


def generality(red_res: pd.DataFrame) -> pd.DataFrame:
    """Per sheet design and method: the mean over codebooks of the per-codebook mean, the
    worst codebook, and on how many codebooks the method beats zero-shot."""
    rows = []
    for design, g in red_res.groupby("design"):
        methods = [m for m in ("zero", "few", "fixed", "graph") if g[f"{m}_acc"].notna().any()]
        mb = g.groupby("codebook")[[f"{m}_{x}" for m in methods for x in ("acc", "f1")]].mean()
        for method in methods:
            a, f = mb[f"{method}_acc"], mb[f"{method}_f1"]
            rows.append(
                {
                    "design": design,
                    "method": method,
                    "accuracy": f"{a.mean():.3f} (min {a.min():.3f})",
                    "macro-F1": f"{f.mean():.3f} (min {f.min():.3f})",
                    "better than zero-shot (acc / F1)": ""
                    if method == "zero"
                    else f"{(a > mb['zero_acc']).sum()}/{len(mb)} / "
                    f"{(f > mb['zero_f1']).sum()}/{len(mb)}",
                }
            )
    return pd.DataFrame(rows)


def reduced_themes(full: list[dict], rng: np.random.Generator):
    from topics.themes import Theme

    out = []
    for t in full:
        kw = list(t.get("keywords", []))
        size = int(rng.integers(0, len(kw) + 1)) if kw else 0
        keep = sorted(rng.choice(len(kw), size=size, replace=False)) if kw else []
        desc = t.get("description", "") if rng.random() > 0.3 else ""
        if not keep and not desc:
            desc = t.get("description", "")
        out.append(Theme(t["name"], desc, tuple(kw[j] for j in keep)))
    return out


def pipeline_check(lab: pd.DataFrame, seg, idx, scores, names, tmp: str) -> bool:
    """One draw through the whole pipeline: the same themes as the fast path."""
    from topics.coding import few_shot
    from topics.config import RunConfig
    from topics.pipeline import run

    pick = lab.drop_duplicates("segment_id").iloc[::4][["segment_id", "code"]]
    path = Path(tmp) / "check.csv"
    pick.to_csv(path, index=False)
    cfg = RunConfig(corpus=str(ROOT / "seeds"))
    cfg.themes.codebook = str(ROOT / "experiments" / "codebook.toml")
    cfg.themes.coded = str(path)
    cfg.topics.stability_runs = 0
    res = run(cfg)
    fast, _, _ = few_shot(scores, names, path, seg, idx)
    return res.segments["theme"].iloc[idx].fillna("").tolist() == list(fast.theme)


# --------------------------------------------------------------------------- simulation


def simulate(g: int, rng: np.random.Generator, k: int = 6):
    """One coded sample: ``g`` documents of 2-7 paragraphs each."""
    sizes = rng.integers(2, 8, size=g)
    docs = np.repeat(np.arange(g), sizes)
    mix = rng.dirichlet(np.full(k, 0.7), size=g)  # each document has its own theme mix
    truth = np.array([rng.choice(k, p=mix[d]) for d in docs])
    p_doc = 1 / (1 + np.exp(-rng.normal(1.6, 0.8, size=g)))  # machine accuracy per document
    machine = np.where(rng.random(len(docs)) < p_doc[docs], truth, rng.integers(0, k, len(docs)))
    coder = np.where(rng.random(len(docs)) < 0.9, truth, rng.integers(0, k, len(docs)))
    return docs, machine.astype(str), coder.astype(str)


def coverage(n_sim: int, g: int, n_boot: int = 500, seed: int = 0) -> dict:
    from topics.coding import pair_statistics

    rng = np.random.default_rng(seed)
    big_docs, big_m, big_c = simulate(20000, rng)
    truth, _ = pair_statistics(big_m, big_c, big_docs, n_boot=0)
    truth = truth.set_index(["measure", "theme"])["value"]
    hits = {m: [] for m in ("accuracy", "kappa", "alpha")}
    for _ in range(n_sim):
        docs, m, c = simulate(g, rng)
        t, _ = pair_statistics(m, c, docs, n_boot=n_boot, random_state=int(rng.integers(1e9)))
        t = t.set_index(["measure", "theme"])
        for meas in hits:
            lo, hi = t.loc[(meas, ""), "ci_low"], t.loc[(meas, ""), "ci_high"]
            hits[meas].append(lo <= truth[(meas, "")] <= hi)
    return {m: float(np.mean(v)) for m, v in hits.items()} | {
        f"population_{m}": round(float(truth[(m, "")]), 3) for m in hits
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--reduced", type=int, default=12, metavar="K")
    ap.add_argument("--draw-seed", type=int, default=0, help="seed of the coded sheets' draws")
    ap.add_argument("--codebook-seed", type=int, default=0, help="seed of the reduced codebooks")
    ap.add_argument("--sim", type=int, default=200, help="simulated samples per setting")
    ap.add_argument("--labels", type=Path, default=ROOT / "experiments" / "seed_labels.csv")
    ap.add_argument("--codebook", type=Path, default=ROOT / "experiments" / "codebook.toml")
    ap.add_argument(
        "--graph",
        action="store_true",
        help="also score few-shot smoothed over the embedding neighbours (graph_smoothed)",
    )
    args = ap.parse_args(argv)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)

    from topics.themes import load_codebook

    t0 = time.perf_counter()
    labels = pd.read_csv(args.labels, dtype=str, keep_default_na=False)
    seg, idx, combined, vectors = theme_inputs(None)
    vec = vectors if args.graph else None
    lab = labelled(seg, idx, labels)
    themes = load_codebook(args.codebook)
    names = [t.name for t in themes]
    scores = combined(themes)
    with tempfile.TemporaryDirectory() as tmp:
        print(
            f"pipeline check (one draw via topics.pipeline.run): "
            f"{'same themes' if pipeline_check(lab, seg, idx, scores, names, tmp) else 'DIFFERENT'}"
        )
        res = few_vs_zero(
            seg, idx, scores, names, lab, args.sizes, args.reps, seed=args.draw_seed, tmp=tmp,
            vectors=vec,
        )  # fmt: skip
        print(f"\n1. Seed codebook, {len(lab)} labelled paragraphs, {args.reps} random sheets")
        print(summarise(res).to_string(index=False))
        print(
            "cross-validated accuracy on the coded paragraphs themselves (main label, by "
            "document): "
            + ", ".join(f"n={n}: {g['cv_main_acc'].mean():.3f}" for n, g in res.groupby("n"))
        )
        strat = few_vs_zero(
            seg, idx, scores, names, lab, [30], args.reps, seed=args.draw_seed, tmp=tmp,
            design="stratified", vectors=vec,
        )  # fmt: skip
        print(f"\n1b. Seed codebook, {args.reps} sheets of 30 stratified by the machine's theme")
        print(summarise(strat).to_string(index=False))
        if args.reduced:
            full = tomllib.loads(args.codebook.read_text("utf-8"))["theme"]
            rng = np.random.default_rng(args.codebook_seed)
            parts = []
            for i in range(args.reduced):
                red = combined(reduced_themes(full, rng))
                for design in ("random", "stratified"):
                    r = few_vs_zero(
                        seg, idx, red, names, lab, [30], 10, seed=args.draw_seed + i, tmp=tmp,
                        design=design, vectors=vec,
                    )  # fmt: skip
                    parts.append(r.assign(codebook=i, design=design))
            red_res = pd.concat(parts)
            print(f"\n2. {args.reduced} reduced codebooks, 30 coded paragraphs, 10 sheets each")
            print(generality(red_res).to_string(index=False))
    if args.sim:
        print(f"\n3. Interval coverage (95%, cluster bootstrap over documents), {args.sim} samples")
        for g in (8, 15, 30):
            cov = coverage(args.sim, g)
            print(f"{g} documents (~{g * 4.5:.0f} paragraphs): {cov}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
