"""topics: semantic topic modelling and comparison of national education corpora.

The public API, for notebooks::

    import topics

    cfg = topics.RunConfig(corpus="seeds")
    cfg.themes.codebook = "experiments/codebook.toml"
    result = topics.run(cfg)                 # a topics.Result
    result.save("my_run")                    # or topics.write_run(result, "my_run")
    result = topics.Result.load("my_run")

Stage modules: :mod:`topics.corpus`, :mod:`topics.clean`, :mod:`topics.segment`,
:mod:`topics.langid`, :mod:`topics.ingest`, :mod:`topics.embed`, :mod:`topics.cluster`,
:mod:`topics.model`, :mod:`topics.themes`, :mod:`topics.compare`, :mod:`topics.figures`,
:mod:`topics.report`, :mod:`topics.export`. Names are imported lazily, so ``import topics``
stays fast and changes no global state.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "RunConfig": "topics.config",
    "load_config": "topics.config",
    "Result": "topics.result",
    "run": "topics.pipeline",
    "write_run": "topics.pipeline",
    "ingest": "topics.ingest",
    "load_corpus": "topics.corpus",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'topics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
