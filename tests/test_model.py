"""The model stage on its own: topics and words of a small planted corpus, per-topic
stability, and the model files of a run folder.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from topics.model import ModelData, fit_topics, load_model, save_model, topic_stability

#: Three planted topics, each with its own Kyrgyz vocabulary (no word shared).
VOCAB = {
    0: ["мектеп", "мугалим", "окуучу", "сабак", "класс", "китеп"],
    1: ["интернет", "компьютер", "санариптик", "онлайн", "платформа", "программа"],
    2: ["кыздар", "аялдар", "теңчилик", "гендердик", "укук", "үй-бүлө"],
}


def _planted(n_per: int = 24, d: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.standard_normal((d, 3)))[0].T  # orthonormal topic directions
    texts, truth, vectors = [], [], []
    for k, words in VOCAB.items():
        for _ in range(n_per):
            picked = rng.choice(words, size=5, replace=True)
            texts.append(" ".join(picked) + " жана башка маселелер")
            truth.append(k)
            vectors.append(centres[k] + 0.25 * rng.standard_normal(d) / np.sqrt(d))
    X = np.asarray(vectors, dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return texts, X, np.asarray(truth)


@pytest.fixture(scope="module")
def fitted():
    texts, X, truth = _planted()
    fit = fit_topics(texts, X, ["ky"] * len(texts), random_state=0, consensus_runs=6)
    return texts, X, truth, fit


def test_planted_topics_are_recovered_with_their_own_kyrgyz_words(fitted):
    texts, _, truth, fit = fitted
    assert adjusted_rand_score(truth, fit.topics) > 0.95
    table = fit.table.set_index("topic")
    for k in sorted(set(fit.topics.tolist()) - {-1}):
        planted = np.bincount(truth[fit.topics == k]).argmax()
        words = [w.strip() for w in table.loc[k, "words"].split(",")]
        assert words, f"topic {k} has no words"
        # Cyrillic words survive (BERTopic's English default would strip them) and the top
        # word belongs to the planted topic's vocabulary.
        assert all(re.search("[а-яөүң]", w) for w in words[:3])
        assert words[0] in VOCAB[planted]
    assert fit.coords.shape == (len(texts), 2)
    assert np.allclose(np.linalg.norm(fit.topic_embeddings, axis=1), 1.0, atol=1e-5)
    assert fit.similarity.shape == (len(fit.topic_embeddings),) * 2


def test_topic_table_records_stability_and_settings(fitted):
    _, _, _, fit = fitted
    modelled = fit.table[fit.table["topic"] >= 0]
    assert modelled["stability"].between(0, 1).all()
    assert modelled["size"].sum() == int((fit.topics >= 0).sum())
    assert len(fit.stability_ari) == 6  # one ARI per consensus member
    assert fit.params["consensus_runs"] == 6 and fit.params["random_state"] == 0
    assert "consensus" in fit.params and "member_seeds" in fit.params


def test_same_seed_same_topics(fitted):
    texts, X, _, fit = fitted
    again = fit_topics(texts, X, ["ky"] * len(texts), random_state=0, consensus_runs=6)
    assert np.array_equal(again.topics, fit.topics)
    assert again.table["words"].tolist() == fit.table["words"].tolist()


def test_topic_stability_is_the_mean_best_jaccard():
    labels = np.array([0, 0, 0, 1, 1, -1])
    other_same = np.array([5, 5, 5, 7, 7, 7])
    other_split = np.array([1, 1, 2, 2, 2, -1])
    got = topic_stability(labels, [other_same, other_split])
    # topic 0 = {0,1,2}: Jaccard 1 with 5; with other_split best is {0,1} -> 2/3.
    # topic 1 = {3,4}: with 7 = {3,4,5} -> 2/3; with 2 = {2,3,4} -> 2/3.
    assert got[0] == pytest.approx((1 + 2 / 3) / 2)
    assert got[1] == pytest.approx(2 / 3)
    assert -1 not in got
    assert np.isnan(topic_stability(labels, [])[0])


def test_model_files_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    model = ModelData(
        topic_embeddings=rng.standard_normal((3, 8)).astype(np.float32),
        topics=np.array([0, 1, 2, -1, 0]),
        coords=rng.standard_normal((5, 2)).astype(np.float32),
        similarity=np.eye(3, dtype=np.float32),
        params={"consensus": {"cut": 0.7}, "note": "мектеп"},
        ctfidf_words={0: [("мектеп", 0.5)], 2: [("кыздар", 0.25), ("укук", 0.125)]},
    )
    save_model(tmp_path / "model", model)
    back = load_model(tmp_path / "model")
    for name in ("topic_embeddings", "topics", "coords", "similarity"):
        assert np.array_equal(getattr(back, name), getattr(model, name)), name
    assert back.params == model.params
    assert back.ctfidf_words == model.ctfidf_words
