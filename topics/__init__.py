"""topics: semantic topic modelling and comparison of national education corpora."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
