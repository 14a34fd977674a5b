"""Runs never lose work: Ctrl-C during embedding resumes from the cache; concurrent runs
share one cache safely."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEEDS

pytestmark = pytest.mark.slow


def _run_cmd(out: Path, cache: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "topics.cli", "run", str(SEEDS), "--out", str(out),
        "--cache-dir", str(cache), "--no-report", "--quiet", *extra,
    ]  # fmt: skip


def _cached_rows(cache: Path) -> int:
    db = cache / "embeddings.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM emb").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_interrupted_run_resumes_from_cache(tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "run"
    proc = subprocess.Popen(
        _run_cmd(out, cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 300
    while _cached_rows(cache) < 32 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err
    assert not out.exists()  # nothing half-written
    done_before = _cached_rows(cache)
    assert done_before >= 32

    again = subprocess.run(_run_cmd(out, cache), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    stats = json.loads((out / "manifest.json").read_text("utf-8"))["model"]["cache"]
    assert stats["n_cached"] >= done_before  # the first run's work was kept
    assert stats["n_embedded"] == stats["n_texts"] - stats["n_cached"]


def test_two_runs_at_once_share_the_cache(tmp_path):
    cache = tmp_path / "cache"
    outs = [tmp_path / "a", tmp_path / "b"]
    procs = [
        subprocess.Popen(_run_cmd(o, cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for o in outs
    ]
    for p in procs:
        p.communicate(timeout=900)
        assert p.returncode == 0
    a, b = ((o / "segments.csv").read_bytes() for o in outs)
    assert a == b
    con = sqlite3.connect(cache / "embeddings.sqlite")
    (bad,) = con.execute("SELECT COUNT(*) FROM emb WHERE length(vec) != dim * 4").fetchone()
    con.close()
    assert bad == 0  # no vector half-written by two writers
