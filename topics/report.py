"""The HTML report of a run: one self-contained file that works offline.

``report.html`` embeds plotly.js exactly once and every figure of :mod:`topics.figures`;
nothing is loaded from the network. Document text is data, never markup: every piece of text
from the corpus, the codebook or the manifest is escaped before it is written.

Example
-------
>>> from topics.report import write_report
>>> write_report("results/seeds")                              # doctest: +SKIP
PosixPath('results/seeds/report.html')
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from topics import _style as S
from topics import figures as F
from topics.errors import NoDataError
from topics.result import Result

__all__ = ["render_report", "write_report"]

_CSS = """
body{font-family:"DejaVu Sans","Noto Sans",Arial,sans-serif;margin:0;color:#222;
 background:#fafafa;line-height:1.45;font-size:15px}
main{max-width:1100px;margin:0 auto;padding:1rem 1.5rem 3rem;background:#fff}
h1{font-size:1.6rem;margin:.5rem 0}h2{margin-top:2.2rem;border-bottom:2px solid #0072B2;
 padding-bottom:.2rem;font-size:1.3rem}h3{font-size:1.05rem;margin-bottom:.3rem}
nav a{margin-right:.9rem;white-space:nowrap}a{color:#0072B2}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.6rem 0}
th,td{border-bottom:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.num{text-align:right;white-space:nowrap}
.scroll{max-height:26rem;overflow:auto}.figure{margin:1rem 0;width:100%}
.note{color:#555;font-size:.85rem}.para{white-space:pre-wrap;background:#f6f6f6;
 border-left:3px solid #E69F00;padding:.4rem .6rem;margin:.3rem 0;font-size:.9rem}
.warn{background:#fff4e0;border-left:3px solid #D55E00;padding:.4rem .6rem}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem}
dl.summary dt{font-weight:bold}dl.summary dd{margin:0;word-break:break-all}
#figure-errors{display:none}
"""

# Shows a visible warning when a figure fails to draw, and records the outcome on <body>
# (data-figures / data-rendered / data-errors) so a headless browser can check it.
_CHECK_JS = """
(function(){
 var errors=[];
 window.addEventListener('error',function(e){errors.push(String(e.message));
  document.body.setAttribute('data-errors',errors.length);});
 window.addEventListener('load',function(){setTimeout(function(){
  var divs=document.querySelectorAll('div.plotly-graph-div'),ok=0,bad=[];
  divs.forEach(function(d){if(d.querySelector('svg.main-svg')){ok++;}else{bad.push(d.id);}});
  document.body.setAttribute('data-figures',divs.length);
  document.body.setAttribute('data-rendered',ok);
  document.body.setAttribute('data-errors',errors.length);
  if(bad.length){var b=document.getElementById('figure-errors');b.style.display='block';
   b.textContent='These figures could not be drawn: '+bad.join(', ');}
 },0);});
})();
"""


def _e(x: object) -> str:
    """Escape any value for HTML text (NaN and None become an empty string)."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return ""
    return html.escape(str(x), quote=True)


def _num(x: object, fmt: str = "{:.2f}") -> str:
    v = pd.to_numeric(pd.Series([x]), errors="coerce").iloc[0]
    return "" if pd.isna(v) else fmt.format(float(v))


#: Most rows an HTML table of the report shows; the run folder's files keep every row.
MAX_TABLE_ROWS = 500

#: Parts of a run folder the report never draws; :func:`write_report` does not read them
#: (at 1M paragraphs they are GBs: every text twice, the embeddings).
NOT_DRAWN = ("documents", "corpus", "embeddings", "theme_probs", "coded")


def _capped(df: pd.DataFrame, what: str, file: str) -> tuple[pd.DataFrame, str]:
    """The first :data:`MAX_TABLE_ROWS` rows of ``df`` and a note naming the full file."""
    if df is None or len(df) <= MAX_TABLE_ROWS:
        return df, ""
    note = (
        f'<p class="note">The first {MAX_TABLE_ROWS:,} of {len(df):,} {_e(what)}; '
        f"all of them are in {_e(file)} in the run folder.</p>"
    )
    return df.iloc[:MAX_TABLE_ROWS], note


def _table(df: pd.DataFrame, columns: dict[str, str], num: tuple[str, ...] = ()) -> str:
    """An escaped HTML table of ``df[columns]`` (``columns`` maps column -> header)."""
    cols = [c for c in columns if c in df.columns]
    head = "".join(f"<th>{_e(columns[c])}</th>" for c in cols)
    body = []
    for _, row in df.iterrows():
        cells = "".join(
            f'<td class="num">{_e(row[c])}</td>' if c in num else f"<td>{_e(row[c])}</td>"
            for c in cols
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _div_id(name: str) -> str:
    """An HTML id for a figure: ``fig-<name>`` when ``name`` is a plain identifier, else its
    letters with a hash, so a metadata column name never reaches the page unescaped (plotly
    writes the id into a script).
    """
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if safe != name:
        safe += "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"fig-{safe}"


def _figure_html(name: str, fig: go.Figure) -> str:
    """One figure as a responsive div (plotly.js itself is embedded once, elsewhere)."""
    fig = go.Figure(fig)  # a copy: the caller's figure keeps its journal size
    fig.update_layout(width=None, autosize=True)
    div = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=_div_id(name),
        default_width="100%",
        config={"responsive": True, "displaylogo": False},
    )
    return f'<div class="figure" data-figure="{_e(name)}">{div}</div>'


def _interval_text(row: pd.Series) -> str:
    share = _num(row.get("share"), "{:.1%}")
    lo, hi, level = S.interval(row)
    if level == "none":
        return f"{share} (no interval)"
    ci = f"[{lo:.1%}, {hi:.1%}]"
    return f"{share} {ci}" + (" paragraph-level, not document-level" if level != "document" else "")


def _summary(result: Result) -> str:
    m = result.manifest
    counts, run, model = m.get("counts", {}), m.get("run", {}), m.get("model", {})
    corpus = m.get("corpus", {})
    n_themes = 0 if result.themes is None else len(result.themes)
    items = [
        ("documents", counts.get("documents", result.segments["doc_id"].nunique())),
        ("segments", counts.get("segments", len(result.segments))),
        ("modelled paragraphs", run.get("n_modelled_segments", "")),
        ("topics", model.get("n_topics", "")),
        ("outlier share", _num(model.get("outlier_share"), "{:.1%}")),
        ("themes", n_themes),
        ("random seed", run.get("seed", result.config.get("seed", ""))),
        ("embedding model", model.get("embedding", "")),
        ("corpus", corpus.get("path", "")),
        ("corpus sha256", corpus.get("sha256", "")),
        ("segments by language", _fmt_counts(counts.get("by_language"))),
        ("segments by section", _fmt_counts(counts.get("by_section"))),
    ]
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items if v not in ("", None))
    return f'<dl class="summary">{rows}</dl>'


def _fmt_counts(d: object) -> str:
    if not isinstance(d, dict):
        return ""
    return ", ".join(f"{k} {v}" for k, v in d.items())


def _documents_table(result: Result) -> str:
    seg = result.segments.copy()
    seg["doc_id"] = seg["doc_id"].astype(str)
    meta = [c for c in result.manifest.get("corpus", {}).get("metadata_columns", []) if c in seg]
    if not meta:
        meta = [c for c in ("title", "focus", "kind", "year") if c in seg]
    order = pd.unique(seg["doc_id"])
    shown, note = _capped(pd.DataFrame({"doc_id": order}), "documents", "documents.csv")
    seg = seg[seg["doc_id"].isin(shown["doc_id"])]
    rows = []
    for doc_id, g in seg.groupby("doc_id", sort=False):
        rec = {"doc_id": doc_id, **{c: g[c].iloc[0] for c in meta}}
        rec["n_segments"] = len(g)
        rec["languages"] = _fmt_counts(g["language"].value_counts().to_dict())
        rows.append(rec)
    cols = {"doc_id": "document", **{c: c for c in meta}, "n_segments": "segments"}
    cols["languages"] = "languages"
    return _table(pd.DataFrame(rows), cols, num=("n_segments",)) + note


def _topics_section(result: Result) -> str:
    if result.topics is None:
        return ""
    t, note = _capped(result.topics, "topics", "topics.csv")
    t = t.copy()
    t["share"] = [_num(v, "{:.1%}") for v in t["share"]] if "share" in t else ""
    if "stability" in t:
        t["stability"] = [_num(v) for v in t["stability"]]
    cols = {
        "topic": "topic",
        "label": "label",
        "words": "top words",
        "size": "paragraphs",
        "share": "share",
        "languages": "languages",
        "stability": "stability",
        "theme": "theme",
    }
    return _table(t, cols, num=("topic", "size", "share", "stability")) + note


def _comparison_tables(result: Result) -> str:
    out = []
    if result.prevalence is not None and not result.prevalence.empty:
        p = result.prevalence
        # Aggregated: per-document rows (by doc_id / article) only when the table stays small;
        # the document figures show them and prevalence.csv keeps them all.
        per_doc = p["by"].astype(str).isin(["doc_id", "article"])
        dropped = ""
        if len(p) > MAX_TABLE_ROWS and per_doc.any() and not per_doc.all():
            p = p[~per_doc]
            dropped = (
                f'<p class="note">{int(per_doc.sum()):,} per-document rows (by doc_id, '
                "article) are left out here; they are in prevalence.csv.</p>"
            )
        p, note = _capped(p, "prevalence rows", "prevalence.csv")
        p = p.copy()
        p["interval"] = [_interval_text(r) for _, r in p.iterrows()]
        cols = {
            "by": "by",
            "group": "group",
            "kind": "kind",
            "label": "topic / theme",
            "interval": "share [CI]",
            "method": "CI method",
            "n_docs": "documents",
            "n_segments": "paragraphs",
        }
        out.append(
            "<h3>Prevalence</h3>" + _table(p, cols, num=("n_docs", "n_segments")) + dropped + note
        )
    if result.differences is not None and not result.differences.empty:
        d, d_note = _capped(result.differences, "differences", "differences.csv")
        d = d.copy()
        d["comparison"] = d["group_a"].astype(str) + " − " + d["group_b"].astype(str)
        d["difference"] = [
            _num(r.get("diff"), "{:+.1%}")
            + (
                f" [{_num(r.get('ci_low'), '{:+.1%}')}, {_num(r.get('ci_high'), '{:+.1%}')}]"
                if _num(r.get("ci_low"))
                else ""
            )
            for _, r in d.iterrows()
        ]
        for c in ("p_value", "q_value"):
            if c in d:
                d[c] = [_num(v, "{:.3f}") for v in d[c]]
        cols = {
            "by": "by",
            "comparison": "groups",
            "kind": "kind",
            "label": "topic / theme",
            "difference": "difference [CI]",
            "method": "method",
            "p_value": "p",
            "q_value": "q (FDR)",
            "n_docs_a": "documents a",
            "n_docs_b": "documents b",
        }
        num = ("p_value", "q_value", "n_docs_a", "n_docs_b", "difference")
        out.append("<h3>Differences between groups</h3>" + _table(d, cols, num=num) + d_note)
    return "".join(out)


def _paragraph(text: object, source: str) -> str:
    return f'<div class="para">{_e(text)}<div class="note">{_e(source)}</div></div>'


def _representatives(result: Result, per_theme: int = 3) -> str:
    out = []
    if result.topics is not None and "representative" in result.topics:
        out.append("<h3>Topics</h3>")
        for _, r in result.topics.iterrows():
            if int(r["topic"]) < 0 or not isinstance(r["representative"], str):
                continue
            paras = [p for p in r["representative"].split(" || ") if p.strip()]
            out.append(f"<h4>{_e(r['topic'])}: {_e(r['label'])}</h4>")
            out.extend(_paragraph(p, f"topic {r['topic']}") for p in paras)
    seg = result.segments
    if S.has_themes(result):
        docs = S.doc_labels(result, 60)
        out.append("<h3>Themes</h3>")
        themed = seg[seg["theme"].fillna("").astype(str) != ""].copy()
        themed["theme_score"] = pd.to_numeric(themed.get("theme_score"), errors="coerce")
        for theme in S.theme_order(result, themed):
            top = themed[themed["theme"] == theme].nlargest(per_theme, "theme_score")
            out.append(f"<h4>{_e(theme)} ({int((themed['theme'] == theme).sum())} paragraphs)</h4>")
            for _, r in top.iterrows():
                src = f"{docs.get(str(r['doc_id']), r['doc_id'])} · {r['language']}"
                src += f" · score {_num(r['theme_score'])}"
                out.append(_paragraph(r["text"], src))
    return "".join(out)


def _validation(result: Result) -> str:
    """Agreement with human coders (``agreement.csv``), computed by ``topics code agreement``."""
    t = getattr(result, "validation", None)
    if t is None or t.empty:
        return ""
    info = result.manifest.get("validation") or {}
    t = t.copy()
    t["theme"] = t["theme"].fillna("").astype(str)
    t["estimate"] = [
        f"{_num(r['value'])} [{_num(r['ci_low'])}, {_num(r['ci_high'])}]" for _, r in t.iterrows()
    ]
    overall = t[t["theme"] == ""].copy()
    overall["pair"] = overall["rater_a"].astype(str) + " vs " + overall["rater_b"].astype(str)
    cols = {"pair": "raters", "measure": "measure", "estimate": "estimate [CI]",
            "n": "paragraphs", "n_docs": "documents"}  # fmt: skip
    out = [
        '<p class="note">'
        + _e(
            f"Sheet {info.get('sheet', '')}: {info.get('n_paragraphs', '')} coded paragraphs "
            f"from {info.get('n_docs', '')} documents. Machine: {info.get('evaluation', '')}. "
            f"Intervals: {t['method'].iloc[0] if 'method' in t else ''}, "
            f"{_num(info.get('confidence', 0.95), '{:.0%}')} level."
        )
        + "</p>",
        _table(overall, cols, num=("n", "n_docs")),
    ]
    per = t[(t["theme"] != "") & (t["rater_a"] == "machine") & (t["support"] > 0)]
    first = per["rater_b"].iloc[0] if len(per) else None
    per = per[per["rater_b"] == first]
    if len(per):
        wide = per.pivot_table(
            index="theme", columns="measure", values="estimate", aggfunc="first", sort=False
        ).reset_index()
        sup = per.drop_duplicates("theme").set_index("theme")["support"]
        wide["support"] = [int(sup[x]) for x in wide["theme"]]
        cols = {"theme": "theme", "precision": "precision [CI]", "recall": "recall [CI]",
                "f1": "F1 [CI]", "support": f"paragraphs coded ({first})"}  # fmt: skip
        out.append(f"<h3>Per theme: machine vs {_e(first)}</h3>")
        out.append(_table(wide, cols, num=("support",)))
    return "".join(out)


def _run_details(result: Result) -> str:
    m = result.manifest
    out = []
    warn = m.get("warnings") or []
    if warn:
        items = "".join(f"<li>{_e(w)}</li>" for w in warn)
        out.append(f'<h3>Warnings</h3><div class="warn"><ul>{items}</ul></div>')
    skipped = m.get("files_skipped") or m.get("skipped") or []
    if skipped:
        rows = [s if isinstance(s, dict) else {"file": s} for s in skipped]
        cols = {"file": "file", "reason": "reason", "message": "message", "row": "row"}
        out.append("<h3>Skipped files</h3>" + _table(pd.DataFrame(rows), cols))
    timings = m.get("timings") or {}
    if timings:
        t = pd.DataFrame({"step": list(timings), "seconds": list(timings.values())})
        out.append("<h3>Timings</h3>" + _table(t, {"step": "step", "seconds": "s"}, ("seconds",)))
    versions = m.get("versions") or {}
    if versions:
        txt = ", ".join(f"{k} {v}" for k, v in versions.items())
        out.append(f'<h3>Package versions</h3><p class="note">{_e(txt)}</p>')
    model = m.get("model") or {}
    if model:
        txt = json.dumps(model, ensure_ascii=False, indent=1, default=str)
        out.append(f'<h3>Model</h3><pre class="note scroll">{_e(txt)}</pre>')
    if result.config:
        txt = json.dumps(result.config, ensure_ascii=False, indent=1, default=str)
        out.append(f'<h3>Configuration</h3><pre class="note scroll">{_e(txt)}</pre>')
    return "".join(out)


def _effects_section(result: Result, fig) -> str:
    """Figures and the coefficient table of :mod:`topics.effects`, when the run has them."""
    table = result.effect_estimates
    if table is None or len(table) == 0:
        return ""
    extra = ""
    pred = result.effect_predictions
    if pred is not None and len(pred):
        mods = pred.loc[pred["moderator"].fillna("").astype(str) != "", "moderator"]
        if len(mods):
            kind = "theme" if (pred["kind"] == "theme").any() else "topic"
            try:
                f = F.effect_trends(result, kind=kind, moderator=str(mods.iloc[0]))
                extra = _figure_html("effect_trends_by_moderator", f)
            except NoDataError:
                extra = ""
    rows = table[table["term"] != "Intercept"].copy()
    for col in ("estimate", "ci_low", "ci_high"):
        rows[col] = rows[col].map(lambda v: _num(v, "{:+.2f}"))
    for col in ("p_value", "q_value"):
        rows[col] = rows[col].map(lambda v: _num(v, "{:.3g}"))
    note = (
        '<p class="note">Fractional-logit coefficients (log-odds of an item\'s share of a '
        "document's paragraphs) with their intervals; q-values are Benjamini-Hochberg within "
        "each formula and kind; <em>n docs</em> counts the documents behind a coefficient (for "
        "a level, the documents of that level). Rows without an estimate say why.</p>"
    )
    return (
        fig("effect_estimates") + fig("effect_contrasts") + fig("effect_trends") + extra + note
        + _table(rows, {"formula": "formula", "kind": "kind", "label": "item", "term": "term",
                        "estimate": "estimate", "ci_low": "low", "ci_high": "high",
                        "p_value": "p", "q_value": "q", "n_docs": "n docs",
                        "method": "method"},
                 num=("estimate", "ci_low", "ci_high", "p_value", "q_value", "n_docs"))
    )  # fmt: skip


def render_report(
    result: Result,
    *,
    similarity: np.ndarray | None = None,
    title: str | None = None,
    skipped: dict[str, str] | None = None,
) -> str:
    """The report of ``result`` as one self-contained HTML page.

    Parameters
    ----------
    result : Result
    similarity : numpy.ndarray of shape (k, k), optional
        Topic similarity (see :func:`topics.figures.load_similarity`); without it the
        similarity figure is left out.
    title : str, optional
        Page title; default names the corpus.
    skipped : dict, optional
        Filled with ``figure -> reason`` for the figures left out (see
        :func:`topics.figures.all_figures`).

    Returns
    -------
    str
        HTML with plotly.js embedded once and no network resource.
    """
    figs = F.all_figures(result, similarity=similarity, skipped=skipped)
    corpus = result.manifest.get("corpus", {}).get("path", "")
    title = title or (f"Topics report: {corpus}" if corpus else "Topics report")

    def fig(name: str, caption: str = "") -> str:
        if name not in figs:
            return ""
        cap = f'<p class="note">{_e(caption)}</p>' if caption else ""
        return _figure_html(name, figs[name]) + cap

    sections = [s for s in _sections(result, fig) if s[2]]
    return _page(title, sections)


def _extra_comparisons(result: Result) -> list[str]:
    """Comparison figures for the groupings other than the default one (one per grouping:
    themes, or topics without themes); per-document groupings and groupings of more than
    eight groups are left out.
    """
    extra_by: list[str] = []
    if result.prevalence is not None and not result.prevalence.empty:
        bys = sorted({str(b) for b in result.prevalence["by"].dropna()})
        default = "focus" if "focus" in bys else (bys[0] if bys else None)
        for by in bys:
            n_groups = result.prevalence.loc[result.prevalence["by"] == by, "group"].nunique()
            # per-document groupings are shown by the document figures; many groups are unreadable
            if by == default or by in ("doc_id", "article") or n_groups > 8:
                continue
            for kind in ("theme", "topic"):
                try:
                    f = F.group_comparison(result, by=by, kind=kind)
                except NoDataError:
                    continue
                extra_by.append(_figure_html(f"group_comparison_{kind}_by_{by}", f))
                break

    return extra_by


def _sections(result: Result, fig) -> list[tuple[str, str, str]]:
    """The report's sections as ``(id, heading, html)``; ``fig(name, caption)`` is a figure's
    HTML ("" when the figure was not drawn).
    """
    extra_by = _extra_comparisons(result)
    sections = [
        ("overview", "Corpus", _summary(result) + _documents_table(result)
         + fig("corpus_overview")),
        ("map", "Topic map", fig(
            "topic_map",
            "Each point is a modelled paragraph; coordinates were computed once, at fit time. "
            "Hover for the paragraph, its document and language.",
        )),
        ("topics", "Topics", _topics_section(result) + fig("topic_words")),
        ("themes", "Themes", (
            _table(result.themes, {"theme": "theme", "description": "description",
                                   "keywords": "keywords", "n_segments": "paragraphs",
                                   "topics": "topics"}, num=("n_segments",))
            if result.themes is not None else ""
        ) + fig("theme_by_document") + fig("document_composition")),
        ("comparison", "Group comparison", fig("group_comparison") +
         fig("group_comparison_topics") + "".join(extra_by) + (
            '<p class="note">Each interval states its method and the number of documents '
            "behind it. Open markers and rows marked “paragraph-level” treat paragraphs as "
            "independent: they are not document-level intervals and understate uncertainty."
            "</p>" if result.prevalence is not None else ""
        ) + _comparison_tables(result)),
        ("time", "Over time", fig(
            "prevalence_over_time",
            "Share of paragraphs per year with document-level intervals; the documents of each "
            "year are counted under the axis, and sparse years (open markers) say little.",
        )),
        ("effects", "Covariate effects", _effects_section(result, fig)),
        ("validation", "Validation", _validation(result) + fig(
            "confusion_matrix",
            "Rows: the machine's theme; columns: the coder's. Numbers are paragraphs; colour "
            "is the share of the coder's column.",
        )),
        ("structure", "Topic similarity and stability",
         fig("topic_similarity") + fig("topic_stability")),
        ("examples", "Representative paragraphs", _representatives(result)),
        ("run", "Run details", _run_details(result)),
    ]  # fmt: skip
    return sections


def _page(title: str, sections: list[tuple[str, str, str]]) -> str:
    """The HTML page: plotly.js embedded once, a navigation bar and the sections."""
    nav = "".join(f'<a href="#{sid}">{_e(name)}</a>' for sid, name, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{_e(h)}</h2>{c}</section>' for sid, h, c in sections)
    return (
        '<!DOCTYPE html>\n<html lang="ky"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style>"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>'
        f"<script>{_CHECK_JS}</script></head><body><main>"
        f'<h1>{_e(title)}</h1><div id="figure-errors" class="warn"></div>'
        f"<nav>{nav}</nav>{body}</main></body></html>\n"
    )


def write_report(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """Write the report of a run folder (default ``run_dir/report.html``).

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A run folder written by ``topics run``.
    path : str or pathlib.Path, optional
        Output file; written atomically (a temporary file renamed into place).

    Returns
    -------
    pathlib.Path
        The written file.

    Notes
    -----
    The figures left out are listed in the run's ``manifest.json`` under
    ``figures_skipped`` (``figure``, ``reason``).
    """
    run_dir = Path(run_dir)
    result = Result.load(run_dir, skip=NOT_DRAWN)
    skipped: dict[str, str] = {}
    page = render_report(result, similarity=result.similarity, skipped=skipped)
    _record_skipped(run_dir, result.manifest, skipped)
    out = Path(path) if path is not None else run_dir / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _record_skipped(run_dir: Path, manifest: dict, skipped: dict[str, str]) -> None:
    """List the figures left out, with their reasons, in the run's manifest."""
    records = [{"figure": k, "reason": v} for k, v in skipped.items()]
    if not (run_dir / "manifest.json").exists() or manifest.get("figures_skipped") == records:
        return
    from topics import _io

    _io.write_json(run_dir / "manifest.json", {**manifest, "figures_skipped": records})
