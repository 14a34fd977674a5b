"""Row blocks of large arrays: the (n, d) steps of a national corpus run block by block.

A step that works row by row (centring, projection, normalisation, reading in context) gives
the same floats whether it runs on the whole array or on blocks of rows, but the blocks keep
its float64 temporaries to a few hundred MB instead of several times the array.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

__all__ = ["ROW_BLOCK", "row_blocks"]

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
