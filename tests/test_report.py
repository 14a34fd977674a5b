from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import plotly.offline
import pytest
from test_figures import XSS, make_result

from topics import figures
from topics.report import render_report, write_report


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """The fixture run saved once for this module; tests only read it."""
    return make_result(tmp_path_factory.mktemp("report"))[1]


@pytest.fixture(scope="module")
def report(run_dir) -> tuple[Path, str]:
    path = write_report(run_dir)
    return path, path.read_text("utf-8")


def test_report_is_one_self_contained_file(run_dir, report):
    path, page = report
    assert path == run_dir / "report.html"
    assert page.startswith("<!DOCTYPE html>")
    # plotly.js embedded exactly once
    js = plotly.offline.get_plotlyjs()
    assert page.count(js[:200]) == 1
    assert page.count("<script") == page.count("</script>")
    # nothing loaded from the network: no external script/link/img/iframe source
    for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page, flags=re.I):
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", tag, flags=re.I), tag
    assert "cdn.plot.ly" not in page.replace(js, "")
    assert "mathjax" not in page.replace(js, "").lower()


def test_document_text_is_escaped(report):
    _, page = report
    assert XSS not in page
    assert "<b>html</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text
    assert "<i>markup</i>" not in page  # manifest warnings are data too
    assert "bad &lt;b&gt;.pdf" in page  # skipped-file names are escaped


def test_every_figure_and_section_present(run_dir, report):
    _, page = report
    res = figures.Result.load(run_dir)
    names = figures.all_figures(res, similarity=figures.load_similarity(run_dir))
    assert set(names) == set(figures.FIGURES)
    for name in names:
        assert page.count(f'id="fig-{name}"') == 1, name
    headings = ("Corpus", "Topic map", "Topics", "Themes", "Group comparison", "Validation")
    for heading in (*headings, "Run details"):
        assert f"<h2>{heading}</h2>" in page
    # intervals say their method and number of documents; paragraph-level ones are labelled
    assert "document bootstrap" in page
    assert "paragraph-level, not document-level" in page
    assert "ab" * 32 in page  # corpus hash from the manifest
    assert "мугалимдерди даярдоо" in page


def test_render_report_without_comparisons_or_themes(run_dir):
    res = figures.Result.load(run_dir)
    res.prevalence = res.differences = res.themes = None
    res.segments["theme"] = ""
    page = render_report(res)
    assert 'id="fig-topic_map"' in page
    assert "group_comparison" not in page
    assert "<h2>Group comparison</h2>" not in page


def _chromium() -> str | None:
    for cand in ("chromium", "chromium-browser"):
        found = shutil.which(cand)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    assert browser, "chromium not installed: run `bash .ci/install --browser`"
    path, page = report
    n_figures = page.count('class="plotly-graph-div"')
    # every named figure, plus report-only variants (e.g. effect trends by a moderator)
    assert n_figures == page.count('<div id="fig-') >= len(figures.FIGURES)
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # any network request would fail and be logged as a console error
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=15000",
        "--window-size=1366,768",
        "--dump-dom",
        path.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'data-(\w+)="(\d+)"', body.group(1)))
    assert attrs.get("figures") == str(n_figures), attrs
    assert attrs.get("rendered") == str(n_figures), attrs  # every figure drew its SVG
    assert attrs.get("errors") == "0", attrs
    # each figure div holds a rendered plot
    for name in figures.FIGURES:
        m = re.search(rf'<div id="fig-{name}"[^>]*>(.*?)</svg>', dom, flags=re.S)
        assert m and "main-svg" in m.group(1), name
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    bad = [c for c in console if re.search(r"error|uncaught|failed|refused", c, flags=re.I)]
    assert not bad, bad
    # escaped document text is displayed as text, not executed or parsed as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<b>html</b>" not in dom
