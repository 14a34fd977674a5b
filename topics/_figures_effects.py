"""Figures of covariate effects and prevalence over time (re-exported by :mod:`topics.figures`).

Each function reads tables computed by :mod:`topics.effects` (``result.effect_predictions``,
``result.effect_contrasts``, ``result.prevalence_by_year``) and draws them; nothing is
computed here. A function raises ``ValueError`` when the result lacks its table, so
:func:`topics.figures.all_figures` skips it.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from topics._style import apply_style, color_for, plain, wrap
from topics.errors import NoDataError
from topics.result import Result

__all__ = ["effect_estimates", "effect_contrasts", "effect_trends", "prevalence_over_time"]


def _table(obj, attr: str) -> pd.DataFrame:
    table = getattr(obj, attr, None) if isinstance(obj, Result) else obj
    if table is None or len(table) == 0:
        raise NoDataError(
            f"no {attr} in this result; run `topics effects RUN --formula ...`", absent=True
        )
    return pd.DataFrame(table)


def _pick(table: pd.DataFrame, formula: str | None, kind: str) -> tuple[pd.DataFrame, str]:
    t = table[table["kind"] == kind]
    if t.empty:
        raise NoDataError(f"no {kind} effects in this result", absent=True)
    formulas = list(dict.fromkeys(t["formula"].astype(str)))
    formula = formula if formula is not None else formulas[0]
    if formula not in formulas:
        raise ValueError(f"no effects for formula {formula!r}; available: {formulas}")
    return t[t["formula"].astype(str) == formula], formula


def _items(t: pd.DataFrame, max_items: int) -> list[str]:
    items = list(dict.fromkeys(t["label"].astype(str)))
    return items[:max_items]


def _hover_method(t: pd.DataFrame) -> str:
    return "; ".join(sorted({plain(m) for m in t["method"].astype(str)}))


def effect_estimates(
    result: Result | pd.DataFrame,
    formula: str | None = None,
    *,
    kind: Literal["theme", "topic"] = "theme",
    covariate: str | None = None,
    max_items: int = 20,
) -> go.Figure:
    """Predicted share of every item per level of a categorical covariate, with intervals.

    Parameters
    ----------
    result : Result or pandas.DataFrame
        A result with ``effect_predictions``, or that table itself.
    formula : str, optional
        Default: the first formula of the table.
    kind : {"theme", "topic"}, default "theme"
    covariate : str, optional
        A categorical covariate of the formula; default the first.
    max_items : int, default 20

    Returns
    -------
    plotly.graph_objects.Figure
        Markers at the predicted share, error bars at its interval; hover names the number of
        documents of the level and the method.
    """
    t, formula = _pick(_table(result, "effect_predictions"), formula, kind)
    t = t[t["moderator"].fillna("").astype(str) == ""]
    cats = [c for c in dict.fromkeys(t["covariate"]) if not _numeric(t[t["covariate"] == c])]
    if not cats:
        raise NoDataError(f"formula {formula!r} has no categorical covariate")
    covariate = covariate or cats[0]
    t = t[t["covariate"] == covariate]
    items = _items(t, max_items)
    levels = list(dict.fromkeys(t["value"].astype(str)))
    step = 0.6 / max(len(levels), 1)
    fig = go.Figure()
    for li, level in enumerate(levels):
        g = t[(t["value"].astype(str) == level) & t["label"].astype(str).isin(items)]
        y = [items.index(lab) + (li - (len(levels) - 1) / 2) * step for lab in g["label"]]
        share = g["share"].to_numpy(float)
        n_docs = int(g["n_docs"].iloc[0]) if len(g) else 0
        fig.add_trace(
            go.Scatter(
                x=share,
                y=y,
                mode="markers",
                name=f"{plain(level)} ({n_docs} docs)",
                marker={"color": color_for(li), "size": 8},
                error_x={
                    "type": "data",
                    "array": np.nan_to_num(g["ci_high"].to_numpy(float) - share),
                    "arrayminus": np.nan_to_num(share - g["ci_low"].to_numpy(float)),
                    "color": color_for(li),
                },
                customdata=np.column_stack([g["label"].map(plain), g["ci_low"], g["ci_high"]]),
                hovertemplate=f"<b>{plain(covariate)} = {plain(level)}</b> ({n_docs} documents)"
                "<br>%{customdata[0]}<br>predicted share %{x:.1%}"
                " (%{customdata[1]:.1%}–%{customdata[2]:.1%})<extra></extra>",
            )
        )
    _note(fig, f"{_hover_method(t)}. Averaged over the documents' other covariates.")
    fig.update_yaxes(
        tickvals=list(range(len(items))),
        ticktext=[plain(i, 30) for i in items],
        range=[len(items) - 0.5, -0.7],
        title_text=kind,
    )
    fig.update_xaxes(title_text="predicted share of paragraphs", tickformat=".0%")
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    apply_style(
        fig,
        "double",
        180 + 34 * len(items),
        title=f"{kind.capitalize()} share by {covariate} (model: {formula})",
    )
    fig.update_layout(margin={"b": 95, "t": 70})
    return fig


def effect_contrasts(
    result: Result | pd.DataFrame,
    formula: str | None = None,
    *,
    kind: Literal["theme", "topic"] = "theme",
    covariate: str | None = None,
    max_items: int = 20,
) -> go.Figure:
    """Forest plot: difference in predicted share between two levels, per item and pair.

    Parameters
    ----------
    result : Result or pandas.DataFrame
        A result with ``effect_contrasts``, or that table itself.
    formula, kind, covariate, max_items
        As for :func:`effect_estimates`.

    Returns
    -------
    plotly.graph_objects.Figure
        One row per item and pair of levels; q-values in the hover; a line at zero.
    """
    t, formula = _pick(_table(result, "effect_contrasts"), formula, kind)
    covariate = covariate or t["covariate"].iloc[0]
    t = t[(t["covariate"] == covariate) & t["label"].astype(str).isin(_items(t, max_items))]
    t = t.dropna(subset=["diff"])
    if t.empty:
        raise NoDataError(f"no estimable contrasts of {covariate!r}")
    pairs = list(
        dict.fromkeys(zip(t["level_a"].astype(str), t["level_b"].astype(str), strict=True))
    )
    rows = [
        f"{plain(r.label, 28)}: {plain(r.level_a)} − {plain(r.level_b)}" for r in t.itertuples()
    ]
    color = [
        color_for(pairs.index((str(a), str(b))))
        for a, b in zip(t["level_a"], t["level_b"], strict=True)
    ]
    d = t["diff"].to_numpy(float)
    fig = go.Figure(
        go.Scatter(
            x=d,
            y=rows,
            mode="markers",
            marker={"color": color, "size": 8},
            error_x={
                "type": "data",
                "array": t["ci_high"].to_numpy(float) - d,
                "arrayminus": d - t["ci_low"].to_numpy(float),
            },
            customdata=np.column_stack([t["q_value"], t["n_docs_a"], t["n_docs_b"]]),
            hovertemplate="%{y}<br>difference %{x:+.1%}<br>q = %{customdata[0]:.3g}; "
            "%{customdata[1]} vs %{customdata[2]} documents<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_vline(x=0, line={"color": "#888888", "width": 1, "dash": "dot"})
    _note(fig, f"{_hover_method(t)}. Averaged over the documents' other covariates.")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="difference in predicted share", tickformat="+.0%")
    apply_style(
        fig,
        "double",
        160 + 22 * len(rows),
        title=f"{kind.capitalize()} contrasts of {covariate} (model: {formula})",
        legend=False,
    )
    fig.update_layout(margin={"b": 95, "t": 60})
    return fig


def effect_trends(
    result: Result | pd.DataFrame,
    formula: str | None = None,
    *,
    kind: Literal["theme", "topic"] = "theme",
    covariate: str | None = None,
    moderator: str | None = None,
    max_items: int = 12,
    cols: int = 3,
) -> go.Figure:
    """Predicted share over a numeric covariate (e.g. year) with a band, one panel per item.

    Parameters
    ----------
    result : Result or pandas.DataFrame
        A result with ``effect_predictions``, or that table itself.
    formula, kind, max_items
        As for :func:`effect_estimates`.
    covariate : str, optional
        A numeric covariate of the formula; default the first.
    moderator : str, optional
        A categorical covariate: one line and band per level.
    cols : int, default 3
        Panels per row.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    t, formula = _pick(_table(result, "effect_predictions"), formula, kind)
    nums = [c for c in dict.fromkeys(t["covariate"]) if _numeric(t[t["covariate"] == c])]
    if not nums:
        raise NoDataError(f"formula {formula!r} has no numeric covariate")
    covariate = covariate or nums[0]
    t = t[
        (t["covariate"] == covariate) & (t["moderator"].fillna("").astype(str) == (moderator or ""))
    ]
    if t.empty:
        raise NoDataError(f"no predictions over {covariate!r} by {moderator!r}")
    items = _items(t, max_items)
    rows = math.ceil(len(items) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[plain(i, 30) for i in items],
        shared_xaxes=True,
        vertical_spacing=0.5 / max(rows, 1) ** 1.3,
    )
    groups = list(dict.fromkeys(t["moderator_value"].fillna("").astype(str)))
    for ii, item in enumerate(items):
        r, c = ii // cols + 1, ii % cols + 1
        for gi, group in enumerate(groups):
            g = t[
                (t["label"].astype(str) == item)
                & (t["moderator_value"].fillna("").astype(str) == group)
            ]
            name = f"{moderator} = {group}" if moderator else "predicted share"
            legend = ii == 0 and bool(moderator)
            for trace in _trend_traces(g, covariate, name, color_for(gi), legend=legend):
                fig.add_trace(trace, row=r, col=c)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    _note(fig, f"{_hover_method(t)}. Bands: intervals of the predicted share.")
    by = f" by {moderator}" if moderator else ""
    apply_style(
        fig,
        "double",
        140 + 190 * rows,
        title=f"{kind.capitalize()} share over {covariate}{by} (model: {formula})",
        legend=bool(moderator),
    )
    fig.update_layout(margin={"b": 95, "t": 70})
    return fig


def _trend_traces(g: pd.DataFrame, covariate: str, name: str, col: str, *, legend: bool):
    """The band and the line of one item's predicted share over ``covariate`` (one group)."""
    x = pd.to_numeric(g["value"]).to_numpy()
    band = go.Scatter(
        x=np.r_[x, x[::-1]],
        y=np.r_[g["ci_high"].to_numpy(float), g["ci_low"].to_numpy(float)[::-1]],
        mode="lines",
        fill="toself",
        fillcolor=col,
        opacity=0.18,
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        legendgroup=name,
    )
    line = go.Scatter(
        x=x,
        y=g["share"],
        mode="lines",
        line={"color": col, "width": 2},
        name=plain(name),
        legendgroup=name,
        showlegend=legend,
        customdata=np.column_stack([g["ci_low"], g["ci_high"], g["n_docs"]]),
        hovertemplate=f"{plain(covariate)} %{{x}}: %{{y:.1%}} "
        "(%{customdata[0]:.1%}–%{customdata[1]:.1%}); "
        "%{customdata[2]} documents at this value<extra></extra>",
    )
    return band, line


def prevalence_over_time(
    result: Result | pd.DataFrame,
    *,
    kind: Literal["theme", "topic"] = "theme",
    max_items: int = 12,
    cols: int = 3,
) -> go.Figure:
    """Share of every item per year with document-level intervals, one panel per item.

    The number of documents of each year is shown under the x axis; years with fewer than
    :data:`topics.effects.SPARSE_YEAR_DOCS` documents (``sparse``) are drawn as open markers.

    Parameters
    ----------
    result : Result or pandas.DataFrame
        A result with ``prevalence_by_year``, or that table itself.
    kind : {"theme", "topic"}, default "theme"
    max_items : int, default 12
    cols : int, default 3

    Returns
    -------
    plotly.graph_objects.Figure
    """
    t = _table(result, "prevalence_by_year")
    t = t[t["kind"] == kind]
    t = t[~t["label"].astype(str).isin(["(no theme)", "outliers"])]
    if t.empty:
        raise NoDataError(f"no {kind} prevalence by year in this result", absent=True)
    order = t.groupby("label")["share"].mean().sort_values(ascending=False)
    items = list(order.index.astype(str))[:max_items]
    years = sorted(t["year"].astype(int).unique())
    docs = t.groupby("year")["n_docs"].first()
    ticks = [f"{y}<br>{int(docs.get(y, 0))} doc{'s' if docs.get(y, 0) != 1 else ''}" for y in years]
    rows = math.ceil(len(items) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[plain(i, 30) for i in items],
        vertical_spacing=0.6 / max(rows, 1) ** 1.3,
    )
    for ii, item in enumerate(items):
        g = t[t["label"].astype(str) == item].sort_values("year")
        fig.add_trace(_year_trace(g), row=ii // cols + 1, col=ii % cols + 1)
    fig.update_xaxes(tickvals=years, ticktext=ticks, tickfont={"size": 8})
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    _note(
        fig,
        "Open markers: sparse years (few documents; their intervals are wide or absent). "
        "Intervals treat documents as the unit.",
    )
    apply_style(
        fig,
        "double",
        150 + 210 * rows,
        title=f"{kind.capitalize()} prevalence per year",
        legend=False,
    )
    fig.update_layout(margin={"b": 95, "t": 70})
    return fig


def _year_trace(g: pd.DataFrame) -> go.Scatter:
    """One item's share per year with its intervals; sparse years as open markers."""
    share = g["share"].to_numpy(float)
    sparse = g["sparse"].astype(bool).to_numpy()
    return go.Scatter(
        x=g["year"].astype(int),
        y=share,
        mode="lines+markers",
        line={"color": color_for(0), "width": 1},
        marker={
            "symbol": np.where(sparse, "circle-open", "circle"),
            "size": 7,
            "color": color_for(0),
        },
        error_y={
            "type": "data",
            "array": np.nan_to_num(g["ci_high"].to_numpy(float) - share),
            "arrayminus": np.nan_to_num(share - g["ci_low"].to_numpy(float)),
        },
        customdata=np.column_stack(
            [g["n_docs"], g["method"].map(plain), np.where(sparse, "sparse year", "")]
        ),
        hovertemplate="%{x}: %{y:.1%}, %{customdata[0]} documents %{customdata[2]}"
        "<br>%{customdata[1]}<extra></extra>",
        showlegend=False,
    )


def _numeric(t: pd.DataFrame) -> bool:
    return bool((t["covariate_type"] == "numeric").all())


def _note(fig: go.Figure, text: str) -> None:
    fig.add_annotation(
        text=wrap(text, width=150, max_chars=600),
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-40,
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 8},
    )
