"""Row blocks of large arrays and chunks of many texts: a national corpus step by step.

A step that works row by row (centring, projection, normalisation, reading in context) gives
the same floats whether it runs on the whole array or on blocks of rows, but the blocks keep
its float64 temporaries to a few hundred MB instead of several times the array. A pure-Python
pass over the texts (tokenising, stemming) runs on chunks of texts in worker processes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["PARALLEL_TEXTS_MIN", "ROW_BLOCK", "row_blocks", "text_chunks", "usable_cores"]

#: From this many texts on, :func:`text_chunks` runs in worker processes (one per usable
#: core), chunk by chunk.
PARALLEL_TEXTS_MIN = 50_000

#: Rows per block (at most). Blocks are balanced, so none is smaller than half of this: BLAS
#: takes other code paths (and sums in another order) for products of only a few rows.
ROW_BLOCK = 32768


def row_blocks(n: int, size: int = ROW_BLOCK) -> Iterator[slice]:
    """Slices covering ``range(n)`` in order, in blocks of at most ``size`` rows, as equal as
    possible (one block when ``0 < n <= size``, none when ``n == 0``).

    Examples
    --------
    >>> [(s.start, s.stop) for s in row_blocks(10, 4)]
    [(0, 3), (3, 7), (7, 10)]
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    k = math.ceil(n / size)
    if k == 0:
        return
    bounds = [round(i * n / k) for i in range(k + 1)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        yield slice(a, b)


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def text_chunks(fn: Callable[..., Any], texts: Sequence[str], *args: Any) -> list[Any]:
    """``fn(chunk, *args)`` for consecutive chunks of ``texts``, in chunk order: one chunk
    (``texts`` itself) below :data:`PARALLEL_TEXTS_MIN` texts or on one core, else four per
    usable core (at most 8 cores), in worker processes. ``fn`` must be importable (a
    module-level function) and its result must not depend on where the chunks start.
    """
    jobs = min(usable_cores(), 8)
    if len(texts) < PARALLEL_TEXTS_MIN or jobs == 1:
        return [fn(texts, *args)]
    from joblib import Parallel, delayed

    size = -(-len(texts) // (4 * jobs))
    chunks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
    return Parallel(n_jobs=jobs, backend="loky")(delayed(fn)(c, *args) for c in chunks)
