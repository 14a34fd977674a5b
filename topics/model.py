"""Model stage: topics with BERTopic on precomputed, language-aligned embeddings.

Clustering (language alignment, seeded UMAP, HDBSCAN, outlier reduction) is done by
:mod:`topics.cluster`; BERTopic then builds its c-TF-IDF representations from those clusters
in its manual mode (``BaseCluster`` + ``y``) with our own vectorizer: Cyrillic-aware tokens,
stop words of every corpus language and Kyrgyz stemming (:mod:`topics.words`). This avoids
BERTopic's English default, which strips every non-ASCII character before c-TF-IDF. The
topic words and labels of the table come from :mod:`topics.labels`, computed from the same
clusters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TopicModel", "fit_topics", "topic_stability"]


@dataclass
class TopicModel:
    """A fitted topic model.

    Attributes
    ----------
    topics : numpy.ndarray of int, shape (n,)
        Topic per modelled segment, -1 for outliers; 0 is the largest topic.
    coords : numpy.ndarray, shape (n, 2)
        2-D coordinates for the topic map (computed once, at fit time).
    table : pandas.DataFrame
        One row per topic (outliers included as -1): ``topic``, ``label`` (see
        :func:`topics.labels.topic_labels`), ``words`` (comma-separated, best first),
        ``word_weights`` (JSON object ``word -> weight``), ``words_<lang>``, ``size``,
        ``share``, ``languages``, ``stability``, ``representative``.
    topic_embeddings : numpy.ndarray, shape (n_topics, d)
        Mean aligned embedding per topic (outliers excluded), L2-normalised.
    similarity : numpy.ndarray, shape (n_topics, n_topics)
        Cosine similarity between topic embeddings.
    params : dict
        Every clustering and representation setting actually used.
    stability_ari : list of float
        ARI between this run's topics and each consensus member's topics.
    bertopic : object
        The fitted ``bertopic.BERTopic`` (not saved with pickle; see :func:`save_model`).
    """

    topics: np.ndarray
    coords: np.ndarray
    table: pd.DataFrame
    topic_embeddings: np.ndarray
    similarity: np.ndarray
    params: dict = field(default_factory=dict)
    stability_ari: list[float] = field(default_factory=list)
    bertopic: object | None = None


def topic_stability(labels: np.ndarray, others: Sequence[np.ndarray]) -> dict[int, float]:
    """Per-topic stability: mean best Jaccard overlap with any topic of each other run.

    Parameters
    ----------
    labels : numpy.ndarray, shape (n,)
        Topics of the reference run.
    others : sequence of numpy.ndarray
        Topics of runs with other seeds (same segments).

    Returns
    -------
    dict
        ``topic -> stability`` in [0, 1]; 1 means every other run has exactly this topic.
    """
    out: dict[int, float] = {}
    for k in np.unique(labels):
        if k < 0:
            continue
        a = labels == k
        vals = []
        for other in others:
            best = 0.0
            for j in np.unique(other[a]):
                if j < 0:
                    continue
                b = other == j
                best = max(best, float((a & b).sum() / (a | b).sum()))
            vals.append(best)
        out[int(k)] = float(np.mean(vals)) if vals else float("nan")
    return out


def fit_topics(
    texts: Sequence[str],
    embeddings: np.ndarray,
    languages: Sequence[str],
    *,
    random_state: int = 0,
    top_n_words: int = 10,
    min_cluster_size: int = 0,
    n_neighbors: int = 0,
    max_outliers: float = 0.05,
    consensus_runs: int = 0,
    align: bool = True,
    groups: Sequence[object] | None = None,
    guide: np.ndarray | None = None,
    progress: bool = False,
) -> TopicModel:
    """Cluster segments into topics and describe each topic.

    Parameters
    ----------
    texts : sequence of str, length n
        Segment texts.
    embeddings : numpy.ndarray, shape (n, d)
        L2-normalised passage embeddings of ``texts``.
    languages : sequence of str, length n
        Language code per segment (used to remove language identity from the embeddings
        and to pick stop words).
    random_state : int, default 0
        Seeds UMAP and clustering; the consensus members use seeds derived from it.
    top_n_words : int, default 10
    min_cluster_size, n_neighbors : int, default 0
        0 = scaled to the corpus size (see :func:`topics.cluster.default_params`).
    max_outliers : float, default 0.05
        Outlier reduction leaves at most this share of segments as -1.
    consensus_runs : int, default 0
        Member clusterings of the consensus (0 = the default of
        :func:`topics.cluster.default_params`); each topic's stability is measured against
        them (robustness to seeds and to small perturbations of the features).
    align : bool, default True
        Remove each language's identity from the embeddings before clustering.
    groups : sequence, optional
        Document/article of each segment (reading order): paragraphs are clustered in
        context (see :func:`topics.cluster.fit_clusters`).
    guide : numpy.ndarray, shape (n, T), optional
        Codebook theme posterior that guides the clustering.
    progress : bool, default False

    Returns
    -------
    TopicModel
    """
    from sklearn.metrics import adjusted_rand_score
    from tqdm.auto import tqdm

    from topics import cluster, words
    from topics.labels import topic_labels, topic_words

    texts = list(texts)
    languages = list(languages)
    n = len(texts)
    params: dict[str, Any] = {}  # only what is set here; fit_clusters scales the rest
    if min_cluster_size:
        params["min_cluster_size"] = int(min_cluster_size)
    if n_neighbors:
        params["n_neighbors"] = int(n_neighbors)
    if consensus_runs:
        params["consensus_runs"] = int(consensus_runs)
    bar = tqdm(total=2, desc="topics", unit="step", disable=not progress)
    bar.set_postfix_str("loading BERTopic")
    # BERTopic imports sentence-transformers, transformers and torch: seconds, so under the bar.
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    runs = cluster.resolve_params(n, params)["consensus_runs"]
    bar.set_postfix_str(f"clustering ({runs} consensus members)")
    clustered = cluster.fit_clusters(
        embeddings,
        languages=languages if align else None,
        params=params,
        max_outliers=max_outliers,
        groups=groups,
        guide=guide,
        random_state=random_state,
    )
    labels = np.asarray(clustered.labels, dtype=int)
    bar.update()
    bar.set_postfix_str("topic words")
    # Stability: agreement of each topic with the consensus members (other seeds, small
    # perturbations of the features).
    others = [np.asarray(m) for m in clustered.members]
    stability = topic_stability(labels, others)
    ari = [float(adjusted_rand_score(labels, o)) for o in others]

    corpus_langs = sorted(set(languages))
    analyzer = words.make_analyzer(corpus_langs)
    vectorizer = CountVectorizer(analyzer=analyzer, min_df=1)
    topic_model = BERTopic(
        language="multilingual",  # anything but "english": keeps non-ASCII text
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=max(top_n_words * 3, 30),
        calculate_probabilities=False,
        verbose=False,
    )
    aligned = np.asarray(clustered.aligned, dtype=np.float32)
    topic_model.fit(texts, embeddings=aligned, y=labels)
    fitted = np.asarray(topic_model.topics_, dtype=int)
    if not np.array_equal(fitted, labels):
        # BERTopic may renumber topics by size; keep our canonical ids consistent with it.
        labels = fitted
        stability = topic_stability(labels, others)

    # Words and labels from the clusters (topics.labels); BERTopic keeps its c-TF-IDF.
    described = topic_words(texts, labels, languages, n=top_n_words)
    names = topic_labels(described.words, display=described.display)
    topic_model.set_topic_labels({k: v for k, v in names.items() if k in topic_model.get_topics()})
    main_lang = pd.Series(languages).value_counts().index[0] if n else "ky"
    rows = []
    topic_ids = sorted(set(labels.tolist()))
    centroids = []
    for k in topic_ids:
        mask = labels == k
        top_words = described.words.get(int(k), [])
        lang_counts = pd.Series(np.asarray(languages)[mask]).value_counts()
        idx = np.flatnonzero(mask)
        if k >= 0:
            centroid = aligned[mask].mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            centroids.append(centroid)
            closest = idx[np.argsort(-(aligned[idx] @ centroid))[:3]]
        else:
            closest = idx[:0]
        rows.append(
            {
                "topic": int(k),
                "label": names[int(k)],
                "words": ", ".join(top_words),
                "word_weights": json.dumps(
                    dict(zip(top_words, described.weights.get(int(k), []), strict=True)),
                    ensure_ascii=False,
                ),
                "size": int(mask.sum()),
                "share": float(mask.mean()),
                "languages": "; ".join(f"{lang} {c}" for lang, c in lang_counts.items()),
                "main_language": main_lang,
                "stability": round(stability.get(int(k), float("nan")), 4) if k >= 0 else None,
                "representative": " || ".join(texts[i][:300] for i in closest),
                "representative_idx": ",".join(str(int(i)) for i in closest),
            }
        )
    table = pd.DataFrame(rows)
    for lang, per_topic in described.by_language.items():
        table[f"words_{lang}"] = [", ".join(per_topic.get(int(k), [])) for k in table["topic"]]
    topic_emb = np.vstack(centroids) if centroids else np.zeros((0, aligned.shape[1]))
    params = {
        **clustered.params,
        "random_state": random_state,
        "top_n_words": top_n_words,
        "vectorizer": f"CountVectorizer(analyzer=topics.words.make_analyzer({corpus_langs}))",
        "ctfidf": "ClassTfidfTransformer(reduce_frequent_words=True)",
        "topic_words": f"topics.labels.topic_words(n={top_n_words})",
        "align_languages": align,
    }
    bar.update()
    bar.close()
    return TopicModel(
        topics=labels,
        coords=np.asarray(clustered.coords2d, dtype=float),
        table=table,
        topic_embeddings=topic_emb,
        similarity=topic_emb @ topic_emb.T,
        params=params,
        stability_ari=ari,
        bertopic=topic_model,
    )
