"""BERTopic interoperability: a real fitted ``bertopic.BERTopic`` from our topics.

:func:`to_bertopic` fits BERTopic in its documented manual mode (``BaseDimensionalityReduction``
and ``BaseCluster`` with ``y=topics``: "Manual Topic Modeling" in BERTopic's documentation)
on our texts, embeddings and topic assignments, with our Cyrillic-aware vectorizer
(:func:`topics.words.make_analyzer`). BERTopic then computes its c-TF-IDF, topic embeddings
and representative documents itself, so its own methods work: ``get_topic_info``,
``get_document_info``, ``visualize_barchart``, ``visualize_hierarchy``, ``topics_per_class``,
``topics_over_time``, ``hierarchical_topics`` and ``save`` / ``BERTopic.load``. Our topic
words (with their weights) replace BERTopic's representations and our labels are set as its
custom labels, so BERTopic shows the run's topics as the report does.

Example
-------
>>> import topics
>>> model = topics.load("results/consortium").bertopic()       # doctest: +SKIP
>>> model.get_topic_info()                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["to_bertopic"]


def to_bertopic(
    texts: Sequence[str],
    embeddings: np.ndarray,
    topics: Sequence[int],
    languages: Sequence[str],
    *,
    words: Mapping[int, Sequence[tuple[str, float]]] | None = None,
    labels: Mapping[int, str] | None = None,
    top_n_words: int = 30,
):
    """A fitted ``bertopic.BERTopic`` whose topics are ``topics``.

    Parameters
    ----------
    texts : sequence of str, length n
        The modelled paragraphs.
    embeddings : numpy.ndarray, shape (n, d)
        Their embeddings (BERTopic's topic embeddings are their means per topic).
    topics : sequence of int, length n
        Topic of each paragraph (-1 = outlier), numbered by decreasing size.
    languages : sequence of str, length n
        Language of each paragraph (stop words and Kyrgyz lemmas of the vectorizer).
    words : mapping, optional
        ``topic -> [(word, weight), ...]``, best first: replaces BERTopic's c-TF-IDF
        representations (``get_topic``, ``visualize_barchart``). Default: BERTopic's own.
    labels : mapping, optional
        ``topic -> label``, set as BERTopic's custom labels.
    top_n_words : int, default 30
        Words BERTopic keeps per topic from its c-TF-IDF.

    Returns
    -------
    bertopic.BERTopic
        ``topics_`` equals ``topics``.

    Raises
    ------
    ValueError
        Lengths differ, or BERTopic numbered the topics otherwise (they must be numbered by
        decreasing size, as every run numbers them).
    """
    texts = [str(t) for t in texts]
    y = np.asarray(topics, dtype=int)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if not (len(texts) == len(y) == len(languages) == embeddings.shape[0]):
        raise ValueError(
            f"texts ({len(texts)}), topics ({len(y)}), languages ({len(languages)}) and "
            f"embeddings ({embeddings.shape[0]} rows) must have one entry per paragraph"
        )
    model = _manual_bertopic(sorted(set(languages)), top_n_words)
    model.fit(texts, embeddings=embeddings, y=y)
    if not np.array_equal(np.asarray(model.topics_, dtype=int), y):
        raise ValueError(
            "BERTopic renumbered the topics; number them by decreasing size (0 the largest)"
        )
    fitted = set(model.get_topics())
    if words is not None:
        reps = {k: [(str(w), float(s)) for w, s in words.get(k, [])] for k in fitted}
        model.topic_representations_ = {k: v or [("", 0.0)] for k, v in reps.items()}
    if labels is not None:
        model.set_topic_labels({k: str(v) for k, v in labels.items() if k in fitted})
    return model


def _manual_bertopic(languages: list[str], top_n_words: int):
    """An unfitted BERTopic in manual mode: no dimensionality reduction or clustering of its
    own (the topics are given), our vectorizer for ``languages``, c-TF-IDF.
    """
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    from topics.words import make_analyzer

    return BERTopic(
        language="multilingual",  # anything but "english": keeps non-ASCII text
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=CountVectorizer(analyzer=make_analyzer(languages)),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=top_n_words,
        calculate_probabilities=False,
        verbose=False,
    )
