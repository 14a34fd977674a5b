"""topics: semantic topic modelling and comparison of national education corpora.

The public API, for notebooks::

    import topics

    result = topics.run("seeds", themes="experiments/codebook.toml")   # a topics.Result
    result.save("my_run")                    # the run folder, written atomically
    result = topics.load("my_run")           # everything save wrote
    model = result.bertopic()                # a fitted bertopic.BERTopic

``topics.run`` also takes a pandas DataFrame (a ``text`` column plus metadata), precomputed
``embeddings`` and any setting of :class:`RunConfig` by name; ``topics.run(cfg)`` runs a
:class:`RunConfig` (the TOML/command-line form). :class:`TopicModel` is the estimator for
texts of your own (``fit``/``transform``).

Stage modules: :mod:`topics.corpus`, :mod:`topics.clean`, :mod:`topics.segment`,
:mod:`topics.langid`, :mod:`topics.ingest`, :mod:`topics.embed`, :mod:`topics.cluster`,
:mod:`topics.model`, :mod:`topics.themes`, :mod:`topics.compare`, :mod:`topics.figures`,
:mod:`topics.report`, :mod:`topics.export`; table columns in :mod:`topics.schema`. No
public name is both a function and a module (the ingest stage alone is
``topics.ingest.ingest``). Names are imported lazily, so ``import topics`` stays fast and
changes no global state.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "RunConfig": "topics.config",
    "load_config": "topics.config",
    "Result": "topics.result",
    "load": "topics.result",
    "run": "topics.pipeline",
    "write_run": "topics.pipeline",
    "load_corpus": "topics.corpus",
    "TopicModel": "topics.estimator",
}

__all__ = ["__version__", *_LAZY]


#: Stage modules reachable as ``topics.<name>`` without importing them first.
_SUBMODULES = frozenset(
    "config corpus clean segment langid ingest embed cluster model themes compare effects "
    "coding figures report export schema interop estimator result pipeline verify".split()
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"topics.{name}")
    raise AttributeError(f"module 'topics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
