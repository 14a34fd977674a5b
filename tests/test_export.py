from __future__ import annotations

import re
import struct

import pytest
from test_figures import make_result

from topics import _style, export, figures
from topics.errors import TopicsError


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_export_writes_every_figure_in_every_format(tmp_path):
    _, run_dir = make_result(tmp_path)
    written = export.export_figures(run_dir, formats=("png", "svg", "pdf"), scale=2)
    expected = {
        run_dir / "figures" / f"{name}.{fmt}" for name in figures.FIGURES for fmt in export.FORMATS
    }
    assert set(written) == expected
    assert all(p.stat().st_size > 1000 for p in written)
    # PNG at the journal size times the scale
    w, h = _png_size((run_dir / "figures" / "topic_stability.png").read_bytes())
    assert w == 2 * _style.COLUMN_WIDTH["single"]
    w, _ = _png_size((run_dir / "figures" / "topic_map.png").read_bytes())
    assert w == 2 * _style.COLUMN_WIDTH["double"]
    # SVG keeps text as text, including Kyrgyz Cyrillic, in the Cyrillic-capable font stack
    svg = (run_dir / "figures" / "group_comparison.svg").read_text("utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert any("мугалимдерди даярдоо" in t for t in texts)
    assert "DejaVu Sans" in svg
    assert "rgb(0, 114, 178)" in svg and "rgb(230, 159, 0)" in svg  # Okabe-Ito blue, orange
    # document text never becomes markup in the SVG (topic map hover text is not exported)
    assert "<script>alert" not in (run_dir / "figures" / "topic_map.svg").read_text("utf-8")
    assert (run_dir / "figures" / "topic_map.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.slow
def test_export_subset_of_names(tmp_path):
    _, run_dir = make_result(tmp_path)
    written = export.export_figures(run_dir, formats=["svg"], names=["topic_stability"])
    assert written == [run_dir / "figures" / "topic_stability.svg"]


def test_export_rejects_bad_arguments(tmp_path):
    _, run_dir = make_result(tmp_path)
    with pytest.raises(TopicsError, match="unknown figure format"):
        export.export_figures(run_dir, formats=("gif",))
    with pytest.raises(TopicsError, match="unknown figure"):
        export.export_figures(run_dir, formats=("svg",), names=["nope"])
    with pytest.raises(TopicsError, match="not a run folder"):
        export.export_figures(tmp_path / "missing", formats=("svg",))
    assert not (run_dir / "figures").exists()


def test_failed_export_leaves_no_half_written_figures(tmp_path, monkeypatch):
    """A crash half-way (after the first file) keeps nothing: figures/ is untouched and the
    staging folder is gone."""
    import plotly.io as pio

    _, run_dir = make_result(tmp_path)
    (run_dir / "figures").mkdir()
    (run_dir / "figures" / "old.svg").write_text("<svg/>", "utf-8")

    def half_way(figs, paths, **kwargs):
        paths[0].write_bytes(b"partial")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(pio, "write_images", half_way)
    monkeypatch.setattr(export, "find_browser", lambda: "/nonexistent/chromium")
    with pytest.raises(RuntimeError, match="renderer crashed"):
        export.export_figures(run_dir, formats=("svg",))
    assert sorted(p.name for p in (run_dir / "figures").iterdir()) == ["old.svg"]
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".figures-")]


def test_find_browser_messages(monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-browser"))
    with pytest.raises(TopicsError, match="apt-get install chromium"):
        export.find_browser()
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("BROWSER_PATH", str(fake))
    assert export.find_browser() == str(fake)
