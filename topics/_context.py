"""Reading paragraphs in context: means over neighbouring rows and over groups.

Shared by :mod:`topics.themes` (theme evidence from the surrounding paragraphs and the
article) and :mod:`topics.cluster` (clustering features read in context).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["group_keys", "group_mean", "group_means", "neighbour_sum"]


def group_keys(groups: Sequence[object]) -> np.ndarray:
    """Group labels as an array of strings (``doc_id/article`` keys, topic ids, ...)."""
    return np.asarray([str(x) for x in groups], dtype=object)


def neighbour_sum(
    values: np.ndarray, keys: np.ndarray, rows: slice | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of each row's previous and next row within the same group.

    Their mean is ``total / np.maximum(count, 1)`` (zero for rows without a neighbour).

    Parameters
    ----------
    values : numpy.ndarray, shape (n, d)
        Rows in reading order.
    keys : numpy.ndarray, shape (n,)
        Group of each row (see :func:`group_keys`).
    rows : slice, optional
        Only these rows (a block of a large array: the same floats as those rows of the whole
        result); default every row.

    Returns
    -------
    total : numpy.ndarray of float64, shape (n_rows, d)
        Sum of the neighbouring rows (zero for rows without a neighbour in their group).
    count : numpy.ndarray of float64, shape (n_rows, 1)
        Number of neighbours (0, 1 or 2).
    """
    rows = slice(0, len(values)) if rows is None else rows
    start = rows.start or 0
    same_prev = np.r_[False, keys[1:] == keys[:-1]][rows]
    same_next = np.r_[keys[:-1] == keys[1:], False][rows]
    total = np.zeros((len(same_prev), *values.shape[1:]), dtype=np.float64)
    count = np.zeros((len(same_prev), 1))
    total[same_prev] += values[np.flatnonzero(same_prev) + start - 1]
    count[same_prev] += 1
    total[same_next] += values[np.flatnonzero(same_next) + start + 1]
    count[same_next] += 1
    return total, count


def group_mean(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each row replaced by the mean of its group's rows (same dtype as ``values``).

    One stable sort, then one mean per contiguous run of a group: O(n log n), and each mean
    sums the group's rows in their original order (the floats of a per-group mask).
    """
    means, inverse = group_means(values, keys)
    return means[inverse] if len(values) else np.zeros_like(values)


def group_means(values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean row of each group and each row's group: ``means[inverse]`` is
    :func:`group_mean` without an (n, d) array (one row per group).

    Parameters
    ----------
    values : numpy.ndarray, shape (n, d)
    keys : numpy.ndarray, shape (n,)
        Group of each row (see :func:`group_keys`).

    Returns
    -------
    means : numpy.ndarray, shape (n_groups, d), dtype of ``values``
        Groups in sorted key order (as :func:`numpy.unique`).
    inverse : numpy.ndarray of intp, shape (n,)
        Row of ``means`` of each row.
    """
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    bounds = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    runs = np.split(order, bounds) if len(order) else []
    means = np.zeros((len(runs), *values.shape[1:]), dtype=values.dtype)
    inverse = np.zeros(len(keys), dtype=np.intp)
    for g, rows in enumerate(runs):
        means[g] = values[rows].mean(axis=0)
        inverse[rows] = g
    return means, inverse
