"""Paper-ready static figures: every report figure as PNG, SVG and/or PDF.

``topics export DIR --format png,svg,pdf`` writes ``DIR/figures/NAME.EXT`` for every figure of
:func:`topics.figures.all_figures`, at journal column size, with the report's Cyrillic-capable
fonts and colour-blind-safe palette. SVG and PDF keep text as text (vector), so labels stay
editable and searchable.

Static export uses kaleido 1.x, which drives a Chromium browser. Debian's ``chromium``
(``apt-get install chromium`` or ``bash .ci/install --browser``) is found automatically;
set ``BROWSER_PATH`` to use another browser.

Example
-------
>>> from topics.export import export_figures
>>> export_figures("results/seeds", formats=("svg", "pdf"))    # doctest: +SKIP
[PosixPath('results/seeds/figures/corpus_overview.svg'), ...]
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from topics import figures as F
from topics.errors import TopicsError
from topics.result import Result

__all__ = ["FORMATS", "find_browser", "export_figures"]

#: Formats :func:`export_figures` writes.
FORMATS = ("png", "svg", "pdf")
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_INSTALL_HINT = (
    "static figure export needs a Chromium browser (used by kaleido): install it with "
    "`apt-get install chromium` (or `bash .ci/install --browser`), or set BROWSER_PATH to a "
    "Chrome/Chromium executable."
)


def find_browser() -> str:
    """Path of the Chromium/Chrome executable kaleido should drive.

    Looks at ``BROWSER_PATH``, then the ``PATH`` (``chromium``, ``google-chrome``, ...), then
    ``/usr/bin/chromium``, then a browser kaleido installed itself.

    Returns
    -------
    str

    Raises
    ------
    topics.errors.TopicsError
        When no browser is found, saying how to install one.
    """
    env = os.environ.get("BROWSER_PATH")
    if env:
        if Path(env).is_file():
            return env
        raise TopicsError(f"BROWSER_PATH={env!r} does not exist; {_INSTALL_HINT}")
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    try:  # a browser kaleido/choreographer downloaded earlier (never downloads here)
        from choreographer.utils._which import browser_which

        found = browser_which()
        if found:
            return str(found)
    except Exception:  # noqa: BLE001 - private API of a dependency; absence is not an error
        pass
    raise TopicsError(_INSTALL_HINT)


@contextlib.contextmanager
def _browser_env(path: str) -> Iterator[None]:
    """Set ``BROWSER_PATH`` for the duration of an export only (restored afterwards)."""
    old = os.environ.get("BROWSER_PATH")
    os.environ["BROWSER_PATH"] = path
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("BROWSER_PATH", None)
        else:
            os.environ["BROWSER_PATH"] = old


def export_figures(
    run_dir: str | Path,
    formats: Sequence[str] = FORMATS,
    *,
    scale: float = 3.0,
    names: Sequence[str] | None = None,
) -> list[Path]:
    """Write every report figure of a run to ``run_dir/figures/NAME.EXT``.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A run folder written by ``topics run``.
    formats : sequence of {"png", "svg", "pdf"}, default all three
    scale : float, default 3.0
        Resolution multiplier for PNG (3 gives about 290 dpi at the figure's print size);
        SVG and PDF are vector and ignore it.
    names : sequence of str, optional
        Only these figures (names of :data:`topics.figures.FIGURES`).

    Returns
    -------
    list of pathlib.Path
        The files written, figure by figure.

    Raises
    ------
    topics.errors.TopicsError
        Unknown format or figure name, or no browser for kaleido.
    """
    run_dir = Path(run_dir)
    formats = [f.strip().lower().lstrip(".") for f in formats if f.strip()]
    bad = sorted(set(formats) - set(FORMATS))
    if bad or not formats:
        raise TopicsError(f"unknown figure format(s) {bad or formats}; choose from {FORMATS}")
    try:
        result = Result.load(run_dir)
    except FileNotFoundError as exc:
        raise TopicsError(str(exc)) from exc
    figs = F.all_figures(result, similarity=result.similarity)
    if names is not None:
        unknown = sorted(set(names) - set(F.FIGURES))
        if unknown:
            raise TopicsError(f"unknown figure(s) {unknown}; choose from {sorted(F.FIGURES)}")
        figs = {k: v for k, v in figs.items() if k in names}
    if not figs:
        raise TopicsError(f"{run_dir}: no figure can be drawn (no modelled segments?)")
    return _write_all(figs, formats, scale, run_dir)


def _write_all(figs: dict, formats: Sequence[str], scale: float, run_dir: Path) -> list[Path]:
    """Write every figure in every format to ``run_dir/figures`` in one browser session.

    The files are written to a staging folder first and moved into ``figures/`` only when
    every one exists: a failed export (no browser, a crash half-way) leaves no half-written
    figures.
    """
    import plotly.io as pio

    browser = find_browser()
    out_dir = run_dir / "figures"
    stage = Path(tempfile.mkdtemp(prefix=".figures-", dir=run_dir))
    batch, paths, scales, widths, heights = [], [], [], [], []
    for name, fig in figs.items():
        for fmt in formats:
            batch.append(fig)
            paths.append(stage / f"{name}.{fmt}")
            scales.append(scale if fmt == "png" else 1.0)
            # kaleido ignores the layout size unless it is passed explicitly
            widths.append(fig.layout.width)
            heights.append(fig.layout.height)
    try:
        with _browser_env(browser):
            try:
                # One browser session for all figures (kaleido 1.x starts a browser per call).
                pio.write_images(batch, paths, scale=scales, width=widths, height=heights)
            except Exception as exc:
                if "browser" in str(exc).lower() or "chrome" in str(exc).lower():
                    raise TopicsError(f"figure export failed ({exc}); {_INSTALL_HINT}") from exc
                raise
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise TopicsError(f"figure export wrote no file for {missing}; nothing was kept")
        out_dir.mkdir(exist_ok=True)
        final = []
        for path in paths:
            final.append(path.replace(out_dir / path.name))
        return final
    finally:
        shutil.rmtree(stage, ignore_errors=True)
