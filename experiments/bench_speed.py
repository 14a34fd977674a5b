"""Speed and memory of a full run with the embedded model.

Measures, each in a fresh subprocess (`topics run`):

1. cold run on `seeds/` with an empty embedding cache (target <= 90 s);
2. warm rerun with another seed, same cache (target <= 25% of cold);
   also, for reference, the first run after installing: empty embedding cache *and* an empty
   numba cache (umap and pynndescent compile their kernels once, then keep them on disk);
3. peak RSS of each run (target <= 2.5 GB);
4. embedding throughput (segments/s, tokens/s) from the manifest;
5. a larger corpus (SIB-200, 5 languages x 1,004 sentences as 100 documents, cold cache): the
   whole run's time as a multiple of its embedding time (target <= 1.7x), and a warm rerun of
   it with another seed (cached embeddings; target <= 25% of its cold run).

Every run prints the machine's load average before and after it: on a shared machine the wall
times are only comparable at a low load.

Usage::

    python experiments/bench_speed.py [--sib PATH] [--skip-large]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIB = ROOT.parent / "shared" / "eval" / "sib200"


def run_topics(corpus: Path, out: Path, cache: Path, seed: int, extra=(), env=None) -> dict:
    """One `topics run` in a subprocess; wall time, peak RSS and the manifest."""
    cmd = [
        sys.executable,
        "-m",
        "topics.cli",
        "run",
        str(corpus),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        "--seed",
        str(seed),
        "--quiet",
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"run failed:\n{proc.stderr[-3000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    load = f"{load:.1f} -> {os.getloadavg()[0]:.1f}"
    print(f"{corpus.name} seed {seed}: {wall:.1f} s (load {load})", flush=True)
    return {
        "wall_s": wall,
        "peak_rss_gb": max(peak_kb, before) / 1024**2,
        "manifest": manifest,
        "load": load,
    }


def sib_corpus(sib: Path, folder: Path) -> int:
    """Write SIB-200 sentences as a corpus: 100 documents of ~50 one-sentence paragraphs."""
    sys.path.insert(0, str(ROOT / "experiments"))
    from bench_sib200 import load_sib  # noqa: PLC0415

    data = load_sib(sib)
    folder.mkdir(parents=True)
    n = 0
    for lang, frame in data.items():
        texts = frame["text"].tolist()
        for d in range(20):
            chunk = texts[d::20]
            (folder / f"{lang}_{d:02d}.txt").write_text("\n\n".join(chunk) + "\n", "utf-8")
            n += len(chunk)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sib", type=Path, default=DEFAULT_SIB)
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        themes = ["--themes", str(ROOT / "experiments" / "codebook.toml")]
        cold = run_topics(ROOT / "seeds", tmp / "cold", tmp / "cache", 0, themes)
        warm = run_topics(ROOT / "seeds", tmp / "warm", tmp / "cache", 1, themes)
        first_env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp / "numba")}
        first = run_topics(ROOT / "seeds", tmp / "first", tmp / "cache_first", 0, themes, first_env)
        m = cold["manifest"]
        emb = m["model"]["cache"]
        n_seg = m["run"]["n_modelled_segments"]
        tokens = emb.get("n_tokens")
        rows = [
            ("seeds cold run (s)", f"{cold['wall_s']:.1f}", "<= 90"),
            ("seeds warm rerun (s)", f"{warm['wall_s']:.1f}", ""),
            ("warm / cold", f"{warm['wall_s'] / cold['wall_s']:.2f}", "<= 0.25"),
            ("first run after install (s)", f"{first['wall_s']:.1f}", "empty numba cache too"),
            ("warm / first run", f"{warm['wall_s'] / first['wall_s']:.2f}", "for reference"),
            ("peak RSS (GB)", f"{max(cold['peak_rss_gb'], warm['peak_rss_gb']):.2f}", "<= 2.5"),
            ("segments modelled", str(n_seg), ""),
            ("segments embedded (cold)", str(emb["n_embedded"]), ""),
            ("embedding segments/s", f"{emb['n_embedded'] / emb['seconds']:.1f}", ""),
            ("embedding tokens/s", f"{tokens / emb['seconds']:.0f}" if tokens else "n/a", ""),
            ("warm: segments from cache", str(warm["manifest"]["model"]["cache"]["n_cached"]), ""),
            ("cold stage timings (s)", json.dumps(m["timings"]), ""),
        ]
        if not args.skip_large and args.sib.exists():
            n = sib_corpus(args.sib, tmp / "sib_corpus")
            large = run_topics(tmp / "sib_corpus", tmp / "large", tmp / "cache_large", 0)
            again = run_topics(tmp / "sib_corpus", tmp / "large_warm", tmp / "cache_large", 1)
            t = large["manifest"]["timings"]
            rows += [
                (f"SIB-200 corpus ({n} segments) wall (s)", f"{large['wall_s']:.1f}", ""),
                ("  run total / embedding", f"{t['total_s'] / t['embed_s']:.2f}", "<= 1.7"),
                ("  stage timings (s)", json.dumps(t), ""),
                ("  warm rerun, seed 1 (s)", f"{again['wall_s']:.1f}", ""),
                ("  warm / cold", f"{again['wall_s'] / large['wall_s']:.2f}", "<= 0.25"),
                ("  warm stage timings (s)", json.dumps(again["manifest"]["timings"]), ""),
                ("  peak RSS (GB)", f"{large['peak_rss_gb']:.2f}", "<= 2.5"),
            ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>10}  {target}")
    print(f"cpu cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
