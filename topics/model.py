"""Model stage: topics on precomputed, language-aligned embeddings, and their words.

Clustering (language alignment, consensus of seeded UMAP + HDBSCAN members, outlier
reduction) is done by :mod:`topics.cluster`. The topic words are computed here from those
clusters by :mod:`topics.labels`: BERTopic's c-TF-IDF formula (checked against BERTopic in the
tests) on the counts of our own vectorizer, with Cyrillic-aware tokens, stop words of every
corpus language and Kyrgyz stemming (:mod:`topics.words`). A run therefore never meets
BERTopic's English default, which strips every non-ASCII character before c-TF-IDF, and does
not import BERTopic at all; :func:`topics.interop.to_bertopic` builds a BERTopic model from a
run when a user wants one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FittedTopics",
    "ModelData",
    "fit_topics",
    "topic_stability",
    "topic_words_table",
    "save_model",
    "load_model",
]


@dataclass
class FittedTopics:
    """The outcome of :func:`fit_topics`.

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
        ARI between this run's topics and each consensus member's topics (on the rows the
        members were fitted on: a sampled fit's sample).
    words : pandas.DataFrame
        Every topic's ranked words with their weights, overall and per language
        (:data:`topics.schema.TOPIC_WORD_COLUMNS`; see :func:`topic_words_table`).
    ctfidf_words : dict
        ``topic -> [(word, weight), ...]``: c-TF-IDF words (BERTopic's formula) on our clusters.
    """

    topics: np.ndarray
    coords: np.ndarray
    table: pd.DataFrame
    topic_embeddings: np.ndarray
    similarity: np.ndarray
    params: dict = field(default_factory=dict)
    stability_ari: list[float] = field(default_factory=list)
    words: pd.DataFrame | None = None
    ctfidf_words: dict[int, list[tuple[str, float]]] = field(default_factory=dict)

    def data(self) -> ModelData:
        """The arrays and settings that a run folder keeps in ``model/``."""
        return ModelData(
            topic_embeddings=self.topic_embeddings,
            topics=self.topics,
            coords=self.coords,
            similarity=self.similarity,
            params=self.params,
            ctfidf_words=self.ctfidf_words,
        )


@dataclass
class ModelData:
    """A fitted topic model as plain arrays, saved in a run folder's ``model/`` (no pickle).

    Attributes
    ----------
    topic_embeddings : numpy.ndarray, shape (n_topics, d)
        Mean aligned embedding per topic (outliers excluded), L2-normalised.
    topics : numpy.ndarray of int, shape (n,)
        Topic per modelled segment.
    coords : numpy.ndarray, shape (n, 2)
        Topic map coordinates per modelled segment.
    similarity : numpy.ndarray, shape (n_topics, n_topics)
        Cosine similarity between topic embeddings.
    params : dict
        The settings of the fit.
    ctfidf_words : dict
        ``topic -> [(word, weight), ...]``: c-TF-IDF words (BERTopic's formula).
    """

    topic_embeddings: np.ndarray
    topics: np.ndarray
    coords: np.ndarray
    similarity: np.ndarray
    params: dict = field(default_factory=dict)
    ctfidf_words: dict[int, list[tuple[str, float]]] = field(default_factory=dict)


def save_model(folder: Path, model: ModelData) -> None:
    """Save a fitted topic model without pickle: ``topic_model.safetensors`` + JSON.

    Parameters
    ----------
    folder : pathlib.Path
        Created if missing (normally ``RUN/model``).
    model : ModelData
    """
    from safetensors.numpy import save_file

    from topics import _io

    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "topic_embeddings": np.ascontiguousarray(model.topic_embeddings, dtype=np.float32),
            "topics": np.ascontiguousarray(model.topics, dtype=np.int64),
            "coords": np.ascontiguousarray(model.coords, dtype=np.float32),
            "similarity": np.ascontiguousarray(model.similarity, dtype=np.float32),
        },
        str(folder / "topic_model.safetensors"),
    )
    _io.write_json(folder / "params.json", model.params)
    if model.ctfidf_words:
        words = {
            str(k): [[w, float(s)] for w, s in model.ctfidf_words[k]]
            for k in sorted(model.ctfidf_words)
        }
        _io.write_json(folder / "ctfidf_topic_words.json", words)


def load_model(folder: Path) -> ModelData:
    """Read a model saved by :func:`save_model`.

    Parameters
    ----------
    folder : pathlib.Path
        A run folder's ``model/``.

    Returns
    -------
    ModelData
    """
    from safetensors.numpy import load_file

    folder = Path(folder)
    arrays = load_file(str(folder / "topic_model.safetensors"))
    params = json.loads((folder / "params.json").read_text("utf-8"))
    words: dict[int, list[tuple[str, float]]] = {}
    if (folder / "ctfidf_topic_words.json").exists():
        raw = json.loads((folder / "ctfidf_topic_words.json").read_text("utf-8"))
        words = {int(k): [(str(w), float(x)) for w, x in v] for k, v in raw.items()}
    return ModelData(
        topic_embeddings=arrays["topic_embeddings"],
        topics=arrays["topics"],
        coords=arrays["coords"],
        similarity=arrays["similarity"],
        params=params,
        ctfidf_words=words,
    )


def topic_words_table(described) -> pd.DataFrame:
    """The long table of topic words from :func:`topics.labels.topic_words`.

    Parameters
    ----------
    described : topics.labels.TopicWords

    Returns
    -------
    pandas.DataFrame
        Columns :data:`topics.schema.TOPIC_WORD_COLUMNS`: one row per topic, language and
        rank; ``language`` is ``"all"`` for the ranking over all paragraphs (the ``words``
        of ``topics.csv``), else the language ranked alone; ``weight`` is the word's score
        (:func:`topics.labels.score_words`).
    """
    from topics.schema import ALL_LANGUAGES, TOPIC_WORD_COLUMNS

    rankings = [(ALL_LANGUAGES, described.words, described.weights)]
    for lang in described.by_language:
        rankings.append((lang, described.by_language[lang], described.language_weights[lang]))
    rows = [
        (int(k), lang, rank, word, float(weight))
        for lang, words, weights in rankings
        for k in sorted(words)
        for rank, (word, weight) in enumerate(zip(words[k], weights[k], strict=True), 1)
    ]
    return pd.DataFrame(rows, columns=TOPIC_WORD_COLUMNS)


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
    fit_sample: int | None = None,
) -> FittedTopics:
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
    fit_sample : int, optional
        Above this many segments the topic stage is fitted on a seeded sample of this size
        and the other segments are assigned by their nearest sampled neighbours; 0 = fit on
        every segment; ``None`` = the default of :func:`topics.cluster.default_params`.

    Returns
    -------
    FittedTopics
    """
    from tqdm.auto import tqdm

    from topics import cluster

    texts, languages = list(texts), list(languages)
    params = _cluster_params(min_cluster_size, n_neighbors, consensus_runs, fit_sample)
    bar = tqdm(total=2, desc="topics", unit="step", disable=not progress)
    runs = cluster.resolve_params(len(texts), params)["consensus_runs"]
    bar.set_postfix_str(f"clustering ({runs} consensus members)")
    clustered = cluster.fit_clusters(
        embeddings, languages=languages if align else None, params=params,
        max_outliers=max_outliers, groups=groups, guide=guide, random_state=random_state,
        progress=progress,
    )  # fmt: skip
    bar.update()
    bar.set_postfix_str("topic words")
    fitted = _fitted(clustered, texts, languages, random_state=random_state,
                     top_n_words=top_n_words, align=align, groups=groups)  # fmt: skip
    bar.update()
    bar.close()
    return fitted


def _fitted(clustered, texts, languages, *, random_state, top_n_words, align, groups=None):
    """The :class:`FittedTopics` of a clustering: topics table, words, topic embeddings and
    similarity, stability against the consensus members, and the settings for the manifest.
    """
    from topics.cluster import _ari

    labels = np.asarray(clustered.labels, dtype=int)
    aligned = np.asarray(clustered.aligned, dtype=np.float32)
    # Stability: agreement of each topic with the consensus members (other seeds, small
    # perturbations of the features), on the rows they were fitted on (a sampled fit: the
    # sample).
    others = [np.asarray(m) for m in clustered.members]
    on_rows = np.asarray(clustered.labels_on_member_rows(), dtype=int)
    table, described, topic_emb = _describe(
        texts, languages, labels, aligned, topic_stability(on_rows, others), top_n_words, groups
    )
    corpus_langs = sorted(set(languages))
    params = {
        **clustered.params,
        "random_state": random_state,
        "top_n_words": top_n_words,
        "vectorizer": f"CountVectorizer(analyzer=topics.words.make_analyzer({corpus_langs}))",
        "ctfidf": "ClassTfidfTransformer(reduce_frequent_words=True) on the vectorizer's stems "
        "(topics.labels.class_tfidf_words)",
        "topic_words": f"topics.labels.topic_words(n={top_n_words})",
        "align_languages": align,
    }
    return FittedTopics(
        topics=labels,
        coords=np.asarray(clustered.coords2d, dtype=float),
        table=table,
        topic_embeddings=topic_emb,
        similarity=topic_emb @ topic_emb.T,
        params=params,
        stability_ari=[_ari(on_rows, o) for o in others],
        words=topic_words_table(described),
        ctfidf_words=described.ctfidf,
    )


def _cluster_params(min_cluster_size, n_neighbors, consensus_runs, fit_sample) -> dict:
    """The clustering settings :func:`fit_topics` sets (0 or None: scaled by
    :func:`topics.cluster.fit_clusters` to the corpus size).
    """
    params: dict[str, Any] = {}
    for key, value in (("min_cluster_size", min_cluster_size), ("n_neighbors", n_neighbors),
                       ("consensus_runs", consensus_runs)):  # fmt: skip
        if value:
            params[key] = int(value)
    if fit_sample is not None:
        params["fit_sample"] = int(fit_sample)
    return params


def _describe(
    texts: list[str],
    languages: list[str],
    labels: np.ndarray,
    aligned: np.ndarray,
    stability: dict[int, float],
    top_n_words: int,
    groups: Sequence[object] | None = None,
):
    """The topics table, the topic words and the topic embeddings of fixed clusters."""
    from topics.labels import topic_labels, topic_words

    # Documents (groups) are the units in which topic words should co-occur.
    described = topic_words(texts, labels, languages, n=top_n_words, groups=groups)
    names = topic_labels(described.words, display=described.display)
    main_lang = pd.Series(languages).value_counts().index[0] if texts else "ky"
    rows, centroids = [], []
    for k in sorted(set(labels.tolist())):
        mask = labels == k
        top_words = described.words.get(int(k), [])
        lang_counts = pd.Series(np.asarray(languages)[mask]).value_counts()
        idx = np.flatnonzero(mask)
        closest = idx[:0]
        if k >= 0:
            centroid = aligned[mask].mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            centroids.append(centroid)
            closest = idx[np.argsort(-(aligned[idx] @ centroid))[:3]]
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
    return table, described, topic_emb
