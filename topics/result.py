"""The result object: the hand-off between computing and presenting.

A :class:`Result` holds everything reports and figures need (segments with topics and themes,
2-D coordinates, topic words, comparison tables, manifest and configuration). It saves to and
loads from a folder of plain files (CSV/Parquet/JSON/TOML; never pickle), so figures can be
rebuilt without re-embedding.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Result", "GroupTable"]

# attribute -> file name of the tables of topics.effects (CSV) and the theme probabilities
# of every modelled segment (Parquet: one float column per theme, keyed by segment_id)
_EFFECT_TABLES = {
    "effect_estimates": "effects",
    "effect_predictions": "effects_predicted",
    "effect_contrasts": "effects_contrasts",
    "prevalence_by_year": "prevalence_by_year",
}
_TABLES = (
    "segments", "documents", "topics", "themes", "prevalence", "differences",
    "coded", "validation", "confusion",
)  # fmt: skip
#: Tables saved under another file name than their attribute.
_FILES = {"validation": "agreement"}


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
        saved in ``model/topic_model.safetensors``.
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
    """

    segments: pd.DataFrame
    documents: pd.DataFrame
    topics: pd.DataFrame | None = None
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

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("prevalence", "differences") and isinstance(value, pd.DataFrame):
            if not isinstance(value, GroupTable):
                value = GroupTable(value)
        object.__setattr__(self, name, value)

    def save(self, folder: str | Path) -> Path:
        """Write every table as CSV (and Parquet), the manifest as JSON, the config as TOML.

        Parameters
        ----------
        folder : str or pathlib.Path
            An existing, empty folder (normally the temporary folder of an atomic write).
        """
        import tomli_w

        folder = Path(folder)
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
        (folder / "manifest.json").write_text(
            json.dumps(self.manifest, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8"
        )
        if self.config:
            (folder / "config.toml").write_text(tomli_w.dumps(self.config), "utf-8")
        if self.embeddings is not None:
            from topics._embstore import FILE_NAME

            self.embeddings.save(folder / FILE_NAME)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Result:
        """Load a result saved by :meth:`save` (a run folder).

        Parameters
        ----------
        folder : str or pathlib.Path
            A run folder written by ``topics run`` or ``topics ingest``.
        """
        folder = Path(folder)
        if not (folder / "segments.csv").exists() and not (folder / "segments.parquet").exists():
            raise FileNotFoundError(f"{folder}: not a run folder (no segments.csv)")
        tables: dict[str, pd.DataFrame | None] = {}
        for name in _TABLES:
            fname = _FILES.get(name, name)
            pq, csv = folder / f"{fname}.parquet", folder / f"{fname}.csv"
            if pq.exists():
                tables[name] = pd.read_parquet(pq)
            elif csv.exists():
                tables[name] = pd.read_csv(csv, keep_default_na=False, na_values=[""])
            else:
                tables[name] = None
        manifest = {}
        if (folder / "manifest.json").exists():
            manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        config = {}
        if (folder / "config.toml").exists():
            config = tomllib.loads((folder / "config.toml").read_text("utf-8"))
        similarity = None
        model_file = folder / "model" / "topic_model.safetensors"
        if model_file.exists():
            from safetensors.numpy import load_file

            similarity = load_file(str(model_file)).get("similarity")
        for name, file in _EFFECT_TABLES.items():
            path = folder / f"{file}.csv"
            tables[name] = (
                pd.read_csv(path, keep_default_na=False, na_values=[""])
                if (path.exists())
                else None
            )
        probs = folder / "theme_probs.parquet"
        tables["theme_probs"] = pd.read_parquet(probs) if probs.exists() else None
        from topics._embstore import FILE_NAME, SavedEmbeddings

        embeddings = None
        if (folder / FILE_NAME).exists():
            embeddings = SavedEmbeddings.load(folder / FILE_NAME)
        return cls(
            manifest=manifest,
            config=config,
            similarity=similarity,
            embeddings=embeddings,
            **tables,  # type: ignore[arg-type]
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
        composition). Nothing is stored on the result; ``topics effects RUN`` writes the
        tables into a run folder.

        Parameters
        ----------
        formula : str
            Document covariates in patsy syntax, e.g. ``"focus + year"`` or ``"focus * year"``.
        kind : {"theme", "topic"}, default "theme"
        **options
            Passed to :func:`topics.effects.effects` (``n_draws``, ``confidence``,
            ``random_state`` (default: the run's seed), ``se``, ``weights``, ``min_df``).

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
