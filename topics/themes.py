"""Themes stage: assign a user's codebook of themes to every segment.

A codebook is a TOML file with a list of ``[[theme]]`` tables, each with ``name``,
``description`` and ``keywords`` (multilingual phrases); unknown fields are ignored::

    [[theme]]
    name = "digital literacy"
    description = "Digital and computer literacy of teachers and students"
    keywords = ["санариптик сабаттуулук", "цифровая грамотность", "digital literacy"]

Scoring combines kinds of evidence, each computed as plain array operations:

1. **prototypes**: cosine between the segment's passage embedding and the theme's query
   embeddings (its description and each keyword), averaged over the closest few, minus part
   of the theme's baseline (:func:`prototype_bias`: how strongly its prototypes attract the
   other themes' prototypes, so a theme with generic prototypes does not win everything; it
   depends on the codebook only, not on the corpus);
2. **words**: the theme's keyword phrases found in the segment after tokenising and stemming
   (so ``санариптик сабаттуулугу`` matches ``санариптик сабаттуулук``);
3. **context**: the segment's article and its neighbouring paragraphs (a paragraph continues
   its neighbours' theme more often than not);
4. **topic** (off by default, ``w_topic = 0``): the mean score of the segment's topic.

The scores stay on the cosine scale (:func:`combine_scores`; no per-theme standardisation,
which would inflate rare themes). A segment gets its best theme unless that best score lies
more than ``min_z`` robust standard deviations below the corpus's median best score
(:func:`assign_themes`): then nothing in the codebook fits it and it stays unthemed.

**Few-shot.** Paragraphs coded by hand (a coding sheet, see :mod:`topics.coding`) calibrate
the codebook: :func:`theme_offsets` learns one offset per theme (and one for "no theme") by
a ridge-penalised multinomial logit on the coded paragraphs' combined scores, so a theme the
codebook over-states (it absorbs its neighbours' paragraphs) is pulled down and one it
under-states is pulled up. How far the offsets may move (the ridge penalty) is chosen by the
sheet itself (:func:`choose_shrinkage`): offsets learnt from the other documents' codes must
predict each document's codes better than the codebook alone, or the codebook stays as it
is. Measured in ``experiments/bench_coding.py``: similarity to the coded paragraphs themselves
(nearest examples, example centroids, a classifier over embeddings, keywords learnt from the
coded paragraphs, per-document offsets, pairwise corrections between themes) lowered
held-out accuracy on the seed corpus, because paragraphs of one document resemble each
other more than paragraphs of one theme. Smoothing the calibrated themes over the embedding
neighbours (``bench_coding.py --graph``) gained about one paragraph in a hundred, too little
for its cost; hubness corrections of the prototype scores (CSLS, inverted softmax) lowered
zero-shot accuracy (``experiments/dev_coding_ideas.py``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from topics._context import group_keys, group_mean, neighbour_sum
from topics._fewshot import (
    DEFAULT_L2,
    SHRINKAGE_GRID,
    _with_none,
    choose_shrinkage,
    cross_validated_themes,
    theme_offsets,
)
from topics._rows import text_chunks
from topics.errors import TopicsError

__all__ = [
    "Theme",
    "ThemeAssignment",
    "load_codebook",
    "parse_codebook",
    "theme_queries",
    "prototype_scores",
    "lexical_scores",
    "combine_scores",
    "assign_themes",
    "theme_offsets",
    "choose_shrinkage",
    "SHRINKAGE_GRID",
    "DEFAULT_L2",
    "cross_validated_themes",
    "theme_posterior",
    "name_topics",
    "topic_themes",
    "themes_table",
]


@dataclass(frozen=True)
class Theme:
    """One codebook theme."""

    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()


@dataclass
class ThemeAssignment:
    """Themes assigned to segments.

    Attributes
    ----------
    theme : list of str
        Theme name per segment, ``""`` when nothing fits well enough.
    theme_score : numpy.ndarray
        Combined score (cosine scale) of the assigned or best theme, shape (n,).
    scores : numpy.ndarray
        Combined scores, shape (n, n_themes).
    names : list of str
        Theme names, the columns of ``scores``.
    """

    theme: list[str]
    theme_score: np.ndarray
    scores: np.ndarray
    names: list[str] = field(default_factory=list)


def parse_codebook(data: dict, where: str = "codebook") -> list[Theme]:
    """Validate a parsed codebook dictionary and return its themes."""
    raw = data.get("theme")
    if not isinstance(raw, list) or not raw:
        raise TopicsError(
            f"{where}: no [[theme]] tables found; a codebook lists themes as\n"
            '[[theme]]\nname = "digital literacy"\ndescription = "..."\n'
            'keywords = ["санариптик сабаттуулук", "digital literacy"]'
        )
    themes: list[Theme] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise TopicsError(f"{where}: theme #{i} is not a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise TopicsError(f"{where}: theme #{i} has no `name`; give each theme a name")
        name = name.strip()
        if name in seen:
            raise TopicsError(f"{where}: theme #{i}: duplicate name {name!r}; names must differ")
        seen.add(name)
        desc = entry.get("description", "")
        if not isinstance(desc, str):
            raise TopicsError(f"{where}: theme {name!r}: `description` must be a string")
        kws = entry.get("keywords", [])
        if isinstance(kws, str):
            kws = [kws]
        if not isinstance(kws, list) or not all(isinstance(k, str) for k in kws):
            raise TopicsError(f"{where}: theme {name!r}: `keywords` must be a list of strings")
        kws = tuple(k.strip() for k in kws if k.strip())
        if not desc.strip() and not kws:
            raise TopicsError(
                f"{where}: theme {name!r} has neither description nor keywords; add some"
            )
        themes.append(Theme(name=name, description=desc.strip(), keywords=kws))
    return themes


def load_codebook(path: str | Path) -> list[Theme]:
    """Read a codebook TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file with ``[[theme]]`` tables.

    Returns
    -------
    list of Theme
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise TopicsError(f"{path}: codebook not found; check the --themes path") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TopicsError(f"{path}: codebook is not valid UTF-8 TOML ({exc})") from exc
    return parse_codebook(data, where=str(path))


#: Where a theme's description is cut into clauses, each one more prototype.
_CLAUSE_SPLIT = re.compile(r"[,;:]| and ")


def theme_queries(themes: Sequence[Theme]) -> tuple[list[str], np.ndarray]:
    """Query texts for the prototypes of each theme and the theme index of each query.

    A theme's prototypes are ``"name: description"``, each clause of the description (cut at
    ``, ; :`` and `` and ``), the bare name, and every keyword; duplicates are dropped. The
    clauses let a paragraph about one aspect of a broad description match that aspect, and
    make a theme with few keywords less dependent on them (measured on random reduced
    versions of the seed codebook in ``experiments/bench_seeds.py --codebook-samples``).

    Returns
    -------
    texts : list of str
    owner : numpy.ndarray of int, shape (n_queries,)
        Index of the theme each query belongs to.

    Examples
    --------
    >>> texts, owner = theme_queries([Theme("gender", "equality, girls", ("аялдар",))])
    >>> texts
    ['gender: equality, girls', 'equality', 'girls', 'gender', 'аялдар']
    """
    texts: list[str] = []
    owner: list[int] = []
    for t_idx, theme in enumerate(themes):
        items = [f"{theme.name}: {theme.description}" if theme.description else theme.name]
        if theme.description:
            clauses = (c.strip() for c in _CLAUSE_SPLIT.split(theme.description))
            items += [c for c in clauses if len(c) > 3]
            items.append(theme.name)
        items += list(theme.keywords)
        items = list(dict.fromkeys(i for i in items if i))
        texts.extend(items)
        owner.extend([t_idx] * len(items))
    return texts, np.asarray(owner, dtype=np.int64)


def prototype_bias(queries: np.ndarray, owner: np.ndarray, n_themes: int, top_k: int = 3):
    """How strongly each theme's prototypes attract text about the *other* themes.

    The score of :func:`prototype_scores` for theme ``t``, averaged over the prototypes of
    all other themes used as texts. A theme with many or very generic prototypes scores
    high on any text; subtracting part of this baseline keeps such a theme from winning
    paragraphs that only resemble it in general. Depends on the codebook only (not on the
    corpus, so a theme that is simply frequent in the corpus is not penalised).

    Returns
    -------
    numpy.ndarray, shape (n_themes,)
        Zero for a theme when the codebook has no other theme.
    """
    owner = np.asarray(owner)
    scores = prototype_scores(queries, queries, owner, n_themes, top_k=top_k)
    out = np.zeros(n_themes)
    for t in range(n_themes):
        others = owner != t
        if others.any():
            out[t] = scores[others, t].mean()
    return out


def prototype_scores(
    passages: np.ndarray, queries: np.ndarray, owner: np.ndarray, n_themes: int, top_k: int = 3
) -> np.ndarray:
    """Mean of the ``top_k`` highest cosines between each passage and a theme's prototypes.

    Parameters
    ----------
    passages : numpy.ndarray, shape (n, d)
        L2-normalised segment embeddings.
    queries : numpy.ndarray, shape (m, d)
        L2-normalised prototype embeddings.
    owner : numpy.ndarray, shape (m,)
        Theme index of each prototype.
    n_themes : int
    top_k : int, default 3

    Returns
    -------
    numpy.ndarray, shape (n, n_themes)
    """
    # In float64, block by block of rows: the scores (and the guidance the topic stage takes
    # from them) then do not depend on the BLAS kernel, whose float32 products differ in the
    # 7th digit from one CPU to another.
    owner = np.asarray(owner)
    Q = np.asarray(queries, dtype=np.float64)
    out = np.zeros((passages.shape[0], n_themes), dtype=np.float64)
    for start in range(0, passages.shape[0], 16384):
        rows = slice(start, start + 16384)
        sims = np.asarray(passages[rows], dtype=np.float64) @ Q.T
        for t in range(n_themes):
            cols = sims[:, owner == t]
            k = min(top_k, cols.shape[1])
            out[rows, t] = np.sort(cols, axis=1)[:, -k:].mean(axis=1)
    return out


def codebook_scores(
    passages: np.ndarray,
    prototypes: Sequence[np.ndarray],
    owner: np.ndarray,
    n_themes: int,
    *,
    bias_weight: float = 0.5,
    top_k: int = 3,
) -> np.ndarray:
    """Prototype evidence for every theme, averaged over several embeddings of the prototypes.

    For each prototype matrix (e5: the codebook texts embedded as queries and as passages;
    the mean of the two is steadier than either), :func:`prototype_scores` minus
    ``bias_weight`` times :func:`prototype_bias`.

    Parameters
    ----------
    passages : numpy.ndarray, shape (n, d)
    prototypes : sequence of numpy.ndarray, each shape (m, d)
        The :func:`theme_queries` texts, embedded (L2-normalised) once per kind.
    owner : numpy.ndarray, shape (m,)
    n_themes : int
    bias_weight : float, default 0.5
    top_k : int, default 3

    Returns
    -------
    numpy.ndarray, shape (n, n_themes)
        On the cosine scale.
    """
    parts = [
        prototype_scores(passages, q, owner, n_themes, top_k=top_k)
        - bias_weight * prototype_bias(q, owner, n_themes, top_k=top_k)[None, :]
        for q in prototypes
    ]
    return np.mean(parts, axis=0)


def lexical_scores(
    texts: Sequence[str], themes: Sequence[Theme], analyzer: Callable[[str], list[str]]
) -> np.ndarray:
    """How many of each theme's keyword phrases occur in each text (stemmed, in order-free form).

    A phrase matches when all its stems occur in the text. Counts are damped with ``log1p``.

    Returns
    -------
    numpy.ndarray, shape (n, n_themes)
    """
    phrases = [[frozenset(analyzer(k)) for k in theme.keywords if analyzer(k)] for theme in themes]
    parts = text_chunks(_phrase_counts, texts, phrases, analyzer)  # large corpora: in workers
    return np.log1p(np.concatenate(parts))


def _phrase_counts(texts: Sequence[str], phrases: list, analyzer) -> np.ndarray:
    """How many of each theme's phrases (stem sets) occur in each of a chunk of texts."""
    out = np.zeros((len(texts), len(phrases)), dtype=np.float64)
    for i, text in enumerate(texts):
        stems = set(analyzer(text))
        for t, plist in enumerate(phrases):
            out[i, t] = sum(1 for p in plist if p <= stems)
    return out


def _robust_z(x: np.ndarray) -> np.ndarray:
    med = np.median(x)
    mad = 1.4826 * np.median(np.abs(x - med))
    return (x - med) / (mad if mad > 1e-12 else 1.0)


def combine_scores(
    proto: np.ndarray,
    lexical: np.ndarray | None = None,
    *,
    groups: Sequence[object] | None = None,
    topics: Sequence[int] | None = None,
    w_lexical: float = 0.05,
    w_article: float = 0.3,
    w_neighbours: float = 0.3,
    w_topic: float = 0.0,
) -> np.ndarray:
    """Combine prototype, keyword, context and topic evidence on the cosine scale.

    A paragraph's theme rarely changes mid-argument: the paragraphs around it and the
    article it belongs to are evidence too. Scores stay in cosine units (no per-theme
    standardisation, which would inflate rare themes): a matched keyword phrase adds about
    ``w_lexical * log(2)``, the article's mean score ``w_article`` times itself, the mean of
    the previous and next paragraph ``w_neighbours`` times itself.

    Parameters
    ----------
    proto : numpy.ndarray, shape (n, T)
        Prototype scores (cosines, see :func:`prototype_scores`).
    lexical : numpy.ndarray, shape (n, T), optional
        Keyword scores (see :func:`lexical_scores`).
    groups : sequence, optional
        Document/article of each segment, in reading order.
    topics : sequence of int, optional
        Topic of each segment (-1 for outliers, which get no topic evidence).
    w_lexical, w_article, w_neighbours, w_topic : float
        Weights of each kind of evidence.

    Returns
    -------
    numpy.ndarray, shape (n, T)
    """
    base = np.asarray(proto, dtype=np.float64).copy()
    if lexical is not None:
        base = base + w_lexical * np.asarray(lexical, dtype=np.float64)
    score = base.copy()
    n = score.shape[0]
    if groups is not None and n > 1:
        g = group_keys(groups)
        if w_article:
            score += w_article * group_mean(base, g)
        if w_neighbours:
            nb, cnt = neighbour_sum(base, g)
            has = cnt[:, 0] > 0
            # Paragraphs without neighbours count their own score, so all rows share a scale.
            nb[~has] = base[~has]
            score += w_neighbours * nb / np.maximum(cnt, 1)
    elif n:
        score += (w_article + w_neighbours) * base
    if topics is not None and w_topic:
        t = np.asarray(topics)
        tm = group_mean(base, t)
        tm[t < 0] = base[t < 0]
        score += w_topic * tm
    return score


def theme_posterior(scores: np.ndarray, tau: float = 0.005) -> np.ndarray:
    """Soft theme membership: a softmax of the combined scores at temperature ``tau``.

    Scores are on the cosine scale, where a few hundredths separate themes, hence the small
    default temperature. Used to guide topic clustering with the codebook.

    Returns
    -------
    numpy.ndarray, shape (n, T)
        Rows sum to 1.
    """
    z = (scores - scores.max(axis=1, keepdims=True)) / tau
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def assign_themes(
    scores: np.ndarray,
    names: Sequence[str],
    *,
    min_z: float = 3.0,
    offsets: np.ndarray | None = None,
) -> ThemeAssignment:
    """Give each segment its best theme unless its best score is far below the others'.

    Parameters
    ----------
    scores : numpy.ndarray, shape (n, T)
        Combined scores from :func:`combine_scores`.
    names : sequence of str
        Theme names.
    min_z : float, default 3.0
        A segment stays unthemed (``""``) when its best score lies more than ``min_z``
        robust standard deviations (median absolute deviation) below the median best score
        of the corpus: nothing in the codebook fits it as well as it fits the rest.
        ``inf`` themes everything.
    offsets : numpy.ndarray, shape (T + 1,), optional
        Per-theme offsets learnt from coded paragraphs (:func:`theme_offsets`); the last
        one is for "no theme", compared with the unthemed threshold.

    Returns
    -------
    ThemeAssignment
        With ``offsets``, ``scores`` and ``theme_score`` include them.
    """
    if scores.shape[0] == 0:
        return ThemeAssignment([], np.zeros(0), scores, list(names))
    if offsets is not None:
        full = _with_none(scores, min_z) + np.asarray(offsets)[None, :]
        pick = full.argmax(axis=1)
        adjusted = full[:, :-1]
        best = adjusted.argmax(axis=1)
        theme = [names[p] if p < len(names) else "" for p in pick]
        score = adjusted[np.arange(len(best)), best]
        return ThemeAssignment(theme, score.astype(float), adjusted, list(names))
    best = scores.argmax(axis=1)
    best_score = scores[np.arange(scores.shape[0]), best]
    z = _robust_z(best_score)
    theme = [names[b] if zz >= -min_z else "" for b, zz in zip(best, z, strict=True)]
    return ThemeAssignment(theme, best_score.astype(float), scores, list(names))


def topic_themes(
    topics: Sequence[int], theme: Sequence[str], *, min_share: float = 0.5
) -> dict[int, str]:
    """The codebook theme each topic is about: the theme of at least ``min_share`` of its
    segments.

    Parameters
    ----------
    topics : sequence of int, length n
        Topic per segment (-1 = outlier, never matched).
    theme : sequence of str, length n
        Theme per segment (``""`` = none).
    min_share : float, default 0.5

    Returns
    -------
    dict
        ``topic id -> theme name`` for matched topics (several topics may share a theme).

    Examples
    --------
    >>> topic_themes([0, 0, 1, 1, -1], ["ICT (schools)", "ICT (schools)", "", "gender", "gender"])
    {0: 'ICT (schools)', 1: 'gender'}
    """
    t = np.asarray(topics)
    th = np.asarray(theme, dtype=object)
    out: dict[int, str] = {}
    for k in np.unique(t):
        if k < 0:
            continue
        mask = t == k
        vals, counts = np.unique(th[mask & (th != "")], return_counts=True)
        if len(vals) == 0:
            continue
        best = int(np.argmax(counts))
        if counts[best] / mask.sum() >= min_share:
            out[int(k)] = str(vals[best])
    return out


def name_topics(
    topics: Sequence[int], theme: Sequence[str], *, min_share: float = 0.5
) -> dict[int, str]:
    """Topic names from :func:`topic_themes`: the theme's name, unique per topic.

    Returns
    -------
    dict
        ``topic id -> name`` for matched topics; several topics with one theme get
        ``name (2)``, ``name (3)`` by decreasing size. These are display labels: the theme
        of a topic, as data, is :func:`topic_themes`.
    """
    t = np.asarray(topics)
    matched = topic_themes(t, theme, min_share=min_share)
    out: dict[int, str] = {}
    for name in sorted(set(matched.values())):
        group = sorted((k for k, v in matched.items() if v == name), key=lambda k: -(t == k).sum())
        for rank, k in enumerate(group, 1):
            out[k] = name if rank == 1 else f"{name} ({rank})"
    return out


def themes_table(
    codebook: Sequence[Theme], theme: Sequence[str], topic_theme: dict[int, str]
) -> pd.DataFrame:
    """One row per codebook theme (:data:`topics.schema.THEME_COLUMNS`).

    Parameters
    ----------
    codebook : sequence of Theme
    theme : sequence of str
        Theme per modelled segment (``""`` = none).
    topic_theme : dict
        ``topic -> theme`` (:func:`topic_themes`).

    Returns
    -------
    pandas.DataFrame
        ``theme``, ``description``, ``keywords`` (joined by ``"; "`` for reading),
        ``n_segments`` and ``topics`` (the ids of the topics about the theme, ``", "``).
    """
    from topics.schema import THEME_COLUMNS

    theme = np.asarray(theme, dtype=object)
    rows = [
        (
            c.name,
            c.description,
            "; ".join(c.keywords),
            int(np.sum(theme == c.name)),
            ", ".join(str(k) for k, v in topic_theme.items() if v == c.name),
        )
        for c in codebook
    ]
    return pd.DataFrame(rows, columns=THEME_COLUMNS)
