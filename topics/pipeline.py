"""The full run: ingest -> embed -> topics -> themes -> compare, recorded in a manifest.

:func:`run` composes the stage modules and returns a :class:`~topics.result.Result`;
:func:`write_run` saves it atomically into a run folder.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from topics import _io
from topics._embstore import SavedEmbeddings, round_vectors, text_hash
from topics.config import RunConfig
from topics.errors import TopicsError, TopicsWarning
from topics.result import Result

__all__ = ["run", "write_run"]


def _segment_params(cfg: RunConfig) -> dict:
    return {"max_chars": cfg.ingest.max_chars, "min_chars": cfg.ingest.min_chars}


def run(cfg: RunConfig, *, progress: bool = False, saved: SavedEmbeddings | None = None) -> Result:
    """Run the whole pipeline on ``cfg.corpus``.

    Parameters
    ----------
    cfg : RunConfig
        The resolved configuration (see :mod:`topics.config`).
    progress : bool, default False
        Show progress bars.
    saved : SavedEmbeddings, optional
        Embeddings saved in a run folder (``RUN/embeddings.safetensors``). They are used
        instead of the embedding model when they were made with ``cfg.embed.model`` for
        exactly these segment texts (the manifest's ``embeddings.source`` says which was
        used, and why not).

    Returns
    -------
    Result
        Segments with ``topic``, ``topic_label``, ``theme``, ``theme_score``, ``x``, ``y``;
        the topics table; themes and comparison tables; manifest; configuration.

    Examples
    --------
    >>> from topics.config import RunConfig
    >>> res = run(RunConfig(corpus="seeds"))  # doctest: +SKIP
    >>> res.topics[["topic", "label", "size"]]  # doctest: +SKIP
    """
    import warnings

    from topics import embed
    from topics.corpus import load_corpus
    from topics.ingest import segments_from_corpus
    from topics.labels import with_theme_names
    from topics.model import fit_topics

    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        t = time.perf_counter()
        loaded = load_corpus(cfg.corpus, strict=cfg.ingest.strict)
        ingested = segments_from_corpus(loaded, progress=progress, **_segment_params(cfg))
        timings["ingest_s"] = time.perf_counter() - t
    for w in rec:
        caught.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    segments = ingested.segments.copy()
    modelled = segments["section"].isin(cfg.topics.sections) & (segments["n_chars"] >= 20)
    if modelled.sum() < 5:
        raise TopicsError(
            f"{cfg.corpus}: only {int(modelled.sum())} segments in sections "
            f"{cfg.topics.sections}; a topic model needs more text (add documents or "
            "include more sections via [topics] sections)."
        )
    idx = np.flatnonzero(modelled.to_numpy())
    texts = segments["text"].iloc[idx].tolist()
    languages = segments["language"].iloc[idx].tolist()

    backend = embed.get_backend(cfg.embed.model, device=cfg.embed.device)
    # Language coverage warnings: languages the model was not trained on, and text whose
    # language we could not identify.
    lang_counts = pd.Series(languages).value_counts()
    covered = getattr(backend, "languages", None)
    for lang, count in lang_counts.items():
        if lang == "other" or (covered is not None and lang not in covered):
            msg = (
                f"{count} segments are in language {lang!r}, which the embedding model "
                f"{cfg.embed.model!r} covers poorly or not at all; their topics are unreliable"
            )
            caught.append(msg)
            warnings.warn(msg, TopicsWarning, stacklevel=2)
        elif covered is None and lang not in ("en",):
            msg = (
                f"{count} segments are in language {lang!r}; check that the model "
                f"{cfg.embed.model!r} was trained on it (its coverage is not known to topics)"
            )
            caught.append(msg)
            warnings.warn(msg, TopicsWarning, stacklevel=2)

    t = time.perf_counter()
    cache_dir = cfg.embed.cache_dir or None
    emb_stats: dict = {}
    seg_ids = segments["segment_id"].astype(str).iloc[idx].tolist()
    why_not = saved.match(cfg.embed.model, seg_ids, texts) if saved is not None else "none given"
    if not why_not:
        vectors = saved.take(seg_ids)
        model_id = saved.model_id
        source = f"saved embeddings ({len(seg_ids)} segments, model {model_id})"
    else:
        if saved is not None:
            msg = f"the saved embeddings were not used: {why_not}; embedding with the model"
            caught.append(msg)
            warnings.warn(msg, TopicsWarning, stacklevel=2)
        vectors = embed.embed_texts(
            texts,
            backend,
            kind="passage",
            cache_dir=cache_dir,
            batch_size=cfg.embed.batch_size,
            progress=progress,
            stats=emb_stats,
            scheduler=cfg.embed.scheduler or None,
        )
        model_id = backend.model_id
        source = "model"
    # The run models float16-rounded vectors: exactly what its folder keeps.
    vectors = round_vectors(vectors)
    timings["embed_s"] = time.perf_counter() - t
    store = SavedEmbeddings(
        model=cfg.embed.model,
        model_id=model_id,
        segment_ids=seg_ids,
        text_hashes=[text_hash(x) for x in texts],
        vectors=vectors,
    )

    # Themes first: with a codebook, the theme posterior also guides the topic clustering.
    groups = (segments["doc_id"].astype(str) + "/" + segments["article"].astype(str)).iloc[idx]
    groups = groups.tolist()
    assigned = codebook = coded = coded_info = None
    if cfg.themes.coded and not cfg.themes.codebook:
        raise TopicsError("a coded sheet (--coded) needs the codebook it was coded with (--themes)")
    if cfg.themes.codebook:
        from topics import themes as th
        from topics.words import make_analyzer

        t = time.perf_counter()
        codebook = th.load_codebook(cfg.themes.codebook)
        q_texts, owner = th.theme_queries(codebook)
        # Codebook phrases embedded both as queries and as passages (e5's two prefixes).
        proto_vectors = []
        for kind in ("query", "passage"):
            vecs = saved.codebook_vectors(kind, q_texts) if not why_not else None
            if vecs is None:
                vecs = embed.embed_texts(q_texts, backend, kind=kind, cache_dir=cache_dir)
                source += f"; codebook {kind} embeddings from the model"
            vecs = round_vectors(vecs)
            store.codebook[kind] = ([text_hash(x) for x in q_texts], vecs)
            proto_vectors.append(vecs)
        proto = th.codebook_scores(vectors, proto_vectors, owner, len(codebook))
        analyzer = make_analyzer(sorted(set(languages)))
        lexical = th.lexical_scores(texts, codebook, analyzer)
        combined = th.combine_scores(proto, lexical, groups=groups)
        names = [c.name for c in codebook]
        assigned = th.assign_themes(combined, names, min_z=cfg.themes.min_z)
        if cfg.themes.coded:  # coded paragraphs calibrate the codebook (few-shot)
            from topics.coding import few_shot

            assigned, coded, coded_info = few_shot(
                combined, names, cfg.themes.coded, segments, idx, min_z=cfg.themes.min_z
            )
        timings["themes_s"] = time.perf_counter() - t

    t = time.perf_counter()
    guide = None
    if assigned is not None and cfg.topics.guided:
        guide = th.theme_posterior(assigned.scores)
    tm = fit_topics(
        texts,
        vectors,
        languages,
        random_state=cfg.seed,
        top_n_words=cfg.topics.top_n_words,
        min_cluster_size=cfg.topics.min_cluster_size,
        n_neighbors=cfg.topics.n_neighbors,
        max_outliers=cfg.topics.max_outliers,
        consensus_runs=cfg.topics.consensus_runs,
        align=cfg.topics.align_languages,
        groups=groups if cfg.topics.context else None,
        guide=guide,
        progress=progress,
    )
    timings["topics_s"] = time.perf_counter() - t

    topic_col = pd.Series(pd.NA, index=segments.index, dtype="Int64")
    topic_col.iloc[idx] = tm.topics
    segments["topic"] = topic_col
    labels = dict(zip(tm.table["topic"], tm.table["label"], strict=True))
    segments["x"] = np.nan
    segments["y"] = np.nan
    segments.loc[segments.index[idx], "x"] = np.round(tm.coords[:, 0], 5)
    segments.loc[segments.index[idx], "y"] = np.round(tm.coords[:, 1], 5)

    themes_table = None
    segments["theme"] = ""
    segments["theme_score"] = np.nan
    if assigned is not None:
        segments.loc[segments.index[idx], "theme"] = assigned.theme
        segments.loc[segments.index[idx], "theme_score"] = np.round(assigned.theme_score, 4)
        topic_names = th.name_topics(tm.topics, assigned.theme)
        labels = with_theme_names(labels, topic_names)
        tm.table["theme"] = [topic_names.get(int(k), "") for k in tm.table["topic"]]
        tm.table["label"] = [labels[int(k)] for k in tm.table["topic"]]
        themes_table = pd.DataFrame(
            {
                "theme": names,
                "description": [c.description for c in codebook],
                "keywords": ["; ".join(c.keywords) for c in codebook],
                "n_segments": [int(np.sum(np.asarray(assigned.theme) == n)) for n in names],
                "topics": [
                    ", ".join(str(k) for k, v in topic_names.items() if v.split(" (")[0] == n)
                    for n in names
                ],
            }
        )
    segments["topic_label"] = [
        labels.get(int(k), "") if pd.notna(k) else "" for k in segments["topic"]
    ]

    prevalence = differences = None
    try:
        from topics import compare
    except ImportError:
        compare = None
    if compare is not None:
        t = time.perf_counter()
        sub = segments.iloc[idx].copy()
        prevalence, differences = compare.compare(
            sub,
            by=cfg.compare.by or None,
            confidence=cfg.compare.confidence,
            n_boot=cfg.compare.n_boot,
            n_perm=cfg.compare.n_perm,
            random_state=cfg.seed,
        )
        timings["compare_s"] = time.perf_counter() - t

    # Covariate effects ([effects] formulas) and prevalence per year, after the comparisons.
    t = time.perf_counter()
    theme_probs = None
    if assigned is not None:
        theme_probs = pd.DataFrame(th.theme_posterior(assigned.scores), columns=names)
        theme_probs.insert(0, "segment_id", segments["segment_id"].iloc[idx].to_numpy())
    effect_tables, by_year = _effects_step(cfg, segments.iloc[idx], theme_probs, caught)
    if cfg.effects.formulas or by_year is not None:
        timings["effects_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_all

    manifest = dict(ingested.manifest)
    manifest["run"] = {
        "seed": cfg.seed,
        "modelled_sections": cfg.topics.sections,
        "n_modelled_segments": int(len(idx)),
        "languages_found": {k: int(v) for k, v in lang_counts.items()},
    }
    manifest["embeddings"] = {"source": source, "file": "embeddings.safetensors"}
    manifest["model"] = {
        "embedding": model_id,
        "embedding_dim": int(vectors.shape[1]),
        "cache": emb_stats,
        "topics": tm.params,
        "n_topics": int((tm.table["topic"] >= 0).sum()),
        "outlier_share": float(np.mean(tm.topics < 0)),
        "stability_ari": tm.stability_ari,
    }
    if coded_info is not None:
        manifest["themes"] = coded_info
    manifest["warnings"] = caught
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    manifest["versions"] = _io.package_versions()
    result = Result(
        segments=segments,
        documents=ingested.documents,
        topics=tm.table,
        themes=themes_table,
        prevalence=prevalence,
        differences=differences,
        coded=coded,
        manifest=manifest,
        config=cfg.to_dict(),
        similarity=tm.similarity,
        embeddings=store,
        theme_probs=theme_probs,
        prevalence_by_year=by_year,
    )
    if effect_tables is not None:
        result.effect_estimates = effect_tables.effects
        result.effect_predictions = effect_tables.predicted
        result.effect_contrasts = effect_tables.contrasts
    result._model = tm  # type: ignore[attr-defined]  # kept for save_model, not saved as is
    return result


def _effects_step(cfg: RunConfig, modelled: pd.DataFrame, theme_probs, caught: list[str]):
    """Effects of the configured formulas and prevalence per year; refusals become warnings."""
    import warnings

    from topics import effects as eff

    seg = modelled.reset_index(drop=True)
    probs = None if theme_probs is None else theme_probs.drop(columns="segment_id")
    tables = by_year = None
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        if cfg.effects.formulas:
            tables = eff.effects_tables(
                seg,
                cfg.effects.formulas,
                cfg.effects.kinds,
                probs=probs,
                on_error="warn",
                n_draws=cfg.effects.n_draws,
                se=cfg.effects.se,
                confidence=cfg.compare.confidence,
                random_state=cfg.seed,
            )
        if cfg.effects.over_time:
            by_year = eff.prevalence_over_time(
                seg, random_state=cfg.seed, confidence=cfg.compare.confidence
            )
    for w in rec:
        caught.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return tables, by_year


def _relative_config(cfg: dict, out: Path) -> dict:
    """Paths in the saved config relative to the run folder, so no machine path is stored."""
    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in cfg.items()}

    def rel(p: str) -> str:
        if not p:
            return p
        try:
            return os.path.relpath(Path(p).resolve(), out.resolve())
        except ValueError:
            return p

    cfg["corpus"] = rel(cfg.get("corpus", ""))
    cfg["themes"]["codebook"] = rel(cfg["themes"].get("codebook", ""))
    cfg["themes"]["coded"] = rel(cfg["themes"].get("coded", ""))
    cfg["embed"]["cache_dir"] = ""
    cfg["embed"]["scheduler"] = ""  # where it embedded is in the manifest; vectors are the same
    cfg["out"] = ""  # where a rerun writes is the rerun's choice
    return cfg


def save_model(folder: Path, tm) -> None:
    """Save the fitted topic model without pickle (safetensors + JSON)."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "topic_embeddings": np.ascontiguousarray(tm.topic_embeddings, dtype=np.float32),
            "topics": np.ascontiguousarray(tm.topics, dtype=np.int64),
            "coords": np.ascontiguousarray(tm.coords, dtype=np.float32),
            "similarity": np.ascontiguousarray(tm.similarity, dtype=np.float32),
        },
        str(folder / "topic_model.safetensors"),
    )
    _io.write_json(folder / "params.json", tm.params)
    if tm.bertopic is not None:
        topic_words = {
            str(k): [[w, float(s)] for w, s in (tm.bertopic.get_topic(k) or [])]
            for k in sorted(tm.bertopic.get_topics())
        }
        _io.write_json(folder / "ctfidf_topic_words.json", topic_words)


def write_run(
    result: Result, out: str | Path, *, overwrite: bool = False, report: bool = True
) -> Path:
    """Write a run folder atomically: tables, manifest, config and the saved model.

    Parameters
    ----------
    result : Result
        From :func:`run`.
    out : str or pathlib.Path
        Output folder; an existing one is refused unless ``overwrite``.
    overwrite : bool, default False
    report : bool, default True
        Also write ``report.html`` (see :func:`topics.report.write_report`).

    Returns
    -------
    pathlib.Path
    """
    out = Path(out)
    with _io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        result.config = _relative_config(result.config, out)
        result.save(tmp)
        tm = getattr(result, "_model", None)
        if tm is not None:
            save_model(tmp / "model", tm)
        digest = hashlib.sha256()
        for name in ("segments.csv", "topics.csv", "prevalence.csv", "differences.csv"):
            if (tmp / name).exists():
                digest.update((tmp / name).read_bytes())
        (tmp / "outputs.sha256").write_text(digest.hexdigest() + "\n", "utf-8")
        if report:
            from topics.report import write_report

            write_report(tmp)
    return out
