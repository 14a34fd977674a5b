"""Figures of a run: each function takes a :class:`~topics.result.Result` and returns a figure.

Figures never compute: coordinates, topic words, stability, shares and confidence intervals
were computed at fit or compare time and are only selected, counted and reshaped here. Every
function returns a :class:`plotly.graph_objects.Figure`, which displays inline in Jupyter, is
embedded in ``report.html`` by :mod:`topics.report` and exported by :mod:`topics.export`.

Example
-------
>>> from topics.result import Result
>>> from topics import figures
>>> res = Result.load("results/seeds")                       # doctest: +SKIP
>>> figures.group_comparison(res, by="focus")                # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from topics._figures_effects import (
    effect_contrasts,
    effect_estimates,
    effect_trends,
    prevalence_over_time,
)
from topics._style import (
    LANG_ORDER,
    NO_THEME,
    NONE_COLOR,
    OUTLIER_COLOR,
    SECTION_ORDER,
    SEQUENTIAL,
    apply_style,
    color_for,
    comparison_rows,
    doc_labels,
    interval,
    is_paragraph_level,
    load_similarity,
    modelled,
    plain,
    short_label,
    symbol_for,
    theme_shares,
    topic_labels,
    topic_table,
    truncate,
    wrap,
)
from topics.errors import NoDataError
from topics.result import Result

__all__ = [
    "topic_map",
    "map_sample",
    "MAP_MAX_POINTS",
    "topic_words",
    "theme_by_document",
    "group_comparison",
    "document_composition",
    "topic_similarity",
    "confusion_matrix",
    "topic_stability",
    "corpus_overview",
    "effect_estimates",
    "effect_contrasts",
    "effect_trends",
    "prevalence_over_time",
    "load_similarity",
    "is_paragraph_level",
    "short_label",
    "FIGURES",
    "all_figures",
]


# --------------------------------------------------------------------------------- figures
#: Most points the topic map draws; larger runs show a stratified sample (the run folder
#: keeps every paragraph's coordinates in segments.parquet).
MAP_MAX_POINTS = 5_000


def map_sample(topic: np.ndarray, max_points: int, random_state: int = 0) -> np.ndarray:
    """Rows of a stratified sample of at most about ``max_points``, every topic represented.

    Each topic keeps a share of the sample proportional to its size, but at least
    ``min(size, 20, max_points // n_topics)`` points (one at the least), so small topics
    stay visible. Sorted row indices; all rows
    when there are no more than ``max_points``.

    Parameters
    ----------
    topic : numpy.ndarray of int, shape (n,)
    max_points : int
    random_state : int, default 0

    Returns
    -------
    numpy.ndarray of int
    """
    topic = np.asarray(topic)
    n = len(topic)
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    ids = np.unique(topic)  # sorted: the draw does not depend on row order
    floor = max(1, min(20, max_points // len(ids)))
    keep = []
    for k in ids:
        rows = np.flatnonzero(topic == k)
        quota = max(min(len(rows), floor), int(round(max_points * len(rows) / n)))
        keep.append(rng.choice(rows, size=min(quota, len(rows)), replace=False))
    return np.sort(np.concatenate(keep))


def topic_map(
    result: Result,
    *,
    max_chars: int = 300,
    label_topics: bool = True,
    max_points: int | None = None,
) -> go.Figure:
    """The 2-D topic map: one point per modelled paragraph, at its fit-time coordinates.

    Parameters
    ----------
    result : Result
    max_chars : int, default 300
        Paragraph text shown on hover is cut to this length (to 100 on a sampled map).
    label_topics : bool, default True
        Draw each topic's label at the median position of its paragraphs.
    max_points : int, optional
        Above this many paragraphs the map draws a stratified sample (:func:`map_sample`,
        with the run's seed) with WebGL markers, and its title states the sample size.
        Default :data:`MAP_MAX_POINTS`.

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace per topic (outliers grey); hover shows paragraph, document, language.

    This function is long because it draws the sampled points, the traces and the topic labels of
    one figure, which share the sampled rows.
    """
    seg = modelled(result)
    seg = seg[seg["x"].notna() & seg["y"].notna()] if {"x", "y"} <= set(seg) else seg.iloc[:0]
    if seg.empty:
        raise NoDataError("no 2-D coordinates in this result (segments.x/y); run `topics run`")
    labels = topic_labels(result)
    docs = doc_labels(result)
    n = len(seg)
    centres = seg.groupby("topic")[["x", "y"]].median()  # of every paragraph, not the sample
    seed = int(result.manifest.get("run", {}).get("seed", result.config.get("seed", 0)) or 0)
    max_points = MAP_MAX_POINTS if max_points is None else max_points
    seg = seg.iloc[map_sample(seg["topic"].to_numpy(), max_points, seed)]
    sampled = len(seg) < n
    if sampled:
        max_chars = min(max_chars, 100)
    trace = go.Scattergl if sampled else go.Scatter
    fig = go.Figure()
    notes: list[dict] = []
    ids = sorted(int(k) for k in seg["topic"].unique())
    real = [k for k in ids if k >= 0]
    for k in ids:
        part = seg[seg["topic"] == k]
        i = real.index(k) if k >= 0 else 0
        name = "outliers" if k < 0 else f"{k}: {truncate(labels.get(k, ''), 28)}"
        custom = np.column_stack(
            [
                [wrap(t, 60, max_chars) for t in part["text"]],
                [plain(docs.get(d, d)) for d in part["doc_id"]],
                [plain(x) for x in part["language"]],
                [plain(x) for x in part.get("section", pd.Series("", index=part.index))],
            ]
        )
        color = OUTLIER_COLOR if k < 0 else color_for(i)
        fig.add_trace(
            trace(
                x=part["x"].to_numpy(np.float32),
                y=part["y"].to_numpy(np.float32),
                mode="markers",
                name=plain(name),
                customdata=custom,
                marker={
                    "color": color,
                    "size": 5 if k < 0 else 7,
                    "symbol": "circle" if k < 0 else symbol_for(i),
                    "line": {"width": 0},
                    "opacity": 0.5 if k < 0 else 0.85,
                },
                # the topic's name once per trace, not once per point
                hovertemplate=f"<b>{plain(name).replace('%{', '% {')}</b><br>%{{customdata[1]}} · "
                "%{customdata[2]} · %{customdata[3]}<br><br>%{customdata[0]}<extra></extra>",
            )
        )
        if label_topics and k >= 0:
            notes.append(
                {
                    "x": float(centres.loc[k, "x"]),
                    "y": float(centres.loc[k, "y"]),
                    "text": f"<b>{k}</b> {plain(labels.get(k, ''), 22)}",
                    "showarrow": False,
                    "bgcolor": "rgba(255,255,255,0.75)",
                    "font": {"size": 9},
                }
            )
    # all at once: plotly's add_annotation copies the layout each time (quadratic in topics)
    fig.update_layout(annotations=notes)
    fig.update_xaxes(title_text="map dimension 1", showticklabels=False, ticks="")
    fig.update_yaxes(title_text="map dimension 2", showticklabels=False, ticks="")
    title = (
        f"Topic map: a stratified sample of {len(seg):,} of {n:,} paragraphs (every topic shown)"
        if sampled
        else f"Topic map ({n} paragraphs)"
    )
    apply_style(fig, "double", 520, title=title)
    return fig


#: Most topics :func:`topic_words` draws (the largest ones); the topics table has them all.
MAX_WORD_PANELS = 30


def topic_words(
    result: Result,
    *,
    n_words: int = 8,
    language: str | None = None,
    cols: int = 3,
    max_topics: int | None = None,
) -> go.Figure:
    """Top words of each topic with their weights, one small bar chart per topic.

    Reads the long table ``result.topic_words`` (:data:`topics.schema.TOPIC_WORD_COLUMNS`):
    bar length is the word's weight (:func:`topics.labels.score_words`), computed at fit
    time.

    Parameters
    ----------
    result : Result
    n_words : int, default 8
    language : str, optional
        The ranking among one language's paragraphs instead of all of them.
    cols : int, default 3
        Panels per row.
    max_topics : int, optional
        Draw only the largest topics when there are more (default :data:`MAX_WORD_PANELS`);
        the title says so.

    Returns
    -------
    plotly.graph_objects.Figure

    This function is long because its docstring documents every parameter; the code is about 60
    lines.
    """
    from topics.schema import ALL_LANGUAGES

    t = topic_table(result)
    words = result.topic_words
    if words is None or words.empty:
        raise NoDataError("no topic_words table in this result (a run saved by an old version?)")
    lang = language or ALL_LANGUAGES
    words = words[(words["language"] == lang) & (words["topic"] >= 0)]
    if words.empty:
        raise ValueError(f"no topic words for language {lang!r}; available: "
                         f"{sorted(set(result.topic_words['language']))}")  # fmt: skip
    if t.empty:
        raise NoDataError("no topics (every paragraph is an outlier)")
    max_topics = MAX_WORD_PANELS if max_topics is None else max_topics
    n_topics, more = len(t), ""
    if n_topics > max_topics and "size" in t:
        keep = t.sort_values(["size", "topic"], ascending=[False, True]).index[:max_topics]
        t = t.loc[sorted(keep)]
        more = f" — the {max_topics} largest of {n_topics} topics"
    cols = max(1, min(cols, len(t)))
    rows = math.ceil(len(t) / cols)
    titles = [
        f"{k}: {plain(short_label(k, lab), 24)}"
        for k, lab in zip(t["topic"], t["label"], strict=True)
    ]
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.16,
        vertical_spacing=min(0.12, 0.6 / rows),
    )  # fmt: skip
    by_topic = {int(k): g.sort_values("rank").head(n_words) for k, g in words.groupby("topic")}
    for i, k in enumerate(t["topic"]):
        g = by_topic.get(int(k), words.iloc[:0])
        fig.add_trace(
            go.Bar(
                x=g["weight"].astype(float).tolist(),
                y=[plain(w, 18) for w in g["word"]],
                orientation="h",
                marker={"color": color_for(i)},
                customdata=g["rank"].astype(int).tolist(),
                hovertemplate="rank %{customdata}: %{y}<br>weight %{x:.3f}<extra></extra>",
                showlegend=False,
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(rangemode="tozero", tickfont={"size": 8}, nticks=3)
    fig.update_yaxes(autorange="reversed", tickfont={"size": 9}, ticks="")
    fig.update_annotations(font_size=9)
    title = f"Topic words (bar length: word weight){more}"
    apply_style(fig, "double", 60 + 150 * rows, title=title, legend=False)
    return fig


#: Most documents a per-document figure draws (the largest ones); the run folder keeps all.
MAX_DOCS = 60


def _largest_docs(result: Result, doc_ids, max_docs: int | None) -> tuple[list, str]:
    """The ``max_docs`` (default :data:`MAX_DOCS`) documents of ``doc_ids`` with most
    paragraphs, in their order, and a title suffix saying so ("" when all are kept).
    """
    doc_ids = list(doc_ids)
    max_docs = MAX_DOCS if max_docs is None else max_docs
    if len(doc_ids) <= max_docs:
        return doc_ids, ""
    size = result.segments["doc_id"].astype(str).value_counts()
    ranked = sorted(doc_ids, key=lambda d: (-int(size.get(str(d), 0)), str(d)))
    keep = set(ranked[:max_docs])
    return [d for d in doc_ids if d in keep], f" — the {max_docs} largest of {len(doc_ids):,}"


def theme_by_document(result: Result, *, max_docs: int | None = None) -> go.Figure:
    """Heatmap: share of each document's modelled paragraphs assigned to each theme.

    Parameters
    ----------
    result : Result
    max_docs : int, optional
        Draw only the largest documents when there are more.

    Returns
    -------
    plotly.graph_objects.Figure
        Rows are documents, columns themes; the share is written in each cell.
    """
    shares = theme_shares(result, include_none=True)
    keep, more = _largest_docs(result, shares.index, max_docs)
    shares = shares.loc[keep]
    docs = doc_labels(result)
    z = shares.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[plain(c, 24) for c in shares.columns],
            y=[plain(docs.get(d, d)) for d in shares.index],
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=1,
            text=[[f"{v:.0%}" for v in row] for row in z],
            texttemplate="%{text}",
            textfont={"size": 9},
            colorbar={"title": {"text": "share"}, "tickformat": ".0%", "thickness": 10},
            hovertemplate="%{y}<br>%{x}: %{z:.1%} of paragraphs<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="theme", tickangle=-30)
    fig.update_yaxes(title_text="document", autorange="reversed")
    apply_style(
        fig,
        "double",
        200 + 40 * len(shares),
        title=f"Themes by document (share of paragraphs){more}",
    )
    return fig


def document_composition(result: Result, *, max_docs: int | None = None) -> go.Figure:
    """Each paper's theme composition: stacked horizontal bars of theme shares.

    Parameters
    ----------
    result : Result
    max_docs : int, optional
        Draw only the largest documents when there are more.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per theme (plus "no theme" in grey); bars sum to 1 per document.
    """
    shares = theme_shares(result, include_none=True)
    keep, more = _largest_docs(result, shares.index, max_docs)
    shares = shares.loc[keep]
    docs = doc_labels(result)
    y = [plain(docs.get(d, d)) for d in shares.index]
    fig = go.Figure()
    for i, theme in enumerate(shares.columns):
        v = shares[theme].to_numpy(dtype=float)
        fig.add_trace(
            go.Bar(
                x=v,
                y=y,
                orientation="h",
                name=plain(theme, 30),
                marker={"color": NONE_COLOR if theme == NO_THEME else color_for(i)},
                text=[f"{s:.0%}" if s >= 0.08 else "" for s in v],
                textposition="inside",
                textfont={"size": 9},
                hovertemplate="%{y}<br>" + plain(theme) + ": %{x:.1%}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
    )
    fig.update_xaxes(title_text="share of the document's paragraphs", tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    apply_style(
        fig, "double", 170 + 30 * len(shares), title=f"Theme composition of each paper{more}"
    )
    fig.update_layout(margin={"t": 75})
    return fig


def group_comparison(
    result: Result, by: str | None = "focus", *, kind: Literal["theme", "topic"] = "theme"
) -> go.Figure:
    """Forest plot: theme (or topic) shares per group with their confidence intervals.

    Document-level intervals are drawn as filled markers with error bars. Where only a
    paragraph-level interval exists (too few documents), it is drawn with open markers and
    labelled as such: it ignores that paragraphs of one document are not independent.

    Parameters
    ----------
    result : Result
    by : str or None, default "focus"
        Metadata column compared; ``None`` takes the first one in the prevalence table.
    kind : {"theme", "topic"}, default "theme"

    Returns
    -------
    plotly.graph_objects.Figure
        Hover and a note under the plot give each interval's method and number of documents.
    """
    p, labels, by = comparison_rows(result, by, kind)
    groups = sorted(p["group"].unique())
    step = 0.6 / max(len(groups), 1)
    fig = go.Figure()
    notes: list[str] = []
    any_para = False
    for gi, group in enumerate(groups):
        g = p[p["group"] == group]
        offset = (gi - (len(groups) - 1) / 2) * step
        for level in ("document", "paragraph"):
            rows = [(r, *interval(r)) for _, r in g.iterrows()]
            rows = [x for x in rows if x[3] == level or (level == "paragraph" and x[3] == "none")]
            if not rows:
                continue
            any_para = any_para or level == "paragraph"
            yy = [labels.index(r["_label"]) + offset for r, *_ in rows]
            fig.add_trace(_interval_trace(rows, yy, f"{plain(by)} = {plain(group)}", group, gi,
                                          doc_level=level == "document"))  # fmt: skip
        notes.append(_group_note(g, group))
    if any_para:
        notes.append("Open markers: paragraph-level intervals (too few documents);")
        notes.append("they treat paragraphs as independent and are NOT document-level.")
    note = "<br>".join(notes)
    fig.add_annotation(
        text=note, xref="paper", yref="paper", x=0, y=0, yshift=-48, xanchor="left",
        yanchor="top", showarrow=False, align="left", font={"size": 8},
    )  # fmt: skip
    fig.update_yaxes(
        tickvals=list(range(len(labels))),
        ticktext=[plain(lab, 30) for lab in labels],
        range=[len(labels) - 0.5, -0.7],
        title_text=kind,
    )
    fig.update_xaxes(
        title_text="share of paragraphs (with confidence interval)",
        tickformat=".0%",
        rangemode="tozero",
    )
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    title = f"{kind.capitalize()} shares by {by}"
    h = 130 + 34 * len(labels) + 12 * len(notes)
    apply_style(fig, "double", h, title=title)
    fig.update_layout(margin={"b": 55 + 12 * len(notes), "t": 70})
    return fig


def _interval_trace(rows: list, yy: list[float], head: str, group, gi: int, *, doc_level: bool):
    """The markers and error bars of one group's rows (``(row, lo, hi, level)``) at one level."""
    share = np.array([float(r["share"]) for r, *_ in rows])
    lo = np.array([x[1] for x in rows])
    hi = np.array([x[2] for x in rows])
    custom = [
        [
            plain(r.get("method", "")),
            int(r["n_docs"]) if pd.notna(r.get("n_docs")) else "?",
            int(r["n_segments"]) if pd.notna(r.get("n_segments")) else "?",
            plain(r["_label"]),
            f"{a:.1%}–{b:.1%}" if not math.isnan(a) else "none",
        ]
        for (r, *_), a, b in zip(rows, lo, hi, strict=True)
    ]
    return go.Scatter(
        x=share,
        y=yy,
        mode="markers+text",
        name=plain(group) + ("" if doc_level else " (paragraph-level CI)"),
        legendgroup=plain(group),
        marker={
            "color": color_for(gi),
            "size": 8,
            "symbol": "circle" if doc_level else "circle-open",
            "line": {"width": 1.5, "color": color_for(gi)},
        },
        error_x={
            "type": "data",
            "array": np.nan_to_num(hi - share, nan=0.0),
            "arrayminus": np.nan_to_num(share - lo, nan=0.0),
            "color": color_for(gi),
            "thickness": 1.6 if doc_level else 1.0,
            "width": 3,
        },
        text=[f"{s:.0%}" for s in share],
        textposition="top center",
        textfont={"size": 8, "color": color_for(gi)},
        cliponaxis=False,
        customdata=custom,
        hovertemplate=f"<b>{head}</b><br>%{{customdata[3]}}"
        "<br>share %{x:.1%}, "
        + ("" if doc_level else "paragraph-level ")
        + "interval %{customdata[4]}<br>method: %{customdata[0]}"
        "<br>%{customdata[1]} documents, %{customdata[2]} paragraphs<extra></extra>",
    )


def _group_note(g: pd.DataFrame, group) -> str:
    """The note line of one group: its number of documents and interval methods."""
    n_docs = pd.to_numeric(g.get("n_docs"), errors="coerce").max()
    n_docs_txt = (
        f"{int(n_docs)} document" + ("" if int(n_docs) == 1 else "s")
        if pd.notna(n_docs)
        else "? documents"
    )
    methods = ", ".join(sorted({str(m) for m in g.get("method", pd.Series(dtype=str))}))
    return f"{plain(group)}: {n_docs_txt}; interval: {plain(methods)}"


def topic_similarity(result: Result, similarity: np.ndarray | None = None) -> go.Figure:
    """Heatmap of the fit-time topic-to-topic similarity.

    Parameters
    ----------
    result : Result
    similarity : numpy.ndarray of shape (k, k), optional
        Defaults to ``result.similarity`` (computed at fit time, saved in ``model/``).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if similarity is None:
        similarity = result.similarity
    if similarity is None:
        raise NoDataError(
            "no topic similarity: pass similarity=load_similarity(run_dir) (saved in "
            "model/topic_model.safetensors)",
            absent=True,
        )
    sim = np.asarray(similarity, dtype=float)
    t = topic_table(result)
    if sim.shape != (len(t), len(t)):
        raise ValueError(f"similarity has shape {sim.shape}, expected {(len(t), len(t))}")
    names = [
        f"{k}: {plain(short_label(k, lab), 20)}"
        for k, lab in zip(t["topic"], t["label"], strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=sim,
            x=names,
            y=names,
            colorscale=SEQUENTIAL,
            text=[[f"{v:.2f}" for v in row] for row in sim],
            texttemplate="%{text}" if len(t) <= 12 else None,
            textfont={"size": 8},
            colorbar={"title": {"text": "cosine"}, "thickness": 10},
            hovertemplate="%{y}<br>%{x}<br>similarity %{z:.2f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-40)
    side = 220 + 26 * len(t)
    apply_style(fig, "double", side, title="Topic similarity (topic centroids)")
    return fig


def topic_stability(result: Result) -> go.Figure:
    """Per-topic stability (bars): each topic's mean best Jaccard overlap with the topics of
    the consensus members (other seeds, perturbed features), with the run-level ARI noted.

    Parameters
    ----------
    result : Result

    Returns
    -------
    plotly.graph_objects.Figure
    """
    t = topic_table(result)
    if "stability" not in t:
        raise NoDataError("no stability column in the topics table")
    stab = pd.to_numeric(t["stability"], errors="coerce")
    if stab.isna().all():
        raise NoDataError("topic stability was not measured in this run")
    names = [
        f"{k}: {plain(short_label(k, lab), 16)}"
        for k, lab in zip(t["topic"], t["label"], strict=True)
    ]
    colors = [color_for(i) for i in range(len(t))]
    fig = go.Figure(
        go.Bar(
            x=stab,
            y=names,
            orientation="h",
            marker={"color": colors},
            text=[f"{v:.2f}" if pd.notna(v) else "n/a" for v in stab],
            textposition="outside",
            textfont={"size": 9},
            hovertemplate="%{y}<br>stability %{x:.2f}<extra></extra>",
            showlegend=False,
        )
    )
    ari = (result.manifest.get("model") or {}).get("stability_ari") or []
    if ari:
        vals = [float(a) for a in ari]
        txt = (
            ", ".join(f"{v:.2f}" for v in vals)
            if len(vals) <= 4
            else f"median {np.median(vals):.2f} (min {min(vals):.2f}, max {max(vals):.2f})"
        )
        fig.add_annotation(
            text=f"adjusted Rand index vs. the {len(vals)} consensus<br>members "
            f"(other seeds, perturbed features): {txt}",
            xref="paper", yref="paper", x=1, y=0, yshift=-40, xanchor="right", yanchor="top",
            showarrow=False, font={"size": 8}, align="right",
        )  # fmt: skip
    fig.update_xaxes(title_text="stability (Jaccard, 0–1)", range=[0, 1.15], dtick=0.5)
    fig.update_yaxes(autorange="reversed")
    apply_style(fig, "single", 150 + 22 * len(t), title="Topic stability", legend=False)
    fig.update_layout(margin={"b": 75 if ari else 40})
    return fig


def corpus_overview(result: Result, *, max_docs: int | None = None) -> go.Figure:
    """Paragraph counts per document by language (left) and by section (right).

    Parameters
    ----------
    result : Result
    max_docs : int, optional
        Draw only the largest documents when there are more (the title gives the totals).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    seg = result.segments.copy()
    if seg.empty:
        raise NoDataError("this result has no segments")
    seg["doc_id"] = seg["doc_id"].astype(str)
    docs = doc_labels(result, 26)
    n_docs, n_seg = seg["doc_id"].nunique(), len(seg)
    keep, more = _largest_docs(result, dict.fromkeys(seg["doc_id"]), max_docs)
    seg = seg[seg["doc_id"].isin(keep)]
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.03,
        subplot_titles=("by language", "by section"),
    )  # fmt: skip
    order = list(dict.fromkeys(seg["doc_id"]))
    y = [plain(docs.get(d, d)) for d in order]
    for col, (field, known) in enumerate(
        (("language", LANG_ORDER), ("section", SECTION_ORDER)), start=1
    ):
        counts = pd.crosstab(seg["doc_id"], seg[field].astype(str)).reindex(order, fill_value=0)
        cats = [c for c in known if c in counts] + sorted(set(counts) - set(known))
        for i, cat in enumerate(cats):
            v = counts[cat].to_numpy()
            fig.add_trace(
                go.Bar(
                    x=v,
                    y=y,
                    orientation="h",
                    name=f"{plain(cat)} ({int(v.sum())})",
                    legendgroup=field,
                    legendgrouptitle={"text": field} if i == 0 else None,
                    marker={"color": color_for(i), "pattern": {"shape": "" if col == 1 else "/"}},
                    text=[str(int(c)) if c else "" for c in v],
                    textposition="inside",
                    textfont={"size": 8},
                    hovertemplate="%{y}<br>" + plain(cat) + ": %{x} paragraphs<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="paragraphs")
    title = f"Corpus: {n_docs} documents, {n_seg} paragraphs{more}"
    apply_style(fig, "double", 160 + 30 * len(keep), title=title)
    fig.update_layout(margin={"t": 60}, legend={"traceorder": "grouped"})
    return fig


def _theme_else_topic(func: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
    """The theme version of an effects figure, or the topic one when the run has no themes."""

    def draw(result: Result) -> go.Figure:
        try:
            return func(result, kind="theme")
        except NoDataError:
            return func(result, kind="topic")

    return draw


def confusion_matrix(
    result: Result, *, rater_a: str = "machine", rater_b: str = "code"
) -> go.Figure:
    """Heatmap of the saved confusion matrix of two raters (default: machine vs first coder).

    Cells are counts of paragraphs; colour is the share of the column (``rater_b``'s code)
    so that rare codes are as visible as frequent ones. Rows and columns with no paragraph
    are left out.

    Parameters
    ----------
    result : Result
        A run with ``confusion.csv`` (written by ``topics code agreement``).
    rater_a, rater_b : str
        The pair to show (``rater_a`` on the y axis).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    conf = getattr(result, "confusion", None)
    if conf is None or conf.empty:
        raise NoDataError(
            "no confusion matrix: run `topics code agreement RUN SHEET` first", absent=True
        )
    c = conf[(conf["rater_a"] == rater_a) & (conf["rater_b"] == rater_b)]
    if c.empty:
        raise NoDataError(f"no confusion matrix of {rater_a} vs {rater_b}")
    order = list(dict.fromkeys(c["label_a"].astype(str)))
    m = c.pivot_table(
        index="label_a", columns="label_b", values="count", aggfunc="sum", sort=False
    ).reindex(index=order, columns=order, fill_value=0)
    keep = [lab for lab in order if m.loc[lab].sum() + m[lab].sum() > 0]
    m = m.loc[keep, keep]
    col_share = m / m.sum(axis=0).replace(0, np.nan)
    names = [plain(truncate(lab, 26)) for lab in keep]
    fig = go.Figure(
        go.Heatmap(
            z=col_share.to_numpy(dtype=float),
            x=names,
            y=names,
            zmin=0,
            zmax=1,
            colorscale=SEQUENTIAL,
            customdata=m.to_numpy(),
            text=[[str(int(v)) if v else "" for v in row] for row in m.to_numpy()],
            texttemplate="%{text}",
            textfont={"size": 9},
            colorbar={"title": {"text": f"share of<br>{plain(rater_b)}"}, "thickness": 10},
            hovertemplate=f"{plain(rater_a)}: %{{y}}<br>{plain(rater_b)}: %{{x}}<br>"
            "%{customdata} paragraphs (%{z:.0%} of the column)<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title_text=plain(rater_a))
    fig.update_xaxes(tickangle=-40, title_text=plain(rater_b))
    n = int(m.to_numpy().sum())
    title = f"Confusion matrix: {plain(rater_a)} vs {plain(rater_b)} ({n} paragraphs)"
    apply_style(fig, "double", 260 + 28 * len(keep), title=title)
    return fig


#: Figure name -> function(result) -> Figure; the names are the exported file names.
FIGURES: dict[str, Callable[..., go.Figure]] = {
    "corpus_overview": corpus_overview,
    "topic_map": topic_map,
    "topic_words": topic_words,
    "theme_by_document": theme_by_document,
    "document_composition": document_composition,
    "group_comparison": group_comparison,
    "group_comparison_topics": partial(group_comparison, kind="topic"),
    "topic_similarity": topic_similarity,
    "topic_stability": topic_stability,
    "prevalence_over_time": _theme_else_topic(prevalence_over_time),
    "effect_estimates": _theme_else_topic(effect_estimates),
    "effect_contrasts": _theme_else_topic(effect_contrasts),
    "effect_trends": _theme_else_topic(effect_trends),
    "confusion_matrix": confusion_matrix,
}


def all_figures(
    result: Result,
    *,
    similarity: np.ndarray | None = None,
    by: str | None = None,
    skipped: dict[str, str] | None = None,
) -> dict[str, go.Figure]:
    """Every figure whose data the result has, by name.

    A figure whose data the run did not make (no codebook, no effects formula, no coded
    sheet) is left out quietly; one whose data exists but cannot be drawn (e.g. no numeric
    covariate for a trend) is left out with a :class:`~topics.errors.FigureSkippedWarning`
    naming it and the reason. Any other error propagates: a bug never drops a figure
    silently.

    Parameters
    ----------
    result : Result
    similarity : numpy.ndarray, optional
        Topic similarity for :func:`topic_similarity` (default ``result.similarity``).
    by : str, optional
        Grouping for the comparison figures; default ``focus`` when present, else the first.
    skipped : dict, optional
        Filled with ``figure name -> reason`` for every figure left out.

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
    """
    import warnings

    from topics.errors import FigureSkippedWarning

    out: dict[str, go.Figure] = {}
    for name, func in FIGURES.items():
        kwargs: dict[str, object] = {}
        if name == "topic_similarity":
            kwargs["similarity"] = similarity
        if name.startswith("group_comparison"):
            kwargs["by"] = by
        try:
            out[name] = func(result, **kwargs)
        except NoDataError as exc:
            if skipped is not None:
                skipped[name] = str(exc)
            if not exc.absent:
                warnings.warn(f"figure {name} skipped: {exc}", FigureSkippedWarning, stacklevel=2)
    return out
