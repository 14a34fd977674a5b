"""Article-level topics on a pseudo-news corpus built from SIB-200 (one language).

A proxy for the news-article use case (documents of several paragraphs with one label each):
the 1,004 SIB-200 sentences of one language are grouped by category into "articles" of 3-5
sentences (one sentence per paragraph), written as a corpus folder and run through
`topics run` with default settings. Each article's dominant topic (the mode of its
paragraphs' topics) is compared with its category: AMI, ARI, outlier share, topic count.

Usage::

    python experiments/bench_articles.py [--lang kir_Cyrl] [--seed 0] [--layout block]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIB = ROOT.parent / "shared" / "eval" / "sib200"


def build(
    sib: Path, lang: str, folder: Path, seed: int, layout: str = "paragraphs"
) -> pd.DataFrame:
    frames = [
        pd.read_csv(sib / lang / f"{s}.tsv", sep="\t", quoting=3) for s in ("train", "dev", "test")
    ]
    data = pd.concat(frames).sort_values("index_id").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    rows = []
    folder.mkdir(parents=True)
    k = 0
    for cat, group in data.groupby("category"):
        texts = group["text"].tolist()
        rng.shuffle(texts)
        i = 0
        while i < len(texts):
            size = int(rng.integers(3, 6))
            chunk = texts[i : i + size]
            i += size
            name = f"a{k:04d}.txt"
            sep = "\n\n" if layout == "paragraphs" else " "
            (folder / name).write_text(sep.join(chunk) + "\n", "utf-8")
            rows.append({"doc_id": f"a{k:04d}", "category": cat})
            k += 1
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sib", type=Path, default=DEFAULT_SIB)
    ap.add_argument("--lang", default="kir_Cyrl")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--layout",
        choices=["paragraphs", "block"],
        default="paragraphs",
        help="one sentence per paragraph (default) or each article as one paragraph",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        labels = build(args.sib, args.lang, tmp / "corpus", args.seed, args.layout)
        out = tmp / "run"
        cmd = [sys.executable, "-m", "topics.cli", "run", str(tmp / "corpus"), "--out", str(out),
               "--quiet", "--no-report", "--seed", str(args.seed)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr[-3000:])
        seg = pd.read_csv(out / "segments.csv", keep_default_na=False, dtype={"doc_id": str})
        seg = seg[seg["topic"] != ""]
        seg["topic"] = seg["topic"].astype(int)
        dominant = seg.groupby("doc_id")["topic"].agg(lambda t: t.value_counts().index[0])
        merged = labels.set_index("doc_id").join(dominant.rename("topic"), how="inner")
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    model = manifest["model"]
    print(f"{args.lang}: {len(merged)} articles, {len(seg)} paragraphs, "
          f"{model['n_topics']} topics, outliers {model['outlier_share']:.3f}")  # fmt: skip
    print(f"article AMI {adjusted_mutual_info_score(merged['category'], merged['topic']):.3f}  "
          f"ARI {adjusted_rand_score(merged['category'], merged['topic']):.3f}  "
          f"(articles whose dominant topic is -1: {np.mean(merged['topic'] < 0):.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
