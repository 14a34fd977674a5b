"""UMAP's layout descent, compiled without ``fastmath`` (see :func:`topics._umap.layout`).

A copy of umap-learn's ``optimize_layout_euclidean`` for the case the topic stage uses, called
as ``UMAP.fit`` calls it (no densMAP, head = tail, ``move_other``, one thread). umap compiles
its own with ``fastmath=True``, which lets each CPU target fuse and reorder float operations;
the descent is chaotic, so one rounding difference gave a different layout. Compiled without
it, every target computes the same IEEE operations in the same order. In its own module so
that numba is imported only when a layout is drawn.
"""

from __future__ import annotations

import numba
import numpy as np
from umap.layouts import clip  # compiled without fastmath: reused as it is
from umap.utils import tau_rand_int


@numba.njit(fastmath=False, cache=True)
def _rdist(emb, j, k):
    d2 = np.float32(0.0)
    for d in range(emb.shape[1]):
        diff = emb[j, d] - emb[k, d]
        d2 += diff * diff
    return d2


@numba.njit(fastmath=False, cache=True)
def sgd_epochs(emb, head, tail, eps, a, b, states, n_epochs, neg_rate):
    """For each epoch, the two ends of every edge due are pulled together and its head
    pushed away from ``neg_rate`` random vertices per sample, with a learning rate falling
    linearly from 1 (umap's schedule, gradients and random states: the same steps as umap's
    descent, up to the rounding that ``fastmath`` changes). In place on ``emb`` (float32).
    """
    n_vertices, dim = emb.shape
    eps_neg = eps / neg_rate
    next_neg = eps_neg.copy()
    next_pos = eps.copy()
    for n in range(n_epochs):
        alpha = 1.0 - max(n - 1, 0) / n_epochs  # umap lowers it after each epoch from the 2nd
        for i in range(eps.shape[0]):
            if next_pos[i] > n:
                continue
            j = head[i]
            k = tail[i]
            d2 = _rdist(emb, j, k)
            g = 0.0
            if d2 > 0.0:
                g = -2.0 * a * b * d2 ** (b - 1.0) / (a * d2**b + 1.0)
            for d in range(dim):
                step = clip(g * (emb[j, d] - emb[k, d])) * alpha
                emb[j, d] += step
                emb[k, d] -= step  # umap's fit moves both ends (move_other)
            next_pos[i] += eps[i]
            n_neg = int((n - next_neg[i]) / eps_neg[i])
            for _ in range(n_neg):
                k = tau_rand_int(states[j]) % n_vertices
                d2 = _rdist(emb, j, k)
                if d2 > 0.0:
                    g = 2.0 * b / ((0.001 + d2) * (a * d2**b + 1.0))
                    for d in range(dim):
                        emb[j, d] += clip(g * (emb[j, d] - emb[k, d])) * alpha
            next_neg[i] += n_neg * eps_neg[i]
