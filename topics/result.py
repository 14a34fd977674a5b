"""The result object: the hand-off between computing and presenting.

A :class:`Result` holds everything reports and figures need (segments with topics and themes,
2-D coordinates, topic words, comparison tables, manifest and configuration). It saves to and
loads from a folder of plain files (CSV/Parquet/JSON/TOML; never pickle), so figures can be
rebuilt without re-embedding.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Result", "GroupTable", "load"]

# attribute -> file name of the tables of topics.effects (CSV) and the theme probabilities
# of every modelled segment (Parquet: one float column per theme, keyed by segment_id)
_EFFECT_TABLES = {
    "effect_estimates": "effects",
    "effect_predictions": "effects_predicted",
    "effect_contrasts": "effects_contrasts",
    "prevalence_by_year": "prevalence_by_year",
}
_TABLES = (
    "segments", "documents", "topics", "topic_words", "themes", "prevalence", "differences",
    "coded", "validation", "confusion",
)  # fmt: skip
#: Tables saved under another file name than their attribute.
_FILES = {"validation": "agreement"}
#: The DataFrame corpus of a run made from one (:attr:`Result.corpus`).
CORPUS_FILE = "corpus.parquet"


class GroupTable(pd.DataFrame):
    """A comparison table (prevalence or differences) that can also be called to filter it.

    ``result.prevalence`` is the whole table; ``result.prevalence(by="focus", kind="theme")``
    returns the rows of one grouping and kind as a plain DataFrame.
    """

    @property
    def _constructor(self):
        return pd.DataFrame

    def __call__(self, by: str | None = None, kind: str | None = None) -> pd.DataFrame:
        """Rows for grouping ``by`` (a metadata column, ``doc_id`` or ``article``) and
        ``kind`` (``"topic"`` or ``"theme"``); None keeps all.
        """
        frame = pd.DataFrame(self)
        if by is not None:
            if by not in set(frame["by"]):
                raise KeyError(f"no comparison by {by!r}; available: {sorted(set(frame['by']))}")
            frame = frame[frame["by"] == by]
        if kind is not None:
            if kind not in ("topic", "theme"):
                raise ValueError(f"kind must be 'topic' or 'theme', not {kind!r}")
            frame = frame[frame["kind"] == kind]
        return frame.reset_index(drop=True)


@dataclass
class Result:
    """Outputs of a run.

    Attributes
    ----------
    segments : pandas.DataFrame
        One row per segment (see :data:`topics.ingest.SEGMENT_COLUMNS`), with ``topic``,
        ``topic_label``, ``theme``, ``theme_score``, ``x``, ``y`` after a full run.
    documents : pandas.DataFrame
        One row per document with its cleaned text.
    topics : pandas.DataFrame or None
        One row per topic: id, label, words, size, language mix, stability.
    topic_words : pandas.DataFrame or None
        Every topic's ranked words with their weights, overall (``language`` ``"all"``)
        and per language: :data:`topics.schema.TOPIC_WORD_COLUMNS`; ``topic_words.csv``.
    themes : pandas.DataFrame or None
        One row per codebook theme: name, size, matched topics.
    prevalence, differences : pandas.DataFrame or None
        Comparison tables (see :mod:`topics.compare`).
    coded : pandas.DataFrame or None
        Coded examples the themes learnt from (``--coded``): ``segment_id``, ``doc_id``,
        ``code``, ``theme`` (in-sample) and ``cv_theme`` (predicted with the document's
        examples left out); ``coded.csv``.
    validation, confusion : pandas.DataFrame or None
        Agreement with human coders and its confusion matrix (see :mod:`topics.coding`);
        ``agreement.csv`` and ``confusion.csv``.
    manifest : dict
        What the run read, its settings, versions, timings.
    config : dict
        The fully resolved configuration.
    similarity : numpy.ndarray of shape (k, k) or None
        Topic-to-topic similarity computed at fit time (topics >= 0 in ``topics`` order);
        the same as ``model.similarity``, saved in ``model/topic_model.safetensors``.
    embeddings : topics._embstore.SavedEmbeddings or None
        The modelled segments' embeddings (float16 precision) with their segment ids and the
        model identity, and the codebook's embeddings; saved as ``embeddings.safetensors``
        so the modelling can be redone without the model (``topics verify``).
    effect_estimates, effect_predictions, effect_contrasts : pandas.DataFrame or None
        Tables of :mod:`topics.effects` (``effects.csv``, ``effects_predicted.csv``,
        ``effects_contrasts.csv``) for the formulas of the run's ``[effects]`` section or of
        ``topics effects``.
    prevalence_by_year : pandas.DataFrame or None
        Prevalence per year (:func:`topics.effects.prevalence_over_time`).
    theme_probs : pandas.DataFrame or None
        ``segment_id`` and one probability column per theme for every modelled segment (the
        theme posterior), used by the method of composition; ``theme_probs.parquet``.
    model : topics.model.ModelData or None
        The fitted topic model as arrays (topic embeddings, topics, 2-D coordinates,
        similarity), its settings and c-TF-IDF words; saved in ``model/``.
    corpus : pandas.DataFrame or None
        The DataFrame the run was made from, as :func:`topics.corpus.corpus_table` (``doc_id``,
        ``text``, metadata as text); saved as ``corpus.parquet``, which the saved
        configuration names so that ``topics verify`` can redo the run. None for a corpus
        folder.
    folder : pathlib.Path or None
        The run folder this result was loaded from (relative paths of :attr:`config` are
        relative to it); None for a result not loaded from a folder.
    """

    segments: pd.DataFrame
    documents: pd.DataFrame
    topics: pd.DataFrame | None = None
    topic_words: pd.DataFrame | None = None
    themes: pd.DataFrame | None = None
    prevalence: pd.DataFrame | None = None
    differences: pd.DataFrame | None = None
    coded: pd.DataFrame | None = None
    validation: pd.DataFrame | None = None
    confusion: pd.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    similarity: Any = None
    embeddings: Any = None
    effect_estimates: pd.DataFrame | None = None
    effect_predictions: pd.DataFrame | None = None
    effect_contrasts: pd.DataFrame | None = None
    prevalence_by_year: pd.DataFrame | None = None
    theme_probs: pd.DataFrame | None = None
    model: Any = None
    corpus: pd.DataFrame | None = None
    folder: Path | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("prevalence", "differences") and isinstance(value, pd.DataFrame):
            if not isinstance(value, GroupTable):
                value = GroupTable(value)
        object.__setattr__(self, name, value)

    def save(
        self,
        folder: str | Path,
        *,
        overwrite: bool = False,
        report: bool = True,
        bertopic: bool = False,
    ) -> Path:
        """Write the run folder atomically: tables, manifest, config, embeddings, model, report.

        Everything is written into a temporary folder beside ``folder`` that is renamed into
        place only when complete, so a failure leaves nothing half-written. The result itself
        is not changed.

        Parameters
        ----------
        folder : str or pathlib.Path
            The run folder; an existing one is refused unless ``overwrite``.
        overwrite : bool, default False
            Replace an existing folder.
        report : bool, default True
            Also write ``report.html`` (see :func:`topics.report.write_report`); figures
            that cannot be drawn are named in the manifest under ``figures_skipped``.
        bertopic : bool, default False
            Also write ``bertopic/``: the model of :meth:`bertopic` in BERTopic's safetensors
            format, which ``bertopic.BERTopic.load`` reads (needs the texts and embeddings).

        Returns
        -------
        pathlib.Path
            ``folder``.

        Examples
        --------
        >>> result.save("results/my_run")  # doctest: +SKIP
        >>> topics.load("results/my_run").topics  # doctest: +SKIP
        """
        from topics import _io

        out = Path(folder)
        config = _relative_config(self.config, self.folder, out) if self.config else {}
        if config and self.corpus is not None:
            config["corpus"] = CORPUS_FILE  # beside config.toml in the run folder
        with _io.atomic_output_dir(out, overwrite=overwrite) as tmp:
            self._write_files(tmp, config)
            if report:
                from topics.report import write_report

                write_report(tmp)
            if bertopic:
                self.bertopic().save(
                    str(tmp / "bertopic"),
                    serialization="safetensors",
                    save_ctfidf=True,
                    save_embedding_model=False,
                )
        return out

    def _write_files(self, folder: Path, config: dict) -> None:
        """Every table, the manifest, ``config``, embeddings and model into ``folder``."""
        import hashlib

        import tomli_w

        for name in _TABLES:
            table = getattr(self, name)
            if table is None:
                continue
            table.to_csv(folder / f"{_FILES.get(name, name)}.csv", index=False, lineterminator="\n")
            if name in ("segments", "documents"):
                table.to_parquet(folder / f"{name}.parquet", index=False)
        for name, file in _EFFECT_TABLES.items():
            table = getattr(self, name)
            if table is not None:
                table.to_csv(folder / f"{file}.csv", index=False, lineterminator="\n")
        if self.theme_probs is not None:
            self.theme_probs.to_parquet(folder / "theme_probs.parquet", index=False)
        if self.corpus is not None:
            self.corpus.to_parquet(folder / CORPUS_FILE, index=False)
        (folder / "manifest.json").write_text(
            json.dumps(self.manifest, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8"
        )
        if config:
            (folder / "config.toml").write_text(tomli_w.dumps(config), "utf-8")
        if self.embeddings is not None:
            from topics._embstore import FILE_NAME

            self.embeddings.save(folder / FILE_NAME)
        if self.model is not None:
            from topics.model import save_model

            save_model(folder / "model", self.model)
        digest = hashlib.sha256()
        for name in ("segments.csv", "topics.csv", "prevalence.csv", "differences.csv"):
            if (folder / name).exists():
                digest.update((folder / name).read_bytes())
        (folder / "outputs.sha256").write_text(digest.hexdigest() + "\n", "utf-8")

    @classmethod
    def load(cls, folder: str | Path, *, skip: Collection[str] = ()) -> Result:
        """Load a run folder written by :meth:`save` (or ``topics run``, ``topics ingest``).

        Reads back every table, the manifest, the configuration (paths in it stay relative
        to ``folder``, which is kept in :attr:`folder`), the embeddings and the saved model.

        Parameters
        ----------
        folder : str or pathlib.Path
            A run folder.
        skip : collection of str, optional
            Attributes not to read (left None), e.g. ``("embeddings", "corpus",
            "documents")``: the large parts a report does not draw. ``segments`` is always
            read.

        Returns
        -------
        Result
        """
        folder = Path(folder)
        if not (folder / "segments.csv").exists() and not (folder / "segments.parquet").exists():
            raise FileNotFoundError(f"{folder}: not a run folder (no segments.csv)")
        skip = set(skip)
        optional = {f.name for f in fields(cls)} - {"segments", "manifest", "config", "folder"}
        if skip - optional:
            raise ValueError(
                f"cannot skip {sorted(skip - optional)} when loading a run; skip any of "
                f"{sorted(optional)}"
            )
        tables: dict[str, pd.DataFrame | None] = {}
        for name in _TABLES:
            fname = _FILES.get(name, name)
            pq, csv = folder / f"{fname}.parquet", folder / f"{fname}.csv"
            if name in skip:
                tables[name] = None
            elif pq.exists():
                tables[name] = pd.read_parquet(pq)
            elif csv.exists():
                tables[name] = _read_csv(csv)
            else:
                tables[name] = None
        manifest = {}
        if (folder / "manifest.json").exists():
            manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        config = {}
        if (folder / "config.toml").exists():
            config = tomllib.loads((folder / "config.toml").read_text("utf-8"))
        for name, file in _EFFECT_TABLES.items():
            path = folder / f"{file}.csv"
            tables[name] = _read_csv(path) if path.exists() and name not in skip else None
        for name, file in (("theme_probs", "theme_probs.parquet"), ("corpus", CORPUS_FILE)):
            path = folder / file
            tables[name] = pd.read_parquet(path) if path.exists() and name not in skip else None
        from topics._embstore import FILE_NAME, SavedEmbeddings
        from topics.model import load_model

        embeddings = None
        if (folder / FILE_NAME).exists() and "embeddings" not in skip:
            embeddings = SavedEmbeddings.load(folder / FILE_NAME)
        model = None
        if (folder / "model").is_dir() and not {"model", "similarity"} <= skip:
            model = load_model(folder / "model")
        return cls(
            manifest=manifest,
            config=config,
            similarity=None if model is None or "similarity" in skip else model.similarity,
            embeddings=embeddings,
            model=None if "model" in skip else model,
            folder=folder,
            **tables,  # type: ignore[arg-type]
        )

    def bertopic(self):
        """A fitted ``bertopic.BERTopic`` holding this run's topics, words and embeddings.

        BERTopic is fitted in its manual mode on the modelled paragraphs, their saved
        embeddings and their topics (see :func:`topics.interop.to_bertopic`); its topic
        representations are this run's topic words with their weights and its custom
        labels this run's labels. BERTopic's own methods then work, e.g.
        ``get_topic_info()``, ``get_document_info(docs)``, ``visualize_barchart()``,
        ``visualize_hierarchy()``, ``topics_per_class(docs, classes)``,
        ``topics_over_time(docs, timestamps)`` and ``save(...)``; ``docs`` are
        ``result.modelled_segments()[0]["text"]``.

        Returns
        -------
        bertopic.BERTopic

        Examples
        --------
        >>> model = topics.load("results/consortium").bertopic()  # doctest: +SKIP
        >>> docs = result.modelled_segments()[0]                  # doctest: +SKIP
        >>> model.topics_per_class(docs["text"].tolist(), docs["focus"].tolist())  # doctest: +SKIP
        """
        from topics.errors import TopicsError
        from topics.interop import to_bertopic
        from topics.schema import ALL_LANGUAGES

        if self.embeddings is None or self.topics is None:
            raise TopicsError(
                "this result has no topics or no saved embeddings (an ingest-only folder?); "
                "run `topics run` first"
            )
        seg, _ = self.modelled_segments()
        vectors = self.embeddings.take(seg["segment_id"].astype(str).tolist())
        words = None
        if self.topic_words is not None:
            overall = self.topic_words[self.topic_words["language"] == ALL_LANGUAGES]
            words = {
                int(k): list(zip(g["word"], g["weight"].astype(float), strict=True))
                for k, g in overall.sort_values(["topic", "rank"]).groupby("topic")
            }
        labels = dict(zip(self.topics["topic"].astype(int), self.topics["label"], strict=True))
        n_words = int((self.config.get("topics") or {}).get("top_n_words", 10))
        return to_bertopic(
            seg["text"].astype(str).tolist(),
            vectors,
            seg["topic"].astype(int).to_numpy(),
            seg["language"].astype(str).tolist(),
            words=words,
            labels=labels,
            top_n_words=max(n_words * 3, 30),
        )

    def agreement(self, sheet: str | Path, **kwargs: Any):
        """Agreement of this run's themes with the coders of a coded ``sheet``.

        See :func:`topics.coding.agreement` (keyword arguments are passed on); returns a
        :class:`topics.coding.Agreement`. Nothing is written.
        """
        from topics.coding import agreement

        return agreement(self, sheet, **kwargs)

    def prevalence_table(self, by: str, kind: str = "theme") -> pd.DataFrame:
        """Rows of the prevalence table for one grouping (``by``) and kind (topic/theme).

        The same as ``result.prevalence(by=by, kind=kind)``.
        """
        if self.prevalence is None:
            raise ValueError("this result has no comparisons; run `topics run` first")
        return self.prevalence(by=by, kind=kind)

    def effects(self, formula: str, kind: str = "theme", **options: Any):
        """Covariate effects on topic or theme prevalence (see :func:`topics.effects.effects`).

        Uses the modelled segments and, for themes, the saved theme probabilities (method of
        composition), corrected for noisy assignments by default (``method="em"``, calibrated
        on the run's coded paragraphs when it has them; ``coded=`` another sheet). Nothing is
        stored on the result; ``topics effects RUN`` writes the tables into a run folder.

        Parameters
        ----------
        formula : str
            Document covariates in patsy syntax, e.g. ``"focus + year"`` or ``"focus * year"``.
        kind : {"theme", "topic"}, default "theme"
        **options
            Passed to :func:`topics.effects.effects` (``n_draws``, ``confidence``,
            ``random_state`` (default: the run's seed), ``se``, ``weights``, ``min_df``,
            ``method``, ``coded``).

        Returns
        -------
        topics.effects.EffectsResult
            ``.effects``, ``.predicted`` and ``.contrasts`` tables.

        Examples
        --------
        >>> res = Result.load("results/seeds")  # doctest: +SKIP
        >>> res.effects("focus + year", kind="theme").effects  # doctest: +SKIP
        """
        from topics import effects as eff

        segments, probs = self.modelled_segments()
        options.setdefault("random_state", self.config.get("seed", 0))
        options["coded"] = eff.run_coded(
            self, probs, options.get("coded"), options.get("method", "em")
        )
        return eff.effects(segments, formula, kind=kind, probs=probs if kind == "theme" else None,
                           **options)  # fmt: skip

    def modelled_segments(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The modelled segments (with a topic) and their theme probabilities, aligned.

        Returns
        -------
        segments : pandas.DataFrame
        probs : pandas.DataFrame or None
            One column per theme, one row per returned segment; None without probabilities.
        """
        seg = self.segments
        if "topic" in seg.columns:
            seg = seg[pd.to_numeric(seg["topic"], errors="coerce").notna()]
        seg = seg.reset_index(drop=True)
        probs = None
        if self.theme_probs is not None and "segment_id" in seg.columns:
            table = self.theme_probs.set_index("segment_id")
            probs = table.reindex(seg["segment_id"]).reset_index(drop=True)
        return seg, probs


def _relative_config(cfg: dict, source: Path | None, out: Path) -> dict:
    """A copy of ``cfg`` whose paths are relative to the run folder ``out`` (no machine path).

    Relative paths of ``cfg`` are relative to ``source`` (the folder the result was loaded
    from) or, for a fresh result, to the working folder.
    """
    import os

    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in cfg.items()}
    base = Path(source) if source is not None else Path.cwd()

    def rel(p: str) -> str:
        if not p:
            return p
        try:
            return os.path.relpath((base / p).resolve(), out.resolve())
        except ValueError:
            return p

    if "corpus" in cfg:
        cfg["corpus"] = rel(cfg["corpus"])
    for key in ("codebook", "coded"):
        if key in cfg.get("themes", {}):
            cfg["themes"][key] = rel(cfg["themes"][key])
    if "cache_dir" in cfg.get("embed", {}):
        cfg["embed"]["cache_dir"] = ""
    if "scheduler" in cfg.get("embed", {}):
        cfg["embed"]["scheduler"] = ""  # where it embedded is in the manifest; same vectors
    if "out" in cfg:
        cfg["out"] = ""  # where a rerun writes is the rerun's choice
    return cfg


def load(folder: str | Path) -> Result:
    """Load a saved run folder (the same as :meth:`Result.load`).

    Examples
    --------
    >>> import topics
    >>> result = topics.load("results/consortium")  # doctest: +SKIP
    """
    return Result.load(folder)


#: Columns a CSV does not type by itself: topic ids with gaps (theme rows) stay integers;
#: text columns stay text, an empty cell an empty string (not a missing number).
_INT_COLUMNS = {"topic": "Int64"}
_TEXT_COLUMNS = {
    "by", "group", "group_a", "group_b", "kind", "theme", "label", "method", "level",
    "topics", "doc_id", "language", "word", "words", "description", "keywords", "term",
    "formula", "item", "moderator",
}  # fmt: skip


def _read_csv(path: Path) -> pd.DataFrame:
    """A saved table with the types it was written with (see :data:`_TEXT_COLUMNS`)."""
    head = pd.read_csv(path, nrows=0).columns
    types = {c: _INT_COLUMNS.get(c, str) for c in head if c in _INT_COLUMNS or c in _TEXT_COLUMNS}
    missing = {c: [""] for c in head if c not in _TEXT_COLUMNS}
    return pd.read_csv(path, keep_default_na=False, na_values=missing, dtype=types)
