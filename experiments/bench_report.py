"""Report size and render time for a synthetic run of N paragraphs (no model, no embedding).

A result like a national corpus's: documents of 5-60 paragraphs, paragraphs of 1-3 SIB-200
sentences (ky 60%, ru 30%, en 10%), K topics of Zipf-like sizes with 5% outliers and 2-D
points around their centres, 8 themes, ``focus``/``year``/``title`` metadata, and the
comparison tables that :func:`topics.compare.compare` computes for it (``n_boot`` and
``n_perm`` 200: the tables' size does not depend on them). Then, per size: the time to
build the page (:func:`topics.report.render_report`), its size, and the wall time of
headless Chromium loading it until every figure is drawn (the page's own check sets
``data-rendered``).

    python experiments/bench_report.py [--n 10000 1000000] [--topics 120] [--uncapped]

``--uncapped`` renders with the caps lifted (every point, document and row), i.e. the
report as it was before the caps, for comparison at small N.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pool(data: Path, rng: np.random.Generator, n_paragraphs: int = 6000) -> tuple[list, list]:
    texts, langs = [], []
    pools = {}
    for lang in ("kir_Cyrl", "rus_Cyrl", "eng_Latn"):
        frames = [pd.read_csv(data / lang / f"{s}.tsv", sep="\t") for s in ("train", "dev")]
        pools[lang] = pd.concat(frames)["text"].astype(str).tolist()
    code = {"kir_Cyrl": "ky", "rus_Cyrl": "ru", "eng_Latn": "en"}
    for lang in rng.choice(list(pools), size=n_paragraphs, p=[0.6, 0.3, 0.1]):
        k = int(rng.integers(1, 4))
        texts.append(" ".join(pools[lang][i] for i in rng.choice(len(pools[lang]), k)))
        langs.append(code[lang])
    return texts, langs


def synthetic_result(n: int, n_topics: int, data: Path, seed: int = 0):
    """A :class:`topics.result.Result` of ``n`` modelled paragraphs (see the module doc)."""
    from topics import compare
    from topics.result import Result

    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 61, size=n // 5 + 1)
    n_docs = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    doc = np.repeat(np.arange(n_docs), sizes[:n_docs])[:n]
    pos = np.arange(n) - np.searchsorted(doc, doc)  # paragraph number within its document
    pool, pool_lang = _pool(data, rng)
    pick = rng.integers(0, len(pool), n)
    weights = 1.0 / np.arange(1, n_topics + 1)
    topic = rng.choice(n_topics, size=n, p=weights / weights.sum())
    topic[rng.random(n) < 0.05] = -1
    centres = rng.normal(scale=8.0, size=(n_topics + 1, 2))
    xy = centres[topic] + rng.normal(scale=0.6, size=(n, 2))
    themes = [f"theme {i}" for i in range(8)]
    theme = np.where(topic >= 0, np.array(themes)[np.maximum(topic, 0) % 8], "")
    focus = rng.choice(["policy", "school", "university", "teacher"], size=n_docs)
    year = rng.integers(2015, 2025, size=n_docs)
    doc_ids = np.array([f"doc{d:06d}" for d in range(n_docs)])
    seg = pd.DataFrame(
        {
            "doc_id": doc_ids[doc],
            "segment_id": [f"doc{d:06d}-{p:03d}" for d, p in zip(doc, pos, strict=True)],
            "article": 0,
            "section": "body",
            "language": np.array(pool_lang)[pick],
            "text": np.array(pool, dtype=object)[pick],
            "n_chars": np.array([len(t) for t in pool])[pick],
            "title": np.array([f"Report {d} on education" for d in range(n_docs)])[doc],
            "focus": focus[doc],
            "year": year[doc],
            "topic": topic,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "theme": theme,
            "theme_score": rng.random(n),
        }
    )
    labels = {k: f"topic {k} label words" for k in range(n_topics)}
    seg["topic_label"] = seg["topic"].map(labels).fillna("")
    counts = np.bincount(topic[topic >= 0], minlength=n_topics)
    topics = pd.DataFrame(
        {
            "topic": np.arange(n_topics),
            "label": [labels[k] for k in range(n_topics)],
            "words": ["мектеп, окуучу, билим, мугалим, сабак"] * n_topics,
            "size": counts,
            "share": counts / n,
            "languages": ["ky 60%, ru 30%, en 10%"] * n_topics,
            "stability": rng.uniform(0.6, 1.0, n_topics),
            "theme": [themes[k % 8] for k in range(n_topics)],
        }
    )
    theme_tab = pd.DataFrame(
        {
            "theme": themes,
            "description": [f"description of {t}" for t in themes],
            "keywords": ["a, b, c"] * 8,
            "n_segments": [int((theme == t).sum()) for t in themes],
            "topics": [", ".join(str(k) for k in range(i, n_topics, 8)) for i in range(8)],
        }
    )
    documents = pd.DataFrame(
        {
            "doc_id": doc_ids,
            "title": [f"Report {d} on education" for d in range(n_docs)],
            "focus": focus,
            "year": year,
            "n_segments": np.bincount(doc, minlength=n_docs),
        }
    )
    t = time.perf_counter()
    prev, diff = compare.compare(seg, by=["focus", "year"], n_boot=200, n_perm=200, random_state=0)
    t_compare = time.perf_counter() - t
    manifest = {
        "corpus": {"path": f"synthetic-{n}", "metadata_columns": ["title", "focus", "year"]},
        "counts": {"documents": n_docs, "segments": n},
        "run": {"seed": seed, "n_modelled_segments": n},
        "model": {"n_topics": n_topics, "outlier_share": float((topic < 0).mean())},
    }
    result = Result(
        segments=seg,
        documents=documents,
        topics=topics,
        themes=theme_tab,
        prevalence=prev,
        differences=diff,
        manifest=manifest,
        config={"seed": seed},
    )
    return result, t_compare


def chromium_render(path: Path, tmp: Path) -> tuple[float, float, dict]:
    """Wall and CPU seconds of headless Chromium loading ``path``; the page's check attributes.

    The CPU seconds (all Chromium processes) do not grow when other jobs share the machine;
    the wall seconds do.
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        raise SystemExit("chromium not found: bash .ci/install --browser")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp / 'profile'}",
        "--virtual-time-budget=1000",
        "--window-size=1366,768",
        "--dump-dom",
        path.resolve().as_uri(),
    ]
    t, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    seconds, cpu = time.perf_counter() - t, _children_cpu() - cpu
    body = re.search(r"<body([^>]*)>", proc.stdout)
    attrs = dict(re.findall(r'data-(\w+)="(\d+)"', body.group(1))) if body else {}
    return seconds, cpu, attrs


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 1_000_000])
    ap.add_argument("--topics", type=int, default=120)
    ap.add_argument("--uncapped", action="store_true", help="lift the caps (as before them)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval/sib200")
    args = ap.parse_args()

    from topics import figures, report

    if args.uncapped:
        figures.MAP_MAX_POINTS = figures.MAX_DOCS = report.MAX_TABLE_ROWS = 10**12
    print(
        "N        docs compare_s render_s (cpu)  MB   chromium_s (cpu)  figures rendered errors"
        "  load"
    )
    for n in args.n:
        result, t_compare = synthetic_result(n, args.topics, args.data)
        t, cpu = time.perf_counter(), time.process_time()
        page = report.render_report(result)
        t_render, cpu_render = time.perf_counter() - t, time.process_time() - cpu
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "report.html"
            path.write_text(page, "utf-8")
            mb = path.stat().st_size / 1e6
            t_chrome, cpu_chrome, attrs = chromium_render(path, Path(tmp))
        print(
            f"{n:<8d} {result.documents.shape[0]:5d} {t_compare:9.1f} {t_render:8.1f} "
            f"({cpu_render:4.1f}) {mb:5.1f} {t_chrome:8.1f} ({cpu_chrome:4.1f}) "
            f"{attrs.get('figures', '?'):>8s} {attrs.get('rendered', '?'):>8s} "
            f"{attrs.get('errors', '?'):>6s} {os.getloadavg()[0]:5.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
