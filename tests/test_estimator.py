"""The scikit-learn style estimator over the functional core."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_corpus
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from topics import TopicModel


def test_fit_transform_and_fitted_attributes():
    frame, vectors = small_corpus(n_per_topic=15)
    est = TopicModel(random_state=0, consensus_runs=3)
    assert not hasattr(est, "labels_")  # __init__ only stores its arguments
    assert clone(est).get_params() == est.get_params()
    assert est.fit(frame["text"].tolist(), embeddings=vectors) is est
    assert len(est.labels_) == len(frame) and est.coords_.shape == (len(frame), 2)
    assert adjusted_rand_score(frame["planted"], est.labels_) > 0.9
    assert list(est.topic_words_.columns) == ["topic", "language", "rank", "word", "weight"]
    assert set(est.topics_["topic"]) >= set(est.labels_.tolist())
    # new texts near a topic's centre get that topic
    new, new_vectors = small_corpus(n_per_topic=3, seed=0)
    predicted = est.transform(new["text"].tolist(), embeddings=new_vectors + 0.01)
    mapping = {p: int(np.bincount(est.labels_[frame["planted"] == p]).argmax()) for p in range(3)}
    assert predicted.tolist() == [mapping[p] for p in new["planted"]]
    with pytest.raises(ValueError, match="one row per text"):
        est.transform(["a", "b"], embeddings=new_vectors)


def test_transform_before_fit_is_refused():
    with pytest.raises(ValueError, match="not fitted"):
        TopicModel().transform(["text"], embeddings=np.ones((1, 4)))
