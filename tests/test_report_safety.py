"""No string of the corpus runs as script in the report: file names, corpus.csv headers and
values, codebook names and document text carry payloads, and headless Chromium checks."""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest
from conftest import SMALL_VOCABULARIES
from test_report import _chromium

import topics


def _payload(tag: str) -> str:
    mark = f"document.body.setAttribute('data-pwned','{tag}')"
    return f'"><script>{mark}</script><img src=x onerror="{mark}">'


def make_hostile_corpus(folder):
    import numpy as np

    folder.mkdir()
    rng = np.random.default_rng(1)
    rows = []
    for i in range(6):
        # every file name is hostile (no "/" in a file name)
        name = f"doc{i}" + _payload(f"file{i}").replace("/", "") + ".txt"
        paras = [
            " ".join(rng.choice(SMALL_VOCABULARIES[(i + j) % 3], size=14)).capitalize() + "."
            for j in range(8)
        ]
        paras[0] += " " + _payload("text")
        (folder / name).write_text("\n\n".join(paras) + "\n", "utf-8")
        rows.append(
            {
                "file": name,
                "focus": ("school", "university")[i % 2],
                _payload("header"): ("a", _payload("value"))[i % 2 == 0 or i == 1],
                "title": _payload("title"),
            }
        )
    pd.DataFrame(rows).to_csv(folder / "corpus.csv", index=False)
    evil = _payload("theme").replace('"', "'")
    (folder.parent / "codebook.toml").write_text(
        f'[[theme]]\nname = "{evil}"\ndescription = "{evil}"\n'
        'keywords = ["мугалим", "мектеп", "окуучу"]\n\n'
        '[[theme]]\nname = "digital"\ndescription = "online"\n'
        'keywords = ["интернет", "компьютер", "онлайн"]\n',
        "utf-8",
    )
    return folder.parent / "codebook.toml"


@pytest.mark.slow
def test_no_corpus_string_runs_as_script(tmp_path):
    browser = _chromium()
    assert browser, "chromium not installed: run `bash .ci/install --browser`"
    codebook = make_hostile_corpus(tmp_path / "corpus")
    result = topics.run(tmp_path / "corpus", themes=codebook, consensus_runs=3, n_boot=100,
                        n_perm=100)  # fmt: skip
    meta = result.manifest["corpus"]["metadata_columns"]
    assert _payload("header") in meta  # the hostile column is compared by
    assert _payload("header") in set(result.prevalence["by"])
    out = result.save(tmp_path / "run")
    page = (out / "report.html").read_text("utf-8")
    assert "<script>document" not in page and "<img src=x" not in page
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
        "--dump-dom", (out / "report.html").resolve().as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    assert "data-pwned" not in body.group(1), body.group(1)
    attrs = dict(re.findall(r'data-(\w+)="(\d+)"', body.group(1)))
    assert attrs.get("errors") == "0" and attrs.get("figures") == attrs.get("rendered"), attrs
    # the payloads are shown as text
    assert "&lt;script&gt;document.body.setAttribute" in dom
