"""Perturbation stability of the topics: float noise must not change the findings.

For each corpus, the unperturbed run (seed 0) is compared with

- ``noise``: 4 runs whose passage and codebook embeddings get Gaussian noise of relative norm
  1e-3 (renormalised; draw ``i`` uses its own seed), what two CPUs or two builds of the
  model produce;
- ``cpu``: the same run in a subprocess under ``OPENBLAS_CORETYPE=Prescott
  NUMBA_CPU_NAME=generic`` (another BLAS kernel and numba target, the same embeddings, read
  from the run folder);
- ``seeds`` (with ``--seeds``): runs with other seeds (seed-to-seed stability).

Printed per corpus: ARI of each perturbed run against the unperturbed one, topic counts,
outlier shares, and where labels exist the quality of the unperturbed run (AMI against the
seed validation set's main themes, SIB-200 categories or the pseudo-news categories).

Corpora: ``seeds`` (with ``experiments/codebook.toml``), ``seeds-nocb`` (no codebook),
``sib-sentence`` (SIB-200, five languages, one file per sentence), ``sib-language`` (one file
per language), ``news-ky``/``news-ru``/``news-mn`` (SIB-200 pseudo-news articles of 3-5
sentences, built as in ``bench_articles.py``).

Usage::

    python experiments/bench_stability.py [--corpora seeds seeds-nocb ...] [--draws 4]
        [--seeds 1 2] [--no-cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
SIB = ROOT.parent / "shared" / "eval" / "sib200"
ALL = ["seeds", "seeds-nocb", "sib-sentence", "sib-language", "news-ky", "news-ru", "news-mn"]


def noisy(vectors: np.ndarray, rel: float, seed: int) -> np.ndarray:
    """``vectors`` plus Gaussian noise of relative norm ``rel`` per row, renormalised."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(vectors.shape)
    noise *= (
        rel
        * np.linalg.norm(vectors, axis=1, keepdims=True)
        / np.linalg.norm(noise, axis=1, keepdims=True)
    )
    out = vectors + noise
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def build_corpus(name: str, folder: Path) -> tuple[Path, str, pd.DataFrame | None]:
    """Corpus folder, codebook ('' for none) and labels (doc_id -> label) of a bench corpus."""
    if name in ("seeds", "seeds-nocb"):
        cb = str(ROOT / "experiments" / "codebook.toml") if name == "seeds" else ""
        return ROOT / "seeds", cb, None
    if name.startswith("sib-"):
        from bench_sib200 import load_sib

        frames = load_sib(SIB)
        corpus = folder / name
        corpus.mkdir()
        rows = []
        for c, df in frames.items():
            if name == "sib-language":
                (corpus / f"{c}.txt").write_text("\n\n".join(df["text"]) + "\n", "utf-8")
            else:
                for i, (text, cat) in enumerate(zip(df["text"], df["category"], strict=True)):
                    (corpus / f"{c}_{i:04d}.txt").write_text(text + "\n", "utf-8")
                    rows.append({"doc_id": f"{c}_{i:04d}", "label": cat})
        return corpus, "", pd.DataFrame(rows) if rows else None
    if name.startswith("news-"):
        from bench_articles import build

        lang = {"news-ky": "kir_Cyrl", "news-ru": "rus_Cyrl", "news-mn": "khk_Cyrl"}[name]
        labels = build(SIB, lang, folder / name, 0).rename(columns={"category": "label"})
        return folder / name, "", labels
    raise SystemExit(f"unknown corpus {name!r}; choose from {ALL}")


def topics_of(result) -> pd.Series:
    seg = result.segments
    seg = seg[seg["topic"].notna()]
    return pd.Series(seg["topic"].astype(int).to_numpy(), index=seg["segment_id"].astype(str))


def cut_of(manifest: dict) -> str:
    """The consensus cut of a run (rule and level), from its manifest."""
    c = manifest.get("model", {}).get("topics", {}).get("consensus") or {}
    return f"cut {c.get('rule')} {c.get('cut')}"


def summary(topics: pd.Series) -> tuple[int, float]:
    return int(len(set(topics) - {-1})), float(np.mean(topics.to_numpy() < 0))


def quality(name: str, result, labels: pd.DataFrame | None) -> str:
    seg = result.segments[result.segments["topic"].notna()]
    if name.startswith("seeds"):
        from bench_seeds import evaluated

        gold = pd.read_csv(ROOT / "experiments" / "seed_labels.csv", dtype=str,
                           keep_default_na=False)  # fmt: skip
        m, _ = evaluated(result.segments, gold)
        topics = result.segments.loc[m["idx"], "topic"].astype(int)
        main = [g[0] for g in m["gold"]]
        return f"AMI vs main themes {adjusted_mutual_info_score(main, topics):.3f}"
    if labels is None:
        return ""
    if name.startswith("news-"):
        dom = seg.groupby("doc_id")["topic"].agg(lambda t: t.astype(int).value_counts().index[0])
        j = labels.set_index("doc_id").join(dom.rename("topic"), how="inner")
        return (f"article AMI {adjusted_mutual_info_score(j['label'], j['topic']):.3f} "
                f"ARI {adjusted_rand_score(j['label'], j['topic']):.3f}")  # fmt: skip
    j = labels.set_index("doc_id").join(
        seg.groupby("doc_id")["topic"].first().astype(int).rename("topic"), how="inner"
    )
    j["lang"] = [d.split("_")[0] for d in j.index]
    j["sent"] = [d.split("_")[1] for d in j.index]
    wide = j.pivot(index="sent", columns="lang", values="topic")
    kre = float(np.mean((wide["ky"] == wide["ru"]) & (wide["ru"] == wide["en"])))
    modal = float(np.mean(wide.apply(lambda r: r.value_counts().iloc[0] / r.notna().sum(), axis=1)))
    ami = adjusted_mutual_info_score(j["label"], j["topic"])
    return f"ky=ru=en {kre:.3f} modal {modal:.3f} AMI {ami:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", nargs="+", default=ALL)
    ap.add_argument("--draws", type=int, default=4)
    ap.add_argument("--noise", type=float, default=1e-3)
    ap.add_argument("--seeds", type=int, nargs="*", default=[])
    ap.add_argument("--no-cpu", action="store_true", help="skip the other-CPU subprocess")
    args = ap.parse_args(argv)

    from topics.config import RunConfig
    from topics.pipeline import run, write_run

    rows = []
    for name in args.corpora:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            corpus, codebook, labels = build_corpus(name, tmp)
            cfg = RunConfig(corpus=str(corpus), seed=0)
            cfg.themes.codebook = codebook
            t0 = time.perf_counter()
            base = run(cfg)
            secs = time.perf_counter() - t0
            ref = topics_of(base)
            k0, out0 = summary(ref)
            row = {"corpus": name, "n": len(ref), "topics": k0, "outliers": round(out0, 3),
                   "run_s": round(secs, 1), "quality": quality(name, base, labels)}  # fmt: skip
            print(f"{name}: {row}, {cut_of(base.manifest)}", flush=True)
            saved = base.embeddings
            aris, ks, outs = [], [], []
            for d in range(args.draws):
                pert = dataclasses.replace(
                    saved,
                    vectors=noisy(saved.vectors, args.noise, 1000 + d),
                    codebook={
                        k: (h, noisy(v, args.noise, 2000 + 10 * d + i))
                        for i, (k, (h, v)) in enumerate(sorted(saved.codebook.items()))
                    },
                )
                res = run(cfg, saved=pert)
                t = topics_of(res).reindex(ref.index)
                aris.append(adjusted_rand_score(ref, t))
                k, o = summary(t)
                ks.append(k)
                outs.append(round(o, 3))
                print(f"  noise draw {d}: ARI {aris[-1]:.3f}, {k} topics, outliers {o:.3f}, "
                      f"{cut_of(res.manifest)}", flush=True)  # fmt: skip
            row.update({"noise_ARI_median": round(float(np.median(aris)), 3) if aris else None,
                        "noise_ARI_min": round(float(np.min(aris)), 3) if aris else None,
                        "noise_topics": ks, "noise_outliers": outs,
                        "same_count": f"{sum(k == k0 for k in ks)}/{len(ks)}"})  # fmt: skip
            if not args.no_cpu:
                run_dir, other = tmp / "run", tmp / "other"
                write_run(base, run_dir, report=False)
                env = {**os.environ, "OPENBLAS_CORETYPE": "Prescott", "NUMBA_CPU_NAME": "generic"}
                cmd = [sys.executable, "-m", "topics.cli", "run", "--config",
                       str(run_dir / "config.toml"), "--out", str(other), "--quiet",
                       "--no-report"]  # fmt: skip
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if proc.returncode:
                    sys.exit(proc.stderr[-3000:])
                seg = pd.read_csv(other / "segments.csv", keep_default_na=False, dtype=str)
                seg = seg[seg["topic"] != ""]
                t = pd.Series(seg["topic"].astype(int).to_numpy(), index=seg["segment_id"])
                t = t.reindex(ref.index)
                k, o = summary(t)
                row.update({"cpu_ARI": round(adjusted_rand_score(ref, t), 3), "cpu_topics": k,
                            "cpu_outliers": round(o, 3)})  # fmt: skip
                manifest = json.loads((other / "manifest.json").read_text("utf-8"))
                print(f"  other CPU: ARI {row['cpu_ARI']:.3f}, {k} topics, outliers {o:.3f}, "
                      f"{cut_of(manifest)}", flush=True)  # fmt: skip
            seed_aris = []
            for s in args.seeds:
                t = topics_of(run(dataclasses.replace(cfg, seed=s))).reindex(ref.index)
                seed_aris.append(round(adjusted_rand_score(ref, t), 3))
            if seed_aris:
                row["seed_ARI"] = seed_aris
                print(f"  seeds {args.seeds}: ARI {seed_aris}", flush=True)
            rows.append(row)
    print()
    table = pd.DataFrame(rows).astype(str)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for r in table.itertuples(index=False):
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
