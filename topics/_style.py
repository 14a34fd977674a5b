"""Shared figure helpers: styling (palette, fonts, journal sizes, labels) and table selection.

Every figure of :mod:`topics.figures` goes through :func:`apply_style`, so fonts, colours and
sizes are decided here once:

- colours: the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies),
  grey for outliers and "no theme", ``cividis`` for heatmaps;
- fonts: a family stack that renders Kyrgyz Cyrillic (ң, ө, ү) on Debian (DejaVu Sans) and on
  other systems (Noto Sans, Arial);
- sizes: journal column widths in CSS pixels (96 px per inch), so exported PDF/SVG figures fit
  a single (85 mm) or double (178 mm) column without rescaling text.

Document text is data, never markup: plotly renders a few HTML tags in labels and hover text,
so any text that comes from documents goes through :func:`plain` or :func:`wrap` first.

The second half holds the read-only selections of a :class:`~topics.result.Result` that the
figures and the report share (topic ids, document labels, theme shares per document, which
interval a prevalence row carries). They select, count and reshape; they never estimate.
"""

from __future__ import annotations

import html
import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from topics.errors import NoDataError

if TYPE_CHECKING:
    from topics.result import Result

__all__ = [
    "PALETTE",
    "OUTLIER_COLOR",
    "NONE_COLOR",
    "SEQUENTIAL",
    "FONT_FAMILY",
    "FONT_SIZE",
    "COLUMN_WIDTH",
    "color_for",
    "symbol_for",
    "truncate",
    "plain",
    "wrap",
    "apply_style",
    "LANG_ORDER",
    "SECTION_ORDER",
    "NO_THEME",
    "topic_ids",
    "modelled",
    "topic_table",
    "short_label",
    "topic_labels",
    "doc_labels",
    "has_themes",
    "theme_order",
    "theme_shares",
    "load_similarity",
    "is_paragraph_level",
    "interval",
    "comparison_rows",
]

#: Okabe & Ito (2008) colour-blind-safe palette; yellow last (weak contrast on white).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow
)
OUTLIER_COLOR = "#BBBBBB"
NONE_COLOR = "#DDDDDD"
#: Sequential colour scale for heatmaps (designed for colour-vision deficiencies).
SEQUENTIAL = "cividis"
#: Font stack that renders Cyrillic, including the Kyrgyz letters ң, ө, ү.
FONT_FAMILY = "DejaVu Sans, Noto Sans, Liberation Sans, Arial, sans-serif"
#: Base font size in CSS pixels: about 7.5 pt printed at 100 %, the usual journal minimum.
FONT_SIZE = 10
#: Journal column widths in CSS pixels (96 px per inch): 85 mm and 178 mm.
COLUMN_WIDTH: dict[str, int] = {"single": 321, "double": 672}

_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")


def color_for(i: int) -> str:
    """Colour of the ``i``-th category (cycles through :data:`PALETTE`)."""
    return PALETTE[i % len(PALETTE)]


def symbol_for(i: int) -> str:
    """Marker symbol of the ``i``-th category, so categories stay distinct past 8 colours."""
    return _SYMBOLS[(i // len(PALETTE)) % len(_SYMBOLS)]


def truncate(text: object, n: int = 40) -> str:
    """Shorten a label to at most ``n`` characters, ending with an ellipsis when cut.

    Parameters
    ----------
    text : object
        Converted with ``str``; ``None`` and NaN become ``""``.
    n : int, default 40

    Returns
    -------
    str

    Examples
    --------
    >>> truncate("санариптик сабаттуулук", 12)
    'санариптик…'
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = " ".join(str(text).split())
    if len(s) <= n:
        return s
    return s[: max(n - 1, 1)].rstrip() + "…"


def plain(text: object, n: int | None = None) -> str:
    """Text safe to show in a plotly label or hover: ``&``, ``<`` and ``>`` escaped.

    Plotly interprets tags such as ``<b>`` and ``<a href>`` in labels; escaping shows them
    as the literal characters instead.

    Parameters
    ----------
    text : object
    n : int, optional
        Truncate to ``n`` characters first (see :func:`truncate`).

    Returns
    -------
    str
    """
    s = truncate(text, n) if n is not None else ("" if text is None else str(text))
    return html.escape(s, quote=False)


def wrap(text: object, width: int = 60, max_chars: int = 400) -> str:
    """Document text for hover boxes: truncated, wrapped with ``<br>``, each line escaped.

    Parameters
    ----------
    text : object
    width : int, default 60
        Line length in characters.
    max_chars : int, default 400
        Truncate longer text with an ellipsis.

    Returns
    -------
    str
    """
    s = truncate(text, max_chars)
    lines = textwrap.wrap(s, width=width, break_long_words=True) or [""]
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def apply_style(
    fig: go.Figure,
    width: Literal["single", "double"] | int = "double",
    height: int = 400,
    *,
    title: str | None = None,
    legend: bool = True,
) -> go.Figure:
    """Apply the shared look (white template, fonts, sizes, margins) to ``fig`` in place.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    width : {"single", "double"} or int, default "double"
        A journal column (see :data:`COLUMN_WIDTH`) or a width in CSS pixels.
    height : int, default 400
        Height in CSS pixels.
    title : str, optional
        Figure title (plain text; escaped here).
    legend : bool, default True
        Show the legend.

    Returns
    -------
    plotly.graph_objects.Figure
        ``fig`` itself, for chaining.
    """
    w = COLUMN_WIDTH[width] if isinstance(width, str) else int(width)
    fig.update_layout(
        template="simple_white",
        width=w,
        height=int(height),
        font={"family": FONT_FAMILY, "size": FONT_SIZE, "color": "#222222"},
        colorway=list(PALETTE),
        showlegend=legend,
        margin={"l": 10, "r": 10, "t": 40 if title else 20, "b": 10},
        hoverlabel={"font": {"family": FONT_FAMILY, "size": FONT_SIZE + 1}, "align": "left"},
        legend={"font": {"size": FONT_SIZE - 1}},
    )
    if title:
        fig.update_layout(
            title={"text": plain(title), "x": 0.01, "xanchor": "left", "font": {"size": 12}}
        )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


# ---------------------------------------------------------------- selections of a Result
LANG_ORDER = ("ky", "ru", "en", "kk", "mn", "tg", "other")
SECTION_ORDER = ("title", "abstract", "keywords", "body", "references")
NO_THEME = "(no theme)"


def topic_ids(segments: pd.DataFrame) -> pd.Series:
    """The topic column as nullable integers (CSV loads it as float with NaN)."""
    if "topic" not in segments:
        return pd.Series(pd.NA, index=segments.index, dtype="Int64")
    return pd.to_numeric(segments["topic"], errors="coerce").astype("Int64")


def modelled(result: Result) -> pd.DataFrame:
    seg = result.segments.copy()
    seg["topic"] = topic_ids(seg)
    seg["doc_id"] = seg["doc_id"].astype(str)
    return seg[seg["topic"].notna()]


def topic_table(result: Result) -> pd.DataFrame:
    if result.topics is None or result.topics.empty:
        raise NoDataError("this result has no topics table; run `topics run` first", absent=True)
    t = result.topics.copy()
    t["topic"] = pd.to_numeric(t["topic"], errors="coerce").astype(int)
    return t[t["topic"] >= 0].sort_values("topic").reset_index(drop=True)


def short_label(topic: object, label: object) -> str:
    """The label of topic ``topic`` as display text (``""`` when missing).

    Labels are plain text (:func:`topics.labels.topic_labels`: a theme name or words joined
    by ``" · "``), never ``"<id>_word_word"`` strings, so nothing is stripped or replaced:
    a label is shown as it is.

    >>> short_label(3, "мугалим · даярдоо · курс")
    'мугалим · даярдоо · курс'
    >>> short_label(3, "3_ICT_schools")
    '3_ICT_schools'
    """
    if label is None or (isinstance(label, float) and label != label) or label is pd.NA:
        return ""
    return str(label)


def topic_labels(result: Result) -> dict[int, str]:
    if result.topics is None:
        return {}
    t = result.topics
    return {int(k): short_label(k, v) for k, v in zip(t["topic"], t["label"], strict=True)}


def doc_labels(result: Result, n: int = 32) -> dict[str, str]:
    """``doc_id -> "doc_id · title"`` (title from metadata when there is one)."""
    seg = result.segments
    ids = seg["doc_id"].astype(str)
    titles: dict = {}
    if "title" in seg:  # first non-empty title of each document, one grouped pass
        titles = seg["title"].groupby(ids, sort=False).first().dropna().to_dict()
    out: dict[str, str] = {}
    for doc_id in ids.unique():
        title = str(titles.get(doc_id, "")).strip()
        out[doc_id] = truncate(f"{doc_id} · {title}" if title else doc_id, n)
    return out


def has_themes(result: Result) -> bool:
    seg = result.segments
    return "theme" in seg and bool((seg["theme"].fillna("").astype(str) != "").any())


def theme_order(result: Result, seg: pd.DataFrame) -> list[str]:
    if result.themes is not None and "theme" in result.themes:
        names = [str(t) for t in result.themes["theme"]]
    else:
        names = sorted({str(t) for t in seg["theme"].fillna("") if str(t)})
    return names


def theme_shares(result: Result, include_none: bool) -> pd.DataFrame:
    """Documents x themes: share of each document's modelled paragraphs (a plain count)."""
    seg = modelled(result)
    if seg.empty or not has_themes(result):
        raise NoDataError(
            "this result has no theme assignments; run `topics run --themes ...`", absent=True
        )
    theme = seg["theme"].fillna("").astype(str).replace("", NO_THEME)
    table = pd.crosstab(seg["doc_id"], theme, normalize="index")
    order = theme_order(result, seg)
    cols = order + sorted(set(table.columns) - set(order) - {NO_THEME})
    if include_none:
        cols = cols + [NO_THEME]
    return table.reindex(columns=cols, fill_value=0.0)


def load_similarity(run_dir: str | Path) -> np.ndarray | None:
    """The k x k topic similarity saved by ``topics run`` (``None`` when absent).

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A run folder; reads ``model/topic_model.safetensors`` key ``similarity``.

    Returns
    -------
    numpy.ndarray of shape (k, k) or None
        Rows and columns in the order of the topics table rows with ``topic >= 0``.
    """
    path = Path(run_dir) / "model" / "topic_model.safetensors"
    if not path.exists():
        return None
    from safetensors.numpy import load_file

    data = load_file(str(path))
    return np.asarray(data["similarity"]) if "similarity" in data else None


def is_paragraph_level(method: object) -> bool:
    """Whether a prevalence ``method`` names a paragraph-level interval.

    Only for tables saved before the ``level`` column existed; :func:`interval` reads
    ``level`` when the table has it.
    """
    m = str(method).lower()
    return any(k in m for k in ("segment", "paragraph"))


def interval(rec: pd.Series) -> tuple[float, float, str]:
    """The interval to draw for one prevalence row and its level (document/paragraph/none)."""

    def num(name: str) -> float:
        v = pd.to_numeric(rec.get(name, np.nan), errors="coerce")
        return float(v) if pd.notna(v) else float("nan")

    lo, hi = num("ci_low"), num("ci_high")
    level = rec.get("level")
    if not isinstance(level, str) or not level:  # a table saved before the `level` column
        level = "paragraph" if is_paragraph_level(rec.get("method", "")) else "document"
    if not (math.isnan(lo) or math.isnan(hi)):
        return lo, hi, "paragraph" if level == "paragraph" else "document"
    slo, shi = num("seg_ci_low"), num("seg_ci_high")
    if not (math.isnan(slo) or math.isnan(shi)):
        return slo, shi, "paragraph"
    return float("nan"), float("nan"), "none"


def comparison_rows(
    result: Result, by: str | None, kind: str
) -> tuple[pd.DataFrame, list[str], str]:
    """The prevalence rows of one comparison, with a display label per item.

    Returns the rows (``group`` as str, ``_label`` the item's label), the labels in table
    order and the resolved ``by`` (``None``: ``focus`` if compared, else the first one).
    """
    if result.prevalence is None or result.prevalence.empty:
        raise NoDataError(
            "this result has no prevalence table; run `topics run` first", absent=True
        )
    p = result.prevalence
    available = sorted({str(b) for b in p["by"].dropna()})
    if by is None:
        by = "focus" if "focus" in available else available[0]
    if by not in available:
        raise ValueError(f"no comparison by {by!r} in this result; available: {available}")
    p = p[(p["by"].astype(str) == by) & (p["kind"] == kind)].copy()
    if p.empty:
        raise NoDataError(
            f"no {kind} rows in the prevalence table for by={by!r}",
            absent=kind == "theme" and not has_themes(result),
        )
    p["group"] = p["group"].astype(str)
    key = "theme" if kind == "theme" else "topic"
    p["_label"] = [
        (short_label(k, lab) if kind == "topic" else str(lab))
        if isinstance(lab, str) and lab
        else str(k)
        for lab, k in zip(p.get("label", p[key]), p[key], strict=True)
    ]
    if kind == "topic":
        p["_label"] = [
            f"{k}: {lab}" if lab != str(k) else lab
            for k, lab in zip(p[key], p["_label"], strict=True)
        ]
    labels = list(dict.fromkeys(p["_label"]))
    return p, labels, by
